/* fuzz_revenuecat.c -- libFuzzer target for the revenuecat notification decoder (fuzz_sources_common.h). */
#include "tenure/sources.h"
#define FUZZ_KIND TN_SRC_REVENUECAT
#include "fuzz_sources_common.h"
