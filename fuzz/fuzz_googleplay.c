/* fuzz_googleplay.c -- libFuzzer target for the googleplay notification decoder (fuzz_sources_common.h). */
#include "tenure/sources.h"
#define FUZZ_KIND TN_SRC_GOOGLEPLAY
#include "fuzz_sources_common.h"
