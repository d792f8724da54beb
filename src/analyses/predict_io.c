/*
 * predict_io.c -- save and load a churn-risk model as one JSON file:
 *   {"format": "tenure-risk-model", "version": 1, "model": "logistic"|"gbdt",
 *    "target", "positive", "id", "horizon_days" (trained on the store; optional),
 *    "encoding": [{"name", "type": "numeric", "mean", "missing_indicator"} |
 *                 {"name", "type": "text", "levels": [reference, ...]}],
 *    "logistic": {"intercept", "beta", "mean", "sd", "l2"}        (logistic)
 *    "xgboost_json": "<XGBoost's own JSON model, as a string>"}   (gbdt)
 * Doubles are written with %.17g (exact), so a loaded model gives
 * bit-identical scores.
 */
#include "tenure/predict.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include "tenure/json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_FILE_MAX (512L * 1024 * 1024)

/* A number written with %.17g as raw JSON: cJSON's own printer accepts a
 * 15-digit form when it is merely close, and scores must not move. */
static cJSON *exact(double v)
{
	return tn_json_num(v); /* shortest exact digits; null if not finite */
}

static cJSON *num_array(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, exact(v[i]));
	return a;
}

static cJSON *to_json(const tn_pred_model *m, tn_error *err)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "format", "tenure-risk-model");
	tn_json_add_num(root, "version", 1);
	cJSON_AddStringToObject(root, "model", tn_pred_kind_name(m->kind));
	cJSON_AddStringToObject(root, "target", m->target ? m->target : "");
	if (m->positive)
		cJSON_AddStringToObject(root, "positive", m->positive);
	if (m->id)
		cJSON_AddStringToObject(root, "id", m->id);
	if (m->horizon_days > 0)
		cJSON_AddNumberToObject(root, "horizon_days", m->horizon_days);
	cJSON *enc = cJSON_AddArrayToObject(root, "encoding");
	for (size_t s = 0; s < m->enc->nsrc; s++) {
		const tn_pred_source *src = &m->enc->src[s];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(enc, o);
		cJSON_AddStringToObject(o, "name", src->name);
		if (src->is_numeric) {
			cJSON_AddStringToObject(o, "type", "numeric");
			cJSON_AddItemToObject(o, "mean", exact(src->mean));
			cJSON_AddBoolToObject(o, "missing_indicator", src->has_missing);
		} else {
			cJSON_AddStringToObject(o, "type", "text");
			cJSON *lv = cJSON_AddArrayToObject(o, "levels");
			for (size_t l = 0; l < src->nlevels; l++)
				cJSON_AddItemToArray(lv, cJSON_CreateString(src->levels[l]));
		}
	}
	if (m->kind == TN_PRED_LOGISTIC) {
		cJSON *lg = cJSON_AddObjectToObject(root, "logistic");
		cJSON_AddItemToObject(lg, "intercept", exact(m->logit->intercept));
		cJSON_AddItemToObject(lg, "beta", num_array(m->logit->beta, m->logit->p));
		cJSON_AddItemToObject(lg, "mean", num_array(m->logit->mean, m->logit->p));
		cJSON_AddItemToObject(lg, "sd", num_array(m->logit->sd, m->logit->p));
		cJSON_AddItemToObject(lg, "l2", exact(m->logit->l2));
	} else {
		char *xj;
		if (tn_gbdt_to_json(m->gbdt, &xj, err)) {
			cJSON_Delete(root);
			return NULL;
		}
		cJSON_AddStringToObject(root, "xgboost_json", xj);
		free(xj);
	}
	return root;
}

int tn_pred_save(const tn_pred_model *m, const char *path, tn_error *err)
{
	cJSON *root = to_json(m, err);
	if (!root)
		return tn_error_code(err, TN_ERR_NOMEM);
	char *text = tn_json_print(root);
	cJSON_Delete(root);
	if (!text)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory (model JSON)");
	FILE *fp = fopen(path, "wb");
	int rc = TN_OK;
	if (!fp)
		rc = tn_error_set(err, TN_ERR_IO, "%s: cannot create the model file", path);
	else {
		size_t len = strlen(text);
		if (fwrite(text, 1, len, fp) != len || fputc('\n', fp) == EOF)
			rc = tn_error_set(err, TN_ERR_IO, "%s: write failed", path);
		if (fclose(fp) && !rc)
			rc = tn_error_set(err, TN_ERR_IO, "%s: write failed", path);
	}
	cJSON_free(text);
	return rc;
}

static char *read_all(const char *path, size_t *len, tn_error *err)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		tn_error_set(err, TN_ERR_IO, "%s: cannot open the model file", path);
		return NULL;
	}
	long sz = -1;
	if (fseek(fp, 0, SEEK_END) == 0)
		sz = ftell(fp);
	if (sz < 0 || sz > MODEL_FILE_MAX || fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		tn_error_set(err, TN_ERR_IO, "%s: cannot read (or larger than %ld bytes)", path, MODEL_FILE_MAX);
		return NULL;
	}
	char *buf = tn_malloc((size_t)sz + 1);
	if (!buf || fread(buf, 1, (size_t)sz, fp) != (size_t)sz) {
		free(buf);
		fclose(fp);
		tn_error_set(err, TN_ERR_IO, "%s: read failed", path);
		return NULL;
	}
	fclose(fp);
	buf[sz] = '\0';
	*len = (size_t)sz;
	return buf;
}

static int bad(tn_error *err, const char *path, const char *what)
{
	return tn_error_set(err, TN_ERR_INPUT, "%s: not a Tenure risk model: %s", path, what);
}

static int get_array(const cJSON *a, size_t p, double *out)
{
	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != p)
		return -1;
	size_t i = 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, a)
	{
		if (!cJSON_IsNumber(v))
			return -1;
		out[i++] = v->valuedouble;
	}
	return 0;
}

static char *opt_string(const cJSON *root, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
	return cJSON_IsString(v) ? tn_strdup(v->valuestring) : NULL;
}

/* Rebuild the encoding (names of design columns included) from JSON. */
static int load_encoding(const cJSON *arr, const char *path, tn_pred_encoding **out, tn_error *err)
{
	size_t ns = (size_t)cJSON_GetArraySize(arr);
	if (!cJSON_IsArray(arr) || ns == 0)
		return bad(err, path, "no \"encoding\" array");
	/* Reuse tn_pred_encoding_fit's naming by building a one-row frame would be
	 * heavier than writing the few lines here. */
	tn_pred_encoding *e = tn_calloc(1, sizeof *e);
	if (!e || !(e->src = tn_calloc(ns, sizeof *e->src))) {
		free(e);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	int rc = TN_OK;
	size_t total = 0;
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		tn_pred_source *s = &e->src[e->nsrc++];
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
		const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
		if (!cJSON_IsString(nm) || !cJSON_IsString(ty)) {
			rc = bad(err, path, "an encoding entry lacks name/type");
			break;
		}
		if (!(s->name = tn_strdup(nm->valuestring))) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
		s->is_numeric = strcmp(ty->valuestring, "numeric") == 0;
		if (s->is_numeric) {
			const cJSON *mu = cJSON_GetObjectItemCaseSensitive(o, "mean");
			s->mean = cJSON_IsNumber(mu) ? mu->valuedouble : 0.0;
			s->has_missing = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "missing_indicator"));
			s->nfeat = 1 + (size_t)s->has_missing;
		} else {
			const cJSON *lv = cJSON_GetObjectItemCaseSensitive(o, "levels"), *l;
			size_t nl = (size_t)cJSON_GetArraySize(lv);
			if (!cJSON_IsArray(lv) || nl > TN_PRED_MAX_LEVELS ||
			    !(s->levels = tn_calloc(nl ? nl : 1, sizeof *s->levels))) {
				rc = bad(err, path, "bad text levels");
				break;
			}
			cJSON_ArrayForEach(l, lv) if (!(s->levels[s->nlevels++] =
								tn_strdup(cJSON_IsString(l) ? l->valuestring : "")))
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			if (rc)
				break;
			s->nfeat = nl ? nl - 1 : 0;
		}
		s->first = total;
		total += s->nfeat;
	}
	if (!rc && (!(e->feature = tn_calloc(total ? total : 1, sizeof *e->feature)) ||
		    !(e->feature_src = tn_calloc(total ? total : 1, sizeof *e->feature_src))))
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	for (size_t s = 0; s < e->nsrc && !rc; s++) {
		const tn_pred_source *src = &e->src[s];
		for (size_t k = 0; k < src->nfeat; k++) {
			char name[600];
			if (src->is_numeric)
				snprintf(name, sizeof name, "%s%s", src->name, k ? " (missing)" : "");
			else
				snprintf(name, sizeof name, "%s=%s", src->name, src->levels[k + 1]);
			if (!(e->feature[e->p] = tn_strdup(name))) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			e->feature_src[e->p++] = s;
		}
	}
	if (rc) {
		tn_pred_encoding_free(e);
		return rc;
	}
	*out = e;
	return TN_OK;
}

int tn_pred_load(const char *path, tn_pred_model **out, tn_error *err)
{
	*out = NULL;
	size_t len;
	char *text = read_all(path, &len, err);
	if (!text)
		return tn_error_code(err, TN_ERR_IO);
	cJSON *root = cJSON_ParseWithLength(text, len);
	free(text);
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
	if (!root || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, "tenure-risk-model") != 0) {
		cJSON_Delete(root);
		return bad(err, path, "expected a JSON object with \"format\": \"tenure-risk-model\"");
	}
	tn_pred_model *m = tn_calloc(1, sizeof *m);
	int rc = m ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "model");
	int k = cJSON_IsString(kind) ? tn_pred_kind_parse(kind->valuestring) : -1;
	if (!rc && k < 0)
		rc = bad(err, path, "\"model\" must be \"logistic\" or \"gbdt\"");
	if (!rc) {
		m->kind = (tn_pred_kind)k;
		m->target = opt_string(root, "target");
		m->positive = opt_string(root, "positive");
		m->id = opt_string(root, "id");
		const cJSON *hz = cJSON_GetObjectItemCaseSensitive(root, "horizon_days");
		m->horizon_days = cJSON_IsNumber(hz) && hz->valuedouble > 0 ? hz->valuedouble : 0;
		if ((cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "target")) && !m->target) ||
		    (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "positive")) && !m->positive) ||
		    (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "id")) && !m->id))
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	if (!rc) {
		rc = load_encoding(cJSON_GetObjectItemCaseSensitive(root, "encoding"), path, &m->enc, err);
	}
	if (!rc && m->kind == TN_PRED_LOGISTIC) {
		const cJSON *lg = cJSON_GetObjectItemCaseSensitive(root, "logistic");
		size_t p = m->enc->p;
		tn_logit *g = tn_calloc(1, sizeof *g);
		m->logit = g;
		if (!g || !(g->beta = tn_calloc(p ? p : 1, sizeof(double))) ||
		    !(g->mean = tn_calloc(p ? p : 1, sizeof(double))) || !(g->sd = tn_calloc(p ? p : 1, sizeof(double))))
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		const cJSON *ic = cJSON_GetObjectItemCaseSensitive(lg, "intercept");
		const cJSON *l2 = cJSON_GetObjectItemCaseSensitive(lg, "l2");
		if (!rc && (!cJSON_IsNumber(ic) || get_array(cJSON_GetObjectItemCaseSensitive(lg, "beta"), p, g->beta) ||
			    get_array(cJSON_GetObjectItemCaseSensitive(lg, "mean"), p, g->mean) ||
			    get_array(cJSON_GetObjectItemCaseSensitive(lg, "sd"), p, g->sd)))
			rc = bad(err, path, "\"logistic\" needs intercept and beta/mean/sd arrays matching the encoding");
		if (!rc) {
			g->p = p;
			g->intercept = ic->valuedouble;
			g->l2 = cJSON_IsNumber(l2) ? l2->valuedouble : 0.0;
		}
	} else if (!rc) {
		const cJSON *xj = cJSON_GetObjectItemCaseSensitive(root, "xgboost_json");
		if (!cJSON_IsString(xj))
			rc = bad(err, path, "no \"xgboost_json\"");
		else
			rc = tn_gbdt_from_json(xj->valuestring, strlen(xj->valuestring), m->enc->p, &m->gbdt, err);
	}
	cJSON_Delete(root);
	if (rc) {
		tn_pred_model_free(m);
		return rc;
	}
	*out = m;
	return TN_OK;
}
