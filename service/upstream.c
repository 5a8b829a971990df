// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// upstream: one REQ context and one aio, driven synchronously by the
// follow loop (nng_aio_wait), so that another thread can end a wait with
// nng_aio_cancel.
#include "upstream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <rill/status.h>

#include "clock.h"
#include "diag.h"
#include "file.h"
#include "mem.h"
#include "nng_close.h"

// Replies are at most a FetchLog of 8 MiB or a snapshot chunk, plus
// framing.
#define RECV_MAX_BYTES ((size_t) 64 << 20)
#define CHUNK_BYTES (4u << 20)
#define RECONNECT_MIN_MS 20
#define RECONNECT_MAX_MS 1000

struct rill_upstream {
	char       *url;
	char       *auth_token; // "" when none
	nng_socket  sock;
	nng_ctx     ctx;
	nng_aio    *aio;
	uint64_t    client_id;
	uint64_t    next_id;
	uint64_t    pending_id; // of the call started last (0: none)
	atomic_bool cancelled;
};

int
rill_upstream_open(
    rill_upstream **upp, const char *url, const char *auth_token)
{
	rill_upstream *up;
	nng_dialer     dialer;
	int            rv;

	if ((up = rill_zalloc(sizeof(*up))) == NULL ||
	    (up->url = rill_strdup(url)) == NULL ||
	    (up->auth_token = rill_strdup(auth_token ? auth_token : "")) ==
	        NULL) {
		if (up != NULL) {
			rill_free(up->url);
			rill_free(up->auth_token);
		}
		rill_free(up);
		return RILL_ENOMEM;
	}
	if (getrandom(&up->client_id, sizeof(up->client_id), 0) !=
	    (ssize_t) sizeof(up->client_id)) {
		up->client_id = rill_wall_us() ^ ((uint64_t) getpid() << 40);
	}
	if ((rv = nng_req0_open(&up->sock)) != 0) {
		rill_free(up->auth_token);
		rill_free(up->url);
		rill_free(up);
		return RILL_ENOMEM;
	}
	nng_socket_set_ms(
	    up->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(up->sock, NNG_OPT_RECONNMINT, RECONNECT_MIN_MS);
	nng_socket_set_ms(up->sock, NNG_OPT_RECONNMAXT, RECONNECT_MAX_MS);
	nng_socket_set_size(up->sock, NNG_OPT_RECVMAXSZ, RECV_MAX_BYTES);
	if ((rv = nng_ctx_open(&up->ctx, up->sock)) != 0 ||
	    (rv = nng_aio_alloc(&up->aio, NULL, NULL)) != 0) {
		rv = RILL_ENOMEM;
		goto out_close;
	}
	if ((rv = nng_dialer_create(&dialer, up->sock, url)) != 0 ||
	    (rv = nng_dialer_start(dialer, NNG_FLAG_NONBLOCK)) != 0) {
		rill_diag_err(
		    "FOLLOW-URL", "cannot dial %s: %s", url, nng_strerror(rv));
		rv = RILL_INVALID_ARGUMENT;
		goto out_close;
	}
	*upp = up;
	return RILL_OK;

out_close:
	rill_upstream_close(up);
	return rv;
}

void
rill_upstream_close(rill_upstream *up)
{
	if (up == NULL) {
		return;
	}
	if (up->aio != NULL) {
		nng_aio_stop(up->aio);
		if (nng_aio_get_msg(up->aio) != NULL) {
			nng_msg_free(nng_aio_get_msg(up->aio));
		}
		nng_aio_free(up->aio);
	}
	if (!rill__nng_close_bounded(up->sock, RILL_NNG_CLOSE_WAIT_MS, up)) {
		rill_diag_warn("UPSTREAM-CLOSE-STUCK",
		    "closing the connection to %s did not end in %d ms (nng "
		    "1.5.2, nanomsg/nng#1543): left to the process's exit",
		    up->url, RILL_NNG_CLOSE_WAIT_MS);
		return;
	}
	rill_free(up->auth_token);
	rill_free(up->url);
	rill_free(up);
}

const char *
rill_upstream_url(const rill_upstream *up)
{
	return up->url;
}

void
rill_upstream_cancel(rill_upstream *up)
{
	atomic_store(&up->cancelled, true);
	nng_aio_cancel(up->aio);
}

bool
rill_upstream_cancelled(rill_upstream *up)
{
	return atomic_load(&up->cancelled);
}

int
rill_upstream_start(
    rill_upstream *up, Rill__V1__Request *req, uint32_t timeout_ms)
{
	nng_msg *msg;
	size_t   len;
	int      rv;

	up->pending_id = 0;
	if (atomic_load(&up->cancelled)) {
		return RILL_CANCELLED;
	}
	req->request_id = ++up->next_id;
	req->client_id  = up->client_id;
	req->auth_token = up->auth_token;
	len             = rill__v1__request__get_packed_size(req);
	if (nng_msg_alloc(&msg, len) != 0) {
		return RILL_ENOMEM;
	}
	rill__v1__request__pack(req, nng_msg_body(msg));
	nng_aio_set_msg(up->aio, msg);
	nng_aio_set_timeout(up->aio, (nng_duration) timeout_ms);
	nng_ctx_send(up->ctx, up->aio);
	nng_aio_wait(up->aio);
	rv = nng_aio_result(up->aio);
	if (rv == 0 && nng_aio_get_msg(up->aio) != NULL) {
		rv = NNG_ETIMEDOUT; // nng kept the message: not sent
	}
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(up->aio));
		nng_aio_set_msg(up->aio, NULL);
		return atomic_load(&up->cancelled) ? RILL_CANCELLED
		                                   : RILL_UNAVAILABLE;
	}
	if (atomic_load(&up->cancelled)) {
		return RILL_CANCELLED;
	}
	up->pending_id = req->request_id;
	nng_aio_set_timeout(up->aio, (nng_duration) timeout_ms);
	nng_ctx_recv(up->ctx, up->aio);
	return RILL_OK;
}

int
rill_upstream_finish(rill_upstream *up, Rill__V1__Response **respp)
{
	Rill__V1__Response *resp;
	nng_msg            *msg;
	int                 rv;

	if (up->pending_id == 0) {
		return RILL_UNAVAILABLE;
	}
	nng_aio_wait(up->aio);
	rv = nng_aio_result(up->aio);
	if (rv != 0) {
		up->pending_id = 0;
		return atomic_load(&up->cancelled) ? RILL_CANCELLED
		                                   : RILL_UNAVAILABLE;
	}
	msg = nng_aio_get_msg(up->aio);
	nng_aio_set_msg(up->aio, NULL);
	resp = rill__v1__response__unpack(
	    NULL, nng_msg_len(msg), nng_msg_body(msg));
	nng_msg_free(msg);
	if (resp == NULL || resp->request_id != up->pending_id) {
		rill_diag_warn("FOLLOW-PROTOCOL", "%s sent a reply that %s",
		    up->url,
		    resp == NULL ? "does not decode"
		                 : "answers another request");
		if (resp != NULL) {
			rill__v1__response__free_unpacked(resp, NULL);
		}
		up->pending_id = 0;
		return RILL_EPROTO;
	}
	up->pending_id = 0;
	*respp         = resp;
	return RILL_OK;
}

int
rill_upstream_call(rill_upstream *up, Rill__V1__Request *req,
    uint32_t timeout_ms, Rill__V1__Response **respp)
{
	int rv;

	if ((rv = rill_upstream_start(up, req, timeout_ms)) != RILL_OK) {
		return rv;
	}
	return rill_upstream_finish(up, respp);
}

// Snapshot download ----------------------------------------------------

// The description of a download in progress, kept in path.info.
typedef struct part_info {
	char     generation[17];
	uint64_t seq;
	uint64_t total;
	char     hash[17];
} part_info;

static bool
read_part_info(const char *path, part_info *pi)
{
	uint8_t *data;
	size_t   len;
	char     text[160];
	bool     ok;

	if (rill_file_read_all(path, sizeof(text) - 1, &data, &len) !=
	    RILL_OK) {
		return false;
	}
	memcpy(text, data, len);
	text[len] = '\0';
	rill_free(data);
	ok = sscanf(text, "rill-download v1 %16s %" SCNu64 " %" SCNu64 " %16s",
	         pi->generation, &pi->seq, &pi->total, pi->hash) == 4;
	return ok && strlen(pi->generation) == 16 && strlen(pi->hash) == 16;
}

static int
write_part_info(const char *path, const part_info *pi)
{
	char text[160];
	int  n = snprintf(text, sizeof(text),
	     "rill-download v1 %s %" PRIu64 " %" PRIu64 " %s\n", pi->generation,
	     pi->seq, pi->total, pi->hash);

	return rill_file_write_atomic(path, text, (size_t) n);
}

#define DOWNLOAD_DEADLINE_MS 60000

// get_chunk asks for the chunk at off of the snapshot pi names (the one o
// picks when pi->generation is empty), retrying until o's deadline passes
// with no answer.
static int
get_chunk(rill_upstream *up, const rill_upstream_download_opts *o,
    const part_info *pi, uint64_t off, Rill__V1__Response **respp)
{
	Rill__V1__GetSnapshotRequest g = RILL__V1__GET_SNAPSHOT_REQUEST__INIT;
	Rill__V1__Request            req = RILL__V1__REQUEST__INIT;
	uint64_t                     end = rill_mono_ms() + o->deadline_ms;
	int                          rv;

	req.body_case    = RILL__V1__REQUEST__BODY_GET_SNAPSHOT;
	req.get_snapshot = &g;
	g.generation     = (char *) pi->generation;
	g.seq            = pi->seq;
	g.offset         = off;
	g.max_bytes      = CHUNK_BYTES;
	if (pi->generation[0] == '\0') {
		g.seq                     = o->seq;
		g.at_or_before            = o->at_or_before;
		g.created_at_or_before_us = o->before_us;
	}
	for (uint32_t pause = 50;; pause = pause < 1000 ? pause * 2 : pause) {
		rv = rill_upstream_call(up, &req, 10000, respp);
		if (rv == RILL_OK || rv == RILL_CANCELLED ||
		    rill_mono_ms() >= end) {
			return rv;
		}
		struct timespec ts = { .tv_nsec = (long) pause * 1000000L };
		nanosleep(&ts, NULL);
	}
}

int
rill_upstream_download(rill_upstream *up, const char *path,
    const rill_upstream_download_opts *opts, rill_snapshot_info *info)
{
	rill_upstream_download_opts o = { 0 };
	const char                 *tag;
	char                        infopath[4096];
	part_info                   want = { 0 }, have;
	Rill__V1__Response         *resp;
	struct stat                 st;
	uint64_t                    off = 0;
	int                         fd  = -1, rv;

	if (opts != NULL) {
		o = *opts;
	}
	if (o.deadline_ms == 0) {
		o.deadline_ms = DOWNLOAD_DEADLINE_MS;
	}
	tag = o.log_tag != NULL ? o.log_tag : "FOLLOW-SNAPSHOT";
	if ((rv = rill_path_printf(
	         infopath, sizeof(infopath), "%s.info", path)) != RILL_OK) {
		return rv;
	}
	// Which snapshot is it now? A partial file of that one resumes.
	if ((rv = get_chunk(up, &o, &want, 0, &resp)) != RILL_OK) {
		return rv;
	}
	if (resp->code != RILL__V1__CODE__OK ||
	    resp->body_case != RILL__V1__RESPONSE__BODY_GET_SNAPSHOT) {
		rv = (int) resp->code;
		rill_diag_warn(tag, "%s: no snapshot to download: %s", up->url,
		    resp->message);
		rill__v1__response__free_unpacked(resp, NULL);
		return rv == RILL_OK ? RILL_EPROTO : rv;
	}
	snprintf(want.generation, sizeof(want.generation), "%.16s",
	    resp->get_snapshot->generation);
	snprintf(want.hash, sizeof(want.hash), "%.16s",
	    resp->get_snapshot->state_hash);
	want.seq   = resp->get_snapshot->seq;
	want.total = resp->get_snapshot->total_size;
	rill__v1__response__free_unpacked(resp, NULL);
	if (read_part_info(infopath, &have) &&
	    strcmp(have.generation, want.generation) == 0 &&
	    have.seq == want.seq && have.total == want.total &&
	    strcmp(have.hash, want.hash) == 0 && stat(path, &st) == 0 &&
	    (uint64_t) st.st_size <= want.total) {
		off = (uint64_t) st.st_size;
		rill_diag_notice(tag,
		    "resuming the download of snapshot %s/%" PRIu64
		    " at byte %" PRIu64 " of %" PRIu64,
		    want.generation, want.seq, off, want.total);
	} else {
		unlink(path);
		if ((rv = write_part_info(infopath, &want)) != RILL_OK) {
			return rv;
		}
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		rill_diag_err(
		    tag, "cannot open %s: %s", path, strerror(errno));
		return RILL_EIO;
	}
	while (off < want.total) {
		const Rill__V1__GetSnapshotResponse *gs;

		if ((rv = get_chunk(up, &o, &want, off, &resp)) != RILL_OK) {
			break;
		}
		gs = resp->get_snapshot;
		if (resp->code != RILL__V1__CODE__OK) {
			rill_diag_warn(tag,
			    "%s: snapshot %s/%" PRIu64 " at byte %" PRIu64
			    ": %s",
			    up->url, want.generation, want.seq, off,
			    resp->message);
			rv = (int) resp->code;
		} else if (resp->body_case !=
		        RILL__V1__RESPONSE__BODY_GET_SNAPSHOT ||
		    gs->offset != off || gs->seq != want.seq ||
		    gs->total_size != want.total ||
		    strcmp(gs->generation, want.generation) != 0 ||
		    gs->data.len == 0 || gs->data.len > want.total - off) {
			rill_diag_warn(tag,
			    "%s sent a chunk that does not continue snapshot "
			    "%s/%" PRIu64 " at byte %" PRIu64,
			    up->url, want.generation, want.seq, off);
			rv = RILL_EPROTO;
		} else if (rill_pwrite_full(
		               fd, gs->data.data, gs->data.len, off) != 0) {
			rill_diag_err(
			    tag, "cannot write %s: %s", path, strerror(errno));
			rv = RILL_EIO;
		} else {
			off += gs->data.len;
			if (o.progress != NULL) {
				o.progress(o.progress_arg, off, want.total);
			}
		}
		rill__v1__response__free_unpacked(resp, NULL);
		if (rv != RILL_OK) {
			break;
		}
	}
	if (rv == RILL_OK && fdatasync(fd) != 0) {
		rv = RILL_EIO;
	}
	close(fd);
	if (rv == RILL_NOT_FOUND) {
		// Retention removed it meanwhile: the next try starts afresh.
		unlink(path);
		unlink(infopath);
	}
	if (rv != RILL_OK) {
		return rv;
	}
	if ((rv = rill_snapshot_verify(path, info)) != RILL_OK) {
		rill_diag_err(tag,
		    "the snapshot downloaded from %s to %s is damaged (%s): "
		    "removed, to be downloaded again",
		    up->url, path, rill_strerror(rv));
		unlink(path);
		unlink(infopath);
		return RILL_DATA_LOSS;
	}
	char hash[17];
	snprintf(hash, sizeof(hash), "%016" PRIx64, info->state_hash);
	if (strcmp(hash, want.hash) != 0 || info->seq != want.seq) {
		rill_diag_err(tag,
		    "the snapshot downloaded from %s has state hash %s at "
		    "seq %" PRIu64 ", but %s at seq %" PRIu64
		    " was announced: removed, to be downloaded again",
		    up->url, hash, info->seq, want.hash, want.seq);
		unlink(path);
		unlink(infopath);
		return RILL_DATA_LOSS;
	}
	unlink(infopath);
	return RILL_OK;
}
