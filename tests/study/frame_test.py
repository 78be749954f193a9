#!/usr/bin/python3
"""The true frame of the published maps (docs/analysis.md, "Frame").

1. Known answer: a causal cube with decode steps written in the published
   layout (row i = true row T+i-1) and a `caveat` gives, after realignment,
   exactly the statistics of the true cube with its lost prompt rows 1..T-1
   emptied; the per-unit lengths and prompt lengths are the true ones.
2. A cube with the caveat whose rows do not follow the shift is refused,
   naming the file, the unit and the row, and no output is left.
3. The shipped Qwen3-1.7B maps (the shared file, else the subset in
   tests/study/blog_layer0.h5): layer 0 head 3 is classed diagonal (self),
   head 2 previous-token; the caveat and the frame are recorded.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

SRC = os.environ.get("ATTNMIX_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ATTNMIX_BIN", os.path.join(SRC, "build", "bin"))
SHARED = os.environ.get("ATTNMIX_SHARED_DATA", "")
ANALYZE = os.path.join(BIN, "attnmix-analyze")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def analyze(args, expect=0):
    r = subprocess.run([ANALYZE, "--quiet"] + args, capture_output=True, text=True)
    if r.returncode != expect:
        fail(f"attnmix-analyze {' '.join(args)}: exit {r.returncode}, expected {expect}\n{r.stderr}")
    return r


def causal_cube(rng, P, A, H, T, steps, S):
    """[P, A, 1, H, S, S] causal maps of T + steps rows each: head 0 previous-token,
    head 1 diagonal, the others Dirichlet rows."""
    X = np.zeros((P, A, 1, H, S, S), np.float32)
    n = T + steps
    for p in range(P):
        for a in range(A):
            for h in range(H):
                for q in range(n):
                    if h == 0:
                        X[p, a, 0, h, q, max(q - 1, 0)] = 1
                    elif h == 1:
                        X[p, a, 0, h, q, q] = 1
                    else:
                        X[p, a, 0, h, q, : q + 1] = rng.dirichlet(np.ones(q + 1))
    return X


def write(path, X, caveat=None, length=None, prompt_length=None):
    P, A = X.shape[:2]
    with h5py.File(path, "w") as f:
        f.create_dataset("attention", data=X)
        f.create_dataset("pair", data=[f"p{i}" for i in range(P)], dtype=h5py.string_dtype())
        f.create_dataset("alpha", data=np.linspace(0, 1, A))
        if length is not None:
            f.create_dataset("length", data=np.asarray(length, np.int32))
        if prompt_length is not None:
            f.create_dataset("prompt_length", data=np.asarray(prompt_length, np.int32))
        if caveat:
            f.attrs["caveat"] = caveat


def main():
    rng = np.random.default_rng(5)
    P, A, H, T, steps, S = 2, 3, 4, 5, 9, 16
    X = causal_cube(rng, P, A, H, T, steps, S)
    # the published layout: row 0 = prompt row 0, row i >= 1 = true row T+i-1, rows past the steps empty
    F = np.zeros_like(X)
    F[..., 0, :] = X[..., 0, :]
    for i in range(1, steps + 1):
        F[..., i, :] = X[..., T + i - 1, :]
    want = X.copy()
    want[..., 1:T, :] = 0
    with tempfile.TemporaryDirectory() as tmp:
        fp, wp = os.path.join(tmp, "flawed.h5"), os.path.join(tmp, "true.h5")
        write(fp, F, caveat="rows assembled with decode step i at row i")
        write(wp, want, length=np.full((P, A), T + steps), prompt_length=np.full(P, T))
        af, aw = os.path.join(tmp, "af.h5"), os.path.join(tmp, "aw.h5")
        analyze(["--out", af, "--name", "m=" + fp])
        analyze(["--out", aw, "--name", "m=" + wp])
        with h5py.File(af, "r") as f, h5py.File(aw, "r") as g:
            if not f["models/m"].attrs["frame"].startswith("realigned"):
                fail(f"frame not recorded: {f['models/m'].attrs['frame']}")
            if g["models/m"].attrs["frame"] != "as stored":
                fail("a cube without the caveat was realigned")
            if not (f["models/m/length"][()] == T + steps).all():
                fail(f"true-frame lengths {f['models/m/length'][()]}, expected {T + steps}")
            # every statistic, also over the prompt and the generated rows (T: the shift, the true cube's
            # /prompt_length)
            names = [k for k in g["points"] if isinstance(g["points"][k], h5py.Dataset)]
            names += [f"{rs}/{k}" for rs in ("prompt", "generated") for k in g["points"][rs]]
            for k in names:
                a, b = f["points"][k][()], g["points"][k][()]
                if a.dtype.kind in "fi" and k not in ("tsne", "pca", "head_class"):
                    if not np.allclose(a, b, atol=1e-9, equal_nan=True):
                        fail(f"points/{k} after realignment differs from the true cube: {a[:6]} vs {b[:6]}")
            if not (f["points/generated/rows"][()] == steps).all() or (f["points/prompt/rows"][()] != 0).any():
                fail("realigned: the generated rows are not the decode steps, or prompt rows survived")
            lab = f["models/m/head_class/label"][()][0]
            if list(lab[:2]) != [0, 2]:
                fail(f"realigned head classes {lab}, expected previous_token (0) and diagonal (2) for heads 0, 1")

        # 2. a row beyond its decode step's keys: refused, nothing written
        B = F.copy()
        B[1, 2, 0, 3, 4, : T + 6] = 1.0 / (T + 6)  # row 4 spans T + 6 keys, step 4 has T + 4
        bp, bo = os.path.join(tmp, "bad.h5"), os.path.join(tmp, "never.h5")
        write(bp, B, caveat="rows assembled with decode step i at row i")
        r = analyze(["--out", bo, bp], expect=1)
        if "bad.h5" not in r.stderr or "row 4" not in r.stderr or "p1" not in r.stderr:
            fail(f"unclear message for a row outside the shift: {r.stderr!r}")
        if os.path.exists(bo) or any(n.startswith("never.h5") for n in os.listdir(tmp)):
            fail("a refused analysis left an output")

        # 3. the shipped maps
        full = os.path.join(SHARED, "qwen3-1.7b-blog-maps.h5") if SHARED else ""
        maps = full if full and os.path.exists(full) else os.path.join(SRC, "tests", "study", "blog_layer0.h5")
        out = os.path.join(tmp, "blog.h5")
        analyze(["--out", out, "--name", "qwen3-1.7b=" + maps])
        with h5py.File(out, "r") as f:
            g = f["models/qwen3-1.7b"]
            cls = [c.decode() for c in g["head_class/class"][()]]
            layers, heads = list(g["head_class/layer"][()]), list(g["head_class/head"][()])
            lab, score = g["head_class/label"][()], g["head_class/score"][()]
            l0 = layers.index(0)
            for h, want_cls in ((3, "diagonal"), (2, "previous_token")):
                k = heads.index(h)
                got = cls[lab[l0, k]] if lab[l0, k] >= 0 else "mixed"
                if got != want_cls:
                    fail(f"{maps}: layer 0 head {h} classed {got} (scores {score[l0, k]}), expected {want_cls}")
            print(f"{os.path.basename(maps)}: L0 h3 diagonal {score[l0, heads.index(3), cls.index('diagonal')]:.3f}, "
                  f"L0 h2 previous {score[l0, heads.index(2), cls.index('previous_token')]:.3f}")
            if "caveat" not in g.attrs or not g.attrs["frame"].startswith("realigned"):
                fail("the caveat or the frame of the shipped maps is not recorded")
            if not (g["length"][()] < 107).all() or g["length"][()].min() < 100:
                fail(f"true-frame lengths of the shipped maps: {g['length'][()]}")
    print("frame ok")


if __name__ == "__main__":
    main()
