// SPDX-License-Identifier: GPL-2.0-only
/* Provisioning, opening (every check) and re-keying of the store. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/aead.h"
#include "store/atomic_file.h"
#include "store/format.h"
#include "store/store_priv.h"
#include "util/secret.h"

static int store_new(const char *dir, const struct store_anchor *anchor,
		     struct store **out, struct store_err *e)
{
	struct store *s;

	if (!anchor || !anchor->read || !anchor->advance)
		return store_fail(e, STORE_E_INVAL,
				  "a store needs a rollback anchor");
	s = calloc(1, sizeof(*s));
	if (!s)
		return store_fail(e, STORE_E_NOMEM, "out of memory");
	s->anchor = *anchor;
	s->dirfd = -1;
	s->key = secret_alloc(STORE_KEY_LEN);
	if (!s->key) {
		free(s);
		return store_fail(e, STORE_E_NOMEM,
				  "cannot lock memory for the key: %s",
				  strerror(errno));
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		int err = errno;

		store_close(s);
		return store_fail(e, STORE_E_IO, "%s: %s", dir, strerror(err));
	}
	if (flock(s->dirfd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		store_close(s);
		return store_fail(
			e, err == EWOULDBLOCK ? STORE_E_BUSY : STORE_E_IO,
			"%s: another process has the store open (%s)", dir,
			strerror(err));
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_recs_free(s);
	secret_free(s->key, STORE_KEY_LEN);
	if (s->sealed)
		explicit_bzero(s->sealed, s->sealed_len);
	free(s->sealed);
	explicit_bzero(&s->pass, sizeof(s->pass));
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s);
}

static int set_sealed(struct store *s, const struct store_sealer *sealer,
		      struct store_err *e)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int rc = sealer->seal(sealer->ctx, s->key, &blob, &len);

	if (rc)
		return store_fail(e, STORE_E_UNSEAL,
				  "sealing the store key failed: %s",
				  strerror(-rc));
	if (!blob || !len || len > STORE_SEALED_MAX) {
		free(blob);
		return store_fail(e, STORE_E_UNSEAL,
				  "the sealer gave a blob of %zu bytes, "
				  "expected 1..%d",
				  len, STORE_SEALED_MAX);
	}
	free(s->sealed);
	s->sealed = blob;
	s->sealed_len = len;
	return 0;
}

int store_create(const char *dir, const struct store_create_opts *o,
		 struct store **out, struct store_err *e)
{
	struct store *s;
	struct stat st;
	int rc;

	if (!o->passphrase && !o->sealer)
		return store_fail(e, STORE_E_INVAL,
				  "a store needs a sealer or a passphrase");
	if (o->passphrase && (rc = store_kdf_check(&o->kdf, e)))
		return rc;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return store_fail(e, STORE_E_IO, "%s: %s", dir,
				  strerror(errno));
	rc = store_new(dir, o->anchor, &s, e);
	if (rc)
		return rc;
	if (fstatat(s->dirfd, STORE_FILE_NAME, &st, 0) == 0) {
		store_close(s);
		return store_fail(e, STORE_E_EXISTS, "%s already holds a store",
				  dir);
	}
	if (random_bytes(s->id, STORE_ID_LEN) ||
	    random_bytes(s->key, STORE_KEY_LEN)) {
		store_close(s);
		return store_fail(e, STORE_E_IO, "no random bytes");
	}
	rc = 0;
	if (o->passphrase) {
		rc = store_pass_wrap(&s->pass, s->id, s->key, o->passphrase,
				     &o->kdf, e);
		s->has_pass = !rc;
	}
	if (!rc && o->sealer)
		rc = set_sealed(s, o->sealer, e);
	if (!rc)
		rc = store_commit(s, e);
	if (rc) {
		store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int read_file(int dirfd, uint8_t **buf, size_t *len, struct store_err *e)
{
	struct stat st;
	size_t off = 0;
	int fd;

	fd = openat(dirfd, STORE_FILE_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return store_fail(e, STORE_E_IO, "cannot open the store: %s",
				  strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return store_fail(e, STORE_E_CORRUPT,
				  "the store is not a regular file");
	}
	if ((uint64_t)st.st_size > STORE_FILE_MAX) {
		close(fd);
		return store_fail(e, STORE_E_LIMIT,
				  "store file of %lld bytes is over the %u "
				  "limit",
				  (long long)st.st_size, STORE_FILE_MAX);
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		close(fd);
		return store_fail(e, STORE_E_NOMEM, "out of memory");
	}
	while (off < *len) {
		ssize_t n = read(fd, *buf + off, *len - off);

		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			close(fd);
			free(*buf);
			return store_fail(e, STORE_E_IO,
					  "cannot read the store: %s",
					  strerror(err));
		}
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

static int unlock_key(struct store *s, const struct store_head *h,
		      const struct store_open_opts *o, struct store_err *e)
{
	struct store_pass_slot slot;
	char why[200] = "";
	int rc;

	if (o->passphrase) {
		if (!h->pass_slot)
			return store_fail(e, STORE_E_NOSLOT,
					  "the store has no recovery "
					  "passphrase slot");
		store_pass_slot_decode(&slot, h->pass_slot);
		return store_pass_unwrap(&slot, h->id, o->passphrase, s->key,
					 e);
	}
	if (!o->sealer)
		return store_fail(e, STORE_E_INVAL,
				  "opening needs a sealer or a passphrase");
	if (!h->sealed)
		return store_fail(e, STORE_E_NOSLOT,
				  "the store has no sealed slot; open it with "
				  "the recovery passphrase");
	rc = o->sealer->unseal(o->sealer->ctx, h->sealed, h->sealed_len, s->key,
			       why, sizeof(why));
	if (rc)
		return store_fail(e, STORE_E_UNSEAL,
				  "the store key cannot be unsealed: %s",
				  why[0] ? why : strerror(-rc));
	return 0;
}

/* Decrypts the index and every record into s. */
static int load(struct store *s, const struct store_head *h,
		const struct store_open_opts *o, struct store_err *e)
{
	struct store_index_entry *ent = NULL;
	uint8_t iv[STORE_GCM_IV_LEN], aad[STORE_RECORD_AAD_MAX];
	const uint8_t *file = h->index_ct - h->aad_len, *p;
	size_t n = 0, rec_bytes;
	uint8_t *index, *k;
	int rc;

	k = secret_alloc(STORE_KEY_LEN);
	index = malloc(h->index_len);
	if (!k || !index) {
		rc = store_fail(e, STORE_E_NOMEM, "out of memory");
		goto out;
	}
	memset(iv, 0, sizeof(iv));
	if (store_data_key(s, h->file_salt, k) ||
	    aead_open(k, iv, file, h->aad_len, h->index_ct, h->index_len,
		      h->index_ct + h->index_len, index)) {
		rc = store_fail(
			e, o->passphrase ? STORE_E_CORRUPT : STORE_E_UNSEAL,
			o->passphrase ?
				"corrupt store: its header and index do "
				"not authenticate (tampered or damaged)" :
				"the unsealed key does not open the "
				"store, or the store is tampered with");
		goto out;
	}
	rc = store_parse_index(index, h->index_len, &ent, &n, &rec_bytes, e);
	if (rc)
		goto out;
	if (rec_bytes != h->records_len) {
		rc = store_fail(e,
				rec_bytes > h->records_len ? STORE_E_TRUNCATED :
							     STORE_E_CORRUPT,
				"%s store: its records take %zu bytes, the "
				"file has %zu",
				rec_bytes > h->records_len ? "truncated" :
							     "corrupt",
				rec_bytes, h->records_len);
		goto out;
	}
	p = h->records;
	for (size_t i = 0; i < n; i++) {
		size_t alen = store_record_aad(aad, s->id, s->generation,
					       ent[i].name, ent[i].name_len);
		char *name = strndup(ent[i].name, ent[i].name_len);
		uint8_t *v = malloc(ent[i].value_len ? ent[i].value_len : 1);

		store_record_iv(iv, i);
		if (!name || !v) {
			free(name);
			free(v);
			rc = store_fail(e, STORE_E_NOMEM, "out of memory");
			goto out;
		}
		if (aead_open(k, iv, aad, alen, p, ent[i].value_len,
			      p + ent[i].value_len, v)) {
			rc = store_fail(e, STORE_E_CORRUPT,
					"corrupt store: record \"%s\" does not "
					"authenticate",
					name);
			free(name);
			free(v);
			goto out;
		}
		rc = store_rec_insert(s, name, v, ent[i].value_len, e);
		if (rc) {
			free(name);
			free(v);
			goto out;
		}
		p += ent[i].value_len + STORE_GCM_TAG_LEN;
	}
out:
	free(ent);
	if (index)
		explicit_bzero(index, h->index_len);
	free(index);
	secret_free(k, STORE_KEY_LEN);
	return rc;
}

int store_open(const char *dir, const struct store_open_opts *o,
	       struct store **out, struct store_err *e)
{
	struct store_head h;
	struct store *s;
	uint64_t anchored;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = store_new(dir, o->anchor, &s, e);
	if (rc)
		return rc;
	atomic_remove_temps(s->dirfd, STORE_FILE_NAME);
	rc = read_file(s->dirfd, &buf, &len, e);
	if (rc)
		goto fail;
	rc = store_parse_head(buf, len, &h, e);
	if (rc)
		goto fail;
	/* The id and generation are checked again by the index tag. */
	if (o->expect_id && memcmp(h.id, o->expect_id, STORE_ID_LEN)) {
		rc = store_fail(e, STORE_E_WRONG_ID,
				"wrong store id: %s holds another store than "
				"the one provisioned here",
				dir);
		goto fail;
	}
	memcpy(s->id, h.id, STORE_ID_LEN);
	s->generation = h.generation;
	rc = unlock_key(s, &h, o, e);
	if (!rc)
		rc = load(s, &h, o, e);
	if (rc)
		goto fail;
	rc = s->anchor.read(s->anchor.ctx, &anchored);
	if (rc) {
		rc = store_fail(e, STORE_E_ANCHOR,
				"cannot read the rollback anchor: %s",
				strerror(-rc));
		goto fail;
	}
	if (h.generation < anchored) {
		rc = store_fail(e, STORE_E_ROLLBACK,
				"rolled back: the store is generation %llu, "
				"the anchor says at least %llu; refused",
				(unsigned long long)h.generation,
				(unsigned long long)anchored);
		goto fail;
	}
	if (h.generation > anchored &&
	    (rc = s->anchor.advance(s->anchor.ctx, h.generation))) {
		rc = store_fail(e, STORE_E_ANCHOR,
				"cannot advance the rollback anchor: %s",
				strerror(-rc));
		goto fail;
	}
	if (h.pass_slot) {
		store_pass_slot_decode(&s->pass, h.pass_slot);
		s->has_pass = true;
	}
	if (h.sealed) {
		s->sealed = malloc(h.sealed_len);
		if (!s->sealed) {
			rc = store_fail(e, STORE_E_NOMEM, "out of memory");
			goto fail;
		}
		memcpy(s->sealed, h.sealed, h.sealed_len);
		s->sealed_len = h.sealed_len;
	}
	free(buf);
	*out = s;
	return 0;
fail:
	free(buf);
	store_close(s);
	return rc;
}

int store_rekey_passphrase(struct store *s, const char *passphrase,
			   const struct store_kdf_params *kdf,
			   struct store_err *e)
{
	struct store_pass_slot old = s->pass;
	bool had = s->has_pass;
	int rc;

	rc = store_kdf_check(kdf, e);
	if (!rc)
		rc = store_pass_wrap(&s->pass, s->id, s->key, passphrase, kdf,
				     e);
	if (!rc) {
		s->has_pass = true;
		rc = store_commit(s, e);
	}
	if (rc && rc != -(int)STORE_E_ANCHOR) {
		s->pass = old;
		s->has_pass = had;
	}
	return rc;
}

int store_reseal(struct store *s, const struct store_sealer *sealer,
		 struct store_err *e)
{
	uint8_t *old = s->sealed;
	size_t old_len = s->sealed_len;
	int rc;

	s->sealed = NULL;
	rc = set_sealed(s, sealer, e);
	if (!rc)
		rc = store_commit(s, e);
	if (rc && rc != -(int)STORE_E_ANCHOR) {
		free(s->sealed);
		s->sealed = old;
		s->sealed_len = old_len;
		return rc;
	}
	free(old);
	return rc;
}

uint64_t store_generation(const struct store *s)
{
	return s->generation;
}

void store_get_id(const struct store *s, uint8_t id[STORE_ID_LEN])
{
	memcpy(id, s->id, STORE_ID_LEN);
}
