// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// log: segment files, group commit and recovery. The writer's committer
// (one thread at a time, see writer.h) encodes a group into one growing
// buffer and writes it with one pwrite at the end of the tail segment; only
// then (and after the fdatasync, when asked) does it publish the segment's
// new size, which is all a reader trusts. The
// segment list changes only under the mutex, and a segment is reference
// counted, so a reader keeps the one it reads while the list changes.
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <rill/status.h>

#include "clock.h"
#include "crc.h"
#include "diag.h"
#include "file.h"
#include "hex.h"
#include "le.h"
#include "mem.h"

#define HEADER_SIZE RILL_LOG_SEGMENT_HEADER_SIZE
#define FRAME_SIZE RILL_LOG_RECORD_FRAME_SIZE
#define BODY_FIXED RILL_LOG_RECORD_BODY_FIXED
#define SEG_MAGIC "RILLSEG" // 8 bytes with its NUL
#define SEG_VERSION 1u
#define SEG_NAME_LEN 20 // "%016" PRIx64 ".seg"

#define GROUP_BUF_MIN ((size_t) 64 << 10)
#define GROUP_BUF_KEEP ((size_t) 16 << 20) // shrink back after huge groups
#define READ_BUF_MIN ((size_t) 64 << 10)
#define SCAN_BUF ((size_t) 1 << 20)
// The tail file is extended with zeros this far ahead of its records, so
// that most fdatasyncs write into blocks the file already has and need no
// journal commit for a new size (about 40% cheaper here). Recovery cuts
// the zeros like any zero tail; sealing and closing truncate them.
#define PREALLOC_CHUNK ((size_t) 1 << 20)
// A segment's seek index holds where a record starts about every this
// many bytes, so a reader that begins mid-segment (each FetchLog does)
// parses at most this much before its first record instead of the whole
// segment: 64 KiB of index for a 64 MiB segment.
#define MARK_STEP ((uint64_t) 16 << 10)

// mark is one entry of a segment's seek index: the record seq starts at
// offset off.
typedef struct mark {
	uint64_t seq;
	uint64_t off;
} mark;

// segment is one file of the log. The list holds one reference and each
// reader one more on the segment it reads.
typedef struct segment {
	uint64_t         first_seq;
	uint64_t         created_us; // wall clock, from the header
	_Atomic uint64_t size;       // header + flushed records: what is read
	atomic_uint      refs;
	char             name[32];
	// The seek index, in offset order, under log->mu once the segment
	// is listed. The writer adds its groups' records, recovery the
	// records it scans, and readers the records they pass where the
	// index has none yet (segments recovery trusted without a scan).
	mark  *marks;
	size_t n_marks;
	size_t cap_marks;
} segment;

// cursor reads a file through a buffer with read-ahead: recovery and
// readers parse records from it without one pread per record.
typedef struct cursor {
	int         fd;
	const char *path; // for messages
	uint8_t    *buf;
	size_t      cap;
	uint64_t    off; // file offset of buf[0]
	size_t      len; // valid bytes in buf
} cursor;

struct rill_log {
	char    *dir;
	uint64_t generation;
	uint64_t max_bytes;
	uint64_t max_age_us; // 0: never roll by age
	void (*on_seal)(void *arg, uint64_t first_seq, uint64_t last_seq);
	void *on_seal_arg;
	bool  synced_before_store; // see rill_log_options
	bool  tail_unsynced;       // see rill_log_options

	pthread_mutex_t mu; // guards segs, n_segs, cap_segs
	segment       **segs;
	size_t          n_segs;
	size_t          cap_segs;

	_Atomic uint64_t last_seq;     // last record flushed
	_Atomic uint64_t last_time_us; // its time_us
	_Atomic uint64_t total_bytes;

	// The committer's own state.
	segment *tail;       // NULL until the first segment exists
	int      tail_fd;    // -1 with tail
	uint64_t tail_alloc; // bytes of the tail file: records, then zeros
	bool     unsynced;   // tail written since its last fdatasync
	bool     failed;     // an I/O error left the file in an unknown state
	uint64_t next_seq;   // the seq the next append must carry
	uint64_t group_time_us; // time_us of the group's last record
	uint8_t *group;         // frames appended since the last flush
	size_t   group_len;
	size_t   group_cap;
};

struct rill_log_reader {
	rill_log *log;
	segment  *seg;       // NULL until a segment holds the start
	cursor    cur;       // cur.fd is -1 until seg's file is opened
	uint64_t  off;       // offset of the next record in seg
	uint64_t  expect;    // the seq the next record in seg must carry
	uint64_t  after;     // records up to this seq are skipped
	uint64_t  start;     // the first seq wanted: after + 1
	uint64_t  mark_next; // offer the index a record from this offset
	uint64_t  skipped;   // records passed over on the way to the start
	char      path[PATH_MAX];
};

// corrupt logs damage at offset off of path, with what names it, and
// returns RILL_ECORRUPT. The advice is the same for every kind of damage:
// the log cannot be trusted past it.
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
	rill_diag_err("LOG-CORRUPT",
	    "%s: offset %" PRIu64 ": %s. This is damage, not a write torn "
	    "by a crash, so the log stops here: restore this node from a "
	    "snapshot or a healthy replica, or move the log directory aside "
	    "to inspect it",
	    path, off, what);
	return RILL_ECORRUPT;
}

// io_error logs a failed system call on path (errno holds the cause) and
// returns RILL_EIO.
static int
io_error(const char *what, const char *path)
{
	rill_diag_err("LOG-IO", "%s %s: %s", what, path, strerror(errno));
	return RILL_EIO;
}

// is_zero tells whether p[0..n) are all zero bytes.
static bool
is_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

// cursor_get points *pp at n bytes of the file at off, reading them (and
// what follows, up to limit) unless the buffer holds them already. The
// caller knows that off + n <= limit. It returns RILL_EIO on a read error
// and RILL_ECORRUPT when the file is shorter than limit (both logged),
// RILL_ENOMEM when a large record cannot be buffered.
static int
cursor_get(
    cursor *c, uint64_t off, size_t n, uint64_t limit, const uint8_t **pp)
{
	size_t  want;
	ssize_t got;

	if (off >= c->off && off + n <= c->off + c->len) {
		*pp = c->buf + (off - c->off);
		return RILL_OK;
	}
	if (n > c->cap) {
		size_t   cap = c->cap * 2 > n ? c->cap * 2 : n;
		uint8_t *buf = rill_realloc(c->buf, cap);
		if (buf == NULL) {
			return RILL_ENOMEM;
		}
		c->buf = buf;
		c->cap = cap;
	}
	want = c->cap;
	if (limit - off < want) {
		want = (size_t) (limit - off);
	}
	c->off = off;
	c->len = 0;
	if ((got = rill_pread_full(c->fd, c->buf, want, off)) < 0) {
		return io_error("read", c->path);
	}
	c->len = (size_t) got;
	if ((size_t) got < n) {
		return corrupt(c->path, off + (uint64_t) got,
		    "the file ends %" PRIu64 " bytes before its expected "
		    "size",
		    limit - off - (uint64_t) got);
	}
	*pp = c->buf + (off - c->off);
	return RILL_OK;
}

// range_is_zero tells in *zerop whether bytes [from, to) of the file are
// all zero.
static int
range_is_zero(cursor *c, uint64_t from, uint64_t to, bool *zerop)
{
	const uint8_t *p = NULL; // set by cursor_get (gcc cannot tell)
	int            rv;

	while (from < to) {
		size_t n = c->cap;
		if (to - from < n) {
			n = (size_t) (to - from);
		}
		if ((rv = cursor_get(c, from, n, to, &p)) != RILL_OK) {
			return rv;
		}
		if (!is_zero(p, n)) {
			*zerop = false;
			return RILL_OK;
		}
		from += n;
	}
	*zerop = true;
	return RILL_OK;
}

// record_at tells in *okp whether a whole record carrying seq, with a
// good CRC, starts at off and ends by size. It reads with its own buffer,
// leaving the cursor's alone.
static int
record_at(int fd, uint64_t off, uint64_t size, uint64_t seq, bool *okp)
{
	uint8_t  frame[FRAME_SIZE + 8];
	uint8_t *body;
	uint32_t len;
	bool     ok;

	*okp = false;
	if (size - off < sizeof(frame) ||
	    rill_pread_full(fd, frame, sizeof(frame), off) !=
	        (ssize_t) sizeof(frame)) {
		return RILL_OK;
	}
	len = get32(frame);
	if (len < BODY_FIXED || len > RILL_LOG_RECORD_MAX ||
	    len > size - off - FRAME_SIZE ||
	    get64(frame + FRAME_SIZE) != seq) {
		return RILL_OK;
	}
	if ((body = rill_alloc(len)) == NULL) {
		return RILL_ENOMEM;
	}
	ok = rill_pread_full(fd, body, len, off + FRAME_SIZE) ==
	        (ssize_t) len &&
	    rill_crc32c(body, len) == get32(frame + 4);
	rill_free(body);
	*okp = ok;
	return RILL_OK;
}

// find_record searches bytes [from, size) of the file for a whole, valid
// record carrying seq and returns its offset in *offp (UINT64_MAX if none).
// A damaged length field makes a record seem to run past the end of the
// file; if the next record is found after it, the damage is not a torn
// write and cutting there would drop records that were written whole.
static int
find_record(
    cursor *c, uint64_t from, uint64_t size, uint64_t seq, uint64_t *offp)
{
	uint8_t        pat[8];
	const uint8_t *p;
	uint64_t       pos = from + FRAME_SIZE;
	int            rv;

	put64(pat, seq);
	*offp = UINT64_MAX;
	while (pos < size) {
		size_t n = c->cap;
		if (size - pos < n) {
			n = (size_t) (size - pos);
		}
		if ((rv = cursor_get(c, pos, n, size, &p)) != RILL_OK) {
			return rv;
		}
		for (const uint8_t *hit = memmem(p, n, pat, sizeof(pat));
		     hit != NULL;
		     hit = memmem(hit + 1, n - (size_t) (hit + 1 - p), pat,
		         sizeof(pat))) {
			uint64_t at = pos + (uint64_t) (hit - p) - FRAME_SIZE;
			bool     ok;
			if ((rv = record_at(c->fd, at, size, seq, &ok)) !=
			    RILL_OK) {
				return rv;
			}
			if (ok) {
				*offp = at;
				return RILL_OK;
			}
			if ((size_t) (hit + 1 - p) >= n) {
				break;
			}
		}
		if (n < sizeof(pat)) {
			break;
		}
		// Overlap the chunks so a seq that straddles them is seen.
		pos += n - (sizeof(pat) - 1);
		if (pos + sizeof(pat) > size) {
			break;
		}
	}
	return RILL_OK;
}

enum damage {
	DAMAGE_OTHER,    // corruption wherever it is
	DAMAGE_PARTIAL,  // a frame cut short by the end of the file
	DAMAGE_PAST_EOF, // a record that runs past the end of the file
	DAMAGE_LENGTH,   // a length no record has (0, for one)
	DAMAGE_CRC,      // a whole record whose CRC fails
};

// TORN_GROUP_SEQS bounds the records of one group (the writer's groups
// hold at most 4096 writes): the whole records a torn group leaves after
// a hole lie within this many seqs of it.
#define TORN_GROUP_SEQS 4096

// next_whole_record finds the first whole record (frame, length, CRC) at
// or after offset from whose seq is in (after, after + TORN_GROUP_SEQS]:
// *atp its offset (UINT64_MAX when there is none), *seqp its seq, *timep
// its time_us, *endp where it ends. It tries every offset: the records
// after a hole start anywhere.
static int
next_whole_record(cursor *c, uint64_t from, uint64_t size, uint64_t after,
    uint64_t *atp, uint64_t *seqp, uint64_t *timep, uint64_t *endp)
{
	*atp = UINT64_MAX;
	for (uint64_t q = from;
	     q < size && size - q >= FRAME_SIZE + BODY_FIXED; q++) {
		const uint8_t *p;
		uint32_t       len;
		uint64_t       seq;
		int            rv;

		if ((rv = cursor_get(c, q, FRAME_SIZE + 16, size, &p)) !=
		    RILL_OK) {
			return rv;
		}
		len = get32(p);
		seq = get64(p + FRAME_SIZE);
		if (seq <= after || seq - after > TORN_GROUP_SEQS ||
		    len < BODY_FIXED || len > RILL_LOG_RECORD_MAX ||
		    len > size - q - FRAME_SIZE) {
			continue;
		}
		if ((rv = cursor_get(c, q, FRAME_SIZE + (size_t) len, size,
		         &p)) != RILL_OK) {
			return rv;
		}
		if (rill_crc32c(p + FRAME_SIZE, len) == get32(p + 4)) {
			*atp   = q;
			*seqp  = seq;
			*timep = get64(p + FRAME_SIZE + 8);
			*endp  = q + FRAME_SIZE + len;
			return RILL_OK;
		}
	}
	return RILL_OK;
}

// torn_group tells in *tornp whether the damage at off, where seq expect
// belongs, is a group torn by a power cut. The writer writes a group with
// one pwrite and acknowledges it only after its fdatasync; a power cut
// during that sync can leave any of the group's sectors on the disk and
// the others as they were (the zeros the tail is extended with). So the
// damage is a torn group when whole records follow it, all with seqs
// after expect and one time_us (every record of a group has the group's),
// no older than prev_time (the last good record's), and only zeros follow
// them. A follower's log, whose groups hold the leader's records with
// their own times, never passes: its damage stays damage.
static int
torn_group(cursor *c, uint64_t off, uint64_t size, uint64_t expect,
    uint64_t prev_time, bool *tornp)
{
	uint64_t pos = off, after = expect, group_time = 0;
	uint64_t at, seq, t, end;
	bool     any = false, zero;
	int      rv;

	*tornp = false;
	for (;;) {
		if ((rv = next_whole_record(c, pos, size, after, &at, &seq, &t,
		         &end)) != RILL_OK) {
			return rv;
		}
		if (at == UINT64_MAX) {
			break;
		}
		if (any ? t != group_time : t < prev_time) {
			return RILL_OK;
		}
		group_time = t;
		any        = true;
		pos        = end;
		after      = seq;
	}
	if (!any) {
		return RILL_OK;
	}
	if ((rv = range_is_zero(c, pos, size, &zero)) != RILL_OK) {
		return rv;
	}
	*tornp = zero;
	return RILL_OK;
}

// mark_add offers the record seq at offset off to seg's seek index,
// which takes it when it lies at least MARK_STEP past the last entry (or
// the header). Entries only grow in offset, whoever offers them. Under
// log->mu once seg is listed. RILL_ENOMEM leaves the index as it was.
static int
mark_add(segment *seg, uint64_t seq, uint64_t off)
{
	uint64_t last =
	    seg->n_marks ? seg->marks[seg->n_marks - 1].off : HEADER_SIZE;

	if (off < last + MARK_STEP) {
		return RILL_OK;
	}
	if (seg->n_marks == seg->cap_marks) {
		size_t cap   = seg->cap_marks ? seg->cap_marks * 2 : 64;
		mark  *marks = rill_realloc(seg->marks, cap * sizeof(*marks));
		if (marks == NULL) {
			return RILL_ENOMEM;
		}
		seg->marks     = marks;
		seg->cap_marks = cap;
	}
	seg->marks[seg->n_marks++] = (mark) { .seq = seq, .off = off };
	return RILL_OK;
}

// mark_find returns the index entry with the largest seq at most seq, or
// NULL when the segment's first record comes first. Under log->mu.
static const mark *
mark_find(const segment *seg, uint64_t seq)
{
	size_t lo = 0, hi = seg->n_marks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (seg->marks[mid].seq <= seq) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo == 0 ? NULL : &seg->marks[lo - 1];
}

// scan_segment checks every record of the segment file open in c (size
// bytes, whose first record is first_seq): frame, CRC and seq. It returns
// in *endp the offset where the valid records end and in *lastp the last
// seq. When the segment is the last one and its damage is what a crash
// can leave (see log.h), it returns RILL_OK with *endp < size and why[]
// naming the damage; any other damage is logged and RILL_ECORRUPT. A
// torn group (see torn_group) counts as what a crash can leave only from
// a seq after torn_after (the store's applied seq: what the store holds
// was acknowledged, and a hole there is damage).
static int
scan_segment(cursor *c, uint64_t size, uint64_t first_seq, bool is_last,
    bool lenient, uint64_t torn_after, segment *seg, uint64_t *endp,
    uint64_t *lastp, char *why, size_t why_len)
{
	const uint8_t *p;
	uint64_t       off       = HEADER_SIZE;
	uint64_t       expect    = first_seq;
	uint64_t       rec_end   = 0, found;
	uint64_t       prev_time = 0;
	enum damage    kind      = DAMAGE_OTHER;
	bool           zero, torn;
	size_t         used;
	int            rv;

	while (off < size) {
		uint64_t rem = size - off;
		uint32_t len;

		if (rem < FRAME_SIZE) {
			kind = DAMAGE_PARTIAL;
			snprintf(why, why_len,
			    "a record frame cut short (%" PRIu64
			    " of %d bytes)",
			    rem, FRAME_SIZE);
			goto damaged;
		}
		if ((rv = cursor_get(c, off, FRAME_SIZE, size, &p)) !=
		    RILL_OK) {
			return rv;
		}
		len = get32(p);
		if (expect == UINT64_MAX) {
			kind = DAMAGE_OTHER;
			snprintf(
			    why, why_len, "a record past the largest seq");
			goto damaged;
		}
		if (len > rem - FRAME_SIZE) {
			kind = DAMAGE_PAST_EOF;
			snprintf(why, why_len,
			    "a record of %" PRIu32 " bytes (seq %" PRIu64
			    ") that runs past the end of the file, which "
			    "holds %" PRIu64 " of them",
			    len, expect, rem - FRAME_SIZE);
			goto damaged;
		}
		if (len < BODY_FIXED || len > RILL_LOG_RECORD_MAX) {
			kind = DAMAGE_LENGTH;
			snprintf(why, why_len,
			    "a record length of %" PRIu32
			    " bytes, outside %d..%u (seq %" PRIu64 ")",
			    len, BODY_FIXED, RILL_LOG_RECORD_MAX, expect);
			goto damaged;
		}
		if ((rv = cursor_get(c, off, FRAME_SIZE + (size_t) len, size,
		         &p)) != RILL_OK) {
			return rv;
		}
		if (rill_crc32c(p + FRAME_SIZE, len) != get32(p + 4)) {
			kind    = DAMAGE_CRC;
			rec_end = off + FRAME_SIZE + len;
			snprintf(why, why_len,
			    "a record checksum mismatch (seq %" PRIu64
			    ", %" PRIu32 " bytes)",
			    expect, len);
			goto damaged;
		}
		if (get64(p + FRAME_SIZE) != expect) {
			kind = DAMAGE_OTHER;
			snprintf(why, why_len,
			    "a record carrying seq %" PRIu64
			    " where seq %" PRIu64 " belongs",
			    get64(p + FRAME_SIZE), expect);
			goto damaged;
		}
		if (seg != NULL && mark_add(seg, expect, off) == RILL_ENOMEM) {
			return RILL_ENOMEM;
		}
		prev_time = get64(p + FRAME_SIZE + 8);
		off += FRAME_SIZE + len;
		expect++;
	}
	*endp  = off;
	*lastp = expect - 1;
	return RILL_OK;

damaged:
	if (!is_last) {
		return corrupt(c->path, off,
		    "%s, in a segment that is not the last one (only the last "
		    "can hold a torn write)",
		    why);
	}
	if ((rv = range_is_zero(c, off, size, &zero)) != RILL_OK) {
		return rv;
	}
	if (zero) {
		snprintf(why, why_len, "zero bytes to the end of the file");
		goto torn;
	}
	if (lenient && kind != DAMAGE_OTHER) {
		used = strlen(why);
		snprintf(why + used, why_len - used,
		    ", in the unsynced tail of a log under sync \"none\"");
		goto torn;
	}
	switch (kind) {
	case DAMAGE_PARTIAL:
		goto torn;
	case DAMAGE_PAST_EOF:
		if ((rv = find_record(c, off, size, expect + 1, &found)) !=
		    RILL_OK) {
			return rv;
		}
		if (found == UINT64_MAX) {
			goto torn;
		}
		return corrupt(c->path, off,
		    "%s, yet the next record (seq %" PRIu64
		    ") follows whole at offset %" PRIu64
		    ": the length field is damaged",
		    why, expect + 1, found);
	case DAMAGE_CRC:
		// A length that grew may end the record in the zeros after
		// the tail's records: a whole next record inside it says so.
		if ((rv = find_record(c, off, rec_end, expect + 1, &found)) !=
		    RILL_OK) {
			return rv;
		}
		if (found != UINT64_MAX) {
			return corrupt(c->path, off,
			    "%s, yet the next record (seq %" PRIu64
			    ") lies whole inside it, at offset %" PRIu64
			    ": the length field is damaged",
			    why, expect + 1, found);
		}
		if (rec_end == size) {
			goto torn;
		}
		if ((rv = range_is_zero(c, rec_end, size, &zero)) != RILL_OK) {
			return rv;
		}
		if (zero) {
			goto torn;
		}
		break;
	case DAMAGE_LENGTH:
		break;
	case DAMAGE_OTHER:
		return corrupt(c->path, off, "%s", why);
	}
	if (expect > torn_after) {
		if ((rv = torn_group(
		         c, off, size, expect, prev_time, &torn)) != RILL_OK) {
			return rv;
		}
		if (torn) {
			used = strlen(why);
			snprintf(why + used, why_len - used,
			    ", then whole records of the same group and zero "
			    "bytes: a group torn by a power cut");
			goto torn;
		}
	}
	if (kind == DAMAGE_CRC) {
		return corrupt(c->path, off,
		    "%s, with %" PRIu64 " more bytes after it", why,
		    size - rec_end);
	}
	return corrupt(c->path, off, "%s", why);

torn:
	*endp  = off;
	*lastp = expect - 1;
	return RILL_OK;
}

void
rill_log_segment_name(char *buf, size_t n, uint64_t first_seq)
{
	snprintf(buf, n, "%016" PRIx64 ".seg", first_seq);
}

bool
rill_log_parse_segment_name(const char *name, uint64_t *firstp)
{
	return strlen(name) == SEG_NAME_LEN &&
	    strcmp(name + 16, ".seg") == 0 && rill_hex16_parse(name, firstp);
}

// ends_with tells whether s ends with suffix.
static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

// compare_u64 orders uint64_t values for qsort.
static int
compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
	return x < y ? -1 : x > y;
}

// list_segments returns in *firstsp (free with rill_free) the sorted first
// seqs of the segment files in dir, and their number in *np. It removes
// the temporary files of segments whose creation a crash interrupted.
static int
list_segments(const char *dir, uint64_t **firstsp, size_t *np)
{
	DIR           *d;
	struct dirent *de;
	uint64_t      *firsts = NULL, *grown;
	size_t         n = 0, cap = 0;
	bool           removed = false;
	int            rv      = RILL_OK;

	if ((d = opendir(dir)) == NULL) {
		return io_error("open directory", dir);
	}
	for (;;) {
		uint64_t first;

		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				rv = io_error("read directory", dir);
			}
			break;
		}
		if (ends_with(de->d_name, ".seg.tmp")) {
			// Never renamed into place, so never part of the log.
			if (unlinkat(dirfd(d), de->d_name, 0) != 0) {
				rv = io_error("remove", de->d_name);
				break;
			}
			rill_diag_notice("LOG-TMP-REMOVED",
			    "%s/%s: removed a segment left half-created by a "
			    "crash",
			    dir, de->d_name);
			removed = true;
			continue;
		}
		if (!rill_log_parse_segment_name(de->d_name, &first)) {
			if (ends_with(de->d_name, ".seg")) {
				rill_diag_warn("LOG-STRAY",
				    "%s/%s: ignored: not a segment name rill "
				    "writes",
				    dir, de->d_name);
			}
			continue;
		}
		if (n == cap) {
			cap   = cap ? cap * 2 : 16;
			grown = rill_realloc(firsts, cap * sizeof(*firsts));
			if (grown == NULL) {
				rv = RILL_ENOMEM;
				break;
			}
			firsts = grown;
		}
		firsts[n++] = first;
	}
	closedir(d);
	if (rv == RILL_OK && removed) {
		rv = rill_fsync_dir(dir);
	}
	if (rv != RILL_OK) {
		rill_free(firsts);
		return rv;
	}
	if (n > 0) {
		qsort(firsts, n, sizeof(*firsts), compare_u64);
	}
	*firstsp = firsts;
	*np      = n;
	return RILL_OK;
}

// segment_new returns a segment (one reference, the caller's) whose
// first record is first_seq and whose readable size is size, or NULL.
static segment *
segment_new(uint64_t first_seq, uint64_t created_us, uint64_t size)
{
	segment *seg = rill_zalloc(sizeof(*seg));

	if (seg == NULL) {
		return NULL;
	}
	seg->first_seq  = first_seq;
	seg->created_us = created_us;
	atomic_init(&seg->size, size);
	atomic_init(&seg->refs, 1);
	rill_log_segment_name(seg->name, sizeof(seg->name), first_seq);
	return seg;
}

// segment_ref takes one more reference on seg. Any thread.
static void
segment_ref(segment *seg)
{
	atomic_fetch_add_explicit(&seg->refs, 1, memory_order_relaxed);
}

// segment_unref drops a reference and frees seg with the last one; NULL
// is a no-op. Any thread.
static void
segment_unref(segment *seg)
{
	if (seg != NULL && atomic_fetch_sub(&seg->refs, 1) == 1) {
		rill_free(seg->marks);
		rill_free(seg);
	}
}

// reserve_segment makes room in log->segs for one more segment. Under
// the mutex, since readers search the array.
static int
reserve_segment(rill_log *log, size_t want)
{
	segment **segs;
	size_t    cap;

	if (want <= log->cap_segs) {
		return RILL_OK;
	}
	cap = log->cap_segs ? log->cap_segs : 8;
	while (cap < want) {
		cap *= 2;
	}
	pthread_mutex_lock(&log->mu);
	segs = rill_realloc(log->segs, cap * sizeof(*segs));
	if (segs != NULL) {
		log->segs     = segs;
		log->cap_segs = cap;
	}
	pthread_mutex_unlock(&log->mu);
	return segs == NULL ? RILL_ENOMEM : RILL_OK;
}

// encode_header writes the 48-byte header of a new segment into h.
static void
encode_header(
    uint8_t *h, uint64_t generation, uint64_t first_seq, uint64_t created_us)
{
	memcpy(h, SEG_MAGIC, 8);
	put32(h + 8, SEG_VERSION);
	put32(h + 12, HEADER_SIZE);
	put64(h + 16, generation);
	put64(h + 24, first_seq);
	put64(h + 32, created_us);
	put32(h + 40, 0);
	put32(h + 44, rill_crc32c(h, 44));
}

// check_header checks the header h of the segment at path, named for
// first_seq, which must belong to generation (0: any), and returns its
// creation time in *createdp.
static int
check_header(uint64_t generation, const char *path, const uint8_t *h,
    uint64_t first_seq, uint64_t *createdp)
{
	uint32_t version = get32(h + 8);

	if (memcmp(h, SEG_MAGIC, 8) != 0) {
		return corrupt(path, 0, "not a rill segment (bad magic)");
	}
	// The version comes before the CRC: a newer format may lay its
	// header out differently.
	if (version > SEG_VERSION) {
		rill_diag_err("LOG-VERSION",
		    "%s: segment format version %" PRIu32
		    " is newer than this rill reads (up to %u): run the newer "
		    "rill that wrote it (if none did, the header is damaged)",
		    path, version, SEG_VERSION);
		return RILL_EVERSION;
	}
	if (version == 0 || get32(h + 12) != HEADER_SIZE) {
		return corrupt(path, 0,
		    "segment header has version %" PRIu32 " and size %" PRIu32
		    ", expected %u and %d",
		    version, get32(h + 12), SEG_VERSION, HEADER_SIZE);
	}
	if (rill_crc32c(h, 44) != get32(h + 44)) {
		return corrupt(path, 0, "segment header checksum mismatch");
	}
	if (generation != 0 && get64(h + 16) != generation) {
		return corrupt(path, 0,
		    "segment belongs to generation %016" PRIx64
		    ", not to this log's %016" PRIx64,
		    get64(h + 16), generation);
	}
	if (first_seq == 0 || first_seq == UINT64_MAX) {
		return corrupt(path, 0,
		    "segment first seq %" PRIu64 " is out of range",
		    first_seq);
	}
	if (get64(h + 24) != first_seq) {
		return corrupt(path, 0,
		    "segment header says first seq %" PRIu64
		    " but its file name says %" PRIu64,
		    get64(h + 24), first_seq);
	}
	*createdp = get64(h + 32);
	return RILL_OK;
}

// drop_short_tail removes the last segment file when it is shorter than a
// header: no record can be in it. Segments are created whole under a
// temporary name, so only damage leaves one; it is still the tail, so it
// is cut like a torn write. *lastp gets the seq before it.
static int
drop_short_tail(
    rill_log *log, const uint64_t *firsts, size_t *np, uint64_t *lastp)
{
	char        name[32], path[PATH_MAX];
	struct stat st;
	uint64_t    first = firsts[*np - 1];
	int         rv;

	rill_log_segment_name(name, sizeof(name), first);
	if ((rv = rill_path_join(path, sizeof(path), log->dir, name)) !=
	    RILL_OK) {
		return rv;
	}
	if (stat(path, &st) != 0) {
		return io_error("stat", path);
	}
	if (st.st_size >= HEADER_SIZE) {
		return RILL_OK;
	}
	if (unlink(path) != 0) {
		return io_error("remove", path);
	}
	if ((rv = rill_fsync_dir(log->dir)) != RILL_OK) {
		return rv;
	}
	rill_diag_notice("LOG-TORN-TAIL",
	    "%s: removed the last segment: %lld bytes, shorter than a "
	    "segment header, so it held no record",
	    path, (long long) st.st_size);
	(*np)--;
	if (first > 0) {
		*lastp = first - 1;
	}
	return RILL_OK;
}

// cut_tail truncates the last segment at end, durably, and logs it.
static int
cut_tail(int fd, const char *path, uint64_t end, uint64_t size,
    const char *why, uint64_t last_seq)
{
	if (ftruncate(fd, (off_t) end) != 0) {
		return io_error("truncate", path);
	}
	if (fsync(fd) != 0) {
		return io_error("fsync", path);
	}
	rill_diag_notice("LOG-TORN-TAIL",
	    "%s: cut %" PRIu64 " bytes at offset %" PRIu64
	    " (%s), left by a crash during a write; the log now ends at "
	    "seq %" PRIu64,
	    path, size - end, end, why, last_seq);
	return RILL_OK;
}

// keep_cut copies the bytes [end, size) of the segment at path, about to
// be cut, into "<path>.damaged-<end>", unless they are all zeros (the
// tail's preallocation): what recovery cuts under sync "none" may be
// damage rather than a torn write, and is kept for a person to look at.
static int
keep_cut(cursor *c, const char *path, uint64_t end, uint64_t size)
{
	char     kept[PATH_MAX];
	uint8_t  buf[64 * 1024];
	bool     zero;
	int      out, rv = RILL_OK;
	uint64_t off;

	if ((rv = range_is_zero(c, end, size, &zero)) != RILL_OK || zero) {
		return rv;
	}
	if ((size_t) snprintf(kept, sizeof(kept), "%s.damaged-%" PRIu64, path,
	        end) >= sizeof(kept)) {
		return RILL_EIO;
	}
	if ((out = open(
	         kept, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		return io_error("create", kept);
	}
	for (off = end; off < size && rv == RILL_OK;) {
		size_t want = size - off < sizeof(buf) ? (size_t) (size - off)
		                                       : sizeof(buf);
		if (rill_pread_full(c->fd, buf, want, (off_t) off) !=
		        (ssize_t) want ||
		    rill_write_full(out, buf, want) != 0) {
			rv = io_error("copy the cut bytes to", kept);
		}
		off += want;
	}
	if (rv == RILL_OK && fsync(out) != 0) {
		rv = io_error("fsync", kept);
	}
	close(out);
	if (rv == RILL_OK) {
		rill_diag_warn("LOG-TAIL-KEPT",
		    "%s: the %" PRIu64 " bytes cut at offset %" PRIu64
		    " are kept in %s",
		    path, size - end, end, kept);
	}
	return rv;
}

// recover loads the segment list from log->dir, checking each header and
// scanning the segments that may hold records after applied_seq, and the
// last one, whose torn tail it cuts. It leaves the last segment open as
// the tail.
static int
recover(rill_log *log, uint64_t base_seq, uint64_t applied_seq)
{
	uint64_t *firsts   = NULL;
	size_t    n        = 0;
	uint64_t  last_seq = base_seq;
	uint64_t  total    = 0;
	cursor    c        = { .fd = -1 };
	char      path[PATH_MAX];
	int       fd = -1;
	int       rv;

	if ((rv = list_segments(log->dir, &firsts, &n)) != RILL_OK) {
		return rv;
	}
	if (n > 0 &&
	    (rv = drop_short_tail(log, firsts, &n, &last_seq)) != RILL_OK) {
		goto out;
	}
	if (n == 0) {
		goto done;
	}
	if ((rv = reserve_segment(log, n + 1)) != RILL_OK) {
		goto out;
	}
	if ((c.buf = rill_alloc(SCAN_BUF)) == NULL) {
		rv = RILL_ENOMEM;
		goto out;
	}
	c.cap  = SCAN_BUF;
	c.path = path;
	for (size_t i = 0; i < n; i++) {
		bool        is_last = i + 1 == n;
		uint8_t     h[HEADER_SIZE];
		struct stat st;
		segment    *seg;
		uint64_t    created = 0, size, end = 0, last = 0;
		char        name[32], why[256];

		rill_log_segment_name(name, sizeof(name), firsts[i]);
		if ((rv = rill_path_join(
		         path, sizeof(path), log->dir, name)) != RILL_OK) {
			goto out;
		}
		fd = open(path, (is_last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		if (fd < 0) {
			rv = io_error("open", path);
			goto out;
		}
		if (fstat(fd, &st) != 0) {
			rv = io_error("stat", path);
			goto out;
		}
		size = (uint64_t) st.st_size;
		if (size < HEADER_SIZE) {
			rv = corrupt(path, 0,
			    "the file has %" PRIu64 " bytes, fewer than a "
			    "segment header, and is not the last segment",
			    size);
			goto out;
		}
		if (rill_pread_full(fd, h, HEADER_SIZE, 0) != HEADER_SIZE) {
			rv = io_error("read", path);
			goto out;
		}
		if ((rv = check_header(log->generation, path, h, firsts[i],
		         &created)) != RILL_OK) {
			goto out;
		}
		if ((seg = segment_new(firsts[i], created, size)) == NULL) {
			rv = RILL_ENOMEM;
			goto out;
		}
		log->segs[log->n_segs++] = seg;
		if (!is_last && firsts[i + 1] - 1 <= applied_seq) {
			// Every record here is in the store already: trust
			// the file names for where it ends.
			last_seq = firsts[i + 1] - 1;
		} else {
			c.fd  = fd;
			c.len = 0;
			if ((rv = scan_segment(&c, size, firsts[i], is_last,
			         is_last && log->tail_unsynced, applied_seq,
			         seg, &end, &last, why, sizeof(why))) !=
			    RILL_OK) {
				goto out;
			}
			if (!is_last && last + 1 != firsts[i + 1]) {
				rv = corrupt(path, end,
				    "the segment ends at seq %" PRIu64
				    " but the next one starts at seq %" PRIu64
				    ": records are missing or repeated",
				    last, firsts[i + 1]);
				goto out;
			}
			if (end < size && log->synced_before_store &&
			    last < applied_seq) {
				rv = corrupt(path, end,
				    "%s; yet the store holds seq %" PRIu64
				    ", which was synced here before the store "
				    "took it: this is damage, not a write "
				    "torn by a crash",
				    why, last + 1);
				goto out;
			}
			if (end < size && log->tail_unsynced &&
			    (rv = keep_cut(&c, path, end, size)) != RILL_OK) {
				goto out;
			}
			if (end < size &&
			    (rv = cut_tail(fd, path, end, size, why, last)) !=
			        RILL_OK) {
				goto out;
			}
			size     = end;
			last_seq = last;
			atomic_store(&seg->size, size);
		}
		total += size;
		if (is_last) {
			// Whatever a crashed process left in the page cache
			// becomes durable before anyone builds on it.
			if (fsync(fd) != 0) {
				rv = io_error("fsync", path);
				goto out;
			}
			log->tail       = seg;
			log->tail_fd    = fd;
			log->tail_alloc = size;
		} else {
			close(fd);
		}
		fd = -1;
	}
	if ((rv = rill_fsync_dir(log->dir)) != RILL_OK) {
		goto out;
	}

done:
	atomic_store(&log->last_seq, last_seq);
	atomic_store(&log->total_bytes, total);
	log->next_seq = last_seq + 1;
	rill_diag_info("LOG-OPEN",
	    "%s: %zu segments, %" PRIu64 " bytes, last seq %" PRIu64, log->dir,
	    log->n_segs, total, last_seq);
	rv = RILL_OK;
out:
	if (fd >= 0) {
		close(fd);
	}
	rill_free(c.buf);
	rill_free(firsts);
	return rv;
}

// parent_of writes the directory that holds path into buf.
static void
parent_of(char *buf, size_t n, const char *path)
{
	char *slash;

	snprintf(buf, n, "%s", path);
	while ((slash = strrchr(buf, '/')) != NULL && slash[1] == '\0' &&
	    slash != buf) {
		*slash = '\0';
	}
	if ((slash = strrchr(buf, '/')) == NULL) {
		snprintf(buf, n, ".");
	} else if (slash == buf) {
		buf[1] = '\0';
	} else {
		*slash = '\0';
	}
}

// prepare_dir creates dir and its missing parents, and makes their
// entries durable: a segment is durable only if its directory is.
static int
prepare_dir(const char *dir)
{
	struct stat st;
	char        top[PATH_MAX], parent[PATH_MAX];
	int         rv;

	if (stat(dir, &st) == 0) {
		return RILL_OK;
	}
	// top becomes the highest directory that is missing.
	snprintf(top, sizeof(top), "%s", dir);
	for (;;) {
		parent_of(parent, sizeof(parent), top);
		if (strcmp(parent, top) == 0 || stat(parent, &st) == 0) {
			break;
		}
		snprintf(top, sizeof(top), "%s", parent);
	}
	if ((rv = rill_mkdirs(dir)) != RILL_OK) {
		return rv;
	}
	// Each new directory's entry lives in its parent: fsync from dir's
	// parent up to the parent of top.
	snprintf(parent, sizeof(parent), "%s", dir);
	for (;;) {
		char child[PATH_MAX];
		snprintf(child, sizeof(child), "%s", parent);
		parent_of(parent, sizeof(parent), child);
		if ((rv = rill_fsync_dir(parent)) != RILL_OK) {
			return rv;
		}
		if (strcmp(child, top) == 0 || strcmp(parent, child) == 0) {
			return RILL_OK;
		}
	}
}

// free_segments drops the segment list and closes the tail.
// trim_tail truncates the zeros after the tail's records, so a sealed or
// closed segment ends with its last record. The caller syncs.
static int
trim_tail(rill_log *log)
{
	uint64_t size;

	if (log->tail == NULL) {
		return RILL_OK;
	}
	size = atomic_load_explicit(&log->tail->size, memory_order_relaxed);
	if (log->tail_alloc > size) {
		if (ftruncate(log->tail_fd, (off_t) size) != 0) {
			return RILL_EIO;
		}
		log->tail_alloc = size;
		log->unsynced   = true;
	}
	return RILL_OK;
}

static void
free_segments(rill_log *log)
{
	for (size_t i = 0; i < log->n_segs; i++) {
		segment_unref(log->segs[i]);
	}
	rill_free(log->segs);
	log->segs   = NULL;
	log->n_segs = 0;
	if (log->tail_fd >= 0) {
		close(log->tail_fd);
	}
	log->tail_fd = -1;
	log->tail    = NULL;
}

// recover_last_time reads the time of the last record, for lag figures.
// A log it cannot read (it was just recovered) keeps 0.
static void
recover_last_time(rill_log *log)
{
	uint64_t         last = atomic_load(&log->last_seq);
	rill_log_reader *r;
	rill_record      rec;

	if (last == 0 || rill_log_reader_open(&r, log, last - 1) != RILL_OK) {
		return;
	}
	if (rill_log_reader_next(r, &rec) == RILL_OK && rec.seq == last) {
		atomic_store(&log->last_time_us, rec.time_us);
	}
	rill_log_reader_close(r);
}

int
rill_log_open(rill_log **logp, const char *dir, uint64_t generation,
    uint64_t base_seq, uint64_t applied_seq, const rill_log_options *opts)
{
	rill_log *log;
	int       rv;

	if (base_seq >= UINT64_MAX - 1) {
		return RILL_INVALID_ARGUMENT;
	}
	if ((log = rill_zalloc(sizeof(*log))) == NULL) {
		return RILL_ENOMEM;
	}
	log->tail_fd    = -1;
	log->generation = generation;
	log->max_bytes  = RILL_LOG_DEFAULT_SEGMENT_BYTES;
	if (opts != NULL && opts->segment_max_bytes != 0) {
		log->max_bytes = opts->segment_max_bytes;
	}
	if (opts != NULL) {
		log->max_age_us          = opts->segment_max_age_ms * 1000u;
		log->on_seal             = opts->on_seal;
		log->on_seal_arg         = opts->on_seal_arg;
		log->synced_before_store = opts->synced_before_store;
		log->tail_unsynced       = opts->tail_unsynced;
	}
	if ((log->dir = rill_strdup(dir)) == NULL) {
		rv = RILL_ENOMEM;
		goto out_free_log;
	}
	if (pthread_mutex_init(&log->mu, NULL) != 0) {
		rv = RILL_ENOMEM;
		goto out_free_dir;
	}
	if ((rv = prepare_dir(dir)) != RILL_OK) {
		goto out_destroy_mu;
	}
	if ((rv = recover(log, base_seq, applied_seq)) != RILL_OK) {
		goto out_free_segments;
	}
	recover_last_time(log);
	*logp = log;
	return RILL_OK;

out_free_segments:
	free_segments(log);
out_destroy_mu:
	pthread_mutex_destroy(&log->mu);
out_free_dir:
	rill_free(log->dir);
out_free_log:
	rill_free(log);
	return rv;
}

void
rill_log_close(rill_log *log)
{
	if (log == NULL) {
		return;
	}
	// A clean close leaves no zeros behind; a failure here only leaves
	// them for the next recovery to cut.
	if (!log->failed && trim_tail(log) == RILL_OK && log->unsynced &&
	    fdatasync(log->tail_fd) != 0) {
		rill_diag_warn("LOG-CLOSE", "fdatasync %s/%s: %s", log->dir,
		    log->tail->name, strerror(errno));
	}
	free_segments(log);
	pthread_mutex_destroy(&log->mu);
	rill_free(log->group);
	rill_free(log->dir);
	rill_free(log);
}

// fail puts the log in its failed state after an I/O error on the file
// name in the log's directory (errno holds the cause) and returns
// RILL_EIO. The file's state is no longer known: a failed fsync may have
// dropped the dirty pages, and a retry would then report success for data
// that is gone.
static int
fail(rill_log *log, const char *what, const char *name)
{
	rill_diag_err("LOG-FAILED",
	    "%s %s/%s: %s; the log refuses every write from now on, restart "
	    "rilld to recover from the files",
	    what, log->dir, name, strerror(errno));
	log->failed = true;
	return RILL_EIO;
}

// sync_tail makes what was written to the tail segment durable.
static int
sync_tail(rill_log *log)
{
	if (log->tail == NULL || !log->unsynced) {
		return RILL_OK;
	}
	if (fdatasync(log->tail_fd) != 0) {
		return fail(log, "fdatasync", log->tail->name);
	}
	log->unsynced = false;
	return RILL_OK;
}

// new_segment seals the tail (durably: damage is allowed only in the last
// segment) and starts a segment whose first record is first_seq: header
// written under a temporary name and fsynced, renamed into place, and the
// directory fsynced.
static int
new_segment(rill_log *log, uint64_t first_seq, uint64_t now_us)
{
	char     path[PATH_MAX], tmp[PATH_MAX], tmp_name[48];
	uint8_t  h[HEADER_SIZE];
	segment *seg;
	int      fd, rv;

	if (log->tail != NULL && trim_tail(log) != RILL_OK) {
		return fail(log, "truncate", log->tail->name);
	}
	if ((rv = sync_tail(log)) != RILL_OK) {
		return rv;
	}
	if ((rv = reserve_segment(log, log->n_segs + 1)) != RILL_OK) {
		return rv;
	}
	if ((seg = segment_new(first_seq, now_us, HEADER_SIZE)) == NULL) {
		return RILL_ENOMEM;
	}
	snprintf(tmp_name, sizeof(tmp_name), "%s.tmp", seg->name);
	if ((rv = rill_path_join(path, sizeof(path), log->dir, seg->name)) !=
	        RILL_OK ||
	    (rv = rill_path_join(tmp, sizeof(tmp), log->dir, tmp_name)) !=
	        RILL_OK) {
		goto out_unref;
	}
	encode_header(h, log->generation, first_seq, now_us);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rv = fail(log, "create", tmp_name);
		goto out_unref;
	}
	if (rill_pwrite_full(fd, h, HEADER_SIZE, 0) != 0) {
		rv = fail(log, "write", tmp_name);
		goto out_close;
	}
	if (fsync(fd) != 0) {
		rv = fail(log, "fsync", tmp_name);
		goto out_close;
	}
	if (rename(tmp, path) != 0) {
		rv = fail(log, "rename into place", seg->name);
		goto out_close;
	}
	if ((rv = rill_fsync_dir(log->dir)) != RILL_OK) {
		log->failed = true;
		close(fd);
		goto out_unref;
	}

	pthread_mutex_lock(&log->mu);
	log->segs[log->n_segs++] = seg;
	pthread_mutex_unlock(&log->mu);
	if (log->tail_fd >= 0) {
		close(log->tail_fd);
	}
	// Only now is the old tail sealed: had the new segment failed, it
	// would have stayed the tail.
	if (log->tail != NULL && log->on_seal != NULL) {
		log->on_seal(
		    log->on_seal_arg, log->tail->first_seq, first_seq - 1);
	}
	log->tail       = seg;
	log->tail_fd    = fd;
	log->tail_alloc = HEADER_SIZE;
	log->unsynced   = false;
	atomic_fetch_add(&log->total_bytes, HEADER_SIZE);
	rill_diag_debug("LOG-SEGMENT", "%s: new segment, first seq %" PRIu64,
	    path, first_seq);
	return RILL_OK;

out_close:
	close(fd);
	unlink(tmp);
out_unref:
	segment_unref(seg);
	return rv;
}

// roll_due tells whether the tail is full or old enough to be sealed. An
// empty segment is never sealed: every segment but the last holds records.
static bool
roll_due(rill_log *log, uint64_t now_us)
{
	segment *tail = log->tail;
	uint64_t size =
	    atomic_load_explicit(&tail->size, memory_order_relaxed);

	if (size <= HEADER_SIZE) {
		return false;
	}
	return size >= log->max_bytes ||
	    (log->max_age_us != 0 && now_us >= tail->created_us &&
	        now_us - tail->created_us >= log->max_age_us);
}

int
rill_log_append(rill_log *log, const rill_record *rec)
{
	size_t   body, need;
	uint8_t *p;

	if (log->failed) {
		return RILL_EIO;
	}
	// Seqs 0 and UINT64_MAX are never records: seqs may not wrap.
	if (rec->seq != log->next_seq || rec->seq == 0 ||
	    rec->seq == UINT64_MAX ||
	    rec->batch_len > RILL_LOG_RECORD_MAX - BODY_FIXED ||
	    (rec->batch_len > 0 && rec->batch == NULL)) {
		return RILL_INVALID_ARGUMENT;
	}
	body = BODY_FIXED + rec->batch_len;
	need = log->group_len + FRAME_SIZE + body;
	if (need > log->group_cap) {
		size_t cap = log->group_cap ? log->group_cap : GROUP_BUF_MIN;
		while (cap < need) {
			cap *= 2;
		}
		if ((p = rill_realloc(log->group, cap)) == NULL) {
			return RILL_ENOMEM;
		}
		log->group     = p;
		log->group_cap = cap;
	}
	p = log->group + log->group_len;
	put64(p + FRAME_SIZE, rec->seq);
	put64(p + FRAME_SIZE + 8, rec->time_us);
	put64(p + FRAME_SIZE + 16, rec->client_id);
	put64(p + FRAME_SIZE + 24, rec->request_id);
	if (rec->batch_len > 0) {
		memcpy(
		    p + FRAME_SIZE + BODY_FIXED, rec->batch, rec->batch_len);
	}
	put32(p, (uint32_t) body);
	put32(p + 4, rill_crc32c(p + FRAME_SIZE, body));
	log->group_len     = need;
	log->group_time_us = rec->time_us;
	log->next_seq++;
	return RILL_OK;
}

// preallocate extends the tail file with zeros up to end. The group's
// fdatasync makes the new size durable with the records.
static int
preallocate(rill_log *log, uint64_t end)
{
	static const uint8_t zeros[64 << 10];

	while (log->tail_alloc < end) {
		size_t n = sizeof(zeros);
		if (end - log->tail_alloc < n) {
			n = (size_t) (end - log->tail_alloc);
		}
		if (rill_pwrite_full(
		        log->tail_fd, zeros, n, log->tail_alloc) != 0) {
			return fail(log, "extend", log->tail->name);
		}
		log->tail_alloc += n;
	}
	log->unsynced = true;
	return RILL_OK;
}

// index_group offers the seek index of the tail the records of the group
// just written at offset off, whose first record is seq, every MARK_STEP
// bytes. Walking the frames in memory costs little next to their CRCs.
// An index that cannot grow only makes readers parse more.
static void
index_group(rill_log *log, uint64_t off, uint64_t seq)
{
	segment *seg = log->tail;
	uint64_t next =
	    seg->n_marks ? seg->marks[seg->n_marks - 1].off : HEADER_SIZE;
	size_t pos = 0;

	next += MARK_STEP;
	if (off + log->group_len <= next) {
		return; // the common small group: nothing to add
	}
	pthread_mutex_lock(&log->mu);
	while (pos < log->group_len) {
		if (off + pos >= next) {
			if (mark_add(seg, seq, off + pos) != RILL_OK) {
				break;
			}
			next = off + pos + MARK_STEP;
		}
		pos += FRAME_SIZE + get32(log->group + pos);
		seq++;
	}
	pthread_mutex_unlock(&log->mu);
}

int
rill_log_flush(rill_log *log, bool sync)
{
	uint64_t off, last;
	int      rv;

	if (log->failed) {
		return RILL_EIO;
	}
	if (log->group_len == 0) {
		return sync ? sync_tail(log) : RILL_OK;
	}
	last = atomic_load_explicit(&log->last_seq, memory_order_relaxed);
	if (log->tail == NULL || roll_due(log, rill_wall_us())) {
		if ((rv = new_segment(log, last + 1, rill_wall_us())) !=
		    RILL_OK) {
			return rv;
		}
	}
	off = atomic_load_explicit(&log->tail->size, memory_order_relaxed);
	if (off + log->group_len > log->tail_alloc &&
	    (rv = preallocate(log, off + log->group_len + PREALLOC_CHUNK)) !=
	        RILL_OK) {
		return rv;
	}
	if (rill_pwrite_full(log->tail_fd, log->group, log->group_len, off) !=
	    0) {
		return fail(log, "write", log->tail->name);
	}
	log->unsynced = true;
	if (sync && (rv = sync_tail(log)) != RILL_OK) {
		return rv;
	}
	index_group(log, off, last + 1);
	// Publish only now: a reader (a follower) must never see a record
	// that a crash could still take back when the caller asked for sync.
	// last_seq goes first, so a reader that sees a record through the
	// size also sees a last_seq at least as large.
	atomic_store_explicit(
	    &log->last_time_us, log->group_time_us, memory_order_relaxed);
	atomic_store_explicit(
	    &log->last_seq, log->next_seq - 1, memory_order_release);
	atomic_store_explicit(
	    &log->tail->size, off + log->group_len, memory_order_release);
	atomic_fetch_add(&log->total_bytes, log->group_len);
	log->group_len = 0;
	if (log->group_cap > GROUP_BUF_KEEP) {
		uint8_t *p = rill_realloc(log->group, GROUP_BUF_MIN);
		if (p != NULL) {
			log->group     = p;
			log->group_cap = GROUP_BUF_MIN;
		}
	}
	return RILL_OK;
}

int
rill_log_sync(rill_log *log)
{
	if (log->failed) {
		return RILL_EIO;
	}
	return sync_tail(log);
}

bool
rill_log_flush_rolls(rill_log *log, uint64_t now_us)
{
	return !log->failed && (log->tail == NULL || roll_due(log, now_us));
}

int
rill_log_roll_if_due(rill_log *log, uint64_t now_us)
{
	uint64_t last;

	if (log->failed) {
		return RILL_EIO;
	}
	if (log->tail == NULL || log->max_age_us == 0 ||
	    atomic_load_explicit(&log->tail->size, memory_order_relaxed) <=
	        HEADER_SIZE ||
	    now_us < log->tail->created_us ||
	    now_us - log->tail->created_us < log->max_age_us) {
		return RILL_OK;
	}
	last = atomic_load_explicit(&log->last_seq, memory_order_relaxed);
	return new_segment(log, last + 1, now_us);
}

uint64_t
rill_log_last_seq(rill_log *log)
{
	return atomic_load_explicit(&log->last_seq, memory_order_acquire);
}

uint64_t
rill_log_last_time_us(rill_log *log)
{
	return atomic_load_explicit(&log->last_time_us, memory_order_relaxed);
}

// oldest_locked returns the first seq held. Under log->mu.
static uint64_t
oldest_locked(rill_log *log)
{
	if (log->n_segs > 0) {
		return log->segs[0]->first_seq;
	}
	return atomic_load_explicit(&log->last_seq, memory_order_acquire) + 1;
}

uint64_t
rill_log_oldest_seq(rill_log *log)
{
	uint64_t seq;

	pthread_mutex_lock(&log->mu);
	seq = oldest_locked(log);
	pthread_mutex_unlock(&log->mu);
	return seq;
}

uint64_t
rill_log_size(rill_log *log)
{
	return atomic_load_explicit(&log->total_bytes, memory_order_relaxed);
}

unsigned
rill_log_segment_count(rill_log *log)
{
	size_t n;

	pthread_mutex_lock(&log->mu);
	n = log->n_segs;
	pthread_mutex_unlock(&log->mu);
	return (unsigned) n;
}

// find_locked returns the index of the last segment whose first seq is at
// most seq, or n_segs when there is none. Under log->mu.
static size_t
find_locked(rill_log *log, uint64_t seq)
{
	size_t lo = 0, hi = log->n_segs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (log->segs[mid]->first_seq <= seq) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo == 0 ? log->n_segs : lo - 1;
}

// reader_enter makes seg (a reference the reader now owns) the segment
// the reader reads, from its first record.
static void
reader_enter(rill_log_reader *r, segment *seg)
{
	if (r->cur.fd >= 0) {
		close(r->cur.fd);
		r->cur.fd = -1;
	}
	segment_unref(r->seg);
	r->seg       = seg;
	r->off       = HEADER_SIZE;
	r->expect    = seg->first_seq;
	r->mark_next = HEADER_SIZE + MARK_STEP;
	r->cur.len   = 0;
	snprintf(r->path, sizeof(r->path), "%s/%s", r->log->dir, seg->name);
}

// reader_seek moves a reader that just entered its segment to the index
// entry nearest before start, so it parses little to reach it. Under
// log->mu.
static void
reader_seek_locked(rill_log_reader *r, uint64_t start)
{
	const mark *m = mark_find(r->seg, start);

	if (m != NULL) {
		r->off       = m->off;
		r->expect    = m->seq;
		r->mark_next = m->off + MARK_STEP;
	}
}

// enter_start_locked enters the segment that holds the reader's start,
// at the index entry nearest before it; false when no segment holds it
// yet. Under log->mu.
static bool
enter_start_locked(rill_log_reader *r)
{
	size_t i = find_locked(r->log, r->start);

	if (i >= r->log->n_segs) {
		return false;
	}
	segment_ref(r->log->segs[i]);
	reader_enter(r, r->log->segs[i]);
	reader_seek_locked(r, r->start);
	return true;
}

// reader_offer_mark offers the seek index the record the reader has just
// checked, once it is MARK_STEP past the last entry the reader knows of.
// Only sealed segments take entries from readers: the tail's index is
// the writer's (and recovery scanned the tail), so the writer may read it
// without the lock.
static void
reader_offer_mark(rill_log_reader *r)
{
	rill_log *log = r->log;
	segment  *seg = r->seg;
	uint64_t  last;

	pthread_mutex_lock(&log->mu);
	if (log->n_segs > 0 && log->segs[log->n_segs - 1] != seg) {
		(void) mark_add(seg, r->expect, r->off);
	}
	last = seg->n_marks ? seg->marks[seg->n_marks - 1].off : HEADER_SIZE;
	pthread_mutex_unlock(&log->mu);
	r->mark_next = (last > r->off ? last : r->off) + MARK_STEP;
}

int
rill_log_reader_open(
    rill_log_reader **readerp, rill_log *log, uint64_t after_seq)
{
	rill_log_reader *r;
	uint64_t start = after_seq == UINT64_MAX ? after_seq : after_seq + 1;

	if ((r = rill_zalloc(sizeof(*r))) == NULL) {
		return RILL_ENOMEM;
	}
	if ((r->cur.buf = rill_alloc(READ_BUF_MIN)) == NULL) {
		rill_free(r);
		return RILL_ENOMEM;
	}
	r->cur.cap  = READ_BUF_MIN;
	r->cur.fd   = -1;
	r->cur.path = r->path;
	r->log      = log;
	r->after    = after_seq;
	r->start    = start;

	pthread_mutex_lock(&log->mu);
	if (start < oldest_locked(log)) {
		pthread_mutex_unlock(&log->mu);
		rill_free(r->cur.buf);
		rill_free(r);
		return RILL_OUT_OF_RANGE;
	}
	enter_start_locked(r);
	pthread_mutex_unlock(&log->mu);
	*readerp = r;
	return RILL_OK;
}

// reader_advance moves the reader on when it has read all that its
// segment holds: to the segment that holds its start, when it has none
// yet, or to the next segment once the current one is sealed. It returns
// RILL_NOT_FOUND when there is nothing more to read yet.
static int
reader_advance(rill_log_reader *r)
{
	rill_log *log  = r->log;
	segment  *next = NULL;
	uint64_t  size;
	size_t    i;

	pthread_mutex_lock(&log->mu);
	if (r->seg == NULL) {
		bool found = enter_start_locked(r);
		pthread_mutex_unlock(&log->mu);
		return found ? RILL_OK : RILL_NOT_FOUND;
	}
	// A segment is sealed before the next one is listed, so its size
	// read now, after seeing the next one, is final. Look the next one
	// up by the seq it must start at: the reader's own segment may have
	// left the list (retention).
	size = atomic_load_explicit(&r->seg->size, memory_order_acquire);
	i    = find_locked(log, r->expect);
	if (size == r->off && i < log->n_segs && log->segs[i] != r->seg) {
		next = log->segs[i];
		segment_ref(next);
	}
	pthread_mutex_unlock(&log->mu);

	if (size > r->off) {
		return RILL_OK; // flushed just now
	}
	if (next == NULL) {
		return RILL_NOT_FOUND;
	}
	if (next->first_seq != r->expect) {
		int rv = corrupt(r->path, r->off,
		    "the segment ends at seq %" PRIu64
		    " but the next one starts at seq %" PRIu64,
		    r->expect - 1, next->first_seq);
		segment_unref(next);
		return rv;
	}
	reader_enter(r, next);
	return RILL_OK;
}

// reader_read parses the record at the reader's offset, which lies below
// the segment's flushed size.
static int
reader_read(rill_log_reader *r, uint64_t size, rill_record *rec)
{
	const uint8_t *p;
	uint32_t       len;
	int            rv;

	if (r->cur.fd < 0) {
		if ((r->cur.fd = open(r->path, O_RDONLY | O_CLOEXEC)) < 0) {
			return io_error("open", r->path);
		}
		r->cur.len = 0;
	}
	if (size - r->off < FRAME_SIZE || r->expect == UINT64_MAX) {
		return corrupt(r->path, r->off,
		    "a record frame cut short by the flushed end, or past "
		    "the largest seq");
	}
	if ((rv = cursor_get(&r->cur, r->off, FRAME_SIZE, size, &p)) !=
	    RILL_OK) {
		return rv;
	}
	len = get32(p);
	if (len < BODY_FIXED || len > RILL_LOG_RECORD_MAX ||
	    len > size - r->off - FRAME_SIZE) {
		return corrupt(r->path, r->off,
		    "a record length of %" PRIu32
		    " bytes, out of range or past the flushed end",
		    len);
	}
	if ((rv = cursor_get(&r->cur, r->off, FRAME_SIZE + (size_t) len, size,
	         &p)) != RILL_OK) {
		return rv;
	}
	if (rill_crc32c(p + FRAME_SIZE, len) != get32(p + 4)) {
		return corrupt(r->path, r->off,
		    "a record checksum mismatch (seq %" PRIu64 ")", r->expect);
	}
	p += FRAME_SIZE;
	rec->seq = get64(p);
	if (rec->seq != r->expect) {
		return corrupt(r->path, r->off,
		    "a record carrying seq %" PRIu64 " where seq %" PRIu64
		    " belongs",
		    rec->seq, r->expect);
	}
	rec->time_us    = get64(p + 8);
	rec->client_id  = get64(p + 16);
	rec->request_id = get64(p + 24);
	rec->batch      = p + BODY_FIXED;
	rec->batch_len  = len - BODY_FIXED;
	if (r->off >= r->mark_next) {
		reader_offer_mark(r);
	}
	r->off += FRAME_SIZE + len;
	r->expect++;
	return RILL_OK;
}

int
rill_log_reader_next(rill_log_reader *r, rill_record *rec)
{
	int rv;

	for (;;) {
		uint64_t size = 0;

		if (r->seg != NULL) {
			size = atomic_load_explicit(
			    &r->seg->size, memory_order_acquire);
		}
		if (r->seg == NULL || r->off >= size) {
			if ((rv = reader_advance(r)) != RILL_OK) {
				return rv;
			}
			continue;
		}
		if ((rv = reader_read(r, size, rec)) != RILL_OK) {
			return rv;
		}
		if (rec->seq > r->after) {
			return RILL_OK;
		}
		r->skipped++;
	}
}

uint64_t
rill_log_reader_skipped(const rill_log_reader *r)
{
	return r->skipped;
}

void
rill_log_reader_close(rill_log_reader *r)
{
	if (r == NULL) {
		return;
	}
	if (r->cur.fd >= 0) {
		close(r->cur.fd);
	}
	segment_unref(r->seg);
	rill_free(r->cur.buf);
	rill_free(r);
}

int
rill_log_segments(rill_log *log, rill_log_segment **outp, size_t *np)
{
	rill_log_segment *out = NULL;
	uint64_t          last;
	size_t            n;

	pthread_mutex_lock(&log->mu);
	n    = log->n_segs;
	last = atomic_load_explicit(&log->last_seq, memory_order_acquire);
	if (n > 0 && (out = rill_alloc(n * sizeof(*out))) == NULL) {
		pthread_mutex_unlock(&log->mu);
		return RILL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		segment *seg = log->segs[i];
		out[i]       = (rill_log_segment) {
			      .first_seq = seg->first_seq,
			      .last_seq =
                            i + 1 < n ? log->segs[i + 1]->first_seq - 1 : last,
			      .created_us = seg->created_us,
			      .size       = atomic_load_explicit(
			                &seg->size, memory_order_acquire),
			      .sealed = i + 1 < n,
		};
		snprintf(out[i].name, sizeof(out[i].name), "%s", seg->name);
	}
	pthread_mutex_unlock(&log->mu);
	*outp = out;
	*np   = n;
	return RILL_OK;
}

int
rill_log_drop_through(rill_log *log, uint64_t seq, unsigned *droppedp)
{
	segment **gone;
	size_t    n = 0;
	char      path[PATH_MAX];
	int       rv = RILL_OK;

	pthread_mutex_lock(&log->mu);
	// Never the last segment (the tail, or what becomes it).
	while (n + 1 < log->n_segs && log->segs[n + 1]->first_seq - 1 <= seq) {
		n++;
	}
	if (n == 0) {
		pthread_mutex_unlock(&log->mu);
		*droppedp = 0;
		return RILL_OK;
	}
	if ((gone = rill_alloc(n * sizeof(*gone))) == NULL) {
		pthread_mutex_unlock(&log->mu);
		return RILL_ENOMEM;
	}
	memcpy(gone, log->segs, n * sizeof(*gone));
	memmove(log->segs, log->segs + n, (log->n_segs - n) * sizeof(*gone));
	log->n_segs -= n;
	pthread_mutex_unlock(&log->mu);

	// Oldest first: a crash midway leaves a contiguous log.
	for (size_t i = 0; i < n; i++) {
		uint64_t size =
		    atomic_load_explicit(&gone[i]->size, memory_order_relaxed);
		if (rv == RILL_OK &&
		    (rv = rill_path_join(path, sizeof(path), log->dir,
		         gone[i]->name)) == RILL_OK &&
		    unlink(path) != 0 && errno != ENOENT) {
			rv = io_error("remove", path);
		}
		atomic_fetch_sub(&log->total_bytes, size);
		segment_unref(gone[i]);
	}
	rill_free(gone);
	if (rv == RILL_OK) {
		rv = rill_fsync_dir(log->dir);
	}
	*droppedp = (unsigned) n;
	return rv;
}

// segment_records calls fn for each record of the segment open in c,
// from the header to end (checked by scan_segment already), and sums the
// CRC32C of the file's bytes [0, end) and the records' time bounds.
static int
segment_records(cursor *c, uint64_t end, const uint8_t *header,
    rill_segment_record_fn fn, void *arg, rill_segment_info *info)
{
	const uint8_t *p;
	uint64_t       off = HEADER_SIZE;
	uint32_t       crc = rill_crc32c(header, HEADER_SIZE);
	int            rv;

	while (off < end) {
		rill_record rec;
		uint32_t    len;

		if ((rv = cursor_get(c, off, FRAME_SIZE, end, &p)) !=
		    RILL_OK) {
			return rv;
		}
		len = get32(p);
		if ((rv = cursor_get(c, off, FRAME_SIZE + (size_t) len, end,
		         &p)) != RILL_OK) {
			return rv;
		}
		crc = rill_crc32c_extend(crc, p, FRAME_SIZE + (size_t) len);
		rec = (rill_record) {
			.seq        = get64(p + FRAME_SIZE),
			.time_us    = get64(p + FRAME_SIZE + 8),
			.client_id  = get64(p + FRAME_SIZE + 16),
			.request_id = get64(p + FRAME_SIZE + 24),
			.batch      = p + FRAME_SIZE + BODY_FIXED,
			.batch_len  = len - BODY_FIXED,
		};
		if (info->records == 0) {
			info->first_time_us = rec.time_us;
		}
		info->last_time_us = rec.time_us;
		info->records++;
		if (fn != NULL && (rv = fn(arg, &rec)) != RILL_OK) {
			return rv;
		}
		off += FRAME_SIZE + len;
	}
	info->checksum = crc;
	return RILL_OK;
}

int
rill_segment_scan(const char *path, bool allow_torn, rill_segment_record_fn fn,
    void *arg, rill_segment_info *info)
{
	const char *base = strrchr(path, '/');
	uint8_t     h[HEADER_SIZE];
	struct stat st;
	cursor      c = { .fd = -1, .path = path };
	uint64_t    first, created, end = 0, last = 0;
	char        why[256];
	int         rv;

	memset(info, 0, sizeof(*info));
	base = base != NULL ? base + 1 : path;
	if (!rill_log_parse_segment_name(base, &first)) {
		return corrupt(path, 0, "not a segment file name");
	}
	if ((c.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return errno == ENOENT ? RILL_ENOENT : io_error("open", path);
	}
	if (fstat(c.fd, &st) != 0) {
		rv = io_error("stat", path);
		goto out;
	}
	if ((uint64_t) st.st_size < HEADER_SIZE) {
		rv = corrupt(path, 0,
		    "the file has %jd bytes, fewer than a segment header",
		    (intmax_t) st.st_size);
		goto out;
	}
	if (rill_pread_full(c.fd, h, HEADER_SIZE, 0) != HEADER_SIZE) {
		rv = io_error("read", path);
		goto out;
	}
	if ((rv = check_header(0, path, h, first, &created)) != RILL_OK) {
		goto out;
	}
	if ((c.buf = rill_alloc(SCAN_BUF)) == NULL) {
		rv = RILL_ENOMEM;
		goto out;
	}
	c.cap = SCAN_BUF;
	if ((rv = scan_segment(&c, (uint64_t) st.st_size, first, allow_torn,
	         false, UINT64_MAX, NULL, &end, &last, why, sizeof(why))) !=
	    RILL_OK) {
		goto out;
	}
	info->generation = get64(h + 16);
	info->first_seq  = first;
	info->last_seq   = last;
	info->created_us = created;
	info->size       = end;
	c.len            = 0;
	rv               = segment_records(&c, end, h, fn, arg, info);
out:
	close(c.fd);
	rill_free(c.buf);
	return rv;
}
