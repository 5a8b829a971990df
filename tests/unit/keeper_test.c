// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// keeper_test: retention of the log for followers, on a real data dir,
// store, log (small segments), writer and catalog. A follower seen within
// the window keeps the log after its position; one seen before the window
// keeps nothing; past follower_retain_bytes the oldest of the log kept
// for followers goes anyway, with an event naming the follower; the
// followers table reaches the catalog when the keeper closes.
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rill/status.h>

#include "catalog.h"
#include "clock.h"
#include "datadir.h"
#include "followers.h"
#include "history.h"
#include "keeper.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "test.h"
#include "write_wait.h"
#include "writer.h"

#define SEGMENT_BYTES 4096
#define VALUE_BYTES 200
#define CAP_BYTES (5 * SEGMENT_BYTES)
#define WINDOW_MS 60000
#define SEC 1000000ULL

static struct node {
	char            dir[PATH_MAX];
	rill_datadir   *dd;
	rill_store     *store;
	rill_log       *log;
	rill_writer    *writer;
	rill_catalog   *catalog;
	rill_followers *followers;
	rill_keeper    *keeper;
	uint64_t        gen;
	uint64_t        n_written;
} nd;

// put_one commits one put of VALUE_BYTES through the writer.
static int
put_one(void)
{
	char            key[32], value[VALUE_BYTES];
	Rill__V1__Op    op    = RILL__V1__OP__INIT;
	Rill__V1__Op   *ops[] = { &op };
	Rill__V1__Batch batch = RILL__V1__BATCH__INIT;

	nd.n_written++;
	snprintf(key, sizeof(key), "key-%06" PRIu64, nd.n_written);
	memset(value, 'v', sizeof(value));
	op.type       = RILL__V1__OP__TYPE__PUT;
	op.key.data   = (uint8_t *) key;
	op.key.len    = strlen(key);
	op.value.data = (uint8_t *) value;
	op.value.len  = sizeof(value);
	batch.n_ops   = 1;
	batch.ops     = ops;
	return rill_test_write_wait(nd.writer,
	    &(rill_write) {
	        .client_id = 7, .request_id = nd.n_written, .batch = &batch },
	    NULL, NULL);
}

static int
put_until(uint64_t last_seq)
{
	int rv = RILL_OK;

	while (rv == RILL_OK && rill_log_last_seq(nd.log) < last_seq) {
		rv = put_one();
	}
	return rv;
}

// The log as retention left it: the first seq held, and the bytes of the
// sealed segments whose records are all at or before through.
typedef struct log_view {
	uint64_t first_seq;     // of the oldest segment
	uint64_t first_last;    // the oldest segment's last seq
	uint64_t bytes_through; // sealed segments ending at or before through
	uint64_t segment_bytes; // the largest segment
	size_t   n;
} log_view;

static int
view_log(uint64_t through, log_view *v)
{
	rill_log_segment *segs;
	size_t            n;
	int               rv;

	memset(v, 0, sizeof(*v));
	if ((rv = rill_log_segments(nd.log, &segs, &n)) != RILL_OK) {
		return rv;
	}
	if (n > 0) {
		v->first_seq  = segs[0].first_seq;
		v->first_last = segs[0].last_seq;
	}
	for (size_t i = 0; i < n; i++) {
		if (segs[i].sealed && segs[i].last_seq <= through) {
			v->bytes_through += segs[i].size;
		}
		if (segs[i].size > v->segment_bytes) {
			v->segment_bytes = segs[i].size;
		}
	}
	v->n = n;
	rill_free(segs);
	return RILL_OK;
}

// event_mentions tells whether one of the newest events of kind has
// text in its detail.
static bool
event_mentions(const char *kind, const char *text)
{
	rill_cat_event *ev;
	size_t          n;
	bool            found = false;

	if (rill_catalog_events(nd.catalog, 50, &ev, &n) != RILL_OK) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		found |= strcmp(ev[i].kind, kind) == 0 &&
		    strstr(ev[i].detail, text) != NULL;
	}
	rill_free(ev);
	return found;
}

static void
test_setup(void)
{
	char             path[PATH_MAX];
	bool             fresh;
	rill_log_options lo = { .segment_max_bytes = SEGMENT_BYTES };

	snprintf(nd.dir, sizeof(nd.dir), "%s/rill-keeper-test-XXXXXX",
	    getenv("TMPDIR") != NULL && getenv("TMPDIR")[0] != '\0'
	        ? getenv("TMPDIR")
	        : "/tmp");
	CHECK(mkdtemp(nd.dir) != NULL);
	snprintf(path, sizeof(path), "%s/data", nd.dir);
	CHECK_EQ_INT(rill_datadir_open(&nd.dd, path), RILL_OK);
	CHECK_EQ_INT(
	    rill_datadir_store_path(nd.dd, path, sizeof(path)), RILL_OK);
	CHECK_EQ_INT(rill_store_open(&nd.store, path, NULL), RILL_OK);
	CHECK_EQ_INT(
	    rill_datadir_new_generation(nd.dd, 0, 0, &nd.gen), RILL_OK);
	CHECK_EQ_INT(
	    rill_datadir_log_path(nd.dd, nd.gen, path, sizeof(path)), RILL_OK);
	CHECK_EQ_INT(rill_log_open(&nd.log, path, nd.gen, 0,
	                 rill_store_applied_seq(nd.store), &lo),
	    RILL_OK);
	rill_writer_options wo = {
		.generation       = nd.gen,
		.sync             = RILL_SYNC_NONE,
		.dedup_per_client = 16,
		.dedup_idle_ms    = 60000,
	};
	CHECK_EQ_INT(
	    rill_writer_open(&nd.writer, nd.log, nd.store, &wo), RILL_OK);
	snprintf(path, sizeof(path), "%s/data/catalog.db", nd.dir);
	CHECK_EQ_INT(rill_catalog_open(&nd.catalog, path, &fresh), RILL_OK);
	CHECK_EQ_INT(
	    rill_followers_new(&nd.followers, nd.catalog, 0), RILL_OK);
	CHECK_EQ_INT(put_until(300), RILL_OK);
	// Enough segments that the numbers below mean something.
	CHECK(rill_log_segment_count(nd.log) >= 15);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	rill_keeper_close(nd.keeper);
	rill_writer_close(nd.writer);
	rill_followers_free(nd.followers);
	rill_catalog_close(nd.catalog);
	rill_log_close(nd.log);
	rill_store_close(nd.store);
	rill_datadir_close(nd.dd);
	if (nd.dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", nd.dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "could not remove %s\n", nd.dir);
		}
	}
}

// The keeper opens with a snapshot at 300 and runs retention: without
// followers every sealed segment through 300 would go. f1 (seen now, at
// 250) keeps the log after 250; "gone" (at 10, seen before the window)
// keeps nothing.
static void
test_window_keeps_followers_log(void)
{
	uint64_t            now = rill_wall_us();
	log_view            v;
	rill_keeper_options ko = {
		.dd                    = nd.dd,
		.store                 = nd.store,
		.log                   = nd.log,
		.catalog               = nd.catalog,
		.generation            = nd.gen,
		.retain_snapshots      = 1,
		.followers             = nd.followers,
		.follower_window_ms    = WINDOW_MS,
		.follower_retain_bytes = CAP_BYTES,
	};

	rill_followers_seen(nd.followers, "gone", "tcp://gone:1", nd.gen, 10,
	    1, now - 2 * WINDOW_MS * 1000);
	rill_followers_seen(
	    nd.followers, "f1", "tcp://f1:1", nd.gen, 250, 1, now);
	CHECK_EQ_INT(rill_keeper_open(&nd.keeper, &ko), RILL_OK);
	CHECK_EQ_INT(view_log(300, &v), RILL_OK);
	// The oldest segment left holds 251, f1's next record.
	CHECK(v.first_seq <= 251);
	CHECK(v.first_last >= 251);
	// And what it keeps is under the cap: no notice of it.
	CHECK(v.bytes_through <= CAP_BYTES);
	CHECK(!event_mentions("retention", "follower_retain_bytes"));

	// f1 moves on: the next retention lets the log before it go.
	rill_followers_seen(
	    nd.followers, "f1", "tcp://f1:1", nd.gen, 280, 1, rill_wall_us());
	CHECK_EQ_INT(rill_keeper_retention(nd.keeper), RILL_OK);
	CHECK_EQ_INT(view_log(300, &v), RILL_OK);
	CHECK(v.first_seq > 251);
	CHECK(v.first_seq <= 281);
	CHECK(v.first_last >= 281);
}

// f1 stays at 280 while the log grows to 600 and a snapshot makes
// everything through 600 removable: the log kept for it would pass the
// cap, so its oldest part goes, with an event naming f1.
static void
test_cap_bounds_followers_log(void)
{
	rill_cat_snapshot snap;
	log_view          v;

	CHECK(nd.keeper != NULL);
	CHECK_EQ_INT(put_until(600), RILL_OK);
	rill_followers_seen(
	    nd.followers, "f1", "tcp://f1:1", nd.gen, 280, 1, rill_wall_us());
	// As the admin API does: under sync none the writer may have staged
	// the last writes for the store.
	CHECK_EQ_INT(rill_writer_settle(nd.writer), RILL_OK);
	CHECK_EQ_INT(rill_keeper_snapshot(nd.keeper, true, &snap), RILL_OK);
	CHECK_EQ_INT(snap.seq, 600);
	// The snapshot's retention has run before the answer.
	CHECK_EQ_INT(view_log(600, &v), RILL_OK);
	// f1's position is gone: it must bootstrap again.
	CHECK(v.first_seq > 281);
	// At most the cap is kept for followers, and no less than the cap
	// minus a segment (only the oldest went).
	CHECK(v.bytes_through <= CAP_BYTES);
	CHECK(v.bytes_through + v.segment_bytes > CAP_BYTES);
	CHECK(event_mentions("retention", "f1"));
	CHECK(event_mentions("retention", "follower_retain_bytes"));

	// Run again, nothing new: what is kept fits the cap, so nothing
	// more goes.
	CHECK_EQ_INT(rill_keeper_retention(nd.keeper), RILL_OK);
	log_view again;
	CHECK_EQ_INT(view_log(600, &again), RILL_OK);
	CHECK_EQ_INT(again.first_seq, v.first_seq);
}

// Once f1 was last seen before the window it holds nothing: the log
// through the snapshot goes.
static void
test_window_expiry_releases_log(void)
{
	log_view v;

	CHECK(nd.keeper != NULL);
	rill_followers_seen(nd.followers, "f1", "tcp://f1:1", nd.gen, 280, 1,
	    rill_wall_us() - 2 * WINDOW_MS * 1000);
	CHECK_EQ_INT(rill_keeper_retention(nd.keeper), RILL_OK);
	CHECK_EQ_INT(view_log(600, &v), RILL_OK);
	CHECK_EQ_INT(v.bytes_through, 0);
	CHECK(v.first_last > 600 || v.n == 1);
}

// A generation that is not the current one and keeps no snapshot goes
// whole: renamed first to a name no generation has (so that a crash in
// the middle leaves nothing a reader takes for a generation), then
// removed, with nothing left. What such a crash left is skipped.
static void
test_old_generation_removed_whole(void)
{
	char        dir[PATH_MAX], gone[PATH_MAX + 16], cmd[PATH_MAX + 64];
	uint64_t    old;
	struct stat st;

	CHECK(nd.keeper != NULL);
	snprintf(cmd, sizeof(cmd),
	    "mkdir -p %s/generations/00000000000000aa.removing/log",
	    rill_datadir_path(nd.dd));
	CHECK(system(cmd) == 0);
	CHECK_EQ_INT(rill_datadir_new_generation(nd.dd, 0, 0, &old), RILL_OK);
	CHECK_EQ_INT(rill_history_gen_dir(
	                 dir, sizeof(dir), rill_datadir_path(nd.dd), old),
	    RILL_OK);
	CHECK(stat(dir, &st) == 0);
	CHECK_EQ_INT(rill_keeper_retention(nd.keeper), RILL_OK);
	CHECK(stat(dir, &st) != 0);
	snprintf(gone, sizeof(gone), "%s.removing", dir);
	CHECK(stat(gone, &st) != 0);
}

// The keeper wrote the followers table to the catalog when it closed.
static void
test_close_persists_followers(void)
{
	rill_cat_follower *rows;
	size_t             n;

	CHECK(nd.keeper != NULL);
	rill_keeper_close(nd.keeper);
	nd.keeper = NULL;
	CHECK_EQ_INT(rill_catalog_followers(nd.catalog, &rows, &n), RILL_OK);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(rows[0].node_id, "f1");
	CHECK_EQ_INT(rows[0].applied_seq, 280);
	CHECK_EQ_STR(rows[1].node_id, "gone");
	rill_free(rows);
}

RILL_TEST_GLOBALS

int
main(void)
{
	RILL_TEST_RUN(test_setup);
	if (rill_test_n_fail_ == 0) {
		RILL_TEST_RUN(test_window_keeps_followers_log);
		RILL_TEST_RUN(test_cap_bounds_followers_log);
		RILL_TEST_RUN(test_window_expiry_releases_log);
		RILL_TEST_RUN(test_old_generation_removed_whole);
		RILL_TEST_RUN(test_close_persists_followers);
	}
	teardown();
	return RILL_TEST_SUMMARY();
}
