// SPDX-License-Identifier: GPL-2.0-only
/*
 * A hostile hmxnet frontend: vif 0 to backend=B, brought up with HELLO as
 * the real driver does, then a flood of frames the backend must refuse
 * (runts, over 64 KiB or over a 60000-byte MTU unsegmented, bad flags,
 * bad segmentation, checksum places outside the frame, unknown ops) and of valid broadcast frames, rounds=R
 * times. It prints what it sent and halts with its vif up, so the test
 * reads the backend's counters before destroying it.
 * tests/integration/test_hmxnet.py drives it against a Linux NDVM.
 */
#include "rt.h"

#include <bulkhead/hmx_net.h>

#define EAGAIN 11
#define ECONNREFUSED 111
#define RING_PAGES 4
#define SPIN_LIMIT 2000000ul
#define SEND_TRIES 20000000ul
#define VALID_PER_ROUND 500

static struct hmx hmx;
static uint8_t ring[RING_PAGES][HMX_PAGE_SIZE] __attribute__((aligned(4096)));
static struct hmx_call call __attribute__((aligned(64)));
static struct hmx_iov iov __attribute__((aligned(16)));
/* Header and frame of the message being sent: room for an oversize one. */
static uint8_t msg[sizeof(struct hmx_net_hdr) + HMX_NET_FRAME_MAX + 64]
	__attribute__((aligned(16)));
static uint8_t rx[2048];
static uint16_t backend;
static const uint8_t our_mac[6] = { 0x02, 0x66, 0x6c, 0x6f, 0x6f, 0x64 };

static int send_raw(uint32_t type, uint32_t len)
{
	memset(&call, 0, sizeof(call));
	iov.gpa = (uintptr_t)msg;
	iov.len = len;
	call.op = HMX_OP_SENDV;
	call.u.sendv.src.aport = HMX_NET_APORT(0);
	call.u.sendv.dst.domid = backend;
	call.u.sendv.dst.aport = HMX_NET_APORT(0);
	call.u.sendv.iov_gpa = (uintptr_t)&iov;
	call.u.sendv.niov = 1;
	call.u.sendv.message_type = type;
	return hmx_hypercall(&hmx, &call);
}

/* Drops whatever the backend sent us; true if a HELLO was among it. */
static bool drain(unsigned long spin)
{
	struct hmx_msg_header mh;
	bool hello = false;

	while (hmx_ring_take(ring, RING_PAGES, &mh, rx, sizeof(rx), spin) >=
	       0) {
		hello |= mh.message_type == HMX_NET_MSG(HMX_NET_OP_HELLO);
		spin = 1;
	}
	hmx_notify_consumed(&hmx);
	return hello;
}

/* Sends, waiting while the backend's ring is full; the result. */
static int send_patiently(uint32_t type, uint32_t len)
{
	unsigned long i;
	int ret = -EAGAIN;

	for (i = 0; i < SEND_TRIES; i++) {
		ret = send_raw(type, len);
		if (ret != -EAGAIN && ret != -ECONNREFUSED)
			break;
		if (i % 64 == 63)
			drain(1);
	}
	return ret;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/*
 * Lays out one FRAME: the header's fields, then a broadcast Ethernet
 * header of a local experimental type (0x88b5) and len bytes in all.
 */
static uint32_t frame(uint8_t vnet_flags, uint8_t gso_type, uint16_t gso_size,
		      uint16_t hdr_len, uint16_t csum_start,
		      uint16_t csum_offset, uint16_t flags, uint32_t len)
{
	struct hmx_net_hdr *h = (struct hmx_net_hdr *)msg;
	uint8_t *eth = msg + sizeof(*h);

	memset(h, 0, sizeof(*h));
	h->vnet_flags = vnet_flags;
	h->gso_type = gso_type;
	put_le16((uint8_t *)&h->hdr_len, hdr_len);
	put_le16((uint8_t *)&h->gso_size, gso_size);
	put_le16((uint8_t *)&h->csum_start, csum_start);
	put_le16((uint8_t *)&h->csum_offset, csum_offset);
	h->flags = flags;
	if (len >= 14) {
		memset(eth, 0xff, 6);
		memcpy(eth + 6, our_mac, 6);
		eth[12] = 0x88;
		eth[13] = 0xb5;
		memset(eth + 14, 0x5a, len - 14);
	} else {
		memset(eth, 0xff, len);
	}
	return (uint32_t)sizeof(*h) + len;
}

static bool vif_up(void)
{
	struct hmx_net_hdr *h = (struct hmx_net_hdr *)msg;
	struct hmx_net_hello *hello = (struct hmx_net_hello *)(h + 1);
	unsigned int tries;

	for (tries = 0; tries < 2000; tries++) {
		memset(msg, 0, sizeof(*h) + sizeof(*hello));
		h->flags = HMX_NET_HELLO_ANSWER;
		memcpy(hello->mac, our_mac, 6);
		put_le16((uint8_t *)&hello->mtu, 1500);
		send_raw(HMX_NET_MSG(HMX_NET_OP_HELLO),
			 sizeof(*h) + sizeof(*hello));
		if (drain(SPIN_LIMIT))
			return true;
	}
	return false;
}

void guest_main(const uint8_t *zero_page)
{
	unsigned long rounds = cmdline_uint("rounds", 20), r;
	unsigned long bad = 0, valid = 0, failed = 0;
	int ret, i;

	(void)zero_page;
	backend = (uint16_t)cmdline_uint("backend", 0);
	if (!hmx_probe(&hmx)) {
		gprintf("FAIL probe: no HMX controller\nRESULT fail\n");
		return;
	}
	CHECK_EQ("flood: register vif 0's ring",
		 hmx_register(&hmx, HMX_NET_APORT(0), backend, ring,
			      RING_PAGES),
		 0);
	if (!vif_up()) {
		gprintf("FAIL flood: the backend never answered HELLO\n");
		gprintf("RESULT fail\n");
		return;
	}
	gprintf("flood: vif up\n");
	for (r = 0; r < rounds; r++) {
		/*
		 * Each refused by the backend's frame check, the kernel's
		 * header check or its op switch: an rx error apiece.
		 */
		for (i = 0; i < 10; i++) {
			uint32_t type = HMX_NET_MSG(HMX_NET_OP_FRAME), len;

			switch (i) {
			case 0: /* a runt */
				len = frame(0, 0, 0, 0, 0, 0, 0, 5);
				break;
			case 1: /* flags, reserved */
				len = frame(0, 0, 0, 0, 0, 0, 1, 60);
				break;
			case 2: /* an unknown vnet_flags bit */
				len = frame(0x80, 0, 0, 0, 0, 0, 0, 60);
				break;
			case 3: /* an unknown GSO type */
				len = frame(0, 2, 1000, 54, 0, 0, 0, 3000);
				break;
			case 4: /* GSO without a segment size */
				len = frame(0, HMX_NET_GSO_TCPV4, 0, 54, 0, 0,
					    0, 3000);
				break;
			case 5: /* headers longer than the frame */
				len = frame(0, HMX_NET_GSO_TCPV4, 1000, 4000, 0,
					    0, 0, 3000);
				break;
			case 6: /* a checksum place past the frame */
				len = frame(HMX_NET_F_NEEDS_CSUM, 0, 0, 0, 50,
					    9, 0, 60);
				break;
			case 7: /* over the MTU, unsegmented */
				len = frame(0, 0, 0, 0, 0, 0, 0, 62000);
				break;
			case 8: /* over 64 KiB */
				len = frame(0, 0, 0, 0, 0, 0, 0,
					    HMX_NET_FRAME_MAX + 1);
				break;
			default: /* an unknown op */
				type = HMX_NET_MSG(7);
				len = frame(0, 0, 0, 0, 0, 0, 0, 60);
			}
			ret = send_patiently(type, len);
			if (ret == (int)len)
				bad++;
			else
				failed++;
		}
		for (i = 0; i < VALID_PER_ROUND; i++) {
			uint32_t len = frame(0, 0, 0, 0, 0, 0, 0, 60);

			ret = send_patiently(HMX_NET_MSG(HMX_NET_OP_FRAME),
					     len);
			if (ret == (int)len)
				valid++;
			else
				failed++;
		}
		drain(1);
	}
	CHECK_EQ("flood: every send accepted by the hypervisor", failed, 0);
	gprintf("flood: sent bad=%lu valid=%lu\n", bad, valid);
	gprintf("RESULT %s\n", test_failures ? "fail" : "pass");
	/* Stay, vif up, until the test has read the backend's counters. */
	for (;;)
		__asm__ volatile("cli; hlt");
}
