/*
 * frame_internal.h -- internal: the reference (slow, obviously right) paths of
 * the frame reader, kept callable so tests can compare the fast paths with
 * them (tests/unit/test_fastnum.c, tests/unit/test_frame_fast.c).
 */
#ifndef TN_FRAME_INTERNAL_H
#define TN_FRAME_INTERNAL_H

#include "tenure/frame.h"

/* tn_parse_double through strtod only (no fast path). */
int tn_parse_double_strtod(const char *s, size_t len, double *out);

/* How tn_frame_read_csv_mode reads. */
enum tn_frame_mode {
	TN_FRAME_AUTO = 0,   /* what tn_frame_read_csv does */
	TN_FRAME_STREAM,     /* the reference: tn_csv record by record */
	TN_FRAME_FAST_ONE,   /* frame_fast.c: read window, block scanning, one thread */
	TN_FRAME_FAST_TWO,   /* frame_fast.c, two threads (whatever the file's size) */
};

tn_frame *tn_frame_read_csv_mode(const char *path, const char *const *want, size_t nwant, int mode,
				 tn_error *err);

/* The fast reader's first read window in bytes (frame_fast.c; 0: the
 * default).  Tests set it small so that records cross window ends. */
extern size_t tn_frame_fast_window;

/* Tests only: nonzero makes frame_fast.c's estimate of the first half's rows
 * a quarter of what it should be, so that the read again with the bound
 * (the path of a file the estimate misses) is taken; tn_frame_fast_rereads
 * counts those reads (not thread-safe: tests and benches only). */
extern int tn_frame_fast_underestimate;
extern size_t tn_frame_fast_rereads;

/* The fast, two-thread reader (frame_fast.c).  THREADS: 0 auto, 1 or 2.
 * Returns NULL with *FALLBACK = 1 when the reference reader must read the file
 * (anything unusual, every error but out-of-memory), or with *FALLBACK = 0
 * and err set when out of memory. */
tn_frame *tn_frame_read_fast(const char *path, const char *const *want, size_t nwant, int threads,
			     int *fallback, tn_error *err);

/* String pools outside a frame (the fast reader's chunks each fill their
 * own), handed to the frame at the end: a copy of S (N bytes, then a NUL) in
 * *POOL; SRC's strings moved into DST's pool; all of *POOL freed. */
char *tn_frame_pool_put(void **pool, const char *s, size_t n);
void tn_frame_pool_splice(void **dst, void **src);
void tn_frame_pool_drop(void **pool);

#endif
