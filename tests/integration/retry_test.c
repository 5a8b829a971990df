// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// retry_test: the SDK's retries never write twice, and scans survive a
// lost connection. A rilld that drops the reply of every third write (its
// test hook, RILL_TEST_DROP_REPLY_EVERY) makes the SDK retry with the same
// request id: each write is applied once. A rilld restarted in the middle
// of a paged scan costs the scan nothing: every key comes once, in order.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <rill/rill.h>

#include "harness.h"
#include "test.h"

static void
test_lost_reply_is_retried_and_applied_once(void)
{
	rill_test_server  srv;
	const char *const env[] = { "RILL_TEST_DROP_REPLY_EVERY=3", NULL };
	rill_client      *c;
	rill_options      o;
	rill_node_status  st;
	char              key[32];
	uint64_t          seqs[60];

	rill_test_server_init(&srv, "lostreply");
	CHECK(rill_test_server_start(&srv, NULL, env));
	rill_options_init(&o);
	o.attempt_timeout_ms = 150;
	o.deadline_ms        = 10000;
	CHECK_EQ_INT(rill_open(&c, srv.url, &o), RILL_OK);
	for (int i = 0; i < 60; i++) {
		int n = snprintf(key, sizeof(key), "lost/%02d", i);
		CHECK_EQ_INT(
		    rill_put(c, key, (size_t) n, "v", 1, &seqs[i], NULL),
		    RILL_OK);
		// Applied once: each write has the next seq, with no gap
		// a second application would leave.
		CHECK_EQ_INT(seqs[i], (uint64_t) i + 1);
	}
	CHECK_EQ_INT(rill_status(c, &st, NULL), RILL_OK);
	CHECK_EQ_INT(st.last_seq, 60);
	rill_close(c);
	// The server really dropped replies (20 of them, one in three).
	CHECK(rill_test_log_contains(&srv, "RPC-TEST-DROP"));
	CHECK_EQ_INT(rill_test_server_stop(&srv, SIGTERM), 0);
	rill_test_server_cleanup(&srv);
}

typedef struct put_job {
	rill_client *c;
	int          rv;
	uint64_t     seq;
} put_job;

static void *
put_thread(void *arg)
{
	put_job *j = arg;
	j->rv      = rill_put(j->c, "restart/key", 11, "v", 1, &j->seq, NULL);
	return NULL;
}

static void
test_retry_across_restart_is_applied_once(void)
{
	rill_test_server  srv;
	const char *const drop_all[] = { "RILL_TEST_DROP_REPLY_EVERY=1",
		NULL };
	rill_client      *c;
	rill_options      o;
	rill_node_status  st;
	pthread_t         t;
	put_job           j;

	// Every write reply is lost until rilld restarts without the hook:
	// the SDK keeps retrying the same request id across the restart, and
	// the restarted server knows it from its log.
	rill_test_server_init(&srv, "restartretry");
	CHECK(rill_test_server_start(&srv, NULL, drop_all));
	rill_options_init(&o);
	o.attempt_timeout_ms = 200;
	o.deadline_ms        = 30000;
	o.reconnect_min_ms   = 20;
	o.reconnect_max_ms   = 100;
	CHECK_EQ_INT(rill_open(&c, srv.url, &o), RILL_OK);
	j = (put_job) { .c = c, .rv = -1 };
	pthread_create(&t, NULL, put_thread, &j);
	// Wait until the write is in the log (its reply was dropped): up to
	// a minute, for a sanitizer build on a busy machine.
	for (int i = 0; i < 6000; i++) {
		if (rill_test_log_contains(&srv, "RPC-TEST-DROP")) {
			break;
		}
		usleep(10000);
	}
	CHECK(rill_test_log_contains(&srv, "RPC-TEST-DROP"));
	CHECK_EQ_INT(rill_test_server_stop(&srv, SIGKILL) != 0, 1);
	CHECK(rill_test_server_start(&srv, NULL, NULL));
	pthread_join(t, NULL);
	CHECK_EQ_INT(j.rv, RILL_OK);
	CHECK_EQ_INT(j.seq, 1);
	CHECK_EQ_INT(rill_status(c, &st, NULL), RILL_OK);
	CHECK_EQ_INT(st.last_seq, 1);
	rill_close(c);
	CHECK_EQ_INT(rill_test_server_stop(&srv, SIGTERM), 0);
	rill_test_server_cleanup(&srv);
}

#define N_SCAN_KEYS 3000

static void
test_scan_resumes_after_restart(void)
{
	rill_test_server srv;
	rill_client     *c;
	rill_options     o;
	rill_batch      *b;
	rill_scan       *s;
	rill_scan_opts   so = { 0 };
	const void      *k, *v;
	size_t           kn, vn;
	char             key[32];
	int              n = 0;

	rill_test_server_init(&srv, "scanresume");
	CHECK(rill_test_server_start(&srv, NULL, NULL));
	rill_options_init(&o);
	o.deadline_ms      = 20000;
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 100;
	CHECK_EQ_INT(rill_open(&c, srv.url, &o), RILL_OK);
	CHECK_EQ_INT(rill_batch_new(&b), RILL_OK);
	for (int i = 0; i < N_SCAN_KEYS; i++) {
		int kl = snprintf(key, sizeof(key), "scan/%05d", i);
		rill_batch_put(b, key, (size_t) kl, key, (size_t) kl);
		if (rill_batch_count(b) == 500) {
			CHECK_EQ_INT(rill_write(c, b, NULL, NULL), RILL_OK);
			rill_batch_clear(b);
		}
	}
	rill_batch_free(b);

	so.prefix     = "scan/";
	so.prefix_len = 5;
	so.page_size  = 100;
	CHECK_EQ_INT(rill_scan_open(c, &so, &s), RILL_OK);
	while (rill_scan_next(s, &k, &kn, &v, &vn)) {
		int kl = snprintf(key, sizeof(key), "scan/%05d", n);
		if (kn != (size_t) kl || memcmp(k, key, kn) != 0 || vn != kn ||
		    memcmp(v, key, vn) != 0) {
			break;
		}
		n++;
		if (n == N_SCAN_KEYS / 2) {
			// The connection goes down in the middle of the scan.
			CHECK(rill_test_server_stop(&srv, SIGKILL) != 0);
			CHECK(rill_test_server_start(&srv, NULL, NULL));
		}
	}
	CHECK_EQ_INT(rill_scan_error(s), RILL_OK);
	rill_scan_close(s);
	CHECK_EQ_INT(n, N_SCAN_KEYS);
	rill_close(c);
	CHECK_EQ_INT(rill_test_server_stop(&srv, SIGTERM), 0);
	rill_test_server_cleanup(&srv);
}

RILL_TEST_GLOBALS

int
main(void)
{
	RILL_TEST_RUN(test_lost_reply_is_retried_and_applied_once);
	RILL_TEST_RUN(test_retry_across_restart_is_applied_once);
	RILL_TEST_RUN(test_scan_resumes_after_restart);
	return RILL_TEST_SUMMARY();
}
