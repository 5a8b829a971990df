// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_rill: rill itself, through the public SDK (rill/rill.h) and rilld
// over RPC. In async mode, N slots share --connections rill_client handles
// and each keeps one asynchronous call in flight, starting the next from
// its completion callback; in threads mode each client thread owns a
// rill_client, so each has its own connection, and makes synchronous
// calls. Scans have no asynchronous form: they run as threads in either
// mode. Preloading and the load of the RSS figure write batches from a few
// clients at once; the restore figure's log records are single puts kept
// in flight by completion callbacks.
#include <nng/nng.h>
#include <pthread.h>
#include <rill/local.h>
#include <rill/rill.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

typedef struct sdk_thr {
	rill_client             *client;
	rill_batch              *batch;
	const rill_bench_config *cfg;
	int                      idx;
	uint64_t                 rng;
	uint64_t                 seq;   // the next sequential key
	uint8_t                  key[]; // cfg->key_size
} sdk_thr;

static int
call_error(int rv, const char *what, char *err, size_t n)
{
	rill_bench_errf(err, n, "rill %s: %s: %s", what, rill_status_name(rv),
	    rill_last_message());
	return -1;
}

// open_client opens a handle on url, or with "local:DIR" a handle of
// rill_open_local on DIR (the local mode figures, bench_local.c).
static int
open_client(rill_client **clientp, const char *url, char *err, size_t n)
{
	rill_options opts;
	int          rv;

	if (strncmp(url, "local:", 6) == 0) {
		rv = rill_open_local(clientp, url + 6, NULL);
		return rv == RILL_OK ? 0
		                     : call_error(rv, "open_local", err, n);
	}
	rill_options_init(&opts);
	if ((rv = rill_open(clientp, url, &opts)) != RILL_OK) {
		return call_error(rv, "open", err, n);
	}
	return 0;
}

static void
thr_free(sdk_thr *t)
{
	rill_batch_free(t->batch);
	rill_close(t->client);
	free(t);
}

static int
sdk_open(void *arg, const rill_bench_config *cfg, int idx, void **thrp,
    char *err, size_t n)
{
	sdk_thr *t;
	int      rv;

	if ((t = calloc(1, sizeof(*t) + cfg->key_size)) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		return -1;
	}
	t->cfg = cfg;
	t->idx = idx;
	t->rng = rill_bench_seed(idx);
	t->seq = cfg->key_seq != NULL ? cfg->key_seq[idx] : 0;
	if (open_client(&t->client, arg, err, n) != 0) {
		free(t);
		return -1;
	}
	if (cfg->workload == RILL_BENCH_BATCH &&
	    (rv = rill_batch_new(&t->batch)) != RILL_OK) {
		thr_free(t);
		return call_error(rv, "batch", err, n);
	}
	*thrp = t;
	return 0;
}

static int
scan_once(sdk_thr *t, char *err, size_t n)
{
	const rill_bench_config *cfg = t->cfg;
	rill_scan_opts           so;
	rill_scan               *scan;
	const void              *k, *v;
	size_t                   klen, vlen, got = 0;
	int                      rv;

	rill_bench_key(
	    t->key, cfg->key_size, rill_bench_rand(&t->rng) % cfg->n_keys);
	memset(&so, 0, sizeof(so));
	so.start     = t->key;
	so.start_len = cfg->key_size;
	so.limit     = cfg->scan_length;
	so.page_size = (uint32_t) cfg->scan_length;
	if ((rv = rill_scan_open(t->client, &so, &scan)) != RILL_OK) {
		return call_error(rv, "scan open", err, n);
	}
	while (got < cfg->scan_length &&
	    rill_scan_next(scan, &k, &klen, &v, &vlen)) {
		got++;
	}
	rv = rill_scan_error(scan);
	rill_scan_close(scan);
	if (rv != RILL_OK) {
		return call_error(rv, "scan", err, n);
	}
	if (got == 0) {
		rill_bench_errf(err, n,
		    "rill scan: nothing from a preloaded "
		    "key on");
		return -1;
	}
	return 0;
}

static int
sdk_step(void *thr, char *err, size_t n)
{
	sdk_thr                 *t   = thr;
	const rill_bench_config *cfg = t->cfg;
	void                    *value;
	size_t                   vlen;
	int                      rv;

	switch (cfg->workload) {
	case RILL_BENCH_PUT:
		rill_bench_write_key(cfg, t->key, t->idx, &t->rng, &t->seq);
		rv = rill_put(t->client, t->key, cfg->key_size,
		    rill_bench_value(cfg, &t->rng), cfg->value_size, NULL,
		    NULL);
		return rv == RILL_OK ? 0 : call_error(rv, "put", err, n);
	case RILL_BENCH_GET:
		rill_bench_key(t->key, cfg->key_size,
		    rill_bench_rand(&t->rng) % cfg->n_keys);
		rv = rill_get(
		    t->client, t->key, cfg->key_size, &value, &vlen, NULL);
		if (rv != RILL_OK) {
			return call_error(rv, "get", err, n);
		}
		rill_free(value);
		if (vlen != cfg->value_size) {
			rill_bench_errf(err, n, "rill get: %zu bytes, not %zu",
			    vlen, cfg->value_size);
			return -1;
		}
		return 0;
	case RILL_BENCH_BATCH:
		rill_batch_clear(t->batch);
		for (size_t i = 0; i < cfg->batch_size; i++) {
			rill_bench_write_key(
			    cfg, t->key, t->idx, &t->rng, &t->seq);
			rv = rill_batch_put(t->batch, t->key, cfg->key_size,
			    rill_bench_value(cfg, &t->rng), cfg->value_size);
			if (rv != RILL_OK) {
				return call_error(rv, "batch put", err, n);
			}
		}
		rv = rill_write(t->client, t->batch, NULL, NULL);
		return rv == RILL_OK ? 0 : call_error(rv, "write", err, n);
	case RILL_BENCH_SCAN:
		return scan_once(t, err, n);
	default:
		rill_bench_errf(err, n, "no such workload");
		return -1;
	}
}

static void
sdk_close(void *thr)
{
	sdk_thr *t = thr;

	if (t == NULL) {
		return;
	}
	if (t->cfg->key_seq != NULL) {
		t->cfg->key_seq[t->idx] = t->seq; // the next run goes on
	}
	thr_free(t);
}

// The async client. One slot of it, on SDK threads:
//
//   slot_go: rill_bench_slot_start, build the request, then
//            rill_{put,get,write}_async --(started)--> IN FLIGHT
//   IN FLIGHT --(call_done: the call's callback)--> slot_end
//   slot_go --(the call could not start)--> slot_end
//   slot_end: rill_bench_slot_done, then slot_go at once, or after
//             PAUSE (a 1 ms nng_sleep_aio on the slot's timer) after a
//             failure
//
// slot_go retires the slot instead once the run stops. Starting the call
// is the callback's last act on the slot: the SDK may run the next
// completion on another thread before rill_*_async has even returned (it
// copies key, value and batch before sending, so the slot's buffers are
// free again by then).
typedef struct sdk_async sdk_async;

typedef struct sdk_slot {
	rill_bench_slot         *slot;
	rill_client             *client; // shared with other slots
	rill_batch              *batch;  // this slot's, refilled per call
	nng_aio                 *timer;  // the pause after a failure
	const rill_bench_config *cfg;
	int                      idx;
	uint64_t                 rng;
	uint64_t                 seq;   // the next sequential key
	uint8_t                  key[]; // cfg->key_size
} sdk_slot;

struct sdk_async {
	int           n_clients;
	rill_client **clients;
	int           n_slots;
	sdk_slot    **slots;
};

static void slot_go(sdk_slot *t);

// slot_end ends the slot's call with err (NULL: success) and moves on.
static void
slot_end(sdk_slot *t, const char *err)
{
	if (rill_bench_slot_done(t->slot, err)) {
		slot_go(t);
		return;
	}
	nng_sleep_aio(1, t->timer);
}

static void
slot_timer_cb(void *arg)
{
	sdk_slot *t = arg;

	slot_go(t);
}

static void
call_done(void *arg, const rill_result *res)
{
	sdk_slot                *t   = arg;
	const rill_bench_config *cfg = t->cfg;
	char                     err[320];

	if (res->code != RILL_OK) {
		rill_bench_errf(err, sizeof(err), "rill %s: %s: %s",
		    cfg->workload == RILL_BENCH_BATCH
		        ? "write"
		        : rill_bench_workload_name(cfg->workload),
		    rill_status_name(res->code), res->message);
		slot_end(t, err);
		return;
	}
	if (cfg->workload == RILL_BENCH_GET &&
	    res->value_len != cfg->value_size) {
		rill_bench_errf(err, sizeof(err),
		    "rill get: %zu bytes, not %zu", res->value_len,
		    cfg->value_size);
		slot_end(t, err);
		return;
	}
	slot_end(t, NULL);
}

static void
slot_go(sdk_slot *t)
{
	const rill_bench_config *cfg = t->cfg;
	const char              *what;
	char                     err[320];
	int                      rv;

	if (!rill_bench_slot_start(t->slot)) {
		return;
	}
	switch (cfg->workload) {
	case RILL_BENCH_PUT:
		what = "put";
		rill_bench_write_key(cfg, t->key, t->idx, &t->rng, &t->seq);
		rv = rill_put_async(t->client, t->key, cfg->key_size,
		    rill_bench_value(cfg, &t->rng), cfg->value_size, NULL,
		    call_done, t);
		break;
	case RILL_BENCH_GET:
		what = "get";
		rill_bench_key(t->key, cfg->key_size,
		    rill_bench_rand(&t->rng) % cfg->n_keys);
		rv = rill_get_async(
		    t->client, t->key, cfg->key_size, NULL, call_done, t);
		break;
	case RILL_BENCH_BATCH:
		// Fresh keys each call (random, or the slot's next
		// sequential ones), as in threads mode; the batch itself is
		// the slot's and reused.
		what = "batch put";
		rv   = RILL_OK;
		rill_batch_clear(t->batch);
		for (size_t i = 0; rv == RILL_OK && i < cfg->batch_size; i++) {
			rill_bench_write_key(
			    cfg, t->key, t->idx, &t->rng, &t->seq);
			rv = rill_batch_put(t->batch, t->key, cfg->key_size,
			    rill_bench_value(cfg, &t->rng), cfg->value_size);
		}
		if (rv == RILL_OK) {
			what = "write";
			rv   = rill_write_async(
			      t->client, t->batch, NULL, call_done, t);
		}
		break;
	default:
		what = "?";
		rv   = RILL_INVALID_ARGUMENT;
		break;
	}
	if (rv != RILL_OK) {
		// No callback will come: the slot is still ours.
		call_error(rv, what, err, sizeof(err));
		slot_end(t, err);
	}
}

static void
sdk_async_close(void *p)
{
	sdk_async *run = p;

	if (run == NULL) {
		return;
	}
	// rill_close cancels the calls still pending and waits for their
	// callbacks, which then start nothing (the run is stopping); the
	// timers go after that, as a callback may still start one.
	for (int i = 0; i < run->n_clients; i++) {
		rill_close(run->clients[i]);
	}
	for (int i = 0; i < run->n_slots; i++) {
		sdk_slot *t = run->slots[i];

		if (t != NULL) {
			if (t->cfg->key_seq != NULL) {
				// No callback runs now: the next run of the
				// slot's client goes on from here.
				t->cfg->key_seq[t->idx] = t->seq;
			}
			if (t->timer != NULL) {
				nng_aio_free(t->timer);
			}
			rill_batch_free(t->batch);
			free(t);
		}
	}
	free(run->slots);
	free(run->clients);
	free(run);
}

static int
sdk_async_open(void *arg, const rill_bench_config *cfg, rill_bench_slot *slots,
    void **runp, char *err, size_t n)
{
	sdk_async *run;
	int        n_con = cfg->connections, rv;

	if (cfg->workload == RILL_BENCH_SCAN) {
		rill_bench_errf(err, n, "rill scan has no asynchronous form");
		return -1;
	}
	if (n_con < 1 || n_con > cfg->clients) {
		n_con = n_con < 1 ? 1 : cfg->clients;
	}
	if ((run = calloc(1, sizeof(*run))) == NULL ||
	    (run->clients = calloc((size_t) n_con, sizeof(*run->clients))) ==
	        NULL ||
	    (run->slots = calloc(
	         (size_t) cfg->clients, sizeof(*run->slots))) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		goto fail;
	}
	for (; run->n_clients < n_con; run->n_clients++) {
		if (open_client(&run->clients[run->n_clients], arg, err, n) !=
		    0) {
			goto fail;
		}
	}
	// Slots take the handles in turn: slot i uses handle i % n_con.
	for (; run->n_slots < cfg->clients; run->n_slots++) {
		sdk_slot *t = calloc(1, sizeof(*t) + cfg->key_size);
		int       i = run->n_slots;

		if (t == NULL) {
			rill_bench_errf(err, n, "out of memory");
			goto fail;
		}
		run->slots[i] = t;
		t->slot       = &slots[i];
		t->client     = run->clients[i % n_con];
		t->cfg        = cfg;
		t->idx        = i;
		t->rng        = rill_bench_seed(i);
		t->seq        = cfg->key_seq != NULL ? cfg->key_seq[i] : 0;
		if ((rv = nng_aio_alloc(&t->timer, slot_timer_cb, t)) != 0) {
			rill_bench_errf(err, n, "timer: %s", nng_strerror(rv));
			run->n_slots++; // frees what it got
			goto fail;
		}
		if (cfg->workload == RILL_BENCH_BATCH &&
		    (rv = rill_batch_new(&t->batch)) != RILL_OK) {
			call_error(rv, "batch", err, n);
			run->n_slots++;
			goto fail;
		}
	}
	*runp = run;
	return 0;

fail:
	sdk_async_close(run);
	return -1;
}

static void
sdk_async_start(void *p, int idx)
{
	sdk_async *run = p;

	slot_go(run->slots[idx]);
}

const rill_bench_target rill_bench_rill_target = {
	.name         = "rill",
	.arg          = NULL, // set by the caller on a copy
	.thread_open  = sdk_open,
	.step         = sdk_step,
	.thread_close = sdk_close,
	.async_open   = sdk_async_open,
	.async_start  = sdk_async_start,
	.async_close  = sdk_async_close,
};

// node_status asks url's node for its status: the one place that names
// the SDK's status call.
static int
node_status(rill_client *client, uint32_t deadline_ms)
{
	rill_node_status st;
	rill_callopts    co = { .deadline_ms = deadline_ms };

	return rill_status(client, &st, &co);
}

bool
rill_bench_rill_wait(
    const char *url, pid_t pid, uint64_t timeout_ms, char *err, size_t n)
{
	uint64_t     end = rill_bench_now_ns() + timeout_ms * 1000000u;
	rill_client *client;
	char         why[256] = "no answer";
	int          rv, status;

	if (open_client(&client, url, err, n) != 0) {
		return false;
	}
	while (rill_bench_now_ns() < end) {
		if (pid > 0 && !rill_bench_child_alive(pid, &status)) {
			rill_bench_describe_status(status, why, sizeof(why));
			rill_bench_errf(err, n, "rilld %s", why);
			rill_close(client);
			return false;
		}
		if ((rv = node_status(client, 250)) == RILL_OK) {
			rill_close(client);
			return true;
		}
		rill_bench_errf(why, sizeof(why), "%s: %s",
		    rill_status_name(rv), rill_last_message());
		if (!rill_bench_sleep_ms(50)) {
			break;
		}
	}
	rill_close(client);
	rill_bench_errf(
	    err, n, "rilld at %s did not answer rill_status: %s", url, why);
	return false;
}

typedef struct loader {
	const char              *url;
	const rill_bench_config *cfg;
	uint64_t                 end;  // one past the last key index
	atomic_uint_fast64_t     next; // the next key index to take
	atomic_int               failed;
	char                     err[256];
	pthread_mutex_t          err_mtx;
} loader;

static void
loader_fail(loader *l, const char *msg)
{
	pthread_mutex_lock(&l->err_mtx);
	if (atomic_fetch_add(&l->failed, 1) == 0) {
		snprintf(l->err, sizeof(l->err), "%s", msg);
	}
	pthread_mutex_unlock(&l->err_mtx);
}

static void *
loader_main(void *p)
{
	loader                  *l     = p;
	const rill_bench_config *cfg   = l->cfg;
	size_t                   chunk = rill_bench_load_chunk(cfg);
	rill_client             *client;
	rill_batch              *batch = NULL;
	uint8_t                 *key;
	uint64_t                 rng = rill_bench_seed(0);
	char                     err[256];
	int                      rv = RILL_OK;

	if ((key = malloc(cfg->key_size)) == NULL) {
		loader_fail(l, "out of memory");
		return NULL;
	}
	if (open_client(&client, l->url, err, sizeof(err)) != 0) {
		loader_fail(l, err);
		free(key);
		return NULL;
	}
	if ((rv = rill_batch_new(&batch)) != RILL_OK) {
		call_error(rv, "batch", err, sizeof(err));
		loader_fail(l, err);
		goto out;
	}
	while (atomic_load(&l->failed) == 0 && !rill_bench_interrupted) {
		uint64_t i = atomic_fetch_add(&l->next, chunk);
		uint64_t last;

		if (i >= l->end) {
			break;
		}
		last = i + chunk < l->end ? i + chunk : l->end;
		rill_batch_clear(batch);
		for (; i < last; i++) {
			rill_bench_key(key, cfg->key_size, i);
			rv = rill_batch_put(batch, key, cfg->key_size,
			    rill_bench_value(cfg, &rng), cfg->value_size);
			if (rv != RILL_OK) {
				break;
			}
		}
		if (rv == RILL_OK) {
			rv = rill_write(client, batch, NULL, NULL);
		}
		if (rv != RILL_OK) {
			call_error(rv, "load", err, sizeof(err));
			loader_fail(l, err);
		}
	}
out:
	rill_batch_free(batch);
	rill_close(client);
	free(key);
	return NULL;
}

int
rill_bench_rill_load(const char *url, const rill_bench_config *cfg,
    uint64_t first, uint64_t count, int n_threads, double *secondsp, char *err,
    size_t n)
{
	loader    l;
	pthread_t tids[64];
	int       n_started = 0;
	uint64_t  t0        = rill_bench_now_ns();

	memset(&l, 0, sizeof(l));
	l.url = url;
	l.cfg = cfg;
	l.end = first + count;
	atomic_init(&l.next, first);
	atomic_init(&l.failed, 0);
	pthread_mutex_init(&l.err_mtx, NULL);
	if (n_threads > 64) {
		n_threads = 64;
	}
	for (int i = 0; i < n_threads; i++) {
		if (pthread_create(&tids[i], NULL, loader_main, &l) != 0) {
			break;
		}
		n_started++;
	}
	if (n_started == 0) {
		loader_fail(&l, "cannot create a thread");
	}
	for (int i = 0; i < n_started; i++) {
		pthread_join(tids[i], NULL);
	}
	pthread_mutex_destroy(&l.err_mtx);
	*secondsp = (double) (rill_bench_now_ns() - t0) / 1e9;
	if (atomic_load(&l.failed) != 0) {
		rill_bench_errf(err, n, "%s", l.err);
		return -1;
	}
	if (rill_bench_interrupted) {
		rill_bench_errf(err, n, "interrupted");
		return -1;
	}
	return 0;
}

// A counted run of single-key puts (the log records of the restore
// figure): in_flight slots on one handle, each a chain of
// rill_put_async calls started from the completion callback of the last,
// taking the next key index from a shared counter until none is left.
//
//   put_chain: take an index --(rill_put_async started)--> IN FLIGHT
//   IN FLIGHT --(put_cb)--> put_chain
//   put_chain --(no index left, a failure, or interrupted)--> ENDED
//
// Starting the call is the chain's last act on its slot, as in the async
// runner. The main thread waits until every chain has ended, closes the
// handle and frees the slots.
typedef struct put_count put_count;

typedef struct put_slot {
	put_count *run;
	uint64_t   rng;
	uint8_t    key[]; // cfg->key_size
} put_slot;

struct put_count {
	rill_client             *client;
	const rill_bench_config *cfg;
	uint64_t                 end; // one past the last key index
	atomic_uint_fast64_t     next;
	atomic_int               failed;
	pthread_mutex_t          mtx;
	pthread_cond_t           cv;
	int                      active; // chains not ended
	char                     err[256];
};

static void
put_count_fail(put_count *r, const char *msg)
{
	pthread_mutex_lock(&r->mtx);
	if (atomic_fetch_add(&r->failed, 1) == 0) {
		snprintf(r->err, sizeof(r->err), "%s", msg);
	}
	pthread_mutex_unlock(&r->mtx);
}

static void
put_chain_end(put_count *r)
{
	pthread_mutex_lock(&r->mtx);
	if (--r->active == 0) {
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mtx);
}

static void put_chain(put_slot *s);

static void
put_cb(void *arg, const rill_result *res)
{
	put_slot *s = arg;
	char      err[320];

	if (res->code != RILL_OK) {
		rill_bench_errf(err, sizeof(err), "rill put: %s: %s",
		    rill_status_name(res->code), res->message);
		put_count_fail(s->run, err);
	}
	put_chain(s);
}

static void
put_chain(put_slot *s)
{
	put_count               *r   = s->run;
	const rill_bench_config *cfg = r->cfg;
	char                     err[320];

	for (;;) {
		uint64_t i;
		int      rv;

		if (atomic_load(&r->failed) != 0 || rill_bench_interrupted ||
		    (i = atomic_fetch_add(&r->next, 1)) >= r->end) {
			put_chain_end(r);
			return;
		}
		rill_bench_key(s->key, cfg->key_size, i);
		rv = rill_put_async(r->client, s->key, cfg->key_size,
		    rill_bench_value(cfg, &s->rng), cfg->value_size, NULL,
		    put_cb, s);
		if (rv == RILL_OK) {
			return; // put_cb may already run: s is not ours now
		}
		call_error(rv, "put", err, sizeof(err));
		put_count_fail(r, err);
	}
}

int
rill_bench_rill_put_count(const char *url, const rill_bench_config *cfg,
    uint64_t first, uint64_t count, int in_flight, double *secondsp, char *err,
    size_t n)
{
	put_count  r;
	put_slot **slots;
	uint64_t   t0;
	int        n_slots = 0;

	if (in_flight < 1) {
		in_flight = 1;
	}
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.end = first + count;
	atomic_init(&r.next, first);
	atomic_init(&r.failed, 0);
	if ((slots = calloc((size_t) in_flight, sizeof(*slots))) == NULL) {
		rill_bench_errf(err, n, "out of memory");
		return -1;
	}
	if (open_client(&r.client, url, err, n) != 0) {
		free(slots);
		return -1;
	}
	for (; n_slots < in_flight; n_slots++) {
		if ((slots[n_slots] = calloc(
		         1, sizeof(put_slot) + cfg->key_size)) == NULL) {
			break;
		}
		slots[n_slots]->run = &r;
		slots[n_slots]->rng = rill_bench_seed(n_slots);
	}
	if (n_slots == 0) {
		rill_close(r.client);
		free(slots);
		rill_bench_errf(err, n, "out of memory");
		return -1;
	}
	pthread_mutex_init(&r.mtx, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.active = n_slots;
	t0       = rill_bench_now_ns();
	for (int i = 0; i < n_slots; i++) {
		put_chain(slots[i]);
	}
	pthread_mutex_lock(&r.mtx);
	while (r.active > 0 && !rill_bench_interrupted) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r.cv, &r.mtx, &ts);
	}
	pthread_mutex_unlock(&r.mtx);
	*secondsp = (double) (rill_bench_now_ns() - t0) / 1e9;
	// Interrupted: rill_close cancels what is still in flight, and the
	// chains end from their callbacks. Either way no callback runs once
	// it returns.
	rill_close(r.client);
	for (int i = 0; i < n_slots; i++) {
		free(slots[i]);
	}
	free(slots);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mtx);
	if (atomic_load(&r.failed) != 0) {
		rill_bench_errf(err, n, "%s", r.err);
		return -1;
	}
	if (rill_bench_interrupted) {
		rill_bench_errf(err, n, "interrupted");
		return -1;
	}
	return 0;
}
