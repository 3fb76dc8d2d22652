// SPDX-License-Identifier: GPL-2.0-only
/*
 * HMX hypercalls through the controller's doorbell. The call block lives in
 * this CPU's slot and the call runs with interrupts off, so the per-vCPU
 * CALL_HI latch and the slot belong to us from the HI write to the result.
 */
#include <linux/io.h>
#include <linux/irqflags.h>
#include <linux/smp.h>
#include <linux/string.h>

#include "hvs.h"

static struct hvs_slot *hvs_slot_get(unsigned long *flags)
{
	struct hvs_slot *s;

	local_irq_save(*flags);
	s = &hvs->slots[smp_processor_id()];
	memset(&s->call, 0, sizeof(s->call));
	return s;
}

static int hvs_doorbell(struct hvs_slot *s, u32 op)
{
	u64 gpa = virt_to_phys(&s->call);

	s->call.op = op;
	/* A block the device refuses to run is never written back. */
	s->call.result = -EIO;
	/* The hypervisor reads the block when the LO write traps. */
	mb();
	iowrite32(upper_32_bits(gpa), hvs->io + HMX_REG_CALL_HI);
	iowrite32(lower_32_bits(gpa), hvs->io + HMX_REG_CALL_LO);
	mb();
	return READ_ONCE(s->call.result);
}

int hvs_hc_register(u32 aport, u16 partner, u32 len, u64 pfn_list_gpa,
		    u32 npages)
{
	struct hmx_register_ring *r;
	unsigned long flags;
	struct hvs_slot *s;
	int ret;

	s = hvs_slot_get(&flags);
	r = &s->call.u.register_ring;
	r->aport = aport;
	r->partner = partner;
	r->len = len;
	r->npages = npages;
	r->pfn_list_gpa = pfn_list_gpa;
	r->flags = HMX_REGISTER_FAIL_EXIST;
	ret = hvs_doorbell(s, HMX_OP_REGISTER_RING);
	local_irq_restore(flags);
	return ret;
}

int hvs_hc_unregister(u32 aport, u16 partner)
{
	unsigned long flags;
	struct hvs_slot *s;
	int ret;

	s = hvs_slot_get(&flags);
	s->call.u.unregister_ring.aport = aport;
	s->call.u.unregister_ring.partner = partner;
	ret = hvs_doorbell(s, HMX_OP_UNREGISTER_RING);
	local_irq_restore(flags);
	return ret;
}

static int hvs_send_iovs(struct hvs_slot *s, u32 src_port, u16 dst_domid,
			 u32 dst_port, u32 op, unsigned int niov)
{
	struct hmx_sendv *sv = &s->call.u.sendv;

	sv->src.aport = src_port;
	sv->dst.aport = dst_port;
	sv->dst.domid = dst_domid;
	sv->iov_gpa = virt_to_phys(s->aux.iov);
	sv->niov = niov;
	sv->message_type = HMX_VSOCK_MSG(op);
	return hvs_doorbell(s, HMX_OP_SENDV);
}

/* This CPU's slot, interrupts off, with the vsock header as iov 0. */
static struct hvs_slot *hvs_slot_begin(const struct hmx_vsock_hdr *hdr,
				       unsigned long *flags)
{
	struct hvs_slot *s = hvs_slot_get(flags);

	memset(&s->aux, 0, sizeof(s->aux));
	s->hdr = *hdr;
	s->aux.iov[0].gpa = virt_to_phys(&s->hdr);
	s->aux.iov[0].len = sizeof(s->hdr);
	return s;
}

/*
 * Send a header and data_len bytes held in pages of chunk bytes each
 * (direct-mapped, physically contiguous per chunk). Returns the payload
 * length sent or a negative HMX error.
 */
int hvs_hc_send(u32 src_port, u16 dst_domid, u32 dst_port, u32 op,
		const struct hmx_vsock_hdr *hdr, struct page *const *pages,
		u32 chunk, u32 data_len)
{
	unsigned int niov = 1, i;
	unsigned long flags;
	struct hvs_slot *s;
	int ret;

	s = hvs_slot_begin(hdr, &flags);
	for (i = 0; data_len && niov < HMX_MAXIOV; i++, niov++) {
		u32 n = min(chunk, data_len);

		s->aux.iov[niov].gpa = page_to_phys(pages[i]);
		s->aux.iov[niov].len = n;
		data_len -= n;
	}
	ret = data_len ?
		      -EMSGSIZE :
		      hvs_send_iovs(s, src_port, dst_domid, dst_port, op, niov);
	local_irq_restore(flags);
	return ret;
}

/* As hvs_hc_send, with the data in one direct-mapped buffer (or none). */
int hvs_hc_send_buf(u32 src_port, u16 dst_domid, u32 dst_port, u32 op,
		    const struct hmx_vsock_hdr *hdr, const void *buf, u32 len)
{
	unsigned long flags;
	struct hvs_slot *s;
	int ret;

	s = hvs_slot_begin(hdr, &flags);
	if (len) {
		s->aux.iov[1].gpa = virt_to_phys((void *)buf);
		s->aux.iov[1].len = len;
	}
	ret = hvs_send_iovs(s, src_port, dst_domid, dst_port, op, len ? 2 : 1);
	local_irq_restore(flags);
	return ret;
}

/* Wake senders waiting for space in our rings; no queries. */
int hvs_hc_notify(void)
{
	unsigned long flags;
	struct hvs_slot *s;
	int ret;

	s = hvs_slot_get(&flags);
	s->call.u.notify.ring_data_gpa = 0;
	ret = hvs_doorbell(s, HMX_OP_NOTIFY);
	local_irq_restore(flags);
	return ret;
}

int hvs_hc_peer_events(u16 *domids, u32 max)
{
	struct hmx_peer_events *pe;
	unsigned long flags;
	struct hvs_slot *s;
	int ret;

	max = min_t(u32, max, HVS_PEER_EVENTS_MAX);
	s = hvs_slot_get(&flags);
	pe = &s->call.u.peer_events;
	pe->domids_gpa = virt_to_phys(s->aux.domids);
	pe->max = max;
	ret = hvs_doorbell(s, HMX_OP_PEER_EVENTS);
	if (ret > 0) {
		/* Copy once; never trust more than we asked for. */
		ret = min_t(int, ret, max);
		memcpy(domids, s->aux.domids, ret * sizeof(*domids));
	}
	local_irq_restore(flags);
	return ret;
}
