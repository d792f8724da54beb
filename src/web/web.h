/*
 * web.h -- the dashboard served by `tenure serve` (docs/dashboard.md): HTML
 * pages for a retention team, in English, Arabic and Persian, signed in with
 * an API key and kept in an in-memory session.  The server's router
 * (src/server/routes.c) hands every path that is not an API route here.
 */
#ifndef TENURE_WEB_H
#define TENURE_WEB_H

#include "tenure/server.h"

struct tn_web;

/* Make SV's dashboard state (sessions, the signing secret, the caches). */
int web_new(tn_server *sv, tn_error *err);
void web_free(struct tn_web *w);
/* Shutdown begins: the dashboard's analysis in progress is cancelled. */
void web_stop(struct tn_web *w);

/* Answer RQ when it is one of the dashboard's paths: 1 and RS filled;
 * 0 when the path is not the dashboard's (the caller answers 404). */
int web_handle(tn_server *sv, const tn_http_request *rq, tn_http_response *rs);

/* ---- pieces with unit tests (tests/unit/test_web.c) ---- */

/* Gregorian Y-M-D to the Solar Hijri (Jalali) calendar. */
void web_jalali(int gy, int gm, int gd, int *jy, int *jm, int *jd);
/* Copy IN to OUT (size N, always terminated) with ASCII digits written in
 * LANG's digits ("ar": Arabic-Indic, "fa": Persian) and, when SEPARATORS,
 * ',' and '.' as the Arabic thousands and decimal separators. */
char *web_native_digits(const char *lang, const char *in, int separators, char *out, size_t n);
/* The value of cookie NAME in a Cookie header into OUT (size N): 0 found,
 * -1 absent or longer than N - 1. */
int web_cookie(const char *header, const char *name, char *out, size_t n);
/* URL-decode the value of field NAME of an application/x-www-form-urlencoded
 * body into OUT (size N): 0 found, -1 absent or too long. */
int web_form(const char *body, size_t len, const char *name, char *out, size_t n);

#endif
