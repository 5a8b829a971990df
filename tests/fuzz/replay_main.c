// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// replay_main: the main of each fuzz target built as a plain program. It
// calls the target's LLVMFuzzerInitialize, if it has one, then
// LLVMFuzzerTestOneInput on each file (or each file of a directory, names
// starting with '.' left out) named on the command line, and prints
// "N passed, M failed": a file that cannot be read fails (exit 1), a bug
// in the target aborts. This is how ctest runs the corpora. Built with
// RILL_FUZZ the targets use libFuzzer's own main instead, without this
// file.
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
// Optional, as for libFuzzer: weak, so that it is NULL where the target
// does not define it.
__attribute__((weak)) int LLVMFuzzerInitialize(int *argcp, char ***argvp);

// replay_file runs one corpus file; it returns 0 or -1.
static int
replay_file(const char *path)
{
	FILE    *f = fopen(path, "rb");
	uint8_t *buf;
	long     n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		if (f != NULL) {
			fclose(f);
		}
		return -1;
	}
	if ((buf = malloc((size_t) n + 1)) == NULL ||
	    fread(buf, 1, (size_t) n, f) != (size_t) n) {
		fprintf(stderr, "cannot read %s\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t) n);
	free(buf);
	return 0;
}

// replay runs path, or every file in it when it is a directory, counting
// the files run in *passedp and those unreadable in *failedp.
static void
replay(const char *path, int *passedp, int *failedp)
{
	struct stat    st;
	DIR           *d = NULL;
	struct dirent *de;
	char           sub[4096];

	if (stat(path, &st) != 0 ||
	    (S_ISDIR(st.st_mode) && (d = opendir(path)) == NULL)) {
		fprintf(stderr, "cannot read %s\n", path);
		(*failedp)++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (replay_file(path) == 0) {
			(*passedp)++;
		} else {
			(*failedp)++;
		}
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') {
			continue;
		}
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		replay(sub, passedp, failedp);
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	if (LLVMFuzzerInitialize != NULL) {
		LLVMFuzzerInitialize(&argc, &argv);
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		replay(argv[i], &passed, &failed);
	}
	fprintf(stderr, "%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
