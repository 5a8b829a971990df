// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// config_test: defaults, the precedence of file < environment < flags, the
// parsing of each kind of value, and that every error names the setting
// and where it came from.
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rill/status.h>

#include "config.h"
#include "cpus.h"
#include "mem.h"
#include "test.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

// Every JSON key of rill_config; the flag and variable are spelt from it.
static const char *const all_keys[] = {
	"data_dir",
	"listen",
	"sync",
	"sync_interval_ms",
	"segment_max_bytes",
	"segment_max_age_ms",
	"max_key_bytes",
	"max_value_bytes",
	"max_request_bytes",
	"rpc_contexts",
	"dedup_per_client",
	"dedup_idle_ms",
	"cache_bytes",
	"write_buffer_bytes",
	"log_level",
	"cpu_policy",
	NULL,
};

static char tmp_dir[PATH_MAX];

static void
make_tmp_dir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp_dir, sizeof(tmp_dir), "%s/rill-config-test-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmp_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

// write_tmp writes text to a file of the temporary dir and returns its
// path in buf.
static const char *
write_tmp(char *buf, size_t n, const char *name, const char *text)
{
	FILE *f;

	snprintf(buf, n, "%s/%s", tmp_dir, name);
	if ((f = fopen(buf, "w")) == NULL) {
		perror(buf);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return buf;
}

static void
flag_of(const char *key, char *buf, size_t n)
{
	snprintf(buf, n, "--%s", key);
	for (char *p = buf + 2; *p != '\0'; p++) {
		*p = *p == '_' ? '-' : *p;
	}
}

static void
env_of(const char *key, char *buf, size_t n)
{
	snprintf(buf, n, "RILL_%s", key);
	for (char *p = buf + 5; *p != '\0'; p++) {
		*p = (char) toupper((unsigned char) *p);
	}
}

static int
count_args(char *const *argv)
{
	int argc = 0;

	while (argv[argc] != NULL) {
		argc++;
	}
	return argc;
}

// parse runs rill_config_parse_args on a NULL-terminated argv.
static int
parse(rill_config *cfg, char *const *argv, char *const *envp, char *err,
    size_t n)
{
	bool help = true;
	int  rv   = rill_config_parse_args(
	       cfg, count_args(argv), argv, envp, &help, err, n);

	if (rv == RILL_OK && help) {
		rill_config_fini(cfg);
		return -1;
	}
	return rv;
}

// expect_error checks that parsing fails with code and that the message
// holds each of the NULL-terminated strings.
static bool
expect_error(char *const *argv, char *const *envp, int code, ...)
{
	rill_config cfg;
	char        err[512] = "";
	int         rv       = parse(&cfg, argv, envp, err, sizeof(err));
	va_list     ap;
	const char *want;
	bool        ok = true;

	if (rv == RILL_OK) {
		rill_config_fini(&cfg);
	}
	if (rv != code) {
		fprintf(stderr, "  %s: got %s, want %s (\"%s\")\n", argv[1],
		    rill_status_name(rv), rill_status_name(code), err);
		return false;
	}
	va_start(ap, code);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (strstr(err, want) == NULL) {
			fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err,
			    want);
			ok = false;
		}
	}
	va_end(ap);
	return ok;
}

static void
test_defaults(void)
{
	rill_config cfg;

	CHECK_EQ_INT(rill_config_init(&cfg), RILL_OK);
	CHECK_EQ_STR(cfg.data_dir, "./rill-data");
	CHECK_EQ_STR(cfg.listen, "tcp://127.0.0.1:7400");
	CHECK_EQ_INT(cfg.sync, RILL_SYNC_ALWAYS);
	CHECK_EQ_INT(cfg.sync_interval_ms, 100);
	CHECK_EQ_INT(cfg.cpu_policy, RILL_CPU_BATCH);
	CHECK_EQ_INT(cfg.segment_max_bytes, 64 * MiB);
	CHECK_EQ_INT(cfg.segment_max_age_ms, 60000);
	CHECK_EQ_INT(cfg.max_key_bytes, 64 * KiB);
	CHECK_EQ_INT(cfg.max_value_bytes, 8 * MiB);
	CHECK_EQ_INT(cfg.max_request_bytes, 16 * MiB);
	CHECK_EQ_INT(cfg.rpc_contexts, 256);
	CHECK_EQ_INT(cfg.dedup_per_client, 1024);
	CHECK_EQ_INT(cfg.dedup_idle_ms, 3600000);
	CHECK_EQ_INT(cfg.cache_bytes, 8 * MiB);
	CHECK_EQ_INT(cfg.write_buffer_bytes, 16 * MiB);
	CHECK_EQ_STR(cfg.log_level, "info");
	CHECK(cfg.config_file == NULL);
	rill_config_fini(&cfg);
	rill_config_fini(&cfg); // a second fini is harmless
}

static void
test_parse_args_no_args_gives_defaults(void)
{
	char       *argv[] = { "rilld", NULL };
	char       *envp[] = { "PATH=/usr/bin", "HOME=/root", NULL };
	rill_config cfg;
	char        err[256];

	CHECK_EQ_INT(parse(&cfg, argv, envp, err, sizeof(err)), RILL_OK);
	CHECK_EQ_STR(cfg.data_dir, "./rill-data");
	CHECK_EQ_INT(cfg.rpc_contexts, 256);
	CHECK(cfg.config_file == NULL);
	rill_config_fini(&cfg);
}

static void
test_precedence_file_env_flags(void)
{
	char        path[PATH_MAX], config_env[PATH_MAX + 16];
	rill_config cfg;
	char        err[256] = "";

	write_tmp(path, sizeof(path), "prec.json",
	    "{\n"
	    "  \"data_dir\": \"/srv/from-file\",\n"
	    "  \"listen\": \"tcp://127.0.0.1:1111\",\n"
	    "  \"sync\": \"interval\",\n"
	    "  \"rpc_contexts\": 10,\n"
	    "  \"cache_bytes\": \"1MiB\",\n"
	    "  \"segment_max_age_ms\": 5000,\n"
	    "  \"log_level\": \"warn\"\n"
	    "}\n");
	snprintf(config_env, sizeof(config_env), "RILL_CONFIG=%s", path);
	char *envp[] = { "PATH=/usr/bin", config_env,
		"RILL_LISTEN=tcp://127.0.0.1:2222", "RILL_SYNC=none",
		"RILL_RPC_CONTEXTS=20", "RILL_LOG_LEVEL=notice",
		"RILL_ADMIN_TOKEN=secret", NULL };
	char *argv[] = { "rilld", "--sync", "always", "--rpc-contexts=30",
		"--log-level", "debug", NULL };

	CHECK_EQ_INT(parse(&cfg, argv, envp, err, sizeof(err)), RILL_OK);
	CHECK_EQ_STR(cfg.config_file, path);
	CHECK_EQ_STR(cfg.data_dir, "/srv/from-file");     // file only
	CHECK_EQ_STR(cfg.listen, "tcp://127.0.0.1:2222"); // env over file
	CHECK_EQ_INT(cfg.sync, RILL_SYNC_ALWAYS);         // flag over env
	CHECK_EQ_INT(cfg.rpc_contexts, 30);               // flag over env
	CHECK_EQ_STR(cfg.log_level, "debug");             // flag over env
	CHECK_EQ_INT(cfg.cache_bytes, MiB);               // file only
	CHECK_EQ_INT(cfg.segment_max_age_ms, 5000);       // file only
	CHECK_EQ_INT(cfg.segment_max_bytes, 64 * MiB);    // default
	rill_config_fini(&cfg);
}

static void
test_config_flag_wins_over_env(void)
{
	char        from_env[PATH_MAX], from_flag[PATH_MAX];
	char        config_env[PATH_MAX + 16];
	rill_config cfg;
	char        err[256] = "";

	write_tmp(
	    from_env, sizeof(from_env), "env.json", "{\"rpc_contexts\": 11}");
	write_tmp(from_flag, sizeof(from_flag), "flag.json",
	    "{\"rpc_contexts\": 12}");
	snprintf(config_env, sizeof(config_env), "RILL_CONFIG=%s", from_env);
	char *envp[]  = { config_env, NULL };
	char *argv1[] = { "rilld", NULL };
	char *argv2[] = { "rilld", "--config", from_flag, NULL };

	CHECK_EQ_INT(parse(&cfg, argv1, envp, err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(cfg.rpc_contexts, 11);
	CHECK_EQ_STR(cfg.config_file, from_env);
	rill_config_fini(&cfg);

	CHECK_EQ_INT(parse(&cfg, argv2, envp, err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(cfg.rpc_contexts, 12);
	CHECK_EQ_STR(cfg.config_file, from_flag);
	rill_config_fini(&cfg);
}

static void
test_bad_values_name_the_setting(void)
{
	static const struct {
		const char *key, *value, *what;
	} cases[] = {
		{ "sync", "sometimes", "want always, interval or none" },
		{ "cpu_policy", "fast", "want batch or normal" },
		{ "cpus", "0-", "bad CPU list \"0-\"" },
		{ "cpus", "2-1", "LOW <= HIGH" },
		{ "log_level", "loud",
		    "want err, warn, notice, info or debug" },
		{ "segment_max_bytes", "12x", "bad size \"12x\"" },
		{ "segment_max_bytes", "-5", "bad size" },
		{ "segment_max_bytes", "1.5GiB", "bad size" },
		{ "segment_max_bytes", "99999999999999999999", "bad size" },
		{ "segment_max_bytes", "", "bad size" },
		{ "sync_interval_ms", "5x", "bad duration \"5x\"" },
		{ "sync_interval_ms", "ms", "bad duration" },
		{ "sync_interval_ms", "1h5", "bad duration" },
		{ "rpc_contexts", "ten", "bad number \"ten\"" },
		{ "rpc_contexts", " 10", "bad number" },
		{ "rpc_contexts", "+10", "bad number" },
		{ "listen", "http://127.0.0.1:80", "bad URL" },
		{ "listen", "tcp://127.0.0.1", "bad URL" },
		{ "listen", "tcp://127.0.0.1:99999", "bad URL" },
		{ "listen", "127.0.0.1:7400", "bad URL" },
		{ "data_dir", "", "empty path" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char  flag[64], env[64], envvar[128], arg[128];
		char *noenv[] = { NULL };

		// As a flag, "--name value" and "--name=value".
		flag_of(cases[i].key, flag, sizeof(flag));
		char *argv1[] = { "rilld", flag, (char *) cases[i].value,
			NULL };
		snprintf(arg, sizeof(arg), "%s=%s", flag, cases[i].value);
		char *argv2[] = { "rilld", arg, NULL };
		char  prefix[80];
		snprintf(prefix, sizeof(prefix), "%s: ", flag);
		if (cases[i].value[0] != '\0') {
			CHECK(expect_error(argv1, noenv, RILL_INVALID_ARGUMENT,
			    prefix, cases[i].what, NULL));
		}
		CHECK(expect_error(argv2, noenv, RILL_INVALID_ARGUMENT, prefix,
		    cases[i].what, NULL));

		// As a variable.
		env_of(cases[i].key, env, sizeof(env));
		snprintf(envvar, sizeof(envvar), "%s=%s", env, cases[i].value);
		char *envp[]  = { envvar, NULL };
		char *argv0[] = { "rilld", NULL };
		snprintf(prefix, sizeof(prefix), "%s: ", env);
		CHECK(expect_error(argv0, envp, RILL_INVALID_ARGUMENT, prefix,
		    cases[i].what, NULL));

		// By rill_config_set.
		rill_config cfg;
		char        err[512] = "";
		CHECK_EQ_INT(rill_config_init(&cfg), RILL_OK);
		int rv = rill_config_set(
		    &cfg, cases[i].key, cases[i].value, err, sizeof(err));
		rill_config_fini(&cfg);
		CHECK_EQ_INT(rv, RILL_INVALID_ARGUMENT);
		CHECK(strncmp(err, cases[i].key, strlen(cases[i].key)) == 0);
		CHECK(strstr(err, cases[i].what) != NULL);
	}
}

static void
test_out_of_range(void)
{
	char *noenv[] = { NULL };
	char *a1[]    = { "rilld", "--rpc-contexts", "0", NULL };
	char *a2[]    = { "rilld", "--rpc-contexts", "4097", NULL };
	char *a3[]    = { "rilld", "--max-key-bytes", "0", NULL };
	char *a4[]    = { "rilld", "--segment-max-bytes", "4095", NULL };
	char *a5[]    = { "rilld", "--sync=interval", "--sync-interval-ms=0",
		   NULL };
	char *a6[]    = { "rilld", "--max-request-bytes=1GiB", NULL };
	char *ok1[]   = { "rilld", "--rpc-contexts", "4096",
		  "--segment-max-bytes", "4k", NULL };
	rill_config cfg;
	char        err[256];

	CHECK(expect_error(a1, noenv, RILL_INVALID_ARGUMENT,
	    "--rpc-contexts: 0 is out of range (1 to 4096)", NULL));
	CHECK(expect_error(a2, noenv, RILL_INVALID_ARGUMENT,
	    "--rpc-contexts: 4097 is out of range", NULL));
	CHECK(expect_error(
	    a3, noenv, RILL_INVALID_ARGUMENT, "--max-key-bytes: 0B", NULL));
	CHECK(expect_error(a4, noenv, RILL_INVALID_ARGUMENT,
	    "--segment-max-bytes: 4095B is out of range (4KiB to", NULL));
	CHECK(expect_error(a5, noenv, RILL_INVALID_ARGUMENT,
	    "--sync-interval-ms: 0ms is out of range", NULL));
	CHECK(expect_error(a6, noenv, RILL_INVALID_ARGUMENT,
	    "--max-request-bytes: 1GiB is out of range", NULL));
	CHECK_EQ_INT(parse(&cfg, ok1, noenv, err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(cfg.rpc_contexts, 4096);
	CHECK_EQ_INT(cfg.segment_max_bytes, 4096);
	rill_config_fini(&cfg);
}

static void
test_cross_field_checks_name_both_sources(void)
{
	char *envp[]  = { "RILL_MAX_VALUE_BYTES=32MiB", NULL };
	char *a1[]    = { "rilld", "--max-request-bytes", "16MiB", NULL };
	char *a2[]    = { "rilld", "--max-request-bytes", "4KiB", NULL };
	char *noenv[] = { NULL };

	CHECK(expect_error(a1, envp, RILL_INVALID_ARGUMENT,
	    "max_value_bytes 32MiB (from RILL_MAX_VALUE_BYTES) is larger than "
	    "max_request_bytes 16MiB (from --max-request-bytes)",
	    NULL));
	CHECK(expect_error(a2, noenv, RILL_INVALID_ARGUMENT,
	    "max_key_bytes 64KiB (default) is larger than max_request_bytes",
	    NULL));
}

static void
test_file_unknown_key(void)
{
	char  path[PATH_MAX], want[PATH_MAX + 64];
	char *noenv[] = { NULL };

	write_tmp(path, sizeof(path), "rill.json",
	    "{\"data_dir\": \"x\", \"sink\": 1}");
	char *argv[] = { "rilld", "--config", path, NULL };
	snprintf(
	    want, sizeof(want), "config file %s: unknown key \"sink\"", path);
	CHECK(expect_error(argv, noenv, RILL_INVALID_ARGUMENT, want, NULL));
}

static void
test_file_errors(void)
{
	static const struct {
		const char *text, *what;
	} cases[] = {
		{ "[1, 2]", "want a JSON object of settings, not an array" },
		{ "\"data_dir\"",
		    "want a JSON object of settings, not a string" },
		{ "{\n\"sync\": \"always\",\n\"listen\": }\n",
		    "bad JSON at line 3" },
		{ "{} {}", "bad JSON" },
		{ "", "bad JSON" },
		{ "{\"data_dir\": 5}",
		    "data_dir: want a string, not a number" },
		{ "{\"sync\": true}", "sync: want a string, not a boolean" },
		{ "{\"rpc_contexts\": \"many\"}", "rpc_contexts: bad number" },
		{ "{\"rpc_contexts\": null}",
		    "rpc_contexts: want a number or a string, not null" },
		{ "{\"rpc_contexts\": 1.5}", "rpc_contexts: bad number 1.5" },
		{ "{\"cache_bytes\": -1}", "cache_bytes: bad number -1" },
		{ "{\"cache_bytes\": 1e300}", "cache_bytes: bad number" },
		{ "{\"rpc_contexts\": 0}", "rpc_contexts: 0 is out of range" },
		{ "{\"sync\": \"always\", \"sync\": \"none\"}",
		    "key \"sync\" appears twice" },
		{ "{\"config_file\": \"x\"}", "unknown key \"config_file\"" },
		{ "{\"data_dir\": \"a\\u0000b\"}", "a string holds \\u0000" },
		// The lists: tokens and backups.
		{ "{\"rpc_tokens\": \"r\"}",
		    "rpc_tokens: want an array of strings, not a string" },
		{ "{\"rpc_tokens\": [\"\"]}",
		    "rpc_tokens: want non-empty strings" },
		{ "{\"admin_tokens\": [\"a\", \" \"]}",
		    "admin_tokens: want non-empty strings" },
		{ "{\"admin_tokens\": [\"a\"], \"admin_tokens\": [\"b\"]}",
		    "key \"admin_tokens\" appears twice" },
		{ "{\"backups\": [], \"backups\": []}",
		    "key \"backups\" appears twice" },
		{ "{\"backups\": [{\"path\": \"/y\", \"path\": \"/z\"}]}",
		    "backups[0]: key \"path\" appears twice" },
		{ "{\"backups\": [{\"path\": \"/y\"}, {\"path\": \"/z\", "
		  "\"retention\": \"5x\"}]}",
		    "backups[1].retention: bad duration \"5x\"" },
		{ "{\"backups\": [{\"path\": \"\"}]}",
		    "backups[0]: each entry wants" },
		{ "{\"backups\": [{\"path\": \"/y\", \"retain\": 1}]}",
		    "backups[0]: unknown key \"retain\"" },
	};
	char *noenv[] = { NULL };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[PATH_MAX], prefix[PATH_MAX + 32];
		write_tmp(path, sizeof(path), "bad.json", cases[i].text);
		char *argv[] = { "rilld", "--config", path, NULL };
		snprintf(prefix, sizeof(prefix), "config file %s: ", path);
		CHECK(expect_error(argv, noenv, RILL_INVALID_ARGUMENT, prefix,
		    cases[i].what, NULL));
	}
}

// test_token_lists: admin_tokens and rpc_tokens come from the file's
// arrays, and a variable's comma-separated list replaces the file's.
static void
test_token_lists(void)
{
	char        path[PATH_MAX], config_env[PATH_MAX + 16];
	rill_config cfg;
	char        err[256] = "";
	char       *argv[]   = { "rilld", NULL };

	write_tmp(path, sizeof(path), "tokens.json",
	    "{\"admin_tokens\": [\"a1\", \" a2\\t\"], \"rpc_tokens\": "
	    "[\"r1\"]}");
	snprintf(config_env, sizeof(config_env), "RILL_CONFIG=%s", path);
	char *file_only[] = { config_env, NULL };
	char *rpc_env[]   = { config_env, "RILL_RPC_TOKEN= x,,y ,", NULL };
	char *empty_env[] = { config_env, "RILL_RPC_TOKEN=,", NULL };
	char *blank_env[] = { config_env, "RILL_ADMIN_TOKEN= , \t", NULL };

	CHECK_EQ_INT(parse(&cfg, argv, file_only, err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(cfg.admin_tokens.n, 2);
	CHECK_EQ_STR(cfg.admin_tokens.v[1], "a2");
	CHECK_EQ_INT(cfg.rpc_tokens.n, 1);
	CHECK_EQ_STR(cfg.rpc_tokens.v[0], "r1");
	rill_config_fini(&cfg);

	CHECK_EQ_INT(parse(&cfg, argv, rpc_env, err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(cfg.admin_tokens.n, 2); // the file's
	CHECK_EQ_INT(cfg.rpc_tokens.n, 2);   // the variable's
	CHECK_EQ_STR(cfg.rpc_tokens.v[0], "x");
	CHECK_EQ_STR(cfg.rpc_tokens.v[1], "y");
	rill_config_fini(&cfg);

	CHECK(expect_error(argv, empty_env, RILL_INVALID_ARGUMENT,
	    "RILL_RPC_TOKEN: empty", NULL));
	CHECK(expect_error(argv, blank_env, RILL_INVALID_ARGUMENT,
	    "RILL_ADMIN_TOKEN: empty", NULL));
}

// test_backup_entries: a backup's limits default to the data dir's; its
// "retention" of 0 is no age limit, as retain_age_ms 0 is for the dir.
// An escaped backslash before u0000 is text, not a NUL.
static void
test_backup_entries(void)
{
	char        path[PATH_MAX], config_env[PATH_MAX + 16];
	rill_config cfg;
	char        err[256] = "";
	char       *argv[]   = { "rilld", NULL };

	write_tmp(path, sizeof(path), "backups.json",
	    "{\"backups\": [{\"path\": \"/b/one\"}, {\"path\": \"/b/two\", "
	    "\"retention\": 0, \"retain_snapshots\": 7}, {\"path\": "
	    "\"/b/\\\\u0000\", \"retention\": \"7d\"}]}");
	snprintf(config_env, sizeof(config_env), "RILL_CONFIG=%s", path);
	char *envp[] = { config_env, NULL };

	CHECK_EQ_INT(parse(&cfg, argv, envp, err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(cfg.n_backups, 3);
	if (cfg.n_backups == 3) {
		CHECK_EQ_INT(cfg.backups[0].retain_age_ms, 0);
		CHECK_EQ_INT(cfg.backups[0].retain_snapshots, 0);
		CHECK(
		    cfg.backups[1].retain_age_ms == RILL_BACKUP_NO_AGE_LIMIT);
		CHECK_EQ_INT(cfg.backups[1].retain_snapshots, 7);
		CHECK_EQ_STR(cfg.backups[2].path, "/b/\\u0000");
		CHECK_EQ_INT(cfg.backups[2].retain_age_ms, 7 * 86400000ull);
	}
	rill_config_fini(&cfg);
}

static void
test_file_missing_is_eio(void)
{
	char  path[PATH_MAX + 16];
	char *noenv[] = { NULL };

	snprintf(path, sizeof(path), "%s/no-such.json", tmp_dir);
	char *argv[] = { "rilld", "--config", path, NULL };
	CHECK(expect_error(argv, noenv, RILL_EIO, path, "no such file", NULL));
}

static void
test_file_numbers_and_strings(void)
{
	char        path[PATH_MAX];
	rill_config cfg;
	char        err[256] = "";

	write_tmp(path, sizeof(path), "num.json",
	    "{\"segment_max_bytes\": 1048576, \"max_key_bytes\": \"1k\","
	    " \"sync_interval_ms\": 250, \"dedup_idle_ms\": \"2h\","
	    " \"dedup_per_client\": \"7\"}");
	CHECK_EQ_INT(rill_config_init(&cfg), RILL_OK);
	CHECK_EQ_INT(
	    rill_config_load_file(&cfg, path, err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(cfg.segment_max_bytes, MiB);
	CHECK_EQ_INT(cfg.max_key_bytes, KiB);
	CHECK_EQ_INT(cfg.sync_interval_ms, 250);
	CHECK_EQ_INT(cfg.dedup_idle_ms, 2 * 3600000);
	CHECK_EQ_INT(cfg.dedup_per_client, 7);
	CHECK_EQ_STR(cfg.config_file, path);
	rill_config_fini(&cfg);
}

static void
test_flag_errors(void)
{
	char *noenv[] = { NULL };
	char *a1[]    = { "rilld", "--data-dri", "x", NULL };
	char *a2[]    = { "rilld", "--data-dir", NULL };
	char *a3[]    = { "rilld", "--data-dir", "--sync", "none", NULL };
	char *a4[]    = { "rilld", "serve", NULL };
	char *a5[]    = { "rilld", "-v", NULL };
	char *a6[]    = { "rilld", "--config", NULL };
	char *a7[]    = { "rilld", "--nope=1", NULL };

	CHECK(expect_error(a1, noenv, RILL_INVALID_ARGUMENT,
	    "unknown flag --data-dri", NULL));
	CHECK(expect_error(a2, noenv, RILL_INVALID_ARGUMENT,
	    "--data-dir: missing value", NULL));
	CHECK(expect_error(a3, noenv, RILL_INVALID_ARGUMENT,
	    "--data-dir: missing value", NULL));
	CHECK(expect_error(a4, noenv, RILL_INVALID_ARGUMENT,
	    "unexpected argument \"serve\"", NULL));
	CHECK(expect_error(a5, noenv, RILL_INVALID_ARGUMENT,
	    "unexpected argument \"-v\"", NULL));
	CHECK(expect_error(a6, noenv, RILL_INVALID_ARGUMENT,
	    "--config: missing value", NULL));
	CHECK(expect_error(
	    a7, noenv, RILL_INVALID_ARGUMENT, "unknown flag --nope", NULL));
}

static void
test_unknown_env_rejected_others_ignored(void)
{
	char *argv[]   = { "rilld", NULL };
	char *typo[]   = { "RILL_SYNK=always", NULL };
	char *others[] = { "RILL_ADMIN_TOKEN=secret", "RILL_RPC_TOKEN=secret",
		"RILL_URL=tcp://127.0.0.1:1", "RILL_TOKEN=secret",
		"RILL_ADMIN_LISTEN=127.0.0.1:1", "RILL_TEST_CRASH_AT=3",
		"NOT_RILL_SYNC=x", "RILLSYNC=x", "HOME=/root", NULL };
	rill_config cfg;
	char        err[256] = "";

	CHECK(expect_error(argv, typo, RILL_INVALID_ARGUMENT,
	    "RILL_SYNK: unknown variable", NULL));
	CHECK_EQ_INT(parse(&cfg, argv, others, err, sizeof(err)), RILL_OK);
	rill_config_fini(&cfg);

	// rill_config_load_env alone behaves the same.
	CHECK_EQ_INT(rill_config_init(&cfg), RILL_OK);
	CHECK_EQ_INT(
	    rill_config_load_env(&cfg, others, err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(rill_config_load_env(&cfg, typo, err, sizeof(err)),
	    RILL_INVALID_ARGUMENT);
	rill_config_fini(&cfg);
}

static void
test_size_parsing(void)
{
	static const struct {
		const char *text;
		uint64_t    want;
	} cases[] = {
		{ "4096", 4096 },
		{ "4096B", 4096 },
		{ "4k", 4 * KiB },
		{ "4K", 4 * KiB },
		{ "4KB", 4 * KiB },
		{ "4KiB", 4 * KiB },
		{ "64MiB", 64 * MiB },
		{ "64mb", 64 * MiB },
		{ "64M", 64 * MiB },
		{ "1GB", GiB },
		{ "1gib", GiB },
		{ "1T", UINT64_C(1) << 40 },
	};
	rill_config cfg;
	char        err[256] = "";

	CHECK_EQ_INT(rill_config_init(&cfg), RILL_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rv = rill_config_set(&cfg, "segment_max_bytes",
		    cases[i].text, err, sizeof(err));
		if (rv != RILL_OK) {
			fprintf(stderr, "  %s: %s\n", cases[i].text, err);
		}
		CHECK_EQ_INT(rv, RILL_OK);
		CHECK_EQ_INT(cfg.segment_max_bytes, cases[i].want);
	}
	CHECK_EQ_INT(
	    rill_config_set(&cfg, "cache_bytes", "0", err, sizeof(err)),
	    RILL_OK);
	CHECK_EQ_INT(cfg.cache_bytes, 0);
	rill_config_fini(&cfg);
}

static void
test_duration_parsing(void)
{
	static const struct {
		const char *text;
		uint64_t    want;
	} cases[] = {
		{ "250", 250 },
		{ "250ms", 250 },
		{ "2s", 2000 },
		{ "3m", 180000 },
		{ "1h", 3600000 },
		{ "1m30s", 90000 },
		{ "1h0m5s", 3605000 },
		{ "1s500ms", 1500 },
	};
	rill_config cfg;
	char        err[256] = "";

	CHECK_EQ_INT(rill_config_init(&cfg), RILL_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rv = rill_config_set(&cfg, "segment_max_age_ms",
		    cases[i].text, err, sizeof(err));
		if (rv != RILL_OK) {
			fprintf(stderr, "  %s: %s\n", cases[i].text, err);
		}
		CHECK_EQ_INT(rv, RILL_OK);
		CHECK_EQ_INT(cfg.segment_max_age_ms, cases[i].want);
	}
	CHECK_EQ_INT(
	    rill_config_set(&cfg, "dedup_idle_ms", "500ms", err, sizeof(err)),
	    RILL_INVALID_ARGUMENT);
	CHECK(
	    strstr(err, "dedup_idle_ms: 500ms is out of range (1s to 720h)") !=
	    NULL);
	rill_config_fini(&cfg);
}

static void
test_enums_and_urls(void)
{
	static const char *const urls[] = {
		"tcp://0.0.0.0:7400",
		"tcp://:0",
		"tcp://[::1]:7400",
		"tcp6://[::]:1",
		"tcp://localhost:65535",
		"ipc:///tmp/rill.sock",
		"inproc://rill-test",
		NULL,
	};
	rill_config cfg;
	char        err[256] = "";

	CHECK_EQ_INT(rill_config_init(&cfg), RILL_OK);
	CHECK_EQ_INT(
	    rill_config_set(&cfg, "sync", "interval", err, sizeof(err)),
	    RILL_OK);
	CHECK_EQ_INT(cfg.sync, RILL_SYNC_INTERVAL);
	CHECK_EQ_INT(
	    rill_config_set(&cfg, "sync", "none", err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(cfg.sync, RILL_SYNC_NONE);
	CHECK_EQ_INT(rill_config_set(&cfg, "sync", "ALWAYS", err, sizeof(err)),
	    RILL_INVALID_ARGUMENT);
	for (const char *const *u = urls; *u != NULL; u++) {
		int rv = rill_config_set(&cfg, "listen", *u, err, sizeof(err));
		if (rv != RILL_OK) {
			fprintf(stderr, "  %s: %s\n", *u, err);
		}
		CHECK_EQ_INT(rv, RILL_OK);
		CHECK_EQ_STR(cfg.listen, *u);
	}
	CHECK_EQ_INT(rill_config_set(&cfg, "nope", "1", err, sizeof(err)),
	    RILL_INVALID_ARGUMENT);
	CHECK(strstr(err, "unknown setting \"nope\"") != NULL);
	rill_config_fini(&cfg);
}

// The CPU lists of --cpus: parsed, kept as given, written back in the
// shortest form; a bad list names the setting.
static void
test_cpu_lists(void)
{
	static const struct {
		const char *text, *formatted;
	} good[] = {
		{ "0", "0" },
		{ "0-1,4", "0-1,4" },
		{ "3,1,2", "1-3" },
		{ "0-0,7-9,8", "0,7-9" },
		{ "1023", "1023" },
	};
	static const char *const bad[] = { "", "x", "0,", ",0", "0-", "-1",
		"1-0", "0 ", "0;1", "1024", "99999999999", NULL };
	rill_config              cfg;
	cpu_set_t                set;
	char                     err[256] = "", buf[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_EQ_INT(
		    rill_cpus_parse(good[i].text, &set, err, sizeof(err)),
		    RILL_OK);
		CHECK_EQ_STR(rill_cpus_format(&set, buf, sizeof(buf)),
		    good[i].formatted);
	}
	CHECK_EQ_INT(
	    rill_cpus_parse("0-1,4", &set, err, sizeof(err)), RILL_OK);
	CHECK_EQ_INT(CPU_COUNT(&set), 3);
	CHECK(CPU_ISSET(4, &set) && !CPU_ISSET(2, &set));
	for (const char *const *b = bad; *b != NULL; b++) {
		if (rill_cpus_parse(*b, &set, err, sizeof(err)) == RILL_OK) {
			fprintf(stderr, "  \"%s\" parsed\n", *b);
			CHECK(0);
		}
		CHECK(strstr(err, "bad CPU list") != NULL);
	}
	// A list too long for the buffer is cut at an item.
	CHECK_EQ_INT(
	    rill_cpus_parse("0,2,4,6,8,10", &set, err, sizeof(err)), RILL_OK);
	CHECK_EQ_STR(rill_cpus_format(&set, buf, 8), "0,2,4,6");

	CHECK_EQ_INT(rill_config_init(&cfg), RILL_OK);
	CHECK_EQ_STR(cfg.cpus, ""); // every CPU
	CHECK_EQ_INT(
	    rill_config_set(&cfg, "cpus", "0-1,4", err, sizeof(err)), RILL_OK);
	CHECK_EQ_STR(cfg.cpus, "0-1,4");
	CHECK_EQ_INT(
	    rill_config_set(&cfg, "cpus", "", err, sizeof(err)), RILL_OK);
	CHECK_EQ_STR(cfg.cpus, "");
	CHECK_EQ_INT(rill_config_set(&cfg, "cpus", "2-1", err, sizeof(err)),
	    RILL_INVALID_ARGUMENT);
	CHECK(strstr(err, "cpus") != NULL && strstr(err, "\"2-1\"") != NULL);
	rill_config_fini(&cfg);
}

static void
test_help(void)
{
	char        *noenv[] = { NULL };
	char        *a1[]    = { "rilld", "--help", NULL };
	char        *a2[]    = { "rilld", "--sync", "none", "-h", NULL };
	char        *a3[]    = { "rilld", "--bogus", "--help", NULL };
	char        *a4[]    = { "rilld", "--sync", "none", NULL };
	char *const *cases[] = { a1, a2, a3 };
	rill_config  cfg;
	char         err[256] = "";
	bool         help;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		help = false;
		CHECK_EQ_INT(rill_config_parse_args(&cfg, count_args(cases[i]),
		                 cases[i], noenv, &help, err, sizeof(err)),
		    RILL_OK);
		CHECK(help);
		rill_config_fini(&cfg);
	}
	help = true;
	CHECK_EQ_INT(rill_config_parse_args(&cfg, count_args(a4), a4, noenv,
	                 &help, err, sizeof(err)),
	    RILL_OK);
	CHECK(!help);
	rill_config_fini(&cfg);
}

static void
test_usage_lists_every_setting(void)
{
	char  *text = NULL;
	size_t len  = 0;
	FILE  *out  = open_memstream(&text, &len);

	CHECK(out != NULL);
	rill_config_usage(out, "rilld");
	fclose(out);
	CHECK(strstr(text, "Usage: rilld") != NULL);
	for (const char *const *k = all_keys; *k != NULL; k++) {
		char flag[64], env[64], key[64];
		flag_of(*k, flag, sizeof(flag));
		env_of(*k, env, sizeof(env));
		snprintf(key, sizeof(key), "%s:", *k);
		if (strstr(text, flag) == NULL || strstr(text, env) == NULL ||
		    strstr(text, key) == NULL) {
			fprintf(stderr, "  usage lacks %s\n", *k);
			free(text);
			CHECK(0);
		}
	}
	CHECK(strstr(text, "--config FILE") != NULL);
	CHECK(strstr(text, "RILL_CONFIG") != NULL);
	CHECK(strstr(text, "--help") != NULL);
	CHECK(strstr(text, "64MiB") != NULL);
	CHECK(strstr(text, "./rill-data") != NULL);
	// Every line fits 79 columns.
	for (char *line = text; *line != '\0';) {
		size_t n = strcspn(line, "\n");
		if (n > 79) {
			fprintf(stderr, "  long line: %.*s\n", (int) n, line);
			free(text);
			CHECK(0);
		}
		line += n + (line[n] == '\n');
	}
	free(text);
}

static void
test_every_key_is_a_setting(void)
{
	rill_config cfg;
	char        err[256] = "";

	CHECK_EQ_INT(rill_config_init(&cfg), RILL_OK);
	for (const char *const *k = all_keys; *k != NULL; k++) {
		// "" is a bad value for every setting; only an unknown key
		// would fail with "unknown setting".
		int rv = rill_config_set(&cfg, *k, "", err, sizeof(err));
		CHECK_EQ_INT(rv, RILL_INVALID_ARGUMENT);
		CHECK(strstr(err, "unknown setting") == NULL);
	}
	rill_config_fini(&cfg);
}

static void
test_allocation_failures_unwind(void)
{
	char        path[PATH_MAX], config_env[PATH_MAX + 16];
	rill_config cfg;
	char        err[256];
	int         rv;

	write_tmp(path, sizeof(path), "alloc.json",
	    "{\"data_dir\": \"/srv/x\", \"listen\": \"tcp://:1\"}");
	snprintf(config_env, sizeof(config_env), "RILL_CONFIG=%s", path);
	char *envp[] = { config_env, "RILL_LOG_LEVEL=debug", NULL };
	char *argv[] = { "rilld", "--data-dir", "/srv/y", NULL };

	for (unsigned long i = 1;; i++) {
		rill_mem_fail_after(i);
		rv = parse(&cfg, argv, envp, err, sizeof(err));
		rill_mem_fail_after(0);
		if (rv == RILL_OK) {
			CHECK_EQ_STR(cfg.data_dir, "/srv/y");
			rill_config_fini(&cfg);
			break;
		}
		CHECK_EQ_INT(rv, RILL_ENOMEM);
		CHECK(i < 1000);
	}
}

RILL_TEST_MAIN_BEGIN
make_tmp_dir();
RILL_TEST_RUN(test_defaults);
RILL_TEST_RUN(test_parse_args_no_args_gives_defaults);
RILL_TEST_RUN(test_precedence_file_env_flags);
RILL_TEST_RUN(test_config_flag_wins_over_env);
RILL_TEST_RUN(test_bad_values_name_the_setting);
RILL_TEST_RUN(test_out_of_range);
RILL_TEST_RUN(test_cross_field_checks_name_both_sources);
RILL_TEST_RUN(test_file_unknown_key);
RILL_TEST_RUN(test_file_errors);
RILL_TEST_RUN(test_token_lists);
RILL_TEST_RUN(test_backup_entries);
RILL_TEST_RUN(test_file_missing_is_eio);
RILL_TEST_RUN(test_file_numbers_and_strings);
RILL_TEST_RUN(test_flag_errors);
RILL_TEST_RUN(test_unknown_env_rejected_others_ignored);
RILL_TEST_RUN(test_size_parsing);
RILL_TEST_RUN(test_duration_parsing);
RILL_TEST_RUN(test_enums_and_urls);
RILL_TEST_RUN(test_cpu_lists);
RILL_TEST_RUN(test_help);
RILL_TEST_RUN(test_usage_lists_every_setting);
RILL_TEST_RUN(test_every_key_is_a_setting);
RILL_TEST_RUN(test_allocation_failures_unwind);
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", tmp_dir);
	}
}
RILL_TEST_MAIN_END
