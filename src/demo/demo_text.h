/*
 * demo_text.h -- internal: free-text answers for the demo company.
 */
#ifndef TENURE_DEMO_TEXT_H
#define TENURE_DEMO_TEXT_H

enum {
	DEMO_FUNCTIONALITY,
	DEMO_FEATURE_REQUEST,
	DEMO_USABILITY,
	DEMO_RELIABILITY,
	DEMO_CUSTOMER_SERVICE,
	DEMO_PRICING,
	DEMO_NREASONS
};

/* LANG: 0 English, 1 Arabic, 2 Persian. */
const char *demo_text(int reason, int lang, unsigned variant);
const char *demo_praise(int lang, unsigned variant);

#endif
