// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_echo: the nng echo baseline, the ceiling of any RPC over nng on
// this machine. The server (`rill_bench --echo-server URL`, a process of
// its own as rilld is) answers each request with the request itself, from
// a pool of REP contexts driven by aio callbacks, the way rilld's rpc
// module serves. The client sends messages the size of the workload's
// request: in async mode, N REQ contexts spread over --connections
// sockets, each a state machine on its aio callback; in threads mode,
// each client thread with its own REQ socket, one message at a time.
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

// As many contexts as rilld has by default (rpc_contexts).
#define ECHO_CONTEXTS 256
// Requests of the largest batches stay far below this.
#define ECHO_MAX_BYTES (256u << 20)

// A fill request: exactly FILL_REQUEST_BYTES, FILL_MAGIC then the size
// wanted (u64, little-endian). The server answers it with that many bytes
// instead of the request: a one-way transfer, as a snapshot download
// makes. The workloads' random requests never take this form.
#define FILL_MAGIC "rbFILL\x01\x00"
#define FILL_REQUEST_BYTES 16
// The server copies a reply's bytes from a pattern of this size.
#define FILL_PATTERN_BYTES (1u << 20)

static uint8_t fill_pattern[FILL_PATTERN_BYTES];

// One context of the echo server:
//
//   RECV --(request arrived: reply with it)--> SEND --(sent)--> RECV
//
// echo_cb runs on nng's task threads for both transitions. A failed recv
// other than on close, or a failed send, goes back to RECV.
typedef struct echo_ctx {
	nng_aio *aio;
	nng_ctx  ctx;
	enum { ECHO_RECV, ECHO_SEND } state;
} echo_ctx;

// fill_reply returns the reply to a fill request (see FILL_MAGIC): a new
// message of the size asked for, its bytes copied from the pattern as
// rilld copies a chunk into its reply. NULL for any other message, or
// when the size is out of bounds or memory runs out: the request itself
// then goes back.
static nng_msg *
fill_reply(nng_msg *req)
{
	const uint8_t *body = nng_msg_body(req);
	uint64_t       size = 0;
	nng_msg       *reply;
	uint8_t       *out;

	if (nng_msg_len(req) != FILL_REQUEST_BYTES ||
	    memcmp(body, FILL_MAGIC, 8) != 0) {
		return NULL;
	}
	for (int i = 7; i >= 0; i--) {
		size = size << 8 | body[8 + i];
	}
	if (size == 0 || size > ECHO_MAX_BYTES ||
	    nng_msg_alloc(&reply, (size_t) size) != 0) {
		return NULL;
	}
	out = nng_msg_body(reply);
	for (uint64_t o = 0; o < size; o += FILL_PATTERN_BYTES) {
		size_t len = size - o < FILL_PATTERN_BYTES
		    ? (size_t) (size - o)
		    : FILL_PATTERN_BYTES;

		memcpy(out + o, fill_pattern, len);
	}
	return reply;
}

static void
echo_cb(void *arg)
{
	echo_ctx *e  = arg;
	int       rv = nng_aio_result(e->aio);
	nng_msg  *msg, *reply;

	switch (e->state) {
	case ECHO_RECV:
		if (rv == NNG_ECLOSED) {
			return;
		}
		if (rv != 0) {
			nng_ctx_recv(e->ctx, e->aio);
			return;
		}
		e->state = ECHO_SEND;
		msg      = nng_aio_get_msg(e->aio);
		if ((reply = fill_reply(msg)) != NULL) {
			nng_msg_free(msg);
			msg = reply;
		}
		nng_aio_set_msg(e->aio, msg);
		nng_ctx_send(e->ctx, e->aio);
		return;
	case ECHO_SEND:
		if (rv != 0) {
			// The reply was not sent and is still ours.
			nng_msg_free(nng_aio_get_msg(e->aio));
			if (rv == NNG_ECLOSED) {
				return;
			}
		}
		e->state = ECHO_RECV;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
}

int
rill_bench_echo_serve(const char *url)
{
	static echo_ctx ctxs[ECHO_CONTEXTS];
	nng_socket      sock;
	sigset_t        stop;
	int             rv, sig;

	// Block the stop signals before nng starts its threads, which
	// inherit the mask; sigwait then takes them on this thread.
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	for (size_t i = 0; i < FILL_PATTERN_BYTES; i++) {
		fill_pattern[i] = (uint8_t) (i * 131u + (i >> 8));
	}
	if ((rv = nng_rep0_open(&sock)) != 0 ||
	    (rv = nng_socket_set_size(
	         sock, NNG_OPT_RECVMAXSZ, ECHO_MAX_BYTES)) != 0) {
		fprintf(stderr, "echo server: socket: %s\n", nng_strerror(rv));
		return 1;
	}
	for (int i = 0; i < ECHO_CONTEXTS; i++) {
		if ((rv = nng_aio_alloc(&ctxs[i].aio, echo_cb, &ctxs[i])) !=
		        0 ||
		    (rv = nng_ctx_open(&ctxs[i].ctx, sock)) != 0) {
			fprintf(stderr, "echo server: context: %s\n",
			    nng_strerror(rv));
			return 1;
		}
	}
	if ((rv = nng_listen(sock, url, NULL, 0)) != 0) {
		fprintf(stderr, "echo server: listen %s: %s\n", url,
		    nng_strerror(rv));
		return 1;
	}
	for (int i = 0; i < ECHO_CONTEXTS; i++) {
		ctxs[i].state = ECHO_RECV;
		nng_ctx_recv(ctxs[i].ctx, ctxs[i].aio);
	}
	sigwait(&stop, &sig);
	nng_close(sock);
	for (int i = 0; i < ECHO_CONTEXTS; i++) {
		nng_aio_free(ctxs[i].aio);
	}
	return 0;
}

size_t
rill_bench_echo_size(const rill_bench_config *cfg)
{
	// About what the protobuf envelope and the SDK's framing add.
	const size_t frame = 30;
	size_t       req, reply;

	switch (cfg->workload) {
	case RILL_BENCH_PUT:
		req   = cfg->key_size + cfg->value_size + frame;
		reply = frame;
		break;
	case RILL_BENCH_GET:
		req   = cfg->key_size + frame;
		reply = cfg->value_size + frame;
		break;
	case RILL_BENCH_BATCH:
		req = cfg->batch_size * (cfg->key_size + cfg->value_size + 6) +
		    frame;
		reply = frame;
		break;
	case RILL_BENCH_SCAN:
	default:
		req = cfg->key_size + frame;
		reply =
		    cfg->scan_length * (cfg->key_size + cfg->value_size + 6) +
		    frame;
		break;
	}
	// An echo carries the same bytes both ways: take the larger side,
	// so a get or scan baseline also moves the values it returns.
	return req > reply ? req : reply;
}

typedef struct echo_thr {
	nng_socket sock;
	size_t     size;
	uint8_t   *buf;
} echo_thr;

static int
open_req(nng_socket *sockp, const char *url, char *err, size_t n)
{
	nng_socket sock;
	int        rv;

	if ((rv = nng_req0_open(&sock)) != 0) {
		rill_bench_errf(err, n, "req socket: %s", nng_strerror(rv));
		return -1;
	}
	// No blind resends (as the SDK); a reply that never comes fails
	// the call after 10 s instead of hanging the run.
	if ((rv = nng_socket_set_ms(
	         sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 10000)) != 0 ||
	    (rv = nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, 10000)) != 0 ||
	    (rv = nng_socket_set_size(
	         sock, NNG_OPT_RECVMAXSZ, ECHO_MAX_BYTES)) != 0 ||
	    (rv = nng_dial(sock, url, NULL, 0)) != 0) {
		rill_bench_errf(err, n, "echo %s: %s", url, nng_strerror(rv));
		nng_close(sock);
		return -1;
	}
	*sockp = sock;
	return 0;
}

static int
echo_open(void *arg, const rill_bench_config *cfg, int idx, void **thrp,
    char *err, size_t n)
{
	const char *url = arg;
	echo_thr   *t;
	uint64_t    rng = rill_bench_seed(idx);

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		return -1;
	}
	t->size = rill_bench_echo_size(cfg);
	if ((t->buf = malloc(t->size)) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		free(t);
		return -1;
	}
	for (size_t i = 0; i < t->size; i++) {
		t->buf[i] = (uint8_t) rill_bench_rand(&rng);
	}
	if (open_req(&t->sock, url, err, n) != 0) {
		free(t->buf);
		free(t);
		return -1;
	}
	*thrp = t;
	return 0;
}

static int
echo_step(void *thr, char *err, size_t n)
{
	echo_thr *t = thr;
	nng_msg  *msg;
	int       rv;

	if ((rv = nng_msg_alloc(&msg, t->size)) != 0) {
		rill_bench_errf(err, n, "msg: %s", nng_strerror(rv));
		return -1;
	}
	memcpy(nng_msg_body(msg), t->buf, t->size);
	if ((rv = nng_sendmsg(t->sock, msg, 0)) != 0) {
		nng_msg_free(msg);
		rill_bench_errf(err, n, "echo send: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_recvmsg(t->sock, &msg, 0)) != 0) {
		rill_bench_errf(err, n, "echo recv: %s", nng_strerror(rv));
		return -1;
	}
	rv = nng_msg_len(msg) == t->size ? 0 : -1;
	if (rv != 0) {
		rill_bench_errf(err, n, "echo: %zu bytes back, sent %zu",
		    nng_msg_len(msg), t->size);
	}
	nng_msg_free(msg);
	return rv;
}

static void
echo_close(void *thr)
{
	echo_thr *t = thr;

	if (t == NULL) {
		return;
	}
	// Nothing is in flight here: each call waited for its reply.
	nng_close(t->sock);
	free(t->buf);
	free(t);
}

// The async client. One slot of it, on its aio callback:
//
//   echo_go: rill_bench_slot_start, then --(nng_ctx_send)--> SEND
//   SEND --(sent: nng_ctx_recv)--> RECV --(reply)--> echo_end
//   SEND or RECV --(failed)--> echo_end
//   echo_end: rill_bench_slot_done, then echo_go at once, or after
//             PAUSE (a 1 ms nng_sleep_aio) following a failure
//
// echo_go retires the slot instead once the run stops. Each transition
// starts the slot's next aio operation as its last act on the slot: the
// next callback may run at once on another thread.
typedef struct echo_async echo_async;

typedef struct echo_slot {
	echo_async      *run;
	rill_bench_slot *slot;
	nng_aio         *aio;
	nng_ctx          ctx;
	bool             ctx_open;
	enum { SLOT_SEND, SLOT_RECV, SLOT_PAUSE } state;
} echo_slot;

struct echo_async {
	size_t      size;
	uint8_t    *buf; // what every request carries; read-only
	int         n_socks;
	nng_socket *socks;
	int         n_slots;
	echo_slot  *slots;
};

// ECHO_TIMEOUT_MS fails a send or receive that hangs, as the threads'
// socket timeouts do.
#define ECHO_TIMEOUT_MS 10000

static void echo_go(echo_slot *e);

// echo_end ends the slot's call with err (NULL: success) and moves on.
static void
echo_end(echo_slot *e, const char *err)
{
	if (rill_bench_slot_done(e->slot, err)) {
		echo_go(e);
		return;
	}
	e->state = SLOT_PAUSE;
	nng_sleep_aio(1, e->aio);
}

static void
echo_go(echo_slot *e)
{
	nng_msg *msg;
	int      rv;
	char     err[128];

	if (!rill_bench_slot_start(e->slot)) {
		return;
	}
	if ((rv = nng_msg_alloc(&msg, e->run->size)) != 0) {
		rill_bench_errf(err, sizeof(err), "msg: %s", nng_strerror(rv));
		echo_end(e, err);
		return;
	}
	memcpy(nng_msg_body(msg), e->run->buf, e->run->size);
	e->state = SLOT_SEND;
	nng_aio_set_msg(e->aio, msg);
	nng_ctx_send(e->ctx, e->aio);
}

static void
echo_slot_cb(void *arg)
{
	echo_slot *e  = arg;
	int        rv = nng_aio_result(e->aio);
	nng_msg   *msg;
	char       err[128];

	switch (e->state) {
	case SLOT_SEND:
		if (rv != 0) {
			// The request was not sent and is still ours.
			nng_msg_free(nng_aio_get_msg(e->aio));
			nng_aio_set_msg(e->aio, NULL);
			rill_bench_errf(err, sizeof(err), "echo send: %s",
			    nng_strerror(rv));
			echo_end(e, err);
			return;
		}
		e->state = SLOT_RECV;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	case SLOT_RECV:
		if (rv != 0) {
			rill_bench_errf(err, sizeof(err), "echo recv: %s",
			    nng_strerror(rv));
			echo_end(e, err);
			return;
		}
		msg = nng_aio_get_msg(e->aio);
		nng_aio_set_msg(e->aio, NULL);
		if (nng_msg_len(msg) != e->run->size) {
			rill_bench_errf(err, sizeof(err),
			    "echo: %zu bytes back, sent %zu", nng_msg_len(msg),
			    e->run->size);
			nng_msg_free(msg);
			echo_end(e, err);
			return;
		}
		nng_msg_free(msg);
		echo_end(e, NULL);
		return;
	case SLOT_PAUSE:
		echo_go(e);
		return;
	}
}

static void
echo_async_close(void *p)
{
	echo_async *run = p;

	if (run == NULL) {
		return;
	}
	// Stop every aio (cancelling what is still pending and waiting for
	// its callback) before any socket closes: closing a REQ socket under
	// requests in flight can hang.
	for (int i = 0; i < run->n_slots; i++) {
		if (run->slots[i].aio != NULL) {
			nng_aio_stop(run->slots[i].aio);
		}
	}
	for (int i = 0; i < run->n_slots; i++) {
		if (run->slots[i].ctx_open) {
			nng_ctx_close(run->slots[i].ctx);
		}
		if (run->slots[i].aio != NULL) {
			nng_aio_free(run->slots[i].aio);
		}
	}
	for (int i = 0; i < run->n_socks; i++) {
		nng_close(run->socks[i]);
	}
	free(run->socks);
	free(run->slots);
	free(run->buf);
	free(run);
}

static int
echo_async_open(void *arg, const rill_bench_config *cfg,
    rill_bench_slot *slots, void **runp, char *err, size_t n)
{
	const char *url = arg;
	echo_async *run;
	uint64_t    rng   = rill_bench_seed(0);
	int         n_con = cfg->connections, rv;

	if (n_con < 1 || n_con > cfg->clients) {
		n_con = n_con < 1 ? 1 : cfg->clients;
	}
	if ((run = calloc(1, sizeof(*run))) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		return -1;
	}
	run->size = rill_bench_echo_size(cfg);
	if ((run->buf = malloc(run->size)) == NULL ||
	    (run->socks = calloc((size_t) n_con, sizeof(*run->socks))) ==
	        NULL ||
	    (run->slots = calloc(
	         (size_t) cfg->clients, sizeof(*run->slots))) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < run->size; i++) {
		run->buf[i] = (uint8_t) rill_bench_rand(&rng);
	}
	for (; run->n_socks < n_con; run->n_socks++) {
		if (open_req(&run->socks[run->n_socks], url, err, n) != 0) {
			goto fail;
		}
	}
	// Slots take the sockets in turn: slot i uses socket i % n_con.
	for (; run->n_slots < cfg->clients; run->n_slots++) {
		echo_slot *e = &run->slots[run->n_slots];

		e->run  = run;
		e->slot = &slots[run->n_slots];
		if ((rv = nng_aio_alloc(&e->aio, echo_slot_cb, e)) != 0 ||
		    (rv = nng_ctx_open(
		         &e->ctx, run->socks[run->n_slots % n_con])) != 0) {
			rill_bench_errf(
			    err, n, "echo context: %s", nng_strerror(rv));
			run->n_slots++; // frees what it got
			goto fail;
		}
		e->ctx_open = true;
		nng_aio_set_timeout(e->aio, ECHO_TIMEOUT_MS);
	}
	*runp = run;
	return 0;

fail:
	echo_async_close(run);
	return -1;
}

static void
echo_async_start(void *p, int idx)
{
	echo_async *run = p;

	echo_go(&run->slots[idx]);
}

const rill_bench_target rill_bench_echo_target = {
	.name         = "nng echo",
	.arg          = NULL, // set by the caller on a copy
	.thread_open  = echo_open,
	.step         = echo_step,
	.thread_close = echo_close,
	.async_open   = echo_async_open,
	.async_start  = echo_async_start,
	.async_close  = echo_async_close,
};

bool
rill_bench_echo_wait(
    const char *url, pid_t pid, uint64_t timeout_ms, char *err, size_t n)
{
	uint64_t end      = rill_bench_now_ns() + timeout_ms * 1000000u;
	char     why[256] = "";

	while (rill_bench_now_ns() < end) {
		nng_socket sock;
		nng_msg   *msg;
		int        status, rv;

		if (!rill_bench_child_alive(pid, &status)) {
			rill_bench_describe_status(status, why, sizeof(why));
			rill_bench_errf(err, n, "echo server %s", why);
			return false;
		}
		if (open_req(&sock, url, why, sizeof(why)) == 0) {
			rv = nng_send(sock, "ping", 4, 0);
			if (rv == 0 &&
			    (rv = nng_recvmsg(sock, &msg, 0)) == 0) {
				nng_msg_free(msg);
				nng_close(sock);
				return true;
			}
			rill_bench_errf(
			    why, sizeof(why), "%s", nng_strerror(rv));
			nng_close(sock);
		}
		if (!rill_bench_sleep_ms(20)) {
			break;
		}
	}
	rill_bench_errf(
	    err, n, "echo server at %s did not answer: %s", url, why);
	return false;
}

// transfer_once makes one round trip of sock: a fill request for size
// bytes (oneway) or an echo of size bytes of buf, and checks the size of
// the reply.
static int
transfer_once(nng_socket sock, const uint8_t *buf, size_t size, bool oneway,
    char *err, size_t n)
{
	nng_msg *msg;
	size_t   len = oneway ? FILL_REQUEST_BYTES : size;
	int      rv;

	if ((rv = nng_msg_alloc(&msg, len)) != 0) {
		rill_bench_errf(err, n, "msg: %s", nng_strerror(rv));
		return -1;
	}
	if (oneway) {
		uint8_t *body = nng_msg_body(msg);

		memcpy(body, FILL_MAGIC, 8);
		for (int i = 0; i < 8; i++) {
			body[8 + i] = (uint8_t) ((uint64_t) size >> (8 * i));
		}
	} else {
		memcpy(nng_msg_body(msg), buf, size);
	}
	if ((rv = nng_sendmsg(sock, msg, 0)) != 0) {
		nng_msg_free(msg);
		rill_bench_errf(err, n, "echo send: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_recvmsg(sock, &msg, 0)) != 0) {
		rill_bench_errf(err, n, "echo recv: %s", nng_strerror(rv));
		return -1;
	}
	rv = nng_msg_len(msg) == size ? 0 : -1;
	if (rv != 0) {
		rill_bench_errf(err, n, "echo: %zu bytes back, wanted %zu",
		    nng_msg_len(msg), size);
	}
	nng_msg_free(msg);
	return rv;
}

int
rill_bench_echo_transfer(const char *url, uint64_t total, size_t chunk,
    bool oneway, double *secondsp, char *err, size_t n)
{
	nng_socket sock;
	uint8_t   *buf = NULL;
	uint64_t   rng = rill_bench_seed(0), t0;
	int        rv  = 0;

	if (chunk == 0 || chunk > ECHO_MAX_BYTES / 2) {
		rill_bench_errf(err, n, "echo transfer: bad chunk size");
		return -1;
	}
	if (!oneway) {
		if ((buf = malloc(chunk)) == NULL) {
			rill_bench_errf(err, n, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < chunk; i++) {
			buf[i] = (uint8_t) rill_bench_rand(&rng);
		}
	}
	if (open_req(&sock, url, err, n) != 0) {
		free(buf);
		return -1;
	}
	// One round trip first, not timed: the connection and the first
	// allocations of each side.
	rv = transfer_once(sock, buf, chunk, oneway, err, n);
	t0 = rill_bench_now_ns();
	for (uint64_t off = 0; rv == 0 && off < total;) {
		size_t len =
		    total - off < chunk ? (size_t) (total - off) : chunk;

		if (rill_bench_interrupted) {
			rill_bench_errf(err, n, "interrupted");
			rv = -1;
			break;
		}
		rv = transfer_once(sock, buf, len, oneway, err, n);
		off += len;
	}
	*secondsp = (double) (rill_bench_now_ns() - t0) / 1e9;
	nng_close(sock);
	free(buf);
	return rv;
}
