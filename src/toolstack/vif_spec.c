// SPDX-License-Identifier: GPL-2.0-only
/*
 * xl vif specifications: comma-separated parameters, each KEY=VALUE or
 * one of xl's flags, blanks around each parameter and around its '='
 * ignored, empty parameters skipped. Every key at most once.
 */
#include "toolstack/vif_spec.h"

#include "toolstack/cfg_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum key_id { K_BACKEND, K_MAC, K_IP, K_MODEL, K_TYPE, K_UNTRUSTED, K_COUNT };

static const char *const key_names[K_COUNT] = {
	"backend", "mac", "ip", "model", "type", "untrusted",
};

struct parser {
	const char *s;
	size_t len;
	struct vif_spec *out;
	struct vif_spec_error *err;
	bool given[K_COUNT];
	size_t first[K_COUNT]; /* offset of each key's first use */
};

/*
 * xl keys whose work Bulkhead does inside the backend VM, with what
 * does it there: the toolstack only connects a vif to its backend.
 */
static const struct {
	const char *key;
	const char *where;
} ndvm_keys[] = {
	{ "bridge", "bridging is configured inside the NDVM" },
	{ "script", "hotplug scripts run inside the NDVM" },
	{ "gatewaydev", "routing is configured inside the NDVM" },
	{ "netdev", "routing is configured inside the NDVM" },
	{ "forwarddev", "forwarding is configured inside the NDVM" },
	{ "rate", "traffic shaping is configured inside the NDVM" },
	{ "vlan", "VLANs are configured inside the NDVM" },
	{ "vifname", "the NDVM names its end vifDOMID.N itself" },
	{ "mtu", "the MTU is set inside the guest and the NDVM" },
};

/* Emulated NICs xl offers through QEMU, and what hmxnet is instead. */
static const char *const emulated_models[] = {
	"rtl8139",  "e1000", "e1000e", "virtio-net", "virtio",
	"ne2k_pci", "pcnet", "i82551", "i82557b",    "i82559er",
};

static int fail(struct parser *ps, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct parser *ps, size_t offset, const char *fmt, ...)
{
	va_list ap;

	ps->err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *quoted(const struct parser *ps, size_t offset, size_t n,
			  char *buf, size_t len)
{
	cfg_quote(ps->s + offset, n, buf, len);
	return buf;
}

static bool text_is(const char *t, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(t, word, n);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A lower-case letter, then [a-z0-9_]: xl's parameter names. */
static bool is_key(const char *t, size_t n)
{
	if (!n || t[0] < 'a' || t[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!(t[i] >= 'a' && t[i] <= 'z') && !is_digit(t[i]) &&
		    t[i] != '_')
			return false;
	}
	return true;
}

static int once(struct parser *ps, enum key_id k, size_t off)
{
	if (ps->given[k])
		return fail(ps, off, "%s given twice (first at character %zu)",
			    key_names[k], ps->first[k] + 1);
	ps->given[k] = true;
	ps->first[k] = off;
	return 0;
}

static int set_backend(struct parser *ps, size_t voff, size_t vlen)
{
	const char *problem;

	if (!vlen)
		return fail(
			ps, voff,
			"backend: expected the backend VM's name (leave backend out for the default NDVM)");
	problem = vm_name_problem(ps->s + voff, vlen);
	if (problem)
		return fail(ps, voff, "backend: %s", problem);
	memcpy(ps->out->backend, ps->s + voff, vlen);
	ps->out->backend[vlen] = '\0';
	return 0;
}

static int set_mac(struct parser *ps, size_t voff, size_t vlen)
{
	const char *v = ps->s + voff;
	uint8_t *mac = ps->out->mac;
	char text[VIF_MAC_TEXT];
	bool zero = true;

	for (size_t i = 0; vlen == VIF_MAC_TEXT - 1 && i < VIF_MAC_BYTES; i++) {
		int hi = hex_value(v[3 * i]), lo = hex_value(v[3 * i + 1]);

		if (hi < 0 || lo < 0 ||
		    (i < VIF_MAC_BYTES - 1 && v[3 * i + 2] != ':'))
			break;
		mac[i] = (uint8_t)(hi << 4 | lo);
		zero &= !mac[i];
		if (i == VIF_MAC_BYTES - 1)
			goto parsed;
	}
	return fail(
		ps, voff,
		"mac: expected six pairs of hex digits separated by colons, such as 02:16:3e:00:00:01");
parsed:
	vif_mac_format(mac, text);
	if (zero)
		return fail(ps, voff,
			    "mac: 00:00:00:00:00:00 is no interface's address");
	if (mac[0] & 1)
		return fail(
			ps, voff,
			"mac: %s is a multicast address (the first byte is odd); a vif needs a unicast one, such as 02:16:3e:00:00:01",
			text);
	if ((mac[0] == 0x02 || mac[0] == 0xfe) && mac[1] == 0x48 &&
	    mac[2] == 0x4d)
		return fail(
			ps, voff,
			"mac: %s is in the range hmxnet gives vifs without mac= (%02x:48:4d:...), where it could clash; choose another",
			text, mac[0]);
	ps->out->has_mac = true;
	return 0;
}

/* a.b.c.d: four decimals 0..255 without leading zeros (octal in inet_aton). */
static bool ipv4(const char *t, size_t n, uint32_t *out)
{
	uint32_t ip = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		uint32_t v = 0;
		size_t start;

		if (part && (i >= n || t[i++] != '.'))
			return false;
		start = i;
		while (i < n && is_digit(t[i]) && i - start < 3)
			v = v * 10 + (uint32_t)(t[i++] - '0');
		if (i == start || v > 255 || (t[start] == '0' && i - start > 1))
			return false;
		ip = ip << 8 | v;
	}
	*out = ip;
	return i == n;
}

/* Addresses no interface of a guest can be given. */
static const char *ip_problem(uint32_t ip)
{
	if (ip >> 24 == 0)
		return "is in 0.0.0.0/8, which names no interface";
	if (ip >> 24 == 127)
		return "is a loopback address";
	if (ip == 0xffffffffu)
		return "is the broadcast address";
	if (ip >> 28 == 0xe)
		return "is a multicast address";
	return NULL;
}

static int set_ip(struct parser *ps, size_t voff, size_t vlen)
{
	struct vif_spec *out = ps->out;
	size_t pos = voff, end = voff + vlen;
	char q[64], text[VIF_IP_TEXT];

	if (!vlen)
		return fail(
			ps, voff,
			"ip: expected one or more IPv4 addresses separated by spaces");
	while (pos < end) {
		size_t a = pos, n;
		const char *problem;
		uint32_t ip;

		while (pos < end && !is_blank(ps->s[pos]))
			pos++;
		n = pos - a;
		while (pos < end && is_blank(ps->s[pos]))
			pos++;
		if (memchr(ps->s + a, ':', n))
			return fail(ps, a, "ip: %s: only IPv4 addresses",
				    quoted(ps, a, n, q, sizeof(q)));
		if (!ipv4(ps->s + a, n, &ip))
			return fail(
				ps, a,
				"ip: %s is not an IPv4 address such as 10.0.0.5",
				quoted(ps, a, n, q, sizeof(q)));
		vif_ip_format(ip, text);
		problem = ip_problem(ip);
		if (problem)
			return fail(ps, a, "ip: %s %s", text, problem);
		for (size_t j = 0; j < out->nip; j++) {
			if (out->ip[j] == ip)
				return fail(ps, a, "ip: %s is given twice",
					    text);
		}
		if (out->nip == VIF_IPS_MAX)
			return fail(ps, a, "ip: at most %u addresses",
				    VIF_IPS_MAX);
		out->ip[out->nip++] = ip;
	}
	return 0;
}

static int set_model(struct parser *ps, size_t voff, size_t vlen)
{
	const char *v = ps->s + voff;
	char q[64];

	if (text_is(v, vlen, "hmxnet"))
		return 0;
	for (size_t i = 0;
	     i < sizeof(emulated_models) / sizeof(*emulated_models); i++) {
		if (text_is(v, vlen, emulated_models[i]))
			return fail(
				ps, voff,
				"model: %s is a NIC emulated by a device model; a Bulkhead vif is hmxnet, Ethernet over HMX with no device model: leave model out or write hmxnet",
				emulated_models[i]);
	}
	return fail(ps, voff, "model: unknown model %s: the only one is hmxnet",
		    quoted(ps, voff, vlen, q, sizeof(q)));
}

static int set_type(struct parser *ps, size_t voff, size_t vlen)
{
	const char *v = ps->s + voff;
	char q[64];

	if (text_is(v, vlen, "vif"))
		return 0;
	if (text_is(v, vlen, "ioemu"))
		return fail(
			ps, voff,
			"type: ioemu is a NIC emulated by a device model; a Bulkhead vif is hmxnet: leave type out or write vif");
	return fail(ps, voff, "type: unknown type %s: expected vif",
		    quoted(ps, voff, vlen, q, sizeof(q)));
}

static int named(struct parser *ps, size_t off, size_t klen, size_t voff,
		 size_t vlen)
{
	static int (*const setters[K_COUNT])(struct parser *, size_t,
					     size_t) = {
		[K_BACKEND] = set_backend, [K_MAC] = set_mac,	[K_IP] = set_ip,
		[K_MODEL] = set_model,	   [K_TYPE] = set_type,
	};
	const char *k = ps->s + off;
	char q[64];
	int ret;

	for (enum key_id i = 0; i < K_COUNT; i++) {
		if (!setters[i] || !text_is(k, klen, key_names[i]))
			continue;
		ret = once(ps, i, off);
		return ret ? ret : setters[i](ps, voff, vlen);
	}
	for (size_t i = 0; i < sizeof(ndvm_keys) / sizeof(*ndvm_keys); i++) {
		if (text_is(k, klen, ndvm_keys[i].key))
			return fail(
				ps, off,
				"%s: not a vif key in Bulkhead: %s, not in the guest's definition",
				ndvm_keys[i].key, ndvm_keys[i].where);
	}
	if (text_is(k, klen, "devid"))
		return fail(
			ps, off,
			"devid: a vif's number is its position in the list (the first is vif 0)");
	if (klen > 5 && !memcmp(k, "colo_", 5))
		return fail(ps, off, "%s: COLO replication is not supported",
			    quoted(ps, off, klen, q, sizeof(q)));
	if (text_is(k, klen, "accel"))
		return fail(ps, off,
			    "accel: an xl key Bulkhead does not support");
	return fail(
		ps, off,
		"unknown vif key %s: the keys are backend, mac, ip, model and type",
		quoted(ps, off, klen, q, sizeof(q)));
}

/* A flag: xl's only ones say whether to trust the backend. */
static int flag(struct parser *ps, size_t off, size_t n)
{
	const char *t = ps->s + off;

	if (text_is(t, n, "untrusted"))
		return once(ps, K_UNTRUSTED, off);
	if (text_is(t, n, "trusted"))
		return fail(
			ps, off,
			"trusted: hmxnet never trusts its backend (it checks every frame and shares no memory): leave it out or write untrusted");
	if (is_key(t, n))
		return fail(ps, off, "%.*s: expected %.*s=VALUE", (int)n, t,
			    (int)n, t);
	return fail(
		ps, off,
		"expected key=value, the key a lower-case word such as backend or mac");
}

static int param(struct parser *ps, size_t off, size_t n)
{
	const char *t = ps->s + off, *eq = memchr(t, '=', n);
	size_t klen, voff, vlen;

	if (!eq)
		return flag(ps, off, n);
	klen = (size_t)(eq - t);
	while (klen && is_blank(t[klen - 1]))
		klen--;
	voff = off + (size_t)(eq - t) + 1;
	vlen = off + n - voff;
	while (vlen && is_blank(ps->s[voff])) {
		voff++;
		vlen--;
	}
	if (!is_key(t, klen))
		return fail(
			ps, off,
			"expected key=value, the key a lower-case word such as backend or mac");
	return named(ps, off, klen, voff, vlen);
}

int vif_spec_parse(const char *spec, size_t len, struct vif_spec *out,
		   struct vif_spec_error *err)
{
	struct parser ps = { .s = spec, .len = len, .out = out, .err = err };
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	while (pos < len) {
		size_t start, end, n;
		int ret;

		while (pos < len && is_blank(spec[pos]))
			pos++;
		start = pos;
		while (pos < len && spec[pos] != ',')
			pos++;
		end = pos;
		while (end > start && is_blank(spec[end - 1]))
			end--;
		n = end - start;
		pos++; /* past the comma, or past the end */
		if (!n)
			continue;
		ret = param(&ps, start, n);
		if (ret) {
			memset(out, 0, sizeof(*out));
			return ret;
		}
	}
	return 0;
}

void vif_mac_format(const uint8_t mac[VIF_MAC_BYTES], char *buf)
{
	snprintf(buf, VIF_MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void vif_ip_format(uint32_t ip, char *buf)
{
	snprintf(buf, VIF_IP_TEXT, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		 (ip >> 8) & 0xff, ip & 0xff);
}

void vif_default_mac(uint16_t domid, unsigned int n, uint8_t mac[VIF_MAC_BYTES])
{
	mac[0] = 0x02;
	mac[1] = 0x48;
	mac[2] = 0x4d;
	mac[3] = (uint8_t)(domid >> 8);
	mac[4] = (uint8_t)(domid & 0xff);
	mac[5] = (uint8_t)n;
}
