// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the VM definition parser end to end: lexer, syntax, every key,
 * the rule language; and, for definitions that parse, the policy compiler,
 * check, explain and both renderings. Aborts on any broken invariant:
 * values out of their documented bounds, error messages that are not
 * printable ASCII, rules that do not survive format and re-parse, or a
 * compiled decision that differs from the reference semantics.
 */
#include "fuzz_input.h"
#include "policy_oracle.h"
#include "toolstack/policy.h"
#include "toolstack/vmcfg.h"

#include <bulkhead/hmx_net.h>
#include <json-c/json.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DOMID 3

static bool printable_ascii(const char *s)
{
	for (; *s; s++) {
		if (*s < 0x20 || *s > 0x7e)
			return false;
	}
	return true;
}

static void check_error(int ret, const struct cfg_error *err)
{
	char text[CFG_ERROR_FILE_MAX + CFG_ERROR_MSG_MAX + 32];

	check(ret == -EINVAL || ret == -ENOMEM);
	check(err->msg[0] != '\0');
	check(printable_ascii(err->msg));
	check(!strcmp(err->file, "fuzz.cfg"));
	/* Only a missing key has no line. */
	check(err->line || strstr(err->msg, "required key missing"));
	cfg_error_format(err, text, sizeof(text));
	check(!strncmp(text, "fuzz.cfg:", 9));
}

static void check_path(const char *p)
{
	check(p && p[0] == '/' && strlen(p) <= VMCFG_PATH_MAX);
}

static void check_rule_roundtrip(const struct policy_written_rule *wr)
{
	struct policy_rule again;
	struct policy_rule_error perr;
	char text[POLICY_RULE_TEXT_MAX + 64];
	const struct policy_rule *r = &wr->rule;

	check(wr->text && strlen(wr->text) <= POLICY_RULE_TEXT_MAX);
	check(r->src.sel == POLICY_SEL_MYSELF ||
	      r->dst.sel == POLICY_SEL_MYSELF);
	policy_rule_format(r, text, sizeof(text));
	check(policy_rule_parse(text, strlen(text), &again, &perr) == 0);
	check(again.action == r->action);
	check(again.src.sel == r->src.sel && again.dst.sel == r->dst.sel);
	check(again.src.port == r->src.port && again.dst.port == r->dst.port);
	if (r->src.sel == POLICY_SEL_NAME)
		check(!strcmp(again.src.name, r->src.name));
	if (r->dst.sel == POLICY_SEL_NAME)
		check(!strcmp(again.dst.name, r->dst.name));
	if (r->src.sel == POLICY_SEL_TYPE)
		check(again.src.type == r->src.type);
	if (r->dst.sel == POLICY_SEL_TYPE)
		check(again.dst.type == r->dst.type);
}

static void check_cfg(const struct vmcfg *cfg)
{
	check(!vm_name_problem(cfg->name, strlen(cfg->name)));
	check(cfg->memory_mib >= VMCFG_MEMORY_MIN_MIB &&
	      cfg->memory_mib <= VMCFG_MEMORY_MAX_MIB);
	check(cfg->vcpus >= 1 && cfg->vcpus <= VMCFG_VCPUS_MAX);
	check((unsigned int)cfg->role < VM_ROLE_COUNT);
	check_path(cfg->kernel);
	if (cfg->ramdisk)
		check_path(cfg->ramdisk);
	check(cfg->cmdline && strlen(cfg->cmdline) <= VMCFG_CMDLINE_MAX);
	check((cfg->serial == VMCFG_SERIAL_FILE) == (cfg->serial_path != NULL));
	if (cfg->serial_path)
		check_path(cfg->serial_path);
	check(cfg->nrules <= VMCFG_RULES_MAX);
	check(cfg->hmx || !cfg->nrules);
	for (size_t i = 0; i < cfg->nrules; i++)
		check_rule_roundtrip(&cfg->rules[i]);
	check(cfg->ndisks <= VMCFG_DISKS_MAX && cfg->nvifs <= VMCFG_VIFS_MAX);
	for (size_t i = 0; i < cfg->ndisks; i++) {
		const struct disk_spec *d = &cfg->disks[i];
		uint32_t index;

		check_path(d->target);
		check(!disk_vdev_index(d->vdev, strlen(d->vdev), &index) &&
		      index == d->index);
		/* Sorted, so each guest disk is named once. */
		check(i == 0 || cfg->disks[i - 1].index < d->index);
		check(d->format == DISK_FORMAT_RAW ||
		      (d->format == DISK_FORMAT_QCOW2 &&
		       d->backend == DISK_BACKEND_BULKHEAD_BLK));
		check(d->backend != DISK_BACKEND_VHOST_USER ||
		      strlen(d->target) <= DISK_SOCKET_PATH_MAX);
		check(d->element < VMCFG_DISKS_MAX && d->line);
		for (size_t j = 0; j < i; j++)
			check(d->element != cfg->disks[j].element &&
			      (strcmp(d->target, cfg->disks[j].target) ||
			       (d->readonly && cfg->disks[j].readonly)));
	}
	check(cfg->hmx || !cfg->nvifs);
	for (size_t i = 0; i < cfg->nvifs; i++) {
		const struct vif_spec *v = &cfg->vifs[i];

		check(v->element == i && v->line && v->nip <= VIF_IPS_MAX);
		check(strcmp(v->backend, cfg->name));
		check(!v->has_mac || !(v->mac[0] & 1));
		for (size_t j = 0; j < i; j++)
			check(!v->has_mac || !cfg->vifs[j].has_mac ||
			      memcmp(v->mac, cfg->vifs[j].mac, VIF_MAC_BYTES));
	}
	/* No key warns today. */
	check(cfg->nwarnings == 0);
	for (size_t i = 0; i < cfg->nwarnings; i++)
		check(printable_ascii(cfg->warnings[i].msg) &&
		      cfg->warnings[i].line);
}

/* Peers with rules of their own, so type=, any and rejects interact. */
static const char *const peer_cfgs[] = {
	"name = 'peer-ndvm'\nrole = 'ndvm'\nmemory = 64\nkernel = '/k'\n"
	"hmx_rules = [ 'type=guest -> myself', 'myself -> type=guest',\n"
	"  'reject any:22 -> myself' ]\n",
	"name = 'peer-svc'\nrole = 'service'\nmemory = 64\nkernel = '/k'\n"
	"hmx_rules = [ 'reject myself -> host', 'any -> myself:5555',\n"
	"  'myself:7 -> type=guest:7' ]\n",
	"name = 'peer-off'\nmemory = 64\nkernel = '/k'\nhmx = off\n",
};
#define NPEERS (sizeof(peer_cfgs) / sizeof(*peer_cfgs))

static struct vmcfg *peers[NPEERS];

static void load_peers(void)
{
	struct cfg_error err;

	if (peers[0])
		return;
	for (size_t i = 0; i < NPEERS; i++)
		check(vmcfg_parse_buffer(peer_cfgs[i], strlen(peer_cfgs[i]),
					 "peer.cfg", NULL, &peers[i],
					 &err) == 0);
}

static void add_port(uint32_t *ports, size_t *n, size_t max, uint32_t p)
{
	if (p == HMX_PORT_ANY || *n == max)
		return;
	for (size_t i = 0; i < *n; i++) {
		if (ports[i] == p)
			return;
	}
	ports[(*n)++] = p;
}

static void check_policy(const struct vmcfg *cfg)
{
	static const uint16_t domids[] = { HMX_DOMID_HOST, FUZZ_DOMID,
					   FUZZ_DOMID + 1, FUZZ_DOMID + 2,
					   FUZZ_DOMID + 3, FUZZ_DOMID + 4 };
	struct policy_vm vms[NPEERS + 1];
	struct policy_vif vifs[VMCFG_VIFS_MAX];
	struct policy_set *set;
	uint32_t ports[8] = { 22, 5555 };
	size_t nports = 2;
	char err[256], *text;
	struct json_object *json;
	bool name_clash = false;
	int ret;

	policy_vm_from_vmcfg(&vms[0], cfg, FUZZ_DOMID);
	/*
	 * Its vifs connected as the daemon would: the default to the ndvm
	 * peer; a named backend at its peer's domid, or, if no peer has
	 * the name, at the ndvm's (a backend replaced since: no entry).
	 */
	for (size_t i = 0; i < cfg->nvifs; i++) {
		const char *b = cfg->vifs[i].backend;

		vifs[i] = (struct policy_vif){ b[0] ? b : "peer-ndvm",
					       FUZZ_DOMID + 1,
					       cfg->vifs[i].line,
					       cfg->vifs[i].column };
		for (size_t p = 0; p < NPEERS; p++) {
			if (!strcmp(vifs[i].backend, peers[p]->name))
				vifs[i].backend_domid =
					(uint16_t)(FUZZ_DOMID + 1 + p);
		}
	}
	vms[0].vifs = vifs;
	vms[0].nvifs = cfg->nvifs;
	for (size_t i = 0; i < NPEERS; i++) {
		policy_vm_from_vmcfg(&vms[i + 1], peers[i],
				     (uint16_t)(FUZZ_DOMID + 1 + i));
		name_clash |= !strcmp(cfg->name, peers[i]->name);
	}
	ret = policy_compile(vms, NPEERS + 1, &set, err, sizeof(err));
	if (name_clash) {
		check(ret == -EINVAL);
		return;
	}
	check(ret == 0);
	for (size_t i = 0; i < cfg->nrules; i++) {
		add_port(ports, &nports, 4, cfg->rules[i].rule.src.port);
		add_port(ports, &nports, 4, cfg->rules[i].rule.dst.port);
	}
	if (cfg->nvifs) {
		add_port(ports, &nports, 8, HMX_NET_APORT(0));
		add_port(ports, &nports, 8, HMX_NET_APORT(cfg->nvifs - 1));
		add_port(ports, &nports, 8, HMX_NET_APORT(cfg->nvifs));
	}
	for (size_t s = 0; s < sizeof(domids) / sizeof(*domids); s++) {
		for (size_t d = 0; d < sizeof(domids) / sizeof(*domids); d++) {
			for (size_t sp = 0; sp < nports; sp++) {
				for (size_t dp = 0; dp < nports; dp++) {
					struct policy_flow flow = { domids[s],
								    ports[sp],
								    domids[d],
								    ports[dp] };
					const struct policy_entry *e =
						policy_check(set, &flow);
					enum policy_action got =
						e ? e->action : POLICY_REJECT;

					check(got ==
					      policy_oracle_decide(
						      vms, NPEERS + 1, &flow));
				}
			}
		}
	}
	{
		struct policy_flow flow;
		char src[VM_NAME_MAX + 16], dst[VM_NAME_MAX + 32];

		/* Through the names, as `bulkhead policy check` does. */
		snprintf(src, sizeof(src), "%s:%u", cfg->name,
			 ports[nports - 1]);
		snprintf(dst, sizeof(dst), "name=%s:%u", peers[0]->name,
			 ports[0]);
		check(policy_flow_parse(set, src, dst, &flow, err,
					sizeof(err)) ==
		      (cfg->hmx ? 0 : -EINVAL));
		if (cfg->hmx) {
			check(flow.src_domid == FUZZ_DOMID);
			check(policy_explain(set, &flow, &text) == 0);
			check(strstr(text, "decision: ") != NULL);
			free(text);
		}
	}
	check(policy_set_render_text(set, &text) == 0);
	free(text);
	json = policy_set_to_json(set);
	check(json);
	check(json_object_to_json_string_ext(json, JSON_C_TO_STRING_PLAIN));
	json_object_put(json);
	policy_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_error err;
	struct vmcfg *cfg;
	int ret;

	load_peers();
	memset(&err, 0, sizeof(err));
	/* Odd sizes parse without a base directory: relative paths fail. */
	ret = vmcfg_parse_buffer((const char *)data, size, "fuzz.cfg",
				 size & 1 ? NULL : "/fuzz", &cfg, &err);
	if (ret) {
		check(cfg == NULL);
		check_error(ret, &err);
		return 0;
	}
	check_cfg(cfg);
	check_policy(cfg);
	vmcfg_free(cfg);
	return 0;
}
