// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// rillctl restore and rillctl validate: the history commands. They work
// on files (data dirs and backups) as much as on nodes, so they use
// rill's service library directly rather than the SDK.
#include "rillctl_history.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <rill/status.h>

#include "clock.h"
#include "diag.h"
#include "file.h"
#include "history.h"
#include "restore.h"

#define DEFAULT_URL "tcp://127.0.0.1:7400"

enum { EXIT_DONE = 0, EXIT_MISMATCH = 1, EXIT_USAGE = 2, EXIT_FAILED = 5 };

static _Noreturn void
usage_error(const char *cmd, const char *msg, const char *arg)
{
	fprintf(stderr, "rillctl %s: ", cmd);
	fprintf(stderr, msg, arg);
	fprintf(stderr, "\nTry 'rillctl --help'.\n");
	exit(EXIT_USAGE);
}

// parse_digits reads a decimal number of 1 to 19 digits from text (and
// nothing else): no sign, no blank, no base prefix.
static bool
parse_digits(const char *text, uint64_t *vp)
{
	size_t   n = strspn(text, "0123456789");
	uint64_t v = 0;

	if (n == 0 || n > 19 || text[n] != '\0') {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (uint64_t) (text[i] - '0');
	}
	*vp = v;
	return true;
}

// parse_time reads RFC 3339 ("2026-11-21T16:00:00Z", optional fraction
// and offset [+-]HH:MM) or "@SECONDS[.FRACTION]" (digits only) into
// microseconds since the epoch, after the epoch.
static bool
parse_time(const char *text, uint64_t *usp)
{
	struct tm   tm = { 0 };
	const char *p;
	uint64_t    frac = 0, scale = 1000000, secs_u;
	long        offset = 0;
	time_t      secs;

	if (text[0] == '@') {
		char   whole[24];
		size_t n = strcspn(text + 1, ".");

		if (n >= sizeof(whole)) {
			return false;
		}
		memcpy(whole, text + 1, n);
		whole[n] = '\0';
		p        = text + 1 + n;
		if (!parse_digits(whole, &secs_u) ||
		    secs_u > (UINT64_MAX - 999999) / 1000000) {
			return false;
		}
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++) {
				if (scale > 1) {
					scale /= 10;
					frac += (uint64_t) (*p - '0') * scale;
				}
			}
		}
		*usp = secs_u * 1000000 + frac;
		return *p == '\0' && *usp > 0;
	}
	if ((p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL) {
		return false;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t) (*p - '0') * scale;
			}
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		// Exactly [+-]HH:MM, HH up to 23 and MM up to 59.
		const char *o = p + 1;
		int         hh, mm;

		if (strspn(o, "0123456789") != 2 || o[2] != ':' ||
		    strspn(o + 3, "0123456789") != 2) {
			return false;
		}
		hh = (o[0] - '0') * 10 + (o[1] - '0');
		mm = (o[3] - '0') * 10 + (o[4] - '0');
		if (hh > 23 || mm > 59) {
			return false;
		}
		offset = (*p == '+' ? 1 : -1) * (hh * 3600L + mm * 60L);
		p      = o + 5;
	} else {
		return false;
	}
	if (*p != '\0' || (secs = timegm(&tm)) == (time_t) -1) {
		return false;
	}
	secs -= offset;
	if (secs <= 0) {
		return false;
	}
	*usp = (uint64_t) secs * 1000000 + frac;
	return true;
}

// parse_num reads a decimal number, at most max, for option what.
static uint64_t
parse_num(const char *cmd, const char *text, const char *what, uint64_t max)
{
	uint64_t v;

	if (!parse_digits(text, &v) || v > max) {
		fprintf(stderr,
		    "rillctl %s: bad number \"%s\" for %s (want 0 to "
		    "%" PRIu64 ")\nTry 'rillctl --help'.\n",
		    cmd, text, what, max);
		exit(EXIT_USAGE);
	}
	return v;
}

// bad_option makes a usage error of the option getopt refused: optopt
// names it when it was a short one (perhaps in a group such as -qx).
static _Noreturn void
bad_option(const char *cmd, int opt, char **argv)
{
	char name[3] = { '-', (char) optopt, '\0' };

	usage_error(cmd,
	    opt == ':' ? "%s needs an argument" : "unknown option %s",
	    optopt != 0 && optopt < 256 ? name : argv[optind - 1]);
}

// show_progress draws one status line on a terminal, at most ten times a
// second.
static void
show_progress(void *arg, const rill_restore_progress *p)
{
	static uint64_t last_ms;
	uint64_t        now = rill_mono_ms();

	(void) arg;
	if (now - last_ms < 100 && strcmp(p->phase, "finish") != 0) {
		return;
	}
	last_ms = now;
	if (p->total > 0) {
		fprintf(stderr,
		    "\r\033[Krestore: %s %" PRIu64 "/%" PRIu64 " (%.0f%%)",
		    p->phase, p->done, p->total,
		    100.0 * (double) p->done / (double) p->total);
	} else {
		fprintf(
		    stderr, "\r\033[Krestore: %s %" PRIu64, p->phase, p->done);
	}
	if (strcmp(p->phase, "finish") == 0) {
		fprintf(stderr, "\r\033[K");
	}
}

static int
exit_for(int rv)
{
	switch (rv) {
	case RILL_OK:
		return EXIT_DONE;
	case RILL_UNAVAILABLE:
	case RILL_DEADLINE_EXCEEDED:
		return 3;
	case RILL_ALREADY_EXISTS:
	case RILL_OUT_OF_RANGE:
	case RILL_NOT_FOUND:
	case RILL_FAILED_PRECONDITION:
	case RILL_INVALID_ARGUMENT:
	case RILL_PERMISSION_DENIED:
	case RILL_UNAUTHENTICATED:
		return 4;
	default:
		return EXIT_FAILED;
	}
}

// json_path returns path as a JSON string value: printable ASCII as is,
// any other byte as \xHH (rillctl's escaped text), so that a path of any
// bytes gives valid JSON. The caller frees it with cJSON_free.
static char *
json_path(const char *path)
{
	static const char digits[] = "0123456789abcdef";
	size_t            n = strlen(path), o = 0;
	char             *text = malloc(4 * n + 1), *out = NULL;
	cJSON            *item;

	if (text == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char) path[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			text[o++] = (char) ch;
		} else {
			text[o++] = '\\';
			text[o++] = 'x';
			text[o++] = digits[ch >> 4];
			text[o++] = digits[ch & 15];
		}
	}
	text[o] = '\0';
	if ((item = cJSON_CreateString(text)) != NULL) {
		out = cJSON_PrintUnformatted(item);
		cJSON_Delete(item);
	}
	free(text);
	return out;
}

static void
print_result(const rill_restore_result *r, bool json, const char *to)
{
	if (json) {
		char *path = json_path(to);
		if (path == NULL) {
			fprintf(stderr, "rillctl restore: out of memory\n");
			exit(EXIT_FAILED);
		}
		printf("{\"to\":%s,\"generation\":\"%016" PRIx64
		       "\",\"parent\":\"%016" PRIx64 "\",\"seq\":%" PRIu64
		       ",\"snapshot_seq\":%" PRIu64 ",\"keys\":%" PRIu64
		       ",\"records\":%" PRIu64 ",\"hash\":\"%016" PRIx64
		       "\"}\n",
		    path, r->generation, r->parent_generation, r->seq,
		    r->snapshot_seq, r->keys, r->records, r->state_hash);
		cJSON_free(path);
		return;
	}
	printf("restored: %s\ngeneration: %016" PRIx64 "\nparent: %016" PRIx64
	       "\nseq: %" PRIu64 "\nsnapshot_seq: %" PRIu64 "\nkeys: %" PRIu64
	       "\nrecords: %" PRIu64 "\nhash: %016" PRIx64 "\n",
	    to, r->generation, r->parent_generation, r->seq, r->snapshot_seq,
	    r->keys, r->records, r->state_hash);
}

int
rillctl_restore(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 'o' },
		{ "seq", required_argument, NULL, 's' },
		{ "time", required_argument, NULL, 'T' },
		{ "generation", required_argument, NULL, 'g' },
		{ "timeout", required_argument, NULL, 't' },
		{ "token", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	rill_restore_options o = { .auth_token = getenv("RILL_TOKEN") };
	rill_restore_result  r;
	bool                 json = false, quiet = false;
	int                  opt, rv;

	rill_diag_set_level(RILL_DIAG_WARN);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(
	            argc, argv, ":f:o:s:T:g:t:k:jq", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			o.from = optarg;
			break;
		case 'o':
			o.to = optarg;
			break;
		case 's':
			o.has_seq = true;
			o.seq     = parse_num(
			        "restore", optarg, "--seq", UINT64_MAX - 1);
			break;
		case 'T':
			o.has_time = true;
			if (!parse_time(optarg, &o.time_us)) {
				usage_error("restore",
				    "bad time \"%s\" (want RFC 3339, as "
				    "2026-11-21T16:00:00Z, or @UNIX_SECONDS)",
				    optarg);
			}
			break;
		case 'g':
			if (strlen(optarg) != 16 ||
			    strspn(optarg, "0123456789abcdef") != 16) {
				usage_error("restore",
				    "bad generation \"%s\" (want 16 lowercase "
				    "hex digits)",
				    optarg);
			}
			o.generation = strtoull(optarg, NULL, 16);
			break;
		case 't':
			o.timeout_ms = (uint32_t) parse_num(
			    "restore", optarg, "--timeout", INT32_MAX);
			break;
		case 'k':
			o.auth_token = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			bad_option("restore", opt, argv);
		}
	}
	if (optind != argc) {
		usage_error("restore", "unexpected argument %s", argv[optind]);
	}
	if (o.from == NULL || o.to == NULL) {
		usage_error("restore", "%s", "--from and --to are required");
	}
	if (o.has_seq && o.has_time) {
		usage_error("restore", "%s", "give --seq or --time, not both");
	}
	if (!quiet && isatty(STDERR_FILENO)) {
		o.progress = show_progress;
	}
	rv = rill_restore(&o, &r);
	if (rv != RILL_OK) {
		fprintf(stderr, "rillctl restore: failed: %s (see above)\n",
		    rill_strerror(rv));
		return exit_for(rv);
	}
	print_result(&r, json, o.to);
	return EXIT_DONE;
}

int
rillctl_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backup", required_argument, NULL, 'b' },
		{ "url", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ "token", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	rill_restore_options o = { .auth_token = getenv("RILL_TOKEN") };
	rill_restore_result  r;
	const char          *url    = getenv("RILL_URL");
	bool                 json   = false;
	char                 tmpl[] = "/tmp/rill-validate-XXXXXX";
	char                 to[sizeof(tmpl) + 16];
	char                 gen[17];
	uint64_t             seq, hash;
	int                  opt, rv;

	rill_diag_set_level(RILL_DIAG_WARN);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":b:u:t:k:j", longopts, NULL)) !=
	    -1) {
		switch (opt) {
		case 'b':
			o.from = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 't':
			o.timeout_ms = (uint32_t) parse_num(
			    "validate", optarg, "--timeout", INT32_MAX);
			break;
		case 'k':
			o.auth_token = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			bad_option("validate", opt, argv);
		}
	}
	if (optind != argc || o.from == NULL) {
		usage_error("validate", "%s", "usage: validate --backup DIR");
	}
	if (url == NULL || url[0] == '\0') {
		url = DEFAULT_URL;
	}
	// Every file of the backup, not only those the newest state needs:
	// each is a point-in-time restore's.
	uint64_t files = 0;
	if ((rv = rill_history_verify(o.from, false, &files)) != RILL_OK) {
		fprintf(stderr,
		    "rillctl validate: FAILED: the backup %s holds a damaged "
		    "file (see above): %s\n",
		    o.from, rill_strerror(rv));
		return rv == RILL_ECORRUPT || rv == RILL_EVERSION
		    ? EXIT_MISMATCH
		    : exit_for(rv);
	}
	if (files == 0) {
		fprintf(stderr,
		    "rillctl validate: FAILED: %s holds no backup "
		    "(no generations/ with files)\n",
		    o.from);
		return EXIT_MISMATCH;
	}
	// The node's hash first: the restore then catches up to its seq.
	if ((rv = rill_restore_node_hash(url, o.auth_token, o.timeout_ms, gen,
	         &seq, &hash)) != RILL_OK) {
		fprintf(stderr,
		    "rillctl validate: cannot get the hash of %s: "
		    "%s\n",
		    url, rill_strerror(rv));
		return exit_for(rv);
	}
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr,
		    "rillctl validate: cannot make a temporary "
		    "directory: %s\n",
		    strerror(errno));
		return EXIT_FAILED;
	}
	snprintf(to, sizeof(to), "%s/data", tmpl);
	o.to           = to;
	o.catch_up_url = url;
	o.catch_up_seq = seq;
	rv             = rill_restore(&o, &r);
	// The restored copy has served its purpose.
	rill_remove_tree(tmpl);
	if (rv != RILL_OK) {
		fprintf(stderr,
		    "rillctl validate: FAILED: the backup %s does not "
		    "restore: "
		    "%s (see above)\n",
		    o.from, rill_strerror(rv));
		return rv == RILL_ECORRUPT ? EXIT_MISMATCH : exit_for(rv);
	}
	bool ok = r.seq == seq && r.state_hash == hash;
	if (json) {
		printf("{\"valid\":%s,\"seq\":%" PRIu64
		       ",\"backup_hash\":\"%016" PRIx64
		       "\",\"node_hash\":\"%016" PRIx64
		       "\",\"snapshot_seq\":%" PRIu64 ",\"records\":%" PRIu64
		       "}\n",
		    ok ? "true" : "false", r.seq, r.state_hash, hash,
		    r.snapshot_seq, r.records);
	} else {
		printf("%s: backup at seq %" PRIu64 " (snapshot %" PRIu64
		       " + %" PRIu64 " records) hashes to %016" PRIx64
		       ", node %s at seq %" PRIu64 " to %016" PRIx64 "\n",
		    ok ? "valid" : "MISMATCH", r.seq, r.snapshot_seq,
		    r.records, r.state_hash, url, seq, hash);
	}
	return ok ? EXIT_DONE : EXIT_MISMATCH;
}
