/*
 * text_model.c -- the feedback classifier's model: counting labelled texts
 * (multinomial naive Bayes is trained by counting: McCallum & Nigam, "A
 * comparison of event models for naive Bayes text classification", 1998),
 * user keyword rules, the text file format (save/load), training from a CSV
 * file, and the default model trained from the shipped data/feedback/train.csv.
 */
#include "feedback/text_internal.h"
#include "base/alloc.h"
#include "tenure/csv.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[TN_FB_NTYPES] = {
	"functionality", "feature_request", "usability", "reliability", "customer_service", "pricing_billing", "praise",
};

const char *tn_fb_type_name(int type)
{
	return type >= 0 && type < TN_FB_NTYPES ? type_names[type] : "unknown";
}

int tn_fb_type_parse(const char *name)
{
	for (int i = 0; i < TN_FB_NTYPES; i++)
		if (strcmp(name, type_names[i]) == 0)
			return i;
	return -1;
}

static int add_keywords(tn_fb_model *m, tn_error *err)
{
	size_t cap = 0;
	for (size_t i = 0; i < tn_fb_ntheme_defs; i++)
		for (const char *p = tn_fb_themes[i].keywords; *p; p++)
			cap += *p == '|';
	cap += tn_fb_ntheme_defs;
	if (cap > TN_FB_MAX_KWS)
		cap = TN_FB_MAX_KWS;
	m->kws = tn_calloc(cap, sizeof *m->kws);
	m->kw_next = tn_calloc(cap, sizeof *m->kw_next);
	m->kw_chain = tn_calloc(cap, sizeof *m->kw_chain);
	for (size_t h = 0; h < TN_FB_KW_HEADS; h++)
		m->kw_head[h] = m->kw8_head[h] = m->kw4_head[h] = m->kw3_head[h] = -1;
	if (!m->kws || !m->kw_next || !m->kw_chain)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory for theme keywords");
	for (size_t i = 0; i < tn_fb_ntheme_defs; i++) {
		const char *p = tn_fb_themes[i].keywords;
		while (*p) {
			const char *e = strchr(p, '|');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			if (n && m->nkws < cap) {
				size_t len;
				char *k = tn_text_normalize(p, n, &len, err);
				if (!k)
					return tn_error_code(err, TN_ERR_INPUT);
				if (len < 3) { /* too short to index: not a useful keyword */
					free(k);
				} else {
					unsigned h = tn_fb_kw_key(k);
					m->kw_next[m->nkws] = m->kw_head[h];
					m->kw_head[h] = (int32_t)m->nkws;
					tn_fb_kw *kw = &m->kws[m->nkws++];
					*kw = (tn_fb_kw){k, len, (uint16_t)i, 0, 0, 0, 0};
					unsigned char hb[4] = {0}, mb[4] = {0};
					for (size_t j = 0; j < 4 && j < len; j++)
						hb[j] = (unsigned char)k[j], mb[j] = 0xFF;
					memcpy(&kw->head, hb, 4);
					memcpy(&kw->mask, mb, 4);
					unsigned char hb8[8] = {0}, mb8[8] = {0};
					for (size_t j = 0; j < 8 && j < len; j++)
						hb8[j] = (unsigned char)k[j], mb8[j] = 0xFF;
					memcpy(&kw->head8, hb8, 8);
					memcpy(&kw->mask8, mb8, 8);
					/* the scan's index: by the first 4 bytes, or the 3 of a 3-byte keyword */
					int32_t *head;
					if (len >= 8) {
						unsigned h8 = tn_fb_kw8_hash(kw->head8);
						m->kw8_filter[h8 / 64] |= (uint64_t)1 << (h8 % 64);
						head = &m->kw8_head[h8 >> 4];
					} else if (len >= 4) {
						unsigned h4 = tn_fb_kw4_hash(kw->head);
						m->kw4_filter[h4 / 64] |= (uint64_t)1 << (h4 % 64);
						head = &m->kw4_head[h4 >> 4];
					} else {
						unsigned h3 = tn_fb_kw3_hash(kw->head);
						m->kw3_filter[h3 / 64] |= (uint64_t)1 << (h3 % 64);
						head = &m->kw3_head[h3];
						m->nkw3++;
					}
					m->kw_chain[m->nkws - 1] = *head;
					*head = (int32_t)(m->nkws - 1);
				}
			}
			p += n + (e != NULL);
		}
	}
	return TN_OK;
}

tn_fb_model *tn_fb_model_new(tn_error *err)
{
	tn_fb_model *m = tn_calloc(1, sizeof *m);
	if (!m) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory for a feedback model");
		return NULL;
	}
	m->counts = tn_calloc((size_t)TN_FB_BUCKETS * TN_FB_NTYPES, sizeof *m->counts);
	/* 16 floats more, to align the tables on a cache line */
	m->logp_mem = tn_calloc((size_t)TN_FB_BUCKETS * TN_FB_TROW + 16, sizeof *m->logp);
	m->theme_counts = tn_calloc((size_t)TN_FB_THEME_BUCKETS * TN_FB_MAX_THEMES, sizeof *m->theme_counts);
	m->theme_logp_mem = tn_calloc((size_t)TN_FB_THEME_BUCKETS * TN_FB_THEME_SLAB + 16, sizeof *m->theme_logp);
	m->logp = m->logp_mem ? (float *)(((uintptr_t)m->logp_mem + 63) & ~(uintptr_t)63) : NULL;
	m->theme_logp = m->theme_logp_mem ? (float *)(((uintptr_t)m->theme_logp_mem + 63) & ~(uintptr_t)63) : NULL;
	if (!m->counts || !m->logp || !m->theme_counts || !m->theme_logp) {
		tn_fb_model_free(m);
		tn_error_set(err, TN_ERR_NOMEM, "out of memory for a feedback model");
		return NULL;
	}
	if (add_keywords(m, err)) {
		tn_fb_model_free(m);
		return NULL;
	}
	m->dirty = 1;
	return m;
}

void tn_fb_model_free(tn_fb_model *m)
{
	if (!m)
		return;
	free(m->counts);
	tn_fb_model_drop_rows(m);
	free(m->logp_mem);
	free(m->theme_counts);
	free(m->theme_logp_mem);
	for (size_t i = 0; i < m->nrules; i++)
		free(m->rules[i].keyword);
	free(m->rules);
	for (size_t i = 0; i < m->nkws; i++)
		free(m->kws[i].text);
	free(m->kws);
	free(m->kw_next);
	free(m->kw_chain);
	free(m);
}

size_t tn_fb_model_ntrain(const tn_fb_model *m) { return m->ntrain; }

/* A theme name is one line of printable text (it is a field of the model file). */
static int bad_theme(const char *theme)
{
	for (const unsigned char *p = (const unsigned char *)theme; *p; p++)
		if (*p < 0x20 || *p == 0x7F)
			return 1;
	return 0;
}

static int theme_index(tn_fb_model *m, const char *theme, int type, tn_error *err)
{
	for (size_t k = 0; k < m->nthemes; k++)
		if (strcmp(m->theme_name[k], theme) == 0)
			return (int)k;
	if (m->nthemes >= TN_FB_MAX_THEMES)
		return -tn_error_set(err, TN_ERR_NOMEM, "more than %d distinct themes", TN_FB_MAX_THEMES);
	if (strlen(theme) >= TN_FB_THEME_MAX)
		return -tn_error_set(err, TN_ERR_INPUT, "theme \"%.40s...\" is longer than %d bytes", theme,
				     TN_FB_THEME_MAX - 1);
	if (bad_theme(theme))
		return -tn_error_set(err, TN_ERR_INPUT, "theme \"%.40s\" contains a control character (tab, newline)",
				     theme);
	size_t k = m->nthemes++;
	snprintf(m->theme_name[k], TN_FB_THEME_MAX, "%s", theme);
	m->theme_type[k] = type;
	return (int)k;
}

int tn_fb_model_add(tn_fb_model *m, const char *text, size_t len, int type, const char *theme, tn_error *err)
{
	if (type < 0 || type >= TN_FB_NTYPES)
		return tn_error_set(err, TN_ERR_USAGE, "feedback type %d out of range", type);
	size_t nlen;
	char *t = tn_text_normalize(text, len, &nlen, err);
	if (!t)
		return tn_error_code(err, TN_ERR_INPUT);
	uint32_t f[TN_FB_MAX_FEATURES];
	unsigned char hit[TN_FB_MAX_KWS] = {0};
	size_t nf = tn_fb_features(t, nlen, f, TN_FB_MAX_FEATURES);
	tn_fb_kw_scan(m, t, nlen, hit);
	nf = tn_fb_kw_features(m, hit, f, nf, TN_FB_MAX_FEATURES);
	free(t);
	int th = -1;
	if (theme && *theme) {
		th = theme_index(m, theme, type, err);
		if (th < 0)
			return -th;
	}
	for (size_t i = 0; i < nf; i++) {
		m->counts[(size_t)(f[i] & (TN_FB_BUCKETS - 1)) * TN_FB_NTYPES + (size_t)type]++;
		if (th >= 0)
			m->theme_counts[(size_t)(f[i] & (TN_FB_THEME_BUCKETS - 1)) * TN_FB_MAX_THEMES + (size_t)th]++;
	}
	m->docs[type]++;
	m->tokens[type] += (double)nf;
	if (th >= 0) {
		m->theme_docs[th]++;
		m->theme_tokens[th] += (double)nf;
	}
	m->ntrain++;
	m->dirty = 1;
	return TN_OK;
}

static void rowmap_free(tn_fb_rowmap *rm)
{
	free(rm->bits);
	free(rm->cum);
	free(rm->rows);
	memset(rm, 0, sizeof *rm);
}

/* RM from the plain table IDX of NB buckets (a multiple of 64); on short
 * memory RM stays empty and the plain table is used. */
static void rowmap_build(tn_fb_rowmap *rm, const uint16_t *idx, size_t nb)
{
	rowmap_free(rm);
	size_t *freq = tn_calloc(65536, sizeof *freq);
	if (!freq)
		return;
	for (size_t b = 0; b < nb; b++)
		freq[idx[b]]++;
	size_t z = 0;
	for (size_t r = 1; r < 65536; r++)
		if (freq[r] > freq[z])
			z = r;
	size_t nflag = nb - freq[z];
	free(freq);
	rm->bits = tn_calloc(nb / 64, sizeof *rm->bits);
	rm->cum = tn_malloc(nb / 64 * sizeof *rm->cum);
	rm->rows = tn_calloc(nflag + 1, sizeof *rm->rows);
	if (!rm->bits || !rm->cum || !rm->rows) {
		rowmap_free(rm);
		return;
	}
	rm->zero = (uint16_t)z;
	size_t k = 0;
	for (size_t b = 0; b < nb; b++) {
		if (b % 64 == 0)
			rm->cum[b / 64] = (uint32_t)k;
		if (idx[b] != z) {
			rm->bits[b / 64] |= 1ull << (b % 64);
			rm->rows[k++] = idx[b];
		}
	}
}

void tn_fb_model_drop_rows(tn_fb_model *m)
{
	rowmap_free(&m->tmap);
	for (int t = 0; t < TN_FB_NTYPES; t++)
		rowmap_free(&m->thmap[t]);
	free(m->tidx);
	free(m->trows_mem);
	m->tidx = NULL;
	m->trows = m->trows_mem = NULL;
	for (int t = 0; t < TN_FB_NTYPES; t++) {
		free(m->thidx[t]);
		free(m->throws_mem[t]);
		m->thidx[t] = NULL;
		m->throws[t] = m->throws_mem[t] = NULL;
	}
}

#define DEDUP_MAX 65535u
#define DEDUP_SLOTS (1u << 17)

/* Number the distinct rows KEYS[b * W .. b * W + W) of NB buckets: IDX[b]
 * gets the row's number, FIRST[r] a bucket holding row r.  Returns the
 * number of rows, or 0 when there are more than DEDUP_MAX or memory is short. */
static size_t dedup_rows(const uint32_t *keys, size_t nb, size_t w, uint16_t *idx, uint32_t *first)
{
	uint32_t *slot = tn_calloc(DEDUP_SLOTS, sizeof *slot); /* row + 1, 0 = empty */
	if (!slot)
		return 0;
	size_t n = 0;
	for (size_t b = 0; b < nb; b++) {
		const uint32_t *k = keys + b * w;
		uint32_t h = 2166136261u;
		for (size_t j = 0; j < w; j++)
			h = (h ^ k[j]) * 16777619u;
		h ^= h >> 15;
		size_t s = h & (DEDUP_SLOTS - 1);
		for (;;) {
			if (!slot[s]) {
				if (n == DEDUP_MAX) {
					free(slot);
					return 0;
				}
				first[n] = (uint32_t)b;
				slot[s] = (uint32_t)++n;
				idx[b] = (uint16_t)(n - 1);
				break;
			}
			uint32_t r = slot[s] - 1;
			if (memcmp(keys + (size_t)first[r] * w, k, w * sizeof *k) == 0) {
				idx[b] = (uint16_t)r;
				break;
			}
			s = (s + 1) & (DEDUP_SLOTS - 1);
		}
	}
	free(slot);
	return n;
}

static float *alloc_rows(size_t nfloats, void **mem)
{
	*mem = tn_calloc(nfloats + 16, sizeof(float));
	return *mem ? (float *)(((uintptr_t)*mem + 63) & ~(uintptr_t)63) : NULL;
}

/* Multinomial NB with additive smoothing (a = TN_FB_ALPHA = 1: Laplace) over the V buckets in use:
 * log P(f | c) = log((n_fc + a) / (n_c + a V)), prior P(c) = (d_c + 1) / (D + C). */
void tn_fb_model_finish(tn_fb_model *m)
{
	size_t v = 0, vt = 0;
	for (size_t b = 0; b < TN_FB_BUCKETS; b++) {
		const uint32_t *c = m->counts + b * TN_FB_NTYPES;
		for (int k = 0; k < TN_FB_NTYPES; k++)
			if (c[k]) {
				v++;
				break;
			}
	}
	for (size_t b = 0; b < TN_FB_THEME_BUCKETS; b++) {
		const uint32_t *c = m->theme_counts + b * TN_FB_MAX_THEMES;
		for (size_t k = 0; k < m->nthemes; k++)
			if (c[k]) {
				vt++;
				break;
			}
	}
	if (v == 0)
		v = 1;
	if (vt == 0)
		vt = 1;
	double total = 0;
	for (int k = 0; k < TN_FB_NTYPES; k++)
		total += m->docs[k];
	double den[TN_FB_NTYPES];
	for (int k = 0; k < TN_FB_NTYPES; k++) {
		m->prior[k] = log((m->docs[k] + 1) / (total + TN_FB_NTYPES));
		den[k] = log(m->tokens[k] + TN_FB_ALPHA * (double)v);
	}
	tn_fb_model_drop_rows(m);
	uint32_t *first = tn_malloc((DEDUP_MAX + 1) * sizeof *first);
	size_t nrow = 0;
	m->tidx = tn_malloc(TN_FB_BUCKETS * sizeof *m->tidx);
	if (first && m->tidx)
		nrow = dedup_rows(m->counts, TN_FB_BUCKETS, TN_FB_NTYPES, m->tidx, first);
	if (nrow)
		m->trows = alloc_rows(nrow * TN_FB_TROW, &m->trows_mem);
	if (m->trows)
		for (size_t r = 0; r < nrow; r++)
			for (int k = 0; k < TN_FB_NTYPES; k++) {
				size_t j = (size_t)first[r] * TN_FB_NTYPES + (size_t)k;
				m->trows[r * TN_FB_TROW + (size_t)k] = (float)(log(m->counts[j] + TN_FB_ALPHA) - den[k]);
			}
	else {
		tn_fb_model_drop_rows(m);
		for (size_t b = 0; b < TN_FB_BUCKETS; b++)
			for (int k = 0; k < TN_FB_NTYPES; k++) {
				size_t j = b * TN_FB_NTYPES + (size_t)k;
				m->logp[b * TN_FB_TROW + (size_t)k] = (float)(log(m->counts[j] + TN_FB_ALPHA) - den[k]);
			}
	}
	/* the theme slices: type t's themes in the order of k */
	size_t col[TN_FB_MAX_THEMES], off = 0;
	for (int t = 0; t < TN_FB_NTYPES; t++) {
		size_t n = 0;
		for (size_t k = 0; k < m->nthemes; k++)
			if (m->theme_type[k] == t)
				col[k] = n++;
		size_t stride = n <= 1 ? n : n <= 2 ? 2 : n <= 4 ? 4 : n <= 8 ? 8 : (n + 15) / 16 * 16;
		m->theme_off[t] = off * TN_FB_THEME_BUCKETS;
		m->theme_stride[t] = stride;
		off += stride;
	}
	double tden[TN_FB_MAX_THEMES];
	for (size_t k = 0; k < m->nthemes; k++)
		tden[k] = log(m->theme_tokens[k] + TN_FB_ALPHA * (double)vt);
	for (size_t k = 0; k < m->nthemes; k++)
		m->theme_lprior[k] = log(m->theme_docs[k] + 1);
	/* per type: the counts of its themes, deduplicated as above */
	uint32_t *keys = tn_malloc((size_t)TN_FB_THEME_BUCKETS * TN_FB_MAX_THEMES * sizeof *keys);
	for (int t = 0; t < TN_FB_NTYPES; t++) {
		size_t kk[TN_FB_MAX_THEMES], n = 0;
		for (size_t k = 0; k < m->nthemes; k++)
			if (m->theme_type[k] == t)
				kk[n++] = k;
		if (!n)
			continue;
		nrow = 0;
		m->thidx[t] = first && keys ? tn_malloc(TN_FB_THEME_BUCKETS * sizeof *m->thidx[t]) : NULL;
		if (m->thidx[t]) {
			for (size_t b = 0; b < TN_FB_THEME_BUCKETS; b++)
				for (size_t j = 0; j < n; j++)
					keys[b * n + j] = m->theme_counts[b * TN_FB_MAX_THEMES + kk[j]];
			nrow = dedup_rows(keys, TN_FB_THEME_BUCKETS, n, m->thidx[t], first);
		}
		if (nrow)
			m->throws[t] = alloc_rows(nrow * m->theme_stride[t], &m->throws_mem[t]);
		if (m->throws[t]) {
			for (size_t r = 0; r < nrow; r++)
				for (size_t j = 0; j < n; j++)
					m->throws[t][r * m->theme_stride[t] + j] = (float)(
						log(m->theme_counts[(size_t)first[r] * TN_FB_MAX_THEMES + kk[j]] + TN_FB_ALPHA) -
						tden[kk[j]]);
			continue;
		}
		free(m->thidx[t]);
		m->thidx[t] = NULL;
		for (size_t b = 0; b < TN_FB_THEME_BUCKETS; b++)
			for (size_t j = 0; j < n; j++)
				m->theme_logp[m->theme_off[t] + b * m->theme_stride[t] + col[kk[j]]] = (float)(
					log(m->theme_counts[b * TN_FB_MAX_THEMES + kk[j]] + TN_FB_ALPHA) - tden[kk[j]]);
	}
	free(keys);
	free(first);
	if (m->tidx)
		rowmap_build(&m->tmap, m->tidx, TN_FB_BUCKETS);
	for (int t = 0; t < TN_FB_NTYPES; t++)
		if (m->thidx[t])
			rowmap_build(&m->thmap[t], m->thidx[t], TN_FB_THEME_BUCKETS);
	for (size_t k = 0; k < m->nthemes; k++) {
		m->theme_def[k] = -1;
		for (size_t d = 0; d < tn_fb_ntheme_defs; d++)
			if (strcmp(tn_fb_themes[d].name, m->theme_name[k]) == 0)
				m->theme_def[k] = (int)d;
	}
	m->dirty = 0;
}

int tn_fb_model_add_rule(tn_fb_model *m, const char *keyword, int type, const char *theme, tn_error *err)
{
	if (type < 0 || type >= TN_FB_NTYPES)
		return tn_error_set(err, TN_ERR_USAGE, "rule type %d out of range", type);
	if (m->nrules >= TN_FB_MAX_RULES)
		return tn_error_set(err, TN_ERR_NOMEM, "more than %d rules", TN_FB_MAX_RULES);
	if (theme && strlen(theme) >= TN_FB_THEME_MAX)
		return tn_error_set(err, TN_ERR_INPUT, "rule theme \"%.40s...\" is longer than %d bytes", theme,
				    TN_FB_THEME_MAX - 1);
	if (theme && bad_theme(theme))
		return tn_error_set(err, TN_ERR_INPUT, "rule theme \"%.40s\" contains a control character", theme);
	size_t len;
	char *k = tn_text_normalize(keyword, strlen(keyword), &len, err);
	if (!k)
		return tn_error_code(err, TN_ERR_INPUT);
	if (len == 0) {
		free(k);
		return tn_error_set(err, TN_ERR_INPUT, "empty rule keyword");
	}
	tn_fb_rule *r = tn_realloc(m->rules, (m->nrules + 1) * sizeof *r);
	if (!r) {
		free(k);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory for rules");
	}
	m->rules = r;
	tn_fb_rule *n = &m->rules[m->nrules++];
	n->keyword = k;
	n->len = len;
	n->type = type;
	snprintf(n->theme, sizeof n->theme, "%s", theme ? theme : "");
	return TN_OK;
}

/* Index of column NAME in the header row of R, or -1. */
static int header_col(tn_csv *r, const char *name)
{
	if (!name)
		return -1;
	for (size_t j = 0; j < tn_csv_nfields(r); j++)
		if (strcmp(tn_csv_field(r, j, NULL), name) == 0)
			return (int)j;
	return -1;
}

static int missing_col(tn_csv *r, const char *name, tn_error *err)
{
	char cols[512] = "";
	size_t o = 0;
	for (size_t j = 0; j < tn_csv_nfields(r) && o < sizeof cols - 1; j++)
		o += (size_t)snprintf(cols + o, sizeof cols - o, "%s%s", j ? ", " : "", tn_csv_field(r, j, NULL));
	return tn_error_set(err, TN_ERR_INPUT, "%s: no column \"%s\"; columns are: %s", tn_csv_name(r), name,
			    cols);
}

int tn_fb_model_load_rules(tn_fb_model *m, const char *path, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	tn_csv *r = tn_csv_open(path, ',', err);
	if (!r)
		return tn_error_code(err, TN_ERR_IO);
	int rc = TN_OK;
	int got = tn_csv_next(r, err);
	if (got <= 0) {
		rc = got < 0 ? err->code : tn_error_set(err, TN_ERR_INPUT, "%s: empty rules file", path);
		goto out;
	}
	int ck = header_col(r, "keyword"), ct = header_col(r, "type"), ch = header_col(r, "theme");
	if (ck < 0 || ct < 0) {
		rc = missing_col(r, ck < 0 ? "keyword" : "type", err);
		goto out;
	}
	while ((got = tn_csv_next(r, err)) == 1) {
		const char *kw = (size_t)ck < tn_csv_nfields(r) ? tn_csv_field(r, (size_t)ck, NULL) : "";
		const char *ty = (size_t)ct < tn_csv_nfields(r) ? tn_csv_field(r, (size_t)ct, NULL) : "";
		const char *th = ch >= 0 && (size_t)ch < tn_csv_nfields(r) ? tn_csv_field(r, (size_t)ch, NULL) : NULL;
		int type = tn_fb_type_parse(ty);
		if (type < 0) {
			rc = tn_error_set(err, TN_ERR_INPUT,
					  "%s:%ld:%d: type: expected one of " TN_FB_TYPE_LIST "; found \"%s\"",
					  path, tn_csv_line(r), ct + 1, ty);
			goto out;
		}
		tn_error e2 = {0};
		if (tn_fb_model_add_rule(m, kw, type, th && *th ? th : NULL, &e2)) {
			rc = tn_error_set(err, e2.code, "%s:%ld:%d: keyword: %s", path, tn_csv_line(r), ck + 1, e2.msg);
			goto out;
		}
	}
	if (got < 0)
		rc = err->code;
out:
	tn_csv_close(r);
	return rc;
}

int tn_fb_model_train_csv(tn_fb_model *m, const char *path, const char *text_col, const char *label_col,
			  const char *theme_col, size_t *nrows, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	tn_csv *r = tn_csv_open(path, ',', err);
	if (!r)
		return tn_error_code(err, TN_ERR_IO);
	int rc = TN_OK;
	size_t n = 0;
	int got = tn_csv_next(r, err);
	if (got <= 0) {
		rc = got < 0 ? err->code : tn_error_set(err, TN_ERR_INPUT, "%s: empty file, expected a header", path);
		goto out;
	}
	int cx = header_col(r, text_col), cl = header_col(r, label_col), ch = header_col(r, theme_col);
	if (cx < 0 || cl < 0) {
		rc = missing_col(r, cx < 0 ? text_col : label_col, err);
		goto out;
	}
	while ((got = tn_csv_next(r, err)) == 1) {
		size_t nf = tn_csv_nfields(r), len;
		if ((size_t)cx >= nf || (size_t)cl >= nf) {
			rc = tn_error_set(err, TN_ERR_INPUT, "%s:%ld: expected at least %d fields, found %zu", path,
					  tn_csv_line(r), (cx > cl ? cx : cl) + 1, nf);
			goto out;
		}
		const char *label = tn_csv_field(r, (size_t)cl, NULL);
		int type = tn_fb_type_parse(label);
		if (type < 0) {
			rc = tn_error_set(err, TN_ERR_INPUT,
					  "%s:%ld:%d: %s: expected one of " TN_FB_TYPE_LIST "; found \"%s\"",
					  path, tn_csv_field_line(r, (size_t)cl), cl + 1, label_col, label);
			goto out;
		}
		const char *text = tn_csv_field(r, (size_t)cx, &len);
		const char *theme = ch >= 0 && (size_t)ch < nf ? tn_csv_field(r, (size_t)ch, NULL) : NULL;
		tn_error e2 = {0};
		if (tn_fb_model_add(m, text, len, type, theme, &e2)) {
			int on_theme = strncmp(e2.msg, "theme", 5) == 0 || strncmp(e2.msg, "more than", 9) == 0;
			int c = on_theme ? ch : cx;
			rc = tn_error_set(err, e2.code, "%s:%ld:%d: %s: %s", path, tn_csv_field_line(r, (size_t)c), c + 1,
					  on_theme ? theme_col : text_col, e2.msg);
			goto out;
		}
		n++;
	}
	if (got < 0)
		rc = err->code;
	else if (n == 0)
		rc = tn_error_set(err, TN_ERR_INPUT, "%s: no labelled rows", path);
out:
	tn_csv_close(r);
	if (rc == TN_OK)
		tn_fb_model_finish(m);
	if (nrows)
		*nrows = n;
	return rc;
}

tn_fb_model *tn_fb_model_default(const char *exe_dir, tn_error *err)
{
	char cand[4][4096];
	size_t nc = 0;
	const char *env = getenv("TENURE_DATA");
	if (env && *env)
		snprintf(cand[nc++], sizeof cand[0], "%s/feedback/train.csv", env);
	if (exe_dir && *exe_dir) {
		snprintf(cand[nc++], sizeof cand[0], "%s/../data/feedback/train.csv", exe_dir);
		snprintf(cand[nc++], sizeof cand[0], "%s/../../data/feedback/train.csv", exe_dir);
	}
	snprintf(cand[nc++], sizeof cand[0], "data/feedback/train.csv");
	for (size_t i = 0; i < nc; i++) {
		FILE *fp = fopen(cand[i], "rb");
		if (!fp)
			continue;
		fclose(fp);
		tn_fb_model *m = tn_fb_model_new(err);
		if (!m)
			return NULL;
		if (tn_fb_model_train_csv(m, cand[i], "text", "type", "theme", NULL, err)) {
			tn_fb_model_free(m);
			return NULL;
		}
		return m;
	}
	tn_error_set(err, TN_ERR_NOTFOUND,
		     "cannot find the training set data/feedback/train.csv (looked in $TENURE_DATA/feedback, "
		     "beside the executable and in ./data); set TENURE_DATA or pass --model FILE");
	return NULL;
}

