#!/usr/bin/env bash
# Idempotent set-up of rootful Podman as a Docker-compatible container engine (Debian 12).
#
#   sudo infra/podman/setup.sh
#
# 1. installs podman, runc, debootstrap and their networking/storage helpers if missing;
# 2. sets runtime = runc (crun fails on hybrid cgroups), cgroupfs, file events and explicit
#    ulimits in /etc/containers/containers.conf, keeping any other settings there;
# 3. starts `podman system service` on unix:///run/podman/podman.sock unless it already answers;
# 4. proves a container really runs (java -version in localhost/debian-jre:17 when that image
#    exists, else a trivial container from a local rootfs), and prints the DOCKER_HOST to use.
# Exits non-zero, saying what failed, if containers cannot run.
set -eu

sock=/run/podman/podman.sock
conf=/etc/containers/containers.conf
here=$(cd "$(dirname "$0")" && pwd)
state="$here/.cache"

die() {
	echo "setup.sh: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (rootful podman)"

# ---------------------------------------------------------------- packages
packages="podman runc debootstrap netavark aardvark-dns containernetworking-plugins slirp4netns uidmap fuse-overlayfs iptables curl"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# ---------------------------------------------------------------- containers.conf
# toml_set SECTION KEY VALUE: set KEY = VALUE in [SECTION] of $conf, leaving the rest alone.
toml_set() {
	section=$1 key=$2 value=$3
	touch "$conf"
	tmp=$(mktemp)
	awk -v section="[$section]" -v key="$key" -v line="$key = $value" '
		function flush() { if (in_section && !done) { print line; done = 1 } }
		/^[[:space:]]*\[/ {
			flush()
			in_section = ($0 ~ "^[[:space:]]*\\[" substr(section, 2, length(section) - 2) "\\][[:space:]]*$")
			if (in_section) seen = 1
			print; next
		}
		in_section && $0 ~ "^[[:space:]]*#?[[:space:]]*" key "[[:space:]]*=" {
			if (!done) { print line; done = 1 }
			next
		}
		{ print }
		END {
			flush()
			if (!seen) { print ""; print section; print line }
		}
	' "$conf" >"$tmp"
	if ! cmp -s "$tmp" "$conf"; then
		cat "$tmp" >"$conf"
		changed=1
	fi
	rm -f "$tmp"
}
changed=0
mkdir -p "$(dirname "$conf")"
toml_set containers default_ulimits '["nofile=20000:20000", "nproc=20000:20000"]'
toml_set engine runtime '"runc"'
toml_set engine cgroup_manager '"cgroupfs"'
toml_set engine events_logger '"file"'
[ "$changed" = 1 ] && echo "updated $conf"

# ---------------------------------------------------------------- API socket
ping() {
	curl -s --max-time 5 --unix-socket "$sock" http://d/v1.41/_ping 2>/dev/null | grep -q OK
}
if ping && [ "$changed" = 0 ]; then
	echo "podman API already answering on $sock"
else
	if ping; then
		# settings changed: restart the service we (or an earlier run) started
		[ -f "$state/podman-service.pid" ] && kill "$(cat "$state/podman-service.pid")" 2>/dev/null || true
		sleep 1
	fi
	mkdir -p /run/podman "$state"
	nohup podman system service --time=0 "unix://$sock" >"$state/podman-service.log" 2>&1 </dev/null &
	echo $! >"$state/podman-service.pid"
	for _ in $(seq 1 30); do ping && break; sleep 0.5; done
	ping || {
		tail -n 20 "$state/podman-service.log" >&2
		die "podman system service did not answer on $sock"
	}
	echo "started podman API service on $sock (pid $(cat "$state/podman-service.pid"), log $state/podman-service.log)"
fi

# ---------------------------------------------------------------- prove containers run
if podman image exists localhost/debian-jre:17; then
	if ! out=$(podman run --rm localhost/debian-jre:17 java -version 2>&1); then
		echo "$out" >&2
		die "'podman run --rm localhost/debian-jre:17 java -version' failed"
	fi
	echo "container check: $(echo "$out" | head -n 1)"
else
	# No base image yet (build-images.sh makes it). Prove the runtime with a one-file rootfs.
	busybox=$(command -v busybox || true)
	if [ -z "$busybox" ]; then
		apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
		busybox=$(command -v busybox)
	fi
	probe=$(mktemp -d)
	mkdir -p "$probe/bin"
	cp "$busybox" "$probe/bin/busybox"
	tar -C "$probe" -c . | podman import -q - localhost/podman-probe:latest >/dev/null
	rm -rf "$probe"
	if ! out=$(podman run --rm localhost/podman-probe:latest /bin/busybox echo container-ok 2>&1); then
		echo "$out" >&2
		die "'podman run --rm localhost/podman-probe:latest /bin/busybox echo container-ok' failed"
	fi
	echo "container check: $out (run infra/podman/build-images.sh for the JRE image)"
fi

echo
echo "export DOCKER_HOST=unix://$sock"
echo "export TESTCONTAINERS_RYUK_DISABLED=true"
