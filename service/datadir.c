// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// datadir: the lock, the FORMAT and NODE_ID files, and the generation
// directories. Opening checks the layout before it takes the lock (so a
// foreign directory is left untouched) and again under the lock (so two
// processes racing on a new directory agree on who initialises it).
#include "datadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rill/status.h>

#include "clock.h"
#include "diag.h"
#include "file.h"
#include "hex.h"
#include "mem.h"

#define FORMAT_MAGIC "rill-data"
#define NODE_ID_MAGIC "rill-node-id"
#define GENERATION_MAGIC "rill-generation"
// ADOPTED marks a generation another node made and this one took while
// following it (see rill_datadir_generation_adopted).
#define ADOPTED_FILE "ADOPTED"
#define ADOPTED_TEXT "rill-adopted v1\n"
// The versions this rilld reads and writes. FORMAT v2: the store's
// de-duplication rows of clients are 32 bytes (service/client_mark.h),
// which a v1 rilld takes for damage; this rilld still opens a v1 dir and
// marks it v2 before its store is opened, so that an older rilld refuses
// it as newer instead.
#define FORMAT_VERSION 2
#define NODE_ID_VERSION 1
#define GENERATION_VERSION 1

// SMALL_FILE_MAX bounds FORMAT, NODE_ID and GENERATION: larger is damage.
#define SMALL_FILE_MAX 4096
// NEW_ID_TRIES bounds the retries when a random id is already taken.
#define NEW_ID_TRIES 8

struct rill_datadir {
	char *path;
	int   lock_fd;
	char  node_id[RILL_DATADIR_NODE_ID_LEN + 1];
};

static int
io_error(const char *what, const char *path)
{
	rill_diag_err("DATADIR-IO", "%s %s: %s", what, path, strerror(errno));
	return RILL_EIO;
}

static int
corrupt(const char *path, const char *why)
{
	rill_diag_err("DATADIR-CORRUPT", "%s is damaged: %s", path, why);
	return RILL_ECORRUPT;
}

static int
random_u64(uint64_t *vp)
{
	uint8_t  buf[8];
	size_t   got = 0;
	uint64_t v   = 0;

	while (got < sizeof(buf)) {
		ssize_t r = getrandom(buf + got, sizeof(buf) - got, 0);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			rill_diag_err(
			    "DATADIR-IO", "getrandom: %s", strerror(errno));
			return RILL_EIO;
		}
		got += (size_t) r;
	}
	for (size_t i = 0; i < sizeof(buf); i++) {
		v = v << 8 | buf[i];
	}
	*vp = v;
	return RILL_OK;
}

// parse_magic reads the first line of a file, "<magic> v<version>\n",
// and moves *sp past it. It returns false if the line is not that.
static bool
parse_magic(const char **sp, const char *magic, uint64_t *versionp)
{
	const char *s   = *sp;
	size_t      len = strlen(magic);
	uint64_t    v   = 0;

	if (strncmp(s, magic, len) != 0 || strncmp(s + len, " v", 2) != 0) {
		return false;
	}
	s += len + 2;
	if (*s < '1' || *s > '9') {
		return false;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10) {
			return false;
		}
		v = v * 10 + (uint64_t) (*s - '0');
	}
	if (*s != '\n') {
		return false;
	}
	*sp       = s + 1;
	*versionp = v;
	return true;
}

// check_magic reads the first line of the file at path (text at *sp) as
// parse_magic does, and judges it: RILL_OK for a version this rilld reads,
// RILL_EVERSION for a newer one, RILL_ECORRUPT for anything else. what
// names the file's kind in messages ("format", "node id").
static int
check_magic(const char **sp, const char *path, const char *magic,
    uint64_t max_version, const char *what, uint64_t *versionp)
{
	uint64_t version;
	char     why[96];

	if (!parse_magic(sp, magic, &version)) {
		snprintf(why, sizeof(why), "no \"%s v1\" line", magic);
		return corrupt(path, why);
	}
	if (version > max_version) {
		rill_diag_err("DATADIR-VERSION",
		    "%s was written by a newer rill (%s v%" PRIu64
		    "); this rilld reads v%" PRIu64,
		    path, what, version, max_version);
		return RILL_EVERSION;
	}
	if (versionp != NULL) {
		*versionp = version;
	}
	return RILL_OK;
}

// parse_hex16 reads exactly 16 lowercase hex digits and moves *sp past
// them.
static bool
parse_hex16(const char **sp, uint64_t *vp)
{
	if (!rill_hex16_parse(*sp, vp)) {
		return false;
	}
	*sp += 16;
	return true;
}

// parse_field reads "<name> <value>\n", the value 16 hex digits (hex) or
// a decimal number without leading zeros.
static bool
parse_field(const char **sp, const char *name, bool hex, uint64_t *vp)
{
	const char *s   = *sp;
	size_t      len = strlen(name);
	uint64_t    v   = 0;

	if (strncmp(s, name, len) != 0 || s[len] != ' ') {
		return false;
	}
	s += len + 1;
	if (hex) {
		if (!parse_hex16(&s, &v)) {
			return false;
		}
	} else {
		if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\n')) {
			return false;
		}
		for (; *s >= '0' && *s <= '9'; s++) {
			unsigned d = (unsigned) (*s - '0');
			if (v > (UINT64_MAX - d) / 10) {
				return false;
			}
			v = v * 10 + d;
		}
	}
	if (*s != '\n') {
		return false;
	}
	*sp = s + 1;
	*vp = v;
	return true;
}

// read_small reads a small text file; a NUL inside it is damage.
static int
read_small(const char *path, char **textp)
{
	uint8_t *data;
	size_t   len;
	int      rv;

	if ((rv = rill_file_read_all(path, SMALL_FILE_MAX, &data, &len)) !=
	    RILL_OK) {
		return rv;
	}
	if (memchr(data, '\0', len) != NULL) {
		rill_free(data);
		return corrupt(path, "it holds a NUL byte");
	}
	*textp = (char *) data;
	return RILL_OK;
}

// inspect_dir tells whether path holds a FORMAT file, and whether it is
// empty apart from what an interrupted initialisation leaves (LOCK and a
// FORMAT.tmp) and the files of rill_open_local, which come first.
static int
inspect_dir(const char *path, bool *has_formatp, bool *emptyp)
{
	DIR           *dir = opendir(path);
	struct dirent *de;

	if (dir == NULL) {
		return io_error("open directory", path);
	}
	*has_formatp = false;
	*emptyp      = true;
	errno        = 0;
	while ((de = readdir(dir)) != NULL) {
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    strcmp(name, "LOCK") == 0 ||
		    strcmp(name, "FORMAT.tmp") == 0 ||
		    strcmp(name, RILL_DATADIR_LOCAL_LOCK) == 0 ||
		    strcmp(name, RILL_DATADIR_LOCAL_SOCKET) == 0 ||
		    // A fresh ext4 volume mounted as the data dir holds it.
		    strcmp(name, "lost+found") == 0) {
			continue;
		}
		if (strcmp(name, "FORMAT") == 0) {
			*has_formatp = true;
		}
		*emptyp = false;
	}
	if (errno != 0) {
		int rv = io_error("read directory", path);
		closedir(dir);
		return rv;
	}
	closedir(dir);
	return RILL_OK;
}

static int
refuse_foreign(const char *path)
{
	rill_diag_err("DATADIR-FOREIGN",
	    "data dir %s holds files but no FORMAT file: it is not a rill "
	    "data dir; refusing to use it",
	    path);
	return RILL_FAILED_PRECONDITION;
}

// report_holder logs who holds the lock, from the pid it wrote in LOCK.
static void
report_holder(const char *path, int fd)
{
	char    buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long    pid;
	char   *end;

	buf[n > 0 ? n : 0] = '\0';
	pid                = strtol(buf, &end, 10);
	if (n <= 0 || end == buf || pid <= 0) {
		rill_diag_err("DATADIR-LOCKED",
		    "data dir %s is already in use by another process (pid "
		    "unknown)",
		    path);
	} else if (pid == (long) getpid()) {
		rill_diag_err("DATADIR-LOCKED",
		    "data dir %s is already in use by this process (pid %ld)",
		    path, pid);
	} else {
		rill_diag_err("DATADIR-LOCKED",
		    "data dir %s is already in use by another process (pid "
		    "%ld)",
		    path, pid);
	}
}

static int
take_lock(rill_datadir *dd)
{
	char buf[PATH_MAX];
	char pid[32];
	int  len;
	int  rv;

	if ((rv = rill_path_join(buf, sizeof(buf), dd->path, "LOCK")) !=
	    RILL_OK) {
		return rv;
	}
	dd->lock_fd = open(buf, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (dd->lock_fd < 0) {
		return io_error("open", buf);
	}
	while (flock(dd->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR) {
			continue;
		}
		if (errno == EWOULDBLOCK) {
			report_holder(dd->path, dd->lock_fd);
			rv = RILL_ELOCKED;
		} else {
			rv = io_error("lock", buf);
		}
		close(dd->lock_fd);
		dd->lock_fd = -1;
		return rv;
	}
	// The pid only serves the message of the next process that finds the
	// dir locked, so failing to write it is not fatal.
	len = snprintf(pid, sizeof(pid), "%ld\n", (long) getpid());
	if (ftruncate(dd->lock_fd, 0) != 0 ||
	    pwrite(dd->lock_fd, pid, (size_t) len, 0) != len) {
		rill_diag_warn("DATADIR-IO", "cannot write pid to %s: %s", buf,
		    strerror(errno));
	}
	return RILL_OK;
}

// check_format judges the FORMAT file at path and sets *versionp (may be
// NULL) to its version.
static int
check_format(const char *path, uint64_t *versionp)
{
	const char *p;
	char       *text;
	int         rv;

	if ((rv = read_small(path, &text)) != RILL_OK) {
		return rv == RILL_ENOENT ? corrupt(path, "it vanished") : rv;
	}
	p  = text;
	rv = check_magic(
	    &p, path, FORMAT_MAGIC, FORMAT_VERSION, "format", versionp);
	if (rv == RILL_OK && *p != '\0') {
		rv = corrupt(path, "unexpected text after the first line");
	}
	rill_free(text);
	return rv;
}

int
rill_datadir_check(const char *path)
{
	char format[PATH_MAX];
	int  rv;

	if ((rv = rill_path_join(format, sizeof(format), path, "FORMAT")) !=
	    RILL_OK) {
		return rv;
	}
	if (access(format, F_OK) != 0) {
		return errno == ENOENT ? RILL_NOT_FOUND
		                       : io_error("look at", format);
	}
	return check_format(format, NULL);
}

// setup_layout checks or initialises the dir; the lock is held.
static int
setup_layout(rill_datadir *dd)
{
	char     format[32];
	char     path[PATH_MAX];
	bool     has_format, empty;
	uint64_t version;
	int      rv, len;

	if ((rv = inspect_dir(dd->path, &has_format, &empty)) != RILL_OK) {
		return rv;
	}
	if ((rv = rill_path_join(path, sizeof(path), dd->path, "FORMAT")) !=
	    RILL_OK) {
		return rv;
	}
	len = snprintf(
	    format, sizeof(format), "%s v%d\n", FORMAT_MAGIC, FORMAT_VERSION);
	if (has_format) {
		if ((rv = check_format(path, &version)) != RILL_OK ||
		    version == FORMAT_VERSION) {
			return rv;
		}
		rill_diag_notice("DATADIR-UPGRADE",
		    "data dir %s: format v%" PRIu64 " becomes v%d (an older "
		    "rilld will refuse it as newer)",
		    dd->path, version, FORMAT_VERSION);
		return rill_file_write_atomic(path, format, (size_t) len);
	}
	if (!empty) {
		return refuse_foreign(dd->path);
	}
	rill_diag_notice("DATADIR-NEW", "initialising data dir %s", dd->path);
	return rill_file_write_atomic(path, format, (size_t) len);
}

static int
load_node_id(rill_datadir *dd)
{
	char        path[PATH_MAX];
	char        text[64];
	const char *p;
	char       *data;
	uint64_t    id;
	int         rv;

	if ((rv = rill_path_join(path, sizeof(path), dd->path, "NODE_ID")) !=
	    RILL_OK) {
		return rv;
	}
	rv = read_small(path, &data);
	if (rv == RILL_ENOENT) {
		if ((rv = random_u64(&id)) != RILL_OK) {
			return rv;
		}
		int len = snprintf(text, sizeof(text),
		    NODE_ID_MAGIC " v%d\n%016" PRIx64 "\n", NODE_ID_VERSION,
		    id);
		if ((rv = rill_file_write_atomic(path, text, (size_t) len)) !=
		    RILL_OK) {
			return rv;
		}
		snprintf(dd->node_id, sizeof(dd->node_id), "%016" PRIx64, id);
		rill_diag_notice("DATADIR-NODE-ID", "new node id %s in %s",
		    dd->node_id, path);
		return RILL_OK;
	}
	if (rv != RILL_OK) {
		return rv;
	}
	p  = data;
	rv = check_magic(
	    &p, path, NODE_ID_MAGIC, NODE_ID_VERSION, "node id", NULL);
	if (rv != RILL_OK) {
		// reported by check_magic
	} else if (!parse_hex16(&p, &id) || strcmp(p, "\n") != 0) {
		rv = corrupt(path, "the id is not 16 lowercase hex digits");
	} else {
		snprintf(dd->node_id, sizeof(dd->node_id), "%016" PRIx64, id);
	}
	rill_free(data);
	return rv;
}

int
rill_datadir_open(rill_datadir **ddp, const char *path)
{
	rill_datadir *dd;
	bool          has_format, empty;
	int           rv;

	if ((rv = rill_mkdirs(path)) != RILL_OK) {
		return rv;
	}
	// Refuse a foreign directory before the lock file is created in it.
	if ((rv = inspect_dir(path, &has_format, &empty)) != RILL_OK) {
		return rv;
	}
	if (!has_format && !empty) {
		return refuse_foreign(path);
	}
	if ((dd = rill_zalloc(sizeof(*dd))) == NULL) {
		return RILL_ENOMEM;
	}
	dd->lock_fd = -1;
	if ((dd->path = rill_strdup(path)) == NULL) {
		rv = RILL_ENOMEM;
		goto out_free;
	}
	if ((rv = take_lock(dd)) != RILL_OK) {
		goto out_free;
	}
	if ((rv = setup_layout(dd)) != RILL_OK) {
		goto out_unlock;
	}
	if ((rv = load_node_id(dd)) != RILL_OK) {
		goto out_unlock;
	}
	*ddp = dd;
	return RILL_OK;

out_unlock:
	close(dd->lock_fd);
out_free:
	rill_free(dd->path);
	rill_free(dd);
	return rv;
}

void
rill_datadir_close(rill_datadir *dd)
{
	if (dd == NULL) {
		return;
	}
	// Clear the pid first, so that LOCK never names a process that is
	// gone; closing the last descriptor releases the lock.
	if (ftruncate(dd->lock_fd, 0) != 0) {
		rill_diag_warn("DATADIR-IO",
		    "cannot clear the pid in %s/LOCK: %s", dd->path,
		    strerror(errno));
	}
	close(dd->lock_fd);
	rill_free(dd->path);
	rill_free(dd);
}

const char *
rill_datadir_path(const rill_datadir *dd)
{
	return dd->path;
}

const char *
rill_datadir_node_id(const rill_datadir *dd)
{
	return dd->node_id;
}

int
rill_datadir_store_path(const rill_datadir *dd, char *buf, size_t n)
{
	return rill_path_printf(buf, n, "%s/store", dd->path);
}

int
rill_datadir_generation_path(
    const rill_datadir *dd, uint64_t generation, char *buf, size_t n)
{
	return rill_path_printf(
	    buf, n, "%s/generations/%016" PRIx64, dd->path, generation);
}

int
rill_datadir_log_path(
    const rill_datadir *dd, uint64_t generation, char *buf, size_t n)
{
	return rill_path_printf(
	    buf, n, "%s/generations/%016" PRIx64 "/log", dd->path, generation);
}

// make_generations_dir creates <path>/generations if missing and makes its
// entry durable.
static int
make_generations_dir(rill_datadir *dd, char *buf, size_t n)
{
	int rv;

	if ((rv = rill_path_printf(buf, n, "%s/generations", dd->path)) !=
	    RILL_OK) {
		return rv;
	}
	if (mkdir(buf, 0755) == 0) {
		return rill_fsync_dir(dd->path);
	}
	if (errno != EEXIST) {
		return io_error("mkdir", buf);
	}
	return RILL_OK;
}

// place_generation writes the GENERATION file into tmp, a new directory,
// renames tmp to dir and makes the rename durable; on failure tmp is
// removed.
static int
place_generation(const char *gens, const char *tmp, const char *dir,
    uint64_t id, uint64_t parent, uint64_t parent_seq, uint64_t created_us,
    bool adopted)
{
	char file[PATH_MAX], mark[PATH_MAX];
	char text[256];
	int  len, rv;

	if ((rv = rill_path_join(file, sizeof(file), tmp, "GENERATION")) !=
	        RILL_OK ||
	    (rv = rill_path_join(mark, sizeof(mark), tmp, ADOPTED_FILE)) !=
	        RILL_OK) {
		rmdir(tmp);
		return rv;
	}
	if (adopted &&
	    (rv = rill_file_write_atomic(
	         mark, ADOPTED_TEXT, sizeof(ADOPTED_TEXT) - 1)) != RILL_OK) {
		goto out_remove;
	}
	len = snprintf(text, sizeof(text),
	    GENERATION_MAGIC " v%d\nid %016" PRIx64 "\nparent %016" PRIx64
	                     "\nparent_seq %" PRIu64 "\ncreated_us %" PRIu64
	                     "\n",
	    GENERATION_VERSION, id, parent, parent_seq, created_us);
	if ((rv = rill_file_write_atomic(file, text, (size_t) len)) !=
	    RILL_OK) {
		goto out_remove;
	}
	if (rename(tmp, dir) != 0) {
		rv = io_error("rename into place", dir);
		goto out_remove;
	}
	return rill_fsync_dir(gens);

out_remove:
	unlink(file);
	unlink(mark);
	rmdir(tmp);
	return rv;
}

int
rill_datadir_new_generation(rill_datadir *dd, uint64_t parent_generation,
    uint64_t parent_seq, uint64_t *generationp)
{
	char        gens[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX];
	struct stat st;
	uint64_t    id = 0;
	int         rv;

	if ((rv = make_generations_dir(dd, gens, sizeof(gens))) != RILL_OK) {
		return rv;
	}
	// Build the generation under a temporary name, then rename it into
	// place: a generation directory is complete or absent.
	for (int tries = 0;; tries++) {
		if (tries == NEW_ID_TRIES) {
			rill_diag_err("DATADIR-IO",
			    "no free generation id in %s after %d tries", gens,
			    NEW_ID_TRIES);
			return RILL_EIO;
		}
		if ((rv = random_u64(&id)) != RILL_OK) {
			return rv;
		}
		if (id == 0) {
			continue;
		}
		if ((rv = rill_datadir_generation_path(
		         dd, id, dir, sizeof(dir))) != RILL_OK ||
		    (rv = rill_path_printf(tmp, sizeof(tmp), "%s.tmp", dir)) !=
		        RILL_OK) {
			return rv;
		}
		if (lstat(dir, &st) == 0) {
			continue;
		}
		if (mkdir(tmp, 0755) == 0) {
			break;
		}
		if (errno != EEXIST) {
			return io_error("mkdir", tmp);
		}
	}
	if ((rv = place_generation(gens, tmp, dir, id, parent_generation,
	         parent_seq, rill_wall_us(), false)) != RILL_OK) {
		return rv;
	}
	rill_diag_info("DATADIR-GENERATION",
	    "new generation %016" PRIx64 " (parent %016" PRIx64
	    " at seq %" PRIu64 ") in %s",
	    id, parent_generation, parent_seq, dd->path);
	*generationp = id;
	return RILL_OK;
}

int
rill_datadir_adopt_generation(rill_datadir *dd, uint64_t id, uint64_t parent,
    uint64_t parent_seq, uint64_t created_us)
{
	char     gens[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX];
	uint64_t have_parent, have_seq;
	int      rv;

	if (id == 0) {
		return RILL_INVALID_ARGUMENT;
	}
	rv = rill_datadir_read_generation(
	    dd, id, &have_parent, &have_seq, NULL);
	if (rv == RILL_OK) {
		if (have_parent != parent || have_seq != parent_seq) {
			rill_diag_err("DATADIR-GENERATION",
			    "generation %016" PRIx64 " of %s began after seq "
			    "%" PRIu64 " of %016" PRIx64 ", not after seq "
			    "%" PRIu64 " of %016" PRIx64,
			    id, dd->path, have_seq, have_parent, parent_seq,
			    parent);
			return RILL_FAILED_PRECONDITION;
		}
		// Made by an older rilld, without the mark: it is the
		// leader's all the same.
		if (!rill_datadir_generation_adopted(dd, id)) {
			char mark[PATH_MAX];
			if ((rv = rill_datadir_generation_path(
			         dd, id, dir, sizeof(dir))) != RILL_OK ||
			    (rv = rill_path_join(mark, sizeof(mark), dir,
			         ADOPTED_FILE)) != RILL_OK) {
				return rv;
			}
			return rill_file_write_atomic(
			    mark, ADOPTED_TEXT, sizeof(ADOPTED_TEXT) - 1);
		}
		return RILL_OK;
	}
	if (rv != RILL_NOT_FOUND) {
		return rv;
	}
	if ((rv = make_generations_dir(dd, gens, sizeof(gens))) != RILL_OK ||
	    (rv = rill_datadir_generation_path(dd, id, dir, sizeof(dir))) !=
	        RILL_OK ||
	    (rv = rill_path_printf(tmp, sizeof(tmp), "%s.tmp", dir)) !=
	        RILL_OK) {
		return rv;
	}
	rill_remove_tree(tmp);
	if (mkdir(tmp, 0755) != 0) {
		return io_error("mkdir", tmp);
	}
	if ((rv = place_generation(gens, tmp, dir, id, parent, parent_seq,
	         created_us, true)) != RILL_OK) {
		return rv;
	}
	rill_diag_info("DATADIR-GENERATION",
	    "generation %016" PRIx64 " (parent %016" PRIx64 " at seq %" PRIu64
	    ") adopted in %s",
	    id, parent, parent_seq, dd->path);
	return RILL_OK;
}

bool
rill_datadir_generation_adopted(rill_datadir *dd, uint64_t generation)
{
	char dir[PATH_MAX], mark[PATH_MAX];

	return rill_datadir_generation_path(
	           dd, generation, dir, sizeof(dir)) == RILL_OK &&
	    rill_path_join(mark, sizeof(mark), dir, ADOPTED_FILE) == RILL_OK &&
	    access(mark, F_OK) == 0;
}

int
rill_datadir_read_generation(rill_datadir *dd, uint64_t generation,
    uint64_t *parentp, uint64_t *parent_seqp, uint64_t *created_usp)
{
	return rill_generation_read(
	    dd->path, generation, parentp, parent_seqp, created_usp);
}

int
rill_generation_read(const char *root, uint64_t generation, uint64_t *parentp,
    uint64_t *parent_seqp, uint64_t *created_usp)
{
	char        dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	const char *p;
	char       *text;
	uint64_t    id, parent, parent_seq, created_us;
	int         rv;

	if (generation == 0) {
		return RILL_NOT_FOUND;
	}
	if ((rv = rill_path_printf(dir, sizeof(dir),
	         "%s/generations/%016" PRIx64, root, generation)) != RILL_OK ||
	    (rv = rill_path_join(path, sizeof(path), dir, "GENERATION")) !=
	        RILL_OK) {
		return rv;
	}
	if ((rv = read_small(path, &text)) == RILL_ENOENT) {
		if (stat(dir, &st) != 0 && errno == ENOENT) {
			return RILL_NOT_FOUND;
		}
		return corrupt(path, "the file is missing");
	}
	if (rv != RILL_OK) {
		return rv;
	}
	p  = text;
	rv = check_magic(&p, path, GENERATION_MAGIC, GENERATION_VERSION,
	    "generation", NULL);
	if (rv != RILL_OK) {
		// reported by check_magic
	} else if (!parse_field(&p, "id", true, &id) ||
	    !parse_field(&p, "parent", true, &parent) ||
	    !parse_field(&p, "parent_seq", false, &parent_seq) ||
	    !parse_field(&p, "created_us", false, &created_us) || *p != '\0') {
		rv = corrupt(path, "a line is missing or malformed");
	} else if (id != generation) {
		rv = corrupt(path, "it names another generation id");
	} else if (parent == generation) {
		rv = corrupt(path, "the generation is its own parent");
	} else {
		if (parentp != NULL) {
			*parentp = parent;
		}
		if (parent_seqp != NULL) {
			*parent_seqp = parent_seq;
		}
		if (created_usp != NULL) {
			*created_usp = created_us;
		}
	}
	rill_free(text);
	return rv;
}

// generation_name parses a generations/ entry: 16 lowercase hex digits.
bool
rill_generation_parse_name(const char *name, uint64_t *idp)
{
	const char *p = name;

	return parse_hex16(&p, idp) && *p == '\0';
}

int
rill_datadir_latest_generation(
    rill_datadir *dd, uint64_t *generationp, uint64_t *parent_seqp)
{
	char           gens[PATH_MAX];
	DIR           *dir;
	struct dirent *de;
	uint64_t       best = 0, best_seq = 0, best_us = 0;
	int            rv;

	if ((rv = rill_path_printf(
	         gens, sizeof(gens), "%s/generations", dd->path)) != RILL_OK) {
		return rv;
	}
	if ((dir = opendir(gens)) == NULL) {
		return errno == ENOENT ? RILL_NOT_FOUND
		                       : io_error("open directory", gens);
	}
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		uint64_t id, seq, created_us;

		if (!rill_generation_parse_name(de->d_name, &id) || id == 0) {
			if (de->d_name[0] != '.') {
				rill_diag_debug("DATADIR-SKIP",
				    "skipping %s/%s: not a generation", gens,
				    de->d_name);
			}
			errno = 0;
			continue;
		}
		rv = rill_datadir_read_generation(
		    dd, id, NULL, &seq, &created_us);
		if (rv != RILL_OK) {
			// NOT_FOUND: the entry went away (or is not a
			// directory); anything else stops the listing.
			if (rv == RILL_NOT_FOUND) {
				errno = 0;
				continue;
			}
			closedir(dir);
			return rv;
		}
		if (best == 0 || created_us > best_us ||
		    (created_us == best_us && id > best)) {
			best     = id;
			best_seq = seq;
			best_us  = created_us;
		}
		errno = 0;
	}
	if (errno != 0) {
		rv = io_error("read directory", gens);
		closedir(dir);
		return rv;
	}
	closedir(dir);
	if (best == 0) {
		return RILL_NOT_FOUND;
	}
	if (generationp != NULL) {
		*generationp = best;
	}
	if (parent_seqp != NULL) {
		*parent_seqp = best_seq;
	}
	return RILL_OK;
}
