#!/usr/bin/env bash
# test.sh: installs what is missing, builds rill in Debug with
# AddressSanitizer and UndefinedBehaviorSanitizer and warnings as errors,
# checks the formatting, and runs every test with ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${RILL_TEST_BUILD_DIR:-$root/build-test}"
"$root/scripts/install-deps.sh"

echo "== format check"
cd "$root"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

echo "== build (Debug, address+undefined sanitizers, -Werror)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DRILL_WERROR=ON \
	-DRILL_SANITIZE=address,undefined >/dev/null
cmake --build "$build" -j "$(nproc)"

echo "== tests"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
ctest --output-on-failure -j 2 "$@"
