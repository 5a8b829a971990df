// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// writer_test: retries across a restart, on a real log and store in a
// temporary dir. A retry of a write that never reached the log (a client's
// later call did) is applied as a new write when the log's refill window
// holds every request id the client's table remembered, and refused with
// ABORTED when it does not; a retry of a write in the window gets its
// first seq. A retry table the writer is given (a promoted follower's) is
// not refilled a second time.
//
// Who commits: under "none" and "interval" submitters commit (concurrent
// ones get every seq once, with no gap, and everything reaches the store),
// under "always" only the writer thread does; and under a steady load of
// submitters' commits the writer thread still makes the interval's
// fdatasyncs and rolls segments by age. A failed write to the log or the
// store in a submitter's commit fails the writer without a hang, and a
// restart finds every acknowledged write.
//
// Applying later: under "none" acknowledged writes may wait, staged, for
// the store; a read after rill_writer_settle sees every acknowledged write
// (also while other threads commit), staged writes reach the store in
// fewer LevelDB writes than groups, the writer thread applies them on its
// own when nobody writes, and a clean close leaves none behind.
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rill/status.h>

#include "clock.h"
#include "dedup.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "test.h"
#include "tsan_suppressions.h" // defines the suppressions
#include "write_wait.h"
#include "writer.h"

#define GEN 1
#define CLIENT_C 0xc0ffee
#define CLIENT_D 0xd00d

static struct node {
	char         dir[PATH_MAX];
	rill_store  *store;
	rill_log    *log;
	rill_writer *writer;
} nd;

// key_of writes the key a write of (client, request_id) puts.
static void
key_of(char *buf, size_t n, uint64_t client, uint64_t request_id)
{
	snprintf(buf, n, "c%llx-r%llu", (unsigned long long) client,
	    (unsigned long long) request_id);
}

// put_batch fills batch with one put (op), for (client, request_id); key must
// outlive the batch.
static void
put_batch(Rill__V1__Batch *batch, Rill__V1__Op *op, Rill__V1__Op **ops,
    char *key, size_t key_n, uint64_t client, uint64_t request_id)
{
	key_of(key, key_n, client, request_id);
	rill__v1__op__init(op);
	rill__v1__batch__init(batch);
	op->type       = RILL__V1__OP__TYPE__PUT;
	op->key.data   = (uint8_t *) key;
	op->key.len    = strlen(key);
	op->value.data = (uint8_t *) "v";
	op->value.len  = 1;
	ops[0]         = op;
	batch->ops     = ops;
	batch->n_ops   = 1;
}

// submit writes (client, request_id, attempt) through the writer and
// waits for its outcome: the code, with *seqp and *dupp on RILL_OK.
static int
submit(uint64_t client, uint64_t request_id, uint32_t attempt, uint64_t *seqp,
    bool *dupp)
{
	char            key[64];
	Rill__V1__Op    op;
	Rill__V1__Op   *ops[1];
	Rill__V1__Batch batch;
	rill_write      w;

	put_batch(&batch, &op, ops, key, sizeof(key), client, request_id);
	w = (rill_write) { .client_id = client,
		.request_id           = request_id,
		.attempt              = attempt,
		.batch                = &batch };
	return rill_test_write_wait(nd.writer, &w, seqp, dupp);
}

// write_new writes (client, request_id) as a first attempt and tells
// whether it was applied as a new write at seq want_seq.
static bool
write_new(uint64_t client, uint64_t request_id, uint64_t want_seq)
{
	uint64_t seq = 0;
	bool     dup = true;
	int      rv  = submit(client, request_id, 0, &seq, &dup);

	if (rv != RILL_OK || dup || seq != want_seq) {
		fprintf(stderr,
		    "write of client %llx request %llu: %s, seq %llu (want "
		    "%llu), duplicate %d\n",
		    (unsigned long long) client,
		    (unsigned long long) request_id, rill_strerror(rv),
		    (unsigned long long) seq, (unsigned long long) want_seq,
		    dup);
		return false;
	}
	return true;
}

// has_key tells whether the store holds the key of (client, request_id).
static bool
has_key(uint64_t client, uint64_t request_id)
{
	char   key[64], *v;
	size_t n;

	key_of(key, sizeof(key), client, request_id);
	if (rill_store_get(nd.store, key, strlen(key), &v, &n) != RILL_OK) {
		return false;
	}
	rill_store_value_free(v);
	return true;
}

static bool
make_node_dir(void)
{
	snprintf(nd.dir, sizeof(nd.dir), "%s/rill-writer-test-XXXXXX",
	    getenv("TMPDIR") != NULL && getenv("TMPDIR")[0] != '\0'
	        ? getenv("TMPDIR")
	        : "/tmp");
	return mkdtemp(nd.dir) != NULL;
}

// open_parts opens the store and the log of nd.dir, with log options lo
// (NULL: the defaults).
static int
open_parts_with(const rill_log_options *lo)
{
	char path[PATH_MAX];
	int  rv;

	snprintf(path, sizeof(path), "%s/store", nd.dir);
	if ((rv = rill_store_open(&nd.store, path, NULL)) != RILL_OK) {
		return rv;
	}
	snprintf(path, sizeof(path), "%s/log", nd.dir);
	return rill_log_open(
	    &nd.log, path, GEN, 0, rill_store_applied_seq(nd.store), lo);
}

static int
open_parts(void)
{
	return open_parts_with(NULL);
}

// open_node opens the store, the log and a writer on them: per_client
// request ids kept per client, the log's newest refill records refilling
// the table, and dedup the table to take over (NULL: a new one).
static int
open_node(uint32_t per_client, uint64_t refill, rill_dedup *dedup)
{
	rill_writer_options wo = {
		.generation           = GEN,
		.sync                 = RILL_SYNC_ALWAYS,
		.dedup_per_client     = per_client,
		.dedup_idle_ms        = 3600000,
		.dedup_refill_records = refill,
		.dedup                = dedup,
	};
	int rv;

	if ((rv = open_parts()) != RILL_OK) {
		rill_dedup_free(dedup);
		return rv;
	}
	return rill_writer_open(&nd.writer, nd.log, nd.store, &wo);
}

// close_node closes the writer, the log and the store (a clean stop: what
// a restart finds is the same as after a crash once the group was
// acknowledged, since sync is "always").
static void
close_node(void)
{
	rill_writer_close(nd.writer);
	nd.writer = NULL;
	rill_log_close(nd.log);
	nd.log = NULL;
	rill_store_close(nd.store);
	nd.store = NULL;
}

static void
remove_node_dir(void)
{
	char cmd[PATH_MAX + 16];

	close_node();
	if (nd.dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", nd.dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "cannot remove %s\n", nd.dir);
		}
		nd.dir[0] = '\0';
	}
}

// test_lost_in_flight_retry_applies_after_restart: client C's calls 1, 2,
// 4 and 5 reached the log, call 3 did not (lost in flight while later
// ones went on). After a restart, its retry is a new write; retries of
// the others get their first seq, also after a second restart.
static void
test_lost_in_flight_retry_applies_after_restart(void)
{
	uint64_t seq = 0;
	bool     dup = false;
	int      rv;

	CHECK(make_node_dir());
	CHECK_EQ_INT(open_node(16, 0, NULL), RILL_OK);
	CHECK(write_new(CLIENT_C, 1, 1));
	CHECK(write_new(CLIENT_C, 2, 2));
	CHECK(write_new(CLIENT_C, 4, 3));
	CHECK(write_new(CLIENT_C, 5, 4));
	close_node();

	CHECK_EQ_INT(open_node(16, 0, NULL), RILL_OK);
	CHECK(!has_key(CLIENT_C, 3));
	rv = submit(CLIENT_C, 3, 1, &seq, &dup);
	CHECK_EQ_INT(rv, RILL_OK);
	CHECK(!dup);
	CHECK_EQ_INT(seq, 5);
	CHECK(has_key(CLIENT_C, 3));
	CHECK_EQ_INT(submit(CLIENT_C, 2, 1, &seq, &dup), RILL_OK);
	CHECK(dup);
	CHECK_EQ_INT(seq, 2);
	CHECK_EQ_INT(submit(CLIENT_C, 5, 2, &seq, &dup), RILL_OK);
	CHECK(dup);
	CHECK_EQ_INT(seq, 4);
	close_node();

	// Once more: call 3 is now in the log, and answered from it.
	CHECK_EQ_INT(open_node(16, 0, NULL), RILL_OK);
	CHECK_EQ_INT(submit(CLIENT_C, 3, 2, &seq, &dup), RILL_OK);
	CHECK(dup);
	CHECK_EQ_INT(seq, 5);
	CHECK_EQ_INT(rill_log_last_seq(nd.log), 5);
	remove_node_dir();
}

// test_retry_outside_refill_is_refused: when the refill window does not
// reach back to the oldest id client C's table remembered, a retry of an
// id in no refilled record may be of a write applied before the window:
// it is refused, never applied twice. A window smaller than the log that
// still holds C's whole table keeps C's floor.
static void
test_retry_outside_refill_is_refused(void)
{
	uint64_t seq = 0, s;
	bool     dup = false;

	CHECK(make_node_dir());
	CHECK_EQ_INT(open_node(8, 0, NULL), RILL_OK);
	CHECK(write_new(CLIENT_C, 1, 1));
	CHECK(write_new(CLIENT_C, 2, 2));
	CHECK(write_new(CLIENT_C, 4, 3));
	CHECK(write_new(CLIENT_C, 5, 4));
	for (s = 5; s <= 14; s++) {
		CHECK(write_new(CLIENT_D, s, s));
	}
	close_node();

	// The newest 4 records (11..14) refill: C's are all older.
	CHECK_EQ_INT(open_node(8, 4, NULL), RILL_OK);
	CHECK_EQ_INT(submit(CLIENT_C, 3, 1, &seq, &dup), RILL_ABORTED);
	CHECK_EQ_INT(submit(CLIENT_C, 2, 1, &seq, &dup), RILL_ABORTED);
	CHECK(!has_key(CLIENT_C, 3));
	// Above the highest id stored for C: new.
	CHECK_EQ_INT(submit(CLIENT_C, 6, 1, &seq, &dup), RILL_OK);
	CHECK(!dup);
	CHECK_EQ_INT(seq, 15);
	// D's newest are in the window.
	CHECK_EQ_INT(submit(CLIENT_D, 13, 1, &seq, &dup), RILL_OK);
	CHECK(dup);
	CHECK_EQ_INT(seq, 13);
	close_node();
	remove_node_dir();

	// C keeps 8 ids: after 1..12 and 14..16 (seqs 1..15), ids 8..12 and
	// 14..16 (seqs 8..15), floor 7. A window of the newest 10 records
	// (6..15) holds them all.
	CHECK(make_node_dir());
	CHECK_EQ_INT(open_node(8, 0, NULL), RILL_OK);
	for (s = 1; s <= 15; s++) {
		CHECK(write_new(CLIENT_C, s < 13 ? s : s + 1, s));
	}
	close_node();
	CHECK_EQ_INT(open_node(8, 10, NULL), RILL_OK);
	CHECK_EQ_INT(submit(CLIENT_C, 8, 1, &seq, &dup), RILL_OK);
	CHECK(dup);
	CHECK_EQ_INT(seq, 8);
	CHECK_EQ_INT(submit(CLIENT_C, 7, 1, &seq, &dup), RILL_ABORTED);
	CHECK_EQ_INT(submit(CLIENT_C, 13, 1, &seq, &dup), RILL_OK);
	CHECK(!dup);
	CHECK_EQ_INT(seq, 16);
	close_node();
	// The same log (16 records; C's ring now seqs 9..16) with a window
	// of 5 (12..16): not covered.
	CHECK_EQ_INT(open_node(8, 5, NULL), RILL_OK);
	CHECK_EQ_INT(submit(CLIENT_C, 13, 2, &seq, &dup), RILL_OK);
	CHECK(dup);
	CHECK_EQ_INT(seq, 16);
	CHECK_EQ_INT(submit(CLIENT_C, 9, 1, &seq, &dup), RILL_ABORTED);
	remove_node_dir();
}

// append_raw appends the record of a put of (client, request_id) at seq
// to the log directly, as a follower's log may hold records its store
// does not (yet).
static int
append_raw(uint64_t client, uint64_t request_id, uint64_t seq)
{
	char            key[64];
	Rill__V1__Op    op;
	Rill__V1__Op   *ops[1];
	Rill__V1__Batch batch;
	uint8_t         buf[256];
	rill_record     rec;
	int             rv;

	put_batch(&batch, &op, ops, key, sizeof(key), client, request_id);
	rec = (rill_record) {
		.seq        = seq,
		.time_us    = rill_wall_us(),
		.client_id  = client,
		.request_id = request_id,
		.batch      = buf,
		.batch_len  = rill__v1__batch__pack(&batch, buf),
	};
	if ((rv = rill_log_append(nd.log, &rec)) != RILL_OK) {
		return rv;
	}
	return rill_log_flush(nd.log, true);
}

// test_given_table_is_not_refilled_again: a writer given a live retry
// table (as a promoted follower's) neither restores it from the store's
// marks nor pushes the log's window into it again, which would evict
// the ids it holds and refuse retries it can answer; it records only the
// records after the store that it does not know yet.
static void
test_given_table_is_not_refilled_again(void)
{
	static const uint64_t ids[] = { 1, 2, 4, 5, 6, 7 };
	rill_dedup           *d;
	uint64_t              seq    = 0;
	uint64_t              now_ms = rill_wall_us() / 1000;
	bool                  dup    = false;

	CHECK(make_node_dir());
	CHECK_EQ_INT(open_node(8, 0, NULL), RILL_OK);
	for (size_t i = 0; i < 6; i++) {
		CHECK(write_new(CLIENT_C, ids[i], i + 1));
	}
	close_node();
	// Two records reach the log but not the store.
	CHECK_EQ_INT(open_parts(), RILL_OK);
	CHECK_EQ_INT(append_raw(CLIENT_C, 8, 7), RILL_OK);
	CHECK_EQ_INT(append_raw(CLIENT_C, 9, 8), RILL_OK);
	close_node();

	// The live table knows seqs 1..7: 7 of its 8 slots.
	CHECK_EQ_INT(rill_dedup_new(&d, 8, 3600000), RILL_OK);
	for (size_t i = 0; i < 6; i++) {
		CHECK_EQ_INT(
		    rill_dedup_record(d, CLIENT_C, ids[i], i + 1, now_ms),
		    RILL_OK);
	}
	CHECK_EQ_INT(rill_dedup_record(d, CLIENT_C, 8, 7, now_ms), RILL_OK);
	CHECK_EQ_INT(open_node(8, 0, d), RILL_OK);
	CHECK_EQ_INT(rill_store_applied_seq(nd.store), 8);
	CHECK(has_key(CLIENT_C, 8));
	CHECK(has_key(CLIENT_C, 9));
	// Every id is still there: nothing was evicted.
	for (size_t i = 0; i < 6; i++) {
		CHECK_EQ_INT(submit(CLIENT_C, ids[i], 1, &seq, &dup), RILL_OK);
		CHECK(dup);
		CHECK_EQ_INT(seq, i + 1);
	}
	CHECK_EQ_INT(submit(CLIENT_C, 9, 1, &seq, &dup), RILL_OK);
	CHECK(dup);
	CHECK_EQ_INT(seq, 8);
	// And the one lost in flight is new.
	CHECK_EQ_INT(submit(CLIENT_C, 3, 1, &seq, &dup), RILL_OK);
	CHECK(!dup);
	CHECK_EQ_INT(seq, 9);
	remove_node_dir();
}

// Who commits ------------------------------------------------------------

#define LOAD_THREADS 4

// One submitting thread of the load: writes until it made n writes (n >
// 0) or until the monotonic clock passes until_ms, one at a time.
typedef struct loader {
	pthread_t        thread;
	uint64_t         client;
	size_t           n;
	uint64_t         until_ms;
	_Atomic uint8_t *seen; // seen[seq]: acknowledgements of seq
	size_t           seen_cap;
	bool             stop_on_failure; // else count failures and go on
	size_t           value_len;       // of each put (0: one byte)
	size_t           n_done, n_by_self, n_failed;
	int              failure; // the code of the last failed write
} loader;

static void *
load_main(void *arg)
{
	loader *ld = arg;

	for (uint64_t r = 1;
	     ld->n > 0 ? r <= ld->n : rill_mono_ms() < ld->until_ms; r++) {
		char            key[64];
		Rill__V1__Op    op;
		Rill__V1__Op   *ops[1];
		Rill__V1__Batch batch;
		rill_write      w;
		uint64_t        seq     = 0;
		bool            on_self = false;

		put_batch(&batch, &op, ops, key, sizeof(key), ld->client, r);
		if (ld->value_len > 0) {
			static const uint8_t big[4096];
			op.value.data = (uint8_t *) big;
			op.value.len  = ld->value_len;
		}
		w      = (rill_write) { .client_id = ld->client,
			     .request_id           = r,
			     .batch                = &batch };
		int rv = rill_test_write_wait_on(
		    nd.writer, &w, &seq, NULL, &on_self);
		if (rv == RILL_OK && (seq == 0 || seq >= ld->seen_cap)) {
			rv = RILL_INTERNAL;
		}
		if (rv != RILL_OK) {
			ld->n_failed++;
			ld->failure = rv;
			if (ld->stop_on_failure) {
				break;
			}
			continue;
		}
		atomic_fetch_add_explicit(
		    &ld->seen[seq], 1, memory_order_relaxed);
		ld->n_done++;
		ld->n_by_self += on_self;
	}
	return NULL;
}

// run_loaders runs LOAD_THREADS loaders, ld[i] writing as client 0x100 +
// i: n writes each (or, n == 0, for ms milliseconds), each stopping at
// its first failed write if stop_on_failure, with values of value_len
// bytes (0: one byte). seen (seen_cap entries)
// counts the acknowledgements of each seq. False if a thread could not
// start (none is left running then).
static bool
run_loaders(loader *ld, size_t n, uint64_t ms, bool stop_on_failure,
    size_t value_len, _Atomic uint8_t *seen, size_t seen_cap)
{
	for (int i = 0; i < LOAD_THREADS; i++) {
		ld[i] = (loader) { .client = 0x100 + (uint64_t) i,
			.n                 = n,
			.until_ms          = rill_mono_ms() + ms,
			.seen              = seen,
			.seen_cap          = seen_cap,
			.stop_on_failure   = stop_on_failure,
			.value_len         = value_len };
		if (pthread_create(&ld[i].thread, NULL, load_main, &ld[i]) !=
		    0) {
			for (int j = 0; j < i; j++) {
				pthread_join(ld[j].thread, NULL);
			}
			return false;
		}
	}
	for (int i = 0; i < LOAD_THREADS; i++) {
		pthread_join(ld[i].thread, NULL);
	}
	return true;
}

// run_load runs the loaders (see run_loaders) and checks that every write
// succeeded and got its own seq, with no gap from 1. It returns how many
// writes in all (0 after a failed check), with *by_selfp of them
// acknowledged on their own submitting thread.
static size_t
run_load(size_t n, uint64_t ms, size_t *by_selfp)
{
	enum { SEEN_CAP = 1u << 22 };
	loader           ld[LOAD_THREADS];
	_Atomic uint8_t *seen  = calloc(SEEN_CAP, sizeof(*seen));
	size_t           total = 0, by_self = 0, failed = 0;
	bool             ok =
	    seen != NULL && run_loaders(ld, n, ms, false, 0, seen, SEEN_CAP);

	for (int i = 0; ok && i < LOAD_THREADS; i++) {
		total += ld[i].n_done;
		by_self += ld[i].n_by_self;
		failed += ld[i].n_failed;
	}
	if (ok && failed > 0) {
		fprintf(stderr, "%zu writes of the load failed\n", failed);
		ok = false;
	}
	for (size_t seq = 1; ok && seq < SEEN_CAP; seq++) {
		if (seen[seq] != (seq <= total ? 1 : 0)) {
			fprintf(stderr,
			    "seq %zu acknowledged %u times (%zu writes)\n",
			    seq, (unsigned) seen[seq], total);
			ok = false;
		}
	}
	free(seen);
	*by_selfp = by_self;
	return ok ? total : 0;
}

// open_policy opens a new node with sync policy sync, interval_ms for
// "interval", and log options lo (NULL: the defaults).
static int
open_policy(enum rill_sync_policy sync, uint64_t interval_ms,
    const rill_log_options *lo)
{
	rill_writer_options wo = {
		.generation       = GEN,
		.sync             = sync,
		.sync_interval_ms = interval_ms,
		.dedup_per_client = 64,
		.dedup_idle_ms    = 3600000,
	};
	int rv;

	if (!make_node_dir()) {
		return RILL_EIO;
	}
	if ((rv = open_parts_with(lo)) != RILL_OK) {
		return rv;
	}
	return rill_writer_open(&nd.writer, nd.log, nd.store, &wo);
}

// test_submitters_commit_under_sync_none: concurrent submitters commit
// (some writes are acknowledged on their own thread), every write gets one
// seq with no gap, and every key reaches the store, also after a restart.
static void
test_submitters_commit_under_sync_none(void)
{
	rill_writer_stats st;
	size_t            n, by_self = 0;

	CHECK_EQ_INT(open_policy(RILL_SYNC_NONE, 0, NULL), RILL_OK);
	n = run_load(2000, 0, &by_self);
	CHECK_EQ_INT(n, LOAD_THREADS * 2000);
	CHECK(by_self > 0);
	rill_writer_get_stats(nd.writer, &st);
	CHECK_EQ_INT(st.writes, n);
	CHECK_EQ_INT(st.syncs, 0);
	// The close applied what was staged: the store alone holds it all,
	// with no replay.
	close_node();
	CHECK_EQ_INT(open_parts(), RILL_OK);
	CHECK_EQ_INT(rill_store_applied_seq(nd.store), n);
	for (int i = 0; i < LOAD_THREADS; i++) {
		for (uint64_t r = 1; r <= 2000; r++) {
			CHECK(has_key(0x100 + (uint64_t) i, r));
		}
	}
	fprintf(stderr,
	    "  none: %zu of %zu writes acknowledged by their "
	    "own submitter, %llu store writes for %llu groups\n",
	    by_self, n, (unsigned long long) st.applies,
	    (unsigned long long) st.groups);
	CHECK(st.applies < st.groups);
	remove_node_dir();
}

// A reader writes its own keys one at a time and reads each back after
// rill_writer_settle (odd writes) or rill_writer_settle_key (even ones),
// while the other readers do the same. Before that, it settles for a key
// nobody writes.
typedef struct reader {
	pthread_t thread;
	uint64_t  client;
	size_t    n;
	size_t    n_staged;  // acknowledged writes the store did not hold yet
	size_t    n_skipped; // ... and still did not after the other key's
	size_t    n_missed;  // writes the read after settle did not see
	int       failure;
} reader;

static void *
read_main(void *arg)
{
	reader *rd = arg;

	for (uint64_t r = 1; r <= rd->n; r++) {
		char     key[64];
		uint64_t seq = 0;
		int      rv  = submit(rd->client, r, 0, &seq, NULL);

		key_of(key, sizeof(key), rd->client, r);
		if (rv == RILL_OK && rill_store_applied_seq(nd.store) < seq) {
			rd->n_staged++;
			rv = rill_writer_settle_key(nd.writer, "absent", 6);
			rd->n_skipped += rv == RILL_OK &&
			    rill_store_applied_seq(nd.store) < seq;
		}
		if (rv == RILL_OK) {
			rv = r % 2 ? rill_writer_settle(nd.writer)
			           : rill_writer_settle_key(
			                 nd.writer, key, strlen(key));
		}
		if (rv != RILL_OK) {
			rd->failure = rv;
			break;
		}
		rd->n_missed += !has_key(rd->client, r);
	}
	return NULL;
}

// test_settled_reads_see_acknowledged_writes: under "none", writes are
// acknowledged before the store holds them (some were seen staged), and
// every read after rill_writer_settle, or rill_writer_settle_key of its
// key, sees the write, while other threads commit (settle then waits for
// the turn's holder or takes the turn). Settling for a key no staged write
// touches left the store behind (it had nothing to wait for).
static void
test_settled_reads_see_acknowledged_writes(void)
{
	reader rd[LOAD_THREADS];
	size_t staged = 0, skipped = 0;

	CHECK_EQ_INT(open_policy(RILL_SYNC_NONE, 0, NULL), RILL_OK);
	for (int i = 0; i < LOAD_THREADS; i++) {
		rd[i] = (reader) { .client = 0x200 + (uint64_t) i, .n = 1000 };
		CHECK_EQ_INT(
		    pthread_create(&rd[i].thread, NULL, read_main, &rd[i]), 0);
	}
	for (int i = 0; i < LOAD_THREADS; i++) {
		pthread_join(rd[i].thread, NULL);
	}
	for (int i = 0; i < LOAD_THREADS; i++) {
		CHECK_EQ_INT(rd[i].failure, RILL_OK);
		CHECK_EQ_INT(rd[i].n_missed, 0);
		staged += rd[i].n_staged;
		skipped += rd[i].n_skipped;
	}
	fprintf(stderr,
	    "  %zu of %d acknowledged writes were still staged; settling for "
	    "another key left %zu of them so\n",
	    staged, LOAD_THREADS * 1000, skipped);
	CHECK(staged > 0);
	CHECK(skipped > 0);
	remove_node_dir();
}

// wait_applied polls until the store holds seq, for at most ms
// milliseconds; it returns how long that took (ms + 1: it did not).
static uint64_t
wait_applied(uint64_t seq, uint64_t ms)
{
	uint64_t t0 = rill_mono_ms();

	while (rill_store_applied_seq(nd.store) < seq) {
		if (rill_mono_ms() - t0 > ms) {
			return ms + 1;
		}
		usleep(200);
	}
	return rill_mono_ms() - t0;
}

// test_writer_thread_applies_staged_writes: a write acknowledged under
// "none" reaches the store with no read asking and nobody writing after
// it: the writer thread, asleep for its once-a-second housekeeping when a
// submitter committed the write, is woken to apply it about a millisecond
// later (well within the 500 ms allowed here for a busy machine).
static void
test_writer_thread_applies_staged_writes(void)
{
	uint64_t seq = 0, ms;

	CHECK_EQ_INT(open_policy(RILL_SYNC_NONE, 0, NULL), RILL_OK);
	// The first write starts the log's first segment, which is the
	// writer thread's to do: it commits that one itself.
	// (900 ms: under the writer's 1 s housekeeping tick, which would
	// apply the write without any wake-up, with room for a sanitizer
	// build on a busy machine.)
	CHECK_EQ_INT(submit(CLIENT_C, 1, 0, &seq, NULL), RILL_OK);
	CHECK(wait_applied(seq, 900) <= 900);
	// Then it goes to sleep with nothing staged; the next write is
	// committed by its submitter.
	usleep(20 * 1000);
	CHECK_EQ_INT(submit(CLIENT_C, 2, 0, &seq, NULL), RILL_OK);
	CHECK_EQ_INT(seq, 2);
	ms = wait_applied(seq, 900);
	CHECK(ms <= 900);
	CHECK(has_key(CLIENT_C, 2));
	fprintf(stderr, "  applied %llu ms after the acknowledgement\n",
	    (unsigned long long) ms);
	remove_node_dir();
}

// test_writer_thread_commits_under_sync_always: no write is acknowledged
// on its submitter's thread, and each group is one fdatasync.
static void
test_writer_thread_commits_under_sync_always(void)
{
	rill_writer_stats st;
	size_t            n, by_self = 1;

	CHECK_EQ_INT(open_policy(RILL_SYNC_ALWAYS, 0, NULL), RILL_OK);
	n = run_load(200, 0, &by_self);
	CHECK_EQ_INT(n, LOAD_THREADS * 200);
	CHECK_EQ_INT(by_self, 0);
	rill_writer_get_stats(nd.writer, &st);
	CHECK_EQ_INT(st.syncs, st.groups);
	// Each group reached the store before its acknowledgement.
	CHECK_EQ_INT(st.applies, st.groups);
	CHECK_EQ_INT(rill_writer_acked_seq(nd.writer), n);
	CHECK_EQ_INT(rill_store_applied_seq(nd.store), n);
	remove_node_dir();
}

// test_housekeeping_under_submitters_load: with submitters committing all
// the time, the writer thread still syncs every interval, and segments
// that grew old are rolled.
static void
test_housekeeping_under_submitters_load(void)
{
	rill_log_options  lo = { .segment_max_age_ms = 300 };
	rill_writer_stats st;
	size_t            n, by_self = 0;

	CHECK_EQ_INT(open_policy(RILL_SYNC_INTERVAL, 50, &lo), RILL_OK);
	n = run_load(0, 2500, &by_self);
	CHECK(n > 0);
	CHECK(by_self > 0);
	rill_writer_get_stats(nd.writer, &st);
	// About 50 intervals: a writer thread kept from its turn makes one.
	fprintf(stderr, "  interval: %zu writes, %llu syncs, %u segments\n", n,
	    (unsigned long long) st.syncs, rill_log_segment_count(nd.log));
	CHECK(st.syncs >= 10);
	// Rolled by age (by the writer thread, as a submitter hands back the
	// flush that rolls).
	CHECK(rill_log_segment_count(nd.log) >= 2);
	remove_node_dir();
}

// io_error_under_submitters_commits: a write that fails (past the file
// size limit) in a submitter's commit fails the writer. Every writer thread
// then gets UNAVAILABLE and nothing hangs; a new write is refused at once;
// after a restart every acknowledged write is in the store. With values
// of value_len bytes (0: one byte). log_fails tells which is to fail:
// the log (the failed group is not in it) or the store (it is, and a
// restart replays it).
static void
io_error_under_submitters_commits(size_t value_len, bool log_fails)
{
	enum { SEEN_CAP = 1u << 20 };
	loader           ld[LOAD_THREADS];
	_Atomic uint8_t *seen = calloc(SEEN_CAP, sizeof(*seen));
	struct rlimit    old, lim;
	size_t           acked = 0;
	bool             ran;

	// For the store to fail first, the log's segments stay far below the
	// limit: they roll at 256 KiB (a file is preallocated 1 MiB past
	// its data at most, and trimmed when sealed).
	rill_log_options small = { .segment_max_bytes = 256 << 10 };

	CHECK(seen != NULL);
	CHECK_EQ_INT(open_policy(RILL_SYNC_NONE, 0, log_fails ? NULL : &small),
	    RILL_OK);
	CHECK_EQ_INT(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	// Past the segment's first preallocated MiB the next extension fails;
	// LevelDB's own log, its memtable's 16 MiB away from a flush, fails
	// on reaching the limit.
	lim.rlim_cur = 1536 << 10;
	CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ran = run_loaders(ld, SEEN_CAP / LOAD_THREADS - 1, 0, true, value_len,
	    seen, SEEN_CAP);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	free(seen);
	CHECK(ran);
	CHECK(rill_writer_failed(nd.writer));
	for (int i = 0; i < LOAD_THREADS; i++) {
		CHECK_EQ_INT(ld[i].failure, RILL_UNAVAILABLE);
		acked += ld[i].n_done;
	}
	CHECK(acked > 0);
	CHECK_EQ_INT(submit(CLIENT_C, 1, 0, NULL, NULL), RILL_UNAVAILABLE);
	// A read is refused when the store lacks acknowledged writes.
	CHECK_EQ_INT(rill_writer_settle(nd.writer),
	    rill_store_applied_seq(nd.store) >=
	            rill_writer_acked_seq(nd.writer)
	        ? RILL_OK
	        : RILL_UNAVAILABLE);
	if (log_fails) {
		CHECK_EQ_INT(rill_log_last_seq(nd.log), acked);
	} else {
		CHECK(rill_log_last_seq(nd.log) >= acked);
	}
	close_node();
	CHECK_EQ_INT(open_node(64, 0, NULL), RILL_OK);
	for (int i = 0; i < LOAD_THREADS; i++) {
		for (uint64_t r = 1; r <= ld[i].n_done; r++) {
			CHECK(has_key(ld[i].client, r));
		}
	}
	fprintf(stderr,
	    "  %zu writes acknowledged before the error, all present after "
	    "a restart\n",
	    acked);
	remove_node_dir();
}

static void
test_log_io_error_under_submitters_commits(void)
{
	io_error_under_submitters_commits(2000, true);
}

static void
test_store_io_error_under_submitters_commits(void)
{
	io_error_under_submitters_commits(0, false);
}

// test_alloc_failures_fail_the_writer_cleanly: under "none", after writes
// of 8 clients, a 9th client's write meets an allocation failure at each
// allocation in turn (the retry table's, the store batch's, the log's...).
// Each either succeeds, and then its retry gets its first seq, or fails
// the writer: later writes get UNAVAILABLE, and the close must not read
// the failed write's buffers (freed here at once, so ASan sees a read;
// that needs the 8 still staged, which is up to timing). After a restart
// every acknowledged write is in the store.
static void
test_alloc_failures_fail_the_writer_cleanly(void)
{
	size_t n_failed = 0;

	for (unsigned long i = 1; i <= 40; i++) {
		Rill__V1__Op    op, *ops[1];
		Rill__V1__Batch batch;
		rill_write      w;
		char           *key = malloc(64);
		uint64_t        seq = 0;
		int             rv;

		CHECK(key != NULL);
		CHECK_EQ_INT(open_policy(RILL_SYNC_NONE, 0, NULL), RILL_OK);
		for (uint64_t c = 1; c <= 8; c++) {
			CHECK(write_new(0x500 + c, 1, c));
		}
		put_batch(&batch, &op, ops, key, 64, 0x509, 1);
		w = (rill_write) {
			.client_id = 0x509, .request_id = 1, .batch = &batch
		};
		rill_mem_fail_after(i);
		rv = rill_test_write_wait(nd.writer, &w, &seq, NULL);
		rill_mem_fail_after(0);
		memset(key, 0, 64);
		free(key);
		CHECK(rv == RILL_OK || rv == RILL_UNAVAILABLE ||
		    rv == RILL_ENOMEM);
		if (rv != RILL_OK) {
			n_failed++;
			CHECK_EQ_INT(
			    submit(0x50a, 1, 0, NULL, NULL), RILL_UNAVAILABLE);
		} else {
			// Its retry gets the first seq: the retry table
			// recorded it (or the write failed).
			uint64_t again = 0;
			bool     dup   = false;
			CHECK_EQ_INT(
			    submit(0x509, 1, 1, &again, &dup), RILL_OK);
			CHECK(dup && again == seq);
		}
		close_node();
		// The restart replays what the store lacks.
		CHECK_EQ_INT(open_node(64, 0, NULL), RILL_OK);
		for (uint64_t c = 1; c <= 8; c++) {
			CHECK(has_key(0x500 + c, 1));
		}
		CHECK(rv != RILL_OK || has_key(0x509, 1));
		remove_node_dir();
	}
	fprintf(stderr, "  %zu of 40 allocation failures failed the write\n",
	    n_failed);
	CHECK(n_failed > 0);
}

// lose_store_page zeroes 4 KiB of the store's LevelDB log at about 60% of
// its length: a page of its unsynced file that a power cut lost while
// later ones reached the disk. false when there is no such log.
static bool
lose_store_page(void)
{
	char        cmd[PATH_MAX + 256], path[PATH_MAX];
	FILE       *p;
	struct stat st;
	static char zeros[4096];
	int         fd;
	bool        ok;

	snprintf(cmd, sizeof(cmd), "ls %s/store/*.log", nd.dir);
	if ((p = popen(cmd, "r")) == NULL) {
		return false;
	}
	ok = fgets(path, sizeof(path), p) != NULL;
	pclose(p);
	if (!ok) {
		return false;
	}
	path[strcspn(path, "\n")] = '\0';
	if ((fd = open(path, O_WRONLY)) < 0) {
		return false;
	}
	ok = fstat(fd, &st) == 0 && st.st_size > 3 * 4096 &&
	    pwrite(fd, zeros, sizeof(zeros),
	        st.st_size * 6 / 10 / 4096 * 4096) == (ssize_t) sizeof(zeros);
	close(fd);
	return ok;
}

// test_store_page_lost_is_replayed: LevelDB's log is not synced. After a
// power cut it may come back without a page in its middle but with the
// commits after it, so the store's applied seq covers writes it lost.
// A restart replays the log from the store's last synced (durable)
// position instead, and every acknowledged write is there again.
static void
test_store_page_lost_is_replayed(void)
{
	int missing = 0;

	CHECK(make_node_dir());
	CHECK_EQ_INT(open_node(16, 0, NULL), RILL_OK);
	for (uint64_t i = 1; i <= 50; i++) {
		CHECK(write_new(CLIENT_C, i, i));
	}
	CHECK_EQ_INT(rill_store_sync(nd.store), RILL_OK);
	for (uint64_t i = 51; i <= 300; i++) {
		CHECK(write_new(CLIENT_C, i, i));
	}
	close_node();
	CHECK(lose_store_page());

	CHECK_EQ_INT(open_node(16, 0, NULL), RILL_OK);
	for (uint64_t i = 1; i <= 300; i++) {
		missing += !has_key(CLIENT_C, i);
	}
	fprintf(
	    stderr, "  %d of 300 writes missing after the restart\n", missing);
	CHECK_EQ_INT(missing, 0);
	CHECK_EQ_INT(rill_store_applied_seq(nd.store), 300);
	remove_node_dir();
}

RILL_TEST_MAIN_BEGIN
RILL_TEST_RUN(test_lost_in_flight_retry_applies_after_restart);
RILL_TEST_RUN(test_store_page_lost_is_replayed);
remove_node_dir();
RILL_TEST_RUN(test_retry_outside_refill_is_refused);
remove_node_dir();
RILL_TEST_RUN(test_given_table_is_not_refilled_again);
remove_node_dir();
RILL_TEST_RUN(test_submitters_commit_under_sync_none);
remove_node_dir();
RILL_TEST_RUN(test_settled_reads_see_acknowledged_writes);
remove_node_dir();
RILL_TEST_RUN(test_writer_thread_applies_staged_writes);
remove_node_dir();
RILL_TEST_RUN(test_writer_thread_commits_under_sync_always);
remove_node_dir();
RILL_TEST_RUN(test_housekeeping_under_submitters_load);
remove_node_dir();
RILL_TEST_RUN(test_log_io_error_under_submitters_commits);
remove_node_dir();
RILL_TEST_RUN(test_store_io_error_under_submitters_commits);
remove_node_dir();
RILL_TEST_RUN(test_alloc_failures_fail_the_writer_cleanly);
remove_node_dir();
RILL_TEST_MAIN_END
