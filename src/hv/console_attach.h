/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Clients attached to a VM's console through a passed socket: output
 * streams to them without ever blocking the hypervisor, and what they
 * write goes to the VM's serial port, paused while the guest is not
 * reading rather than dropped.
 */
#ifndef BH_HV_CONSOLE_ATTACH_H
#define BH_HV_CONSOLE_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

struct hv_vm;
struct hv_host;
struct event_source;

/* Attaches fd (taking ownership); history first if from_start. */
int console_attach(struct hv_vm *e, int fd, bool from_start);
/* The VM's console eventfd became readable. */
void console_attach_on_output(struct event_source *src, uint32_t events);
/* Resumes input paused on a full receive queue; call periodically. */
void console_attach_tick(struct hv_host *host);
bool console_attach_any_paused(struct hv_host *host);
/* Before a VM's console goes away: push what clients have not read yet. */
void console_attach_flush_all(struct hv_vm *e);
void console_attach_close_all(struct hv_vm *e);

#endif
