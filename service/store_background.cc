// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// store_background: rill_store_start_background (see store.h), the one
// call rill makes to LevelDB's C++ API. Env::Default()->Schedule starts
// the process's background thread on its first call, from the calling
// thread; the task it queues names the thread, so that top -H and perf
// tell it from the thread that started it.
#include <pthread.h>

#include <leveldb/env.h>

extern "C" void rill_store_start_background(void);

static void
name_thread(void *)
{
	pthread_setname_np(pthread_self(), "rill:leveldb");
}

void
rill_store_start_background(void)
{
	leveldb::Env::Default()->Schedule(name_thread, nullptr);
}
