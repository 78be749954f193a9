#!/usr/bin/python3
"""attnmix-analyze against tools/analysis_ref.py (numpy/scipy) on a synthetic
float16 cube with ragged lengths, on a subset of the real Qwen3-1.7B maps
(and on the full shared file when present), plus closed-form values, the
statistics of the prompt rows and of the generated rows (/points/prompt,
/points/generated), the determinism of t-SNE, and error handling."""
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

SRC = os.environ.get("ATTNMIX_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ATTNMIX_BIN", os.path.join(SRC, "build", "bin"))
SHARED = os.environ.get("ATTNMIX_SHARED_DATA", "")
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
    r = subprocess.run([ANALYZE] + args, capture_output=True, text=True)
    if r.returncode != expect:
        fail(f"attnmix-analyze {' '.join(args)}: exit {r.returncode}, expected {expect}\n{r.stderr}")
    return r


def near(what, got, want, tol):
    if not (abs(got - want) <= tol or (math.isnan(got) and math.isnan(want))):
        fail(f"{what}: got {got!r}, want {want!r} (tol {tol})")


def closed_form(path):
    """Known values of the structured synthetic heads (layer index 0)."""
    with h5py.File(path, "r") as f:
        pts = f["points"]
        alpha, layer, head, pair = (pts[k][()] for k in ("alpha", "layer", "head", "pair"))
        pairs = [p.decode() for p in f["pair"][()]]
        lengths = {("alpha_pair", 0.0): 12, ("alpha_pair", 0.5): 9, ("alpha_pair", 1.0): 7,
                   ("beta-pair", 0.0): 5, ("beta-pair", 0.5): 12, ("beta-pair", 1.0): 1}
        model = [m.decode() for m in pts["model"][()]]
        ebq = f["models/synth/entropy_by_query"][()]
        checked = 0
        for i in range(len(alpha)):
            if model[i] != "synth" or layer[i] != 3:
                continue
            n = lengths[(pairs[pair[i]], float(alpha[i]))]
            R = n - 1
            g = lambda k: float(pts[k][i])  # noqa: E731
            if n == 1:
                for k in ("entropy", "sink", "diagonal", "js_alpha0"):
                    near(f"n=1 {k} is NaN", g(k), float("nan"), 0)
                checked += 1
                continue
            kind = {0: "diag" if alpha[i] == 1.0 else "sink", 1: "diag", 2: "prev", 3: "uniform"}[head[i]]
            if kind == "sink":
                near("sink head: sink", g("sink"), 1, 1e-12)
                near("sink head: entropy", g("entropy"), 0, 1e-12)
                near("sink head: offset_mass", g("offset_mass"), 1 / R, 1e-12)
                near("sink head: offset", g("offset"), 1, 0)
                near("sink head: distance", g("distance"), n / 2, 1e-12)  # mean of q over 1..n-1
            if kind == "diag":
                near("diag head: diagonal", g("diagonal"), 1, 1e-12)
                near("diag head: offset", g("offset"), 0, 0)
                near("diag head: offset_mass", g("offset_mass"), 1, 1e-12)
                near("diag head: band", g("band"), 1, 1e-12)
            if kind == "prev":
                near("prev head: previous", g("previous"), 1, 1e-12)
                near("prev head: distance", g("distance"), 1, 1e-12)
                near("prev head: offset", g("offset"), 1, 0)
            if kind == "uniform":
                want = np.mean([math.log(q + 1) for q in range(1, n)])
                near("uniform head: entropy (float16 maps)", g("entropy"), want, 2e-3)
                near("uniform head: sink", g("sink"), np.mean([1 / (q + 1) for q in range(1, n)]), 1e-3)
            # head 0 is a sink at alpha 0 and a diagonal at alpha 1: disjoint rows -> JS = log 2
            if head[i] == 0 and alpha[i] == 1.0 and pairs[pair[i]] == "alpha_pair":
                near("JS(diagonal, sink) = log 2", g("js_alpha0"), math.log(2), 1e-12)
                near("JS to itself", g("js_alpha1"), 0, 1e-15)
            if head[i] == 1:
                near("identical maps: JS alpha0", g("js_alpha0"), 0, 1e-15)
            checked += 1
        # entropy by query of the uniform head, alpha_pair alpha 0 (n = 12)
        e = ebq[0, 0, 0, 3]
        for q in range(12):
            near(f"uniform entropy_by_query[{q}]", e[q], math.log(q + 1), 2e-3)
        if checked < 20:
            fail(f"closed-form checks ran on only {checked} maps")


SPLIT = ["offset", "rows"] + analysis_ref.STATS + ["js_alpha0", "js_alpha1"]
MEANS = ["entropy", "sink", "diagonal", "previous", "band", "distance"]  # plain means over the valid rows


def split_checks(tmp, synth_t, at):
    """/points/prompt and /points/generated of the synthetic cube with prompt
    lengths 5 and 3 (analysis at): the prompt rows are the map cut to its
    first T rows (an analysis of that cut cube, exactly), the two row sets
    partition the valid rows, and closed forms of the structured heads."""
    cut = os.path.join(tmp, "cut.h5")
    with h5py.File(synth_t, "r") as s, h5py.File(cut, "w") as f:
        for k in s:
            s.copy(k, f)
        for k, v in s.attrs.items():
            f.attrs[k] = v
        T = s["prompt_length"][()]
        f["length"][...] = np.minimum(s["length"][()], T[:, None])
    acut = os.path.join(tmp, "acut.h5")
    run(["--out", acut, "--quiet", cut])
    with h5py.File(at, "r") as f, h5py.File(acut, "r") as g:
        pr, ge, al, c = f["points/prompt"], f["points/generated"], f["points"], g["points"]
        for k in SPLIT:
            if not np.array_equal(pr[k][()], c[k][()], equal_nan=True):
                fail(f"/points/prompt/{k} differs from /points/{k} of the maps cut to their first T rows")
        if not np.array_equal(g["points/generated/rows"][()], np.zeros_like(c["rows"][()])):
            fail("the cut cube has generated rows")
        rp, rg, ra = pr["rows"][()], ge["rows"][()], al["rows"][()]
        if (rp > 0).sum() < 20 or (rg > 0).sum() < 20:
            fail(f"too few maps with prompt ({(rp > 0).sum()}) or generated ({(rg > 0).sum()}) rows")
        if not np.array_equal(rp + rg, ra):
            fail("prompt rows + generated rows != rows")
        both = (rp > 0) & (rg > 0)
        for k in MEANS:  # the mean over all rows = the row-weighted mean of the two sets
            w = (rp * pr[k][()] + rg * ge[k][()])[both] / ra[both]
            if not np.allclose(w, al[k][()][both], rtol=1e-12, atol=1e-12):
                fail(f"{k}: the row-weighted mean of prompt and generated rows is not the value over all rows")
            if np.allclose(pr[k][()][both], al[k][()][both], equal_nan=True) and k in ("distance", "entropy"):
                fail(f"{k}: the prompt rows give the same values as all rows (the split is not exercised)")
        pairs = [p.decode() for p in f["pair"][()]]
        lengths = {("alpha_pair", 0.0): 12, ("alpha_pair", 0.5): 9, ("alpha_pair", 1.0): 7,
                   ("beta-pair", 0.0): 5, ("beta-pair", 0.5): 12, ("beta-pair", 1.0): 1}
        Tp = {"alpha_pair": 5, "beta-pair": 3}
        alpha, layer, head, pair = (al[k][()] for k in ("alpha", "layer", "head", "pair"))
        checked = 0
        for i in range(len(alpha)):
            if layer[i] != 3:
                continue
            key = pairs[pair[i]]
            n, T = lengths[(key, float(alpha[i]))], Tp[key]
            near("prompt rows", rp[i], max(min(T, n) - 1, 0), 0)
            near("generated rows", rg[i], max(n - T, 0), 0)
            sink = head[i] == 0 and alpha[i] != 1.0
            if sink and n > T:  # key 0 from every row: distance q, offset q
                near("sink head: prompt distance = mean of 1..T-1", pr["distance"][i], T / 2, 1e-12)
                near("sink head: generated distance = mean of T..n-1", ge["distance"][i], (T + n - 1) / 2, 1e-12)
                near("sink head: generated offset = T", ge["offset"][i], T, 0)
                near("sink head: generated offset_mass = 1/rows", ge["offset_mass"][i], 1 / (n - T), 1e-12)
                checked += 1
            if head[i] == 1 and n > T:
                for g2 in (pr, ge):
                    near("diagonal head: offset 0", g2["offset"][i], 0, 0)
                    near("diagonal head: diagonal 1", g2["diagonal"][i], 1, 1e-12)
                checked += 1
            if head[i] == 0 and alpha[i] == 1.0 and key == "alpha_pair":  # diagonal against the sink at alpha 0
                near("JS(diagonal, sink) over the prompt rows", pr["js_alpha0"][i], math.log(2), 1e-12)
                near("JS(diagonal, sink) over the generated rows", ge["js_alpha0"][i], math.log(2), 1e-12)
                checked += 1
            if n <= 1:
                for g2 in (pr, ge):
                    near("n = 1: no rows, offset -1", g2["offset"][i], -1, 0)
                    near("n = 1: entropy NaN", g2["entropy"][i], float("nan"), 0)
        if checked < 8:
            fail(f"closed forms of the row sets ran on only {checked} maps")
        # the observations' per-map statistics use the same row sets ([pair, alpha, layer, head])
        for rs, obs in (("prompt", "prompt_rows"), ("generated", "generated_rows")):
            for k in ("band", "distance", "js_alpha0", "js_alpha1"):
                o = f[f"observations/synth/statistics/{obs}/{k}"][()].ravel()
                if not np.array_equal(o, f["points"][rs][k][()], equal_nan=True):
                    fail(f"/observations/synth/statistics/{obs}/{k} differs from /points/{rs}/{k}")


def no_split(path, what):
    """Without a prompt length: no rows in either set, NaN statistics, offset -1."""
    with h5py.File(path, "r") as f:
        for rs in ("prompt", "generated"):
            g = f["points"][rs]
            if (g["rows"][()] != 0).any() or (g["offset"][()] != -1).any() or not np.isnan(g["entropy"][()]).all():
                fail(f"{what}: /points/{rs} has rows without a prompt length")


def check_file(path):
    if analysis_ref.check(path):
        fail(f"{path}: reference mismatch")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        synth = os.path.join(tmp, "synth.h5")
        subprocess.run([PY, os.path.join(SRC, "tests", "analysis", "make_cube.py"), synth], check=True)
        blog = os.path.join(SRC, "tests", "analysis", "blog_subset.h5")

        # 1. synthetic cube (float16, ragged)
        a1 = os.path.join(tmp, "a1.h5")
        run(["--out", a1, "--quiet", "--seed", "7", synth])
        check_file(a1)
        closed_form(a1)
        no_split(a1, "synthetic cube without /prompt_length")
        # 1b. the same with prompt lengths: prompt and generated rows
        synth_t = os.path.join(tmp, "synth_t.h5")
        subprocess.run([PY, os.path.join(SRC, "tests", "analysis", "make_cube.py"), synth_t, "--prompt-length",
                        "5,3"], check=True)
        at = os.path.join(tmp, "at.h5")
        run(["--out", at, "--quiet", "--seed", "7", synth_t])
        check_file(at)
        closed_form(at)
        split_checks(tmp, synth_t, at)
        with h5py.File(a1, "r") as f:
            if f.attrs["schema"] != "attnmix.analysis/1":
                fail("schema attribute")
            if list(f.attrs["checkpoint_fingerprints"]) != ["00000000deadbeef"]:
                fail(f"checkpoint fingerprint not recorded: {f.attrs['checkpoint_fingerprints']}")
            if f.attrs["seed"] != 7 or f["points/tsne"].attrs["seed"] != 7:
                fail("seed not recorded")
            if f["points/tsne"].shape != (len(f["points/alpha"]), 2):
                fail("points/tsne shape")

        # 2. determinism: same seed, identical t-SNE bytes
        a2 = os.path.join(tmp, "a2.h5")
        run(["--out", a2, "--quiet", "--seed", "7", synth])
        with h5py.File(a1, "r") as f, h5py.File(a2, "r") as g:
            for k in ("points/tsne", "heads/tsne", "points/pca", "points/features"):
                if f[k][()].tobytes() != g[k][()].tobytes():
                    fail(f"{k} differs between two runs with the same seed")

        # 3. real maps (no /length, float32), alone and together with the synthetic cube
        a3 = os.path.join(tmp, "a3.h5")
        run(["--out", a3, "--quiet", "--band", "3", "--name", "qwen3-1.7b=" + blog])
        check_file(a3)
        with h5py.File(a3, "r") as f:
            if "caveat" not in f["models/qwen3-1.7b"].attrs:
                fail("the caveat of the real maps is not carried into the model group")
            # the published maps lost their prompt rows 1..T-1: no prompt rows, and the
            # generated rows are every row the statistics use
            if (f["points/prompt/rows"][()] != 0).any():
                fail("the published maps have prompt rows")
            for k in SPLIT:
                if not np.array_equal(f["points/generated"][k][()], f["points"][k][()], equal_nan=True):
                    fail(f"published maps: /points/generated/{k} differs from /points/{k}")
        a4 = os.path.join(tmp, "a4.h5")
        run(["--out", a4, "--quiet", "--tsne-method", "barnes_hut", "--perplexity", "5", synth,
             "--name", "qwen3-1.7b=" + blog])
        check_file(a4)
        with h5py.File(a4, "r") as f:
            if [p.decode() for p in f["pair"][()]] != ["language", "alpha_pair", "beta-pair"]:
                fail(f"union of pairs (--name inputs first): {f['pair'][()]}")
            if f["points/tsne"].attrs["method"] != "barnes_hut":
                fail("--tsne-method barnes_hut not honoured")
        full = os.path.join(SHARED, "qwen3-1.7b-blog-maps.h5") if SHARED else ""
        if full and os.path.exists(full):
            a5 = os.path.join(tmp, "a5.h5")
            run(["--out", a5, "--quiet", full])
            check_file(a5)
        else:
            print("note: shared Qwen3-1.7B maps not found; tested the subset only")

        # 4. t-SNE on raw maps
        a6 = os.path.join(tmp, "a6.h5")
        run(["--out", a6, "--quiet", "--tsne-on", "maps", "--iterations", "300", synth])
        with h5py.File(a6, "r") as f:
            Y = f["points/tsne"][()]
            if not np.isfinite(Y).all() or f["points/tsne"].attrs["iterations"] != 300:
                fail("--tsne-on maps")

        # 5. errors: clear messages, exit codes, no output left behind
        bad = os.path.join(tmp, "bad.h5")
        with h5py.File(bad, "w") as f:
            f.create_dataset("length", data=np.zeros((1, 1), np.int32))
        out = os.path.join(tmp, "never.h5")
        r = run(["--out", out, bad], expect=1)
        if "bad.h5" not in r.stderr or "/attention" not in r.stderr:
            fail(f"missing /attention message: {r.stderr!r}")
        wrong = os.path.join(tmp, "wrong.h5")
        with h5py.File(synth, "r") as s, h5py.File(wrong, "w") as f:
            for k in ("attention", "pair", "alpha"):
                s.copy(k, f)
            f.create_dataset("length", data=np.zeros((3, 3), np.int32))
        r = run(["--out", out, wrong], expect=1)
        if "/length" not in r.stderr or "wrong.h5" not in r.stderr:
            fail(f"wrong /length shape message: {r.stderr!r}")
        run(["--out", out, os.path.join(tmp, "absent.h5")], expect=1)
        run(["--out", out, "--tsne-method", "fast", synth], expect=2)
        for bad, msg in ((["--obs-boot", "0"], "--obs-boot wants an integer in 1 .. 10000000"),
                         (["--obs-draws", "5x"], "--obs-draws wants an integer in 1 .. 10000000"),
                         (["--obs-shuffles", "-1"], "--obs-shuffles wants an integer in 0 .. 10000000"),
                         (["--pca-components", ""], "--pca-components wants an integer >= 1"),
                         (["--clusters", "1"], "--clusters wants an integer >= 2"),
                         (["--clusters-max", "2000000"], "--clusters-max wants an integer >= 2")):
            r = run(["--out", out] + bad + [synth], expect=2)
            if msg not in r.stderr:
                fail(f"{bad}: message {r.stderr!r}, want {msg!r}")
        run([synth], expect=2)
        if run(["--help"]).stdout.find("usage") < 0:
            fail("--help prints no usage")
        if any(n.startswith("never.h5") for n in os.listdir(tmp)):
            fail("a failed run left an output or temporary file")
    print(f"test_analyze: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
