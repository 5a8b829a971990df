# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The rill Authors
#
# netns.sh: network namespaces for the integration tests that run rillds
# as separate hosts. Each node is a namespace; a hub namespace holds the
# bridges; a veth joins a node to a bridge. A test sources it after
# common.sh, needs root and iproute2, and calls netns_remove_all from its
# EXIT trap:
#
#   . "$(dirname "$0")/../lib/netns.sh"
#
# netns_hub NAME          make the hub namespace NAME (NETNS_HUB), lo up
# netns_bridge BR [ADDR/PREFIX]
#                         a bridge BR in the hub, up, with ADDR if given
#                         (a gateway the hub can reach the nodes from)
# netns_add NS            make the namespace NS, lo up
# netns_link NS BR HUBDEV NSDEV ADDR/PREFIX
#                         a veth: HUBDEV in the hub on bridge BR, its peer
#                         NSDEV in NS with ADDR, both up
# netns_remove_all        remove every namespace made above (their veths
#                         and bridges go with them); names any it cannot
# poll TRIES CMD...       run CMD every 0.1 s until it succeeds, at most
#                         TRIES times; false if it never does

NETNS=()
NETNS_HUB=

netns_hub() {
	ip netns add "$1"
	NETNS+=("$1")
	NETNS_HUB=$1
	ip -n "$1" link set lo up
}

netns_bridge() {
	ip -n "$NETNS_HUB" link add "$1" type bridge
	if [[ -n ${2:-} ]]; then
		ip -n "$NETNS_HUB" addr add "$2" dev "$1"
	fi
	ip -n "$NETNS_HUB" link set "$1" up
}

netns_add() {
	ip netns add "$1"
	NETNS+=("$1")
	ip -n "$1" link set lo up
}

netns_link() {
	local ns=$1 br=$2 hubdev=$3 nsdev=$4 addr=$5
	# Both ends are made in the hub; one moves to the node.
	ip -n "$NETNS_HUB" link add "$hubdev" type veth peer name "$nsdev" \
		netns "$ns"
	ip -n "$NETNS_HUB" link set "$hubdev" master "$br" up
	ip -n "$ns" addr add "$addr" dev "$nsdev"
	ip -n "$ns" link set "$nsdev" up
}

netns_remove_all() {
	local ns
	for ns in "${NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null ||
			echo "netns: cannot remove namespace $ns" >&2
	done
	NETNS=()
}

poll() {
	local tries=$1 i
	shift
	for ((i = 0; i < tries; i++)); do
		if "$@" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
