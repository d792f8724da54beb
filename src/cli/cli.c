/*
 * cli.c -- shared CLI helpers: errors, option parsing, progress, and the
 * table writer behind every command's --format table|csv|json.
 */
#include "cli.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <errno.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_fail(const tn_error *err)
{
	fprintf(stderr, "tenure: %s\n", err->msg[0] ? err->msg : tn_status_name(err->code));
	return err->code == TN_ERR_USAGE ? 2 : 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tenure %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see `tenure %s --help`)\n", cmd);
	return 2;
}

int cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "tenure %s: option %s needs a value\n", argv[0], name);
		return -1;
	}
	*value = argv[++*i];
	return 1;
}

int cli_parse_range(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	/* strtol skips leading spaces and takes a sign; a whole argument of
	 * digits (optionally signed) is asked for, in range, never wrapped */
	long v = strtol(s, &end, 10);
	if (!*s || *end || isspace((unsigned char)*s)) {
		cli_usage_error(cmd, "%s: expected a whole number, found \"%s\"", opt, s);
		return -1;
	}
	if (errno == ERANGE || v < lo || v > hi) {
		cli_usage_error(cmd, "%s: expected a whole number from %ld to %ld, found \"%s\"", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_long(const char *cmd, const char *opt, const char *s, long *out)
{
	return cli_parse_range(cmd, opt, s, LONG_MIN, LONG_MAX, out);
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double *out)
{
	if (tn_parse_double(s, strlen(s), out)) {
		cli_usage_error(cmd, "%s: expected a number, found \"%s\"", opt, s);
		return -1;
	}
	return 0;
}

/* ---- options and subcommands from a table ------------------------------ */

/* A whole number: optional '-', then digits only, within [MIN, MAX].  Returns
 * 0, or -1 for a word that is no whole number, or -2 when it is out of range. */
static int parse_whole(const char *s, long min, long max, long *out)
{
	const char *p = s + (*s == '-');
	if (*p < '0' || *p > '9')
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end)
		return -1;
	if (errno == ERANGE || v < min || v > max)
		return -2;
	*out = v;
	return 0;
}

/* Store VALUE for option O of CMD; 0 or a printed usage error (2). */
static int set_option(const char *cmd, const cli_option *o, const char *value)
{
	const char *what = o->help ? o->help : "value";
	switch (o->kind) {
	case CLI_FLAG:
		*(int *)o->dest = 1;
		return 0;
	case CLI_STR:
		*(const char **)o->dest = value;
		return 0;
	case CLI_INT: {
		int rc = parse_whole(value, o->min, o->max, (long *)o->dest);
		if (rc == -1)
			return cli_usage_error(cmd, "%s (%s): expected a whole number, found \"%s\"", o->name, what, value);
		if (rc == -2)
			return cli_usage_error(cmd, "%s (%s): expected a whole number from %ld to %ld, found \"%s\"",
					       o->name, what, o->min, o->max, value);
		return 0;
	}
	case CLI_DOUBLE:
		if (tn_parse_double(value, strlen(value), (double *)o->dest))
			return cli_usage_error(cmd, "%s (%s): expected a number, found \"%s\"", o->name, what, value);
		return 0;
	case CLI_LIST: {
		cli_list *l = o->dest;
		size_t n;
		char **add = cli_split(value, &n);
		char **grown = add ? realloc(l->items, (l->n + n + 1) * sizeof *grown) : NULL;
		if (!grown) {
			cli_free_list(add);
			return cli_usage_error(cmd, "%s: out of memory", o->name);
		}
		l->items = grown;
		memcpy(grown + l->n, add, n * sizeof *add);
		l->n += n;
		grown[l->n] = NULL;
		free(add); /* the items now belong to the list */
		return 0;
	}
	case CLI_TIME:
		if (tn_time_parse(value, strlen(value), (tn_time *)o->dest))
			return cli_usage_error(cmd,
					       "%s: expected a date (YYYY-MM-DD), a date-time or Unix seconds, found \"%s\"",
					       o->name, value);
		return 0;
	case CLI_AS_OF:
		if (tn_as_of_parse(value, strlen(value), (tn_time *)o->dest))
			return cli_usage_error(cmd,
					       "%s: expected a date (YYYY-MM-DD, meaning the end of that day), an ISO-8601 "
					       "instant or Unix seconds, found \"%s\"",
					       o->name, value);
		return 0;
	}
	assert(!"unknown option kind");
	return 2;
}

int cli_parse(const char *cmd, const char *help, const cli_option *opts, int argc, char **argv, const char **pos,
	      size_t npos, size_t *ngot)
{
	size_t got = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (cli_is_help(a)) {
			fputs(help, stdout);
			return 0;
		}
		if (a[0] != '-' || !a[1]) { /* a word, or "-" (standard input) */
			if (got == npos)
				return cli_usage_error(cmd, "unexpected argument \"%s\"", a);
			pos[got++] = a;
			continue;
		}
		const char *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		const cli_option *o = opts;
		while (o->name && !(strlen(o->name) == len && strncmp(o->name, a, len) == 0))
			o++;
		if (!o->name)
			return cli_usage_error(cmd, "unknown option \"%s\"", a);
		assert(o->dest);
		const char *value = NULL;
		if (o->kind == CLI_FLAG) {
			if (eq)
				return cli_usage_error(cmd, "%s takes no value", o->name);
		} else if (eq) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			return cli_usage_error(cmd, "option %s needs a value", o->name);
		}
		if (set_option(cmd, o, value))
			return 2;
	}
	if (ngot)
		*ngot = got;
	return -1;
}

int cli_dispatch(cli_ctx *ctx, const char *cmd, const char *help, const cli_sub *subs, size_t nsubs, int argc,
		 char **argv)
{
	if (argc < 2) {
		fputs(help, stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(help, stdout);
			return 0;
		}
	for (size_t k = 0; k < nsubs; k++)
		if (strcmp(subs[k].name, argv[1]) == 0)
			return subs[k].fn(ctx, argc - 1, argv + 1);
	fprintf(stderr, "tenure %s: unknown subcommand \"%s\"; the subcommands are:\n", cmd, argv[1]);
	for (size_t k = 0; k < nsubs; k++)
		fprintf(stderr, "  %-10s %s\n", subs[k].name, subs[k].help);
	fprintf(stderr, "(see `tenure %s --help`)\n", cmd);
	return 2;
}

char **cli_split(const char *s, size_t *n)
{
	size_t cnt = *s ? 1 : 0;
	for (const char *p = s; *p; p++)
		cnt += *p == ',';
	char **list = calloc(cnt + 1, sizeof *list);
	if (!list)
		return NULL;
	size_t k = 0;
	const char *p = s;
	while (*p && k < cnt) {
		const char *q = strchr(p, ',');
		size_t len = q ? (size_t)(q - p) : strlen(p);
		list[k] = malloc(len + 1);
		if (!list[k]) {
			cli_free_list(list);
			return NULL;
		}
		memcpy(list[k], p, len);
		list[k][len] = '\0';
		k++;
		if (!q)
			break;
		p = q + 1;
		if (!*p && k < cnt) { /* trailing comma: an empty last item */
			list[k++] = calloc(1, 1);
		}
	}
	if (n)
		*n = k;
	return list;
}

void cli_free_list(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}

/* ---- progress ---------------------------------------------------------- */

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double last_progress;

void cli_progress(const cli_ctx *ctx, const char *what, double done, double total)
{
	if (ctx->quiet || !isatty(2))
		return;
	double t = cli_now();
	if (t - last_progress < 0.2)
		return;
	last_progress = t;
	if (total > 0)
		fprintf(stderr, "\r%s: %.0f%% (%.0f of %.0f)   ", what, 100.0 * done / total, done, total);
	else
		fprintf(stderr, "\r%s: %.0f   ", what, done);
}

void cli_progress_done(const cli_ctx *ctx)
{
	if (!ctx->quiet && isatty(2) && last_progress > 0)
		fprintf(stderr, "\r\033[K");
	last_progress = 0;
}

/* ---- table output -------------------------------------------------------- */

enum cell_kind { CELL_NULL, CELL_TEXT, CELL_NUM };

typedef struct cell {
	enum cell_kind kind;
	char *table; /* rendering for tables */
	char *exact; /* rendering for csv/json */
} cell;

struct tn_out {
	size_t ncols;
	char **names;
	cell *cells;
	size_t ncells, cap;
	int failed; /* out of memory: it takes nothing more and prints nothing */
};

/* Out of memory while building output: a table with a cell missing would
 * shift every later cell, so the table stops taking cells, prints nothing,
 * and the command's status becomes a failure (cli_out_failed) -- never
 * exit(): `tenure serve` runs commands inside its process (the analysis
 * routes), where exit() would stop the server.  Per thread: the server
 * runs one command at a time on the requesting thread. */
static _Thread_local int out_failed;
static tn_out oom_out = {.failed = 1}; /* what tn_out_new gives when out of memory */

static void oom(tn_out *t)
{
	if (!out_failed)
		fputs("tenure: out of memory building the output\n", stderr);
	out_failed = 1;
	t->failed = 1;
}

int cli_out_failed(void)
{
	int f = out_failed;
	out_failed = 0;
	return f;
}

tn_out *tn_out_new(size_t ncols, const char *const *names)
{
	tn_out *t = calloc(1, sizeof *t);
	if (!t) {
		oom(&oom_out);
		return &oom_out;
	}
	t->ncols = ncols;
	if (!(t->names = calloc(ncols ? ncols : 1, sizeof *t->names))) {
		oom(t);
		return t;
	}
	for (size_t i = 0; i < ncols; i++)
		if (!(t->names[i] = strdup(names[i])))
			oom(t);
	return t;
}

void tn_out_free(tn_out *t)
{
	if (!t || t == &oom_out)
		return;
	for (size_t i = 0; t->names && i < t->ncols; i++)
		free(t->names[i]);
	free(t->names);
	for (size_t i = 0; i < t->ncells; i++) {
		if (t->cells[i].exact != t->cells[i].table)
			free(t->cells[i].exact);
		free(t->cells[i].table);
	}
	free(t->cells);
	free(t);
}

static void push(tn_out *t, enum cell_kind kind, char *table, char *exact)
{
	if (!t->failed && t->ncells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		cell *c = realloc(t->cells, cap * sizeof *c);
		if (c) {
			t->cells = c;
			t->cap = cap;
		} else {
			oom(t);
		}
	}
	if (!t->failed && (!table || (kind != CELL_NULL && !exact)))
		oom(t);
	if (t->failed) {
		if (exact != table)
			free(exact);
		free(table);
		return;
	}
	t->cells[t->ncells++] = (cell){kind, table, exact};
}

void tn_out_str(tn_out *t, const char *s)
{
	if (!s) {
		push(t, CELL_NULL, strdup(""), NULL);
		return;
	}
	char *d = strdup(s);
	push(t, CELL_TEXT, d, d);
}

void tn_out_int(tn_out *t, long long v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", v);
	char *d = strdup(buf);
	push(t, CELL_NUM, d, d);
}

void tn_out_num(tn_out *t, double v, int digits)
{
	if (isnan(v)) {
		push(t, CELL_NULL, strdup(""), NULL);
		return;
	}
	if (!isfinite(v)) { /* shown in tables, null in JSON, empty in CSV */
		push(t, CELL_NULL, strdup(v > 0 ? "inf" : "-inf"), NULL);
		return;
	}
	char a[64], b[64];
	snprintf(a, sizeof a, "%.*f", digits, v);
	tn_json_num_text(v, b, sizeof b); /* shortest digits that read back exactly */
	push(t, CELL_NUM, strdup(a), strdup(b));
}

/* Display width of a UTF-8 string (code points; good enough for tables). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

cJSON *tn_out_json(const tn_out *t)
{
	if (t->failed)
		return NULL;
	size_t nrows = t->ncols ? t->ncells / t->ncols : 0;
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < nrows; i++) {
		cJSON *o = cJSON_CreateObject();
		for (size_t j = 0; o && j < t->ncols; j++) {
			const cell *c = &t->cells[i * t->ncols + j];
			cJSON *v = c->kind == CELL_NULL  ? cJSON_CreateNull()
				   : c->kind == CELL_NUM ? cJSON_CreateRaw(c->exact)
							 : cJSON_CreateString(c->exact);
			cJSON_AddItemToObject(o, t->names[j], v);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void tn_out_print(const tn_out *t, out_format format, FILE *fp)
{
	if (t->failed) /* said already; the command fails (cli_out_failed) */
		return;
	size_t nrows = t->ncols ? t->ncells / t->ncols : 0;
	if (format == OUT_CSV) {
		for (size_t j = 0; j < t->ncols; j++) {
			if (j)
				fputc(',', fp);
			tn_csv_write(fp, t->names[j]);
		}
		fputc('\n', fp);
		for (size_t i = 0; i < nrows; i++) {
			for (size_t j = 0; j < t->ncols; j++) {
				if (j)
					fputc(',', fp);
				tn_csv_write(fp, t->cells[i * t->ncols + j].exact);
			}
			fputc('\n', fp);
		}
		return;
	}
	if (format == OUT_JSON) {
		cJSON *arr = tn_out_json(t);
		if (!arr || tn_json_write(fp, arr) == TN_ERR_NOMEM)
			fputs("tenure: out of memory writing JSON\n", stderr);
		cJSON_Delete(arr);
		return;
	}
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
	int *right = calloc(t->ncols ? t->ncols : 1, sizeof *right);
	if (!w || !right) {
		free(w);
		free(right);
		return;
	}
	for (size_t j = 0; j < t->ncols; j++) {
		w[j] = width(t->names[j]);
		right[j] = nrows > 0;
	}
	for (size_t i = 0; i < nrows; i++)
		for (size_t j = 0; j < t->ncols; j++) {
			const cell *c = &t->cells[i * t->ncols + j];
			size_t cw = width(c->table);
			if (cw > w[j])
				w[j] = cw;
			if (c->kind == CELL_TEXT)
				right[j] = 0;
		}
	for (size_t j = 0; j < t->ncols; j++) {
		size_t pad = w[j] - width(t->names[j]);
		if (right[j])
			fprintf(fp, "%*s%s", (int)pad, "", t->names[j]);
		else
			fprintf(fp, "%s%*s", t->names[j], j + 1 < t->ncols ? (int)pad : 0, "");
		fputs(j + 1 < t->ncols ? "  " : "", fp);
	}
	fputc('\n', fp);
	for (size_t j = 0; j < t->ncols; j++) {
		for (size_t k = 0; k < w[j]; k++)
			fputc('-', fp);
		fputs(j + 1 < t->ncols ? "  " : "", fp);
	}
	fputc('\n', fp);
	for (size_t i = 0; i < nrows; i++) {
		for (size_t j = 0; j < t->ncols; j++) {
			const char *s = t->cells[i * t->ncols + j].table;
			size_t pad = w[j] - width(s);
			if (right[j])
				fprintf(fp, "%*s%s", (int)pad, "", s);
			else
				fprintf(fp, "%s%*s", s, j + 1 < t->ncols ? (int)pad : 0, "");
			fputs(j + 1 < t->ncols ? "  " : "", fp);
		}
		fputc('\n', fp);
	}
	free(w);
	free(right);
}

void cli_print_json(const cJSON *v)
{
	if (tn_json_write(stdout, v) == TN_ERR_NOMEM)
		fputs("tenure: out of memory writing JSON\n", stderr);
}
