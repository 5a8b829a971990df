#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# bad_input_test.sh RILLD PROTO_DIR
#
# Sends malformed and out-of-limit requests to a real rilld with nngcat, as
# raw bytes, and checks each reply's code and message (decoded with
# protoc): undecodable bytes, an envelope naming no RPC, an unknown RPC,
# empty and oversized keys and values, bad batches and scans. None of them
# may write anything, and the server must go on serving: afterwards Status
# shows last_seq 0 and a valid Put gets seq 1. Last, a request over the
# receive limit gets no reply (nng drops the connection) and the server
# still answers. Then FetchLog from the future, from a generation the node
# never had, with max_bytes 0 and 0xffffffff, and GetSnapshot chunks at and
# past the end of the file: each gets its clear code and details.
set -euo pipefail
# Each rilld binds a free port for its admin API, not the default one.
export RILL_ADMIN_LISTEN=127.0.0.1:0
. "$(dirname "$0")/../lib/common.sh"

if [[ $# -ne 2 ]]; then
	echo "usage: $0 RILLD PROTO_DIR" >&2
	exit 2
fi
RILLD=$1
PROTO_DIR=$2
PROTO=rill/v1/rill.proto

require_tools nngcat protoc python3
require_executable "$RILLD"

make_tmp rill-bad-input

# encode TEXT FILE: a rill.v1.Request in protobuf text format to FILE.
encode() {
	printf '%s\n' "$1" |
		protoc --proto_path="$PROTO_DIR" "$PROTO" \
			--encode=rill.v1.Request >"$2" ||
		fail "protoc cannot encode the request: $1"
}

# rpc REQFILE OUTFILE: send REQFILE as one message, decode the reply into
# OUTFILE (empty when there was no reply). Returns 1 when there was none.
rpc() {
	local req=$1 out=$2
	nngcat --req --dial "$URL" --file "$req" --raw --recv-timeout 3 \
		>"$out.bin" 2>"$out.nngcat-err" || true
	if [[ ! -s $out.bin ]]; then
		: >"$out"
		return 1
	fi
	protoc --proto_path="$PROTO_DIR" "$PROTO" --decode=rill.v1.Response \
		<"$out.bin" >"$out" ||
		fail "the reply to $req does not decode as a rill.v1.Response"
	return 0
}

# field FILE PATH: the value of PATH (such as code, details.limit,
# status.last_seq) in the decoded reply FILE, quotes removed; empty when
# absent (protobuf text format leaves out fields at their default).
field() {
	awk -v want="$2" '
		/^ *[a-z_]+ \{$/ { stack[depth++] = $1; next }
		/^ *\}$/ { depth--; next }
		{
			line = $0
			sub(/^ +/, "", line)
			i = index(line, ": ")
			if (i == 0) next
			name = substr(line, 1, i - 1)
			path = ""
			for (d = 0; d < depth; d++) path = path stack[d] "."
			if (path name == want) {
				v = substr(line, i + 2)
				if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2)
				print v
				exit
			}
		}' "$1"
}

# expect_error NAME REQFILE CODE SUBSTRING...: the reply has code CODE and
# a message holding each SUBSTRING.
expect_error() {
	local name=$1 req=$2 code=$3
	shift 3
	local out=$TMP/$name.out
	echo "check: $name -> $code, message mentions: $*"
	rpc "$req" "$out" || fail "$name: no reply"
	local got msg
	got=$(field "$out" code)
	msg=$(field "$out" message)
	[[ $got == "$code" ]] ||
		fail "$name: code is '${got:-OK}', want $code (reply: $(tr '\n' ' ' <"$out"))"
	for s in "$@"; do
		[[ $msg == *"$s"* ]] ||
			fail "$name: message '$msg' does not say '$s'"
	done
	pass "$name: $code \"$msg\""
}

# status_last_seq: asks Status and sets LAST_SEQ (0 when left out).
status_last_seq() {
	local out=$TMP/status.out
	rpc "$TMP/status.bin" "$out" || fail "Status got no reply"
	[[ -z $(field "$out" code) ]] ||
		fail "Status failed: $(tr '\n' ' ' <"$out")"
	grep -q '^status {' "$out" || fail "Status reply has no status body"
	LAST_SEQ=$(field "$out" status.last_seq)
	LAST_SEQ=${LAST_SEQ:-0}
}

# answers_status: a Status request on URL gets an OK reply (while the
# node starts, it answers UNAVAILABLE).
answers_status() {
	rpc "$TMP/status.bin" "$TMP/ready.out" &&
		[[ -z $(field "$TMP/ready.out" code) ]] &&
		grep -q '^status {' "$TMP/ready.out"
}

MAX_KEY=1024
MAX_VALUE=4096
MAX_REQUEST=65536
PORT=$(free_port)
URL=tcp://127.0.0.1:$PORT

encode 'status {}' "$TMP/status.bin"

echo "step: start rilld on $URL (max key $MAX_KEY, value $MAX_VALUE, request $MAX_REQUEST bytes)"
"$RILLD" --data-dir "$TMP/data" --listen "$URL" \
	--max-key-bytes "$MAX_KEY" --max-value-bytes "$MAX_VALUE" \
	--max-request-bytes "$MAX_REQUEST" 2>"$TMP/rilld.err" &
RILLD_PID=$!
wait_ready "$RILLD_PID" start answers_status
pass "rilld answers Status"

echo "step: malformed envelopes"
printf '\x01\x02\x03garbage' >"$TMP/garbage.bin"
expect_error undecodable "$TMP/garbage.bin" INVALID_ARGUMENT "does not decode"
# Field 11 (put), length-delimited, says 16 bytes follow but 2 do.
printf '\x5a\x10ab' >"$TMP/truncated.bin"
expect_error truncated "$TMP/truncated.bin" INVALID_ARGUMENT "does not decode"
encode 'request_id: 5 client_id: 42' "$TMP/nobody.bin"
expect_error no_body "$TMP/nobody.bin" INVALID_ARGUMENT "names no RPC"
[[ $(field "$TMP/no_body.out" request_id) == 5 ]] ||
	fail "no_body: the reply does not carry request_id 5"
pass "no_body: the reply carries request_id 5"
: >"$TMP/empty.bin"
expect_error empty_message "$TMP/empty.bin" INVALID_ARGUMENT "names no RPC"
# request_id 7, then field 99 length-delimited: tag (99 << 3 | 2) = 794,
# varint 0x9a 0x06, length 3, "abc".
printf '\x08\x07\x9a\x06\x03abc' >"$TMP/unknown.bin"
expect_error unknown_rpc "$TMP/unknown.bin" UNIMPLEMENTED "unknown RPC" "99"
[[ $(field "$TMP/unknown_rpc.out" request_id) == 7 ]] ||
	fail "unknown_rpc: the reply does not carry request_id 7"
pass "unknown_rpc: the reply carries request_id 7"

echo "step: keys and values"
encode 'request_id: 10 client_id: 42 put { value: "v" }' "$TMP/put_empty.bin"
expect_error put_empty_key "$TMP/put_empty.bin" INVALID_ARGUMENT put "empty"

long_key=$(head -c $((MAX_KEY + 1)) /dev/zero | tr '\0' k)
encode "request_id: 11 client_id: 42 put { key: \"$long_key\" value: \"v\" }" \
	"$TMP/put_long_key.bin"
expect_error put_key_over_limit "$TMP/put_long_key.bin" INVALID_ARGUMENT \
	"$((MAX_KEY + 1)) bytes" "limit of $MAX_KEY"
[[ $(field "$TMP/put_key_over_limit.out" details.limit) == "$MAX_KEY" ]] ||
	fail "put_key_over_limit: details.limit is not $MAX_KEY"
pass "put_key_over_limit: details.limit is $MAX_KEY"

# A key exactly at the limit is not refused for its size: it is checked
# with a Get (which writes nothing) and must be NOT_FOUND.
at_limit_key=$(head -c "$MAX_KEY" /dev/zero | tr '\0' k)
encode "request_id: 12 get { key: \"$at_limit_key\" }" "$TMP/get_at_limit.bin"
expect_error get_key_at_limit "$TMP/get_at_limit.bin" NOT_FOUND "not found"

long_value=$(head -c $((MAX_VALUE + 1)) /dev/zero | tr '\0' v)
encode "request_id: 13 client_id: 42 put { key: \"k\" value: \"$long_value\" }" \
	"$TMP/put_long_value.bin"
expect_error put_value_over_limit "$TMP/put_long_value.bin" INVALID_ARGUMENT \
	"value" "$((MAX_VALUE + 1)) bytes" "limit of $MAX_VALUE"
[[ $(field "$TMP/put_value_over_limit.out" details.limit) == "$MAX_VALUE" ]] ||
	fail "put_value_over_limit: details.limit is not $MAX_VALUE"
pass "put_value_over_limit: details.limit is $MAX_VALUE"

echo "step: write batches"
# Ops are numbered from 0 in messages: op 2 is the third.
encode 'request_id: 14 client_id: 42 write { batch {
	ops { type: PUT key: "a" value: "1" }
	ops { type: DELETE key: "b" }
	ops { type: PUT value: "3" } } }' "$TMP/write_empty_key.bin"
expect_error write_op2_empty_key "$TMP/write_empty_key.bin" INVALID_ARGUMENT \
	"op 2" "empty"
encode "request_id: 15 client_id: 42 write { batch {
	ops { type: PUT key: \"a\" value: \"1\" }
	ops { type: PUT key: \"b\" value: \"$long_value\" } } }" \
	"$TMP/write_long_value.bin"
expect_error write_op1_value_over_limit "$TMP/write_long_value.bin" \
	INVALID_ARGUMENT "op 1" "limit of $MAX_VALUE"
encode 'request_id: 23 client_id: 42 write { batch {
	ops { type: PUT key: "a" value: "1" }
	ops { type: 7 key: "b" } } }' "$TMP/write_bad_type.bin"
expect_error write_op1_unknown_type "$TMP/write_bad_type.bin" INVALID_ARGUMENT \
	"op 1" "unknown op type 7"
encode 'request_id: 16 client_id: 42 write { batch {} }' "$TMP/write_empty.bin"
expect_error write_empty_batch "$TMP/write_empty.bin" INVALID_ARGUMENT \
	"batch is empty"
encode 'request_id: 17 client_id: 42 write {}' "$TMP/write_nobatch.bin"
expect_error write_no_batch "$TMP/write_nobatch.bin" INVALID_ARGUMENT \
	"batch is empty"

echo "step: scan, delete, get"
encode 'request_id: 18 scan { start: "b" end: "a" }' "$TMP/scan_bad.bin"
expect_error scan_start_after_end "$TMP/scan_bad.bin" INVALID_ARGUMENT \
	"start is after end"
encode "request_id: 19 scan { start: \"$long_key\" }" "$TMP/scan_long.bin"
expect_error scan_bound_over_limit "$TMP/scan_long.bin" INVALID_ARGUMENT \
	"key limit of $MAX_KEY"
encode 'request_id: 20 client_id: 42 delete {}' "$TMP/delete_empty.bin"
expect_error delete_empty_key "$TMP/delete_empty.bin" INVALID_ARGUMENT \
	delete "empty"
encode 'request_id: 21 get {}' "$TMP/get_empty.bin"
expect_error get_empty_key "$TMP/get_empty.bin" INVALID_ARGUMENT get "empty"
encode "request_id: 22 get { key: \"$long_key\" }" "$TMP/get_long.bin"
expect_error get_key_over_limit "$TMP/get_long.bin" INVALID_ARGUMENT \
	"limit of $MAX_KEY"

echo "check: nothing was written (Status last_seq is 0)"
kill -0 "$RILLD_PID" 2>/dev/null || fail "rilld died during the bad requests"
status_last_seq
[[ $LAST_SEQ == 0 ]] || fail "last_seq is $LAST_SEQ after refused requests, want 0"
pass "last_seq is 0"

echo "check: a valid Put still succeeds with seq 1"
encode 'request_id: 100 client_id: 42 put { key: "k" value: "v" }' "$TMP/put_ok.bin"
rpc "$TMP/put_ok.bin" "$TMP/put_ok.out" || fail "valid Put got no reply"
[[ -z $(field "$TMP/put_ok.out" code) ]] ||
	fail "valid Put failed: $(tr '\n' ' ' <"$TMP/put_ok.out")"
seq=$(field "$TMP/put_ok.out" put.seq)
[[ $seq == 1 ]] || fail "valid Put got seq '${seq}', want 1"
pass "valid Put committed at seq 1"

echo "check: a request over the limit ($MAX_REQUEST bytes) gets RESOURCE_EXHAUSTED"
over_value=$(head -c $((100 * 1024)) /dev/zero | tr '\0' b)
encode "request_id: 102 client_id: 42 put { key: \"over\" value: \"$over_value\" }" \
	"$TMP/over.bin"
rpc "$TMP/over.bin" "$TMP/over.out" || fail "an over-limit request got no reply"
code=$(field "$TMP/over.out" code)
[[ $code == RESOURCE_EXHAUSTED ]] || fail "over-limit request: code '$code'"
grep -q "over the limit of $MAX_REQUEST" "$TMP/over.out" ||
	fail "over-limit request: message does not name the limit"
[[ $(field "$TMP/over.out" details.limit) == "$MAX_REQUEST" ]] ||
	fail "over-limit request: details.limit is not $MAX_REQUEST"
pass "a $(stat -c %s "$TMP/over.bin")-byte request is refused with the limit"

echo "check: a request over twice the limit gets no reply (nng drops it)"
big_value=$(head -c $((200 * 1024)) /dev/zero | tr '\0' b)
encode "request_id: 101 client_id: 42 put { key: \"big\" value: \"$big_value\" }" \
	"$TMP/big.bin"
size=$(stat -c %s "$TMP/big.bin")
echo "  sending $size bytes"
if rpc "$TMP/big.bin" "$TMP/big.out"; then
	fail "an oversized request got a reply: $(tr '\n' ' ' <"$TMP/big.out")"
fi
pass "no reply to a $size-byte request (nng dropped it)"

echo "check: rilld is alive and still answers Status, last_seq unchanged"
kill -0 "$RILLD_PID" 2>/dev/null || fail "rilld died after the oversized request"
status_last_seq
[[ $LAST_SEQ == 1 ]] || fail "last_seq is $LAST_SEQ after the oversized request, want 1"
pass "rilld answers Status, last_seq is 1"

echo "step: FetchLog and GetSnapshot positions"
rpc "$TMP/status.bin" "$TMP/gen.out" || fail "Status got no reply"
GEN=$(field "$TMP/gen.out" status.generation)
[[ $GEN =~ ^[0-9a-f]{16}$ ]] || fail "Status names no generation: '$GEN'"
# A random generation: not the node's, nor in its history.
OTHER_GEN=$GEN
while [[ $OTHER_GEN == "$GEN" ]]; do
	OTHER_GEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
done

encode 'request_id: 200 fetch_log { after_seq: 1000 }' "$TMP/fetch_future.bin"
expect_error fetch_from_the_future "$TMP/fetch_future.bin" OUT_OF_RANGE \
	"seq 1000" "past the last committed seq 1"
[[ $(field "$TMP/fetch_from_the_future.out" details.last_seq) == 1 ]] ||
	fail "fetch_from_the_future: details.last_seq is not 1"
pass "fetch_from_the_future: details.last_seq is 1"
encode "request_id: 201 fetch_log { generation: \"$GEN\" after_seq: 2 }" \
	"$TMP/fetch_future_gen.bin"
expect_error fetch_from_the_future_own_generation "$TMP/fetch_future_gen.bin" \
	OUT_OF_RANGE "past the last committed seq 1"

encode "request_id: 202 fetch_log { generation: \"$OTHER_GEN\" after_seq: 0 }" \
	"$TMP/fetch_unknown_gen.bin"
expect_error fetch_unknown_generation "$TMP/fetch_unknown_gen.bin" \
	FAILED_PRECONDITION "$OTHER_GEN" "is not in this node" "start again from a snapshot"
[[ -z $(field "$TMP/fetch_unknown_generation.out" details.fork_seq) ]] ||
	fail "fetch_unknown_generation: details.fork_seq is not 0"
[[ $(field "$TMP/fetch_unknown_generation.out" details.generation) == "$GEN" ]] ||
	fail "fetch_unknown_generation: details.generation is not $GEN"
pass "fetch_unknown_generation: fork_seq 0, details.generation $GEN"
encode 'request_id: 203 fetch_log { generation: "not-hex" }' \
	"$TMP/fetch_bad_gen.bin"
expect_error fetch_malformed_generation "$TMP/fetch_bad_gen.bin" \
	INVALID_ARGUMENT "not 16 hex digits"

# max_bytes 0 means the default, a huge one the cap: both serve the record.
for mb in 0 4294967295; do
	encode "request_id: 204 fetch_log { after_seq: 0 max_bytes: $mb }" \
		"$TMP/fetch_mb_$mb.bin"
	rpc "$TMP/fetch_mb_$mb.bin" "$TMP/fetch_mb_$mb.out" ||
		fail "fetch_max_bytes_$mb: no reply"
	out=$TMP/fetch_mb_$mb.out
	[[ -z $(field "$out" code) ]] ||
		fail "fetch_max_bytes_$mb: $(tr '\n' ' ' <"$out")"
	[[ $(field "$out" fetch_log.records.seq) == 1 &&
		$(field "$out" fetch_log.last_seq) == 1 ]] ||
		fail "fetch_max_bytes_$mb: want record 1 and last_seq 1: $(tr '\n' ' ' <"$out")"
	pass "fetch_max_bytes_$mb: OK with record 1"
done

# Nothing after the last seq: the long-poll ends empty, with last_seq.
encode 'request_id: 205 fetch_log { after_seq: 1 wait_ms: 200 }' \
	"$TMP/fetch_wait.bin"
rpc "$TMP/fetch_wait.bin" "$TMP/fetch_wait.out" || fail "fetch_long_poll: no reply"
[[ -z $(field "$TMP/fetch_wait.out" code) &&
	-z $(field "$TMP/fetch_wait.out" fetch_log.records.seq) &&
	$(field "$TMP/fetch_wait.out" fetch_log.last_seq) == 1 ]] ||
	fail "fetch_long_poll: want OK, no records, last_seq 1: $(tr '\n' ' ' <"$TMP/fetch_wait.out")"
pass "fetch_long_poll: OK, empty, last_seq 1"

# The node's newest snapshot (its first is taken at start), then chunks
# at its end (empty) and past it (refused).
encode 'request_id: 206 get_snapshot { max_bytes: 1 }' "$TMP/snap_first.bin"
for ((i = 0; i < 100; i++)); do
	rpc "$TMP/snap_first.bin" "$TMP/snap_first.out" ||
		fail "get_snapshot: no reply"
	[[ $(field "$TMP/snap_first.out" code) == NOT_FOUND ]] || break
	sleep 0.05 # the first snapshot is being written
done
[[ -z $(field "$TMP/snap_first.out" code) ]] ||
	fail "get_snapshot: $(tr '\n' ' ' <"$TMP/snap_first.out")"
SNAP_SEQ=$(field "$TMP/snap_first.out" get_snapshot.seq)
SNAP_SEQ=${SNAP_SEQ:-0}
SNAP_SIZE=$(field "$TMP/snap_first.out" get_snapshot.total_size)
[[ $SNAP_SIZE -gt 0 ]] || fail "get_snapshot: total_size '$SNAP_SIZE'"
pass "get_snapshot: snapshot at seq $SNAP_SEQ, $SNAP_SIZE bytes"
encode "request_id: 207 get_snapshot { generation: \"$GEN\" seq: $SNAP_SEQ offset: $SNAP_SIZE }" \
	"$TMP/snap_end.bin"
rpc "$TMP/snap_end.bin" "$TMP/snap_end.out" || fail "get_snapshot at the end: no reply"
[[ -z $(field "$TMP/snap_end.out" code) &&
	-z $(field "$TMP/snap_end.out" get_snapshot.data) ]] ||
	fail "get_snapshot at the end: want OK and no data: $(tr '\n' ' ' <"$TMP/snap_end.out")"
pass "get_snapshot at offset $SNAP_SIZE (the end): OK, no data"
for off in $((SNAP_SIZE + 1)) 18446744073709551615; do
	encode "request_id: 208 get_snapshot { generation: \"$GEN\" seq: $SNAP_SEQ offset: $off }" \
		"$TMP/snap_past_$off.bin"
	expect_error "snapshot_chunk_past_the_end_$off" "$TMP/snap_past_$off.bin" \
		OUT_OF_RANGE "offset $off" "past the end" "$SNAP_SIZE bytes"
done

echo "check: the position errors wrote nothing (last_seq still 1)"
status_last_seq
[[ $LAST_SEQ == 1 ]] || fail "last_seq is $LAST_SEQ, want 1"
pass "last_seq is 1"

echo "check: rilld exits 0 on SIGTERM (no leak, no error)"
stop_pid "$RILLD_PID" rilld
RILLD_PID=
[[ $STOP_RC == 0 ]] || fail "rilld exited $STOP_RC after SIGTERM (see its stderr above)"
pass "rilld exited 0"

echo "$PASSED passed, 0 failed"
