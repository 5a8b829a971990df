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
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "writer.h"

typedef struct rill_rpc rill_rpc;

typedef struct rill_rpc_options {
	const char *listen;     // an nng URL: tcp://127.0.0.1:7400
	uint32_t    n_contexts; // requests served at once
	uint64_t    max_request_bytes;
	uint64_t    max_key_bytes;
	uint64_t    max_value_bytes;
	// What Status reports.
	const char *node_id;
	const char *role;
	uint64_t    generation;
	uint64_t    started_ms; // monotonic
	// History, for GetSnapshot (both may be NULL: no snapshots served).
	rill_datadir *dd;
	rill_catalog *catalog;
	rill_metrics *metrics; // may be NULL
	// drop_reply_every: for tests, drop the reply of every Nth write
	// after it commits (0: never), as if the network lost it.
	uint32_t drop_reply_every;
} rill_rpc_options;

// rill_rpc_open listens on opts->listen and starts serving. store, writer
// and log must outlive the rpc. The strings in opts are copied.
int rill_rpc_open(rill_rpc **rpcp, const rill_rpc_options *opts,
    rill_store *store, rill_writer *writer, rill_log *log);

// rill_rpc_quiesce stops taking requests and waits (up to wait_ms) until
// every request already taken has been answered; writes in flight finish,
// so the writer must still run. Call it before closing the writer.
void rill_rpc_quiesce(rill_rpc *rpc, uint64_t wait_ms);

// rill_rpc_close closes the socket and frees the rpc. NULL is a no-op.
void rill_rpc_close(rill_rpc *rpc);

#endif // RILL_SERVICE_RPC_H
