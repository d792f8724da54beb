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

/* Read TCOL, ECOL and (optional) BYCOL of the CSV file PATH. */
int surv_load_csv(const char *path, const char *tcol, const char *ecol, const char *bycol, surv_data *d,
		  tn_error *err);
void surv_data_free(surv_data *d);

#endif
