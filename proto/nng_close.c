// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// nng_close: see nng_close.h. A close runs on a detached thread; the
// caller waits on the closer's condition variable. A closer given up on
// stays in the `abandoned` list for good, with what the caller left
// behind, even if its nng_close returns after all.
#include "nng_close.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

typedef struct closer closer;
struct closer {
	closer         *next; // in abandoned, once given up
	nng_socket      sock;
	void           *keep;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            done; // nng_close returned
};

static pthread_mutex_t abandoned_mu = PTHREAD_MUTEX_INITIALIZER;
static closer         *abandoned;

static void
closer_free(closer *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void *
close_main(void *arg)
{
	closer *c = arg;

	nng_close(c->sock);
	// After this the closer touches c no more: a caller still waiting
	// frees it, one that gave up left it in abandoned for good.
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

bool
rill__nng_close_bounded(nng_socket sock, uint64_t wait_ms, void *keep)
{
	struct timespec ts;
	pthread_attr_t  attr;
	pthread_t       t;
	closer         *c;
	bool            done;
	int             rv;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return false;
	}
	c->sock = sock;
	c->keep = keep;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rv = pthread_create(&t, &attr, close_main, c);
	pthread_attr_destroy(&attr);
	if (rv != 0) {
		closer_free(c);
		return false;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t) (wait_ms / 1000);
	ts.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0) {
	}
	done = c->done;
	pthread_mutex_unlock(&c->mu);
	if (done) {
		closer_free(c);
		return true;
	}
	pthread_mutex_lock(&abandoned_mu);
	c->next   = abandoned;
	abandoned = c;
	pthread_mutex_unlock(&abandoned_mu);
	return false;
}
