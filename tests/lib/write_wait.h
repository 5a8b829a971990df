// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// write_wait: a synchronous write through a rill_writer, for unit tests
// that drive the writer directly (no RPC).
#ifndef RILL_TESTS_WRITE_WAIT_H
#define RILL_TESTS_WRITE_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "writer.h"

// rill_test_write_wait submits a copy of *wr (client id, request id,
// attempt and batch; its done callback is the helper's own) to writer and
// waits for its outcome. It returns the write's code (or the submit's
// refusal); on RILL_OK it sets *seqp and *dupp when they are not NULL.
int rill_test_write_wait(
    rill_writer *writer, const rill_write *wr, uint64_t *seqp, bool *dupp);

// rill_test_write_wait_on is rill_test_write_wait that also tells, in
// *on_callerp, whether the outcome was reported on the calling thread
// (the write was committed by its own submitter).
int rill_test_write_wait_on(rill_writer *writer, const rill_write *wr,
    uint64_t *seqp, bool *dupp, bool *on_callerp);

#endif // RILL_TESTS_WRITE_WAIT_H
