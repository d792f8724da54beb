/*
 * tenure/sources.h -- subscriptions from where they live: App Store Server
 * Notifications V2, Google Play real-time developer notifications, Stripe
 * webhooks and RevenueCat webhooks (docs/sources.md).
 *
 * The flow, for a webhook and for `tenure import SOURCE FILE` alike:
 *   1. verify   the source's own signature (App Store: ES256 JWS with an x5c
 *               chain to the configured root; Google: the Pub/Sub push's OIDC
 *               RS256 token; Stripe: HMAC-SHA256 of "t.body"; RevenueCat: the
 *               configured Authorization) -- nothing unverified goes further;
 *   2. decode   the notification into one tn_source_note: which customer and
 *               subscription, the state and cause it reports, a payment;
 *   3. store    in one transaction: the raw body (deduplicated on the
 *               source's notification id), the customer and subscription
 *               when first seen, the exact state (subscription_state) through
 *               one state machine common to all sources, the coarse
 *               subscriptions.status the analyses read, and the payment.
 * `tenure sources replay` runs step 3 again over every kept raw body, in the
 * order received, and arrives at exactly the same state.
 *
 * Configured sources live in the store (table sources, migration 9); a
 * Stripe signing secret must be kept as given (HMAC needs it), a RevenueCat
 * Authorization value is kept as its SHA-256 only.
 */
#ifndef TENURE_SOURCES_H
#define TENURE_SOURCES_H

#include <stddef.h>
#include <stdint.h>
#include "tenure/error.h"
#include "tenure/store.h"

enum { TN_SRC_APPSTORE = 1, TN_SRC_GOOGLEPLAY = 2, TN_SRC_STRIPE = 3, TN_SRC_REVENUECAT = 4 };

/* "appstore", "googleplay", "stripe", "revenuecat"; NULL for another value. */
TN_API const char *tn_source_kind_name(int kind);
/* The kind named NAME, or 0. */
TN_API int tn_source_kind_parse(const char *name);

/* SHA-256 fingerprint of Apple Root CA - G3 (Apple's certificate authority
 * page; the same constant in Apple's app-store-server-library). */
#define TN_APPLE_ROOT_G3_SHA256 \
	"63343ABFB89A6A03EBB57E9B3F5FA7BE7C4F5C756F3017B3A8C488C3653E9179"

/* ---- configuration ---------------------------------------------------------- */

typedef struct tn_source_spec {
	int kind;
	/* appstore */
	const char *bundle_id;
	int64_t app_apple_id;        /* 0: not configured (refused for Production) */
	const char *environment;     /* Production | Sandbox */
	const char *root_pem;        /* the root certificate, PEM or DER bytes */
	size_t root_len;
	int test_root;               /* skip the Apple Root CA - G3 fingerprint check */
	/* googleplay */
	const char *package;
	const char *audience;        /* NULL: not checked */
	const char *service_account; /* NULL: not checked */
	const char *jwks;            /* JSON Web Key Set text; NULL: no bearer token check */
	/* stripe */
	const char *secret;          /* whsec_... */
	/* revenuecat */
	const char *authorization;   /* the Authorization header value to expect */
} tn_source_spec;

/* Check SPEC (the root certificate parses and, unless test_root, is Apple
 * Root CA - G3; the JWKS parses; ...) and add it; *id is the new source. */
TN_API int tn_sources_add(tn_store *s, const tn_source_spec *spec, tn_time now, int64_t *id, tn_error *err);
/* Mark source ID removed (its notifications are kept); TN_ERR_NOTFOUND. */
TN_API int tn_sources_remove(tn_store *s, int64_t id, tn_time now, tn_error *err);
/* The configured sources as a JSON array (secrets shown by their prefix
 * only), malloc'ed into *json. */
TN_API int tn_sources_list_json(tn_store *s, char **json, tn_error *err);

/* ---- verification ------------------------------------------------------------ */

/* The loaded configuration of every live source, with the App Store chain
 * cache; safe to share between threads once loaded. */
typedef struct tn_sources tn_sources;

TN_API int tn_sources_load(tn_store *s, tn_sources **out, tn_error *err);
TN_API void tn_sources_free(tn_sources *c);
/* A cheap fingerprint of the configuration (changes on add and remove), to
 * tell when a loaded tn_sources is stale. */
TN_API int tn_sources_generation(tn_store *s, int64_t *gen, tn_error *err);
TN_API int64_t tn_sources_loaded_generation(const tn_sources *c);

/* What a request carried. */
typedef struct tn_source_request {
	const char *body;
	size_t len;
	const char *authorization; /* Authorization header (RevenueCat; Google's bearer token) */
	const char *signature;     /* Stripe-Signature header */
	tn_time now;               /* when it was received (Stripe's tolerance, token expiry) */
} tn_source_request;

/* Why a request was refused: the HTTP status a webhook answers. */
enum {
	TN_SRC_OK = 0,
	TN_SRC_MALFORMED = 400, /* not a notification of this source */
	TN_SRC_BAD_SIGNATURE = 401, /* signature, chain, token or header wrong */
	TN_SRC_MISMATCH = 403,  /* verified, but for another app, package or environment */
	TN_SRC_NO_SOURCE = 404  /* no source of this kind is configured */
};

/* What one notification says, whatever the source.  Strings point into
 * buffers owned by the note (tn_source_note_free). */
typedef struct tn_source_note {
	int kind;
	int64_t source_id;
	char *dedupe;          /* notificationUUID, messageId, event id */
	char *type;            /* the source's type[/subtype] */
	tn_time event_at;      /* when the source says it happened */
	int test;              /* a test notification: kept, no state */
	/* the subscription (NULL subscription: the notification changes none) */
	char *customer;        /* app account token, app_user_id, Stripe customer, else SOURCE:original id */
	char *subscription;    /* SOURCE:original transaction id / purchase token / Stripe subscription */
	char *product;
	const char *period;    /* day|week|month|quarter|year, NULL if unknown */
	double price;          /* per period, NAN if unknown */
	char currency[4];
	tn_time started_at, trial_ends_at;
	const char *state;     /* NULL: keep the current state */
	const char *cause;     /* for expired/refunded; NULL: derived from the state before */
	const char *pending_cause; /* the cause should it expire now (auto-renew off for a price increase) */
	int auto_renew;        /* 1, 0, -1 unknown */
	tn_time expires_at;    /* TN_NO_TIME if not said */
	/* a payment (pay_status NULL: none) */
	const char *pay_status; /* succeeded|failed|refunded */
	double pay_amount;
	char pay_currency[4];
	char *pay_id;
	tn_time paid_at;
	/* owned storage */
	char *body;            /* the raw body as kept */
	size_t body_len;
} tn_source_note;

TN_API void tn_source_note_free(tn_source_note *n);

/* Verify REQ as a notification of KIND against the configured sources and
 * decode it into *note.  TN_OK, or TN_ERR_INPUT with *refusal (TN_SRC_*) and
 * ERR saying exactly what was wrong; TN_ERR_NOMEM. */
TN_API int tn_sources_verify(tn_sources *c, int kind, const tn_source_request *req, tn_source_note *note,
			     int *refusal, tn_error *err);

/* What tn_sources_store did. */
enum { TN_SRC_APPLIED = 1, TN_SRC_DUPLICATE = 2, TN_SRC_STALE = 3, TN_SRC_STORED = 4 };

/* Store a verified NOTE received at NOW: the raw body (a duplicate id
 * changes nothing: *outcome TN_SRC_DUPLICATE), and its effect on the
 * customer, subscription, state and payments.  Call inside a transaction. */
TN_API int tn_sources_store(tn_store *s, const tn_source_note *note, tn_time now, int *outcome, tn_error *err);

/* Decode a kept raw body of KIND again (its signature was verified when it
 * was received), for replay. */
TN_API int tn_sources_decode(int kind, const char *body, size_t len, tn_source_note *note, tn_error *err);

/* Rebuild every source-managed subscription's state from the kept raw
 * bodies, in the order received, in one transaction.  *n notifications. */
TN_API int tn_sources_replay(tn_store *s, long long *n, tn_error *err);

/* `tenure customers link KEEP ALIAS`: customer ALIAS (say appstore:1000...,
 * known only by its store id) is customer KEEP: ALIAS's subscriptions and
 * payments move to KEEP, and every later notification naming ALIAS is
 * KEEP's.  KEEP must exist; ALIAS need not yet.  *moved counts the
 * subscriptions moved. */
TN_API int tn_customers_link(tn_store *s, const char *keep, const char *alias, tn_time now, long long *moved,
			     tn_error *err);

/* A purchases.subscriptionsv2 resource (with a "purchaseToken" member
 * added) as the full state of a Google Play subscription; kept like a
 * notification and applied the same way. */
TN_API int tn_sources_googleplay_state(const char *json, size_t len, tn_time now, tn_source_note *note,
				       tn_error *err);

#endif
