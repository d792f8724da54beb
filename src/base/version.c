/* version.c -- the library version string. */
#include "tenure.h"

const char *tn_version(void) { return "0.1.0"; }
