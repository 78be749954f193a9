/* Batched generation (see runtime.h): every step picks one token per active
 * unit (greedy, or temperature / top-k / top-p sampling from the unit's own
 * seeded stream; or, teacher-forced, the token another unit picked or the
 * next token of a given text) and feeds all of them in one am_forward. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/runtime_impl.h"

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Stream (seed, unit): independent of which other units run. */
static uint64_t rng_seed(uint64_t seed, int unit) {
    uint64_t s = seed;
    uint64_t a = splitmix64(&s);
    s = a ^ (0xd1b54a32d192ed03ull * (uint64_t)(unit + 1));
    return splitmix64(&s);
}

static double rng_uniform(uint64_t *s) { return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0); }

static const double *cmp_p;
static int cmp_desc(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    if (cmp_p[i] != cmp_p[j]) return cmp_p[i] > cmp_p[j] ? -1 : 1;
    return i - j;
}

/* Keep the top_k most probable tokens of p [V] (all tokens tied with the
 * k-th too, as HF's TopKLogitsWarper, which drops logits below the k-th
 * largest) and renormalise; idx [V] is scratch. */
static void keep_top_k(double *p, int V, int top_k, int *idx) {
    if (top_k <= 0 || top_k >= V) return;
    for (int i = 0; i < V; i++) idx[i] = i;
    /* quickselect: the k-th largest value into idx[top_k - 1] */
    int lo = 0, hi = V - 1, k = top_k - 1;
    while (lo < hi) {
        double piv = p[idx[(lo + hi) / 2]];
        int i = lo, j = hi;
        while (i <= j) {
            while (p[idx[i]] > piv) i++;
            while (p[idx[j]] < piv) j--;
            if (i <= j) {
                int t = idx[i];
                idx[i++] = idx[j], idx[j--] = t;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    double kth = p[idx[k]], sum = 0;
    for (int i = 0; i < V; i++) {
        if (p[i] < kth) p[i] = 0;
        sum += p[i];
    }
    for (int i = 0; i < V; i++) p[i] /= sum;
}

/* Sample from softmax(logits / temperature) restricted to the top_k most
 * probable tokens (0: all), renormalised, then to the top-p nucleus
 * (as HF's TopPLogitsWarper: keep the most probable tokens while the mass
 * before them is < top_p, at least one). A token with p <= (1 - top_p) / V
 * is never in the nucleus (all tokens at most as probable carry at most
 * 1 - top_p). The others go into AM_SAMP_BUCKETS buckets by log p; whole
 * buckets above the boundary are kept and only the boundary bucket is sorted,
 * so a flat distribution costs O(V), not a sort of V ids. */
static int sample(am_runtime *rt, const float *logits, double temperature, int top_k, double top_p, uint64_t *rng) {
    int V = rt->V, nc = 0;
    double *p = rt->samp_p, mx = -INFINITY, sum = 0;
    for (int i = 0; i < V; i++)
        if (logits[i] > mx) mx = logits[i];
    for (int i = 0; i < V; i++) {
        p[i] = exp(((double)logits[i] - mx) / temperature);
        sum += p[i];
    }
    double pmax = 0;
    for (int i = 0; i < V; i++) p[i] /= sum;
    keep_top_k(p, V, top_k, rt->samp_idx);
    for (int i = 0; i < V; i++)
        if (p[i] > pmax) pmax = p[i];
    if (top_p < 1.0) {
        double thr = (1.0 - top_p) / V, lmax = log(pmax), span = lmax - log(thr);
        double *bm = rt->samp_bucket_mass;
        for (int b = 0; b < AM_SAMP_BUCKETS; b++) bm[b] = 0;
        for (int i = 0; i < V; i++)
            if (p[i] > thr) {
                int b = (int)((lmax - log(p[i])) / span * AM_SAMP_BUCKETS);
                rt->samp_bucket[i] = b < AM_SAMP_BUCKETS ? b : AM_SAMP_BUCKETS - 1;
                bm[rt->samp_bucket[i]] += p[i];
            } else {
                rt->samp_bucket[i] = -1;
            }
        /* boundary bucket: mass before it < top_p <= mass through it */
        double cum = 0;
        int bb = 0;
        while (bb < AM_SAMP_BUCKETS - 1 && cum + bm[bb] < top_p) cum += bm[bb++];
        for (int i = 0; i < V; i++)
            if (rt->samp_bucket[i] >= 0 && rt->samp_bucket[i] < bb) rt->samp_idx[nc++] = i;
        int nb0 = nc;
        for (int i = 0; i < V; i++)
            if (rt->samp_bucket[i] == bb) rt->samp_idx[nc++] = i;
        cmp_p = p;
        qsort(rt->samp_idx + nb0, nc - nb0, sizeof(int), cmp_desc);
        int keep = nb0;
        while (keep < nc && (keep == 0 || cum < top_p)) cum += p[rt->samp_idx[keep++]];
        nc = keep;
    } else {
        for (int i = 0; i < V; i++) rt->samp_idx[nc++] = i;
    }
    double mass = 0;
    for (int c = 0; c < nc; c++) mass += p[rt->samp_idx[c]];
    double r = rng_uniform(rng) * mass, acc = 0;
    for (int c = 0; c < nc; c++) {
        acc += p[rt->samp_idx[c]];
        if (r < acc) return rt->samp_idx[c];
    }
    return rt->samp_idx[nc - 1];
}

int am_generate(am_runtime *rt, int n, const int *units, const float *logits0, const am_gen_opts *g,
                const am_capture *cap, int32_t *gen, int *n_gen, am_err *e) {
    int V = rt->V, D = rt->D, maxn = g->max_new_tokens;
    if (n < 1 || n > rt->max_units) return am_fail(e, "generate: %d units (1..max_units %d)", n, rt->max_units);
    if (g->temperature < 0 || (g->temperature > 0 && !(g->top_p > 0 && g->top_p <= 1)))
        return am_fail(e, "generate: temperature %g must be >= 0 and top_p %g in (0, 1]", g->temperature, g->top_p);
    if (g->forced && g->n_forced < 1) return am_fail(e, "generate: a forced continuation needs at least one token");
    for (int i = 0; i < n; i++) {
        int u = units[i];
        if (u < 0 || u >= rt->max_units)
            return am_fail(e, "generate: unit %d out of range 0..%d", u, rt->max_units - 1);
        if (rt->len[u] < 1) return am_fail(e, "generate: unit %d has no prompt (prefill it first)", u);
        if (rt->len[u] + maxn > rt->max_seq)
            return am_fail(e, "generate: unit %d: %d prompt + %d new tokens exceed max_seq %d; hint: raise max_seq", u,
                           rt->len[u], maxn, rt->max_seq);
        if (g->max_new && (g->max_new[i] < 0 || g->max_new[i] > maxn))
            return am_fail(e, "generate: unit %d: limit %d outside 0..max_new_tokens %d", u, g->max_new[i], maxn);
        if (g->follow && g->follow[i] >= 0 &&
            (g->follow[i] >= n || g->follow[i] == i || g->follow[g->follow[i]] >= 0 ||
             (g->max_new && g->max_new[g->follow[i]] < g->max_new[i])))
            return am_fail(e, "generate: unit %d follows entry %d, which is not a unit generating its own tokens", u,
                           g->follow[i]);
        n_gen[i] = 0;
        rt->gen_active[i] = (g->max_new ? g->max_new[i] : maxn) > 0;
        rt->gen_row[i] = i;
        rt->rng[i] = rng_seed(g->seed, u);
    }
    const float *cur = logits0; /* [rows][V], unit i at row gen_row[i] */
    for (int step = 0;; step++) {
        /* pick one token per active unit; a unit that hits eos or the limit
         * still feeds that token once, so its map stays square */
        int m = 0;
        /* units picking their own tokens first, then those following them */
        for (int i2 = 0; i2 < 2 * n; i2++) {
            int i = i2 % n, follows = g->follow && g->follow[i] >= 0;
            if (!rt->gen_active[i] || follows != (i2 >= n)) continue;
            const float *lg = cur + (size_t)rt->gen_row[i] * V;
            int tok, stop = 0;
            if (follows) { /* the followed unit has picked this step's token */
                int src = g->follow[i];
                tok = gen[(size_t)src * maxn + n_gen[i]];
                stop = !rt->gen_active[src] && n_gen[i] + 1 >= n_gen[src];
            } else if (g->forced) {
                tok = g->forced[n_gen[i]];
                stop = n_gen[i] + 1 >= g->n_forced;
            } else {
                tok = g->temperature > 0 ? sample(rt, lg, g->temperature, g->top_k, g->top_p, &rt->rng[i])
                                         : rt->k->argmax(lg, V);
            }
            gen[(size_t)i * maxn + n_gen[i]++] = tok;
            stop |= n_gen[i] >= (g->max_new ? g->max_new[i] : maxn);
            if (!g->forced && !follows)
                for (int s = 0; s < g->n_eos; s++) stop |= tok == g->eos_ids[s];
            if (stop) rt->gen_active[i] = 0;
            am_embed_lookup(rt->m, tok, rt->gen_emb + (size_t)m * D);
            rt->gen_emb_ptr[m] = rt->gen_emb + (size_t)m * D;
            rt->gen_units[m] = units[i];
            rt->gen_T[m] = 1;
            rt->gen_map[m] = i;
            m++;
        }
        if (m == 0) break;
        /* one forward for all of them */
        if (am_forward(rt, m, rt->gen_units, rt->gen_T, rt->gen_emb_ptr, cap, rt->gen_logits, e))
            return am_wrap(e, "generate step %d", step);
        cur = rt->gen_logits;
        int active = 0;
        for (int r = 0; r < m; r++) {
            rt->gen_row[rt->gen_map[r]] = r;
            active += rt->gen_active[rt->gen_map[r]];
        }
        if (g->progress) g->progress(g->progress_ctx, step, active);
    }
    return 0;
}
