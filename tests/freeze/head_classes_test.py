#!/usr/bin/python3
"""Head classes on the hand-set `circuit` checkpoint (attnmix-make-checkpoint
--preset circuit): a cube of mixed random prompts and the induction file
(schema attnmix.induction/1: B = 4 sequences of R = 32 distinct random tokens
repeated twice) are computed by the independent float64 reference
(tools/qwen3_ref.py); attnmix-analyze classifies the heads from the maps and
the induction scores. Expected: layer 0 head 0 previous_token, head 2
diagonal, heads 1 and 3 broad; layer 1 head 0 induction; every other head
broad. An induction file of another checkpoint or of another shape is
refused, naming both files."""
import os
import subprocess
import sys

import h5py
import numpy as np

BIN, SRC = os.environ["ATTNMIX_BIN"], os.environ["ATTNMIX_SRC"]
sys.path.insert(0, os.path.join(SRC, "tools"))
import qwen3_ref  # noqa: E402

D = sys.argv[1]
os.makedirs(D, exist_ok=True)
ck = os.path.join(D, "circuit")
subprocess.run([f"{BIN}/attnmix-make-checkpoint", "--preset", "circuit", "--dtype", "f32", "--seed", "3",
                "--out", ck, "--force", "--quiet"], check=True)
m = qwen3_ref.Model(ck)
rng = np.random.default_rng(5)
P, alphas, T = 2, [0.0, 0.5, 1.0], 16
L, H = m.L, m.H
att = np.zeros((P, len(alphas), L, H, T, T), np.float32)
for p in range(P):
    a_ids, b_ids = rng.integers(0, 512, T), rng.integers(0, 512, T)
    for ai, al in enumerate(alphas):
        emb = al * m.embed(a_ids) + (1 - al) * m.embed(b_ids)
        _, probs = m.forward(emb, 0, 0, True)
        att[p, ai] = probs

# induction file following its contract (what attnmix-induction writes)
R, B, FP = 32, 4, "0123456789abcdef"
V = min(int(m.ck.cfg["vocab_size"]), 151643)
ind_score = np.zeros((L, H))
for b in range(B):
    ids = rng.choice(V, R, replace=False)
    _, probs = m.forward(m.embed(np.concatenate([ids, ids])), 0, 0, True)
    for i in range(R):
        ind_score += probs[:, :, R + i, i + 1]
ind_score /= R * B


def write_induction(path, score, fp):
    with h5py.File(path, "w") as f:
        f["score"] = score.astype(np.float64)
        for k, v in {"schema": "attnmix.induction/1", "model": "circuit", "checkpoint_fingerprint": fp,
                     "fingerprint": "feedfacefeedface", "checkpoint": ck}.items():
            f.attrs[k] = v
        for k, v in {"induction_tokens": R, "induction_seqs": B, "seed": 5}.items():
            f.attrs[k] = np.int64(v)


induction = os.path.join(D, "circuit_induction.h5")
write_induction(induction, ind_score, FP)
cube = os.path.join(D, "circuit_cube.h5")
with h5py.File(cube, "w") as f:
    f.attrs["checkpoint_fingerprint"] = FP
    f["attention"] = att
    f["pair"] = np.array([f"p{i}" for i in range(P)], dtype=h5py.string_dtype())
    f["alpha"] = np.array(alphas)
    f["layer"] = np.arange(L, dtype=np.int32)
    f["head"] = np.arange(H, dtype=np.int32)
    f["length"] = np.full((P, len(alphas)), T, np.int32)
out = os.path.join(D, "circuit_analysis.h5")
subprocess.run([f"{BIN}/attnmix-analyze", "--out", out, "--name", f"circuit={cube}", "--induction",
                f"circuit={induction}", "--iterations", "250", "--perplexity", "5", "--quiet"], check=True)
with h5py.File(out) as f:
    g = f["models/circuit/head_class"]
    assert g.attrs["induction_file"] == induction and g.attrs["induction_tokens"] == R, dict(g.attrs)
    assert g.attrs["induction_sequences"] == B and g.attrs["induction_seed"] == 5, dict(g.attrs)
    names = [s.decode() if isinstance(s, bytes) else s for s in g["class"][:]]
    score, label = g["score"][:], g["label"][:]
    hc = f["points/head_class"][:]
    assert g["score"].dims[2][0].name.endswith("class"), "score is not labelled by class"
want = {(0, 0): "previous_token", (0, 2): "diagonal", (1, 0): "induction"}
bad = 0
for l in range(L):
    for h in range(H):
        got = names[label[l, h]] if label[l, h] >= 0 else "mixed"
        exp = want.get((l, h), "broad")
        row = " ".join(f"{n}={score[l, h, k]:.3f}" for k, n in enumerate(names))
        print(f"layer {l} head {h}: {got:15s} {row}")
        if got != exp:
            print(f"FAIL: layer {l} head {h} classified {got}, expected {exp}")
            bad += 1
ind = names.index("induction")
assert score[1, 0, ind] > 0.9, score[1, 0, ind]
others = [score[l, h, ind] for l in range(L) for h in range(H) if (l, h) != (1, 0)]
assert max(others) < 0.2, others
assert score[0, 0, names.index("previous_token")] > 0.95
assert (hc.reshape(P, len(alphas), L, H) == label[None, None]).all(), "points/head_class does not follow the labels"

# refusals: another checkpoint, another shape (exit 1, both files named, no output); an unknown model (exit 2)
bad_out = os.path.join(D, "circuit_refused.h5")
other = os.path.join(D, "circuit_induction_other.h5")
for what, score, fp in (("checkpoint", ind_score, "ffffffffffffffff"), ("shape", ind_score[:1], FP)):
    write_induction(other, score, fp)
    r = subprocess.run([f"{BIN}/attnmix-analyze", "--out", bad_out, "--name", f"circuit={cube}", "--induction",
                        f"circuit={other}", "--quiet"], capture_output=True, text=True)
    assert r.returncode == 1 and other in r.stderr and cube in r.stderr, (what, r.returncode, r.stderr)
    print(f"induction file of another {what} refused: {r.stderr.strip()}")
r = subprocess.run([f"{BIN}/attnmix-analyze", "--out", bad_out, "--name", f"circuit={cube}", "--induction",
                    f"nomodel={induction}", "--quiet"], capture_output=True, text=True)
assert r.returncode == 2 and "nomodel" in r.stderr, (r.returncode, r.stderr)
assert not os.path.exists(bad_out), "a refused run left an output"

# scatter coloured by head class: every class present has its legend swatch
# (exact palette colour) and points (the colour at >= 75% over white); classes
# absent leave no trace.
import re  # noqa: E402
from PIL import Image  # noqa: E402
pal = [tuple(int(v) for v in t) for t in re.findall(r"\{(\d+), (\d+), (\d+)\}",
       open(os.path.join(SRC, "pipeline", "plot", "color.c")).read().split("am_category[][3] = {")[1].split("};")[0])]
png = os.path.join(D, "scatter-class.png")
if os.path.exists(png):
    os.remove(png)
subprocess.run([f"{BIN}/attnmix-plot", "scatter", "--analysis", out, "--by", "class", "--out", png], check=True,
               stderr=subprocess.DEVNULL)
img = np.asarray(Image.open(png).convert("RGB")).astype(int)
present = set(int(v) for v in np.unique(hc))
for k, n in enumerate(names):
    c = np.array(pal[k])
    exact = (np.abs(img - c).max(-1) == 0).sum()
    d = c - 255.0  # points: the colour over white, alpha 0.8 (stacked points go further towards c)
    t = ((img - 255.0) @ d) / (d @ d)
    on = (np.abs(img - (255.0 + t[..., None] * d)).max(-1) <= 3) & (t >= 0.75)
    blend = on.sum() - exact
    print(f"scatter class {n}: {exact} legend pixels, {blend} point pixels")
    if k in present:
        assert exact >= 10 and blend >= 20, (n, exact, blend)
    else:
        assert exact == 0 and blend == 0, (n, exact, blend)
sys.exit(1 if bad else 0)
