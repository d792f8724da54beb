/*
 * tenure/outbox.h -- acting when the moment comes: the outbox of outbound
 * messages (signed webhooks and e-mail over SMTP), the customers' consent per
 * channel with quiet hours, erasure of a person's data, and the scheduler's
 * jobs (nightly re-scoring, alerts, win-back, offers, contract ends, points
 * expiry).  docs/actions.md, "Messages and the scheduler", walks through it.
 *
 * The delivery contract is "at least once, never lost": a message is a row of
 * the outbox table written in the same transaction as what caused it (a job's
 * batch together with its watermark), and only a delivery that the receiver
 * acknowledged (HTTP 2xx, SMTP 250) marks it sent.  A crash between the
 * receiver's answer and the mark means one more delivery with the same
 * Idempotency-Key, which the receiver drops.  Every message has a unique key
 * derived from what caused it (e.g. "winback:c42:1760000000/webhook:1"), so a
 * job run twice, or resumed after a crash, never queues a message twice.
 */
#ifndef TENURE_OUTBOX_H
#define TENURE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include "tenure/error.h"
#include "tenure/store.h"
#include "tenure/time.h"

/* ---- webhooks (the business's receivers) -------------------------------- */

/* Events a webhook can subscribe to, comma-separated in `events`. */
#define TN_OUTBOX_EVENTS "alert,winback,offer,survey,contract_ending,test"

typedef struct tn_webhook {
	int64_t id;
	char *url, *events, *secret;
	tn_time created_at;
} tn_webhook;

/* Add a receiver: URL http(s)://..., EVENTS a comma list from
 * TN_OUTBOX_EVENTS (or "all"), SECRET the signing secret (at least 16
 * characters; it is stored as given, since signing needs it). */
TN_API int tn_webhook_add(tn_store *s, const char *url, const char *events, const char *secret, tn_time now,
			  int64_t *id, tn_error *err);
/* The active receivers (removed ones are kept for the history but not listed). */
TN_API int tn_webhook_list(tn_store *s, tn_webhook **out, size_t *n, tn_error *err);
TN_API void tn_webhook_list_free(tn_webhook *w, size_t n);
/* Remove receiver ID: its pending deliveries go to the dead letters
 * ("webhook removed") so that `outbox retry` can still show them. */
TN_API int tn_webhook_remove(tn_store *s, int64_t id, tn_time now, tn_error *err);

/* The signature header of a delivery, Stripe's scheme:
 *     Tenure-Signature: t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, "UNIX_SECONDS." + body))
 * OUT gets the header's value (at least TN_SIGNATURE_MAX bytes). */
#define TN_SIGNATURE_MAX 96
TN_API int tn_webhook_sign(const char *secret, int64_t t, const char *body, size_t len, char *out, tn_error *err);
/* Check a header's value against BODY: TN_OK when some v1= matches (compared
 * in constant time) and |now - t| <= tolerance seconds. */
TN_API int tn_webhook_verify(const char *secret, const char *header, const char *body, size_t len, int64_t now,
			     int64_t tolerance, tn_error *err);

/* ---- the outbox ------------------------------------------------------------ */

/* Queue event EVENT (one of TN_OUTBOX_EVENTS) about CUSTOMER_ID (the store's
 * key; 0 for none) with KEY, the event's unique key, and DATA, a JSON object
 * text.  One row per destination: each active webhook subscribed to EVENT,
 * and for winback and offer an e-mail when SMTP is configured and the
 * customer has an `email` attribute.  Customer-facing events (winback, offer,
 * survey, contract_ending) respect consent (a refused channel gives a
 * 'suppressed' row) and quiet hours (the first attempt waits for the end of
 * the customer's quiet hours).  Must run inside the caller's transaction
 * (tn_store_begin): the message commits with what caused it.  *queued (may be
 * NULL) gets the rows added; a key already queued adds nothing. */
TN_API int tn_outbox_enqueue(tn_store *s, const char *event, const char *key, int64_t customer_id,
			     const char *data_json, tn_time now, long *queued, tn_error *err);

typedef struct tn_outbox_opts {
	int max_attempts;     /* dead letter after this many failures (default 8) */
	double backoff;       /* seconds before the first retry (default 30) */
	double backoff_max;   /* the longest wait (default 6 h) */
	int concurrency;      /* transfers in flight (default 32) */
	double timeout;       /* seconds per transfer (default 10) */
	double lease;         /* seconds a claimed message is hidden from other workers (default 60) */
	size_t batch;         /* messages claimed at once (default 512) */
	tn_time now;          /* TN_NO_TIME: the clock; else deliver what is due at NOW */
	int once;             /* 1: one batch only */
	volatile int *stop;   /* set to 1 from another thread to stop between batches */
} tn_outbox_opts;

TN_API tn_outbox_opts tn_outbox_opts_default(void);
/* Read the options kept in the store (outbox.max_attempts, outbox.backoff;
 * `tenure outbox config`) over O's defaults. */
TN_API int tn_outbox_opts_load(tn_store *s, tn_outbox_opts *o, tn_error *err);
TN_API int tn_outbox_config(tn_store *s, int max_attempts, double backoff, tn_error *err);

typedef struct tn_outbox_run {
	long attempted, sent, failed, dead;
	double seconds;
} tn_outbox_run;

/* Deliver every message due (pending, next attempt <= now): claim a batch
 * (hide it for `lease` seconds), send it over libcurl's multi interface
 * (webhooks: POST JSON with Tenure-Signature, Idempotency-Key, Tenure-Event;
 * e-mail: SMTP), then record each outcome in one transaction.  A failure
 * waits backoff x 2^(attempts-1), capped at backoff_max, times a random
 * factor in [0.5, 1] ("equal jitter"); after max_attempts failures the
 * message is dead (the dead-letter state) until retried. */
TN_API int tn_outbox_deliver(tn_store *s, const tn_outbox_opts *o, tn_outbox_run *run, tn_error *err);

/* The wait before retry number ATTEMPTS (>= 1) with jitter draw U in [0, 1). */
TN_API double tn_outbox_backoff(const tn_outbox_opts *o, int attempts, double u);

typedef struct tn_outbox_row {
	int64_t id;
	char *key, *event, *channel, *destination, *status, *customer, *last_error, *payload;
	int attempts;
	tn_time created_at, next_attempt_at, sent_at;
} tn_outbox_row;
/* Messages, newest first; STATUS NULL = all (pending|sent|dead|suppressed);
 * at most LIMIT rows. */
TN_API int tn_outbox_list(tn_store *s, const char *status, long limit, tn_outbox_row **out, size_t *n,
			  tn_error *err);
TN_API void tn_outbox_rows_free(tn_outbox_row *r, size_t n);
/* Counts by status: pending, sent, dead, suppressed. */
TN_API int tn_outbox_counts(tn_store *s, long counts[4], tn_error *err);
/* Put message ID (ID 0: every dead message) back to pending, due NOW, with
 * its attempts reset.  *n gets how many; ID not found is TN_ERR_NOTFOUND. */
TN_API int tn_outbox_retry(tn_store *s, int64_t id, tn_time now, long *n, tn_error *err);

/* ---- e-mail ------------------------------------------------------------------ */

/* SMTP_URL smtp://host:port or smtps://...; FROM the sender's address
 * (optionally "Name <addr>"); PUBLIC_URL the server's address the
 * unsubscribe link points to (http(s)://host[:port]).  NULL keeps a value. */
TN_API int tn_email_config(tn_store *s, const char *smtp_url, const char *from, const char *public_url,
			   tn_error *err);

/* A template: subject, plain text and HTML with {{name}} placeholders.
 * The text form (`tenure email template`) is
 *     Subject: ...\n
 *     \n
 *     plain text ...\n
 *     --- html ---\n
 *     <p>HTML ...</p>\n
 * Placeholders: name, offer, plan, period_end, unsubscribe_url, business.
 * An unknown placeholder or an unclosed {{ is an error naming LINE:COLUMN. */
typedef struct tn_email_template {
	char *subject, *text, *html;
} tn_email_template;
TN_API int tn_email_template_parse(const char *src, size_t len, tn_email_template *out, tn_error *err);
TN_API void tn_email_template_free(tn_email_template *t);
/* Store a template for KIND (winback|offer) in LANG (en|ar|fa). */
TN_API int tn_email_template_set(tn_store *s, const char *kind, const char *lang, const char *src, tn_error *err);

/* Render TEMPLATE with the variables VARS (name, value, name, value, ...;
 * NVARS pairs); HTML escapes the values. */
TN_API int tn_email_render(const char *tmpl, const char *const *vars, size_t nvars, int html, char **out,
			   tn_error *err);
/* The whole MIME message (multipart/alternative, UTF-8, base64 parts,
 * RFC 2047 subject, List-Unsubscribe), right-to-left HTML for ar and fa. */
TN_API int tn_email_build(const char *from, const char *to, const char *lang, const char *subject,
			  const char *text, const char *html, const char *unsubscribe_url, const char *message_id,
			  tn_time date, char **out, tn_error *err);

/* The unsubscribe token of CUSTOMER (ext id) for CHANNEL: hex HMAC-SHA256
 * with the store's secret (65 bytes). */
TN_API int tn_unsubscribe_token(tn_store *s, const char *customer, const char *channel, char out[65],
				tn_error *err);
/* Check TOKEN and record the refusal of CHANNEL for CUSTOMER (source
 * "unsubscribe").  TN_ERR_INPUT for a bad token. */
TN_API int tn_unsubscribe(tn_store *s, const char *customer, const char *channel, const char *token, tn_time now,
			  tn_error *err);

/* ---- consent, quiet hours, erasure ---------------------------------------- */

/* Set CUSTOMER's consent for CHANNEL (email|webhook|sms): GRANTED 1 or 0. */
TN_API int tn_consent_set(tn_store *s, const char *customer, const char *channel, int granted, const char *source,
			  tn_time now, tn_error *err);
/* *granted: the recorded answer, else the default (meta consent_default,
 * "yes" unless set to "no"). */
TN_API int tn_consent_get(tn_store *s, int64_t customer_id, const char *channel, int *granted, tn_error *err);
TN_API int tn_consent_default(tn_store *s, int granted, tn_error *err);
/* Quiet hours [FROM_HOUR, TO_HOUR) local time, e.g. 21 and 8 (the default). */
TN_API int tn_quiet_hours_set(tn_store *s, int from_hour, int to_hour, tn_error *err);

/* The UTC offset in minutes of a time zone: "+03:30", "-5", "UTC+4",
 * "UTC", or a name from the built-in table (Europe/Paris, Asia/Tehran...,
 * standard time: daylight saving is not applied).  -1 when unknown. */
TN_API int tn_tz_offset(const char *tz, int *minutes);
/* The default offset of a country (ISO 3166 alpha-2); -1 when not in the table. */
TN_API int tn_country_offset(const char *country, int *minutes);
/* The first instant >= T outside the quiet hours [from, to) at OFFSET minutes. */
TN_API tn_time tn_quiet_next(tn_time t, int offset_minutes, int from_hour, int to_hour);

/* Erase CUSTOMER's personal data in one transaction (docs/actions.md,
 * "Erasure"): attrs, feedback texts, win-back reasons and offers, the
 * payloads of their messages, their consent rows; the ext id becomes
 * "erased-<N>".  Kept: the subscriptions, payments, events, scores, counts. */
typedef struct tn_erase_result {
	char new_id[32];
	long feedback, messages, contacts;
} tn_erase_result;
TN_API int tn_customer_erase(tn_store *s, const char *customer, tn_time now, tn_erase_result *res, tn_error *err);

/* ---- the scheduler ------------------------------------------------------------ */

/* The jobs, in the order `tenure jobs run` runs them. */
#define TN_JOBS "refresh,alerts,winback,offers,ending,points"

typedef struct tn_jobs_opts {
	tn_time as_of;        /* the run covers up to the end of this day */
	const char *job;      /* one job, or NULL for all */
	double winback_days;  /* contact this many days after churn (default 30) */
	double winback_control; /* share held out as the win-back control group (default 0.1) */
	const char *model_path; /* refresh: score with this model (tenure predict train); NULL: a
				   logistic model fitted on the store at as_of - 30 days */
	double offer_lead;    /* offers this many days before the period end / danger window (default 7) */
	double ending_days;   /* contract ends within this many days (default 30) */
	size_t batch;         /* customers per committed batch (default 1000) */
	int kill_after;       /* tests: SIGKILL itself after this many committed batches (0: never) */
	double retry_wait;    /* a job that failed for this as-of less than this many seconds ago
				 is not run again yet (the scheduler: 600; cron: 0) */
	volatile int *stop;
	int threads;          /* refresh: 2 = read the customers' history in two threads (the same
				 results as one; default 2), 1 = one */
} tn_jobs_opts;

TN_API tn_jobs_opts tn_jobs_opts_default(void);

typedef struct tn_job_result {
	char job[16];
	int skipped;          /* already done up to as_of (or failed recently) */
	int failed;           /* this job failed (detail says why) */
	long items, queued;
	double seconds;
	double cpu_seconds;   /* CPU time of the process (every thread) during the job */
	char detail[200];
} tn_job_result;

/* Run the jobs for the window (watermark, end of as_of]: each job records a
 * run (job_runs) and its watermark; every message is queued with a unique key
 * in the batch's transaction, so a rerun after a crash queues the missing
 * ones and nothing twice.  A job that fails is recorded as failed (its
 * watermark stays) and the others still run; the first failure is returned.
 * RES gets one result per job (up to 8). */
TN_API int tn_jobs_run(tn_store *s, const tn_jobs_opts *o, tn_job_result *res, size_t *nres, tn_error *err);

typedef struct tn_job_info {
	char job[16];
	tn_time last_started, last_finished, watermark, as_of;
	char outcome[16];
	long items;
	double seconds;
	char detail[200];
} tn_job_info;
/* The last run of each job (outcome running|ok|failed|never). */
TN_API int tn_jobs_list(tn_store *s, tn_job_info out[8], size_t *n, tn_error *err);

#endif
