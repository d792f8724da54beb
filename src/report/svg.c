/*
 * svg.c -- inline SVG charts for the HTML report (see include/tenure/svg.h):
 * line charts with bands and a shaded range, heatmaps and forest charts.
 * Axis ticks use the "nice numbers" of Heckbert, "Nice numbers for graph
 * labels", Graphics Gems (1990).  Colours: Okabe & Ito (2008) colour-blind
 * safe palette.
 */
#include "tenure/svg.h"
#include "base/numlocale.h"
#include "base/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
				      "#E69F00", "#56B4E9", "#F0E442", "#000000"};
#define NPAL (sizeof palette / sizeof palette[0])

#define W 720
#define H 360
#define ML 64
#define MR 175
#define MT 36
#define MB 48

void tn_sbuf_printf(tn_sbuf *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->len;
		int n = tn_vsnprintf_c(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap); /* '.' decimals */
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t need = b->len + (size_t)n + 1, cap = b->cap ? b->cap : 4096;
		while (cap < need)
			cap *= 2;
		if (cap > TN_SBUF_MAX) {
			b->oom = 1;
			return;
		}
		char *p = tn_realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

void tn_sbuf_escape(tn_sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': tn_sbuf_printf(b, "&amp;"); break;
		case '<': tn_sbuf_printf(b, "&lt;"); break;
		case '>': tn_sbuf_printf(b, "&gt;"); break;
		case '"': tn_sbuf_printf(b, "&quot;"); break;
		case '\'': tn_sbuf_printf(b, "&#39;"); break;
		default: tn_sbuf_printf(b, "%c", *s);
		}
	}
}

void tn_sbuf_free(tn_sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Heckbert's nice number: NICE(x) rounded (or ceiling) to 1, 2, 5 x 10^k. */
static double nice(double x, int round)
{
	if (!(x > 0))
		return 1;
	double e = floor(log10(x)), f = x / pow(10, e), nf;
	if (round)
		nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
	else
		nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	return nf * pow(10, e);
}

static void axis_range(double lo, double hi, double *a, double *b, double *step)
{
	if (!(hi > lo)) {
		hi = lo + 1;
	}
	double range = nice(hi - lo, 0);
	*step = nice(range / 5, 1);
	*a = floor(lo / *step) * *step;
	*b = ceil(hi / *step) * *step;
}

static void title(tn_sbuf *b, const char *t, int width)
{
	tn_sbuf_printf(b, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">",
		       width / 2);
	tn_sbuf_escape(b, t);
	tn_sbuf_printf(b, "</text>\n");
}

/* The hover read-out of a line chart: an invisible circle on each point (at
 * most 60 a series, evenly spread) whose <title> the browser shows on hover
 * and whose data-tip a page script may show in a box. */
static void hover_points(tn_sbuf *b, const tn_svg_line_opts *o, const tn_svg_series *sr, const char *col, double xa,
			 double xb, double ya, double yb, double pw, double ph)
{
	size_t step = sr->n > 60 ? (sr->n + 59) / 60 : 1;
	tn_sbuf_printf(b, "<g class=\"pts\" fill=\"%s\" fill-opacity=\"0\">", col);
	for (size_t i = 0; i < sr->n; i += step) {
		double x = sr->x[i], y = sr->y[i];
		if (isnan(x) || isnan(y))
			continue;
		char xs[96], ys[48], tip[320];
		size_t xi = (size_t)llround(x);
		if (o->xtick_labels && x >= 0 && xi < o->nxtick_labels)
			snprintf(xs, sizeof xs, "%s", o->xtick_labels[xi]);
		else
			tn_snprintf_c(xs, sizeof xs, "%s %g", o->xlabel ? o->xlabel : "x", x);
		if (o->y_percent)
			tn_snprintf_c(ys, sizeof ys, "%.2f%%", 100 * y);
		else
			tn_snprintf_c(ys, sizeof ys, "%.4g", y);
		snprintf(tip, sizeof tip, "%s · %s: %s", sr->name ? sr->name : "", xs, ys);
		tn_sbuf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" data-tip=\"",
			       ML + (x - xa) / (xb - xa) * pw, MT + ph - (y - ya) / (yb - ya) * ph);
		tn_sbuf_escape(b, tip);
		tn_sbuf_printf(b, "\"><title>");
		tn_sbuf_escape(b, tip);
		tn_sbuf_printf(b, "</title></circle>");
	}
	tn_sbuf_printf(b, "</g>\n");
}

void tn_svg_line_chart(tn_sbuf *b, const tn_svg_line_opts *o, const tn_svg_series *s, size_t ns)
{
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++) {
			double x = s[k].x[i], y = s[k].y[i];
			if (isnan(x) || isnan(y))
				continue;
			xmin = fmin(xmin, x), xmax = fmax(xmax, x);
			ymin = fmin(ymin, y), ymax = fmax(ymax, y);
			if (s[k].lo && !isnan(s[k].lo[i]))
				ymin = fmin(ymin, s[k].lo[i]);
			if (s[k].hi && !isnan(s[k].hi[i]))
				ymax = fmax(ymax, s[k].hi[i]);
		}
	tn_sbuf_printf(b, "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
			  "font-family=\"sans-serif\" font-size=\"13\" role=\"img\">\n",
		       W, H, W, H);
	title(b, o->title ? o->title : "", W - MR + ML);
	if (xmin > xmax) {
		tn_sbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#666\">no data</text></svg>\n",
			       W / 2, H / 2);
		return;
	}
	if (!isnan(o->ymin))
		ymin = o->ymin;
	if (!isnan(o->ymax))
		ymax = o->ymax;
	double xa, xb, xs, ya, yb, ys;
	axis_range(xmin, xmax, &xa, &xb, &xs);
	if (o->xtick_labels)
		xa = xmin, xb = xmax > xmin ? xmax : xmin + 1, xs = ceil((xb - xa) / 12);
	axis_range(ymin, ymax, &ya, &yb, &ys);
	if (!isnan(o->ymin))
		ya = o->ymin;
	if (!isnan(o->ymax))
		yb = o->ymax;
	double pw = W - ML - MR, ph = H - MT - MB;
#define PX(x) (ML + ((x) - xa) / (xb - xa) * pw)
#define PY(y) (MT + ph - ((y) - ya) / (yb - ya) * ph)
	if (!isnan(o->shade_from) && !isnan(o->shade_to)) {
		/* at least 8 px wide and well visible, however short the window */
		double x0 = fmax(PX(o->shade_from), ML), x1 = fmin(PX(o->shade_to), ML + pw);
		if (x1 - x0 < 8)
			x0 = fmax(ML, (x0 + x1) / 2 - 4), x1 = fmin(ML + pw, x0 + 8);
		tn_sbuf_printf(b, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.0f\" fill=\"#E69F00\" "
				  "fill-opacity=\"0.45\" stroke=\"#E69F00\"/>\n",
			       x0, MT, fmax(x1 - x0, 1), ph);
		int right = x1 + 220 > ML + pw;
		tn_sbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" fill=\"#8a5a00\" font-weight=\"bold\" text-anchor=\"%s\">",
			       right ? x0 - 4 : x1 + 4, MT + 16, right ? "end" : "start");
		tn_sbuf_escape(b, o->shade_label ? o->shade_label : "");
		tn_sbuf_printf(b, "</text>\n");
	}
	for (size_t k = 0; o->marks && k < o->nmarks; k++) {
		double x = PX(o->marks[k]);
		if (x < ML || x > ML + pw)
			continue;
		tn_sbuf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.0f\" stroke=\"#555\" "
				  "stroke-dasharray=\"3 3\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" fill=\"#333\">"
				  "day %.0f</text>\n",
			       x, x, MT + 22, MT + ph, x + (x + 60 > ML + pw ? -3 : 3), MT + 36 + 16 * (int)(k % 2),
			       x + 60 > ML + pw ? "end" : "start", o->marks[k]);
	}
	/* grid and ticks */
	for (double y = ya; y <= yb + ys / 2; y += ys) {
		tn_sbuf_printf(b, "<line x1=\"%d\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", ML, ML + pw,
			       PY(y), PY(y));
		if (o->y_percent) /* enough decimals to tell the ticks apart */
			tn_sbuf_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.*f%%</text>\n", ML - 6,
				       PY(y) + 4, ys * 100 >= 1 ? 0 : ys * 100 >= 0.1 ? 1 : 2, y * 100);
		else
			tn_sbuf_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, PY(y) + 4,
				       y);
	}
	for (double x = xa; x <= xb + xs / 2; x += xs) {
		tn_sbuf_printf(b, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">", PX(x), MT + ph + 16);
		size_t i = (size_t)llround(x);
		if (o->xtick_labels && o->xtick_every > 1 && i % (size_t)o->xtick_every)
			; /* a label every n-th tick, so that long labels do not overlap */
		else if (o->xtick_labels && x >= 0 && i < o->nxtick_labels)
			tn_sbuf_escape(b, o->xtick_labels[i]);
		else if (!o->xtick_labels)
			tn_sbuf_printf(b, "%g", x);
		tn_sbuf_printf(b, "</text>\n");
	}
	tn_sbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n", ML,
		       MT, pw, ph);
	tn_sbuf_printf(b, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">", ML + pw / 2, H - 8);
	tn_sbuf_escape(b, o->xlabel ? o->xlabel : "");
	tn_sbuf_printf(b, "</text>\n<text transform=\"translate(14 %.0f) rotate(-90)\" text-anchor=\"middle\">",
		       MT + ph / 2);
	tn_sbuf_escape(b, o->ylabel ? o->ylabel : "");
	tn_sbuf_printf(b, "</text>\n");
	for (size_t k = 0; k < ns; k++) {
		const tn_svg_series *sr = &s[k];
		const char *col = palette[k % NPAL];
		if (sr->lo && sr->hi) { /* band: along hi, back along lo */
			tn_sbuf_printf(b, "<path fill=\"%s\" fill-opacity=\"0.15\" stroke=\"none\" d=\"", col);
			int first = 1;
			for (size_t i = 0; i < sr->n; i++) {
				if (isnan(sr->hi[i]) || isnan(sr->x[i]))
					continue;
				if (sr->step && !first && i > 0)
					tn_sbuf_printf(b, "L%.1f %.1f ", PX(sr->x[i]), PY(sr->hi[i - 1]));
				tn_sbuf_printf(b, "%c%.1f %.1f ", first ? 'M' : 'L', PX(sr->x[i]), PY(sr->hi[i]));
				first = 0;
			}
			for (size_t i = sr->n; i-- > 0;) {
				if (isnan(sr->lo[i]) || isnan(sr->x[i]))
					continue;
				tn_sbuf_printf(b, "L%.1f %.1f ", PX(sr->x[i]), PY(sr->lo[i]));
				if (sr->step && i > 0)
					tn_sbuf_printf(b, "L%.1f %.1f ", PX(sr->x[i]), PY(sr->lo[i - 1]));
			}
			tn_sbuf_printf(b, "Z\"/>\n");
		}
		tn_sbuf_printf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", col);
		int first = 1;
		double prev = NAN;
		for (size_t i = 0; i < sr->n; i++) {
			if (isnan(sr->y[i]) || isnan(sr->x[i]))
				continue;
			if (sr->step && !first)
				tn_sbuf_printf(b, "L%.1f %.1f ", PX(sr->x[i]), PY(prev));
			tn_sbuf_printf(b, "%c%.1f %.1f ", first ? 'M' : 'L', PX(sr->x[i]), PY(sr->y[i]));
			first = 0;
			prev = sr->y[i];
		}
		tn_sbuf_printf(b, "\"/>\n");
		if (o->hover)
			hover_points(b, o, sr, col, xa, xb, ya, yb, pw, ph);
		tn_sbuf_printf(b, "<rect x=\"%.0f\" y=\"%zu\" width=\"12\" height=\"3\" fill=\"%s\"/>", ML + pw + 10,
			       (size_t)MT + 8 + k * 18, col);
		tn_sbuf_printf(b, "<text x=\"%.0f\" y=\"%zu\">", ML + pw + 26, (size_t)MT + 12 + k * 18);
		tn_sbuf_escape(b, sr->name ? sr->name : "");
		tn_sbuf_printf(b, "</text>\n");
	}
#undef PX
#undef PY
	tn_sbuf_printf(b, "</svg>\n");
}

void tn_svg_heatmap(tn_sbuf *b, const char *t, size_t nrows, size_t ncols, const double *v,
		    const char *const *row_labels, const char *const *col_labels, double vmin, double vmax)
{
	int cw = ncols > 24 ? 28 : 36, ch = 20, left = 90, top = 48;
	int width = left + (int)ncols * cw + 20, height = top + (int)nrows * ch + 20;
	tn_sbuf_printf(b, "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
			  "font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n",
		       width, height, width, height);
	title(b, t ? t : "", width);
	for (size_t j = 0; j < ncols; j++) {
		tn_sbuf_printf(b, "<text x=\"%zu\" y=\"%d\" text-anchor=\"middle\">", left + j * cw + cw / 2, top - 6);
		tn_sbuf_escape(b, col_labels ? col_labels[j] : "");
		tn_sbuf_printf(b, "</text>");
	}
	double span = vmax > vmin ? vmax - vmin : 1;
	for (size_t i = 0; i < nrows; i++) {
		tn_sbuf_printf(b, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">", left - 6, top + i * ch + 14);
		tn_sbuf_escape(b, row_labels ? row_labels[i] : "");
		tn_sbuf_printf(b, "</text>\n");
		for (size_t j = 0; j < ncols; j++) {
			double x = v[i * ncols + j];
			if (isnan(x))
				continue;
			double f = (x - vmin) / span;
			f = f < 0 ? 0 : f > 1 ? 1 : f;
			/* from #f0f7ff (light) to #0b4f8a (dark) */
			int r = (int)lround(240 + (11 - 240) * f), g = (int)lround(247 + (79 - 247) * f),
			    bl = (int)lround(255 + (138 - 255) * f);
			tn_sbuf_printf(b, "<rect x=\"%zu\" y=\"%zu\" width=\"%d\" height=\"%d\" fill=\"#%02x%02x%02x\"/>",
				       left + j * cw, top + i * ch, cw - 1, ch - 1, r, g, bl);
			tn_sbuf_printf(b, "<text x=\"%zu\" y=\"%zu\" text-anchor=\"middle\" fill=\"%s\">%.0f</text>\n",
				       left + j * cw + cw / 2, top + i * ch + 14, f > 0.5 ? "#fff" : "#222", x * 100);
		}
	}
	tn_sbuf_printf(b, "</svg>\n");
}

void tn_svg_forest(tn_sbuf *b, const char *t, size_t n, const char *const *labels, const double *est,
		   const double *lo, const double *hi, double ref)
{
	tn_svg_forest_keyed(b, t, n, labels, est, lo, hi, ref, NULL, NULL);
}

void tn_svg_forest_keyed(tn_sbuf *b, const char *t, size_t n, const char *const *labels, const double *est,
			 const double *lo, const double *hi, double ref, const char *const *key,
			 const char *const *key_note)
{
	/* the factors, in order of first appearance, for the colour key */
	size_t nk = 0, kfirst[NPAL];
	for (size_t i = 0; key && i < n; i++) {
		size_t k;
		for (k = 0; k < nk && strcmp(key[kfirst[k]] ? key[kfirst[k]] : "", key[i] ? key[i] : "") != 0; k++)
			;
		if (k == nk && nk < NPAL)
			kfirst[nk++] = i;
	}
	int rowh = 24, left = 230, pw = 400, top = 40 + 20 * (int)((nk + 1) / 2);
	int width = left + pw + 70, height = top + (int)n * rowh + 44;
	double a = ref, z = ref;
	for (size_t i = 0; i < n; i++) {
		double l = lo && !isnan(lo[i]) ? lo[i] : est[i], h = hi && !isnan(hi[i]) ? hi[i] : est[i];
		if (l > 0)
			a = fmin(a, l);
		if (h > 0)
			z = fmax(z, h);
	}
	double la = log(a) - 0.1, lz = log(z) + 0.1;
	tn_sbuf_printf(b, "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
			  "font-family=\"sans-serif\" font-size=\"13\" role=\"img\">\n",
		       width, height, width, height);
	title(b, t ? t : "", width);
	for (size_t k = 0; k < nk; k++) {
		int x = 12 + (int)(k % 2) * (width / 2), y = 44 + 20 * (int)(k / 2);
		tn_sbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">",
			       x, y - 10, palette[k], x + 18, y);
		tn_sbuf_escape(b, key[kfirst[k]]);
		if (key_note && key_note[kfirst[k]]) {
			tn_sbuf_printf(b, " (vs ");
			tn_sbuf_escape(b, key_note[kfirst[k]]);
			tn_sbuf_printf(b, ")");
		}
		tn_sbuf_printf(b, "</text>\n");
	}
#define FX(v) (left + (log(v) - la) / (lz - la) * pw)
	tn_sbuf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n",
		       FX(ref), FX(ref), top - 6, top + (int)n * rowh);
	for (size_t i = 0; i < n; i++) {
		double y = top + (double)i * rowh + rowh / 2.0;
		tn_sbuf_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", left - 8, y + 4);
		tn_sbuf_escape(b, labels ? labels[i] : "");
		tn_sbuf_printf(b, "</text>");
		if (!(est[i] > 0))
			continue;
		const char *col = est[i] > ref ? palette[1] : palette[0];
		for (size_t k = 0; key && k < nk; k++)
			if (strcmp(key[kfirst[k]] ? key[kfirst[k]] : "", key[i] ? key[i] : "") == 0)
				col = palette[k];
		if (lo && hi && lo[i] > 0 && hi[i] > 0)
			tn_sbuf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
					  "stroke-width=\"2\"/>",
				       FX(lo[i]), FX(hi[i]), y, y, col);
		tn_sbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\"/>", FX(est[i]) - 4,
			       y - 4, col);
		tn_sbuf_printf(b, "<text x=\"%d\" y=\"%.1f\">%.2f</text>\n", left + pw + 10, y + 4, est[i]);
	}
	double ticks[] = {0.25, 0.5, 1, 2, 4, 8};
	for (size_t k = 0; k < sizeof ticks / sizeof ticks[0]; k++)
		if (log(ticks[k]) >= la && log(ticks[k]) <= lz)
			tn_sbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>", FX(ticks[k]),
				       top + (int)n * rowh + 16, ticks[k]);
#undef FX
	tn_sbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">hazard ratio (log scale)</text>\n</svg>\n",
		       left + pw / 2, height - 6);
}
