// SPDX-License-Identifier: GPL-2.0-only
/*
 * HMX hypercalls through the controller's doorbell. The call block lives in
 * one of this CPU's two slots, held from the first write to the result:
 * callers in process or softirq context take slot 0 with bottom halves off,
 * so that an interrupt arriving during the trap is taken as soon as the
 * vCPU returns (no interrupt-window exit); callers with interrupts off or
 * in hard IRQ context take slot 1 and keep interrupts off. Slots below 4
 * GiB need only the CALL_LO write, so no CALL_HI latch can be clobbered by
 * an interrupting call; above it, every call keeps interrupts off.
 */
#include <linux/bottom_half.h>
#include <linux/io.h>
#include <linux/irqflags.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/smp.h>
#include <linux/string.h>

#include "hmxc.h"

static bool irqs_on_calls = true;
module_param(irqs_on_calls, bool, 0644);
MODULE_PARM_DESC(irqs_on_calls,
		 "Make hypercalls from process and softirq context with "
		 "interrupts on (bottom halves off)");

struct hmxc_hold {
	unsigned long flags;
	bool irqs_off;
};

static struct hmxc_slot *hmxc_slot_get(struct hmxc_hold *h)
{
	struct hmxc_slot *s;

	h->irqs_off = !irqs_on_calls || !hmxc->slots_low || in_hardirq() ||
		      in_nmi() || irqs_disabled();
	if (h->irqs_off)
		local_irq_save(h->flags);
	else
		local_bh_disable();
	s = &hmxc->slots[2 * smp_processor_id() + h->irqs_off];
	memset(&s->call, 0, sizeof(s->call));
	return s;
}

static void hmxc_slot_put(struct hmxc_hold *h)
{
	if (h->irqs_off)
		local_irq_restore(h->flags);
	else
		local_bh_enable();
}

static int hmxc_doorbell(struct hmxc_slot *s, u32 op)
{
	u64 gpa = virt_to_phys(&s->call);

	s->call.op = op;
	/* A block the device refuses to run is never written back. */
	s->call.result = -EIO;
	/* The hypervisor reads the block when the LO write traps. */
	mb();
	/*
	 * Each write traps to the hypervisor. The LO write clears the
	 * latched high half (as does a reset), so a block below 4 GiB needs
	 * no HI write: one trap per call instead of two.
	 */
	if (upper_32_bits(gpa))
		iowrite32(upper_32_bits(gpa), hmxc->io + HMX_REG_CALL_HI);
	iowrite32(lower_32_bits(gpa), hmxc->io + HMX_REG_CALL_LO);
	mb();
	return READ_ONCE(s->call.result);
}

int hmxc_hc_register(u32 aport, u16 partner, u32 len, u64 pfn_list_gpa,
		     u32 npages)
{
	struct hmx_register_ring *r;
	struct hmxc_hold hold;
	struct hmxc_slot *s;
	int ret;

	s = hmxc_slot_get(&hold);
	r = &s->call.u.register_ring;
	r->aport = aport;
	r->partner = partner;
	r->len = len;
	r->npages = npages;
	r->pfn_list_gpa = pfn_list_gpa;
	r->flags = HMX_REGISTER_FAIL_EXIST;
	ret = hmxc_doorbell(s, HMX_OP_REGISTER_RING);
	hmxc_slot_put(&hold);
	return ret;
}

int hmxc_hc_unregister(u32 aport, u16 partner)
{
	struct hmxc_hold hold;
	struct hmxc_slot *s;
	int ret;

	s = hmxc_slot_get(&hold);
	s->call.u.unregister_ring.aport = aport;
	s->call.u.unregister_ring.partner = partner;
	ret = hmxc_doorbell(s, HMX_OP_UNREGISTER_RING);
	hmxc_slot_put(&hold);
	return ret;
}

/* A slot of this CPU, held, with the client's header as iov 0. */
static struct hmxc_slot *hmxc_slot_begin(const void *hdr, u32 hdr_len,
					 struct hmxc_hold *h)
{
	struct hmxc_slot *s = hmxc_slot_get(h);

	memset(&s->aux, 0, sizeof(s->aux));
	memcpy(s->hdr, hdr, hdr_len);
	s->aux.iov[0].gpa = virt_to_phys(s->hdr);
	s->aux.iov[0].len = hdr_len;
	return s;
}

static int hmxc_sendv(struct hmxc_slot *s, u32 src_aport, u16 dst_domid,
		      u32 dst_aport, u32 message_type, unsigned int niov)
{
	struct hmx_sendv *sv = &s->call.u.sendv;

	sv->src.aport = src_aport;
	sv->dst.aport = dst_aport;
	sv->dst.domid = dst_domid;
	sv->iov_gpa = virt_to_phys(s->aux.iov);
	sv->niov = niov;
	sv->message_type = message_type;
	return hmxc_doorbell(s, HMX_OP_SENDV);
}

int hmx_core_send_pages(u32 src_aport, u16 dst_domid, u32 dst_aport,
			u32 message_type, const void *hdr, u32 hdr_len,
			struct page *const *pages, u32 chunk, u32 data_len)
{
	unsigned int niov = 1, i;
	struct hmxc_hold hold;
	struct hmxc_slot *s;
	int ret;

	if (WARN_ON_ONCE(!hdr_len || hdr_len > HMX_CORE_HDR_MAX))
		return -EINVAL;
	s = hmxc_slot_begin(hdr, hdr_len, &hold);
	for (i = 0; data_len && niov < HMX_MAXIOV; i++, niov++) {
		u32 n = min(chunk, data_len);

		s->aux.iov[niov].gpa = page_to_phys(pages[i]);
		s->aux.iov[niov].len = n;
		data_len -= n;
	}
	ret = data_len ? -EMSGSIZE :
			 hmxc_sendv(s, src_aport, dst_domid, dst_aport,
				    message_type, niov);
	hmxc_slot_put(&hold);
	return ret;
}
EXPORT_SYMBOL_GPL(hmx_core_send_pages);

int hmx_core_sendv(u32 src_aport, u16 dst_domid, u32 dst_aport,
		   u32 message_type, const void *hdr, u32 hdr_len,
		   const struct hmx_iov *iov, unsigned int niov)
{
	struct hmxc_hold hold;
	struct hmxc_slot *s;
	unsigned int i;
	int ret;

	if (WARN_ON_ONCE(!hdr_len || hdr_len > HMX_CORE_HDR_MAX ||
			 niov >= HMX_MAXIOV))
		return -EINVAL;
	s = hmxc_slot_begin(hdr, hdr_len, &hold);
	for (i = 0; i < niov; i++) {
		s->aux.iov[i + 1].gpa = iov[i].gpa;
		s->aux.iov[i + 1].len = iov[i].len;
	}
	ret = hmxc_sendv(s, src_aport, dst_domid, dst_aport, message_type,
			 niov + 1);
	hmxc_slot_put(&hold);
	return ret;
}
EXPORT_SYMBOL_GPL(hmx_core_sendv);

int hmx_core_send_buf(u32 src_aport, u16 dst_domid, u32 dst_aport,
		      u32 message_type, const void *hdr, u32 hdr_len,
		      const void *buf, u32 len)
{
	struct hmxc_hold hold;
	struct hmxc_slot *s;
	int ret;

	if (WARN_ON_ONCE(!hdr_len || hdr_len > HMX_CORE_HDR_MAX))
		return -EINVAL;
	/* A stack or vmalloc address has no physical twin to hand HMX. */
	if (len && WARN_ON_ONCE(!virt_addr_valid(buf)))
		return -EFAULT;
	s = hmxc_slot_begin(hdr, hdr_len, &hold);
	if (len) {
		s->aux.iov[1].gpa = virt_to_phys((void *)buf);
		s->aux.iov[1].len = len;
	}
	ret = hmxc_sendv(s, src_aport, dst_domid, dst_aport, message_type,
			 len ? 2 : 1);
	hmxc_slot_put(&hold);
	return ret;
}
EXPORT_SYMBOL_GPL(hmx_core_send_buf);

/* Wake senders waiting for space in our rings; no queries. */
int hmxc_hc_notify(void)
{
	struct hmxc_hold hold;
	struct hmxc_slot *s;
	int ret;

	s = hmxc_slot_get(&hold);
	s->call.u.notify.ring_data_gpa = 0;
	ret = hmxc_doorbell(s, HMX_OP_NOTIFY);
	hmxc_slot_put(&hold);
	return ret;
}

int hmxc_hc_peer_events(u16 *domids, u32 max)
{
	struct hmx_peer_events *pe;
	struct hmxc_hold hold;
	struct hmxc_slot *s;
	int ret;

	max = min_t(u32, max, HMXC_PEER_EVENTS_MAX);
	s = hmxc_slot_get(&hold);
	pe = &s->call.u.peer_events;
	pe->domids_gpa = virt_to_phys(s->aux.domids);
	pe->max = max;
	ret = hmxc_doorbell(s, HMX_OP_PEER_EVENTS);
	if (ret > 0) {
		/* Copy once; never trust more than we asked for. */
		ret = min_t(int, ret, max);
		memcpy(domids, s->aux.domids, ret * sizeof(*domids));
	}
	hmxc_slot_put(&hold);
	return ret;
}
