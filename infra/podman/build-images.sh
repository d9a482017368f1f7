#!/usr/bin/env bash
# Build the container images, from Debian packages, Maven Central and the npm registry only (no
# image registry):
#
#   localhost/debian-jre:17                          debootstrap'd Debian 12 + OpenJDK 17 JRE
#   localhost/imaging-connect/hapi-fhir:<version>    infra/hapi-fhir/Containerfile (+ :latest)
#   localhost/debian-minbase:12                      debootstrap'd Debian 12, minbase variant
#   localhost/imaging-connect/services:<version>     infra/services-image/Containerfile (+ :latest):
#                                                    Node 24 + the hub, the gateways, infra/topology/scripts
#   localhost/imaging-connect/postgresql:15          infra/topology/postgres/Containerfile
#
#   sudo infra/podman/build-images.sh [--rebuild-base] [hapi] [services] [postgresql]
#
# With no image named, all three are built. A base image that already exists in Podman's storage is
# used as it is (Podman's storage is the machine's, so a fresh clone does not debootstrap again);
# otherwise its rootfs is made by debootstrap, or re-imported from the tarball cached in
# infra/podman/.cache/ (git-ignored). --rebuild-base makes both again. Needs what setup.sh installs;
# Node 24 and pnpm for the services image are installed here when missing (infra/toolchain).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
hapi="$(cd "$here/../hapi-fhir" && pwd)"
cache="$here/.cache"
rootfs_tar="$cache/debian-jre-17-rootfs.tar"
base=localhost/debian-jre:17
minbase_tar="$cache/debian-minbase-12-rootfs.tar"
minbase=localhost/debian-minbase:12

die() {
	echo "build-images.sh: $*" >&2
	exit 1
}
now() { date +%s; }
took() { echo "  ($(($(now) - $1)) s)"; }

[ "$(id -u)" = 0 ] || die "must run as root (rootful podman)"
command -v podman >/dev/null || die "podman missing: run infra/podman/setup.sh first"
command -v debootstrap >/dev/null || die "debootstrap missing: run infra/podman/setup.sh first"
mkdir -p "$cache"
t_all=$(now)

rebuild_base=0
images=""
for arg in "$@"; do
	case "$arg" in
	--rebuild-base) rebuild_base=1 ;;
	hapi | services | postgresql) images="$images $arg" ;;
	*) die "usage: $0 [--rebuild-base] [hapi] [services] [postgresql]" ;;
	esac
done
[ -n "$images" ] || images="hapi services postgresql"
wanted() { case " $images " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if wanted hapi; then
	command -v mvn >/dev/null && command -v javac >/dev/null || die "Maven and a JDK are missing: run infra/podman/setup.sh first"
fi
if wanted services; then
	command -v npm >/dev/null || die "npm is missing (it installs Node 24): run infra/podman/setup.sh first"
fi
if [ "$rebuild_base" = 1 ]; then
	rm -f "$rootfs_tar" "$minbase_tar"
	podman rmi -f "$base" "$minbase" >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------- base rootfs (debootstrap)
# The Debian mirror apt already uses, from deb822 .sources files or a classic sources.list.
mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ {u=$2} /^Suites:/ {for (i=2;i<=NF;i++) if ($i=="bookworm") s=1}
		     /^$/ {if (u && s) {print u; exit} u=""; s=0}
		     END {if (u && s) print u}' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1=="deb" && $3=="bookworm" {print ($2 ~ /^\[/ ? $3 : $2); exit}'
}
# A Debian 12 (minbase) root filesystem, with the given extra packages, as a cached tarball.
make_rootfs() {
	tarball=$1 log=$2 include=${3:-}
	url=$(mirror | head -n 1)
	[ -n "$url" ] || die "no bookworm mirror found in /etc/apt/sources.list*"
	echo "debootstrap bookworm (minbase${include:+ + $include}) from $url ..."
	t=$(now)
	dir=$(mktemp -d "$cache/rootfs.XXXXXX")
	if ! debootstrap --variant=minbase ${include:+--include=$include} bookworm "$dir" "$url" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -rf "$dir"
		die "debootstrap failed (log: $log)"
	fi
	# slim it: package caches and lists, docs
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
		"$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
	tar -C "$dir" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$dir"
	echo "rootfs tarball: $tarball ($(du -m "$tarball" | cut -f1) MiB)$(took "$t")"
}
if wanted hapi && ! podman image exists "$base" && [ ! -s "$rootfs_tar" ]; then
	make_rootfs "$rootfs_tar" "$cache/debootstrap.log" openjdk-17-jre-headless,ca-certificates
fi
if ! wanted hapi; then
	:
elif ! podman image exists "$base"; then
	t=$(now)
	podman import -q \
		--change 'ENV LANG=C.UTF-8' \
		--change 'ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64' \
		--change 'CMD ["java","-version"]' \
		"$rootfs_tar" "$base" >/dev/null
	echo "imported $base$(took "$t")"
else
	echo "$base exists (cached)"
fi

# ---------------------------------------------------------------- HAPI image
if wanted hapi; then
	t=$(now)
	"$hapi/run.sh" build
	echo "jar ready: $hapi/target/hapi-fhir-server.jar$(took "$t")"
	version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$hapi/pom.xml" | head -n 1)
	[ -n "$version" ] || die "cannot read the project version from $hapi/pom.xml"
	image="localhost/imaging-connect/hapi-fhir:$version"
	t=$(now)
	podman build -q -f "$hapi/Containerfile" -t "$image" -t localhost/imaging-connect/hapi-fhir:latest "$hapi" >/dev/null
	echo "built $image (+ :latest)$(took "$t")"
fi

# ---------------------------------------------------------------- minimal base (debootstrap)
# For the Node services and PostgreSQL: Debian 12 minbase (glibc, libstdc++, apt), no JRE.
if { wanted services || wanted postgresql; } && ! podman image exists "$minbase" && [ ! -s "$minbase_tar" ]; then
	make_rootfs "$minbase_tar" "$cache/debootstrap-minbase.log"
fi
if { wanted services || wanted postgresql; } && ! podman image exists "$minbase"; then
	t=$(now)
	podman import -q --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' "$minbase_tar" "$minbase" >/dev/null
	echo "imported $minbase$(took "$t")"
fi

# ---------------------------------------------------------------- services image
if wanted services; then
	services_image="$here/../services-image"
	version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$here/../../services/national-hub/package.json" | head -n 1)
	[ -n "$version" ] || die "cannot read the version of services/national-hub/package.json"
	image="localhost/imaging-connect/services:$version"
	t=$(now)
	context="$cache/services-context"
	# Node 24 and pnpm from the npm registry (and the workspace's packages), when not there yet.
	sh "$here/../toolchain/with-node24.sh" true
	"$services_image/stage.sh" "$context"
	podman build -q -f "$services_image/Containerfile" -t "$image" -t localhost/imaging-connect/services:latest "$context" >/dev/null
	rm -rf "$context"
	echo "built $image (+ :latest)$(took "$t")"
fi

# ---------------------------------------------------------------- PostgreSQL image
if wanted postgresql; then
	postgres="$here/../topology/postgres"
	t=$(now)
	podman build -q -f "$postgres/Containerfile" -t localhost/imaging-connect/postgresql:15 "$postgres" >/dev/null
	echo "built localhost/imaging-connect/postgresql:15$(took "$t")"
fi

podman images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E 'debian-(jre|minbase)|imaging-connect' || true
echo "total$(took "$t_all")"
