// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// rillctl_history: rillctl's restore and validate commands. Each takes
// the command's own arguments (argv[0] is the command name) and returns
// rillctl's exit code.
#ifndef RILLCTL_HISTORY_H
#define RILLCTL_HISTORY_H

int rillctl_restore(int argc, char **argv);
int rillctl_validate(int argc, char **argv);

#endif // RILLCTL_HISTORY_H
