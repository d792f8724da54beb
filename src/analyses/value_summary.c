/*
 * value_summary.c -- from a transaction log to the per-customer (x, t_x, T,
 * mean repeat spend) the customer-base models take, the way the `lifetimes`
 * package's summary_data_from_transaction_data does it (daily periods):
 * transactions of one customer on one UTC day are one transaction with the
 * amounts summed; x counts the days with a purchase after the first; t_x and
 * T run from the first day to the last purchase day and to the calibration
 * end; the monetary value is the mean of the repeat days' amounts.
 *
 * Transactions come from a CSV file, a whitespace-separated file (like the
 * CDNOW logs), or the store's `purchase` events.
 */
#include <errno.h>
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tenure/csv.h"
#include "base/alloc.h"
#include "tenure/frame.h"
#include "base/hashmap.h"
#include "base/radix.h"
#include "analyses/value_internal.h"
#include "store/db.h"
#include "store/store_sqlite.h"

#define TXN_MAX 200000000u    /* transactions held at most */
#define ID_BYTES_MAX (1u << 30) /* bytes of customer ids held at most */
#define LINE_MAX_BYTES (1u << 20)

typedef struct txn {
	uint32_t cust;
	int64_t day;
	double amount;
} txn;

struct tn_value_txns {
	txn *t;
	size_t n, cap;
	tn_strmap *cust;       /* customer id -> customer number k */
	size_t ncust;          /* tn_strmap_count(cust) */
};

tn_value_txns *tn_value_txns_new(void)
{
	return tn_calloc(1, sizeof(tn_value_txns));
}

void tn_value_txns_free(tn_value_txns *t)
{
	if (!t)
		return;
	free(t->t);
	tn_strmap_free(t->cust);
	free(t);
}

size_t tn_value_txns_count(const tn_value_txns *t)
{
	return t->n;
}

tn_time tn_value_txns_last_day(const tn_value_txns *t)
{
	int64_t d = INT64_MIN;
	for (size_t i = 0; i < t->n; i++)
		if (t->t[i].day > d)
			d = t->t[i].day;
	return t->n ? (tn_time)d * TN_DAY : 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t max)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	if (c > max)
		c = max;
	if (c < need)
		return -1;
	void *q = tn_realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* The customer number of ID, added when new; -1 when out of memory or over
 * the limits (TXN_MAX customers, ID_BYTES_MAX bytes of ids). */
static long intern(tn_value_txns *t, const char *id)
{
	if (!t->cust && !(t->cust = tn_strmap_new()))
		return -1;
	size_t k = tn_strmap_find(t->cust, id);
	if (k != TN_STRMAP_NONE)
		return (long)k;
	if (t->ncust >= TXN_MAX || strlen(id) + 1 > ID_BYTES_MAX - tn_strmap_bytes(t->cust) ||
	    tn_strmap_add(t->cust, id, &k) < 0)
		return -1;
	assert(k == t->ncust); /* customers are numbered in order of first sight */
	t->ncust = k + 1;
	return (long)k;
}

int tn_value_txns_add(tn_value_txns *t, const char *id, tn_time at, double amount, tn_error *err)
{
	long c = intern(t, id);
	if (c < 0 || grow((void **)&t->t, &t->cap, t->n + 1, sizeof(txn), TXN_MAX))
		return tn_error_set(err, TN_ERR_NOMEM, "too many transactions (the limit is %u) or out of memory",
				    TXN_MAX);
	int64_t day = at >= 0 ? at / TN_DAY : -((-at + TN_DAY - 1) / TN_DAY);
	t->t[t->n++] = (txn){(uint32_t)c, day, amount};
	return TN_OK;
}

/* ---- reading files -------------------------------------------------------- */

typedef struct reader {
	int ws;
	tn_csv *csv;
	FILE *fp;
	const char *path;
	long line;
	char *buf;
	size_t bufcap;
	char *fields[TN_CSV_MAX_FIELDS];
	size_t nf;
} reader;

/* Next record's fields into r->fields; 1, 0 at end, -1 on error. */
static int next_record(reader *r, tn_error *err)
{
	if (!r->ws) {
		int rc = tn_csv_next(r->csv, err);
		if (rc != 1)
			return rc;
		r->nf = tn_csv_nfields(r->csv);
		for (size_t i = 0; i < r->nf; i++)
			r->fields[i] = (char *)tn_csv_field(r->csv, i, NULL);
		r->line = tn_csv_line(r->csv);
		return 1;
	}
	for (;;) {
		ssize_t len = getline(&r->buf, &r->bufcap, r->fp);
		if (len < 0 && (ferror(r->fp) || !feof(r->fp))) /* not the end: a read error or out of memory */
			return tn_error_set(err, errno == ENOMEM ? TN_ERR_NOMEM : TN_ERR_IO, "%s:%ld: cannot read: %s",
					    r->path, r->line + 1, strerror(errno)),
			       -1;
		if (len < 0)
			return 0;
		r->line++;
		if ((size_t)len > LINE_MAX_BYTES)
			return tn_error_set(err, TN_ERR_INPUT, "%s:%ld: line longer than %u bytes", r->path, r->line,
					    LINE_MAX_BYTES),
			       -1;
		r->nf = 0;
		char *p = r->buf;
		for (;;) {
			while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
				*p++ = '\0';
			if (!*p)
				break;
			if (r->nf == TN_CSV_MAX_FIELDS)
				return tn_error_set(err, TN_ERR_INPUT, "%s:%ld: more than %d fields", r->path, r->line,
						    TN_CSV_MAX_FIELDS),
				       -1;
			r->fields[r->nf++] = p;
			while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
				p++;
		}
		if (r->nf > 0)
			return 1;
	}
}

static int find_col(char **names, size_t n, const char *want, const char *role, const char *path, tn_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], want) == 0)
			return (int)i;
	char list[512] = "";
	size_t len = 0;
	for (size_t i = 0; i < n && len + 4 < sizeof list; i++) {
		int w = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	tn_error_set(err, TN_ERR_USAGE, "%s: no column \"%s\" (the %s); columns are: %s", path, want, role, list);
	return -1;
}

static int read_rows(reader *r, const tn_value_read_opts *o, tn_value_txns *t, tn_error *err)
{
	char *hdr[TN_CSV_MAX_FIELDS];
	char *hdrbuf = NULL;
	size_t nh = 0;
	int rc = 0;
	if (o->columns) {
		nh = o->ncolumns < TN_CSV_MAX_FIELDS ? o->ncolumns : TN_CSV_MAX_FIELDS;
		for (size_t i = 0; i < nh; i++)
			hdr[i] = (char *)o->columns[i];
	}
	if (!o->no_header) {
		rc = next_record(r, err);
		if (rc != 1)
			return rc < 0 ? -1 : (tn_error_set(err, TN_ERR_INPUT, "%s: empty file", r->path), -1);
		if (!o->columns) {
			size_t total = 0;
			for (size_t i = 0; i < r->nf; i++)
				total += strlen(r->fields[i]) + 1;
			hdrbuf = tn_malloc(total ? total : 1);
			if (!hdrbuf)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory"), -1;
			char *p = hdrbuf;
			for (size_t i = 0; i < r->nf; i++) {
				size_t l = strlen(r->fields[i]) + 1;
				memcpy(p, r->fields[i], l);
				hdr[i] = p;
				p += l;
			}
			nh = r->nf;
		}
	} else if (!o->columns) {
		return tn_error_set(err, TN_ERR_USAGE, "%s: without a header line, name the fields (--columns)",
				    r->path),
		       -1;
	}
	int ci = find_col(hdr, nh, o->customer, "customer id", r->path, err);
	int di = ci < 0 ? -1 : find_col(hdr, nh, o->date, "date", r->path, err);
	int ai = (di < 0 || !o->amount) ? -1 : find_col(hdr, nh, o->amount, "amount", r->path, err);
	if (ci < 0 || di < 0 || (o->amount && ai < 0)) {
		free(hdrbuf);
		return -1;
	}
	size_t need = (size_t)(ci > di ? ci : di);
	if (ai > (int)need)
		need = (size_t)ai;
	while ((rc = next_record(r, err)) == 1) {
		if (r->nf <= need) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld: expected at least %zu fields, found %zu", r->path,
				     r->line, need + 1, r->nf);
			rc = -1;
			break;
		}
		tn_time at;
		const char *ds = r->fields[di];
		if (tn_time_parse(ds, strlen(ds), &at)) {
			tn_error_set(err, TN_ERR_INPUT,
				     "%s:%ld:%d: %s: expected a date (YYYY-MM-DD, YYYYMMDD, ISO-8601 or Unix "
				     "seconds), found \"%s\"",
				     r->path, r->line, di + 1, o->date, ds);
			rc = -1;
			break;
		}
		double amt = NAN;
		if (ai >= 0) {
			const char *as = r->fields[ai];
			if (*as && tn_parse_double(as, strlen(as), &amt)) {
				tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%d: %s: expected a number, found \"%s\"", r->path,
					     r->line, ai + 1, o->amount, as);
				rc = -1;
				break;
			}
		}
		if (!*r->fields[ci]) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%d: %s: expected a customer id, found a blank", r->path,
				     r->line, ci + 1, o->customer);
			rc = -1;
			break;
		}
		if (tn_value_txns_add(t, r->fields[ci], at, amt, err)) {
			rc = -1;
			break;
		}
	}
	free(hdrbuf);
	return rc < 0 ? -1 : 0;
}

int tn_value_txns_read(const char *path, const tn_value_read_opts *o, tn_value_txns **out, tn_error *err)
{
	*out = NULL;
	if (!o->customer || !o->date)
		return tn_error_set(err, TN_ERR_USAGE, "name the customer and date columns");
	reader r = {.ws = o->whitespace, .path = path};
	if (r.ws) {
		r.fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
		if (!r.fp)
			return tn_error_set(err, TN_ERR_IO, "%s: cannot open", path);
	} else {
		r.csv = tn_csv_open(path, ',', err);
		if (!r.csv)
			return tn_error_code(err, TN_ERR_IO);
	}
	tn_value_txns *t = tn_value_txns_new();
	int rc = t ? read_rows(&r, o, t, err) : (tn_error_set(err, TN_ERR_NOMEM, "out of memory"), -1);
	if (r.fp && r.fp != stdin)
		fclose(r.fp);
	if (r.csv)
		tn_csv_close(r.csv);
	free(r.buf);
	if (rc) {
		tn_value_txns_free(t);
		return tn_error_code(err, TN_ERR_INPUT);
	}
	*out = t;
	return TN_OK;
}

int tn_value_txns_from_store(struct tn_store *s, tn_value_txns **out, tn_error *err)
{
	*out = NULL;
	tn_stmt *st = tn_db_prepare(s,
					    "SELECT c.ext_id, e.occurred_at, e.amount FROM events e"
					    " JOIN event_types et ON et.id = e.type_id"
					    " JOIN customers c ON c.id = e.customer_id"
					    " WHERE et.name = '" TN_VALUE_PURCHASE_TYPE "'",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_value_txns *t = tn_value_txns_new();
	int rc = t ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int step;
	while (rc == TN_OK && (step = tn_db_step(st, "reading purchase events", err)) == TN_DB_ROW) {
		const char *id = tn_db_column_text(st, 0);
		double amt = tn_db_column_is_null(st, 2) ? NAN : tn_db_column_double0(st, 2);
		rc = tn_value_txns_add(t, id ? id : "", tn_db_column_int64(st, 1), amt, err);
	}
	if (rc == TN_OK && step != TN_DB_DONE)
		rc = tn_store_db_error(s, "reading purchase events", err);
	tn_db_finalize(st);
	if (rc) {
		tn_value_txns_free(t);
		return rc;
	}
	*out = t;
	return TN_OK;
}

/* ---- summarising ---------------------------------------------------------- */

/* Ids in natural order: all-digit ids by value, then as text. */
static int cmp_id(const char *a, const char *b)
{
	size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
	if (la && lb && !a[la] && !b[lb]) {
		while (la > 1 && *a == '0')
			a++, la--;
		while (lb > 1 && *b == '0')
			b++, lb--;
		if (la != lb)
			return la < lb ? -1 : 1;
	}
	return strcmp(a, b);
}

typedef struct id_ref {
	const char *id;
	uint32_t k;
} id_ref;

static int cmp_ref(const void *a, const void *b)
{
	return cmp_id(((const id_ref *)a)->id, ((const id_ref *)b)->id);
}

void tn_value_summary_free(tn_value_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->id[i]);
	free(s->id);
	free(s->x);
	free(s);
}

size_t tn_value_summary_drop_unobserved(tn_value_summary *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (!(s->T[i] > 0)) {
			free(s->id[i]);
			continue;
		}
		s->id[k] = s->id[i];
		s->x[k] = s->x[i];
		s->t_x[k] = s->t_x[i];
		s->T[k] = s->T[i];
		s->monetary[k] = s->monetary[i];
		s->first[k] = s->first[i];
		s->revenue[k] = s->revenue[i];
		k++;
	}
	size_t dropped = s->n - k;
	s->n = k;
	return dropped;
}

int tn_value_summarize(const tn_value_txns *t, tn_time cal_end, double unit_days, tn_value_summary **out,
		       tn_error *err)
{
	*out = NULL;
	if (t->n == 0)
		return tn_error_set(err, TN_ERR_INPUT, "no transactions");
	/* The transactions in (customer, day) order, ties in input order (the
	 * amounts of a day are summed in that order): a permutation sorted by
	 * two stable radix passes, day then customer, rather than a sorted copy
	 * of the 24-byte rows plus qsort's merge buffer of as much again -- 12
	 * bytes a transaction instead of 48, the largest part of the server's
	 * value refit (docs/api.md, Performance). */
	uint32_t *ord = tn_malloc(t->n * sizeof *ord);
	uint64_t *key = tn_malloc(t->n * sizeof *key);
	id_ref *ref = tn_malloc(t->ncust * sizeof *ref);
	double *agg = tn_malloc(6 * (t->ncust ? t->ncust : 1) * sizeof *agg);
	tn_value_summary *s = tn_calloc(1, sizeof *s);
	char **ids = tn_calloc(t->ncust ? t->ncust : 1, sizeof *ids);
	int sorted = ord && key;
	if (sorted) {
		for (size_t i = 0; i < t->n; i++)
			key[i] = (uint64_t)t->t[i].day ^ (UINT64_C(1) << 63); /* int64 order */
		sorted = tn_radix_order_u64(key, t->n, ord, 0) == 0;
	}
	if (sorted) {
		for (size_t i = 0; i < t->n; i++)
			key[i] = t->t[i].cust;
		sorted = tn_radix_order_u64(key, t->n, ord, 1) == 0;
	}
	free(key);
	if (!sorted || !ref || !agg || !s || !ids) {
		free(ord), free(ref), free(agg), free(s), free(ids);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory summarising %zu transactions", t->n);
	}
	const txn *tt = t->t;
#define V(i) tt[ord[i]]
	int64_t end = cal_end >= 0 ? cal_end / TN_DAY : -((-cal_end + TN_DAY - 1) / TN_DAY);
	/* per customer: x, t_x, T, monetary, first (NaN first = not in calibration) */
	double *ax = agg, *at = agg + t->ncust, *aT = agg + 2 * t->ncust, *am = agg + 3 * t->ncust,
	       *af = agg + 4 * t->ncust, *ar = agg + 5 * t->ncust;
	for (size_t k = 0; k < t->ncust; k++)
		af[k] = NAN;
	for (size_t i = 0; i < t->n;) {
		uint32_t c = V(i).cust;
		int64_t first = V(i).day, last = first;
		long ndays = 0;
		double rep_sum = 0, all_sum = 0;
		size_t j = i;
		while (j < t->n && V(j).cust == c && V(j).day <= end) {
			int64_t d = V(j).day;
			double amt = 0;
			while (j < t->n && V(j).cust == c && V(j).day == d) {
				if (!isnan(V(j).amount))
					amt += V(j).amount;
				j++;
			}
			if (ndays > 0)
				rep_sum += amt;
			all_sum += amt;
			ndays++;
			last = d;
		}
		if (ndays > 0) {
			ax[c] = (double)(ndays - 1);
			at[c] = (double)(last - first) / unit_days;
			aT[c] = (double)(end - first) / unit_days;
			am[c] = ndays > 1 ? rep_sum / (double)(ndays - 1) : 0;
			af[c] = (double)first * TN_DAY;
			ar[c] = all_sum;
		}
		while (j < t->n && V(j).cust == c)
			j++;
		i = j;
	}
#undef V
	free(ord);
	size_t n = 0;
	for (size_t k = 0; k < t->ncust; k++)
		if (!isnan(af[k]))
			ref[n++] = (id_ref){tn_strmap_key(t->cust, k), (uint32_t)k};
	qsort(ref, n, sizeof *ref, cmp_ref);
	s->id = ids;
	s->x = tn_malloc(6 * (n ? n : 1) * sizeof *s->x);
	if (!s->x) {
		free(ref), free(agg);
		tn_value_summary_free(s);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	s->t_x = s->x + n;
	s->T = s->x + 2 * n;
	s->monetary = s->x + 3 * n;
	s->first = s->x + 4 * n;
	s->revenue = s->x + 5 * n;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = ref[i].k;
		s->id[i] = tn_strdup(ref[i].id);
		if (!s->id[i]) {
			free(ref), free(agg);
			tn_value_summary_free(s);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		s->n = i + 1;
		s->x[i] = ax[k];
		s->t_x[i] = at[k];
		s->T[i] = aT[k];
		s->monetary[i] = am[k];
		s->first[i] = af[k];
		s->revenue[i] = ar[k];
	}
	s->n = n;
	free(ref);
	free(agg);
	if (n == 0) {
		tn_value_summary_free(s);
		return tn_error_set(err, TN_ERR_INPUT, "no customer made a purchase on or before the calibration end");
	}
	*out = s;
	return TN_OK;
}

int tn_value_store_has_purchases(struct tn_store *s, int *yes, tn_error *err)
{
	*yes = 0;
	tn_stmt *st = tn_db_prepare(s,
					    "SELECT EXISTS (SELECT 1 FROM events e JOIN event_types et ON et.id = e.type_id"
					    " WHERE et.name = '" TN_VALUE_PURCHASE_TYPE "')",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, "looking for purchase events", err);
	if (rc == TN_DB_ROW)
		*yes = (int)tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	return rc == TN_DB_ROW ? TN_OK : tn_store_db_error(s, "looking for purchase events", err);
}
