// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// metrics: relaxed atomic counters and fixed-bucket histograms, and the
// Prometheus text format they are rendered in. Updates never lock or
// allocate; rendering reads each counter once, so a scrape taken during
// updates is a mix of moments, but a histogram's _count is always the sum
// of its buckets (both are computed from the same reads).
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill/status.h>

#include "mem.h"

// From 10 µs (a cached write) to a minute (a large snapshot): fsyncs near
// 400 µs and group commits fall in the fine buckets at the low end.
const uint64_t rill_histogram_bounds_us[RILL_HISTOGRAM_BUCKETS] = {
	10,
	50,
	100,
	250,
	500,
	1000,
	2500,
	5000,
	10000,
	25000,
	50000,
	100000,
	500000,
	1000000,
	10000000,
	60000000,
};

static const char *const error_kind_labels[RILL_ERROR_KIND_COUNT] = {
#define RILL_ERROR_KIND_LABEL(name, label) [RILL_ERROR_##name] = label,
	RILL_ERROR_KINDS(RILL_ERROR_KIND_LABEL)
#undef RILL_ERROR_KIND_LABEL
};

// Updates ----------------------------------------------------------------

void
rill_histogram_observe(rill_histogram *h, uint64_t us)
{
	size_t i = 0;

	// A bucket counts the observations at or below its bound ("le").
	while (
	    i < RILL_HISTOGRAM_BUCKETS && us > rill_histogram_bounds_us[i]) {
		i++;
	}
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

void
rill_metrics_error(rill_metrics *m, enum rill_error_kind kind)
{
	if ((unsigned) kind >= RILL_ERROR_KIND_COUNT) {
		return;
	}
	atomic_fetch_add_explicit(&m->errors[kind], 1, memory_order_relaxed);
}

// The text buffer --------------------------------------------------------

void
rill_prom_init(rill_prom *p)
{
	p->buf = NULL;
	p->len = 0;
	p->cap = 0;
	p->err = RILL_OK;
}

void
rill_prom_fini(rill_prom *p)
{
	rill_free(p->buf);
	rill_prom_init(p);
}

// reserve makes room for n more bytes and a NUL; false (with p->err set)
// when it cannot.
static bool
reserve(rill_prom *p, size_t n)
{
	size_t cap;
	char  *buf;

	if (p->err != RILL_OK) {
		return false;
	}
	if (p->len + n + 1 <= p->cap) {
		return true;
	}
	cap = p->cap ? p->cap : 4096;
	while (cap < p->len + n + 1) {
		cap *= 2;
	}
	if ((buf = rill_realloc(p->buf, cap)) == NULL) {
		p->err = RILL_ENOMEM;
		return false;
	}
	p->buf = buf;
	p->cap = cap;
	return true;
}

void
rill_prom_append(rill_prom *p, const char *s, size_t n)
{
	if (!reserve(p, n)) {
		return;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void appendf(rill_prom *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
appendf(rill_prom *p, const char *fmt, ...)
{
	char    small[256];
	va_list ap;
	int     n;

	if (p->err != RILL_OK) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		p->err = RILL_INTERNAL;
		return;
	}
	if ((size_t) n < sizeof(small)) {
		rill_prom_append(p, small, (size_t) n);
		return;
	}
	if (!reserve(p, (size_t) n)) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(p->buf + p->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	p->len += (size_t) n;
}

// format_double writes v as the exposition format reads it: an integer
// when v is integral, else the shortest of %.15g to %.17g that reads back
// as v; NaN and the infinities by their Prometheus names.
static void
format_double(char *buf, size_t n, double v)
{
	if (isnan(v)) {
		snprintf(buf, n, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	// Below 2^53 in magnitude every integer is exact in a double.
	if (v > -9007199254740992.0 && v < 9007199254740992.0 &&
	    v == (double) (int64_t) v) {
		snprintf(buf, n, "%" PRId64, (int64_t) v);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v) {
			return;
		}
	}
}

// header writes the HELP and TYPE lines. HELP text escapes backslash and
// newline, as the format asks.
static void
header(rill_prom *p, const char *name, const char *help, const char *type)
{
	appendf(p, "# HELP %s ", name);
	for (const char *s = help; *s != '\0'; s++) {
		if (*s == '\\') {
			rill_prom_append(p, "\\\\", 2);
		} else if (*s == '\n') {
			rill_prom_append(p, "\\n", 2);
		} else {
			rill_prom_append(p, s, 1);
		}
	}
	appendf(p, "\n# TYPE %s %s\n", name, type);
}

void
rill_prom_counter(
    rill_prom *p, const char *name, const char *help, uint64_t value)
{
	header(p, name, help, "counter");
	appendf(p, "%s %" PRIu64 "\n", name, value);
}

void
rill_prom_gauge(rill_prom *p, const char *name, const char *help, double value)
{
	char num[64];

	header(p, name, help, "gauge");
	format_double(num, sizeof(num), value);
	appendf(p, "%s %s\n", name, num);
}

void
rill_prom_histogram(
    rill_prom *p, const char *name, const char *help, const rill_histogram *h)
{
	uint64_t counts[RILL_HISTOGRAM_BUCKETS + 1];
	uint64_t cumulative = 0;
	uint64_t sum_us;
	char     num[64];

	// Each bucket is read once and _count is their sum, so the +Inf
	// bucket equals _count even while other threads observe.
	for (size_t i = 0; i <= RILL_HISTOGRAM_BUCKETS; i++) {
		counts[i] =
		    atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
	}
	sum_us = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
	header(p, name, help, "histogram");
	for (size_t i = 0; i < RILL_HISTOGRAM_BUCKETS; i++) {
		cumulative += counts[i];
		format_double(num, sizeof(num),
		    (double) rill_histogram_bounds_us[i] / 1e6);
		appendf(p, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, num,
		    cumulative);
	}
	cumulative += counts[RILL_HISTOGRAM_BUCKETS];
	appendf(p, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cumulative);
	format_double(num, sizeof(num), (double) sum_us / 1e6);
	appendf(p, "%s_sum %s\n", name, num);
	appendf(p, "%s_count %" PRIu64 "\n", name, cumulative);
}

static uint64_t
load(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void
rill_metrics_render(rill_prom *p, const rill_metrics *m)
{
	rill_prom_counter(p, "rill_writes_total",
	    "Writes committed (retries answered from the dedup table are not "
	    "counted).",
	    load(&m->writes));
	rill_prom_counter(p, "rill_write_bytes_total",
	    "Record bytes appended to the log.", load(&m->write_bytes));
	rill_prom_counter(p, "rill_write_groups_total",
	    "Group commits (one log flush each).", load(&m->groups));
	rill_prom_histogram(p, "rill_write_latency_seconds",
	    "Time from submit to commit, per write.", &m->write_latency);
	rill_prom_histogram(p, "rill_fsync_latency_seconds",
	    "Time of each fdatasync of the log.", &m->fsync_latency);
	rill_prom_counter(p, "rill_snapshots_total", "Snapshots taken.",
	    load(&m->snapshots));
	rill_prom_gauge(p, "rill_snapshot_last_duration_seconds",
	    "How long the newest snapshot took to write.",
	    (double) load(&m->snapshot_last_duration_ms) / 1e3);
	rill_prom_histogram(p, "rill_snapshot_duration_seconds",
	    "Time to write each snapshot.", &m->snapshot_duration);
	rill_prom_counter(p, "rill_requests_total", "RPC requests served.",
	    load(&m->requests));
	header(p, "rill_errors_total", "Errors, by kind.", "counter");
	for (size_t i = 0; i < RILL_ERROR_KIND_COUNT; i++) {
		appendf(p, "rill_errors_total{kind=\"%s\"} %" PRIu64 "\n",
		    error_kind_labels[i], load(&m->errors[i]));
	}
}
