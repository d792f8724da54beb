/*
 * fuzz_outbox.c -- libFuzzer target for what the outbox parses: an e-mail
 * template (tenure email template), the rendered parts built into a MIME
 * message, a Tenure-Signature header, and a time zone.  Any bytes must give
 * a result or a clean error, never a crash, a hang or a leak.
 */
#include "tenure/outbox.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry point */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	tn_error err = {0};
	tn_email_template t;
	if (tn_email_template_parse(s, size, &t, &err) == TN_OK) {
		const char *vars[] = {"name", "<b>&\"'\r\n", "offer", "20%", "plan", "monthly", "period_end", "2026-01-01",
				      "unsubscribe_url", "http://x/u", "business", "Pulse"};
		char *subj = NULL, *text = NULL, *html = NULL, *mime = NULL;
		if (tn_email_render(t.subject, vars, 6, -1, &subj, NULL) == TN_OK &&
		    tn_email_render(t.text, vars, 6, 0, &text, NULL) == TN_OK &&
		    tn_email_render(t.html, vars, 6, 1, &html, NULL) == TN_OK) {
			if (strchr(subj, '\n') || strchr(subj, '\r'))
				__builtin_trap(); /* a value never breaks the header */
			if (tn_email_build("Pulse <a@b.example>", "c@d.example", "fa", subj, text, html, "http://x/u",
					   "id@x", 0, &mime, NULL) == TN_OK && !strstr(mime, "\r\n\r\n"))
				__builtin_trap(); /* headers, then a body */
		}
		free(subj);
		free(text);
		free(html);
		free(mime);
		tn_email_template_free(&t);
	} else if (!err.msg[0]) {
		__builtin_trap(); /* an error says why */
	}
	tn_webhook_verify("0123456789abcdef", s, s, size, 0, 300, NULL);
	int m;
	if (tn_tz_offset(s, &m) == 0 && (m < -14 * 60 || m > 14 * 60))
		__builtin_trap();
	free(s);
	return 0;
}
