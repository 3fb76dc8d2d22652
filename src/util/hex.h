/* SPDX-License-Identifier: GPL-2.0-only */
/* Lower-case hexadecimal for binary payloads carried in JSON. */
#ifndef BH_UTIL_HEX_H
#define BH_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2 * len characters and a NUL to out. */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes an even-length hex string into out (room for cap bytes); returns
 * the byte count, or -1 if the text is not hex or does not fit. */
long hex_decode(const char *in, uint8_t *out, size_t cap);

#endif
