#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# rilld_cli_test.sh RILLD PROTO_DIR
#
# The rilld command line, as an operator meets it: --help; the data dir
# lock (a second rilld on the same dir exits 1 while the first serves);
# configuration errors (exit 2, naming the setting); precedence of flags
# over RILL_* variables over the config file; data dirs rilld must refuse
# (a newer format, a directory that is not a rill data dir); and a clean
# exit 0 on SIGTERM and SIGINT.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

if [[ $# -ne 2 ]]; then
	echo "usage: $0 RILLD PROTO_DIR" >&2
	exit 2
fi
RILLD=$1
PROTO_DIR=$2
PROTO=rill/v1/rill.proto

require_tools nngcat protoc python3 timeout chrt
require_executable "$RILLD"

# The test sets every RILL_* variable itself.
unset_rill_vars
# Each rilld binds a free port for its admin API, not the default one.
export RILL_ADMIN_LISTEN=127.0.0.1:0

make_tmp rill-cli

# free_ports N: N distinct free ports, in PORTS.
free_ports() {
	local p
	PORTS=()
	while [[ ${#PORTS[@]} -lt $1 ]]; do
		p=$(free_port)
		[[ " ${PORTS[*]} " == *" $p "* ]] || PORTS+=("$p")
	done
}

printf 'status {}\n' |
	protoc --proto_path="$PROTO_DIR" "$PROTO" --encode=rill.v1.Request \
		>"$TMP/status.bin" || fail "protoc cannot encode a Status request"

# status_ok URL: true when a Status request on URL gets an OK Status reply.
status_ok() {
	nngcat --req --dial "$1" --file "$TMP/status.bin" --raw \
		--recv-timeout 2 >"$TMP/status.reply" 2>/dev/null || return 1
	[[ -s $TMP/status.reply ]] || return 1
	protoc --proto_path="$PROTO_DIR" "$PROTO" --decode=rill.v1.Response \
		<"$TMP/status.reply" >"$TMP/status.txt" 2>/dev/null || return 1
	grep -q '^status {' "$TMP/status.txt" &&
		! grep -q '^code:' "$TMP/status.txt"
}

# refuses URL: a Status request on URL finds nobody listening.
refuses() {
	local rc=0
	nngcat --req --dial "$1" --file "$TMP/status.bin" --raw \
		--recv-timeout 2 >"$TMP/refuse.out" 2>"$TMP/refuse.err" || rc=$?
	[[ $rc -ne 0 ]] && grep -qi refused "$TMP/refuse.err"
}

# no_sanitizer_report FILE NAME
no_sanitizer_report() {
	if grep -qE 'LeakSanitizer|AddressSanitizer|runtime error:' "$1"; then
		fail "$2: a sanitizer reported a problem:
$(grep -E -A12 'ERROR: |runtime error:' "$1" | head -n 40)"
	fi
}

# start_rilld NAME CMD...: start CMD (a rilld, maybe behind env) in the
# background with its stderr in $TMP/NAME.err (RILLD_ERR); its pid goes to
# RILLD_PID and RILLD_PIDS.
start_rilld() {
	local name=$1
	shift
	RILLD_ERR=$TMP/$name.err
	"$@" >"$TMP/$name.out" 2>"$RILLD_ERR" &
	RILLD_PID=$!
	RILLD_PIDS+=("$RILLD_PID")
}

# stop_rilld PID NAME SIGNAL: send SIGNAL, wait; rilld must exit 0 with
# no sanitizer report.
stop_rilld() {
	local pid=$1 name=$2 sig=$3 rc=0
	kill -"$sig" "$pid"
	wait "$pid" || rc=$?
	no_sanitizer_report "$TMP/$name.err" "$name"
	[[ $rc -eq 0 ]] || fail "$name: rilld exited $rc after SIG$sig, want 0"
}

# expect_exit NAME RC NEEDLES CMD...: run CMD (rilld that must not start)
# and check its exit code and that its stderr holds each of the
# '|'-separated NEEDLES. A rilld that starts anyway is killed after 30 s.
expect_exit() {
	local name=$1 want=$2 needles=$3 rc=0 s
	shift 3
	echo "check: $name -> exit $want, stderr says: ${needles//|/, }"
	RILLD_ERR=$TMP/$name.err
	timeout -s KILL 30 "$@" >"$TMP/$name.out" 2>"$RILLD_ERR" || rc=$?
	[[ $rc -ne 137 ]] || fail "$name: rilld did not exit (did it start?)"
	no_sanitizer_report "$RILLD_ERR" "$name"
	[[ $rc -eq $want ]] ||
		fail "$name: exit $rc, want $want; stderr: $(head -c 600 "$RILLD_ERR")"
	IFS='|' read -ra list <<<"$needles"
	for s in "${list[@]}"; do
		grep -qF -- "$s" "$RILLD_ERR" ||
			fail "$name: stderr does not say '$s': $(head -c 600 "$RILLD_ERR")"
	done
	pass "$name: exit $rc: $(first_error "$RILLD_ERR")"
}

# first_error FILE: the first error rilld printed: a diag line at level
# err (without its time stamp), else its own "rilld: ..." line.
first_error() {
	local line
	line=$(grep -m1 -E '^[0-9-]+T[0-9:.]+Z err ' "$1" || true)
	if [[ -n $line ]]; then
		echo "${line#* err    }"
	else
		grep -m1 '^rilld: ' "$1" || true
	fi
}

# ----------------------------------------------------------------------
echo "step: rilld --help"
mkdir "$TMP/cwd"
rc=0
(cd "$TMP/cwd" && "$RILLD" --help) >"$TMP/help.out" 2>"$TMP/help.err" || rc=$?
no_sanitizer_report "$TMP/help.err" help
[[ $rc -eq 0 ]] || fail "rilld --help exited $rc, want 0: $(cat "$TMP/help.err")"
pass "rilld --help exits 0"
[[ -z $(ls -A "$TMP/cwd") ]] || fail "rilld --help created files: $(ls -A "$TMP/cwd")"
pass "rilld --help creates nothing"
for word in --data-dir --listen --config --sync \
	RILL_DATA_DIR RILL_LISTEN RILL_CONFIG RILL_SYNC; do
	grep -qF -- "$word" "$TMP/help.out" || fail "rilld --help does not list $word"
done
pass "rilld --help lists --data-dir, --listen, --config, --sync and their RILL_ variables"

# Each flag's row names the variable spelt from it (--max-key-bytes and
# RILL_MAX_KEY_BYTES).
n_rows=0
while read -r flag var; do
	want=RILL_$(echo "${flag#--}" | tr 'a-z-' 'A-Z_')
	[[ $var == "$want" ]] || fail "--help: $flag has variable $var, want $want"
	n_rows=$((n_rows + 1))
done < <(awk '$1 ~ /^--/ && $3 ~ /^RILL_/ { print $1, $3 }' "$TMP/help.out")
[[ $n_rows -ge 4 ]] || fail "--help: only $n_rows rows of flag and variable"
pass "--help: each of $n_rows flags names its matching RILL_ variable"

# Every RILL_ variable the help names is read: an empty value (a malformed
# URL for the optional URLs, a malformed CPU list) is refused with a message naming the variable
# (an unread one would pass silently).
mapfile -t vars < <(grep -oE 'RILL_[A-Z0-9_]+' "$TMP/help.out" | sort -u)
free_ports 1
for var in "${vars[@]}"; do
	if [[ $var == RILL_CONFIG ]]; then
		val=$TMP/no-such-config.json
		needle="$val"
	elif [[ $var == RILL_FOLLOW || $var == RILL_ADVERTISE ]]; then
		# Empty means "none" for these: a malformed URL is refused.
		val=not-a-url
		needle="$var:"
	elif [[ $var == RILL_CPUS ]]; then
		val=0- # empty means every CPU
		needle="$var:"
	else
		val=
		needle="$var:"
	fi
	rc=0
	env "$var=$val" timeout -s KILL 30 "$RILLD" --data-dir "$TMP/never" \
		--listen "tcp://127.0.0.1:${PORTS[0]}" \
		>/dev/null 2>"$TMP/var.err" || rc=$?
	no_sanitizer_report "$TMP/var.err" "$var"
	[[ $rc -eq 2 ]] || fail "$var='$val': exit $rc, want 2: $(cat "$TMP/var.err")"
	grep -qF -- "$needle" "$TMP/var.err" ||
		fail "$var='$val': the message does not name it: $(cat "$TMP/var.err")"
done
[[ ! -e $TMP/never ]] || fail "a refused configuration created the data dir"
pass "each of the ${#vars[@]} RILL_ variables --help names is read (a bad value exits 2 naming it)"

echo "check: --help wins over a bad flag before it"
rc=0
"$RILLD" --no-such-flag --help >"$TMP/help2.out" 2>"$TMP/help2.err" || rc=$?
no_sanitizer_report "$TMP/help2.err" help2
[[ $rc -eq 0 ]] && grep -qF -- --data-dir "$TMP/help2.out" ||
	fail "rilld --no-such-flag --help: exit $rc, want 0 and the help"
pass "rilld --no-such-flag --help prints the help and exits 0"

# ----------------------------------------------------------------------
echo "step: configuration errors exit 2 and name the setting"
free_ports 1
URL_UNUSED=tcp://127.0.0.1:${PORTS[0]}
NEVER=(--data-dir "$TMP/never" --listen "$URL_UNUSED")
expect_exit flag_sync_sometimes 2 '--sync|"sometimes"|always, interval or none' \
	"$RILLD" "${NEVER[@]}" --sync sometimes
expect_exit env_sync_bad 2 'RILL_SYNC|"bad"' \
	env RILL_SYNC=bad "$RILLD" "${NEVER[@]}"
expect_exit env_unknown_variable 2 'RILL_NO_SUCH_SETTING|unknown variable' \
	env RILL_NO_SUCH_SETTING=1 "$RILLD" "${NEVER[@]}"
expect_exit unknown_flag 2 '--no-such-flag|unknown flag' \
	"$RILLD" "${NEVER[@]}" --no-such-flag 1
printf '{"sync": "always", "no_such_key": 1}\n' >"$TMP/unknown-key.json"
expect_exit file_unknown_key 2 "$TMP/unknown-key.json|unknown key|no_such_key" \
	"$RILLD" "${NEVER[@]}" --config "$TMP/unknown-key.json"
printf 'sync = "none"\n' >"$TMP/not-json.json"
expect_exit file_not_json 2 "$TMP/not-json.json|JSON" \
	"$RILLD" "${NEVER[@]}" --config "$TMP/not-json.json"
printf '{"sync": "sometimes"}\n' >"$TMP/bad-sync.json"
expect_exit file_bad_value 2 "$TMP/bad-sync.json|sync|\"sometimes\"" \
	"$RILLD" "${NEVER[@]}" --config "$TMP/bad-sync.json"
expect_exit segment_max_bytes_12x 2 '--segment-max-bytes|"12x"' \
	"$RILLD" "${NEVER[@]}" --segment-max-bytes 12x
[[ ! -e $TMP/never ]] || fail "a refused configuration created the data dir"
pass "no refused configuration touched the data dir"

# ----------------------------------------------------------------------
echo "step: precedence: flag > RILL_ variable > config file"
free_ports 3
A=tcp://127.0.0.1:${PORTS[0]}
B=tcp://127.0.0.1:${PORTS[1]}
C=tcp://127.0.0.1:${PORTS[2]}
printf '{"listen": "%s", "data_dir": "%s"}\n' "$A" "$TMP/prec" >"$TMP/prec.json"
echo "check: file says $A, RILL_LISTEN says $B, --listen says $C"
start_rilld precedence env RILL_LISTEN="$B" "$RILLD" --config "$TMP/prec.json" \
	--listen "$C"
PREC_PID=$RILLD_PID
wait_ready "$PREC_PID" precedence status_ok "$C"
pass "rilld answers Status on $C (the flag)"
refuses "$A" || fail "something answers on $A (the file's listen): the flag did not win"
pass "nothing listens on $A (the file's)"
refuses "$B" || fail "something answers on $B (RILL_LISTEN): the flag did not win"
pass "nothing listens on $B (the variable's)"
[[ -f $TMP/prec/FORMAT ]] || fail "the file's data_dir $TMP/prec was not used"
pass "the file's data_dir is used where nothing overrides it"

echo "step: a second rilld on the same data dir"
free_ports 1
expect_exit second_rilld_same_dir 1 "already in use|$TMP/prec|pid $PREC_PID" \
	"$RILLD" --data-dir "$TMP/prec" --listen "tcp://127.0.0.1:${PORTS[0]}"
echo "check: the first rilld still serves"
kill -0 "$PREC_PID" 2>/dev/null || fail "the first rilld died"
status_ok "$C" || fail "the first rilld no longer answers Status on $C"
pass "the first rilld still answers Status"
stop_rilld "$PREC_PID" precedence TERM

# sync_run NAME WANT CMD...: start, wait for readiness, stop, and check
# the SERVER-START line says "(sync WANT)".
sync_run() {
	local name=$1 want=$2
	shift 2
	echo "check: $name -> sync $want"
	start_rilld "$name" "$@"
	local pid=$RILLD_PID
	wait_ready "$pid" "$name" status_ok "$SYNC_URL"
	stop_rilld "$pid" "$name" TERM
	local line
	line=$(grep 'SERVER-START' "$TMP/$name.err" || true)
	[[ -n $line ]] || fail "$name: no SERVER-START line"
	[[ $line == *"(sync $want)"* ]] ||
		fail "$name: SERVER-START says '${line##*SERVER-START: }', want (sync $want)"
	pass "$name: ${line##*SERVER-START: }"
}

free_ports 1
SYNC_URL=tcp://127.0.0.1:${PORTS[0]}
printf '{"sync": "none", "listen": "%s", "data_dir": "%s"}\n' \
	"$SYNC_URL" "$TMP/sync" >"$TMP/sync.json"
sync_run sync_file_only none env RILL_CONFIG="$TMP/sync.json" "$RILLD"
sync_run sync_env_over_file interval \
	env RILL_CONFIG="$TMP/sync.json" RILL_SYNC=interval "$RILLD"
sync_run sync_flag_over_env always \
	env RILL_CONFIG="$TMP/sync.json" RILL_SYNC=interval "$RILLD" --sync always

# ----------------------------------------------------------------------
echo "step: the cpu policy"
# policy_run NAME WANT ARGS...: every thread of a rilld started with ARGS
# runs under the scheduling policy WANT (as chrt names it).
policy_run() {
	local name=$1 want=$2 tid got n=0
	shift 2
	free_ports 1
	start_rilld "$name" "$RILLD" --data-dir "$TMP/$name" \
		--listen "tcp://127.0.0.1:${PORTS[0]}" "$@"
	local pid=$RILLD_PID
	wait_ready "$pid" "$name" status_ok "tcp://127.0.0.1:${PORTS[0]}"
	for tid in $(ls "/proc/$pid/task"); do
		got=$(chrt -p "$tid" | sed -n 's/.*policy: //p')
		[[ $got == "$want" ]] ||
			fail "$name: thread $tid runs under $got, want $want"
		n=$((n + 1))
	done
	stop_rilld "$pid" "$name" TERM
	pass "$name: all $n threads run under $want"
}
policy_run policy_default SCHED_BATCH
policy_run policy_normal SCHED_OTHER --cpu-policy normal
expect_exit policy_bad 2 "cpu-policy|bad value \"fast\"|batch or normal" \
	"$RILLD" --cpu-policy fast

# ----------------------------------------------------------------------
echo "step: the CPUs (--cpus)"
# Every thread of a rilld started with --cpus 0 runs on CPU 0 (nng's,
# the writer's, CivetWeb's, the main thread), but LevelDB's background
# thread (rill:leveldb), which keeps every CPU this shell may use.
# (ThreadSanitizer adds a thread of its own, started before main.)
may=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
free_ports 1
start_rilld cpus0 "$RILLD" --data-dir "$TMP/cpus0" \
	--listen "tcp://127.0.0.1:${PORTS[0]}" --cpus 0
pid=$RILLD_PID
wait_ready "$pid" cpus0 status_ok "tcp://127.0.0.1:${PORTS[0]}"
# LevelDB's thread names itself in the first task it runs.
wait_ready "$pid" cpus0 grep -qsx rill:leveldb /proc/"$pid"/task/*/comm
n=0 free=0
for tid in $(ls "/proc/$pid/task"); do
	got=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' \
		"/proc/$pid/task/$tid/status")
	comm=$(cat "/proc/$pid/task/$tid/comm")
	n=$((n + 1))
	if [[ $comm == rill:leveldb ]]; then
		[[ $got == "$may" ]] ||
			fail "cpus0: LevelDB's thread runs on $got, want $may"
		free=$((free + 1))
		continue
	fi
	[[ $got == 0 ]] && continue
	[[ $tid != "$pid" && $comm != nng:* && $comm != rill:* &&
		$comm != civetweb* ]] ||
		fail "cpus0: thread $tid ($comm) runs on $got, want 0"
	[[ $got == "$may" ]] ||
		fail "cpus0: thread $tid ($comm) runs on $got, want 0 or $may"
done
[[ $free == 1 ]] || fail "cpus0: no thread named rill:leveldb"
stop_rilld "$pid" cpus0 TERM
pass "cpus0: LevelDB's thread runs on $may, the other $((n - 1)) on CPU 0"
expect_exit cpus_bad 2 "--cpus|bad CPU list \"0-\"" "$RILLD" --cpus 0-
# A CPU the process may not use (1023: no machine here has that many).
expect_exit cpus_absent 2 "cpus \"0,1023\"|CPU 1023 is not one|may use" \
	"$RILLD" --data-dir "$TMP/cpus_absent" --cpus 0,1023
[[ ! -e $TMP/cpus_absent ]] || fail "cpus_absent: the data dir was made"
pass "cpus_absent: no data dir made"

# ----------------------------------------------------------------------
echo "step: data dirs rilld must refuse"
free_ports 1
mkdir "$TMP/v9"
printf 'rill-data v9\n' >"$TMP/v9/FORMAT"
expect_exit format_v9 1 "$TMP/v9|newer|v9" \
	"$RILLD" --data-dir "$TMP/v9" --listen "tcp://127.0.0.1:${PORTS[0]}"
[[ $(cat "$TMP/v9/FORMAT") == "rill-data v9" ]] || fail "format_v9: FORMAT was changed"
pass "format_v9: FORMAT is untouched"

mkdir "$TMP/foreign"
printf 'my notes\n' >"$TMP/foreign/notes.txt"
expect_exit foreign_dir 1 "$TMP/foreign|no FORMAT|not a rill data dir" \
	"$RILLD" --data-dir "$TMP/foreign" --listen "tcp://127.0.0.1:${PORTS[0]}"
[[ $(ls -A "$TMP/foreign") == notes.txt ]] ||
	fail "foreign_dir: rilld wrote into it: $(ls -A "$TMP/foreign" | tr '\n' ' ')"
pass "foreign_dir: nothing was written into it"

# ----------------------------------------------------------------------
echo "step: stop signals"
for sig in TERM INT; do
	free_ports 1
	url=tcp://127.0.0.1:${PORTS[0]}
	echo "check: SIG$sig makes rilld exit 0"
	start_rilld "sig$sig" "$RILLD" --data-dir "$TMP/sig$sig" --listen "$url"
	pid=$RILLD_PID
	wait_ready "$pid" "sig$sig" status_ok "$url"
	stop_rilld "$pid" "sig$sig" "$sig"
	grep -q 'SERVER-STOP' "$TMP/sig$sig.err" ||
		fail "sig$sig: rilld exited 0 but did not log SERVER-STOP"
	[[ $sig == TERM ]] && says=Terminated || says=Interrupt
	grep -q "RILLD-SIGNAL: $says" "$TMP/sig$sig.err" ||
		fail "sig$sig: rilld did not log that it got SIG$sig ($says)"
	pass "SIG$sig: rilld stopped cleanly and exited 0"
done

echo "$PASSED passed, 0 failed"
