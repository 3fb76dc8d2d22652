// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/device.h"

#include <stddef.h>

void device_init(struct device *dev, const struct device_ops *ops,
		 const struct dev_platform *plat)
{
	dev->ops = ops;
	dev->plat = plat;
	dev->next = NULL;
}

void device_list_add(struct device_list *list, struct device *dev)
{
	dev->next = list->head;
	list->head = dev;
}

struct device *device_list_find(const struct device_list *list,
				const struct device_ops *ops)
{
	for (struct device *d = list->head; d; d = d->next)
		if (d->ops == ops)
			return d;
	return NULL;
}

void device_list_reset(struct device_list *list)
{
	for (struct device *d = list->head; d; d = d->next)
		if (d->ops->reset)
			d->ops->reset(d);
}

void device_list_destroy(struct device_list *list)
{
	while (list->head) {
		struct device *d = list->head;

		list->head = d->next;
		d->ops->destroy(d);
	}
}
