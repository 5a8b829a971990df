// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// keeper: the node's history, kept by one background thread. It takes
// snapshots (on demand, every snapshot_interval_ms, and when the log
// since the newest snapshot passes snapshot_log_bytes), indexes sealed
// segments and new snapshots in the catalog, copies them to the backup
// targets, and applies retention here and in each backup. Nothing it does
// blocks a write: the writer only hands it the seq range of a sealed
// segment.
//
// Layout of a generation (in a data dir and in a backup alike):
//
//   generations/<id>/GENERATION
//   generations/<id>/snapshots/<seq as %016x>.snap
//   generations/<id>/log/<first seq as %016x>.seg
//
// Every generation starts with a base snapshot at its parent seq (an
// empty one at seq 0 for a new history), so each generation can be
// restored from its own files alone.
//
// Retention (in the data dir, and in each backup with its own limits): a
// snapshot is removed when it is not among the newest retain_snapshots or
// is older than retain_age_ms (0: no age limit), but the newest snapshot
// is never removed. A segment is removed when every record in it is at or
// before the oldest snapshot kept in its generation (and, in the current
// generation, no follower needs it: below); the log after the newest
// snapshot is never removed. A generation that is not the current one and
// keeps no snapshot is removed whole.
//
// Followers (in the data dir only, not in backups): the segments of the
// current generation holding records after the lowest position of the
// followers seen within follower_window_ms (rill_followers_needed) are
// kept as well, but at most follower_retain_bytes of such segments
// beyond what the rules above keep: past that cap the oldest of them are
// removed anyway (notice FOLLOWER-RETAIN-CAP, event "retention"), and a
// follower that needed them gets OUT_OF_RANGE and re-bootstraps from a
// snapshot. Followers positioned in another generation hold nothing
// here. The keeper thread also writes the followers table to the catalog
// (rill_followers_persist) every few seconds and at close.
#ifndef RILL_SERVICE_KEEPER_H
#define RILL_SERVICE_KEEPER_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "datadir.h"
#include "followers.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

typedef struct rill_keeper rill_keeper;

typedef struct rill_keeper_options {
	rill_datadir *dd;
	rill_store   *store;
	rill_log     *log;
	rill_catalog *catalog;
	rill_metrics *metrics;
	uint64_t      generation;    // the current one
	bool          catalog_fresh; // rebuild the catalog from the files
	uint64_t      snapshot_interval_ms; // 0: never by time
	uint64_t      snapshot_log_bytes;   // 0: never by log size
	uint64_t      snapshot_max_rate;    // bytes a second (0: unpaced)
	uint32_t      retain_snapshots;     // at least 1
	uint64_t      retain_age_ms;        // 0: no age limit
	const rill_backup_config *backups;
	size_t                    n_backups;
	// Followers: retention keeps the log the followers seen within
	// follower_window_ms still need (0: none), up to
	// follower_retain_bytes beyond what it keeps anyway (see above).
	// followers may be NULL; it must outlive the keeper.
	rill_followers *followers;
	uint64_t        follower_window_ms;
	uint64_t        follower_retain_bytes;
} rill_keeper_options;

// rill_keeper_open reconciles the catalog with the files (a full rebuild
// when catalog_fresh), writes the current generation's base snapshot if
// it has none, and starts the thread. Blocks on disk I/O.
int rill_keeper_open(rill_keeper **kp, const rill_keeper_options *opts);

// rill_keeper_close stops the thread (a snapshot in progress is
// abandoned, its temporary file removed). NULL is a no-op.
void rill_keeper_close(rill_keeper *k);

// rill_keeper_shutdown tells the keeper the process is stopping: a backup
// copy under way ends at its next chunk, unfinished (the next start makes
// it again), so that a stop does not wait for a large file on a slow
// target. A close alone (a generation change) lets copies finish. NULL is
// a no-op.
void rill_keeper_shutdown(rill_keeper *k);

// rill_keeper_segment_sealed tells the keeper that the log sealed the
// segment holding first_seq..last_seq. Any thread; never blocks (it is the
// log's on_seal hook).
void rill_keeper_segment_sealed(
    void *k, uint64_t first_seq, uint64_t last_seq);

// rill_keeper_snapshot asks for a snapshot now. With wait it blocks until
// the snapshot is written and fills *out (if not NULL); without, it
// returns at once (RILL_OK: queued). A request while one runs is served
// by the next one. RILL_UNAVAILABLE once closing; RILL_EIO (and others)
// when the snapshot failed.
int rill_keeper_snapshot(rill_keeper *k, bool wait, rill_cat_snapshot *out);

// rill_keeper_retention runs retention now (it also runs after each
// snapshot and sealed segment). Blocks until done.
int rill_keeper_retention(rill_keeper *k);

// rill_keeper_stats: what the admin API reports. Any thread.
typedef struct rill_keeper_stats {
	uint64_t snapshots;      // snapshot files held now
	uint64_t snapshot_bytes; // their total size
	uint64_t newest_snapshot_seq;
	uint64_t backup_seq;       // the newest seq every backup holds
	uint64_t snapshot_running; // 1 while a snapshot is being written
	uint32_t backups;          // backup targets configured
} rill_keeper_stats;
void rill_keeper_get_stats(rill_keeper *k, rill_keeper_stats *st);

// rill_catalog_rebuild replaces the catalog's rows with what the files of
// the data dir at root hold (it reads every snapshot's header and trailer
// and scans every segment). The last segment of generation live (0: the
// newest generation) is left out: it is still written, and the catalog
// lists sealed segments only. For rilld --rebuild-catalog and for
// rill_keeper_open on a fresh catalog. Blocks on disk I/O.
int rill_catalog_rebuild(rill_catalog *c, const char *root, uint64_t live);

#endif // RILL_SERVICE_KEEPER_H
