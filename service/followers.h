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
// late.
#ifndef RILL_SERVICE_FOLLOWERS_H
#define RILL_SERVICE_FOLLOWERS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

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

// rill_followers_new makes an empty table; catalog (may be NULL) is where
// rows are persisted and loaded from. Rows older than forget_ms are
// dropped (0: 7 days).
int rill_followers_new(
    rill_followers **fp, rill_catalog *catalog, uint64_t forget_ms);
void rill_followers_free(rill_followers *f); // NULL is a no-op

// rill_followers_seen records one fetch of a follower. node_id and
// address are cut to their maximum lengths. Any thread; never blocks on
// I/O (it runs in nng callbacks).
void rill_followers_seen(rill_followers *f, const char *node_id,
    const char *address, uint64_t generation, uint64_t applied_seq,
    uint64_t applied_time_us, uint64_t now_us);

// rill_followers_list copies the rows, ordered by node id, into *outp
// (free with rill_free; NULL when empty). Any thread.
int rill_followers_list(
    rill_followers *f, rill_follower_info **outp, size_t *np);

// rill_followers_needed returns the lowest applied seq of generation
// among followers seen within window_ms of now_us (UINT64_MAX: none):
// the log after it is what they still need. Any thread.
uint64_t rill_followers_needed(rill_followers *f, uint64_t generation,
    uint64_t window_ms, uint64_t now_us);

// rill_followers_persist writes the rows to the catalog and drops the
// ones not seen for forget_ms. Blocks on disk I/O (keeper thread).
int rill_followers_persist(rill_followers *f, uint64_t now_us);

#endif // RILL_SERVICE_FOLLOWERS_H
