/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The runtime of freestanding test guests: serial output, PCI config
 * space, the HMX controller, power-off. No interrupts: everything polls.
 */
#ifndef BH_GUEST_TEST_RT_H
#define BH_GUEST_TEST_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bulkhead/hmx.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void guest_poweroff(void) __attribute__((noreturn));

/* The value of key=value on the kernel command line, or NULL. */
const char *cmdline_get(const char *key, char *buf, size_t len);
unsigned long cmdline_uint(const char *key, unsigned long dflt);

uint32_t pci_cfg_read32(unsigned int dev, unsigned int reg);
void pci_cfg_write32(unsigned int dev, unsigned int reg, uint32_t v);

struct hmx {
	uint16_t io; /* BAR0 */
	uint16_t domid;
};

/* Finds and enables the HMX controller; false if there is none. */
bool hmx_probe(struct hmx *h);
/* Runs one call through the doorbell; returns its result. */
int hmx_hypercall(struct hmx *h, struct hmx_call *c);
uint32_t hmx_irq_status(struct hmx *h);

/* Checks: print "ok NAME" or "FAIL NAME: ..." and count failures. */
extern unsigned int test_failures;
void check(bool cond, const char *name, long got, long want);
/* Evaluates each argument once: got is often a hypercall. */
static inline void check_eq(const char *name, long got, long want)
{
	check(got == want, name, got, want);
}
#define CHECK_EQ(name, got, want) check_eq(name, (long)(got), (long)(want))

#endif
