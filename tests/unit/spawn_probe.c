// SPDX-License-Identifier: GPL-2.0-only
/*
 * What test_spawn starts through devmodel_spawn(): it reports, on
 * descriptor 3, how it was started (pid, session, ids, open descriptors,
 * blocked and ignored signals, namespaces, environment), then does what
 * argv[1] says: "report" exits 0, "wait" waits on descriptor 4 until it
 * reads end of file.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	static const char *const ns[] = { "pid", "net", "mnt",
					  "ipc", "uts", "user" };
	FILE *out = fdopen(3, "w");
	struct sigaction sa;
	sigset_t mask;
	char link[256], path[64], c;
	int ignored = 0;

	if (!out)
		return 2;
	fprintf(out, "pid %d\nsid %d\nuid %u\n", (int)getpid(), (int)getsid(0),
		(unsigned int)getuid());
	fprintf(out, "fds");
	for (int fd = 0; fd < 256; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			fprintf(out, " %d", fd);
	fprintf(out, "\n");
	sigprocmask(SIG_BLOCK, NULL, &mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			ignored++;
	fprintf(out, "blocked %d\nignored %d\n", sigismember(&mask, SIGTERM),
		ignored);
	for (unsigned int i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		fprintf(out, "ns %s\n", link);
	}
	for (char **e = environ; *e; e++)
		fprintf(out, "env %s\n", *e);
	fprintf(out, "end\n");
	fclose(out);
	if (argc > 1 && !strcmp(argv[1], "wait"))
		while (read(4, &c, 1) > 0)
			;
	return 0;
}
