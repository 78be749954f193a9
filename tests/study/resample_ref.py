#!/usr/bin/python3
"""The observations' resampling against numpy and scipy on the same draws:
test_resample --dump writes its data, the indices of every bootstrap draw,
the sign vectors and permutations it used and its results; this recomputes
each result independently:
  bootstrap   draw means from the indices, the interval by numpy.quantile
              (and that each draw is two-stage: whole clusters drawn, then
              units within the drawn cluster);
  sign flip   exact p against scipy.stats.permutation_test (samples, every
              sign vector), clustered data through its cluster sums;
              Monte Carlo p from the dumped sign vectors;
  Spearman    scipy.stats.spearmanr, also on the dumped permutations.
usage: resample_ref.py TEST_RESAMPLE_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy import stats


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def close(what, got, want, tol=1e-12):
    if not abs(got - want) <= tol * max(1.0, abs(want)):
        fail(f"{what}: attnmix {got!r}, reference {want!r}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "draws.jsonl")
        subprocess.run([sys.argv[1], "--dump", out], check=True, capture_output=True)
        recs = {r["kind"]: r for r in map(json.loads, open(out))}

    b = recs["boot"]
    x, start = np.array(b["x"]), np.array(b["start"])
    cluster = np.searchsorted(start, np.arange(len(x)), side="right") - 1
    sizes = np.diff(start)
    means = []
    for d in b["draws"]:
        d = np.array(d)
        # two-stage: C blocks, each of one cluster's size, all from that cluster
        pos = 0
        for _ in range(len(sizes)):
            c = cluster[d[pos]]
            blk = d[pos:pos + sizes[c]]
            if len(blk) != sizes[c] or (cluster[blk] != c).any():
                fail(f"bootstrap draw is not two-stage: {d}")
            pos += sizes[c]
        if pos != len(d):
            fail("bootstrap draw length")
        means.append(x[d].mean())
    means = np.array(means)
    if not np.allclose(means, b["means"], rtol=1e-13, atol=1e-15):
        fail("bootstrap draw means differ from numpy's on the same draws")
    lo, hi = np.quantile(means, [0.025, 0.975])
    close("bootstrap ci_low", b["lo"], lo)
    close("bootstrap ci_high", b["hi"], hi)
    # the interval covers the sample mean and is wider than zero
    if not (lo < x.mean() < hi):
        fail("bootstrap interval does not cover the mean")

    s = recs["signflip_exact"]
    x, start = np.array(s["x"]), np.array(s["start"])
    n = len(x)
    sums = np.add.reduceat(x, start[:-1])
    res = stats.permutation_test((sums,), lambda v: np.sum(v) / n, permutation_type="samples",
                                 n_resamples=np.inf, alternative="two-sided")
    close("clustered exact sign-flip p", s["p"], res.pvalue, 1e-12)
    y = np.array(s["y"])
    res = stats.permutation_test((y,), np.mean, permutation_type="samples", n_resamples=np.inf,
                                 alternative="two-sided")
    close("exact sign-flip p", s["p_y"], res.pvalue, 1e-12)
    if not 0 < s["p_y"] < 0.2:
        fail(f"the shifted data should be far from symmetric: p {s['p_y']}")

    m = recs["signflip_mc"]
    y, signs = np.array(m["y"]), np.array(m["signs"])
    obs = abs(y.mean())
    null = np.abs((signs * y).mean(axis=1))
    p = (1 + np.sum(null >= obs - 1e-12 * np.abs(y).mean())) / (len(signs) + 1)
    close("Monte Carlo sign-flip p", m["p"], p)

    r = recs["spearman"]
    a, bb = np.array(r["a"]), np.array(r["b"])
    close("spearman", r["rho"], stats.spearmanr(a, bb).statistic, 1e-12)
    for k, perm in enumerate(r["perms"]):
        perm = np.array(perm)
        if sorted(perm) != list(range(len(a))):
            fail("a permutation draw is not a permutation")
        close(f"spearman under permutation {k}", r["rho_perm"][k], stats.spearmanr(a, bb[perm]).statistic, 1e-12)
    print("resampling agrees with numpy/scipy on the same draws")


if __name__ == "__main__":
    main()
