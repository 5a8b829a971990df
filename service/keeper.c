// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// keeper: one thread that takes snapshots, indexes sealed segments,
// copies both to the backups and applies retention. Work arrives through
// a small queue under one mutex; the thread does the disk work unlocked.
#include "keeper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rill/status.h>

#include "clock.h"
#include "diag.h"
#include "file.h"
#include "history.h"
#include "mem.h"
#include "snapshot.h"

// The thread looks at its timers this often when nothing wakes it.
#define TICK_MS 500
// A backup a copy failed to is sent what it lacks again this often.
#define BACKUP_RETRY_MS 2000
#define COPY_BUF ((size_t) 1 << 20)
// The keeper thread's nice value: background work.
#define KEEPER_NICE 19
// The followers table reaches the catalog this often.
#define FOLLOWERS_PERSIST_MS 5000
// CHECKPOINT_MS is how often the store's writes are synced (when it moved),
// bounding what a start replays from the log (see rill_store_durable).
#define CHECKPOINT_MS 5000

typedef struct sealed {
	uint64_t first_seq;
	uint64_t last_seq;
} sealed;

typedef struct backup {
	char    *path;
	uint32_t retain_snapshots;
	uint64_t retain_age_ms;
	uint64_t covered_seq; // the newest seq copied there
	// After a failed copy: the seq before the oldest file it lacks
	// (UINT64_MAX: none), and when to copy what it lacks again (0: no
	// retry due). What it holds ends there, whatever came after.
	uint64_t hole_seq;
	uint64_t retry_ms;
} backup;

struct rill_keeper {
	rill_keeper_options o;
	char                root[PATH_MAX];
	backup             *backups;
	size_t              n_backups;
	pthread_t           thread;
	bool                started;

	pthread_mutex_t   mu;   // guards what follows, up to the stats
	pthread_cond_t    cv;   // work for the thread
	pthread_cond_t    done; // a request was served
	bool              closing;
	bool              shutdown; // rill_keeper_shutdown was called
	sealed           *sealed;
	size_t            n_sealed, cap_sealed;
	uint64_t          snap_asked, snap_done; // tickets
	int               snap_rv;
	rill_cat_snapshot snap_last;
	uint64_t          ret_asked, ret_done;
	int               ret_rv;

	// The thread's own.
	uint64_t newest_seq;        // of the current generation's newest
	uint64_t newest_created_us; // snapshot
	uint64_t snap_t0_ns;        // the running snapshot's start, and
	uint64_t snap_blocks;       // the blocks it wrote, for pacing
	bool     retention_held;    // the data dir's waits for a backup
	uint64_t bytes_base;        // metrics write_bytes when the log
	                            // since the newest snapshot was empty
	uint64_t persisted_ms;      // monotonic: the followers' last persist
	uint64_t checkpoint_ms;     // monotonic: the store's last sync

	_Atomic uint64_t st_snapshots, st_snapshot_bytes, st_newest_seq,
	    st_backup_seq, st_running;
};

static void event(rill_keeper *k, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// event records an event in the catalog; a failure there is counted and
// logged, never fatal (the catalog is an index).
static void
event(rill_keeper *k, const char *kind, const char *fmt, ...)
{
	char    text[480];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (rill_catalog_event(k->o.catalog, kind, "%s", text) != RILL_OK) {
		rill_metrics_error(k->o.metrics, RILL_ERROR_CATALOG);
	}
}

static void
count_error(rill_keeper *k, enum rill_error_kind kind)
{
	if (k->o.metrics != NULL) {
		rill_metrics_error(k->o.metrics, kind);
	}
}

static uint64_t
write_bytes(rill_keeper *k)
{
	return k->o.metrics == NULL
	    ? 0
	    : atomic_load_explicit(
	          &k->o.metrics->write_bytes, memory_order_relaxed);
}

// Copies -----------------------------------------------------------------

// keeper_shutting_down tells whether rill_keeper_shutdown was called.
static bool
keeper_shutting_down(rill_keeper *k)
{
	bool shutdown;

	pthread_mutex_lock(&k->mu);
	shutdown = k->shutdown;
	pthread_mutex_unlock(&k->mu);
	return shutdown;
}

// copy_file copies src to dst durably (temporary name, fsync, rename,
// directory fsync), creating dst's directory. An existing dst of the same
// size is kept: the files copied never change once whole. RILL_CANCELLED
// when the process stops meanwhile (rill_keeper_shutdown).
static int
copy_file(rill_keeper *k, const char *src, const char *dst)
{
	char        tmp[PATH_MAX], dir[PATH_MAX], *slash;
	struct stat ss, ds;
	uint8_t    *buf = NULL;
	int         in = -1, out = -1, rv = RILL_EIO;
	ssize_t     got;

	if (stat(src, &ss) != 0) {
		rill_diag_err(
		    "KEEPER-COPY", "cannot read %s: %s", src, strerror(errno));
		return errno == ENOENT ? RILL_ENOENT : RILL_EIO;
	}
	if (stat(dst, &ds) == 0 && ds.st_size == ss.st_size) {
		return RILL_OK;
	}
	snprintf(dir, sizeof(dir), "%s", dst);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
	}
	if (rill_mkdirs(dir) != RILL_OK ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= (int) sizeof(tmp)) {
		return RILL_EIO;
	}
	if ((buf = rill_alloc(COPY_BUF)) == NULL) {
		return RILL_ENOMEM;
	}
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	        0) {
		rill_diag_err("KEEPER-COPY", "cannot open %s: %s",
		    in < 0 ? src : tmp, strerror(errno));
		goto out;
	}
	while ((got = read(in, buf, COPY_BUF)) > 0) {
		if (keeper_shutting_down(k)) {
			rv = RILL_CANCELLED; // see rill_keeper_shutdown
			goto out;
		}
		if (rill_write_full(out, buf, (size_t) got) != 0) {
			rill_diag_err("KEEPER-COPY", "cannot write %s: %s",
			    tmp, strerror(errno));
			goto out;
		}
	}
	if (got < 0) {
		rill_diag_err(
		    "KEEPER-COPY", "cannot read %s: %s", src, strerror(errno));
		goto out;
	}
	if (fsync(out) != 0) {
		rill_diag_err(
		    "KEEPER-COPY", "cannot sync %s: %s", tmp, strerror(errno));
		goto out; // closes out
	}
	if (close(out) != 0) {
		out = -1;
		rill_diag_err("KEEPER-COPY", "cannot close %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	out = -1;
	if (rename(tmp, dst) != 0) {
		rill_diag_err("KEEPER-COPY", "cannot rename %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	rv = rill_fsync_dir(dir);
out:
	if (in >= 0) {
		close(in);
	}
	if (out >= 0) {
		close(out);
	}
	if (rv != RILL_OK) {
		unlink(tmp);
	}
	rill_free(buf);
	return rv;
}

// backup_generation makes sure backup b has the GENERATION file of
// generation. A new generation dir is built under a name no generation
// has (readers skip it) and renamed into place with its GENERATION, so a
// crash never leaves the backup a generation dir without one.
static int
backup_generation(rill_keeper *k, const backup *b, uint64_t generation)
{
	char        src[PATH_MAX], dir[PATH_MAX], dst[PATH_MAX + 16];
	char        fresh[PATH_MAX + 16], gens[PATH_MAX + 16];
	struct stat st;
	int         rv;

	if ((rv = rill_history_gen_dir(
	         src, sizeof(src), k->root, generation)) != RILL_OK ||
	    (rv = rill_history_gen_dir(
	         dir, sizeof(dir), b->path, generation)) != RILL_OK) {
		return rv;
	}
	strncat(src, "/GENERATION", sizeof(src) - strlen(src) - 1);
	snprintf(dst, sizeof(dst), "%s/GENERATION", dir);
	if (stat(dir, &st) == 0) {
		// There already: copy_file puts GENERATION in if it lacks it.
		return copy_file(k, src, dst);
	}
	snprintf(fresh, sizeof(fresh), "%s.new", dir);
	snprintf(gens, sizeof(gens), "%s/generations", b->path);
	rill_remove_tree(fresh); // left by a crash
	snprintf(dst, sizeof(dst), "%s/GENERATION", fresh);
	if ((rv = copy_file(k, src, dst)) != RILL_OK) {
		return rv;
	}
	if (rename(fresh, dir) != 0) {
		rill_diag_err("KEEPER-COPY", "cannot rename %s: %s", fresh,
		    strerror(errno));
		return RILL_EIO;
	}
	return rill_fsync_dir(gens);
}

// backup_copy copies a generation's file (a snapshot when is_snapshot,
// else a segment, named by seq) to every backup, and notes seq covered.
static void
backup_copy(rill_keeper *k, uint64_t generation, bool is_snapshot,
    uint64_t seq, uint64_t covers)
{
	char     src[PATH_MAX], dst[PATH_MAX];
	uint64_t low = UINT64_MAX;

	for (size_t i = 0; i < k->n_backups; i++) {
		backup *b = &k->backups[i];
		int     rv;

		if (is_snapshot) {
			rill_history_snapshot_path(
			    src, sizeof(src), k->root, generation, seq);
			rv = rill_history_snapshot_path(
			    dst, sizeof(dst), b->path, generation, seq);
		} else {
			rill_history_segment_path(
			    src, sizeof(src), k->root, generation, seq);
			rv = rill_history_segment_path(
			    dst, sizeof(dst), b->path, generation, seq);
		}
		if (rv == RILL_OK) {
			rv = backup_generation(k, b, generation);
		}
		if (rv == RILL_OK) {
			rv = copy_file(k, src, dst);
		}
		if (rv != RILL_OK) {
			uint64_t before = seq > 0 ? seq - 1 : 0;
			if (rv != RILL_CANCELLED) {
				count_error(k, RILL_ERROR_BACKUP);
				event(k, "error",
				    "backup to %s: copying %s failed: %s "
				    "(tried again every %d s)",
				    b->path, src, rill_strerror(rv),
				    BACKUP_RETRY_MS / 1000);
			}
			if (before < b->hole_seq) {
				b->hole_seq = before;
			}
			if (b->retry_ms == 0) {
				b->retry_ms = rill_mono_ms() + BACKUP_RETRY_MS;
			}
		} else if (covers > b->covered_seq) {
			b->covered_seq = covers;
		}
		uint64_t held = b->covered_seq < b->hole_seq ? b->covered_seq
		                                             : b->hole_seq;
		if (held < low) {
			low = held;
		}
	}
	if (k->n_backups > 0) {
		atomic_store(&k->st_backup_seq, low);
	}
}

// backup_hole returns the lowest hole_seq of the backups (UINT64_MAX: no
// backup lacks a file).
static uint64_t
backup_hole(const rill_keeper *k)
{
	uint64_t low = UINT64_MAX;

	for (size_t i = 0; i < k->n_backups; i++) {
		if (k->backups[i].hole_seq < low) {
			low = k->backups[i].hole_seq;
		}
	}
	return low;
}

// backup_retry_due tells whether a backup a copy failed to is due for
// another round of backup_all.
static bool
backup_retry_due(const rill_keeper *k)
{
	uint64_t now = rill_mono_ms();

	for (size_t i = 0; i < k->n_backups; i++) {
		if (k->backups[i].retry_ms != 0 &&
		    now >= k->backups[i].retry_ms) {
			return true;
		}
	}
	return false;
}

// backup_all copies to every backup what it lacks of the current
// generation: its sealed segments (as the catalog lists them) and its
// newest snapshot. A file already there whole costs a stat. At open
// (after a stop, or for a new backup), and again while a copy fails.
static void
backup_all(rill_keeper *k)
{
	rill_cat_segment *rows;
	size_t            nr;

	for (size_t i = 0; i < k->n_backups; i++) {
		k->backups[i].hole_seq = UINT64_MAX; // a failure sets it again
		k->backups[i].retry_ms = 0;
	}
	if (rill_catalog_segments(k->o.catalog, k->o.generation, &rows, &nr) ==
	    RILL_OK) {
		for (size_t j = 0; j < nr; j++) {
			backup_copy(k, k->o.generation, false,
			    rows[j].first_seq, rows[j].last_seq);
		}
		rill_free(rows);
	} else {
		for (size_t i = 0; i < k->n_backups; i++) {
			k->backups[i].retry_ms =
			    rill_mono_ms() + BACKUP_RETRY_MS;
		}
	}
	backup_copy(k, k->o.generation, true, k->newest_seq, k->newest_seq);
}

// Catalog ----------------------------------------------------------------

// index_segment scans a segment file and puts its row in the catalog.
static int
index_segment(rill_catalog *c, const char *root, uint64_t generation,
    uint64_t first_seq, bool allow_torn)
{
	char              path[PATH_MAX];
	rill_segment_info si;
	int               rv;

	if ((rv = rill_history_segment_path(path, sizeof(path), root,
	         generation, first_seq)) != RILL_OK ||
	    (rv = rill_segment_scan(path, allow_torn, NULL, NULL, &si)) !=
	        RILL_OK) {
		return rv;
	}
	rill_cat_segment row = {
		.generation    = generation,
		.first_seq     = si.first_seq,
		.last_seq      = si.last_seq,
		.first_time_us = si.first_time_us,
		.last_time_us  = si.last_time_us,
		.size          = si.size,
		.checksum      = si.checksum,
	};
	return rill_catalog_put_segment(c, &row);
}

static rill_cat_snapshot
snapshot_row(const rill_snapshot_info *info, uint64_t duration_ms)
{
	return (rill_cat_snapshot) {
		.generation  = info->generation,
		.seq         = info->seq,
		.key_count   = info->key_count,
		.size        = info->file_size,
		.raw_bytes   = info->raw_bytes,
		.created_us  = info->created_us,
		.state_hash  = info->state_hash,
		.duration_ms = duration_ms,
	};
}

// reconcile makes the catalog list what the files of root hold: rows for
// files that are gone are deleted, files with no row are indexed (each
// missing segment scanned). The live tail of generation `live` (0: none)
// is left out: only sealed segments are listed.
static int
reconcile(rill_catalog *c, const char *root, uint64_t live)
{
	rill_history        *h;
	rill_cat_generation *gens   = NULL;
	rill_cat_snapshot   *snaps  = NULL;
	rill_cat_segment    *segs   = NULL;
	size_t               n_gens = 0, n_snaps = 0, n_segs = 0;
	int                  rv;

	if ((rv = rill_history_load(root, &h)) != RILL_OK) {
		return rv;
	}
	if ((rv = rill_catalog_begin(c)) != RILL_OK) {
		rill_history_free(h);
		return rv;
	}
	if ((rv = rill_catalog_generations(c, &gens, &n_gens)) != RILL_OK ||
	    (rv = rill_catalog_snapshots(c, 0, &snaps, &n_snaps)) != RILL_OK ||
	    (rv = rill_catalog_segments(c, 0, &segs, &n_segs)) != RILL_OK) {
		goto out;
	}
	// Rows whose files are gone.
	for (size_t i = 0; i < n_gens && rv == RILL_OK; i++) {
		if (rill_history_find(h, gens[i].id) == NULL) {
			rv = rill_catalog_del_generation(c, gens[i].id);
		}
	}
	for (size_t i = 0; i < n_snaps && rv == RILL_OK; i++) {
		rill_hist_generation *g =
		    rill_history_find(h, snaps[i].generation);
		bool found = false;
		for (size_t j = 0; g != NULL && j < g->n_snapshots; j++) {
			found |= g->snapshots[j].ok &&
			    g->snapshots[j].seq == snaps[i].seq;
		}
		if (!found) {
			rv = rill_catalog_del_snapshot(
			    c, snaps[i].generation, snaps[i].seq);
		}
	}
	for (size_t i = 0; i < n_segs && rv == RILL_OK; i++) {
		rill_hist_generation *g =
		    rill_history_find(h, segs[i].generation);
		bool found = false;
		for (size_t j = 0; g != NULL && j < g->n_segments; j++) {
			found |= g->segments[j] == segs[i].first_seq;
		}
		if (!found) {
			rv = rill_catalog_del_segment(
			    c, segs[i].generation, segs[i].first_seq);
		}
	}
	// Files with no row.
	for (size_t i = 0; i < h->n_gens && rv == RILL_OK; i++) {
		rill_hist_generation *g   = &h->gens[i];
		rill_cat_generation   row = {
			  .id         = g->id,
			  .parent     = g->parent,
			  .parent_seq = g->parent_seq,
			  .created_us = g->created_us,
		};
		if ((rv = rill_catalog_put_generation(c, &row)) != RILL_OK) {
			break;
		}
		for (size_t j = 0; j < g->n_snapshots && rv == RILL_OK; j++) {
			rill_cat_snapshot have;
			if (!g->snapshots[j].ok) {
				rill_diag_warn("KEEPER-SNAPSHOT-DAMAGED",
				    "snapshot %016" PRIx64 "/%" PRIu64
				    " in %s is damaged: not listed",
				    g->id, g->snapshots[j].seq, root);
				continue;
			}
			if (rill_catalog_snapshot(c, g->id,
			        g->snapshots[j].seq, &have) == RILL_OK) {
				continue;
			}
			rill_cat_snapshot s =
			    snapshot_row(&g->snapshots[j].info, 0);
			rv = rill_catalog_put_snapshot(c, &s);
		}
		for (size_t j = 0; j < g->n_segments && rv == RILL_OK; j++) {
			bool is_last = j + 1 == g->n_segments;
			bool listed  = false;
			if (is_last && g->id == live) {
				continue; // still written
			}
			for (size_t m = 0; m < n_segs; m++) {
				listed |= segs[m].generation == g->id &&
				    segs[m].first_seq == g->segments[j];
			}
			if (!listed) {
				rv = index_segment(
				    c, root, g->id, g->segments[j], is_last);
			}
		}
	}
out:
	if (rv == RILL_OK) {
		rv = rill_catalog_commit(c);
	} else {
		rill_catalog_rollback(c);
	}
	rill_free(gens);
	rill_free(snaps);
	rill_free(segs);
	rill_history_free(h);
	return rv;
}

int
rill_catalog_rebuild(rill_catalog *c, const char *root, uint64_t live)
{
	rill_history *h;
	int           rv;

	if (live == 0) {
		// The newest generation is the one a rilld goes on writing.
		if ((rv = rill_history_load(root, &h)) != RILL_OK) {
			return rv;
		}
		live = h->n_gens > 0 ? h->gens[h->n_gens - 1].id : 0;
		rill_history_free(h);
	}
	if ((rv = rill_catalog_clear(c)) != RILL_OK ||
	    (rv = reconcile(c, root, live)) != RILL_OK) {
		return rv;
	}
	rill_catalog_event(
	    c, "rebuild", "catalog rebuilt from the files of %s", root);
	return RILL_OK;
}

// Retention --------------------------------------------------------------

typedef struct snap_ref {
	uint64_t generation;
	uint64_t seq;
	uint64_t created_us;
	bool     keep;
} snap_ref;

static int
newest_first(const void *a, const void *b)
{
	const snap_ref *x = a, *y = b;

	if (x->created_us != y->created_us) {
		return x->created_us > y->created_us ? -1 : 1;
	}
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

// follower_lost names, for the notice of follower_cut, the follower of
// the current generation seen within the window with the lowest position
// before new_cut (the one the cap cuts off), and whether the cap cuts off
// others too, into buf.
static void
follower_lost(
    rill_keeper *k, uint64_t new_cut, uint64_t now_us, char *buf, size_t n)
{
	rill_follower_info *rows;
	size_t              n_rows, lost = 0, low = SIZE_MAX;
	uint64_t            window_us = k->o.follower_window_ms * 1000;

	snprintf(buf, n, "a follower");
	if (rill_followers_list(k->o.followers, &rows, &n_rows) != RILL_OK) {
		return;
	}
	for (size_t i = 0; i < n_rows; i++) {
		if (rows[i].generation != k->o.generation ||
		    rows[i].applied_seq >= new_cut ||
		    (now_us > rows[i].last_seen_us &&
		        now_us - rows[i].last_seen_us > window_us)) {
			continue;
		}
		lost++;
		if (low == SIZE_MAX ||
		    rows[i].applied_seq < rows[low].applied_seq) {
			low = i;
		}
	}
	if (low != SIZE_MAX) {
		snprintf(buf, n, "follower %s (%s)%s", rows[low].node_id,
		    rows[low].address, lost > 1 ? " and others" : "");
	}
	rill_free(rows);
}

// follower_cut returns the seq through which retention may remove the
// current generation's log once the followers are heard: cut (what the
// other rules allow), lowered to what the followers seen within the
// window still need, but keeping at most follower_retain_bytes of
// sealed segments beyond cut: past that cap the oldest go anyway.
static uint64_t
follower_cut(rill_keeper *k, uint64_t cut)
{
	rill_log_segment *segs;
	size_t            n;
	uint64_t          now = rill_wall_us(), need, kept = 0, cut_bytes = 0;
	uint64_t          new_cut;
	char who[RILL_FOLLOWER_ID_MAX + RILL_FOLLOWER_ADDRESS_MAX + 64];

	if (k->o.followers == NULL || k->o.follower_window_ms == 0) {
		return cut;
	}
	need = rill_followers_needed(
	    k->o.followers, k->o.generation, k->o.follower_window_ms, now);
	if (need >= cut) {
		return cut;
	}
	if (rill_log_segments(k->o.log, &segs, &n) != RILL_OK) {
		return need; // out of memory: no cap this time
	}
	// Newest first: the log nearest the live end is the likeliest to be
	// read again.
	new_cut = need;
	for (size_t i = n; i-- > 0;) {
		if (!segs[i].sealed || segs[i].last_seq > cut ||
		    segs[i].last_seq <= need) {
			continue; // kept anyway, or removed anyway
		}
		if (new_cut == need &&
		    kept + segs[i].size <= k->o.follower_retain_bytes) {
			kept += segs[i].size;
			continue;
		}
		if (new_cut == need) {
			new_cut = segs[i].last_seq;
		}
		cut_bytes += segs[i].size;
	}
	rill_free(segs);
	if (new_cut > need) {
		follower_lost(k, new_cut, now, who, sizeof(who));
		rill_diag_notice("FOLLOWER-RETAIN-CAP",
		    "%s needs the log of generation %016" PRIx64
		    " after seq %" PRIu64 ", more than follower_retain_bytes "
		    "(%" PRIu64
		    ") beyond what retention keeps: removing %" PRIu64
		    " bytes of it, through seq %" PRIu64
		    "; it will bootstrap from a snapshot again",
		    who, k->o.generation, need, k->o.follower_retain_bytes,
		    cut_bytes, new_cut);
		event(k, "retention",
		    "%s needs the log after seq %" PRIu64
		    ", more than follower_retain_bytes (%" PRIu64
		    "): removed through seq %" PRIu64,
		    who, need, k->o.follower_retain_bytes, new_cut);
	}
	return new_cut;
}

static int
remove_path(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT) {
		rill_diag_err("KEEPER-REMOVE", "cannot remove %s: %s", path,
		    strerror(errno));
		return RILL_EIO;
	}
	return RILL_OK;
}

// remove_generation removes a generation's directory under root.
static int
remove_generation(const rill_hist_generation *g, const char *root)
{
	char dir[PATH_MAX], gone[PATH_MAX + 16], gens[PATH_MAX];
	int  rv;

	if ((rv = rill_history_gen_dir(dir, sizeof(dir), root, g->id)) !=
	    RILL_OK) {
		return rv;
	}
	// First a name that is no generation's, made durable: a crash in
	// the middle of the removal then leaves a directory every reader
	// skips, not a generation without its GENERATION file.
	snprintf(gone, sizeof(gone), "%s.removing", dir);
	snprintf(gens, sizeof(gens), "%s/generations", root);
	rill_remove_tree(gone); // left by a crash during an earlier removal
	if (rename(dir, gone) != 0) {
		rill_diag_err("KEEPER-REMOVE", "cannot rename %s: %s", dir,
		    strerror(errno));
		return RILL_EIO;
	}
	if ((rv = rill_fsync_dir(gens)) != RILL_OK) {
		return rv;
	}
	rill_remove_tree(gone);
	if (access(gone, F_OK) == 0) {
		rill_diag_err(
		    "KEEPER-REMOVE", "cannot remove all of %s", gone);
		return RILL_EIO;
	}
	return rill_fsync_dir(gens);
}

// retain applies retention to root (the data dir when c is set, else a
// backup). It returns the number of files removed in *removedp.
static int
retain(rill_keeper *k, const char *root, uint32_t retain_snapshots,
    uint64_t retain_age_ms, rill_catalog *c, unsigned *removedp)
{
	rill_history *h;
	snap_ref     *refs = NULL;
	size_t        n    = 0;
	uint64_t      now  = rill_wall_us();
	char          path[PATH_MAX];
	unsigned      removed = 0;
	int           rv;

	if ((rv = rill_history_load(root, &h)) != RILL_OK) {
		return rv;
	}
	for (size_t i = 0; i < h->n_gens; i++) {
		n += h->gens[i].n_snapshots;
	}
	if (n > 0 && (refs = rill_alloc(n * sizeof(*refs))) == NULL) {
		rill_history_free(h);
		return RILL_ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < h->n_gens; i++) {
		for (size_t j = 0; j < h->gens[i].n_snapshots; j++) {
			struct rill_hist_snapshot *s =
			    &h->gens[i].snapshots[j];
			if (!s->ok) {
				continue; // damaged: neither kept nor counted
			}
			refs[n++] = (snap_ref) {
				.generation = h->gens[i].id,
				.seq        = s->seq,
				.created_us = s->info.created_us,
			};
		}
	}
	if (n > 1) {
		qsort(refs, n, sizeof(*refs), newest_first);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t age_ms = now > refs[i].created_us
		    ? (now - refs[i].created_us) / 1000
		    : 0;
		refs[i].keep    = i == 0 ||
		    (i < retain_snapshots &&
		        (retain_age_ms == 0 || age_ms <= retain_age_ms));
		if (refs[i].keep) {
			continue;
		}
		if ((rv = rill_history_snapshot_path(path, sizeof(path), root,
		         refs[i].generation, refs[i].seq)) != RILL_OK ||
		    (rv = remove_path(path)) != RILL_OK) {
			goto out;
		}
		removed++;
		if (c != NULL) {
			rill_catalog_del_snapshot(
			    c, refs[i].generation, refs[i].seq);
		}
	}
	for (size_t i = 0; i < h->n_gens; i++) {
		rill_hist_generation *g   = &h->gens[i];
		uint64_t              low = UINT64_MAX;
		for (size_t j = 0; j < n; j++) {
			if (refs[j].keep && refs[j].generation == g->id &&
			    refs[j].seq < low) {
				low = refs[j].seq;
			}
		}
		if (low == UINT64_MAX) {
			if (g->id == k->o.generation) {
				continue; // nothing to cut against
			}
			if ((rv = remove_generation(g, root)) != RILL_OK) {
				goto out;
			}
			removed += (unsigned) (g->n_segments + 1);
			if (c != NULL) {
				rill_catalog_del_generation(c, g->id);
			}
			continue;
		}
		uint64_t cut = low;
		if (c != NULL && g->id == k->o.generation) {
			unsigned dropped = 0;
			cut              = follower_cut(k, cut);
			if ((rv = rill_log_drop_through(
			         k->o.log, cut, &dropped)) != RILL_OK) {
				goto out;
			}
			removed += dropped;
		} else {
			// Every segment but the last ends where the next
			// begins; the last is kept (its end is unknown
			// without a scan, and it is small).
			for (size_t j = 0; j + 1 < g->n_segments; j++) {
				if (g->segments[j + 1] - 1 > cut) {
					break;
				}
				if ((rv = rill_history_segment_path(path,
				         sizeof(path), root, g->id,
				         g->segments[j])) != RILL_OK ||
				    (rv = remove_path(path)) != RILL_OK) {
					goto out;
				}
				removed++;
			}
		}
		if (c != NULL) {
			rill_cat_segment *segs;
			size_t            ns;
			if (rill_catalog_segments(c, g->id, &segs, &ns) ==
			    RILL_OK) {
				for (size_t j = 0; j < ns; j++) {
					if (segs[j].last_seq <= cut &&
					    j + 1 < g->n_segments) {
						rill_catalog_del_segment(c,
						    g->id, segs[j].first_seq);
					}
				}
				rill_free(segs);
			}
		}
	}
out:
	rill_free(refs);
	rill_history_free(h);
	*removedp = removed;
	return rv;
}

// checkpoint syncs the store's writes when it moved since the last time,
// recording how far it is durable (rill_store_sync).
static void
checkpoint(rill_keeper *k)
{
	uint64_t gen, seq, dgen, dseq;

	k->checkpoint_ms = rill_mono_ms();
	if (k->o.store == NULL) {
		return;
	}
	rill_store_applied(k->o.store, &gen, &seq);
	if (rill_store_durable(k->o.store, &dgen, &dseq) && dgen == gen &&
	    dseq == seq) {
		return;
	}
	if (rill_store_sync(k->o.store) != RILL_OK) {
		count_error(k, RILL_ERROR_IO);
	}
}

// run_retention applies retention to the data dir and every backup.
static int
run_retention(rill_keeper *k)
{
	unsigned removed = 0;
	int      rv, first = RILL_OK;

	// A start replays the log from the store's durable position: it
	// must still be there once retention has removed segments.
	checkpoint(k);

	// A backup that lacks files keeps the data dir's: retention here
	// could otherwise remove the one copy left of what it lacks.
	uint64_t hole = backup_hole(k);
	if (hole != UINT64_MAX) {
		if (!k->retention_held) {
			event(k, "retention",
			    "retention in %s waits: a backup lacks files "
			    "after seq %" PRIu64,
			    k->root, hole);
			k->retention_held = true;
		}
		rv = RILL_OK;
	} else {
		k->retention_held = false;
		rv                = retain(k, k->root, k->o.retain_snapshots,
		                   k->o.retain_age_ms, k->o.catalog, &removed);
	}
	if (rv != RILL_OK) {
		count_error(k, RILL_ERROR_RETENTION);
		event(k, "error", "retention in %s failed: %s", k->root,
		    rill_strerror(rv));
		first = rv;
	} else if (removed > 0) {
		event(k, "retention", "removed %u files from %s", removed,
		    k->root);
	}
	for (size_t i = 0; i < k->n_backups; i++) {
		backup *b = &k->backups[i];
		removed   = 0;
		rv = retain(k, b->path, b->retain_snapshots, b->retain_age_ms,
		    NULL, &removed);
		if (rv != RILL_OK) {
			count_error(k, RILL_ERROR_RETENTION);
			event(k, "error", "retention in backup %s failed: %s",
			    b->path, rill_strerror(rv));
			first = first != RILL_OK ? first : rv;
		} else if (removed > 0) {
			event(k, "retention",
			    "removed %u files from backup %s", removed,
			    b->path);
		}
	}
	return first;
}

// Snapshots --------------------------------------------------------------

// snapshot_progress runs after each block a snapshot writes: it paces the
// snapshot to snapshot_max_rate (a block is about RILL_SNAPSHOT_BLOCK_SIZE
// bytes), so that its writeback leaves the disk to the log's syncs, and
// cancels it when the keeper closes.
static bool
snapshot_progress(void *arg, uint64_t keys_done)
{
	rill_keeper *k = arg;
	bool         closing;

	(void) keys_done;
	k->snap_blocks++;
	pthread_mutex_lock(&k->mu);
	if (k->o.snapshot_max_rate != 0 && !k->closing) {
		uint64_t due = k->snap_t0_ns +
		    (uint64_t) ((double) k->snap_blocks *
		        RILL_SNAPSHOT_BLOCK_SIZE * 1e9 /
		        (double) k->o.snapshot_max_rate);
		uint64_t now = rill_mono_ns();
		if (due > now) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t wake = (uint64_t) ts.tv_sec * 1000000000u +
			    (uint64_t) ts.tv_nsec + (due - now);
			ts.tv_sec  = (time_t) (wake / 1000000000u);
			ts.tv_nsec = (long) (wake % 1000000000u);
			// rill_keeper_close signals cv: a pause never holds
			// up a stop.
			pthread_cond_timedwait(&k->cv, &k->mu, &ts);
		}
	}
	closing = k->closing;
	pthread_mutex_unlock(&k->mu);
	return !closing;
}

static void
refresh_stats(rill_keeper *k)
{
	rill_cat_snapshot *snaps;
	size_t             n;
	uint64_t           bytes = 0;

	if (rill_catalog_snapshots(k->o.catalog, 0, &snaps, &n) != RILL_OK) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bytes += snaps[i].size;
		if (snaps[i].generation == k->o.generation &&
		    snaps[i].seq >= k->newest_seq) {
			k->newest_seq        = snaps[i].seq;
			k->newest_created_us = snaps[i].created_us;
		}
	}
	rill_free(snaps);
	atomic_store(&k->st_snapshots, n);
	atomic_store(&k->st_snapshot_bytes, bytes);
	atomic_store(&k->st_newest_seq, k->newest_seq);
}

// take_snapshot writes a snapshot of the store now, indexes it and copies
// it to the backups. When nothing was written since the newest snapshot,
// that one is the answer.
static int
take_snapshot(rill_keeper *k, rill_cat_snapshot *row)
{
	char               dir[PATH_MAX];
	rill_snapshot_info info;
	uint64_t           t0 = rill_mono_ms(), base = write_bytes(k), ms;
	int                rv;

	if (rill_store_applied_seq(k->o.store) == k->newest_seq &&
	    rill_catalog_snapshot(k->o.catalog, k->o.generation, k->newest_seq,
	        row) == RILL_OK) {
		return RILL_OK;
	}
	if ((rv = rill_history_gen_dir(
	         dir, sizeof(dir), k->root, k->o.generation)) != RILL_OK) {
		return rv;
	}
	strncat(dir, "/snapshots", sizeof(dir) - strlen(dir) - 1);
	if ((rv = rill_mkdirs(dir)) != RILL_OK) {
		return rv;
	}
	atomic_store(&k->st_running, 1);
	k->snap_t0_ns  = rill_mono_ns();
	k->snap_blocks = 0;
	rv             = rill_snapshot_write_store(
	                k->o.store, dir, k->o.generation, snapshot_progress, k, &info);
	atomic_store(&k->st_running, 0);
	ms = rill_mono_ms() - t0;
	if (rv != RILL_OK) {
		if (rv != RILL_CANCELLED) {
			count_error(k, RILL_ERROR_SNAPSHOT);
			event(k, "error",
			    "snapshot of generation %016" PRIx64 " failed: %s",
			    k->o.generation, rill_strerror(rv));
		}
		return rv;
	}
	*row = snapshot_row(&info, ms);
	if (rill_catalog_put_snapshot(k->o.catalog, row) != RILL_OK) {
		count_error(k, RILL_ERROR_CATALOG);
	}
	event(k, "snapshot",
	    "generation %016" PRIx64 " seq %" PRIu64 ": %" PRIu64
	    " keys, %" PRIu64 " bytes in %" PRIu64 " ms",
	    info.generation, info.seq, info.key_count, info.file_size, ms);
	rill_diag_info("KEEPER-SNAPSHOT",
	    "snapshot of generation %016" PRIx64 " at seq %" PRIu64
	    ": %" PRIu64 " keys, %" PRIu64 " bytes in %" PRIu64 " ms",
	    info.generation, info.seq, info.key_count, info.file_size, ms);
	if (k->o.metrics != NULL) {
		atomic_fetch_add(&k->o.metrics->snapshots, 1);
		atomic_store(&k->o.metrics->snapshot_last_duration_ms, ms);
		rill_histogram_observe(
		    &k->o.metrics->snapshot_duration, ms * 1000);
	}
	k->newest_seq        = info.seq;
	k->newest_created_us = info.created_us;
	k->bytes_base        = base;
	backup_copy(k, k->o.generation, true, info.seq, info.seq);
	refresh_stats(k);
	return RILL_OK;
}

// snapshot_due tells whether the interval or the log size calls for a
// snapshot.
static bool
snapshot_due(rill_keeper *k)
{
	uint64_t applied = rill_store_applied_seq(k->o.store);

	if (applied <= k->newest_seq) {
		return false;
	}
	if (k->o.snapshot_log_bytes != 0 &&
	    write_bytes(k) - k->bytes_base >= k->o.snapshot_log_bytes) {
		return true;
	}
	return k->o.snapshot_interval_ms != 0 &&
	    rill_wall_us() >=
	    k->newest_created_us + k->o.snapshot_interval_ms * 1000;
}

// Thread -----------------------------------------------------------------

// persist_followers writes the followers table to the catalog; a failure
// is counted (the catalog logged it) and tried again next time.
static void
persist_followers(rill_keeper *k)
{
	k->persisted_ms = rill_mono_ms();
	if (k->o.followers != NULL &&
	    rill_followers_persist(k->o.followers, rill_wall_us()) !=
	        RILL_OK) {
		count_error(k, RILL_ERROR_CATALOG);
	}
}

static void
process_sealed(rill_keeper *k, const sealed *s)
{
	int rv = index_segment(
	    k->o.catalog, k->root, k->o.generation, s->first_seq, false);

	if (rv != RILL_OK) {
		count_error(k,
		    rv == RILL_ECORRUPT ? RILL_ERROR_CORRUPT
		                        : RILL_ERROR_CATALOG);
		event(k, "error",
		    "indexing segment %016" PRIx64 "/%" PRIu64 " failed: %s",
		    k->o.generation, s->first_seq, rill_strerror(rv));
	}
	backup_copy(k, k->o.generation, false, s->first_seq, s->last_seq);
}

static void *
keeper_main(void *arg)
{
	rill_keeper *k = arg;

	pthread_setname_np(pthread_self(), "rill:keeper");
	// Snapshots, copies and scans are background work: under load the
	// writer and the RPC threads go first. (Linux nices each thread.)
	if (setpriority(
	        PRIO_PROCESS, (id_t) syscall(SYS_gettid), KEEPER_NICE) != 0) {
		rill_diag_debug("KEEPER-NICE",
		    "cannot lower the keeper's "
		    "priority: %s",
		    strerror(errno));
	}

	pthread_mutex_lock(&k->mu);
	while (!k->closing) {
		if (k->n_sealed > 0) {
			sealed *batch = k->sealed;
			size_t  n     = k->n_sealed;
			k->sealed     = NULL;
			k->n_sealed   = 0;
			k->cap_sealed = 0;
			pthread_mutex_unlock(&k->mu);
			for (size_t i = 0; i < n; i++) {
				process_sealed(k, &batch[i]);
			}
			rill_free(batch);
			run_retention(k);
			pthread_mutex_lock(&k->mu);
			continue;
		}
		if (k->snap_asked > k->snap_done) {
			uint64_t          ticket = k->snap_asked;
			rill_cat_snapshot row    = { 0 };
			int               rv;
			pthread_mutex_unlock(&k->mu);
			rv = take_snapshot(k, &row);
			if (rv == RILL_OK) {
				run_retention(k);
			}
			pthread_mutex_lock(&k->mu);
			k->snap_done = ticket;
			k->snap_rv   = rv;
			k->snap_last = row;
			pthread_cond_broadcast(&k->done);
			continue;
		}
		if (k->ret_asked > k->ret_done) {
			uint64_t ticket = k->ret_asked;
			int      rv;
			pthread_mutex_unlock(&k->mu);
			rv = run_retention(k);
			pthread_mutex_lock(&k->mu);
			k->ret_done = ticket;
			k->ret_rv   = rv;
			pthread_cond_broadcast(&k->done);
			continue;
		}
		pthread_mutex_unlock(&k->mu);
		if (backup_retry_due(k)) {
			backup_all(k);
		}
		bool due = snapshot_due(k);
		if (k->o.followers != NULL &&
		    rill_mono_ms() - k->persisted_ms >= FOLLOWERS_PERSIST_MS) {
			persist_followers(k);
		}
		if (rill_mono_ms() - k->checkpoint_ms >= CHECKPOINT_MS) {
			checkpoint(k);
		}
		pthread_mutex_lock(&k->mu);
		if (due) {
			k->snap_asked++;
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long) TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&k->cv, &k->mu, &ts);
	}
	// Wake every waiter: nothing more will be served.
	pthread_cond_broadcast(&k->done);
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

// Open and close ---------------------------------------------------------

// ensure_base writes a snapshot of the current generation when it has
// none: its base, so that the generation restores from its own files.
static int
ensure_base(rill_keeper *k)
{
	rill_cat_snapshot *snaps;
	size_t             n;
	uint64_t           parent = 0, parent_seq = 0;
	rill_cat_snapshot  row;
	int                rv;

	if ((rv = rill_catalog_snapshots(
	         k->o.catalog, k->o.generation, &snaps, &n)) != RILL_OK) {
		return rv;
	}
	rill_free(snaps);
	if (n > 0) {
		return RILL_OK;
	}
	rill_datadir_read_generation(
	    k->o.dd, k->o.generation, &parent, &parent_seq, NULL);
	if (rill_store_applied_seq(k->o.store) != parent_seq) {
		rill_diag_warn("KEEPER-NO-BASE",
		    "generation %016" PRIx64 " has no snapshot at its start "
		    "(seq %" PRIu64 "); taking one now at seq %" PRIu64
		    ": points before it restore from the parent generation",
		    k->o.generation, parent_seq,
		    rill_store_applied_seq(k->o.store));
	}
	k->newest_seq = UINT64_MAX; // force a new file
	rv            = take_snapshot(k, &row);
	k->newest_seq = rv == RILL_OK ? row.seq : 0;
	return rv;
}

// backup_age returns the age limit of backup b: the data dir's (dir_age)
// unless its entry set one; 0 is no limit.
static uint64_t
backup_age(const rill_backup_config *b, uint64_t dir_age)
{
	if (b->retain_age_ms == RILL_BACKUP_NO_AGE_LIMIT) {
		return 0;
	}
	return b->retain_age_ms ? b->retain_age_ms : dir_age;
}

int
rill_keeper_open(rill_keeper **kp, const rill_keeper_options *opts)
{
	rill_keeper      *k;
	rill_log_segment *segs;
	size_t            n;
	int               rv;

	if ((k = rill_zalloc(sizeof(*k))) == NULL) {
		return RILL_ENOMEM;
	}
	k->o            = *opts;
	k->persisted_ms = rill_mono_ms();
	if (k->o.retain_snapshots == 0) {
		k->o.retain_snapshots = 1;
	}
	snprintf(k->root, sizeof(k->root), "%s", rill_datadir_path(opts->dd));
	pthread_mutex_init(&k->mu, NULL);
	// The waits on cv are timed against the monotonic clock.
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&k->done, NULL);
	if (opts->n_backups > 0 &&
	    (k->backups = rill_zalloc(
	         opts->n_backups * sizeof(*k->backups))) == NULL) {
		rv = RILL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < opts->n_backups; i++) {
		const rill_backup_config *b = &opts->backups[i];
		k->backups[i]               = (backup) {
			              .path             = rill_strdup(b->path),
			              .retain_snapshots = b->retain_snapshots
			                  ? b->retain_snapshots
			                  : k->o.retain_snapshots,
			              .retain_age_ms    = backup_age(b, k->o.retain_age_ms),
			              .hole_seq         = UINT64_MAX,
		};
		k->n_backups++;
		if (k->backups[i].path == NULL) {
			rv = RILL_ENOMEM;
			goto out;
		}
		if ((rv = rill_mkdirs(b->path)) != RILL_OK) {
			goto out;
		}
	}
	if (opts->catalog_fresh) {
		rill_diag_notice("KEEPER-CATALOG",
		    "rebuilding the catalog from the files of %s", k->root);
		rv = rill_catalog_rebuild(
		    opts->catalog, k->root, opts->generation);
	} else {
		rv = reconcile(opts->catalog, k->root, opts->generation);
	}
	if (rv != RILL_OK) {
		goto out;
	}
	refresh_stats(k);
	if ((rv = ensure_base(k)) != RILL_OK) {
		goto out;
	}
	refresh_stats(k);
	// The log written since the newest snapshot counts toward the size
	// trigger.
	uint64_t pending = 0;
	if (rill_log_segments(opts->log, &segs, &n) == RILL_OK) {
		for (size_t i = 0; i < n; i++) {
			if (segs[i].last_seq > k->newest_seq) {
				pending += segs[i].size;
			}
		}
		rill_free(segs);
	}
	k->bytes_base = write_bytes(k) - pending;
	// What the backups lack (after a stop, or a new backup).
	if (k->n_backups > 0) {
		backup_all(k);
	}
	run_retention(k);
	if ((rv = pthread_create(&k->thread, NULL, keeper_main, k)) != 0) {
		rv = RILL_ENOMEM;
		goto out;
	}
	k->started = true;
	*kp        = k;
	return RILL_OK;
out:
	rill_keeper_close(k);
	return rv;
}

void
rill_keeper_shutdown(rill_keeper *k)
{
	if (k == NULL) {
		return;
	}
	pthread_mutex_lock(&k->mu);
	k->shutdown = true;
	pthread_mutex_unlock(&k->mu);
}

void
rill_keeper_close(rill_keeper *k)
{
	if (k == NULL) {
		return;
	}
	pthread_mutex_lock(&k->mu);
	k->closing = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	if (k->started) {
		pthread_join(k->thread, NULL);
		// What the followers did since the last persist.
		persist_followers(k);
	}
	for (size_t i = 0; i < k->n_backups; i++) {
		rill_free(k->backups[i].path);
	}
	rill_free(k->backups);
	rill_free(k->sealed);
	pthread_cond_destroy(&k->done);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	rill_free(k);
}

// Requests ---------------------------------------------------------------

void
rill_keeper_segment_sealed(void *arg, uint64_t first_seq, uint64_t last_seq)
{
	rill_keeper *k = arg;

	pthread_mutex_lock(&k->mu);
	if (k->n_sealed == k->cap_sealed) {
		size_t  cap = k->cap_sealed ? k->cap_sealed * 2 : 16;
		sealed *v   = rill_realloc(k->sealed, cap * sizeof(*v));
		if (v == NULL) {
			// The next start's reconciliation indexes it.
			pthread_mutex_unlock(&k->mu);
			return;
		}
		k->sealed     = v;
		k->cap_sealed = cap;
	}
	k->sealed[k->n_sealed++] = (sealed) { first_seq, last_seq };
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

int
rill_keeper_snapshot(rill_keeper *k, bool wait, rill_cat_snapshot *out)
{
	uint64_t ticket;
	int      rv;

	pthread_mutex_lock(&k->mu);
	if (k->closing) {
		pthread_mutex_unlock(&k->mu);
		return RILL_UNAVAILABLE;
	}
	ticket = ++k->snap_asked;
	pthread_cond_signal(&k->cv);
	if (!wait) {
		pthread_mutex_unlock(&k->mu);
		return RILL_OK;
	}
	while (k->snap_done < ticket && !k->closing) {
		pthread_cond_wait(&k->done, &k->mu);
	}
	if (k->snap_done < ticket) {
		rv = RILL_UNAVAILABLE;
	} else {
		rv = k->snap_rv;
		if (rv == RILL_OK && out != NULL) {
			*out = k->snap_last;
		}
	}
	pthread_mutex_unlock(&k->mu);
	return rv == RILL_CANCELLED ? RILL_UNAVAILABLE : rv;
}

int
rill_keeper_retention(rill_keeper *k)
{
	uint64_t ticket;
	int      rv;

	pthread_mutex_lock(&k->mu);
	ticket = ++k->ret_asked;
	pthread_cond_signal(&k->cv);
	while (k->ret_done < ticket && !k->closing) {
		pthread_cond_wait(&k->done, &k->mu);
	}
	rv = k->ret_done < ticket ? RILL_UNAVAILABLE : k->ret_rv;
	pthread_mutex_unlock(&k->mu);
	return rv;
}

void
rill_keeper_get_stats(rill_keeper *k, rill_keeper_stats *st)
{
	st->snapshots           = atomic_load(&k->st_snapshots);
	st->snapshot_bytes      = atomic_load(&k->st_snapshot_bytes);
	st->newest_snapshot_seq = atomic_load(&k->st_newest_seq);
	st->backup_seq          = atomic_load(&k->st_backup_seq);
	st->snapshot_running    = atomic_load(&k->st_running);
	st->backups             = (uint32_t) k->n_backups;
}
