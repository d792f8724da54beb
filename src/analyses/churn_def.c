/*
 * churn_def.c -- named churn definitions: checking, the JSON rule form and
 * the churn_definitions table (see include/tenure/churn.h, docs/churn.md).
 *
 * Stored form: {"cancelled":true,"grace_days":7,"inactive_days":30,
 * "event_types":["session"],"defection":{"window":30,"baseline":90,
 * "fraction":0.5},"failed_payment_days":14}; absent keys are rules off.
 */
#include "store/db.h"
#include "store/store_sqlite.h"
#include "base/alloc.h"
#include "tenure/churn.h"

#include "tenure/json.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TN_CHURN_MAX_DEFS 1000

const char *tn_churn_reason_name(int reason)
{
	switch (reason) {
	case TN_CHURN_CANCELLED: return "cancelled";
	case TN_CHURN_INACTIVE: return "inactive";
	case TN_CHURN_DEFECTION: return "defection";
	case TN_CHURN_FAILED_PAYMENT: return "failed_payment";
	case TN_CHURN_OTHER_CAUSE: return "other_cause";
	default: return "censored";
	}
}

int tn_churn_cause_class(const char *cause)
{
	static const char *const vol[] = {"voluntary", "price_increase", "refund", "other"};
	static const char *const inv[] = {"billing", "revoked", "product_unavailable"};
	if (!cause)
		return TN_CAUSE_NONE;
	for (size_t i = 0; i < sizeof vol / sizeof *vol; i++)
		if (strcmp(cause, vol[i]) == 0)
			return TN_CAUSE_VOLUNTARY;
	for (size_t i = 0; i < sizeof inv / sizeof *inv; i++)
		if (strcmp(cause, inv[i]) == 0)
			return TN_CAUSE_INVOLUNTARY;
	return TN_CAUSE_NONE;
}

const char *tn_churn_cause_class_name(int cls)
{
	return cls == TN_CAUSE_VOLUNTARY ? "voluntary" : cls == TN_CAUSE_INVOLUNTARY ? "involuntary" : "censored";
}

/* The built-ins: "cancelled", and "voluntary" / "involuntary" (the same rule
 * counting one class of causes).  1 when NAME is one of them. */
static int builtin(const char *name, tn_churn_def *d)
{
	int cls = strcmp(name, "voluntary") == 0	? TN_CAUSE_VOLUNTARY
		  : strcmp(name, "involuntary") == 0 ? TN_CAUSE_INVOLUNTARY
						     : -1;
	if (cls < 0 && strcmp(name, "cancelled") != 0)
		return 0;
	tn_churn_def_default(d);
	if (cls > 0) {
		snprintf(d->name, sizeof d->name, "%s", name);
		d->cause_class = cls;
	}
	return 1;
}

void tn_churn_def_default(tn_churn_def *def)
{
	memset(def, 0, sizeof *def);
	snprintf(def->name, sizeof def->name, "cancelled");
	def->cancelled = 1;
	def->grace_days = 7;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= TN_CHURN_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

int tn_churn_def_check(const tn_churn_def *d, tn_error *err)
{
	if (!valid_name(d->name))
		return tn_error_set(err, TN_ERR_USAGE,
				    "churn definition name \"%s\": expected 1-%d letters, digits, '_', '-' or '.'",
				    d->name, TN_CHURN_NAME_MAX - 1);
	if (!d->cancelled && d->inactive_days <= 0 && d->defection_window <= 0 && !d->failed_payment)
		return tn_error_set(err, TN_ERR_USAGE,
				    "churn definition \"%s\": expected at least one rule (--cancelled, "
				    "--inactive-days, --defection-window, --failed-payment-days)",
				    d->name);
	if (!(d->grace_days >= 0 && d->grace_days <= 3650))
		return tn_error_set(err, TN_ERR_USAGE, "grace days: expected 0 to 3650, found %g", d->grace_days);
	if (!(d->inactive_days >= 0 && d->inactive_days <= 3650))
		return tn_error_set(err, TN_ERR_USAGE, "inactive days: expected 0 to 3650, found %g", d->inactive_days);
	if (d->defection_window > 0) {
		if (!(d->defection_window <= 3650 && d->defection_baseline > 0 && d->defection_baseline <= 3650))
			return tn_error_set(err, TN_ERR_USAGE,
					    "defection: expected a window and a baseline of 1 to 3650 days, found %g and %g",
					    d->defection_window, d->defection_baseline);
		if (!(d->defection_fraction > 0 && d->defection_fraction <= 1))
			return tn_error_set(err, TN_ERR_USAGE, "defection fraction: expected 0 < F <= 1, found %g",
					    d->defection_fraction);
	} else if (d->defection_window < 0 || isnan(d->defection_window)) {
		return tn_error_set(err, TN_ERR_USAGE, "defection window: expected a positive number of days");
	}
	if (d->failed_payment && !(d->failed_payment_days >= 0 && d->failed_payment_days <= 3650))
		return tn_error_set(err, TN_ERR_USAGE, "failed payment days: expected 0 to 3650, found %g",
				    d->failed_payment_days);
	if (d->cause_class && (!d->cancelled || (d->cause_class != TN_CAUSE_VOLUNTARY &&
						  d->cause_class != TN_CAUSE_INVOLUNTARY)))
		return tn_error_set(err, TN_ERR_USAGE,
				    "churn definition \"%s\": a cause (voluntary or involuntary) needs the --cancelled rule",
				    d->name);
	if (d->ntypes > TN_CHURN_MAX_TYPES)
		return tn_error_set(err, TN_ERR_USAGE, "event types: at most %d", TN_CHURN_MAX_TYPES);
	for (size_t i = 0; i < d->ntypes; i++)
		if (!d->types[i][0])
			return tn_error_set(err, TN_ERR_USAGE, "event types: an empty type name");
	return TN_OK;
}

char *tn_churn_def_to_json(const tn_churn_def *d)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	if (d->cancelled) {
		cJSON_AddBoolToObject(o, "cancelled", 1);
		tn_json_add_num(o, "grace_days", d->grace_days);
	}
	if (d->inactive_days > 0)
		tn_json_add_num(o, "inactive_days", d->inactive_days);
	if (d->ntypes) {
		cJSON *a = cJSON_AddArrayToObject(o, "event_types");
		for (size_t i = 0; i < d->ntypes; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(d->types[i]));
	}
	if (d->defection_window > 0) {
		cJSON *x = cJSON_AddObjectToObject(o, "defection");
		tn_json_add_num(x, "window", d->defection_window);
		tn_json_add_num(x, "baseline", d->defection_baseline);
		tn_json_add_num(x, "fraction", d->defection_fraction);
	}
	if (d->failed_payment)
		tn_json_add_num(o, "failed_payment_days", d->failed_payment_days);
	if (d->cause_class)
		cJSON_AddStringToObject(o, "cause", tn_churn_cause_class_name(d->cause_class));
	char *s = tn_json_print(o);
	cJSON_Delete(o);
	return s;
}

static int get_num(const cJSON *o, const char *key, double *out, const char *name, tn_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return TN_OK;
	if (!cJSON_IsNumber(v))
		return tn_error_set(err, TN_ERR_INPUT, "churn definition \"%s\": %s: expected a number", name, key);
	*out = v->valuedouble;
	return TN_OK;
}

int tn_churn_def_from_json(const char *name, const char *json, tn_churn_def *d, tn_error *err)
{
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	cJSON *o = cJSON_Parse(json);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return tn_error_set(err, TN_ERR_INPUT, "churn definition \"%s\": the rule is not a JSON object", name);
	}
	int rc = TN_OK;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "cancelled");
	d->cancelled = cJSON_IsTrue(c);
	const cJSON *fp = cJSON_GetObjectItemCaseSensitive(o, "failed_payment_days");
	d->failed_payment = fp != NULL;
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "defection");
	if (get_num(o, "grace_days", &d->grace_days, name, err) ||
	    get_num(o, "inactive_days", &d->inactive_days, name, err) ||
	    get_num(o, "failed_payment_days", &d->failed_payment_days, name, err) ||
	    (x && (get_num(x, "window", &d->defection_window, name, err) ||
		   get_num(x, "baseline", &d->defection_baseline, name, err) ||
		   get_num(x, "fraction", &d->defection_fraction, name, err)))) {
		rc = TN_ERR_INPUT;
		goto out;
	}
	const cJSON *cause = cJSON_GetObjectItemCaseSensitive(o, "cause");
	if (cause) {
		d->cause_class = cJSON_IsString(cause) && strcmp(cause->valuestring, "voluntary") == 0 ? TN_CAUSE_VOLUNTARY
				 : cJSON_IsString(cause) && strcmp(cause->valuestring, "involuntary") == 0
					 ? TN_CAUSE_INVOLUNTARY
					 : -1;
		if (d->cause_class < 0) {
			rc = tn_error_set(err, TN_ERR_INPUT,
					  "churn definition \"%s\": cause: expected \"voluntary\" or \"involuntary\"", name);
			goto out;
		}
	}
	const cJSON *types = cJSON_GetObjectItemCaseSensitive(o, "event_types");
	const cJSON *t;
	cJSON_ArrayForEach(t, types)
	{
		if (!cJSON_IsString(t) || d->ntypes >= TN_CHURN_MAX_TYPES) {
			rc = tn_error_set(err, TN_ERR_INPUT,
					  "churn definition \"%s\": event_types: expected at most %d strings", name,
					  TN_CHURN_MAX_TYPES);
			goto out;
		}
		snprintf(d->types[d->ntypes++], TN_CHURN_NAME_MAX, "%s", t->valuestring);
	}
out:
	cJSON_Delete(o);
	return rc;
}

int tn_churn_def_save(tn_store *s, const tn_churn_def *d, tn_error *err)
{
	if (tn_churn_def_check(d, err))
		return tn_error_code(err, TN_ERR_USAGE);
	tn_churn_def tmp;
	if (builtin(d->name, &tmp))
		return tn_error_set(err, TN_ERR_USAGE, "\"%s\" is a built-in definition; choose another name",
				    d->name);
	char *json = tn_churn_def_to_json(d);
	if (!json)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_stmt *st = tn_db_prepare(s, "INSERT INTO churn_definitions(name, rule) VALUES(?, ?) "
					       "ON CONFLICT(name) DO UPDATE SET rule = excluded.rule", err);
	int rc = TN_ERR_DB;
	if (st) {
		tn_db_bind_text(st, 1, d->name);
		tn_db_bind_text(st, 2, json);
		rc = tn_db_step(st, "saving a churn definition", err) == TN_DB_DONE ? TN_OK : tn_store_db_error(s, "saving a churn definition", err);
	}
	tn_db_finalize(st);
	free(json);
	return rc;
}

int tn_churn_def_list(tn_store *s, tn_churn_def **defs, size_t *n, tn_error *err)
{
	*defs = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(s, "SELECT name, rule FROM churn_definitions ORDER BY name", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	size_t cap = 8;
	tn_churn_def *v = tn_malloc(cap * sizeof *v);
	int rc = TN_OK;
	if (!v) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto out;
	}
	tn_churn_def_default(&v[(*n)++]);
	builtin("voluntary", &v[(*n)++]);
	builtin("involuntary", &v[(*n)++]);
	int step;
	while ((step = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		if (*n == cap) {
			tn_churn_def *nv = cap >= TN_CHURN_MAX_DEFS ? NULL : tn_realloc(v, 2 * cap * sizeof *v);
			if (!nv) {
				rc = cap >= TN_CHURN_MAX_DEFS
					     ? tn_error_set(err, TN_ERR_NOMEM, "more than %d churn definitions", TN_CHURN_MAX_DEFS)
					     : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap *= 2;
		}
		if ((rc = tn_churn_def_from_json(tn_db_column_text(st, 0),
						 tn_db_column_text(st, 1), &v[*n], err)))
			goto out;
		(*n)++;
	}
	if (step != TN_DB_DONE)
		rc = tn_store_db_error(s, "reading churn definitions", err);
out:
	tn_db_finalize(st);
	if (rc) {
		free(v);
		*n = 0;
		v = NULL;
	}
	*defs = v;
	return rc;
}

int tn_churn_def_load(tn_store *s, const char *name, tn_churn_def *d, tn_error *err)
{
	if (!name) {
		tn_churn_def_default(d);
		return TN_OK;
	}
	if (builtin(name, d))
		return TN_OK;
	tn_churn_def *all;
	size_t n;
	if (tn_churn_def_list(s, &all, &n, err))
		return tn_error_code(err, TN_ERR_DB);
	char names[512];
	size_t used = 0;
	names[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strcmp(all[i].name, name) == 0) {
			*d = all[i];
			free(all);
			return TN_OK;
		}
		int k = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", all[i].name);
		if (k > 0 && (size_t)k < sizeof names - used)
			used += (size_t)k;
	}
	free(all);
	return tn_error_set(err, TN_ERR_NOTFOUND, "no churn definition \"%s\"; defined: %s (see `tenure churn define`)",
			    name, names);
}

int tn_churn_def_drop(tn_store *s, const char *name, tn_error *err)
{
	tn_churn_def tmp;
	if (builtin(name, &tmp))
		return tn_error_set(err, TN_ERR_USAGE, "\"%s\" is built in and cannot be dropped", name);
	tn_stmt *st = tn_db_prepare(s, "DELETE FROM churn_definitions WHERE name = ?", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, name);
	int rc = tn_db_step(st, "dropping a churn definition", err) == TN_DB_DONE ? TN_OK : tn_store_db_error(s, "dropping a churn definition", err);
	tn_db_finalize(st);
	if (rc == TN_OK && tn_db_changes(s) == 0)
		rc = tn_error_set(err, TN_ERR_NOTFOUND, "no churn definition \"%s\" (see `tenure churn list`)", name);
	return rc;
}
