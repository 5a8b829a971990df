#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# netns_test.sh RILLD WRITER
#
# Followers across hosts: the leader and two followers each run in their
# own network namespace, joined by veth links to a bridge in a hub
# namespace (10.77.0.1 is the leader, .2 and .3 the followers). While
# clients in the leader's namespace write, the link to follower B is cut
# (its veth in the hub is set down) for a few seconds, then restored
# (WRITER is netns_writer, which puts with many calls in flight);
# afterwards B must have caught up without a new snapshot download and
# hold the leader's state hash at the leader's last seq, as must A.
#
# It needs root and iproute2 (CI runs as root); it never skips. The
# namespaces carry a name unique to the run and are removed at exit,
# however the test ends.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/netns.sh"

if [[ $# -ne 2 ]]; then
	echo "usage: $0 RILLD WRITER" >&2
	exit 2
fi
RILLD=$1
WRITER=$2

require_tools ip curl python3
require_executable "$RILLD" "$WRITER"
[[ $(id -u) == 0 ]] ||
	fail "this test needs root for ip netns (CI runs it as root)"

make_tmp rill-netns

# Namespaces of this run: rill-PID-RANDOM-{hub,L,A,B}.
RUN=rill-$$-$RANDOM
HUB=$RUN-hub
WRITER_PIDS=()
NODES=(L A B)
declare -A NS IP ERR PID
IP[L]=10.77.0.1
IP[A]=10.77.0.2
IP[B]=10.77.0.3
ADMIN=127.0.0.1:7401 # each node's own loopback, inside its namespace
LEADER_URL=tcp://${IP[L]}:7400

# netns_cleanup runs at exit: it kills the writers and the rillds, removes
# the namespaces (with their veths and bridge), shows the tail of every
# rilld log if the test failed, then lets common.sh's cleanup finish.
netns_cleanup() {
	local rc=$? pid n
	set +e # clean up all there is, whatever fails
	for pid in "${WRITER_PIDS[@]}" $RILLD_PID "${RILLD_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	netns_remove_all
	if [[ $rc -ne 0 ]]; then
		for n in "${NODES[@]}"; do
			if [[ -f ${ERR[$n]:-} ]]; then
				echo "--- rilld $n (${ERR[$n]}) ---" >&2
				tail -n 25 "${ERR[$n]}" >&2 || true
			fi
		done
	fi
	RILLD_ERR= # shown above
	(exit "$rc") # cleanup takes the test's status from $?
	cleanup
}
trap netns_cleanup EXIT

# inns NODE CMD...: run CMD in NODE's namespace.
inns() {
	local n=$1
	shift
	ip netns exec "${NS[$n]}" "$@"
}

# admin NODE PATH: GET PATH from NODE's admin API; the body on stdout.
admin() {
	inns "$1" curl -sf --max-time 5 "http://$ADMIN$2"
}

# json KEY: the value of KEY in the JSON object on stdin ("" if absent).
json() {
	python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1], "")
print(str(v).lower() if isinstance(v, bool) else v)' "$1"
}

# status NODE KEY: one field of NODE's /v1/status.
status() {
	admin "$1" /v1/status | json "$2"
}

echo "step: namespaces $RUN-{hub,L,A,B}, a bridge in the hub, a veth to each node"
netns_hub "$HUB"
netns_bridge br0
for n in "${NODES[@]}"; do
	NS[$n]=$RUN-$n
	netns_add "${NS[$n]}"
	netns_link "${NS[$n]}" br0 "v$n" eth0 "${IP[$n]}/24"
done
pass "3 nodes on 10.77.0.0/24 behind the hub's bridge"

# healthy NODE: NODE's admin API answers /health.
healthy() {
	admin "$1" /health >/dev/null
}

# start NODE [ARG...]: rilld in NODE's namespace on its address. It is run
# by ip netns exec itself (which execs it), so $! is rilld's pid.
start() {
	local n=$1
	shift
	ERR[$n]=$TMP/$n.err
	ip netns exec "${NS[$n]}" "$RILLD" --data-dir "$TMP/$n" \
		--listen "tcp://${IP[$n]}:7400" --admin-listen "$ADMIN" "$@" \
		2>>"${ERR[$n]}" &
	RILLD_PIDS+=($!)
	PID[$n]=$!
	wait_ready "${PID[$n]}" "rilld $n" healthy "$n"
}

# following NODE: NODE streams from the leader.
following() {
	[[ $(status "$1" follow_state) == following ]]
}

echo "step: the leader in ${NS[L]}, followers A and B in theirs"
start L
start A --follow "$LEADER_URL"
start B --follow "$LEADER_URL"
for n in A B; do
	poll 600 following "$n" ||
		fail "follower $n is not following: $(admin "$n" /v1/status || true)"
	[[ $(status "$n" leader) == "$LEADER_URL" ]] ||
		fail "follower $n names leader '$(status "$n" leader)'"
done
pass "A and B follow $LEADER_URL across the bridge"

# last_seq NODE: NODE's last seq.
last_seq() {
	status "$1" last_seq
}

# seq_past NODE N: NODE's last seq is past N.
seq_past() {
	[[ $(last_seq "$1") -gt $2 ]]
}

echo "step: 2 writers in the leader's namespace, 16 puts in flight each"
for id in 1 2; do
	ip netns exec "${NS[L]}" "$WRITER" "$LEADER_URL" "w$id" "$TMP/stop" \
		>"$TMP/writer.$id.out" 2>"$TMP/writer.$id.err" &
	WRITER_PIDS+=($!)
done
poll 600 seq_past L 500 || fail "the writers made $(last_seq L) writes"
poll 600 seq_past B 100 || fail "B does not stream: $(admin B /v1/status)"
pass "writes are under way and streamed (leader at seq $(last_seq L))"

echo "step: cut B's link for 3 s while the writes go on"
B_BOOTSTRAPS=$(status B bootstraps)
ip -n "$HUB" link set vB down
CUT_SEQ=$(last_seq L)
sleep 3 # the deliberate cut, not a wait for a condition
B_AT_END=$(status B applied_seq)
L_AT_END=$(last_seq L)
ip -n "$HUB" link set vB up
echo "  during the cut the leader went from seq $CUT_SEQ to $L_AT_END;" \
	"B stood at $B_AT_END"
[[ $((L_AT_END - CUT_SEQ)) -ge 100 ]] ||
	fail "the writes did not go on during the cut"
[[ $B_AT_END -lt $L_AT_END ]] ||
	fail "B kept up with the leader during the cut: the link was not cut"
pass "B fell $((L_AT_END - B_AT_END)) records behind while cut off"

echo "step: the link is back; more writes, then stop the writers"
poll 600 seq_past L $((L_AT_END + 500)) ||
	fail "the writers stopped at seq $(last_seq L)"
touch "$TMP/stop"
TOTAL=0
for id in 1 2; do
	rc=0
	wait "${WRITER_PIDS[$((id - 1))]}" || rc=$?
	[[ $rc == 0 ]] || fail "writer $id exited $rc: $(cat "$TMP/writer.$id.err")"
	read -r n _ <"$TMP/writer.$id.out"
	TOTAL=$((TOTAL + n))
done
WRITER_PIDS=()
[[ $(last_seq L) == "$TOTAL" ]] ||
	fail "the leader's last seq $(last_seq L) is not the $TOTAL writes acknowledged"
pass "$TOTAL writes acknowledged, one seq each, none failed"

echo "check: A and B reach the leader's last seq with its state hash"
admin L /v1/hash >"$TMP/hash.L"
L_SEQ=$(json seq <"$TMP/hash.L")
L_HASH=$(json hash <"$TMP/hash.L")
[[ $L_SEQ == "$TOTAL" ]] || fail "the leader's hash is at seq $L_SEQ, not $TOTAL"

# caught_up NODE: NODE's /v1/hash is at the leader's seq.
caught_up() {
	admin "$1" /v1/hash >"$TMP/hash.$1" &&
		[[ $(json seq <"$TMP/hash.$1") -ge $L_SEQ ]]
}
for n in A B; do
	poll 1200 caught_up "$n" ||
		fail "follower $n did not reach seq $L_SEQ: $(admin "$n" /v1/status || true)"
	seq=$(json seq <"$TMP/hash.$n")
	hash=$(json hash <"$TMP/hash.$n")
	[[ $seq == "$L_SEQ" && $hash == "$L_HASH" ]] ||
		fail "follower $n: seq $seq hash $hash; leader: seq $L_SEQ hash $L_HASH"
	pass "follower $n at seq $seq with the leader's hash $hash"
done

echo "check: B resumed over the restored link, without a snapshot download"
[[ $(status B bootstraps) == "$B_BOOTSTRAPS" ]] ||
	fail "B's bootstraps went from $B_BOOTSTRAPS to $(status B bootstraps)"
poll 600 following B || fail "B is not following: $(admin B /v1/status)"
[[ $(status B lag_records) == 0 ]] ||
	fail "B's lag is $(status B lag_records) records"
pass "B: bootstraps still $B_BOOTSTRAPS, following, lag 0"

echo "check: the rillds stop cleanly on SIGTERM"
for n in B A L; do
	stop_pid "${PID[$n]}" "rilld $n"
	[[ $STOP_RC == 0 ]] || fail "rilld $n exited $STOP_RC after SIGTERM"
done
pass "all three exited 0"

echo "$PASSED passed, 0 failed"
