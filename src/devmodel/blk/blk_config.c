// SPDX-License-Identifier: GPL-2.0-only
#include "devmodel/blk/blk_config.h"

#include <endian.h>
#include <string.h>

uint64_t blk_features(const struct blk_params *p)
{
	uint64_t f = (1ull << VIRTIO_BLK_F_SEG_MAX) |
		     (1ull << VIRTIO_BLK_F_BLK_SIZE) |
		     (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_MQ);

	if (p->readonly) {
		f |= 1ull << VIRTIO_BLK_F_RO;
	} else if (!p->layered) {
		f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
		if (p->discard)
			f |= 1ull << VIRTIO_BLK_F_DISCARD;
	}
	return f;
}

void blk_limits_init(const struct blk_params *p, bool serial,
		     struct blk_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->capacity = p->size / BLK_SECTOR;
	lim->readonly = p->readonly;
	lim->write_zeroes = !p->readonly && !p->layered;
	lim->discard = !p->readonly && !p->layered && p->discard;
	lim->may_unmap = lim->discard;
	lim->serial = serial;
	lim->range_sectors_max = BLK_RANGE_SECTORS_MAX;
	lim->ranges_max = BLK_RANGES_MAX;
}

void blk_config_init(const struct blk_params *p, struct virtio_blk_config *c)
{
	uint32_t align = p->discard_align / BLK_SECTOR;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(p->size / BLK_SECTOR);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(p->block_size);
	c->num_queues = htole16((uint16_t)p->nqueues);
	if (!p->readonly && !p->layered && p->discard) {
		c->max_discard_sectors = htole32(BLK_RANGE_SECTORS_MAX);
		c->max_discard_seg = htole32(BLK_RANGES_MAX);
		c->discard_sector_alignment = htole32(align ? align : 1);
	}
	if (!p->readonly && !p->layered) {
		c->max_write_zeroes_sectors = htole32(BLK_RANGE_SECTORS_MAX);
		c->max_write_zeroes_seg = htole32(BLK_RANGES_MAX);
		c->write_zeroes_may_unmap = p->discard;
	}
}

int blk_config_read(const struct virtio_blk_config *c, uint32_t offset,
		    uint8_t *buf, uint32_t len)
{
	if (offset > sizeof(*c) || len > sizeof(*c) - offset)
		return -1;
	memcpy(buf, (const uint8_t *)c + offset, len);
	return 0;
}
