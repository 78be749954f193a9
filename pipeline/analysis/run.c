/* The analysis stage: cubes in, analysis.h5 out (layout in docs/schema.md).
 * The parts are in run_inputs.c, run_model.c and run_global.c
 * (run_internal.h); this file drives them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/run_internal.h"
#include "h5/dims.h"
#include "h5/h5io.h"

void am_an_config_defaults(am_an_config *c) {
    memset(c, 0, sizeof *c);
    c->band = 4;
    c->tsne_auto = 1;
    c->pca_variance = 0.9;
    c->clusters_max = 12;
    c->key_tsne = 1;
    am_tsne_defaults(&c->tsne);
    c->verbose = 1;
}

/* Names of the axes that no writer labels (docs/schema.md); every other
 * unlabelled axis gets an index scale (h5/dims.h), so every group opens in
 * xarray. */
static const am_h5_axis_rule an_axes[] = {
    {"points/pca", 1, "/component"},    {"points/tsne", 1, "/tsne_axis"},
    {"points/", 0, "/points/point"},    {"heads/distance", 1, "/heads/model_head_to"},
    {"heads/tsne", 1, "/tsne_axis"},    {"heads/features", 1, "/feature"},
    {"heads/", 0, "/heads/model_head"}, {"pca/components", 1, "/feature"},
    {"pca/feature_", 0, "/feature"},    {"pca/", 0, "/component"},
    {"models/*/length", 0, "pair"},     {"models/*/length", 1, "alpha"},
    {"models/*/pair_index", 0, "pair"},
};

int am_an_run(const am_an_config *cfg, am_err *e) {
    int rc = -1;
    an_inputs in;
    an_points pts;
    am_h5_out out;
    hid_t gm = H5I_INVALID_HID;
    float *maps = NULL; /* [N, S*S] with --tsne-on maps */
    memset(&pts, 0, sizeof pts);
    out.file = H5I_INVALID_HID;
    out.tmp[0] = 0;

    /* 1. the inputs: cubes, induction files, frozen runs */
    if (an_inputs_open(cfg, &in, e)) goto out;
    if (cfg->tsne_on_maps) {
        const am_cube *c0 = &in.cubes[0].c;
        for (int i = 1; i < in.n; i++)
            if (in.cubes[i].c.S != c0->S) {
                am_fail_code(e, AM_E_USAGE, "--tsne-on maps needs maps of one shape: %s has S=%d, %s has S=%d",
                             c0->path, c0->S, in.cubes[i].c.path, in.cubes[i].c.S);
                goto out;
            }
        if (!(maps = am_malloc(in.N * c0->S, (size_t)c0->S * sizeof *maps, "--tsne-on maps", e))) goto out;
    }
    if (an_points_init(&pts, in.N, e)) goto out;

    /* 2. per model: statistics of every map, /models/<name> */
    if (am_h5_out_create(&out, cfg->out, e) || (gm = am_h5_group(out.file, "models", e)) < 0) goto out;
    am_h5_close(&gm);
    for (int i = 0; i < in.n; i++) {
        const an_cube *c = &in.cubes[i];
        const size_t n = (size_t)c->c.P * c->c.A * c->c.L * c->c.H;
        if (an_model_pass(cfg, c, out.file, &pts, maps ? maps + c->base * c->c.S * c->c.S : NULL, e)) {
            am_wrap(e, "%s", c->c.path);
            goto out;
        }
        for (size_t k = c->base; k < c->base + n; k++) pts.model[k] = i;
    }

    /* 3. global: points, PCA, head distances, t-SNE */
    if (an_write_global(cfg, &in, out.file, &pts, &maps, e)) goto out;
    if (am_h5_label_dims(out.file, an_axes, (int)(sizeof an_axes / sizeof *an_axes), e)) goto out;
    if (am_h5_out_commit(&out, e)) goto out;
    an_progress(cfg, "wrote %s (%zu maps, %d models)", cfg->out, in.N, in.n);
    rc = 0;
out:
    am_h5_close(&gm);
    if (rc && out.tmp[0]) {
        am_h5_out_abort(&out);
        if (!strstr(e->msg, cfg->out)) am_wrap(e, "writing %s", cfg->out);
    }
    an_inputs_free(&in);
    an_points_free(&pts);
    free(maps);
    return rc;
}
