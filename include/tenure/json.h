/*
 * tenure/json.h -- the one JSON writer.
 *
 * Every JSON document Tenure prints or stores is a cJSON tree printed here,
 * or a stream of such trees (one array of objects written item by item, for
 * outputs too large to hold).  Numbers go through tn_json_num: a finite
 * number is written with the shortest digits that read back exactly, and
 * NaN or an infinity becomes null, so the output is always valid JSON
 * (RFC 8259 has no NaN or Infinity).
 */
#ifndef TENURE_JSON_H
#define TENURE_JSON_H

#include <stddef.h>
#include <stdio.h>
#include "tenure/error.h"

struct cJSON;

/* A number item: exact shortest digits, or null when V is not finite. */
TN_API struct cJSON *tn_json_num(double v);
/* Add KEY: tn_json_num(V) to object O; returns the item (NULL on OOM). */
TN_API struct cJSON *tn_json_add_num(struct cJSON *o, const char *key, double v);
/* Append tn_json_num(V) to array A. */
TN_API struct cJSON *tn_json_push_num(struct cJSON *a, double v);
/* Shortest "%.Ng" digits of a finite V that read back exactly into BUF
 * (at least 32 bytes); "null" when V is not finite. */
TN_API const char *tn_json_num_text(double v, char *buf, size_t cap);

/* Print V unformatted (malloc'd; NULL when out of memory). */
TN_API char *tn_json_print(const struct cJSON *v);
/* Write V and a newline to FP.  TN_OK, or TN_ERR_NOMEM / TN_ERR_IO. */
TN_API int tn_json_write(FILE *fp, const struct cJSON *v);

/* An array written one item at a time: begin, item..., end. */
typedef struct tn_json_stream {
	FILE *fp;
	size_t n;   /* items written */
	int failed; /* a write or an allocation failed */
} tn_json_stream;

TN_API void tn_json_stream_begin(tn_json_stream *s, FILE *fp);
/* Write ITEM (the caller still owns it) as the next element. */
TN_API void tn_json_stream_item(tn_json_stream *s, const struct cJSON *item);
/* Close the array ("]\n"); TN_OK, or TN_ERR_IO when anything failed. */
TN_API int tn_json_stream_end(tn_json_stream *s);

#endif
