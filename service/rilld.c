// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// rilld: the rill server. It reads its settings (file, environment,
// flags), opens a server, and waits for SIGINT or SIGTERM, on which it
// finishes the writes in flight and exits 0. Exit 2 is a usage or
// configuration error, 1 a failure to start.
//
// rilld --rebuild-catalog (with the same settings) rebuilds the data
// dir's catalog from its files and exits instead of serving.
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <rill/status.h>

#include "config.h"
#include "cpus.h"
#include "diag.h"
#include "server.h"

extern char **environ;

#include "tsan_suppressions.h" // defines the suppressions

// apply_cpu_policy sets the scheduling policy of this thread, which
// every thread of rilld inherits: none is started yet. Under SCHED_BATCH
// a thread that wakes another (as the writer does at each reply it hands
// to nng) is not preempted by it, which on a machine with few cores
// otherwise costs a context switch per reply. Failing is not fatal.
static void
apply_cpu_policy(enum rill_cpu_policy policy)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (policy == RILL_CPU_BATCH &&
	    sched_setscheduler(0, SCHED_BATCH, &sp) != 0) {
		rill_diag_warn("RILLD-CPU",
		    "cannot use SCHED_BATCH (%s): running under the default "
		    "policy",
		    strerror(errno));
	}
}

int
main(int argc, char **argv)
{
	rill_config  cfg = { 0 };
	rill_server *srv;
	sigset_t     sigs;
	char         err[512];
	bool         help = false;
	int          sig, rv;

	// Block the stop signals in every thread (the ones started later
	// inherit the mask); this thread takes them with sigwait.
	// A shell may start a background job with SIGINT ignored; take it
	// back, so that blocking it below makes sigwait see it.
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	// rill_config_parse_args is the whole load (defaults included): it
	// fills cfg, which must not hold settings already, or they leak.
	// --rebuild-catalog is an action, not a setting: take it out.
	bool rebuild = false;
	int  n       = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rebuild-catalog") == 0) {
			rebuild = true;
		} else {
			argv[n++] = argv[i];
		}
	}
	argc = n;
	rv   = rill_config_parse_args(
	      &cfg, argc, argv, environ, &help, err, sizeof(err));
	if (rv != RILL_OK) {
		fprintf(stderr, "rilld: %s\nTry 'rilld --help'.\n", err);
		rill_config_fini(&cfg);
		return 2;
	}
	if (help) {
		rill_config_usage(stdout, argv[0]);
		printf(
		    "\nActions:\n  --rebuild-catalog\n      rebuild the data "
		    "dir's catalog (catalog.db) from its files, then exit\n");
		rill_config_fini(&cfg);
		return 0;
	}
	// The level holds from here: a rebuild and the CPU confinement log
	// too (rill_server_open sets it again, for embedders).
	enum rill_diag_level level;
	if (rill_diag_parse_level(cfg.log_level, &level)) {
		rill_diag_set_level(level);
	}
	if (rebuild) {
		// No thread to stop cleanly here: a signal ends the rebuild
		// (each of the catalog's transactions is whole or absent).
		pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
		rv = rill_server_rebuild_catalog(&cfg);
		if (rv != RILL_OK) {
			fprintf(stderr,
			    "rilld: cannot rebuild the catalog: %s (see the "
			    "lines above)\n",
			    rill_strerror(rv));
		}
		rill_config_fini(&cfg);
		return rv == RILL_OK ? 0 : 1;
	}
	apply_cpu_policy(cfg.cpu_policy);
	// Like the policy, the CPUs go to every thread started later.
	if (cfg.cpus[0] != '\0' &&
	    rill_cpus_confine(cfg.cpus, err, sizeof(err)) != RILL_OK) {
		fprintf(stderr, "rilld: cpus \"%s\": %s\n", cfg.cpus, err);
		rill_config_fini(&cfg);
		return 2;
	}
	if (cfg.cpus[0] != '\0') {
		rill_diag_notice("RILLD-CPUS",
		    "running on CPUs %s (LevelDB's compactions on every CPU)",
		    cfg.cpus);
	}
	if ((rv = rill_server_open(&srv, &cfg)) != RILL_OK) {
		fprintf(stderr,
		    "rilld: cannot start: %s (see the lines above)\n",
		    rill_strerror(rv));
		rill_config_fini(&cfg);
		return 1;
	}
	sigwait(&sigs, &sig);
	rill_diag_notice("RILLD-SIGNAL",
	    "%s: finishing writes in flight (a second signal stops rilld at "
	    "once)",
	    strsignal(sig));
	// Every thread blocks the signals but this one: a second signal
	// takes its default action here, ending the process.
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	rill_server_close(srv);
	rill_config_fini(&cfg);
	return 0;
}
