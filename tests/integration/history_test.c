// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// history_test: snapshots and restore hold exactly the state of their
// seq. Four writers put and delete keys through the SDK against a real
// rilld, recording the seq of every acknowledged write; meanwhile the test
// asks the node for its live hash and takes a snapshot (curl on the admin
// API). Then `rillctl restore` rebuilds data dirs at the snapshot's seq,
// at the live hash's seq, at a seq in between, at a wall-clock time and
// from the node over RPC; a rilld started on each must report the state
// hash the model of acknowledged writes predicts (computed here with
// XXH3 over the documented layout) and, for the middle seq and the time,
// hold exactly the model's keys and values.
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <rill/rill.h>
#include <xxhash.h>

#include "harness.h"
#include "test.h"

#define N_WRITERS 4
#define N_KEYS 500 // per writer: keys are overwritten and deleted
#define MAX_OPS 400000

#ifndef RILLCTL_PATH
#error "RILLCTL_PATH must name the rillctl binary"
#endif

RILL_TEST_GLOBALS;

// op is one acknowledged write: key index of writer w set to value
// counter v (or deleted: v = -1), committed at seq.
typedef struct op {
	uint64_t seq;
	int      w, k, v;
} op;

static op              ops[MAX_OPS];
static size_t          n_ops;
static pthread_mutex_t ops_mu = PTHREAD_MUTEX_INITIALIZER;

static rill_test_server srv;
static int              admin_port;
static char             tmp[256];

typedef struct writer {
	pthread_t    thread;
	rill_client *client;
	int          id;
	atomic_bool *stop;
	int          counter;
	int          failures;
} writer;

static void
key_of(char *buf, size_t n, int w, int k)
{
	snprintf(buf, n, "w%d/%05d", w, k);
}

static void
value_of(char *buf, size_t n, int w, int k, int v)
{
	snprintf(
	    buf, n, "value %d of w%d/%05d, padded to look like data", v, w, k);
}

static void *
writer_main(void *arg)
{
	writer  *w    = arg;
	uint64_t seed = (uint64_t) w->id * 7919 + 17;

	while (!atomic_load(w->stop)) {
		char     key[32], value[96];
		uint64_t seq = 0;
		int      rv, k, v;

		seed = seed * 6364136223846793005u + 1442695040888963407u;
		k    = (int) ((seed >> 33) % N_KEYS);
		v    = ++w->counter;
		key_of(key, sizeof(key), w->id, k);
		if (v % 7 == 0) {
			rv = rill_delete(
			    w->client, key, strlen(key), &seq, NULL);
			v = -1;
		} else {
			value_of(value, sizeof(value), w->id, k, v);
			rv = rill_put(w->client, key, strlen(key), value,
			    strlen(value), &seq, NULL);
		}
		if (rv != RILL_OK) {
			w->failures++;
			continue;
		}
		pthread_mutex_lock(&ops_mu);
		if (n_ops < MAX_OPS) {
			ops[n_ops++] = (op) { seq, w->id, k, v };
		}
		pthread_mutex_unlock(&ops_mu);
	}
	return NULL;
}

// run_writers runs the four writers until *stop, calling during() once
// they are under way.
static void
run_writers(void (*during)(void), int min_ops)
{
	writer      ws[N_WRITERS];
	atomic_bool stop = false;

	for (int i = 0; i < N_WRITERS; i++) {
		ws[i] = (writer) { .id = i, .stop = &stop };
		CHECK(rill_open(&ws[i].client, srv.url, NULL) == RILL_OK);
		CHECK(pthread_create(
		          &ws[i].thread, NULL, writer_main, &ws[i]) == 0);
	}
	// Let the writers get going, then act while they run.
	for (;;) {
		pthread_mutex_lock(&ops_mu);
		size_t n = n_ops;
		pthread_mutex_unlock(&ops_mu);
		if (n >= (size_t) min_ops) {
			break;
		}
		usleep(1000);
	}
	if (during != NULL) {
		during();
	}
	size_t target;
	pthread_mutex_lock(&ops_mu);
	target = n_ops + (size_t) min_ops;
	pthread_mutex_unlock(&ops_mu);
	for (;;) {
		pthread_mutex_lock(&ops_mu);
		size_t n = n_ops;
		pthread_mutex_unlock(&ops_mu);
		if (n >= target) {
			break;
		}
		usleep(1000);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < N_WRITERS; i++) {
		pthread_join(ws[i].thread, NULL);
		CHECK(ws[i].failures == 0);
		rill_close(ws[i].client);
	}
}

// The model ------------------------------------------------------------

static int
by_seq(const void *a, const void *b)
{
	const op *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

// model_at fills state[w][k] with the value counter at seq (-1: absent).
static void
model_at(uint64_t seq, int state[N_WRITERS][N_KEYS])
{
	for (int w = 0; w < N_WRITERS; w++) {
		for (int k = 0; k < N_KEYS; k++) {
			state[w][k] = -1;
		}
	}
	for (size_t i = 0; i < n_ops && ops[i].seq <= seq; i++) {
		state[ops[i].w][ops[i].k] = ops[i].v;
	}
}

// put_len feeds a length as the state hash wants it: u64 little-endian.
static void
put_len(XXH3_state_t *st, size_t n)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++) {
		b[i] = (uint8_t) ((uint64_t) n >> (8 * i));
	}
	XXH3_64bits_update(st, b, 8);
}

// model_hash computes the state hash of the model at seq independently of
// rill's code: XXH3-64 over (u64 key length, key, u64 value length,
// value) for each pair in key order.
static uint64_t
model_hash(uint64_t seq)
{
	static int    state[N_WRITERS][N_KEYS];
	XXH3_state_t *st = XXH3_createState();
	uint64_t      h;

	model_at(seq, state);
	XXH3_64bits_reset(st);
	for (int w = 0; w < N_WRITERS; w++) {
		for (int k = 0; k < N_KEYS; k++) {
			char key[32], value[96];
			if (state[w][k] < 0) {
				continue;
			}
			key_of(key, sizeof(key), w, k);
			value_of(value, sizeof(value), w, k, state[w][k]);
			put_len(st, strlen(key));
			XXH3_64bits_update(st, key, strlen(key));
			put_len(st, strlen(value));
			XXH3_64bits_update(st, value, strlen(value));
		}
	}
	h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return h;
}

// HTTP and commands ----------------------------------------------------

// http runs curl with args on the admin API of port and parses the JSON
// it prints; NULL when curl fails or the body is not JSON.
static cJSON *
http(int port, const char *method, const char *path)
{
	char   cmd[512], body[65536];
	FILE  *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "curl -sf -X %s http://127.0.0.1:%d%s",
	    method, port, path);
	if ((f = popen(cmd, "r")) == NULL) {
		return NULL;
	}
	n       = fread(body, 1, sizeof(body) - 1, f);
	body[n] = '\0';
	if (pclose(f) != 0) {
		fprintf(stderr, "  %s failed: %s\n", cmd, body);
		return NULL;
	}
	return cJSON_Parse(body);
}

static uint64_t
json_u64(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(item) ? (uint64_t) item->valuedouble : 0;
}

static uint64_t
json_hex(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? strtoull(item->valuestring, NULL, 16)
	                            : 0;
}

// restore runs rillctl restore with args (a format with one %s for the
// target, then the rest) and returns its exit status.
static int
restore(const char *to, const char *args)
{
	char cmd[1024];
	int  rc;

	snprintf(cmd, sizeof(cmd),
	    "%s restore --quiet --to %s %s >%s.out 2>&1", RILLCTL_PATH, to,
	    args, to);
	rc = system(cmd);
	if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
		char show[1100];
		snprintf(show, sizeof(show), "cat %s.out >&2", to);
		fprintf(stderr, "  %s: exit %d\n", cmd, WEXITSTATUS(rc));
		(void) system(show);
	}
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The live hash and the snapshot, taken while the writers run.
static uint64_t live_seq, live_hash, snap_seq, snap_hash;

static void
observe_while_writing(void)
{
	cJSON *h = http(admin_port, "GET", "/v1/hash");
	cJSON *s = http(admin_port, "POST", "/v1/snapshots");

	CHECK(h != NULL && s != NULL);
	live_seq  = json_u64(h, "seq");
	live_hash = json_hex(h, "hash");
	snap_seq  = json_u64(s, "seq");
	snap_hash = json_hex(s, "hash");
	cJSON_Delete(h);
	cJSON_Delete(s);
}

// Checking a restored data dir -----------------------------------------

typedef struct restored {
	rill_test_server srv;
	int              admin_port;
} restored;

static void
start_restored(restored *r, const char *dir)
{
	char        port[32];
	const char *args[] = { "--admin-listen", port, NULL };

	rill_test_server_init(&r->srv, "history-r");
	snprintf(r->srv.data_dir, sizeof(r->srv.data_dir), "%s", dir);
	r->admin_port = rill_test_free_port();
	snprintf(port, sizeof(port), "127.0.0.1:%d", r->admin_port);
	CHECK(rill_test_server_start(&r->srv, args, NULL));
}

static void
stop_restored(restored *r)
{
	int status = rill_test_server_stop(&r->srv, SIGTERM);

	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// check_hash asks the restored node for its hash at its seq.
static void
check_hash(restored *r, uint64_t seq, uint64_t want)
{
	cJSON *h = http(r->admin_port, "GET", "/v1/hash");

	CHECK(h != NULL);
	if (json_u64(h, "seq") != seq || json_hex(h, "hash") != want) {
		fprintf(stderr,
		    "  restored node: seq %" PRIu64 " hash %016" PRIx64
		    ", want seq %" PRIu64 " hash %016" PRIx64 "\n",
		    json_u64(h, "seq"), json_hex(h, "hash"), seq, want);
		CHECK(0);
	}
	cJSON_Delete(h);
}

// check_keys scans the restored node and compares every pair with the
// model at seq.
static void
check_keys(restored *r, uint64_t seq)
{
	static int   state[N_WRITERS][N_KEYS];
	rill_client *c;
	rill_scan   *scan;
	const void  *k, *v;
	size_t       kl, vl;
	int          w = 0, i = 0, n = 0;

	model_at(seq, state);
	CHECK(rill_open(&c, r->srv.url, NULL) == RILL_OK);
	CHECK(rill_scan_open(c, NULL, &scan) == RILL_OK);
	while (rill_scan_next(scan, &k, &kl, &v, &vl)) {
		char key[32], value[96];
		// The next key the model holds.
		while (w < N_WRITERS && state[w][i] < 0) {
			if (++i == N_KEYS) {
				i = 0;
				w++;
			}
		}
		CHECK(w < N_WRITERS);
		key_of(key, sizeof(key), w, i);
		value_of(value, sizeof(value), w, i, state[w][i]);
		if (kl != strlen(key) || memcmp(k, key, kl) != 0 ||
		    vl != strlen(value) || memcmp(v, value, vl) != 0) {
			fprintf(stderr,
			    "  key %d: got %.*s=%.*s, want %s=%s\n", n,
			    (int) kl, (const char *) k, (int) vl,
			    (const char *) v, key, value);
			CHECK(0);
		}
		n++;
		if (++i == N_KEYS) {
			i = 0;
			w++;
		}
	}
	CHECK(rill_scan_error(scan) == RILL_OK);
	rill_scan_close(scan);
	rill_close(c);
	// Nothing the model holds is missing.
	while (w < N_WRITERS && state[w][i] < 0) {
		if (++i == N_KEYS) {
			i = 0;
			w++;
		}
	}
	CHECK(w == N_WRITERS);
}

// Tests ----------------------------------------------------------------

static uint64_t phase1_last, time_point;

static void
test_snapshot_while_writing(void)
{
	char        port[32];
	const char *args[] = { "--admin-listen", port, "--segment-max-bytes",
		"64KiB", "--snapshot-interval-ms", "0", NULL };

	rill_test_server_init(&srv, "history");
	admin_port = rill_test_free_port();
	snprintf(port, sizeof(port), "127.0.0.1:%d", admin_port);
	CHECK(rill_test_server_start(&srv, args, NULL));

	run_writers(observe_while_writing, 3000);
	pthread_mutex_lock(&ops_mu);
	qsort(ops, n_ops, sizeof(*ops), by_seq);
	phase1_last = n_ops > 0 ? ops[n_ops - 1].seq : 0;
	pthread_mutex_unlock(&ops_mu);
	fprintf(stderr,
	    "  %zu writes; live hash at seq %" PRIu64
	    ", snapshot at seq %" PRIu64 ", last seq %" PRIu64 "\n",
	    n_ops, live_seq, snap_seq, phase1_last);
	// Every seq was acknowledged once: the model is the whole history.
	for (size_t i = 0; i < n_ops; i++) {
		CHECK(ops[i].seq == i + 1);
	}
	CHECK(live_seq > 0 && live_seq < phase1_last);
	CHECK(snap_seq > 0 && snap_seq < phase1_last);
	CHECK(model_hash(live_seq) == live_hash);
	CHECK(model_hash(snap_seq) == snap_hash);

	// The point for the time restore: after every write so far, before
	// every later one. The wall clock must move on past the writes.
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	time_point =
	    (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
	do {
		clock_gettime(CLOCK_REALTIME, &ts);
	} while (
	    (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000 <=
	    time_point + 1000);
	run_writers(NULL, 1000);
	pthread_mutex_lock(&ops_mu);
	qsort(ops, n_ops, sizeof(*ops), by_seq);
	pthread_mutex_unlock(&ops_mu);
}

static void
test_restore_at_snapshot_seq(void)
{
	char     to[300], args[600];
	restored r;

	snprintf(to, sizeof(to), "%s/at-snapshot", tmp);
	snprintf(args, sizeof(args), "--from %s --seq %" PRIu64, srv.data_dir,
	    snap_seq);
	CHECK(restore(to, args) == 0);
	start_restored(&r, to);
	check_hash(&r, snap_seq, snap_hash);
	stop_restored(&r);
}

static void
test_restore_at_live_hash_seq(void)
{
	char     to[300], args[600];
	restored r;

	snprintf(to, sizeof(to), "%s/at-live", tmp);
	snprintf(args, sizeof(args), "--from %s --seq %" PRIu64, srv.data_dir,
	    live_seq);
	CHECK(restore(to, args) == 0);
	start_restored(&r, to);
	check_hash(&r, live_seq, live_hash);
	stop_restored(&r);
}

static void
test_restore_to_a_seq_between(void)
{
	char     to[300], args[600];
	restored r;
	uint64_t seq = snap_seq + (phase1_last - snap_seq) / 2 + 3;

	snprintf(to, sizeof(to), "%s/between", tmp);
	snprintf(
	    args, sizeof(args), "--from %s --seq %" PRIu64, srv.data_dir, seq);
	CHECK(restore(to, args) == 0);
	start_restored(&r, to);
	check_hash(&r, seq, model_hash(seq));
	check_keys(&r, seq);
	stop_restored(&r);
}

static void
test_restore_to_a_time(void)
{
	char     to[300], args[600];
	restored r;

	snprintf(to, sizeof(to), "%s/at-time", tmp);
	snprintf(args, sizeof(args),
	    "--from %s --time @%" PRIu64 ".%06" PRIu64, srv.data_dir,
	    time_point / 1000000, time_point % 1000000);
	CHECK(restore(to, args) == 0);
	start_restored(&r, to);
	check_hash(&r, phase1_last, model_hash(phase1_last));
	check_keys(&r, phase1_last);
	stop_restored(&r);
}

static void
test_restore_over_rpc(void)
{
	char     to[300], args[600];
	restored r;
	uint64_t last = ops[n_ops - 1].seq;
	uint64_t seq  = last - 250;

	snprintf(to, sizeof(to), "%s/over-rpc", tmp);
	snprintf(args, sizeof(args), "--from %s --seq %" PRIu64, srv.url, seq);
	CHECK(restore(to, args) == 0);
	start_restored(&r, to);
	check_hash(&r, seq, model_hash(seq));
	check_keys(&r, seq);
	stop_restored(&r);
	// And the newest state, which is the live one now that writes stopped.
	snprintf(to, sizeof(to), "%s/newest-rpc", tmp);
	snprintf(args, sizeof(args), "--from %s", srv.url);
	CHECK(restore(to, args) == 0);
	start_restored(&r, to);
	check_hash(&r, last, model_hash(last));
	stop_restored(&r);
}

static void
test_restore_refusals(void)
{
	char        to[300], args[600];
	struct stat st;

	// An existing target is never written into.
	snprintf(to, sizeof(to), "%s/at-snapshot", tmp);
	snprintf(args, sizeof(args), "--from %s", srv.data_dir);
	CHECK(restore(to, args) == 4);
	// A seq beyond the history.
	snprintf(to, sizeof(to), "%s/beyond", tmp);
	snprintf(args, sizeof(args), "--from %s --seq %" PRIu64, srv.data_dir,
	    ops[n_ops - 1].seq + 1000);
	CHECK(restore(to, args) == 4);
	CHECK(stat(to, &st) != 0);
	// A time before the oldest snapshot.
	snprintf(args, sizeof(args), "--from %s --time 2001-01-01T00:00:00Z",
	    srv.data_dir);
	CHECK(restore(to, args) == 4);
	CHECK(stat(to, &st) != 0);
	// Nothing is left beside the target either.
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "ls %s | grep -q restoring", tmp);
	CHECK(system(cmd) != 0);
}

// test_restore_at_fork_seq_of_a_restored_dir: a restored dir's generation
// begins at its base snapshot, with no parent in the dir: a restore from
// it at exactly that seq is built from that snapshot (the parent is not
// needed, and not there).
static void
test_restore_at_fork_seq_of_a_restored_dir(void)
{
	char     from[300], to[300], args[700];
	restored r;

	snprintf(from, sizeof(from), "%s/at-snapshot", tmp);
	snprintf(to, sizeof(to), "%s/from-restored", tmp);
	snprintf(
	    args, sizeof(args), "--from %s --seq %" PRIu64, from, snap_seq);
	CHECK(restore(to, args) == 0);
	start_restored(&r, to);
	check_hash(&r, snap_seq, snap_hash);
	stop_restored(&r);
}

// test_restore_refuses_a_gap_after_the_snapshot: a history whose log no
// longer holds the records right after its snapshot, though later ones
// are there, cannot give its newest state or a time's: the restore fails
// (it used to stop at the snapshot and report success).
static void
test_restore_refuses_a_gap_after_the_snapshot(void)
{
	char        src[300], to[300], args[700], cmd[1400];
	struct stat st;

	// A copy of the node's dir without the segments that hold the
	// snapshot's next seq or an earlier one.
	snprintf(src, sizeof(src), "%s/gap-src", tmp);
	snprintf(cmd, sizeof(cmd),
	    "set -e; cp -a %s %s; cd %s/generations/*/log; n=0; "
	    "for f in *.seg; do "
	    "if [ $((0x${f%%.seg})) -le %" PRIu64 " ]; then rm $f; "
	    "else n=$((n+1)); fi; done; [ $n -gt 0 ]",
	    srv.data_dir, src, src, snap_seq + 1);
	CHECK(system(cmd) == 0);
	snprintf(to, sizeof(to), "%s/gap-newest", tmp);
	snprintf(args, sizeof(args), "--from %s", src);
	CHECK(restore(to, args) == 4);
	CHECK(stat(to, &st) != 0);
	snprintf(cmd, sizeof(cmd), "grep -q 'no longer held' %s.out", to);
	CHECK(system(cmd) == 0);
	snprintf(
	    args, sizeof(args), "--from %s --time 2100-01-01T00:00:00Z", src);
	CHECK(restore(to, args) == 4);
	CHECK(stat(to, &st) != 0);
	CHECK(system(cmd) == 0);
}

// count_snapshots returns how many snapshots the node at port lists.
static int
count_snapshots(int port)
{
	cJSON *l = http(port, "GET", "/v1/snapshots");
	int    n = -1;

	if (l != NULL) {
		n = cJSON_GetArraySize(
		    cJSON_GetObjectItemCaseSensitive(l, "snapshots"));
	}
	cJSON_Delete(l);
	return n;
}

// wait_snapshots polls until the node lists at least want snapshots
// (up to 20 s) and returns the count seen last.
static int
wait_snapshots(int port, int want)
{
	int n = 0;

	for (int i = 0; i < 400 && (n = count_snapshots(port)) < want; i++) {
		usleep(50 * 1000);
	}
	return n;
}

static void
put_many(const char *url, int n, int value_bytes)
{
	rill_client *c;
	char         key[32], value[4096];

	memset(value, 'v', sizeof(value));
	CHECK(rill_open(&c, url, NULL) == RILL_OK);
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "t/%06d", i);
		CHECK(rill_put(c, key, strlen(key), value,
		          (size_t) value_bytes, NULL, NULL) == RILL_OK);
	}
	rill_close(c);
}

// Snapshots are taken by themselves when the log since the newest one
// passes snapshot_log_bytes, and every snapshot_interval_ms when
// something was written.
static void
test_snapshot_triggers(void)
{
	rill_test_server s;
	char             port[32];
	int              aport     = rill_test_free_port();
	const char      *by_size[] = { "--admin-listen", port,
		     "--snapshot-log-bytes", "64KiB", "--snapshot-interval-ms", "0",
		     "--retain-snapshots", "100", NULL };
	const char      *by_time[] = { "--admin-listen", port,
		     "--snapshot-log-bytes", "0", "--snapshot-interval-ms", "300",
		     NULL };

	snprintf(port, sizeof(port), "127.0.0.1:%d", aport);
	rill_test_server_init(&s, "history-size");
	CHECK(rill_test_server_start(&s, by_size, NULL));
	CHECK(wait_snapshots(aport, 1) == 1); // the base snapshot
	put_many(s.url, 100, 1000);           // about 100 KiB of log
	CHECK(wait_snapshots(aport, 2) >= 2);
	rill_test_server_cleanup(&s);

	rill_test_server_init(&s, "history-time");
	CHECK(rill_test_server_start(&s, by_time, NULL));
	CHECK(wait_snapshots(aport, 1) == 1);
	put_many(s.url, 3, 10);
	CHECK(wait_snapshots(aport, 2) >= 2);
	rill_test_server_cleanup(&s);
}

int
main(void)
{
	rill_test_tmpdir(tmp, sizeof(tmp), "history");
	RILL_TEST_RUN(test_snapshot_while_writing);
	RILL_TEST_RUN(test_restore_at_snapshot_seq);
	RILL_TEST_RUN(test_restore_at_live_hash_seq);
	RILL_TEST_RUN(test_restore_to_a_seq_between);
	RILL_TEST_RUN(test_restore_to_a_time);
	RILL_TEST_RUN(test_restore_over_rpc);
	RILL_TEST_RUN(test_restore_refusals);
	RILL_TEST_RUN(test_restore_at_fork_seq_of_a_restored_dir);
	RILL_TEST_RUN(test_restore_refuses_a_gap_after_the_snapshot);
	RILL_TEST_RUN(test_snapshot_triggers);
	rill_test_server_cleanup(&srv);
	rill_test_rm_rf(tmp);
	return RILL_TEST_SUMMARY();
}
