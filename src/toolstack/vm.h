/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What identifies a VM to the toolstack: its role and its name. Shared by
 * the definition parser (`role = ...`) and the policy language (whose
 * `type=` selectors name a role), which must agree on which names are valid.
 */
#ifndef BH_TOOLSTACK_VM_H
#define BH_TOOLSTACK_VM_H

#include <stdbool.h>
#include <stddef.h>

enum vm_role {
	VM_ROLE_GUEST,
	VM_ROLE_NDVM,
	VM_ROLE_SERVICE,
};
#define VM_ROLE_COUNT 3

/* Longest VM name in bytes, excluding the terminating NUL. */
#define VM_NAME_MAX 32

/* "guest", "ndvm" or "service". */
const char *vm_role_name(enum vm_role role);

/* Looks up a role by its exact name (len bytes of s). */
bool vm_role_from_name(const char *s, size_t len, enum vm_role *out);

/*
 * Checks len bytes of s as a VM name: 1..VM_NAME_MAX bytes of [A-Za-z0-9._-],
 * starting with a letter or digit, not one of the policy keywords (host,
 * myself, any in any letter case). Returns NULL if valid, otherwise a
 * sentence saying what is wrong.
 */
const char *vm_name_problem(const char *s, size_t len);

/* True for the bytes a VM name may contain. */
bool vm_name_char(char c);

#endif
