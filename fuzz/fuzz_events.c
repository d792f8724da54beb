/*
 * fuzz_events.c -- libFuzzer target for the server's events fast path
 * (src/server/ingest_fast.c), differentially: whenever the fast path takes a
 * body, cJSON must parse it too, with as many objects, and each object's
 * customer, type and id must be the strings the fast path found (what the
 * general path would store).  Byte 0 picks JSON Lines or an array.
 */
#include "server/server_internal.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *str_field(const cJSON *o, const char *const *names)
{
	for (const cJSON *it = o->child; it; it = it->next)
		for (const char *const *n = names; *n; n++)
			if (it->string && strcmp(it->string, *n) == 0)
				return cJSON_IsString(it) ? it->valuestring : NULL;
	return NULL;
}

static int same_trimmed(const char *general, const char *fast)
{
	if (!general || !fast)
		return general == fast || (general && !fast);
	size_t n = strlen(general);
	while (n && (*general == ' ' || *general == '\t'))
		general++, n--;
	while (n && (general[n - 1] == ' ' || general[n - 1] == '\t'))
		n--;
	return strlen(fast) == n && memcmp(general, fast, n) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int ndjson = data[0] & 1;
	const char *body = (const char *)data + 1;
	size_t n = size - 1;
	fast_events fe;
	if (ingest_events_fast(body, n, ndjson, 1000, &fe) != 1)
		return 0;
	cJSON *rows = ingest_parse_rows(body, n, ndjson);
	if (!rows || (size_t)cJSON_GetArraySize(rows) != fe.n)
		__builtin_trap();
	static const char *const cust[] = {"customer", "customer_id", NULL};
	static const char *const type[] = {"type", "event", "event_type", "name", NULL};
	static const char *const id[] = {"id", "event_id", NULL};
	size_t i = 0;
	for (cJSON *o = rows->child; o; o = o->next, i++) {
		if (!cJSON_IsObject(o) || !same_trimmed(str_field(o, cust), fe.rec[i].customer) ||
		    !same_trimmed(str_field(o, type), fe.rec[i].type))
			__builtin_trap();
		const char *gid = str_field(o, id);
		if (fe.rec[i].id && !same_trimmed(gid, fe.rec[i].id))
			__builtin_trap();
	}
	cJSON_Delete(rows);
	fast_events_free(&fe);
	return 0;
}
