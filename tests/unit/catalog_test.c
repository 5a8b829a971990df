// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// catalog_test: creating and reopening a catalog, the rows of each kind,
// the cascade from a generation, the order of listings, uint64_t values
// above INT64_MAX, events (truncation and pruning), transactions, the
// replacement of damaged and foreign files, the followers table and the
// upgrade of a version 1 catalog, and use from several threads. Files are
// patched byte by byte (a SQLite header keeps user_version at offset 60
// and application_id at 68, big-endian); only the version 1 catalog is
// written with SQLite itself, as the rilld of that version did.
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <rill/status.h>

#include "catalog.h"
#include "mem.h"
#include "test.h"

#define BIG 0x8000000000000000ULL // above INT64_MAX

static char tmp_root[PATH_MAX];
static int  n_paths;

static void
make_tmp_root(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp_root, sizeof(tmp_root), "%s/rill-catalog-test-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmp_root) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

// new_path names a catalog file, not yet existing, in a new directory.
static const char *
new_path(char *buf, size_t n)
{
	snprintf(buf, n, "%s/c%d", tmp_root, ++n_paths);
	if (mkdir(buf, 0755) != 0) {
		perror(buf);
		exit(1);
	}
	snprintf(buf, n, "%s/c%d/catalog.db", tmp_root, n_paths);
	return buf;
}

static void
write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

// read_bytes reads up to n bytes of the file; -1 if it is missing.
static long
read_bytes(const char *path, void *buf, size_t n)
{
	FILE  *f = fopen(path, "rb");
	size_t got;

	if (f == NULL) {
		return -1;
	}
	got = fread(buf, 1, n, f);
	fclose(f);
	return (long) got;
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long) st.st_size : -1;
}

static void
suffixed(char *buf, size_t n, const char *path, const char *suffix)
{
	snprintf(buf, n, "%s%s", path, suffix);
}

// patch_be32 overwrites 4 bytes at off with v, big-endian.
static void
patch_be32(const char *path, long off, uint32_t v)
{
	unsigned char b[4] = { (unsigned char) (v >> 24),
		(unsigned char) (v >> 16), (unsigned char) (v >> 8),
		(unsigned char) v };
	FILE         *f    = fopen(path, "r+b");

	if (f == NULL || fseek(f, off, SEEK_SET) != 0 ||
	    fwrite(b, 1, 4, f) != 4 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static uint32_t
read_be32(const char *path, long off)
{
	unsigned char b[128];

	if (read_bytes(path, b, sizeof(b)) < off + 4) {
		return 0;
	}
	return (uint32_t) b[off] << 24 | (uint32_t) b[off + 1] << 16 |
	    (uint32_t) b[off + 2] << 8 | (uint32_t) b[off + 3];
}

static rill_cat_generation
gen(uint64_t id, uint64_t parent, uint64_t parent_seq, uint64_t created_us)
{
	return (rill_cat_generation) { .id = id,
		.parent                    = parent,
		.parent_seq                = parent_seq,
		.created_us                = created_us };
}

static rill_cat_snapshot
snap(uint64_t generation, uint64_t seq, uint64_t key_count)
{
	return (rill_cat_snapshot) { .generation = generation,
		.seq                             = seq,
		.key_count                       = key_count,
		.size                            = key_count * 10,
		.raw_bytes                       = key_count * 20,
		.created_us                      = 1000 + seq,
		.state_hash                      = seq * 31 + 7,
		.duration_ms                     = 3 };
}

static rill_cat_segment
seg(uint64_t generation, uint64_t first_seq, uint64_t last_seq)
{
	return (rill_cat_segment) { .generation = generation,
		.first_seq                      = first_seq,
		.last_seq                       = last_seq,
		.first_time_us                  = 100 + first_seq,
		.last_time_us                   = 100 + last_seq,
		.size                           = 4096,
		.checksum                       = 0xdeadbeefu };
}

static bool
gen_eq(const rill_cat_generation *a, const rill_cat_generation *b)
{
	return a->id == b->id && a->parent == b->parent &&
	    a->parent_seq == b->parent_seq && a->created_us == b->created_us;
}

static bool
snap_eq(const rill_cat_snapshot *a, const rill_cat_snapshot *b)
{
	return a->generation == b->generation && a->seq == b->seq &&
	    a->key_count == b->key_count && a->size == b->size &&
	    a->raw_bytes == b->raw_bytes && a->created_us == b->created_us &&
	    a->state_hash == b->state_hash && a->duration_ms == b->duration_ms;
}

static bool
seg_eq(const rill_cat_segment *a, const rill_cat_segment *b)
{
	return a->generation == b->generation &&
	    a->first_seq == b->first_seq && a->last_seq == b->last_seq &&
	    a->first_time_us == b->first_time_us &&
	    a->last_time_us == b->last_time_us && a->size == b->size &&
	    a->checksum == b->checksum;
}

static size_t
count_generations(rill_catalog *c)
{
	rill_cat_generation *g = NULL;
	size_t               n = 0;

	if (rill_catalog_generations(c, &g, &n) != RILL_OK) {
		return SIZE_MAX;
	}
	rill_free(g);
	return n;
}

static size_t
count_snapshots(rill_catalog *c, uint64_t generation)
{
	rill_cat_snapshot *s = NULL;
	size_t             n = 0;

	if (rill_catalog_snapshots(c, generation, &s, &n) != RILL_OK) {
		return SIZE_MAX;
	}
	rill_free(s);
	return n;
}

static size_t
count_segments(rill_catalog *c, uint64_t generation)
{
	rill_cat_segment *s = NULL;
	size_t            n = 0;

	if (rill_catalog_segments(c, generation, &s, &n) != RILL_OK) {
		return SIZE_MAX;
	}
	rill_free(s);
	return n;
}

static size_t
count_events(rill_catalog *c)
{
	rill_cat_event *e = NULL;
	size_t          n = 0;

	if (rill_catalog_events(c, SIZE_MAX, &e, &n) != RILL_OK) {
		return SIZE_MAX;
	}
	rill_free(e);
	return n;
}

static void
test_fresh_create_and_reopen(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c     = NULL;
	bool                fresh = false;
	rill_cat_generation g1    = gen(1, 0, 0, 10), out;
	rill_cat_snapshot   s1    = snap(1, 0, 0), so;

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(fresh);
	CHECK_EQ_INT(count_generations(c), 0);
	CHECK_EQ_INT(rill_catalog_put_generation(c, &g1), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s1), RILL_OK);
	CHECK_EQ_INT(rill_catalog_event(c, "restore", "hello %d", 1), RILL_OK);
	rill_catalog_close(c);
	rill_catalog_close(NULL);

	// The header says what the file is.
	CHECK_EQ_INT(read_be32(path, 68), 0x52494c4c);
	CHECK_EQ_INT(read_be32(path, 60), 2);

	c     = NULL;
	fresh = true;
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	CHECK_EQ_INT(rill_catalog_generation(c, 1, &out), RILL_OK);
	CHECK(gen_eq(&out, &g1));
	CHECK_EQ_INT(rill_catalog_snapshot(c, 1, 0, &so), RILL_OK);
	CHECK(snap_eq(&so, &s1));
	CHECK_EQ_INT(count_events(c), 1);
	rill_catalog_close(c);

	// No .damaged file was made along the way.
	{
		char damaged[PATH_MAX + 16];
		suffixed(damaged, sizeof(damaged), path, ".damaged");
		CHECK_EQ_INT(file_size(damaged), -1);
	}
}

static void
test_empty_file_is_fresh(void)
{
	char          path[PATH_MAX], damaged[PATH_MAX + 16];
	rill_catalog *c     = NULL;
	bool          fresh = false;

	new_path(path, sizeof(path));
	write_bytes(path, "", 0);
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(fresh);
	rill_catalog_close(c);
	suffixed(damaged, sizeof(damaged), path, ".damaged");
	CHECK_EQ_INT(file_size(damaged), -1);
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	rill_catalog_close(c);
}

static void
test_put_replace_delete_generation(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c = NULL;
	bool                fresh;
	rill_cat_generation g = gen(7, 3, 99, 1234), out, *all = NULL;
	size_t              n = 99;

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(rill_catalog_generation(c, 7, &out), RILL_NOT_FOUND);
	CHECK_EQ_INT(rill_catalog_generations(c, &all, &n), RILL_OK);
	CHECK(all == NULL);
	CHECK_EQ_INT(n, 0);

	CHECK_EQ_INT(rill_catalog_put_generation(c, &g), RILL_OK);
	CHECK_EQ_INT(rill_catalog_generation(c, 7, &out), RILL_OK);
	CHECK(gen_eq(&out, &g));
	// Same id: replaced, not added.
	g = gen(7, 4, 100, 5678);
	CHECK_EQ_INT(rill_catalog_put_generation(c, &g), RILL_OK);
	CHECK_EQ_INT(rill_catalog_generation(c, 7, &out), RILL_OK);
	CHECK(gen_eq(&out, &g));
	CHECK_EQ_INT(count_generations(c), 1);

	CHECK_EQ_INT(rill_catalog_del_generation(c, 7), RILL_OK);
	CHECK_EQ_INT(rill_catalog_generation(c, 7, &out), RILL_NOT_FOUND);
	// Absent: still OK.
	CHECK_EQ_INT(rill_catalog_del_generation(c, 7), RILL_OK);
	CHECK_EQ_INT(rill_catalog_del_generation(c, 12345), RILL_OK);
	CHECK_EQ_INT(count_generations(c), 0);
	rill_catalog_close(c);
}

static void
test_put_replace_delete_snapshot(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c = NULL;
	bool                fresh;
	rill_cat_generation g = gen(5, 0, 0, 1);
	rill_cat_snapshot   s = snap(5, 10, 100), out, *all = NULL;
	size_t              n = 0;

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_generation(c, &g), RILL_OK);
	CHECK_EQ_INT(rill_catalog_snapshot(c, 5, 10, &out), RILL_NOT_FOUND);
	CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s), RILL_OK);
	CHECK_EQ_INT(rill_catalog_snapshot(c, 5, 10, &out), RILL_OK);
	CHECK(snap_eq(&out, &s));
	// Same (generation, seq): replaced.
	s.key_count   = 555;
	s.state_hash  = 0x1234;
	s.duration_ms = 0;
	CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s), RILL_OK);
	CHECK_EQ_INT(rill_catalog_snapshots(c, 5, &all, &n), RILL_OK);
	CHECK_EQ_INT(n, 1);
	CHECK(snap_eq(&all[0], &s));
	rill_free(all);
	// Another seq, and the same seq in another generation: added.
	s = snap(5, 11, 1);
	CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s), RILL_OK);
	s = snap(6, 10, 1);
	CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s), RILL_OK);
	CHECK_EQ_INT(count_snapshots(c, 0), 3);
	CHECK_EQ_INT(count_snapshots(c, 5), 2);

	CHECK_EQ_INT(rill_catalog_del_snapshot(c, 5, 10), RILL_OK);
	CHECK_EQ_INT(rill_catalog_snapshot(c, 5, 10, &out), RILL_NOT_FOUND);
	CHECK_EQ_INT(rill_catalog_snapshot(c, 6, 10, &out), RILL_OK);
	CHECK_EQ_INT(rill_catalog_del_snapshot(c, 5, 10), RILL_OK);
	CHECK_EQ_INT(count_snapshots(c, 0), 2);
	rill_catalog_close(c);
}

static void
test_put_replace_delete_segment(void)
{
	char             path[PATH_MAX];
	rill_catalog    *c = NULL;
	bool             fresh;
	rill_cat_segment s = seg(5, 1, 100), *all = NULL;
	size_t           n = 0;

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(rill_catalog_segments(c, 0, &all, &n), RILL_OK);
	CHECK(all == NULL);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(rill_catalog_put_segment(c, &s), RILL_OK);
	// Same (generation, first_seq): replaced (a segment that grew).
	s.last_seq = 200;
	s.size     = 8192;
	s.checksum = 0xffffffffu;
	CHECK_EQ_INT(rill_catalog_put_segment(c, &s), RILL_OK);
	CHECK_EQ_INT(rill_catalog_segments(c, 5, &all, &n), RILL_OK);
	CHECK_EQ_INT(n, 1);
	CHECK(seg_eq(&all[0], &s));
	CHECK(all[0].checksum == 0xffffffffu);
	rill_free(all);
	s = seg(5, 201, 300);
	CHECK_EQ_INT(rill_catalog_put_segment(c, &s), RILL_OK);
	CHECK_EQ_INT(count_segments(c, 5), 2);

	CHECK_EQ_INT(rill_catalog_del_segment(c, 5, 1), RILL_OK);
	CHECK_EQ_INT(rill_catalog_del_segment(c, 5, 1), RILL_OK);
	CHECK_EQ_INT(rill_catalog_segments(c, 0, &all, &n), RILL_OK);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(all[0].first_seq, 201);
	rill_free(all);
	rill_catalog_close(c);
}

static void
test_generation_zero_is_rejected(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c = NULL;
	bool                fresh;
	rill_cat_generation g  = gen(0, 0, 0, 1), out;
	rill_cat_snapshot   s  = snap(0, 1, 1);
	rill_cat_segment    sg = seg(0, 1, 2);

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(
	    rill_catalog_put_generation(c, &g), RILL_INVALID_ARGUMENT);
	CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s), RILL_INVALID_ARGUMENT);
	CHECK_EQ_INT(rill_catalog_put_segment(c, &sg), RILL_INVALID_ARGUMENT);
	CHECK_EQ_INT(rill_catalog_generation(c, 0, &out), RILL_NOT_FOUND);
	CHECK_EQ_INT(count_generations(c), 0);
	CHECK_EQ_INT(count_snapshots(c, 0), 0);
	CHECK_EQ_INT(count_segments(c, 0), 0);
	rill_catalog_close(c);
}

static void
test_delete_generation_cascades(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c = NULL;
	bool                fresh;
	rill_cat_generation a = gen(1, 0, 0, 10), b = gen(2, 1, 50, 20);
	rill_cat_generation orphan_gen = gen(3, 0, 0, 30);

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_generation(c, &a), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_generation(c, &b), RILL_OK);
	for (uint64_t i = 0; i < 5; i++) {
		rill_cat_snapshot s1 = snap(1, i * 10, i);
		rill_cat_snapshot s2 = snap(2, i * 10, i);
		rill_cat_segment  g1 = seg(1, i * 10 + 1, i * 10 + 10);
		rill_cat_segment  g2 = seg(2, i * 10 + 1, i * 10 + 10);
		CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s1), RILL_OK);
		CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s2), RILL_OK);
		CHECK_EQ_INT(rill_catalog_put_segment(c, &g1), RILL_OK);
		CHECK_EQ_INT(rill_catalog_put_segment(c, &g2), RILL_OK);
	}
	// Rows of generation 3, whose own row is not there yet.
	{
		rill_cat_snapshot s = snap(3, 1, 1);
		rill_cat_segment  g = seg(3, 1, 2);
		CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s), RILL_OK);
		CHECK_EQ_INT(rill_catalog_put_segment(c, &g), RILL_OK);
	}
	// Replacing a generation's row keeps its snapshots and segments.
	a.created_us = 11;
	CHECK_EQ_INT(rill_catalog_put_generation(c, &a), RILL_OK);
	CHECK_EQ_INT(count_snapshots(c, 1), 5);
	CHECK_EQ_INT(count_segments(c, 1), 5);

	CHECK_EQ_INT(rill_catalog_del_generation(c, 1), RILL_OK);
	CHECK_EQ_INT(count_generations(c), 1);
	CHECK_EQ_INT(count_snapshots(c, 1), 0);
	CHECK_EQ_INT(count_segments(c, 1), 0);
	CHECK_EQ_INT(count_snapshots(c, 2), 5);
	CHECK_EQ_INT(count_segments(c, 2), 5);
	// Without its own row, a generation's rows still go with it.
	CHECK_EQ_INT(rill_catalog_del_generation(c, 3), RILL_OK);
	CHECK_EQ_INT(count_snapshots(c, 3), 0);
	CHECK_EQ_INT(count_segments(c, 3), 0);
	CHECK_EQ_INT(count_snapshots(c, 0), 5);

	// Clear removes every row but the events.
	CHECK_EQ_INT(rill_catalog_put_generation(c, &orphan_gen), RILL_OK);
	CHECK_EQ_INT(
	    rill_catalog_event(c, "rebuild", "before clear"), RILL_OK);
	CHECK_EQ_INT(rill_catalog_clear(c), RILL_OK);
	CHECK_EQ_INT(count_generations(c), 0);
	CHECK_EQ_INT(count_snapshots(c, 0), 0);
	CHECK_EQ_INT(count_segments(c, 0), 0);
	CHECK_EQ_INT(count_events(c), 1);
	rill_catalog_close(c);
}

static void
test_listing_order_and_filters(void)
{
	char                 path[PATH_MAX];
	rill_catalog        *c = NULL;
	bool                 fresh;
	rill_cat_generation *gl = NULL;
	rill_cat_snapshot   *sl = NULL;
	rill_cat_segment    *ml = NULL;
	size_t               n  = 0;
	// Inserted out of order. g_big and g_small share created_us: the id
	// decides, as unsigned (BIG + 1 is above 9).
	const uint64_t      g_old = 0x30, g_small = 9, g_big = BIG + 1;
	const uint64_t      g_new = 0x10, g_orphan = 0x20;
	rill_cat_generation gens[] = {
		gen(g_new, g_small, 5, 300),
		gen(g_big, g_old, 5, 200),
		gen(g_old, 0, 0, 100),
		gen(g_small, g_old, 5, 200),
	};
	static const uint64_t want_gens[] = { 0x30, 9, BIG + 1, 0x10 };
	static const uint64_t seqs[]      = { 5, BIG, 1, UINT64_MAX, 0 };
	static const uint64_t want_seqs[] = { 0, 1, 5, BIG, UINT64_MAX };

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		CHECK_EQ_INT(
		    rill_catalog_put_generation(c, &gens[i]), RILL_OK);
	}
	// Snapshots and segments go in by seq order reversed per generation,
	// the generations in insertion order, plus an orphan generation.
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		for (size_t j = 0; j < sizeof(seqs) / sizeof(seqs[0]); j++) {
			rill_cat_snapshot s = snap(gens[i].id, seqs[j], j);
			rill_cat_segment m = seg(gens[i].id, seqs[j], seqs[j]);
			CHECK_EQ_INT(
			    rill_catalog_put_snapshot(c, &s), RILL_OK);
			CHECK_EQ_INT(rill_catalog_put_segment(c, &m), RILL_OK);
		}
	}
	{
		rill_cat_snapshot s = snap(g_orphan, 1, 1);
		rill_cat_segment  m = seg(g_orphan, 1, 1);
		CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s), RILL_OK);
		CHECK_EQ_INT(rill_catalog_put_segment(c, &m), RILL_OK);
	}

	CHECK_EQ_INT(rill_catalog_generations(c, &gl, &n), RILL_OK);
	CHECK_EQ_INT(n, 4);
	for (size_t i = 0; i < n; i++) {
		CHECK(gl[i].id == want_gens[i]);
	}
	rill_free(gl);

	// Every generation: by generation order, then seq; orphans last.
	CHECK_EQ_INT(rill_catalog_snapshots(c, 0, &sl, &n), RILL_OK);
	CHECK_EQ_INT(n, 4 * 5 + 1);
	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < 5; j++) {
			CHECK(sl[i * 5 + j].generation == want_gens[i]);
			CHECK(sl[i * 5 + j].seq == want_seqs[j]);
		}
	}
	CHECK(sl[20].generation == g_orphan);
	rill_free(sl);

	CHECK_EQ_INT(rill_catalog_segments(c, 0, &ml, &n), RILL_OK);
	CHECK_EQ_INT(n, 4 * 5 + 1);
	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < 5; j++) {
			CHECK(ml[i * 5 + j].generation == want_gens[i]);
			CHECK(ml[i * 5 + j].first_seq == want_seqs[j]);
		}
	}
	CHECK(ml[20].generation == g_orphan);
	rill_free(ml);

	// One generation only.
	CHECK_EQ_INT(rill_catalog_snapshots(c, g_big, &sl, &n), RILL_OK);
	CHECK_EQ_INT(n, 5);
	for (size_t j = 0; j < 5; j++) {
		CHECK(sl[j].generation == g_big);
		CHECK(sl[j].seq == want_seqs[j]);
	}
	rill_free(sl);
	CHECK_EQ_INT(rill_catalog_segments(c, g_old, &ml, &n), RILL_OK);
	CHECK_EQ_INT(n, 5);
	for (size_t j = 0; j < 5; j++) {
		CHECK(ml[j].generation == g_old);
		CHECK(ml[j].first_seq == want_seqs[j]);
	}
	rill_free(ml);
	CHECK_EQ_INT(count_snapshots(c, g_orphan), 1);

	// A generation with no rows: NULL, 0.
	sl = (rill_cat_snapshot *) 1;
	CHECK_EQ_INT(rill_catalog_snapshots(c, 0x999, &sl, &n), RILL_OK);
	CHECK(sl == NULL);
	CHECK_EQ_INT(n, 0);
	ml = (rill_cat_segment *) 1;
	CHECK_EQ_INT(rill_catalog_segments(c, 0x999, &ml, &n), RILL_OK);
	CHECK(ml == NULL);
	CHECK_EQ_INT(n, 0);
	rill_catalog_close(c);
}

static void
test_u64_above_int64_max_round_trip(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c = NULL;
	bool                fresh;
	rill_cat_generation g = gen(UINT64_MAX, BIG, UINT64_MAX - 1, BIG + 5);
	rill_cat_generation go;
	rill_cat_snapshot   s = {
		  .generation  = UINT64_MAX,
		  .seq         = BIG,
		  .key_count   = UINT64_MAX,
		  .size        = BIG + 1,
		  .raw_bytes   = UINT64_MAX - 2,
		  .created_us  = BIG + 3,
		  .state_hash  = 0xfedcba9876543210ULL,
		  .duration_ms = UINT64_MAX,
	};
	rill_cat_snapshot so;
	rill_cat_segment  m = {
		 .generation    = UINT64_MAX,
		 .first_seq     = BIG,
		 .last_seq      = UINT64_MAX,
		 .first_time_us = BIG + 7,
		 .last_time_us  = UINT64_MAX - 7,
		 .size          = BIG + 9,
		 .checksum      = 0x80000001u,
	};
	rill_cat_segment *ml = NULL;
	size_t            n  = 0;

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_generation(c, &g), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_segment(c, &m), RILL_OK);
	rill_catalog_close(c);

	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	CHECK_EQ_INT(rill_catalog_generation(c, UINT64_MAX, &go), RILL_OK);
	CHECK(gen_eq(&go, &g));
	CHECK_EQ_INT(rill_catalog_snapshot(c, UINT64_MAX, BIG, &so), RILL_OK);
	CHECK(snap_eq(&so, &s));
	CHECK_EQ_INT(rill_catalog_snapshot(c, UINT64_MAX, BIG - 1, &so),
	    RILL_NOT_FOUND);
	CHECK_EQ_INT(rill_catalog_segments(c, UINT64_MAX, &ml, &n), RILL_OK);
	CHECK_EQ_INT(n, 1);
	CHECK(seg_eq(&ml[0], &m));
	rill_free(ml);
	CHECK_EQ_INT(rill_catalog_del_snapshot(c, UINT64_MAX, BIG), RILL_OK);
	CHECK_EQ_INT(rill_catalog_del_segment(c, UINT64_MAX, BIG), RILL_OK);
	CHECK_EQ_INT(count_snapshots(c, 0), 0);
	CHECK_EQ_INT(count_segments(c, 0), 0);
	CHECK_EQ_INT(rill_catalog_del_generation(c, UINT64_MAX), RILL_OK);
	CHECK_EQ_INT(count_generations(c), 0);
	rill_catalog_close(c);
}

static void
test_events_newest_first_and_truncated(void)
{
	char            path[PATH_MAX];
	char            text[1200];
	rill_catalog   *c = NULL;
	bool            fresh;
	rill_cat_event *ev = NULL;
	size_t          n  = 0;
	struct timespec ts;
	uint64_t        now_us;

	clock_gettime(CLOCK_REALTIME, &ts);
	now_us = (uint64_t) ts.tv_sec * 1000000u;
	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(rill_catalog_event(
	                 c, "snapshot", "took seq %" PRIu64, (uint64_t) 42),
	    RILL_OK);
	CHECK_EQ_INT(rill_catalog_event(
	                 c, "retention", "removed %d of %s", 3, "snapshots"),
	    RILL_OK);
	CHECK_EQ_INT(
	    rill_catalog_event(c, "error", "two\nlines\tand a tab"), RILL_OK);

	CHECK_EQ_INT(rill_catalog_events(c, 10, &ev, &n), RILL_OK);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_STR(ev[0].kind, "error");
	CHECK_EQ_STR(ev[0].detail, "two lines and a tab");
	CHECK_EQ_STR(ev[1].kind, "retention");
	CHECK_EQ_STR(ev[1].detail, "removed 3 of snapshots");
	CHECK_EQ_STR(ev[2].kind, "snapshot");
	CHECK_EQ_STR(ev[2].detail, "took seq 42");
	CHECK(ev[0].id > ev[1].id && ev[1].id > ev[2].id);
	CHECK(ev[2].time_us >= now_us && ev[0].time_us >= ev[2].time_us);
	rill_free(ev);

	CHECK_EQ_INT(rill_catalog_events(c, 2, &ev, &n), RILL_OK);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(ev[0].kind, "error");
	CHECK_EQ_STR(ev[1].kind, "retention");
	rill_free(ev);
	ev = (rill_cat_event *) 1;
	CHECK_EQ_INT(rill_catalog_events(c, 0, &ev, &n), RILL_OK);
	CHECK(ev == NULL);
	CHECK_EQ_INT(n, 0);

	// A long detail and kind are cut to fit their fields.
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	CHECK_EQ_INT(
	    rill_catalog_event(
	        c, "a-kind-much-longer-than-thirty-one-bytes", "%s", text),
	    RILL_OK);
	// A two-byte character that would straddle the cut is dropped
	// whole; one that ends right at it is kept.
	memset(text, 'a', 478);
	memcpy(text + 478, "\xc3\xa9zzz", 6);
	CHECK_EQ_INT(rill_catalog_event(c, "utf8", "%s", text), RILL_OK);
	memset(text, 'a', 477);
	memcpy(text + 477, "\xc3\xa9zzz", 6);
	CHECK_EQ_INT(rill_catalog_event(c, "utf8", "%s", text), RILL_OK);

	CHECK_EQ_INT(rill_catalog_events(c, 3, &ev, &n), RILL_OK);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(strlen(ev[0].detail), 479);
	CHECK(memcmp(ev[0].detail + 477, "\xc3\xa9", 2) == 0);
	CHECK_EQ_INT(strlen(ev[1].detail), 478);
	CHECK(ev[1].detail[477] == 'a');
	CHECK_EQ_INT(strlen(ev[2].kind), sizeof(ev[2].kind) - 1);
	CHECK(strncmp(ev[2].kind, "a-kind-much-longer-than-thirty-", 31) == 0);
	CHECK_EQ_INT(strlen(ev[2].detail), sizeof(ev[2].detail) - 1);
	CHECK(ev[2].detail[0] == 'x' && ev[2].detail[478] == 'x');
	rill_free(ev);
	rill_catalog_close(c);
}

static void
test_events_pruned_past_10000(void)
{
	char            path[PATH_MAX];
	rill_catalog   *c = NULL;
	bool            fresh;
	rill_cat_event *ev = NULL;
	size_t          n  = 0;
	int64_t         newest;

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(rill_catalog_begin(c), RILL_OK);
	for (int i = 0; i < 10005; i++) {
		CHECK_EQ_INT(
		    rill_catalog_event(c, "test", "n %d", i), RILL_OK);
	}
	CHECK_EQ_INT(rill_catalog_commit(c), RILL_OK);

	CHECK_EQ_INT(rill_catalog_events(c, SIZE_MAX, &ev, &n), RILL_OK);
	CHECK_EQ_INT(n, 10000);
	CHECK_EQ_STR(ev[0].detail, "n 10004");
	CHECK_EQ_STR(ev[9999].detail, "n 5");
	newest = ev[0].id;
	rill_free(ev);

	// After a reopen, ids keep growing and the oldest goes.
	rill_catalog_close(c);
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	CHECK_EQ_INT(rill_catalog_event(c, "test", "n %d", 10005), RILL_OK);
	CHECK_EQ_INT(rill_catalog_events(c, SIZE_MAX, &ev, &n), RILL_OK);
	CHECK_EQ_INT(n, 10000);
	CHECK(ev[0].id > newest);
	CHECK_EQ_STR(ev[0].detail, "n 10005");
	CHECK_EQ_STR(ev[9999].detail, "n 6");
	rill_free(ev);
	rill_catalog_close(c);
}

static void
test_begin_commit_and_rollback(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c = NULL;
	bool                fresh;
	rill_cat_generation g, out;

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);

	// Misuse is refused, and harmless.
	CHECK_EQ_INT(rill_catalog_commit(c), RILL_FAILED_PRECONDITION);
	rill_catalog_rollback(c);

	CHECK_EQ_INT(rill_catalog_begin(c), RILL_OK);
	CHECK_EQ_INT(rill_catalog_begin(c), RILL_FAILED_PRECONDITION);
	for (uint64_t i = 1; i <= 100; i++) {
		rill_cat_snapshot s = snap(1, i, i);
		g                   = gen(i, 0, 0, i);
		CHECK_EQ_INT(rill_catalog_put_generation(c, &g), RILL_OK);
		CHECK_EQ_INT(rill_catalog_put_snapshot(c, &s), RILL_OK);
	}
	// The transaction sees its own rows.
	CHECK_EQ_INT(count_generations(c), 100);
	CHECK_EQ_INT(rill_catalog_commit(c), RILL_OK);
	CHECK_EQ_INT(rill_catalog_commit(c), RILL_FAILED_PRECONDITION);

	CHECK_EQ_INT(rill_catalog_begin(c), RILL_OK);
	CHECK_EQ_INT(rill_catalog_clear(c), RILL_OK);
	g = gen(1000, 0, 0, 1);
	CHECK_EQ_INT(rill_catalog_put_generation(c, &g), RILL_OK);
	CHECK_EQ_INT(rill_catalog_del_generation(c, 1), RILL_OK);
	CHECK_EQ_INT(rill_catalog_event(c, "rebuild", "undone"), RILL_OK);
	CHECK_EQ_INT(count_generations(c), 1);
	rill_catalog_rollback(c);
	CHECK_EQ_INT(count_generations(c), 100);
	CHECK_EQ_INT(count_snapshots(c, 1), 100);
	CHECK_EQ_INT(count_events(c), 0);
	CHECK_EQ_INT(rill_catalog_generation(c, 1000, &out), RILL_NOT_FOUND);

	// Closing inside a transaction rolls it back.
	CHECK_EQ_INT(rill_catalog_begin(c), RILL_OK);
	CHECK_EQ_INT(rill_catalog_clear(c), RILL_OK);
	rill_catalog_close(c);
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	CHECK_EQ_INT(count_generations(c), 100);
	CHECK_EQ_INT(count_snapshots(c, 0), 100);
	rill_catalog_close(c);
}

typedef struct waiter {
	rill_catalog *c;
	atomic_int    started, done;
	int           rv;
} waiter;

static void *
put_while_other_in_txn(void *arg)
{
	waiter             *w = arg;
	rill_cat_generation g = gen(77, 0, 0, 77);

	atomic_store(&w->started, 1);
	w->rv = rill_catalog_put_generation(w->c, &g);
	atomic_store(&w->done, 1);
	return NULL;
}

static void
test_transaction_holds_off_other_threads(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c = NULL;
	bool                fresh;
	rill_cat_generation g = gen(1, 0, 0, 1), out;
	waiter              w = { 0 };
	pthread_t           th;
	struct timespec     pause = { 0, 100 * 1000 * 1000 };

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	w.c = c;
	CHECK_EQ_INT(rill_catalog_begin(c), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_generation(c, &g), RILL_OK);
	CHECK(pthread_create(&th, NULL, put_while_other_in_txn, &w) == 0);
	while (!atomic_load(&w.started)) {
		nanosleep(&(struct timespec) { 0, 1000 * 1000 }, NULL);
	}
	nanosleep(&pause, NULL);
	// The other thread waits for the transaction to end...
	CHECK(!atomic_load(&w.done));
	CHECK_EQ_INT(rill_catalog_generation(c, 77, &out), RILL_NOT_FOUND);
	rill_catalog_rollback(c);
	// ...and then goes on.
	pthread_join(th, NULL);
	CHECK(atomic_load(&w.done));
	CHECK_EQ_INT(w.rv, RILL_OK);
	CHECK_EQ_INT(rill_catalog_generation(c, 77, &out), RILL_OK);
	CHECK_EQ_INT(rill_catalog_generation(c, 1, &out), RILL_NOT_FOUND);
	rill_catalog_close(c);
}

// make_populated writes a catalog with enough rows to span many pages.
static void
make_populated(const char *path)
{
	rill_catalog *c = NULL;
	bool          fresh;

	if (rill_catalog_open(&c, path, &fresh) != RILL_OK ||
	    rill_catalog_begin(c) != RILL_OK) {
		fprintf(stderr, "cannot create %s\n", path);
		exit(1);
	}
	for (uint64_t i = 1; i <= 300; i++) {
		rill_cat_generation g = gen(i, 0, 0, i);
		rill_cat_snapshot   s = snap(i, i, i);
		rill_cat_segment    m = seg(i, i, i + 1);
		if (rill_catalog_put_generation(c, &g) != RILL_OK ||
		    rill_catalog_put_snapshot(c, &s) != RILL_OK ||
		    rill_catalog_put_segment(c, &m) != RILL_OK ||
		    rill_catalog_event(c, "test",
		        "row %" PRIu64 " with some text to fill "
		        "pages of the events table",
		        i) != RILL_OK) {
			fprintf(stderr, "cannot fill %s\n", path);
			exit(1);
		}
	}
	if (rill_catalog_commit(c) != RILL_OK) {
		fprintf(stderr, "cannot commit %s\n", path);
		exit(1);
	}
	rill_catalog_close(c);
}

// expect_replaced opens a damaged catalog at path: it must come back
// fresh and empty, with the old file kept as .damaged (with want_size
// bytes), and work normally from then on.
static void
expect_replaced(const char *path, long want_size)
{
	char                damaged[PATH_MAX + 16];
	rill_catalog       *c     = NULL;
	bool                fresh = false;
	rill_cat_generation g     = gen(5, 0, 0, 5);

	suffixed(damaged, sizeof(damaged), path, ".damaged");
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(fresh);
	CHECK_EQ_INT(file_size(damaged), want_size);
	CHECK_EQ_INT(count_generations(c), 0);
	CHECK_EQ_INT(count_snapshots(c, 0), 0);
	CHECK_EQ_INT(count_events(c), 0);
	CHECK_EQ_INT(rill_catalog_put_generation(c, &g), RILL_OK);
	rill_catalog_close(c);
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	CHECK_EQ_INT(count_generations(c), 1);
	rill_catalog_close(c);
}

static void
test_random_bytes_are_replaced(void)
{
	char          path[PATH_MAX], side[PATH_MAX + 16];
	char          damaged[PATH_MAX + 16];
	unsigned char junk[8192], back[8192];
	uint64_t      x = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		junk[i] = (unsigned char) x;
	}
	new_path(path, sizeof(path));
	suffixed(damaged, sizeof(damaged), path, ".damaged");
	write_bytes(path, junk, sizeof(junk));
	// Stale WAL and shared-memory files go too, and so does the WAL of
	// an older .damaged.
	suffixed(side, sizeof(side), path, "-wal");
	write_bytes(side, "stale wal", 9);
	suffixed(side, sizeof(side), path, "-shm");
	write_bytes(side, "stale shm", 9);
	suffixed(side, sizeof(side), damaged, "-wal");
	write_bytes(side, "stale wal", 9);
	expect_replaced(path, (long) sizeof(junk));
	if (rill_test_failed_) {
		return;
	}
	CHECK_EQ_INT(read_bytes(damaged, back, sizeof(back)), sizeof(junk));
	CHECK(memcmp(back, junk, sizeof(junk)) == 0);
	CHECK_EQ_INT(file_size(side), -1);
	suffixed(side, sizeof(side), path, "-wal");
	CHECK(read_bytes(side, back, 9) != 9 ||
	    memcmp(back, "stale wal", 9) != 0);

	// A second damage replaces the older .damaged.
	write_bytes(path, junk, 100);
	expect_replaced(path, 100);
}

static void
test_truncated_db_is_replaced(void)
{
	char path[PATH_MAX], wal[PATH_MAX + 16];
	long size;

	new_path(path, sizeof(path));
	make_populated(path);
	suffixed(wal, sizeof(wal), path, "-wal");
	// Closing checkpointed the WAL into the file and removed it.
	CHECK_EQ_INT(file_size(wal), -1);
	size = file_size(path);
	CHECK(size >= 8 * 4096);
	CHECK(truncate(path, size / 2) == 0);
	expect_replaced(path, size / 2);
}

// A page in the middle overwritten: the header is right, and only
// PRAGMA quick_check finds the damage.
static void
test_damaged_page_is_replaced(void)
{
	char          path[PATH_MAX];
	unsigned char junk[4096];
	long          size;
	FILE         *f;

	memset(junk, 0x5a, sizeof(junk));
	new_path(path, sizeof(path));
	make_populated(path);
	size = file_size(path);
	CHECK(size >= 8 * 4096);
	f = fopen(path, "r+b");
	CHECK(f != NULL);
	CHECK(fseek(f, (size / 4096 / 2) * 4096, SEEK_SET) == 0);
	CHECK(fwrite(junk, 1, sizeof(junk), f) == sizeof(junk));
	CHECK(fclose(f) == 0);
	expect_replaced(path, size);
}

static void
test_foreign_headers_are_replaced(void)
{
	// { offset, value }: another application_id, a newer and an older
	// user_version, and no application_id with tables (another
	// program's database).
	static const struct {
		long     off;
		uint32_t v;
	} cases[] = { { 68, 0x12345678 }, { 60, 3 }, { 60, 0 }, { 68, 0 } };
	char path[PATH_MAX], damaged[PATH_MAX + 16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long size;

		new_path(path, sizeof(path));
		suffixed(damaged, sizeof(damaged), path, ".damaged");
		make_populated(path);
		if (cases[i].off == 68 && cases[i].v == 0) {
			patch_be32(path, 60, 0);
		}
		patch_be32(path, cases[i].off, cases[i].v);
		size = file_size(path);
		expect_replaced(path, size);
		if (rill_test_failed_) {
			fprintf(stderr, "case %zu\n", i);
			return;
		}
		// The old file is kept as it was.
		CHECK_EQ_INT(read_be32(damaged, cases[i].off), cases[i].v);
	}
}

static rill_cat_follower
follower(const char *id, uint64_t seq)
{
	rill_cat_follower f = {
		.generation      = 0x1234,
		.applied_seq     = seq,
		.applied_time_us = 1000 + seq,
		.first_seen_us   = 50,
		.last_seen_us    = 60 + seq,
	};

	snprintf(f.node_id, sizeof(f.node_id), "%s", id);
	snprintf(f.address, sizeof(f.address), "tcp://%s:7000", id);
	return f;
}

static bool
follower_eq(const rill_cat_follower *a, const rill_cat_follower *b)
{
	return strcmp(a->node_id, b->node_id) == 0 &&
	    strcmp(a->address, b->address) == 0 &&
	    a->generation == b->generation &&
	    a->applied_seq == b->applied_seq &&
	    a->applied_time_us == b->applied_time_us &&
	    a->first_seen_us == b->first_seen_us &&
	    a->last_seen_us == b->last_seen_us;
}

static size_t
count_followers(rill_catalog *c)
{
	rill_cat_follower *f = NULL;
	size_t             n = 0;

	if (rill_catalog_followers(c, &f, &n) != RILL_OK) {
		return SIZE_MAX;
	}
	rill_free(f);
	return n;
}

static void
test_followers_put_replace_delete(void)
{
	char               path[PATH_MAX];
	rill_catalog      *c = NULL;
	bool               fresh;
	rill_cat_follower *l = NULL;
	size_t             n = 0;
	rill_cat_follower  b = follower("b", 5), a = follower("a", 7);
	rill_cat_follower  z = follower("Z", BIG + 3), empty = follower("", 1);

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(rill_catalog_followers(c, &l, &n), RILL_OK);
	CHECK(l == NULL);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(rill_catalog_put_follower(c, &b), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_follower(c, &a), RILL_OK);
	z.generation   = BIG | 1;
	z.last_seen_us = UINT64_MAX;
	CHECK_EQ_INT(rill_catalog_put_follower(c, &z), RILL_OK);
	CHECK_EQ_INT(
	    rill_catalog_put_follower(c, &empty), RILL_INVALID_ARGUMENT);
	// Replace: the same id, a new position.
	b.applied_seq = 9;
	snprintf(b.address, sizeof(b.address), "tcp://moved:7001");
	CHECK_EQ_INT(rill_catalog_put_follower(c, &b), RILL_OK);

	// Bytewise order ('Z' < 'a'), values above INT64_MAX exact.
	CHECK_EQ_INT(rill_catalog_followers(c, &l, &n), RILL_OK);
	CHECK_EQ_INT(n, 3);
	CHECK(follower_eq(&l[0], &z));
	CHECK(follower_eq(&l[1], &a));
	CHECK(follower_eq(&l[2], &b));
	rill_free(l);

	// They survive a reopen, and a clear (a rebuild) keeps them.
	rill_catalog_close(c);
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	CHECK_EQ_INT(count_followers(c), 3);
	CHECK_EQ_INT(rill_catalog_clear(c), RILL_OK);
	CHECK_EQ_INT(count_followers(c), 3);

	CHECK_EQ_INT(rill_catalog_del_follower(c, "a"), RILL_OK);
	CHECK_EQ_INT(rill_catalog_del_follower(c, "a"), RILL_OK); // absent
	CHECK_EQ_INT(rill_catalog_del_follower(c, "nobody"), RILL_OK);
	CHECK_EQ_INT(rill_catalog_followers(c, &l, &n), RILL_OK);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(l[0].node_id, "Z");
	CHECK_EQ_STR(l[1].node_id, "b");
	rill_free(l);

	// Inside a transaction, rolled back with the rest.
	CHECK_EQ_INT(rill_catalog_begin(c), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_follower(c, &a), RILL_OK);
	CHECK_EQ_INT(count_followers(c), 3);
	rill_catalog_rollback(c);
	CHECK_EQ_INT(count_followers(c), 2);
	rill_catalog_close(c);
}

// Text that does not fit is cut at a UTF-8 boundary, control characters
// become spaces, and fields without their NUL are read to their end.
static void
test_followers_text_is_cut_and_cleaned(void)
{
	char              path[PATH_MAX];
	rill_catalog     *c = NULL;
	bool              fresh;
	rill_cat_follower f = follower("x", 1), *l = NULL;
	size_t            n = 0;

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	// 63 bytes of 'i', then a 2-byte character that does not fit.
	memset(f.node_id, 'i', sizeof(f.node_id));
	memcpy(f.node_id + 63, "\xc3\xa9", 2);
	// No NUL at all in the address: 257 bytes of text with a newline.
	memset(f.address, 'a', sizeof(f.address));
	f.address[3] = '\n';
	CHECK_EQ_INT(rill_catalog_put_follower(c, &f), RILL_OK);
	CHECK_EQ_INT(rill_catalog_followers(c, &l, &n), RILL_OK);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(strlen(l[0].node_id), 63);
	CHECK(strspn(l[0].node_id, "i") == 63);
	CHECK_EQ_INT(strlen(l[0].address), RILL_CAT_FOLLOWER_ADDRESS_MAX);
	CHECK(l[0].address[3] == ' ');
	rill_free(l);
	rill_catalog_close(c);
}

// The schema of user_version 1, as rilld wrote it before the followers
// table.
static const char v1_schema[] =
    "CREATE TABLE generations (id INTEGER PRIMARY KEY,"
    " parent INTEGER NOT NULL, parent_seq INTEGER NOT NULL,"
    " created_us INTEGER NOT NULL);"
    "CREATE TABLE snapshots (generation INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, key_count INTEGER NOT NULL,"
    " size INTEGER NOT NULL, raw_bytes INTEGER NOT NULL,"
    " created_us INTEGER NOT NULL, state_hash INTEGER NOT NULL,"
    " duration_ms INTEGER NOT NULL,"
    " PRIMARY KEY (generation, seq)) WITHOUT ROWID;"
    "CREATE TABLE segments (generation INTEGER NOT NULL,"
    " first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,"
    " first_time_us INTEGER NOT NULL, last_time_us INTEGER NOT NULL,"
    " size INTEGER NOT NULL, checksum INTEGER NOT NULL,"
    " PRIMARY KEY (generation, first_seq)) WITHOUT ROWID;"
    "CREATE TABLE events (id INTEGER PRIMARY KEY,"
    " time_us INTEGER NOT NULL, kind TEXT NOT NULL,"
    " detail TEXT NOT NULL);"
    "PRAGMA journal_mode=WAL;"
    "INSERT INTO generations VALUES (7, 0, 0, 70);"
    "INSERT INTO snapshots VALUES (7, 0, 0, 10, 20, 71, 99, 3);"
    "INSERT INTO segments VALUES (7, 1, 5, 72, 73, 4096, 1234);"
    "INSERT INTO events (time_us, kind, detail)"
    " VALUES (74, 'snapshot', 'from version 1');"
    "PRAGMA application_id=1380535372;" // 0x52494c4c
    "PRAGMA user_version=1;";

// A catalog of version 1 is upgraded in place: its rows stay, it is not
// fresh (no rebuild), nothing is set aside, and followers can be put.
static void
test_version_1_is_upgraded(void)
{
	char              path[PATH_MAX], damaged[PATH_MAX + 16];
	rill_catalog     *c     = NULL;
	bool              fresh = true;
	sqlite3          *db;
	rill_cat_event   *e = NULL;
	size_t            n = 0;
	rill_cat_follower f = follower("f1", 3);

	new_path(path, sizeof(path));
	suffixed(damaged, sizeof(damaged), path, ".damaged");
	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_close(db), SQLITE_OK);
	CHECK_EQ_INT(read_be32(path, 60), 1);

	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	CHECK_EQ_INT(file_size(damaged), -1);
	CHECK_EQ_INT(count_generations(c), 1);
	CHECK_EQ_INT(count_snapshots(c, 7), 1);
	CHECK_EQ_INT(count_segments(c, 7), 1);
	CHECK_EQ_INT(rill_catalog_events(c, 10, &e, &n), RILL_OK);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(e[0].detail, "from version 1");
	rill_free(e);
	CHECK_EQ_INT(count_followers(c), 0);
	CHECK_EQ_INT(rill_catalog_put_follower(c, &f), RILL_OK);
	rill_catalog_close(c);

	// Now of version 2 on disk, and it opens as such.
	CHECK_EQ_INT(read_be32(path, 60), 2);
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	CHECK_EQ_INT(count_followers(c), 1);
	CHECK_EQ_INT(count_generations(c), 1);
	rill_catalog_close(c);
	CHECK_EQ_INT(file_size(damaged), -1);
}

// A file that says version 1 but already has a followers table (a crash
// can not make one, but a downgrade-and-upgrade can) keeps its rows too.
static void
test_version_1_with_followers_table_is_upgraded(void)
{
	char              path[PATH_MAX];
	rill_catalog     *c     = NULL;
	bool              fresh = true;
	rill_cat_follower f     = follower("f1", 3);

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK_EQ_INT(rill_catalog_put_follower(c, &f), RILL_OK);
	rill_catalog_close(c);
	patch_be32(path, 60, 1);
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	CHECK_EQ_INT(count_followers(c), 1);
	rill_catalog_close(c);
	CHECK_EQ_INT(read_be32(path, 60), 2);
}

#define N_THREADS 4
#define N_ROUNDS 150

typedef struct worker {
	rill_catalog *c;
	int           t;
	int           failures;
} worker;

static void *
work(void *arg)
{
	worker *w = arg;

	for (uint64_t i = 0; i < N_ROUNDS; i++) {
		// High ids, above INT64_MAX for odd threads.
		uint64_t id = ((uint64_t) (w->t + 1) << 56 | i) |
		    (w->t % 2 == 1 ? BIG : 0);
		rill_cat_generation  g = gen(id, 0, 0, i);
		rill_cat_snapshot    s = snap(id, i, i);
		rill_cat_segment     m = seg(id, i, i + 1);
		rill_cat_generation *gl;
		rill_cat_snapshot   *sl;
		size_t               n;
		bool                 txn = w->t == 0 && i % 10 == 0;

		if (txn && rill_catalog_begin(w->c) != RILL_OK) {
			w->failures++;
			continue;
		}
		char              fid[16];
		rill_cat_follower fo;

		snprintf(fid, sizeof(fid), "t%d-%" PRIu64, w->t, i % 7);
		fo = follower(fid, i);
		if (rill_catalog_put_generation(w->c, &g) != RILL_OK ||
		    rill_catalog_put_snapshot(w->c, &s) != RILL_OK ||
		    rill_catalog_put_segment(w->c, &m) != RILL_OK ||
		    rill_catalog_put_follower(w->c, &fo) != RILL_OK) {
			w->failures++;
		}
		if (i % 5 == 0 &&
		    rill_catalog_event(w->c, "test",
		        "thread %d round %" PRIu64, w->t, i) != RILL_OK) {
			w->failures++;
		}
		if (txn && rill_catalog_commit(w->c) != RILL_OK) {
			w->failures++;
		}
		if (rill_catalog_generations(w->c, &gl, &n) != RILL_OK) {
			w->failures++;
		} else {
			rill_free(gl);
		}
		if (rill_catalog_snapshots(
		        w->c, i % 3 == 0 ? 0 : id, &sl, &n) != RILL_OK) {
			w->failures++;
		} else {
			rill_free(sl);
		}
	}
	return NULL;
}

static void
test_concurrent_threads(void)
{
	char          path[PATH_MAX];
	rill_catalog *c = NULL;
	bool          fresh;
	pthread_t     th[N_THREADS];
	worker        w[N_THREADS];

	new_path(path, sizeof(path));
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	for (int t = 0; t < N_THREADS; t++) {
		w[t] = (worker) { .c = c, .t = t };
		CHECK(pthread_create(&th[t], NULL, work, &w[t]) == 0);
	}
	for (int t = 0; t < N_THREADS; t++) {
		pthread_join(th[t], NULL);
	}
	for (int t = 0; t < N_THREADS; t++) {
		CHECK_EQ_INT(w[t].failures, 0);
	}
	CHECK_EQ_INT(count_generations(c), N_THREADS * N_ROUNDS);
	CHECK_EQ_INT(count_snapshots(c, 0), N_THREADS * N_ROUNDS);
	CHECK_EQ_INT(count_segments(c, 0), N_THREADS * N_ROUNDS);
	CHECK_EQ_INT(count_events(c), N_THREADS * N_ROUNDS / 5);
	CHECK_EQ_INT(count_followers(c), N_THREADS * 7);
	rill_catalog_close(c);
}

static void
test_allocation_failures_unwind(void)
{
	char                 path[PATH_MAX];
	rill_catalog        *c = NULL;
	bool                 fresh;
	rill_cat_generation *gl = NULL;
	size_t               n;
	int                  rv;

	new_path(path, sizeof(path));
	for (unsigned long i = 1;; i++) {
		rill_mem_fail_after(i);
		rv = rill_catalog_open(&c, path, &fresh);
		rill_mem_fail_after(0);
		if (rv == RILL_OK) {
			break;
		}
		CHECK_EQ_INT(rv, RILL_ENOMEM);
		CHECK(i < 100);
	}
	for (uint64_t i = 1; i <= 40; i++) {
		rill_cat_generation g = gen(i, 0, 0, i);
		CHECK_EQ_INT(rill_catalog_put_generation(c, &g), RILL_OK);
	}
	// Each growth of the array can fail.
	for (unsigned long i = 1;; i++) {
		rill_mem_fail_after(i);
		rv = rill_catalog_generations(c, &gl, &n);
		rill_mem_fail_after(0);
		if (rv == RILL_OK) {
			break;
		}
		CHECK_EQ_INT(rv, RILL_ENOMEM);
		CHECK(i < 100);
	}
	CHECK_EQ_INT(n, 40);
	rill_free(gl);
	rill_catalog_close(c);
}

RILL_TEST_MAIN_BEGIN
make_tmp_root();
RILL_TEST_RUN(test_fresh_create_and_reopen);
RILL_TEST_RUN(test_empty_file_is_fresh);
RILL_TEST_RUN(test_put_replace_delete_generation);
RILL_TEST_RUN(test_put_replace_delete_snapshot);
RILL_TEST_RUN(test_put_replace_delete_segment);
RILL_TEST_RUN(test_generation_zero_is_rejected);
RILL_TEST_RUN(test_delete_generation_cascades);
RILL_TEST_RUN(test_listing_order_and_filters);
RILL_TEST_RUN(test_u64_above_int64_max_round_trip);
RILL_TEST_RUN(test_events_newest_first_and_truncated);
RILL_TEST_RUN(test_events_pruned_past_10000);
RILL_TEST_RUN(test_begin_commit_and_rollback);
RILL_TEST_RUN(test_transaction_holds_off_other_threads);
RILL_TEST_RUN(test_random_bytes_are_replaced);
RILL_TEST_RUN(test_truncated_db_is_replaced);
RILL_TEST_RUN(test_damaged_page_is_replaced);
RILL_TEST_RUN(test_foreign_headers_are_replaced);
RILL_TEST_RUN(test_followers_put_replace_delete);
RILL_TEST_RUN(test_followers_text_is_cut_and_cleaned);
RILL_TEST_RUN(test_version_1_is_upgraded);
RILL_TEST_RUN(test_version_1_with_followers_table_is_upgraded);
RILL_TEST_RUN(test_concurrent_threads);
RILL_TEST_RUN(test_allocation_failures_unwind);
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", tmp_root);
	}
}
RILL_TEST_MAIN_END
