/*
 * actions_bench.c -- timing driver for bench/bench_actions.sh: plans offers
 * over N scored customers (library arrays, no I/O) and applies loyalty
 * points earn/redeem operations in batches (one durable commit per batch).
 * usage: actions_bench OFFERS_N POINTS_OPS BATCH STORE_PATH
 */
#include "tenure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static double unif(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s OFFERS_N POINTS_OPS BATCH STORE_PATH\n", argv[0]);
		return 2;
	}
	size_t n = (size_t)strtoull(argv[1], NULL, 10), nops = (size_t)strtoull(argv[2], NULL, 10);
	size_t batch = (size_t)strtoull(argv[3], NULL, 10);
	const char *path = argv[4];
	tn_error err = {0};

	/* offers: expected profit, ranking, budget, stratified control */
	double *p = malloc(n * sizeof *p), *v = malloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++) {
		p[i] = unif();
		v[i] = 400 * unif() * unif();
	}
	tn_offer_params par = {.offer_cost = 5, .accept_rate = 0.3, .budget = 250000, .control_share = 0.1, .seed = 1};
	double best = 1e9;
	for (int rep = 0; rep < 3; rep++) {
		tn_offer_plan *pl;
		double t0 = now_s();
		if (tn_offers_plan(p, v, n, &par, &pl, &err)) {
			fprintf(stderr, "plan: %s\n", err.msg);
			return 1;
		}
		double dt = now_s() - t0;
		if (dt < best)
			best = dt;
		if (rep == 2)
			printf("offers_plan customers=%zu candidates=%zu offers=%zu control=%zu seconds=%.3f\n", n,
			       pl->n_candidates, pl->n_offer, pl->n_control, best);
		tn_offer_plan_free(pl);
	}
	free(p);
	free(v);

	/* points: earn 70% / redeem 30% over 10,000 customers */
	unlink(path);
	tn_store *s;
	if (tn_store_open(path, TN_STORE_CREATE, &s, &err)) {
		fprintf(stderr, "open: %s\n", err.msg);
		return 1;
	}
	enum { NC = 10000 };
	static char ids[NC][12];
	tn_store_begin(s, &err);
	for (int i = 0; i < NC; i++) {
		snprintf(ids[i], sizeof ids[i], "c%d", i);
		tn_customer_rec c = {.id = ids[i], .signed_up_at = 1700000000};
		tn_store_put_customer(s, &c, NULL, &err);
	}
	if (tn_store_commit(s, &err)) {
		fprintf(stderr, "customers: %s\n", err.msg);
		return 1;
	}
	tn_points_set_expiry(s, 365, &err);
	tn_points_op *ops = calloc(nops, sizeof *ops);
	char (*keys)[24] = calloc(nops, sizeof *keys);
	for (size_t i = 0; i < nops; i++) {
		snprintf(keys[i], sizeof keys[i], "k%zu", i);
		int redeem = unif() < (getenv("REDEEM") ? strtod(getenv("REDEEM"), NULL) : 0.3);
		ops[i] = (tn_points_op){.kind = redeem ? TN_POINTS_REDEEM : TN_POINTS_EARN,
					.customer = ids[(size_t)(unif() * NC) % NC],
					.at = 1700000000 + (tn_time)i,
					.points = 1 + (long long)(unif() * (redeem ? 30 : 50)),
					.key = keys[i],
					.amount = NAN};
	}
	int *st = calloc(batch, sizeof *st);
	for (int pass = 0; pass < 2; pass++) {
		long applied = 0, refused = 0, dup = 0;
		double t0 = now_s();
		for (size_t b = 0; b < nops; b += batch) {
			size_t k = nops - b < batch ? nops - b : batch;
			if (tn_points_apply(s, ops + b, k, st, &err)) {
				fprintf(stderr, "apply: %s\n", err.msg);
				return 1;
			}
			for (size_t q = 0; q < k; q++) {
				applied += st[q] == TN_POINTS_APPLIED;
				refused += st[q] == TN_POINTS_INSUFFICIENT;
				dup += st[q] == TN_POINTS_DUPLICATE;
			}
		}
		double dt = now_s() - t0;
		printf("points_%s ops=%zu batch=%zu applied=%ld refused=%ld duplicate=%ld seconds=%.3f ops_per_s=%.0f\n",
		       pass ? "retry" : "apply", nops, batch, applied, refused, dup, dt, (double)nops / dt);
	}
	tn_points_check c;
	tn_points_check_run(s, &c, &err);
	printf("points_check entries=%lld mismatched=%ld negative=%ld\n", c.entries,
	       c.mismatched_balance + c.mismatched_lots, c.negative);
	free(st);
	free(ops);
	free(keys);
	tn_store_close(s);
	unlink(path);
	return c.mismatched_balance + c.mismatched_lots + c.negative ? 1 : 0;
}
