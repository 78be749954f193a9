#!/usr/bin/python3
"""Writes a small synthetic attention cube (schema attnmix.cube/1 layout) for
the analysis tests: ragged lengths, float16 storage, and heads with known
structure so some statistics have closed forms.

  layer index 0 (model layer 3):  head 0 sink one-hot (diagonal one-hot at
      alpha = 1), head 1 diagonal one-hot, head 2 previous-token one-hot,
      head 3 uniform causal
  layer index 1 (model layer 7):  random causal rows (Dirichlet), per alpha

With --prompt-length T0,T1 the cube records /prompt_length [T0, T1] (the
prompt rows q < T_p of each pair), else it has none.

usage: make_cube.py OUT.h5 [--float32] [--seed N] [--prompt-length T0,T1]
"""
import sys

import h5py
import numpy as np

PAIRS = ["alpha_pair", "beta-pair"]
ALPHAS = np.array([0.0, 0.5, 1.0])
LAYERS = np.array([3, 7], dtype=np.int32)
HEADS = np.array([0, 1, 2, 3], dtype=np.int32)
S = 12
LENGTH = np.array([[12, 9, 7], [5, 12, 1]], dtype=np.int32)


def structured(kind, n):
    M = np.zeros((S, S))
    for q in range(n):
        if kind == "sink":
            M[q, 0] = 1
        elif kind == "diag":
            M[q, q] = 1
        elif kind == "prev":
            M[q, max(q - 1, 0)] = 1
        elif kind == "uniform":
            M[q, : q + 1] = 1.0 / (q + 1)
    return M


def build(seed=1):
    rng = np.random.default_rng(seed)
    P, A, L, H = len(PAIRS), len(ALPHAS), len(LAYERS), len(HEADS)
    att = np.zeros((P, A, L, H, S, S))
    for p in range(P):
        for a in range(A):
            n = LENGTH[p, a]
            att[p, a, 0, 0] = structured("diag" if ALPHAS[a] == 1.0 else "sink", n)
            att[p, a, 0, 1] = structured("diag", n)
            att[p, a, 0, 2] = structured("prev", n)
            att[p, a, 0, 3] = structured("uniform", n)
            for h in range(H):
                M = np.zeros((S, S))
                for q in range(n):
                    M[q, : q + 1] = rng.dirichlet(np.full(q + 1, 0.3 + h))
                att[p, a, 1, h] = M
    return att


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    dtype = np.float32 if "--float32" in argv else np.float16
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    plen = None
    if "--prompt-length" in argv:
        plen = np.array([int(t) for t in argv[argv.index("--prompt-length") + 1].split(",")], dtype=np.int32)
        if plen.shape != (len(PAIRS),):
            print(f"--prompt-length wants {len(PAIRS)} values", file=sys.stderr)
            return 2
    att = build(seed)
    with h5py.File(out, "w") as f:
        f.create_dataset("attention", data=att.astype(dtype), chunks=(1, 1, 1, 1, S, S),
                         compression="gzip", shuffle=True)
        f.create_dataset("length", data=LENGTH)
        if plen is not None:
            f.create_dataset("prompt_length", data=plen)
        f.create_dataset("pair", data=np.array(PAIRS, dtype=object), dtype=h5py.string_dtype())
        f.create_dataset("alpha", data=ALPHAS)
        f.create_dataset("layer", data=LAYERS)
        f.create_dataset("head", data=HEADS)
        f.attrs["schema"] = "attnmix.cube/1"
        f.attrs["model"] = "synth"
        f.attrs["checkpoint_fingerprint"] = "00000000deadbeef"
        f.attrs["storage_dtype"] = "float16" if dtype == np.float16 else "float32"
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
