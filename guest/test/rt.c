// SPDX-License-Identifier: GPL-2.0-only
#include "rt.h"

#include <stdarg.h>

#define COM1 0x3f8
#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define PM1A_CNT 0x604
#define SLP_S5 ((5u << 10) | (1u << 13))
#define ZP_CMD_LINE_PTR 0x228

unsigned int test_failures;
static const char *cmdline = "";

void *memset(void *s, int c, size_t n)
{
	uint8_t *p = s;

	while (n--)
		*p++ = (uint8_t)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static void putc_serial(char c)
{
	/* Our UART transmits at once, so THR is always empty. */
	if (c == '\n')
		outb(COM1, '\r');
	outb(COM1, (uint8_t)c);
}

static void put_uint(unsigned long v, unsigned int base, bool neg)
{
	char buf[24];
	int i = 0;

	if (neg)
		putc_serial('-');
	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i--)
		putc_serial(buf[i]);
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		bool is_long = false;
		long v;

		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		if (*++fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			for (const char *s = va_arg(ap, const char *); *s; s++)
				putc_serial(*s);
			break;
		case 'd':
			v = is_long ? va_arg(ap, long) : va_arg(ap, int);
			put_uint(v < 0 ? -(unsigned long)v : (unsigned long)v,
				 10, v < 0);
			break;
		case 'u':
		case 'x':
			put_uint(is_long ? va_arg(ap, unsigned long) :
					   va_arg(ap, unsigned int),
				 *fmt == 'u' ? 10 : 16, false);
			break;
		default:
			putc_serial('%');
			putc_serial(*fmt);
		}
	}
	va_end(ap);
}

__attribute__((weak)) void guest_ap_main(unsigned int vcpu)
{
	(void)vcpu;
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_poweroff(void)
{
	outw(PM1A_CNT, SLP_S5);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void rt_init(const uint8_t *zero_page);
void rt_init(const uint8_t *zero_page)
{
	uint32_t ptr;

	memcpy(&ptr, zero_page + ZP_CMD_LINE_PTR, sizeof(ptr));
	if (ptr)
		cmdline = (const char *)(uintptr_t)ptr;
}

const char *cmdline_get(const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!memcmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			p += klen + 1;
			while (p[n] && p[n] != ' ' && n + 1 < len) {
				buf[n] = p[n];
				n++;
			}
			buf[n] = '\0';
			return buf;
		}
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

unsigned long cmdline_uint(const char *key, unsigned long dflt)
{
	char buf[24];
	unsigned long v = 0;
	const char *s = cmdline_get(key, buf, sizeof(buf));

	if (!s || !*s)
		return dflt;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v;
}

uint32_t pci_cfg_read32(unsigned int dev, unsigned int reg)
{
	outl(PCI_ADDR, 0x80000000u | dev << 11 | (reg & 0xfc));
	return inl(PCI_DATA);
}

void pci_cfg_write32(unsigned int dev, unsigned int reg, uint32_t v)
{
	outl(PCI_ADDR, 0x80000000u | dev << 11 | (reg & 0xfc));
	outl(PCI_DATA, v);
}

bool hmx_probe(struct hmx *h)
{
	unsigned int dev;

	for (dev = 0; dev < 32; dev++) {
		uint32_t id = pci_cfg_read32(dev, 0);

		if (id != (HMX_PCI_DEVICE_ID << 16 | HMX_PCI_VENDOR_ID))
			continue;
		h->io = (uint16_t)(pci_cfg_read32(dev, 0x10) & ~3u);
		pci_cfg_write32(dev, 0x04, 0x7); /* I/O, memory, bus master */
		h->domid = (uint16_t)inl(h->io + HMX_REG_DOMID);
		return true;
	}
	return false;
}

int hmx_hypercall(struct hmx *h, struct hmx_call *c)
{
	uint64_t gpa = (uintptr_t)c; /* identity-mapped */

	barrier();
	outl(h->io + HMX_REG_CALL_HI, (uint32_t)(gpa >> 32));
	outl(h->io + HMX_REG_CALL_LO, (uint32_t)gpa);
	barrier();
	return c->result;
}

#define RT_MAX_VCPUS 8

static struct {
	struct hmx_call call __attribute__((aligned(64)));
	struct hmx_iov iov;
	uint64_t pfns[HMX_RT_MAX_PAGES];
} rt_vcpu[RT_MAX_VCPUS] __attribute__((aligned(64)));

static unsigned int this_vcpu(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (b >> 24) % RT_MAX_VCPUS;
}

int hmx_register(struct hmx *h, uint32_t aport, uint16_t partner, void *pages,
		 uint32_t npages)
{
	unsigned int v = this_vcpu();
	struct hmx_call *c = &rt_vcpu[v].call;

	if (!npages || npages > HMX_RT_MAX_PAGES)
		return -22;
	for (uint32_t i = 0; i < npages; i++)
		rt_vcpu[v].pfns[i] = ((uintptr_t)pages >> 12) + i;
	memset(c, 0, sizeof(*c));
	c->op = HMX_OP_REGISTER_RING;
	c->u.register_ring.aport = aport;
	c->u.register_ring.partner = partner;
	c->u.register_ring.len = npages * HMX_PAGE_SIZE - HMX_RING_HEADER_SIZE;
	c->u.register_ring.npages = npages;
	c->u.register_ring.pfn_list_gpa = (uintptr_t)rt_vcpu[v].pfns;
	return hmx_hypercall(h, c);
}

int hmx_unregister(struct hmx *h, uint32_t aport, uint16_t partner)
{
	struct hmx_call *c = &rt_vcpu[this_vcpu()].call;

	memset(c, 0, sizeof(*c));
	c->op = HMX_OP_UNREGISTER_RING;
	c->u.unregister_ring.aport = aport;
	c->u.unregister_ring.partner = partner;
	return hmx_hypercall(h, c);
}

int hmx_send(struct hmx *h, uint32_t src, uint16_t dst, uint32_t port,
	     const void *buf, uint32_t len)
{
	unsigned int v = this_vcpu();
	struct hmx_call *c = &rt_vcpu[v].call;

	rt_vcpu[v].iov = (struct hmx_iov){ .gpa = (uintptr_t)buf, .len = len };
	memset(c, 0, sizeof(*c));
	c->op = HMX_OP_SENDV;
	c->u.sendv.src.aport = src;
	c->u.sendv.dst.domid = dst;
	c->u.sendv.dst.aport = port;
	c->u.sendv.iov_gpa = (uintptr_t)&rt_vcpu[v].iov;
	c->u.sendv.niov = 1;
	return hmx_hypercall(h, c);
}

int hmx_notify_consumed(struct hmx *h)
{
	struct hmx_call *c = &rt_vcpu[this_vcpu()].call;

	memset(c, 0, sizeof(*c));
	c->op = HMX_OP_NOTIFY;
	return hmx_hypercall(h, c);
}

long hmx_ring_take(void *pages, uint32_t npages, struct hmx_msg_header *mh,
		   void *out, uint32_t cap, unsigned long spin_limit)
{
	volatile struct hmx_ring *r = pages;
	const uint8_t *data = (const uint8_t *)pages + HMX_RING_HEADER_SIZE;
	uint32_t len = npages * HMX_PAGE_SIZE - HMX_RING_HEADER_SIZE;
	uint32_t rx = r->rx_ptr, payload, i;
	unsigned long spin;

	for (spin = 0; r->tx_ptr == rx; spin++) {
		if (spin == spin_limit)
			return -1;
		__asm__ volatile("pause");
	}
	barrier(); /* the data is there once tx_ptr moved */
	memcpy(mh, data + rx, sizeof(*mh)); /* slots never split a header */
	payload = mh->len - (uint32_t)sizeof(*mh);
	for (i = 0; i < payload && i < cap; i++)
		((uint8_t *)out)[i] = data[(rx + sizeof(*mh) + i) % len];
	barrier();
	r->rx_ptr = (rx + HMX_ROUNDUP(mh->len)) % len;
	return payload;
}

uint32_t hmx_irq_status(struct hmx *h)
{
	return inl(h->io + HMX_REG_IRQ_STATUS);
}

void check(bool cond, const char *name, long got, long want)
{
	if (cond) {
		gprintf("ok %s\n", name);
		return;
	}
	test_failures++;
	gprintf("FAIL %s: got %ld, want %ld\n", name, got, want);
}
