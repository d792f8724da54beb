/*
 * cmd_predict.c -- `tenure predict cv|train|score`: churn-risk models on a
 * flat CSV file (one row per customer).  The work is in libtenure
 * (tenure/predict.h); this file parses options and prints.
 * `tenure predict features|backtest` (from the store) live in
 * cmd_predict_store.c.
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cmd_predict_features(cli_ctx *ctx, int argc, char **argv);
int cmd_predict_backtest(cli_ctx *ctx, int argc, char **argv);

static const char *const usage_text =
	"usage: tenure predict SUBCOMMAND [OPTIONS]\n"
	"\n"
	"Churn-risk models on a flat CSV file with one row per customer (docs/predict.md).\n"
	"\n"
	"  tenure predict cv    --csv FILE --target COL [--positive VALUE] [--id COL] [--drop A,B]\n"
	"                       [--model logistic|gbdt] [--folds 5] [--seed 1] [--l2 1.0]\n"
	"                       [--rounds 300 --depth 3 --eta 0.05] [--threads 1] [--export FILE]\n"
	"      stratified k-fold cross-validation: ROC AUC (mean of folds and per fold), PR AUC\n"
	"      (average precision), Brier score, lift and share of churners in the top 10%,\n"
	"      and a calibration table by deciles of predicted risk (in JSON).\n"
	"  tenure predict train --csv FILE --target COL [same model options] --save MODEL\n"
	"      fit on every row and save the encoding and the model as one JSON file; print\n"
	"      how good it is: AUC and lift in the top 10% from an out-of-time backtest\n"
	"      (trained on the store) or 5-fold cross-validation (trained on a file).\n"
	"  tenure predict score --model MODEL --csv FILE [--top N]\n"
	"      rank the rows of FILE by risk (probability of churn; on the store, of leaving\n"
	"      in the next --horizon days) with the three strongest reasons pushing risk up\n"
	"      (logistic b_j*(x_j - mean_j), gbdt SHAP values), in words: \"paid period ends\n"
	"      tomorrow\", \"12 days without using the app, usually every 2 days\".\n"
	"  cv, train and score also take --as-of DATE [--horizon 30] [--definition NAME] instead of\n"
	"      --csv: the table is then the store's features at DATE (tenure predict features),\n"
	"      with --target churned --id customer by default; e.g. score who is live now:\n"
	"      tenure predict train --as-of 2026-09-30 --save m.json\n"
	"      tenure predict score --model m.json --as-of 2026-10-31 --top 50\n"
	"  tenure predict features --as-of DATE --horizon DAYS [--out FILE]\n"
	"  tenure predict backtest --as-of DATE --horizon DAYS [--model logistic|gbdt]\n"
	"      features and backtests from the store (--db); see `tenure predict features --help`.\n"
	"\n"
	"Options:\n"
	"  --csv FILE        the flat file (header row; numeric or text columns)\n"
	"  --target COL      the churn column: 0/1, or text with --positive naming churn\n"
	"  --positive VALUE  the value of --target meaning churned (default: Yes, yes, 1, true)\n"
	"  --id COL          a customer id column, not used as a predictor (shown by score)\n"
	"  --drop A,B        columns not to use as predictors\n"
	"  --model NAME      logistic (default) or gbdt; for score: the saved MODEL file\n"
	"  --folds K         number of folds, 2..64 (default 5)\n"
	"  --seed S          seed of the fold shuffle (default 1)\n"
	"  --l2 L            logistic L2 penalty on standardised coefficients (default 1.0 =\n"
	"                    scikit-learn C = 1/L)\n"
	"  --rounds N        gbdt boosting rounds (default 300)\n"
	"  --depth D         gbdt tree depth (default 3)\n"
	"  --eta E           gbdt learning rate (default 0.05)\n"
	"  --threads T       gbdt threads for training (default 1: reproducible) and for\n"
	"                    scoring (default 0 = all cores; scores do not depend on it)\n"
	"  --export FILE     cv: also write the encoded design matrix as CSV with columns\n"
	"                    fold,y,<features> (for checking against other tools)\n"
	"  --save MODEL      train: where to write the model\n"
	"  --top N           score: print only the N riskiest rows\n"
	"  --timing          score: print the seconds spent reading, scoring (with reasons)\n"
	"                    and ranking on stderr\n"
	"Output: a table, or --format csv|json.\n";

typedef struct {
	const char *csv, *target, *positive, *id, *drop, *model, *save, *export_path;
	const char *as_of, *definition; /* the store instead of --csv */
	double horizon;
	long folds, seed, top;
	int timing, threads_set;
	tn_pred_options o;
} popts;

/* Parse the options every subcommand shares; returns 0, or an exit status. */
static int parse(const char *cmd, int argc, char **argv, popts *po)
{
	memset(po, 0, sizeof *po);
	po->o = tn_pred_options_default();
	po->folds = 5;
	po->seed = 1;
	po->top = -1;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		long lv;
		int r;
		if (cli_is_help(argv[i])) {
			fputs(usage_text, stdout);
			return -1;
		}
		if (strcmp(argv[i], "--timing") == 0) {
			po->timing = 1;
			continue;
		}
#define STR(name, field)                                  \
	if ((r = cli_opt(argc, argv, &i, name, &v)) != 0) { \
		if (r < 0)                                \
			return 2;                         \
		po->field = v;                            \
		continue;                                 \
	}
#define LONG(name, field)                                         \
	if ((r = cli_opt(argc, argv, &i, name, &v)) != 0) {         \
		if (r < 0 || cli_parse_range(cmd, name, v, 0, INT_MAX, &lv)) \
			return 2;                                 \
		field = lv;                                       \
		continue;                                         \
	}
		STR("--csv", csv);
		STR("--target", target);
		STR("--positive", positive);
		STR("--id", id);
		STR("--drop", drop);
		STR("--model", model);
		STR("--save", save);
		STR("--export", export_path);
		STR("--as-of", as_of);
		STR("--definition", definition);
		if ((r = cli_opt(argc, argv, &i, "--horizon", &v)) != 0) {
			if (r < 0 || cli_parse_double(cmd, "--horizon", v, &po->horizon))
				return 2;
			continue;
		}
		LONG("--folds", po->folds);
		LONG("--seed", po->seed);
		LONG("--top", po->top);
		LONG("--rounds", po->o.gbdt.rounds);
		LONG("--depth", po->o.gbdt.depth);
		if (strcmp(argv[i], "--threads") == 0 || strncmp(argv[i], "--threads=", 10) == 0)
			po->threads_set = 1;
		LONG("--threads", po->o.gbdt.nthread);
#undef STR
#undef LONG
		if ((r = cli_opt(argc, argv, &i, "--l2", &v)) != 0) {
			if (r < 0 || cli_parse_double(cmd, "--l2", v, &po->o.l2))
				return 2;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--eta", &v)) != 0) {
			if (r < 0 || cli_parse_double(cmd, "--eta", v, &po->o.gbdt.eta))
				return 2;
			continue;
		}
		return cli_usage_error(cmd, "unexpected argument \"%s\" (see tenure predict --help)", argv[i]);
	}
	return 0;
}

/* --as-of DATE instead of --csv: the table is `tenure predict features` of
 * the store, with target "churned" and id "customer" by default. */
static int from_store(const char *cmd, popts *po)
{
	if (!po->as_of)
		return 0;
	if (po->csv)
		return cli_usage_error(cmd, "give --csv FILE or --as-of DATE (the store), not both");
	if (!(po->horizon > 0))
		po->horizon = 30;
	if (!po->target)
		po->target = "churned";
	if (!po->id)
		po->id = "customer";
	if (!po->positive)
		po->positive = "1";
	return 0;
}

/* The frame: --csv FILE, or the store's features at --as-of. */
static tn_frame *get_frame(const cli_ctx *ctx, const popts *po, tn_error *err)
{
	if (!po->as_of)
		return tn_frame_read_csv(po->csv, NULL, 0, err);
	tn_time t;
	if (tn_as_of_parse(po->as_of, strlen(po->as_of), &t)) {
		tn_error_set(err, TN_ERR_USAGE, "--as-of: expected a date like 2026-06-30, found \"%s\"", po->as_of);
		return NULL;
	}
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, err))
		return NULL;
	tn_pred_features_opts fo = {.as_of = t, .horizon_days = po->horizon, .definition = po->definition};
	tn_frame *f = NULL;
	tn_pred_features(s, &fo, &f, err);
	tn_store_close(s);
	return f;
}

static int need(const char *cmd, const char *opt, const char *v)
{
	return v ? 0 : cli_usage_error(cmd, "%s is required (see tenure predict --help)", opt);
}

static int model_kind(const char *cmd, popts *po)
{
	if (!po->model)
		return 0;
	int k = tn_pred_kind_parse(po->model);
	if (k < 0)
		return cli_usage_error(cmd, "--model: expected logistic or gbdt, found \"%s\"", po->model);
	po->o.kind = (tn_pred_kind)k;
	return 0;
}

/* Read the frame and learn the spec's encoding; the caller frees all. */
static int load_design(const cli_ctx *ctx, popts *po, tn_frame **f, tn_pred_encoding **enc, double **x, double **y,
		       char ***drop, tn_error *err)
{
	size_t nd = 0;
	*drop = cli_split(po->drop ? po->drop : "", &nd);
	if (!*drop)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	const char *ex[66];
	size_t nex = 0;
	if (nd > 64)
		return tn_error_set(err, TN_ERR_USAGE, "--drop: at most 64 columns");
	ex[nex++] = po->target;
	if (po->id)
		ex[nex++] = po->id;
	for (size_t k = 0; k < nd; k++)
		ex[nex++] = (*drop)[k];
	if (!(*f = get_frame(ctx, po, err)))
		return err->code;
	int rc = tn_pred_target(*f, po->target, po->positive, y, err);
	if (!rc)
		rc = tn_pred_encoding_fit(*f, ex, nex, enc, err);
	if (!rc)
		rc = tn_pred_encode(*enc, *f, x, err);
	if (!rc && !ctx->quiet) {
		/* missing predictors (blank or NA) are kept, not dropped: say how many */
		size_t miss = 0;
		for (size_t i = 0; i < (*f)->nrows; i++) {
			int m = 0;
			for (size_t j = 0; j < (*f)->ncols && !m; j++) {
				const tn_column *c = &(*f)->cols[j];
				int used = 1;
				for (size_t k = 0; k < nex && used; k++)
					used = strcmp(c->name, ex[k]) != 0;
				m = used && (c->is_numeric ? isnan(c->num[i]) : c->text[i][0] == '\0');
			}
			miss += (size_t)m;
		}
		if (miss)
			fprintf(stderr,
				"tenure predict: n=%zu, %zu row%s with a missing predictor (blank or NA) kept: a number "
				"becomes the training mean plus a (missing) indicator, a text its own level\n",
				(*f)->nrows, miss, miss == 1 ? "" : "s");
	}
	return rc;
}

static int export_matrix(const char *path, const tn_pred_encoding *e, const double *x,
			 const double *y, const int *fold, size_t n, tn_error *err)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return tn_error_set(err, TN_ERR_IO, "%s: cannot create", path);
	fputs("fold,y", fp);
	for (size_t j = 0; j < e->p; j++) {
		fputc(',', fp);
		tn_csv_write(fp, e->feature[j]);
	}
	fputc('\n', fp);
	for (size_t i = 0; i < n; i++) {
		fprintf(fp, "%d,", fold[i]);
		tn_csv_write_num(fp, y[i]);
		for (size_t j = 0; j < e->p; j++) {
			fputc(',', fp);
			tn_csv_write_num(fp, x[i * e->p + j]);
		}
		fputc('\n', fp);
	}
	if (fclose(fp))
		return tn_error_set(err, TN_ERR_IO, "%s: write failed", path);
	return TN_OK;
}

static void print_cv(const cli_ctx *ctx, const popts *po, const tn_pred_cv *cv, size_t p)
{
	if (ctx->format == OUT_JSON) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "model", tn_pred_kind_name(po->o.kind));
		tn_json_add_num(o, "auc", cv->auc);
		cJSON *af = cJSON_AddArrayToObject(o, "auc_folds");
		for (int f = 0; f < cv->k; f++)
			cJSON_AddItemToArray(af, tn_json_num(cv->auc_folds[f]));
		tn_json_add_num(o, "auc_pooled", cv->auc_pooled);
		tn_json_add_num(o, "pr_auc", cv->pr_auc);
		tn_json_add_num(o, "brier", cv->brier);
		tn_json_add_num(o, "lift_top10", cv->lift_top10);
		tn_json_add_num(o, "captured_top10", cv->captured_top10);
		tn_json_add_num(o, "rows", (double)cv->n);
		tn_json_add_num(o, "positives", (double)cv->npos);
		tn_json_add_num(o, "features", (double)p);
		tn_json_add_num(o, "folds", cv->k);
		tn_json_add_num(o, "seed", (double)po->seed);
		tn_json_add_num(o, "fit_seconds", cv->fit_seconds);
		cJSON *cal = cJSON_AddArrayToObject(o, "calibration");
		for (int b = 0; b < 10; b++) {
			cJSON *r = cJSON_CreateObject();
			tn_json_add_num(r, "decile", b + 1);
			tn_json_add_num(r, "n", (double)cv->calib[b].n);
			tn_json_add_num(r, "mean_predicted", cv->calib[b].mean_pred);
			tn_json_add_num(r, "observed", cv->calib[b].observed);
			cJSON_AddItemToArray(cal, r);
		}
		cli_print_json(o);
		cJSON_Delete(o);
		return;
	}
	const char *names[] = {"metric", "value"};
	tn_out *t = tn_out_new(2, names);
	char buf[64];
	tn_out_str(t, "model");
	tn_out_str(t, tn_pred_kind_name(po->o.kind));
	tn_out_str(t, "rows");
	tn_out_int(t, (long long)cv->n);
	tn_out_str(t, "churners");
	tn_out_int(t, (long long)cv->npos);
	tn_out_str(t, "features");
	tn_out_int(t, (long long)p);
	tn_out_str(t, "roc_auc (mean of folds)");
	tn_out_num(t, cv->auc, 4);
	for (int f = 0; f < cv->k; f++) {
		snprintf(buf, sizeof buf, "roc_auc fold %d", f + 1);
		tn_out_str(t, buf);
		tn_out_num(t, cv->auc_folds[f], 4);
	}
	tn_out_str(t, "roc_auc (pooled)");
	tn_out_num(t, cv->auc_pooled, 4);
	tn_out_str(t, "pr_auc (average precision)");
	tn_out_num(t, cv->pr_auc, 4);
	tn_out_str(t, "brier");
	tn_out_num(t, cv->brier, 4);
	tn_out_str(t, "lift top 10%");
	tn_out_num(t, cv->lift_top10, 3);
	tn_out_str(t, "churners captured top 10%");
	tn_out_num(t, cv->captured_top10, 3);
	for (int b = 0; b < 10; b++) {
		snprintf(buf, sizeof buf, "decile %d predicted/observed", b + 1);
		tn_out_str(t, buf);
		snprintf(buf, sizeof buf, "%.3f / %.3f", cv->calib[b].mean_pred, cv->calib[b].observed);
		tn_out_str(t, buf);
	}
	tn_out_str(t, "fit seconds (all folds)");
	tn_out_num(t, cv->fit_seconds, 3);
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
}

static int run_cv(cli_ctx *ctx, int argc, char **argv)
{
	popts po;
	int r = parse("predict cv", argc, argv, &po);
	if (r)
		return r < 0 ? 0 : r;
	if (from_store("predict cv", &po) || need("predict cv", "--csv or --as-of", po.csv ? po.csv : po.as_of) ||
	    need("predict cv", "--target", po.target) ||
	    model_kind("predict cv", &po))
		return 2;
	tn_error err = {0};
	tn_frame *f = NULL;
	tn_pred_encoding *enc = NULL;
	double *x = NULL, *y = NULL;
	char **drop = NULL;
	tn_pred_cv cv = {0};
	int rc = load_design(ctx, &po, &f, &enc, &x, &y, &drop, &err);
	if (!rc)
		rc = tn_pred_cross_validate(x, y, f->nrows, enc->p, &po.o, (int)po.folds, (uint64_t)po.seed, &cv,
					    &err);
	if (!rc && po.export_path)
		rc = export_matrix(po.export_path, enc, x, y, cv.fold, f->nrows, &err);
	if (!rc)
		print_cv(ctx, &po, &cv, enc->p);
	tn_pred_cv_free(&cv);
	free(x);
	free(y);
	cli_free_list(drop);
	tn_pred_encoding_free(enc);
	tn_frame_free(f);
	return rc ? cli_fail(&err) : 0;
}

/* How good a saved model is: trained on the store, an out-of-time backtest
 * at the training date (train at as-of - horizon, test at as-of); from a
 * file, 5-fold cross-validation (seed 1) of the same options. */
typedef struct {
	double auc, lift;
	char how[TN_ERROR_MSG_MAX + 32];
} quality;

static int train_quality(const cli_ctx *ctx, const popts *po, const tn_frame *f, const tn_pred_model *m,
			 quality *q, tn_error *err)
{
	if (po->as_of) {
		tn_time t;
		if (tn_time_parse(po->as_of, strlen(po->as_of), &t))
			return tn_error_set(err, TN_ERR_USAGE, "--as-of: expected a date, found \"%s\"", po->as_of);
		if (strlen(po->as_of) <= 10)
			t += TN_DAY - 1;
		tn_store *s;
		if (tn_store_open(ctx->db_path, 0, &s, err))
			return err->code;
		tn_pred_features_opts fo = {.as_of = t, .horizon_days = po->horizon, .definition = po->definition};
		tn_pred_backtest bt;
		int rc = tn_pred_backtest_run(s, &fo, &po->o, &bt, err);
		tn_store_close(s);
		if (rc == TN_ERR_NUMERIC || rc == TN_ERR_INPUT) { /* e.g. too little history before the date */
			snprintf(q->how, sizeof q->how, "no backtest: %s", err->msg);
			memset(err, 0, sizeof *err);
			return TN_OK;
		}
		if (rc)
			return rc;
		char a[24], b[24];
		snprintf(q->how, sizeof q->how, "backtest: trained at %s, tested on %s", tn_date_format(t - (tn_time)(po->horizon * TN_DAY), a, sizeof a),
			 tn_date_format(t, b, sizeof b));
		q->auc = bt.auc;
		q->lift = bt.lift_top10;
		return TN_OK;
	}
	double *x = NULL, *y = NULL;
	tn_pred_cv cv = {0};
	int rc = tn_pred_target(f, m->target, m->positive, &y, err);
	if (!rc)
		rc = tn_pred_encode(m->enc, f, &x, err);
	if (!rc)
		rc = tn_pred_cross_validate(x, y, f->nrows, m->enc->p, &po->o, 5, 1, &cv, err);
	if (!rc) {
		snprintf(q->how, sizeof q->how, "5-fold cross-validation");
		q->auc = cv.auc;
		q->lift = cv.lift_top10;
	} else if (rc == TN_ERR_NUMERIC || rc == TN_ERR_INPUT || rc == TN_ERR_USAGE) {
		snprintf(q->how, sizeof q->how, "no cross-validation: %s", err->msg);
		memset(err, 0, sizeof *err);
		rc = TN_OK;
	}
	tn_pred_cv_free(&cv);
	free(x);
	free(y);
	return rc;
}

static int run_train(cli_ctx *ctx, int argc, char **argv)
{
	popts po;
	int r = parse("predict train", argc, argv, &po);
	if (r)
		return r < 0 ? 0 : r;
	if (from_store("predict train", &po) ||
	    need("predict train", "--csv or --as-of", po.csv ? po.csv : po.as_of) ||
	    need("predict train", "--target", po.target) ||
	    need("predict train", "--save", po.save) || model_kind("predict train", &po))
		return 2;
	tn_error err = {0};
	size_t nd = 0;
	char **drop = cli_split(po.drop ? po.drop : "", &nd);
	tn_frame *f = get_frame(ctx, &po, &err);
	tn_pred_model *m = NULL;
	tn_pred_spec spec = {po.target, po.positive, po.id, (const char *const *)drop, nd};
	int rc = f ? TN_OK : err.code;
	if (!rc)
		rc = tn_pred_train(f, &spec, &po.o, &m, &err);
	if (!rc && po.as_of)
		m->horizon_days = po.horizon;
	if (!rc)
		rc = tn_pred_save(m, po.save, &err);
	quality q = {NAN, NAN, ""};
	if (!rc)
		rc = train_quality(ctx, &po, f, m, &q, &err);
	if (!rc) {
		const char *names[] = {"model", "rows", "features", "saved", "auc", "lift_top10", "checked_by"};
		tn_out *t = tn_out_new(7, names);
		tn_out_str(t, tn_pred_kind_name(m->kind));
		tn_out_int(t, (long long)f->nrows);
		tn_out_int(t, (long long)m->enc->p);
		tn_out_str(t, po.save);
		tn_out_num(t, q.auc, 3);
		tn_out_num(t, q.lift, 2);
		tn_out_str(t, q.how);
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
		if (ctx->format == OUT_TABLE && !isnan(q.auc))
			printf("\nQuality (%s): AUC %.3f (0.5 = chance, 1 = perfect); the riskiest 10%% churn %.1f "
			       "times as often as the average customer.\n",
			       q.how, q.auc, q.lift);
	}
	tn_pred_model_free(m);
	tn_frame_free(f);
	cli_free_list(drop);
	return rc ? cli_fail(&err) : 0;
}

typedef struct {
	double risk;
	size_t row;
} ranked_row;

static int cmp_risk(const void *a, const void *b)
{
	const ranked_row *x = a, *y = b;
	if (x->risk != y->risk)
		return x->risk > y->risk ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* The three largest positive contributions of row I as reason texts, in
 * words (the contributions themselves are in docs/predict.md's terms, not
 * printed: a person reads "paid period ends tomorrow", not log-odds). */
static void reasons(const tn_pred_model *m, const tn_frame *f, size_t i, const double *c, const char *cur,
		    char out[3][256])
{
	size_t ns = m->enc->nsrc, used[3] = {(size_t)-1, (size_t)-1, (size_t)-1};
	for (int k = 0; k < 3; k++)
		out[k][0] = '\0';
	for (int k = 0; k < 3; k++) {
		size_t best = (size_t)-1;
		for (size_t s = 0; s < ns; s++) {
			if (s == used[0] || s == used[1] || !(c[s] > 1e-9))
				continue;
			if (best == (size_t)-1 || c[s] > c[best])
				best = s;
		}
		if (best == (size_t)-1)
			break;
		used[k] = best;
		tn_pred_reason_words(m, f, i, best, cur, out[k], 256);
	}
}

/* The store's currency for money in reasons ("" when unknown). */
static void store_currency(const cli_ctx *ctx, char *cur, size_t n)
{
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return;
	tn_pred_store_currency(s, cur, n, &err);
	tn_store_close(s);
}

/* Contributions for the TOP first rows of the ranking (caller frees *C). */
static int explain_top(const tn_pred_model *m, const tn_frame *f, const ranked_row *rk, size_t top,
		       double **c, tn_error *err)
{
	size_t ns = m->enc->nsrc;
	size_t *rows = malloc((top ? top : 1) * sizeof *rows);
	*c = malloc(top * ns > 0 ? top * ns * sizeof **c : 1);
	if (!rows || !*c) {
		free(rows);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	for (size_t k = 0; k < top; k++)
		rows[k] = rk[k].row;
	int rc = tn_pred_explain(m, f, rows, top, *c, err);
	free(rows);
	return rc;
}

static int run_score(cli_ctx *ctx, int argc, char **argv)
{
	popts po;
	int r = parse("predict score", argc, argv, &po);
	if (r)
		return r < 0 ? 0 : r;
	if (need("predict score", "--model", po.model) || from_store("predict score", &po) ||
	    need("predict score", "--csv or --as-of", po.csv ? po.csv : po.as_of))
		return 2;
	tn_error err = {0};
	tn_pred_model *m = NULL;
	tn_frame *f = NULL;
	double *risk = NULL, *contrib = NULL;
	ranked_row *rk = NULL;
	double t0 = cli_now(), t1 = t0, t2 = t0;
	int rc = tn_pred_load(po.model, &m, &err);
	if (!rc && m->gbdt)
		rc = tn_gbdt_set_threads(m->gbdt, po.threads_set ? (int)po.o.gbdt.nthread : 0, &err);
	if (!rc && !(f = get_frame(ctx, &po, &err)))
		rc = err.code;
	if (!rc) {
		size_t n = f->nrows;
		risk = malloc((n ? n : 1) * sizeof *risk);
		rk = malloc((n ? n : 1) * sizeof *rk);
		if (!risk || !rk)
			rc = tn_error_set(&err, TN_ERR_NOMEM, "out of memory (%zu rows)", n);
	}
	t1 = cli_now();
	if (!rc)
		rc = tn_pred_score(m, f, risk, &err);
	t2 = cli_now();
	int idc = -1;
	if (!rc && m->id && (idc = tn_frame_find(f, m->id)) < 0)
		rc = tn_error_set(&err, TN_ERR_INPUT, "%s: no id column \"%s\" (the model was trained with --id %s)",
				  po.csv ? po.csv : "features", m->id, m->id);
	if (!rc) {
		size_t n = f->nrows, top = po.top >= 0 && (size_t)po.top < n ? (size_t)po.top : n;
		for (size_t i = 0; i < n; i++)
			rk[i].risk = risk[i], rk[i].row = i;
		qsort(rk, n, sizeof *rk, cmp_risk);
		double t3 = cli_now();
		rc = explain_top(m, f, rk, top, &contrib, &err);
		if (po.timing)
			fprintf(stderr,
				"timing: rows %zu, read %.3f s, score %.3f s, rank %.3f s, reasons for %zu rows %.3f s\n",
				n, t1 - t0, t2 - t1, t3 - t2, top, cli_now() - t3);
	}
	if (!rc) {
		size_t n = f->nrows, top = po.top >= 0 && (size_t)po.top < n ? (size_t)po.top : n;
		const char *names[] = {"rank", "id", "risk", "reason_1", "reason_2", "reason_3"};
		char cur[8] = "";
		if (po.as_of)
			store_currency(ctx, cur, sizeof cur);
		if (ctx->format == OUT_TABLE) {
			double h = m->horizon_days > 0 ? m->horizon_days : po.as_of ? po.horizon : 0;
			if (h > 0)
				printf("risk = the probability of leaving in the next %.0f days; reasons: what raises it most\n\n",
				       h);
			else if (m->positive)
				printf("risk = the probability that %s is %s (the model's target); reasons: what raises it "
				       "most\n\n",
				       m->target ? m->target : "the target", m->positive);
			else
				printf("risk = the probability of churn (%s, the model's target); reasons: what raises it "
				       "most\n\n",
				       m->target ? m->target : "the target");
		}
		tn_out *t = tn_out_new(6, names);
		for (size_t k = 0; k < top; k++) {
			size_t i = rk[k].row;
			char idbuf[64], rs[3][256];
			tn_out_int(t, (long long)k + 1);
			if (idc >= 0 && !f->cols[idc].is_numeric) {
				tn_out_str(t, f->cols[idc].text[i]);
			} else {
				if (idc >= 0)
					snprintf(idbuf, sizeof idbuf, "%.17g", f->cols[idc].num[i]);
				else
					snprintf(idbuf, sizeof idbuf, "row %zu", i + 1);
				tn_out_str(t, idbuf);
			}
			tn_out_num(t, risk[i], 4);
			reasons(m, f, i, contrib + k * m->enc->nsrc, cur, rs);
			for (int q = 0; q < 3; q++)
				tn_out_str(t, rs[q][0] ? rs[q] : NULL);
		}
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
	}
	free(rk);
	free(risk);
	free(contrib);
	tn_frame_free(f);
	tn_pred_model_free(m);
	return rc ? cli_fail(&err) : 0;
}

int cmd_predict(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "cv") == 0)
		return run_cv(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "train") == 0)
		return run_train(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "score") == 0)
		return run_score(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "features") == 0)
		return cmd_predict_features(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "backtest") == 0)
		return cmd_predict_backtest(ctx, argc - 1, argv + 1);
	return cli_usage_error("predict", "no subcommand \"%s\": expected cv, train, score, features, backtest",
			       sub);
}
