#!/usr/bin/env bash
# Exercise the features imaging-connect relies on against a running server, in a fresh
# partition (so it is safe against a shared server):
#
#   infra/hapi-fhir/smoke-test.sh [BASE_URL]      default http://127.0.0.1:8080/fhir
#
# Needs curl only. Prints one line per check and "N passed, N failed".
set -eu

base="${1:-http://127.0.0.1:8080/fhir}"
run="smoke-$(date +%s)-$$"
p="$base/$run"
json='Content-Type: application/fhir+json'
passed=0
failed=0
body=$(mktemp)
headers=$(mktemp)
trap 'rm -f "$body" "$headers"' EXIT

# req METHOD URL [DATA [EXTRA-HEADER]] -> sets $code; body in $body, headers in $headers
req() {
	set -- "$@" "" ""
	if [ -n "$3" ]; then
		code=$(curl -s -o "$body" -D "$headers" -w '%{http_code}' -X "$1" -H "$json" ${4:+-H "$4"} --data-binary "$3" "$2")
	else
		code=$(curl -s -o "$body" -D "$headers" -w '%{http_code}' -X "$1" ${4:+-H "$4"} "$2")
	fi
}
check() { # check NAME CONDITION...
	name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name (HTTP $code: $(head -c 300 "$body"))"
	fi
}
has() { grep -q -- "$1" "$body"; }
is() { [ "$code" = "$1" ]; }
header() { grep -i "^$1:" "$headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

req GET "$base/metadata"
check "readiness: GET /fhir/metadata is a CapabilityStatement" is 200
check "  (resourceType)" has '"CapabilityStatement"'

req POST "$base/\$partition-management-create-partition" \
	'{"resourceType":"Parameters","parameter":[{"name":"name","valueCode":"'"$run"'"}]}'
check "create partition $run at run time" is 200

nhs='https://fhir.nhs.uk/Id/nhs-number'
patient='{"resourceType":"Patient","identifier":[{"system":"'$nhs'","value":"9434765919"}]}'
req POST "$p/Patient" "$patient" "If-None-Exist: identifier=$nhs|9434765919"
check "conditional create: first call creates (201)" is 201
pid=$(header Location | sed 's:.*/Patient/\([^/]*\)/.*:\1:')
req POST "$p/Patient" "$patient" "If-None-Exist: identifier=$nhs|9434765919"
check "conditional create: second call matches (200)" is 200

req GET "$base/south/Patient/$pid"
check "partition isolation: not visible from /south" is 404

req POST "$base/\$partition-management-create-partition" \
	'{"resourceType":"Parameters","parameter":[{"name":"name","valueCode":"'"$run-b"'"}]}'
req POST "$base/$run-b/Patient" "$patient" "If-None-Exist: identifier=$nhs|9434765919"
check "conditional create of the same identifier in another partition creates (201)" is 201

req PUT "$p/Patient/$pid" '{"resourceType":"Patient","id":"'"$pid"'","active":true}' 'If-Match: W/"1"'
check "If-Match with the current version updates" is 200
req PUT "$p/Patient/$pid" '{"resourceType":"Patient","id":"'"$pid"'","active":false}' 'If-Match: W/"1"'
check "If-Match with a stale version is refused (HAPI: 409, not 412)" is 409

tx='{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:6a1e6f1c-1b7a-4c1e-9a55-000000000001",
  "resource":{"resourceType":"Patient","identifier":[{"system":"'$nhs'","value":"9000000009"}]},
  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier='$nhs'|9000000009"}},
 {"fullUrl":"urn:uuid:6a1e6f1c-1b7a-4c1e-9a55-000000000002",
  "resource":{"resourceType":"ServiceRequest","identifier":[{"system":"urn:ic:order","value":"o-1"}],
   "status":"active","intent":"order","subject":{"reference":"urn:uuid:6a1e6f1c-1b7a-4c1e-9a55-000000000001"}},
  "request":{"method":"POST","url":"ServiceRequest","ifNoneExist":"identifier=urn:ic:order|o-1"}},
 {"fullUrl":"urn:uuid:6a1e6f1c-1b7a-4c1e-9a55-000000000003",
  "resource":{"resourceType":"Task","status":"requested","intent":"order",
   "focus":{"reference":"urn:uuid:6a1e6f1c-1b7a-4c1e-9a55-000000000002"},
   "for":{"reference":"urn:uuid:6a1e6f1c-1b7a-4c1e-9a55-000000000001"}},
  "request":{"method":"POST","url":"Task"}}]}'
req POST "$p" "$tx"
check "transaction with urn:uuid refs and conditional creates" is 200
check "  (all created)" test "$(grep -o '201 Created' "$body" | wc -l)" = 3
req POST "$p" "$tx"
check "  replay: conditional entries match (200 OK), Task created again" test "$(grep -o '200 OK' "$body" | wc -l)" = 2

req GET "$p/Task?_include=Task:focus&_include=Task:patient"
check "_include brings ServiceRequest and Patient" has '"mode":"include"'

req GET "$p/ServiceRequest?subject.identifier=$nhs|9000000009"
check "chained search subject.identifier= (works when the Patient is stored)" has '"total":1'
req GET "$p/DocumentReference?subject:identifier=$nhs|9434765919"
check "subject:identifier modifier is NOT supported by HAPI 8.8 (400 HAPI-2498)" is 400

req GET "$p/Patient/$pid/_history"
check "history lists both versions" has '"total":2'

req POST "$p/ServiceRequest/\$validate" '{"resourceType":"ServiceRequest","status":"active","intent":"order"}'
check "\$validate returns an OperationOutcome (HTTP 200 even with errors)" is 200
check "  (reports the missing subject)" has 'ServiceRequest.subject: minimum required = 1'

batch='{"resourceType":"Bundle","type":"batch","entry":['
for i in $(seq 1 25); do
	batch="$batch{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"n$i\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
done
req POST "$p" "${batch%,}]}"
req GET "$p/Observation?_count=10"
check "paging: first page has a next link" has '"relation":"next"'
next=$(grep -o '"relation":"next","url":"[^"]*"' "$body" | sed 's/.*"url":"//; s/"$//')
req GET "$next"
check "  next link answers with a page" has '"searchset"'

req GET "$p/Observation?_summary=count"
before=$(grep -o '"total":[0-9]*' "$body")
req POST "$p/Observation" '{"resourceType":"Observation","status":"final","code":{"text":"late"}}'
req GET "$p/Observation?_summary=count"
check "no stale cached search: a repeated search sees the new write" test "$(grep -o '"total":[0-9]*' "$body")" != "$before"

req DELETE "$p/Patient/$pid"
check "delete (no references)" is 200
req GET "$p/Patient/$pid"
check "  read after delete is 410 Gone" is 410
req POST "$p/Patient/$pid/\$expunge" '{"resourceType":"Parameters","parameter":[{"name":"expungeDeletedResources","valueBoolean":true},{"name":"expungePreviousVersions","valueBoolean":true}]}'
check "\$expunge of a deleted resource" is 200
req GET "$p/Patient/$pid"
check "  read after expunge is 404" is 404
req POST "$p/\$expunge" '{"resourceType":"Parameters","parameter":[{"name":"expungeEverything","valueBoolean":true}]}'
check "\$expunge expungeEverything is refused (403) unless allowed" is 403

req POST "$p/Subscription" '{"resourceType":"Subscription","status":"requested","reason":"smoke","criteria":"Task?status=requested","channel":{"type":"rest-hook","endpoint":"http://127.0.0.1:9/hook","payload":"application/fhir+json"}}'
check "rest-hook Subscription stored (activated only with HAPI_SUBSCRIPTIONS=true)" is 201

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
