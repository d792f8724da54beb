/* test_churn.c -- churn definitions, spells, rates, MRR, cohorts and the
 * survival frame on small hand-made stores with hand-computed answers. */
#include "testutil.h"
#include "tenure.h"

#include <unistd.h>

#define D(n) ((tn_time)(n) * TN_DAY)
#define JAN1 ((tn_time)1704067200) /* 2024-01-01T00:00:00Z */

static char db_path[64];

static tn_store *new_store(void)
{
	snprintf(db_path, sizeof db_path, "/tmp/tenure_churn_XXXXXX");
	int fd = mkstemp(db_path);
	assert_true(fd >= 0);
	close(fd);
	unlink(db_path);
	tn_store *s;
	tn_error err = {0};
	assert_int_equal(tn_store_open(db_path, TN_STORE_CREATE, &s, &err), TN_OK);
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	return s;
}

static void done_writing(tn_store *s)
{
	tn_error err = {0};
	if (tn_store_commit(s, &err))
		fail_msg("%s", err.msg);
}

static void close_store(tn_store *s)
{
	tn_store_close(s);
	unlink(db_path);
}

static void customer(tn_store *s, const char *id, tn_time signed_up, const char *attrs)
{
	tn_error err = {0};
	tn_customer_rec r = {.id = id, .signed_up_at = signed_up, .country = "DE", .channel = "organic",
			     .attrs_json = attrs};
	if (tn_store_put_customer(s, &r, NULL, &err))
		fail_msg("%s", err.msg);
}

static void sub(tn_store *s, const char *cust, const char *plan, const char *period, double price, tn_time start,
		tn_time trial_end, tn_time cancelled, tn_time cpe, const char *status)
{
	tn_error err = {0};
	tn_subscription_rec r = {.customer = cust, .plan = plan, .billing_period = period, .price = price,
				 .currency = "USD", .started_at = start, .trial_ends_at = trial_end,
				 .current_period_end = cpe, .cancelled_at = cancelled, .status = status};
	if (tn_store_put_subscription(s, &r, NULL, &err))
		fail_msg("%s", err.msg);
}

static void event(tn_store *s, const char *cust, tn_time at, const char *type)
{
	tn_error err = {0};
	tn_event_rec r = {.customer = cust, .at = at, .type = type, .amount = NAN};
	if (tn_store_put_event(s, &r, &err))
		fail_msg("%s", err.msg);
}

static void payment(tn_store *s, const char *cust, tn_time at, const char *status)
{
	tn_error err = {0};
	tn_payment_rec r = {.customer = cust, .at = at, .amount = 10, .currency = "USD", .status = status};
	if (tn_store_put_payment(s, &r, NULL, &err))
		fail_msg("%s", err.msg);
}

/* Collected spells of every customer, as "id:start-end:reason" with days
 * from JAN1, one string. */
typedef struct got {
	char buf[4096];
} got;

static int collect(void *ud, const tn_churn_customer *c, tn_error *err)
{
	(void)err;
	got *g = ud;
	size_t n = strlen(g->buf);
	for (size_t i = 0; i < c->nspells; i++) {
		const tn_churn_spell *sp = &c->spells[i];
		int w = snprintf(g->buf + n, sizeof g->buf - n, "%s:%g-%g:%s ", c->id,
				 (double)(sp->start - JAN1) / TN_DAY, (double)(sp->end - JAN1) / TN_DAY,
				 tn_churn_reason_name(sp->reason));
		n += (size_t)w;
	}
	return TN_OK;
}

static void run(tn_store *s, const tn_churn_def *d, tn_time as_of, got *g)
{
	tn_error err = {0};
	memset(g, 0, sizeof *g);
	tn_churn_scan_opts o = {.as_of = as_of};
	if (tn_churn_scan(s, d, &o, collect, g, NULL, &err))
		fail_msg("%s", err.msg);
}

static void test_cancelled_grace_and_reactivation(void **state)
{
	(void)state;
	tn_store *s = new_store();
	customer(s, "a", JAN1, NULL);
	customer(s, "b", JAN1, NULL);
	customer(s, "c", JAN1, NULL);
	customer(s, "d", JAN1, NULL);
	customer(s, "e", JAN1, NULL); /* no subscription: never a customer */
	customer(s, "f", JAN1, NULL);
	/* f: expired with no date at all: ends at its trial end (day 7) */
	sub(s, "f", "monthly", "month", 10, JAN1, JAN1 + D(7), TN_NO_TIME, TN_NO_TIME, "expired");
	/* a: cancelled day 60, new subscription day 64 (within 7 grace days): one spell */
	sub(s, "a", "monthly", "month", 10, JAN1, TN_NO_TIME, JAN1 + D(60), TN_NO_TIME, "cancelled");
	sub(s, "a", "monthly", "month", 10, JAN1 + D(64), TN_NO_TIME, TN_NO_TIME, TN_NO_TIME, "active");
	/* b: cancelled day 60, back day 80: churned at 60, second spell from 80 */
	sub(s, "b", "monthly", "month", 10, JAN1, TN_NO_TIME, JAN1 + D(60), TN_NO_TIME, "cancelled");
	sub(s, "b", "annual", "year", 80, JAN1 + D(80), TN_NO_TIME, TN_NO_TIME, TN_NO_TIME, "active");
	/* c: still active: censored at as-of */
	sub(s, "c", "monthly", "month", 10, JAN1 + D(10), TN_NO_TIME, TN_NO_TIME, TN_NO_TIME, "active");
	/* d: not renewed: expired at its period end, day 31 */
	sub(s, "d", "monthly", "month", 10, JAN1, TN_NO_TIME, TN_NO_TIME, JAN1 + D(31), "expired");
	done_writing(s);
	tn_churn_def d;
	tn_churn_def_default(&d);
	got g;
	run(s, &d, JAN1 + D(100), &g);
	assert_string_equal(g.buf, "a:0-100:censored b:0-60:cancelled b:80-100:censored c:10-100:censored "
				   "d:0-31:cancelled f:0-7:cancelled ");
	/* as of day 50, a's and b's cancellations have not happened yet */
	run(s, &d, JAN1 + D(50), &g);
	assert_string_equal(g.buf, "a:0-50:censored b:0-50:censored c:10-50:censored d:0-31:cancelled "
				   "f:0-7:cancelled ");
	/* grace 30: b's return at day 80 (20 days after) continues the spell */
	d.grace_days = 30;
	run(s, &d, JAN1 + D(100), &g);
	assert_string_equal(g.buf, "a:0-100:censored b:0-100:censored c:10-100:censored d:0-31:cancelled "
				   "f:0-7:cancelled ");
	/* grace 0: a's return 4 days later is a reactivation */
	d.grace_days = 0;
	run(s, &d, JAN1 + D(100), &g);
	assert_string_equal(g.buf, "a:0-60:cancelled a:64-100:censored b:0-60:cancelled b:80-100:censored "
				   "c:10-100:censored d:0-31:cancelled f:0-7:cancelled ");
	close_store(s);
}

static void test_inactivity_and_event_types(void **state)
{
	(void)state;
	tn_store *s = new_store();
	customer(s, "a", JAN1, NULL);
	event(s, "a", JAN1 + D(10), "session");
	event(s, "a", JAN1 + D(20), "session");
	event(s, "a", JAN1 + D(35), "support_ticket");
	event(s, "a", JAN1 + D(90), "session"); /* back: a new spell */
	done_writing(s);
	tn_churn_def d = {.inactive_days = 30};
	snprintf(d.name, sizeof d.name, "idle");
	got g;
	/* every type counts: last activity day 35, churn at 65; back at 90 */
	run(s, &d, JAN1 + D(110), &g);
	assert_string_equal(g.buf, "a:0-65:inactive a:90-110:censored ");
	/* sessions only: last activity day 20, churn at 50 */
	d.ntypes = 1;
	snprintf(d.types[0], sizeof d.types[0], "session");
	run(s, &d, JAN1 + D(110), &g);
	assert_string_equal(g.buf, "a:0-50:inactive a:90-110:censored ");
	/* an unknown type is an error naming the types */
	snprintf(d.types[0], sizeof d.types[0], "sesion");
	tn_error err = {0};
	assert_int_equal(tn_churn_scan(s, &d, NULL, collect, &g, NULL, &err), TN_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "\"sesion\""));
	assert_non_null(strstr(err.msg, "session"));
	close_store(s);
}

static void test_defection(void **state)
{
	(void)state;
	tn_store *s = new_store();
	customer(s, "a", JAN1, NULL);
	for (int j = 0; j < 60; j++)
		event(s, "a", JAN1 + D(j) + 3600, "session");
	event(s, "a", JAN1 + D(100) + 3600, "session");
	done_writing(s);
	/* W 10, B 30, F 0.5: threshold 0.5 * 30 * 10/30 = 5 events in the last
	 * 10 days.  At the end of day 66 the window (56, 66] holds 4 (days
	 * 56..59) and the baseline (26, 56] 30: fires at day 66. */
	tn_churn_def d = {.defection_window = 10, .defection_baseline = 30, .defection_fraction = 0.5};
	snprintf(d.name, sizeof d.name, "defect");
	got g;
	run(s, &d, JAN1 + D(120), &g);
	assert_string_equal(g.buf, "a:0-66:defection a:100.042-120:censored ");
	/* the second spell is too young (needs W + B = 40 days) to fire by day 120;
	 * by day 150 its baseline (one event) is followed by an empty window */
	run(s, &d, JAN1 + D(150), &g);
	assert_string_equal(g.buf, "a:0-66:defection a:100.042-140.042:defection ");
	close_store(s);
}

static void test_failed_payment_and_combination(void **state)
{
	(void)state;
	tn_store *s = new_store();
	customer(s, "a", JAN1, NULL);
	sub(s, "a", "monthly", "month", 10, JAN1, TN_NO_TIME, JAN1 + D(100), TN_NO_TIME, "cancelled");
	payment(s, "a", JAN1 + D(30), "failed");
	payment(s, "a", JAN1 + D(35), "succeeded"); /* recovered within 14 days */
	payment(s, "a", JAN1 + D(60), "failed");    /* not recovered: churn at 74 */
	payment(s, "a", JAN1 + D(80), "succeeded");
	event(s, "a", JAN1 + D(5), "session");
	done_writing(s);
	tn_churn_def d;
	tn_churn_def_default(&d);
	snprintf(d.name, sizeof d.name, "pay");
	d.failed_payment = 1;
	d.failed_payment_days = 14;
	got g;
	run(s, &d, JAN1 + D(120), &g);
	assert_string_equal(g.buf, "a:0-74:failed_payment ");
	/* 30 days to recover: the day-60 failure is recovered on day 80; the
	 * cancellation on day 100 ends the spell */
	d.failed_payment_days = 30;
	run(s, &d, JAN1 + D(120), &g);
	assert_string_equal(g.buf, "a:0-100:cancelled ");
	/* + inactivity 20 days: the last event is day 5, fires at day 25 first */
	d.inactive_days = 20;
	run(s, &d, JAN1 + D(120), &g);
	assert_string_equal(g.buf, "a:0-25:inactive ");
	close_store(s);
}

static void test_definitions_in_store(void **state)
{
	(void)state;
	tn_store *s = new_store();
	done_writing(s);
	tn_error err = {0};
	tn_churn_def d = {.inactive_days = 30, .ntypes = 1, .cancelled = 1, .grace_days = 3};
	snprintf(d.name, sizeof d.name, "active30");
	snprintf(d.types[0], sizeof d.types[0], "session");
	assert_int_equal(tn_churn_def_save(s, &d, &err), TN_OK);
	tn_churn_def back;
	assert_int_equal(tn_churn_def_load(s, "active30", &back, &err), TN_OK);
	assert_int_equal(back.cancelled, 1);
	assert_near(back.grace_days, 3, 0);
	assert_near(back.inactive_days, 30, 0);
	assert_int_equal(back.ntypes, 1);
	assert_string_equal(back.types[0], "session");
	tn_churn_def *all;
	size_t n;
	assert_int_equal(tn_churn_def_list(s, &all, &n, &err), TN_OK);
	assert_int_equal(n, 4); /* the built-ins cancelled, voluntary, involuntary, then active30 */
	assert_string_equal(all[0].name, "cancelled");
	assert_string_equal(all[1].name, "voluntary");
	assert_int_equal(all[1].cause_class, TN_CAUSE_VOLUNTARY);
	assert_string_equal(all[2].name, "involuntary");
	assert_int_equal(all[2].cause_class, TN_CAUSE_INVOLUNTARY);
	assert_int_equal(all[2].cancelled, 1);
	free(all);
	/* the cause classes (docs/churn.md) and a class in the stored rule */
	assert_int_equal(tn_churn_cause_class("billing"), TN_CAUSE_INVOLUNTARY);
	assert_int_equal(tn_churn_cause_class("revoked"), TN_CAUSE_INVOLUNTARY);
	assert_int_equal(tn_churn_cause_class("price_increase"), TN_CAUSE_VOLUNTARY);
	assert_int_equal(tn_churn_cause_class("refund"), TN_CAUSE_VOLUNTARY);
	assert_int_equal(tn_churn_cause_class(NULL), TN_CAUSE_NONE);
	assert_int_equal(tn_churn_cause_class("nonsense"), TN_CAUSE_NONE);
	{
		tn_churn_def cd, cb;
		tn_churn_def_default(&cd);
		snprintf(cd.name, sizeof cd.name, "inv14");
		cd.grace_days = 14;
		cd.cause_class = TN_CAUSE_INVOLUNTARY;
		char *js = tn_churn_def_to_json(&cd);
		assert_non_null(js);
		assert_non_null(strstr(js, "\"cause\":\"involuntary\""));
		assert_int_equal(tn_churn_def_from_json("inv14", js, &cb, &err), TN_OK);
		assert_int_equal(cb.cause_class, TN_CAUSE_INVOLUNTARY);
		free(js);
		assert_int_equal(tn_churn_def_from_json("x", "{\"cancelled\":true,\"cause\":\"bad\"}", &cb, &err),
				 TN_ERR_INPUT);
		tn_error_clear(&err);
		cd.cancelled = 0;
		cd.inactive_days = 30;
		assert_int_equal(tn_churn_def_check(&cd, &err), TN_ERR_USAGE); /* a cause needs the cancelled rule */
		tn_error_clear(&err);
		assert_int_equal(tn_churn_def_drop(s, "voluntary", &err), TN_ERR_USAGE);
		tn_error_clear(&err);
	}
	/* the built-in cannot be replaced or dropped; unknown names are errors */
	snprintf(d.name, sizeof d.name, "cancelled");
	assert_int_equal(tn_churn_def_save(s, &d, &err), TN_ERR_USAGE);
	tn_error_clear(&err);
	assert_int_equal(tn_churn_def_drop(s, "cancelled", &err), TN_ERR_USAGE);
	tn_error_clear(&err);
	assert_int_equal(tn_churn_def_drop(s, "active30", &err), TN_OK);
	assert_int_equal(tn_churn_def_load(s, "active30", &back, &err), TN_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "cancelled"));
	/* the stored JSON form: round trip, and malformed rules named */
	tn_error_clear(&err);
	tn_churn_def j;
	assert_int_equal(tn_churn_def_from_json("j", "{\"defection\":{\"window\":14,\"baseline\":60,\"fraction\":0.3},"
						   "\"failed_payment_days\":0}", &j, &err), TN_OK);
	assert_near(j.defection_window, 14, 0);
	assert_near(j.defection_fraction, 0.3, 0);
	assert_int_equal(j.failed_payment, 1);
	assert_near(j.failed_payment_days, 0, 0);
	assert_int_equal(j.cancelled, 0);
	char *text = tn_churn_def_to_json(&j);
	assert_string_equal(text, "{\"defection\":{\"window\":14,\"baseline\":60,\"fraction\":0.3},\"failed_payment_days\":0}");
	free(text);
	assert_int_equal(tn_churn_def_from_json("k", "{\"inactive_days\":\"x\"}", &j, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "inactive_days: expected a number"));
	tn_error_clear(&err);
	assert_int_equal(tn_churn_def_from_json("k", "[1]", &j, &err), TN_ERR_INPUT);
	tn_error_clear(&err);
	j.defection_window = 14;
	j.defection_baseline = 60;
	j.defection_fraction = 1.5;
	assert_int_equal(tn_churn_def_check(&j, &err), TN_ERR_USAGE);
	assert_non_null(strstr(err.msg, "fraction"));
	tn_error_clear(&err);
	/* a definition with no rule is refused */
	tn_error_clear(&err);
	tn_churn_def empty = {0};
	snprintf(empty.name, sizeof empty.name, "none");
	assert_int_equal(tn_churn_def_check(&empty, &err), TN_ERR_USAGE);
	close_store(s);
}

/* x: 10/month from Jan 1; y: 20/month Jan 15, cancelled Feb 10; z: 120/year
 * from Feb 1 (MRR 10).  As of 2024-03-31. */
static tn_store *rate_store(void)
{
	tn_store *s = new_store();
	customer(s, "x", JAN1, "{\"device\":\"ios\"}");
	customer(s, "y", JAN1 + D(14), "{\"device\":\"android\"}");
	customer(s, "z", JAN1 + D(31), "{\"device\":\"ios\"}");
	sub(s, "x", "monthly", "month", 10, JAN1, TN_NO_TIME, TN_NO_TIME, TN_NO_TIME, "active");
	sub(s, "y", "premium", "month", 20, JAN1 + D(14), TN_NO_TIME, JAN1 + D(40), TN_NO_TIME, "cancelled");
	sub(s, "z", "annual", "year", 120, JAN1 + D(31), TN_NO_TIME, TN_NO_TIME, TN_NO_TIME, "active");
	done_writing(s);
	return s;
}

static void test_rate_and_mrr(void **state)
{
	(void)state;
	tn_store *s = rate_store();
	tn_churn_def d;
	tn_churn_def_default(&d);
	tn_error err = {0};
	tn_churn_rate_opts o = {.period_months = TN_PERIOD_MONTH, .as_of = JAN1 + D(90)};
	tn_churn_rate_row *r;
	size_t n;
	if (tn_churn_rate(s, &d, &o, &r, &n, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(n, 3);
	/* January: x and y new, MRR 0 -> 30 */
	assert_int_equal(r[0].period_start, JAN1);
	assert_int_equal(r[0].customers_start, 0);
	assert_int_equal(r[0].new_customers, 2);
	assert_int_equal(r[0].customers_end, 2);
	assert_near(r[0].new_mrr, 30, 1e-9);
	assert_near(r[0].mrr_end, 30, 1e-9);
	assert_true(isnan(r[0].churn_rate));
	/* February: 2 at start, z new, y churned: rate 1/2; MRR 30 + 10 - 20 = 20;
	 * gross revenue churn 20/30, NRR (30 - 20)/30 */
	assert_int_equal(r[1].customers_start, 2);
	assert_int_equal(r[1].new_customers, 1);
	assert_int_equal(r[1].churned, 1);
	assert_int_equal(r[1].customers_end, 2);
	assert_near(r[1].churn_rate, 0.5, 1e-12);
	assert_near(r[1].mrr_start, 30, 1e-9);
	assert_near(r[1].new_mrr, 10, 1e-9);
	assert_near(r[1].churned_mrr, 20, 1e-9);
	assert_near(r[1].mrr_end, 20, 1e-9);
	assert_near(r[1].gross_revenue_churn, 20.0 / 30, 1e-12);
	assert_near(r[1].nrr, 10.0 / 30, 1e-12);
	/* March: nothing happens */
	assert_int_equal(r[2].churned, 0);
	assert_near(r[2].nrr, 1, 1e-12);
	free(r);
	/* by device: ios = x, z; android = y */
	o.by = "device";
	if (tn_churn_rate(s, &d, &o, &r, &n, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(n, 6);
	assert_string_equal(r[0].group, "ios");
	assert_string_equal(r[3].group, "android");
	assert_int_equal(r[4].churned, 1);
	assert_int_equal(r[1].churned, 0);
	assert_int_equal(r[1].new_customers, 1);
	free(r);
	close_store(s);
}

static void test_cohorts(void **state)
{
	(void)state;
	tn_store *s = rate_store();
	tn_churn_def d;
	tn_churn_def_default(&d);
	tn_error err = {0};
	tn_cohorts *c;
	if (tn_cohorts_compute(s, &d, TN_PERIOD_MONTH, 0, JAN1 + D(90), &c, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(c->ncohorts, 3);
	assert_int_equal(c->size[0], 2);
	assert_int_equal(c->size[1], 1);
	size_t k = c->nages;
	/* January: x and y at 0; at +1 month y is gone (ended Feb 10 < Feb 15) */
	assert_near(c->value[0], 1, 0);
	assert_near(c->value[1], 0.5, 1e-12);
	assert_near(c->value[2], 0.5, 1e-12);
	assert_int_equal(k, 3);
	assert_near(c->value[k + 0], 1, 0);
	assert_near(c->value[k + 1], 1, 0);
	assert_true(isnan(c->value[k + 2])); /* z's +2 months is after the as-of */
	tn_cohorts_free(c);
	if (tn_cohorts_compute(s, &d, TN_PERIOD_MONTH, 1, JAN1 + D(90), &c, &err))
		fail_msg("%s", err.msg);
	assert_near(c->base_mrr[0], 30, 1e-9);
	assert_near(c->value[1], 10.0 / 30, 1e-12);
	tn_cohorts_free(c);
	close_store(s);
}

static void test_frame_and_csv(void **state)
{
	(void)state;
	tn_store *s = rate_store();
	tn_error err = {0};
	tn_event_rec e = {.customer = "x", .at = JAN1 + D(2), .type = "onboarding_complete", .amount = NAN};
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	assert_int_equal(tn_store_put_event(s, &e, &err), TN_OK);
	e.customer = "z";
	e.at = JAN1 + D(31 + 20); /* after the 7-day landmark: not counted */
	assert_int_equal(tn_store_put_event(s, &e, &err), TN_OK);
	tn_feedback_rec fb = {.customer = "y", .at = JAN1 + D(20), .kind = "nps", .score = 3, .answer = NULL};
	assert_int_equal(tn_store_put_feedback(s, &fb, NULL, &err), TN_OK);
	done_writing(s);
	tn_churn_def d;
	tn_churn_def_default(&d);
	tn_churn_frame_opts o = {.as_of = JAN1 + D(90)};
	tn_frame *f = tn_churn_frame(s, &d, &o, &err);
	if (!f)
		fail_msg("%s", err.msg);
	assert_int_equal(f->nrows, 3);
	int t = tn_frame_require(f, "time", 1, &err), ev = tn_frame_require(f, "event", 1, &err);
	int plan = tn_frame_require(f, "plan", 0, &err), dev = tn_frame_require(f, "attr_device", 0, &err);
	int on = tn_frame_require(f, "reached_onboarding_complete", 1, &err);
	int nps = tn_frame_require(f, "first_nps", 1, &err);
	assert_true(t >= 0 && ev >= 0 && plan >= 0 && dev >= 0 && on >= 0 && nps >= 0);
	assert_near(f->cols[t].num[0], 90, 1e-9);
	assert_near(f->cols[ev].num[0], 0, 0);
	assert_near(f->cols[t].num[1], 26, 1e-9); /* y: day 14 to day 40 */
	assert_near(f->cols[ev].num[1], 1, 0);
	assert_string_equal(f->cols[plan].text[1], "premium");
	assert_string_equal(f->cols[dev].text[1], "android");
	assert_near(f->cols[on].num[0], 1, 0);
	assert_near(f->cols[on].num[2], 0, 0);
	assert_near(f->cols[nps].num[1], 3, 0);
	assert_true(isnan(f->cols[nps].num[0]));
	char path[96];
	snprintf(path, sizeof path, "%s.csv", db_path);
	assert_int_equal(tn_frame_write_csv(f, path, &err), TN_OK);
	tn_frame *back = tn_frame_read_csv(path, NULL, 0, &err);
	assert_non_null(back);
	assert_int_equal(back->nrows, 3);
	assert_int_equal(back->ncols, f->ncols);
	tn_frame_free(back);
	/* the streamed export writes the same bytes */
	char path2[96];
	snprintf(path2, sizeof path2, "%s.2.csv", db_path);
	assert_int_equal(tn_churn_export_csv(s, &d, &o, path2, &err), TN_OK);
	char a[4096], b2[4096];
	FILE *fa = fopen(path, "rb"), *fb2 = fopen(path2, "rb");
	assert_non_null(fa);
	assert_non_null(fb2);
	size_t na = fread(a, 1, sizeof a, fa), nb = fread(b2, 1, sizeof b2, fb2);
	fclose(fa);
	fclose(fb2);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b2, na);
	assert_true(na > 100);
	unlink(path2);
	tn_frame_free(f);
	unlink(path);
	close_store(s);
}

/* Milestones under a definition that reads no activity (the default,
 * cancellations only): the scan asks the store for the milestones' types
 * alone; the first instant of each is the same as when every event is read
 * (an inactivity rule), and the spells are the cancellation rule's.  The
 * frame's attribute columns come from every customer, in key order, also
 * those with no subscription. */
static int collect_milestone(void *ud, const tn_churn_customer *c, tn_error *err)
{
	(void)err;
	got *g = ud;
	size_t n = strlen(g->buf);
	snprintf(g->buf + n, sizeof g->buf - n, "%s:%g:%zu ", c->id,
		 c->milestone_at[0] == TN_NO_TIME ? -1.0 : (double)(c->milestone_at[0] - JAN1) / TN_DAY, c->nspells);
	return TN_OK;
}

static void test_milestones_without_activity(void **state)
{
	(void)state;
	tn_store *s = new_store();
	customer(s, "a", JAN1, "{\"device\":\"ios\"}");
	customer(s, "b", JAN1, "{\"age\":\"30s\",\"device\":\"web\"}");
	sub(s, "a", "basic", "month", 10, JAN1, TN_NO_TIME, JAN1 + D(40), JAN1 + D(40), "cancelled");
	event(s, "a", JAN1 + D(1), "session");
	event(s, "a", JAN1 + D(3), "onboarding_complete");
	event(s, "a", JAN1 + D(5), "onboarding_complete");
	event(s, "b", JAN1 + D(2), "session");
	event(s, "b", JAN1 + D(4), "onboarding_complete");
	done_writing(s);
	static const char *const miles[] = {"onboarding_complete"};
	tn_churn_scan_opts o = {.as_of = JAN1 + D(60), .milestones = miles, .nmilestones = 1};
	tn_churn_def d;
	tn_churn_def_default(&d);
	got g;
	memset(&g, 0, sizeof g);
	tn_error err = {0};
	if (tn_churn_scan(s, &d, &o, collect_milestone, &g, NULL, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(g.buf, "a:3:1 b:4:0 "); /* b: no subscription, no spell under cancellations */
	tn_churn_def idle = {.inactive_days = 30};
	snprintf(idle.name, sizeof idle.name, "idle");
	memset(&g, 0, sizeof g);
	if (tn_churn_scan(s, &idle, &o, collect_milestone, &g, NULL, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(g.buf, "a:3:1 b:4:1 "); /* activity starts b's spell */
	tn_churn_frame_opts fo = {.as_of = JAN1 + D(60)};
	tn_frame *f = tn_churn_frame(s, &d, &fo, &err);
	if (!f)
		fail_msg("%s", err.msg);
	assert_int_equal(f->nrows, 1);
	assert_int_equal(tn_frame_find(f, "attr_device"), 11);
	assert_int_equal(tn_frame_find(f, "attr_age"), 12); /* b's key, though b has no row */
	int on = tn_frame_find(f, "reached_onboarding_complete");
	assert_true(on >= 0);
	assert_near(f->cols[on].num[0], 1, 0);
	tn_frame_free(f);
	close_store(s);
}

/* --by keeps groups apart and whole: a numeric attribute used to print with
 * %g (1234567 and 1234568 both "1.23457e+06", one group) and names were cut
 * at 63 bytes. */
static void test_rate_groups_exact_and_whole(void **state)
{
	(void)state;
	tn_store *s = new_store();
	char longname[200], attrs[300];
	memset(longname, 'p', 150);
	longname[150] = '\0';
	customer(s, "a", JAN1, "{\"zip\":1234567,\"tag\":\"t\"}");
	customer(s, "b", JAN1, "{\"zip\":1234568,\"tag\":\"t\"}");
	snprintf(attrs, sizeof attrs, "{\"zip\":0.1,\"tag\":\"%sA\"}", longname);
	customer(s, "c", JAN1, attrs);
	snprintf(attrs, sizeof attrs, "{\"zip\":0.1,\"tag\":\"%sB\"}", longname);
	customer(s, "d", JAN1, attrs);
	const char *ids[] = {"a", "b", "c", "d"};
	for (int i = 0; i < 4; i++)
		sub(s, ids[i], "monthly", "month", 10, JAN1, TN_NO_TIME, TN_NO_TIME, TN_NO_TIME, "active");
	done_writing(s);
	tn_churn_def d;
	tn_churn_def_default(&d);
	tn_error err = {0};
	tn_churn_rate_opts o = {.period_months = TN_PERIOD_MONTH, .as_of = JAN1 + D(20), .by = "zip"};
	tn_churn_rate_row *r;
	size_t n;
	if (tn_churn_rate(s, &d, &o, &r, &n, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(n, 3);
	assert_string_equal(r[0].group, "1234567");
	assert_string_equal(r[1].group, "1234568");
	assert_string_equal(r[2].group, "0.1");
	free(r);
	o.by = "tag";
	if (tn_churn_rate(s, &d, &o, &r, &n, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(n, 3);
	assert_int_equal(strlen(r[1].group), 151);
	assert_int_equal(r[1].group[150], 'A');
	assert_int_equal(r[2].group[150], 'B');
	assert_int_equal(r[1].new_customers, 1);
	free(r);
	close_store(s);
}


/* Causes: the source's state (written with tn_store_put_subscription_state)
 * or, for a plain import, derived from the status and the payments
 * (docs/churn.md, "Causes"); the built-in involuntary definition censors the
 * other cause. */
static int collect_causes(void *ud, const tn_churn_customer *c, tn_error *err)
{
	(void)err;
	got *g = ud;
	size_t n = strlen(g->buf);
	for (size_t i = 0; i < c->nspells; i++) {
		const tn_churn_spell *sp = &c->spells[i];
		int w = snprintf(g->buf + n, sizeof g->buf - n, "%s:%s:%s:%s:%s ", c->id,
				 sp->cause ? sp->cause : "-", tn_churn_cause_class_name(sp->cause_class),
				 c->nsubs ? c->subs[0].source : "-", tn_churn_reason_name(sp->reason));
		n += (size_t)w;
	}
	return TN_OK;
}

static void sub_id(tn_store *s, const char *id, const char *cust, tn_time start, tn_time cancelled, tn_time cpe,
		   const char *status)
{
	tn_error err = {0};
	tn_subscription_rec r = {.id = id, .customer = cust, .plan = "monthly", .billing_period = "month",
				 .price = 10, .currency = "USD", .started_at = start, .trial_ends_at = TN_NO_TIME,
				 .current_period_end = cpe, .cancelled_at = cancelled, .status = status};
	if (tn_store_put_subscription(s, &r, NULL, &err))
		fail_msg("%s", err.msg);
}

static void state(tn_store *s, const char *id, const char *source, const char *st, const char *cause)
{
	tn_error err = {0};
	tn_subscription_state r = {.subscription = id, .source = source, .state = st, .cause = cause,
				   .auto_renew = -1, .expires_at = TN_NO_TIME, .auto_renew_off_at = TN_NO_TIME,
				   .updated_at = JAN1 + 50 * TN_DAY};
	if (tn_store_put_subscription_state(s, &r, NULL, &err))
		fail_msg("%s", err.msg);
}

static void test_causes_from_state_and_derived(void **st)
{
	(void)st;
	tn_store *s = new_store();
	const char *ids[] = {"p", "q", "r", "t", "u"};
	for (int i = 0; i < 5; i++)
		customer(s, ids[i], JAN1, NULL);
	sub_id(s, "sp", "p", JAN1, TN_NO_TIME, JAN1 + 40 * TN_DAY, "expired");
	state(s, "sp", "appstore", "expired", "billing");
	sub_id(s, "sq", "q", JAN1, JAN1 + 20 * TN_DAY, TN_NO_TIME, "cancelled"); /* plain: last payment failed */
	payment(s, "q", JAN1 + 1 * TN_DAY, "succeeded");
	payment(s, "q", JAN1 + 15 * TN_DAY, "failed");
	sub_id(s, "sr", "r", JAN1, JAN1 + 25 * TN_DAY, TN_NO_TIME, "cancelled");
	state(s, "sr", "stripe", "refunded", NULL); /* refunded without a cause: refund */
	sub_id(s, "st", "t", JAN1, TN_NO_TIME, TN_NO_TIME, "past_due");
	state(s, "st", "stripe", "grace", NULL);
	sub_id(s, "su", "u", JAN1, JAN1 + 30 * TN_DAY, TN_NO_TIME, "cancelled"); /* plain, failure recovered */
	payment(s, "u", JAN1 + 10 * TN_DAY, "failed");
	payment(s, "u", JAN1 + 12 * TN_DAY, "succeeded");
	done_writing(s);
	tn_churn_def d;
	tn_churn_def_default(&d);
	got g = {{0}};
	tn_error err = {0};
	tn_churn_scan_opts o = {.as_of = JAN1 + 60 * TN_DAY, .want_causes = 1};
	if (tn_churn_scan(s, &d, &o, collect_causes, &g, NULL, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(g.buf, "p:billing:involuntary:appstore:cancelled q:billing:involuntary:import:cancelled "
				   "r:refund:voluntary:stripe:cancelled t:-:censored:stripe:censored "
				   "u:voluntary:voluntary:import:cancelled ");
	/* the involuntary definition: p and q churn; r and u leave for the other cause (censored there) */
	assert_int_equal(tn_churn_def_load(s, "involuntary", &d, &err), TN_OK);
	memset(&g, 0, sizeof g);
	o.want_causes = 0; /* the definition asks for causes itself */
	if (tn_churn_scan(s, &d, &o, collect_causes, &g, NULL, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(g.buf, "p:billing:involuntary:appstore:cancelled q:billing:involuntary:import:cancelled "
				   "r:refund:voluntary:stripe:other_cause t:-:censored:stripe:censored "
				   "u:voluntary:voluntary:import:other_cause ");
	/* churn rate under it: r and u are churned_other, not churned, and gone */
	tn_churn_rate_opts ro = {.period_months = TN_PERIOD_YEAR, .as_of = JAN1 + 60 * TN_DAY};
	tn_churn_rate_row *rows;
	size_t nr;
	assert_int_equal(tn_churn_rate(s, &d, &ro, &rows, &nr, &err), TN_OK);
	assert_int_equal(nr, 1);
	assert_int_equal(rows[0].churned, 2);
	assert_int_equal(rows[0].churned_other, 2);
	assert_int_equal(rows[0].customers_end, 1);
	assert_int_equal(rows[0].customers_end,
			 rows[0].customers_start + rows[0].new_customers + rows[0].reactivated - rows[0].churned -
				 rows[0].churned_other);
	free(rows);
	close_store(s);
}

/* Rates sharing their first scan (tn_churn_first, the dashboard's nine
 * rates): the same rows, bit for bit, as each computed alone, whichever
 * period and grouping filled the record; a record for another as-of is not
 * used; one for this as-of is (a different start changes the periods). */
static void same_rows(const tn_churn_rate_row *a, size_t na, const tn_churn_rate_row *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i].group ? a[i].group : "", b[i].group ? b[i].group : "");
		tn_churn_rate_row x = a[i], y = b[i];
		x.group = y.group = NULL;
		assert_memory_equal(&x, &y, sizeof x);
	}
}

static void test_rate_shared_first(void **state)
{
	(void)state;
	tn_store *s = rate_store();
	tn_churn_def d;
	tn_churn_def_default(&d);
	tn_error err = {0};
	static const int periods[] = {TN_PERIOD_MONTH, TN_PERIOD_QUARTER, TN_PERIOD_YEAR};
	static const char *const bys[] = {NULL, "plan", "device", "cause", "source"};
	tn_churn_first sh = {0};
	for (int k = 0; k < 2; k++) /* k = 1: every rate from the record */
		for (size_t p = 0; p < 3; p++)
			for (size_t b = 0; b < 5; b++) {
				tn_churn_rate_opts o = {.period_months = periods[p], .by = bys[b], .as_of = TN_NO_TIME};
				tn_churn_rate_row *r1, *r2;
				size_t n1, n2;
				if (tn_churn_rate(s, &d, &o, &r1, &n1, &err))
					fail_msg("alone: %s", err.msg);
				o.first = &sh;
				if (tn_churn_rate(s, &d, &o, &r2, &n2, &err))
					fail_msg("shared: %s", err.msg);
				assert_true(sh.known);
				assert_true(n1 > 0);
				same_rows(r1, n1, r2, n2);
				free(r1);
				free(r2);
			}
	assert_int_equal(sh.first, JAN1);
	/* the cohorts from the same record: the same as alone */
	for (int rev = 0; rev < 2; rev++) {
		tn_cohorts *c1 = NULL, *c2 = NULL;
		if (tn_cohorts_compute(s, &d, TN_PERIOD_MONTH, rev, TN_NO_TIME, &c1, &err) ||
		    tn_cohorts_compute_first(s, &d, TN_PERIOD_MONTH, rev, TN_NO_TIME, &sh, &c2, &err))
			fail_msg("cohorts: %s", err.msg);
		assert_int_equal(c1->ncohorts, c2->ncohorts);
		assert_int_equal(c1->nages, c2->nages);
		assert_true(c1->ncohorts > 0);
		assert_memory_equal(c1->cohort_start, c2->cohort_start, c1->ncohorts * sizeof *c1->cohort_start);
		assert_memory_equal(c1->size, c2->size, c1->ncohorts * sizeof *c1->size);
		assert_memory_equal(c1->base_mrr, c2->base_mrr, c1->ncohorts * sizeof *c1->base_mrr);
		assert_memory_equal(c1->value, c2->value, c1->ncohorts * c1->nages * sizeof *c1->value);
		tn_cohorts_free(c1);
		tn_cohorts_free(c2);
	}
	/* another as-of: the record is not used (it would start a year early) */
	tn_churn_first other = {1, JAN1 + D(90), JAN1 - D(365), JAN1 + D(90)};
	tn_churn_rate_opts o = {.period_months = TN_PERIOD_MONTH, .as_of = TN_NO_TIME, .first = &other};
	tn_churn_rate_row *r;
	size_t n, n0;
	if (tn_churn_rate(s, &d, &o, &r, &n0, &err))
		fail_msg("%s", err.msg);
	free(r);
	assert_int_equal(other.first, JAN1); /* not used: made again for this as-of */
	assert_true(other.as_of_in == TN_NO_TIME);
	/* this as-of: used (the year early start adds twelve months) */
	other.first = JAN1 - D(365);
	if (tn_churn_rate(s, &d, &o, &r, &n, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(n, n0 + 12);
	free(r);
	close_store(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancelled_grace_and_reactivation),
		cmocka_unit_test(test_inactivity_and_event_types),
		cmocka_unit_test(test_defection),
		cmocka_unit_test(test_rate_groups_exact_and_whole),
		cmocka_unit_test(test_failed_payment_and_combination),
		cmocka_unit_test(test_definitions_in_store),
		cmocka_unit_test(test_rate_and_mrr),
		cmocka_unit_test(test_cohorts),
		cmocka_unit_test(test_rate_shared_first),
		cmocka_unit_test(test_frame_and_csv),
		cmocka_unit_test(test_milestones_without_activity),
		cmocka_unit_test(test_causes_from_state_and_derived),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
