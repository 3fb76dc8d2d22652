/* SPDX-License-Identifier: GPL-2.0-only */
/* `bulkhead-hv run`: start one VM from the command line and wait for it. */
#ifndef BH_HV_RUN_H
#define BH_HV_RUN_H

#include <stdio.h>

/* Exit statuses, documented in bulkhead-hv --help and docs/architecture.md. */
enum hv_exit {
	HV_EXIT_POWEROFF = 0,
	HV_EXIT_ERROR = 1,
	HV_EXIT_USAGE = 2,
	HV_EXIT_REBOOT = 10,
	HV_EXIT_CRASH = 11,
	HV_EXIT_DESTROYED = 12,
};

int hv_run_main(int argc, char **argv);
void hv_run_usage(FILE *out);

#endif
