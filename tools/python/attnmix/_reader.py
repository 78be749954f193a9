"""Readers of an attnmix output directory (docs/schema.md)."""
import json
import os
import warnings

import h5py
import numpy as np
import pandas as pd
import xarray as xr

ENGINE = "h5netcdf"


class AttnmixError(Exception):
    """A file or a selection that cannot be read, with what to do about it."""


class TokenFallbackWarning(UserWarning):
    """A cube without /tokens: labels were rebuilt from its ids, or are ids."""


# ---- token strings ------------------------------------------------------------


def _byte_decoder():
    """GPT-2 byte-level alphabet: the character standing for each byte -> the byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1))
    bs += list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


class TokenDecoder:
    """Each id of a Hugging Face byte-level BPE tokenizer.json decoded on its
    own, as tokenizer.decode([id]) gives it: bytes of an incomplete UTF-8
    character become U+FFFD; ids without a token (and negative ids) give ""."""

    def __init__(self, path):
        if os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        self.path = path
        self._bytes = _byte_decoder()
        self._vocab = {i: s for s, i in j["model"]["vocab"].items()}
        self._added = {a["id"]: a["content"] for a in j.get("added_tokens", [])}

    def piece(self, i):
        i = int(i)
        if i < 0:
            return ""
        if i in self._added:
            return self._added[i]
        s = self._vocab.get(i)
        if s is None:
            return ""
        return bytes(self._bytes[c] for c in s).decode("utf-8", errors="replace")


def unit_tokens(piece, ids_a, ids_b, prompt_length, alpha, length, generated, S):
    """The cube's /tokens [P, A, S] from its ids (the rule of docs/schema.md):
    prompt positions show the token of a where a and b agree or alpha = 1, of b
    at alpha = 0, "a|b" where they differ at a mixed alpha; then the generated
    tokens; "" beyond each unit's length. piece(id) -> str."""
    P, A = len(prompt_length), len(alpha)
    out = np.full((P, A, S), "", dtype=object)
    for p in range(P):
        tp = int(prompt_length[p])
        for a in range(A):
            al = float(alpha[a])
            n = int(length[p, a])
            for q in range(min(n, S)):
                if q < tp:
                    ia, ib = int(ids_a[p, q]), int(ids_b[p, q])
                    if ia == ib or al >= 1.0:
                        out[p, a, q] = piece(ia)
                    elif al <= 0.0:
                        out[p, a, q] = piece(ib)
                    else:
                        out[p, a, q] = piece(ia) + "|" + piece(ib)
                elif generated is not None and q - tp < generated.shape[2]:
                    out[p, a, q] = piece(int(generated[p, a, q - tp]))
    return out


def _fallback_tokens(path, ds):
    """Labels for a cube written before token strings were stored."""
    need = ["ids_a", "ids_b", "prompt_length", "length"]
    missing = [k for k in need if k not in ds.variables]
    P, A, S = ds.sizes["pair"], ds.sizes["alpha"], ds.sizes["query"]
    if missing:
        warnings.warn(
            f"{path}: no /tokens and no {', '.join('/' + m for m in missing)}: positions are labelled by "
            "their index only", TokenFallbackWarning, stacklevel=3)
        return np.array([[[str(q) for q in range(S)]] * A] * P, dtype=object)
    candidates = [ds.attrs.get("tokenizer"), ds.attrs.get("checkpoint")]
    decoder = None
    for c in candidates:
        if isinstance(c, str) and c and os.path.exists(c):
            try:
                decoder = TokenDecoder(c)
                break
            except (OSError, ValueError, KeyError):
                pass
    how = (f"rebuilt from its ids with {decoder.path}" if decoder else
           "labelled '#<id>' (its checkpoint's tokenizer.json is not at hand)")
    warnings.warn(
        f"{path} has no /tokens (written before attnmix stored token strings): labels {how}; rerun "
        "`attnmix-generate --config CONFIG --force` to store them", TokenFallbackWarning, stacklevel=3)
    piece = decoder.piece if decoder else (lambda i: "" if i < 0 else f"#{i}")
    gen = ds["generated_ids"].values if "generated_ids" in ds.variables else None
    return unit_tokens(piece, ds["ids_a"].values, ds["ids_b"].values, ds["prompt_length"].values,
                       ds["alpha"].values, ds["length"].values, gen, S)


# ---- files --------------------------------------------------------------------


def _exists(path, what):
    if not os.path.isfile(path):
        raise AttnmixError(f"{path}: no such file ({what})")


def open_cube(path):
    """A cube.h5 as an xarray Dataset (lazy): /attention [pair, alpha, layer,
    head, query, key] with the token strings as coordinates of both map axes
    (`tokens` on query, `key_tokens` on key)."""
    _exists(path, "an attnmix cube")
    try:
        ds = xr.open_dataset(path, engine=ENGINE)
    except Exception as ex:  # h5netcdf / h5py give terse messages
        raise AttnmixError(f"{path}: cannot open as an attnmix cube: {ex}") from ex
    if "attention" not in ds.variables:
        raise AttnmixError(f"{path}: no /attention dataset (not an attnmix cube)")
    ds = ds.set_coords([v for v in ("tokens", "key_tokens") if v in ds.data_vars])
    if "tokens" not in ds.variables:
        tok = _fallback_tokens(path, ds)
        ds = ds.assign_coords(tokens=(("pair", "alpha", "query"), tok), key_tokens=(("pair", "alpha", "key"), tok))
    elif "key_tokens" not in ds.variables:
        ds = ds.assign_coords(key_tokens=(("pair", "alpha", "key"), ds["tokens"].values))
    return ds


def analysis_groups(path):
    """Every group of an HDF5 file, "/" first."""
    _exists(path, "analysis.h5")
    groups = ["/"]
    with h5py.File(path, "r") as f:
        f.visit(lambda n: groups.append("/" + n) if isinstance(f[n], h5py.Group) else None)
    return groups


def open_analysis(path, cubes=None):
    """Every group of analysis.h5 as an xarray Dataset: {group: Dataset}.
    With cubes ({model: cube Dataset}), /models/<name> gets the cube's token
    strings as coordinates of its query and key axes."""
    out = {}
    for g in analysis_groups(path):
        try:
            ds = xr.open_dataset(path, engine=ENGINE, group=g)
        except Exception as ex:
            hint = ""
            if "dimension" in str(ex):
                hint = (" (written before attnmix labelled every axis: remove it and rerun `attnmix run CONFIG` "
                        "or attnmix-analyze to rewrite it; attnmix.points(path) reads /points as it is)")
            raise AttnmixError(f"{path}: group {g} does not open in xarray: {ex}{hint}") from ex
        parts = g.strip("/").split("/")
        if cubes and len(parts) == 2 and parts[0] == "models" and parts[1] in cubes:
            ds = _with_tokens(ds, cubes[parts[1]])
        out[g] = ds
    return out


def _with_tokens(ds, cube):
    """ds (a /models/<name> group) with the cube's tokens on query and key, when the axes agree."""
    if not {"pair", "alpha", "query"} <= set(ds.dims) or "tokens" not in cube.variables:
        return ds
    try:
        t = cube["tokens"].sel(pair=ds["pair"].values, alpha=ds["alpha"].values).values
    except (KeyError, ValueError):
        return ds
    if t.shape[2] != ds.sizes["query"]:
        return ds
    coords = {"tokens": (("pair", "alpha", "query"), t)}
    if "key" in ds.dims and ds.sizes["key"] == t.shape[2]:
        coords["key_tokens"] = (("pair", "alpha", "key"), t)
    return ds.assign_coords(coords)


def _str(v):
    return v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)


def points(path):
    """/points of analysis.h5 as one pandas DataFrame, one row per map: model,
    pair_index and pair (the key), alpha, layer, head, a column per statistic
    (over all valid rows), the 2-D datasets spread over columns
    <name>_<label> (features by feature name, pca_1.., tsne_1..), and the
    statistics over the prompt rows and over the generated rows
    (/points/prompt, /points/generated) as <name>_prompt, <name>_generated.
    Read with h5py, so analysis files written before their axes were
    labelled read too."""
    _exists(path, "analysis.h5")
    with h5py.File(path, "r") as f:
        if "points" not in f:
            raise AttnmixError(f"{path}: no /points group (not an attnmix analysis file)")
        g = f["points"]
        keys = [_str(k) for k in f["pair"][()]] if "pair" in f else None
        first = ["model", "pair", "alpha", "layer", "head"]
        names = [n for n in first if n in g] + sorted(n for n in g if n not in first)
        cols, n_rows = {}, None
        for name in names:
            d = g[name]
            if not isinstance(d, h5py.Dataset) or d.attrs.get("CLASS") == b"DIMENSION_SCALE" or d.ndim not in (1, 2):
                continue
            v = d[()]
            if n_rows is None:
                n_rows = v.shape[0]
            if v.shape[0] != n_rows:
                raise AttnmixError(f"{path}: /points/{name} has {v.shape[0]} rows, /points/{names[0]} {n_rows}")
            if v.dtype.kind in "OS":
                v = np.array([_str(x) for x in v.ravel()], dtype=object).reshape(v.shape)
            if d.ndim == 1:
                if name == "pair" and keys is not None and v.dtype.kind in "iu":
                    cols["pair_index"] = v
                    v = np.array([keys[i] if 0 <= i < len(keys) else "" for i in v], dtype=object)
                cols[name] = v
                continue
            labels = None
            if len(d.dims[1]):  # a string scale on axis 1 (features: /feature) names the columns
                sc = d.dims[1][0]
                if sc.dtype.kind in "OS" and sc.shape == (v.shape[1],):
                    labels = [_str(x) for x in sc[()]]
            if labels is None and name == "features" and "feature" in f and f["feature"].shape == (v.shape[1],):
                labels = [_str(x) for x in f["feature"][()]]
            for j in range(v.shape[1]):
                cols[f"{name}_{labels[j] if labels else j + 1}"] = v[:, j]
        for rs in ("prompt", "generated"):  # row sets: one column per statistic, suffixed
            sub = g.get(rs)
            if not isinstance(sub, h5py.Group):
                continue
            for name in sorted(sub):
                d = sub[name]
                if not isinstance(d, h5py.Dataset) or d.ndim != 1 or d.attrs.get("CLASS") == b"DIMENSION_SCALE":
                    continue
                if d.shape[0] != n_rows:
                    raise AttnmixError(f"{path}: /points/{rs}/{name} has {d.shape[0]} rows, /points {n_rows}")
                cols[f"{name}_{rs}"] = d[()]
    return pd.DataFrame(cols)


# ---- a run's output directory ---------------------------------------------------


class Run:
    """An attnmix output directory: OUT/<model>/cube.h5 per model and OUT/analysis.h5."""

    def __init__(self, out_dir):
        if not os.path.isdir(out_dir):
            raise AttnmixError(f"{out_dir}: no such directory (an attnmix output_dir)")
        self.dir = out_dir
        self.models = sorted(m for m in os.listdir(out_dir) if os.path.isfile(os.path.join(out_dir, m, "cube.h5")))
        self._cubes = {}
        self._analysis = None
        self.analysis_path = os.path.join(out_dir, "analysis.h5")
        if not self.models and not os.path.isfile(self.analysis_path):
            raise AttnmixError(f"{out_dir}: neither <model>/cube.h5 nor analysis.h5 (not an attnmix output_dir)")

    def __repr__(self):
        return f"attnmix.Run({self.dir!r}, models={self.models})"

    def cube(self, model):
        """The cube of one model (xarray Dataset, opened once)."""
        if model not in self.models:
            raise AttnmixError(f"{self.dir}: no model '{model}' (models: {', '.join(self.models) or 'none'})")
        if model not in self._cubes:
            self._cubes[model] = open_cube(os.path.join(self.dir, model, "cube.h5"))
        return self._cubes[model]

    @property
    def cubes(self):
        """{model: cube Dataset} for every model."""
        return {m: self.cube(m) for m in self.models}

    @property
    def analysis(self):
        """{group: Dataset} of every group of analysis.h5 (token coordinates on /models/<name>)."""
        if self._analysis is None:
            self._analysis = open_analysis(self.analysis_path, self.cubes)
        return self._analysis

    @property
    def points(self):
        """/points of analysis.h5 as a pandas DataFrame (see attnmix.points)."""
        return points(self.analysis_path)

    # -- selections --

    def _unit(self, model, pair, alpha):
        ds = self.cube(model)
        keys = [str(k) for k in ds["pair"].values]
        if isinstance(pair, (int, np.integer)):
            if not 0 <= pair < len(keys):
                raise AttnmixError(f"model '{model}': pair index {pair} out of range (pairs: {', '.join(keys)})")
            p = int(pair)
        elif pair in keys:
            p = keys.index(pair)
        else:
            raise AttnmixError(f"model '{model}': no pair '{pair}' (pairs: {', '.join(keys)})")
        alphas = ds["alpha"].values
        hit = np.flatnonzero(np.isclose(alphas, float(alpha), rtol=0, atol=1e-9))
        if hit.size == 0:
            raise AttnmixError(f"model '{model}': no alpha {alpha} (alphas: {', '.join(f'{x:g}' for x in alphas)})")
        return ds, p, int(hit[0])

    @staticmethod
    def _axis_index(ds, axis, value, model):
        vals = [int(v) for v in ds[axis].values]
        if int(value) not in vals:
            raise AttnmixError(f"model '{model}': {axis} {value} was not captured ({axis}s: {vals})")
        return vals.index(int(value))

    def map(self, model, pair, alpha, layer, head):
        """One attention map: the valid n x n square of (pair, alpha, layer,
        head) as an xarray DataArray [query, key] with the token strings as
        coordinates (`tokens` on query, `key_tokens` on key). pair: key or
        index; alpha: value; layer, head: model indices."""
        ds, p, a = self._unit(model, pair, alpha)
        li = self._axis_index(ds, "layer", layer, model)
        hi = self._axis_index(ds, "head", head, model)
        n = int(ds["length"].values[p, a]) if "length" in ds.variables else ds.sizes["query"]
        m = ds["attention"].isel(pair=p, alpha=a, layer=li, head=hi, query=slice(0, n), key=slice(0, n))
        return m.load()

    def tokens(self, model, pair, alpha):
        """The n token strings of unit (pair, alpha)."""
        ds, p, a = self._unit(model, pair, alpha)
        n = int(ds["length"].values[p, a]) if "length" in ds.variables else ds.sizes["query"]
        return [str(t) for t in ds["tokens"].values[p, a, :n]]

    def to_circuitsvis(self, model, pair, alpha, layer, heads=None):
        """Plain arrays for circuitsvis.attention.attention_patterns / attention_heads:
        {"tokens": [n str], "attention": float32 [heads, n, n] (destination, source),
        "heads": [model head indices]}.
        Use: cv.attention.attention_patterns(tokens=d["tokens"], attention=d["attention"])."""
        ds, p, a = self._unit(model, pair, alpha)
        li = self._axis_index(ds, "layer", layer, model)
        hs = [int(h) for h in ds["head"].values] if heads is None else [int(h) for h in heads]
        his = [self._axis_index(ds, "head", h, model) for h in hs]
        n = int(ds["length"].values[p, a]) if "length" in ds.variables else ds.sizes["query"]
        att = ds["attention"].isel(pair=p, alpha=a, layer=li, head=his, query=slice(0, n), key=slice(0, n))
        return {"tokens": self.tokens(model, pair, alpha), "attention": np.asarray(att.values, dtype=np.float32),
                "heads": hs}

    def to_bertviz(self, model, pair, alpha, layers=None, heads=None):
        """Plain arrays in bertviz's shape: {"tokens": [n str], "attention":
        [one float32 array [1, heads, n, n] per layer], "layers": [...], "heads": [...]}.
        Use: head_view(attention=[torch.from_numpy(x) for x in d["attention"]], tokens=d["tokens"])."""
        ds, p, a = self._unit(model, pair, alpha)
        ls = [int(v) for v in ds["layer"].values] if layers is None else [int(v) for v in layers]
        hs = [int(h) for h in ds["head"].values] if heads is None else [int(h) for h in heads]
        lis = [self._axis_index(ds, "layer", v, model) for v in ls]
        his = [self._axis_index(ds, "head", h, model) for h in hs]
        n = int(ds["length"].values[p, a]) if "length" in ds.variables else ds.sizes["query"]
        att = []
        for li in lis:
            m = ds["attention"].isel(pair=p, alpha=a, layer=li, head=his, query=slice(0, n), key=slice(0, n))
            att.append(np.asarray(m.values, dtype=np.float32)[None])
        return {"tokens": self.tokens(model, pair, alpha), "attention": att, "layers": ls, "heads": hs}

    def close(self):
        for ds in self._cubes.values():
            ds.close()
        for ds in (self._analysis or {}).values():
            ds.close()
        self._cubes, self._analysis = {}, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
