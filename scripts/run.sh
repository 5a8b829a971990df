#!/usr/bin/env bash
# run.sh: installs what is missing, builds rill (Release) and starts rilld
# in the foreground with its defaults: RPC on tcp://127.0.0.1:7400, data in
# ./rill-data. Extra arguments go to rilld (try --help). Ctrl-C stops it
# cleanly.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release \
	-DRILL_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build-release" -j "$(nproc)" --target rilld rillctl
exec "$root/build-release/service/rilld" "$@"
