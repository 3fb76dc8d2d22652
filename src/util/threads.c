// SPDX-License-Identifier: GPL-2.0-only
#include "util/threads.h"

#include <dirent.h>

bool proc_single_threaded(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	if (!d)
		return false;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n == 1;
}
