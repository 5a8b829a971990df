// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// log_test: the replication log. Group commit and read back, reopen,
// rolls by size and age, readers (mid-log, concurrent with the writer),
// and recovery from torn, zeroed and damaged files, each made by editing
// the segment files of a real log in a temporary directory.
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rill/status.h>

#include "clock.h"
#include "crc.h"
#include "diag.h"
#include "log.h"
#include "mem.h"
#include "test.h"

#define GEN 0x1234abcd5678ef00ull
#define HDR RILL_LOG_SEGMENT_HEADER_SIZE
#define FIXED (RILL_LOG_RECORD_FRAME_SIZE + RILL_LOG_RECORD_BODY_FIXED)

// batch_len returns the batch length of the test record seq: 0..199.
static size_t
batch_len(uint64_t seq)
{
	return (size_t) (seq * 7 % 200);
}

// fill_batch writes the batch bytes of the test record seq into buf.
static void
fill_batch(uint8_t *buf, uint64_t seq)
{
	for (size_t i = 0; i < batch_len(seq); i++) {
		buf[i] = (uint8_t) (seq * 31 + i);
	}
}

// record_size returns the bytes the test record seq takes in a segment.
static uint64_t
record_size(uint64_t seq)
{
	return FIXED + batch_len(seq);
}

// record_off returns the offset of record seq in a segment whose first
// record is first.
static uint64_t
record_off(uint64_t first, uint64_t seq)
{
	uint64_t off = HDR;
	for (uint64_t s = first; s < seq; s++) {
		off += record_size(s);
	}
	return off;
}

// append_groups appends the test records from..to, flushing every
// per_group records (and at the end) with sync. Each record's time_us is
// seq * 1000, or with group_times the same for every record of a group,
// as the writer gives them.
static int
append_groups(rill_log *log, uint64_t from, uint64_t to, unsigned per_group,
    bool sync, bool group_times)
{
	uint8_t buf[256];
	int     rv;

	for (uint64_t seq = from; seq <= to; seq++) {
		uint64_t    group = (seq - from) / per_group;
		rill_record rec   = {
			  .seq = seq,
			  .time_us =
                            group_times ? (group + 1) * 1000000 : seq * 1000,
			  .client_id  = seq ^ 0xC1,
			  .request_id = seq + 7,
			  .batch      = buf,
			  .batch_len  = batch_len(seq),
		};
		fill_batch(buf, seq);
		if ((rv = rill_log_append(log, &rec)) != RILL_OK) {
			return rv;
		}
		if ((seq - from + 1) % per_group == 0 || seq == to) {
			if ((rv = rill_log_flush(log, sync)) != RILL_OK) {
				return rv;
			}
		}
	}
	return RILL_OK;
}

// append_range appends the test records from..to, flushing every
// per_group records (and at the end) with sync.
static int
append_range(
    rill_log *log, uint64_t from, uint64_t to, unsigned per_group, bool sync)
{
	return append_groups(log, from, to, per_group, sync, false);
}

// record_ok tells whether rec is the test record seq, field by field.
static bool
record_ok(const rill_record *rec, uint64_t seq)
{
	uint8_t buf[256];

	fill_batch(buf, seq);
	return rec->seq == seq && rec->time_us == seq * 1000 &&
	    rec->client_id == (seq ^ 0xC1) && rec->request_id == seq + 7 &&
	    rec->batch_len == batch_len(seq) &&
	    (rec->batch_len == 0 ||
	        memcmp(rec->batch, buf, rec->batch_len) == 0);
}

// read_all reads from after_seq until RILL_NOT_FOUND, checking each
// record, and returns the last seq read in *lastp (after_seq if none).
static int
read_all(rill_log *log, uint64_t after_seq, uint64_t *lastp)
{
	rill_log_reader *r;
	rill_record      rec;
	uint64_t         want = after_seq + 1;
	int              rv;

	if ((rv = rill_log_reader_open(&r, log, after_seq)) != RILL_OK) {
		return rv;
	}
	while ((rv = rill_log_reader_next(r, &rec)) == RILL_OK) {
		if (!record_ok(&rec, want)) {
			fprintf(stderr, "record %" PRIu64 " is wrong\n", want);
			rv = RILL_INTERNAL;
			break;
		}
		want++;
	}
	rill_log_reader_close(r);
	*lastp = want - 1;
	return rv == RILL_NOT_FOUND ? RILL_OK : rv;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(path);
}

// tmp_new makes a fresh directory under /tmp into buf.
static void
tmp_new(char *buf, size_t n)
{
	snprintf(buf, n, "/tmp/rill-log-test-XXXXXX");
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

static void
tmp_remove(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
seg_path(char *buf, size_t n, const char *dir, uint64_t first)
{
	char name[32];
	rill_log_segment_name(name, sizeof(name), first);
	snprintf(buf, n, "%s/%s", dir, name);
}

static long long
file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long) st.st_size : -1;
}

static bool
file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

// poke writes n bytes at off of path (a byte is flipped when data is
// NULL and n is 1).
static bool
poke(const char *path, uint64_t off, const void *data, size_t n)
{
	uint8_t b;
	int     fd = open(path, O_RDWR);
	bool    ok;

	if (fd < 0) {
		return false;
	}
	if (data == NULL) {
		ok = pread(fd, &b, 1, (off_t) off) == 1;
		b ^= 0x40;
		ok = ok && pwrite(fd, &b, 1, (off_t) off) == 1;
	} else {
		ok = pwrite(fd, data, n, (off_t) off) == (ssize_t) n;
	}
	close(fd);
	return ok;
}

// make_log writes records 1..n in groups of 10 to a new log in dir.
static int
make_log(const char *dir, uint64_t n, const rill_log_options *opts)
{
	rill_log *log;
	int       rv;

	if ((rv = rill_log_open(&log, dir, GEN, 0, 0, opts)) != RILL_OK) {
		return rv;
	}
	rv = append_range(log, 1, n, 10, true);
	rill_log_close(log);
	return rv;
}

// open_status opens the log in dir and returns the result, and the last
// seq in *lastp when it opened.
static int
open_status(const char *dir, uint64_t applied, uint64_t *lastp)
{
	rill_log *log;
	int       rv = rill_log_open(&log, dir, GEN, 0, applied, NULL);

	if (rv == RILL_OK) {
		*lastp = rill_log_last_seq(log);
		rill_log_close(log);
	}
	return rv;
}

// test_append_flush_read_back: what is flushed reads back whole, in
// order; what is only appended is not visible.
static void
test_append_flush_read_back(void)
{
	char             tmp[64], dir[128], path[256];
	rill_log        *log;
	rill_log_reader *r;
	rill_record      rec;
	uint64_t         last, size = HDR;

	tmp_new(tmp, sizeof(tmp));
	snprintf(dir, sizeof(dir), "%s/a/b/log", tmp);
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 0);
	CHECK_EQ_INT(rill_log_oldest_seq(log), 1);
	CHECK_EQ_INT(rill_log_segment_count(log), 0);
	CHECK_EQ_INT(rill_log_reader_open(&r, log, 0), RILL_OK);
	CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_NOT_FOUND);

	CHECK_EQ_INT(append_range(log, 1, 10000, 100, false), RILL_OK);
	CHECK_EQ_INT(rill_log_sync(log), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 10000);
	for (uint64_t s = 1; s <= 10000; s++) {
		size += record_size(s);
	}
	CHECK_EQ_INT(rill_log_size(log), size);
	CHECK_EQ_INT(rill_log_segment_count(log), 1);
	seg_path(path, sizeof(path), dir, 1);
	// The tail is preallocated: its records, then zeros.
	CHECK(file_size(path) >= (long long) size);

	for (uint64_t s = 1; s <= 10000; s++) {
		CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_OK);
		CHECK(record_ok(&rec, s));
	}
	CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_NOT_FOUND);

	// Appended but not flushed: invisible to readers and last_seq.
	for (uint64_t s = 10001; s <= 10005; s++) {
		rill_record a = { .seq = s,
			.time_us       = s * 1000,
			.client_id     = s ^ 0xC1,
			.request_id    = s + 7 };
		uint8_t     buf[256];
		fill_batch(buf, s);
		a.batch     = buf;
		a.batch_len = batch_len(s);
		CHECK_EQ_INT(rill_log_append(log, &a), RILL_OK);
	}
	CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_NOT_FOUND);
	CHECK_EQ_INT(rill_log_last_seq(log), 10000);
	CHECK_EQ_INT(rill_log_flush(log, true), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 10005);
	for (uint64_t s = 10001; s <= 10005; s++) {
		CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_OK);
		CHECK(record_ok(&rec, s));
	}
	CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_NOT_FOUND);
	// An empty flush is fine, with or without sync.
	CHECK_EQ_INT(rill_log_flush(log, true), RILL_OK);
	CHECK_EQ_INT(rill_log_flush(log, false), RILL_OK);
	rill_log_reader_close(r);

	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 10005);
	CHECK_EQ_INT(read_all(log, 9999, &last), RILL_OK);
	CHECK_EQ_INT(last, 10005);
	rill_log_close(log);
	tmp_remove(tmp);
}

// test_reopen_recovers_last_seq: a reopened log knows its tail, ignores
// base_seq, and appends after it.
static void
test_reopen_recovers_last_seq(void)
{
	char      dir[64];
	rill_log *log;
	uint64_t  last;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 500, NULL), RILL_OK);
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 77, 0, NULL), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 500);
	CHECK_EQ_INT(rill_log_oldest_seq(log), 1);
	CHECK_EQ_INT(append_range(log, 501, 600, 7, true), RILL_OK);
	rill_log_close(log);

	// Every record is applied: only the last segment is scanned.
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 600, NULL), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 600);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 600);
	rill_log_close(log);

	// The store may be ahead of the log (sync "none" and a crash): the
	// log reports its own tail and lets the caller decide.
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 900, NULL), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 600);
	rill_log_close(log);
	tmp_remove(dir);
}

// test_empty_log_base_seq: an empty log starts after base_seq, and its
// first segment is named for base_seq + 1.
static void
test_empty_log_base_seq(void)
{
	char             dir[64], path[128];
	rill_log        *log;
	rill_log_reader *r;
	rill_record      rec;
	uint64_t         last;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 100, 0, NULL), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 100);
	CHECK_EQ_INT(rill_log_oldest_seq(log), 101);
	CHECK_EQ_INT(rill_log_reader_open(&r, log, 99), RILL_OUT_OF_RANGE);
	CHECK_EQ_INT(rill_log_reader_open(&r, log, 100), RILL_OK);
	CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_NOT_FOUND);
	CHECK_EQ_INT(append_range(log, 101, 150, 10, true), RILL_OK);
	seg_path(path, sizeof(path), dir, 101);
	CHECK(file_exists(path));
	for (uint64_t s = 101; s <= 150; s++) {
		CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_OK);
		CHECK(record_ok(&rec, s));
	}
	rill_log_reader_close(r);
	rill_log_close(log);

	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
	CHECK_EQ_INT(rill_log_oldest_seq(log), 101);
	CHECK_EQ_INT(rill_log_reader_open(&r, log, 99), RILL_OUT_OF_RANGE);
	CHECK_EQ_INT(read_all(log, 100, &last), RILL_OK);
	CHECK_EQ_INT(last, 150);
	rill_log_close(log);
	tmp_remove(dir);
}

// test_append_invalid: a wrong seq, an oversized or a missing batch is
// refused and leaves the group alone.
static void
test_append_invalid(void)
{
	char        dir[64];
	rill_log   *log;
	uint8_t     b   = 1;
	rill_record rec = { .seq = 2, .batch = &b, .batch_len = 1 };
	uint64_t    last;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
	CHECK_EQ_INT(rill_log_append(log, &rec), RILL_INVALID_ARGUMENT);
	rec.seq = 0;
	CHECK_EQ_INT(rill_log_append(log, &rec), RILL_INVALID_ARGUMENT);
	rec.seq       = 1;
	rec.batch_len = RILL_LOG_RECORD_MAX;
	CHECK_EQ_INT(rill_log_append(log, &rec), RILL_INVALID_ARGUMENT);
	rec.batch     = NULL;
	rec.batch_len = 5;
	CHECK_EQ_INT(rill_log_append(log, &rec), RILL_INVALID_ARGUMENT);
	CHECK_EQ_INT(append_range(log, 1, 3, 10, true), RILL_OK);
	rec.batch     = &b;
	rec.batch_len = 1;
	rec.seq       = 3;
	CHECK_EQ_INT(rill_log_append(log, &rec), RILL_INVALID_ARGUMENT);
	rec.seq = 5;
	CHECK_EQ_INT(rill_log_append(log, &rec), RILL_INVALID_ARGUMENT);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 3);
	rill_log_close(log);
	tmp_remove(dir);
}

// test_roll_by_size: small segments roll at flush; readers cross them from
// any start.
static void
test_roll_by_size(void)
{
	char             dir[64], path[128];
	rill_log_options opts = { .segment_max_bytes = 4096 };
	rill_log        *log;
	rill_log_reader *r;
	rill_record      rec;
	uint64_t         last, total = 0;
	unsigned         n_segs;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	CHECK_EQ_INT(append_range(log, 1, 2000, 10, false), RILL_OK);
	n_segs = rill_log_segment_count(log);
	CHECK(n_segs > 20);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 2000);

	// Each segment is named for its first seq, and over its size by at
	// most one group (10 records of at most 239 bytes).
	{
		uint64_t first = 1;
		unsigned seen  = 0;
		while (first <= 2000) {
			long long size;
			uint64_t  s = first, off = HDR;
			seg_path(path, sizeof(path), dir, first);
			CHECK((size = file_size(path)) > HDR);
			if (seen + 1 == n_segs) {
				// The tail's zeros are not records.
				size =
				    (long long) (rill_log_size(log) - total);
			}
			CHECK(size <= 4096 + 10 * 239);
			while (off < (uint64_t) size) {
				off += record_size(s++);
			}
			CHECK_EQ_INT(off, size);
			total += (uint64_t) size;
			first = s;
			seen++;
		}
		CHECK_EQ_INT(seen, n_segs);
		CHECK_EQ_INT(total, rill_log_size(log));
	}

	// A reader started mid-log begins right after its seq.
	for (uint64_t after = 0; after <= 2000; after += 97) {
		CHECK_EQ_INT(rill_log_reader_open(&r, log, after), RILL_OK);
		if (after < 2000) {
			CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_OK);
			CHECK(record_ok(&rec, after + 1));
		}
		rill_log_reader_close(r);
	}
	// A reader ahead of the log waits for its seq, across rolls.
	CHECK_EQ_INT(rill_log_reader_open(&r, log, 2500), RILL_OK);
	CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_NOT_FOUND);
	CHECK_EQ_INT(append_range(log, 2001, 2400, 10, false), RILL_OK);
	CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_NOT_FOUND);
	CHECK_EQ_INT(append_range(log, 2401, 3000, 10, false), RILL_OK);
	for (uint64_t s = 2501; s <= 3000; s++) {
		CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_OK);
		CHECK(record_ok(&rec, s));
	}
	CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_NOT_FOUND);
	rill_log_reader_close(r);
	n_segs = rill_log_segment_count(log);
	rill_log_close(log);

	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), n_segs);
	CHECK_EQ_INT(rill_log_last_seq(log), 3000);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 3000);
	rill_log_close(log);
	tmp_remove(dir);
}

// test_roll_by_age: an old non-empty segment is sealed by
// rill_log_roll_if_due; an empty one never is.
static void
test_roll_by_age(void)
{
	char             dir[64], path[128];
	rill_log_options opts = { .segment_max_age_ms = 1000 };
	rill_log        *log;
	uint64_t         now = rill_wall_us(), last;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	CHECK_EQ_INT(rill_log_roll_if_due(log, now + 5000000), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), 0);
	CHECK_EQ_INT(append_range(log, 1, 10, 5, true), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), 1);
	CHECK_EQ_INT(rill_log_roll_if_due(log, rill_wall_us()), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), 1);
	CHECK_EQ_INT(rill_log_roll_if_due(log, now + 5000000), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), 2);
	seg_path(path, sizeof(path), dir, 11);
	CHECK_EQ_INT(file_size(path), HDR);
	// The new segment is empty: never rolled, however old.
	CHECK_EQ_INT(rill_log_roll_if_due(log, now + 60000000), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), 2);
	CHECK_EQ_INT(append_range(log, 11, 20, 5, true), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), 2);
	rill_log_close(log);
	// Closed, the tail ends with its last record (no preallocated zeros).
	CHECK_EQ_INT(file_size(path), record_off(11, 21));

	// The age survives a restart: it is counted from the creation
	// time in the header (now + 5 s for the segment of seq 11).
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	CHECK_EQ_INT(rill_log_roll_if_due(log, now + 5500000), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), 2);
	CHECK_EQ_INT(rill_log_roll_if_due(log, now + 6000000), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), 3);
	seg_path(path, sizeof(path), dir, 21);
	CHECK(file_exists(path));
	CHECK_EQ_INT(append_range(log, 21, 30, 10, true), RILL_OK);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 30);
	rill_log_close(log);
	tmp_remove(dir);

	// A flush rolls a segment that grew old by itself.
	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	CHECK_EQ_INT(append_range(log, 1, 10, 10, true), RILL_OK);
	usleep(1100 * 1000);
	CHECK_EQ_INT(append_range(log, 11, 20, 10, true), RILL_OK);
	CHECK_EQ_INT(rill_log_segment_count(log), 2);
	seg_path(path, sizeof(path), dir, 11);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 20);
	rill_log_close(log);
	CHECK_EQ_INT(file_size(path), record_off(11, 21));
	tmp_remove(dir);
}

// test_reader_out_of_range: once older segments are gone, a reader before
// the oldest seq is refused.
static void
test_reader_out_of_range(void)
{
	char             dir[64], path[128];
	rill_log_options opts = { .segment_max_bytes = 2048 };
	rill_log        *log;
	rill_log_reader *r;
	rill_record      rec;
	uint64_t         oldest, last;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 300, &opts), RILL_OK);
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	CHECK_EQ_INT(rill_log_reader_open(&r, log, 0), RILL_OK);
	rill_log_reader_close(r);
	CHECK(rill_log_segment_count(log) > 3);
	rill_log_close(log);

	// Remove the first segment, as retention would.
	seg_path(path, sizeof(path), dir, 1);
	CHECK_EQ_INT(unlink(path), 0);
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	oldest = rill_log_oldest_seq(log);
	CHECK(oldest > 1);
	CHECK_EQ_INT(rill_log_reader_open(&r, log, 0), RILL_OUT_OF_RANGE);
	CHECK_EQ_INT(
	    rill_log_reader_open(&r, log, oldest - 2), RILL_OUT_OF_RANGE);
	CHECK_EQ_INT(rill_log_reader_open(&r, log, oldest - 1), RILL_OK);
	CHECK_EQ_INT(rill_log_reader_next(r, &rec), RILL_OK);
	CHECK(record_ok(&rec, oldest));
	rill_log_reader_close(r);
	CHECK_EQ_INT(read_all(log, oldest - 1, &last), RILL_OK);
	CHECK_EQ_INT(last, 300);
	rill_log_close(log);
	tmp_remove(dir);
}

typedef struct writer_arg {
	rill_log   *log;
	uint64_t    n;
	atomic_bool failed;
} writer_arg;

static void *
writer_main(void *p)
{
	writer_arg *w   = p;
	uint64_t    seq = 1;
	unsigned    x   = 12345;

	while (seq <= w->n) {
		uint64_t group = 1 + (x = x * 1103515245 + 12345) % 200;
		uint64_t to = seq + group - 1 < w->n ? seq + group - 1 : w->n;
		if (append_range(w->log, seq, to, (unsigned) group, false) !=
		    RILL_OK) {
			atomic_store(&w->failed, true);
			break;
		}
		seq = to + 1;
		if (x % 7 == 0) {
			sched_yield();
		}
	}
	return NULL;
}

// test_reader_concurrent_with_writer: readers see every flushed record,
// whole and in order, never one past rill_log_last_seq, while the writer
// appends and rolls.
static void
test_reader_concurrent_with_writer(void)
{
	char             dir[64];
	rill_log_options opts = { .segment_max_bytes = 64 << 10 };
	rill_log        *log;
	rill_log_reader *r1, *r2 = NULL;
	rill_record      rec;
	pthread_t        th;
	writer_arg       w     = { .n = 100000 };
	uint64_t         want1 = 1, want2 = 0, last;
	bool             ok = true;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	w.log = log;
	CHECK_EQ_INT(rill_log_reader_open(&r1, log, 0), RILL_OK);
	CHECK_EQ_INT(pthread_create(&th, NULL, writer_main, &w), 0);
	while (ok && (want1 <= w.n || (r2 != NULL && want2 <= w.n))) {
		int rv = rill_log_reader_next(r1, &rec);
		if (rv == RILL_OK) {
			ok = record_ok(&rec, want1) &&
			    rec.seq <= rill_log_last_seq(log);
			want1++;
		} else if (rv != RILL_NOT_FOUND) {
			ok = false;
		}
		if (r2 == NULL && want1 > 30000) {
			// A second reader joins mid-log, behind the first.
			want2 = 20001;
			ok    = ok &&
			    rill_log_reader_open(&r2, log, 20000) == RILL_OK;
		}
		if (r2 != NULL && want2 <= w.n) {
			rv = rill_log_reader_next(r2, &rec);
			if (rv == RILL_OK) {
				ok = ok && record_ok(&rec, want2) &&
				    rec.seq <= rill_log_last_seq(log);
				want2++;
			} else if (rv != RILL_NOT_FOUND) {
				ok = false;
			}
		}
		if (atomic_load(&w.failed)) {
			ok = false;
		}
		if (rv == RILL_NOT_FOUND) {
			sched_yield();
		}
	}
	pthread_join(th, NULL);
	rill_log_reader_close(r1);
	rill_log_reader_close(r2);
	CHECK(ok);
	CHECK(!atomic_load(&w.failed));
	CHECK(rill_log_segment_count(log) > 10);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, w.n);
	rill_log_close(log);
	tmp_remove(dir);
}

// seek_check opens a reader after each of n positions spread over
// 1..last and checks that its first record is the next one and that it
// reached it with fewer skipped records than a seek index step holds.
static bool
seek_check(rill_log *log, uint64_t last, unsigned n)
{
	unsigned x = 777;

	for (unsigned i = 0; i < n; i++) {
		uint64_t         after = (x = x * 1103515245 + 12345) % last;
		rill_log_reader *r;
		rill_record      rec;

		if (rill_log_reader_open(&r, log, after) != RILL_OK) {
			return false;
		}
		bool ok = rill_log_reader_next(r, &rec) == RILL_OK &&
		    record_ok(&rec, after + 1) &&
		    rill_log_reader_skipped(r) <= (16 << 10) / FIXED + 1;
		if (!ok) {
			fprintf(stderr,
			    "after %" PRIu64 ": skipped %" PRIu64 "\n", after,
			    rill_log_reader_skipped(r));
		}
		rill_log_reader_close(r);
		if (!ok) {
			return false;
		}
	}
	return true;
}

// test_reader_seeks_mid_segment: a reader that starts deep inside a
// segment finds its start through the seek index, whether the writer
// built it, recovery did (the scanned tail) or earlier readers did (a
// sealed segment recovery trusted without reading it), and reads the
// right records from there.
static void
test_reader_seeks_mid_segment(void)
{
	char             dir[64];
	rill_log_options opts = { .segment_max_bytes = 4 << 20 };
	rill_log        *log;
	uint64_t         last;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	// Small groups and large ones, so marks fall inside groups too.
	CHECK_EQ_INT(append_range(log, 1, 20000, 7, false), RILL_OK);
	CHECK_EQ_INT(append_range(log, 20001, 60000, 5000, false), RILL_OK);
	CHECK(rill_log_segment_count(log) >= 2);
	CHECK(seek_check(log, 60000, 300));
	rill_log_close(log);

	// Reopened with everything applied: recovery reads only the tail,
	// and the first reader through the sealed segments indexes them.
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 60000, &opts), RILL_OK);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 60000);
	CHECK(seek_check(log, 60000, 300));
	rill_log_close(log);
	tmp_remove(dir);
}

// test_crc_damage_mid_file: a bad record with records after it is damage,
// not a torn write: open fails and the file is left as it was.
static void
test_crc_damage_mid_file(void)
{
	char      dir[64], path[128];
	uint64_t  last;
	long long size;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 100, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	size = file_size(path);
	CHECK(poke(path, record_off(1, 50) + FIXED - 3, NULL, 1));
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	CHECK_EQ_INT(file_size(path), size);
	tmp_remove(dir);
}

// test_bad_length_mid_file: a damaged length field mid-file is damage
// too, whether it points past the end of the file or below the minimum.
static void
test_bad_length_mid_file(void)
{
	char     dir[64], path[128];
	uint8_t  big[4]   = { 0xff, 0xff, 0x00, 0x01 }; // 16 MiB + 64 KiB - 1
	uint8_t  small[4] = { 5, 0, 0, 0 };
	uint64_t last;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 100, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	CHECK(poke(path, record_off(1, 60), big, 4));
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	CHECK(poke(path, record_off(1, 60), small, 4));
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	tmp_remove(dir);
}

// crash_zeros appends what a crash leaves after the tail's records: the
// zeros the tail was extended with (1 MiB).
static void
crash_zeros(const char *path)
{
	static const uint8_t zeros[1 << 20];
	int                  fd = open(path, O_RDWR);

	CHECK(fd >= 0);
	CHECK(pwrite(fd, zeros, sizeof(zeros), (off_t) file_size(path)) ==
	    (ssize_t) sizeof(zeros));
	close(fd);
}

// hole zeroes n bytes at off, as sectors a power cut kept from the disk.
static void
hole(const char *path, uint64_t off, size_t n)
{
	static const uint8_t zeros[4096];
	int                  fd = open(path, O_RDWR);

	CHECK(fd >= 0 && n <= sizeof(zeros));
	CHECK(pwrite(fd, zeros, n, (off_t) off) == (ssize_t) n);
	close(fd);
}

// test_length_grown_into_zeros: a length field that grew by damage, so
// that its record ends in the zeros after the tail's records, is damage:
// the records it swallowed lie whole inside it. Nothing is cut.
static void
test_length_grown_into_zeros(void)
{
	char      dir[64], path[128];
	uint8_t   len[4];
	uint32_t  l = (uint32_t) (record_size(60) - 8) + (64u << 10);
	uint64_t  last;
	long long size;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 100, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	crash_zeros(path);
	size   = file_size(path);
	len[0] = (uint8_t) l;
	len[1] = (uint8_t) (l >> 8);
	len[2] = (uint8_t) (l >> 16);
	len[3] = (uint8_t) (l >> 24);
	CHECK(poke(path, record_off(1, 60), len, 4));
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	CHECK_EQ_INT(file_size(path), size);
	tmp_remove(dir);
}

// crashed_log writes records 1..100 in groups of 10 to a new log in dir
// (their times one per group with group_times, else one per record, as a
// follower's log has them), then what a crash leaves after them; path
// gets the segment's path, *sizep the file's size.
static void
crashed_log(char *dir, size_t dir_n, char *path, size_t path_n,
    bool group_times, long long *sizep)
{
	rill_log *log;

	tmp_new(dir, dir_n);
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
	CHECK_EQ_INT(
	    append_groups(log, 1, 100, 10, true, group_times), RILL_OK);
	rill_log_close(log);
	seg_path(path, path_n, dir, 1);
	crash_zeros(path);
	*sizep = file_size(path);
}

// test_torn_group_cut: a power cut during the last group's fdatasync can
// leave a hole in it with whole records of the group after it. That group
// was never acknowledged, so it is cut like a torn tail, unless the store
// holds it (then it was, and the hole is damage), or the records after
// the hole are of more than one group.
static void
test_torn_group_cut(void)
{
	char      dir[64], path[128];
	uint64_t  last;
	long long size;

	crashed_log(dir, sizeof(dir), path, sizeof(path), true, &size);
	// A hole in the last group (91..100), in record 95's client id
	// (8 bytes into its body, after its frame).
	hole(path, record_off(1, 95) + 24, 8);
	// The store holds seq 95: the group was acknowledged, so damage.
	CHECK_EQ_INT(open_status(dir, 95, &last), RILL_ECORRUPT);
	CHECK_EQ_INT(file_size(path), size);
	// It holds up to 94: cut at 95.
	CHECK_EQ_INT(open_status(dir, 94, &last), RILL_OK);
	CHECK_EQ_INT(last, 94);
	CHECK_EQ_INT(file_size(path), (long long) record_off(1, 95));
	tmp_remove(dir);

	// A hole at a record's start (its length reads 0), the same.
	crashed_log(dir, sizeof(dir), path, sizeof(path), true, &size);
	hole(path, record_off(1, 92), (size_t) record_size(92) + 3);
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 91);
	tmp_remove(dir);

	// A hole in group 81..90: whole records of two groups follow it.
	crashed_log(dir, sizeof(dir), path, sizeof(path), true, &size);
	hole(path, record_off(1, 85) + 24, 8);
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	CHECK_EQ_INT(file_size(path), size);
	tmp_remove(dir);

	// Records whose times differ within a group (a follower's log holds
	// the leader's times): a hole stays damage.
	crashed_log(dir, sizeof(dir), path, sizeof(path), false, &size);
	hole(path, record_off(1, 95) + 24, 8);
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	CHECK_EQ_INT(file_size(path), size);
	tmp_remove(dir);
}

// test_torn_tail_cut: a last record cut short by a crash is cut off, at
// any point of its frame or body, and appends go on after it.
static void
test_torn_tail_cut(void)
{
	char      dir[64], path[128];
	rill_log *log;
	uint64_t  last, off100 = record_off(1, 100);
	uint64_t  cuts[] = { 1, 3, 8, 20, record_size(100) - 1 };

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		tmp_new(dir, sizeof(dir));
		CHECK_EQ_INT(make_log(dir, 100, NULL), RILL_OK);
		seg_path(path, sizeof(path), dir, 1);
		CHECK_EQ_INT(truncate(path, (off_t) (off100 + cuts[i])), 0);
		CHECK_EQ_INT(
		    rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
		CHECK_EQ_INT(rill_log_last_seq(log), 99);
		CHECK_EQ_INT(file_size(path), off100);
		CHECK_EQ_INT(rill_log_size(log), off100);
		CHECK_EQ_INT(append_range(log, 100, 150, 10, true), RILL_OK);
		rill_log_close(log);
		CHECK_EQ_INT(
		    rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
		CHECK_EQ_INT(rill_log_last_seq(log), 150);
		CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
		CHECK_EQ_INT(last, 150);
		rill_log_close(log);
		tmp_remove(dir);
	}
}

// test_crc_damage_last_record_cut: the last record with a bad CRC is a
// torn write, even one the store holds when the log does not promise it
// was synced first (see test_synced_record_held_by_store_is_damage); so
// is one followed by nothing but zero bytes.
static void
test_crc_damage_last_record_cut(void)
{
	char     dir[64], path[128];
	uint8_t  zeros[64] = { 0 };
	uint64_t last;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 100, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	CHECK(poke(path, record_off(1, 100) + FIXED - 1, NULL, 1));
	CHECK_EQ_INT(open_status(dir, 100, &last), RILL_OK);
	CHECK_EQ_INT(last, 99);
	CHECK_EQ_INT(file_size(path), record_off(1, 100));

	// Record 98 damaged, record 99 zeroed whole: both are cut.
	CHECK(poke(path, record_off(1, 98) + 12, NULL, 1));
	for (uint64_t off = record_off(1, 99); off < record_off(1, 100);
	     off += sizeof(zeros)) {
		size_t n = record_off(1, 100) - off < sizeof(zeros)
		    ? (size_t) (record_off(1, 100) - off)
		    : sizeof(zeros);
		CHECK(poke(path, off, zeros, n));
	}
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 97);
	CHECK_EQ_INT(file_size(path), record_off(1, 98));
	tmp_remove(dir);
}

// test_synced_record_held_by_store_is_damage: under sync "always" every
// record the store holds was synced here first, so a damaged last record
// at or below the store's applied seq is damage, not a torn write: the
// open refuses it and the file is left as it is. Without that promise
// (interval, none), the same file is cut, as before
// (test_crc_damage_last_record_cut).
static void
test_synced_record_held_by_store_is_damage(void)
{
	rill_log_options synced = { .synced_before_store = true };
	char             dir[64], path[128];
	rill_log        *log;
	long long        size;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 100, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	CHECK(poke(path, record_off(1, 100) + FIXED - 1, NULL, 1));
	size = file_size(path);
	CHECK_EQ_INT(
	    rill_log_open(&log, dir, GEN, 0, 100, &synced), RILL_ECORRUPT);
	CHECK_EQ_INT(file_size(path), size);
	// A store that does not hold seq 100 yet: a torn write, cut.
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 99, &synced), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 99);
	rill_log_close(log);
	tmp_remove(dir);
}

// test_unsynced_tail_damage_cut_and_kept: under sync "none" the tail
// segment is synced only when sealed or closed, so a power cut may leave
// damage anywhere in it: recovery cuts it at the first damaged record and
// keeps the bytes cut beside the segment. A clean tail (zeros only after
// the records) leaves no such file.
static void
test_unsynced_tail_damage_cut_and_kept(void)
{
	rill_log_options unsynced = { .tail_unsynced = true };
	char             dir[64], path[128], kept[192];
	rill_log        *log;
	long long        size;
	uint8_t          zeros[512] = { 0 };

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 100, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	size = file_size(path);
	CHECK(poke(path, (uint64_t) size, zeros, sizeof(zeros)));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &unsynced), RILL_OK);
	rill_log_close(log);
	snprintf(kept, sizeof(kept), "%s.damaged-%lld", path, size);
	CHECK(access(kept, F_OK) != 0);

	CHECK(poke(path, record_off(1, 50) + FIXED - 3, NULL, 1));
	size = file_size(path);
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &unsynced), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 49);
	rill_log_close(log);
	CHECK_EQ_INT(file_size(path), record_off(1, 50));
	snprintf(kept, sizeof(kept), "%s.damaged-%llu", path,
	    (unsigned long long) record_off(1, 50));
	CHECK_EQ_INT(file_size(kept), size - (long long) record_off(1, 50));
	tmp_remove(dir);
}

// test_zero_tail_cut: zero bytes after the last record (a file extended
// by a crash before its data reached the disk) are cut off.
static void
test_zero_tail_cut(void)
{
	char      dir[64], path[128];
	uint8_t   zeros[1000] = { 0 };
	rill_log *log;
	uint64_t  last;
	long long size;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 100, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	size = file_size(path);
	CHECK(poke(path, (uint64_t) size, zeros, sizeof(zeros)));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 100);
	CHECK_EQ_INT(file_size(path), size);
	CHECK_EQ_INT(append_range(log, 101, 110, 10, true), RILL_OK);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 110);
	rill_log_close(log);

	// Zeros with a stray byte in them are not a torn write.
	size       = file_size(path);
	zeros[500] = 1;
	CHECK(poke(path, (uint64_t) size, zeros, sizeof(zeros)));
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	tmp_remove(dir);
}

// test_segment_header_damage: a damaged header, a foreign generation and
// a name that disagrees with the header all fail open.
static void
test_segment_header_damage(void)
{
	char      dir[64], path[128], other[128];
	rill_log *log;
	uint64_t  last;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 10, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	CHECK(poke(path, 20, NULL, 1)); // generation, under the CRC
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	CHECK(poke(path, 20, NULL, 1));
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_OK);
	CHECK(poke(path, 0, "X", 1)); // magic
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	CHECK(poke(path, 0, "R", 1));
	CHECK_EQ_INT(
	    rill_log_open(&log, dir, GEN + 1, 0, 0, NULL), RILL_ECORRUPT);
	seg_path(other, sizeof(other), dir, 2);
	CHECK_EQ_INT(rename(path, other), 0);
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	tmp_remove(dir);
}

// test_newer_version_refused: a segment of a newer format is refused as
// such, not read as damage.
static void
test_newer_version_refused(void)
{
	char     dir[64], path[128];
	uint8_t  h[HDR];
	uint64_t last;
	int      fd;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 10, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	CHECK((fd = open(path, O_RDWR)) >= 0);
	CHECK_EQ_INT(pread(fd, h, HDR, 0), HDR);
	h[8]         = 2;
	uint32_t crc = rill_crc32c(h, 44);
	for (int i = 0; i < 4; i++) {
		h[44 + i] = (uint8_t) (crc >> (8 * i));
	}
	CHECK_EQ_INT(pwrite(fd, h, HDR, 0), HDR);
	close(fd);
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_EVERSION);
	tmp_remove(dir);
}

// test_damage_in_non_last_segment: damage that would pass for a torn
// write at the tail is corruption in any other segment, found at open
// when the segment is scanned and by readers otherwise.
static void
test_damage_in_non_last_segment(void)
{
	char             dir[64], path[128], next[128];
	rill_log_options opts = { .segment_max_bytes = 2048 };
	rill_log        *log;
	rill_log_reader *r;
	rill_record      rec;
	uint64_t         last, second;
	long long        size;
	int              rv;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 300, &opts), RILL_OK);
	seg_path(path, sizeof(path), dir, 1);
	size = file_size(path);
	// Find where the second segment starts.
	for (second = 1; record_off(1, second) < (uint64_t) size; second++) { }
	seg_path(next, sizeof(next), dir, second);
	CHECK(file_exists(next));

	// The last record of the first segment, CRC damaged.
	CHECK(poke(path, (uint64_t) size - 1, NULL, 1));
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	CHECK_EQ_INT(file_size(path), size);
	// Applied past it: not scanned at open, but a reader finds it.
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 300, &opts), RILL_OK);
	CHECK_EQ_INT(rill_log_last_seq(log), 300);
	CHECK_EQ_INT(rill_log_reader_open(&r, log, 0), RILL_OK);
	while ((rv = rill_log_reader_next(r, &rec)) == RILL_OK) { }
	CHECK_EQ_INT(rv, RILL_ECORRUPT);
	rill_log_reader_close(r);
	rill_log_close(log);
	CHECK(poke(path, (uint64_t) size - 1, NULL, 1));
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_OK);

	// A first segment cut short leaves a gap before the second.
	CHECK_EQ_INT(truncate(path, (off_t) record_off(1, second - 1)), 0);
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	tmp_remove(dir);
}

// test_missing_segment_is_a_gap: a segment gone from the middle is
// missing records.
static void
test_missing_segment_is_a_gap(void)
{
	char             dir[64], path[128];
	rill_log_options opts = { .segment_max_bytes = 2048 };
	uint64_t         last, first = 1;
	long long        size;
	int              n = 0;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 300, &opts), RILL_OK);
	// Walk to the third segment's first seq and remove the second.
	for (;;) {
		seg_path(path, sizeof(path), dir, first);
		CHECK((size = file_size(path)) > 0);
		if (++n == 2) {
			break;
		}
		uint64_t s = first;
		while (record_off(first, s) < (uint64_t) size) {
			s++;
		}
		first = s;
	}
	CHECK_EQ_INT(unlink(path), 0);
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	tmp_remove(dir);
}

// test_leftovers_removed: temporary segment files and a last segment
// shorter than its header (no record in it) are removed at open.
static void
test_leftovers_removed(void)
{
	char             dir[64], path[128], tmp[160];
	rill_log_options opts = { .segment_max_bytes = 2048 };
	rill_log        *log;
	uint64_t         last;
	int              fd;

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 10, NULL), RILL_OK);
	seg_path(path, sizeof(path), dir, 11);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK((fd = open(tmp, O_CREAT | O_WRONLY, 0644)) >= 0);
	CHECK_EQ_INT(write(fd, "RILLSEG", 7), 7);
	close(fd);
	CHECK((fd = open(path, O_CREAT | O_WRONLY, 0644)) >= 0);
	CHECK_EQ_INT(write(fd, "RILLSEG", 7), 7);
	close(fd);
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
	CHECK(!file_exists(tmp));
	CHECK(!file_exists(path));
	CHECK_EQ_INT(rill_log_last_seq(log), 10);
	CHECK_EQ_INT(rill_log_segment_count(log), 1);
	CHECK_EQ_INT(append_range(log, 11, 20, 10, true), RILL_OK);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, 20);
	rill_log_close(log);

	tmp_remove(dir);

	// A short file that is not the last segment is damage.
	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(make_log(dir, 100, &opts), RILL_OK);
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, &opts), RILL_OK);
	CHECK(rill_log_segment_count(log) > 2);
	rill_log_close(log);
	seg_path(path, sizeof(path), dir, 1);
	CHECK_EQ_INT(truncate(path, 20), 0);
	CHECK_EQ_INT(open_status(dir, 0, &last), RILL_ECORRUPT);
	tmp_remove(dir);
}

// test_io_error_fails_log: after a failed write the log refuses every
// write; a restart recovers what was flushed before it.
static void
test_io_error_fails_log(void)
{
	char          dir[64];
	rill_log     *log;
	struct rlimit old, lim;
	uint64_t      acked = 0, seq = 1, last;
	int           rv  = RILL_OK;
	uint8_t       b   = 0;
	rill_record   rec = { .seq = 1, .batch = &b, .batch_len = 1 };

	tmp_new(dir, sizeof(dir));
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
	CHECK_EQ_INT(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	// Past the first preallocated MiB, the next extension fails.
	lim.rlim_cur = 1536 << 10;
	CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
	while (seq < 1000000) {
		if ((rv = append_range(log, seq, seq + 29, 30, true)) !=
		    RILL_OK) {
			break;
		}
		seq += 30;
		acked = seq - 1;
	}
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_EQ_INT(rv, RILL_EIO);
	CHECK(acked > 0);
	CHECK_EQ_INT(rill_log_last_seq(log), acked);
	rec.seq = acked + 31;
	CHECK_EQ_INT(rill_log_append(log, &rec), RILL_EIO);
	CHECK_EQ_INT(rill_log_flush(log, true), RILL_EIO);
	CHECK_EQ_INT(rill_log_flush(log, false), RILL_EIO);
	CHECK_EQ_INT(rill_log_sync(log), RILL_EIO);
	CHECK_EQ_INT(rill_log_roll_if_due(log, rill_wall_us()), RILL_EIO);
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, acked);
	rill_log_close(log);

	// The group torn by the failed write is cut at restart, after the
	// records of it that reached the file whole (never acknowledged,
	// but valid).
	CHECK_EQ_INT(rill_log_open(&log, dir, GEN, 0, 0, NULL), RILL_OK);
	last = rill_log_last_seq(log);
	CHECK(last >= acked && last < acked + 30);
	CHECK_EQ_INT(
	    append_range(log, last + 1, last + 10, 10, true), RILL_OK);
	acked = last + 10;
	CHECK_EQ_INT(read_all(log, 0, &last), RILL_OK);
	CHECK_EQ_INT(last, acked);
	rill_log_close(log);
	tmp_remove(dir);
}

// exercise runs open, appends across rolls, reads and a reopen; it
// returns the first error.
static int
exercise(const char *dir)
{
	rill_log_options opts = { .segment_max_bytes = 1024 };
	rill_log        *log;
	uint64_t         last;
	int              rv;

	if ((rv = rill_log_open(&log, dir, GEN, 0, 0, &opts)) != RILL_OK) {
		return rv;
	}
	if ((rv = append_range(log, rill_log_last_seq(log) + 1,
	         rill_log_last_seq(log) + 40, 10, false)) == RILL_OK) {
		rv = read_all(log, 0, &last);
	}
	rill_log_close(log);
	return rv;
}

// test_alloc_failures: every allocation failure unwinds to RILL_ENOMEM
// without a leak (the sanitizer checks) or a damaged log.
static void
test_alloc_failures(void)
{
	char     dir[64];
	uint64_t last;
	int      rv;

	tmp_new(dir, sizeof(dir));
	for (unsigned long n = 1; n < 200; n++) {
		rill_mem_fail_after(n);
		rv = exercise(dir);
		rill_mem_fail_after(0);
		CHECK(rv == RILL_OK || rv == RILL_ENOMEM);
		// Whatever failed, the log on disk is whole.
		CHECK_EQ_INT(open_status(dir, 0, &last), RILL_OK);
	}
	CHECK_EQ_INT(exercise(dir), RILL_OK);
	tmp_remove(dir);
}

// Segment names: 16 lowercase hex digits of the first seq, then ".seg";
// anything else in a generation's directory is not a segment.
static void
test_segment_names(void)
{
	char     name[32];
	uint64_t first;
	uint64_t seqs[] = { 0, 1, 0xabcdef, UINT64_MAX };

	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		rill_log_segment_name(name, sizeof(name), seqs[i]);
		CHECK_EQ_INT(strlen(name), 20);
		CHECK(rill_log_parse_segment_name(name, &first));
		CHECK(first == seqs[i]);
	}
	rill_log_segment_name(name, sizeof(name), 0x2a);
	CHECK_EQ_STR(name, "000000000000002a.seg");
	first = 7;
	CHECK(!rill_log_parse_segment_name("000000000000002A.seg", &first));
	CHECK(
	    !rill_log_parse_segment_name("000000000000002a.seg.tmp", &first));
	CHECK(!rill_log_parse_segment_name("00000000000002a.seg", &first));
	CHECK(!rill_log_parse_segment_name("0000000000000002a.seg", &first));
	CHECK(!rill_log_parse_segment_name("000000000000002a.snap", &first));
	CHECK(!rill_log_parse_segment_name("00000000000000-2.seg", &first));
	CHECK(!rill_log_parse_segment_name("", &first));
	CHECK(first == 7);
}

RILL_TEST_MAIN_BEGIN
rill_diag_set_level(RILL_DIAG_NOTICE);
RILL_TEST_RUN(test_segment_names);
RILL_TEST_RUN(test_append_flush_read_back);
RILL_TEST_RUN(test_reopen_recovers_last_seq);
RILL_TEST_RUN(test_empty_log_base_seq);
RILL_TEST_RUN(test_append_invalid);
RILL_TEST_RUN(test_roll_by_size);
RILL_TEST_RUN(test_roll_by_age);
RILL_TEST_RUN(test_reader_out_of_range);
RILL_TEST_RUN(test_reader_concurrent_with_writer);
RILL_TEST_RUN(test_reader_seeks_mid_segment);
RILL_TEST_RUN(test_crc_damage_mid_file);
RILL_TEST_RUN(test_bad_length_mid_file);
RILL_TEST_RUN(test_torn_tail_cut);
RILL_TEST_RUN(test_crc_damage_last_record_cut);
RILL_TEST_RUN(test_zero_tail_cut);
RILL_TEST_RUN(test_synced_record_held_by_store_is_damage);
RILL_TEST_RUN(test_unsynced_tail_damage_cut_and_kept);
RILL_TEST_RUN(test_segment_header_damage);
RILL_TEST_RUN(test_newer_version_refused);
RILL_TEST_RUN(test_damage_in_non_last_segment);
RILL_TEST_RUN(test_missing_segment_is_a_gap);
RILL_TEST_RUN(test_leftovers_removed);
RILL_TEST_RUN(test_io_error_fails_log);
RILL_TEST_RUN(test_alloc_failures);
RILL_TEST_RUN(test_length_grown_into_zeros);
RILL_TEST_RUN(test_torn_group_cut);
RILL_TEST_MAIN_END
