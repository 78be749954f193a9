#!/usr/bin/python3
"""Independent numpy/scipy reference for attnmix-analyze (docs/analysis.md).

    analysis_ref.py check ANALYSIS.h5      recompute everything from the input
                                           cubes named in the file and compare
    analysis_ref.py stats CUBE P A L H     print the statistics of one map

Definitions (same as docs/analysis.md):
  valid rows   q in [1, n) whose sum over keys [0, n) is > 0
  row length   r_q = max(q + 1, 1 + last k < n with A[q, k] != 0)
  JS           scipy.spatial.distance.jensenshannon(p, r) ** 2 (natural log;
               scipy normalises p and r), rows [1, min(n_a, n_b)) over keys
               [0, min(n_a, n_b)), rows with zero mass in either map skipped.
  row sets     /points/prompt and /points/generated: the same statistics over
               the valid rows q < T and q >= T alone (T = the cube's
               /prompt_length of the pair, or the shift of the published
               maps); NaN, offset -1 and 0 rows without a prompt length.
"""
import math
import sys

import h5py
import numpy as np
from scipy.spatial.distance import cdist, jensenshannon
from scipy import stats
from scipy.special import xlogy

FEATURES = ["sink", "diagonal", "previous", "band2", "band4", "band8", "distance_norm",
            "entropy_norm", "entropy_spread", "offset_mass", "vbar", "column_gini",
            "max_mass", "prefix_mass",
            "last_sink", "last_self", "last_max", "last_entropy_norm",
            "rowmax_std", "rowmax_skew", "rowmax_kurt", "rowmax_hist_entropy",
            "col_mean", "col_std", "col_skew", "col_kurt", "col_hist_entropy",
            "diag_slope", "diag_autocorr", "prev_slope", "prev_autocorr",
            "gram_self", "gram_cos", "gram_cos_next", "gram_purity"]
STATS = ["entropy", "sink", "diagonal", "previous", "band", "distance", "offset_mass", "vbar"]


def band_mass(M, q, w):
    """Mass of rows q on keys k with 0 <= q - k < w."""
    k = np.arange(M.shape[1])
    d = q[:, None] - k[None, :]
    return (M[q] * ((d >= 0) & (d < w))).sum(1)


def gini(x):
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = len(x)
    if x.sum() <= 0:
        return np.nan
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * x).sum() / (n * x.sum()))


def dist_moments(x):
    """Population std, skewness and excess kurtosis (scipy.stats with bias);
    skewness and kurtosis NaN for a constant series (m2 <= 1e-20 mean^2)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    m2 = x.var()
    if not (m2 > 1e-20 * x.mean() ** 2) or not (m2 > 0):
        return float(np.sqrt(m2)), np.nan, np.nan
    return float(np.sqrt(m2)), float(stats.skew(x)), float(stats.kurtosis(x))


def hist_entropy(x):
    """Entropy of numpy's 10-bin histogram on [0, 1], divided by log 10."""
    c, _ = np.histogram(np.asarray(x, dtype=np.float64), bins=10, range=(0.0, 1.0))
    if c.sum() == 0:
        return np.nan
    return float(stats.entropy(c) / math.log(10))


def series_slope(x, y):
    if len(y) < 2 or np.ptp(x) == 0:
        return np.nan
    return float(np.polyfit(x, y, 1)[0])


def autocorr(y):
    y = np.asarray(y, dtype=np.float64)
    if len(y) < 2:
        return np.nan
    d = y - y.mean()
    den = (d * d).sum()
    if not (den > 1e-20 * len(y) * y.mean() ** 2) or not (den > 0):
        return np.nan
    return float(np.correlate(d[:-1], d[1:])[0] / den)


def gram_features(Mq):
    """Features of G = Mq Mq^T (valid rows, keys [0, n))."""
    G = Mq @ Mq.T
    R = len(G)
    g = np.diag(G)
    C = G / np.sqrt(np.outer(g, g))
    off = ~np.eye(R, dtype=bool)
    return {
        "gram_self": g.mean(),
        "gram_cos": C[off].mean() if R > 1 else np.nan,
        "gram_cos_next": np.diag(C, 1).mean() if R > 1 else np.nan,
        "gram_purity": (G ** 2).sum() / np.trace(G) ** 2,
    }


def map_stats(A, n, band=4, lo=0, hi=None):
    """Statistics of one map A [S, S] with valid size n over its valid rows q
    with lo <= q < hi (default: all). Returns (dict, entropy_by_q [S])."""
    S = A.shape[0]
    ebq = np.full(S, np.nan)
    names = STATS + ["offset", "rows"] + ["f_" + f for f in FEATURES]
    out = {k: np.nan for k in names}
    out["offset"], out["rows"] = -1, 0
    if n < 1:
        return out, ebq
    M = A[:n, :n].astype(np.float64)
    rs = M.sum(1)
    H = -xlogy(M, M).sum(1)
    ebq[:n] = np.where(rs > 0, H, np.nan)
    q = np.nonzero(rs > 0)[0]
    q = q[(q >= max(lo, 1)) & (q < (n if hi is None else hi))]
    R = len(q)
    out["rows"] = R
    if R == 0:
        return out, ebq
    nz = M != 0
    last = n - 1 - np.argmax(nz[:, ::-1], axis=1)
    r = np.maximum(q + 1, last[q] + 1)
    k = np.arange(n)
    Mq = M[q]
    out["entropy"] = H[q].mean()
    out["sink"] = Mq[:, 0].mean()
    out["diagonal"] = M[q, q].mean()
    out["previous"] = M[q, q - 1].mean()
    out["band"] = band_mass(M, q, band).mean()
    dist = (Mq * (q[:, None] - k[None, :])).sum(1)
    out["distance"] = dist.mean()
    prof = np.zeros(n)
    for qq in q:
        prof[: qq + 1] += M[qq, qq::-1]  # offset d = qq - k for k = qq..0
    prof /= R
    d_star = int(np.argmax(prof))  # first maximum
    out["offset"] = d_star
    out["offset_mass"] = prof[d_star]
    col = Mq.sum(0)
    vis = (r[:, None] > k[None, :]).sum(0)
    min_vis = math.ceil(R / 4)
    ok = (k >= 1) & (vis >= max(min_vis, 1))
    out["vbar"] = float(np.max(col[ok] / vis[ok])) if ok.any() else np.nan
    entn = H[q] / np.log(r)
    rmax = Mq.max(1)
    seen = vis > 0
    u = col[seen] / vis[seen]
    rs_std, rs_skew, rs_kurt = dist_moments(rmax)
    cs_std, cs_skew, cs_kurt = dist_moments(u)
    xq = q / n
    f2 = {
        "last_sink": Mq[-1, 0], "last_self": M[q[-1], q[-1]], "last_max": rmax[-1],
        "last_entropy_norm": entn[-1],
        "rowmax_std": rs_std, "rowmax_skew": rs_skew, "rowmax_kurt": rs_kurt,
        "rowmax_hist_entropy": hist_entropy(rmax),
        "col_mean": u.mean(), "col_std": cs_std, "col_skew": cs_skew, "col_kurt": cs_kurt,
        "col_hist_entropy": hist_entropy(u),
        "diag_slope": series_slope(xq, M[q, q]), "diag_autocorr": autocorr(M[q, q]),
        "prev_slope": series_slope(xq, M[q, q - 1]), "prev_autocorr": autocorr(M[q, q - 1]),
    }
    f2.update(gram_features(Mq))
    f = dict(f2)
    f.update({
        "sink": out["sink"], "diagonal": out["diagonal"], "previous": out["previous"],
        "band2": band_mass(M, q, 2).mean(), "band4": band_mass(M, q, 4).mean(),
        "band8": band_mass(M, q, 8).mean(), "distance_norm": (dist / q).mean(),
        "entropy_norm": entn.mean(), "entropy_spread": entn.std(),
        "offset_mass": out["offset_mass"], "vbar": out["vbar"], "column_gini": gini(col),
        "max_mass": Mq.max(1).mean(), "prefix_mass": Mq[:, 1:4].sum(1).mean(),
    })
    for name in FEATURES:
        out["f_" + name] = f[name]
    return out, ebq


def js_maps(A, na, B, nb, lo=0, hi=None):
    """Mean JS over rows q in [max(lo, 1), min(na, nb, hi))."""
    n = min(na, nb)
    vals = []
    for q in range(max(lo, 1), n if hi is None else min(n, hi)):
        p = A[q, :n].astype(np.float64)
        r = B[q, :n].astype(np.float64)
        if p.sum() > 0 and r.sum() > 0:
            vals.append(jensenshannon(p, r) ** 2)
    return float(np.mean(vals)) if vals else np.nan


def true_frame(att, length):
    """The published maps' decode-step rows moved to their true query
    positions (docs/analysis.md, "Frame"): row i >= 1 of a unit whose row 1
    spans T + 1 > 2 keys goes to row T + i - 1; rows 1..T-1 are left empty.
    Returns the maps, the lengths and the shift T [P, A] (0: none)."""
    att = att[()]
    P, A, L, H, S, _ = att.shape
    length = length.copy()
    shift = np.zeros((P, A), dtype=int)
    for p in range(P):
        for a in range(A):
            m = att[p, a, 0]  # [H, S, S]: every head of the first layer
            nzr = np.flatnonzero(m[:, 1].any(0))
            T = int(nzr[-1]) if len(nzr) else 0  # extent of row 1 (longest over heads), minus 1
            if T < 2:
                continue
            shift[p, a] = T
            last = int(np.flatnonzero(m.any(axis=(0, 2)))[-1])
            new = np.zeros_like(att[p, a])
            new[..., 0, :] = att[p, a, :, :, 0, :]
            for i in range(1, S):
                if T + i - 1 < S:
                    new[..., T + i - 1, :] = att[p, a, :, :, i, :]
            att[p, a] = new
            length[p, a] = min(T + last, S)
    return att, length, shift


def read_cube(path):
    f = h5py.File(path, "r")
    att = f["attention"]
    P, A, L, H, S, _ = att.shape
    length = f["length"][()] if "length" in f else np.full((P, A), S, dtype=np.int32)
    plen = f["prompt_length"][()] if "prompt_length" in f else None
    if "caveat" in f.attrs:
        att, length, shift = true_frame(att, length)
        if plen is None and shift.any():
            plen = shift[:, 0]  # the prompt length of a shifted pair: its first alpha's shift
    layer = f["layer"][()] if "layer" in f else np.arange(L)
    head = f["head"][()] if "head" in f else np.arange(H)
    pairs = [p.decode() if isinstance(p, bytes) else str(p) for p in f["pair"][()]]
    return f, att, length, f["alpha"][()], layer, head, pairs, plen


def zscore(X):
    X = np.array(X, dtype=np.float64)
    mu = np.nanmean(X, 0)
    sd = np.nanstd(X, 0)
    Z = (X - mu) / np.where(sd > 0, sd, 1)
    Z[:, ~(sd > 0)] = 0
    Z[np.isnan(Z)] = 0
    return Z


def pca(Z, K):
    Zc = Z - Z.mean(0)
    C = Zc.T @ Zc / (len(Z) - 1)
    w, V = np.linalg.eigh(C)
    w, V = w[::-1][:K], V[:, ::-1][:, :K]
    for j in range(K):
        if V[np.argmax(np.abs(V[:, j])), j] < 0:
            V[:, j] = -V[:, j]
    return V.T, np.clip(w, 0, None), np.clip(w, 0, None) / np.trace(C), Zc @ V


def tsne_kl(X, perplexity, Y):
    """Exact KL(P || Q) for the joint P of X (sklearn's own P) and embedding Y."""
    from sklearn.manifold._t_sne import _joint_probabilities, _kl_divergence
    from sklearn.metrics import pairwise_distances
    D = pairwise_distances(X, squared=True)
    P = _joint_probabilities(D, perplexity, 0)
    kl, _ = _kl_divergence(Y.ravel(), P, 1, len(X), 2)
    return kl


class Checker:
    def __init__(self):
        self.failures = 0
        self.checks = 0

    def close(self, what, got, want, atol=1e-6, rtol=1e-6):
        self.checks += 1
        got = np.asarray(got, dtype=np.float64)
        want = np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            print(f"FAIL {what}: shape {got.shape} != {want.shape}")
            self.failures += 1
            return
        ok = np.isclose(got, want, atol=atol, rtol=rtol, equal_nan=True)
        if not ok.all():
            i = np.argwhere(~ok)[0]
            print(f"FAIL {what}: {ok.size - ok.sum()} of {ok.size} differ; first at {tuple(i)}: "
                  f"got {got[tuple(i)]!r} want {want[tuple(i)]!r}")
            self.failures += 1

    def equal(self, what, got, want):
        self.checks += 1
        if not np.array_equal(np.asarray(got), np.asarray(want)):
            print(f"FAIL {what}: {got!r} != {want!r}")
            self.failures += 1


def check_clusters(ck, an, Hf, Du, Dm):
    """Average linkage, the cut and the silhouette choice against scipy and
    sklearn on the distances the file names."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.metrics import silhouette_score
    d = an["heads/cluster"]
    labels = d[()]
    Hn = len(labels)
    name = d.attrs["distance"]
    name = name.decode() if isinstance(name, bytes) else name
    D = Du if name == "distance_units" else Dm
    ck.equal("cluster distance: units unless one is NaN", name,
             "distance_units" if np.isfinite(Du).all() else "distance")
    if Hn < 3:
        return

    def cut(Z, k):
        """k flat clusters: the first n - k merges, i.e. cophenetic distance <= the
        (n - k)-th height (scipy's maxclust never yields n - 1 clusters: its search
        starts from the second height)."""
        return fcluster(Z, Z[Hn - k - 1, 2], "distance") if k < Hn else np.arange(1, Hn + 1)

    Z = linkage(squareform(D, checks=False), method="average")
    ck.close("heads/linkage vs scipy", an["heads/linkage"][()], Z, atol=1e-9)
    k = int(d.attrs["k"])
    rule = d.attrs["k_rule"]
    rule = rule.decode() if isinstance(rule, bytes) else rule
    if rule == "silhouette":
        kmax = len(an["heads/silhouette"]) - 1
        sil = [np.nan, np.nan] + [silhouette_score(D, cut(Z, kk), metric="precomputed")
                                  for kk in range(2, kmax + 1)]
        ck.close("heads/silhouette vs sklearn", an["heads/silhouette"][()], sil, atol=1e-9)
        ck.equal("k by silhouette", k, 2 + int(np.argmax(sil[2:])))
    ref = cut(Z, k)
    if k <= Hn - 2:
        ck.equal("cut = scipy fcluster maxclust", len(set(zip(ref.tolist(), fcluster(Z, k, "maxclust").tolist()))), k)
    # same partition: labels equal up to renaming
    pairs = set(zip(labels.tolist(), ref.tolist()))
    ck.equal("heads/cluster partition vs scipy fcluster", len(pairs), len(set(ref.tolist())))
    ck.equal("clusters count", len(set(labels.tolist())), len(set(ref.tolist())))
    hc = an["heads/class"][()]
    C = an["clusters/class_count"].shape[1]
    cnt = np.zeros((k, C), dtype=int)
    for j in range(Hn):
        cnt[labels[j], hc[j] if hc[j] >= 0 else C - 1] += 1
    ck.equal("clusters/class_count", an["clusters/class_count"][()], cnt)


def check(path, tsne_tol=1e-6):
    ck = Checker()
    an = h5py.File(path, "r")
    band = int(an.attrs["band"])
    models = [m.decode() if isinstance(m, bytes) else m for m in an.attrs["models"]]
    inputs = [m.decode() if isinstance(m, bytes) else m for m in an.attrs["inputs"]]
    upairs = [p.decode() for p in an["pair"][()]]
    pts = an["points"]
    rows = {k: [] for k in ["model", "pair", "alpha", "layer", "head", "offset", "rows"] + STATS +
            ["js_alpha0", "js_alpha1"]}
    SPLIT = ["offset", "rows"] + STATS + ["js_alpha0", "js_alpha1"]
    split = {rs: {k: [] for k in SPLIT} for rs in ("prompt", "generated")}
    feats = []
    head_keys = []
    for name, cpath in zip(models, inputs):
        f, att, length, alpha, layer, head, pairs, plen = read_cube(cpath)
        P, A, L, H, S, _ = att.shape
        g = an["models"][name]
        ck.equal(f"{name}/length", g["length"][()], length)
        a0 = [i for i, a in enumerate(alpha) if a == 0.0]
        a1 = [i for i, a in enumerate(alpha) if a == 1.0]
        hm = np.zeros((P, A, L, S, S))
        hv = np.zeros((P, A, L, S, S))
        ebq = np.full((P, A, L, H, S), np.nan)
        unit = {}
        for p in range(P):
            for l in range(L):
                blk = att[p, :, l].astype(np.float64)  # [A, H, S, S]
                hm[p, :, l] = blk.mean(1)
                hv[p, :, l] = blk.var(1)
                for a in range(A):
                    for h in range(H):
                        st, e = map_stats(blk[a, h], int(length[p, a]), band)
                        ebq[p, a, l, h] = e
                        for key, ar in (("js_alpha0", a0), ("js_alpha1", a1)):
                            st[key] = (js_maps(blk[a, h], length[p, a], blk[ar[0], h],
                                               length[p, ar[0]]) if ar else np.nan)
                        # the prompt rows q < T and the generated rows q >= T alone
                        T = None if plen is None else int(plen[p])
                        for rs, (lo, hi) in (("prompt", (0, T)), ("generated", (T, None))):
                            if T is None:
                                sub, _ = map_stats(blk[a, h], 0, band)
                            else:
                                sub, _ = map_stats(blk[a, h], int(length[p, a]), band, lo, hi)
                            for key, ar in (("js_alpha0", a0), ("js_alpha1", a1)):
                                sub[key] = (js_maps(blk[a, h], length[p, a], blk[ar[0], h], length[p, ar[0]],
                                                    lo, hi) if ar and T is not None else np.nan)
                            st[rs] = sub
                        unit[p, a, l, h] = st
        for p in range(P):  # points order: pair, alpha, layer, head
            for a in range(A):
                for l in range(L):
                    for h in range(H):
                        st = unit[p, a, l, h]
                        rows["model"].append(name)
                        rows["pair"].append(upairs.index(pairs[p]))
                        rows["alpha"].append(alpha[a])
                        rows["layer"].append(layer[l])
                        rows["head"].append(head[h])
                        for k in ["offset", "rows"] + STATS + ["js_alpha0", "js_alpha1"]:
                            rows[k].append(st[k])
                        for rs in split:
                            for k in SPLIT:
                                split[rs][k].append(st[rs][k])
                        feats.append([st["f_" + n] for n in FEATURES])
        ck.close(f"{name}/head_mean", g["head_mean"][()], hm, atol=1e-7, rtol=1e-6)
        ck.close(f"{name}/head_var", g["head_var"][()], hv, atol=1e-7, rtol=1e-5)
        ck.close(f"{name}/entropy_by_query", g["entropy_by_query"][()], ebq)
        for l in range(L):
            for h in range(H):
                head_keys.append((name, layer[l], head[h]))
    ck.equal("points/model", [m.decode() for m in pts["model"][()]], rows["model"])
    for k in ["pair", "layer", "head", "offset", "rows"]:
        ck.equal(f"points/{k}", pts[k][()], np.array(rows[k]))
    ck.close("points/alpha", pts["alpha"][()], rows["alpha"], atol=0, rtol=0)
    for k in STATS + ["js_alpha0", "js_alpha1"]:
        ck.close(f"points/{k}", pts[k][()], rows[k])
    for rs in split:
        for k in ["offset", "rows"]:
            ck.equal(f"points/{rs}/{k}", pts[rs][k][()], np.array(split[rs][k]))
        for k in STATS + ["js_alpha0", "js_alpha1"]:
            ck.close(f"points/{rs}/{k}", pts[rs][k][()], split[rs][k])
    feats = np.array(feats)
    ck.close("points/features", pts["features"][()], feats)
    names = [n.decode() if isinstance(n, bytes) else n for n in pts["features"].attrs["names"]]
    ck.equal("features names", names, FEATURES)

    # PCA of z-scored features, features with zero spread dropped, K by the rule recorded
    Z = zscore(feats)
    kept = np.nanstd(feats, 0) > 0
    ck.equal("pca/kept", an["pca/kept"][()].astype(bool), kept)
    Zk = Z[:, kept]
    Kmax = min(len(Zk), Zk.shape[1]) if len(Zk) >= 2 else 0
    ck.equal("pca components_available", int(an["pca"].attrs["components_available"]), Kmax)
    compk, varall, ratioall, scoresall = pca(Zk, Kmax)
    rule = an["pca"].attrs["k_rule"]
    rule = rule.decode() if isinstance(rule, bytes) else rule
    if rule == "given":
        K = pts["pca"].shape[1]
    else:
        target = float(an["pca"].attrs["variance_target"])
        K = 0
        cum = 0.0
        while K < Kmax and cum < target:
            cum += ratioall[K]
            K += 1
        K = max(K, min(2, Kmax))
        ck.equal("pca K by explained variance", pts["pca"].shape[1], K)
    comp = np.zeros((K, Z.shape[1]))
    comp[:, kept] = compk[:K]
    var, ratio, scores = varall[:K], ratioall[:K], scoresall[:, :K]
    ck.close("pca/explained_variance", an["pca/explained_variance"][()], var, atol=1e-8)
    ck.close("pca/explained_variance_ratio", an["pca/explained_variance_ratio"][()], ratio, atol=1e-8)
    # components of (near-)degenerate eigenvalues are not unique: compare the leading ones
    sep = [j for j in range(K) if (j == 0 or varall[j - 1] - varall[j] > 1e-6 * varall[0]) and
           (j + 1 >= Kmax or varall[j] - varall[j + 1] > 1e-6 * varall[0]) and varall[j] > 1e-9 * varall[0]]
    sep = [j for j in sep if j < 4]
    ck.close("pca/components", an["pca/components"][()][sep], comp[sep], atol=1e-6)
    ck.close("points/pca", pts["pca"][()][:, sep], scores[:, sep], atol=1e-6)
    from sklearn.decomposition import PCA
    skp = PCA(n_components=K, svd_solver="full").fit(Zk)
    ck.close("pca vs sklearn explained_variance", an["pca/explained_variance"][()],
             skp.explained_variance_, atol=1e-8)

    # heads
    hk = an["heads"]
    Hf = []
    units = []
    alphas = sorted(set(rows["alpha"]))
    for (m, l, h) in head_keys:
        sel = np.array([(rows["model"][i] == m and rows["layer"][i] == l and rows["head"][i] == h)
                        for i in range(len(rows["model"]))])
        Hf.append(Z[sel].mean(0))
        units.append({(rows["pair"][i], alphas.index(rows["alpha"][i])): i for i in np.nonzero(sel)[0]})
    Hf = np.array(Hf)
    ck.close("heads/features", hk["features"][()], Hf, atol=1e-9)
    ck.close("heads/distance", hk["distance"][()], cdist(Hf, Hf), atol=1e-9)
    # per-unit distances in PCA space, averaged over the units both heads have
    Hn = len(Hf)
    Du = np.zeros((Hn, Hn))
    for a in range(Hn):
        for b in range(Hn):
            common = sorted(set(units[a]) & set(units[b]))
            if a == b:
                continue
            Du[a, b] = (np.mean([np.linalg.norm(scores[units[a][u]] - scores[units[b][u]]) for u in common])
                        if common else np.nan)
    ck.close("heads/distance_units", hk["distance_units"][()], Du, atol=1e-9)
    check_clusters(ck, an, Hf, Du, cdist(Hf, Hf))

    # t-SNE: stored KL equals sklearn's exact KL of the stored embedding (exact method)
    for grp, X in (("points", Z if an.attrs["tsne_on"] in (b"features", "features") else None),
                   ("heads", Hf)):
        d = an[grp]["tsne"]
        method = d.attrs["method"]
        method = method.decode() if isinstance(method, bytes) else method
        Y = d[()]
        if X is None or method != "exact" or np.isnan(Y).any():
            continue
        kl = tsne_kl(X, float(d.attrs["perplexity"]), Y)
        ck.close(f"{grp}/tsne kl_divergence", d.attrs["kl_divergence"], kl, atol=tsne_tol,
                 rtol=tsne_tol)
    # per-key t-SNE: each exact key embedding's KL against sklearn's
    if "keys" in an and an.attrs["tsne_on"] in (b"features", "features"):
        tk = pts["tsne_key"][()]
        pair = np.array(rows["pair"])
        for k in range(len(an["keys/points"])):
            m = an["keys/method"][k]
            m = m.decode() if isinstance(m, bytes) else m
            sel = pair == k
            ck.equal(f"keys/points[{k}]", int(an["keys/points"][k]), int(sel.sum()))
            if m != "exact" or sel.sum() < 4:
                continue
            kl = tsne_kl(Z[sel], float(an["keys/perplexity"][k]), tk[sel])
            ck.close(f"keys/kl_divergence[{k}]", an["keys/kl_divergence"][k], kl, atol=tsne_tol, rtol=tsne_tol)
    print(f"{path}: {ck.checks} checks, {ck.failures} failures")
    return ck.failures


def main(argv):
    if len(argv) >= 3 and argv[1] == "check":
        return 1 if check(argv[2]) else 0
    if len(argv) == 7 and argv[1] == "stats":
        f, att, length, *_ = read_cube(argv[2])
        p, a, l, h = map(int, argv[3:7])
        st, _ = map_stats(att[p, a, l, h], int(length[p, a]))
        for k, v in st.items():
            print(f"{k} {v}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
