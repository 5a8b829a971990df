// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// datadir: the data directory's layout and exclusivity. While a rilld has
// the directory open it holds an exclusive flock on LOCK, so no second
// process (nor a second open in the same process) can use it. Every other
// module asks this one for its paths, and a new generation is created only
// here. Each file below starts with a magic line and a format version; a
// newer version is refused with RILL_EVERSION and damage with
// RILL_ECORRUPT, never half-read.
//
//   <path>/LOCK                     flock; holds the holder's pid as text
//   <path>/FORMAT                   "rill-data v2\n" (v1 is read, and
//                                   rewritten as v2 at open)
//   <path>/NODE_ID                  "rill-node-id v1\n<16 lowercase hex>\n"
//   <path>/store/                   the store (LevelDB)
//   <path>/generations/<id>/        one generation; <id> is "%016" PRIx64
//   <path>/generations/<id>/GENERATION
//       "rill-generation v1\nid <16 hex>\nparent <16 hex>\n"
//       "parent_seq <decimal>\ncreated_us <decimal>\n"
//   <path>/generations/<id>/log/    the generation's log segments
//   <path>/generations/<id>/ADOPTED "rill-adopted v1\n": the generation
//                                   was made by the leader this node
//                                   followed (absent: made here)
//   <path>/LOCAL.lock, rill.sock    rill_open_local's election lock and
//                                   its leader's socket (rill/local.h);
//                                   not this module's, and left alone
//
// A generation directory appears whole: it is built under a temporary name
// and renamed into place. Generation ids are random and never 0; parent 0
// means a generation with no parent (a new, empty history).
//
// Open and close may be called from any one thread at a time; the path
// and node id accessors from any thread while the datadir is open.
#ifndef RILL_SERVICE_DATADIR_H
#define RILL_SERVICE_DATADIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rill_datadir rill_datadir;

// RILL_DATADIR_NODE_ID_LEN is the length of a node id: 16 lowercase hex
// characters (8 random bytes).
#define RILL_DATADIR_NODE_ID_LEN 16

// rill_datadir_open opens the data directory at path, creating it (and its
// parents) if missing, and takes its lock. A new directory (empty, or
// holding only a LOCK file) gets a FORMAT file and a random node id; an
// existing one must hold a FORMAT file of version 1 or 2 (a v1 one is
// rewritten as v2: see datadir.c), and gets a node id if
// it has none. Blocks on disk I/O. Each error is logged, naming the path:
//   RILL_ELOCKED             another open file holds the lock, in this
//                            process or another (whose pid is logged);
//   RILL_FAILED_PRECONDITION the directory holds files but no FORMAT: it
//                            is not a rill data dir, and nothing is
//                            written to it;
//   RILL_EVERSION            FORMAT or NODE_ID is of a newer version;
//   RILL_ECORRUPT            FORMAT or NODE_ID is damaged;
//   RILL_EIO, RILL_ENOMEM.
// On success the caller owns *ddp; on error *ddp is untouched.
int rill_datadir_open(rill_datadir **ddp, const char *path);

// The files rill_open_local keeps in a data dir beside the data dir's own.
#define RILL_DATADIR_LOCAL_LOCK "LOCAL.lock"
#define RILL_DATADIR_LOCAL_SOCKET "rill.sock"

// rill_datadir_check judges the FORMAT file of the data dir at path
// without taking its lock or writing anything, for a process that uses
// the dir through the one holding it: RILL_OK for a version this build
// reads, RILL_NOT_FOUND when there is no FORMAT (a new dir),
// RILL_EVERSION for a newer version and RILL_ECORRUPT for damage (both
// logged, naming the file), RILL_EIO.
int rill_datadir_check(const char *path);

// rill_datadir_close releases the lock and frees dd. NULL is a no-op.
void rill_datadir_close(rill_datadir *dd);

// rill_datadir_path returns the path given to open, valid until close.
const char *rill_datadir_path(const rill_datadir *dd);

// rill_datadir_node_id returns this node's id, RILL_DATADIR_NODE_ID_LEN
// lowercase hex characters, NUL-terminated and valid until close. It
// stays the same across restarts for as long as NODE_ID exists.
const char *rill_datadir_node_id(const rill_datadir *dd);

// The path helpers below write a path into buf of size n. They create
// nothing. They return RILL_EIO (after logging) if the path does not fit.

// rill_datadir_store_path writes "<path>/store".
int rill_datadir_store_path(const rill_datadir *dd, char *buf, size_t n);
// rill_datadir_generation_path writes "<path>/generations/<id>".
int rill_datadir_generation_path(
    const rill_datadir *dd, uint64_t generation, char *buf, size_t n);
// rill_datadir_log_path writes "<path>/generations/<id>/log".
int rill_datadir_log_path(
    const rill_datadir *dd, uint64_t generation, char *buf, size_t n);

// rill_datadir_new_generation creates a generation with a new random id
// (never 0) whose history begins at the position (parent_generation,
// parent_seq); parent_generation 0 means no parent. Its GENERATION file
// and directory are durable on return; its log/ directory is not created.
// The new id goes to *generationp. Blocks on disk I/O. Returns RILL_OK,
// RILL_EIO or RILL_ENOMEM.
int rill_datadir_new_generation(rill_datadir *dd, uint64_t parent_generation,
    uint64_t parent_seq, uint64_t *generationp);

// rill_datadir_adopt_generation creates generation id with the given
// parent position and creation time, as another node made it: a
// follower takes its leader's generations. RILL_OK if it exists already
// with the same parent position; RILL_FAILED_PRECONDITION (logged) if it
// exists with another. Blocks on disk I/O.
int rill_datadir_adopt_generation(rill_datadir *dd, uint64_t id,
    uint64_t parent, uint64_t parent_seq, uint64_t created_us);

// rill_datadir_generation_adopted tells whether generation was adopted
// (made by the leader this node followed) rather than made here, where
// this node led it. A generation adopted before the mark existed reads
// as made here.
bool rill_datadir_generation_adopted(rill_datadir *dd, uint64_t generation);

// rill_datadir_latest_generation finds the generation created last (the
// newest created_us; ties go to the larger id) and writes its id to
// *generationp and its parent_seq to *parent_seqp (either may be NULL).
// Entries of generations/ that are not 16-hex names (such as a generation
// left half-built by a crash) are skipped. Returns RILL_NOT_FOUND if there
// is no generation, and RILL_ECORRUPT or RILL_EVERSION if any
// generation's GENERATION file is damaged or newer (after logging it).
int rill_datadir_latest_generation(
    rill_datadir *dd, uint64_t *generationp, uint64_t *parent_seqp);

// rill_datadir_read_generation reads and checks the GENERATION file of
// generation: its parent generation, parent seq and creation time
// (microseconds since the epoch) go to the out-parameters, each of which
// may be NULL. Returns RILL_NOT_FOUND if there is no such generation,
// RILL_ECORRUPT (naming the path) if the file is damaged, missing, or
// names another id, and RILL_EVERSION if it is of a newer version.
int rill_datadir_read_generation(rill_datadir *dd, uint64_t generation,
    uint64_t *parentp, uint64_t *parent_seqp, uint64_t *created_usp);

// rill_generation_read is rill_datadir_read_generation for any directory
// laid out as a data dir's generations/ (a data dir in use by another
// process, or a backup): it reads <root>/generations/<id>/GENERATION,
// without a lock.
int rill_generation_read(const char *root, uint64_t generation,
    uint64_t *parentp, uint64_t *parent_seqp, uint64_t *created_usp);

// rill_generation_parse_name parses a generation directory's name (16
// lowercase hex digits); false if name is not one.
bool rill_generation_parse_name(const char *name, uint64_t *idp);

#endif // RILL_SERVICE_DATADIR_H
