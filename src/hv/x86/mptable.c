// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/mptable.h"

#include <string.h>

#include "hv/x86/layout.h"
#include "util/bytes.h"

#define MPF_SIZE 16
#define MPC_HEADER_SIZE 44
#define MPC_CPU_SIZE 20
#define MPC_SHORT_SIZE 8 /* bus, IOAPIC and interrupt entries */
#define MP_SPEC_REV 4

enum mp_entry_type { MP_CPU, MP_BUS, MP_IOAPIC, MP_IOINT, MP_LINT };
enum mp_int_type { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define MP_CPU_ENABLED 0x01
#define MP_CPU_BOOT 0x02
#define MP_APIC_VERSION 0x14
#define MP_IOAPIC_VERSION 0x11
#define MP_BUS_ISA 0
#define MP_BUS_PCI 1

unsigned int mptable_ioapic_id(unsigned int ncpus)
{
	return ncpus;
}

static uint8_t *put_bus(uint8_t *p, uint8_t id, const char *type)
{
	p[0] = MP_BUS;
	p[1] = id;
	memcpy(p + 2, type, 6);
	return p + MPC_SHORT_SIZE;
}

static uint8_t *put_int(uint8_t *p, enum mp_entry_type kind, uint8_t int_type,
			uint8_t bus, uint8_t bus_irq, uint8_t dst, uint8_t pin)
{
	p[0] = kind;
	p[1] = int_type;
	put_le16(p + 2, 0); /* conforms to the bus: ISA is edge, active high */
	p[4] = bus;
	p[5] = bus_irq;
	p[6] = dst;
	p[7] = pin;
	return p + MPC_SHORT_SIZE;
}

size_t mptable_build(uint8_t *buf, size_t len, uint64_t gpa, unsigned int ncpus)
{
	const unsigned int nentries = ncpus + 2 + 1 + 16 + 2;
	const size_t table_len = MPC_HEADER_SIZE + ncpus * MPC_CPU_SIZE +
				 (nentries - ncpus) * MPC_SHORT_SIZE;
	const uint8_t ioapic = (uint8_t)mptable_ioapic_id(ncpus);
	uint8_t *mpf = buf, *mpc = buf + MPF_SIZE, *p;
	unsigned int i;

	if (!ncpus || ncpus > MPTABLE_MAX_CPUS || len < MPF_SIZE + table_len)
		return 0;
	memset(buf, 0, MPF_SIZE + table_len);

	memcpy(mpf, "_MP_", 4);
	put_le32(mpf + 4, (uint32_t)(gpa + MPF_SIZE));
	mpf[8] = 1; /* length in 16-byte units */
	mpf[9] = MP_SPEC_REV;
	/* feature bytes stay zero: a configuration table is present */
	mpf[10] = checksum8(mpf, MPF_SIZE);

	memcpy(mpc, "PCMP", 4);
	put_le16(mpc + 4, (uint16_t)table_len);
	mpc[6] = MP_SPEC_REV;
	memcpy(mpc + 8, "BULKHEAD", 8);
	memcpy(mpc + 16, "KVM x86     ", 12);
	put_le16(mpc + 34, (uint16_t)nentries);
	put_le32(mpc + 36, (uint32_t)LAYOUT_LAPIC);

	p = mpc + MPC_HEADER_SIZE;
	for (i = 0; i < ncpus; i++) {
		p[0] = MP_CPU;
		p[1] = (uint8_t)i;
		p[2] = MP_APIC_VERSION;
		p[3] = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BOOT : 0);
		put_le32(p + 4, 0x600); /* family 6: signature is advisory */
		put_le32(p + 8, 0x201); /* FPU, APIC */
		p += MPC_CPU_SIZE;
	}
	p = put_bus(p, MP_BUS_ISA, "ISA   ");
	p = put_bus(p, MP_BUS_PCI, "PCI   ");

	p[0] = MP_IOAPIC;
	p[1] = ioapic;
	p[2] = MP_IOAPIC_VERSION;
	p[3] = 0x01; /* enabled */
	put_le32(p + 4, (uint32_t)LAYOUT_IOAPIC);
	p += MPC_SHORT_SIZE;

	/* KVM's default routing sends ISA IRQ n to IOAPIC pin n. */
	for (i = 0; i < 16; i++)
		p = put_int(p, MP_IOINT, MP_INT, MP_BUS_ISA, (uint8_t)i, ioapic,
			    (uint8_t)i);
	p = put_int(p, MP_LINT, MP_EXTINT, MP_BUS_ISA, 0, 0xff, 0);
	p = put_int(p, MP_LINT, MP_NMI, MP_BUS_ISA, 0, 0xff, 1);

	mpc[7] = checksum8(mpc, table_len);
	return MPF_SIZE + table_len;
}
