/* Scatter figures with legends (points of an analysis file). */
#ifndef AM_PLOT_SCATTER_H
#define AM_PLOT_SCATTER_H

#include "base/error.h"
#include "plot/canvas.h"
#include "plot/grid.h"

/* ---- scatter figures ---------------------------------------------------- */

typedef struct am_scatter {
    int n;
    const double *x, *y; /* [n]; NaN points are skipped */
    const int *group;    /* [n] legend group of each point */
    const int *marker;   /* [n] marker shape index (0 circle, 1 square,
                                 2 triangle, 3 diamond, ...) or NULL */
    int ngroups;
    const char **group_names;            /* [ngroups] */
    const unsigned char (*group_rgb)[3]; /* [ngroups] */
    const char *group_title;             /* legend heading, e.g. "alpha" */
    int nmarkers;
    const char **marker_names; /* [nmarkers] legend entries for shapes, or NULL */
    const char *marker_title;  /* e.g. "model" */
    const char *title, *subtitle;
    const char *xlabel, *ylabel;
    const am_plot_cscale *cbar; /* a continuous colour bar instead of the group legend
                                   (the groups' colours come from it), or NULL */
} am_scatter;

int am_plot_scatter_render(const am_scatter *sc, const am_plot_style *st, am_plot_format fmt, const char *path,
                           am_err *e);
/* n panels in rows of `cols` under one title; each panel's own title above
 * it; the legend (groups, colour bar, markers) of panels[0] beside them. */
int am_plot_scatter_panels_render(const am_scatter *panels, int n, int cols, const char *title, const char *subtitle,
                                  const am_plot_style *st, am_plot_format fmt, const char *path, am_err *e);

#endif
