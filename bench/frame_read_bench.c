/*
 * frame_read_bench.c -- the CSV column reader alone (issue 17: 1 GB/s for
 * numeric columns): reads FILE's columns COLS (comma-separated) with the
 * fast reader on MODE threads (1 or 2; 0 = the reference reader), REPS
 * times, and prints MB per CPU-second (user + sys of the process) and per
 * wall second, with the load average.  Each rep opens the file afresh.
 * Then the bounds it is compared with, on the same file and machine: read()
 * of the whole file (from the page cache) into a reused 256 KB buffer, which
 * is the copy the reader itself makes, and memcpy of 64 MB (memory bandwidth).
 * Usage: frame_read_bench FILE COLS [THREADS] [REPS]
 */
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include "base/frame_internal.h"
#include "tenure/frame.h"
#include "bench_clock.h"


int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	int reps = argc > 4 ? atoi(argv[4]) : 3;
	char *cols = strdup(argv[2]);
	const char *want[64];
	size_t nwant = 0;
	for (char *t = strtok(cols, ","); t && nwant < 64; t = strtok(NULL, ","))
		want[nwant++] = t;
	struct stat st;
	if (stat(argv[1], &st))
		return 1;
	int mode = threads == 0 ? TN_FRAME_STREAM : threads == 1 ? TN_FRAME_FAST_ONE : TN_FRAME_FAST_TWO;
	double best_c = 1e30, best_w = 1e30, sum = 0;
	for (int r = 0; r < reps; r++) {
		tn_error err = {0};
		double c0 = bench_cpu(), w0 = bench_now();
		tn_frame *f = tn_frame_read_csv_mode(argv[1], want, nwant, mode, &err);
		double cs = bench_cpu() - c0, ws = bench_now() - w0;
		if (!f) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		for (size_t j = 0; j < f->ncols; j++)
			if (f->cols[j].is_numeric)
				sum += f->cols[j].num[f->nrows / 2];
		tn_frame_free(f);
		if (cs < best_c)
			best_c = cs;
		if (ws < best_w)
			best_w = ws;
	}
	double mb = (double)st.st_size / 1e6, la = -1;
	FILE *lp = fopen("/proc/loadavg", "r");
	if (lp) {
		if (fscanf(lp, "%lf", &la) != 1)
			la = -1;
		fclose(lp);
	}
	printf("read %s (%.0f MB) columns %s, %d thread(s), best of %d: %.3f CPU-s = %.0f MB per CPU-second; "
	       "%.3f s wall = %.0f MB/s; load %.2f (check %g)\n",
	       argv[1], mb, argv[2], threads, reps, best_c, mb / best_c, best_w, mb / best_w, la, sum);
	/* the bounds: the file through read() alone, and memcpy */
	double rc = 1e30, rw = 1e30;
	char *buf = malloc(256 << 10);
	for (int r = 0; r < 3 && buf; r++) {
		int fd = open(argv[1], O_RDONLY);
		if (fd < 0)
			break;
		double c0 = bench_cpu(), w0 = bench_now();
		while (read(fd, buf, 256 << 10) > 0)
			;
		double cs = bench_cpu() - c0, ws = bench_now() - w0;
		close(fd);
		if (cs < rc)
			rc = cs;
		if (ws < rw)
			rw = ws;
	}
	free(buf);
	size_t n = (size_t)64 << 20;
	char *a = malloc(n), *b = malloc(n);
	double mw = 1e30;
	if (a && b) {
		memset(a, 1, n);
		memset(b, 2, n);
		for (int r = 0; r < 5; r++) {
			double w0 = bench_now();
			memcpy(r % 2 ? a : b, r % 2 ? b : a, n);
			double ws = bench_now() - w0;
			if (ws < mw)
				mw = ws;
		}
	}
	free(a);
	free(b);
	printf("bounds: read() of the file into a 256 KB buffer %.0f MB per CPU-second (%.0f MB/s wall); "
	       "memcpy of 64 MB %.0f MB/s\n",
	       mb / (rc > 0 ? rc : 1e-9), mb / (rw > 0 ? rw : 1e-9), 64 * 1.048576 / (mw > 0 ? mw : 1e-9));
	free(cols);
	return 0;
}
