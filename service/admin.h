// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// admin: the HTTP admin API (CivetWeb), JSON by cJSON. Endpoints:
//
//   GET  /, /index.html, /app.js,    the admin page (admin-ui/, compiled
//        /style.css, /favicon.svg    in): no token, ETag and no-cache
//   GET  /health                     200 {"status":"ok"} while the process
//                                    serves
//   GET  /ready                      200 {"ready":true}, or 503
//                                    {"ready":false,"reason":...}; also
//                                    503 "writer failed: restart rilld"
//                                    once rill_writer_failed
//   GET  /v1/status                  node_id, role, generation, last_seq,
//                                    applied_seq, oldest_seq, version,
//                                    uptime_s, log_bytes, log_segments,
//                                    snapshots, snapshot_bytes,
//                                    newest_snapshot_seq, snapshot_running,
//                                    store_memory_bytes, writer_failed,
//                                    ready
//   GET  /v1/hash                    {"seq":N,"hash":"<16 hex>",
//                                    "generation":..., "keys":N}
//   GET  /v1/snapshots               {"snapshots":[record...]}
//   POST /v1/snapshots[?wait=false]  takes one: 200 with its record, or
//                                    202 {"queued":true} with wait=false
//   GET  /v1/snapshots/{gen}/{seq}   the file (application/octet-stream)
//   GET  /v1/generations             {"current":..., "generations":[...]}
//   GET  /v1/generations/{id}        the generation with its snapshots and
//                                    segments
//   GET  /v1/events[?limit=N]        the catalog's newest events (limit 1
//                                    to 10000, default 100)
//   GET  /metrics                    Prometheus text format 0.0.4: the
//                                    counters of rill_metrics_render and
//                                    gauges read at request time
//   GET  /v1/followers               {"followers":[...]}: the followers
//                                    that fetch this node's log (see
//                                    followers.h)
//   POST /v1/promote                 on a follower: becomes a leader on a
//                                    new generation, 200 {"role":"leader",
//                                    "generation","parent","parent_seq"};
//                                    409 failed_precondition on a leader
//
// On a follower, /v1/status adds "leader" (the URL it follows),
// "follow_state" (connecting, bootstrapping, following), "lag_records",
// "lag_s" and "bootstraps", and /ready fails while it is not following
// or lags by more than ready_max_lag records.
//
// A snapshot record is {"generation","seq","keys","size","raw_bytes",
// "created_us","created" (RFC 3339 UTC),"hash","duration_ms","url"}; a
// segment {"first_seq","last_seq","first_time_us","last_time_us","size",
// "checksum" (8 hex)}; a generation {"id","parent" (null for none),
// "parent_seq","created_us","created","current"}. Numbers are JSON
// integers printed exactly. Every GET endpoint also answers HEAD.
//
// Ids are 16 lowercase hex digits; seqs in paths are decimal (no sign, no
// leading zero). Errors are JSON {"error": "<code>", "message": "<text>"}
// with the matching status: 400 invalid_argument for a malformed request
// (bad id, unknown query value such as wait=maybe), 401 unauthenticated
// without a valid bearer token on a mutating endpoint when tokens are
// configured (checked before anything else; with a WWW-Authenticate
// header), 404 not_found for an unknown path or object, 405
// method_not_allowed for a wrong method (with an Allow header), 500
// internal and 503 unavailable for failures on this side (503 also for
// the snapshot endpoints of a node without a keeper, and the history
// endpoints of a node without a catalog). Unknown query parameters are
// ignored. Paths are not normalised: "..", "%2e%2e" or "%2f" in an id is
// a 400, and the only file ever read is the snapshot file the catalog
// lists, <datadir>/generations/<gen>/snapshots/<seq as %016x>.snap.
//
// Binding to an address other than loopback with no token configured logs
// a loud warning (ADMIN-OPEN). CivetWeb ignores SIGPIPE process-wide once
// started.
#ifndef RILL_SERVICE_ADMIN_H
#define RILL_SERVICE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "datadir.h"
#include "followers.h"
#include "keeper.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "writer.h"

typedef struct rill_admin rill_admin;

// rill_admin_follow is what a follower reports about its following.
typedef struct rill_admin_follow {
	const char *leader; // the URL followed (valid during the call)
	const char *state;  // "connecting", "bootstrapping", "following"
	uint64_t    lag_records;
	double      lag_s;
	uint64_t    bootstraps;
	uint64_t    records_applied;
	bool        connected;
} rill_admin_follow;

// rill_admin_promotion is the outcome of a promotion.
typedef struct rill_admin_promotion {
	uint64_t generation;
	uint64_t parent;
	uint64_t parent_seq;
	char     message[256]; // why it failed
} rill_admin_promotion;

// rill_admin_node is the node as the admin API shows it now: it changes
// when the node bootstraps, changes generation or is promoted. store and
// log may be NULL (a follower that is bootstrapping).
typedef struct rill_admin_node {
	rill_store  *store;
	rill_log    *log;
	rill_writer *writer; // NULL on a follower
	rill_keeper *keeper;
	const char  *role;
	uint64_t     generation;
} rill_admin_node;

// rill_admin_options: dd is required; the node's parts come with
// rill_admin_set_node; catalog, metrics, followers and the callbacks may
// be NULL (the endpoints that need them answer 503, or report zeros).
// Strings are copied at open.
typedef struct rill_admin_options {
	// listen is "[host:]port" as CivetWeb takes it: "127.0.0.1:7401",
	// "localhost:0" (port 0: any free port), "7401" (every interface).
	const char        *listen;
	const char *const *tokens; // bearer tokens; none: no auth (a token
	                           // may not be empty)
	size_t   n_tokens;
	uint32_t threads; // CivetWeb workers (0: 32)
	// The parts that live as long as the admin API.
	rill_datadir   *dd;
	rill_catalog   *catalog;
	rill_metrics   *metrics;
	rill_followers *followers;
	uint64_t        started_ms;    // monotonic
	uint64_t        ready_max_lag; // records (followers)
	// follow fills *out and returns true on a follower; false on a
	// leader. Any thread.
	bool (*follow)(void *arg, rill_admin_follow *out);
	// promote makes a follower the leader (blocking until it is):
	// RILL_OK, RILL_FAILED_PRECONDITION on a leader, or a failure, with
	// out->message.
	int (*promote)(void *arg, rill_admin_promotion *out);
	void *arg; // of follow and promote
	// Set by rill_admin_set_node, under the admin's lock.
	rill_store  *store;
	rill_log    *log;
	rill_writer *writer;
	rill_keeper *keeper;
	const char  *role;
	uint64_t     generation;
} rill_admin_options;

// rill_admin_open starts serving. RILL_ELOCKED when the address is in
// use, RILL_INVALID_ARGUMENT for a bad listen address, an empty token or
// a missing required part (each logged), RILL_ENOMEM.
int rill_admin_open(rill_admin **ap, const rill_admin_options *opts);

// rill_admin_set_node shows node from now on (NULL: none, between two
// states; the endpoints that need it answer 503). It waits for the
// requests being answered with the old parts. Not from a handler.
void rill_admin_set_node(rill_admin *a, const rill_admin_node *node);

// rill_admin_set_ready marks the node ready (or not, with a reason shown
// by /ready). It starts not ready ("starting"). Any thread.
void rill_admin_set_ready(rill_admin *a, bool ready, const char *reason);

// rill_admin_port returns the TCP port bound (useful with port 0).
int rill_admin_port(const rill_admin *a);

// rill_admin_close stops serving and waits for the handlers to finish
// (a POST /v1/snapshots that waits for its snapshot included: close the
// admin API before the keeper). NULL is a no-op.
void rill_admin_close(rill_admin *a);

#endif // RILL_SERVICE_ADMIN_H
