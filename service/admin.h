// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// admin: the HTTP admin API (CivetWeb), JSON by cJSON. Endpoints:
//
//   GET  /health                     200 {"status":"ok"} while the process
//                                    serves
//   GET  /ready                      200 {"ready":true}, or 503
//                                    {"ready":false,"reason":...}
//   GET  /v1/status                  node_id, role, generation, last_seq,
//                                    applied_seq, oldest_seq, version,
//                                    uptime_s, log_bytes, log_segments,
//                                    snapshot_bytes, snapshots, store_memory
//   GET  /v1/hash                    {"seq":N,"hash":"<16 hex>",
//                                    "generation":..., "keys":N}
//   GET  /v1/snapshots               {"snapshots":[record...]}
//   POST /v1/snapshots[?wait=false]  takes one: 200 with its record, or
//                                    202 {"queued":true} with wait=false
//   GET  /v1/snapshots/{gen}/{seq}   the file (application/octet-stream)
//   GET  /v1/generations             {"current":..., "generations":[...]}
//   GET  /v1/generations/{id}        the generation with its snapshots and
//                                    segments
//   GET  /v1/events[?limit=N]        the catalog's newest events
//   GET  /metrics                    Prometheus text format 0.0.4
//
// Ids are 16 lowercase hex digits; seqs in paths are decimal. Errors are
// JSON {"error": "<code>", "message": "<text>"} with the matching status:
// 400 for a malformed request (bad id, unknown query value), 401 without
// a valid bearer token on a mutating endpoint when tokens are configured,
// 404 for an unknown path or object, 405 for a wrong method (with an Allow
// header), 500/503 for failures on this side.
//
// Binding to an address other than loopback with no token configured logs
// a loud warning (ADMIN-OPEN).
#ifndef RILL_SERVICE_ADMIN_H
#define RILL_SERVICE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "datadir.h"
#include "keeper.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "writer.h"

typedef struct rill_admin rill_admin;

typedef struct rill_admin_options {
	const char         *listen; // "127.0.0.1:7401" (CivetWeb's form)
	const char *const  *tokens; // bearer tokens; none: no auth
	size_t              n_tokens;
	uint32_t            threads; // CivetWeb workers (0: 8)
	// The node's parts, which must outlive the admin API.
	rill_datadir *dd;
	rill_store   *store;
	rill_log     *log;
	rill_writer  *writer;
	rill_catalog *catalog;
	rill_keeper  *keeper;
	rill_metrics *metrics;
	const char   *role;       // "leader"
	uint64_t      generation; // the current one
	uint64_t      started_ms; // monotonic
} rill_admin_options;

// rill_admin_open starts serving. RILL_ELOCKED when the address is in
// use, RILL_INVALID_ARGUMENT for a bad listen address (both logged).
int rill_admin_open(rill_admin **ap, const rill_admin_options *opts);

// rill_admin_set_ready marks the node ready (or not, with a reason shown
// by /ready). It starts not ready ("starting"). Any thread.
void rill_admin_set_ready(rill_admin *a, bool ready, const char *reason);

// rill_admin_port returns the TCP port bound (useful with port 0).
int rill_admin_port(const rill_admin *a);

// rill_admin_close stops serving and waits for the handlers to finish.
// NULL is a no-op.
void rill_admin_close(rill_admin *a);

#endif // RILL_SERVICE_ADMIN_H
