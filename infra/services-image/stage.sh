#!/usr/bin/env bash
# Stages the build context of the services image (Containerfile beside this script) in DIR:
#
#   DIR/node   Node 24, the binary infra/toolchain installed from the npm registry's `node` package
#   DIR/app    the workspace files the services run, tests and benchmarks left out, with production
#              dependencies only (`pnpm install --prod --frozen-lockfile`, offline first), and the
#              hub's and the gateway's production bundles (services/<service>/dist/, built here with
#              this Node, which the image runs, so their code caches fit it)
#
#   infra/services-image/stage.sh DIR
#
# What is staged is the working tree's tracked and unignored files: build from a clean checkout for
# a release. Needs no root; build-images.sh calls it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
toolchain="$repo/infra/toolchain/node_modules"

die() {
	echo "stage.sh: $*" >&2
	exit 1
}

[ $# = 1 ] || die "usage: $0 DIR"
dir=$1
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
[ -x "$toolchain/node/bin/node" ] && [ -x "$toolchain/.bin/pnpm" ] ||
	die "Node 24 and pnpm are not installed in infra/toolchain yet: run 'sh infra/toolchain/with-node24.sh true' first"
export PATH="$toolchain/.bin:$PATH"
node_version=$("$toolchain/node/bin/node" --version)
case "$node_version" in v24.*) ;; *) die "infra/toolchain has Node $node_version, not 24" ;; esac

rm -rf "$dir"
mkdir -p "$dir/app"
cp "$toolchain/node/bin/node" "$dir/node"

# The production bundles of the hub and the gateway (git-ignored build output, so copied on their own).
cd "$repo"
node infra/topology/bundle/bundle-services.ts
tar -cf - services/national-hub/dist services/regional-gateway/dist | tar -xf - -C "$dir/app"

# The runtime's files: the workspace manifests and lockfile, the packages, the two services, and the
# deployment scripts (prepare-hapi, k8s-secrets). Only files that exist (a tracked file may be deleted).
cd "$repo"
git ls-files -z --cached --others --exclude-standard -- \
	package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json \
	packages services/national-hub services/regional-gateway \
	infra/topology/package.json infra/topology/topology.json infra/topology/scripts |
	while IFS= read -r -d '' f; do
		case "$f" in
		*.test.ts | */vitest.config.ts | */vitest.*.config.ts | */bench/* | */bench-*.ts) continue ;;
		esac
		[ -f "$f" ] && printf '%s\0' "$f"
	done |
	tar --null -T - -cf - | tar -xf - -C "$dir/app"

cd "$dir/app"
if ! pnpm install --prod --frozen-lockfile --offline --ignore-scripts --reporter=silent >/dev/null 2>&1; then
	pnpm install --prod --frozen-lockfile --ignore-scripts --reporter=silent
fi
echo "staged $dir: node $node_version, $(du -sm "$dir/app" | cut -f1) MiB of app" >&2
