"""Plain numpy reader for Hugging Face safetensors checkpoints (test reference).

read_checkpoint(dir) -> dict name -> (dtype string, np.ndarray of float32 values,
raw bytes). Independent of the C loader: parses the header with json and
slices the file itself."""
import json
import os

import numpy as np

_NP = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}


def read_file(path):
    out = {}
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n].decode())
    base = 8 + n
    for name, ent in header.items():
        if name == "__metadata__":
            continue
        b, e = ent["data_offsets"]
        raw = blob[base + b:base + e]
        arr = np.frombuffer(raw, dtype=_NP[ent["dtype"]]).reshape(ent["shape"])
        if ent["dtype"] == "BF16":
            vals = (arr.astype(np.uint32) << 16).view(np.float32)
        else:
            vals = arr.astype(np.float32)
        out[name] = (ent["dtype"], vals, raw)
    return out


def read_checkpoint(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            wm = json.load(f)["weight_map"]
        out = {}
        for shard in sorted(set(wm.values())):
            for name, v in read_file(os.path.join(d, shard)).items():
                assert wm[name] == shard, (name, shard)
                out[name] = v
        assert set(out) == set(wm)
        return out
    return read_file(os.path.join(d, "model.safetensors"))
