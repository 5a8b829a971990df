// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// durability_test: what is acknowledged stays. Eight clients write 10,000
// keys each and every one reads back; rilld killed with SIGKILL in the
// middle of a write load keeps every write it acknowledged (sync "always",
// and "none", where only the OS could lose them); SIGTERM under load answers
// the writes in flight and keeps them; a torn record at the tail of the log is
// cut at restart, while damage in the middle of the log stops the start with
// the file and offset. Under "none" and "interval", where the store may lag
// the acknowledgements, every read after an acknowledgement sees the write.
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rill/rill.h>

#include "harness.h"
#include "test.h"

#define N_WRITERS 8
#define N_PER_WRITER 10000

static rill_test_server srv;
// The shared server's segments roll by size only: an age roll (60 s by
// default) on a slow sanitizer run would leave a nearly empty newest
// segment, which test_damage_mid_log_refuses_start needs records in.
static const char *const srv_args[] = { "--segment-max-age-ms", "1h", NULL };

// A writer thread's job and what it saw acknowledged.
typedef struct writer {
	pthread_t    thread;
	rill_client *client;
	int          id;
	int          n_wanted; // stop after this many (0: until told)
	atomic_bool *stop;
	int          n_acked; // keys 0..n_acked-1 were acknowledged
	int          n_failed;
	int          first_error;
} writer;

static void
key_of(char *buf, size_t n, int writer_id, int i)
{
	snprintf(buf, n, "w%02d/%07d", writer_id, i);
}

static void *
writer_main(void *arg)
{
	writer *w = arg;
	char    key[32], value[64];

	for (int i = 0; w->n_wanted == 0 || i < w->n_wanted; i++) {
		if (w->stop != NULL && atomic_load(w->stop)) {
			break;
		}
		key_of(key, sizeof(key), w->id, i);
		int vn = snprintf(value, sizeof(value), "value of %s", key);
		int rv = rill_put(w->client, key, strlen(key), value,
		    (size_t) vn, NULL, NULL);
		if (rv != RILL_OK) {
			// The first failure ends this writer: later keys are
			// not acknowledged, so the acked set stays a prefix.
			w->n_failed++;
			w->first_error = rv;
			break;
		}
		w->n_acked = i + 1;
	}
	return NULL;
}

static rill_client *
open_client_to(const rill_test_server *server, uint32_t deadline_ms)
{
	rill_client *c;
	rill_options o;

	rill_options_init(&o);
	o.deadline_ms        = deadline_ms;
	o.attempt_timeout_ms = deadline_ms;
	if (rill_open(&c, server->url, &o) != RILL_OK) {
		return NULL;
	}
	return c;
}

// open_client opens a client of the shared server.
static rill_client *
open_client(uint32_t deadline_ms)
{
	return open_client_to(&srv, deadline_ms);
}

// count_present checks that keys 0..n-1 of writer id read back with their
// values; it returns how many did.
static int
count_present(rill_client *c, int id, int n)
{
	char key[32], value[64];
	int  present = 0;

	for (int i = 0; i < n; i++) {
		void  *v;
		size_t vn;
		key_of(key, sizeof(key), id, i);
		int want = snprintf(value, sizeof(value), "value of %s", key);
		if (rill_get(c, key, strlen(key), &v, &vn, NULL) == RILL_OK) {
			present +=
			    vn == (size_t) want && memcmp(v, value, vn) == 0;
			rill_free(v);
		}
	}
	return present;
}

static void
test_eight_writers_all_read_back(void)
{
	writer       w[N_WRITERS];
	rill_client *c = open_client(30000);
	rill_scan   *s;
	const void  *k, *v;
	size_t       kn, vn;
	int          n = 0;

	CHECK(c != NULL);
	for (int i = 0; i < N_WRITERS; i++) {
		w[i] = (writer) {
			.client = c, .id = i, .n_wanted = N_PER_WRITER
		};
		pthread_create(&w[i].thread, NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < N_WRITERS; i++) {
		pthread_join(w[i].thread, NULL);
	}
	for (int i = 0; i < N_WRITERS; i++) {
		CHECK_EQ_INT(w[i].n_failed, 0);
		CHECK_EQ_INT(w[i].n_acked, N_PER_WRITER);
	}
	// Every acknowledged write reads back, in key order, with its value.
	CHECK_EQ_INT(rill_scan_open(c, NULL, &s), RILL_OK);
	while (rill_scan_next(s, &k, &kn, &v, &vn)) {
		char key[32], value[64];
		key_of(key, sizeof(key), n / N_PER_WRITER, n % N_PER_WRITER);
		snprintf(value, sizeof(value), "value of %s", key);
		if (kn != strlen(key) || memcmp(k, key, kn) != 0 ||
		    vn != strlen(value) || memcmp(v, value, vn) != 0) {
			break;
		}
		n++;
	}
	CHECK_EQ_INT(rill_scan_error(s), RILL_OK);
	rill_scan_close(s);
	CHECK_EQ_INT(n, N_WRITERS * N_PER_WRITER);
	rill_close(c);
}

// load_then_signal runs 4 writers until sig hits the rilld of server,
// then checks after a restart (with args) that every acknowledged write is
// there.
static void
load_then_signal(rill_test_server *server, const char *const *args, int sig)
{
	writer      w[4];
	atomic_bool stop = false;
	// A write's deadline is what a writer waits, at most, once the
	// server is killed: long enough for a stalled fdatasync on a shared
	// CI disk, short enough for the test.
	rill_client     *c = open_client_to(server, 10000);
	rill_node_status st;
	int              acked = 0, status_rv = RILL_OK;

	CHECK(c != NULL);
	CHECK_EQ_INT(rill_status(c, &st, NULL), RILL_OK);
	uint64_t before = st.last_seq;
	for (int i = 0; i < 4; i++) {
		w[i] = (writer) {
			.client = c, .id = 20 + sig * 4 + i, .stop = &stop
		};
		pthread_create(&w[i].thread, NULL, writer_main, &w[i]);
	}
	// Let the load build up: wait until the log has grown by 2000 and
	// one more record per writer (each has at most one write logged but
	// not yet acknowledged), for up to a minute (a loaded CI machine
	// under sanitizers is slow). No check returns before the writers
	// are joined: they use this frame.
	for (time_t end = time(NULL) + 60; time(NULL) < end;) {
		if ((status_rv = rill_status(c, &st, NULL)) != RILL_OK ||
		    st.last_seq >= before + 2000 + 4) {
			break;
		}
		usleep(5000);
	}
	int status = rill_test_server_stop(server, sig);
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++) {
		pthread_join(w[i].thread, NULL);
		acked += w[i].n_acked;
	}
	rill_close(c);
	CHECK_EQ_INT(status_rv, RILL_OK);
	if (sig == SIGTERM) {
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK(acked >= 2000);

	CHECK(rill_test_server_start(server, args, NULL));
	c = open_client_to(server, 10000);
	CHECK(c != NULL);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(
		    count_present(c, w[i].id, w[i].n_acked), w[i].n_acked);
	}
	CHECK_EQ_INT(rill_status(c, &st, NULL), RILL_OK);
	CHECK(st.last_seq >= before + (uint64_t) acked);
	CHECK_EQ_INT(st.applied_seq, st.last_seq);
	rill_close(c);
	fprintf(stderr, "  %s: %d writes acknowledged, all present\n",
	    strsignal(sig), acked);
}

static void
test_kill9_keeps_acknowledged_writes(void)
{
	load_then_signal(&srv, srv_args, SIGKILL);
}

static void
test_sigterm_finishes_writes_in_flight(void)
{
	load_then_signal(&srv, srv_args, SIGTERM);
	CHECK(rill_test_log_contains(&srv, "finishing writes in flight"));
}

// last_segment finds the newest segment file of the data dir.
static bool
last_segment(char *path, size_t n)
{
	char           gens[1024], best[300] = "";
	char           gen[300] = "";
	DIR           *d;
	struct dirent *e;

	snprintf(gens, sizeof(gens), "%s/generations", srv.data_dir);
	if ((d = opendir(gens)) == NULL) {
		return false;
	}
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) == 16) {
			snprintf(gen, sizeof(gen), "%s", e->d_name);
		}
	}
	closedir(d);
	snprintf(
	    gens, sizeof(gens), "%s/generations/%s/log", srv.data_dir, gen);
	if ((d = opendir(gens)) == NULL) {
		return false;
	}
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".seg") == 0 &&
		    strcmp(e->d_name, best) > 0) {
			snprintf(best, sizeof(best), "%s", e->d_name);
		}
	}
	closedir(d);
	snprintf(path, n, "%s/%s", gens, best);
	return best[0] != '\0';
}

static void
test_torn_tail_is_cut_at_restart(void)
{
	rill_client *c = open_client(5000);
	char         seg[1400];
	int          fd;
	// A record frame claiming 200 body bytes, of which 10 made it.
	const unsigned char torn[18] = { 200, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9 };

	CHECK(c != NULL);
	CHECK_EQ_INT(
	    rill_put(c, "torn/before", 11, "kept", 4, NULL, NULL), RILL_OK);
	rill_close(c);
	// A clean stop leaves the log ending with its last record; then a
	// crash tears the next write, simulated by appending half a record.
	CHECK_EQ_INT(rill_test_server_stop(&srv, SIGTERM), 0);
	CHECK(last_segment(seg, sizeof(seg)));
	CHECK((fd = open(seg, O_WRONLY | O_APPEND)) >= 0);
	CHECK(write(fd, torn, sizeof(torn)) == (ssize_t) sizeof(torn));
	close(fd);

	CHECK(rill_test_server_start(&srv, srv_args, NULL));
	CHECK(rill_test_log_contains_since_start(&srv, "LOG-TORN-TAIL"));
	c = open_client(5000);
	CHECK(c != NULL);
	void  *v;
	size_t vn;
	CHECK_EQ_INT(rill_get(c, "torn/before", 11, &v, &vn, NULL), RILL_OK);
	rill_free(v);
	CHECK_EQ_INT(
	    rill_put(c, "torn/after", 10, "new", 3, NULL, NULL), RILL_OK);
	rill_close(c);
	// And the log is whole again: a clean restart finds both.
	CHECK_EQ_INT(rill_test_server_stop(&srv, SIGTERM), 0);
	CHECK(rill_test_server_start(&srv, srv_args, NULL));
	c = open_client(5000);
	CHECK_EQ_INT(rill_get(c, "torn/after", 10, &v, &vn, NULL), RILL_OK);
	rill_free(v);
	rill_close(c);
}

static void
test_damage_mid_log_refuses_start(void)
{
	char        seg[1400];
	struct stat sb;
	int         fd;
	char        byte;
	char        needle[1400];

	CHECK_EQ_INT(rill_test_server_stop(&srv, SIGTERM), 0);
	CHECK(last_segment(seg, sizeof(seg)));
	CHECK(stat(seg, &sb) == 0 && sb.st_size > 4096);
	// Flip a byte a third of the way in: records follow it, so this
	// is damage, not a torn tail.
	off_t at = sb.st_size / 3;
	CHECK((fd = open(seg, O_RDWR)) >= 0);
	CHECK(pread(fd, &byte, 1, at) == 1);
	byte ^= 0x5a;
	CHECK(pwrite(fd, &byte, 1, at) == 1);
	close(fd);

	CHECK(!rill_test_server_start(&srv, srv_args, NULL));
	snprintf(needle, sizeof(needle), "%s", seg);
	CHECK(rill_test_log_contains_since_start(&srv, "LOG-CORRUPT"));
	CHECK(rill_test_log_contains_since_start(&srv, needle));
	CHECK(rill_test_log_contains_since_start(&srv, "offset"));

	// Put it back: the node starts again with everything.
	CHECK((fd = open(seg, O_RDWR)) >= 0);
	byte ^= 0x5a;
	CHECK(pwrite(fd, &byte, 1, at) == 1);
	close(fd);
	CHECK(rill_test_server_start(&srv, srv_args, NULL));
}

// count_segments returns the number of .seg files in data_dir's
// generations.
static int
count_segments(const char *data_dir)
{
	char  cmd[1200];
	int   n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
	    "ls %s/generations/*/log/ | grep -c '\\.seg$'", data_dir);
	if ((f = popen(cmd, "r")) != NULL) {
		if (fscanf(f, "%d", &n) != 1) {
			n = -1;
		}
		pclose(f);
	}
	return n;
}

// policy_round_trip writes 2000 keys to a rilld started with args, stops
// it with SIGTERM, restarts it with the same args and reads them all back;
// with small segments the log is spread over many files.
static void
policy_round_trip(const char *tag, const char *const *args, int min_segments)
{
	rill_test_server s;
	rill_client     *c;
	rill_options     o;
	rill_node_status st;
	char             key[32];

	rill_test_server_init(&s, tag);
	CHECK(rill_test_server_start(&s, args, NULL));
	rill_options_init(&o);
	CHECK_EQ_INT(rill_open(&c, s.url, &o), RILL_OK);
	for (int i = 0; i < 2000; i++) {
		int n = snprintf(key, sizeof(key), "policy/%05d", i);
		CHECK_EQ_INT(
		    rill_put(c, key, (size_t) n, key, (size_t) n, NULL, NULL),
		    RILL_OK);
	}
	rill_close(c);
	CHECK_EQ_INT(rill_test_server_stop(&s, SIGTERM), 0);
	CHECK(rill_test_server_start(&s, args, NULL));
	CHECK_EQ_INT(rill_open(&c, s.url, &o), RILL_OK);
	CHECK_EQ_INT(rill_status(c, &st, NULL), RILL_OK);
	CHECK_EQ_INT(st.last_seq, 2000);
	CHECK_EQ_INT(st.oldest_seq, 1);
	CHECK(count_segments(s.data_dir) >= min_segments);
	for (int i = 0; i < 2000; i++) {
		void  *v;
		size_t vn;
		int    n = snprintf(key, sizeof(key), "policy/%05d", i);
		CHECK_EQ_INT(
		    rill_get(c, key, (size_t) n, &v, &vn, NULL), RILL_OK);
		CHECK(vn == (size_t) n && memcmp(v, key, vn) == 0);
		rill_free(v);
	}
	rill_close(c);
	CHECK_EQ_INT(rill_test_server_stop(&s, SIGTERM), 0);
	rill_test_server_cleanup(&s);
}

static void
test_sync_interval_and_small_segments(void)
{
	static const char *const args[] = { "--sync", "interval",
		"--sync-interval-ms", "20", "--segment-max-bytes", "4KiB",
		NULL };
	// About 70 bytes a record: 2000 records fill 30 or more 4 KiB files.
	policy_round_trip("syncinterval", args, 30);
}

static void
test_sync_none(void)
{
	static const char *const args[] = { "--sync", "none", NULL };
	policy_round_trip("syncnone", args, 1);
}

// test_kill9_under_sync_none: with no fdatasync the writes are committed
// on rilld's nng threads and acknowledged once in the page cache, which a
// killed process does not take with it: every acknowledged write is there
// after SIGKILL and a restart.
static void
test_kill9_under_sync_none(void)
{
	static const char *const args[] = { "--sync", "none",
		"--segment-max-age-ms", "1h", NULL };
	rill_test_server         s;

	rill_test_server_init(&s, "killnone");
	CHECK(rill_test_server_start(&s, args, NULL));
	load_then_signal(&s, args, SIGKILL);
	CHECK_EQ_INT(rill_test_server_stop(&s, SIGTERM), 0);
	rill_test_server_cleanup(&s);
}

// A rewriter puts one key again and again and reads each value back at
// once, by get, by scan, and by another client's get.
typedef struct rewriter {
	pthread_t         thread;
	const char       *url;
	int               id;
	int               n_stale; // reads that missed the value just put
	int               first_error;
	_Atomic uint64_t *last_seq; // the largest seq acknowledged
} rewriter;

static void *
rewrite_main(void *arg)
{
	rewriter      *rw = arg;
	rill_client   *c = NULL, *other = NULL;
	rill_options   o;
	rill_scan_opts so = { 0 };
	char           key[32], value[32];
	int            kn, rv = RILL_OK;

	rill_options_init(&o);
	if (rill_open(&c, rw->url, &o) != RILL_OK ||
	    rill_open(&other, rw->url, &o) != RILL_OK) {
		rw->first_error = RILL_UNAVAILABLE;
		goto out;
	}
	kn            = snprintf(key, sizeof(key), "rw/%02d", rw->id);
	so.prefix     = key;
	so.prefix_len = (size_t) kn;
	for (int i = 0; i < 300 && rv == RILL_OK; i++) {
		const void *sv;
		void       *v;
		size_t      vn, svn;
		uint64_t    seq = 0, prev;
		rill_scan  *scan;
		int         n = snprintf(value, sizeof(value), "%d", i);

		if ((rv = rill_put(c, key, (size_t) kn, value, (size_t) n,
		         &seq, NULL)) != RILL_OK) {
			break;
		}
		prev = atomic_load(rw->last_seq);
		while (seq > prev &&
		    !atomic_compare_exchange_weak(rw->last_seq, &prev, seq)) {
		}
		rill_client *readers[2] = { c, other };
		for (int r = 0; r < 2 && rv == RILL_OK; r++) {
			rv = rill_get(
			    readers[r], key, (size_t) kn, &v, &vn, NULL);
			if (rv == RILL_OK) {
				rw->n_stale += vn != (size_t) n ||
				    memcmp(v, value, vn) != 0;
				rill_free(v);
			}
		}
		if (rv != RILL_OK ||
		    (rv = rill_scan_open(c, &so, &scan)) != RILL_OK) {
			break;
		}
		if (rill_scan_next(scan, NULL, NULL, &sv, &svn)) {
			rw->n_stale +=
			    svn != (size_t) n || memcmp(sv, value, svn) != 0;
		} else {
			rw->n_stale++;
		}
		rv = rill_scan_error(scan);
		rill_scan_close(scan);
	}
	rw->first_error = rv;
out:
	rill_close(other);
	rill_close(c);
	return NULL;
}

// reads_after_acks runs 4 rewriters against a rilld started with args:
// no read misses the value its writer was just acknowledged, and Status
// reports every acknowledged write applied.
static void
reads_after_acks(const char *tag, const char *const *args)
{
	rill_test_server s;
	rewriter         rw[4];
	_Atomic uint64_t last = 0;
	rill_client     *c;
	rill_options     o;
	rill_node_status st;

	rill_test_server_init(&s, tag);
	CHECK(rill_test_server_start(&s, args, NULL));
	for (int i = 0; i < 4; i++) {
		rw[i] =
		    (rewriter) { .url = s.url, .id = i, .last_seq = &last };
		CHECK_EQ_INT(
		    pthread_create(&rw[i].thread, NULL, rewrite_main, &rw[i]),
		    0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(rw[i].thread, NULL);
	}
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(rw[i].first_error, RILL_OK);
		CHECK_EQ_INT(rw[i].n_stale, 0);
	}
	rill_options_init(&o);
	CHECK_EQ_INT(rill_open(&c, s.url, &o), RILL_OK);
	CHECK_EQ_INT(rill_status(c, &st, NULL), RILL_OK);
	CHECK_EQ_INT(st.last_seq, atomic_load(&last));
	CHECK_EQ_INT(st.applied_seq, st.last_seq);
	rill_close(c);
	CHECK_EQ_INT(rill_test_server_stop(&s, SIGTERM), 0);
	rill_test_server_cleanup(&s);
}

static void
test_reads_after_acks_under_sync_none(void)
{
	static const char *const args[] = { "--sync", "none", NULL };
	reads_after_acks("readsnone", args);
}

static void
test_reads_after_acks_under_sync_interval(void)
{
	static const char *const args[] = { "--sync", "interval",
		"--sync-interval-ms", "5", NULL };
	reads_after_acks("readsinterval", args);
}

RILL_TEST_GLOBALS

int
main(void)
{
	rill_test_server_init(&srv, "durability");
	if (!rill_test_server_start(&srv, srv_args, NULL)) {
		fprintf(stderr, "rilld did not start; see %s\n", srv.log_path);
		return 1;
	}
	RILL_TEST_RUN(test_eight_writers_all_read_back);
	RILL_TEST_RUN(test_kill9_keeps_acknowledged_writes);
	RILL_TEST_RUN(test_sigterm_finishes_writes_in_flight);
	RILL_TEST_RUN(test_torn_tail_is_cut_at_restart);
	RILL_TEST_RUN(test_damage_mid_log_refuses_start);
	rill_test_server_cleanup(&srv);
	RILL_TEST_RUN(test_sync_interval_and_small_segments);
	RILL_TEST_RUN(test_sync_none);
	RILL_TEST_RUN(test_kill9_under_sync_none);
	RILL_TEST_RUN(test_reads_after_acks_under_sync_none);
	RILL_TEST_RUN(test_reads_after_acks_under_sync_interval);
	return RILL_TEST_SUMMARY();
}
