// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// followers: the table a node keeps of the followers that fetch its log.
// Each FetchLog from a follower (one that names its node id) updates its
// row: address, the position it has applied, when it was last seen. From
// the table come GET /v1/followers, the per-follower metrics, and the
// position retention must keep the log for.
//
// The rows live in memory and are written to the catalog's followers
// table by rill_followers_persist (the keeper calls it), so a restarted
// leader still knows who followed it and keeps their log within the
// window. Rows not seen for forget_ms are dropped from both.
//
// Lag: lag_records is the node's last seq minus the follower's applied
// seq (0 when it is level or ahead); lag_s is the wall-clock time between
// the node's last record and the follower's applied record (0 when
// level), so an idle leader does not make an up-to-date follower look
// late. When either time is unknown (0: a follower that has applied
// nothing, or a node whose log holds no record) while the follower is
// behind, lag_s is the time since the follower was first seen.
//
// Rows are kept in memory under one mutex, sorted by node id; only
// rill_followers_persist does I/O, outside that mutex, so a fetch never
// waits on the disk. A catalog replaced as damaged has lost its rows: the
// table then starts empty.
#ifndef RILL_SERVICE_FOLLOWERS_H
#define RILL_SERVICE_FOLLOWERS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "catalog.h"
#include "metrics.h"

typedef struct rill_followers rill_followers;

#define RILL_FOLLOWER_ID_MAX 64
#define RILL_FOLLOWER_ADDRESS_MAX 256

typedef struct rill_follower_info {
	char     node_id[RILL_FOLLOWER_ID_MAX + 1];
	char     address[RILL_FOLLOWER_ADDRESS_MAX + 1];
	uint64_t generation;      // of its position
	uint64_t applied_seq;     // what it reported applied
	uint64_t applied_time_us; // the time_us of that record
	uint64_t first_seen_us;   // wall clock
	uint64_t last_seen_us;    // wall clock, of its last fetch
	uint64_t fetches;         // FetchLogs answered since this start
} rill_follower_info;

// rill_followers_new makes a table holding the rows of catalog's
// followers table; catalog (may be NULL: nothing is persisted) is where
// rows are persisted, and it must outlive the table. Rows older than
// forget_ms are dropped (0: 7 days). A catalog that cannot be read
// (logged) gives an empty table. Returns RILL_OK or RILL_ENOMEM. Blocks on
// disk I/O.
int rill_followers_new(
    rill_followers **fp, rill_catalog *catalog, uint64_t forget_ms);
void rill_followers_free(rill_followers *f); // NULL is a no-op

// rill_followers_seen records one fetch of a follower. node_id and
// address are cut to their maximum lengths (at a UTF-8 character
// boundary); control characters and bytes that are not UTF-8 become '?'.
// An empty node_id is ignored. The table holds at most 1024 followers
// (any client may send FetchLog with a new id): past that, a new one takes
// the place of the one seen least recently. Any thread; never blocks on
// I/O (it runs in nng callbacks).
void rill_followers_seen(rill_followers *f, const char *node_id,
    const char *address, uint64_t generation, uint64_t applied_seq,
    uint64_t applied_time_us, uint64_t now_us);

// rill_followers_list copies the rows, ordered by node id, into *outp
// (free with rill_free; NULL when empty). Any thread.
int rill_followers_list(
    rill_followers *f, rill_follower_info **outp, size_t *np);

// rill_followers_needed returns the lowest applied seq of generation
// among followers seen within window_ms of now_us (UINT64_MAX: none, and
// always for window_ms 0): the log after it is what they still need. Any
// thread.
uint64_t rill_followers_needed(rill_followers *f, uint64_t generation,
    uint64_t window_ms, uint64_t now_us);

// rill_follower_lag computes a row's lag (see "Lag" above) against the
// node's last seq and the time_us of its record; now_us is the wall
// clock.
void rill_follower_lag(const rill_follower_info *fi, uint64_t last_seq,
    uint64_t last_time_us, uint64_t now_us, uint64_t *recordsp,
    double *secondsp);

// rill_followers_json returns {"followers":[...]} for GET /v1/followers,
// one object per row, ordered by node id: node_id, address, generation
// (16 hex digits), applied_seq, applied_time_us, lag_records, lag_s
// (seconds, may be fractional), last_seen_s (seconds since its last
// fetch), first_seen_us, last_seen_us and fetches (since this start).
// last_seq and last_time_us are the node's (rill_log_last_seq and
// rill_log_last_time_us), now_us the wall clock. The caller frees it
// with cJSON_Delete; NULL when out of memory. Any thread.
cJSON *rill_followers_json(rill_followers *f, uint64_t last_seq,
    uint64_t last_time_us, uint64_t now_us);

// rill_followers_render appends to p the gauge rill_followers (rows
// held) and, when there are rows, the gauges rill_follower_applied_seq,
// rill_follower_lag_records, rill_follower_lag_seconds and
// rill_follower_last_seen_seconds, one sample per row labelled node_id
// and address; arguments as for rill_followers_json. Any thread.
void rill_followers_render(rill_followers *f, rill_prom *p, uint64_t last_seq,
    uint64_t last_time_us, uint64_t now_us);

// rill_followers_persist writes the rows changed since the last persist
// to the catalog, and drops the ones not seen for forget_ms (from memory
// and the catalog). Rows whose write failed are tried again next time.
// Returns RILL_OK or the first error (RILL_EIO, logged by the catalog;
// RILL_ENOMEM). Blocks on disk I/O (the keeper thread calls it every few
// seconds and at close); calls are serialised.
int rill_followers_persist(rill_followers *f, uint64_t now_us);

#endif // RILL_SERVICE_FOLLOWERS_H
