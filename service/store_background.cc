// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// store_background: rill_store_start_background (see store.h), the one
// call rill makes to LevelDB's C++ API. Env::Default()->Schedule starts
// the process's background thread on its first call, from the calling
// thread; the task it queues does nothing.
#include <leveldb/env.h>

extern "C" void rill_store_start_background(void);

static void
nothing(void *)
{
}

void
rill_store_start_background(void)
{
	leveldb::Env::Default()->Schedule(nothing, nullptr);
}
