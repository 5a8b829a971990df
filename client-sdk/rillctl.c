// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// rillctl: rill's command-line client, a thin wrapper of librill for the
// shell. It parses one command, runs it with the sync API, prints the
// result as text or JSON, and maps the status code to an exit code. Keys
// and values cross the shell as escaped text (or hex), so any bytes round
// trip: what it prints, it accepts.
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <rill/rill.h>

#include "rillctl_history.h"

#define DEFAULT_URL "tcp://127.0.0.1:7400"

// Exit codes, documented in usage().
enum {
	EXIT_DONE        = 0,
	EXIT_NOT_FOUND   = 1,
	EXIT_USAGE       = 2,
	EXIT_UNAVAILABLE = 3,
	EXIT_REJECTED    = 4,
	EXIT_OTHER       = 5,
};

typedef struct bytes {
	char  *p;
	size_t n;
} bytes;

typedef struct cli {
	const char *url;
	const char *token; // sent with each call (NULL: none)
	bool        json;
	bool        hex;
	uint32_t    timeout_ms; // 0: the SDK's default deadline
	bool        scan_opts;  // a scan-only option was given
	const char *prefix;
	uint64_t    limit;
	bool        reverse;
	// read: where reads, status and watch go (rillctl's default is any:
	// the first endpoint given that answers).
	rill_read_preference read;
	bool                 watch_opts; // a watch-only option was given
	bool                 has_from;
	uint64_t             from;
	uint64_t             count;    // 0: no bound
	uint32_t             watch_ms; // 0: no bound
} cli;

// usage prints the help, which documents every command, option, format
// and exit code.
static void
usage(FILE *f)
{
	fputs(
	    "usage: rillctl [options] COMMAND [ARGS]\n"
	    "\n"
	    "Commands:\n"
	    "  put KEY VALUE               store VALUE under KEY\n"
	    "  get KEY                     print the value of KEY\n"
	    "  del KEY                     delete KEY (a missing key is "
	    "fine)\n"
	    "  scan [START [END]]          list the keys in [START, END)\n"
	    "  status                      describe the node (a follower "
	    "also\n"
	    "                              names its leader, lag and "
	    "bootstraps)\n"
	    "  watch                       print each change as it is "
	    "committed\n"
	    "      [--from SEQ]            the changes after SEQ (default: "
	    "from now)\n"
	    "      [--prefix P]            only keys starting with P\n"
	    "      [--count N]             stop after N changes\n"
	    "      [--timeout-ms T]        stop after T ms (exit 0; exit 3 "
	    "if\n"
	    "                              --count was not reached)\n"
	    "\n"
	    "History commands (first on the line, with their own options):\n"
	    "  restore --from SRC --to DIR [--seq N | --time T]\n"
	    "          [--generation ID] [--token TOKEN] [--timeout MS]\n"
	    "          [--json] [--quiet]\n"
	    "      build a new data dir DIR holding exactly the state at seq\n"
	    "      N, or at time T (RFC 3339 or @UNIX_SECONDS), or the "
	    "newest\n"
	    "      state; SRC is a data dir, a backup dir or a node's URL.\n"
	    "      DIR must not exist. rilld can start on the result.\n"
	    "  validate --backup DIR [--url URL] [--token TOKEN]\n"
	    "           [--timeout MS] [--json]\n"
	    "      check every file of the backup, restore its newest state\n"
	    "      into a temporary dir, catch up with the node's log and\n"
	    "      compare the state hash with the node's at the same seq;\n"
	    "      exit 0 when they match, 1 when they differ or the backup\n"
	    "      is damaged.\n"
	    "\n"
	    "Options (anywhere on the line; \"--\" ends them):\n"
	    "  -u, --url URL[,URL...]      server endpoints (default: "
	    "$RILL_URL,\n"
	    "                              else " DEFAULT_URL ")\n"
	    "  -t, --timeout MS            deadline of each call, retries\n"
	    "                              included (default 10000)\n"
	    "  -k, --token TOKEN           the auth token sent with each "
	    "call,\n"
	    "                              for a server with rpc_tokens "
	    "(default:\n"
	    "                              $RILL_TOKEN; the variable keeps "
	    "it out\n"
	    "                              of the process list)\n"
	    "  -j, --json                  print JSON instead of text\n"
	    "  -x, --hex                   keys and values in hex, in and "
	    "out\n"
	    "  -p, --prefix P              scan, watch: only keys starting "
	    "with P\n"
	    "  -l, --limit N               scan: at most N entries\n"
	    "  -r, --reverse               scan: from the highest key down\n"
	    "      --read leader|follower|any\n"
	    "                              where get, scan, status and watch "
	    "go\n"
	    "                              (default any: the first URL that\n"
	    "                              answers; writes always go to the\n"
	    "                              leader, found from any of them)\n"
	    "  -h, --help                  print this help\n"
	    "  -V, --version               print the version\n"
	    "\n"
	    "Keys and values are escaped text: \\n, \\t, \\\\ and \\xHH (two "
	    "hex\n"
	    "digits) stand for their bytes, every other byte for itself. "
	    "Output\n"
	    "uses the same form: printable ASCII as is, \\n, \\t, \\\\, and "
	    "\\xHH\n"
	    "for every other byte, so what rillctl prints it also accepts.\n"
	    "With --hex, keys and values are hex digits both ways.\n"
	    "\n"
	    "Output: get prints the value and a newline; put and del print\n"
	    "\"seq: N\" (the seq the write was committed at); scan prints "
	    "one\n"
	    "KEY<TAB>VALUE line per entry; status prints \"field: value\" "
	    "lines;\n"
	    "watch prints one SEQ<TAB>put<TAB>KEY<TAB>VALUE or "
	    "SEQ<TAB>del<TAB>KEY\n"
	    "line per change, as it comes.\n"
	    "With --json: get prints {\"key\":K,\"value\":V,\"found\":true} "
	    "(or\n"
	    "{\"key\":K,\"found\":false}), put and del {\"seq\":N}, scan one\n"
	    "array of {\"key\":K,\"value\":V}, status an object of every "
	    "field,\n"
	    "watch one object per line: {\"seq\":N,\"op\":\"put\",\"key\":K,"
	    "\"value\":V}\n"
	    "or {\"seq\":N,\"op\":\"del\",\"key\":K}.\n"
	    "Keys and values in JSON are strings holding the escaped text\n"
	    "above (or hex), JSON-escaped in turn: the byte 0 is "
	    "\"\\\\x00\".\n"
	    "\n"
	    "Exit status: 0 done; 1 key not found (get); 2 usage error;\n"
	    "3 server unreachable or deadline exceeded; 4 request rejected "
	    "by\n"
	    "the server (invalid argument, over a limit, not the leader, a "
	    "watch\n"
	    "position no longer held, ...); 5 any other failure.\n"
	    "Errors go to stderr as \"rillctl: MESSAGE\".\n",
	    f);
}

// die_usage prints "rillctl: " and the message (fmt takes one string),
// then the usage, and exits 2.
static _Noreturn void
die_usage(const char *fmt, const char *arg)
{
	fputs("rillctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n\n", stderr);
	usage(stderr);
	exit(EXIT_USAGE);
}

// die_oom reports an allocation failure and exits 5.
static _Noreturn void
die_oom(void)
{
	fputs("rillctl: out of memory\n", stderr);
	exit(EXIT_OTHER);
}

// exit_code maps a status code to rillctl's exit status.
static int
exit_code(int code)
{
	switch (code) {
	case RILL_OK:
		return EXIT_DONE;
	case RILL_NOT_FOUND:
		return EXIT_NOT_FOUND;
	case RILL_UNAVAILABLE:
	case RILL_DEADLINE_EXCEEDED:
	case RILL_CANCELLED:
		return EXIT_UNAVAILABLE;
	case RILL_INVALID_ARGUMENT:
	case RILL_RESOURCE_EXHAUSTED:
	case RILL_FAILED_PRECONDITION:
	case RILL_OUT_OF_RANGE:
	case RILL_ALREADY_EXISTS:
	case RILL_PERMISSION_DENIED:
	case RILL_UNAUTHENTICATED:
	case RILL_NOT_LEADER:
		return EXIT_REJECTED;
	default:
		return EXIT_OTHER;
	}
}

// fail prints the last SDK message and returns the exit code for code.
static int
fail(int code)
{
	const char *msg = rill_last_message();

	fprintf(stderr, "rillctl: %s (%s)\n",
	    msg[0] ? msg : rill_strerror(code), rill_status_name(code));
	return exit_code(code);
}

// hex_digit returns the value of a hex digit, or -1.
static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

// decode turns a command-line argument into bytes, from escaped text or
// hex; a malformed one is a usage error (exit 2).
static bytes
decode(const cli *c, const char *arg, const char *what)
{
	size_t len = strlen(arg);
	bytes  b   = { .p = malloc(len + 1), .n = 0 };
	int    hi, lo;

	if (b.p == NULL) {
		die_oom();
	}
	for (size_t i = 0; i < len;) {
		if (c->hex) {
			if (i + 1 >= len || (hi = hex_digit(arg[i])) < 0 ||
			    (lo = hex_digit(arg[i + 1])) < 0) {
				die_usage("%s is not an even number of hex "
				          "digits",
				    what);
			}
			b.p[b.n++] = (char) (hi << 4 | lo);
			i += 2;
			continue;
		}
		if (arg[i] != '\\') {
			b.p[b.n++] = arg[i++];
			continue;
		}
		switch (i + 1 < len ? arg[i + 1] : '\0') {
		case 'n':
			b.p[b.n++] = '\n';
			i += 2;
			break;
		case 't':
			b.p[b.n++] = '\t';
			i += 2;
			break;
		case '\\':
			b.p[b.n++] = '\\';
			i += 2;
			break;
		case 'x':
			if (i + 3 >= len || (hi = hex_digit(arg[i + 2])) < 0 ||
			    (lo = hex_digit(arg[i + 3])) < 0) {
				die_usage(
				    "%s: \\x needs two hex digits", what);
			}
			b.p[b.n++] = (char) (hi << 4 | lo);
			i += 4;
			break;
		default:
			die_usage("%s: unknown escape (use \\n, \\t, \\\\ or "
			          "\\xHH)",
			    what);
		}
	}
	return b;
}

// encode returns p[0..n) as escaped text or hex, NUL-terminated; the
// caller frees it.
static char *
encode(const cli *c, const void *p, size_t n)
{
	static const char    digits[] = "0123456789abcdef";
	const unsigned char *s        = p;
	char                *out      = malloc(4 * n + 1);
	size_t               o        = 0;

	if (out == NULL) {
		die_oom();
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = s[i];
		if (c->hex) {
			out[o++] = digits[ch >> 4];
			out[o++] = digits[ch & 15];
		} else if (ch == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (ch == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (ch == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (ch >= 0x20 && ch < 0x7f) {
			out[o++] = (char) ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = digits[ch >> 4];
			out[o++] = digits[ch & 15];
		}
	}
	out[o] = '\0';
	return out;
}

// print_json prints item on one line and frees it.
static void
print_json(cJSON *item)
{
	char *s;

	if (item == NULL || (s = cJSON_PrintUnformatted(item)) == NULL) {
		die_oom();
	}
	puts(s);
	cJSON_free(s);
	cJSON_Delete(item);
}

// add_u64 adds name: v to obj as an exact JSON integer.
static void
add_u64(cJSON *obj, const char *name, uint64_t v)
{
	char buf[24];

	// Raw, not a double: a seq past 2^53 stays exact.
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (cJSON_AddRawToObject(obj, name, buf) == NULL) {
		die_oom();
	}
}

// add_str adds name: s to obj and frees s.
static void
add_str(cJSON *obj, const char *name, char *s)
{
	if (cJSON_AddStringToObject(obj, name, s) == NULL) {
		die_oom();
	}
	free(s);
}

// cmd_get prints the value of key; exit 1 when it is missing.
static int
cmd_get(const cli *c, rill_client *client, bytes key)
{
	void  *value;
	size_t vlen;
	cJSON *obj;
	char  *s;
	int    rv;

	rv = rill_get(client, key.p, key.n, &value, &vlen, NULL);
	if (rv != RILL_OK && rv != RILL_NOT_FOUND) {
		return fail(rv);
	}
	if (c->json) {
		if ((obj = cJSON_CreateObject()) == NULL) {
			die_oom();
		}
		add_str(obj, "key", encode(c, key.p, key.n));
		if (rv == RILL_OK) {
			add_str(obj, "value", encode(c, value, vlen));
		}
		if (cJSON_AddBoolToObject(obj, "found", rv == RILL_OK) ==
		    NULL) {
			die_oom();
		}
		print_json(obj);
	} else if (rv == RILL_OK) {
		s = encode(c, value, vlen);
		puts(s);
		free(s);
	}
	if (rv == RILL_NOT_FOUND) {
		s = encode(c, key.p, key.n);
		fprintf(stderr, "rillctl: key \"%s\" not found\n", s);
		free(s);
		return EXIT_NOT_FOUND;
	}
	rill_free(value);
	return EXIT_DONE;
}

// print_seq prints the seq a write was committed at.
static int
print_seq(const cli *c, uint64_t seq)
{
	cJSON *obj;

	if (c->json) {
		if ((obj = cJSON_CreateObject()) == NULL) {
			die_oom();
		}
		add_u64(obj, "seq", seq);
		print_json(obj);
	} else {
		printf("seq: %" PRIu64 "\n", seq);
	}
	return EXIT_DONE;
}

// cmd_put stores value under key.
static int
cmd_put(const cli *c, rill_client *client, bytes key, bytes value)
{
	uint64_t seq;
	int      rv;

	if ((rv = rill_put(client, key.p, key.n, value.p, value.n, &seq,
	         NULL)) != RILL_OK) {
		return fail(rv);
	}
	return print_seq(c, seq);
}

// cmd_del deletes key (a missing key is fine).
static int
cmd_del(const cli *c, rill_client *client, bytes key)
{
	uint64_t seq;
	int      rv;

	if ((rv = rill_delete(client, key.p, key.n, &seq, NULL)) != RILL_OK) {
		return fail(rv);
	}
	return print_seq(c, seq);
}

// cmd_scan streams the entries as they come: a scan may be larger than
// memory. JSON output stays one valid array even when the scan fails
// midway (the exit status tells).
static int
cmd_scan(const cli *c, rill_client *client, const bytes *start,
    const bytes *end, const bytes *prefix)
{
	rill_scan_opts so = { .reverse = c->reverse, .limit = c->limit };
	rill_scan     *scan;
	const void    *k, *v;
	size_t         klen, vlen;
	bool           first = true;
	int            rv;

	if (start != NULL) {
		so.start     = start->p;
		so.start_len = start->n;
	}
	if (end != NULL) {
		so.end     = end->p;
		so.end_len = end->n;
	}
	if (prefix != NULL) {
		so.prefix     = prefix->p;
		so.prefix_len = prefix->n;
	}
	if ((rv = rill_scan_open(client, &so, &scan)) != RILL_OK) {
		return fail(rv);
	}
	if (c->json) {
		fputs("[", stdout);
	}
	while (rill_scan_next(scan, &k, &klen, &v, &vlen)) {
		char *ks = encode(c, k, klen);
		char *vs = encode(c, v, vlen);
		if (c->json) {
			cJSON *obj = cJSON_CreateObject();
			char  *s;
			if (obj == NULL) {
				die_oom();
			}
			add_str(obj, "key", ks);
			add_str(obj, "value", vs);
			if ((s = cJSON_PrintUnformatted(obj)) == NULL) {
				die_oom();
			}
			printf("%s%s", first ? "" : ",", s);
			cJSON_free(s);
			cJSON_Delete(obj);
		} else {
			printf("%s\t%s\n", ks, vs);
			free(ks);
			free(vs);
		}
		first = false;
	}
	if (c->json) {
		puts("]");
	}
	rv = rill_scan_error(scan);
	rill_scan_close(scan);
	return rv == RILL_OK ? EXIT_DONE : fail(rv);
}

// cmd_status prints every field of the node's status; as the admin API's
// status, a follower adds what it follows (leader), its lag_records and
// its snapshot downloads (bootstraps).
static int
cmd_status(const cli *c, rill_client *client)
{
	rill_callopts    co = { .read_preference = c->read };
	rill_node_status st;
	cJSON           *obj;
	bool             follower;
	int              rv;

	if ((rv = rill_status(client, &st, &co)) != RILL_OK) {
		return fail(rv);
	}
	follower = strcmp(st.role, "leader") != 0;
	if (!c->json) {
		printf("node_id: %s\nrole: %s\ngeneration: %s\nversion: %s\n"
		       "last_seq: %" PRIu64 "\napplied_seq: %" PRIu64
		       "\noldest_seq: %" PRIu64 "\nuptime_s: %" PRIu64
		       "\nmax_request_bytes: %" PRIu64
		       "\nmax_key_bytes: %" PRIu64
		       "\nmax_value_bytes: %" PRIu64 "\n",
		    st.node_id, st.role, st.generation, st.version,
		    st.last_seq, st.applied_seq, st.oldest_seq, st.uptime_s,
		    st.max_request_bytes, st.max_key_bytes,
		    st.max_value_bytes);
		if (follower) {
			printf("leader: %s\nlag_records: %" PRIu64
			       "\nbootstraps: %" PRIu64 "\n",
			    st.leader, st.lag_records, st.bootstraps);
		}
		return EXIT_DONE;
	}
	if ((obj = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(obj, "node_id", st.node_id) == NULL ||
	    cJSON_AddStringToObject(obj, "role", st.role) == NULL ||
	    cJSON_AddStringToObject(obj, "generation", st.generation) ==
	        NULL ||
	    cJSON_AddStringToObject(obj, "version", st.version) == NULL) {
		die_oom();
	}
	add_u64(obj, "last_seq", st.last_seq);
	add_u64(obj, "applied_seq", st.applied_seq);
	add_u64(obj, "oldest_seq", st.oldest_seq);
	add_u64(obj, "uptime_s", st.uptime_s);
	add_u64(obj, "max_request_bytes", st.max_request_bytes);
	add_u64(obj, "max_key_bytes", st.max_key_bytes);
	add_u64(obj, "max_value_bytes", st.max_value_bytes);
	if (follower) {
		if (cJSON_AddStringToObject(obj, "leader", st.leader) ==
		    NULL) {
			die_oom();
		}
		add_u64(obj, "lag_records", st.lag_records);
		add_u64(obj, "bootstraps", st.bootstraps);
	}
	print_json(obj);
	return EXIT_DONE;
}

// stop_watching is set by SIGINT and SIGTERM: watch ends after the change
// it is printing.
static volatile sig_atomic_t stop_watching;

static void
on_stop_signal(int sig)
{
	(void) sig;
	stop_watching = 1;
}

// now_ms returns the monotonic clock in milliseconds.
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

// print_change prints one change on one line and flushes it, so a pipe
// sees each change as it comes.
static void
print_change(const cli *c, const rill_change *ch)
{
	bool  put = ch->type == RILL_CHANGE_PUT;
	char *ks  = encode(c, ch->key, ch->key_len);
	char *vs  = put ? encode(c, ch->value, ch->value_len) : NULL;

	if (c->json) {
		cJSON *obj = cJSON_CreateObject();
		if (obj == NULL) {
			die_oom();
		}
		add_u64(obj, "seq", ch->seq);
		if (cJSON_AddStringToObject(obj, "op", put ? "put" : "del") ==
		    NULL) {
			die_oom();
		}
		add_str(obj, "key", ks);
		if (put) {
			add_str(obj, "value", vs);
		}
		print_json(obj);
	} else if (put) {
		printf("%" PRIu64 "\tput\t%s\t%s\n", ch->seq, ks, vs);
		free(ks);
		free(vs);
	} else {
		printf("%" PRIu64 "\tdel\t%s\n", ch->seq, ks);
		free(ks);
	}
	fflush(stdout);
}

// cmd_watch prints the changes after --from (default: from now) until
// --count of them, --timeout-ms, or SIGINT/SIGTERM.
static int
cmd_watch(const cli *c, rill_client *client, const bytes *prefix)
{
	rill_watch_opts wo = {
		.after_seq       = c->has_from ? c->from : RILL_WATCH_FROM_NOW,
		.read_preference = c->read,
	};
	struct sigaction sa = { .sa_handler = on_stop_signal };
	rill_watch      *w;
	rill_change      ch;
	uint64_t         start = now_ms(), n = 0;
	int              rv;

	if (prefix != NULL) {
		wo.prefix     = prefix->p;
		wo.prefix_len = prefix->n;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((rv = rill_watch_open(client, &wo, &w)) != RILL_OK) {
		return fail(rv);
	}
	while (!stop_watching && (c->count == 0 || n < c->count)) {
		uint32_t wait    = 500;
		uint64_t elapsed = now_ms() - start;
		if (c->watch_ms > 0) {
			if (elapsed >= c->watch_ms) {
				break;
			}
			if (c->watch_ms - elapsed < wait) {
				wait = (uint32_t) (c->watch_ms - elapsed);
			}
		}
		rv = rill_watch_next(w, &ch, wait);
		if (rv == RILL_DEADLINE_EXCEEDED) {
			continue;
		}
		if (rv != RILL_OK) {
			rill_watch_close(w);
			return fail(rv);
		}
		print_change(c, &ch);
		n++;
	}
	rill_watch_close(w);
	if (!stop_watching && c->count > 0 && n < c->count) {
		fprintf(stderr,
		    "rillctl: %" PRIu64 " of %" PRIu64
		    " changes within %" PRIu32 " ms (%s)\n",
		    n, c->count, c->watch_ms,
		    rill_status_name(RILL_DEADLINE_EXCEEDED));
		return EXIT_UNAVAILABLE;
	}
	return EXIT_DONE;
}

// parse_u64 parses a decimal number up to max for option what; anything
// else is a usage error.
static uint64_t
parse_u64(const char *s, const char *what, uint64_t max)
{
	char              *end;
	unsigned long long v;

	errno = 0;
	v     = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v > max) {
		die_usage("bad number for %s", what);
	}
	return v;
}

// Options with no short form.
enum {
	OPT_READ = 256,
	OPT_FROM,
	OPT_COUNT,
	OPT_TIMEOUT_MS,
};

// parse_read parses --read's argument.
static rill_read_preference
parse_read(const char *s)
{
	if (strcmp(s, "leader") == 0) {
		return RILL_READ_LEADER;
	}
	if (strcmp(s, "follower") == 0) {
		return RILL_READ_FOLLOWER;
	}
	if (strcmp(s, "any") != 0) {
		die_usage(
		    "--read takes leader, follower or any, not \"%s\"", s);
	}
	return RILL_READ_ANY;
}

// option_name names the option getopt just refused: optopt when it was a
// short one (perhaps in a group such as -qx), else the argument itself.
static const char *
option_name(char **argv)
{
	static char name[3] = "-?";

	if (optopt > 0 && optopt < 256) {
		name[1] = (char) optopt;
		return name;
	}
	return argv[optind - 1];
}

// parse_options fills c from argv and returns the index of the first
// operand. GNU getopt moves options after the command to the front.
static int
parse_options(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, OPT_READ },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
		{ "url", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ "token", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "hex", no_argument, NULL, 'x' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'l' },
		{ "reverse", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(
	            argc, argv, ":u:t:k:jxp:l:rhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			c->url = optarg;
			break;
		case 't':
			c->timeout_ms = (uint32_t) parse_u64(
			    optarg, "--timeout", INT32_MAX);
			if (c->timeout_ms == 0) {
				die_usage("%s must be above 0", "--timeout");
			}
			break;
		case 'k':
			c->token = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 'x':
			c->hex = true;
			break;
		case 'p':
			c->prefix = optarg;
			break;
		case OPT_READ:
			c->read = parse_read(optarg);
			break;
		case OPT_FROM:
			c->from = parse_u64(optarg, "--from", UINT64_MAX - 1);
			c->has_from   = true;
			c->watch_opts = true;
			break;
		case OPT_COUNT:
			c->count = parse_u64(optarg, "--count", UINT64_MAX);
			if (c->count == 0) {
				die_usage("%s must be above 0", "--count");
			}
			c->watch_opts = true;
			break;
		case OPT_TIMEOUT_MS:
			c->watch_ms = (uint32_t) parse_u64(
			    optarg, "--timeout-ms", UINT32_MAX);
			if (c->watch_ms == 0) {
				die_usage(
				    "%s must be above 0", "--timeout-ms");
			}
			c->watch_opts = true;
			break;
		case 'l':
			c->limit = parse_u64(optarg, "--limit", UINT64_MAX);
			if (c->limit == 0) {
				die_usage("%s must be above 0", "--limit");
			}
			c->scan_opts = true;
			break;
		case 'r':
			c->reverse   = true;
			c->scan_opts = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_DONE);
		case 'V':
			printf("rillctl %s\n", RILL_VERSION);
			exit(EXIT_DONE);
		case ':':
			die_usage("%s needs an argument", option_name(argv));
		default:
			die_usage("unknown option %s", option_name(argv));
		}
	}
	return optind;
}

// want_args makes a usage error of an operand count outside [min, max].
static void
want_args(int n, int min, int max, const char *cmd)
{
	if (n < min || n > max) {
		die_usage("wrong number of arguments for %s", cmd);
	}
}

int
main(int argc, char **argv)
{
	cli          c = { .url = getenv("RILL_URL"),
		         .token = getenv("RILL_TOKEN"),
		         .read  = RILL_READ_ANY };
	rill_options opts;
	rill_client *client;
	const char  *cmd;
	char       **args;
	int          n, rv;
	bytes        a[2] = { { 0 } }, prefix = { 0 };

	if (argc > 1 &&
	    (strcmp(argv[1], "restore") == 0 ||
	        strcmp(argv[1], "validate") == 0)) {
		for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
			if (strcmp(argv[i], "--help") == 0 ||
			    strcmp(argv[i], "-h") == 0) {
				usage(stdout);
				return EXIT_DONE;
			}
		}
	}
	if (argc > 1 && strcmp(argv[1], "restore") == 0) {
		return rillctl_restore(argc - 1, argv + 1);
	}
	if (argc > 1 && strcmp(argv[1], "validate") == 0) {
		return rillctl_validate(argc - 1, argv + 1);
	}
	args = argv + parse_options(&c, argc, argv);
	n    = (int) (argv + argc - args);
	if (n == 0) {
		die_usage("%s", "no command given");
	}
	cmd = *args++;
	n--;
	if (c.url == NULL || c.url[0] == '\0') {
		c.url = DEFAULT_URL;
	}
	if (strcmp(cmd, "put") == 0) {
		want_args(n, 2, 2, cmd);
	} else if (strcmp(cmd, "get") == 0 || strcmp(cmd, "del") == 0) {
		want_args(n, 1, 1, cmd);
	} else if (strcmp(cmd, "scan") == 0) {
		want_args(n, 0, 2, cmd);
	} else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "watch") == 0) {
		want_args(n, 0, 0, cmd);
	} else {
		die_usage("unknown command \"%s\"", cmd);
	}
	if (c.scan_opts && strcmp(cmd, "scan") != 0) {
		die_usage("--limit and --reverse go with %s", "scan");
	}
	if (c.prefix != NULL && strcmp(cmd, "scan") != 0 &&
	    strcmp(cmd, "watch") != 0) {
		die_usage("--prefix goes with scan and %s", "watch");
	}
	if (c.watch_opts && strcmp(cmd, "watch") != 0) {
		die_usage(
		    "--from, --count and --timeout-ms go with %s", "watch");
	}
	for (int i = 0; i < n; i++) {
		a[i] = decode(&c, args[i],
		    i == 0 ? "the first argument" : "the second argument");
	}
	if (c.prefix != NULL) {
		prefix = decode(&c, c.prefix, "--prefix");
	}

	rill_options_init(&opts);
	if (c.timeout_ms > 0) {
		opts.deadline_ms = c.timeout_ms;
	}
	opts.read_preference = c.read;
	opts.auth_token      = c.token;
	if ((rv = rill_open(&client, c.url, &opts)) != RILL_OK) {
		free(a[0].p);
		free(a[1].p);
		free(prefix.p);
		if (rv != RILL_INVALID_ARGUMENT) {
			return fail(rv);
		}
		// A URL nng refuses is the caller's mistake, like a bad flag.
		fprintf(stderr, "rillctl: %s\n", rill_last_message());
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "put") == 0) {
		rv = cmd_put(&c, client, a[0], a[1]);
	} else if (strcmp(cmd, "get") == 0) {
		rv = cmd_get(&c, client, a[0]);
	} else if (strcmp(cmd, "del") == 0) {
		rv = cmd_del(&c, client, a[0]);
	} else if (strcmp(cmd, "scan") == 0) {
		rv = cmd_scan(&c, client, n > 0 ? &a[0] : NULL,
		    n > 1 ? &a[1] : NULL, c.prefix != NULL ? &prefix : NULL);
	} else if (strcmp(cmd, "watch") == 0) {
		rv = cmd_watch(&c, client, c.prefix != NULL ? &prefix : NULL);
	} else {
		rv = cmd_status(&c, client);
	}
	rill_close(client);
	free(a[0].p);
	free(a[1].p);
	free(prefix.p);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("rillctl: cannot write the output\n", stderr);
		return EXIT_OTHER;
	}
	return rv;
}
