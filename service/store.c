// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// store: LevelDB behind rill's namespaces. User key k lives at 0x01 k;
// rill's own keys start with 0x00 ("\0applied" holds the position). The
// applied position is also cached in atomics so readers need not ask
// LevelDB for it.
#include "store.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <leveldb/c.h>
#include <rill/status.h>

#include "diag.h"
#include "mem.h"

#define NS_META 0x00
#define NS_USER 0x01

// The applied position: u64 generation | u64 seq, little-endian.
static const char applied_key[] = "\0applied";
#define APPLIED_KEY_LEN (sizeof(applied_key) - 1)
// The durable position, as the applied one: what the store held at its
// last synced write (rill_store_sync).
static const char durable_key[] = "\0durable";
#define DURABLE_KEY_LEN (sizeof(durable_key) - 1)
// A client's de-duplication mark: "\0client/" u64 id -> u64 max request id
// | u64 wall ms | u64 floor | u64 oldest seq (CLIENT_ROW_BYTES). Rows of
// the older format stop after the wall ms (CLIENT_ROW_V1_BYTES).
static const char client_prefix[] = "\0client/";
#define CLIENT_PREFIX_LEN (sizeof(client_prefix) - 1)
#define CLIENT_ROW_BYTES 32
#define CLIENT_ROW_V1_BYTES 16

struct rill_store {
	leveldb_t              *db;
	leveldb_options_t      *options;
	leveldb_cache_t        *cache;
	leveldb_filterpolicy_t *filter;
	leveldb_readoptions_t  *read_options;
	leveldb_writeoptions_t *write_options;
	_Atomic uint64_t        applied_generation;
	_Atomic uint64_t        applied_seq;
	_Atomic uint64_t        durable_generation; // 0: never synced
	_Atomic uint64_t        durable_seq;
};

// staged_op is a user op of a batch, borrowed from its wire batch until
// the commit writes it into LevelDB's batch.
typedef struct staged_op {
	const uint8_t *key;
	const uint8_t *value;
	size_t         klen;
	size_t         vlen;
	size_t         order; // its place in the batch: the tie-break
	bool           is_delete;
} staged_op;

// A commit of this many user ops or more goes to LevelDB in key order.
#define SORT_MIN 64

// client_row is the retry table row a batch will write for one client:
// one per client per commit, however many of its writes the batch holds.
typedef struct client_row {
	uint64_t         client_id; // 0: a free slot
	rill_client_mark mark;
	uint64_t         wall_ms;
	bool             forget; // delete the row instead
} client_row;

struct rill_store_batch {
	leveldb_writebatch_t *wb; // rill's own keys, then the ops at commit
	staged_op            *ops;
	size_t                n_ops;
	size_t                cap_ops;
	client_row           *rows; // open addressing on client_id
	size_t                n_rows;
	size_t                cap_rows; // 0 or a power of two
	Rill__V1__Batch     **owned; // decoded by add_encoded, freed at commit
	size_t                n_owned;
	size_t                cap_owned;
	char                 *key; // scratch for a prefixed key
	size_t                key_cap;
};

struct rill_store_iter {
	leveldb_iterator_t       *it;
	leveldb_readoptions_t    *options;
	const leveldb_snapshot_t *snapshot;
	rill_store               *store;
	char                     *key; // scratch for a prefixed seek key
	size_t                    key_cap;
};

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t) (v >> (8 * i));
	}
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v |= (uint64_t) p[i] << (8 * i);
	}
	return v;
}

// leveldb_error logs LevelDB's message, frees it and returns RILL_EIO.
static int
leveldb_error(const char *what, char *errptr)
{
	rill_diag_err("STORE-LEVELDB", "%s: %s", what, errptr);
	leveldb_free(errptr);
	return RILL_EIO;
}

// read_position reads one of the positions (key: applied_key or
// durable_key) into *genp and *seqp, 0 and 0 when absent.
static int
read_position(rill_store *store, const char *key, size_t klen,
    const char *what, uint64_t *genp, uint64_t *seqp)
{
	char  *err = NULL;
	size_t len = 0;
	char  *v =
	    leveldb_get(store->db, store->read_options, key, klen, &len, &err);

	*genp = 0;
	*seqp = 0;
	if (err != NULL) {
		return leveldb_error(what, err);
	}
	if (v == NULL) {
		return RILL_OK; // none yet
	}
	if (len != 16) {
		rill_diag_err("STORE-CORRUPT",
		    "%s record has %zu bytes, want 16", what, len);
		leveldb_free(v);
		return RILL_ECORRUPT;
	}
	*genp = get_u64((uint8_t *) v);
	*seqp = get_u64((uint8_t *) v + 8);
	leveldb_free(v);
	return RILL_OK;
}

static int
read_applied(rill_store *store)
{
	uint64_t gen, seq;
	int      rv;

	if ((rv = read_position(store, applied_key, APPLIED_KEY_LEN,
	         "applied position", &gen, &seq)) != RILL_OK) {
		return rv;
	}
	atomic_store(&store->applied_generation, gen);
	atomic_store(&store->applied_seq, seq);
	if ((rv = read_position(store, durable_key, DURABLE_KEY_LEN,
	         "durable position", &gen, &seq)) != RILL_OK) {
		return rv;
	}
	atomic_store(&store->durable_generation, gen);
	atomic_store(&store->durable_seq, seq);
	return RILL_OK;
}

int
rill_store_open(
    rill_store **storep, const char *dir, const rill_store_options *opts)
{
	rill_store *store;
	char       *err = NULL;
	int         rv;

	if ((store = rill_zalloc(sizeof(*store))) == NULL) {
		return RILL_ENOMEM;
	}
	store->options = leveldb_options_create();
	store->cache   = leveldb_cache_create_lru(
	      opts && opts->cache_bytes ? opts->cache_bytes : 8u << 20);
	store->filter = leveldb_filterpolicy_create_bloom(10);
	leveldb_options_set_create_if_missing(store->options, 1);
	leveldb_options_set_cache(store->options, store->cache);
	leveldb_options_set_filter_policy(store->options, store->filter);
	leveldb_options_set_write_buffer_size(store->options,
	    opts && opts->write_buffer_bytes ? opts->write_buffer_bytes
	                                     : 4u << 20);
	leveldb_options_set_compression(
	    store->options, leveldb_snappy_compression);
	store->read_options  = leveldb_readoptions_create();
	store->write_options = leveldb_writeoptions_create();
	// Not synced: the log is fsynced before a batch reaches the store,
	// and recovery replays the log after the applied seq.
	leveldb_writeoptions_set_sync(store->write_options, 0);

	store->db = leveldb_open(store->options, dir, &err);
	if (err != NULL) {
		rv = strstr(err, "lock") != NULL ? RILL_ELOCKED : RILL_EIO;
		rill_diag_err(
		    "STORE-OPEN", "cannot open store %s: %s", dir, err);
		leveldb_free(err);
		goto out_free;
	}
	if ((rv = read_applied(store)) != RILL_OK) {
		goto out_free;
	}
	rill_store_start_background();
	*storep = store;
	return RILL_OK;

out_free:
	rill_store_close(store);
	return rv;
}

void
rill_store_close(rill_store *store)
{
	if (store == NULL) {
		return;
	}
	if (store->db != NULL) {
		leveldb_close(store->db);
	}
	leveldb_writeoptions_destroy(store->write_options);
	leveldb_readoptions_destroy(store->read_options);
	leveldb_options_destroy(store->options);
	leveldb_filterpolicy_destroy(store->filter);
	leveldb_cache_destroy(store->cache);
	rill_free(store);
}

void
rill_store_applied(rill_store *store, uint64_t *generationp, uint64_t *seqp)
{
	*generationp = atomic_load(&store->applied_generation);
	*seqp        = atomic_load(&store->applied_seq);
}

uint64_t
rill_store_applied_seq(rill_store *store)
{
	return atomic_load(&store->applied_seq);
}

int
rill_store_batch_new(rill_store_batch **batchp)
{
	rill_store_batch *b = rill_zalloc(sizeof(*b));
	if (b == NULL) {
		return RILL_ENOMEM;
	}
	b->wb   = leveldb_writebatch_create();
	*batchp = b;
	return RILL_OK;
}

#define ROWS_KEEP 1024 // a table grown past this is freed at a clear

static void
clear_batch(rill_store_batch *batch)
{
	for (size_t i = 0; i < batch->n_owned; i++) {
		rill__v1__batch__free_unpacked(batch->owned[i], NULL);
	}
	batch->n_owned = 0;
	batch->n_ops   = 0;
	if (batch->cap_rows > ROWS_KEEP) {
		rill_free(batch->rows);
		batch->rows     = NULL;
		batch->cap_rows = 0;
	} else if (batch->n_rows > 0) {
		memset(batch->rows, 0, batch->cap_rows * sizeof(*batch->rows));
	}
	batch->n_rows = 0;
	leveldb_writebatch_clear(batch->wb);
}

void
rill_store_batch_free(rill_store_batch *batch)
{
	if (batch == NULL) {
		return;
	}
	clear_batch(batch);
	leveldb_writebatch_destroy(batch->wb);
	rill_free(batch->rows);
	rill_free(batch->ops);
	rill_free(batch->owned);
	rill_free(batch->key);
	rill_free(batch);
}

// user_key writes 0x01 key into the scratch buffer *bufp (grown as needed)
// and returns it, or NULL when out of memory.
static char *
user_key(char **bufp, size_t *capp, const void *key, size_t n)
{
	if (n + 1 > *capp) {
		size_t cap = n + 1 < 256 ? 256 : n + 1;
		char  *buf = rill_realloc(*bufp, cap);
		if (buf == NULL) {
			return NULL;
		}
		*bufp = buf;
		*capp = cap;
	}
	(*bufp)[0] = NS_USER;
	if (n > 0) {
		memcpy(*bufp + 1, key, n);
	}
	return *bufp;
}

int
rill_store_batch_add(rill_store_batch *batch, const Rill__V1__Batch *ops)
{
	if (batch->n_ops + ops->n_ops > batch->cap_ops) {
		size_t     cap = batch->cap_ops ? batch->cap_ops : 256;
		staged_op *p;
		while (cap < batch->n_ops + ops->n_ops) {
			cap *= 2;
		}
		if ((p = rill_realloc(batch->ops, cap * sizeof(*p))) == NULL) {
			return RILL_ENOMEM;
		}
		batch->ops     = p;
		batch->cap_ops = cap;
	}
	for (size_t i = 0; i < ops->n_ops; i++) {
		const Rill__V1__Op *op   = ops->ops[i];
		batch->ops[batch->n_ops] = (staged_op) {
			.key       = op->key.data,
			.klen      = op->key.len,
			.value     = op->value.data,
			.vlen      = op->value.len,
			.order     = batch->n_ops,
			.is_delete = op->type == RILL__V1__OP__TYPE__DELETE,
		};
		batch->n_ops++;
	}
	return RILL_OK;
}

int
rill_store_batch_add_encoded(
    rill_store_batch *batch, const uint8_t *data, size_t len)
{
	Rill__V1__Batch *ops;
	int              rv;

	if (batch->n_owned == batch->cap_owned) {
		size_t cap = batch->cap_owned ? 2 * batch->cap_owned : 64;
		Rill__V1__Batch **p =
		    rill_realloc(batch->owned, cap * sizeof(*p));
		if (p == NULL) {
			return RILL_ENOMEM;
		}
		batch->owned     = p;
		batch->cap_owned = cap;
	}
	if ((ops = rill__v1__batch__unpack(NULL, len, data)) == NULL) {
		return RILL_ECORRUPT;
	}
	if ((rv = rill_store_batch_add(batch, ops)) != RILL_OK) {
		rill__v1__batch__free_unpacked(ops, NULL);
		return rv;
	}
	batch->owned[batch->n_owned++] = ops;
	return RILL_OK;
}

// compare_ops orders ops by key, and ops on one key as they came, so the
// last write to a key is still the last one LevelDB sees.
static int
compare_ops(const void *a, const void *b)
{
	const staged_op *x = a, *y = b;
	size_t           n = x->klen < y->klen ? x->klen : y->klen;
	int              c = n > 0 ? memcmp(x->key, y->key, n) : 0;

	if (c != 0) {
		return c;
	}
	if (x->klen != y->klen) {
		return x->klen < y->klen ? -1 : 1;
	}
	return x->order < y->order ? -1 : x->order > y->order;
}

// write_ops moves the staged ops into LevelDB's batch. A large group goes
// in key order: LevelDB's memtable (a skip list) takes sorted inserts
// about twice as fast, its search paths staying in cache.
static int
write_ops(rill_store_batch *batch)
{
	if (batch->n_ops >= SORT_MIN) {
		qsort(
		    batch->ops, batch->n_ops, sizeof(staged_op), compare_ops);
	}
	for (size_t i = 0; i < batch->n_ops; i++) {
		const staged_op *op = &batch->ops[i];
		char            *k =
		    user_key(&batch->key, &batch->key_cap, op->key, op->klen);
		if (k == NULL) {
			return RILL_ENOMEM;
		}
		if (op->is_delete) {
			leveldb_writebatch_delete(batch->wb, k, op->klen + 1);
		} else {
			leveldb_writebatch_put(batch->wb, k, op->klen + 1,
			    (const char *) op->value, op->vlen);
		}
	}
	return RILL_OK;
}

int
rill_store_batch_put(rill_store_batch *batch, const void *key, size_t klen,
    const void *value, size_t vlen)
{
	char *k = user_key(&batch->key, &batch->key_cap, key, klen);

	if (k == NULL) {
		return RILL_ENOMEM;
	}
	leveldb_writebatch_put(batch->wb, k, klen + 1, value, vlen);
	return RILL_OK;
}

int
rill_store_batch_stage(rill_store_batch *batch)
{
	int rv = write_ops(batch);

	batch->n_ops = 0;
	return rv;
}

void
rill_store_batch_drop_added(rill_store_batch *batch)
{
	batch->n_ops = 0;
}

static void
client_key(char *buf, uint64_t client_id)
{
	memcpy(buf, client_prefix, CLIENT_PREFIX_LEN);
	put_u64((uint8_t *) buf + CLIENT_PREFIX_LEN, client_id);
}

// row_slot returns the slot of client_id in rows (cap a power of two):
// its row, or the free slot where it goes.
static client_row *
row_slot(client_row *rows, size_t cap, uint64_t client_id)
{
	size_t i = (size_t) ((client_id * 0x9E3779B97F4A7C15ull) >> 32);

	for (;; i++) {
		client_row *r = &rows[i & (cap - 1)];
		if (r->client_id == client_id || r->client_id == 0) {
			return r;
		}
	}
}

// client_row_for returns the batch's row for client_id (client_id 0 has
// none: it opts out of de-duplication), growing the table as needed; NULL
// when out of memory.
static client_row *
client_row_for(rill_store_batch *b, uint64_t client_id)
{
	client_row *r;

	if ((b->n_rows + 1) * 2 > b->cap_rows) {
		size_t      cap  = b->cap_rows ? b->cap_rows * 2 : 16;
		client_row *rows = rill_zalloc(cap * sizeof(*rows));
		if (rows == NULL) {
			return NULL;
		}
		for (size_t i = 0; i < b->cap_rows; i++) {
			if (b->rows[i].client_id != 0) {
				*row_slot(rows, cap, b->rows[i].client_id) =
				    b->rows[i];
			}
		}
		rill_free(b->rows);
		b->rows     = rows;
		b->cap_rows = cap;
	}
	r = row_slot(b->rows, b->cap_rows, client_id);
	if (r->client_id == 0) {
		r->client_id = client_id;
		b->n_rows++;
	}
	return r;
}

// raise_to sets *field to v when v is larger.
static void
raise_to(uint64_t *field, uint64_t v)
{
	if (v > *field) {
		*field = v;
	}
}

int
rill_store_batch_client(rill_store_batch *batch, uint64_t client_id,
    const rill_client_mark *mark, uint64_t wall_ms)
{
	client_row *r;

	if (client_id == 0) {
		return RILL_OK;
	}
	if ((r = client_row_for(batch, client_id)) == NULL) {
		return RILL_ENOMEM;
	}
	raise_to(&r->mark.max_request_id, mark->max_request_id);
	raise_to(&r->mark.floor, mark->floor);
	raise_to(&r->mark.oldest_seq, mark->oldest_seq);
	raise_to(&r->wall_ms, wall_ms);
	r->forget = false;
	return RILL_OK;
}

int
rill_store_batch_forget_client(rill_store_batch *batch, uint64_t client_id)
{
	client_row *r;

	if (client_id == 0) {
		return RILL_OK;
	}
	if ((r = client_row_for(batch, client_id)) == NULL) {
		return RILL_ENOMEM;
	}
	*r = (client_row) { .client_id = client_id, .forget = true };
	return RILL_OK;
}

// write_client_rows adds the batch's retry table rows to its LevelDB
// batch.
static void
write_client_rows(rill_store_batch *batch)
{
	char    key[CLIENT_PREFIX_LEN + 8];
	uint8_t val[CLIENT_ROW_BYTES];

	for (size_t i = 0; i < batch->cap_rows && batch->n_rows > 0; i++) {
		const client_row *r = &batch->rows[i];
		if (r->client_id == 0) {
			continue;
		}
		client_key(key, r->client_id);
		if (r->forget) {
			leveldb_writebatch_delete(batch->wb, key, sizeof(key));
			continue;
		}
		put_u64(val, r->mark.max_request_id);
		put_u64(val + 8, r->wall_ms);
		put_u64(val + 16, r->mark.floor);
		put_u64(val + 24, r->mark.oldest_seq);
		leveldb_writebatch_put(batch->wb, key, sizeof(key),
		    (const char *) val, sizeof(val));
	}
}

int
rill_store_clients(rill_store *store, rill_store_client_fn fn, void *arg)
{
	leveldb_iterator_t *it =
	    leveldb_create_iterator(store->db, store->read_options);
	int   rv  = RILL_OK;
	char *err = NULL;

	leveldb_iter_seek(it, client_prefix, CLIENT_PREFIX_LEN);
	for (; leveldb_iter_valid(it); leveldb_iter_next(it)) {
		size_t           klen, vlen;
		const char      *k = leveldb_iter_key(it, &klen);
		const char      *v = leveldb_iter_value(it, &vlen);
		rill_client_mark mark;

		if (klen < CLIENT_PREFIX_LEN ||
		    memcmp(k, client_prefix, CLIENT_PREFIX_LEN) != 0) {
			break;
		}
		if (klen != CLIENT_PREFIX_LEN + 8 ||
		    (vlen != CLIENT_ROW_BYTES &&
		        vlen != CLIENT_ROW_V1_BYTES)) {
			rill_diag_err("STORE-CORRUPT",
			    "client record of %zu/%zu bytes, want %zu/%d (or "
			    "%zu/%d, the older format)",
			    klen, vlen, CLIENT_PREFIX_LEN + 8,
			    CLIENT_ROW_BYTES, CLIENT_PREFIX_LEN + 8,
			    CLIENT_ROW_V1_BYTES);
			rv = RILL_ECORRUPT;
			break;
		}
		mark.max_request_id = get_u64((const uint8_t *) v);
		if (vlen == CLIENT_ROW_BYTES) {
			mark.floor      = get_u64((const uint8_t *) v + 16);
			mark.oldest_seq = get_u64((const uint8_t *) v + 24);
		} else {
			// The older row kept the highest id alone: which ids
			// below it were applied is unknown.
			mark.floor      = mark.max_request_id;
			mark.oldest_seq = RILL_CLIENT_MARK_UNCOVERED;
		}
		rv = fn(arg, get_u64((const uint8_t *) k + CLIENT_PREFIX_LEN),
		    &mark, get_u64((const uint8_t *) v + 8));
		if (rv != RILL_OK) {
			break;
		}
	}
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	if (err != NULL) {
		return leveldb_error("list clients", err);
	}
	return rv;
}

int
rill_store_commit(rill_store *store, rill_store_batch *batch,
    uint64_t generation, uint64_t seq)
{
	uint8_t pos[16];
	char   *err = NULL;
	int     rv;

	if ((rv = write_ops(batch)) != RILL_OK) {
		clear_batch(batch);
		return rv;
	}
	write_client_rows(batch);
	put_u64(pos, generation);
	put_u64(pos + 8, seq);
	leveldb_writebatch_put(batch->wb, applied_key, APPLIED_KEY_LEN,
	    (char *) pos, sizeof(pos));
	leveldb_write(store->db, store->write_options, batch->wb, &err);
	clear_batch(batch);
	if (err != NULL) {
		return leveldb_error("commit batch", err);
	}
	atomic_store(&store->applied_generation, generation);
	atomic_store(&store->applied_seq, seq);
	return RILL_OK;
}

int
rill_store_sync(rill_store *store)
{
	leveldb_writeoptions_t *wo  = leveldb_writeoptions_create();
	leveldb_writebatch_t   *wb  = leveldb_writebatch_create();
	char                   *err = NULL;
	uint8_t                 pos[16];
	// Read before the write: every commit that set these is in
	// LevelDB's log ahead of it, so the synced write makes it durable.
	uint64_t gen = atomic_load(&store->applied_generation);
	uint64_t seq = atomic_load(&store->applied_seq);

	put_u64(pos, gen);
	put_u64(pos + 8, seq);
	leveldb_writebatch_put(
	    wb, durable_key, DURABLE_KEY_LEN, (const char *) pos, sizeof(pos));
	leveldb_writeoptions_set_sync(wo, 1);
	leveldb_write(store->db, wo, wb, &err);
	leveldb_writebatch_destroy(wb);
	leveldb_writeoptions_destroy(wo);
	if (err != NULL) {
		return leveldb_error("sync", err);
	}
	atomic_store(&store->durable_generation, gen);
	atomic_store(&store->durable_seq, seq);
	return RILL_OK;
}

bool
rill_store_durable(rill_store *store, uint64_t *generationp, uint64_t *seqp)
{
	*generationp = atomic_load(&store->durable_generation);
	*seqp        = atomic_load(&store->durable_seq);
	return *generationp != 0;
}

int
rill_store_get(rill_store *store, const void *key, size_t klen, char **valuep,
    size_t *lenp)
{
	char   stack[256];
	char  *buf = stack;
	size_t cap = sizeof(stack);
	char  *err = NULL;
	char  *v;
	size_t len;

	if (klen + 1 > sizeof(stack)) {
		buf = NULL;
		cap = 0;
		if (user_key(&buf, &cap, key, klen) == NULL) {
			return RILL_ENOMEM;
		}
	} else {
		stack[0] = NS_USER;
		if (klen > 0) {
			memcpy(stack + 1, key, klen);
		}
	}
	v = leveldb_get(
	    store->db, store->read_options, buf, klen + 1, &len, &err);
	if (buf != stack) {
		rill_free(buf);
	}
	if (err != NULL) {
		return leveldb_error("get", err);
	}
	if (v == NULL) {
		return RILL_NOT_FOUND;
	}
	*valuep = v;
	*lenp   = len;
	return RILL_OK;
}

void
rill_store_value_free(char *value)
{
	if (value != NULL) {
		leveldb_free(value);
	}
}

int
rill_store_iter_new(rill_store *store, rill_store_iter **iterp, uint64_t *seqp)
{
	rill_store_iter *iter = rill_zalloc(sizeof(*iter));

	if (iter == NULL) {
		return RILL_ENOMEM;
	}
	iter->store    = store;
	iter->snapshot = leveldb_create_snapshot(store->db);
	iter->options  = leveldb_readoptions_create();
	leveldb_readoptions_set_snapshot(iter->options, iter->snapshot);
	// The seq is read through the view itself: the position record is
	// committed in the same batch as the ops, so the view holds exactly
	// the writes up to it.
	if (seqp != NULL) {
		char  *err = NULL;
		size_t len = 0;
		char  *v   = leveldb_get(store->db, iter->options, applied_key,
		       APPLIED_KEY_LEN, &len, &err);
		if (err != NULL || (v != NULL && len != 16)) {
			leveldb_free(v);
			leveldb_readoptions_destroy(iter->options);
			leveldb_release_snapshot(store->db, iter->snapshot);
			rill_free(iter);
			return err != NULL
			    ? leveldb_error("read applied position", err)
			    : RILL_ECORRUPT;
		}
		*seqp = v != NULL ? get_u64((uint8_t *) v + 8) : 0;
		leveldb_free(v);
	}
	iter->it = leveldb_create_iterator(store->db, iter->options);
	*iterp   = iter;
	return RILL_OK;
}

int
rill_store_iter_status(rill_store_iter *iter)
{
	char *err = NULL;

	leveldb_iter_get_error(iter->it, &err);
	return err != NULL ? leveldb_error("read through an iterator", err)
	                   : RILL_OK;
}

void
rill_store_iter_free(rill_store_iter *iter)
{
	if (iter == NULL) {
		return;
	}
	leveldb_iter_destroy(iter->it);
	leveldb_readoptions_destroy(iter->options);
	leveldb_release_snapshot(iter->store->db, iter->snapshot);
	rill_free(iter->key);
	rill_free(iter);
}

void
rill_store_iter_seek(rill_store_iter *iter, const void *key, size_t n)
{
	char *k = user_key(&iter->key, &iter->key_cap, key, n);
	if (k == NULL) {
		// Out of memory: leave the iterator invalid rather than wrong.
		leveldb_iter_seek_to_last(iter->it);
		leveldb_iter_next(iter->it);
		return;
	}
	leveldb_iter_seek(iter->it, k, n + 1);
}

void
rill_store_iter_seek_first(rill_store_iter *iter)
{
	const char first = NS_USER;
	leveldb_iter_seek(iter->it, &first, 1);
}

void
rill_store_iter_seek_last(rill_store_iter *iter)
{
	// The first key past the user namespace, then one step back.
	const char past = NS_USER + 1;
	leveldb_iter_seek(iter->it, &past, 1);
	if (leveldb_iter_valid(iter->it)) {
		leveldb_iter_prev(iter->it);
	} else {
		leveldb_iter_seek_to_last(iter->it);
	}
}

void
rill_store_iter_next(rill_store_iter *iter)
{
	leveldb_iter_next(iter->it);
}

void
rill_store_iter_prev(rill_store_iter *iter)
{
	leveldb_iter_prev(iter->it);
}

bool
rill_store_iter_valid(rill_store_iter *iter)
{
	size_t      n;
	const char *k;

	if (!leveldb_iter_valid(iter->it)) {
		return false;
	}
	k = leveldb_iter_key(iter->it, &n);
	return n >= 1 && k[0] == NS_USER;
}

const char *
rill_store_iter_key(rill_store_iter *iter, size_t *lenp)
{
	size_t      n;
	const char *k = leveldb_iter_key(iter->it, &n);
	*lenp         = n - 1;
	return k + 1;
}

const char *
rill_store_iter_value(rill_store_iter *iter, size_t *lenp)
{
	return leveldb_iter_value(iter->it, lenp);
}

uint64_t
rill_store_approximate_memory(rill_store *store)
{
	char *v = leveldb_property_value(
	    store->db, "leveldb.approximate-memory-usage");
	uint64_t n = 0;
	if (v != NULL) {
		n = strtoull(v, NULL, 10);
		leveldb_free(v);
	}
	return n;
}
