// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// local_consumer: a program built against an installed librill-local the
// way an application is (install_test.sh builds it with pkg-config and
// with find_package(rill COMPONENTS local)). Given a directory, it opens
// it with rill_open_local (it leads: nobody else uses the dir), puts,
// gets and asks the status, which must say that this process leads.
#include <stdio.h>
#include <string.h>

#include <rill/local.h>

// fail prints what went wrong with the SDK's message and returns 1.
static int
fail(const char *what, int code)
{
	fprintf(stderr, "local_consumer: %s: %s (%s)\n", what,
	    rill_last_message(), rill_status_name(code));
	return 1;
}

int
main(int argc, char **argv)
{
	rill_local_options lo;
	rill_node_status   st;
	rill_client       *c;
	void              *v;
	size_t             n;
	int                rv;

	if (argc != 2) {
		fprintf(stderr, "usage: local_consumer DIR\n");
		return 2;
	}
	rill_local_options_init(&lo);
	lo.client.deadline_ms = 10000;
	if ((rv = rill_open_local(&c, argv[1], &lo)) != RILL_OK) {
		return fail("rill_open_local", rv);
	}
	rv = rill_put(c, "local/k", 7, "v", 1, NULL, NULL);
	if (rv == RILL_OK) {
		rv = rill_get(c, "local/k", 7, &v, &n, NULL);
		if (rv == RILL_OK) {
			rv = n == 1 && memcmp(v, "v", 1) == 0 ? RILL_OK
			                                      : RILL_EPROTO;
			rill_free(v);
		}
	}
	if (rv == RILL_OK) {
		rv = rill_status(c, &st, NULL);
	}
	if (rv != RILL_OK) {
		rill_close(c);
		return fail("round trip", rv);
	}
	if (!st.local_leader || !rill_local_is_leader(c)) {
		rill_close(c);
		fprintf(stderr, "local_consumer: this process should lead\n");
		return 1;
	}
	rill_close(c);
	printf("local_consumer: ok\n");
	return 0;
}
