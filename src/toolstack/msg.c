// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/msg.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int msg_send(int sock, struct json_object *obj, const int *fds, size_t nfds)
{
	const char *text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!text)
		return -ENOMEM;
	return control_frame_send(sock, text, strlen(text), fds, nfds);
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* *obj = buf[0..len) if that is exactly one JSON object, else NULL. */
static void parse_object(const char *buf, size_t len, struct json_object **obj)
{
	struct json_tokener *tok = json_tokener_new_ex(16);

	*obj = NULL;
	if (!tok)
		return;
	*obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (*obj && (json_tokener_get_error(tok) != json_tokener_success ||
		     json_tokener_get_parse_end(tok) != len ||
		     !json_object_is_type(*obj, json_type_object))) {
		json_object_put(*obj);
		*obj = NULL;
	}
	json_tokener_free(tok);
}

int msg_recv(int sock, struct json_object **obj, int *fds, size_t *nfds)
{
	int own[CONTROL_FRAME_MAX_FDS];
	int *got = fds ? fds : own;
	size_t ngot;
	ssize_t n;
	char *buf;

	*obj = NULL;
	if (nfds)
		*nfds = 0;
	buf = malloc(CONTROL_FRAME_MAX_BYTES + 1);
	if (!buf)
		return -ENOMEM;
	n = control_frame_recv(sock, buf, got, &ngot);
	if (n > 0)
		parse_object(buf, (size_t)n, obj);
	free(buf);
	if (n == -EMSGSIZE)
		return -EBADMSG;
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EPIPE;
	if (!*obj) {
		close_all(got, ngot);
		return -EBADMSG;
	}
	if (fds && nfds)
		*nfds = ngot;
	else
		close_all(got, ngot);
	return 0;
}

int msg_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}
