/* test_winback.c -- win-back campaigns: cost per customer won back from the
 * formulas (two campaigns built in the test), the resubscription window,
 * revenue regained, control-group uplift with the Newcombe interval,
 * reasons, the contact schedule, and import errors with positions. */
#include "actions_fixture.h"

/* Newcombe (1998), Statistics in Medicine 17:873, Table II, example (a):
 * 56/70 - 48/80 = 0.2000, method 10 (hybrid score) 95% CI 0.0524 to 0.3339.
 * Wilson interval for 81/263: 0.2553 to 0.3662 (Newcombe 1998, SiM 17:857,
 * Table I, example (a), method 3). */
static void test_newcombe_reference(void **state)
{
	(void)state;
	tn_prop_diff d;
	tn_prop_diff_newcombe(56, 70, 48, 80, 1.959963984540054, &d);
	assert_near(d.diff, 0.2, 1e-12);
	assert_near(d.lo, 0.0524, 5e-5);
	assert_near(d.hi, 0.3339, 5e-5);
	double lo, hi;
	tn_wilson_interval(81, 263, 1.959963984540054, &lo, &hi);
	assert_near(lo, 0.2553, 5e-5);
	assert_near(hi, 0.3662, 5e-5);
	tn_prop_diff_newcombe(1, 0, 1, 10, 1.96, &d);
	assert_true(isnan(d.lo) && isnan(d.hi));
}

static void build(fixture *f)
{
	char id[32];
	fx_begin(f);
	/* campaign 1: 3,500 lapsed customers mailed at $1.60 each */
	for (int i = 0; i < 3500; i++) {
		snprintf(id, sizeof id, "L%d", i);
		fx_customer(f, id, T0 - 300 * DAY);
		fx_sub(f, id, "monthly", 9.99, T0 - 200 * DAY, T0 - 60 * DAY, T0 - 60 * DAY, "cancelled");
	}
	/* 7 resubscribe 10 days after the mail (won back), paying twice */
	for (int i = 0; i < 7; i++) {
		snprintf(id, sizeof id, "L%d", i);
		fx_sub(f, id, "monthly", 9.99, T0 + 10 * DAY, T0 + 40 * DAY, TN_NO_TIME, "active");
		fx_payment(f, id, T0 + 10 * DAY, 9.99);
		fx_payment(f, id, T0 + 40 * DAY, 9.99);
	}
	/* one resubscribes after 45 days: outside the 30-day window */
	fx_sub(f, "L7", "monthly", 9.99, T0 + 45 * DAY, T0 + 75 * DAY, TN_NO_TIME, "active");
	/* its control group: 350 lapsed customers not mailed; 1 comes back alone */
	for (int i = 0; i < 350; i++) {
		snprintf(id, sizeof id, "K%d", i);
		fx_customer(f, id, T0 - 300 * DAY);
		fx_sub(f, id, "monthly", 9.99, T0 - 200 * DAY, T0 - 60 * DAY, T0 - 60 * DAY, "cancelled");
	}
	fx_sub(f, "K0", "monthly", 9.99, T0 + 5 * DAY, T0 + 35 * DAY, TN_NO_TIME, "active");
	/* campaign 2: 100 customers whose contract ends within a month */
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof id, "E%d", i);
		fx_customer(f, id, T0 - 400 * DAY);
		fx_sub(f, id, "annual", 79.99, T0 - 345 * DAY, T0 + 20 * DAY, TN_NO_TIME, i < 3 ? "expired" : "active");
	}
	/* 3 renew as a new annual subscription after mail + call (no payments yet) */
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof id, "E%d", i);
		fx_sub(f, id, "annual", 79.99, T0 + 25 * DAY, T0 + 390 * DAY, TN_NO_TIME, "active");
	}
	/* for the schedule: S1 lapses on day 25, S2 on day 15 */
	fx_customer(f, "S1", T0 - 100 * DAY);
	fx_sub(f, "S1", "monthly", 9.99, T0 - 100 * DAY, T0 + 25 * DAY, T0 + 25 * DAY, "cancelled");
	fx_customer(f, "S2", T0 - 100 * DAY);
	fx_sub(f, "S2", "monthly", 9.99, T0 - 100 * DAY, T0 + 15 * DAY, T0 + 15 * DAY, "cancelled");
	fx_commit(f);

	tn_error err = {0};
	static const char *reasons[] = {"Too expensive", "too expensive ", "not using it", " TOO EXPENSIVE",
					"Not using it",  "too expensive", "not using it", "too expensive",
					"not using it",  "Too Expensive"};
	fx_begin(f);
	for (int i = 0; i < 3500; i++) {
		snprintf(id, sizeof id, "L%d", i);
		tn_winback_contact c = {.customer = id, .campaign = "lapsed-mail", .channel = "email", .at = T0,
					.reached = i % 7 != 0, .cost = 1.60, .reason = i < 10 ? reasons[i] : NULL};
		if (tn_winback_record(f->s, &c, NULL, &err))
			fail_msg("record: %s", err.msg);
	}
	for (int i = 0; i < 350; i++) {
		snprintf(id, sizeof id, "K%d", i);
		tn_winback_contact c = {.customer = id, .campaign = "lapsed-mail", .channel = "none", .at = T0,
					.control = 1};
		if (tn_winback_record(f->s, &c, NULL, &err))
			fail_msg("record control: %s", err.msg);
	}
	fx_commit(f);

	/* campaign 2 comes in as a CSV file: a mail ($1.50) and a call ($8.25) each */
	char path[64];
	snprintf(path, sizeof path, "/tmp/tenure-wb-XXXXXX");
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	fprintf(fp, "customer,campaign,channel,reached,at,cost,offer\n");
	for (int i = 0; i < 100; i++) {
		fprintf(fp, "E%d,ending-mail-call,email,yes,2024-01-01,1.50,\n", i);
		fprintf(fp, "E%d,ending-mail-call,call,%s,2024-01-02T10:00:00Z,8.25,20%% off\n", i, i % 2 ? "yes" : "no");
	}
	fclose(fp);
	long rows, added;
	if (tn_winback_import_csv(f->s, path, &rows, &added, &err))
		fail_msg("import: %s", err.msg);
	assert_int_equal(rows, 200);
	assert_int_equal(added, 200);
	/* importing again adds nothing */
	assert_int_equal(tn_winback_import_csv(f->s, path, &rows, &added, &err), TN_OK);
	assert_int_equal(added, 0);
	unlink(path);
}

static void test_cost_per_customer_won_back(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	build(&f);
	tn_error err = {0};
	tn_winback_stats *st;
	size_t n;
	assert_int_equal(tn_winback_report(f.s, NULL, 30, T0 + 50 * DAY, &st, &n, &err), TN_OK);
	assert_int_equal(n, 2);
	const tn_winback_stats *a = strcmp(st[0].campaign, "lapsed-mail") == 0 ? &st[0] : &st[1];
	const tn_winback_stats *b = a == &st[0] ? &st[1] : &st[0];
	/* campaign 1: 3,500 x $1.60 = $5,600 for 7 customers = $800 each */
	assert_int_equal(a->contacted, 3500);
	assert_int_equal(a->reached, 3000);
	assert_int_equal(a->won, 7);
	assert_near(a->cost, 3500 * 1.60, 1e-6);
	assert_near(a->cost_per_win, 800, 1e-9);
	assert_near(a->revenue, 7 * 2 * 9.99, 1e-9);
	/* its control: 1 of 350 came back alone */
	assert_int_equal(a->controls, 350);
	assert_int_equal(a->control_won, 1);
	assert_near(a->uplift.diff, 7.0 / 3500 - 1.0 / 350, 1e-12);
	assert_true(a->uplift.lo < a->uplift.diff && a->uplift.diff < a->uplift.hi);
	tn_prop_diff d;
	tn_prop_diff_newcombe(7, 3500, 1, 350, 1.959963984540054, &d);
	assert_near(a->uplift.lo, d.lo, 1e-12);
	/* campaign 2: 100 x ($1.50 + $8.25) = $975 for 3 customers = $325 each */
	assert_int_equal(b->contacted, 100);
	assert_int_equal(b->reached, 100);
	assert_int_equal(b->won, 3);
	assert_near(b->cost, 975, 1e-6);
	assert_near(b->cost_per_win, 325, 1e-9);
	assert_near(b->revenue, 3 * 79.99, 1e-9); /* no payments yet: one period's price */
	assert_int_equal(b->controls, 0);
	assert_true(isnan(b->uplift.lo));
	tn_winback_stats_free(st, n);
	/* a wider window counts L7 too: $5,600 / 8 */
	assert_int_equal(tn_winback_report(f.s, "lapsed-mail", 60, T0 + 80 * DAY, &st, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].won, 8);
	assert_near(st[0].cost_per_win, 700, 1e-9);
	tn_winback_stats_free(st, n);
	assert_int_equal(tn_winback_report(f.s, "nope", 30, T0, &st, &n, &err), TN_ERR_NOTFOUND);
	fx_close(&f);
}

static void test_reasons_and_schedule(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	build(&f);
	tn_error err = {0};
	tn_reason_count *r;
	size_t n;
	assert_int_equal(tn_winback_reasons(f.s, NULL, &r, &n, &err), TN_OK);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].reason, "too expensive");
	assert_int_equal(r[0].count, 6);
	assert_string_equal(r[1].reason, "not using it");
	assert_int_equal(r[1].count, 4);
	tn_reason_counts_free(r, n);
	tn_winback_due *due;
	assert_int_equal(tn_winback_schedule(f.s, T0 + 50 * DAY, 30, 7, 0, 1, &due, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(due[0].customer, "S1");
	assert_int_equal(due[0].contact_on, T0 + 55 * DAY);
	tn_winback_due_free(due, n);
	assert_int_equal(tn_winback_schedule(f.s, T0 + 40 * DAY, 30, 7, 0, 1, &due, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(due[0].customer, "S2");
	assert_int_equal(due[0].control, 0);
	tn_winback_due_free(due, n);
	/* the holdout draw: a share of everyone due on day -30 (the 3,850 lapsed on
	 * day -60, less the 9 live again) is marked control, seeded and stable */
	size_t n2, ctl = 0, same = 0;
	tn_winback_due *d2;
	assert_int_equal(tn_winback_schedule(f.s, T0 - 31 * DAY, 30, 2, 0.2, 9, &due, &n, &err), TN_OK);
	assert_int_equal(tn_winback_schedule(f.s, T0 - 31 * DAY, 30, 2, 0.2, 9, &d2, &n2, &err), TN_OK);
	assert_int_equal(n, 3841);
	assert_int_equal(n2, n);
	for (size_t i = 0; i < n; i++) {
		ctl += (size_t)due[i].control;
		same += due[i].control == d2[i].control;
	}
	assert_int_equal(same, n);
	assert_true(ctl > 650 && ctl < 890); /* 768 expected; +-4.5 sd */
	tn_winback_due_free(due, n);
	tn_winback_due_free(d2, n2);
	assert_int_equal(tn_winback_schedule(f.s, T0, 30, 7, 1.5, 9, &due, &n, &err), TN_ERR_USAGE);
	fx_close(&f);
}

static void test_import_errors(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	fx_begin(&f);
	fx_customer(&f, "a", T0);
	fx_commit(&f);
	char path[64];
	snprintf(path, sizeof path, "/tmp/tenure-wb-XXXXXX");
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	fprintf(fp, "customer,campaign,channel,reached,at\na,c1,email,yes,2024-01-01\na,c1,fax,yes,2024-01-02\n");
	fclose(fp);
	tn_error err = {0};
	long rows, added;
	assert_int_equal(tn_winback_import_csv(f.s, path, &rows, &added, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, ":3: channel: expected email, call, sms"));
	assert_non_null(strstr(err.msg, "\"fax\""));
	tn_winback_stats *st;
	size_t n;
	tn_error_clear(&err);
	assert_int_equal(tn_winback_report(f.s, NULL, 30, T0, &st, &n, &err), TN_OK);
	assert_int_equal(n, 0); /* all or nothing: the good first row was not kept */
	tn_winback_stats_free(st, n);
	fp = fopen(path, "w");
	fprintf(fp, "customer,campaign,channel,reached,at\nzz,c1,email,maybe,2024-01-01\n");
	fclose(fp);
	assert_int_equal(tn_winback_import_csv(f.s, path, &rows, &added, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, ":2:4: reached: expected yes or no, found \"maybe\""));
	fp = fopen(path, "w");
	fprintf(fp, "customer,campaign,channel,reached,at\nzz,c1,email,no,2024-01-01\n");
	fclose(fp);
	tn_error_clear(&err);
	assert_int_equal(tn_winback_import_csv(f.s, path, &rows, &added, &err), TN_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, ":2:1: customer"));
	unlink(path);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newcombe_reference),
		cmocka_unit_test(test_cost_per_customer_won_back),
		cmocka_unit_test(test_reasons_and_schedule),
		cmocka_unit_test(test_import_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
