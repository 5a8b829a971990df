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

// A small checker of the text format ---------------------------------------

#define MAX_FAMILIES 64

typedef struct family {
	char name[128];
	char type[16];
	bool help, closed;
	// Histograms: the buckets seen so far.
	int      n_buckets;
	double   last_le;
	uint64_t last_bucket, inf_bucket, count;
	bool     has_inf, has_sum, has_count;
} family;

typedef struct prom_check {
	family  fams[MAX_FAMILIES];
	int     n;
	family *current; // the family of the previous line
	int     line;
	char    why[256];
} prom_check;

static bool
name_ok(const char *s, size_t n)
{
	if (n == 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c     = s[i];
		bool alpha = (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
			return false;
		}
	}
	return true;
}

static family *
find_family(prom_check *pc, const char *name, size_t n)
{
	for (int i = 0; i < pc->n; i++) {
		if (strlen(pc->fams[i].name) == n &&
		    memcmp(pc->fams[i].name, name, n) == 0) {
			return &pc->fams[i];
		}
	}
	return NULL;
}

static bool
fail(prom_check *pc, const char *why)
{
	snprintf(pc->why, sizeof(pc->why), "line %d: %s", pc->line, why);
	return false;
}

// enter_family makes f the current family; a family's lines must be
// contiguous.
static bool
enter_family(prom_check *pc, family *f)
{
	if (pc->current == f) {
		return true;
	}
	if (f->closed) {
		return fail(pc, "a family's lines are not together");
	}
	if (pc->current != NULL) {
		pc->current->closed = true;
	}
	pc->current = f;
	return true;
}

// parse_value reads a sample value in full: a float, NaN or +-Inf.
static bool
parse_value(const char *s, size_t n, double *vp)
{
	char  buf[64];
	char *end;

	if (n == 0 || n >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	*vp    = strtod(buf, &end);
	return *end == '\0';
}

static bool
check_comment(prom_check *pc, const char *s, size_t n)
{
	const char *name, *rest;
	size_t      nlen;
	family     *f;
	bool        is_help;

	if (n >= 7 && memcmp(s, "# HELP ", 7) == 0) {
		is_help = true;
	} else if (n >= 7 && memcmp(s, "# TYPE ", 7) == 0) {
		is_help = false;
	} else {
		return true; // a plain comment
	}
	name = s + 7;
	rest = memchr(name, ' ', n - 7);
	if (rest == NULL) {
		return fail(pc, "HELP or TYPE without text");
	}
	nlen = (size_t) (rest - name);
	if (!name_ok(name, nlen) || nlen >= sizeof(f->name)) {
		return fail(pc, "bad metric name");
	}
	rest++;
	if ((f = find_family(pc, name, nlen)) == NULL) {
		if (pc->n == MAX_FAMILIES) {
			return fail(pc, "too many families");
		}
		f = &pc->fams[pc->n++];
		memcpy(f->name, name, nlen);
	}
	if (!enter_family(pc, f)) {
		return false;
	}
	if (is_help) {
		if (f->help) {
			return fail(pc, "second HELP");
		}
		f->help = true;
		return true;
	}
	size_t tlen = n - (size_t) (rest - s);
	if (f->type[0] != '\0') {
		return fail(pc, "second TYPE");
	}
	if (f->n_buckets > 0 || f->has_count || f->has_sum) {
		return fail(pc, "TYPE after samples");
	}
	if (tlen >= sizeof(f->type)) {
		return fail(pc, "bad type");
	}
	memcpy(f->type, rest, tlen);
	if (strcmp(f->type, "counter") != 0 && strcmp(f->type, "gauge") != 0 &&
	    strcmp(f->type, "histogram") != 0 &&
	    strcmp(f->type, "summary") != 0 &&
	    strcmp(f->type, "untyped") != 0) {
		return fail(pc, "unknown type");
	}
	return true;
}

// check_labels reads {name="value",...} at s; *lep gets the value of le.
static bool
check_labels(
    prom_check *pc, const char **sp, const char *end, char *le, size_t le_size)
{
	const char *s = *sp + 1;

	le[0] = '\0';
	while (s < end && *s != '}') {
		const char *ln = s;
		char        val[128];
		size_t      vn = 0;

		while (s < end && *s != '=') {
			s++;
		}
		if (s >= end || !name_ok(ln, (size_t) (s - ln)) ||
		    s + 1 >= end || s[1] != '"') {
			return fail(pc, "bad label");
		}
		bool is_le = s - ln == 2 && memcmp(ln, "le", 2) == 0;
		for (s += 2; s < end && *s != '"'; s++) {
			if (*s == '\\') {
				s++;
				if (s >= end ||
				    (*s != '\\' && *s != '"' && *s != 'n')) {
					return fail(pc, "bad escape");
				}
			}
			if (vn + 1 < sizeof(val)) {
				val[vn++] = *s;
			}
		}
		if (s >= end) {
			return fail(pc, "unterminated label value");
		}
		val[vn] = '\0';
		if (is_le) {
			snprintf(le, le_size, "%s", val);
		}
		s++;
		if (s < end && *s == ',') {
			s++;
		}
	}
	if (s >= end) {
		return fail(pc, "unterminated labels");
	}
	*sp = s + 1;
	return true;
}

static bool
ends_with(const char *s, size_t n, const char *suffix, size_t *stemp)
{
	size_t k = strlen(suffix);
	if (n > k && memcmp(s + n - k, suffix, k) == 0) {
		*stemp = n - k;
		return true;
	}
	return false;
}

static bool
check_sample(prom_check *pc, const char *s, size_t n)
{
	const char *end = s + n, *p = s, *vs;
	char        le[64];
	family     *f;
	size_t      nlen, stem;
	double      v;

	while (p < end && *p != '{' && *p != ' ') {
		p++;
	}
	nlen = (size_t) (p - s);
	if (!name_ok(s, nlen)) {
		return fail(pc, "bad sample name");
	}
	le[0] = '\0';
	if (p < end && *p == '{' &&
	    !check_labels(pc, &p, end, le, sizeof(le))) {
		return false;
	}
	if (p >= end || *p != ' ') {
		return fail(pc, "no value");
	}
	vs = ++p;
	while (p < end && *p != ' ') {
		p++;
	}
	if (!parse_value(vs, (size_t) (p - vs), &v)) {
		return fail(pc, "value does not parse");
	}
	if (p < end) { // an optional timestamp
		double ts;
		if (!parse_value(p + 1, (size_t) (end - p - 1), &ts)) {
			return fail(pc, "timestamp does not parse");
		}
	}
	// The family: the name itself, or a histogram's _bucket/_sum/_count.
	f = find_family(pc, s, nlen);
	if (f == NULL || f->type[0] == '\0') {
		if ((ends_with(s, nlen, "_bucket", &stem) ||
		        ends_with(s, nlen, "_sum", &stem) ||
		        ends_with(s, nlen, "_count", &stem)) &&
		    (f = find_family(pc, s, stem)) != NULL &&
		    strcmp(f->type, "histogram") == 0) {
			// a histogram's sample
		} else {
			return fail(
			    pc, "sample without a TYPE line before it");
		}
	} else if (strcmp(f->type, "histogram") == 0) {
		return fail(pc, "bare sample of a histogram");
	}
	if (!f->help) {
		return fail(pc, "family without HELP");
	}
	if (!enter_family(pc, f)) {
		return false;
	}
	if (strcmp(f->type, "counter") == 0 && !(v >= 0)) {
		return fail(pc, "negative counter");
	}
	if (strcmp(f->type, "histogram") != 0) {
		return true;
	}
	if (ends_with(s, nlen, "_bucket", &stem)) {
		double lev;
		if (le[0] == '\0' || !parse_value(le, strlen(le), &lev)) {
			return fail(pc, "bucket without a valid le");
		}
		if (f->has_inf || f->has_sum || f->has_count) {
			return fail(pc, "bucket after +Inf, _sum or _count");
		}
		if (f->n_buckets > 0 && !(lev > f->last_le)) {
			return fail(pc, "le not increasing");
		}
		if (v < 0 || v != (double) (uint64_t) v) {
			return fail(pc, "bucket count not a whole number");
		}
		if (f->n_buckets > 0 && (uint64_t) v < f->last_bucket) {
			return fail(pc, "buckets not cumulative");
		}
		f->n_buckets++;
		f->last_le     = lev;
		f->last_bucket = (uint64_t) v;
		if (strcmp(le, "+Inf") == 0) {
			f->has_inf    = true;
			f->inf_bucket = (uint64_t) v;
		}
	} else if (ends_with(s, nlen, "_sum", &stem)) {
		f->has_sum = true;
	} else {
		f->has_count = true;
		f->count     = (uint64_t) v;
	}
	return true;
}

// prom_check_text checks text by the rules; false with pc->why on the
// first problem.
static bool
prom_check_text(prom_check *pc, const char *text, size_t len)
{
	const char *s = text, *end = text + len;

	memset(pc, 0, sizeof(*pc));
	if (len == 0 || text[len - 1] != '\n') {
		return fail(pc, "the text does not end with a newline");
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t) (end - s));
		size_t      n  = (size_t) (nl - s);
		bool        ok;

		pc->line++;
		if (n == 0) {
			ok = true;
		} else if (s[0] == '#') {
			ok = check_comment(pc, s, n);
		} else {
			ok = check_sample(pc, s, n);
		}
		if (!ok) {
			return false;
		}
		s = nl + 1;
	}
	for (int i = 0; i < pc->n; i++) {
		family *f = &pc->fams[i];
		if (f->type[0] == '\0') {
			snprintf(pc->why, sizeof(pc->why), "%s has no TYPE",
			    f->name);
			return false;
		}
		if (strcmp(f->type, "histogram") != 0) {
			continue;
		}
		if (!f->has_inf || !f->has_sum || !f->has_count ||
		    f->inf_bucket != f->count) {
			snprintf(pc->why, sizeof(pc->why),
			    "histogram %s: +Inf bucket %" PRIu64
			    " vs _count %" PRIu64 " (sum %d count %d)",
			    f->name, f->inf_bucket, f->count, f->has_sum,
			    f->has_count);
			return false;
		}
	}
	return true;
}

// find_sample returns the value of the sample line that starts with
// prefix ("name{labels} "), or -1.
static double
find_sample(const char *text, const char *prefix)
{
	size_t      n = strlen(prefix);
	const char *s = text;

	while (s != NULL && *s != '\0') {
		if (strncmp(s, prefix, n) == 0) {
			return strtod(s + n, NULL);
		}
		s = strchr(s, '\n');
		if (s != NULL) {
			s++;
		}
	}
	return -1;
}

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
	CHECK(find_sample(p.buf, line) == (double) sum / 1e6);
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

	CHECK(find_sample(p.buf, "rill_writes_total ") == 12345);
	CHECK(find_sample(p.buf, "rill_write_bytes_total ") == 1048576);
	CHECK(find_sample(p.buf, "rill_write_groups_total ") == 17);
	CHECK(find_sample(p.buf, "rill_requests_total ") == 99);
	CHECK(find_sample(p.buf, "rill_snapshots_total ") == 3);
	CHECK(
	    find_sample(p.buf, "rill_snapshot_last_duration_seconds ") == 1.5);
	CHECK(
	    find_sample(p.buf, "rill_snapshot_duration_seconds_sum ") == 2.5);
	CHECK(find_sample(p.buf, "rill_errors_total{kind=\"io\"} ") == 2);
	CHECK(find_sample(p.buf, "rill_errors_total{kind=\"catalog\"} ") == 1);
	CHECK(find_sample(p.buf, "rill_errors_total{kind=\"corrupt\"} ") == 0);
	CHECK(find_sample(p.buf, "rill_write_latency_seconds_count ") ==
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
