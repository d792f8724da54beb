/* fuzz_appstore.c -- libFuzzer target for the appstore notification decoder (fuzz_sources_common.h). */
#include "tenure/sources.h"
#define FUZZ_KIND TN_SRC_APPSTORE
#include "fuzz_sources_common.h"
