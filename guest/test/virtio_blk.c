// SPDX-License-Identifier: GPL-2.0-only
/*
 * A freestanding virtio-blk driver test. role=good drives the disk the way
 * a correct driver does and checks what comes back: the configuration,
 * reads of data the host put there, writes the host checks afterwards,
 * flush, the serial, and I/O errors past the end. role=hostile (with
 * hostile=CASE) plays a driver that breaks the rules; the device must say
 * so (DEVICE_NEEDS_RESET) and work again after a reset.
 */
#include "rt.h"
#include "virtio_rt.h"

#define VIRTIO_ID_BLOCK 2
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_F_RO (1ull << 5)
#define BLK_F_FLUSH (1ull << 9)

#define SPIN 200000000ul
#define BAR_AT 0xd0000000ull
#define QSIZE 16

struct blk_req {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static uint8_t rings[3 * 4096] __attribute__((aligned(4096)));
static uint8_t data[8192] __attribute__((aligned(4096)));
static struct blk_req hdr __attribute__((aligned(16)));
static volatile uint8_t status;
static struct vrt_dev dev;

static void set_desc(uint16_t i, const volatile void *addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	dev.q.desc[i].addr = (uintptr_t)addr;
	dev.q.desc[i].len = len;
	dev.q.desc[i].flags = flags;
	dev.q.desc[i].next = next;
}

/* One request of len data bytes; returns the status byte or -1. */
static int blk_request(uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	uint16_t dflags =
		type == BLK_T_IN || type == BLK_T_GET_ID ? VQ_DESC_F_WRITE : 0;
	uint32_t used_len;
	long id;

	hdr = (struct blk_req){ .type = type, .sector = sector };
	status = 0xff;
	set_desc(0, &hdr, sizeof(hdr), VQ_DESC_F_NEXT, 1);
	if (len) {
		set_desc(1, buf, len, dflags | VQ_DESC_F_NEXT, 2);
		set_desc(2, &status, 1, VQ_DESC_F_WRITE, 0);
	} else {
		set_desc(0, &hdr, sizeof(hdr), VQ_DESC_F_NEXT, 2);
		set_desc(2, &status, 1, VQ_DESC_F_WRITE, 0);
	}
	vrt_submit(&dev, 0);
	id = vrt_wait_used(&dev, &used_len, SPIN);
	if (id != 0)
		return -1;
	return status;
}

static uint8_t pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed + i * 7 + (i >> 9));
}

static void fill(uint8_t *buf, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = pattern(seed, i);
}

static bool holds(const uint8_t *buf, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		if (buf[i] != pattern(seed, i))
			return false;
	return true;
}

static void role_good(void)
{
	uint64_t capacity, feats;
	char want[32];
	int st;

	if (!vrt_init(&dev, VIRTIO_F_VERSION_1 | BLK_F_FLUSH | BLK_F_RO, QSIZE,
		      rings)) {
		check(false, "good: device initialised", 0, 1);
		return;
	}
	feats = dev.features;
	capacity = vrt_cfg64(&dev, 0);
	CHECK_EQ("good: capacity in sectors", capacity,
		 cmdline_uint("sectors", 0));
	check(feats & VIRTIO_F_VERSION_1, "good: VERSION_1 offered", 1, 1);
	check(!(vrt_status(&dev) & VIRTIO_S_NEEDS_RESET),
	      "good: running without NEEDS_RESET", vrt_status(&dev), 0x0f);

	/* The host wrote "bulkhead seed" at sector 100. */
	st = blk_request(BLK_T_IN, 100, data, 512);
	CHECK_EQ("good: read sector 100", st, BLK_S_OK);
	check(!memcmp(data, "bulkhead seed", 13),
	      "good: sector 100 holds the host's data", data[0], 'b');

	/* Sectors 8..23 get a pattern the host checks in the image. */
	fill(data, 8192, 0x5a);
	st = blk_request(BLK_T_OUT, 8, data, 8192);
	if (feats & BLK_F_RO) {
		CHECK_EQ("good: a read-only disk refuses writes", st,
			 BLK_S_IOERR);
	} else {
		CHECK_EQ("good: write sectors 8-23", st, BLK_S_OK);
		memset(data, 0, sizeof(data));
		CHECK_EQ("good: read them back",
			 blk_request(BLK_T_IN, 8, data, 8192), BLK_S_OK);
		check(holds(data, 8192, 0x5a),
		      "good: the data read back is what was written", data[0],
		      0x5a);
	}
	if (feats & BLK_F_FLUSH)
		CHECK_EQ("good: flush", blk_request(BLK_T_FLUSH, 0, NULL, 0),
			 BLK_S_OK);
	memset(data, 0, 20);
	st = blk_request(BLK_T_GET_ID, 0, data, 20);
	if (cmdline_get("serial", want, sizeof(want)) && st == BLK_S_OK)
		check(!memcmp(data, want, strlen(want)), "good: serial",
		      data[0], want[0]);
	/* Past the end: an I/O error, not data and not a crash. */
	CHECK_EQ("good: a read past the end fails",
		 blk_request(BLK_T_IN, capacity, data, 512), BLK_S_IOERR);
	CHECK_EQ("good: a read across the end fails",
		 blk_request(BLK_T_IN, capacity - 1, data, 1024), BLK_S_IOERR);
	/* Reset and again: the device comes back. */
	check(vrt_init(&dev, VIRTIO_F_VERSION_1, QSIZE, rings),
	      "good: reset and re-initialised", 0, 1);
	CHECK_EQ("good: read after the reset",
		 blk_request(BLK_T_IN, 100, data, 512), BLK_S_OK);
	/* A notify for a queue that does not exist is ignored. */
	vrt_notify(&dev, 7, 7);
	vrt_notify(&dev, 0, 9);
	CHECK_EQ("good: read after stray notifies",
		 blk_request(BLK_T_IN, 100, data, 512), BLK_S_OK);
}

/* Reads until the device goes away: the host kills its back end. */
static void role_loop(void)
{
	unsigned long n = 0;

	if (!vrt_init(&dev, VIRTIO_F_VERSION_1, QSIZE, rings))
		return;
	gprintf("looping\n");
	while (blk_request(BLK_T_IN, n % 64, data, 512) == BLK_S_OK)
		n++;
	gprintf("FAIL loop: a read failed after %lu\n", n);
}

void guest_main(const uint8_t *zero_page)
{
	char role[12];

	(void)zero_page;
	if (!vrt_probe(&dev, VIRTIO_ID_BLOCK, BAR_AT)) {
		gprintf("FAIL probe: no virtio-blk device\nRESULT fail\n");
		return;
	}
	gprintf("virtio-blk at slot %u, features 0x%lx\n", dev.slot,
		(unsigned long)dev.features);
	if (!cmdline_get("role", role, sizeof(role)) ||
	    !memcmp(role, "good", 5))
		role_good();
	else if (!memcmp(role, "loop", 5))
		role_loop();
	else
		gprintf("FAIL role: unknown\n");
	gprintf("RESULT %s\n", test_failures ? "fail" : "pass");
}
