// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// log: the replication log of one generation, the source of truth of every
// write. It is a folder of append-only segment files named for their first
// seq ("0000000000000001.seg"); each holds records first_seq..last_seq with
// no gap, and each segment starts where the previous one ended. Every
// segment but the last holds at least one record and was made durable
// before the next one was created.
//
// On disk (all integers little-endian):
//
//   segment header, 48 bytes:
//     magic "RILLSEG\0" | u32 version (1) | u32 header size (48)
//     | u64 generation | u64 first_seq | u64 created wall-clock us
//     | u32 reserved (0) | u32 CRC32C of the 44 bytes before it
//   record, 8-byte frame + body:
//     u32 body length | u32 CRC32C of the body
//     body: u64 seq | u64 time_us | u64 client_id | u64 request_id
//           | batch bytes (a protobuf rill.v1.Batch)
//
// One thread at a time (the writer's committer, see writer.h) appends;
// any thread may read what is committed.
// Appends are buffered in memory and reach the file with rill_log_flush,
// which writes the group at once and, when asked, makes it durable with one
// fdatasync. Readers see records only once they were flushed (and synced,
// when the flush asked for it).
//
// Recovery (rill_log_open) checks every segment header and scans every
// record of the segments that may hold records after the caller's applied
// seq, and always the last segment. A damaged record at the very tail of
// the last segment (a torn write: the record runs past the end of the file,
// or everything from it to the end is zero bytes, or it is the last record
// and its CRC fails, or only zero bytes follow it) is cut off with a
// notice (LOG-TORN-TAIL). A record that seems to run past the end, or
// whose CRC fails and which ends in zero bytes, is not cut when the next
// record is found whole after it or inside it: its length field is
// damaged. A group torn by a power cut is cut too: a hole in the last
// group (sectors its fdatasync never wrote), then whole records of that
// group (the same time_us) and only zero bytes, all after the caller's
// applied seq (what the store holds was acknowledged). Damage anywhere
// else makes open fail with RILL_ECORRUPT and an error (LOG-CORRUPT)
// naming the file and offset. A last segment file shorter than a header
// holds no record and is removed.
#ifndef RILL_SERVICE_LOG_H
#define RILL_SERVICE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_LOG_SEGMENT_HEADER_SIZE 48
#define RILL_LOG_RECORD_FRAME_SIZE 8
#define RILL_LOG_RECORD_BODY_FIXED 32
// RILL_LOG_RECORD_MAX bounds one record's body; a larger length field is
// damage, not a record.
#define RILL_LOG_RECORD_MAX (64u << 20)
// RILL_LOG_DEFAULT_SEGMENT_BYTES is the segment size when none is set.
#define RILL_LOG_DEFAULT_SEGMENT_BYTES (64u << 20)

typedef struct rill_log        rill_log;
typedef struct rill_log_reader rill_log_reader;

// rill_log_options: a NULL pointer takes every default.
typedef struct rill_log_options {
	uint64_t segment_max_bytes;  // roll once a segment reaches this size
	                             // (0: RILL_LOG_DEFAULT_SEGMENT_BYTES)
	uint64_t segment_max_age_ms; // roll a non-empty segment this old (0:
	                             // never by age)
	// on_seal, if set, is called on the committer each time a
	// segment is sealed (durable, trimmed, never written again), with
	// the seqs it holds. It must not block.
	void (*on_seal)(void *arg, uint64_t first_seq, uint64_t last_seq);
	void *on_seal_arg;
	// synced_before_store: every record the store holds was synced into
	// this log before the store took it (sync policy "always"). Then a
	// damaged record at or below the store's applied seq cannot be a
	// write torn by a crash: recovery refuses it as damage instead of
	// cutting it. (Under "interval" and "none" a power cut can take log
	// pages the store's writes outlived.)
	bool synced_before_store;
	// tail_unsynced: the tail segment is synced only when it is sealed
	// or the log closes (sync policy "none"), so a power cut may leave
	// any damage in it. Recovery then cuts the tail at its first damaged
	// record, keeping the bytes cut in "<segment>.damaged-<offset>",
	// instead of refusing to start. Sealed segments stay checked
	// strictly.
	bool tail_unsynced;
} rill_log_options;

// rill_record is one record. The batch pointer is borrowed: from the
// caller for appends, and for reads valid until the next call on the
// reader.
typedef struct rill_record {
	uint64_t       seq;
	uint64_t       time_us;
	uint64_t       client_id;
	uint64_t       request_id;
	const uint8_t *batch;
	size_t         batch_len;
} rill_record;

// rill_log_open opens (creating if missing) the log in dir for generation.
// An empty log's first record will be base_seq + 1 (seqs run from 1 to
// UINT64_MAX - 1 and never wrap). It runs recovery as
// described above; applied_seq (what the store already holds) tells which
// segments must be scanned whole. On success the caller owns *logp and may
// ask rill_log_last_seq for the recovered tail: base_seq for a log with no
// segment, and possibly below applied_seq (a store ahead of its log after
// a crash with sync "none"; the caller decides). It returns RILL_ECORRUPT,
// RILL_EVERSION (a segment of a newer format), RILL_EIO or RILL_ENOMEM,
// each logged but ENOMEM, or RILL_INVALID_ARGUMENT for a base_seq past
// the largest seq. Blocks on disk I/O.
int rill_log_open(rill_log **logp, const char *dir, uint64_t generation,
    uint64_t base_seq, uint64_t applied_seq, const rill_log_options *opts);

// rill_log_close flushes nothing: call rill_log_flush first. NULL is a
// no-op. No reader may be open.
void rill_log_close(rill_log *log);

// rill_log_append adds rec to the group being built in memory. rec->seq
// must be rill_log_last_seq() + 1 counting earlier appends of the group.
// Committer only; no system call. Returns RILL_ENOMEM,
// RILL_INVALID_ARGUMENT (wrong seq, record over RILL_LOG_RECORD_MAX) or
// RILL_EIO (the log is failed).
int rill_log_append(rill_log *log, const rill_record *rec);

// rill_log_flush writes the group appended since the last flush in one
// write and, when sync is true, fdatasyncs the segment; with an empty
// group it only syncs (when asked). It first rolls to a new segment if the
// current one is over its size or age (the old one is fdatasynced first
// if needed, and the directory is fsynced when a segment is created), so
// a segment exceeds its size by at most one group. After an I/O error the
// log is failed: every later append, flush, sync or roll returns RILL_EIO,
// because the state of the file is no longer known (an fsync error is not
// retried). On RILL_ENOMEM the group stays and the flush may be retried.
// Committer only; blocks on disk I/O.
int rill_log_flush(rill_log *log, bool sync);

// rill_log_flush_rolls tells whether the next flush of a group starts a
// new segment (there is none yet, or the tail is full or old): that flush
// fdatasyncs and creates files, beyond its one write. Committer only.
bool rill_log_flush_rolls(rill_log *log, uint64_t now_us);

// rill_log_sync fdatasyncs what earlier flushes wrote (for sync policy
// "interval"). Committer only.
int rill_log_sync(rill_log *log);

// rill_log_roll_if_due seals the current segment and starts the next one
// when it is non-empty and older than segment_max_age_ms (now_us is the
// wall clock). The writer calls it when idle. Committer only.
int rill_log_roll_if_due(rill_log *log, uint64_t now_us);

// rill_log_last_seq returns the seq of the last record flushed (base_seq
// when empty). Any thread.
uint64_t rill_log_last_seq(rill_log *log);
// rill_log_last_time_us returns the time_us of that record (0 when the
// log holds none). Any thread.
uint64_t rill_log_last_time_us(rill_log *log);
// rill_log_oldest_seq returns the first seq the log still holds (last_seq
// + 1 when it holds none). Any thread.
uint64_t rill_log_oldest_seq(rill_log *log);
// rill_log_size returns the bytes of all segments. Any thread.
uint64_t rill_log_size(rill_log *log);
// rill_log_segment_count returns the number of segment files. Any thread.
unsigned rill_log_segment_count(rill_log *log);

// rill_log_reader_open starts a reader at the first record after
// after_seq. It returns RILL_OUT_OF_RANGE when after_seq + 1 is older than
// the oldest record held. Any thread; the reader is used by one thread.
int rill_log_reader_open(
    rill_log_reader **readerp, rill_log *log, uint64_t after_seq);

// rill_log_reader_next reads the next flushed record into *rec. It returns
// RILL_OK, RILL_NOT_FOUND when no flushed record follows (yet),
// RILL_ECORRUPT (logged with file and offset), RILL_EIO or RILL_ENOMEM.
// Blocks on disk I/O.
int rill_log_reader_next(rill_log_reader *reader, rill_record *rec);

void rill_log_reader_close(rill_log_reader *reader); // NULL is a no-op

// rill_log_reader_skipped returns how many records the reader parsed and
// passed over to reach its start. Each segment keeps a seek index with an
// entry about every 16 KiB, so this stays small however far into a segment
// the start lies. For tests.
uint64_t rill_log_reader_skipped(const rill_log_reader *reader);

// rill_log_segment_name writes the file name of the segment whose first
// record is first_seq ("%016" PRIx64 ".seg") into buf (at least 32 bytes).
void rill_log_segment_name(char *buf, size_t n, uint64_t first_seq);
// rill_log_parse_segment_name tells whether name is exactly such a name,
// and the first seq it names.
bool rill_log_parse_segment_name(const char *name, uint64_t *firstp);

// rill_log_segment describes one segment of an open log.
typedef struct rill_log_segment {
	uint64_t first_seq;
	uint64_t last_seq; // first_seq - 1 for an empty tail
	uint64_t created_us;
	uint64_t size;   // header and flushed records
	bool     sealed; // false for the last segment, still written
	char     name[32];
} rill_log_segment;

// rill_log_segments lists the segments, oldest first, into *outp (free
// with rill_free; NULL when there are none). Any thread.
int rill_log_segments(rill_log *log, rill_log_segment **outp, size_t *np);

// rill_log_drop_through removes the sealed segments whose records are all
// at or before seq (never the last segment), oldest first, and tells how
// many in *droppedp. Readers already in a removed segment read it to its
// end; new readers get RILL_OUT_OF_RANGE before the new oldest seq. Any
// thread (retention); blocks on disk I/O.
int rill_log_drop_through(rill_log *log, uint64_t seq, unsigned *droppedp);

// rill_segment_info describes a segment file read by rill_segment_scan.
typedef struct rill_segment_info {
	uint64_t generation; // from the header
	uint64_t first_seq;
	uint64_t last_seq; // first_seq - 1 when it holds no record
	uint64_t created_us;
	uint64_t first_time_us; // time_us of the first and last record (0
	uint64_t last_time_us;  // when none)
	uint64_t records;
	uint64_t size;     // bytes up to the end of the last whole record
	uint32_t checksum; // CRC32C of those bytes
} rill_segment_info;

// rill_segment_record_fn gets each record of a scan in order; the batch
// is valid during the call. Anything but RILL_OK stops the scan and is
// returned by it.
typedef int (*rill_segment_record_fn)(void *arg, const rill_record *rec);

// rill_segment_scan reads the segment file at path without changing it:
// it checks the header (magic, version, CRC, the first seq against the
// file name) and every record, calls fn (if not NULL) for each, and fills
// *info. With allow_torn the file may be a live or crashed tail: damage
// that a crash or a write in progress leaves at its end (as recovery
// judges it) ends the records there; without it, any damage is
// RILL_ECORRUPT, logged with file and offset. RILL_ENOENT if missing.
int rill_segment_scan(const char *path, bool allow_torn,
    rill_segment_record_fn fn, void *arg, rill_segment_info *info);

#endif // RILL_SERVICE_LOG_H
