// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// client_mark: what the retry table (dedup.h) knows of one client, in the
// form the store keeps across restarts (store.h, the "\0client/" rows).
// Both modules share this one struct and nothing else of each other.
//
// Invariant of a live table: every request id above floor that was
// applied is still remembered, and was given a seq at or after
// oldest_seq. So a table refilled from the log's records after from_seq,
// with from_seq < oldest_seq, finds every one of them again: the client's
// floor then still holds. With from_seq >= oldest_seq some may be missing,
// and every id up to max_request_id must count as possibly applied.
#ifndef RILL_SERVICE_CLIENT_MARK_H
#define RILL_SERVICE_CLIENT_MARK_H

#include <stdint.h>

typedef struct rill_client_mark {
	uint64_t max_request_id; // the highest request id applied
	uint64_t floor;          // the highest id no longer remembered
	uint64_t oldest_seq;     // seq of the oldest id remembered
} rill_client_mark;

// oldest_seq values with a meaning of their own. UNCOVERED: not known (a
// row of the older 16-byte format), so no refill covers the mark. EMPTY:
// nothing is remembered (no id above floor was applied), so every refill
// covers it.
#define RILL_CLIENT_MARK_UNCOVERED 0
#define RILL_CLIENT_MARK_EMPTY UINT64_MAX

#endif // RILL_SERVICE_CLIENT_MARK_H
