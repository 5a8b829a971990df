// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// log_segment_fuzz: arbitrary bytes as segment files, opened by the log's
// recovery and read back by a reader. Any error code is fine; a crash, a
// leak, or a log that opens but cannot read its own records (or take a
// new one after them) is a bug. Built with -DRILL_LIBFUZZER it is a
// libFuzzer target; otherwise replay_main.c replays the files (or
// directories of files) named on the command line, which is how ctest runs
// the corpus.
//
// Input: one flags byte, then the file bytes.
//   bit 0: set the header CRC right, bit 1: set every record CRC right
//   (so the fuzzer gets past the checksums), bit 2: split the bytes into
//   two segments at the u16 (little-endian) that follows the flags,
//   bit 3: open with an applied seq past the first segment (not scanned).
// Each segment file is named for the first seq in its header (1 when too
// short to hold one); the log's generation is FUZZ_GENERATION.
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rill/status.h>

#include "crc.h"
#include "log.h"

#define FUZZ_GENERATION 0x00000000f0220001ull
#define FLAG_HEADER_CRC 0x01
#define FLAG_RECORD_CRC 0x02
#define FLAG_SPLIT 0x04
#define FLAG_APPLIED 0x08

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
	    (uint32_t) p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t) get32(p) | (uint64_t) get32(p + 4) << 32;
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t) (v >> (8 * i));
	}
}

// fix_crcs sets the header CRC and the CRC of every record that fits in
// buf, as the flags ask.
static void
fix_crcs(uint8_t *buf, size_t n, unsigned flags)
{
	size_t off = RILL_LOG_SEGMENT_HEADER_SIZE;

	if (n < RILL_LOG_SEGMENT_HEADER_SIZE) {
		return;
	}
	if (flags & FLAG_HEADER_CRC) {
		put32(buf + 44, rill_crc32c(buf, 44));
	}
	if (!(flags & FLAG_RECORD_CRC)) {
		return;
	}
	while (n - off >= RILL_LOG_RECORD_FRAME_SIZE) {
		uint32_t len = get32(buf + off);
		if (len > n - off - RILL_LOG_RECORD_FRAME_SIZE) {
			break;
		}
		put32(buf + off + 4,
		    rill_crc32c(buf + off + RILL_LOG_RECORD_FRAME_SIZE, len));
		off += RILL_LOG_RECORD_FRAME_SIZE + len;
	}
}

// write_segment writes buf as a segment file in dir; it returns the first
// seq it was named for.
static uint64_t
write_segment(const char *dir, uint8_t *buf, size_t n, unsigned flags)
{
	char     name[32], path[256];
	uint64_t first = 1;
	int      fd;

	fix_crcs(buf, n, flags);
	if (n >= 32 && get64(buf + 24) != 0) {
		first = get64(buf + 24);
	}
	rill_log_segment_name(name, sizeof(name), first);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644)) < 0 ||
	    (n > 0 && write(fd, buf, n) != (ssize_t) n)) {
		abort();
	}
	close(fd);
	return first;
}

static void
remove_dir(const char *dir)
{
	DIR           *d = opendir(dir);
	struct dirent *de;
	char           path[512];

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	rmdir(dir);
}

// check_log reads every record the opened log holds and appends one after
// them. When every segment was scanned at open, every record must read
// back; the new one must follow.
static void
check_log(rill_log *log, bool all_scanned)
{
	rill_log_reader *r;
	rill_record      rec;
	uint64_t         last    = rill_log_last_seq(log);
	uint64_t         oldest  = rill_log_oldest_seq(log);
	uint64_t         want    = oldest;
	uint8_t          batch[] = "fuzz";
	rill_record      next;
	int              rv;

	if (oldest == 0 ||
	    rill_log_reader_open(&r, log, oldest - 1) != RILL_OK) {
		abort();
	}
	while ((rv = rill_log_reader_next(r, &rec)) == RILL_OK) {
		if (rec.seq != want++) {
			abort();
		}
	}
	rill_log_reader_close(r);
	if (all_scanned && (rv != RILL_NOT_FOUND || want != last + 1)) {
		abort(); // recovery passed a record that cannot be read
	}
	if (rv != RILL_NOT_FOUND || last == UINT64_MAX) {
		return;
	}
	next = (rill_record) {
		.seq = last + 1, .batch = batch, .batch_len = sizeof(batch)
	};
	if (rill_log_append(log, &next) != RILL_OK ||
	    rill_log_flush(log, false) != RILL_OK) {
		return; // e.g. the disk: not the parser's business
	}
	if (rill_log_reader_open(&r, log, last) != RILL_OK) {
		abort();
	}
	if (rill_log_reader_next(r, &rec) != RILL_OK || rec.seq != last + 1 ||
	    rec.batch_len != sizeof(batch) ||
	    memcmp(rec.batch, batch, sizeof(batch)) != 0) {
		abort();
	}
	rill_log_reader_close(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char      dir[64];
	uint8_t  *buf;
	size_t    n, split;
	unsigned  flags;
	uint64_t  first, applied = 0;
	rill_log *log;

	if (size < 1) {
		return 0;
	}
	flags = data[0];
	data++;
	size--;
	split = size;
	if ((flags & FLAG_SPLIT) && size >= 2) {
		split = (size_t) data[0] | (size_t) data[1] << 8;
		data += 2;
		size -= 2;
		if (split > size) {
			split = size;
		}
	}
	if ((buf = malloc(size + 1)) == NULL) {
		return 0;
	}
	memcpy(buf, data, size);
	snprintf(dir, sizeof(dir), "/tmp/rill-log-fuzz-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		abort();
	}
	first = write_segment(dir, buf, split, flags);
	n     = size - split;
	if (flags & FLAG_SPLIT) {
		write_segment(dir, buf + split, n, flags);
	}
	if (flags & FLAG_APPLIED) {
		applied = first + 1000;
	}
	if (rill_log_open(&log, dir, FUZZ_GENERATION, 0, applied, NULL) ==
	    RILL_OK) {
		check_log(log, applied == 0);
		rill_log_close(log);
	}
	remove_dir(dir);
	free(buf);
	return 0;
}
