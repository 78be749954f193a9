"""`attnmix merge` and `attnmix consolidate` carry the token strings: shard
cubes written here with h5py (one pair each, different sizes), merged
/tokens [pair, alpha, position] padded with "" beyond each pair, attached to
the query and key axes; a shard without /tokens gives a merged cube without
them (the merge still succeeds)."""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from test_util import check, finish, fnv1a  # noqa: E402

BIN = os.environ["ATTNMIX_BIN"]
D = os.path.abspath(sys.argv[1])
KEYS, ALPHAS, TP, NGEN = ["one", "two"], [0.0, 1.0], [3, 5], [[2, 1], [0, 3]]
STR = h5py.string_dtype("utf-8")


def attnmix(*args):
    return subprocess.run([os.path.join(BIN, "attnmix"), *args], capture_output=True, text=True)


def write_shards(out, cfg, with_tokens):
    chash = fnv1a(open(cfg, "rb").read())
    exp = []
    for p, k in enumerate(KEYS):
        d = os.path.join(out, "tiny", "pairs", k)
        os.makedirs(d, exist_ok=True)
        lengths = np.array([[TP[p] + g for g in NGEN[p]]], np.int32)
        Sp, Np = int(lengths.max()), max(NGEN[p])
        toks = np.array([[[f"{k}{a}:{q}\u00e9" if q < lengths[0, a] else "" for q in range(Sp)]
                          for a in range(len(ALPHAS))]], dtype=object)
        exp.append(toks[0])
        att = np.zeros((1, 2, 1, 1, Sp, Sp), np.float32)
        for a in range(2):
            n = lengths[0, a]
            att[0, a, 0, 0, :n, :n] = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
        with h5py.File(os.path.join(d, "cube.h5"), "w") as f:
            f.create_dataset("attention", data=att, chunks=(1, 1, 1, 1, Sp, Sp))
            f["length"] = lengths
            f["prompt_length"] = np.array([TP[p]], np.int32)
            f["generated_ids"] = np.full((1, 2, max(Np, 1)), -1, np.int32)
            f.create_dataset("text", data=np.array([["x", "y"]], object), dtype=STR)
            f["ids_a"] = f["ids_b"] = np.arange(TP[p], dtype=np.int32)[None]
            for n in ("prompt_a", "prompt_b"):
                f.create_dataset(n, data=[f"{n} {k}"], dtype=STR)
            f.create_dataset("pair", data=[k], dtype=STR)
            f["alpha"] = np.array(ALPHAS)
            f["layer"] = f["head"] = np.array([0], np.int32)
            f["query"] = f["key"] = np.arange(Sp, dtype=np.int32)
            f["step"] = np.arange(max(Np, 1), dtype=np.int32)
            f["token"] = np.arange(TP[p], dtype=np.int32)
            if with_tokens[p]:
                f.create_dataset("tokens", data=toks, dtype=STR)
                f.create_dataset("key_tokens", data=toks, dtype=STR)
            for name, v in [("schema", "attnmix.cube/1"), ("model", "tiny"), ("config_hash", chash),
                            ("fingerprint", fnv1a(k.encode())), ("checkpoint_fingerprint", "00c0ffee00c0ffee"),
                            ("storage_dtype", "float32")]:
                f.attrs.create(name, v, dtype=STR)
        with open(os.path.join(d, "generations.tsv"), "w") as t:
            t.write("model\tpair\talpha\tgenerated_tokens\ttext\n")
            for a in range(2):
                t.write(f"tiny\t{k}\t{ALPHAS[a]:g}\t{NGEN[p][a]}\tx\n")
    S = max(e.shape[1] for e in exp)
    full = np.full((len(KEYS), 2, S), "", dtype=object)
    for p, e in enumerate(exp):
        full[p, :, :e.shape[1]] = e
    return full


def case(name, with_tokens):
    root = os.path.join(D, name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    out, cfg = os.path.join(root, "out"), os.path.join(root, "c.yaml")
    pairs = "".join(f'  - key: {k}\n    a: "a {k}"\n    b: "b {k}"\n' for k in KEYS)
    open(cfg, "w").write(f"experiment: m\noutput_dir: {out}\nmodels:\n  - name: tiny\n    checkpoint: {root}/ckpt\n"
                         f"pairs:\n{pairs}alphas: [0, 1]\n")
    exp = write_shards(out, cfg, with_tokens)
    r = attnmix("merge", cfg)
    check(r.returncode == 0, f"{name}: merge failed: {r.stderr}")
    merged = os.path.join(out, "tiny", "cube.h5")
    single = os.path.join(root, "single.h5")
    r = attnmix("consolidate", merged, single)
    check(r.returncode == 0, f"{name}: consolidate failed: {r.stderr}")
    for path in (merged, single):
        if not os.path.exists(path):
            continue  # the failed command is recorded above
        with h5py.File(path, "r") as f:
            if not all(with_tokens):
                check("tokens" not in f and "key_tokens" not in f, f"{name}: {path} has /tokens")
                continue
            got = np.vectorize(lambda s: s.decode(), otypes=[object])(f["tokens"][()])
            check(got.shape == exp.shape and np.array_equal(got, exp), f"{name}: {path} /tokens differ")
            check(np.array_equal(f["key_tokens"][()], f["tokens"][()]), f"{name}: {path} /key_tokens")
            check([f["tokens"].dims[i][0].name for i in range(3)] == ["/pair", "/alpha", "/query"],
                  f"{name}: {path} /tokens axes")
        ds = xr.open_dataset(path, engine="h5netcdf")
        if all(with_tokens):
            check(ds.attention.sel(pair="two", alpha=1.0).tokens.values[0] == "two1:0\u00e9", f"{name}: xarray")
        ds.close()


case("tokens", [True, True])
case("one-old-shard", [True, False])
finish("researcher merge tokens")
