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

// test_restored_client_refuses_unknown_retries: a mark the refill does
// not cover (its ring's oldest seq at or before the refill's start) makes
// every id up to its highest count as seen.
static void
test_restored_client_refuses_unknown_retries(void)
{
	rill_dedup      *d;
	uint64_t         seq  = 0;
	rill_client_mark mark = {
		.max_request_id = 50, .floor = 10, .oldest_seq = 400
	};

	CHECK_EQ_INT(rill_dedup_new(&d, 8, 60000), RILL_OK);
	CHECK_EQ_INT(
	    rill_dedup_restore_client(d, 7, &mark, 400, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_record(d, 7, 49, 500, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 49, 1, &seq), RILL_ALREADY_EXISTS);
	CHECK_EQ_INT(seq, 500);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 40, 1, &seq), RILL_ABORTED);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 11, 1, &seq), RILL_ABORTED);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 51, 1, &seq), RILL_OK);
	// A first attempt is always a new write.
	CHECK_EQ_INT(rill_dedup_check(d, 7, 40, 0, &seq), RILL_OK);
	// The same from an unknown mark: a row of the older format.
	mark = (rill_client_mark) { .max_request_id = 30,
		.floor                              = 30,
		.oldest_seq = RILL_CLIENT_MARK_UNCOVERED };
	CHECK_EQ_INT(rill_dedup_restore_client(d, 8, &mark, 0, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 8, 29, 1, &seq), RILL_ABORTED);
	rill_dedup_free(d);
}

// test_covered_mark_keeps_floor: a mark whose ring the refill holds whole
// keeps its floor, so a retry of an id between the floor and the highest
// that no refilled record holds (lost in flight before it reached the log)
// is a new write; ids in the refill get their first seq; ids at or below
// the floor are still refused. Restore never lowers what is known.
static void
test_covered_mark_keeps_floor(void)
{
	rill_dedup      *d;
	uint64_t         seq  = 0;
	rill_client_mark mark = {
		.max_request_id = 36, .floor = 20, .oldest_seq = 401
	};

	CHECK_EQ_INT(rill_dedup_new(&d, 64, 60000), RILL_OK);
	CHECK_EQ_INT(
	    rill_dedup_restore_client(d, 7, &mark, 400, 1000), RILL_OK);
	// The refill: records 401.. hold ids 21..34 and 36, not 35.
	for (uint64_t id = 21; id <= 34; id++) {
		CHECK_EQ_INT(
		    rill_dedup_record(d, 7, id, 380 + id, 1000), RILL_OK);
	}
	CHECK_EQ_INT(rill_dedup_record(d, 7, 36, 420, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 35, 1, &seq), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 36, 1, &seq), RILL_ALREADY_EXISTS);
	CHECK_EQ_INT(seq, 420);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 22, 2, &seq), RILL_ALREADY_EXISTS);
	CHECK_EQ_INT(seq, 402);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 20, 1, &seq), RILL_ABORTED);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 3, 1, &seq), RILL_ABORTED);

	// Its mark now: the floor kept, the ring's oldest seq.
	rill_dedup_mark(d, 7, &mark);
	CHECK_EQ_INT(mark.max_request_id, 36);
	CHECK_EQ_INT(mark.floor, 20);
	CHECK_EQ_INT(mark.oldest_seq, 401);
	rill_dedup_mark(d, 99, &mark);
	CHECK_EQ_INT(mark.max_request_id, 0);
	CHECK(mark.oldest_seq == RILL_CLIENT_MARK_EMPTY);

	// A lower mark, covered or not, lowers nothing.
	mark = (rill_client_mark) {
		.max_request_id = 5, .floor = 2, .oldest_seq = 500
	};
	CHECK_EQ_INT(
	    rill_dedup_restore_client(d, 7, &mark, 400, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 20, 1, &seq), RILL_ABORTED);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 35, 1, &seq), RILL_OK);
	rill_dedup_mark(d, 7, &mark);
	CHECK_EQ_INT(mark.max_request_id, 36);
	CHECK_EQ_INT(mark.floor, 20);
	// An uncovered one raises the floor to its highest.
	mark.oldest_seq = 400;
	CHECK_EQ_INT(
	    rill_dedup_restore_client(d, 7, &mark, 400, 1000), RILL_OK);
	CHECK_EQ_INT(rill_dedup_check(d, 7, 35, 1, &seq), RILL_ABORTED);
	rill_dedup_free(d);
}

// test_refill_from: the refill starts n records before the log's end, but
// never before its oldest record.
static void
test_refill_from(void)
{
	CHECK_EQ_INT(rill_dedup_refill_from(1, 50, 100), 0);
	CHECK_EQ_INT(rill_dedup_refill_from(1, 500, 100), 400);
	CHECK_EQ_INT(rill_dedup_refill_from(451, 500, 100), 450);
	CHECK_EQ_INT(rill_dedup_refill_from(501, 500, 100), 500);
}

// test_mark_follows_evictions: the mark's floor and oldest seq move as the
// ring evicts.
static void
test_mark_follows_evictions(void)
{
	rill_dedup      *d;
	rill_client_mark mark;

	CHECK_EQ_INT(rill_dedup_new(&d, 8, 60000), RILL_OK);
	for (uint64_t id = 1; id <= 10; id++) {
		CHECK_EQ_INT(
		    rill_dedup_record(d, 7, id, 100 + id, 1000), RILL_OK);
	}
	rill_dedup_mark(d, 7, &mark);
	CHECK_EQ_INT(mark.max_request_id, 10);
	CHECK_EQ_INT(mark.floor, 2);
	CHECK_EQ_INT(mark.oldest_seq, 103);
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
RILL_TEST_RUN(test_covered_mark_keeps_floor);
RILL_TEST_RUN(test_refill_from);
RILL_TEST_RUN(test_mark_follows_evictions);
RILL_TEST_RUN(test_failed_writes_are_forgotten);
RILL_TEST_RUN(test_idle_clients_expire);
RILL_TEST_MAIN_END
