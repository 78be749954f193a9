/* The global part of the analysis stage (run_internal.h): root scales and
 * attributes, the points table, PCA of the z-scored features, head distances
 * and the t-SNE embeddings of heads and points. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/analysis.h"
#include "analysis/cluster.h"
#include "analysis/pca.h"
#include "analysis/run_internal.h"
#include "h5/h5io.h"
#include "h5/schema.h"

/* Root scales (pair, alpha, layer, head, feature) and root attributes. */
static int write_root(const am_an_config *cfg, const an_inputs *in, hid_t out, am_err *e) {
    const int n = in->n, F = AM_AN_NFEAT;
    hsize_t d;
    char created[32];
    time_t now = time(NULL);
    struct tm tmv;
    int bad = 0;
    const char **ip = NULL; /* [5n]: paths, file fingerprints, checkpoint fingerprints, model names, mix modes */
    d = (hsize_t)in->nalpha;
    if (an_put_strs(out, "pair", in->npair, in->pair, e) ||
        am_h5_put(out, "alpha", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &d, in->alpha, e))
        return -1;
    d = (hsize_t)in->nlayer;
    if (am_h5_put(out, "layer", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &d, in->layer, e)) return -1;
    d = (hsize_t)in->nhead;
    if (am_h5_put(out, "head", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &d, in->head, e) ||
        an_put_strs(out, "feature", F, am_an_feature_names, e))
        return -1;
    static const char *const scales[] = {"pair", "alpha", "layer", "head", "feature"};
    for (int s = 0; s < 5; s++)
        if (am_h5_scale(out, scales[s], scales[s], NULL, NULL, 0, e)) return -1;
    if (!(ip = am_malloc((size_t)n * 5, sizeof *ip, "input names", e))) return -1;
    for (int i = 0; i < n; i++) {
        const an_cube *c = &in->cubes[i];
        ip[i] = c->c.path;
        ip[n + i] = c->file_fp;
        ip[2 * n + i] = c->c.checkpoint_fingerprint ? c->c.checkpoint_fingerprint : "";
        ip[3 * n + i] = c->name;
        ip[4 * n + i] = c->c.mix ? c->c.mix : "";
    }
    gmtime_r(&now, &tmv);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    bad = am_h5_attr_str(out, "schema", AM_SCHEMA_ANALYSIS, e) ||
          am_h5_attr_str(out, "attnmix_version", ATTNMIX_VERSION, e) ||
          am_h5_attr_str(out, "git_commit", ATTNMIX_GIT_COMMIT, e) || am_h5_attr_str(out, "created", created, e) ||
          am_h5_attr_i64(out, "seed", (int64_t)cfg->tsne.seed, e) || am_h5_attr_strs(out, "models", ip + 3 * n, n, e) ||
          am_h5_attr_strs(out, "inputs", ip, n, e) || am_h5_attr_strs(out, "input_fingerprints", ip + n, n, e) ||
          am_h5_attr_strs(out, "checkpoint_fingerprints", ip + 2 * n, n, e) ||
          am_h5_attr_strs(out, "mix_modes", ip + 4 * n, n, e) || am_h5_attr_i64(out, "band", cfg->band, e) ||
          am_h5_attr_str(out, "tsne_on", cfg->tsne_on_maps ? "maps" : "features", e);
    free(ip);
    if (bad) return -1;
    for (int i = 0; i < n; i++) { /* the first cube that carries its config */
        const am_cube *c = &in->cubes[i].c;
        if (!c->config_yaml) continue;
        if (am_h5_attr_str(out, "config_yaml", c->config_yaml, e)) return -1;
        if (c->config_hash && am_h5_attr_str(out, "config_hash", c->config_hash, e)) return -1;
        break;
    }
    return 0;
}

/* /points/prompt and /points/generated: the statistics of every map over its
 * prompt rows (q < T) and over its generated rows (q >= T), named as in
 * /points (docs/analysis.md, "Prompt and generated rows"). */
static int write_split(hid_t gp, const an_points *pts, am_err *e) {
    static const char *const rows[AN_SPLIT_N] = {"query rows q < T (prompt_length): the map cut to its first T rows",
                                                 "query rows q >= T (prompt_length): the map with rows < T emptied"};
    const size_t N = pts->N;
    hsize_t dN = N;
    int rc = -1;
    hid_t g = H5I_INVALID_HID;
    for (int r = 0; r < AN_SPLIT_N; r++) {
        const double *st = pts->split_st + (size_t)r * ST_N * N;
        if ((g = am_h5_group(gp, an_split_names[r], e)) < 0 || am_h5_attr_str(g, "row_set", rows[r], e) ||
            am_h5_put(g, "offset", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dN, pts->split_offset + r * N, e) ||
            am_h5_put(g, "rows", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dN, pts->split_rows + r * N, e))
            goto out;
        for (int s = 0; s < ST_N; s++)
            if (am_h5_put(g, an_stat_names[s], H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dN, st + s * N, e)) goto out;
        am_h5_close(&g);
    }
    rc = 0;
out:
    am_h5_close(&g);
    return rc;
}

/* /points: labels, statistics, raw features and head classes of every map. */
static int write_points(const an_inputs *in, hid_t gp, const an_points *pts, am_err *e) {
    const size_t N = pts->N;
    const int F = AM_AN_NFEAT;
    hsize_t dN = N, dNF[2] = {N, (hsize_t)F};
    hid_t df = H5I_INVALID_HID;
    const char **mn = am_malloc(N ? N : 1, sizeof *mn, "model names", e); /* [N] */
    if (!mn) return -1;
    for (size_t i = 0; i < N; i++) mn[i] = in->cubes[pts->model[i]].name;
    int bad = an_put_strs(gp, "model", (int)N, mn, e);
    free(mn);
    if (bad || am_h5_put(gp, "pair", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dN, pts->pair, e) ||
        am_h5_put(gp, "alpha", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dN, pts->alpha, e) ||
        am_h5_put(gp, "layer", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dN, pts->layer, e) ||
        am_h5_put(gp, "head", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dN, pts->head, e) ||
        am_h5_put(gp, "offset", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dN, pts->offset, e) ||
        am_h5_put(gp, "rows", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dN, pts->rows, e))
        return -1;
    if ((df = am_h5_write(gp, "features", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dNF, NULL, 0, pts->feat, e)) < 0)
        return -1;
    bad = am_h5_attr_strs(df, "names", am_an_feature_names, F, e);
    am_h5_close(&df);
    if (bad || am_h5_put(gp, "head_class", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dN, pts->hclass, e)) return -1;
    for (int s = 0; s < ST_N; s++)
        if (am_h5_put(gp, an_stat_names[s], H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dN, pts->st + s * N, e)) return -1;
    return write_split(gp, pts, e);
}

/* PCA of the z-scored features Z [N,F] into /pca and /points/pca: features
 * with zero spread are dropped (their loadings are 0, /pca/kept says which),
 * K = cfg->pca_k or the fewest components whose explained-variance ratios
 * reach cfg->pca_variance (at least 2 where there are 2). *scores [N,K] and
 * *Kout are kept for the head distances (caller frees). */
static int write_pca(const am_an_config *cfg, const double *Z, size_t N, hid_t out, hid_t gp, const double *fmean,
                     const double *fstd, double **scores_out, int *Kout, am_err *e) {
    const int F = AM_AN_NFEAT;
    int rc = -1, Fk = 0, Kmax = 0, K = 0, kept[AM_AN_NFEAT];
    const char *dropped[AM_AN_NFEAT];
    int ndropped = 0;
    char dlist[1024] = "";
    hid_t gpca = H5I_INVALID_HID, dc = H5I_INVALID_HID;
    static const char *const feature_dim1[2] = {NULL, "/feature"};
    double *Zk = NULL, *ck = NULL, *comp = NULL, *var = NULL, *ratio = NULL, *sk = NULL, *scores = NULL;
    for (int f = 0; f < F; f++) {
        kept[f] = fstd[f] > 0;
        Fk += kept[f];
        if (!kept[f]) dropped[ndropped++] = am_an_feature_names[f];
    }
    for (int i = 0; i < ndropped; i++) {
        size_t l = strlen(dlist);
        snprintf(dlist + l, sizeof dlist - l, "%s%s", i ? "," : "", dropped[i]);
    }
    Kmax = N >= 2 ? (Fk < (int)N ? Fk : (int)N) : 0;
    if (!(Zk = am_malloc(N * (Fk ? Fk : 1) + 1, sizeof *Zk, "kept features", e)) || /* [N,Fk] */
        !(ck = am_malloc((size_t)(Kmax ? Kmax : 1) * (Fk ? Fk : 1), sizeof *ck, "PCA components", e)) ||
        !(comp = am_calloc((size_t)(Kmax ? Kmax : 1) * F, sizeof *comp, "PCA components", e)) || /* [K,F] */
        !(var = am_malloc((size_t)(Kmax ? Kmax : 1), sizeof *var, "PCA variances", e)) ||
        !(ratio = am_malloc((size_t)(Kmax ? Kmax : 1), sizeof *ratio, "PCA variance ratios", e)) ||
        !(sk = am_malloc(N * (Kmax ? Kmax : 1) + 1, sizeof *sk, "PCA scores", e))) /* [N,Kmax] */
        goto out;
    for (size_t i = 0; i < N; i++)
        for (int f = 0, j = 0; f < F; f++)
            if (kept[f]) Zk[i * Fk + j++] = Z[i * F + f];
    if (Kmax > 0 && am_pca_fit(Zk, (int)N, Fk, Kmax, ck, var, ratio, sk, e)) goto out;
    if (cfg->pca_k > 0) K = cfg->pca_k < Kmax ? cfg->pca_k : Kmax;
    else {
        double cum = 0;
        while (K < Kmax && cum < cfg->pca_variance) cum += ratio[K++];
        if (K < 2 && Kmax >= 2) K = 2;
    }
    for (int c = 0; c < K; c++)
        for (int f = 0, j = 0; f < F; f++)
            if (kept[f]) comp[(size_t)c * F + f] = ck[(size_t)c * Fk + j++];
    if (!(scores = am_malloc(N * (K ? K : 1) + 1, sizeof *scores, "PCA scores", e))) goto out; /* [N,K] */
    for (size_t i = 0; i < N; i++)
        for (int c = 0; c < K; c++) scores[i * K + c] = sk[i * Kmax + c];
    {
        hsize_t dF = F, dK = K, dKF[2] = {(hsize_t)K, (hsize_t)F}, dNK[2] = {N, (hsize_t)K};
        if ((gpca = am_h5_group(out, "pca", e)) < 0 ||
            (dc = am_h5_write(gpca, "components", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dKF, NULL, 0, comp, e)) < 0 ||
            am_h5_attr_strs(dc, "feature_names", am_an_feature_names, F, e) ||
            am_h5_put(gpca, "explained_variance", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dK, var, e) ||
            am_h5_put(gpca, "explained_variance_ratio", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dK, ratio, e) ||
            am_h5_put(gpca, "feature_mean", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dF, fmean, e) ||
            am_h5_put(gpca, "feature_std", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dF, fstd, e) ||
            am_h5_put(gpca, "kept", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dF, kept, e) ||
            am_h5_put(gp, "pca", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dNK, scores, e))
            goto out;
    }
    am_h5_close(&dc);
    if (am_h5_attach(gpca, "components", feature_dim1, 2, e) || am_h5_attach(gp, "features", feature_dim1, 2, e) ||
        am_h5_attach(gpca, "kept", feature_dim1 + 1, 1, e) ||
        am_h5_attr_str(gpca, "input", "z-scored /points/features (NaN -> 0), features with zero spread dropped", e) ||
        am_h5_attr_str(gpca, "dropped", dlist, e) || am_h5_attr_i64(gpca, "components_available", Kmax, e) ||
        am_h5_attr_str(gpca, "k_rule", cfg->pca_k > 0 ? "given" : "explained variance", e) ||
        am_h5_attr_f64(gpca, "variance_target", cfg->pca_k > 0 ? NAN : cfg->pca_variance, e))
        goto out;
    *scores_out = scores, *Kout = K;
    scores = NULL;
    rc = 0;
out:
    am_h5_close(&dc);
    am_h5_close(&gpca);
    free(Zk), free(ck), free(comp), free(var), free(ratio), free(sk), free(scores);
    return rc;
}

/* t-SNE of X [N,D] into Y [N,2] with the options of cfg into *o and *r:
 * exact up to `exact_to` points (a negative value: only as cfg says), beyond
 * that cfg's method, auto being Barnes-Hut (FFT from 50k); perplexity capped
 * at (N-1)/3. With N < 4 the coordinates and the KL are NaN. */
static int tsne_run(const am_an_config *cfg, const double *X, int N, int D, int exact_to, const char *name, double *Y,
                    am_tsne_opts *o, am_tsne_result *r, am_err *e) {
    *o = cfg->tsne;
    *r = (am_tsne_result){.kl = NAN};
    if (exact_to >= 0 && N <= exact_to) o->method = AM_TSNE_EXACT;
    else if (cfg->tsne_auto) o->method = am_tsne_method_for(AM_TSNE_AUTO, N);
    double pmax = (N - 1) / 3.0;
    if (o->perplexity > pmax) o->perplexity = pmax;
    if (N < 4) {
        for (int i = 0; i < 2 * N; i++) Y[i] = NAN;
        return 0;
    }
    an_progress(cfg, "t-SNE of %d x %d for %s (%s, perplexity %g, %d iterations)", N, D, name,
                am_tsne_method_name(o->method), o->perplexity, o->iterations);
    double t0 = an_seconds();
    if (am_tsne_run(X, N, D, o, Y, r, e)) return am_wrap(e, "t-SNE for %s", name);
    an_progress(cfg, "t-SNE done: KL %.6f after %d iterations (%.2f s)", r->kl, r->iterations, an_seconds() - t0);
    return 0;
}

/* t-SNE of X [N,D] into dataset `name` [N,2] of loc with its attributes.
 * With N < 4 the coordinates and kl_divergence are NaN. */
static int tsne_write(const am_an_config *cfg, hid_t loc, const char *name, const double *X, int N, int D, int exact_to,
                      const char *on, am_err *e) {
    int rc = -1;
    hsize_t dims[2] = {(hsize_t)N, 2};
    hid_t d = H5I_INVALID_HID;
    am_tsne_opts o;
    am_tsne_result r;
    double *Y = am_malloc((size_t)(N ? N : 1) * 2, sizeof *Y, "t-SNE coordinates", e); /* [N,2] */
    if (!Y) return -1;
    if (tsne_run(cfg, X, N, D, exact_to, name, Y, &o, &r, e)) goto out;
    if ((d = am_h5_write(loc, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dims, NULL, 0, Y, e)) < 0) goto out;
    if (am_h5_attr_f64(d, "kl_divergence", r.kl, e) || am_h5_attr_f64(d, "perplexity", o.perplexity, e) ||
        am_h5_attr_i64(d, "seed", (int64_t)o.seed, e) || am_h5_attr_i64(d, "iterations", r.iterations, e) ||
        am_h5_attr_str(d, "method", am_tsne_method_name(o.method), e) ||
        am_h5_attr_f64(d, "learning_rate", r.learning_rate, e) ||
        am_h5_attr_f64(d, "early_exaggeration", o.early_exaggeration, e) || am_h5_attr_f64(d, "angle", o.theta, e) ||
        am_h5_attr_str(d, "init", "pca", e) || am_h5_attr_str(d, "input", on, e))
        goto out;
    rc = 0;
out:
    am_h5_close(&d);
    free(Y);
    return rc;
}

/* Distance of heads a and b as the mean over the units (pair, alpha) both
 * have of the Euclidean distance of their PCA scores; NaN without a common
 * unit. unit [Hn,U] holds the point of each head in each unit (-1: none). */
static double unit_distance(const double *sc, int K, const long *unit, int U, int a, int b) {
    double s = 0;
    int c = 0;
    for (int u = 0; u < U; u++) {
        long i = unit[(size_t)a * U + u], j = unit[(size_t)b * U + u];
        if (i < 0 || j < 0) continue;
        double d2 = 0;
        for (int k = 0; k < K; k++) {
            double d = sc[(size_t)i * K + k] - sc[(size_t)j * K + k];
            d2 += d * d;
        }
        s += sqrt(d2), c++;
    }
    return c ? s / c : NAN;
}

/* /heads/cluster and /clusters: average-linkage clusters of the heads on
 * D [Hn,Hn] (named dname), k given or by silhouette, and the head classes
 * (hclass [Hn], -1 mixed) counted per cluster. */
static int write_clusters(const am_an_config *cfg, hid_t out, hid_t gh, const double *D, const char *dname, int Hn,
                          const int *hclass, am_err *e) {
    int rc = -1, k = 1, kmax = cfg->clusters_max < Hn - 1 ? cfg->clusters_max : Hn - 1;
    const int C = AM_HC_N + 1; /* classes and "mixed" */
    const double t0 = an_seconds();
    hid_t gc = H5I_INVALID_HID, d = H5I_INVALID_HID;
    double *Z = am_malloc((size_t)(Hn > 1 ? Hn - 1 : 1) * 4, sizeof *Z, "linkage", e); /* [Hn-1,4] */
    double *sil = Z ? am_malloc((size_t)(kmax > 1 ? kmax : 1) + 1, sizeof *sil, "silhouettes", e) : NULL;
    int *label = sil ? am_calloc((size_t)Hn + 1, sizeof *label, "cluster labels", e) : NULL;
    int *count = NULL, *size = NULL;
    const char *cnames[AM_HC_N + 1];
    if (!label) goto out;
    for (int c = 0; c < AM_HC_N; c++) cnames[c] = am_hc_names[c];
    cnames[AM_HC_N] = "mixed";
    if (Hn >= 3) {
        if (am_cluster_average(D, Hn, Z, e)) goto out;
        if (cfg->clusters > 0) k = cfg->clusters < Hn ? cfg->clusters : Hn;
        else if ((k = am_cluster_best_k(D, Hn, Z, 2, kmax, sil, e)) < 0) goto out;
        if (am_cluster_cut(Z, Hn, k, label, e)) goto out;
        an_progress(cfg, "heads: %d clusters (%s, average linkage on %s; %.2f s)", k,
                    cfg->clusters > 0 ? "given" : "silhouette", dname, an_seconds() - t0);
    }
    if (!(count = am_calloc((size_t)k * C, sizeof *count, "class counts", e)) || /* [k, C] */
        !(size = am_calloc((size_t)k, sizeof *size, "cluster sizes", e)))
        goto out;
    for (int j = 0; j < Hn; j++) {
        size[label[j]]++;
        count[(size_t)label[j] * C + (hclass[j] < 0 ? AM_HC_N : hclass[j])]++;
    }
    {
        hsize_t dH = (hsize_t)Hn, dZ[2] = {(hsize_t)(Hn > 1 ? Hn - 1 : 0), 4}, dk = (hsize_t)k,
                dkC[2] = {(hsize_t)k, (hsize_t)C}, dS = (hsize_t)(kmax > 1 ? kmax + 1 : 0);
        if ((d = am_h5_write(gh, "cluster", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dH, NULL, 0, label, e)) < 0 ||
            am_h5_attr_str(d, "distance", dname, e) || am_h5_attr_str(gh, "cluster_distance", dname, e) ||
            am_h5_attr_str(d, "linkage", "average", e) || am_h5_attr_i64(d, "k", k, e) ||
            am_h5_attr_str(d, "k_rule",
                           Hn < 3              ? "too few heads"
                           : cfg->clusters > 0 ? "given"
                                               : "silhouette",
                           e))
            goto out;
        am_h5_close(&d);
        if (Hn >= 3 &&
            (am_h5_put(gh, "linkage", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dZ, Z, e) ||
             (cfg->clusters == 0 && am_h5_put(gh, "silhouette", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dS, sil, e))))
            goto out;
        if ((gc = am_h5_group(out, "clusters", e)) < 0 || an_put_strs(gc, "class", C, cnames, e) ||
            am_h5_put(gc, "size", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dk, size, e) ||
            am_h5_put(gc, "class_count", H5T_NATIVE_INT, H5T_STD_I32LE, 2, dkC, count, e) ||
            am_h5_attr_str(gc, "meaning", "class_count[c, j]: heads of cluster c whose dominant class is class[j]", e))
            goto out;
    }
    rc = 0;
out:
    am_h5_close(&d);
    am_h5_close(&gc);
    free(Z), free(sil), free(label), free(count), free(size);
    return rc;
}

/* /heads: mean z-scored features of each head over pairs and alphas, their
 * Euclidean distances (distance of means), the mean over units of the
 * per-unit distances in PCA space (sc [N,K]), t-SNE and clusters. */
static int write_heads(const am_an_config *cfg, const an_inputs *in, const an_points *pts, const double *Z,
                       const double *sc, int K, hid_t out, am_err *e) {
    const int F = AM_AN_NFEAT, U = in->npair * in->nalpha;
    int rc = -1, Hn = 0, base = 0, finite = 1;
    hid_t gh = H5I_INVALID_HID;
    for (int i = 0; i < in->n; i++) Hn += in->cubes[i].c.L * in->cubes[i].c.H;
    const hsize_t dH = Hn, dHF[2] = {(hsize_t)Hn, (hsize_t)F}, dHH[2] = {(hsize_t)Hn, (hsize_t)Hn};
    double *hfeat = am_calloc((size_t)Hn * F + 1, sizeof *hfeat, "head features", e);                  /* [Hn,F] */
    double *hdist = hfeat ? am_malloc((size_t)Hn * Hn + 1, sizeof *hdist, "head distances", e) : NULL; /* [Hn,Hn] */
    double *udist = hdist ? am_malloc((size_t)Hn * Hn + 1, sizeof *udist, "head distances", e) : NULL; /* [Hn,Hn] */
    long *unit = udist ? am_malloc((size_t)Hn * U + 1, sizeof *unit, "head units", e) : NULL;          /* [Hn,U] */
    int *hl = unit ? am_malloc((size_t)Hn + 1, sizeof *hl, "head layers", e) : NULL;
    int *hh = hl ? am_malloc((size_t)Hn + 1, sizeof *hh, "head indices", e) : NULL;
    int *hc = hh ? am_malloc((size_t)Hn + 1, sizeof *hc, "head classes", e) : NULL;
    const char **hm = hc ? am_malloc((size_t)Hn + 1, sizeof *hm, "head models", e) : NULL;
    if (!hm) {
        am_wrap(e, "%d heads", Hn);
        goto out;
    }
    for (size_t i = 0; i < (size_t)Hn * U; i++) unit[i] = -1;
    for (int i = 0; i < in->n; i++) {
        const an_cube *c = &in->cubes[i];
        const am_cube *k = &c->c;
        for (int l = 0; l < k->L; l++)
            for (int h = 0; h < k->H; h++) {
                int j = base + l * k->H + h;
                hl[j] = k->layer[l];
                hh[j] = k->head[h];
                hm[j] = c->name;
                hc[j] = pts->hclass[c->base + (size_t)l * k->H + h];
                for (int pa = 0; pa < k->P * k->A; pa++) {
                    size_t pi = c->base + ((size_t)pa * k->L + l) * k->H + h;
                    for (int f = 0; f < F; f++) hfeat[(size_t)j * F + f] += Z[pi * F + f];
                    int ua = 0;
                    while (ua < in->nalpha && in->alpha[ua] != pts->alpha[pi]) ua++;
                    unit[(size_t)j * U + (size_t)pts->pair[pi] * in->nalpha + ua] = (long)pi;
                }
                for (int f = 0; f < F; f++) hfeat[(size_t)j * F + f] /= (k->P * k->A);
            }
        base += k->L * k->H;
    }
#pragma omp parallel for schedule(dynamic, 8) if (Hn > 256)
    for (int a = 0; a < Hn; a++)
        for (int b = 0; b < Hn; b++) {
            double s = 0;
            for (int f = 0; f < F; f++) {
                double d = hfeat[(size_t)a * F + f] - hfeat[(size_t)b * F + f];
                s += d * d;
            }
            hdist[(size_t)a * Hn + b] = sqrt(s);
            udist[(size_t)a * Hn + b] = a == b ? 0 : unit_distance(sc, K, unit, U, a, b);
        }
    for (size_t i = 0; i < (size_t)Hn * Hn; i++)
        if (!isfinite(udist[i])) finite = 0;
    if ((gh = am_h5_group(out, "heads", e)) < 0 || an_put_strs(gh, "model", Hn, hm, e) ||
        am_h5_put(gh, "layer", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dH, hl, e) ||
        am_h5_put(gh, "head", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dH, hh, e) ||
        am_h5_put(gh, "class", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dH, hc, e) ||
        am_h5_put(gh, "features", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dHF, hfeat, e) ||
        am_h5_put(gh, "distance", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dHH, hdist, e) ||
        am_h5_put(gh, "distance_units", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dHH, udist, e)) {
        am_wrap(e, "writing /heads");
        goto out;
    }
    if (am_h5_attr_str(gh, "features_meaning", "mean over pairs and alphas of z-scored motif features", e) ||
        am_h5_attr_str(gh, "distance_meaning", "Euclidean distance of /heads/features (distance of means)", e) ||
        am_h5_attr_str(gh, "distance_units_meaning",
                       "mean over the units (pair, alpha) both heads have of the Euclidean distance of their "
                       "/points/pca scores; NaN without a common unit",
                       e) ||
        tsne_write(cfg, gh, "tsne", hfeat, Hn, F, 1000, "heads: /heads/features", e) ||
        write_clusters(cfg, out, gh, finite ? udist : hdist, finite ? "distance_units" : "distance", Hn, hc, e))
        goto out;
    rc = 0;
out:
    am_h5_close(&gh);
    free(hfeat), free(hdist), free(udist), free(unit), free(hl), free(hh), free(hc), free(hm);
    return rc;
}

/* Per pair key: a t-SNE of the z-scored features Z [N,F] of that key's maps
 * (all models, alphas, layers and heads), into /points/tsne_key [N,2] (each
 * map at its place in its key's embedding) and /keys (KL, iterations,
 * method and size per key). */
static int write_key_tsne(const am_an_config *cfg, const an_inputs *in, const an_points *pts, const double *Z,
                          hid_t out, hid_t gp, am_err *e) {
    const size_t N = pts->N;
    const int F = AM_AN_NFEAT, K = in->npair;
    int rc = -1;
    hid_t gk = H5I_INVALID_HID, d = H5I_INVALID_HID;
    double *Y = am_malloc(N * 2 + 1, sizeof *Y, "per-key t-SNE", e);                               /* [N,2] */
    double *X = Y ? am_malloc(N * F + 1, sizeof *X, "one key's features", e) : NULL;               /* [Nk,F] */
    double *Yk = X ? am_malloc(N * 2 + 1, sizeof *Yk, "one key's t-SNE", e) : NULL;                /* [Nk,2] */
    size_t *idx = Yk ? am_malloc(N + 1, sizeof *idx, "one key's points", e) : NULL;                /* [Nk] */
    double *kl = idx ? am_malloc((size_t)K + 1, sizeof *kl, "per-key KL", e) : NULL;               /* [K] */
    int *it = kl ? am_malloc((size_t)K + 1, sizeof *it, "per-key iterations", e) : NULL;           /* [K] */
    int *cnt = it ? am_malloc((size_t)K + 1, sizeof *cnt, "per-key sizes", e) : NULL;              /* [K] */
    double *perp = cnt ? am_malloc((size_t)K + 1, sizeof *perp, "per-key perplexities", e) : NULL; /* [K] */
    const char **meth = perp ? am_malloc((size_t)K + 1, sizeof *meth, "per-key methods", e) : NULL;
    if (!meth) goto out;
    for (int k = 0; k < K; k++) {
        size_t n = 0;
        am_tsne_opts o;
        am_tsne_result r;
        char what[300];
        for (size_t i = 0; i < N; i++)
            if (pts->pair[i] == k) {
                idx[n] = i;
                memcpy(X + n * F, Z + i * F, F * sizeof *X);
                n++;
            }
        snprintf(what, sizeof what, "pair key %s", in->pair[k]);
        if (tsne_run(cfg, X, (int)n, F, cfg->tsne_auto ? 2000 : -1, what, Yk, &o, &r, e)) goto out;
        for (size_t j = 0; j < n; j++) Y[idx[j] * 2] = Yk[j * 2], Y[idx[j] * 2 + 1] = Yk[j * 2 + 1];
        kl[k] = r.kl, it[k] = r.iterations, cnt[k] = (int)n, meth[k] = am_tsne_method_name(o.method);
        perp[k] = o.perplexity;
    }
    {
        hsize_t dims[2] = {N, 2}, dK = (hsize_t)K;
        static const char *const pair_dim[1] = {"/pair"};
        if ((d = am_h5_write(gp, "tsne_key", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dims, NULL, 0, Y, e)) < 0 ||
            am_h5_attr_str(d, "input", "z-scored /points/features of the maps of one pair key", e) ||
            am_h5_attr_i64(d, "seed", (int64_t)cfg->tsne.seed, e))
            goto out;
        if ((gk = am_h5_group(out, "keys", e)) < 0 ||
            am_h5_put(gk, "kl_divergence", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dK, kl, e) ||
            am_h5_put(gk, "iterations", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dK, it, e) ||
            am_h5_put(gk, "points", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dK, cnt, e) ||
            am_h5_put(gk, "perplexity", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dK, perp, e) ||
            an_put_strs(gk, "method", K, meth, e) || am_h5_attach(gk, "kl_divergence", pair_dim, 1, e) ||
            am_h5_attach(gk, "iterations", pair_dim, 1, e) || am_h5_attach(gk, "points", pair_dim, 1, e))
            goto out;
    }
    rc = 0;
out:
    am_h5_close(&d);
    am_h5_close(&gk);
    free(Y), free(X), free(Yk), free(idx), free(kl), free(it), free(cnt), free(perp), free(meth);
    return rc;
}

int an_write_global(const am_an_config *cfg, const an_inputs *in, hid_t out, an_points *pts, float **maps, am_err *e) {
    const size_t N = pts->N;
    const int F = AM_AN_NFEAT;
    int rc = -1;
    double fmean[AM_AN_NFEAT], fstd[AM_AN_NFEAT];
    double *Xmaps = NULL, *scores = NULL;
    int K = 0;
    hid_t gp = H5I_INVALID_HID;
    double *Z = am_malloc(N * F + 1, sizeof *Z, "z-scored features", e); /* [N,F] */
    if (!Z) return -1;
    memcpy(Z, pts->feat, N * F * sizeof *Z);
    am_pca_zscore(Z, (int)N, F, fmean, fstd);
    if (write_root(cfg, in, out, e) || (gp = am_h5_group(out, "points", e)) < 0 || write_points(in, gp, pts, e) ||
        write_pca(cfg, Z, N, out, gp, fmean, fstd, &scores, &K, e) || write_heads(cfg, in, pts, Z, scores, K, out, e))
        goto out;
    if (cfg->tsne_on_maps) { /* points t-SNE */
        size_t SS = (size_t)in->cubes[0].c.S * in->cubes[0].c.S;
        if (!(Xmaps = am_malloc(N * SS, sizeof *Xmaps, "--tsne-on maps", e))) goto out; /* [N, S*S] */
        for (size_t i = 0; i < N * SS; i++) Xmaps[i] = (*maps)[i];
        free(*maps);
        *maps = NULL;
        if (tsne_write(cfg, gp, "tsne", Xmaps, (int)N, (int)SS, cfg->tsne_auto ? 2000 : -1, "maps: raw maps flattened",
                       e))
            goto out;
    } else {
        if (tsne_write(cfg, gp, "tsne", Z, (int)N, F, cfg->tsne_auto ? 2000 : -1, "features: z-scored /points/features",
                       e))
            goto out;
    }
    if (cfg->key_tsne && write_key_tsne(cfg, in, pts, Z, out, gp, e)) goto out;
    rc = 0;
out:
    am_h5_close(&gp);
    free(Z), free(Xmaps), free(scores);
    return rc;
}
