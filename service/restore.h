// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// restore: builds a new data dir holding exactly the state at one point of
// a history: the newest snapshot at or before the point, then the log
// records after it up to the point. The history is read from a data dir
// (live or not: nothing in it is changed), a backup dir, or a running
// node over RPC (GetSnapshot, FetchLog).
//
// The point is a seq, a wall-clock time (the last record written at or
// before it), or by default the newest state. Seqs continue across
// generations, so a seq or time is looked up along the lineage of the
// newest generation (or of the one given): the first generation, walking
// back through parents, whose history holds it.
//
// The result starts a new generation whose parent is the restored point,
// with a base snapshot at that point, so rilld can start on it and its
// history is whole on its own. It is built under "<to>.restoring-<pid>"
// and renamed to `to` only once complete and durable: a failure leaves
// nothing at `to`. Every block and record read is checked (CRCs, the
// snapshot's count and state hash); damage fails the restore with the file
// and offset logged.
#ifndef RILL_SERVICE_RESTORE_H
#define RILL_SERVICE_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rill_restore_progress {
	const char *phase; // "download", "snapshot", "log", "finish"
	uint64_t    done;  // keys, records or bytes done in the phase
	uint64_t    total; // the phase's total, 0 when unknown
} rill_restore_progress;

typedef struct rill_restore_options {
	const char *from; // a directory, or an nng URL (tcp://, ipc://, ...)
	const char *to;   // must not exist
	uint64_t    generation; // 0: the newest generation's lineage
	bool        has_seq;    // restore to seq
	uint64_t    seq;
	bool        has_time; // restore to time_us (wall clock)
	uint64_t    time_us;
	uint32_t    timeout_ms; // per RPC (0: 10 s)
	const char *auth_token; // sent with each RPC (NULL: none)
	// catch_up_url: after restoring from a directory, go on with the
	// records after it that this node holds, up to catch_up_seq (for
	// rillctl validate, which compares the result with the node's hash
	// at that seq).
	const char *catch_up_url;
	uint64_t    catch_up_seq;
	void (*progress)(void *arg, const rill_restore_progress *p);
	void *progress_arg;
} rill_restore_options;

typedef struct rill_restore_result {
	uint64_t generation;        // the new one
	uint64_t parent_generation; // the one restored from
	uint64_t seq;               // the point restored
	uint64_t snapshot_seq;      // the snapshot it started from
	uint64_t keys;
	uint64_t records; // log records replayed
	uint64_t state_hash;
} rill_restore_result;

// rill_restore runs the restore. Each failure is logged with its cause:
// RILL_ALREADY_EXISTS (to exists), RILL_NOT_FOUND (no history at from),
// RILL_OUT_OF_RANGE (a seq beyond the history, a time before the oldest
// snapshot, a point in records no longer held), RILL_ECORRUPT (damage),
// RILL_UNAVAILABLE (the node did not answer), RILL_EIO, RILL_ENOMEM.
int rill_restore(const rill_restore_options *opts, rill_restore_result *res);

// rill_restore_node_hash asks the node at url for its state hash: the
// generation (16 hex digits into gen, 17 bytes), the applied seq it was
// taken at and the hash. auth_token as in rill_restore_options.
int rill_restore_node_hash(const char *url, const char *auth_token,
    uint32_t timeout_ms, char *gen, uint64_t *seqp, uint64_t *hashp);

// rill_restore_is_url tells whether from names a node rather than a
// directory.
bool rill_restore_is_url(const char *from);

#endif // RILL_SERVICE_RESTORE_H
