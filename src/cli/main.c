// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead: the command-line interface to bulkheadd (bulkhead(1)). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define COMMON "  -h, --help       this text\n"

const struct verb cli_verbs[] = {
	{ "create", cmd_create, "define a VM from a file and start it",
	  "usage: bulkhead create [--no-start] FILE\n"
	  "\n"
	  "Reads the VM definition FILE (docs/vm-config.md), registers it with\n"
	  "bulkheadd under the VM's name and starts the VM. A VM already defined\n"
	  "by another file is redefined if it is not running.\n"
	  "\n"
	  "  -n, --no-start   register the definition only\n" COMMON },
	{ "start", cmd_start, "start a defined VM",
	  "usage: bulkhead start NAME\n"
	  "\n"
	  "Starts the defined VM NAME from its definition file, read afresh.\n"
	  "The stopped backends its vifs need (an NDVM, a VPN VM) start first.\n"
	  "\n" COMMON },
	{ "list", cmd_list, "list VMs and their state",
	  "usage: bulkhead list [--json] [NAME...]\n"
	  "\n"
	  "Lists the defined VMs (or those named): domid, role, memory, vCPUs,\n"
	  "disks (their vdevs, \"(ro)\" for read-only ones), state, uptime,\n"
	  "and why a stopped VM stopped.\n"
	  "\n"
	  "  -j, --json       print the daemon's JSON instead of a table\n" COMMON },
	{ "block-list", cmd_block_list, "list a VM's disks",
	  "usage: bulkhead block-list [--json] NAME\n"
	  "\n"
	  "Lists the disks of VM NAME in guest order (the first is /dev/vda):\n"
	  "its vdev, the image or back-end socket, format, access, back end\n"
	  "(bulkhead-blk or an external vhost-user one), the device model's pid\n"
	  "and state (running, exited, connected; off while the VM is stopped).\n"
	  "\n"
	  "  -j, --json       print the daemon's JSON instead of a table\n" COMMON },
	{ "network-list", cmd_network_list, "list a VM's network interfaces",
	  "usage: bulkhead network-list [--json] NAME\n"
	  "\n"
	  "Lists the vifs of VM NAME (its vif = [ ... ], docs/vm-config.md), as\n"
	  "xl network-list does: the vif's number (hmxN in the guest), its\n"
	  "backend VM and that VM's domid, the MAC (the one given with mac=,\n"
	  "or the one hmxnet derives, 02:48:4d:DOMID:N), the addresses of ip=,\n"
	  "and the state: up (the backend runs at the domid the guest was\n"
	  "given), backend-stopped, backend-moved (restarted under another\n"
	  "domid: restart the guest), or off while NAME is not running.\n"
	  "\n"
	  "  -j, --json       print the daemon's JSON instead of a table\n" COMMON },
	{ "measure", cmd_measure, "show what was measured when a VM started",
	  "usage: bulkhead measure [--json | --eventlog] NAME\n"
	  "       bulkhead measure --host [--json | --eventlog | --compare LOG]\n"
	  "\n"
	  "Prints the measurement log of VM NAME's running instance, taken\n"
	  "before its first instruction (docs/measured-launch.md): per event its\n"
	  "number, PCR, event type, what was measured (kernel, initrd, cmdline,\n"
	  "config, rules, and each disk with measure=on or verify=) and the\n"
	  "SHA-256, then the PCR value the log replays to from zero. The log is\n"
	  "a TCG PC Client crypto-agile event log; tpm2_eventlog reads it.\n"
	  "\n"
	  "  -j, --json       print the daemon's JSON instead of a table\n"
	  "  -e, --eventlog   write the binary log to standard output (not a\n"
	  "                   terminal): tpm2_eventlog <(bulkhead measure -e NAME)\n"
	  "  -H, --host       the host's log instead: what bulkheadd measured at\n"
	  "                   its start (bulkheadd, bulkhead-hv, bulkhead-blk,\n"
	  "                   bulkhead-net, its settings, the policy files) into\n"
	  "                   PCR 13, and the TPM's value of that PCR\n"
	  "  -C, --compare LOG  with --host: compare this start's measurements with\n"
	  "                   a host log recorded earlier (--host --eventlog) and\n"
	  "                   name the first component that differs (exit 1)\n" COMMON },
	{ "tpm", cmd_tpm, "show the TPM bulkheadd uses",
	  "usage: bulkhead tpm status [--json]\n"
	  "\n"
	  "Shows the TPM bulkheadd extends measurements into (its TPM setting,\n"
	  "docs/measured-launch.md): its TCTI and manufacturer, PCR 13 (the\n"
	  "host's measurements) and PCR 23 (VM launches), its dictionary-attack\n"
	  "state (lockout counter, limit, interval) and the transient objects\n"
	  "and sessions loaded in it. Without a TPM it says so and exits 6.\n"
	  "\n"
	  "  -j, --json       print the daemon's JSON instead\n" COMMON },
	{ "console", cmd_console, "attach to a VM's serial console",
	  "usage: bulkhead console [--no-history] NAME\n"
	  "\n"
	  "Attaches the terminal to the serial console of VM NAME (serial = \"pty\").\n"
	  "Ctrl-] detaches. The terminal is put in raw mode and restored on exit.\n"
	  "Without a terminal, standard input is sent to the VM as it comes; a\n"
	  "Ctrl-] byte in it detaches, and so does its end once the VM has been\n"
	  "quiet for a second. The command also ends when the VM stops.\n"
	  "\n"
	  "      --no-history don't replay the last 64 KiB of output first\n" COMMON },
	{ "shutdown", cmd_shutdown, "ask a VM to shut down and wait",
	  "usage: bulkhead shutdown [--timeout DURATION] [--force] [--no-wait] NAME\n"
	  "\n"
	  "Asks VM NAME to shut down (Ctrl-Alt-Del on its keyboard controller)\n"
	  "and waits until it has stopped.\n"
	  "\n"
	  "  -t, --timeout D  how long to wait (default 60s; 500ms, 90s, 2m)\n"
	  "  -f, --force      destroy the VM if it has not stopped by then\n"
	  "  -w, --no-wait    return once the request is delivered\n" COMMON
	  "\n"
	  "Exit status 4 if the VM did not stop in time (and --force was not given).\n" },
	{ "destroy", cmd_destroy, "stop a VM at once",
	  "usage: bulkhead destroy NAME\n"
	  "\n"
	  "Stops VM NAME immediately, like pulling its power cord.\n"
	  "\n" COMMON },
	{ "pause", cmd_pause, "stop a VM's vCPUs",
	  "usage: bulkhead pause NAME\n"
	  "\n"
	  "Stops every vCPU of VM NAME; its memory and devices stay.\n"
	  "\n" COMMON },
	{ "unpause", cmd_unpause, "let a paused VM run again",
	  "usage: bulkhead unpause NAME\n"
	  "\n" COMMON },
	{ "reboot", cmd_reboot, "shut a VM down cleanly and start it again",
	  "usage: bulkhead reboot [--timeout DURATION] [--force] NAME\n"
	  "\n"
	  "Asks VM NAME to shut down, then starts it again from the definition\n"
	  "it was running, and waits until the new instance runs.\n"
	  "\n"
	  "  -t, --timeout D  how long to wait for the clean shutdown (default 60s)\n"
	  "  -f, --force      destroy and restart at once (or, with --timeout\n"
	  "                   given, when the clean shutdown takes too long)\n" COMMON },
	{ "logs", cmd_logs, "show a VM's console log",
	  "usage: bulkhead logs [--hypervisor] [--follow] NAME\n"
	  "\n"
	  "Prints the console output of VM NAME kept by bulkheadd (serial = \"pty\")\n"
	  "or written to its file (serial = \"file:PATH\").\n"
	  "\n"
	  "  -H, --hypervisor the hypervisor's log lines about NAME instead\n"
	  "  -f, --follow     keep printing what is appended (until interrupted)\n" COMMON },
	{ "policy", cmd_policy, "show or check the HMX firewall policy",
	  "usage: bulkhead policy show [--json] [--audit N]\n"
	  "       bulkhead policy check SOURCE DESTINATION\n"
	  "       bulkhead policy check --call SOURCE TARGET SERVICE[+ARG]\n"
	  "\n"
	  "show: the compiled firewall rules of the running VMs (first match\n"
	  "wins, default deny), with the hypervisor's per-rule hit counters and\n"
	  "the last N entries of its audit log (default 20; 0 for none).\n"
	  "\n"
	  "check: which rule decides the flow from SOURCE to DESTINATION, each\n"
	  "written host:PORT or NAME:PORT. Exit status 0 if it is accepted,\n"
	  "7 if it is rejected.\n"
	  "\n"
	  "check --call: which service rule (the *.svcpolicy files of the\n"
	  "daemon's config directory) decides a call from the running VM SOURCE\n"
	  "to TARGET (a VM name, @dispvm or @dispvm:TEMPLATE), naming its file\n"
	  "and line. Exit status 0 if it is allowed or asked, 7 if denied.\n"
	  "\n"
	  "  -j, --json       show: print the daemon's JSON instead of tables\n"
	  "  -a, --audit N    show: audit entries to print\n" COMMON },
	{ "disk", cmd_disk, "create and inspect disk images (runs locally)",
	  "usage: bulkhead disk SUBVERB [options] ...\n"
	  "\n"
	  "Disk image tools. They work on the image files themselves, like\n"
	  "qemu-img and cryptsetup; bulkheadd need not run.\n"
	  "\n"
	  "  create [--encrypt] ... IMAGE SIZE  a raw or LUKS2 encrypted image\n"
	  "  info [--json] IMAGE                what an image is (raw, LUKS,\n"
	  "                                     dm-verity hashes)\n"
	  "  passwd [--add] ... IMAGE           change or add a LUKS passphrase\n"
	  "  measure IMAGE                      its SHA-256, for verify=\n"
	  "  verity-format IMAGE [HASHFILE]     a dm-verity hash tree, for verity=\n"
	  "\n"
	  "'bulkhead disk SUBVERB --help' describes each.\n" },
	{ 0 },
};

const struct verb *cli_verb(const char *name)
{
	for (const struct verb *v = cli_verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bulkhead [--state-dir DIR] VERB [options] [arguments]\n"
		"\n"
		"Drives Bulkhead VMs through the toolstack daemon bulkheadd.\n"
		"\n"
		"Verbs:\n");
	for (const struct verb *v = cli_verbs; v->name; v++)
		fprintf(out, "  %-12s %s\n", v->name, v->summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  -s, --state-dir DIR  where bulkheadd's socket is (default\n"
		"                       /run/bulkhead, or $BULKHEAD_STATE_DIR)\n"
		"  -h, --help           this text; 'bulkhead VERB --help' for a verb\n"
		"  -V, --version        the version\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error, 3 no such VM,\n"
		"4 timeout, 5 bulkheadd unreachable, 6 not possible in the VM's\n"
		"current state, 7 flow rejected (policy check).\n");
}

int main(int argc, char **argv)
{
	const char *env = getenv("BULKHEAD_STATE_DIR");
	const struct verb *v;
	int i = 1;

	if (env && env[0])
		cli_state_dir = env;
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("bulkhead %s\n", BULKHEAD_VERSION);
			return EXIT_OK;
		}
		if ((!strcmp(a, "-s") || !strcmp(a, "--state-dir")) &&
		    i + 1 < argc) {
			cli_state_dir = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strncmp(a, "--state-dir=", 12)) {
			cli_state_dir = a + 12;
			i++;
			continue;
		}
		fprintf(stderr, "bulkhead: unknown option \"%s\"\n", a);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc && (v = cli_verb(argv[i + 1]))) {
			fputs(v->usage, stdout);
			return EXIT_OK;
		}
		usage(stdout);
		return EXIT_OK;
	}
	v = cli_verb(argv[i]);
	if (!v) {
		fprintf(stderr, "bulkhead: unknown verb \"%s\"\n", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return v->run(argc - i, argv + i);
}
