/*
 * outbox_internal.h -- what the outbox, e-mail, consent and jobs modules
 * share (not public): small SQL helpers over db.h and the meta keys.
 */
#ifndef TENURE_OUTBOX_INTERNAL_H
#define TENURE_OUTBOX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "tenure.h"
#include "tenure/outbox.h"
#include "store/db.h"

/* meta keys */
#define OB_SMTP_URL "email.smtp_url"
#define OB_FROM "email.from"
#define OB_PUBLIC_URL "email.public_url"
#define OB_UNSUB_SECRET "email.unsubscribe_secret"
#define OB_TEMPLATE_PREFIX "email.template."
#define OB_CONSENT_DEFAULT "consent.default"
#define OB_QUIET_HOURS "consent.quiet_hours"
#define OB_MAX_ATTEMPTS "outbox.max_attempts"
#define OB_BACKOFF "outbox.backoff"

/* *value malloc'ed, or NULL when the key is absent. */
int ob_meta_get(tn_store *s, const char *key, char **value, tn_error *err);
int ob_meta_set(tn_store *s, const char *key, const char *value, tn_error *err);
/* Run one statement with no parameters that returns no row. */
int ob_exec(tn_store *s, const char *sql, const char *what, tn_error *err);
/* A step that must finish (INSERT/UPDATE/DELETE): TN_OK or the error. */
int ob_step_done(tn_stmt *st, const char *what, tn_error *err);
/* The store key and details of a customer ext id: TN_ERR_NOTFOUND if none. */
int ob_customer_key(tn_store *s, const char *ext_id, int64_t *key, tn_error *err);

/* Quiet hours (from, to) from meta, default 21 and 8. */
int ob_quiet_hours(tn_store *s, int *from, int *to, tn_error *err);
/* Consent default from meta (1 unless "no"). */
int ob_consent_default(tn_store *s, int *granted, tn_error *err);

/* The built-in template of KIND (winback|offer) in LANG (en|ar|fa), in the
 * text form tn_email_template_parse reads. */
const char *ob_builtin_template(const char *kind, const char *lang);
/* The language of a customer: attr language if en/ar/fa, else the country's
 * (ar for Arabic-speaking countries, fa for IR/AF/TJ), else en. */
const char *ob_language(const char *attr_language, const char *country);

/* HMAC-SHA256(key, msg) as 64 hex digits + NUL. */
int ob_hmac_hex(const char *key, size_t keylen, const void *msg, size_t len, char out[65], tn_error *err);

#endif
