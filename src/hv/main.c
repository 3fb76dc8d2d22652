// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead-hv: the hypervisor process. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hv/run.h"
#include "hv/serve.h"
#include "util/log.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bulkhead-hv COMMAND [options]\n"
		"\n"
		"The Bulkhead hypervisor process: all VMs of a host, on KVM.\n"
		"\n"
		"Commands:\n"
		"  run      boot one VM from the command line and wait for it\n"
		"  serve    host VMs for a toolstack, over the control socket\n"
		"\n"
		"Run 'bulkhead-hv COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	bh_log_init("bulkhead-hv", BH_LOG_INFO);
	/*
	 * A console client, a control client or a device model that goes
	 * away mid-write is that peer's end, never the hypervisor's: write
	 * gets EPIPE and the connection is dropped.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return HV_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("bulkhead-hv %s\n", BULKHEAD_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return hv_run_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return hv_serve_main(argc - 1, argv + 1);
	bh_err("unknown command \"%s\"", argv[1]);
	usage(stderr);
	return HV_EXIT_USAGE;
}
