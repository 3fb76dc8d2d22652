// SPDX-License-Identifier: GPL-2.0-only
#include "hv/control/request.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool request_failed(const struct request *req)
{
	return req->error[0] != '\0';
}

void request_fail(struct request *req, const char *fmt, ...)
{
	va_list ap;

	if (request_failed(req))
		return; /* keep the first problem */
	va_start(ap, fmt);
	vsnprintf(req->error, sizeof(req->error), fmt, ap);
	va_end(ap);
}

void request_only_keys(struct request *req, const char *const *allowed)
{
	request_only_keys_in(req, req->obj, allowed, req->op);
}

void request_only_keys_in(struct request *req, json_object *obj,
			  const char *const *allowed, const char *what)
{
	if (!json_object_is_type(obj, json_type_object)) {
		request_fail(req, "%s must be a JSON object", what);
		return;
	}
	json_object_object_foreach(obj, key, val)
	{
		const char *const *a;

		(void)val;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, key))
				break;
		if (!*a) {
			request_fail(req, "unknown field \"%.64s\" in %s", key,
				     what);
			return;
		}
	}
}

static json_object *request_get(struct request *req, json_object *obj,
				const char *key, bool required)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v) {
		if (required)
			request_fail(req, "missing field \"%s\"", key);
		return NULL;
	}
	return v;
}

const char *request_string(struct request *req, const char *key, bool required,
			   size_t max_len)
{
	return request_string_in(req, req->obj, key, required, max_len);
}

static const char *string_field(struct request *req, json_object *obj,
				const char *key, bool required, size_t min_len,
				size_t max_len)
{
	json_object *v = request_get(req, obj, key, required);
	const char *s;
	size_t len;

	if (!v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		request_fail(req, "field \"%s\" must be a string", key);
		return NULL;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len < min_len || len > max_len || strlen(s) != len) {
		request_fail(
			req,
			"field \"%s\" must be %zu to %zu bytes without NUL",
			key, min_len, max_len);
		return NULL;
	}
	return s;
}

const char *request_string_in(struct request *req, json_object *obj,
			      const char *key, bool required, size_t max_len)
{
	return string_field(req, obj, key, required, 1, max_len);
}

const char *request_text(struct request *req, const char *key, bool required,
			 size_t max_len)
{
	return string_field(req, req->obj, key, required, 0, max_len);
}

uint64_t request_uint(struct request *req, const char *key, bool required,
		      uint64_t min, uint64_t max, uint64_t dflt)
{
	return request_uint_in(req, req->obj, key, required, min, max, dflt);
}

uint64_t request_uint_in(struct request *req, json_object *obj, const char *key,
			 bool required, uint64_t min, uint64_t max,
			 uint64_t dflt)
{
	json_object *v = request_get(req, obj, key, required);
	int64_t i;

	if (!v)
		return dflt;
	if (!json_object_is_type(v, json_type_int)) {
		request_fail(req, "field \"%s\" must be an integer", key);
		return dflt;
	}
	errno = 0;
	i = json_object_get_int64(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max || errno) {
		request_fail(req, "field \"%s\" must be between %llu and %llu",
			     key, (unsigned long long)min,
			     (unsigned long long)max);
		return dflt;
	}
	return (uint64_t)i;
}

json_object *request_array(struct request *req, const char *key, bool required,
			   size_t max_len)
{
	json_object *v = request_get(req, req->obj, key, required);

	if (!v)
		return NULL;
	if (!json_object_is_type(v, json_type_array)) {
		request_fail(req, "field \"%s\" must be an array", key);
		return NULL;
	}
	if (json_object_array_length(v) > max_len) {
		request_fail(req, "field \"%s\" has more than %zu elements",
			     key, max_len);
		return NULL;
	}
	return v;
}

bool request_bool(struct request *req, const char *key, bool dflt)
{
	json_object *v = request_get(req, req->obj, key, false);

	if (!v)
		return dflt;
	if (!json_object_is_type(v, json_type_boolean)) {
		request_fail(req, "field \"%s\" must be true or false", key);
		return dflt;
	}
	return json_object_get_boolean(v);
}

int request_fd_in(struct request *req, json_object *obj, const char *key,
		  bool required)
{
	uint64_t i = request_uint_in(req, obj, key, required, 0,
				     CONTROL_FRAME_MAX_FDS - 1, UINT64_MAX);

	if (i == UINT64_MAX || request_failed(req))
		return -1;
	if ((int)i >= req->nfds) {
		request_fail(
			req,
			"field \"%s\" names fd %llu but %d fds came with the request",
			key, (unsigned long long)i, req->nfds);
		return -1;
	}
	return req->fds[i];
}

int request_fd(struct request *req, const char *key, bool required)
{
	return request_fd_in(req, req->obj, key, required);
}

void request_take_fd(struct request *req, int fd)
{
	int i;

	for (i = 0; i < req->nfds; i++)
		if (req->fds[i] == fd)
			req->fd_taken[i] = true;
}

void request_release(struct request *req)
{
	int i;

	for (i = 0; i < req->nfds; i++)
		if (!req->fd_taken[i])
			close(req->fds[i]);
	req->nfds = 0;
}
