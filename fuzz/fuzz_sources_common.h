/*
 * fuzz_sources_common.h -- the body of the source decoder targets
 * (fuzz_appstore.c, fuzz_googleplay.c, fuzz_stripe.c, fuzz_revenuecat.c):
 * the input is a notification body of FUZZ_KIND.  It is verified against a
 * configured source (Stripe, RevenueCat and Google Play; their secrets are
 * fixed, so only the parsers and the refusals run), then decoded as a kept
 * body is for replay and stored into a temporary store -- the state machine
 * and the store writes run on whatever the decoder accepts.
 */
#include "tenure.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int src_decode_at(int kind, const char *dedupe, const char *body, size_t len, tn_time received, tn_source_note *n,
		  tn_error *err);

static tn_store *store;
static tn_sources *sources;
static char db[64];

static void cleanup(void)
{
	tn_sources_free(sources);
	tn_store_close(store);
	unlink(db);
}

static void setup(void)
{
	tn_error err = {0};
	snprintf(db, sizeof db, "/tmp/tenure_fuzz_src%d_%d.db", FUZZ_KIND, (int)getpid());
	unlink(db);
	if (tn_store_open(db, TN_STORE_CREATE, &store, &err))
		__builtin_trap();
	tn_source_spec sp = {.kind = FUZZ_KIND,
			     .secret = "whsec_fuzzing",
			     .authorization = "Bearer fuzz",
			     .package = "com.example.app"};
	if (FUZZ_KIND != TN_SRC_APPSTORE && tn_sources_add(store, &sp, 1, NULL, &err))
		__builtin_trap();
	if (tn_sources_load(store, &sources, &err))
		__builtin_trap();
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!store)
		setup();
	tn_error err = {0};
	tn_source_note n;
	int why;
	tn_source_request rq = {.body = (const char *)data,
				.len = size,
				.authorization = "Bearer fuzz",
				.signature = "t=1,v1=00",
				.now = 1700000000};
	if (tn_sources_verify(sources, FUZZ_KIND, &rq, &n, &why, &err) == TN_OK)
		tn_source_note_free(&n);
	char *body = malloc(size + 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = 0;
	tn_error e2 = {0};
	if (src_decode_at(FUZZ_KIND, NULL, body, size, 1700000000, &n, &e2) == TN_OK) {
		int oc;
		if (tn_store_begin(store, &e2) == TN_OK) {
			tn_sources_store(store, &n, 1700000000, &oc, &e2);
			tn_store_rollback(store);
		}
		tn_source_note_free(&n);
	}
	if (FUZZ_KIND == TN_SRC_GOOGLEPLAY) {
		tn_error e3 = {0};
		if (tn_sources_googleplay_state(body, size, 1700000000, &n, &e3) == TN_OK)
			tn_source_note_free(&n);
	}
	free(body);
	return 0;
}
