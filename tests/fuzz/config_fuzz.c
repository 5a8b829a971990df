// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// config_fuzz: arbitrary bytes as rilld's JSON config file (read through
// rill_config_parse_args with --config and an empty environment), and the
// same bytes, up to the first NUL, as the value of flags of each setting
// type. Any error is fine; a crash, a leak, or a success that stores
// something other than what was given is a bug. Built with -DRILL_LIBFUZZER
// it is a libFuzzer target; otherwise replay_main.c replays the files (or
// directories of files) named on the command line, which is how ctest runs
// the corpus.
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rill/status.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// The flags whose values the input is fed to: one of each setting type
// (sync policy, size, URL, duration, count, level, path).
static const char *const value_flags[] = {
	"--sync",
	"--segment-max-bytes",
	"--listen",
	"--segment-max-age-ms",
	"--rpc-contexts",
	"--log-level",
	"--data-dir",
};

#define N_VALUE_FLAGS (sizeof(value_flags) / sizeof(value_flags[0]))

// parse runs rill_config_parse_args on argv (argc entries) with an empty
// environment. On success the caller owns *cfg; *helpp tells whether
// --help was found (as the value "--help" of a flag can be, since a value
// starting with "--" is taken for the next flag).
static int
parse(rill_config *cfg, int argc, char **argv, bool *helpp)
{
	char *envp[] = { NULL };
	char  err[512];
	int   rv;

	memset(err, 0xa5, sizeof(err));
	*helpp = false;
	rv     = rill_config_parse_args(
	        cfg, argc, argv, envp, helpp, err, sizeof(err));
	if (rv != RILL_OK && memchr(err, '\0', sizeof(err)) == NULL) {
		abort(); // the message must be a string
	}
	return rv;
}

// check_value checks that a successful --flag=value stored value.
static void
check_value(const rill_config *cfg, const char *flag, const char *value)
{
	if (strcmp(flag, "--listen") == 0 && strcmp(cfg->listen, value) != 0) {
		abort();
	}
	if (strcmp(flag, "--data-dir") == 0 &&
	    strcmp(cfg->data_dir, value) != 0) {
		abort();
	}
	if (strcmp(flag, "--log-level") == 0 &&
	    strcmp(cfg->log_level, value) != 0) {
		abort();
	}
	if (strcmp(flag, "--sync") == 0 &&
	    strcmp(value,
	        cfg->sync == RILL_SYNC_ALWAYS         ? "always"
	            : cfg->sync == RILL_SYNC_INTERVAL ? "interval"
	                                              : "none") != 0) {
		abort();
	}
	if (strcmp(flag, "--segment-max-bytes") == 0 &&
	    (cfg->segment_max_bytes < 4096 ||
	        cfg->segment_max_bytes > (UINT64_C(1) << 40))) {
		abort();
	}
}

// fuzz_file writes the input to a temporary file and loads it as the
// config file.
static void
fuzz_file(const uint8_t *data, size_t size)
{
	char        path[] = "/tmp/rill-config-fuzz-XXXXXX";
	char       *argv[] = { "fuzz", "--config", path, NULL };
	rill_config cfg;
	bool        help;
	int         fd;

	if ((fd = mkstemp(path)) < 0 ||
	    (size > 0 && write(fd, data, size) != (ssize_t) size)) {
		abort();
	}
	close(fd);
	if (parse(&cfg, 3, argv, &help) == RILL_OK) {
		if (help || cfg.config_file == NULL ||
		    strcmp(cfg.config_file, path) != 0) {
			abort();
		}
		rill_config_fini(&cfg);
	}
	unlink(path);
}

// fuzz_flag runs the flag in argv (argc entries) and, on success, checks
// that value was stored.
static void
fuzz_flag(int argc, char **argv, const char *flag, const char *value)
{
	rill_config cfg;
	bool        help;

	if (parse(&cfg, argc, argv, &help) != RILL_OK) {
		return;
	}
	if (!help) {
		check_value(&cfg, flag, value);
	}
	rill_config_fini(&cfg);
}

// fuzz_flags gives value to each flag of value_flags, both as
// "--flag value" and as "--flag=value".
static void
fuzz_flags(const char *value)
{
	size_t len = strlen(value);

	for (size_t i = 0; i < N_VALUE_FLAGS; i++) {
		const char *flag = value_flags[i];
		size_t      flen = strlen(flag);
		char       *joined;
		char       *split[] = { "fuzz", (char *) flag, (char *) value,
			      NULL };
		char       *eq[]    = { "fuzz", NULL, NULL };

		fuzz_flag(3, split, flag, value);
		if ((joined = malloc(flen + 1 + len + 1)) == NULL) {
			abort();
		}
		memcpy(joined, flag, flen);
		joined[flen] = '=';
		memcpy(joined + flen + 1, value, len + 1);
		eq[1] = joined;
		fuzz_flag(2, eq, flag, value);
		free(joined);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value;

	fuzz_file(data, size);
	// The copy ends at the input's first NUL, as a C string would.
	if ((value = malloc(size + 1)) == NULL) {
		abort();
	}
	if (size > 0) {
		memcpy(value, data, size);
	}
	value[size] = '\0';
	fuzz_flags(value);
	free(value);
	return 0;
}
