// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// watch: a stream of the changes committed after a seq, read from a
// node's log with FetchLog long-polls. The position after_seq moves only
// when a whole page of records has been taken in, and every fetch asks
// for the records after it, so a lost connection, a restart or a move to
// another node (all retried inside the call, see client.c) neither skips
// nor repeats a change. A record's batch is decoded when the caller
// reaches it and its ops handed out in order.
//
// A position is a seq in a history, so the watch also keeps the
// generation its records came from and names it in each fetch (the
// first one asks for "": the node's history). A node whose history goes
// on in a child generation from exactly the watch's position says so, and
// the watch follows it there. A node whose history left that generation
// before the position (a failover lost the changes after the fork, or the
// node re-bootstrapped onto the new history) ends the watch with
// RILL_FAILED_PRECONDITION and the fork seq: changes it returned were
// taken back. A node that does not hold the generation at all is waited
// for, or another one read (client.c).
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "client.h"

// WATCH_WAIT_MS: how long a fetch asks the node to hold it when nothing
// is new.
#define WATCH_WAIT_MS 1000
// TRANSIENT_PAUSE_MS: the pause after a fetch that failed at once.
#define TRANSIENT_PAUSE_MS 50

struct rill_watch {
	rill_client  *client;
	rill_callopts co; // the read preference of every fetch
	uint8_t      *prefix;
	size_t        prefix_len;
	// after_seq: every record up to it has been taken from a page;
	// position: every change up to it has been returned.
	uint64_t after_seq;
	uint64_t position;
	// gen: the generation the records up to after_seq came from (16 hex
	// digits), "" until a node said; fork_seq: where the history left
	// it, once the watch ended for that.
	char     gen[17];
	uint64_t fork_seq;
	// The page being read: page->fetch_log->records[rec] is next.
	Rill__V1__Response *page;
	size_t              rec;
	// The batch being handed out: batch->ops[op] is next.
	Rill__V1__Batch *batch;
	size_t           op;
	uint64_t         batch_seq;
	uint64_t         batch_time_us;
	int              error; // final: returned from then on
	char             error_msg[RILL__MSG_MAX];
};

// fetch_result is what the details of a failed fetch said.
typedef struct fetch_result {
	uint64_t oldest_seq; // OUT_OF_RANGE: the node's details
	uint64_t snapshot_seq;
	uint64_t fork_seq;     // FAILED_PRECONDITION: the fork, and the
	char     next_gen[17]; // generation that goes on from it
} fetch_result;

typedef struct fetch_call {
	rill__waiter        w;
	Rill__V1__Response *resp;
	fetch_result        res;
} fetch_call;

// MAX_GEN_MOVES bounds the generation boundaries one fetch crosses.
#define MAX_GEN_MOVES 8

int
rill_watch_open(
    rill_client *client, const rill_watch_opts *opts, rill_watch **watchp)
{
	rill_watch_opts  none = { 0 };
	rill_node_status st;
	rill_watch      *w;
	int              rv;

	if (client == NULL || watchp == NULL) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "client and watchp must not be NULL");
	}
	if (opts == NULL) {
		opts = &none;
	}
	if (opts->prefix == NULL && opts->prefix_len > 0) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "the prefix is NULL with a length of %zu",
		    opts->prefix_len);
	}
	if ((int) opts->read_preference < RILL_READ_DEFAULT ||
	    (int) opts->read_preference > RILL_READ_ANY) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "read_preference %d is not a rill_read_preference",
		    (int) opts->read_preference);
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->prefix = malloc(opts->prefix_len + 1)) == NULL) {
		free(w);
		return rill__fail(RILL_ENOMEM, "out of memory");
	}
	if (opts->prefix_len > 0) {
		memcpy(w->prefix, opts->prefix, opts->prefix_len);
	}
	w->prefix_len         = opts->prefix_len;
	w->client             = client;
	w->co.read_preference = opts->read_preference;
	w->after_seq          = opts->after_seq;
	if (opts->after_seq == RILL_WATCH_FROM_NOW) {
		if ((rv = rill_status(client, &st, &w->co)) != RILL_OK) {
			rill_watch_close(w);
			return rv;
		}
		w->after_seq = st.last_seq;
		if (rill__parse_gen(st.generation) != 0) {
			memcpy(w->gen, st.generation, sizeof(w->gen));
		}
	}
	w->position = w->after_seq;
	*watchp     = w;
	return RILL_OK;
}

void
rill_watch_close(rill_watch *watch)
{
	if (watch == NULL) {
		return;
	}
	if (watch->batch != NULL) {
		rill__v1__batch__free_unpacked(watch->batch, NULL);
	}
	if (watch->page != NULL) {
		rill__v1__response__free_unpacked(watch->page, NULL);
	}
	free(watch->prefix);
	free(watch);
}

uint64_t
rill_watch_seq(const rill_watch *watch)
{
	return watch != NULL ? watch->position : 0;
}

uint64_t
rill_watch_fork_seq(const rill_watch *watch)
{
	return watch != NULL ? watch->fork_seq : 0;
}

// matches tells whether op's key is under the watch's prefix.
static bool
matches(const rill_watch *w, const Rill__V1__Op *op)
{
	return op->key.len >= w->prefix_len &&
	    (w->prefix_len == 0 ||
	        memcmp(op->key.data, w->prefix, w->prefix_len) == 0);
}

// skip_unmatched moves the batch cursor past ops outside the prefix; at
// the batch's end, the position reaches its seq.
static void
skip_unmatched(rill_watch *w)
{
	while (w->op < w->batch->n_ops && !matches(w, w->batch->ops[w->op])) {
		w->op++;
	}
	if (w->op == w->batch->n_ops) {
		w->position = w->batch_seq;
	}
}

// take_change fills *ch with the next op of the batch and returns true,
// or returns false when the batch has no more (or there is none).
static bool
take_change(rill_watch *w, rill_change *ch)
{
	const Rill__V1__Op *op;

	if (w->batch == NULL) {
		return false;
	}
	skip_unmatched(w);
	if (w->op == w->batch->n_ops) {
		return false;
	}
	op = w->batch->ops[w->op++];
	memset(ch, 0, sizeof(*ch));
	ch->seq     = w->batch_seq;
	ch->time_us = w->batch_time_us;
	ch->key     = op->key.len > 0 ? (const void *) op->key.data : "";
	ch->key_len = op->key.len;
	if (op->type == RILL__V1__OP__TYPE__DELETE) {
		ch->type = RILL_CHANGE_DELETE;
	} else {
		ch->type = RILL_CHANGE_PUT;
		ch->value =
		    op->value.len > 0 ? (const void *) op->value.data : "";
		ch->value_len = op->value.len;
	}
	skip_unmatched(w);
	return true;
}

// fail_final makes code the watch's final answer, with the message built
// from fmt, and returns it.
static int fail_final(rill_watch *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail_final(rill_watch *w, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->error_msg, sizeof(w->error_msg), fmt, ap);
	va_end(ap);
	w->error = code;
	rill__set_last_message(w->error_msg);
	return code;
}

// next_record decodes the page's next record into the batch. Returns
// RILL_OK, RILL_NOT_FOUND when the page is used up, or a final failure.
static int
next_record(rill_watch *w)
{
	const Rill__V1__FetchLogResponse *fl;
	const Rill__V1__LogRecord        *r;

	if (w->batch != NULL) {
		rill__v1__batch__free_unpacked(w->batch, NULL);
		w->batch = NULL;
	}
	if (w->page == NULL) {
		return RILL_NOT_FOUND;
	}
	fl = w->page->fetch_log;
	while (w->rec < fl->n_records) {
		r = fl->records[w->rec++];
		if (r->seq <= w->after_seq) {
			continue; // already taken: never twice
		}
		if (r->seq != w->after_seq + 1) {
			return fail_final(w, RILL_EPROTO,
			    "watch: the node sent seq %" PRIu64
			    " after seq %" PRIu64 ": records are missing",
			    r->seq, w->after_seq);
		}
		w->after_seq = r->seq;
		w->batch =
		    rill__v1__batch__unpack(NULL, r->batch.len, r->batch.data);
		if (w->batch == NULL) {
			return fail_final(w, RILL_EPROTO,
			    "watch: the batch of seq %" PRIu64
			    " cannot be decoded",
			    r->seq);
		}
		w->batch_seq     = r->seq;
		w->batch_time_us = r->time_us;
		w->op            = 0;
		return RILL_OK;
	}
	rill__v1__response__free_unpacked(w->page, NULL);
	w->page = NULL;
	return RILL_NOT_FOUND;
}

// fetch_done takes an OK page from the reply, or the details of an
// OUT_OF_RANGE, and wakes fetch.
static void
fetch_done(const rill__completion *comp, rill__outcome *out)
{
	fetch_call *f = comp->arg;

	if (out->code == RILL_OK) {
		f->resp   = out->resp;
		out->resp = NULL;
	} else if (out->resp != NULL && out->resp->details != NULL) {
		const Rill__V1__Details *d = out->resp->details;
		f->res.oldest_seq          = d->oldest_seq;
		f->res.snapshot_seq        = d->snapshot_seq;
		if (out->code == RILL_FAILED_PRECONDITION &&
		    !d->generation_unknown &&
		    rill__parse_gen(d->generation) != 0) {
			f->res.fork_seq = d->fork_seq;
			memcpy(f->res.next_gen, d->generation,
			    sizeof(f->res.next_gen));
		}
	}
	rill__waiter_wake(&f->w, out->code, out->message);
}

// fetch_once asks for the records after the position in the watch's
// generation, letting the node wait up to wait_ms for one; deadline_ms
// bounds the call (0: the handle's). Blocks. Returns the call's code; on
// RILL_OK the page is the watch's; after a failure *res holds what the
// node's details said.
static int
fetch_once(
    rill_watch *w, fetch_result *res, uint32_t wait_ms, uint32_t deadline_ms)
{
	Rill__V1__Request         req  = RILL__V1__REQUEST__INIT;
	Rill__V1__FetchLogRequest fl   = RILL__V1__FETCH_LOG_REQUEST__INIT;
	fetch_call                f    = { .resp = NULL };
	rill__completion          comp = { .fn = fetch_done, .arg = &f };
	rill_callopts             co   = w->co;
	int                       rv;

	*res           = f.res;
	fl.generation  = w->gen;
	fl.after_seq   = w->after_seq;
	fl.wait_ms     = wait_ms;
	req.body_case  = RILL__V1__REQUEST__BODY_FETCH_LOG;
	req.fetch_log  = &fl;
	co.deadline_ms = deadline_ms;
	rill__waiter_init(&f.w);
	if ((rv = rill__call_start(w->client, &req,
	         RILL__V1__RESPONSE__BODY_FETCH_LOG, &co, &comp)) != RILL_OK) {
		rill__waiter_fini(&f.w);
		return rv;
	}
	rv   = rill__waiter_wait(&f.w);
	*res = f.res;
	if (rv == RILL_OK) {
		w->page = f.resp;
		w->rec  = 0;
		if (rill__parse_gen(f.resp->fetch_log->generation) != 0) {
			memcpy(w->gen, f.resp->fetch_log->generation,
			    sizeof(w->gen));
		}
	}
	return rv;
}

// fetch is fetch_once, following the history into child generations
// that go on from the position, and judging the answers that end the
// watch.
static int
fetch(rill_watch *w, uint32_t wait_ms, uint32_t deadline_ms)
{
	fetch_result f;
	int          rv;

	for (int moves = 0;; moves++) {
		rv = fetch_once(w, &f, wait_ms, deadline_ms);
		if (rv != RILL_FAILED_PRECONDITION || f.next_gen[0] == '\0' ||
		    f.fork_seq > w->after_seq) {
			break;
		}
		if (f.fork_seq < w->after_seq) {
			w->fork_seq = f.fork_seq;
			return fail_final(w, rv,
			    "watch: the history left generation %s at seq "
			    "%" PRIu64
			    ", before this watch's position %" PRIu64
			    ": the changes after seq %" PRIu64
			    " it returned were taken back (lost in a "
			    "failover); start again from a full read",
			    w->gen, f.fork_seq, w->after_seq, f.fork_seq);
		}
		if (moves == MAX_GEN_MOVES) {
			return fail_final(w, RILL_EPROTO,
			    "watch: more than %d generations end at seq "
			    "%" PRIu64,
			    MAX_GEN_MOVES, w->after_seq);
		}
		// The generation ends at the position: go on in its child.
		memcpy(w->gen, f.next_gen, sizeof(w->gen));
	}
	if (rv == RILL_OUT_OF_RANGE) {
		return fail_final(w, rv,
		    "watch: the changes after seq %" PRIu64
		    " are no longer held: the oldest seq retained is %" PRIu64
		    " (the newest snapshot is at seq %" PRIu64
		    "); start again from a full read",
		    w->after_seq, f.oldest_seq, f.snapshot_seq);
	}
	return rv;
}

// transient tells whether a failed fetch may work when tried again.
static bool
transient(int code)
{
	switch (code) {
	case RILL_UNAVAILABLE:
	case RILL_DEADLINE_EXCEEDED:
	case RILL_ABORTED:
	case RILL_INTERNAL:
	case RILL_UNKNOWN:
		return true;
	default:
		return false;
	}
}

int
rill_watch_next(rill_watch *watch, rill_change *change, uint32_t timeout_ms)
{
	nng_time start              = nng_clock(), now;
	char     why[RILL__MSG_MAX] = "";
	bool     fetched            = false;
	int      rv;

	if (watch == NULL || change == NULL) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "watch and change must not be NULL");
	}
	if (watch->error != RILL_OK) {
		return rill__fail(watch->error, "%s", watch->error_msg);
	}
	for (;;) {
		if (take_change(watch, change)) {
			return RILL_OK;
		}
		if ((rv = next_record(watch)) == RILL_OK) {
			continue;
		}
		if (rv != RILL_NOT_FOUND) {
			return rv;
		}
		now = nng_clock();
		if ((timeout_ms == 0 && fetched) ||
		    (timeout_ms > 0 && now - start >= timeout_ms)) {
			return rill__fail(RILL_DEADLINE_EXCEEDED,
			    "watch: no change after seq %" PRIu64
			    " within %" PRIu32 " ms%s%s",
			    watch->after_seq, timeout_ms,
			    why[0] ? "; last: " : "", why);
		}
		if (timeout_ms == 0) {
			rv = fetch(watch, 0, 0);
		} else {
			uint32_t left = timeout_ms - (uint32_t) (now - start);
			rv            = fetch(watch,
                            left < WATCH_WAIT_MS ? left : WATCH_WAIT_MS, left);
		}
		fetched = true;
		if (rv == RILL_OK) {
			continue;
		}
		if (!transient(rv) || watch->error != RILL_OK) {
			if (watch->error == RILL_OK) {
				fail_final(
				    watch, rv, "%s", rill_last_message());
			}
			return rv;
		}
		snprintf(why, sizeof(why), "%s", rill_last_message());
		if (nng_clock() - now < TRANSIENT_PAUSE_MS) {
			nng_msleep(TRANSIENT_PAUSE_MS);
		}
	}
}
