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

/* ---- role=hostile: a driver that breaks the rules ---- */

static uint8_t table[4096] __attribute__((aligned(16)));

/* Waits for the device to say it needs a reset; false if it never does. */
static bool needs_reset(void)
{
	for (unsigned long i = 0; i < SPIN; i++) {
		if (vrt_status(&dev) & VIRTIO_S_NEEDS_RESET)
			return true;
		__asm__ volatile("pause");
	}
	return false;
}

/* After a hostile case: reset, and the device must serve a read again. */
static void recovers(const char *what)
{
	char name[96];
	int st = -1;

	if (vrt_init(&dev, VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC, QSIZE,
		     rings))
		st = blk_request(BLK_T_IN, 100, data, 512);
	memset(name, 0, sizeof(name));
	memcpy(name, "hostile: after ", 15);
	memcpy(name + 15, what, strlen(what) < 70 ? strlen(what) : 70);
	check(st == BLK_S_OK && !memcmp(data, "bulkhead seed", 13), name, st,
	      BLK_S_OK);
}

/* Publishes head 0 after the test wrote the descriptors, then kicks. */
static void kick_head(uint16_t head)
{
	hdr = (struct blk_req){ .type = BLK_T_IN, .sector = 100 };
	vrt_submit(&dev, head);
}

static void broken_case(const char *name)
{
	check(needs_reset(), name, vrt_status(&dev), VIRTIO_S_NEEDS_RESET);
	recovers(name);
}

static void role_hostile(void)
{
	uint16_t i;

	if (!vrt_init(&dev, VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC, QSIZE,
		      rings)) {
		check(false, "hostile: device initialised", 0, 1);
		return;
	}
	CHECK_EQ("hostile: a good read first",
		 blk_request(BLK_T_IN, 100, data, 512), BLK_S_OK);

	/* A descriptor loop: 0 -> 1 -> 0. */
	set_desc(0, &hdr, sizeof(hdr), VQ_DESC_F_NEXT, 1);
	set_desc(1, data, 512, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 0);
	kick_head(0);
	broken_case("hostile: a descriptor loop breaks the queue");

	/* Every descriptor of the queue, and on: longer than the queue. */
	for (i = 0; i < QSIZE; i++)
		set_desc(i, i ? (void *)data : (void *)&hdr, i ? 16 : 16,
			 VQ_DESC_F_NEXT | (i ? VQ_DESC_F_WRITE : 0),
			 (uint16_t)((i + 1) % QSIZE));
	kick_head(0);
	broken_case("hostile: a chain longer than the queue");

	/* A buffer beyond RAM. */
	set_desc(0, &hdr, sizeof(hdr), VQ_DESC_F_NEXT, 1);
	set_desc(1, (void *)0x7fff00000000ull, 512,
		 VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 2);
	set_desc(2, &status, 1, VQ_DESC_F_WRITE, 0);
	kick_head(0);
	broken_case("hostile: an address beyond RAM");

	/* A length near 2^32 from a buffer in RAM. */
	set_desc(0, &hdr, sizeof(hdr), VQ_DESC_F_NEXT, 1);
	set_desc(1, data, 0xfffffff0u, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 2);
	set_desc(2, &status, 1, VQ_DESC_F_WRITE, 0);
	kick_head(0);
	broken_case("hostile: a length near 2^32");

	/* An indirect table holding another indirect descriptor. */
	memset(table, 0, sizeof(table));
	((struct vq_desc *)table)[0] =
		(struct vq_desc){ (uintptr_t)(table + 2048), 32,
				  VQ_DESC_F_INDIRECT, 0 };
	set_desc(0, table, 16, VQ_DESC_F_INDIRECT, 0);
	kick_head(0);
	broken_case("hostile: nested indirect tables");

	/* A head outside the descriptor table. */
	kick_head(QSIZE + 3);
	broken_case("hostile: a head outside the table");

	/* The avail index jumps ahead by more than the queue. */
	dev.q.avail[1] = (uint16_t)(dev.q.avail_idx + 3 * QSIZE);
	mmio_w16(dev.q.notify, 0);
	broken_case("hostile: the avail index jumps past the queue");

	/* A readable buffer after a writable one. */
	set_desc(0, &status, 1, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 1);
	set_desc(1, &hdr, sizeof(hdr), 0, 0);
	kick_head(0);
	broken_case("hostile: readable after writable");

	/* Queue sizes that are not powers of two are refused. */
	vrt_set_status(&dev, 0);
	vrt_set_status(&dev, VIRTIO_S_ACK | VIRTIO_S_DRIVER);
	mmio_w16(dev.common + 0x16, 0);
	for (unsigned int bad = 3; bad < 20; bad += 7) {
		mmio_w16(dev.common + 0x18, (uint16_t)bad);
		check(mmio_r16(dev.common + 0x18) != bad,
		      "hostile: a queue size that is not a power of two is refused",
		      mmio_r16(dev.common + 0x18), 16);
	}
	mmio_w16(dev.common + 0x18, 0);
	check(mmio_r16(dev.common + 0x18) != 0,
	      "hostile: queue size 0 is refused", 0, 16);
	/* Queues that do not exist: their registers are inert. */
	mmio_w16(dev.common + 0x16, 9);
	CHECK_EQ("hostile: a missing queue has size 0",
		 mmio_r16(dev.common + 0x18), 0);
	mmio_w16(dev.common + 0x1c, 1);
	CHECK_EQ("hostile: a missing queue cannot be enabled",
		 mmio_r16(dev.common + 0x1c), 0);
	recovers("refused queue sizes");

	/* Notifications to queues that do not exist. */
	for (i = 1; i < 8; i++)
		vrt_notify(&dev, i, i);
	vrt_notify(&dev, 0, 0x7777);
	check(!(vrt_status(&dev) & VIRTIO_S_NEEDS_RESET),
	      "hostile: stray notifications change nothing", vrt_status(&dev),
	      0);
	CHECK_EQ("hostile: a read after stray notifications",
		 blk_request(BLK_T_IN, 100, data, 512), BLK_S_OK);
	/* The device model survived every case: the last word. */
	gprintf("hostile: done\n");
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
	else if (!memcmp(role, "hostile", 8))
		role_hostile();
	else
		gprintf("FAIL role: unknown\n");
	gprintf("RESULT %s\n", test_failures ? "fail" : "pass");
}
