/* What the figures say about the mix and the scale: the subtitle formula of
 * each mix mode (root attribute `mix` of a cube; linear when absent) and the
 * --scale flags. */
#include <string.h>

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
    if (!failures) printf("test_plot_mix: all checks passed\n");
    return failures != 0;
}
