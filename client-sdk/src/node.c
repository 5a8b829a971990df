// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// node: rill_status, the Status RPC of the node a client talks to, copied
// into the fixed-size rill_node_status (strings cut to fit, NUL-ended).
#include <string.h>

#include "client.h"
#include "ext.h"

typedef struct status_call {
	rill__waiter      w;
	rill_node_status *status;
} status_call;

// copy_str copies src into dst[size], cut to fit, always NUL-ended.
static void
copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

// status_done copies an OK reply into the caller's rill_node_status and
// wakes the caller.
static void
status_done(const rill__completion *comp, rill__outcome *out)
{
	status_call                    *s  = comp->arg;
	rill_node_status               *st = s->status;
	const Rill__V1__StatusResponse *r;

	if (out->code == RILL_OK) {
		r = out->resp->status;
		memset(st, 0, sizeof(*st));
		copy_str(st->node_id, sizeof(st->node_id), r->node_id);
		copy_str(st->role, sizeof(st->role), r->role);
		copy_str(
		    st->generation, sizeof(st->generation), r->generation);
		copy_str(st->version, sizeof(st->version), r->version);
		st->last_seq          = r->last_seq;
		st->applied_seq       = r->applied_seq;
		st->oldest_seq        = r->oldest_seq;
		st->uptime_s          = r->uptime_s;
		st->max_request_bytes = r->max_request_bytes;
		st->max_key_bytes     = r->max_key_bytes;
		st->max_value_bytes   = r->max_value_bytes;
		copy_str(st->leader, sizeof(st->leader), r->leader);
		st->lag_records = r->lag_records;
		st->bootstraps  = r->bootstraps;
	}
	rill__waiter_wake(&s->w, out->code, out->message);
}

int
rill_status(
    rill_client *client, rill_node_status *status, const rill_callopts *co)
{
	Rill__V1__Request       req  = RILL__V1__REQUEST__INIT;
	Rill__V1__StatusRequest body = RILL__V1__STATUS_REQUEST__INIT;
	status_call             s    = { .status = status };
	rill__completion        comp = { .fn = status_done, .arg = &s };
	int                     rv;

	if (status == NULL) {
		return rill__fail(RILL_INVALID_ARGUMENT, "status is NULL");
	}
	req.body_case = RILL__V1__REQUEST__BODY_STATUS;
	req.status    = &body;
	rill__waiter_init(&s.w);
	if ((rv = rill__call_start(client, &req,
	         RILL__V1__RESPONSE__BODY_STATUS, co, &comp)) != RILL_OK) {
		rill__waiter_fini(&s.w);
		return rv;
	}
	if ((rv = rill__waiter_wait(&s.w)) == RILL_OK) {
		status->local_leader = rill__ext_is_leader(client);
	}
	return rv;
}
