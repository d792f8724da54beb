/*
 * fastnum.h -- internal: an exact fast path for decimal numbers (Clinger's),
 * used by tn_parse_double so that reading a CSV column does not pay strtod's
 * price for every "107.75".
 *
 * tn_fastnum_parse() handles the common shape [+-]digits[.digits][(e|E)[+-]digits]
 * with at most 19 significant digits whose value w * 10^q is exact in one
 * IEEE-754 operation (w <= 2^53 and |q| <= 22, or q a little above 22 while
 * w * 10^(q-22) stays an exact integer <= 2^53).  Then a single correctly
 * rounded multiplication or division gives the correctly rounded result, the
 * same bits as glibc's strtod (which is correctly rounded).  Everything else
 * (more digits, larger exponents, any other syntax) returns 0 so the caller
 * falls back to strtod: the fast path never decides what strtod would reject.
 * It never looks at the locale: the decimal point is '.'.
 */
#ifndef TN_FASTNUM_H
#define TN_FASTNUM_H

#include <stddef.h>

/* 1 with *out set when S[0..LEN) (no surrounding spaces) is a plain decimal
 * number within the fast path; 0 when the caller must use strtod. */
int tn_fastnum_parse(const char *s, size_t len, double *out);

#endif
