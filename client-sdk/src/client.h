// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// client: what the files of librill share and nothing else sees. client.c
// owns the handle, its connections and the call state machine with its
// retries; kv.c, batch.c, scan.c and node.c build requests and read
// replies through rill__call_start. Every call, sync or async, is one
// rill__call on nng; a sync call is an async one plus a rill__waiter.
#ifndef RILL_CLIENT_SDK_CLIENT_H
#define RILL_CLIENT_SDK_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rill/rill.h>

#include "rill/v1/rill.pb-c.h"

// RILL__MSG_MAX bounds every message the SDK keeps (longer ones are cut).
#define RILL__MSG_MAX 512

// struct rill_batch: the ops in the order they were added, each one
// allocation holding the op and its key and value bytes, ready to pack.
struct rill_batch {
	Rill__V1__Op **ops;
	size_t         n_ops;
	size_t         cap_ops;
};

// rill__outcome is how a call ended. resp is the reply (NULL when none
// arrived); a completion may take it by setting resp to NULL, and then
// frees it with rill__v1__response__free_unpacked. A completion may also
// change code and message (message must outlive the completion).
typedef struct rill__outcome {
	int                 code;
	const char         *message; // never NULL; "" on RILL_OK
	Rill__V1__Response *resp;
} rill__outcome;

// rill__completion says what to do when a call ends: fn runs exactly once,
// on an nng thread, without any SDK lock held. cb and arg are fn's to use
// (the public async calls keep the user's callback there).
typedef struct rill__completion rill__completion;
struct rill__completion {
	void (*fn)(const rill__completion *comp, rill__outcome *out);
	rill_callback cb;
	void         *arg;
};

// rill__call_start sends req (whose body the caller has set; request_id,
// client_id, auth_token and attempt are filled in here) and retries it
// until a final answer or the deadline (co's, else the handle's). expect
// is the body an OK reply must carry. req is packed before this returns:
// the caller may free it and what it points to at once. Returns RILL_OK
// when the call is under way (comp->fn then runs exactly once), or a
// failure with no completion and rill_last_message set: RILL_CANCELLED
// while the handle closes, RILL_RESOURCE_EXHAUSTED for a request over
// max_request_bytes, RILL_ENOMEM. Any thread; does not block.
int rill__call_start(rill_client *client, Rill__V1__Request *req,
    Rill__V1__Response__BodyCase expect, const rill_callopts *co,
    const rill__completion *comp);

// rill__parse_gen reads a generation id, 16 hex digits; 0 (never an id)
// when s is not one.
uint64_t rill__parse_gen(const char *s);

// rill__waiter lets a thread wait for a call it started: the sync API.
typedef struct rill__waiter {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            done;
	int             code;
	char            message[RILL__MSG_MAX];
} rill__waiter;

// rill__waiter_init prepares w for one call.
void rill__waiter_init(rill__waiter *w);

// rill__waiter_fini releases w when its call could not be started.
void rill__waiter_fini(rill__waiter *w);

// rill__waiter_wake records code and message (copied) and wakes the
// waiter. After it returns, w may be gone: the caller must not touch it.
void rill__waiter_wake(rill__waiter *w, int code, const char *message);

// rill__waiter_wait blocks until rill__waiter_wake, releases w, sets
// rill_last_message when the code is not RILL_OK, and returns the code.
int rill__waiter_wait(rill__waiter *w);

// rill__fail sets this thread's rill_last_message from fmt and returns
// code, for failures found before a call is under way.
int rill__fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// rill__set_last_message copies message into this thread's buffer.
void rill__set_last_message(const char *message);

#endif // RILL_CLIENT_SDK_CLIENT_H
