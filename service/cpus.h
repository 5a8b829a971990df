// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// cpus: the CPUs rilld's threads run on (--cpus). A list names them as
// taskset(1) does: "0", "0-1,4". Confining rilld to fewer CPUs than the
// machine has pays where rilld shares a small machine with its clients:
// the writer thread and nng's threads hand each request to one another,
// and a wake-up across CPUs, of an idle one most of all, costs far more
// than one on the same CPU (see docs/DESIGN.md, "Threads and CPUs").
#ifndef RILL_SERVICE_CPUS_H
#define RILL_SERVICE_CPUS_H

#include <sched.h>
#include <stddef.h>

// rill_cpus_parse reads a CPU list into *set: items "N" or "N-M" (N <= M)
// separated by commas, each CPU below CPU_SETSIZE, at least one. On
// failure it returns RILL_INVALID_ARGUMENT with the reason in err.
int rill_cpus_parse(const char *text, cpu_set_t *set, char *err, size_t n);

// rill_cpus_format writes set as a CPU list ("0-1,4") into buf (n bytes;
// the list is cut short if it does not fit) and returns buf.
char *rill_cpus_format(const cpu_set_t *set, char *buf, size_t n);

// rill_cpus_confine confines the calling thread, and so every thread it
// or its descendants start later, to the CPUs of the list text. Every one
// must be a CPU the process may use now. LevelDB's background thread
// (its compactions) is started first, so that it keeps every CPU: it
// works apart from the requests, and a CPU of its own is what it needs
// under a heavy write load. Call it before anything starts a thread.
// It returns RILL_OK, or RILL_INVALID_ARGUMENT with the reason in err.
int rill_cpus_confine(const char *text, char *err, size_t n);

#endif // RILL_SERVICE_CPUS_H
