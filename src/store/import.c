/*
 * import.c -- validated, all-or-nothing import of CSV and JSON Lines into the
 * store (see include/tenure/import.h; the columns are in docs/import.md).
 *
 * A file is read row by row (memory does not grow with the file).  Each row is
 * first turned into a list of raw field values, the same way for CSV and JSON
 * Lines, then checked field by field against the kind's specification, then
 * written with the store's idempotent writers.  The whole file is one
 * transaction: any bad row means a rollback, unless a rejects file takes the
 * bad rows.  Errors name FILE:LINE:COLUMN, the field, what was expected and
 * what was found.
 */
#include "tenure/import.h"
#include "base/alloc.h"
#include "base/hashmap.h"
#include "tenure/csv.h"
#include "tenure/frame.h"
#include "tenure/utf8.h"
#include "store/cluster.h"
#include "store/db.h"
#include "store/db_pg.h"
#include "store/store_sqlite.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FIELDS 16
#define JSONL_MAX_LINE (16u << 20)

typedef enum { F_ID, F_TEXT, F_TIME, F_NUM, F_ENUM, F_JSON } ftype;

typedef struct field_spec {
	const char *name;
	const char *aliases; /* comma-separated other header names accepted */
	ftype type;
	int required;
	/* F_ENUM: canonical values, each optionally followed by "=alias|alias" */
	const char *const *choices;
} field_spec;

static const char *const periods[] = {"day=daily", "week=weekly", "month=monthly|mo|m", "quarter=quarterly",
				      "year=yearly|annual|annually|yr|y", NULL};
static const char *const sub_status[] = {"trialing=trial|in_trial", "active", "past_due=pastdue|overdue",
					 "cancelled=canceled", "expired=ended|lapsed", NULL};
/* subscription_state (migration 8): where a subscription lives and why it ended */
static const char *const sub_sources[] = {"import", "appstore=app_store|apple|ios", "googleplay=google_play|play|android",
					  "stripe", "revenuecat=rc", NULL};
static const char *const sub_causes[] = {"voluntary=cancelled|canceled", "billing=payment_failed|billing_error",
					 "price_increase", "refund=refunded", "revoked", "product_unavailable", "other",
					 NULL};
static const char *const pay_status[] = {"succeeded=success|successful|paid|ok", "failed=failure|declined",
					 "refunded=refund", NULL};

static const field_spec customer_fields[] = {
	{"id", "customer_id,customer", F_ID, 1, NULL},
	{"signed_up_at", "signup_at,signed_up,created_at,signup_date", F_TIME, 0, NULL},
	{"country", "", F_TEXT, 0, NULL},
	{"channel", "acquisition_channel,source", F_TEXT, 0, NULL},
	{"attrs", "attributes", F_JSON, 0, NULL},
	{NULL, NULL, 0, 0, NULL}};
static const field_spec subscription_fields[] = {
	{"id", "subscription_id", F_ID, 0, NULL},
	{"customer", "customer_id", F_ID, 1, NULL},
	{"plan", "plan_id,product", F_TEXT, 1, NULL},
	{"billing_period", "period,interval,billing_interval", F_ENUM, 1, periods},
	{"price", "amount", F_NUM, 1, NULL},
	{"currency", "", F_TEXT, 1, NULL},
	{"started_at", "start,start_date,created_at", F_TIME, 1, NULL},
	{"trial_ends_at", "trial_end,trial_ends", F_TIME, 0, NULL},
	{"current_period_end", "period_end,renews_at", F_TIME, 0, NULL},
	{"cancelled_at", "canceled_at,cancel_date", F_TIME, 0, NULL},
	{"cancel_reason", "cancellation_reason,reason", F_TEXT, 0, NULL},
	{"status", "", F_ENUM, 0, sub_status},
	{"source", "store", F_ENUM, 0, sub_sources},
	{"cause", "churn_cause,expiration_reason", F_ENUM, 0, sub_causes},
	{NULL, NULL, 0, 0, NULL}};
static const field_spec event_fields[] = {
	{"customer", "customer_id", F_ID, 1, NULL},
	{"occurred_at", "at,time,timestamp,ts", F_TIME, 1, NULL},
	{"type", "event,event_type,name", F_ID, 1, NULL},
	{"amount", "value", F_NUM, 0, NULL},
	{"id", "event_id", F_ID, 0, NULL},
	{NULL, NULL, 0, 0, NULL}};
static const field_spec payment_fields[] = {
	{"customer", "customer_id", F_ID, 1, NULL},
	{"paid_at", "at,time,timestamp,created_at", F_TIME, 1, NULL},
	{"amount", "", F_NUM, 1, NULL},
	{"currency", "", F_TEXT, 1, NULL},
	{"status", "", F_ENUM, 1, pay_status},
	{"id", "payment_id", F_ID, 0, NULL},
	{NULL, NULL, 0, 0, NULL}};
static const field_spec feedback_fields[] = {
	{"customer", "customer_id", F_ID, 1, NULL},
	{"given_at", "at,time,timestamp,created_at", F_TIME, 1, NULL},
	{"kind", "question,survey", F_ID, 1, NULL},
	{"score", "rating", F_NUM, 0, NULL},
	{"answer", "text,comment,response", F_TEXT, 0, NULL},
	{"language", "lang", F_TEXT, 0, NULL},
	{"id", "response_id,feedback_id", F_ID, 0, NULL},
	{NULL, NULL, 0, 0, NULL}};

static const field_spec rate_fields[] = {
	{"date", "valid_from,from,at,day", F_TIME, 1, NULL},
	{"currency", "", F_TEXT, 1, NULL},
	{"rate", "", F_NUM, 1, NULL},
	{NULL, NULL, 0, 0, NULL}};

static const field_spec *const kind_fields[TN_KIND_COUNT] = {customer_fields, subscription_fields, event_fields,
							     payment_fields, feedback_fields, rate_fields};
static const char *const kind_names[TN_KIND_COUNT] = {"customers", "subscriptions", "events", "payments",
						      "feedback", "rates"};

int tn_kind_parse(const char *name)
{
	for (int k = 0; k < TN_KIND_COUNT; k++) {
		size_t n = strlen(kind_names[k]);
		/* accept the singular too ("customer", "event") */
		if (strcmp(name, kind_names[k]) == 0 ||
		    (strncmp(name, kind_names[k], n - 1) == 0 && name[n - 1] == '\0'))
			return k;
	}
	return -1;
}

const char *tn_kind_name(tn_kind kind) { return kind_names[kind]; }

/* ---- the import session ---------------------------------------------------- */

typedef struct raw_value {
	const char *s; /* NULL: absent or null */
	size_t len;
	long col;      /* 1-based column for messages */
	long line;
} raw_value;

/* Events without an id go to the store on a second thread (see "the writer
 * thread" below): the rows are collected here, PIPE_BATCH at a time. */
typedef struct ev_keys {
	int64_t cid;
	tn_time at;
	int64_t tid;
	double amount;
} ev_keys;

#define PIPE_BATCH 32768
#define TYPE_CACHE 32

typedef struct ev_pipe {
	tn_store *store;
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ev_keys *fill, *work; /* the main thread fills FILL; the writer writes WORK */
	size_t nfill, nwork;
	int busy;             /* WORK holds a batch not yet written */
	int stop;
	int rc;               /* the writer's first error (it writes nothing after) */
	tn_error err;
} ev_pipe;

typedef struct session {
	tn_store *store;
	const tn_import_opts *o;
	const char *path;
	tn_import_result *res;
	tn_error *err;          /* the caller's: first error */
	const field_spec *spec;
	size_t nspec;
	/* CSV: csv column index of each spec field (-1 absent) */
	long col_of[MAX_FIELDS];
	/* CSV: extra columns (customers: -> attrs) */
	int *extra;
	size_t nextra;
	char **header;
	size_t nheader;
	/* JSONL: key names (after --map) of each spec field */
	const char *key_of[MAX_FIELDS];
	/* rejects */
	FILE *rejects;
	/* errors */
	size_t nerrors, max_errors;
	int failed;             /* a row was bad and there is no rejects file */
	char reason[TN_ERROR_MSG_MAX]; /* why the current row is rejected */
	/* scratch */
	char *conv[MAX_FIELDS]; /* owned converted strings (JSON numbers, attrs) */
	const char *cur_line;   /* JSONL: the current line (for key positions) */
	int64_t cust_key;       /* the current row's customer key (from check_row) */
	char last_type[64];     /* events: the previous row's type and its key */
	int64_t last_type_key;
	/* events: the types met so far (the store's map is the writer's to use) */
	char type_name[TYPE_CACHE][64];
	int64_t type_key[TYPE_CACHE];
	size_t ntypes;
	ev_pipe *pipe;          /* NULL: events are written on this thread */
	tn_stmt *seen, *seen_line; /* records' keys seen in this file, with their line */
	/* PostgreSQL: the keys not yet in tn_import_seen (COPY text), and a
	 * Bloom filter of every key seen (seen_pg) */
	unsigned char *bloom;
	char *spend;
	size_t spend_len, spend_cap, spend_rows;
	int spend_init;
	int bare;               /* row API: messages without FILE:LINE:COLUMN */
	const char *field;      /* the spec field the last row error names, or NULL */
	/* customers through a cluster coordinator: rows kept (copied) for one
	 * set-based write per CUST_BATCH (tn_store_put_customers) */
	int cbatch;
	tn_customer_rec *cbuf;
	long *cline;
	size_t ncbuf;
	/* subscriptions the same way (sbatch), with the keys of the rows kept
	 * (so that a row matching another of the batch waits for the next) */
	int sbatch;
	tn_subscription_rec *sbuf;
	tn_strmap *skeys;
	/* spec_index's answers, by the name's address: the row macros (TXT,
	 * NUM, ...) ask with the same literals on every row -- on events a dozen
	 * strcmp a row, 7% of the import's instructions */
	const char *idx_name[32];
	int idx_of[32];
	/* events from a pipe (size unknown): the bytes read so far, and the
	 * size the store's page cache was last raised for (see pipe_send) */
	long long read_bytes, cache_for;
	int size_unknown;
} session;

#define CUST_BATCH 2000

static void drop_customers(session *ss)
{
	for (size_t i = 0; i < ss->ncbuf; i++) {
		free((char *)ss->cbuf[i].id);
		free((char *)ss->cbuf[i].country);
		free((char *)ss->cbuf[i].channel);
		free((char *)ss->cbuf[i].attrs_json);
	}
	ss->ncbuf = 0;
}

static void drop_subscriptions(session *ss)
{
	for (size_t i = 0; i < ss->ncbuf && ss->sbuf; i++) {
		tn_subscription_rec *c = &ss->sbuf[i];
		free((char *)c->id);
		free((char *)c->customer);
		free((char *)c->plan);
		free((char *)c->billing_period);
		free((char *)c->currency);
		free((char *)c->cancel_reason);
		free((char *)c->status);
	}
	ss->ncbuf = 0;
	tn_strmap_free(ss->skeys);
	ss->skeys = NULL;
}

static char *dup_or_null(const char *v, int *bad)
{
	char *c = v ? tn_strdup(v) : NULL;
	if (v && !c)
		*bad = 1;
	return c;
}

/* Keep R (line LINE) for the next batch. */
static int keep_customer(session *ss, const tn_customer_rec *r, long line, tn_error *err)
{
	if (!ss->cbuf && (!(ss->cbuf = tn_calloc(CUST_BATCH, sizeof *ss->cbuf)) ||
			  !(ss->cline = tn_calloc(CUST_BATCH, sizeof *ss->cline))))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int bad = 0;
	tn_customer_rec *c = &ss->cbuf[ss->ncbuf];
	*c = *r;
	c->id = dup_or_null(r->id, &bad);
	c->country = dup_or_null(r->country, &bad);
	c->channel = dup_or_null(r->channel, &bad);
	c->attrs_json = dup_or_null(r->attrs_json, &bad);
	ss->cline[ss->ncbuf++] = line;
	return bad ? tn_error_set(err, TN_ERR_NOMEM, "out of memory") : TN_OK;
}

/* The batch's keys of subscription R: by id, and by (customer,
 * started_at, plan). */
static int sub_keys(const tn_subscription_rec *r, char *k1, size_t n1, char *k2, size_t n2)
{
	int a = snprintf(k1, n1, "i%s", r->id ? r->id : "");
	int b = snprintf(k2, n2, "k%s%c%lld%c%s", r->customer, 0x1F, (long long)r->started_at, 0x1F, r->plan);
	return a < 0 || (size_t)a >= n1 || b < 0 || (size_t)b >= n2 ? -1 : 0;
}

/* Is a row of the batch matched by R's keys (then the batch goes first)? */
static int sub_collides(session *ss, const tn_subscription_rec *r)
{
	char k1[600], k2[1200];
	if (!ss->skeys || sub_keys(r, k1, sizeof k1, k2, sizeof k2) || tn_strmap_find(ss->skeys, "!") != TN_STRMAP_NONE)
		return ss->skeys != NULL; /* keys too long to keep: such a row is alone in its batch */
	return (r->id && tn_strmap_find(ss->skeys, k1) != TN_STRMAP_NONE) ||
	       tn_strmap_find(ss->skeys, k2) != TN_STRMAP_NONE;
}

static int keep_subscription(session *ss, const tn_subscription_rec *r, long line, tn_error *err)
{
	if (!ss->sbuf && (!(ss->sbuf = tn_calloc(CUST_BATCH, sizeof *ss->sbuf)) ||
			  !(ss->cline = tn_calloc(CUST_BATCH, sizeof *ss->cline))))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	char k1[600], k2[1200];
	size_t idx;
	if (!ss->skeys && !(ss->skeys = tn_strmap_new()))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int fit = sub_keys(r, k1, sizeof k1, k2, sizeof k2) == 0;
	if ((!fit && tn_strmap_add(ss->skeys, "!", &idx) < 0) ||
	    (fit && ((r->id && tn_strmap_add(ss->skeys, k1, &idx) < 0) || tn_strmap_add(ss->skeys, k2, &idx) < 0)))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int bad = 0;
	tn_subscription_rec *c = &ss->sbuf[ss->ncbuf];
	*c = *r;
	c->id = dup_or_null(r->id, &bad);
	c->customer = dup_or_null(r->customer, &bad);
	c->plan = dup_or_null(r->plan, &bad);
	c->billing_period = dup_or_null(r->billing_period, &bad);
	c->currency = dup_or_null(r->currency, &bad);
	c->cancel_reason = dup_or_null(r->cancel_reason, &bad);
	c->status = dup_or_null(r->status, &bad);
	ss->cline[ss->ncbuf++] = line;
	return bad ? tn_error_set(err, TN_ERR_NOMEM, "out of memory") : TN_OK;
}

/* Write the kept customers and count their outcomes; an error names the
 * batch's lines (the store refused the set: nothing of it is written, and
 * the import rolls back). */
static int flush_customers(session *ss)
{
	if (ss->ncbuf == 0)
		return TN_OK;
	tn_error werr = {0};
	int *out = tn_calloc(ss->ncbuf, sizeof *out);
	int rc = !out	     ? tn_error_set(&werr, TN_ERR_NOMEM, "out of memory")
		 : ss->sbatch ? tn_store_put_subscriptions(ss->store, ss->sbuf, ss->ncbuf, out, &werr)
			      : tn_store_put_customers(ss->store, ss->cbuf, ss->ncbuf, out, &werr);
	if (rc == TN_OK) {
		for (size_t i = 0; i < ss->ncbuf; i++) {
			if (out[i] == TN_PUT_ADDED)
				ss->res->added++;
			else if (out[i] == TN_PUT_UPDATED)
				ss->res->updated++;
			else if (out[i] == TN_PUT_UNCHANGED)
				ss->res->unchanged++;
		}
	} else if (rc == TN_ERR_NOMEM || rc == TN_ERR_IO) {
		tn_error_set(ss->err, rc, "%s", werr.msg);
	} else {
		tn_error_set(ss->err, rc, "%s:%ld-%ld: %s", ss->path, ss->cline[0], ss->cline[ss->ncbuf - 1], werr.msg);
	}
	free(out);
	if (ss->sbatch)
		drop_subscriptions(ss);
	else
		drop_customers(ss);
	return rc;
}

static void found_text(const char *s, size_t len, char *out, size_t n)
{
	size_t k = 0;
	if (!s) {
		snprintf(out, n, "nothing");
		return;
	}
	if (len == 0) {
		snprintf(out, n, "an empty value");
		return;
	}
	out[k++] = '"';
	for (size_t i = 0; i < len && k + 6 < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i >= 60) {
			memcpy(out + k, "...", 3);
			k += 3;
			break;
		}
		if (c < 32 || c == 127) {
			k += (size_t)snprintf(out + k, n - k, "\\x%02X", c);
		} else {
			out[k++] = (char)c;
		}
	}
	out[k++] = '"';
	out[k] = '\0';
}

/* Report a bad row.  Returns 0 so callers can `return row_error(...)`. */
static int row_error(session *ss, long line, long col, const char *fmt, ...) TN_PRINTF(4, 5);
static int row_error(session *ss, long line, long col, const char *fmt, ...)
{
	char what[600], msg[TN_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (ss->bare)
		snprintf(msg, sizeof msg, "%s", what);
	else
		snprintf(msg, sizeof msg, "%s:%ld:%ld: %s", ss->path, line, col, what);
	ss->field = NULL;
	for (size_t f = 0; f < ss->nspec; f++) {
		size_t n = strlen(ss->spec[f].name);
		if (strncmp(what, ss->spec[f].name, n) == 0 && what[n] == ':')
			ss->field = ss->spec[f].name;
	}
	ss->res->rejected++;
	if (ss->rejects) {
		/* the reason travels with the row into the rejects file */
		snprintf(ss->reason, sizeof ss->reason, "%s", msg);
		return 0;
	}
	ss->failed = 1;
	tn_error_set(ss->err, TN_ERR_INPUT, "%s", msg);
	if (ss->nerrors < ss->max_errors && ss->o->on_error)
		ss->o->on_error(ss->o->ud, msg);
	ss->nerrors++;
	return 0;
}

/* Out of memory: the import stops (nothing is committed).  Returns -1, the
 * row functions' "stop" value. */
static int oom(session *ss)
{
	tn_error_set(ss->err, TN_ERR_NOMEM, "%s: out of memory importing", ss->path);
	return -1;
}

/* cJSON_Parse, telling out-of-memory (-1) from bad JSON (*out NULL, 0). */
static int json_parse(const char *text, size_t len, cJSON **out)
{
	unsigned long failed = tn_alloc_failed_count();
	*out = cJSON_ParseWithLength(text, len);
	return !*out && tn_alloc_failed_count() != failed ? -1 : 0;
}

/* Canonical value of an enum, or NULL. */
static const char *enum_value(const char *const *choices, const char *s, size_t len, char *buf, size_t n)
{
	if (len >= n)
		return NULL;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[len] = '\0';
	for (const char *const *c = choices; *c; c++) {
		const char *eq = strchr(*c, '=');
		size_t cn = eq ? (size_t)(eq - *c) : strlen(*c);
		if (cn == len && memcmp(*c, buf, len) == 0)
			return *c;
		if (!eq)
			continue;
		const char *a = eq + 1;
		while (*a) {
			const char *bar = strchr(a, '|');
			size_t an = bar ? (size_t)(bar - a) : strlen(a);
			if (an == len && memcmp(a, buf, len) == 0)
				return *c;
			if (!bar)
				break;
			a = bar + 1;
		}
	}
	return NULL;
}

static void enum_expected(const char *const *choices, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (const char *const *c = choices; *c && k + 4 < n; c++) {
		const char *eq = strchr(*c, '=');
		int cn = eq ? (int)(eq - *c) : (int)strlen(*c);
		k += (size_t)snprintf(buf + k, n - k, "%s%.*s", c == choices ? "" : (c[1] ? ", " : " or "), cn, *c);
	}
}

static inline int spec_index(session *ss, const char *name);

/* A validated row: typed values of each spec field. */
typedef struct typed_row {
	char *text[MAX_FIELDS]; /* NUL-terminated copies (or NULL) */
	tn_time time[MAX_FIELDS];
	double num[MAX_FIELDS];
	char enum_buf[MAX_FIELDS][24];
} typed_row;

/* Check one row's raw values; fill T.  Returns 1 when the row is good. */
/* Whether the LEN bytes at S are all ASCII other than NUL (1..0x7F): then
 * they hold no NUL and are valid UTF-8, and check_row skips both checks
 * (a memchr and a validator's call a field: ~60 instructions of a short
 * field's ~80).  Eight bytes a step: a byte is outside 1..0x7F exactly when
 * it has its high bit set, or is zero and so borrows in the subtraction
 * (the lowest such byte always shows). */
static inline int plain_ascii(const char *s, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (((w - ones) | w) & highs)
			return 0;
	}
	for (; i < len; i++)
		if ((unsigned char)(s[i] - 1) >= 0x7F)
			return 0;
	return 1;
}

static int check_row(session *ss, raw_value *v, typed_row *t, long line)
{
	for (size_t f = 0; f < ss->nspec; f++) {
		const field_spec *fs = &ss->spec[f];
		raw_value *rv = &v[f];
		t->text[f] = NULL;
		t->time[f] = TN_NO_TIME;
		t->num[f] = NAN;
		size_t len = rv->len;
		const char *s = rv->s;
		int blank = !s || len == 0;
		if (s && fs->type != F_TEXT && fs->type != F_JSON) {
			/* surrounding spaces are not part of ids, times, numbers */
			while (len && (*s == ' ' || *s == '\t'))
				s++, len--;
			while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
				len--;
			blank = len == 0;
		}
		long col = rv->col > 0 ? rv->col : 1;
		char found[128];
		if (blank) {
			if (fs->required) {
				found_text(rv->s, rv->s ? rv->len : 0, found, sizeof found);
				return row_error(ss, rv->line ? rv->line : line, col, "%s: expected a value, found %s",
						 fs->name, found);
			}
			continue;
		}
		if (!plain_ascii(s, len)) {
			size_t bad;
			const char *nul = memchr(s, '\0', len);
			if (nul)
				return row_error(ss, rv->line ? rv->line : line, col,
						 "%s: expected text without NUL bytes, found a NUL byte at byte %zu of the value",
						 fs->name, (size_t)(nul - s) + 1);
			if (!tn_utf8_valid(s, len, &bad))
				return row_error(ss, rv->line ? rv->line : line, col,
						 "%s: expected UTF-8 text, found the invalid byte 0x%02X at byte %zu of the value",
						 fs->name, (unsigned char)s[bad], bad + 1);
		}
		switch (fs->type) {
		case F_ID:
		case F_TEXT:
			break;
		case F_JSON: {
			cJSON *j = cJSON_ParseWithLength(s, len);
			int okobj = cJSON_IsObject(j);
			cJSON_Delete(j);
			if (!okobj) {
				found_text(s, len, found, sizeof found);
				return row_error(ss, rv->line ? rv->line : line, col, "%s: expected a JSON object, found %s",
						 fs->name, found);
			}
			break;
		}
		case F_TIME:
			if (tn_time_parse(s, len, &t->time[f])) {
				found_text(s, len, found, sizeof found);
				return row_error(ss, rv->line ? rv->line : line, col,
						 "%s: expected an ISO-8601 time (2024-03-01T09:30:00Z), a date "
						 "(2024-03-01) or Unix seconds, found %s",
						 fs->name, found);
			}
			continue;
		case F_NUM:
			if (tn_parse_double(s, len, &t->num[f])) {
				found_text(s, len, found, sizeof found);
				return row_error(ss, rv->line ? rv->line : line, col, "%s: expected a number, found %s",
						 fs->name, found);
			}
			continue;
		case F_ENUM: {
			const char *c = enum_value(fs->choices, s, len, t->enum_buf[f], sizeof t->enum_buf[f]);
			if (!c) {
				char exp[200];
				enum_expected(fs->choices, exp, sizeof exp);
				found_text(s, len, found, sizeof found);
				return row_error(ss, rv->line ? rv->line : line, col, "%s: expected %s, found %s",
						 fs->name, exp, found);
			}
			const char *eq = strchr(c, '=');
			size_t cn = eq ? (size_t)(eq - c) : strlen(c);
			memcpy(t->enum_buf[f], c, cn);
			t->enum_buf[f][cn] = '\0';
			t->text[f] = t->enum_buf[f];
			continue;
		}
		}
		/* texts: a NUL-terminated view (CSV fields already are; JSON strings too) */
		t->text[f] = (char *)s;
		if (s[len] != '\0') {
			/* trimmed id: copy */
			free(ss->conv[f]);
			ss->conv[f] = tn_malloc(len + 1);
			if (!ss->conv[f])
				return oom(ss);
			memcpy(ss->conv[f], s, len);
			ss->conv[f][len] = '\0';
			t->text[f] = ss->conv[f];
		}
	}
	/* every kind but customers refers to a customer that must exist; checked
	 * here so that all such rows are listed, not only those before the first
	 * error */
	int cf = ss->o->kind == TN_KIND_CUSTOMERS ? -1 : spec_index(ss, "customer");
	if (cf >= 0) {
		int64_t key;
		/* cleared, not zeroed: "= {0}" writes all 1,028 bytes, a row (with
		 * write_row's werr, 8% of a PostgreSQL import's instructions) */
		tn_error kerr;
		tn_error_clear(&kerr);
		int krc = tn_store_customer_key(ss->store, t->text[cf], &key, &kerr);
		if (krc && krc != TN_ERR_NOTFOUND) { /* the store, not the row: stop */
			tn_error_set(ss->err, krc, "%s:%ld: %s", ss->path, line, kerr.msg);
			return -1;
		}
		if (krc)
			return row_error(ss, v[cf].line ? v[cf].line : line, v[cf].col > 0 ? v[cf].col : 1,
					 "customer: %s", kerr.msg);
		ss->cust_key = key;
	}
	return 1;
}

/* The spec field called NAME, or -1.  A string's address stands for its
 * text (a literal never changes), so the answer for an address is kept, in
 * an open-addressing table of 32 (a kind asks with fewer than 20 names):
 * the row macros below ask with the same literals on every row.  The look-up
 * is inline, the search and the table's filling are not (a call that saves
 * registers for the search cost as much as the look-up). */
static int spec_search(session *ss, const char *name, size_t h)
{
	int k = -1;
	for (size_t f = 0; f < ss->nspec && k < 0; f++)
		if (strcmp(ss->spec[f].name, name) == 0)
			k = (int)f;
	for (size_t tries = 0; tries < 32; tries++, h = (h + 1) & 31)
		if (!ss->idx_name[h]) {
			ss->idx_name[h] = name;
			ss->idx_of[h] = k;
			break;
		}
	return k;
}

static inline int spec_index(session *ss, const char *name)
{
	uintptr_t a = (uintptr_t)name;
	size_t h0 = (size_t)((a ^ a >> 5 ^ a >> 11) & 31), h = h0;
	for (size_t tries = 0; tries < 32 && ss->idx_name[h]; tries++, h = (h + 1) & 31)
		if (ss->idx_name[h] == name)
			return ss->idx_of[h];
	return spec_search(ss, name, h0);
}

#define TXT(name) (t->text[spec_index(ss, name)])
#define TIM(name) (t->time[spec_index(ss, name)])
#define NUM(name) (t->num[spec_index(ss, name)])
#define COL(name) (v[spec_index(ss, name)].col)

/* On PostgreSQL one INSERT per row into tn_import_seen made every import a
 * round trip per row (about 1 ms each on a loaded machine: 600 customers/s).
 * There the keys are kept in a Bloom filter of fixed size (16 MiB, 4 probes:
 * under 1% false positives up to about 10 million keys) and copied into the
 * table by COPY in batches; only a key the filter may have seen (a repeat, or
 * a false positive) is looked up in the table, after the pending batch is
 * written, by the exact path.  Returns 0 when the key is certainly new (it is
 * recorded), 1 when it must be looked up, -1 on failure (ss->err). */
#define SEEN_BLOOM_BITS (1u << 27)
#define SEEN_BATCH 16384

static uint64_t seen_mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15u;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
	return x ^ (x >> 31);
}

static int pipe_send(session *ss, long line, int wait);

static int seen_pg_flush(session *ss, long line)
{
	if (!ss->spend_rows)
		return 0;
	if (ss->pipe && pipe_send(ss, line, 1) < 0)
		return -1; /* the store is this thread's again */
	int rc = TN_OK;
	if (!ss->spend_init) { /* the first batch: a table of this file's keys only */
		rc = tn_store_exec(ss->store, "CREATE TEMP TABLE IF NOT EXISTS tn_import_seen(key BYTEA PRIMARY KEY, "
					      "line BIGINT); DELETE FROM tn_import_seen", ss->err);
		ss->spend_init = 1;
	}
	tn_pg *pg = tn_store_pg(ss->store);
	if (!rc)
		rc = tn_pg_copy_begin(pg, "COPY tn_import_seen(key, line) FROM STDIN", ss->err);
	if (!rc) {
		int prc = tn_pg_copy_put(pg, ss->spend, ss->spend_len, ss->err);
		rc = tn_pg_copy_end(pg, NULL, prc ? NULL : ss->err);
		if (prc)
			rc = prc;
	}
	ss->spend_len = ss->spend_rows = 0;
	return rc ? -1 : 0;
}

static int seen_pg(session *ss, const char *key, size_t klen, long line)
{
	if (!ss->bloom && !(ss->bloom = tn_calloc(SEEN_BLOOM_BITS / 8, 1)))
		return oom(ss);
	uint64_t h = 0xCBF29CE484222325u;
	for (size_t i = 0; i < klen; i++)
		h = (h ^ (unsigned char)key[i]) * 0x100000001B3u;
	uint64_t h1 = seen_mix(h), h2 = seen_mix(h1) | 1;
	int all = 1;
	for (int k = 0; k < 4; k++) {
		uint32_t b = (uint32_t)((h1 + (uint64_t)k * h2) & (SEEN_BLOOM_BITS - 1));
		if (!(ss->bloom[b >> 3] & (1u << (b & 7)))) {
			all = 0;
			ss->bloom[b >> 3] |= (unsigned char)(1u << (b & 7));
		}
	}
	if (all) /* perhaps seen: the table must hold every key before the look-up */
		return seen_pg_flush(ss, line) < 0 ? -1 : 1;
	size_t need = 4 + 2 * klen + 24;
	if (ss->spend_len + need > ss->spend_cap) {
		size_t cap = ss->spend_cap ? ss->spend_cap : 1 << 20;
		while (ss->spend_len + need > cap)
			cap *= 2;
		char *nb = tn_realloc(ss->spend, cap);
		if (!nb)
			return oom(ss);
		ss->spend = nb;
		ss->spend_cap = cap;
	}
	static const char hex[] = "0123456789abcdef";
	char *p = ss->spend + ss->spend_len;
	*p++ = '\\';
	*p++ = '\\';
	*p++ = 'x';
	for (size_t i = 0; i < klen; i++) {
		*p++ = hex[(unsigned char)key[i] >> 4];
		*p++ = hex[(unsigned char)key[i] & 15];
	}
	p += snprintf(p, 24, "\t%ld\n", line);
	ss->spend_len = (size_t)(p - ss->spend);
	if (++ss->spend_rows >= SEEN_BATCH && seen_pg_flush(ss, line) < 0)
		return -1;
	return 0;
}

static void seen_pg_free(session *ss)
{
	free(ss->bloom);
	free(ss->spend);
	ss->bloom = NULL;
	ss->spend = NULL;
	ss->spend_len = ss->spend_cap = ss->spend_rows = 0;
	ss->spend_init = 0;
}

/* A record may appear once per file: the same key twice (the later row would
 * silently win, or be stored twice) is an error naming both lines.  The key is
 * the record's id when given, else the key the store matches it on
 * (docs/import.md, "Idempotence"); events without an id are not checked.
 * The keys live in a temporary SQLite table (memory does not grow with a big
 * file).  Returns 1 when the record is new in this file, 0 for a repeated
 * record (a row error), -1 when out of memory or the store failed (ss->err). */
static int seen_once(session *ss, raw_value *v, typed_row *t, long line)
{
	char buf[96];
	int has_id = spec_index(ss, "id") >= 0;
	const char *idv = has_id ? TXT("id") : NULL, *what = "id";
	long col = idv ? COL("id") : ss->o->kind == TN_KIND_RATES ? COL("currency") : COL("customer");
	size_t klen;
	char *key;
	if (idv) {
		klen = strlen(idv) + 1;
		key = tn_malloc(klen + 1);
		if (key) {
			key[0] = 'i';
			memcpy(key + 1, idv, klen);
		}
	} else if (ss->o->kind == TN_KIND_RATES) {
		what = "(currency, date)";
		klen = 40;
		key = tn_malloc(klen);
		if (key)
			klen = (size_t)snprintf(key, klen, "r%s%c%lld", TXT("currency"), 0x1F, (long long)TIM("date"));
	} else {
		const char *f2 = ss->o->kind == TN_KIND_SUBSCRIPTIONS ? "started_at"
				 : ss->o->kind == TN_KIND_PAYMENTS    ? "paid_at"
								      : "given_at";
		const char *f3 = ss->o->kind == TN_KIND_SUBSCRIPTIONS ? "plan"
				 : ss->o->kind == TN_KIND_PAYMENTS    ? "status"
								      : "kind";
		snprintf(buf, sizeof buf, "(customer, %s, %s)", f2, f3);
		what = buf;
		const char *cust = TXT("customer"), *third = TXT(f3);
		klen = strlen(cust) + strlen(third) + 40;
		key = tn_malloc(klen);
		if (key)
			klen = (size_t)snprintf(key, klen, "k%s%c%lld%c%s", cust, 0x1F, (long long)TIM(f2), 0x1F, third);
	}
	if (!key)
		return oom(ss);
	int rc = TN_OK;
	int pg = tn_db_engine(ss->store) == TN_DB_POSTGRES;
	/* (a file: the server's row API keeps the exact look-up per row, its
	 * requests being small) */
	if (pg && !ss->bare) {
		int maybe = seen_pg(ss, key, klen, line);
		if (maybe <= 0) {
			free(key);
			return maybe < 0 ? -1 : 1;
		}
	}
	if (!ss->seen) {
		rc = tn_store_exec(ss->store,
				   pg && ss->spend_init /* made and emptied by seen_pg_flush, which ran first */
					   ? "CREATE TEMP TABLE IF NOT EXISTS tn_import_seen(key BYTEA PRIMARY KEY, line BIGINT)"
				   : pg ? "CREATE TEMP TABLE IF NOT EXISTS tn_import_seen(key BYTEA PRIMARY KEY, line BIGINT); "
					  "DELETE FROM tn_import_seen"
					   : "CREATE TEMP TABLE IF NOT EXISTS tn_import_seen(key BLOB PRIMARY KEY, line INTEGER) "
					     "WITHOUT ROWID; DELETE FROM temp.tn_import_seen",
				   ss->err);
		if (rc == TN_OK && !(ss->seen = tn_db_prepare(ss->store, "INSERT INTO tn_import_seen(key, line) "
						       "VALUES(?1, ?2) ON CONFLICT DO NOTHING", ss->err)))
			rc = tn_error_code(ss->err, TN_ERR_DB);
		if (rc == TN_OK &&
		    !(ss->seen_line = tn_db_prepare(ss->store, "SELECT line FROM tn_import_seen WHERE key = ?1", ss->err)))
			rc = tn_error_code(ss->err, TN_ERR_DB);
	}
	long first = line;
	if (rc == TN_OK) {
		tn_db_bind_blob(ss->seen, 1, key, (int)klen);
		tn_db_bind_int64(ss->seen, 2, line);
		rc = tn_db_step(ss->seen, "remembering the file's keys", ss->err);
		long long changes = tn_db_changes(ss->store);
		tn_db_reset(ss->seen);
		if (rc == TN_DB_DONE)
			rc = TN_OK;
		if (rc == TN_OK && changes == 0) {
			/* seen before: on which line? (only on the error path) */
			tn_db_bind_blob(ss->seen_line, 1, key, (int)klen);
			rc = tn_db_step(ss->seen_line, "remembering the file's keys", ss->err);
			if (rc == TN_DB_ROW) {
				first = (long)tn_db_column_int64(ss->seen_line, 0);
				rc = TN_OK;
			} else if (rc == TN_DB_DONE) {
				rc = TN_OK;
			}
			tn_db_reset(ss->seen_line);
		}
	}
	free(key);
	if (rc != TN_OK) {
		if (rc == TN_ERR_NOMEM)
			return oom(ss);
		return -1;
	}
	if (first == line)
		return 1;
	char found[128];
	const char *named = idv ? idv : ss->o->kind == TN_KIND_RATES ? TXT("currency") : TXT("customer");
	found_text(named, strlen(named), found, sizeof found);
	return row_error(ss, line, col,
			 "%s: expected each %s once in a file, found %s%s again (first on line %ld, again on line %ld)",
			 what, idv ? (ss->o->kind == TN_KIND_CUSTOMERS ? "customer id" : "record id") : "record",
			 idv ? "" : ss->o->kind == TN_KIND_RATES ? "currency " : "customer ", found, first, line);
}

static int currency_ok(session *ss, raw_value *v, typed_row *t, long line)
{
	const char *cur = TXT("currency");
	if (tn_currency_code_ok(cur))
		return 1;
	char found[128];
	found_text(cur, strlen(cur), found, sizeof found);
	return row_error(ss, line, COL("currency"),
			 "currency: expected a three-letter ISO 4217 code (USD, EUR, SAR, IRR), found %s", found);
}

/* Kind-specific checks and the write.  Returns 1 when written. */
/* ---- the writer thread ----------------------------------------------------------
 * Importing events splits in two halves of about the same cost: reading and
 * checking the rows (CSV, times, the customer key) and writing them (the
 * store sorts each buffer by key and inserts it into the WITHOUT ROWID
 * table).  So the rows checked on this thread are handed, PIPE_BATCH at a
 * time, to a writer thread that calls tn_store_put_event_keys for them in
 * the same order -- the same calls in the same order as on one thread, hence
 * the same flushes and the same database.  Nothing else touches the store
 * while the writer has a batch: before any other store call the main thread
 * hands over what it holds and waits (pipe_drain).  The writer's first error
 * stops it; the main thread reports it at the next hand-over or at the end,
 * and the import's transaction is rolled back as for any write error. */

static void pipe_write(ev_pipe *p, const ev_keys *k, size_t n)
{
	for (size_t i = 0; i < n && p->rc == TN_OK; i++)
		p->rc = tn_store_put_event_keys(p->store, k[i].cid, k[i].at, k[i].tid, k[i].amount, &p->err);
}

static void *pipe_main(void *arg)
{
	ev_pipe *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->busy && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->busy)
			break; /* stopped with nothing left */
		pthread_mutex_unlock(&p->mu);
		pipe_write(p, p->work, p->nwork);
		pthread_mutex_lock(&p->mu);
		p->busy = 0;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static ev_pipe *pipe_new(tn_store *store)
{
	ev_pipe *p = tn_calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->store = store;
	p->fill = tn_malloc(PIPE_BATCH * sizeof *p->fill);
	p->work = tn_malloc(PIPE_BATCH * sizeof *p->work);
	if (!p->fill || !p->work || pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p->fill);
		free(p->work);
		free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		free(p->fill);
		free(p->work);
		free(p);
		return NULL;
	}
	return p;
}

/* The writer's error as the session's (-1), or 1. */
static int pipe_status(session *ss, long line)
{
	ev_pipe *p = ss->pipe;
	if (p->rc == TN_OK)
		return 1;
	if (p->rc == TN_ERR_IO)
		tn_error_set(ss->err, p->rc, "%s", p->err.msg);
	else
		tn_error_set(ss->err, p->rc, "%s:%ld: %s", ss->path, line, p->err.msg);
	return -1;
}

/* Hand the rows collected to the writer (after it finished the last batch);
 * WAIT: also wait until it has written them.  1, or -1 on its error. */
static int pipe_send(session *ss, long line, int wait)
{
	ev_pipe *p = ss->pipe;
	if (!p->started) {
		if (p->nfill && p->rc == TN_OK) {
			if (pthread_create(&p->th, NULL, pipe_main, p) == 0) {
				p->started = 1;
			} else { /* no thread: write here */
				pipe_write(p, p->fill, p->nfill);
				p->nfill = 0;
			}
		}
		if (!p->started)
			return pipe_status(ss, line);
	}
	pthread_mutex_lock(&p->mu);
	while (p->busy)
		pthread_cond_wait(&p->cv, &p->mu);
	/* Input of unknown size (a pipe): the page cache grows with what has
	 * been read, as a file's is sized from its length at the start
	 * (tn_store_bulk_size), doubling at most -- so 100M events streamed
	 * into SQLite do not go through the writer's 64 MiB cache once the
	 * events key outgrows it.  Here the writer is idle: nothing else
	 * touches the store. */
	if (ss->size_unknown && ss->read_bytes >= 2 * ss->cache_for) {
		tn_store_bulk_size(ss->store, ss->read_bytes);
		ss->cache_for = ss->read_bytes;
	}
	if (p->nfill && p->rc == TN_OK) {
		ev_keys *t = p->work;
		p->work = p->fill;
		p->fill = t;
		p->nwork = p->nfill;
		p->busy = 1;
		pthread_cond_broadcast(&p->cv);
		while (wait && p->busy)
			pthread_cond_wait(&p->cv, &p->mu);
	}
	p->nfill = 0;
	pthread_mutex_unlock(&p->mu);
	return pipe_status(ss, line);
}

/* Stop the writer; WRITE: after writing what is collected.  TN_OK or the
 * writer's error (set in the session's err). */
static int pipe_finish(session *ss, int write)
{
	ev_pipe *p = ss->pipe;
	if (!p)
		return TN_OK;
	int rc = TN_OK;
	if (write && pipe_send(ss, 0, 1) < 0)
		rc = ss->err->code ? ss->err->code : TN_ERR_DB;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->fill);
	free(p->work);
	free(p);
	ss->pipe = NULL;
	return rc;
}

/* The store's key of event type NAME (shorter than 64 bytes), remembered
 * here so that the store's own map is asked (on this thread, the writer
 * idle) only for a type not met before. */
static int type_key(session *ss, const char *name, int64_t *key, long line, tn_error *werr)
{
	for (size_t i = 0; i < ss->ntypes; i++)
		if (strcmp(ss->type_name[i], name) == 0) {
			*key = ss->type_key[i];
			return TN_OK;
		}
	if (ss->pipe && pipe_send(ss, line, 1) < 0)
		return -1;
	int rc = tn_store_event_type(ss->store, name, key, werr);
	if (rc == TN_OK && ss->ntypes < TYPE_CACHE) {
		snprintf(ss->type_name[ss->ntypes], sizeof ss->type_name[0], "%s", name);
		ss->type_key[ss->ntypes++] = *key;
	}
	return rc;
}

static int write_row(session *ss, raw_value *v, typed_row *t, const char *attrs, long line, int write)
{
	tn_error werr; /* cleared, not zeroed: see check_row's kerr */
	tn_error_clear(&werr);
	int added = 0, rc = TN_OK, so;
	long col = 1;
	switch (ss->o->kind) {
	case TN_KIND_CUSTOMERS: {
		tn_customer_rec r = {TXT("id"), TIM("signed_up_at"), TXT("country"), TXT("channel"), attrs};
		if (!attrs && TXT("attrs"))
			r.attrs_json = TXT("attrs"); /* an object: check_row saw to it */
		if ((so = seen_once(ss, v, t, line)) <= 0)
			return so;
		if (!write)
			return 1;
		col = COL("id");
		if (ss->cbatch) {
			rc = keep_customer(ss, &r, line, &werr);
			added = -1; /* counted at the batch's write */
			if (rc == TN_OK && ss->ncbuf == CUST_BATCH && flush_customers(ss))
				return -1;
		} else {
			rc = tn_store_put_customer(ss->store, &r, &added, &werr);
		}
		break;
	}
	case TN_KIND_SUBSCRIPTIONS: {
		const char *cur = TXT("currency");
		if (!currency_ok(ss, v, t, line))
			return 0;
		if (NUM("price") < 0)
			return row_error(ss, line, COL("price"), "price: expected zero or more, found %g",
					 NUM("price"));
		tn_time start = TIM("started_at"), cancel = TIM("cancelled_at");
		if (cancel != TN_NO_TIME && cancel < start)
			return row_error(ss, line, COL("cancelled_at"),
					 "cancelled_at: expected a time on or after started_at, found one before it");
		const char *status = TXT("status");
		if (!status)
			status = cancel != TN_NO_TIME ? "cancelled" : "active";
		tn_subscription_rec r = {TXT("id"), TXT("customer"), TXT("plan"), TXT("billing_period"),
					 NUM("price"), cur, start, TIM("trial_ends_at"),
					 TIM("current_period_end"), cancel, TXT("cancel_reason"), status};
		/* source / cause: the subscription's state (docs/import.md, docs/churn.md) */
		const char *src = TXT("source"), *cause = TXT("cause");
		int ended = strcmp(status, "cancelled") == 0 || strcmp(status, "expired") == 0;
		if ((src || cause) && !r.id)
			return row_error(ss, line, COL(src ? "source" : "cause"),
					 "%s: needs the subscription's id (an id column)", src ? "source" : "cause");
		if (cause && !ended)
			return row_error(ss, line, COL("cause"),
					 "cause: only for an ended subscription (status cancelled or expired), found %s",
					 status);
		if ((so = seen_once(ss, v, t, line)) <= 0)
			return so;
		if (!write)
			return 1;
		col = r.id ? COL("id") : COL("customer");
		if (ss->sbatch && !src && !cause) {
			/* the customer is checked now, so that the row is the one refused */
			int64_t cid;
			if (sub_collides(ss, &r) && flush_customers(ss))
				return -1;
			rc = tn_store_customer_key(ss->store, r.customer, &cid, &werr);
			if (rc == TN_OK)
				rc = keep_subscription(ss, &r, line, &werr);
			added = -1; /* counted at the batch's write */
			if (rc == TN_OK && ss->ncbuf == CUST_BATCH && flush_customers(ss))
				return -1;
			break;
		}
		/* a state follows the row: the batch kept so far goes first */
		if (ss->sbatch && flush_customers(ss))
			return -1;
		rc = tn_store_put_subscription(ss->store, &r, &added, &werr);
		if (rc == TN_OK && (src || cause)) {
			tn_time cpe = TIM("current_period_end");
			tn_subscription_state st = {
				.subscription = r.id,
				.source = src ? src : "import",
				.state = ended ? "expired"
					 : strcmp(status, "trialing") == 0 ? "trial"
					 : strcmp(status, "past_due") == 0 ? "billing_retry"
									    : "active",
				.cause = cause,
				.auto_renew = ended ? 0 : -1,
				.expires_at = cpe,
				/* cancelled before the paid period's end: auto-renew off then */
				.auto_renew_off_at = cancel != TN_NO_TIME && cpe != TN_NO_TIME && cpe > cancel ? cancel
														: TN_NO_TIME,
				.updated_at = cancel != TN_NO_TIME ? cancel : cpe != TN_NO_TIME ? cpe : start};
			rc = tn_store_put_subscription_state(ss->store, &st, NULL, &werr);
		}
		break;
	}
	case TN_KIND_EVENTS: {
		tn_event_rec r = {TXT("customer"), TIM("occurred_at"), TXT("type"), NUM("amount"), TXT("id")};
		if (r.id && ss->pipe && (tn_db_engine(ss->store) != TN_DB_POSTGRES || ss->bare) && pipe_send(ss, line, 1) < 0)
			return -1; /* the store is this thread's again (seen_once) */
		if (r.id && (so = seen_once(ss, v, t, line)) <= 0)
			return so;
		if (!write)
			return 1;
		col = COL("customer");
		size_t tlen = 0;
		if (!r.id && (tlen = strlen(r.type)) < sizeof ss->last_type) {
			/* the fast path: keys known, the type usually the same as the last row's */
			if (strcmp(r.type, ss->last_type) != 0) {
				rc = type_key(ss, r.type, &ss->last_type_key, line, &werr);
				if (rc < 0)
					return -1;
				/* a copy of known length (snprintf cost 600 instructions
				 * a change of type: most rows when types interleave) */
				memcpy(ss->last_type, rc ? "" : r.type, rc ? 1 : tlen + 1);
			}
			if (rc == TN_OK && ss->pipe) {
				ev_pipe *p = ss->pipe;
				p->fill[p->nfill++] = (ev_keys){ss->cust_key, r.at, ss->last_type_key, r.amount};
				if (p->nfill == PIPE_BATCH && pipe_send(ss, line, 0) < 0)
					return -1;
			} else if (rc == TN_OK) {
				rc = tn_store_put_event_keys(ss->store, ss->cust_key, r.at, ss->last_type_key, r.amount,
							     &werr);
			}
		} else {
			if (ss->pipe && pipe_send(ss, line, 1) < 0)
				return -1;
			rc = tn_store_put_event(ss->store, &r, &werr);
		}
		added = -1; /* counted at flush */
		break;
	}
	case TN_KIND_PAYMENTS: {
		if (!currency_ok(ss, v, t, line))
			return 0;
		tn_payment_rec r = {TXT("customer"), TIM("paid_at"), NUM("amount"), TXT("currency"), TXT("status"),
				    TXT("id")};
		if ((so = seen_once(ss, v, t, line)) <= 0)
			return so;
		if (!write)
			return 1;
		col = COL("customer");
		rc = tn_store_put_payment(ss->store, &r, &added, &werr);
		break;
	}
	case TN_KIND_FEEDBACK: {
		const char *kind = TXT("kind");
		double score = NUM("score");
		struct { const char *k; double lo, hi; } ranges[] = {{"nps", 0, 10}, {"csat", 1, 5}, {"ces", 1, 7}};
		for (size_t i = 0; i < 3; i++)
			if (strcmp(kind, ranges[i].k) == 0) {
				if (isnan(score))
					return row_error(ss, line, COL("kind"),
							 "score: expected a %s score from %g to %g, found nothing", kind,
							 ranges[i].lo, ranges[i].hi);
				if (score < ranges[i].lo || score > ranges[i].hi || score != floor(score))
					return row_error(ss, line, COL("score"),
							 "score: expected a whole %s score from %g to %g, found %g", kind,
							 ranges[i].lo, ranges[i].hi, score);
			}
		tn_feedback_rec r = {TXT("customer"), TIM("given_at"), kind, score, TXT("answer"), TXT("language"),
				     TXT("id")};
		if ((so = seen_once(ss, v, t, line)) <= 0)
			return so;
		if (!write)
			return 1;
		col = COL("customer");
		rc = tn_store_put_feedback(ss->store, &r, &added, &werr);
		break;
	}
	case TN_KIND_RATES: {
		if (!currency_ok(ss, v, t, line))
			return 0;
		if (!(NUM("rate") > 0))
			return row_error(ss, line, COL("rate"),
					 "rate: expected more than 0 (units of the reporting currency per 1 %s), found %g",
					 TXT("currency"), NUM("rate"));
		if ((so = seen_once(ss, v, t, line)) <= 0)
			return so;
		if (!write)
			return 1;
		col = COL("currency");
		rc = tn_store_put_rate(ss->store, TXT("currency"), TIM("date"), NUM("rate"), &added, &werr);
		break;
	}
	default:
		break;
	}
	if (rc == TN_ERR_NOTFOUND || rc == TN_ERR_INPUT)
		return row_error(ss, line, col > 0 ? col : 1, "%s", werr.msg);
	if (rc == TN_ERR_IO) { /* the store, not the row (e.g. read-only) */
		tn_error_set(ss->err, rc, "%s", werr.msg);
		return -1;
	}
	if (rc) {
		tn_error_set(ss->err, rc, "%s:%ld: %s", ss->path, line, werr.msg);
		return -1;
	}
	if (added == TN_PUT_ADDED)
		ss->res->added++;
	else if (added == TN_PUT_UPDATED)
		ss->res->updated++;
	else if (added == TN_PUT_UNCHANGED)
		ss->res->unchanged++;
	return 1;
}

/* Resolve the header name of spec field FS: --map first, then name, then aliases. */
static const char *map_source(const tn_import_opts *o, const char *target)
{
	for (size_t i = 0; i < o->nmap; i++) {
		const char *eq = strchr(o->map[i], '=');
		if (eq && (size_t)(eq - o->map[i]) == strlen(target) && strncmp(o->map[i], target, strlen(target)) == 0)
			return eq + 1;
	}
	return NULL;
}

static int name_matches(const field_spec *fs, const char *h)
{
	if (strcmp(fs->name, h) == 0)
		return 1;
	const char *a = fs->aliases;
	size_t hn = strlen(h);
	while (a && *a) {
		const char *c = strchr(a, ',');
		size_t n = c ? (size_t)(c - a) : strlen(a);
		if (n == hn && strncmp(a, h, n) == 0)
			return 1;
		if (!c)
			break;
		a = c + 1;
	}
	return 0;
}

/* Customers: extra CSV columns become attributes (numbers stay numbers).
 * Returns 0 with *out (or NULL: no attributes), -1 when out of memory. */
static int csv_attrs(session *ss, tn_csv *r, const char *given, char **out)
{
	*out = NULL;
	if (ss->nextra == 0)
		return 0;
	cJSON *o;
	if (given ? json_parse(given, strlen(given), &o) : !(o = cJSON_CreateObject()))
		return oom(ss);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return 0; /* the attrs check reports it */
	}
	for (size_t i = 0; i < ss->nextra; i++) {
		size_t len;
		const char *v = tn_csv_field(r, (size_t)ss->extra[i], &len);
		if (len == 0 || !tn_utf8_valid(v, len, NULL))
			continue;
		double d;
		cJSON_DeleteItemFromObjectCaseSensitive(o, ss->header[ss->extra[i]]);
		cJSON *added = tn_parse_double(v, len, &d) == 0 ? cJSON_AddNumberToObject(o, ss->header[ss->extra[i]], d)
							       : cJSON_AddStringToObject(o, ss->header[ss->extra[i]], v);
		if (!added) {
			cJSON_Delete(o);
			return oom(ss);
		}
	}
	*out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return *out ? 0 : oom(ss);
}

static void progress(session *ss, long long done, long long total)
{
	ss->read_bytes = done;
	if (ss->o->on_progress)
		ss->o->on_progress(ss->o->ud, done, total);
}

static int import_csv(session *ss, long long total)
{
	tn_error rerr = {0};
	tn_csv *r = tn_csv_open(ss->path, ss->o->delimiter ? ss->o->delimiter : ',', &rerr);
	if (!r)
		return tn_error_set(ss->err, rerr.code, "%s", rerr.msg);
	int rc = tn_csv_next(r, &rerr);
	if (rc <= 0) {
		tn_csv_close(r);
		if (rc == 0)
			return tn_error_set(ss->err, TN_ERR_INPUT, "%s:1:1: expected a header line, found an empty file",
					    ss->path);
		return tn_error_set(ss->err, rerr.code, "%s", rerr.msg);
	}
	size_t nh = tn_csv_nfields(r);
	ss->header = tn_calloc(nh, sizeof *ss->header);
	ss->extra = tn_calloc(nh, sizeof *ss->extra);
	if (!ss->header || !ss->extra) {
		tn_csv_close(r);
		return tn_error_set(ss->err, TN_ERR_NOMEM, "out of memory");
	}
	ss->nheader = nh;
	for (size_t i = 0; i < nh; i++) {
		const char *h = tn_csv_field(r, i, NULL);
		if (!(ss->header[i] = tn_strdup(h))) {
			tn_csv_close(r);
			return tn_error_set(ss->err, TN_ERR_NOMEM, "out of memory");
		}
	}
	int used_by_map[4096] = {0};
	for (size_t f = 0; f < ss->nspec; f++) {
		const field_spec *fs = &ss->spec[f];
		const char *src = map_source(ss->o, fs->name);
		ss->col_of[f] = -1;
		for (size_t i = 0; i < nh; i++) {
			if (src ? strcmp(ss->header[i], src) == 0 : name_matches(fs, ss->header[i])) {
				ss->col_of[f] = (long)i;
				if (i < 4096)
					used_by_map[i] = 1;
				break;
			}
		}
		if (ss->col_of[f] < 0 && (fs->required || src)) {
			char cols[600];
			size_t used = 0;
			cols[0] = '\0';
			for (size_t i = 0; i < nh && used + 4 < sizeof cols; i++)
				used += (size_t)snprintf(cols + used, sizeof cols - used, "%s%s", i ? ", " : "",
							 ss->header[i]);
			tn_csv_close(r);
			if (src)
				return tn_error_set(ss->err, TN_ERR_USAGE,
						    "%s:1: --map %s=%s: no column \"%s\"; columns are: %s", ss->path,
						    fs->name, src, src, cols);
			return tn_error_set(ss->err, TN_ERR_INPUT,
					    "%s:1: expected a column \"%s\" for %s, found columns: %s "
					    "(rename with --map %s=YOUR_COLUMN)",
					    ss->path, fs->name, kind_names[ss->o->kind], cols, fs->name);
		}
	}
	for (size_t i = 0; i < nh && i < 4096; i++)
		if (!used_by_map[i])
			ss->extra[ss->nextra++] = (int)i;
	if (ss->rejects) {
		for (size_t i = 0; i < nh; i++) {
			tn_csv_write_field(ss->rejects, ss->header[i], strlen(ss->header[i]));
			fputc(',', ss->rejects);
		}
		fputs("error\n", ss->rejects);
	}

	raw_value v[MAX_FIELDS];
	typed_row t;
	while ((rc = tn_csv_next(r, &rerr)) == 1) {
		long line = tn_csv_line(r);
		ss->res->rows++;
		ss->reason[0] = '\0';
		int good;
		if (tn_csv_nfields(r) != nh) {
			good = row_error(ss, line, (long)(tn_csv_nfields(r) < nh ? tn_csv_nfields(r) : nh + 1),
					 "expected %zu fields as in the header, found %zu", nh, tn_csv_nfields(r));
		} else {
			for (size_t f = 0; f < ss->nspec; f++) {
				long c = ss->col_of[f];
				v[f].s = c >= 0 ? tn_csv_field(r, (size_t)c, &v[f].len) : NULL;
				if (c < 0)
					v[f].len = 0;
				v[f].col = c + 1;
				v[f].line = c >= 0 ? tn_csv_field_line(r, (size_t)c) : line;
			}
			good = check_row(ss, v, &t, line);
			if (good) {
				char *attrs = NULL;
				if (good > 0 && ss->o->kind == TN_KIND_CUSTOMERS)
					good = csv_attrs(ss, r, t.text[spec_index(ss, "attrs")], &attrs) ? -1 : 1;
				if (good > 0)
					good = write_row(ss, v, &t, attrs, line, !ss->failed);
				cJSON_free(attrs);
				if (good < 0) {
					tn_csv_close(r);
					return ss->err->code;
				}
			}
		}
		if (!good && ss->rejects) {
			for (size_t i = 0; i < tn_csv_nfields(r); i++) {
				size_t len;
				const char *fv = tn_csv_field(r, i, &len);
				tn_csv_write_field(ss->rejects, fv, len);
				fputc(',', ss->rejects);
			}
			/* a short row is padded so the rejects file keeps the header's shape */
			for (size_t i = tn_csv_nfields(r); i < nh; i++)
				fputc(',', ss->rejects);
			tn_csv_write_field(ss->rejects, ss->reason, strlen(ss->reason));
			fputc('\n', ss->rejects);
		}
		if ((ss->res->rows & 0xFFFF) == 0)
			progress(ss, tn_csv_offset(r), total);
	}
	tn_csv_close(r);
	if (rc < 0) {
		/* a broken file (unclosed quote...) cannot be resynchronised: stop */
		ss->failed = 1;
		if (ss->o->on_error && ss->nerrors < ss->max_errors)
			ss->o->on_error(ss->o->ud, rerr.msg);
		return tn_error_set(ss->err, rerr.code, "%s", rerr.msg);
	}
	return TN_OK;
}

/* Column (1-based character position) of "KEY" in the current JSON line. */
static long key_column(const char *line, const char *key)
{
	char pat[256];
	snprintf(pat, sizeof pat, "\"%s\"", key);
	const char *p = strstr(line, pat);
	return p ? (long)(p - line) + 1 : 1;
}

/* Read one line (with its newline) into *BUF; stop reading once it is longer
 * than MAX bytes, so a huge line never sits in memory (*too_long is set).
 * Returns the number of bytes read, or -1 at the end of the file. */
static ssize_t read_line(FILE *fp, char **buf, size_t *cap, size_t max, int *too_long)
{
	size_t n = 0;
	int c = EOF;
	*too_long = 0;
	while ((c = getc_unlocked(fp)) != EOF) {
		if (n + 2 > *cap) {
			size_t nc = *cap ? *cap * 2 : 4096;
			char *p = tn_realloc(*buf, nc);
			if (!p) {
				errno = ENOMEM;
				return -2;
			}
			*buf = p;
			*cap = nc;
		}
		(*buf)[n++] = (char)c;
		if (c == '\n')
			break;
		if (n > max) {
			*too_long = 1;
			break;
		}
	}
	if (n == 0)
		return -1;
	(*buf)[n] = '\0';
	return (ssize_t)n;
}

/* Column of the first escaped NUL (\u0000) in a JSON line, or 0: cJSON would
 * end the string there and cut the value short. */
static long escaped_nul(const char *line, size_t n)
{
	for (size_t i = 0; i + 6 <= n; i++) {
		if (line[i] != '\\')
			continue;
		if (line[i + 1] == 'u' && memcmp(line + i + 2, "0000", 4) == 0)
			return (long)i + 1;
		i++; /* skip the escaped character (\\ included) */
	}
	return 0;
}

/* One JSON object's fields -> raw values -> checked -> written (JSON Lines
 * rows and the server's rows).  Returns 1 written, 0 bad row, -1 out of
 * memory or a store error (in ss->err). */
static int json_row(session *ss, const cJSON *obj, long lineno, raw_value *v, typed_row *t,
		    char numbuf[][40])
{
	int good = 1;
	char *attrs = NULL;
	for (size_t f = 0; f < ss->nspec; f++) {
		cJSON *item = NULL;
		const field_spec *fs = &ss->spec[f];
		if (ss->key_of[f]) {
			item = cJSON_GetObjectItemCaseSensitive(obj, ss->key_of[f]);
		} else {
			for (cJSON *it = obj->child; it; it = it->next)
				if (it->string && name_matches(fs, it->string)) {
					item = it;
					break;
				}
		}
		v[f].s = NULL;
		v[f].len = 0;
		v[f].line = lineno;
		v[f].col = item && ss->cur_line ? key_column(ss->cur_line, item->string) : 1;
		if (!item || cJSON_IsNull(item))
			continue;
		if (cJSON_IsString(item)) {
			v[f].s = item->valuestring;
			v[f].len = strlen(item->valuestring);
		} else if (cJSON_IsNumber(item)) {
			double d = item->valuedouble;
			if (d == floor(d) && fabs(d) < 1e15)
				snprintf(numbuf[f], 40, "%.0f", d);
			else
				snprintf(numbuf[f], 40, "%.17g", d);
			v[f].s = numbuf[f];
			v[f].len = strlen(numbuf[f]);
		} else if (fs->type == F_JSON && cJSON_IsObject(item)) {
			free(ss->conv[f]);
			if (!(ss->conv[f] = cJSON_PrintUnformatted(item))) {
				good = oom(ss);
				break;
			}
			v[f].s = ss->conv[f];
			v[f].len = strlen(v[f].s);
		} else {
			good = row_error(ss, lineno, v[f].col, "%s: expected a %s, found a JSON %s", fs->name,
					 fs->type == F_JSON ? "JSON object" : "string or number",
					 cJSON_IsBool(item) ? "boolean" : cJSON_IsArray(item) ? "array" : "object");
			break;
		}
	}
	if (good > 0)
		good = check_row(ss, v, t, lineno);
	if (good > 0 && ss->o->kind == TN_KIND_CUSTOMERS) {
		/* other keys become attributes */
		cJSON *a = cJSON_CreateObject();
		const char *given = t->text[spec_index(ss, "attrs")];
		cJSON *g = NULL;
		int nomem = !a || (given && json_parse(given, strlen(given), &g));
		for (cJSON *it = g ? g->child : NULL; it && !nomem; it = it->next)
			nomem = !cJSON_AddItemToObject(a, it->string, cJSON_Duplicate(it, 1));
		for (cJSON *it = obj->child; it; it = it->next) {
			int known = 0;
			for (size_t f = 0; f < ss->nspec && !known; f++)
				known = ss->key_of[f] ? strcmp(it->string, ss->key_of[f]) == 0
						      : name_matches(&ss->spec[f], it->string);
			if (!known && !cJSON_IsNull(it) && !nomem) {
				cJSON_DeleteItemFromObjectCaseSensitive(a, it->string);
				nomem = !cJSON_AddItemToObject(a, it->string, cJSON_Duplicate(it, 1));
			}
		}
		cJSON_Delete(g);
		if (!nomem && (a->child || given))
			nomem = !(attrs = cJSON_PrintUnformatted(a));
		cJSON_Delete(a);
		if (nomem)
			good = oom(ss);
	}
	if (good > 0)
		good = write_row(ss, v, t, attrs, lineno, !ss->failed);
	cJSON_free(attrs);
	return good;
}

static int import_jsonl(session *ss, long long total)
{
	FILE *fp = strcmp(ss->path, "-") == 0 ? stdin : fopen(ss->path, "rb");
	if (!fp)
		return tn_error_set(ss->err, TN_ERR_IO, "%s: cannot open: %s", ss->path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	long long offset = 0;
	raw_value v[MAX_FIELDS];
	typed_row t;
	char numbuf[MAX_FIELDS][40];
	for (size_t f = 0; f < ss->nspec; f++) {
		const char *src = map_source(ss->o, ss->spec[f].name);
		ss->key_of[f] = src;
	}
	int rc = TN_OK, too_long;
	while ((n = read_line(fp, &line, &cap, JSONL_MAX_LINE, &too_long)) >= 0) {
		lineno++;
		offset += n;
		if (too_long) {
			rc = tn_error_set(ss->err, TN_ERR_INPUT, "%s:%ld:%u: expected a line of at most %u bytes, found a longer one",
					  ss->path, lineno, JSONL_MAX_LINE + 1, JSONL_MAX_LINE);
			ss->failed = 1;
			if (ss->o->on_error && ss->nerrors < ss->max_errors)
				ss->o->on_error(ss->o->ud, ss->err->msg);
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		ss->res->rows++;
		ss->reason[0] = '\0';
		ss->cur_line = line;
		int good = 1;
		size_t bad;
		cJSON *obj = NULL;
		if (lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
			memmove(line, line + 3, (size_t)(n -= 3) + 1);
		const char *nul = memchr(line, '\0', (size_t)n);
		long enul = nul ? 0 : escaped_nul(line, (size_t)n);
		if (nul) {
			good = row_error(ss, lineno, (long)(nul - line) + 1, "expected text without NUL bytes, found a NUL byte");
		} else if (enul) {
			good = row_error(ss, lineno, enul, "expected text without NUL characters, found \\u0000");
		} else if (!tn_utf8_valid(line, (size_t)n, &bad)) {
			good = row_error(ss, lineno, (long)bad + 1, "expected UTF-8 text, found the invalid byte 0x%02X",
					 (unsigned char)line[bad]);
		} else if (json_parse(line, (size_t)n, &obj)) {
			oom(ss);
			rc = TN_ERR_NOMEM;
			break;
		} else if (!obj || !cJSON_IsObject(obj)) {
			const char *ep = obj ? line : cJSON_GetErrorPtr();
			long col = ep && ep >= line && ep <= line + n ? (long)(ep - line) + 1 : 1;
			good = row_error(ss, lineno, col, "expected a JSON object on one line, found %s",
					 obj ? "another JSON value" : "invalid JSON");
		} else {
			good = json_row(ss, obj, lineno, v, &t, numbuf);
			if (good < 0) {
				rc = ss->err->code;
				cJSON_Delete(obj);
				break;
			}
		}
		cJSON_Delete(obj);
		if (!good && ss->rejects) {
			fputs(line, ss->rejects);
			fputc('\t', ss->rejects);
			fputs(ss->reason, ss->rejects);
			fputc('\n', ss->rejects);
		}
		if ((ss->res->rows & 0xFFFF) == 0)
			progress(ss, offset, total);
	}
	if (n == -2)
		rc = tn_error_set(ss->err, TN_ERR_NOMEM, "%s:%ld: out of memory reading a line", ss->path, lineno + 1);
	if (rc == TN_OK && ferror(fp))
		rc = tn_error_set(ss->err, TN_ERR_IO, "%s: read error: %s", ss->path, strerror(errno));
	free(line);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

static tn_input_format detect_format(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0 || strcmp(dot, ".json") == 0))
		return TN_INPUT_JSONL;
	return TN_INPUT_CSV;
}

int tn_import(tn_store *s, const char *path, const tn_import_opts *o, tn_import_result *res, tn_error *err)
{
	TN_ERROR_ENSURE(err); /* the session reads the code back (ss->err) */
	tn_alloc_hook_json(); /* so that json_parse can tell out-of-memory from bad JSON */
	memset(res, 0, sizeof *res);
	if ((int)o->kind < 0 || o->kind >= TN_KIND_COUNT)
		return tn_error_set(err, TN_ERR_USAGE, "unknown kind of record");
	for (size_t i = 0; i < o->nmap; i++)
		if (!strchr(o->map[i], '='))
			return tn_error_set(err, TN_ERR_USAGE, "--map %s: expected TARGET=SOURCE", o->map[i]);
	session ss = {.store = s, .o = o, .path = path, .res = res, .err = err};
	ss.spec = kind_fields[o->kind];
	while (ss.spec[ss.nspec].name)
		ss.nspec++;
	ss.max_errors = o->max_errors ? o->max_errors : 20;
	long long total = 0;
	struct stat st;
	if (strcmp(path, "-") != 0 && stat(path, &st) == 0)
		total = (long long)st.st_size;
	if (o->rejects_path && !(ss.rejects = fopen(o->rejects_path, "wb")))
		return tn_error_set(err, TN_ERR_IO, "%s: cannot write the rejects file: %s", o->rejects_path,
				    strerror(errno));
	tn_store_bulk(s, o->kind == TN_KIND_EVENTS);
	if (o->kind == TN_KIND_EVENTS)
		tn_store_bulk_size(s, total);
	ss.size_unknown = o->kind == TN_KIND_EVENTS && total == 0;
	ss.cache_for = 32LL << 20; /* below the writer's own 64 MiB: no raise */
	/* set-based on PostgreSQL (a coordinator, or one server): one round trip
	 * per batch instead of one or two per row */
	int pg_batch = tn_store_cluster(s) > 0 || tn_db_engine(s) == TN_DB_POSTGRES;
	ss.cbatch = o->kind == TN_KIND_CUSTOMERS && pg_batch;
	ss.sbatch = o->kind == TN_KIND_SUBSCRIPTIONS && pg_batch;
	int rc = tn_store_begin(s, err);
	if (rc == TN_OK) {
		tn_input_format fmt = o->format == TN_INPUT_AUTO ? detect_format(path) : o->format;
		/* events: written on a second thread; out of memory for its buffers
		 * is an error like any other (nothing silent) */
		if (o->kind == TN_KIND_EVENTS && !(ss.pipe = pipe_new(s)))
			rc = tn_error_set(err, TN_ERR_NOMEM, "%s: out of memory for the import's buffers", path);
		if (rc == TN_OK)
			rc = fmt == TN_INPUT_JSONL ? import_jsonl(&ss, total) : import_csv(&ss, total);
		int prc = pipe_finish(&ss, rc == TN_OK && !ss.failed);
		if (rc == TN_OK)
			rc = prc;
		if (rc == TN_OK && ss.failed)
			rc = TN_ERR_INPUT;
		if (rc == TN_OK)
			rc = flush_customers(&ss);
		if (rc == TN_OK) {
			long long ev_added = 0;
			rc = tn_store_flush(s, &ev_added, err);
			if (o->kind == TN_KIND_EVENTS) {
				res->added = ev_added;
				res->unchanged = res->rows - res->rejected - ev_added;
			}
		}
		if (rc == TN_OK)
			rc = tn_store_commit(s, err);
		if (rc == TN_OK)
			res->committed = 1;
		else
			tn_store_rollback(s);
	}
	tn_store_bulk(s, 0);
	if (ss.nerrors > ss.max_errors && o->on_error) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s: ... and %zu more errors", path, ss.nerrors - ss.max_errors);
		o->on_error(o->ud, msg);
	}
	if (ss.rejects && fclose(ss.rejects) != 0 && rc == TN_OK)
		rc = tn_error_set(err, TN_ERR_IO, "%s: cannot write the rejects file", o->rejects_path);
	for (size_t i = 0; i < ss.nheader; i++)
		free(ss.header[i]);
	free(ss.header);
	free(ss.extra);
	for (size_t f = 0; f < MAX_FIELDS; f++)
		free(ss.conv[f]);
	if (ss.sbatch)
		drop_subscriptions(&ss);
	else
		drop_customers(&ss);
	free(ss.cbuf);
	free(ss.sbuf);
	free(ss.cline);
	if (ss.seen || ss.spend_init) { /* (only when the table was made: a failed DELETE would end a transaction) */
		tn_db_finalize(ss.seen);
		tn_db_finalize(ss.seen_line);
		tn_store_exec(s, "DELETE FROM tn_import_seen", NULL);
	}
	seen_pg_free(&ss);
	return rc;
}

/* ---- one row at a time: the server's ingestion ------------------------------ */

struct tn_import_rows {
	session ss;
	tn_import_opts o;
	tn_import_result res;
	tn_error rowerr;
	long long rows_written;
};

int tn_import_rows_new(tn_store *s, tn_kind kind, tn_import_rows **out, tn_error *err)
{
	*out = NULL;
	if ((int)kind < 0 || kind >= TN_KIND_COUNT)
		return tn_error_set(err, TN_ERR_USAGE, "unknown kind of record");
	tn_import_rows *r = tn_calloc(1, sizeof *r);
	if (!r)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	r->o.kind = kind;
	r->ss = (session){.store = s, .o = &r->o, .path = "", .res = &r->res, .err = &r->rowerr, .bare = 1};
	r->ss.spec = kind_fields[kind];
	while (r->ss.spec[r->ss.nspec].name)
		r->ss.nspec++;
	r->ss.max_errors = 0;
	*out = r;
	return TN_OK;
}

int tn_import_row_json(tn_import_rows *r, const struct cJSON *obj, const char **field, tn_error *err)
{
	session *ss = &r->ss;
	raw_value v[MAX_FIELDS];
	typed_row t;
	char numbuf[MAX_FIELDS][40];
	tn_error_clear(&r->rowerr);
	ss->field = NULL;
	if (field)
		*field = NULL;
	r->res.rows++;
	int good;
	if (!cJSON_IsObject(obj))
		good = row_error(ss, r->res.rows, 1, "expected a JSON object, found another JSON value");
	else
		good = json_row(ss, obj, r->res.rows, v, &t, numbuf);
	if (good > 0)
		return TN_OK;
	if (field)
		*field = ss->field;
	tn_error_set(err, r->rowerr.code ? r->rowerr.code : TN_ERR_INPUT, "%s", r->rowerr.msg);
	return tn_error_code(err, TN_ERR_INPUT);
}

int tn_import_rows_finish(tn_import_rows *r, tn_import_result *res, tn_error *err)
{
	long long ev_added = 0;
	int rc = r->ss.failed ? TN_ERR_INPUT : tn_store_flush(r->ss.store, &ev_added, err);
	if (rc == TN_OK && r->o.kind == TN_KIND_EVENTS) {
		r->res.added = ev_added;
		r->res.unchanged = r->res.rows - r->res.rejected - ev_added;
	}
	*res = r->res;
	return rc;
}

long long tn_import_rows_added(const tn_import_rows *r) { return r->res.added; }

void tn_import_rows_free(tn_import_rows *r)
{
	if (!r)
		return;
	for (size_t f = 0; f < MAX_FIELDS; f++)
		free(r->ss.conv[f]);
	if (r->ss.seen || r->ss.spend_init) { /* the keys seen in this request: forget them (when the table was made) */
		tn_db_finalize(r->ss.seen);
		tn_db_finalize(r->ss.seen_line);
		tn_store_exec(r->ss.store, "DELETE FROM tn_import_seen", NULL);
	}
	seen_pg_free(&r->ss);
	free(r);
}
