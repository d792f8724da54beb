/*
 * cmd_feedback.c -- `tenure feedback`: why customers leave, in their own
 * words.  Dispatches the subcommands; the text ones (train, evaluate,
 * classify) are here, the store reports in cmd_feedback_store.c.
 */
#include "feedback_cli.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: tenure feedback SUBCOMMAND [OPTIONS]\n\n"
	"Classify customers' free-text answers (English, Arabic, Persian) into six types --\n"
	"functionality, feature_request, usability, reliability, customer_service,\n"
	"pricing_billing -- or praise (not a complaint), with a short theme and a\n"
	"confidence; survey scores; impact.\n\n"
	"Subcommands:\n"
	"  classify [--csv FILE --text COL] [--export] [--model FILE] [--rules FILE] [--relabel]\n"
	"      With --csv: write FILE's rows with type, theme, language, confidence added\n"
	"      (CSV; --format json gives JSON lines).  --export writes three columns only:\n"
	"      verbatim, theme, type (with --csv or from the store).  Without --csv: classify\n"
	"      the store's text answers\n"
	"      (feedback kinds exit, free and other free-text kinds), save the labels in\n"
	"      the store and print them; --relabel redoes answers labelled before.\n"
	"  train --csv FILE --text COL --label COL [--theme COL] [--rules FILE] [--save MODEL] [--cv K]\n"
	"      Train a model on labelled answers (labels: the six type names or praise) and report\n"
	"      its accuracy on its own training rows, or with --cv K the K-fold cross-\n"
	"      validated accuracy (row i in fold i mod K); --save writes the model file.\n"
	"  evaluate --csv FILE [--text COL] [--label COL] [--model FILE] [--rules FILE]\n"
	"      Accuracy overall, per language (the file's language column, else the\n"
	"      detected one) and per type, with the confusion matrix.  Columns default\n"
	"      to text and type.  Try: --csv data/feedback/heldout.csv\n"
	"  scores [--by ATTR] [--period month|week|quarter|year]\n"
	"      NPS (with 95% CI), CSAT, CES, custom questions as distributions, response\n"
	"      counts; per segment (ATTR: country, channel, plan or a key of the customer's\n"
	"      attrs such as device) and per period; and churned vs stayed customers.\n"
	"  impact [--model FILE] [--rules FILE]\n"
	"      Per type and theme: customers affected, churn rate vs the rest, revenue;\n"
	"      then exit reasons ranked with counts and Wilson 95% intervals.\n"
	"  effort THEME low|high       record the team's effort estimate for a theme\n"
	"  matrix                      impact vs effort quadrants: do now, plan next, fill in, later\n"
	"  fixed THEME [--undo]        mark a theme fixed (so its customers can be told)\n"
	"  follow-up [--theme THEME]   customers who raised a fixed theme, to contact\n\n"
	"Options:\n"
	"  --model FILE   a model saved by `feedback train --save` (default: trained at start\n"
	"                 from data/feedback/train.csv; $TENURE_DATA overrides the data folder)\n"
	"  --rules FILE   CSV with columns keyword,type[,theme]: a text containing the keyword\n"
	"                 (whole words, after normalisation) gets that type; rules win over the model\n\n"
	"Definitions and formulas: docs/feedback.md.\n";

tn_fb_model *fbcli_model(const char *model_path, const char *rules_path, int *status)
{
	tn_error err = {0};
	tn_fb_model *m;
	if (model_path) {
		m = tn_fb_model_load(model_path, &err);
	} else {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		char *dir = NULL;
		if (n > 0) {
			exe[n] = '\0';
			char *slash = strrchr(exe, '/');
			if (slash) {
				*slash = '\0';
				dir = exe;
			}
		}
		m = tn_fb_model_default(dir, &err);
	}
	if (m && rules_path && tn_fb_model_load_rules(m, rules_path, &err)) {
		tn_fb_model_free(m);
		m = NULL;
	}
	if (!m)
		*status = cli_fail(&err);
	return m;
}

static int classify_csv(cli_ctx *ctx, tn_fb_model *m, const char *path, const char *text_col, int export)
{
	tn_error err = {0};
	tn_csv *r = tn_csv_open(path, ',', &err);
	if (!r)
		return cli_fail(&err);
	int got = tn_csv_next(r, &err), status = 0;
	if (got <= 0) {
		if (got == 0)
			tn_error_set(&err, TN_ERR_INPUT, "%s: empty file, expected a header", path);
		tn_csv_close(r);
		return cli_fail(&err);
	}
	size_t ncol = tn_csv_nfields(r);
	char **names = calloc(ncol, sizeof *names);
	int cx = -1;
	for (size_t j = 0; names && j < ncol; j++) {
		names[j] = strdup(tn_csv_field(r, j, NULL));
		if (names[j] && strcmp(names[j], text_col) == 0)
			cx = (int)j;
	}
	if (cx < 0) {
		tn_error_set(&err, TN_ERR_INPUT, "%s: no column \"%s\" (choose one with --text)", path, text_col);
		status = cli_fail(&err);
		goto out;
	}
	int json = ctx->format == OUT_JSON;
	if (!json) {
		if (export)
			fputs("verbatim,theme,type\n", stdout);
		else {
			for (size_t j = 0; j < ncol; j++) {
				tn_csv_write(stdout, names[j]);
				fputc(',', stdout);
			}
			fputs("type,theme,language,confidence\n", stdout);
		}
	}
	long long done = 0;
	while ((got = tn_csv_next(r, &err)) == 1) {
		size_t nf = tn_csv_nfields(r), len;
		if (nf != ncol) {
			tn_error_set(&err, TN_ERR_INPUT, "%s:%ld: expected %zu fields, found %zu", path, tn_csv_line(r),
				     ncol, nf);
			break;
		}
		const char *text = tn_csv_field(r, (size_t)cx, &len);
		tn_fb_result res;
		tn_error e2 = {0};
		if (tn_fb_classify(m, text, len, &res, &e2)) {
			tn_error_set(&err, e2.code, "%s:%ld:%d: %s: %s", path, tn_csv_field_line(r, (size_t)cx), cx + 1,
				     text_col, e2.msg);
			break;
		}
		/* a blank answer gets no label (empty cells, null in JSON) */
		int blank = strspn(text, " \t\r\n") == len;
		const char *type = blank ? "" : tn_fb_type_name(res.type), *theme = blank ? "" : res.theme;
		char conf[32] = "";
		if (!blank)
			snprintf(conf, sizeof conf, "%.3f", res.confidence);
		if (json) {
			cJSON *o = cJSON_CreateObject();
			if (export) {
				cJSON_AddStringToObject(o, "verbatim", text);
			} else {
				for (size_t j = 0; j < ncol; j++)
					cJSON_AddStringToObject(o, names[j], tn_csv_field(r, j, NULL));
			}
			if (blank) {
				cJSON_AddNullToObject(o, "theme");
				cJSON_AddNullToObject(o, "type");
			} else {
				cJSON_AddStringToObject(o, "theme", theme);
				cJSON_AddStringToObject(o, "type", type);
			}
			if (!export) {
				cJSON_AddStringToObject(o, "language", tn_lang_name(res.language));
				if (blank)
					cJSON_AddNullToObject(o, "confidence");
				else
					tn_json_add_num(o, "confidence",
								(double)(long)(res.confidence * 1000 + 0.5) / 1000);
			}
			char *s = tn_json_print(o);
			if (s)
				puts(s);
			free(s);
			cJSON_Delete(o);
		} else if (export) {
			tn_csv_write(stdout, text);
			fputc(',', stdout);
			tn_csv_write(stdout, theme);
			printf(",%s\n", type);
		} else {
			for (size_t j = 0; j < ncol; j++) {
				tn_csv_write(stdout, tn_csv_field(r, j, NULL));
				fputc(',', stdout);
			}
			printf("%s,", type);
			tn_csv_write(stdout, theme);
			printf(",%s,%s\n", tn_lang_name(res.language), conf);
		}
		if ((++done & 1023) == 0)
			cli_progress(ctx, "classify", (double)tn_csv_offset(r), 0);
	}
	cli_progress_done(ctx);
	if (err.code)
		status = cli_fail(&err);
out:
	for (size_t j = 0; names && j < ncol; j++)
		free(names[j]);
	free(names);
	tn_csv_close(r);
	return status;
}

static void print_eval(cli_ctx *ctx, const tn_fb_eval *ev)
{
	const char *cols[] = {"group", "name", "n", "correct", "accuracy"};
	tn_out *t = tn_out_new(5, cols);
	tn_out_str(t, "overall");
	tn_out_str(t, "all");
	tn_out_int(t, (long long)ev->n);
	tn_out_int(t, (long long)ev->correct);
	tn_out_num(t, ev->n ? (double)ev->correct / (double)ev->n : NAN, 3);
	/* the six problem types alone (rows whose true label is not praise) */
	size_t n6 = 0, c6 = 0;
	for (int k = 0; k < TN_FB_PRAISE; k++) {
		c6 += ev->confusion[k][k];
		for (int j = 0; j < TN_FB_NTYPES; j++)
			n6 += ev->confusion[k][j];
	}
	if (n6 != ev->n) {
		tn_out_str(t, "overall");
		tn_out_str(t, "six_types");
		tn_out_int(t, (long long)n6);
		tn_out_int(t, (long long)c6);
		tn_out_num(t, n6 ? (double)c6 / (double)n6 : NAN, 3);
	}
	for (int l = 0; l < TN_LANG_COUNT; l++) {
		if (!ev->n_lang[l])
			continue;
		tn_out_str(t, "language");
		tn_out_str(t, tn_lang_name(l));
		tn_out_int(t, (long long)ev->n_lang[l]);
		tn_out_int(t, (long long)ev->correct_lang[l]);
		tn_out_num(t, (double)ev->correct_lang[l] / (double)ev->n_lang[l], 3);
	}
	for (int k = 0; k < TN_FB_NTYPES; k++) {
		size_t n = 0;
		for (int j = 0; j < TN_FB_NTYPES; j++)
			n += ev->confusion[k][j];
		tn_out_str(t, "type");
		tn_out_str(t, tn_fb_type_name(k));
		tn_out_int(t, (long long)n);
		tn_out_int(t, (long long)ev->confusion[k][k]);
		tn_out_num(t, n ? (double)ev->confusion[k][k] / (double)n : NAN, 3);
	}
	if (ev->theme_n) {
		tn_out_str(t, "theme");
		tn_out_str(t, "all");
		tn_out_int(t, (long long)ev->theme_n);
		tn_out_int(t, (long long)ev->theme_correct);
		tn_out_num(t, (double)ev->theme_correct / (double)ev->theme_n, 3);
	}
	if (ev->lang_n) {
		tn_out_str(t, "language_detection");
		tn_out_str(t, "all");
		tn_out_int(t, (long long)ev->lang_n);
		tn_out_int(t, (long long)ev->lang_correct);
		tn_out_num(t, (double)ev->lang_correct / (double)ev->lang_n, 3);
	}
	const char *ccols[TN_FB_NTYPES + 1] = {"true\\predicted"};
	for (int k = 0; k < TN_FB_NTYPES; k++)
		ccols[k + 1] = tn_fb_type_name(k);
	tn_out *c = tn_out_new(TN_FB_NTYPES + 1, ccols);
	for (int k = 0; k < TN_FB_NTYPES; k++) {
		tn_out_str(c, tn_fb_type_name(k));
		for (int j = 0; j < TN_FB_NTYPES; j++)
			tn_out_int(c, (long long)ev->confusion[k][j]);
	}
	if (ctx->format == OUT_JSON) { /* one document: {"accuracy": [...], "confusion": [...]} */
		cJSON *root = cJSON_CreateObject();
		cJSON_AddItemToObject(root, "accuracy", tn_out_json(t));
		cJSON_AddItemToObject(root, "confusion", tn_out_json(c));
		cli_print_json(root);
		cJSON_Delete(root);
	} else {
		tn_out_print(t, ctx->format, stdout);
		fputc('\n', stdout);
		tn_out_print(c, ctx->format, stdout);
	}
	tn_out_free(t);
	tn_out_free(c);
}

static int sub_evaluate(cli_ctx *ctx, int argc, char **argv, int train)
{
	const char *csv = NULL, *text = "text", *label = "type", *theme = "theme", *model = NULL, *rules = NULL,
		   *save = NULL;
	long folds = 0; /* 0: --cv not given */
	const cli_option train_opts[] = {
		{"--csv", CLI_STR, &csv, 0, 0, NULL},
		{"--text", CLI_STR, &text, 0, 0, NULL},
		{"--label", CLI_STR, &label, 0, 0, NULL},
		{"--rules", CLI_STR, &rules, 0, 0, NULL},
		{"--save", CLI_STR, &save, 0, 0, NULL},
		{"--theme", CLI_STR, &theme, 0, 0, NULL},
		{"--cv", CLI_INT, &folds, 2, 20, "cross-validation folds"},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	const cli_option evaluate_opts[] = {
		{"--csv", CLI_STR, &csv, 0, 0, NULL},
		{"--text", CLI_STR, &text, 0, 0, NULL},
		{"--label", CLI_STR, &label, 0, 0, NULL},
		{"--rules", CLI_STR, &rules, 0, 0, NULL},
		{"--model", CLI_STR, &model, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	char cmd[32];
	snprintf(cmd, sizeof cmd, "feedback %s", argv[0]);
	int parsed = cli_parse(cmd, usage_text, train ? train_opts : evaluate_opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	if (!csv)
		return cli_usage_error("feedback", "%s needs --csv FILE", argv[0]);
	tn_error err = {0};
	tn_fb_model *m = NULL;
	int status = 0;
	if (train) {
		size_t n = 0;
		m = tn_fb_model_new(&err);
		if (!m || tn_fb_model_train_csv(m, csv, text, label, theme, &n, &err) ||
		    (rules && tn_fb_model_load_rules(m, rules, &err)) || (save && tn_fb_model_save(m, save, &err))) {
			tn_fb_model_free(m);
			return cli_fail(&err);
		}
		if (!ctx->quiet)
			fprintf(stderr, "trained on %zu rows of %s%s%s\n", n, csv, save ? "; saved to " : "",
				save ? save : "");
	} else {
		m = fbcli_model(model, rules, &status);
		if (!m)
			return status;
	}
	tn_fb_eval ev;
	if (folds ? tn_fb_cross_validate(csv, text, label, theme, (int)folds, &ev, &err)
	       : tn_fb_evaluate_csv(m, csv, text, label, &ev, &err))
		status = cli_fail(&err);
	else
		print_eval(ctx, &ev);
	tn_fb_model_free(m);
	return status;
}

static int sub_classify(cli_ctx *ctx, int argc, char **argv)
{
	const char *csv = NULL, *text = "text", *model = NULL, *rules = NULL;
	int export = 0, relabel = 0;
	const cli_option opts[] = {
		{"--export", CLI_FLAG, &export, 0, 0, NULL},
		{"--relabel", CLI_FLAG, &relabel, 0, 0, NULL},
		{"--csv", CLI_STR, &csv, 0, 0, NULL},
		{"--text", CLI_STR, &text, 0, 0, NULL},
		{"--model", CLI_STR, &model, 0, 0, NULL},
		{"--rules", CLI_STR, &rules, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int parsed = cli_parse("feedback classify", usage_text, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	int status = 0;
	tn_fb_model *m = fbcli_model(model, rules, &status);
	if (!m)
		return status;
	if (csv)
		status = classify_csv(ctx, m, csv, text, export);
	else
		status = fbcli_classify_store(ctx, m, relabel, export);
	tn_fb_model_free(m);
	return status;
}

int cmd_feedback(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	argc--, argv++;
	if (strcmp(sub, "classify") == 0)
		return sub_classify(ctx, argc, argv);
	if (strcmp(sub, "train") == 0)
		return sub_evaluate(ctx, argc, argv, 1);
	if (strcmp(sub, "evaluate") == 0)
		return sub_evaluate(ctx, argc, argv, 0);
	if (strcmp(sub, "scores") == 0)
		return fbcli_scores(ctx, argc, argv);
	if (strcmp(sub, "impact") == 0)
		return fbcli_impact(ctx, argc, argv);
	if (strcmp(sub, "matrix") == 0)
		return fbcli_matrix(ctx, argc, argv);
	if (strcmp(sub, "effort") == 0)
		return fbcli_effort(ctx, argc, argv);
	if (strcmp(sub, "fixed") == 0)
		return fbcli_fixed(ctx, argc, argv);
	if (strcmp(sub, "follow-up") == 0)
		return fbcli_follow_up(ctx, argc, argv);
	return cli_usage_error("feedback", "unknown subcommand \"%s\"", sub);
}
