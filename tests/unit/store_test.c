// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// store_test: the applied position travels with each batch, survives a
// reopen, and no user key can reach or see rill's own keys; the clients'
// de-duplication marks round-trip, one row per client per batch, and rows
// of the older format still read.
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <leveldb/c.h>
#include <rill/status.h>

#include "store.h"
#include "test.h"

static char dir[64];

static void
make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/rill-store-test-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		abort();
	}
}

static void
remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot remove %s\n", dir);
	}
}

// put_one commits one put at the given position.
static int
put_one(rill_store *s, const void *k, size_t kn, const void *v, size_t vn,
    uint64_t gen, uint64_t seq)
{
	Rill__V1__Op      op     = RILL__V1__OP__INIT;
	Rill__V1__Op     *ops[1] = { &op };
	Rill__V1__Batch   b      = RILL__V1__BATCH__INIT;
	rill_store_batch *sb;
	int               rv;

	op.key.data   = (uint8_t *) k;
	op.key.len    = kn;
	op.value.data = (uint8_t *) v;
	op.value.len  = vn;
	b.ops         = ops;
	b.n_ops       = 1;
	if ((rv = rill_store_batch_new(&sb)) != RILL_OK) {
		return rv;
	}
	if ((rv = rill_store_batch_add(sb, &b)) == RILL_OK) {
		rv = rill_store_commit(s, sb, gen, seq);
	}
	rill_store_batch_free(sb);
	return rv;
}

static void
test_applied_position_survives_reopen(void)
{
	rill_store *s;
	uint64_t    gen, seq;

	make_dir();
	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	rill_store_applied(s, &gen, &seq);
	CHECK_EQ_INT(gen, 0);
	CHECK_EQ_INT(seq, 0);
	CHECK_EQ_INT(put_one(s, "a", 1, "1", 1, 0xabc, 7), RILL_OK);
	CHECK_EQ_INT(rill_store_applied_seq(s), 7);
	rill_store_close(s);

	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	rill_store_applied(s, &gen, &seq);
	CHECK_EQ_INT(gen, 0xabc);
	CHECK_EQ_INT(seq, 7);
	rill_store_close(s);
	remove_dir();
}

static void
test_second_open_is_locked(void)
{
	rill_store *s, *s2;

	make_dir();
	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	CHECK_EQ_INT(rill_store_open(&s2, dir, NULL), RILL_ELOCKED);
	rill_store_close(s);
	remove_dir();
}

// Keys that look like rill's own, or sit at the edges of the namespaces.
static const struct {
	const char *k;
	size_t      n;
} tricky[] = {
	{ "\0applied", 8 },
	{ "\0client/\1\0\0\0\0\0\0\0", 16 },
	{ "\0", 1 },
	{ "\1", 1 },
	{ "\1\0applied", 9 },
	{ "\xff", 1 },
	{ "\xff\xff\xff\xff", 4 },
	{ "applied", 7 },
};
#define N_TRICKY (sizeof(tricky) / sizeof(tricky[0]))

static int
count_client(void *arg, uint64_t client_id, const rill_client_mark *mark,
    uint64_t wall_ms)
{
	uint64_t *found = arg;
	if (client_id == 1 && mark->max_request_id == 99 && wall_ms == 1000) {
		(*found)++;
	}
	return RILL_OK;
}

static void
test_user_keys_cannot_reach_internal_keys(void)
{
	rill_store      *s;
	rill_store_iter *it;
	uint64_t         gen, seq;
	size_t           n = 0;

	make_dir();
	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	// Nothing of rill's is visible before any user key exists, even
	// though the applied position and a client record are stored.
	CHECK_EQ_INT(put_one(s, "x", 1, "y", 1, 5, 1), RILL_OK);
	rill_store_batch *sb;
	CHECK_EQ_INT(rill_store_batch_new(&sb), RILL_OK);
	rill_store_batch_client(sb, 1, &(rill_client_mark) { 99, 0, 1 }, 1000);
	CHECK_EQ_INT(rill_store_commit(s, sb, 5, 2), RILL_OK);
	rill_store_batch_free(sb);
	for (size_t i = 0; i < N_TRICKY; i++) {
		char  *v;
		size_t vn;
		CHECK_EQ_INT(
		    rill_store_get(s, tricky[i].k, tricky[i].n, &v, &vn),
		    RILL_NOT_FOUND);
	}
	// Every tricky key is a plain user key: it reads back as written
	// and leaves the applied position alone.
	for (size_t i = 0; i < N_TRICKY; i++) {
		CHECK_EQ_INT(put_one(s, tricky[i].k, tricky[i].n, "garbage!",
		                 8, 5, 10 + i),
		    RILL_OK);
	}
	rill_store_close(s);
	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	rill_store_applied(s, &gen, &seq);
	CHECK_EQ_INT(gen, 5);
	CHECK_EQ_INT(seq, 10 + N_TRICKY - 1);
	for (size_t i = 0; i < N_TRICKY; i++) {
		char  *v;
		size_t vn;
		CHECK_EQ_INT(
		    rill_store_get(s, tricky[i].k, tricky[i].n, &v, &vn),
		    RILL_OK);
		CHECK(vn == 8 && memcmp(v, "garbage!", 8) == 0);
		rill_store_value_free(v);
	}
	// A walk over the user namespace, both ways, sees exactly the user
	// keys, in order.
	CHECK_EQ_INT(rill_store_iter_new(s, &it, &seq), RILL_OK);
	char   prev[64];
	size_t prev_n = 0;
	for (rill_store_iter_seek_first(it); rill_store_iter_valid(it);
	     rill_store_iter_next(it)) {
		size_t      kn;
		const char *k = rill_store_iter_key(it, &kn);
		if (n > 0) {
			size_t m = kn < prev_n ? kn : prev_n;
			int    c = memcmp(prev, k, m);
			CHECK(c < 0 || (c == 0 && prev_n < kn));
		}
		CHECK(kn <= sizeof(prev));
		memcpy(prev, k, kn); // k is valid only until the next move
		prev_n = kn;
		n++;
	}
	CHECK_EQ_INT(n, N_TRICKY + 1);
	n = 0;
	for (rill_store_iter_seek_last(it); rill_store_iter_valid(it);
	     rill_store_iter_prev(it)) {
		n++;
	}
	CHECK_EQ_INT(n, N_TRICKY + 1);
	rill_store_iter_free(it);

	// The client record survived the user keys that imitate it.
	uint64_t found = 0;
	CHECK_EQ_INT(rill_store_clients(s, count_client, &found), RILL_OK);
	CHECK_EQ_INT(found, 1);
	rill_store_close(s);
	remove_dir();
}

// client_rows collects what rill_store_clients reports.
typedef struct client_rows {
	size_t           n;
	uint64_t         id[400], wall[400];
	rill_client_mark mark[400];
} client_rows;

static int
collect_client(void *arg, uint64_t client_id, const rill_client_mark *mark,
    uint64_t wall_ms)
{
	client_rows *rows = arg;
	if (rows->n < 400) {
		rows->id[rows->n]   = client_id;
		rows->mark[rows->n] = *mark;
		rows->wall[rows->n] = wall_ms;
	}
	rows->n++;
	return RILL_OK;
}

// mark_of returns a mark with the three fields.
static rill_client_mark
mark_of(uint64_t max_request_id, uint64_t floor, uint64_t oldest_seq)
{
	return (rill_client_mark) { .max_request_id = max_request_id,
		.floor                              = floor,
		.oldest_seq                         = oldest_seq };
}

// test_client_rows_one_per_client: a batch with many writes of a few
// clients stores one row per client, with its largest request id and
// time; a forget in the batch deletes the row unless a later write of the
// client follows it; client 0 has none; the table grows past its first
// size.
static void
test_client_rows_one_per_client(void)
{
	rill_store        *s;
	rill_store_batch  *sb;
	static client_rows rows;

	make_dir();
	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	CHECK_EQ_INT(rill_store_batch_new(&sb), RILL_OK);
	for (uint64_t i = 1; i <= 300; i++) {
		rill_client_mark m = mark_of(i, i / 2, 1000 + i);
		CHECK_EQ_INT(
		    rill_store_batch_client(sb, 100 + i % 3, &m, 5000 + i),
		    RILL_OK);
	}
	rill_client_mark m = mark_of(7, 0, 1);
	CHECK_EQ_INT(rill_store_batch_client(sb, 0, &m, 1), RILL_OK);
	m = mark_of(5, 0, 1);
	CHECK_EQ_INT(rill_store_batch_client(sb, 9, &m, 1), RILL_OK);
	CHECK_EQ_INT(rill_store_batch_forget_client(sb, 9), RILL_OK);
	CHECK_EQ_INT(rill_store_batch_forget_client(sb, 8), RILL_OK);
	m = mark_of(3, 1, 4);
	CHECK_EQ_INT(rill_store_batch_client(sb, 8, &m, 2), RILL_OK);
	CHECK_EQ_INT(rill_store_commit(s, sb, 5, 1), RILL_OK);
	CHECK_EQ_INT(rill_store_clients(s, collect_client, &rows), RILL_OK);
	CHECK_EQ_INT(rows.n, 4); // 100, 101, 102 and 8
	for (size_t i = 0; i < rows.n; i++) {
		uint64_t id = rows.id[i];
		if (id == 8) {
			CHECK(rows.mark[i].max_request_id == 3 &&
			    rows.wall[i] == 2);
		} else {
			CHECK(id >= 100 && id <= 102);
			// The last of i = 1..300 with i % 3 == id - 100.
			uint64_t last = 300 - (300 - (id - 100)) % 3;
			CHECK_EQ_INT(rows.mark[i].max_request_id, last);
			CHECK_EQ_INT(rows.mark[i].floor, last / 2);
			CHECK_EQ_INT(rows.mark[i].oldest_seq, 1000 + last);
			CHECK_EQ_INT(rows.wall[i], 5000 + last);
		}
	}
	// Many clients in one batch; then forgetting each of them.
	m = mark_of(1, 0, 1);
	for (uint64_t c = 1000; c < 1300; c++) {
		CHECK_EQ_INT(rill_store_batch_client(sb, c, &m, 1), RILL_OK);
	}
	CHECK_EQ_INT(rill_store_commit(s, sb, 5, 2), RILL_OK);
	rows.n = 0;
	CHECK_EQ_INT(rill_store_clients(s, collect_client, &rows), RILL_OK);
	CHECK_EQ_INT(rows.n, 304);
	for (uint64_t c = 1000; c < 1300; c++) {
		CHECK_EQ_INT(rill_store_batch_forget_client(sb, c), RILL_OK);
	}
	CHECK_EQ_INT(rill_store_commit(s, sb, 5, 3), RILL_OK);
	rows.n = 0;
	CHECK_EQ_INT(rill_store_clients(s, collect_client, &rows), RILL_OK);
	CHECK_EQ_INT(rows.n, 4);
	rill_store_batch_free(sb);
	rill_store_close(s);
	remove_dir();
}

// test_client_row_fields_round_trip: the four fields of a row come back
// as written, across a reopen, and within one batch each field is the
// largest given for the client, whichever write gave it.
static void
test_client_row_fields_round_trip(void)
{
	rill_store        *s;
	rill_store_batch  *sb;
	static client_rows rows;
	rill_client_mark   m;

	make_dir();
	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	CHECK_EQ_INT(rill_store_batch_new(&sb), RILL_OK);
	m = mark_of(0x0102030405060708ull, 0x1112131415161718ull,
	    0x2122232425262728ull);
	CHECK_EQ_INT(rill_store_batch_client(sb, 5, &m, 0x3132333435363738ull),
	    RILL_OK);
	// Client 6: each field's largest comes from a different write.
	m = mark_of(90, 1, 1);
	CHECK_EQ_INT(rill_store_batch_client(sb, 6, &m, 1), RILL_OK);
	m = mark_of(1, 80, 1);
	CHECK_EQ_INT(rill_store_batch_client(sb, 6, &m, 1), RILL_OK);
	m = mark_of(1, 1, 70);
	CHECK_EQ_INT(rill_store_batch_client(sb, 6, &m, 1), RILL_OK);
	m = mark_of(1, 1, 1);
	CHECK_EQ_INT(rill_store_batch_client(sb, 6, &m, 60), RILL_OK);
	CHECK_EQ_INT(rill_store_commit(s, sb, 5, 1), RILL_OK);
	rill_store_batch_free(sb);
	rill_store_close(s);

	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	CHECK_EQ_INT(rill_store_clients(s, collect_client, &rows), RILL_OK);
	CHECK_EQ_INT(rows.n, 2);
	for (size_t i = 0; i < rows.n; i++) {
		if (rows.id[i] == 5) {
			CHECK(rows.mark[i].max_request_id ==
			    0x0102030405060708ull);
			CHECK(rows.mark[i].floor == 0x1112131415161718ull);
			CHECK(
			    rows.mark[i].oldest_seq == 0x2122232425262728ull);
			CHECK(rows.wall[i] == 0x3132333435363738ull);
		} else {
			CHECK_EQ_INT(rows.id[i], 6);
			CHECK_EQ_INT(rows.mark[i].max_request_id, 90);
			CHECK_EQ_INT(rows.mark[i].floor, 80);
			CHECK_EQ_INT(rows.mark[i].oldest_seq, 70);
			CHECK_EQ_INT(rows.wall[i], 60);
		}
	}
	rill_store_close(s);
	remove_dir();
}

// put_raw writes one raw LevelDB pair into the closed store at dir, as an
// older rill (or damage) would have left it.
static bool
put_raw(const char *k, size_t kn, const char *v, size_t vn)
{
	leveldb_options_t      *o   = leveldb_options_create();
	leveldb_writeoptions_t *wo  = leveldb_writeoptions_create();
	char                   *err = NULL;
	leveldb_t              *db  = leveldb_open(o, dir, &err);

	if (db != NULL && err == NULL) {
		leveldb_put(db, wo, k, kn, v, vn, &err);
		leveldb_close(db);
	}
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(o);
	if (err != NULL) {
		fprintf(stderr, "raw put in %s: %s\n", dir, err);
		leveldb_free(err);
		return false;
	}
	return true;
}

// test_client_row_older_format: a 16-byte row (highest id and time only)
// reads as a mark no refill covers, floor at its highest id; a row of
// another size is corruption.
static void
test_client_row_older_format(void)
{
	rill_store        *s;
	static client_rows rows;
	char               key[] = "\0client/\x2a\0\0\0\0\0\0\0"; // client 42
	char               val[16];
	char               bad[24];

	memset(val, 0, sizeof(val));
	val[0] = 77; // max request id
	val[8] = 9;  // wall ms
	memset(bad, 1, sizeof(bad));
	make_dir();
	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	rill_store_close(s);
	CHECK(put_raw(key, sizeof(key) - 1, val, sizeof(val)));
	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	CHECK_EQ_INT(rill_store_clients(s, collect_client, &rows), RILL_OK);
	CHECK_EQ_INT(rows.n, 1);
	CHECK_EQ_INT(rows.id[0], 42);
	CHECK_EQ_INT(rows.mark[0].max_request_id, 77);
	CHECK_EQ_INT(rows.mark[0].floor, 77);
	CHECK_EQ_INT(rows.mark[0].oldest_seq, RILL_CLIENT_MARK_UNCOVERED);
	CHECK_EQ_INT(rows.wall[0], 9);
	rill_store_close(s);

	CHECK(put_raw(key, sizeof(key) - 1, bad, sizeof(bad)));
	CHECK_EQ_INT(rill_store_open(&s, dir, NULL), RILL_OK);
	rows.n = 0;
	CHECK_EQ_INT(
	    rill_store_clients(s, collect_client, &rows), RILL_ECORRUPT);
	CHECK_EQ_INT(rows.n, 0);
	rill_store_close(s);
	remove_dir();
}

RILL_TEST_MAIN_BEGIN
RILL_TEST_RUN(test_applied_position_survives_reopen);
RILL_TEST_RUN(test_second_open_is_locked);
RILL_TEST_RUN(test_user_keys_cannot_reach_internal_keys);
RILL_TEST_RUN(test_client_rows_one_per_client);
RILL_TEST_RUN(test_client_row_fields_round_trip);
RILL_TEST_RUN(test_client_row_older_format);
RILL_TEST_MAIN_END
