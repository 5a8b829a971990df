// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// history: what a directory laid out as a data dir's generations/ holds
// (a data dir, live or not, or a backup), read from the files alone and
// never changed: each generation with its parent position, its snapshot
// files and its segment files. Retention, the catalog rebuild, backups and
// restore all start from this listing.
#ifndef RILL_SERVICE_HISTORY_H
#define RILL_SERVICE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

typedef struct rill_hist_generation {
	uint64_t id;
	uint64_t parent; // 0: none
	uint64_t parent_seq;
	uint64_t created_us;
	// Snapshots by seq, with their header and trailer (a snapshot whose
	// header or trailer is damaged is listed with ok false).
	struct rill_hist_snapshot {
		uint64_t           seq;
		bool               ok;
		rill_snapshot_info info;
	} * snapshots;
	size_t    n_snapshots;
	uint64_t *segments; // first seqs, ascending
	size_t    n_segments;
} rill_hist_generation;

typedef struct rill_history {
	char                  root[4096];
	rill_hist_generation *gens; // oldest created first (ties: by id)
	size_t                n_gens;
} rill_history;

// rill_history_load lists root's generations/. Entries that are not
// generations, snapshots or segments (temporary files) are skipped. A
// missing generations/ is an empty history. A damaged GENERATION file is
// RILL_ECORRUPT (logged). The caller frees *hp with rill_history_free.
int  rill_history_load(const char *root, rill_history **hp);
void rill_history_free(rill_history *h); // NULL is a no-op

// rill_history_find returns the generation id, or NULL.
rill_hist_generation *rill_history_find(rill_history *h, uint64_t id);

// rill_history_verify reads every snapshot and every segment of root
// whole, checking every block and record (a segment that is the last of
// its generation may end in a torn write when allow_torn_tail, as a live
// data dir's does). Each damaged file is logged with its offset; the
// first error is returned. *filesp (if not NULL) gets the files checked.
int rill_history_verify(
    const char *root, bool allow_torn_tail, uint64_t *filesp);

// Paths of the files of a generation under root, written into buf.
// RILL_EIO if the path does not fit.
int rill_history_gen_dir(
    char *buf, size_t n, const char *root, uint64_t generation);
int rill_history_snapshot_path(
    char *buf, size_t n, const char *root, uint64_t generation, uint64_t seq);
int rill_history_segment_path(char *buf, size_t n, const char *root,
    uint64_t generation, uint64_t first_seq);

#endif // RILL_SERVICE_HISTORY_H
