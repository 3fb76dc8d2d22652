/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An independent statement of the policy semantics of docs/policy.md,
 * evaluated on the named rules directly (no compilation): a flow is
 * rejected if any reject rule of any HMX VM matches it, otherwise accepted
 * if any accept rule or vif matches, otherwise rejected. Fuzzers and tests compare
 * policy_check() on the compiled set against it.
 */
#ifndef BH_FUZZ_POLICY_ORACLE_H
#define BH_FUZZ_POLICY_ORACLE_H

#include "toolstack/policy.h"

/* POLICY_ACCEPT or POLICY_REJECT for flow. */
enum policy_action policy_oracle_decide(const struct policy_vm *vms,
					size_t nvms,
					const struct policy_flow *flow);

#endif
