// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_disk: what one fdatasync costs on the disk under --dir, paid as
// the log's group commit pays it. One thread writes a record at the end of
// what it wrote so far, inside a file already extended with zeros (as the
// log's tail is, so no sync has metadata to write), then fdatasyncs it, in
// a loop. It reports the syncs a second, the latency of write + fdatasync,
// and what each sync costs the CPU (the thread's user and system time) and
// in context switches. Under sync "always" every group of writes pays this
// once: it bounds the groups a second, and its CPU time is taken from the
// cores the server and its clients share.
//
// getrusage's RUSAGE_THREAD needs _GNU_SOURCE, which the build defines.

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

// The file the loop writes into: a log segment's worth of zeros, written
// and synced before the clock starts. The loop starts over at its
// beginning when it reaches the end.
#define DISK_FILE_BYTES (64u << 20)

typedef struct disk_usage {
	double   cpu_s;
	uint64_t switches;
} disk_usage;

static disk_usage
thread_usage(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0) {
		return (disk_usage) { 0 };
	}
	return (disk_usage) {
		.cpu_s = (double) ru.ru_utime.tv_sec +
		    (double) ru.ru_utime.tv_usec / 1e6 +
		    (double) ru.ru_stime.tv_sec +
		    (double) ru.ru_stime.tv_usec / 1e6,
		.switches = (uint64_t) (ru.ru_nvcsw + ru.ru_nivcsw),
	};
}

// prepare fills fd with DISK_FILE_BYTES of zeros and syncs them.
static int
prepare(int fd, const char *path)
{
	static const uint8_t zeros[1u << 20];

	for (uint64_t off = 0; off < DISK_FILE_BYTES; off += sizeof(zeros)) {
		if (pwrite(fd, zeros, sizeof(zeros), (off_t) off) !=
		    (ssize_t) sizeof(zeros)) {
			fprintf(stderr, "rill_bench: disk: write %s: %s\n",
			    path, strerror(errno));
			return -1;
		}
	}
	if (fsync(fd) != 0) {
		fprintf(stderr, "rill_bench: disk: fsync %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

// sync_loop writes and syncs records until end_ns, adding each latency to
// h when h is not NULL; *offp is where the next record goes. It returns
// the syncs done, or -1 after an error.
static int64_t
sync_loop(int fd, const char *path, const uint8_t *rec, size_t len,
    uint64_t *offp, uint64_t end_ns, rill_bench_hist *h)
{
	int64_t n = 0;

	while (!rill_bench_interrupted) {
		uint64_t t0 = rill_bench_now_ns();

		if (t0 >= end_ns) {
			break;
		}
		if (*offp + len > DISK_FILE_BYTES) {
			*offp = 0;
		}
		if (pwrite(fd, rec, len, (off_t) *offp) != (ssize_t) len ||
		    fdatasync(fd) != 0) {
			fprintf(stderr, "rill_bench: disk: %s: %s\n", path,
			    strerror(errno));
			return -1;
		}
		*offp += len;
		if (h != NULL) {
			rill_bench_hist_add(h, rill_bench_now_ns() - t0);
		}
		n++;
	}
	return n;
}

int
rill_bench_disk_run(const rill_bench_disk *d)
{
	char             path[PATH_MAX + 16];
	uint8_t          rec[RILL_BENCH_DISK_RECORD_BYTES];
	rill_bench_hist *h;
	disk_usage       u0, u1;
	uint64_t         off = 0, t0;
	int64_t          n;
	double           secs, per_s, cpu_us, switches;
	int              fd, rv = -1;

	snprintf(path, sizeof(path), "%s/disk-sync", d->tmp);
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		fprintf(stderr, "rill_bench: disk: out of memory\n");
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0) {
		fprintf(stderr, "rill_bench: disk: open %s: %s\n", path,
		    strerror(errno));
		free(h);
		return -1;
	}
	memset(rec, 'r', sizeof(rec));
	fprintf(stderr, "rill_bench: disk: write + fdatasync ...\n");
	if (prepare(fd, path) != 0 ||
	    sync_loop(fd, path, rec, sizeof(rec), &off,
	        rill_bench_now_ns() + (uint64_t) (d->warmup_s * 1e9),
	        NULL) < 0) {
		goto out;
	}
	u0 = thread_usage();
	t0 = rill_bench_now_ns();
	n  = sync_loop(fd, path, rec, sizeof(rec), &off,
	     t0 + (uint64_t) (d->duration_s * 1e9), h);
	if (n <= 0) {
		goto out;
	}
	secs     = rill_bench_secs_since(t0);
	u1       = thread_usage();
	per_s    = (double) n / secs;
	cpu_us   = (u1.cpu_s - u0.cpu_s) * 1e6 / (double) n;
	switches = (double) (u1.switches - u0.switches) / (double) n;
	if (d->json) {
		printf("{\"workload\":\"disk-sync\",\"record_bytes\":%d",
		    RILL_BENCH_DISK_RECORD_BYTES);
		rill_bench_json_num("syncs_per_s", true, per_s, "%.1f");
		rill_bench_json_num(
		    "p50_us", true, rill_bench_pct_us(h, 0.5), "%.1f");
		rill_bench_json_num(
		    "p99_us", true, rill_bench_pct_us(h, 0.99), "%.1f");
		rill_bench_json_num("cpu_us_per_sync", true, cpu_us, "%.1f");
		rill_bench_json_num(
		    "switches_per_sync", true, switches, "%.2f");
		printf("}\n");
	} else {
		printf("\n== disk-sync: a %d B write at the end of a "
		       "zero-filled file, then fdatasync, on one thread, in "
		       "%s; %.1f s measured after %.1f s warm-up\n",
		    RILL_BENCH_DISK_RECORD_BYTES, d->tmp, d->duration_s,
		    d->warmup_s);
		printf("  %12s %10s %10s %10s %14s %16s\n", "syncs/s",
		    "p50 us", "p99 us", "p999 us", "cpu us/sync",
		    "switches/sync");
		printf("  %12.0f %10.1f %10.1f %10.1f %14.1f %16.2f\n", per_s,
		    rill_bench_pct_us(h, 0.5), rill_bench_pct_us(h, 0.99),
		    rill_bench_pct_us(h, 0.999), cpu_us, switches);
	}
	fflush(stdout);
	rv = 0;
out:
	close(fd);
	unlink(path);
	free(h);
	return rv;
}
