// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmx_net_frame_check, the pure part of what hmxnet does with a frame a
 * peer VM wrote (include/bulkhead/hmx_net.h): every header and length.
 * Invariants: a verdict is 0 or a known reason; whatever it accepts is in
 * bounds by an independent reading of the rules; and the verdict depends
 * only on its inputs (asked twice, the same).
 */
#include <bulkhead/hmx_net.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };

	while (r.n) {
		struct hmx_net_frame_info f;
		uint32_t max_plain;
		uint8_t gso;
		int bad;

		f.vnet_flags = u8(&r);
		f.gso_type = u8(&r);
		f.hdr_len = u16(&r);
		f.gso_size = u16(&r);
		f.csum_start = u16(&r);
		f.csum_offset = u16(&r);
		f.flags = u16(&r);
		f.len = u32(&r) % (HMX_NET_FRAME_MAX + 64);
		max_plain = u32(&r) % (HMX_NET_FRAME_MAX + 64);
		bad = hmx_net_frame_check(&f, max_plain);
		check(bad >= 0 && bad <= HMX_NET_BAD_HDR_LEN);
		check(bad == hmx_net_frame_check(&f, max_plain));
		if (bad)
			continue;
		gso = f.gso_type & 0x7f;
		check(f.len >= 14 && f.len <= 65535);
		check(!f.flags && !(f.vnet_flags & ~3u));
		check(gso == 0 || gso == 1 || gso == 3 || gso == 4);
		if (gso == 0) {
			check(!f.gso_size && f.len <= max_plain);
			check(!(f.gso_type & 0x80));
		} else {
			check(f.gso_size && f.hdr_len <= f.len);
		}
		if (f.vnet_flags & 1)
			check((uint64_t)f.csum_start + f.csum_offset + 2 <=
			      f.len);
	}
	return 0;
}
