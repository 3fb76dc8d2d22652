// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the control protocol behind the socket: each input is a session
 * of request messages, each with up to four attached descriptors of the
 * input's choice (files with fuzzed content, stream and packet sockets,
 * pipes, /dev/null, an eventfd, a directory), fed one by one through
 * control_handle_request() into a real hypervisor host (event loop, HMX
 * core, the host's HMX domain and arena) that has no KVM, so vm.create
 * fails where it would create the VM and everything else runs for real.
 *
 * It aborts when a reply is not an object with "id" and "ok", echoes a
 * different id than a well-formed request carried, lacks an error text
 * when not ok, would not fit in one protocol message (64 KiB, so it could
 * not be sent and the client would wait forever), or when a request
 * leaves a descriptor open that was not open before it (a leak of the
 * passed ones or of anything the hypervisor opened on the way).
 */
#include "fuzz_input.h"
#include "hv/control/server.h"
#include "hv/host.h"
#include "util/control_frame.h"
#include "util/log.h"

#include <bulkhead/hmx.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGES 64

static unsigned int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	check(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * One attached descriptor of the kind the input picks; the ends we keep
 * (the peer of a socket or pipe) go to *keep for closing afterwards.
 */
static int make_fd(struct rd *r, int *keep)
{
	int sv[2], fd = -1;
	const uint8_t *content;
	size_t len;

	*keep = -1;
	switch (u8(r) % 7) {
	case 0: /* a regular file with fuzzed content (kernel, rules) */
		fd = memfd_create("fuzz-file", MFD_CLOEXEC);
		check(fd >= 0);
		len = take(r, u16(r), &content);
		check(write(fd, content, len) == (ssize_t)len);
		break;
	case 1: /* a stream socket (vm.console's kind) */
		check(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
		fd = sv[0];
		*keep = sv[1];
		break;
	case 2: /* a packet socket */
		check(!socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				  sv));
		fd = sv[0];
		*keep = sv[1];
		break;
	case 3:
		check(!pipe2(sv, O_CLOEXEC));
		fd = sv[0];
		*keep = sv[1];
		break;
	case 4:
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		break;
	case 5:
		fd = eventfd(0, EFD_CLOEXEC);
		break;
	default:
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		break;
	}
	check(fd >= 0);
	return fd;
}

/*
 * The id a well-formed request carries, by docs/control-protocol.md: the
 * message is exactly one JSON object, nesting depth at most 8.
 */
static bool request_id(const char *buf, size_t len, int64_t *id)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	json_object *o, *v;
	bool ok = false;

	check(tok);
	*id = 0;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o && json_tokener_get_error(tok) == json_tokener_success &&
	    (size_t)tok->char_offset == len &&
	    json_object_is_type(o, json_type_object)) {
		ok = true;
		if (json_object_object_get_ex(o, "id", &v)) {
			errno = 0;
			*id = json_object_get_int64(v);
			ok = json_object_is_type(v, json_type_int) && !errno &&
			     *id >= 0 && *id <= UINT32_MAX;
		}
	}
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

static void check_reply(json_object *reply, const char *buf, size_t len)
{
	json_object *id, *ok, *error;
	size_t out_len;
	int64_t want;

	check(reply && json_object_is_type(reply, json_type_object));
	check(json_object_object_get_ex(reply, "id", &id) &&
	      json_object_is_type(id, json_type_int));
	check(json_object_object_get_ex(reply, "ok", &ok) &&
	      json_object_is_type(ok, json_type_boolean));
	if (!json_object_get_boolean(ok)) {
		check(json_object_object_get_ex(reply, "error", &error) &&
		      json_object_is_type(error, json_type_string));
		check(json_object_get_string_len(error) > 0);
	}
	/* A reply that cannot be sent leaves the client waiting forever. */
	json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN,
					  &out_len);
	if (out_len > CONTROL_FRAME_MAX_BYTES) {
		fprintf(stderr, "a reply of %zu bytes to: %.200s\n", out_len,
			buf);
		abort();
	}
	if (request_id(buf, len, &want))
		check(json_object_get_int64(id) == want);
}

static void host_init(struct hv_host *host)
{
	/* hv_host_init() without /dev/kvm: VMs cannot be created. */
	memset(host, 0, sizeof(*host));
	host->next_domid = HMX_DOMID_FIRST_GUEST;
	host->kvm.fd = -1;
	host->loop = event_loop_create();
	check(host->loop);
	check(host_hmx_init(&host->hmx, host->loop) == 0);
}

static void run_message(struct control_server *srv,
			struct control_session *sess, struct rd *r)
{
	static char buf[CONTROL_FRAME_MAX_BYTES + 1];
	int fds[CONTROL_FRAME_MAX_FDS], keep[CONTROL_FRAME_MAX_FDS];
	unsigned int before = open_fds();
	size_t want = u16(r), len;
	int nfds = u8(r) % (CONTROL_FRAME_MAX_FDS + 1);
	const uint8_t *msg;
	json_object *reply;

	for (int i = 0; i < nfds; i++)
		fds[i] = make_fd(r, &keep[i]);
	len = take(r, want, &msg);
	memcpy(buf, msg, len);
	buf[len] = '\0'; /* as control_frame_recv() leaves it */
	reply = control_handle_request(srv, sess, buf, len, fds, nfds);
	check_reply(reply, buf, len);
	json_object_put(reply);
	for (int i = 0; i < nfds; i++)
		if (keep[i] >= 0)
			close(keep[i]);
	/* No VM can exist here, so nothing may keep a descriptor. */
	check(open_fds() == before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hello[] = "{\"op\":\"hello\",\"version\":1}";
	struct control_session sess = { 0 };
	struct control_server srv;
	struct rd r = { data, size };
	struct hv_host host;
	uint8_t flags = u8(&r);
	int none[1];

	bh_log_init("fuzz_control", BH_LOG_ERR);
	host_init(&host);
	check(control_server_init(&srv, &host) == 0);
	if (flags & 1) {
		json_object *reply = control_handle_request(
			&srv, &sess, hello, strlen(hello), none, 0);

		check_reply(reply, hello, strlen(hello));
		check(sess.hello);
		json_object_put(reply);
	}
	for (int i = 0; r.n && i < MAX_MESSAGES; i++)
		run_message(&srv, &sess, &r);
	control_server_close(&srv);
	hv_host_fini(&host);
	return 0;
}
