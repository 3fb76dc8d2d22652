// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/acpi.h"

#include <string.h>

#include "hv/x86/aml.h"
#include "hv/x86/layout.h"
#include "util/bytes.h"

#define RSDP_SIZE 36
#define RSDP_V1_SIZE 20
#define SDT_HEADER_SIZE 36
#define XSDT_ENTRIES 2
#define XSDT_SIZE (SDT_HEADER_SIZE + 8 * XSDT_ENTRIES)
#define MADT_FIXED_SIZE (SDT_HEADER_SIZE + 8)
#define MADT_LAPIC_SIZE 8
#define MADT_IOAPIC_SIZE 12
#define MADT_LAPIC_NMI_SIZE 6
#define MADT_MAX_CPUS 255
#define MADT_PCAT_COMPAT 0x1
#define MADT_ENABLED 0x1
enum madt_type { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_LAPIC_NMI = 4 };
#define FADT_SIZE 276
#define FADT_REVISION 6
#define FACS_SIZE 64

/* FADT field offsets (ACPI 6.x, table 5.9). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_HYPERVISOR_VENDOR 268

#define IAPC_8042 (1u << 1) /* probe the i8042 even without a PNP device */
#define IAPC_NO_VGA (1u << 2)
#define IAPC_NO_CMOS_RTC (1u << 5)
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PWR_BUTTON (1u << 4) /* no fixed-feature power button */
#define FADT_F_SLP_BUTTON (1u << 5)
#define FADT_F_RESET_REG_SUP (1u << 10)

#define GAS_SIZE 12
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

#define DSDT_AML_MAX 512

/*
 * The DSDT's body: the PCI host bridge (Linux enumerates PCI through it
 * whenever ACPI is on) with the windows the hypervisor assigns BARs from,
 * and \_S5 with the sleep type our PM1a control register acts on.
 */
static size_t dsdt_aml(uint8_t *buf, size_t cap, uint64_t mmio64)
{
	struct aml a;

	aml_init(&a, buf, cap);
	aml_scope(&a, "\\_SB");
	aml_device(&a, "PCI0");
	aml_name(&a, "_HID");
	aml_integer(&a, aml_eisaid("PNP0A03"));
	aml_name(&a, "_UID");
	aml_integer(&a, 0);
	aml_name(&a, "_BBN");
	aml_integer(&a, 0);
	aml_name(&a, "_CRS");
	aml_resources(&a);
	aml_res_word_bus(&a, 0, 0xff);
	aml_res_io(&a, 0xcf8, 8);
	aml_res_word_io(&a, 0x0000, 0x0cf7);
	aml_res_word_io(&a, 0x0d00, 0xffff);
	aml_res_dword_memory(&a, (uint32_t)LAYOUT_PCI_MMIO,
			     (uint32_t)(LAYOUT_PCI_MMIO_END - 1));
	aml_res_qword_memory(&a, mmio64, mmio64 + LAYOUT_PCI_MMIO64_SIZE - 1);
	aml_resources_end(&a);
	aml_close(&a); /* PCI0 */
	aml_close(&a); /* \_SB */
	aml_name(&a, "_S5");
	aml_package(&a, 2);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, 0);
	aml_close(&a);
	return aml_end(&a);
}

static void put_gas(uint8_t *p, uint8_t bits, uint8_t access, uint64_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = bits;
	p[2] = 0;
	p[3] = access;
	put_le64(p + 4, port);
}

static void put_sdt_header(uint8_t *p, const char *sig, uint32_t len,
			   uint8_t rev)
{
	memcpy(p, sig, 4);
	put_le32(p + 4, len);
	p[8] = rev;
	memcpy(p + 10, "BLKHD ", 6);
	memcpy(p + 16, "BULKHEAD", 8);
	put_le32(p + 24, 1);
	memcpy(p + 28, "BLKH", 4);
	put_le32(p + 32, 1);
}

static void fadt_fill(uint8_t *fadt, uint64_t facs, uint64_t dsdt)
{
	put_sdt_header(fadt, "FACP", FADT_SIZE, FADT_REVISION);
	put_le32(fadt + FADT_FIRMWARE_CTRL, (uint32_t)facs);
	put_le32(fadt + FADT_DSDT, (uint32_t)dsdt);
	put_le16(fadt + FADT_SCI_INT, IRQ_ACPI_SCI);
	/* SMI_CMD stays zero: the platform is always in ACPI mode. */
	put_le32(fadt + FADT_PM1A_EVT_BLK, PORT_ACPI_PM1_EVT);
	put_le32(fadt + FADT_PM1A_CNT_BLK, PORT_ACPI_PM1_CNT);
	fadt[FADT_PM1_EVT_LEN] = 4;
	fadt[FADT_PM1_CNT_LEN] = 2;
	put_le16(fadt + FADT_IAPC_BOOT_ARCH,
		 IAPC_8042 | IAPC_NO_VGA | IAPC_NO_CMOS_RTC);
	put_le32(fadt + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PWR_BUTTON |
					    FADT_F_SLP_BUTTON |
					    FADT_F_RESET_REG_SUP);
	put_gas(fadt + FADT_RESET_REG, 8, GAS_ACCESS_BYTE, PORT_ACPI_RESET);
	fadt[FADT_RESET_VALUE] = ACPI_RESET_VALUE;
	fadt[FADT_MINOR_VERSION] = 0;
	put_le64(fadt + FADT_X_FIRMWARE_CTRL, facs);
	put_le64(fadt + FADT_X_DSDT, dsdt);
	put_gas(fadt + FADT_X_PM1A_EVT_BLK, 32, GAS_ACCESS_WORD,
		PORT_ACPI_PM1_EVT);
	put_gas(fadt + FADT_X_PM1A_CNT_BLK, 16, GAS_ACCESS_WORD,
		PORT_ACPI_PM1_CNT);
	memcpy(fadt + FADT_HYPERVISOR_VENDOR, "BULKHEAD", 8);
	fadt[9] = checksum8(fadt, FADT_SIZE);
}

static size_t madt_size(unsigned int ncpus)
{
	return MADT_FIXED_SIZE + ncpus * MADT_LAPIC_SIZE + MADT_IOAPIC_SIZE +
	       MADT_LAPIC_NMI_SIZE;
}

static void madt_fill(uint8_t *madt, unsigned int ncpus, unsigned int ioapic_id)
{
	uint8_t *p = madt + MADT_FIXED_SIZE;
	unsigned int i;

	put_sdt_header(madt, "APIC", (uint32_t)madt_size(ncpus), 4);
	put_le32(madt + SDT_HEADER_SIZE, (uint32_t)LAYOUT_LAPIC);
	put_le32(madt + SDT_HEADER_SIZE + 4, MADT_PCAT_COMPAT);
	for (i = 0; i < ncpus; i++, p += MADT_LAPIC_SIZE) {
		p[0] = MADT_LAPIC;
		p[1] = MADT_LAPIC_SIZE;
		p[2] = (uint8_t)i; /* ACPI processor UID */
		p[3] = (uint8_t)i; /* APIC id */
		put_le32(p + 4, MADT_ENABLED);
	}
	p[0] = MADT_IOAPIC;
	p[1] = MADT_IOAPIC_SIZE;
	p[2] = (uint8_t)ioapic_id;
	put_le32(p + 4, (uint32_t)LAYOUT_IOAPIC);
	put_le32(p + 8, 0); /* GSI base: legacy IRQ n is GSI n, as KVM routes */
	p += MADT_IOAPIC_SIZE;
	p[0] = MADT_LAPIC_NMI;
	p[1] = MADT_LAPIC_NMI_SIZE;
	p[2] = 0xff; /* all processors */
	put_le16(p + 3, 0);
	p[5] = 1; /* LINT1 */
	madt[9] = checksum8(madt, madt_size(ncpus));
}

size_t acpi_tables_build(uint8_t *buf, size_t len, uint64_t gpa,
			 unsigned int ncpus, unsigned int ioapic_id,
			 uint64_t mmio64)
{
	/* Offsets within buf; FACS must be 64-byte aligned. */
	const size_t xsdt = 0x40, fadt = 0x80, facs = 0x1c0, dsdt = 0x200;
	uint8_t aml[DSDT_AML_MAX];
	const size_t aml_len = dsdt_aml(aml, sizeof(aml), mmio64);
	const size_t dsdt_len = SDT_HEADER_SIZE + aml_len;
	const size_t madt = (dsdt + dsdt_len + 15) & ~(size_t)15;
	uint8_t *p;

	if (!aml_len || !ncpus || ncpus > MADT_MAX_CPUS || gpa & 0xf ||
	    len < madt + madt_size(ncpus))
		return 0;
	memset(buf, 0, madt + madt_size(ncpus));

	p = buf;
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "BLKHD ", 6);
	p[15] = 2; /* ACPI 2.0+: XSDT */
	put_le32(p + 20, RSDP_SIZE);
	put_le64(p + 24, gpa + xsdt);
	p[8] = checksum8(p, RSDP_V1_SIZE);
	p[32] = checksum8(p, RSDP_SIZE);

	p = buf + xsdt;
	put_sdt_header(p, "XSDT", XSDT_SIZE, 1);
	put_le64(p + SDT_HEADER_SIZE, gpa + fadt);
	put_le64(p + SDT_HEADER_SIZE + 8, gpa + madt);
	p[9] = checksum8(p, XSDT_SIZE);

	fadt_fill(buf + fadt, gpa + facs, gpa + dsdt);

	p = buf + facs;
	memcpy(p, "FACS", 4);
	put_le32(p + 4, FACS_SIZE);
	p[32] = 2; /* version */

	p = buf + dsdt;
	put_sdt_header(p, "DSDT", (uint32_t)dsdt_len, 2);
	memcpy(p + SDT_HEADER_SIZE, aml, aml_len);
	p[9] = checksum8(p, dsdt_len);

	madt_fill(buf + madt, ncpus, ioapic_id);
	return madt + madt_size(ncpus);
}
