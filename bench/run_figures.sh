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
# Environment: RILL_BENCH (path of rill_bench; default: the build-bench or
# build tree beside this script), DURATION (seconds a run, default 10).
set -u

here=$(cd "$(dirname "$0")" && pwd)
bench=${RILL_BENCH:-}
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

# run ARGS... runs rill_bench --json and leaves its last line in $out.
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
	printf '%s\n' "$out"
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

# Random keys make the store's compaction the limit; sequential ones are
# the bulk-load case.
for order in random sequential; do
	run --workload batch --clients 32 --batch-size 100 --no-baselines \
	    "$@" --key-order "$order"
	check "batches of 100, 32 clients, $order keys: keys/s" \
	    "$(field "$out" keys_per_s)" ge 500000 ""
done

run --workload get --clients 32 "$@"
check "gets, 32 clients: rate / echo" \
    "$(field "$out" ratio_echo)" ge 0.6 ""

# 150 MB read as 150,000,000 bytes, the stricter reading.
run --load-keys 1000000 --no-baselines "$@"
check "rilld RSS after 1,000,000 keys: bytes" \
    "$(field "$out" rss_bytes)" lt 150000000 ""

echo
printf '%-52s %16s %16s  %s\n' figure measured target result
printf '%s' "$table"
exit $status
