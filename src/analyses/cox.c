/*
 * cox.c -- Cox proportional hazards by Newton-Raphson, as R's coxph.
 *
 * Sources: Cox (1972); Efron (1977) for tied event times; Breslow (1974);
 * the algorithm (centring, sums over the risk set accumulated from the
 * largest time down, step halving, the convergence rule) is that of R
 * survival's coxfit6.c (Therneau; Therneau & Grambsch 2000, sec. 3.3).
 *
 * One radix sort by (stratum, time) up front; each iteration is then one
 * pass over the rows costing O(n p^2): for every row the risk-set sums
 * denom = sum r, a = sum r x, cmat = sum r x x' (r = exp(eta)) are updated,
 * and at each distinct event time the Efron (or Breslow) terms are added to
 * the log-likelihood, its gradient u and the information imat.
 */
#include "tenure/cox.h"
#include "base/alloc.h"
#include "tenure/survival.h"
#include "base/linalg.h"
#include "tenure/warn.h"
#include "base/radix.h"
#include "analyses/cox_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TN_COX_MAX_P 1000

typedef struct cox_data {
	size_t n, p;
	double *x;      /* n x p centred covariates in sorted order */
	double *time;   /* sorted */
	double *status; /* sorted */
	int *strata;    /* sorted; all 0 when none */
	/* work */
	double *eta, *a, *a2, *cmat, *cmat2;
} cox_data;

/* One pass computes everything for the rows j in [j0, j1) of the gradient U
 * and the information IMAT (lower triangle).  Every entry is its own running
 * sum over the rows in the same order whatever [j0, j1) is, and the scalars
 * (risk, denominators, Efron's s1..s5, the log-likelihood) and the vectors a,
 * a2 are computed in full by every part, the same way: so two parts on two
 * threads give exactly the bits one part gives for all of [0, p).  The second
 * core pays for itself on the O(p^2) per-row update of cmat. */
typedef struct cox_part {
	cox_data *d;
	const double *beta;
	int efron;
	size_t j0, j1;
	double *a, *a2, *cmat, *cmat2; /* work: p, p, p x p, p x p */
	double *u, *imat;              /* out: p, p x p (rows j0..j1-1) */
	double loglik;
} cox_part;

static void *cox_pass_part(void *arg)
{
	cox_part *pt = arg;
	cox_data *d = pt->d;
	const double *beta = pt->beta;
	size_t n = d->n, p = d->p, j0 = pt->j0, j1 = pt->j1;
	double *u = pt->u, *imat = pt->imat, *a = pt->a, *a2 = pt->a2, *cmat = pt->cmat, *cmat2 = pt->cmat2;
	double loglik = 0;
	memset(u, 0, p * sizeof *u);
	memset(imat, 0, p * p * sizeof *imat);
	double denom = 0;
	memset(a, 0, p * sizeof *a);
	memset(cmat, 0, p * p * sizeof *cmat);
	size_t i = n;
	while (i > 0) {
		size_t last = i - 1;
		if (last + 1 == n || d->strata[last] != d->strata[last + 1]) { /* new stratum */
			denom = 0;
			memset(a, 0, p * sizeof *a);
			memset(cmat, 0, p * p * sizeof *cmat);
		}
		/* the tie group: rows with the same time in this stratum */
		size_t first = last;
		while (first > 0 && d->time[first - 1] == d->time[last] && d->strata[first - 1] == d->strata[last])
			first--;
		double nd = 0, denom2 = 0;
		memset(a2, 0, p * sizeof *a2);
		memset(cmat2, 0, p * p * sizeof *cmat2);
		for (size_t r = first; r <= last; r++) {
			const double *xr = d->x + r * p;
			double eta = 0;
			for (size_t j = 0; j < p; j++)
				eta += xr[j] * beta[j];
			double risk = exp(eta);
			denom += risk;
			for (size_t j = 0; j < p; j++)
				a[j] += risk * xr[j];
			for (size_t j = j0; j < j1; j++) {
				double rx = risk * xr[j];
				double *cm = cmat + j * p;
				for (size_t k = 0; k <= j; k++)
					cm[k] += rx * xr[k];
			}
			if (d->status[r] == 1) {
				nd++;
				denom2 += risk;
				loglik += eta;
				for (size_t j = 0; j < p; j++)
					a2[j] += risk * xr[j];
				for (size_t j = j0; j < j1; j++) {
					double rx = risk * xr[j];
					u[j] += xr[j];
					double *cm = cmat2 + j * p;
					for (size_t k = 0; k <= j; k++)
						cm[k] += rx * xr[k];
				}
			}
		}
		if (nd > 0) {
			if (!pt->efron || nd == 1) {
				/* Breslow: nd * log(denom) */
				loglik -= nd * log(denom);
				for (size_t j = j0; j < j1; j++) {
					double abar = a[j] / denom;
					u[j] -= nd * abar;
					for (size_t k = 0; k <= j; k++)
						imat[j * p + k] += nd * (cmat[j * p + k] / denom - abar * a[k] / denom);
				}
			} else {
				/* Efron: the k-th of nd tied deaths sees the tied set's
				 * risk reduced by k/nd (Efron 1977, eq. 3.1).  Summed over
				 * k with s1 = sum 1/d2, s2 = sum t/d2, s3 = sum 1/d2^2,
				 * s4 = sum t/d2^2, s5 = sum t^2/d2^2 (d2 = denom - t denom2,
				 * t = k/nd), so a tie group costs O(nd + p^2). */
				double s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0;
				for (double kk = 0; kk < nd; kk++) {
					double t = kk / nd, d2 = denom - t * denom2, inv = 1 / d2;
					loglik -= log(d2);
					s1 += inv;
					s2 += t * inv;
					s3 += inv * inv;
					s4 += t * inv * inv;
					s5 += t * t * inv * inv;
				}
				for (size_t j = j0; j < j1; j++) {
					double aj = a[j], a2j = a2[j];
					u[j] -= aj * s1 - a2j * s2;
					for (size_t k = 0; k <= j; k++) {
						double ak = a[k], a2k = a2[k];
						imat[j * p + k] += cmat[j * p + k] * s1 - cmat2[j * p + k] * s2 -
								   (aj * ak * s3 - (aj * a2k + a2j * ak) * s4 +
								    a2j * a2k * s5);
					}
				}
			}
		}
		i = first;
	}
	pt->loglik = loglik;
	return NULL;
}

/* 0: decide (two parts when the pass is big enough and there are two cores) */
static int cox_threads_forced;

void tn_cox_set_threads(int n) { cox_threads_forced = n; }

/* Log partial likelihood at BETA; fills U (gradient, p) and IMAT (information,
 * p x p lower triangle filled, then mirrored).  Returns loglik, or NAN when
 * out of memory for the second part's work (then one part ran: same bits). */
static double cox_pass(cox_data *d, const double *beta, double *u, double *imat, int efron)
{
	size_t n = d->n, p = d->p;
	int two = cox_threads_forced == 2 ||
		  (cox_threads_forced == 0 && p >= 2 && (double)n * (double)p * (double)(p + 1) / 2 >= 4e6 &&
		   sysconf(_SC_NPROCESSORS_ONLN) >= 2);
	cox_part pt[2] = {{d, beta, efron, 0, p, d->a, d->a2, d->cmat, d->cmat2, u, imat, 0},
			  {d, beta, efron, p, p, NULL, NULL, NULL, NULL, NULL, NULL, 0}};
	double *w = NULL;
	if (two && p >= 2) {
		/* split the triangle's rows so both parts update about as many
		 * entries: rows [0, J) hold J (J + 1) / 2 of p (p + 1) / 2 */
		size_t J = 1;
		while (J < p - 1 && (double)J * (double)(J + 1) < (double)p * (double)(p + 1) / 2)
			J++;
		w = tn_malloc((4 * p + 3 * p * p) * sizeof *w);
		if (w) {
			pt[0].j1 = J;
			pt[1].j0 = J;
			pt[1].a = w;
			pt[1].a2 = w + p;
			pt[1].u = w + 2 * p;
			pt[1].cmat = w + 4 * p;
			pt[1].cmat2 = w + 4 * p + p * p;
			pt[1].imat = w + 4 * p + 2 * p * p;
		}
	}
	pthread_t th;
	int started = w && pthread_create(&th, NULL, cox_pass_part, &pt[1]) == 0;
	cox_pass_part(&pt[0]);
	if (w) {
		if (started)
			pthread_join(th, NULL);
		else
			cox_pass_part(&pt[1]); /* no thread: here, the same sums */
		for (size_t j = pt[1].j0; j < p; j++) {
			u[j] = pt[1].u[j];
			memcpy(imat + j * p, pt[1].imat + j * p, (j + 1) * sizeof *imat);
		}
		free(w);
	}
	for (size_t j = 0; j < p; j++)
		for (size_t k = 0; k < j; k++)
			imat[k * p + j] = imat[j * p + k];
	return pt[0].loglik;
}

void tn_cox_free(tn_cox *fit)
{
	if (!fit)
		return;
	free(fit->coef);
	free(fit->infinite);
	free(fit);
}

static void data_free(cox_data *d)
{
	free(d->x);
	free(d->time);
	free(d->status);
	free(d->strata);
	free(d->eta);
	free(d->a);
	free(d->a2);
	free(d->cmat);
	free(d->cmat2);
}

static int data_build(cox_data *d, const double *time, const double *event, const double *x, size_t n,
		      size_t p, const int *strata, double *means, tn_error *err)
{
	memset(d, 0, sizeof *d);
	d->n = n;
	d->p = p;
	uint64_t *keys = tn_malloc(n * sizeof *keys);
	uint32_t *perm = tn_malloc(n * sizeof *perm);
	d->x = tn_malloc(n * p * sizeof *d->x);
	d->time = tn_malloc(n * sizeof *d->time);
	d->status = tn_malloc(n * sizeof *d->status);
	d->strata = tn_malloc(n * sizeof *d->strata);
	d->eta = tn_malloc(n * sizeof *d->eta);
	d->a = tn_malloc(p * sizeof *d->a);
	d->a2 = tn_malloc(p * sizeof *d->a2);
	d->cmat = tn_malloc(p * p * sizeof *d->cmat);
	d->cmat2 = tn_malloc(p * p * sizeof *d->cmat2);
	if (!keys || !perm || !d->x || !d->time || !d->status || !d->strata || !d->eta || !d->a || !d->a2 ||
	    !d->cmat || !d->cmat2)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		keys[i] = tn_radix_dkey(time[i]);
	if (tn_radix_order_u64(keys, n, perm, 0))
		goto nomem;
	if (strata) {
		for (size_t i = 0; i < n; i++)
			keys[i] = (uint64_t)(uint32_t)strata[i];
		if (tn_radix_order_u64(keys, n, perm, 1))
			goto nomem;
	}
	for (size_t j = 0; j < p; j++)
		means[j] = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < p; j++)
			means[j] += x[i * p + j];
	for (size_t j = 0; j < p; j++)
		means[j] /= (double)n;
	for (size_t i = 0; i < n; i++) {
		uint32_t r = perm[i];
		d->time[i] = time[r];
		d->status[i] = event[r];
		d->strata[i] = strata ? strata[r] : 0;
		for (size_t j = 0; j < p; j++)
			d->x[i * p + j] = x[(size_t)r * p + j] - means[j];
	}
	free(keys);
	free(perm);
	return TN_OK;
nomem:
	free(keys);
	free(perm);
	data_free(d);
	return tn_error_set(err, TN_ERR_NOMEM, "Cox: out of memory for %zu rows x %zu covariates", n, p);
}

static int check_input(const double *time, const double *event, const double *x, size_t n, size_t p,
		       const int *strata, double *events, tn_error *err)
{
	if (p == 0 || p > TN_COX_MAX_P)
		return tn_error_set(err, TN_ERR_USAGE, "Cox: expected 1 to %d covariates, found %zu", TN_COX_MAX_P, p);
	if (n < 2 || n >= UINT32_MAX)
		return tn_error_set(err, TN_ERR_INPUT, "Cox: expected 2 to 2^32 rows, found %zu", n);
	double ev = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(time[i] >= 0) || !isfinite(time[i]) || (event[i] != 0 && event[i] != 1))
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: expected time >= 0 and event 0/1, found %g, %g",
					    i + 1, time[i], event[i]);
		if (strata && strata[i] < 0)
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: negative stratum %d", i + 1, strata[i]);
		for (size_t j = 0; j < p; j++)
			if (!isfinite(x[i * p + j]))
				return tn_error_set(err, TN_ERR_INPUT, "row %zu: covariate %zu is not a finite number",
						    i + 1, j + 1);
		ev += event[i];
	}
	if (ev == 0)
		return tn_error_set(err, TN_ERR_NUMERIC, "Cox: no events, nothing to fit");
	*events = ev;
	return TN_OK;
}

static tn_cox *fit_alloc(size_t p)
{
	tn_cox *f = tn_calloc(1, sizeof *f);
	double *b = tn_calloc(9 * p + p * p, sizeof(double));
	int *inf = tn_calloc(p, sizeof *inf);
	if (!f || !b || !inf) {
		free(f);
		free(b);
		free(inf);
		return NULL;
	}
	f->infinite = inf;
	f->coef = b;
	f->se = b + p;
	f->z = b + 2 * p;
	f->pvalue = b + 3 * p;
	f->lower = b + 4 * p;
	f->upper = b + 5 * p;
	f->means = b + 6 * p;
	/* b + 7p: spare (newbeta); b + 8p: the score at the estimate */
	f->var = b + 9 * p;
	return f;
}

/* R survival's coxph.fit (3.5): infs <- abs(coxfit$u %*% var); converged:
 * infs <- !is.finite(u) | (infs > eps & infs > toler.inf * abs(coef)) with
 * toler.inf = sqrt(eps), "Loglik converged before variable ...; coefficient
 * may be infinite"; not converged: "one or more coefficients may be
 * infinite" when max(lp) > 500 or any infs is not finite. */
static void flag_infinite(tn_cox *f, const double *score, double eps, const cox_data *d)
{
	size_t p = f->p;
	int any = 0;
	for (size_t j = 0; j < p; j++) {
		double s = 0;
		for (size_t k = 0; k < p; k++)
			s += score[k] * f->var[k * p + j];
		double inf = fabs(s);
		if (f->converged)
			f->infinite[j] = !isfinite(score[j]) || (inf > eps && inf > sqrt(eps) * fabs(f->coef[j]));
		else
			any |= !isfinite(inf);
	}
	if (!f->converged) {
		for (size_t i = 0; i < d->n && !any; i++) {
			double e = 0;
			for (size_t j = 0; j < p; j++)
				e += d->x[i * p + j] * f->coef[j];
			any = e > 500;
		}
		for (size_t j = 0; j < p; j++)
			f->infinite[j] = any;
	}
	f->ninfinite = 0;
	for (size_t j = 0; j < p; j++)
		f->ninfinite += f->infinite[j] != 0;
}

int tn_cox_warnings(const tn_cox *fit, const char *const *names, tn_warnings *w)
{
	int rc = TN_OK;
	if (!fit->converged)
		rc |= tn_warn(w, 1,
			      "the Cox fit did not converge in %d iterations: its coefficients are not a maximum "
			      "of the likelihood and must not be used",
			      fit->iterations);
	for (size_t j = 0; j < fit->p; j++) {
		if (!fit->infinite[j])
			continue;
		char num[32];
		snprintf(num, sizeof num, "%zu", j + 1);
		rc |= tn_warn(w, 0,
			      "the likelihood converged before \"%s\": its coefficient may be infinite (%.4g); "
			      "its hazard ratio, standard error and p-value mean nothing (R: \"coefficient may be "
			      "infinite\")",
			      names ? names[j] : num, fit->coef[j]);
	}
	return rc ? TN_ERR_NOMEM : TN_OK;
}

int tn_cox_fit(const double *time, const double *event, const double *x, size_t n, size_t p,
	       const int *strata, const tn_cox_opts *opts, tn_cox **out, tn_error *err)
{
	*out = NULL;
	double events = 0;
	if (check_input(time, event, x, n, p, strata, &events, err))
		return tn_error_code(err, TN_ERR_INPUT);
	int efron = !opts || opts->ties != TN_COX_BRESLOW;
	int max_iter = opts && opts->max_iter > 0 ? opts->max_iter : 20;
	double eps = opts && opts->eps > 0 ? opts->eps : 1e-9;
	double conf = opts && opts->conf > 0 && opts->conf < 1 ? opts->conf : 0.95;
	const char *const *names = opts ? opts->names : NULL;
	tn_cox *f = fit_alloc(p);
	double *u = tn_malloc(p * sizeof *u), *imat = tn_malloc(p * p * sizeof *imat);
	cox_data d;
	if (!f || !u || !imat) {
		tn_cox_free(f);
		free(u);
		free(imat);
		return tn_error_set(err, TN_ERR_NOMEM, "Cox: out of memory");
	}
	int rc = data_build(&d, time, event, x, n, p, strata, f->means, err);
	if (rc) {
		tn_cox_free(f);
		free(u);
		free(imat);
		return rc;
	}
	f->n = n;
	f->p = p;
	f->events = events;
	double *beta = f->coef, *newbeta = f->coef + 7 * p;
	size_t bad = 0;
	/* coxfit6: loglik at beta = 0, then Newton-Raphson with step halving */
	double loglik = cox_pass(&d, beta, u, imat, efron);
	f->loglik_null = loglik;
	if (tn_la_cholesky(imat, p, 1e-10, &bad)) {
		if (names)
			rc = tn_error_set(err, TN_ERR_NUMERIC,
					  "Cox: covariate \"%s\" is constant or a combination of the ones before it; "
					  "drop it", names[bad]);
		else
			rc = tn_error_set(err, TN_ERR_NUMERIC,
					  "Cox: covariate %zu is constant or collinear with the others", bad + 1);
		goto done;
	}
	tn_la_cholesky_solve(imat, p, u);
	for (size_t j = 0; j < p; j++)
		newbeta[j] = beta[j] + u[j];
	int halving = 0, iter;
	f->converged = 0;
	for (iter = 1; iter <= max_iter; iter++) {
		double newlk = cox_pass(&d, newbeta, u, imat, efron);
		if (!isfinite(newlk)) {
			/* overflow: treat as a failed step */
			newlk = -INFINITY;
		}
		if (fabs(1 - loglik / newlk) <= eps && halving == 0) {
			loglik = newlk;
			memcpy(beta, newbeta, p * sizeof *beta);
			f->converged = 1;
			break;
		}
		if (iter == max_iter) {
			if (newlk >= loglik) {
				loglik = newlk;
				memcpy(beta, newbeta, p * sizeof *beta);
			}
			break;
		}
		if (newlk < loglik) {
			halving++;
			for (size_t j = 0; j < p; j++)
				newbeta[j] = (newbeta[j] + beta[j]) / 2;
		} else {
			halving = 0;
			loglik = newlk;
			memcpy(beta, newbeta, p * sizeof *beta);
			if (tn_la_cholesky(imat, p, 1e-10, &bad)) {
				rc = tn_error_set(err, TN_ERR_NUMERIC,
						  "Cox: information matrix singular at covariate %zu (collinear?)", bad + 1);
				goto done;
			}
			tn_la_cholesky_solve(imat, p, u);
			for (size_t j = 0; j < p; j++)
				newbeta[j] = beta[j] + u[j];
		}
	}
	f->iterations = iter > max_iter ? max_iter : iter;
	f->loglik = cox_pass(&d, beta, u, imat, efron);
	double *score = f->coef + 8 * p;
	memcpy(score, u, p * sizeof *u);
	if (tn_la_cholesky(imat, p, 1e-10, &bad)) {
		rc = tn_error_set(err, TN_ERR_NUMERIC, "Cox: information matrix singular at covariate %zu", bad + 1);
		goto done;
	}
	for (size_t j = 0; j < p; j++) { /* var = imat^-1, column by column */
		double *col = u;
		memset(col, 0, p * sizeof *col);
		col[j] = 1;
		tn_la_cholesky_solve(imat, p, col);
		for (size_t k = 0; k < p; k++)
			f->var[k * p + j] = col[k];
	}
	double zq = 1.959963984540054;
	if (conf != 0.95) {
		/* bisection on the normal tail for other levels */
		double lo = 0, hi = 40;
		for (int it = 0; it < 200; it++) {
			double mid = (lo + hi) / 2;
			if (tn_normal_two_sided(mid) > 1 - conf)
				lo = mid;
			else
				hi = mid;
		}
		zq = (lo + hi) / 2;
	}
	for (size_t j = 0; j < p; j++) {
		f->se[j] = sqrt(f->var[j * p + j]);
		f->z[j] = f->coef[j] / f->se[j];
		f->pvalue[j] = tn_normal_two_sided(f->z[j]);
		f->lower[j] = exp(f->coef[j] - zq * f->se[j]);
		f->upper[j] = exp(f->coef[j] + zq * f->se[j]);
	}
	flag_infinite(f, score, eps, &d);
	f->lr_chisq = 2 * (f->loglik - f->loglik_null);
	f->lr_p = tn_chisq_upper(f->lr_chisq, (int)p);
	/* concordance on the centred linear predictor, sorted order */
	double counts[4];
	for (size_t i = 0; i < n; i++) {
		double e = 0;
		for (size_t j = 0; j < p; j++)
			e += d.x[i * p + j] * beta[j];
		d.eta[i] = e;
	}
	rc = tn_cox_concordance(d.time, d.status, d.eta, d.strata, n, &f->concordance, counts, err);
	f->concordant = counts[0];
	f->discordant = counts[1];
	f->tied_risk = counts[2];
	f->tied_time = counts[3];
done:
	data_free(&d);
	free(u);
	free(imat);
	if (rc) {
		tn_cox_free(f);
		return rc;
	}
	*out = f;
	return TN_OK;
}
