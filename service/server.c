// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// server: one node. The parts that live as long as the process (data
// dir, catalog, metrics, followers table, RPC socket, admin API) are
// opened once. The parts that belong to one role and one generation
// (store, log, keeper, writer) are opened as a set, published to the rpc
// and the admin API, and closed as a set when the node bootstraps, moves
// to a new generation, or is promoted: "open_parts" and "close_parts".
//
// A leader opens its parts once. A follower runs the follow loop on a
// thread of its own:
//
//   ask the leader (Status) ─► decide from the lineage where this node
//   stands ─┬─ follow: tail the log with FetchLog long-polls, apply each
//           │          batch to the log and the store, wake the rpc
//           ├─ adopt:  the leader's history moved on to a child
//           │          generation at our position: continue in it
//           ├─ bootstrap: no usable position (none yet, retention took
//           │          it, or this node holds writes the leader never
//           │          had): download the newest snapshot, load it
//           └─ wait:   the leader is behind us (it is catching up)
//
// A promotion stops the loop and reopens the parts as a leader on a new
// generation whose parent is the position the follower reached.
#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rill/status.h>

#include "admin.h"
#include "catalog.h"
#include "clock.h"
#include "datadir.h"
#include "dedup.h"
#include "diag.h"
#include "file.h"
#include "followers.h"
#include "keeper.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "rpc.h"
#include "snapshot.h"
#include "store.h"
#include "upstream.h"
#include "writer.h"

#define LINEAGE_MAX 64
// A FetchLog long-poll waits this long on the leader; the call this much
// longer before it counts as lost.
#define FOLLOW_WAIT_MS 1000
#define FOLLOW_SLACK_MS 5000
#define FOLLOW_FETCH_BYTES (4u << 20)
#define FOLLOW_STATUS_TIMEOUT_MS 2000
#define FOLLOW_DOWNLOAD_DEADLINE_MS 30000
// Pairs loaded per store commit while a snapshot is loaded.
#define LOAD_BATCH_BYTES (4u << 20)

enum follow_state {
	FOLLOW_CONNECTING,
	FOLLOW_BOOTSTRAPPING,
	FOLLOW_FOLLOWING,
	FOLLOW_STOPPED,
	FOLLOW_REFUSED, // the leader's history would discard this node's
};

static const char *const follow_state_names[] = {
	"connecting",
	"bootstrapping",
	"following",
	"stopped",
	"refused",
};

struct rill_server {
	const rill_config *cfg;
	char              *advertise; // our RPC address as others reach it
	rill_datadir      *dd;
	rill_catalog      *catalog;
	bool               catalog_fresh;
	rill_followers    *followers;
	rill_rpc          *rpc;
	rill_admin        *admin;
	uint64_t           started_ms;
	rill_metrics       metrics;

	// promote_mu makes a promotion and a close one at a time; closing
	// (under it) turns away a promotion that waited for it, and so does
	// started (under it) until a follower's follow loop runs.
	pthread_mutex_t promote_mu;
	bool            closing;
	bool            started;

	// The parts of the current role and generation. Changed only by
	// the thread that owns them: the opener, then the follow loop, then
	// a promotion once the loop has ended.
	rill_store          *store;
	rill_log            *log;
	rill_keeper         *keeper;
	rill_writer         *writer;
	rill_dedup          *dedup; // follower: the leader's request ids
	rill_store_batch    *sb;    // follower: the batch being applied
	uint64_t             generation;
	rill_generation_info lineage[LINEAGE_MAX];
	size_t               n_lineage;

	// Following.
	rill_upstream   *up;
	pthread_t        thread;
	bool             thread_running;
	atomic_bool      stop;
	_Atomic int      follow_state; // enum follow_state
	atomic_bool      connected;
	_Atomic uint64_t applied_seq; // what the follower has applied
	_Atomic uint64_t leader_last_seq;
	_Atomic uint64_t leader_last_time_us;
	_Atomic uint64_t applied_time_us;
	_Atomic uint64_t bootstraps;
	_Atomic uint64_t records_applied;
	uint64_t         last_sync_ms;
	bool             unsynced;
	// apply_failed: an apply left records in the log's group and ops in
	// sb; the follow loop drops both before it tries again.
	bool apply_failed;
};

// Hooks ------------------------------------------------------------------

// segment_sealed forwards the log's seal hook to the keeper, which is
// opened after the log but before any write can seal a segment.
static void
segment_sealed(void *arg, uint64_t first_seq, uint64_t last_seq)
{
	rill_server *srv = arg;

	if (srv->keeper != NULL) {
		rill_keeper_segment_sealed(srv->keeper, first_seq, last_seq);
	}
}

// committed wakes the long-polls once the writer committed a group.
static void
committed(void *arg)
{
	rill_server *srv = arg;

	rill_rpc_notify(srv->rpc);
}

// follow_stats is the rpc's view of a follower, for Status.
static void
follow_stats(void *arg, uint64_t *lagp, uint64_t *bootstrapsp)
{
	rill_server *srv     = arg;
	uint64_t     leader  = atomic_load(&srv->leader_last_seq);
	uint64_t     applied = atomic_load(&srv->applied_seq);

	*lagp        = leader > applied ? leader - applied : 0;
	*bootstrapsp = atomic_load(&srv->bootstraps);
}

// admin_follow is the admin API's view of a follower.
static bool
admin_follow(void *arg, rill_admin_follow *out)
{
	rill_server *srv = arg;
	uint64_t     lt, at;

	if (srv->cfg->follow[0] == '\0' ||
	    atomic_load(&srv->follow_state) == FOLLOW_STOPPED) {
		return false;
	}
	memset(out, 0, sizeof(*out));
	out->leader = srv->cfg->follow;
	out->state  = follow_state_names[atomic_load(&srv->follow_state)];
	follow_stats(srv, &out->lag_records, &out->bootstraps);
	lt = atomic_load(&srv->leader_last_time_us);
	at = atomic_load(&srv->applied_time_us);
	out->lag_s =
	    out->lag_records > 0 && lt > at ? (double) (lt - at) / 1e6 : 0.0;
	out->records_applied = atomic_load(&srv->records_applied);
	out->connected       = atomic_load(&srv->connected);
	return true;
}

static int admin_promote(void *arg, rill_admin_promotion *out);

// Bootstrap count ----------------------------------------------------------

// The snapshot downloads a follower made are counted in <data>/FOLLOW, so
// that a restart can show it did not download again.
#define FOLLOW_FILE_MAGIC "rill-follow v1"

static void
load_bootstraps(rill_server *srv)
{
	char     path[PATH_MAX];
	uint8_t *data;
	size_t   len;
	char     text[128];
	uint64_t n = 0;

	if (rill_path_join(path, sizeof(path), rill_datadir_path(srv->dd),
	        "FOLLOW") != RILL_OK ||
	    rill_file_read_all(path, sizeof(text) - 1, &data, &len) !=
	        RILL_OK) {
		return;
	}
	memcpy(text, data, len);
	text[len] = '\0';
	rill_free(data);
	if (sscanf(text, FOLLOW_FILE_MAGIC "\nbootstraps %" SCNu64, &n) == 1) {
		atomic_store(&srv->bootstraps, n);
	}
}

static void
count_bootstrap(rill_server *srv)
{
	char     path[PATH_MAX], text[128];
	uint64_t n   = atomic_fetch_add(&srv->bootstraps, 1) + 1;
	int      len = snprintf(text, sizeof(text),
	         FOLLOW_FILE_MAGIC "\nbootstraps %" PRIu64 "\n", n);

	if (rill_path_join(path, sizeof(path), rill_datadir_path(srv->dd),
	        "FOLLOW") == RILL_OK) {
		rill_file_write_atomic(path, text, (size_t) len);
	}
}

// Parts --------------------------------------------------------------------

// load_lineage reads the GENERATION files from the current generation back
// through its parents, as far as this data dir holds them.
static void
load_lineage(rill_server *srv)
{
	uint64_t gen = srv->generation;

	srv->n_lineage = 0;
	while (gen != 0 && srv->n_lineage < LINEAGE_MAX) {
		rill_generation_info *g = &srv->lineage[srv->n_lineage];
		if (rill_datadir_read_generation(srv->dd, gen, &g->parent,
		        &g->parent_seq, &g->created_us) != RILL_OK) {
			break;
		}
		g->id = gen;
		srv->n_lineage++;
		gen = g->parent;
	}
}

// publish shows the current parts to the rpc and the admin API; why says,
// with no store, why reads are refused.
static void
publish(rill_server *srv, const char *why)
{
	const char   *role = srv->writer != NULL ? "leader" : "follower";
	rill_rpc_node rn   = {
		  .store =
                    srv->store != NULL && srv->log != NULL ? srv->store : NULL,
		  .log        = srv->log,
		  .writer     = srv->writer,
		  .generation = srv->generation,
		  .role       = role,
		  .leader =
                    srv->writer != NULL ? srv->advertise : srv->cfg->follow,
		  .why       = why,
		  .lineage   = srv->lineage,
		  .n_lineage = srv->n_lineage,
	};
	rill_admin_node an = {
		.store      = srv->log != NULL ? srv->store : NULL,
		.log        = srv->log,
		.writer     = srv->writer,
		.keeper     = srv->keeper,
		.role       = role,
		.generation = srv->generation,
	};

	rill_rpc_set_node(srv->rpc, &rn);
	if (srv->admin != NULL) {
		rill_admin_set_node(srv->admin, &an);
	}
}

// unpublish hides the parts before they close.
static void
unpublish(rill_server *srv)
{
	if (srv->rpc != NULL) {
		rill_rpc_set_node(srv->rpc, NULL);
	}
	if (srv->admin != NULL) {
		rill_admin_set_node(srv->admin, NULL);
	}
}

static int
open_store(rill_server *srv)
{
	char               path[PATH_MAX];
	rill_store_options so = {
		.cache_bytes        = srv->cfg->cache_bytes,
		.write_buffer_bytes = srv->cfg->write_buffer_bytes,
	};
	int rv;

	if ((rv = rill_datadir_store_path(srv->dd, path, sizeof(path))) !=
	    RILL_OK) {
		return rv;
	}
	return rill_store_open(&srv->store, path, &so);
}

// open_log opens the log of the current generation; an empty one starts
// after base_seq.
static int
open_log(rill_server *srv, uint64_t base_seq)
{
	char             path[PATH_MAX];
	rill_log_options lo = {
		.segment_max_bytes   = srv->cfg->segment_max_bytes,
		.segment_max_age_ms  = srv->cfg->segment_max_age_ms,
		.on_seal             = segment_sealed,
		.on_seal_arg         = srv,
		.synced_before_store = srv->cfg->sync == RILL_SYNC_ALWAYS,
		.tail_unsynced       = srv->cfg->sync == RILL_SYNC_NONE,
	};
	int rv;

	if ((rv = rill_datadir_log_path(
	         srv->dd, srv->generation, path, sizeof(path))) != RILL_OK) {
		return rv;
	}
	return rill_log_open(&srv->log, path, srv->generation, base_seq,
	    rill_store_applied_seq(srv->store), &lo);
}

static int fork_after(rill_server *srv, uint64_t gen, uint64_t base_seq,
    uint64_t *seqp, bool *madep);

// lead_after_following starts a new generation at the end of this node's
// history in gen (parent_seq: where gen begins), which it reached
// following another node: it leads from there as a promotion would.
// Continuing gen would give two nodes the same (generation, seq) for
// different writes.
static int
lead_after_following(
    rill_server *srv, uint64_t gen, uint64_t parent_seq, uint64_t *base_seqp)
{
	uint64_t seq;
	bool     made;
	int      rv;

	if ((rv = fork_after(srv, gen, parent_seq, &seq, &made)) != RILL_OK) {
		return rv;
	}
	rill_diag_notice("SERVER-GENERATION",
	    "this node followed generation %016" PRIx64 " to seq %" PRIu64
	    "; it leads now, in generation %016" PRIx64 " from there",
	    gen, seq, srv->generation);
	rill_catalog_event(srv->catalog, "promote",
	    "leader in generation %016" PRIx64 " after seq %" PRIu64
	    " of %016" PRIx64 " (started without --follow)",
	    srv->generation, seq, gen);
	*base_seqp = seq;
	return RILL_OK;
}

// choose_generation picks the generation a leader continues: the one the
// store was last written in (a new one from there if it was a leader's
// this node followed), else the newest on disk, else a new one.
static int
choose_generation(rill_server *srv, uint64_t *base_seqp)
{
	uint64_t gen, seq, parent, parent_seq = 0;
	int      rv;

	rill_store_applied(srv->store, &gen, &seq);
	if (gen != 0) {
		rv = rill_datadir_read_generation(
		    srv->dd, gen, &parent, &parent_seq, NULL);
		if (rv == RILL_NOT_FOUND) {
			rill_diag_err("SERVER-GENERATION",
			    "the store is at generation %016" PRIx64
			    " seq %" PRIu64 ", which is not in %s/generations",
			    gen, seq, rill_datadir_path(srv->dd));
			return RILL_ECORRUPT;
		}
		if (rv == RILL_OK &&
		    rill_datadir_generation_adopted(srv->dd, gen)) {
			return lead_after_following(
			    srv, gen, parent_seq, base_seqp);
		}
		srv->generation = gen;
		*base_seqp      = parent_seq;
		return rv;
	}
	if (seq != 0) {
		rill_diag_err("SERVER-GENERATION",
		    "the store of %s holds part of a snapshot a follower was "
		    "loading: start it with --follow to load it again",
		    rill_datadir_path(srv->dd));
		return RILL_FAILED_PRECONDITION;
	}
	rv = rill_datadir_latest_generation(srv->dd, &gen, &parent_seq);
	if (rv == RILL_NOT_FOUND) {
		rv = rill_datadir_new_generation(srv->dd, 0, 0, &gen);
		if (rv == RILL_OK) {
			rill_diag_notice("SERVER-GENERATION",
			    "new generation %016" PRIx64
			    " in an empty data dir",
			    gen);
		}
	}
	srv->generation = gen;
	*base_seqp      = parent_seq;
	return rv;
}

// fork_if_behind handles a log that ends before the store (writes lost
// with sync policy "none"): the history after the log's end cannot be
// proven, so a new generation starts at the store's position.
static int
fork_if_behind(rill_server *srv)
{
	uint64_t applied = rill_store_applied_seq(srv->store);
	uint64_t last    = rill_log_last_seq(srv->log);
	uint64_t old     = srv->generation;
	int      rv;

	if (applied <= last) {
		return RILL_OK;
	}
	rill_diag_warn("SERVER-LOG-BEHIND",
	    "the log of generation %016" PRIx64 " ends at seq %" PRIu64
	    " but the store holds seq %" PRIu64
	    " (its tail never reached the disk, as sync policies "
	    "\"none\" and \"interval\" allow on a power loss, or was cut "
	    "at recovery: see the lines above): starting a new generation "
	    "there",
	    old, last, applied);
	rill_log_close(srv->log);
	srv->log = NULL;
	if ((rv = rill_datadir_new_generation(
	         srv->dd, old, applied, &srv->generation)) != RILL_OK) {
		return rv;
	}
	return open_log(srv, applied);
}

static int
open_keeper(rill_server *srv)
{
	const rill_config  *cfg = srv->cfg;
	rill_keeper_options ko  = {
		 .dd                    = srv->dd,
		 .store                 = srv->store,
		 .log                   = srv->log,
		 .catalog               = srv->catalog,
		 .metrics               = &srv->metrics,
		 .generation            = srv->generation,
		 .catalog_fresh         = srv->catalog_fresh,
		 .snapshot_interval_ms  = cfg->snapshot_interval_ms,
		 .snapshot_log_bytes    = cfg->snapshot_log_bytes,
		 .snapshot_max_rate     = cfg->snapshot_max_rate,
		 .retain_snapshots      = (uint32_t) cfg->retain_snapshots,
		 .retain_age_ms         = cfg->retain_age_ms,
		 .backups               = cfg->backups,
		 .n_backups             = cfg->n_backups,
		 .followers             = srv->followers,
		 .follower_window_ms    = cfg->follower_window_ms,
		 .follower_retain_bytes = cfg->follower_retain_bytes,
	};
	int rv = rill_keeper_open(&srv->keeper, &ko);

	if (rv == RILL_OK) {
		srv->catalog_fresh = false; // rebuilt once is enough
	}
	return rv;
}

// open_writer starts the writer, with dedup (taken over; NULL: a new one)
// as its retry table.
static int
open_writer(rill_server *srv, rill_dedup *dedup)
{
	const rill_config  *cfg = srv->cfg;
	rill_writer_options wo  = {
		 .generation       = srv->generation,
		 .sync             = cfg->sync,
		 .sync_interval_ms = cfg->sync_interval_ms,
		 .dedup_per_client = (uint32_t) cfg->dedup_per_client,
		 .dedup_idle_ms    = cfg->dedup_idle_ms,
		 .dedup            = dedup,
		 .metrics          = &srv->metrics,
		 .on_commit        = committed,
		 .on_commit_arg    = srv,
	};

	return rill_writer_open(&srv->writer, srv->log, srv->store, &wo);
}

// close_parts hides and closes the writer, keeper and log (the store
// stays open). Writes in flight are finished first.
static void
close_parts(rill_server *srv)
{
	unpublish(srv);
	if (srv->writer != NULL) {
		rill_writer_close(srv->writer);
		srv->writer = NULL;
	}
	if (srv->unsynced && srv->log != NULL) {
		rill_log_sync(srv->log);
		srv->unsynced = false;
	}
	rill_keeper_close(srv->keeper);
	srv->keeper = NULL;
	rill_log_close(srv->log);
	srv->log = NULL;
	rill_dedup_free(srv->dedup);
	srv->dedup = NULL;
}

// open_leader opens a leader's parts on the store's generation (or a new
// one) and publishes them. dedup (taken over, NULL: a new one) is the
// writer's retry table.
static int
open_leader(rill_server *srv, rill_dedup *dedup)
{
	uint64_t base_seq = 0;
	int      rv;

	if ((rv = choose_generation(srv, &base_seq)) != RILL_OK ||
	    (rv = open_log(srv, base_seq)) != RILL_OK ||
	    (rv = fork_if_behind(srv)) != RILL_OK ||
	    (rv = open_keeper(srv)) != RILL_OK) {
		rill_dedup_free(dedup);
		return rv;
	}
	if ((rv = open_writer(srv, dedup)) != RILL_OK) {
		return rv;
	}
	load_lineage(srv);
	return RILL_OK;
}

// replay_store brings the store up to the log's end (a crash between the
// two writes of a batch): the writer's recovery does it.
static int
replay_store(rill_server *srv)
{
	rill_writer        *w;
	rill_writer_options wo = {
		.generation       = srv->generation,
		.sync             = srv->cfg->sync,
		.sync_interval_ms = srv->cfg->sync_interval_ms,
		.dedup_per_client = (uint32_t) srv->cfg->dedup_per_client,
		.dedup_idle_ms    = srv->cfg->dedup_idle_ms,
	};
	int rv;

	if (rill_log_last_seq(srv->log) <=
	    rill_store_applied_seq(srv->store)) {
		return RILL_OK;
	}
	if ((rv = rill_writer_open(&w, srv->log, srv->store, &wo)) !=
	    RILL_OK) {
		return rv;
	}
	rill_writer_close(w);
	return RILL_OK;
}

// replay_generation brings the store, at a position in generation gen
// (whose history begins after base_seq), up to the end of gen's log. A
// follower syncs each batch into its log before its store takes it, and
// the store's LevelDB is not synced: after a crash, the log may hold
// records the store lacks. A node that starts leading from a follower's
// position (a promotion, a start without --follow) forks after them.
static int
replay_generation(rill_server *srv, uint64_t gen, uint64_t base_seq)
{
	int rv;

	srv->generation = gen;
	if ((rv = open_log(srv, base_seq)) != RILL_OK) {
		return rv;
	}
	rv = replay_store(srv);
	rill_log_close(srv->log);
	srv->log = NULL;
	return rv;
}

// fork_after makes the store's position in generation gen (whose history
// begins after base_seq) the start of a new generation, this node's, in
// srv->generation: the log of gen is replayed first (replay_generation),
// and the store moves to the new generation at the seq it reached (in
// *seqp), durably. *madep tells whether the new generation was made,
// also on failure (a caller may undo it).
static int
fork_after(rill_server *srv, uint64_t gen, uint64_t base_seq, uint64_t *seqp,
    bool *madep)
{
	int rv;

	*madep = false;
	if ((rv = replay_generation(srv, gen, base_seq)) != RILL_OK) {
		return rv;
	}
	*seqp = rill_store_applied_seq(srv->store);
	if ((rv = rill_datadir_new_generation(
	         srv->dd, gen, *seqp, &srv->generation)) != RILL_OK) {
		return rv;
	}
	*madep = true;
	if ((rv = rill_store_commit(
	         srv->store, srv->sb, srv->generation, *seqp)) != RILL_OK) {
		return rv;
	}
	return rill_store_sync(srv->store);
}

// refill_dedup fills the follower's retry table as a writer does at its
// start: the store's client marks first, judged against where the refill
// starts, then the newest records of its log. A promotion after a restart
// still knows the writes the old leader acknowledged, and which of the
// older ones it cannot tell.
static int
refill_dedup(rill_server *srv)
{
	uint64_t            last     = rill_log_last_seq(srv->log);
	uint64_t            oldest   = rill_log_oldest_seq(srv->log);
	rill_dedup_restorer restorer = {
		.dedup    = srv->dedup,
		.from_seq = rill_dedup_refill_from(
		    oldest, last, RILL_DEDUP_REFILL_RECORDS),
	};
	rill_log_reader *r;
	rill_record      rec;
	int              rv;

	if ((rv = rill_store_clients(
	         srv->store, rill_dedup_restore_fn, &restorer)) != RILL_OK ||
	    (rv = rill_log_reader_open(&r, srv->log, restorer.from_seq)) !=
	        RILL_OK) {
		return rv;
	}
	while ((rv = rill_log_reader_next(r, &rec)) == RILL_OK &&
	    (rv = rill_dedup_record(srv->dedup, rec.client_id, rec.request_id,
	         rec.seq, rec.time_us / 1000)) == RILL_OK) { }
	rill_log_reader_close(r);
	return rv == RILL_NOT_FOUND ? RILL_OK : rv;
}

// open_follower opens a follower's parts on the store's generation,
// whose log continues from the store's position, and publishes them.
static int
open_follower(rill_server *srv)
{
	uint64_t applied;
	int      rv;

	rill_store_applied(srv->store, &srv->generation, &applied);
	if ((rv = open_log(srv, applied)) != RILL_OK) {
		return rv;
	}
	if (rill_log_last_seq(srv->log) < applied) {
		rill_diag_warn("FOLLOW-LOG",
		    "the log of generation %016" PRIx64 " ends at seq %" PRIu64
		    " before the store (seq %" PRIu64 "): this node loads a "
		    "snapshot again",
		    srv->generation, rill_log_last_seq(srv->log), applied);
		rill_log_close(srv->log);
		srv->log = NULL;
		return RILL_FAILED_PRECONDITION;
	}
	if ((rv = replay_store(srv)) != RILL_OK ||
	    (rv = open_keeper(srv)) != RILL_OK ||
	    (rv = rill_dedup_new(&srv->dedup,
	         (uint32_t) srv->cfg->dedup_per_client,
	         srv->cfg->dedup_idle_ms)) != RILL_OK ||
	    (rv = refill_dedup(srv)) != RILL_OK) {
		close_parts(srv);
		return rv;
	}
	load_lineage(srv);
	atomic_store(&srv->applied_seq, rill_store_applied_seq(srv->store));
	atomic_store(&srv->applied_time_us, rill_log_last_time_us(srv->log));
	publish(srv, NULL);
	return RILL_OK;
}

// Following ----------------------------------------------------------------

// set_state records the follow state, logging a change.
static void
set_state(rill_server *srv, enum follow_state st)
{
	int old = atomic_exchange(&srv->follow_state, (int) st);

	if (old != (int) st) {
		rill_diag_info("FOLLOW-STATE", "%s -> %s",
		    follow_state_names[old], follow_state_names[st]);
	}
}

// pause_ms sleeps unless the loop is stopping; false when it is.
static bool
pause_ms(rill_server *srv, uint32_t ms)
{
	for (uint32_t done = 0; done < ms; done += 10) {
		if (atomic_load(&srv->stop)) {
			return false;
		}
		struct timespec ts = { .tv_nsec = 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return !atomic_load(&srv->stop);
}

static bool
parse_hex(const char *text, uint64_t *idp)
{
	char *end;

	if (text == NULL || strlen(text) != 16) {
		return false;
	}
	*idp = strtoull(text, &end, 16);
	return *end == '\0';
}

// ask_leader gets the leader's Status, retrying until it answers or the
// loop stops (*stp NULL then).
static void
ask_leader(rill_server *srv, Rill__V1__Response **respp)
{
	Rill__V1__StatusRequest sr    = RILL__V1__STATUS_REQUEST__INIT;
	Rill__V1__Request       req   = RILL__V1__REQUEST__INIT;
	uint32_t                pause = 50;
	bool                    told  = false;

	*respp        = NULL;
	req.body_case = RILL__V1__REQUEST__BODY_STATUS;
	req.status    = &sr;
	while (!atomic_load(&srv->stop)) {
		Rill__V1__Response *resp;
		int                 rv = rill_upstream_call(
		                    srv->up, &req, FOLLOW_STATUS_TIMEOUT_MS, &resp);

		if (rv == RILL_OK && resp->code == RILL__V1__CODE__OK &&
		    resp->body_case == RILL__V1__RESPONSE__BODY_STATUS) {
			atomic_store(&srv->connected, true);
			atomic_store(
			    &srv->leader_last_seq, resp->status->last_seq);
			*respp = resp;
			return;
		}
		atomic_store(&srv->connected, false);
		if (rv == RILL_CANCELLED) {
			break; // stopping: nothing to tell
		}
		set_state(srv, FOLLOW_CONNECTING); // not ready meanwhile
		if (!told) {
			rill_diag_warn("FOLLOW-CONNECT",
			    "cannot get the status of %s (%s); retrying",
			    srv->cfg->follow,
			    rv == RILL_OK ? resp->message : rill_strerror(rv));
			told = true;
		}
		if (rv == RILL_OK) {
			rill__v1__response__free_unpacked(resp, NULL);
		}
		if (!pause_ms(srv, pause)) {
			return;
		}
		pause = pause < 1000 ? pause * 2 : 1000;
	}
}

enum decision {
	DECIDE_FOLLOW,
	DECIDE_ADOPT,
	DECIDE_BOOTSTRAP,
	DECIDE_WAIT,
	DECIDE_REFUSE, // following would discard writes this node led
};

// decide tells what this node does from its position and the leader's
// lineage (st). For DECIDE_ADOPT, *adoptp is the generation to continue
// in. why gets a sentence for the log.
static enum decision
decide(rill_server *srv, const Rill__V1__StatusResponse *st,
    const Rill__V1__GenerationInfo **adoptp, char *why, size_t n)
{
	uint64_t gen, seq, id;
	ssize_t  k = -1;

	rill_store_applied(srv->store, &gen, &seq);
	if (gen == 0) {
		snprintf(why, n, "this node holds no position yet");
		return DECIDE_BOOTSTRAP;
	}
	for (size_t i = 0; i < st->n_lineage; i++) {
		if (parse_hex(st->lineage[i]->id, &id) && id == gen) {
			k = (ssize_t) i;
			break;
		}
	}
	uint64_t gen_base = 0;
	if (k < 0 &&
	    rill_datadir_read_generation(
	        srv->dd, gen, NULL, &gen_base, NULL) == RILL_OK &&
	    seq > gen_base && !rill_datadir_generation_adopted(srv->dd, gen)) {
		// This node led gen (a promotion, or a leader's start) and
		// acknowledged writes in it (it is past gen's start), which
		// the node it would follow never had. (One at gen's start
		// wrote nothing there: it may load a snapshot, as below.)
		snprintf(why, n,
		    "this node led generation %016" PRIx64 " (to seq %" PRIu64
		    "), which is not in the history of %s "
		    "(generation %s): following it would discard "
		    "those writes. Start this node without --follow "
		    "to lead, or point it at a node that holds its "
		    "history; to follow %s anyway, start it on an "
		    "empty data dir",
		    gen, seq, srv->cfg->follow, st->generation,
		    srv->cfg->follow);
		return DECIDE_REFUSE;
	}
	if (k < 0) {
		snprintf(why, n,
		    "this node's generation %016" PRIx64
		    " is not in the history of %s (generation %s): it holds "
		    "an unrelated history",
		    gen, srv->cfg->follow, st->generation);
		return DECIDE_BOOTSTRAP;
	}
	if (k == 0) {
		if (seq > st->last_seq && strcmp(st->role, "leader") != 0) {
			snprintf(why, n,
			    "%s is at seq %" PRIu64
			    ", behind this node's seq %" PRIu64,
			    srv->cfg->follow, st->last_seq, seq);
			return DECIDE_WAIT;
		}
		if (seq > st->last_seq) {
			// A leader behind its own generation lost writes it
			// had sent (sync none or interval, then a power
			// loss): the seqs after its last are being reused.
			snprintf(why, n,
			    "the leader %s is at seq %" PRIu64
			    " of this node's generation, behind this node's "
			    "seq %" PRIu64
			    ": it lost writes this node has, and its history "
			    "goes on without them",
			    srv->cfg->follow, st->last_seq, seq);
			return DECIDE_BOOTSTRAP;
		}
		return DECIDE_FOLLOW;
	}
	const Rill__V1__GenerationInfo *child = st->lineage[k - 1];
	if (seq > child->parent_seq) {
		snprintf(why, n,
		    "this node is at seq %" PRIu64 " of generation %016" PRIx64
		    ", past the fork point %" PRIu64
		    " where %s went on in generation %s: it holds writes the "
		    "leader never had",
		    seq, gen, child->parent_seq, srv->cfg->follow, child->id);
		return DECIDE_BOOTSTRAP;
	}
	if (seq == child->parent_seq) {
		*adoptp = child;
		return DECIDE_ADOPT;
	}
	return DECIDE_FOLLOW; // the leader serves our generation up to its
	                      // fork
}

// adopt moves this node into generation g, which begins at its position.
static int
adopt(rill_server *srv, const Rill__V1__GenerationInfo *g)
{
	uint64_t id, parent = 0;
	int      rv;

	if (!parse_hex(g->id, &id) ||
	    (g->parent[0] != '\0' && !parse_hex(g->parent, &parent))) {
		return RILL_EPROTO;
	}
	if ((rv = rill_datadir_adopt_generation(srv->dd, id, parent,
	         g->parent_seq, g->created_us)) != RILL_OK) {
		return rv;
	}
	// The store moves to the new generation at the same seq: an empty
	// commit records the position, durably (replay after a crash starts
	// from the store's durable position, in its generation).
	rv = rill_store_commit(srv->store, srv->sb, id, g->parent_seq);
	if (rv == RILL_OK) {
		rv = rill_store_sync(srv->store);
	}
	if (rv == RILL_OK) {
		rill_diag_notice("FOLLOW-ADOPT",
		    "continuing in generation %s after seq %" PRIu64
		    " of %s, without a snapshot download",
		    g->id, g->parent_seq, g->parent);
		rill_catalog_event(srv->catalog, "follow",
		    "continued in generation %s from seq %" PRIu64, g->id,
		    g->parent_seq);
	}
	return rv;
}

// load_snapshot loads the snapshot file at path into the (empty) store.
// The pairs are committed at position (0, 0) and only the last commit
// names the snapshot's position, so a crash half-way leaves a store
// that the next start recognises as unusable.
static int
load_snapshot(rill_server *srv, const char *path, rill_snapshot_info *info)
{
	rill_snapshot_reader *r;
	const char           *k, *v;
	size_t                kl, vl, bytes = 0;
	int                   rv;

	if ((rv = rill_snapshot_reader_open(&r, path, info)) != RILL_OK) {
		return rv;
	}
	while (
	    (rv = rill_snapshot_reader_next(r, &k, &kl, &v, &vl)) == RILL_OK) {
		if ((rv = rill_store_batch_put(srv->sb, k, kl, v, vl)) !=
		    RILL_OK) {
			break;
		}
		bytes += kl + vl + 16;
		if (bytes >= LOAD_BATCH_BYTES) {
			if ((rv = rill_store_commit(
			         srv->store, srv->sb, 0, 1)) != RILL_OK) {
				break;
			}
			bytes = 0;
		}
	}
	rill_snapshot_reader_close(r);
	if (rv != RILL_NOT_FOUND) {
		return rv == RILL_OK ? RILL_INTERNAL : rv;
	}
	if ((rv = rill_store_commit(srv->store, srv->sb, info->generation,
	         info->seq)) != RILL_OK) {
		return rv;
	}
	// The position claims the whole snapshot: make it durable with
	// every part before it (LevelDB's own log is not synced).
	return rill_store_sync(srv->store);
}

// wipe empties the store (closing and removing it) and opens a new one.
static int
wipe_store(rill_server *srv)
{
	char path[PATH_MAX];
	int  rv;

	rill_store_close(srv->store);
	srv->store = NULL;
	if ((rv = rill_datadir_store_path(srv->dd, path, sizeof(path))) !=
	    RILL_OK) {
		return rv;
	}
	rill_remove_tree(path);
	return open_store(srv);
}

// bootstrap replaces this node's state with the leader's newest snapshot.
static int
bootstrap(
    rill_server *srv, const Rill__V1__StatusResponse *st, const char *why)
{
	char               part[PATH_MAX], dir[PATH_MAX], dst[PATH_MAX];
	char               name[32];
	rill_snapshot_info info;
	uint64_t           t0 = rill_mono_ms();
	int                rv;

	set_state(srv, FOLLOW_BOOTSTRAPPING);
	rill_diag_notice("FOLLOW-BOOTSTRAP", "loading a snapshot from %s: %s",
	    srv->cfg->follow, why);
	rill_catalog_event(
	    srv->catalog, "bootstrap", "from %s: %s", srv->cfg->follow, why);
	publish(srv, "this follower is loading a snapshot from its leader");
	if ((rv = rill_path_join(part, sizeof(part),
	         rill_datadir_path(srv->dd), "follow-snapshot.part")) !=
	    RILL_OK) {
		return rv;
	}
	rv = rill_upstream_download(srv->up, part,
	    &(rill_upstream_download_opts) {
	        .deadline_ms = FOLLOW_DOWNLOAD_DEADLINE_MS },
	    &info);
	if (rv != RILL_OK) {
		return rv;
	}
	// The snapshot's generation becomes this node's, as the leader
	// describes it; its log starts empty after the snapshot.
	const Rill__V1__GenerationInfo *g = NULL;
	char                            hex[17];
	snprintf(hex, sizeof(hex), "%016" PRIx64, info.generation);
	for (size_t i = 0; i < st->n_lineage; i++) {
		if (strcmp(st->lineage[i]->id, hex) == 0) {
			g = st->lineage[i];
		}
	}
	uint64_t parent = 0;
	if (g != NULL && g->parent[0] != '\0') {
		parse_hex(g->parent, &parent);
	}
	if ((rv = rill_datadir_adopt_generation(srv->dd, info.generation,
	         parent, g ? g->parent_seq : 0, g ? g->created_us : 0)) !=
	        RILL_OK ||
	    (rv = rill_datadir_log_path(
	         srv->dd, info.generation, dir, sizeof(dir))) != RILL_OK) {
		return rv;
	}
	// An old log of this generation ends before the snapshot (that is
	// why it came): it cannot continue.
	rill_remove_tree(dir);
	if ((rv = rill_datadir_generation_path(
	         srv->dd, info.generation, dir, sizeof(dir))) != RILL_OK ||
	    (rv = rill_path_printf(dst, sizeof(dst), "%s/snapshots", dir)) !=
	        RILL_OK ||
	    (rv = rill_mkdirs(dst)) != RILL_OK) {
		return rv;
	}
	rill_snapshot_name(name, sizeof(name), info.seq);
	if ((rv = rill_path_printf(
	         dst, sizeof(dst), "%s/snapshots/%s", dir, name)) != RILL_OK) {
		return rv;
	}
	if ((rv = wipe_store(srv)) != RILL_OK ||
	    (rv = load_snapshot(srv, part, &info)) != RILL_OK) {
		return rv;
	}
	// The snapshot is the generation's base: kept, durably (both dirs
	// the rename touched). A failure costs only the file, which a
	// follower of this node would then not find; the store is loaded.
	if (rename(part, dst) != 0) {
		rill_diag_warn("FOLLOW-SNAPSHOT",
		    "cannot keep the snapshot as %s: %s", dst,
		    strerror(errno));
		unlink(part);
	} else if (rill_path_printf(dst, sizeof(dst), "%s/snapshots", dir) ==
	    RILL_OK) {
		rill_fsync_dir(dst);
	}
	rill_fsync_dir(rill_datadir_path(srv->dd));
	atomic_store(&srv->applied_seq, info.seq);
	count_bootstrap(srv);
	rill_diag_notice("FOLLOW-BOOTSTRAP",
	    "loaded snapshot %016" PRIx64 "/%" PRIu64 " (%" PRIu64
	    " keys, state hash %016" PRIx64 ") from %s in %" PRIu64 " ms",
	    info.generation, info.seq, info.key_count, info.state_hash,
	    srv->cfg->follow, rill_mono_ms() - t0);
	return RILL_OK;
}

// apply_records writes a batch of the leader's records to the log and
// the store, as the writer does for a leader's group.
static int
apply_records(rill_server *srv, Rill__V1__LogRecord **recs, size_t n)
{
	bool     sync = srv->cfg->sync == RILL_SYNC_ALWAYS;
	uint64_t now  = rill_mono_ms();
	int      rv;

	for (size_t i = 0; i < n; i++) {
		const Rill__V1__LogRecord *r = recs[i];
		rill_client_mark           mark;
		rill_record                rec = {
			               .seq        = r->seq,
			               .time_us    = r->time_us,
			               .client_id  = r->client_id,
			               .request_id = r->request_id,
			               .batch      = r->batch.data,
			               .batch_len  = r->batch.len,
		};
		// The retry table too: after a promotion it answers the
		// retries of these writes.
		if ((rv = rill_log_append(srv->log, &rec)) == RILL_OK &&
		    (rv = rill_store_batch_add_encoded(
		         srv->sb, r->batch.data, r->batch.len)) == RILL_OK &&
		    (rv = rill_dedup_record(srv->dedup, r->client_id,
		         r->request_id, r->seq, r->time_us / 1000)) ==
		        RILL_OK) {
			rill_dedup_mark(srv->dedup, r->client_id, &mark);
			rv = rill_store_batch_client(
			    srv->sb, r->client_id, &mark, r->time_us / 1000);
		}
		if (rv != RILL_OK) {
			rill_diag_err("FOLLOW-APPLY",
			    "record %" PRIu64 " from %s cannot be applied: %s",
			    r->seq, srv->cfg->follow, rill_strerror(rv));
			srv->apply_failed = true;
			return rv;
		}
	}
	if (!sync && now - srv->last_sync_ms >= srv->cfg->sync_interval_ms &&
	    srv->cfg->sync == RILL_SYNC_INTERVAL) {
		sync              = true;
		srv->last_sync_ms = now;
	}
	if ((rv = rill_log_flush(srv->log, sync)) != RILL_OK ||
	    (rv = rill_store_commit(srv->store, srv->sb, srv->generation,
	         recs[n - 1]->seq)) != RILL_OK) {
		rill_diag_err("FOLLOW-APPLY",
		    "writing records up to %" PRIu64 " failed: %s",
		    recs[n - 1]->seq, rill_strerror(rv));
		srv->apply_failed = true;
		return rv;
	}
	srv->unsynced = !sync;
	atomic_store(&srv->applied_seq, recs[n - 1]->seq);
	atomic_store(&srv->applied_time_us, recs[n - 1]->time_us);
	atomic_fetch_add(&srv->records_applied, n);
	rill_rpc_notify(srv->rpc);
	return RILL_OK;
}

// start_fetch asks for the records after seq.
static int
start_fetch(rill_server *srv, uint64_t after)
{
	Rill__V1__FetchLogRequest f   = RILL__V1__FETCH_LOG_REQUEST__INIT;
	Rill__V1__Request         req = RILL__V1__REQUEST__INIT;
	char                      gen[17];

	snprintf(gen, sizeof(gen), "%016" PRIx64, srv->generation);
	req.body_case      = RILL__V1__REQUEST__BODY_FETCH_LOG;
	req.fetch_log      = &f;
	f.generation       = gen;
	f.after_seq        = after;
	f.max_bytes        = FOLLOW_FETCH_BYTES;
	f.wait_ms          = FOLLOW_WAIT_MS;
	f.follower_id      = (char *) rill_datadir_node_id(srv->dd);
	f.follower_address = srv->advertise;
	f.applied_seq      = rill_store_applied_seq(srv->store);
	f.applied_time_us  = atomic_load(&srv->applied_time_us);
	return rill_upstream_start(
	    srv->up, &req, FOLLOW_WAIT_MS + FOLLOW_SLACK_MS);
}

// check_position compares this node's record at its applied seq with the
// leader's: a leader that lost writes it had sent (sync none or interval,
// then a power loss) and has since taken others at the same seqs holds a
// different record there, though its position is past this node's. Sets
// *divergedp (with why) only when both records are there and differ:
// anything else (no record on either side, no answer) leaves the
// question to the fetches that follow.
static void
check_position(rill_server *srv, bool *divergedp, char *why, size_t n)
{
	Rill__V1__FetchLogRequest f    = RILL__V1__FETCH_LOG_REQUEST__INIT;
	Rill__V1__Request         req  = RILL__V1__REQUEST__INIT;
	Rill__V1__Response       *resp = NULL;
	rill_log_reader          *r    = NULL;
	rill_record               mine;
	uint64_t                  pos = rill_store_applied_seq(srv->store);
	char                      gen[17];

	*divergedp = false;
	if (pos == 0 ||
	    rill_log_reader_open(&r, srv->log, pos - 1) != RILL_OK ||
	    rill_log_reader_next(r, &mine) != RILL_OK || mine.seq != pos) {
		goto out;
	}
	snprintf(gen, sizeof(gen), "%016" PRIx64, srv->generation);
	req.body_case = RILL__V1__REQUEST__BODY_FETCH_LOG;
	req.fetch_log = &f;
	f.generation  = gen;
	f.after_seq   = pos - 1;
	f.max_records = 1;
	if (rill_upstream_call(
	        srv->up, &req, FOLLOW_STATUS_TIMEOUT_MS, &resp) != RILL_OK ||
	    resp->code != RILL__V1__CODE__OK ||
	    resp->body_case != RILL__V1__RESPONSE__BODY_FETCH_LOG ||
	    resp->fetch_log->n_records == 0 ||
	    resp->fetch_log->records[0]->seq != pos) {
		goto out;
	}
	const Rill__V1__LogRecord *theirs = resp->fetch_log->records[0];
	if (theirs->time_us != mine.time_us ||
	    theirs->client_id != mine.client_id ||
	    theirs->request_id != mine.request_id ||
	    theirs->batch.len != mine.batch_len ||
	    (mine.batch_len > 0 &&
	        memcmp(theirs->batch.data, mine.batch, mine.batch_len) != 0)) {
		snprintf(why, n,
		    "the record at seq %" PRIu64 " of generation %016" PRIx64
		    " differs on %s from this node's: the leader lost writes "
		    "this node has, and took others at their seqs",
		    pos, srv->generation, srv->cfg->follow);
		*divergedp = true;
	}
out:
	if (resp != NULL) {
		rill__v1__response__free_unpacked(resp, NULL);
	}
	rill_log_reader_close(r);
}

// tail streams the leader's log into this node until something needs a
// new decision (RILL_FAILED_PRECONDITION: fork or divergence;
// RILL_OUT_OF_RANGE: the position is gone, *gonep set; RILL_CANCELLED),
// or an error. While behind, one fetch is in flight while a batch is
// applied.
static int
tail(rill_server *srv, bool *gonep)
{
	uint64_t pos   = rill_store_applied_seq(srv->store);
	uint32_t pause = 50;
	int      rv;

	*gonep = false;
	if ((rv = start_fetch(srv, pos)) != RILL_OK &&
	    rv != RILL_UNAVAILABLE) {
		return rv;
	}
	set_state(srv, FOLLOW_FOLLOWING);
	for (;;) {
		Rill__V1__Response *resp = NULL;

		if (rv == RILL_OK) {
			rv = rill_upstream_finish(srv->up, &resp);
		}
		if (rv == RILL_CANCELLED || atomic_load(&srv->stop)) {
			if (resp != NULL) {
				rill__v1__response__free_unpacked(resp, NULL);
			}
			return RILL_CANCELLED;
		}
		if (rv != RILL_OK) {
			// No answer: the link or the leader is down. Retry,
			// as connecting: the node is not ready meanwhile (the
			// lag it shows is as of the last answer).
			if (atomic_exchange(&srv->connected, false)) {
				rill_diag_warn("FOLLOW-LINK",
				    "lost %s at seq %" PRIu64
				    " (%s); retrying",
				    srv->cfg->follow, pos, rill_strerror(rv));
				set_state(srv, FOLLOW_CONNECTING);
			}
			if (!pause_ms(srv, pause)) {
				return RILL_CANCELLED;
			}
			pause = pause < 1000 ? pause * 2 : 1000;
			rv    = start_fetch(srv, pos);
			continue;
		}
		pause = 50;
		if (resp->code == RILL__V1__CODE__OK &&
		    !atomic_exchange(&srv->connected, true)) {
			rill_diag_notice("FOLLOW-LINK",
			    "streaming from %s after seq %" PRIu64,
			    srv->cfg->follow, pos);
			set_state(srv, FOLLOW_FOLLOWING);
		}
		if (resp->code != RILL__V1__CODE__OK) {
			int code = (int) resp->code;
			if (resp->details != NULL) {
				atomic_store(&srv->leader_last_seq,
				    resp->details->last_seq);
			}
			if (code == RILL_OUT_OF_RANGE &&
			    resp->details != NULL &&
			    resp->details->oldest_seq > pos + 1) {
				*gonep = true;
			}
			if (code == RILL_UNAVAILABLE) {
				rill__v1__response__free_unpacked(resp, NULL);
				if (!pause_ms(srv, 100)) {
					return RILL_CANCELLED;
				}
				rv = start_fetch(srv, pos);
				continue;
			}
			rill_diag_notice("FOLLOW-FETCH",
			    "%s at seq %" PRIu64 ": %s", srv->cfg->follow, pos,
			    resp->message);
			rill__v1__response__free_unpacked(resp, NULL);
			return code;
		}
		const Rill__V1__FetchLogResponse *fl = resp->fetch_log;
		size_t                            n  = fl->n_records;
		atomic_store(&srv->leader_last_seq, fl->last_seq);
		atomic_store(&srv->leader_last_time_us, fl->last_time_us);
		for (size_t i = 0; i < n; i++) {
			if (fl->records[i]->seq != pos + 1 + i) {
				rill_diag_err("FOLLOW-PROTOCOL",
				    "%s sent record %" PRIu64 " where %" PRIu64
				    " was due: refusing it",
				    srv->cfg->follow, fl->records[i]->seq,
				    pos + 1 + i);
				rill__v1__response__free_unpacked(resp, NULL);
				return RILL_EPROTO;
			}
		}
		// Behind, the next fetch travels while this batch is applied
		// (catch-up). Caught up, it goes once the batch is applied:
		// what the leader commits meanwhile comes as one batch, so
		// the follower's fsyncs and round trips are fewer, which
		// leaves the leader more of the CPU they would share.
		bool behind = fl->last_seq > pos + n;
		if (behind) {
			rv = start_fetch(srv, pos + n);
		}
		if (n > 0) {
			int arv = apply_records(srv, fl->records, n);
			if (arv != RILL_OK) {
				rill__v1__response__free_unpacked(resp, NULL);
				if (behind && rv == RILL_OK) {
					Rill__V1__Response *drop = NULL;
					if (rill_upstream_finish(
					        srv->up, &drop) == RILL_OK) {
						rill__v1__response__free_unpacked(
						    drop, NULL);
					}
				}
				return arv;
			}
			pos += n;
		}
		if (!behind) {
			rv = start_fetch(srv, pos);
		}
		if (n == 0) {
			// Idle: a good time to sync and to seal an old
			// segment.
			if (srv->unsynced &&
			    rill_log_sync(srv->log) == RILL_OK) {
				srv->unsynced = false;
			}
			rill_log_roll_if_due(srv->log, rill_wall_us());
		}
		rill__v1__response__free_unpacked(resp, NULL);
	}
}

// rebootstrap replaces this node's state with the leader's newest
// snapshot (st), for the reason why; a node that held a position has
// diverged, which is logged and kept as an event.
static int
rebootstrap(
    rill_server *srv, const Rill__V1__StatusResponse *st, const char *why)
{
	if (rill_store_applied_seq(srv->store) != 0 || srv->log != NULL) {
		rill_diag_warn("FOLLOW-DIVERGED", "%s", why);
		rill_catalog_event(srv->catalog, "diverged", "%s", why);
	}
	close_parts(srv);
	return bootstrap(srv, st, why);
}

// follow_main is the follow loop (see the top of the file).
static void *
follow_main(void *arg)
{
	rill_server *srv     = arg;
	uint32_t     pause   = 50;
	bool         refused = false; // the last decision was DECIDE_REFUSE

	pthread_setname_np(pthread_self(), "rill:follow");
	while (!atomic_load(&srv->stop)) {
		Rill__V1__Response             *resp  = NULL;
		const Rill__V1__GenerationInfo *child = NULL;
		char                            why[512];
		bool                            gone = false;
		int                             rv   = RILL_OK;

		if (srv->log == NULL && !refused) {
			set_state(srv, FOLLOW_CONNECTING);
		}
		ask_leader(srv, &resp);
		if (resp == NULL) {
			break;
		}
		enum decision d =
		    decide(srv, resp->status, &child, why, sizeof(why));
		if (d != DECIDE_REFUSE) {
			refused = false;
		}
		switch (d) {
		case DECIDE_WAIT:
			rill_diag_warn("FOLLOW-WAIT", "%s; waiting", why);
			rill__v1__response__free_unpacked(resp, NULL);
			pause_ms(srv, 1000);
			continue;
		case DECIDE_REFUSE:
			// Said once; asked again now and then, in case the
			// node followed is replaced.
			if (!refused) {
				rill_diag_err("FOLLOW-REFUSED", "%s", why);
				rill_catalog_event(
				    srv->catalog, "refused", "%s", why);
				refused = true;
			}
			set_state(srv, FOLLOW_REFUSED);
			rill__v1__response__free_unpacked(resp, NULL);
			pause_ms(srv, 5000);
			continue;
		case DECIDE_BOOTSTRAP:
			rv = rebootstrap(srv, resp->status, why);
			break;
		case DECIDE_ADOPT:
			close_parts(srv);
			rv = adopt(srv, child);
			break;
		case DECIDE_FOLLOW: {
			uint64_t gen = 0, seq;
			rill_store_applied(srv->store, &gen, &seq);
			if (srv->log != NULL && gen != srv->generation) {
				close_parts(srv);
			}
			if (srv->log == NULL) {
				rv = open_follower(srv);
			}
			bool diverged = false;
			if (rv == RILL_OK) {
				check_position(
				    srv, &diverged, why, sizeof(why));
			}
			if (rv == RILL_FAILED_PRECONDITION) {
				// Log behind the store: load a snapshot again.
				rv = bootstrap(srv, resp->status,
				    "the local log ends before the store");
			} else if (diverged) {
				rv = rebootstrap(srv, resp->status, why);
			} else if (rv == RILL_OK) {
				rv = tail(srv, &gone);
				if (gone) {
					rill_diag_warn("FOLLOW-GONE",
					    "%s no longer holds the records "
					    "after seq %" PRIu64
					    " (retention removed them): this "
					    "node loads a snapshot again",
					    srv->cfg->follow,
					    rill_store_applied_seq(
					        srv->store));
					close_parts(srv);
					rill__v1__response__free_unpacked(
					    resp, NULL);
					resp = NULL;
					ask_leader(srv, &resp);
					if (resp == NULL) {
						break;
					}
					rv = bootstrap(srv, resp->status,
					    "the leader no longer holds this "
					    "node's position");
				} else if (rv == RILL_FAILED_PRECONDITION ||
				    rv == RILL_OUT_OF_RANGE) {
					rv = RILL_OK; // decide again
				}
			}
			break;
		}
		}
		if (resp != NULL) {
			rill__v1__response__free_unpacked(resp, NULL);
		}
		if (rv == RILL_CANCELLED || atomic_load(&srv->stop)) {
			break;
		}
		if (rv != RILL_OK && srv->apply_failed) {
			// The parts open again from the files, without what
			// the failed apply appended (the log's unflushed group
			// is dropped with it) or staged.
			srv->apply_failed = false;
			close_parts(srv);
			rill_store_batch_free(srv->sb);
			srv->sb = NULL;
			if (rill_store_batch_new(&srv->sb) != RILL_OK) {
				rill_diag_err("FOLLOW-APPLY",
				    "out of memory: following stops");
				break;
			}
		}
		if (rv != RILL_OK) {
			rill_diag_warn("FOLLOW-RETRY",
			    "following %s failed (%s); trying again",
			    srv->cfg->follow, rill_strerror(rv));
			pause_ms(srv, pause);
			pause = pause < 2000 ? pause * 2 : 2000;
		} else {
			pause = 50;
		}
	}
	return NULL;
}

// stop_following ends the follow loop (the open parts stay).
static void
stop_following(rill_server *srv)
{
	if (!srv->thread_running) {
		return;
	}
	atomic_store(&srv->stop, true);
	rill_upstream_cancel(srv->up);
	pthread_join(srv->thread, NULL);
	srv->thread_running = false;
	rill_upstream_close(srv->up);
	srv->up = NULL;
}

// start_following starts the follow loop, which opens the parts itself.
// The caller holds promote_mu (or no promotion can run yet).
static int
start_following(rill_server *srv)
{
	const rill_config *cfg = srv->cfg;
	int                rv;

	publish(srv, "this follower is connecting to its leader");
	atomic_store(&srv->stop, false);
	if ((rv = rill_upstream_open(&srv->up, cfg->follow,
	         cfg->rpc_tokens.n > 0 ? cfg->rpc_tokens.v[0] : NULL)) !=
	    RILL_OK) {
		return rv;
	}
	if (pthread_create(&srv->thread, NULL, follow_main, srv) != 0) {
		rill_upstream_close(srv->up);
		srv->up = NULL;
		return RILL_ENOMEM;
	}
	srv->thread_running = true;
	return RILL_OK;
}

// Promotion ----------------------------------------------------------------

// undo_generation puts the store back at (parent, seq), where a failed
// promotion found it, and removes the generation it made (which took no
// write).
static void
undo_generation(rill_server *srv, uint64_t parent, uint64_t seq)
{
	char dir[PATH_MAX];

	if (rill_store_commit(srv->store, srv->sb, parent, seq) != RILL_OK) {
		return; // the follow loop then loads a snapshot
	}
	if (rill_datadir_generation_path(
	        srv->dd, srv->generation, dir, sizeof(dir)) == RILL_OK) {
		rill_remove_tree(dir);
	}
	srv->generation = parent;
}

// promote_refused ends a promotion that failed once following stopped:
// the node follows again, as before, and out says why.
static int
promote_refused(
    rill_server *srv, rill_admin_promotion *out, int rv, const char *why)
{
	int frv;

	close_parts(srv);
	if ((frv = start_following(srv)) != RILL_OK) {
		rill_diag_err("SERVER-PROMOTE",
		    "%s, and following %s again failed too (%s): this node "
		    "serves nothing until it restarts",
		    why, srv->cfg->follow, rill_strerror(frv));
	}
	snprintf(out->message, sizeof(out->message),
	    "%s; this node follows %s", why,
	    frv == RILL_OK ? "again" : "nothing (see the server's log)");
	return rv;
}

static int
promote(rill_server *srv, rill_admin_promotion *out)
{
	rill_dedup *dedup;
	uint64_t    parent, seq, base = 0;
	char        why[160];
	bool        moved = false; // a new generation was made
	int         rv;

	if (srv->writer != NULL || srv->cfg->follow[0] == '\0') {
		snprintf(out->message, sizeof(out->message),
		    "this node is already the leader");
		return RILL_FAILED_PRECONDITION;
	}
	// The parts are the follow loop's until it has stopped: the store
	// is looked at only then (a bootstrap replaces it).
	stop_following(srv);
	set_state(srv, FOLLOW_STOPPED);
	// The retry table goes on into the writer: a client that retries a
	// write the old leader acknowledged gets its first result.
	dedup      = srv->dedup;
	srv->dedup = NULL;
	close_parts(srv);
	rill_store_applied(srv->store, &parent, &seq);
	if (parent == 0) {
		rill_dedup_free(dedup);
		return promote_refused(srv, out, RILL_FAILED_PRECONDITION,
		    seq == 0
		        ? "this follower has loaded no state yet: nothing "
		          "to promote"
		        : "this follower was loading a snapshot: "
		          "nothing to promote yet");
	}
	if ((rv = rill_datadir_read_generation(
	         srv->dd, parent, NULL, &base, NULL)) != RILL_OK ||
	    (rv = fork_after(srv, parent, base, &seq, &moved)) != RILL_OK) {
		rill_dedup_free(dedup);
		dedup = NULL;
	}
	if (rv != RILL_OK || (rv = open_leader(srv, dedup)) != RILL_OK) {
		snprintf(why, sizeof(why),
		    "the promotion failed: %s (see the server's log)",
		    rill_strerror(rv));
		if (moved) {
			// Back where it was: the new generation took no write.
			close_parts(srv);
			undo_generation(srv, parent, seq);
		}
		return promote_refused(srv, out, rv, why);
	}
	publish(srv, NULL);
	out->generation = srv->generation;
	out->parent     = parent;
	out->parent_seq = seq;
	rill_diag_notice("SERVER-PROMOTED",
	    "this node is the leader now, in generation %016" PRIx64
	    " after seq %" PRIu64 " of %016" PRIx64,
	    srv->generation, seq, parent);
	rill_catalog_event(srv->catalog, "promote",
	    "leader in generation %016" PRIx64 " after seq %" PRIu64
	    " of %016" PRIx64,
	    srv->generation, seq, parent);
	rill_admin_set_ready(srv->admin, true, NULL);
	return RILL_OK;
}

static int
admin_promote(void *arg, rill_admin_promotion *out)
{
	rill_server *srv = arg;
	int          rv;

	pthread_mutex_lock(&srv->promote_mu);
	if (srv->closing) {
		snprintf(out->message, sizeof(out->message),
		    "this node is stopping");
		rv = RILL_UNAVAILABLE;
	} else if (!srv->started && srv->cfg->follow[0] != '\0') {
		// The admin API answers before the follow loop runs: a
		// promotion then would be undone by the loop's start.
		snprintf(out->message, sizeof(out->message),
		    "this node is starting; retry");
		rv = RILL_UNAVAILABLE;
	} else {
		rv = promote(srv, out);
	}
	pthread_mutex_unlock(&srv->promote_mu);
	return rv;
}

// Open and close -------------------------------------------------------

// open_catalog opens <data dir>/catalog.db; a new or replaced one is
// rebuilt from the files by the keeper.
static int
open_catalog(rill_server *srv)
{
	char path[PATH_MAX];
	int  rv;

	if ((rv = rill_path_join(path, sizeof(path),
	         rill_datadir_path(srv->dd), "catalog.db")) != RILL_OK) {
		return rv;
	}
	return rill_catalog_open(&srv->catalog, path, &srv->catalog_fresh);
}

static int
open_services(rill_server *srv)
{
	const rill_config *cfg  = srv->cfg;
	const char        *drop = getenv("RILL_TEST_DROP_REPLY_EVERY");
	rill_rpc_options   ro   = {
		    .listen            = cfg->listen,
		    .n_contexts        = (uint32_t) cfg->rpc_contexts,
		    .max_request_bytes = cfg->max_request_bytes,
		    .max_key_bytes     = cfg->max_key_bytes,
		    .max_value_bytes   = cfg->max_value_bytes,
		    .node_id           = rill_datadir_node_id(srv->dd),
		    .started_ms        = srv->started_ms,
		    .tokens            = (const char *const *) cfg->rpc_tokens.v,
		    .n_tokens          = cfg->rpc_tokens.n,
		    .dd                = srv->dd,
		    .catalog           = srv->catalog,
		    .metrics           = &srv->metrics,
		    .followers         = srv->followers,
		    .follow_stats      = follow_stats,
		    .follow_arg        = srv,
		    .drop_reply_every =
                    drop ? (uint32_t) strtoul(drop, NULL, 10) : 0,
	};
	int rv;

	if ((rv = rill_rpc_open(&srv->rpc, &ro)) != RILL_OK) {
		return rv;
	}
	if (strcmp(cfg->admin_listen, "off") != 0) {
		rill_admin_options ao = {
			.listen    = cfg->admin_listen,
			.tokens    = (const char *const *) cfg->admin_tokens.v,
			.n_tokens  = cfg->admin_tokens.n,
			.dd        = srv->dd,
			.catalog   = srv->catalog,
			.metrics   = &srv->metrics,
			.followers = srv->followers,
			.started_ms    = srv->started_ms,
			.ready_max_lag = cfg->ready_max_lag,
			.follow        = admin_follow,
			.promote       = admin_promote,
			.arg           = srv,
		};
		if ((rv = rill_admin_open(&srv->admin, &ao)) != RILL_OK) {
			return rv;
		}
	}
	return RILL_OK;
}

int
rill_server_open(rill_server **serverp, const rill_config *cfg)
{
	rill_server         *srv;
	enum rill_diag_level level;
	int                  rv;

	if (rill_diag_parse_level(cfg->log_level, &level)) {
		rill_diag_set_level(level);
	}
	if ((srv = rill_zalloc(sizeof(*srv))) == NULL) {
		return RILL_ENOMEM;
	}
	srv->cfg = cfg;
	pthread_mutex_init(&srv->promote_mu, NULL);
	atomic_init(&srv->follow_state,
	    cfg->follow[0] != '\0' ? FOLLOW_CONNECTING : FOLLOW_STOPPED);
	srv->advertise = rill_strdup(
	    cfg->advertise[0] != '\0' ? cfg->advertise : cfg->listen);
	srv->started_ms = rill_mono_ms();
	if (srv->advertise == NULL) {
		rv = RILL_ENOMEM;
		goto out_close;
	}
	if ((rv = rill_datadir_open(&srv->dd, cfg->data_dir)) != RILL_OK ||
	    (rv = open_store(srv)) != RILL_OK ||
	    (rv = open_catalog(srv)) != RILL_OK ||
	    (rv = rill_followers_new(&srv->followers, srv->catalog, 0)) !=
	        RILL_OK ||
	    (rv = rill_store_batch_new(&srv->sb)) != RILL_OK) {
		goto out_close;
	}
	// A leader recovers before it listens: a node that cannot start
	// never answers. A follower answers Status while it connects.
	if (cfg->follow[0] == '\0' &&
	    (rv = open_leader(srv, NULL)) != RILL_OK) {
		goto out_close;
	}
	if ((rv = open_services(srv)) != RILL_OK) {
		goto out_close;
	}
	if (cfg->follow[0] == '\0') {
		publish(srv, NULL);
	} else {
		load_bootstraps(srv);
		// The admin API already runs: a promotion may look at the
		// thread as soon as it exists.
		pthread_mutex_lock(&srv->promote_mu);
		rv           = start_following(srv);
		srv->started = rv == RILL_OK;
		pthread_mutex_unlock(&srv->promote_mu);
		if (rv != RILL_OK) {
			goto out_close;
		}
	}
	if (srv->admin != NULL) {
		rill_admin_set_ready(srv->admin, true, NULL);
	}
	rill_diag_notice("SERVER-START", "node %s %s from %s (sync %s)",
	    rill_datadir_node_id(srv->dd),
	    cfg->follow[0] != '\0' ? "following" : "leading", cfg->data_dir,
	    cfg->sync == RILL_SYNC_ALWAYS     ? "always"
	        : cfg->sync == RILL_SYNC_NONE ? "none"
	                                      : "interval");
	if (cfg->follow[0] != '\0') {
		rill_diag_notice("SERVER-FOLLOW", "following %s", cfg->follow);
	} else {
		rill_diag_notice("SERVER-LEAD",
		    "serving generation %016" PRIx64 " at seq %" PRIu64,
		    srv->generation, rill_log_last_seq(srv->log));
	}
	*serverp = srv;
	return RILL_OK;

out_close:
	rill_server_close(srv);
	return rv;
}

void
rill_server_close(rill_server *srv)
{
	if (srv == NULL) {
		return;
	}
	// No promotion may start now; the follow loop ends first (it owns
	// the parts), then the admin API (its handlers use every part),
	// then requests taken are answered while the writer still runs,
	// then the parts close, and the socket and the files last. The
	// admin API closes without promote_mu held: closing waits for its
	// handlers, and a promotion waiting for the mutex is one of them.
	pthread_mutex_lock(&srv->promote_mu);
	srv->closing = true;
	stop_following(srv);
	pthread_mutex_unlock(&srv->promote_mu);
	rill_keeper_shutdown(srv->keeper);
	rill_admin_close(srv->admin);
	srv->admin = NULL;
	if (srv->rpc != NULL) {
		rill_rpc_quiesce(srv->rpc, 10000);
	}
	if (srv->writer != NULL) {
		rill_writer_stats st;
		rill_writer_get_stats(srv->writer, &st);
		rill_diag_notice("SERVER-STOP",
		    "stopping at seq %" PRIu64 " after %" PRIu64
		    " writes in %" PRIu64 " groups (%" PRIu64
		    " retries answered from the dedup table)",
		    rill_log_last_seq(srv->log), st.writes, st.groups,
		    st.duplicates);
	}
	close_parts(srv);
	if (srv->store != NULL) {
		// The next start then replays nothing the store holds.
		rill_store_sync(srv->store);
	}
	rill_rpc_close(srv->rpc);
	rill_followers_free(srv->followers);
	rill_store_batch_free(srv->sb);
	rill_catalog_close(srv->catalog);
	rill_store_close(srv->store);
	rill_datadir_close(srv->dd);
	pthread_mutex_destroy(&srv->promote_mu);
	rill_free(srv->advertise);
	rill_free(srv);
}

int
rill_server_rebuild_catalog(const rill_config *cfg)
{
	rill_server srv = { 0 };
	char        format[PATH_MAX];
	int         rv;

	// A rebuild reads a data dir: it makes none where a path is wrong.
	if ((rv = rill_path_join(format, sizeof(format), cfg->data_dir,
	         "FORMAT")) != RILL_OK) {
		return rv;
	}
	if (access(format, F_OK) != 0) {
		rill_diag_err("SERVER-REBUILD-CATALOG",
		    "%s is not a rill data dir (it holds no FORMAT file)",
		    cfg->data_dir);
		return RILL_ENOENT;
	}
	if ((rv = rill_datadir_open(&srv.dd, cfg->data_dir)) != RILL_OK) {
		return rv;
	}
	if ((rv = open_catalog(&srv)) == RILL_OK) {
		rv = rill_catalog_rebuild(srv.catalog, cfg->data_dir, 0);
	}
	if (rv == RILL_OK) {
		rill_cat_generation *gens;
		rill_cat_snapshot   *snaps;
		rill_cat_segment    *segs;
		size_t               ng = 0, nsn = 0, nse = 0;
		if (rill_catalog_generations(srv.catalog, &gens, &ng) ==
		    RILL_OK) {
			rill_free(gens);
		}
		if (rill_catalog_snapshots(srv.catalog, 0, &snaps, &nsn) ==
		    RILL_OK) {
			rill_free(snaps);
		}
		if (rill_catalog_segments(srv.catalog, 0, &segs, &nse) ==
		    RILL_OK) {
			rill_free(segs);
		}
		rill_diag_notice("SERVER-REBUILD-CATALOG",
		    "catalog of %s rebuilt: %zu generations, %zu snapshots, "
		    "%zu segments",
		    cfg->data_dir, ng, nsn, nse);
	}
	rill_catalog_close(srv.catalog);
	rill_datadir_close(srv.dd);
	return rv;
}
