// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// snapshot_fuzz: arbitrary bytes as a snapshot file, read by read_info,
// verify and a reader. Any error code is fine; a crash, a leak, or the
// three disagreeing is a bug: a file verify accepts must read back whole,
// in strictly ascending key order, with the count and state hash its
// trailer gives, and a file verify refuses must not read to a clean end.
// Built with -DRILL_LIBFUZZER it is a libFuzzer target; otherwise
// replay_main.c replays the files named on the command line, which is how
// ctest runs the corpus.
//
// Input: one flags byte, then the file bytes. So that the fuzzer gets
// past the checksums, bit 0 sets each block's CRC right (for the blocks
// whose lengths fit), bit 1 sets the key count, raw bytes and state hash
// in header and trailer to what the blocks hold (as far as they decode),
// bit 2 sets the header CRC and bit 3 the trailer's file size and CRC.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lz4.h>
#include <xxhash.h>

#include <rill/status.h>

#include "crc.h"
#include "snapshot.h"

#define FLAG_BLOCK_CRC 0x01
#define FLAG_SUMS 0x02
#define FLAG_HEADER_CRC 0x04
#define FLAG_TRAILER 0x08
#define HDR RILL_SNAPSHOT_HEADER_SIZE
#define TRL RILL_SNAPSHOT_TRAILER_SIZE
#define BLK 16
#define RAW_MAX ((size_t) 1 << 20) // blocks fix_sums decodes

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
	    (uint32_t) p[3] << 24;
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t) (v >> (8 * i));
	}
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t) (v >> (8 * i));
	}
}

// get_varint is a lenient LEB128 reader for fix_sums: false past end.
static bool
get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *vp)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64 && *pp < end; shift += 7) {
		uint8_t b = *(*pp)++;
		v |= (uint64_t) (b & 0x7f) << shift;
		if (b < 0x80) {
			*vp = v;
			return true;
		}
	}
	return false;
}

// fix_block_crcs sets the CRC of each block whose stored bytes fit.
static void
fix_block_crcs(uint8_t *buf, size_t n)
{
	size_t off = HDR;

	while (n >= TRL && off + BLK <= n - TRL) {
		uint32_t stored = get32(buf + off);
		if (stored == 0 || stored > n - TRL - off - BLK) {
			break;
		}
		put32(buf + off + 12, rill_crc32c(buf + off + BLK, stored));
		off += BLK + stored;
	}
}

// fix_sums writes into header and trailer the count, raw bytes and hash
// of the records the blocks decode to, as far as they do.
static void
fix_sums(uint8_t *buf, size_t n)
{
	rill_state_hasher *h;
	uint8_t           *raw;
	uint64_t           count = 0, raw_bytes = 0;
	size_t             off = HDR;

	if (n < HDR + TRL || rill_state_hasher_new(&h) != RILL_OK) {
		return;
	}
	if ((raw = malloc(RAW_MAX)) == NULL) {
		abort();
	}
	while (off + BLK <= n - TRL) {
		uint32_t       stored = get32(buf + off);
		uint32_t       rlen   = get32(buf + off + 4);
		const uint8_t *p, *end;
		if (stored == 0 || stored > n - TRL - off - BLK ||
		    rlen > RAW_MAX) {
			break;
		}
		if (buf[off + 8] == 1) {
			int got =
			    LZ4_decompress_safe((const char *) buf + off + BLK,
			        (char *) raw, (int) stored, (int) rlen);
			if (got < 0) {
				break;
			}
			p   = raw;
			end = raw + got;
		} else {
			p   = buf + off + BLK;
			end = p + stored;
		}
		raw_bytes += rlen;
		while (p < end) {
			uint64_t kn, vn;
			if (!get_varint(&p, end, &kn) ||
			    !get_varint(&p, end, &vn) ||
			    kn > (uint64_t) (end - p) ||
			    vn > (uint64_t) (end - p) - kn) {
				break;
			}
			rill_state_hasher_add(h, p, kn, p + kn, vn);
			count++;
			p += kn + vn;
		}
		off += BLK + stored;
	}
	put64(buf + 32, count);
	put64(buf + n - TRL + 8, count);
	put64(buf + n - TRL + 16, rill_state_hasher_digest(h));
	put64(buf + n - TRL + 24, raw_bytes);
	rill_state_hasher_free(h);
	free(raw);
}

// check_reader reads path through to the end and checks what it gives
// against verify's answer (verify_rv, and info when that is RILL_OK).
static void
check_reader(const char *path, int verify_rv, const rill_snapshot_info *info)
{
	rill_snapshot_reader *r;
	rill_snapshot_info    ri;
	rill_state_hasher    *h;
	const char           *k, *v;
	char                 *prev     = NULL;
	size_t                prev_len = 0, kn, vn;
	uint64_t              count    = 0;
	int                   rv;

	if (rill_state_hasher_new(&h) != RILL_OK) {
		abort();
	}
	rv = rill_snapshot_reader_open(&r, path, &ri);
	if (rv == RILL_OK) {
		while ((rv = rill_snapshot_reader_next(r, &k, &kn, &v, &vn)) ==
		    RILL_OK) {
			size_t m = kn < prev_len ? kn : prev_len;
			int    c = m > 0 ? memcmp(prev, k, m) : 0;
			if (count > 0 &&
			    (c > 0 || (c == 0 && prev_len >= kn))) {
				abort(); // a pair out of order got through
			}
			if ((prev = realloc(prev, kn + 1)) == NULL) {
				abort();
			}
			memcpy(prev, k, kn);
			prev_len = kn;
			rill_state_hasher_add(h, k, kn, v, vn);
			count++;
		}
		if (rv == RILL_NOT_FOUND &&
		    (count != ri.key_count ||
		        rill_state_hasher_digest(h) != ri.state_hash ||
		        rill_snapshot_reader_offset(r) !=
		            ri.file_size - TRL)) {
			abort(); // a clean end that does not add up
		}
		// The end, clean or damaged, stays put.
		if ((rv == RILL_NOT_FOUND || rv == RILL_ECORRUPT) &&
		    rill_snapshot_reader_next(r, &k, &kn, &v, &vn) != rv) {
			abort();
		}
		rill_snapshot_reader_close(r);
	}
	if (verify_rv == RILL_OK) {
		if (rv != RILL_NOT_FOUND ||
		    memcmp(&ri, info, sizeof(ri)) != 0) {
			abort();
		}
	} else if (rv == RILL_NOT_FOUND || rv != verify_rv) {
		abort(); // verify and a reader disagree
	}
	free(prev);
	rill_state_hasher_free(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char               path[64];
	rill_snapshot_info vi, ii;
	uint8_t           *buf;
	unsigned           flags;
	int                fd, vrv, irv;

	if (size < 1) {
		return 0;
	}
	flags = data[0];
	data++;
	size--;
	if ((buf = malloc(size + 1)) == NULL) {
		abort();
	}
	memcpy(buf, data, size);
	if (flags & FLAG_BLOCK_CRC) {
		fix_block_crcs(buf, size);
	}
	if (flags & FLAG_SUMS) {
		fix_sums(buf, size);
	}
	if ((flags & FLAG_HEADER_CRC) && size >= HDR) {
		put32(buf + 60, rill_crc32c(buf, 60));
	}
	if ((flags & FLAG_TRAILER) && size >= TRL) {
		put64(buf + size - TRL + 32, size);
		put32(buf + size - 4, rill_crc32c(buf + size - TRL, 44));
	}
	snprintf(path, sizeof(path), "/tmp/rill-snapshot-fuzz-XXXXXX");
	if ((fd = mkstemp(path)) < 0 ||
	    (size > 0 && write(fd, buf, size) != (ssize_t) size)) {
		abort();
	}
	close(fd);

	irv = rill_snapshot_read_info(path, &ii);
	vrv = rill_snapshot_verify(path, &vi);
	if (vrv == RILL_OK &&
	    (irv != RILL_OK || memcmp(&ii, &vi, sizeof(ii)) != 0 ||
	        vi.file_size != size)) {
		abort(); // read_info refuses (or misreads) what verify accepts
	}
	check_reader(path, vrv, &vi);
	unlink(path);
	free(buf);
	return 0;
}
