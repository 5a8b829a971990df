#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# run_figures.sh: measures the figure set of the benchmark issue with
# rill_bench and prints each figure against its target. Run it on a quiet
# machine (nothing building or testing): every figure starts its own rilld
# with --sync always in a fresh directory. Exits 1 if a figure misses its
# target, 2 if a run failed.
#
#   bench/run_figures.sh [rill_bench options...]
#
# The options (say --dir /var/tmp or --rilld PATH) go to every run.
# The batch figure runs twice, with random and with sequential keys (see
# "Key order" in bench/README.md), each labelled as such; those two runs
# set --key-order after the options given, so theirs wins.
# Every run uses rill_bench's default async mode, in which the targets are
# stated: N clients are N requests kept in flight (on one connection), and
# the 1-client p99 is that of a single request in flight (--clients 1).
# The history figures (snapshot, download, restore, writes during
# snapshots) come from one rill_bench --history run on 1,000,000 keys and
# 100,000 log records (see "History figures" in bench/README.md).
# The follower figures (replication lag, catch-up, leader throughput with
# two followers) come from one rill_bench --follow run, which starts its
# own leaders and followers (see "Follower figures" in bench/README.md).
# The local mode figures come from one rill_bench --local run, which
# starts its own processes sharing a data dir. The disk's write +
# fdatasync (rill_bench --disk) comes first, as information.
# Environment: RILL_BENCH (path of rill_bench; default: the build-bench or
# build tree beside this script), DURATION (seconds a run, default 10).
set -u

here=$(cd "$(dirname "$0")" && pwd)
bench=${RILL_BENCH:-}
# rilld refuses to start with a RILL_* variable it does not know, and the
# rilld that rill_bench starts inherits the environment.
unset RILL_BENCH
if [ -z "$bench" ]; then
	for b in "$here/../build-bench/bench/rill_bench" \
	    "$here/../build/bench/rill_bench"; do
		if [ -x "$b" ]; then
			bench=$b
			break
		fi
	done
fi
if [ -z "$bench" ] || [ ! -x "$bench" ]; then
	echo "run_figures.sh: no rill_bench: build it, or set RILL_BENCH" >&2
	exit 2
fi
duration=${DURATION:-10}

read -r load _ < /proc/loadavg
echo "rill_bench: $bench; $duration s a run; load average $load" \
    "on $(nproc) CPUs"

status=0
table=""

# field LINE NAME prints the value of NAME in the flat JSON object LINE.
field() {
	printf '%s\n' "$1" | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"
}

# run ARGS... runs rill_bench --json, prints its lines and leaves them in
# $all, the last one in $out.
run() {
	echo "+ rill_bench $*" >&2
	all=$("$bench" --json --duration "$duration" "$@")
	rc=$?
	out=$(printf '%s\n' "$all" | tail -n 1)
	if [ $rc -ne 0 ] || [ -z "$out" ]; then
		echo "run_figures.sh: rill_bench $* exited with $rc" >&2
		status=2
	fi
	[ -n "$out" ] || out="{}"
	printf '%s\n' "$all"
}

# line WORKLOAD prints the line of $all for that workload ("{}" if none).
line() {
	l=$(printf '%s\n' "$all" | grep "^{\"workload\":\"$1\"" | tail -n 1)
	printf '%s\n' "${l:-{\}}"
}

# check NAME VALUE OP TARGET UNIT: one row of the table. OP is ge or lt.
check() {
	if [ -z "$2" ] || [ "$2" = null ]; then
		verdict=FAIL
		shown=n/a
	else
		shown="$2$5"
		if awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN {
		    exit !((op == "ge" && v >= t) || (op == "lt" && v < t)) }'
		then
			verdict=PASS
		else
			verdict=FAIL
		fi
	fi
	if [ "$3" = ge ]; then
		want=">= $4$5"
	else
		want="< $4$5"
	fi
	if [ "$verdict" = FAIL ] && [ "$status" -eq 0 ]; then
		status=1
	fi
	table="$table$(printf '%-52s %16s %16s  %s' "$1" "$shown" "$want" \
	    "$verdict")
"
}

# info NAME VALUE: a row with no target, for what a figure is up against.
info() {
	table="$table$(printf '%-52s %16s %16s  %s' "$1" "${2:-n/a}" "" info)
"
}

# What the disk under the run's directory charges each group commit under
# --sync always: the latency of a write + fdatasync and its CPU time (see
# "The disk" in bench/README.md).
run --disk "$@"
v=$(field "$out" p50_us)
info "disk: write + fdatasync, p50" "${v:+$v us}"
v=$(field "$out" cpu_us_per_sync)
info "disk: CPU time of one write + fdatasync" "${v:+$v us}"

run --workload put --clients 1 --no-baselines "$@"
check "durable puts, 1 client: p99" "$(field "$out" p99_us)" lt 1000 " us"

run --workload put --clients 32 "$@"
check "durable puts, 32 clients: puts/s" \
    "$(field "$out" ops_per_s)" ge 30000 ""
check "durable puts, 32 clients: rate / echo" \
    "$(field "$out" ratio_echo)" ge 0.35 ""

run --workload put --clients 64 --no-baselines "$@"
check "durable puts, 64 clients: puts/s" \
    "$(field "$out" ops_per_s)" ge 40000 ""

# The same with rilld confined to one CPU, its compactions on every CPU
# (rilld --cpus 0: "Threads and CPUs" in docs/DESIGN.md).
run --workload put --clients 32 --rilld-arg=--cpus=0 "$@"
check "--cpus 0: durable puts, 32 clients: puts/s" \
    "$(field "$out" ops_per_s)" ge 30000 ""
check "--cpus 0: durable puts, 32 clients: rate / echo" \
    "$(field "$out" ratio_echo)" ge 0.35 ""
run --workload put --clients 64 --no-baselines --rilld-arg=--cpus=0 "$@"
check "--cpus 0: durable puts, 64 clients: puts/s" \
    "$(field "$out" ops_per_s)" ge 40000 ""

# Random keys make the store's compaction the limit; sequential ones are
# the bulk-load case.
for order in random sequential; do
	run --workload batch --clients 32 --batch-size 100 \
	    "$@" --key-order "$order"
	check "batches of 100, 32 clients, $order keys: keys/s" \
	    "$(field "$out" keys_per_s)" ge 500000 ""
	# The same writes into LevelDB alone, not synced: the store's own
	# rate, what a durable write path over it is up against.
	info "  LevelDB alone, not synced, $order keys: keys/s" \
	    "$(awk -v v="$(field "$out" leveldb_nosync_ops_per_s)" \
	        'BEGIN { if (v != "" && v != "null") printf "%.1f", v * 100 }')"
done

run --workload get --clients 32 "$@"
check "gets, 32 clients: rate / echo" \
    "$(field "$out" ratio_echo)" ge 0.6 ""

# 150 MB read as 150,000,000 bytes, the stricter reading.
run --load-keys 1000000 --no-baselines "$@"
check "rilld RSS after 1,000,000 keys: bytes" \
    "$(field "$out" rss_bytes)" lt 150000000 ""

# One rilld for the last three: the snapshot downloaded is the one the
# restore starts from. MB is 10^6 bytes.
run --history --keys 1000000 --records 100000 --clients 32 "$@"
check "snapshot of 1,000,000 keys: rate / bare iteration" \
    "$(field "$(line snapshot)" ratio_bare)" ge 0.3 ""
check "snapshot download into memory: MB/s" \
    "$(field "$(line download)" mem_mb_per_s)" ge 300 ""
check "snapshot download into a file: MB/s" \
    "$(field "$(line download)" file_mb_per_s)" ge 300 ""
check "restore, snapshot + 100,000 records: keys/s" \
    "$(field "$(line restore)" keys_per_s)" ge 500000 ""
check "puts, 32 clients: during snapshots / without" \
    "$(field "$(line snapshot-writes)" ratio_no_snapshot)" ge 0.7 ""

# Lag at 10,000 durable puts/s, catch-up of 1,000,000 records, puts of 32
# clients with two followers / with none.
run --follow --rate 10000 --records 1000000 --clients 32 "$@"
check "replication lag at 10,000 puts/s: puts/s reached" \
    "$(field "$(line follow-lag)" puts_per_s)" ge 9500 ""
check "replication lag at 10,000 puts/s: p50" \
    "$(field "$(line follow-lag)" p50_us)" lt 2000 " us"
check "replication lag at 10,000 puts/s: p99" \
    "$(field "$(line follow-lag)" p99_us)" lt 10000 " us"
check "catch-up, 1,000,000 records behind: records/s" \
    "$(field "$(line follow-catchup)" records_per_s)" ge 300000 ""
check "puts, 32 clients: 2 followers / none" \
    "$(field "$(line follow-throughput)" ratio_no_follower)" ge 0.8 ""

# The embedded multi-process mode (rill_open_local): puts of a process
# that is not the leader over ipc:// against the nng ipc echo, 8 callers
# in flight; the leader killed with SIGKILL 10 times, the median time to a
# put from another process (see "Local mode figures" in bench/README.md).
run --local --clients 8 --kills 10 "$@"
check "local mode, 8 clients: non-leader puts / ipc echo" \
    "$(field "$(line local-put)" ratio_echo)" ge 0.5 ""
check "local mode: SIGKILL of the leader to a put, median" \
    "$(field "$(line local-failover)" median_ms)" lt 1500 " ms"
# The same puts with the leader not syncing, where no fdatasync (140-200
# us here, more than an ipc echo's round trip) bounds 8 callers: what the
# write path itself costs.
run --local=put --clients 8 --sync none "$@"
info "  local mode, sync none: non-leader puts / ipc echo" \
    "$(field "$(line local-put)" ratio_echo)"

echo
printf '%-52s %16s %16s  %s\n' figure measured target result
printf '%s' "$table"
exit $status
