/*
 * consent.c -- per-customer consent per channel, quiet hours in the
 * customer's time zone, and erasure of a person's data
 * (include/tenure/outbox.h; docs/actions.md, "Consent, quiet hours, erasure").
 *
 * Time zones are fixed UTC offsets: the customer attribute `tz` ("+03:30",
 * "UTC-5", or a zone name from the table below), else the country's usual
 * offset, else UTC.  Daylight saving time is not applied: quiet hours may be
 * an hour off in summer in the zones that have it, which the default quiet
 * hours (21:00 to 08:00) absorb.  A table, not the system's tz database,
 * because the scheduler runs inside the server's threads where TZ and
 * localtime are process-wide state.
 */
#include "actions/outbox_internal.h"
#include "base/alloc.h"
#include "store/db.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const CHANNELS[] = {"email", "webhook", "sms", NULL};

static int channel_ok(const char *c)
{
	for (size_t i = 0; c && CHANNELS[i]; i++)
		if (strcmp(c, CHANNELS[i]) == 0)
			return 1;
	return 0;
}

int ob_consent_default(tn_store *s, int *granted, tn_error *err)
{
	char *v = NULL;
	int rc = ob_meta_get(s, OB_CONSENT_DEFAULT, &v, err);
	*granted = !(v && strcmp(v, "no") == 0);
	free(v);
	return rc;
}

int tn_consent_default(tn_store *s, int granted, tn_error *err)
{
	return ob_meta_set(s, OB_CONSENT_DEFAULT, granted ? "yes" : "no", err);
}

int tn_consent_set(tn_store *s, const char *customer, const char *channel, int granted, const char *source,
		   tn_time now, tn_error *err)
{
	if (!channel_ok(channel))
		return tn_error_set(err, TN_ERR_USAGE, "consent: channel email, webhook or sms, found \"%s\"",
				    channel ? channel : "");
	int64_t key;
	int rc = ob_customer_key(s, customer, &key, err);
	if (rc)
		return rc;
	tn_stmt *st = tn_db_cached(s,
				   "INSERT INTO consent(customer_id, channel, granted, source, updated_at) VALUES (?, ?, ?, ?, ?)"
				   " ON CONFLICT (customer_id, channel) DO UPDATE SET granted = excluded.granted,"
				   " source = excluded.source, updated_at = excluded.updated_at",
				   err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, key);
	tn_db_bind_text(st, 2, channel);
	tn_db_bind_int64(st, 3, granted != 0);
	tn_db_bind_text(st, 4, source ? source : "cli");
	tn_db_bind_time(st, 5, now);
	rc = ob_step_done(st, "recording consent", err);
	tn_db_reset(st);
	return rc;
}

int tn_consent_get(tn_store *s, int64_t customer_id, const char *channel, int *granted, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, "SELECT granted FROM consent WHERE customer_id = ? AND channel = ?", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, customer_id);
	tn_db_bind_text(st, 2, channel);
	int rc = tn_db_step(st, "reading consent", err);
	if (rc == TN_DB_ROW) {
		*granted = tn_db_column_int64(st, 0) != 0;
		rc = TN_OK;
	} else if (rc == TN_DB_DONE) {
		rc = ob_consent_default(s, granted, err);
	}
	tn_db_reset(st);
	return rc;
}

int ob_quiet_hours(tn_store *s, int *from, int *to, tn_error *err)
{
	*from = 21;
	*to = 8;
	char *v = NULL;
	int rc = ob_meta_get(s, OB_QUIET_HOURS, &v, err);
	int a, b;
	if (!rc && v && sscanf(v, "%d-%d", &a, &b) == 2 && a >= 0 && a < 24 && b >= 0 && b < 24) {
		*from = a;
		*to = b;
	}
	free(v);
	return rc;
}

int tn_quiet_hours_set(tn_store *s, int from_hour, int to_hour, tn_error *err)
{
	if (from_hour < 0 || from_hour > 23 || to_hour < 0 || to_hour > 23)
		return tn_error_set(err, TN_ERR_USAGE, "quiet hours: expected hours 0 to 23, found %d-%d", from_hour,
				    to_hour);
	char buf[16];
	snprintf(buf, sizeof buf, "%d-%d", from_hour, to_hour);
	return ob_meta_set(s, OB_QUIET_HOURS, buf, err);
}

tn_time tn_quiet_next(tn_time t, int offset_minutes, int from_hour, int to_hour)
{
	if (from_hour == to_hour)
		return t; /* no quiet hours */
	int64_t local = t + (int64_t)offset_minutes * 60;
	int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	int64_t sec = local - day * 86400;
	int64_t f = from_hour * 3600, to = to_hour * 3600;
	int quiet = from_hour < to_hour ? (sec >= f && sec < to) : (sec >= f || sec < to);
	if (!quiet)
		return t;
	int64_t end = day * 86400 + to; /* today's end of quiet */
	if (end <= local)
		end += 86400;
	return end - (int64_t)offset_minutes * 60;
}

/* ---- time zones -------------------------------------------------------------------- */

static const struct {
	const char *name;
	int minutes;
} ZONES[] = {
	{"UTC", 0},
	{"GMT", 0},
	{"Europe/London", 0},
	{"Europe/Lisbon", 0},
	{"Europe/Dublin", 0},
	{"Europe/Paris", 60},
	{"Europe/Berlin", 60},
	{"Europe/Madrid", 60},
	{"Europe/Rome", 60},
	{"Europe/Amsterdam", 60},
	{"Europe/Stockholm", 60},
	{"Europe/Warsaw", 60},
	{"Africa/Lagos", 60},
	{"Africa/Algiers", 60},
	{"Africa/Casablanca", 60},
	{"Africa/Tunis", 60},
	{"Europe/Athens", 120},
	{"Europe/Kyiv", 120},
	{"Africa/Cairo", 120},
	{"Africa/Johannesburg", 120},
	{"Asia/Beirut", 120},
	{"Asia/Jerusalem", 120},
	{"Asia/Amman", 180},
	{"Asia/Damascus", 180},
	{"Europe/Istanbul", 180},
	{"Europe/Moscow", 180},
	{"Asia/Riyadh", 180},
	{"Asia/Baghdad", 180},
	{"Asia/Kuwait", 180},
	{"Asia/Qatar", 180},
	{"Asia/Bahrain", 180},
	{"Africa/Nairobi", 180},
	{"Asia/Tehran", 210},
	{"Asia/Dubai", 240},
	{"Asia/Muscat", 240},
	{"Asia/Baku", 240},
	{"Asia/Kabul", 270},
	{"Asia/Karachi", 300},
	{"Asia/Dushanbe", 300},
	{"Asia/Kolkata", 330},
	{"Asia/Dhaka", 360},
	{"Asia/Bangkok", 420},
	{"Asia/Jakarta", 420},
	{"Asia/Shanghai", 480},
	{"Asia/Singapore", 480},
	{"Asia/Tokyo", 540},
	{"Asia/Seoul", 540},
	{"Australia/Sydney", 600},
	{"Pacific/Auckland", 720},
	{"America/Sao_Paulo", -180},
	{"America/Argentina/Buenos_Aires", -180},
	{"America/New_York", -300},
	{"America/Toronto", -300},
	{"America/Chicago", -360},
	{"America/Mexico_City", -360},
	{"America/Denver", -420},
	{"America/Los_Angeles", -480},
	{"America/Vancouver", -480},
};

/* A country's usual offset: the capital's standard time. */
static const struct {
	char cc[3];
	int minutes;
} COUNTRIES[] = {
	{"GB", 0},    {"IE", 0},    {"PT", 0},    {"IS", 0},    {"MA", 60},   {"DZ", 60},   {"TN", 60},
	{"NG", 60},   {"FR", 60},   {"DE", 60},   {"ES", 60},   {"IT", 60},   {"NL", 60},   {"BE", 60},
	{"CH", 60},   {"AT", 60},   {"SE", 60},   {"NO", 60},   {"DK", 60},   {"PL", 60},   {"CZ", 60},
	{"GR", 120},  {"FI", 120},  {"UA", 120},  {"RO", 120},  {"EG", 120},  {"ZA", 120},  {"LY", 120},
	{"LB", 120},  {"IL", 120},  {"PS", 120},  {"SD", 120},  {"JO", 180},  {"SY", 180},  {"TR", 180},
	{"RU", 180},  {"SA", 180},  {"IQ", 180},  {"KW", 180},  {"QA", 180},  {"BH", 180},  {"YE", 180},
	{"KE", 180},  {"IR", 210},  {"AE", 240},  {"OM", 240},  {"AZ", 240},  {"AF", 270},  {"PK", 300},
	{"TJ", 300},  {"UZ", 300},  {"IN", 330},  {"BD", 360},  {"TH", 420},  {"VN", 420},  {"ID", 420},
	{"CN", 480},  {"SG", 480},  {"MY", 480},  {"PH", 480},  {"JP", 540},  {"KR", 540},  {"AU", 600},
	{"NZ", 720},  {"BR", -180}, {"AR", -180}, {"CL", -240}, {"US", -300}, {"CA", -300}, {"MX", -360},
	{"CO", -300}, {"PE", -300},
};

int tn_tz_offset(const char *tz, int *minutes)
{
	if (!tz || !*tz || strlen(tz) > 64)
		return -1;
	const char *p = tz;
	if (strncasecmp(p, "UTC", 3) == 0 || strncasecmp(p, "GMT", 3) == 0) {
		if (!p[3]) {
			*minutes = 0;
			return 0;
		}
		p += 3;
	}
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, h = 0, m = 0, nd = 0;
		p++;
		while (isdigit((unsigned char)*p) && nd < 2)
			h = h * 10 + (*p++ - '0'), nd++;
		if (nd == 0)
			return -1;
		if (*p == ':' || isdigit((unsigned char)*p)) {
			if (*p == ':')
				p++;
			if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
				return -1;
			m = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		}
		/* Real zones run from -12:00 to +14:00; anything past 14 hours is a typo. */
		if (*p || m > 59 || h * 60 + m > 14 * 60)
			return -1;
		*minutes = sign * (h * 60 + m);
		return 0;
	}
	for (size_t i = 0; i < sizeof ZONES / sizeof ZONES[0]; i++)
		if (strcmp(ZONES[i].name, tz) == 0) {
			*minutes = ZONES[i].minutes;
			return 0;
		}
	return -1;
}

int tn_country_offset(const char *country, int *minutes)
{
	if (!country || strlen(country) != 2)
		return -1;
	for (size_t i = 0; i < sizeof COUNTRIES / sizeof COUNTRIES[0]; i++)
		if (toupper((unsigned char)country[0]) == COUNTRIES[i].cc[0] &&
		    toupper((unsigned char)country[1]) == COUNTRIES[i].cc[1]) {
			*minutes = COUNTRIES[i].minutes;
			return 0;
		}
	return -1;
}

const char *ob_language(const char *attr_language, const char *country)
{
	if (attr_language) {
		if (strncasecmp(attr_language, "ar", 2) == 0)
			return "ar";
		if (strncasecmp(attr_language, "fa", 2) == 0)
			return "fa";
		if (strncasecmp(attr_language, "en", 2) == 0)
			return "en";
	}
	if (country && strlen(country) == 2) {
		static const char *const AR[] = {"SA", "AE", "EG", "IQ", "JO", "KW", "LB", "LY", "MA", "OM", "QA", "SY",
						 "TN", "YE", "BH", "DZ", "SD", "PS", NULL};
		char cc[3] = {(char)toupper((unsigned char)country[0]), (char)toupper((unsigned char)country[1]), 0};
		for (size_t i = 0; AR[i]; i++)
			if (strcmp(AR[i], cc) == 0)
				return "ar";
		if (strcmp(cc, "IR") == 0 || strcmp(cc, "AF") == 0 || strcmp(cc, "TJ") == 0)
			return "fa";
	}
	return "en";
}

/* ---- erasure ------------------------------------------------------------------------ */

static int run_update(tn_store *s, int64_t key, const char *sql, const char *what, long *changed, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, key);
	int rc = ob_step_done(st, what, err);
	if (!rc && changed)
		*changed = (long)tn_db_changes(s);
	tn_db_finalize(st);
	return rc;
}

int tn_customer_erase(tn_store *s, const char *customer, tn_time now, tn_erase_result *res, tn_error *err)
{
	memset(res, 0, sizeof *res);
	(void)now;
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	int64_t key;
	int rc = ob_customer_key(s, customer, &key, err);
	snprintf(res->new_id, sizeof res->new_id, "erased-%lld", (long long)key);
	/* the ext id: the business's handle on the person, replaced by one that
	 * names only the store's row; personal attributes (name, e-mail, phone,
	 * tz, language, anything else in attrs) go */
	if (!rc) {
		tn_stmt *st = tn_db_prepare(s, "UPDATE customers SET ext_id = ?, attrs = '{}' WHERE id = ?", err);
		rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
		if (!rc) {
			tn_db_bind_text(st, 1, res->new_id);
			tn_db_bind_int64(st, 2, key);
			rc = ob_step_done(st, "erasing a customer", err);
		}
		tn_db_finalize(st);
	}
	/* feedback texts go; kind, score, time and the labels' type/theme stay */
	if (!rc)
		rc = run_update(s, key, "UPDATE feedback SET answer = NULL, ext_id = 'erased-' || CAST(id AS TEXT)"
				   " WHERE customer_id = ?",
				"erasing feedback texts", &res->feedback, err);
	if (!rc)
		rc = run_update(s, key, "UPDATE winback_contacts SET reason = NULL, offer = NULL WHERE customer_id = ?",
				"erasing win-back notes", &res->contacts, err);
	/* messages: the contents and addresses go, the rows (event, channel,
	 * status, times) stay as counts; a pending one is not sent */
	if (!rc)
		rc = run_update(s, key,
				"UPDATE outbox SET payload = '{}', address = NULL, last_error = NULL,"
				" status = CASE WHEN status = 'pending' THEN 'suppressed' ELSE status END WHERE customer_id = ?",
				"erasing messages", &res->messages, err);
	if (!rc)
		rc = run_update(s, key, "DELETE FROM consent WHERE customer_id = ?", "erasing consent", NULL, err);
	/* no message may reach them again: every channel refused */
	for (size_t i = 0; !rc && CHANNELS[i]; i++) {
		tn_stmt *st = tn_db_prepare(
			s, "INSERT INTO consent(customer_id, channel, granted, source, updated_at) VALUES (?, ?, 0, 'erased', ?)",
			err);
		rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
		if (!rc) {
			tn_db_bind_int64(st, 1, key);
			tn_db_bind_text(st, 2, CHANNELS[i]);
			tn_db_bind_time(st, 3, now);
			rc = ob_step_done(st, "erasing consent", err);
		}
		tn_db_finalize(st);
	}
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}
