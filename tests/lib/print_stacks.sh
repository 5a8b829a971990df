#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# print_stacks.sh PID: every thread's stack of PID on stdout (gdb), for a
# process that does not exit when it should. The shell tests, the C
# harness and the page test all call it. It never fails.
echo "--- threads of pid $1 ---"
if command -v gdb >/dev/null 2>&1; then
	timeout 60 gdb -p "$1" -batch -nx -ex "thread apply all bt" \
		</dev/null 2>&1 | grep -E '^(Thread|#)' || true
else
	echo "(gdb is not installed: no stacks)"
fi
