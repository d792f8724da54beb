/* test_predict_store.c -- churn-risk features from the store, checked by hand
 * on a three-customer store: windows, recency, trend, payments, feedback,
 * billing period end, the label, and nothing from after the cut-off. */
#include "testutil.h"
#include "tenure/predict.h"
#include "tenure/store.h"
#include "tenure/time.h"
#include "tenure/demo.h"

#include <math.h>

#include <unistd.h>

static tn_time day(int y, int m, int d)
{
	return tn_days_from_civil(y, m, d) * TN_DAY;
}

static double num(const tn_frame *f, const char *col, size_t row)
{
	int j = tn_frame_find(f, col);
	if (j < 0 || !f->cols[j].is_numeric)
		fail_msg("no numeric column %s", col);
	return f->cols[j].num[row];
}

static const char *text(const tn_frame *f, const char *col, size_t row)
{
	int j = tn_frame_find(f, col);
	if (j < 0 || f->cols[j].is_numeric)
		fail_msg("no text column %s", col);
	return f->cols[j].text[row];
}

static void ev(tn_store *s, const char *c, tn_time at, const char *type)
{
	tn_error err = {0};
	tn_event_rec e = {c, at, type, NAN, NULL};
	assert_int_equal(tn_store_put_event(s, &e, &err), TN_OK);
}

/* A new store in a fresh temporary file (its name into PATH, 64 bytes). */
static tn_store *temp_store(char *path)
{
	snprintf(path, 64, "/tmp/tenure_feat_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	tn_error err = {0};
	tn_store *s = NULL;
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &s, &err), TN_OK);
	return s;
}

static void test_features_by_hand(void **state)
{
	(void)state;
	char path[64];
	tn_error err = {0};
	tn_store *s = temp_store(path);
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	const tn_time t = day(2026, 6, 30);
	tn_customer_rec ca = {"A", day(2026, 1, 15), "DE", "organic", "{\"device\":\"ios\",\"age_band\":\"25-34\"}"};
	tn_customer_rec cb = {"B", day(2025, 11, 30), "IR", "search", NULL};
	tn_customer_rec cc = {"C", day(2026, 7, 2), "GB", "referral", NULL};
	assert_int_equal(tn_store_put_customer(s, &ca, NULL, &err), TN_OK);
	assert_int_equal(tn_store_put_customer(s, &cb, NULL, &err), TN_OK);
	assert_int_equal(tn_store_put_customer(s, &cc, NULL, &err), TN_OK);
	/* D: live, its last event 200 days before the cut-off (a third
	 * customer: the per-customer lookups must not lose their bindings) */
	tn_customer_rec cd = {"D", day(2025, 1, 1), "FR", "organic", NULL};
	assert_int_equal(tn_store_put_customer(s, &cd, NULL, &err), TN_OK);
	tn_subscription_rec sd = {NULL, "D", "monthly", "month", 5, "USD", day(2025, 1, 1), TN_NO_TIME,
				  TN_NO_TIME, TN_NO_TIME, NULL, "active"};
	assert_int_equal(tn_store_put_subscription(s, &sd, NULL, &err), TN_OK);
	ev(s, "D", t - 200 * TN_DAY, "session");
	tn_subscription_rec sa = {NULL, "A", "monthly", "month", 9.99, "USD", day(2026, 1, 15), TN_NO_TIME,
				  day(2026, 7, 15), TN_NO_TIME, NULL, "active"};
	/* B: annual with a 7-day trial, cancels 10 days after the cut-off */
	tn_subscription_rec sb = {NULL, "B", "annual", "year", 79.99, "USD", day(2025, 11, 30), day(2025, 12, 7),
				  day(2026, 12, 7), t + 10 * TN_DAY, "price", "cancelled"};
	/* C starts after the cut-off: not live at it */
	tn_subscription_rec sc = {NULL, "C", "monthly", "month", 9.99, "USD", day(2026, 7, 2), TN_NO_TIME,
				  TN_NO_TIME, TN_NO_TIME, NULL, "active"};
	assert_int_equal(tn_store_put_subscription(s, &sa, NULL, &err), TN_OK);
	assert_int_equal(tn_store_put_subscription(s, &sb, NULL, &err), TN_OK);
	assert_int_equal(tn_store_put_subscription(s, &sc, NULL, &err), TN_OK);
	int ago[] = {1, 5, 20, 40, 100};
	for (int k = 0; k < 5; k++)
		ev(s, "A", t - ago[k] * TN_DAY, "session");
	ev(s, "A", t - 10 * TN_DAY, "support_ticket");
	ev(s, "A", t + 2 * TN_DAY, "session"); /* after the cut-off: ignored */
	ev(s, "B", t - 3 * TN_DAY, "session");
	tn_payment_rec p1 = {"A", t - 33 * TN_DAY, 9.99, "USD", "succeeded", NULL};
	tn_payment_rec p2 = {"A", t - 3 * TN_DAY, 9.99, "USD", "failed", NULL};
	tn_payment_rec p3 = {"A", t + 1 * TN_DAY, 9.99, "USD", "succeeded", NULL}; /* after: ignored */
	assert_int_equal(tn_store_put_payment(s, &p1, NULL, &err), TN_OK);
	assert_int_equal(tn_store_put_payment(s, &p2, NULL, &err), TN_OK);
	assert_int_equal(tn_store_put_payment(s, &p3, NULL, &err), TN_OK);
	tn_feedback_rec f1 = {"A", t - 50 * TN_DAY, "nps", 4, NULL, NULL, NULL};
	tn_feedback_rec f2 = {"A", t - 20 * TN_DAY, "nps", 9, NULL, NULL, NULL};
	tn_feedback_rec f3 = {"A", t - 20 * TN_DAY, "csat", 5, NULL, NULL, NULL};
	tn_feedback_rec f4 = {"A", t + 1 * TN_DAY, "nps", 0, NULL, NULL, NULL}; /* after: ignored */
	assert_int_equal(tn_store_put_feedback(s, &f1, NULL, &err), TN_OK);
	assert_int_equal(tn_store_put_feedback(s, &f2, NULL, &err), TN_OK);
	assert_int_equal(tn_store_put_feedback(s, &f3, NULL, &err), TN_OK);
	assert_int_equal(tn_store_put_feedback(s, &f4, NULL, &err), TN_OK);
	assert_int_equal(tn_store_commit(s, &err), TN_OK);

	tn_pred_features_opts o = {.as_of = t, .horizon_days = 30};
	tn_frame *f = NULL;
	assert_int_equal(tn_pred_features(s, &o, &f, &err), TN_OK);
	assert_int_equal(f->nrows, 3); /* A, B and D; C not live */
	assert_string_equal(text(f, "customer", 0), "A");
	assert_near(num(f, "tenure_days", 0), 166, 1e-9); /* 2026-01-15 .. 2026-06-30 */
	assert_string_equal(text(f, "plan", 0), "monthly");
	assert_near(num(f, "days_to_period_end", 0), 15, 1e-9); /* next 15th: 2026-07-15 */
	assert_near(num(f, "recency_days", 0), 1, 1e-9);
	assert_near(num(f, "events_7d", 0), 2, 0);  /* t-1, t-5 */
	assert_near(num(f, "events_30d", 0), 4, 0); /* + t-10 ticket, t-20 */
	assert_near(num(f, "events_90d", 0), 5, 0); /* + t-40 */
	assert_near(num(f, "trend_30_vs_60", 0), 5.0 / 1.5, 1e-12); /* (4+1)/(1/2+1) */
	assert_near(num(f, "event_types_90d", 0), 2, 0);
	assert_near(num(f, "support_tickets_90d", 0), 1, 0);
	assert_near(num(f, "failed_payments_90d", 0), 1, 0);
	assert_near(num(f, "payment_failing", 0), 1, 0); /* the success after t is not seen */
	assert_near(num(f, "nps", 0), 9, 0);  /* the latest up to t */
	assert_near(num(f, "csat", 0), 5, 0);
	assert_true(isnan(num(f, "ces", 0)));
	assert_string_equal(text(f, "device", 0), "ios");
	assert_string_equal(text(f, "age_band", 0), "25-34");
	assert_near(num(f, "churned", 0), 0, 0);

	assert_string_equal(text(f, "customer", 1), "B");
	assert_near(num(f, "in_trial", 1), 0, 0);
	assert_near(num(f, "days_to_period_end", 1), 160, 1e-9); /* 2026-12-07 */
	assert_near(num(f, "mrr", 1), 79.99 / 12, 1e-12);
	assert_near(num(f, "churned", 1), 1, 0); /* cancels at t + 10 days */
	assert_string_equal(text(f, "device", 1), "");
	/* the second and third customers' events are counted too */
	assert_near(num(f, "events_7d", 1), 1, 0); /* t-3 */
	assert_near(num(f, "events_90d", 1), 1, 0);
	assert_near(num(f, "recency_days", 1), 3, 1e-9);
	assert_string_equal(text(f, "customer", 2), "D");
	assert_near(num(f, "events_90d", 2), 0, 0);
	assert_near(num(f, "recency_days", 2), 200, 1e-9); /* the last event before the 90 days */
	tn_frame_free(f);

	/* with a 5-day horizon B's churn falls outside the window */
	o.horizon_days = 5;
	assert_int_equal(tn_pred_features(s, &o, &f, &err), TN_OK);
	assert_near(num(f, "churned", 1), 0, 0);
	tn_frame_free(f);
	tn_store_close(s);
	unlink(path);
}

/* Two cells are the same value (NaN equals NaN, text by content). */
static void same_frames(const tn_frame *a, const tn_frame *b)
{
	assert_int_equal(a->ncols, b->ncols);
	assert_int_equal(a->nrows, b->nrows);
	for (size_t j = 0; j < a->ncols; j++) {
		assert_string_equal(a->cols[j].name, b->cols[j].name);
		assert_int_equal(a->cols[j].is_numeric, b->cols[j].is_numeric);
		assert_int_equal(a->cols[j].nblank, b->cols[j].nblank);
		for (size_t i = 0; i < a->nrows; i++) {
			if (!a->cols[j].is_numeric) {
				assert_string_equal(a->cols[j].text[i], b->cols[j].text[i]);
				continue;
			}
			double x = a->cols[j].num[i], y = b->cols[j].num[i];
			if (isnan(x) || isnan(y)) {
				if (!(isnan(x) && isnan(y)))
					fail_msg("column %s row %zu: %g vs %g", a->cols[j].name, i, x, y);
			} else if (x != y)
				fail_msg("column %s row %zu: %.17g vs %.17g", a->cols[j].name, i, x, y);
		}
	}
}

/* The nightly jobs' one pass (fit at T - 30 days, score at T) gives the very
 * frames of two separate passes when nothing lies after T, with the rows'
 * store keys in customer order. */
static void test_features_many_equal(void **state)
{
	(void)state;
	char path[64];
	tn_error err = {0};
	tn_store *s = temp_store(path);
	tn_demo_opts d;
	tn_demo_defaults(&d);
	d.customers = 1500;
	d.months = 8;
	d.end = day(2026, 9, 30);
	tn_demo_result dr;
	assert_int_equal(tn_demo_generate(s, &d, &dr, &err), TN_OK);
	tn_time t = day(2026, 9, 30) + TN_DAY - 1, cuts[2] = {t - 30 * (tn_time)TN_DAY, t};
	tn_pred_features_opts o = {.as_of = cuts[0], .horizon_days = 30};
	tn_frame *one[2] = {0}, *many[2] = {0};
	int64_t *keys[2] = {0};
	for (int q = 0; q < 2; q++) {
		o.as_of = cuts[q];
		assert_int_equal(tn_pred_features(s, &o, &one[q], &err), TN_OK);
	}
	assert_int_equal(tn_pred_features_many(s, &o, cuts, 2, many, keys, &err), TN_OK);
	/* two threads over the two halves of the customers: the same frames */
	tn_frame *two[2] = {0};
	int64_t *keys2[2] = {0};
	o.threads = 2;
	assert_int_equal(tn_pred_features_many(s, &o, cuts, 2, two, keys2, &err), TN_OK);
	for (int q = 0; q < 2; q++) {
		assert_true(one[q]->nrows > 300);
		same_frames(one[q], many[q]);
		same_frames(one[q], two[q]);
		assert_memory_equal(keys[q], keys2[q], one[q]->nrows * sizeof *keys[q]);
		/* every customer's events are read (a window bound once and cleared
		 * by the statement's reset left all but the first without any) */
		size_t active = 0;
		for (size_t i = 0; i < one[q]->nrows; i++)
			active += num(one[q], "events_90d", i) > 0;
		assert_true(active > one[q]->nrows / 2);
		free(keys2[q]);
		tn_frame_free(two[q]);
		for (size_t i = 1; i < many[q]->nrows; i++)
			assert_true(keys[q][i] > keys[q][i - 1]);
		free(keys[q]);
		tn_frame_free(one[q]);
		tn_frame_free(many[q]);
	}
	/* the cut-offs must increase */
	tn_time bad[2] = {t, t - 1};
	assert_int_equal(tn_pred_features_many(s, &o, bad, 2, many, NULL, &err), TN_ERR_USAGE);
	tn_store_close(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features_by_hand),
		cmocka_unit_test(test_features_many_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
