// SPDX-License-Identifier: GPL-2.0-only
/* vsock messages and rings through hmx_core: the header always goes first. */
#include "hvs.h"

int hvs_hc_send(u32 src_port, u16 dst_domid, u32 dst_port, u32 op,
		const struct hmx_vsock_hdr *hdr, struct page *const *pages,
		u32 chunk, u32 data_len)
{
	return hmx_core_send_pages(src_port, dst_domid, dst_port,
				   HMX_VSOCK_MSG(op), hdr, sizeof(*hdr), pages,
				   chunk, data_len);
}

int hvs_hc_send_buf(u32 src_port, u16 dst_domid, u32 dst_port, u32 op,
		    const struct hmx_vsock_hdr *hdr, const void *buf, u32 len)
{
	return hmx_core_send_buf(src_port, dst_domid, dst_port,
				 HMX_VSOCK_MSG(op), hdr, sizeof(*hdr), buf,
				 len);
}

/* Every vsock ring has the same size: docs/hmx-abi.md, section 14. */
int hvs_ring_get(u32 aport, u16 partner, struct hmx_core_ring **out)
{
	return hmx_core_ring_get(&hvs_client, aport, partner,
				 HMX_VSOCK_RING_LEN, out);
}
