#include <math.h>

#include "logits.h"

double am_kl_logits(const float *a, const float *b, int V) {
    double ma = -INFINITY, mb = -INFINITY, za = 0, zb = 0, kl = 0;
    for (int v = 0; v < V; v++) ma = a[v] > ma ? a[v] : ma, mb = b[v] > mb ? b[v] : mb;
    for (int v = 0; v < V; v++) za += exp(a[v] - ma), zb += exp(b[v] - mb);
    double la = ma + log(za), lb = mb + log(zb); /* log-partition functions */
    for (int v = 0; v < V; v++) {
        double lpa = a[v] - la, lpb = b[v] - lb;
        kl += exp(lpa) * (lpa - lpb);
    }
    return kl > 0 ? kl : 0;
}
