#!/bin/sh
# Starts PostgreSQL; on the first start (empty $PGDATA) creates the cluster, with scram-sha-256
# passwords everywhere and the password from POSTGRES_PASSWORD (or the file POSTGRES_PASSWORD_FILE),
# and the database for HAPI FHIR.
# Extra arguments go to postgres (e.g. -c shared_buffers=256MB).
set -eu

: "${PGDATA:?}"
user="${POSTGRES_USER:-hapi}"
db="${POSTGRES_DB:-hapi}"

# The password as a mounted file (compose secrets, a Kubernetes Secret volume) rather than an
# environment value: POSTGRES_PASSWORD_FILE, read once, trailing newlines dropped.
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
	if [ -n "${POSTGRES_PASSWORD:-}" ]; then
		echo "postgres-entrypoint: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, not both" >&2
		exit 1
	fi
	if [ ! -r "$POSTGRES_PASSWORD_FILE" ]; then
		echo "postgres-entrypoint: POSTGRES_PASSWORD_FILE: cannot read $POSTGRES_PASSWORD_FILE" >&2
		exit 1
	fi
	POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		echo "postgres-entrypoint: POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE must be set to create the database" >&2
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
unset POSTGRES_PASSWORD POSTGRES_PASSWORD_FILE

# The socket goes to /tmp, the one writable place of a read-only container besides $PGDATA.
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
