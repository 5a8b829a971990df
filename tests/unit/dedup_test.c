// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// dedup_test: a retry is answered with its first seq, a retry too old to
// tell is refused, and the bounds hold.
#include <rill/status.h>

#include "dedup.h"
#include "test.h"

static void
test_retry_gets_first_seq(void)
{
	rill_dedup *d;
	uint64_t    seq = 0;

	CHECK_EQ_INT(rill_dedup_new(&d, 16, 60000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 1, 0, &seq), RILL_OK);
	CHECK_EQ_INT(rill_dedup_record(d, 7, 1, 100, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 1, 1, &seq), RILL_ALREADY_EXISTS);
	CHECK_EQ_INT(seq, 100);
	// Another client's id 1 is its own.
	CHECK_EQ_INT(rill_dedup_check(d, 8, 1, 1, &seq), RILL_OK);
	// A late first attempt of a lower id is new.
	CHECK_EQ_INT(rill_dedup_record(d, 7, 5, 101, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 3, 0, &seq), RILL_OK);
	rill_dedup_free(d);
}

static void
test_evicted_retry_is_refused(void)
{
	rill_dedup *d;
	uint64_t    seq = 0;

	CHECK_EQ_INT(rill_dedup_new(&d, 8, 60000), RILL_OK);
	for (uint64_t id = 1; id <= 20; id++) {
		CHECK_EQ_INT(
		    rill_dedup_record(d, 7, id, 100 + id, 1000), RILL_OK);
	}
	// The newest 8 are remembered.
	CHECK_EQ_INT(rill_dedup_check(d, 7, 13, 1, &seq), RILL_ALREADY_EXISTS);
	CHECK_EQ_INT(seq, 113);
	// An older retry is refused, never applied again.
	CHECK_EQ_INT(rill_dedup_check(d, 7, 12, 1, &seq), RILL_ABORTED);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 2, 3, &seq), RILL_ABORTED);
	rill_dedup_free(d);
}

static void
test_restored_client_refuses_unknown_retries(void)
{
	rill_dedup *d;
	uint64_t    seq = 0;

	CHECK_EQ_INT(rill_dedup_new(&d, 8, 60000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_restore_client(d, 7, 50, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_record(d, 7, 49, 500, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 49, 1, &seq), RILL_ALREADY_EXISTS);
	CHECK_EQ_INT(seq, 500);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 40, 1, &seq), RILL_ABORTED);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 51, 1, &seq), RILL_OK);
	rill_dedup_free(d);
}

static void
test_failed_writes_are_forgotten(void)
{
	rill_dedup *d;
	uint64_t    seq = 0;

	CHECK_EQ_INT(rill_dedup_new(&d, 8, 60000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_record(d, 7, 1, 10, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_record(d, 7, 2, 11, 1000), RILL_OK);
	rill_dedup_forget_after(d, 10);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 1, 1, &seq), RILL_ALREADY_EXISTS);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 2, 1, &seq), RILL_OK);
	rill_dedup_free(d);
}

static uint64_t forgotten_id;

static void
note_forgotten(void *arg, uint64_t client_id)
{
	(void) arg;
	forgotten_id = client_id;
}

static void
test_idle_clients_expire(void)
{
	rill_dedup *d;

	CHECK_EQ_INT(rill_dedup_new(&d, 8, 1000), RILL_OK);
	for (uint64_t c = 1; c <= 500; c++) {
		CHECK_EQ_INT(
		    rill_dedup_record(d, c, 1, c, c == 42 ? 100 : 5000),
		    RILL_OK);
	}
	CHECK_EQ_INT(rill_dedup_clients(d), 500);
	rill_dedup_expire(d, 5500, note_forgotten, NULL);
	CHECK_EQ_INT(rill_dedup_clients(d), 499);
	CHECK_EQ_INT(forgotten_id, 42);
	rill_dedup_free(d);
}

RILL_TEST_MAIN_BEGIN
RILL_TEST_RUN(test_retry_gets_first_seq);
RILL_TEST_RUN(test_evicted_retry_is_refused);
RILL_TEST_RUN(test_restored_client_refuses_unknown_retries);
RILL_TEST_RUN(test_failed_writes_are_forgotten);
RILL_TEST_RUN(test_idle_clients_expire);
RILL_TEST_MAIN_END
