// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-blk's back end as a hostile front end and guest see it:
 * vhost-user messages of any request, flags, size and payload, with
 * descriptors of several kinds attached (guest memory, eventfds, pipes,
 * small files), into vhost_be_handle() of a real blk device (synchronous
 * I/O on a memfd image), interleaved with writes anywhere in guest memory
 * (rings, descriptors, request headers) and kicks. The input encoding is
 * in fuzz/seeds/vhost.py. It aborts when:
 *
 *   - a reply is not VERSION|REPLY for the request it answers, or its
 *     size field disagrees with the bytes to send or exceeds the payload;
 *   - the image changed size (every request must stay inside the disk);
 *   - a descriptor stays open once the connection is gone.
 *
 * Each input runs twice: on a plain disk, and on one with every layer the
 * guest can reach (a LUKS-style data area at an offset, encrypted, under
 * an encrypted temporary overlay), whose image must not change at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devmodel/blk/blk_crypt.h"
#include "devmodel/blk/blk_device.h"
#include "devmodel/blk/blk_stack.h"
#include "devmodel/vhost_backend.h"
#include "fuzz_input.h"
#include "util/log.h"

#define GUEST_SIZE (1u << 20)
#define IMAGE_SIZE (256u << 10)
#define STEPS_MAX 96
#define KICKS_MAX 4

struct conn {
	struct blk_dev *dev;
	struct vhost_be *be;
	int kick[KICKS_MAX]; /* our ends of kick eventfds handed over */
	unsigned int nkick;
};

#define LAYER_OFFSET 4096u

static int guest_fd = -1, image_fd = -1, overlay_fd = -1;
static uint8_t *guest;
static struct blk_crypt *image_crypt, *overlay_crypt;

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void init_once(void)
{
	if (guest)
		return;
	bh_log_init("fuzz_vhost", BH_LOG_ERR);
	guest_fd = memfd_create("guest", MFD_CLOEXEC);
	image_fd = memfd_create("image", MFD_CLOEXEC);
	check(guest_fd >= 0 && image_fd >= 0);
	overlay_fd = memfd_create("overlay", MFD_CLOEXEC);
	check(overlay_fd >= 0);
	check(ftruncate(guest_fd, GUEST_SIZE) == 0);
	check(ftruncate(image_fd, IMAGE_SIZE) == 0);
	check(ftruncate(overlay_fd, IMAGE_SIZE) == 0);
	{
		uint8_t key[64];

		for (unsigned int i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)(i * 37 + 1);
		image_crypt = blk_crypt_new(key, 64, 512, false, NULL, 0);
		key[0] ^= 0xff;
		overlay_crypt = blk_crypt_new(key, 64, 512, true, NULL, 0);
		check(image_crypt && overlay_crypt);
	}
	guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		     guest_fd, 0);
	check(guest != MAP_FAILED);
}

static void conn_open(struct conn *c, bool layered)
{
	static struct blk_stack_config stack = {
		.size = IMAGE_SIZE - LAYER_OFFSET,
		.unit = 512,
		.data_offset = LAYER_OFFSET,
		.overlay = true,
	};
	struct blk_dev_config cfg = {
		.params = {
			.size = IMAGE_SIZE,
			.block_size = 512,
			.discard_align = 4096,
			.discard = true,
			.nqueues = 2,
		},
		.image_fd = image_fd,
		.overlay_fd = layered ? overlay_fd : -1,
		.stack = layered ? &stack : NULL,
		.engine = BLK_IO_SYNC,
		.serial = "fuzz",
	};
	struct vhost_be_device vd;

	stack.crypt = image_crypt;
	stack.overlay_crypt = overlay_crypt;
	if (layered) {
		cfg.params.size = stack.size;
		cfg.params.layered = true;
	}
	memset(c, 0, sizeof(*c));
	c->dev = blk_dev_new(&cfg);
	check(c->dev);
	blk_dev_vhost(c->dev, &vd);
	c->be = vhost_be_new(&vd, -1);
	check(c->be);
	check(blk_dev_attach(c->dev, c->be) == 0);
}

static void conn_close(struct conn *c)
{
	vhost_be_free(c->be);
	blk_dev_free(c->dev);
	for (unsigned int i = 0; i < c->nkick; i++)
		close(c->kick[i]);
	memset(c, 0, sizeof(*c));
}

/* A descriptor of kind k to attach to a message. */
static int make_fd(struct conn *c, unsigned int k)
{
	int p[2], fd;

	switch (k & 3) {
	case 0:
		return dup(guest_fd);
	case 1:
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd >= 0 && c->nkick < KICKS_MAX)
			c->kick[c->nkick++] = dup(fd);
		return fd;
	case 2:
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		close(p[1]); /* a kick descriptor that reads end of file */
		return p[0];
	default:
		fd = memfd_create("small", MFD_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, 4096) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
}

static bool send_message(struct conn *c, struct rd *r)
{
	struct vhost_user_msg msg, reply;
	int fds[4];
	unsigned int nfds = 0;
	uint8_t sel = u8(r), spec;
	size_t reply_len, n;
	const uint8_t *bytes;
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.hdr.request = sel & 0x3f;
	if (msg.hdr.request == 0x3f)
		msg.hdr.request = u32(r);
	msg.hdr.flags = VHOST_USER_VERSION;
	if (sel & 0x40)
		msg.hdr.flags |= VHOST_USER_FLAG_NEED_REPLY;
	if (sel & 0x80)
		msg.hdr.flags = u32(r);
	msg.hdr.size = u16(r);
	n = take(r,
		 msg.hdr.size < VHOST_USER_PAYLOAD_MAX ? msg.hdr.size :
							 VHOST_USER_PAYLOAD_MAX,
		 &bytes);
	memcpy((uint8_t *)&msg + VHOST_USER_HDR_SIZE, bytes, n);
	spec = u8(r);
	for (unsigned int i = 0; i < (spec & 3u); i++) {
		int fd = make_fd(c, spec >> (2 + 2 * i));

		if (fd >= 0)
			fds[nfds++] = fd;
	}
	ret = vhost_be_handle(c->be, &msg, fds, nfds, &reply, &reply_len);
	check(ret == 0 || ret == -1);
	if (reply_len) {
		check(reply_len <= sizeof(reply));
		check(reply_len == VHOST_USER_HDR_SIZE + reply.hdr.size);
		check(reply.hdr.flags ==
		      (VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY));
		check(reply.hdr.request == msg.hdr.request);
	}
	return ret == 0;
}

static void poke_guest(struct rd *r)
{
	uint32_t off = (uint32_t)u16(r) * 16;
	uint8_t len = u8(r);
	const uint8_t *bytes;
	size_t n = take(r, len, &bytes);

	if (off + n > GUEST_SIZE)
		n = GUEST_SIZE - off;
	memcpy(guest + off, bytes, n);
}

static void kick(struct conn *c, struct rd *r)
{
	uint8_t which = u8(r);
	uint64_t one = 1;

	if (c->nkick && write(c->kick[which % c->nkick], &one, sizeof(one)) < 0)
		return;
	vhost_be_poll(c->be, 0);
}

static void run(const uint8_t *data, size_t size, bool layered)
{
	struct rd r = { data, size };
	struct conn c;
	struct stat st;
	int before;

	before = open_fds();
	memset(guest, 0, GUEST_SIZE);
	conn_open(&c, layered);
	for (unsigned int step = 0; step < STEPS_MAX && r.n; step++) {
		switch (u8(&r) % 3) {
		case 0:
			if (!send_message(&c, &r)) {
				/* The connection ended: a new front end. */
				conn_close(&c);
				conn_open(&c, layered);
			}
			break;
		case 1:
			poke_guest(&r);
			break;
		default:
			kick(&c, &r);
			break;
		}
	}
	conn_close(&c);
	check(fstat(image_fd, &st) == 0 && st.st_size == IMAGE_SIZE);
	check(fstat(overlay_fd, &st) == 0 && st.st_size == IMAGE_SIZE);
	check(open_fds() == before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t zero[IMAGE_SIZE];
	uint8_t *img;

	init_once();
	run(data, size, false);
	/* The layered disk's image is only read: it stays all zeros. */
	check(ftruncate(image_fd, 0) == 0 &&
	      ftruncate(image_fd, IMAGE_SIZE) == 0);
	run(data, size, true);
	img = mmap(NULL, IMAGE_SIZE, PROT_READ, MAP_SHARED, image_fd, 0);
	check(img != MAP_FAILED);
	check(!memcmp(img, zero, IMAGE_SIZE));
	munmap(img, IMAGE_SIZE);
	return 0;
}
