// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// rpc: one REP socket, a pool of contexts. Each context is a small state
// machine driven by its aio callback:
//
//          ┌────────────── reply sent (or failed) ◄───────────┐
//          ▼                                                  │
//   RECV ──(request)──► dispatch ──(read: answered here)──► SEND
//    │                   │  │ └──(write: submitted)──► WRITE ──(done)─┘
//    │                   │  └──(nothing new yet)──► WAIT ──(notify or
//    │                   └──────────────◄───────────────┘    timeout)
//    └──(cancelled while closing)──► IDLE
//
// In WRITE the context holds its request until the writer's done callback
// packs the reply and sends it from the committing thread: the writer
// thread, or under sync "none" and "interval" an nng thread, maybe this
// context's own before rill_writer_submit returns. In WAIT (a
// FetchLog long-poll, or a read waiting for its min_seq) it holds the
// request while its aio sleeps; rill_rpc_notify cancels the sleep and the
// request is dispatched again. Invariant: in WRITE the context's aio is
// idle, so the writer may start a send on it. The unpacked request lives
// until its reply is packed.
//
// The node's parts (store, log, writer, generation) change when it
// bootstraps, changes generation or is promoted: every dispatch holds
// node_lock for reading, and rill_rpc_set_node swaps them holding it for
// writing.
#include "rpc.h"

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
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <rill/status.h>

#include "clock.h"
#include "diag.h"
#include "file.h"
#include "mem.h"
#include "nng_close.h"
#include "snapshot.h"
#include "token.h"

// A scan page holds at most this many entries and about this many bytes.
#define SCAN_DEFAULT_LIMIT 1000
#define SCAN_MAX_LIMIT 100000
#define SCAN_DEFAULT_BYTES (4u << 20)
// A FetchLog reply or a GetSnapshot chunk holds about this many bytes by
// default, and at most the cap (kept below any sane receive limit).
#define FETCH_DEFAULT_BYTES (1u << 20)
#define CHUNK_DEFAULT_BYTES (1u << 20)
#define HISTORY_MAX_BYTES (8u << 20)
// Long-polls wait at most this long, whatever the request asks.
#define FETCH_MAX_WAIT_MS 60000
#define READ_MAX_WAIT_MS 30000
// Lineages longer than this are cut (Status, FetchLog from ancestors).
#define LINEAGE_MAX 64
// The first field number of Request's body oneof.
#define FIRST_BODY_FIELD 10

enum ctx_state { CTX_RECV, CTX_WRITE, CTX_WAIT, CTX_SEND, CTX_IDLE };

typedef struct rpc_ctx rpc_ctx;
struct rpc_ctx {
	rill_rpc          *rpc;
	nng_ctx            ctx;
	nng_aio           *aio;
	_Atomic int        state;         // an enum ctx_state
	Rill__V1__Request *req;           // the request in WRITE and WAIT
	uint64_t           wait_until_ms; // the end of a long-poll (0: none)
	rpc_ctx           *wprev, *wnext; // rill_rpc.waiters, in WAIT
	rill_write         write;
	// A Put or Delete travels to the writer as a batch of one op.
	Rill__V1__Batch one_batch;
	Rill__V1__Op    one_op;
	Rill__V1__Op   *one_ops[1];
};

struct rill_rpc {
	rill_rpc_options opts;
	char            *node_id;

	// The node served: written under node_lock held for writing, read
	// under it held for reading (every dispatch).
	pthread_rwlock_t      node_lock;
	bool                  has_node;
	rill_store           *store;
	rill_writer          *writer;
	rill_log             *log;
	uint64_t              gen;
	char                  generation[17];
	char                 *role;
	char                 *leader;
	char                 *why;
	rill_generation_info *lineage;
	size_t                n_lineage;
	_Atomic uint64_t      last_seq_hint; // for replies outside the lock

	pthread_mutex_t wait_mu; // guards waiters
	rpc_ctx        *waiters; // contexts in WAIT

	nng_socket sock;
	rpc_ctx   *ctxs;
	uint32_t   n_ctxs;

	atomic_bool     closing;
	pthread_mutex_t mu; // guards n_idle, for rill_rpc_quiesce, and the
	pthread_cond_t  cv; // snapshot verified last
	uint32_t        n_idle;
	uint64_t        verified_gen, verified_seq;

	atomic_uint_fast64_t n_writes; // for drop_reply_every
};

static void ctx_cb(void *arg);
static void start_recv(rpc_ctx *c);
static bool dispatch(rpc_ctx *c, Rill__V1__Request *req);

// Replies ----------------------------------------------------------------

// send_response packs resp into a message and sends it on c. The context
// moves to SEND; ctx_cb continues from there.
static void
send_response(rpc_ctx *c, Rill__V1__Response *resp)
{
	size_t   n = rill__v1__response__get_packed_size(resp);
	nng_msg *msg;
	int      rv;

	if ((rv = nng_msg_alloc(&msg, n)) != 0) {
		// Without a reply the REP context simply takes the next
		// request; the client's attempt timeout retries.
		rill_diag_err("RPC-REPLY", "cannot allocate a reply: %s",
		    nng_strerror(rv));
		start_recv(c);
		return;
	}
	rill__v1__response__pack(resp, nng_msg_body(msg));
	atomic_store(&c->state, CTX_SEND);
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
}

// send_error answers with code and a message (printf-style); limit, when
// not 0, goes in details so a program can read it.
static void send_error(rpc_ctx *c, uint64_t request_id, int code,
    uint64_t limit, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
send_error(rpc_ctx *c, uint64_t request_id, int code, uint64_t limit,
    const char *fmt, ...)
{
	Rill__V1__Response resp    = RILL__V1__RESPONSE__INIT;
	Rill__V1__Details  details = RILL__V1__DETAILS__INIT;
	char               text[512];
	va_list            ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	resp.request_id = request_id;
	resp.code       = (Rill__V1__Code) rill_status_to_wire(code);
	resp.message    = text;
	details.last_seq =
	    atomic_load_explicit(&c->rpc->last_seq_hint, memory_order_relaxed);
	details.limit = limit;
	if (code == RILL_UNAVAILABLE) {
		details.retry_after_ms = 100;
	}
	// A caller without a token learns nothing of the node (not even
	// its seq, which tells its write rate).
	resp.details = code == RILL_UNAUTHENTICATED ? NULL : &details;
	send_response(c, &resp);
}

// Validation -------------------------------------------------------------

// check_key returns RILL_OK or answers the request with the problem.
static int
check_key(rpc_ctx *c, uint64_t request_id, const ProtobufCBinaryData *key,
    const char *what)
{
	if (key->len == 0) {
		send_error(c, request_id, RILL_INVALID_ARGUMENT, 0,
		    "%s: the key is empty (keys are 1 or more bytes)", what);
		return RILL_INVALID_ARGUMENT;
	}
	if (key->len > c->rpc->opts.max_key_bytes) {
		send_error(c, request_id, RILL_INVALID_ARGUMENT,
		    c->rpc->opts.max_key_bytes,
		    "%s: the key is %zu bytes, over the limit of %" PRIu64,
		    what, key->len, c->rpc->opts.max_key_bytes);
		return RILL_INVALID_ARGUMENT;
	}
	return RILL_OK;
}

// op_valid tells whether a batch's op passes every check of check_batch.
static bool
op_valid(const rill_rpc *rpc, const Rill__V1__Op *op)
{
	return op->key.len > 0 && op->key.len <= rpc->opts.max_key_bytes &&
	    op->value.len <= rpc->opts.max_value_bytes &&
	    (op->type == RILL__V1__OP__TYPE__PUT ||
	        op->type == RILL__V1__OP__TYPE__DELETE);
}

// check_batch returns RILL_OK or answers the request with the first
// problem of the batch's ops.
static int
check_batch(rpc_ctx *c, uint64_t request_id, const Rill__V1__Batch *b)
{
	if (b == NULL || b->n_ops == 0) {
		send_error(c, request_id, RILL_INVALID_ARGUMENT, 0,
		    "write: the batch is empty");
		return RILL_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < b->n_ops; i++) {
		const Rill__V1__Op *op = b->ops[i];
		char                what[48];

		if (op_valid(c->rpc, op)) {
			continue; // the common case, with no message to format
		}
		snprintf(what, sizeof(what), "write: op %zu", i);
		if (check_key(c, request_id, &op->key, what) != RILL_OK) {
			return RILL_INVALID_ARGUMENT;
		}
		if (op->type != RILL__V1__OP__TYPE__PUT &&
		    op->type != RILL__V1__OP__TYPE__DELETE) {
			send_error(c, request_id, RILL_INVALID_ARGUMENT, 0,
			    "%s: unknown op type %d", what, (int) op->type);
			return RILL_INVALID_ARGUMENT;
		}
		if (op->value.len > c->rpc->opts.max_value_bytes) {
			send_error(c, request_id, RILL_INVALID_ARGUMENT,
			    c->rpc->opts.max_value_bytes,
			    "%s: the value is %zu bytes, over the limit of "
			    "%" PRIu64,
			    what, op->value.len, c->rpc->opts.max_value_bytes);
			return RILL_INVALID_ARGUMENT;
		}
	}
	return RILL_OK;
}

// Writes -----------------------------------------------------------------

// write_done runs on the committing thread (see writer.h) once the write
// is durable and applied (or failed), and sends the reply from there.
static void
write_done(rill_write *w, int code, uint64_t seq, bool duplicate)
{
	rpc_ctx *c = (rpc_ctx *) ((char *) w - offsetof(rpc_ctx, write));
	Rill__V1__Request      *req   = c->req;
	Rill__V1__Response      resp  = RILL__V1__RESPONSE__INIT;
	Rill__V1__WriteResponse wr    = RILL__V1__WRITE_RESPONSE__INIT;
	uint32_t                every = c->rpc->opts.drop_reply_every;

	c->req = NULL;
	if (code == RILL_OK && every > 0 &&
	    (atomic_fetch_add(&c->rpc->n_writes, 1) + 1) % every == 0) {
		rill_diag_notice("RPC-TEST-DROP",
		    "dropping the reply to request %" PRIu64 " (seq %" PRIu64
		    ") as asked by RILL_TEST_DROP_REPLY_EVERY",
		    req->request_id, seq);
		rill__v1__request__free_unpacked(req, NULL);
		start_recv(c);
		return;
	}
	if (code == RILL_ABORTED) {
		send_error(c, req->request_id, code, 0,
		    "request %" PRIu64 " is a retry older than the "
		    "de-duplication window: it may have been applied; it was "
		    "not applied again",
		    req->request_id);
	} else if (code != RILL_OK) {
		send_error(c, req->request_id, code, 0,
		    "the write was not applied: %s", rill_strerror(code));
	} else {
		resp.request_id = req->request_id;
		resp.code       = RILL__V1__CODE__OK;
		wr.seq          = seq;
		wr.duplicate    = duplicate;
		switch (req->body_case) {
		case RILL__V1__REQUEST__BODY_PUT:
			resp.body_case = RILL__V1__RESPONSE__BODY_PUT;
			resp.put       = &wr;
			break;
		case RILL__V1__REQUEST__BODY_DELETE:
			resp.body_case = RILL__V1__RESPONSE__BODY_DELETE;
			resp.delete_   = &wr;
			break;
		default:
			resp.body_case = RILL__V1__RESPONSE__BODY_WRITE;
			resp.write     = &wr;
			break;
		}
		send_response(c, &resp);
	}
	rill__v1__request__free_unpacked(req, NULL);
}

// submit_write hands the batch to the writer. On success the context
// keeps req (it is now in WRITE) and the function returns true.
static bool
submit_write(rpc_ctx *c, Rill__V1__Request *req, const Rill__V1__Batch *b)
{
	int rv;

	c->req   = req;
	c->write = (rill_write) {
		.client_id  = req->client_id,
		.request_id = req->request_id,
		.attempt    = req->attempt,
		.batch      = b,
		.done       = write_done,
	};
	atomic_store(&c->state, CTX_WRITE);
	if ((rv = rill_writer_submit(c->rpc->writer, &c->write)) != RILL_OK) {
		c->req = NULL;
		send_error(c, req->request_id, rv, 0,
		    rill_writer_failed(c->rpc->writer)
		        ? "writes are refused after a storage error; see "
		          "the server's log"
		        : "the server is shutting down");
		return false;
	}
	return true;
}

// one_op_batch makes the context's one-op batch for a Put or Delete.
static const Rill__V1__Batch *
one_op_batch(rpc_ctx *c, Rill__V1__Op__Type type,
    const ProtobufCBinaryData *key, const ProtobufCBinaryData *value)
{
	rill__v1__op__init(&c->one_op);
	rill__v1__batch__init(&c->one_batch);
	c->one_op.type = type;
	c->one_op.key  = *key;
	if (value != NULL) {
		c->one_op.value = *value;
	}
	c->one_ops[0]      = &c->one_op;
	c->one_batch.n_ops = 1;
	c->one_batch.ops   = c->one_ops;
	return &c->one_batch;
}

// Long-polls -------------------------------------------------------------

// wait_end returns when the long-poll of c's request ends: fixed at its
// first dispatch (wait_ms from then, at most cap_ms), kept across the
// dispatches that follow a wake-up.
static uint64_t
wait_end(rpc_ctx *c, uint32_t wait_ms, uint32_t cap_ms)
{
	if (c->wait_until_ms == 0) {
		c->wait_until_ms =
		    rill_mono_ms() + (wait_ms < cap_ms ? wait_ms : cap_ms);
	}
	return c->wait_until_ms;
}

// rpc_ready_fn tells whether a parked request can be answered now.
typedef bool (*rpc_ready_fn)(rill_rpc *rpc, const Rill__V1__Request *req);

// park holds req on c until rill_rpc_notify or the end of its wait; it
// returns false (and holds nothing) when the wait is over, the rpc is
// closing, or ready says the request can be answered after all. ready is
// asked under wait_mu, which rill_rpc_notify takes after the log or store
// moved on: a change cannot slip between the check and the sleep.
static bool
park(rpc_ctx *c, Rill__V1__Request *req, rpc_ready_fn ready)
{
	rill_rpc *rpc = c->rpc;
	uint64_t  now = rill_mono_ms();

	if (c->wait_until_ms <= now ||
	    atomic_load_explicit(&rpc->closing, memory_order_acquire)) {
		return false;
	}
	pthread_mutex_lock(&rpc->wait_mu);
	if (ready(rpc, req)) {
		pthread_mutex_unlock(&rpc->wait_mu);
		return false;
	}
	c->req   = req;
	c->wprev = NULL;
	c->wnext = rpc->waiters;
	if (rpc->waiters != NULL) {
		rpc->waiters->wprev = c;
	}
	rpc->waiters = c;
	atomic_store(&c->state, CTX_WAIT);
	nng_sleep_aio((nng_duration) (c->wait_until_ms - now), c->aio);
	pthread_mutex_unlock(&rpc->wait_mu);
	return true;
}

// unpark takes c off the waiters when its sleep ended.
static void
unpark(rpc_ctx *c)
{
	rill_rpc *rpc = c->rpc;

	pthread_mutex_lock(&rpc->wait_mu);
	if (c->wprev != NULL) {
		c->wprev->wnext = c->wnext;
	} else {
		rpc->waiters = c->wnext;
	}
	if (c->wnext != NULL) {
		c->wnext->wprev = c->wprev;
	}
	c->wprev = c->wnext = NULL;
	pthread_mutex_unlock(&rpc->wait_mu);
}

// wake_all cancels every parked sleep: each request is dispatched again.
static void
wake_all(rill_rpc *rpc)
{
	pthread_mutex_lock(&rpc->wait_mu);
	for (rpc_ctx *c = rpc->waiters; c != NULL; c = c->wnext) {
		nng_aio_cancel(c->aio);
	}
	pthread_mutex_unlock(&rpc->wait_mu);
}

// settle makes the store hold every write acknowledged so far, which a
// leader's writer may only have staged (see writer.h), so that a read that
// starts now sees them. A follower's store is what it serves.
static int
settle(rill_rpc *rpc)
{
	return rpc->writer != NULL ? rill_writer_settle(rpc->writer) : RILL_OK;
}

// settled settles for a read (of key alone, when not NULL: a Get); when
// the store cannot catch up it answers the request and returns false.
static bool
settled(
    rpc_ctx *c, const Rill__V1__Request *req, const ProtobufCBinaryData *key)
{
	rill_writer *w = c->rpc->writer;

	if (w == NULL ||
	    (key != NULL ? rill_writer_settle_key(w, key->data, key->len)
	                 : rill_writer_settle(w)) == RILL_OK) {
		return true;
	}
	send_error(c, req->request_id, RILL_UNAVAILABLE, 0,
	    "reads are refused after a storage error (the store may miss "
	    "acknowledged writes); see the server's log");
	return false;
}

// min_seq_ready: a read with a min_seq may go once the store applied it,
// or once the writer acknowledged it (the read settles when dispatched
// again). Asked under wait_mu: it must not settle.
static bool
min_seq_ready(rill_rpc *rpc, const Rill__V1__Request *req)
{
	uint64_t min = req->body_case == RILL__V1__REQUEST__BODY_GET
	    ? req->get->min_seq
	    : req->scan->min_seq;

	return rill_store_applied_seq(rpc->store) >= min ||
	    (rpc->writer != NULL && rill_writer_acked_seq(rpc->writer) >= min);
}

// wait_min_seq parks a read whose min_seq the store has not applied yet;
// once its wait is over, it answers UNAVAILABLE. It returns true when the
// request was parked or answered (the read must not go on).
static bool
wait_min_seq(rpc_ctx *c, Rill__V1__Request *req, bool *keptp)
{
	uint64_t min, applied;
	uint32_t wait;

	if (req->body_case == RILL__V1__REQUEST__BODY_GET) {
		min  = req->get->min_seq;
		wait = req->get->wait_ms;
	} else {
		min  = req->scan->min_seq;
		wait = req->scan->wait_ms;
	}
	applied = rill_store_applied_seq(c->rpc->store);
	if (applied >= min) {
		return false;
	}
	wait_end(c, wait, READ_MAX_WAIT_MS);
	if (park(c, req, min_seq_ready)) {
		*keptp = true;
		return true;
	}
	if (min_seq_ready(c->rpc, req) && settle(c->rpc) == RILL_OK) {
		return false;
	}
	Rill__V1__Response resp    = RILL__V1__RESPONSE__INIT;
	Rill__V1__Details  details = RILL__V1__DETAILS__INIT;
	char               text[200];

	snprintf(text, sizeof(text),
	    "this node has applied seq %" PRIu64 ", not yet min_seq %" PRIu64,
	    applied, min);
	resp.request_id        = req->request_id;
	resp.code              = RILL__V1__CODE__UNAVAILABLE;
	resp.message           = text;
	details.applied_seq    = applied;
	details.last_seq       = rill_log_last_seq(c->rpc->log);
	details.generation     = c->rpc->generation;
	details.retry_after_ms = 10;
	resp.details           = &details;
	send_response(c, &resp);
	return true;
}

// Reads ------------------------------------------------------------------

static void
handle_get(rpc_ctx *c, const Rill__V1__Request *req)
{
	Rill__V1__Response          resp = RILL__V1__RESPONSE__INIT;
	Rill__V1__GetResponse       get  = RILL__V1__GET_RESPONSE__INIT;
	const Rill__V1__GetRequest *g    = req->get;
	uint64_t                    seq;
	char                       *value = NULL;
	size_t                      len   = 0;
	int                         rv;

	if (check_key(c, req->request_id, &g->key, "get") != RILL_OK) {
		return;
	}
	seq = rill_store_applied_seq(c->rpc->store);
	rv  = rill_store_get(
	     c->rpc->store, g->key.data, g->key.len, &value, &len);
	if (rv == RILL_NOT_FOUND) {
		resp.request_id = req->request_id;
		resp.code       = RILL__V1__CODE__NOT_FOUND;
		resp.message    = "key not found";
		send_response(c, &resp);
		return;
	}
	if (rv != RILL_OK) {
		send_error(c, req->request_id, rv, 0, "get failed: %s",
		    rill_strerror(rv));
		return;
	}
	resp.request_id = req->request_id;
	resp.body_case  = RILL__V1__RESPONSE__BODY_GET;
	resp.get        = &get;
	get.found       = true;
	get.value.data  = (uint8_t *) value;
	get.value.len   = len;
	get.seq         = seq;
	send_response(c, &resp);
	rill_store_value_free(value);
}

static int
bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int    r = n > 0 ? memcmp(a, b, n) : 0;
	if (r != 0) {
		return r;
	}
	return an < bn ? -1 : an > bn;
}

static bool
has_prefix(const uint8_t *k, size_t n, const ProtobufCBinaryData *p)
{
	return n >= p->len && memcmp(k, p->data, p->len) == 0;
}

// A page being built: entries point into one arena, fixed up at the end
// because the arena moves as it grows.
typedef struct page {
	Rill__V1__Entry  *entries;
	Rill__V1__Entry **ptrs;
	size_t            n, cap;
	uint8_t          *arena;
	size_t            used, arena_cap;
} page;

static int
page_add(page *p, const char *k, size_t kn, const char *v, size_t vn)
{
	if (p->n == p->cap) {
		size_t           cap = p->cap ? p->cap * 2 : 64;
		Rill__V1__Entry *e =
		    rill_realloc(p->entries, cap * sizeof(*e));
		if (e == NULL) {
			return RILL_ENOMEM;
		}
		p->entries = e;
		p->cap     = cap;
	}
	if (p->used + kn + vn > p->arena_cap) {
		size_t   cap = p->arena_cap ? p->arena_cap * 2 : 16384;
		uint8_t *a;
		while (cap < p->used + kn + vn) {
			cap *= 2;
		}
		if ((a = rill_realloc(p->arena, cap)) == NULL) {
			return RILL_ENOMEM;
		}
		p->arena     = a;
		p->arena_cap = cap;
	}
	Rill__V1__Entry *e = &p->entries[p->n++];
	rill__v1__entry__init(e);
	// Offsets for now; pointers after the arena stops moving.
	e->key.data = (uint8_t *) (uintptr_t) p->used;
	e->key.len  = kn;
	memcpy(p->arena + p->used, k, kn);
	p->used += kn;
	e->value.data = (uint8_t *) (uintptr_t) p->used;
	e->value.len  = vn;
	if (vn > 0) {
		memcpy(p->arena + p->used, v, vn);
	}
	p->used += vn;
	return RILL_OK;
}

static void
page_free(page *p)
{
	rill_free(p->entries);
	rill_free(p->ptrs);
	rill_free(p->arena);
}

// scan_bounds works out the range [lo, hi) of a scan; an empty hi means no
// upper bound. hi_buf holds the prefix's successor when it is the bound.
static void
scan_bounds(const Rill__V1__ScanRequest *s, ProtobufCBinaryData *lo,
    ProtobufCBinaryData *hi, uint8_t *hi_buf)
{
	*lo = s->start;
	*hi = s->end;
	if (s->prefix.len == 0) {
		return;
	}
	if (bytes_cmp(lo->data, lo->len, s->prefix.data, s->prefix.len) < 0) {
		*lo = s->prefix;
	}
	// The prefix's successor: drop trailing 0xff bytes, add one to the
	// last. A prefix of only 0xff bytes has none: no upper bound.
	size_t n = s->prefix.len;
	memcpy(hi_buf, s->prefix.data, n);
	while (n > 0 && hi_buf[n - 1] == 0xff) {
		n--;
	}
	if (n > 0) {
		hi_buf[n - 1]++;
		if (hi->len == 0 ||
		    bytes_cmp(hi_buf, n, hi->data, hi->len) < 0) {
			hi->data = hi_buf;
			hi->len  = n;
		}
	}
}

static void
handle_scan(rpc_ctx *c, const Rill__V1__Request *req)
{
	const Rill__V1__ScanRequest *s    = req->scan;
	Rill__V1__Response           resp = RILL__V1__RESPONSE__INIT;
	Rill__V1__ScanResponse       sr   = RILL__V1__SCAN_RESPONSE__INIT;
	ProtobufCBinaryData          lo, hi;
	uint8_t                     *hi_buf = NULL;
	rill_store_iter             *it     = NULL;
	page                         p      = { 0 };
	uint64_t                     seq;
	uint32_t limit     = s->limit ? s->limit : SCAN_DEFAULT_LIMIT;
	size_t   max_bytes = s->max_bytes ? s->max_bytes : SCAN_DEFAULT_BYTES;
	bool     more      = false;
	int      rv;

	if (limit > SCAN_MAX_LIMIT) {
		limit = SCAN_MAX_LIMIT;
	}
	if (max_bytes > SCAN_DEFAULT_BYTES) {
		max_bytes = SCAN_DEFAULT_BYTES;
	}
	if (s->start.len > c->rpc->opts.max_key_bytes ||
	    s->end.len > c->rpc->opts.max_key_bytes ||
	    s->prefix.len > c->rpc->opts.max_key_bytes) {
		send_error(c, req->request_id, RILL_INVALID_ARGUMENT,
		    c->rpc->opts.max_key_bytes,
		    "scan: a bound is over the key limit of %" PRIu64 " bytes",
		    c->rpc->opts.max_key_bytes);
		return;
	}
	if (s->end.len > 0 &&
	    bytes_cmp(s->start.data, s->start.len, s->end.data, s->end.len) >
	        0) {
		send_error(c, req->request_id, RILL_INVALID_ARGUMENT, 0,
		    "scan: start is after end");
		return;
	}
	if (s->prefix.len > 0 &&
	    (hi_buf = rill_alloc(s->prefix.len)) == NULL) {
		send_error(
		    c, req->request_id, RILL_ENOMEM, 0, "out of memory");
		return;
	}
	scan_bounds(s, &lo, &hi, hi_buf);
	if ((rv = rill_store_iter_new(c->rpc->store, &it, &seq)) != RILL_OK) {
		goto out_error;
	}
	if (!s->reverse) {
		rill_store_iter_seek(it, lo.data, lo.len);
		if (s->start_after && rill_store_iter_valid(it)) {
			size_t      kn;
			const char *k = rill_store_iter_key(it, &kn);
			if (bytes_cmp((const uint8_t *) k, kn, s->start.data,
			        s->start.len) == 0) {
				rill_store_iter_next(it);
			}
		}
	} else if (hi.len > 0) {
		rill_store_iter_seek(it, hi.data, hi.len);
		if (rill_store_iter_valid(it)) {
			rill_store_iter_prev(it);
		} else {
			rill_store_iter_seek_last(it);
		}
	} else {
		rill_store_iter_seek_last(it);
	}
	for (; rill_store_iter_valid(it); s->reverse
	         ? rill_store_iter_prev(it)
	         : rill_store_iter_next(it)) {
		size_t      kn, vn;
		const char *k = rill_store_iter_key(it, &kn);
		const char *v;

		if (s->reverse) {
			if (bytes_cmp((const uint8_t *) k, kn, lo.data,
			        lo.len) < 0) {
				break;
			}
			// seek_last may sit above hi when hi had no key after.
			if (hi.len > 0 &&
			    bytes_cmp((const uint8_t *) k, kn, hi.data,
			        hi.len) >= 0) {
				continue;
			}
		} else if (hi.len > 0 &&
		    bytes_cmp((const uint8_t *) k, kn, hi.data, hi.len) >= 0) {
			break;
		}
		if (s->prefix.len > 0 &&
		    !has_prefix((const uint8_t *) k, kn, &s->prefix)) {
			break;
		}
		if (p.n >= limit || (p.n > 0 && p.used >= max_bytes)) {
			more = true;
			break;
		}
		v = rill_store_iter_value(it, &vn);
		if ((rv = page_add(&p, k, kn, v, vn)) != RILL_OK) {
			goto out_error;
		}
	}
	if ((p.ptrs = rill_alloc((p.n ? p.n : 1) * sizeof(*p.ptrs))) == NULL) {
		rv = RILL_ENOMEM;
		goto out_error;
	}
	for (size_t i = 0; i < p.n; i++) {
		p.entries[i].key.data =
		    p.arena + (uintptr_t) p.entries[i].key.data;
		p.entries[i].value.data =
		    p.arena + (uintptr_t) p.entries[i].value.data;
		p.ptrs[i] = &p.entries[i];
	}
	resp.request_id = req->request_id;
	resp.body_case  = RILL__V1__RESPONSE__BODY_SCAN;
	resp.scan       = &sr;
	sr.n_entries    = p.n;
	sr.entries      = p.ptrs;
	sr.more         = more;
	sr.seq          = seq;
	if (more && p.n > 0) {
		sr.next_key = p.entries[p.n - 1].key;
	}
	send_response(c, &resp);
	rill_store_iter_free(it);
	page_free(&p);
	rill_free(hi_buf);
	return;

out_error:
	send_error(
	    c, req->request_id, rv, 0, "scan failed: %s", rill_strerror(rv));
	rill_store_iter_free(it);
	page_free(&p);
	rill_free(hi_buf);
}

static void
handle_status(rpc_ctx *c, const Rill__V1__Request *req)
{
	rill_rpc                 *rpc  = c->rpc;
	Rill__V1__Response        resp = RILL__V1__RESPONSE__INIT;
	Rill__V1__StatusResponse  st   = RILL__V1__STATUS_RESPONSE__INIT;
	Rill__V1__GenerationInfo  infos[LINEAGE_MAX];
	Rill__V1__GenerationInfo *ptrs[LINEAGE_MAX];
	char                      ids[LINEAGE_MAX][2][17];
	size_t                    n = rpc->n_lineage;

	resp.request_id = req->request_id;
	resp.body_case  = RILL__V1__RESPONSE__BODY_STATUS;
	resp.status     = &st;
	st.node_id      = rpc->node_id;
	st.role         = rpc->role;
	st.generation   = rpc->generation;
	st.leader       = rpc->leader;
	if (rpc->log != NULL) {
		st.last_seq     = rill_log_last_seq(rpc->log);
		st.oldest_seq   = rill_log_oldest_seq(rpc->log);
		st.last_time_us = rill_log_last_time_us(rpc->log);
	}
	if (rpc->store != NULL) {
		st.applied_seq = rill_store_applied_seq(rpc->store);
	}
	st.version           = RILL_VERSION;
	st.max_request_bytes = rpc->opts.max_request_bytes;
	st.max_key_bytes     = rpc->opts.max_key_bytes;
	st.max_value_bytes   = rpc->opts.max_value_bytes;
	st.uptime_s          = (rill_mono_ms() - rpc->opts.started_ms) / 1000;
	if (rpc->opts.follow_stats != NULL && rpc->writer == NULL) {
		rpc->opts.follow_stats(
		    rpc->opts.follow_arg, &st.lag_records, &st.bootstraps);
	}
	if (n > LINEAGE_MAX) {
		n = LINEAGE_MAX;
	}
	for (size_t i = 0; i < n; i++) {
		const rill_generation_info *g = &rpc->lineage[i];

		rill__v1__generation_info__init(&infos[i]);
		snprintf(ids[i][0], 17, "%016" PRIx64, g->id);
		snprintf(ids[i][1], 17, "%016" PRIx64, g->parent);
		infos[i].id         = ids[i][0];
		infos[i].parent     = g->parent != 0 ? ids[i][1] : "";
		infos[i].parent_seq = g->parent_seq;
		infos[i].created_us = g->created_us;
		ptrs[i]             = &infos[i];
	}
	st.lineage   = ptrs;
	st.n_lineage = n;
	send_response(c, &resp);
}

// History ----------------------------------------------------------------

// parse_generation reads a generation id: 16 hex digits, or empty for the
// current one.
static bool
parse_generation(const char *text, uint64_t current, uint64_t *genp)
{
	char *end;

	if (text == NULL || text[0] == '\0') {
		*genp = current;
		return true;
	}
	if (strlen(text) != 16 || strspn(text, "0123456789abcdef") != 16) {
		return false;
	}
	*genp = strtoull(text, &end, 16);
	return *end == '\0' && *genp != 0;
}

// newest_snapshot_seq returns the seq of the newest snapshot of gen in
// the catalog (0: none).
static uint64_t
newest_snapshot_seq(rill_rpc *rpc, uint64_t gen)
{
	rill_cat_snapshot *snaps;
	size_t             n;
	uint64_t           seq = 0;

	if (rpc->opts.catalog != NULL &&
	    rill_catalog_snapshots(rpc->opts.catalog, gen, &snaps, &n) ==
	        RILL_OK) {
		if (n > 0) {
			seq = snaps[n - 1].seq;
		}
		rill_free(snaps);
	}
	return seq;
}

// send_position_error answers a FetchLog whose position the node cannot
// serve, with what the caller needs to find a good one: gen is the
// generation the details refer to; unknown says the node does not hold
// the records of the generation asked for.
static void
send_position_error(rpc_ctx *c, uint64_t request_id, int code, uint64_t gen,
    uint64_t fork_seq, bool unknown, const char *text)
{
	rill_rpc          *rpc     = c->rpc;
	Rill__V1__Response resp    = RILL__V1__RESPONSE__INIT;
	Rill__V1__Details  details = RILL__V1__DETAILS__INIT;
	char               hex[17];

	snprintf(hex, sizeof(hex), "%016" PRIx64, gen);
	resp.request_id     = request_id;
	resp.code           = (Rill__V1__Code) rill_status_to_wire(code);
	resp.message        = (char *) text;
	details.generation  = hex;
	details.last_seq    = rill_log_last_seq(rpc->log);
	details.oldest_seq  = rill_log_oldest_seq(rpc->log);
	details.applied_seq = rill_store_applied_seq(rpc->store);
	details.fork_seq    = fork_seq;
	details.generation_unknown = unknown;
	details.snapshot_seq       = newest_snapshot_seq(rpc, rpc->gen);
	resp.details               = &details;
	if (rpc->opts.metrics != NULL) {
		rill_metrics_error(rpc->opts.metrics, RILL_ERROR_BAD_REQUEST);
	}
	send_response(c, &resp);
}

// fetch_ready: a long-poll may go once a record follows its position.
static bool
fetch_ready(rill_rpc *rpc, const Rill__V1__Request *req)
{
	return rill_log_last_seq(rpc->log) > req->fetch_log->after_seq;
}

// fetch_page is a FetchLog reply being built. Record batches are copied
// into one buffer (as offsets until it stops moving).
typedef struct fetch_page {
	Rill__V1__LogRecord *recs;
	size_t               n, cap;
	uint8_t             *data;
	size_t               len, data_cap;
	uint64_t             bytes, max_bytes;
	uint32_t             max_records;
	uint64_t             after, upto; // the seqs the page may hold
} fetch_page;

// FETCH_STOP ends a walk of records once the page is full.
#define FETCH_STOP RILL_ABORTED

// fetch_add copies rec into p. It returns RILL_OK, RILL_ENOMEM, or
// FETCH_STOP (rec not added) when p is full or rec is past p->upto.
static int
fetch_add(void *arg, const rill_record *rec)
{
	fetch_page *p = arg;

	if (rec->seq <= p->after) {
		return RILL_OK; // before the start: an ancestor's segment
	}
	if (rec->seq > p->upto ||
	    (p->max_records != 0 && p->n >= p->max_records) ||
	    (p->n > 0 && p->bytes + rec->batch_len + 32 > p->max_bytes)) {
		return FETCH_STOP;
	}
	if (p->n == p->cap) {
		size_t               cap = p->cap ? p->cap * 2 : 64;
		Rill__V1__LogRecord *r =
		    rill_realloc(p->recs, cap * sizeof(*r));
		if (r == NULL) {
			return RILL_ENOMEM;
		}
		p->recs = r;
		p->cap  = cap;
	}
	if (p->len + rec->batch_len > p->data_cap) {
		size_t   cap = p->data_cap ? p->data_cap : 64 * 1024;
		uint8_t *d;
		while (cap < p->len + rec->batch_len) {
			cap *= 2;
		}
		if ((d = rill_realloc(p->data, cap)) == NULL) {
			return RILL_ENOMEM;
		}
		p->data     = d;
		p->data_cap = cap;
	}
	Rill__V1__LogRecord *r = &p->recs[p->n++];
	rill__v1__log_record__init(r);
	r->seq        = rec->seq;
	r->time_us    = rec->time_us;
	r->client_id  = rec->client_id;
	r->request_id = rec->request_id;
	r->batch.data = (uint8_t *) (uintptr_t) p->len;
	r->batch.len  = rec->batch_len;
	if (rec->batch_len > 0) {
		memcpy(p->data + p->len, rec->batch, rec->batch_len);
	}
	p->len += rec->batch_len;
	p->bytes += rec->batch_len + 32;
	return RILL_OK;
}

static void
fetch_page_free(fetch_page *p)
{
	rill_free(p->recs);
	rill_free(p->data);
}

// read_live fills p from the node's open log.
static int
read_live(rill_rpc *rpc, fetch_page *p)
{
	rill_log_reader *reader;
	rill_record      rec;
	int              rv;

	if ((rv = rill_log_reader_open(&reader, rpc->log, p->after)) !=
	    RILL_OK) {
		return rv;
	}
	while ((rv = rill_log_reader_next(reader, &rec)) == RILL_OK &&
	    (rv = fetch_add(p, &rec)) == RILL_OK) { }
	rill_log_reader_close(reader);
	return rv == RILL_NOT_FOUND || rv == FETCH_STOP ? RILL_OK : rv;
}

// read_ancestor fills p from the log files of generation gen, an ancestor
// whose history this node holds up to its fork point (p->upto). It reads
// the files as they are (they are no longer written), scanning each
// segment from its start: a rare path, taken by a follower that catches
// up to a fork point, or a watcher reading from before a promotion.
static int
read_ancestor(rill_rpc *rpc, uint64_t gen, fetch_page *p)
{
	char           dir[PATH_MAX], path[PATH_MAX];
	uint64_t      *firsts = NULL, first;
	size_t         n = 0, cap = 0, start = 0;
	DIR           *d;
	struct dirent *e;
	int            rv = RILL_OK;

	if (rpc->opts.dd == NULL ||
	    rill_datadir_log_path(rpc->opts.dd, gen, dir, sizeof(dir)) !=
	        RILL_OK ||
	    (d = opendir(dir)) == NULL) {
		return RILL_OUT_OF_RANGE;
	}
	while ((e = readdir(d)) != NULL) {
		if (!rill_log_parse_segment_name(e->d_name, &first)) {
			continue;
		}
		if (n == cap) {
			size_t    ncap = cap ? cap * 2 : 16;
			uint64_t *f = rill_realloc(firsts, ncap * sizeof(*f));
			if (f == NULL) {
				rv = RILL_ENOMEM;
				break;
			}
			firsts = f;
			cap    = ncap;
		}
		firsts[n++] = first;
	}
	closedir(d);
	// Oldest first; the walk starts in the segment holding after + 1.
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 && firsts[j - 1] > firsts[j]; j--) {
			uint64_t t    = firsts[j];
			firsts[j]     = firsts[j - 1];
			firsts[j - 1] = t;
		}
	}
	if (rv == RILL_OK && (n == 0 || firsts[0] > p->after + 1)) {
		rv = RILL_OUT_OF_RANGE;
	}
	for (size_t i = 0; rv == RILL_OK && i < n; i++) {
		if (firsts[i] <= p->after + 1) {
			start = i;
		}
	}
	for (size_t i = start; rv == RILL_OK && i < n; i++) {
		char              name[32];
		rill_segment_info info;

		rill_log_segment_name(name, sizeof(name), firsts[i]);
		if (rill_path_join(path, sizeof(path), dir, name) != RILL_OK) {
			rv = RILL_EIO;
			break;
		}
		rv = rill_segment_scan(path, true, fetch_add, p, &info);
		if (rv == FETCH_STOP) {
			rv = RILL_OK;
			break;
		}
	}
	// Files that end before the fork point (the log lost its tail and
	// the store went on: see fork_if_behind) cannot give what follows:
	// an empty page would have the follower ask again at once, forever.
	if (rv == RILL_OK && p->n == 0 && p->after < p->upto) {
		rv = RILL_OUT_OF_RANGE;
	}
	rill_free(firsts);
	return rv;
}

// lineage_find returns the index of gen in the node's lineage, or -1.
static ssize_t
lineage_find(const rill_rpc *rpc, uint64_t gen)
{
	for (size_t i = 0; i < rpc->n_lineage; i++) {
		if (rpc->lineage[i].id == gen) {
			return (ssize_t) i;
		}
	}
	return -1;
}

// lineage_holding returns the index of the generation of the lineage
// that holds the record after seq: the oldest whose history starts at
// or before it.
static size_t
lineage_holding(const rill_rpc *rpc, uint64_t seq)
{
	size_t i = 0;

	while (i + 1 < rpc->n_lineage && rpc->lineage[i].parent_seq > seq) {
		i++;
	}
	return i;
}

// send_fetch_page answers with the records of p (consumed) from gen.
static void
send_fetch_page(rpc_ctx *c, uint64_t request_id, uint64_t gen, fetch_page *p)
{
	Rill__V1__Response         resp = RILL__V1__RESPONSE__INIT;
	Rill__V1__FetchLogResponse fl   = RILL__V1__FETCH_LOG_RESPONSE__INIT;
	Rill__V1__LogRecord      **ptrs = NULL;
	char                       hex[17];

	if (p->n > 0 && (ptrs = rill_alloc(p->n * sizeof(*ptrs))) == NULL) {
		send_error(
		    c, request_id, RILL_ENOMEM, 0, "fetch_log: out of memory");
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		p->recs[i].batch.data =
		    p->data + (uintptr_t) p->recs[i].batch.data;
		ptrs[i] = &p->recs[i];
	}
	snprintf(hex, sizeof(hex), "%016" PRIx64, gen);
	resp.request_id = request_id;
	resp.body_case  = RILL__V1__RESPONSE__BODY_FETCH_LOG;
	resp.fetch_log  = &fl;
	fl.generation   = hex;
	fl.records      = ptrs;
	fl.n_records    = p->n;
	fl.last_seq     = rill_log_last_seq(c->rpc->log);
	fl.oldest_seq   = rill_log_oldest_seq(c->rpc->log);
	fl.last_time_us = rill_log_last_time_us(c->rpc->log);
	send_response(c, &resp);
	rill_free(ptrs);
}

// handle_fetch_log serves records after a position, long-polling when
// none follows it yet. It returns true when it parked the request.
static bool
handle_fetch_log(rpc_ctx *c, Rill__V1__Request *req)
{
	const Rill__V1__FetchLogRequest *f   = req->fetch_log;
	rill_rpc                        *rpc = c->rpc;
	fetch_page                       p   = { 0 };
	uint64_t                         gen, last, oldest;
	ssize_t                          k;
	char                             text[320];
	int                              rv;

	if (!parse_generation(f->generation, 0, &gen)) {
		send_error(c, req->request_id, RILL_INVALID_ARGUMENT, 0,
		    "fetch_log: generation \"%.40s\" is not 16 hex digits",
		    f->generation);
		return false;
	}
	if (f->follower_id[0] != '\0' && rpc->opts.followers != NULL) {
		uint64_t fgen = gen;
		if (fgen == 0) {
			fgen = rpc->gen;
		}
		rill_followers_seen(rpc->opts.followers, f->follower_id,
		    f->follower_address, fgen, f->applied_seq,
		    f->applied_time_us, rill_wall_us());
	}
	last    = rill_log_last_seq(rpc->log);
	oldest  = rill_log_oldest_seq(rpc->log);
	p.after = f->after_seq;
	p.upto  = UINT64_MAX;
	p.max_bytes =
	    f->max_bytes ? f->max_bytes : (uint64_t) FETCH_DEFAULT_BYTES;
	if (p.max_bytes > HISTORY_MAX_BYTES) {
		p.max_bytes = HISTORY_MAX_BYTES;
	}
	p.max_records = f->max_records;
	if (gen == 0 && f->after_seq + 1 < oldest && rpc->n_lineage > 1) {
		// A watcher from before the current generation began.
		gen = rpc->lineage[lineage_holding(rpc, f->after_seq)].id;
	} else if (gen == 0) {
		gen = rpc->gen;
	}
	if (gen != rpc->gen) {
		uint64_t fork, next;
		bool     held = true;

		if ((k = lineage_find(rpc, gen)) < 0 && rpc->n_lineage > 0 &&
		    rpc->lineage[rpc->n_lineage - 1].parent == gen) {
			// The parent of the oldest generation held (a node
			// that bootstrapped from a snapshot of its child):
			// where this history left it is known, its records
			// are not.
			k    = (ssize_t) rpc->n_lineage;
			held = false;
		}
		if (k < 0) {
			snprintf(text, sizeof(text),
			    "fetch_log: generation %016" PRIx64
			    " is not in this node's history (its generation "
			    "is %s): start again from a snapshot",
			    gen, rpc->generation);
			send_position_error(c, req->request_id,
			    RILL_FAILED_PRECONDITION, rpc->gen, 0, true, text);
			return false;
		}
		fork = rpc->lineage[k - 1].parent_seq;
		next = rpc->lineage[k - 1].id;
		if (f->after_seq >= fork) {
			if (f->after_seq == fork) {
				snprintf(text, sizeof(text),
				    "fetch_log: generation %016" PRIx64
				    " ends at seq %" PRIu64
				    " here; continue in generation "
				    "%016" PRIx64,
				    gen, fork, next);
			} else {
				snprintf(text, sizeof(text),
				    "fetch_log: seq %" PRIu64
				    " is past the fork point %" PRIu64
				    " where this node's history left "
				    "generation %016" PRIx64
				    ": the asker holds writes this history "
				    "never had",
				    f->after_seq, fork, gen);
			}
			send_position_error(c, req->request_id,
			    RILL_FAILED_PRECONDITION, next, fork, false, text);
			return false;
		}
		if (!held) {
			snprintf(text, sizeof(text),
			    "fetch_log: this node does not hold the records "
			    "of generation %016" PRIx64
			    " (its history leaves it at seq %" PRIu64 ")",
			    gen, fork);
			send_position_error(c, req->request_id,
			    RILL_FAILED_PRECONDITION, next, fork, true, text);
			return false;
		}
		p.upto = fork;
		rv     = read_ancestor(rpc, gen, &p);
	} else {
		if (f->after_seq > last) {
			snprintf(text, sizeof(text),
			    "fetch_log: seq %" PRIu64
			    " is past the last committed seq %" PRIu64,
			    f->after_seq, last);
			send_position_error(c, req->request_id,
			    RILL_OUT_OF_RANGE, rpc->gen, 0, false, text);
			return false;
		}
		if (f->after_seq == last && f->wait_ms > 0) {
			wait_end(c, f->wait_ms, FETCH_MAX_WAIT_MS);
			if (park(c, req, fetch_ready)) {
				return true;
			}
		}
		rv = read_live(rpc, &p);
	}
	if (rv == RILL_OUT_OF_RANGE) {
		snprintf(text, sizeof(text),
		    "fetch_log: the records after seq %" PRIu64
		    " are no longer held (the oldest is %" PRIu64
		    "): start from a snapshot",
		    f->after_seq, oldest);
		send_position_error(c, req->request_id, RILL_OUT_OF_RANGE,
		    rpc->gen, 0, false, text);
	} else if (rv != RILL_OK) {
		send_error(c, req->request_id, rv, 0, "fetch_log: %s",
		    rill_strerror(rv));
	} else {
		send_fetch_page(c, req->request_id, gen, &p);
	}
	fetch_page_free(&p);
	return false;
}

// find_snapshot picks the snapshot a GetSnapshot names: the newest of the
// generation (seq 0), the one at seq, or the newest at or before seq;
// with before_us, only those taken at or before that time.
static int
find_snapshot(rill_rpc *rpc, uint64_t gen, uint64_t seq, bool at_or_before,
    uint64_t before_us, rill_cat_snapshot *out)
{
	rill_cat_snapshot *snaps;
	size_t             n;
	int                rv;

	if (seq != 0 && !at_or_before && before_us == 0) {
		return rill_catalog_snapshot(rpc->opts.catalog, gen, seq, out);
	}
	if ((rv = rill_catalog_snapshots(
	         rpc->opts.catalog, gen, &snaps, &n)) != RILL_OK) {
		return rv;
	}
	rv = RILL_NOT_FOUND;
	for (size_t i = n; i-- > 0;) {
		if ((seq == 0 || snaps[i].seq <= seq) &&
		    (before_us == 0 || snaps[i].created_us <= before_us)) {
			*out = snaps[i];
			rv   = RILL_OK;
			break;
		}
	}
	rill_free(snaps);
	return rv;
}

// verified_before tells whether the snapshot was checked whole by an
// earlier download (the newest one is remembered: a file never changes
// once written, and a downloader verifies what it gets anyway).
static bool
verified_before(rill_rpc *rpc, uint64_t gen, uint64_t seq)
{
	bool yes;

	pthread_mutex_lock(&rpc->mu);
	yes = rpc->verified_gen == gen && rpc->verified_seq == seq;
	pthread_mutex_unlock(&rpc->mu);
	return yes;
}

static void
handle_get_snapshot(rpc_ctx *c, const Rill__V1__Request *req)
{
	const Rill__V1__GetSnapshotRequest *g    = req->get_snapshot;
	rill_rpc                           *rpc  = c->rpc;
	Rill__V1__Response                  resp = RILL__V1__RESPONSE__INIT;
	Rill__V1__GetSnapshotResponse       gs =
	    RILL__V1__GET_SNAPSHOT_RESPONSE__INIT;
	rill_cat_snapshot  snap;
	rill_snapshot_info info;
	char dir[PATH_MAX], path[PATH_MAX], name[32], gen_hex[17],
	    hash_hex[17];
	uint64_t gen, want;
	uint8_t *buf = NULL;
	ssize_t  got = 0;
	int      fd  = -1, rv;

	if (rpc->opts.catalog == NULL || rpc->opts.dd == NULL) {
		send_error(c, req->request_id, RILL_UNAVAILABLE, 0,
		    "get_snapshot: this node serves no snapshots");
		return;
	}
	if (!parse_generation(g->generation, rpc->gen, &gen)) {
		send_error(c, req->request_id, RILL_INVALID_ARGUMENT, 0,
		    "get_snapshot: generation \"%.40s\" is not 16 hex digits",
		    g->generation);
		return;
	}
	rv = find_snapshot(rpc, gen, g->seq, g->at_or_before,
	    g->created_at_or_before_us, &snap);
	if (rv == RILL_NOT_FOUND) {
		send_error(c, req->request_id, RILL_NOT_FOUND, 0,
		    "get_snapshot: generation %016" PRIx64
		    " has no snapshot %s seq %" PRIu64,
		    gen,
		    g->seq == 0           ? "at any"
		        : g->at_or_before ? "at or before"
		                          : "at",
		    g->seq);
		return;
	}
	rill_snapshot_name(name, sizeof(name), snap.seq);
	if (rv != RILL_OK ||
	    (rv = rill_datadir_generation_path(
	         rpc->opts.dd, gen, dir, sizeof(dir))) != RILL_OK ||
	    snprintf(path, sizeof(path), "%s/snapshots/%s", dir, name) >=
	        (int) sizeof(path)) {
		send_error(c, req->request_id, RILL_INTERNAL, 0,
		    "get_snapshot: %s", rill_strerror(rv));
		return;
	}
	// The file speaks for itself (and may have been removed by
	// retention since the catalog was read). The first chunk of a
	// download checks every block, so a file damaged on disk since it
	// was written is never served as if whole; later chunks check the
	// header and trailer, and the downloader verifies what it got.
	rv = g->offset == 0 && !verified_before(rpc, gen, snap.seq)
	    ? rill_snapshot_verify(path, &info)
	    : rill_snapshot_read_info(path, &info);
	if (rv == RILL_OK && g->offset == 0) {
		pthread_mutex_lock(&rpc->mu);
		rpc->verified_gen = gen;
		rpc->verified_seq = snap.seq;
		pthread_mutex_unlock(&rpc->mu);
	}
	if (rv != RILL_OK) {
		if (rv != RILL_ENOENT && rpc->opts.metrics != NULL) {
			rill_metrics_error(
			    rpc->opts.metrics, RILL_ERROR_CORRUPT);
		}
		send_error(c, req->request_id,
		    rv == RILL_ENOENT ? RILL_NOT_FOUND : RILL_DATA_LOSS, 0,
		    "get_snapshot: snapshot %016" PRIx64 "/%" PRIu64
		    " cannot be served: %s",
		    gen, snap.seq, rill_strerror(rv));
		return;
	}
	if (g->offset > info.file_size) {
		send_error(c, req->request_id, RILL_OUT_OF_RANGE,
		    info.file_size,
		    "get_snapshot: offset %" PRIu64
		    " is past the end of the file (%" PRIu64 " bytes)",
		    g->offset, info.file_size);
		return;
	}
	want = g->max_bytes ? g->max_bytes : CHUNK_DEFAULT_BYTES;
	if (want > HISTORY_MAX_BYTES) {
		want = HISTORY_MAX_BYTES;
	}
	if (want > info.file_size - g->offset) {
		want = info.file_size - g->offset;
	}
	if ((want > 0 && (buf = rill_alloc(want)) == NULL) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (want > 0 &&
	        (got = pread(fd, buf, want, (off_t) g->offset)) !=
	            (ssize_t) want)) {
		send_error(c, req->request_id, RILL_UNAVAILABLE, 0,
		    "get_snapshot: cannot read %s: %s", path,
		    buf == NULL && want > 0 ? "out of memory"
		                            : strerror(errno));
		goto out;
	}
	snprintf(gen_hex, sizeof(gen_hex), "%016" PRIx64, gen);
	snprintf(hash_hex, sizeof(hash_hex), "%016" PRIx64, info.state_hash);
	resp.request_id   = req->request_id;
	resp.body_case    = RILL__V1__RESPONSE__BODY_GET_SNAPSHOT;
	resp.get_snapshot = &gs;
	gs.generation     = gen_hex;
	gs.seq            = info.seq;
	gs.total_size     = info.file_size;
	gs.state_hash     = hash_hex;
	gs.offset         = g->offset;
	gs.data.data      = buf;
	gs.data.len       = (size_t) want;
	gs.key_count      = info.key_count;
	gs.created_us     = info.created_us;
	send_response(c, &resp);
out:
	if (fd >= 0) {
		close(fd);
	}
	rill_free(buf);
}

static void
handle_hash(rpc_ctx *c, const Rill__V1__Request *req)
{
	Rill__V1__Response     resp = RILL__V1__RESPONSE__INIT;
	Rill__V1__HashResponse h    = RILL__V1__HASH_RESPONSE__INIT;
	uint64_t               seq, hash, count;
	char                   hex[17];
	int                    rv;

	// The whole keyspace is read here, on an nng thread: Hash is an
	// operator's check, rare and bounded by the keyspace's size.
	if ((rv = rill_state_hash_store(c->rpc->store, &seq, &hash, &count)) !=
	    RILL_OK) {
		send_error(
		    c, req->request_id, rv, 0, "hash: %s", rill_strerror(rv));
		return;
	}
	snprintf(hex, sizeof(hex), "%016" PRIx64, hash);
	resp.request_id = req->request_id;
	resp.body_case  = RILL__V1__RESPONSE__BODY_HASH;
	resp.hash       = &h;
	h.generation    = c->rpc->generation;
	h.seq           = seq;
	h.hash          = hex;
	h.key_count     = count;
	send_response(c, &resp);
}

// Dispatch ---------------------------------------------------------------

// send_not_leader answers a write on a node that takes none.
static void
send_not_leader(rpc_ctx *c, uint64_t request_id)
{
	Rill__V1__Response resp    = RILL__V1__RESPONSE__INIT;
	Rill__V1__Details  details = RILL__V1__DETAILS__INIT;
	char               text[400];

	snprintf(text, sizeof(text),
	    "this node is a %s and takes no writes%s%s", c->rpc->role,
	    c->rpc->leader[0] != '\0' ? "; the leader is " : "",
	    c->rpc->leader);
	resp.request_id    = request_id;
	resp.code          = RILL__V1__CODE__NOT_LEADER;
	resp.message       = text;
	details.leader     = c->rpc->leader;
	details.generation = c->rpc->generation;
	details.last_seq   = c->rpc->log ? rill_log_last_seq(c->rpc->log) : 0;
	resp.details       = &details;
	send_response(c, &resp);
}

// dispatch_locked serves req with the node's parts held; see dispatch.
static bool
dispatch_locked(rpc_ctx *c, Rill__V1__Request *req)
{
	rill_rpc              *rpc   = c->rpc;
	const Rill__V1__Batch *batch = NULL;
	bool                   kept  = false;

	// Between two states (starting, changing role or generation) even
	// Status waits: its seqs would describe no node.
	if (!rpc->has_node) {
		send_error(c, req->request_id, RILL_UNAVAILABLE, 0,
		    "the node is starting or changing its role or generation; "
		    "retry");
		return false;
	}
	if (req->body_case == RILL__V1__REQUEST__BODY_STATUS) {
		// Its applied seq covers what was acknowledged before it (a
		// failed writer's shows how far the store got).
		(void) settle(rpc);
		handle_status(c, req);
		return false;
	}
	switch (req->body_case) {
	case RILL__V1__REQUEST__BODY_PUT:
	case RILL__V1__REQUEST__BODY_DELETE:
	case RILL__V1__REQUEST__BODY_WRITE:
		if (rpc->writer == NULL) {
			send_not_leader(c, req->request_id);
			return false;
		}
		break;
	default:
		if (rpc->store == NULL) {
			send_error(c, req->request_id, RILL_UNAVAILABLE, 0,
			    "%s", rpc->why ? rpc->why : "no store is open");
			return false;
		}
		break;
	}
	atomic_store_explicit(&rpc->last_seq_hint, rill_log_last_seq(rpc->log),
	    memory_order_relaxed);
	switch (req->body_case) {
	case RILL__V1__REQUEST__BODY_GET:
		if (check_key(c, req->request_id, &req->get->key, "get") !=
		        RILL_OK ||
		    !settled(c, req, &req->get->key) ||
		    wait_min_seq(c, req, &kept)) {
			return kept;
		}
		handle_get(c, req);
		break;
	case RILL__V1__REQUEST__BODY_SCAN:
		if (!settled(c, req, NULL) || wait_min_seq(c, req, &kept)) {
			return kept;
		}
		handle_scan(c, req);
		break;
	case RILL__V1__REQUEST__BODY_FETCH_LOG:
		return handle_fetch_log(c, req);
	case RILL__V1__REQUEST__BODY_GET_SNAPSHOT:
		handle_get_snapshot(c, req);
		break;
	case RILL__V1__REQUEST__BODY_HASH:
		if (settled(c, req, NULL)) {
			handle_hash(c, req);
		}
		break;
	case RILL__V1__REQUEST__BODY_PUT:
		if (check_key(c, req->request_id, &req->put->key, "put") !=
		    RILL_OK) {
			break;
		}
		if (req->put->value.len > rpc->opts.max_value_bytes) {
			send_error(c, req->request_id, RILL_INVALID_ARGUMENT,
			    rpc->opts.max_value_bytes,
			    "put: the value is %zu bytes, over the limit of "
			    "%" PRIu64,
			    req->put->value.len, rpc->opts.max_value_bytes);
			break;
		}
		batch = one_op_batch(c, RILL__V1__OP__TYPE__PUT,
		    &req->put->key, &req->put->value);
		break;
	case RILL__V1__REQUEST__BODY_DELETE:
		if (check_key(c, req->request_id, &req->delete_->key,
		        "delete") != RILL_OK) {
			break;
		}
		batch = one_op_batch(
		    c, RILL__V1__OP__TYPE__DELETE, &req->delete_->key, NULL);
		break;
	case RILL__V1__REQUEST__BODY_WRITE:
		if (check_batch(c, req->request_id, req->write->batch) !=
		    RILL_OK) {
			break;
		}
		batch = req->write->batch;
		break;
	default:
		// Unknown fields numbered like the body (10 and up) name an
		// RPC this server does not know; anything else names none.
		for (size_t i = 0; i < req->base.n_unknown_fields; i++) {
			uint32_t tag = req->base.unknown_fields[i].tag;
			if (tag >= FIRST_BODY_FIELD) {
				send_error(c, req->request_id,
				    RILL_UNIMPLEMENTED, 0,
				    "unknown RPC (request field %u): this "
				    "server "
				    "speaks rill.v1 %s",
				    tag, RILL_VERSION);
				return false;
			}
		}
		send_error(c, req->request_id, RILL_INVALID_ARGUMENT, 0,
		    "the request names no RPC (its body is not set)");
		break;
	}
	return batch != NULL && submit_write(c, req, batch);
}

// dispatch serves req (a new request, or one woken from WAIT) and leaves
// the context in SEND, WRITE or WAIT. It returns true when the context
// kept req (WRITE or WAIT); otherwise the caller frees it.
static bool
dispatch(rpc_ctx *c, Rill__V1__Request *req)
{
	bool kept;

	pthread_rwlock_rdlock(&c->rpc->node_lock);
	kept = dispatch_locked(c, req);
	pthread_rwlock_unlock(&c->rpc->node_lock);
	return kept;
}

// authenticated tells whether req carries one of the node's tokens (always
// true when it has none); if not, it answers UNAUTHENTICATED.
static bool
authenticated(rpc_ctx *c, const Rill__V1__Request *req)
{
	const rill_rpc_options *o = &c->rpc->opts;

	if (o->n_tokens == 0 ||
	    rill_token_accepted(o->tokens, o->n_tokens, req->auth_token,
	        strlen(req->auth_token))) {
		return true;
	}
	send_error(c, req->request_id, RILL_UNAUTHENTICATED, 0, "%s",
	    req->auth_token[0] == '\0'
	        ? "this server needs an auth token (rpc_tokens): the request "
	          "carries none"
	        : "the request's auth token is not one this server accepts");
	return false;
}

// handle decodes one request message (consuming it) and dispatches it.
static void
handle(rpc_ctx *c, nng_msg *msg)
{
	Rill__V1__Request *req;
	size_t             len = nng_msg_len(msg);

	if (c->rpc->opts.metrics != NULL) {
		atomic_fetch_add_explicit(
		    &c->rpc->opts.metrics->requests, 1, memory_order_relaxed);
	}
	if (len > c->rpc->opts.max_request_bytes) {
		nng_msg_free(msg);
		send_error(c, 0, RILL_RESOURCE_EXHAUSTED,
		    c->rpc->opts.max_request_bytes,
		    "the request is %zu bytes, over the limit of %" PRIu64,
		    len, c->rpc->opts.max_request_bytes);
		return;
	}
	req = rill__v1__request__unpack(NULL, len, nng_msg_body(msg));
	nng_msg_free(msg);
	if (req == NULL) {
		send_error(c, 0, RILL_INVALID_ARGUMENT, 0,
		    "the request does not decode as a rill.v1.Request");
		return;
	}
	if (!authenticated(c, req)) {
		rill__v1__request__free_unpacked(req, NULL);
		return;
	}
	c->wait_until_ms = 0;
	if (!dispatch(c, req)) {
		rill__v1__request__free_unpacked(req, NULL);
	}
}

// go_idle parks a context for good while the rpc closes.
static void
go_idle(rpc_ctx *c)
{
	rill_rpc *rpc = c->rpc;

	atomic_store(&c->state, CTX_IDLE);
	pthread_mutex_lock(&rpc->mu);
	rpc->n_idle++;
	pthread_cond_broadcast(&rpc->cv);
	pthread_mutex_unlock(&rpc->mu);
}

// start_recv waits for the next request, unless the rpc is closing. No
// lock on this path: a context that starts a receive just after
// rill_rpc_quiesce looked at it is cancelled on its next sweep.
static void
start_recv(rpc_ctx *c)
{
	if (atomic_load_explicit(&c->rpc->closing, memory_order_acquire)) {
		go_idle(c);
		return;
	}
	atomic_store(&c->state, CTX_RECV);
	nng_ctx_recv(c->ctx, c->aio);
}

static void
ctx_cb(void *arg)
{
	rpc_ctx *c  = arg;
	int      rv = nng_aio_result(c->aio);
	nng_msg *msg;

	switch (atomic_load(&c->state)) {
	case CTX_RECV:
		if (rv != 0) {
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
				go_idle(c);
				return;
			}
			rill_diag_warn("RPC-RECV", "receive failed: %s",
			    nng_strerror(rv));
			start_recv(c);
			return;
		}
		msg = nng_aio_get_msg(c->aio);
		nng_aio_set_msg(c->aio, NULL);
		handle(c, msg);
		return;
	case CTX_SEND:
		// A failed send leaves the reply with us (the peer is gone).
		// nng 1.5.2 can also report success for a send it did not
		// take, with the message still in the aio: free it either way.
		if (nng_aio_get_msg(c->aio) != NULL) {
			nng_msg_free(nng_aio_get_msg(c->aio));
			nng_aio_set_msg(c->aio, NULL);
		}
		start_recv(c);
		return;
	case CTX_WAIT: {
		// Woken (cancelled), timed out, or closing: serve it again.
		Rill__V1__Request *req = c->req;

		unpark(c);
		c->req = NULL;
		if (!dispatch(c, req)) {
			rill__v1__request__free_unpacked(req, NULL);
		}
		return;
	}
	case CTX_WRITE:
	case CTX_IDLE:
		break;
	}
	RILL_ASSERT(!"rpc context callback in a state without an aio");
}

// Public -----------------------------------------------------------------

// set_strings replaces the node's strings; false when out of memory.
static bool
set_strings(
    rill_rpc *rpc, const char *role, const char *leader, const char *why)
{
	char *r = rill_strdup(role), *l = rill_strdup(leader);
	char *w = why != NULL ? rill_strdup(why) : NULL;

	if (r == NULL || l == NULL || (why != NULL && w == NULL)) {
		rill_free(r);
		rill_free(l);
		rill_free(w);
		return false;
	}
	rill_free(rpc->role);
	rill_free(rpc->leader);
	rill_free(rpc->why);
	rpc->role   = r;
	rpc->leader = l;
	rpc->why    = w;
	return true;
}

void
rill_rpc_set_node(rill_rpc *rpc, const rill_rpc_node *node)
{
	rill_generation_info *lineage = NULL;
	size_t                n       = 0;

	if (node != NULL && node->n_lineage > 0) {
		n = node->n_lineage < LINEAGE_MAX ? node->n_lineage
		                                  : LINEAGE_MAX;
		if ((lineage = rill_alloc(n * sizeof(*lineage))) != NULL) {
			memcpy(lineage, node->lineage, n * sizeof(*lineage));
		} else {
			n = 0;
		}
	}
	pthread_rwlock_wrlock(&rpc->node_lock);
	rill_free(rpc->lineage);
	rpc->lineage   = lineage;
	rpc->n_lineage = n;
	if (node == NULL) {
		rpc->has_node = false;
		rpc->store    = NULL;
		rpc->log      = NULL;
		rpc->writer   = NULL;
	} else {
		rpc->has_node = set_strings(rpc, node->role,
		    node->leader ? node->leader : "", node->why);
		rpc->store    = node->store;
		rpc->log      = node->log;
		rpc->writer   = node->writer;
		rpc->gen      = node->generation;
		snprintf(rpc->generation, sizeof(rpc->generation),
		    "%016" PRIx64, node->generation);
		if (rpc->store == NULL || rpc->log == NULL) {
			rpc->store = NULL;
			rpc->log   = NULL;
		}
	}
	pthread_rwlock_unlock(&rpc->node_lock);
	// The parked requests were judged against the old parts.
	wake_all(rpc);
}

void
rill_rpc_notify(rill_rpc *rpc)
{
	wake_all(rpc);
}

int
rill_rpc_open(rill_rpc **rpcp, const rill_rpc_options *opts)
{
	rill_rpc *rpc;
	int       rv;

	if ((rpc = rill_zalloc(sizeof(*rpc))) == NULL) {
		return RILL_ENOMEM;
	}
	rpc->opts        = *opts;
	rpc->opts.listen = NULL; // only needed here, borrowed
	rpc->node_id     = rill_strdup(opts->node_id);
	pthread_mutex_init(&rpc->mu, NULL);
	pthread_cond_init(&rpc->cv, NULL);
	pthread_mutex_init(&rpc->wait_mu, NULL);
	pthread_rwlock_init(&rpc->node_lock, NULL);
	snprintf(rpc->generation, sizeof(rpc->generation), "%016" PRIx64,
	    (uint64_t) 0);
	if (rpc->node_id == NULL || !set_strings(rpc, "starting", "", NULL)) {
		rv = RILL_ENOMEM;
		goto out_free;
	}
	if ((rv = nng_rep0_open(&rpc->sock)) != 0) {
		rill_diag_err("RPC-OPEN", "cannot open the REP socket: %s",
		    nng_strerror(rv));
		rv = RILL_INTERNAL;
		goto out_free;
	}
	// nng drops the connection of a peer that sends more than this, with
	// no reply. Up to twice the limit, the request is read and refused
	// with RESOURCE_EXHAUSTED instead, so a client that misjudged the
	// limit learns why.
	nng_socket_set_size(
	    rpc->sock, NNG_OPT_RECVMAXSZ, 2 * opts->max_request_bytes);
	rpc->n_ctxs = opts->n_contexts ? opts->n_contexts : 256;
	if ((rpc->ctxs = rill_zalloc(rpc->n_ctxs * sizeof(rpc_ctx))) == NULL) {
		rv = RILL_ENOMEM;
		goto out_close;
	}
	for (uint32_t i = 0; i < rpc->n_ctxs; i++) {
		rpc_ctx *c = &rpc->ctxs[i];
		c->rpc     = rpc;
		if ((rv = nng_aio_alloc(&c->aio, ctx_cb, c)) != 0 ||
		    (rv = nng_ctx_open(&c->ctx, rpc->sock)) != 0) {
			rill_diag_err("RPC-OPEN", "cannot open context: %s",
			    nng_strerror(rv));
			rv = RILL_ENOMEM;
			goto out_close;
		}
	}
	if ((rv = nng_listen(rpc->sock, opts->listen, NULL, 0)) != 0) {
		rill_diag_err("RPC-LISTEN", "cannot listen on %s: %s",
		    opts->listen, nng_strerror(rv));
		rv = rv == NNG_EADDRINUSE ? RILL_ELOCKED
		                          : RILL_INVALID_ARGUMENT;
		goto out_close;
	}
	for (uint32_t i = 0; i < rpc->n_ctxs; i++) {
		start_recv(&rpc->ctxs[i]);
	}
	rill_diag_notice("RPC-LISTEN",
	    "serving rill.v1 on %s with %u contexts", opts->listen,
	    rpc->n_ctxs);
	*rpcp = rpc;
	return RILL_OK;

out_close:
	nng_close(rpc->sock);
	rpc->sock = (nng_socket) NNG_SOCKET_INITIALIZER;
out_free:
	rill_rpc_close(rpc);
	return rv;
}

void
rill_rpc_quiesce(rill_rpc *rpc, uint64_t wait_ms)
{
	uint64_t deadline = rill_mono_ms() + wait_ms;

	atomic_store(&rpc->closing, true);
	pthread_mutex_lock(&rpc->mu);
	while (rpc->n_idle < rpc->n_ctxs) {
		struct timespec ts;

		if (rill_mono_ms() >= deadline) {
			rill_diag_warn("RPC-CLOSE",
			    "%u requests still in flight after %llu ms",
			    rpc->n_ctxs - rpc->n_idle,
			    (unsigned long long) wait_ms);
			break;
		}
		// Only a context waiting for a request is cancelled: one that
		// sends a reply, or waits for the writer, finishes first. A
		// parked long-poll is woken and answered at once. The sweep
		// repeats, for a context that started a receive after the
		// previous one.
		for (uint32_t i = 0; i < rpc->n_ctxs; i++) {
			if (atomic_load(&rpc->ctxs[i].state) == CTX_RECV) {
				nng_aio_cancel(rpc->ctxs[i].aio);
			}
		}
		pthread_mutex_unlock(&rpc->mu);
		wake_all(rpc);
		pthread_mutex_lock(&rpc->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&rpc->cv, &rpc->mu, &ts);
	}
	pthread_mutex_unlock(&rpc->mu);
}

void
rill_rpc_close(rill_rpc *rpc)
{
	if (rpc == NULL) {
		return;
	}
	if (rpc->ctxs != NULL) {
		for (uint32_t i = 0; i < rpc->n_ctxs; i++) {
			if (rpc->ctxs[i].aio != NULL) {
				nng_aio_stop(rpc->ctxs[i].aio);
			}
		}
	}
	if (nng_socket_id(rpc->sock) > 0 &&
	    !rill__nng_close_bounded(rpc->sock, RILL_NNG_CLOSE_WAIT_MS, rpc)) {
		// Every context is stopped, so no callback of ours runs; the
		// rpc stays, for what nng may still touch (see nng_close.h).
		rill_diag_warn("RPC-CLOSE-STUCK",
		    "closing the RPC socket did not end in %d ms (nng 1.5.2, "
		    "nanomsg/nng#1543): left to the process's exit",
		    RILL_NNG_CLOSE_WAIT_MS);
		return;
	}
	if (rpc->ctxs != NULL) {
		for (uint32_t i = 0; i < rpc->n_ctxs; i++) {
			rpc_ctx *c = &rpc->ctxs[i];
			if (c->aio != NULL) {
				if (nng_aio_get_msg(c->aio) != NULL) {
					nng_msg_free(nng_aio_get_msg(c->aio));
				}
				nng_aio_free(c->aio);
			}
			if (c->req != NULL) {
				rill__v1__request__free_unpacked(c->req, NULL);
			}
		}
	}
	pthread_cond_destroy(&rpc->cv);
	pthread_mutex_destroy(&rpc->mu);
	pthread_mutex_destroy(&rpc->wait_mu);
	pthread_rwlock_destroy(&rpc->node_lock);
	rill_free(rpc->ctxs);
	rill_free(rpc->node_id);
	rill_free(rpc->role);
	rill_free(rpc->leader);
	rill_free(rpc->why);
	rill_free(rpc->lineage);
	rill_free(rpc);
}
