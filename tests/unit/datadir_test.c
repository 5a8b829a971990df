// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// datadir_test: the layout of a new data dir, the lock (within one process
// and across processes), the refusal of damaged, newer and foreign dirs,
// the files of rill_open_local, and generations.
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rill/status.h>

#include "datadir.h"
#include "diag.h"
#include "mem.h"
#include "test.h"

static char tmp_root[PATH_MAX];
static int  n_dirs;

static void
make_tmp_root(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp_root, sizeof(tmp_root), "%s/rill-datadir-test-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmp_root) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

// new_dir_path names a fresh, not yet existing directory under the root.
static const char *
new_dir_path(char *buf, size_t n)
{
	snprintf(buf, n, "%s/d%d/data", tmp_root, ++n_dirs);
	return buf;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char  path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

// read_file returns the file's text in a static buffer, or "" if missing.
static const char *
read_file(const char *dir, const char *name)
{
	static char text[4096];
	char        path[PATH_MAX];
	FILE       *f;
	size_t      n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL) {
		return "";
	}
	n       = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static bool
exists(const char *dir, const char *name)
{
	char        path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static bool
is_node_id(const char *id)
{
	if (strlen(id) != RILL_DATADIR_NODE_ID_LEN) {
		return false;
	}
	for (const char *p = id; *p != '\0'; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
			return false;
		}
	}
	return true;
}

static void
test_new_dir_layout_and_stable_node_id(void)
{
	char          dir[PATH_MAX], id[RILL_DATADIR_NODE_ID_LEN + 1];
	char          want[64];
	rill_datadir *dd = NULL;

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	CHECK_EQ_STR(rill_datadir_path(dd), dir);
	CHECK(is_node_id(rill_datadir_node_id(dd)));
	snprintf(id, sizeof(id), "%s", rill_datadir_node_id(dd));
	CHECK_EQ_STR(read_file(dir, "FORMAT"), "rill-data v2\n");
	snprintf(want, sizeof(want), "rill-node-id v1\n%s\n", id);
	CHECK_EQ_STR(read_file(dir, "NODE_ID"), want);
	snprintf(want, sizeof(want), "%ld\n", (long) getpid());
	CHECK_EQ_STR(read_file(dir, "LOCK"), want);
	rill_datadir_close(dd);
	rill_datadir_close(NULL);

	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	CHECK_EQ_STR(rill_datadir_node_id(dd), id);
	rill_datadir_close(dd);
}

static void
test_second_open_in_same_process_is_locked(void)
{
	char          dir[PATH_MAX];
	rill_datadir *dd = NULL, *dd2 = (rill_datadir *) 1;

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	CHECK_EQ_INT(rill_datadir_open(&dd2, dir), RILL_ELOCKED);
	CHECK(dd2 == (rill_datadir *) 1); // untouched on error
	rill_datadir_close(dd);
	// Closing releases the lock.
	CHECK_EQ_INT(rill_datadir_open(&dd2, dir), RILL_OK);
	rill_datadir_close(dd2);
}

// child_open runs rill_datadir_open in a child process and returns its
// result code.
static int
child_open(const char *dir)
{
	pid_t pid = fork();
	int   status;

	if (pid == 0) {
		rill_datadir *dd = NULL;
		int           rv = rill_datadir_open(&dd, dir);
		// _exit: the child shares the parent's memory and must not run
		// the leak checker on it.
		_exit(rv);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		return -1;
	}
	return WEXITSTATUS(status);
}

static void
test_open_from_another_process_is_locked(void)
{
	char          dir[PATH_MAX];
	rill_datadir *dd = NULL;
	int           to_parent[2], to_child[2];
	pid_t         pid;
	char          c = 0, want[32];
	int           status;

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	CHECK_EQ_INT(child_open(dir), RILL_ELOCKED);
	rill_datadir_close(dd);
	CHECK_EQ_INT(child_open(dir), RILL_OK);

	// A child holds the dir: this process is refused, and LOCK names the
	// child.
	CHECK(pipe(to_parent) == 0 && pipe(to_child) == 0);
	if ((pid = fork()) == 0) {
		rill_datadir *held = NULL;
		int           rv   = rill_datadir_open(&held, dir);
		char          r    = rv == RILL_OK ? 'y' : 'n';
		ssize_t       w    = write(to_parent[1], &r, 1);
		(void) w;
		w = read(to_child[0], &r, 1); // hold until the parent is done
		(void) w;
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_EQ_INT(read(to_parent[0], &c, 1), 1);
	CHECK_EQ_INT(c, 'y');
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_ELOCKED);
	snprintf(want, sizeof(want), "%ld\n", (long) pid);
	CHECK_EQ_STR(read_file(dir, "LOCK"), want);
	CHECK_EQ_INT(write(to_child[1], "x", 1), 1);
	CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
	close(to_parent[0]);
	close(to_parent[1]);
	close(to_child[0]);
	close(to_child[1]);
	// The child exited, and with it the lock.
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	rill_datadir_close(dd);
}

// open_expect opens dir and checks the result code; a success is closed.
static int
open_expect(const char *dir)
{
	rill_datadir *dd = NULL;
	int           rv = rill_datadir_open(&dd, dir);

	rill_datadir_close(rv == RILL_OK ? dd : NULL);
	return rv;
}

static void
test_damaged_node_id_is_corrupt(void)
{
	static const char *const damaged[] = {
		"",
		"rill-node-id\n0123456789abcdef\n",
		"rill-node-id v1\n0123456789ABCDEF\n",
		"rill-node-id v1\n0123456789abcde\n",
		"rill-node-id v1\n0123456789abcdef0\n",
		"rill-node-id v1\n0123456789abcdef",
		"rill-node-id v1\n0123456789abcdef\nmore\n",
		"rill-node-id v0\n0123456789abcdef\n",
		"rill-nodeid v1\n0123456789abcdef\n",
		"garbage",
	};
	char dir[PATH_MAX];

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
	for (size_t i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
		write_file(dir, "NODE_ID", damaged[i]);
		if (open_expect(dir) != RILL_ECORRUPT) {
			fprintf(
			    stderr, "  accepted NODE_ID \"%s\"\n", damaged[i]);
			CHECK(0);
		}
	}
	write_file(dir, "NODE_ID", "rill-node-id v1\n0123456789abcdef\n");
	rill_datadir *dd = NULL;
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	CHECK_EQ_STR(rill_datadir_node_id(dd), "0123456789abcdef");
	rill_datadir_close(dd);
}

static void
test_newer_versions_are_refused(void)
{
	char dir[PATH_MAX];

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
	write_file(dir, "NODE_ID", "rill-node-id v2\nanything at all\n");
	CHECK_EQ_INT(open_expect(dir), RILL_EVERSION);

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
	write_file(dir, "FORMAT", "rill-data v3\n");
	CHECK_EQ_INT(open_expect(dir), RILL_EVERSION);
	CHECK_EQ_STR(read_file(dir, "FORMAT"), "rill-data v3\n");
	write_file(dir, "FORMAT", "rill-data v10\nwith: more\n");
	CHECK_EQ_INT(open_expect(dir), RILL_EVERSION);
	write_file(dir, "FORMAT", "rill-data v1\nextra\n");
	CHECK_EQ_INT(open_expect(dir), RILL_ECORRUPT);
	write_file(dir, "FORMAT", "leveldb\n");
	CHECK_EQ_INT(open_expect(dir), RILL_ECORRUPT);
	write_file(dir, "FORMAT", "rill-data v2\n");
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
}

// A v1 dir (16-byte client rows in its store) opens, and is marked v2
// before its store is written, so that a v1 rilld refuses it as newer
// rather than taking the 32-byte rows for damage; rill_datadir_check
// reads either without writing.
static void
test_v1_dir_becomes_v2(void)
{
	char dir[PATH_MAX];

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
	write_file(dir, "FORMAT", "rill-data v1\n");
	CHECK_EQ_INT(rill_datadir_check(dir), RILL_OK);
	CHECK_EQ_STR(read_file(dir, "FORMAT"), "rill-data v1\n");
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
	CHECK_EQ_STR(read_file(dir, "FORMAT"), "rill-data v2\n");
	CHECK(!exists(dir, "FORMAT.tmp"));
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
	CHECK_EQ_STR(read_file(dir, "FORMAT"), "rill-data v2\n");
}

static void
test_foreign_dir_is_refused_untouched(void)
{
	char dir[PATH_MAX], parent[PATH_MAX], path[PATH_MAX + 16];

	new_dir_path(dir, sizeof(dir));
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	CHECK(mkdir(parent, 0755) == 0);
	CHECK(mkdir(dir, 0755) == 0);
	write_file(dir, "notes.txt", "mine\n");
	CHECK_EQ_INT(open_expect(dir), RILL_FAILED_PRECONDITION);
	CHECK(!exists(dir, "LOCK"));
	CHECK(!exists(dir, "FORMAT"));
	CHECK(!exists(dir, "NODE_ID"));

	// An existing empty dir is new.
	new_dir_path(dir, sizeof(dir));
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	CHECK(mkdir(parent, 0755) == 0);
	CHECK(mkdir(dir, 0755) == 0);
	CHECK_EQ_INT(open_expect(dir), RILL_OK);

	// A dir holding only a LOCK (an initialisation cut short) is new.
	snprintf(path, sizeof(path), "%s/FORMAT", dir);
	CHECK(unlink(path) == 0);
	snprintf(path, sizeof(path), "%s/NODE_ID", dir);
	CHECK(unlink(path) == 0);
	CHECK(exists(dir, "LOCK"));
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
	CHECK_EQ_STR(read_file(dir, "FORMAT"), "rill-data v2\n");

	// A rill dir whose NODE_ID is gone gets a new one.
	snprintf(path, sizeof(path), "%s/NODE_ID", dir);
	CHECK(unlink(path) == 0);
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
	CHECK(exists(dir, "NODE_ID"));
}

// rill_open_local creates LOCAL.lock (and its leader rill.sock) before
// the data dir is opened: a dir holding only those (and lost+found) is
// new, not foreign;
// rill_datadir_check judges FORMAT without opening, and the cause of a
// refusal is there for rill_diag_last_err.
static void
test_local_mode_files_and_check(void)
{
	char dir[PATH_MAX], parent[PATH_MAX];

	new_dir_path(dir, sizeof(dir));
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	CHECK(mkdir(parent, 0755) == 0);
	CHECK(mkdir(dir, 0755) == 0);
	CHECK_EQ_INT(rill_datadir_check(dir), RILL_NOT_FOUND);
	write_file(dir, RILL_DATADIR_LOCAL_LOCK, "");
	write_file(dir, RILL_DATADIR_LOCAL_SOCKET, "");
	// A fresh ext4 volume's lost+found does not make it foreign.
	snprintf(parent, sizeof(parent), "%s/lost+found", dir);
	CHECK(mkdir(parent, 0700) == 0);
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
	CHECK_EQ_STR(read_file(dir, "FORMAT"), "rill-data v2\n");
	CHECK_EQ_INT(rill_datadir_check(dir), RILL_OK);
	CHECK(exists(dir, RILL_DATADIR_LOCAL_LOCK));

	write_file(dir, "FORMAT", "rill-data v3\n");
	rill_diag_clear_last_err();
	CHECK_EQ_INT(rill_datadir_check(dir), RILL_EVERSION);
	CHECK(strstr(rill_diag_last_err(), "newer") != NULL);
	CHECK(strstr(rill_diag_last_err(), dir) != NULL);
	rill_diag_clear_last_err();
	CHECK_EQ_STR(rill_diag_last_err(), "");
	write_file(dir, "FORMAT", "leveldb\n");
	CHECK_EQ_INT(rill_datadir_check(dir), RILL_ECORRUPT);
	CHECK(!exists(dir, "FORMAT.tmp"));
}

static void
test_paths(void)
{
	char          dir[PATH_MAX], buf[PATH_MAX], want[PATH_MAX + 64];
	char          tiny[8];
	rill_datadir *dd = NULL;

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	CHECK_EQ_INT(rill_datadir_store_path(dd, buf, sizeof(buf)), RILL_OK);
	snprintf(want, sizeof(want), "%s/store", dir);
	CHECK_EQ_STR(buf, want);
	CHECK_EQ_INT(rill_datadir_generation_path(
	                 dd, UINT64_C(0xabc), buf, sizeof(buf)),
	    RILL_OK);
	snprintf(want, sizeof(want), "%s/generations/0000000000000abc", dir);
	CHECK_EQ_STR(buf, want);
	CHECK_EQ_INT(
	    rill_datadir_log_path(dd, UINT64_MAX, buf, sizeof(buf)), RILL_OK);
	snprintf(
	    want, sizeof(want), "%s/generations/ffffffffffffffff/log", dir);
	CHECK_EQ_STR(buf, want);
	CHECK_EQ_INT(
	    rill_datadir_store_path(dd, tiny, sizeof(tiny)), RILL_EIO);
	CHECK_EQ_INT(
	    rill_datadir_log_path(dd, 1, tiny, sizeof(tiny)), RILL_EIO);
	rill_datadir_close(dd);
}

static void
test_generations_roundtrip(void)
{
	char          dir[PATH_MAX], gdir[PATH_MAX], text[512], want[512];
	rill_datadir *dd = NULL;
	uint64_t      g1 = 0, g2 = 0, latest = 0, seq = 99;
	uint64_t      parent = 99, parent_seq = 99, created1 = 0, created2 = 0;

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	CHECK_EQ_INT(
	    rill_datadir_latest_generation(dd, &latest, &seq), RILL_NOT_FOUND);
	CHECK_EQ_INT(rill_datadir_read_generation(dd, 1, NULL, NULL, NULL),
	    RILL_NOT_FOUND);

	CHECK_EQ_INT(rill_datadir_new_generation(dd, 0, 0, &g1), RILL_OK);
	CHECK(g1 != 0);
	CHECK_EQ_INT(rill_datadir_read_generation(
	                 dd, g1, &parent, &parent_seq, &created1),
	    RILL_OK);
	CHECK_EQ_INT(parent, 0);
	CHECK_EQ_INT(parent_seq, 0);
	CHECK(created1 > 0);
	CHECK_EQ_INT(
	    rill_datadir_latest_generation(dd, &latest, &seq), RILL_OK);
	CHECK_EQ_INT(latest, g1);
	CHECK_EQ_INT(seq, 0);

	// The file is exactly the documented text.
	CHECK_EQ_INT(
	    rill_datadir_generation_path(dd, g1, gdir, sizeof(gdir)), RILL_OK);
	snprintf(text, sizeof(text), "%s", read_file(gdir, "GENERATION"));
	snprintf(want, sizeof(want),
	    "rill-generation v1\nid %016" PRIx64
	    "\nparent 0000000000000000\nparent_seq 0\ncreated_us %" PRIu64
	    "\n",
	    g1, created1);
	CHECK_EQ_STR(text, want);

	usleep(2000); // created_us must differ
	CHECK_EQ_INT(rill_datadir_new_generation(dd, g1, 42, &g2), RILL_OK);
	CHECK(g2 != g1 && g2 != 0);
	CHECK_EQ_INT(rill_datadir_read_generation(
	                 dd, g2, &parent, &parent_seq, &created2),
	    RILL_OK);
	CHECK_EQ_INT(parent, g1);
	CHECK_EQ_INT(parent_seq, 42);
	CHECK(created2 > created1);
	CHECK_EQ_INT(
	    rill_datadir_latest_generation(dd, &latest, &seq), RILL_OK);
	CHECK_EQ_INT(latest, g2);
	CHECK_EQ_INT(seq, 42);

	// Leftovers that are not generations are skipped.
	{
		char junk[PATH_MAX + 64];
		snprintf(junk, sizeof(junk),
		    "%s/generations/00000000000000aa.tmp", dir);
		CHECK(mkdir(junk, 0755) == 0);
		snprintf(junk, sizeof(junk), "%s/generations/README", dir);
		FILE *f = fopen(junk, "w");
		CHECK(f != NULL);
		fclose(f);
	}
	rill_datadir_close(dd);

	// The same answer after a reopen.
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	latest = seq = 0;
	CHECK_EQ_INT(
	    rill_datadir_latest_generation(dd, &latest, &seq), RILL_OK);
	CHECK_EQ_INT(latest, g2);
	CHECK_EQ_INT(seq, 42);
	CHECK_EQ_INT(rill_datadir_latest_generation(dd, NULL, NULL), RILL_OK);
	rill_datadir_close(dd);
}

static void
test_damaged_generation_is_corrupt(void)
{
	char          dir[PATH_MAX], gdir[PATH_MAX], other[PATH_MAX];
	rill_datadir *dd = NULL;
	uint64_t      g = 0, g2 = 0, latest;
	const char   *good;
	char          saved[512], text[512];

	new_dir_path(dir, sizeof(dir));
	CHECK_EQ_INT(rill_datadir_open(&dd, dir), RILL_OK);
	CHECK_EQ_INT(rill_datadir_new_generation(dd, 0, 7, &g), RILL_OK);
	CHECK_EQ_INT(rill_datadir_new_generation(dd, g, 9, &g2), RILL_OK);
	CHECK_EQ_INT(
	    rill_datadir_generation_path(dd, g, gdir, sizeof(gdir)), RILL_OK);
	good = read_file(gdir, "GENERATION");
	snprintf(saved, sizeof(saved), "%s", good);

	// Truncated.
	snprintf(text, sizeof(text), "%.*s", (int) strlen(saved) - 5, saved);
	write_file(gdir, "GENERATION", text);
	CHECK_EQ_INT(rill_datadir_read_generation(dd, g, NULL, NULL, NULL),
	    RILL_ECORRUPT);
	// A damaged generation stops the search for the latest.
	CHECK_EQ_INT(
	    rill_datadir_latest_generation(dd, &latest, NULL), RILL_ECORRUPT);
	// Another generation's file.
	CHECK_EQ_INT(
	    rill_datadir_generation_path(dd, g2, other, sizeof(other)),
	    RILL_OK);
	snprintf(text, sizeof(text), "%s", read_file(other, "GENERATION"));
	write_file(gdir, "GENERATION", text);
	CHECK_EQ_INT(rill_datadir_read_generation(dd, g, NULL, NULL, NULL),
	    RILL_ECORRUPT);
	// Newer.
	write_file(gdir, "GENERATION", "rill-generation v2\nwhatever\n");
	CHECK_EQ_INT(rill_datadir_read_generation(dd, g, NULL, NULL, NULL),
	    RILL_EVERSION);
	// A leading zero in a decimal field.
	{
		char *p = strstr(saved, "parent_seq 7");
		CHECK(p != NULL);
		snprintf(text, sizeof(text), "%.*sparent_seq 07%s",
		    (int) (p - saved), saved, p + strlen("parent_seq 7"));
		write_file(gdir, "GENERATION", text);
		CHECK_EQ_INT(
		    rill_datadir_read_generation(dd, g, NULL, NULL, NULL),
		    RILL_ECORRUPT);
	}
	// Missing file in an existing generation dir.
	{
		char path[PATH_MAX + 16];
		snprintf(path, sizeof(path), "%s/GENERATION", gdir);
		CHECK(unlink(path) == 0);
		CHECK_EQ_INT(
		    rill_datadir_read_generation(dd, g, NULL, NULL, NULL),
		    RILL_ECORRUPT);
	}
	// Restored, it reads again.
	write_file(gdir, "GENERATION", saved);
	uint64_t seq = 0;
	CHECK_EQ_INT(
	    rill_datadir_read_generation(dd, g, NULL, &seq, NULL), RILL_OK);
	CHECK_EQ_INT(seq, 7);
	rill_datadir_close(dd);
}

static void
test_allocation_failures_unwind(void)
{
	char          dir[PATH_MAX];
	rill_datadir *dd = NULL;
	int           rv;

	new_dir_path(dir, sizeof(dir));
	for (unsigned long i = 1;; i++) {
		rill_mem_fail_after(i);
		rv = rill_datadir_open(&dd, dir);
		rill_mem_fail_after(0);
		if (rv == RILL_OK) {
			rill_datadir_close(dd);
			break;
		}
		CHECK_EQ_INT(rv, RILL_ENOMEM);
		CHECK(i < 100);
	}
	// After all those failures the dir opens cleanly.
	CHECK_EQ_INT(open_expect(dir), RILL_OK);
}

RILL_TEST_MAIN_BEGIN
make_tmp_root();
RILL_TEST_RUN(test_new_dir_layout_and_stable_node_id);
RILL_TEST_RUN(test_second_open_in_same_process_is_locked);
RILL_TEST_RUN(test_open_from_another_process_is_locked);
RILL_TEST_RUN(test_damaged_node_id_is_corrupt);
RILL_TEST_RUN(test_newer_versions_are_refused);
RILL_TEST_RUN(test_v1_dir_becomes_v2);
RILL_TEST_RUN(test_foreign_dir_is_refused_untouched);
RILL_TEST_RUN(test_local_mode_files_and_check);
RILL_TEST_RUN(test_paths);
RILL_TEST_RUN(test_generations_roundtrip);
RILL_TEST_RUN(test_damaged_generation_is_corrupt);
RILL_TEST_RUN(test_allocation_failures_unwind);
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", tmp_root);
	}
}
RILL_TEST_MAIN_END
