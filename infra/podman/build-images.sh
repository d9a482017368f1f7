#!/usr/bin/env bash
# Build the container images, from Debian packages and Maven Central only (no image registry):
#
#   localhost/debian-jre:17                          debootstrap'd Debian 12 + OpenJDK 17 JRE
#   localhost/imaging-connect/hapi-fhir:<version>    infra/hapi-fhir/Containerfile (+ :latest)
#
#   sudo infra/podman/build-images.sh [--rebuild-base]
#
# The base rootfs tarball is cached in infra/podman/.cache/ (git-ignored), so later runs only
# re-import it when the image is missing. Run setup.sh first.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
hapi="$(cd "$here/../hapi-fhir" && pwd)"
cache="$here/.cache"
rootfs_tar="$cache/debian-jre-17-rootfs.tar"
base=localhost/debian-jre:17

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

if [ "${1:-}" = "--rebuild-base" ]; then
	rm -f "$rootfs_tar"
	podman rmi -f "$base" >/dev/null 2>&1 || true
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
if [ ! -s "$rootfs_tar" ]; then
	url=$(mirror | head -n 1)
	[ -n "$url" ] || die "no bookworm mirror found in /etc/apt/sources.list*"
	echo "debootstrap bookworm from $url ..."
	t=$(now)
	dir=$(mktemp -d "$cache/rootfs.XXXXXX")
	if ! debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates \
		bookworm "$dir" "$url" >"$cache/debootstrap.log" 2>&1; then
		tail -n 20 "$cache/debootstrap.log" >&2
		rm -rf "$dir"
		die "debootstrap failed (log: $cache/debootstrap.log)"
	fi
	# slim it: package caches and lists, docs
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
		"$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
	tar -C "$dir" -cf "$rootfs_tar.tmp" .
	mv "$rootfs_tar.tmp" "$rootfs_tar"
	rm -rf "$dir"
	echo "rootfs tarball: $rootfs_tar ($(du -m "$rootfs_tar" | cut -f1) MiB)$(took "$t")"
fi
if ! podman image exists "$base"; then
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
t=$(now)
"$hapi/run.sh" build
echo "jar ready: $hapi/target/hapi-fhir-server.jar$(took "$t")"
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$hapi/pom.xml" | head -n 1)
[ -n "$version" ] || die "cannot read the project version from $hapi/pom.xml"
image="localhost/imaging-connect/hapi-fhir:$version"
t=$(now)
podman build -q -f "$hapi/Containerfile" -t "$image" -t localhost/imaging-connect/hapi-fhir:latest "$hapi" >/dev/null
echo "built $image (+ :latest)$(took "$t")"
podman images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E 'debian-jre|imaging-connect' || true
echo "total$(took "$t_all")"
