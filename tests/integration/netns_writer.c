// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// netns_writer: the load of netns_test.sh. It puts to one rilld through
// the SDK, with WINDOW calls in flight, until a stop file appears, then
// prints how many writes were acknowledged and the last seq. It exits 0
// when every write succeeded, 1 at the first failure (which it prints),
// 2 on bad arguments.
//
//	netns_writer URL PREFIX STOP_FILE
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rill/rill.h>

#define WINDOW 16
#define KEYS 1000 // keys are overwritten: the state stays small

typedef struct writer {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	int             in_flight;
	uint64_t        done;
	uint64_t        failed;
	uint64_t        max_seq;
	char            error[256];
} writer;

static void
put_done(void *arg, const rill_result *r)
{
	writer *w = arg;

	pthread_mutex_lock(&w->mu);
	w->in_flight--;
	if (r->code != RILL_OK) {
		if (w->failed++ == 0) {
			snprintf(w->error, sizeof(w->error), "code %d: %s",
			    r->code, r->message);
		}
	} else {
		w->done++;
		if (r->seq > w->max_seq) {
			w->max_seq = r->seq;
		}
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int
main(int argc, char **argv)
{
	writer       w = { .mu = PTHREAD_MUTEX_INITIALIZER,
		      .cv      = PTHREAD_COND_INITIALIZER };
	rill_client *client;
	rill_options o;
	char         key[128], value[128];
	bool         stop = false;

	if (argc != 4) {
		fprintf(stderr, "usage: %s URL PREFIX STOP_FILE\n", argv[0]);
		return 2;
	}
	rill_options_init(&o);
	o.deadline_ms = 30000;
	if (rill_open(&client, argv[1], &o) != RILL_OK) {
		fprintf(stderr, "netns_writer: %s: %s\n", argv[1],
		    rill_last_message());
		return 2;
	}
	for (uint64_t i = 0; !stop; i++) {
		int kn, vn, rv;

		pthread_mutex_lock(&w.mu);
		while (w.in_flight >= WINDOW) {
			pthread_cond_wait(&w.cv, &w.mu);
		}
		stop = w.failed > 0;
		w.in_flight++;
		pthread_mutex_unlock(&w.mu);
		// Look for the stop file every WINDOW writes.
		if (stop || (i % WINDOW == 0 && access(argv[3], F_OK) == 0)) {
			stop = true;
			pthread_mutex_lock(&w.mu);
			w.in_flight--;
			pthread_mutex_unlock(&w.mu);
			break;
		}
		kn = snprintf(
		    key, sizeof(key), "%s/%04" PRIu64, argv[2], i % KEYS);
		vn = snprintf(value, sizeof(value), "write %" PRIu64 " of %s",
		    i, argv[2]);
		if ((rv = rill_put_async(client, key, (size_t) kn, value,
		         (size_t) vn, NULL, put_done, &w)) != RILL_OK) {
			rill_result r = { .code = rv,
				.message        = rill_last_message() };
			put_done(&w, &r);
		}
	}
	pthread_mutex_lock(&w.mu);
	while (w.in_flight > 0) {
		pthread_cond_wait(&w.cv, &w.mu);
	}
	pthread_mutex_unlock(&w.mu);
	rill_close(client);
	printf("%" PRIu64 " %" PRIu64 "\n", w.done, w.max_seq);
	if (w.failed > 0) {
		fprintf(stderr,
		    "netns_writer: %" PRIu64 " writes failed, first: %s\n",
		    w.failed, w.error);
		return 1;
	}
	return 0;
}
