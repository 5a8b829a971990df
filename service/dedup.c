// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// dedup: a chained hash of clients; each client keeps its newest request
// ids in a ring that grows from 8 entries to per_client. Request ids grow
// per client, so a new request is usually above every id seen and needs no
// search; only retries and out-of-order arrivals walk the ring.
#include "dedup.h"

#include <rill/status.h>

#include "mem.h"

typedef struct entry {
	uint64_t request_id;
	uint64_t seq;
} entry;

typedef struct client {
	struct client *next; // hash chain
	uint64_t       id;
	uint64_t       max_request_id; // highest id recorded
	uint64_t       floor; // highest id not remembered (evicted, restored)
	uint64_t       last_used_ms;
	entry         *ring;
	uint32_t       cap;  // ring capacity
	uint32_t       len;  // entries in use
	uint32_t       head; // index of the oldest entry
} client;

struct rill_dedup {
	client **buckets;
	uint32_t n_buckets; // a power of two
	uint32_t n_clients;
	uint32_t per_client;
	uint64_t idle_ms;
};

static uint32_t
bucket_of(const rill_dedup *d, uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (uint32_t) id & (d->n_buckets - 1);
}

int
rill_dedup_new(rill_dedup **dedupp, uint32_t per_client, uint64_t idle_ms)
{
	rill_dedup *d = rill_zalloc(sizeof(*d));

	if (d == NULL) {
		return RILL_ENOMEM;
	}
	d->n_buckets = 64;
	if ((d->buckets = rill_zalloc(d->n_buckets * sizeof(client *))) ==
	    NULL) {
		rill_free(d);
		return RILL_ENOMEM;
	}
	d->per_client = per_client < 8 ? 8 : per_client;
	d->idle_ms    = idle_ms;
	*dedupp       = d;
	return RILL_OK;
}

static void
client_free(client *c)
{
	rill_free(c->ring);
	rill_free(c);
}

void
rill_dedup_free(rill_dedup *d)
{
	if (d == NULL) {
		return;
	}
	for (uint32_t b = 0; b < d->n_buckets; b++) {
		client *c = d->buckets[b];
		while (c != NULL) {
			client *next = c->next;
			client_free(c);
			c = next;
		}
	}
	rill_free(d->buckets);
	rill_free(d);
}

static client *
find_client(const rill_dedup *d, uint64_t id)
{
	for (client *c = d->buckets[bucket_of(d, id)]; c != NULL;
	     c         = c->next) {
		if (c->id == id) {
			return c;
		}
	}
	return NULL;
}

// grow_buckets doubles the table; on failure the table stays as it was
// (only slower).
static void
grow_buckets(rill_dedup *d)
{
	uint32_t old_n   = d->n_buckets;
	client **old     = d->buckets;
	client **buckets = rill_zalloc(2 * (size_t) old_n * sizeof(client *));

	if (buckets == NULL) {
		return;
	}
	d->buckets   = buckets;
	d->n_buckets = 2 * old_n;
	for (uint32_t b = 0; b < old_n; b++) {
		client *c = old[b];
		while (c != NULL) {
			client  *next  = c->next;
			uint32_t nb    = bucket_of(d, c->id);
			c->next        = d->buckets[nb];
			d->buckets[nb] = c;
			c              = next;
		}
	}
	rill_free(old);
}

int
rill_dedup_check(rill_dedup *d, uint64_t client_id, uint64_t request_id,
    uint32_t attempt, uint64_t *seqp)
{
	client *c;

	if (client_id == 0 || (c = find_client(d, client_id)) == NULL) {
		return RILL_OK;
	}
	if (request_id > c->max_request_id) {
		return RILL_OK;
	}
	// Newest first: a retry is usually of a recent request.
	for (uint32_t i = c->len; i > 0; i--) {
		const entry *e = &c->ring[(c->head + i - 1) % c->cap];
		if (e->request_id == request_id) {
			*seqp = e->seq;
			return RILL_ALREADY_EXISTS;
		}
	}
	if (attempt > 0 && request_id <= c->floor) {
		return RILL_ABORTED;
	}
	return RILL_OK;
}

static int
ring_push(rill_dedup *d, client *c, uint64_t request_id, uint64_t seq)
{
	if (c->len == c->cap && c->cap < d->per_client) {
		uint32_t cap = c->cap == 0 ? 8 : c->cap * 2;
		entry   *ring;

		if (cap > d->per_client) {
			cap = d->per_client;
		}
		if ((ring = rill_alloc(cap * sizeof(entry))) == NULL) {
			return RILL_ENOMEM;
		}
		for (uint32_t i = 0; i < c->len; i++) {
			ring[i] = c->ring[(c->head + i) % c->cap];
		}
		rill_free(c->ring);
		c->ring = ring;
		c->cap  = cap;
		c->head = 0;
	}
	if (c->len == c->cap) {
		// Evict the oldest entry; ids at or below floor are then
		// unknown, and a retry of one is refused.
		entry *old = &c->ring[c->head];
		if (old->request_id > c->floor) {
			c->floor = old->request_id;
		}
		c->head = (c->head + 1) % c->cap;
		c->len--;
	}
	c->ring[(c->head + c->len) % c->cap] =
	    (entry) { .request_id = request_id, .seq = seq };
	c->len++;
	return RILL_OK;
}

// get_client finds client_id or adds it; NULL when out of memory.
static client *
get_client(rill_dedup *d, uint64_t client_id)
{
	client  *c;
	uint32_t b;

	if ((c = find_client(d, client_id)) != NULL) {
		return c;
	}
	if ((c = rill_zalloc(sizeof(*c))) == NULL) {
		return NULL;
	}
	if (d->n_clients >= d->n_buckets) {
		grow_buckets(d);
	}
	b             = bucket_of(d, client_id);
	c->id         = client_id;
	c->next       = d->buckets[b];
	d->buckets[b] = c;
	d->n_clients++;
	return c;
}

uint64_t
rill_dedup_refill_from(
    uint64_t oldest_seq, uint64_t last_seq, uint64_t n_records)
{
	uint64_t from = last_seq > n_records ? last_seq - n_records : 0;

	if (from + 1 < oldest_seq) {
		from = oldest_seq - 1;
	}
	return from;
}

int
rill_dedup_restore_client(rill_dedup *d, uint64_t client_id,
    const rill_client_mark *mark, uint64_t from_seq, uint64_t last_used_ms)
{
	client  *c;
	uint64_t floor;

	if (client_id == 0) {
		return RILL_OK;
	}
	if ((c = get_client(d, client_id)) == NULL) {
		return RILL_ENOMEM;
	}
	// Covered: every id the ring held when the mark was stored comes
	// back with the refill, so ids above the stored floor that are in
	// no refilled record were never applied. Not covered: any id up to
	// the highest may have been applied and not come back.
	floor =
	    mark->oldest_seq > from_seq ? mark->floor : mark->max_request_id;
	if (last_used_ms > c->last_used_ms) {
		c->last_used_ms = last_used_ms;
	}
	if (mark->max_request_id > c->max_request_id) {
		c->max_request_id = mark->max_request_id;
	}
	if (floor > c->floor) {
		c->floor = floor;
	}
	return RILL_OK;
}

int
rill_dedup_restore_fn(void *restorer, uint64_t client_id,
    const rill_client_mark *mark, uint64_t last_used_ms)
{
	const rill_dedup_restorer *r = restorer;

	return rill_dedup_restore_client(
	    r->dedup, client_id, mark, r->from_seq, last_used_ms);
}

int
rill_dedup_record(rill_dedup *d, uint64_t client_id, uint64_t request_id,
    uint64_t seq, uint64_t now_ms)
{
	client *c;

	if (client_id == 0) {
		return RILL_OK;
	}
	if ((c = get_client(d, client_id)) == NULL) {
		return RILL_ENOMEM;
	}
	c->last_used_ms = now_ms;
	if (request_id > c->max_request_id) {
		c->max_request_id = request_id;
	}
	return ring_push(d, c, request_id, seq);
}

void
rill_dedup_forget_after(rill_dedup *d, uint64_t seq)
{
	for (uint32_t b = 0; b < d->n_buckets; b++) {
		for (client *c = d->buckets[b]; c != NULL; c = c->next) {
			// Failed writes are the newest entries: pop them.
			while (c->len > 0 &&
			    c->ring[(c->head + c->len - 1) % c->cap].seq >
			        seq) {
				c->len--;
			}
		}
	}
}

void
rill_dedup_expire(rill_dedup *d, uint64_t                   now_ms,
    void (*forgotten)(void *arg, uint64_t client_id), void *arg)
{
	if (now_ms < d->idle_ms) {
		return;
	}
	for (uint32_t b = 0; b < d->n_buckets; b++) {
		client **pp = &d->buckets[b];
		while (*pp != NULL) {
			client *c = *pp;
			if (c->last_used_ms < now_ms - d->idle_ms) {
				*pp = c->next;
				if (forgotten != NULL) {
					forgotten(arg, c->id);
				}
				client_free(c);
				d->n_clients--;
			} else {
				pp = &c->next;
			}
		}
	}
}

void
rill_dedup_mark(
    const rill_dedup *d, uint64_t client_id, rill_client_mark *markp)
{
	const client *c = find_client(d, client_id);

	if (c == NULL) {
		*markp = (rill_client_mark) { .oldest_seq =
			                          RILL_CLIENT_MARK_EMPTY };
		return;
	}
	*markp = (rill_client_mark) {
		.max_request_id = c->max_request_id,
		.floor          = c->floor,
		.oldest_seq =
		    c->len > 0 ? c->ring[c->head].seq : RILL_CLIENT_MARK_EMPTY,
	};
}

uint32_t
rill_dedup_clients(const rill_dedup *d)
{
	return d->n_clients;
}
