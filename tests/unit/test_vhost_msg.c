// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_msg_check(): what a hostile front end's message must look like
 * before the back end acts on it. Every served request with its exact
 * payload, then each way to get the header, the size or the descriptors
 * wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devmodel/vhost_msg.h"

static struct vhost_user_msg msg(uint32_t request, uint32_t size)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = request;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = size;
	return m;
}

static int check(const struct vhost_user_msg *m, unsigned int nfds)
{
	const char *why = NULL;
	int r = vhost_msg_check(m, nfds, &why);

	if (r)
		assert_non_null(why);
	return r;
}

static void test_served_requests_pass(void **state)
{
	static const struct {
		uint32_t request;
		uint32_t size;
		unsigned int nfds;
	} ok[] = {
		{ VHOST_USER_GET_FEATURES, 0, 0 },
		{ VHOST_USER_SET_FEATURES, 8, 0 },
		{ VHOST_USER_SET_OWNER, 0, 0 },
		{ VHOST_USER_RESET_OWNER, 0, 0 },
		{ VHOST_USER_SET_VRING_NUM, 8, 0 },
		{ VHOST_USER_SET_VRING_ADDR, 40, 0 },
		{ VHOST_USER_SET_VRING_BASE, 8, 0 },
		{ VHOST_USER_GET_VRING_BASE, 8, 0 },
		{ VHOST_USER_SET_VRING_KICK, 8, 1 },
		{ VHOST_USER_SET_VRING_CALL, 8, 1 },
		{ VHOST_USER_SET_VRING_ERR, 8, 1 },
		{ VHOST_USER_GET_PROTOCOL_FEATURES, 0, 0 },
		{ VHOST_USER_SET_PROTOCOL_FEATURES, 8, 0 },
		{ VHOST_USER_GET_QUEUE_NUM, 0, 0 },
		{ VHOST_USER_SET_VRING_ENABLE, 8, 0 },
		{ VHOST_USER_RESET_DEVICE, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct vhost_user_msg m = msg(ok[i].request, ok[i].size);

		assert_int_equal(check(&m, ok[i].nfds), 0);
		/* NEED_REPLY is allowed on anything. */
		m.hdr.flags |= VHOST_USER_FLAG_NEED_REPLY;
		assert_int_equal(check(&m, ok[i].nfds), 0);
		/* One byte more or less is not. */
		m.hdr.size = ok[i].size + 1;
		assert_int_equal(check(&m, ok[i].nfds), -1);
		if (ok[i].size) {
			m.hdr.size = ok[i].size - 1;
			assert_int_equal(check(&m, ok[i].nfds), -1);
		}
	}
}

static void test_header_flags(void **state)
{
	struct vhost_user_msg m = msg(VHOST_USER_GET_FEATURES, 0);

	(void)state;
	for (uint32_t v = 0; v < 4; v++) {
		m.hdr.flags = v;
		assert_int_equal(check(&m, 0),
				 v == VHOST_USER_VERSION ? 0 : -1);
	}
	m.hdr.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	assert_int_equal(check(&m, 0), -1);
	for (unsigned int bit = 4; bit < 32; bit++) {
		m.hdr.flags = VHOST_USER_VERSION | 1u << bit;
		assert_int_equal(check(&m, 0), -1);
	}
}

static void test_unknown_and_unserved_requests(void **state)
{
	static const uint32_t refused[] = {
		VHOST_USER_NONE,
		VHOST_USER_SET_LOG_BASE,
		VHOST_USER_SET_LOG_FD,
		VHOST_USER_SEND_RARP,
		VHOST_USER_NET_SET_MTU,
		VHOST_USER_SET_BACKEND_REQ_FD,
		VHOST_USER_IOTLB_MSG,
		VHOST_USER_SET_VRING_ENDIAN,
		VHOST_USER_GET_INFLIGHT_FD,
		VHOST_USER_SET_INFLIGHT_FD,
		VHOST_USER_ADD_MEM_REG,
		VHOST_USER_REM_MEM_REG,
		VHOST_USER_SET_STATUS,
		VHOST_USER_GET_STATUS,
		26,
		41,
		1000,
		UINT32_MAX,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		for (uint32_t size = 0; size <= 16; size += 8) {
			struct vhost_user_msg m = msg(refused[i], size);

			assert_int_equal(check(&m, 0), -1);
		}
	}
	assert_null(vhost_msg_name(1000));
	assert_string_equal(vhost_msg_name(VHOST_USER_SET_MEM_TABLE),
			    "SET_MEM_TABLE");
}

static void test_payload_bound(void **state)
{
	struct vhost_user_msg m = msg(VHOST_USER_GET_CONFIG, 0);

	(void)state;
	m.hdr.size = VHOST_USER_PAYLOAD_MAX + 1;
	assert_int_equal(check(&m, 0), -1);
	m.hdr.size = UINT32_MAX;
	assert_int_equal(check(&m, 0), -1);
}

static void test_memory_table(void **state)
{
	struct vhost_user_msg m = msg(VHOST_USER_SET_MEM_TABLE, 0);

	(void)state;
	for (uint32_t n = 0; n <= VHOST_USER_MAX_REGIONS + 1; n++) {
		bool valid = n >= 1 && n <= VHOST_USER_MAX_REGIONS;

		m.p.memory.nregions = n;
		m.hdr.size = 8 + 32 * n;
		if (m.hdr.size > VHOST_USER_PAYLOAD_MAX)
			m.hdr.size = VHOST_USER_PAYLOAD_MAX;
		assert_int_equal(check(&m, n), valid ? 0 : -1);
		if (!valid)
			continue;
		/* One descriptor per region, exactly. */
		assert_int_equal(check(&m, n - 1), -1);
		assert_int_equal(check(&m, n + 1), -1);
		/* A size that does not match the count. */
		m.hdr.size -= 32;
		assert_int_equal(check(&m, n), -1);
	}
	m.hdr.size = 4; /* shorter than its own header */
	assert_int_equal(check(&m, 0), -1);
	m.p.memory.nregions = UINT32_MAX; /* 8 + 32 * n must not wrap */
	m.hdr.size = 8 + 32 * 7;
	assert_int_equal(check(&m, 7), -1);
}

static void test_config(void **state)
{
	struct vhost_user_msg m = msg(VHOST_USER_GET_CONFIG, 0);

	(void)state;
	for (uint32_t size = 0; size <= VHOST_USER_CONFIG_MAX; size += 37) {
		m.p.config.size = size;
		m.hdr.size = VHOST_USER_CONFIG_HDR_SIZE + size;
		assert_int_equal(check(&m, 0), 0);
		m.hdr.request = VHOST_USER_SET_CONFIG;
		assert_int_equal(check(&m, 0), 0);
		m.hdr.size++;
		assert_int_equal(check(&m, 0), -1);
		m.hdr.request = VHOST_USER_GET_CONFIG;
	}
	m.p.config.size = VHOST_USER_CONFIG_MAX + 1;
	m.hdr.size = VHOST_USER_PAYLOAD_MAX;
	assert_int_equal(check(&m, 0), -1);
	m.hdr.size = 8; /* shorter than offset, size and flags */
	assert_int_equal(check(&m, 0), -1);
}

static void test_vring_descriptors(void **state)
{
	static const uint32_t reqs[] = { VHOST_USER_SET_VRING_KICK,
					 VHOST_USER_SET_VRING_CALL,
					 VHOST_USER_SET_VRING_ERR };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct vhost_user_msg m = msg(reqs[i], 8);

		m.p.u64 = 3;
		assert_int_equal(check(&m, 1), 0);
		assert_int_equal(check(&m, 0), -1);
		assert_int_equal(check(&m, 2), -1);
		m.p.u64 = 3 | VHOST_USER_VRING_NOFD;
		assert_int_equal(check(&m, 0), 0);
		assert_int_equal(check(&m, 1), -1);
		/* Bits beyond the index and NOFD. */
		m.p.u64 = 3 | 1ull << 9;
		assert_int_equal(check(&m, 1), -1);
		m.p.u64 = 1ull << 63;
		assert_int_equal(check(&m, 1), -1);
	}
	/* Descriptors on a request that takes none. */
	{
		struct vhost_user_msg m = msg(VHOST_USER_SET_FEATURES, 8);

		assert_int_equal(check(&m, 1), -1);
	}
}

static void test_has_reply(void **state)
{
	(void)state;
	assert_true(vhost_msg_has_reply(VHOST_USER_GET_FEATURES));
	assert_true(vhost_msg_has_reply(VHOST_USER_GET_PROTOCOL_FEATURES));
	assert_true(vhost_msg_has_reply(VHOST_USER_GET_VRING_BASE));
	assert_true(vhost_msg_has_reply(VHOST_USER_GET_QUEUE_NUM));
	assert_true(vhost_msg_has_reply(VHOST_USER_GET_CONFIG));
	assert_false(vhost_msg_has_reply(VHOST_USER_SET_MEM_TABLE));
	assert_false(vhost_msg_has_reply(VHOST_USER_SET_CONFIG));
	assert_false(vhost_msg_has_reply(9999));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served_requests_pass),
		cmocka_unit_test(test_header_flags),
		cmocka_unit_test(test_unknown_and_unserved_requests),
		cmocka_unit_test(test_payload_bound),
		cmocka_unit_test(test_memory_table),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_vring_descriptors),
		cmocka_unit_test(test_has_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
