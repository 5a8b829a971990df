// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_leveldb: the in-process LevelDB baseline, what rill's store costs
// without the RPC, the log and the replication around it. It runs in a
// fresh directory with rilld's store settings (8 MiB block cache, 16 MiB
// memtable, a bloom filter, snappy) and the workload's operation made
// directly: writes are synced when the server's policy is `always` (LevelDB
// group-commits concurrent synced writers itself), gets and scans read the
// same keys.
#include <leveldb/c.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct rill_bench_ldb {
	leveldb_t              *db;
	leveldb_options_t      *options;
	leveldb_cache_t        *cache;
	leveldb_filterpolicy_t *filter;
};

int
rill_bench_ldb_open(
    rill_bench_ldb **ldbp, const char *dir, char *err, size_t n)
{
	rill_bench_ldb *ldb;
	char           *lerr = NULL;

	if ((ldb = calloc(1, sizeof(*ldb))) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		return -1;
	}
	ldb->options = leveldb_options_create();
	ldb->cache   = leveldb_cache_create_lru(8u << 20);
	ldb->filter  = leveldb_filterpolicy_create_bloom(10);
	leveldb_options_set_create_if_missing(ldb->options, 1);
	leveldb_options_set_error_if_exists(ldb->options, 1);
	leveldb_options_set_cache(ldb->options, ldb->cache);
	leveldb_options_set_filter_policy(ldb->options, ldb->filter);
	leveldb_options_set_write_buffer_size(ldb->options, 16u << 20);
	leveldb_options_set_compression(
	    ldb->options, leveldb_snappy_compression);
	ldb->db = leveldb_open(ldb->options, dir, &lerr);
	if (lerr != NULL) {
		rill_bench_errf(err, n, "leveldb %s: %s", dir, lerr);
		leveldb_free(lerr);
		leveldb_options_destroy(ldb->options);
		leveldb_cache_destroy(ldb->cache);
		leveldb_filterpolicy_destroy(ldb->filter);
		free(ldb);
		return -1;
	}
	*ldbp = ldb;
	return 0;
}

void
rill_bench_ldb_close(rill_bench_ldb *ldb)
{
	if (ldb == NULL) {
		return;
	}
	leveldb_close(ldb->db);
	leveldb_options_destroy(ldb->options);
	leveldb_cache_destroy(ldb->cache);
	leveldb_filterpolicy_destroy(ldb->filter);
	free(ldb);
}

int
rill_bench_ldb_load(rill_bench_ldb *ldb, const rill_bench_config *cfg,
    uint64_t first, uint64_t count, char *err, size_t n)
{
	leveldb_writeoptions_t *wo;
	leveldb_writebatch_t   *wb;
	size_t                  chunk = rill_bench_load_chunk(cfg);
	uint8_t                *key;
	uint64_t                rng  = rill_bench_seed(0);
	char                   *lerr = NULL;

	if ((key = malloc(cfg->key_size)) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		return -1;
	}
	wo = leveldb_writeoptions_create();
	wb = leveldb_writebatch_create();
	for (uint64_t i = first; i < first + count && lerr == NULL;) {
		leveldb_writebatch_clear(wb);
		for (size_t j = 0; j < chunk && i < first + count; j++, i++) {
			rill_bench_key(key, cfg->key_size, i);
			leveldb_writebatch_put(wb, (const char *) key,
			    cfg->key_size,
			    (const char *) rill_bench_value(cfg, &rng),
			    cfg->value_size);
		}
		leveldb_write(ldb->db, wo, wb, &lerr);
	}
	leveldb_writebatch_destroy(wb);
	leveldb_writeoptions_destroy(wo);
	free(key);
	if (lerr != NULL) {
		rill_bench_errf(err, n, "leveldb load: %s", lerr);
		leveldb_free(lerr);
		return -1;
	}
	return 0;
}

typedef struct ldb_thr {
	rill_bench_ldb          *ldb;
	const rill_bench_config *cfg;
	leveldb_writeoptions_t  *wo;
	leveldb_readoptions_t   *ro;
	leveldb_writebatch_t    *wb;
	int                      idx;
	uint64_t                 rng;
	uint64_t                 seq;   // the next sequential key
	uint8_t                  key[]; // cfg->key_size
} ldb_thr;

static int
ldb_open(void *arg, const rill_bench_config *cfg, int idx, void **thrp,
    char *err, size_t n)
{
	ldb_thr *t;

	if ((t = calloc(1, sizeof(*t) + cfg->key_size)) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		return -1;
	}
	t->ldb = arg;
	t->cfg = cfg;
	t->idx = idx;
	t->rng = rill_bench_seed(idx);
	t->seq = cfg->key_seq != NULL ? cfg->key_seq[idx] : 0;
	t->wo  = leveldb_writeoptions_create();
	t->ro  = leveldb_readoptions_create();
	t->wb  = leveldb_writebatch_create();
	leveldb_writeoptions_set_sync(t->wo, cfg->sync);
	*thrp = t;
	return 0;
}

// take_error moves LevelDB's message into err.
static int
take_error(char *lerr, const char *what, char *err, size_t n)
{
	rill_bench_errf(err, n, "leveldb %s: %s", what, lerr);
	leveldb_free(lerr);
	return -1;
}

static int
ldb_step(void *thr, char *err, size_t n)
{
	ldb_thr                 *t   = thr;
	const rill_bench_config *cfg = t->cfg;
	leveldb_t               *db  = t->ldb->db;
	leveldb_iterator_t      *it;
	char                    *lerr = NULL, *value;
	size_t                   vlen, got;

	switch (cfg->workload) {
	case RILL_BENCH_PUT:
		rill_bench_write_key(cfg, t->key, t->idx, &t->rng, &t->seq);
		leveldb_put(db, t->wo, (const char *) t->key, cfg->key_size,
		    (const char *) rill_bench_value(cfg, &t->rng),
		    cfg->value_size, &lerr);
		return lerr == NULL ? 0 : take_error(lerr, "put", err, n);
	case RILL_BENCH_GET:
		rill_bench_key(t->key, cfg->key_size,
		    rill_bench_rand(&t->rng) % cfg->n_keys);
		value = leveldb_get(db, t->ro, (const char *) t->key,
		    cfg->key_size, &vlen, &lerr);
		if (lerr != NULL) {
			return take_error(lerr, "get", err, n);
		}
		if (value == NULL) {
			rill_bench_errf(err, n,
			    "leveldb get: a preloaded key "
			    "is missing");
			return -1;
		}
		leveldb_free(value);
		return 0;
	case RILL_BENCH_BATCH:
		leveldb_writebatch_clear(t->wb);
		for (size_t i = 0; i < cfg->batch_size; i++) {
			rill_bench_write_key(
			    cfg, t->key, t->idx, &t->rng, &t->seq);
			leveldb_writebatch_put(t->wb, (const char *) t->key,
			    cfg->key_size,
			    (const char *) rill_bench_value(cfg, &t->rng),
			    cfg->value_size);
		}
		leveldb_write(db, t->wo, t->wb, &lerr);
		return lerr == NULL ? 0 : take_error(lerr, "write", err, n);
	case RILL_BENCH_SCAN:
		rill_bench_key(t->key, cfg->key_size,
		    rill_bench_rand(&t->rng) % cfg->n_keys);
		it = leveldb_create_iterator(db, t->ro);
		leveldb_iter_seek(it, (const char *) t->key, cfg->key_size);
		for (got = 0; got < cfg->scan_length && leveldb_iter_valid(it);
		     got++) {
			size_t klen;

			(void) leveldb_iter_key(it, &klen);
			(void) leveldb_iter_value(it, &vlen);
			leveldb_iter_next(it);
		}
		leveldb_iter_get_error(it, &lerr);
		leveldb_iter_destroy(it);
		return lerr == NULL ? 0 : take_error(lerr, "scan", err, n);
	default:
		rill_bench_errf(err, n, "no such workload");
		return -1;
	}
}

static void
ldb_close(void *thr)
{
	ldb_thr *t = thr;

	if (t == NULL) {
		return;
	}
	if (t->cfg->key_seq != NULL) {
		t->cfg->key_seq[t->idx] = t->seq; // the next run goes on
	}
	leveldb_writebatch_destroy(t->wb);
	leveldb_readoptions_destroy(t->ro);
	leveldb_writeoptions_destroy(t->wo);
	free(t);
}

const rill_bench_target rill_bench_ldb_target = {
	.name         = "leveldb",
	.arg          = NULL, // set by the caller on a copy
	.thread_open  = ldb_open,
	.step         = ldb_step,
	.thread_close = ldb_close,
};
