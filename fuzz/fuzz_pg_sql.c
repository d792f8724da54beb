/*
 * fuzz_pg_sql.c -- libFuzzer target for the PostgreSQL backend's text work
 * (src/store/db_pg.c): any bytes given as portable SQL, as migration DDL or
 * as a --db URL must be translated / redacted without a crash, an overrun or
 * a leak, and a redacted URL never holds the password it was given.
 */
#include "store/db_pg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry point */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	size_t n = strlen(s);
	int np = 0;
	char *t = tn_pg_translate(s, &np);
	if (!t || strlen(t) > n * 8 + 63 || np < 0 || np > 65535)
		__builtin_trap();
	free(t);
	char *d = tn_pg_ddl(s);
	if (!d || strlen(d) > n * 4 + 15)
		__builtin_trap();
	free(d);
	char *r = tn_pg_redact(s);
	if (!r || strlen(r) > n + n / 3 + 15)
		__builtin_trap();
	free(r);
	/* a URL with user:SECRET@: the redacted form has no SECRET */
	char url[300];
	snprintf(url, sizeof url, "postgresql://u:%.*s@h/db", (int)(n < 200 ? n : 200), s);
	if (n >= 4 && !memchr(s, '@', n < 200 ? n : 200) && !memchr(s, '/', n < 200 ? n : 200) &&
	    !memchr(s, '?', n < 200 ? n : 200) && n < 200 && !strstr("postgresql://u@h/db", s)) {
		r = tn_pg_redact(url);
		if (!r || strstr(r, s))
			__builtin_trap();
		free(r);
	}
	free(s);
	return 0;
}
