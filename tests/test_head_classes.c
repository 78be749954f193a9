/* Pattern-shape head-class scores (am_hc_map_scores, am_hc_label) on maps
 * built by hand: a first-token sink, a fixed offset of 3 (with the rows that
 * cannot reach it on the sink), a uniform map, a diagonal one, and a
 * half-and-half map that reaches no threshold (mixed). Scores are checked
 * against values computed here from their definitions. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/heads.h"
#include "test_util.h"

#define S 48

static float A[S * S];
static void put(int q, int k, float v) { A[q * S + k] = v; }

int main(void) {
    const int n = 10; /* valid size; cells beyond stay 0 */
    double sc[AM_HC_N], off[S];
    /* sink */
    memset(A, 0, sizeof A);
    for (int q = 0; q < n; q++) put(q, 0, 1);
    am_hc_map_scores(A, S, n, sc, off);
    sc[AM_HC_INDUCTION] = NAN;
    CHECK(sc[AM_HC_SINK] == 1 && sc[AM_HC_PREVIOUS] == 0 && sc[AM_HC_BROAD] == 0, "sink scores %g %g %g",
          sc[AM_HC_SINK], sc[AM_HC_PREVIOUS], sc[AM_HC_BROAD]);
    CHECK(!strcmp(am_hc_label_name(am_hc_label(sc)), "first_token_sink"), "sink labelled %s",
          am_hc_label_name(am_hc_label(sc)));
    /* fixed offset 3: rows q >= 3 on q-3, rows 0..2 on key 0 */
    memset(A, 0, sizeof A);
    for (int q = 0; q < n; q++) put(q, q >= 3 ? q - 3 : 0, 1);
    am_hc_map_scores(A, S, n, sc, off);
    sc[AM_HC_INDUCTION] = NAN;
    /* rows q in [2, 10): offset-3 rows q = 3..9 (7 of 8 counted rows at d = 3, mean over 7 rows = 1) */
    CHECK(fabs(off[3] - 1.0) < 1e-12 && fabs(sc[AM_HC_OFFSET] - 1.0) < 1e-12, "offset 3 profile %g score %g", off[3],
          sc[AM_HC_OFFSET]);
    CHECK(fabs(sc[AM_HC_SINK] - 2.0 / 8) < 1e-12, "offset map sink %g (rows 2 and 3 of 8)", sc[AM_HC_SINK]);
    CHECK(am_hc_label(sc) == AM_HC_OFFSET, "offset map labelled %s", am_hc_label_name(am_hc_label(sc)));
    /* uniform: normalised entropy 1, sink mean of 1/(q+1) */
    memset(A, 0, sizeof A);
    double s1 = 0;
    for (int q = 0; q < n; q++)
        for (int k = 0; k <= q; k++) put(q, k, 1.0f / (q + 1));
    for (int q = 2; q < n; q++) s1 += 1.0 / (q + 1);
    am_hc_map_scores(A, S, n, sc, NULL);
    sc[AM_HC_INDUCTION] = NAN;
    CHECK(fabs(sc[AM_HC_BROAD] - 1) < 1e-6 && fabs(sc[AM_HC_SINK] - s1 / 8) < 1e-6, "uniform broad %g sink %g",
          sc[AM_HC_BROAD], sc[AM_HC_SINK]);
    CHECK(am_hc_label(sc) == AM_HC_BROAD, "uniform labelled %s", am_hc_label_name(am_hc_label(sc)));
    /* diagonal */
    memset(A, 0, sizeof A);
    for (int q = 0; q < n; q++) put(q, q, 1);
    am_hc_map_scores(A, S, n, sc, NULL);
    sc[AM_HC_INDUCTION] = NAN;
    CHECK(sc[AM_HC_DIAGONAL] == 1 && am_hc_label(sc) == AM_HC_DIAGONAL, "diagonal %g", sc[AM_HC_DIAGONAL]);
    /* split 0.45 previous, 0.45 sink, 0.1 self over 40 rows: no class reaches 0.5
     * (normalised entropy about 0.95 / log(q + 1), below 0.5 on average) */
    memset(A, 0, sizeof A);
    for (int q = 1; q < 40; q++) put(q, q - 1, 0.45f), put(q, 0, q == 1 ? 1.0f : 0.45f), put(q, q, q == 1 ? 0 : 0.1f);
    put(0, 0, 1);
    am_hc_map_scores(A, S, 40, sc, NULL);
    sc[AM_HC_INDUCTION] = 0.3;
    CHECK(am_hc_label(sc) == -1 && !strcmp(am_hc_label_name(-1), "mixed"),
          "split map labelled %s (prev %g sink %g broad %g)", am_hc_label_name(am_hc_label(sc)), sc[AM_HC_PREVIOUS],
          sc[AM_HC_SINK], sc[AM_HC_BROAD]);
    /* induction wins when measured high */
    sc[AM_HC_INDUCTION] = 0.9;
    CHECK(am_hc_label(sc) == AM_HC_INDUCTION, "induction not chosen");
    /* too small a map: NaN scores, mixed */
    am_hc_map_scores(A, S, 2, sc, NULL);
    sc[AM_HC_INDUCTION] = NAN;
    CHECK(isnan(sc[AM_HC_PREVIOUS]) && am_hc_label(sc) == -1, "n = 2 not NaN");
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("head classes: sink, fixed offset 3, broad, diagonal, mixed, induction: ok\n");
    return 0;
}
