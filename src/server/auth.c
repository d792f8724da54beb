/*
 * auth.c -- API keys: a key is "tn_" and 64 hex digits (256 bits from
 * OpenSSL's RAND_bytes through tn_random_bytes, seeded by the kernel's getrandom).  The store keeps
 * its SHA-256 (include/tenure/store.h, api_keys); a request's key is hashed
 * and compared with every valid key's hash with CRYPTO_memcmp, which takes
 * the same time whatever the bytes.  Keys are read from the store at most
 * once a second, so `tenure keys revoke` takes effect within a second.
 * The rate limit is a token bucket per key: RATE tokens a second, BURST at most.
 */
#include "server/server_internal.h"
#include "base/alloc.h"

#include <openssl/crypto.h>
#include "base/rng.h"
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int scope_bits(const char *s)
{
	if (strcmp(s, "admin") == 0)
		return SCOPE_ADMIN | SCOPE_READ | SCOPE_INGEST;
	if (strcmp(s, "read") == 0)
		return SCOPE_READ;
	if (strcmp(s, "ingest") == 0)
		return SCOPE_INGEST;
	return SCOPE_NONE;
}

int tn_key_create(tn_store *s, const char *scope, const char *name, char *key, int64_t *id, tn_error *err)
{
	if (scope_bits(scope) == SCOPE_NONE)
		return tn_error_set(err, TN_ERR_USAGE, "--scope: expected ingest, read or admin, found \"%s\"", scope);
	if (name && strlen(name) >= sizeof ((tn_api_key *)0)->name)
		return tn_error_set(err, TN_ERR_USAGE, "--name: at most %zu characters",
				    sizeof ((tn_api_key *)0)->name - 1);
	unsigned char raw[32];
	if (tn_random_bytes(raw, sizeof raw))
		return tn_error_set(err, TN_ERR_IO, "cannot get random bytes for a key (OpenSSL RAND_bytes failed)");
	static const char hex[] = "0123456789abcdef";
	memcpy(key, "tn_", 3);
	for (size_t i = 0; i < sizeof raw; i++) {
		key[3 + 2 * i] = hex[raw[i] >> 4];
		key[3 + 2 * i + 1] = hex[raw[i] & 15];
	}
	key[TN_KEY_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof raw);
	tn_api_key k = {0};
	snprintf(k.name, sizeof k.name, "%s", name ? name : "");
	snprintf(k.scope, sizeof k.scope, "%s", scope);
	snprintf(k.prefix, sizeof k.prefix, "%.10s", key);
	SHA256((const unsigned char *)key, TN_KEY_LEN, k.hash);
	k.created_at = tn_now();
	k.revoked_at = TN_NO_TIME;
	return tn_store_key_add(s, &k, id, err);
}

/* Reload the valid keys when the cache is older than a second (mu held).
 * 0 when the cache holds the store's keys, -1 when they could not be read
 * (a revoked key must not pass on an old list): then a request's key is
 * neither known nor unknown, and the caller answers 503, never 401 -- a 401
 * would tell a client its valid key is wrong.  A failure is written to
 * stderr (the first, then at most one a minute), with the store's reason. */
static int reload(tn_server *sv)
{
	key_cache *kc = &sv->keys;
	double now = server_now();
	if (kc->keys && now - kc->loaded_at < 1.0)
		return 0;
	tn_error err = {0};
	tn_store *s = reader_take(sv, &err);
	tn_api_key *list = NULL;
	size_t n = 0;
	if (!s || tn_store_keys_list(s, &list, &n, &err)) {
		reader_give(sv, s);
		if (now - kc->warned_at >= 60.0 || kc->warned_at == 0) {
			fprintf(stderr, "tenure serve: cannot read the API keys (answering 503): %s\n",
				err.msg[0] ? err.msg : "unknown error");
			kc->warned_at = now;
		}
		return -1;
	}
	reader_give(sv, s);
	key_entry *keys = tn_calloc(n ? n : 1, sizeof *keys);
	if (!keys) {
		free(list);
		return -1;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (list[i].revoked_at != TN_NO_TIME)
			continue;
		key_entry *e = &keys[m++];
		e->id = list[i].id;
		e->scope = scope_bits(list[i].scope);
		memcpy(e->hash, list[i].hash, sizeof e->hash);
		e->tokens = -1; /* a full bucket, unless the key was known */
		for (size_t j = 0; j < kc->n; j++)
			if (kc->keys[j].id == e->id) {
				e->tokens = kc->keys[j].tokens;
				e->last = kc->keys[j].last;
			}
	}
	free(list);
	free(kc->keys);
	kc->keys = keys;
	kc->n = m;
	kc->loaded_at = now;
	return 0;
}

int auth_check(tn_server *sv, const char *authorization, int *scope, int64_t *key_id)
{
	*scope = SCOPE_NONE;
	*key_id = 0;
	if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
		return -1;
	const char *key = authorization + 7;
	while (*key == ' ')
		key++;
	size_t len = strlen(key);
	while (len && (key[len - 1] == ' ' || key[len - 1] == '\t'))
		len--;
	if (len != TN_KEY_LEN)
		return -1;
	unsigned char h[32];
	SHA256((const unsigned char *)key, len, h);
	pthread_mutex_lock(&sv->keys.mu);
	if (reload(sv)) {
		pthread_mutex_unlock(&sv->keys.mu);
		return -2;
	}
	int found = -1;
	/* every key is compared, in constant time each */
	for (size_t i = 0; i < sv->keys.n; i++)
		if (CRYPTO_memcmp(h, sv->keys.keys[i].hash, sizeof h) == 0) {
			*scope = sv->keys.keys[i].scope;
			*key_id = sv->keys.keys[i].id;
			found = 0;
		}
	pthread_mutex_unlock(&sv->keys.mu);
	return found;
}

int auth_rate(tn_server *sv, int64_t key_id)
{
	double rate = sv->o.rate;
	if (rate <= 0)
		return 0;
	double burst = sv->o.burst > 0 ? sv->o.burst : (rate > 1 ? rate : 1);
	int wait = 0;
	pthread_mutex_lock(&sv->keys.mu);
	for (size_t i = 0; i < sv->keys.n; i++) {
		key_entry *e = &sv->keys.keys[i];
		if (e->id != key_id)
			continue;
		double now = server_now();
		if (e->tokens < 0) {
			e->tokens = burst;
			e->last = now;
		}
		e->tokens += (now - e->last) * rate;
		if (e->tokens > burst)
			e->tokens = burst;
		e->last = now;
		if (e->tokens >= 1) {
			e->tokens -= 1;
		} else {
			double secs = (1 - e->tokens) / rate;
			wait = (int)secs + ((double)(int)secs < secs ? 1 : 0);
			if (wait < 1)
				wait = 1;
		}
		break;
	}
	pthread_mutex_unlock(&sv->keys.mu);
	return wait;
}

int auth_key_scope(tn_server *sv, int64_t key_id)
{
	int scope = SCOPE_NONE;
	pthread_mutex_lock(&sv->keys.mu);
	(void)reload(sv); /* keys that cannot be read: the last ones known */
	for (size_t i = 0; i < sv->keys.n; i++)
		if (sv->keys.keys[i].id == key_id)
			scope = sv->keys.keys[i].scope;
	pthread_mutex_unlock(&sv->keys.mu);
	return scope;
}

void auth_free(key_cache *kc)
{
	free(kc->keys);
	kc->keys = NULL;
	kc->n = 0;
}
