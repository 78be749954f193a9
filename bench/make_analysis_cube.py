#!/usr/bin/python3
"""A cube shaped like a Qwen3-14B run for the analysis benchmark: 40 layers x
40 heads (1600 heads) x P pairs x A alphas (default 4 x 5 = 20 units), maps of
side S (default 64; unit lengths S - 24 .. S), float16, one map per chunk.
Heads are sink, diagonal, previous-token, fixed-offset or broad patterns
mixed with Dirichlet noise whose weight drifts with alpha, so the features,
PCA and clusters have structure to find.

usage: make_analysis_cube.py OUT.h5 [--pairs P] [--alphas A] [--size S] [--seed N]"""
import sys

import h5py
import numpy as np


def arg(argv, name, default):
    return type(default)(argv[argv.index(name) + 1]) if name in argv else default


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    P, A, S = arg(argv, "--pairs", 4), arg(argv, "--alphas", 5), arg(argv, "--size", 64)
    rng = np.random.default_rng(arg(argv, "--seed", 1))
    L, H = 40, 40
    alphas = np.linspace(0, 1, A)
    length = rng.integers(S - 24, S + 1, size=(P, A)).astype(np.int32)
    length[:, -1] = S
    kind = rng.integers(0, 5, size=(L, H))
    noise = rng.uniform(0.05, 0.6, size=(L, H))
    q = np.arange(S)[:, None]
    k = np.arange(S)[None, :]
    causal = k <= q
    with h5py.File(out, "w") as f:
        att = f.create_dataset("attention", shape=(P, A, L, H, S, S), dtype=np.float16,
                               chunks=(1, 1, 1, 1, S, S))
        for p in range(P):
            for a in range(A):
                n = length[p, a]
                valid = causal & (q < n) & (k < n)
                for l in range(L):
                    base = np.zeros((H, S, S))
                    for h in range(H):
                        t = kind[l, h]
                        if t == 0:
                            base[h, :, 0] = 1
                        elif t == 1:
                            base[h][q[:, 0], q[:, 0]] = 1
                        elif t == 2:
                            base[h][q[:, 0], np.maximum(q[:, 0] - 1, 0)] = 1
                        elif t == 3:
                            base[h][q[:, 0], np.maximum(q[:, 0] - 3, 0)] = 1
                        else:
                            base[h] = causal / (q + 1)
                    g = rng.gamma(0.5, size=(H, S, S)) * valid
                    g /= np.maximum(g.sum(2, keepdims=True), 1e-30)
                    w = np.clip(noise[l] + 0.2 * (alphas[a] - 0.5), 0, 1)[:, None, None]
                    m = ((1 - w) * base + w * g) * valid
                    m /= np.maximum(m.sum(2, keepdims=True), 1e-30)
                    att[p, a, l] = m.astype(np.float16)
        f.create_dataset("length", data=length)
        f.create_dataset("pair", data=np.array([f"pair{i}" for i in range(P)], dtype=object),
                         dtype=h5py.string_dtype())
        f.create_dataset("alpha", data=alphas)
        f.create_dataset("layer", data=np.arange(L, dtype=np.int32))
        f.create_dataset("head", data=np.arange(H, dtype=np.int32))
        f.attrs["schema"] = "attnmix.cube/1"
        f.attrs["model"] = "qwen3-14b-shaped"
        f.attrs["checkpoint_fingerprint"] = "0000000000000014"
        f.attrs["storage_dtype"] = "float16"
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
