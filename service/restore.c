// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// restore: plan (which generation, snapshot and records), then build the
// new data dir under a temporary name: load the snapshot, replay the
// records, start a generation with its base snapshot, rename into place.
#include "restore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rill/status.h>

#include "catalog.h"
#include "clock.h"
#include "datadir.h"
#include "diag.h"
#include "file.h"
#include "history.h"
#include "log.h"
#include "mem.h"
#include "rill/v1/rill.pb-c.h"
#include "snapshot.h"
#include "store.h"
#include "upstream.h"

// A load commits to LevelDB every this many bytes of pairs, and a replay
// every this many records.
#define LOAD_BATCH_BYTES ((size_t) 4 << 20)
#define REPLAY_BATCH 1024
#define PROGRESS_EVERY 65536
#define FETCH_BYTES (4u << 20)

// build is a restore in progress.
typedef struct build {
	const rill_restore_options *o;
	char                        tmp[PATH_MAX];
	rill_datadir               *dd;
	rill_store                 *store;
	rill_store_batch           *batch;
	uint64_t                    generation; // the new one
	uint64_t                    applied;    // the last seq applied
	uint64_t                    stop_seq;   // UINT64_MAX: no bound
	uint64_t                    stop_time;  // UINT64_MAX: no bound
	uint64_t                    pending;    // records in batch
	uint64_t                    records;
	bool                        stopped; // passed the point
} build;

static void
progress(build *b, const char *phase, uint64_t done, uint64_t total)
{
	if (b->o->progress != NULL) {
		rill_restore_progress p = { phase, done, total };
		b->o->progress(b->o->progress_arg, &p);
	}
}

bool
rill_restore_is_url(const char *from)
{
	return strstr(from, "://") != NULL;
}

// Building ---------------------------------------------------------------

static int
build_open(build *b, uint64_t parent, uint64_t parent_seq)
{
	char               path[PATH_MAX];
	rill_store_options so = { .write_buffer_bytes = 64u << 20 };
	int                rv;

	if ((rv = rill_datadir_open(&b->dd, b->tmp)) != RILL_OK ||
	    (rv = rill_datadir_new_generation(
	         b->dd, parent, parent_seq, &b->generation)) != RILL_OK ||
	    (rv = rill_datadir_store_path(b->dd, path, sizeof(path))) !=
	        RILL_OK ||
	    (rv = rill_store_open(&b->store, path, &so)) != RILL_OK ||
	    (rv = rill_store_batch_new(&b->batch)) != RILL_OK) {
		return rv;
	}
	return RILL_OK;
}

static void
build_close(build *b)
{
	rill_store_batch_free(b->batch);
	b->batch = NULL;
	rill_store_close(b->store);
	b->store = NULL;
	rill_datadir_close(b->dd);
	b->dd = NULL;
}

// load_snapshot loads every pair of the snapshot file at path, checking
// it whole, and returns its description.
static int
load_snapshot(build *b, const char *path, rill_snapshot_info *info)
{
	rill_snapshot_reader *r;
	const char           *k, *v;
	size_t                kl, vl, bytes = 0;
	uint64_t              n = 0;
	int                   rv;

	if ((rv = rill_snapshot_reader_open(&r, path, info)) != RILL_OK) {
		return rv;
	}
	while (
	    (rv = rill_snapshot_reader_next(r, &k, &kl, &v, &vl)) == RILL_OK) {
		if ((rv = rill_store_batch_put(b->batch, k, kl, v, vl)) !=
		    RILL_OK) {
			break;
		}
		bytes += kl + vl + 16;
		if (++n % PROGRESS_EVERY == 0) {
			progress(b, "snapshot", n, info->key_count);
		}
		if (bytes >= LOAD_BATCH_BYTES) {
			// A part of the snapshot is no position: (0, 1) says
			// so, as a follower's load does (see choose_generation
			// in server.c), should this part outlive the rest.
			if ((rv = rill_store_commit(
			         b->store, b->batch, 0, 1)) != RILL_OK) {
				break;
			}
			bytes = 0;
		}
	}
	rill_snapshot_reader_close(r);
	if (rv != RILL_NOT_FOUND) {
		return rv == RILL_OK ? RILL_INTERNAL : rv;
	}
	progress(b, "snapshot", n, info->key_count);
	b->applied = info->seq;
	return rill_store_commit(b->store, b->batch, b->generation, info->seq);
}

static int
flush_replay(build *b)
{
	int rv;

	if (b->pending == 0) {
		return RILL_OK;
	}
	rv = rill_store_commit(b->store, b->batch, b->generation, b->applied);
	b->pending = 0;
	return rv;
}

// apply_record replays one record, or ends the replay (RILL_CANCELLED)
// once the point is passed.
static int
apply_record(void *arg, const rill_record *rec)
{
	build *b = arg;
	int    rv;

	if (rec->seq <= b->applied) {
		return RILL_OK; // before the snapshot
	}
	if (rec->seq > b->stop_seq || rec->time_us > b->stop_time) {
		b->stopped = true;
		return RILL_CANCELLED;
	}
	if (rec->seq != b->applied + 1) {
		rill_diag_err("RESTORE-GAP",
		    "the history jumps from seq %" PRIu64 " to seq %" PRIu64
		    ": records are missing",
		    b->applied, rec->seq);
		return RILL_ECORRUPT;
	}
	if ((rv = rill_store_batch_add_encoded(
	         b->batch, rec->batch, rec->batch_len)) != RILL_OK) {
		rill_diag_err("RESTORE-RECORD",
		    "the record at seq %" PRIu64 " holds no valid batch",
		    rec->seq);
		return rv;
	}
	b->applied = rec->seq;
	b->records++;
	if (++b->pending >= REPLAY_BATCH) {
		if ((rv = flush_replay(b)) != RILL_OK) {
			return rv;
		}
	}
	if (b->records % PROGRESS_EVERY == 0) {
		progress(b, "log", b->records, 0);
	}
	return RILL_OK;
}

// write_catalog starts the new data dir's catalog with its generation,
// its base snapshot and the restore itself.
static int
write_catalog(build *b, uint64_t parent, const rill_snapshot_info *info)
{
	rill_catalog *c;
	char          path[PATH_MAX];
	bool          fresh;
	int           rv;

	snprintf(path, sizeof(path), "%s/catalog.db", b->tmp);
	rill_cat_generation g = { .id = b->generation };
	if ((rv = rill_generation_read(b->tmp, b->generation, &g.parent,
	         &g.parent_seq, &g.created_us)) != RILL_OK ||
	    (rv = rill_catalog_open(&c, path, &fresh)) != RILL_OK) {
		return rv;
	}
	rill_cat_snapshot s = {
		.generation = info->generation,
		.seq        = info->seq,
		.key_count  = info->key_count,
		.size       = info->file_size,
		.raw_bytes  = info->raw_bytes,
		.created_us = info->created_us,
		.state_hash = info->state_hash,
	};
	if ((rv = rill_catalog_put_generation(c, &g)) == RILL_OK &&
	    (rv = rill_catalog_put_snapshot(c, &s)) == RILL_OK) {
		rv = rill_catalog_event(c, "restore",
		    "restored %s at seq %" PRIu64 " (generation %016" PRIx64
		    ", %" PRIu64 " keys, %" PRIu64
		    " log records replayed) into generation %016" PRIx64,
		    b->o->from, info->seq, parent, info->key_count, b->records,
		    b->generation);
	}
	rill_catalog_close(c);
	return rv;
}

// finish checks that the point was reached, writes the new generation's
// base snapshot and moves the build into place.
static int
finish(build *b, uint64_t parent, rill_restore_result *res)
{
	char               dir[PATH_MAX], parent_dir[PATH_MAX], *slash;
	rill_snapshot_info info;
	int                rv;

	if ((rv = flush_replay(b)) != RILL_OK) {
		return rv;
	}
	if (b->stop_seq != UINT64_MAX && b->applied < b->stop_seq) {
		rill_diag_err("RESTORE-RANGE",
		    "seq %" PRIu64 " is beyond the history, which ends at seq "
		    "%" PRIu64,
		    b->stop_seq, b->applied);
		return RILL_OUT_OF_RANGE;
	}
	progress(b, "finish", 0, 0);
	// The new generation begins at the restored point, which its
	// GENERATION file must name: it was created before the point was
	// known, so write it again now.
	rill_datadir_close(b->dd);
	b->dd = NULL;
	if ((rv = rill_history_gen_dir(
	         dir, sizeof(dir), b->tmp, b->generation)) != RILL_OK) {
		return rv;
	}
	char text[256];
	int  len = snprintf(text, sizeof(text),
	     "rill-generation v1\nid %016" PRIx64 "\nparent %016" PRIx64
	     "\nparent_seq %" PRIu64 "\ncreated_us %" PRIu64 "\n",
	     b->generation, parent, b->applied, rill_wall_us());
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/GENERATION", dir);
	if ((rv = rill_file_write_atomic(path, text, (size_t) len)) !=
	    RILL_OK) {
		return rv;
	}
	strncat(dir, "/snapshots", sizeof(dir) - strlen(dir) - 1);
	if ((rv = rill_mkdirs(dir)) != RILL_OK ||
	    (rv = rill_snapshot_write_store(b->store, dir, b->generation, NULL,
	         NULL, &info)) != RILL_OK) {
		return rv;
	}
	if ((rv = write_catalog(b, parent, &info)) != RILL_OK) {
		return rv;
	}
	res->generation        = b->generation;
	res->parent_generation = parent;
	res->seq               = b->applied;
	res->keys              = info.key_count;
	res->records           = b->records;
	res->state_hash        = info.state_hash;
	rill_store_batch_free(b->batch);
	b->batch = NULL;
	// LevelDB syncs its tables, not its log: make the store's last
	// writes durable before the dir takes its name.
	if ((rv = rill_store_sync(b->store)) != RILL_OK) {
		return rv;
	}
	rill_store_close(b->store);
	b->store = NULL;
	if (rename(b->tmp, b->o->to) != 0) {
		rill_diag_err("RESTORE-RENAME", "cannot rename %s to %s: %s",
		    b->tmp, b->o->to, strerror(errno));
		return RILL_EIO;
	}
	snprintf(parent_dir, sizeof(parent_dir), "%s", b->o->to);
	slash = strrchr(parent_dir, '/');
	if (slash == parent_dir) {
		slash[1] = '\0';
	} else if (slash != NULL) {
		*slash = '\0';
	} else {
		strcpy(parent_dir, ".");
	}
	return rill_fsync_dir(parent_dir);
}

// node is the node a restore reads from over RPC.
typedef struct node {
	rill_upstream *up;
	uint32_t       timeout_ms;
} node;
static int node_open(
    node *n, const char *url, const char *auth_token, uint32_t timeout_ms);
static void node_close(node *n);
static int  fetch_records(build *b, node *n, const char *gen_hex);

// From files -------------------------------------------------------------

static struct rill_hist_snapshot *newest_snapshot(
    rill_hist_generation *g, uint64_t seq, uint64_t time_us);

// pick_by_seq walks the lineage from g back to the generation whose
// history holds seq.
static rill_hist_generation *
pick_by_seq(rill_history *h, rill_hist_generation *g, uint64_t seq)
{
	// A generation begins after parent_seq, from its base snapshot at
	// parent_seq: seq parent_seq itself is the child's too when that
	// snapshot is there (a restored dir holds no parent).
	while (g != NULL && g->parent != 0 &&
	    (seq < g->parent_seq ||
	        (seq == g->parent_seq &&
	            newest_snapshot(g, seq, UINT64_MAX) == NULL))) {
		rill_hist_generation *p = rill_history_find(h, g->parent);
		if (p == NULL) {
			rill_diag_err("RESTORE-RANGE",
			    "seq %" PRIu64 " is before generation %016" PRIx64
			    " began (after seq %" PRIu64
			    "), and its parent %016" PRIx64 " is not in %s",
			    seq, g->id, g->parent_seq, g->parent, h->root);
			return NULL;
		}
		g = p;
	}
	return g;
}

// newest_snapshot returns the newest whole snapshot of g at or before
// seq and created at or before time_us, or NULL.
static struct rill_hist_snapshot *
newest_snapshot(rill_hist_generation *g, uint64_t seq, uint64_t time_us)
{
	for (size_t i = g->n_snapshots; i-- > 0;) {
		struct rill_hist_snapshot *s = &g->snapshots[i];
		if (s->ok && s->seq <= seq && s->info.created_us <= time_us) {
			return s;
		}
	}
	return NULL;
}

// damaged_snapshot fails (RILL_ECORRUPT, logged) when g holds a damaged
// snapshot at a seq from lo to hi: one the restore would start from, or
// pass over for an older one. Damage fails a restore, as any other: the
// operator sees it, and may remove the file to go on from an older
// snapshot and the log. A file gone since the listing (retention) is no
// damage.
static int
damaged_snapshot(
    const char *root, const rill_hist_generation *g, uint64_t lo, uint64_t hi)
{
	char        path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < g->n_snapshots; i++) {
		const struct rill_hist_snapshot *s = &g->snapshots[i];
		if (s->ok || s->seq < lo || s->seq > hi) {
			continue;
		}
		if (rill_history_snapshot_path(
		        path, sizeof(path), root, g->id, s->seq) != RILL_OK) {
			return RILL_EIO;
		}
		if (stat(path, &st) != 0 && errno == ENOENT) {
			continue;
		}
		rill_diag_err("RESTORE-DAMAGED",
		    "%s is damaged (see above): it is a snapshot of the "
		    "history to restore; remove it to restore from an older "
		    "snapshot and the log",
		    path);
		return RILL_ECORRUPT;
	}
	return RILL_OK;
}

static int
restore_from_dir(build *b, rill_restore_result *res)
{
	const rill_restore_options *o = b->o;
	rill_history               *h;
	rill_hist_generation       *g    = NULL;
	struct rill_hist_snapshot  *snap = NULL;
	rill_snapshot_info          info;
	char                        path[PATH_MAX];
	int                         rv;

	if ((rv = rill_history_load(o->from, &h)) != RILL_OK) {
		return rv;
	}
	if (h->n_gens == 0) {
		rill_diag_err("RESTORE-EMPTY",
		    "%s holds no history (no generations/ with a generation)",
		    o->from);
		rv = RILL_NOT_FOUND;
		goto out;
	}
	g = o->generation != 0 ? rill_history_find(h, o->generation)
	                       : &h->gens[h->n_gens - 1];
	if (g == NULL) {
		rill_diag_err("RESTORE-GENERATION",
		    "generation %016" PRIx64 " is not in %s", o->generation,
		    o->from);
		rv = RILL_NOT_FOUND;
		goto out;
	}
	if (o->has_time) {
		// The first generation back whose snapshots reach the time.
		while (g != NULL &&
		    (snap = newest_snapshot(g, UINT64_MAX, o->time_us)) ==
		        NULL) {
			g = g->parent ? rill_history_find(h, g->parent) : NULL;
		}
		if (snap == NULL) {
			rill_diag_err("RESTORE-RANGE",
			    "the time %" PRIu64 " (us since the epoch) is "
			    "before the oldest snapshot in %s",
			    o->time_us, o->from);
			rv = RILL_OUT_OF_RANGE;
			goto out;
		}
	} else {
		if (o->has_seq && (g = pick_by_seq(h, g, o->seq)) == NULL) {
			rv = RILL_OUT_OF_RANGE;
			goto out;
		}
		uint64_t at = o->has_seq ? o->seq : UINT64_MAX;
		snap        = newest_snapshot(g, at, UINT64_MAX);
		if ((rv = damaged_snapshot(o->from, g,
		         snap != NULL ? snap->seq + 1 : 0, at)) != RILL_OK) {
			goto out;
		}
		if (snap == NULL) {
			rill_diag_err("RESTORE-RANGE",
			    "generation %016" PRIx64 " in %s has no whole "
			    "snapshot at or before seq %" PRIu64,
			    g->id, o->from, at);
			rv = RILL_OUT_OF_RANGE;
			goto out;
		}
	}
	b->stop_seq  = o->has_seq ? o->seq : UINT64_MAX;
	b->stop_time = o->has_time ? o->time_us : UINT64_MAX;
	if ((rv = build_open(b, g->id, snap->seq)) != RILL_OK ||
	    (rv = rill_history_snapshot_path(
	         path, sizeof(path), o->from, g->id, snap->seq)) != RILL_OK ||
	    (rv = load_snapshot(b, path, &info)) != RILL_OK) {
		goto out;
	}
	res->snapshot_seq = info.seq;
	// The segments from the one holding the seq after the snapshot.
	size_t first = g->n_segments;
	for (size_t i = 0; i < g->n_segments; i++) {
		if (g->segments[i] <= snap->seq + 1) {
			first = i;
		}
	}
	// Records after the snapshot exist, but not the ones right after
	// it: whatever the point asked (a seq, a time, the newest state),
	// the state there cannot be built.
	if (first == g->n_segments && g->n_segments > 0 &&
	    b->stop_seq > snap->seq) {
		rill_diag_err("RESTORE-RANGE",
		    "the records after seq %" PRIu64
		    " (the snapshot) are no longer held: the log of "
		    "generation %016" PRIx64 " starts at seq %" PRIu64,
		    snap->seq, g->id, g->segments[0]);
		rv = RILL_OUT_OF_RANGE;
		goto out;
	}
	for (size_t i = first; i < g->n_segments && !b->stopped; i++) {
		rill_segment_info si;
		bool              last = i + 1 == g->n_segments;
		if ((rv = rill_history_segment_path(path, sizeof(path),
		         o->from, g->id, g->segments[i])) != RILL_OK) {
			goto out;
		}
		rv = rill_segment_scan(path, last, apply_record, b, &si);
		if (rv == RILL_CANCELLED) {
			rv = RILL_OK;
		}
		if (rv != RILL_OK) {
			goto out;
		}
	}
	// A time restore learns how far it goes from the log: no damaged
	// snapshot may lie between its snapshot and there.
	if (o->has_time &&
	    (rv = damaged_snapshot(o->from, g, snap->seq + 1, b->applied)) !=
	        RILL_OK) {
		goto out;
	}
	if (o->catch_up_url != NULL) {
		node n = { 0 };
		char hex[17];
		snprintf(hex, sizeof(hex), "%016" PRIx64, g->id);
		b->stop_seq = o->catch_up_seq;
		b->stopped  = false;
		if ((rv = node_open(&n, o->catch_up_url, o->auth_token,
		         o->timeout_ms)) != RILL_OK) {
			goto out;
		}
		rv = fetch_records(b, &n, hex);
		node_close(&n);
		if (rv != RILL_OK) {
			goto out;
		}
	}
	rv = finish(b, g->id, res);
out:
	rill_history_free(h);
	return rv;
}

// From a node ------------------------------------------------------------

// call sends req and returns the decoded response (free with
// rill__v1__response__free_unpacked), or an error after logging it.
static int
call(node *n, Rill__V1__Request *req, Rill__V1__Response **respp)
{
	const char         *url = rill_upstream_url(n->up);
	Rill__V1__Response *resp;
	int                 rv;

	if ((rv = rill_upstream_call(n->up, req, n->timeout_ms, &resp)) !=
	    RILL_OK) {
		rill_diag_err("RESTORE-RPC",
		    "no answer from %s within %" PRIu32 " ms: %s", url,
		    n->timeout_ms, rill_strerror(rv));
		return rv;
	}
	if (resp->code != RILL__V1__CODE__OK) {
		int code = (int) resp->code; // wire codes are rill codes
		rill_diag_err("RESTORE-RPC", "%s: %s", url,
		    resp->message[0] ? resp->message : rill_strerror(code));
		rill__v1__response__free_unpacked(resp, NULL);
		return code;
	}
	*respp = resp;
	return RILL_OK;
}

static int
node_open(
    node *n, const char *url, const char *auth_token, uint32_t timeout_ms)
{
	n->timeout_ms = timeout_ms ? timeout_ms : 10000;
	return rill_upstream_open(&n->up, url, auth_token);
}

static void
node_close(node *n)
{
	rill_upstream_close(n->up);
	n->up = NULL;
}

// download_progress reports a download's bytes as the restore's progress.
static void
download_progress(void *arg, uint64_t done, uint64_t total)
{
	progress(arg, "download", done, total);
}

// download fetches the snapshot the restore starts from into path and
// checks it whole, against the state hash the node announced.
static int
download(build *b, node *n, const char *path, rill_snapshot_info *info)
{
	const rill_restore_options *o = b->o;
	rill_upstream_download_opts d = {
		.deadline_ms  = n->timeout_ms,
		.log_tag      = "RESTORE-DOWNLOAD",
		.progress     = download_progress,
		.progress_arg = b,
	};

	if (o->has_seq) {
		d.seq          = o->seq;
		d.at_or_before = true;
	}
	if (o->has_time) {
		d.before_us = o->time_us;
	}
	return rill_upstream_download(n->up, path, &d, info);
}

// fetch_records replays the records of generation gen_hex that node n
// holds after the build's applied seq, up to its stop.
static int
fetch_records(build *b, node *n, const char *gen_hex)
{
	Rill__V1__Request         req = RILL__V1__REQUEST__INIT;
	Rill__V1__FetchLogRequest f   = RILL__V1__FETCH_LOG_REQUEST__INIT;
	Rill__V1__Response       *resp;
	int                       rv = RILL_OK;

	req.body_case = RILL__V1__REQUEST__BODY_FETCH_LOG;
	req.fetch_log = &f;
	f.generation  = (char *) gen_hex;
	f.max_bytes   = FETCH_BYTES;
	while (!b->stopped && b->applied < b->stop_seq) {
		f.after_seq = b->applied;
		if ((rv = call(n, &req, &resp)) != RILL_OK) {
			return rv;
		}
		const Rill__V1__FetchLogResponse *fl = resp->fetch_log;
		for (size_t i = 0; i < fl->n_records && rv == RILL_OK; i++) {
			const Rill__V1__LogRecord *lr  = fl->records[i];
			rill_record                rec = {
				               .seq        = lr->seq,
				               .time_us    = lr->time_us,
				               .client_id  = lr->client_id,
				               .request_id = lr->request_id,
				               .batch      = lr->batch.data,
				               .batch_len  = lr->batch.len,
			};
			rv = apply_record(b, &rec);
		}
		bool empty = fl->n_records == 0;
		rill__v1__response__free_unpacked(resp, NULL);
		if (rv == RILL_CANCELLED) {
			return RILL_OK;
		}
		if (rv != RILL_OK || empty) {
			return rv; // an error, or the node holds nothing more
		}
	}
	return RILL_OK;
}

static int
restore_from_node(build *b, rill_restore_result *res)
{
	const rill_restore_options *o   = b->o;
	node                        n   = { 0 };
	Rill__V1__Request           req = RILL__V1__REQUEST__INIT;
	Rill__V1__StatusRequest     st  = RILL__V1__STATUS_REQUEST__INIT;
	Rill__V1__Response         *resp;
	rill_snapshot_info          info;
	char                        path[PATH_MAX] = "", gen_hex[17];
	uint64_t                    gen            = 0, last;
	int                         rv;

	if ((rv = node_open(&n, o->from, o->auth_token, o->timeout_ms)) !=
	    RILL_OK) {
		return rv;
	}
	req.body_case = RILL__V1__REQUEST__BODY_STATUS;
	req.status    = &st;
	if ((rv = call(&n, &req, &resp)) != RILL_OK) {
		goto out;
	}
	last = resp->status->last_seq;
	snprintf(gen_hex, sizeof(gen_hex), "%s", resp->status->generation);
	rill__v1__response__free_unpacked(resp, NULL);
	if (o->generation != 0 &&
	    o->generation != strtoull(gen_hex, NULL, 16)) {
		rill_diag_err("RESTORE-GENERATION",
		    "%s serves generation %s; over RPC only the current "
		    "generation can be restored (use a data dir or backup "
		    "for generation %016" PRIx64 ")",
		    o->from, gen_hex, o->generation);
		rv = RILL_FAILED_PRECONDITION;
		goto out;
	}
	if (o->has_seq && o->seq > last) {
		rill_diag_err("RESTORE-RANGE",
		    "seq %" PRIu64 " is beyond the history of %s, which ends "
		    "at seq %" PRIu64,
		    o->seq, o->from, last);
		rv = RILL_OUT_OF_RANGE;
		goto out;
	}
	b->stop_seq  = o->has_seq ? o->seq : last;
	b->stop_time = o->has_time ? o->time_us : UINT64_MAX;
	// The download lies beside the build dir, and goes with it.
	snprintf(path, sizeof(path), "%s.snap", b->tmp);
	if ((rv = download(b, &n, path, &info)) != RILL_OK) {
		if (rv == RILL_NOT_FOUND && o->has_time) {
			rill_diag_err("RESTORE-RANGE",
			    "the time %" PRIu64 " (us since the epoch) is "
			    "before the oldest snapshot %s holds",
			    o->time_us, o->from);
			rv = RILL_OUT_OF_RANGE;
		}
		goto out;
	}
	gen = info.generation;
	if ((rv = build_open(b, gen, info.seq)) != RILL_OK ||
	    (rv = load_snapshot(b, path, &info)) != RILL_OK) {
		goto out;
	}
	res->snapshot_seq = info.seq;
	if ((rv = fetch_records(b, &n, gen_hex)) != RILL_OK) {
		goto out;
	}
	rv = finish(b, gen, res);
out:
	if (path[0] != '\0') {
		char infopath[PATH_MAX + 8];
		snprintf(infopath, sizeof(infopath), "%s.info", path);
		unlink(path);
		unlink(infopath);
	}
	node_close(&n);
	return rv;
}

int
rill_restore_node_hash(const char *url, const char *auth_token,
    uint32_t timeout_ms, char *gen, uint64_t *seqp, uint64_t *hashp)
{
	node                  n   = { 0 };
	Rill__V1__Request     req = RILL__V1__REQUEST__INIT;
	Rill__V1__HashRequest h   = RILL__V1__HASH_REQUEST__INIT;
	Rill__V1__Response   *resp;
	int                   rv;

	if ((rv = node_open(&n, url, auth_token, timeout_ms)) != RILL_OK) {
		return rv;
	}
	req.body_case = RILL__V1__REQUEST__BODY_HASH;
	req.hash      = &h;
	if ((rv = call(&n, &req, &resp)) == RILL_OK) {
		snprintf(gen, 17, "%s", resp->hash->generation);
		*seqp  = resp->hash->seq;
		*hashp = strtoull(resp->hash->hash, NULL, 16);
		rill__v1__response__free_unpacked(resp, NULL);
	}
	node_close(&n);
	return rv;
}

int
rill_restore(const rill_restore_options *o, rill_restore_result *res)
{
	build b = { .o = o, .stop_seq = UINT64_MAX, .stop_time = UINT64_MAX };
	struct stat st;
	int         rv;

	memset(res, 0, sizeof(*res));
	if (stat(o->to, &st) == 0 || errno != ENOENT) {
		rill_diag_err("RESTORE-TARGET",
		    "%s already exists: restore builds a new data dir and "
		    "never writes into an existing path",
		    o->to);
		return RILL_ALREADY_EXISTS;
	}
	if (snprintf(b.tmp, sizeof(b.tmp), "%s.restoring-%d", o->to,
	        (int) getpid()) >= (int) sizeof(b.tmp)) {
		return RILL_INVALID_ARGUMENT;
	}
	rill_remove_tree(b.tmp); // a leftover of a crashed restore by this pid
	rv = rill_restore_is_url(o->from) ? restore_from_node(&b, res)
	                                  : restore_from_dir(&b, res);
	build_close(&b);
	if (rv != RILL_OK) {
		rill_remove_tree(b.tmp);
	}
	return rv;
}
