#!/usr/bin/python3
"""A cube of heads of known kinds for the clustering tests: 6 layers x 8 heads,
each head one kind (sink, diagonal, previous-token, uniform) with a little
noise that differs per head, over 2 pairs x 3 alphas with ragged lengths.

usage: make_heads_cube.py OUT.h5 [--seed N]
prints the kind of every head (layer-major) on stdout, one per line."""
import sys

import h5py
import numpy as np

KINDS = ["sink", "diag", "prev", "uniform"]
S = 16
LENGTH = np.array([[16, 13, 11], [12, 16, 14]], dtype=np.int32)


def head_map(kind, n, rng, noise):
    M = np.zeros((S, S))
    for q in range(n):
        row = np.zeros(q + 1)
        if kind == "sink":
            row[0] = 1
        elif kind == "diag":
            row[q] = 1
        elif kind == "prev":
            row[max(q - 1, 0)] = 1
        else:
            row[:] = 1.0 / (q + 1)
        row = (1 - noise) * row + noise * rng.dirichlet(np.ones(q + 1))
        M[q, : q + 1] = row
    return M


def main(argv):
    out = argv[1]
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 3
    rng = np.random.default_rng(seed)
    P, A, L, H = 2, 3, 6, 8
    kinds = [KINDS[(l * H + h) % 4] for l in range(L) for h in range(H)]
    noise = rng.uniform(0.02, 0.12, size=L * H)
    att = np.zeros((P, A, L, H, S, S), dtype=np.float32)
    for p in range(P):
        for a in range(A):
            for l in range(L):
                for h in range(H):
                    j = l * H + h
                    att[p, a, l, h] = head_map(kinds[j], LENGTH[p, a], rng, noise[j])
    with h5py.File(out, "w") as f:
        f.create_dataset("attention", data=att, chunks=(1, 1, 1, 1, S, S))
        f.create_dataset("length", data=LENGTH)
        f.create_dataset("pair", data=np.array(["one", "two"], dtype=object), dtype=h5py.string_dtype())
        f.create_dataset("alpha", data=np.array([0.0, 0.5, 1.0]))
        f.create_dataset("layer", data=np.arange(L, dtype=np.int32))
        f.create_dataset("head", data=np.arange(H, dtype=np.int32))
        f.attrs["schema"] = "attnmix.cube/1"
        f.attrs["model"] = "kinds"
        f.attrs["checkpoint_fingerprint"] = "0000000000000001"
    print("\n".join(kinds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
