// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// catalog: the SQLite file behind catalog.h. One connection serves every
// thread under one recursive mutex, and every statement the API runs is
// prepared once at open. The file is trusted only after its header
// (application_id, user_version) and PRAGMA quick_check pass; anything
// else is set aside as "<path>.damaged" and replaced by an empty catalog.
// A sound file of the previous version (1) is upgraded in place, in one
// transaction (upgrade_sql), since version 2 only adds a table.
//
// Every uint64_t is stored as the INTEGER with the same 64 bits (to_i64
// and from_i64), so ids, hashes and seqs above INT64_MAX round trip
// exactly. SQLite compares INTEGERs as signed, so an ORDER BY on such a
// column sorts by "col < 0, col" (U64_ASC), which is unsigned order.
//
// Locking: mu is recursive. Each call takes it and releases it before it
// returns, except around a transaction:
//
//     idle --rill_catalog_begin--> in_txn --rill_catalog_commit---> idle
//                                         --rill_catalog_rollback->
//
// In in_txn the thread that called begin holds mu one extra time, so its
// own calls lock mu recursively and go through, while any other thread's
// call waits in pthread_mutex_lock until commit or rollback releases it.
// Hence begin, commit and rollback must come from the same thread.
//
// Events: their ids are rowids, which SQLite assigns as max(id) + 1, and
// only the oldest events are ever deleted, so ids are consecutive; the
// newest EVENTS_KEPT are then those with id > newest - EVENTS_KEPT.
#include "catalog.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include <rill/status.h>

#include "clock.h"
#include "diag.h"
#include "mem.h"

#define APPLICATION_ID 0x52494c4c // "RILL"
#define SCHEMA_VERSION 2          // PRAGMA user_version
#define EVENTS_KEPT 10000
// BUSY_TIMEOUT_MS bounds the wait for a lock held by another connection
// (there should be none: the data dir's lock keeps other rillds out).
#define BUSY_TIMEOUT_MS 5000

// U64_ASC(col) orders a column of bit-cast uint64_t values as unsigned.
#define U64_ASC(col) col " < 0, " col

// The followers table, added by user_version 2.
#define FOLLOWERS_SQL                            \
	"CREATE TABLE IF NOT EXISTS followers (" \
	" node_id TEXT PRIMARY KEY,"             \
	" address TEXT NOT NULL,"                \
	" generation INTEGER NOT NULL,"          \
	" applied_seq INTEGER NOT NULL,"         \
	" applied_time_us INTEGER NOT NULL,"     \
	" first_seen_us INTEGER NOT NULL,"       \
	" last_seen_us INTEGER NOT NULL) WITHOUT ROWID;"

// The schema of user_version 2. Snapshots and segments have no foreign
// key: a row may arrive before its generation's (a rebuild reads files in
// any order), and deleting a generation removes its rows explicitly.
// Version 1 was the same without the followers table: upgrade_sql turns
// one into the other.
static const char schema_sql[] =
    "CREATE TABLE generations ("
    " id INTEGER PRIMARY KEY,"
    " parent INTEGER NOT NULL,"
    " parent_seq INTEGER NOT NULL,"
    " created_us INTEGER NOT NULL);"
    "CREATE TABLE snapshots ("
    " generation INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " key_count INTEGER NOT NULL,"
    " size INTEGER NOT NULL,"
    " raw_bytes INTEGER NOT NULL,"
    " created_us INTEGER NOT NULL,"
    " state_hash INTEGER NOT NULL,"
    " duration_ms INTEGER NOT NULL,"
    " PRIMARY KEY (generation, seq)) WITHOUT ROWID;"
    "CREATE TABLE segments ("
    " generation INTEGER NOT NULL,"
    " first_seq INTEGER NOT NULL,"
    " last_seq INTEGER NOT NULL,"
    " first_time_us INTEGER NOT NULL,"
    " last_time_us INTEGER NOT NULL,"
    " size INTEGER NOT NULL,"
    " checksum INTEGER NOT NULL,"
    " PRIMARY KEY (generation, first_seq)) WITHOUT ROWID;"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " time_us INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " detail TEXT NOT NULL);" FOLLOWERS_SQL;

static const char upgrade_sql[] =
    "BEGIN IMMEDIATE; " FOLLOWERS_SQL " PRAGMA user_version=2; COMMIT";

enum stmt_id {
	PUT_GENERATION,
	PUT_SNAPSHOT,
	PUT_SEGMENT,
	DEL_GENERATION,
	DEL_GENERATION_SNAPSHOTS,
	DEL_GENERATION_SEGMENTS,
	DEL_SNAPSHOT,
	DEL_SEGMENT,
	CLEAR_GENERATIONS,
	CLEAR_SNAPSHOTS,
	CLEAR_SEGMENTS,
	GET_GENERATION,
	GET_SNAPSHOT,
	LIST_GENERATIONS,
	LIST_SNAPSHOTS,
	LIST_SEGMENTS,
	ADD_EVENT,
	PRUNE_EVENTS,
	LIST_EVENTS,
	PUT_FOLLOWER,
	DEL_FOLLOWER,
	LIST_FOLLOWERS,
	BEGIN,
	COMMIT,
	ROLLBACK,
	SAVEPOINT,
	RELEASE,
	ROLLBACK_TO,
	N_STMTS
};

#define SNAPSHOT_COLUMNS                                          \
	"s.generation, s.seq, s.key_count, s.size, s.raw_bytes, " \
	"s.created_us, s.state_hash, s.duration_ms"
#define SEGMENT_COLUMNS                                            \
	"s.generation, s.first_seq, s.last_seq, s.first_time_us, " \
	"s.last_time_us, s.size, s.checksum"
// Rows of a generation without a row of its own come last.
#define GENERATION_ORDER \
	"g.id IS NULL, " U64_ASC("g.created_us") ", " U64_ASC("s.generation")

static const char *const stmt_sql[N_STMTS] = {
	[PUT_GENERATION] = "INSERT OR REPLACE INTO generations"
	                   " (id, parent, parent_seq, created_us)"
	                   " VALUES (?1, ?2, ?3, ?4)",
	[PUT_SNAPSHOT]   = "INSERT OR REPLACE INTO snapshots"
	                   " (generation, seq, key_count, size, raw_bytes,"
	                   " created_us, state_hash, duration_ms)"
	                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[PUT_SEGMENT]    = "INSERT OR REPLACE INTO segments"
	                   " (generation, first_seq, last_seq, first_time_us,"
	                   " last_time_us, size, checksum)"
	                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[DEL_GENERATION] = "DELETE FROM generations WHERE id = ?1",
	[DEL_GENERATION_SNAPSHOTS] =
	    "DELETE FROM snapshots WHERE generation = ?1",
	[DEL_GENERATION_SEGMENTS] =
	    "DELETE FROM segments WHERE generation = ?1",
	[DEL_SNAPSHOT] =
	    "DELETE FROM snapshots WHERE generation = ?1 AND seq = ?2",
	[DEL_SEGMENT] =
	    "DELETE FROM segments WHERE generation = ?1 AND first_seq = ?2",
	[CLEAR_GENERATIONS] = "DELETE FROM generations",
	[CLEAR_SNAPSHOTS]   = "DELETE FROM snapshots",
	[CLEAR_SEGMENTS]    = "DELETE FROM segments",
	[GET_GENERATION]    = "SELECT id, parent, parent_seq, created_us"
	                      " FROM generations WHERE id = ?1",
	[GET_SNAPSHOT]      = "SELECT " SNAPSHOT_COLUMNS " FROM snapshots AS s"
	                      " WHERE s.generation = ?1 AND s.seq = ?2",
	[LIST_GENERATIONS] =
	    "SELECT id, parent, parent_seq, created_us"
	    " FROM generations"
	    " ORDER BY " U64_ASC("created_us") ", " U64_ASC("id"),
	[LIST_SNAPSHOTS] = "SELECT " SNAPSHOT_COLUMNS " FROM snapshots AS s"
	                   " LEFT JOIN generations AS g ON g.id = s.generation"
	                   " WHERE ?1 = 0 OR s.generation = ?1"
	                   " ORDER BY " GENERATION_ORDER ", " U64_ASC("s.seq"),
	[LIST_SEGMENTS] =
	    "SELECT " SEGMENT_COLUMNS " FROM segments AS s"
	    " LEFT JOIN generations AS g ON g.id = s.generation"
	    " WHERE ?1 = 0 OR s.generation = ?1"
	    " ORDER BY " GENERATION_ORDER ", " U64_ASC("s.first_seq"),
	[ADD_EVENT]      = "INSERT INTO events (time_us, kind, detail)"
	                   " VALUES (?1, ?2, ?3)",
	[PRUNE_EVENTS]   = "DELETE FROM events WHERE id <= ?1",
	[LIST_EVENTS]    = "SELECT id, time_us, kind, detail FROM events"
	                   " ORDER BY id DESC LIMIT ?1",
	[PUT_FOLLOWER]   = "INSERT OR REPLACE INTO followers"
	                   " (node_id, address, generation, applied_seq,"
	                   " applied_time_us, first_seen_us, last_seen_us)"
	                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[DEL_FOLLOWER]   = "DELETE FROM followers WHERE node_id = ?1",
	[LIST_FOLLOWERS] = "SELECT node_id, address, generation, applied_seq,"
	                   " applied_time_us, first_seen_us, last_seen_us"
	                   " FROM followers ORDER BY node_id",
	[BEGIN]          = "BEGIN IMMEDIATE",
	[COMMIT]         = "COMMIT",
	[ROLLBACK]       = "ROLLBACK",
	[SAVEPOINT]      = "SAVEPOINT catalog_op",
	[RELEASE]        = "RELEASE catalog_op",
	[ROLLBACK_TO]    = "ROLLBACK TO catalog_op",
};

struct rill_catalog {
	pthread_mutex_t mu; // recursive; see "Locking" above
	char           *path;
	sqlite3        *db;
	sqlite3_stmt   *stmt[N_STMTS];
	bool            in_txn; // between begin and commit or rollback
};

// What open_db found in the file.
enum verdict {
	GOOD,    // a catalog of this version
	OLD,     // a sound catalog of version 1: upgrade it
	EMPTY,   // a new (or empty) database: create the schema
	DAMAGED, // set it aside and start again
};

static int64_t
to_i64(uint64_t v)
{
	return v <= INT64_MAX
	    ? (int64_t) v
	    : (int64_t) (v - (uint64_t) INT64_MAX - 1) + INT64_MIN;
}

static uint64_t
from_i64(int64_t v)
{
	return (uint64_t) v;
}

static void
bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	sqlite3_bind_int64(st, i, to_i64(v));
}

static uint64_t
column_u64(sqlite3_stmt *st, int i)
{
	return from_i64(sqlite3_column_int64(st, i));
}

// utf8_keep returns how many of the len bytes of s to keep so that the
// text does not end in the middle of a UTF-8 sequence.
static size_t
utf8_keep(const char *s, size_t len)
{
	size_t        i = len, n_cont = 0;
	size_t        need;
	unsigned char lead;

	// Back over up to 3 continuation bytes (10xxxxxx) to the lead byte.
	for (; i > 0 && n_cont < 3; i--, n_cont++) {
		if (((unsigned char) s[i - 1] & 0xc0) != 0x80) {
			break;
		}
	}
	if (i == 0) {
		return len;
	}
	lead = (unsigned char) s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	// An ASCII byte, or a sequence complete at the end: keep it all.
	return need == 1 || n_cont + 1 >= need ? len : i - 1;
}

// one_line_n copies the len bytes of text (which stop at a NUL) into
// buf[n]: truncated to fit (at a UTF-8 boundary), with control characters
// turned into spaces.
static void
one_line_n(char *buf, size_t n, const char *text, size_t len)
{
	len = strnlen(text, len);
	if (len >= n) {
		len = utf8_keep(text, n - 1);
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (char *p = buf; *p != '\0'; p++) {
		if ((unsigned char) *p < 0x20 || *p == 0x7f) {
			*p = ' ';
		}
	}
}

static void
one_line(char *buf, size_t n, const char *text)
{
	one_line_n(buf, n, text, strlen(text));
}

// is_damage tells whether an SQLite result code says the file is not a
// (sound) database, as opposed to an I/O, lock or memory failure.
static bool
is_damage(int rc)
{
	return (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT;
}

// sql_error logs a failed SQLite call (what names it) and returns the
// rill code for rc. It reads the connection's message, so it must run
// before the next call on the connection.
static int
sql_error(rill_catalog *c, const char *what, int rc)
{
	if ((rc & 0xff) == SQLITE_NOMEM) {
		return RILL_ENOMEM;
	}
	rill_diag_err("CATALOG-IO", "catalog %s: %s: %s (code %d)", c->path,
	    what, c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc),
	    rc);
	return RILL_EIO;
}

// done readies a kept statement for its next use.
static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

// run steps st to its end and resets it, so that no statement keeps a
// read transaction open between calls.
static int
run(rill_catalog *c, enum stmt_id id, const char *what)
{
	sqlite3_stmt *st = c->stmt[id];
	int           rc;
	int           rv = RILL_OK;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) { }
	if (rc != SQLITE_DONE) {
		rv = sql_error(c, what, rc);
	}
	done(st);
	return rv;
}

static void
lock(rill_catalog *c)
{
	pthread_mutex_lock(&c->mu);
}

static void
unlock(rill_catalog *c)
{
	pthread_mutex_unlock(&c->mu);
}

// run_group runs the statements ids[0..n) (each with ?1 bound to arg when
// bind) inside a savepoint: all of them take effect, or none. The lock is
// held. It nests inside a transaction of rill_catalog_begin.
static int
run_group(rill_catalog *c, const enum stmt_id *ids, size_t n, bool bind,
    uint64_t arg, const char *what)
{
	int rv;

	if ((rv = run(c, SAVEPOINT, what)) != RILL_OK) {
		return rv;
	}
	for (size_t i = 0; i < n && rv == RILL_OK; i++) {
		if (bind) {
			bind_u64(c->stmt[ids[i]], 1, arg);
		}
		rv = run(c, ids[i], what);
	}
	if (rv != RILL_OK) {
		// Already logged: a failure to undo adds nothing the caller
		// can act on (SQLite then rolls the transaction back).
		(void) run(c, ROLLBACK_TO, what);
	}
	(void) run(c, RELEASE, what);
	return rv;
}

// pragma_int runs a statement returning one integer; it returns the
// SQLite result code.
static int
pragma_int(sqlite3 *db, const char *sql, int64_t *vp)
{
	sqlite3_stmt *st;
	int           rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		return rc;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*vp = sqlite3_column_int64(st, 0);
		rc  = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*vp = 0;
		rc  = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static void
disconnect(rill_catalog *c)
{
	for (int i = 0; i < N_STMTS; i++) {
		sqlite3_finalize(c->stmt[i]);
		c->stmt[i] = NULL;
	}
	if (c->db != NULL && sqlite3_close(c->db) != SQLITE_OK) {
		rill_diag_warn("CATALOG-IO", "catalog %s: close: %s", c->path,
		    sqlite3_errmsg(c->db));
	}
	c->db = NULL;
}

static int
connect(rill_catalog *c)
{
	int rc = sqlite3_open_v2(c->path, &c->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);

	if (rc != SQLITE_OK) {
		int rv = sql_error(c, "open", rc);
		disconnect(c);
		return rv;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	return RILL_OK;
}

// quick_check runs PRAGMA quick_check on a file whose header is right.
static int
quick_check(rill_catalog *c, enum verdict *vp, char *why, size_t n)
{
	sqlite3_stmt *st;
	const char   *answer;
	int           rc;
	int           rv;

	rc = sqlite3_prepare_v2(c->db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		answer = (const char *) sqlite3_column_text(st, 0);
		if (answer != NULL && strcmp(answer, "ok") == 0) {
			*vp = GOOD;
		} else {
			// Its report spans lines: the log wants one.
			char line[200];
			one_line(line, sizeof(line),
			    answer != NULL ? answer : "no answer");
			snprintf(why, n, "damaged (quick_check: %s)", line);
			*vp = DAMAGED;
		}
		sqlite3_finalize(st);
		return RILL_OK;
	}
	if (is_damage(rc)) {
		snprintf(why, n, "damaged (%s)", sqlite3_errmsg(c->db));
		*vp = DAMAGED;
		sqlite3_finalize(st);
		return RILL_OK;
	}
	// Log before finalize, which may reset the connection's message.
	rv = sql_error(c, "quick_check", rc);
	sqlite3_finalize(st);
	return rv;
}

// inspect judges the file behind a new connection; for DAMAGED it says
// why in why[n]. Nothing is written.
static int
inspect(rill_catalog *c, enum verdict *vp, char *why, size_t n)
{
	int64_t app_id = 0, version = 0, n_objects = 0;
	int     rc;

	rc = pragma_int(c->db, "PRAGMA application_id", &app_id);
	if (rc == SQLITE_OK) {
		rc = pragma_int(c->db, "PRAGMA user_version", &version);
	}
	if (rc == SQLITE_OK) {
		rc = pragma_int(
		    c->db, "SELECT count(*) FROM sqlite_master", &n_objects);
	}
	if (is_damage(rc)) {
		snprintf(why, n, "not a sound SQLite database (%s)",
		    sqlite3_errmsg(c->db));
		*vp = DAMAGED;
		return RILL_OK;
	}
	if (rc != SQLITE_OK) {
		return sql_error(c, "read the header", rc);
	}
	if (app_id == 0 && version == 0 && n_objects == 0) {
		*vp = EMPTY;
		return RILL_OK;
	}
	if (app_id != APPLICATION_ID) {
		snprintf(why, n, "not a rill catalog (application_id 0x%08x)",
		    (unsigned) (uint32_t) app_id);
		*vp = DAMAGED;
		return RILL_OK;
	}
	if (version == 1) {
		int rv = quick_check(c, vp, why, n);
		if (rv == RILL_OK && *vp == GOOD) {
			*vp = OLD;
		}
		return rv;
	}
	if (version != SCHEMA_VERSION) {
		snprintf(why, n,
		    "of schema version %" PRId64
		    " (%s); this rilld uses version %d",
		    version, version > SCHEMA_VERSION ? "newer" : "older",
		    SCHEMA_VERSION);
		*vp = DAMAGED;
		return RILL_OK;
	}
	return quick_check(c, vp, why, n);
}

// setup readies a GOOD or EMPTY file: the journal, the schema (for an
// EMPTY one) and the statements. A GOOD file whose tables do not fit the
// statements turns DAMAGED.
static int
setup(rill_catalog *c, enum verdict *vp, char *why, size_t n)
{
	sqlite3_stmt *st;
	int           rc;

	// journal_mode answers with the mode in effect.
	rc = sqlite3_prepare_v2(
	    c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *mode =
			    (const char *) sqlite3_column_text(st, 0);
			if (mode == NULL || strcmp(mode, "wal") != 0) {
				rill_diag_warn("CATALOG-JOURNAL",
				    "catalog %s: no WAL journal (mode %s)",
				    c->path, mode != NULL ? mode : "unknown");
			}
			rc = SQLITE_OK;
		}
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK) {
		return sql_error(c, "set the journal mode", rc);
	}
	if ((rc = sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL,
	         NULL)) != SQLITE_OK) {
		return sql_error(c, "set synchronous", rc);
	}
	if (*vp == EMPTY) {
		char sql[sizeof(schema_sql) + 128];

		snprintf(sql, sizeof(sql),
		    "BEGIN IMMEDIATE; %s PRAGMA application_id=%d;"
		    " PRAGMA user_version=%d; COMMIT",
		    schema_sql, APPLICATION_ID, SCHEMA_VERSION);
		if ((rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL)) !=
		    SQLITE_OK) {
			int rv = sql_error(c, "create the schema", rc);
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			return rv;
		}
	}
	if (*vp == OLD) {
		// Only a table is added: the rows of version 1 stay valid.
		if ((rc = sqlite3_exec(
		         c->db, upgrade_sql, NULL, NULL, NULL)) != SQLITE_OK) {
			int rv = RILL_OK;
			if (is_damage(rc)) {
				snprintf(why, n, "damaged (%s)",
				    sqlite3_errmsg(c->db));
				*vp = DAMAGED;
			} else {
				rv = sql_error(c, "upgrade the schema", rc);
			}
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			return rv;
		}
		rill_diag_notice("CATALOG-UPGRADED",
		    "catalog %s upgraded from schema version 1 to %d", c->path,
		    SCHEMA_VERSION);
	}
	for (int i = 0; i < N_STMTS; i++) {
		rc = sqlite3_prepare_v3(c->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &c->stmt[i], NULL);
		if (rc == SQLITE_OK) {
			continue;
		}
		if ((*vp == GOOD || *vp == OLD) &&
		    (rc & 0xff) == SQLITE_ERROR) {
			snprintf(why, n, "of another schema (%s)",
			    sqlite3_errmsg(c->db));
			*vp = DAMAGED;
			return RILL_OK;
		}
		return sql_error(c, "prepare a statement", rc);
	}
	return RILL_OK;
}

static int
remove_if_present(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT) {
		rill_diag_err(
		    "CATALOG-IO", "remove %s: %s", path, strerror(errno));
		return RILL_EIO;
	}
	return RILL_OK;
}

// set_aside renames the damaged file to "<path>.damaged" and removes the
// WAL and shared-memory files beside both names: a stale WAL must not be
// replayed into the new catalog, nor into the .damaged copy.
static int
set_aside(rill_catalog *c, const char *why)
{
	static const char *const suffixes[] = { "-wal", "-shm" };
	char                     damaged[PATH_MAX], side[PATH_MAX + 8];
	int                      rv;

	if (snprintf(damaged, sizeof(damaged), "%s.damaged", c->path) >=
	    (int) sizeof(damaged)) {
		rill_diag_err("CATALOG-IO", "path too long: %s", c->path);
		return RILL_EIO;
	}
	if (rename(c->path, damaged) != 0) {
		rill_diag_err("CATALOG-IO", "rename %s to %s: %s", c->path,
		    damaged, strerror(errno));
		return RILL_EIO;
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", c->path, suffixes[i]);
		if ((rv = remove_if_present(side)) != RILL_OK) {
			return rv;
		}
		snprintf(side, sizeof(side), "%s%s", damaged, suffixes[i]);
		if ((rv = remove_if_present(side)) != RILL_OK) {
			return rv;
		}
	}
	rill_diag_warn("CATALOG-REPLACED",
	    "catalog %s is %s: kept it as %s and started an empty catalog, "
	    "to be rebuilt from the files",
	    c->path, why, damaged);
	return RILL_OK;
}

// open_db connects to the file, replacing it once if it is damaged.
static int
open_db(rill_catalog *c, bool *freshp)
{
	char         why[256];
	enum verdict v = DAMAGED;
	int          rv;

	for (int attempt = 0;; attempt++) {
		if ((rv = connect(c)) != RILL_OK) {
			return rv;
		}
		rv = inspect(c, &v, why, sizeof(why));
		if (rv == RILL_OK && v != DAMAGED) {
			rv = setup(c, &v, why, sizeof(why));
		}
		if (rv != RILL_OK) {
			disconnect(c);
			return rv;
		}
		if (v != DAMAGED) {
			if (v == EMPTY) {
				rill_diag_notice("CATALOG-NEW",
				    "created an empty catalog %s", c->path);
			}
			*freshp = v == EMPTY;
			return RILL_OK;
		}
		disconnect(c);
		if (attempt > 0) {
			rill_diag_err("CATALOG-IO",
			    "catalog %s is %s right after its replacement",
			    c->path, why);
			return RILL_EIO;
		}
		if ((rv = set_aside(c, why)) != RILL_OK) {
			return rv;
		}
	}
}

int
rill_catalog_open(rill_catalog **cp, const char *path, bool *freshp)
{
	rill_catalog       *c;
	pthread_mutexattr_t attr;
	bool                fresh = false;
	int                 rv;

	if ((c = rill_zalloc(sizeof(*c))) == NULL) {
		return RILL_ENOMEM;
	}
	if ((c->path = rill_strdup(path)) == NULL) {
		rv = RILL_ENOMEM;
		goto out_free;
	}
	if (pthread_mutexattr_init(&attr) != 0) {
		rv = RILL_ENOMEM;
		goto out_free;
	}
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	rv = pthread_mutex_init(&c->mu, &attr) != 0 ? RILL_ENOMEM : RILL_OK;
	pthread_mutexattr_destroy(&attr);
	if (rv != RILL_OK) {
		goto out_free;
	}
	if ((rv = open_db(c, &fresh)) != RILL_OK) {
		goto out_destroy;
	}
	*cp     = c;
	*freshp = fresh;
	return RILL_OK;

out_destroy:
	pthread_mutex_destroy(&c->mu);
out_free:
	rill_free(c->path);
	rill_free(c);
	return rv;
}

// end_txn leaves in_txn: it releases the lock taken by this call and
// the one rill_catalog_begin kept.
static void
end_txn(rill_catalog *c)
{
	c->in_txn = false;
	unlock(c);
	unlock(c);
}

void
rill_catalog_close(rill_catalog *c)
{
	if (c == NULL) {
		return;
	}
	lock(c);
	if (c->in_txn) {
		rill_diag_warn("CATALOG-TXN",
		    "catalog %s closed inside a transaction: rolled back",
		    c->path);
		(void) run(c, ROLLBACK, "roll back");
		end_txn(c);
	} else {
		unlock(c);
	}
	disconnect(c);
	pthread_mutex_destroy(&c->mu);
	rill_free(c->path);
	rill_free(c);
}

int
rill_catalog_begin(rill_catalog *c)
{
	int rv;

	lock(c);
	if (c->in_txn) {
		unlock(c);
		return RILL_FAILED_PRECONDITION;
	}
	if ((rv = run(c, BEGIN, "begin")) != RILL_OK) {
		unlock(c);
		return rv;
	}
	// Keep the lock until commit or rollback.
	c->in_txn = true;
	return RILL_OK;
}

int
rill_catalog_commit(rill_catalog *c)
{
	int rv;

	lock(c);
	// Holding the lock, in_txn can only be this thread's transaction.
	if (!c->in_txn) {
		unlock(c);
		return RILL_FAILED_PRECONDITION;
	}
	if ((rv = run(c, COMMIT, "commit")) != RILL_OK &&
	    !sqlite3_get_autocommit(c->db)) {
		// The transaction is still open: end it, as promised.
		(void) run(c, ROLLBACK, "roll back");
	}
	end_txn(c);
	return rv;
}

void
rill_catalog_rollback(rill_catalog *c)
{
	lock(c);
	if (!c->in_txn) {
		unlock(c);
		return;
	}
	// SQLite may have rolled back already (after an I/O or memory
	// failure); ROLLBACK then fails harmlessly.
	if (!sqlite3_get_autocommit(c->db)) {
		(void) run(c, ROLLBACK, "roll back");
	}
	end_txn(c);
}

int
rill_catalog_clear(rill_catalog *c)
{
	static const enum stmt_id ids[] = { CLEAR_SNAPSHOTS, CLEAR_SEGMENTS,
		CLEAR_GENERATIONS };
	int                       rv;

	lock(c);
	rv =
	    run_group(c, ids, sizeof(ids) / sizeof(ids[0]), false, 0, "clear");
	unlock(c);
	return rv;
}

int
rill_catalog_put_generation(rill_catalog *c, const rill_cat_generation *g)
{
	sqlite3_stmt *st;
	int           rv;

	if (g->id == 0) {
		return RILL_INVALID_ARGUMENT;
	}
	lock(c);
	st = c->stmt[PUT_GENERATION];
	bind_u64(st, 1, g->id);
	bind_u64(st, 2, g->parent);
	bind_u64(st, 3, g->parent_seq);
	bind_u64(st, 4, g->created_us);
	rv = run(c, PUT_GENERATION, "put a generation");
	unlock(c);
	return rv;
}

int
rill_catalog_put_snapshot(rill_catalog *c, const rill_cat_snapshot *s)
{
	sqlite3_stmt *st;
	int           rv;

	if (s->generation == 0) {
		return RILL_INVALID_ARGUMENT;
	}
	lock(c);
	st = c->stmt[PUT_SNAPSHOT];
	bind_u64(st, 1, s->generation);
	bind_u64(st, 2, s->seq);
	bind_u64(st, 3, s->key_count);
	bind_u64(st, 4, s->size);
	bind_u64(st, 5, s->raw_bytes);
	bind_u64(st, 6, s->created_us);
	bind_u64(st, 7, s->state_hash);
	bind_u64(st, 8, s->duration_ms);
	rv = run(c, PUT_SNAPSHOT, "put a snapshot");
	unlock(c);
	return rv;
}

int
rill_catalog_put_segment(rill_catalog *c, const rill_cat_segment *s)
{
	sqlite3_stmt *st;
	int           rv;

	if (s->generation == 0) {
		return RILL_INVALID_ARGUMENT;
	}
	lock(c);
	st = c->stmt[PUT_SEGMENT];
	bind_u64(st, 1, s->generation);
	bind_u64(st, 2, s->first_seq);
	bind_u64(st, 3, s->last_seq);
	bind_u64(st, 4, s->first_time_us);
	bind_u64(st, 5, s->last_time_us);
	bind_u64(st, 6, s->size);
	bind_u64(st, 7, s->checksum);
	rv = run(c, PUT_SEGMENT, "put a segment");
	unlock(c);
	return rv;
}

int
rill_catalog_del_generation(rill_catalog *c, uint64_t generation)
{
	static const enum stmt_id ids[] = { DEL_GENERATION_SNAPSHOTS,
		DEL_GENERATION_SEGMENTS, DEL_GENERATION };
	int                       rv;

	lock(c);
	rv = run_group(c, ids, sizeof(ids) / sizeof(ids[0]), true, generation,
	    "delete a generation");
	unlock(c);
	return rv;
}

// del_pair runs a delete keyed by (generation, seq).
static int
del_pair(rill_catalog *c, enum stmt_id id, uint64_t generation, uint64_t seq,
    const char *what)
{
	int rv;

	lock(c);
	bind_u64(c->stmt[id], 1, generation);
	bind_u64(c->stmt[id], 2, seq);
	rv = run(c, id, what);
	unlock(c);
	return rv;
}

int
rill_catalog_del_snapshot(rill_catalog *c, uint64_t generation, uint64_t seq)
{
	return del_pair(c, DEL_SNAPSHOT, generation, seq, "delete a snapshot");
}

int
rill_catalog_del_segment(
    rill_catalog *c, uint64_t generation, uint64_t first_seq)
{
	return del_pair(
	    c, DEL_SEGMENT, generation, first_seq, "delete a segment");
}

int
rill_catalog_put_follower(rill_catalog *c, const rill_cat_follower *f)
{
	char          id[sizeof(f->node_id)], address[sizeof(f->address)];
	sqlite3_stmt *st;
	int           rv;

	// The fields may lack their NUL: what is read stops at their end.
	one_line_n(id, sizeof(id), f->node_id, sizeof(f->node_id));
	one_line_n(address, sizeof(address), f->address, sizeof(f->address));
	if (id[0] == '\0') {
		return RILL_INVALID_ARGUMENT;
	}
	lock(c);
	st = c->stmt[PUT_FOLLOWER];
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
	bind_u64(st, 3, f->generation);
	bind_u64(st, 4, f->applied_seq);
	bind_u64(st, 5, f->applied_time_us);
	bind_u64(st, 6, f->first_seen_us);
	bind_u64(st, 7, f->last_seen_us);
	rv = run(c, PUT_FOLLOWER, "put a follower");
	unlock(c);
	return rv;
}

int
rill_catalog_del_follower(rill_catalog *c, const char *node_id)
{
	int rv;

	lock(c);
	sqlite3_bind_text(
	    c->stmt[DEL_FOLLOWER], 1, node_id, -1, SQLITE_STATIC);
	rv = run(c, DEL_FOLLOWER, "delete a follower");
	unlock(c);
	return rv;
}

int
rill_catalog_event(rill_catalog *c, const char *kind, const char *fmt, ...)
{
	rill_cat_event ev;
	char           text[2 * sizeof(ev.detail)];
	sqlite3_stmt  *st;
	va_list        ap;
	int            len;
	int            rv;

	va_start(ap, fmt);
	len = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (len < 0) {
		text[0] = '\0';
	}
	// text holds more than fits, so one_line sees the truncation.
	one_line(ev.detail, sizeof(ev.detail), text);
	one_line(ev.kind, sizeof(ev.kind), kind);

	lock(c);
	if ((rv = run(c, SAVEPOINT, "record an event")) != RILL_OK) {
		unlock(c);
		return rv;
	}
	st = c->stmt[ADD_EVENT];
	bind_u64(st, 1, rill_wall_us());
	sqlite3_bind_text(st, 2, ev.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev.detail, -1, SQLITE_STATIC);
	rv = run(c, ADD_EVENT, "record an event");
	if (rv == RILL_OK) {
		int64_t id = sqlite3_last_insert_rowid(c->db);
		if (id > EVENTS_KEPT) {
			sqlite3_bind_int64(
			    c->stmt[PRUNE_EVENTS], 1, id - EVENTS_KEPT);
			rv = run(c, PRUNE_EVENTS, "prune events");
		}
	}
	if (rv != RILL_OK) {
		(void) run(c, ROLLBACK_TO, "record an event");
	}
	(void) run(c, RELEASE, "record an event");
	unlock(c);
	return rv;
}

static void
copy_text(char *buf, size_t n, sqlite3_stmt *st, int i)
{
	const char *s = (const char *) sqlite3_column_text(st, i);

	one_line(buf, n, s != NULL ? s : "");
}

static void
decode_generation(sqlite3_stmt *st, void *out)
{
	rill_cat_generation *g = out;

	g->id         = column_u64(st, 0);
	g->parent     = column_u64(st, 1);
	g->parent_seq = column_u64(st, 2);
	g->created_us = column_u64(st, 3);
}

static void
decode_snapshot(sqlite3_stmt *st, void *out)
{
	rill_cat_snapshot *s = out;

	s->generation  = column_u64(st, 0);
	s->seq         = column_u64(st, 1);
	s->key_count   = column_u64(st, 2);
	s->size        = column_u64(st, 3);
	s->raw_bytes   = column_u64(st, 4);
	s->created_us  = column_u64(st, 5);
	s->state_hash  = column_u64(st, 6);
	s->duration_ms = column_u64(st, 7);
}

static void
decode_segment(sqlite3_stmt *st, void *out)
{
	rill_cat_segment *s = out;

	s->generation    = column_u64(st, 0);
	s->first_seq     = column_u64(st, 1);
	s->last_seq      = column_u64(st, 2);
	s->first_time_us = column_u64(st, 3);
	s->last_time_us  = column_u64(st, 4);
	s->size          = column_u64(st, 5);
	s->checksum      = (uint32_t) column_u64(st, 6);
}

static void
decode_follower(sqlite3_stmt *st, void *out)
{
	rill_cat_follower *f = out;

	copy_text(f->node_id, sizeof(f->node_id), st, 0);
	copy_text(f->address, sizeof(f->address), st, 1);
	f->generation      = column_u64(st, 2);
	f->applied_seq     = column_u64(st, 3);
	f->applied_time_us = column_u64(st, 4);
	f->first_seen_us   = column_u64(st, 5);
	f->last_seen_us    = column_u64(st, 6);
}

static void
decode_event(sqlite3_stmt *st, void *out)
{
	rill_cat_event *e = out;

	e->id      = sqlite3_column_int64(st, 0);
	e->time_us = column_u64(st, 1);
	copy_text(e->kind, sizeof(e->kind), st, 2);
	copy_text(e->detail, sizeof(e->detail), st, 3);
}

// list collects the rows of statement id (bound by the caller, who holds
// the lock) into an array of size-byte elements; none gives NULL, 0.
static int
list(rill_catalog *c, enum stmt_id id, size_t size,
    void (*decode)(sqlite3_stmt *, void *), const char *what, void **outp,
    size_t *np)
{
	sqlite3_stmt *st  = c->stmt[id];
	char         *arr = NULL;
	size_t        n = 0, cap = 0;
	int           rc;
	int           rv = RILL_OK;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap == 0 ? 16 : 2 * cap;
			char  *p;

			if (ncap > SIZE_MAX / size ||
			    (p = rill_realloc(arr, ncap * size)) == NULL) {
				rv = RILL_ENOMEM;
				break;
			}
			arr = p;
			cap = ncap;
		}
		decode(st, arr + n * size);
		n++;
	}
	if (rv == RILL_OK && rc != SQLITE_DONE) {
		rv = sql_error(c, what, rc);
	}
	done(st);
	if (rv != RILL_OK) {
		rill_free(arr);
		return rv;
	}
	*outp = arr;
	*np   = n;
	return RILL_OK;
}

int
rill_catalog_generations(
    rill_catalog *c, rill_cat_generation **outp, size_t *np)
{
	void *arr;
	int   rv;

	lock(c);
	rv = list(c, LIST_GENERATIONS, sizeof(**outp), decode_generation,
	    "list generations", &arr, np);
	unlock(c);
	if (rv == RILL_OK) {
		*outp = arr;
	}
	return rv;
}

// get fetches the one row of statement id (bound by the caller, who
// holds the lock): RILL_NOT_FOUND if there is none.
static int
get(rill_catalog *c, enum stmt_id id, void (*decode)(sqlite3_stmt *, void *),
    void *out, const char *what)
{
	sqlite3_stmt *st = c->stmt[id];
	int           rc = sqlite3_step(st);
	int           rv;

	if (rc == SQLITE_ROW) {
		decode(st, out);
		rv = RILL_OK;
	} else if (rc == SQLITE_DONE) {
		rv = RILL_NOT_FOUND;
	} else {
		rv = sql_error(c, what, rc);
	}
	done(st);
	return rv;
}

int
rill_catalog_generation(
    rill_catalog *c, uint64_t generation, rill_cat_generation *out)
{
	int rv;

	lock(c);
	bind_u64(c->stmt[GET_GENERATION], 1, generation);
	rv = get(
	    c, GET_GENERATION, decode_generation, out, "fetch a generation");
	unlock(c);
	return rv;
}

int
rill_catalog_snapshots(
    rill_catalog *c, uint64_t generation, rill_cat_snapshot **outp, size_t *np)
{
	void *arr;
	int   rv;

	lock(c);
	bind_u64(c->stmt[LIST_SNAPSHOTS], 1, generation);
	rv = list(c, LIST_SNAPSHOTS, sizeof(**outp), decode_snapshot,
	    "list snapshots", &arr, np);
	unlock(c);
	if (rv == RILL_OK) {
		*outp = arr;
	}
	return rv;
}

int
rill_catalog_snapshot(
    rill_catalog *c, uint64_t generation, uint64_t seq, rill_cat_snapshot *out)
{
	int rv;

	lock(c);
	bind_u64(c->stmt[GET_SNAPSHOT], 1, generation);
	bind_u64(c->stmt[GET_SNAPSHOT], 2, seq);
	rv = get(c, GET_SNAPSHOT, decode_snapshot, out, "fetch a snapshot");
	unlock(c);
	return rv;
}

int
rill_catalog_segments(
    rill_catalog *c, uint64_t generation, rill_cat_segment **outp, size_t *np)
{
	void *arr;
	int   rv;

	lock(c);
	bind_u64(c->stmt[LIST_SEGMENTS], 1, generation);
	rv = list(c, LIST_SEGMENTS, sizeof(**outp), decode_segment,
	    "list segments", &arr, np);
	unlock(c);
	if (rv == RILL_OK) {
		*outp = arr;
	}
	return rv;
}

int
rill_catalog_followers(rill_catalog *c, rill_cat_follower **outp, size_t *np)
{
	void *arr;
	int   rv;

	lock(c);
	rv = list(c, LIST_FOLLOWERS, sizeof(**outp), decode_follower,
	    "list followers", &arr, np);
	unlock(c);
	if (rv == RILL_OK) {
		*outp = arr;
	}
	return rv;
}

int
rill_catalog_events(
    rill_catalog *c, size_t limit, rill_cat_event **outp, size_t *np)
{
	void *arr;
	int   rv;

	if (limit == 0) {
		*outp = NULL;
		*np   = 0;
		return RILL_OK;
	}
	lock(c);
	sqlite3_bind_int64(c->stmt[LIST_EVENTS], 1,
	    limit > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) limit);
	rv = list(c, LIST_EVENTS, sizeof(**outp), decode_event, "list events",
	    &arr, np);
	unlock(c);
	if (rv == RILL_OK) {
		*outp = arr;
	}
	return rv;
}
