/*
 * fuzz_csv.c -- libFuzzer target for the CSV reader: any bytes must give
 * records or a clean error, never a crash, a hang or a leak.
 */
#include "tenure/csv.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry point */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tn_error err = {0};
	tn_csv *r = tn_csv_open_mem((const char *)data, size, "fuzz.csv", ',', &err);
	if (!r)
		return 0;
	size_t total = 0;
	while (tn_csv_next(r, &err) == 1) {
		for (size_t i = 0; i < tn_csv_nfields(r); i++) {
			size_t len;
			const char *f = tn_csv_field(r, i, &len);
			if (strlen(f) > len) /* fields are NUL-terminated at their length */
				__builtin_trap();
			total += len;
		}
		if (tn_csv_line(r) < 1)
			__builtin_trap();
	}
	if (total > size)
		__builtin_trap();
	tn_csv_close(r);
	return 0;
}
