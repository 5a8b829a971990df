// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// diag: formats one line per call and writes it with a single write(2), so
// lines from different threads never interleave.
#include "diag.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int diag_level = RILL_DIAG_INFO;

// last_err holds the sentence of this thread's last err line.
static _Thread_local char last_err[512];

static const char *const level_names[] = {
	[RILL_DIAG_ERR]    = "err",
	[RILL_DIAG_WARN]   = "warn",
	[RILL_DIAG_NOTICE] = "notice",
	[RILL_DIAG_INFO]   = "info",
	[RILL_DIAG_DEBUG]  = "debug",
};

void
rill_diag_set_level(enum rill_diag_level level)
{
	atomic_store(&diag_level, (int) level);
}

bool
rill_diag_parse_level(const char *name, enum rill_diag_level *levelp)
{
	for (int l = RILL_DIAG_ERR; l <= RILL_DIAG_DEBUG; l++) {
		if (strcmp(name, level_names[l]) == 0) {
			*levelp = (enum rill_diag_level) l;
			return true;
		}
	}
	return false;
}

bool
rill_diag_enabled(enum rill_diag_level level)
{
	return (int) level <=
	    atomic_load_explicit(&diag_level, memory_order_relaxed);
}

void
rill_diag_printf(
    enum rill_diag_level level, const char *msgid, const char *fmt, ...)
{
	char            line[2048];
	struct timespec ts;
	struct tm       tm;
	va_list         ap;
	int             n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-6s %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[level],
	    msgid);
	va_start(ap, fmt);
	if (level == RILL_DIAG_ERR) {
		va_list copy;
		va_copy(copy, ap);
		vsnprintf(last_err, sizeof(last_err), fmt, copy);
		va_end(copy);
	}
	n += vsnprintf(line + n, sizeof(line) - (size_t) n - 1, fmt, ap);
	va_end(ap);
	if (n > (int) sizeof(line) - 2) {
		n = (int) sizeof(line) - 2;
	}
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t) n);
	(void) w;
}

const char *
rill_diag_last_err(void)
{
	return last_err;
}

void
rill_diag_clear_last_err(void)
{
	last_err[0] = '\0';
}
