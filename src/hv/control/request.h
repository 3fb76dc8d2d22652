/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Validated access to a request's fields. Every accessor checks type and
 * range and, on failure, records the first problem in req->error so that
 * a handler can fetch all its arguments and then test once.
 */
#ifndef BH_HV_CONTROL_REQUEST_H
#define BH_HV_CONTROL_REQUEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/control_frame.h"

struct request {
	json_object *obj;
	const char *op;
	int fds[CONTROL_FRAME_MAX_FDS];
	int nfds;
	bool fd_taken[CONTROL_FRAME_MAX_FDS];
	char error[256]; /* empty while all is well */
};

bool request_failed(const struct request *req);
void request_fail(struct request *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fails if obj has a key that is not in allowed (NULL-terminated). */
void request_only_keys(struct request *req, const char *const *allowed);
/* The same for a nested object, named what in the error. */
void request_only_keys_in(struct request *req, json_object *obj,
			  const char *const *allowed, const char *what);

/* Like request_string, but the empty string is allowed. */
const char *request_text(struct request *req, const char *key, bool required,
			 size_t max_len);
/* A string of 1..max_len bytes without NULs; NULL if absent and optional. */
const char *request_string(struct request *req, const char *key, bool required,
			   size_t max_len);
uint64_t request_uint(struct request *req, const char *key, bool required,
		      uint64_t min, uint64_t max, uint64_t dflt);
bool request_bool(struct request *req, const char *key, bool dflt);
/* An array of at most max_len elements; NULL if absent and optional. */
json_object *request_array(struct request *req, const char *key, bool required,
			   size_t max_len);
/* Field accessors for a nested object. */
uint64_t request_uint_in(struct request *req, json_object *obj, const char *key,
			 bool required, uint64_t min, uint64_t max,
			 uint64_t dflt);
const char *request_string_in(struct request *req, json_object *obj,
			      const char *key, bool required, size_t max_len);
/*
 * The fd attached at the index the key names; -1 if absent and optional.
 * The request keeps ownership until request_take_fd.
 */
int request_fd(struct request *req, const char *key, bool required);
int request_fd_in(struct request *req, json_object *obj, const char *key,
		  bool required);
/* Transfers ownership of fd to the caller. */
void request_take_fd(struct request *req, int fd);
/* Closes every fd the handler did not take. */
void request_release(struct request *req);

#endif
