/* fuzz_stripe.c -- libFuzzer target for the stripe notification decoder (fuzz_sources_common.h). */
#include "tenure/sources.h"
#define FUZZ_KIND TN_SRC_STRIPE
#include "fuzz_sources_common.h"
