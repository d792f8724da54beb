/*
 * web.c -- the dashboard's front door: routing, sessions, sign-in and
 * sign-out, the CSRF check, the page shell (navigation, languages, filters)
 * and the "download CSV" form of every page.
 *
 * Sessions: the cookie carries 256 random bits; the server keeps only their
 * SHA-256 with the key's id and an expiry (8 hours), in the store
 * (web_sessions, so a restart keeps people signed in) and in memory (so a
 * page view does not read the store); sign-out and expiry delete the row.
 * Every request checks that the key is still valid (revoking the key ends
 * its sessions within a second).  The cookie is HttpOnly, SameSite=Strict,
 * with Max-Age, and Secure when the server speaks TLS.  Every
 * state-changing form (sign-out, acknowledge an alert, approve an offer
 * plan, start a campaign) carries a CSRF token, HMAC-SHA256 keyed by the
 * session's token (so it needs no server secret and survives a restart, and
 * the stored hash does not give it), compared in constant time.
 */
#include "web/web_internal.h"
#include "base/alloc.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "base/rng.h"
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SESSION_SECONDS (8 * 3600)
#define MAX_SESSIONS 4096
#define MAX_FAILS 20 /* wrong keys a second, over all clients */

typedef struct web_session {
	unsigned char id_hash[32];
	int64_t key_id;
	double expires; /* wall-clock seconds (they are kept across restarts) */
	char csrf[65];
} web_session;

struct tn_web {
	pthread_mutex_t mu; /* the sessions */
	web_session *s;
	size_t n;
	web_cache *cache;
	/* failed sign-ins in the current second (a brake on guessing keys) */
	double fail_second;
	int fails;
};

web_cache *web_cache_of(struct tn_web *w) { return w->cache; }

int web_new(tn_server *sv, tn_error *err)
{
	struct tn_web *w = tn_calloc(1, sizeof *w);
	if (!w || !(w->s = tn_calloc(MAX_SESSIONS, sizeof *w->s)) || !(w->cache = web_cache_new(sv->db_path))) {
		if (w)
			free(w->s);
		free(w);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&w->mu, NULL);
	sv->web = w;
	return TN_OK;
}

void web_stop(struct tn_web *w)
{
	if (w)
		web_cache_stop(w->cache);
}

void web_free(struct tn_web *w)
{
	if (!w)
		return;
	OPENSSL_cleanse(w->s, MAX_SESSIONS * sizeof *w->s);
	free(w->s);
	web_cache_free(w->cache);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* ---- parsing ------------------------------------------------------------------ */

int web_cookie(const char *h, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	while (h && *h) {
		while (*h == ' ' || *h == ';' || *h == '\t')
			h++;
		const char *end = strchr(h, ';');
		size_t len = end ? (size_t)(end - h) : strlen(h);
		if (len > nl && strncmp(h, name, nl) == 0 && h[nl] == '=') {
			size_t vl = len - nl - 1;
			if (vl + 1 > n)
				return -1;
			memcpy(out, h + nl + 1, vl);
			out[vl] = '\0';
			return 0;
		}
		h += len;
	}
	return -1;
}

static int hexval(int ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

int web_form(const char *body, size_t len, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name), i = 0;
	while (body && i < len) {
		size_t j = i;
		while (j < len && body[j] != '&')
			j++;
		if (j - i > nl && strncmp(body + i, name, nl) == 0 && body[i + nl] == '=') {
			size_t o = 0;
			for (size_t k = i + nl + 1; k < j; k++) {
				int ch = (unsigned char)body[k];
				if (ch == '+')
					ch = ' ';
				else if (ch == '%' && k + 2 < j + 1 && k + 2 < len && hexval(body[k + 1]) >= 0 &&
					 hexval(body[k + 2]) >= 0) {
					ch = hexval(body[k + 1]) * 16 + hexval(body[k + 2]);
					k += 2;
				}
				if (o + 1 >= n)
					return -1;
				out[o++] = (char)ch;
			}
			out[o] = '\0';
			return 0;
		}
		i = j + 1;
	}
	return -1;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- sessions ----------------------------------------------------------------- */

static double wall(void) { return (double)tn_now(); }

/* The session's CSRF token: HMAC-SHA256 keyed by its token SID (64 hex). */
static void session_csrf(const char *sid, char *csrf)
{
	static const char label[] = "tenure dashboard csrf";
	unsigned char mac[32];
	unsigned maclen = 0;
	HMAC(EVP_sha256(), sid, 64, (const unsigned char *)label, sizeof label - 1, mac, &maclen);
	hex(mac, 32, csrf);
}

/* Keep NS in the memory table (reusing an expired or signed-out slot): -1 full. */
static int session_keep(struct tn_web *w, const web_session *ns)
{
	double now = wall();
	pthread_mutex_lock(&w->mu);
	size_t slot = MAX_SESSIONS;
	for (size_t i = 0; i < w->n; i++)
		if (w->s[i].expires < now) {
			slot = i;
			break;
		}
	if (slot == MAX_SESSIONS && w->n < MAX_SESSIONS)
		slot = w->n++;
	if (slot < MAX_SESSIONS)
		w->s[slot] = *ns;
	pthread_mutex_unlock(&w->mu);
	return slot < MAX_SESSIONS ? 0 : -1;
}

/* Write to the store, keeping the cached analyses (the sessions are not
 * what they read). */
static int session_store(web_ctx *c, int op, const web_session *se)
{
	tn_error err = {0};
	char h[65];
	hex(se->id_hash, 32, h);
	long long before = web_data_write_begin(c);
	tn_store *s = web_store_open(c, &err);
	if (!s) {
		web_data_write_abandon(c);
		return -1;
	}
	int rc = op ? web_session_save(s, h, se->key_id, (int64_t)wall(), (int64_t)se->expires, &err)
		    : web_session_delete(s, h, &err);
	tn_store_close(s);
	web_data_own_write(c, before);
	if (rc)
		fprintf(stderr, "tenure: dashboard sessions: %s\n", err.msg);
	return rc ? -1 : 0;
}

/* A new session for KEY_ID: its token (64 hex) in SID; -1 when out of room,
 * randomness or the store fails. */
static int session_new(web_ctx *c, int64_t key_id, char *sid)
{
	unsigned char raw[32];
	if (tn_random_bytes(raw, sizeof raw))
		return -1;
	hex(raw, sizeof raw, sid);
	OPENSSL_cleanse(raw, sizeof raw);
	web_session ns = {.key_id = key_id, .expires = wall() + SESSION_SECONDS};
	SHA256((const unsigned char *)sid, 64, ns.id_hash);
	session_csrf(sid, ns.csrf);
	if (session_store(c, 1, &ns))
		return -1;
	return session_keep(c->w, &ns);
}

/* The session of the request's cookie: 0 with *out filled; -1 none.  Every
 * live session in memory is compared, in constant time each; one not in
 * memory (the server restarted) is looked up in the store by its hash. */
static int session_find(web_ctx *c, const char *cookie, web_session *out)
{
	struct tn_web *w = c->w;
	char sid[80];
	if (web_cookie(cookie, "tn_session", sid, sizeof sid) || strlen(sid) != 64)
		return -1;
	unsigned char h[32];
	SHA256((const unsigned char *)sid, 64, h);
	double now = wall();
	int found = -1, stale = 0;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n; i++)
		if (CRYPTO_memcmp(h, w->s[i].id_hash, sizeof h) == 0) {
			if (w->s[i].expires >= now) {
				*out = w->s[i];
				found = 0;
			} else if (w->s[i].expires > 0) { /* expired: forget it here and in the store */
				stale = 1;
				w->s[i].expires = -1;
			}
		}
	pthread_mutex_unlock(&w->mu);
	if (found == 0)
		return 0;
	web_session se = {0};
	memcpy(se.id_hash, h, sizeof h);
	if (stale) {
		session_store(c, 0, &se);
		return -1;
	}
	char hx[65];
	hex(h, 32, hx);
	tn_error err = {0};
	tn_store *s = web_store_open(c, &err);
	if (!s)
		return -1;
	int64_t key_id = 0, expires = 0;
	int in_store = 0;
	long long before = web_data_write_begin(c);
	int rc = web_session_load(s, hx, (int64_t)now, &key_id, &expires, &in_store, &err);
	tn_store_close(s);
	web_data_own_write(c, before); /* an expired row may have been deleted */
	if (rc || !in_store)
		return -1;
	se.key_id = key_id;
	se.expires = (double)expires;
	session_csrf(sid, se.csrf);
	session_keep(w, &se);
	*out = se;
	return 0;
}

static void session_end(web_ctx *c, const web_session *se)
{
	struct tn_web *w = c->w;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n; i++)
		if (CRYPTO_memcmp(se->id_hash, w->s[i].id_hash, 32) == 0) {
			memset(&w->s[i], 0, sizeof w->s[i]);
			w->s[i].expires = -1;
		}
	pthread_mutex_unlock(&w->mu);
	session_store(c, 0, se);
}

static int csrf_ok(const web_ctx *c)
{
	char tok[80];
	if (!c->rq->body || web_form(c->rq->body, c->rq->body_len, "csrf", tok, sizeof tok) || strlen(tok) != 64)
		return 0;
	return CRYPTO_memcmp(tok, c->csrf, 64) == 0;
}

/* ---- small helpers --------------------------------------------------------- */

const char *web_q(const web_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->rq->nquery; i++)
		if (c->rq->query[2 * i] && strcmp(c->rq->query[2 * i], name) == 0)
			return c->rq->query[2 * i + 1] ? c->rq->query[2 * i + 1] : "";
	return NULL;
}

void web_esc(web_ctx *c, const char *s) { tn_sbuf_escape(&c->html, s); }

void web_url_enc(tn_sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
			tn_sbuf_printf(b, "%c", ch);
		else
			tn_sbuf_printf(b, "%%%02X", ch);
	}
}

/* the query parameters a view keeps when moving around */
static int kept_param(const char *n)
{
	static const char *const keep[] = {"period", "plan", "source", "by", "sort", "all", NULL};
	for (size_t i = 0; keep[i]; i++)
		if (strcmp(n, keep[i]) == 0)
			return 1;
	return 0;
}

void web_href(web_ctx *c, tn_sbuf *b, const char *path, const char *name, const char *value)
{
	tn_sbuf_escape(b, path);
	int first = 1;
	for (size_t i = 0; i < c->rq->nquery; i++) {
		const char *k = c->rq->query[2 * i], *v = c->rq->query[2 * i + 1];
		if (!k || !kept_param(k) || (name && strcmp(k, name) == 0) || !v || !*v)
			continue;
		tn_sbuf_printf(b, "%s", first ? "?" : "&amp;");
		web_url_enc(b, k);
		tn_sbuf_printf(b, "=");
		web_url_enc(b, v);
		first = 0;
	}
	if (name && value) {
		tn_sbuf_printf(b, "%s", first ? "?" : "&amp;");
		web_url_enc(b, name);
		tn_sbuf_printf(b, "=");
		web_url_enc(b, value);
	}
}

void web_p(web_ctx *c, const char *cls, const char *text)
{
	tn_sbuf_printf(&c->html, "<p class=\"%s\">", cls ? cls : "reading");
	web_esc(c, text);
	tn_sbuf_printf(&c->html, "</p>\n");
}

void web_h2(web_ctx *c, const char *text)
{
	tn_sbuf_printf(&c->html, "<h2>");
	web_esc(c, text);
	tn_sbuf_printf(&c->html, "</h2>\n");
}

void web_csv_cell(tn_sbuf *b, const char *s)
{
	int q = s && strpbrk(s, ",\"\n\r") != NULL;
	/* a cell starting with = + - @ is not run as a formula by a spreadsheet */
	int guard = s && (*s == '=' || *s == '+' || *s == '@' || (*s == '-' && !isdigit((unsigned char)s[1])));
	if (q || guard) {
		tn_sbuf_printf(b, "\"%s", guard ? "'" : "");
		for (; s && *s; s++)
			tn_sbuf_printf(b, *s == '"' ? "\"\"" : "%c", *s);
		tn_sbuf_printf(b, "\"");
	} else if (s)
		tn_sbuf_printf(b, "%s", s);
}

void web_table(web_ctx *c, const char *title, const char *reading, size_t ncols, const char *const *cols,
	       const int *kind, size_t nrows, const char *const *cells)
{
	int id = ++c->nfig;
	/* the CSV: a title line, the header, the rows */
	tn_sbuf_printf(&c->csv, "%s", c->csv.len ? "\n" : "");
	web_csv_cell(&c->csv, title);
	tn_sbuf_printf(&c->csv, "\n");
	for (size_t j = 0; j < ncols; j++) {
		tn_sbuf_printf(&c->csv, "%s", j ? "," : "");
		web_csv_cell(&c->csv, cols[j]);
	}
	tn_sbuf_printf(&c->csv, "\n");
	for (size_t i = 0; i < nrows; i++) {
		for (size_t j = 0; j < ncols; j++) {
			tn_sbuf_printf(&c->csv, "%s", j ? "," : "");
			web_csv_cell(&c->csv, cells[i * ncols + j]);
		}
		tn_sbuf_printf(&c->csv, "\n");
	}
	tn_sbuf *b = &c->html;
	tn_sbuf_printf(b, "<section class=\"tbl\" aria-labelledby=\"f%d\"><h2 id=\"f%d\">", id, id);
	web_esc(c, title);
	tn_sbuf_printf(b, "</h2>\n");
	if (reading && *reading)
		web_p(c, "reading", reading);
	if (!nrows) {
		web_p(c, "empty", T(c, S_NO_ROWS));
		tn_sbuf_printf(b, "</section>\n");
		return;
	}
	tn_sbuf_printf(b, "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"f%d\">"
			  "<table class=\"sortable\" data-page=\"25\"><thead><tr>", id);
	for (size_t j = 0; j < ncols; j++) {
		tn_sbuf_printf(b, "<th scope=\"col\"%s><button type=\"button\" class=\"sort\">",
			       kind && kind[j] == COL_NUM ? " class=\"n\"" : "");
		web_esc(c, cols[j]);
		tn_sbuf_printf(b, "</button></th>");
	}
	tn_sbuf_printf(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < nrows; i++) {
		tn_sbuf_printf(b, "<tr>");
		for (size_t j = 0; j < ncols; j++) {
			const char *v = cells[i * ncols + j] ? cells[i * ncols + j] : "";
			int k = kind ? kind[j] : COL_TEXT;
			if (k == COL_NUM) {
				char buf[128];
				char *end;
				double d = strtod(v, &end);
				if (end != v)
					tn_sbuf_printf(b, "<td class=\"n\" data-v=\"%.17g\">", d);
				else
					tn_sbuf_printf(b, "<td class=\"n\">");
				web_esc(c, web_digits(c, v, buf, sizeof buf));
			} else if (k == COL_SAID) {
				tn_sbuf_printf(b, "<td class=\"t\"><bdi dir=\"auto\">");
				web_esc(c, v);
				tn_sbuf_printf(b, "</bdi>");
			} else if (k == COL_CUSTOMER) {
				tn_sbuf_printf(b, "<td><a href=\"/customers/");
				web_url_enc(b, v);
				tn_sbuf_printf(b, "\"><bdi>");
				web_esc(c, v);
				tn_sbuf_printf(b, "</bdi></a>");
			} else {
				tn_sbuf_printf(b, "<td class=\"t\">");
				web_esc(c, v);
			}
			tn_sbuf_printf(b, "</td>");
		}
		tn_sbuf_printf(b, "</tr>\n");
	}
	tn_sbuf_printf(b, "</tbody></table></div></section>\n");
}

/* One ASCII digit, or '.' / ',' between digits, in the language's digits. */
static void native_char(const web_ctx *c, tn_sbuf *b, const char *p, const char *start)
{
	char one[2] = {*p, '\0'}, out[8];
	int sep = (*p == '.' || *p == ',') && p > start && p[-1] >= '0' && p[-1] <= '9' && p[1] >= '0' && p[1] <= '9';
	if ((*p >= '0' && *p <= '9') || sep)
		tn_sbuf_printf(b, "%s", web_native_digits(web_lang_code(c->lang), one, 1, out, sizeof out));
	else
		tn_sbuf_printf(b, "%c", *p);
}

/* Copy the renderer's SVG to B with the numbers people read (tick labels,
 * titles, legends, the hover read-outs' <title> and data-tip) in the
 * language's digits; coordinates and other attributes stay as they are,
 * and so do character references (&#39;). */
static void svg_native(const web_ctx *c, tn_sbuf *b, const char *p)
{
	const char *start = p;
	int in_tag = 0, in_tip = 0;
	while (*p) {
		if (*p == '&') { /* a character reference, as is */
			const char *e = strchr(p, ';');
			size_t len = e && e - p < 12 ? (size_t)(e - p + 1) : 1;
			tn_sbuf_printf(b, "%.*s", (int)len, p);
			p += len;
			continue;
		}
		if (!in_tag && *p == '<') {
			in_tag = 1;
		} else if (in_tag && !in_tip && *p == '>') {
			in_tag = 0;
		} else if (in_tag && !in_tip && strncmp(p, "data-tip=\"", 10) == 0) {
			tn_sbuf_printf(b, "data-tip=\"");
			p += 10;
			in_tip = 1;
			continue;
		} else if (in_tip && *p == '"') {
			in_tip = 0;
		} else if (!in_tag || in_tip) {
			native_char(c, b, p, start);
			p++;
			continue;
		}
		tn_sbuf_printf(b, "%c", *p);
		p++;
	}
}

void web_chart(web_ctx *c, const char *title, const char *caption, const tn_sbuf *svg)
{
	int id = ++c->nfig;
	tn_sbuf *b = &c->html;
	tn_sbuf_printf(b, "<figure class=\"chart\" aria-labelledby=\"f%d\"><figcaption id=\"f%d\">", id, id);
	web_esc(c, title);
	tn_sbuf_printf(b, "</figcaption><div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"f%d\">", id);
	/* the renderer's <svg role="img"> gets the chart's title as its name */
	const char *p = svg->p ? svg->p : "", *r = strstr(p, "role=\"img\"");
	tn_sbuf nat = {0};
	if (c->native && c->lang != L_EN) {
		svg_native(c, &nat, p);
		if (nat.p && !nat.oom) {
			p = nat.p;
			r = strstr(p, "role=\"img\"");
		}
	}
	if (r) {
		tn_sbuf_printf(b, "%.*s", (int)(r - p), p);
		tn_sbuf_printf(b, "role=\"img\" aria-label=\"");
		web_esc(c, title);
		tn_sbuf_printf(b, "\"%s", r + strlen("role=\"img\""));
	} else
		tn_sbuf_printf(b, "%s", p);
	tn_sbuf_free(&nat);
	tn_sbuf_printf(b, "</div>");
	if (caption && *caption) {
		tn_sbuf_printf(b, "<p class=\"reading\">");
		web_esc(c, caption);
		tn_sbuf_printf(b, "</p>");
	}
	tn_sbuf_printf(b, "</figure>\n");
}

/* ---- responses ---------------------------------------------------------------- */

static void header(web_ctx *c, const char *fmt, const char *v)
{
	tn_sbuf_printf(&c->hdr, fmt, v);
	tn_sbuf_printf(&c->hdr, "\n");
}

static void security_headers(web_ctx *c)
{
	header(c, "%s", "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self' "
			"'unsafe-inline'; img-src 'self' data:; form-action 'self'; connect-src 'self'; "
			"frame-ancestors 'none'; base-uri 'none'");
	header(c, "%s", "X-Content-Type-Options: nosniff");
	header(c, "%s", "Referrer-Policy: same-origin");
	header(c, "%s", "Cache-Control: no-store");
}

static void finish(web_ctx *c, tn_http_response *rs, int status, const char *type, tn_sbuf *body)
{
	if (body->oom || c->hdr.oom) {
		tn_sbuf_free(body);
		tn_sbuf_free(&c->hdr);
		respond_error(rs, 500, NULL, "out of memory", NULL);
		return;
	}
	rs->status = status;
	rs->content_type = type;
	rs->body = body->p ? body->p : tn_strdup("");
	rs->len = body->p ? body->len : 0;
	rs->headers = c->hdr.p;
	memset(body, 0, sizeof *body);
	memset(&c->hdr, 0, sizeof c->hdr);
}

static void redirect(web_ctx *c, tn_http_response *rs, const char *to)
{
	header(c, "Location: %s", to);
	security_headers(c);
	tn_sbuf b = {0};
	tn_sbuf_printf(&b, "see %s\n", to);
	finish(c, rs, 303, "text/plain; charset=utf-8", &b);
}

static void set_cookie(web_ctx *c, const char *name, const char *value, int max_age)
{
	char line[256];
	snprintf(line, sizeof line, "Set-Cookie: %s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", name, value,
		 max_age, c->sv->o.tls_cert ? "; Secure" : "");
	header(c, "%s", line);
}

/* ---- the shell ------------------------------------------------------------------ */

typedef struct nav_item {
	const char *path;
	int label;
} nav_item;
static const nav_item nav[] = {{"/", S_NAV_OVERVIEW}, {"/when", S_NAV_WHEN}, {"/why", S_NAV_WHY},
			       {"/who", S_NAV_WHO},   {"/act", S_NAV_ACT},   {"/alerts", S_NAV_ALERTS}};

static void shell_open(web_ctx *c, tn_sbuf *b, const char *path, const char *title, int signed_in)
{
	tn_sbuf_printf(b, "<!doctype html>\n<html lang=\"%s\" dir=\"%s\"%s><head><meta charset=\"utf-8\">"
			  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
			  "<link rel=\"icon\" href=\"data:,\"><title>",
		       web_lang_code(c->lang), c->lang == L_EN ? "ltr" : "rtl",
		       c->native && c->lang != L_EN ? " data-digits=\"native\"" : "");
	tn_sbuf_escape(b, title);
	tn_sbuf_printf(b, " · Tenure</title><link rel=\"stylesheet\" href=\"/assets/app.css\">"
			  "<script src=\"/assets/app.js\" defer></script></head>\n<body>"
			  "<a class=\"skip\" href=\"#main\">");
	tn_sbuf_escape(b, T(c, S_SKIP));
	tn_sbuf_printf(b, "</a><header class=\"top\"><span class=\"brand\">Tenure</span>");
	if (signed_in) {
		tn_sbuf_printf(b, "<nav aria-label=\"");
		tn_sbuf_escape(b, T(c, S_NAV_LABEL));
		tn_sbuf_printf(b, "\"><ul>");
		for (size_t i = 0; i < sizeof nav / sizeof nav[0]; i++) {
			int cur = strcmp(path, nav[i].path) == 0;
			tn_sbuf_printf(b, "<li><a href=\"");
			web_href(c, b, nav[i].path, NULL, NULL);
			tn_sbuf_printf(b, "\"%s>", cur ? " aria-current=\"page\"" : "");
			tn_sbuf_escape(b, T(c, nav[i].label));
			tn_sbuf_printf(b, "</a></li>");
		}
		tn_sbuf_printf(b, "</ul></nav>");
	}
	/* languages, digits, calendar: links that set a remembered choice */
	tn_sbuf_printf(b, "<div class=\"prefs\"><span class=\"langs\" role=\"group\" aria-label=\"");
	tn_sbuf_escape(b, T(c, S_LANGUAGE));
	tn_sbuf_printf(b, "\">");
	static const char *const names[] = {"English", "العربية", "فارسی"};
	for (int l = 0; l < L_N; l++) {
		tn_sbuf_printf(b, "<a lang=\"%s\" href=\"", web_lang_code(l));
		web_href(c, b, path, "lang", web_lang_code(l));
		tn_sbuf_printf(b, "\"%s>%s</a> ", l == c->lang ? " aria-current=\"true\"" : "", names[l]);
	}
	tn_sbuf_printf(b, "</span>");
	if (c->lang != L_EN) {
		tn_sbuf_printf(b, "<a href=\"");
		web_href(c, b, path, "digits", c->native ? "latin" : "native");
		tn_sbuf_printf(b, "\">");
		tn_sbuf_escape(b, T(c, c->native ? S_DIGITS_LATIN : S_DIGITS_NATIVE));
		tn_sbuf_printf(b, "</a> ");
	}
	if (c->lang == L_FA) {
		tn_sbuf_printf(b, "<a href=\"");
		web_href(c, b, path, "cal", c->solar ? "gregorian" : "solar");
		tn_sbuf_printf(b, "\">");
		tn_sbuf_escape(b, T(c, c->solar ? S_CAL_GREGORIAN : S_CAL_SOLAR));
		tn_sbuf_printf(b, "</a> ");
	}
	if (signed_in) {
		tn_sbuf_printf(b, "<form method=\"post\" action=\"/logout\" class=\"inline\">"
				  "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button type=\"submit\">",
			       c->csrf);
		tn_sbuf_escape(b, T(c, S_SIGN_OUT));
		tn_sbuf_printf(b, "</button></form>");
	}
	tn_sbuf_printf(b, "</div></header>\n<main id=\"main\"><h1>");
	tn_sbuf_escape(b, title);
	tn_sbuf_printf(b, "</h1>\n");
}

/* The filters shown on pages with a trend: period, plan, source; a GET form
 * so a view is a URL to share. */
static void filters(web_ctx *c, tn_sbuf *b, const char *path)
{
	const char *period = web_q(c, "period"), *plan = web_q(c, "plan"), *source = web_q(c, "source");
	tn_sbuf_printf(b, "<form method=\"get\" action=\"");
	tn_sbuf_escape(b, path);
	tn_sbuf_printf(b, "\" class=\"filters\" role=\"search\"><label>");
	tn_sbuf_escape(b, T(c, S_F_PERIOD));
	tn_sbuf_printf(b, " <select name=\"period\">");
	static const char *const pv[] = {"month", "quarter", "year"};
	static const int pl[] = {S_MONTH, S_QUARTER, S_YEAR};
	for (int i = 0; i < 3; i++) {
		tn_sbuf_printf(b, "<option value=\"%s\"%s>", pv[i],
			       (period ? strcmp(period, pv[i]) == 0 : i == 0) ? " selected" : "");
		tn_sbuf_escape(b, T(c, pl[i]));
		tn_sbuf_printf(b, "</option>");
	}
	tn_sbuf_printf(b, "</select></label> <label>");
	tn_sbuf_escape(b, T(c, S_F_PLAN));
	tn_sbuf_printf(b, " <input name=\"plan\" list=\"plans\" size=\"10\" value=\"");
	tn_sbuf_escape(b, plan ? plan : "");
	tn_sbuf_printf(b, "\"></label> <label>");
	tn_sbuf_escape(b, T(c, S_F_SOURCE));
	tn_sbuf_printf(b, " <input name=\"source\" list=\"sources\" size=\"10\" value=\"");
	tn_sbuf_escape(b, source ? source : "");
	tn_sbuf_printf(b, "\"></label> <button type=\"submit\">");
	tn_sbuf_escape(b, T(c, S_APPLY));
	tn_sbuf_printf(b, "</button></form>\n");
}

static void shell_close(web_ctx *c, tn_sbuf *b, const char *path)
{
	tn_sbuf_printf(b, "<p class=\"csv\"><a download href=\"");
	web_href(c, b, path, "format", "csv");
	tn_sbuf_printf(b, "\">");
	tn_sbuf_escape(b, T(c, S_DOWNLOAD_CSV));
	tn_sbuf_printf(b, "</a></p></main></body></html>\n");
}

/* ---- sign-in --------------------------------------------------------------------- */

static void login_page(web_ctx *c, tn_http_response *rs, int status, const char *message)
{
	tn_sbuf b = {0};
	shell_open(c, &b, "/login", T(c, S_SIGN_IN), 0);
	if (message) {
		tn_sbuf_printf(&b, "<p class=\"error\" role=\"alert\">");
		tn_sbuf_escape(&b, message);
		tn_sbuf_printf(&b, "</p>");
	}
	tn_sbuf_printf(&b, "<form method=\"post\" action=\"/login\" class=\"login\"><label for=\"key\">");
	tn_sbuf_escape(&b, T(c, S_KEY_LABEL));
	tn_sbuf_printf(&b, "</label><input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"off\" required "
			   "dir=\"ltr\" spellcheck=\"false\"><button type=\"submit\">");
	tn_sbuf_escape(&b, T(c, S_SIGN_IN));
	tn_sbuf_printf(&b, "</button></form><p class=\"reading\">");
	tn_sbuf_escape(&b, T(c, S_KEY_HINT));
	tn_sbuf_printf(&b, "</p></main></body></html>\n");
	security_headers(c);
	finish(c, rs, status, "text/html; charset=utf-8", &b);
}

static void do_login(web_ctx *c, tn_http_response *rs)
{
	char key[128];
	if (!c->rq->body || web_form(c->rq->body, c->rq->body_len, "key", key, sizeof key)) {
		login_page(c, rs, 400, T(c, S_KEY_MISSING));
		return;
	}
	/* keys have 256 random bits; still, at most MAX_FAILS wrong keys a second are looked at */
	double now = server_now();
	pthread_mutex_lock(&c->w->mu);
	if (now - c->w->fail_second >= 1.0) {
		c->w->fail_second = now;
		c->w->fails = 0;
	}
	int braked = c->w->fails >= MAX_FAILS;
	pthread_mutex_unlock(&c->w->mu);
	if (braked) {
		OPENSSL_cleanse(key, sizeof key);
		header(c, "%s", "Retry-After: 1");
		login_page(c, rs, 429, T(c, S_KEY_BAD));
		return;
	}
	char bearer[160];
	snprintf(bearer, sizeof bearer, "Bearer %s", key);
	OPENSSL_cleanse(key, sizeof key);
	int scope = 0;
	int64_t id = 0;
	int bad = auth_check(c->sv, bearer, &scope, &id);
	OPENSSL_cleanse(bearer, sizeof bearer);
	if (bad == -2) { /* the keys cannot be read: neither right nor wrong (as the API's 503) */
		header(c, "%s", "Retry-After: 5");
		login_page(c, rs, 503, T(c, S_UNAVAILABLE));
		return;
	}
	if (bad || !(scope & SCOPE_READ)) {
		if (bad) {
			pthread_mutex_lock(&c->w->mu);
			c->w->fails++;
			pthread_mutex_unlock(&c->w->mu);
		}
		login_page(c, rs, bad ? 401 : 403, T(c, bad ? S_KEY_BAD : S_KEY_SCOPE));
		return;
	}
	char sid[65];
	if (session_new(c, id, sid)) {
		login_page(c, rs, 503, T(c, S_TOO_MANY_SESSIONS));
		return;
	}
	set_cookie(c, "tn_session", sid, SESSION_SECONDS);
	OPENSSL_cleanse(sid, sizeof sid);
	redirect(c, rs, "/");
}

/* ---- assets ------------------------------------------------------------------------ */

static int serve_asset(web_ctx *c, const char *name, tn_http_response *rs)
{
	for (size_t i = 0; i < web_nassets; i++) {
		if (strcmp(web_assets[i].name, name) != 0)
			continue;
		const char *dot = strrchr(name, '.');
		const char *type = dot && strcmp(dot, ".css") == 0  ? "text/css; charset=utf-8"
				   : dot && strcmp(dot, ".js") == 0 ? "text/javascript; charset=utf-8"
								    : "application/octet-stream";
		tn_sbuf b = {0};
		tn_sbuf_printf(&b, "%s", ""); /* allocate */
		if (!b.oom && web_assets[i].len + 1 > b.cap) {
			char *p = tn_realloc(b.p, web_assets[i].len + 1);
			if (p)
				b.p = p, b.cap = web_assets[i].len + 1;
			else
				b.oom = 1;
		}
		if (!b.oom) {
			memcpy(b.p, web_assets[i].data, web_assets[i].len);
			b.len = web_assets[i].len;
			b.p[b.len] = '\0';
		}
		header(c, "%s", "X-Content-Type-Options: nosniff");
		header(c, "%s", "Cache-Control: max-age=3600");
		finish(c, rs, 200, type, &b);
		return 1;
	}
	return 0;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static int lang_of(const char *s)
{
	if (!s)
		return -1;
	for (int l = 0; l < L_N; l++)
		if (strcmp(s, web_lang_code(l)) == 0)
			return l;
	return -1;
}

/* the language, digits and calendar: the query's choice (remembered in a
 * cookie), else the cookie's, else English with Latin digits */
static void preferences(web_ctx *c)
{
	char v[16];
	const char *q = web_q(c, "lang");
	int l = lang_of(q);
	if (l >= 0) {
		c->lang = l;
		set_cookie(c, "tn_lang", web_lang_code(l), 365 * 86400);
	} else if (!web_cookie(c->rq->cookie, "tn_lang", v, sizeof v) && (l = lang_of(v)) >= 0)
		c->lang = l;
	q = web_q(c, "digits");
	if (q && (strcmp(q, "native") == 0 || strcmp(q, "latin") == 0)) {
		c->native = strcmp(q, "native") == 0;
		set_cookie(c, "tn_digits", q, 365 * 86400);
	} else if (!web_cookie(c->rq->cookie, "tn_digits", v, sizeof v))
		c->native = strcmp(v, "native") == 0;
	q = web_q(c, "cal");
	if (q && (strcmp(q, "solar") == 0 || strcmp(q, "gregorian") == 0)) {
		c->solar = strcmp(q, "solar") == 0;
		set_cookie(c, "tn_cal", q, 365 * 86400);
	} else if (!web_cookie(c->rq->cookie, "tn_cal", v, sizeof v))
		c->solar = strcmp(v, "solar") == 0;
	if (c->lang == L_EN)
		c->native = c->solar = 0;
	if (c->lang == L_AR)
		c->solar = 0;
}

static int is_web_path(const char *p)
{
	static const char *const exact[] = {"/", "/login", "/logout", "/when", "/why", "/who", "/act", "/alerts", NULL};
	for (size_t i = 0; exact[i]; i++)
		if (strcmp(p, exact[i]) == 0)
			return 1;
	return strncmp(p, "/assets/", 8) == 0 || strncmp(p, "/customers/", 11) == 0 || strncmp(p, "/alerts/", 8) == 0 ||
	       strncmp(p, "/act/", 5) == 0;
}

static void error_page(web_ctx *c, tn_http_response *rs, int status, const char *msg)
{
	tn_sbuf b = {0};
	shell_open(c, &b, "/error", T(c, S_ERROR), c->csrf[0] != '\0');
	tn_sbuf_printf(&b, "<p class=\"error\" role=\"alert\">");
	tn_sbuf_escape(&b, msg);
	tn_sbuf_printf(&b, "</p><p><a href=\"/\">");
	tn_sbuf_escape(&b, T(c, S_NAV_OVERVIEW));
	tn_sbuf_printf(&b, "</a></p></main></body></html>\n");
	security_headers(c);
	finish(c, rs, status, "text/html; charset=utf-8", &b);
}

/* How long a page waits for values it wants that are not computed yet
 * (TENURE_WEB_WAIT_MS, default 1,000 ms), with the cache's lock released. */
double web_wait_budget(void)
{
	const char *v = getenv("TENURE_WEB_WAIT_MS");
	char *end;
	long ms = v && *v ? strtol(v, &end, 10) : 1000;
	if (v && *v && (*end || ms < 0))
		ms = 1000;
	return (double)(ms > 600000 ? 600000 : ms) / 1000.0;
}

/* FN's page from cached values; a value not computed yet is wanted from the
 * warming thread, and the page rebuilt when it arrives, for at most the wait
 * budget; past it the page says what is being computed. */
static void build_page(web_ctx *c, void (*fn)(web_ctx *), double t0)
{
	double until = t0 + web_wait_budget();
	web_data_begin(c);
	/* right after a start the kept values are being loaded, smallest first
	 * (milliseconds; longer for the /who rows of a million customers): a
	 * page that wants one not loaded yet waits for it whatever the budget
	 * (at most 5 s), rather than say "being computed" */
	double loading = t0 + (web_wait_budget() > 5.0 ? web_wait_budget() : 5.0);
	for (;;) {
		c->computing = 0;
		c->as_of = 0;
		c->nfig = 0;
		fn(c);
		if (!c->computing || !web_data_wait(c, web_data_loaded(c) ? until : loading))
			break;
		tn_sbuf_free(&c->html);
		tn_sbuf_free(&c->csv);
	}
	web_data_end(c);
	if (c->computing)
		header(c, "%s", "Refresh: 3");
}

/* When the page's figures were computed, or that some are being computed. */
static void computed_note(web_ctx *c, tn_sbuf *b)
{
	if (c->computing) {
		tn_sbuf_printf(b, "<p class=\"computing\" role=\"status\" data-state=\"computing\">");
		tn_sbuf_escape(b, T(c, S_COMPUTING));
		tn_sbuf_printf(b, "</p>\n");
	} else if (c->as_of > 0) {
		time_t t = (time_t)c->as_of;
		struct tm tm;
		char hm[32], loc[64], msg[400];
		gmtime_r(&t, &tm);
		strftime(hm, sizeof hm, "%H:%M:%S", &tm);
		snprintf(msg, sizeof msg, T(c, S_COMPUTED_AT), web_digits(c, hm, loc, sizeof loc));
		tn_sbuf_printf(b, "<p class=\"computed\" data-computed-at=\"%.0f\">", c->as_of);
		tn_sbuf_escape(b, msg);
		tn_sbuf_printf(b, "</p>\n");
	}
}

/* the calling thread's CPU seconds (the page's own work, not its waits) */
static double page_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_page(web_ctx *c, tn_http_response *rs, const char *path, const char *title,
		     void (*fn)(web_ctx *), int with_filters)
{
	double t0 = server_now(), c0 = page_cpu();
	build_page(c, fn, t0);
	const char *fmt = web_q(c, "format");
	if (fmt && strcmp(fmt, "csv") == 0) {
		tn_sbuf_free(&c->html);
		const char *slash = strrchr(path, '/');
		char disp[160];
		snprintf(disp, sizeof disp, "Content-Disposition: attachment; filename=\"tenure-%s.csv\"",
			 slash && slash[1] ? slash + 1 : "overview");
		header(c, "%s", disp);
		security_headers(c);
		if (!c->csv.p)
			tn_sbuf_printf(&c->csv, "%s", "");
		finish(c, rs, 200, "text/csv; charset=utf-8", &c->csv);
		return;
	}
	tn_sbuf b = {0};
	shell_open(c, &b, path, title, 1);
	if (with_filters)
		filters(c, &b, path);
	computed_note(c, &b);
	if (c->html.p)
		tn_sbuf_printf(&b, "%s", c->html.p);
	tn_sbuf_free(&c->html);
	shell_close(c, &b, path);
	char timing[128];
	/* wall ms (waits included), then the request thread's CPU ms */
	snprintf(timing, sizeof timing, "Server-Timing: page;dur=%.1f, cpu;dur=%.2f", (server_now() - t0) * 1000,
		 (page_cpu() - c0) * 1000);
	header(c, "%s", timing);
	security_headers(c);
	finish(c, rs, 200, "text/html; charset=utf-8", &b);
}

int web_handle(tn_server *sv, const tn_http_request *rq, tn_http_response *rs)
{
	const char *path = rq->path ? rq->path : "/";
	const char *method = rq->method ? rq->method : "";
	if (!sv->web || !is_web_path(path))
		return 0;
	web_ctx c = {.sv = sv, .w = sv->web, .rq = rq};
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0, post = strcmp(method, "POST") == 0;
	if (strncmp(path, "/assets/", 8) == 0) {
		if (get && serve_asset(&c, path + 8, rs))
			return 1;
		tn_sbuf_free(&c.hdr);
		respond_error(rs, get ? 404 : 405, NULL, get ? "no such asset" : "assets are GET only", NULL);
		return 1;
	}
	preferences(&c);
	if (!get && !post) {
		tn_sbuf_free(&c.hdr);
		respond_error(rs, 405, NULL, "the dashboard's pages take GET (and POST for forms)", NULL);
		rs->allow = "GET, POST";
		return 1;
	}
	size_t max_body = 8192; /* forms are small */
	if (post && (rq->body_too_large || rq->body_len > max_body)) {
		error_page(&c, rs, 413, T(&c, S_ERROR));
		return 1;
	}
	if (strcmp(path, "/login") == 0) {
		if (post)
			do_login(&c, rs);
		else
			login_page(&c, rs, 200, NULL);
		return 1;
	}
	web_session se;
	if (session_find(&c, rq->cookie, &se) || !(c.scope = auth_key_scope(sv, se.key_id)) ||
	    !(c.scope & SCOPE_READ)) {
		if (post) { /* no silent redirect of a form: say why */
			login_page(&c, rs, 401, T(&c, S_SESSION_GONE));
			return 1;
		}
		redirect(&c, rs, "/login");
		return 1;
	}
	memcpy(c.csrf, se.csrf, sizeof c.csrf);
	c.key_id = se.key_id;
	web_data_warm(&c);
	if (post) {
		if (!csrf_ok(&c)) {
			web_audit_refused(&c, se.key_id, path, "no valid CSRF token");
			error_page(&c, rs, 403, T(&c, S_CSRF_BAD));
			return 1;
		}
		if (strcmp(path, "/logout") == 0) {
			session_end(&c, &se);
			set_cookie(&c, "tn_session", "", 0);
			redirect(&c, rs, "/login");
			return 1;
		}
		size_t pl = strlen(path);
		if (strncmp(path, "/alerts/", 8) == 0 && pl > 12 && strcmp(path + pl - 4, "/ack") == 0) {
			if (!(c.scope & SCOPE_ADMIN)) {
				web_audit_refused(&c, se.key_id, path, "not an admin key");
				error_page(&c, rs, 403, T(&c, S_NEED_ADMIN));
				return 1;
			}
			char id[32];
			size_t n = pl - 12;
			if (n >= sizeof id) {
				error_page(&c, rs, 404, T(&c, S_NOT_FOUND));
				return 1;
			}
			memcpy(id, path + 8, n);
			id[n] = '\0';
			tn_error err = {0};
			int rc = action_ack(&c, id, &err);
			if (rc) {
				error_page(&c, rs, rc == TN_ERR_NOTFOUND || rc == TN_ERR_USAGE ? 404 : 500,
					   rc == TN_ERR_NOTFOUND || rc == TN_ERR_USAGE ? T(&c, S_NOT_FOUND) : err.msg);
				return 1;
			}
			redirect(&c, rs, "/alerts");
			return 1;
		}
		if (strcmp(path, "/act/plan/withdraw") == 0) {
			if (!(c.scope & SCOPE_ADMIN)) {
				web_audit_refused(&c, se.key_id, path, "not an admin key");
				error_page(&c, rs, 403, T(&c, S_NEED_ADMIN_ACT));
				return 1;
			}
			tn_error err = {0};
			char msg[512] = "";
			int rc = action_withdraw_plan(&c, se.key_id, msg, sizeof msg, &err);
			if (rc) {
				error_page(&c, rs, rc == TN_ERR_USAGE ? 400 : rc == TN_ERR_NOTFOUND ? 409 : 500,
					   msg[0] ? msg : err.msg);
				return 1;
			}
			redirect(&c, rs, "/act?done=withdrawn");
			return 1;
		}
		int plan = strcmp(path, "/act/plan/approve") == 0, camp = strcmp(path, "/act/campaign/start") == 0;
		if (plan || camp) {
			if (!(c.scope & SCOPE_ADMIN)) {
				web_audit_refused(&c, se.key_id, path, "not an admin key");
				error_page(&c, rs, 403, T(&c, S_NEED_ADMIN_ACT));
				return 1;
			}
			tn_error err = {0};
			int repeat = 0;
			char msg[512] = "";
			int rc = plan ? action_approve_plan(&c, se.key_id, &repeat, msg, sizeof msg, &err)
				      : action_start_campaign(&c, se.key_id, &repeat, msg, sizeof msg, &err);
			if (rc && c.computing) { /* its figures are still being computed */
				header(&c, "%s", "Retry-After: 30");
				error_page(&c, rs, 503, T(&c, S_COMPUTING_RETRY));
				return 1;
			}
			if (rc) {
				error_page(&c, rs, rc == TN_ERR_USAGE ? 400 : rc == TN_ERR_NOTFOUND && msg[0] ? 409 : 500,
					   (rc == TN_ERR_USAGE || rc == TN_ERR_NOTFOUND) && msg[0] ? msg : err.msg);
				return 1;
			}
			/* the outcome in the redirect's URL (no state kept for it) */
			tn_sbuf to = {0};
			tn_sbuf_printf(&to, "/act?done=%s", plan ? (repeat ? "plan-again" : "plan") : (repeat ? "campaign-again" : "campaign"));
			redirect(&c, rs, to.p ? to.p : "/act");
			tn_sbuf_free(&to);
			return 1;
		}
		error_page(&c, rs, 405, T(&c, S_NOT_FOUND));
		return 1;
	}
	if (strcmp(path, "/") == 0)
		run_page(&c, rs, "/", T(&c, S_NAV_OVERVIEW), page_overview, 1);
	else if (strcmp(path, "/when") == 0)
		run_page(&c, rs, "/when", T(&c, S_NAV_WHEN), page_when, 0);
	else if (strcmp(path, "/why") == 0)
		run_page(&c, rs, "/why", T(&c, S_NAV_WHY), page_why, 0);
	else if (strcmp(path, "/who") == 0)
		run_page(&c, rs, "/who", T(&c, S_NAV_WHO), page_who, 0);
	else if (strcmp(path, "/act") == 0)
		run_page(&c, rs, "/act", T(&c, S_NAV_ACT), page_act, 0);
	else if (strcmp(path, "/alerts") == 0)
		run_page(&c, rs, "/alerts", T(&c, S_NAV_ALERTS), page_alerts, 0);
	else if (strncmp(path, "/customers/", 11) == 0 && path[11] && !strchr(path + 11, '/') &&
		 strlen(path + 11) < 128) {
		double t0 = server_now();
		page_customer(&c, path + 11); /* takes the cache's lock only for the summary */
		const char *fmt = web_q(&c, "format");
		if (fmt && strcmp(fmt, "csv") == 0) {
			tn_sbuf_free(&c.html);
			header(&c, "%s", "Content-Disposition: attachment; filename=\"tenure-customer.csv\"");
			security_headers(&c);
			if (!c.csv.p)
				tn_sbuf_printf(&c.csv, "%s", "");
			finish(&c, rs, 200, "text/csv; charset=utf-8", &c.csv);
			return 1;
		}
		tn_sbuf_free(&c.csv);
		tn_sbuf b = {0};
		char title[200];
		snprintf(title, sizeof title, "%s %s", T(&c, S_CUSTOMER), path + 11);
		shell_open(&c, &b, path, title, 1);
		if (c.html.p)
			tn_sbuf_printf(&b, "%s", c.html.p);
		tn_sbuf_free(&c.html);
		shell_close(&c, &b, path);
		char timing[96];
		snprintf(timing, sizeof timing, "Server-Timing: page;dur=%.1f", (server_now() - t0) * 1000);
		header(&c, "%s", timing);
		security_headers(&c);
		finish(&c, rs, 200, "text/html; charset=utf-8", &b);
	} else
		error_page(&c, rs, 404, T(&c, S_NOT_FOUND));
	tn_sbuf_free(&c.csv);
	tn_sbuf_free(&c.html);
	return 1;
}
