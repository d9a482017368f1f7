#!/bin/sh
# Starts PostgreSQL; on the first start (empty $PGDATA) creates the cluster, with scram-sha-256
# passwords everywhere and the password from POSTGRES_PASSWORD, and the database for HAPI FHIR.
# Extra arguments go to postgres (e.g. -c shared_buffers=256MB).
set -eu

: "${PGDATA:?}"
user="${POSTGRES_USER:-hapi}"
db="${POSTGRES_DB:-hapi}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		echo "postgres-entrypoint: POSTGRES_PASSWORD must be set to create the database" >&2
		exit 1
	fi
	echo "postgres-entrypoint: creating the cluster in $PGDATA (user $user, database $db)"
	mkdir -p "$PGDATA"
	chmod 0700 "$PGDATA"
	pwfile="$(mktemp)"
	trap 'rm -f "$pwfile"' EXIT
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --auth=scram-sha-256 \
		--encoding=UTF8 --locale=C.UTF-8 >/dev/null
	rm -f "$pwfile"
	# The network is the container's (compose network, Kubernetes pod): who may connect at all is
	# decided there (NetworkPolicy); here every connection needs the password.
	printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
	if [ "$db" != postgres ]; then
		printf 'CREATE DATABASE "%s" OWNER "%s";\n' "$db" "$user" | postgres --single -D "$PGDATA" postgres >/dev/null
	fi
fi
unset POSTGRES_PASSWORD

# The socket goes to /tmp, the one writable place of a read-only container besides $PGDATA.
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
