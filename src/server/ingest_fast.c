/*
 * ingest_fast.c -- POST /v1/events bodies straight into the store's event
 * records (tn_event_rec), without building a cJSON tree, in the HTTP thread.
 *
 * Why: at hundreds of thousands of events a second, cJSON's node per value
 * (a malloc each, then the frees) and import's per-row field lookup are most
 * of the CPU the server spends on an event.  The common body -- an array of
 * flat objects with plain strings and numbers -- is parsed here in one pass
 * over a private copy of the body (strings are cut in place).
 *
 * The fast path only ever says yes to a body that the general path (cJSON +
 * tn_import_row_json) would accept with the very same values: anything else
 * -- an escape in a field's string, a nested value, a duplicate field or id,
 * a number that would not print back the same, a bad time, malformed JSON,
 * too many items -- makes it answer "not mine" (0) and the request takes the
 * general path, which gives the exact errors (byte offsets, import's
 * messages).  Customers unknown to the store are found by the writer, which
 * then also falls back.  test_server.c compares both paths.
 */
#include "server/server_internal.h"
#include "base/alloc.h"
#include "tenure/frame.h"
#include "tenure/time.h"
#include "tenure/utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { FE_CUSTOMER, FE_AT, FE_TYPE, FE_AMOUNT, FE_ID, FE_N };

/* import.c's event fields and their aliases (docs/import.md) */
static int field_of(const char *k, size_t n)
{
#define IS(lit) (n == sizeof lit - 1 && memcmp(k, lit, n) == 0)
	if (IS("customer") || IS("customer_id"))
		return FE_CUSTOMER;
	if (IS("occurred_at") || IS("at") || IS("time") || IS("timestamp") || IS("ts"))
		return FE_AT;
	if (IS("type") || IS("event") || IS("event_type") || IS("name"))
		return FE_TYPE;
	if (IS("amount") || IS("value"))
		return FE_AMOUNT;
	if (IS("id") || IS("event_id"))
		return FE_ID;
#undef IS
	return -1;
}

typedef struct cur {
	char *p, *end;
} cur;

static void ws(cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

/* A string whose bytes need no unescaping (printable ASCII or valid UTF-8,
 * no backslash, no control character): cut it in place.  0 when it is not
 * such a string. */
static int plain_string(cur *c, char **s, size_t *len)
{
	if (c->p >= c->end || *c->p != '"')
		return 0;
	char *b = ++c->p;
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '\\' || ch < 0x20)
			return 0;
		c->p++;
	}
	if (c->p >= c->end)
		return 0;
	*len = (size_t)(c->p - b);
	*c->p++ = '\0';
	*s = b;
	size_t bad;
	return tn_utf8_valid(b, *len, &bad);
}

/* Skip a string whose value is not used.  Simple escapes are fine; a \u
 * escape (cJSON checks its digits and surrogates) or a control character
 * sends the body to the general path, which judges it. */
static int skip_string(cur *c)
{
	if (c->p >= c->end || *c->p != '"')
		return 0;
	for (c->p++; c->p < c->end; c->p++) {
		unsigned char ch = (unsigned char)*c->p;
		if (ch < 0x20)
			return 0;
		if (ch == '\\') {
			if (++c->p >= c->end || !strchr("\"\\/bfnrt", *c->p) || !*c->p)
				return 0;
			continue;
		}
		if (ch == '"') {
			c->p++;
			return 1;
		}
	}
	return 0;
}

/* A JSON number in strict syntax; *integer when it is digits only (no sign,
 * fraction or exponent, no leading zero). */
static int number(cur *c, char **s, size_t *len, int *integer)
{
	char *b = c->p, *p = c->p;
	if (p < c->end && *p == '-')
		p++;
	if (p >= c->end || *p < '0' || *p > '9')
		return 0;
	if (*p == '0')
		p++;
	else
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	int simple = *b != '-';
	if (p < c->end && *p == '.') {
		simple = 0;
		p++;
		if (p >= c->end || *p < '0' || *p > '9')
			return 0;
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < c->end && (*p == 'e' || *p == 'E')) {
		simple = 0;
		p++;
		if (p < c->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= c->end || *p < '0' || *p > '9')
			return 0;
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	}
	*s = b;
	*len = (size_t)(p - b);
	*integer = simple && !(*b == '0' && *len > 1);
	c->p = p;
	return 1;
}

static int literal(cur *c, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

/* Spaces and tabs around ids and times are not part of them (check_row). */
static void trim(char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t'))
		(*s)++, (*len)--;
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
	(*s)[*len] = '\0'; /* the string was cut after its end: room for this NUL */
}

/* One object into R; 1 ok, 0 not for the fast path. */
static int object(cur *c, tn_event_rec *r)
{
	int seen[FE_N] = {0};
	r->customer = r->type = r->id = NULL;
	r->at = TN_NO_TIME;
	r->amount = NAN;
	ws(c);
	if (c->p >= c->end || *c->p != '{')
		return 0;
	c->p++;
	ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		return 0; /* no fields: the general path says which is missing */
	}
	for (;;) {
		ws(c);
		char *k;
		size_t kn;
		if (!plain_string(c, &k, &kn))
			return 0;
		ws(c);
		if (c->p >= c->end || *c->p != ':')
			return 0;
		c->p++;
		ws(c);
		if (c->p >= c->end)
			return 0;
		int f = field_of(k, kn);
		if (f >= 0 && seen[f]++)
			return 0; /* the same field twice: the general path takes the first */
		char *s;
		size_t len;
		int integer;
		if (f < 0) { /* another key: its value is ignored (when scalar) */
			if (*c->p == '"') {
				if (!skip_string(c))
					return 0;
			} else if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) {
				if (!number(c, &s, &len, &integer))
					return 0;
			} else if (!literal(c, "null") && !literal(c, "true") && !literal(c, "false")) {
				return 0;
			}
		} else if (*c->p == '"') {
			if (!plain_string(c, &s, &len))
				return 0;
			if (f != FE_AMOUNT)
				trim(&s, &len);
			else {
				/* F_NUM trims too; the copy is cut already */
				while (len && (*s == ' ' || *s == '\t'))
					s++, len--;
				while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
					len--;
			}
			if (len == 0) {
				if (f != FE_AMOUNT && f != FE_ID)
					return 0; /* required and blank: an error */
			} else if (f == FE_AT) {
				if (tn_time_parse(s, len, &r->at))
					return 0;
			} else if (f == FE_AMOUNT) {
				if (tn_parse_double(s, len, &r->amount))
					return 0;
			} else if (f == FE_CUSTOMER) {
				r->customer = s;
			} else if (f == FE_TYPE) {
				r->type = s;
			} else {
				r->id = s;
			}
		} else if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) {
			if (!number(c, &s, &len, &integer))
				return 0;
			if (f == FE_AT) {
				/* the general path prints an integral number with %.0f: the
				 * same digits when they are plain and fewer than 16 */
				if (!integer || len > 15 || tn_time_parse(s, len, &r->at))
					return 0;
			} else if (f == FE_AMOUNT) {
				char buf[40];
				if (len >= sizeof buf)
					return 0;
				memcpy(buf, s, len);
				buf[len] = '\0';
				double d = strtod(buf, NULL);
				/* what the general path does: cJSON's double printed, then read back */
				char txt[40];
				if (!isfinite(d))
					return 0;
				if (d == floor(d) && fabs(d) < 1e15)
					snprintf(txt, sizeof txt, "%.0f", d);
				else
					snprintf(txt, sizeof txt, "%.17g", d);
				if (tn_parse_double(txt, strlen(txt), &r->amount))
					return 0;
			} else {
				return 0; /* an id given as a number: rare, the general path */
			}
		} else if (literal(c, "null")) {
			/* absent */
		} else {
			return 0;
		}
		ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			break;
		}
		return 0;
	}
	return r->customer && r->type && r->at != TN_NO_TIME;
}

static int push(fast_events *fe, const tn_event_rec *r)
{
	if (fe->n == fe->cap) {
		size_t cap = fe->cap ? fe->cap * 2 : 512;
		tn_event_rec *p = tn_realloc(fe->rec, cap * sizeof *p);
		if (!p)
			return -1;
		fe->rec = p;
		fe->cap = cap;
	}
	fe->rec[fe->n++] = *r;
	return 0;
}

/* Two events with the same id in one request are an error (import's
 * "once in a file"): sort a list of the ids and compare neighbours. */
static int ids_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ids_unique(const fast_events *fe)
{
	size_t n = 0;
	for (size_t i = 0; i < fe->n; i++)
		n += fe->rec[i].id != NULL;
	if (n < 2)
		return 1;
	const char **ids = tn_malloc(n * sizeof *ids);
	if (!ids)
		return -1;
	n = 0;
	for (size_t i = 0; i < fe->n; i++)
		if (fe->rec[i].id)
			ids[n++] = fe->rec[i].id;
	qsort(ids, n, sizeof *ids, ids_cmp);
	int ok = 1;
	for (size_t i = 1; i < n && ok; i++)
		ok = strcmp(ids[i - 1], ids[i]) != 0;
	free(ids);
	return ok;
}

void fast_events_free(fast_events *fe)
{
	free(fe->rec);
	free(fe->copy);
	memset(fe, 0, sizeof *fe);
}

int ingest_events_fast(const char *body, size_t n, int ndjson, size_t max_items, fast_events *fe)
{
	memset(fe, 0, sizeof *fe);
	if (!body || n == 0)
		return 0;
	if (!(fe->copy = tn_malloc(n + 1)))
		return -1;
	memcpy(fe->copy, body, n);
	fe->copy[n] = '\0';
	cur c = {fe->copy, fe->copy + n};
	tn_event_rec r;
	int ok = 0;
	if (!ndjson) {
		ws(&c);
		if (c.p >= c.end || *c.p != '[')
			goto no;
		c.p++;
		ws(&c);
		if (c.p < c.end && *c.p == ']')
			goto no; /* empty: the general path */
		for (;;) {
			if (!object(&c, &r))
				goto no;
			if (fe->n >= max_items)
				goto no;
			if (push(fe, &r))
				goto oom;
			ws(&c);
			if (c.p < c.end && *c.p == ',') {
				c.p++;
				continue;
			}
			if (c.p < c.end && *c.p == ']') {
				c.p++;
				break;
			}
			goto no;
		}
		ws(&c);
		if (c.p != c.end)
			goto no;
	} else {
		while (c.p < c.end) {
			/* one object a line; blank lines are skipped */
			char *nl = memchr(c.p, '\n', (size_t)(c.end - c.p));
			cur line = {c.p, nl ? nl : c.end};
			ws(&line);
			if (line.p < line.end) {
				if (!object(&line, &r))
					goto no;
				ws(&line);
				if (line.p != line.end)
					goto no;
				if (fe->n >= max_items)
					goto no;
				if (push(fe, &r))
					goto oom;
			}
			c.p = nl ? nl + 1 : c.end;
		}
		if (fe->n == 0)
			goto no;
	}
	ok = ids_unique(fe);
	if (ok < 0)
		goto oom;
	if (!ok)
		goto no;
	return 1;
no:
	fast_events_free(fe);
	return 0;
oom:
	fast_events_free(fe);
	return -1;
}
