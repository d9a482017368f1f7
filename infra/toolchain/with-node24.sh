#!/bin/sh
# Runs a command with the project's pinned Node 24 and pnpm on PATH.
# Both come from the npm registry (the `node` and `pnpm` packages), installed into
# infra/toolchain/node_modules, so a machine with only an older Node and npm can run everything.
# The workspace's own dependencies are installed (or checked) before the command runs.
#
# Usage: sh infra/toolchain/with-node24.sh <command> [args...]
set -eu
toolchain=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$toolchain/../.." && pwd)
bin="$toolchain/node_modules/.bin"

if ! "$bin/node" --version 2>/dev/null | grep -q '^v24\.' || [ ! -x "$bin/pnpm" ]; then
  command -v npm >/dev/null 2>&1 || { echo "toolchain: npm is needed to install Node 24 (apt-get install npm)" >&2; exit 1; }
  echo "toolchain: installing Node 24 and pnpm from the npm registry into infra/toolchain" >&2
  (cd "$toolchain" && npm ci --no-audit --no-fund --loglevel=error) 1>&2
  "$bin/node" --version | grep -q '^v24\.' || { echo "toolchain: Node 24 did not install" >&2; exit 1; }
fi

PATH="$bin:$PATH"
export PATH
# npm passes its own settings down as npm_config_* variables; pnpm would read them as its own.
unset npm_config_nodedir npm_config_user_agent npm_execpath npm_node_execpath 2>/dev/null || true

cd "$root"
# Install the workspace unless nothing it is made from changed since the last install (a nested call,
# or a token fetch, then costs nothing). Installing is not the command's output: keep stdout clean for
# `$(npm run -s token ...)`.
stamp=node_modules/.installed-by-toolchain
changed=$(find . \( -name node_modules -o -name .data -o -name .cache -o -name .git -o -name target \) -prune \
  -o \( -name package.json -o -name pnpm-lock.yaml -o -name pnpm-workspace.yaml \) -newer "$stamp" -print 2>/dev/null | head -n 1)
if [ ! -f "$stamp" ] || [ -n "$changed" ]; then
  pnpm install --frozen-lockfile --prefer-offline --loglevel=warn 1>&2
  touch "$stamp"
fi
exec "$@"
