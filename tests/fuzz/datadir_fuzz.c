// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// datadir_fuzz: arbitrary bytes as one of the data dir's small files
// (FORMAT, NODE_ID or a generation's GENERATION), in a fresh data dir that
// is then reopened and, if that succeeds, asked for its latest generation.
// Any error is fine; a crash, a leak, or a file that is accepted without
// being exactly what rilld itself writes is a bug (datadir.h promises
// damage is refused, never half-read). Built with -DRILL_LIBFUZZER it is a
// libFuzzer target; otherwise replay_main.c replays the files (or
// directories of files) named on the command line, which is how ctest runs
// the corpus.
//
// Input: one byte whose value modulo 3 picks the file (0 FORMAT, 1 NODE_ID,
// 2 GENERATION), then the file's bytes. The generation is created with
// rill_datadir_new_generation, then renamed to FUZZ_GENERATION so that a
// corpus file can name its id.
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rill/status.h>

#include "datadir.h"

#define FUZZ_GENERATION UINT64_C(0x00000000f0220001)

enum which {
	FILE_FORMAT,
	FILE_NODE_ID,
	FILE_GENERATION,
	N_FILES,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void) st;
	(void) f;
	if (flag == FTW_DP) {
		rmdir(path);
	} else {
		unlink(path);
	}
	return 0;
}

// remove_tree removes dir and everything under it.
static void
remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size)) {
		abort();
	}
	close(fd);
}

// make_data_dir creates a data dir at path, and the generation
// FUZZ_GENERATION in it when with_generation is set; it writes the path of
// that generation's GENERATION file into gen_file.
static void
make_data_dir(const char *path, bool with_generation, char *gen_file, size_t n)
{
	rill_datadir *dd;
	char          from[512], to[512];
	uint64_t      id;

	if (rill_datadir_open(&dd, path) != RILL_OK) {
		abort();
	}
	if (with_generation) {
		if (rill_datadir_new_generation(dd, 0, 0, &id) != RILL_OK ||
		    rill_datadir_generation_path(dd, id, from, sizeof(from)) !=
		        RILL_OK ||
		    rill_datadir_generation_path(
		        dd, FUZZ_GENERATION, to, sizeof(to)) != RILL_OK ||
		    rename(from, to) != 0) {
			abort();
		}
		snprintf(gen_file, n, "%s/GENERATION", to);
	}
	rill_datadir_close(dd);
}

// check_open checks the reopened dd against the file that was written:
// a file is accepted only in the exact form rilld writes.
static void
check_open(
    rill_datadir *dd, enum which which, const uint8_t *data, size_t size)
{
	char     want[256];
	int      len = 0;
	uint64_t gen, parent, parent_seq, created_us;
	int      rv;

	switch (which) {
	case FILE_FORMAT:
		// v2, or v1 (which this rilld still reads).
		len = snprintf(want, sizeof(want), "rill-data v%c\n",
		    size == 13 && memcmp(data, "rill-data v1\n", 13) == 0
		        ? '1'
		        : '2');
		break;
	case FILE_NODE_ID:
		len = snprintf(want, sizeof(want), "rill-node-id v1\n%s\n",
		    rill_datadir_node_id(dd));
		break;
	default:
		rv = rill_datadir_latest_generation(dd, &gen, &parent_seq);
		if (rv != RILL_OK) {
			if (rv != RILL_ECORRUPT && rv != RILL_EVERSION &&
			    rv != RILL_EIO) {
				abort();
			}
			return;
		}
		if (gen != FUZZ_GENERATION ||
		    rill_datadir_read_generation(
		        dd, gen, &parent, NULL, &created_us) != RILL_OK) {
			abort();
		}
		len = snprintf(want, sizeof(want),
		    "rill-generation v1\nid %016" PRIx64 "\nparent %016" PRIx64
		    "\nparent_seq %" PRIu64 "\ncreated_us %" PRIu64 "\n",
		    gen, parent, parent_seq, created_us);
		break;
	}
	if (len < 0 || (size_t) len != size || memcmp(want, data, size) != 0) {
		abort(); // accepted a file rilld would not have written
	}
	if (which != FILE_GENERATION &&
	    rill_datadir_latest_generation(dd, NULL, NULL) != RILL_NOT_FOUND) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char          tmp[] = "/tmp/rill-datadir-fuzz-XXXXXX";
	char          path[128], file[512];
	enum which    which;
	rill_datadir *dd;
	int           rv;

	if (size < 1) {
		return 0;
	}
	which = (enum which)(data[0] % N_FILES);
	data++;
	size--;
	if (mkdtemp(tmp) == NULL) {
		abort();
	}
	snprintf(path, sizeof(path), "%s/data", tmp);
	make_data_dir(path, which == FILE_GENERATION, file, sizeof(file));
	if (which == FILE_FORMAT) {
		snprintf(file, sizeof(file), "%s/FORMAT", path);
	} else if (which == FILE_NODE_ID) {
		snprintf(file, sizeof(file), "%s/NODE_ID", path);
	}
	write_file(file, data, size);
	rv = rill_datadir_open(&dd, path);
	if (rv == RILL_OK) {
		check_open(dd, which, data, size);
		rill_datadir_close(dd);
	} else if (rv != RILL_ECORRUPT && rv != RILL_EVERSION &&
	    rv != RILL_EIO) {
		abort(); // not an error datadir.h lists for a damaged file
	}
	remove_tree(tmp);
	return 0;
}
