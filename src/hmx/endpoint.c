// SPDX-License-Identifier: GPL-2.0-only
#include "hmx/endpoint.h"

#include "hmx/consumer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hmx_host_ring {
	struct hmx_host *h;
	struct hmx_arena *a;
	uint16_t domid;
	uint16_t partner;
	uint32_t aport;
	uint32_t len;
	uint64_t gpa;
	size_t bytes;
	struct hmx_ring *ring;
};

int hmx_host_ring_open(struct hmx_host *h, uint16_t domid, struct hmx_arena *a,
		       uint32_t aport, uint16_t partner, uint32_t len,
		       struct hmx_host_ring **out)
{
	struct hmx_register_ring req = { 0 };
	struct hmx_host_ring *r;
	uint64_t list_gpa, *list;
	uint32_t npages;
	int ret;

	*out = NULL;
	if (len < HMX_RING_MIN_LEN || len > HMX_RING_MAX_LEN)
		return -EINVAL;
	npages = (HMX_RING_HEADER_SIZE + len + HMX_PAGE_SIZE - 1) /
		 HMX_PAGE_SIZE;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->h = h;
	r->a = a;
	r->domid = domid;
	r->partner = partner;
	r->aport = aport;
	r->len = len;
	r->bytes = (size_t)npages * HMX_PAGE_SIZE;
	ret = hmx_arena_alloc(a, r->bytes, &r->gpa);
	if (ret)
		goto err_free;
	ret = hmx_arena_alloc(a, npages * sizeof(uint64_t), &list_gpa);
	if (ret)
		goto err_ring;
	list = hmx_arena_ptr(a, list_gpa);
	for (uint32_t i = 0; i < npages; i++)
		list[i] = r->gpa / HMX_PAGE_SIZE + i;
	req.aport = aport;
	req.partner = partner;
	req.len = len;
	req.npages = npages;
	req.pfn_list_gpa = list_gpa;
	req.flags = HMX_REGISTER_FAIL_EXIST;
	ret = hmx_register_ring(h, domid, &req);
	hmx_arena_free(a, list_gpa, npages * sizeof(uint64_t));
	if (ret)
		goto err_ring;
	r->ring = hmx_arena_ptr(a, r->gpa);
	*out = r;
	return 0;
err_ring:
	hmx_arena_free(a, r->gpa, r->bytes);
err_free:
	free(r);
	return ret;
}

void hmx_host_ring_close(struct hmx_host_ring *r)
{
	struct hmx_unregister_ring req = { 0 };

	if (!r)
		return;
	req.aport = r->aport;
	req.partner = r->partner;
	/* -ENOENT if a teardown removed it already: fine either way. */
	hmx_unregister_ring(r->h, r->domid, &req);
	hmx_arena_free(r->a, r->gpa, r->bytes);
	free(r);
}

int hmx_host_ring_recv(struct hmx_host_ring *r, struct hmx_msg_header *mh,
		       void *buf, uint32_t cap)
{
	return hmx_ring_recv(r->ring, r->len, mh, buf, cap);
}

struct hmx_ring *hmx_host_ring_header(struct hmx_host_ring *r)
{
	return r->ring;
}

int hmx_host_send(struct hmx_host *h, uint16_t domid, struct hmx_arena *a,
		  uint32_t src_aport, struct hmx_addr dst,
		  uint32_t message_type, const void *buf, uint32_t len)
{
	size_t bytes = sizeof(struct hmx_iov) + (size_t)len;
	struct hmx_sendv req = { 0 };
	struct hmx_iov *iov;
	uint64_t gpa;
	int ret;

	if (hmx_arena_alloc(a, bytes, &gpa))
		return -ENOMEM;
	iov = hmx_arena_ptr(a, gpa);
	iov->gpa = gpa + sizeof(*iov);
	iov->len = len;
	iov->pad = 0;
	if (len)
		memcpy(iov + 1, buf, len);
	req.src.aport = src_aport;
	req.dst = dst;
	req.iov_gpa = gpa;
	req.niov = 1;
	req.message_type = message_type;
	ret = hmx_sendv(h, domid, &req);
	hmx_arena_free(a, gpa, bytes);
	return ret;
}
