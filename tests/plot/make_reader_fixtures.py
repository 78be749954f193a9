#!/usr/bin/python3
"""Cube files for the cube reader's checks (test_plot: test_cube_reader).

usage: make_reader_fixtures.py OUTDIR
Writes OUTDIR/<case>.h5 (and OUTDIR/m1/cube.h5) with h5py:
  fixed.h5      fixed-length ASCII strings (/pair, /text, /prompt_a, /prompt_b,
                root attribute model), float64 maps, every optional dataset
  minimal.h5    only /attention, /pair, /alpha (float16 maps)
  m1/cube.h5    minimal, without a model attribute (name from the directory)
  bad_*.h5      one defect each (see the test for the expected messages)
"""
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
os.makedirs(os.path.join(out, "m1"), exist_ok=True)
P, A, L, H, S = 2, 2, 3, 2, 5


def maps(dtype):
    m = np.zeros((P, A, L, H, S, S), dtype)
    for q in range(S):
        m[..., q, :q + 1] = 1.0 / (q + 1)
    return m


def fixed(values, n):
    return np.array(values, dtype=f"S{n}")


def base(path, dtype=np.float32, extra=True, model=True, **skip):
    with h5py.File(path, "w") as f:
        if "attention" not in skip:
            f["attention"] = maps(dtype)
        if "pair" not in skip:
            f["pair"] = fixed(["k0", "key-one"], 8)
        if "alpha" not in skip:
            f["alpha"] = np.array([0.0, 1.0])
        if model:
            f.attrs["model"] = np.bytes_("fixed-model")
        if extra:
            f["layer"] = np.array([1, 4, 7], np.int32)
            f["head"] = np.array([0, 3], np.int32)
            f["length"] = np.array([[5, 4], [3, 5]], np.int32)
            f["prompt_length"] = np.array([2, 3], np.int32)
            f["ids_a"] = np.array([[1, 2, 3], [4, 5, -1]], np.int32)
            f["ids_b"] = np.array([[1, 9, 3], [4, 6, -1]], np.int32)
            f["generated_ids"] = np.array([[[7, 8], [9, -1]], [[-1, -1], [5, 6]]], np.int32)
            f["text"] = fixed([["t00", "t01"], ["t10", "a longer text"]], 16)
            f["prompt_a"] = fixed(["pa0", "pa1"], 4)
            f["prompt_b"] = fixed(["pb0", "pb1"], 4)
            f.attrs["checkpoint_fingerprint"] = "0123456789abcdef"
            f.attrs["storage_dtype"] = "float64"


base(f"{out}/fixed.h5", np.float64)
base(f"{out}/minimal.h5", np.float16, extra=False)
base(f"{out}/m1/cube.h5", extra=False, model=False)
base(f"{out}/bad_noattn.h5", **{"attention": 1})
base(f"{out}/bad_nopair.h5", **{"pair": 1})
base(f"{out}/bad_length.h5")
with h5py.File(f"{out}/bad_length.h5", "r+") as f:
    f["length"][1, 0] = 9
base(f"{out}/bad_layer.h5")
with h5py.File(f"{out}/bad_layer.h5", "r+") as f:
    del f["layer"]
    f["layer"] = np.array([0, 1], np.int32)
base(f"{out}/bad_text.h5")
with h5py.File(f"{out}/bad_text.h5", "r+") as f:
    del f["text"]
    f["text"] = fixed(["a", "b", "c"], 2)
base(f"{out}/bad_rank.h5", extra=False)
with h5py.File(f"{out}/bad_rank.h5", "r+") as f:
    del f["attention"]
    f["attention"] = np.zeros((P, A, L, H, S), np.float32)
base(f"{out}/bad_type.h5", extra=False)
with h5py.File(f"{out}/bad_type.h5", "r+") as f:
    del f["attention"]
    f["attention"] = np.zeros((P, A, L, H, S, S), np.int32)
with open(f"{out}/not_hdf5.h5", "w") as f:
    f.write("not an HDF5 file\n")
