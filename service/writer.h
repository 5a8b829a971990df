// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// writer: what changes the keyspace, one group at a time. It takes every
// write queued since its last turn as one group, gives each a seq, appends
// them to the log, makes the group durable with one fdatasync (sync policy
// "always"), applies the group to the store in one LevelDB batch, and only
// then acknowledges each write. Retries are answered from the dedup table.
//
//   submit (any thread) ─► queue ─► [committer] dedup ─► log append
//        ─► log flush + fdatasync ─► store commit ─► done callbacks
//
// The committer is the writer thread under "always". Under "interval" and
// "none", where no commit waits for the disk, it is the submitting thread
// that found nobody committing (it commits what others queued meanwhile
// too); the writer thread then takes what is left, the interval's
// fdatasync and the housekeeping. Under these two policies a group is
// acknowledged once it is in the log and staged for the store; staged
// groups reach the store together, at most about a millisecond later, or
// as soon as a read asks (rill_writer_settle).
//
// An acknowledgement therefore promises: the write is in the log (durable
// under "always") and visible to every read that starts after it and
// calls rill_writer_settle first.
#ifndef RILL_SERVICE_WRITER_H
#define RILL_SERVICE_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "rill/v1/rill.pb-c.h"
#include "store.h"

typedef struct rill_writer rill_writer;
typedef struct rill_write  rill_write;

// rill_write_done_fn reports the outcome of a write, on the committing
// thread (see above: under "interval" and "none" that may be a submitter,
// and the write's own submitter inside rill_writer_submit): code RILL_OK with
// the seq it was committed at (duplicate tells that it answers a retry of a
// write applied earlier), or a failure. After it returns the writer no longer
// touches w.
typedef void (*rill_write_done_fn)(
    rill_write *w, int code, uint64_t seq, bool duplicate);

// rill_write is one queued write, owned by the submitter (for example
// embedded in an RPC context); the batch is borrowed until done runs.
struct rill_write {
	rill_write            *next; // the writer's queue link
	uint64_t               client_id;
	uint64_t               request_id;
	uint32_t               attempt;
	const Rill__V1__Batch *batch;
	size_t                 batch_bytes; // packed size, set by submit
	uint64_t               submit_ns;   // monotonic, set by submit
	rill_write_done_fn     done;
};

typedef struct rill_writer_options {
	uint64_t              generation;
	enum rill_sync_policy sync;
	uint64_t              sync_interval_ms;
	uint32_t              dedup_per_client;
	uint64_t              dedup_idle_ms;
	// dedup, if set, is the retry table to start from, which the writer
	// takes over (also when the open fails): a promoted follower's, which
	// knows the writes its old leader acknowledged, live up to the
	// store's applied seq (it is neither restored from the store's client
	// marks nor refilled again). NULL: a new one, restored and refilled
	// from the log's newest dedup_refill_records records.
	struct rill_dedup *dedup;
	// dedup_refill_records is how many of the log's newest records
	// refill a new table (0: RILL_DEDUP_REFILL_RECORDS, as the server
	// uses; a test may use fewer).
	uint64_t      dedup_refill_records;
	rill_metrics *metrics; // may be NULL
	// on_commit, if set, runs on the committer after each group is
	// in the log and in (or staged for) the store, before the group is
	// acknowledged: the hook that wakes the log's long-polls and the
	// reads waiting for a seq (which settle before they look again). It
	// must not block.
	void (*on_commit)(void *arg);
	void *on_commit_arg;
} rill_writer_options;

// rill_writer_open brings the store up to the log's last seq (replaying
// the records after the store's applied seq), rebuilds the dedup table
// from the store's client marks and the log's recent records (unless it
// was given one), and starts the writer thread. It blocks for the replay.
// The log and store must outlive the writer.
int rill_writer_open(rill_writer **writerp, rill_log *log, rill_store *store,
    const rill_writer_options *opts);

// rill_writer_submit queues w. It returns RILL_OK (done will run exactly
// once, maybe before this returns), or RILL_UNAVAILABLE when the writer is
// closing or has failed (done will not run). Any thread. Under "always" it
// never waits on I/O; under "interval" and "none" it may commit, which
// writes to the page cache and LevelDB (and may wait on LevelDB's write
// stall when compaction falls behind) but never waits on an fdatasync.
int rill_writer_submit(rill_writer *writer, rill_write *w);

// rill_writer_settle makes the store hold every write acknowledged so far,
// applying the staged ones if need be: a read of the store that starts
// after it returns sees every write whose done ran before it was called.
// RILL_OK, or RILL_UNAVAILABLE when the writer failed (the store may then
// miss acknowledged writes, which a restart replays from the log). Any
// thread but a committer; not after rill_writer_close. Under "always" it
// returns at once. Under the other policies, when writes are staged, it
// applies them (one LevelDB write) or waits while a committer finishes its
// turn: never on an fdatasync, but, as a write does, on LevelDB's write
// stall when compaction falls behind.
int rill_writer_settle(rill_writer *writer);

// rill_writer_settle_key is rill_writer_settle for a read of key alone: it
// returns at once when no staged write touches key (a filter of the staged
// keys tells, with few false alarms), so that the store's value of key is
// that of every write acknowledged so far.
int rill_writer_settle_key(rill_writer *writer, const void *key, size_t len);

// rill_writer_acked_seq returns the last seq a done callback may have
// reported so far (the store may not hold it yet). Any thread.
uint64_t rill_writer_acked_seq(rill_writer *writer);

// rill_writer_close stops taking writes, finishes every queued one (each
// done runs), applies what is staged, syncs the log, and joins the thread.
// NULL is a no-op.
void rill_writer_close(rill_writer *writer);

// rill_writer_failed tells whether an I/O error stopped the writer; it then
// refuses writes until the server restarts. Any thread.
bool rill_writer_failed(rill_writer *writer);

// rill_writer_stats are counters since start. Any thread.
typedef struct rill_writer_stats {
	uint64_t writes;     // writes committed
	uint64_t duplicates; // retries answered from the dedup table
	uint64_t groups;     // groups committed (fdatasyncs under "always")
	uint64_t syncs;      // fdatasyncs of the log (groups', interval's)
	uint64_t bytes;      // record bytes appended to the log
	uint64_t applies;    // LevelDB writes of groups to the store
} rill_writer_stats;
void rill_writer_get_stats(rill_writer *writer, rill_writer_stats *stats);

#endif // RILL_SERVICE_WRITER_H
