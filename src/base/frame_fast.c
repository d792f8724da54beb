/*
 * frame_fast.c -- the fast way to read a CSV file into columns (see
 * include/tenure/frame.h for what a frame is, frame.c for the reference
 * reader that goes record by record through tn_csv).
 *
 * How it goes faster, with the same result bit for bit:
 *   - the body is read with pread() into a reused window of WINDOW bytes
 *     (it stays in the L2 cache), not scanned through a mapping: the page
 *     faults of a fresh mapping alone cost more than the parsing (measured:
 *     1,380 MB per CPU-second for the faults, 5,036 for read() into a reused
 *     buffer).  A window is parsed up to its last record end (a '\n' outside
 *     quotes), the unfinished record is carried to the window's start and
 *     the rest read after it; the peak memory is the columns, not the file.
 *     The file is still mapped for the header and the split (a few pages);
 *   - fields are found with 16-byte SSE2 compares (the delimiter, CR, LF and
 *     the quote at once) and are parsed where they lie, without a copy, except
 *     quoted fields which are unescaped into a scratch buffer;
 *   - only the columns asked for are converted; the others are only skipped;
 *   - numbers go through tn_parse_double, whose exact fast path (fastnum.c)
 *     spares strtod for the common "107.75";
 *   - the body is split in two at a record boundary and both halves are read
 *     at once on two threads.  The boundary is a line end near the middle,
 *     a guess that the first half's reader checks: it must end exactly there,
 *     at the end of a record, or the split was inside a quoted field and the
 *     whole file is read again on one thread (no pass counts quotes first);
 *   - the columns are sized from the file's bytes (no pass counts lines);
 *     the second half's rows are stored after an estimate of the first
 *     half's (estimate_rows), so that joining them moves rows in place.
 *
 * What stays exactly as the reference reader does it: the header (read with
 * tn_csv itself), RFC 4180 quoting, CRLF, blank lines, R's NA, the column
 * typing (a column is numeric until its first cell that is not a number; the
 * cells before that one are re-rendered with %.17g, the ones after keep their
 * text).  Across the two halves: when a column turns to text in the second
 * half only, the first half's numbers are rendered then; when it turns to text
 * in the first half, the second half is read again for that column as text.
 * Anything unusual -- a malformed record, a wrong field count, an over-long
 * record, a missing column, standard input, an empty file -- makes this
 * reader give up (*fallback = 1) and the reference reader runs instead, so
 * that every error message (FILE:LINE:COLUMN) is the reference's own.
 * tests/unit/test_frame_fast.c compares both readers on random files.
 */
#include "base/frame_internal.h"
#include "base/alloc.h"
#include "base/fastnum.h"
#include "base/numlocale.h"
#include "tenure/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* below this many body bytes one thread reads the file (auto mode) */
#define TWO_THREADS_MIN (4u << 20)
/* a record longer than this goes to the reference reader (it knows the limit) */
#define LONG_RECORD (TN_CSV_MAX_RECORD / 4)
/* drop the mapped pages behind a counting pass every this many bytes */
#define DROP_EVERY (16u << 20)
/* the read window: L2-sized; it grows (up to a long record) only when one
 * record does not fit */
#ifndef WINDOW
#define WINDOW (256u << 10)
#endif
size_t tn_frame_fast_window = WINDOW;
#ifndef PREFETCH_BYTES
#define PREFETCH_BYTES 2048 /* how far ahead of the scan the file is prefetched */
#endif

enum { OK = 0, FALLBACK = 1, NOMEM = 2 };

typedef struct fcol {
	size_t field;   /* CSV field index */
	void *cells;    /* rows of 8 bytes: double while numeric, char * once text */
} fcol;

typedef struct chunk {
	const char *beg, *end;
	int last;                 /* ends at the end of the file */
	size_t base, cap;         /* rows [base, base + cap) of the cells are ours */
	size_t nrows;
	size_t partial;           /* on failure: fields of row nrows already stored */
	const unsigned char *active; /* NULL: every column; else columns to read */
	const unsigned char *force;  /* columns read as text from the first row */
	unsigned char *text;         /* per column: text in this chunk */
	size_t *first_text;          /* per column: local row where it became text */
	size_t *nblank;              /* per column: blank cells (not in a re-read) */
	char *scratch;               /* unescaped quoted field */
	size_t scratch_cap;
	/* the text cells' strings: one pool per chunk (handed to the frame at
	 * the end, so a cell is never an allocation of its own: 10M cells of a
	 * plan column were 10M mallocs and ~320 MB), a repeated value stored once
	 * (INTERN_SLOTS recent values per column) */
	void *pool;
	struct interned *intern;
	int status;
	int overflow;             /* more rows than CAP: read again with the bound */
	/* shared, read-only */
	const int *colof;  /* field -> frame column, -1 when not kept */
	size_t nfields, ncols;
	fcol *cols;
	const char *map;
	int fd;            /* the file, read with pread at offsets [beg, end) - map */
	char delim;
} chunk;

/* The specials (DELIM, '\n', '\r', '"') of 64 bytes from B as a bit mask;
 * when fewer than 64 bytes are left, the end counts as a special. */
typedef struct scan {
	const char *blk;  /* the block the mask describes */
	uint64_t bits;
	uint64_t lines;   /* the bits of '\n', '\r', '"' and the end only */
} scan;

/* Set SC's masks for the 64 bytes from B. */
static inline void block_mask(scan *sc, const char *b, const char *end, char delim)
{
	sc->blk = b;
	if (end - b >= 64) {
		/* the file streams from memory: ask for the bytes well ahead */
		if (end - b >= PREFETCH_BYTES + 64)
			__builtin_prefetch(b + PREFETCH_BYTES);
#if defined(__SSE2__)
		const __m128i vd = _mm_set1_epi8(delim), vn = _mm_set1_epi8('\n'),
			      vr = _mm_set1_epi8('\r'), vq = _mm_set1_epi8('"');
		uint64_t m = 0, l = 0;
		for (int i = 0; i < 4; i++) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * i));
			__m128i c = _mm_or_si128(_mm_cmpeq_epi8(x, vn), _mm_or_si128(_mm_cmpeq_epi8(x, vr), _mm_cmpeq_epi8(x, vq)));
			l |= (uint64_t)(unsigned)_mm_movemask_epi8(c) << (16 * i);
			c = _mm_or_si128(c, _mm_cmpeq_epi8(x, vd));
			m |= (uint64_t)(unsigned)_mm_movemask_epi8(c) << (16 * i);
		}
		sc->bits = m;
		sc->lines = l;
		return;
#else
		uint64_t m = 0, l = 0;
		for (int i = 0; i < 64; i++) {
			uint64_t e = b[i] == '\n' || b[i] == '\r' || b[i] == '"';
			l |= e << i;
			m |= (e | (b[i] == delim)) << i;
		}
		sc->bits = m;
		sc->lines = l;
		return;
#endif
	}
	uint64_t m = 0, l = 0;
	int n = (int)(end - b);
	for (int i = 0; i < n; i++) {
		uint64_t e = b[i] == '\n' || b[i] == '\r' || b[i] == '"';
		l |= e << i;
		m |= (e | (b[i] == delim)) << i;
	}
	sc->bits = m | (uint64_t)1 << n; /* the end */
	sc->lines = l | (uint64_t)1 << n;
}

/* The first byte of [p, end) that is DELIM, '\n', '\r' or '"', or end. */
static inline const char *next_special(scan *sc, const char *p, const char *end, char delim)
{
	if (p - sc->blk >= 64 || p < sc->blk)
		block_mask(sc, p, end, delim);
	uint64_t m = sc->bits & (~UINT64_C(0) << (p - sc->blk));
	while (!m) {
		block_mask(sc, sc->blk + 64, end, delim);
		m = sc->bits;
	}
	return sc->blk + __builtin_ctzll(m);
}

static inline unsigned popcount64(uint64_t x)
{
	x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0F0F0F0F0F0F0F0F);
	return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* The first byte of [p, end) that is '\n', '\r' or '"', or end; *NDELIM
 * gets the delimiters before it.  The rest of a record whose fields are
 * not wanted is passed over this way, a block at a time. */
static inline const char *next_line(scan *sc, const char *p, const char *end, char delim, size_t *ndelim)
{
	if (p - sc->blk >= 64 || p < sc->blk)
		block_mask(sc, p, end, delim);
	uint64_t keep = ~UINT64_C(0) << (p - sc->blk);
	uint64_t l = sc->lines & keep;
	size_t nd = 0;
	while (!l) {
		nd += popcount64(sc->bits & ~sc->lines & keep);
		block_mask(sc, sc->blk + 64, end, delim);
		keep = ~UINT64_C(0);
		l = sc->lines;
	}
	uint64_t below = (l & (~l + 1)) - 1; /* the bits under the first line bit */
	*ndelim = nd + popcount64(sc->bits & ~sc->lines & keep & below);
	return sc->blk + __builtin_ctzll(l);
}

/* Count the line ends ('\n' and '\r': an upper bound on the records) and
 * the quotes in [p, end). */
static void count_bytes(const char *p, const char *end, size_t *nlines, size_t *nquotes)
{
	size_t nl = 0, nq = 0;
#if defined(__SSE2__)
	const __m128i vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r'), vq = _mm_set1_epi8('"');
	const __m128i zero = _mm_setzero_si128();
	while (end - p >= 16) {
		/* per-byte counters (each compare gives -1), summed every 255 blocks */
		__m128i cl = zero, cq = zero;
		for (int i = 0; i < 255 && end - p >= 16; i++, p += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			cl = _mm_sub_epi8(cl, _mm_or_si128(_mm_cmpeq_epi8(x, vn), _mm_cmpeq_epi8(x, vr)));
			cq = _mm_sub_epi8(cq, _mm_cmpeq_epi8(x, vq));
		}
		__m128i sl = _mm_sad_epu8(cl, zero), sq = _mm_sad_epu8(cq, zero);
		nl += (size_t)_mm_cvtsi128_si32(sl) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sl, 8));
		nq += (size_t)_mm_cvtsi128_si32(sq) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sq, 8));
	}
#endif
	for (; p < end; p++) {
		nl += *p == '\n' || *p == '\r';
		nq += *p == '"';
	}
	*nlines = nl;
	*nquotes = nq;
}

static void drop_pages(const char *map, const char *from, const char *to)
{
	long pg = sysconf(_SC_PAGESIZE);
	if (pg <= 0)
		return;
	uintptr_t a = ((uintptr_t)from + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	uintptr_t b = (uintptr_t)to & ~((uintptr_t)pg - 1);
	if (a < (uintptr_t)map)
		a = (uintptr_t)map;
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED); /* advice only: a failure costs memory, not data */
}

/* Large column blocks in transparent huge pages where the system offers them
 * on request: a page fault per 2 MiB instead of per 4 KiB (the faults were a
 * quarter of the reading time).  Advice only. */
static void advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	if (!p || n < 2 * huge)
		return;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t b = ((uintptr_t)p + n) & ~(huge - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}

/* A text cell's value in chunk CK's pool: the same bytes as a recent cell
 * of column J give the same pointer (frames are read-only once read). */
#define INTERN_SLOTS 64
#define INTERN_MAX 48 /* longer values (ids, free text) are rarely repeated */
struct interned {
	const char *p;
	size_t n;
};

static char *copy_text(chunk *ck, size_t j, const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len); /* the reference's strdup stops there */
	size_t n = nul ? (size_t)(nul - s) : len;
	if (n > INTERN_MAX)
		return tn_frame_pool_put(&ck->pool, s, n);
	uint32_t h = 2166136261u ^ (uint32_t)n;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	struct interned *e = &ck->intern[j * INTERN_SLOTS + (h >> 26)];
	if (e->p && e->n == n && memcmp(e->p, s, n) == 0)
		return (char *)e->p;
	char *t = tn_frame_pool_put(&ck->pool, s, n);
	if (t) {
		e->p = t;
		e->n = n;
	}
	return t;
}

/* Render rows [from, to) of column J, numbers so far, as the reference's
 * to_text does ("%.17g", "" for a missing value), in place. */
static int render_rows(fcol *c, void **pool, size_t from, size_t to)
{
	double *num = c->cells;
	char **txt = c->cells;
	for (size_t i = from; i < to; i++) {
		double v = num[i];
		char buf[40] = "";
		if (!isnan(v))
			tn_snprintf_c(buf, sizeof buf, "%.17g", v);
		char *s = tn_frame_pool_put(pool, buf, strlen(buf));
		if (!s) {
			/* leave the column consistent for freeing: the rest as empty strings */
			for (size_t k = i; k < to; k++)
				txt[k] = NULL;
			return -1;
		}
		txt[i] = s;
	}
	return 0;
}

/* Cell ROW (local) of frame column J is S[0..LEN). */
static int put_cell(chunk *ck, size_t j, size_t row, const char *s, size_t len, int count)
{
	fcol *c = &ck->cols[j];
	size_t k = 0;
	while (k < len && (s[k] == ' ' || s[k] == '\t'))
		k++;
	size_t e = len;
	while (e > k && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	int blank = k == len || (e - k == 2 && s[k] == 'N' && s[k + 1] == 'A');
	if (count)
		ck->nblank[j] += (size_t)blank;
	size_t at = ck->base + row;
	if (!ck->text[j]) {
		double v = NAN;
		/* tn_parse_double's own order: trimmed, under 64 bytes, fast path, strtod */
		if (blank || (e - k < 64 && tn_fastnum_parse(s + k, e - k, &v)) ||
		    tn_parse_double(s, len, &v) == 0) {
			((double *)c->cells)[at] = v;
			return OK;
		}
		ck->text[j] = 1; /* rows not rendered are NULL, as free() likes */
		if (render_rows(c, &ck->pool, ck->base, at)) {
			((char **)c->cells)[at] = NULL;
			return NOMEM;
		}
		ck->first_text[j] = row;
	}
	char *t = copy_text(ck, j, s, blank ? 0 : len);
	if (!t)
		return NOMEM;
	((char **)c->cells)[at] = t;
	return OK;
}

static int scratch_put(chunk *ck, size_t *used, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (*used + n > ck->scratch_cap) {
		size_t cap = ck->scratch_cap ? ck->scratch_cap : 256;
		while (cap < *used + n)
			cap *= 2;
		char *p = tn_realloc(ck->scratch, cap);
		if (!p)
			return -1;
		ck->scratch = p;
		ck->scratch_cap = cap;
	}
	memcpy(ck->scratch + *used, s, n);
	*used += n;
	return 0;
}

/* Parse the records of [P, END), which ends at a record end (LAST: END is
 * the end of the chunk, where the last record may lack its line end).  *ROWP
 * is the chunk's next row; on a failure *FP gets the fields of that row
 * already stored. */
static int parse_records(chunk *ck, const char *p, const char *end, int last, size_t skip_from, size_t *rowp,
			 size_t *fp)
{
	const char d = ck->delim;
	int count = ck->active == NULL;
	size_t row = *rowp;
	size_t f = 0;
	scan sc;
	block_mask(&sc, p, end, d);
#define FAIL(rc) do { *fp = f; return (rc); } while (0)
	while (p < end) {
		/* a blank line (LF or CRLF alone, or a lone CR) is skipped */
		if (*p == '\n') {
			p++;
			continue;
		}
		if (*p == '\r') {
			p++;
			if (p < end && *p == '\n')
				p++;
			continue;
		}
		if (row == ck->cap) { /* more rows than estimated (estimate_rows) */
			ck->overflow = 1;
			FAIL(FALLBACK);
		}
		const char *rec = p;
		int at_eof = 0;
		f = 0;
		for (;;) {
			if (f == ck->nfields) { /* too many fields: the reference says so */
				FAIL(FALLBACK);
			}
			int j = ck->colof[f];
			int want = j >= 0 && (!ck->active || ck->active[j]);
			const char *s, *q;
			size_t len;
			if (f >= skip_from && f > 0 && p < end && *p != '"') {
				size_t nd;
				q = next_line(&sc, p, end, d, &nd);
				if (q == end || *q != '"') {
					/* the record's last fields, none wanted: count them */
					f += nd + 1;
					if (q == end) {
						at_eof = 1;
						p = end;
						break;
					}
					p = q + 1;
					if (*q == '\r' && p < end && *p == '\n')
						p++;
					break;
				}
				/* a quote ahead: field by field as below */
			}
			if (p < end && *p == '"') {
				size_t used = 0;
				p++;
				for (;;) {
					const char *cq = memchr(p, '"', (size_t)(end - p));
					if (!cq) { /* no closing quote before the end */
						FAIL(FALLBACK);
					}
					if (want && scratch_put(ck, &used, p, (size_t)(cq - p))) {
						FAIL(NOMEM);
					}
					p = cq + 1;
					if (p < end && *p == '"') {
						if (want && scratch_put(ck, &used, "\"", 1)) {
							FAIL(NOMEM);
						}
						p++;
						continue;
					}
					break;
				}
				q = p;
				if (q < end && *q != d && *q != '\n' && *q != '\r') {
					FAIL(FALLBACK); /* something after the closing quote */
				}
				s = ck->scratch ? ck->scratch : "";
				len = used;
			} else {
				q = next_special(&sc, p, end, d);
				if (q < end && *q == '"') { /* a quote inside an unquoted field */
					FAIL(FALLBACK);
				}
				s = p;
				len = (size_t)(q - p);
			}
			if (want) {
				int rc = put_cell(ck, (size_t)j, row, s, len, count);
				if (rc) {
					FAIL(rc);
				}
			}
			f++;
			if (q == end) {
				at_eof = 1;
				p = end;
				break;
			}
			p = q + 1;
			if (*q == d)
				continue;
			if (*q == '\r' && p < end && *p == '\n')
				p++;
			break;
		}
		if (f != ck->nfields || (size_t)(p - rec) > LONG_RECORD || (at_eof && !last)) {
			FAIL(FALLBACK);
		}
		f = 0;
		row++;
		*rowp = row;
	}
	return OK;
#undef FAIL
}

/* After the last record end in [B, E): a '\n' outside quotes (counting the
 * quotes from B, a record start), or NULL.  The parity is exact for every
 * file the parser accepts (a quote opens a field, closes it or is doubled
 * inside it); for the others the parser gives up anyway. */
static const char *last_record_end(const char *b, const char *e)
{
	const char *last = NULL;
	int in = 0;
	for (const char *p = b;;) {
		const char *q = memchr(p, '"', (size_t)(e - p));
		const char *se = q ? q : e;
		if (!in)
			for (const char *n = se; n > p; n--)
				if (n[-1] == '\n') {
					last = n;
					break;
				}
		if (!q)
			return last;
		in ^= 1;
		p = q + 1;
	}
}

/* Read the records of [beg, end) through a window (see the top). */
static void *read_chunk(void *arg)
{
	chunk *ck = arg;
	size_t row = 0, f = 0;
	ck->status = OK;
	/* fields after LAST_WANT are passed over a record's rest at a time */
	size_t skip_from = 0;
	for (size_t i = 0; i < ck->nfields; i++)
		if (ck->colof[i] >= 0 && (!ck->active || ck->active[ck->colof[i]]))
			skip_from = i + 1;
	if (ck->delim == '\n' || ck->delim == '\r' || ck->delim == '"')
		skip_from = SIZE_MAX;
	off_t pos = ck->beg - ck->map, stop = ck->end - ck->map;
	size_t cap = tn_frame_fast_window ? tn_frame_fast_window : WINDOW, have = 0;
	char *buf = tn_malloc(cap);
	if (!buf) {
		ck->status = NOMEM;
		goto out;
	}
	for (;;) {
		while (have < cap && pos < stop) {
			size_t n = cap - have;
			if ((off_t)n > stop - pos)
				n = (size_t)(stop - pos);
			ssize_t got = pread(ck->fd, buf + have, n, pos);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) { /* an I/O error or a file cut short: the reference tells */
				ck->status = FALLBACK;
				goto out;
			}
			have += (size_t)got;
			pos += got;
		}
		int tail = pos == stop;
		const char *end = buf + have;
		const char *soft = tail ? end : last_record_end(buf, end);
		if (!soft) { /* one record fills the window: a larger one */
			if (cap > LONG_RECORD) {
				ck->status = FALLBACK;
				goto out;
			}
			char *nb = tn_realloc(buf, cap * 2);
			if (!nb) {
				ck->status = NOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
			continue;
		}
		int rc = parse_records(ck, buf, soft, tail && ck->last, skip_from, &row, &f);
		if (rc != OK) {
			ck->status = rc;
			goto out;
		}
		f = 0;
		if (tail)
			break;
		have = (size_t)(end - soft);
		memmove(buf, soft, have);
	}
out:
	free(buf);
	ck->nrows = row;
	ck->partial = ck->status == OK ? 0 : f;
	return NULL;
}

static int chunk_alloc(chunk *ck, size_t ncols)
{
	ck->text = tn_calloc(ncols ? ncols : 1, 1);
	ck->first_text = tn_calloc(ncols ? ncols : 1, sizeof *ck->first_text);
	ck->nblank = tn_calloc(ncols ? ncols : 1, sizeof *ck->nblank);
	ck->intern = tn_calloc((ncols ? ncols : 1) * INTERN_SLOTS, sizeof *ck->intern);
	return ck->text && ck->first_text && ck->nblank && ck->intern ? 0 : -1;
}

static void chunk_release(chunk *ck)
{
	free(ck->text);
	free(ck->first_text);
	free(ck->nblank);
	free(ck->scratch);
	free(ck->intern);
	tn_frame_pool_drop(&ck->pool); /* NULL once handed to the frame */
	ck->intern = NULL;
	ck->text = NULL;
	ck->first_text = NULL;
	ck->nblank = NULL;
	ck->scratch = NULL;
	ck->scratch_cap = 0;
}

/* Move N bytes of BLOCK from offset FROM down to offset TO.  Usually the
 * ranges overlap (the second half's rows start at an estimate of the first
 * half's, a little above its end) and this is a memmove in pages already
 * written.  When they do not (a file read again with the bound on the first
 * half's rows, far above its end), the source is copied 2 MiB at a
 * time and each piece copied is given back to the system at once, so the
 * move does not hold both copies: the peak memory stays the columns'. */
static void move_down(void *block, size_t to, size_t from, size_t n)
{
	char *b = block;
	if (to + n > from) {
		memmove(b + to, b + from, n);
		return;
	}
	const size_t piece = (size_t)2 << 20;
	for (size_t done = 0; done < n; done += piece) {
		size_t k = n - done < piece ? n - done : piece;
		memcpy(b + to + done, b + from + done, k);
		drop_pages(b, b + from + done, b + from + done + k);
	}
}

/* Run the chunks (the first on this thread, the others on new threads). */
static void run_chunks(chunk *ck, int n)
{
	pthread_t th[2];
	int started[2] = {0, 0};
	for (int k = 1; k < n; k++)
		started[k] = pthread_create(&th[k], NULL, read_chunk, &ck[k]) == 0;
	read_chunk(&ck[0]);
	for (int k = 1; k < n; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		else
			read_chunk(&ck[k]); /* no thread: read it here */
	}
}

/* count_bytes over a long range, dropping the pages behind */
static void count_range(const char *map, const char *beg, const char *end, size_t *nlines,
			size_t *nquotes)
{
	size_t nl = 0, nq = 0;
	for (const char *p = beg; p < end;) {
		const char *e = (size_t)(end - p) > DROP_EVERY ? p + DROP_EVERY : end;
		size_t a, b;
		count_bytes(p, e, &a, &b);
		nl += a;
		nq += b;
		drop_pages(map, p, e);
		p = e;
	}
	*nlines = nl;
	*nquotes = nq;
}

/* A line end near the middle of [beg, end), or NULL.  It is a guess: the
 * line end may lie inside a quoted field.  Whether it does is found out for
 * free by the first half's reader, which starts at a true record boundary
 * and must end exactly at the split at the end of a record (a quoted field
 * running past the split finds no closing quote there); when it does not,
 * the file is read again on one thread.  So no pass counts quotes first. */
static const char *find_split(const char *beg, const char *end)
{
	const char *mid = beg + (end - beg) / 2;
	const char *n = memchr(mid, '\n', (size_t)(end - mid));
	return n && n + 1 < end ? n + 1 : NULL;
}

/* Rows [BEG, END) can hold at most: a record has NFIELDS - 1 delimiters and
 * a line end (the last one may lack it but then has at least one byte). */
static size_t rows_bound(const char *beg, const char *end, size_t nfields)
{
	return (size_t)(end - beg) / (nfields ? nfields : 1) + 1;
}

/* About how many rows the first half [BEG, END) (offsets in FD) holds, from
 * the line ends of SAMPLES evenly spaced pieces of it, with a margin; at
 * most BOUND.  The second half's rows are stored from there, so that once
 * both are read the second half moves down by the margin only, in place,
 * instead of from BOUND into fresh pages: those pages, faulted and zeroed
 * by the kernel, were a quarter of the reading time on a 539 MB file.  A
 * file whose first half holds more rows than the estimate (line lengths
 * that vary along the file in a way the pieces miss) is read again with
 * BOUND (read_fast's LOOSE), never wrongly. */
#define SAMPLES 16
#define SAMPLE_MAX ((size_t)64 << 10)
int tn_frame_fast_underestimate;
size_t tn_frame_fast_rereads;
static size_t estimate_rows(int fd, off_t beg, off_t end, size_t bound)
{
	size_t range = (size_t)(end - beg), piece = range / (4 * SAMPLES);
	if (piece > SAMPLE_MAX)
		piece = SAMPLE_MAX;
	if (piece < 16)
		return bound;
	char *buf = tn_malloc(piece);
	if (!buf)
		return bound;
	size_t lines = 0, bytes = 0;
	for (size_t k = 0; k < SAMPLES; k++) {
		off_t at = beg + (off_t)((range - piece) / (SAMPLES - 1) * k);
		ssize_t got = pread(fd, buf, piece, at);
		if (got <= 0)
			break;
		size_t nl, nq;
		count_bytes(buf, buf + got, &nl, &nq); /* '\n' and '\r': CRLF counts twice, more rows */
		lines += nl;
		bytes += (size_t)got;
	}
	free(buf);
	if (lines == 0 || bytes == 0)
		return bound;
	double est = (double)range * (double)lines / (double)bytes;
	est = tn_frame_fast_underestimate ? est / 4 : est * 1.02 + 256;
	return est < (double)bound ? (size_t)est : bound;
}

static tn_frame *read_fast(const char *path, const char *const *want, size_t nwant, int threads, int loose,
			   int *fallback, int *was_two, int *overflow, tn_error *err)
{
	*fallback = 1;
	*was_two = 0;
	*overflow = 0;
	if (strcmp(path, "-") == 0)
		return NULL;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (unsigned long long)st.st_size > (unsigned long long)SIZE_MAX / 2) {
		close(fd);
		return NULL;
	}
	size_t size = (size_t)st.st_size;
	const char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* advice only */

	tn_frame *f = NULL;
	int *colof = NULL;
	chunk ck[2];
	memset(ck, 0, sizeof ck);
	int nchunks = 0, status = FALLBACK;
	tn_error herr = {0};
	tn_csv *r = tn_csv_open_mem(map, size, path, ',', &herr);
	if (!r)
		goto done;
	if (tn_csv_next(r, &herr) != 1)
		goto done;
	size_t nfields = tn_csv_nfields(r);
	size_t body = (size_t)tn_csv_offset(r);
	if (body >= size)
		goto done; /* a header alone: the reference's business */
	f = tn_calloc(1, sizeof *f);
	if (!f || !(f->path = tn_strdup(path)))
		goto nomem;
	f->ncols = want ? nwant : nfields;
	f->cols = tn_calloc(f->ncols ? f->ncols : 1, sizeof *f->cols);
	colof = tn_malloc(nfields * sizeof *colof);
	fcol *fc = tn_calloc(f->ncols ? f->ncols : 1, sizeof *fc);
	if (!f->cols || !colof || !fc) {
		free(fc);
		goto nomem;
	}
	for (size_t i = 0; i < nfields; i++)
		colof[i] = want ? -1 : (int)i;
	if (want) {
		for (size_t j = 0; j < nwant; j++) {
			size_t i;
			for (i = 0; i < nfields; i++)
				if (strcmp(tn_csv_field(r, i, NULL), want[j]) == 0)
					break;
			if (i == nfields || colof[i] >= 0) { /* missing, or asked twice */
				free(fc);
				goto done;
			}
			colof[i] = (int)j;
			fc[j].field = i;
		}
	} else {
		for (size_t j = 0; j < nfields; j++)
			fc[j].field = j;
	}
	for (size_t j = 0; j < f->ncols; j++) {
		f->cols[j].name = tn_strdup(tn_csv_field(r, fc[j].field, NULL));
		f->cols[j].is_numeric = 1;
		if (!f->cols[j].name) {
			free(fc);
			goto nomem;
		}
	}

	/* split the body, size the rows each half may hold */
	const char *bbeg = map + body, *bend = map + size;
	const char *split = NULL;
	if (threads == 2 || (threads == 0 && size - body >= TWO_THREADS_MIN &&
			     sysconf(_SC_NPROCESSORS_ONLN) >= 2))
		split = find_split(bbeg, bend);
	nchunks = split ? 2 : 1;
	ck[0].beg = bbeg;
	ck[0].end = split ? split : bend;
	ck[1].beg = split;
	ck[1].end = bend;
	/* The columns are sized from the bytes (rows_bound): no counting pass.
	 * The bound is address space only -- pages never written are never
	 * backed, and the blocks are shrunk to the rows at the end -- unless it
	 * would be more than half the machine's memory (a file of one narrow
	 * column, or every column of a wide file): then the line ends are
	 * counted first, as an exact upper bound. */
	size_t bound = rows_bound(bbeg, bend, nfields) + 1;
	long pages = sysconf(_SC_PHYS_PAGES), pgsz = sysconf(_SC_PAGESIZE);
	int count = pages <= 0 || pgsz <= 0 ||
		    (double)bound * 8.0 * (double)(f->ncols ? f->ncols : 1) > (double)pages * (double)pgsz / 2;
	size_t total = 0;
	for (int k = 0; k < nchunks; k++) {
		size_t nl, nq;
		if (count)
			count_range(map, ck[k].beg, ck[k].end, &nl, &nq);
		else
			nl = rows_bound(ck[k].beg, ck[k].end, nfields);
		if (!count && !loose && k == 0 && nchunks == 2)
			nl = estimate_rows(fd, ck[k].beg - map, ck[k].end - map, nl);
		ck[k].last = k == nchunks - 1;
		ck[k].base = total;
		ck[k].cap = nl + 1;
		total += ck[k].cap;
		ck[k].colof = colof;
		ck[k].nfields = nfields;
		ck[k].ncols = f->ncols;
		ck[k].cols = fc;
		ck[k].map = map;
		ck[k].fd = fd;
		ck[k].delim = ',';
		if (chunk_alloc(&ck[k], f->ncols)) {
			free(fc);
			goto nomem_chunks;
		}
	}
	for (size_t j = 0; j < f->ncols; j++) {
		fc[j].cells = tn_malloc(total * 8);
		advise_huge(fc[j].cells, total * 8);
		if (!fc[j].cells) {
			for (size_t k = 0; k < j; k++)
				free(fc[k].cells);
			free(fc);
			goto nomem_chunks;
		}
	}
	run_chunks(ck, nchunks);
	status = OK;
	for (int k = 0; k < nchunks; k++)
		if (ck[k].status > status)
			status = ck[k].status;
	*overflow = ck[0].overflow;

	/* columns that turned text in chunk 0 but not from chunk 1's first row:
	 * chunk 1 is read again for them, as text */
	unsigned char *reread = NULL;
	if (status == OK && nchunks == 2) {
		for (size_t j = 0; j < f->ncols; j++) {
			if (!ck[0].text[j] || (ck[1].text[j] && ck[1].first_text[j] == 0))
				continue;
			if (!reread && !(reread = tn_calloc(f->ncols, 1))) {
				status = NOMEM;
				break;
			}
			reread[j] = 1;
		}
		if (reread && status == OK) {
			chunk again = ck[1];
			again.active = reread;
			again.force = reread;
			again.text = tn_malloc(f->ncols);
			again.scratch = NULL;
			again.scratch_cap = 0;
			again.pool = NULL;
			again.intern = tn_calloc(f->ncols * INTERN_SLOTS, sizeof *again.intern);
			if (!again.text || !again.intern) {
				status = NOMEM;
			} else {
				for (size_t j = 0; j < f->ncols; j++) {
					if (!reread[j])
						continue;
					/* its earlier rows, if rendered numbers, stay in ck[1]'s pool */
					ck[1].text[j] = 0;
				}
				memcpy(again.text, reread, f->ncols); /* text from the first row */
				read_chunk(&again);
				status = again.status;
				if (status == OK && again.nrows != ck[1].nrows) {
					status = FALLBACK;
					again.partial = 0;
				}
				if (status == OK) {
					for (size_t j = 0; j < f->ncols; j++)
						if (reread[j]) { /* now text from its first row */
							ck[1].text[j] = 1;
							ck[1].first_text[j] = 0;
						}
				}
				tn_frame_pool_splice(&ck[1].pool, &again.pool); /* its cells are ck[1]'s now */
			}
			free(again.text);
			free(again.scratch);
			free(again.intern);
		}
	}
	free(reread);
	if (status == OK && nchunks == 2) {
		/* a column that turned text in chunk 1 only: chunk 0's numbers rendered */
		for (size_t j = 0; j < f->ncols && status == OK; j++) {
			if (ck[0].text[j] || !ck[1].text[j])
				continue;
			if (render_rows(&fc[j], &ck[0].pool, ck[0].base, ck[0].base + ck[0].nrows)) {
				/* rows it did not reach are NULL: free all the others */
				status = NOMEM;
			}
			ck[0].text[j] = 1;
			ck[0].first_text[j] = 0;
		}
	}
	if (status != OK) { /* the chunks' pools go in chunk_release */
		for (size_t j = 0; j < f->ncols; j++)
			free(fc[j].cells);
		free(fc);
		if (status == NOMEM)
			goto nomem_chunks;
		goto done;
	}

	/* put the rows together */
	size_t nrows = 0;
	for (int k = 0; k < nchunks; k++)
		nrows += ck[k].nrows;
	for (size_t j = 0; j < f->ncols; j++) {
		tn_column *c = &f->cols[j];
		int text = ck[0].text[j];
		for (int k = 0; k < nchunks; k++)
			c->nblank += ck[k].nblank[j];
		if (nchunks == 2 && ck[1].nrows)
			move_down(fc[j].cells, ck[0].nrows * 8, ck[1].base * 8, ck[1].nrows * 8);
		if (nrows == 0) {
			free(fc[j].cells);
			fc[j].cells = NULL;
			text = 0; /* the reference has no cells and a numeric column */
		} else {
			void *p = tn_realloc(fc[j].cells, nrows * 8);
			if (p)
				fc[j].cells = p; /* a failed shrink keeps the larger block */
		}
		if (text) {
			c->is_numeric = 0;
			c->text = fc[j].cells;
			c->pooled = 1;
		} else {
			c->num = fc[j].cells;
		}
	}
	f->nrows = nrows;
	for (int k = 0; k < nchunks; k++)
		tn_frame_pool_splice(&f->pool, &ck[k].pool);
	free(fc);
	status = OK;
	*fallback = 0;
	goto done;

nomem_chunks:
nomem:
	status = NOMEM;
	*fallback = 0;
	tn_error_set(err, TN_ERR_NOMEM, "%s: out of memory", path);
done:
	*was_two = nchunks == 2;
	for (int k = 0; k < 2; k++)
		chunk_release(&ck[k]);
	free(colof);
	tn_csv_close(r);
	munmap((void *)map, size);
	close(fd);
	if (status != OK) {
		tn_frame_free(f);
		return NULL;
	}
	return f;
}

tn_frame *tn_frame_read_fast(const char *path, const char *const *want, size_t nwant, int threads,
			     int *fallback, tn_error *err)
{
	int two, over;
	tn_frame *f = read_fast(path, want, nwant, threads, 0, fallback, &two, &over, err);
	/* the first half held more rows than estimated: again with the bound */
	if (!f && *fallback && two && over) {
		tn_frame_fast_rereads++;
		f = read_fast(path, want, nwant, 2, 1, fallback, &two, &over, err);
	}
	/* two halves that did not fit (the split was inside a quoted field) or a
	 * defect somewhere: one thread tries before the reference reader does */
	if (!f && *fallback && two)
		f = read_fast(path, want, nwant, 1, 0, fallback, &two, &over, err);
	return f;
}
