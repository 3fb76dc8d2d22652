// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tick: a timerfd, fast (VS_FAST_TICK_MS) while anything waits for a
 * retry (a REQUEST refused for lack of a guest ring, a control message or
 * data held after -EBUSY, which promises no wake-up) and slow otherwise;
 * connect timeouts run on it too.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bulkhead/hmx_vsock.h>

#include "hv/vsock/vsock_internal.h"

void vs_tick_fast(struct hv_vsock *vs)
{
	struct itimerspec its = { { 0, VS_FAST_TICK_MS * 1000000l },
				  { 0, VS_FAST_TICK_MS * 1000000l } };

	if (!vs->fast_tick && !timerfd_settime(vs->tfd, 0, &its, NULL))
		vs->fast_tick = true;
}

void vs_try_request(struct vs_conn *c)
{
	int ret;

	if (c->state != VS_CONNECTING ||
	    c->ctl_pending & BIT(HMX_VSOCK_OP_REQUEST) || !c->retry_at_ms)
		return;
	ret = vs_ctl(c, HMX_VSOCK_OP_REQUEST, 0);
	c->retry_at_ms = 0;
	if (ret == -ECONNREFUSED && ++c->tries < VS_CONNECT_TRIES) {
		/* The guest may register its listener's ring any moment. */
		c->retry_at_ms = vs_now_ms() + (10ll << c->tries);
		vs_tick_fast(c->vm->vs);
		return;
	}
	if (ret)
		c->dead = true; /* refused: the program sees the close */
}

/* Connection retries and timeouts; also covers -EBUSY (no wake-up). */
static void vs_on_tick(struct event_source *src, uint32_t events)
{
	struct hv_vsock *vs = src->opaque;
	long long t = vs_now_ms();
	struct itimerspec its = { 0 };
	bool fast = false;
	struct vs_vm *vm;
	struct vs_conn *c;
	uint64_t count;

	(void)events;
	if (read(vs->tfd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	for (vm = vs->vms; vm; vm = vm->next) {
		for (c = vm->conns; c; c = c->next) {
			if (c->state == VS_CONNECTING && t >= c->deadline_ms)
				vs_conn_close(c, HMX_VSOCK_OP_RST);
			if (c->retry_at_ms && t >= c->retry_at_ms)
				vs_try_request(c);
			if (c->retry_at_ms || c->ctl_pending || c->tx_blocked)
				fast = true;
		}
		vs_conn_reap(vm);
	}
	vs_retry(vs);
	if (fast != vs->fast_tick) {
		long ms = fast ? VS_FAST_TICK_MS : VS_SLOW_TICK_MS;

		its.it_interval.tv_sec = ms / 1000;
		its.it_interval.tv_nsec = (ms % 1000) * 1000000;
		its.it_value = its.it_interval;
		timerfd_settime(vs->tfd, 0, &its, NULL);
		vs->fast_tick = fast;
	}
}

int vs_timers_start(struct hv_vsock *vs)
{
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };

	vs->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	vs->tsrc = (struct event_source){ vs->tfd, vs_on_tick, vs };
	if (vs->tfd < 0 || timerfd_settime(vs->tfd, 0, &its, NULL) ||
	    event_loop_add(vs->loop, &vs->tsrc, EPOLLIN))
		return -errno;
	return 0;
}

void vs_timers_stop(struct hv_vsock *vs)
{
	event_loop_remove(vs->loop, &vs->tsrc);
}
