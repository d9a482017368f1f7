#!/usr/bin/env bash
# Build (if needed) and run the imaging-connect HAPI FHIR server.
#
#   ./run.sh                 build if needed, run in the foreground
#   ./run.sh --background    build if needed, start in the background, wait until
#                            GET /fhir/metadata answers 200, print the base URL
#   ./run.sh stop            stop the background server
#   ./run.sh status          print the base URL if the background server is up
#   ./run.sh build           only build target/hapi-fhir-server.jar
#   ./run.sh build-previous  only build the launcher at the HAPI release before (pom.xml profile
#                            previous-hapi) as target/previous-hapi/hapi-fhir-server.jar
#   ./run.sh migrate         build if needed, bring the database's schema up to this HAPI release
#                            (HAPI's own migration tasks), then exit
#
# Settings are HAPI_* environment variables (see README.md), passed straight through.
# HAPI_JAVA_OPTS replaces the default JVM options; HAPI_START_TIMEOUT (seconds, default 600)
# bounds the wait in --background mode.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
jar="$here/target/hapi-fhir-server.jar"
previous_jar="$here/target/previous-hapi/hapi-fhir-server.jar"
state="$here/.cache"
pidfile="$state/hapi.pid"
logfile="$state/hapi.log"

export HAPI_DATA_DIR="${HAPI_DATA_DIR:-$state/h2}"
port="${HAPI_PORT:-8080}"
host="${HAPI_BIND:-127.0.0.1}"
[ "$host" = "0.0.0.0" ] && host=127.0.0.1
base="http://$host:$port/fhir"
java_opts="${HAPI_JAVA_OPTS:--Xms256m -Xmx1536m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError}"

# build_jar JAR [maven options]: builds JAR unless it is newer than pom.xml and src/
build_jar() {
	out=$1
	shift
	if [ -f "$out" ] && [ -z "$(find "$here/pom.xml" "$here/src" -newer "$out" -print -quit)" ]; then
		return 0
	fi
	echo "building $out ..." >&2
	# offline first (everything already in ~/.m2), then online
	if ! (cd "$here" && mvn -q -B -o package -DskipTests "$@" >/dev/null 2>&1); then
		(cd "$here" && mvn -q -B package -DskipTests "$@")
	fi
}

build() {
	build_jar "$jar"
}

running() {
	[ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

ready() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/metadata" 2>/dev/null)" = 200 ]
}

case "${1:-}" in
build)
	build
	;;
build-previous)
	build_jar "$previous_jar" -Pprevious-hapi
	;;
migrate)
	build
	# shellcheck disable=SC2086
	exec java $java_opts -jar "$jar" migrate
	;;
stop)
	if running; then
		pid=$(cat "$pidfile")
		kill "$pid"
		for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		if kill -0 "$pid" 2>/dev/null; then
			echo "HAPI (pid $pid) did not stop in 60 s; killing it" >&2
			kill -9 "$pid"
		fi
		echo "stopped HAPI (pid $pid)"
	else
		echo "HAPI is not running (no live pid in $pidfile)"
	fi
	rm -f "$pidfile"
	;;
status)
	if running && ready; then echo "$base"; else echo "HAPI is not ready" >&2; exit 1; fi
	;;
--background | -b)
	if running; then
		echo "HAPI already running (pid $(cat "$pidfile"))" >&2
		echo "$base"
		exit 0
	fi
	if ready; then
		echo "something else already answers on $base; not starting another server" >&2
		exit 1
	fi
	build
	mkdir -p "$state"
	# shellcheck disable=SC2086 # java_opts is a list of options
	nohup java $java_opts -jar "$jar" >"$logfile" 2>&1 </dev/null &
	echo $! >"$pidfile"
	timeout="${HAPI_START_TIMEOUT:-600}"
	start=$(date +%s)
	until ready; do
		if ! running; then
			echo "HAPI exited during start-up; last lines of $logfile:" >&2
			tail -n 30 "$logfile" >&2
			exit 1
		fi
		if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
			echo "HAPI not ready after $timeout s; see $logfile (pid $(cat "$pidfile") left running)" >&2
			exit 1
		fi
		sleep 1
	done
	echo "HAPI ready in $(($(date +%s) - start)) s (pid $(cat "$pidfile"), log $logfile)" >&2
	echo "$base"
	;;
"")
	build
	# shellcheck disable=SC2086
	exec java $java_opts -jar "$jar"
	;;
*)
	echo "usage: $0 [--background | stop | status | build | build-previous | migrate]" >&2
	exit 2
	;;
esac
