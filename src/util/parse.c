// SPDX-License-Identifier: GPL-2.0-only
#include "util/parse.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

static int parse_digits(const char *s, const char **end, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!isxdigit((unsigned char)*p) ||
	    (base == 10 && !isdigit((unsigned char)*p)))
		return -EINVAL;
	for (; *p; p++) {
		unsigned int d;

		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = (tolower((unsigned char)*p) - 'a') + 10;
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*end = p;
	*out = v;
	return 0;
}

int bh_parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	int ret;

	if (!s)
		return -EINVAL;
	ret = parse_digits(s, &end, out);
	if (ret)
		return ret;
	return *end ? -EINVAL : 0;
}

int bh_parse_size(const char *s, unsigned int default_shift, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned int shift = default_shift;
	const char *end, *u;
	uint64_t v;
	int ret;

	if (!s)
		return -EINVAL;
	ret = parse_digits(s, &end, &v);
	if (ret)
		return ret;
	if (*end) {
		u = strchr(units, toupper((unsigned char)*end));
		if (!u || !*u)
			return -EINVAL;
		shift = 10 * (unsigned int)(u - units + 1);
		end++;
		if (*end && strcasecmp(end, "iB") && strcasecmp(end, "B"))
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}
