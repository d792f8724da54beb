/*
 * ingest.c -- a write request's body to rows: a JSON array of objects, or
 * JSON Lines (Content-Type: application/x-ndjson), one object a line.
 * Nesting deeper than max_depth is refused before parsing (cJSON recurses);
 * malformed JSON is a 400 naming the byte offset (0-based) where parsing
 * stopped; more than max_items rows is a 413.
 */
#include "server/server_internal.h"

#include <cjson/cJSON.h>
#include <string.h>

static cJSON *offset_detail(size_t offset)
{
	cJSON *d = cJSON_CreateArray();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "offset", (double)offset);
	cJSON_AddItemToArray(d, o);
	return d;
}

/* Deepest nesting of arrays/objects; *at = offset where MAX was passed. */
static int too_deep(const char *s, size_t n, int max, size_t *at)
{
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max) {
				*at = i;
				return 1;
			}
		} else if (c == ']' || c == '}') {
			depth--;
		} else if (c == '\n') {
			depth = 0; /* JSON Lines: each line on its own */
		}
	}
	return 0;
}

static void malformed(tn_http_response *rs, size_t offset, const char *what)
{
	char msg[160];
	snprintf(msg, sizeof msg, "%s at byte offset %zu", what, offset);
	respond_error(rs, 400, "malformed_json", msg, offset_detail(offset));
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* cJSON reads \u0000 and cuts the string there: a value would be stored
 * short.  Import refuses it ("expected text without NUL characters"); so do
 * the write routes, with a 422 naming each item (its index in the array, or
 * its line's among the non-blank lines) and field (the key holding the
 * string, or the key itself).  B is well-formed JSON (parsed already).
 * Returns 1 with RS set when there is any. */
static int refuse_nul(const char *b, size_t n, int ndjson, tn_http_response *rs)
{
	int any = 0;
	for (const char *p = b; !any && (p = memchr(p, '\\', (size_t)(b + n - p))) != NULL; p++)
		any = p + 6 <= b + n && memcmp(p, "\\u0000", 6) == 0;
	if (!any)
		return 0;
	const int item_depth = ndjson ? 1 : 2;
	int depth = 0, line_used = 0;
	long index = 0, bad = 0, last_bad = -1;
	char key[104] = "";
	cJSON *details = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		if (c == '"') { /* a string: find its end and any \u0000 in it */
			size_t start = ++i;
			int nul = 0;
			for (; i < n && b[i] != '"'; i++)
				if (b[i] == '\\') {
					if (i + 5 < n && b[i + 1] == 'u' && memcmp(b + i + 2, "0000", 4) == 0)
						nul = 1;
					i++;
				}
			size_t j = i + 1;
			while (j < n && is_space(b[j]) && b[j] != '\n')
				j++;
			int is_key = j < n && b[j] == ':';
			if (is_key && depth == item_depth)
				snprintf(key, sizeof key, "%.*s", (int)(i - start < 100 ? i - start : 100), b + start);
			if (nul && index != last_bad) { /* one detail an item */
				last_bad = index;
				if (bad++ < 100) {
					cJSON *d = cJSON_CreateObject();
					cJSON_AddNumberToObject(d, "index", (double)index);
					cJSON_AddStringToObject(d, "field", key);
					cJSON_AddStringToObject(d, "message",
								"expected text without NUL characters, found \\u0000");
					cJSON_AddItemToArray(details, d);
				}
			}
			line_used = 1;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
			line_used = 1;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == ',' && !ndjson && depth == 1) {
			index++;
			key[0] = '\0';
		} else if (c == '\n' && ndjson) {
			if (line_used)
				index++;
			key[0] = '\0';
			line_used = 0;
			depth = 0;
		} else if (!is_space(c)) {
			line_used = 1;
		}
	}
	if (!bad) { /* a backslash-escaped backslash before "u0000" */
		cJSON_Delete(details);
		return 0;
	}
	char msg[128];
	snprintf(msg, sizeof msg, "%ld of %ld items failed validation; nothing was written", bad,
		 index + (ndjson && !line_used ? 0 : 1));
	respond_error(rs, 422, NULL, msg, details);
	return 1;
}

cJSON *ingest_parse(tn_server *sv, const tn_http_request *rq, int ndjson, tn_http_response *rs)
{
	const char *b = rq->body ? rq->body : "";
	size_t n = rq->body_len;
	size_t at;
	int max_depth = sv->o.max_depth ? sv->o.max_depth : 32;
	size_t max_items = sv->o.max_items ? sv->o.max_items : 100000;
	if (too_deep(b, n, max_depth + (ndjson ? 0 : 1), &at)) {
		char msg[160];
		snprintf(msg, sizeof msg, "JSON nested deeper than %d levels at byte offset %zu", max_depth, at);
		respond_error(rs, 400, "too_deep", msg, offset_detail(at));
		return NULL;
	}
	if (!ndjson) {
		const char *end = NULL;
		cJSON *a = cJSON_ParseWithLengthOpts(b, n, &end, 0);
		if (!a) {
			malformed(rs, end && end >= b && end <= b + n ? (size_t)(end - b) : 0, "malformed JSON");
			return NULL;
		}
		size_t off = end ? (size_t)(end - b) : n;
		while (off < n && is_space(b[off]))
			off++;
		if (off < n) {
			cJSON_Delete(a);
			malformed(rs, off, "unexpected text after the JSON value");
			return NULL;
		}
		if (!cJSON_IsArray(a)) {
			cJSON_Delete(a);
			respond_error(rs, 400, "not_an_array",
				      "expected a JSON array of objects (or JSON Lines with Content-Type: "
				      "application/x-ndjson)",
				      offset_detail(0));
			return NULL;
		}
		if ((size_t)cJSON_GetArraySize(a) > max_items) {
			cJSON_Delete(a);
			char msg[128];
			snprintf(msg, sizeof msg, "more than %zu items in one request; split it", max_items);
			respond_error(rs, 413, "too_many_items", msg, NULL);
			return NULL;
		}
		if (refuse_nul(b, n, 0, rs)) {
			cJSON_Delete(a);
			return NULL;
		}
		return a;
	}
	cJSON *a = cJSON_CreateArray();
	size_t count = 0;
	for (size_t pos = 0; pos < n;) {
		const char *nl = memchr(b + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - (b + pos)) : n - pos;
		size_t k = 0;
		while (k < len && is_space(b[pos + k]))
			k++;
		if (k < len) {
			const char *end = NULL;
			cJSON *o = cJSON_ParseWithLengthOpts(b + pos, len, &end, 0);
			size_t off = end ? (size_t)(end - (b + pos)) : 0;
			while (o && off < len && is_space(b[pos + off]))
				off++;
			if (!o || off < len) {
				cJSON_Delete(o);
				cJSON_Delete(a);
				malformed(rs, pos + off, o ? "unexpected text after the JSON value" : "malformed JSON");
				return NULL;
			}
			if (++count > max_items) {
				cJSON_Delete(o);
				cJSON_Delete(a);
				char msg[128];
				snprintf(msg, sizeof msg, "more than %zu items in one request; split it", max_items);
				respond_error(rs, 413, "too_many_items", msg, NULL);
				return NULL;
			}
			cJSON_AddItemToArray(a, o);
		}
		pos += len + 1;
	}
	if (refuse_nul(b, n, 1, rs)) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

cJSON *ingest_parse_rows(const char *b, size_t n, int ndjson)
{
	if (!ndjson)
		return cJSON_ParseWithLength(b, n);
	cJSON *a = cJSON_CreateArray();
	for (size_t pos = 0; a && pos < n;) {
		const char *nl = memchr(b + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - (b + pos)) : n - pos;
		size_t k = 0;
		while (k < len && is_space(b[pos + k]))
			k++;
		if (k < len) {
			cJSON *o = cJSON_ParseWithLength(b + pos, len);
			if (!o || !cJSON_AddItemToArray(a, o)) {
				cJSON_Delete(o);
				cJSON_Delete(a);
				return NULL;
			}
		}
		pos += len + 1;
	}
	return a;
}
