/* Qwen3 forward pass on the CPU (see runtime.h). Follows Hugging Face
 * modeling_qwen3.py: pre-norm blocks, q/k RMSNorm per head before rotate-half
 * RoPE, GQA, float32 softmax with exact zeros for masked keys, SiLU MLP. */
#include "model/finite.h"
#include "model/runtime_impl.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xcalloc(size_t n, size_t size, size_t *total) {
    if (n == 0) n = 1;
    *total += n * size;
    return calloc(n, size);
}

int am_runtime_init(am_runtime **out, const am_qwen3 *m, const am_runtime_opts *o, am_err *e) {
    *out = NULL;
    const am_qwen3_config *c = &m->cfg;
    if (o->max_units < 1 || o->max_seq < 1)
        return am_fail(e, "runtime for %s: max_units (%d) and max_seq (%d) must be >= 1", m->dir, o->max_units,
                       o->max_seq);
    if (c->head_dim % 2)
        return am_fail(e, "runtime for %s: head_dim %d is odd; rotate-half RoPE needs an even head_dim", m->dir,
                       c->head_dim);
    if (c->num_key_value_heads < 1 || c->num_attention_heads % c->num_key_value_heads)
        return am_fail(e, "runtime for %s: num_attention_heads %d is not a multiple of num_key_value_heads %d", m->dir,
                       c->num_attention_heads, c->num_key_value_heads);
    const char *level = getenv("AM_KERNELS"); /* caps the kernel level (docs/platforms.md) */
    if (level && *level && am_kernels_level_named(level) < 0)
        return am_fail_code(e, AM_E_USAGE,
                            "runtime for %s: AM_KERNELS=%s is no kernel level (scalar, avx2, avx512, neon)", m->dir,
                            level);
    am_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) return am_fail_code(e, AM_E_NOMEM, "runtime: out of memory");
    rt->m = m;
    rt->allow_nonfinite = am_allow_nonfinite() == 2;
    rt->nf_unit = -1;
    rt->k = o->scalar ? am_kernels_get(AM_K_SCALAR) : am_kernels_best();
    rt->D = c->hidden_size, rt->F = c->intermediate_size, rt->L = c->num_hidden_layers;
    rt->H = c->num_attention_heads, rt->KV = c->num_key_value_heads, rt->hd = c->head_dim;
    rt->V = c->vocab_size;
    rt->max_units = o->max_units, rt->max_seq = o->max_seq;
    rt->max_tokens = o->max_tokens > 0 ? o->max_tokens : o->max_units * o->max_seq;
    rt->eps = (float)c->rms_norm_eps;
    rt->scale = (float)(1.0 / sqrt((double)c->head_dim));
    if (o->threads > 0) omp_set_num_threads(o->threads);

    int D = rt->D, F = rt->F, L = rt->L, H = rt->H, KV = rt->KV, hd = rt->hd, V = rt->V;
    size_t U = rt->max_units, S = rt->max_seq, N = rt->max_tokens;
    rt->max_q = (int)(N < S ? N : S);
    size_t Q = rt->max_q, tot = 0;
    int on_dev = o->backend == AM_RT_CUDA;
    size_t cache = on_dev ? 0 : U * L * KV * S * hd;          /* the device holds the caches */
    rt->kcache = xcalloc(cache, sizeof(float), &tot);         /* [U][L][KV][S][hd] */
    rt->vcache = xcalloc(cache, sizeof(float), &tot);         /* [U][L][KV][S][hd] */
    rt->len = xcalloc(U, sizeof(int), &tot);                  /* [U] filled positions */
    rt->n_pad = xcalloc(U, sizeof(int), &tot);                /* [U] */
    rt->mask_pads = xcalloc(U, sizeof(int), &tot);            /* [U] */
    rt->cos_tab = xcalloc(S * (hd / 2), sizeof(float), &tot); /* [S][hd/2] */
    rt->sin_tab = xcalloc(S * (hd / 2), sizeof(float), &tot); /* [S][hd/2] */
    rt->x = xcalloc(N * D, sizeof(float), &tot);              /* [N][D] residual stream */
    size_t Nl = on_dev ? 0 : N;                          /* rows of the layer activations: the device has its own */
    rt->xn = xcalloc(Nl * D, sizeof(float), &tot);       /* [N][D] normed / projected */
    rt->q = xcalloc(Nl * H * hd, sizeof(float), &tot);   /* [N][H][hd] */
    rt->kx = xcalloc(Nl * KV * hd, sizeof(float), &tot); /* [N][KV][hd] */
    rt->vx = xcalloc(Nl * KV * hd, sizeof(float), &tot); /* [N][KV][hd] */
    rt->att = xcalloc(Nl * H * hd, sizeof(float), &tot); /* [N][H][hd] */
    rt->gate = xcalloc(Nl * F, sizeof(float), &tot);     /* [N][F] */
    rt->up = xcalloc(Nl * F, sizeof(float), &tot);       /* [N][F] */
    rt->tok_pos = xcalloc(N, sizeof(int), &tot);         /* [N] RoPE position */
    /* probabilities of a group of units: one unit's full prefill, or a decode
     * step of all units at full length */
    rt->probs_cap = (size_t)H * (Q > U ? Q : U) * S;
    rt->probs = xcalloc(on_dev ? 0 : rt->probs_cap, sizeof(float), &tot);  /* per unit [H][nq][nk], packed;
                                                                         * the device has its own */
    rt->probs_off = xcalloc(U, sizeof(size_t), &tot);                      /* [U] offset of unit i in probs */
    rt->tok0 = xcalloc(U, sizeof(int), &tot);                              /* [U] first token row of unit i */
    rt->cap = xcalloc((size_t)H * Q * S, sizeof(float), &tot);             /* [n_heads][nq][nk] head subset */
    rt->last = xcalloc(on_dev ? 0 : U * D, sizeof(float), &tot);           /* [U][D] last position, normed */
    rt->gen_logits = xcalloc(U * (size_t)V, sizeof(float), &tot);          /* [U][V] */
    rt->gen_emb = xcalloc(U * D, sizeof(float), &tot);                     /* [U][D] */
    rt->gen_emb_ptr = xcalloc(U, sizeof(float *), &tot);                   /* [U] */
    rt->gen_units = xcalloc(U, sizeof(int), &tot);                         /* [U] */
    rt->gen_T = xcalloc(U, sizeof(int), &tot);                             /* [U] */
    rt->gen_row = xcalloc(U, sizeof(int), &tot);                           /* [U] logits row of unit i */
    rt->gen_map = xcalloc(U, sizeof(int), &tot);                           /* [U] forward row -> i */
    rt->gen_active = xcalloc(U, sizeof(int), &tot);                        /* [U] */
    rt->rng = xcalloc(U, sizeof(uint64_t), &tot);                          /* [U] sampling state */
    rt->samp_p = xcalloc(V, sizeof(double), &tot);                         /* [V] probabilities */
    rt->samp_idx = xcalloc(V, sizeof(int), &tot);                          /* [V] candidate ids */
    rt->samp_bucket = xcalloc(V, sizeof(int), &tot);                       /* [V] log-p bucket */
    rt->samp_bucket_mass = xcalloc(AM_SAMP_BUCKETS, sizeof(double), &tot); /* [AM_SAMP_BUCKETS] */
    rt->group_end = xcalloc(U, sizeof(int), &tot);                         /* [U] */
    rt->row_unit = xcalloc(N, sizeof(int), &tot);                          /* [N] */
    rt->call_q0 = xcalloc(U, sizeof(int), &tot);                           /* [U] */
    rt->call_npad = xcalloc(U, sizeof(int), &tot);                         /* [U] */
    rt->want = xcalloc(L, 1, &tot);                                        /* [L] */
    rt->modify = xcalloc(L, 1, &tot);                                      /* [L] */
    if (!rt->kcache || !rt->vcache || !rt->len || !rt->n_pad || !rt->mask_pads || !rt->cos_tab || !rt->sin_tab ||
        !rt->x || !rt->xn || !rt->q || !rt->kx || !rt->vx || !rt->att || !rt->gate || !rt->up || !rt->tok_pos ||
        !rt->probs || !rt->probs_off || !rt->tok0 || !rt->cap || !rt->last || !rt->gen_logits || !rt->gen_emb ||
        !rt->gen_emb_ptr || !rt->gen_units || !rt->gen_T || !rt->gen_row || !rt->gen_map || !rt->gen_active ||
        !rt->rng || !rt->samp_p || !rt->samp_idx || !rt->samp_bucket || !rt->samp_bucket_mass || !rt->group_end ||
        !rt->row_unit || !rt->call_q0 || !rt->call_npad || !rt->want || !rt->modify) {
        am_fail_code(e, AM_E_NOMEM,
                     "runtime for %s: out of memory allocating %.2f GB (max_units %d, max_seq %d, "
                     "max_tokens %d); hint: lower max_units or max_seq",
                     m->dir, tot / 1e9, o->max_units, o->max_seq, rt->max_tokens);
        am_runtime_free(rt);
        return -1;
    }
    rt->bytes = tot;
    if (o->weights_budget && !on_dev) {
        am_wplan plan;
        am_wstream_plan(m, o->weights_budget, &plan);
        if (am_wplan_streams(&plan)) {
            if (plan.head_streamed &&
                !(rt->head_blk = am_malloc(U * (size_t)plan.head_rows, sizeof(float), "the lm_head block logits", e))) {
                am_runtime_free(rt);
                return -1;
            }
            if (am_wstream_open(&rt->ws, m, &plan, e)) {
                am_runtime_free(rt);
                return -1;
            }
            snprintf(rt->ws_note, sizeof rt->ws_note, "weights streamed: %d of %d layers resident, lm_head %s",
                     plan.n_resident, plan.n_layers, plan.head_streamed ? "streamed" : "resident");
            rt->bytes += plan.buffers + (plan.head_streamed ? U * (size_t)plan.head_rows * sizeof(float) : 0);
        }
    }

    /* RoPE tables as HF computes them in float32:
     * inv_freq[i] = 1 / theta^(2i/hd), angle = inv_freq[i] * pos, cos/sin of it. */
    int half = hd / 2;
    for (int i = 0; i < half; i++) {
        float ex = (float)(2 * i) / (float)hd;
        float inv = 1.0f / powf((float)c->rope_theta, ex);
        for (size_t p = 0; p < S; p++) {
            float ang = inv * (float)p;
            rt->cos_tab[p * half + i] = cosf(ang);
            rt->sin_tab[p * half + i] = sinf(ang);
        }
    }
    if (on_dev) {
        am_dev_opts d = {.max_units = rt->max_units,
                         .max_seq = rt->max_seq,
                         .max_tokens = rt->max_tokens,
                         .probs_cap = rt->probs_cap,
                         .compute = o->cuda_f32 ? AM_DEV_F32 : AM_DEV_BF16,
                         .cos_tab = rt->cos_tab,
                         .sin_tab = rt->sin_tab};
        if (am_dev_init(&rt->dev, m, &d, e)) {
            am_runtime_free(rt);
            return -1;
        }
    }
    *out = rt;
    return 0;
}

void am_runtime_free(am_runtime *rt) {
    if (!rt) return;
    free(rt->kcache), free(rt->vcache), free(rt->len), free(rt->n_pad), free(rt->mask_pads);
    free(rt->cos_tab), free(rt->sin_tab), free(rt->x), free(rt->xn), free(rt->q), free(rt->kx);
    free(rt->vx), free(rt->att), free(rt->gate), free(rt->up), free(rt->tok_pos), free(rt->probs);
    free(rt->probs_off), free(rt->tok0);
    free(rt->cap), free(rt->last), free(rt->gen_logits), free(rt->gen_emb), free(rt->gen_emb_ptr);
    free(rt->gen_units), free(rt->gen_T), free(rt->gen_row), free(rt->gen_map), free(rt->gen_active);
    free(rt->rng), free(rt->samp_p), free(rt->samp_idx), free(rt->samp_bucket), free(rt->samp_bucket_mass);
    free(rt->group_end), free(rt->row_unit), free(rt->call_q0), free(rt->call_npad), free(rt->want), free(rt->modify);
    am_dev_free(rt->dev);
    am_wstream_free(rt->ws);
    free(rt->head_blk);
    free(rt);
}

void am_runtime_reset(am_runtime *rt, int unit, int n_pad, int mask_pads) {
    if (unit < 0 || unit >= rt->max_units) return;
    rt->len[unit] = 0;
    rt->n_pad[unit] = n_pad > 0 ? n_pad : 0;
    rt->mask_pads[unit] = mask_pads != 0;
}

int am_runtime_len(const am_runtime *rt, int unit) { return unit >= 0 && unit < rt->max_units ? rt->len[unit] : -1; }

const char *am_runtime_kernel_name(const am_runtime *rt) { return rt->dev ? am_dev_name(rt->dev) : rt->k->name; }

uint64_t am_runtime_bytes_streamed(const am_runtime *rt) { return rt->ws ? am_wstream_bytes_read(rt->ws) : 0; }

const char *am_runtime_weights_note(const am_runtime *rt) { return rt->ws_note; }

size_t am_runtime_bytes(const am_runtime *rt) { return rt->bytes + am_dev_bytes(rt->dev); }

void am_embed_lookup(const am_qwen3 *m, int32_t id, float *out) {
    const am_tensor *t = m->embed;
    size_t D = (size_t)m->cfg.hidden_size;
    const char *row = (const char *)t->data + (size_t)id * D * am_dtype_size(t->dtype);
    am_kernels_best()->convert(out, row, t->dtype, D);
}

/* RoPE position of cache slot s of a unit: with masked pads, real tokens are
 * numbered from 0 and pads get position 1 (HF: cumsum(mask) - 1, pads filled
 * with 1); a pad query sees only itself, so its position has no effect. */
static int slot_pos(const am_runtime *rt, int u, int s) {
    if (!rt->mask_pads[u]) return s;
    return s < rt->n_pad[u] ? 1 : s - rt->n_pad[u];
}

/* Attention for units i0..i1-1 of this call (all heads, their new queries)
 * in one parallel region; unit i's probabilities go to rt->probs + off[i],
 * laid out [H][nq][nk]. Query row rows are flattened over (unit, head, query). */
enum { ATT_FUSED = 0, ATT_PROBS = 1, ATT_VALUES = 2 };

/* mode ATT_FUSED: probabilities then values per row; ATT_PROBS: only the
 * probabilities; ATT_VALUES: only the weighted value sums of the (possibly
 * substituted) probabilities. The per-row kernel calls are the same in every
 * mode, so a split run is bitwise equal to a fused one. */
static void attention_group(am_runtime *rt, int l, const int *units, const int *T, const int *tok0, const size_t *off,
                            int i0, int i1, int mode) {
    const am_kernels *k = rt->k;
    int H = rt->H, KV = rt->KV, hd = rt->hd, S = rt->max_seq, grp = H / KV;
    int nrows = 0;
    double work = 0;
    for (int i = i0; i < i1; i++) {
        nrows += H * T[i];
        work += (double)H * T[i] * (rt->len[units[i]] + T[i]) * hd;
    }
#pragma omp parallel for schedule(dynamic, 4) if (work > 65536.0)
    for (int rr = 0; rr < nrows; rr++) {
        /* which unit, head and query this row is */
        int i = i0, r = rr;
        while (r >= H * T[i]) r -= H * T[i++];
        int u = units[i], nq = T[i], h = r / nq, qi = r % nq;
        int q0 = rt->len[u], nk = q0 + nq, p = q0 + qi; /* p: absolute position of the query */
        int npad = rt->mask_pads[u] ? rt->n_pad[u] : 0, kvh = h / grp;
        const float *kc = rt->kcache + (((size_t)u * rt->L + l) * KV + kvh) * S * hd;
        const float *vc = rt->vcache + (((size_t)u * rt->L + l) * KV + kvh) * S * hd;
        float *row = rt->probs + off[i] + ((size_t)h * nq + qi) * nk;
        const float *qv = rt->q + ((size_t)(tok0[i] + qi) * H + h) * hd;
        if (mode == ATT_VALUES) {
            k->attn_values(rt->att + ((size_t)(tok0[i] + qi) * H + h) * hd, row, vc, hd, p + 1, hd);
            continue;
        }
        /* scores (q.k) * scale over keys 0..p */
        k->attn_scores(row, qv, kc, hd, p + 1, hd, rt->scale);
        /* mask pads as keys (a pad query keeps itself) */
        for (int j = 0; j < npad && j < p; j++) row[j] = -INFINITY;
        /* float32 softmax; masked and future keys are exactly 0 */
        k->softmax(row, p + 1);
        for (int j = p + 1; j < nk; j++) row[j] = 0.0f;
        if (mode == ATT_PROBS) continue;
        /* weighted sum of values (query head h reads kv head h / (H/KV)) */
        k->attn_values(rt->att + ((size_t)(tok0[i] + qi) * H + h) * hd, row, vc, hd, p + 1, hd);
    }
}

static int capture_unit(am_runtime *rt, const am_capture *cap, int l, int u, int nq, const float *probs, am_err *e) {
    int q0 = rt->len[u], nk = q0 + nq;
    if (cap->heads) {
        size_t plane = (size_t)nq * nk;
        for (int i = 0; i < cap->n_heads; i++)
            memcpy(rt->cap + i * plane, probs + (size_t)cap->heads[i] * plane, plane * sizeof(float));
        probs = rt->cap;
    }
    if (cap->fn(cap->ctx, l, u, q0, nq, nk, probs, e)) return am_wrap(e, "capture hook (layer %d, unit %d)", l, u);
    return 0;
}

/* Let the freeze hook overwrite the selected heads' probabilities of one unit
 * (probs: [H][nq][nk]). */
static int freeze_unit(am_runtime *rt, int l, int u, int nq, float *probs, am_err *e) {
    const am_freeze *fz = rt->freeze;
    int q0 = rt->len[u], nk = q0 + nq;
    size_t plane = (size_t)nq * nk;
    for (int h = 0; h < rt->H; h++) {
        if (fz->heads && !fz->heads[h]) continue;
        if (fz->fn(fz->ctx, l, u, h, q0, nq, nk, probs + (size_t)h * plane, e))
            return am_wrap(e, "freeze hook (layer %d, unit %d, head %d)", l, u, h);
    }
    return 0;
}

void am_runtime_set_freeze(am_runtime *rt, const am_freeze *fz) { rt->freeze = fz; }

/* Split the call's units into groups whose probabilities ([H][nq][nk] per
 * unit, packed at probs_off) fit rt->probs; a unit alone always fits. */
static void plan_groups(am_runtime *rt, int n, const int *units, const int *T) {
    size_t used = 0;
    rt->n_groups = 0;
    for (int i = 0; i < n; i++) {
        size_t need = (size_t)rt->H * T[i] * (rt->len[units[i]] + T[i]);
        if (i > 0 && used + need > rt->probs_cap) {
            rt->group_end[rt->n_groups++] = i;
            used = 0;
        }
        rt->probs_off[i] = used;
        used += need;
    }
    rt->group_end[rt->n_groups++] = n;
}

static int wants_layer(const am_capture *cap, int l) { return cap && cap->fn && (!cap->layers || cap->layers[l]); }
static int freezes_layer(const am_freeze *fz, int l) { return fz && fz->fn && (!fz->layers || fz->layers[l]); }

/* The CUDA backend's view of a group's probabilities (host copy): the
 * freeze hook rewrites them when asked, then the capture hook sees them. */
typedef struct dev_cb_ctx {
    am_runtime *rt;
    const int *units, *T;
    const am_capture *cap;
} dev_cb_ctx;

static int dev_layer_cb(void *ctx, int l, int i0, int i1, float *probs, int modify, am_err *e) {
    dev_cb_ctx *c = ctx;
    /* the CPU path's order: the whole group is frozen, then captured */
    for (int i = i0; modify && i < i1; i++)
        if (freeze_unit(c->rt, l, c->units[i], c->T[i], probs + c->rt->probs_off[i], e)) return -1;
    for (int i = i0; wants_layer(c->cap, l) && i < i1; i++)
        if (capture_unit(c->rt, c->cap, l, c->units[i], c->T[i], probs + c->rt->probs_off[i], e)) return -1;
    return 0;
}

/* The layers and logits of one call on the GPU (rt->x, rt->tok_pos, rt->tok0
 * and the groups are set). */
static int forward_dev(am_runtime *rt, int n, const int *units, const int *T, int N, const am_capture *cap,
                       float *logits, am_err *e) {
    for (int i = 0; i < n; i++) {
        int u = units[i];
        rt->call_q0[i] = rt->len[u];
        rt->call_npad[i] = rt->mask_pads[u] ? rt->n_pad[u] : 0;
        for (int t = 0; t < T[i]; t++) rt->row_unit[rt->tok0[i] + t] = i;
    }
    for (int l = 0; l < rt->L; l++) {
        rt->modify[l] = (unsigned char)freezes_layer(rt->freeze, l);
        rt->want[l] = (unsigned char)(rt->modify[l] || wants_layer(cap, l));
    }
    dev_cb_ctx ctx = {rt, units, T, cap};
    am_dev_call c = {.n = n,
                     .N = N,
                     .units = units,
                     .T = T,
                     .q0 = rt->call_q0,
                     .npad = rt->call_npad,
                     .tok0 = rt->tok0,
                     .row_unit = rt->row_unit,
                     .tok_pos = rt->tok_pos,
                     .x = rt->x,
                     .n_groups = rt->n_groups,
                     .group_end = rt->group_end,
                     .probs_off = rt->probs_off,
                     .want = rt->want,
                     .modify = rt->modify,
                     .layer_cb = dev_layer_cb,
                     .ctx = &ctx,
                     .logits = logits};
    return am_dev_forward(rt->dev, &c, e);
}

int am_runtime_nonfinite(const am_runtime *rt, int *unit, int *layer, int *pos) {
    if (rt->nf_unit < 0) return 0;
    *unit = rt->nf_unit, *layer = rt->nf_layer, *pos = rt->nf_pos;
    return 1;
}

/* Rows y[rows][w] of the call (row r of unit i: r = row0 + ... as packed by
 * am_forward; last = 1: one row per unit, its last position): the first
 * non-finite value stops the call, recorded in rt->nf_*. */
static int guard(am_runtime *rt, int n, const int *units, const int *T, const float *y, size_t w, int last, int layer,
                 am_err *e) {
    if (rt->allow_nonfinite) return 0;
    size_t rows = 0;
    for (int i = 0; i < n; i++) rows += last ? 1 : (size_t)T[i];
    int64_t k = am_first_nonfinite(y, AM_F32, rows * w);
    if (k < 0) return 0;
    size_t r = (size_t)k / w;
    int i = 0, t = 0;
    for (size_t acc = 0; i < n; i++) {
        size_t h = last ? 1 : (size_t)T[i];
        if (r < acc + h) {
            t = last ? T[i] - 1 : (int)(r - acc);
            break;
        }
        acc += h;
    }
    rt->nf_unit = units[i], rt->nf_layer = layer, rt->nf_pos = rt->len[units[i]] + t - (last ? T[i] : 0);
    if (layer >= 0)
        return am_fail(e, "non-finite value (%s) in the residual stream after layer %d, unit %d, position %d",
                       am_nonfinite_name(y[k]), layer, units[i], rt->nf_pos);
    return am_fail(e, "non-finite logit (%s, token id %zu) at unit %d, position %d", am_nonfinite_name(y[k]),
                   (size_t)k % w, units[i], rt->nf_pos);
}

/* logits[n][V] = last[n][D] lm_head^T with the lm_head streamed in blocks of
 * rows: each cell is computed as by the one matmul of the mapped head. */
static int head_blocks(am_runtime *rt, int n, float *logits, am_err *e) {
    int V = rt->V, nb = am_wstream_head_blocks(rt->ws);
    for (int b = 0, r0 = 0; b < nb; b++) {
        const void *w;
        int rows;
        if (am_wstream_head(rt->ws, b, &w, &rows, e)) return -1;
        rt->k->matmul(rt->head_blk, rt->last, w, rt->m->lm_head->dtype, n, rt->D, rows);
        for (int i = 0; i < n; i++)
            memcpy(logits + (size_t)i * V + r0, rt->head_blk + (size_t)i * rows, sizeof(float) * rows);
        r0 += rows;
    }
    return 0;
}

int am_forward(am_runtime *rt, int n, const int *units, const int *T, const float *const *emb, const am_capture *cap,
               float *logits, am_err *e) {
    const am_qwen3 *m = rt->m;
    const am_kernels *k = rt->k;
    int D = rt->D, F = rt->F, H = rt->H, KV = rt->KV, hd = rt->hd, S = rt->max_seq;

    /* check the request and pack the input embeddings into x [N][D] */
    if (n < 1 || n > rt->max_units)
        return am_fail(e, "forward: %d units in one call (1..max_units %d)", n, rt->max_units);
    int N = 0;
    for (int i = 0; i < n; i++) {
        int u = units[i];
        if (u < 0 || u >= rt->max_units) return am_fail(e, "forward: unit %d out of range 0..%d", u, rt->max_units - 1);
        for (int j = 0; j < i; j++)
            if (units[j] == u) return am_fail(e, "forward: unit %d listed twice in one call", u);
        if (T[i] < 1) return am_fail(e, "forward: unit %d gets %d tokens (>= 1 needed)", u, T[i]);
        if (rt->len[u] + T[i] > S)
            return am_fail(e, "forward: unit %d would hold %d positions, max_seq is %d; hint: raise max_seq", u,
                           rt->len[u] + T[i], S);
        if (T[i] > rt->max_q)
            return am_fail(e, "forward: unit %d gets %d tokens in one call, at most %d", u, T[i], rt->max_q);
        N += T[i];
    }
    if (N > rt->max_tokens) return am_fail(e, "forward: %d tokens in one call, max_tokens is %d", N, rt->max_tokens);
    for (int i = 0, r = 0; i < n; i++)
        for (int t = 0; t < T[i]; t++, r++) {
            if (t == 0) rt->tok0[i] = r;
            memcpy(rt->x + (size_t)r * D, emb[i] + (size_t)t * D, sizeof(float) * D);
            rt->tok_pos[r] = slot_pos(rt, units[i], rt->len[units[i]] + t);
        }
    plan_groups(rt, n, units, T);
    rt->nf_unit = -1;

    if (rt->dev) {
        if (forward_dev(rt, n, units, T, N, cap, logits, e)) return -1;
        for (int i = 0; i < n; i++) rt->len[units[i]] += T[i];
        return logits ? guard(rt, n, units, T, logits, (size_t)rt->V, 1, -1, e) : 0;
    }

    for (int l = 0; l < rt->L; l++) {
        /* the layer's weights: mapped, or read by the streamer (wstream.h) */
        const am_qwen3_layer *w = &m->layers[l];
        if (rt->ws && am_wstream_layer(rt->ws, l, &w, e)) return -1;
        /* xn = RMSNorm(x) * input_layernorm */
        k->rmsnorm(rt->xn, rt->x, w->input_norm->data, w->input_norm->dtype, N, D, rt->eps);
        /* q, k, v projections, one GEMM each for all tokens of all units */
        k->matmul(rt->q, rt->xn, w->q_proj->data, w->q_proj->dtype, N, D, H * hd);
        k->matmul(rt->kx, rt->xn, w->k_proj->data, w->k_proj->dtype, N, D, KV * hd);
        k->matmul(rt->vx, rt->xn, w->v_proj->data, w->v_proj->dtype, N, D, KV * hd);
        /* q_norm / k_norm: RMSNorm over head_dim of every head, before RoPE */
        k->rmsnorm(rt->q, rt->q, w->q_norm->data, w->q_norm->dtype, N * H, hd, rt->eps);
        k->rmsnorm(rt->kx, rt->kx, w->k_norm->data, w->k_norm->dtype, N * KV, hd, rt->eps);
        /* rotate-half RoPE at each token's position */
        k->rope(rt->q, N, H, hd, rt->tok_pos, rt->cos_tab, rt->sin_tab);
        k->rope(rt->kx, N, KV, hd, rt->tok_pos, rt->cos_tab, rt->sin_tab);
        /* append k, v to each unit's cache [KV][S][hd] */
        for (int i = 0, r = 0; i < n; i++) {
            int u = units[i];
            float *kc = rt->kcache + ((size_t)u * rt->L + l) * KV * S * hd;
            float *vc = rt->vcache + ((size_t)u * rt->L + l) * KV * S * hd;
            for (int t = 0; t < T[i]; t++, r++)
                for (int g = 0; g < KV; g++) {
                    size_t dst = ((size_t)g * S + rt->len[u] + t) * hd, src = ((size_t)r * KV + g) * hd;
                    memcpy(kc + dst, rt->kx + src, sizeof(float) * hd);
                    memcpy(vc + dst, rt->vx + src, sizeof(float) * hd);
                }
        }
        /* attention per unit against its own cache, a group of units at a
         * time (as many as rt->probs holds); then the capture hook per unit */
        int want = wants_layer(cap, l), frz = freezes_layer(rt->freeze, l);
        for (int g = 0; g < rt->n_groups; g++) {
            int i0 = g ? rt->group_end[g - 1] : 0, i1 = rt->group_end[g];
            if (!frz) {
                attention_group(rt, l, units, T, rt->tok0, rt->probs_off, i0, i1, ATT_FUSED);
            } else {
                /* frozen patterns: probabilities, substitution, then values */
                attention_group(rt, l, units, T, rt->tok0, rt->probs_off, i0, i1, ATT_PROBS);
                for (int i = i0; i < i1; i++)
                    if (freeze_unit(rt, l, units[i], T[i], rt->probs + rt->probs_off[i], e)) return -1;
                attention_group(rt, l, units, T, rt->tok0, rt->probs_off, i0, i1, ATT_VALUES);
            }
            for (int i = i0; want && i < i1; i++)
                if (capture_unit(rt, cap, l, units[i], T[i], rt->probs + rt->probs_off[i], e)) return -1;
        }
        /* x += o_proj(att) */
        k->matmul(rt->xn, rt->att, w->o_proj->data, w->o_proj->dtype, N, H * hd, D);
        k->add(rt->x, rt->xn, (size_t)N * D);
        /* xn = RMSNorm(x) * post_attention_layernorm */
        k->rmsnorm(rt->xn, rt->x, w->post_norm->data, w->post_norm->dtype, N, D, rt->eps);
        /* x += down(silu(gate(xn)) * up(xn)) */
        k->matmul(rt->gate, rt->xn, w->gate_proj->data, w->gate_proj->dtype, N, D, F);
        k->matmul(rt->up, rt->xn, w->up_proj->data, w->up_proj->dtype, N, D, F);
        k->silu_mul(rt->gate, rt->up, (size_t)N * F);
        k->matmul(rt->xn, rt->gate, w->down_proj->data, w->down_proj->dtype, N, F, D);
        k->add(rt->x, rt->xn, (size_t)N * D);
        /* a NaN or inf stops here, where it first appears */
        if (guard(rt, n, units, T, rt->x, (size_t)D, 0, l, e)) return -1;
    }
    for (int i = 0; i < n; i++) rt->len[units[i]] += T[i];

    /* logits of each unit's last position: final norm, then lm_head */
    if (logits) {
        for (int i = 0, r = 0; i < n; i++) {
            r += T[i];
            memcpy(rt->last + (size_t)i * D, rt->x + (size_t)(r - 1) * D, sizeof(float) * D);
        }
        k->rmsnorm(rt->last, rt->last, m->final_norm->data, m->final_norm->dtype, n, D, rt->eps);
        if (rt->head_blk) {
            if (head_blocks(rt, n, logits, e)) return -1;
        } else {
            k->matmul(logits, rt->last, m->lm_head->data, m->lm_head->dtype, n, D, rt->V);
        }
        if (guard(rt, n, units, T, logits, (size_t)rt->V, 1, -1, e)) return -1;
    }
    return 0;
}
