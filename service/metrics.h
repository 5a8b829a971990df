// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// metrics: the counters and histograms a node keeps for Prometheus, and
// the text exposition format (version 0.0.4) they are served in. Every
// update is a relaxed atomic add: any thread, no lock, no allocation.
// Gauges (seqs, sizes) are not kept here: the admin API reads them from
// their owners when it renders.
#ifndef RILL_SERVICE_METRICS_H
#define RILL_SERVICE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

// rill_histogram_bounds_us are the upper bounds (microseconds, ascending,
// from 10 us to 60 s) of the latency buckets; an observation goes to the
// first bucket whose bound is at least its value ("le"), and one more
// bucket, +Inf, follows them.
#define RILL_HISTOGRAM_BUCKETS 16
extern const uint64_t rill_histogram_bounds_us[RILL_HISTOGRAM_BUCKETS];

// rill_histogram is a latency histogram (seconds in the exposition).
typedef struct rill_histogram {
	_Atomic uint64_t buckets[RILL_HISTOGRAM_BUCKETS + 1]; // not cumulative
	_Atomic uint64_t count;
	_Atomic uint64_t sum_us;
} rill_histogram;

// rill_histogram_observe counts one observation of us microseconds. Any
// thread; relaxed atomic adds only.
void rill_histogram_observe(rill_histogram *h, uint64_t us);

// The kinds of error counted in rill_errors_total{kind="..."}.
#define RILL_ERROR_KINDS(X)                                                 \
	X(IO, "io")                   /* a disk read or write failed */     \
	X(CORRUPT, "corrupt")         /* damage found in a file */          \
	X(BAD_REQUEST, "bad_request") /* an RPC that could not be served */ \
	X(SNAPSHOT, "snapshot")       /* a snapshot that failed */          \
	X(BACKUP, "backup")           /* a copy to a backup that failed */  \
	X(RETENTION, "retention")     /* a removal that failed */           \
	X(CATALOG, "catalog")         /* a catalog update that failed */

enum rill_error_kind {
#define RILL_ERROR_KIND_ENUM(name, label) RILL_ERROR_##name,
	RILL_ERROR_KINDS(RILL_ERROR_KIND_ENUM)
#undef RILL_ERROR_KIND_ENUM
	    RILL_ERROR_KIND_COUNT
};

// rill_metrics holds one node's counters. Zero-initialised is ready.
typedef struct rill_metrics {
	_Atomic uint64_t writes;        // writes committed (not duplicates)
	_Atomic uint64_t write_bytes;   // record bytes appended to the log
	_Atomic uint64_t groups;        // group commits
	rill_histogram   write_latency; // submit to commit, per write
	rill_histogram   fsync_latency; // per fdatasync of the log
	_Atomic uint64_t snapshots;     // snapshots taken
	_Atomic uint64_t snapshot_last_duration_ms;
	rill_histogram   snapshot_duration;
	_Atomic uint64_t requests; // RPCs served
	_Atomic uint64_t errors[RILL_ERROR_KIND_COUNT];
} rill_metrics;

// rill_metrics_error counts one error of kind.
void rill_metrics_error(rill_metrics *m, enum rill_error_kind kind);

// rill_prom is a growing text buffer for the exposition format. buf is
// NUL-terminated (len excludes the NUL) once anything was appended, and
// NULL before. One thread uses a rill_prom.
typedef struct rill_prom {
	char  *buf;
	size_t len;
	size_t cap;
	int    err; // RILL_ENOMEM once an append failed; later ones do nothing
} rill_prom;

void rill_prom_init(rill_prom *p);
void rill_prom_fini(rill_prom *p); // frees buf
// rill_prom_append adds n raw bytes of s (for samples the helpers below
// do not write, such as labelled ones).
void rill_prom_append(rill_prom *p, const char *s, size_t n);

// Each writes the HELP and TYPE lines, then the samples. name is the full
// metric name ("rill_writes_total"); help one line (a backslash or newline
// in it is escaped). A gauge prints as an integer when it is integral
// (below 2^53), else with up to 17 significant digits; NaN and +Inf as
// Prometheus spells them.
void rill_prom_counter(
    rill_prom *p, const char *name, const char *help, uint64_t value);
void rill_prom_gauge(
    rill_prom *p, const char *name, const char *help, double value);
// rill_prom_histogram writes <name>_bucket{le=...} (cumulative, the le
// values in seconds), _sum (seconds) and _count from h. _count is the sum
// of the buckets as read, so it equals the +Inf bucket even while other
// threads observe (h->count may already be ahead of it).
void rill_prom_histogram(
    rill_prom *p, const char *name, const char *help, const rill_histogram *h);

// rill_metrics_render appends every metric of m (rill_writes_total,
// rill_write_bytes_total, rill_write_groups_total,
// rill_write_latency_seconds, rill_fsync_latency_seconds,
// rill_snapshots_total, rill_snapshot_last_duration_seconds,
// rill_snapshot_duration_seconds, rill_requests_total,
// rill_errors_total{kind}) to p. Any thread, while others update m.
void rill_metrics_render(rill_prom *p, const rill_metrics *m);

#endif // RILL_SERVICE_METRICS_H
