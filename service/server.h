// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// server: one rill node, assembled from its modules. Opening it takes the
// data dir, recovers the log and store, and starts serving RPCs; closing it
// finishes the writes in flight and releases everything. rilld is a thin
// main around it; an application process can embed it the same way.
#ifndef RILL_SERVICE_SERVER_H
#define RILL_SERVICE_SERVER_H

#include "config.h"

typedef struct rill_server rill_server;

// rill_server_open starts a node with cfg, which must outlive it: a
// leader, or with cfg->follow a follower of that node. It blocks
// through recovery. Errors are logged with their cause: RILL_ELOCKED (data
// dir or address in use), RILL_ECORRUPT (damage on disk, with file and
// offset), RILL_EVERSION, RILL_EIO, RILL_INVALID_ARGUMENT (a bad listen
// URL).
int rill_server_open(rill_server **serverp, const rill_config *cfg);

// rill_server_close stops taking requests, answers every request already
// taken (writes in flight are committed and acknowledged), syncs the log
// and closes the data dir. NULL is a no-op. Blocks.
void rill_server_close(rill_server *server);

// rill_server_rebuild_catalog rebuilds the catalog of cfg->data_dir from
// its files and returns, for rilld --rebuild-catalog. The data dir must
// not be in use (RILL_ELOCKED).
int rill_server_rebuild_catalog(const rill_config *cfg);

#endif // RILL_SERVICE_SERVER_H
