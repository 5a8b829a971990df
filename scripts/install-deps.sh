#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages rill builds, runs and tests
# with, if any is missing. Safe to run again; does nothing when all are
# there. Needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
	build-essential cmake pkg-config git python3 curl iproute2 util-linux
	libnng-dev nng-utils
	libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
	libleveldb-dev libsnappy-dev
	libsqlite3-dev libcjson-dev libcivetweb-dev
	libisal-dev libxxhash-dev liblz4-dev
	clang-format docker-compose
	chromium
	gdb
)
# gdb: a test that finds a process still running after it was told to stop
# prints that process's stacks.
# The admin page's browser test runs under node with npm; a machine that
# has them (from any source) keeps its own.
if ! command -v node >/dev/null 2>&1; then
	packages+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
	packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
	if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) != \
		"install ok installed" ]]; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
