/*
 * classify_bench.c -- classification alone, one core (issue 17: 500k texts/s):
 * trains on data/feedback/train.csv, holds the texts of a CSV in memory, then
 * classifies them REPS times and prints texts per CPU-second and per wall
 * second.  With DUMP=PATH it writes one line per text (type, theme, language,
 * rule flag, confidence in %a) so two builds can be compared on any corpus.
 * TN_FB_SIMD=0 runs the scalar code instead of the vector code (AVX-512).
 * Usage: classify_bench TEXTS.csv [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "tenure/feedback.h"
#include "tenure/frame.h"
#include "bench_clock.h"
#include "feedback/text_internal.h"


int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	long reps = argc > 2 ? strtol(argv[2], NULL, 10) : 3;
	tn_error err = {0};
	const char *simd = getenv("TN_FB_SIMD");
	if (simd && *simd)
		tn_fb_simd(atoi(simd));
	tn_fb_model *m = tn_fb_model_new(&err);
	size_t ntrain = 0;
	if (!m || tn_fb_model_train_csv(m, "data/feedback/train.csv", "text", "type", "theme", &ntrain, &err) ||
	    tn_fb_model_add_rule(m, "refund", tn_fb_type_parse("pricing_billing"), "refunds", &err)) {
		fprintf(stderr, "model: %s\n", err.msg);
		return 1;
	}
	tn_frame *f = tn_frame_read_csv(argv[1], NULL, 0, &err);
	if (!f) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	int c = tn_frame_find(f, "text");
	if (c < 0 || f->cols[c].is_numeric)
		return 1;
	size_t n = f->nrows;
	size_t *len = malloc(n * sizeof *len);
	if (!len)
		return 1;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += len[i] = strlen(f->cols[c].text[i]);
	const char *dump = getenv("DUMP");
	if (dump && *dump) {
		FILE *fp = fopen(dump, "w");
		if (!fp)
			return 1;
		for (size_t i = 0; i < n; i++) {
			tn_fb_result r;
			if (tn_fb_classify(m, f->cols[c].text[i], len[i], &r, &err))
				fprintf(fp, "error %s\n", err.msg);
			else
				fprintf(fp, "%s\t%s\t%s\t%d\t%a\n", tn_fb_type_name(r.type), r.theme,
					tn_lang_name(r.language), r.by_rule, r.confidence);
		}
		fclose(fp);
	}
	unsigned long sink = 0;
	double c0 = bench_cpu(), w0 = bench_now();
	for (long k = 0; k < reps; k++)
		for (size_t i = 0; i < n; i++) {
			tn_fb_result r;
			if (tn_fb_classify(m, f->cols[c].text[i], len[i], &r, &err))
				return 1;
			sink += (unsigned long)r.type + (unsigned char)r.theme[0];
		}
	double cs = bench_cpu() - c0, ws = bench_now() - w0, total = (double)n * (double)reps;
	double la[3] = {0};
	FILE *lp = fopen("/proc/loadavg", "r");
	if (lp) {
		if (fscanf(lp, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
			la[0] = -1;
		fclose(lp);
	}
	printf("classify: %zu texts (%.1f bytes each) x %ld: %.3f CPU-s, %.3f s wall: %.0f texts per CPU-second, "
	       "%.0f per wall second (%.2f us/text); load %.2f; check %lu; simd %d\n",
	       n, (double)bytes / (double)n, reps, cs, ws, total / cs, total / ws, cs / total * 1e6, la[0], sink, tn_fb_simd(-1));
	tn_frame_free(f);
	free(len);
	tn_fb_model_free(m);
	return 0;
}
