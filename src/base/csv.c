/*
 * csv.c -- streaming RFC 4180 reader (see include/tenure/csv.h).
 *
 * The hot loop scans a large read buffer with memchr-like byte tests and copies
 * field bytes into a record buffer, so each byte is touched about twice.  A
 * hand-written reader is used (not a library) because it is the import path's
 * bottleneck and because errors must carry line and column.
 */
#include "tenure/csv.h"
#include "base/alloc.h"
#include "tenure/json.h"

#include <math.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK (1u << 20)

struct tn_csv {
	FILE *fp;          /* NULL when reading from memory */
	int owns_fp;
	char *name;
	char delim;
	/* the bytes that end a run of plain bytes in an unquoted field (the
	 * delimiter, CR, LF, quote): one table look-up a byte in the scan
	 * instead of four comparisons */
	unsigned char stop[256];
	/* input window */
	char *in;          /* read buffer (or the caller's memory) */
	size_t in_len, in_pos;
	int eof;
	long long consumed;
	/* current record */
	char *rec;         /* field bytes, each NUL-terminated */
	size_t rec_len, rec_cap;
	size_t *starts;    /* offsets of fields into rec */
	long *lines;       /* line of each field */
	size_t nfields, fields_cap;
	long line;         /* current physical line (1-based) */
	long rec_line;
	int bom_checked;
};

static tn_csv *csv_new(const char *name, char delim, tn_error *err)
{
	tn_csv *r = tn_calloc(1, sizeof *r);
	if (!r) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory opening %s", name);
		return NULL;
	}
	r->name = tn_strdup(name);
	r->delim = delim;
	r->stop[(unsigned char)delim] = r->stop['\n'] = r->stop['\r'] = r->stop['"'] = 1;
	r->line = 1;
	r->rec_cap = 4096;
	r->rec = tn_malloc(r->rec_cap);
	r->fields_cap = 64;
	r->starts = tn_malloc(r->fields_cap * sizeof *r->starts);
	r->lines = tn_malloc(r->fields_cap * sizeof *r->lines);
	if (!r->name || !r->rec || !r->starts || !r->lines) {
		tn_csv_close(r);
		tn_error_set(err, TN_ERR_NOMEM, "out of memory opening %s", name);
		return NULL;
	}
	return r;
}

tn_csv *tn_csv_open(const char *path, char delim, tn_error *err)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!fp) {
		tn_error_set(err, TN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	tn_csv *r = csv_new(strcmp(path, "-") == 0 ? "<stdin>" : path, delim, err);
	if (!r) {
		if (fp != stdin)
			fclose(fp);
		return NULL;
	}
	r->fp = fp;
	r->owns_fp = fp != stdin;
	r->in = tn_malloc(READ_CHUNK);
	if (!r->in) {
		tn_csv_close(r);
		tn_error_set(err, TN_ERR_NOMEM, "out of memory opening %s", path);
		return NULL;
	}
	return r;
}

tn_csv *tn_csv_open_mem(const char *buf, size_t len, const char *name, char delim, tn_error *err)
{
	tn_csv *r = csv_new(name, delim, err);
	if (!r)
		return NULL;
	r->in = (char *)buf;
	r->in_len = len;
	r->eof = 1;
	return r;
}

void tn_csv_close(tn_csv *r)
{
	if (!r)
		return;
	if (r->fp) {
		if (r->owns_fp)
			fclose(r->fp);
		free(r->in);
	}
	free(r->name);
	free(r->rec);
	free(r->starts);
	free(r->lines);
	free(r);
}

/* Refill the input window; returns 0 at end of input, 1 when bytes are
 * available, -1 on a read error. */
static int refill(tn_csv *r, tn_error *err)
{
	if (r->in_pos < r->in_len)
		return 1;
	if (r->eof)
		return 0;
	r->consumed += (long long)r->in_len;
	r->in_len = fread(r->in, 1, READ_CHUNK, r->fp);
	r->in_pos = 0;
	if (r->in_len < READ_CHUNK) {
		if (ferror(r->fp))
			return tn_error_set(err, TN_ERR_IO, "%s:%ld: read error: %s", r->name, r->line,
					    strerror(errno)),
			       -1;
		r->eof = 1;
	}
	return r->in_len > 0;
}

/* The record buffer's growth, out of the per-field path (rec_reserve). */
static int rec_grow(tn_csv *r, size_t extra, tn_error *err)
{
	size_t cap = r->rec_cap;
	while (cap < r->rec_len + extra)
		cap *= 2;
	if (cap > TN_CSV_MAX_RECORD + 1) {
		tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%zu: record longer than %u bytes (a missing closing quote?); stopped reading there",
			     r->name, r->rec_line, r->nfields ? r->nfields : 1, TN_CSV_MAX_RECORD);
		return -1;
	}
	char *p = tn_realloc(r->rec, cap);
	if (!p)
		return tn_error_set(err, TN_ERR_NOMEM, "%s:%ld: out of memory", r->name, r->rec_line), -1;
	r->rec = p;
	r->rec_cap = cap;
	return 0;
}

static inline int rec_reserve(tn_csv *r, size_t extra, tn_error *err)
{
	return r->rec_len + extra <= r->rec_cap ? 0 : rec_grow(r, extra, err);
}

/* The field arrays' growth, out of the per-field path (begin_field). */
static int fields_grow(tn_csv *r, tn_error *err)
{
	if (r->fields_cap >= TN_CSV_MAX_FIELDS)
		return tn_error_set(err, TN_ERR_INPUT, "%s:%ld: more than %d fields in a record",
				    r->name, r->rec_line, TN_CSV_MAX_FIELDS),
		       -1;
	size_t cap = r->fields_cap * 2;
	size_t *s = tn_realloc(r->starts, cap * sizeof *s);
	if (s)
		r->starts = s;
	long *l = tn_realloc(r->lines, cap * sizeof *l);
	if (l)
		r->lines = l;
	if (!s || !l)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory"), -1;
	r->fields_cap = cap;
	return 0;
}

static inline int begin_field(tn_csv *r, tn_error *err)
{
	if (r->nfields == r->fields_cap && fields_grow(r, err))
		return -1;
	r->starts[r->nfields] = r->rec_len;
	r->lines[r->nfields] = r->line;
	r->nfields++;
	return 0;
}

static int end_field(tn_csv *r, tn_error *err)
{
	if (rec_reserve(r, 1, err))
		return -1;
	r->rec[r->rec_len++] = '\0';
	return 0;
}

int tn_csv_next(tn_csv *r, tn_error *err)
{
	enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } st;
	int rc;
restart:
	r->rec_len = 0;
	r->nfields = 0;
	r->rec_line = r->line;
	st = FIELD_START;
	if ((rc = refill(r, err)) <= 0)
		return rc;
	if (!r->bom_checked) {
		r->bom_checked = 1;
		/* The BOM may straddle nothing: the first chunk is >= 3 bytes unless
		 * the file is that short. */
		if (r->in_len - r->in_pos >= 3 && memcmp(r->in + r->in_pos, "\xEF\xBB\xBF", 3) == 0)
			r->in_pos += 3;
		if ((rc = refill(r, err)) <= 0)
			return rc;
	}
	/* A blank line (LF or CRLF alone) is skipped. */
	if (r->in[r->in_pos] == '\n' || r->in[r->in_pos] == '\r') {
		char c = r->in[r->in_pos++];
		if (c == '\r') {
			if (refill(r, err) > 0 && r->in[r->in_pos] == '\n')
				r->in_pos++;
		}
		r->line++;
		goto restart;
	}
	if (begin_field(r, err))
		return -1;
	for (;;) {
		rc = refill(r, err);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			if (st == QUOTED)
				return tn_error_set(err, TN_ERR_INPUT,
						    "%s:%ld:%zu: expected a closing quote, found the end of the file",
						    r->name, r->lines[r->nfields - 1], r->nfields),
				       -1;
			return end_field(r, err) ? -1 : 1;
		}
		const char *p = r->in + r->in_pos;
		const char *end = r->in + r->in_len;
		if (st == UNQUOTED || st == FIELD_START) {
			if (st == FIELD_START && *p == '"') {
				st = QUOTED;
				r->in_pos++;
				continue;
			}
			st = UNQUOTED;
			/* fast path: copy a run of plain bytes */
			const char *q = p;
			const char d = r->delim;
			const unsigned char *stop = r->stop;
			while (q < end && !stop[(unsigned char)*q])
				q++;
			size_t n = (size_t)(q - p);
			if (n) {
				if (rec_reserve(r, n + 1, err))
					return -1;
				memcpy(r->rec + r->rec_len, p, n);
				r->rec_len += n;
				r->in_pos += n;
			}
			if (q == end)
				continue;
			char c = *q;
			r->in_pos++;
			if (c == d) {
				if (end_field(r, err) || begin_field(r, err))
					return -1;
				st = FIELD_START;
			} else if (c == '\n' || c == '\r') {
				if (c == '\r' && refill(r, err) > 0 && r->in[r->in_pos] == '\n')
					r->in_pos++;
				r->line++;
				return end_field(r, err) ? -1 : 1;
			} else { /* a quote inside an unquoted field */
				return tn_error_set(err, TN_ERR_INPUT,
						    "%s:%ld:%zu: expected a field without quotes or one wholly quoted, found a quote inside an unquoted field",
						    r->name, r->line, r->nfields),
				       -1;
			}
		} else if (st == QUOTED) {
			const char *q = p;
			while (q < end && *q != '"' && *q != '\n')
				q++;
			size_t n = (size_t)(q - p);
			if (q < end && *q == '\n') {
				n++; /* keep the newline inside the field */
				r->line++;
				q++;
			}
			if (n) {
				if (rec_reserve(r, n + 1, err))
					return -1;
				memcpy(r->rec + r->rec_len, p, n);
				r->rec_len += n;
				r->in_pos += n;
			}
			if (q < end && *q == '"' && (size_t)(q - r->in) == r->in_pos) {
				r->in_pos++;
				st = QUOTE_IN_QUOTED;
			}
		} else { /* QUOTE_IN_QUOTED: "" is a quote; a delimiter or line end closes */
			char c = *p;
			if (c == '"') {
				if (rec_reserve(r, 2, err))
					return -1;
				r->rec[r->rec_len++] = '"';
				r->in_pos++;
				st = QUOTED;
			} else if (c == r->delim) {
				r->in_pos++;
				if (end_field(r, err) || begin_field(r, err))
					return -1;
				st = FIELD_START;
			} else if (c == '\n' || c == '\r') {
				r->in_pos++;
				if (c == '\r' && refill(r, err) > 0 && r->in[r->in_pos] == '\n')
					r->in_pos++;
				r->line++;
				return end_field(r, err) ? -1 : 1;
			} else {
				return tn_error_set(err, TN_ERR_INPUT,
						    "%s:%ld:%zu: expected a delimiter or the end of the line after a closing quote, found '%c'",
						    r->name, r->line, r->nfields, c >= 32 && c < 127 ? c : '?'),
				       -1;
			}
		}
	}
}

size_t tn_csv_nfields(const tn_csv *r) { return r->nfields; }

const char *tn_csv_field(const tn_csv *r, size_t i, size_t *len)
{
	const char *s = r->rec + r->starts[i];
	if (len) {
		size_t next = i + 1 < r->nfields ? r->starts[i + 1] : r->rec_len;
		*len = next - r->starts[i] - 1;
	}
	return s;
}

long tn_csv_line(const tn_csv *r) { return r->rec_line; }
long tn_csv_field_line(const tn_csv *r, size_t i) { return r->lines[i]; }
const char *tn_csv_name(const tn_csv *r) { return r->name; }
long long tn_csv_offset(const tn_csv *r) { return r->consumed + (long long)r->in_pos; }

void tn_csv_write_field(FILE *fp, const char *s, size_t len)
{
	int quote = 0;
	for (size_t i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		fwrite(s, 1, len, fp);
		return;
	}
	fputc('"', fp);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', fp);
		fputc(s[i], fp);
	}
	fputc('"', fp);
}

void tn_csv_write_num(FILE *fp, double v)
{
	char buf[40];
	if (isfinite(v))
		fputs(tn_json_num_text(v, buf, sizeof buf), fp);
}

void tn_csv_write(FILE *fp, const char *s)
{
	if (s)
		tn_csv_write_field(fp, s, strlen(s));
}
