#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# compose_test.sh BUILD_DIR SOURCE_DIR
#
# The Docker Compose deployment (deploy/), run for real without a Docker
# engine: `docker-compose config` checks and normalises
# deploy/docker-compose.yml (no warning allowed), compose_model.py reads
# that and deploy/Dockerfile, and the topology they describe is built on
# this host with one rule of its own, a compose service = a network
# namespace:
#
# - each compose network is a bridge in a hub namespace (its gateway .1),
#   each service a namespace with a veth to the bridges of its networks;
#   its /etc/hosts (ip netns exec mounts /etc/netns/NS/hosts over it) maps
#   every service name and alias to its address, as Docker's DNS would;
# - each service runs the image's entrypoint and the compose command, as
#   PID 1 of its own PID namespace (as in a container), with exactly the
#   image's ENV and the service's environment (plus PATH, which finds
#   rilld and rillctl installed by `cmake --install` the way the
#   Dockerfile installs them, and the sanitizers' options); paths under a
#   mount's target become the host path it stands for: a bind mount's
#   source, or a directory per named volume (so RILL_DATA_DIR, the
#   container's volume, is a directory of this test);
# - services start in depends_on order; a service_healthy dependency
#   waits for the compose healthcheck's own command, run in the
#   dependency's namespace, at most as long as Docker would.
#
# Then: health and readiness through each admin API, writes with rillctl
# through the service names, both followers at the leader's last seq with
# its state hash, a snapshot with the token (401 without or with a wrong
# one) copied to the backup volume, the leader stopped, the first follower
# promoted, the other repointed at it through a compose override file (as
# a user edits the environment) and restarted, writes to the new leader,
# convergence again; every rilld is stopped with the compose stop signal
# and must exit 0 within stop_grace_period.
#
# Static checks first: the compose file fails without the admin token and
# passes with deploy/.env.example; every published port is on 127.0.0.1
# and exposed by the image; the image's runtime packages exist in Debian
# bookworm and hold every library rilld, rillctl and librill load; its
# build stage has every -dev package of scripts/install-deps.sh; its
# entrypoint is exec-form rilld, its user not root.
#
# Needs root, iproute2, util-linux (unshare), docker-compose and Debian's
# /usr/bin/python3 with yaml (CI has them all); it never skips. Namespaces,
# veths, /etc/netns dirs and temp dirs are removed at exit, however the
# test ends.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/netns.sh"

if [[ $# -ne 2 ]]; then
	echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
	exit 2
fi
BUILD_DIR=$1
SRC=$2
DEPLOY=$SRC/deploy
COMPOSE_FILE_PATH=$DEPLOY/docker-compose.yml
DOCKERFILE=$DEPLOY/Dockerfile
ENV_EXAMPLE=$DEPLOY/.env.example
MODEL_PY=$(cd "$(dirname "$0")" && pwd)/compose_model.py
PY=/usr/bin/python3 # Debian's, which has yaml (python3-yaml)

require_tools ip curl cmake docker-compose unshare readelf ldd dpkg-query \
	apt-cache getent timeout
[[ -x $PY ]] && "$PY" -c 'import yaml' 2>/dev/null ||
	fail "$PY with yaml is needed (apt-get install python3-yaml)"
[[ $(id -u) == 0 ]] ||
	fail "this test needs root for ip netns (CI runs it as root)"
for f in "$COMPOSE_FILE_PATH" "$DOCKERFILE" "$ENV_EXAMPLE" "$MODEL_PY"; do
	[[ -f $f ]] || fail "$f is missing"
done

# Nothing of the caller's environment may change what compose reads.
unset_rill_vars
while read -r var; do
	unset "$var"
done < <(compgen -e | grep -E '^(COMPOSE_|DOCKER_)' || true)

make_tmp rill-compose
chmod 755 "$TMP"

RUN=rill-$$-$RANDOM # namespaces of this run: $RUN-hub, $RUN-SERVICE
HOSTS_DIRS=()       # /etc/netns/NS of this run
MADE_ETC_NETNS=false
declare -A NS PID WRAP ERR ADDR MODEL

# compose_cleanup runs at exit: it kills what still runs, removes the
# namespaces (their veths and bridges go with them) and the /etc/netns
# dirs, shows the tail of each rilld's stderr if the test failed, then
# lets common.sh's cleanup remove TMP.
compose_cleanup() {
	local rc=$? pid d s
	set +e # clean up all there is, whatever fails
	for pid in "${PID[@]}" "${WRAP[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	netns_remove_all
	for d in "${HOSTS_DIRS[@]}"; do
		rm -rf "$d"
	done
	if $MADE_ETC_NETNS; then
		rmdir /etc/netns 2>/dev/null # unless another run uses it
	fi
	if [[ $rc -ne 0 ]]; then
		for s in "${!ERR[@]}"; do
			if [[ -s ${ERR[$s]} ]]; then
				echo "--- rilld $s (${ERR[$s]}) ---" >&2
				tail -n 25 "${ERR[$s]}" >&2
			fi
		done
	fi
	RILLD_ERR= # shown above
	(exit "$rc") # cleanup takes the test's status from $?
	cleanup
}
trap compose_cleanup EXIT

# json KEY: the value of KEY in the JSON object on stdin ("" if absent).
json() {
	"$PY" -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1], "")
print(str(v).lower() if isinstance(v, bool) else v)' "$1"
}

# compose_config OUT ARGS...: `docker-compose -f deploy/docker-compose.yml
# ARGS... config` into OUT; its stderr in OUT.err.
compose_config() {
	local out=$1
	shift
	docker-compose -f "$COMPOSE_FILE_PATH" "$@" config >"$out" 2>"$out.err"
}

# model CONFIG OUT: compose_model.py on CONFIG; named volumes are kept in
# TMP/volumes whichever model names them, as Docker keeps them.
model() {
	"$PY" "$MODEL_PY" "$1" "$DOCKERFILE" "$2" 10.78 "$TMP/volumes" ||
		fail "compose_model.py cannot read $1"
}

# nul_list FILE: the NUL-separated items of FILE into LIST.
nul_list() {
	LIST=()
	if [[ -s $1 ]]; then
		mapfile -d '' LIST <"$1"
	fi
}

# env_of SVC KEY [MODEL]: the value of KEY in SVC's environment ("" if
# unset).
env_of() {
	local kv
	nul_list "${3:-${MODEL[$1]}}/svc/$1/env"
	for kv in "${LIST[@]}"; do
		if [[ ${kv%%=*} == "$2" ]]; then
			printf '%s\n' "${kv#*=}"
			return 0
		fi
	done
	echo ""
}

# inns SVC CMD...: run CMD in SVC's namespace.
inns() {
	local s=$1
	shift
	ip netns exec "${NS[$s]}" "$@"
}

# admin SVC PATH [CURL_ARG...]: PATH of SVC's admin API from inside its
# namespace; the body on stdout, then the HTTP status on a line of its own.
admin() {
	local s=$1 path=$2 listen
	shift 2
	listen=$(env_of "$s" RILL_ADMIN_LISTEN)
	inns "$s" curl -sS --max-time 5 -w '\n%{http_code}\n' "$@" \
		"http://127.0.0.1:${listen##*:}$path"
}

# admin_ok SVC PATH: the body of a 200 answer to GET PATH; false otherwise.
admin_ok() {
	local out
	out=$(admin "$1" "$2") || return 1
	[[ ${out##*$'\n'} == 200 ]] || return 1
	printf '%s\n' "${out%$'\n'*}"
}

# status SVC KEY: one field of SVC's /v1/status.
status() {
	admin_ok "$1" /v1/status | json "$2"
}

# running PID: PID is alive (not a zombie waiting to be reaped).
running() {
	local stat
	[[ -r /proc/$1/stat ]] || return 1
	read -r stat 2>/dev/null </proc/"$1"/stat || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# child_of PID NAME: the pid of PID's child whose command is NAME.
child_of() {
	local p stat comm
	for p in /proc/[0-9]*; do
		read -r stat 2>/dev/null <"$p/stat" || continue
		comm=${stat#*(}
		comm=${comm%%)*}
		stat=${stat##*) }
		stat=${stat#* }
		if [[ ${stat%% *} == "$1" && $comm == "$2" ]]; then
			echo "${p#/proc/}"
			return 0
		fi
	done
	return 1
}

# ----------------------------------------------------------------------
echo "step: docker-compose config, with and without the admin token"
: >"$TMP/empty.env"
if compose_config "$TMP/no-token.yml" --env-file "$TMP/empty.env"; then
	fail "docker-compose config passes with no RILL_ADMIN_TOKEN set"
fi
grep -q RILL_ADMIN_TOKEN "$TMP/no-token.yml.err" ||
	fail "without a token, docker-compose does not name RILL_ADMIN_TOKEN:
$(cat "$TMP/no-token.yml.err")"
pass "without RILL_ADMIN_TOKEN, config fails and names it"
# deploy/.env.example as shipped holds no token: copied unedited, it must
# not run a cluster with a token everyone knows.
if compose_config "$TMP/example.yml" --env-file "$ENV_EXAMPLE"; then
	fail "docker-compose config passes with deploy/.env.example unedited"
fi
pass "deploy/.env.example unedited: config fails"
# The example with its token set, as the README says to.
ENV_SET=$TMP/test.env
sed 's/^RILL_ADMIN_TOKEN=$/RILL_ADMIN_TOKEN=compose-test-token/' \
	"$ENV_EXAMPLE" >"$ENV_SET"
grep -q '^RILL_ADMIN_TOKEN=compose-test-token$' "$ENV_SET" ||
	fail "deploy/.env.example has no empty RILL_ADMIN_TOKEN= line to set"
compose_config "$TMP/config.yml" --env-file "$ENV_SET" ||
	fail "docker-compose config failed: $(cat "$TMP/config.yml.err")"
[[ ! -s $TMP/config.yml.err ]] ||
	fail "docker-compose config warns: $(cat "$TMP/config.yml.err")"
pass "docker-compose config with deploy/.env.example's token set: no error, no warning"

model "$TMP/config.yml" "$TMP/m1"
I=$TMP/m1/image
mapfile -t SERVICES <"$TMP/m1/services"
for s in "${SERVICES[@]}"; do
	MODEL[$s]=$TMP/m1
done
LEADERS=()
FOLLOWERS=()
for s in "${SERVICES[@]}"; do
	if [[ -z $(env_of "$s" RILL_FOLLOW) ]]; then
		LEADERS+=("$s")
	else
		FOLLOWERS+=("$s")
	fi
done
[[ ${#LEADERS[@]} == 1 && ${#FOLLOWERS[@]} -ge 2 ]] ||
	fail "expected one leader and at least two followers (RILL_FOLLOW set);" \
		"leaders: ${LEADERS[*]:-none}, followers: ${FOLLOWERS[*]:-none}"
L=${LEADERS[0]}
P=${FOLLOWERS[0]} # promoted later
pass "services in start order: ${SERVICES[*]}; the leader is $L"

echo "check: the image (deploy/Dockerfile)"
nul_list "$I/entrypoint"
[[ $(cat "$I/entrypoint_form") == exec && ${#LIST[@]} -ge 1 &&
	$(basename "${LIST[0]}") == rilld ]] ||
	fail "the ENTRYPOINT is not the exec form [\"rilld\", ...] (rilld must" \
		"be PID 1 to get the stop signal): ${LIST[*]:-none}"
USER_=$(cat "$I/user")
[[ -n $USER_ && $USER_ != root && $USER_ != 0 && $USER_ != 0:* ]] ||
	fail "the image runs as '${USER_:-root}', not as an unprivileged user"
nul_list "$I/healthcheck"
[[ ${#LIST[@]} -gt 0 ]] || fail "the image has no HEALTHCHECK"
pass "exec-form rilld entrypoint, user $USER_, a healthcheck"

mapfile -t RUNTIME_PKGS <"$I/packages.final"
mapfile -t BUILD_PKGS <"$I/packages.build"
[[ ${#RUNTIME_PKGS[@]} -gt 0 && ${#BUILD_PKGS[@]} -gt 0 ]] ||
	fail "no apt-get install found in the build or the final stage"
# apt-cache knows every bookworm package once apt-get update ran;
# dpkg-query those installed here, for a machine whose lists were cleared.
KNOWN=$(apt-cache show --no-all-versions "${RUNTIME_PKGS[@]}" \
	"${BUILD_PKGS[@]}" 2>/dev/null | sed -n 's/^Package: //p' || true)
for p in "${RUNTIME_PKGS[@]}" "${BUILD_PKGS[@]}"; do
	grep -qx -- "$p" <<<"$KNOWN" ||
		dpkg-query -W "$p" >/dev/null 2>&1 ||
		fail "the Dockerfile installs '$p', which is no Debian package here"
done
pass "the ${#RUNTIME_PKGS[@]} runtime and ${#BUILD_PKGS[@]} build packages exist"

mapfile -t DEPS_PKGS < <(sed -n '/^packages=(/,/^)/p' \
	"$SRC/scripts/install-deps.sh" | tr -s ' \t' '\n\n' | grep -- '-dev$')
[[ ${#DEPS_PKGS[@]} -gt 0 ]] || fail "no -dev package in install-deps.sh"
for p in "${DEPS_PKGS[@]}"; do
	grep -qx -- "$p" < <(printf '%s\n' "${BUILD_PKGS[@]}") ||
		fail "install-deps.sh builds with $p; the Dockerfile's build stage" \
			"does not install it"
done
pass "the build stage has the ${#DEPS_PKGS[@]} -dev packages of install-deps.sh"

echo "step: cmake --install as the Dockerfile does (DESTDIR, /usr/local)"
STAGING=$TMP/staging
DESTDIR=$STAGING cmake --install "$BUILD_DIR" --prefix /usr/local \
	>"$TMP/install.log" 2>&1 ||
	fail "cmake --install failed: $(tail -n 20 "$TMP/install.log")"
BIN=$STAGING/usr/local/bin
for f in bin/rilld bin/rillctl lib/librill.so.0; do
	[[ -e $STAGING/usr/local/$f ]] ||
		fail "the install lacks /usr/local/$f, which the Dockerfile copies"
done
RILLCTL=$BIN/rillctl
got=$(ldd "$RILLCTL" | awk '$1 == "librill.so.0" { print $3 }')
[[ -n $got && $(readlink -f "$got") == \
	$(readlink -f "$STAGING/usr/local/lib/librill.so.0") ]] ||
	fail "the installed rillctl does not load librill beside it:
$(ldd "$RILLCTL")"
pass "rilld, rillctl and librill.so.0 installed; rillctl finds librill"

# Every library they load comes from a runtime package (libc6 is in every
# Debian image); the sanitizer runtimes of a test build do not count.
declare -A LIB_USER LIB_PATH
for f in "$BIN/rilld" "$BIN/rillctl" "$STAGING/usr/local/lib/librill.so.0"; do
	while read -r lib; do
		case $lib in
		libasan.so.* | libubsan.so.* | libtsan.so.* | liblsan.so.* | librill.so.*)
			continue ;;
		esac
		path=$(ldd "$f" | awk -v l="$lib" '$1 == l { print $3 }')
		[[ -n $path ]] || fail "$f: $lib is not found"
		LIB_USER[$lib]=$(basename "$f")
		LIB_PATH[$lib]=$path
	done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
# dpkg knows a library under /lib or /usr/lib as its package shipped it,
# which the loader's path may not be (merged /usr): ask for every form.
candidates=()
for lib in "${!LIB_PATH[@]}"; do
	path=${LIB_PATH[$lib]}
	real=$(readlink -f "$path")
	candidates+=("$path" "$real" "${path#/usr}" "${real#/usr}"
		"/usr${path#/usr}" "/usr${real#/usr}")
done
dpkg-query -S "${candidates[@]}" >"$TMP/dpkg-S" 2>/dev/null || true
for lib in "${!LIB_PATH[@]}"; do
	path=${LIB_PATH[$lib]}
	real=$(readlink -f "$path")
	pkg=$(awk -F': ' -v a="$path" -v b="$real" -v c="${path#/usr}" \
		-v d="${real#/usr}" -v e="/usr${path#/usr}" -v g="/usr${real#/usr}" \
		'$2 == a || $2 == b || $2 == c || $2 == d || $2 == e || $2 == g {
			sub(/:.*/, "", $1); print $1; exit }' "$TMP/dpkg-S")
	[[ -n $pkg ]] || fail "${LIB_USER[$lib]}: $lib ($path) is in no Debian package"
	[[ $pkg == libc6 ]] ||
		grep -qx -- "$pkg" < <(printf '%s\n' "${RUNTIME_PKGS[@]}") ||
		fail "${LIB_USER[$lib]} loads $lib from $pkg, which the runtime" \
			"stage does not install"
done
pass "every library rilld, rillctl and librill load is in a runtime package"

echo "check: published ports and stop signals"
mapfile -t EXPOSED <"$I/expose"
for s in "${SERVICES[@]}"; do
	while read -r host_ip published target proto; do
		[[ $host_ip == 127.0.0.1 ]] ||
			fail "$s publishes $published on '$host_ip', not on 127.0.0.1 only"
		printf '%s\n' "${EXPOSED[@]}" |
			grep -qx -e "$target" -e "$target/$proto" ||
			fail "$s publishes $target, which the image does not EXPOSE"
	done <"$TMP/m1/svc/$s/ports"
	sig=$(cat "$TMP/m1/svc/$s/stop_signal")
	[[ $sig == SIGTERM || $sig == TERM || $sig == SIGINT || $sig == INT ]] ||
		fail "$s stops with $sig; rilld stops cleanly on SIGTERM or SIGINT"
done
pass "every published port is on 127.0.0.1 and exposed; stop signals rilld takes"

# ----------------------------------------------------------------------
echo "step: namespaces $RUN-{hub,$(
	IFS=,
	echo "${SERVICES[*]}"
)}, a bridge per network"
HUB=$RUN-hub
netns_hub "$HUB"
declare -A BR
k=0
while read -r net subnet; do
	BR[$net]=br$k
	netns_bridge "br$k" "$subnet.1/24"
	k=$((k + 1))
done <"$TMP/m1/networks"
if [[ ! -d /etc/netns ]] && mkdir /etc/netns 2>/dev/null; then
	MADE_ETC_NETNS=true
fi
n=0
for s in "${SERVICES[@]}"; do
	NS[$s]=$RUN-$s
	netns_add "${NS[$s]}"
	i=0
	while read -r net ip; do
		netns_link "${NS[$s]}" "${BR[$net]}" "v${n}n$i" "eth$i" "$ip/24"
		[[ -n ${ADDR[$s]:-} ]] || ADDR[$s]=$ip
		i=$((i + 1))
	done <"$TMP/m1/svc/$s/addrs"
	HOSTS_DIRS+=("/etc/netns/${NS[$s]}")
	mkdir -p "/etc/netns/${NS[$s]}"
	cp "$TMP/m1/svc/$s/hosts" "/etc/netns/${NS[$s]}/hosts"
	n=$((n + 1))
done
for s in "${SERVICES[@]}"; do
	while read -r ip names; do
		for name in $names; do
			[[ $name == localhost ]] && continue
			got=$(inns "$s" getent ahostsv4 "$name" | awk 'NR == 1 { print $1 }')
			[[ $got == "$ip" ]] ||
				fail "in $s, $name resolves to '$got', not $ip"
		done
	done < <(grep -v ':' "$TMP/m1/svc/$s/hosts")
done
pass "each service resolves every service name to its address"

# start SVC [--no-deps]: run SVC from its model, as PID 1 of a new PID
# namespace (with its own /proc) in its network namespace, after its
# depends_on conditions hold (unless --no-deps, as docker-compose up
# --no-deps starts one service alone). WRAP is unshare, which exits with
# rilld's status; PID is rilld.
start() {
	local s=$1 m=${MODEL[$1]} dep cond var tries
	local -a envs argv
	[[ ${2:-} == --no-deps ]] || while read -r dep cond; do
		case $cond in
		service_healthy) wait_healthy "$dep" ;;
		service_started)
			running "${WRAP[$dep]}" || fail "$s needs $dep started" ;;
		*) fail "$s: depends_on condition $cond is not modelled" ;;
		esac
	done <"$m/svc/$s/depends"
	nul_list "$m/svc/$s/env"
	envs=("${LIST[@]}")
	nul_list "$m/svc/$s/command"
	argv=("${LIST[@]}")
	# PATH finds the installed rilld as the image's does; the sanitizers'
	# options are the test run's.
	envs+=("PATH=$BIN:/usr/sbin:/usr/bin:/sbin:/bin")
	for var in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS; do
		if [[ -n ${!var:-} ]]; then
			envs+=("$var=${!var}")
		fi
	done
	ERR[$s]=$TMP/$s.err
	echo "  start $s: ${argv[*]} (pid namespace in ${NS[$s]})"
	ip netns exec "${NS[$s]}" unshare --pid --fork --kill-child --mount-proc \
		env -i "${envs[@]}" "${argv[@]}" 2>>"${ERR[$s]}" &
	WRAP[$s]=$!
	for ((tries = 0; tries < 100; tries++)); do
		if PID[$s]=$(child_of "${WRAP[$s]}" rilld); then
			return 0
		fi
		running "${WRAP[$s]}" || break
		sleep 0.05
	done
	fail "$s: rilld did not start under unshare (pid ${WRAP[$s]})"
}

# wait_healthy SVC: run SVC's compose healthcheck in its namespace until it
# passes, at most as long as Docker takes to call SVC unhealthy.
wait_healthy() {
	local s=$1 m=${MODEL[$1]} limit rc
	[[ -s $m/svc/$s/health ]] || fail "$s has no healthcheck to wait for"
	nul_list "$m/svc/$s/health"
	limit=$(($(cat "$m/svc/$s/health_wait_s") + SECONDS))
	while ((SECONDS <= limit)); do
		if ! running "${WRAP[$s]}"; then
			rc=0
			wait "${WRAP[$s]}" || rc=$?
			fail "$s: rilld exited ($rc) before its healthcheck passed"
		fi
		if inns "$s" "${LIST[@]}" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	fail "$s: its healthcheck (${LIST[*]}) did not pass in" \
		"$(cat "$m/svc/$s/health_wait_s") s"
}

# stop SVC: send SVC's stop signal to rilld; it must exit 0 within its
# stop_grace_period.
stop() {
	local s=$1 m=${MODEL[$1]} sig grace t0 rc=0
	sig=$(cat "$m/svc/$s/stop_signal")
	grace=$(cat "$m/svc/$s/grace_s")
	t0=$SECONDS
	kill -s "${sig#SIG}" "${PID[$s]}"
	while running "${WRAP[$s]}"; do
		((SECONDS - t0 <= grace)) ||
			fail "$s: rilld still runs ${grace} s (stop_grace_period)" \
				"after $sig"
		sleep 0.05
	done
	wait "${WRAP[$s]}" || rc=$?
	[[ $rc == 0 ]] || fail "$s: rilld exited $rc after $sig"
	pass "$s: rilld exited 0 in $((SECONDS - t0)) s of ${grace} s after $sig"
}

# ----------------------------------------------------------------------
echo "step: start the services in depends_on order"
for s in "${SERVICES[@]}"; do
	start "$s"
done
for s in "${SERVICES[@]}"; do
	wait_healthy "$s"
	[[ $(cat "/proc/${PID[$s]}/status" | awk '$1 == "NSpid:" { print $NF }') == 1 ]] ||
		fail "$s: rilld is not PID 1 of its PID namespace"
done
pass "all healthy by their compose healthcheck; each rilld is PID 1"

LEADER_URL=$(env_of "${FOLLOWERS[0]}" RILL_FOLLOW)
for s in "${FOLLOWERS[@]}"; do
	[[ $(env_of "$s" RILL_FOLLOW) == "$LEADER_URL" ]] ||
		fail "$s follows $(env_of "$s" RILL_FOLLOW), ${FOLLOWERS[0]} $LEADER_URL"
done
[[ $(env_of "$L" RILL_ADVERTISE) == "$LEADER_URL" ]] ||
	fail "$L advertises '$(env_of "$L" RILL_ADVERTISE)'; followers follow $LEADER_URL"

# following SVC URL: SVC streams from URL.
following() {
	[[ $(status "$1" follow_state) == following &&
		$(status "$1" leader) == "$2" ]]
}
for s in "${FOLLOWERS[@]}"; do
	poll 300 following "$s" "$LEADER_URL" ||
		fail "$s does not follow $LEADER_URL: $(admin "$s" /v1/status)"
done
for s in "${SERVICES[@]}"; do
	poll 300 admin_ok "$s" /ready >/dev/null ||
		fail "$s is not ready: $(admin "$s" /ready)"
	[[ $(status "$s" role) == "$([[ $s == "$L" ]] && echo leader || echo follower)" ]] ||
		fail "$s has the role $(status "$s" role)"
done
pass "/health and /ready pass everywhere; ${FOLLOWERS[*]} follow $LEADER_URL"

# Each published port's target answers on the service's address, from
# the hub (where Docker forwards published ports from).
for s in "${SERVICES[@]}"; do
	while read -r _ published target _; do
		ip netns exec "$HUB" timeout 5 bash -c \
			"exec 3<>/dev/tcp/${ADDR[$s]}/$target" 2>/dev/null ||
			fail "$s: nothing answers on ${ADDR[$s]}:$target (published as $published)"
	done <"$TMP/m1/svc/$s/ports"
done
pass "every published port's target answers on the service's network address"

# followers_listed SVC ADVERTISE: SVC's /v1/followers names ADVERTISE.
followers_listed() {
	grep -qF "\"$2\"" <<<"$(admin_ok "$1" /v1/followers)"
}
for s in "${FOLLOWERS[@]}"; do
	poll 300 followers_listed "$L" "$(env_of "$s" RILL_ADVERTISE)" ||
		fail "$L does not list $s as $(env_of "$s" RILL_ADVERTISE):" \
			"$(admin "$L" /v1/followers)"
done
pass "$L lists each follower at the address it advertises"

# ----------------------------------------------------------------------
# put_many SVC URL PREFIX N: N puts with rillctl in SVC's namespace; SEQ
# is the last one's seq.
put_many() {
	local s=$1 url=$2 i out
	for ((i = 0; i < $4; i++)); do
		out=$(inns "$s" "$RILLCTL" --url "$url" put "$3$i" "value $3$i") ||
			fail "rillctl put $3$i to $url from $s failed"
		SEQ=${out#seq: }
	done
}

# caught_up SVC: SVC's /v1/hash is at REF_SEQ or past it.
caught_up() {
	local h
	h=$(admin_ok "$1" /v1/hash) || return 1
	[[ $(json seq <<<"$h") -ge $REF_SEQ ]]
}

# converged REF SVC...: REF's state hash is at SEQ (the last write), and
# each SVC reaches that seq with that hash.
converged() {
	local ref=$1 s h ref_hash
	h=$(admin_ok "$ref" /v1/hash) || fail "no /v1/hash from $ref"
	REF_SEQ=$(json seq <<<"$h")
	ref_hash=$(json hash <<<"$h")
	[[ $REF_SEQ == "$SEQ" ]] ||
		fail "$ref's hash is at seq $REF_SEQ, its last write at $SEQ"
	shift
	for s in "$@"; do
		poll 300 caught_up "$s" ||
			fail "$s did not reach seq $REF_SEQ: $(admin "$s" /v1/status)"
		h=$(admin_ok "$s" /v1/hash)
		[[ $(json seq <<<"$h") == "$REF_SEQ" && $(json hash <<<"$h") == "$ref_hash" ]] ||
			fail "$s: $h; $ref: seq $REF_SEQ hash $ref_hash"
	done
	pass "${*} at $ref's seq $REF_SEQ with its hash $ref_hash"
}

LAST=${FOLLOWERS[${#FOLLOWERS[@]} - 1]}
echo "step: 10 writes from $LAST's namespace to $LEADER_URL with rillctl"
put_many "$LAST" "$LEADER_URL" k 10
[[ $SEQ -ge 10 ]] || fail "the 10th write got seq $SEQ"
converged "$L" "${FOLLOWERS[@]}"
got=$(inns "$P" "$RILLCTL" --url "$(env_of "$P" RILL_ADVERTISE)" get k7) ||
	fail "rillctl get k7 from $P failed"
[[ $got == "value k7" ]] || fail "$P has k7 = '$got'"
pass "$P serves the leader's writes to rillctl"

echo "step: a snapshot on $L: 401 without the token or with a wrong one"
TOKEN=$(env_of "$L" RILL_ADMIN_TOKEN)
TOKEN=${TOKEN%%,*}
[[ -n $TOKEN ]] || fail "$L has no RILL_ADMIN_TOKEN"
out=$(admin "$L" /v1/snapshots -X POST)
[[ ${out##*$'\n'} == 401 ]] || fail "a snapshot without a token: $out"
out=$(admin "$L" /v1/snapshots -X POST -H "Authorization: Bearer not-$TOKEN")
[[ ${out##*$'\n'} == 401 ]] || fail "a snapshot with a wrong token: $out"
out=$(admin "$L" /v1/snapshots -X POST -H "Authorization: Bearer $TOKEN")
[[ ${out##*$'\n'} == 200 ]] || fail "a snapshot with the token: $out"
body=${out%$'\n'*}
[[ $(json seq <<<"$body") == "$SEQ" ]] || fail "the snapshot is not at $SEQ: $body"
pass "401 twice, then a snapshot at seq $SEQ"
BACKUP=$(env_of "$L" RILL_BACKUP)
[[ -n $BACKUP && -d $BACKUP ]] ||
	fail "$L's RILL_BACKUP '$BACKUP' is not a mounted volume"
SNAP=$BACKUP/generations/$(json generation <<<"$body")/snapshots/$(printf '%016x' "$SEQ").snap
poll 100 test -s "$SNAP" || fail "the backup volume lacks $SNAP"
pass "the snapshot is in the backup volume ($(basename "$SNAP"))"
# As `docker-compose exec leader rillctl validate --backup /backup` does.
inns "$L" env TMPDIR="$TMP" "$RILLCTL" validate --backup "$BACKUP" \
	>"$TMP/validate.out" 2>&1 ||
	fail "rillctl validate of the backup volume failed: $(cat "$TMP/validate.out")"
pass "rillctl validate on $L: $(head -n 1 "$TMP/validate.out")"

echo "step: stop $L, promote $P"
BOOTSTRAPS=()
for s in "${FOLLOWERS[@]:1}"; do
	BOOTSTRAPS+=("$(status "$s" bootstraps)")
done
stop "$L"
out=$(admin "$P" /v1/promote -X POST -H "Authorization: Bearer not-$TOKEN")
[[ ${out##*$'\n'} == 401 ]] || fail "a promotion with a wrong token: $out"
out=$(admin "$P" /v1/promote -X POST -H "Authorization: Bearer $TOKEN")
[[ ${out##*$'\n'} == 200 ]] || fail "the promotion of $P: $out"
is_leader() {
	[[ $(status "$1" role) == leader ]]
}
poll 300 is_leader "$P" || fail "$P is not the leader: $(admin "$P" /v1/status)"
pass "$P promoted (401 with a wrong token first)"

P_URL=$(env_of "$P" RILL_ADVERTISE)
echo "step: a compose override points ${FOLLOWERS[*]:1} at $P_URL"
{
	echo "services:"
	for s in "${FOLLOWERS[@]:1}"; do
		printf '  %s:\n    environment:\n      RILL_FOLLOW: %s\n' "$s" "$P_URL"
	done
} >"$TMP/override.yml"
docker-compose -f "$COMPOSE_FILE_PATH" -f "$TMP/override.yml" \
	--env-file "$ENV_SET" config >"$TMP/config2.yml" 2>"$TMP/config2.err" ||
	fail "config with the override failed: $(cat "$TMP/config2.err")"
[[ ! -s $TMP/config2.err ]] || fail "config with the override warns: $(cat "$TMP/config2.err")"
model "$TMP/config2.yml" "$TMP/m2"
i=0
for s in "${FOLLOWERS[@]:1}"; do
	# The environment differs in RILL_FOLLOW alone.
	diff <(tr '\0' '\n' <"$TMP/m1/svc/$s/env" | grep -v '^RILL_FOLLOW=' | sort) \
		<(tr '\0' '\n' <"$TMP/m2/svc/$s/env" | grep -v '^RILL_FOLLOW=' | sort) \
		>/dev/null || fail "the override changed more than $s's RILL_FOLLOW"
	stop "$s"
	MODEL[$s]=$TMP/m2
	start "$s" --no-deps # the old leader it depends on is gone
	wait_healthy "$s"
	poll 300 following "$s" "$P_URL" ||
		fail "$s does not follow $P_URL: $(admin "$s" /v1/status)"
	[[ $(status "$s" bootstraps) == "${BOOTSTRAPS[$i]}" ]] ||
		fail "$s loaded a snapshot again (bootstraps ${BOOTSTRAPS[$i]} ->" \
			"$(status "$s" bootstraps)): it should go on from its position"
	i=$((i + 1))
done
pass "repointed: ${FOLLOWERS[*]:1} now on $P_URL, from where they were (no new snapshot)"

ALL_URLS=
for s in "${SERVICES[@]}"; do
	ALL_URLS+=${ALL_URLS:+,}$(env_of "$s" RILL_ADVERTISE)
done
echo "step: 5 writes to every node's address ($ALL_URLS): the new leader takes them"
FIRST_SEQ=$SEQ
put_many "$LAST" "$ALL_URLS" after 5
[[ $SEQ -ge $((FIRST_SEQ + 5)) ]] ||
	fail "the writes after the promotion got seq $SEQ (before: $FIRST_SEQ)"
converged "$P" "${FOLLOWERS[@]:1}"

echo "check: the rillds stop cleanly"
for ((i = ${#FOLLOWERS[@]} - 1; i >= 0; i--)); do
	stop "${FOLLOWERS[$i]}"
done

echo "$PASSED passed, 0 failed"
