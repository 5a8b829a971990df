// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// harness: fork and exec of rilld, readiness by polling Status through
// the SDK, stop by pid.
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <rill/rill.h>

#include "nng_close.h"

int
rill_test_free_port(void)
{
	struct sockaddr_in sa  = { .sin_family = AF_INET };
	socklen_t          len = sizeof(sa);
	int                fd  = socket(AF_INET, SOCK_STREAM, 0);
	int                port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *) &sa, &len) != 0) {
		perror("free port");
		abort();
	}
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

void
rill_test_tmpdir(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "/tmp/rill-%s-XXXXXX", tag);
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

void
rill_test_rm_rf(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0) {
		fprintf(stderr, "harness: cannot remove %s\n", path);
	}
}

const char *
rill_test_rilld_path(void)
{
	const char *p = getenv("RILLD");
	return p != NULL ? p : RILLD_PATH;
}

void
rill_test_server_init(rill_test_server *srv, const char *tag)
{
	char dir[200];

	memset(srv, 0, sizeof(*srv));
	rill_test_tmpdir(dir, sizeof(dir), tag);
	snprintf(srv->data_dir, sizeof(srv->data_dir), "%s/data", dir);
	snprintf(srv->log_path, sizeof(srv->log_path), "%s/rilld.log", dir);
	srv->port = rill_test_free_port();
	snprintf(srv->url, sizeof(srv->url), "tcp://127.0.0.1:%d", srv->port);
	srv->pid        = -1;
	srv->log_start  = 0;
	srv->admin_port = 0;
}

// port_accepts tells whether something listens on the loopback TCP
// port: a plain connect, so that polling a server that is still starting
// opens and closes no nng socket (nng 1.5.2 can hang in nng_close when
// the socket's first connection is being set up as it closes).
static bool
port_accepts(int port)
{
	struct sockaddr_in sa = {
		.sin_family      = AF_INET,
		.sin_port        = htons((uint16_t) port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0) {
		return false;
	}
	ok = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

bool
rill_test_rpc(const char *url, Rill__V1__Request *req,
    Rill__V1__Response **respp, int wait_ms)
{
	nng_socket sock;
	nng_msg   *msg = NULL;
	size_t     n   = rill__v1__request__get_packed_size(req);
	bool       ok  = false;

	*respp = NULL;
	if (nng_req0_open(&sock) != 0) {
		return false;
	}
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, wait_ms);
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, wait_ms);
	nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, 64u << 20);
	if (nng_dial(sock, url, NULL, 0) != 0 || nng_msg_alloc(&msg, n) != 0) {
		goto out;
	}
	rill__v1__request__pack(req, nng_msg_body(msg));
	if (nng_sendmsg(sock, msg, 0) != 0) {
		nng_msg_free(msg);
		goto out;
	}
	if (nng_recvmsg(sock, &msg, 0) != 0) {
		goto out;
	}
	*respp = rill__v1__response__unpack(
	    NULL, nng_msg_len(msg), nng_msg_body(msg));
	nng_msg_free(msg);
	ok = *respp != NULL;
out:
	// Bounded: once nng 1.5.2's close deadlock (nanomsg/nng#1543) struck
	// in this process (an SDK client's close, say), its reaper is held
	// and no later close ends; a plain nng_close would hang the test.
	rill__nng_close_bounded(sock, RILL_NNG_CLOSE_WAIT_MS, NULL);
	return ok;
}

// answers_status tells whether srv answers a Status request OK: only once
// its port accepts connections, and then with rill_test_rpc, which waits
// for the answer as long as the server takes (STATUS_WAIT_MS at most).
// nng 1.5.2 can hang for good in nng_close when a socket closes with a
// request in flight (nanomsg/nng#1543, #1813), which an SDK client with a
// short deadline made likely on a busy machine.
#define STATUS_WAIT_MS 30000
static bool
answers_status(const rill_test_server *srv)
{
	Rill__V1__Request       req = RILL__V1__REQUEST__INIT;
	Rill__V1__StatusRequest sr  = RILL__V1__STATUS_REQUEST__INIT;
	Rill__V1__Response     *resp;
	bool                    ok;

	if (!port_accepts(srv->port)) {
		return false;
	}
	req.request_id = 1;
	req.body_case  = RILL__V1__REQUEST__BODY_STATUS;
	req.status     = &sr;
	if (!rill_test_rpc(srv->url, &req, &resp, STATUS_WAIT_MS)) {
		return false;
	}
	ok = resp->code == RILL__V1__CODE__OK &&
	    resp->body_case == RILL__V1__RESPONSE__BODY_STATUS;
	rill__v1__response__free_unpacked(resp, NULL);
	return ok;
}

// The servers started and not yet reaped. A test whose CHECK fails
// returns at once, maybe before it stops its servers: at exit they are
// killed, so that no rilld outlives its test run.
#define MAX_LIVE 64
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t           live[MAX_LIVE];

// kill_live kills and reaps every server still running (an atexit hook).
// A pid reaped by the test itself is no longer this process's child
// (waitpid fails): it is left alone, whoever has it now.
static void
kill_live(void)
{
	pthread_mutex_lock(&live_mu);
	for (int i = 0; i < MAX_LIVE; i++) {
		int status;
		if (live[i] > 0 && waitpid(live[i], &status, WNOHANG) == 0) {
			fprintf(stderr,
			    "harness: killing rilld (pid %d), which its test "
			    "left running\n",
			    (int) live[i]);
			kill(live[i], SIGKILL);
			waitpid(live[i], &status, 0);
		}
		live[i] = 0;
	}
	pthread_mutex_unlock(&live_mu);
}

// track records pid as live (0 as old: forget old).
static void
track(pid_t pid, pid_t old)
{
	static bool hooked;

	pthread_mutex_lock(&live_mu);
	if (!hooked) {
		hooked = atexit(kill_live) == 0;
	}
	for (int i = 0; i < MAX_LIVE; i++) {
		if (live[i] == old) {
			live[i] = pid;
			break;
		}
	}
	pthread_mutex_unlock(&live_mu);
}

bool
rill_test_server_start(
    rill_test_server *srv, const char *const *args, const char *const *env)
{
	const char *argv[64];
	int         argc = 0;
	pid_t       pid;

	argv[argc++] = rill_test_rilld_path();
	argv[argc++] = "--data-dir";
	argv[argc++] = srv->data_dir;
	argv[argc++] = "--listen";
	argv[argc++] = srv->url;
	// Tests that use the admin API name its port; the others must not
	// collide on the default one.
	argv[argc++] = "--admin-listen";
	argv[argc++] = "127.0.0.1:0";
	for (int i = 0; args != NULL && args[i] != NULL && argc < 62; i++) {
		argv[argc++] = args[i];
	}
	argv[argc] = NULL;

	// What the server writes from now on is this start's.
	struct stat st;
	srv->log_start = stat(srv->log_path, &st) == 0 ? (long) st.st_size : 0;
	srv->admin_port = 0;
	if ((pid = fork()) < 0) {
		perror("fork");
		abort();
	}
	if (pid == 0) {
		int fd = open(srv->log_path,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
		}
		for (int i = 0; env != NULL && env[i] != NULL; i++) {
			putenv((char *) env[i]);
		}
		// Leak reports of a server killed on purpose are noise.
		setenv("ASAN_OPTIONS", "detect_leaks=0", 0);
		execv(argv[0], (char *const *) argv);
		_exit(127);
	}
	srv->pid = pid;
	track(pid, 0);
	for (int i = 0; i < 400; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			track(0, pid);
			srv->pid = -1;
			return false;
		}
		if (answers_status(srv)) {
			return true;
		}
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL); // back-off between polls
	}
	return false;
}

// print_stacks writes every thread's stack of pid to stderr
// (print_stacks.sh), for a server that does not exit when it should.
static void
print_stacks(pid_t pid)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "bash '%s' %d >&2", PRINT_STACKS_PATH,
	    (int) pid);
	if (system(cmd) != 0) {
		fprintf(stderr, "harness: the stack dump failed\n");
	}
}

int
rill_test_server_stop(rill_test_server *srv, int sig)
{
	uint64_t end    = nng_clock() + RILL_TEST_STOP_WAIT_MS;
	int      status = -1;
	pid_t    rv;

	if (srv->pid <= 0) {
		return -1;
	}
	kill(srv->pid, sig);
	// A server that outlives the wait after a stop signal is a hang (a
	// SIGKILL ends it for sure): its stacks tell where, then it dies.
	while ((rv = waitpid(
	            srv->pid, &status, sig == SIGKILL ? 0 : WNOHANG)) == 0 ||
	    (rv < 0 && errno == EINTR)) {
		if (nng_clock() >= end) {
			fprintf(stderr,
			    "harness: rilld (pid %d) still runs %d s after "
			    "signal %d\n",
			    (int) srv->pid, RILL_TEST_STOP_WAIT_MS / 1000,
			    sig);
			print_stacks(srv->pid);
			kill(srv->pid, SIGKILL);
			while (waitpid(srv->pid, &status, 0) < 0 &&
			    errno == EINTR) { }
			track(0, srv->pid);
			srv->pid = -1;
			return -1;
		}
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL); // back-off between polls
	}
	track(0, srv->pid);
	srv->pid = -1;
	return status;
}

void
rill_test_server_cleanup(rill_test_server *srv)
{
	char  dir[256];
	char *slash;

	rill_test_server_stop(srv, SIGKILL);
	if (getenv("RILL_TEST_KEEP") != NULL) {
		fprintf(stderr, "harness: kept %s\n", srv->data_dir);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", srv->data_dir);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		rill_test_rm_rf(dir);
	}
}

bool
rill_test_log_contains(const rill_test_server *srv, const char *text)
{
	FILE *f = fopen(srv->log_path, "r");
	char  line[4096];
	bool  found = false;

	if (f == NULL) {
		return false;
	}
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		found = strstr(line, text) != NULL;
	}
	fclose(f);
	return found;
}

bool
rill_test_log_contains_since_start(
    const rill_test_server *srv, const char *text)
{
	FILE *f = fopen(srv->log_path, "r");
	char  line[4096];
	bool  found = false;

	if (f == NULL) {
		return false;
	}
	if (fseek(f, srv->log_start, SEEK_SET) == 0) {
		while (!found && fgets(line, sizeof(line), f) != NULL) {
			found = strstr(line, text) != NULL;
		}
	}
	fclose(f);
	return found;
}

// admin_port_in_log returns the port of the last ADMIN-LISTEN line the
// server wrote since it started, or 0.
static int
admin_port_in_log(const rill_test_server *srv)
{
	FILE *f = fopen(srv->log_path, "r");
	char  line[4096];
	int   port = 0;

	if (f == NULL) {
		return 0;
	}
	if (fseek(f, srv->log_start, SEEK_SET) == 0) {
		while (fgets(line, sizeof(line), f) != NULL) {
			const char *p;
			if (strstr(line, "ADMIN-LISTEN") != NULL &&
			    (p = strstr(line, "(port ")) != NULL) {
				port = atoi(p + 6);
			}
		}
	}
	fclose(f);
	return port;
}

int
rill_test_server_admin_port(rill_test_server *srv)
{
	for (int i = 0; srv->admin_port <= 0 && i < 400; i++) {
		if ((srv->admin_port = admin_port_in_log(srv)) > 0) {
			break;
		}
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL); // back-off between polls
	}
	return srv->admin_port > 0 ? srv->admin_port : -1;
}

int
rill_test_http(
    int port, const char *method, const char *path, char *body, size_t cap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval     tv = { 10, 0 };
	char               req[1024], *reply = NULL, *sep;
	size_t             len = 0, alloc = 0;
	int                fd, n, status = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port        = htons((uint16_t) port);
	if (body != NULL && cap > 0) {
		body[0] = '\0';
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = snprintf(req, sizeof(req),
	    "%s %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nContent-Length: 0\r\n"
	    "\r\n",
	    method, path, port);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 ||
	    n >= (int) sizeof(req) || send(fd, req, (size_t) n, 0) != n) {
		goto out;
	}
	// HTTP/1.0: the reply ends when the server closes the connection.
	for (;;) {
		ssize_t got;
		if (len + 4096 + 1 > alloc) {
			char *p;
			alloc = alloc * 2 + 8192;
			if ((p = realloc(reply, alloc)) == NULL) {
				goto out;
			}
			reply = p;
		}
		if ((got = recv(fd, reply + len, alloc - len - 1, 0)) < 0) {
			if (errno == EINTR) {
				continue;
			}
			goto out;
		}
		if (got == 0) {
			break;
		}
		len += (size_t) got;
	}
	if (reply == NULL) {
		goto out;
	}
	reply[len] = '\0';
	if (sscanf(reply, "HTTP/%*d.%*d %d", &status) != 1 ||
	    (sep = strstr(reply, "\r\n\r\n")) == NULL) {
		status = -1;
		goto out;
	}
	if (body != NULL && cap > 0) {
		snprintf(body, cap, "%s", sep + 4);
	}
out:
	free(reply);
	close(fd);
	return status;
}
