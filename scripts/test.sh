#!/usr/bin/env bash
# test.sh: installs what is missing, checks the formatting, then builds
# rill twice in Debug with warnings as errors, once with AddressSanitizer
# and UndefinedBehaviorSanitizer and once with ThreadSanitizer, and runs
# every test with ctest under each. Arguments go to both ctest runs. First
# it builds the Release configuration (the one scripts/run.sh and the
# benchmark use) with warnings as errors, as optimisation finds warnings
# (maybe-uninitialized) that Debug builds do not.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${RILL_TEST_BUILD_DIR:-$root/build-test}"
"$root/scripts/install-deps.sh"

echo "== format check"
cd "$root"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

echo "== build (release: Release, -Werror)"
cmake -S "$root" -B "$build-release" -DCMAKE_BUILD_TYPE=Release \
	-DRILL_WERROR=ON -DRILL_BUILD_BENCH=ON >/dev/null
cmake --build "$build-release" -j "$(nproc)"

# run_suite NAME SANITIZERS: build in $build-NAME and run ctest there.
run_suite() {
	local dir="$build-$1"
	echo "== build ($1: Debug, -fsanitize=$2, -Werror)"
	cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DRILL_WERROR=ON \
		-DRILL_SANITIZE="$2" -DRILL_BUILD_BENCH=ON >/dev/null
	cmake --build "$dir" -j "$(nproc)"
	echo "== tests ($1)"
	(cd "$dir" && ctest --output-on-failure -j 2 "${@:3}")
}

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# ThreadSanitizer sleeps 1 s at every process exit by default, to catch
# races with threads still running then. rill's programs join their own
# threads before they exit (only nng's idle ones remain), and the tests
# start hundreds of processes (each rillctl call is one), so 100 ms: the
# TSan suite takes about a third less time (integration.admin 102 s ->
# 40 s).
export TSAN_OPTIONS="halt_on_error=1:atexit_sleep_ms=100"
run_suite asan address,undefined "$@"
run_suite tsan thread "$@"
