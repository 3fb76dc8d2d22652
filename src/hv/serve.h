/* SPDX-License-Identifier: GPL-2.0-only */
/* `bulkhead-hv serve`: host many VMs, driven over the control socket. */
#ifndef BH_HV_SERVE_H
#define BH_HV_SERVE_H

#include <stdio.h>

int hv_serve_main(int argc, char **argv);
void hv_serve_usage(FILE *out);

#endif
