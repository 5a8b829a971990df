// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// dedup: the table that lets the leader answer a retried write with its
// first result instead of applying it twice. It remembers, per client id,
// the seq of each of its most recent request ids.
//
// Bounds (documented in README.md): per client, the newest per_client
// request ids; a client idle for idle_ms is forgotten. A retry (attempt >
// 0) whose request id is no longer remembered is refused with ABORTED,
// never applied again: for a known client, an id at or below the highest
// one evicted. A client the table does not know (new, or idle for longer
// than idle_ms, far past any call's deadline) has every write taken as
// new: its first write may well be a retry of one lost in flight. First
// attempts are always new writes.
//
// Across a restart: each client's mark (client_mark.h: its highest
// request id, its floor and the seq of its oldest remembered id) is also
// kept in the store (written with every group), and the rings are refilled
// from the log's recent records, which carry the ids. A retry of a recent
// write is answered with its first seq. When the refill reaches back past
// the oldest id the client's ring held when its mark was stored, the floor
// survives as it was: a retry of an id above it that is in no refilled
// record was never applied (it was lost in flight) and is a new write.
// Otherwise every id up to the client's highest counts as possibly
// applied, and a retry of one not refilled is refused. Times are
// wall-clock milliseconds. The writer's committer only (one thread at a
// time, see writer.h): no locking.
#ifndef RILL_SERVICE_DEDUP_H
#define RILL_SERVICE_DEDUP_H

#include <stdint.h>

#include "client_mark.h"

typedef struct rill_dedup rill_dedup;

// How many of the log's newest records refill the rings at a start.
#define RILL_DEDUP_REFILL_RECORDS 100000

int rill_dedup_new(rill_dedup **dedupp, uint32_t per_client, uint64_t idle_ms);
void rill_dedup_free(rill_dedup *dedup); // NULL is a no-op

// rill_dedup_check looks up (client_id, request_id). It returns RILL_OK for
// a request to apply, RILL_ALREADY_EXISTS with *seqp set for one already
// applied, or RILL_ABORTED for a retry too old to tell. client_id 0 opts
// out (every request is new).
int rill_dedup_check(rill_dedup *dedup, uint64_t client_id,
    uint64_t request_id, uint32_t attempt, uint64_t *seqp);

// rill_dedup_record remembers that (client_id, request_id) was given seq;
// now_ms is the wall clock. RILL_ENOMEM on failure.
int rill_dedup_record(rill_dedup *dedup, uint64_t client_id,
    uint64_t request_id, uint64_t seq, uint64_t now_ms);

// rill_dedup_mark fills *markp with what the store keeps of client_id
// (for an unknown client: zero ids, oldest_seq RILL_CLIENT_MARK_EMPTY).
void rill_dedup_mark(
    const rill_dedup *dedup, uint64_t client_id, rill_client_mark *markp);

// rill_dedup_refill_from returns the seq after which a refill of the
// newest n_records of a log holding oldest_seq..last_seq starts.
uint64_t rill_dedup_refill_from(
    uint64_t oldest_seq, uint64_t last_seq, uint64_t n_records);

// rill_dedup_restore_client sets what the store kept of a client, before
// the log's records after from_seq refill the rings. If mark->oldest_seq
// is above from_seq (the refill holds every id the client's ring held when
// the mark was stored), the floor becomes mark->floor; otherwise every id
// up to mark->max_request_id counts as seen (a retry of one not refilled
// is refused). It only ever raises what the table knows. RILL_ENOMEM on
// failure.
int rill_dedup_restore_client(rill_dedup *dedup, uint64_t client_id,
    const rill_client_mark *mark, uint64_t from_seq, uint64_t last_used_ms);

// rill_dedup_restorer restores every client of a store into a table: pass
// rill_dedup_restore_fn with a pointer to one as rill_store_clients'
// callback and argument.
typedef struct rill_dedup_restorer {
	rill_dedup *dedup;
	uint64_t    from_seq; // as for rill_dedup_restore_client
} rill_dedup_restorer;

int rill_dedup_restore_fn(void *restorer, uint64_t client_id,
    const rill_client_mark *mark, uint64_t last_used_ms);

// rill_dedup_forget drops every record with a seq above seq (writes that
// failed before they became durable).
void rill_dedup_forget_after(rill_dedup *dedup, uint64_t seq);

// rill_dedup_expire forgets clients idle since before now_ms - idle_ms,
// calling forgotten(arg, client_id) for each (it may be NULL).
void rill_dedup_expire(rill_dedup *dedup, uint64_t          now_ms,
    void (*forgotten)(void *arg, uint64_t client_id), void *arg);

// rill_dedup_clients returns the number of clients remembered.
uint32_t rill_dedup_clients(const rill_dedup *dedup);

#endif // RILL_SERVICE_DEDUP_H
