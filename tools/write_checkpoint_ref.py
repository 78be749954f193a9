#!/usr/bin/python3
"""Reference writer for sharded Qwen3 safetensors checkpoints, in plain numpy.

Independent of the C writer (own RNG, own bf16 rounding, own header code); used
by the tests to check that the C loader exposes exactly the bytes written here.

  write_checkpoint_ref.py --out DIR [--seed S] [--shards N] [--mixed]

--mixed stores the norm weights as F32 and v_proj as F16 (everything else BF16).
Module use: build(args) -> dict name -> (dtype, np.ndarray of stored values).
"""
import argparse
import json
import os
import sys

import numpy as np

CONFIG = dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, head_dim=16,
              vocab_size=1000, tie_word_embeddings=False)


def to_bf16_bits(x):
    """float32 array -> uint16 bf16 bit patterns, round to nearest even."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return r.astype(np.uint16)


def bf16_bits_to_f32(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def tensor_specs(c):
    D, F, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    hd = c["head_dim"]
    Q, K = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    specs = {"model.embed_tokens.weight": (V, D), "model.norm.weight": (D,)}
    if not c["tie_word_embeddings"]:
        specs["lm_head.weight"] = (V, D)
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        specs.update({
            p + "input_layernorm.weight": (D,),
            p + "post_attention_layernorm.weight": (D,),
            p + "self_attn.q_proj.weight": (Q, D),
            p + "self_attn.k_proj.weight": (K, D),
            p + "self_attn.v_proj.weight": (K, D),
            p + "self_attn.o_proj.weight": (D, Q),
            p + "self_attn.q_norm.weight": (hd,),
            p + "self_attn.k_norm.weight": (hd,),
            p + "mlp.gate_proj.weight": (F, D),
            p + "mlp.up_proj.weight": (F, D),
            p + "mlp.down_proj.weight": (D, F),
        })
    return specs


def build(seed, mixed):
    """name -> (safetensors dtype, stored array: uint16 bits for BF16, else float)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in sorted(tensor_specs(CONFIG).items()):
        if len(shape) == 1:
            vals = 1.0 + 0.1 * rng.uniform(-1, 1, size=shape).astype(np.float32)
        else:
            vals = (0.02 * rng.standard_normal(size=shape)).astype(np.float32)
        if mixed and len(shape) == 1:
            out[name] = ("F32", vals.astype("<f4"))
        elif mixed and name.endswith("v_proj.weight"):
            out[name] = ("F16", vals.astype("<f2"))
        else:
            out[name] = ("BF16", to_bf16_bits(vals).astype("<u2"))
    return out


def write_shard(path, items):
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, (dt, arr) in items:
        n = arr.nbytes
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for _, (_, arr) in items:
            f.write(arr.tobytes())


def write(out, seed, shards, mixed):
    tensors = build(seed, mixed)
    names = sorted(tensors)
    total = sum(tensors[n][1].nbytes for n in names)
    # contiguous groups of roughly equal bytes
    groups, cur, acc = [], [], 0
    for n in names:
        cur.append(n)
        acc += tensors[n][1].nbytes
        if acc >= total * (len(groups) + 1) / shards and len(groups) < shards - 1:
            groups.append(cur)
            cur = []
    groups.append(cur)
    groups = [g for g in groups if g]
    os.makedirs(out, exist_ok=True)
    wmap = {}
    for i, g in enumerate(groups):
        fname = "model-%05d-of-%05d.safetensors" % (i + 1, len(groups))
        write_shard(os.path.join(out, fname), [(n, tensors[n]) for n in g])
        for n in g:
            wmap[n] = fname
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": wmap}, f, indent=2)
    cfg = dict(CONFIG, architectures=["Qwen3ForCausalLM"], model_type="qwen3",
               max_position_embeddings=4096, rms_norm_eps=1e-6, rope_theta=1000000,
               bos_token_id=151643, eos_token_id=151645, torch_dtype="bfloat16")
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    return tensors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--shards", type=int, default=3)
    ap.add_argument("--mixed", action="store_true")
    a = ap.parse_args()
    if a.shards < 1:
        ap.error("--shards must be >= 1")
    write(a.out, a.seed, a.shards, a.mixed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
