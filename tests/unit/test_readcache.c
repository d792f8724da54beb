/*
 * test_readcache.c -- the read cache of GET /v1/customers/{id}
 * (src/server/readcache.c) without a server: a kept answer brought up to
 * date by the writer's events (last event, milestones' first times, in any
 * order, repeats) and by a new value model is byte for byte the answer
 * rendered from the updated parts; a read that began before the writer's
 * touch does not keep its answer; 50,000 customers in a cache sized for them
 * are all kept (the 2-way slots lost ~2% of them); the writer's own commit
 * under way starts no new epoch, anybody else's does.
 */
#include "testutil.h"
#include "tenure.h"
#include "server/server_internal.h"
#include "base/alloc.h"

#include <stdio.h>
#include <string.h>

#define TMPL "{\"id\":\"x\",\"last_event_at\":\x01L,\"value\":\x01V,\"milestones\":[{\"reached_at\":\x01" \
	     "a},{\"reached_at\":\x01" "b}],\"mrr\":3}"

/* Parts with the given times (TN_NO_TIME: none). */
static void make_parts(tn_customer_parts *p, tn_time last, tn_time a, tn_time b)
{
	memset(p, 0, sizeof *p);
	p->tmpl = tn_strdup(TMPL);
	p->last = last;
	p->nmiles = 2;
	p->mile_type = tn_calloc(2, sizeof *p->mile_type);
	p->mile_at = tn_calloc(2, sizeof *p->mile_at);
	assert_non_null(p->tmpl);
	assert_non_null(p->mile_type);
	assert_non_null(p->mile_at);
	p->mile_type[0] = tn_strdup("open");
	p->mile_type[1] = tn_strdup("buy");
	p->mile_at[0] = a;
	p->mile_at[1] = b;
}

/* What a fresh read would answer. */
static char *expect(tn_time last, tn_time a, tn_time b, const char *value)
{
	tn_customer_parts p;
	make_parts(&p, last, a, b);
	size_t len;
	char *out = tn_customer_parts_render(&p, value, &len, NULL);
	assert_non_null(out);
	assert_int_equal(len, strlen(out));
	tn_customer_parts_free(&p);
	return out;
}

static const char *next_value;
static int value_calls;
static char *value_fn(void *ud, const char *id)
{
	(void)ud;
	(void)id;
	value_calls++;
	return next_value ? tn_strdup(next_value) : NULL;
}

/* The kept answer of ID (NULL: a miss). */
static char *get(readcache *c, const char *id, unsigned long vver)
{
	tn_http_response rs = {0};
	if (!readcache_get(c, id, readcache_epoch(c, 0), vver, 1000000, value_fn, NULL, &rs))
		return NULL;
	assert_int_equal(rs.status, 200);
	assert_int_equal(rs.len, strlen(rs.body));
	return rs.body;
}

static void put(readcache *c, const char *id, tn_time last, tn_time a, tn_time b, const char *value,
		unsigned long vver)
{
	tn_customer_parts p;
	make_parts(&p, last, a, b);
	readcache_put(c, id, readcache_epoch(c, 0), readcache_cver(c, id), vver, INT64_MAX, &p,
		      value ? tn_strdup(value) : NULL);
}

static void same(readcache *c, const char *id, unsigned long vver, tn_time last, tn_time a, tn_time b,
		 const char *value)
{
	char *got = get(c, id, vver), *want = expect(last, a, b, value);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_events_and_value(void **state)
{
	(void)state;
	readcache *c = readcache_new((size_t)1 << 20);
	assert_non_null(c);
	put(c, "x", TN_NO_TIME, TN_NO_TIME, TN_NO_TIME, "{\"clv\":1}", 0);
	same(c, "x", 0, TN_NO_TIME, TN_NO_TIME, TN_NO_TIME, "{\"clv\":1}");
	readcache_event(c, "x", 86400 * 400, "open"); /* the first event: last and milestone a */
	same(c, "x", 0, 86400 * 400, 86400 * 400, TN_NO_TIME, "{\"clv\":1}");
	readcache_event(c, "x", 86400 * 300, "buy"); /* earlier: not the last, milestone b */
	same(c, "x", 0, 86400 * 400, 86400 * 400, 86400 * 300, "{\"clv\":1}");
	readcache_event(c, "x", 86400 * 500, "open"); /* later: the last, not open's first */
	readcache_event(c, "x", 86400 * 200, "open"); /* earlier: open's first */
	readcache_event(c, "x", 86400 * 200, "open"); /* a repeat changes nothing */
	readcache_event(c, "x", 86400 * 450, "other");
	same(c, "x", 0, 86400 * 500, 86400 * 200, 86400 * 300, "{\"clv\":1}");
	/* a new value model: the value from it, once, then kept */
	next_value = "{\"clv\":22.5,\"p_alive\":0.25}";
	value_calls = 0;
	same(c, "x", 1, 86400 * 500, 86400 * 200, 86400 * 300, next_value);
	same(c, "x", 1, 86400 * 500, 86400 * 200, 86400 * 300, next_value);
	assert_int_equal(value_calls, 1);
	next_value = NULL; /* the customer left the model: null */
	same(c, "x", 2, 86400 * 500, 86400 * 200, 86400 * 300, NULL);
	readcache_event(c, "x", 86400 * 600, "buy");
	same(c, "x", 2, 86400 * 600, 86400 * 200, 86400 * 300, NULL);
	/* a read of an older model's version than the entry's is not served */
	char *old = get(c, "x", 1);
	assert_null(old);
	/* an answer read before the writer touched its customer is not kept */
	unsigned long ep = readcache_epoch(c, 0);
	unsigned cv = readcache_cver(c, "y");
	readcache_event(c, "y", 86400, "open");
	tn_customer_parts p;
	make_parts(&p, TN_NO_TIME, TN_NO_TIME, TN_NO_TIME);
	readcache_put(c, "y", ep, cv, 2, INT64_MAX, &p, NULL);
	assert_null(get(c, "y", 2));
	/* nor one read at an older epoch */
	ep = readcache_epoch(c, 0);
	cv = readcache_cver(c, "y");
	readcache_epoch(c, 1);
	make_parts(&p, TN_NO_TIME, TN_NO_TIME, TN_NO_TIME);
	readcache_put(c, "y", ep, cv, 2, INT64_MAX, &p, NULL);
	assert_null(get(c, "y", 2));
	/* touch drops */
	readcache_touch(c, "x");
	assert_null(get(c, "x", 2));
	unsigned long long hits, misses;
	size_t bytes;
	readcache_stats(c, &hits, &misses, &bytes);
	assert_true(hits >= 8);
	assert_int_equal(bytes, 0); /* nothing kept: every byte given back */
	readcache_free(c);
}

static void test_many_customers(void **state)
{
	(void)state;
	readcache *c = readcache_new((size_t)128 << 20);
	assert_non_null(c);
	char id[32];
	for (int i = 1; i <= 50000; i++) {
		snprintf(id, sizeof id, "C%06d", i);
		put(c, id, (tn_time)86400 * i, TN_NO_TIME, TN_NO_TIME, NULL, 0);
	}
	int kept = 0;
	for (int i = 1; i <= 50000; i++) {
		snprintf(id, sizeof id, "C%06d", i);
		char *b = get(c, id, 0);
		kept += b != NULL;
		free(b);
	}
	assert_int_equal(kept, 50000);
	readcache_free(c);
}

static tn_store_mark mark_at(uint32_t change, uint32_t salt)
{
	tn_store_mark m;
	memset(&m, 0, sizeof m);
	memcpy(m.b + 8, &change, sizeof change);
	memcpy(m.b + 32, &salt, sizeof salt);
	return m;
}

static void test_epochs(void **state)
{
	(void)state;
	readcache *c = readcache_new((size_t)1 << 20);
	assert_non_null(c);
	tn_store_mark m0 = mark_at(10, 1), m1 = mark_at(11, 1), m2 = mark_at(12, 1), m3 = mark_at(13, 1);
	tn_store_mark m8 = mark_at(8, 1), m9 = mark_at(9, 1);
	/* the writer's first commit (m9 -> m0) from a header no reader has seen:
	 * somebody else's commit may be in it */
	unsigned long e0 = readcache_epoch_mark(c, &m8);
	readcache_writer_begin(c, &m9);
	readcache_writer_commit(c, &m9, &m0, 0);
	unsigned long e = readcache_epoch_mark(c, &m0);
	assert_true(e > e0);
	/* the same from the header the readers saw last: no new epoch */
	readcache *c2 = readcache_new((size_t)1 << 20);
	assert_non_null(c2);
	e0 = readcache_epoch_mark(c2, &m9);
	readcache_writer_begin(c2, &m9);
	readcache_writer_commit(c2, &m9, &m0, 0);
	assert_int_equal(readcache_epoch_mark(c2, &m0), e0);
	readcache_free(c2);
	assert_int_equal(readcache_epoch_mark(c, &m0), e); /* the same header: no change */
	/* the writer's transaction from m0: its commit (m1), seen before it publishes */
	readcache_writer_begin(c, &m0);
	assert_int_equal(readcache_epoch_mark(c, NULL), e); /* torn: its commit under way */
	assert_int_equal(readcache_epoch_mark(c, &m1), e);
	readcache_writer_commit(c, &m0, &m1, 0);
	assert_int_equal(readcache_epoch_mark(c, &m1), e);
	/* another connection's commit: a new epoch */
	unsigned long e2 = readcache_epoch_mark(c, &m2);
	assert_true(e2 > e);
	assert_true(readcache_epoch_mark(c, NULL) > e2); /* torn, the writer idle: a change */
	/* the writer from m2; two commits on is not its own */
	readcache_writer_begin(c, &m2);
	unsigned long e3 = readcache_epoch_mark(c, &m2);
	tn_store_mark m4 = mark_at(14, 1);
	assert_true(readcache_epoch_mark(c, &m4) > e3);
	/* its commit began from a header it had not published: everything goes */
	unsigned long e4 = readcache_epoch(c, 0);
	readcache_writer_commit(c, &m2, &m3, 0);
	assert_true(readcache_epoch(c, 0) > e4);
	readcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_and_value),
		cmocka_unit_test(test_many_customers),
		cmocka_unit_test(test_epochs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
