/*
 * web_internal.h -- what the dashboard's modules share:
 *   web.c        routing, sessions (cookie, expiry, CSRF), sign-in/out, the page shell, CSV
 *   web_i18n.c   the interface's strings in en/ar/fa, digits, Solar Hijri dates
 *   web_data.c   the analyses run in-process on the server's store, cached per data stamp
 *   web_pages.c  the pages: overview, when, why, who, customer, act, alerts
 * build/gen/web_assets.c (scripts/embed_assets.sh) holds src/web/assets/.
 */
#ifndef TENURE_WEB_INTERNAL_H
#define TENURE_WEB_INTERNAL_H

#include <pthread.h>
#include "server/server_internal.h"
#include "tenure/svg.h"
#include "web/web.h"

/* ---- embedded assets (generated) ---- */
typedef struct web_asset {
	const char *name; /* "app.css" */
	const unsigned char *data;
	size_t len;
} web_asset;
extern const web_asset web_assets[];
extern const size_t web_nassets;

/* ---- languages and strings ---- */
enum { L_EN, L_AR, L_FA, L_N };
enum {
#define S(id, en, ar, fa) id,
#include "web/web_strings.def"
#undef S
	S_N
};

/* ---- one request ---- */
typedef struct web_ctx {
	tn_server *sv;
	struct tn_web *w;
	const tn_http_request *rq;
	int lang;          /* L_* */
	int native;        /* numbers in the language's own digits */
	int solar;         /* dates in the Solar Hijri calendar */
	int scope;         /* the session's SCOPE_* bits */
	int64_t key_id;    /* the session's key (the audit names it) */
	char csrf[65];     /* the session's CSRF token */
	tn_sbuf html;      /* the page's <main> */
	tn_sbuf csv;       /* what the page shows, as CSV */
	tn_sbuf hdr;       /* extra response headers */
	int nfig;          /* charts and tables so far (their ids) */
	int computing;     /* values the page wanted that are being computed */
	double as_of;      /* wall clock when its oldest cached value was computed (0: none) */
} web_ctx;

const char *T(const web_ctx *c, int id);
/* A library-produced English label (a table's title or column) in C's
 * language when the dictionary has it, else as is. */
const char *TD(const web_ctx *c, const char *english);
const char *web_lang_code(int lang);
/* A query parameter's value (NULL when absent). */
const char *web_q(const web_ctx *c, const char *name);

/* Numbers and dates as the language shows them (BUF of N bytes, returned). */
char *web_num(const web_ctx *c, double v, int digits, char *buf, size_t n);
char *web_pct(const web_ctx *c, double fraction, int digits, char *buf, size_t n);
char *web_date(const web_ctx *c, tn_time t, char *buf, size_t n);
char *web_month(const web_ctx *c, tn_time t, char *buf, size_t n);
/* Localise the digits of a number-like string. */
char *web_digits(const web_ctx *c, const char *in, char *buf, size_t n);

/* The library's plain words in C's language (web_words.c): a risk reason
 * (message id + parameters) and an alert's detail. */
struct tn_reason_msg;
void web_reason(const web_ctx *c, const struct tn_reason_msg *r, char *buf, size_t n);
void web_alert_detail(const web_ctx *c, const char *detail, char *buf, size_t n);
/* One of the library's readings or table words (English) in C's language:
 * 1 with BUF written, 0 when it is English or no template matches. */
int web_reading(const web_ctx *c, const char *en, char *buf, size_t n);

/* ---- writing the page ---- */
void web_esc(web_ctx *c, const char *s);
/* An HTML href to PATH with the current query, NAME set to VALUE (or
 * removed when VALUE is NULL); NAME may be NULL. */
void web_href(web_ctx *c, tn_sbuf *b, const char *path, const char *name, const char *value);

enum { COL_TEXT = 0, COL_NUM = 1, COL_SAID = 2, COL_CUSTOMER = 3 };
/* A sortable, paged table with a heading (TITLE), a reading under it (or
 * NULL), NCOLS columns of KIND (COL_*), NROWS rows of CELLS (row-major, raw
 * values: numbers with '.' decimals, localised here); also added to the CSV. */
void web_table(web_ctx *c, const char *title, const char *reading, size_t ncols, const char *const *cols,
	       const int *kind, size_t nrows, const char *const *cells);
/* A chart: SVG (from tn_svg_*) inside a figure with TITLE as its accessible
 * name and a caption. */
void web_chart(web_ctx *c, const char *title, const char *caption, const tn_sbuf *svg);
/* S percent-encoded for a URL. */
void web_url_enc(tn_sbuf *b, const char *s);
/* One CSV cell (quoted when needed, formulas defused). */
void web_csv_cell(tn_sbuf *b, const char *s);
void web_p(web_ctx *c, const char *cls, const char *text);
void web_h2(web_ctx *c, const char *text);

/* ---- data (web_data.c) ---- */
struct web_cache;
typedef struct web_cache web_cache;
web_cache *web_cache_new(const char *db_path);
web_cache *web_cache_of(struct tn_web *w);
void web_cache_free(web_cache *wc);
/* Shutdown: cancel the computation in progress (it is not kept) and start
 * no other; web_cache_free then joins the warming thread at once. */
void web_cache_stop(web_cache *wc);
/* The value cached under KEY for the store's current data (computing it
 * with MAKE(ctx, store, arg) when absent or stale); NULL with ERR on failure.
 * The value stays valid while the caller holds the read lock that
 * web_data_begin takes; web_data_end releases it. */
typedef void *(*web_make_fn)(tn_store *s, const char *arg, tn_error *err);
/* The values the warming thread keeps ready (web_pages.c). */
typedef struct web_warm_item {
	const char *kind, *arg;
	web_make_fn make;
	void (*drop)(void *);
} web_warm_item;
extern const web_warm_item web_warm[];
extern const size_t web_nwarm;
/* The data stamp the warming thread computes for (set before each MAKE;
 * makers run only on that thread), and its cleanup (web_pages.c). */
extern _Thread_local long long web_make_stamp;
/* The CPU seconds of helper threads a MAKE ran for its value (the
 * insights' scoring, web_pages.c), zeroed before each MAKE and counted in
 * its logged CPU; web_thread_cpu() is the calling thread's CPU seconds. */
extern _Thread_local double web_make_helper_cpu;
double web_thread_cpu(void);
/* The warming threads (1 or 2, TENURE_WEB_THREADS; web_data.c), which one
 * computes KIND (web_pages.c; 0 with one thread), and the lane of the
 * thread a MAKE runs on. */
extern int web_nlanes;
int web_lane(const char *kind);
extern _Thread_local int web_make_lane;
void web_pages_thread_end(void);
/* The values of KIND worth computing right after D (their arguments into
 * OUT, at most MAX): /when's survival by every other attribute, while the
 * churn frame they share is in memory (web_pages.c). */
size_t web_related(const char *kind, const void *d, char (*out)[128], size_t max);
/* Start the warming thread (once; at the first dashboard request). */
void web_data_warm(web_ctx *c);
/* Drop the cached values of KIND (after the dashboard's own write to them). */
void web_data_forget(web_ctx *c, const char *kind);
void web_data_begin(web_ctx *c);
/* Wait (web_data_begin held, released meanwhile) until a value is put or
 * server_now() reaches UNTIL; 0 when UNTIL has passed. */
int web_data_wait(web_ctx *c, double until);
/* How long a page waits for values not computed yet (seconds; web.c). */
double web_wait_budget(void);
void web_data_end(web_ctx *c);
void *web_data(web_ctx *c, const char *kind, const char *arg, web_make_fn make, void (*drop)(void *),
	       tn_error *err);
/* The dashboard's own writes (an acknowledged alert, a session): BEGIN
 * before the write returns the data version before it; after the write,
 * OWN_WRITE keeps the cached analyses (they do not read what was written) by
 * moving them to the new version; a write that does not happen (an error
 * before it) calls ABANDON instead.  Between the two the warming threads
 * compute nothing, so they never redo what the rebase keeps. */
long long web_data_write_begin(web_ctx *c);
void web_data_own_write(web_ctx *c, long long stamp_before);
void web_data_write_abandon(web_ctx *c);
/* A writable connection to the server's store for one action (caller closes). */
tn_store *web_store_open(web_ctx *c, tn_error *err);

/* ---- persisted values (web_store.c, web_data.c; migration 19) ---- */
/* The store's data version: a hash of indexed maxima of what the analyses
 * read (web_store.c says which); cheap, and unmoved by writes the figures
 * do not read. */
int web_store_data_version(tn_store *s, long long *version, tn_error *err);
int web_store_cache_put(tn_store *s, const char *key, long long version, double computed_at, double took,
			const void *value, size_t len, tn_error *err);
/* After the dashboard's own write: the kept values of BEFORE are of AFTER. */
int web_store_cache_rebase(tn_store *s, long long before, long long after, tn_error *err);
/* Forget the kept values whose key is LIKE the pattern. */
int web_store_cache_forget(tn_store *s, const char *like, tn_error *err);
/* Call FN for each kept value, smallest first; FN returns nonzero to stop. */
/* WANT (NULL: every key) says which keys to read, before their value is read. */
int web_store_cache_each(tn_store *s, int (*want)(void *ctx, const char *key),
			 int (*fn)(void *ctx, const char *key, long long version, double computed_at, double took,
				   const void *value, size_t len),
			 void *ctx, tn_error *err);
/* A value's serialised form: binary, in this build's layout (the key names
 * the kind's layout, web_codec.format, so another build's rows are recomputed,
 * never misread). */
typedef struct web_unpack {
	const unsigned char *p;
	size_t n, off;
	int bad; /* read past the end or a length out of bounds */
} web_unpack;
void wpk_raw(tn_sbuf *b, const void *p, size_t n); /* N bytes, with their length */
void wpk_u64(tn_sbuf *b, uint64_t v);
void wpk_f64(tn_sbuf *b, double v);
void wpk_str(tn_sbuf *b, const char *s); /* NULL kept as NULL */
void wpk_f64s(tn_sbuf *b, const double *v, size_t n);
/* Readers: on a bad blob they set U->bad and return 0 / NULL. */
int wun_raw(web_unpack *u, void *p, size_t n); /* 0 unless exactly N bytes were kept */
uint64_t wun_u64(web_unpack *u);
double wun_f64(web_unpack *u);
char *wun_str(web_unpack *u);      /* allocated (free()); NULL for a kept NULL or a bad blob */
/* a string into DST of CAP bytes (what wpk_str kept): 0 and U bad unless it
 * fits with its '\0' (a NULL string does not) */
int wun_strcpy(web_unpack *u, char *dst, size_t cap);
double *wun_f64s(web_unpack *u, size_t n); /* allocated, N values */
size_t wun_count(web_unpack *u, size_t each); /* a count of items of at least EACH bytes that fits */
typedef struct web_codec {
	const char *kind;
	const char *format; /* the kind's layout: kept rows of another layout are not read (recomputed) */
	web_make_fn make;
	void (*drop)(void *);
	void (*pack)(const void *d, tn_sbuf *b);
	void *(*unpack)(web_unpack *u); /* NULL when U is bad */
	/* A large value (/who's every live customer, every alert) is kept in
	 * two rows: the head (what a page shows: small, loaded first after a
	 * restart) and the tail (the rest, loaded last: only a download or an
	 * action reads it).  NULL for the kinds kept in one row. */
	void (*pack_tail)(const void *d, tn_sbuf *b);
	void *(*unpack_tail)(web_unpack *u);  /* NULL when U is bad */
	void (*attach_tail)(void *d, void *tail); /* takes TAIL (dropped when D has one) */
	int (*has_tail)(const void *d);
} web_codec;
extern const web_codec web_codecs[];
/* /act's record of what was done (web_act.c), kept like the analyses */
void *web_make_done(tn_store *s, const char *arg, tn_error *err);
void web_drop_done(void *x);
void web_pack_done(const void *d, tn_sbuf *b);
void *web_unpack_done(web_unpack *u);
/* 1 once the kept values are loaded (web_data_begin held). */
int web_data_loaded(web_ctx *c);
extern const size_t web_ncodecs;

/* ---- pages (web_pages.c) ---- */
void page_overview(web_ctx *c);
void page_when(web_ctx *c);
void page_why(web_ctx *c);
void page_who(web_ctx *c);
void page_customer(web_ctx *c, const char *id);
void page_act(web_ctx *c);
void page_alerts(web_ctx *c);
/* ---- the state-changing actions of /act (web_act.c) ---- */
struct tn_scores;
int web_who_scores(web_ctx *c, struct tn_scores **out, tn_error *err);
/* The plan proposed on /act: the default settings of its form. */
#define WEB_PLAN_COST 5.0
#define WEB_PLAN_ACCEPT 0.3
#define WEB_PLAN_CONTROL 0.1
typedef struct web_plan_figures {
	size_t candidates, offers, control;
	double spend, gain;
} web_plan_figures;
/* The default plan's figures over the /who scores, computed once per cached
 * value (web_data_begin held). */
int web_who_plan(web_ctx *c, web_plan_figures *out, tn_error *err);
/* The offer plan to approve and the campaign to start, with their forms
 * (admin) and what was approved and started. */
void act_controls(web_ctx *c);
/* POST /act/plan/approve and /act/campaign/start (CSRF and admin checked by
 * the caller): 0 done (*repeat 1 when it had been done already) and a
 * sentence for the page in MSG. */
int action_approve_plan(web_ctx *c, int64_t key_id, int *repeat, char *msg, size_t n, tn_error *err);
int action_start_campaign(web_ctx *c, int64_t key_id, int *repeat, char *msg, size_t n, tn_error *err);
/* POST /act/plan/withdraw (CSRF and admin checked by the caller): withdraw
 * the plan in force (the form's "plan" names it), as `tenure offers
 * withdraw`; TN_ERR_NOTFOUND with MSG when it is not in force. */
int action_withdraw_plan(web_ctx *c, int64_t key_id, char *msg, size_t n, tn_error *err);
/* The audit of the dashboard's state-changing actions (web_audit). */
int web_audit(tn_store *s, int64_t key_id, const char *action, const char *target, const char *outcome,
	      const char *detail, tn_error *err);
/* Audit a refused POST to PATH (an action's path; others are not audited). */
void web_audit_refused(web_ctx *c, int64_t key_id, const char *path, const char *why);
/* Sessions kept in the store (web_sessions): HASH is the token's SHA-256 in hex. */
int web_session_save(tn_store *s, const char *hash, int64_t key_id, int64_t now, int64_t expires, tn_error *err);
/* 0 with *found; expired rows are deleted on the way. */
int web_session_load(tn_store *s, const char *hash, int64_t now, int64_t *key_id, int64_t *expires, int *found,
		     tn_error *err);
int web_session_delete(tn_store *s, const char *hash, tn_error *err);

/* POST /alerts/{id}/ack (CSRF and admin checked by the caller): 0 done. */
int action_ack(web_ctx *c, const char *id, tn_error *err);

#endif
