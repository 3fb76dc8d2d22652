/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HMX mediation core: the API the hypervisor (and tests, fuzzers, benchmarks)
 * call. Pure logic: guest memory is reached only through the per-domain
 * translate callback, interrupts only through the signal callback.
 * docs/hmx-abi.md specifies the semantics; this header is the C binding.
 *
 * All functions are thread-safe unless stated otherwise. Results are 0 (or a
 * non-negative count) on success, or a negative errno value.
 */
#ifndef BH_HMX_CORE_H
#define BH_HMX_CORE_H

#include <bulkhead/hmx.h>
#include <stddef.h>
#include <stdint.h>

struct hmx_host;

/*
 * Translate the guest-physical range [gpa, gpa + len) of a domain to a host
 * pointer, or NULL if any byte of it is outside the domain's RAM (MMIO holes
 * included) or the range is not contiguous in host memory. len is >= 1. The
 * pointer must stay valid until hmx_domain_remove() for the domain returns.
 * Called with HMX locks held: must not block or call into HMX.
 */
typedef void *(*hmx_translate_fn)(void *opaque, uint64_t gpa, uint64_t len);

/*
 * Raise HMX_IRQ_* bits for a domain. Called at most once per domain per
 * operation, after every HMX lock of the operation is released but inside
 * the operation: must not block or call into HMX (set a pending bit, kick an
 * eventfd or inject the MSI). May run concurrently on several threads.
 */
typedef void (*hmx_signal_fn)(void *opaque, uint32_t irq_bits);

/* Per-host limits. hmx_limits_default() fills in the documented defaults. */
struct hmx_limits {
	uint32_t max_rings_per_domain; /* default 1024; also sizes the hash */
	uint32_t max_ring_len; /* default and upper bound HMX_RING_MAX_LEN */
	uint64_t max_ring_bytes_per_domain; /* sum of ring lens; 256 MiB */
	uint32_t max_pending_per_ring; /* pending-space entries; default 128 */
	uint32_t max_firewall_rules; /* default 1 << 20 */
	uint32_t max_port_grants; /* ranges per domain; default 64 */
	uint32_t audit_capacity; /* audit entries kept; default 1024 */
};

void hmx_limits_default(struct hmx_limits *lim);

/* limits may be NULL for the defaults. -EINVAL for out-of-range limits. */
int hmx_host_create(const struct hmx_limits *limits, struct hmx_host **out);
/* Removes every remaining domain (with the teardown rule), then frees. */
void hmx_host_destroy(struct hmx_host *h);

struct hmx_domain_config {
	uint16_t domid; /* HMX_DOMID_HOST, or FIRST_GUEST..LAST_GUEST */
	hmx_translate_fn translate;
	void *translate_opaque;
	hmx_signal_fn signal;
	void *signal_opaque;
	uint32_t max_rings; /* 0: the host's max_rings_per_domain */
};

/* -EINVAL (bad domid, missing callback), -EEXIST, -ENOMEM. */
int hmx_domain_add(struct hmx_host *h, const struct hmx_domain_config *cfg);

/*
 * Tear a domain down (docs/hmx-abi.md, "Teardown"): its rings, other
 * domains' rings naming it, its pending entries; peers are told through
 * PEER_EVENTS and HMX_IRQ_PEER_GONE. When it returns, no HMX thread uses the
 * domain's memory or callbacks any more. Must not be called from a callback.
 * -ESRCH if no such domain.
 */
int hmx_domain_remove(struct hmx_host *h, uint16_t domid);

/*
 * The device entry point: run the hypercall block at call_gpa in domid's
 * memory (read once, dispatched, result and out fields written back).
 * Returns the result also written to the block; if the block itself is
 * misaligned, crosses a page or is outside RAM, nothing is written and
 * -EINVAL / -EFAULT is returned. -ESRCH: no such domain.
 */
int hmx_call(struct hmx_host *h, uint16_t domid, uint64_t call_gpa);

/*
 * Typed entry points: the op arguments are in host memory (already copied);
 * the arrays they point to (page list, iovs, ring data, domid buffer) are
 * in the domain's memory, exactly as on the device path, which calls these.
 */
int hmx_register_ring(struct hmx_host *h, uint16_t domid,
		      const struct hmx_register_ring *req);
int hmx_unregister_ring(struct hmx_host *h, uint16_t domid,
			const struct hmx_unregister_ring *req);
/* Returns the payload length sent. */
int hmx_sendv(struct hmx_host *h, uint16_t domid, const struct hmx_sendv *req);
/* ring_data_gpa: struct hmx_ring_data in domid's memory, or 0. */
int hmx_notify(struct hmx_host *h, uint16_t domid, uint64_t ring_data_gpa);
/* Fills req->count; returns it. */
int hmx_peer_events(struct hmx_host *h, uint16_t domid,
		    struct hmx_peer_events *req);

/* Firewall (host only). */
enum hmx_fw_action {
	HMX_FW_ACCEPT = 1,
	HMX_FW_REJECT = 2,
};

struct hmx_fw_rule {
	uint16_t src_domid; /* a domid or HMX_DOMID_ANY */
	uint16_t dst_domid; /* a domid or HMX_DOMID_ANY */
	uint32_t src_port; /* a port or HMX_PORT_ANY */
	uint32_t dst_port; /* a port or HMX_PORT_ANY */
	uint32_t action; /* enum hmx_fw_action */
};

/*
 * Replace the whole rule set atomically (every operation sees the old or
 * the new set). Counters start at zero with the new set. n == 0 means deny
 * everything. -EINVAL (bad rule), -E2BIG (more than max_firewall_rules),
 * -ENOMEM. Must not be called from a callback.
 */
int hmx_firewall_set(struct hmx_host *h, const struct hmx_fw_rule *rules,
		     uint32_t n);

struct hmx_fw_stats {
	uint64_t generation; /* 1 for the first hmx_firewall_set(), ... */
	uint32_t nrules;
	uint64_t default_denied; /* refusals by the default rule */
};

/*
 * Snapshot of the current set's counters: hits[i] for rule i, for
 * i < min(max, nrules). Returns nrules.
 */
int hmx_firewall_stats(struct hmx_host *h, struct hmx_fw_stats *st,
		       uint64_t *hits, uint32_t max);

/*
 * Copy the current rule set: rules[i] for i < min(max, nrules). Returns
 * nrules; *generation (if not NULL) gets the set's generation (0: none).
 */
int hmx_firewall_get(struct hmx_host *h, struct hmx_fw_rule *rules,
		     uint32_t max, uint64_t *generation);

/* Source-port grants (host only): ports a domain may send from without
 * owning a ring there. Replaces the domain's list. */
struct hmx_port_range {
	uint32_t first;
	uint32_t last; /* inclusive, first <= last */
};

int hmx_domain_set_port_grants(struct hmx_host *h, uint16_t domid,
			       const struct hmx_port_range *ranges, uint32_t n);

/* Audit log of refusals (host only). */
enum hmx_audit_reason {
	HMX_AUDIT_RULE = 1, /* a reject rule; rule holds its index */
	HMX_AUDIT_DEFAULT = 2, /* no rule matched: default deny; rule = -1 */
	HMX_AUDIT_SOURCE = 3, /* source port neither owned nor granted */
};

struct hmx_audit_entry {
	uint64_t time_ns; /* CLOCK_REALTIME */
	uint32_t op; /* enum hmx_op */
	uint32_t reason; /* enum hmx_audit_reason */
	struct hmx_addr src; /* src.aport is HMX_PORT_ANY for notify */
	struct hmx_addr dst;
	int32_t rule; /* rule index, or -1 */
	/*
	 * The rule set (hmx_fw_stats.generation) that decided a RULE or
	 * DEFAULT refusal, so rule is unambiguous across swaps; for SOURCE
	 * refusals, the set in force at the time. 0: no set installed yet.
	 */
	uint64_t generation;
	/*
	 * Identical refusals (all of the above but the time) folded into
	 * this entry while it waited to be read, and the time of the last:
	 * a repeating refusal takes one entry, not the log.
	 */
	uint32_t repeats;
	uint64_t last_ns;
};

/* How many of the newest unread entries a new refusal is folded into. */
#define HMX_AUDIT_FOLD_WINDOW 32u

/*
 * Move up to max of the oldest entries to out (they are removed). *dropped
 * (if not NULL) gets the number of refusals not logged because the log was
 * full since the host was created. Returns the number of entries copied.
 */
uint32_t hmx_audit_read(struct hmx_host *h, struct hmx_audit_entry *out,
			uint32_t max, uint64_t *dropped);

#endif
