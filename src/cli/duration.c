// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "util/parse.h"

int cli_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = { { "ms", 1 },
		      { "s", 1000 },
		      { "m", 60000 },
		      { "h", 3600000 },
		      { "", 1000 } };
	char num[32];

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t len = strlen(s), sl = strlen(units[i].suffix);
		uint64_t v;

		if (len <= sl || len - sl >= sizeof(num) ||
		    strcmp(s + len - sl, units[i].suffix))
			continue;
		memcpy(num, s, len - sl);
		num[len - sl] = '\0';
		if (num[0] < '0' || num[0] > '9' || strchr(num, 'x') ||
		    bh_parse_u64(num, &v) < 0)
			return -EINVAL;
		if (v > (uint64_t)INT64_MAX / units[i].mult / 2)
			return -EINVAL;
		*ms = (int64_t)(v * units[i].mult);
		return 0;
	}
	return -EINVAL;
}
