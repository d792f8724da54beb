/*
 * test_web_persist.c -- the dashboard's kept figures (migration 19,
 * src/web/web_data.c, web_store.c, web_pages.c): every value the warming
 * thread computes on a small demo store packs and unpacks to the same bytes;
 * every truncated blob is refused (never misread); a value kept in two rows
 * (head and tail) is whole again once its tail is attached; the data version moves
 * with the data the figures read and not with writes they do not read; the
 * rows round-trip through dashboard_cache; the library's readings are
 * written in Arabic and Persian with the page's digits.
 */
#include "store_util.h"
#include "tenure.h"
#include "tenure/demo.h"
#include "web/web_internal.h"
#include "store/db.h"

#include <math.h>
#include <unistd.h>

static char dir[64], db[96];

static tn_store *demo_store(void)
{
	snprintf(dir, sizeof dir, "/tmp/tenure_test_persist_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/t.db", dir);
	tn_store *s;
	tn_error err = {0};
	assert_int_equal(tn_store_open(db, TN_STORE_CREATE, &s, &err), TN_OK);
	tn_demo_opts o = {.customers = 300, .months = 6, .seed = 3, .end = 1719705600};
	tn_demo_result res;
	assert_int_equal(tn_demo_generate(s, &o, &res, &err), TN_OK);
	return s;
}

static void cleanup(tn_store *s)
{
	tn_store_close(s);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static const char *arg_of(const char *kind)
{
	return strcmp(kind, "rates") == 0 ? "1|plan" : strcmp(kind, "survival") == 0 ? "plan"
		     : strcmp(kind, "alerts") == 0 ? "0" : NULL;
}

static void test_roundtrip(void **state)
{
	(void)state;
	tn_store *s = demo_store();
	tn_error err = {0};
	long long v0;
	assert_int_equal(web_store_data_version(s, &v0, &err), TN_OK);
	web_make_stamp = v0;
	for (size_t i = 0; i < web_ncodecs; i++) {
		const web_codec *cd = &web_codecs[i];
		void *d = cd->make(s, arg_of(cd->kind), &err);
		if (!d)
			fail_msg("%s: %s", cd->kind, err.msg);
		tn_sbuf a = {0}, b = {0};
		cd->pack(d, &a);
		assert_false(a.oom);
		assert_true(a.len > 0);
		if (strcmp(cd->kind, "summary") == 0) /* field by field: 19 numbers, the currency with its length */
			assert_int_equal(a.len, 20 * 8 + strlen(((const tn_summary *)d)->currency));
		web_unpack u = {(const unsigned char *)a.p, a.len, 0, 0};
		void *back = cd->unpack(&u);
		if (!back || u.bad || u.off != u.n)
			fail_msg("%s: kept value not read back", cd->kind);
		cd->pack(back, &b);
		/* the same bytes: nothing lost or changed on the way */
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.p, b.p, a.len);
		if (cd->pack_tail) { /* kept in two rows: the tail attaches to the head read back */
			tn_sbuf ta = {0}, tb = {0};
			cd->pack_tail(d, &ta);
			assert_false(ta.oom);
			if (strcmp(cd->kind, "who") == 0)
				assert_false(cd->has_tail(back)); /* the head alone: every customer still to load */
			web_unpack tu = {(const unsigned char *)ta.p, ta.len, 0, 0};
			void *tail = cd->unpack_tail(&tu);
			if (!tail || tu.bad || tu.off != tu.n)
				fail_msg("%s: kept tail not read back", cd->kind);
			cd->attach_tail(back, tail);
			assert_true(cd->has_tail(back));
			cd->pack_tail(back, &tb);
			assert_int_equal(ta.len, tb.len);
			assert_memory_equal(ta.p, tb.p, ta.len);
			/* a second tail is dropped, not attached twice */
			web_unpack tu2 = {(const unsigned char *)ta.p, ta.len, 0, 0};
			cd->attach_tail(back, cd->unpack_tail(&tu2));
			for (size_t len = 0; len < ta.len; len += (len < 512 ? 1 : (ta.len > 4000 ? ta.len / 4000 : 1))) {
				web_unpack t = {(const unsigned char *)ta.p, len, 0, 0};
				void *x = cd->unpack_tail(&t);
				if (x && !t.bad && t.off == t.n)
					fail_msg("%s: a tail cut at %zu of %zu bytes was read", cd->kind, len, ta.len);
				if (x)
					cd->attach_tail(NULL, x);
			}
			tn_sbuf_free(&ta);
			tn_sbuf_free(&tb);
		}
		cd->drop(back);
		/* every shorter blob is refused; at most 4,000 lengths a value */
		size_t step = a.len > 4000 ? a.len / 4000 : 1;
		for (size_t len = 0; len < a.len; len += (len < 512 ? 1 : step)) {
			web_unpack t = {(const unsigned char *)a.p, len, 0, 0};
			void *x = cd->unpack(&t);
			if (x && !t.bad && t.off == t.n)
				fail_msg("%s: a blob cut at %zu of %zu bytes was read", cd->kind, len, a.len);
			if (x)
				cd->drop(x);
		}
		/* and through the store */
		char key[64];
		snprintf(key, sizeof key, "%s|%s|test", cd->kind, arg_of(cd->kind) ? arg_of(cd->kind) : "");
		assert_int_equal(web_store_cache_put(s, key, v0, 1.5, 0.25, a.p, a.len, &err), TN_OK);
		tn_sbuf_free(&a);
		tn_sbuf_free(&b);
		cd->drop(d);
	}
	web_pages_thread_end();
	cleanup(s);
}

/* The alert inbox is kept field by field (format 4): the blob holds each
 * alert's numbers and its strings' bytes, nothing else -- no padding and no
 * bytes after a string's end (uninitialised memory written to the store,
 * different on every run, before).  Two equal lists pack to the same bytes;
 * a blob reads back to the same value; every shorter blob is refused. */
static void test_alerts_blob(void **state)
{
	(void)state;
	tn_store *s = demo_store();
	tn_error err = {0};
	tn_pred_alert_opts o = tn_pred_alert_opts_default();
	o.as_of = 1719705600 - 86400;
	tn_pred_alert_run run;
	if (tn_pred_alerts_update(s, &o, &run, &err))
		fail_msg("alerts: %s", err.msg);
	tn_pred_alert *al = NULL;
	size_t n = 0;
	assert_int_equal(tn_pred_alerts_list(s, INT64_MIN, 1, &al, &n, &err), TN_OK);
	assert_true(n > 0);
	const web_codec *cd = NULL;
	for (size_t i = 0; i < web_ncodecs; i++)
		if (strcmp(web_codecs[i].kind, "alerts") == 0)
			cd = &web_codecs[i];
	assert_non_null(cd);
	void *d1 = cd->make(s, "1", &err), *d2 = cd->make(s, "1", &err);
	assert_non_null(d1);
	assert_non_null(d2);
	tn_sbuf a = {0}, b = {0};
	cd->pack(d1, &a);
	cd->pack(d2, &b);
	assert_false(a.oom || b.oom);
	/* exactly the fields: the total, the count, per shown alert six numbers and three strings */
	size_t shown = n < 200 ? n : 200, want = 16;
	for (size_t i = 0; i < shown; i++)
		want += 9 * 8 + strlen(al[i].customer) + strlen(al[i].kind) + strlen(al[i].detail);
	assert_int_equal(a.len, want);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.p, b.p, a.len);
	web_unpack u = {(const unsigned char *)a.p, a.len, 0, 0};
	void *back = cd->unpack(&u);
	assert_non_null(back);
	assert_false(u.bad);
	assert_int_equal(u.off, u.n);
	tn_sbuf c = {0};
	cd->pack(back, &c);
	assert_int_equal(c.len, a.len);
	assert_memory_equal(c.p, a.p, a.len);
	for (size_t len = 0; len < a.len; len++) {
		web_unpack t = {(const unsigned char *)a.p, len, 0, 0};
		void *x = cd->unpack(&t);
		if (x && !t.bad && t.off == t.n)
			fail_msg("alerts: a blob cut at %zu of %zu bytes was read", len, a.len);
		if (x)
			cd->drop(x);
	}
	/* a string longer than its field is refused, not cut */
	tn_sbuf big = {0};
	wpk_u64(&big, 1);
	wpk_u64(&big, 1);
	wpk_u64(&big, 7);
	char longid[200];
	memset(longid, 'x', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	wpk_str(&big, longid);
	for (int k = 0; k < 8; k++)
		wpk_u64(&big, 0);
	web_unpack ub = {(const unsigned char *)big.p, big.len, 0, 0};
	assert_null(cd->unpack(&ub));
	assert_true(ub.bad);
	tn_sbuf_free(&big);
	tn_sbuf_free(&a);
	tn_sbuf_free(&b);
	tn_sbuf_free(&c);
	cd->drop(back);
	cd->drop(d1);
	cd->drop(d2);
	free(al);
	web_pages_thread_end();
	cleanup(s);
}

static int count_rows(void *ctx, const char *key, long long version, double computed_at, double took,
		      const void *value, size_t len)
{
	(void)key;
	(void)value;
	size_t *n = ctx;
	assert_true(len > 0);
	assert_true(computed_at == 1.5 && took == 0.25 && version != 0);
	(*n)++;
	return 0;
}

static void exec_sql(tn_store *s, const char *sql)
{
	tn_error err = {0};
	tn_stmt *st = tn_db_prepare(s, sql, &err);
	assert_non_null(st);
	assert_int_equal(tn_db_step(st, "test", &err), TN_DB_DONE);
	tn_db_finalize(st);
}

static void test_version(void **state)
{
	(void)state;
	tn_store *s = demo_store();
	tn_error err = {0};
	long long v0, v1;
	assert_int_equal(web_store_data_version(s, &v0, &err), TN_OK);
	assert_int_equal(web_store_data_version(s, &v1, &err), TN_OK);
	assert_true(v0 == v1);
	/* writes the figures do not read */
	assert_int_equal(web_session_save(s, "ab", 1, 10, 20, &err), TN_OK);
	assert_int_equal(web_audit(s, 1, "ack_alert", "1", "done", "", &err), TN_OK);
	assert_int_equal(web_store_cache_put(s, "k||x", v0, 1.5, 0.25, "x", 1, &err), TN_OK);
	assert_int_equal(web_store_data_version(s, &v1, &err), TN_OK);
	assert_true(v0 == v1);
	size_t n = 0;
	assert_int_equal(web_store_cache_each(s, NULL, count_rows, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	/* a new customer, a cancellation in place: the version moves */
	exec_sql(s, "INSERT INTO customers(ext_id, signed_up_at, country, channel, attrs) VALUES ('NEW', 1, 'US', 'x', '{}')");
	assert_int_equal(web_store_data_version(s, &v1, &err), TN_OK);
	assert_true(v0 != v1);
	long long v2;
	exec_sql(s, "UPDATE subscriptions SET cancelled_at = 2000000000 WHERE id = (SELECT min(id) FROM subscriptions)");
	assert_int_equal(web_store_data_version(s, &v2, &err), TN_OK);
	assert_true(v2 != v1);
	/* an event journaled by the server, in either of the journal's two
	 * tables (the writer turns to events_journal_b after a fold; its ids go
	 * on from the highest given: test_version_across_folds) */
	long long v3, v4;
	exec_sql(s, "INSERT INTO events_journal(customer_id, occurred_at, type_id) VALUES (1, 1700000000, 1)");
	assert_int_equal(web_store_data_version(s, &v3, &err), TN_OK);
	assert_true(v3 != v2);
	exec_sql(s, "INSERT INTO events_journal_b(id, customer_id, occurred_at, type_id) VALUES (2, 1, 1700000001, 1)");
	assert_int_equal(web_store_data_version(s, &v4, &err), TN_OK);
	assert_true(v4 != v3);
	exec_sql(s, "DELETE FROM events_journal");
	exec_sql(s, "DELETE FROM events_journal_b");
	/* kept rows move with the dashboard's own write, and are forgotten */
	assert_int_equal(web_store_cache_rebase(s, v0, v2, &err), TN_OK);
	assert_int_equal(web_store_cache_forget(s, "k|%", &err), TN_OK);
	n = 0;
	assert_int_equal(web_store_cache_each(s, NULL, count_rows, &n, &err), TN_OK);
	assert_int_equal(n, 0);
	cleanup(s);
}

/* Journal NE events of customer CID (ext ids PREFIX-i) through the
 * journaling writer W, in one transaction. */
static void journal_events(tn_store *w, const char *cid, const char *prefix, int ne)
{
	tn_error err = {0};
	assert_int_equal(tn_store_begin(w, &err), TN_OK);
	for (int i = 0; i < ne; i++) {
		char id[32];
		snprintf(id, sizeof id, "%s-%d", prefix, i);
		tn_event_rec e = {.customer = cid, .at = 1719000000 + i, .type = "session", .amount = NAN, .id = id};
		if (tn_store_put_event(w, &e, &err))
			fail_msg("journal: %s", err.msg);
	}
	long long added = -1;
	assert_int_equal(tn_store_flush(w, &added, &err), TN_OK);
	assert_int_equal(tn_store_commit(w, &err), TN_OK);
	assert_int_equal(added, ne);
}

/* A fold moves journaled events into the events table: the same data, so
 * the version stays (else every fold after an ingest -- one a second
 * burst -- recomputed every figure a second time); events journaled after
 * a fold move it again, though the emptied table gives ids from its start
 * no more (the journal's highest id is kept in meta). */
static void test_version_across_folds(void **state)
{
	(void)state;
	tn_store *s = demo_store();
	tn_store_close(s);
	tn_store *w = NULL, *live = NULL;
	tn_error err = {0};
	assert_int_equal(tn_store_open(db, 0, &w, &err), TN_OK);
	assert_int_equal(tn_store_wal(w, &err), TN_OK);
	assert_int_equal(tn_store_journal(w, 1, &err), TN_OK);
	assert_int_equal(tn_store_open(db, TN_STORE_LIVE, &live, &err), TN_OK);
	long long v0, v1, v2, v3, v4;
	assert_int_equal(web_store_data_version(live, &v0, &err), TN_OK);
	journal_events(w, "C000001", "a", 40);
	assert_int_equal(web_store_data_version(live, &v1, &err), TN_OK);
	assert_true(v1 != v0);
	/* a fold in steps (the server's), then nothing new: the same version */
	int done = 0, steps = 0;
	while (!done) {
		long long moved = 0;
		assert_int_equal(tn_store_fold_step(w, 10, &done, &moved, &err), TN_OK);
		assert_true(++steps < 50);
	}
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events_journal"), 0);
	assert_int_equal(web_store_data_version(live, &v2, &err), TN_OK);
	assert_true(v2 == v1);
	/* as many new events after it: the version moves (the same count of
	 * rows in the emptied table must not give the same mark) */
	journal_events(w, "C000002", "b", 40);
	assert_int_equal(web_store_data_version(live, &v3, &err), TN_OK);
	assert_true(v3 != v2);
	assert_true(store_count(w, "SELECT min(id) FROM main.events_journal_b") > 40);
	/* the full fold (at shutdown, at the next open) keeps it too */
	assert_int_equal(tn_store_fold(w, NULL, &err), TN_OK);
	assert_int_equal(web_store_data_version(live, &v4, &err), TN_OK);
	assert_true(v4 == v3);
	tn_store_close(live);
	tn_store_close(w);
	assert_int_equal(tn_store_open(db, 0, &s, &err), TN_OK);
	cleanup(s);
}

static void test_readings(void **state)
{
	(void)state;
	web_ctx c = {0};
	char buf[1024];
	c.lang = L_EN;
	assert_int_equal(web_reading(&c, "No customer won back yet.", buf, sizeof buf), 0);
	c.lang = L_AR;
	assert_int_equal(web_reading(&c, "No customer won back yet.", buf, sizeof buf), 1);
	assert_string_equal(buf, "لم يُستعد أي عميل بعد.");
	assert_int_equal(web_reading(&c, "Offers work: 12.5% of offered customers left against 20.0% of the control group.",
				     buf, sizeof buf),
			 1);
	assert_string_equal(buf, "العروض تنجح: غادر 12.5٪ من العملاء الذين تلقوا عرضاً مقابل 20.0٪ من مجموعة المقارنة.");
	c.lang = L_FA;
	c.native = 1;
	assert_int_equal(web_reading(&c, "+5.9 points (-33.3 to +14.2)", buf, sizeof buf), 1);
	assert_non_null(strstr(buf, "۵"));
	assert_null(strstr(buf, "points"));
	assert_int_equal(web_reading(&c, "a sentence no template has", buf, sizeof buf), 0);
	/* a buffer too small is cut, never overrun */
	char small[8];
	assert_int_equal(web_reading(&c, "No customer won back yet.", small, sizeof small), 1);
	assert_true(strlen(small) < sizeof small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_version_across_folds),
		cmocka_unit_test(test_readings),
		cmocka_unit_test(test_alerts_blob),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
