/*
 * test_frame_fast.c -- the fast frame reader (frame_fast.c: mapped file,
 * block scanning, two threads) gives exactly what the reference reader
 * (tn_csv record by record) gives: the same columns, types, blank counts,
 * number bits and texts, or the same error message.  Thousands of random
 * files mix what CSV files hold: integers, decimals, exponents, text, R's NA,
 * blanks, spaces, quoted fields with commas, quotes and line ends, CRLF,
 * blank lines, a byte-order mark, a missing final line end, columns that turn
 * to text early, late or only in the second half (the two-thread merge), and
 * now and then a defect (a stray quote, a wrong field count, an unterminated
 * quote).  Each file is read whole and with a random choice of columns, on
 * one thread and split in two.
 */
#include "testutil.h"
#include "base/frame_internal.h"
#include "base/rng.h"
#include "tenure/frame.h"

#include <unistd.h>

static char path[256];

static void write_all(const char *s, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(s, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void same_frames(const tn_frame *a, const tn_frame *b, const char *what, long id)
{
	if (a->nrows != b->nrows || a->ncols != b->ncols)
		fail_msg("file %ld (%s): %zu x %zu, reference %zu x %zu", id, what, b->nrows, b->ncols, a->nrows,
			 a->ncols);
	for (size_t j = 0; j < a->ncols; j++) {
		const tn_column *x = &a->cols[j], *y = &b->cols[j];
		if (strcmp(x->name, y->name) != 0 || x->is_numeric != y->is_numeric || x->nblank != y->nblank)
			fail_msg("file %ld (%s): column %zu: %s numeric %d blank %zu, reference %s %d %zu", id, what, j,
				 y->name, y->is_numeric, y->nblank, x->name, x->is_numeric, x->nblank);
		for (size_t i = 0; i < a->nrows; i++) {
			if (x->is_numeric) {
				if (memcmp(&x->num[i], &y->num[i], sizeof(double)) != 0)
					fail_msg("file %ld (%s): row %zu col %zu: %.17g, reference %.17g", id, what, i, j,
						 y->num[i], x->num[i]);
			} else if (strcmp(x->text[i], y->text[i]) != 0) {
				fail_msg("file %ld (%s): row %zu col %zu: \"%s\", reference \"%s\"", id, what, i, j,
					 y->text[i], x->text[i]);
			}
		}
	}
}

static void compare_modes(const char *const *want, size_t nwant, long id)
{
	tn_error e0 = {0};
	tn_frame *ref = tn_frame_read_csv_mode(path, want, nwant, TN_FRAME_STREAM, &e0);
	static const int modes[] = {TN_FRAME_FAST_ONE, TN_FRAME_FAST_TWO, TN_FRAME_AUTO};
	static const char *const names[] = {"one thread", "two threads", "auto"};
	for (size_t m = 0; m < 3; m++) {
		tn_error e1 = {0};
		tn_frame *f = tn_frame_read_csv_mode(path, want, nwant, modes[m], &e1);
		if (!ref != !f)
			fail_msg("file %ld (%s): %s, reference %s", id, names[m], f ? "read" : e1.msg,
				 ref ? "read" : e0.msg);
		if (ref)
			same_frames(ref, f, names[m], id);
		else if (e0.code != e1.code || strcmp(e0.msg, e1.msg) != 0)
			fail_msg("file %ld (%s): error \"%s\", reference \"%s\"", id, names[m], e1.msg, e0.msg);
		tn_frame_free(f);
	}
	tn_frame_free(ref);
}

typedef struct buf {
	char *p;
	size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static unsigned pick(tn_rng *r, unsigned n) { return (unsigned)(tn_rng_next(r) % n); }

/* One cell of a column of kind K (0 int, 1 decimal, 2 text, 3 mixed early,
 * 4 mixed late, 5 quoted anything) at row I of N. */
static void cell(buf *b, tn_rng *r, int k, size_t i, size_t n)
{
	char t[64];
	unsigned u = pick(r, 100);
	if (u < 4) {
		puts_(b, u < 2 ? "" : u == 2 ? "NA" : " NA ");
		return;
	}
	if (u < 6) {
		puts_(b, u == 4 ? " 12 " : "\t-3.5");
		return;
	}
	int text = k == 2 || (k == 3 && i == n / 5) || (k == 4 && i == n - 1 - n / 7);
	if (k == 5) {
		static const char *const q[] = {"\"1.5\"", "\"a,b\"", "\"say \"\"hi\"\"\"", "\"two\nlines\"",
						"\"\"", "\"cr\r\nlf\"", "\"007\"", "\"1e3\""};
		puts_(b, q[pick(r, 8)]);
		return;
	}
	if (text) {
		static const char *const w[] = {"basic", "pro", "x y", "1.2.3", "inf", "0x1F", "nan", "-", "1,5"};
		const char *s = w[pick(r, 9)];
		if (strchr(s, ','))
			puts_(b, "\"1,5\"");
		else
			puts_(b, s);
		return;
	}
	if (k == 0)
		snprintf(t, sizeof t, "%d", (int)pick(r, 2000) - 100);
	else if (u < 50)
		snprintf(t, sizeof t, "%.*f", (int)pick(r, 6), tn_rng_u01(tn_rng_next(r)) * 1000 - 300);
	else if (u < 70)
		snprintf(t, sizeof t, "%.17g", tn_rng_u01(tn_rng_next(r)) * 1e-3);
	else if (u < 80)
		snprintf(t, sizeof t, "%de%d", (int)pick(r, 999), (int)pick(r, 50) - 25);
	else
		snprintf(t, sizeof t, "%.3f", (double)pick(r, 100000) / 7.0);
	puts_(b, t);
}

static void random_file(tn_rng *r, buf *b, size_t *ncols_out)
{
	b->n = 0;
	size_t ncols = 1 + pick(r, 6);
	size_t nrows = pick(r, 8) == 0 ? pick(r, 3) : 1 + pick(r, 400);
	int crlf = pick(r, 3) == 0;
	const char *eol = crlf ? "\r\n" : "\n";
	int kind[8];
	if (pick(r, 8) == 0)
		puts_(b, "\xEF\xBB\xBF");
	for (size_t j = 0; j < ncols; j++) {
		kind[j] = (int)pick(r, 6);
		char h[32];
		if (pick(r, 10) == 0)
			snprintf(h, sizeof h, "\"c,%zu\"", j);
		else
			snprintf(h, sizeof h, "c%zu", j);
		if (j)
			puts_(b, ",");
		puts_(b, h);
	}
	puts_(b, eol);
	int defect = pick(r, 6) == 0 ? (int)pick(r, 4) : -1;
	size_t drow = nrows ? pick(r, (unsigned)nrows) : 0;
	for (size_t i = 0; i < nrows; i++) {
		if (pick(r, 40) == 0)
			puts_(b, eol); /* a blank line */
		for (size_t j = 0; j < ncols; j++) {
			if (j)
				puts_(b, ",");
			cell(b, r, kind[j], i, nrows);
		}
		if (defect >= 0 && i == drow) {
			if (defect == 0)
				puts_(b, ",extra");
			else if (defect == 1)
				puts_(b, "x\"y");
			else if (defect == 2)
				puts_(b, ",\"open");
			else
				puts_(b, "\"after");
		}
		if (i + 1 < nrows || pick(r, 4))
			puts_(b, eol);
	}
	*ncols_out = ncols;
}

static void test_random_files(void **state)
{
	(void)state;
	tn_rng r;
	tn_rng_seed(&r, 42, 3);
	buf b = {0};
	const char *env = getenv("TN_FRAME_FILES"); /* more for a longer run */
	long nfiles = env && *env ? atol(env) : 400;
	for (long id = 0; id < nfiles; id++) {
		size_t ncols;
		random_file(&r, &b, &ncols);
		write_all(b.p, b.n);
		/* every other file through a tiny read window (it grows when one
		 * record does not fit): records and quoted fields cross its ends */
		tn_frame_fast_window = id % 2 ? 1 + pick(&r, 300) : 0;
		/* every third file with the first half's rows under-estimated: the
		 * halves read again with the bound */
		tn_frame_fast_underestimate = id % 3 == 0;
		compare_modes(NULL, 0, id);
		/* a choice of columns, in another order, now and then a missing one */
		char names[4][16];
		const char *want[4];
		size_t nwant = 1 + pick(&r, 3);
		for (size_t k = 0; k < nwant; k++) {
			snprintf(names[k], sizeof names[k], "c%u", pick(&r, (unsigned)ncols + (pick(&r, 10) == 0)));
			want[k] = names[k];
		}
		compare_modes(want, nwant, id);
	}
	tn_frame_fast_window = 0;
	tn_frame_fast_underestimate = 0;
	free(b.p);
}

/* A clean file is read by the fast reader itself (no fallback), on two
 * threads, with a quoted line end right where the middle falls. */
static void test_fast_path_taken(void **state)
{
	(void)state;
	buf b = {0};
	puts_(&b, "a,b,c\n");
	for (int i = 0; i < 2000; i++) {
		char t[80];
		snprintf(t, sizeof t, "%d,\"note\n%d\",%d.25\n", i, i, i % 17);
		puts_(&b, t);
	}
	write_all(b.p, b.n);
	/* the default window, then windows that end inside records and inside
	 * the quoted line ends: still the fast path, with the same cells */
	static const size_t windows[] = {0, 1, 7, 64, 1000};
	for (size_t w = 0; w < sizeof windows / sizeof *windows; w++) {
		for (int threads = 1; threads <= 3; threads++) {
			/* 3: two threads, the first half's rows under-estimated, so
			 * read again with the bound: still the fast reader */
			size_t rereads = tn_frame_fast_rereads;
			tn_frame_fast_underestimate = threads == 3;
			tn_frame_fast_window = windows[w];
			tn_error err = {0};
			int fallback = -1;
			tn_frame *f = tn_frame_read_fast(path, NULL, 0, threads > 2 ? 2 : threads, &fallback, &err);
			assert_non_null(f);
			assert_int_equal(fallback, 0);
			/* the estimate holds on this even file; the under-estimate does not */
			assert_int_equal(tn_frame_fast_rereads - rereads, threads == 3 ? 1 : 0);
			assert_int_equal(f->nrows, 2000);
			assert_true(f->cols[0].is_numeric && !f->cols[1].is_numeric && f->cols[2].is_numeric);
			assert_string_equal(f->cols[1].text[1999], "note\n1999");
			assert_true(f->cols[2].num[1999] == 1999 % 17 + 0.25);
			tn_frame_free(f);
		}
	}
	tn_frame_fast_window = 0;
	tn_frame_fast_underestimate = 0;
	compare_modes(NULL, 0, -1);
	free(b.p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "/tmp/tn_frame_fast_%ld.csv", (long)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_files),
		cmocka_unit_test(test_fast_path_taken),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
