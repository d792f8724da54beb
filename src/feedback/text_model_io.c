/*
 * text_model_io.c -- the feedback model file: save and load.
 *
 * A line-oriented, tab-separated text file (docs/feedback.md):
 *   tenure-feedback-model<TAB>1
 *   buckets<TAB>262144<TAB>32768
 *   ntrain<TAB>N
 *   type<TAB>NAME<TAB>DOCS<TAB>TOKENS          one line per label, in TN_FB_* order
 *   theme<TAB>NAME<TAB>TYPE<TAB>DOCS<TAB>TOKENS one line per theme label
 *   rule<TAB>TYPE<TAB>THEME<TAB>KEYWORD         THEME may be empty
 *   t<TAB>BUCKET<TAB>TYPE<TAB>COUNT             non-zero type counts
 *   h<TAB>BUCKET<TAB>THEME<TAB>COUNT            non-zero theme counts
 *   end
 * Counts (not probabilities) are stored, so a loaded model is exactly the
 * trained one and can be trained further.
 */
#include "feedback/text_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_MAGIC "tenure-feedback-model"
#define MODEL_VERSION 1
#define MODEL_LINE_MAX 4096

int tn_fb_model_save(const tn_fb_model *m, const char *path, tn_error *err)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return tn_error_set(err, TN_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
	fprintf(fp, "%s\t%d\nbuckets\t%u\t%u\nntrain\t%zu\n", MODEL_MAGIC, MODEL_VERSION, TN_FB_BUCKETS,
		TN_FB_THEME_BUCKETS, m->ntrain);
	for (int k = 0; k < TN_FB_NTYPES; k++)
		fprintf(fp, "type\t%s\t%.0f\t%.0f\n", tn_fb_type_name(k), m->docs[k], m->tokens[k]);
	for (size_t k = 0; k < m->nthemes; k++)
		fprintf(fp, "theme\t%s\t%s\t%.0f\t%.0f\n", m->theme_name[k], tn_fb_type_name(m->theme_type[k]),
			m->theme_docs[k], m->theme_tokens[k]);
	for (size_t i = 0; i < m->nrules; i++)
		fprintf(fp, "rule\t%s\t%s\t%s\n", tn_fb_type_name(m->rules[i].type), m->rules[i].theme,
			m->rules[i].keyword);
	for (size_t b = 0; b < TN_FB_BUCKETS; b++)
		for (int k = 0; k < TN_FB_NTYPES; k++)
			if (m->counts[b * TN_FB_NTYPES + (size_t)k])
				fprintf(fp, "t\t%zu\t%d\t%u\n", b, k, m->counts[b * TN_FB_NTYPES + (size_t)k]);
	for (size_t b = 0; b < TN_FB_THEME_BUCKETS; b++)
		for (size_t k = 0; k < m->nthemes; k++)
			if (m->theme_counts[b * TN_FB_MAX_THEMES + k])
				fprintf(fp, "h\t%zu\t%zu\t%u\n", b, k, m->theme_counts[b * TN_FB_MAX_THEMES + k]);
	fprintf(fp, "end\n");
	if (ferror(fp) | fclose(fp))
		return tn_error_set(err, TN_ERR_IO, "%s: write failed: %s", path, strerror(errno));
	return TN_OK;
}

/* Split LINE at tabs into at most MAX fields (in place); returns the count. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		f[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = '\0';
		p = t + 1;
	}
	return n;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || *s == '-')
		return -1;
	*out = v;
	return 0;
}

static int load_line(tn_fb_model *m, char **f, size_t nf, int *seen_end, tn_error *err)
{
	unsigned long a, b, c;
	if (strcmp(f[0], "buckets") == 0 && nf == 3) {
		if (parse_ulong(f[1], UINT32_MAX, &a) || parse_ulong(f[2], UINT32_MAX, &b) || a != TN_FB_BUCKETS ||
		    b != TN_FB_THEME_BUCKETS)
			return tn_error_set(err, TN_ERR_INPUT, "buckets: expected %u and %u", TN_FB_BUCKETS,
					    TN_FB_THEME_BUCKETS);
	} else if (strcmp(f[0], "ntrain") == 0 && nf == 2) {
		if (parse_ulong(f[1], ~0ul, &a))
			return tn_error_set(err, TN_ERR_INPUT, "ntrain: expected a count, found \"%s\"", f[1]);
		m->ntrain = a;
	} else if (strcmp(f[0], "type") == 0 && nf == 4) {
		int k = tn_fb_type_parse(f[1]);
		if (k < 0 || parse_ulong(f[2], ~0ul, &a) || parse_ulong(f[3], ~0ul, &b))
			return tn_error_set(err, TN_ERR_INPUT, "type: expected NAME DOCS TOKENS");
		m->docs[k] = (double)a;
		m->tokens[k] = (double)b;
	} else if (strcmp(f[0], "theme") == 0 && nf == 5) {
		int k = tn_fb_type_parse(f[2]);
		if (k < 0 || parse_ulong(f[3], ~0ul, &a) || parse_ulong(f[4], ~0ul, &b) || !*f[1] ||
		    strlen(f[1]) >= TN_FB_THEME_MAX)
			return tn_error_set(err, TN_ERR_INPUT, "theme: expected NAME TYPE DOCS TOKENS");
		if (m->nthemes >= TN_FB_MAX_THEMES)
			return tn_error_set(err, TN_ERR_INPUT, "more than %d themes", TN_FB_MAX_THEMES);
		size_t t = m->nthemes++;
		snprintf(m->theme_name[t], TN_FB_THEME_MAX, "%s", f[1]);
		m->theme_type[t] = k;
		m->theme_docs[t] = (double)a;
		m->theme_tokens[t] = (double)b;
	} else if (strcmp(f[0], "rule") == 0 && nf == 4) {
		int k = tn_fb_type_parse(f[1]);
		if (k < 0)
			return tn_error_set(err, TN_ERR_INPUT, "rule: unknown type \"%s\"", f[1]);
		return tn_fb_model_add_rule(m, f[3], k, *f[2] ? f[2] : NULL, err);
	} else if (strcmp(f[0], "t") == 0 && nf == 4) {
		if (parse_ulong(f[1], TN_FB_BUCKETS - 1, &a) || parse_ulong(f[2], TN_FB_NTYPES - 1, &b) ||
		    parse_ulong(f[3], UINT32_MAX, &c))
			return tn_error_set(err, TN_ERR_INPUT, "t: expected BUCKET TYPE COUNT in range");
		m->counts[a * TN_FB_NTYPES + b] = (uint32_t)c;
	} else if (strcmp(f[0], "h") == 0 && nf == 4) {
		if (parse_ulong(f[1], TN_FB_THEME_BUCKETS - 1, &a) || parse_ulong(f[2], m->nthemes ? m->nthemes - 1 : 0, &b) ||
		    !m->nthemes || parse_ulong(f[3], UINT32_MAX, &c))
			return tn_error_set(err, TN_ERR_INPUT, "h: expected BUCKET THEME COUNT in range");
		m->theme_counts[a * TN_FB_MAX_THEMES + b] = (uint32_t)c;
	} else if (strcmp(f[0], "end") == 0 && nf == 1) {
		*seen_end = 1;
	} else {
		return tn_error_set(err, TN_ERR_INPUT, "unknown record \"%.40s\" with %zu fields", f[0], nf);
	}
	return TN_OK;
}

tn_fb_model *tn_fb_model_load(const char *path, tn_error *err)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		tn_error_set(err, TN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	tn_fb_model *m = tn_fb_model_new(err);
	if (!m) {
		fclose(fp);
		return NULL;
	}
	char line[MODEL_LINE_MAX];
	long lineno = 0;
	int seen_end = 0;
	while (fgets(line, sizeof line, fp)) {
		lineno++;
		size_t n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(fp)) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld: line longer than %d bytes", path, lineno, MODEL_LINE_MAX);
			goto fail;
		}
		if (seen_end) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld: data after \"end\"", path, lineno);
			goto fail;
		}
		char *f[6];
		size_t nf = split_tabs(line, f, 6);
		if (lineno == 1) {
			if (nf != 2 || strcmp(f[0], MODEL_MAGIC) != 0 || strcmp(f[1], "1") != 0) {
				tn_error_set(err, TN_ERR_INPUT,
					     "%s:1: expected \"%s<TAB>%d\" (a Tenure feedback model), found \"%.40s\"", path,
					     MODEL_MAGIC, MODEL_VERSION, f[0]);
				goto fail;
			}
			continue;
		}
		tn_error e2 = {0};
		if (load_line(m, f, nf, &seen_end, &e2)) {
			tn_error_set(err, e2.code, "%s:%ld: %s", path, lineno, e2.msg);
			goto fail;
		}
	}
	if (!seen_end) {
		tn_error_set(err, TN_ERR_INPUT, "%s:%ld: truncated model file (no \"end\" line)", path, lineno);
		goto fail;
	}
	fclose(fp);
	tn_fb_model_finish(m);
	return m;
fail:
	fclose(fp);
	tn_fb_model_free(m);
	return NULL;
}
