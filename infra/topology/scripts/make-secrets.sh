#!/bin/sh
# Makes the compose topology's secrets, once, in DIR (default: .secrets/ beside compose.yaml,
# git-ignored): `db-password`, a random password for PostgreSQL's user `hapi`, which PostgreSQL (on
# its first start) and HAPI read as the mounted file /run/secrets/db-password.
#
#   infra/topology/scripts/make-secrets.sh [DIR]
#
# A secret that exists is kept: the database was created with it. Each file is mode 0600 and, when
# run as root (rootful Podman), owned by uid 10001, the user every container runs as. Nothing is
# printed but the file names.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-"$here/.secrets"}
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"

file="$dir/db-password"
if [ -s "$file" ]; then
	echo "make-secrets: $file exists (kept)"
else
	# 32 characters from [A-Za-z0-9]: no quoting problem anywhere it is used.
	tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 >"$file.tmp"
	mv "$file.tmp" "$file"
	echo "make-secrets: made $file"
fi
chmod 0600 "$file"
[ "$(id -u)" = 0 ] && chown 10001:10001 "$file"
exit 0
