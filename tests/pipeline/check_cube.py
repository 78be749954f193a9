"""Checks a cube written by the stages against the output contract
(docs/schema.md), with h5py, xarray and Hugging Face's tokenizer (node)."""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

out_dir, config_path = sys.argv[1], sys.argv[2]
cube_path = os.path.join(out_dir, "tiny", "cube.h5")
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


f = h5py.File(cube_path, "r")
att = f["attention"]
P, A, L, H, S, S2 = att.shape
check(S == S2, "maps are not square")
check((P, A) == (2, 3), f"pairs x alphas {P}x{A}")
check(att.chunks == (1, 1, 1, 1, S, S), f"chunking {att.chunks}")
check(att.compression == "gzip" and att.shuffle, "compression/shuffle")
length, plen = f["length"][()], f["prompt_length"][()]
gen = f["generated_ids"][()]
check(S == length.max(), f"S {S} != max length {length.max()}")
cfg = json.loads(f.attrs["model_config"])
check(L == cfg["num_hidden_layers"] and H == cfg["num_attention_heads"], "all layers and heads captured")

# Every map: rows are distributions over keys 0..q, zero elsewhere.
maps = att[()].astype(np.float64)
for p in range(P):
    for a in range(A):
        n = length[p, a]
        m = maps[p, a]
        check(np.abs(m[..., :n, :n].sum(-1) - 1).max() < 1e-5, f"rows of ({p},{a}) do not sum to 1")
        check(np.all(np.triu(m[..., :n, :n], 1) == 0), f"({p},{a}) has mass above the diagonal")
        check(np.all(m[..., n:, :] == 0) and np.all(m[..., :, n:] == 0), f"({p},{a}) nonzero beyond length")
        ng = n - plen[p]
        check(np.all(gen[p, a, :ng] >= 0) and np.all(gen[p, a, ng:] == -1), f"generated ids of ({p},{a})")
check(maps.min() >= 0 and maps.max() <= 1, "probabilities outside [0, 1]")
check(maps.max() > 0.9, "maps are not peaky (synthetic q/k scale ignored?)")

# Prompts: the ids are HF's tokenization, the shorter left-padded with <|endoftext|>.
pa = [s.decode() for s in f["prompt_a"][()]]
pb = [s.decode() for s in f["prompt_b"][()]]
node_script = r"""
const {Tokenizer} = require(process.env.ATTNMIX_NODE_MODULES + '/tokenizers');
const t = Tokenizer.fromFile(process.env.ATTNMIX_TOKENIZER_DIR + '/tokenizer.json');
const req = JSON.parse(require('fs').readFileSync(0, 'utf8'));
(async () => {
  const enc = [];
  for (const s of req.encode) enc.push(Array.from((await t.encode(s, null, {addSpecialTokens: false})).getIds()));
  const dec = [];
  for (const ids of req.decode) dec.push(await t.decode(ids, false));
  console.log(JSON.stringify({enc, dec}));
})();
"""
units = [(p, a) for p in range(P) for a in range(A)]
req = {"encode": pa + pb,
       "decode": [[int(x) for x in gen[p, a] if x >= 0] for p, a in units]}
ref = json.loads(subprocess.run(["node", "-e", node_script], input=json.dumps(req), text=True,
                                capture_output=True, check=True).stdout)
ids_a, ids_b = f["ids_a"][()], f["ids_b"][()]
for p in range(P):
    ea, eb = ref["enc"][p], ref["enc"][P + p]
    T = max(len(ea), len(eb))
    check(plen[p] == T, f"prompt_length[{p}] {plen[p]} != {T}")
    want_a = [151643] * (T - len(ea)) + ea
    want_b = [151643] * (T - len(eb)) + eb
    check(list(ids_a[p, :T]) == want_a and list(ids_b[p, :T]) == want_b, f"ids of pair {p}")
    check(np.all(ids_a[p, T:] == -1), f"ids_a[{p}] not -1 beyond T")
text = f["text"][()]
for (p, a), want in zip(units, ref["dec"]):
    check(text[p, a].decode() == want, f"text ({p},{a}) {text[p, a]!r} != HF decode {want!r}")

# Dimension scales and labels.
for i, name in enumerate(["pair", "alpha", "layer", "head", "query", "key"]):
    check(len(att.dims[i]) == 1 and att.dims[i][0].name == "/" + name, f"dim {i} scale")
    check(att.dims[i].label == name, f"dim {i} label")
check([s.decode() for s in f["pair"][()]] == ["capital", "sums"], "pair keys")
check(list(f["alpha"][()]) == [0.0, 0.5, 1.0], "alphas")
check(list(f["layer"][()]) == list(range(L)) and list(f["head"][()]) == list(range(H)), "layer/head scales")
check(f["length"].dims[1][0].name == "/alpha", "length alpha scale")

# NeXus view for h5web.
check(f.attrs["NX_class"] == "NXroot" and f.attrs["default"] == "entry", "NXroot")
nx = f["entry/maps"]
check(nx.attrs["NX_class"] == "NXdata" and nx.attrs["signal"] == "attention", "NXdata")
check(list(nx.attrs["axes"]) == ["pair", "alpha", "layer", "head", "query", "key"], "NXdata axes")
check(nx["attention"].shape == att.shape, "NXdata link")

# Provenance.
with open(config_path) as cf:
    check(f.attrs["config_yaml"] == cf.read(), "config_yaml is the config text")
for key in ["schema", "fingerprint", "checkpoint_fingerprint", "attnmix_version", "git_commit", "created",
            "seed", "backend", "storage_dtype"]:
    check(key in f.attrs, f"root attribute {key}")
check(f.attrs["schema"] == "attnmix.cube/1", "schema")
check(int(f.attrs["seed"]) == 3, "seed")

# xarray labels every axis from the scales.
ds = xr.open_dataset(cube_path, engine="h5netcdf", phony_dims="sort")
da = ds["attention"]
check(da.dims == ("pair", "alpha", "layer", "head", "query", "key"), f"xarray dims {da.dims}")
one = da.sel(pair="sums", alpha=0.5, layer=1, head=2).values
check(np.array_equal(one, maps[1, 1, 1, 2].astype(one.dtype)), "xarray selection by label")

# generations.tsv lists every unit's text.
rows = open(os.path.join(out_dir, "tiny", "generations.tsv"), encoding="utf-8").read().split("\n")
check(rows[0] == "model\tpair\talpha\tgenerated_tokens\ttext" and len([r for r in rows[1:] if r]) == P * A,
      "generations.tsv rows")

if errors:
    print("FAIL:\n  " + "\n  ".join(errors))
    sys.exit(1)
print(f"cube ok: {P}x{A}x{L}x{H}x{S}x{S}, {P * A * L * H} maps")
