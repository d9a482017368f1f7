#!/usr/bin/env bash
# Idempotent set-up of rootful Podman as a Docker-compatible container engine (Debian 12).
#
#   sudo infra/podman/setup.sh
#
# 1. installs podman, podman-compose, runc, debootstrap and their networking/storage helpers if
#    missing, and what building the images needs (Maven and a JDK for HAPI's jar, npm for Node 24)
#    unless the machine has those commands already;
# 2. sets runtime = runc (crun fails on hybrid cgroups), cgroupfs, file events and explicit
#    ulimits in /etc/containers/containers.conf, keeping any other settings there;
# 3. starts `podman system service` on unix:///run/podman/podman.sock unless it already answers, and
#    restarts one whose working directory has been deleted (it can no longer start containers);
# 4. proves a container really runs through that service (java -version in localhost/debian-jre:17
#    when that image exists, else a trivial container from a local rootfs), and prints the DOCKER_HOST
#    to use.
# Exits non-zero, saying what failed, if containers cannot run.
set -eu

sock=/run/podman/podman.sock
conf=/etc/containers/containers.conf
# The service's pid and log live with its socket, not in this checkout: it outlives the checkout.
pidfile=/run/podman/imaging-connect-service.pid
logfile=/run/podman/imaging-connect-service.log

die() {
	echo "setup.sh: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (rootful podman)"

# ---------------------------------------------------------------- packages
packages="podman podman-compose runc debootstrap netavark aardvark-dns containernetworking-plugins slirp4netns uidmap fuse-overlayfs iptables curl git"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
# By command, not package: a machine may have them from elsewhere (npm comes with some nodejs builds,
# and Debian's npm package would conflict with those).
command -v mvn >/dev/null || missing="$missing maven"
command -v javac >/dev/null || missing="$missing openjdk-17-jdk-headless"
command -v npm >/dev/null || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# ---------------------------------------------------------------- containers.conf
# toml_set SECTION KEY VALUE: make `KEY = VALUE` the active setting in [SECTION] of $conf.
# Other settings and comments stay as they are; an equal setting leaves the file untouched.
toml_set() {
	touch "$conf"
	tmp=$(mktemp)
	awk -v sec="$1" -v key="$2" -v line="$2 = $3" '
		function header(s, name) {
			if (s !~ /^[[:space:]]*\[[^][]*\][[:space:]]*$/) return ""
			name = s; gsub(/^[[:space:]]*\[[[:space:]]*|[[:space:]]*\][[:space:]]*$/, "", name)
			return name
		}
		function is_key(s) { return s ~ ("^[[:space:]]*" key "[[:space:]]*=") }
		# pass 1: is the key there, and with this value?
		NR == FNR {
			h = header($0); if (h != "") cur = h
			if (cur == sec && h == sec) has_sec = 1
			if (cur == sec && is_key($0)) { has_key = 1; same = ($0 == line) }
			next
		}
		# pass 2: rewrite
		skipping { if ($0 ~ /\]/) skipping = 0; next }
		{
			h = header($0); if (h != "") cur = h
			if (cur == sec && is_key($0) && !same) {
				print line
				rest = $0; sub(/^[^=]*=[[:space:]]*/, "", rest)
				if (rest ~ /^\[/ && rest !~ /\]/) skipping = 1   # old multi-line array
				next
			}
			print
			if (h == sec && !has_key) { print line; has_key = 1 }
		}
		END { if (!has_sec) { print ""; print "[" sec "]"; print line } }
	' "$conf" "$conf" >"$tmp"
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
start_service() {
	mkdir -p /run/podman
	# Started from /, not from here: conmon, which the service runs for every container, fails
	# ("Failed to get working directory") once the service's working directory is deleted, as a CI
	# clone is when the next one replaces it. exec: the pid recorded is the service's own.
	(cd / && exec nohup podman system service --time=0 "unix://$sock" >"$logfile" 2>&1 </dev/null) &
	echo $! >"$pidfile"
	for _ in $(seq 1 30); do ping && break; sleep 0.5; done
	ping || {
		tail -n 20 "$logfile" >&2
		die "podman system service did not answer on $sock"
	}
	echo "started podman API service on $sock (pid $(cat "$pidfile"), log $logfile)"
}
# Services on $sock whose working directory is gone: started from a checkout since deleted.
stale_services() {
	for pid in $(pgrep -f "podman system service.*unix://$sock" || true); do
		case "$(readlink "/proc/$pid/cwd" 2>/dev/null)" in *" (deleted)") echo "$pid" ;; esac
	done
}
stop_services() {
	# shellcheck disable=SC2086
	kill $1 2>/dev/null || true
	for _ in $(seq 1 20); do ping || break; sleep 0.5; done
}
stale=$(stale_services)
if [ -n "$stale" ]; then
	echo "restarting the podman API service (pid $(echo $stale)): its working directory was deleted, so it cannot start containers"
	stop_services "$stale"
	start_service
elif ! ping; then
	start_service
elif [ "$changed" = 1 ] && [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	# our own service, started before the settings changed: restart it to apply them
	stop_services "$(cat "$pidfile")"
	start_service
else
	echo "podman API already answering on $sock"
	[ "$changed" = 1 ] && echo "note: restart that podman service to apply the new $conf" >&2
fi

# ---------------------------------------------------------------- prove containers run
# Through the service, as testcontainers will: a container the CLI starts on its own proves less.
remote() {
	podman --remote --url "unix://$sock" "$@"
}
if podman image exists localhost/debian-jre:17; then
	if ! out=$(remote run --rm localhost/debian-jre:17 java -version 2>&1); then
		echo "$out" >&2
		die "'podman --remote run --rm localhost/debian-jre:17 java -version' failed"
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
	if ! out=$(remote run --rm localhost/podman-probe:latest /bin/busybox echo container-ok 2>&1); then
		echo "$out" >&2
		die "'podman --remote run --rm localhost/podman-probe:latest /bin/busybox echo container-ok' failed"
	fi
	echo "container check: $out (run infra/podman/build-images.sh for the JRE image)"
fi

echo
echo "export DOCKER_HOST=unix://$sock"
echo "export TESTCONTAINERS_RYUK_DISABLED=true"
