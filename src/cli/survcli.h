/*
 * survcli.h -- the data sources of `tenure survival` and `tenure drivers`.
 * Each command gets its arrays from one function, so a store mode
 * (--definition NAME, from the churn definitions) is one more loader.
 */
#ifndef TENURE_SURVCLI_H
#define TENURE_SURVCLI_H

#include "tenure.h"

typedef struct surv_data {
	size_t n, dropped;
	double *time, *event;
	int *group;     /* NULL without --by */
	char **labels;  /* ngroups labels, NULL without --by */
	int ngroups;
} surv_data;

/* Take TCOL, ECOL and (optional) BYCOL of frame F (NAME for messages). */
int surv_load_frame(const tn_frame *f, const char *name, const char *tcol, const char *ecol, const char *bycol,
		    surv_data *d, tn_error *err);

/* The store mode: one row per spell under churn DEFINITION (NULL: the
 * built-in "cancelled") as of AS_OF (NULL: the data's end), from the store
 * at ctx->db_path; columns time (days), event, plan, channel, ...
 * (tn_churn_frame).  NULL with err set on failure. */
struct cli_ctx;
tn_frame *surv_store_frame(const struct cli_ctx *ctx, const char *definition, const char *as_of, int all_spells,
			   tn_error *err);
/* The same with CAUSES: the columns cause (voluntary|involuntary|censored),
 * churn_cause and source are added (competing risks, docs/churn.md). */
tn_frame *surv_store_frame_causes(const struct cli_ctx *ctx, const char *definition, const char *as_of,
				  int all_spells, int causes, tn_error *err);
/* The text of row R of column C ("" when blank; numbers as %.17g trimmed). */
const char *surv_cell_text(const tn_column *c, size_t r, char *buf, size_t n);
/* 1 when V names "no event" in a factor status column: 0, censor, censored. */
int surv_is_censored_level(const char *v);
/* Append a numeric column NAME to F: 1 where STATUS equals LEVEL, 0 where it
 * holds another value, NaN where blank (cause-specific: other causes are
 * censoring).  TN_ERR_INPUT when STATUS is missing. */
int surv_add_cause_event(tn_frame *f, const char *status, const char *level, const char *name, tn_error *err);
void surv_data_free(surv_data *d);
/* A p-value for a sentence: "p = 0.0123", "p = 1.8e-89", and "p < 1e-16"
 * below that (a double's precision: tiny p-values round to 0). */
const char *surv_p_text(double p, char *buf, size_t n);

#endif
