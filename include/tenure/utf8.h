/*
 * tenure/utf8.h -- UTF-8 validation for everything that enters the store.
 */
#ifndef TENURE_UTF8_H
#define TENURE_UTF8_H

#include <stddef.h>
#include "tenure/error.h"

/* Returns 1 when S[0..LEN) is well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF); otherwise 0 and the byte offset of the
 * first bad sequence in *bad (if bad is not NULL). */
TN_API int tn_utf8_valid(const char *s, size_t len, size_t *bad);

#endif
