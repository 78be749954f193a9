/* Colour maps, value scales and the categorical palette. */
#include <math.h>
#include <string.h>

#include "plot/color.h"
#include "plot/colormap_data.h"

int am_cmap_index(double t) {
    if (!(t > 0.0)) return 0; /* also NaN */
    if (t >= 1.0) return AM_CMAP_SIZE - 1;
    return (int)floor(t * (AM_CMAP_SIZE - 1) + 0.5);
}

void am_cmap_entry(am_cmap c, int i, unsigned char rgb[3]) {
    if (i < 0) i = 0;
    if (i > AM_CMAP_SIZE - 1) i = AM_CMAP_SIZE - 1;
    const unsigned char *p = c == AM_CMAP_DIVERGING ? am_cmap_diverging_data[i] : am_cmap_viridis_data[i];
    memcpy(rgb, p, 3);
}

void am_cmap_rgb8(am_cmap c, double t, unsigned char rgb[3]) { am_cmap_entry(c, am_cmap_index(t), rgb); }

double am_plot_scale_norm(const am_plot_scale *s, double v) {
    double t;
    if (isnan(v)) return 0.0;
    if (s->log) {
        double lo = log10(s->vmin), hi = log10(s->vmax);
        double lv = v > s->vmin ? log10(v) : lo;
        t = (lv - lo) / (hi - lo);
    } else {
        t = (v - s->vmin) / (s->vmax - s->vmin);
    }
    if (!(t > 0.0)) return 0.0;
    return t > 1.0 ? 1.0 : t;
}

void am_plot_scale_fix(am_plot_scale *s) {
    if (s->log) {
        if (!(s->vmin > 0.0)) s->vmin = 1e-4;
        if (!(s->vmax > s->vmin)) s->vmax = s->vmin * 10.0;
    } else {
        if (!isfinite(s->vmin)) s->vmin = 0.0;
        if (!isfinite(s->vmax) || !(s->vmax > s->vmin)) s->vmax = s->vmin + 1.0;
    }
}

/* Okabe & Ito's colour-blind-safe set, then Tableau-like extras. */
static const unsigned char am_category[][3] = {
    {0, 114, 178},  {230, 159, 0}, {0, 158, 115}, {204, 121, 167}, {86, 180, 233}, {213, 94, 0},
    {240, 228, 66}, {0, 0, 0},     {140, 86, 75}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
};

void am_plot_category_rgb(int k, unsigned char rgb[3]) {
    int n = (int)(sizeof am_category / sizeof am_category[0]);
    if (k < 0) k = -k;
    memcpy(rgb, am_category[k % n], 3);
}
