/*
 * frame_read_bench.c -- the CSV column reader alone (issue 17: 1 GB/s for
 * numeric columns): reads FILE's columns COLS (comma-separated) with the
 * fast reader on THREADS threads (1 or 2; 0 = the reference reader), REPS
 * times, and prints MB per CPU-second (user + sys of the process) and per
 * wall second -- the median and the best of the reps -- with the page faults
 * of a read and the load average.  Each rep opens the file afresh.
 * Then the floors it is compared with, on the same file, machine and load
 * (BOUNDS=0 in the environment leaves them out):
 *   - read() of the whole file (from the page cache) into a reused 256 KB
 *     buffer: the copy the reader itself makes;
 *   - the same plus memchr counting the '\n' of each buffer: the least any
 *     reader that finds records does;
 *   - writing the columns' doubles (rows x numeric columns of the read) into
 *     fresh memory, as the reader must (page faults and the kernel zeroing
 *     the pages; in huge pages as the reader asks);
 *   - memcpy of 64 MB between warm buffers (memory bandwidth).
 * Each floor is the median of 5 (CPU and wall).
 * Usage: frame_read_bench FILE COLS [THREADS] [REPS]
 */
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include "base/frame_internal.h"
#include "tenure/frame.h"
#include "bench_clock.h"

static long minflt(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define FLOOR_REPS 5
static volatile size_t sink;

/* The floors: KIND 0 read() alone, 1 read() + memchr '\n', 2 fresh columns of
 * NBYTES written, 3 memcpy of 64 MB.  Median CPU and wall seconds in *C, *W. */
static void floor_of(int kind, const char *path, size_t nbytes, double *c, double *w)
{
	double cs[FLOOR_REPS], ws[FLOOR_REPS];
	size_t win = (size_t)256 << 10, big = (size_t)64 << 20;
	char *buf = kind < 2 ? malloc(win) : NULL;
	char *a = kind == 3 ? malloc(big) : NULL, *b = kind == 3 ? malloc(big) : NULL;
	if (kind == 3 && a && b) {
		memset(a, 1, big);
		memset(b, 2, big);
	}
	int n = 0;
	for (int r = 0; r < FLOOR_REPS; r++) {
		int fd = kind < 2 ? open(path, O_RDONLY) : -1;
		if (kind < 2 && (fd < 0 || !buf))
			break;
		double c0 = bench_cpu(), w0 = bench_now();
		if (kind < 2) {
			ssize_t got;
			size_t lines = 0;
			while ((got = read(fd, buf, win)) > 0)
				if (kind == 1)
					for (const char *p = buf, *e = buf + got; (p = memchr(p, '\n', (size_t)(e - p))); p++)
						lines++;
			sink += lines;
		} else if (kind == 2) {
			double *col = malloc(nbytes);
			if (!col)
				break;
#ifdef MADV_HUGEPAGE
			/* as the reader's columns (frame_fast.c advise_huge) */
			uintptr_t h = (uintptr_t)2 << 20, lo = ((uintptr_t)col + h - 1) & ~(h - 1),
				  hi = ((uintptr_t)col + nbytes) & ~(h - 1);
			if (hi > lo)
				madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#endif
			for (size_t i = 0; i < nbytes / 8; i++)
				col[i] = (double)i;
			sink += (size_t)col[nbytes / 16];
			free(col);
		} else if (a && b) {
			memcpy(r % 2 ? a : b, r % 2 ? b : a, big);
			sink += (size_t)a[r];
		}
		cs[n] = bench_cpu() - c0;
		ws[n] = bench_now() - w0;
		n++;
		if (fd >= 0)
			close(fd);
	}
	free(buf);
	free(a);
	free(b);
	*c = n ? median(cs, n) : 0;
	*w = n ? median(ws, n) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	int reps = argc > 4 ? atoi(argv[4]) : 3;
	if (reps < 1 || reps > 1000)
		reps = 3;
	char *cols = strdup(argv[2]);
	const char *want[64];
	size_t nwant = 0;
	for (char *t = strtok(cols, ","); t && nwant < 64; t = strtok(NULL, ","))
		want[nwant++] = t;
	struct stat st;
	if (stat(argv[1], &st))
		return 1;
	int mode = threads == 0 ? TN_FRAME_STREAM : threads == 1 ? TN_FRAME_FAST_ONE : TN_FRAME_FAST_TWO;
	double *cv = malloc(reps * sizeof *cv), *wv = malloc(reps * sizeof *wv), sum = 0;
	long faults = 0;
	size_t outbytes = 0;
	for (int r = 0; r < reps; r++) {
		tn_error err = {0};
		long f0 = minflt();
		double c0 = bench_cpu(), w0 = bench_now();
		tn_frame *f = tn_frame_read_csv_mode(argv[1], want, nwant, mode, &err);
		cv[r] = bench_cpu() - c0;
		wv[r] = bench_now() - w0;
		faults = minflt() - f0;
		if (!f) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		outbytes = 0;
		for (size_t j = 0; j < f->ncols; j++)
			if (f->cols[j].is_numeric) {
				sum += f->cols[j].num[f->nrows / 2];
				outbytes += f->nrows * 8;
			}
		tn_frame_free(f);
	}
	double best_c = cv[0], best_w = wv[0];
	for (int r = 1; r < reps; r++) {
		best_c = cv[r] < best_c ? cv[r] : best_c;
		best_w = wv[r] < best_w ? wv[r] : best_w;
	}
	double med_c = median(cv, reps), med_w = median(wv, reps);
	double mb = (double)st.st_size / 1e6, la = -1;
	FILE *lp = fopen("/proc/loadavg", "r");
	if (lp) {
		if (fscanf(lp, "%lf", &la) != 1)
			la = -1;
		fclose(lp);
	}
	/* the first line keeps the format peers.sh parses ("best of N: C CPU-s = M MB per CPU-second; W s wall = R MB/s") */
	printf("read %s (%.0f MB) columns %s, %d thread(s), best of %d: %.3f CPU-s = %.0f MB per CPU-second; "
	       "%.3f s wall = %.0f MB/s; load %.2f (check %g)\n",
	       argv[1], mb, argv[2], threads, reps, best_c, mb / best_c, best_w, mb / best_w, la, sum);
	printf("  median of %d: %.3f CPU-s = %.0f MB per CPU-second; %.3f s wall = %.0f MB/s; %ld page faults a read\n",
	       reps, med_c, mb / med_c, med_w, mb / med_w, faults);
	free(cv);
	free(wv);
	free(cols);
	const char *bounds = getenv("BOUNDS");
	if (bounds && strcmp(bounds, "0") == 0)
		return 0;
	double c[4], w[4];
	for (int k = 0; k < 4; k++)
		floor_of(k, argv[1], outbytes ? outbytes : 8, &c[k], &w[k]);
	double ob = (double)outbytes / 1e6;
	printf("floors (medians of %d, same file and load): read() into a 256 KB buffer %.0f MB per CPU-second "
	       "(%.0f MB/s wall); read() + memchr '\\n' %.0f MB per CPU-second (%.0f MB/s wall); the %.0f MB of "
	       "doubles written to fresh memory %.3f CPU-s (%.0f MB/s wall); memcpy of 64 MB %.0f MB/s\n",
	       FLOOR_REPS, mb / (c[0] > 0 ? c[0] : 1e-9), mb / (w[0] > 0 ? w[0] : 1e-9), mb / (c[1] > 0 ? c[1] : 1e-9),
	       mb / (w[1] > 0 ? w[1] : 1e-9), ob, c[2], ob / (w[2] > 0 ? w[2] : 1e-9),
	       64 * 1.048576 / (w[3] > 0 ? w[3] : 1e-9));
	/* the one line peers.sh quotes */
	printf("bounds: read() %.0f MB per CPU-second, read() + memchr %.0f MB per CPU-second, fresh columns %.0f MB "
	       "per CPU-second of output, memcpy %.0f MB/s\n",
	       mb / (c[0] > 0 ? c[0] : 1e-9), mb / (c[1] > 0 ? c[1] : 1e-9), ob / (c[2] > 0 ? c[2] : 1e-9),
	       64 * 1.048576 / (w[3] > 0 ? w[3] : 1e-9));
	return 0;
}
