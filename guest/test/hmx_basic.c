// SPDX-License-Identifier: GPL-2.0-only
/*
 * HMX through the real controller: two guests (role=a, role=b) and the
 * host exchange messages under a firewall the test sets up. Every check
 * prints "ok NAME" or "FAIL NAME: ...", then "RESULT pass|fail".
 * tests/integration/test_hmx_device.py drives it.
 */
#include "rt.h"

#define RING_LEN (HMX_PAGE_SIZE - HMX_RING_HEADER_SIZE)
#define PORT_A 1000
#define PORT_B 2000
#define PORT_HOST 100
#define POLL_LIMIT 200000000ul

static uint8_t ring_page[HMX_PAGE_SIZE] __attribute__((aligned(4096)));
static uint64_t pfn_list[1];
static struct hmx_call call __attribute__((aligned(64)));
/* The ABI's query ends in a flexible array: give it room for 2 entries. */
static union {
	struct hmx_ring_data rd;
	uint8_t room[sizeof(struct hmx_ring_data) +
		     2 * sizeof(struct hmx_ring_data_ent)];
} query __attribute__((aligned(16)));
static struct hmx hmx;

static int register_ring(uint32_t aport, uint32_t len, uint32_t flags)
{
	memset(&call, 0, sizeof(call));
	pfn_list[0] = (uintptr_t)ring_page >> 12;
	call.op = HMX_OP_REGISTER_RING;
	call.u.register_ring.aport = aport;
	call.u.register_ring.partner = HMX_DOMID_ANY;
	call.u.register_ring.len = len;
	call.u.register_ring.npages = 1;
	call.u.register_ring.pfn_list_gpa = (uintptr_t)pfn_list;
	call.u.register_ring.flags = flags;
	return hmx_hypercall(&hmx, &call);
}

static int send(uint32_t src_port, uint16_t dst, uint32_t dst_port,
		const char *text)
{
	return hmx_send(&hmx, src_port, dst, dst_port, text,
			(uint32_t)strlen(text));
}

static uint16_t query_flags(uint16_t domid, uint32_t aport)
{
	memset(&query, 0, sizeof(query));
	query.rd.nent = 1;
	query.rd.src_aport = HMX_PORT_ANY;
	query.rd.data[0].ring.domid = domid;
	query.rd.data[0].ring.aport = aport;
	query.rd.data[0].space_required = 16;
	memset(&call, 0, sizeof(call));
	call.op = HMX_OP_NOTIFY;
	call.u.notify.ring_data_gpa = (uintptr_t)&query;
	if (hmx_hypercall(&hmx, &call) != 0)
		return 0xffff;
	return query.rd.data[0].flags;
}

/* The next message's text and source; domid 0xffff on timeout. */
static struct hmx_addr receive(char *text, size_t cap)
{
	struct hmx_addr none = { .domid = 0xffff };
	struct hmx_msg_header mh;
	long n = hmx_ring_take(ring_page, 1, &mh, text, (uint32_t)cap - 1,
			       POLL_LIMIT);

	if (n < 0)
		return none;
	text[n < (long)cap - 1 ? n : (long)cap - 1] = '\0';
	return mh.source;
}

static void role_a(void)
{
	char text[64];
	struct hmx_addr src;

	CHECK_EQ("a: register ring", register_ring(PORT_A, RING_LEN, 0), 0);
	CHECK_EQ("a: register again, FAIL_EXIST",
		 register_ring(PORT_A, RING_LEN, HMX_REGISTER_FAIL_EXIST), -17);
	CHECK_EQ("a: register with a bad length",
		 register_ring(PORT_A + 1, 47, 0), -22);
	CHECK_EQ("a: send to the host",
		 send(PORT_A, 0, PORT_HOST, "hello host"), 10);
	CHECK_EQ("a: spoofed source port refused",
		 send(9999, 0, PORT_HOST, "x"), -1);
	gprintf("a: waiting for messages\n");
	/*
	 * Two from b ("from b", then "done" once b has looked at our ring:
	 * we stay until then) and one from the host, in any order.
	 */
	for (int n = 0; n < 3; n++) {
		src = receive(text, sizeof(text));
		if (src.domid == 4) {
			CHECK_EQ("a: b's message names b's port", src.aport,
				 PORT_B);
			check(!memcmp(text, "from b", 7) ||
				      !memcmp(text, "done", 5),
			      "a: b's text", 0, 0);
		} else if (src.domid == 0) {
			CHECK_EQ("a: the host's message names its port",
				 src.aport, PORT_HOST);
			check(!memcmp(text, "from host", 10), "a: host's text",
			      0, 0);
		} else {
			CHECK_EQ("a: message source", src.domid, 4);
		}
	}
	check(hmx_irq_status(&hmx) & HMX_IRQ_DATA, "a: data interrupt raised",
	      0, 1);
}

static void role_b(void)
{
	unsigned long i;
	int ret = 0;

	CHECK_EQ("b: register ring", register_ring(PORT_B, RING_LEN, 0), 0);
	CHECK_EQ("b: firewall refuses b to host",
		 send(PORT_B, 0, PORT_HOST, "no"), -1);
	for (i = 0; i < POLL_LIMIT; i++) {
		ret = send(PORT_B, 3, PORT_A, "from b");
		if (ret != -111) /* ECONNREFUSED: a has no ring yet */
			break;
	}
	CHECK_EQ("b: send to a", ret, 6);
	CHECK_EQ("b: a's ring exists and is shared",
		 query_flags(3, PORT_A) & (HMX_RING_EXISTS | HMX_RING_SHARED),
		 HMX_RING_EXISTS | HMX_RING_SHARED);
	/* a waits for this before it exits and its ring goes. */
	CHECK_EQ("b: tell a we are done", send(PORT_B, 3, PORT_A, "done"), 4);
	CHECK_EQ("b: the host's ring does not exist for b",
		 query_flags(0, PORT_HOST), 0);
}

void guest_main(const uint8_t *zero_page)
{
	char role[8];

	(void)zero_page;
	if (!hmx_probe(&hmx)) {
		gprintf("FAIL probe: no HMX controller\nRESULT fail\n");
		return;
	}
	CHECK_EQ("abi version", inl(hmx.io + HMX_REG_ABI_VERSION),
		 HMX_ABI_VERSION);
	CHECK_EQ("domid register", hmx.domid, cmdline_uint("domid", 0));
	if (!cmdline_get("role", role, sizeof(role)))
		gprintf("FAIL role: none given\n");
	else if (role[0] == 'a')
		role_a();
	else
		role_b();
	gprintf("RESULT %s\n", test_failures ? "fail" : "pass");
}
