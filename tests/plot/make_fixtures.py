#!/usr/bin/python3
"""Small synthetic cube.h5 and analysis.h5 files for the plot tests.

usage: make_fixtures.py OUTDIR [--float16]
Writes OUTDIR/cube.h5 (docs/schema.md layout) and OUTDIR/analysis.h5
(/points group as read by attnmix-plot scatter) and OUTDIR/expected.json
with values the C test checks against.
"""
import json
import sys

import h5py
import numpy as np

out = sys.argv[1]
f16 = "--float16" in sys.argv
rng = np.random.default_rng(7)

P, A, L, H = 2, 3, 3, 2
alpha = np.array([0.0, 0.5, 1.0])
layer = np.array([0, 2, 5], np.int32)
head = np.array([0, 3], np.int32)
pairs = ["greeting", "a<b&c"]
prompt_length = np.array([4, 5], np.int32)
length = np.array([[7, 8, 9], [6, 7, 9]], np.int32)
S, N, T = int(length.max()), 5, 5

att = np.zeros((P, A, L, H, S, S), np.float32)
for p in range(P):
    for a in range(A):
        n = length[p, a]
        for l in range(L):
            for h in range(H):
                m = np.zeros((n, n))
                for q in range(n):
                    x = rng.normal(size=q + 1) * 2
                    m[q, :q + 1] = np.exp(x) / np.exp(x).sum()
                att[p, a, l, h, :n, :n] = m
# a recognisable cell: pair 1, alpha 2, layer 1, head 1, (q=6, k=3)
att[1, 2, 1, 1, 6, :] = 0
att[1, 2, 1, 1, 6, 3] = 1.0

ids_a = np.full((P, T), -1, np.int32)
ids_b = np.full((P, T), -1, np.int32)
ids_a[0, :4] = [9707, 11, 1879, 0]
ids_b[0, :4] = [9707, 11, 1052, 0]
ids_a[1, :5] = [64, 33, 65, 5, 66]
ids_b[1, :5] = [64, 33, 67, 5, 66]
gen = np.full((P, A, N), -1, np.int32)
for p in range(P):
    for a in range(A):
        k = length[p, a] - prompt_length[p]
        gen[p, a, :k] = rng.integers(100, 2000, size=k)
text = [["<b>hi</b> & 'bye'", "line1\nline2", "plain"], ["α mix", "x < y", "\"quoted\""]]

sdt = h5py.string_dtype("utf-8")
with h5py.File(f"{out}/cube.h5", "w") as f:
    f.attrs["schema"] = "attnmix.cube/1"
    f.attrs["model"] = "tiny-test"
    f.create_dataset("attention", data=att.astype(np.float16) if f16 else att,
                     chunks=(1, 1, 1, 1, S, S), compression="gzip", shuffle=True)
    f["length"] = length
    f["prompt_length"] = prompt_length
    f["generated_ids"] = gen
    f["ids_a"] = ids_a
    f["ids_b"] = ids_b
    f.create_dataset("text", data=np.array(text, dtype=object), dtype=sdt)
    f.create_dataset("prompt_a", data=np.array(["Hello, world!", "A<B>C"], dtype=object), dtype=sdt)
    f.create_dataset("prompt_b", data=np.array(["Hello, there!", "A&B"], dtype=object), dtype=sdt)
    f.create_dataset("pair", data=np.array(pairs, dtype=object), dtype=sdt)
    f["alpha"] = alpha
    f["layer"] = layer
    f["head"] = head

M = 60
with h5py.File(f"{out}/analysis.h5", "w") as f:
    g = f.create_group("points")
    g.create_dataset("model", data=np.array(["m1" if i % 2 else "m2" for i in range(M)], dtype=object),
                     dtype=sdt)
    g["pair"] = (np.arange(M) // 2 % P).astype(np.int32)
    g["alpha"] = alpha[np.arange(M) % A]
    g["layer"] = layer[np.arange(M) // 3 % L]
    g["head"] = head[np.arange(M) % H]
    g["pca"] = rng.normal(size=(M, 4))
    g["tsne"] = rng.normal(size=(M, 2)) * 10
    f.create_dataset("pair", data=np.array(pairs, dtype=object), dtype=sdt)
    f["alpha"] = alpha

json.dump({"S": S, "length": length.tolist(), "prompt_length": prompt_length.tolist(),
           "probe": {"p": 1, "a": 2, "l": 1, "h": 1, "q": 6, "k": 3},
           "map_p0a1l2h0": att[0, 1, 2, 0, :length[0, 1], :length[0, 1]].astype(
               np.float16 if f16 else np.float32).astype(float).tolist()},
          open(f"{out}/expected.json", "w"))
