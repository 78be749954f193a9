"""Token strings (docs/schema.md): the cube's /tokens [pair, alpha, position]
and /key_tokens, and tokens.h5's /tokens_a, /tokens_b, against Hugging Face's
tokenizer (node) decoding each id alone and the a|b rule written here; their
axes in h5py and xarray; old and malformed cubes in the C readers."""
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from test_util import check, finish  # noqa: E402

D = os.path.abspath(sys.argv[1])
BIN = os.environ["ATTNMIX_BIN"]
SRC = os.environ["ATTNMIX_SRC"]
OUT = os.path.join(D, "out")
CUBE = os.path.join(OUT, "tiny", "cube.h5")
TOKENIZER = os.path.join(D, "tiny", "tokenizer.json")


def strs(ds):
    return np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else s, otypes=[object])(ds[()])


def hf_pieces(ids):
    """{id: HF decode([id])} from tools/tokenizer-ref.js (Hugging Face tokenizers, Rust)."""
    ids = sorted(set(int(i) for i in ids if i >= 0))
    r = subprocess.run(["node", os.path.join(SRC, "tools", "tokenizer-ref.js"), "decode", "--impl", "hf",
                        "--tokenizer", TOKENIZER], input="".join(f"[{i}]\n" for i in ids), capture_output=True,
                       text=True, env={**os.environ, "ATTNMIX_NODE_MODULES": os.environ["ATTNMIX_NODE_MODULES"]})
    if r.returncode != 0:
        sys.exit(f"FAIL: node reference: {r.stderr}")
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(out) == len(ids), (len(out), len(ids))
    return dict(zip(ids, out))


f = h5py.File(CUBE, "r")
P, A, L, H, S, _ = f["attention"].shape
ids_a, ids_b, plen = f["ids_a"][()], f["ids_b"][()], f["prompt_length"][()]
length, gen, alpha = f["length"][()], f["generated_ids"][()], f["alpha"][()]
ref = hf_pieces(np.concatenate([ids_a.ravel(), ids_b.ravel(), gen.ravel()]))
check(any("\ufffd" in s for s in ref.values()), "no token splits a character: the emoji prompt should")

# The expected table, by the rule of docs/schema.md.
exp = np.full((P, A, S), "", dtype=object)
for p in range(P):
    for a in range(A):
        for q in range(length[p, a]):
            if q < plen[p]:
                ia, ib = ids_a[p, q], ids_b[p, q]
                if ia == ib or alpha[a] == 1:
                    exp[p, a, q] = ref[ia]
                elif alpha[a] == 0:
                    exp[p, a, q] = ref[ib]
                else:
                    exp[p, a, q] = ref[ia] + "|" + ref[ib]
            else:
                exp[p, a, q] = ref[gen[p, a, q - plen[p]]]
tok = strs(f["tokens"])
check(tok.shape == (P, A, S), f"/tokens shape {tok.shape}")
bad = [(p, a, q, tok[p, a, q], exp[p, a, q]) for p in range(P) for a in range(A) for q in range(S)
       if tok[p, a, q] != exp[p, a, q]]
check(not bad, f"{len(bad)} /tokens cells differ from HF decode + rule, first: {bad[:3]}")
check(np.array_equal(strs(f["key_tokens"]), tok), "/key_tokens differs from /tokens")
check(any("|" in t for t in tok[:, 1].ravel()), "no a|b cell at alpha 0.5")
check(f["tokens"].dtype.kind == "O" and h5py.check_string_dtype(f["tokens"].dtype).encoding == "utf-8",
      "/tokens is not UTF-8 strings")
labels = [[f[n].dims[i][0].name for i in range(3)] for n in ("tokens", "key_tokens")]
check(labels == [["/pair", "/alpha", "/query"], ["/pair", "/alpha", "/key"]], f"token axes {labels}")
check(f["attention"].attrs["coordinates"] == "tokens key_tokens", "attention lacks the coordinates attribute")
f.close()

# xarray: token strings label both axes of a map.
ds = xr.open_dataset(CUBE, engine="h5netcdf")
check("tokens" in ds.coords and "key_tokens" in ds.coords, f"xarray coords {list(ds.coords)}")
m = ds.attention.sel(pair="emoji", alpha=0.5).isel(layer=0, head=0)
check(m.tokens.dims == ("query",) and m.key_tokens.dims == ("key",), f"map coords {m.tokens.dims} {m.key_tokens.dims}")
check(list(m.tokens.values) == list(exp[1, 1]), "xarray tokens of (emoji, 0.5)")
ds.close()

# tokens.h5: both prompts' token strings, "" beyond T_p.
with h5py.File(os.path.join(OUT, "tiny", "tokens.h5"), "r") as t:
    for k, ids in (("tokens_a", t["ids_a"][()]), ("tokens_b", t["ids_b"][()])):
        got = strs(t[k])
        want = np.vectorize(lambda i: ref.get(int(i), "") if i >= 0 else "", otypes=[object])(ids)
        check(got.shape == ids.shape and np.array_equal(got, want), f"tokens.h5 /{k} differs from HF decode")
        check([t[k].dims[i][0].name for i in range(2)] == ["/pair", "/token"], f"tokens.h5 /{k} axes")
tx = xr.open_dataset(os.path.join(OUT, "tiny", "tokens.h5"), engine="h5netcdf")
check(tx.tokens_a.dims == ("pair", "token"), f"tokens.h5 in xarray: {tx.tokens_a.dims}")
tx.close()

# An old cube (no /tokens): analysis and figures read it as before.
old_dir = os.path.join(D, "old", "tiny")
shutil.rmtree(os.path.join(D, "old"), ignore_errors=True)
os.makedirs(old_dir)
old = os.path.join(old_dir, "cube.h5")
shutil.copy(CUBE, old)
with h5py.File(old, "a") as o:
    del o["tokens"], o["key_tokens"]
    del o["attention"].attrs["coordinates"]
r = subprocess.run([os.path.join(BIN, "attnmix-analyze"), "--out", os.path.join(D, "old", "analysis.h5"), old],
                   capture_output=True, text=True)
check(r.returncode == 0, f"analyze on a cube without /tokens: {r.stderr}")
r = subprocess.run([os.path.join(BIN, "attnmix-plot"), "heads", "--cube", old, "--pair", "capital", "--layer", "0",
                    "--out", os.path.join(D, "old", "grid.png")], capture_output=True, text=True)
check(r.returncode == 0, f"plot on a cube without /tokens: {r.stderr}")
# Figures label small maps with the stored strings when no tokenizer is given:
# the same grid differs from the old cube's, which has numeric ticks only.
r = subprocess.run([os.path.join(BIN, "attnmix-plot"), "heads", "--cube", CUBE, "--pair", "capital", "--layer", "0",
                    "--out", os.path.join(D, "old", "grid-tokens.png")], capture_output=True, text=True)
check(r.returncode == 0, f"plot: {r.stderr}")
if r.returncode == 0:
    check(open(os.path.join(D, "old", "grid.png"), "rb").read() !=
          open(os.path.join(D, "old", "grid-tokens.png"), "rb").read(), "no token labels from the stored /tokens")

# A malformed /tokens: a clear message naming the file and the dataset, exit 1.
badc = os.path.join(D, "old", "bad", "cube.h5")
os.makedirs(os.path.dirname(badc), exist_ok=True)
shutil.copy(old, badc)
with h5py.File(badc, "a") as o:
    o.create_dataset("tokens", data=np.array([["x"] * 3] * P, dtype=object), dtype=h5py.string_dtype())
r = subprocess.run([os.path.join(BIN, "attnmix-analyze"), "--out", os.path.join(D, "old", "bad.h5"), badc],
                   capture_output=True, text=True)
check(r.returncode == 1 and badc in r.stderr and "/tokens must be" in r.stderr,
      f"malformed /tokens: rc {r.returncode}: {r.stderr}")
check(not os.path.exists(os.path.join(D, "old", "bad.h5")), "an output was left behind")
finish("researcher tokens")
