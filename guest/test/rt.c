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
