// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// sdk_consumer: a program built against an installed librill the way an
// application is (install_test.sh builds it with pkg-config and with
// find_package). Without arguments it checks what needs no server: the
// headers compile, the library loads, and a handle opens and closes. With
// a URL it also puts, gets, scans and asks the node's status there.
#include <stdio.h>
#include <string.h>

#include <rill/rill.h>

// fail prints what went wrong with the SDK's message and returns 1.
static int
fail(const char *what, int code)
{
	fprintf(stderr, "sdk_consumer: %s: %s (%s)\n", what,
	    rill_last_message(), rill_status_name(code));
	return 1;
}

// round_trip writes, reads and scans one key on client, and asks the
// node's status. Returns 0 when each call did what it should.
static int
round_trip(rill_client *client)
{
	rill_node_status st;
	rill_scan       *scan;
	rill_scan_opts   so = { .prefix = "consumer/", .prefix_len = 9 };
	const void      *k;
	size_t           n, klen;
	void            *v;
	uint64_t         seq;
	int              rv, n_keys = 0;

	if ((rv = rill_put(client, "consumer/k", 10, "v\0w", 3, &seq, NULL)) !=
	    RILL_OK) {
		return fail("put", rv);
	}
	if ((rv = rill_get(client, "consumer/k", 10, &v, &n, NULL)) !=
	    RILL_OK) {
		return fail("get", rv);
	}
	if (n != 3 || memcmp(v, "v\0w", 3) != 0) {
		fprintf(stderr, "sdk_consumer: get returned another value\n");
		rill_free(v);
		return 1;
	}
	rill_free(v);
	if ((rv = rill_scan_open(client, &so, &scan)) != RILL_OK) {
		return fail("scan", rv);
	}
	while (rill_scan_next(scan, &k, &klen, NULL, NULL)) {
		n_keys++;
	}
	rv = rill_scan_error(scan);
	rill_scan_close(scan);
	if (rv != RILL_OK || n_keys != 1) {
		return fail("scan", rv);
	}
	if ((rv = rill_status(client, &st, NULL)) != RILL_OK) {
		return fail("status", rv);
	}
	if (st.last_seq < seq) {
		fprintf(stderr, "sdk_consumer: status is behind the put\n");
		return 1;
	}
	printf("sdk_consumer: round trip with %s node %s at seq %llu\n",
	    st.role, st.node_id, (unsigned long long) seq);
	return 0;
}

int
main(int argc, char **argv)
{
	rill_options opts;
	rill_client *client;
	int          rv;

	if (strcmp(rill_status_name(RILL_NOT_FOUND), "NOT_FOUND") != 0 ||
	    strcmp(rill_strerror(RILL_OK), "ok") != 0) {
		fprintf(stderr, "sdk_consumer: status table is wrong\n");
		return 1;
	}
	rill_options_init(&opts);
	opts.deadline_ms = 5000;
	// Opening does not wait for a connection: any address will do.
	rv = rill_open(
	    &client, argc > 1 ? argv[1] : "tcp://127.0.0.1:1", &opts);
	if (rv != RILL_OK) {
		return fail("open", rv);
	}
	rv = argc > 1 ? round_trip(client) : 0;
	rill_close(client);
	if (rv == 0) {
		printf("sdk_consumer: ok\n");
	}
	return rv;
}
