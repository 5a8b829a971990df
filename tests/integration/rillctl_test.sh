#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# rillctl_test.sh RILLCTL RILLD
#
# rillctl as a shell user meets it, against a real rilld on a free
# loopback port: put, get, del, scan and status in text and --json form;
# escaped and hex keys and values round trip, NUL bytes included; exit
# codes: 0 done, 1 key not found, 2 usage error (usage on stderr), 3 for
# a server out of reach, 4 for a request the server refuses. rilld stops
# by its pid with SIGTERM at the end and must exit 0.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

if [[ $# -ne 2 ]]; then
	echo "usage: $0 RILLCTL RILLD" >&2
	exit 2
fi
RILLCTL=$1
RILLD=$2

require_tools python3 curl
require_executable "$RILLCTL" "$RILLD"

# The test sets every RILL_* variable it needs itself.
unset_rill_vars
# Each rilld binds a free port for its admin API, not the default one.
export RILL_ADMIN_LISTEN=127.0.0.1:0

make_tmp rill-ctl

# ctl WANT_RC ARGS...: run rillctl with ARGS on the test's server; its
# stdout goes to $TMP/out, its stderr to $TMP/err. Fails the test unless
# it exits WANT_RC without a sanitizer report.
ctl() {
	local want=$1 rc=0
	shift
	"$RILLCTL" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	if grep -qE 'LeakSanitizer|AddressSanitizer|runtime error:' "$TMP/err"; then
		fail "rillctl $*: a sanitizer reported a problem:
$(head -n 40 "$TMP/err")"
	fi
	[[ $rc -eq $want ]] ||
		fail "rillctl $*: exit $rc, want $want; stdout: $(head -c 300 "$TMP/out"); stderr: $(head -c 600 "$TMP/err")"
}

# out_is TEXT: rillctl's stdout is exactly TEXT (and a newline).
out_is() {
	local got
	got=$(cat "$TMP/out")
	[[ $got == "$1" ]] || fail "stdout is '$got', want '$1'"
}

# err_has TEXT: rillctl's stderr holds TEXT.
err_has() {
	grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(head -c 600 "$TMP/err")"
}

# json_check PYTHON_EXPR: stdout is one JSON document d for which the
# Python expression holds.
json_check() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("JSON check failed: %s on %r" % (sys.argv[2], d))' \
		"$TMP/out" "$1" || fail "JSON output: $(head -c 600 "$TMP/out")"
}

# rillctl_answers_token RILLCTL URL TOKEN: the server answers Status to
# a caller with TOKEN.
rillctl_answers_token() {
	"$1" --url "$2" --token "$3" --timeout 200 status >/dev/null 2>&1
}

# follower_has_k URL: the follower at URL holds key k (written on its
# leader).
follower_has_k() {
	"$RILLCTL" --url "$1" --token tok-b --timeout 200 get k >/dev/null 2>&1
}

# ----------------------------------------------------------------------
echo "step: usage errors exit 2 with usage on stderr"
ctl 0 --help
grep -q 'Exit status' "$TMP/out" || fail "--help does not document exit status"
ctl 2
err_has "usage: rillctl"
ctl 2 frobnicate
err_has "unknown command"
err_has "usage: rillctl"
ctl 2 get
ctl 2 put onlykey
ctl 2 get a b
ctl 2 status extra
ctl 2 --limit 3 get k
ctl 2 --timeout 0 status
ctl 2 --timeout abc status
ctl 2 --bogus status
ctl 2 get 'bad\q'
err_has "unknown escape"
ctl 2 get 'bad\x4'
ctl 2 --hex get abc
ctl 2 --url 'nosuch://x' status
ctl 2 --limit 0 scan
err_has "--limit must be above 0"
ctl 2 watch --count 0
ctl 2 get -qx k
err_has "unknown option -q"
# The history commands' numbers and times are checked as strictly.
ctl 2 restore --from "$TMP/none" --to "$TMP/r" --seq 0x5
err_has 'bad number "0x5"'
ctl 2 restore --from "$TMP/none" --to "$TMP/r" --timeout 4294967296
for t in '2026-01-01T00:00:00+1:2' '2026-01-01T00:00:00+99:99' '@nan' \
	'@inf' '@1e300' '@ 5' '@0'; do
	ctl 2 restore --from "$TMP/none" --to "$TMP/r" --time "$t"
	err_has "bad time"
done
ctl 2 restore --from "$TMP/none" --to "$TMP/r" -qx
err_has "unknown option -x"
ctl 0 restore --help
grep -q 'restore --from SRC' "$TMP/out" || fail "restore --help prints no usage"
pass "usage errors exit 2"

echo "step: a server out of reach exits 3"
DEAD_PORT=$(free_port)
ctl 3 --url "tcp://127.0.0.1:$DEAD_PORT" --timeout 300 get k
err_has "rillctl: "
ctl 3 --url "tcp://127.0.0.1:$DEAD_PORT" --timeout 300 --json status
pass "unreachable server: exit 3 with a message"

echo "step: start rilld"
PORT=$(free_port)
URL=tcp://127.0.0.1:$PORT
mkdir "$TMP/data"
# A small value limit, so that a refused write fits on a command line.
"$RILLD" --data-dir "$TMP/data" --listen "$URL" --max-value-bytes 1KiB \
	>"$TMP/rilld.out" 2>"$TMP/rilld.err" &
RILLD_PID=$!
wait_ready "$RILLD_PID" start rillctl_answers "$RILLCTL" "$URL"
export RILL_URL=$URL
pass "rilld answers on $URL (RILL_URL from here on)"

echo "step: put, get, del in text form"
ctl 0 put greeting hello
grep -qE '^seq: [0-9]+$' "$TMP/out" || fail "put prints '$(cat "$TMP/out")'"
ctl 0 get greeting
out_is hello
ctl 1 get missing
err_has "not found"
[[ ! -s $TMP/out ]] || fail "get of a missing key printed '$(cat "$TMP/out")'"
ctl 0 del greeting
grep -qE '^seq: [0-9]+$' "$TMP/out" || fail "del prints '$(cat "$TMP/out")'"
ctl 1 get greeting
ctl 0 del greeting
pass "put, get, del; get of a missing key exits 1"

echo "step: the same in --json form"
ctl 0 --json put jkey 'va"lue'
json_check 'isinstance(d["seq"], int) and d["seq"] > 0'
ctl 0 get jkey --json
json_check 'd == {"key": "jkey", "value": "va\"lue", "found": True}'
ctl 1 --json get nokey
json_check 'd == {"key": "nokey", "found": False}'
ctl 0 --json del jkey
json_check 'isinstance(d["seq"], int)'
pass "--json put, get, del"

echo "step: binary keys and values round trip"
ctl 0 put 'bin\x00key' 'a\x00b\tc\\d\ne\xff'
ctl 0 get 'bin\x00key'
out_is 'a\x00b\tc\\d\ne\xff'
# What rillctl prints, it accepts: the printed form stored again is the
# same bytes.
ctl 0 put copy "$(cat "$TMP/out")"
ctl 0 --hex get 636f7079
out_is 61006209635c640a65ff
ctl 0 --hex get 62696e006b6579
out_is 61006209635c640a65ff
ctl 0 --hex put 00ff 0000
ctl 0 get '\x00\xff'
out_is '\x00\x00'
ctl 0 --json get 'bin\x00key'
json_check 'd["value"] == "a\\x00b\\tc\\\\d\\ne\\xff"'
pass "escaped text, hex and JSON carry NUL and other bytes"

echo "step: scan"
for k in s1 s2 s3 s4 s5; do
	ctl 0 put "scan/$k" "v-$k"
done
ctl 0 scan --prefix scan/
out_is "$(printf 'scan/s1\tv-s1\nscan/s2\tv-s2\nscan/s3\tv-s3\nscan/s4\tv-s4\nscan/s5\tv-s5')"
ctl 0 scan scan/s2 scan/s4
out_is "$(printf 'scan/s2\tv-s2\nscan/s3\tv-s3')"
ctl 0 scan --prefix scan/ --reverse --limit 2
out_is "$(printf 'scan/s5\tv-s5\nscan/s4\tv-s4')"
ctl 0 scan scan/s2 scan/s5 --reverse
out_is "$(printf 'scan/s4\tv-s4\nscan/s3\tv-s3\nscan/s2\tv-s2')"
ctl 0 --json scan --prefix scan/ --limit 3
json_check 'd == [{"key": "scan/s%d" % i, "value": "v-s%d" % i} for i in (1, 2, 3)]'
ctl 0 --json scan --prefix nothing/
json_check 'd == []'
ctl 0 scan
grep -qF "$(printf 'bin\\x00key\ta\\x00b')" "$TMP/out" ||
	fail "scan of everything lacks the binary key: $(head -c 300 "$TMP/out")"
pass "scan: range, prefix, limit, reverse, JSON"

echo "step: status"
ctl 0 status
for f in node_id role generation version last_seq applied_seq oldest_seq \
	uptime_s max_request_bytes max_key_bytes max_value_bytes; do
	grep -qE "^$f: " "$TMP/out" || fail "status lacks '$f': $(cat "$TMP/out")"
done
grep -qx 'role: leader' "$TMP/out" || fail "status: $(cat "$TMP/out")"
ctl 0 --json status
json_check 'd["role"] == "leader" and len(d["node_id"]) == 16 and d["max_value_bytes"] == 1024 and d["last_seq"] == d["applied_seq"] and d["last_seq"] >= 10 and set(d) == {"node_id", "role", "generation", "version", "last_seq", "applied_seq", "oldest_seq", "uptime_s", "max_request_bytes", "max_key_bytes", "max_value_bytes"}'
pass "status in text and JSON"

echo "step: requests the server refuses exit 4"
ctl 4 put '' value
err_has "rillctl: "
ctl 4 put big "$(head -c 2000 /dev/zero | tr '\0' v)"
err_has "limit"
ctl 4 scan b a
pass "refused requests: exit 4 with the server's message"

echo "step: a server with rpc_tokens (RILL_RPC_TOKEN)"
# RILL_URL is exported here, as a rillctl user's shell has it: rilld must
# start all the same.
TPORT=$(free_port)
TURL=tcp://127.0.0.1:$TPORT
mkdir "$TMP/tdata"
RILL_RPC_TOKEN=tok-a,tok-b "$RILLD" --data-dir "$TMP/tdata" --listen "$TURL" \
	>"$TMP/trilld.out" 2>"$TMP/trilld.err" &
RILLD_PIDS+=($!)
TRILLD_PID=$!
wait_ready "$TRILLD_PID" tstart rillctl_answers_token "$RILLCTL" "$TURL" tok-a
ctl 4 --url "$TURL" put k v
err_has "needs an auth token"
err_has "UNAUTHENTICATED"
ctl 4 --url "$TURL" --token wrong get k
err_has "not one this server accepts"
RILL_TOKEN=tok-b ctl 0 --url "$TURL" put k v
ctl 0 --url "$TURL" --token tok-a get k
out_is v
pass "no token or a wrong one: exit 4, UNAUTHENTICATED; either token works"

# A follower sends the first of its own tokens to its leader.
FPORT=$(free_port)
mkdir "$TMP/fdata"
RILL_RPC_TOKEN=tok-b "$RILLD" --data-dir "$TMP/fdata" \
	--listen "tcp://127.0.0.1:$FPORT" --follow "$TURL" \
	>"$TMP/frilld.out" 2>"$TMP/frilld.err" &
RILLD_PIDS+=($!)
FRILLD_PID=$!
wait_ready "$FRILLD_PID" follower follower_has_k "tcp://127.0.0.1:$FPORT"
# One without a token is refused by the leader, and says so.
NPORT=$(free_port)
mkdir "$TMP/ndata"
"$RILLD" --data-dir "$TMP/ndata" --listen "tcp://127.0.0.1:$NPORT" \
	--follow "$TURL" >"$TMP/nrilld.out" 2>"$TMP/nrilld.err" &
RILLD_PIDS+=($!)
NRILLD_PID=$!
wait_ready "$NRILLD_PID" tokenless grep -q "needs an auth token" \
	"$TMP/nrilld.err"
pass "a follower with a token follows; one without logs the refusal"

# The leader drops the follower's token (a rotation): the follower can no
# longer ask it anything, so it is connecting and not ready.
FADMIN=$(sed -n 's/.*ADMIN-LISTEN.*(port \([0-9]*\).*/\1/p' "$TMP/frilld.err")
[[ -n $FADMIN ]] || fail "the follower logged no admin port"
stop_pid "$TRILLD_PID" "leader"
RILL_RPC_TOKEN=tok-a "$RILLD" --data-dir "$TMP/tdata" --listen "$TURL" \
	>>"$TMP/trilld.out" 2>>"$TMP/trilld.err" &
TRILLD_PID=$!
RILLD_PIDS=("$TRILLD_PID" "$FRILLD_PID" "$NRILLD_PID") # the old one is reaped
wait_ready "$TRILLD_PID" trestart rillctl_answers_token "$RILLCTL" "$TURL" tok-a
# not_ready PORT: /ready answers 503 because the node is connecting.
not_ready() {
	local body
	body=$(curl -s -m 5 -w ' %{http_code}' "http://127.0.0.1:$1/ready") || return 1
	[[ $body == *connecting*' 503' ]]
}
# Refused by the leader (not merely cut off by its restart), and so not
# ready.
wait_ready "$FRILLD_PID" rotated grep -q "not one this server accepts" \
	"$TMP/frilld.err"
wait_ready "$FRILLD_PID" rotated not_ready "$FADMIN"
pass "the leader's tokens rotated without the follower's: it is connecting, /ready 503"

# A path JSON must escape (a quote, a backslash) comes back whole.
RILL_TOKEN=tok-a ctl 0 restore --from "$TURL" --to "$TMP/re\"st\\ored" \
	--json --quiet
json_check 'd["to"].endswith("/re\"st\\x5cored") and d["seq"] == 1'
ctl 4 restore --from "$TURL" --to "$TMP/restored2" --quiet
[[ ! -e $TMP/restored2 ]] || fail "a refused restore left $TMP/restored2"
pass "restore from the node: with the token it works, without it fails"
for pid in "$NRILLD_PID" "$FRILLD_PID" "$TRILLD_PID"; do
	stop_pid "$pid" "rilld $pid"
	[[ $STOP_RC -eq 0 ]] || fail "rilld $pid exited $STOP_RC after SIGTERM"
done
RILLD_PIDS=()

echo "step: stop rilld"
stop_pid "$RILLD_PID" rilld
RILLD_PID=
[[ $STOP_RC -eq 0 ]] || fail "rilld exited $STOP_RC after SIGTERM"
ctl 3 --timeout 300 get greeting
pass "rilld stopped; rillctl then exits 3"
echo "$PASSED passed, 0 failed"
