// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/vm.h"

#include <string.h>
#include <strings.h>

static const char *const role_names[VM_ROLE_COUNT] = {
	[VM_ROLE_GUEST] = "guest",
	[VM_ROLE_NDVM] = "ndvm",
	[VM_ROLE_SERVICE] = "service",
};

/* Names that would read as policy selectors in `policy show` output. */
static const char *const reserved_names[] = { "host", "myself", "any" };

const char *vm_role_name(enum vm_role role)
{
	if ((unsigned int)role >= VM_ROLE_COUNT)
		return "invalid";
	return role_names[role];
}

bool vm_role_from_name(const char *s, size_t len, enum vm_role *out)
{
	for (unsigned int i = 0; i < VM_ROLE_COUNT; i++) {
		if (strlen(role_names[i]) == len &&
		    !memcmp(role_names[i], s, len)) {
			*out = (enum vm_role)i;
			return true;
		}
	}
	return false;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

bool vm_name_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

const char *vm_name_problem(const char *s, size_t len)
{
	if (len == 0)
		return "a VM name must not be empty";
	if (len > VM_NAME_MAX)
		return "a VM name is at most 32 characters";
	if (!is_alnum(s[0]))
		return "a VM name must start with a letter or digit";
	for (size_t i = 0; i < len; i++) {
		if (!vm_name_char(s[i]))
			return "a VM name may contain only letters, digits, '.', '_' and '-'";
	}
	for (size_t i = 0; i < sizeof(reserved_names) / sizeof(*reserved_names);
	     i++) {
		if (strlen(reserved_names[i]) == len &&
		    !strncasecmp(reserved_names[i], s, len))
			return "host, myself and any are reserved words, not VM names";
	}
	return NULL;
}
