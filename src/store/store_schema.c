/*
 * store_schema.c -- the store's schema, one migration per version.
 *
 * PRAGMA user_version holds the schema version and PRAGMA application_id marks
 * the file as Tenure's.  Migration N takes a version N-1 file to version N; a
 * newer binary runs the missing ones in one transaction, an older binary
 * refuses a newer file (store.c).  Never edit a released migration: add one.
 *
 * PostgreSQL (docs/scaling.md) runs the same list: the table tenure_schema
 * holds the version there.  An entry is { version, SQLite text, PostgreSQL
 * text }; where the PostgreSQL text is NULL the SQLite text is translated by
 * tn_pg_ddl (db_pg.c): INTEGER -> BIGINT, INTEGER PRIMARY KEY -> an identity
 * column, REAL -> DOUBLE PRECISION, BLOB -> BYTEA, WITHOUT ROWID dropped;
 * json_valid/json_type/json exist on PostgreSQL as functions made before
 * migration 1.  Write portable DDL and leave the PostgreSQL text NULL; give
 * one only where the engines differ (triggers).
 */
#include <stddef.h>

#include "store/schema.h"

/* migration 4's tables, the same on both engines */
#define M4_TABLES_1 \
	"CREATE TABLE offer_plans(id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, source TEXT NOT NULL," \
	"  params TEXT NOT NULL);" \
	"CREATE TABLE offer_assignments(" \
	"  plan_id INTEGER NOT NULL REFERENCES offer_plans(id)," \
	"  customer_id INTEGER NOT NULL REFERENCES customers(id)," \
	"  arm TEXT NOT NULL CHECK (arm IN ('offer','control'))," \
	"  rank INTEGER NOT NULL, stratum INTEGER NOT NULL," \
	"  p_churn REAL NOT NULL, value REAL NOT NULL, expected_profit REAL NOT NULL, send_at INTEGER," \
	"  PRIMARY KEY (plan_id, customer_id)) WITHOUT ROWID;" \
	"CREATE TABLE winback_contacts(" \
	"  id INTEGER PRIMARY KEY," \
	"  customer_id INTEGER NOT NULL REFERENCES customers(id)," \
	"  campaign TEXT NOT NULL," \
	"  contacted_at INTEGER NOT NULL," \
	"  channel TEXT NOT NULL CHECK (channel IN ('email','call','sms','none'))," \
	"  reached INTEGER NOT NULL CHECK (reached IN (0,1))," \
	"  control INTEGER NOT NULL DEFAULT 0 CHECK (control IN (0,1))," \
	"  reason TEXT, offer TEXT," \
	"  cost REAL NOT NULL DEFAULT 0 CHECK (cost >= 0)," \
	"  UNIQUE (customer_id, campaign, contacted_at, channel));" \
	"CREATE INDEX winback_contacts_campaign ON winback_contacts(campaign, customer_id);" \
	"CREATE TABLE points_rules(event_type TEXT PRIMARY KEY, per_action INTEGER NOT NULL DEFAULT 0," \
	"  per_amount REAL NOT NULL DEFAULT 0);" \
	"CREATE TABLE points_ledger(" \
	"  id INTEGER PRIMARY KEY," \
	"  customer_id INTEGER NOT NULL REFERENCES customers(id)," \
	"  at INTEGER NOT NULL," \
	"  kind TEXT NOT NULL CHECK (kind IN ('earn','grant','redeem','expire'))," \
	"  points INTEGER NOT NULL," \
	"  expires_at INTEGER, lot_id INTEGER," \
	"  idem_key TEXT NOT NULL UNIQUE," \
	"  note TEXT," \
	"  CHECK ((kind IN ('earn','grant') AND points > 0) OR (kind IN ('redeem','expire') AND points < 0)));" \
	"CREATE INDEX points_ledger_customer ON points_ledger(customer_id);"
#define M4_TABLES_2 \
	"CREATE TABLE points_refused(idem_key TEXT PRIMARY KEY, customer_id INTEGER NOT NULL, at INTEGER NOT NULL," \
	"  points INTEGER NOT NULL);" \
	"CREATE TABLE points_lots(lot_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, at INTEGER NOT NULL," \
	"  expires_at INTEGER, remaining INTEGER NOT NULL CHECK (remaining >= 0));" \
	"CREATE INDEX points_lots_open ON points_lots(customer_id, at, lot_id, remaining, expires_at)" \
	"  WHERE remaining > 0;" \
	"CREATE TABLE points_balances(customer_id INTEGER PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0)," \
	"  earned INTEGER NOT NULL DEFAULT 0);" \
	"CREATE TABLE points_tiers(name TEXT PRIMARY KEY, level INTEGER NOT NULL UNIQUE," \
	"  basis TEXT NOT NULL CHECK (basis IN ('points','spend')), threshold REAL NOT NULL, benefits TEXT);" \
	"CREATE TABLE journey_milestones(milestone TEXT PRIMARY KEY CHECK (milestone IN" \
	"  ('first_impression','first_value','intended_value','extended_value')), event_type TEXT NOT NULL);"

const tn_migration tn_store_migrations[] = {
	/* 1: the initial data model (docs/data-model.md) */
	{1,
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE customers("
	"  id INTEGER PRIMARY KEY,"
	"  ext_id TEXT NOT NULL UNIQUE,"
	"  signed_up_at INTEGER,"
	"  country TEXT,"
	"  channel TEXT,"
	"  attrs TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attrs) AND json_type(attrs) = 'object'));"
	"CREATE TABLE subscriptions("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  ext_id TEXT,"
	"  plan TEXT NOT NULL,"
	"  billing_period TEXT NOT NULL CHECK (billing_period IN ('day','week','month','quarter','year')),"
	"  price REAL NOT NULL CHECK (price >= 0),"
	"  currency TEXT NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  trial_ends_at INTEGER,"
	"  current_period_end INTEGER,"
	"  cancelled_at INTEGER,"
	"  cancel_reason TEXT,"
	"  status TEXT NOT NULL CHECK (status IN ('trialing','active','past_due','cancelled','expired')),"
	"  UNIQUE (customer_id, started_at, plan));"
	"CREATE UNIQUE INDEX subscriptions_ext_id ON subscriptions(ext_id) WHERE ext_id IS NOT NULL;"
	"CREATE TABLE event_types(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE events("
	"  customer_id INTEGER NOT NULL,"
	"  occurred_at INTEGER NOT NULL,"
	"  type_id INTEGER NOT NULL,"
	"  ext_id TEXT NOT NULL DEFAULT '',"
	"  amount REAL,"
	"  PRIMARY KEY (customer_id, occurred_at, type_id, ext_id)) WITHOUT ROWID;"
	"CREATE TABLE payments("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  paid_at INTEGER NOT NULL,"
	"  amount REAL NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('succeeded','failed','refunded')),"
	"  ext_id TEXT NOT NULL DEFAULT '',"
	"  UNIQUE (customer_id, paid_at, status, ext_id));"
	"CREATE TABLE feedback("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  given_at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  score REAL,"
	"  answer TEXT,"
	"  language TEXT,"
	"  ext_id TEXT NOT NULL DEFAULT '',"
	"  UNIQUE (customer_id, given_at, kind, ext_id));",
	NULL},
	/* 2: feedback: labels of free-text answers (type, theme), and the team's
	 * effort estimate and "fixed" mark per theme (docs/feedback.md) */
	{2,
	"CREATE TABLE feedback_labels("
	"  feedback_id INTEGER PRIMARY KEY REFERENCES feedback(id),"
	"  type TEXT NOT NULL,"
	"  theme TEXT NOT NULL,"
	"  language TEXT NOT NULL,"
	"  confidence REAL NOT NULL,"
	"  by_rule INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX feedback_labels_theme ON feedback_labels(theme);"
	"CREATE TABLE feedback_themes("
	"  theme TEXT PRIMARY KEY,"
	"  effort TEXT CHECK (effort IN ('low','high')),"
	"  fixed_at INTEGER);",
	NULL},
	/* 3: named churn definitions (docs/churn.md); rule is the JSON form of tn_churn_def */
	{3,
	"CREATE TABLE churn_definitions("
	"  name TEXT PRIMARY KEY,"
	"  rule TEXT NOT NULL CHECK (json_valid(rule) AND json_type(rule) = 'object'));",
	NULL},
	/* 4: offers with their control group, win-back contacts, the
	 * loyalty-points ledger (append-only) with its lots and balances, tiers,
	 * and the onboarding milestone map (docs/actions.md) */
	{4,
	M4_TABLES_1
	"CREATE TRIGGER points_ledger_no_update BEFORE UPDATE ON points_ledger"
	"  BEGIN SELECT RAISE(ABORT, 'points_ledger is append-only'); END;"
	"CREATE TRIGGER points_ledger_no_delete BEFORE DELETE ON points_ledger"
	"  BEGIN SELECT RAISE(ABORT, 'points_ledger is append-only'); END;"
	M4_TABLES_2,
	M4_TABLES_1 M4_TABLES_2
	"CREATE FUNCTION points_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS"
	"  $$BEGIN RAISE EXCEPTION 'points_ledger is append-only'; END$$;"
	"CREATE TRIGGER points_ledger_no_update BEFORE UPDATE ON points_ledger"
	"  FOR EACH ROW EXECUTE FUNCTION points_ledger_append_only();"
	"CREATE TRIGGER points_ledger_no_delete BEFORE DELETE ON points_ledger"
	"  FOR EACH ROW EXECUTE FUNCTION points_ledger_append_only();"},
	/* 5: churn-risk alerts (docs/predict.md): one row per episode of a
	 * condition; an episode stays open (resolved_at NULL) while the condition
	 * holds, so a run never raises the same episode twice */
	{5,
	"CREATE TABLE alerts("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('activity_drop','inactive','failed_payment','detractor',"
	"    'ending_high_risk')),"
	"  raised_at INTEGER NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  risk REAL,"
	"  last_seen INTEGER NOT NULL,"
	"  resolved_at INTEGER,"
	"  acked_at INTEGER);"
	"CREATE UNIQUE INDEX alerts_open ON alerts(customer_id, kind) WHERE resolved_at IS NULL;"
	"CREATE INDEX alerts_raised ON alerts(raised_at);",
	NULL},
	/* 6: imports match payments and feedback on their id (docs/import.md,
	 * "Idempotence"); exchange rates into the store's reporting currency
	 * (meta key reporting_currency; docs/metrics.md, "Currency"): RATE units
	 * of the reporting currency buy one unit of CURRENCY from VALID_FROM on */
	{6,
	"CREATE INDEX payments_ext_id ON payments(ext_id);"
	"CREATE INDEX feedback_ext_id ON feedback(ext_id);"
	"CREATE TABLE currency_rates("
	"  currency TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),"
	"  valid_from INTEGER NOT NULL,"
	"  rate REAL NOT NULL CHECK (rate > 0),"
	"  PRIMARY KEY (currency, valid_from)) WITHOUT ROWID;",
	NULL},
	/* 7: API keys for `tenure serve` (docs/api.md): the SHA-256 hash of each
	 * key, never the key */
	{7,
	"CREATE TABLE api_keys("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  scope TEXT NOT NULL CHECK (scope IN ('ingest','read','admin')),"
	"  prefix TEXT NOT NULL,"
	"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  created_at INTEGER NOT NULL,"
	"  revoked_at INTEGER);",
	NULL},
	/* 8: each subscription's exact state as its source reports it (App Store,
	 * Google Play, Stripe, RevenueCat, or an import): the state, the cause when
	 * it ended (voluntary vs involuntary churn), auto-renew, and when
	 * auto-renew was turned off (docs/sources.md, docs/churn.md).  The
	 * subscriptions row keeps the coarse status every analysis reads. */
	{8,
	"CREATE TABLE subscription_state("
	"  subscription_id INTEGER PRIMARY KEY REFERENCES subscriptions(id),"
	"  source TEXT NOT NULL CHECK (source IN ('import','appstore','googleplay','stripe','revenuecat')),"
	"  state TEXT NOT NULL CHECK (state IN ('trial','active','cancelling','grace','billing_retry','paused',"
	"    'expired','refunded')),"
	"  cause TEXT CHECK (cause IN ('voluntary','billing','price_increase','refund','revoked',"
	"    'product_unavailable','other')),"
	"  auto_renew INTEGER CHECK (auto_renew IN (0,1)),"
	"  expires_at INTEGER,"
	"  auto_renew_off_at INTEGER,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX subscription_state_state ON subscription_state(state, cause);",
	NULL},
	/* 9: the subscription sources (docs/sources.md): each configured App Store
	 * app, Google Play package, Stripe endpoint or RevenueCat project (config
	 * is JSON: a Stripe signing secret as given, since HMAC needs it; a
	 * RevenueCat Authorization by its SHA-256 only); every raw notification
	 * received, once per source notification id (the replay log), with what
	 * it did; and per source-managed subscription the source's time of the
	 * last notification applied (older ones arriving late are kept, not
	 * applied) and the cause awaiting the end (auto-renew off) */
	{9,
	"CREATE TABLE sources("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('appstore','googleplay','stripe','revenuecat')),"
	"  name TEXT NOT NULL,"
	"  config TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  removed_at INTEGER);"
	"CREATE TABLE source_notifications("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER REFERENCES sources(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('appstore','googleplay','stripe','revenuecat')),"
	"  dedupe_key TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  event_at INTEGER,"
	"  customer TEXT,"
	"  subscription TEXT,"
	"  outcome TEXT NOT NULL CHECK (outcome IN ('applied','stale','stored')),"
	"  body TEXT NOT NULL,"
	"  UNIQUE (kind, dedupe_key));"
	"CREATE INDEX source_notifications_subscription ON source_notifications(subscription);"
	"CREATE TABLE source_subscriptions("
	"  subscription_id INTEGER PRIMARY KEY REFERENCES subscriptions(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('appstore','googleplay','stripe','revenuecat')),"
	"  last_event_at INTEGER NOT NULL,"
	"  pending_cause TEXT CHECK (pending_cause IN ('voluntary','billing','price_increase','refund','revoked',"
	"    'product_unavailable','other')));"
	/* `tenure customers link KEEP ALIAS`: notifications naming ALIAS (an
	 * appstore:... id, a Stripe customer) belong to customer KEEP */
	"CREATE TABLE customer_links("
	"  alias TEXT PRIMARY KEY,"
	"  customer TEXT NOT NULL,"
	"  linked_at INTEGER NOT NULL);",
	NULL},
	/* 10: in-app decisions (docs/actions.md, "In-app decisions"): the offer
	 * catalogue, stored per-customer scores the server loads instead of
	 * fitting, the holdout group assigned once per customer, each decision
	 * and its outcomes; surveys with their triggers and invitations */
	{10,
	"CREATE TABLE offer_catalogue("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('discount','pause','downgrade','free_period')),"
	"  terms TEXT NOT NULL,"
	"  cost REAL NOT NULL CHECK (cost >= 0),"
	"  uplift_prior REAL NOT NULL CHECK (uplift_prior >= 0 AND uplift_prior <= 1),"
	"  prior_weight REAL NOT NULL CHECK (prior_weight > 0),"
	"  budget REAL CHECK (budget >= 0),"
	"  cap_count INTEGER NOT NULL CHECK (cap_count >= 1),"
	"  cap_days REAL NOT NULL CHECK (cap_days >= 0),"
	"  moments TEXT NOT NULL,"
	"  valid_days REAL NOT NULL CHECK (valid_days > 0),"
	"  created_at INTEGER NOT NULL,"
	"  removed_at INTEGER);"
	"CREATE TABLE customer_scores("
	"  customer_id INTEGER PRIMARY KEY REFERENCES customers(id),"
	"  p_churn REAL NOT NULL CHECK (p_churn >= 0 AND p_churn <= 1),"
	"  value REAL NOT NULL CHECK (value >= 0),"
	"  source TEXT NOT NULL,"
	"  scored_at INTEGER NOT NULL);"
	"CREATE TABLE decision_holdout("
	"  customer_id INTEGER PRIMARY KEY REFERENCES customers(id),"
	"  holdout INTEGER NOT NULL CHECK (holdout IN (0,1)),"
	"  share REAL NOT NULL,"
	"  seed INTEGER NOT NULL,"
	"  assigned_at INTEGER NOT NULL);"
	"CREATE TABLE decisions("
	"  id TEXT PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  moment TEXT NOT NULL CHECK (moment IN ('cancel','auto_renew_off','session','renewal_due')),"
	"  decided_at INTEGER NOT NULL,"
	"  holdout INTEGER NOT NULL CHECK (holdout IN (0,1)),"
	"  offer_id INTEGER REFERENCES offer_catalogue(id),"
	"  cost REAL NOT NULL DEFAULT 0,"
	"  p_churn REAL, value REAL, uplift REAL, expected_profit REAL,"
	"  expires_at INTEGER,"
	"  outcome TEXT CHECK (outcome IN ('shown','accepted','declined')),"
	"  outcome_at INTEGER);"
	"CREATE INDEX decisions_customer ON decisions(customer_id, decided_at);"
	"CREATE TABLE decision_outcomes("
	"  decision_id TEXT NOT NULL REFERENCES decisions(id),"
	"  outcome TEXT NOT NULL CHECK (outcome IN ('shown','accepted','declined','survey_answered')),"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (decision_id, outcome));"
	"CREATE TABLE surveys("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('nps','csat','ces','exit','custom')),"
	"  questions TEXT NOT NULL,"
	"  trigger_on TEXT NOT NULL CHECK (trigger_on IN ('milestone','before_danger','auto_renew_off','cancel',"
	"    'support_ticket','every')),"
	"  trigger_arg TEXT,"
	"  trigger_days REAL,"
	"  cap_days REAL NOT NULL CHECK (cap_days >= 0),"
	"  reward_points INTEGER NOT NULL DEFAULT 0 CHECK (reward_points >= 0),"
	"  created_at INTEGER NOT NULL,"
	"  removed_at INTEGER);"
	"CREATE TABLE survey_invitations("
	"  id INTEGER PRIMARY KEY,"
	"  survey_id INTEGER NOT NULL REFERENCES surveys(id),"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  invited_at INTEGER NOT NULL,"
	"  decision_id TEXT,"
	"  answered_at INTEGER);"
	"CREATE INDEX survey_invitations_customer ON survey_invitations(customer_id, invited_at);",
	NULL},
	/* 11: the outbox of outbound messages (signed webhooks, e-mail) with
	 * their receivers, the customers' consent per channel, and the
	 * scheduler's job runs and watermarks (docs/actions.md, "Messages and
	 * the scheduler").  A message's idem_key is unique: a job that runs
	 * twice queues nothing twice. */
	{11,
	"CREATE TABLE webhooks("
	"  id INTEGER PRIMARY KEY,"
	"  url TEXT NOT NULL,"
	"  events TEXT NOT NULL,"
	"  secret TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  removed_at INTEGER);"
	"CREATE TABLE outbox("
	"  id INTEGER PRIMARY KEY,"
	"  idem_key TEXT NOT NULL UNIQUE,"
	"  event TEXT NOT NULL CHECK (event IN ('alert','winback','offer','survey','contract_ending','test')),"
	"  channel TEXT NOT NULL CHECK (channel IN ('webhook','email')),"
	"  webhook_id INTEGER REFERENCES webhooks(id),"
	"  address TEXT,"
	"  customer_id INTEGER,"
	"  payload TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('pending','sent','dead','suppressed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  sent_at INTEGER,"
	"  last_error TEXT);"
	"CREATE INDEX outbox_due ON outbox(status, next_attempt_at);"
	"CREATE INDEX outbox_customer ON outbox(customer_id);"
	"CREATE TABLE consent("
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  channel TEXT NOT NULL CHECK (channel IN ('email','webhook','sms')),"
	"  granted INTEGER NOT NULL CHECK (granted IN (0,1)),"
	"  source TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (customer_id, channel));"
	"CREATE TABLE risk_scores("
	"  customer_id INTEGER PRIMARY KEY REFERENCES customers(id),"
	"  as_of INTEGER NOT NULL,"
	"  risk REAL NOT NULL);"
	"CREATE TABLE job_runs("
	"  id INTEGER PRIMARY KEY,"
	"  job TEXT NOT NULL,"
	"  as_of INTEGER NOT NULL,"
	"  window_from INTEGER NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  finished_at INTEGER,"
	"  seconds REAL,"
	"  outcome TEXT NOT NULL CHECK (outcome IN ('running','ok','failed')),"
	"  items INTEGER NOT NULL DEFAULT 0,"
	"  detail TEXT);"
	"CREATE INDEX job_runs_job ON job_runs(job, id);"
	"CREATE TABLE job_state(job TEXT PRIMARY KEY, watermark INTEGER NOT NULL);",
	NULL},
	/* 12: a customer's alerts by customer: GET /v1/customers/{id} takes the
	 * latest scored one (ORDER BY last_seen DESC, id DESC LIMIT 1), which
	 * scanned every alert of the store before (alerts_open covers only
	 * the open ones). */
	{12,
	"CREATE INDEX alerts_customer ON alerts(customer_id, last_seen);",
	NULL},
	/* 13: one score table.  Decisions read customer_scores (p_churn,
	 * value) and the nightly refresh wrote risk_scores: now both use
	 * customer_scores, which also says what instant a score is for (as_of)
	 * and why (reasons: a JSON array of plain-word reasons, or NULL).  The
	 * rows of both old tables are carried over; where a customer had both,
	 * the newer risk wins and the stored value stays. */
	{13,
	"CREATE TABLE scores_unified("
	"  customer_id INTEGER PRIMARY KEY REFERENCES customers(id),"
	"  p_churn REAL NOT NULL CHECK (p_churn >= 0 AND p_churn <= 1),"
	"  value REAL NOT NULL CHECK (value >= 0),"
	"  source TEXT NOT NULL,"
	"  scored_at INTEGER NOT NULL,"
	"  as_of INTEGER NOT NULL,"
	"  reasons TEXT);"
	"INSERT INTO scores_unified(customer_id, p_churn, value, source, scored_at, as_of)"
	"  SELECT customer_id, p_churn, value, source, scored_at, scored_at FROM customer_scores;"
	"UPDATE scores_unified SET p_churn = (SELECT CASE WHEN r.risk < 0 THEN 0 WHEN r.risk > 1 THEN 1 ELSE r.risk END"
	"  FROM risk_scores r WHERE r.customer_id = scores_unified.customer_id), as_of = (SELECT r.as_of"
	"  FROM risk_scores r WHERE r.customer_id = scores_unified.customer_id), source = 'refresh'"
	"  WHERE EXISTS (SELECT 1 FROM risk_scores r WHERE r.customer_id = scores_unified.customer_id"
	"  AND r.as_of >= scores_unified.as_of);"
	"INSERT INTO scores_unified(customer_id, p_churn, value, source, scored_at, as_of)"
	"  SELECT r.customer_id, CASE WHEN r.risk < 0 THEN 0 WHEN r.risk > 1 THEN 1 ELSE r.risk END, 0, 'refresh',"
	"  r.as_of, r.as_of FROM risk_scores r"
	"  WHERE NOT EXISTS (SELECT 1 FROM scores_unified u WHERE u.customer_id = r.customer_id);"
	"DROP TABLE customer_scores;"
	"DROP TABLE risk_scores;"
	"ALTER TABLE scores_unified RENAME TO customer_scores;",
	NULL},
	/* 14: the dashboard (docs/dashboard.md): its sessions (only the SHA-256
	 * of the cookie's token, with the expiry: a restart keeps people signed
	 * in, sign-out and expiry delete the row), the audit of its
	 * state-changing actions, the offer plans approved (the latest is the
	 * active plan) and the win-back campaigns started (a name starts once). */
	{14,
	"CREATE TABLE web_sessions("
	"  token_hash TEXT PRIMARY KEY,"
	"  key_id INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL);"
	"CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);"
	"CREATE TABLE web_audit("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  key_id INTEGER NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  outcome TEXT NOT NULL CHECK (outcome IN ('done','repeat','refused','failed')),"
	"  detail TEXT);"
	"CREATE TABLE offer_plan_approvals("
	"  plan_id INTEGER PRIMARY KEY REFERENCES offer_plans(id),"
	"  approved_at INTEGER NOT NULL,"
	"  key_id INTEGER NOT NULL,"
	"  queued INTEGER NOT NULL);"
	"CREATE TABLE campaigns("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('winback')),"
	"  started_at INTEGER NOT NULL,"
	"  key_id INTEGER NOT NULL,"
	"  params TEXT NOT NULL,"
	"  contacts INTEGER NOT NULL,"
	"  controls INTEGER NOT NULL,"
	"  queued INTEGER NOT NULL);",
	NULL},
	/* 15: cluster metadata (docs/scaling.md, "A cluster"): on a coordinator
	 * made by `tenure cluster init`, one row per shard -- the postgres_fdw
	 * server (or Citus worker) and where it is (its URL without password),
	 * with the hash partition it holds (MODULUS, REMAINDER).  Empty on a
	 * single node and on the shards themselves; the store reads it at open
	 * to know that customers and their rows live on the shards. */
	{15,
	"CREATE TABLE cluster_shards("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('postgres_fdw','citus')),"
	"  server TEXT NOT NULL UNIQUE,"
	"  location TEXT NOT NULL,"
	"  modulus INTEGER,"
	"  remainder INTEGER,"
	"  added_at INTEGER NOT NULL);",
	NULL},
	/* 16: the events journal (docs/data-model.md, "The events journal").
	 * The server appends the events it acknowledges here -- a rowid table,
	 * so a group commit writes a few sequential pages rather than one page
	 * of the clustered events table per event -- and folds them into
	 * events in large sorted batches.  Readers see events UNION ALL the
	 * journal; the index serves their per-customer reads and the writer's
	 * duplicate check. */
	{16,
	"CREATE TABLE events_journal("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL,"
	"  occurred_at INTEGER NOT NULL,"
	"  type_id INTEGER NOT NULL,"
	"  ext_id TEXT NOT NULL DEFAULT '',"
	"  amount REAL);"
	"CREATE INDEX events_journal_customer ON events_journal(customer_id, occurred_at);",
	NULL},
	/* 17: the dashboard's customer page reads a customer's offers; the
	 * assignments' key starts with the plan, so without this every view
	 * scanned all of them (a million rows a plan on 1,000,000 customers) */
	{17,
	"CREATE INDEX offer_assignments_customer ON offer_assignments(customer_id);",
	NULL},
	/* 18 (act): an approved offer plan can be withdrawn (docs/actions.md,
	 * "The approved offer plan"): the plan in force is the latest approval,
	 * unless it was withdrawn; a withdrawn approval stays in the table, with
	 * when and by which key (0: the command line). */
	{18,
	"ALTER TABLE offer_plan_approvals ADD COLUMN withdrawn_at INTEGER;"
	"ALTER TABLE offer_plan_approvals ADD COLUMN withdrawn_key INTEGER;",
	NULL},
	/* 19 (dash): the dashboard's computed figures, kept so that a restarted
	 * server shows them at once (docs/dashboard.md, "Speed"): one row per
	 * value (KEY: kind|argument|format), with the data version it was
	 * computed on (a hash of the store's data marks, src/web/web_store.c),
	 * when and in how long, and the value serialised by src/web/web_pages.c.
	 * Language-independent: pages translate when they draw. */
	{19,
	"CREATE TABLE dashboard_cache("
	"  key TEXT PRIMARY KEY,"
	"  version INTEGER NOT NULL,"
	"  computed_at REAL NOT NULL,"
	"  took REAL NOT NULL,"
	"  value BLOB NOT NULL);",
	NULL},
	/* 20 (ingest): the events journal's second table.  The server appends
	 * to one while the other is folded into events, so a fold ends by
	 * emptying its table with an unqualified DELETE (SQLite frees the
	 * pages whole) instead of deleting the moved rows one by one, each a
	 * random seek into the journal's customer index (docs/data-model.md,
	 * "The events journal"). */
	{20,
	"CREATE TABLE events_journal_b("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL,"
	"  occurred_at INTEGER NOT NULL,"
	"  type_id INTEGER NOT NULL,"
	"  ext_id TEXT NOT NULL DEFAULT '',"
	"  amount REAL);"
	"CREATE INDEX events_journal_b_customer ON events_journal_b(customer_id, occurred_at);",
	NULL},
	/* 21 (sources): the tables every source notification writes, rebuilt
	 * with their enumeration checks in OR form.
	 *
	 * Checks on hot tables, for every future migration: a table written once
	 * or more per event or notification (payments, subscriptions,
	 * subscription_state, source_subscriptions, source_notifications, and any
	 * new one like them) writes an enumeration check as `x = 'a' OR x = 'b'`,
	 * not `x IN ('a','b')`.  SQLite 3.40 evaluates an IN list by filling a
	 * temporary B-tree on every execution of a statement that writes the row
	 * (~1 us per check per row: 300,000 inserts with two such checks took
	 * 0.67 s, with the OR form 0.10 s).  The two forms are the same
	 * constraint (a NULL passes both).  Tables written now and then may keep
	 * the IN form; PostgreSQL has no such cost.
	 *
	 * SQLite's table rebuild (create new, copy, drop, rename, indexes again),
	 * in the migration's transaction.  subscriptions is the parent of
	 * subscription_state and source_subscriptions, and foreign keys are on
	 * (they cannot be turned off inside a transaction): those two are held
	 * in temp tables and dropped first, then made again after subscriptions.
	 * Columns, their order, keys, indexes and rows are unchanged
	 * (tests/unit/test_store_m21.c).  Nothing to do on PostgreSQL. */
	{21,
	"CREATE TEMP TABLE m21_subscription_state AS SELECT * FROM subscription_state;"
	"CREATE TEMP TABLE m21_source_subscriptions AS SELECT * FROM source_subscriptions;"
	"DROP TABLE subscription_state;"
	"DROP TABLE source_subscriptions;"
	"CREATE TABLE subscriptions_m21("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  ext_id TEXT,"
	"  plan TEXT NOT NULL,"
	"  billing_period TEXT NOT NULL CHECK (billing_period = 'day' OR billing_period = 'week'"
	"    OR billing_period = 'month' OR billing_period = 'quarter' OR billing_period = 'year'),"
	"  price REAL NOT NULL CHECK (price >= 0),"
	"  currency TEXT NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  trial_ends_at INTEGER,"
	"  current_period_end INTEGER,"
	"  cancelled_at INTEGER,"
	"  cancel_reason TEXT,"
	"  status TEXT NOT NULL CHECK (status = 'trialing' OR status = 'active' OR status = 'past_due'"
	"    OR status = 'cancelled' OR status = 'expired'),"
	"  UNIQUE (customer_id, started_at, plan));"
	"INSERT INTO subscriptions_m21 SELECT * FROM subscriptions;"
	"DROP TABLE subscriptions;"
	"ALTER TABLE subscriptions_m21 RENAME TO subscriptions;"
	"CREATE UNIQUE INDEX subscriptions_ext_id ON subscriptions(ext_id) WHERE ext_id IS NOT NULL;"
	"CREATE TABLE subscription_state("
	"  subscription_id INTEGER PRIMARY KEY REFERENCES subscriptions(id),"
	"  source TEXT NOT NULL CHECK (source = 'import' OR source = 'appstore' OR source = 'googleplay'"
	"    OR source = 'stripe' OR source = 'revenuecat'),"
	"  state TEXT NOT NULL CHECK (state = 'trial' OR state = 'active' OR state = 'cancelling' OR state = 'grace'"
	"    OR state = 'billing_retry' OR state = 'paused' OR state = 'expired' OR state = 'refunded'),"
	"  cause TEXT CHECK (cause = 'voluntary' OR cause = 'billing' OR cause = 'price_increase' OR cause = 'refund'"
	"    OR cause = 'revoked' OR cause = 'product_unavailable' OR cause = 'other'),"
	"  auto_renew INTEGER CHECK (auto_renew = 0 OR auto_renew = 1),"
	"  expires_at INTEGER,"
	"  auto_renew_off_at INTEGER,"
	"  updated_at INTEGER NOT NULL);"
	"INSERT INTO subscription_state SELECT * FROM temp.m21_subscription_state;"
	"CREATE INDEX subscription_state_state ON subscription_state(state, cause);"
	"CREATE TABLE source_subscriptions("
	"  subscription_id INTEGER PRIMARY KEY REFERENCES subscriptions(id),"
	"  kind TEXT NOT NULL CHECK (kind = 'appstore' OR kind = 'googleplay' OR kind = 'stripe' OR kind = 'revenuecat'),"
	"  last_event_at INTEGER NOT NULL,"
	"  pending_cause TEXT CHECK (pending_cause = 'voluntary' OR pending_cause = 'billing'"
	"    OR pending_cause = 'price_increase' OR pending_cause = 'refund' OR pending_cause = 'revoked'"
	"    OR pending_cause = 'product_unavailable' OR pending_cause = 'other'));"
	"INSERT INTO source_subscriptions SELECT * FROM temp.m21_source_subscriptions;"
	"DROP TABLE temp.m21_subscription_state;"
	"DROP TABLE temp.m21_source_subscriptions;"
	"CREATE TABLE payments_m21("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  paid_at INTEGER NOT NULL,"
	"  amount REAL NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status = 'succeeded' OR status = 'failed' OR status = 'refunded'),"
	"  ext_id TEXT NOT NULL DEFAULT '',"
	"  UNIQUE (customer_id, paid_at, status, ext_id));"
	"INSERT INTO payments_m21 SELECT * FROM payments;"
	"DROP TABLE payments;"
	"ALTER TABLE payments_m21 RENAME TO payments;"
	"CREATE INDEX payments_ext_id ON payments(ext_id);"
	"CREATE TABLE source_notifications_m21("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER REFERENCES sources(id),"
	"  kind TEXT NOT NULL CHECK (kind = 'appstore' OR kind = 'googleplay' OR kind = 'stripe' OR kind = 'revenuecat'),"
	"  dedupe_key TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  event_at INTEGER,"
	"  customer TEXT,"
	"  subscription TEXT,"
	"  outcome TEXT NOT NULL CHECK (outcome = 'applied' OR outcome = 'stale' OR outcome = 'stored'),"
	"  body TEXT NOT NULL,"
	"  UNIQUE (kind, dedupe_key));"
	"INSERT INTO source_notifications_m21 SELECT * FROM source_notifications;"
	"DROP TABLE source_notifications;"
	"ALTER TABLE source_notifications_m21 RENAME TO source_notifications;"
	"CREATE INDEX source_notifications_subscription ON source_notifications(subscription);",
	"SELECT 1"},
	/* 22 (pg): every text column on PostgreSQL compares with the "C"
	 * collation, i.e. by bytes, as SQLite's BINARY does: a database made
	 * with a locale collation (initdb's en_US.UTF-8, an ICU locale) would
	 * order customer ids differently from SQLite (`points balance` lists
	 * equal balances by id) and sort text through strcoll.  New tables get
	 * it from tn_pg_ddl (db_pg.c); this gives it to the columns of a
	 * database made before (a collation change rewrites no table, but
	 * rebuilds the indexes on the column: the events key among them).
	 * Partitions follow their parent (a cluster's coordinator).  SQLite:
	 * nothing to do. */
	{22, "SELECT 1;",
	"DO $$DECLARE r record; BEGIN"
	"  FOR r IN SELECT c.relname, a.attname FROM pg_attribute a"
	"    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
	"    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
	"      AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = 'text'::regtype"
	"      AND a.attcollation <> (SELECT oid FROM pg_collation WHERE collname = 'C'"
	"        AND collnamespace = 'pg_catalog'::regnamespace)"
	"    ORDER BY c.relname, a.attnum"
	"  LOOP"
	"    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE text COLLATE \"C\"', r.relname, r.attname);"
	"  END LOOP;"
	"END$$;"},
	/* 23: the journal tables' index by generation (docs/data-model.md,
	 * "The events journal"): (id >> 16, customer_id, occurred_at) instead of
	 * (customer_id, occurred_at).  The writer's ids rise, so a group commit
	 * writes into the newest generation's part of the index only (a few
	 * hundred leaves) instead of dirtying nearly every leaf of an index over
	 * up to a million random customers: 70% of the writer's CPU an event
	 * (docs/performance.md).  A look-up by customer seeks once per
	 * generation (store.c, JGENS).  Rows already in the journal keep their
	 * ids and are indexed by the new key.  PostgreSQL never journals, but
	 * its tables follow the schema.  IF [NOT] EXISTS: a store whose recorded
	 * version is older than its indexes (tests/e2e/postgres.sh sets its icu
	 * database back to 21 to replay 22) migrates all the same. */
	{23,
	"DROP INDEX IF EXISTS events_journal_customer;"
	"DROP INDEX IF EXISTS events_journal_b_customer;"
	"CREATE INDEX IF NOT EXISTS events_journal_gen ON events_journal(id >> 16, customer_id, occurred_at);"
	"CREATE INDEX IF NOT EXISTS events_journal_b_gen ON events_journal_b(id >> 16, customer_id, occurred_at);",
	"DROP INDEX IF EXISTS events_journal_customer;"
	"DROP INDEX IF EXISTS events_journal_b_customer;"
	"CREATE INDEX IF NOT EXISTS events_journal_gen ON events_journal((id >> 16), customer_id, occurred_at);"
	"CREATE INDEX IF NOT EXISTS events_journal_b_gen ON events_journal_b((id >> 16), customer_id, occurred_at);"},
};

const size_t tn_store_nmigrations = sizeof tn_store_migrations / sizeof tn_store_migrations[0];
