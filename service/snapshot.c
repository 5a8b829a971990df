// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// snapshot: the state hash, and snapshot files written from a store view
// and read back. The writer gathers records into a raw block, compresses
// each full block straight into a 1 MiB output buffer and writes that with
// one write(2) when it fills, so a pair costs no syscall and no allocation.
// The reader reads ahead 1 MiB at a time and checks every byte it reads
// before it hands out a pair; damage is logged once, with file and offset,
// and sticks: the reader returns RILL_ECORRUPT from then on.
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>
#define XXH_STATIC_LINKING_ONLY // for sizeof(XXH3_state_t)
#include <xxhash.h>

#include <rill/status.h>

#include "clock.h"
#include "crc.h"
#include "diag.h"
#include "file.h"
#include "hex.h"
#include "le.h"
#include "mem.h"

#define HEADER_SIZE RILL_SNAPSHOT_HEADER_SIZE
#define TRAILER_SIZE RILL_SNAPSHOT_TRAILER_SIZE
#define BLOCK_HEADER_SIZE 16
#define HEADER_MAGIC "RILLSNP" // 8 bytes with its NUL
#define TRAILER_MAGIC "RILLSNPE"
#define MAGIC_SIZE 8
#define CODEC_NONE 0
#define CODEC_LZ4 1
// BLOCK_MAX bounds a block's stored and raw lengths, and so a pair: a
// damaged length is refused before it can size an allocation.
#define BLOCK_MAX ((uint32_t) 64 << 20)
// LZ4_RATIO_MAX: one byte of lz4 data never yields more than 255 bytes.
#define LZ4_RATIO_MAX 255u
#define OUT_BUF_SIZE ((size_t) 1 << 20)
// After a block that lz4 did not shrink enough, this many blocks are
// stored without trying.
#define LZ4_SKIP 15
// The writeback of a snapshot is started every this many bytes written.
#define WRITEBACK_EVERY ((uint64_t) 8 << 20)
#define READ_BUF_SIZE ((size_t) 1 << 20)
#define VARINT_MAX 10 // bytes of a LEB128 u64
// Pairs whose key is at most this long are fed to the hash in two calls.
#define HASH_SHORT_KEY 240
#define NAME_LEN 21 // "%016" PRIx64 ".snap"

struct rill_state_hasher {
	XXH3_state_t *st;  // 64-byte aligned, inside mem
	void         *mem; // from rill_alloc
};

struct rill_snapshot_writer {
	int               fd;
	char             *path; // the final name
	char             *tmp;  // path + ".tmp"
	uint64_t          generation;
	uint64_t          seq;
	uint64_t          created_us;
	uint64_t          count;
	uint64_t          raw_bytes; // of the blocks written so far
	uint64_t          written;   // bytes handed to write(2)
	uint64_t          flushed;   // bytes whose writeback was started
	uint64_t          n_blocks;
	unsigned          lz4_skip; // blocks left to store without trying lz4
	int               err; // sticky: an I/O error left the file unknown
	rill_state_hasher hasher;

	// The block being filled: whole records, and where its last key is.
	uint8_t *raw;
	size_t   raw_len;
	size_t   raw_cap;
	size_t   last_off;
	size_t   last_len;
	// The last key of the blocks already written, once raw is empty.
	uint8_t *prev;
	size_t   prev_len;
	size_t   prev_cap;
	// Bytes waiting for the next write(2): always room for one block.
	uint8_t *out;
	size_t   out_len;
	size_t   out_cap;
};

struct rill_snapshot_reader {
	int                fd;
	char              *path;
	rill_snapshot_info info;
	uint64_t           end;  // offset of the trailer: blocks end here
	uint64_t           off;  // offset of the next block header
	int                done; // RILL_OK while reading; then sticky
	uint64_t           count;
	uint64_t           raw_bytes;
	rill_state_hasher  hasher;

	// Read-ahead: buf holds the file's bytes [buf_off, buf_off + buf_len).
	uint8_t *buf;
	size_t   buf_cap;
	uint64_t buf_off;
	size_t   buf_len;
	// The decompressed block, when the block is lz4.
	uint8_t *unz;
	size_t   unz_cap;
	// The records of the current block not yet returned, where the block
	// starts in the file, and its codec (for messages).
	const uint8_t *p;
	const uint8_t *p_start;
	const uint8_t *p_end;
	uint64_t       block_off;
	// The previous key: in the current block, or copied into prev when
	// a new block is loaded.
	const uint8_t *last;
	size_t         last_len;
	uint8_t       *prev;
	size_t         prev_cap;
};

static bool
is_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

// corrupt logs damage at offset off of path and returns RILL_ECORRUPT.
static int corrupt(const char *path, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
corrupt(const char *path, uint64_t off, const char *fmt, ...)
{
	char    what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	rill_diag_err("SNAPSHOT-CORRUPT",
	    "%s: offset %" PRIu64 ": %s. The snapshot is damaged and none of "
	    "it is used: take a new snapshot or fetch this one again from a "
	    "healthy node",
	    path, off, what);
	return RILL_ECORRUPT;
}

// io_error logs a failed system call on path (errno holds the cause) and
// returns RILL_EIO, or RILL_ENOENT for a missing file.
static int
io_error(const char *what, const char *path)
{
	int rv = errno == ENOENT ? RILL_ENOENT : RILL_EIO;

	rill_diag_err("SNAPSHOT-IO", "%s %s: %s", what, path, strerror(errno));
	return rv;
}

// open_error handles a failed open of a snapshot to read: a missing file
// is RILL_ENOENT, left to the caller to report (asking for a snapshot
// that is gone is not always an error); anything else is logged.
static int
open_error(const char *path)
{
	if (errno == ENOENT) {
		return RILL_ENOENT;
	}
	return io_error("open", path);
}

// varint_len returns the bytes v takes as a LEB128 varint.
static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *
put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t) v;
	return p;
}

// get_varint reads a varint from [*pp, end) into *vp and moves *pp past
// it. It returns false when the varint runs past end, is longer than 10
// bytes, overflows 64 bits or is not in its shortest form (each value has
// one encoding, so the bytes of a valid file are fixed by its pairs).
static bool
get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *vp)
{
	const uint8_t *p = *pp;
	uint64_t       v = 0;

	for (unsigned shift = 0; shift < 7 * VARINT_MAX; shift += 7) {
		uint8_t b;
		if (p == end) {
			return false;
		}
		b = *p++;
		if (shift == 63 && b > 1) {
			return false;
		}
		v |= (uint64_t) (b & 0x7f) << shift;
		if (b < 0x80) {
			if (b == 0 && shift > 0) {
				return false;
			}
			*pp = p;
			*vp = v;
			return true;
		}
	}
	return false;
}

// key_cmp orders keys as LevelDB's bytewise comparator does.
static int
key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int    c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0) {
		return c;
	}
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

// use_lz4 tells whether lz4 output of stored bytes for raw bytes saves at
// least 1/8 of them, the one rule for choosing a block's codec.
static bool
use_lz4(uint64_t raw, uint64_t stored)
{
	return stored < raw && (raw - stored) * 8 >= raw;
}

// grow makes *bufp hold at least need bytes (doubling, at least min),
// keeping its contents; RILL_ENOMEM leaves it untouched.
static int
grow(uint8_t **bufp, size_t *capp, size_t need, size_t min)
{
	size_t   cap = *capp < min ? min : *capp;
	uint8_t *buf;

	if (need <= *capp) {
		return RILL_OK;
	}
	while (cap < need) {
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	}
	if ((buf = rill_realloc(*bufp, cap)) == NULL) {
		return RILL_ENOMEM;
	}
	*bufp = buf;
	*capp = cap;
	return RILL_OK;
}

// hasher_init and hasher_fini set up and release a hasher that lives in
// the caller's storage. XXH3's state must be 64-byte aligned, more than
// rill_alloc promises, so it is placed inside a larger allocation.
static int
hasher_init(rill_state_hasher *h)
{
	size_t    align = _Alignof(XXH3_state_t);
	uintptr_t at;

	if ((h->mem = rill_alloc(sizeof(XXH3_state_t) + align - 1)) == NULL) {
		return RILL_ENOMEM;
	}
	at    = ((uintptr_t) h->mem + align - 1) & ~(uintptr_t) (align - 1);
	h->st = (XXH3_state_t *) at;
	XXH3_64bits_reset(h->st);
	return RILL_OK;
}

static void
hasher_fini(rill_state_hasher *h)
{
	rill_free(h->mem);
	h->mem = NULL;
	h->st  = NULL;
}

int
rill_state_hasher_new(rill_state_hasher **hp)
{
	rill_state_hasher *h = rill_zalloc(sizeof(*h));

	if (h == NULL) {
		return RILL_ENOMEM;
	}
	if (hasher_init(h) != RILL_OK) {
		rill_free(h);
		return RILL_ENOMEM;
	}
	*hp = h;
	return RILL_OK;
}

void
rill_state_hasher_free(rill_state_hasher *h)
{
	if (h == NULL) {
		return;
	}
	hasher_fini(h);
	rill_free(h);
}

void
rill_state_hasher_reset(rill_state_hasher *h)
{
	XXH3_64bits_reset(h->st);
}

void
rill_state_hasher_add(rill_state_hasher *h, const void *key, size_t klen,
    const void *value, size_t vlen)
{
	uint8_t buf[8 + HASH_SHORT_KEY + 8];

	// XXH3 buffers small updates itself, but each call has a cost: a
	// short key goes in one call with both lengths.
	if (klen <= HASH_SHORT_KEY) {
		put64(buf, klen);
		if (klen > 0) {
			memcpy(buf + 8, key, klen);
		}
		put64(buf + 8 + klen, vlen);
		XXH3_64bits_update(h->st, buf, 16 + klen);
	} else {
		put64(buf, klen);
		XXH3_64bits_update(h->st, buf, 8);
		XXH3_64bits_update(h->st, key, klen);
		put64(buf, vlen);
		XXH3_64bits_update(h->st, buf, 8);
	}
	if (vlen > 0) {
		XXH3_64bits_update(h->st, value, vlen);
	}
}

uint64_t
rill_state_hasher_digest(const rill_state_hasher *h)
{
	return XXH3_64bits_digest(h->st);
}

int
rill_state_hash_store(
    rill_store *store, uint64_t *seqp, uint64_t *hashp, uint64_t *countp)
{
	rill_state_hasher h;
	rill_store_iter  *it;
	uint64_t          seq, count = 0;
	int               rv;

	if ((rv = hasher_init(&h)) != RILL_OK) {
		return rv;
	}
	if ((rv = rill_store_iter_new(store, &it, &seq)) != RILL_OK) {
		hasher_fini(&h);
		return rv;
	}
	for (rill_store_iter_seek_first(it); rill_store_iter_valid(it);
	     rill_store_iter_next(it)) {
		size_t      klen, vlen;
		const char *k = rill_store_iter_key(it, &klen);
		const char *v = rill_store_iter_value(it, &vlen);
		rill_state_hasher_add(&h, k, klen, v, vlen);
		count++;
	}
	if ((rv = rill_store_iter_status(it)) != RILL_OK) {
		rill_store_iter_free(it);
		hasher_fini(&h);
		return rv;
	}
	rill_store_iter_free(it);
	*seqp  = seq;
	*hashp = rill_state_hasher_digest(&h);
	if (countp != NULL) {
		*countp = count;
	}
	hasher_fini(&h);
	return RILL_OK;
}

void
rill_snapshot_name(char *buf, size_t n, uint64_t seq)
{
	snprintf(buf, n, "%016" PRIx64 ".snap", seq);
}

bool
rill_snapshot_parse_name(const char *name, uint64_t *seqp)
{
	return strlen(name) == NAME_LEN && strcmp(name + 16, ".snap") == 0 &&
	    rill_hex16_parse(name, seqp);
}

// encode_header writes the 64-byte header.
static void
encode_header(uint8_t *h, uint64_t generation, uint64_t seq, uint64_t count,
    uint64_t created_us)
{
	memcpy(h, HEADER_MAGIC, MAGIC_SIZE);
	put32(h + 8, RILL_SNAPSHOT_VERSION);
	put32(h + 12, HEADER_SIZE);
	put64(h + 16, generation);
	put64(h + 24, seq);
	put64(h + 32, count);
	put64(h + 40, created_us);
	put32(h + 48, RILL_SNAPSHOT_BLOCK_SIZE);
	memset(h + 52, 0, 8);
	put32(h + 60, rill_crc32c(h, 60));
}

// encode_trailer writes the 48-byte trailer.
static void
encode_trailer(uint8_t *t, uint64_t count, uint64_t hash, uint64_t raw_bytes,
    uint64_t file_size)
{
	memcpy(t, TRAILER_MAGIC, MAGIC_SIZE);
	put64(t + 8, count);
	put64(t + 16, hash);
	put64(t + 24, raw_bytes);
	put64(t + 32, file_size);
	put32(t + 40, 0);
	put32(t + 44, rill_crc32c(t, 44));
}

// drain writes the output buffer to the file.
static int
drain(rill_snapshot_writer *w)
{
	if (w->out_len == 0) {
		return RILL_OK;
	}
	if (rill_write_full(w->fd, w->out, w->out_len) != 0) {
		w->err = io_error("write", w->tmp);
		return w->err;
	}
	w->written += w->out_len;
	w->out_len = 0;
	// Start the writeback of what is written as the file grows, so the
	// fsync at the end finds little left to do. Only a hint: errors show
	// at that fsync.
	if (w->written - w->flushed >= WRITEBACK_EVERY) {
		(void) sync_file_range(w->fd, (off_t) w->flushed,
		    (off_t) (w->written - w->flushed), SYNC_FILE_RANGE_WRITE);
		w->flushed = w->written;
	}
	return RILL_OK;
}

// flush_block compresses the block being filled into the output buffer
// (which add made large enough), behind its block header, and starts a
// new block. Only an I/O error can fail it.
static int
flush_block(rill_snapshot_writer *w)
{
	size_t   raw_len = w->raw_len;
	size_t   bound   = (size_t) LZ4_compressBound((int) raw_len);
	uint8_t *h, *body;
	uint32_t stored;
	uint8_t  codec = CODEC_NONE;
	int      n, rv;

	if (w->out_cap - w->out_len < BLOCK_HEADER_SIZE + bound &&
	    (rv = drain(w)) != RILL_OK) {
		return rv;
	}
	h    = w->out + w->out_len;
	body = h + BLOCK_HEADER_SIZE;
	// Data that did not compress (random or already compressed values)
	// is stored as it is for the next LZ4_SKIP blocks without trying,
	// then tried again.
	bool tried = w->lz4_skip == 0;
	n          = 0;
	if (tried) {
		n = LZ4_compress_default((const char *) w->raw, (char *) body,
		    (int) raw_len, (int) bound);
	} else {
		w->lz4_skip--;
	}
	if (n > 0 && use_lz4(raw_len, (uint64_t) n)) {
		codec  = CODEC_LZ4;
		stored = (uint32_t) n;
	} else {
		if (tried) {
			w->lz4_skip = LZ4_SKIP;
		}
		memcpy(body, w->raw, raw_len);
		stored = (uint32_t) raw_len;
	}
	put32(h, stored);
	put32(h + 4, (uint32_t) raw_len);
	h[8] = codec;
	memset(h + 9, 0, 3);
	put32(h + 12, rill_crc32c(body, stored));
	w->out_len += BLOCK_HEADER_SIZE + stored;
	w->raw_bytes += raw_len;
	w->n_blocks++;

	// The block's last key stays the one the next key must follow; add
	// made prev large enough for it.
	memcpy(w->prev, w->raw + w->last_off, w->last_len);
	w->prev_len = w->last_len;
	w->raw_len  = 0;
	if (w->out_len >= OUT_BUF_SIZE) {
		return drain(w);
	}
	return RILL_OK;
}

// grow_block makes the block buffer hold need bytes, and the output
// buffer hold a whole block of that size compressed (flush_block relies
// on it: out_cap >= BLOCK_HEADER_SIZE + LZ4_compressBound(raw_cap)).
// On RILL_ENOMEM both stay as they were, or the output alone grew.
static int
grow_block(rill_snapshot_writer *w, size_t need)
{
	size_t cap = w->raw_cap * 2 > need ? w->raw_cap * 2 : need;
	int    rv;

	if (cap > BLOCK_MAX && need <= BLOCK_MAX) {
		cap = BLOCK_MAX;
	}
	if ((rv = grow(&w->out, &w->out_cap,
	         BLOCK_HEADER_SIZE + (size_t) LZ4_compressBound((int) cap),
	         0)) != RILL_OK) {
		return rv;
	}
	uint8_t *raw = rill_realloc(w->raw, cap);
	if (raw == NULL) {
		return RILL_ENOMEM;
	}
	w->raw     = raw;
	w->raw_cap = cap;
	return RILL_OK;
}

int
rill_snapshot_writer_open(rill_snapshot_writer **wp, const char *path,
    uint64_t generation, uint64_t seq, uint64_t created_us)
{
	rill_snapshot_writer *w;
	size_t                plen = strlen(path);
	int                   rv   = RILL_ENOMEM;

	if ((w = rill_zalloc(sizeof(*w))) == NULL) {
		return RILL_ENOMEM;
	}
	w->fd         = -1;
	w->generation = generation;
	w->seq        = seq;
	w->created_us = created_us;
	w->raw_cap    = RILL_SNAPSHOT_BLOCK_SIZE + 64;
	w->out_cap    = OUT_BUF_SIZE + BLOCK_HEADER_SIZE +
	    (size_t) LZ4_compressBound((int) w->raw_cap);
	w->prev_cap = 256;
	if ((w->path = rill_strdup(path)) == NULL ||
	    (w->tmp = rill_alloc(plen + 5)) == NULL ||
	    (w->raw = rill_alloc(w->raw_cap)) == NULL ||
	    (w->out = rill_alloc(w->out_cap)) == NULL ||
	    (w->prev = rill_alloc(w->prev_cap)) == NULL ||
	    hasher_init(&w->hasher) != RILL_OK) {
		goto out_free;
	}
	memcpy(w->tmp, path, plen);
	memcpy(w->tmp + plen, ".tmp", 5);
	// A leftover from a crash under the same name is overwritten.
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		rv = io_error("create", w->tmp);
		goto out_free;
	}
	// The header goes in last, over this placeholder, when the count is
	// known.
	memset(w->out, 0, HEADER_SIZE);
	w->out_len = HEADER_SIZE;
	*wp        = w;
	return RILL_OK;

out_free:
	hasher_fini(&w->hasher);
	rill_free(w->prev);
	rill_free(w->out);
	rill_free(w->raw);
	rill_free(w->tmp);
	rill_free(w->path);
	rill_free(w);
	return rv;
}

int
rill_snapshot_writer_add(rill_snapshot_writer *w, const void *key, size_t klen,
    const void *value, size_t vlen)
{
	size_t   rec;
	uint8_t *p;
	int      rv;

	if (w->err != RILL_OK) {
		return w->err;
	}
	if (w->count > 0) {
		const uint8_t *last =
		    w->raw_len > 0 ? w->raw + w->last_off : w->prev;
		size_t last_len = w->raw_len > 0 ? w->last_len : w->prev_len;
		if (key_cmp(key, klen, last, last_len) <= 0) {
			return RILL_INVALID_ARGUMENT;
		}
	}
	if (klen > BLOCK_MAX || vlen > BLOCK_MAX ||
	    (rec = varint_len(klen) + varint_len(vlen) + klen + vlen) >
	        BLOCK_MAX) {
		return RILL_INVALID_ARGUMENT;
	}
	// A record never straddles blocks: close the block it would
	// overfill. One larger than a block gets a block of its own.
	if (w->raw_len > 0 && w->raw_len + rec > RILL_SNAPSHOT_BLOCK_SIZE &&
	    (rv = flush_block(w)) != RILL_OK) {
		return rv;
	}
	// All memory the pair needs is taken here, before anything changes,
	// so RILL_ENOMEM leaves the writer as it was.
	if (w->raw_len + rec > w->raw_cap &&
	    (rv = grow_block(w, w->raw_len + rec)) != RILL_OK) {
		return rv;
	}
	if ((rv = grow(&w->prev, &w->prev_cap, klen, 0)) != RILL_OK) {
		return rv;
	}
	p = put_varint(w->raw + w->raw_len, klen);
	p = put_varint(p, vlen);
	if (klen > 0) {
		memcpy(p, key, klen);
	}
	w->last_off = (size_t) (p - w->raw);
	w->last_len = klen;
	p += klen;
	if (vlen > 0) {
		memcpy(p, value, vlen);
	}
	w->raw_len += rec;
	w->count++;
	rill_state_hasher_add(&w->hasher, key, klen, value, vlen);
	if (w->raw_len >= RILL_SNAPSHOT_BLOCK_SIZE) {
		return flush_block(w);
	}
	return RILL_OK;
}

// dir_of writes the directory part of path into buf (PATH_MAX bytes).
static int
dir_of(char *buf, const char *path)
{
	char *slash;

	if (snprintf(buf, PATH_MAX, "%s", path) >= PATH_MAX) {
		rill_diag_err("SNAPSHOT-IO", "path too long: %s", path);
		return RILL_EIO;
	}
	if ((slash = strrchr(buf, '/')) == NULL) {
		strcpy(buf, ".");
	} else if (slash == buf) {
		buf[1] = '\0';
	} else {
		*slash = '\0';
	}
	return RILL_OK;
}

static void
writer_free(rill_snapshot_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
	}
	hasher_fini(&w->hasher);
	rill_free(w->prev);
	rill_free(w->out);
	rill_free(w->raw);
	rill_free(w->tmp);
	rill_free(w->path);
	rill_free(w);
}

int
rill_snapshot_writer_finish(rill_snapshot_writer *w, rill_snapshot_info *info)
{
	uint8_t            header[HEADER_SIZE];
	char               dir[PATH_MAX];
	rill_snapshot_info done;
	uint8_t           *p;
	int                rv;

	if ((rv = w->err) != RILL_OK) {
		goto out_unlink;
	}
	if (w->raw_len > 0 && (rv = flush_block(w)) != RILL_OK) {
		goto out_unlink;
	}
	if (w->out_cap - w->out_len < BLOCK_HEADER_SIZE + TRAILER_SIZE &&
	    (rv = drain(w)) != RILL_OK) {
		goto out_unlink;
	}
	done = (rill_snapshot_info) {
		.generation = w->generation,
		.seq        = w->seq,
		.key_count  = w->count,
		.created_us = w->created_us,
		.state_hash = rill_state_hasher_digest(&w->hasher),
		.raw_bytes  = w->raw_bytes,
		.file_size =
		    w->written + w->out_len + BLOCK_HEADER_SIZE + TRAILER_SIZE,
	};
	// The end block: no bytes, so codec 0 and the CRC of nothing.
	p = w->out + w->out_len;
	memset(p, 0, BLOCK_HEADER_SIZE);
	put32(p + 12, rill_crc32c(p, 0));
	encode_trailer(p + BLOCK_HEADER_SIZE, done.key_count, done.state_hash,
	    done.raw_bytes, done.file_size);
	w->out_len += BLOCK_HEADER_SIZE + TRAILER_SIZE;
	if ((rv = drain(w)) != RILL_OK) {
		goto out_unlink;
	}
	encode_header(header, w->generation, w->seq, w->count, w->created_us);
	if (rill_pwrite_full(w->fd, header, sizeof(header), 0) != 0) {
		rv = io_error("write", w->tmp);
		goto out_unlink;
	}
	if (fsync(w->fd) != 0) {
		rv = io_error("fsync", w->tmp);
		goto out_unlink;
	}
	if (close(w->fd) != 0) {
		w->fd = -1;
		rv    = io_error("close", w->tmp);
		goto out_unlink;
	}
	w->fd = -1;
	if ((rv = dir_of(dir, w->path)) != RILL_OK) {
		goto out_unlink;
	}
	if (rename(w->tmp, w->path) != 0) {
		rv = io_error("rename into place", w->path);
		goto out_unlink;
	}
	// Renamed but not durable: the caller is told it failed, so the file
	// goes too rather than linger unaccounted for.
	if ((rv = rill_fsync_dir(dir)) != RILL_OK) {
		unlink(w->path);
		writer_free(w);
		return rv;
	}
	if (info != NULL) {
		*info = done;
	}
	writer_free(w);
	return RILL_OK;

out_unlink:
	unlink(w->tmp);
	writer_free(w);
	return rv;
}

void
rill_snapshot_writer_abort(rill_snapshot_writer *w)
{
	if (w == NULL) {
		return;
	}
	unlink(w->tmp);
	writer_free(w);
}

int
rill_snapshot_write_store(rill_store *store, const char *dir,
    uint64_t generation, rill_snapshot_progress_fn progress, void *arg,
    rill_snapshot_info *info)
{
	rill_store_iter      *it;
	rill_snapshot_writer *w;
	char                  name[32], path[PATH_MAX];
	uint64_t              seq, blocks = 0;
	int                   rv;

	if ((rv = rill_store_iter_new(store, &it, &seq)) != RILL_OK) {
		return rv;
	}
	rill_snapshot_name(name, sizeof(name), seq);
	if ((rv = rill_path_join(path, sizeof(path), dir, name)) != RILL_OK ||
	    (rv = rill_snapshot_writer_open(
	         &w, path, generation, seq, rill_wall_us())) != RILL_OK) {
		rill_store_iter_free(it);
		return rv;
	}
	for (rill_store_iter_seek_first(it); rill_store_iter_valid(it);
	     rill_store_iter_next(it)) {
		size_t      klen, vlen;
		const char *k = rill_store_iter_key(it, &klen);
		const char *v = rill_store_iter_value(it, &vlen);
		if ((rv = rill_snapshot_writer_add(w, k, klen, v, vlen)) !=
		    RILL_OK) {
			goto out_abort;
		}
		if (progress != NULL && w->n_blocks != blocks) {
			blocks = w->n_blocks;
			if (!progress(arg, w->count)) {
				rv = RILL_CANCELLED;
				goto out_abort;
			}
		}
	}
	if ((rv = rill_store_iter_status(it)) != RILL_OK) {
		goto out_abort;
	}
	// Release the LevelDB snapshot before the fsync.
	rill_store_iter_free(it);
	return rill_snapshot_writer_finish(w, info);

out_abort:
	rill_snapshot_writer_abort(w);
	rill_store_iter_free(it);
	return rv;
}

// check_header checks the header h of path, whose first bytes (at least
// 16) are n bytes long (short when the file is).
static int
check_header(const char *path, const uint8_t *h, size_t n)
{
	uint32_t version, hsize;

	if (n < MAGIC_SIZE || memcmp(h, HEADER_MAGIC, MAGIC_SIZE) != 0) {
		return corrupt(path, 0, "not a snapshot file (bad magic)");
	}
	if (n < 16) {
		return corrupt(path, n,
		    "the file ends inside its %d-byte header", HEADER_SIZE);
	}
	version = get32(h + 8);
	hsize   = get32(h + 12);
	// A newer format may lay its header out differently, but where it
	// keeps this header's size its CRC must hold: a version that fails
	// it is a damaged byte, not a newer writer.
	if (version > RILL_SNAPSHOT_VERSION &&
	    (hsize != HEADER_SIZE ||
	        (n >= HEADER_SIZE && rill_crc32c(h, 60) == get32(h + 60)))) {
		rill_diag_err("SNAPSHOT-VERSION",
		    "%s: snapshot format version %" PRIu32
		    " is newer than this rill reads (up to %d): use the newer "
		    "rill that wrote it",
		    path, version, RILL_SNAPSHOT_VERSION);
		return RILL_EVERSION;
	}
	if (n < HEADER_SIZE) {
		return corrupt(path, n,
		    "the file ends inside its %d-byte header", HEADER_SIZE);
	}
	if (rill_crc32c(h, 60) != get32(h + 60)) {
		return corrupt(path, 0, "header checksum mismatch");
	}
	if (version != RILL_SNAPSHOT_VERSION || hsize != HEADER_SIZE) {
		return corrupt(path, 8,
		    "header has version %" PRIu32 " and size %" PRIu32
		    ", expected %d and %d",
		    version, hsize, RILL_SNAPSHOT_VERSION, HEADER_SIZE);
	}
	if (get32(h + 48) == 0 || get32(h + 48) > BLOCK_MAX) {
		return corrupt(path, 48, "block size %" PRIu32 " out of range",
		    get32(h + 48));
	}
	if (!is_zero(h + 52, 8)) {
		return corrupt(path, 52, "reserved header bytes are not zero");
	}
	return RILL_OK;
}

// check_trailer checks the trailer t of path, whose size is size, against
// the header h.
static int
check_trailer(
    const char *path, const uint8_t *h, const uint8_t *t, uint64_t size)
{
	uint64_t at    = size - TRAILER_SIZE;
	uint64_t count = get64(t + 8);
	uint64_t raw   = get64(t + 24);

	if (memcmp(t, TRAILER_MAGIC, MAGIC_SIZE) != 0) {
		return corrupt(path, at,
		    "no trailer at the end of the file (bad magic): the file "
		    "is cut short or was not finished");
	}
	if (rill_crc32c(t, 44) != get32(t + 44)) {
		return corrupt(path, at, "trailer checksum mismatch");
	}
	if (get32(t + 40) != 0) {
		return corrupt(
		    path, at + 40, "reserved trailer bytes are not zero");
	}
	if (get64(t + 32) != size) {
		return corrupt(path, at + 32,
		    "the trailer gives a file size of %" PRIu64
		    " bytes, the file has %" PRIu64,
		    get64(t + 32), size);
	}
	if (count != get64(h + 32)) {
		return corrupt(path, at + 8,
		    "the trailer counts %" PRIu64 " keys, the header %" PRIu64,
		    count, get64(h + 32));
	}
	// Each record takes at least two bytes; no records, no bytes, and
	// the hash of nothing.
	if (raw / 2 < count || (count == 0) != (raw == 0) ||
	    (count == 0 && get64(t + 16) != XXH3_64bits("", 0))) {
		return corrupt(path, at + 8,
		    "the trailer's key count %" PRIu64 ", raw bytes %" PRIu64
		    " and state hash disagree",
		    count, raw);
	}
	return RILL_OK;
}

// read_meta reads and checks the header and trailer of the file open as
// fd and fills *info. Two small reads.
static int
read_meta(int fd, const char *path, rill_snapshot_info *info)
{
	uint8_t     h[HEADER_SIZE], t[TRAILER_SIZE];
	struct stat st;
	ssize_t     got;
	uint64_t    size;
	int         rv;

	if (fstat(fd, &st) != 0) {
		return io_error("stat", path);
	}
	size = (uint64_t) st.st_size;
	if ((got = rill_pread_full(fd, h, sizeof(h), 0)) < 0) {
		return io_error("read", path);
	}
	if ((rv = check_header(path, h, (size_t) got)) != RILL_OK) {
		return rv;
	}
	if (size < HEADER_SIZE + BLOCK_HEADER_SIZE + TRAILER_SIZE) {
		return corrupt(path, size,
		    "the file ends before its end block and trailer");
	}
	if ((got = rill_pread_full(fd, t, sizeof(t), size - TRAILER_SIZE)) <
	    0) {
		return io_error("read", path);
	}
	if (got != (ssize_t) sizeof(t)) {
		return corrupt(path, size - TRAILER_SIZE + (uint64_t) got,
		    "the file shrank while it was read");
	}
	if ((rv = check_trailer(path, h, t, size)) != RILL_OK) {
		return rv;
	}
	*info = (rill_snapshot_info) {
		.generation = get64(h + 16),
		.seq        = get64(h + 24),
		.key_count  = get64(t + 8),
		.created_us = get64(h + 40),
		.state_hash = get64(t + 16),
		.raw_bytes  = get64(t + 24),
		.file_size  = size,
	};
	return RILL_OK;
}

int
rill_snapshot_read_info(const char *path, rill_snapshot_info *info)
{
	rill_snapshot_info got;
	int                fd = open(path, O_RDONLY | O_CLOEXEC);
	int                rv;

	if (fd < 0) {
		return open_error(path);
	}
	rv = read_meta(fd, path, &got);
	close(fd);
	if (rv == RILL_OK) {
		*info = got;
	}
	return rv;
}

int
rill_snapshot_reader_open(
    rill_snapshot_reader **rp, const char *path, rill_snapshot_info *info)
{
	rill_snapshot_reader *r;
	int                   rv = RILL_ENOMEM;

	if ((r = rill_zalloc(sizeof(*r))) == NULL) {
		return RILL_ENOMEM;
	}
	r->fd       = -1;
	r->buf_cap  = READ_BUF_SIZE;
	r->prev_cap = 256;
	if ((r->path = rill_strdup(path)) == NULL ||
	    (r->buf = rill_alloc(r->buf_cap)) == NULL ||
	    (r->prev = rill_alloc(r->prev_cap)) == NULL ||
	    hasher_init(&r->hasher) != RILL_OK) {
		goto out_free;
	}
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rv = open_error(path);
		goto out_free;
	}
	if ((rv = read_meta(r->fd, path, &r->info)) != RILL_OK) {
		goto out_free;
	}
	r->end = r->info.file_size - TRAILER_SIZE;
	r->off = HEADER_SIZE;
	if (info != NULL) {
		*info = r->info;
	}
	*rp = r;
	return RILL_OK;

out_free:
	rill_snapshot_reader_close(r);
	return rv;
}

void
rill_snapshot_reader_close(rill_snapshot_reader *r)
{
	if (r == NULL) {
		return;
	}
	if (r->fd >= 0) {
		close(r->fd);
	}
	hasher_fini(&r->hasher);
	rill_free(r->prev);
	rill_free(r->unz);
	rill_free(r->buf);
	rill_free(r->path);
	rill_free(r);
}

uint64_t
rill_snapshot_reader_offset(const rill_snapshot_reader *r)
{
	return r->off;
}

// fill points *pp at the file's bytes [off, off + n), all before r->end,
// reading them (and what follows, up to the buffer's size) unless the
// buffer holds them. Bytes already buffered past off are kept, not read
// again. Earlier pointers into the buffer are invalid after it.
static int
fill(rill_snapshot_reader *r, uint64_t off, size_t n, const uint8_t **pp)
{
	size_t  keep = 0, want;
	ssize_t got;
	int     rv;

	if (off >= r->buf_off && off + n <= r->buf_off + r->buf_len) {
		*pp = r->buf + (off - r->buf_off);
		return RILL_OK;
	}
	if (off >= r->buf_off && off < r->buf_off + r->buf_len) {
		keep = (size_t) (r->buf_off + r->buf_len - off);
		memmove(r->buf, r->buf + (off - r->buf_off), keep);
	}
	r->buf_off = off;
	r->buf_len = keep;
	if ((rv = grow(&r->buf, &r->buf_cap, n, 0)) != RILL_OK) {
		return rv;
	}
	want = r->buf_cap;
	if (r->end - off < want) {
		want = (size_t) (r->end - off);
	}
	if ((got = rill_pread_full(
	         r->fd, r->buf + keep, want - keep, off + keep)) < 0) {
		return io_error("read", r->path);
	}
	r->buf_len += (size_t) got;
	if (r->buf_len < n) {
		return corrupt(r->path, off + r->buf_len,
		    "the file shrank while it was read");
	}
	*pp = r->buf;
	return RILL_OK;
}

// end_of_blocks checks the end block h at off and what the blocks added
// up to against the trailer; RILL_NOT_FOUND when all is well.
static int
end_of_blocks(rill_snapshot_reader *r, const uint8_t *h, uint64_t off)
{
	const rill_snapshot_info *in = &r->info;

	if (h[8] != CODEC_NONE || !is_zero(h + 9, 3) ||
	    get32(h + 12) != rill_crc32c(h, 0)) {
		return corrupt(r->path, off, "damaged end block");
	}
	if (off + BLOCK_HEADER_SIZE != r->end) {
		return corrupt(r->path, off + BLOCK_HEADER_SIZE,
		    "%" PRIu64 " bytes between the end block and the trailer",
		    r->end - off - BLOCK_HEADER_SIZE);
	}
	if (r->count != in->key_count || r->raw_bytes != in->raw_bytes) {
		return corrupt(r->path, off,
		    "the blocks hold %" PRIu64 " keys in %" PRIu64
		    " bytes, the trailer says %" PRIu64 " in %" PRIu64,
		    r->count, r->raw_bytes, in->key_count, in->raw_bytes);
	}
	if (rill_state_hasher_digest(&r->hasher) != in->state_hash) {
		return corrupt(r->path, r->end + 16,
		    "the pairs hash to %016" PRIx64
		    ", the trailer's state hash is %016" PRIx64,
		    rill_state_hasher_digest(&r->hasher), in->state_hash);
	}
	r->off = off + BLOCK_HEADER_SIZE;
	return RILL_NOT_FOUND;
}

// next_block loads the block at r->off and checks its header and CRC;
// RILL_NOT_FOUND after the end block, once everything added up.
static int
next_block(rill_snapshot_reader *r)
{
	const uint8_t *h, *body;
	uint64_t       off = r->off;
	uint32_t       stored, raw, crc;
	uint8_t        codec;
	int            rv;

	// The previous key lives in the block being left: keep a copy.
	if (r->count > 0 && r->last != r->prev) {
		if ((rv = grow(&r->prev, &r->prev_cap, r->last_len, 0)) !=
		    RILL_OK) {
			return rv;
		}
		if (r->last_len > 0) {
			memcpy(r->prev, r->last, r->last_len);
		}
		r->last = r->prev;
	}
	if (r->end - off < BLOCK_HEADER_SIZE) {
		return corrupt(r->path, off,
		    "the blocks run into the trailer without an end block");
	}
	if ((rv = fill(r, off, BLOCK_HEADER_SIZE, &h)) != RILL_OK) {
		return rv;
	}
	stored = get32(h);
	raw    = get32(h + 4);
	codec  = h[8];
	crc    = get32(h + 12);
	if (stored == 0 && raw == 0) {
		return end_of_blocks(r, h, off);
	}
	if (stored == 0 || raw == 0 || stored > BLOCK_MAX || raw > BLOCK_MAX) {
		return corrupt(r->path, off,
		    "block of %" PRIu32 " bytes stored for %" PRIu32
		    " raw (each must be 1 to %" PRIu32 ")",
		    stored, raw, BLOCK_MAX);
	}
	if (!is_zero(h + 9, 3)) {
		return corrupt(
		    r->path, off + 9, "block header padding is not zero");
	}
	if ((codec == CODEC_NONE && stored != raw) ||
	    (codec == CODEC_LZ4 &&
	        (!use_lz4(raw, stored) || raw / LZ4_RATIO_MAX > stored)) ||
	    codec > CODEC_LZ4) {
		return corrupt(r->path, off,
		    "block of codec %u has %" PRIu32
		    " bytes stored for %" PRIu32 " raw",
		    codec, stored, raw);
	}
	if (r->end - off - BLOCK_HEADER_SIZE < (uint64_t) stored) {
		return corrupt(r->path, off,
		    "block of %" PRIu32 " bytes runs into the trailer",
		    stored);
	}
	if ((rv = fill(r, off, BLOCK_HEADER_SIZE + stored, &h)) != RILL_OK) {
		return rv;
	}
	body = h + BLOCK_HEADER_SIZE;
	if (rill_crc32c(body, stored) != crc) {
		return corrupt(r->path, off, "block checksum mismatch");
	}
	if (codec == CODEC_LZ4) {
		int n;
		if ((rv = grow(&r->unz, &r->unz_cap, raw,
		         RILL_SNAPSHOT_BLOCK_SIZE)) != RILL_OK) {
			return rv;
		}
		n = LZ4_decompress_safe((const char *) body, (char *) r->unz,
		    (int) stored, (int) raw);
		if (n < 0 || (uint32_t) n != raw) {
			return corrupt(r->path, off,
			    "lz4 block does not decompress to its %" PRIu32
			    " bytes",
			    raw);
		}
		body = r->unz;
	}
	if (r->raw_bytes + raw > r->info.raw_bytes) {
		return corrupt(r->path, off,
		    "the blocks hold more than the trailer's %" PRIu64
		    " raw bytes",
		    r->info.raw_bytes);
	}
	r->raw_bytes += raw;
	r->block_off = off;
	r->p         = body;
	r->p_start   = body;
	r->p_end     = body + raw;
	r->off       = off + BLOCK_HEADER_SIZE + stored;
	return RILL_OK;
}

int
rill_snapshot_reader_next(rill_snapshot_reader *r, const char **keyp,
    size_t *klenp, const char **valuep, size_t *vlenp)
{
	const uint8_t *p, *key;
	uint64_t       klen, vlen;
	int            rv;

	if (r->done != RILL_OK) {
		return r->done;
	}
	while (r->p == r->p_end) {
		if ((rv = next_block(r)) != RILL_OK) {
			if (rv == RILL_NOT_FOUND || rv == RILL_ECORRUPT) {
				r->done = rv;
			}
			return rv;
		}
	}
	p = r->p;
	if (!get_varint(&p, r->p_end, &klen) ||
	    !get_varint(&p, r->p_end, &vlen) ||
	    klen > (uint64_t) (r->p_end - p) ||
	    vlen > (uint64_t) (r->p_end - p) - klen) {
		r->done = corrupt(r->path, r->block_off,
		    "record at byte %zu of the block's %zu runs past it "
		    "(or its lengths are malformed)",
		    (size_t) (r->p - r->p_start),
		    (size_t) (r->p_end - r->p_start));
		return r->done;
	}
	key = p;
	if (r->count > 0 &&
	    key_cmp(key, (size_t) klen, r->last, r->last_len) <= 0) {
		r->done = corrupt(r->path, r->block_off,
		    "key of the record at byte %zu of the block is not "
		    "greater than the one before",
		    (size_t) (r->p - r->p_start));
		return r->done;
	}
	if (r->count == r->info.key_count) {
		r->done = corrupt(r->path, r->block_off,
		    "more keys than the trailer's %" PRIu64,
		    r->info.key_count);
		return r->done;
	}
	r->p        = p + klen + vlen;
	r->last     = key;
	r->last_len = (size_t) klen;
	r->count++;
	rill_state_hasher_add(
	    &r->hasher, key, (size_t) klen, p + klen, (size_t) vlen);
	*keyp   = (const char *) key;
	*klenp  = (size_t) klen;
	*valuep = (const char *) (p + klen);
	*vlenp  = (size_t) vlen;
	return RILL_OK;
}

int
rill_snapshot_verify(const char *path, rill_snapshot_info *info)
{
	rill_snapshot_reader *r;
	rill_snapshot_info    got;
	const char           *k, *v;
	size_t                klen, vlen;
	int                   rv;

	if ((rv = rill_snapshot_reader_open(&r, path, &got)) != RILL_OK) {
		return rv;
	}
	while ((rv = rill_snapshot_reader_next(r, &k, &klen, &v, &vlen)) ==
	    RILL_OK) { }
	rill_snapshot_reader_close(r);
	if (rv != RILL_NOT_FOUND) {
		return rv;
	}
	if (info != NULL) {
		*info = got;
	}
	return RILL_OK;
}
