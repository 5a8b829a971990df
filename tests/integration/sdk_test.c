// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// sdk_test: the SDK against a real rilld: every call round trips, scans
// cover their range in either direction, bad arguments get clear codes,
// and many asynchronous calls from one thread complete. Watches return
// exactly the changes after their seq (under a prefix, batches in order),
// across a restart of the node, and say clearly when retention removed
// their start; reads with min_seq wait for it or fail at the deadline.
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

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
	// A deadline longer than nng can count (2^31 ms): refused at once.
	rill_callopts forever = { .deadline_ms = UINT32_MAX };
	CHECK_EQ_INT(rill_put(client, "k", 1, "v", 1, NULL, &forever),
	    RILL_INVALID_ARGUMENT);
	CHECK(strstr(rill_last_message(), "deadline_ms") != NULL);
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
	// A leader names itself (its advertised URL: --listen by default).
	CHECK_EQ_STR(st.leader, srv.url);
	CHECK_EQ_INT(st.lag_records, 0);
	CHECK_EQ_INT(st.bootstraps, 0);
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

// Watches ------------------------------------------------------------------

// now_ms returns the monotonic clock in milliseconds.
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

// last_seq returns the node's last seq (0 when status fails).
static uint64_t
last_seq(rill_client *c)
{
	rill_node_status st;

	return rill_status(c, &st, NULL) == RILL_OK ? st.last_seq : 0;
}

// change_str formats ch as "SEQ put KEY=VALUE" or "SEQ del KEY".
static void
change_str(const rill_change *ch, char *buf, size_t cap)
{
	if (ch->type == RILL_CHANGE_PUT) {
		snprintf(buf, cap, "%" PRIu64 " put %.*s=%.*s", ch->seq,
		    (int) ch->key_len, (const char *) ch->key,
		    (int) ch->value_len, (const char *) ch->value);
	} else {
		snprintf(buf, cap, "%" PRIu64 " del %.*s", ch->seq,
		    (int) ch->key_len, (const char *) ch->key);
	}
}

// collect reads changes from w into buf ("a;b;c") until n have come or
// one wait of timeout_ms passes with none; returns how many came.
static int
collect(rill_watch *w, int n, uint32_t timeout_ms, char *buf, size_t cap)
{
	rill_change ch;
	char        one[256];
	int         got = 0;

	buf[0] = '\0';
	while (got < n && rill_watch_next(w, &ch, timeout_ms) == RILL_OK) {
		change_str(&ch, one, sizeof(one));
		if (got > 0) {
			strncat(buf, ";", cap - strlen(buf) - 1);
		}
		strncat(buf, one, cap - strlen(buf) - 1);
		got++;
	}
	return got;
}

static void
test_watch_from_seq(void)
{
	rill_watch_opts wo = { 0 };
	rill_watch     *w;
	rill_batch     *b;
	rill_change     ch;
	uint64_t        s0, s1, s2, s3;
	char            want[512], got[2048];

	s0 = last_seq(client);
	CHECK(s0 > 0);
	CHECK_EQ_INT(rill_put(client, "w/a", 3, "1", 1, &s1, NULL), RILL_OK);
	CHECK_EQ_INT(rill_delete(client, "w/a", 3, &s2, NULL), RILL_OK);
	CHECK_EQ_INT(rill_batch_new(&b), RILL_OK);
	rill_batch_put(b, "w/b", 3, "2", 1);
	rill_batch_delete(b, "w/c", 3);
	rill_batch_put(b, "w/d", 3, "", 0);
	CHECK_EQ_INT(rill_write(client, b, &s3, NULL), RILL_OK);
	rill_batch_free(b);

	// From s0: exactly the five ops, in order, the batch's at one seq.
	wo.after_seq = s0;
	CHECK_EQ_INT(rill_watch_open(client, &wo, &w), RILL_OK);
	CHECK_EQ_INT(rill_watch_seq(w), s0);
	CHECK_EQ_INT(collect(w, 5, 5000, got, sizeof(got)), 5);
	snprintf(want, sizeof(want),
	    "%" PRIu64 " put w/a=1;%" PRIu64 " del w/a;%" PRIu64
	    " put w/b=2;%" PRIu64 " del w/c;%" PRIu64 " put w/d=",
	    s1, s2, s3, s3, s3);
	CHECK_EQ_STR(got, want);
	CHECK_EQ_INT(rill_watch_seq(w), s3);
	// Nothing more: the wait ends with DEADLINE_EXCEEDED, and the watch
	// goes on after it.
	CHECK_EQ_INT(rill_watch_next(w, &ch, 200), RILL_DEADLINE_EXCEEDED);
	CHECK(strstr(rill_last_message(), "no change") != NULL);
	CHECK_EQ_INT(rill_put(client, "w/e", 3, "3", 1, &s1, NULL), RILL_OK);
	CHECK_EQ_INT(rill_watch_next(w, &ch, 5000), RILL_OK);
	CHECK_EQ_INT(ch.seq, s1);
	CHECK(ch.type == RILL_CHANGE_PUT && ch.key_len == 3 &&
	    memcmp(ch.key, "w/e", 3) == 0 && ch.time_us > 0);
	rill_watch_close(w);

	// From the middle: only what follows.
	wo.after_seq = s2;
	CHECK_EQ_INT(rill_watch_open(client, &wo, &w), RILL_OK);
	CHECK_EQ_INT(collect(w, 4, 5000, got, sizeof(got)), 4);
	snprintf(want, sizeof(want),
	    "%" PRIu64 " put w/b=2;%" PRIu64 " del w/c;%" PRIu64
	    " put w/d=;%" PRIu64 " put w/e=3",
	    s3, s3, s3, s1);
	CHECK_EQ_STR(got, want);
	// timeout 0: asks once, returns at once.
	CHECK_EQ_INT(rill_watch_next(w, &ch, 0), RILL_DEADLINE_EXCEEDED);
	rill_watch_close(w);

	// From now: only later changes.
	wo.after_seq = RILL_WATCH_FROM_NOW;
	CHECK_EQ_INT(rill_watch_open(client, &wo, &w), RILL_OK);
	CHECK_EQ_INT(rill_watch_seq(w), s1);
	CHECK_EQ_INT(rill_put(client, "w/f", 3, "4", 1, &s2, NULL), RILL_OK);
	CHECK_EQ_INT(collect(w, 1, 5000, got, sizeof(got)), 1);
	snprintf(want, sizeof(want), "%" PRIu64 " put w/f=4", s2);
	CHECK_EQ_STR(got, want);
	rill_watch_close(w);

	// Bad arguments.
	wo = (rill_watch_opts) { .prefix = NULL, .prefix_len = 2 };
	CHECK_EQ_INT(rill_watch_open(client, &wo, &w), RILL_INVALID_ARGUMENT);
	wo = (rill_watch_opts) { .read_preference = 9 };
	CHECK_EQ_INT(rill_watch_open(client, &wo, &w), RILL_INVALID_ARGUMENT);
}

static void
test_watch_prefix(void)
{
	rill_watch_opts wo = { .prefix = "p/", .prefix_len = 2 };
	rill_watch     *w;
	rill_batch     *b;
	rill_change     ch;
	uint64_t        s0, s1, s2, s3;
	char            want[512], got[2048];

	s0           = last_seq(client);
	wo.after_seq = s0;
	CHECK_EQ_INT(rill_put(client, "q/1", 3, "x", 1, NULL, NULL), RILL_OK);
	CHECK_EQ_INT(rill_put(client, "p/1", 3, "a", 1, &s1, NULL), RILL_OK);
	CHECK_EQ_INT(rill_batch_new(&b), RILL_OK);
	rill_batch_put(b, "q/2", 3, "y", 1);
	rill_batch_put(b, "p/2", 3, "b", 1);
	rill_batch_delete(b, "p/1", 3);
	rill_batch_put(b, "pp", 2, "z", 1);
	CHECK_EQ_INT(rill_write(client, b, &s2, NULL), RILL_OK);
	rill_batch_free(b);
	// A batch with nothing under the prefix moves the position only.
	CHECK_EQ_INT(rill_put(client, "r/1", 3, "z", 1, &s3, NULL), RILL_OK);

	CHECK_EQ_INT(rill_watch_open(client, &wo, &w), RILL_OK);
	CHECK_EQ_INT(collect(w, 3, 5000, got, sizeof(got)), 3);
	snprintf(want, sizeof(want),
	    "%" PRIu64 " put p/1=a;%" PRIu64 " put p/2=b;%" PRIu64 " del p/1",
	    s1, s2, s2);
	CHECK_EQ_STR(got, want);
	// The last op under the prefix ends the batch for this watch.
	CHECK_EQ_INT(rill_watch_seq(w), s2);
	CHECK_EQ_INT(rill_watch_next(w, &ch, 300), RILL_DEADLINE_EXCEEDED);
	CHECK_EQ_INT(rill_watch_seq(w), s3);
	rill_watch_close(w);
}

// A watcher thread for the restart test: it reads until it has want
// changes or a wait of 20 s passes with none.
typedef struct watcher {
	rill_watch *w;
	int         want;
	_Atomic int got;
	uint64_t    seqs[64];
	char        keys[64][16];
	int         rv;
} watcher;

static void *
watch_thread(void *arg)
{
	watcher    *wt = arg;
	rill_change ch;

	while (atomic_load(&wt->got) < wt->want) {
		if ((wt->rv = rill_watch_next(wt->w, &ch, 20000)) != RILL_OK) {
			fprintf(stderr, "  watch: %s\n", rill_last_message());
			return NULL;
		}
		int i       = atomic_load(&wt->got);
		wt->seqs[i] = ch.seq;
		snprintf(wt->keys[i], sizeof(wt->keys[i]), "%.*s",
		    (int) ch.key_len, (const char *) ch.key);
		atomic_store(&wt->got, i + 1);
	}
	return NULL;
}

// wait_got polls until the watcher has n changes (or 20 s pass).
static bool
wait_got(watcher *wt, int n)
{
	for (int i = 0; i < 2000 && atomic_load(&wt->got) < n; i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return atomic_load(&wt->got) >= n;
}

// put_n writes n keys named tag/i, one call each; their seqs go in seqs.
static bool
put_n(const char *tag, int n, uint64_t *seqs)
{
	char key[16];

	for (int i = 0; i < n; i++) {
		int kn = snprintf(key, sizeof(key), "%s/%d", tag, i);
		if (rill_put(client, key, (size_t) kn, "v", 1, &seqs[i],
		        NULL) != RILL_OK) {
			fprintf(stderr, "  put %s: %s\n", key,
			    rill_last_message());
			return false;
		}
	}
	return true;
}

static void
test_watch_across_restart(void)
{
	rill_watch_opts wo = { 0 };
	watcher         wt = { .want = 20 };
	pthread_t       t;
	uint64_t        seqs[20];
	char            key[16];

	wo.after_seq = last_seq(client);
	CHECK_EQ_INT(rill_watch_open(client, &wo, &wt.w), RILL_OK);
	pthread_create(&t, NULL, watch_thread, &wt);
	CHECK(put_n("rs1", 10, seqs));
	CHECK(wait_got(&wt, 10));
	// The watcher is in a long-poll now: stop the node under it and
	// start it again on the same data dir and port.
	CHECK_EQ_INT(rill_test_server_stop(&srv, SIGTERM), 0);
	CHECK(rill_test_server_start(&srv, NULL, NULL));
	CHECK(put_n("rs2", 10, seqs + 10));
	pthread_join(t, NULL);
	CHECK_EQ_INT(wt.rv, RILL_OK);
	CHECK_EQ_INT(atomic_load(&wt.got), 20);
	// Every change once, in order, with the seqs the writes got.
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "rs%d/%d", i < 10 ? 1 : 2, i % 10);
		CHECK_EQ_STR(wt.keys[i], key);
		CHECK_EQ_INT(wt.seqs[i], seqs[i]);
		CHECK_EQ_INT(wt.seqs[i], wo.after_seq + 1 + (uint64_t) i);
	}
	rill_watch_close(wt.w);
}

// http_ok sends an admin request and tells whether it got a 200.
static bool
http_ok(int port, const char *method, const char *path)
{
	char body[4096];
	int  status = rill_test_http(port, method, path, body, sizeof(body));

	if (status != 200) {
		fprintf(
		    stderr, "  %s %s: %d %s\n", method, path, status, body);
	}
	return status == 200;
}

// oor is the node of test_watch_out_of_range (main cleans it up).
static rill_test_server oor;

// A start position that retention removed: small segments, one snapshot
// kept; after two snapshots the first segments are gone.
static void
test_watch_out_of_range(void)
{
	const char *const args[] = { "--segment-max-bytes", "4KiB",
		"--retain-snapshots", "1", "--snapshot-interval-ms", "0",
		"--snapshot-log-bytes", "0", NULL };
	rill_test_server *r      = &oor;
	rill_client      *c      = NULL;
	rill_watch       *w      = NULL;
	rill_watch_opts   wo     = { 0 };
	rill_node_status  st     = { 0 };
	rill_change       ch;
	char              value[200], want[128];
	int               port, rv = RILL_OK;

	memset(value, 'v', sizeof(value));
	rill_test_server_init(r, "sdkoor");
	CHECK(rill_test_server_start(r, args, NULL));
	CHECK((port = rill_test_server_admin_port(r)) > 0);
	CHECK_EQ_INT(rill_open(&c, r->url, NULL), RILL_OK);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 100; i++) {
			char key[16];
			int  kn = snprintf(key, sizeof(key), "o/%d", i);
			CHECK_EQ_INT(rill_put(c, key, (size_t) kn, value,
			                 sizeof(value), NULL, NULL),
			    RILL_OK);
		}
		CHECK(http_ok(port, "POST", "/v1/snapshots"));
	}
	// Retention follows the snapshot; poll until the log's start moved.
	for (int i = 0; i < 500; i++) {
		CHECK_EQ_INT(rill_status(c, &st, NULL), RILL_OK);
		if (st.oldest_seq > 1) {
			break;
		}
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	CHECK(st.oldest_seq > 1);

	wo.after_seq = 0;
	CHECK_EQ_INT(rill_watch_open(c, &wo, &w), RILL_OK);
	rv = rill_watch_next(w, &ch, 5000);
	CHECK_EQ_INT(rv, RILL_OUT_OF_RANGE);
	snprintf(want, sizeof(want), "the oldest seq retained is %" PRIu64,
	    st.oldest_seq);
	CHECK(strstr(rill_last_message(), want) != NULL);
	// Final: the watch says so again.
	CHECK_EQ_INT(rill_watch_next(w, &ch, 100), RILL_OUT_OF_RANGE);
	CHECK(strstr(rill_last_message(), want) != NULL);
	rill_watch_close(w);
	w = NULL;

	// Just before the oldest seq held: the watch starts there.
	wo.after_seq = st.oldest_seq - 1;
	CHECK_EQ_INT(rill_watch_open(c, &wo, &w), RILL_OK);
	CHECK_EQ_INT(rill_watch_next(w, &ch, 5000), RILL_OK);
	CHECK_EQ_INT(ch.seq, st.oldest_seq);
	rill_watch_close(w);
	w = NULL;
	rill_close(c);
	c = NULL;
	CHECK_EQ_INT(rill_test_server_stop(r, SIGTERM), 0);
}

static void
test_min_seq_reads(void)
{
	rill_callopts  co = { 0 };
	rill_scan_opts so = { 0 };
	rill_scan     *scan;
	uint64_t       seq;
	void          *v;
	size_t         n;
	uint64_t       t0;

	CHECK_EQ_INT(
	    rill_put(client, "ms/k", 4, "v1", 2, &seq, NULL), RILL_OK);
	// Applied already: served at once, on the leader or a follower.
	co.min_seq = seq;
	CHECK_EQ_INT(rill_get(client, "ms/k", 4, &v, &n, &co), RILL_OK);
	CHECK(n == 2 && memcmp(v, "v1", 2) == 0);
	rill_free(v);
	co.read_preference = RILL_READ_FOLLOWER; // no follower: the leader
	CHECK_EQ_INT(rill_get(client, "ms/k", 4, &v, &n, &co), RILL_OK);
	rill_free(v);
	so.prefix     = "ms/";
	so.prefix_len = 3;
	so.min_seq    = seq;
	CHECK_EQ_INT(rill_scan_open(client, &so, &scan), RILL_OK);
	CHECK(rill_scan_next(scan, NULL, NULL, NULL, NULL));
	CHECK(!rill_scan_next(scan, NULL, NULL, NULL, NULL));
	CHECK_EQ_INT(rill_scan_error(scan), RILL_OK);
	rill_scan_close(scan);

	// A seq no node has: retried until the deadline, then
	// DEADLINE_EXCEEDED naming min_seq.
	co.min_seq         = seq + 1000000;
	co.deadline_ms     = 600;
	co.read_preference = RILL_READ_DEFAULT;
	t0                 = now_ms();
	CHECK_EQ_INT(
	    rill_get(client, "ms/k", 4, &v, &n, &co), RILL_DEADLINE_EXCEEDED);
	CHECK(strstr(rill_last_message(), "min_seq") != NULL);
	CHECK(now_ms() - t0 >= 550 && now_ms() - t0 < 30000); // not forever

	// Bad preferences.
	co = (rill_callopts) { .read_preference = 7 };
	CHECK_EQ_INT(
	    rill_get(client, "ms/k", 4, &v, &n, &co), RILL_INVALID_ARGUMENT);
}

#ifdef RILLCTL_PATH
// rillctl watch prints the changes after --from, one line each, and
// stops at --count.
static void
test_rillctl_watch(void)
{
	char     cmd[1024], line[256], want[256];
	FILE    *f;
	uint64_t s0 = last_seq(client), s1, s2;
	int      rc;

	CHECK_EQ_INT(
	    rill_put(client, "cw/a", 4, "x y", 3, &s1, NULL), RILL_OK);
	CHECK_EQ_INT(rill_delete(client, "cw/a", 4, &s2, NULL), RILL_OK);
	CHECK_EQ_INT(
	    rill_put(client, "other", 5, "z", 1, NULL, NULL), RILL_OK);
	snprintf(cmd, sizeof(cmd),
	    "%s --url %s watch --from %" PRIu64
	    " --prefix cw/ --count 2 --timeout-ms 10000",
	    RILLCTL_PATH, srv.url, s0);
	CHECK((f = popen(cmd, "r")) != NULL);
	snprintf(want, sizeof(want), "%" PRIu64 "\tput\tcw/a\tx y\n", s1);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_EQ_STR(line, want);
	snprintf(want, sizeof(want), "%" PRIu64 "\tdel\tcw/a\n", s2);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_EQ_STR(line, want);
	CHECK(fgets(line, sizeof(line), f) == NULL);
	rc = pclose(f);
	CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);

	// JSON, one object a line; fewer changes than --count: exit 3.
	snprintf(cmd, sizeof(cmd),
	    "%s --url %s --json watch --from %" PRIu64
	    " --prefix cw/ --count 3 --timeout-ms 500 2>/dev/null",
	    RILLCTL_PATH, srv.url, s0);
	CHECK((f = popen(cmd, "r")) != NULL);
	snprintf(want, sizeof(want),
	    "{\"seq\":%" PRIu64 ",\"op\":\"put\",\"key\":\"cw/a\","
	    "\"value\":\"x y\"}\n",
	    s1);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_EQ_STR(line, want);
	snprintf(want, sizeof(want),
	    "{\"seq\":%" PRIu64 ",\"op\":\"del\",\"key\":\"cw/a\"}\n", s2);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_EQ_STR(line, want);
	rc = pclose(f);
	CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 3);
}
#endif

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
	RILL_TEST_RUN(test_watch_from_seq);
	RILL_TEST_RUN(test_watch_prefix);
	RILL_TEST_RUN(test_min_seq_reads);
#ifdef RILLCTL_PATH
	RILL_TEST_RUN(test_rillctl_watch);
#endif
	RILL_TEST_RUN(test_watch_out_of_range);
	RILL_TEST_RUN(test_watch_across_restart);
	rill_close(client);
	if (rill_test_server_stop(&srv, SIGTERM) != 0) {
		fprintf(stderr, "rilld did not exit 0 on SIGTERM\n");
		rill_test_n_fail_++;
	}
	rill_test_server_cleanup(&srv);
	rill_test_server_cleanup(&oor);
	return RILL_TEST_SUMMARY();
}
