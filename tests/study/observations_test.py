#!/usr/bin/python3
"""The observations O1..O5 on constructed cubes whose answers are known
(docs/analysis.md, "Observations"):

  effect    6 pairs (one `math`), alphas 0, .5, 1, 2 layers x 8 heads:
            heads 0-3 attend at distance 3 (mass 0.8) at every alpha; heads
            4-7 are local at the endpoints and mixed towards uniform at 0.5 by
            a head-specific weight (1.25 times larger for math): every
            observation supported;
  opposite  the same heads, broad at the endpoints and local at 0.5: O1 and
            O3 opposite;
  none      no effect (independent noise around one local pattern at every
            alpha), no math pair, no fixed distance: O1, O3, O5 not
            supported, O4 untestable.

The per-unit contrasts, estimates and per-pair sensitivities are recomputed
here with numpy/scipy from the definitions, for all rows, the prompt rows and
the generated rows.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import spearmanr

BIN = os.environ.get("ATTNMIX_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin"))
S, T, L, H, W = 24, 8, 2, 8, 4


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def local(strong=0.7):
    M = np.zeros((S, S))
    M[0, 0] = 1
    M[1, 1], M[1, 0] = 0.8, 0.2
    for q in range(2, S):
        M[q, q], M[q, q - 1], M[q, 0] = strong, 0.9 - strong, 0.1
    return M


def uniform():
    M = np.zeros((S, S))
    for q in range(S):
        M[q, : q + 1] = 1.0 / (q + 1)
    return M


def fixed(d=3, m=0.8):
    M = uniform()
    for q in range(d, S):
        M[q, : q + 1] = (1 - m) / q
        M[q, q - d] = m
    return M


def noisy(M, rng, eps):
    X = M.copy()
    for q in range(1, S):
        X[q, : q + 1] = (1 - eps) * M[q, : q + 1] + eps * rng.dirichlet(np.ones(q + 1))
    return X


def build(kind, rng):
    pairs = [f"p{i}" for i in range(5)] + ["math"] if kind != "none" else [f"p{i}" for i in range(6)]
    P = len(pairs)
    X = np.zeros((P, 3, L, H, S, S))
    for p in range(P):
        for l in range(L):
            for h in range(H):
                if kind == "none":
                    for a in range(3):
                        X[p, a, l, h] = noisy(local(), rng, 0.3)
                    continue
                if h < 4:
                    X[p, :, l, h] = fixed()
                    continue
                lam = min(1.0, (0.2 * (h - 3) + rng.uniform(-0.03, 0.03)) * (1.25 if pairs[p] == "math" else 1))
                if kind == "effect":
                    end, mid = local(), (1 - lam) * local() + lam * uniform()
                else:
                    end, mid = uniform(), (1 - lam) * uniform() + lam * local(0.85)
                X[p, 0, l, h] = X[p, 2, l, h] = end
                X[p, 1, l, h] = mid
    return pairs, X


def write(path, pairs, X):
    P = len(pairs)
    with h5py.File(path, "w") as f:
        f.create_dataset("attention", data=X.astype(np.float32))
        f.create_dataset("pair", data=pairs, dtype=h5py.string_dtype())
        f.create_dataset("alpha", data=np.array([0.0, 0.5, 1.0]))
        f.create_dataset("length", data=np.full((P, 3), S, np.int32))
        f.create_dataset("prompt_length", data=np.full(P, T, np.int32))


def rowset(rs):
    return {"all": range(1, S), "prompt_rows": range(1, T), "generated_rows": range(T, S)}[rs]


def stats3(M, rows):
    """band, distance, normalised entropy over the rows (means)."""
    b, d, h = [], [], []
    for q in rows:
        r = M[q, : q + 1]
        b.append(r[max(0, q - W + 1): q + 1].sum())
        d.append((r * (q - np.arange(q + 1))).sum())
        nz = r[r > 0]
        h.append(-(nz * np.log(nz)).sum() / np.log(q + 1))
    return np.array([np.mean(b), np.mean(d), np.mean(h)])


def js(A, B, rows):
    return np.mean([jensenshannon(A[q, : q + 1], B[q, : q + 1]) ** 2 for q in rows])


def reference(X, pairs):
    P = X.shape[0]
    out = {}
    for rs in ("all", "prompt_rows", "generated_rows"):
        rows = rowset(rs)
        c = np.zeros((3, P, L, H))
        sens = np.zeros((P, L, H))
        st = np.zeros((5, P, 3, L, H))  # band, distance, entropy_norm, js_alpha0, js_alpha1 at every alpha
        for p in range(P):
            for l in range(L):
                for h in range(H):
                    v = [stats3(X[p, a, l, h], rows) for a in range(3)]
                    for a in range(3):
                        st[:3, p, a, l, h] = v[a]
                        st[3, p, a, l, h] = js(X[p, a, l, h], X[p, 0, l, h], rows)
                        st[4, p, a, l, h] = js(X[p, a, l, h], X[p, 2, l, h], rows)
                    c[:, p, l, h] = v[1] - (v[0] + v[2]) / 2
                    sens[p, l, h] = (st[3, p, 1, l, h] + st[4, p, 1, l, h]) / 2
        out[rs] = (c, sens, st)
    return out


def analyze(cube, out):
    r = subprocess.run([os.path.join(BIN, "attnmix-analyze"), "--quiet", "--seed", "3", "--iterations", "250",
                        "--perplexity", "5", "--out", out, "--name", "m=" + cube], capture_output=True, text=True)
    if r.returncode:
        fail(f"attnmix-analyze {cube}: {r.stderr}")


def verdicts(f):
    return [f[f"observations/m/O{i}"].attrs["verdict"] for i in range(1, 6)]


def main():
    rng = np.random.default_rng(20)
    with tempfile.TemporaryDirectory() as tmp:
        got = {}
        for kind in ("effect", "opposite", "none"):
            pairs, X = build(kind, rng)
            cube, out = os.path.join(tmp, kind + ".h5"), os.path.join(tmp, kind + "-an.h5")
            write(cube, pairs, X)
            analyze(cube, out)
            f = h5py.File(out, "r")
            got[kind] = verdicts(f)
            print(kind, got[kind])
            ref = reference(X.astype(np.float32).astype(np.float64), pairs)
            for rs in ("all", "prompt_rows", "generated_rows"):
                base = "observations/m/O%d" + ("" if rs == "all" else "/" + rs)
                c, sens, st = ref[rs]
                for k, name in enumerate(("band", "distance", "entropy_norm", "js_alpha0", "js_alpha1")):
                    got_st = f[f"observations/m/statistics/{rs}/{name}"][()]
                    if not np.allclose(got_st, st[k], atol=2e-6):
                        fail(f"{kind} statistics/{rs}/{name}: max diff {np.abs(got_st - st[k]).max()}")
                for name, o, k in (("band_contrast", 1, 0), ("distance_contrast", 1, 1), ("entropy_contrast", 3, 2)):
                    tab = f[(base % o) + "/" + name][()]
                    if not np.allclose(tab, c[k], atol=2e-6):
                        fail(f"{kind} {rs} {name}: max diff {np.abs(tab - c[k]).max()}")
                    est = f[base % o].attrs["band_estimate" if name == "band_contrast" else
                                            "distance_estimate" if name == "distance_contrast" else "estimate"]
                    if abs(est - c[k].mean()) > 2e-6:
                        fail(f"{kind} {rs} {name} estimate {est}, reference {c[k].mean()}")
                if not np.allclose(f[(base % 2) + "/sensitivity"][()], sens, atol=2e-6):
                    fail(f"{kind} {rs} sensitivity differs from scipy's JS")
                # O2: mean Spearman correlation of the heads' sensitivities over pairs of pairs
                flat = f[(base % 2) + "/sensitivity"][()].reshape(len(pairs), -1)  # checked against scipy above
                rhos = [spearmanr(flat[i], flat[j]).statistic for i in range(len(pairs)) for j in range(i + 1, len(pairs))]
                rhos = [x for x in rhos if np.isfinite(x)]
                o2 = f[base % 2].attrs["estimate"]
                if rhos and not abs(o2 - np.mean(rhos)) < 1e-9:
                    fail(f"{kind} {rs} O2 estimate {o2}, scipy's mean Spearman {np.mean(rhos)}")
                ps = f[(base % 4) + "/pair_sensitivity"][()]
                if not np.allclose(ps, sens.reshape(len(pairs), -1).mean(1), atol=2e-6):
                    fail(f"{kind} {rs} pair sensitivity")
                if "math" in pairs:
                    mi = pairs.index("math")
                    other = np.delete(sens.reshape(len(pairs), -1), mi, 0).mean(0)
                    d = sens.reshape(len(pairs), -1)[mi] - other
                    if abs(f[base % 4].attrs["estimate"] - d.mean()) > 2e-6:
                        fail(f"{kind} {rs} O4 estimate")
                for o in range(1, 6):
                    a = f[base % o].attrs
                    for k in ("claim", "statistic", "estimate", "ci_low", "ci_high", "p_value", "n", "verdict",
                              "p_threshold", "level", "seed", "ci_method", "p_method"):
                        if k not in a:
                            fail(f"{base % o}: attribute {k} missing")
                    if a["verdict"] != "untestable" and not a["ci_low"] <= a["estimate"] <= a["ci_high"]:
                        fail(f"{kind} {base % o}: estimate outside its interval")
            # O5: heads 0-3 peak at distance 3 with 0.8 (0.8 minus the row's share elsewhere for the effect cube)
            if kind != "none":
                pk, at = f["observations/m/O5/peak_mass"][()], f["observations/m/O5/peak_offset"][()]
                if not (at[:, :4] == 3).all() or not np.allclose(pk[:, :4], 0.8, atol=1e-5):
                    fail(f"O5 peaks of the fixed-distance heads: {pk[:, :4]} at {at[:, :4]}")
            dims = [d[0].name.rsplit("/", 1)[-1] if len(d) else "" for d in f["observations/m/O1/band_contrast"].dims]
            if dims != ["pair", "layer_index", "head_index"]:
                fail(f"O1/band_contrast dimension scales {dims}")
            f.close()
        want = {
            "effect": ["supported"] * 5,
            "opposite": ["opposite", "supported", "opposite", "supported", "supported"],
            "none": ["not supported", None, "not supported", "untestable", "not supported"],
        }
        for kind, w in want.items():
            for i, (g, x) in enumerate(zip(got[kind], w)):
                if x is not None and g != x:
                    fail(f"{kind}: O{i + 1} is {g!r}, expected {x!r}")
    print("observations ok")


if __name__ == "__main__":
    main()
