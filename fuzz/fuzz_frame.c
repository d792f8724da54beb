/*
 * fuzz_frame.c -- libFuzzer target for the fast frame reader (frame_fast.c):
 * any bytes, read as a CSV file by the fast two-thread reader and by the
 * reference reader (tn_csv record by record), must give the same frame or the
 * same error -- never a crash, a hang, a leak or a difference.  The input is
 * put in a memory file (memfd) so the fast reader opens it like a file on
 * disk.  Inputs of odd length are read through a read window of 1 to 61
 * bytes (the default is 256 KB), so that records and quoted fields cross the
 * window's ends as they do in large files.
 */
#define _GNU_SOURCE
#include "base/frame_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry point */

static void same(const tn_frame *a, const tn_frame *b)
{
	if (a->nrows != b->nrows || a->ncols != b->ncols)
		__builtin_trap();
	for (size_t j = 0; j < a->ncols; j++) {
		const tn_column *x = &a->cols[j], *y = &b->cols[j];
		if (strcmp(x->name, y->name) || x->is_numeric != y->is_numeric || x->nblank != y->nblank)
			__builtin_trap();
		for (size_t i = 0; i < a->nrows; i++)
			if (x->is_numeric ? memcmp(&x->num[i], &y->num[i], sizeof(double)) != 0
					  : strcmp(x->text[i], y->text[i]) != 0)
				__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_frame", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	tn_frame_fast_window = size % 2 ? 1 + size % 61 : 0;
	static const char *const want[] = {"b", "a"};
	for (int w = 0; w < 2; w++) {
		tn_error e0 = {0};
		tn_frame *ref = tn_frame_read_csv_mode(path, w ? want : NULL, w ? 2 : 0, TN_FRAME_STREAM, &e0);
		for (int mode = TN_FRAME_FAST_ONE; mode <= TN_FRAME_FAST_TWO; mode++) {
			tn_error e1 = {0};
			tn_frame *f = tn_frame_read_csv_mode(path, w ? want : NULL, w ? 2 : 0, mode, &e1);
			if (!ref != !f)
				__builtin_trap();
			if (ref)
				same(ref, f);
			else if (e0.code != e1.code || strcmp(e0.msg, e1.msg) != 0)
				__builtin_trap();
			tn_frame_free(f);
		}
		tn_frame_free(ref);
	}
	close(fd);
	return 0;
}
