/*
 * email.c -- e-mail for businesses without their own messaging tool:
 * templates per language (en, ar, fa; right-to-left HTML for ar and fa),
 * MIME messages (multipart/alternative, UTF-8, base64, RFC 2047 headers,
 * List-Unsubscribe), and the signed unsubscribe link with what it records.
 * Sending is the outbox's (outbox.c, SMTP through libcurl).
 */
#include "actions/outbox_internal.h"
#include "base/alloc.h"
#include "store/db.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "base/rng.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TEMPLATE_MAX (64 * 1024)

/* ---- built-in templates -------------------------------------------------------- */

static const struct {
	const char *kind, *lang, *src;
} BUILTIN[] = {
	{"winback", "en",
	 "Subject: We miss you, {{name}}\n\n"
	 "Hello {{name}},\n\n"
	 "It has been a month since you left {{business}}. Your {{plan}} plan is waiting for you, and we have "
	 "improved a lot since. {{offer}}\n\n"
	 "Unsubscribe: {{unsubscribe_url}}\n"
	 "--- html ---\n"
	 "<p>Hello {{name}},</p>\n<p>It has been a month since you left {{business}}. Your {{plan}} plan is waiting "
	 "for you, and we have improved a lot since. {{offer}}</p>\n"
	 "<p style=\"font-size:small\"><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p>\n"},
	{"winback", "ar",
	 "Subject: اشتقنا إليك يا {{name}}\n\n"
	 "مرحبًا {{name}}،\n\n"
	 "مضى شهر منذ غادرت {{business}}. خطة {{plan}} بانتظارك، وقد حسّنّا الكثير منذ ذلك الحين. {{offer}}\n\n"
	 "لإلغاء الاشتراك: {{unsubscribe_url}}\n"
	 "--- html ---\n"
	 "<p>مرحبًا {{name}}،</p>\n<p>مضى شهر منذ غادرت {{business}}. خطة {{plan}} بانتظارك، وقد حسّنّا الكثير منذ "
	 "ذلك الحين. {{offer}}</p>\n"
	 "<p style=\"font-size:small\"><a href=\"{{unsubscribe_url}}\">إلغاء الاشتراك</a></p>\n"},
	{"winback", "fa",
	 "Subject: دلمان برایتان تنگ شده، {{name}}\n\n"
	 "سلام {{name}}،\n\n"
	 "یک ماه از رفتن شما از {{business}} می‌گذرد. طرح {{plan}} منتظر شماست و از آن زمان خیلی چیزها را بهتر "
	 "کرده‌ایم. {{offer}}\n\n"
	 "لغو اشتراک: {{unsubscribe_url}}\n"
	 "--- html ---\n"
	 "<p>سلام {{name}}،</p>\n<p>یک ماه از رفتن شما از {{business}} می‌گذرد. طرح {{plan}} منتظر شماست و از آن "
	 "زمان خیلی چیزها را بهتر کرده‌ایم. {{offer}}</p>\n"
	 "<p style=\"font-size:small\"><a href=\"{{unsubscribe_url}}\">لغو اشتراک</a></p>\n"},
	{"offer", "en",
	 "Subject: A gift before your {{plan}} plan renews\n\n"
	 "Hello {{name}},\n\n"
	 "Your {{plan}} period ends on {{period_end}}. {{offer}}\n\n"
	 "Unsubscribe: {{unsubscribe_url}}\n"
	 "--- html ---\n"
	 "<p>Hello {{name}},</p>\n<p>Your {{plan}} period ends on {{period_end}}. {{offer}}</p>\n"
	 "<p style=\"font-size:small\"><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p>\n"},
	{"offer", "ar",
	 "Subject: هدية قبل تجديد خطة {{plan}}\n\n"
	 "مرحبًا {{name}}،\n\n"
	 "تنتهي فترة خطة {{plan}} في {{period_end}}. {{offer}}\n\n"
	 "لإلغاء الاشتراك: {{unsubscribe_url}}\n"
	 "--- html ---\n"
	 "<p>مرحبًا {{name}}،</p>\n<p>تنتهي فترة خطة {{plan}} في {{period_end}}. {{offer}}</p>\n"
	 "<p style=\"font-size:small\"><a href=\"{{unsubscribe_url}}\">إلغاء الاشتراك</a></p>\n"},
	{"offer", "fa",
	 "Subject: هدیه‌ای پیش از تمدید طرح {{plan}}\n\n"
	 "سلام {{name}}،\n\n"
	 "دورهٔ طرح {{plan}} شما در {{period_end}} به پایان می‌رسد. {{offer}}\n\n"
	 "لغو اشتراک: {{unsubscribe_url}}\n"
	 "--- html ---\n"
	 "<p>سلام {{name}}،</p>\n<p>دورهٔ طرح {{plan}} شما در {{period_end}} به پایان می‌رسد. {{offer}}</p>\n"
	 "<p style=\"font-size:small\"><a href=\"{{unsubscribe_url}}\">لغو اشتراک</a></p>\n"},
};

const char *ob_builtin_template(const char *kind, const char *lang)
{
	for (size_t i = 0; i < sizeof BUILTIN / sizeof BUILTIN[0]; i++)
		if (strcmp(BUILTIN[i].kind, kind) == 0 && strcmp(BUILTIN[i].lang, lang) == 0)
			return BUILTIN[i].src;
	return NULL;
}

/* defaults of the variables a message may lack, per language */
static const char *default_name(const char *lang)
{
	return strcmp(lang, "ar") == 0 ? "صديقنا" : strcmp(lang, "fa") == 0 ? "دوست عزیز" : "there";
}
static const char *default_offer(const char *kind, const char *lang)
{
	if (strcmp(kind, "winback") == 0)
		return strcmp(lang, "ar") == 0	 ? "عد الآن واحصل على شهر مجاني."
		       : strcmp(lang, "fa") == 0 ? "همین حالا برگردید و یک ماه رایگان بگیرید."
						 : "Come back now and get a free month.";
	return strcmp(lang, "ar") == 0	 ? "ابقَ معنا واحصل على خصم 20٪ على فترتك القادمة."
	       : strcmp(lang, "fa") == 0 ? "بمانید و ۲۰٪ تخفیف برای دورهٔ بعد بگیرید."
					 : "Stay with us and get 20% off your next period.";
}

/* ---- templates: parse, check, render --------------------------------------------- */

static const char *const VARS[] = {"name", "offer", "plan", "period_end", "unsubscribe_url", "business", NULL};

/* Check the placeholders of PART (starting at line LINE0 of the source). */
static int check_part(const char *p, size_t len, int line0, tn_error *err)
{
	int line = line0, col = 1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n') {
			line++;
			col = 1;
			continue;
		}
		if (p[i] == '{' && i + 1 < len && p[i + 1] == '{') {
			size_t j = i + 2;
			while (j < len && p[j] == ' ')
				j++;
			size_t a = j;
			while (j < len && ((p[j] >= 'a' && p[j] <= 'z') || p[j] == '_'))
				j++;
			size_t b = j;
			while (j < len && p[j] == ' ')
				j++;
			if (j + 1 >= len || p[j] != '}' || p[j + 1] != '}')
				return tn_error_set(err, TN_ERR_INPUT,
						    "template:%d:%d: expected {{name}} with a placeholder name and }}", line,
						    col);
			int known = 0;
			for (size_t k = 0; VARS[k] && !known; k++)
				known = strlen(VARS[k]) == b - a && memcmp(VARS[k], p + a, b - a) == 0;
			if (!known)
				return tn_error_set(err, TN_ERR_INPUT,
						    "template:%d:%d: unknown placeholder \"%.*s\" (known: name, offer, plan, "
						    "period_end, unsubscribe_url, business)",
						    line, col, (int)(b - a > 40 ? 40 : b - a), p + a);
			col += (int)(j + 2 - i);
			i = j + 1;
			continue;
		}
		col++;
	}
	return TN_OK;
}

static char *dup_n(const char *p, size_t n)
{
	char *d = tn_malloc(n + 1);
	if (d) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

void tn_email_template_free(tn_email_template *t)
{
	if (!t)
		return;
	free(t->subject);
	free(t->text);
	free(t->html);
	memset(t, 0, sizeof *t);
}

int tn_email_template_parse(const char *src, size_t len, tn_email_template *out, tn_error *err)
{
	memset(out, 0, sizeof *out);
	if (len > TEMPLATE_MAX)
		return tn_error_set(err, TN_ERR_INPUT, "template: larger than %d bytes", TEMPLATE_MAX);
	if (memchr(src, '\0', len))
		return tn_error_set(err, TN_ERR_INPUT, "template: contains a NUL byte");
	if (len < 9 || strncasecmp(src, "Subject:", 8) != 0)
		return tn_error_set(err, TN_ERR_INPUT, "template:1:1: expected \"Subject: ...\" on the first line");
	const char *nl = memchr(src, '\n', len);
	if (!nl)
		return tn_error_set(err, TN_ERR_INPUT, "template:1:%zu: expected a blank line after the subject", len + 1);
	const char *sa = src + 8;
	while (sa < nl && *sa == ' ')
		sa++;
	const char *sb = nl;
	if (sb > sa && sb[-1] == '\r')
		sb--;
	if (sb == sa)
		return tn_error_set(err, TN_ERR_INPUT, "template:1:9: the subject is empty");
	for (const char *c = sa; c < sb; c++) /* a control character would break the header */
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return tn_error_set(err, TN_ERR_INPUT, "template:1:%d: a control character in the subject",
					    (int)(c - src) + 1);
	const char *end = src + len, *body = nl + 1;
	if (body < end && *body == '\r')
		body++;
	if (body >= end || *body != '\n')
		return tn_error_set(err, TN_ERR_INPUT, "template:2:1: expected a blank line after the subject");
	body++;
	/* the separator line "--- html ---" */
	const char *sep = NULL, *q = body;
	int line = 3, sep_line = 0;
	while (q < end) {
		const char *e = memchr(q, '\n', (size_t)(end - q));
		size_t l = e ? (size_t)(e - q) : (size_t)(end - q);
		if (l && q[l - 1] == '\r')
			l--;
		if (l == 12 && memcmp(q, "--- html ---", 12) == 0) {
			sep = q;
			sep_line = line;
			break;
		}
		if (!e)
			break;
		q = e + 1;
		line++;
	}
	if (!sep)
		return tn_error_set(err, TN_ERR_INPUT, "template:%d:1: expected a line \"--- html ---\" before the HTML part",
				    line);
	const char *html = memchr(sep, '\n', (size_t)(end - sep));
	html = html ? html + 1 : end;
	if (html >= end)
		return tn_error_set(err, TN_ERR_INPUT, "template:%d:1: the HTML part is empty", sep_line + 1);
	int rc = check_part(sa, (size_t)(sb - sa), 1, err);
	if (!rc)
		rc = check_part(body, (size_t)(sep - body), 3, err);
	if (!rc)
		rc = check_part(html, (size_t)(end - html), sep_line + 1, err);
	if (rc)
		return rc;
	out->subject = dup_n(sa, (size_t)(sb - sa));
	out->text = dup_n(body, (size_t)(sep - body));
	out->html = dup_n(html, (size_t)(end - html));
	if (!out->subject || !out->text || !out->html) {
		tn_email_template_free(out);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory reading a template");
	}
	return TN_OK;
}

typedef struct buf {
	char *p;
	size_t n, cap;
	int oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		while (nc < b->n + n + 1)
			nc *= 2;
		char *t = nc <= ((size_t)64 << 20) ? tn_realloc(b->p, nc) : NULL;
		if (!t) {
			b->oom = 1;
			return;
		}
		b->p = t;
		b->cap = nc;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

int tn_email_render(const char *tmpl, const char *const *vars, size_t nvars, int html, char **out, tn_error *err)
{
	*out = NULL;
	buf b = {0};
	size_t len = strlen(tmpl);
	for (size_t i = 0; i < len;) {
		if (tmpl[i] == '{' && tmpl[i + 1] == '{') {
			size_t j = i + 2;
			while (tmpl[j] == ' ')
				j++;
			size_t a = j;
			while ((tmpl[j] >= 'a' && tmpl[j] <= 'z') || tmpl[j] == '_')
				j++;
			size_t nl = j - a;
			while (tmpl[j] == ' ')
				j++;
			if (tmpl[j] == '}' && tmpl[j + 1] == '}') {
				const char *v = "";
				for (size_t k = 0; k < nvars; k++)
					if (strlen(vars[2 * k]) == nl && memcmp(vars[2 * k], tmpl + a, nl) == 0)
						v = vars[2 * k + 1] ? vars[2 * k + 1] : "";
				for (const char *c = v; *c; c++) {
					if (html && *c == '<')
						puts_(&b, "&lt;");
					else if (html && *c == '>')
						puts_(&b, "&gt;");
					else if (html && *c == '&')
						puts_(&b, "&amp;");
					else if (html && *c == '"')
						puts_(&b, "&quot;");
					else if (html && *c == '\'')
						puts_(&b, "&#39;");
					else if (*c == '\r' || (*c == '\n' && html < 0))
						put(&b, " ", 1); /* no header injection */
					else
						put(&b, c, 1);
				}
				i = j + 2;
				continue;
			}
		}
		put(&b, tmpl + i, 1);
		i++;
	}
	if (!b.p && !b.oom)
		puts_(&b, "");
	if (b.oom) {
		free(b.p);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory rendering a template");
	}
	*out = b.p;
	return TN_OK;
}

/* ---- MIME ---------------------------------------------------------------------------- */

static void put_base64(buf *b, const unsigned char *p, size_t n)
{
	/* 57 input bytes per 76-character line */
	unsigned char line[80];
	for (size_t i = 0; i < n; i += 57) {
		size_t k = n - i < 57 ? n - i : 57;
		int w = EVP_EncodeBlock(line, p + i, (int)k);
		put(b, (const char *)line, (size_t)w);
		put(b, "\r\n", 2);
	}
}

/* An RFC 2047 encoded word sequence for a header value (UTF-8, B encoding),
 * split at character boundaries so each word stays under 76 characters. */
static void put_encoded(buf *b, const char *s)
{
	int ascii = 1;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c >= 0x80 || *c == '=' || *c == '?')
			ascii = 0;
	if (ascii) {
		puts_(b, s);
		return;
	}
	size_t n = strlen(s), i = 0;
	int first = 1;
	while (i < n) {
		size_t k = n - i < 45 ? n - i : 45;
		while (i + k < n && k > 0 && ((unsigned char)s[i + k] & 0xC0) == 0x80)
			k--; /* do not cut a character */
		if (k == 0)
			k = 1;
		unsigned char enc[64];
		int w = EVP_EncodeBlock(enc, (const unsigned char *)s + i, (int)k);
		if (!first)
			puts_(b, "\r\n ");
		puts_(b, "=?UTF-8?B?");
		put(b, (const char *)enc, (size_t)w);
		puts_(b, "?=");
		first = 0;
		i += k;
	}
}

static int addr_ok(const char *a)
{
	if (!a || !*a || strlen(a) > 320 || !strchr(a, '@'))
		return 0;
	for (const char *c = a; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == '<' || *c == '>' || *c == '"' || *c == ',' || *c == ';')
			return 0;
	return 1;
}

/* "Name <addr>" -> name (may be empty) and addr; 0 ok. */
static int split_from(const char *from, char *name, size_t nn, char *addr, size_t na)
{
	const char *lt = strchr(from, '<');
	if (!lt) {
		snprintf(name, nn, "%s", "");
		snprintf(addr, na, "%s", from);
	} else {
		const char *gt = strchr(lt, '>');
		if (!gt || gt[1])
			return -1;
		size_t l = (size_t)(lt - from);
		while (l && from[l - 1] == ' ')
			l--;
		snprintf(name, nn, "%.*s", (int)l, from);
		snprintf(addr, na, "%.*s", (int)(gt - lt - 1), lt + 1);
	}
	for (const char *c = name; *c; c++)
		if (*c == '\r' || *c == '\n' || *c == '"')
			return -1;
	return addr_ok(addr) ? 0 : -1;
}

static void rfc2822_date(tn_time t, char *out, size_t n)
{
	static const char *const wd[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), sec = t - days * 86400;
	int y, m, d;
	tn_civil_from_days(days, &y, &m, &d);
	int w = (int)(((days % 7) + 7) % 7);
	snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[w], d, mo[m - 1], y, (int)(sec / 3600),
		 (int)(sec / 60 % 60), (int)(sec % 60));
}

int tn_email_build(const char *from, const char *to, const char *lang, const char *subject, const char *text,
		   const char *html, const char *unsubscribe_url, const char *message_id, tn_time date, char **out,
		   tn_error *err)
{
	*out = NULL;
	char fname[256], faddr[330];
	if (!from || split_from(from, fname, sizeof fname, faddr, sizeof faddr))
		return tn_error_set(err, TN_ERR_INPUT, "e-mail: the sender \"%s\" is not an address (or Name <address>)",
				    from ? from : "");
	if (!addr_ok(to))
		return tn_error_set(err, TN_ERR_INPUT, "e-mail: \"%s\" is not an address", to ? to : "");
	if (unsubscribe_url && strpbrk(unsubscribe_url, "\r\n<> "))
		return tn_error_set(err, TN_ERR_INPUT, "e-mail: the unsubscribe link has spaces or line breaks");
	int rtl = strcmp(lang, "ar") == 0 || strcmp(lang, "fa") == 0;
	unsigned char rnd[12];
	char boundary[64];
	if (tn_random_bytes(rnd, sizeof rnd))
		return tn_error_set(err, TN_ERR_IO, "e-mail: no random bytes for the MIME boundary");
	int w = snprintf(boundary, sizeof boundary, "=_tenure_");
	for (size_t i = 0; i < sizeof rnd; i++)
		w += snprintf(boundary + w, sizeof boundary - (size_t)w, "%02x", rnd[i]);
	char d[64];
	rfc2822_date(date, d, sizeof d);
	buf b = {0};
	puts_(&b, "From: ");
	if (fname[0]) {
		put_encoded(&b, fname);
		puts_(&b, " ");
	}
	puts_(&b, "<");
	puts_(&b, faddr);
	puts_(&b, ">\r\nTo: <");
	puts_(&b, to);
	puts_(&b, ">\r\nSubject: ");
	put_encoded(&b, subject);
	puts_(&b, "\r\nDate: ");
	puts_(&b, d);
	puts_(&b, "\r\nMessage-ID: <");
	puts_(&b, message_id);
	puts_(&b, ">\r\nMIME-Version: 1.0\r\nContent-Language: ");
	puts_(&b, lang);
	if (unsubscribe_url) {
		puts_(&b, "\r\nList-Unsubscribe: <");
		puts_(&b, unsubscribe_url);
		puts_(&b, ">\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click");
	}
	puts_(&b, "\r\nContent-Type: multipart/alternative; boundary=\"");
	puts_(&b, boundary);
	puts_(&b, "\"\r\n\r\n--");
	puts_(&b, boundary);
	puts_(&b, "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	put_base64(&b, (const unsigned char *)text, strlen(text));
	puts_(&b, "--");
	puts_(&b, boundary);
	puts_(&b, "\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	buf h = {0};
	puts_(&h, "<!DOCTYPE html>\n<html lang=\"");
	puts_(&h, lang);
	puts_(&h, rtl ? "\" dir=\"rtl\">\n<head><meta charset=\"utf-8\"></head>\n<body dir=\"rtl\" style=\"text-align:right\">\n"
		      : "\" dir=\"ltr\">\n<head><meta charset=\"utf-8\"></head>\n<body>\n");
	puts_(&h, html);
	puts_(&h, "</body>\n</html>\n");
	if (h.oom) {
		free(h.p);
		free(b.p);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory building an e-mail");
	}
	put_base64(&b, (const unsigned char *)h.p, h.n);
	free(h.p);
	puts_(&b, "--");
	puts_(&b, boundary);
	puts_(&b, "--\r\n");
	if (b.oom) {
		free(b.p);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory building an e-mail");
	}
	*out = b.p;
	return TN_OK;
}

/* ---- configuration -------------------------------------------------------------------- */

static int secret_get(tn_store *s, int create, char **secret, tn_error *err)
{
	int rc = ob_meta_get(s, OB_UNSUB_SECRET, secret, err);
	if (rc || *secret || !create)
		return rc;
	unsigned char raw[32];
	if (tn_random_bytes(raw, sizeof raw))
		return tn_error_set(err, TN_ERR_IO, "cannot get random bytes for the unsubscribe secret");
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	rc = ob_meta_set(s, OB_UNSUB_SECRET, hex, err);
	if (!rc) {
		*secret = tn_strdup(hex);
		if (!*secret)
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	return rc;
}

int tn_email_config(tn_store *s, const char *smtp_url, const char *from, const char *public_url, tn_error *err)
{
	if (smtp_url && strncmp(smtp_url, "smtp://", 7) != 0 && strncmp(smtp_url, "smtps://", 8) != 0)
		return tn_error_set(err, TN_ERR_USAGE, "--smtp: expected smtp://HOST:PORT or smtps://..., found \"%s\"",
				    smtp_url);
	char n[256], a[330];
	if (from && split_from(from, n, sizeof n, a, sizeof a))
		return tn_error_set(err, TN_ERR_USAGE, "--from: expected an address or \"Name <address>\", found \"%s\"",
				    from);
	if (public_url && ((strncmp(public_url, "http://", 7) != 0 && strncmp(public_url, "https://", 8) != 0) ||
			   strpbrk(public_url, " \r\n<>\"") || strlen(public_url) > 1000))
		return tn_error_set(err, TN_ERR_USAGE, "--public-url: expected http(s)://HOST[:PORT], found \"%s\"",
				    public_url);
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	int rc = TN_OK;
	if (smtp_url)
		rc = ob_meta_set(s, OB_SMTP_URL, smtp_url, err);
	if (!rc && from)
		rc = ob_meta_set(s, OB_FROM, from, err);
	if (!rc && public_url)
		rc = ob_meta_set(s, OB_PUBLIC_URL, public_url, err);
	char *sec = NULL;
	if (!rc)
		rc = secret_get(s, 1, &sec, err);
	free(sec);
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}

int tn_email_template_set(tn_store *s, const char *kind, const char *lang, const char *src, tn_error *err)
{
	if (!kind || (strcmp(kind, "winback") != 0 && strcmp(kind, "offer") != 0))
		return tn_error_set(err, TN_ERR_USAGE, "template kind: winback or offer, found \"%s\"", kind ? kind : "");
	if (!lang || !ob_builtin_template(kind, lang))
		return tn_error_set(err, TN_ERR_USAGE, "template language: en, ar or fa, found \"%s\"", lang ? lang : "");
	tn_email_template t;
	int rc = tn_email_template_parse(src, strlen(src), &t, err);
	if (rc)
		return rc;
	tn_email_template_free(&t);
	char key[64];
	snprintf(key, sizeof key, "%s%s.%s", OB_TEMPLATE_PREFIX, kind, lang);
	return ob_meta_set(s, key, src, err);
}

/* ---- unsubscribe ---------------------------------------------------------------------- */

static int token_with(const char *secret, const char *customer, const char *channel, char out[65], tn_error *err)
{
	size_t lc = strlen(customer), lh = strlen(channel);
	char *m = tn_malloc(lc + lh + 16);
	if (!m)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int n = snprintf(m, lc + lh + 16, "unsubscribe\n%s\n%s", customer, channel);
	int rc = ob_hmac_hex(secret, strlen(secret), m, (size_t)n, out, err);
	free(m);
	return rc;
}

int tn_unsubscribe_token(tn_store *s, const char *customer, const char *channel, char out[65], tn_error *err)
{
	char *secret = NULL;
	int rc = secret_get(s, 1, &secret, err);
	if (!rc)
		rc = token_with(secret, customer, channel, out, err);
	free(secret);
	return rc;
}

int tn_unsubscribe(tn_store *s, const char *customer, const char *channel, const char *token, tn_time now,
		   tn_error *err)
{
	if (!customer || !channel || !token || strlen(token) != 64 || strlen(customer) > 400)
		return tn_error_set(err, TN_ERR_INPUT, "unsubscribe: the link is incomplete (c, ch and t are needed)");
	char *secret = NULL;
	int rc = secret_get(s, 0, &secret, err);
	if (rc)
		return rc;
	if (!secret)
		return tn_error_set(err, TN_ERR_INPUT, "unsubscribe: the link is not valid");
	char want[65];
	rc = token_with(secret, customer, channel, want, err);
	free(secret);
	if (rc)
		return rc;
	if (CRYPTO_memcmp(want, token, 64) != 0)
		return tn_error_set(err, TN_ERR_INPUT, "unsubscribe: the link is not valid");
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	rc = tn_consent_set(s, customer, channel, 0, "unsubscribe", now, err);
	/* the messages already queued on that channel are not sent */
	int64_t key = 0;
	if (!rc)
		rc = ob_customer_key(s, customer, &key, err);
	if (!rc) {
		tn_stmt *st = tn_db_prepare(s,
					    "UPDATE outbox SET status = 'suppressed' WHERE customer_id = ? AND status = 'pending'"
					    " AND channel = ?",
					    err);
		rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
		if (!rc) {
			tn_db_bind_int64(st, 1, key);
			tn_db_bind_text(st, 2, strcmp(channel, "email") == 0 ? "email" : "webhook");
			rc = ob_step_done(st, "suppressing queued messages", err);
		}
		tn_db_finalize(st);
	}
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}

/* ---- one message of the outbox --------------------------------------------------------- */

static void url_encode(buf *b, const char *s)
{
	static const char hx[] = "0123456789ABCDEF";
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		    *c == '_' || *c == '.' || *c == '~') {
			put(b, (const char *)c, 1);
		} else {
			char e[3] = {'%', hx[*c >> 4], hx[*c & 15]};
			put(b, e, 3);
		}
	}
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

int ob_email_message(tn_store *s, const char *event, const char *key, const char *payload, const char *to,
		     char **from_addr, char **mime, tn_error *err);

int ob_email_message(tn_store *s, const char *event, const char *key, const char *payload, const char *to,
		     char **from_addr, char **mime, tn_error *err)
{
	*from_addr = NULL;
	*mime = NULL;
	char *from = NULL, *pub = NULL, *tsrc = NULL;
	cJSON *p = cJSON_Parse(payload);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(p, "data");
	const cJSON *rcpt = cJSON_GetObjectItemCaseSensitive(p, "recipient");
	const char *customer = jstr(p, "customer");
	int rc = p && customer && to ? TN_OK : tn_error_set(err, TN_ERR_INPUT, "e-mail: the message has no recipient");
	if (!rc)
		rc = ob_meta_get(s, OB_FROM, &from, err);
	if (!rc)
		rc = ob_meta_get(s, OB_PUBLIC_URL, &pub, err);
	if (!rc && (!from || !pub))
		rc = tn_error_set(err, TN_ERR_USAGE, "e-mail: set the sender and the unsubscribe address first "
						     "(tenure email config --from ADDR --public-url URL)");
	const char *lang = jstr(rcpt, "language");
	if (!lang || !ob_builtin_template("winback", lang))
		lang = "en";
	char tkey[64];
	snprintf(tkey, sizeof tkey, "%s%s.%s", OB_TEMPLATE_PREFIX, event, lang);
	if (!rc)
		rc = ob_meta_get(s, tkey, &tsrc, err);
	const char *src = tsrc ? tsrc : ob_builtin_template(event, lang);
	tn_email_template t = {0};
	if (!rc && !src)
		rc = tn_error_set(err, TN_ERR_INPUT, "e-mail: no template for %s", event);
	if (!rc)
		rc = tn_email_template_parse(src, strlen(src), &t, err);
	/* the unsubscribe link */
	char tok[65];
	buf u = {0};
	if (!rc)
		rc = tn_unsubscribe_token(s, customer, "email", tok, err);
	if (!rc) {
		size_t pl = strlen(pub);
		put(&u, pub, pl && pub[pl - 1] == '/' ? pl - 1 : pl);
		puts_(&u, "/v1/unsubscribe?c=");
		url_encode(&u, customer);
		puts_(&u, "&ch=email&t=");
		puts_(&u, tok);
		if (u.oom)
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	char fname[256], faddr[330];
	if (!rc && split_from(from, fname, sizeof fname, faddr, sizeof faddr))
		rc = tn_error_set(err, TN_ERR_INPUT, "e-mail: the sender \"%s\" is not an address", from);
	char *subj = NULL, *text = NULL, *html = NULL;
	if (!rc) {
		const char *business = fname[0] ? fname : strchr(faddr, '@') + 1;
		const char *name = jstr(rcpt, "name");
		const char *vars[] = {"name",	    name ? name : default_name(lang),
				      "offer",	    jstr(data, "offer") ? jstr(data, "offer") : default_offer(event, lang),
				      "plan",	    jstr(data, "plan") ? jstr(data, "plan") : "",
				      "period_end", jstr(data, "period_end") ? jstr(data, "period_end") : "",
				      "unsubscribe_url", u.p,
				      "business",   business};
		rc = tn_email_render(t.subject, vars, 6, -1, &subj, err);
		if (!rc)
			rc = tn_email_render(t.text, vars, 6, 0, &text, err);
		if (!rc)
			rc = tn_email_render(t.html, vars, 6, 1, &html, err);
	}
	char mid[80], hex[65];
	if (!rc)
		rc = ob_hmac_hex("tenure-message-id", 17, key, strlen(key), hex, err);
	if (!rc) {
		snprintf(mid, sizeof mid, "%.32s@tenure.invalid", hex);
		rc = tn_email_build(from, to, lang, subj, text, html, u.p, mid, tn_now(), mime, err);
	}
	if (!rc) {
		*from_addr = tn_strdup(faddr);
		if (!*from_addr)
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	if (rc) {
		free(*mime);
		*mime = NULL;
	}
	free(subj);
	free(text);
	free(html);
	free(u.p);
	tn_email_template_free(&t);
	free(from);
	free(pub);
	free(tsrc);
	cJSON_Delete(p);
	return rc;
}
