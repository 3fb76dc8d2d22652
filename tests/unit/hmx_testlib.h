/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test guests for the HMX core: a buffer of "guest RAM" with an MMIO hole,
 * a signal recorder, and helpers that go through the real device entry
 * point (hmx_call) with blocks, iovs and page lists in guest memory. The
 * ring reader here is written independently of src/hmx/consumer.c so that
 * the layout is checked by a second implementation.
 */
#ifndef BH_TESTS_HMX_TESTLIB_H
#define BH_TESTS_HMX_TESTLIB_H

#include "hmx/core.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define TG_RAM_SIZE (24u << 20)
#define TG_HOLE_LO (4u << 20) /* an MMIO hole inside "RAM" */
#define TG_HOLE_HI ((4u << 20) + (64u << 10))

struct tg {
	struct hmx_host *h;
	uint16_t domid;
	uint8_t *mem;
	uint64_t size;
	uint64_t brk;
	uint64_t call_gpa;
	uint64_t scratch; /* tg_send()'s buffer */
	uint32_t notify_src_aport; /* tg_notify()'s src_aport; HMX_PORT_ANY */
	_Atomic uint32_t irq; /* bits raised since the last tg_take_irq() */
	_Atomic uint32_t nsig; /* signal callback invocations */
	/* Optional: called after the bits are recorded (stress test). */
	void (*hook)(struct tg *g, uint32_t bits);
	void *hook_arg;
};

struct tring {
	struct tg *g;
	uint32_t aport;
	uint16_t partner;
	uint32_t len;
	uint32_t npages;
	uint64_t pfns[4200];
};

struct tg *tg_new(struct hmx_host *h, uint16_t domid);
/* Removes the domain if still registered, then frees the memory. */
void tg_free(struct tg *g);
void *tg_translate(void *opaque, uint64_t gpa, uint64_t len);
uint64_t tg_alloc(struct tg *g, uint64_t size, uint64_t align);
void *tg_ptr(struct tg *g, uint64_t gpa);
uint32_t tg_take_irq(struct tg *g);

/* Run a call block through hmx_call(); *c gets the block written back. */
int tg_call(struct tg *g, struct hmx_call *c);

/* Register a ring; scatter puts every page elsewhere, in reverse order. */
int tg_ring(struct tg *g, uint32_t aport, uint16_t partner, uint32_t len,
	    bool scatter, struct tring *out);
int tg_ring_flags(struct tg *g, uint32_t aport, uint16_t partner, uint32_t len,
		  bool scatter, uint32_t flags, struct tring *out);
int tg_unring(struct tg *g, uint32_t aport, uint16_t partner);
struct hmx_ring *tring_hdr(const struct tring *r);
uint8_t *tring_byte(const struct tring *r, uint32_t data_off);
int tring_recv(struct tring *r, struct hmx_msg_header *mh, void *buf,
	       uint32_t cap);

int tg_send(struct tg *g, uint32_t sport, uint16_t ddom, uint32_t dport,
	    uint32_t type, const void *buf, uint32_t len);
int tg_sendv(struct tg *g, const struct hmx_sendv *sv,
	     const struct hmx_iov *iov, uint32_t niov);
int tg_notify(struct tg *g, struct hmx_ring_data_ent *ents, uint32_t n);
int tg_peer_events(struct tg *g, uint16_t *out, uint32_t max);

void fw_allow_all(struct hmx_host *h);
struct hmx_host *host_new(const struct hmx_limits *lim);

#endif
