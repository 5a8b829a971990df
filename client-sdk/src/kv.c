// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// kv: the key-value calls, get, put, delete and write. Each async form
// builds its request and hands it to rill__call_start; each sync form is
// its async form plus a rill__waiter, so both take one code path.
#include <stdlib.h>
#include <string.h>

#include "client.h"

// sync_call is what a sync call waits on, and where its results go.
typedef struct sync_call {
	rill__waiter w;
	void       **valuep;
	size_t      *lenp;
	uint64_t    *seqp;
} sync_call;

// bytes wraps p[0..len) for a request; nothing is copied.
static ProtobufCBinaryData
bytes(const void *p, size_t len)
{
	ProtobufCBinaryData b = { .len = len, .data = (uint8_t *) p };
	return b;
}

// check_bytes refuses a NULL pointer with a length (what names it).
static int
check_bytes(const void *p, size_t len, const char *what)
{
	if (p == NULL && len > 0) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "%s is NULL with a length of %zu", what, len);
	}
	return RILL_OK;
}

// deliver is the completion of the public async calls: it turns the
// reply into a rill_result, whose pointers stay valid during the user's
// callback only (they point into the reply).
static void
deliver(const rill__completion *comp, rill__outcome *out)
{
	rill_result res = { .code = out->code, .message = out->message };
	Rill__V1__Response *resp = out->resp;

	if (res.code == RILL_OK) {
		switch (resp->body_case) {
		case RILL__V1__RESPONSE__BODY_GET:
			res.seq = resp->get->seq;
			if (!resp->get->found) {
				res.code    = RILL_NOT_FOUND;
				res.message = rill_strerror(RILL_NOT_FOUND);
				break;
			}
			res.value     = resp->get->value.len > 0
			        ? (const void *) resp->get->value.data
			        : (const void *) "";
			res.value_len = resp->get->value.len;
			break;
		case RILL__V1__RESPONSE__BODY_PUT:
			res.seq = resp->put->seq;
			break;
		case RILL__V1__RESPONSE__BODY_DELETE:
			res.seq = resp->delete_->seq;
			break;
		case RILL__V1__RESPONSE__BODY_WRITE:
			res.seq = resp->write->seq;
			break;
		default:
			break;
		}
	}
	comp->cb(comp->arg, &res);
}

// start hands req to rill__call_start with deliver as completion, so
// that cb gets a rill_result.
static int
start(rill_client *client, Rill__V1__Request *req,
    Rill__V1__Response__BodyCase expect, const rill_callopts *co,
    rill_callback cb, void *arg)
{
	rill__completion comp = { .fn = deliver, .cb = cb, .arg = arg };

	if (cb == NULL) {
		return rill__fail(RILL_INVALID_ARGUMENT, "callback is NULL");
	}
	return rill__call_start(client, req, expect, co, &comp);
}

int
rill_get_async(rill_client *client, const void *key, size_t klen,
    const rill_callopts *co, rill_callback cb, void *arg)
{
	Rill__V1__Request    req = RILL__V1__REQUEST__INIT;
	Rill__V1__GetRequest get = RILL__V1__GET_REQUEST__INIT;
	int                  rv;

	if ((rv = check_bytes(key, klen, "key")) != RILL_OK) {
		return rv;
	}
	get.key       = bytes(key, klen);
	get.min_seq   = co != NULL ? co->min_seq : 0;
	req.body_case = RILL__V1__REQUEST__BODY_GET;
	req.get       = &get;
	return start(client, &req, RILL__V1__RESPONSE__BODY_GET, co, cb, arg);
}

int
rill_put_async(rill_client *client, const void *key, size_t klen,
    const void *value, size_t vlen, const rill_callopts *co, rill_callback cb,
    void *arg)
{
	Rill__V1__Request    req = RILL__V1__REQUEST__INIT;
	Rill__V1__PutRequest put = RILL__V1__PUT_REQUEST__INIT;
	int                  rv;

	if ((rv = check_bytes(key, klen, "key")) != RILL_OK ||
	    (rv = check_bytes(value, vlen, "value")) != RILL_OK) {
		return rv;
	}
	put.key       = bytes(key, klen);
	put.value     = bytes(value, vlen);
	req.body_case = RILL__V1__REQUEST__BODY_PUT;
	req.put       = &put;
	return start(client, &req, RILL__V1__RESPONSE__BODY_PUT, co, cb, arg);
}

int
rill_delete_async(rill_client *client, const void *key, size_t klen,
    const rill_callopts *co, rill_callback cb, void *arg)
{
	Rill__V1__Request       req = RILL__V1__REQUEST__INIT;
	Rill__V1__DeleteRequest del = RILL__V1__DELETE_REQUEST__INIT;
	int                     rv;

	if ((rv = check_bytes(key, klen, "key")) != RILL_OK) {
		return rv;
	}
	del.key       = bytes(key, klen);
	req.body_case = RILL__V1__REQUEST__BODY_DELETE;
	req.delete_   = &del;
	return start(
	    client, &req, RILL__V1__RESPONSE__BODY_DELETE, co, cb, arg);
}

int
rill_write_async(rill_client *client, const rill_batch *batch,
    const rill_callopts *co, rill_callback cb, void *arg)
{
	Rill__V1__Request      req = RILL__V1__REQUEST__INIT;
	Rill__V1__WriteRequest wr  = RILL__V1__WRITE_REQUEST__INIT;
	Rill__V1__Batch        b   = RILL__V1__BATCH__INIT;

	if (batch == NULL || batch->n_ops == 0) {
		return rill__fail(
		    RILL_INVALID_ARGUMENT, "the batch is empty or NULL");
	}
	b.n_ops       = batch->n_ops;
	b.ops         = batch->ops;
	wr.batch      = &b;
	req.body_case = RILL__V1__REQUEST__BODY_WRITE;
	req.write     = &wr;
	return start(
	    client, &req, RILL__V1__RESPONSE__BODY_WRITE, co, cb, arg);
}

// sync_done is the callback of the sync calls: it copies what the caller
// asked for out of the result, then wakes the caller.
static void
sync_done(void *arg, const rill_result *res)
{
	sync_call  *s       = arg;
	int         code    = res->code;
	const char *message = res->message;
	char       *copy;

	if (code == RILL_OK && s->valuep != NULL) {
		if ((copy = malloc(res->value_len + 1)) == NULL) {
			code    = RILL_ENOMEM;
			message = "out of memory for the value";
		} else {
			memcpy(copy, res->value, res->value_len);
			copy[res->value_len] = '\0';
			*s->valuep           = copy;
			*s->lenp             = res->value_len;
		}
	}
	if (code == RILL_OK && s->seqp != NULL) {
		*s->seqp = res->seq;
	}
	rill__waiter_wake(&s->w, code, message);
}

// sync_wait waits for the call rv says was started, or cleans up if not.
static int
sync_wait(sync_call *s, int rv)
{
	if (rv != RILL_OK) {
		rill__waiter_fini(&s->w);
		return rv;
	}
	return rill__waiter_wait(&s->w);
}

int
rill_get(rill_client *client, const void *key, size_t klen, void **valuep,
    size_t *lenp, const rill_callopts *co)
{
	sync_call s = { .valuep = valuep, .lenp = lenp };

	if (valuep == NULL || lenp == NULL) {
		return rill__fail(
		    RILL_INVALID_ARGUMENT, "valuep and lenp must not be NULL");
	}
	rill__waiter_init(&s.w);
	return sync_wait(
	    &s, rill_get_async(client, key, klen, co, sync_done, &s));
}

int
rill_put(rill_client *client, const void *key, size_t klen, const void *value,
    size_t vlen, uint64_t *seqp, const rill_callopts *co)
{
	sync_call s = { .seqp = seqp };

	rill__waiter_init(&s.w);
	return sync_wait(&s,
	    rill_put_async(client, key, klen, value, vlen, co, sync_done, &s));
}

int
rill_delete(rill_client *client, const void *key, size_t klen, uint64_t *seqp,
    const rill_callopts *co)
{
	sync_call s = { .seqp = seqp };

	rill__waiter_init(&s.w);
	return sync_wait(
	    &s, rill_delete_async(client, key, klen, co, sync_done, &s));
}

int
rill_write(rill_client *client, const rill_batch *batch, uint64_t *seqp,
    const rill_callopts *co)
{
	sync_call s = { .seqp = seqp };

	rill__waiter_init(&s.w);
	return sync_wait(
	    &s, rill_write_async(client, batch, co, sync_done, &s));
}
