#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# install_test.sh BUILD_DIR RILLD CONSUMER_DIR [SANITIZE_FLAGS]
#
# The SDK as an application meets it: `cmake --install` of the built
# project into a fresh prefix, then tests/integration/sdk_consumer built
# against that copy twice, with `pkg-config --cflags --libs rill` and with
# find_package(rill CONFIG) and rill::rill. Both programs run without a
# server (the library loads, a handle opens and closes) and against a real
# rilld started from the build (put, get, scan, status). The installed
# rillctl must run too. librill-local (rill_open_local) goes the same way:
# local_consumer built with `pkg-config rill-local` and with
# find_package(rill COMPONENTS local), and the README's example of the
# embedded mode, each run on a directory of its own; librill-local must
# export its API and nothing else, and librill must not need LevelDB.
# SANITIZE_FLAGS (e.g. -fsanitize=address,undefined) are what librill was
# built with: a consumer must link the same runtime.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

if [[ $# -lt 3 || $# -gt 4 ]]; then
	echo "usage: $0 BUILD_DIR RILLD CONSUMER_DIR [SANITIZE_FLAGS]" >&2
	exit 2
fi
BUILD_DIR=$1
RILLD=$2
CONSUMER_DIR=$3
SAN=${4:-}

require_tools cmake pkg-config cc python3
require_executable "$RILLD"

# The test sets every RILL_* variable it needs itself.
unset_rill_vars
# Each rilld binds a free port for its admin API, not the default one.
export RILL_ADMIN_LISTEN=127.0.0.1:0

make_tmp rill-install
PREFIX=$TMP/prefix

# run NAME CMD...: run CMD with its output in $TMP/NAME.log; on failure,
# fail and show the log.
run() {
	local name=$1
	shift
	if ! "$@" >"$TMP/$name.log" 2>&1; then
		fail "$name failed: $*
$(tail -n 40 "$TMP/$name.log")"
	fi
}

# ----------------------------------------------------------------------
echo "step: cmake --install into $PREFIX"
run install cmake --install "$BUILD_DIR" --prefix "$PREFIX"
for f in include/rill/rill.h include/rill/local.h include/rill/status.h \
	bin/rillctl; do
	[[ -f $PREFIX/$f ]] || fail "the install lacks $f"
done
# GNUInstallDirs picks lib or lib/<multiarch>: find where the files went.
PC=$(find "$PREFIX" -name rill.pc -path '*/pkgconfig/*' | head -n 1)
CONFIG=$(find "$PREFIX" -name rillConfig.cmake | head -n 1)
[[ -n $PC ]] || fail "the install lacks rill.pc"
[[ -n $CONFIG ]] || fail "the install lacks rillConfig.cmake"
[[ -f $(dirname "$CONFIG")/rillConfigVersion.cmake ]] ||
	fail "the install lacks rillConfigVersion.cmake"
LIBDIR=$(dirname "$(dirname "$PC")")
[[ -L $LIBDIR/librill.so && -e $LIBDIR/librill.so.0 ]] ||
	fail "the install lacks librill.so and librill.so.0 in $LIBDIR"
[[ -L $LIBDIR/librill-local.so && -e $LIBDIR/librill-local.so.0 ]] ||
	fail "the install lacks librill-local.so and librill-local.so.0 in $LIBDIR"
[[ -f $LIBDIR/pkgconfig/rill-local.pc ]] || fail "the install lacks rill-local.pc"
pass "installed headers, librill.so.0, librill-local.so.0, rill.pc, rill-local.pc, CMake package, rillctl"

# librill-local exports its own API only (the service it carries stays
# inside); plain SDK users do not load LevelDB.
exported=$(nm -D --defined-only "$LIBDIR/librill-local.so.0" |
	awk '$2 ~ /^[TDBRW]$/ { sub(/@.*/, "", $3); print $3 }' | sort)
expected=$(printf '%s\n' rill_local_is_leader rill_local_options_init \
	rill_local_read_owner rill_open_local | sort)
[[ $exported == "$expected" ]] ||
	fail "librill-local exports more or less than its API: $(echo $exported)"
if grep -q "NEEDED.*leveldb" <<<"$(readelf -d "$LIBDIR/librill.so.0")"; then
	fail "librill.so.0 needs LevelDB"
fi
pass "librill-local exports rill_open_local and rill_local_* only; librill needs no LevelDB"

# The public headers stand alone: nothing but rill/ and the C library.
for h in rill local; do
	printf '#include <rill/%s.h>\nint main(void) { return RILL_OK; }\n' \
		"$h" >"$TMP/header.c"
	run header cc -std=c11 -Wall -Wextra -Werror -pedantic \
		-I"$PREFIX/include" -c "$TMP/header.c" -o "$TMP/header.o"
done
pass "rill/rill.h and rill/local.h compile alone with -std=c11 -pedantic -Werror"

# A process that leads a local dir runs the service, hence the system's
# LevelDB, which ThreadSanitizer cannot see into (see service/rilld.c):
# under TSan its reports are suppressed for the local programs.
printf 'race:libleveldb.so\nrace:libsnappy.so\nrace:libstdc++.so\n' \
	>"$TMP/tsan.supp"
export TSAN_OPTIONS="${TSAN_OPTIONS:-} suppressions=$TMP/tsan.supp"

echo "step: build sdk_consumer with pkg-config"
export PKG_CONFIG_PATH=$(dirname "$PC")
read -ra PC_FLAGS <<<"$(pkg-config --cflags --libs rill)"
read -ra SAN_FLAGS <<<"$SAN"
run pkgconfig cc -std=c11 -Wall -Wextra -Werror "${SAN_FLAGS[@]}" \
	"$CONSUMER_DIR/main.c" -o "$TMP/consumer_pc" "${PC_FLAGS[@]}"
# pkg-config gives no rpath: the loader must be told where the prefix is.
grep -q "NEEDED.*\[librill.so.0\]" <<<"$(readelf -d "$TMP/consumer_pc")" ||
	fail "consumer_pc does not need librill.so.0"
run consumer_pc_alone env LD_LIBRARY_PATH="$LIBDIR" "$TMP/consumer_pc"
pass "pkg-config: built, and runs without a server"

echo "step: build local_consumer with pkg-config rill-local"
read -ra PC_LOCAL_FLAGS <<<"$(pkg-config --cflags --libs rill-local)"
run local_pkgconfig cc -std=c11 -Wall -Wextra -Werror "${SAN_FLAGS[@]}" \
	"$CONSUMER_DIR/local_main.c" -o "$TMP/local_pc" "${PC_LOCAL_FLAGS[@]}"
grep -q "NEEDED.*\[librill-local.so.0\]" <<<"$(readelf -d "$TMP/local_pc")" ||
	fail "local_pc does not need librill-local.so.0"
run local_pc env LD_LIBRARY_PATH="$LIBDIR" "$TMP/local_pc" "$TMP/local-pc"
pass "pkg-config rill-local: built, and leads a dir of its own"

echo "step: build sdk_consumer with find_package(rill CONFIG)"
run cmake_configure cmake -S "$CONSUMER_DIR" -B "$TMP/cmake-build" \
	-DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_C_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="$SAN"
run cmake_build cmake --build "$TMP/cmake-build"
CONSUMER_CM=$TMP/cmake-build/sdk_consumer
# rill::rill carries the library's path: no LD_LIBRARY_PATH needed. (The
# ELF headers are read rather than ldd's output: ldd runs the program, and
# a sanitizer runtime may refuse to start under it.)
grep -q "NEEDED.*\[librill.so.0\]" <<<"$(readelf -d "$CONSUMER_CM")" ||
	fail "the CMake consumer does not need librill.so.0"
grep -Eq "R(UN)?PATH.*\[([^]]*:)?$LIBDIR[]:]" <<<"$(readelf -d "$CONSUMER_CM")" ||
	fail "the CMake consumer's run path does not name $LIBDIR"
run consumer_cm_alone "$CONSUMER_CM"
pass "find_package: built, and runs without a server"
run local_cm "$TMP/cmake-build/local_consumer" "$TMP/local-cm"
pass "find_package(rill COMPONENTS local): local_consumer built, and leads a dir"

echo "step: both consumers and the installed rillctl against rilld"
PORT=$(free_port)
URL=tcp://127.0.0.1:$PORT
mkdir "$TMP/data"
"$RILLD" --data-dir "$TMP/data" --listen "$URL" \
	>"$TMP/rilld.out" 2>"$TMP/rilld.err" &
RILLD_PID=$!
wait_ready "$RILLD_PID" start rillctl_answers "$PREFIX/bin/rillctl" "$URL"
pass "the installed rillctl reaches rilld"
run consumer_pc_server env LD_LIBRARY_PATH="$LIBDIR" "$TMP/consumer_pc" "$URL"
run consumer_cm_server "$CONSUMER_CM" "$URL"
pass "both consumers round trip with rilld"

echo "step: the README's SDK example builds and runs as shown"
README=$CONSUMER_DIR/../../../README.md
awk '/^## The SDK in ten lines/ { in_section = 1 }
	in_section && /^```c$/ { in_code = 1; next }
	in_code && /^```$/ { exit }
	in_code { print }' "$README" |
	sed "s#tcp://127.0.0.1:7400#$URL#" >"$TMP/readme.c"
[[ $(grep -c . "$TMP/readme.c") -ge 8 ]] ||
	fail "no C example found in the README's SDK section"
run readme_build cc -std=c11 -Wall -Wextra -Werror "${SAN_FLAGS[@]}" \
	"$TMP/readme.c" -o "$TMP/readme" "${PC_FLAGS[@]}"
out=$(LD_LIBRARY_PATH="$LIBDIR" "$TMP/readme") ||
	fail "the README example exited non-zero"
[[ $out == world ]] || fail "the README example printed '$out', want 'world'"
pass "the README example prints 'world'"

echo "step: the README's embedded mode example builds and runs as shown"
awk '/^## Embedded multi-process mode/ { in_section = 1 }
	in_section && /^```c$/ { in_code = 1; next }
	in_code && /^```$/ { exit }
	in_code { print }' "$README" |
	sed "s#/tmp/myapp-db#$TMP/readme-local#" >"$TMP/readme_local.c"
[[ $(grep -c rill_open_local "$TMP/readme_local.c") -ge 1 ]] ||
	fail "no C example found in the README's embedded mode section"
run readme_local_build cc -std=c11 -Wall -Wextra -Werror "${SAN_FLAGS[@]}" \
	"$TMP/readme_local.c" -o "$TMP/readme_local" "${PC_LOCAL_FLAGS[@]}"
out=$(LD_LIBRARY_PATH="$LIBDIR" "$TMP/readme_local" 2>"$TMP/readme_local.err") ||
	fail "the README's embedded mode example exited non-zero: $(tail -n 5 "$TMP/readme_local.err")"
[[ $out == world ]] ||
	fail "the README's embedded mode example printed '$out', want 'world'"
grep -q "this process leads" "$TMP/readme_local.err" ||
	fail "the README's embedded mode example did not say it leads"
pass "the README's embedded mode example prints 'world' and leads"
stop_pid "$RILLD_PID" rilld
RILLD_PID=
[[ $STOP_RC -eq 0 ]] || fail "rilld exited $STOP_RC after SIGTERM"
echo "$PASSED passed, 0 failed"
