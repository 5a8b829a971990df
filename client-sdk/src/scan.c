// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// scan: a range read as a series of Scan RPCs, one page each, fetched as
// rill_scan_next needs them. Each page resumes after the last key the
// previous page returned: forward, start = that key with start_after set;
// reverse, end = that key (end is exclusive) and start as given. A page
// that fails and is retried asks from the same key, so every key in the
// range comes out once, in order. The total limit is kept here too. Each
// page asks for at least the seq the page before was served at (and the
// caller's min_seq), so a scan that moves to another node, a follower
// behind the first, does not go back in time.
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct rill_scan {
	rill_client  *client;
	rill_callopts co;
	uint8_t      *start, *end, *prefix; // copies of the options' bounds
	size_t        start_len, end_len, prefix_len;
	bool          reverse;
	uint64_t      limit;
	uint32_t      page_size;
	// The page being read: page->scan->entries[pos] is the next entry.
	Rill__V1__Response *page;
	size_t              pos;
	bool                more; // the range holds entries after this page
	// resume is the key to go on from: the last key returned.
	uint8_t *resume;
	size_t   resume_len;
	bool     resuming;
	uint64_t n_returned;
	uint64_t min_seq; // what the next page must be served at or after
	int      error;
};

typedef struct page_call {
	rill__waiter        w;
	Rill__V1__Response *resp;
} page_call;

// dup_bytes copies src[0..len) into a new allocation (never NULL, even
// for len 0).
static int
dup_bytes(uint8_t **dstp, size_t *lenp, const void *src, size_t len)
{
	uint8_t *dst;

	if (src == NULL && len > 0) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "a scan bound is NULL with a length above 0");
	}
	if ((dst = malloc(len > 0 ? len : 1)) == NULL) {
		return rill__fail(RILL_ENOMEM, "out of memory");
	}
	if (len > 0) {
		memcpy(dst, src, len);
	}
	*dstp = dst;
	*lenp = len;
	return RILL_OK;
}

// bytes wraps p[0..len) for a request; nothing is copied.
static ProtobufCBinaryData
bytes(const uint8_t *p, size_t len)
{
	ProtobufCBinaryData b = { .len = len, .data = (uint8_t *) p };
	return b;
}

int
rill_scan_open(
    rill_client *client, const rill_scan_opts *opts, rill_scan **scanp)
{
	rill_scan_opts all = { 0 };
	rill_scan     *scan;
	int            rv;

	if (client == NULL || scanp == NULL) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "client and scanp must not be NULL");
	}
	if (opts == NULL) {
		opts = &all;
	}
	if ((scan = calloc(1, sizeof(*scan))) == NULL) {
		return rill__fail(RILL_ENOMEM, "out of memory");
	}
	scan->client             = client;
	scan->co.deadline_ms     = opts->deadline_ms;
	scan->co.read_preference = opts->read_preference;
	scan->min_seq            = opts->min_seq;
	scan->reverse            = opts->reverse;
	scan->limit              = opts->limit;
	scan->page_size = opts->page_size > 0 ? opts->page_size : 1000;
	if ((rv = dup_bytes(&scan->start, &scan->start_len, opts->start,
	         opts->start_len)) != RILL_OK ||
	    (rv = dup_bytes(&scan->end, &scan->end_len, opts->end,
	         opts->end_len)) != RILL_OK ||
	    (rv = dup_bytes(&scan->prefix, &scan->prefix_len, opts->prefix,
	         opts->prefix_len)) != RILL_OK) {
		rill_scan_close(scan);
		return rv;
	}
	*scanp = scan;
	return RILL_OK;
}

void
rill_scan_close(rill_scan *scan)
{
	if (scan == NULL) {
		return;
	}
	if (scan->page != NULL) {
		rill__v1__response__free_unpacked(scan->page, NULL);
	}
	free(scan->resume);
	free(scan->prefix);
	free(scan->end);
	free(scan->start);
	free(scan);
}

int
rill_scan_error(const rill_scan *scan)
{
	return scan != NULL ? scan->error : RILL_INVALID_ARGUMENT;
}

// page_done takes an OK page from the reply and wakes fetch_page.
static void
page_done(const rill__completion *comp, rill__outcome *out)
{
	page_call *p = comp->arg;

	if (out->code == RILL_OK) {
		p->resp   = out->resp;
		out->resp = NULL;
	}
	rill__waiter_wake(&p->w, out->code, out->message);
}

// set_resume records key as the point the next page starts after.
static int
set_resume(rill_scan *scan, const ProtobufCBinaryData *key)
{
	uint8_t *p = realloc(scan->resume, key->len > 0 ? key->len : 1);

	if (p == NULL) {
		return rill__fail(RILL_ENOMEM, "out of memory");
	}
	if (key->len > 0) {
		memcpy(p, key->data, key->len);
	}
	scan->resume     = p;
	scan->resume_len = key->len;
	scan->resuming   = true;
	return RILL_OK;
}

// fetch_page replaces the current page with the next one. Blocks for the
// round trip (with its retries); returns the call's code.
static int
fetch_page(rill_scan *scan)
{
	Rill__V1__Request       req  = RILL__V1__REQUEST__INIT;
	Rill__V1__ScanRequest   sr   = RILL__V1__SCAN_REQUEST__INIT;
	page_call               p    = { .resp = NULL };
	rill__completion        comp = { .fn = page_done, .arg = &p };
	Rill__V1__ScanResponse *page;
	int                     rv;

	sr.start   = bytes(scan->start, scan->start_len);
	sr.end     = bytes(scan->end, scan->end_len);
	sr.prefix  = bytes(scan->prefix, scan->prefix_len);
	sr.reverse = scan->reverse;
	sr.limit   = scan->page_size;
	sr.min_seq = scan->min_seq;
	if (scan->limit > 0 && scan->limit - scan->n_returned < sr.limit) {
		sr.limit = (uint32_t) (scan->limit - scan->n_returned);
	}
	if (scan->resuming && !scan->reverse) {
		sr.start       = bytes(scan->resume, scan->resume_len);
		sr.start_after = true;
	} else if (scan->resuming) {
		sr.end = bytes(scan->resume, scan->resume_len);
	}
	req.body_case = RILL__V1__REQUEST__BODY_SCAN;
	req.scan      = &sr;
	rill__waiter_init(&p.w);
	if ((rv = rill__call_start(scan->client, &req,
	         RILL__V1__RESPONSE__BODY_SCAN, &scan->co, &comp)) !=
	    RILL_OK) {
		rill__waiter_fini(&p.w);
		return rv;
	}
	if ((rv = rill__waiter_wait(&p.w)) != RILL_OK) {
		return rv;
	}
	if (scan->page != NULL) {
		rill__v1__response__free_unpacked(scan->page, NULL);
	}
	scan->page = p.resp;
	scan->pos  = 0;
	page       = p.resp->scan;
	scan->more = page->more;
	if (page->seq > scan->min_seq) {
		scan->min_seq = page->seq;
	}
	if (page->n_entries > 0) {
		return set_resume(
		    scan, &page->entries[page->n_entries - 1]->key);
	}
	if (page->more && page->next_key.len == 0) {
		// Without a key to go on from, the next page would be this
		// one.
		return rill__fail(RILL_EPROTO,
		    "scan page with no entries, more set and no next_key");
	}
	return page->more ? set_resume(scan, &page->next_key) : RILL_OK;
}

// at_end tells whether scan has nothing more to return.
static bool
at_end(const rill_scan *scan)
{
	if (scan->limit > 0 && scan->n_returned >= scan->limit) {
		return true;
	}
	if (scan->page == NULL) {
		return false;
	}
	if (scan->pos < scan->page->scan->n_entries) {
		return false;
	}
	// A reverse scan that returned the empty key has passed the lowest
	// key; resuming with an empty (unbounded) end would start over.
	return !scan->more ||
	    (scan->reverse && scan->resuming && scan->resume_len == 0);
}

bool
rill_scan_next(rill_scan *scan, const void **keyp, size_t *klenp,
    const void **valuep, size_t *vlenp)
{
	const Rill__V1__Entry *e;
	int                    rv;

	if (scan == NULL || scan->error != RILL_OK) {
		return false;
	}
	while (!at_end(scan) &&
	    (scan->page == NULL || scan->pos >= scan->page->scan->n_entries)) {
		if ((rv = fetch_page(scan)) != RILL_OK) {
			scan->error = rv;
			return false;
		}
	}
	if (at_end(scan)) {
		return false;
	}
	e = scan->page->scan->entries[scan->pos++];
	scan->n_returned++;
	if (keyp != NULL) {
		*keyp = e->key.len > 0 ? (const void *) e->key.data : "";
	}
	if (klenp != NULL) {
		*klenp = e->key.len;
	}
	if (valuep != NULL) {
		*valuep = e->value.len > 0 ? (const void *) e->value.data : "";
	}
	if (vlenp != NULL) {
		*vlenp = e->value.len;
	}
	return true;
}
