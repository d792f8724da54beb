/*
 * fuzz_import.c -- libFuzzer target for the whole import path (CSV and JSON
 * Lines readers, field validation, the store writers) into an in-memory
 * SQLite store.  The first byte picks the kind and the format.
 */
#include "tenure.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tn_store *store;
static char path[64];

static void cleanup(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry point */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tn_error err = {0};
	if (!store) {
		if (tn_store_open(":memory:", TN_STORE_CREATE, &store, &err))
			__builtin_trap();
		/* customers the other kinds can refer to */
		tn_store_begin(store, &err);
		for (int i = 0; i < 4; i++) {
			char id[8];
			snprintf(id, sizeof id, "c%d", i);
			tn_customer_rec c = {id, 0, "SA", "organic", NULL};
			tn_store_put_customer(store, &c, NULL, &err);
		}
		tn_store_commit(store, &err);
		snprintf(path, sizeof path, "/tmp/tenure_fuzz_%d", (int)getpid());
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	int sel = data[0];
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return 0;
	fwrite(data + 1, 1, size - 1, fp);
	fclose(fp);
	tn_import_opts o = {.kind = (tn_kind)(sel % TN_KIND_COUNT),
			    .format = (sel / TN_KIND_COUNT) % 2 ? TN_INPUT_JSONL : TN_INPUT_CSV};
	tn_import_result res;
	tn_error_clear(&err);
	int rc = tn_import(store, path, &o, &res, &err);
	if (rc == TN_OK && res.rejected)
		__builtin_trap(); /* a bad row must fail the import when there is no rejects file */
	if (rc != TN_OK && err.code == TN_OK)
		__builtin_trap(); /* a failure always carries its message */
	return 0;
}
