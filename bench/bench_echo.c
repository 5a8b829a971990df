// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_echo: the nng echo baseline, the ceiling of any RPC over nng on
// this machine. The server (`rill_bench --echo-server URL`, a process of
// its own as rilld is) answers each request with the request itself, from
// a pool of REP contexts driven by aio callbacks, the way rilld's rpc
// module serves. Each client thread has its own REQ socket and sends one
// message the size of the workload's request at a time.
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

// As many contexts as rilld has by default (rpc_contexts).
#define ECHO_CONTEXTS 256
// Requests of the largest batches stay far below this.
#define ECHO_MAX_BYTES (256u << 20)

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

static void
echo_cb(void *arg)
{
	echo_ctx *e  = arg;
	int       rv = nng_aio_result(e->aio);

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
		nng_aio_set_msg(e->aio, nng_aio_get_msg(e->aio));
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

const rill_bench_target rill_bench_echo_target = {
	.name         = "nng echo",
	.arg          = NULL, // set by the caller on a copy
	.thread_open  = echo_open,
	.step         = echo_step,
	.thread_close = echo_close,
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
