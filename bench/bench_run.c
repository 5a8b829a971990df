// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_run: the runner shared by every target, with the latency
// histogram, keys, values and random numbers. In threads mode each client
// thread loops on its target's step until the phase turns to STOP; in
// async mode each slot's callbacks start one call after another until
// then. Either way a call counts when it completes while the phase is
// MEASURE, so the rate is completions inside the window divided by the
// window's length.
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

volatile sig_atomic_t rill_bench_interrupted;

// The phases of a run, set by the main thread only:
//
//   WARMUP --(warmup_s)--> MEASURE --(duration_s)--> STOP
//
// Client threads wait at the gate once their thread_open returned, so no
// thread connects while another is being measured. An async run connects
// everything in async_open before any slot starts.
enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };

// DRAIN_MS bounds the wait for the calls still in flight after the window:
// above the SDK's 10 s deadline and the echo's 10 s timeout, so a call
// only misses it when something hangs. DRAIN_INTERRUPTED_MS after Ctrl-C.
#define DRAIN_MS 15000
#define DRAIN_INTERRUPTED_MS 1000

// rill_bench_async is what an async run's slots share: read on the hot
// path (phase) or written once per slot (n_active), so no lock.
struct rill_bench_async {
	atomic_int phase;
	atomic_int n_active; // slots not retired yet
};

struct start_gate {
	pthread_mutex_t mtx;
	pthread_cond_t  cv;
	int             n_ready; // threads whose thread_open returned
	bool            open;    // the main thread let them go
};

typedef struct client {
	const rill_bench_target *target;
	const rill_bench_config *cfg;
	int                      idx;
	struct start_gate       *gate;
	atomic_int              *phase;
	int                      open_rv;
	uint64_t                 ops;
	uint64_t                 errors;
	char                     first_error[256];
	rill_bench_hist          hist;
} client;

uint64_t
rill_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

bool
rill_bench_sleep_ms(uint64_t ms)
{
	uint64_t end = rill_bench_now_ns() + ms * 1000000u;
	uint64_t now;

	// Sleep in slices so that Ctrl-C ends a 5 s window at once.
	while (!rill_bench_interrupted && (now = rill_bench_now_ns()) < end) {
		uint64_t        left = end - now;
		struct timespec ts;

		if (left > 50000000u) {
			left = 50000000u;
		}
		ts.tv_sec  = 0;
		ts.tv_nsec = (long) left;
		nanosleep(&ts, NULL);
	}
	return !rill_bench_interrupted;
}

uint64_t
rill_bench_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

uint64_t
rill_bench_seed(int idx)
{
	uint64_t s = rill_bench_now_ns() ^ ((uint64_t) idx << 48);

	return rill_bench_rand(&s);
}

void
rill_bench_key(uint8_t *key, size_t key_size, uint64_t index)
{
	static const char alphabet[] = "0123456789"
	                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                               "abcdefghijklmnopqrstuvwxyz-_";
	uint64_t          state      = index;
	uint64_t          bits       = 0;
	int               n_bits     = 0;

	// 6 bits a byte from the hash chain of index: 96 bits for a 16-byte
	// key, so a million keys do not collide in practice.
	for (size_t i = 0; i < key_size; i++) {
		if (n_bits < 6) {
			bits   = rill_bench_rand(&state);
			n_bits = 64;
		}
		key[i] = (uint8_t) alphabet[bits & 63];
		bits >>= 6;
		n_bits -= 6;
	}
}

void
rill_bench_seq_key(uint8_t *key, size_t key_size, int idx, uint64_t seq)
{
	// The 64 characters of rill_bench_key, in ASCII order.
	static const char alphabet[] = "-0123456789"
	                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
	                               "abcdefghijklmnopqrstuvwxyz";

	key[0] = (uint8_t) alphabet[((unsigned) idx >> 6) & 63];
	key[1] = (uint8_t) alphabet[(unsigned) idx & 63];
	// Fixed width: digits past the 64 bits of seq are zeros ('-').
	for (size_t i = key_size; i > 2; i--) {
		key[i - 1] = (uint8_t) alphabet[seq & 63];
		seq >>= 6;
	}
}

void
rill_bench_write_key(const rill_bench_config *cfg, uint8_t *key, int idx,
    uint64_t *rng, uint64_t *seq)
{
	if (cfg->key_order == RILL_BENCH_KEYS_SEQUENTIAL) {
		rill_bench_seq_key(key, cfg->key_size, idx, (*seq)++);
	} else {
		rill_bench_key(key, cfg->key_size, rill_bench_rand(rng));
	}
}

const char *
rill_bench_key_order_name(rill_bench_key_order o)
{
	return o == RILL_BENCH_KEYS_SEQUENTIAL ? "sequential" : "random";
}

const uint8_t *
rill_bench_value(const rill_bench_config *cfg, uint64_t *rng)
{
	return cfg->value_pool + rill_bench_rand(rng) % cfg->pool_span;
}

size_t
rill_bench_load_chunk(const rill_bench_config *cfg)
{
	size_t per_key = cfg->key_size + cfg->value_size + 8;
	size_t chunk   = (1u << 20) / per_key;

	if (chunk > 1000) {
		chunk = 1000;
	}
	return chunk == 0 ? 1 : chunk;
}

void
rill_bench_errf(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

const char *
rill_bench_workload_name(rill_bench_workload w)
{
	switch (w) {
	case RILL_BENCH_PUT:
		return "put";
	case RILL_BENCH_GET:
		return "get";
	case RILL_BENCH_BATCH:
		return "batch";
	case RILL_BENCH_SCAN:
		return "scan";
	default:
		return "?";
	}
}

const char *
rill_bench_mode_name(rill_bench_mode m)
{
	return m == RILL_BENCH_ASYNC ? "async" : "threads";
}

static int
bucket_of(uint64_t ns)
{
	int e;

	if (ns < 128) {
		return (int) ns;
	}
	e = 63 - __builtin_clzll(ns); // 7..63
	return 128 + (e - 7) * 64 + (int) ((ns >> (e - 6)) & 63);
}

// bucket_mid returns the middle of the values bucket b holds.
static uint64_t
bucket_mid(int b)
{
	int      e, sub;
	uint64_t low, width;

	if (b < 128) {
		return (uint64_t) b;
	}
	e     = (b - 128) / 64 + 7;
	sub   = (b - 128) % 64;
	low   = (uint64_t) (64 + sub) << (e - 6);
	width = (uint64_t) 1 << (e - 6);
	return low + (width - 1) / 2;
}

void
rill_bench_hist_add(rill_bench_hist *h, uint64_t ns)
{
	h->counts[bucket_of(ns)]++;
	h->n++;
	if (ns > h->max_ns) {
		h->max_ns = ns;
	}
}

void
rill_bench_hist_merge(rill_bench_hist *into, const rill_bench_hist *h)
{
	for (int b = 0; b < RILL_BENCH_HIST_BUCKETS; b++) {
		into->counts[b] += h->counts[b];
	}
	into->n += h->n;
	if (h->max_ns > into->max_ns) {
		into->max_ns = h->max_ns;
	}
}

uint64_t
rill_bench_hist_percentile(const rill_bench_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->n == 0) {
		return 0;
	}
	rank = (uint64_t) ceil(q * (double) h->n);
	if (rank < 1) {
		rank = 1;
	}
	for (int b = 0; b < RILL_BENCH_HIST_BUCKETS; b++) {
		seen += h->counts[b];
		if (seen >= rank) {
			uint64_t mid = bucket_mid(b);

			// The top bucket's middle can lie above the largest
			// sample; never report more than was seen.
			return mid > h->max_ns ? h->max_ns : mid;
		}
	}
	return h->max_ns;
}

static void *
client_main(void *p)
{
	client *c   = p;
	void   *thr = NULL;
	char    err[256];

	c->open_rv = c->target->thread_open(c->target->arg, c->cfg, c->idx,
	    &thr, c->first_error, sizeof(c->first_error));
	pthread_mutex_lock(&c->gate->mtx);
	c->gate->n_ready++;
	pthread_cond_broadcast(&c->gate->cv);
	while (!c->gate->open) {
		pthread_cond_wait(&c->gate->cv, &c->gate->mtx);
	}
	pthread_mutex_unlock(&c->gate->mtx);
	if (c->open_rv != 0) {
		return NULL;
	}
	while (atomic_load(c->phase) != PHASE_STOP) {
		uint64_t t0 = rill_bench_now_ns();
		int      rv = c->target->step(thr, err, sizeof(err));
		uint64_t t1 = rill_bench_now_ns();

		if (rv != 0) {
			if (atomic_load(c->phase) == PHASE_MEASURE &&
			    c->errors++ == 0) {
				snprintf(c->first_error,
				    sizeof(c->first_error), "%s", err);
			}
			// A dead server fails each call at once: do not spin.
			rill_bench_sleep_ms(1);
			continue;
		}
		if (atomic_load(c->phase) != PHASE_MEASURE) {
			continue;
		}
		c->ops++;
		rill_bench_hist_add(&c->hist, t1 - t0);
	}
	c->target->thread_close(thr);
	return NULL;
}

static int
run_threads(const rill_bench_target *target, const rill_bench_config *cfg,
    rill_bench_result *res)
{
	struct start_gate gate = { .n_ready = 0, .open = false };
	atomic_int        phase;
	client           *clients;
	pthread_t        *tids;
	int               n = cfg->clients, n_started = 0, rv = 0;
	uint64_t          t0, t1;

	memset(res, 0, sizeof(*res));
	clients = calloc((size_t) n, sizeof(*clients));
	tids    = calloc((size_t) n, sizeof(*tids));
	if (clients == NULL || tids == NULL) {
		snprintf(res->first_error, sizeof(res->first_error),
		    "out of memory");
		free(clients);
		free(tids);
		return -1;
	}
	atomic_init(&phase, PHASE_WARMUP);
	pthread_mutex_init(&gate.mtx, NULL);
	pthread_cond_init(&gate.cv, NULL);
	for (int i = 0; i < n; i++) {
		clients[i].target = target;
		clients[i].cfg    = cfg;
		clients[i].idx    = i;
		clients[i].gate   = &gate;
		clients[i].phase  = &phase;
		if (pthread_create(&tids[i], NULL, client_main, &clients[i]) !=
		    0) {
			break;
		}
		n_started++;
	}
	for (int i = n_started; i < n; i++) {
		clients[i].open_rv = -1;
		snprintf(clients[i].first_error,
		    sizeof(clients[i].first_error), "cannot create a thread");
	}
	pthread_mutex_lock(&gate.mtx);
	while (gate.n_ready < n_started) {
		pthread_cond_wait(&gate.cv, &gate.mtx);
	}
	gate.open = true;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mtx);
	for (int i = 0; i < n; i++) {
		if (clients[i].open_rv != 0) {
			snprintf(res->first_error, sizeof(res->first_error),
			    "client %d: %s", i, clients[i].first_error);
			rv = -1;
			break;
		}
	}
	if (rv == 0 && rill_bench_sleep_ms((uint64_t) (cfg->warmup_s * 1e3))) {
		atomic_store(&phase, PHASE_MEASURE);
		t0 = rill_bench_now_ns();
		rill_bench_sleep_ms((uint64_t) (cfg->duration_s * 1e3));
		atomic_store(&phase, PHASE_STOP);
		t1             = rill_bench_now_ns();
		res->elapsed_s = (double) (t1 - t0) / 1e9;
	}
	atomic_store(&phase, PHASE_STOP);
	for (int i = 0; i < n_started; i++) {
		pthread_join(tids[i], NULL);
	}
	pthread_cond_destroy(&gate.cv);
	pthread_mutex_destroy(&gate.mtx);
	if (rv == 0 && rill_bench_interrupted) {
		snprintf(
		    res->first_error, sizeof(res->first_error), "interrupted");
		rv = -1;
	}
	for (int i = 0; rv == 0 && i < n; i++) {
		res->ops += clients[i].ops;
		if (clients[i].errors > 0 && res->errors == 0) {
			snprintf(res->first_error, sizeof(res->first_error),
			    "%s", clients[i].first_error);
		}
		res->errors += clients[i].errors;
		rill_bench_hist_merge(&res->hist, &clients[i].hist);
	}
	if (rv == 0) {
		res->done      = true;
		res->ops_per_s = res->elapsed_s > 0
		    ? (double) res->ops / res->elapsed_s
		    : 0;
	}
	free(clients);
	free(tids);
	return rv;
}

bool
rill_bench_slot_start(rill_bench_slot *s)
{
	if (atomic_load(&s->run->phase) == PHASE_STOP) {
		// The last act on s: the runner may read and free it as soon
		// as every slot got here (the seq_cst decrement publishes the
		// slot's counters to it).
		atomic_fetch_sub(&s->run->n_active, 1);
		return false;
	}
	s->t0 = rill_bench_now_ns();
	return true;
}

bool
rill_bench_slot_done(rill_bench_slot *s, const char *err)
{
	uint64_t t1    = rill_bench_now_ns();
	int      phase = atomic_load(&s->run->phase);

	if (err != NULL) {
		if (phase == PHASE_MEASURE && s->errors++ == 0) {
			snprintf(
			    s->first_error, sizeof(s->first_error), "%s", err);
		}
		// Once the run stops, go straight on to retire: no pause
		// (whose aio may be stopped already) after a cancelled call.
		return phase == PHASE_STOP;
	}
	if (phase == PHASE_MEASURE) {
		s->ops++;
		rill_bench_hist_add(&s->hist, t1 - s->t0);
	}
	return true;
}

// pause_ms sleeps without regard to interruption (the drain must go on).
static void
pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
		.tv_nsec               = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

// run_async runs target with one slot per client: the slots keep
// cfg->clients calls in flight from their callbacks; this thread only sets
// the phases, then waits for the slots to retire.
static int
run_async(const rill_bench_target *target, const rill_bench_config *cfg,
    rill_bench_result *res)
{
	struct rill_bench_async run;
	rill_bench_slot        *slots;
	void                   *state = NULL;
	int                     n     = cfg->clients, n_stuck;
	uint64_t                t0, t1, drain_end;
	char                    err[256];

	memset(res, 0, sizeof(*res));
	if ((slots = calloc((size_t) n, sizeof(*slots))) == NULL) {
		snprintf(res->first_error, sizeof(res->first_error),
		    "out of memory");
		return -1;
	}
	atomic_init(&run.phase, PHASE_WARMUP);
	atomic_init(&run.n_active, n);
	for (int i = 0; i < n; i++) {
		slots[i].run = &run;
		slots[i].idx = i;
	}
	err[0] = '\0';
	if (target->async_open(
	        target->arg, cfg, slots, &state, err, sizeof(err)) != 0) {
		snprintf(
		    res->first_error, sizeof(res->first_error), "%s", err);
		free(slots);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		target->async_start(state, i);
	}
	if (rill_bench_sleep_ms((uint64_t) (cfg->warmup_s * 1e3))) {
		atomic_store(&run.phase, PHASE_MEASURE);
		t0 = rill_bench_now_ns();
		rill_bench_sleep_ms((uint64_t) (cfg->duration_s * 1e3));
		atomic_store(&run.phase, PHASE_STOP);
		t1             = rill_bench_now_ns();
		res->elapsed_s = (double) (t1 - t0) / 1e9;
	}
	atomic_store(&run.phase, PHASE_STOP);

	// Drain: each slot retires when its call in flight completes.
	drain_end = rill_bench_now_ns() +
	    (rill_bench_interrupted ? DRAIN_INTERRUPTED_MS : DRAIN_MS) *
	        1000000ull;
	while (atomic_load(&run.n_active) > 0 &&
	    rill_bench_now_ns() < drain_end) {
		pause_ms(2);
	}
	n_stuck = atomic_load(&run.n_active);
	target->async_close(state); // cancels the stragglers, if any

	if (rill_bench_interrupted) {
		snprintf(
		    res->first_error, sizeof(res->first_error), "interrupted");
		free(slots);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		res->ops += slots[i].ops;
		if (slots[i].errors > 0 && res->errors == 0) {
			snprintf(res->first_error, sizeof(res->first_error),
			    "%s", slots[i].first_error);
		}
		res->errors += slots[i].errors;
		rill_bench_hist_merge(&res->hist, &slots[i].hist);
	}
	if (n_stuck > 0) {
		// Calls that hang are failures, though outside the window.
		if (res->errors == 0) {
			snprintf(res->first_error, sizeof(res->first_error),
			    "%d calls still in flight %.1f s after the window",
			    n_stuck, DRAIN_MS / 1e3);
		}
		res->errors += (uint64_t) n_stuck;
	}
	res->done = true;
	res->ops_per_s =
	    res->elapsed_s > 0 ? (double) res->ops / res->elapsed_s : 0;
	free(slots);
	return 0;
}

int
rill_bench_run(const rill_bench_target *target, const rill_bench_config *cfg,
    rill_bench_result *res)
{
	if (cfg->mode == RILL_BENCH_ASYNC && target->async_open != NULL) {
		return run_async(target, cfg, res);
	}
	return run_threads(target, cfg, res);
}
