"""compare_cubes.py REFERENCE OTHER: every dataset of the reference cube exists
in the other with the same type, shape and bytes (bit for bit), the same
dimension labels, and the root attributes that describe the computation are
equal. Exit 1 listing the differences."""
import sys

import h5py
import numpy as np

ref_path, other_path = sys.argv[1], sys.argv[2]
errors = []
# Root attributes that legitimately differ between a run and its sharded twin.
VARYING = {"fingerprint", "created", "config_yaml", "config_hash", "config_path", "mix_fingerprint",
           "prefill_fingerprint", "shards", "layout", "consolidated_from"}


def values(ds):
    v = ds[()]
    if ds.dtype.kind == "O":
        return np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else s, otypes=[object])(v)
    return v


with h5py.File(ref_path, "r") as a, h5py.File(other_path, "r") as b:
    names = []
    a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    if "attention" not in names:
        errors.append("reference has no /attention")
    for n in names:
        if n not in b:
            errors.append(f"/{n} missing")
            continue
        x, y = a[n], b[n]
        if x.dtype != y.dtype or x.shape != y.shape:
            errors.append(f"/{n}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}")
            continue
        vx, vy = values(x), values(y)
        same = (vx.tobytes() == vy.tobytes()) if x.dtype.kind in "iuf" else bool(np.array_equal(vx, vy))
        if not same:
            if x.dtype.kind == "f":
                d = np.abs(vx.astype(np.float64) - vy.astype(np.float64))
                errors.append(f"/{n}: {int((vx != vy).sum())} of {vx.size} values differ, max |diff| {d.max():.3g}")
            else:
                errors.append(f"/{n}: values differ")
        lx = [x.dims[i].label for i in range(x.ndim)]
        ly = [y.dims[i].label for i in range(y.ndim)]
        if lx != ly:
            errors.append(f"/{n}: dimension labels {lx} vs {ly}")
    for k, v in a.attrs.items():
        if k in VARYING:
            continue
        if k not in b.attrs:
            errors.append(f"root attribute {k} missing")
        elif not np.array_equal(np.asarray(v), np.asarray(b.attrs[k])):
            errors.append(f"root attribute {k}: {v!r} vs {b.attrs[k]!r}")

if errors:
    print(f"{other_path} differs from {ref_path}:", file=sys.stderr)
    for e in errors:
        print("  " + e, file=sys.stderr)
    sys.exit(1)
print(f"{other_path} equals {ref_path} ({len(names)} datasets)")
