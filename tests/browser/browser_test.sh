#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# browser_test.sh RILLCTL RILLD BUILD_DIR
#
# The admin page as a person meets it, in a real browser: headless
# Chromium (/usr/bin/chromium, or RILL_CHROMIUM) driven by playwright-core
# from admin_page_test.mjs, against real rilld processes on free loopback
# ports.
#
#  1. playwright-core, at the version package-lock.json pins, is installed
#     with `npm ci` into BUILD_DIR/tests/browser/deps (once, and again when
#     the lock file changes); nothing is written to the source tree.
#  2. A leader with an admin token and a follower of it start; each must
#     answer /health.
#  3. The page's files through curl: / and /index.html, /app.js,
#     /style.css with their Content-Type, Cache-Control: no-cache, a
#     Content-Security-Policy of 'self' only, HEAD, 304 on a matching
#     If-None-Match, no token needed, 405 for POST.
#  4. admin_page_test.mjs: the page live, the token asked for and a wrong
#     one refused, writes with rillctl seen on the page, a snapshot taken
#     and one that fails, charts drawn, a non-JSON answer reported, a
#     full-page screenshot in BUILD_DIR/tests/artifacts/admin-page.png,
#     then the leader stopped (the page says it is not answering) and
#     started again (the page says it answers again).
#  5. Each rilld exits 0 after SIGTERM with no sanitizer report.
#
# It fails, never skips, when node, npm or Chromium is missing:
# scripts/install-deps.sh installs them.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"

if [[ $# -ne 3 ]]; then
	echo "usage: $0 RILLCTL RILLD BUILD_DIR" >&2
	exit 2
fi
RILLCTL=$1
RILLD=$2
BUILD=$3
CHROMIUM=${RILL_CHROMIUM:-/usr/bin/chromium}

require_tools python3 curl node npm cmp
require_executable "$RILLCTL" "$RILLD"
[[ -x $CHROMIUM ]] ||
	{ echo "FAIL: $CHROMIUM is not installed (apt-get install chromium; scripts/install-deps.sh does)" >&2; exit 1; }

node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
	{ echo "FAIL: node $(node --version) is too old: playwright-core (package.json) needs node 18 or newer" >&2; exit 1; }

unset_rill_vars
make_tmp rill-browser

# The node script starts the leader again itself; its pid is written
# here, so that a failed run stops that rilld too.
RESTARTED_PID_FILE=$TMP/restarted.pid
browser_cleanup() {
	local rc=$?
	if [[ -s $RESTARTED_PID_FILE ]]; then
		RILLD_PIDS+=("$(cat "$RESTARTED_PID_FILE")")
	fi
	# cleanup takes the test's status from $?; set it without tripping
	# set -e, which would end this trap before cleanup ran.
	if [[ $rc -eq 0 ]]; then
		cleanup
	else
		(exit "$rc") || cleanup
	fi
}
trap browser_cleanup EXIT

# no_sanitizer_report FILE NAME
no_sanitizer_report() {
	if grep -qE 'LeakSanitizer|AddressSanitizer|ThreadSanitizer|runtime error:' "$1"; then
		fail "$2: a sanitizer reported a problem:
$(grep -E -A12 'ERROR: |WARNING: ThreadSanitizer|runtime error:' "$1" | head -n 40)"
	fi
}

# 1. playwright-core ----------------------------------------------------

DEPS=$BUILD/tests/browser/deps
if ! cmp -s "$HERE/package-lock.json" "$DEPS/package-lock.json" ||
	[[ ! -f $DEPS/node_modules/playwright-core/package.json ]]; then
	echo "step: npm ci (playwright-core) in $DEPS"
	rm -rf "$DEPS"
	mkdir -p "$DEPS"
	cp "$HERE/package.json" "$HERE/package-lock.json" "$DEPS/"
	if ! (cd "$DEPS" && npm ci --no-audit --no-fund --loglevel=error) >"$TMP/npm.log" 2>&1; then
		# A half-done install is not taken for a whole one next time.
		rm -f "$DEPS/package-lock.json"
		fail "npm ci in $DEPS failed: $(tail -n 20 "$TMP/npm.log")"
	fi
fi
pass "playwright-core installed in $DEPS"

# 2. A leader and its follower -----------------------------------------

TOKEN=browser-test-token
# ports N: N distinct free ports in PORTS.
ports() {
	local p seen=" "
	PORTS=()
	while [[ ${#PORTS[@]} -lt $1 ]]; do
		p=$(free_port)
		if [[ $seen != *" $p "* ]]; then
			PORTS+=("$p")
			seen+="$p "
		fi
	done
}
ports 4
L_RPC=tcp://127.0.0.1:${PORTS[0]}
L_ADMIN=127.0.0.1:${PORTS[1]}
F_RPC=tcp://127.0.0.1:${PORTS[2]}
F_ADMIN=127.0.0.1:${PORTS[3]}
L_DATA=$TMP/leader
F_DATA=$TMP/follower
# 4 KiB segments, so that the page lists sealed ones; snapshots only on
# demand, and kept, so that each one the test takes stays listed.
LEADER_ARGS="--data-dir $L_DATA --listen $L_RPC --admin-listen $L_ADMIN \
--segment-max-bytes 4KiB --snapshot-interval-ms 0 --snapshot-log-bytes 0 \
--retain-snapshots 100"

healthy() {
	[[ $(curl -s --noproxy '*' --max-time 1 -o /dev/null -w '%{http_code}' \
		"http://$1/health" 2>/dev/null) == 200 ]]
}

echo "step: a leader (admin token set) and a follower"
# shellcheck disable=SC2086 # LEADER_ARGS holds no spaces in its values
RILL_ADMIN_TOKEN=$TOKEN "$RILLD" $LEADER_ARGS \
	>"$TMP/leader.out" 2>"$TMP/leader.err" &
LEADER_PID=$!
RILLD_PIDS+=("$LEADER_PID")
RILLD_ERR=$TMP/leader.err
wait_ready "$LEADER_PID" leader healthy "$L_ADMIN"
"$RILLD" --data-dir "$F_DATA" --listen "$F_RPC" --admin-listen "$F_ADMIN" \
	--follow "$L_RPC" >"$TMP/follower.out" 2>"$TMP/follower.err" &
FOLLOWER_PID=$!
RILLD_PIDS+=("$FOLLOWER_PID")
wait_ready "$FOLLOWER_PID" follower healthy "$F_ADMIN"
pass "leader and follower answer /health"

# 3. The page's files --------------------------------------------------

CURL=(curl -s --noproxy '*' --max-time 10)

# header NAME FILE: the value of header NAME in the headers saved in FILE.
header() {
	grep -i "^$1:" "$2" | head -n 1 | cut -d: -f2- | sed 's/^ //' | tr -d '\r'
}

# check_asset PATH TYPE: GET PATH answers 200 with Content-Type TYPE, the
# page's headers and a body; HEAD the same headers and no body; a GET
# with its ETag in If-None-Match answers 304.
check_asset() {
	local path=$1 type=$2 code len etag
	code=$("${CURL[@]}" -D "$TMP/h" -o "$TMP/body" -w '%{http_code}' "http://$L_ADMIN$path")
	[[ $code == 200 ]] || fail "GET $path: HTTP $code, want 200"
	[[ $(header Content-Type "$TMP/h") == "$type" ]] ||
		fail "GET $path: Content-Type '$(header Content-Type "$TMP/h")', want '$type'"
	[[ $(header Cache-Control "$TMP/h") == no-cache ]] ||
		fail "GET $path: Cache-Control '$(header Cache-Control "$TMP/h")', want no-cache"
	[[ $(header Content-Security-Policy "$TMP/h") == "default-src 'self';"* ]] ||
		fail "GET $path: Content-Security-Policy '$(header Content-Security-Policy "$TMP/h")' does not start with default-src 'self'"
	if grep -qE "unsafe|\*|https?:|data:" <<<"$(header Content-Security-Policy "$TMP/h")"; then
		fail "GET $path: the Content-Security-Policy allows more than 'self': $(header Content-Security-Policy "$TMP/h")"
	fi
	[[ $(header X-Content-Type-Options "$TMP/h") == nosniff ]] ||
		fail "GET $path: no X-Content-Type-Options: nosniff"
	len=$(header Content-Length "$TMP/h")
	[[ -s $TMP/body && $len == "$(stat -c %s "$TMP/body")" ]] ||
		fail "GET $path: Content-Length $len for a body of $(stat -c %s "$TMP/body") bytes"
	etag=$(header ETag "$TMP/h")
	[[ $etag == \"*\" ]] || fail "GET $path: ETag '$etag' is not a quoted tag"
	code=$("${CURL[@]}" -I -D "$TMP/hh" -o /dev/null -w '%{http_code}' "http://$L_ADMIN$path")
	[[ $code == 200 && $(header Content-Length "$TMP/hh") == "$len" &&
		$(header Content-Type "$TMP/hh") == "$type" ]] ||
		fail "HEAD $path: HTTP $code, Content-Length $(header Content-Length "$TMP/hh"), want 200 and $len"
	code=$("${CURL[@]}" -o "$TMP/body304" -w '%{http_code}' -H "If-None-Match: $etag" "http://$L_ADMIN$path")
	[[ $code == 304 && ! -s $TMP/body304 ]] ||
		fail "GET $path with If-None-Match $etag: HTTP $code, want 304 with no body"
}

echo "step: the page's files"
check_asset / "text/html; charset=utf-8"
grep -q '<script src="app.js"' "$TMP/body" || fail "GET /: the page does not load app.js"
cmp -s "$TMP/body" "$HERE/../../admin-ui/index.html" ||
	fail "GET / is not admin-ui/index.html as built"
check_asset /index.html "text/html; charset=utf-8"
check_asset /app.js "text/javascript; charset=utf-8"
cmp -s "$TMP/body" "$HERE/../../admin-ui/app.js" ||
	fail "GET /app.js is not admin-ui/app.js as built (rebuild rilld?)"
check_asset /style.css "text/css; charset=utf-8"
check_asset /favicon.svg "image/svg+xml"
pass "/, /index.html, /app.js, /style.css, /favicon.svg: type, no-cache, CSP 'self', HEAD, 304"
code=$("${CURL[@]}" -D "$TMP/h" -o "$TMP/body" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $TOKEN" "http://$L_ADMIN/")
[[ $code == 405 && $(header Allow "$TMP/h") == "GET, HEAD" ]] ||
	fail "POST /: HTTP $code, Allow '$(header Allow "$TMP/h")', want 405 and GET, HEAD"
code=$("${CURL[@]}" -o "$TMP/body" -w '%{http_code}' "http://$L_ADMIN/nothing.js")
[[ $code == 404 ]] || fail "GET /nothing.js: HTTP $code, want 404"
pass "POST / is 405 with Allow: GET, HEAD; an unknown file is 404"

# 4. The page in Chromium ------------------------------------------------

ARTIFACTS=$BUILD/tests/artifacts
mkdir -p "$ARTIFACTS"
echo "step: the page in Chromium ($CHROMIUM)"
export BROWSER_DEPS=$DEPS CHROMIUM RILLCTL RILLD TOKEN ARTIFACTS
export LEADER_ARGS LEADER_PID L_RPC L_ADMIN L_DATA F_ADMIN F_RPC
export RESTARTED_PID_FILE TMP
rc=0
node "$HERE/admin_page_test.mjs" || rc=$?
[[ $rc -eq 0 ]] || fail "admin_page_test.mjs failed ($rc)"
pass "admin_page_test.mjs"

# 5. Clean exits ---------------------------------------------------------

# The script stopped the first leader with SIGTERM.
rc=0
wait "$LEADER_PID" || rc=$?
no_sanitizer_report "$TMP/leader.err" leader
[[ $rc -eq 0 ]] || fail "the leader exited $rc after SIGTERM, want 0"
RILLD_ERR=$TMP/follower.err
stop_pid "$FOLLOWER_PID" follower
no_sanitizer_report "$TMP/follower.err" follower
[[ $STOP_RC -eq 0 ]] || fail "the follower exited $STOP_RC after SIGTERM, want 0"
pass "each rilld exited 0 after SIGTERM, with no sanitizer report"
echo "$PASSED passed, 0 failed"
