// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// diag: the server's diagnostic log on stderr ("log" is the replication
// log). Each line has a UTC time, a syslog level, a stable message id that
// can be grepped (LOG-TORN-TAIL) and a sentence naming its subject (peer,
// seq, path). Keys, values and tokens are never logged. Any thread may log.
#ifndef RILL_SERVICE_DIAG_H
#define RILL_SERVICE_DIAG_H

#include <stdbool.h>

enum rill_diag_level {
	RILL_DIAG_ERR    = 3,
	RILL_DIAG_WARN   = 4,
	RILL_DIAG_NOTICE = 5,
	RILL_DIAG_INFO   = 6,
	RILL_DIAG_DEBUG  = 7,
};

// rill_diag_set_level sets the most verbose level that is printed.
void rill_diag_set_level(enum rill_diag_level level);
// rill_diag_parse_level maps "err", "warn", "notice", "info" or "debug" to
// *levelp; it returns false for anything else.
bool rill_diag_parse_level(const char *name, enum rill_diag_level *levelp);
// rill_diag_enabled tells whether a line at level would be printed.
bool rill_diag_enabled(enum rill_diag_level level);

void rill_diag_printf(enum rill_diag_level level, const char *msgid,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// rill_diag_last_err returns the sentence of the last line at level err
// that this thread logged since rill_diag_clear_last_err ("" if none),
// valid until the thread's next err line. A library that embeds the
// server (rill_open_local) hands it to its caller as the failure's cause.
const char *rill_diag_last_err(void);
// rill_diag_clear_last_err forgets this thread's last err line.
void rill_diag_clear_last_err(void);

// The level is checked before the arguments are formatted.
#define RILL_DIAG_(lvl, msgid, ...)                                \
	do {                                                       \
		if (rill_diag_enabled(lvl)) {                      \
			rill_diag_printf(lvl, msgid, __VA_ARGS__); \
		}                                                  \
	} while (0)
#define rill_diag_err(msgid, ...) RILL_DIAG_(RILL_DIAG_ERR, msgid, __VA_ARGS__)
#define rill_diag_warn(msgid, ...) \
	RILL_DIAG_(RILL_DIAG_WARN, msgid, __VA_ARGS__)
#define rill_diag_notice(msgid, ...) \
	RILL_DIAG_(RILL_DIAG_NOTICE, msgid, __VA_ARGS__)
#define rill_diag_info(msgid, ...) \
	RILL_DIAG_(RILL_DIAG_INFO, msgid, __VA_ARGS__)
#define rill_diag_debug(msgid, ...) \
	RILL_DIAG_(RILL_DIAG_DEBUG, msgid, __VA_ARGS__)

#ifdef RILL_DEBUG
#include <stdio.h>
#include <stdlib.h>
// RILL_ASSERT checks an invariant in Debug builds and aborts with its place.
#define RILL_ASSERT(x)                                                   \
	do {                                                             \
		if (!(x)) {                                              \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", \
			    __FILE__, __LINE__, #x);                     \
			abort();                                         \
		}                                                        \
	} while (0)
#else
#define RILL_ASSERT(x) ((void) 0)
#endif

#endif // RILL_SERVICE_DIAG_H
