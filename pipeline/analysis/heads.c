/* Head classes (see heads.h). */
#include "analysis/heads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h5/h5io.h"
#include "h5/schema.h"

const char *const am_hc_names[AM_HC_N] = {"previous_token", "first_token_sink", "diagonal", "fixed_offset",
                                          "broad",          "induction"};

const char *am_hc_label_name(int label) { return label >= 0 && label < AM_HC_N ? am_hc_names[label] : "mixed"; }

void am_hc_map_scores(const float *A, int S, int n, double *score, double *off) {
    for (int c = 0; c < AM_HC_MAP_N; c++) score[c] = NAN;
    if (off)
        for (int d = 0; d < S; d++) off[d] = NAN;
    if (n < 3) return;
    double prev = 0, sink = 0, diag = 0, broad = 0, best = NAN;
    int rows = n - 2, min_rows = rows / 2 > 1 ? rows / 2 : 1;
    for (int q = 2; q < n; q++) {
        const float *r = A + (size_t)q * S;
        prev += r[q - 1], sink += r[0], diag += r[q];
        double h = 0;
        for (int k = 0; k <= q; k++)
            if (r[k] > 0) h -= r[k] * log(r[k]);
        broad += h / log(q + 1.0);
    }
    for (int d = 2; d < n; d++) {
        int cnt = n - d < rows ? n - d : rows; /* rows q in [max(d, 2), n) */
        if (cnt < min_rows) break;
        double m = 0;
        for (int q = d > 2 ? d : 2; q < n; q++) m += A[(size_t)q * S + q - d];
        m /= cnt;
        if (off) off[d] = m;
        if (!(m <= best)) best = m;
    }
    score[AM_HC_PREVIOUS] = prev / rows;
    score[AM_HC_SINK] = sink / rows;
    score[AM_HC_DIAGONAL] = diag / rows;
    score[AM_HC_OFFSET] = best;
    score[AM_HC_BROAD] = broad / rows;
}

int am_hc_label(const double *score) {
    int best = -1;
    for (int c = 0; c < AM_HC_N; c++)
        if (!isnan(score[c]) && score[c] >= AM_HC_THRESHOLD && (best < 0 || score[c] > score[best])) best = c;
    return best;
}

int am_hc_induction_read(const char *path, am_hc_induction *ind, am_err *e) {
    int rc = -1, rank = 0;
    hsize_t d[H5S_MAX_RANK];
    memset(ind, 0, sizeof *ind);
    hid_t f = am_h5_open_input(path, AM_SCHEMA_INDUCTION, e);
    if (f < 0) return -1;
    if (am_h5_shape(f, "score", &rank, d, e)) goto out;
    if (rank != 2 || d[0] == 0 || d[1] == 0 || d[0] > 1u << 16 || d[1] > 1u << 16) {
        am_fail_code(e, AM_E_CORRUPT, "%s: /score must be float64 [layers, heads] (rank %d found)", path, rank);
        goto out;
    }
    if (am_h5_read(f, "score", H5T_NATIVE_DOUBLE, 2, d, (void **)&ind->score, e)) goto out;
    ind->L = (int)d[0], ind->H = (int)d[1];
    if (am_h5_read_attr_str(f, "model", &ind->model, e) ||
        am_h5_read_attr_str(f, "checkpoint_fingerprint", &ind->checkpoint_fingerprint, e) ||
        am_h5_read_attr_str(f, "fingerprint", &ind->fingerprint, e) ||
        am_h5_read_attr_i64(f, "induction_tokens", &ind->tokens, e) ||
        am_h5_read_attr_i64(f, "induction_seqs", &ind->seqs, e) || am_h5_read_attr_i64(f, "seed", &ind->seed, e))
        goto out;
    if (am_h5_attr_exists(f, "checkpoint") ? am_h5_read_attr_str(f, "checkpoint", &ind->checkpoint, e)
                                           : !(ind->checkpoint = am_calloc(1, 1, "a string", e)))
        goto out;
    rc = 0;
out:
    am_h5_close(&f);
    if (rc) am_hc_induction_free(ind);
    return rc;
}

void am_hc_induction_free(am_hc_induction *ind) {
    free(ind->score), free(ind->model), free(ind->checkpoint_fingerprint), free(ind->fingerprint);
    free(ind->checkpoint);
    memset(ind, 0, sizeof *ind);
}
