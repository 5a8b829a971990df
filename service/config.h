// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// config: every setting of rilld, from three sources. A JSON config file
// is read first, then RILL_* environment variables, then command-line
// flags: flags win over the environment, which wins over the file. One
// table lists each setting once (its JSON key, variable, flag, type,
// default and help), so `rilld --help`, the parser and the docs agree.
// An unknown key or flag, or a bad value, fails with a message naming it.
#ifndef RILL_SERVICE_CONFIG_H
#define RILL_SERVICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum rill_sync_policy {
	RILL_SYNC_ALWAYS,   // fdatasync each group before acknowledging it
	RILL_SYNC_INTERVAL, // fdatasync every sync_interval_ms
	RILL_SYNC_NONE,     // leave it to the OS
};

// rill_cpu_policy is the Linux scheduling policy of rilld's threads.
enum rill_cpu_policy {
	RILL_CPU_BATCH,  // SCHED_BATCH: a woken thread does not preempt one
	                 // running (measured: +19% durable puts on 2 cores)
	RILL_CPU_NORMAL, // SCHED_OTHER, the system's default
};

// rill_backup_config is one backup target: a directory that receives a
// copy of every sealed segment and snapshot, with its own retention.
// rill_tokens is a list of non-empty bearer tokens.
typedef struct rill_tokens {
	char **v;
	size_t n;
} rill_tokens;

// RILL_BACKUP_NO_AGE_LIMIT is a backup's retain_age_ms when its entry
// says "retention": 0, as retain_age_ms 0 says for the data dir.
#define RILL_BACKUP_NO_AGE_LIMIT UINT64_MAX

typedef struct rill_backup_config {
	char    *path;
	uint32_t retain_snapshots; // 0: as the data dir's
	uint64_t retain_age_ms;    // 0: as the data dir's; or NO_AGE_LIMIT
} rill_backup_config;

typedef struct rill_config {
	char                 *data_dir;           // "./rill-data"
	char                 *listen;             // "tcp://127.0.0.1:7400"
	enum rill_sync_policy sync;               // always
	uint64_t              sync_interval_ms;   // 100
	uint64_t              segment_max_bytes;  // 64 MiB
	uint64_t              segment_max_age_ms; // 60 s
	uint64_t              max_key_bytes;      // 64 KiB
	uint64_t              max_value_bytes;    // 8 MiB
	uint64_t              max_request_bytes;  // 16 MiB
	uint64_t              rpc_contexts;       // 256
	uint64_t              dedup_per_client;   // 1024 request ids
	uint64_t              dedup_idle_ms;      // 1 h
	uint64_t              cache_bytes;        // 8 MiB
	uint64_t              write_buffer_bytes; // 16 MiB
	char                 *log_level;          // "info"
	enum rill_cpu_policy  cpu_policy;         // batch
	char                 *cpus;               // "": every CPU
	char                 *admin_listen;       // "127.0.0.1:7401"
	// admin_tokens: bearer tokens the admin API's mutating endpoints
	// accept (none: open), from the file's "admin_tokens" array and
	// RILL_ADMIN_TOKEN (comma-separated).
	rill_tokens admin_tokens;
	// rpc_tokens: the auth tokens every RPC must carry (none: no check),
	// from the file's "rpc_tokens" array and RILL_RPC_TOKEN
	// (comma-separated). A follower sends the first to its leader.
	rill_tokens rpc_tokens;
	uint64_t    snapshot_interval_ms; // 1 h (0: never by time)
	uint64_t    snapshot_log_bytes;   // 256 MiB (0: never by log size)
	uint64_t    snapshot_max_rate;    // 128 MiB a second (0: unpaced)
	uint64_t    retain_snapshots;     // 3
	uint64_t    retain_age_ms;        // 0: no age limit
	char       *follow;             // "": a leader; else the URL followed
	char       *advertise;          // "": the listen URL
	uint64_t    ready_max_lag;      // 10000 records
	uint64_t    follower_window_ms; // 1 h
	uint64_t    follower_retain_bytes; // 1 GiB
	rill_backup_config *backups;       // the file's "backups" array, and
	size_t              n_backups;     // --backup PATH flags
	// The path of the config file read, if any (not itself a setting of
	// the file).
	char *config_file;
} rill_config;

// rill_config_init fills cfg with the defaults. Free with rill_config_fini.
int  rill_config_init(rill_config *cfg);
void rill_config_fini(rill_config *cfg);

// Each loader below returns RILL_OK, or RILL_INVALID_ARGUMENT (RILL_EIO
// for an unreadable file) with one line in err (size n) naming the setting
// or file and what is wrong with it.

// rill_config_load_file merges the settings of a JSON file (an object of
// the keys rilld --help lists) into cfg.
int rill_config_load_file(
    rill_config *cfg, const char *path, char *err, size_t n);
// rill_config_load_env merges the RILL_* variables found in envp (as
// environ: NULL-terminated "NAME=value" strings) into cfg. RILL_*
// variables that are not plain settings (RILL_CONFIG, the lists
// RILL_ADMIN_TOKEN, RILL_RPC_TOKEN and RILL_BACKUP, read with the flags),
// rillctl's (RILL_URL, RILL_TOKEN) and RILL_TEST_* are ignored; any other
// unknown RILL_* variable is an error naming it, so a typo cannot pass
// silently.
int rill_config_load_env(
    rill_config *cfg, char *const *envp, char *err, size_t n);
// rill_config_set sets the setting with JSON key name from its text form
// ("64MiB", "250ms", "always"), as a flag or variable would.
int rill_config_set(rill_config *cfg, const char *name, const char *value,
    char *err, size_t n);

// rill_config_parse_args is the whole load: defaults, then --config FILE
// (or RILL_CONFIG) if given, then envp, then the flags of argv. *cfg is not
// read, and is written only on success. *helpp is set (and RILL_OK
// returned) when --help was asked for.
int rill_config_parse_args(rill_config *cfg, int argc, char *const *argv,
    char *const *envp, bool *helpp, char *err, size_t n);

// rill_config_usage prints the --help text: every setting with its flag,
// variable, JSON key, default and meaning.
void rill_config_usage(FILE *out, const char *argv0);

#endif // RILL_SERVICE_CONFIG_H
