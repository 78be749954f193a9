#!/usr/bin/python3
"""Copies a small subset of the shared Qwen3-1.7B blog maps into
tests/study/blog_layer0.h5 for the frame tests when the shared file is not
at hand: pair 0, alphas 0, 0.5 and 1, model layer 0, heads 0..3, keeping the
root attributes (the caveat among them).

usage: make_frame_subset.py SHARED/qwen3-1.7b-blog-maps.h5 OUT.h5
"""
import sys

import h5py
import numpy as np


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    with h5py.File(src, "r") as f, h5py.File(dst, "w") as g:
        alpha = f["alpha"][()]
        ai = [int(np.nonzero(alpha == x)[0][0]) for x in (0.0, 0.5, 1.0)]
        att = f["attention"][0:1, ai, 0:1, 0:4]
        S = att.shape[-1]
        g.create_dataset("attention", data=att, chunks=(1, 1, 1, 1, S, S), compression="gzip",
                         compression_opts=9, shuffle=True)
        g.create_dataset("pair", data=f["pair"][0:1], dtype=h5py.string_dtype())
        g.create_dataset("alpha", data=alpha[ai])
        g.create_dataset("layer", data=f["layer"][0:1])
        g.create_dataset("head", data=np.arange(4, dtype=np.int32))
        for k, v in f.attrs.items():
            g.attrs[k] = v
        g.attrs["subset"] = "pair 0, alphas 0, 0.5 and 1, layer 0, heads 0..3 of " + src.rsplit("/", 1)[-1]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
