// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// followers_test: the leader's table of followers. Fetches recorded and
// listed in node id order, ids and addresses cut and cleaned, the
// positions retention must keep within a window, lag in records and
// seconds, the JSON of GET /v1/followers and the Prometheus text, the
// rows persisted in a real catalog and loaded by a new table, forgetting,
// allocation failures, and use from several threads.
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <rill/status.h>

#include "catalog.h"
#include "followers.h"
#include "mem.h"
#include "metrics.h"
#include "prom_check.h"
#include "test.h"

#define GEN 0x0123456789abcdefULL
#define OTHER_GEN 0xfedcba9876543210ULL
#define SEC 1000000ULL             // microseconds
#define NOW (1800000000ULL * SEC)  // a wall clock
#define BIG_SEQ ((1ULL << 53) + 1) // not exact in a double
#define DAY_MS (24ULL * 3600 * 1000)

static char tmp_root[PATH_MAX];
static int  n_dirs;

static void
make_tmp_root(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp_root, sizeof(tmp_root), "%s/rill-followers-test-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmp_root) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

// open_catalog opens a catalog in a new directory; path gets its name.
static rill_catalog *
open_catalog(char *path, size_t n)
{
	rill_catalog *c = NULL;
	bool          fresh;

	snprintf(path, n, "%s/d%d", tmp_root, ++n_dirs);
	if (mkdir(path, 0755) != 0) {
		perror(path);
		exit(1);
	}
	snprintf(path, n, "%s/d%d/catalog.db", tmp_root, n_dirs);
	if (rill_catalog_open(&c, path, &fresh) != RILL_OK) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	return c;
}

static size_t
count_rows(rill_followers *f)
{
	rill_follower_info *rows;
	size_t              n;

	if (rill_followers_list(f, &rows, &n) != RILL_OK) {
		return SIZE_MAX;
	}
	rill_free(rows);
	return n;
}

static size_t
count_catalog_rows(rill_catalog *c)
{
	rill_cat_follower *rows;
	size_t             n;

	if (rill_catalog_followers(c, &rows, &n) != RILL_OK) {
		return SIZE_MAX;
	}
	rill_free(rows);
	return n;
}

static void
test_seen_and_list_in_id_order(void)
{
	rill_followers     *f = NULL;
	rill_follower_info *rows;
	size_t              n;

	CHECK_EQ_INT(rill_followers_new(&f, NULL, 0), RILL_OK);
	CHECK_EQ_INT(rill_followers_list(f, &rows, &n), RILL_OK);
	CHECK(rows == NULL);
	CHECK_EQ_INT(n, 0);

	rill_followers_seen(f, "b", "tcp://b:1", GEN, 10, 100, NOW);
	rill_followers_seen(f, "c", "tcp://c:1", GEN, 20, 200, NOW + 1);
	rill_followers_seen(f, "a", "tcp://a:1", GEN, 5, 50, NOW + 2);
	// b again, moved and further on.
	rill_followers_seen(f, "b", "tcp://b:2", OTHER_GEN, 11, 110, NOW + 3);

	CHECK_EQ_INT(rill_followers_list(f, &rows, &n), RILL_OK);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_STR(rows[0].node_id, "a");
	CHECK_EQ_STR(rows[1].node_id, "b");
	CHECK_EQ_STR(rows[2].node_id, "c");
	CHECK_EQ_STR(rows[1].address, "tcp://b:2");
	CHECK(rows[1].generation == OTHER_GEN);
	CHECK_EQ_INT(rows[1].applied_seq, 11);
	CHECK_EQ_INT(rows[1].applied_time_us, 110);
	CHECK(rows[1].first_seen_us == NOW);
	CHECK(rows[1].last_seen_us == NOW + 3);
	CHECK_EQ_INT(rows[1].fetches, 2);
	CHECK_EQ_INT(rows[0].fetches, 1);
	CHECK(rows[0].first_seen_us == NOW + 2);
	rill_free(rows);
	rill_followers_free(f);
	rill_followers_free(NULL);
}

// The table holds 1024 rows: any client may send FetchLog with a new
// id. A new id past that takes the place of the row seen least recently;
// a known id still updates its row.
static void
test_table_is_bounded(void)
{
	rill_followers     *f = NULL;
	rill_follower_info *rows;
	size_t              n;
	char                id[32];

	CHECK_EQ_INT(rill_followers_new(&f, NULL, 0), RILL_OK);
	for (int i = 0; i < 1030; i++) {
		snprintf(id, sizeof(id), "f%05d", i);
		rill_followers_seen(
		    f, id, "tcp://x:1", GEN, 1, 1, NOW + (uint64_t) i);
		if (i == 1000) {
			// f00000 seen again: now among the newest.
			rill_followers_seen(
			    f, "f00000", "tcp://x:1", GEN, 2, 2, NOW + 5000);
		}
	}
	CHECK_EQ_INT(rill_followers_list(f, &rows, &n), RILL_OK);
	CHECK_EQ_INT(n, 1024);
	CHECK_EQ_STR(rows[0].node_id, "f00000");
	CHECK_EQ_INT(rows[0].applied_seq, 2);
	// f00001..f00006 made room for f01024..f01029.
	CHECK_EQ_STR(rows[1].node_id, "f00007");
	CHECK_EQ_STR(rows[n - 1].node_id, "f01029");
	rill_free(rows);
	rill_followers_free(f);
}

// Ids and addresses are cut to their maximum at a character boundary;
// control characters and bytes that are not UTF-8 become '?'; an empty
// id is no follower.
static void
test_seen_cuts_and_cleans_text(void)
{
	rill_followers     *f = NULL;
	rill_follower_info *rows;
	size_t              n;
	char                long_id[200], long_addr[400], utf8_id[80];

	CHECK_EQ_INT(rill_followers_new(&f, NULL, 0), RILL_OK);
	memset(long_id, 'L', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	memset(long_addr, 'x', sizeof(long_addr) - 1);
	long_addr[sizeof(long_addr) - 1] = '\0';
	// 63 ASCII bytes, then "é" (2 bytes) that does not fit in 64.
	memset(utf8_id, 'u', 63);
	memcpy(utf8_id + 63, "\xc3\xa9", 3);

	rill_followers_seen(f, long_id, long_addr, GEN, 1, 1, NOW);
	rill_followers_seen(f, utf8_id, NULL, GEN, 1, 1, NOW);
	rill_followers_seen(
	    f, "n\nl\x7f\xff\xc3(", "a\"b\\c\td", GEN, 1, 1, NOW);
	rill_followers_seen(f, "ok-\xe2\x82\xac", "tcp://h:1", GEN, 1, 1, NOW);
	rill_followers_seen(f, "", "tcp://nobody", GEN, 1, 1, NOW);
	rill_followers_seen(f, NULL, "tcp://nobody", GEN, 1, 1, NOW);
	rill_followers_seen(NULL, "x", "y", GEN, 1, 1, NOW);

	CHECK_EQ_INT(rill_followers_list(f, &rows, &n), RILL_OK);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(strlen(rows[0].node_id), RILL_FOLLOWER_ID_MAX);
	CHECK(strspn(rows[0].node_id, "L") == RILL_FOLLOWER_ID_MAX);
	CHECK_EQ_INT(strlen(rows[0].address), RILL_FOLLOWER_ADDRESS_MAX);
	CHECK_EQ_STR(rows[1].node_id, "n?l?\?\?(");
	CHECK_EQ_STR(rows[1].address, "a\"b\\c?d");
	CHECK_EQ_STR(rows[2].node_id, "ok-\xe2\x82\xac");
	CHECK_EQ_INT(strlen(rows[3].node_id), 63);
	CHECK(strspn(rows[3].node_id, "u") == 63);
	CHECK_EQ_STR(rows[3].address, "");
	rill_free(rows);
	rill_followers_free(f);
}

// needed: the lowest position of the generation's followers seen within
// the window; none (UINT64_MAX) otherwise, and always for window 0.
static void
test_needed_within_window(void)
{
	rill_followers *f      = NULL;
	uint64_t        window = 60 * 1000; // ms

	CHECK_EQ_INT(rill_followers_new(&f, NULL, 0), RILL_OK);
	CHECK(rill_followers_needed(f, GEN, window, NOW) == UINT64_MAX);
	rill_followers_seen(f, "fresh", "a", GEN, 100, 1, NOW - 10 * SEC);
	rill_followers_seen(f, "edge", "a", GEN, 90, 1, NOW - 60 * SEC);
	rill_followers_seen(f, "stale", "a", GEN, 5, 1, NOW - 61 * SEC);
	rill_followers_seen(f, "other", "a", OTHER_GEN, 1, 1, NOW);
	// Seen "after" now (clocks): within any window.
	rill_followers_seen(f, "later", "a", OTHER_GEN, 7, 1, NOW + SEC);

	CHECK_EQ_INT(rill_followers_needed(f, GEN, window, NOW), 90);
	CHECK_EQ_INT(rill_followers_needed(f, GEN, 2 * window, NOW), 5);
	CHECK_EQ_INT(rill_followers_needed(f, GEN, 5 * 1000, NOW), UINT64_MAX);
	CHECK_EQ_INT(rill_followers_needed(f, OTHER_GEN, window, NOW), 1);
	CHECK(rill_followers_needed(f, GEN, 0, NOW) == UINT64_MAX);
	CHECK(rill_followers_needed(f, 42, window, NOW) == UINT64_MAX);
	CHECK_EQ_INT(rill_followers_needed(f, GEN, UINT64_MAX, NOW), 5);
	// "stale" moves on: the lowest is now "edge".
	rill_followers_seen(f, "stale", "a", GEN, 200, 1, NOW);
	CHECK_EQ_INT(rill_followers_needed(f, GEN, 2 * window, NOW), 90);
	rill_followers_free(f);
}

static void
test_lag_math(void)
{
	rill_follower_info fi = {
		.applied_seq     = 100,
		.applied_time_us = NOW - 10 * SEC,
		.first_seen_us   = NOW - 30 * SEC,
	};
	uint64_t records;
	double   seconds;

	// Level, and ahead: no lag, whatever the times.
	rill_follower_lag(&fi, 100, NOW, NOW, &records, &seconds);
	CHECK_EQ_INT(records, 0);
	CHECK(seconds == 0);
	rill_follower_lag(&fi, 90, NOW, NOW, &records, &seconds);
	CHECK_EQ_INT(records, 0);
	CHECK(seconds == 0);
	// Behind: the time between the two records, not the idle time
	// since.
	rill_follower_lag(&fi, 150, NOW - 8 * SEC - SEC / 2, NOW + 100 * SEC,
	    &records, &seconds);
	CHECK_EQ_INT(records, 50);
	CHECK(fabs(seconds - 1.5) < 1e-9);
	// The node's clock stepped back: no negative lag.
	rill_follower_lag(&fi, 150, NOW - 20 * SEC, NOW, &records, &seconds);
	CHECK_EQ_INT(records, 50);
	CHECK(seconds == 0);
	// Unknown times: the time since the follower was first seen.
	fi.applied_time_us = 0;
	rill_follower_lag(&fi, 150, NOW, NOW, &records, &seconds);
	CHECK(fabs(seconds - 30) < 1e-9);
	fi.applied_time_us = NOW - 10 * SEC;
	rill_follower_lag(&fi, 150, 0, NOW, &records, &seconds);
	CHECK(fabs(seconds - 30) < 1e-9);
	fi.applied_seq = 0;
	rill_follower_lag(&fi, BIG_SEQ, NOW, NOW, &records, &seconds);
	CHECK(records == BIG_SEQ);
}

static const cJSON *
row_named(const cJSON *arr, const char *id)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, arr)
	{
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(o, "node_id");
		if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0) {
			return o;
		}
	}
	return NULL;
}

static double
num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
test_json_shape(void)
{
	rill_followers *f = NULL;
	cJSON          *obj, *back = NULL;
	const cJSON    *arr, *a, *b;
	char           *text;
	uint64_t        last_time = NOW - 2 * SEC;

	CHECK_EQ_INT(rill_followers_new(&f, NULL, 0), RILL_OK);
	// Empty: an empty array.
	CHECK((obj = rill_followers_json(f, 10, last_time, NOW)) != NULL);
	text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	CHECK(text != NULL);
	CHECK_EQ_STR(text, "{\"followers\":[]}");
	cJSON_free(text);

	rill_followers_seen(
	    f, "b", "tcp://b:7000", GEN, 1000, last_time, NOW - 5 * SEC);
	rill_followers_seen(
	    f, "b", "tcp://b:7000", GEN, 1000, last_time, NOW - 2250000);
	rill_followers_seen(f, "a", "tcp://a:7000", OTHER_GEN, 400,
	    last_time - 1500000, NOW - SEC);
	rill_followers_seen(
	    f, "z", "tcp://z:7000", GEN, BIG_SEQ, last_time, NOW);

	CHECK((obj = rill_followers_json(f, 1000, last_time, NOW)) != NULL);
	text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	CHECK(text != NULL);
	// Seqs past 2^53 are printed exactly.
	CHECK(strstr(text, "\"applied_seq\":9007199254740993") != NULL);
	back = cJSON_Parse(text);
	cJSON_free(text);
	CHECK(back != NULL);
	arr = cJSON_GetObjectItemCaseSensitive(back, "followers");
	CHECK(cJSON_IsArray(arr));
	CHECK_EQ_INT(cJSON_GetArraySize(arr), 3);
	// Ordered by node id.
	CHECK_EQ_STR(str(cJSON_GetArrayItem(arr, 0), "node_id"), "a");
	CHECK_EQ_STR(str(cJSON_GetArrayItem(arr, 2), "node_id"), "z");

	CHECK((b = row_named(arr, "b")) != NULL);
	CHECK_EQ_STR(str(b, "address"), "tcp://b:7000");
	CHECK_EQ_STR(str(b, "generation"), "0123456789abcdef");
	CHECK(num(b, "applied_seq") == 1000);
	CHECK(num(b, "lag_records") == 0);
	CHECK(num(b, "lag_s") == 0);
	CHECK(fabs(num(b, "last_seen_s") - 2.25) < 1e-9);
	CHECK(num(b, "first_seen_us") == (double) (NOW - 5 * SEC));
	CHECK(num(b, "fetches") == 2);

	CHECK((a = row_named(arr, "a")) != NULL);
	CHECK_EQ_STR(str(a, "generation"), "fedcba9876543210");
	CHECK(num(a, "lag_records") == 600);
	CHECK(fabs(num(a, "lag_s") - 1.5) < 1e-9);
	CHECK(fabs(num(a, "last_seen_s") - 1) < 1e-9);
	CHECK(num(a, "fetches") == 1);
	cJSON_Delete(back);
	rill_followers_free(f);
}

static void
test_prometheus_text(void)
{
	rill_followers *f = NULL;
	rill_prom       p;
	prom_check      pc;
	uint64_t        last_time = NOW - SEC;

	CHECK_EQ_INT(rill_followers_new(&f, NULL, 0), RILL_OK);
	// No follower: only the count.
	rill_prom_init(&p);
	rill_followers_render(f, &p, 10, last_time, NOW);
	CHECK_EQ_INT(p.err, RILL_OK);
	memset(&pc, 0, sizeof(pc));
	CHECK(prom_check_text(&pc, p.buf, p.len));
	CHECK(prom_find_sample(p.buf, "rill_followers ") == 0);
	CHECK(strstr(p.buf, "rill_follower_lag_records") == NULL);
	rill_prom_fini(&p);

	rill_followers_seen(f, "n1", "tcp://h1:7000", GEN, 90,
	    last_time - 2500000, NOW - 3 * SEC);
	// Label values escape backslash and double quote.
	rill_followers_seen(f, "n\"2", "tcp://h\\2", GEN, 100, last_time, NOW);

	rill_prom_init(&p);
	// Other families before and after, as the admin API renders.
	rill_prom_gauge(&p, "rill_last_seq", "Last seq.", 100);
	rill_followers_render(f, &p, 100, last_time, NOW);
	rill_prom_gauge(&p, "rill_ready", "Ready.", 1);
	CHECK_EQ_INT(p.err, RILL_OK);
	memset(&pc, 0, sizeof(pc));
	if (!prom_check_text(&pc, p.buf, p.len)) {
		fprintf(stderr, "line %d: %s\n%s", pc.line, pc.why, p.buf);
		CHECK(false);
	}
	CHECK(prom_find_sample(p.buf, "rill_followers ") == 2);
	CHECK(strstr(p.buf, "# TYPE rill_followers gauge\n") != NULL);
	CHECK(
	    strstr(p.buf, "# TYPE rill_follower_lag_seconds gauge\n") != NULL);
	CHECK(prom_find_sample(p.buf,
	          "rill_follower_applied_seq{node_id=\"n1\","
	          "address=\"tcp://h1:7000\"}") == 90);
	CHECK(prom_find_sample(p.buf,
	          "rill_follower_lag_records{node_id=\"n1\","
	          "address=\"tcp://h1:7000\"}") == 10);
	CHECK(fabs(prom_find_sample(p.buf,
	               "rill_follower_lag_seconds{node_id=\"n1\","
	               "address=\"tcp://h1:7000\"}") -
	          2.5) < 1e-9);
	CHECK(prom_find_sample(p.buf,
	          "rill_follower_last_seen_seconds{node_id=\"n1\","
	          "address=\"tcp://h1:7000\"}") == 3);
	CHECK(prom_find_sample(p.buf,
	          "rill_follower_lag_records{node_id=\"n\\\"2\","
	          "address=\"tcp://h\\\\2\"}") == 0);
	CHECK(prom_find_sample(p.buf,
	          "rill_follower_lag_seconds{node_id=\"n\\\"2\","
	          "address=\"tcp://h\\\\2\"}") == 0);
	rill_prom_fini(&p);

	// A buffer that already failed stays failed, untouched.
	rill_prom_init(&p);
	p.err = RILL_ENOMEM;
	rill_followers_render(f, &p, 100, last_time, NOW);
	CHECK(p.buf == NULL);
	rill_prom_fini(&p);
	rill_followers_free(f);
}

static void
test_persist_and_reload(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c = open_catalog(path, sizeof(path));
	rill_followers     *f = NULL;
	rill_follower_info *rows;
	size_t              n;

	CHECK_EQ_INT(rill_followers_new(&f, c, 0), RILL_OK);
	CHECK_EQ_INT(count_rows(f), 0);
	rill_followers_seen(f, "a", "tcp://a:1", GEN, 10, 100, NOW - SEC);
	rill_followers_seen(f, "a", "tcp://a:1", GEN, 12, 120, NOW);
	rill_followers_seen(f, "b", "tcp://b:1", OTHER_GEN, BIG_SEQ, 7, NOW);
	// Nothing reaches the catalog before a persist.
	CHECK_EQ_INT(count_catalog_rows(c), 0);
	CHECK_EQ_INT(rill_followers_persist(f, NOW), RILL_OK);
	CHECK_EQ_INT(count_catalog_rows(c), 2);
	rill_followers_free(f);

	// The catalog closed and opened again, as after a restart.
	rill_catalog_close(c);
	bool fresh;
	CHECK_EQ_INT(rill_catalog_open(&c, path, &fresh), RILL_OK);
	CHECK(!fresh);
	f = NULL;
	CHECK_EQ_INT(rill_followers_new(&f, c, 0), RILL_OK);
	CHECK_EQ_INT(rill_followers_list(f, &rows, &n), RILL_OK);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(rows[0].node_id, "a");
	CHECK_EQ_STR(rows[0].address, "tcp://a:1");
	CHECK(rows[0].generation == GEN);
	CHECK_EQ_INT(rows[0].applied_seq, 12);
	CHECK_EQ_INT(rows[0].applied_time_us, 120);
	CHECK(rows[0].first_seen_us == NOW - SEC);
	CHECK(rows[0].last_seen_us == NOW);
	CHECK_EQ_INT(rows[0].fetches, 0); // since this start
	CHECK(rows[1].generation == OTHER_GEN);
	CHECK(rows[1].applied_seq == BIG_SEQ);
	rill_free(rows);
	// A restarted leader keeps their log within the window.
	CHECK_EQ_INT(rill_followers_needed(f, GEN, 60000, NOW + SEC), 12);

	// A later fetch updates the row on the next persist.
	rill_followers_seen(f, "a", "tcp://a:2", GEN, 50, 500, NOW + SEC);
	CHECK_EQ_INT(rill_followers_persist(f, NOW + SEC), RILL_OK);
	rill_followers_free(f);
	f = NULL;
	CHECK_EQ_INT(rill_followers_new(&f, c, 0), RILL_OK);
	CHECK_EQ_INT(rill_followers_list(f, &rows, &n), RILL_OK);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(rows[0].address, "tcp://a:2");
	CHECK_EQ_INT(rows[0].applied_seq, 50);
	CHECK(rows[0].first_seen_us == NOW - SEC);
	rill_free(rows);
	rill_followers_free(f);
	rill_catalog_close(c);
}

// Rows not seen for forget_ms go, from memory and the catalog; one seen
// again before the persist that deletes it stays.
static void
test_forget(void)
{
	char            path[PATH_MAX];
	rill_catalog   *c      = open_catalog(path, sizeof(path));
	rill_followers *f      = NULL;
	uint64_t        forget = 1000; // ms

	CHECK_EQ_INT(rill_followers_new(&f, c, forget), RILL_OK);
	rill_followers_seen(f, "old", "a", GEN, 1, 1, NOW);
	rill_followers_seen(f, "new", "a", GEN, 2, 2, NOW + 2 * SEC);
	CHECK_EQ_INT(rill_followers_persist(f, NOW), RILL_OK);
	CHECK_EQ_INT(count_catalog_rows(c), 2);
	// At the edge: kept.
	CHECK_EQ_INT(rill_followers_persist(f, NOW + SEC), RILL_OK);
	CHECK_EQ_INT(count_rows(f), 2);
	CHECK_EQ_INT(rill_followers_persist(f, NOW + SEC + 1), RILL_OK);
	CHECK_EQ_INT(count_rows(f), 1);
	CHECK_EQ_INT(count_catalog_rows(c), 1);
	CHECK(rill_followers_needed(f, GEN, 60000, NOW + 2 * SEC) == 2);
	rill_followers_free(f);

	// The default forget period is a week.
	f = NULL;
	CHECK_EQ_INT(rill_followers_new(&f, c, 0), RILL_OK);
	CHECK_EQ_INT(count_rows(f), 1);
	CHECK_EQ_INT(
	    rill_followers_persist(f, NOW + 2 * SEC + 7 * DAY_MS * 1000),
	    RILL_OK);
	CHECK_EQ_INT(count_rows(f), 1);
	CHECK_EQ_INT(
	    rill_followers_persist(f, NOW + 3 * SEC + 7 * DAY_MS * 1000),
	    RILL_OK);
	CHECK_EQ_INT(count_rows(f), 0);
	CHECK_EQ_INT(count_catalog_rows(c), 0);
	rill_followers_free(f);

	// A table without a catalog forgets too.
	f = NULL;
	CHECK_EQ_INT(rill_followers_new(&f, NULL, forget), RILL_OK);
	rill_followers_seen(f, "x", "a", GEN, 1, 1, NOW);
	CHECK_EQ_INT(rill_followers_persist(f, NOW), RILL_OK);
	CHECK_EQ_INT(count_rows(f), 1);
	CHECK_EQ_INT(rill_followers_persist(f, NOW + 2 * SEC), RILL_OK);
	CHECK_EQ_INT(count_rows(f), 0);
	rill_followers_free(f);
	rill_catalog_close(c);
}

// A fetch that cannot get memory goes unrecorded; a persist that cannot
// writes nothing and leaves every row to the next one.
static void
test_allocation_failures(void)
{
	char            path[PATH_MAX];
	rill_catalog   *c = open_catalog(path, sizeof(path));
	rill_followers *f = NULL;
	int             rv;

	for (unsigned long i = 1;; i++) {
		rill_mem_fail_after(i);
		rv = rill_followers_new(&f, c, 0);
		rill_mem_fail_after(0);
		if (rv == RILL_OK) {
			break;
		}
		CHECK_EQ_INT(rv, RILL_ENOMEM);
		CHECK(i < 50);
	}
	rill_mem_fail_after(1);
	rill_followers_seen(f, "a", "tcp://a", GEN, 1, 1, NOW);
	rill_mem_fail_after(0);
	CHECK_EQ_INT(count_rows(f), 0);
	rill_followers_seen(f, "a", "tcp://a", GEN, 1, 1, NOW);
	rill_followers_seen(f, "b", "tcp://b", GEN, 1, 1, NOW);
	CHECK_EQ_INT(count_rows(f), 2);

	for (unsigned long i = 1;; i++) {
		rill_mem_fail_after(i);
		rv = rill_followers_persist(f, NOW);
		rill_mem_fail_after(0);
		if (rv == RILL_OK) {
			break;
		}
		CHECK_EQ_INT(rv, RILL_ENOMEM);
		CHECK(i < 50);
	}
	CHECK_EQ_INT(count_catalog_rows(c), 2);
	rill_followers_free(f);

	// Loading can fail too, and unwinds.
	f = NULL;
	for (unsigned long i = 1;; i++) {
		rill_mem_fail_after(i);
		rv = rill_followers_new(&f, c, 0);
		rill_mem_fail_after(0);
		if (rv == RILL_OK) {
			break;
		}
		CHECK_EQ_INT(rv, RILL_ENOMEM);
		CHECK(i < 50);
	}
	CHECK_EQ_INT(count_rows(f), 2);
	rill_followers_free(f);
	rill_catalog_close(c);
}

#define N_THREADS 4
#define N_FETCHES 2000

typedef struct worker {
	rill_followers *f;
	int             t;
} worker;

static void *
fetch_loop(void *arg)
{
	worker *w = arg;
	char    id[16];

	for (int i = 1; i <= N_FETCHES; i++) {
		snprintf(id, sizeof(id), "f%d", (w->t + i) % 8);
		rill_followers_seen(w->f, id, "tcp://h", GEN, (uint64_t) i,
		    (uint64_t) i, NOW + (uint64_t) i);
	}
	return NULL;
}

// Fetches on several threads while another lists, renders and persists.
static void
test_concurrent_fetches(void)
{
	char                path[PATH_MAX];
	rill_catalog       *c = open_catalog(path, sizeof(path));
	rill_followers     *f = NULL;
	pthread_t           th[N_THREADS];
	worker              w[N_THREADS];
	rill_follower_info *rows;
	size_t              n;
	uint64_t            fetches = 0;

	CHECK_EQ_INT(rill_followers_new(&f, c, 0), RILL_OK);
	for (int t = 0; t < N_THREADS; t++) {
		w[t] = (worker) { .f = f, .t = t };
		CHECK(pthread_create(&th[t], NULL, fetch_loop, &w[t]) == 0);
	}
	for (int i = 0; i < 20; i++) {
		rill_prom p;
		cJSON    *obj;

		CHECK_EQ_INT(rill_followers_persist(f, NOW), RILL_OK);
		rill_prom_init(&p);
		rill_followers_render(f, &p, 100, NOW, NOW);
		CHECK_EQ_INT(p.err, RILL_OK);
		rill_prom_fini(&p);
		CHECK((obj = rill_followers_json(f, 100, NOW, NOW)) != NULL);
		cJSON_Delete(obj);
		(void) rill_followers_needed(f, GEN, 1000, NOW);
	}
	for (int t = 0; t < N_THREADS; t++) {
		pthread_join(th[t], NULL);
	}
	CHECK_EQ_INT(rill_followers_list(f, &rows, &n), RILL_OK);
	CHECK_EQ_INT(n, 8);
	for (size_t i = 0; i < n; i++) {
		fetches += rows[i].fetches;
	}
	rill_free(rows);
	CHECK_EQ_INT(fetches, N_THREADS * N_FETCHES);
	CHECK_EQ_INT(rill_followers_persist(f, NOW), RILL_OK);
	CHECK_EQ_INT(count_catalog_rows(c), 8);
	rill_followers_free(f);
	rill_catalog_close(c);
}

RILL_TEST_MAIN_BEGIN
make_tmp_root();
RILL_TEST_RUN(test_seen_and_list_in_id_order);
RILL_TEST_RUN(test_table_is_bounded);
RILL_TEST_RUN(test_seen_cuts_and_cleans_text);
RILL_TEST_RUN(test_needed_within_window);
RILL_TEST_RUN(test_lag_math);
RILL_TEST_RUN(test_json_shape);
RILL_TEST_RUN(test_prometheus_text);
RILL_TEST_RUN(test_persist_and_reload);
RILL_TEST_RUN(test_forget);
RILL_TEST_RUN(test_allocation_failures);
RILL_TEST_RUN(test_concurrent_fetches);
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", tmp_root);
	}
}
RILL_TEST_MAIN_END
