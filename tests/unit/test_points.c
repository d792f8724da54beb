/* test_points.c -- the loyalty ledger: FIFO expiry order, redemptions never
 * below zero, exactly-once under retries, invariants after many operations,
 * tiers, and two processes writing at once. */
#include "actions_fixture.h"
#include <sys/wait.h>

static tn_points_op op(int kind, const char *cust, tn_time at, long long pts, const char *key)
{
	return (tn_points_op){.kind = kind, .customer = cust, .at = at, .points = pts, .key = key, .amount = NAN};
}

static int apply1(fixture *f, tn_points_op o)
{
	tn_error err = {0};
	int st = -1;
	if (tn_points_apply(f->s, &o, 1, &st, &err))
		fail_msg("apply %s: %s", o.key, err.msg);
	return st;
}

static long long balance(fixture *f, const char *cust)
{
	tn_error err = {0};
	tn_rowset *r;
	if (tn_points_balances(f->s, cust, &r, &err))
		fail_msg("balance: %s", err.msg);
	long long b = r->nrows ? (long long)r->num[1] : 0;
	tn_rowset_free(r);
	return b;
}

static void check_ok(fixture *f)
{
	tn_error err = {0};
	tn_points_check c;
	assert_int_equal(tn_points_check_run(f->s, &c, &err), TN_OK);
	assert_int_equal(c.mismatched_balance, 0);
	assert_int_equal(c.mismatched_lots, 0);
	assert_int_equal(c.negative, 0);
	assert_int_equal(c.mismatched_fifo, 0);
}

static void setup_customers(fixture *f, int n)
{
	fx_begin(f);
	for (int i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i);
		fx_customer(f, id, T0);
	}
	fx_commit(f);
}

/* Earn 10 on day 0 and 20 on day 10 with 30-day expiry; redeem 15 on day 12
 * takes all 10 of the first lot and 5 of the second (oldest first); on day 41
 * the second lot's remaining 15 expire; the first lot expires with nothing left. */
static void test_fifo_and_expiry(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	setup_customers(&f, 1);
	tn_error err = {0};
	assert_int_equal(tn_points_set_expiry(f.s, 30, &err), TN_OK);
	assert_int_equal(apply1(&f, op(TN_POINTS_EARN, "c0", T0, 10, "e1")), TN_POINTS_APPLIED);
	assert_int_equal(apply1(&f, op(TN_POINTS_EARN, "c0", T0 + 10 * DAY, 20, "e2")), TN_POINTS_APPLIED);
	assert_int_equal(apply1(&f, op(TN_POINTS_REDEEM, "c0", T0 + 12 * DAY, 15, "r1")), TN_POINTS_APPLIED);
	assert_int_equal(balance(&f, "c0"), 15);
	long n;
	long long pts;
	assert_int_equal(tn_points_expire(f.s, T0 + 35 * DAY, &n, &pts, &err), TN_OK);
	assert_int_equal(n, 0); /* lot 1 was used up by the redemption */
	assert_int_equal(tn_points_expire(f.s, T0 + 41 * DAY, &n, &pts, &err), TN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(pts, 15);
	assert_int_equal(balance(&f, "c0"), 0);
	/* expiring again changes nothing */
	assert_int_equal(tn_points_expire(f.s, T0 + 50 * DAY, &n, &pts, &err), TN_OK);
	assert_int_equal(n, 0);
	check_ok(&f);
	fx_close(&f);
}

/* A redeem first expires what is due: earn 10 (day 0) and 10 (day 20); on day
 * 31 the first lot has expired, so only 10 are left and a redeem of 15 is refused. */
static void test_redeem_expires_first_and_never_negative(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	setup_customers(&f, 1);
	tn_error err = {0};
	assert_int_equal(tn_points_set_expiry(f.s, 30, &err), TN_OK);
	apply1(&f, op(TN_POINTS_EARN, "c0", T0, 10, "e1"));
	apply1(&f, op(TN_POINTS_GRANT, "c0", T0 + 20 * DAY, 10, "g1"));
	assert_int_equal(apply1(&f, op(TN_POINTS_REDEEM, "c0", T0 + 31 * DAY, 15, "r1")), TN_POINTS_INSUFFICIENT);
	assert_int_equal(balance(&f, "c0"), 10);
	assert_int_equal(apply1(&f, op(TN_POINTS_REDEEM, "c0", T0 + 31 * DAY, 10, "r2")), TN_POINTS_APPLIED);
	assert_int_equal(balance(&f, "c0"), 0);
	assert_int_equal(apply1(&f, op(TN_POINTS_REDEEM, "c0", T0 + 32 * DAY, 1, "r3")), TN_POINTS_INSUFFICIENT);
	tn_rowset *h;
	assert_int_equal(tn_points_history(f.s, "c0", &h, &err), TN_OK);
	assert_int_equal(h->nrows, 4); /* earn, grant, expire of lot 1, redeem */
	assert_string_equal(h->text[2 * h->ncols + 2], "expire");
	assert_near(h->num[2 * h->ncols + 3], -10, 0);
	tn_rowset_free(h);
	check_ok(&f);
	fx_close(&f);
}

static void test_retries_exactly_once(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	setup_customers(&f, 2);
	tn_points_op batch[] = {op(TN_POINTS_EARN, "c0", T0, 100, "k1"), op(TN_POINTS_EARN, "c1", T0, 50, "k2"),
				op(TN_POINTS_REDEEM, "c0", T0 + DAY, 30, "k3")};
	int st[3];
	tn_error err = {0};
	for (int round = 0; round < 3; round++) {
		assert_int_equal(tn_points_apply(f.s, batch, 3, st, &err), TN_OK);
		for (int i = 0; i < 3; i++)
			assert_int_equal(st[i], round == 0 ? TN_POINTS_APPLIED : TN_POINTS_DUPLICATE);
	}
	assert_int_equal(balance(&f, "c0"), 70);
	assert_int_equal(balance(&f, "c1"), 50);
	/* a key reused for a different entry fails the whole batch: nothing of it lands */
	tn_points_op bad[] = {op(TN_POINTS_EARN, "c1", T0, 5, "k9"), op(TN_POINTS_EARN, "c0", T0, 999, "k1")};
	assert_int_equal(tn_points_apply(f.s, bad, 2, st, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "k1"));
	assert_int_equal(balance(&f, "c1"), 50);
	/* an unknown customer is an error naming it */
	tn_error_clear(&err);
	tn_points_op unk = op(TN_POINTS_EARN, "nobody", T0, 5, "k10");
	assert_int_equal(tn_points_apply(f.s, &unk, 1, st, &err), TN_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "nobody"));
	check_ok(&f);
	fx_close(&f);
}

static void test_rules_and_tiers(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	setup_customers(&f, 2);
	tn_error err = {0};
	assert_int_equal(tn_points_set_rule(f.s, "purchase", 5, 1.0, &err), TN_OK);
	tn_points_op e = op(TN_POINTS_EARN, "c0", T0, 0, "p1");
	e.event_type = "purchase";
	e.amount = 19.99; /* 5 + floor(19.99) = 24 */
	assert_int_equal(apply1(&f, e), TN_POINTS_APPLIED);
	assert_int_equal(balance(&f, "c0"), 24);
	e.event_type = "session";
	e.key = "p2";
	assert_int_equal(tn_points_apply(f.s, &e, 1, NULL, &err), TN_ERR_NOTFOUND);
	assert_int_equal(tn_points_set_tier(f.s, "silver", 1, "points", 20, "free month", &err), TN_OK);
	assert_int_equal(tn_points_set_tier(f.s, "gold", 2, "spend", 100, "priority support", &err), TN_OK);
	fx_begin(&f);
	fx_payment(&f, "c1", T0, 120);
	fx_commit(&f);
	apply1(&f, op(TN_POINTS_GRANT, "c1", T0, 1, "g1"));
	char *tier;
	assert_int_equal(tn_points_tier_of(f.s, "c0", &tier, &err), TN_OK);
	assert_string_equal(tier, "silver");
	free(tier);
	assert_int_equal(tn_points_tier_of(f.s, "c1", &tier, &err), TN_OK);
	assert_string_equal(tier, "gold");
	free(tier);
	/* redeeming does not lower lifetime points: still silver */
	apply1(&f, op(TN_POINTS_REDEEM, "c0", T0 + DAY, 24, "r1"));
	assert_int_equal(tn_points_tier_of(f.s, "c0", &tier, &err), TN_OK);
	assert_string_equal(tier, "silver");
	free(tier);
	fx_close(&f);
}

/* Events whose ids differ only after 600 bytes are two events: each earns
 * (the key used to be cut at 512 bytes, so the second was never credited). */
static void test_long_event_ids_earn(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	setup_customers(&f, 1);
	tn_error err = {0};
	assert_int_equal(tn_points_set_rule(f.s, "purchase", 5, 0, &err), TN_OK);
	char id1[700], id2[700];
	memset(id1, 'x', 650);
	id1[650] = '\0';
	memcpy(id2, id1, sizeof id2);
	id1[649] = '1';
	id2[649] = '2';
	fx_begin(&f);
	tn_event_rec e1 = {.customer = "c0", .at = T0 + DAY, .type = "purchase", .amount = NAN, .id = id1};
	tn_event_rec e2 = e1;
	e2.id = id2;
	assert_int_equal(tn_store_put_event(f.s, &e1, &err), TN_OK);
	assert_int_equal(tn_store_put_event(f.s, &e2, &err), TN_OK);
	fx_commit(&f);
	long applied = 0;
	assert_int_equal(tn_points_earn_from_events(f.s, T0, &applied, &err), TN_OK);
	assert_int_equal(applied, 2);
	assert_int_equal(balance(&f, "c0"), 10);
	/* and once only */
	assert_int_equal(tn_points_earn_from_events(f.s, T0, &applied, &err), TN_OK);
	assert_int_equal(applied, 0);
	assert_int_equal(balance(&f, "c0"), 10);
	fx_close(&f);
}

/* 3,000 pseudo-random operations in batches, each batch applied twice (a
 * retry); the balances must equal an in-memory model and the ledger sum. */
static void test_invariants_random(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	enum { NC = 20, NOPS = 3000, B = 50 };
	setup_customers(&f, NC);
	long long model[NC] = {0};
	uint64_t x = 12345;
	char keys[NOPS][24], custs[NC][16];
	for (int i = 0; i < NC; i++)
		snprintf(custs[i], sizeof custs[i], "c%d", i);
	tn_points_op ops[B];
	int st[B], first[B];
	tn_error err = {0};
	for (int b = 0; b < NOPS / B; b++) {
		for (int k = 0; k < B; k++) {
			int i = b * B + k;
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			int c = (int)((x >> 33) % NC);
			int kind = (x >> 20) % 3 == 0 ? TN_POINTS_REDEEM : TN_POINTS_EARN;
			long long pts = 1 + (long long)((x >> 40) % 50);
			snprintf(keys[i], sizeof keys[i], "op%d", i);
			ops[k] = op(kind, custs[c], T0 + i, pts, keys[i]);
		}
		for (int retry = 0; retry < 2; retry++) {
			assert_int_equal(tn_points_apply(f.s, ops, B, st, &err), TN_OK);
			for (int k = 0; k < B; k++) {
				if (retry) { /* a retry answers as the first time, changing nothing */
					assert_int_equal(st[k], first[k] == TN_POINTS_APPLIED ? TN_POINTS_DUPLICATE
											     : first[k]);
					continue;
				}
				first[k] = st[k];
				/* the model: a redeem applies iff the balance covers it */
				int c = (int)strtol(ops[k].customer + 1, NULL, 10);
				int want = TN_POINTS_APPLIED;
				if (ops[k].kind == TN_POINTS_EARN)
					model[c] += ops[k].points;
				else if (model[c] >= ops[k].points)
					model[c] -= ops[k].points;
				else
					want = TN_POINTS_INSUFFICIENT;
				assert_int_equal(st[k], want);
			}
		}
	}
	for (int c = 0; c < NC; c++)
		assert_int_equal(balance(&f, custs[c]), model[c]);
	check_ok(&f);
	fx_close(&f);
}

/* Two processes apply overlapping batches (the same keys) at the same time:
 * every key lands exactly once. */
static void test_two_processes(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	setup_customers(&f, 3);
	pid_t kids[2];
	for (int p = 0; p < 2; p++) {
		kids[p] = fork();
		assert_true(kids[p] >= 0);
		if (kids[p] == 0) {
			tn_store *s;
			tn_error err = {0};
			if (tn_store_open(f.path, 0, &s, &err))
				_exit(3);
			for (int b = 0; b < 40; b++) {
				char keys[10][32];
				tn_points_op ops[10];
				for (int k = 0; k < 10; k++) {
					snprintf(keys[k], sizeof keys[k], "b%d-%d", b, k);
					ops[k] = op(TN_POINTS_EARN, k % 3 == 0 ? "c0" : k % 3 == 1 ? "c1" : "c2", T0 + b,
						    k + 1, keys[k]);
				}
				if (tn_points_apply(s, ops, 10, NULL, &err))
					_exit(4);
			}
			tn_store_close(s);
			_exit(0);
		}
	}
	for (int p = 0; p < 2; p++) {
		int status;
		waitpid(kids[p], &status, 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* per batch: c0 gets 1+4+7+10 = 22, c1 2+5+8 = 15, c2 3+6+9 = 18; 40 batches */
	assert_int_equal(balance(&f, "c0"), 22 * 40);
	assert_int_equal(balance(&f, "c1"), 15 * 40);
	assert_int_equal(balance(&f, "c2"), 18 * 40);
	check_ok(&f);
	fx_close(&f);
}

/* Points at risk as of day 20 within 15 days: c0's lot earned on day 0
 * expires on day 30 (30-day expiry); c1's expires on day 40 (not within),
 * but c1's P(churn) 0.7 >= 0.5 puts the whole balance at risk. */
static void test_at_risk(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	setup_customers(&f, 3);
	tn_error err = {0};
	assert_int_equal(tn_points_set_expiry(f.s, 30, &err), TN_OK);
	apply1(&f, op(TN_POINTS_EARN, "c0", T0, 40, "a"));
	apply1(&f, op(TN_POINTS_EARN, "c1", T0 + 10 * DAY, 25, "b"));
	apply1(&f, op(TN_POINTS_EARN, "c2", T0 + 10 * DAY, 5, "c"));
	const char *path = "/tmp/tenure-points-scores.csv";
	FILE *fp = fopen(path, "w");
	fputs("customer,p_churn,value\nc0,0.1,10\nc1,0.7,10\nc2,0.2,10\n", fp);
	fclose(fp);
	tn_scores *sc;
	assert_int_equal(tn_scores_read_csv(path, &sc, &err), TN_OK);
	assert_int_equal(tn_scores_attach(f.s, sc, &err), TN_OK);
	unlink(path);
	tn_rowset *r;
	assert_int_equal(tn_points_at_risk(f.s, T0 + 20 * DAY, 15, sc, 0.5, &r, &err), TN_OK);
	assert_int_equal(r->nrows, 2);
	/* columns: customer, balance, expiring, first_expiry, p_churn, at_risk, why */
	assert_string_equal(r->text[0], "c0");
	assert_near(r->num[2], 40, 0);
	assert_string_equal(r->text[3], "2024-01-31");
	assert_near(r->num[5], 40, 0);
	assert_string_equal(r->text[6], "expiring");
	assert_string_equal(r->text[r->ncols + 0], "c1");
	assert_near(r->num[r->ncols + 2], 0, 0);
	assert_near(r->num[r->ncols + 5], 25, 0);
	assert_string_equal(r->text[r->ncols + 6], "churn risk");
	tn_rowset_free(r);
	tn_scores_free(sc);
	fx_close(&f);
}

/* The check must fail when the derived tables disagree with the ledger. */
static void test_check_detects_tampering(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	setup_customers(&f, 2);
	apply1(&f, op(TN_POINTS_EARN, "c0", T0, 10, "e1"));
	apply1(&f, op(TN_POINTS_EARN, "c0", T0 + DAY, 10, "e2"));
	apply1(&f, op(TN_POINTS_REDEEM, "c0", T0 + 2 * DAY, 5, "r1"));
	apply1(&f, op(TN_POINTS_EARN, "c1", T0, 7, "e3"));
	check_ok(&f);
	tn_error err = {0};
	tn_points_check c;
	/* move the redemption to the newer lot: sums still agree, FIFO does not */
	assert_int_equal(tn_store_exec(f.s, "UPDATE points_lots SET remaining = 10 WHERE lot_id = 1;"
					    "UPDATE points_lots SET remaining = 5 WHERE lot_id = 2", &err), TN_OK);
	assert_int_equal(tn_points_check_run(f.s, &c, &err), TN_OK);
	assert_int_equal(c.mismatched_lots, 0);
	assert_int_equal(c.mismatched_fifo, 2);
	/* a balance that is not the ledger's sum */
	assert_int_equal(tn_store_exec(f.s, "UPDATE points_balances SET balance = balance + 1 WHERE customer_id = 2",
				       &err), TN_OK);
	assert_int_equal(tn_points_check_run(f.s, &c, &err), TN_OK);
	assert_int_equal(c.mismatched_balance, 1);
	assert_int_equal(c.mismatched_lots, 1);
	assert_int_equal(c.mismatched_fifo, 2);
	/* a balance with no ledger entry behind it (nor lots): both sums differ */
	assert_int_equal(tn_store_exec(f.s, "INSERT INTO points_balances(customer_id, balance, earned) VALUES(99, 3, 3)",
				       &err), TN_OK);
	assert_int_equal(tn_points_check_run(f.s, &c, &err), TN_OK);
	assert_int_equal(c.customers, 3);
	assert_int_equal(c.mismatched_balance, 2);
	assert_int_equal(c.mismatched_lots, 2);
	/* a lot no ledger entry made (its id past the last entry), empty: FIFO only */
	assert_int_equal(tn_store_exec(f.s, "INSERT INTO points_lots(lot_id, customer_id, at, remaining) VALUES(1000, 1, 0, 0)",
				       &err), TN_OK);
	assert_int_equal(tn_points_check_run(f.s, &c, &err), TN_OK);
	assert_int_equal(c.mismatched_lots, 2);
	assert_int_equal(c.mismatched_fifo, 3);
	/* a replayed lot missing from points_lots: FIFO, and c1's lots sum (already off) */
	assert_int_equal(tn_store_exec(f.s, "DELETE FROM points_lots WHERE lot_id = 4", &err), TN_OK);
	assert_int_equal(tn_points_check_run(f.s, &c, &err), TN_OK);
	assert_int_equal(c.mismatched_balance, 2);
	assert_int_equal(c.mismatched_lots, 2);
	assert_int_equal(c.mismatched_fifo, 4);
	/* and the ledger refuses to be edited */
	assert_int_equal(tn_store_exec(f.s, "UPDATE points_ledger SET points = 99 WHERE id = 1", &err), TN_ERR_DB);
	assert_non_null(strstr(err.msg, "append-only"));
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_expiry),
		cmocka_unit_test(test_redeem_expires_first_and_never_negative),
		cmocka_unit_test(test_retries_exactly_once),
		cmocka_unit_test(test_rules_and_tiers),
		cmocka_unit_test(test_long_event_ids_earn),
		cmocka_unit_test(test_invariants_random),
		cmocka_unit_test(test_two_processes),
		cmocka_unit_test(test_at_risk),
		cmocka_unit_test(test_check_detects_tampering),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
