/*
 * tenure/svg.h -- small, dependency-free SVG charts for the HTML report:
 * line charts with confidence bands and a shaded x-range (survival curves,
 * hazard with the danger window, churn-rate trends), heatmaps (cohorts) and
 * forest charts (hazard ratios with intervals).  Charts are written into a
 * capped growable text buffer; text is XML-escaped.  Nothing is fetched:
 * the output is inline SVG that any browser renders offline.
 */
#ifndef TENURE_SVG_H
#define TENURE_SVG_H

#include <stddef.h>
#include "tenure/error.h"

/* A growable text buffer with a cap (TN_SBUF_MAX bytes); after a failed
 * append oom is set and further appends are ignored. */
#define TN_SBUF_MAX ((size_t)256 << 20)
typedef struct tn_sbuf {
	char *p;
	size_t len, cap;
	int oom;
} tn_sbuf;

TN_API void tn_sbuf_printf(tn_sbuf *b, const char *fmt, ...) TN_PRINTF(2, 3);
/* Append S with &, <, >, " and ' escaped. */
TN_API void tn_sbuf_escape(tn_sbuf *b, const char *s);
TN_API void tn_sbuf_free(tn_sbuf *b);

/* One line: N points (x[i], y[i]); lo/hi (or NULL) draw a band around it;
 * step draws a step function (Kaplan-Meier).  NaN points are skipped. */
typedef struct tn_svg_series {
	const char *name;
	size_t n;
	const double *x, *y, *lo, *hi;
	int step;
} tn_svg_series;

typedef struct tn_svg_line_opts {
	const char *title;
	const char *xlabel, *ylabel;
	double ymin, ymax;        /* NaN: from the data */
	int y_percent;            /* label the y axis as percentages */
	double shade_from, shade_to; /* NaN: none; else shade this x range */
	const char *shade_label;
	const double *marks;      /* NMARKS x positions marked by a labelled dashed line, or NULL */
	size_t nmarks;
	const char *const *xtick_labels; /* NULL: numeric ticks; else a label per integer x 0..n-1 */
	size_t nxtick_labels;
	int xtick_every;          /* with xtick_labels: label every n-th tick only (0, 1: all) */
	int hover;                /* 1: each point (at most 60 a series) carries a hover read-out,
				     <circle data-tip> with a <title> "series · x: y" */
} tn_svg_line_opts;

/* Append an <svg> line chart. */
TN_API void tn_svg_line_chart(tn_sbuf *b, const tn_svg_line_opts *o, const tn_svg_series *s, size_t ns);

/* Append a heatmap: NROWS x NCOLS values (row-major, NaN blank) in [vmin,
 * vmax] coloured from light to dark, each cell labelled as a percentage. */
TN_API void tn_svg_heatmap(tn_sbuf *b, const char *title, size_t nrows, size_t ncols, const double *v,
			   const char *const *row_labels, const char *const *col_labels, double vmin, double vmax);

/* Append a forest chart: estimate with [lo, hi] per label on a log axis
 * with a reference line at REF (1 for hazard ratios). */
TN_API void tn_svg_forest(tn_sbuf *b, const char *title, size_t n, const char *const *labels, const double *est,
			  const double *lo, const double *hi, double ref);
/* The same, coloured by KEY[i] (the factor of row i, e.g. "plan") with a
 * colour key naming each factor and, when KEY_NOTE[i] is given, its
 * reference level ("plan (vs monthly)"). */
TN_API void tn_svg_forest_keyed(tn_sbuf *b, const char *title, size_t n, const char *const *labels,
				const double *est, const double *lo, const double *hi, double ref,
				const char *const *key, const char *const *key_note);

#endif
