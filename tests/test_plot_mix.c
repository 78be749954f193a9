/* What the figures say about the mix, the scale and the PCs: the subtitle formula of
 * each mix mode (root attribute `mix` of a cube; linear when absent) and the
 * --scale flags, and the PC axis labels with their share of the variance. */
#include <string.h>

#include "plot/analysis_figs.h"
#include "plot/figures.h"
#include "test_util.h"

int main(void) {
    am_cube c;
    memset(&c, 0, sizeof c);
    CHECK(strstr(am_fig_mix_text(&c), "E[a] + (1") && !strstr(am_fig_mix_text(&c), "slerp"), "no attribute: linear");
    c.mix = "linear";
    CHECK(strstr(am_fig_mix_text(&c), "mix = "), "linear: %s", am_fig_mix_text(&c));
    c.mix = "slerp";
    CHECK(strstr(am_fig_mix_text(&c), "slerp"), "slerp: %s", am_fig_mix_text(&c));
    c.mix = "norm";
    CHECK(strstr(am_fig_mix_text(&c), "rescaled to the norm"), "norm: %s", am_fig_mix_text(&c));
    am_fig_opts o;
    am_fig_opts_default(&o);
    CHECK(!o.log && !o.row, "default scale linear");
    am_fig_set_scale(&o, AM_SCALE_ROW);
    CHECK(!o.log && o.row, "row");
    am_fig_set_scale(&o, AM_SCALE_LOG);
    CHECK(o.log && !o.row, "log");
    char lab[64];
    const double ratio[2] = {0.4123, 0.2};
    am_fig_pc_label(0, ratio, 2, lab, sizeof lab);
    CHECK(!strcmp(lab, "PC1 (41.2 % of the variance)"), "PC1 label: %s", lab);
    am_fig_pc_label(2, ratio, 2, lab, sizeof lab);
    CHECK(!strcmp(lab, "PC3"), "PC3 without a ratio: %s", lab);
    if (!failures) printf("test_plot_mix: all checks passed\n");
    return failures != 0;
}
