// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// sdk_test: the SDK against a real rilld: every call round trips, scans
// cover their range in either direction, bad arguments get clear codes,
// and many asynchronous calls from one thread complete.
#include <pthread.h>
#include <signal.h>

#include <rill/rill.h>

#include "harness.h"
#include "test.h"

static rill_test_server srv;
static rill_client     *client;

static void
test_put_get_delete(void)
{
	uint64_t seq1 = 0, seq2 = 0;
	void    *v;
	size_t   n;

	CHECK_EQ_INT(
	    rill_put(client, "alpha", 5, "one", 3, &seq1, NULL), RILL_OK);
	CHECK(seq1 > 0);
	CHECK_EQ_INT(rill_get(client, "alpha", 5, &v, &n, NULL), RILL_OK);
	CHECK(n == 3 && memcmp(v, "one", 3) == 0);
	rill_free(v);
	CHECK_EQ_INT(
	    rill_put(client, "alpha", 5, "two", 3, &seq2, NULL), RILL_OK);
	CHECK(seq2 == seq1 + 1);
	CHECK_EQ_INT(rill_delete(client, "alpha", 5, NULL, NULL), RILL_OK);
	CHECK_EQ_INT(
	    rill_get(client, "alpha", 5, &v, &n, NULL), RILL_NOT_FOUND);
	// Deleting a missing key succeeds.
	CHECK_EQ_INT(rill_delete(client, "alpha", 5, NULL, NULL), RILL_OK);
}

static void
test_binary_keys_and_values(void)
{
	const char key[] = { 0, 1, 0, (char) 0xff };
	char       value[1000];
	void      *v;
	size_t     n;

	for (size_t i = 0; i < sizeof(value); i++) {
		value[i] = (char) (i * 7);
	}
	CHECK_EQ_INT(rill_put(client, key, sizeof(key), value, sizeof(value),
	                 NULL, NULL),
	    RILL_OK);
	CHECK_EQ_INT(
	    rill_get(client, key, sizeof(key), &v, &n, NULL), RILL_OK);
	CHECK(n == sizeof(value) && memcmp(v, value, n) == 0);
	rill_free(v);
	// An empty value is a value.
	CHECK_EQ_INT(rill_put(client, "empty", 5, "", 0, NULL, NULL), RILL_OK);
	CHECK_EQ_INT(rill_get(client, "empty", 5, &v, &n, NULL), RILL_OK);
	CHECK_EQ_INT(n, 0);
	rill_free(v);
}

static void
test_batch_is_atomic_and_ordered(void)
{
	rill_batch *b;
	uint64_t    seq;
	void       *v;
	size_t      n;

	CHECK_EQ_INT(rill_batch_new(&b), RILL_OK);
	CHECK_EQ_INT(rill_batch_put(b, "b1", 2, "x", 1), RILL_OK);
	CHECK_EQ_INT(rill_batch_put(b, "b2", 2, "y", 1), RILL_OK);
	CHECK_EQ_INT(rill_batch_delete(b, "b1", 2), RILL_OK);
	CHECK_EQ_INT(rill_batch_put(b, "b3", 2, "z", 1), RILL_OK);
	CHECK_EQ_INT(rill_batch_count(b), 4);
	CHECK_EQ_INT(rill_write(client, b, &seq, NULL), RILL_OK);
	CHECK_EQ_INT(rill_get(client, "b1", 2, &v, &n, NULL), RILL_NOT_FOUND);
	CHECK_EQ_INT(rill_get(client, "b2", 2, &v, &n, NULL), RILL_OK);
	rill_free(v);
	// A batch with one bad op changes nothing.
	rill_batch_clear(b);
	CHECK_EQ_INT(rill_batch_put(b, "b4", 2, "w", 1), RILL_OK);
	rill_batch_put(b, "", 0, "w", 1);
	CHECK_EQ_INT(rill_write(client, b, NULL, NULL), RILL_INVALID_ARGUMENT);
	CHECK_EQ_INT(rill_get(client, "b4", 2, &v, &n, NULL), RILL_NOT_FOUND);
	rill_batch_clear(b);
	CHECK_EQ_INT(rill_write(client, b, NULL, NULL), RILL_INVALID_ARGUMENT);
	rill_batch_free(b);
}

static void
test_bad_arguments(void)
{
	rill_node_status st;
	char            *big;
	void            *v;
	size_t           n;
	uint64_t         before;

	CHECK_EQ_INT(rill_status(client, &st, NULL), RILL_OK);
	before = st.last_seq;
	CHECK_EQ_INT(rill_put(client, "", 0, "v", 1, NULL, NULL),
	    RILL_INVALID_ARGUMENT);
	CHECK(strstr(rill_last_message(), "empty") != NULL);
	CHECK_EQ_INT(
	    rill_get(client, "", 0, &v, &n, NULL), RILL_INVALID_ARGUMENT);
	big = calloc(1, 70000);
	CHECK(big != NULL);
	memset(big, 'k', 70000);
	CHECK_EQ_INT(rill_put(client, big, 70000, "v", 1, NULL, NULL),
	    RILL_INVALID_ARGUMENT);
	CHECK(strstr(rill_last_message(), "limit") != NULL);
	free(big);
	// A value over the server's 8 MiB limit, but under the request
	// limit: refused by the server.
	big = calloc(1, (9u << 20));
	CHECK(big != NULL);
	CHECK_EQ_INT(rill_put(client, "k", 1, big, 9u << 20, NULL, NULL),
	    RILL_INVALID_ARGUMENT);
	free(big);
	// Over the request limit: refused before it is sent.
	big = calloc(1, (17u << 20));
	CHECK(big != NULL);
	CHECK_EQ_INT(rill_put(client, "k", 1, big, 17u << 20, NULL, NULL),
	    RILL_RESOURCE_EXHAUSTED);
	free(big);
	CHECK_EQ_INT(rill_status(client, &st, NULL), RILL_OK);
	CHECK_EQ_INT(st.last_seq, before);
}

// scan_collect reads a whole scan into "k1,k2,..." in buf.
static int
scan_collect(const rill_scan_opts *o, char *buf, size_t cap)
{
	rill_scan  *s;
	const void *k, *v;
	size_t      kn, vn, used = 0;
	int         rv;

	buf[0] = '\0';
	if ((rv = rill_scan_open(client, o, &s)) != RILL_OK) {
		return rv;
	}
	while (rill_scan_next(s, &k, &kn, &v, &vn)) {
		if (used + kn + 2 > cap) {
			break;
		}
		if (used > 0) {
			buf[used++] = ',';
		}
		memcpy(buf + used, k, kn);
		used += kn;
		buf[used] = '\0';
	}
	rv = rill_scan_error(s);
	rill_scan_close(s);
	return rv;
}

static void
test_scan_ranges(void)
{
	static const char *keys[] = { "s/a", "s/b", "s/c", "s/d", "t/a", "t/b",
		"u" };
	rill_batch        *b;
	rill_scan_opts     o;
	char               got[256];

	CHECK_EQ_INT(rill_batch_new(&b), RILL_OK);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		rill_batch_put(b, keys[i], strlen(keys[i]), "v", 1);
	}
	CHECK_EQ_INT(rill_write(client, b, NULL, NULL), RILL_OK);
	rill_batch_free(b);

	memset(&o, 0, sizeof(o));
	o.start = "s/b", o.start_len = 3, o.end = "t/b", o.end_len = 3;
	CHECK_EQ_INT(scan_collect(&o, got, sizeof(got)), RILL_OK);
	CHECK_EQ_STR(got, "s/b,s/c,s/d,t/a");
	o.reverse = true;
	CHECK_EQ_INT(scan_collect(&o, got, sizeof(got)), RILL_OK);
	CHECK_EQ_STR(got, "t/a,s/d,s/c,s/b");

	memset(&o, 0, sizeof(o));
	o.prefix = "t/", o.prefix_len = 2;
	CHECK_EQ_INT(scan_collect(&o, got, sizeof(got)), RILL_OK);
	CHECK_EQ_STR(got, "t/a,t/b");
	o.reverse = true;
	CHECK_EQ_INT(scan_collect(&o, got, sizeof(got)), RILL_OK);
	CHECK_EQ_STR(got, "t/b,t/a");

	memset(&o, 0, sizeof(o));
	o.prefix = "s/", o.prefix_len = 2, o.limit = 3, o.page_size = 2;
	CHECK_EQ_INT(scan_collect(&o, got, sizeof(got)), RILL_OK);
	CHECK_EQ_STR(got, "s/a,s/b,s/c");
	o.reverse = true;
	CHECK_EQ_INT(scan_collect(&o, got, sizeof(got)), RILL_OK);
	CHECK_EQ_STR(got, "s/d,s/c,s/b");

	memset(&o, 0, sizeof(o));
	o.start = "t", o.start_len = 1, o.page_size = 1;
	CHECK_EQ_INT(scan_collect(&o, got, sizeof(got)), RILL_OK);
	CHECK_EQ_STR(got, "t/a,t/b,u");

	memset(&o, 0, sizeof(o));
	o.start = "z", o.start_len = 1, o.end = "a", o.end_len = 1;
	CHECK_EQ_INT(
	    scan_collect(&o, got, sizeof(got)), RILL_INVALID_ARGUMENT);
}

static void
test_status(void)
{
	rill_node_status st;

	CHECK_EQ_INT(rill_status(client, &st, NULL), RILL_OK);
	CHECK_EQ_STR(st.role, "leader");
	CHECK_EQ_INT(strlen(st.node_id), 16);
	CHECK_EQ_INT(strlen(st.generation), 16);
	CHECK(st.last_seq > 0);
	CHECK(st.applied_seq == st.last_seq);
	CHECK_EQ_INT(st.oldest_seq, 1);
	CHECK(st.version[0] != '\0');
}

// Many asynchronous puts from one thread, then gets of each.
#define N_ASYNC 2000

typedef struct async_state {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	int             done;
	int             failed;
	int             found;
} async_state;

static void
async_done(void *arg, const rill_result *r)
{
	async_state *st = arg;
	pthread_mutex_lock(&st->mu);
	st->done++;
	if (r->code != RILL_OK) {
		st->failed++;
	} else if (r->value != NULL && r->value_len == 6 &&
	    memcmp(r->value, "async!", 6) == 0) {
		st->found++;
	}
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

static void
wait_done(async_state *st, int n)
{
	pthread_mutex_lock(&st->mu);
	while (st->done < n) {
		pthread_cond_wait(&st->cv, &st->mu);
	}
	pthread_mutex_unlock(&st->mu);
}

static void
test_async_many_in_flight(void)
{
	async_state st = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
		0, 0, 0 };
	char        key[32];

	for (int i = 0; i < N_ASYNC; i++) {
		int n = snprintf(key, sizeof(key), "async/%05d", i);
		CHECK_EQ_INT(rill_put_async(client, key, (size_t) n, "async!",
		                 6, NULL, async_done, &st),
		    RILL_OK);
	}
	wait_done(&st, N_ASYNC);
	CHECK_EQ_INT(st.failed, 0);
	st.done = 0;
	for (int i = 0; i < N_ASYNC; i++) {
		int n = snprintf(key, sizeof(key), "async/%05d", i);
		CHECK_EQ_INT(rill_get_async(client, key, (size_t) n, NULL,
		                 async_done, &st),
		    RILL_OK);
	}
	wait_done(&st, N_ASYNC);
	CHECK_EQ_INT(st.failed, 0);
	CHECK_EQ_INT(st.found, N_ASYNC);
}

RILL_TEST_GLOBALS

int
main(void)
{
	rill_test_server_init(&srv, "sdk");
	if (!rill_test_server_start(&srv, NULL, NULL)) {
		fprintf(stderr, "rilld did not start; see %s\n", srv.log_path);
		return 1;
	}
	if (rill_open(&client, srv.url, NULL) != RILL_OK) {
		fprintf(stderr, "rill_open failed\n");
		return 1;
	}
	RILL_TEST_RUN(test_put_get_delete);
	RILL_TEST_RUN(test_binary_keys_and_values);
	RILL_TEST_RUN(test_batch_is_atomic_and_ordered);
	RILL_TEST_RUN(test_bad_arguments);
	RILL_TEST_RUN(test_scan_ranges);
	RILL_TEST_RUN(test_status);
	RILL_TEST_RUN(test_async_many_in_flight);
	rill_close(client);
	if (rill_test_server_stop(&srv, SIGTERM) != 0) {
		fprintf(stderr, "rilld did not exit 0 on SIGTERM\n");
		rill_test_n_fail_++;
	}
	rill_test_server_cleanup(&srv);
	return RILL_TEST_SUMMARY();
}
