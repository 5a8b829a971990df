// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// upstream: a follower's connection to the node it follows. One REQ
// socket with one context, used by one thread (the follow loop), with at
// most one call in flight: start sends a request, finish waits for its
// answer, so a fetch can travel while the previous batch is applied.
// Any other thread may cancel: the call in flight and every later one end
// with RILL_CANCELLED (how a promotion or a shutdown stops the loop).
//
// Writes are never sent here; nng's own resend is off, and a call that
// gets no answer in time fails with RILL_UNAVAILABLE (the loop retries).
#ifndef RILL_SERVICE_UPSTREAM_H
#define RILL_SERVICE_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "rill/v1/rill.pb-c.h"
#include "snapshot.h"

typedef struct rill_upstream rill_upstream;

// rill_upstream_open starts dialing url (it does not wait for a
// connection); every request carries auth_token (NULL: none; copied).
// RILL_INVALID_ARGUMENT for a URL nng refuses.
int rill_upstream_open(
    rill_upstream **upp, const char *url, const char *auth_token);
void rill_upstream_close(rill_upstream *up); // NULL is a no-op

// rill_upstream_url returns the URL given to open.
const char *rill_upstream_url(const rill_upstream *up);

// rill_upstream_start sends req (request_id, client_id and auth_token are
// filled in)
// and starts waiting for its answer, for at most timeout_ms in all. It
// returns RILL_OK, RILL_UNAVAILABLE (not sent: no connection in time),
// RILL_CANCELLED or RILL_ENOMEM.
int rill_upstream_start(
    rill_upstream *up, Rill__V1__Request *req, uint32_t timeout_ms);

// rill_upstream_finish waits for the answer of the call started last and
// returns RILL_OK with *respp (any code: the caller reads it; free with
// rill__v1__response__free_unpacked), RILL_UNAVAILABLE (no answer in
// time, connection lost), RILL_CANCELLED, or RILL_EPROTO (an answer that
// does not decode or answers another request).
int rill_upstream_finish(rill_upstream *up, Rill__V1__Response **respp);

// rill_upstream_call is start then finish.
int rill_upstream_call(rill_upstream *up, Rill__V1__Request *req,
    uint32_t timeout_ms, Rill__V1__Response **respp);

// rill_upstream_cancel ends the call in flight and every later one with
// RILL_CANCELLED. Any thread.
void rill_upstream_cancel(rill_upstream *up);
bool rill_upstream_cancelled(rill_upstream *up);

// rill_upstream_download_opts says which snapshot a download fetches and
// how. All zero: the newest snapshot, FOLLOW-SNAPSHOT in log lines, 60 s
// without progress allowed.
typedef struct rill_upstream_download_opts {
	uint64_t    seq;          // the snapshot at seq (0: the newest)
	bool        at_or_before; // or the newest at or before seq
	uint64_t    before_us;    // only those taken at or before (0: any)
	uint32_t    deadline_ms;  // each chunk retried until this passes
	const char *log_tag;      // the tag of the download's log lines
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
} rill_upstream_download_opts;

// rill_upstream_download fetches the snapshot opts names (NULL: the
// newest) into path, chunk by chunk (each retried until the deadline
// passes without an answer), then checks the file whole and its state hash
// against the one the node announced. A file left at path by an
// interrupted download of the same snapshot is resumed where it stopped
// (its description is kept next to it, in path + ".info"). On RILL_OK,
// *info describes the file. RILL_DATA_LOSS when the file does not match
// what was announced; RILL_CANCELLED; RILL_UNAVAILABLE; RILL_NOT_FOUND
// when the node holds no such snapshot; RILL_EPROTO; RILL_EIO.
int rill_upstream_download(rill_upstream *up, const char *path,
    const rill_upstream_download_opts *opts, rill_snapshot_info *info);

#endif // RILL_SERVICE_UPSTREAM_H
