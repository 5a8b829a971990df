// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// store: the LevelDB keyspace, the materialised view of the log. Each
// committed batch also records the position (generation, seq) it brings
// the store to, in the same LevelDB write batch, so a restart replays only
// the records after it.
//
// Every byte string is a valid user key, so the namespaces are told apart
// by a first byte that rill adds: user key k is stored as 0x01 k, and
// rill's own keys start with 0x00. No user key can reach or see them.
// ("\0applied" and "\0durable" hold positions, "\0client/" retry marks.)
//
// One thread (the writer) commits; any thread may read concurrently.
#ifndef RILL_SERVICE_STORE_H
#define RILL_SERVICE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client_mark.h"
#include "rill/v1/rill.pb-c.h"

typedef struct rill_store       rill_store;
typedef struct rill_store_batch rill_store_batch;
typedef struct rill_store_iter  rill_store_iter;

typedef struct rill_store_options {
	size_t cache_bytes;        // LevelDB block cache (0: 8 MiB)
	size_t write_buffer_bytes; // LevelDB memtable (0: 4 MiB, LevelDB's)
} rill_store_options;

// rill_store_open opens the keyspace in dir, creating it if missing. On
// success the caller owns *storep; on error *storep is untouched and the
// cause is logged (RILL_ELOCKED when another process holds dir).
int rill_store_open(
    rill_store **storep, const char *dir, const rill_store_options *opts);
void rill_store_close(rill_store *store); // NULL is a no-op

// rill_store_start_background starts LevelDB's background thread, which
// every store of the process shares for its flushes and compactions, from
// the calling thread: it inherits that thread's CPU affinity and
// scheduling policy. Otherwise LevelDB would start it at the first
// compaction, from whichever thread writes then. The thread is named
// "rill:leveldb". Any thread; rill_store_open calls it too, and a call
// after the first only names the thread again. (store_background.cc:
// LevelDB's C API has no call for it.)
void rill_store_start_background(void);

// rill_store_sync makes every write the store took durable and records
// the applied position it reached as the durable one (in a synced write:
// LevelDB syncs the tables it writes, not its own log, which holds the
// writes since the last table). For the end of a bulk load, a generation
// change, and now and then (the keeper): the log and replay make a live
// store durable, from the durable position (see rill_store_durable).
int rill_store_sync(rill_store *store);

// rill_store_durable gives the position of the last rill_store_sync, which
// every write up to it survives. false when the store was never synced.
// After a power cut, LevelDB may come back without some writes before its
// applied position but with later ones (its unsynced log lost a page in
// the middle): replay must start from here, not from the applied seq.
// Any thread.
bool rill_store_durable(
    rill_store *store, uint64_t *generationp, uint64_t *seqp);

// rill_store_applied returns the position the store holds: the generation
// and seq of the last committed batch (0 and 0 when empty). Any thread.
void rill_store_applied(
    rill_store *store, uint64_t *generationp, uint64_t *seqp);
// rill_store_applied_seq returns the applied seq alone. Any thread.
uint64_t rill_store_applied_seq(rill_store *store);

// rill_store_batch_new returns an empty batch to fill and commit.
int  rill_store_batch_new(rill_store_batch **batchp);
void rill_store_batch_free(rill_store_batch *batch); // NULL is a no-op
// rill_store_batch_add adds the ops of a wire batch, in order. The ops are
// borrowed, not copied: ops must stay valid until the batch is staged or
// committed.
int rill_store_batch_add(rill_store_batch *batch, const Rill__V1__Batch *ops);
// rill_store_batch_add_encoded decodes a protobuf Batch and adds its ops;
// RILL_ECORRUPT if the bytes do not decode.
int rill_store_batch_add_encoded(
    rill_store_batch *batch, const uint8_t *data, size_t len);
// rill_store_batch_put puts one user pair into batch at once, copied, ahead
// of any op staged by the add functions: for bulk loads in key order.
int rill_store_batch_put(rill_store_batch *batch, const void *key, size_t klen,
    const void *value, size_t vlen);
// rill_store_batch_stage copies the ops added so far into batch, as a
// commit would write them: from then on they no longer borrow the callers'
// buffers. A commit writes them ahead of the ops added after. RILL_ENOMEM
// on failure (the batch must then be committed or freed only).
int rill_store_batch_stage(rill_store_batch *batch);
// rill_store_batch_drop_added forgets the ops added since the last stage
// (they borrow buffers their callers may free now), keeping what was
// staged: after an add failed half-way.
void rill_store_batch_drop_added(rill_store_batch *batch);

// rill_store_batch_client records in batch client_id's de-duplication
// mark (client_mark.h) at wall-clock time wall_ms (dedup keeps it across
// restarts); rill_store_batch_forget_client removes the record. A commit
// writes one record per client, each field the largest the batch was given
// for it since its last forget (the fields only grow as a client writes,
// so that is its mark after the batch's last write): a group of many
// writes from one client costs one row. Client id 0 (no de-duplication)
// has no record. RILL_ENOMEM on failure.
int rill_store_batch_client(rill_store_batch *batch, uint64_t client_id,
    const rill_client_mark *mark, uint64_t wall_ms);
int rill_store_batch_forget_client(
    rill_store_batch *batch, uint64_t client_id);

// rill_store_clients calls fn for each client record, in no useful order;
// mark is valid during the call. A record of the older format, which held
// only the highest request id and the time, comes with floor equal to that
// id and oldest_seq RILL_CLIENT_MARK_UNCOVERED. A record of any other size
// is RILL_ECORRUPT (logged). A return other than RILL_OK from fn ends the
// walk and is returned.
typedef int (*rill_store_client_fn)(void *arg, uint64_t client_id,
    const rill_client_mark *mark, uint64_t wall_ms);
int rill_store_clients(rill_store *store, rill_store_client_fn fn, void *arg);

// rill_store_commit writes batch atomically together with the position
// (generation, seq) it brings the store to, then clears batch for reuse
// (also on failure). The ops of a large batch are written in key order,
// each key's ops kept in the order they were added.
// Not synced: the log is what makes writes durable. One thread at a time
// (the writer's committer, see writer.h).
int rill_store_commit(rill_store *store, rill_store_batch *batch,
    uint64_t generation, uint64_t seq);

// rill_store_get reads key. It returns RILL_OK with *valuep (free with
// rill_store_value_free) and *lenp, or RILL_NOT_FOUND. Any thread.
int  rill_store_get(rill_store *store, const void *key, size_t klen,
     char **valuep, size_t *lenp);
void rill_store_value_free(char *value); // NULL is a no-op

// rill_store_iter_new opens an iterator over the user keys, reading one
// consistent view; *seqp (if not NULL) gets the applied seq of that view.
// Any thread; the iterator is used by one thread at a time.
int rill_store_iter_new(
    rill_store *store, rill_store_iter **iterp, uint64_t *seqp);
void rill_store_iter_free(rill_store_iter *iter); // NULL is a no-op
// Positioning, as LevelDB's: seek goes to the first key >= key; seek_last
// goes to the last user key. After each call, valid tells whether the
// iterator sits on a user key.
void rill_store_iter_seek(rill_store_iter *iter, const void *key, size_t n);
void rill_store_iter_seek_first(rill_store_iter *iter);
void rill_store_iter_seek_last(rill_store_iter *iter);
void rill_store_iter_next(rill_store_iter *iter);
void rill_store_iter_prev(rill_store_iter *iter);
bool rill_store_iter_valid(rill_store_iter *iter);
// rill_store_iter_status tells, once valid is false, whether the walk
// ended at the end of the keys (RILL_OK) or on an error (logged): a
// reader of the whole keyspace must check it before trusting the walk.
int rill_store_iter_status(rill_store_iter *iter);
// key and value point into the iterator, valid until it moves.
const char *rill_store_iter_key(rill_store_iter *iter, size_t *lenp);
const char *rill_store_iter_value(rill_store_iter *iter, size_t *lenp);

// rill_store_approximate_memory returns LevelDB's memory estimate.
uint64_t rill_store_approximate_memory(rill_store *store);

#endif // RILL_SERVICE_STORE_H
