"""`attnmix merge` and `attnmix consolidate` on shard cubes written here with
h5py (the layout generate writes for one pair), checked against the cube
assembled independently with numpy: values, padding, scales, attributes,
virtual sources with relative paths (moving the directory), refusals."""
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


def attnmix(*args, cwd=None):
    return subprocess.run([os.path.join(BIN, "attnmix"), *args], capture_output=True, text=True, cwd=cwd)


KEYS = ["capital", "sums", "long.one"]
ALPHAS = [0.0, 0.5, 1.0]
LAYERS, HEADS = [0, 2], [1, 3]
TP = [5, 3, 7]           # prompt length per pair
NGEN = [[4, 2, 0], [1, 1, 1], [3, 5, 2]]   # generated tokens per (pair, alpha)
P, A, L, H = len(KEYS), len(ALPHAS), len(LAYERS), len(HEADS)


def config_text(out, alphas=ALPHAS):
    pairs = "".join(f'  - key: {k}\n    a: "prompt a of {k}"\n    b: "prompt b of {k}"\n' for k in KEYS)
    return (f"experiment: merge-test\noutput_dir: {out}\nseed: 5\nmodels:\n  - name: tiny\n    checkpoint: {D}/ckpt\n"
            f"pairs:\n{pairs}alphas: [{', '.join(str(a) for a in alphas)}]\ngeneration:\n  max_new_tokens: 5\n")


def make_checkpoint():
    """The config's checkpoint: the content stamps hold its fingerprint."""
    if os.path.exists(os.path.join(D, "ckpt", "config.json")):
        return
    r = subprocess.run([os.path.join(BIN, "attnmix-make-checkpoint"), "--preset", "tiny", "--seed", "7", "--tokenizer",
                        os.environ["ATTNMIX_TOKENIZER_DIR"], "--out", os.path.join(D, "ckpt"), "--quiet"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"make-checkpoint: {r.stderr}")


def stamp_parts(cfg_path, key):
    """The stamp_parts generate writes into the cube of pair key (`attnmix stamp`)."""
    r = attnmix("stamp", cfg_path, "generate", "--pair", key)
    check(r.returncode == 0 and r.stdout.startswith("format=attnmix.cube/1;models="), f"attnmix stamp: {r.stdout} {r.stderr}")
    return r.stdout.strip()


def unit_maps(rng, n, S):
    """[L, H, S, S]: causal rows over the first n positions, zero elsewhere."""
    m = np.zeros((L, H, S, S), np.float32)
    x = rng.random((L, H, n, n)).astype(np.float32)
    x = np.tril(x)
    x /= x.sum(-1, keepdims=True)
    m[:, :, :n, :n] = x
    return m


def build(out, dtype, cfg_path, shard_alphas=None):
    """Write the shards of every pair; return the expected merged arrays."""
    rng = np.random.default_rng(11)
    text_cfg = open(cfg_path, "rb").read()
    chash = fnv1a(text_cfg)
    lengths = np.array([[TP[p] + NGEN[p][a] for a in range(A)] for p in range(P)], np.int32)
    S = int(lengths.max())
    N = max(max(r) for r in NGEN)
    T = max(TP)
    exp = {
        "attention": np.zeros((P, A, L, H, S, S), dtype),
        "length": lengths,
        "prompt_length": np.array(TP, np.int32),
        "generated_ids": np.full((P, A, N), -1, np.int32),
        "ids_a": np.full((P, T), -1, np.int32),
        "ids_b": np.full((P, T), -1, np.int32),
        "text": np.empty((P, A), object),
        "prompt_a": np.array([f"prompt a of {k}" for k in KEYS], object),
        "prompt_b": np.array([f"prompt b of {k}" for k in KEYS], object),
        "pair": np.array(KEYS, object),
        "alpha": np.array(ALPHAS),
        "layer": np.array(LAYERS, np.int32),
        "head": np.array(HEADS, np.int32),
        "query": np.arange(S, dtype=np.int32),
        "key": np.arange(S, dtype=np.int32),
        "step": np.arange(N, dtype=np.int32),
        "token": np.arange(T, dtype=np.int32),
    }
    str_t = h5py.string_dtype("utf-8")
    for p, k in enumerate(KEYS):
        d = os.path.join(out, "tiny", "pairs", k)
        os.makedirs(d, exist_ok=True)
        Sp = int(lengths[p].max())
        Np = max(NGEN[p])
        att = np.zeros((1, A, L, H, Sp, Sp), dtype)
        gen = np.full((1, A, Np), -1, np.int32)
        text = np.empty((1, A), object)
        for a in range(A):
            m = unit_maps(rng, int(lengths[p, a]), Sp).astype(dtype)
            att[0, a] = m
            exp["attention"][p, a, :, :, :Sp, :Sp] = m
            g = rng.integers(0, 1000, NGEN[p][a]).astype(np.int32)
            gen[0, a, :len(g)] = g
            exp["generated_ids"][p, a, :len(g)] = g
            text[0, a] = f"text {k} {a} \u00e9"
            exp["text"][p, a] = text[0, a]
        ida = rng.integers(0, 5000, (1, TP[p])).astype(np.int32)
        idb = rng.integers(0, 5000, (1, TP[p])).astype(np.int32)
        exp["ids_a"][p, :TP[p]] = ida[0]
        exp["ids_b"][p, :TP[p]] = idb[0]
        with h5py.File(os.path.join(d, "cube.h5"), "w") as f:
            f.create_dataset("attention", data=att, chunks=(1, 1, 1, 1, Sp, Sp), compression="gzip", shuffle=True)
            f["length"] = lengths[p:p + 1]
            f["prompt_length"] = np.array([TP[p]], np.int32)
            f["generated_ids"] = gen
            f.create_dataset("text", data=text, dtype=str_t)
            f["ids_a"], f["ids_b"] = ida, idb
            f.create_dataset("prompt_a", data=exp["prompt_a"][p:p + 1], dtype=str_t)
            f.create_dataset("prompt_b", data=exp["prompt_b"][p:p + 1], dtype=str_t)
            f.create_dataset("pair", data=[k], dtype=str_t)
            f["alpha"] = np.array(shard_alphas(p) if shard_alphas else ALPHAS)
            f["layer"], f["head"] = exp["layer"], exp["head"]
            f["query"] = np.arange(Sp, dtype=np.int32)
            f["key"] = np.arange(Sp, dtype=np.int32)
            f["step"] = np.arange(Np, dtype=np.int32)
            f["token"] = np.arange(TP[p], dtype=np.int32)
            for name, v in [("schema", "attnmix.cube/1"), ("model", "tiny"), ("config_hash", chash),
                            ("stamp_parts", stamp_parts(cfg_path, k)),
                            ("fingerprint", fnv1a(k.encode())), ("checkpoint_fingerprint", "00c0ffee00c0ffee"),
                            ("storage_dtype", "float16" if dtype == np.float16 else "float32"),
                            ("config_yaml", text_cfg.decode()), ("mix_fingerprint", "m" + k),
                            ("prefill_fingerprint", "p" + k), ("created", "2020-01-01T00:00:00Z"),
                            ("experiment", "merge-test")]:
                f.attrs.create(name, v, dtype=str_t)
            f.attrs["seed"] = np.int64(5)
        with open(os.path.join(d, "generations.tsv"), "w") as t:
            t.write("model\tpair\talpha\tgenerated_tokens\ttext\n")
            for a in range(A):
                t.write(f"tiny\t{k}\t{ALPHAS[a]:g}\t{NGEN[p][a]}\t{text[0, a]}\n")
    return exp


def as_np(ds):
    v = ds[()]
    if ds.dtype.kind == "O":
        v = np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else s, otypes=[object])(v)
    return v


def compare(path, exp, what, virtual):
    with h5py.File(path, "r") as f:
        att = f["attention"]
        check(att.is_virtual == virtual, f"{what}: attention virtual={att.is_virtual}")
        if virtual:
            srcs = sorted(s.file_name for s in att.virtual_sources())
            check(srcs == sorted(f"pairs/{k}/cube.h5" for k in KEYS), f"{what}: virtual sources {srcs}")
        else:
            S = att.shape[-1]
            check(att.chunks == (1, 1, 1, 1, S, S) and att.compression == "gzip" and att.shuffle,
                  f"{what}: chunks {att.chunks} {att.compression}")
        for name, v in exp.items():
            if name not in f:
                check(False, f"{what}: /{name} missing")
                continue
            got = as_np(f[name])
            check(got.shape == v.shape, f"{what}: /{name} shape {got.shape} != {v.shape}")
            if got.shape == v.shape:
                check(np.array_equal(got, v), f"{what}: /{name} values differ")
            if v.dtype.kind in "iuf":
                check(f[name].dtype == v.dtype, f"{what}: /{name} dtype {f[name].dtype} != {v.dtype}")
        dims = [f["attention"].dims[i].label for i in range(6)]
        check(dims == ["pair", "alpha", "layer", "head", "query", "key"], f"{what}: dimension labels {dims}")
        check(f["ids_a"].dims[1].label == "token" and f["generated_ids"].dims[2].label == "step", f"{what}: scales")
        check(f.attrs["schema"] == "attnmix.cube/1" and f.attrs["model"] == "tiny", f"{what}: root attributes")
        check(f.attrs["checkpoint_fingerprint"] == "00c0ffee00c0ffee", f"{what}: checkpoint_fingerprint")
        check("mix_fingerprint" not in f.attrs, f"{what}: a shard's mix_fingerprint copied")
        shards = list(f.attrs["shards"])
        check(shards == [f"pairs/{k}/cube.h5 {fnv1a(k.encode())}" for k in KEYS], f"{what}: shards {shards}")
        check(f["entry/maps"].attrs["signal"] == "attention" and f.attrs["default"] == "entry", f"{what}: NeXus")
        check(np.array_equal(f["entry/maps/attention"][0, 0, 0, 0], exp["attention"][0, 0, 0, 0]), f"{what}: NeXus link")
    ds = xr.open_dataset(path, engine="h5netcdf", phony_dims="sort")
    check(list(ds["attention"].dims) == ["pair", "alpha", "layer", "head", "query", "key"], f"{what}: xarray dims")
    check(list(ds["pair"].values) == KEYS and np.array_equal(ds["alpha"].values, ALPHAS), f"{what}: xarray coords")
    ds.close()


def run_case(name, dtype):
    root = os.path.join(D, name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    out = os.path.join(root, "out")
    cfg = os.path.join(root, "c.yaml")
    open(cfg, "w").write(config_text(out))
    exp = build(out, dtype, cfg)
    merged = os.path.join(out, "tiny", "cube.h5")

    r = attnmix("merge", cfg)
    check(r.returncode == 0, f"{name}: merge failed: {r.stderr}")
    compare(merged, exp, f"{name} merged", True)
    tsv = open(os.path.join(out, "tiny", "generations.tsv")).read().splitlines()
    check(len(tsv) == 1 + P * A and tsv[0].startswith("model\t") and tsv[1 + A].split("\t")[1] == KEYS[1],
          f"{name}: generations.tsv {tsv[:3]}")
    st = os.stat(merged).st_ino
    r = attnmix("merge", cfg)
    check(r.returncode == 0 and "up to date" in r.stderr and os.stat(merged).st_ino == st, f"{name}: second merge rewrote")

    # The run directory moves: the relative sources follow it (opened by absolute
    # and by relative path, from another working directory).
    moved = os.path.join(D, name + "-moved")
    shutil.rmtree(moved, ignore_errors=True)
    shutil.move(out, moved)
    compare(os.path.join(moved, "tiny", "cube.h5"), exp, f"{name} moved", True)
    r = subprocess.run([sys.executable, "-c", "import h5py,sys; f=h5py.File(sys.argv[1]); print(float(f['attention'][()].sum()))",
                        os.path.relpath(os.path.join(moved, "tiny", "cube.h5"), "/")], cwd="/", capture_output=True, text=True)
    check(r.returncode == 0 and abs(float(r.stdout) - float(exp["attention"].astype(np.float64).sum())) < 1e-3,
          f"{name}: relative open from / : {r.stdout} {r.stderr}")

    # consolidate: one self-contained file, equal values, readable without the shards.
    single = os.path.join(root, "single.h5")
    r = attnmix("consolidate", os.path.join(moved, "tiny", "cube.h5"), single)
    check(r.returncode == 0, f"{name}: consolidate failed: {r.stderr}")
    shutil.move(moved, out)   # back, to test that the consolidated file does not need it
    hidden = os.path.join(D, name + "-hidden")
    shutil.move(os.path.join(out, "tiny", "pairs"), hidden)
    compare(single, exp, f"{name} consolidated", False)
    with h5py.File(single) as f:
        check(f.attrs["layout"] == "single-file", f"{name}: layout attribute")
    # ... and consolidate refuses a virtual cube whose sources are gone.
    r = attnmix("consolidate", merged, os.path.join(root, "bad.h5"))
    check(r.returncode == 1 and "pairs/capital/cube.h5" in r.stderr and "missing" in r.stderr,
          f"{name}: consolidate with missing sources: rc {r.returncode} {r.stderr}")
    check(not os.path.exists(os.path.join(root, "bad.h5")), f"{name}: consolidate left a file")
    shutil.move(hidden, os.path.join(out, "tiny", "pairs"))
    return root, out, cfg, exp


def refusals(root, out, cfg):
    merged = os.path.join(out, "tiny", "cube.h5")
    tiny = os.path.join(out, "tiny")

    def merge_fails(what, needle):
        if os.path.exists(merged):
            os.unlink(merged)
        r = attnmix("merge", cfg)
        leftovers = [n for n in os.listdir(tiny) if n.startswith("cube.h5")]
        check(r.returncode == 1, f"refusal '{what}': rc {r.returncode}")
        check(all(n in r.stderr for n in needle), f"refusal '{what}': message lacks {needle}: {r.stderr}")
        check(not leftovers, f"refusal '{what}': left {leftovers}")

    shard = os.path.join(tiny, "pairs", "sums", "cube.h5")
    os.rename(shard, shard + ".away")
    merge_fails("missing shard", ["pairs/sums/cube.h5", "missing"])
    os.rename(shard + ".away", shard)

    with h5py.File(shard, "r+") as f:
        f["alpha"][1] = 0.25
    merge_fails("other alphas", ["pairs/sums/cube.h5", "alpha 0.25"])
    with h5py.File(shard, "r+") as f:
        f["alpha"][1] = 0.5
        f["layer"][1] = 1
    merge_fails("other layers", ["pairs/sums/cube.h5", "layer 1", "pairs/capital/cube.h5"])
    with h5py.File(shard, "r+") as f:
        f["layer"][1] = 2
        f.attrs["checkpoint_fingerprint"] = "0123456789abcdef"
    merge_fails("other checkpoint", ["pairs/sums/cube.h5", "checkpoint"])
    with h5py.File(shard, "r+") as f:
        f.attrs["checkpoint_fingerprint"] = "00c0ffee00c0ffee"
        good = f.attrs["stamp_parts"]
        f.attrs["stamp_parts"] = good.replace(";alphas=", ";alphas=0")
    merge_fails("other config", ["pairs/sums/cube.h5", "does not match", "in: alphas;"])
    with h5py.File(shard, "r+") as f:
        f.attrs["stamp_parts"] = good.replace(";checkpoint=", ";checkpoint=0")
    merge_fails("stamped with another checkpoint", ["pairs/sums/cube.h5", "in: checkpoint;"])
    with h5py.File(shard, "r+") as f:
        del f.attrs["stamp_parts"]
    merge_fails("no stamp", ["pairs/sums/cube.h5", "in: its content stamp"])
    with h5py.File(shard, "r+") as f:
        f.attrs.create("stamp_parts", good, dtype=h5py.string_dtype("utf-8"))
    with h5py.File(shard, "r+") as f:
        f.attrs["schema"] = "attnmix.prefill/1"
    merge_fails("other schema", ["pairs/sums/cube.h5", "schema"])
    open(shard, "w").write("not hdf5")
    merge_fails("not HDF5", ["pairs/sums/cube.h5"])


make_checkpoint()
root, out, cfg, exp = run_case("f32", np.float32)
refusals(root, out, cfg)
run_case("f16", np.float16)
finish("merge")
