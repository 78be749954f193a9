"""The attnmix Python package against h5py reads of the same files: the
run's cubes and analysis groups, a map with its token labels, the
CircuitsVis- and bertviz-shaped exports, messages for bad selections, and
cubes written before token strings were stored."""
import os
import shutil
import sys
import warnings

import h5py
import numpy as np

import attnmix

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from test_util import check, finish  # noqa: E402

D = os.path.abspath(sys.argv[1])
OUT = os.path.join(D, "out")
CUBE = os.path.join(OUT, "tiny", "cube.h5")


def strs(a):
    return [s.decode() if isinstance(s, bytes) else s for s in a]


def raises(fn, *words):
    try:
        fn()
    except attnmix.AttnmixError as ex:
        return all(w in str(ex) for w in words) or str(ex)
    return "no AttnmixError"


run = attnmix.open(OUT)
check(run.models == ["tiny"], f"models {run.models}")
f = h5py.File(CUBE, "r")
ds = run.cube("tiny")
check(ds.attention.dims == ("pair", "alpha", "layer", "head", "query", "key"), f"cube dims {ds.attention.dims}")
check("tokens" in ds.coords and "key_tokens" in ds.coords, "cube lacks token coordinates")

# map(): the valid n x n square, values and labels as stored.
pairs, alphas = strs(f["pair"][()]), list(f["alpha"][()])
layers, heads = list(f["layer"][()]), list(f["head"][()])
for p, key in enumerate(pairs):
    for a, al in enumerate(alphas):
        n = int(f["length"][p, a])
        toks = strs(f["tokens"][p, a, :n])
        m = run.map("tiny", key, al, layers[-1], heads[1])
        want = f["attention"][p, a, len(layers) - 1, 1, :n, :n]
        check(m.dims == ("query", "key") and m.shape == (n, n), f"map ({key}, {al}) shape {m.shape}")
        check(np.array_equal(m.values, want), f"map ({key}, {al}) values differ from the cube")
        check(strs(m.tokens.values) == toks and strs(m.key_tokens.values) == toks, f"map ({key}, {al}) labels")
        check(run.tokens("tiny", key, al) == toks, "tokens()")
check(np.array_equal(run.map("tiny", 1, 0.5, layers[0], heads[0]).values, run.map("tiny", pairs[1], 0.5, layers[0],
                                                                                  heads[0]).values), "pair by index")

# Exports: plain arrays + tokens in the viewers' shapes.
n = int(f["length"][1, 1])
cv = run.to_circuitsvis("tiny", pairs[1], alphas[1], layers[0])
check(cv["attention"].shape == (len(heads), n, n) and cv["attention"].dtype == np.float32, "circuitsvis shape")
check(np.array_equal(cv["attention"], f["attention"][1, 1, 0, :, :n, :n]), "circuitsvis values")
check(cv["tokens"] == strs(f["tokens"][1, 1, :n]) and cv["heads"] == heads, "circuitsvis tokens and heads")
bv = run.to_bertviz("tiny", pairs[1], alphas[1], heads=[heads[2], heads[0]])
check(len(bv["attention"]) == len(layers) and bv["layers"] == layers, "bertviz: one array per layer")
check(all(x.shape == (1, 2, n, n) for x in bv["attention"]), f"bertviz shapes {[x.shape for x in bv['attention']]}")
check(np.array_equal(bv["attention"][1][0, 0], f["attention"][1, 1, 1, 2, :n, :n]), "bertviz values (head order)")

# Bad selections: messages that list what there is.
check(raises(lambda: run.cube("nope"), "no model 'nope'", "tiny") is True, "unknown model")
check(raises(lambda: run.map("tiny", "nope", 0.5, 0, 0), "no pair 'nope'", pairs[0]) is True, "unknown pair")
check(raises(lambda: run.map("tiny", pairs[0], 0.3, 0, 0), "no alpha 0.3", "0.5") is True, "unknown alpha")
check(raises(lambda: run.map("tiny", pairs[0], 0.5, 99, 0), "layer 99 was not captured") is True, "unknown layer")
check(raises(lambda: attnmix.open(os.path.join(D, "no-such")), "no such directory") is True, "missing dir")

# analysis.h5: every group, token coordinates on the model's group, the points table.
with h5py.File(os.path.join(OUT, "analysis.h5"), "r") as af:
    groups = ["/"]
    af.visit(lambda nm: groups.append("/" + nm) if isinstance(af[nm], h5py.Group) else None)
    an = run.analysis
    check(sorted(an) == sorted(groups), f"analysis groups {sorted(an)} != {sorted(groups)}")
    g = an["/models/tiny"]
    check("tokens" in g.coords and g.entropy_by_query.dims[-1] == "query", "analysis model group lacks tokens")
    check(strs(g.tokens.values[1, 1]) == strs(f["tokens"][1, 1]), "analysis tokens differ from the cube's")
    check(np.array_equal(g.entropy_by_query.values, af["models/tiny/entropy_by_query"][()], equal_nan=True),
          "entropy_by_query")
    df = run.points
    check(len(df) == af["points/alpha"].shape[0] and list(df["model"].unique()) == ["tiny"], "points table")
    # the statistics over the prompt rows (q < T) and the generated rows (q >= T) as suffixed columns
    for rs in ("prompt", "generated"):
        for k in ("entropy", "distance", "js_alpha0", "offset", "rows"):
            check(np.array_equal(df[f"{k}_{rs}"].values, af[f"points/{rs}/{k}"][()], equal_nan=True),
                  f"column {k}_{rs} differs from /points/{rs}/{k}")
    plen, length = f["prompt_length"][()], f["length"][()]
    pi, ai = df["pair_index"].values, np.searchsorted(alphas, df["alpha"].values)
    T, n = plen[pi], length[pi, ai]
    check(np.array_equal(df["rows_prompt"].values, T - 1), "rows_prompt != T - 1 (prompt rows 1..T-1)")
    check(np.array_equal(df["rows_generated"].values, n - T) and (n > T).all(), "rows_generated != length - T")
    check(np.array_equal(df["rows_prompt"] + df["rows_generated"], df["rows"]), "the row sets do not partition rows")
    w = (df["rows_prompt"] * df["entropy_prompt"] + df["rows_generated"] * df["entropy_generated"]) / df["rows"]
    check(np.allclose(w, df["entropy"], rtol=1e-12, atol=1e-12), "entropy: not the row-weighted mean of the sets")
    check(not np.allclose(df["entropy_prompt"], df["entropy"]), "prompt entropy equals the entropy over all rows")
f.close()
run.close()

# A cube written before token strings were stored: labels rebuilt from its ids
# and the checkpoint's tokenizer.json, with a warning saying how to store them.
old_out = os.path.join(D, "old-run")
shutil.rmtree(old_out, ignore_errors=True)
os.makedirs(os.path.join(old_out, "tiny"))
old = os.path.join(old_out, "tiny", "cube.h5")
shutil.copy(CUBE, old)
with h5py.File(old, "a") as o:
    del o["tokens"], o["key_tokens"]
    del o["attention"].attrs["coordinates"]
    o.attrs["checkpoint"] = os.path.join(D, "tiny")
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    r2 = attnmix.open(old_out)
    m = r2.map("tiny", pairs[1], 0.5, layers[0], heads[0])
check(any(issubclass(x.category, attnmix.TokenFallbackWarning) and "no /tokens" in str(x.message) and "--force" in
          str(x.message) for x in w), f"no fallback warning: {[str(x.message) for x in w]}")
with h5py.File(CUBE, "r") as fc:
    check(strs(m.tokens.values) == strs(fc["tokens"][1, 1, :m.shape[0]]), "rebuilt labels differ from the stored ones")
r2.close()
with h5py.File(old, "a") as o:
    o.attrs["checkpoint"] = os.path.join(D, "no-such-checkpoint")
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    m = attnmix.open(old_out).map("tiny", pairs[0], 1.0, layers[0], heads[0])
check(any("'#<id>'" in str(x.message) for x in w), "no warning about id labels")
with h5py.File(old, "r") as o:
    check(strs(m.tokens.values)[:3] == [f"#{i}" for i in o["ids_a"][0, :3]], f"id labels {m.tokens.values[:3]}")
# An analysis.h5 written before every axis was labelled (as the one before
# labelled axes: /points/features labelled on axis 1 only): the table reads,
# the groups are refused with what to do.
oldan = os.path.join(D, "old-analysis.h5")
with h5py.File(oldan, "w") as o:
    o.create_dataset("pair", data=["p0", "p1"], dtype=h5py.string_dtype())
    o.create_dataset("feature", data=["sink", "band2"], dtype=h5py.string_dtype())
    o["feature"].make_scale("feature")
    g = o.create_group("points")
    g.create_dataset("model", data=["m", "m", "m"], dtype=h5py.string_dtype())
    g["pair"] = np.array([1, 0, 1], np.int32)
    g["alpha"] = np.array([0.0, 0.5, 1.0])
    g["layer"] = g["head"] = np.array([0, 1, 2], np.int32)
    g["entropy"] = np.array([0.1, np.nan, 0.3])
    g["features"] = np.arange(6.0).reshape(3, 2)
    g["features"].dims[1].attach_scale(o["feature"])
df = attnmix.points(oldan)
check(list(df.columns) == ["model", "pair_index", "pair", "alpha", "layer", "head", "entropy", "features_sink",
                           "features_band2"], f"old points columns {list(df.columns)}")
check(list(df["pair"]) == ["p1", "p0", "p1"] and list(df["features_band2"]) == [1.0, 3.0, 5.0], "old points values")
check(raises(lambda: attnmix.open_analysis(oldan), "does not open in xarray", "rerun", "attnmix.points") is True,
      "old analysis.h5: no clear message")
finish("researcher python package")
