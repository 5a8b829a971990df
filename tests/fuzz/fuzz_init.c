// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// fuzz_init: the LLVMFuzzerInitialize every fuzz target shares, under
// libFuzzer and under replay_main alike. Damaged input is the point of a
// fuzz run, so only errors are logged.
#include "diag.h"

int LLVMFuzzerInitialize(int *argcp, char ***argvp);

int
LLVMFuzzerInitialize(int *argcp, char ***argvp)
{
	(void) argcp;
	(void) argvp;
	rill_diag_set_level(RILL_DIAG_ERR);
	return 0;
}
