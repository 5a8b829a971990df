#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# admin_test.sh RILLCTL RILLD
#
# The admin API and the history tools as an operator meets them: real
# rilld processes on free loopback ports, real curl, rillctl restore and
# validate.
#
#  1. Every admin endpoint through curl: health, ready, status, hash,
#     snapshots (bearer token, wait, download byte for byte), generations,
#     events, metrics (checked as Prometheus text), and the errors: 401,
#     400 for malformed ids and path traversal, 404, 405 with Allow.
#  2. The catalog deleted (and damaged) is rebuilt at start with the same
#     listing, and so it is by rilld --rebuild-catalog.
#  3. Retention with --retain-snapshots 2: the old snapshots and the log
#     they alone needed are gone, the rest is whole, and restore works
#     between the kept snapshots but not before them.
#  4. Backups: the backup mirrors the generation's files, validates
#     against the node, restores into a data dir rilld serves; a damaged
#     copy fails validate and restore, naming the file; a copy that
#     failed is made again once the backup can take it.
#  5. Bad restore input: an existing --to, a seq beyond the history, a
#     time before the oldest snapshot, a truncated snapshot.
#
# Each rilld stops by its pid with SIGTERM and must exit 0.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

if [[ $# -ne 2 ]]; then
	echo "usage: $0 RILLCTL RILLD" >&2
	exit 2
fi
RILLCTL=$1
RILLD=$2

require_tools python3 curl cmp
require_executable "$RILLCTL" "$RILLD"

# The test sets every RILL_* variable it needs itself.
unset_rill_vars

make_tmp rill-admin
# The JSON checks read these from the environment.
export TMP G SNAPDIR LOGDIR NODE_ID HASH12 SNAP12_SIZE OLDEST E

TOKEN=secret
CURL=(curl -s --noproxy '*' --path-as-is --max-time 30)
PAD=$(printf '%*s' 1000 '' | tr ' ' v)

# Helpers ---------------------------------------------------------------

# no_sanitizer_report FILE NAME
no_sanitizer_report() {
	if grep -qE 'LeakSanitizer|AddressSanitizer|runtime error:' "$1"; then
		fail "$2: a sanitizer reported a problem:
$(grep -E -A12 'ERROR: |runtime error:' "$1" | head -n 40)"
	fi
}

# two_ports: PORT and APORT, two distinct free ports; URL the RPC address.
two_ports() {
	PORT=$(free_port)
	APORT=$(free_port)
	while [[ $APORT == "$PORT" ]]; do
		APORT=$(free_port)
	done
	URL=tcp://127.0.0.1:$PORT
}

admin_ready() {
	[[ $("${CURL[@]}" --max-time 1 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$APORT/ready" 2>/dev/null) == 200 ]]
}

# start_rilld NAME DATA_DIR [FLAG...]: start a rilld on DATA_DIR with new
# ports (URL, APORT), the admin token, 4 KiB segments, no automatic
# snapshot and no sealing by age unless FLAGs say otherwise; wait until
# its /ready answers 200. Its stderr is $TMP/NAME.err.
start_rilld() {
	local name=$1 data=$2
	shift 2
	two_ports
	RILLD_NAME=$name
	RILLD_ERR=$TMP/$name.err
	RILL_ADMIN_TOKEN=$TOKEN "$RILLD" --data-dir "$data" --listen "$URL" \
		--admin-listen "127.0.0.1:$APORT" --snapshot-interval-ms 0 \
		--snapshot-log-bytes 0 --segment-max-bytes 4KiB "$@" \
		>"$TMP/$name.out" 2>"$RILLD_ERR" &
	RILLD_PID=$!
	wait_ready "$RILLD_PID" "$name" admin_ready
}

# stop_rilld: SIGTERM to RILLD_PID; it must exit 0 with no sanitizer
# report.
stop_rilld() {
	stop_pid "$RILLD_PID" "$RILLD_NAME"
	RILLD_PID=
	no_sanitizer_report "$RILLD_ERR" "$RILLD_NAME"
	[[ $STOP_RC -eq 0 ]] || fail "$RILLD_NAME: rilld exited $STOP_RC after SIGTERM, want 0"
}

# ctl WANT_RC ARGS...: run rillctl ARGS, stdout in $TMP/out, stderr in
# $TMP/err; fail unless it exits WANT_RC without a sanitizer report.
ctl() {
	local want=$1 rc=0
	shift
	"$RILLCTL" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	no_sanitizer_report "$TMP/err" "rillctl $*"
	[[ $rc -eq $want ]] ||
		fail "rillctl $*: exit $rc, want $want; stdout: $(head -c 300 "$TMP/out"); stderr: $(head -c 900 "$TMP/err")"
}

# err_has TEXT: rillctl's stderr holds TEXT.
err_has() {
	grep -qF -- "$1" "$TMP/err" || fail "rillctl's stderr lacks '$1': $(head -c 900 "$TMP/err")"
}

key() { printf 'k%04d' "$1"; }
val() { printf 'value-%d-%s' "$1" "$PAD"; }

# put_keys FROM TO: put keys FROM..TO on URL, one write each; key i must
# be committed at seq i (each test's data dir starts empty).
put_keys() {
	local i
	for ((i = $1; i <= $2; i++)); do
		ctl 0 --url "$URL" put "$(key "$i")" "$(val "$i")"
		[[ $(cat "$TMP/out") == "seq: $i" ]] ||
			fail "put $(key "$i"): '$(cat "$TMP/out")', want 'seq: $i'"
	done
}

# expect_keys URL N: the keyspace on URL is exactly keys 1..N with their
# values.
expect_keys() {
	local url=$1 n=$2 i
	ctl 0 --url "$url" scan
	for ((i = 1; i <= n; i++)); do
		printf '%s\t%s\n' "$(key "$i")" "$(val "$i")"
	done >"$TMP/want_scan"
	cmp -s "$TMP/out" "$TMP/want_scan" ||
		fail "the keyspace on $url is not keys 1..$n: $(cut -c1-20 "$TMP/out" | head -n 5 | tr '\n' ' ')... ($(wc -l <"$TMP/out") lines)"
}

# http METHOD PATH [CURL_ARG...]: one request to the admin API of APORT.
# CODE gets the status, $TMP/body (or $HTTP_OUT) the body, $TMP/hdr the
# headers. METHOD HEAD is curl -I.
http() {
	local method=$1 path=$2 rc=0
	shift 2
	local m=(-X "$method")
	[[ $method != HEAD ]] || m=(-I)
	CODE=$("${CURL[@]}" "${m[@]}" -D "$TMP/hdr" -o "${HTTP_OUT:-$TMP/body}" \
		-w '%{http_code}' "$@" "http://127.0.0.1:$APORT$path") || rc=$?
	[[ $rc -eq 0 ]] || fail "curl $method $path failed (curl exit $rc)"
}

# header NAME: the value of response header NAME in $TMP/hdr (empty when
# absent).
header() {
	tr -d '\r' <"$TMP/hdr" | awk -v n="$(echo "$1" | tr '[:upper:]' '[:lower:]')" '
		{ i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) { print substr($0, i + 2); exit } }'
}

# jtrue FILE PYTHON_EXPR: true when FILE is one JSON document d for
# which the expression holds (json, os, re, env: the environment, HEX16:
# a 16-hex-digit pattern).
jtrue() {
	python3 - "$1" "$2" <<'EOF'
import json, os, re, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    sys.exit("not JSON: %s" % e)
env = os.environ
HEX16 = re.compile(r"^[0-9a-f]{16}$")
if not eval(sys.argv[2]):
    sys.exit(1)
EOF
}

# jcheck FILE PYTHON_EXPR [WHAT]: as jtrue, or fail.
jcheck() {
	jtrue "$1" "$2" || fail "${3:-JSON check} failed: $2 on $(head -c 1500 "$1")"
}

# jget FILE PYTHON_EXPR: print the expression over the JSON document d.
jget() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2" ||
		fail "cannot read $2 from $(head -c 600 "$1")"
}

# expect METHOD PATH STATUS [CURL_ARG...]: the request answers STATUS; an
# error status has the JSON body {"error": its code, "message": text}.
expect() {
	local method=$1 path=$2 want=$3 code
	shift 3
	http "$method" "$path" "$@"
	[[ $CODE == "$want" ]] ||
		fail "$method $path: status $CODE, want $want; body: $(head -c 400 "$TMP/body")"
	case $want in
	400) code=invalid_argument ;;
	401) code=unauthenticated ;;
	404) code=not_found ;;
	405) code=method_not_allowed ;;
	*) return 0 ;;
	esac
	[[ $(header Content-Type) == application/json* ]] ||
		fail "$method $path: $want with Content-Type '$(header Content-Type)'"
	jcheck "$TMP/body" "set(d) == {'error', 'message'} and d['error'] == '$code' and isinstance(d['message'], str) and d['message'] != ''" \
		"$method $path: the $want error body"
}

# snap_name SEQ: the file name of the snapshot at SEQ.
snap_name() { printf '%016x.snap' "$1"; }

# names DIR: the file names in DIR, sorted, one a line.
names() { (cd "$1" && LC_ALL=C ls -1) }

# nothing_at PATH: restore left nothing at PATH, nor a temporary build
# beside it.
nothing_at() {
	[[ ! -e $1 ]] || fail "a failed restore left $1 behind"
	local left
	left=$(cd "$(dirname "$1")" && { ls -1d "$(basename "$1")".restoring-* 2>/dev/null || true; })
	[[ -z $left ]] || fail "a failed restore left $left behind"
}

# listing NAME: the catalog as the admin API shows it (snapshots,
# generations, the current generation with its snapshots and segments),
# without duration_ms (the files do not hold it), in $TMP/NAME.json.
listing() {
	http GET /v1/snapshots
	[[ $CODE == 200 ]] || fail "GET /v1/snapshots: $CODE"
	cp "$TMP/body" "$TMP/list_snaps"
	http GET /v1/generations
	[[ $CODE == 200 ]] || fail "GET /v1/generations: $CODE"
	cp "$TMP/body" "$TMP/list_gens"
	http GET "/v1/generations/$G"
	[[ $CODE == 200 ]] || fail "GET /v1/generations/$G: $CODE"
	python3 - "$TMP/list_snaps" "$TMP/list_gens" "$TMP/body" >"$TMP/$1.json" <<'EOF'
import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k != "duration_ms"}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
out = {n: strip(json.load(open(f))) for n, f in zip(("snapshots", "generations", "generation"), sys.argv[1:])}
print(json.dumps(out, indent=1, sort_keys=True))
EOF
}

# same_listing A B: the listings A and B are equal.
same_listing() {
	cmp -s "$TMP/$1.json" "$TMP/$2.json" ||
		fail "the catalog listing changed ($1 -> $2):
$(diff "$TMP/$1.json" "$TMP/$2.json" | head -n 30)"
}

# poll WHAT CMD...: run CMD every 0.05 s until it succeeds, for up to
# 60 s; fail naming WHAT.
poll() {
	local what=$1 end=$((SECONDS + 60))
	shift
	while ((SECONDS < end)); do
		if "$@"; then
			return 0
		fi
		sleep 0.05
	done
	fail "$what did not happen in 60 s"
}

# flip FILE: invert one byte in the middle of FILE.
flip() {
	python3 - "$1" <<'EOF'
import os, sys
p = sys.argv[1]
with open(p, "r+b") as f:
    off = os.path.getsize(p) // 2
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xff]))
EOF
}

# The Prometheus text checker: every sample's family has a # TYPE line
# before it, every value is a float, histogram buckets are cumulative and
# end with le="+Inf" equal to _count.
cat >"$TMP/promcheck.py" <<'EOF'
import math, re, sys
text = open(sys.argv[1]).read()
errs = []
types, samples = {}, []
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
sample_re = re.compile(r"^(" + name_re + r")(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$")
label_re = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
if not text.endswith("\n"):
    errs.append("the text does not end with a newline")
for n, line in enumerate(text.splitlines(), 1):
    if line == "":
        continue
    if line.startswith("#"):
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[1] == "TYPE":
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                errs.append("line %d: bad TYPE line: %r" % (n, line))
            elif parts[2] in types:
                errs.append("line %d: second TYPE for %s" % (n, parts[2]))
            else:
                types[parts[2]] = parts[3]
        continue
    m = sample_re.match(line)
    if not m:
        errs.append("line %d: not a sample: %r" % (n, line))
        continue
    name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
    labels, pos = {}, 0
    while pos < len(labels_text):
        lm = label_re.match(labels_text, pos)
        if not lm:
            errs.append("line %d: bad labels: %r" % (n, labels_text))
            break
        labels[lm.group(1)] = lm.group(2)
        pos = lm.end()
    try:
        v = float(value)
    except ValueError:
        errs.append("line %d: value %r is not a float" % (n, value))
        continue
    family = name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            family = base
    if family not in types:
        errs.append("line %d: %s has no # TYPE line before it" % (n, name))
    samples.append((name, family, labels, v))
# Histograms: per label set (le aside), cumulative buckets, +Inf last and
# equal to _count, and a _sum.
for fam, t in types.items():
    if t != "histogram":
        continue
    groups = {}
    for name, family, labels, v in samples:
        if family != fam:
            continue
        rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        g = groups.setdefault(rest, {"buckets": [], "count": None, "sum": None})
        if name == fam + "_bucket":
            if "le" not in labels:
                errs.append("%s: a bucket without le" % fam)
                continue
            g["buckets"].append((float(labels["le"]), v))
        elif name == fam + "_count":
            g["count"] = v
        elif name == fam + "_sum":
            g["sum"] = v
    if not groups:
        errs.append("histogram %s has no samples" % fam)
    for rest, g in groups.items():
        b = g["buckets"]
        if not b or not math.isinf(b[-1][0]):
            errs.append("%s%s: the last bucket is not le=\"+Inf\"" % (fam, rest))
            continue
        if [le for le, _ in b] != sorted(le for le, _ in b):
            errs.append("%s%s: buckets out of order" % (fam, rest))
        for (le0, v0), (le1, v1) in zip(b, b[1:]):
            if v1 < v0:
                errs.append("%s%s: bucket le=%g (%g) below le=%g (%g): not cumulative" % (fam, rest, le1, v1, le0, v0))
        if g["count"] is None or g["sum"] is None:
            errs.append("%s%s: no _count or _sum" % (fam, rest))
        elif b[-1][1] != g["count"]:
            errs.append("%s%s: +Inf bucket %g != _count %g" % (fam, rest, b[-1][1], g["count"]))
def value(name, **labels):
    for n, _, l, v in samples:
        if n == name and all(l.get(k) == x for k, x in labels.items()):
            return v
    return None
want = {"rill_writes_total": "counter", "rill_last_seq": "gauge",
        "rill_snapshots_total": "counter", "rill_fsync_latency_seconds": "histogram",
        "rill_errors_total": "counter", "rill_backup_lag_seqs": "gauge"}
for n, t in want.items():
    if types.get(n) != t:
        errs.append("%s: TYPE %s, want %s" % (n, types.get(n), t))
if not (value("rill_writes_total") or 0) > 0:
    errs.append("rill_writes_total is not > 0")
# At least each write was a request.
if not (value("rill_requests_total") or 0) >= float(sys.argv[2]):
    errs.append("rill_requests_total is %s, want >= %s" % (value("rill_requests_total"), sys.argv[2]))
if value("rill_last_seq") != float(sys.argv[2]):
    errs.append("rill_last_seq is %s, want %s" % (value("rill_last_seq"), sys.argv[2]))
if not (value("rill_snapshots_total") or 0) >= float(sys.argv[3]):
    errs.append("rill_snapshots_total is %s, want >= %s" % (value("rill_snapshots_total"), sys.argv[3]))
if value("rill_fsync_latency_seconds_bucket", le="+Inf") is None:
    errs.append("no rill_fsync_latency_seconds_bucket{le=\"+Inf\"}")
elif not value("rill_fsync_latency_seconds_count") > 0:
    errs.append("rill_fsync_latency_seconds_count is not > 0")
kinds = sorted(l.get("kind") for n, _, l, _ in samples if n == "rill_errors_total")
if not kinds or None in kinds:
    errs.append("rill_errors_total has no kind labels: %r" % kinds)
for k in kinds:
    if k is not None and value("rill_errors_total", kind=k) != 0:
        errs.append("rill_errors_total{kind=%r} is %s, want 0" % (k, value("rill_errors_total", kind=k)))
if errs:
    sys.exit("\n".join(errs[:20]))
print("%d samples, %d families, error kinds %s" % (len(samples), len(types), ",".join(kinds)))
EOF

# ----------------------------------------------------------------------
echo "step 1: every admin endpoint through curl"
D1=$TMP/d1
start_rilld s1 "$D1" --segment-max-age-ms 1h
G=$(names "$D1/generations")
[[ $G =~ ^[0-9a-f]{16}$ ]] || fail "a new data dir holds generations '$G', want one 16-hex id"
SNAPDIR=$D1/generations/$G/snapshots
LOGDIR=$D1/generations/$G/log
put_keys 1 12
pass "rilld on 127.0.0.1:$APORT with RILL_ADMIN_TOKEN; 12 keys written"

expect GET /health 200
jcheck "$TMP/body" 'd == {"status": "ok"}'
expect GET /ready 200
jcheck "$TMP/body" 'd == {"ready": True}'
expect HEAD /health 200
pass "GET /health and /ready: 200 (HEAD /health too)"

ctl 0 --url "$URL" --json status
cp "$TMP/out" "$TMP/ctl_status.json"
expect GET /v1/status 200
NODE_ID=$(jget "$TMP/ctl_status.json" 'd["node_id"]')
jcheck "$TMP/body" 'd["node_id"] == env["NODE_ID"] and HEX16.match(d["node_id"]) and d["role"] == "leader" and d["generation"] == env["G"] and d["last_seq"] == 12 and d["applied_seq"] == 12 and d["oldest_seq"] == 1 and isinstance(d["version"], str) and d["version"] != "" and isinstance(d["uptime_s"], int) and d["uptime_s"] >= 0 and d["ready"] is True and d["writer_failed"] is False and d["log_segments"] == len(os.listdir(env["LOGDIR"]))' \
	"GET /v1/status"
[[ $(jget "$TMP/body" 'd["version"]') == "$(jget "$TMP/ctl_status.json" 'd["version"]')" ]] ||
	fail "GET /v1/status version differs from rillctl status"
pass "GET /v1/status: node_id, role leader, generation $G, last/applied seq 12, oldest 1, version, uptime_s"

expect GET /v1/hash 200
cp "$TMP/body" "$TMP/hash12.json"
jcheck "$TMP/body" 'd["seq"] == 12 and HEX16.match(d["hash"]) and d["generation"] == env["G"] and d["keys"] == 12' "GET /v1/hash"
HASH12=$(jget "$TMP/body" 'd["hash"]')
pass "GET /v1/hash: seq 12, hash $HASH12"

expect GET /v1/snapshots 200
jcheck "$TMP/body" '[(s["generation"], s["seq"]) for s in d["snapshots"]] == [(env["G"], 0)]' "the base snapshot alone"
cp "$TMP/body" "$TMP/snaps_base.json"
SNAPS_BEFORE=$(names "$SNAPDIR")

expect POST /v1/snapshots 401
[[ $(header WWW-Authenticate) == Bearer* ]] || fail "401 without WWW-Authenticate: Bearer"
expect POST /v1/snapshots 401 -H "Authorization: Bearer wrong"
expect POST /v1/snapshots 401 -H "Authorization: Bearer ${TOKEN}x"
expect POST /v1/snapshots 401 -H "Authorization: Basic $(printf 'x:%s' "$TOKEN" | base64)"
# Authentication comes before the query is looked at.
expect POST '/v1/snapshots?wait=maybe' 401
expect POST '/v1/snapshots?wait=maybe' 400 -H "Authorization: Bearer $TOKEN"
expect GET /v1/snapshots 200
cmp -s "$TMP/body" "$TMP/snaps_base.json" || fail "a refused POST changed the listing: $(cat "$TMP/body")"
[[ $(names "$SNAPDIR") == "$SNAPS_BEFORE" ]] || fail "a refused POST wrote a snapshot file: $(names "$SNAPDIR")"
pass "POST /v1/snapshots: 401 with no, a wrong or a non-bearer token, 400 for wait=maybe (401 first without a token); no snapshot taken"

expect POST /v1/snapshots 200 -H "Authorization: Bearer $TOKEN"
cp "$TMP/body" "$TMP/snap12.json"
SNAP12_SIZE=$(stat -c %s "$SNAPDIR/$(snap_name 12)")
jcheck "$TMP/body" 'd["generation"] == env["G"] and d["seq"] == 12 and d["keys"] == 12 and d["hash"] == env["HASH12"] and d["size"] == int(env["SNAP12_SIZE"]) and d["raw_bytes"] > 12000 and d["url"] == "/v1/snapshots/%s/12" % env["G"] and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", d["created"]) and isinstance(d["created_us"], int) and isinstance(d["duration_ms"], int)' \
	"the snapshot record"
pass "POST /v1/snapshots with the token: 200, seq 12, the live hash, the file's size"

put_keys 13 14
expect POST '/v1/snapshots?wait=false' 202 -H "Authorization: Bearer $TOKEN"
jcheck "$TMP/body" 'd == {"queued": True}'
listed_14() {
	http GET /v1/snapshots
	[[ $CODE == 200 ]] && jtrue "$TMP/body" '14 in [s["seq"] for s in d["snapshots"]]'
}
poll "the queued snapshot at seq 14 listed" listed_14
[[ -f $SNAPDIR/$(snap_name 14) ]] || fail "snapshot 14 is listed but $SNAPDIR/$(snap_name 14) is missing"
pass "POST /v1/snapshots?wait=false: 202 {\"queued\":true}, then seq 14 is listed"

expect GET /v1/snapshots 200
cp "$TMP/body" "$TMP/snaps.json"
jcheck "$TMP/body" '[s["seq"] for s in d["snapshots"]] == [0, 12, 14] and all(s["generation"] == env["G"] and s["size"] == os.path.getsize(os.path.join(env["SNAPDIR"], "%016x.snap" % s["seq"])) for s in d["snapshots"]) and sorted(os.listdir(env["SNAPDIR"])) == ["%016x.snap" % s["seq"] for s in d["snapshots"]]' \
	"the snapshot listing against $SNAPDIR"
pass "GET /v1/snapshots lists 0, 12 and 14, as the files on disk"

for seq in 0 12 14; do
	HTTP_OUT=$TMP/dl.snap http GET "/v1/snapshots/$G/$seq"
	[[ $CODE == 200 ]] || fail "GET /v1/snapshots/$G/$seq: $CODE"
	cmp "$TMP/dl.snap" "$SNAPDIR/$(snap_name "$seq")" ||
		fail "the download of snapshot $seq differs from $SNAPDIR/$(snap_name "$seq")"
	[[ $(header Content-Type) == application/octet-stream ]] ||
		fail "snapshot download Content-Type '$(header Content-Type)'"
	want_hash=$(jget "$TMP/snaps.json" "[s['hash'] for s in d['snapshots'] if s['seq'] == $seq][0]")
	[[ $(header X-Rill-State-Hash) == "$want_hash" ]] ||
		fail "X-Rill-State-Hash '$(header X-Rill-State-Hash)', want $want_hash"
done
http HEAD "/v1/snapshots/$G/12"
[[ $CODE == 200 && $(header Content-Length) == "$SNAP12_SIZE" ]] ||
	fail "HEAD /v1/snapshots/$G/12: $CODE, Content-Length '$(header Content-Length)', want 200 and $SNAP12_SIZE"
pass "GET /v1/snapshots/$G/{0,12,14}: identical to the .snap files (cmp), with the state hash header; HEAD: the length"

expect GET /v1/generations 200
jcheck "$TMP/body" 'd["current"] == env["G"] and len(d["generations"]) == 1 and d["generations"][0]["id"] == env["G"] and d["generations"][0]["parent"] is None and d["generations"][0]["parent_seq"] == 0 and d["generations"][0]["current"] is True and isinstance(d["generations"][0]["created_us"], int)' \
	"GET /v1/generations"
expect GET "/v1/generations/$G" 200
jcheck "$TMP/body" 'd["id"] == env["G"] and d["current"] is True and d["snapshots"] == json.load(open(env["TMP"] + "/snaps.json"))["snapshots"]' \
	"GET /v1/generations/$G: its snapshots"
# The sealed segments: every log file but the last (still written), each
# ending where the next begins, with its size on disk.
jcheck "$TMP/body" '(lambda names: all(re.match(r"^[0-9a-f]{16}\.seg$", n) for n in names) and len(names) >= 4 and [s["first_seq"] for s in d["segments"]] == [int(n[:16], 16) for n in names[:-1]] and all(s["last_seq"] == int(names[i + 1][:16], 16) - 1 and s["first_seq"] <= s["last_seq"] and s["size"] == os.path.getsize(os.path.join(env["LOGDIR"], names[i])) and re.match(r"^[0-9a-f]{8}$", s["checksum"]) and s["first_time_us"] <= s["last_time_us"] for i, s in enumerate(d["segments"])) and d["segments"][0]["first_seq"] == 1)(sorted(os.listdir(env["LOGDIR"])))' \
	"GET /v1/generations/$G: its segments against $LOGDIR"
pass "GET /v1/generations and /v1/generations/$G: the generation, its snapshots and $(jget "$TMP/body" 'len(d["segments"])') sealed segments, as on disk"

expect GET /nope 404
expect GET /v1 404
expect GET /v1/statuses 404
expect GET "/v1/snapshots/$G/999" 404
expect GET "/v1/snapshots/0123456789abcdef/12" 404
expect GET /v1/generations/0123456789abcdef 404
pass "404 for an unknown path, snapshot and generation"

expect DELETE /v1/status 405
[[ $(header Allow) == "GET, HEAD" ]] || fail "DELETE /v1/status: Allow '$(header Allow)'"
expect PUT /v1/snapshots 405 -H "Authorization: Bearer $TOKEN"
[[ $(header Allow) == "GET, HEAD, POST" ]] || fail "PUT /v1/snapshots: Allow '$(header Allow)'"
expect POST /v1/status 405
[[ $(header Allow) == "GET, HEAD" ]] || fail "POST /v1/status: Allow '$(header Allow)'"
expect DELETE "/v1/snapshots/$G/12" 405 -H "Authorization: Bearer $TOKEN"
[[ $(header Allow) == "GET, HEAD" ]] || fail "DELETE /v1/snapshots/$G/12: Allow '$(header Allow)'"
[[ -f $SNAPDIR/$(snap_name 12) ]] || fail "DELETE removed the snapshot file"
expect POST /metrics 405
pass "405 with an Allow header for DELETE /v1/status, PUT /v1/snapshots, POST /v1/status, DELETE of a snapshot, POST /metrics"

GU=$(echo "$G" | tr 'a-f' 'A-F')
for path in \
	'/v1/snapshots/..%2f..%2fetc/passwd' \
	'/v1/snapshots/../../etc/passwd' \
	'/v1/snapshots/%2e%2e/%2e%2e/etc/passwd' \
	"/v1/snapshots/$G/..%2f..%2f..%2fNODE_ID" \
	"/v1/snapshots/$G/%2e%2e" \
	"/v1/generations/$G/../$G" \
	"/v1/generations/$G%2f..%2f$G" \
	/v1/generations/XYZ \
	"/v1/generations/$GU" \
	"/v1/generations/${G}0" \
	"/v1/generations/${G:1}" \
	/v1/generations/ \
	"/v1/snapshots/$G/-1" \
	"/v1/snapshots/$G/+12" \
	"/v1/snapshots/$G/012" \
	"/v1/snapshots/$G/12.0" \
	"/v1/snapshots/$G/0x0c" \
	"/v1/snapshots/$G/18446744073709551616" \
	"/v1/snapshots/$G/" \
	"/v1/snapshots/$G" \
	"/v1/snapshots/$G/12/x" \
	"/v1/snapshots/$GU/12" \
	'/v1/events?limit=0' \
	'/v1/events?limit=10001' \
	'/v1/events?limit=abc'; do
	expect GET "$path" 400
done
pass "400 invalid_argument for malformed ids, seqs and limits, and for traversal attempts"

expect GET /v1/events 200
cp "$TMP/body" "$TMP/events.json"
jcheck "$TMP/body" 'len(d["events"]) >= 3 and all(set(e) >= {"id", "time_us", "time", "kind", "detail"} for e in d["events"]) and [e["id"] for e in d["events"]] == sorted([e["id"] for e in d["events"]], reverse=True) and any(e["kind"] == "snapshot" and "seq 12" in e["detail"] for e in d["events"]) and any(e["kind"] == "snapshot" and "seq 14" in e["detail"] for e in d["events"])' \
	"GET /v1/events"
expect GET '/v1/events?limit=1' 200
jcheck "$TMP/body" 'd["events"] == json.load(open(env["TMP"] + "/events.json"))["events"][:1]' "GET /v1/events?limit=1"
pass "GET /v1/events: newest first, the snapshots at 12 and 14 among them; limit=1 gives the newest"

expect GET /metrics 200
[[ $(header Content-Type) == "text/plain; version=0.0.4"* ]] ||
	fail "GET /metrics Content-Type '$(header Content-Type)'"
summary=$(python3 "$TMP/promcheck.py" "$TMP/body" 14 3 2>&1) ||
	fail "GET /metrics is not valid Prometheus text as expected:
$summary"
pass "GET /metrics is Prometheus text ($summary): rill_writes_total > 0, rill_requests_total >= 14, rill_last_seq 14, rill_snapshots_total >= 3, fsync histogram, rill_errors_total{kind}"

# ----------------------------------------------------------------------
echo "step 2: the catalog, deleted or damaged, is rebuilt with the same listing"
listing cat0
jcheck "$TMP/cat0.json" 'len(d["snapshots"]["snapshots"]) == 3 and len(d["generation"]["segments"]) >= 3' "the listing before"
stop_rilld
[[ -f $D1/catalog.db ]] || fail "$D1 has no catalog.db"
rm -f "$D1"/catalog.db*
start_rilld s2 "$D1" --segment-max-age-ms 1h
[[ -f $D1/catalog.db ]] || fail "rilld did not make a new catalog.db"
listing cat1
same_listing cat0 cat1
expect GET /v1/events 200
jcheck "$TMP/body" 'any(e["kind"] == "rebuild" for e in d["events"])' "a rebuild event"
pass "catalog.db deleted: rilld rebuilds it at start with the same snapshots, generations and segments"

stop_rilld
rc=0
"$RILLD" --data-dir "$D1" --rebuild-catalog >"$TMP/rebuild.out" 2>"$TMP/rebuild.err" || rc=$?
no_sanitizer_report "$TMP/rebuild.err" "rilld --rebuild-catalog"
[[ $rc -eq 0 ]] || fail "rilld --rebuild-catalog exited $rc: $(head -c 600 "$TMP/rebuild.err")"
grep -q "SERVER-REBUILD-CATALOG" "$TMP/rebuild.err" ||
	fail "rilld --rebuild-catalog logged no SERVER-REBUILD-CATALOG line"
# --log-level holds for the rebuild too.
rc=0
"$RILLD" --data-dir "$D1" --log-level err --rebuild-catalog \
	>"$TMP/rebuild.out" 2>"$TMP/rebuild.err" || rc=$?
[[ $rc -eq 0 ]] || fail "rilld --log-level err --rebuild-catalog exited $rc"
no_sanitizer_report "$TMP/rebuild.err" "rilld --rebuild-catalog"
! grep -q "notice" "$TMP/rebuild.err" ||
	fail "--log-level err still logs notices: $(head -c 600 "$TMP/rebuild.err")"
start_rilld s3 "$D1" --segment-max-age-ms 1h
listing cat2
same_listing cat0 cat2
pass "rilld --rebuild-catalog exits 0; the next start lists the same"

stop_rilld
rm -f "$D1"/catalog.db-*
printf 'this is not a SQLite database\n%.0s' {1..200} >"$D1/catalog.db"
start_rilld s4 "$D1" --segment-max-age-ms 1h
[[ -f $D1/catalog.db.damaged ]] || fail "the damaged catalog was not kept as catalog.db.damaged"
listing cat3
same_listing cat0 cat3
expect GET /v1/hash 200
cmp -s "$TMP/body" "$TMP/hash12.json" && fail "the hash did not move past seq 12"
jcheck "$TMP/body" 'd["seq"] == 14 and d["keys"] == 14'
stop_rilld
pass "a damaged catalog.db is set aside and rebuilt with the same listing"

# ----------------------------------------------------------------------
echo "step 3: retention keeps 2 snapshots and the log after the oldest"
D3=$TMP/d3
start_rilld s5 "$D3" --segment-max-age-ms 1h --retain-snapshots 2
G=$(names "$D3/generations")
SNAPDIR=$D3/generations/$G/snapshots
LOGDIR=$D3/generations/$G/log
for round in 1 2 3 4; do
	put_keys $((round * 8 - 7)) $((round * 8))
	expect POST /v1/snapshots 200 -H "Authorization: Bearer $TOKEN"
	jcheck "$TMP/body" "d['seq'] == $((round * 8)) and d['keys'] == $((round * 8))" "snapshot $round"
done
pass "4 snapshots taken at seqs 8, 16, 24, 32 with writes between"

[[ $(names "$SNAPDIR" | tr '\n' ' ') == "$(snap_name 24) $(snap_name 32) " ]] ||
	fail "snapshot files left: $(names "$SNAPDIR" | tr '\n' ' '), want $(snap_name 24) and $(snap_name 32)"
expect GET /v1/snapshots 200
jcheck "$TMP/body" '[(s["generation"], s["seq"]) for s in d["snapshots"]] == [(env["G"], 24), (env["G"], 32)]' "the listing after retention"
pass "only the 2 newest snapshots (24, 32) remain, on disk and in GET /v1/snapshots"

# The segments: named for their first seq; each ends where the next
# begins; the last, still written, ends at last_seq (32).
segs=$(python3 - "$LOGDIR" 24 32 2>&1 <<'EOF') || fail "the log after retention: $segs"
import os, re, sys
logdir, kept, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = sorted(os.listdir(logdir))
assert names and all(re.match(r"^[0-9a-f]{16}\.seg$", n) for n in names), names
first = [int(n[:16], 16) for n in names]
ends = [f - 1 for f in first[1:]] + [last]
for n, f, e in zip(names, first, ends):
    if e <= kept:
        sys.exit("%s holds seqs %d..%d, all at or before the oldest kept snapshot %d: it should be gone" % (n, f, e, kept))
if first[0] > kept + 1:
    sys.exit("the log starts at seq %d: seqs %d..%d after the oldest kept snapshot are gone" % (first[0], kept + 1, first[0] - 1))
print(" ".join("%d..%d" % fe for fe in zip(first, ends)))
EOF
OLDEST=$((16#$(names "$LOGDIR" | head -n 1 | cut -c1-16)))
expect GET /v1/status 200
jcheck "$TMP/body" 'd["oldest_seq"] == int(env["OLDEST"]) and d["last_seq"] == 32' "oldest_seq after retention"
expect GET "/v1/generations/$G" 200
jcheck "$TMP/body" '[s["first_seq"] for s in d["segments"]] == [int(n[:16], 16) for n in sorted(os.listdir(env["LOGDIR"]))[:-1]] and [s["seq"] for s in d["snapshots"]] == [24, 32]' \
	"the catalog's segments after retention"
expect GET /v1/events 200
jcheck "$TMP/body" 'any(e["kind"] == "retention" for e in d["events"])' "a retention event"
pass "segments all at or before seq 24 are gone, the log from seq $OLDEST (<= 25) to 32 remains (segments $segs); status and catalog agree"

ctl 0 restore --from "$D3" --to "$TMP/r28" --seq 28 --json
jcheck "$TMP/out" 'd["seq"] == 28 and d["snapshot_seq"] == 24 and d["records"] == 4 and d["keys"] == 28 and d["parent"] == env["G"]' "restore --seq 28"
[[ -d $TMP/r28/generations ]] || fail "restore --seq 28 made no data dir"
ctl 4 restore --from "$D3" --to "$TMP/r10" --seq 10
nothing_at "$TMP/r10"
ctl 4 restore --from "$D3" --to "$TMP/r0" --seq 0
nothing_at "$TMP/r0"
pass "restore from the live data dir: --seq 28 (between the kept snapshots) works; --seq 10 and 0 (before them) exit 4 and write nothing"
stop_rilld

# ----------------------------------------------------------------------
echo "step 4: backups"
D4=$TMP/d4
BK=$TMP/backup
start_rilld s6 "$D4" --segment-max-age-ms 1h --backup "$BK"
G=$(names "$D4/generations")
SNAPDIR=$D4/generations/$G/snapshots
LOGDIR=$D4/generations/$G/log
put_keys 1 6
expect POST /v1/snapshots 200 -H "Authorization: Bearer $TOKEN"
jcheck "$TMP/body" 'd["seq"] == 6'
put_keys 7 12
SEALED=$(names "$LOGDIR" | head -n -1)
[[ $(echo "$SEALED" | wc -w) -ge 2 ]] || fail "only $(echo "$SEALED" | wc -w) segments sealed after 12 writes: $(names "$LOGDIR" | tr '\n' ' ')"
BKG=$BK/generations/$G
backup_has_log() {
	[[ -d $BKG/log && $(names "$BKG/log") == "$SEALED" ]]
}
poll "the backup of the sealed segments ($(echo "$SEALED" | tr '\n' ' '))" backup_has_log
# The newest seq the backup holds: the end of the last sealed segment.
ACTIVE_FIRST=$((16#$(names "$LOGDIR" | tail -n 1 | cut -c1-16)))
E=$((ACTIVE_FIRST - 1))
[[ $E -ge 8 ]] || fail "the backup would hold seqs up to $E only"
lag_is() {
	http GET /metrics
	grep -qx "rill_backup_lag_seqs $((12 - E))" "$TMP/body"
}
poll "rill_backup_lag_seqs $((12 - E))" lag_is
cmp "$BKG/GENERATION" "$D4/generations/$G/GENERATION" || fail "the backup's GENERATION differs"
[[ $(names "$BKG/snapshots") == "$(names "$SNAPDIR")" ]] ||
	fail "backup snapshots $(names "$BKG/snapshots" | tr '\n' ' '), data dir $(names "$SNAPDIR" | tr '\n' ' ')"
for f in $(names "$SNAPDIR"); do
	cmp "$BKG/snapshots/$f" "$SNAPDIR/$f" || fail "the backup's snapshot $f differs"
done
for f in $SEALED; do
	cmp "$BKG/log/$f" "$LOGDIR/$f" || fail "the backup's segment $f differs"
done
[[ $(names "$BK") == generations && $(names "$BK/generations") == "$G" && $(names "$BKG" | tr '\n' ' ') == "GENERATION log snapshots " ]] ||
	fail "the backup holds more than the generation: $(cd "$BK" && find . | sort | tr '\n' ' ')"
pass "the backup mirrors generations/$G: GENERATION, snapshots $(names "$SNAPDIR" | tr '\n' ' ')and the sealed segments (up to seq $E), byte for byte; rill_backup_lag_seqs $((12 - E))"

ctl 0 validate --backup "$BK" --url "$URL"
grep -q '^valid: ' "$TMP/out" || fail "validate says: $(cat "$TMP/out")"
ctl 0 validate --backup "$BK" --url "$URL" --json
jcheck "$TMP/out" 'd["valid"] is True and d["seq"] == 12 and d["backup_hash"] == d["node_hash"] and d["snapshot_seq"] == 6 and d["records"] == 6' "validate --json"
pass "rillctl validate: the backup is valid against the node ($(head -c 120 "$TMP/out"))"

# Damaged copies of the backup: a byte flipped in the newest snapshot, a
# byte flipped in the segment after it, the newest snapshot cut short.
cp -a "$BK" "$TMP/bad_snap"
BAD_SNAP=$TMP/bad_snap/generations/$G/snapshots/$(snap_name 6)
flip "$BAD_SNAP"
cp -a "$BK" "$TMP/bad_seg"
SEG_AFTER=
for f in $(names "$BKG/log"); do
	if ((16#${f:0:16} <= 7)); then
		SEG_AFTER=$f
	fi
done
[[ -n $SEG_AFTER ]] || fail "no backup segment holds seq 7"
BAD_SEG=$TMP/bad_seg/generations/$G/log/$SEG_AFTER
flip "$BAD_SEG"
cp -a "$BK" "$TMP/bad_trunc"
BAD_TRUNC=$TMP/bad_trunc/generations/$G/snapshots/$(snap_name 6)
truncate -s $(($(stat -c %s "$BAD_TRUNC") / 2)) "$BAD_TRUNC"
for bad in "$BAD_SNAP" "$BAD_SEG" "$BAD_TRUNC"; do
	copy=${bad#"$TMP"/}
	copy=$TMP/${copy%%/*}
	what="$(basename "$bad") in ${copy#"$TMP"/}"
	ctl 1 validate --backup "$copy" --url "$URL"
	grep -q '^valid' "$TMP/out" && fail "validate of $copy printed: $(cat "$TMP/out")"
	err_has "$(basename "$bad")"
	ctl 5 restore --from "$copy" --to "$TMP/r_bad"
	err_has "$bad"
	nothing_at "$TMP/r_bad"
	pass "$what damaged: validate exits 1, restore exits 5 naming the file and writes nothing"
done

# Damage in a file only a point-in-time restore needs (the first segment,
# before the newest snapshot) fails validate too, while the newest state
# still restores.
cp -a "$BK" "$TMP/bad_old"
OLD_SEG=$(names "$BKG/log" | head -n 1)
NEXT_SEG=$(names "$BKG/log" | sed -n 2p)
[[ -n $NEXT_SEG ]] && ((16#${NEXT_SEG:0:16} <= 7)) ||
	fail "the backup's first segment does not end before the newest snapshot (seq 6)"
flip "$TMP/bad_old/generations/$G/log/$OLD_SEG"
ctl 1 validate --backup "$TMP/bad_old" --url "$URL"
err_has "$OLD_SEG"
ctl 0 restore --from "$TMP/bad_old" --to "$TMP/r_old"
rm -rf "$TMP/r_old"
pass "a byte flipped in an old segment: validate exits 1 naming it; the newest state still restores"

# A snapshot damaged on disk in the data dir is never served as whole.
flip "$SNAPDIR/$(snap_name 6)"
expect GET "/v1/snapshots/$G/6" 500
jcheck "$TMP/body" 'd["error"] == "data_loss" and isinstance(d["message"], str)' "the download of a damaged snapshot"
http GET /metrics
grep -qE '^rill_errors_total\{kind="corrupt"\} [1-9]' "$TMP/body" ||
	fail "rill_errors_total{kind=\"corrupt\"} did not count the damaged snapshot: $(grep rill_errors_total "$TMP/body" | tr '\n' ' ')"
pass "GET of a snapshot damaged on disk: 500 data_loss, counted in rill_errors_total{kind=\"corrupt\"}"

stop_rilld
rm -rf "$D4"
ctl 0 restore --from "$BK" --to "$TMP/restored" --json
jcheck "$TMP/out" 'd["seq"] == int(env["E"]) and d["snapshot_seq"] == 6 and d["parent"] == env["G"] and d["keys"] == int(env["E"])' "restore from the backup"
cp "$TMP/out" "$TMP/restored.json"
start_rilld s7 "$TMP/restored" --segment-max-age-ms 1h
for ((i = 1; i <= E; i++)); do
	ctl 0 --url "$URL" get "$(key "$i")"
	[[ $(cat "$TMP/out") == "$(val "$i")" ]] || fail "get $(key "$i") on the restored node: '$(head -c 60 "$TMP/out")...'"
done
ctl 1 --url "$URL" get "$(key $((E + 1)))"
expect_keys "$URL" "$E"
expect GET /v1/generations 200
jcheck "$TMP/body" 'd["current"] != env["G"] and [(g["id"], g["parent"], g["parent_seq"]) for g in d["generations"] if g["current"]] == [(d["current"], env["G"], int(env["E"]))]' \
	"the restored node's generation"
expect GET /v1/hash 200
jcheck "$TMP/body" '(lambda r: d["seq"] == int(env["E"]) and d["hash"] == r["hash"] and d["generation"] == r["generation"])(json.load(open(env["TMP"] + "/restored.json")))' \
	"the restored node's hash against restore's"
expect GET /v1/snapshots 200
jcheck "$TMP/body" '(lambda r: [(s["generation"], s["seq"], s["hash"]) for s in d["snapshots"]] == [(r["generation"], int(env["E"]), r["hash"])])(json.load(open(env["TMP"] + "/restored.json")))' \
	"the restored node's base snapshot"
pass "data dir deleted; restored from the backup: rilld serves keys 1..$E (rillctl get; the backup's newest seq) and no more, a new generation whose parent is $G at $E, with its base snapshot and the hash restore printed"
ctl 0 validate --backup "$BK" --url "$URL"
pass "the backup validates against the node restored from it"
ctl 0 restore --from "$URL" --to "$TMP/from_node" --json
jcheck "$TMP/out" 'd["seq"] == int(env["E"]) and d["keys"] == int(env["E"])' "restore from the node"
ctl 4 restore --from "$URL" --to "$TMP/from_node_far" --seq 1000
nothing_at "$TMP/from_node_far"
stop_rilld
pass "restore from the node's URL gives seq $E; --seq 1000 over RPC exits 4"

# A copy that fails is tried again, without a restart: the backup's log
# dir is a plain file while segments are sealed, then comes back.
D4B=$TMP/d4b
BK2=$TMP/backup2
start_rilld s6b "$D4B" --segment-max-age-ms 1h --backup "$BK2"
G2=$(names "$D4B/generations")
LOG2=$D4B/generations/$G2/log
BLOG2=$BK2/generations/$G2/log
put_keys 1 6
sealed2() { names "$LOG2" | head -n -1; }
backup2_whole() { [[ -d $BLOG2 && $(names "$BLOG2") == "$(sealed2)" ]]; }
poll "the second backup of the sealed segments" backup2_whole
mv "$BLOG2" "$TMP/blog2-away"
: >"$BLOG2"
put_keys 7 14
backup_failed() {
	http GET /metrics
	grep -qE '^rill_errors_total\{kind="backup"\} [1-9]' "$TMP/body"
}
poll "a failed backup copy counted" backup_failed
rm "$BLOG2"
mv "$TMP/blog2-away" "$BLOG2"
poll "the segments the backup missed copied again ($(sealed2 | tr '\n' ' '))" backup2_whole
stop_rilld
pass "a failed backup copy is tried again: once the backup's log dir is back, it holds every sealed segment"

# ----------------------------------------------------------------------
echo "step 5: bad restore input"
mkdir "$TMP/exists"
echo keep >"$TMP/exists/marker"
before=$(ls -la --time-style=full-iso "$TMP/exists")
ctl 4 restore --from "$D3" --to "$TMP/exists"
err_has "already exists"
[[ $(ls -la --time-style=full-iso "$TMP/exists") == "$before" && $(cat "$TMP/exists/marker") == keep ]] ||
	fail "a refused restore changed $TMP/exists"
pass "restore to an existing --to: exit 4, nothing changed there"

ctl 4 restore --from "$D3" --to "$TMP/far" --seq 1000
err_has "beyond"
nothing_at "$TMP/far"
pass "restore --seq 1000 (beyond the history, which ends at 32): exit 4, nothing written"

ctl 4 restore --from "$D3" --to "$TMP/early" --time 2000-01-01T00:00:00Z
nothing_at "$TMP/early"
pass "restore --time 2000-01-01T00:00:00Z (before the oldest snapshot): exit 4, nothing written"

# Truncated snapshots in copies of the data dir (snapshots 24 and 32,
# the log from 25 to 32).
G3=$(names "$D3/generations")
cp -a "$D3" "$TMP/d3_new"
TRUNC=$TMP/d3_new/generations/$G3/snapshots/$(snap_name 32)
truncate -s $(($(stat -c %s "$TRUNC") / 2)) "$TRUNC"
ctl 5 restore --from "$TMP/d3_new" --to "$TMP/r_trunc"
err_has "$TRUNC"
nothing_at "$TMP/r_trunc"
ctl 0 restore --from "$TMP/d3_new" --to "$TMP/r_trunc28" --seq 28 --json
jcheck "$TMP/out" 'd["seq"] == 28 and d["snapshot_seq"] == 24' "restore --seq 28 beside a damaged snapshot 32"
pass "the newest snapshot truncated: restore of the newest state exits 5 naming it and writes nothing; --seq 28 (before it) still works"
cp -a "$D3" "$TMP/d3_old"
TRUNC=$TMP/d3_old/generations/$G3/snapshots/$(snap_name 24)
truncate -s 100 "$TRUNC"
ctl 5 restore --from "$TMP/d3_old" --to "$TMP/r_trunc" --seq 28
err_has "$TRUNC"
nothing_at "$TMP/r_trunc"
pass "the snapshot a restore to seq 28 needs truncated: exit 5 naming it, nothing written"

echo "$PASSED passed, 0 failed"
