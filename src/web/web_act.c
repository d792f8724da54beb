/*
 * web_act.c -- the dashboard's state-changing actions on /act besides
 * acknowledging an alert (docs/dashboard.md, "Actions"):
 *
 *   approve an offer plan   the plan of src/actions/offers.c (tn_offers_plan:
 *                           expected profit, budget, seeded control group)
 *                           over the /who risk model's scores, stored with
 *                           tn_offers_save_once; approving makes it the active
 *                           plan (offer_plan_approvals, the latest one) and
 *                           queues an offer for each customer of its offer arm
 *                           in the outbox (tn_outbox_enqueue) on the plan's
 *                           send day; the control arm gets nothing, so
 *                           tn_offers_measure can compare them later.
 *   start a campaign        a win-back campaign over the customers who lapsed
 *                           in the last N days and were not contacted since
 *                           (tn_winback_schedule, with its seeded control
 *                           group): each contact recorded (tn_winback_record)
 *                           and, for those not held out, a `winback` message
 *                           queued in the outbox.
 *
 * Both need an admin key and the CSRF token (web.c checks them), are written
 * in one transaction with their audit row (web_audit) and are idempotent:
 * the same plan (same scores, settings and seed) is stored and approved once,
 * a campaign name starts once, and every outbox message has a unique key, so
 * a second click queues nothing twice.
 */
#include "web/web_internal.h"
#include "base/alloc.h"
#include "store/db.h"
#include "tenure/actions.h"
#include "tenure/json.h"
#include "tenure/outbox.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the form's settings ------------------------------------------------------ */

typedef struct plan_form {
	double cost, accept, control, budget; /* budget < 0: none */
} plan_form;

static const plan_form plan_default = {WEB_PLAN_COST, WEB_PLAN_ACCEPT, WEB_PLAN_CONTROL, -1};

static int form_num(const web_ctx *c, const char *name, double lo, double hi, double *v)
{
	char buf[64];
	if (!c->rq->body || web_form(c->rq->body, c->rq->body_len, name, buf, sizeof buf))
		return -1;
	char *end;
	double d = strtod(buf, &end);
	if (end == buf || *end || !(d >= lo && d <= hi))
		return -1;
	*v = d;
	return 0;
}

static int plan_form_read(const web_ctx *c, plan_form *f)
{
	*f = plan_default;
	char b[64];
	if (form_num(c, "cost", 0, 1e9, &f->cost) || form_num(c, "accept", 0, 1, &f->accept) ||
	    form_num(c, "control", 0, 0.9, &f->control))
		return -1;
	if (c->rq->body && !web_form(c->rq->body, c->rq->body_len, "budget", b, sizeof b) && b[0] &&
	    form_num(c, "budget", 0, 1e15, &f->budget))
		return -1;
	return 0;
}

/* ---- the plan ------------------------------------------------------------------- */

static tn_offer_params plan_params(const plan_form *f)
{
	tn_offer_params p = {.offer_cost = f->cost, .accept_rate = f->accept, .budget = f->budget,
			     .control_share = f->control, .seed = 1};
	return p;
}

/* ---- what was approved and started (cached; forgotten after an action) ---------- */

typedef struct done_rows {
	char **plan;    /* id, approved_at, offers, control, queued: 5 a row */
	size_t nplan;
	char **camp;    /* name, started_at, contacts, controls, queued: 5 a row */
	size_t ncamp;
	tn_plan_force force; /* the plan in force (plan_id 0: none) */
} done_rows;

void web_drop_done(void *x)
{
	done_rows *d = x;
	if (!d)
		return;
	for (size_t i = 0; i < 5 * d->nplan; i++)
		free(d->plan[i]);
	for (size_t i = 0; i < 5 * d->ncamp; i++)
		free(d->camp[i]);
	free(d->plan);
	free(d->camp);
	free(d);
}

static int read_rows(tn_store *s, const char *sql, char ***out, size_t *n, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	size_t cap = 0;
	int step, rc = TN_OK;
	while ((step = tn_db_step(st, "reading the dashboard's actions", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			char **t = tn_realloc(*out, 5 * nc * sizeof *t);
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			*out = t;
			cap = nc;
		}
		for (int j = 0; j < 5; j++) {
			const char *v = tn_db_column_text(st, j);
			(*out)[5 * *n + (size_t)j] = tn_strdup(v ? v : "");
		}
		(*n)++;
	}
	tn_db_finalize(st);
	if (!rc && step != TN_DB_DONE)
		rc = tn_error_code(err, TN_ERR_DB);
	return rc;
}

void *web_make_done(tn_store *s, const char *arg, tn_error *err)
{
	(void)arg;
	done_rows *d = tn_calloc(1, sizeof *d);
	if (!d) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (read_rows(s,
		      "SELECT CAST(a.plan_id AS TEXT), CAST(a.approved_at AS TEXT),"
		      " CAST((SELECT count(*) FROM offer_assignments o WHERE o.plan_id = a.plan_id AND o.arm = 'offer') AS TEXT),"
		      " CAST((SELECT count(*) FROM offer_assignments o WHERE o.plan_id = a.plan_id AND o.arm = 'control') AS TEXT),"
		      " CAST(a.queued AS TEXT) FROM offer_plan_approvals a ORDER BY a.approved_at DESC, a.plan_id DESC LIMIT 20",
		      &d->plan, &d->nplan, err) ||
	    read_rows(s,
		      "SELECT name, CAST(started_at AS TEXT), CAST(contacts AS TEXT), CAST(controls AS TEXT),"
		      " CAST(queued AS TEXT) FROM campaigns ORDER BY started_at DESC, id DESC LIMIT 20",
		      &d->camp, &d->ncamp, err) ||
	    tn_offer_plan_in_force(s, &d->force, err)) {
		web_drop_done(d);
		return NULL;
	}
	return d;
}

/* ---- the page's part -------------------------------------------------------------- */

static void hidden_csrf(web_ctx *c)
{
	tn_sbuf_printf(&c->html, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", c->csrf);
}

static void field(web_ctx *c, int label, const char *name, const char *value, const char *extra)
{
	tn_sbuf_printf(&c->html, "<label>");
	web_esc(c, T(c, label));
	tn_sbuf_printf(&c->html, " <input name=\"%s\" dir=\"ltr\" %s value=\"", name, extra);
	web_esc(c, value);
	tn_sbuf_printf(&c->html, "\"></label> ");
}

static void plan_section(web_ctx *c, int admin)
{
	tn_sbuf_printf(&c->html, "<section class=\"action\" id=\"offer-plan\" aria-labelledby=\"plan-h\">"
				 "<h2 id=\"plan-h\">");
	web_esc(c, T(c, S_PLAN_H));
	tn_sbuf_printf(&c->html, "</h2>\n");
	tn_error err = {0};
	web_plan_figures pf;
	if (web_who_plan(c, &pf, &err)) {
		char msg[TN_ERROR_MSG_MAX + 64];
		snprintf(msg, sizeof msg, "%s: %s", T(c, S_NOT_AVAILABLE), err.msg);
		web_p(c, "empty", msg);
		tn_sbuf_printf(&c->html, "</section>\n");
		return;
	}
	char a[48], b[48], d[48], e[48], f[48], line[1024];
	snprintf(line, sizeof line, T(c, S_PLAN_READ), web_num(c, (double)pf.candidates, 0, a, sizeof a),
		 web_num(c, (double)pf.offers, 0, b, sizeof b), web_num(c, pf.spend, 2, d, sizeof d),
		 web_num(c, pf.gain, 2, e, sizeof e), web_num(c, (double)pf.control, 0, f, sizeof f));
	tn_sbuf_printf(&c->html, "<p class=\"reading\" data-plan-offers=\"%zu\">", pf.offers);
	web_esc(c, line);
	tn_sbuf_printf(&c->html, "</p>\n");
	if (!admin) {
		web_p(c, "note", T(c, S_NEED_ADMIN_ACT));
		tn_sbuf_printf(&c->html, "</section>\n");
		return;
	}
	tn_sbuf_printf(&c->html, "<form method=\"post\" action=\"/act/plan/approve\" class=\"act-form\">");
	hidden_csrf(c);
	char v[32];
	snprintf(v, sizeof v, "%g", plan_default.cost);
	field(c, S_OFFER_COST, "cost", v, "type=\"number\" min=\"0\" step=\"any\" required");
	snprintf(v, sizeof v, "%g", plan_default.accept);
	field(c, S_ACCEPT_RATE, "accept", v, "type=\"number\" min=\"0\" max=\"1\" step=\"any\" required");
	snprintf(v, sizeof v, "%g", plan_default.control);
	field(c, S_CONTROL_SHARE, "control", v, "type=\"number\" min=\"0\" max=\"0.9\" step=\"any\" required");
	field(c, S_BUDGET, "budget", "", "type=\"number\" min=\"0\" step=\"any\"");
	tn_sbuf_printf(&c->html, "<button type=\"submit\" id=\"approve-plan\">");
	web_esc(c, T(c, S_APPROVE_PLAN));
	tn_sbuf_printf(&c->html, "</button></form></section>\n");
}

static void campaign_section(web_ctx *c, int admin)
{
	tn_sbuf_printf(&c->html, "<section class=\"action\" id=\"campaign\" aria-labelledby=\"camp-h\">"
				 "<h2 id=\"camp-h\">");
	web_esc(c, T(c, S_CAMP_H));
	tn_sbuf_printf(&c->html, "</h2>\n");
	web_p(c, "reading", T(c, S_CAMP_READ));
	if (!admin) {
		web_p(c, "note", T(c, S_NEED_ADMIN_ACT));
		tn_sbuf_printf(&c->html, "</section>\n");
		return;
	}
	char name[40];
	time_t t = (time_t)tn_now();
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(name, sizeof name, "winback-%Y-%m-%d", &tm);
	tn_sbuf_printf(&c->html, "<form method=\"post\" action=\"/act/campaign/start\" class=\"act-form\">");
	hidden_csrf(c);
	field(c, S_CAMP_NAME, "name", name, "maxlength=\"60\" pattern=\"[A-Za-z0-9_.\\-]+\" required");
	field(c, S_CAMP_DAYS, "days", "90", "type=\"number\" min=\"1\" max=\"3650\" required");
	field(c, S_CONTROL_SHARE, "control", "0.1", "type=\"number\" min=\"0\" max=\"0.9\" step=\"any\" required");
	tn_sbuf_printf(&c->html, "<label>");
	web_esc(c, T(c, S_CHANNEL));
	tn_sbuf_printf(&c->html, " <select name=\"channel\">");
	static const char *const ch[] = {"email", "call", "sms"};
	static const int chl[] = {S_CH_EMAIL, S_CH_CALL, S_CH_SMS};
	for (int i = 0; i < 3; i++) {
		tn_sbuf_printf(&c->html, "<option value=\"%s\">", ch[i]);
		web_esc(c, T(c, chl[i]));
		tn_sbuf_printf(&c->html, "</option>");
	}
	tn_sbuf_printf(&c->html, "</select></label> <button type=\"submit\" id=\"start-campaign\">");
	web_esc(c, T(c, S_START_CAMPAIGN));
	tn_sbuf_printf(&c->html, "</button></form></section>\n");
}

/* One table of what was done: ROWS (5 cells a row, the second an instant)
 * with that instant written as the page's date. */
static void done_table(web_ctx *c, const char *title, const char *reading, const char *const *cols,
		       const int *kinds, char **rows, size_t n)
{
	const char **cells = tn_calloc(5 * (n ? n : 1), sizeof *cells);
	char **own = tn_calloc(n ? n : 1, sizeof *own);
	if (!cells || !own) {
		free(cells);
		free(own);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char ds[32];
		own[i] = tn_strdup(web_date(c, (tn_time)strtoll(rows[5 * i + 1], NULL, 10), ds, sizeof ds));
		cells[5 * i] = rows[5 * i];
		cells[5 * i + 1] = own[i] ? own[i] : "";
		for (int j = 2; j < 5; j++)
			cells[5 * i + (size_t)j] = rows[5 * i + (size_t)j];
	}
	web_table(c, title, reading, 5, cols, kinds, n, cells);
	for (size_t i = 0; i < n; i++)
		free(own[i]);
	free(own);
	free(cells);
}

static void done_tables(web_ctx *c, const done_rows *d)
{
	const char *pc[] = {T(c, S_PLAN_ID), T(c, S_APPROVED), T(c, S_OFFERS), T(c, S_CONTROL), T(c, S_QUEUED)};
	static const int pk[] = {COL_NUM, COL_TEXT, COL_NUM, COL_NUM, COL_NUM};
	done_table(c, T(c, S_PLANS_H), d->nplan ? T(c, S_PLANS_READ) : NULL, pc, pk, d->plan, d->nplan);
	const char *cc[] = {T(c, S_CAMPAIGN), T(c, S_STARTED), T(c, S_CONTACTED), T(c, S_CONTROL), T(c, S_QUEUED)};
	static const int ck[] = {COL_SAID, COL_TEXT, COL_NUM, COL_NUM, COL_NUM};
	done_table(c, T(c, S_CAMPS_H), NULL, cc, ck, d->camp, d->ncamp);
}

/* The plan in force, with a button to withdraw it (admin). */
static void force_section(web_ctx *c, const tn_plan_force *pf, int admin)
{
	char id[32], ds[32], line[512];
	snprintf(id, sizeof id, "%lld", (long long)pf->plan_id);
	snprintf(line, sizeof line, T(c, S_IN_FORCE), id, web_date(c, pf->approved_at, ds, sizeof ds));
	tn_sbuf_printf(&c->html, "<section class=\"action\" id=\"plan-in-force\" data-plan-in-force=\"%lld\">",
		       (long long)pf->plan_id);
	web_p(c, "reading", line);
	if (admin) {
		tn_sbuf_printf(&c->html, "<form method=\"post\" action=\"/act/plan/withdraw\" class=\"act-form\">");
		hidden_csrf(c);
		tn_sbuf_printf(&c->html, "<input type=\"hidden\" name=\"plan\" value=\"%lld\">"
					 "<button type=\"submit\" id=\"withdraw-plan\">",
			       (long long)pf->plan_id);
		web_esc(c, T(c, S_WITHDRAW_PLAN));
		tn_sbuf_printf(&c->html, "</button></form>");
	}
	tn_sbuf_printf(&c->html, "</section>\n");
}

void act_controls(web_ctx *c)
{
	const char *done = web_q(c, "done");
	static const char *const dv[] = {"plan", "plan-again", "campaign", "campaign-again", "withdrawn"};
	static const int dl[] = {S_DONE_PLAN, S_DONE_PLAN_AGAIN, S_DONE_CAMP, S_DONE_CAMP_AGAIN, S_DONE_WITHDRAWN};
	for (int i = 0; done && i < 5; i++)
		if (strcmp(done, dv[i]) == 0) {
			tn_sbuf_printf(&c->html, "<p class=\"done\" role=\"status\" data-done=\"%s\">", dv[i]);
			web_esc(c, T(c, dl[i]));
			tn_sbuf_printf(&c->html, "</p>\n");
		}
	int admin = (c->scope & SCOPE_ADMIN) != 0;
	plan_section(c, admin);
	campaign_section(c, admin);
	tn_error err = {0};
	done_rows *d = web_data(c, "dashacts", NULL, web_make_done, web_drop_done, &err);
	if (d && d->force.plan_id)
		force_section(c, &d->force, admin);
	if (d)
		done_tables(c, d);
}

/* ---- approve an offer plan --------------------------------------------------------- */

/* The store's "now" (its latest data, as the CLI's actions use); the clock
 * when the store has no data yet. */
static int store_now(tn_store *s, tn_time *now, tn_error *err)
{
	tn_error e = {0};
	int rc = tn_actions_now(s, now, &e);
	if (rc == TN_ERR_NOTFOUND) {
		*now = tn_now();
		return TN_OK;
	}
	if (rc && err)
		*err = e;
	return rc;
}

static int exec1(tn_store *s, const char *sql, int64_t a, int64_t b, int64_t c3, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, a);
	tn_db_bind_int64(st, 2, b);
	if (tn_db_param_count(st) >= 3)
		tn_db_bind_int64(st, 3, c3);
	int rc = tn_db_step(st, "recording the dashboard's action", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	return rc;
}

int action_approve_plan(web_ctx *c, int64_t key_id, int *repeat, char *msg, size_t n, tn_error *err)
{
	*repeat = 0;
	plan_form f;
	if (plan_form_read(c, &f)) {
		snprintf(msg, n, "%s", T(c, S_BAD_FORM));
		return tn_error_set(err, TN_ERR_USAGE, "%s", msg);
	}
	tn_scores *sc = NULL;
	/* the /who scores may still be computing (a restart, new data): wait
	 * for them as long as a page would; past that the caller answers 503 */
	double until = server_now() + web_wait_budget();
	web_data_begin(c);
	int rc;
	while ((rc = web_who_scores(c, &sc, err)) && c->computing && web_data_wait(c, until)) {
		c->computing = 0;
		tn_error_clear(err);
	}
	web_data_end(c);
	if (rc)
		return rc;
	long long before = web_data_write_begin(c);
	tn_store *s = web_store_open(c, err);
	if (!s) {
		web_data_write_abandon(c);
		tn_scores_free(sc);
		return tn_error_code(err, TN_ERR_DB);
	}
	tn_offer_plan *plan = NULL;
	tn_time *send = NULL;
	char *params = NULL;
	tn_time now = 0;
	double danger = 30;
	long nchurn = 0;
	tn_offer_params p = plan_params(&f);
	if ((rc = store_now(s, &now, err)) || (rc = tn_scores_attach(s, sc, err)) ||
	    (rc = tn_offers_typical_churn_age(s, now, &danger, &nchurn, err)) ||
	    (rc = tn_offers_plan(sc->p_churn, sc->value, sc->n, &p, &plan, err)))
		goto out;
	if (!plan->n_offer) {
		snprintf(msg, n, "%s", T(c, S_NO_PLAN));
		rc = tn_error_set(err, TN_ERR_NOTFOUND, "%s", msg);
		goto out;
	}
	if (!(send = tn_malloc((sc->n ? sc->n : 1) * sizeof *send))) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sc->n; i++)
		send[i] = tn_offer_send_time(now, sc->signed_up_at[i], sc->period_end[i], danger, 7);
	cJSON *pj = cJSON_CreateObject();
	tn_json_add_num(pj, "offer_cost", f.cost);
	tn_json_add_num(pj, "accept_rate", f.accept);
	tn_json_add_num(pj, "budget", f.budget);
	tn_json_add_num(pj, "control", f.control);
	tn_json_add_num(pj, "seed", 1);
	tn_json_add_num(pj, "lead_days", 7);
	tn_json_add_num(pj, "danger_day", danger);
	cJSON_AddStringToObject(pj, "scores", "dashboard risk model");
	params = pj ? tn_json_print(pj) : NULL;
	cJSON_Delete(pj);
	if (!params) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto out;
	}
	int64_t id = 0;
	int existing = 0;
	if ((rc = tn_offers_save_once(s, sc, plan, send, params, now, &id, &existing, err)))
		goto out;
	if ((rc = tn_store_begin(s, err)))
		goto out;
	rc = exec1(s,
		   "INSERT INTO offer_plan_approvals(plan_id, approved_at, key_id, queued) VALUES (?1, ?2, ?3, 0)"
		   " ON CONFLICT (plan_id) DO NOTHING",
		   id, (int64_t)tn_now(), key_id, err);
	*repeat = !rc && tn_db_changes(s) == 0;
	long queued = 0;
	for (size_t r = 0; !rc && !*repeat && r < plan->n; r++) {
		size_t i = plan->order[r];
		if (plan->arm[i] != TN_ARM_OFFER)
			continue;
		tn_time at = send[i] == TN_NO_TIME || send[i] < now ? now : send[i];
		char day[16], key[300];
		cJSON *o = cJSON_CreateObject();
		tn_json_add_num(o, "plan_id", (double)id);
		tn_json_add_num(o, "rank", (double)r + 1);
		tn_json_add_num(o, "p_churn", sc->p_churn[i]);
		tn_json_add_num(o, "expected_profit", plan->profit[i]);
		tn_json_add_num(o, "offer_cost", f.cost);
		cJSON_AddStringToObject(o, "send_on", tn_date_format(at, day, sizeof day));
		cJSON_AddStringToObject(o, "moment", "approved_plan");
		char *data = o ? tn_json_print(o) : NULL;
		cJSON_Delete(o);
		if (!data) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
		/* one offer a customer and send day, whichever approved plan asks */
		snprintf(key, sizeof key, "offer:%s:approved:%s", sc->customer[i], day);
		rc = tn_outbox_enqueue(s, "offer", key, sc->key[i], data, at, &queued, err);
		free(data);
	}
	if (!rc && !*repeat)
		rc = exec1(s, "UPDATE offer_plan_approvals SET queued = ?2 WHERE plan_id = ?1", id, queued, 0, err);
	char target[32], detail[200];
	snprintf(target, sizeof target, "offer_plan:%lld", (long long)id);
	snprintf(detail, sizeof detail, "%zu offers, %zu control, %ld messages queued%s", plan->n_offer,
		 plan->n_control, queued, existing ? "; identical plan already stored" : "");
	if (!rc)
		rc = web_audit(s, key_id, "approve_offer_plan", target, *repeat ? "repeat" : "done", detail, err);
	if (!rc)
		rc = tn_store_commit(s, err);
	else
		tn_store_rollback(s);
	if (rc) { /* the failure is audited on its own */
		tn_error e2 = {0};
		web_audit(s, key_id, "approve_offer_plan", target, "failed", err ? err->msg : "", &e2);
	}
out:
	tn_store_close(s);
	web_data_own_write(c, before);
	web_data_forget(c, "dashacts");
	web_data_forget(c, "actions");
	free(params);
	free(send);
	tn_offer_plan_free(plan);
	tn_scores_free(sc);
	return rc;
}

/* ---- start a win-back campaign ------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

int action_start_campaign(web_ctx *c, int64_t key_id, int *repeat, char *msg, size_t n, tn_error *err)
{
	*repeat = 0;
	char name[64], channel[16];
	double days = 0, control = 0;
	int bad = !c->rq->body || web_form(c->rq->body, c->rq->body_len, "name", name, sizeof name) || !name[0] ||
		  strlen(name) > 60 || web_form(c->rq->body, c->rq->body_len, "channel", channel, sizeof channel) ||
		  (strcmp(channel, "email") && strcmp(channel, "call") && strcmp(channel, "sms")) ||
		  form_num(c, "days", 1, 3650, &days) || form_num(c, "control", 0, 0.9, &control);
	for (const char *q = name; !bad && *q; q++)
		bad = !(isalnum((unsigned char)*q) || *q == '-' || *q == '_' || *q == '.');
	if (bad) {
		snprintf(msg, n, "%s", T(c, S_BAD_FORM));
		return tn_error_set(err, TN_ERR_USAGE, "%s", msg);
	}
	long long before = web_data_write_begin(c);
	tn_store *s = web_store_open(c, err);
	if (!s) {
		web_data_write_abandon(c);
		return tn_error_code(err, TN_ERR_DB);
	}
	tn_time now = 0;
	tn_winback_due *due = NULL;
	size_t nd = 0;
	long contacts = 0, controls = 0, queued = 0;
	int rc = store_now(s, &now, err);
	if (!rc)
		rc = tn_store_begin(s, err);
	if (rc)
		goto out;
	cJSON *pj = cJSON_CreateObject();
	tn_json_add_num(pj, "lapsed_within_days", days);
	tn_json_add_num(pj, "control", control);
	cJSON_AddStringToObject(pj, "channel", channel);
	char *params = pj ? tn_json_print(pj) : NULL;
	cJSON_Delete(pj);
	tn_stmt *st = params ? tn_db_prepare(s,
					     "INSERT INTO campaigns(name, kind, started_at, key_id, params, contacts, controls,"
					     " queued) VALUES (?1, 'winback', ?2, ?3, ?4, 0, 0, 0) ON CONFLICT (name) DO NOTHING",
					     err)
			     : NULL;
	if (!st) {
		free(params);
		rc = params ? tn_error_code(err, TN_ERR_DB) : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		tn_store_rollback(s);
		goto out;
	}
	tn_db_bind_text(st, 1, name);
	tn_db_bind_int64(st, 2, (int64_t)tn_now());
	tn_db_bind_int64(st, 3, key_id);
	tn_db_bind_text(st, 4, params);
	free(params);
	rc = tn_db_step(st, "starting a campaign", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	*repeat = !rc && tn_db_changes(s) == 0;
	/* who lapsed in [now - days, now) and was not contacted by a win-back since */
	if (!rc && !*repeat)
		rc = tn_winback_schedule(s, now - (tn_time)llround(days * TN_DAY), 0, days, control, fnv1a(name), &due,
					 &nd, err);
	for (size_t i = 0; !rc && i < nd; i++) {
		tn_winback_due *d = &due[i];
		int64_t key = 0;
		if ((rc = tn_store_customer_key(s, d->customer, &key, err)))
			break;
		tn_winback_contact wc = {.customer = d->customer,
					 .campaign = name,
					 .channel = d->control ? "none" : channel,
					 .at = now,
					 .control = d->control};
		if ((rc = tn_winback_record(s, &wc, NULL, err)))
			break;
		if (d->control) {
			controls++;
			continue;
		}
		contacts++;
		char iso[40], k[200];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "campaign", name);
		cJSON_AddStringToObject(o, "channel", channel);
		cJSON_AddStringToObject(o, "plan", d->plan ? d->plan : "");
		cJSON_AddStringToObject(o, "lapsed_at", tn_time_format(d->lapsed_at, iso, sizeof iso));
		tn_json_add_num(o, "price", d->price);
		char *data = o ? tn_json_print(o) : NULL;
		cJSON_Delete(o);
		if (!data) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
		snprintf(k, sizeof k, "winback:%s:%s", name, d->customer);
		rc = tn_outbox_enqueue(s, "winback", k, key, data, now, &queued, err);
		free(data);
	}
	if (!rc && !*repeat) {
		st = tn_db_prepare(s, "UPDATE campaigns SET contacts = ?2, controls = ?3, queued = ?4 WHERE name = ?1", err);
		if (!st)
			rc = tn_error_code(err, TN_ERR_DB);
		else {
			tn_db_bind_text(st, 1, name);
			tn_db_bind_int64(st, 2, contacts);
			tn_db_bind_int64(st, 3, controls);
			tn_db_bind_int64(st, 4, queued);
			rc = tn_db_step(st, "starting a campaign", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
			tn_db_finalize(st);
		}
	}
	char target[80], detail[200];
	snprintf(target, sizeof target, "campaign:%s", name);
	snprintf(detail, sizeof detail, "%ld contacted, %ld held out, %ld messages queued (%s)", contacts, controls,
		 queued, channel);
	if (!rc)
		rc = web_audit(s, key_id, "start_campaign", target, *repeat ? "repeat" : "done", detail, err);
	if (!rc)
		rc = tn_store_commit(s, err);
	else
		tn_store_rollback(s);
	if (rc) {
		tn_error e2 = {0};
		web_audit(s, key_id, "start_campaign", target, "failed", err ? err->msg : "", &e2);
	}
out:
	tn_winback_due_free(due, nd);
	tn_store_close(s);
	web_data_own_write(c, before);
	web_data_forget(c, "dashacts");
	web_data_forget(c, "actions");
	return rc;
}

int action_withdraw_plan(web_ctx *c, int64_t key_id, char *msg, size_t n, tn_error *err)
{
	double plan = 0;
	if (form_num(c, "plan", 1, 9e15, &plan)) {
		snprintf(msg, n, "%s", T(c, S_BAD_FORM));
		return tn_error_set(err, TN_ERR_USAGE, "%s", msg);
	}
	long long before = web_data_write_begin(c);
	tn_store *s = web_store_open(c, err);
	if (!s) {
		web_data_write_abandon(c);
		return tn_error_code(err, TN_ERR_DB);
	}
	int64_t withdrawn = 0;
	long suppressed = 0;
	char target[48], detail[96];
	snprintf(target, sizeof target, "plan %lld", (long long)plan);
	int rc = tn_offer_plan_withdraw(s, (int64_t)plan, key_id, tn_now(), &withdrawn, &suppressed, err);
	if (rc == TN_OK) {
		snprintf(detail, sizeof detail, "%ld pending offers suppressed", suppressed);
		rc = web_audit(s, key_id, "withdraw_offer_plan", target, "done", detail, err);
	} else {
		tn_error e2 = {0};
		if (rc == TN_ERR_NOTFOUND)
			snprintf(msg, n, "%s", T(c, S_NO_PLAN_IN_FORCE));
		web_audit(s, key_id, "withdraw_offer_plan", target, rc == TN_ERR_NOTFOUND ? "refused" : "failed",
			  err ? err->msg : "", &e2);
	}
	tn_store_close(s);
	web_data_own_write(c, before);
	web_data_forget(c, "dashacts");
	web_data_forget(c, "actions");
	return rc;
}

void web_audit_refused(web_ctx *c, int64_t key_id, const char *path, const char *why)
{
	const char *action = strcmp(path, "/act/plan/withdraw") == 0	 ? "withdraw_offer_plan"
			     : strncmp(path, "/act/plan/", 10) == 0	 ? "approve_offer_plan"
			     : strncmp(path, "/act/campaign/", 14) == 0 ? "start_campaign"
			     : strncmp(path, "/alerts/", 8) == 0	 ? "ack_alert"
									 : NULL;
	if (!action)
		return;
	tn_error err = {0};
	long long before = web_data_write_begin(c);
	tn_store *s = web_store_open(c, &err);
	if (!s || web_audit(s, key_id, action, path, "refused", why, &err))
		fprintf(stderr, "tenure: dashboard audit: %s\n", err.msg);
	tn_store_close(s);
	web_data_own_write(c, before);
}

void web_pack_done(const void *x, tn_sbuf *b)
{
	const done_rows *d = x;
	wpk_u64(b, d->nplan);
	for (size_t i = 0; i < 5 * d->nplan; i++)
		wpk_str(b, d->plan[i]);
	wpk_u64(b, d->ncamp);
	for (size_t i = 0; i < 5 * d->ncamp; i++)
		wpk_str(b, d->camp[i]);
	wpk_raw(b, &d->force, sizeof d->force);
}

static char **unpack_rows(web_unpack *u, size_t *n)
{
	size_t k = wun_count(u, 5 * 8);
	char **rows = tn_calloc(5 * (k ? k : 1), sizeof *rows);
	if (!rows) {
		u->bad = 1;
		return NULL;
	}
	*n = k;
	for (size_t i = 0; i < 5 * k; i++)
		if (!(rows[i] = wun_str(u)) && !(rows[i] = tn_strdup("")))
			u->bad = 1;
	return rows;
}

void *web_unpack_done(web_unpack *u)
{
	done_rows *d = tn_calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->plan = unpack_rows(u, &d->nplan);
	if (d->plan)
		d->camp = unpack_rows(u, &d->ncamp);
	wun_raw(u, &d->force, sizeof d->force);
	if (u->bad || !d->plan || !d->camp) {
		u->bad = 1;
		web_drop_done(d);
		return NULL;
	}
	return d;
}
