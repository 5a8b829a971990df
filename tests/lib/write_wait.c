// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
#include "write_wait.h"

#include <pthread.h>
#include <string.h>

#include <rill/status.h>

// A write submitted to the writer, and its outcome.
typedef struct waited_write {
	rill_write      w; // first: done gets its address
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	pthread_t       caller;
	bool            done;
	bool            on_caller; // done ran on the caller's thread
	int             code;
	uint64_t        seq;
	bool            duplicate;
} waited_write;

static void
write_done(rill_write *w, int code, uint64_t seq, bool duplicate)
{
	waited_write *ww = (waited_write *) w;

	pthread_mutex_lock(&ww->mu);
	ww->done      = true;
	ww->on_caller = pthread_equal(pthread_self(), ww->caller);
	ww->code      = code;
	ww->seq       = seq;
	ww->duplicate = duplicate;
	pthread_cond_signal(&ww->cv);
	pthread_mutex_unlock(&ww->mu);
}

int
rill_test_write_wait(
    rill_writer *writer, const rill_write *wr, uint64_t *seqp, bool *dupp)
{
	return rill_test_write_wait_on(writer, wr, seqp, dupp, NULL);
}

int
rill_test_write_wait_on(rill_writer *writer, const rill_write *wr,
    uint64_t *seqp, bool *dupp, bool *on_callerp)
{
	waited_write ww;
	int          rv;

	memset(&ww, 0, sizeof(ww));
	pthread_mutex_init(&ww.mu, NULL);
	pthread_cond_init(&ww.cv, NULL);
	ww.w.client_id  = wr->client_id;
	ww.w.request_id = wr->request_id;
	ww.w.attempt    = wr->attempt;
	ww.w.batch      = wr->batch;
	ww.w.done       = write_done;
	ww.caller       = pthread_self();
	if ((rv = rill_writer_submit(writer, &ww.w)) == RILL_OK) {
		pthread_mutex_lock(&ww.mu);
		while (!ww.done) {
			pthread_cond_wait(&ww.cv, &ww.mu);
		}
		pthread_mutex_unlock(&ww.mu);
		rv = ww.code;
		if (rv == RILL_OK && seqp != NULL) {
			*seqp = ww.seq;
		}
		if (rv == RILL_OK && dupp != NULL) {
			*dupp = ww.duplicate;
		}
		if (on_callerp != NULL) {
			*on_callerp = ww.on_caller;
		}
	}
	pthread_cond_destroy(&ww.cv);
	pthread_mutex_destroy(&ww.mu);
	return rv;
}
