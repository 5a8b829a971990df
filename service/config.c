// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// config: one table of settings drives the defaults, the three loaders, the
// checks and --help. A value is parsed from its text form (or, in the file,
// a JSON number) by the setting's type, checked against the setting's
// range, and stored at the setting's offset in rill_config. Defaults are
// text in the table and go through the same parser, so --help prints
// exactly what rilld uses. cJSON stays inside this file.
#include "config.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <rill/status.h>

#include "cpus.h"
#include "diag.h"
#include "file.h"
#include "mem.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)
#define SECOND_MS UINT64_C(1000)
#define MINUTE_MS (60 * SECOND_MS)
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

// CONFIG_FILE_MAX bounds the config file; anything larger is a mistake.
#define CONFIG_FILE_MAX (1u << 20)
// DATA_DIR_MAX leaves room under PATH_MAX for the files inside the dir.
#define DATA_DIR_MAX 2048
// JSON_INT_MAX is the largest integer a JSON number (a double) holds
// exactly.
#define JSON_INT_MAX 9007199254740992.0

enum type {
	T_PATH,     // a non-empty path
	T_URL,      // an nng address: tcp://HOST:PORT, ipc://PATH, ...
	T_COUNT,    // a whole number
	T_SIZE,     // bytes, with an optional binary suffix
	T_DURATION, // milliseconds, or a number with ms, s, m, h or d
	T_ENUM,     // an enum field, by one of the setting's names
	T_LEVEL,    // a diag level name, kept as text
	T_HOSTPORT, // HOST:PORT, for the admin HTTP listener
	T_CPUS,     // a CPU list, as in 0-1,4 (empty: every CPU), kept as text
};

struct setting {
	const char        *key; // JSON key, and the name rill_config_set takes
	const char        *env; // environment variable
	const char        *flag; // command-line flag
	enum type          type;
	const char        *def;      // default, in the text form a flag takes
	bool               optional; // T_URL: the empty string means "none"
	const char *const *names;    // T_ENUM: the names, indexed by value
	uint64_t    min, max; // range, for T_COUNT, T_SIZE and T_DURATION
	size_t      offset;   // of the field in rill_config
	const char *help;
};

// The names of the T_ENUM settings, indexed by value. Their fields are
// written as int.
static const char *const sync_names[] = {
	[RILL_SYNC_ALWAYS]   = "always",
	[RILL_SYNC_INTERVAL] = "interval",
	[RILL_SYNC_NONE]     = "none",
	NULL,
};

static const char *const cpu_names[] = {
	[RILL_CPU_BATCH]  = "batch",
	[RILL_CPU_NORMAL] = "normal",
	NULL,
};

_Static_assert(sizeof(enum rill_sync_policy) == sizeof(int) &&
        sizeof(enum rill_cpu_policy) == sizeof(int),
    "T_ENUM fields are written as int");

// The settings, each once. The JSON key is the rill_config field; the
// flag and variable are spelt from it.
static const struct setting settings[] = {
	{
	    .key    = "data_dir",
	    .env    = "RILL_DATA_DIR",
	    .flag   = "--data-dir",
	    .type   = T_PATH,
	    .def    = "./rill-data",
	    .offset = offsetof(rill_config, data_dir),
	    .help   = "where rilld keeps its store, log and snapshots; one "
	              "rilld at a time may use it",
	},
	{
	    .key    = "listen",
	    .env    = "RILL_LISTEN",
	    .flag   = "--listen",
	    .type   = T_URL,
	    .def    = "tcp://127.0.0.1:7400",
	    .offset = offsetof(rill_config, listen),
	    .help   = "the address the RPC service listens on "
	              "(tcp://HOST:PORT, ipc://PATH or inproc://NAME)",
	},
	{
	    .key    = "sync",
	    .env    = "RILL_SYNC",
	    .flag   = "--sync",
	    .type   = T_ENUM,
	    .names  = sync_names,
	    .def    = "always",
	    .offset = offsetof(rill_config, sync),
	    .help   = "when the log is made durable: always (before each "
	              "write is acknowledged), interval (every "
	              "sync_interval_ms) or none (left to the OS)",
	},
	{
	    .key    = "sync_interval_ms",
	    .env    = "RILL_SYNC_INTERVAL_MS",
	    .flag   = "--sync-interval-ms",
	    .type   = T_DURATION,
	    .def    = "100ms",
	    .min    = 1,
	    .max    = HOUR_MS,
	    .offset = offsetof(rill_config, sync_interval_ms),
	    .help   = "with sync=interval, the longest time between two "
	              "syncs of the log",
	},
	{
	    .key    = "segment_max_bytes",
	    .env    = "RILL_SEGMENT_MAX_BYTES",
	    .flag   = "--segment-max-bytes",
	    .type   = T_SIZE,
	    .def    = "64MiB",
	    .min    = 4 * KiB,
	    .max    = TiB,
	    .offset = offsetof(rill_config, segment_max_bytes),
	    .help   = "a log segment is closed and a new one begun once it "
	              "grows to this size",
	},
	{
	    .key    = "segment_max_age_ms",
	    .env    = "RILL_SEGMENT_MAX_AGE_MS",
	    .flag   = "--segment-max-age-ms",
	    .type   = T_DURATION,
	    .def    = "60s",
	    .min    = 1,
	    .max    = 30 * DAY_MS,
	    .offset = offsetof(rill_config, segment_max_age_ms),
	    .help   = "a non-empty log segment is closed once it is this old, "
	              "which sets the granularity of point-in-time restore",
	},
	{
	    .key    = "max_key_bytes",
	    .env    = "RILL_MAX_KEY_BYTES",
	    .flag   = "--max-key-bytes",
	    .type   = T_SIZE,
	    .def    = "64KiB",
	    .min    = 1,
	    .max    = GiB,
	    .offset = offsetof(rill_config, max_key_bytes),
	    .help   = "the longest key a client may write; at most "
	              "max_request_bytes",
	},
	{
	    .key    = "max_value_bytes",
	    .env    = "RILL_MAX_VALUE_BYTES",
	    .flag   = "--max-value-bytes",
	    .type   = T_SIZE,
	    .def    = "8MiB",
	    .min    = 1,
	    .max    = GiB,
	    .offset = offsetof(rill_config, max_value_bytes),
	    .help   = "the longest value a client may write; at most "
	              "max_request_bytes",
	},
	{
	    .key  = "max_request_bytes",
	    .env  = "RILL_MAX_REQUEST_BYTES",
	    .flag = "--max-request-bytes",
	    .type = T_SIZE,
	    .def  = "16MiB",
	    .min  = KiB,
	    // A write batch becomes one log record, which RILL_LOG_RECORD_MAX
	    // (64 MiB) bounds; half of it leaves room for the framing.
	    .max    = 32 * MiB,
	    .offset = offsetof(rill_config, max_request_bytes),
	    .help   = "the largest request message accepted; larger ones are "
	              "refused unread",
	},
	{
	    .key    = "rpc_contexts",
	    .env    = "RILL_RPC_CONTEXTS",
	    .flag   = "--rpc-contexts",
	    .type   = T_COUNT,
	    .def    = "256",
	    .min    = 1,
	    .max    = 4096,
	    .offset = offsetof(rill_config, rpc_contexts),
	    .help   = "how many requests the RPC service handles at once, "
	              "long-polls included",
	},
	{
	    .key    = "dedup_per_client",
	    .env    = "RILL_DEDUP_PER_CLIENT",
	    .flag   = "--dedup-per-client",
	    .type   = T_COUNT,
	    .def    = "1024",
	    .min    = 1,
	    .max    = 1u << 20,
	    .offset = offsetof(rill_config, dedup_per_client),
	    .help   = "how many recent request ids are remembered per client, "
	              "so that a retried write is not applied twice",
	},
	{
	    .key    = "dedup_idle_ms",
	    .env    = "RILL_DEDUP_IDLE_MS",
	    .flag   = "--dedup-idle-ms",
	    .type   = T_DURATION,
	    .def    = "1h",
	    .min    = SECOND_MS,
	    .max    = 30 * DAY_MS,
	    .offset = offsetof(rill_config, dedup_idle_ms),
	    .help   = "a client idle this long is forgotten by the retry "
	              "table; an older retry is refused, never reapplied",
	},
	{
	    .key    = "cache_bytes",
	    .env    = "RILL_CACHE_BYTES",
	    .flag   = "--cache-bytes",
	    .type   = T_SIZE,
	    .def    = "8MiB",
	    .min    = 0,
	    .max    = TiB,
	    .offset = offsetof(rill_config, cache_bytes),
	    .help   = "the size of the store's LevelDB block cache",
	},
	{
	    .key    = "write_buffer_bytes",
	    .env    = "RILL_WRITE_BUFFER_BYTES",
	    .flag   = "--write-buffer-bytes",
	    .type   = T_SIZE,
	    .def    = "16MiB",
	    .min    = 64 * KiB,
	    .max    = GiB,
	    .offset = offsetof(rill_config, write_buffer_bytes),
	    .help   = "the size of the store's LevelDB write buffer, or "
	              "memtable",
	},
	{
	    .key    = "log_level",
	    .env    = "RILL_LOG_LEVEL",
	    .flag   = "--log-level",
	    .type   = T_LEVEL,
	    .def    = "info",
	    .offset = offsetof(rill_config, log_level),
	    .help   = "the most verbose diagnostics printed: err, warn, "
	              "notice, info or debug",
	},
	{
	    .key    = "cpu_policy",
	    .env    = "RILL_CPU_POLICY",
	    .flag   = "--cpu-policy",
	    .type   = T_ENUM,
	    .names  = cpu_names,
	    .def    = "batch",
	    .offset = offsetof(rill_config, cpu_policy),
	    .help   = "the scheduling policy of rilld's threads: batch "
	              "(SCHED_BATCH: a thread woken by another does not "
	              "preempt it, which keeps the writer thread sending "
	              "replies instead of handing the CPU over at each "
	              "wake-up) or normal (the system's default)",
	},
	{
	    .key    = "cpus",
	    .env    = "RILL_CPUS",
	    .flag   = "--cpus",
	    .type   = T_CPUS,
	    .def    = "",
	    .offset = offsetof(rill_config, cpus),
	    .help   = "the CPUs rilld's threads run on, as in 0 or 0-1,4 "
	              "(empty: every CPU it may use). LevelDB's compaction "
	              "thread keeps every CPU. On a small machine shared with "
	              "the clients, one CPU spares the writer and nng's "
	              "threads their wake-ups of one another across CPUs "
	              "(2 cores, 32 clients: 40% more durable puts)",
	},
	{
	    .key    = "admin_listen",
	    .env    = "RILL_ADMIN_LISTEN",
	    .flag   = "--admin-listen",
	    .type   = T_HOSTPORT,
	    .def    = "127.0.0.1:7401",
	    .offset = offsetof(rill_config, admin_listen),
	    .help =
	        "the address of the HTTP admin API (HOST:PORT; port 0 "
	        "picks a free one; off: none). Its mutating endpoints need a "
	        "bearer token when admin_tokens (file) or "
	        "RILL_ADMIN_TOKEN (comma-separated) set any",
	},
	{
	    .key      = "follow",
	    .env      = "RILL_FOLLOW",
	    .flag     = "--follow",
	    .type     = T_URL,
	    .def      = "",
	    .optional = true,
	    .offset   = offsetof(rill_config, follow),
	    .help     = "the RPC address of a node to follow: this node then "
	                "bootstraps from its snapshot, streams its log, serves "
	                "reads and answers writes with NOT_LEADER (empty: "
	                "this node is a leader)",
	},
	{
	    .key      = "advertise",
	    .env      = "RILL_ADVERTISE",
	    .flag     = "--advertise",
	    .type     = T_URL,
	    .def      = "",
	    .optional = true,
	    .offset   = offsetof(rill_config, advertise),
	    .help     = "the RPC address other nodes and clients reach this "
	                "node at, as a follower reports it and a leader names "
	                "itself (empty: the listen address)",
	},
	{
	    .key    = "ready_max_lag",
	    .env    = "RILL_READY_MAX_LAG",
	    .flag   = "--ready-max-lag",
	    .type   = T_COUNT,
	    .def    = "10000",
	    .min    = 0,
	    .max    = 1000000000000ull,
	    .offset = offsetof(rill_config, ready_max_lag),
	    .help   = "a follower's /ready fails while it is more than this "
	              "many records behind its leader",
	},
	{
	    .key    = "follower_window_ms",
	    .env    = "RILL_FOLLOWER_WINDOW_MS",
	    .flag   = "--follower-window-ms",
	    .type   = T_DURATION,
	    .def    = "1h",
	    .min    = 0,
	    .max    = 365 * DAY_MS,
	    .offset = offsetof(rill_config, follower_window_ms),
	    .help = "retention keeps the log that followers seen within this "
	            "window still need (0: followers hold nothing)",
	},
	{
	    .key    = "follower_retain_bytes",
	    .env    = "RILL_FOLLOWER_RETAIN_BYTES",
	    .flag   = "--follower-retain-bytes",
	    .type   = T_SIZE,
	    .def    = "1GiB",
	    .min    = 0,
	    .max    = TiB,
	    .offset = offsetof(rill_config, follower_retain_bytes),
	    .help   = "the most log kept for followers beyond what retention "
	              "keeps anyway; a follower further behind re-bootstraps "
	              "from a snapshot",
	},
	{
	    .key    = "snapshot_interval_ms",
	    .env    = "RILL_SNAPSHOT_INTERVAL_MS",
	    .flag   = "--snapshot-interval-ms",
	    .type   = T_DURATION,
	    .def    = "1h",
	    .min    = 0,
	    .max    = 365 * DAY_MS,
	    .offset = offsetof(rill_config, snapshot_interval_ms),
	    .help   = "take a snapshot this often when anything was written "
	              "since the last one (0: never by time)",
	},
	{
	    .key    = "snapshot_log_bytes",
	    .env    = "RILL_SNAPSHOT_LOG_BYTES",
	    .flag   = "--snapshot-log-bytes",
	    .type   = T_SIZE,
	    .def    = "256MiB",
	    .min    = 0,
	    .max    = TiB,
	    .offset = offsetof(rill_config, snapshot_log_bytes),
	    .help   = "take a snapshot once the log written since the newest "
	              "one reaches this size (0: never by size)",
	},
	{
	    .key    = "snapshot_max_rate",
	    .env    = "RILL_SNAPSHOT_MAX_RATE",
	    .flag   = "--snapshot-max-rate",
	    .type   = T_SIZE,
	    .def    = "128MiB",
	    .min    = 0,
	    .max    = TiB,
	    .offset = offsetof(rill_config, snapshot_max_rate),
	    .help   = "bytes a second a snapshot may write (0: no limit), so "
	              "that it leaves the disk to the log's syncs",
	},
	{
	    .key    = "retain_snapshots",
	    .env    = "RILL_RETAIN_SNAPSHOTS",
	    .flag   = "--retain-snapshots",
	    .type   = T_COUNT,
	    .def    = "3",
	    .min    = 1,
	    .max    = 1000000,
	    .offset = offsetof(rill_config, retain_snapshots),
	    .help   = "keep at most this many snapshots (the newest is "
	              "always kept), and the log segments they need",
	},
	{
	    .key    = "retain_age_ms",
	    .env    = "RILL_RETAIN_AGE_MS",
	    .flag   = "--retain-age-ms",
	    .type   = T_DURATION,
	    .def    = "0",
	    .min    = 0,
	    .max    = 3650 * DAY_MS,
	    .offset = offsetof(rill_config, retain_age_ms),
	    .help   = "remove snapshots older than this (the newest is always "
	              "kept; 0: no age limit), and the log they alone need",
	},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

// RILL_* variables that are not settings but are read elsewhere in rill.
// Any other unknown RILL_* variable is an error: an operator's typo must
// not pass silently.
static const char *const env_not_settings[] = {
	"RILL_CONFIG",      // the config file, read by rill_config_parse_args
	"RILL_ADMIN_TOKEN", // the admin API's tokens, read with the flags
	"RILL_RPC_TOKEN",   // the RPC server's tokens, read with the flags
	"RILL_BACKUP",      // backup paths, read with the flags
	"RILL_URL",         // rillctl's endpoints: a shell may export it
	"RILL_TOKEN",       // rillctl's auth token, likewise
	NULL,
};
// ENV_TEST_PREFIX starts variables that tests use to hook into rilld.
#define ENV_TEST_PREFIX "RILL_TEST_"

// The level names, for messages and --help; rill_diag_parse_level decides.
static const char *const level_names[] = {
	"err",
	"warn",
	"notice",
	"info",
	"debug",
	NULL,
};

static const char *const url_schemes[] = {
	"tcp",
	"tcp4",
	"tcp6",
	"ipc",
	"inproc",
	"abstract",
	NULL,
};

struct unit {
	const char *name;
	uint64_t    mult;
};

// Size suffixes, matched without regard to case. Each is a power of 1024,
// as LevelDB and most operators count memory.
static const struct unit size_units[] = {
	{ "", 1 },
	{ "b", 1 },
	{ "k", KiB },
	{ "kb", KiB },
	{ "kib", KiB },
	{ "m", MiB },
	{ "mb", MiB },
	{ "mib", MiB },
	{ "g", GiB },
	{ "gb", GiB },
	{ "gib", GiB },
	{ "t", TiB },
	{ "tb", TiB },
	{ "tib", TiB },
	{ NULL, 0 },
};

// Duration units, longest first so that "ms" is not read as "m".
static const struct unit duration_units[] = {
	{ "ms", 1 },
	{ "s", SECOND_MS },
	{ "m", MINUTE_MS },
	{ "h", HOUR_MS },
	{ "d", DAY_MS },
	{ NULL, 0 },
};

// Where a value came from, for messages.
enum origin {
	FROM_DEFAULT,
	FROM_FILE,
	FROM_ENV,
	FROM_FLAG,
	FROM_SET,
};

struct source {
	enum origin origin;
	const char *file; // FROM_FILE: the config file's path
	const char *key;  // FROM_FILE: the name in the file, if not the key
};

// A load in progress: where each setting's value came from, so that a
// check across settings can name the source of each. Only
// rill_config_parse_args tracks it; the single loaders pass NULL.
struct track {
	enum origin from[N_SETTINGS];
	char       *file;  // the config file read, borrowed from the config
	bool backup_flags; // a --backup flag replaced the other sources' list
};

static int errorf(char *err, size_t n, int rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
errorf(char *err, size_t n, int rv, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && n > 0) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return rv;
}

// bad writes "<where>: <what>" into err, where names the setting as its
// source spells it (the flag, the variable, the file and key), and returns
// RILL_INVALID_ARGUMENT.
static int bad(char *err, size_t n, const struct setting *s,
    const struct source *src, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
bad(char *err, size_t n, const struct setting *s, const struct source *src,
    const char *fmt, ...)
{
	va_list ap;
	int     len;

	if (err == NULL || n == 0) {
		return RILL_INVALID_ARGUMENT;
	}
	switch (src->origin) {
	case FROM_FILE:
		len = snprintf(err, n, "config file %s: %s: ", src->file,
		    src->key != NULL ? src->key : s->key);
		break;
	case FROM_ENV:
		len = snprintf(err, n, "%s: ", s->env);
		break;
	case FROM_FLAG:
		len = snprintf(err, n, "%s: ", s->flag);
		break;
	default:
		len = snprintf(err, n, "%s: ", s->key);
		break;
	}
	if (len >= 0 && (size_t) len < n) {
		va_start(ap, fmt);
		vsnprintf(err + len, n - (size_t) len, fmt, ap);
		va_end(ap);
	}
	return RILL_INVALID_ARGUMENT;
}

static int
no_memory(char *err, size_t n)
{
	return errorf(err, n, RILL_ENOMEM, "out of memory");
}

static const struct setting *
find_by_key(const char *key)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (strcmp(settings[i].key, key) == 0) {
			return &settings[i];
		}
	}
	return NULL;
}

static const struct setting *
find_by_offset(size_t offset)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (settings[i].offset == offset) {
			return &settings[i];
		}
	}
	RILL_ASSERT(0);
	return NULL;
}

// find_by_flag looks up the flag name[0..len), as in "--data-dir=x".
static const struct setting *
find_by_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (strlen(settings[i].flag) == len &&
		    strncmp(settings[i].flag, name, len) == 0) {
			return &settings[i];
		}
	}
	return NULL;
}

static const struct setting *
find_by_env(const char *name, size_t len)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (strlen(settings[i].env) == len &&
		    strncmp(settings[i].env, name, len) == 0) {
			return &settings[i];
		}
	}
	return NULL;
}

static char **
field_str(rill_config *cfg, const struct setting *s)
{
	return (char **) (void *) ((char *) cfg + s->offset);
}

static uint64_t *
field_u64(rill_config *cfg, const struct setting *s)
{
	return (uint64_t *) (void *) ((char *) cfg + s->offset);
}

static uint64_t
get_u64(const rill_config *cfg, const struct setting *s)
{
	return *(
	    const uint64_t *) (const void *) ((const char *) cfg + s->offset);
}

static int *
field_enum(rill_config *cfg, const struct setting *s)
{
	return (int *) (void *) ((char *) cfg + s->offset);
}

// join_names writes "a, b or c" into buf.
static const char *
join_names(const char *const *names, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] != NULL && len < n; i++) {
		const char *sep = i == 0   ? ""
		    : names[i + 1] == NULL ? " or "
		                           : ", ";
		int w = snprintf(buf + len, n - len, "%s%s", sep, names[i]);
		if (w < 0) {
			break;
		}
		len += (size_t) w;
	}
	return buf;
}

static int
lookup_name(const char *const *names, const char *text)
{
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], text) == 0) {
			return i;
		}
	}
	return -1;
}

// fmt_size writes v in the largest binary unit that divides it ("64MiB",
// "1000B").
static const char *
fmt_size(uint64_t v, char *buf, size_t n)
{
	static const struct unit units[] = {
		{ "TiB", TiB },
		{ "GiB", GiB },
		{ "MiB", MiB },
		{ "KiB", KiB },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (v != 0 && v % units[i].mult == 0) {
			snprintf(buf, n, "%" PRIu64 "%s", v / units[i].mult,
			    units[i].name);
			return buf;
		}
	}
	snprintf(buf, n, "%" PRIu64 "B", v);
	return buf;
}

// fmt_duration writes v milliseconds in the largest unit that divides it.
static const char *
fmt_duration(uint64_t v, char *buf, size_t n)
{
	static const struct unit units[] = {
		{ "h", HOUR_MS },
		{ "m", MINUTE_MS },
		{ "s", SECOND_MS },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (v != 0 && v % units[i].mult == 0) {
			snprintf(buf, n, "%" PRIu64 "%s", v / units[i].mult,
			    units[i].name);
			return buf;
		}
	}
	snprintf(buf, n, "%" PRIu64 "ms", v);
	return buf;
}

static const char *
fmt_value(const struct setting *s, uint64_t v, char *buf, size_t n)
{
	switch (s->type) {
	case T_SIZE:
		return fmt_size(v, buf, n);
	case T_DURATION:
		return fmt_duration(v, buf, n);
	default:
		snprintf(buf, n, "%" PRIu64, v);
		return buf;
	}
}

// parse_digits reads one or more decimal digits at *sp into *vp and moves
// *sp past them; false if there is no digit or the number overflows.
static bool
parse_digits(const char **sp, uint64_t *vp)
{
	const char *s = *sp;
	uint64_t    v = 0;

	if (*s < '0' || *s > '9') {
		return false;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned) (*s - '0');
		if (v > (UINT64_MAX - d) / 10) {
			return false;
		}
		v = v * 10 + d;
	}
	*sp = s;
	*vp = v;
	return true;
}

static bool
mul_overflows(uint64_t a, uint64_t b, uint64_t *rp)
{
	if (b != 0 && a > UINT64_MAX / b) {
		return true;
	}
	*rp = a * b;
	return false;
}

static bool
parse_count(const char *text, uint64_t *vp)
{
	return parse_digits(&text, vp) && *text == '\0';
}

static bool
parse_size(const char *text, uint64_t *vp)
{
	uint64_t v;

	if (!parse_digits(&text, &v)) {
		return false;
	}
	for (size_t i = 0; size_units[i].name != NULL; i++) {
		if (strcasecmp(text, size_units[i].name) == 0) {
			return !mul_overflows(v, size_units[i].mult, vp);
		}
	}
	return false;
}

// parse_duration reads a bare number of milliseconds, or one or more
// number-unit pairs ("1m30s").
static bool
parse_duration(const char *text, uint64_t *vp)
{
	uint64_t total = 0;
	uint64_t v;

	if (parse_count(text, vp)) {
		return true;
	}
	if (*text == '\0') {
		return false;
	}
	while (*text != '\0') {
		const struct unit *u = NULL;
		uint64_t           part;

		if (!parse_digits(&text, &v)) {
			return false;
		}
		for (size_t i = 0; duration_units[i].name != NULL; i++) {
			size_t len = strlen(duration_units[i].name);
			if (strncmp(text, duration_units[i].name, len) == 0) {
				u = &duration_units[i];
				text += len;
				break;
			}
		}
		if (u == NULL || mul_overflows(v, u->mult, &part) ||
		    part > UINT64_MAX - total) {
			return false;
		}
		total += part;
	}
	*vp = total;
	return true;
}

// valid_url accepts the nng addresses rilld can listen on. A TCP address
// must end in a port; its host may be a name, an address, [v6] or empty.
static bool
valid_url(const char *text)
{
	const char *sep = strstr(text, "://");
	const char *rest;
	const char *colon;
	uint64_t    port;
	int         scheme;
	char        name[16];

	if (sep == NULL || (size_t) (sep - text) >= sizeof(name)) {
		return false;
	}
	memcpy(name, text, (size_t) (sep - text));
	name[sep - text] = '\0';
	if ((scheme = lookup_name(url_schemes, name)) < 0) {
		return false;
	}
	rest = sep + 3;
	if (*rest == '\0' || strpbrk(text, " \t\r\n") != NULL) {
		return false;
	}
	if (strncmp(name, "tcp", 3) != 0) {
		return true;
	}
	if ((colon = strrchr(rest, ':')) == NULL ||
	    memchr(rest, '/', (size_t) (colon - rest)) != NULL) {
		return false;
	}
	colon++;
	return parse_count(colon, &port) && port <= 65535;
}

// valid_hostport accepts HOST:PORT ([v6]:PORT) with a port of 0..65535.
static bool
valid_hostport(const char *text)
{
	const char *colon = strrchr(text, ':');
	uint64_t    port;

	if (strcmp(text, "off") == 0) {
		return true;
	}
	if (colon == NULL || colon == text ||
	    strpbrk(text, " \t\r\n/,") != NULL) {
		return false;
	}
	return parse_count(colon + 1, &port) && port <= 65535;
}

static int
set_string(rill_config *cfg, const struct setting *s, const char *text,
    char *err, size_t n)
{
	char **fieldp = field_str(cfg, s);
	char  *copy   = rill_strdup(text);

	if (copy == NULL) {
		return no_memory(err, n);
	}
	rill_free(*fieldp);
	*fieldp = copy;
	return RILL_OK;
}

static int
set_u64(rill_config *cfg, const struct setting *s, uint64_t v,
    const struct source *src, char *err, size_t n)
{
	char val[32], lo[32], hi[32];

	if (v < s->min || v > s->max) {
		return bad(err, n, s, src, "%s is out of range (%s to %s)",
		    fmt_value(s, v, val, sizeof(val)),
		    fmt_value(s, s->min, lo, sizeof(lo)),
		    fmt_value(s, s->max, hi, sizeof(hi)));
	}
	*field_u64(cfg, s) = v;
	return RILL_OK;
}

// set_text sets s from its text form, as a flag or variable gives it.
static int
set_text(rill_config *cfg, const struct setting *s, const char *text,
    const struct source *src, char *err, size_t n)
{
	enum rill_diag_level level;
	cpu_set_t            cpus;
	uint64_t             v;
	int                  i;
	char                 names[64];
	char                 why[160];

	switch (s->type) {
	case T_PATH:
		if (text[0] == '\0') {
			return bad(err, n, s, src, "empty path");
		}
		if (strlen(text) > DATA_DIR_MAX) {
			return bad(err, n, s, src, "path longer than %d bytes",
			    DATA_DIR_MAX);
		}
		return set_string(cfg, s, text, err, n);
	case T_URL:
		if (!(s->optional && text[0] == '\0') && !valid_url(text)) {
			return bad(err, n, s, src,
			    "bad URL \"%s\" (want tcp://HOST:PORT, ipc://PATH "
			    "or inproc://NAME)",
			    text);
		}
		return set_string(cfg, s, text, err, n);
	case T_HOSTPORT:
		if (!valid_hostport(text)) {
			return bad(err, n, s, src,
			    "bad address \"%s\" (want HOST:PORT)", text);
		}
		return set_string(cfg, s, text, err, n);
	case T_CPUS:
		if (text[0] != '\0' &&
		    rill_cpus_parse(text, &cpus, why, sizeof(why)) !=
		        RILL_OK) {
			return bad(err, n, s, src, "%s", why);
		}
		return set_string(cfg, s, text, err, n);
	case T_LEVEL:
		if (!rill_diag_parse_level(text, &level)) {
			return bad(err, n, s, src,
			    "bad value \"%s\" (want %s)", text,
			    join_names(level_names, names, sizeof(names)));
		}
		return set_string(cfg, s, text, err, n);
	case T_ENUM:
		if ((i = lookup_name(s->names, text)) < 0) {
			return bad(err, n, s, src,
			    "bad value \"%s\" (want %s)", text,
			    join_names(s->names, names, sizeof(names)));
		}
		*field_enum(cfg, s) = i;
		return RILL_OK;
	case T_COUNT:
		if (!parse_count(text, &v)) {
			return bad(err, n, s, src,
			    "bad number \"%s\" (want a whole number)", text);
		}
		return set_u64(cfg, s, v, src, err, n);
	case T_SIZE:
		if (!parse_size(text, &v)) {
			return bad(err, n, s, src,
			    "bad size \"%s\" (want bytes, or a number with B, "
			    "k, KiB, M, MiB, G, GiB, T or TiB)",
			    text);
		}
		return set_u64(cfg, s, v, src, err, n);
	case T_DURATION:
		if (!parse_duration(text, &v)) {
			return bad(err, n, s, src,
			    "bad duration \"%s\" (want milliseconds, or "
			    "numbers with ms, s, m, h or d as in 1m30s)",
			    text);
		}
		return set_u64(cfg, s, v, src, err, n);
	}
	RILL_ASSERT(0);
	return RILL_INTERNAL;
}

static const char *
json_type_name(const cJSON *item)
{
	if (cJSON_IsString(item)) {
		return "a string";
	}
	if (cJSON_IsNumber(item)) {
		return "a number";
	}
	if (cJSON_IsBool(item)) {
		return "a boolean";
	}
	if (cJSON_IsNull(item)) {
		return "null";
	}
	if (cJSON_IsArray(item)) {
		return "an array";
	}
	return "an object";
}

static bool
is_numeric(const struct setting *s)
{
	return s->type == T_COUNT || s->type == T_SIZE ||
	    s->type == T_DURATION;
}

// set_json sets s from a JSON value: a string in its text form, or for a
// numeric setting a whole JSON number (bytes, milliseconds, a count).
static int
set_json(rill_config *cfg, const struct setting *s, const cJSON *item,
    const struct source *src, char *err, size_t n)
{
	if (cJSON_IsString(item)) {
		return set_text(cfg, s, item->valuestring, src, err, n);
	}
	if (!is_numeric(s)) {
		return bad(err, n, s, src, "want a string, not %s",
		    json_type_name(item));
	}
	if (!cJSON_IsNumber(item)) {
		return bad(err, n, s, src, "want a number or a string, not %s",
		    json_type_name(item));
	}
	// The comparisons are false for NaN, and the cast is exact only for
	// a whole number.
	double d = item->valuedouble;
	if (!(d >= 0 && d <= JSON_INT_MAX) || (double) (uint64_t) d != d) {
		return bad(err, n, s, src,
		    "bad number %.17g (want a whole number, 0 or more)", d);
	}
	return set_u64(cfg, s, (uint64_t) d, src, err, n);
}

static void
mark(struct track *t, const struct setting *s, enum origin origin)
{
	if (t != NULL) {
		t->from[s - settings] = origin;
	}
}

static void
free_tokens(rill_tokens *t)
{
	for (size_t i = 0; i < t->n; i++) {
		rill_free(t->v[i]);
	}
	rill_free(t->v);
	t->v = NULL;
	t->n = 0;
}

static void
free_backups(rill_config *cfg)
{
	for (size_t i = 0; i < cfg->n_backups; i++) {
		rill_free(cfg->backups[i].path);
	}
	rill_free(cfg->backups);
	cfg->backups   = NULL;
	cfg->n_backups = 0;
}

// trim_blanks narrows text[0..*lenp) to what lies between its leading
// and trailing spaces and tabs, and returns its start.
static const char *
trim_blanks(const char *text, size_t *lenp)
{
	size_t len = *lenp;

	while (len > 0 && (*text == ' ' || *text == '\t')) {
		text++;
		len--;
	}
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t')) {
		len--;
	}
	*lenp = len;
	return text;
}

// add_token appends a copy of token[0..len), without the blanks around
// it (a client's bearer token is read that way), to the token list t;
// a token of blanks alone adds nothing.
static int
add_token(void *t, const char *token, size_t len)
{
	rill_tokens *list = t;
	char       **v;

	token = trim_blanks(token, &len);
	if (len == 0) {
		return RILL_OK;
	}
	if ((v = rill_realloc(list->v, (list->n + 1) * sizeof(*v))) == NULL) {
		return RILL_ENOMEM;
	}
	list->v = v;
	if ((v[list->n] = rill_alloc(len + 1)) == NULL) {
		return RILL_ENOMEM;
	}
	memcpy(v[list->n], token, len);
	v[list->n++][len] = '\0';
	return RILL_OK;
}

// add_backup appends a backup target at path[0..len).
static int
add_backup(rill_config *cfg, const char *path, size_t len,
    uint64_t retain_snapshots, uint64_t retain_age_ms)
{
	rill_backup_config *v =
	    rill_realloc(cfg->backups, (cfg->n_backups + 1) * sizeof(*v));
	char *copy;

	if (v == NULL) {
		return RILL_ENOMEM;
	}
	cfg->backups = v;
	if ((copy = rill_alloc(len + 1)) == NULL) {
		return RILL_ENOMEM;
	}
	memcpy(copy, path, len);
	copy[len]           = '\0';
	v[cfg->n_backups++] = (rill_backup_config) {
		.path             = copy,
		.retain_snapshots = (uint32_t) retain_snapshots,
		.retain_age_ms    = retain_age_ms,
	};
	return RILL_OK;
}

// add_list calls add(target, ...) for each non-empty comma-separated item
// of text.
static int
add_list(
    void *target, const char *text, int (*add)(void *, const char *, size_t))
{
	while (*text != '\0') {
		size_t len = strcspn(text, ",");
		int    rv;
		if (len > 0 && (rv = add(target, text, len)) != RILL_OK) {
			return rv;
		}
		text += len + (text[len] == ',');
	}
	return RILL_OK;
}

static int
add_backup_path(void *cfg, const char *path, size_t len)
{
	return add_backup(cfg, path, len, 0, 0);
}

// token_lists are the config's lists of tokens: the file's key and the
// variable (comma-separated) that set each.
static const struct token_list {
	const char *key;
	const char *env;
	size_t      offset; // of its rill_tokens in rill_config
} token_lists[] = {
	{ "admin_tokens", "RILL_ADMIN_TOKEN",
	    offsetof(rill_config, admin_tokens) },
	{ "rpc_tokens", "RILL_RPC_TOKEN", offsetof(rill_config, rpc_tokens) },
};
#define N_TOKEN_LISTS (sizeof(token_lists) / sizeof(token_lists[0]))

static rill_tokens *
tokens_of(rill_config *cfg, const struct token_list *l)
{
	return (rill_tokens *) (void *) ((char *) cfg + l->offset);
}

// find_token_list returns the token list the file's key names, or NULL.
static const struct token_list *
find_token_list(const char *key)
{
	for (size_t i = 0; i < N_TOKEN_LISTS; i++) {
		if (strcmp(token_lists[i].key, key) == 0) {
			return &token_lists[i];
		}
	}
	return NULL;
}

// load_tokens reads a token list of the file (l->key): an array of
// non-empty strings.
static int
load_tokens(rill_config *cfg, const struct token_list *l, const char *path,
    const cJSON *item, char *err, size_t n)
{
	rill_tokens *list = tokens_of(cfg, l);
	const cJSON *t;

	if (!cJSON_IsArray(item)) {
		return errorf(err, n, RILL_INVALID_ARGUMENT,
		    "config file %s: %s: want an array of strings, not %s",
		    path, l->key, json_type_name(item));
	}
	free_tokens(list);
	cJSON_ArrayForEach(t, item)
	{
		size_t before = list->n;
		if (cJSON_IsString(t) &&
		    add_token(list, t->valuestring, strlen(t->valuestring)) !=
		        RILL_OK) {
			return no_memory(err, n);
		}
		if (list->n == before) { // not a string, or blanks alone
			return errorf(err, n, RILL_INVALID_ARGUMENT,
			    "config file %s: %s: want non-empty strings", path,
			    l->key);
		}
	}
	return RILL_OK;
}

// appears_before tells whether a member of object before item has item's
// key.
static bool
appears_before(const cJSON *object, const cJSON *item)
{
	for (const cJSON *p = object->child; p != item; p = p->next) {
		if (strcmp(p->string, item->string) == 0) {
			return true;
		}
	}
	return false;
}

// load_backups reads the file's "backups": an array of objects
// {"path": "...", "retain_snapshots": N, "retention": DURATION}.
static int
load_backups(
    rill_config *cfg, const char *path, const cJSON *item, char *err, size_t n)
{
	const struct setting *count = find_by_key("retain_snapshots");
	const struct setting *age   = find_by_key("retain_age_ms");
	const cJSON          *b;
	size_t                i = 0; // b's index

	if (!cJSON_IsArray(item)) {
		return errorf(err, n, RILL_INVALID_ARGUMENT,
		    "config file %s: backups: want an array of objects, not "
		    "%s",
		    path, json_type_name(item));
	}
	free_backups(cfg);
	cJSON_ArrayForEach(b, item)
	{
		struct source src = { FROM_FILE, path, NULL };
		rill_config   tmp = { 0 };
		const cJSON  *f;
		const cJSON  *p = cJSON_GetObjectItemCaseSensitive(b, "path");
		char          name[64];
		int           rv;

		if (!cJSON_IsObject(b) || !cJSON_IsString(p) ||
		    p->valuestring[0] == '\0' ||
		    strlen(p->valuestring) > DATA_DIR_MAX) {
			return errorf(err, n, RILL_INVALID_ARGUMENT,
			    "config file %s: backups[%zu]: each entry wants "
			    "{\"path\": \"DIR\", \"retain_snapshots\": N, "
			    "\"retention\": DURATION} (a path of 1 to %d "
			    "bytes)",
			    path, i, DATA_DIR_MAX);
		}
		cJSON_ArrayForEach(f, b)
		{
			if (appears_before(b, f)) {
				return errorf(err, n, RILL_INVALID_ARGUMENT,
				    "config file %s: backups[%zu]: key \"%s\" "
				    "appears twice",
				    path, i, f->string);
			}
			if (strcmp(f->string, "path") == 0) {
				continue;
			}
			snprintf(name, sizeof(name), "backups[%zu].%.32s", i,
			    f->string);
			src.key = name;
			if (strcmp(f->string, "retain_snapshots") == 0) {
				rv = set_json(&tmp, count, f, &src, err, n);
			} else if (strcmp(f->string, "retention") == 0) {
				rv = set_json(&tmp, age, f, &src, err, n);
				if (rv == RILL_OK && tmp.retain_age_ms == 0) {
					tmp.retain_age_ms =
					    RILL_BACKUP_NO_AGE_LIMIT;
				}
			} else {
				return errorf(err, n, RILL_INVALID_ARGUMENT,
				    "config file %s: backups[%zu]: "
				    "unknown key \"%s\"",
				    path, i, f->string);
			}
			if (rv != RILL_OK) {
				return rv;
			}
		}
		if (add_backup(cfg, p->valuestring, strlen(p->valuestring),
		        tmp.retain_snapshots, tmp.retain_age_ms) != RILL_OK) {
			return no_memory(err, n);
		}
		i++;
	}
	return RILL_OK;
}

int
rill_config_init(rill_config *cfg)
{
	struct source src = { FROM_DEFAULT, NULL };
	char          err[256];
	int           rv;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_SETTINGS; i++) {
		rv = set_text(cfg, &settings[i], settings[i].def, &src, err,
		    sizeof(err));
		if (rv != RILL_OK) {
			// Only memory can run out: the defaults are tested.
			RILL_ASSERT(rv == RILL_ENOMEM);
			rill_config_fini(cfg);
			return rv;
		}
	}
	return RILL_OK;
}

void
rill_config_fini(rill_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	for (size_t i = 0; i < N_SETTINGS; i++) {
		const struct setting *s = &settings[i];
		if (s->type == T_PATH || s->type == T_URL ||
		    s->type == T_LEVEL || s->type == T_HOSTPORT ||
		    s->type == T_CPUS) {
			rill_free(*field_str(cfg, s));
		}
	}
	for (size_t i = 0; i < N_TOKEN_LISTS; i++) {
		free_tokens(tokens_of(cfg, &token_lists[i]));
	}
	free_backups(cfg);
	rill_free(cfg->config_file);
	memset(cfg, 0, sizeof(*cfg));
}

// json_error_line returns the 1-based line of pos in text.
static int
json_error_line(const char *text, const char *pos)
{
	int line = 1;

	for (const char *p = text; p < pos && *p != '\0'; p++) {
		line += *p == '\n';
	}
	return line;
}

// escapes_nul tells whether JSON text holds the escape \u0000, which
// cJSON would decode into a string cut short at it. A backslash outside
// a string is bad JSON anyway, so no string tracking is needed: each
// escape is skipped whole, so "\\u0000" (a backslash, then text) is not
// one.
static bool
escapes_nul(const char *text, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] != '\\') {
			continue;
		}
		if (text[i + 1] == 'u' && i + 5 < len &&
		    memcmp(text + i + 2, "0000", 4) == 0) {
			return true;
		}
		i++; // the escaped character
	}
	return false;
}

static int
load_file(
    rill_config *cfg, const char *path, struct track *t, char *err, size_t n)
{
	struct source src = { FROM_FILE, path };
	const char   *end = NULL;
	uint8_t      *data;
	size_t        len;
	cJSON        *root;
	const cJSON  *item;
	char         *copy;
	int           rv;

	rv = rill_file_read_all(path, CONFIG_FILE_MAX, &data, &len);
	switch (rv) {
	case RILL_OK:
		break;
	case RILL_ENOMEM:
		return no_memory(err, n);
	case RILL_ENOENT:
		return errorf(
		    err, n, RILL_EIO, "config file %s: no such file", path);
	case RILL_ECORRUPT:
		return errorf(err, n, RILL_INVALID_ARGUMENT,
		    "config file %s: larger than %u bytes", path,
		    CONFIG_FILE_MAX);
	default:
		return errorf(
		    err, n, RILL_EIO, "config file %s: cannot read it", path);
	}
	if (memchr(data, '\0', len) != NULL) {
		rill_free(data);
		return errorf(err, n, RILL_INVALID_ARGUMENT,
		    "config file %s: not JSON (it holds a NUL byte)", path);
	}
	if (escapes_nul((const char *) data, len)) {
		rill_free(data);
		return errorf(err, n, RILL_INVALID_ARGUMENT,
		    "config file %s: a string holds \\u0000, which no "
		    "setting may hold",
		    path);
	}
	// The length counts the NUL rill_file_read_all appends, which is how
	// cJSON checks that nothing follows the value.
	root =
	    cJSON_ParseWithLengthOpts((const char *) data, len + 1, &end, 1);
	if (root == NULL) {
		rv = errorf(err, n, RILL_INVALID_ARGUMENT,
		    "config file %s: bad JSON at line %d", path,
		    json_error_line((const char *) data, end));
		rill_free(data);
		return rv;
	}
	rill_free(data);
	if (!cJSON_IsObject(root)) {
		rv = errorf(err, n, RILL_INVALID_ARGUMENT,
		    "config file %s: want a JSON object of settings, not %s",
		    path, json_type_name(root));
		goto out_delete;
	}
	cJSON_ArrayForEach(item, root)
	{
		const struct setting    *s = find_by_key(item->string);
		const struct token_list *l = find_token_list(item->string);

		if (l == NULL && s == NULL &&
		    strcmp(item->string, "backups") != 0) {
			rv = errorf(err, n, RILL_INVALID_ARGUMENT,
			    "config file %s: unknown key \"%s\"", path,
			    item->string);
			goto out_delete;
		}
		if (appears_before(root, item)) {
			rv = errorf(err, n, RILL_INVALID_ARGUMENT,
			    "config file %s: key \"%s\" appears twice", path,
			    item->string);
			goto out_delete;
		}
		if (l != NULL || s == NULL) {
			rv = l != NULL
			    ? load_tokens(cfg, l, path, item, err, n)
			    : load_backups(cfg, path, item, err, n);
			if (rv != RILL_OK) {
				goto out_delete;
			}
			continue;
		}
		if ((rv = set_json(cfg, s, item, &src, err, n)) != RILL_OK) {
			goto out_delete;
		}
		mark(t, s, FROM_FILE);
	}
	if ((copy = rill_strdup(path)) == NULL) {
		rv = no_memory(err, n);
		goto out_delete;
	}
	rill_free(cfg->config_file);
	cfg->config_file = copy;
	rv               = RILL_OK;

out_delete:
	cJSON_Delete(root);
	return rv;
}

int
rill_config_load_file(rill_config *cfg, const char *path, char *err, size_t n)
{
	return load_file(cfg, path, NULL, err, n);
}

static bool
env_is_other(const char *name, size_t len)
{
	if (strncmp(name, ENV_TEST_PREFIX, strlen(ENV_TEST_PREFIX)) == 0) {
		return true;
	}
	for (size_t i = 0; env_not_settings[i] != NULL; i++) {
		if (strlen(env_not_settings[i]) == len &&
		    strncmp(env_not_settings[i], name, len) == 0) {
			return true;
		}
	}
	return false;
}

static int
load_env(
    rill_config *cfg, char *const *envp, struct track *t, char *err, size_t n)
{
	struct source src = { FROM_ENV, NULL };
	int           rv;

	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
		const char           *var = envp[i];
		const char           *eq  = strchr(var, '=');
		const struct setting *s;
		size_t                len;

		if (strncmp(var, "RILL_", 5) != 0 || eq == NULL) {
			continue;
		}
		len = (size_t) (eq - var);
		if ((s = find_by_env(var, len)) == NULL) {
			if (env_is_other(var, len)) {
				continue;
			}
			return errorf(err, n, RILL_INVALID_ARGUMENT,
			    "%.*s: unknown variable (not a rilld setting; see "
			    "rilld --help)",
			    (int) len, var);
		}
		if ((rv = set_text(cfg, s, eq + 1, &src, err, n)) != RILL_OK) {
			return rv;
		}
		mark(t, s, FROM_ENV);
	}
	return RILL_OK;
}

int
rill_config_load_env(rill_config *cfg, char *const *envp, char *err, size_t n)
{
	return load_env(cfg, envp, NULL, err, n);
}

int
rill_config_set(
    rill_config *cfg, const char *name, const char *value, char *err, size_t n)
{
	struct source         src = { FROM_SET, NULL };
	const struct setting *s   = find_by_key(name);

	if (s == NULL) {
		return errorf(err, n, RILL_INVALID_ARGUMENT,
		    "unknown setting \"%s\"", name);
	}
	return set_text(cfg, s, value, &src, err, n);
}

// describe_origin writes where setting s got its value: "(default)",
// "(from --sync)", "(from RILL_SYNC)", "(from config file x)".
static const char *
describe_origin(
    const struct setting *s, const struct track *t, char *buf, size_t n)
{
	switch (t->from[s - settings]) {
	case FROM_FILE:
		snprintf(buf, n, "(from config file %s)", t->file);
		break;
	case FROM_ENV:
		snprintf(buf, n, "(from %s)", s->env);
		break;
	case FROM_FLAG:
		snprintf(buf, n, "(from %s)", s->flag);
		break;
	default:
		snprintf(buf, n, "(default)");
		break;
	}
	return buf;
}

// check_not_above fails unless setting a is at most setting b.
static int
check_not_above(const rill_config *cfg, const struct track *t, size_t a_off,
    size_t b_off, char *err, size_t n)
{
	const struct setting *a  = find_by_offset(a_off);
	const struct setting *b  = find_by_offset(b_off);
	uint64_t              av = get_u64(cfg, a);
	uint64_t              bv = get_u64(cfg, b);
	char                  as[32], bs[32];
	char                  ao[PATH_MAX + 32], bo[PATH_MAX + 32];

	if (av <= bv) {
		return RILL_OK;
	}
	return errorf(err, n, RILL_INVALID_ARGUMENT,
	    "%s %s %s is larger than %s %s %s", a->key,
	    fmt_value(a, av, as, sizeof(as)),
	    describe_origin(a, t, ao, sizeof(ao)), b->key,
	    fmt_value(b, bv, bs, sizeof(bs)),
	    describe_origin(b, t, bo, sizeof(bo)));
}

// validate checks what no single setting can: a request must be able to
// carry the largest key and the largest value.
static int
validate(const rill_config *cfg, const struct track *t, char *err, size_t n)
{
	int rv;

	if ((rv = check_not_above(cfg, t, offsetof(rill_config, max_key_bytes),
	         offsetof(rill_config, max_request_bytes), err, n)) !=
	    RILL_OK) {
		return rv;
	}
	return check_not_above(cfg, t, offsetof(rill_config, max_value_bytes),
	    offsetof(rill_config, max_request_bytes), err, n);
}

// flag_value splits argv[*ip] ("--name=value" or "--name value") into its
// name and value, moving *ip past what it used. A value that starts with
// "--" is taken for the next flag, so "--name" lacks its value.
static int
flag_value(int argc, char *const *argv, int *ip, const char **namep,
    size_t *lenp, const char **valuep, char *err, size_t n)
{
	const char *arg = argv[*ip];
	const char *eq  = strchr(arg, '=');

	if (eq != NULL) {
		*namep  = arg;
		*lenp   = (size_t) (eq - arg);
		*valuep = eq + 1;
		return RILL_OK;
	}
	if (*ip + 1 >= argc || strncmp(argv[*ip + 1], "--", 2) == 0) {
		return errorf(
		    err, n, RILL_INVALID_ARGUMENT, "%s: missing value", arg);
	}
	*namep  = arg;
	*lenp   = strlen(arg);
	*valuep = argv[++*ip];
	return RILL_OK;
}

// scan_flag handles argv[*ip], moving *ip past a separate value. With t
// NULL it only checks the flag's form, notes --help and finds --config;
// with t set it applies the setting.
static int
scan_flag(rill_config *cfg, int argc, char *const *argv, int *ip,
    struct track *t, bool *helpp, const char **filep, char *err, size_t n)
{
	struct source         src   = { FROM_FLAG, NULL };
	const char           *arg   = argv[*ip];
	const char           *name  = NULL;
	const char           *value = NULL;
	const struct setting *s;
	size_t                len = 0;
	int                   rv;

	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
		*helpp = true;
		return RILL_OK;
	}
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
		return errorf(err, n, RILL_INVALID_ARGUMENT,
		    "unexpected argument \"%s\" (settings are given as "
		    "--name value; see --help)",
		    arg);
	}
	rv = flag_value(argc, argv, ip, &name, &len, &value, err, n);
	if (rv != RILL_OK) {
		return rv;
	}
	if (len == strlen("--config") && strncmp(name, "--config", len) == 0) {
		if (value[0] == '\0') {
			return errorf(err, n, RILL_INVALID_ARGUMENT,
			    "--config: empty path");
		}
		*filep = value;
		return RILL_OK;
	}
	if (len == strlen("--backup") && strncmp(name, "--backup", len) == 0) {
		if (value[0] == '\0') {
			return errorf(err, n, RILL_INVALID_ARGUMENT,
			    "--backup: empty path");
		}
		if (t == NULL) {
			return RILL_OK;
		}
		if (!t->backup_flags) {
			free_backups(cfg);
			t->backup_flags = true;
		}
		return add_backup_path(cfg, value, strlen(value)) == RILL_OK
		    ? RILL_OK
		    : no_memory(err, n);
	}
	if ((s = find_by_flag(name, len)) == NULL) {
		return errorf(err, n, RILL_INVALID_ARGUMENT,
		    "unknown flag %.*s (see --help)", (int) len, name);
	}
	if (t == NULL) {
		return RILL_OK;
	}
	if ((rv = set_text(cfg, s, value, &src, err, n)) != RILL_OK) {
		return rv;
	}
	mark(t, s, FROM_FLAG);
	return RILL_OK;
}

// scan_flags walks argv. Applying (t set), it stops at the first error.
// Checking (t NULL), it reports the first error but goes on to the end, so
// that --help is seen wherever it is.
static int
scan_flags(rill_config *cfg, int argc, char *const *argv, struct track *t,
    bool *helpp, const char **filep, char *err, size_t n)
{
	int first = RILL_OK;

	for (int i = 1; i < argc; i++) {
		int rv = scan_flag(cfg, argc, argv, &i, t, helpp, filep,
		    first == RILL_OK ? err : NULL, n);
		if (rv != RILL_OK && t != NULL) {
			return rv;
		}
		if (rv != RILL_OK && first == RILL_OK) {
			first = rv;
		}
	}
	return first;
}

static const char *
env_lookup(char *const *envp, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=') {
			return envp[i] + len + 1;
		}
	}
	return NULL;
}

// rill_config_parse_args builds the config from scratch in a local copy:
// it does not read *cfg, and writes it only on success (with --help too,
// then holding the defaults), so a caller may pass a zeroed rill_config
// and fini it on either path, as rilld does.
int
rill_config_parse_args(rill_config *cfg, int argc, char *const *argv,
    char *const *envp, bool *helpp, char *err, size_t n)
{
	struct track t    = { { FROM_DEFAULT } };
	rill_config  tmp  = { 0 };
	const char  *file = NULL;
	bool         help = false;
	int          rv;

	// First pass: --help wins over any mistake in the other flags, and
	// the config file must be known before the flags are applied.
	rv = scan_flags(NULL, argc, argv, NULL, &help, &file, err, n);
	if (help) {
		if ((rv = rill_config_init(&tmp)) != RILL_OK) {
			return no_memory(err, n);
		}
		*cfg   = tmp;
		*helpp = true;
		return RILL_OK;
	}
	if (rv != RILL_OK) {
		return rv;
	}
	if (file == NULL) {
		file = env_lookup(envp, "RILL_CONFIG");
		if (file != NULL && file[0] == '\0') {
			file = NULL;
		}
	}
	if ((rv = rill_config_init(&tmp)) != RILL_OK) {
		return no_memory(err, n);
	}
	if (file != NULL) {
		if ((rv = load_file(&tmp, file, &t, err, n)) != RILL_OK) {
			goto out_fini;
		}
		t.file = tmp.config_file;
	}
	if ((rv = load_env(&tmp, envp, &t, err, n)) != RILL_OK) {
		goto out_fini;
	}
	// The lists: a variable replaces the file's list.
	for (size_t i = 0; i < N_TOKEN_LISTS; i++) {
		const struct token_list *l      = &token_lists[i];
		const char              *tokens = env_lookup(envp, l->env);
		rill_tokens             *list   = tokens_of(&tmp, l);

		if (tokens == NULL) {
			continue;
		}
		free_tokens(list);
		if ((rv = add_list(list, tokens, add_token)) != RILL_OK) {
			rv = no_memory(err, n);
			goto out_fini;
		}
		// Set but holding no token would turn the check off.
		if (list->n == 0) {
			rv = errorf(err, n, RILL_INVALID_ARGUMENT,
			    "%s: empty (unset it instead)", l->env);
			goto out_fini;
		}
	}
	const char *backups = env_lookup(envp, "RILL_BACKUP");
	if (backups != NULL && strspn(backups, ",") == strlen(backups)) {
		rv = errorf(err, n, RILL_INVALID_ARGUMENT,
		    "RILL_BACKUP: empty (unset it instead)");
		goto out_fini;
	}
	if (backups != NULL) {
		free_backups(&tmp);
		if ((rv = add_list(&tmp, backups, add_backup_path)) !=
		    RILL_OK) {
			rv = no_memory(err, n);
			goto out_fini;
		}
	}
	rv = scan_flags(&tmp, argc, argv, &t, &help, &file, err, n);
	if (rv != RILL_OK) {
		goto out_fini;
	}
	if ((rv = validate(&tmp, &t, err, n)) != RILL_OK) {
		goto out_fini;
	}
	*cfg   = tmp;
	*helpp = false;
	return RILL_OK;

out_fini:
	rill_config_fini(&tmp);
	return rv;
}

static const char *
metavar(const struct setting *s)
{
	switch (s->type) {
	case T_PATH:
		return "PATH";
	case T_URL:
		return "URL";
	case T_COUNT:
		return "N";
	case T_SIZE:
		return "SIZE";
	case T_DURATION:
		return "DURATION";
	case T_ENUM:
		return "MODE";
	case T_LEVEL:
		return "LEVEL";
	case T_HOSTPORT:
		return "HOST:PORT";
	case T_CPUS:
		return "CPUS";
	}
	return "VALUE";
}

#define USAGE_WIDTH 79
#define USAGE_INDENT 6

// print_wrapped prints "key: text" indented, wrapped at USAGE_WIDTH.
static void
print_wrapped(FILE *out, const char *key, const char *text)
{
	int col = fprintf(out, "%*s", USAGE_INDENT, "");

	if (key != NULL) {
		col += fprintf(out, "%s:", key);
	}
	while (*text != '\0') {
		size_t len = strcspn(text, " ");
		if (col > USAGE_INDENT && col + 1 + (int) len > USAGE_WIDTH) {
			col = fprintf(out, "\n%*s", USAGE_INDENT, "") - 1;
		} else if (col > USAGE_INDENT) {
			col += fprintf(out, " ");
		}
		col += fprintf(out, "%.*s", (int) len, text);
		text += len;
		text += strspn(text, " ");
	}
	fprintf(out, "\n");
}

void
rill_config_usage(FILE *out, const char *argv0)
{
	int  wflag = (int) strlen("--config FILE");
	int  wenv  = (int) strlen("RILL_CONFIG");
	char arg[64];
	char help[512];

	for (size_t i = 0; i < N_SETTINGS; i++) {
		const struct setting *s = &settings[i];
		int len = (int) (strlen(s->flag) + 1 + strlen(metavar(s)));
		if (len > wflag) {
			wflag = len;
		}
		if ((int) strlen(s->env) > wenv) {
			wenv = (int) strlen(s->env);
		}
	}
	fprintf(out,
	    "Usage: %s [--config FILE] [--SETTING VALUE]...\n"
	    "\n"
	    "Runs rilld, the rill server. Each setting below is its default,\n"
	    "unless the JSON config file sets it, unless its RILL_* variable\n"
	    "sets it, unless its flag sets it: flags win over the "
	    "environment,\n"
	    "which wins over the file. A flag is --name VALUE or "
	    "--name=VALUE;\n"
	    "the file is one JSON object whose keys are the names shown "
	    "before\n"
	    "each help text.\n"
	    "\n"
	    "A SIZE is bytes, or a number with B, k, KiB, M, MiB, G, GiB, T "
	    "or\n"
	    "TiB (each a power of 1024). A DURATION is milliseconds, or "
	    "numbers\n"
	    "with ms, s, m, h or d (1m30s, 7d). In the file, a SIZE, DURATION "
	    "or N "
	    "may\n"
	    "also be a JSON number (bytes, milliseconds, a count).\n"
	    "\n",
	    argv0 != NULL ? argv0 : "rilld");
	fprintf(out, "  %-*s %-*s %s\n", wflag, "FLAG", wenv, "VARIABLE",
	    "DEFAULT");
	fprintf(out, "  %-*s %-*s %s\n", wflag, "--config FILE", wenv,
	    "RILL_CONFIG", "(none)");
	print_wrapped(out, NULL, "the JSON config file to read");
	for (size_t i = 0; i < N_SETTINGS; i++) {
		const struct setting *s = &settings[i];
		snprintf(arg, sizeof(arg), "%s %s", s->flag, metavar(s));
		if (4 + wflag + wenv + (int) strlen(s->def) <= 79) {
			fprintf(out, "  %-*s %-*s %s\n", wflag, arg, wenv,
			    s->env, s->def);
		} else {
			fprintf(out, "  %-*s %s\n      default %s\n", wflag,
			    arg, s->env, s->def);
		}
		if (is_numeric(s)) {
			char lo[32], hi[32];
			snprintf(help, sizeof(help), "%s (%s to %s)", s->help,
			    fmt_value(s, s->min, lo, sizeof(lo)),
			    fmt_value(s, s->max, hi, sizeof(hi)));
			print_wrapped(out, s->key, help);
		} else {
			print_wrapped(out, s->key, s->help);
		}
	}
	fprintf(out, "  %-*s %-*s %s\n", wflag, "--backup DIR", wenv,
	    "RILL_BACKUP", "(none)");
	print_wrapped(out, "backups",
	    "a backup target: sealed log segments and snapshots are copied "
	    "there, so the history survives the loss of the data dir. Repeat "
	    "the flag for more; the variable takes a comma-separated list; "
	    "the file takes [{\"path\": DIR, \"retain_snapshots\": N, "
	    "\"retention\": DURATION}], whose limits default to the data "
	    "dir's (a retention of 0: no age limit)");
	fprintf(out, "  %-*s %-*s %s\n", wflag, "(file only)", wenv,
	    "RILL_ADMIN_TOKEN", "(none)");
	print_wrapped(out, "admin_tokens",
	    "bearer tokens that the admin API's mutating endpoints accept: "
	    "a JSON array in the file, a comma-separated list in the "
	    "variable (which replaces the file's); none means no check");
	fprintf(out, "  %-*s %-*s %s\n", wflag, "(file only)", wenv,
	    "RILL_RPC_TOKEN", "(none)");
	print_wrapped(out, "rpc_tokens",
	    "auth tokens that every RPC must carry in its envelope "
	    "(auth_token), else it is answered UNAUTHENTICATED: a JSON array "
	    "in the file, a comma-separated list in the variable (which "
	    "replaces the file's); none means no check. A follower sends "
	    "the first to the node it follows");
	fprintf(out, "  %s\n", "-h, --help");
	print_wrapped(out, NULL, "print this help and exit");
}
