/* Per-run figure report: renders a default set of figures for every model
 * (cube) and pair into a directory and writes DIR/index.html linking them
 * (relative links) with the prompts and the generated text per alpha. */
#ifndef AM_REPORT_H
#define AM_REPORT_H

#include "plot/analysis_figs.h"
#include "plot/figures.h"

typedef void (*am_report_progress)(const char *msg, void *ctx);

/* cubes [ncubes] cube.h5 paths; analysis may be NULL. Figures go to
 * outdir/<model>/..., scatter plots to outdir/, then outdir/index.html. */
int am_report_write(const char *const *cubes, int ncubes, const char *analysis, const am_fig_opts *o,
                    const char *outdir, am_report_progress progress, void *ctx, am_err *e);

/* HTML-escape s (& < > " ') into a malloc'd string. */
char *am_html_escape(const char *s);

/* File-name-safe form of s ([A-Za-z0-9._-], others '_', at most 48 bytes). */
void am_report_slug(const char *s, char *out, size_t n);

#endif
