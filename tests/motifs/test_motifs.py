#!/usr/bin/python3
"""The motif features, the truncated PCA, the two head distances and the head
clusters of attnmix-analyze:
  - closed forms of the new features on one-hot and uniform maps
    (tests/analysis/make_cube.py);
  - a cube of 48 heads of four known kinds with per-head noise: everything
    against tools/analysis_ref.py (numpy; scipy linkage/fcluster, sklearn
    silhouette), the silhouette picks k = 4 and each cluster holds one kind;
  - --pca-components, --pca-variance, --clusters and their misuse."""
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

SRC = os.environ.get("ATTNMIX_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ATTNMIX_BIN", os.path.join(SRC, "build", "bin"))
PY = sys.executable
sys.path.insert(0, os.path.join(SRC, "tools"))
import analysis_ref  # noqa: E402

ANALYZE = os.path.join(BIN, "attnmix-analyze")
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


def run(args, expect=0):
    r = subprocess.run([ANALYZE, "--quiet"] + args, capture_output=True, text=True)
    if r.returncode != expect:
        fail(f"attnmix-analyze {' '.join(args)}: exit {r.returncode}, expected {expect}\n{r.stderr}")
    return r


def near(what, got, want, tol):
    if not (abs(got - want) <= tol or (math.isnan(got) and math.isnan(want))):
        fail(f"{what}: got {got!r}, want {want!r} (tol {tol})")


def closed_forms(path):
    with h5py.File(path, "r") as f:
        pts = f["points"]
        names = list(pts["features"].attrs["names"])
        names = [n.decode() if isinstance(n, bytes) else n for n in names]
        F = pts["features"][()]
        alpha, layer, head, pair, rows = (pts[k][()] for k in ("alpha", "layer", "head", "pair", "rows"))
        checked = 0
        for i in range(len(alpha)):
            if layer[i] != 3 or rows[i] < 2:
                continue
            R = rows[i]
            g = lambda k: float(F[i, names.index(k)])  # noqa: E731
            kind = {0: "diag" if alpha[i] == 1.0 else "sink", 1: "diag", 2: "prev", 3: "uniform"}[head[i]]
            if kind == "sink":
                near("sink: last_sink", g("last_sink"), 1, 0)
                near("sink: gram_cos (all rows alike)", g("gram_cos"), 1, 1e-12)
                near("sink: gram_purity (rank one)", g("gram_purity"), 1, 1e-12)
                near("sink: col_mean", g("col_mean"), 1 / (R + 1), 1e-12)  # key 0 gets 1, keys 1..R get 0
            if kind == "diag":
                near("diag: last_self", g("last_self"), 1, 0)
                near("diag: gram_cos (orthogonal rows)", g("gram_cos"), 0, 0)
                near("diag: gram_purity = 1/R", g("gram_purity"), 1 / R, 1e-12)
                near("diag: diag_slope of a constant line", g("diag_slope"), 0, 1e-12)
                near("diag: diag_autocorr undefined", g("diag_autocorr"), float("nan"), 0)
                near("diag: rowmax_std", g("rowmax_std"), 0, 0)
                near("diag: rowmax_hist_entropy (all in the top bin)", g("rowmax_hist_entropy"), 0, 0)
            if kind == "prev":
                near("prev: prev_slope", g("prev_slope"), 0, 1e-12)
                near("prev: gram_cos_next", g("gram_cos_next"), 0, 0)
                near("prev: gram_self", g("gram_self"), 1, 0)
            if kind == "uniform":
                qs = np.arange(1, R + 1)
                near("uniform: gram_self = mean 1/(q+1)", g("gram_self"), np.mean(1 / (qs + 1)), 2e-3)
                near("uniform: last_entropy_norm", g("last_entropy_norm"), 1, 2e-3)
                near("uniform: rowmax_skew", g("rowmax_skew"), float(__import__("scipy.stats").stats.skew(1 / (qs + 1))),
                     5e-3)
            checked += 1
        if checked < 15:
            fail(f"closed forms checked on only {checked} maps")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        synth = os.path.join(tmp, "synth.h5")
        subprocess.run([PY, os.path.join(SRC, "tests", "analysis", "make_cube.py"), synth], check=True)
        a1 = os.path.join(tmp, "a1.h5")
        run(["--out", a1, synth])
        closed_forms(a1)

        kinds_cube = os.path.join(tmp, "kinds.h5")
        kinds = subprocess.run([PY, os.path.join(SRC, "tests", "motifs", "make_heads_cube.py"), kinds_cube],
                               check=True, capture_output=True, text=True).stdout.split()
        a2 = os.path.join(tmp, "a2.h5")
        run(["--out", a2, "--iterations", "300", kinds_cube])
        if analysis_ref.check(a2):
            fail(f"{a2}: reference mismatch")
        with h5py.File(a2, "r") as f:
            lab = f["heads/cluster"][()]
            if f["heads/cluster"].attrs["k"] != 4 or f["heads/cluster"].attrs["distance"] != "distance_units":
                fail(f"kinds cube: k {f['heads/cluster'].attrs['k']} on "
                     f"{f['heads/cluster'].attrs['distance']}, expected 4 on distance_units")
            for c in set(lab.tolist()):
                ks = {kinds[j] for j in range(len(lab)) if lab[j] == c}
                if len(ks) != 1:
                    fail(f"cluster {c} mixes kinds {sorted(ks)}")
            cc = f["clusters/class_count"][()]
            names = [n.decode() if isinstance(n, bytes) else n for n in f["clusters/class"][()]]
            if cc.sum() != 48 or list(f["clusters/size"][()]) != list(cc.sum(1)):
                fail(f"class counts {cc.tolist()} do not add up to the cluster sizes")
            # every one-hot kind is recognised: one cluster is all previous-token, one all sink, one all diagonal
            for cls in ("previous_token", "first_token_sink", "diagonal"):
                j = names.index(cls)
                if not any(cc[c, j] == cc[c].sum() and cc[c, j] > 0 for c in range(len(cc))):
                    fail(f"no cluster of {cls} heads: {cc.tolist()}")
            K = f["points/pca"].shape[1]
            r = f["pca/explained_variance_ratio"][()]
            if not (r.sum() >= 0.9 and (K <= 2 or r[:-1].sum() < 0.9)):
                fail(f"K = {K} is not the fewest components reaching 90 %: {r}")

        a3 = os.path.join(tmp, "a3.h5")
        run(["--out", a3, "--iterations", "300", "--pca-components", "3", "--clusters", "6", kinds_cube])
        if analysis_ref.check(a3):
            fail(f"{a3}: reference mismatch")
        with h5py.File(a3, "r") as f:
            if f["points/pca"].shape[1] != 3 or f["heads/cluster"].attrs["k"] != 6 or "silhouette" in f["heads"]:
                fail("--pca-components 3 --clusters 6 not honoured")
        a4 = os.path.join(tmp, "a4.h5")
        run(["--out", a4, "--iterations", "300", "--pca-variance", "0.99", kinds_cube])
        with h5py.File(a4, "r") as f:
            if not f["pca/explained_variance_ratio"][()].sum() >= 0.99:
                fail("--pca-variance 0.99")
        for bad in (["--pca-components", "0"], ["--pca-variance", "1.5"], ["--clusters", "1"],
                    ["--clusters-max", "x"]):
            r = run(["--out", os.path.join(tmp, "never.h5")] + bad + [kinds_cube], expect=2)
            if bad[0] not in r.stderr:
                fail(f"{bad}: message does not name the option: {r.stderr!r}")
        if any(n.startswith("never.h5") for n in os.listdir(tmp)):
            fail("a refused run left an output")
    print(f"test_motifs: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
