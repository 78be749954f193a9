/* /observations/<model> in analysis.h5 (observations.h, docs/schema.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/observations.h"
#include "h5/h5io.h"

static const char *const statistic[AM_OBS_NTEST] = {
    "mean over (pair, layer, head) of band(0.5) - (band(0) + band(1))/2, band = mean mass on offsets 0..w-1",
    "mean over (pair, layer, head) of distance(0.5) - (distance(0) + distance(1))/2, distance = mean sum_k A[q,k](q-k)",
    "mean Spearman correlation, over pairs of pairs, of the heads' sensitivity (JS of the alpha-0.5 map to the "
    "alpha-0 and alpha-1 maps, averaged); spread: 10th and 90th percentiles of the per-head mean sensitivity",
    "mean over (pair, layer, head) of H(0.5) - (H(0) + H(1))/2, H = mean normalised row entropy H_q / log r_q",
    "mean over heads of sensitivity(math) - mean over the other pairs of sensitivity",
    "fraction of heads whose offset profile peaks at d >= 2 with mass >= offset_mass, minus the mean fraction "
    "under the null (each row's offsets rotated by an independent uniform amount)",
};
static const char *const ci_method[AM_OBS_NTEST] = {
    "two-stage cluster bootstrap (pairs, then units within each drawn pair), percentile",
    "two-stage cluster bootstrap (pairs, then units within each drawn pair), percentile",
    "bootstrap over heads (ranks recomputed per draw), percentile",
    "two-stage cluster bootstrap (pairs, then units within each drawn pair), percentile",
    "bootstrap over heads, percentile",
    "bootstrap over heads of (fixed-distance indicator - its null frequency), percentile",
};
static const char *const p_method[AM_OBS_NTEST] = {
    "sign flip, one sign per pair (all units sharing one generation flipped together), two-sided",
    "sign flip, one sign per pair (all units sharing one generation flipped together), two-sided",
    "permutation of heads within every pair but the first, two-sided on |mean Spearman|",
    "sign flip, one sign per pair (all units sharing one generation flipped together), two-sided",
    "sign flip per head, two-sided",
    "the shuffled nulls: fraction of fixed-distance heads against the null mean, two-sided",
};

static int test_attrs(hid_t g, const char *prefix, const am_obs_test *t, int verdict, am_err *e) {
    char k[64];
#define ATTR_F(name, v) (snprintf(k, sizeof k, "%s%s", prefix, name), am_h5_attr_f64(g, k, (v), e))
#define ATTR_I(name, v) (snprintf(k, sizeof k, "%s%s", prefix, name), am_h5_attr_i64(g, k, (v), e))
    if (ATTR_F("estimate", t->estimate) || ATTR_F("ci_low", t->ci_low) || ATTR_F("ci_high", t->ci_high) ||
        ATTR_F("p_value", t->p_value) || ATTR_I("n", t->n) || ATTR_I("clusters", t->clusters) ||
        ATTR_I("p_exact", t->exact) || ATTR_I("claimed_sign", t->sign))
        return -1;
#undef ATTR_F
#undef ATTR_I
    snprintf(k, sizeof k, "%sverdict", prefix);
    return am_h5_attr_str(g, k, am_obs_verdict_names[verdict], e);
}

static int common_attrs(hid_t g, int ob, const am_obs_opts *o, am_err *e) {
    return am_h5_attr_str(g, "claim", am_obs_claims[ob], e) || am_h5_attr_f64(g, "level", o->level, e) ||
           am_h5_attr_f64(g, "p_threshold", o->p_max, e) || am_h5_attr_i64(g, "bootstrap_draws", o->boot, e) ||
           am_h5_attr_i64(g, "test_draws", ob == 4 ? o->shuffles : o->draws, e) ||
           am_h5_attr_i64(g, "seed", (int64_t)o->seed, e) || am_h5_attr_i64(g, "band", o->band, e) ||
           am_h5_attr_f64(g, "offset_mass", o->offset_mass, e) ||
           am_h5_attr_str(g, "verdict_rule",
                          "supported: the interval lies on the claimed side of 0 and p_value < p_threshold; "
                          "opposite: it lies on the other side and p_value < p_threshold; untestable: no estimate; "
                          "else not supported",
                          e);
}

/* One row set's group g (O<ob+1> or its prompt_rows / generated_rows). */
static int obs_group(hid_t g, int ob, int s, const am_obs_cube *c, const am_obs_opts *o, const am_obs_result *r,
                     am_err *e) {
    const int ti = ob == 0 ? AM_OBS_O1_BAND : ob + 1;
    const size_t K = (size_t)r->L * r->H;
    const hsize_t dPLH[3] = {(hsize_t)r->P, (hsize_t)r->L, (hsize_t)r->H}, dLH[2] = {dPLH[1], dPLH[2]};
    const hsize_t dP = (hsize_t)r->P;
    if (common_attrs(g, ob, o, e) || am_h5_attr_str(g, "statistic", statistic[ti], e) ||
        am_h5_attr_str(g, "ci_method", ci_method[ti], e) || am_h5_attr_str(g, "p_method", p_method[ti], e) ||
        am_h5_attr_str(g, "rows", am_obs_rowset_names[s], e) || test_attrs(g, "", &r->t[s][ti], r->verdict[s][ob], e))
        return -1;
    switch (ob) {
    case 0:
        if (test_attrs(g, "band_", &r->t[s][AM_OBS_O1_BAND], r->t[s][AM_OBS_O1_BAND].verdict, e) ||
            test_attrs(g, "distance_", &r->t[s][AM_OBS_O1_DISTANCE], r->t[s][AM_OBS_O1_DISTANCE].verdict, e) ||
            am_h5_attr_str(g, "distance_statistic", statistic[AM_OBS_O1_DISTANCE], e) ||
            am_h5_put(g, "band_contrast", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 3, dPLH, r->band[s], e) ||
            am_h5_put(g, "distance_contrast", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 3, dPLH, r->distance[s], e))
            return -1;
        break;
    case 1:
        if (am_h5_attr_f64(g, "sensitivity_q10", r->sens_q10[s], e) ||
            am_h5_attr_f64(g, "sensitivity_q90", r->sens_q90[s], e) ||
            am_h5_put(g, "sensitivity", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 3, dPLH, r->sens[s], e))
            return -1;
        break;
    case 2:
        if (am_h5_put(g, "entropy_contrast", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 3, dPLH, r->entropy[s], e)) return -1;
        break;
    case 3:
        if (am_h5_attr_str(g, "math_pair", r->math >= 0 ? c->pair[r->math] : "", e) ||
            am_h5_put(g, "pair_sensitivity", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dP, r->pair_sens[s], e))
            return -1;
        break;
    case 4:
        if (am_h5_attr_f64(g, "null_fraction", r->null_frac[s], e) || am_h5_attr_i64(g, "shuffles", r->R, e) ||
            am_h5_put(g, "peak_mass", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dLH, r->peak[s], e) ||
            am_h5_put(g, "peak_offset", H5T_NATIVE_INT, H5T_STD_I32LE, 2, dLH, r->peak_offset[s], e) ||
            am_h5_put(g, "null_peak_mass", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dLH, r->null_peak[s], e))
            return -1;
        break;
    }
    (void)K;
    return 0;
}

int am_obs_write(hid_t out, const char *model, const am_obs_cube *c, const am_obs_opts *o, const am_obs_result *r,
                 am_err *e) {
    static const char *const tabs[5][3] = {{"band_contrast", "distance_contrast", NULL},
                                           {"sensitivity", NULL, NULL},
                                           {"entropy_contrast", NULL, NULL},
                                           {"pair_sensitivity", NULL, NULL},
                                           {"peak_mass", "peak_offset", "null_peak_mass"}};
    char path[600], ds[700];
    int rc = -1;
    hid_t gm = H5I_INVALID_HID, g = H5I_INVALID_HID, gs = H5I_INVALID_HID;
    const hsize_t dP = (hsize_t)r->P, dL = (hsize_t)r->L, dH = (hsize_t)r->H, dA = (hsize_t)c->A;
    int32_t *li = am_malloc((size_t)r->L + (size_t)r->H, sizeof *li, "scales", e);
    if (!li) return -1;
    for (int i = 0; i < r->L; i++) li[i] = i;
    for (int i = 0; i < r->H; i++) li[r->L + i] = i;
    if (!am_h5_exists(out, "observations")) {
        if ((g = am_h5_group(out, "observations", e)) < 0) goto out;
        am_h5_close(&g);
    }
    snprintf(path, sizeof path, "observations/%s", model);
    if ((gm = am_h5_group(out, path, e)) < 0) goto out;
    {
        hid_t d = am_h5_write_strs(gm, "pair", 1, &dP, c->pair, e);
        if (am_h5_done(d) || am_h5_put(gm, "layer_index", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &dL, li, e) ||
            am_h5_put(gm, "head_index", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &dH, li + r->L, e) ||
            am_h5_put(gm, "alpha", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dA, c->alpha, e))
            goto out;
    }
    /* every map's statistics per row set: statistics/<rows>/<stat> [pair, alpha, layer, head] */
    for (int s = 0; s < AM_OBS_NROWS; s++) {
        static const char *const palh[4] = {"pair", "alpha", "layer_index", "head_index"};
        const hsize_t d4[4] = {dP, dA, dL, dH};
        snprintf(path, sizeof path, "statistics/%s", am_obs_rowset_names[s]);
        if (!am_h5_exists(gm, "statistics") && (g = am_h5_group(gm, "statistics", e)) < 0) goto out;
        am_h5_close(&g);
        if ((g = am_h5_group(gm, path, e)) < 0 || am_h5_attr_str(g, "rows", am_obs_rowset_names[s], e)) goto out;
        for (int k = 0; k < AM_OBS_NSTAT; k++)
            if (am_h5_put(g, am_obs_stat_names[k], H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 4, d4, r->stat[s][k], e))
                goto out;
        am_h5_close(&g);
        for (int k = 0; k < AM_OBS_NSTAT; k++) {
            snprintf(ds, sizeof ds, "%s/%s", path, am_obs_stat_names[k]);
            if (am_h5_attach(gm, ds, palh, 4, e)) goto out;
        }
    }
    for (int ob = 0; ob < 5; ob++) {
        snprintf(path, sizeof path, "O%d", ob + 1);
        if ((g = am_h5_group(gm, path, e)) < 0 || obs_group(g, ob, AM_OBS_ALL, c, o, r, e)) goto out;
        for (int s = 1; s < AM_OBS_NROWS; s++) {
            if ((gs = am_h5_group(g, am_obs_rowset_names[s], e)) < 0 || obs_group(gs, ob, s, c, o, r, e)) goto out;
            am_h5_close(&gs);
        }
        am_h5_close(&g);
        /* labelled dimensions: pair, layer, head */
        for (int s = 0; s < AM_OBS_NROWS; s++)
            for (int k = 0; k < 3 && tabs[ob][k]; k++) {
                static const char *const plh[3] = {"pair", "layer_index", "head_index"};
                snprintf(ds, sizeof ds, "O%d/%s%s%s", ob + 1, s ? am_obs_rowset_names[s] : "", s ? "/" : "",
                         tabs[ob][k]);
                int rank = ob == 3 ? 1 : ob == 4 ? 2 : 3;
                if (am_h5_attach(gm, ds, ob == 4 ? plh + 1 : plh, rank, e)) goto out;
            }
    }
    rc = 0;
out:
    free(li);
    am_h5_close(&gs);
    am_h5_close(&g);
    am_h5_close(&gm);
    return rc;
}
