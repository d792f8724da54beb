/*
 * json.c -- the one JSON writer (tenure/json.h): cJSON trees printed with
 * exact numbers and null for NaN and infinities.
 */
#include "tenure/json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *tn_json_num_text(double v, char *buf, size_t cap)
{
	if (!isfinite(v)) {
		snprintf(buf, cap, "null");
		return buf;
	}
	if (v == 0)
		v = 0; /* no "-0" */
	for (int p = 6; p <= 17; p++) { /* the shortest %.Ng that reads back exactly */
		snprintf(buf, cap, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

cJSON *tn_json_num(double v)
{
	char buf[40];
	if (!isfinite(v))
		return cJSON_CreateNull();
	return cJSON_CreateRaw(tn_json_num_text(v, buf, sizeof buf));
}

cJSON *tn_json_add_num(cJSON *o, const char *key, double v)
{
	cJSON *item = tn_json_num(v);
	if (item && !cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

cJSON *tn_json_push_num(cJSON *a, double v)
{
	cJSON *item = tn_json_num(v);
	if (item && !cJSON_AddItemToArray(a, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

char *tn_json_print(const cJSON *v)
{
	return cJSON_PrintUnformatted(v);
}

int tn_json_write(FILE *fp, const cJSON *v)
{
	char *s = tn_json_print(v);
	if (!s)
		return TN_ERR_NOMEM;
	int bad = fputs(s, fp) == EOF || fputc('\n', fp) == EOF;
	free(s);
	return bad ? TN_ERR_IO : TN_OK;
}

void tn_json_stream_begin(tn_json_stream *s, FILE *fp)
{
	s->fp = fp;
	s->n = 0;
	s->failed = fputc('[', fp) == EOF;
}

void tn_json_stream_item(tn_json_stream *s, const cJSON *item)
{
	char *t = tn_json_print(item);
	if (!t) {
		s->failed = 1;
		return;
	}
	if ((s->n && fputs(",\n", s->fp) == EOF) || fputs(t, s->fp) == EOF)
		s->failed = 1;
	s->n++;
	free(t);
}

int tn_json_stream_end(tn_json_stream *s)
{
	if (fputs("]\n", s->fp) == EOF)
		s->failed = 1;
	return s->failed ? TN_ERR_IO : TN_OK;
}
