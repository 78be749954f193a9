"""analysis.h5 in xarray and pandas: every dataset's axes carry dimension
scales (h5py), every group opens with xarray's h5netcdf engine without
phony_dims and holds every dataset of the group, and /points reads as one
pandas DataFrame whose columns equal the datasets. The stage files open too."""
import os
import sys

import h5py
import numpy as np
import pandas as pd
import xarray as xr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(os.environ["ATTNMIX_SRC"], "tools", "python"))
from test_util import check, finish  # noqa: E402

import attnmix  # noqa: E402

D = os.path.abspath(sys.argv[1])
OUT = os.path.join(D, "out")
AN = os.path.join(OUT, "analysis.h5")


def groups_and_datasets(path):
    """{group: [dataset names]} of every group reached by hard links."""
    res = {"/": []}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            parent = "/" + name.rsplit("/", 1)[0] if "/" in name else "/"
            if isinstance(obj, h5py.Group):
                res.setdefault("/" + name, [])
            else:
                res.setdefault(parent, []).append(name.rsplit("/", 1)[-1])
        f.visititems(visit)
    return res


def unlabelled(path):
    out = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.attrs.get("CLASS") != b"DIMENSION_SCALE":
                for i in range(obj.ndim):
                    if len(obj.dims[i]) == 0:
                        out.append(f"/{name} axis {i}")
        f.visititems(visit)
    return out


files = [AN] + [os.path.join(OUT, "tiny", n) for n in ("cube.h5", "tokens.h5", "mix.h5", "prefill.h5", "induction.h5")]
files.append(os.path.join(OUT, "tiny", "frozen-a1", "cube.h5"))
for path in files:
    bad = unlabelled(path)
    check(not bad, f"{path}: axes without a dimension scale: {bad[:5]}")

tree = groups_and_datasets(AN)
check("/models/tiny/frozen/frozen-a1" in tree and "/points" in tree and "/heads" in tree and "/pca" in tree and
      "/points/prompt" in tree and "/points/generated" in tree,
      f"analysis.h5 lacks groups the run should write: {sorted(tree)}")
for g, names in sorted(tree.items()):
    try:
        ds = xr.open_dataset(AN, engine="h5netcdf", group=g)
    except Exception as ex:  # noqa: BLE001 (the message is the finding)
        check(False, f"analysis.h5 group {g} does not open in xarray: {ex}")
        continue
    have = set(ds.variables)
    check(set(names) <= have, f"group {g}: xarray misses {sorted(set(names) - have)}")
    with h5py.File(AN, "r") as f:
        for n in names:
            h = f[g][n]
            if n in ds.variables and h.dtype.kind in "iuf":
                check(ds[n].shape == h.shape and np.array_equal(ds[n].values, h[()], equal_nan=True),
                      f"{g}/{n}: xarray values differ from h5py")
    ds.close()
for path in files[1:]:
    try:
        xr.open_dataset(path, engine="h5netcdf").close()
    except Exception as ex:  # noqa: BLE001
        check(False, f"{path} does not open in xarray: {ex}")

# /points: one DataFrame, a row per map, a column per statistic, plus model, pair, alpha, layer, head.
df = attnmix.points(AN)
check(isinstance(df, pd.DataFrame), "points() is not a DataFrame")
with h5py.File(AN, "r") as f:
    pts = f["points"]
    N = pts["alpha"].shape[0]
    keys = [k.decode() for k in f["pair"][()]]
    feats = [k.decode() for k in f["feature"][()]]
    check(df.shape[0] == N, f"DataFrame rows {df.shape[0]} != {N} maps")
    check(list(df.columns[:6]) == ["model", "pair_index", "pair", "alpha", "layer", "head"],
          f"first columns {list(df.columns[:6])}")
    for n, d in pts.items():
        if isinstance(d, h5py.Group):  # prompt and generated rows: columns <statistic>_<row set>
            for k, sd in d.items():
                c = f"{k}_{n}"
                check(c in df and np.array_equal(df[c].values, sd[()], equal_nan=True), f"column {c}")
            continue
        if d.attrs.get("CLASS") == b"DIMENSION_SCALE":
            continue
        v = d[()]
        if d.ndim == 1 and n == "pair":
            check(np.array_equal(df["pair_index"].values, v), "pair_index column")
            check(list(df["pair"]) == [keys[i] for i in v], "pair column is not the pair keys")
        elif d.ndim == 1 and v.dtype.kind == "O":
            check(list(df[n]) == [s.decode() for s in v], f"column {n}")
        elif d.ndim == 1:
            check(n in df and np.array_equal(df[n].values, v, equal_nan=True), f"column {n} differs from /points/{n}")
        else:
            labels = feats if n == "features" else [str(j + 1) for j in range(d.shape[1])]
            for j, lab in enumerate(labels):
                c = f"{n}_{lab}"
                check(c in df and np.array_equal(df[c].values, v[:, j], equal_nan=True), f"column {c}")
    stats = ["entropy", "sink", "diagonal", "previous", "band", "distance", "offset_mass", "vbar", "js_alpha0",
             "js_alpha1", "offset", "rows", "head_class"]
    check(all(s in df.columns for s in stats), f"statistics missing: {[s for s in stats if s not in df.columns]}")
# the same table straight from xarray: the 1-D variables of /points
ds = xr.open_dataset(AN, engine="h5netcdf", group="points")
flat = ds[[v for v in ds.data_vars if ds[v].dims == ("point",)]].to_dataframe()
check(len(flat) == N and np.allclose(flat["entropy"].values, df["entropy"].values, equal_nan=True),
      "xarray to_dataframe of /points")
ds.close()
finish("researcher xarray")
