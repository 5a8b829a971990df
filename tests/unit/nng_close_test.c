// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// nng_close_test: rill__nng_close_bounded closes a socket with a request in
// flight and says so; a close that does not end in time (here held up by a
// pipe callback that blocks, as nng 1.5.2's reaper can block for good) is
// given up within the bound, and ends on its own once unblocked.
#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "nng_close.h"
#include "test.h"

static atomic_int  n_added;
static atomic_bool hold; // a pipe's removal blocks while set
static atomic_bool in_removal;

static void
on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void) p;
	(void) arg;
	if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_fetch_add(&n_added, 1);
		return;
	}
	atomic_store(&in_removal, true);
	while (atomic_load(&hold)) {
		nng_msleep(1);
	}
}

// connected opens a REP socket listening on a free loopback port and a REQ
// socket connected to it.
static void
connected(nng_socket *rep, nng_socket *req)
{
	nng_listener l;
	nng_sockaddr sa;
	char         url[64];

	atomic_store(&n_added, 0);
	CHECK_EQ_INT(nng_rep0_open(rep), 0);
	CHECK_EQ_INT(
	    nng_pipe_notify(*rep, NNG_PIPE_EV_ADD_POST, on_pipe, NULL), 0);
	CHECK_EQ_INT(
	    nng_pipe_notify(*rep, NNG_PIPE_EV_REM_POST, on_pipe, NULL), 0);
	CHECK_EQ_INT(nng_listen(*rep, "tcp://127.0.0.1:0", &l, 0), 0);
	CHECK_EQ_INT(nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u",
	    (unsigned) ntohs(sa.s_in.sa_port));
	CHECK_EQ_INT(nng_req0_open(req), 0);
	CHECK_EQ_INT(nng_dial(*req, url, NULL, 0), 0);
	for (int i = 0; i < 5000 && atomic_load(&n_added) == 0; i++) {
		nng_msleep(1);
	}
	CHECK(atomic_load(&n_added) == 1);
}

static void
test_close_with_request_in_flight(void)
{
	nng_socket rep, req;
	nng_aio   *aio;
	nng_msg   *msg;

	connected(&rep, &req);
	// A request the REP side never answers: in flight at the close.
	CHECK_EQ_INT(nng_aio_alloc(&aio, NULL, NULL), 0);
	CHECK_EQ_INT(nng_msg_alloc(&msg, 0), 0);
	CHECK_EQ_INT(nng_msg_append(msg, "hi", 2), 0);
	nng_aio_set_msg(aio, msg);
	nng_send_aio(req, aio);
	nng_aio_wait(aio);
	CHECK_EQ_INT(nng_aio_result(aio), 0);
	CHECK(rill__nng_close_bounded(rep, RILL_NNG_CLOSE_WAIT_MS, NULL));
	CHECK(rill__nng_close_bounded(req, RILL_NNG_CLOSE_WAIT_MS, NULL));
	// Closed for real: the handle is dead.
	CHECK_EQ_INT(nng_send(req, "x", 1, NNG_FLAG_NONBLOCK), NNG_ECLOSED);
	nng_aio_free(aio);
}

static void
test_stuck_close_is_given_up(void)
{
	static int kept; // what the caller leaves to the closer
	nng_socket rep, req;
	nng_time   t0;

	connected(&rep, &req);
	atomic_store(&in_removal, false);
	atomic_store(&hold, true);
	t0 = nng_clock();
	CHECK(!rill__nng_close_bounded(rep, 300, &kept));
	CHECK(nng_clock() - t0 >= 300);
	CHECK(nng_clock() - t0 < 3000);
	CHECK(atomic_load(&in_removal));
	// Unblocked, the close given up ends by itself: the socket dies.
	atomic_store(&hold, false);
	for (int i = 0; i < 5000 &&
	     nng_send(rep, "x", 1, NNG_FLAG_NONBLOCK) != NNG_ECLOSED;
	     i++) {
		nng_msleep(1);
	}
	CHECK_EQ_INT(nng_send(rep, "x", 1, NNG_FLAG_NONBLOCK), NNG_ECLOSED);
	CHECK(rill__nng_close_bounded(req, RILL_NNG_CLOSE_WAIT_MS, NULL));
}

RILL_TEST_MAIN_BEGIN
RILL_TEST_RUN(test_close_with_request_in_flight);
RILL_TEST_RUN(test_stuck_close_is_given_up);
RILL_TEST_MAIN_END
