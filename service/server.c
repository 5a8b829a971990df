// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// server: opens the modules in data-flow order (datadir, store, catalog,
// log, keeper, writer, rpc, admin) and closes them in reverse, so nothing
// upstream ever sees a closed module.
#include "server.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <rill/status.h>

#include "admin.h"
#include "catalog.h"
#include "clock.h"
#include "datadir.h"
#include "diag.h"
#include "file.h"
#include "keeper.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "rpc.h"
#include "store.h"
#include "writer.h"

struct rill_server {
	rill_datadir *dd;
	rill_store   *store;
	rill_catalog *catalog;
	bool          catalog_fresh;
	rill_log     *log;
	rill_keeper  *keeper;
	rill_writer  *writer;
	rill_rpc     *rpc;
	rill_admin   *admin;
	uint64_t      generation;
	uint64_t      started_ms;
	rill_metrics  metrics;
};

// segment_sealed forwards the log's seal hook to the keeper, which is
// opened after the log but before any write can seal a segment.
static void
segment_sealed(void *arg, uint64_t first_seq, uint64_t last_seq)
{
	rill_server *srv = arg;

	if (srv->keeper != NULL) {
		rill_keeper_segment_sealed(srv->keeper, first_seq, last_seq);
	}
}

// open_log opens the log of generation, whose history starts after
// base_seq.
static int
open_log(rill_server *srv, const rill_config *cfg, uint64_t base_seq)
{
	char             path[PATH_MAX];
	rill_log_options lo = {
		.segment_max_bytes  = cfg->segment_max_bytes,
		.segment_max_age_ms = cfg->segment_max_age_ms,
		.on_seal            = segment_sealed,
		.on_seal_arg        = srv,
	};
	int rv;

	if ((rv = rill_datadir_log_path(
	         srv->dd, srv->generation, path, sizeof(path))) != RILL_OK) {
		return rv;
	}
	return rill_log_open(&srv->log, path, srv->generation, base_seq,
	    rill_store_applied_seq(srv->store), &lo);
}

// open_catalog opens <data dir>/catalog.db; a new or replaced one is
// rebuilt from the files by the keeper.
static int
open_catalog(rill_server *srv)
{
	char path[PATH_MAX];
	int  rv;

	if ((rv = rill_path_join(path, sizeof(path),
	         rill_datadir_path(srv->dd), "catalog.db")) != RILL_OK) {
		return rv;
	}
	return rill_catalog_open(&srv->catalog, path, &srv->catalog_fresh);
}

// choose_generation picks the generation the node continues: the one the
// store was last written in, else the newest on disk, else a new one.
static int
choose_generation(rill_server *srv, uint64_t *base_seqp)
{
	uint64_t gen, seq, parent, parent_seq = 0;
	int      rv;

	rill_store_applied(srv->store, &gen, &seq);
	if (gen != 0) {
		rv = rill_datadir_read_generation(
		    srv->dd, gen, &parent, &parent_seq, NULL);
		if (rv == RILL_NOT_FOUND) {
			rill_diag_err("SERVER-GENERATION",
			    "the store is at generation %016" PRIx64
			    " seq %" PRIu64 ", which is not in %s/generations",
			    gen, seq, rill_datadir_path(srv->dd));
			return RILL_ECORRUPT;
		}
		srv->generation = gen;
		*base_seqp      = parent_seq;
		return rv;
	}
	rv = rill_datadir_latest_generation(srv->dd, &gen, &parent_seq);
	if (rv == RILL_NOT_FOUND) {
		rv = rill_datadir_new_generation(srv->dd, 0, 0, &gen);
		if (rv == RILL_OK) {
			rill_diag_notice("SERVER-GENERATION",
			    "new generation %016" PRIx64
			    " in an empty data dir",
			    gen);
		}
	}
	srv->generation = gen;
	*base_seqp      = parent_seq;
	return rv;
}

// fork_if_behind handles a log that ends before the store (writes lost
// with sync policy "none"): the history after the log's end cannot be
// proven, so a new generation starts at the store's position.
static int
fork_if_behind(rill_server *srv, const rill_config *cfg)
{
	uint64_t applied = rill_store_applied_seq(srv->store);
	uint64_t last    = rill_log_last_seq(srv->log);
	uint64_t old     = srv->generation;
	int      rv;

	if (applied <= last) {
		return RILL_OK;
	}
	rill_diag_warn("SERVER-LOG-BEHIND",
	    "the log of generation %016" PRIx64 " ends at seq %" PRIu64
	    " but the store holds seq %" PRIu64
	    " (writes were lost before reaching the disk, as sync policy "
	    "\"none\" allows): starting a new generation there",
	    old, last, applied);
	rill_log_close(srv->log);
	srv->log = NULL;
	if ((rv = rill_datadir_new_generation(
	         srv->dd, old, applied, &srv->generation)) != RILL_OK) {
		return rv;
	}
	return open_log(srv, cfg, applied);
}

int
rill_server_open(rill_server **serverp, const rill_config *cfg)
{
	rill_server         *srv;
	char                 path[PATH_MAX];
	uint64_t             base_seq = 0;
	enum rill_diag_level level;
	const char          *drop;
	int                  rv;

	if (rill_diag_parse_level(cfg->log_level, &level)) {
		rill_diag_set_level(level);
	}
	if ((srv = rill_zalloc(sizeof(*srv))) == NULL) {
		return RILL_ENOMEM;
	}
	if ((rv = rill_datadir_open(&srv->dd, cfg->data_dir)) != RILL_OK) {
		goto out_close;
	}
	rill_store_options so = {
		.cache_bytes        = cfg->cache_bytes,
		.write_buffer_bytes = cfg->write_buffer_bytes,
	};
	if ((rv = rill_datadir_store_path(srv->dd, path, sizeof(path))) !=
	        RILL_OK ||
	    (rv = rill_store_open(&srv->store, path, &so)) != RILL_OK) {
		goto out_close;
	}
	if ((rv = open_catalog(srv)) != RILL_OK ||
	    (rv = choose_generation(srv, &base_seq)) != RILL_OK ||
	    (rv = open_log(srv, cfg, base_seq)) != RILL_OK ||
	    (rv = fork_if_behind(srv, cfg)) != RILL_OK) {
		goto out_close;
	}
	srv->started_ms        = rill_mono_ms();
	rill_keeper_options ko = {
		.dd                   = srv->dd,
		.store                = srv->store,
		.log                  = srv->log,
		.catalog              = srv->catalog,
		.metrics              = &srv->metrics,
		.generation           = srv->generation,
		.catalog_fresh        = srv->catalog_fresh,
		.snapshot_interval_ms = cfg->snapshot_interval_ms,
		.snapshot_log_bytes   = cfg->snapshot_log_bytes,
		.snapshot_max_rate    = cfg->snapshot_max_rate,
		.retain_snapshots     = (uint32_t) cfg->retain_snapshots,
		.retain_age_ms        = cfg->retain_age_ms,
		.backups              = cfg->backups,
		.n_backups            = cfg->n_backups,
	};
	if ((rv = rill_keeper_open(&srv->keeper, &ko)) != RILL_OK) {
		goto out_close;
	}
	rill_writer_options wo = {
		.generation       = srv->generation,
		.sync             = cfg->sync,
		.sync_interval_ms = cfg->sync_interval_ms,
		.dedup_per_client = (uint32_t) cfg->dedup_per_client,
		.dedup_idle_ms    = cfg->dedup_idle_ms,
		.metrics          = &srv->metrics,
	};
	if ((rv = rill_writer_open(&srv->writer, srv->log, srv->store, &wo)) !=
	    RILL_OK) {
		goto out_close;
	}
	drop                = getenv("RILL_TEST_DROP_REPLY_EVERY");
	rill_rpc_options ro = {
		.listen            = cfg->listen,
		.n_contexts        = (uint32_t) cfg->rpc_contexts,
		.max_request_bytes = cfg->max_request_bytes,
		.max_key_bytes     = cfg->max_key_bytes,
		.max_value_bytes   = cfg->max_value_bytes,
		.node_id           = rill_datadir_node_id(srv->dd),
		.role              = "leader",
		.generation        = srv->generation,
		.started_ms        = srv->started_ms,
		.dd                = srv->dd,
		.catalog           = srv->catalog,
		.metrics           = &srv->metrics,
		.drop_reply_every =
		    drop ? (uint32_t) strtoul(drop, NULL, 10) : 0,
	};
	if ((rv = rill_rpc_open(&srv->rpc, &ro, srv->store, srv->writer,
	         srv->log)) != RILL_OK) {
		goto out_close;
	}
	if (strcmp(cfg->admin_listen, "off") != 0) {
		rill_admin_options ao = {
			.listen     = cfg->admin_listen,
			.tokens     = (const char *const *) cfg->admin_tokens,
			.n_tokens   = cfg->n_admin_tokens,
			.dd         = srv->dd,
			.store      = srv->store,
			.log        = srv->log,
			.writer     = srv->writer,
			.catalog    = srv->catalog,
			.keeper     = srv->keeper,
			.metrics    = &srv->metrics,
			.role       = "leader",
			.generation = srv->generation,
			.started_ms = srv->started_ms,
		};
		if ((rv = rill_admin_open(&srv->admin, &ao)) != RILL_OK) {
			goto out_close;
		}
		rill_admin_set_ready(srv->admin, true, NULL);
	}
	rill_diag_notice("SERVER-START",
	    "node %s serving generation %016" PRIx64 " at seq %" PRIu64
	    " from %s (sync %s)",
	    rill_datadir_node_id(srv->dd), srv->generation,
	    rill_log_last_seq(srv->log), cfg->data_dir,
	    cfg->sync == RILL_SYNC_ALWAYS     ? "always"
	        : cfg->sync == RILL_SYNC_NONE ? "none"
	                                      : "interval");
	*serverp = srv;
	return RILL_OK;

out_close:
	rill_server_close(srv);
	return rv;
}

void
rill_server_close(rill_server *srv)
{
	if (srv == NULL) {
		return;
	}
	// Stop the admin API (its handlers use every part), answer what was
	// taken (the writer still runs), then stop writing, then stop the
	// keeper (the writer's seals reach it), then close the socket and the
	// files.
	rill_admin_close(srv->admin);
	if (srv->rpc != NULL) {
		rill_rpc_quiesce(srv->rpc, 10000);
	}
	if (srv->writer != NULL) {
		rill_writer_stats st;
		rill_writer_get_stats(srv->writer, &st);
		rill_writer_close(srv->writer);
		rill_diag_notice("SERVER-STOP",
		    "stopped at seq %" PRIu64 " after %" PRIu64
		    " writes in %" PRIu64 " groups (%" PRIu64
		    " retries answered from the dedup table)",
		    rill_log_last_seq(srv->log), st.writes, st.groups,
		    st.duplicates);
	}
	rill_keeper_close(srv->keeper);
	rill_rpc_close(srv->rpc);
	rill_log_close(srv->log);
	rill_catalog_close(srv->catalog);
	rill_store_close(srv->store);
	rill_datadir_close(srv->dd);
	rill_free(srv);
}

int
rill_server_rebuild_catalog(const rill_config *cfg)
{
	rill_server srv = { 0 };
	int         rv;

	if ((rv = rill_datadir_open(&srv.dd, cfg->data_dir)) != RILL_OK) {
		return rv;
	}
	if ((rv = open_catalog(&srv)) == RILL_OK) {
		rv = rill_catalog_rebuild(srv.catalog, cfg->data_dir, 0);
	}
	if (rv == RILL_OK) {
		rill_cat_generation *gens;
		rill_cat_snapshot   *snaps;
		rill_cat_segment    *segs;
		size_t               ng = 0, nsn = 0, nse = 0;
		if (rill_catalog_generations(srv.catalog, &gens, &ng) ==
		    RILL_OK) {
			rill_free(gens);
		}
		if (rill_catalog_snapshots(srv.catalog, 0, &snaps, &nsn) ==
		    RILL_OK) {
			rill_free(snaps);
		}
		if (rill_catalog_segments(srv.catalog, 0, &segs, &nse) ==
		    RILL_OK) {
			rill_free(segs);
		}
		rill_diag_notice("SERVER-REBUILD-CATALOG",
		    "catalog of %s rebuilt: %zu generations, %zu snapshots, "
		    "%zu segments",
		    cfg->data_dir, ng, nsn, nse);
	}
	rill_catalog_close(srv.catalog);
	rill_datadir_close(srv.dd);
	return rv;
}
