// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// catalog: a SQLite index of the node's history: generations, snapshots,
// log segments, and an events table (snapshot taken, retention ran,
// restore, errors). It is an index, not a source of truth: every row can be
// rebuilt from the files, which describe themselves. A catalog that is
// missing, damaged (fails PRAGMA quick_check, or is not a SQLite file), or
// of another schema version (PRAGMA application_id 0x52494c4c "RILL",
// user_version 2) is replaced by an empty one at open, which tells the
// caller to rebuild it from the files. One of version 1 (the same without
// the followers table) is upgraded in place instead, keeping its rows.
//
// The followers table (the followers seen fetching this node's log, see
// followers.h) is the one thing the files do not hold: a rebuild
// (rill_catalog_clear) keeps its rows, but a catalog replaced as damaged
// or of another version has lost them.
//
// The catalog lives at <data dir>/catalog.db (WAL journal; synchronous
// NORMAL: a crash may lose the newest rows, which the next start's
// reconciliation with the files restores).
//
// Every function may be called from any thread; one mutex serialises them.
// Listings return arrays the caller frees with rill_free.
//
// Unless said otherwise, functions return RILL_OK, RILL_EIO (logged) or
// RILL_ENOMEM. Generation 0 is not an id (a listing's generation 0 means
// every generation): a put with generation 0 returns
// RILL_INVALID_ARGUMENT. A snapshot or segment may be put before its
// generation's row (there is no foreign key); listings give such rows
// after all others.
#ifndef RILL_SERVICE_CATALOG_H
#define RILL_SERVICE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rill_catalog rill_catalog;

typedef struct rill_cat_generation {
	uint64_t id;
	uint64_t parent;     // 0: none
	uint64_t parent_seq; // the history begins after this seq
	uint64_t created_us;
} rill_cat_generation;

typedef struct rill_cat_snapshot {
	uint64_t generation;
	uint64_t seq;
	uint64_t key_count;
	uint64_t size; // file bytes
	uint64_t raw_bytes;
	uint64_t created_us;
	uint64_t state_hash;
	uint64_t duration_ms; // how long taking it took (0 when unknown,
	                      // as after a rebuild)
} rill_cat_snapshot;

typedef struct rill_cat_segment {
	uint64_t generation;
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t first_time_us; // time_us of the first and last record
	uint64_t last_time_us;
	uint64_t size;     // file bytes
	uint32_t checksum; // CRC32C of the whole file
} rill_cat_segment;

typedef struct rill_cat_event {
	int64_t  id; // grows with each event
	uint64_t time_us;
	char     kind[32]; // "snapshot", "retention", "restore", "error",
	                   // "rebuild", "backup", ...
	char detail[480];  // one line for humans, truncated to fit
} rill_cat_event;

// RILL_CAT_FOLLOWER_ID_MAX and RILL_CAT_FOLLOWER_ADDRESS_MAX bound a
// follower's node id and address in bytes (text is cut to fit, at a UTF-8
// character boundary, control characters become spaces).
#define RILL_CAT_FOLLOWER_ID_MAX 64
#define RILL_CAT_FOLLOWER_ADDRESS_MAX 256

typedef struct rill_cat_follower {
	char     node_id[RILL_CAT_FOLLOWER_ID_MAX + 1]; // the key; not empty
	char     address[RILL_CAT_FOLLOWER_ADDRESS_MAX + 1];
	uint64_t generation;      // of its position
	uint64_t applied_seq;     // the position it reported
	uint64_t applied_time_us; // time_us of the record at applied_seq
	uint64_t first_seen_us;
	uint64_t last_seen_us;
} rill_cat_follower;

// rill_catalog_open opens (creating if missing) the catalog at path.
// *freshp is set true when the catalog was created or replaced and holds
// no rows: the caller must rebuild it from the files. A damaged or
// foreign file is renamed to "<path>.damaged" (replacing an older one)
// with a warning (CATALOG-REPLACED) before a new one is made. Returns
// RILL_OK, RILL_EIO (logged) or RILL_ENOMEM.
int  rill_catalog_open(rill_catalog **cp, const char *path, bool *freshp);
void rill_catalog_close(rill_catalog *c); // NULL is a no-op

// rill_catalog_begin and rill_catalog_commit group many changes in one
// transaction (a rebuild); rill_catalog_rollback undoes them. Calls
// between them from other threads wait. Not nestable.
// rill_catalog_begin keeps the catalog's lock until rill_catalog_commit or
// rill_catalog_rollback, which must come from the same thread; that
// thread's own calls in between go through. begin inside a transaction
// and commit outside one return RILL_FAILED_PRECONDITION; rollback outside
// one is a no-op. A commit that fails (RILL_EIO) still ends the
// transaction, rolled back. Closing inside a transaction rolls it back.
int  rill_catalog_begin(rill_catalog *c);
int  rill_catalog_commit(rill_catalog *c);
void rill_catalog_rollback(rill_catalog *c);

// rill_catalog_clear removes every generation, snapshot and segment row
// (events and followers stay: the files do not hold them).
int rill_catalog_clear(rill_catalog *c);

// The put functions insert or replace the row with the same key:
// generation id; (generation, seq); (generation, first_seq).
int rill_catalog_put_generation(rill_catalog *c, const rill_cat_generation *g);
int rill_catalog_put_snapshot(rill_catalog *c, const rill_cat_snapshot *s);
int rill_catalog_put_segment(rill_catalog *c, const rill_cat_segment *s);

// The delete functions remove one row (RILL_OK also when it was absent).
// Deleting a generation deletes its snapshots and segments too.
int rill_catalog_del_generation(rill_catalog *c, uint64_t generation);
int rill_catalog_del_snapshot(
    rill_catalog *c, uint64_t generation, uint64_t seq);
int rill_catalog_del_segment(
    rill_catalog *c, uint64_t generation, uint64_t first_seq);

// rill_catalog_put_follower inserts or replaces the row of f->node_id
// (RILL_INVALID_ARGUMENT when it is empty); rill_catalog_del_follower
// removes one (RILL_OK also when it was absent).
int rill_catalog_put_follower(rill_catalog *c, const rill_cat_follower *f);
int rill_catalog_del_follower(rill_catalog *c, const char *node_id);

// rill_catalog_event records an event now: kind as above, detail a
// printf-style line. Events past the newest 10,000 are pruned. Kind and
// detail are cut to fit their fields in rill_cat_event (at a UTF-8
// character boundary), control characters such as newlines become spaces.
int rill_catalog_event(rill_catalog *c, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Listings. generation 0 means every generation.
// Generations: oldest created first.
int rill_catalog_generations(
    rill_catalog *c, rill_cat_generation **outp, size_t *np);
// rill_catalog_generation fetches one: RILL_NOT_FOUND if absent.
int rill_catalog_generation(
    rill_catalog *c, uint64_t generation, rill_cat_generation *out);
// Snapshots: by generation (in rill_catalog_generations' order), then seq.
int rill_catalog_snapshots(rill_catalog *c, uint64_t generation,
    rill_cat_snapshot **outp, size_t *np);
// rill_catalog_snapshot fetches one: RILL_NOT_FOUND if absent.
int rill_catalog_snapshot(rill_catalog *c, uint64_t generation, uint64_t seq,
    rill_cat_snapshot *out);
// Segments: by generation, then first_seq.
int rill_catalog_segments(
    rill_catalog *c, uint64_t generation, rill_cat_segment **outp, size_t *np);
// Followers: by node id (bytewise).
int rill_catalog_followers(
    rill_catalog *c, rill_cat_follower **outp, size_t *np);
// Events: the newest limit events, newest first (limit 0: none).
int rill_catalog_events(
    rill_catalog *c, size_t limit, rill_cat_event **outp, size_t *np);

#endif // RILL_SERVICE_CATALOG_H
