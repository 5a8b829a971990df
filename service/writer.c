// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// writer: the group commit loop. Submitters append to a mutex-guarded FIFO
// and wake the thread only when it sleeps; the thread takes a bounded group
// at a time, so the first write of a large burst is not held back by the
// last.
//
//   idle ──(queue not empty)──► group ──► flush (+fdatasync) ──► commit
//    ▲                                                            │
//    └──────────────── done callbacks, one per write ◄────────────┘
//
// Under sync "none" and "interval" no commit waits for the disk, so the
// thread that submits a write into an idle writer commits it itself, and
// every write queued meanwhile, instead of waking the writer thread (see
// "Committing in the submitter" below). The writer thread still commits
// what it finds queued, and does the housekeeping.
//
// Invariants: seqs are given in queue order with no gap; a write is
// acknowledged only after its group is in the log (and synced under
// "always"), and in the store under "always" (under the other policies
// the store may lag: see "Applying later"); after any I/O error the writer
// is failed and answers every write, queued or new, with UNAVAILABLE. One
// thread at a time commits: the one holding the commit turn
// (`committing`).
#include "writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <rill/status.h>
#include <xxhash.h>

#include "clock.h"
#include "dedup.h"
#include "diag.h"
#include "mem.h"

// A group ends at whichever limit it reaches first.
#define GROUP_MAX_WRITES 4096
#define GROUP_MAX_BYTES (8u << 20)
// How often the idle thread looks at segment age and idle clients.
#define HOUSEKEEPING_MS 1000
// A submitter commits at most this many groups before it leaves the rest
// of the queue to the writer thread.
#define INLINE_MAX_GROUPS 16
// Under inline commits, acknowledged writes wait in the store batch until
// this many are staged, or this many bytes, or the oldest is this old.
#define STAGE_MAX_WRITES 256
#define STAGE_MAX_BYTES (1u << 20)
#define STAGE_MAX_US 1000
// Bits of the filter of the staged writes' keys (a power of two).
#define STAGED_KEY_BITS 4096
// Records applied per store commit during replay.
#define REPLAY_CHUNK 1000

// The fate of one write of a group, decided by log_group.
typedef struct outcome {
	int              code;
	uint64_t         seq;
	rill_client_mark mark; // the client's after this write, for the store
	bool             duplicate;
	bool             is_new; // appended to the log by this group
} outcome;

// A group on its way from the queue to the done callbacks.
typedef struct group {
	rill_write *head;
	size_t      n;        // writes in the list
	size_t      n_new;    // of which appended to the log
	uint64_t    last_seq; // the log's last seq after the group
	uint64_t    time_us;  // the records' timestamp
	outcome     out[GROUP_MAX_WRITES];
} group;

struct rill_writer {
	rill_log           *log;
	rill_store         *store;
	rill_dedup         *dedup;
	rill_writer_options opts;
	pthread_t           thread;

	pthread_mutex_t mu;
	pthread_cond_t  cv;        // the writer thread waits here
	pthread_cond_t  settle_cv; // and threads in rill_writer_settle here
	rill_write     *head;      // the queue, guarded by mu
	rill_write     *tail;
	bool            sleeping;    // the writer thread waits on cv
	bool            sleep_short; // for staged writes (STAGE_MAX_US)
	bool            committing;  // a thread holds the commit turn
	bool            closing;
	atomic_bool     failed;
	atomic_uint     settlers; // threads in rill_writer_settle
	// The last seq a done callback may have reported: what a read that
	// starts now must see.
	_Atomic uint64_t acked_seq;

	// The commit turn's holder only (and replay, before the thread
	// starts): the writer thread, or a submitter committing.
	uint8_t          *pack; // scratch for packing a batch
	size_t            pack_cap;
	uint64_t          last_seq;
	uint64_t          last_sync_ms;
	uint64_t          last_housekeeping_ms;
	bool              unsynced; // bytes flushed but not synced
	rill_store_batch *sb;
	group            *group; // the one being committed
	// Acknowledged writes in sb, not yet in the store (see "Applying
	// later"); staged is also read by the writer thread to choose its
	// sleep, hence atomic.
	atomic_size_t staged;
	size_t        staged_bytes;
	uint64_t      staged_seq; // the last seq in sb
	uint64_t      staged_us;  // when the oldest was staged (monotonic)
	// staged_keys: a bit for each staged write's key (hashed), set
	// before the write is acknowledged and cleared once it is applied;
	// any thread reads it (rill_writer_settle_key).
	_Atomic uint64_t staged_keys[STAGED_KEY_BITS / 64];

	_Atomic uint64_t n_writes;
	_Atomic uint64_t n_duplicates;
	_Atomic uint64_t n_groups;
	_Atomic uint64_t n_syncs;
	_Atomic uint64_t n_bytes;
	_Atomic uint64_t n_applies;
};

static int
ensure_pack(rill_writer *w, size_t n)
{
	if (n > w->pack_cap) {
		size_t   cap = n < 4096 ? 4096 : n;
		uint8_t *p   = rill_realloc(w->pack, cap);
		if (p == NULL) {
			return RILL_ENOMEM;
		}
		w->pack     = p;
		w->pack_cap = cap;
	}
	return RILL_OK;
}

// Recovery ---------------------------------------------------------------

// replay_record gives one record read by replay to the retry table and,
// when it is after the store's applied seq, to the store batch with its
// client's mark. A live table (given) may know the record already: it is
// not recorded twice.
static int
replay_record(
    rill_writer *w, const rill_record *rec, uint64_t applied, bool live_dedup)
{
	rill_client_mark mark;
	uint64_t         seq;
	int              rv;

	if (!live_dedup ||
	    rill_dedup_check(w->dedup, rec->client_id, rec->request_id, 0,
	        &seq) != RILL_ALREADY_EXISTS) {
		rv = rill_dedup_record(w->dedup, rec->client_id,
		    rec->request_id, rec->seq, rec->time_us / 1000);
		if (rv != RILL_OK) {
			return rv;
		}
	}
	if (rec->seq <= applied) {
		return RILL_OK;
	}
	rv = rill_store_batch_add_encoded(w->sb, rec->batch, rec->batch_len);
	if (rv == RILL_ECORRUPT) {
		rill_diag_err("WRITER-REPLAY",
		    "record %llu holds a batch that does not decode",
		    (unsigned long long) rec->seq);
	}
	if (rv != RILL_OK) {
		return rv;
	}
	rill_dedup_mark(w->dedup, rec->client_id, &mark);
	return rill_store_batch_client(
	    w->sb, rec->client_id, &mark, rec->time_us / 1000);
}

// redo_point returns the seq after which records go to the store again:
// the store's durable position when it is behind the applied one in this
// generation and the log still holds what follows it, else the applied
// seq. LevelDB's own log is not synced: after a power cut it may hold a
// commit while one before it is lost, so what lies between the durable
// and the applied positions is applied again (in seq order, puts and
// deletes come out the same).
static uint64_t
redo_point(rill_writer *w, uint64_t applied, uint64_t oldest)
{
	uint64_t applied_gen, durable_gen, durable, unused;

	rill_store_applied(w->store, &applied_gen, &unused);
	if (!rill_store_durable(w->store, &durable_gen, &durable) ||
	    durable_gen != w->opts.generation || applied_gen != durable_gen ||
	    durable >= applied || durable + 1 < oldest) {
		return applied;
	}
	return durable;
}

// replay reads the log from the older of the redo point (redo_point) and
// the dedup refill window. Records after the redo point go to the store
// in chunks, with their clients' marks. A new retry table first gets the
// store's client marks, then every record read refills its rings. A table
// the writer was given is live (a promoted follower's): it already knows
// every record up to the applied seq, so only the records after it are
// read, and each is recorded only if the table does not know it yet.
static int
replay(rill_writer *w, bool live_dedup)
{
	uint64_t         applied   = rill_store_applied_seq(w->store);
	uint64_t         last      = rill_log_last_seq(w->log);
	uint64_t         oldest    = rill_log_oldest_seq(w->log);
	uint64_t         redo      = redo_point(w, applied, oldest);
	uint64_t         from      = redo;
	uint64_t         n_replay  = 0;
	uint64_t         chunk_seq = 0;
	rill_log_reader *reader;
	rill_record      rec;
	int              rv;

	if (applied > last) {
		rill_diag_err("WRITER-AHEAD",
		    "store is at seq %llu but the log ends at %llu: the log "
		    "lost writes (sync policy none?)",
		    (unsigned long long) applied, (unsigned long long) last);
		return RILL_FAILED_PRECONDITION;
	}
	if (applied + 1 < oldest) {
		rill_diag_err("WRITER-GAP",
		    "store is at seq %llu but the log starts at %llu",
		    (unsigned long long) applied, (unsigned long long) oldest);
		return RILL_FAILED_PRECONDITION;
	}
	if (!live_dedup) {
		uint64_t            n_refill = w->opts.dedup_refill_records;
		uint64_t            window;
		rill_dedup_restorer restorer;

		if (n_refill == 0) {
			n_refill = RILL_DEDUP_REFILL_RECORDS;
		}
		window = rill_dedup_refill_from(oldest, last, n_refill);
		if (window < from) {
			from = window;
		}
		// The marks are judged against the refill's start: a client
		// whose ring the refill holds whole keeps its floor.
		restorer = (rill_dedup_restorer) { .dedup = w->dedup,
			.from_seq                         = from };
		if ((rv = rill_store_clients(w->store, rill_dedup_restore_fn,
		         &restorer)) != RILL_OK) {
			return rv;
		}
	}
	if ((rv = rill_log_reader_open(&reader, w->log, from)) != RILL_OK) {
		return rv;
	}
	while ((rv = rill_log_reader_next(reader, &rec)) == RILL_OK) {
		if ((rv = replay_record(w, &rec, redo, live_dedup)) !=
		    RILL_OK) {
			break;
		}
		if (rec.seq <= redo) {
			continue;
		}
		chunk_seq = rec.seq;
		if (++n_replay % REPLAY_CHUNK == 0) {
			rv = rill_store_commit(
			    w->store, w->sb, w->opts.generation, chunk_seq);
			if (rv != RILL_OK) {
				break;
			}
		}
	}
	rill_log_reader_close(reader);
	if (rv != RILL_NOT_FOUND) {
		return rv;
	}
	if (n_replay % REPLAY_CHUNK != 0) {
		rv = rill_store_commit(
		    w->store, w->sb, w->opts.generation, chunk_seq);
		if (rv != RILL_OK) {
			return rv;
		}
	}
	if (rill_store_applied_seq(w->store) != last) {
		rill_diag_err("WRITER-REPLAY",
		    "replay reached seq %llu, but the log ends at %llu",
		    (unsigned long long) rill_store_applied_seq(w->store),
		    (unsigned long long) last);
		return RILL_ECORRUPT;
	}
	if (n_replay > 0) {
		rill_diag_notice("WRITER-REPLAY",
		    "replayed %llu records from the log (from seq %llu, the "
		    "store's %s position), store now at seq %llu",
		    (unsigned long long) n_replay,
		    (unsigned long long) redo + 1,
		    redo < applied ? "durable" : "applied",
		    (unsigned long long) last);
	}
	return RILL_OK;
}

// The group commit loop -------------------------------------------------
//
// The commit turn's holder does it all, in order, for each group (the
// writer thread's loop; a submitter's is commit_inline, below):
//
//   take_group ─► log_group: dedup, seqs, append, flush + fdatasync
//              ─► apply_group: store batch (committed at once under
//                 "always", see "Applying later"), then the done callbacks
//
// Two variants were built and measured with rill_bench (32 clients,
// durable puts) and dropped: a second thread applying group N to the store
// while the first synced group N+1, and a second thread sending the
// replies (a third of this thread's time). Each made groups smaller (the
// first thread came back for the queue sooner), so more fdatasyncs and
// wake-ups, and neither was faster on this 2-core machine: CPU (system
// calls and thread wake-ups), not the disk's latency, bounds the rate.
// The pipeline was measured again for batches of 100 keys, whose commit
// (memtable inserts) takes about as long as their fdatasync: no gain in
// alternate runs either, with the CPUs then busy with the commit and
// LevelDB's compaction.
// Sending the replies from nng's task threads instead (the done callback
// only finishing the context's aio) measured the same as sending them
// here, with sync "always" and "none" alike (rill_bench --workload put,
// old and new rilld in alternate runs), so the simpler form stayed.
// Under "always", a wait of up to 100 us for a group to gather as many
// writes as the last one held cut the fdatasyncs of 8 local callers by a
// quarter but not their latency, and cost 32 TCP clients a few percent:
// dropped. So was applying to the store later under "always" too (see
// "Applying later"): no faster, and a read would wait behind fdatasyncs.

static void
wait_ts(struct timespec *ts, uint64_t wait_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t) (wait_ms / 1000);
	ts->tv_nsec += (long) (wait_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void
forget_client(void *arg, uint64_t client_id)
{
	rill_writer *w = arg;

	// The deletion rides with the next group's commit.
	rill_store_batch_forget_client(w->sb, client_id);
}

// commits_inline tells whether submitters commit (see "Committing in the
// submitter" below): under every policy but "always".
static bool
commits_inline(const rill_writer *w)
{
	return w->opts.sync != RILL_SYNC_ALWAYS;
}

// interval_sync_due and rounds_due tell what housekeeping has to do at
// now_ms: the interval's fdatasync, and its once-per-HOUSEKEEPING_MS round.
// Called by the turn's holder.
static bool
interval_sync_due(const rill_writer *w, uint64_t now_ms)
{
	return w->unsynced && w->opts.sync == RILL_SYNC_INTERVAL &&
	    now_ms - w->last_sync_ms >= w->opts.sync_interval_ms;
}

static bool
rounds_due(const rill_writer *w, uint64_t now_ms)
{
	return now_ms - w->last_housekeeping_ms >= HOUSEKEEPING_MS;
}

// housekeeping_due tells whether the writer thread has work of its own.
// Called by the turn's holder.
static bool
housekeeping_due(const rill_writer *w, uint64_t now_ms)
{
	return interval_sync_due(w, now_ms) || rounds_due(w, now_ms);
}

static bool staged_any(rill_writer *w);
static bool stage_due(rill_writer *w);
static int  apply_staged(rill_writer *w);

// housekeeping runs on the writer thread when it is idle or once per
// HOUSEKEEPING_MS: applying staged writes that waited long enough, the
// interval sync, rolling an old segment, forgetting idle clients. Staged
// writes are applied before any wait on the disk.
static void
housekeeping(rill_writer *w, uint64_t now_ms)
{
	if (stage_due(w) || interval_sync_due(w, now_ms) ||
	    rounds_due(w, now_ms)) {
		apply_staged(w);
	}
	if (interval_sync_due(w, now_ms)) {
		if (rill_log_sync(w->log) != RILL_OK) {
			atomic_store(&w->failed, true);
		}
		atomic_fetch_add_explicit(
		    &w->n_syncs, 1, memory_order_relaxed);
		w->unsynced     = false;
		w->last_sync_ms = now_ms;
	}
	if (!rounds_due(w, now_ms)) {
		return;
	}
	w->last_housekeeping_ms = now_ms;
	if (rill_log_roll_if_due(w->log, rill_wall_us()) != RILL_OK) {
		atomic_store(&w->failed, true);
	}
	rill_dedup_expire(w->dedup, rill_wall_us() / 1000, forget_client, w);
}

// unlink_group unlinks a bounded group from the head of the queue, which
// is not empty. Called with mu held.
static rill_write *
unlink_group(rill_writer *w)
{
	rill_write *list = w->head;
	rill_write *end  = list;
	size_t      n = 1, bytes = end->batch_bytes;

	while (end->next != NULL && n < GROUP_MAX_WRITES &&
	    bytes < GROUP_MAX_BYTES) {
		end = end->next;
		n++;
		bytes += end->batch_bytes;
	}
	w->head   = end->next;
	end->next = NULL;
	if (w->head == NULL) {
		w->tail = NULL;
	}
	return list;
}

// release_turn gives the commit turn back, mu held. It wakes the writer
// thread if it sleeps while work waits for it (the queue, closing, its
// housekeeping, staged writes it did not choose its sleep for), and the
// threads in rill_writer_settle, which may need the turn. Signalled under
// mu: once the turn is back, rill_writer_close may free w as soon as mu is
// unlocked.
static void
release_turn(rill_writer *w)
{
	if (w->sleeping &&
	    (w->head != NULL || w->closing ||
	        (staged_any(w) && !w->sleep_short) ||
	        housekeeping_due(w, rill_mono_ms()))) {
		pthread_cond_signal(&w->cv);
	}
	w->committing = false;
	if (atomic_load(&w->settlers) > 0) {
		pthread_cond_broadcast(&w->settle_cv);
	}
}

// take_group takes the commit turn and a bounded group from the queue for
// the writer thread. It waits while the queue is empty or a submitter
// holds the turn, doing the housekeeping when it wakes with nothing to
// commit (at most a millisecond later while writes are staged). It returns
// NULL only when the writer is closing, the queue is drained and nothing
// is staged, without the turn (no submitter takes it any more).
static rill_write *
take_group(rill_writer *w)
{
	rill_write *list;

	pthread_mutex_lock(&w->mu);
	while (w->committing || w->head == NULL) {
		bool closing = w->closing;

		if (!w->committing && closing && !staged_any(w)) {
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		if (w->committing || !closing) {
			struct timespec ts;
			uint64_t        wait_ms = HOUSEKEEPING_MS;

			if (w->opts.sync == RILL_SYNC_INTERVAL &&
			    w->opts.sync_interval_ms < wait_ms) {
				wait_ms = w->opts.sync_interval_ms;
			}
			w->sleep_short = staged_any(w);
			if (w->sleep_short) {
				wait_ms = (STAGE_MAX_US + 999) / 1000;
			}
			wait_ts(&ts, wait_ms);
			w->sleeping = true;
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
			w->sleeping = false;
		}
		if (!w->committing && w->head == NULL) {
			w->committing = true;
			pthread_mutex_unlock(&w->mu);
			if (closing) {
				apply_staged(w);
			}
			housekeeping(w, rill_mono_ms());
			pthread_mutex_lock(&w->mu);
			release_turn(w);
		}
	}
	w->committing = true;
	list          = unlink_group(w);
	pthread_mutex_unlock(&w->mu);
	return list;
}

// append_write gives wr the next seq and appends its record to the log's
// group. It returns RILL_OK, or a code for this write alone.
static int
append_write(rill_writer *w, rill_write *wr, uint64_t now_us)
{
	rill_record rec;
	int         rv;

	if ((rv = ensure_pack(w, wr->batch_bytes)) != RILL_OK) {
		return rv;
	}
	rill__v1__batch__pack(wr->batch, w->pack);
	rec = (rill_record) {
		.seq        = w->last_seq + 1,
		.time_us    = now_us,
		.client_id  = wr->client_id,
		.request_id = wr->request_id,
		.batch      = w->pack,
		.batch_len  = wr->batch_bytes,
	};
	if ((rv = rill_log_append(w->log, &rec)) != RILL_OK) {
		return rv;
	}
	w->last_seq++;
	atomic_fetch_add_explicit(&w->n_bytes,
	    RILL_LOG_RECORD_FRAME_SIZE + RILL_LOG_RECORD_BODY_FIXED +
	        wr->batch_bytes,
	    memory_order_relaxed);
	if ((rv = rill_dedup_record(w->dedup, wr->client_id, wr->request_id,
	         rec.seq, now_us / 1000)) != RILL_OK) {
		// Without its entry, a retry of this write would be applied
		// again: refuse every write, as after a failed flush. The
		// group is answered UNAVAILABLE; a restart rebuilds the table
		// from the log.
		rill_diag_err("WRITER-FAILED",
		    "recording seq %llu in the retry table failed (%s): "
		    "refusing writes until restart",
		    (unsigned long long) rec.seq, rill_strerror(rv));
		atomic_store(&w->failed, true);
		return rv;
	}
	return RILL_OK;
}

// log_group is the first half of a group's commit: it decides each write
// (new, duplicate, refused), appends the new ones and makes them durable.
static void
log_group(rill_writer *w, group *g, rill_write *list)
{
	uint64_t first_seq = w->last_seq + 1;
	bool     sync      = w->opts.sync == RILL_SYNC_ALWAYS;
	size_t   n_new     = 0;
	int      rv;

	g->head    = list;
	g->n       = 0;
	g->time_us = rill_wall_us();

	for (rill_write *wr = list; wr != NULL; wr = wr->next, g->n++) {
		outcome *o   = &g->out[g->n];
		uint64_t seq = 0;

		*o = (outcome) { .code = RILL_UNAVAILABLE };
		if (atomic_load(&w->failed)) {
			continue;
		}
		rv = rill_dedup_check(w->dedup, wr->client_id, wr->request_id,
		    wr->attempt, &seq);
		if (rv == RILL_ALREADY_EXISTS) {
			// Acknowledged with this group: if the first write is
			// in it, it is durable only after the flush.
			*o = (outcome) {
				.code = RILL_OK, .seq = seq, .duplicate = true
			};
			continue;
		}
		if (rv != RILL_OK) {
			o->code = rv;
			continue;
		}
		if ((rv = append_write(w, wr, g->time_us)) != RILL_OK) {
			o->code = rv;
			continue;
		}
		*o = (outcome) {
			.code = RILL_OK, .seq = w->last_seq, .is_new = true
		};
		rill_dedup_mark(w->dedup, wr->client_id, &o->mark);
		n_new++;
	}
	g->last_seq = w->last_seq;
	g->n_new    = n_new;
	if (n_new == 0 || atomic_load(&w->failed)) {
		return;
	}
	uint64_t t0 = w->opts.metrics != NULL ? rill_mono_ns() : 0;
	if ((rv = rill_log_flush(w->log, sync)) != RILL_OK) {
		rill_diag_err("WRITER-FAILED",
		    "writing seqs %llu..%llu to the log failed (%s): refusing "
		    "writes until restart",
		    (unsigned long long) first_seq,
		    (unsigned long long) w->last_seq, rill_strerror(rv));
		atomic_store(&w->failed, true);
		rill_dedup_forget_after(w->dedup, first_seq - 1);
		return;
	}
	w->unsynced = !sync;
	if (sync) {
		atomic_fetch_add_explicit(
		    &w->n_syncs, 1, memory_order_relaxed);
	}
	if (w->opts.metrics != NULL && sync) {
		rill_histogram_observe(&w->opts.metrics->fsync_latency,
		    (rill_mono_ns() - t0) / 1000);
	}
}

// record_metrics counts a committed group's writes and their latency.
static void
record_metrics(rill_writer *w, const group *g)
{
	rill_metrics *m = w->opts.metrics;
	uint64_t      now, bytes = 0;
	size_t        i = 0;

	if (m == NULL || g->n_new == 0) {
		return;
	}
	now = rill_mono_ns();
	for (rill_write *wr = g->head; wr != NULL; wr = wr->next, i++) {
		if (g->out[i].is_new) {
			bytes += RILL_LOG_RECORD_FRAME_SIZE +
			    RILL_LOG_RECORD_BODY_FIXED + wr->batch_bytes;
			rill_histogram_observe(
			    &m->write_latency, (now - wr->submit_ns) / 1000);
		}
	}
	atomic_fetch_add_explicit(&m->writes, g->n_new, memory_order_relaxed);
	atomic_fetch_add_explicit(
	    &m->write_bytes, bytes, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->groups, 1, memory_order_relaxed);
}

// Applying later -----------------------------------------------------------
//
// Under "always" a group goes to the store before it is acknowledged.
// Under "none" and "interval" (inline commits) it is acknowledged once it
// is in the log, and waits in the store batch, copied (so the requests may
// go), until STAGE_MAX_WRITES or STAGE_MAX_BYTES are staged or the oldest
// has waited STAGE_MAX_US; then one LevelDB write applies every group
// staged. A LevelDB write costs about as much as the rest of a small
// commit (its own log's write(2), its mutex, the memtable), and with a few
// callers a group is one or two writes. Staged, puts from 8 callers over
// ipc:// went from 30,200/s to 37,400/s (means of 5 alternate runs of
// rill_bench --local=put --sync none on this 2-core machine; 0.40-0.52 of
// the ipc echo), p50 from about 200 to 130 us; 32 clients over TCP under
// "none" from 28-32k/s to 37-51k/s.
//
// An acknowledgement still promises that a read starting after it sees
// the write: reads call rill_writer_settle first, which applies what is
// staged up to the last acknowledged seq (acked_seq) when the store is
// behind it. Its thread takes the turn, or waits for the holder, who
// applies at its next group when a read waits, before any wait on the
// disk (the writer thread's interval sync, a segment's roll), and gives
// the turn back after a bounded number of groups. A Get calls
// rill_writer_settle_key instead, which settles only when a filter of the
// staged keys says a staged write may touch its key: with puts and gets
// at once, settling every Get cost gets a fifth of their rate. The writer
// thread applies what waits STAGE_MAX_US with nobody committing, and
// everything before it ends. A crash loses nothing acknowledged: the
// store is a view of the log, and recovery replays the log after the
// store's applied seq.

// staged_any tells whether writes wait in the store batch. Any thread (the
// writer thread reads it under mu to choose its sleep).
static bool
staged_any(rill_writer *w)
{
	return atomic_load_explicit(&w->staged, memory_order_relaxed) > 0;
}

// stage_due tells whether the staged writes must go to the store now.
static bool
stage_due(rill_writer *w)
{
	size_t n = atomic_load_explicit(&w->staged, memory_order_relaxed);

	return n > 0 &&
	    (n >= STAGE_MAX_WRITES || w->staged_bytes >= STAGE_MAX_BYTES ||
	        rill_mono_ns() / 1000 - w->staged_us >= STAGE_MAX_US);
}

// fail_store fails the writer after the store refused seqs up to seq.
static void
fail_store(rill_writer *w, const char *what, uint64_t seq, int rv)
{
	rill_diag_err("WRITER-FAILED",
	    "%s seqs up to %llu to the store failed (%s): refusing writes "
	    "until restart",
	    what, (unsigned long long) seq, rill_strerror(rv));
	atomic_store(&w->failed, true);
}

// key_bit returns the bit of key in staged_keys.
static size_t
key_bit(const void *key, size_t len)
{
	return (size_t) (XXH3_64bits(key, len) & (STAGED_KEY_BITS - 1));
}

// mark_keys sets the bits of batch's keys in staged_keys (before the
// acknowledgement's release of acked_seq publishes them).
static void
mark_keys(rill_writer *w, const Rill__V1__Batch *batch)
{
	for (size_t i = 0; i < batch->n_ops; i++) {
		size_t bit =
		    key_bit(batch->ops[i]->key.data, batch->ops[i]->key.len);
		atomic_fetch_or_explicit(&w->staged_keys[bit / 64],
		    (uint64_t) 1 << (bit % 64), memory_order_relaxed);
	}
}

// stage_group adds the group's new writes, with their clients' marks, to
// the store batch, copied.
static int
stage_group(rill_writer *w, const group *g)
{
	size_t      i = 0, bytes = 0;
	rill_write *wr;
	int         rv = RILL_OK;

	for (wr = g->head; wr != NULL && rv == RILL_OK; wr = wr->next, i++) {
		const outcome *o = &g->out[i];
		if (!o->is_new) {
			continue;
		}
		if (commits_inline(w)) {
			mark_keys(w, wr->batch);
		}
		rv = rill_store_batch_add(w->sb, wr->batch);
		if (rv == RILL_OK) {
			rv = rill_store_batch_client(
			    w->sb, wr->client_id, &o->mark, g->time_us / 1000);
		}
		bytes += wr->batch_bytes;
	}
	if (rv == RILL_OK) {
		rv = rill_store_batch_stage(w->sb);
	} else {
		// The ops added borrow the requests, which the done callbacks
		// free: a later apply_staged (at close) must not read them.
		rill_store_batch_drop_added(w->sb);
	}
	if (rv != RILL_OK) {
		// The group is in the log; a restart replays it.
		fail_store(w, "staging", g->last_seq, rv);
		return rv;
	}
	if (!staged_any(w) && commits_inline(w)) {
		// Only inline commits wait for the age (see stage_due).
		w->staged_us = rill_mono_ns() / 1000;
	}
	atomic_fetch_add_explicit(&w->staged, g->n_new, memory_order_relaxed);
	w->staged_bytes += bytes;
	w->staged_seq = g->last_seq;
	return RILL_OK;
}

// apply_staged commits the staged writes to the store, then wakes the
// threads waiting in rill_writer_settle. The turn's holder only.
static int
apply_staged(rill_writer *w)
{
	int rv;

	if (!staged_any(w)) {
		return RILL_OK;
	}
	rv = rill_store_commit(
	    w->store, w->sb, w->opts.generation, w->staged_seq);
	atomic_store_explicit(&w->staged, 0, memory_order_relaxed);
	w->staged_bytes = 0;
	atomic_fetch_add_explicit(&w->n_applies, 1, memory_order_relaxed);
	if (rv != RILL_OK) {
		// What was acknowledged is in the log; a restart replays it.
		// The keys stay marked: their reads must settle, and fail.
		fail_store(w, "applying", w->staged_seq, rv);
	} else if (commits_inline(w)) {
		// Released after the store holds the writes: a reader that
		// sees a bit cleared also sees what was applied.
		for (size_t i = 0; i < STAGED_KEY_BITS / 64; i++) {
			atomic_store_explicit(
			    &w->staged_keys[i], 0, memory_order_release);
		}
	}
	if (atomic_load(&w->settlers) > 0) {
		pthread_mutex_lock(&w->mu);
		pthread_cond_broadcast(&w->settle_cv);
		pthread_mutex_unlock(&w->mu);
	}
	return rv;
}

// apply_group is the second half of a group's commit: it stages the
// group's new writes for the store and applies them (at once under
// "always", when due under the other policies), then reports every
// outcome.
static void
apply_group(rill_writer *w, group *g)
{
	size_t      i;
	rill_write *wr;

	// A read waiting in rill_writer_settle would otherwise wait for the
	// turn to end.
	if (g->n_new > 0 && !atomic_load(&w->failed) &&
	    stage_group(w, g) == RILL_OK &&
	    (!commits_inline(w) || stage_due(w) ||
	        atomic_load(&w->settlers) > 0)) {
		apply_staged(w);
	}
	if (atomic_load(&w->failed)) {
		// Nothing more is acknowledged: the log's or the store's
		// state is unknown, and a restart replays what reached the
		// log.
		for (i = 0; i < g->n; i++) {
			g->out[i] = (outcome) { .code = RILL_UNAVAILABLE };
		}
	} else {
		size_t n_dup = 0;
		for (i = 0; i < g->n; i++) {
			n_dup += g->out[i].duplicate;
		}
		atomic_fetch_add(&w->n_writes, g->n_new);
		atomic_fetch_add(&w->n_duplicates, n_dup);
		atomic_fetch_add(&w->n_groups, g->n_new > 0);
		record_metrics(w, g);
		// Before on_commit: the reads it wakes look at it.
		atomic_store_explicit(
		    &w->acked_seq, g->last_seq, memory_order_release);
		if (g->n_new > 0 && w->opts.on_commit != NULL) {
			w->opts.on_commit(w->opts.on_commit_arg);
		}
	}
	for (wr = g->head, i = 0; wr != NULL; i++) {
		rill_write *next = wr->next;
		wr->done(
		    wr, g->out[i].code, g->out[i].seq, g->out[i].duplicate);
		wr = next;
	}
}

// Committing in the submitter ---------------------------------------------
//
// Under "none" and "interval" a commit is CPU work and page-cache writes:
// the submitter that finds nobody committing takes the turn and commits
// the queue itself, its own write first, then whatever others queued
// meanwhile (they found the turn taken and only queued). That saves the
// writer thread's wake-up and the hand-back for each group: on this 2-core
// machine puts from 8 callers over ipc:// went from about 0.21 to 0.35-0.41
// of the ipc echo (rill_bench --local=put --sync none); 32 clients over
// TCP, whose groups are larger, gained 5% at most (within the noise).
// Under "always" the fdatasync stays on the writer thread: a submitter is
// an nng thread, which must not wait on the disk. Nor would it be faster:
// with submitters committing under "always" too, 32 clients made the same
// puts/s (23.4k against 23.9k, means of 4 alternate runs of rill_bench
// --workload put --clients 32). Neither did a writer thread that spun for
// 100 us before it slept, nor (tried together with the second thread
// sending replies, above) replies sent on a callback-less aio with the
// context's next receive posted at once, one task-queue hop fewer a
// request: 19.9-22.6k against 22.1-23.8k puts/s, 3 alternate runs each.
//
// The turn goes back to the writer thread, with the queue, when
// housekeeping is due (the interval's fdatasync, an old segment to roll),
// when the next flush would start a new segment (which fdatasyncs the old
// one), or after INLINE_MAX_GROUPS groups: a submitter never waits on an
// fdatasync, a steady stream of writes does not hold one submitter for
// good, and the housekeeping is not starved.

// hand_back_due tells whether the turn's holder, a submitter, must leave
// the queue to the writer thread.
static bool
hand_back_due(rill_writer *w)
{
	return housekeeping_due(w, rill_mono_ms()) ||
	    rill_log_flush_rolls(w->log, rill_wall_us());
}

// commit_inline commits first (a submitter's write, which did not go
// through the empty queue; may be NULL), then the queue, on the calling
// thread, which took the turn in rill_writer_submit; then it gives the
// turn back.
static void
commit_inline(rill_writer *w, rill_write *first)
{
	if (first != NULL) {
		log_group(w, w->group, first);
		apply_group(w, w->group);
	}
	for (int n = first != NULL;; n++) {
		rill_write *list = NULL;

		pthread_mutex_lock(&w->mu);
		if (w->head != NULL && n < INLINE_MAX_GROUPS &&
		    !hand_back_due(w)) {
			list = unlink_group(w);
		}
		if (list == NULL) {
			// The writer thread takes what is left, does its
			// housekeeping, or ends.
			release_turn(w);
			pthread_mutex_unlock(&w->mu);
			return;
		}
		pthread_mutex_unlock(&w->mu);
		log_group(w, w->group, list);
		apply_group(w, w->group);
	}
}

static void *
writer_main(void *arg)
{
	rill_writer *w = arg;
	rill_write  *list;

	// A name for top -H and perf. LevelDB's background thread, when this
	// thread starts it, gets the name too.
	pthread_setname_np(pthread_self(), "rill:writer");
	while ((list = take_group(w)) != NULL) {
		// This thread may wait on the disk (a segment's roll):
		// nothing staged waits with it.
		apply_staged(w);
		log_group(w, w->group, list);
		apply_group(w, w->group);
		housekeeping(w, rill_mono_ms());
		pthread_mutex_lock(&w->mu);
		release_turn(w);
		pthread_mutex_unlock(&w->mu);
	}
	if (w->unsynced && rill_log_sync(w->log) != RILL_OK) {
		atomic_store(&w->failed, true);
	}
	return NULL;
}

static void
free_writer(rill_writer *w)
{
	rill_store_batch_free(w->sb);
	rill_dedup_free(w->dedup);
	rill_free(w->pack);
	rill_free(w->group);
	pthread_cond_destroy(&w->settle_cv);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	rill_free(w);
}

// Public -----------------------------------------------------------------

int
rill_writer_open(rill_writer **writerp, rill_log *log, rill_store *store,
    const rill_writer_options *opts)
{
	rill_writer *w;
	int          rv;

	if ((w = rill_zalloc(sizeof(*w))) == NULL) {
		rill_dedup_free(opts->dedup);
		return RILL_ENOMEM;
	}
	w->log        = log;
	w->store      = store;
	w->opts       = *opts;
	w->dedup      = opts->dedup;
	w->opts.dedup = NULL;
	pthread_mutex_init(&w->mu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_cond_init(&w->settle_cv, NULL);
	if ((w->group = rill_zalloc(sizeof(group))) == NULL) {
		rv = RILL_ENOMEM;
		goto out_free;
	}
	if (w->dedup == NULL &&
	    (rv = rill_dedup_new(&w->dedup, opts->dedup_per_client,
	         opts->dedup_idle_ms)) != RILL_OK) {
		goto out_free;
	}
	if ((rv = rill_store_batch_new(&w->sb)) != RILL_OK) {
		goto out_free;
	}
	if ((rv = replay(w, opts->dedup != NULL)) != RILL_OK) {
		goto out_free;
	}
	w->last_seq             = rill_log_last_seq(log);
	w->last_sync_ms         = rill_mono_ms();
	w->last_housekeeping_ms = w->last_sync_ms;
	atomic_store(&w->acked_seq, w->last_seq);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		rv = RILL_ENOMEM;
		goto out_free;
	}
	*writerp = w;
	return RILL_OK;

out_free:
	free_writer(w);
	return rv;
}

int
rill_writer_submit(rill_writer *w, rill_write *wr)
{
	bool wake, took = false;

	if (atomic_load(&w->failed)) {
		return RILL_UNAVAILABLE;
	}
	wr->batch_bytes = rill__v1__batch__get_packed_size(wr->batch);
	wr->next        = NULL;
	if (w->opts.metrics != NULL) {
		wr->submit_ns = rill_mono_ns();
	}
	pthread_mutex_lock(&w->mu);
	if (w->closing) {
		pthread_mutex_unlock(&w->mu);
		return RILL_UNAVAILABLE;
	}
	if (commits_inline(w) && !w->committing) {
		// Nobody commits: this thread does.
		w->committing = true;
		took          = true;
		if (w->head == NULL && !hand_back_due(w)) {
			// The common case: wr is the only write.
			pthread_mutex_unlock(&w->mu);
			commit_inline(w, wr);
			return RILL_OK;
		}
	}
	if (w->tail == NULL) {
		w->head = wr;
	} else {
		w->tail->next = wr;
	}
	w->tail = wr;
	// Under inline commits the turn's holder takes wr: no wake-up here.
	wake = w->sleeping && !commits_inline(w);
	pthread_mutex_unlock(&w->mu);
	if (took) {
		commit_inline(w, NULL);
	} else if (wake) {
		pthread_cond_signal(&w->cv);
	}
	return RILL_OK;
}

void
rill_writer_close(rill_writer *w)
{
	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->closing = true;
	pthread_mutex_unlock(&w->mu);
	pthread_cond_signal(&w->cv);
	// The thread drains the queue before it ends.
	pthread_join(w->thread, NULL);
	free_writer(w);
}

int
rill_writer_settle_key(rill_writer *w, const void *key, size_t len)
{
	uint64_t want =
	    atomic_load_explicit(&w->acked_seq, memory_order_acquire);
	size_t bit;

	if (rill_store_applied_seq(w->store) >= want) {
		return RILL_OK;
	}
	// A write to key acknowledged up to want set its bit before the
	// release of acked_seq; a bit cleared since was released after the
	// store held the writes.
	bit = key_bit(key, len);
	if ((atomic_load_explicit(
	         &w->staged_keys[bit / 64], memory_order_acquire) &
	        ((uint64_t) 1 << (bit % 64))) == 0) {
		return RILL_OK;
	}
	return rill_writer_settle(w);
}

uint64_t
rill_writer_acked_seq(rill_writer *w)
{
	return atomic_load_explicit(&w->acked_seq, memory_order_acquire);
}

int
rill_writer_settle(rill_writer *w)
{
	uint64_t want =
	    atomic_load_explicit(&w->acked_seq, memory_order_acquire);
	bool took = false;
	int  rv   = RILL_OK;

	if (rill_store_applied_seq(w->store) >= want) {
		return RILL_OK; // the common case, and always under "always"
	}
	pthread_mutex_lock(&w->mu);
	atomic_fetch_add(&w->settlers, 1);
	while (rill_store_applied_seq(w->store) < want) {
		if (atomic_load(&w->failed)) {
			rv = RILL_UNAVAILABLE;
			break;
		}
		if (!w->committing) {
			w->committing = true;
			took          = true;
			break;
		}
		// The holder applies before it waits on the disk, and gives
		// the turn back after a bounded number of groups.
		pthread_cond_wait(&w->settle_cv, &w->mu);
	}
	atomic_fetch_sub(&w->settlers, 1);
	pthread_mutex_unlock(&w->mu);
	if (took) {
		rv = apply_staged(w) == RILL_OK ? RILL_OK : RILL_UNAVAILABLE;
		// Writes queued meanwhile go to the writer thread.
		pthread_mutex_lock(&w->mu);
		release_turn(w);
		pthread_mutex_unlock(&w->mu);
	}
	return rv;
}

bool
rill_writer_failed(rill_writer *w)
{
	return atomic_load(&w->failed);
}

void
rill_writer_get_stats(rill_writer *w, rill_writer_stats *stats)
{
	stats->writes     = atomic_load(&w->n_writes);
	stats->duplicates = atomic_load(&w->n_duplicates);
	stats->groups     = atomic_load(&w->n_groups);
	stats->syncs      = atomic_load(&w->n_syncs);
	stats->bytes      = atomic_load(&w->n_bytes);
	stats->applies    = atomic_load(&w->n_applies);
}
