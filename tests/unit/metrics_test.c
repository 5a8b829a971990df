// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// metrics_test: observations land in the bucket their bound names, the
// rendered text follows the Prometheus text format 0.0.4 (checked line by
// line by a small parser), numbers read back exactly, and four threads
// observing at once lose nothing.
#include <math.h>
#include <pthread.h>
#include <stdbool.h>

#include <rill/status.h>

#include "mem.h"
#include "metrics.h"
#include "test.h"

#include "prom_check.h"

// Tests ------------------------------------------------------------------

static void
test_bucket_edges(void)
{
	rill_histogram h;
	uint64_t       sum = 0;

	memset(&h, 0, sizeof(h));
	// A bound belongs to its own bucket (le is "at most"); one more
	// microsecond goes to the next.
	for (size_t i = 0; i < RILL_HISTOGRAM_BUCKETS; i++) {
		rill_histogram_observe(&h, rill_histogram_bounds_us[i]);
		rill_histogram_observe(&h, rill_histogram_bounds_us[i] + 1);
		sum += 2 * rill_histogram_bounds_us[i] + 1;
		if (i > 0) {
			CHECK(rill_histogram_bounds_us[i] >
			    rill_histogram_bounds_us[i - 1]);
		}
	}
	rill_histogram_observe(&h, 0);
	CHECK_EQ_INT(h.buckets[0], 2); // 0 and the first bound
	for (size_t i = 1; i < RILL_HISTOGRAM_BUCKETS; i++) {
		// bound[i-1] + 1 and bound[i], unless they are one apart.
		CHECK_EQ_INT(h.buckets[i], 2);
	}
	CHECK_EQ_INT(h.buckets[RILL_HISTOGRAM_BUCKETS], 1);
	CHECK_EQ_INT(h.count, 2 * RILL_HISTOGRAM_BUCKETS + 1);
	CHECK_EQ_INT(h.sum_us, sum);

	// The rendered buckets are cumulative, in seconds.
	rill_prom  p;
	prom_check pc;
	char       line[128];

	rill_prom_init(&p);
	rill_prom_histogram(&p, "t_seconds", "A test histogram.", &h);
	CHECK_EQ_INT(p.err, RILL_OK);
	if (!prom_check_text(&pc, p.buf, p.len)) {
		fprintf(stderr, "%s\n%s", pc.why, p.buf);
		rill_prom_fini(&p);
		CHECK(!"valid exposition text");
	}
	CHECK(strstr(p.buf, "t_seconds_bucket{le=\"1e-05\"} 2\n") != NULL);
	CHECK(strstr(p.buf, "t_seconds_bucket{le=\"0.001\"} 12\n") != NULL);
	CHECK(strstr(p.buf, "t_seconds_bucket{le=\"60\"} 32\n") != NULL);
	CHECK(strstr(p.buf, "t_seconds_bucket{le=\"+Inf\"} 33\n") != NULL);
	CHECK(strstr(p.buf, "t_seconds_count 33\n") != NULL);
	snprintf(line, sizeof(line), "t_seconds_sum ");
	CHECK(prom_find_sample(p.buf, line) == (double) sum / 1e6);
	rill_prom_fini(&p);
	CHECK(p.buf == NULL);
}

static void
test_render_is_valid_text(void)
{
	static rill_metrics m; // zero-initialised is ready
	rill_prom           p;
	prom_check          pc;
	bool                ok;

	memset(&m, 0, sizeof(m));
	m.writes                    = 12345;
	m.write_bytes               = 1u << 20;
	m.groups                    = 17;
	m.requests                  = 99;
	m.snapshots                 = 3;
	m.snapshot_last_duration_ms = 1500;
	for (uint64_t us = 1; us < 200000000; us = us * 3 + 1) {
		rill_histogram_observe(&m.write_latency, us);
		rill_histogram_observe(&m.fsync_latency, us / 2);
	}
	rill_histogram_observe(&m.snapshot_duration, 2500000);
	rill_metrics_error(&m, RILL_ERROR_IO);
	rill_metrics_error(&m, RILL_ERROR_IO);
	rill_metrics_error(&m, RILL_ERROR_CATALOG);

	rill_prom_init(&p);
	rill_metrics_render(&p, &m);
	// The handy gauges of the admin API go after, as it does.
	rill_prom_gauge(&p, "rill_last_seq", "Last seq.", 9007199254740991.0);
	rill_prom_gauge(&p, "t_half", "A fraction.", 0.5);
	rill_prom_gauge(&p, "t_tenth", "A fraction.", 0.1);
	rill_prom_gauge(&p, "t_neg", "Negative.", -3);
	rill_prom_gauge(&p, "t_big", "Big.", 1e300);
	rill_prom_gauge(&p, "t_nan", "Not a number.", NAN);
	rill_prom_gauge(&p, "t_inf", "Infinite.", INFINITY);
	rill_prom_counter(&p, "t_escape_total", "back\\slash\nnewline", 0);
	CHECK_EQ_INT(p.err, RILL_OK);
	CHECK_EQ_INT(strlen(p.buf), p.len);
	ok = prom_check_text(&pc, p.buf, p.len);
	if (!ok) {
		fprintf(stderr, "%s\n%s", pc.why, p.buf);
	}
	CHECK(ok);

	CHECK(prom_find_sample(p.buf, "rill_writes_total ") == 12345);
	CHECK(prom_find_sample(p.buf, "rill_write_bytes_total ") == 1048576);
	CHECK(prom_find_sample(p.buf, "rill_write_groups_total ") == 17);
	CHECK(prom_find_sample(p.buf, "rill_requests_total ") == 99);
	CHECK(prom_find_sample(p.buf, "rill_snapshots_total ") == 3);
	CHECK(prom_find_sample(
	          p.buf, "rill_snapshot_last_duration_seconds ") == 1.5);
	CHECK(prom_find_sample(p.buf, "rill_snapshot_duration_seconds_sum ") ==
	    2.5);
	CHECK(prom_find_sample(p.buf, "rill_errors_total{kind=\"io\"} ") == 2);
	CHECK(prom_find_sample(
	          p.buf, "rill_errors_total{kind=\"catalog\"} ") == 1);
	CHECK(prom_find_sample(
	          p.buf, "rill_errors_total{kind=\"corrupt\"} ") == 0);
	CHECK(prom_find_sample(p.buf, "rill_write_latency_seconds_count ") ==
	    (double) m.write_latency.count);
	CHECK(strstr(p.buf, "\nrill_last_seq 9007199254740991\n") != NULL);
	CHECK(strstr(p.buf, "\nt_half 0.5\n") != NULL);
	CHECK(strstr(p.buf, "\nt_tenth 0.1\n") != NULL);
	CHECK(strstr(p.buf, "\nt_neg -3\n") != NULL);
	CHECK(strstr(p.buf, "\nt_big 1e+300\n") != NULL);
	CHECK(strstr(p.buf, "\nt_nan NaN\n") != NULL);
	CHECK(strstr(p.buf, "\nt_inf +Inf\n") != NULL);
	CHECK(strstr(p.buf,
	          "# HELP t_escape_total back\\\\slash\\nnewline\n") != NULL);
	// Every family has exactly one TYPE: the checker refuses a second.
	CHECK(pc.n >= 17);
	rill_prom_fini(&p);
}

static void
test_out_of_memory_sets_err(void)
{
	static rill_metrics m;
	rill_prom           p;

	memset(&m, 0, sizeof(m));
	for (int n = 1; n <= 2; n++) {
		rill_prom_init(&p);
		if (n > 1) {
			// Grow past the first buffer so a later growth fails.
			for (int i = 0; i < 200; i++) {
				rill_prom_counter(&p, "t_total", "pad", 1);
			}
		}
		rill_mem_fail_after(1);
		rill_metrics_render(&p, &m);
		for (int i = 0; i < 200; i++) {
			rill_prom_counter(&p, "t_total", "pad", 1);
		}
		rill_mem_fail_after(0);
		CHECK_EQ_INT(p.err, RILL_ENOMEM);
		// What was appended before stays whole and terminated.
		CHECK(p.buf == NULL || strlen(p.buf) == p.len);
		rill_prom_fini(&p);
	}
}

// Concurrency --------------------------------------------------------------

#define N_THREADS 4
#define N_PER_THREAD 100000

typedef struct worker {
	pthread_t     thread;
	rill_metrics *m;
	uint64_t      seed;
	uint64_t      sum;
} worker;

static void *
observe_main(void *arg)
{
	worker  *w = arg;
	uint64_t x = w->seed;

	for (int i = 0; i < N_PER_THREAD; i++) {
		// xorshift: values spread over every bucket, +Inf included.
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t us = x % 100000000;
		rill_histogram_observe(&w->m->write_latency, us);
		atomic_fetch_add_explicit(
		    &w->m->writes, 1, memory_order_relaxed);
		rill_metrics_error(w->m, RILL_ERROR_IO);
		w->sum += us;
	}
	return NULL;
}

typedef struct scraper {
	pthread_t     thread;
	rill_metrics *m;
	atomic_bool  *stop;
	int           n_scrapes, n_bad;
	char          why[256];
} scraper;

static void *
scrape_main(void *arg)
{
	scraper   *s = arg;
	prom_check pc;

	while (!atomic_load(s->stop) || s->n_scrapes == 0) {
		rill_prom p;
		rill_prom_init(&p);
		rill_metrics_render(&p, s->m);
		if (p.err != RILL_OK || !prom_check_text(&pc, p.buf, p.len)) {
			if (s->n_bad++ == 0) {
				snprintf(s->why, sizeof(s->why), "%s", pc.why);
			}
		}
		rill_prom_fini(&p);
		s->n_scrapes++;
	}
	return NULL;
}

static void
test_concurrent_observe_adds_up(void)
{
	static rill_metrics m;
	worker              w[N_THREADS];
	scraper             sc;
	atomic_bool         stop = false;
	uint64_t            sum = 0, total = 0;

	memset(&m, 0, sizeof(m));
	memset(&sc, 0, sizeof(sc));
	sc.m    = &m;
	sc.stop = &stop;
	CHECK_EQ_INT(pthread_create(&sc.thread, NULL, scrape_main, &sc), 0);
	for (int i = 0; i < N_THREADS; i++) {
		w[i] = (worker) { .m = &m,
			.seed        = 0x9e3779b97f4a7c15u * (i + 1) };
		CHECK_EQ_INT(
		    pthread_create(&w[i].thread, NULL, observe_main, &w[i]),
		    0);
	}
	for (int i = 0; i < N_THREADS; i++) {
		pthread_join(w[i].thread, NULL);
		sum += w[i].sum;
	}
	atomic_store(&stop, true);
	pthread_join(sc.thread, NULL);

	for (size_t i = 0; i <= RILL_HISTOGRAM_BUCKETS; i++) {
		total += m.write_latency.buckets[i];
	}
	CHECK_EQ_INT(total, N_THREADS * N_PER_THREAD);
	CHECK_EQ_INT(m.write_latency.count, N_THREADS * N_PER_THREAD);
	CHECK_EQ_INT(m.write_latency.sum_us, sum);
	CHECK_EQ_INT(m.writes, N_THREADS * N_PER_THREAD);
	CHECK_EQ_INT(m.errors[RILL_ERROR_IO], N_THREADS * N_PER_THREAD);
	if (sc.n_bad != 0) {
		fprintf(stderr, "%d of %d scrapes bad: %s\n", sc.n_bad,
		    sc.n_scrapes, sc.why);
	}
	CHECK_EQ_INT(sc.n_bad, 0);
	CHECK(sc.n_scrapes > 0);
}

RILL_TEST_MAIN_BEGIN
RILL_TEST_RUN(test_bucket_edges);
RILL_TEST_RUN(test_render_is_valid_text);
RILL_TEST_RUN(test_out_of_memory_sets_err);
RILL_TEST_RUN(test_concurrent_observe_adds_up);
RILL_TEST_MAIN_END
