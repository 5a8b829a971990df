// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// snapshot: a consistent image of the keyspace at one seq, in one file,
// and the state hash that proves two copies hold the same data.
//
// The state hash is XXH3-64 (seed 0), streamed over every user key/value
// pair in ascending key order (bytewise, as LevelDB orders them), each
// pair fed as:
//
//   u64 key length (little-endian) | key | u64 value length | value
//
// so "ab"+"c" and "a"+"bc" differ. The empty keyspace hashes to XXH3-64
// of no bytes. Every node, snapshot and tool computes it this way.
//
// A snapshot file (all integers little-endian):
//
//   header, 64 bytes:
//     magic "RILLSNP\0" | u32 version (1) | u32 header size (64)
//     | u64 generation | u64 seq | u64 key count | u64 created wall-clock us
//     | u32 block size (target raw bytes per block) | u32 reserved (0)
//     | u32 reserved (0) | u32 CRC32C of the 60 bytes before it
//     (offsets 0, 8, 12, 16, 24, 32, 40, 48, 52, 56, 60: the reserved
//     bytes are 52..59, so that the header is 64 bytes with its CRC last)
//   blocks, each:
//     u32 stored length | u32 raw length | u8 codec (0 none, 1 lz4)
//     | u8[3] zero | u32 CRC32C of the stored bytes | stored bytes
//     raw bytes: records, each varint key length | varint value length
//     | key | value (LEB128 varints); a block holds whole records only
//     (a block is never empty: stored and raw lengths are 1 to 64 MiB;
//     codec 0 has stored == raw, lz4 saves at least 1/8 of raw)
//   end block: a block header with stored length 0, raw length 0
//     (codec 0, zero padding, CRC32C of no bytes, which is 0)
//   trailer, 48 bytes:
//     magic "RILLSNPE" | u64 key count | u64 state hash
//     | u64 raw bytes (sum of the blocks' raw lengths) | u64 file size
//     | u32 reserved (0) | u32 CRC32C of the 44 bytes before it
//
// Keys are strictly ascending across the whole file. A block is stored
// uncompressed when lz4 saves less than 1/8 of it (and the writer then
// stores the next 15 blocks without trying, so incompressible values cost
// no compression time; readers need not know). The file is written
// under "<name>.tmp", fsynced, renamed into place and the directory
// fsynced, so a snapshot file either exists whole or not at all.
//
// Every read checks what it reads: magic, version (a newer one is
// RILL_EVERSION), header and trailer CRCs, each block's CRC and lengths,
// the key order, and at the end the count and the state hash against the
// trailer. Any mismatch is RILL_ECORRUPT, logged (SNAPSHOT-CORRUPT) with
// the file and the offset, and nothing read is to be used as whole.
// Reserved and padding bytes must be zero and varints in their shortest
// form, so the bytes of a valid file are fixed by its pairs (and
// created_us). A version above 1 is RILL_EVERSION when the header size is
// not 64 or the header CRC holds; a version that fails the CRC of a
// 64-byte header is a damaged byte, RILL_ECORRUPT.
#ifndef RILL_SERVICE_SNAPSHOT_H
#define RILL_SERVICE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define RILL_SNAPSHOT_VERSION 1
#define RILL_SNAPSHOT_HEADER_SIZE 64
#define RILL_SNAPSHOT_TRAILER_SIZE 48
// RILL_SNAPSHOT_BLOCK_SIZE is the target raw size of a block.
#define RILL_SNAPSHOT_BLOCK_SIZE (64u << 10)

// rill_state_hasher computes the state hash incrementally.
typedef struct rill_state_hasher rill_state_hasher;

int  rill_state_hasher_new(rill_state_hasher **hp); // RILL_ENOMEM
void rill_state_hasher_free(rill_state_hasher *h);  // NULL is a no-op
void rill_state_hasher_reset(rill_state_hasher *h);
// rill_state_hasher_add feeds one pair; pairs must come in key order.
void rill_state_hasher_add(rill_state_hasher *h, const void *key, size_t klen,
    const void *value, size_t vlen);
uint64_t rill_state_hasher_digest(const rill_state_hasher *h);

// rill_state_hash_store computes the state hash of store's user keys over
// one consistent view; *seqp gets that view's applied seq and *countp
// (if not NULL) the number of keys. Any thread; reads the whole keyspace.
int rill_state_hash_store(
    rill_store *store, uint64_t *seqp, uint64_t *hashp, uint64_t *countp);

// rill_snapshot_info describes a snapshot file.
typedef struct rill_snapshot_info {
	uint64_t generation;
	uint64_t seq;
	uint64_t key_count;
	uint64_t created_us; // wall clock, microseconds since the epoch
	uint64_t state_hash;
	uint64_t raw_bytes; // the records' bytes before compression
	uint64_t file_size;
} rill_snapshot_info;

// rill_snapshot_name writes the file name of the snapshot at seq,
// "%016" PRIx64 ".snap", into buf (at least 32 bytes).
void rill_snapshot_name(char *buf, size_t n, uint64_t seq);
// rill_snapshot_parse_name reads the seq back from a file name; false if
// name is not a snapshot file name.
bool rill_snapshot_parse_name(const char *name, uint64_t *seqp);

// A writer builds one snapshot file from pairs given in ascending key
// order. One thread uses it.
typedef struct rill_snapshot_writer rill_snapshot_writer;

// rill_snapshot_writer_open creates "<path>.tmp" (path is the final name)
// for a snapshot of generation at seq, created at created_us.
int rill_snapshot_writer_open(rill_snapshot_writer **wp, const char *path,
    uint64_t generation, uint64_t seq, uint64_t created_us);
// rill_snapshot_writer_add appends one pair. A key not greater than the
// previous one is RILL_INVALID_ARGUMENT, as is a pair whose record would
// pass 64 MiB (the bound on a block); either leaves w as it was, as does
// RILL_ENOMEM. RILL_EIO on a write error, after which w only fails.
int rill_snapshot_writer_add(rill_snapshot_writer *w, const void *key,
    size_t klen, const void *value, size_t vlen);
// rill_snapshot_writer_finish writes the end block and trailer, fsyncs,
// renames into place, fsyncs the directory and frees w (also on error, in
// which case the temporary file is removed). *info (if not NULL) gets the
// finished file's description.
int rill_snapshot_writer_finish(
    rill_snapshot_writer *w, rill_snapshot_info *info);
// rill_snapshot_writer_abort removes the temporary file and frees w.
void rill_snapshot_writer_abort(rill_snapshot_writer *w); // NULL: no-op

// rill_snapshot_progress_fn is called now and then (every block) with the
// keys done so far; returning false cancels (RILL_CANCELLED).
typedef bool (*rill_snapshot_progress_fn)(void *arg, uint64_t keys_done);

// rill_snapshot_write_store writes a snapshot of store's current view
// into dir (which must exist), named for the view's applied seq, as part
// of generation. The view is a LevelDB snapshot, so writes go on while it
// runs. progress may be NULL. *info gets the result. The seq is the one
// rill_store_iter_new reads through the view itself, so the snapshot holds
// exactly the writes up to it. A walk that LevelDB ends with an error
// fails the snapshot. A second call for the same dir and seq replaces the
// first's file; two such calls must not overlap (they would share
// "<name>.tmp").
int rill_snapshot_write_store(rill_store *store, const char *dir,
    uint64_t generation, rill_snapshot_progress_fn progress, void *arg,
    rill_snapshot_info *info);

// rill_snapshot_read_info reads and checks the header and trailer only
// (cheap: two small reads), for listings and downloads. Blocks are not
// checked: use a reader or rill_snapshot_verify for that. A missing file
// is RILL_ENOENT, not logged (here, for a reader and for verify alike).
int rill_snapshot_read_info(const char *path, rill_snapshot_info *info);

// A reader returns the pairs of a snapshot file in order, checking every
// block as it goes. One thread uses it.
typedef struct rill_snapshot_reader rill_snapshot_reader;

// rill_snapshot_reader_open opens path and checks its header and trailer;
// *info (if not NULL) gets them.
int rill_snapshot_reader_open(
    rill_snapshot_reader **rp, const char *path, rill_snapshot_info *info);
// rill_snapshot_reader_next gives the next pair (pointers valid until the
// next call). It returns RILL_OK, RILL_NOT_FOUND after the last pair once
// the count and state hash matched the trailer, or RILL_ECORRUPT.
int rill_snapshot_reader_next(rill_snapshot_reader *r, const char **keyp,
    size_t *klenp, const char **valuep, size_t *vlenp);
// rill_snapshot_reader_offset is the file offset reached (for progress).
uint64_t rill_snapshot_reader_offset(const rill_snapshot_reader *r);
void     rill_snapshot_reader_close(rill_snapshot_reader *r); // NULL: no-op

// rill_snapshot_verify reads the whole file, checking everything, and
// fills *info (if not NULL).
int rill_snapshot_verify(const char *path, rill_snapshot_info *info);

#endif // RILL_SERVICE_SNAPSHOT_H
