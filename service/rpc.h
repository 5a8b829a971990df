// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// rpc: the nng REP socket that serves the wire contract. A pool of
// contexts, each driven by its aio callback, keeps many requests in flight
// on one socket. Reads are served in the callback (LevelDB reads are short
// and bounded: a page of a scan at most); writes are handed to the writer,
// whose thread sends the reply; nothing blocks an nng thread on I/O waits.
//
// Every request is checked before it is acted on: undecodable bytes, a
// missing or unknown RPC, an empty key, a key, value or batch over the
// limits, a scan whose start is after its end: each gets a clear status and
// message, nothing is written, and the connection stays up. A message over
// max_request_bytes gets RESOURCE_EXHAUSTED; one over twice that never
// reaches rill: nng drops the sender's connection without a reply.
#ifndef RILL_SERVICE_RPC_H
#define RILL_SERVICE_RPC_H

#include <stdint.h>

#include "catalog.h"
#include "datadir.h"
#include "followers.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "writer.h"

typedef struct rill_rpc rill_rpc;

// rill_rpc_follow_fn fills what a follower adds to Status: its lag behind
// the leader in records and the snapshot downloads it made.
typedef void (*rill_rpc_follow_fn)(
    void *arg, uint64_t *lag_recordsp, uint64_t *bootstrapsp);

typedef struct rill_rpc_options {
	const char *listen;     // an nng URL: tcp://127.0.0.1:7400
	uint32_t    n_contexts; // requests served at once
	uint64_t    max_request_bytes;
	uint64_t    max_key_bytes;
	uint64_t    max_value_bytes;
	// What Status reports.
	const char *node_id;
	uint64_t    started_ms; // monotonic
	// tokens: the auth tokens a request must carry (none: no check);
	// borrowed, valid until rill_rpc_close.
	const char *const *tokens;
	size_t             n_tokens;
	// History, for GetSnapshot and for FetchLog from an older generation
	// (both may be NULL: none served).
	rill_datadir   *dd;
	rill_catalog   *catalog;
	rill_metrics   *metrics;   // may be NULL
	rill_followers *followers; // where fetching followers are recorded
	                           // (may be NULL)
	rill_rpc_follow_fn follow_stats; // may be NULL
	void              *follow_arg;
	// drop_reply_every: for tests, drop the reply of every Nth write
	// after it commits (0: never), as if the network lost it.
	uint32_t drop_reply_every;
} rill_rpc_options;

// rill_generation_info is one generation of a lineage: where it began.
typedef struct rill_generation_info {
	uint64_t id;
	uint64_t parent; // 0: none
	uint64_t parent_seq;
	uint64_t created_us;
} rill_generation_info;

// rill_rpc_node is what the rpc serves: the parts of the node as it is
// now. A node changes them when it bootstraps, moves to a new generation
// or is promoted.
typedef struct rill_rpc_node {
	rill_store  *store;  // NULL: reads answer UNAVAILABLE (why: below)
	rill_log    *log;    // NULL with store
	rill_writer *writer; // NULL: writes answer NOT_LEADER
	uint64_t     generation;
	const char  *role;   // "leader" or "follower"
	const char  *leader; // the leader's address (NOT_LEADER hint, Status)
	const char  *why;    // with no store: the reason reads are refused
	// lineage: the current generation first, then its ancestors.
	const rill_generation_info *lineage;
	size_t                      n_lineage;
} rill_rpc_node;

// rill_rpc_open listens on opts->listen and starts serving. Until
// rill_rpc_set_node, every RPC but Status answers UNAVAILABLE. The
// strings in opts are copied.
int rill_rpc_open(rill_rpc **rpcp, const rill_rpc_options *opts);

// rill_rpc_set_node makes the rpc serve node (copied; its parts must
// stay open until the next call), or nothing (NULL: requests answer
// UNAVAILABLE with a short retry hint). It waits for the requests being
// handled with the old parts, and wakes every parked long-poll so that
// it is answered against the new ones. Writes the old writer holds are
// its own to finish: close it after this call. Any thread but an rpc
// callback.
void rill_rpc_set_node(rill_rpc *rpc, const rill_rpc_node *node);

// rill_rpc_notify tells the rpc that the log or the store moved on, so
// that parked FetchLog long-polls and reads waiting for a min_seq are
// answered. Any thread; never blocks on I/O.
void rill_rpc_notify(rill_rpc *rpc);

// rill_rpc_quiesce stops taking requests and waits (up to wait_ms) until
// every request already taken has been answered; writes in flight finish,
// so the writer must still run. Parked long-polls are answered at once.
void rill_rpc_quiesce(rill_rpc *rpc, uint64_t wait_ms);

// rill_rpc_close closes the socket and frees the rpc. NULL is a no-op.
void rill_rpc_close(rill_rpc *rpc);

#endif // RILL_SERVICE_RPC_H
