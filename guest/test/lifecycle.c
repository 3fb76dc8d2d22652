// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ends the VM the way action= on the command line says, so that the
 * hypervisor's reporting of each outcome can be tested without Linux:
 * poweroff, reboot-acpi, reboot-kbd, triple-fault, panic (pvpanic),
 * echo (copy serial input to output until a '.' arrives, then power off).
 */
#include "rt.h"

#define ACPI_RESET_PORT 0x608
#define ACPI_RESET_VALUE 0x0f
#define I8042_CMD 0x64
#define I8042_PULSE_RESET 0xfe
#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_DR 0x01
#define PVPANIC_DEVICE 0x00111b36u
#define PVPANIC_PANICKED 0x01

static void triple_fault(void)
{
	/* An empty IDT: the next exception cannot be delivered. */
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idt = { 0, 0 };

	__asm__ volatile("lidt %0; int3" : : "m"(idt));
}

static void pvpanic(void)
{
	unsigned int dev;

	for (dev = 0; dev < 32; dev++) {
		if (pci_cfg_read32(dev, 0) != PVPANIC_DEVICE)
			continue;
		pci_cfg_write32(dev, 0x04, 0x2); /* memory decoding */
		*(volatile uint8_t *)(uintptr_t)(pci_cfg_read32(dev, 0x10) &
						 ~0xfu) = PVPANIC_PANICKED;
		return;
	}
	gprintf("no pvpanic device\n");
}

static void echo(void)
{
	for (;;) {
		uint8_t c;

		while (!(inb(COM1_LSR) & LSR_DR))
			__asm__ volatile("pause");
		c = inb(COM1);
		if (c == '.')
			return;
		outb(COM1, c);
	}
}

void guest_main(const uint8_t *zero_page);
void guest_main(const uint8_t *zero_page)
{
	char action[16];

	(void)zero_page;
	if (!cmdline_get("action", action, sizeof(action))) {
		gprintf("no action= given\n");
		return;
	}
	gprintf("lifecycle: %s\n", action);
	if (!memcmp(action, "reboot-acpi", 12))
		outb(ACPI_RESET_PORT, ACPI_RESET_VALUE);
	else if (!memcmp(action, "reboot-kbd", 11))
		outb(I8042_CMD, I8042_PULSE_RESET);
	else if (!memcmp(action, "triple-fault", 13))
		triple_fault();
	else if (!memcmp(action, "panic", 6))
		pvpanic();
	else if (!memcmp(action, "echo", 5))
		echo();
	else if (!memcmp(action, "hang", 5))
		for (;;)
			__asm__ volatile("cli; hlt");
	/* poweroff, and whatever returns here */
}
