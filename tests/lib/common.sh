# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# common.sh: what the bash integration tests share. A test sources it
# after `set -euo pipefail`:
#
#   . "$(dirname "$0")/../lib/common.sh"
#
# require_tools TOOL...  exit 1 ("FAIL: TOOL is not installed") unless each
#                        TOOL is on PATH
# require_executable FILE...
#                        exit 1 unless each FILE is executable
# unset_rill_vars        unset every RILL_* variable of the environment, for
#                        a test that sets those it needs itself
# pass MSG, fail MSG     PASSED counts the checks passed; pass prints
#                        "  ok: MSG", fail prints "FAIL: MSG" and
#                        "$PASSED passed, 1 failed" on stderr and exits 1.
#                        A test ends with: echo "$PASSED passed, 0 failed"
# free_port              a free TCP port on 127.0.0.1 (asks python3)
# make_tmp NAME          TMP: a fresh directory ${TMPDIR:-/tmp}/NAME.XXXXXX.
#                        At exit, however the test ends, the rillds in
#                        RILLD_PID and RILLD_PIDS that still run are
#                        killed, the tail of RILLD_ERR (a rilld's stderr,
#                        $TMP/rilld.err unless the test sets it) is shown
#                        if the test failed, and TMP is removed.
# wait_ready PID NAME CMD...
#                        run CMD (a probe of the rilld PID, such as
#                        rillctl_answers) until it succeeds, at most 200
#                        times 0.05 s apart; fail, with NAME in the message,
#                        if PID exits first or CMD never succeeds
# rillctl_answers RILLCTL URL
#                        true when `RILLCTL --url URL status` succeeds
#                        within 200 ms (output discarded)

PASSED=0
RILLD_PID=
RILLD_PIDS=()
RILLD_ERR=

require_tools() {
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "FAIL: $tool is not installed" >&2
			exit 1
		fi
	done
}

require_executable() {
	local f
	for f in "$@"; do
		[[ -x $f ]] || { echo "FAIL: $f is not executable" >&2; exit 1; }
	done
}

unset_rill_vars() {
	local var
	while read -r var; do
		unset "$var"
	done < <(compgen -e | grep '^RILL_' || true)
}

fail() {
	echo "FAIL: $*" >&2
	echo "$PASSED passed, 1 failed" >&2
	exit 1
}

pass() {
	PASSED=$((PASSED + 1))
	echo "  ok: $*"
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# cleanup is the EXIT trap make_tmp sets.
cleanup() {
	local rc=$? pid
	for pid in $RILLD_PID "${RILLD_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	if [[ $rc -ne 0 && -n $RILLD_ERR && -f $RILLD_ERR ]]; then
		echo "--- stderr of rilld ($RILLD_ERR) ---" >&2
		tail -n 40 "$RILLD_ERR" >&2 || true
	fi
	rm -rf "$TMP"
	exit "$rc"
}

make_tmp() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	RILLD_ERR=$TMP/rilld.err
	trap cleanup EXIT
	# A signal ends the test through the EXIT trap, which stops the rillds.
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# STOP_WAIT_S is how long a stopped process may take to exit: a
# sanitizer build finishing its writes and reporting leaks on a busy
# machine takes seconds, never this long.
STOP_WAIT_S=${STOP_WAIT_S:-60}

# stop_pid PID NAME [SIGNAL]: send SIGNAL (TERM) to PID, a child of this
# shell, and reap it; its exit status is in STOP_RC. One that is still
# running after STOP_WAIT_S is a hang: its stacks are printed, it is
# killed, and the test fails.
stop_pid() {
	local pid=$1 name=$2 sig=${3:-TERM} i state
	kill "-$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_WAIT_S * 20; i++)); do
		state=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$pid/stat" 2>/dev/null || true)
		[[ -z $state || $state == Z* ]] && break
		sleep 0.05
	done
	if [[ -n $state && $state != Z* ]]; then
		"$(dirname "${BASH_SOURCE[0]}")/print_stacks.sh" "$pid" >&2
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		fail "$name (pid $pid) did not exit within ${STOP_WAIT_S} s of SIG$sig"
	fi
	STOP_RC=0
	wait "$pid" || STOP_RC=$?
}

# wait_ready PID NAME COMMAND...: poll COMMAND until it succeeds, for up to
# READY_WAIT_S seconds (a sanitizer build starting on a busy machine is
# slow); fail if PID exits first or the time runs out.
READY_WAIT_S=${READY_WAIT_S:-90}
wait_ready() {
	local pid=$1 name=$2 rc end=$((SECONDS + READY_WAIT_S))
	shift 2
	while ((SECONDS < end)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			rc=0
			wait "$pid" || rc=$?
			fail "$name: rilld exited ($rc) before it answered ($*)"
		fi
		if "$@"; then
			return 0
		fi
		sleep 0.05
	done
	fail "$name: rilld did not answer in ${READY_WAIT_S} s ($*)"
}

rillctl_answers() {
	"$1" --url "$2" --timeout 200 status >/dev/null 2>&1
}
