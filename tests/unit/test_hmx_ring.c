// SPDX-License-Identifier: GPL-2.0-only
/* HMX ring registration, the call block, and hostile page lists. */
#include "hmx_testlib.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

struct fx {
	struct hmx_host *h;
	struct tg *a, *b;
};

static int setup(void **state)
{
	static struct fx f;

	f.h = host_new(NULL);
	fw_allow_all(f.h);
	f.a = tg_new(f.h, 3);
	f.b = tg_new(f.h, 4);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tg_free(f->a);
	tg_free(f->b);
	hmx_host_destroy(f->h);
	return 0;
}

/* A raw registration with every field chosen by the test. */
static int reg_raw(struct tg *g, uint32_t aport, uint16_t partner, uint32_t len,
		   uint32_t npages, const uint64_t *pfns, uint32_t nlist,
		   uint64_t list_gpa_or_0, uint32_t flags)
{
	struct hmx_call c = { .op = HMX_OP_REGISTER_RING };
	uint64_t list = list_gpa_or_0;

	if (!list) {
		list = tg_alloc(g, nlist * 8ull + 8, 8);
		memcpy(tg_ptr(g, list), pfns, nlist * 8ull);
	}
	c.u.register_ring.aport = aport;
	c.u.register_ring.partner = partner;
	c.u.register_ring.len = len;
	c.u.register_ring.npages = npages;
	c.u.register_ring.pfn_list_gpa = list;
	c.u.register_ring.flags = flags;
	return tg_call(g, &c);
}

static void test_register_initialises_header(void **state)
{
	struct fx *f = *state;
	struct tring r;

	assert_int_equal(tg_ring(f->a, 10, HMX_DOMID_ANY, 4096, false, &r), 0);
	/* The test guest filled memory with 0xa5: both pointers reset. */
	assert_int_equal(tring_hdr(&r)->rx_ptr, 0);
	assert_int_equal(tring_hdr(&r)->tx_ptr, 0);
	assert_int_equal(tg_ring(f->a, 11, 4, 48, true, &r), 0);
	assert_int_equal(tg_ring(f->a, 12, 3, HMX_RING_MAX_LEN, false, &r), 0);
}

static void test_register_bad_arguments(void **state)
{
	struct fx *f = *state;
	uint64_t pfns[2], page = tg_alloc(f->a, 8192, 4096) / 4096;
	struct hmx_call c;

	pfns[0] = page;
	pfns[1] = page + 1;
	/* len: multiple of 16, within [48, 16 MiB]. */
	assert_int_equal(reg_raw(f->a, 1, HMX_DOMID_ANY, 40, 1, pfns, 1, 0, 0),
			 -EINVAL);
	assert_int_equal(reg_raw(f->a, 1, HMX_DOMID_ANY, 0, 1, pfns, 1, 0, 0),
			 -EINVAL);
	assert_int_equal(reg_raw(f->a, 1, HMX_DOMID_ANY, 1000, 1, pfns, 1, 0,
				 0),
			 -EINVAL);
	assert_int_equal(reg_raw(f->a, 1, HMX_DOMID_ANY, HMX_RING_MAX_LEN + 16,
				 4098, pfns, 1, 0, 0),
			 -EINVAL);
	/* npages must be exactly DIV_ROUNDUP(64 + len, 4096). */
	assert_int_equal(reg_raw(f->a, 1, HMX_DOMID_ANY, 4032, 2, pfns, 2, 0,
				 0),
			 -EINVAL);
	assert_int_equal(reg_raw(f->a, 1, HMX_DOMID_ANY, 4048, 1, pfns, 1, 0,
				 0),
			 -EINVAL);
	assert_int_equal(
		reg_raw(f->a, 1, HMX_DOMID_ANY, 4048, 2, pfns, 2, 0, 0), 0);
	/* Ports, partners, flags, padding. */
	assert_int_equal(reg_raw(f->a, HMX_PORT_ANY, HMX_DOMID_ANY, 48, 1, pfns,
				 1, 0, 0),
			 -EINVAL);
	assert_int_equal(reg_raw(f->a, 2, 1, 48, 1, pfns, 1, 0, 0), -EINVAL);
	assert_int_equal(reg_raw(f->a, 2, 0x7ff0, 48, 1, pfns, 1, 0, 0),
			 -EINVAL);
	assert_int_equal(reg_raw(f->a, 2, HMX_DOMID_ANY, 48, 1, pfns, 1, 0, 4),
			 -EINVAL);
	memset(&c, 0, sizeof(c));
	c.op = HMX_OP_REGISTER_RING;
	c.u.register_ring.aport = 2;
	c.u.register_ring.partner = HMX_DOMID_ANY;
	c.u.register_ring.len = 48;
	c.u.register_ring.npages = 1;
	c.u.register_ring.pfn_list_gpa = tg_alloc(f->a, 8, 8);
	c.u.register_ring.pad = 1;
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
	c.u.register_ring.pad = 0;
	c.u.register_ring.pad2 = 1;
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
	/* An unaligned page list. */
	c.u.register_ring.pad2 = 0;
	c.u.register_ring.pfn_list_gpa += 4;
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
}

static void test_register_hostile_pages(void **state)
{
	struct fx *f = *state;
	uint64_t page = tg_alloc(f->a, 3 * 4096, 4096) / 4096, pfns[3];

	/* A page in the MMIO hole, past RAM, absurdly large. */
	pfns[0] = TG_HOLE_LO / 4096;
	assert_int_equal(reg_raw(f->a, 1, 4, 48, 1, pfns, 1, 0, 0), -EFAULT);
	pfns[0] = TG_HOLE_HI / 4096 - 1;
	assert_int_equal(reg_raw(f->a, 1, 4, 48, 1, pfns, 1, 0, 0), -EFAULT);
	pfns[0] = TG_RAM_SIZE / 4096;
	assert_int_equal(reg_raw(f->a, 1, 4, 48, 1, pfns, 1, 0, 0), -EFAULT);
	pfns[0] = UINT64_MAX;
	assert_int_equal(reg_raw(f->a, 1, 4, 48, 1, pfns, 1, 0, 0), -EFAULT);
	pfns[0] = UINT64_MAX / 4096 + 1;
	assert_int_equal(reg_raw(f->a, 1, 4, 48, 1, pfns, 1, 0, 0), -EFAULT);
	/* Page lists outside RAM, in the hole, straddling the end. */
	assert_int_equal(reg_raw(f->a, 1, 4, 48, 1, NULL, 0, TG_HOLE_LO, 0),
			 -EFAULT);
	assert_int_equal(reg_raw(f->a, 1, 4, 48, 1, NULL, 0,
				 TG_RAM_SIZE - 8 + 8, 0),
			 -EFAULT);
	assert_int_equal(reg_raw(f->a, 1, 4, 5008, 2, NULL, 0, TG_RAM_SIZE - 8,
				 0),
			 -EFAULT);
	assert_int_equal(reg_raw(f->a, 1, 4, 48, 1, NULL, 0, UINT64_MAX & ~7ull,
				 0),
			 -EFAULT);
	/* Duplicates in one list. */
	pfns[0] = page;
	pfns[1] = page + 1;
	pfns[2] = page;
	assert_int_equal(reg_raw(f->a, 1, 4, 8192, 3, pfns, 3, 0, 0), -EINVAL);
	/* One bad page among good ones. */
	pfns[2] = TG_HOLE_LO / 4096 + 2;
	assert_int_equal(reg_raw(f->a, 1, 4, 8192, 3, pfns, 3, 0, 0), -EFAULT);
	/* Overlap with another ring of the same domain. */
	pfns[2] = page + 2;
	assert_int_equal(reg_raw(f->a, 1, 4, 8192, 3, pfns, 3, 0, 0), 0);
	pfns[0] = page + 1;
	assert_int_equal(reg_raw(f->a, 2, 4, 48, 1, pfns, 1, 0, 0),
			 -EADDRINUSE);
	/* Once unregistered, the pages are free again. */
	assert_int_equal(tg_unring(f->a, 1, 4), 0);
	assert_int_equal(reg_raw(f->a, 2, 4, 48, 1, pfns, 1, 0, 0), 0);
}

static void test_register_exists(void **state)
{
	struct fx *f = *state;
	struct tring r1, r2, r3;

	assert_int_equal(tg_ring(f->a, 5, 4, 4032, false, &r1), 0);
	assert_int_equal(tg_send(f->b, 0, 3, 5, 0, "x", 1), -EPERM);
	assert_int_equal(tg_ring(f->b, 77, 3, 4032, false, &r3), 0);
	assert_int_equal(tg_send(f->b, 77, 3, 5, 0, "hello", 5), 5);
	assert_int_equal(tring_hdr(&r1)->tx_ptr, 32);
	/* FAIL_EXIST refuses; another size is refused with or without it. */
	assert_int_equal(tg_ring_flags(f->a, 5, 4, 4032, false,
				       HMX_REGISTER_FAIL_EXIST, &r2),
			 -EEXIST);
	assert_int_equal(tg_ring(f->a, 5, 4, 2048, false, &r2), -EBUSY);
	/* Same size: the ring moves to the new pages, keeping tx. */
	assert_int_equal(tg_ring(f->a, 5, 4, 4032, true, &r2), 0);
	assert_int_equal(tring_hdr(&r2)->tx_ptr, 32);
	tring_hdr(&r2)->rx_ptr = 32;
	assert_int_equal(tg_send(f->b, 77, 3, 5, 0, "again", 5), 5);
	assert_int_equal(tring_hdr(&r2)->tx_ptr, 64);
	assert_int_equal(tring_hdr(&r1)->tx_ptr, 32); /* old pages untouched */
	assert_memory_equal(tring_byte(&r2, 48), "again", 5);
	/* The old pages are free for a new ring. */
	assert_int_equal(reg_raw(f->a, 6, 4, 4032, 1, r1.pfns, 1, 0, 0), 0);
}

static void test_unregister(void **state)
{
	struct fx *f = *state;
	struct tring r;
	struct hmx_call c = { .op = HMX_OP_UNREGISTER_RING };

	assert_int_equal(tg_unring(f->a, 9, HMX_DOMID_ANY), -ENOENT);
	assert_int_equal(tg_ring(f->a, 9, HMX_DOMID_ANY, 48, false, &r), 0);
	assert_int_equal(tg_ring(f->b, 9, 3, 48, false, &r), 0);
	assert_int_equal(tg_unring(f->a, 9, 4), -ENOENT);
	c.u.unregister_ring.aport = 9;
	c.u.unregister_ring.partner = HMX_DOMID_ANY;
	c.u.unregister_ring.pad = 1;
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
	c.u.unregister_ring.pad = 0;
	c.u.unregister_ring.partner = 2;
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
	assert_int_equal(tg_send(f->b, 9, 3, 9, 0, "x", 1), 1);
	assert_int_equal(tg_unring(f->a, 9, HMX_DOMID_ANY), 0);
	assert_int_equal(tg_send(f->b, 9, 3, 9, 0, "x", 1), -ECONNREFUSED);
	assert_int_equal(tg_unring(f->a, 9, HMX_DOMID_ANY), -ENOENT);
}

static void test_partner_must_exist(void **state)
{
	struct fx *f = *state;
	struct tring r;

	assert_int_equal(tg_ring(f->a, 1, 99, 48, false, &r), -ESRCH);
	assert_int_equal(tg_ring(f->a, 1, 3, 48, false, &r), 0); /* self */
	assert_int_equal(tg_ring(f->a, 1, 0, 48, false, &r), -ESRCH);
}

static void test_limits(void **state)
{
	struct hmx_limits lim;
	struct hmx_host *h;
	struct tg *g;
	struct tring r;

	(void)state;
	hmx_limits_default(&lim);
	lim.max_rings_per_domain = 3;
	lim.max_ring_bytes_per_domain = 3 * 4096;
	h = host_new(&lim);
	fw_allow_all(h);
	g = tg_new(h, 3);
	assert_int_equal(tg_ring(g, 1, 3, 4032, false, &r), 0);
	assert_int_equal(tg_ring(g, 2, 3, 4032, false, &r), 0);
	assert_int_equal(tg_ring(g, 3, 3, 8192, false, &r), -ENOSPC);
	assert_int_equal(tg_ring(g, 3, 3, 48, false, &r), 0);
	assert_int_equal(tg_ring(g, 4, 3, 48, false, &r), -ENOSPC);
	assert_int_equal(tg_unring(g, 1, 3), 0);
	assert_int_equal(tg_ring(g, 4, 3, 48, false, &r), 0);
	tg_free(g);
	hmx_host_destroy(h);

	hmx_limits_default(&lim);
	lim.max_ring_len = 40;
	assert_int_equal(hmx_host_create(&lim, &h), -EINVAL);
	hmx_limits_default(&lim);
	lim.max_ring_len = 4096;
	h = host_new(&lim);
	fw_allow_all(h);
	g = tg_new(h, 3);
	assert_int_equal(tg_ring(g, 1, 3, 4096, false, &r), 0);
	assert_int_equal(tg_ring(g, 2, 3, 4112, false, &r), -EINVAL);
	tg_free(g);
	hmx_host_destroy(h);
}

static void test_call_block(void **state)
{
	struct fx *f = *state;
	struct hmx_call c = { .op = 99 };

	assert_int_equal(tg_call(f->a, &c), -ENOSYS);
	c.op = 0;
	assert_int_equal(tg_call(f->a, &c), -ENOSYS);
	/* Misaligned, crossing a page, outside RAM, in the hole. */
	assert_int_equal(hmx_call(f->h, 3, f->a->call_gpa + 8), -EINVAL);
	assert_int_equal(hmx_call(f->h, 3, 4096 * 3 - 32), -EINVAL);
	assert_int_equal(hmx_call(f->h, 3, TG_RAM_SIZE), -EFAULT);
	assert_int_equal(hmx_call(f->h, 3, TG_HOLE_LO), -EFAULT);
	assert_int_equal(hmx_call(f->h, 3, UINT64_MAX & ~4095ull), -EFAULT);
	/* Unknown domains. */
	assert_int_equal(hmx_call(f->h, 9, f->a->call_gpa), -ESRCH);
	assert_int_equal(hmx_call(f->h, 0xffff, f->a->call_gpa), -ESRCH);
}

static void no_signal(void *opaque, uint32_t bits)
{
	(void)opaque;
	(void)bits;
}

static void test_domain_add_remove(void **state)
{
	struct fx *f = *state;
	struct hmx_domain_config cfg = { 0 };

	cfg.domid = 3;
	cfg.translate = tg_translate;
	cfg.signal = no_signal;
	assert_int_equal(hmx_domain_add(f->h, &cfg), -EEXIST);
	cfg.domid = 1;
	assert_int_equal(hmx_domain_add(f->h, &cfg), -EINVAL);
	cfg.domid = HMX_DOMID_ANY;
	assert_int_equal(hmx_domain_add(f->h, &cfg), -EINVAL);
	cfg.domid = 0x7ff0;
	assert_int_equal(hmx_domain_add(f->h, &cfg), -EINVAL);
	cfg.domid = 8;
	cfg.translate = NULL;
	assert_int_equal(hmx_domain_add(f->h, &cfg), -EINVAL);
	assert_int_equal(hmx_domain_remove(f->h, 8), -ESRCH);
	assert_int_equal(hmx_domain_remove(f->h, 0xffff), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_register_initialises_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_bad_arguments,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_hostile_pages,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_exists, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unregister, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_partner_must_exist, setup,
						teardown),
		cmocka_unit_test(test_limits),
		cmocka_unit_test_setup_teardown(test_call_block, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_domain_add_remove, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
