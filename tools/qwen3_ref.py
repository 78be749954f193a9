#!/usr/bin/python3
"""Independent float64 numpy reference of the Qwen3 forward pass and greedy
generation, for checking the C runtime.

Reads the checkpoint itself (config.json, safetensors single file or sharded,
its own bf16/f16 decoding) and follows Hugging Face modeling_qwen3.py:
q/k RMSNorm per head before rotate-half RoPE (float32 inv_freq), GQA head
h -> h // (H/KV), causal softmax with exact zeros, SiLU MLP, tied embeddings.

Input (--cases JSON):
  {"max_new_tokens": N, "eos_ids": [...],            (optional; default none)
   "units": [{"ids_a": [...], "ids_b": [...], "alpha": 0.3,
              "n_pad": 0, "mask_pads": 0}, ...]}
Each unit's input embeddings are alpha*E[a] + (1-alpha)*E[b] (float64).
Optional per unit: "forced": [ids] (teacher forcing: these tokens are fed
instead of the greedy choices (all but the last, which is only predicted), and
logits/margin are those of the distributions that preceded them; probs then
cover T + N - 1 positions), "max_new_tokens" (a lower limit for that unit) and
"freeze": {"file": F, "dataset": D, "layers": [...], "heads": [...]}
(frozen attention patterns: D in HDF5 file F is [L, H, S, S]; in the listed
layers and heads the softmax probabilities of query q are replaced by
D[l, h, q, :q+1] before they multiply the values; empty lists mean all).
Generation is greedy (lowest id on ties) and recomputes the whole sequence
every step (no KV cache), so it is independent of the C runtime's caching.

Output (--out HDF5), group /unit<i>:
  probs   [L, H, S, S] float64  attention of the full sequence, S = T + N
          (the last generated token fed once more)
  gen     [N] int32             generated ids
  logits  [N, V] float32        logits that chose gen[s] (position T-1+s)
  margin  [N] float64           top1 - top2 logit at each step
With --npy, --out is a directory of NumPy files unit<i>.<name>.npy instead
(read by tests/test_runtime_ref.c, which needs no HDF5 library).
"""
import argparse
import json
import os
import shutil
import struct
import sys

import h5py
import numpy as np


class Checkpoint:
    def __init__(self, d):
        with open(os.path.join(d, "config.json")) as f:
            self.cfg = json.load(f)
        idx = os.path.join(d, "model.safetensors.index.json")
        files = []
        if os.path.exists(idx):
            with open(idx) as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
        else:
            files = ["model.safetensors"]
        self.tensors = {}
        for fn in files:
            path = os.path.join(d, fn)
            with open(path, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(n))
            mm = np.memmap(path, dtype=np.uint8, mode="r")
            base = 8 + n
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                a, b = info["data_offsets"]
                self.tensors[name] = (mm, base + a, base + b, info["dtype"], info["shape"])

    def raw(self, name, rows=None):
        """Decoded float32/64 array; rows selects rows of a 2-D tensor."""
        mm, a, b, dt, shape = self.tensors[name]
        buf = mm[a:b]
        if dt == "BF16":
            v = buf.view(np.uint16).reshape(shape)
            if rows is not None:
                v = v[rows]
            return (v.astype(np.uint32) << 16).view(np.float32)
        if dt == "F16":
            v = buf.view(np.float16).reshape(shape)
        elif dt == "F32":
            v = buf.view(np.float32).reshape(shape)
        else:
            raise SystemExit(f"qwen3_ref: tensor {name}: dtype {dt} not supported")
        if rows is not None:
            v = v[rows]
        return v.astype(np.float32)

    def get(self, name):
        return self.raw(name).astype(np.float64)


class Model:
    def __init__(self, d):
        ck = Checkpoint(d)
        c = ck.cfg
        self.D = c["hidden_size"]
        self.L = c["num_hidden_layers"]
        self.H = c["num_attention_heads"]
        self.KV = c.get("num_key_value_heads") or 32
        self.hd = c.get("head_dim") or 128
        self.eps = c.get("rms_norm_eps", 1e-6)
        theta = c.get("rope_theta")
        if theta is None:
            theta = (c.get("rope_parameters") or {}).get("rope_theta", 10000.0)
        self.theta = float(theta)
        self.tied = bool(c.get("tie_word_embeddings", False))
        self.ck = ck
        self.layers = []
        for l in range(self.L):
            p = f"model.layers.{l}."
            self.layers.append({k: ck.get(p + n) for k, n in [
                ("in_norm", "input_layernorm.weight"), ("q", "self_attn.q_proj.weight"),
                ("k", "self_attn.k_proj.weight"), ("v", "self_attn.v_proj.weight"),
                ("o", "self_attn.o_proj.weight"), ("q_norm", "self_attn.q_norm.weight"),
                ("k_norm", "self_attn.k_norm.weight"), ("post_norm", "post_attention_layernorm.weight"),
                ("gate", "mlp.gate_proj.weight"), ("up", "mlp.up_proj.weight"),
                ("down", "mlp.down_proj.weight")]})
        self.final_norm = ck.get("model.norm.weight")
        head = "model.embed_tokens.weight" if self.tied else "lm_head.weight"
        self.lm_head = ck.raw(head)  # float32 [V, D]; products done in float64 by chunks
        # inv_freq in float32, as HF computes it
        ex = np.arange(0, self.hd, 2, dtype=np.int64).astype(np.float32) / np.float32(self.hd)
        self.inv_freq = (np.float32(1.0) / (np.float32(self.theta) ** ex)).astype(np.float32)

    def embed(self, ids):
        return self.ck.raw("model.embed_tokens.weight", rows=np.asarray(ids)).astype(np.float64)

    def rms(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, pos):
        # x [T, heads, hd]; rotate-half
        ang = pos[:, None].astype(np.float64) * self.inv_freq.astype(np.float64)[None, :]
        cos = np.cos(np.concatenate([ang, ang], axis=-1))[:, None, :]
        sin = np.sin(np.concatenate([ang, ang], axis=-1))[:, None, :]
        h = self.hd // 2
        rot = np.concatenate([-x[..., h:], x[..., :h]], axis=-1)
        return x * cos + rot * sin

    def logits(self, h):
        """h [n, D] float64 after the final norm -> [n, V] float64."""
        out = np.empty((h.shape[0], self.lm_head.shape[0]))
        for a in range(0, self.lm_head.shape[0], 16384):
            out[:, a:a + 16384] = h @ self.lm_head[a:a + 16384].astype(np.float64).T
        return out

    def forward(self, emb, n_pad, mask_pads, want_probs, freeze=None):
        """emb [T, D] float64 -> final-normed hidden [T, D], probs [L, H, T, T]."""
        T = emb.shape[0]
        H, KV, hd = self.H, self.KV, self.hd
        slots = np.arange(T)
        if mask_pads:
            pos = np.where(slots < n_pad, 1, slots - n_pad)
        else:
            pos = slots
        allowed = slots[None, :] <= slots[:, None]  # [q, k] causal
        if mask_pads and n_pad > 0:
            pad_key = slots[None, :] < n_pad
            allowed &= ~pad_key | (slots[None, :] == slots[:, None])
        probs = np.zeros((self.L, H, T, T)) if want_probs else None
        x = emb.copy()
        grp = H // KV
        for l, w in enumerate(self.layers):
            xn = self.rms(x, w["in_norm"])
            q = (xn @ w["q"].T).reshape(T, H, hd)
            k = (xn @ w["k"].T).reshape(T, KV, hd)
            v = (xn @ w["v"].T).reshape(T, KV, hd)
            q = self.rope(self.rms(q, w["q_norm"]), pos)
            k = self.rope(self.rms(k, w["k_norm"]), pos)
            att = np.zeros((T, H, hd))
            for h in range(H):
                g = h // grp
                s = (q[:, h, :] @ k[:, g, :].T) * hd ** -0.5
                s = np.where(allowed, s, -np.inf)
                s = s - s.max(axis=1, keepdims=True)
                p = np.where(allowed, np.exp(s), 0.0)
                p /= p.sum(axis=1, keepdims=True)
                if freeze is not None and l in freeze[1] and h in freeze[2]:
                    src = freeze[0][l, h, :T, :T]
                    if src.shape != (T, T):
                        raise SystemExit(f"qwen3_ref: frozen pattern of layer {l} head {h} is smaller than {T}")
                    p = np.where(allowed, src, 0.0)
                if want_probs:
                    probs[l, h] = p
                att[:, h, :] = p @ v[:, g, :]
            x = x + att.reshape(T, H * hd) @ w["o"].T
            xn = self.rms(x, w["post_norm"])
            gt = xn @ w["gate"].T
            up = xn @ w["up"].T
            x = x + ((gt / (1.0 + np.exp(-gt))) * up) @ w["down"].T
        return self.rms(x, self.final_norm), probs


def run_unit(m, u, max_new, eos):
    ids_a, ids_b, alpha = u["ids_a"], u["ids_b"], float(u["alpha"])
    if len(ids_a) != len(ids_b):
        raise SystemExit("qwen3_ref: ids_a and ids_b must have the same length (pad them first)")
    n_pad, mask = int(u.get("n_pad", 0)), int(u.get("mask_pads", 0))
    emb = alpha * m.embed(ids_a) + (1.0 - alpha) * m.embed(ids_b)
    T = emb.shape[0]
    max_new = min(max_new, int(u.get("max_new_tokens", max_new)))
    fz = None
    if u.get("freeze"):
        spec = u["freeze"]
        with h5py.File(spec["file"], "r") as f:
            src = np.asarray(f[spec["dataset"]], dtype=np.float64)
        fz = (src, set(spec.get("layers") or range(m.L)), set(spec.get("heads") or range(m.H)))
    gen, margins = [], []
    if "forced" in u:
        gen = [int(t) for t in u["forced"]]
        if len(gen) > 1:  # the last forced token is only predicted, not fed
            emb = np.concatenate([emb, m.embed(gen[:-1])], axis=0)
        h, probs = m.forward(emb, n_pad, mask, True, fz)
        N = len(gen)
        logits = m.logits(h[T - 1:T - 1 + N]) if N else np.zeros((0, m.lm_head.shape[0]))
        top2 = np.sort(logits, axis=1)[:, -2:] if N else np.zeros((0, 2))
        return probs, np.array(gen, np.int32), logits.astype(np.float32), top2[:, 1] - top2[:, 0]
    for s in range(max_new):
        h, _ = m.forward(emb, n_pad, mask, False, fz)
        lg = m.logits(h[-1:])[0]
        tok = int(np.argmax(lg))  # first maximum: lowest id on ties
        top2 = np.partition(lg, -2)[-2:]
        margins.append(float(top2[1] - top2[0]))
        gen.append(tok)
        emb = np.concatenate([emb, m.embed([tok])], axis=0)
        if tok in eos:
            break
    h, probs = m.forward(emb, n_pad, mask, True, fz)
    N = len(gen)
    logits = m.logits(h[T - 1:T - 1 + N]).astype(np.float32) if N else np.zeros((0, m.lm_head.shape[0]), np.float32)
    return probs, np.array(gen, np.int32), logits, np.array(margins)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--npy", action="store_true", help="write a directory of .npy files to --out")
    a = ap.parse_args()
    with open(a.cases) as f:
        cases = json.load(f)
    m = Model(a.model)
    max_new = int(cases.get("max_new_tokens", 0))
    eos = set(int(x) for x in cases.get("eos_ids", []))
    tmp = a.out + ".tmp"
    if a.npy:
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        for i, u in enumerate(cases["units"]):
            res = dict(zip(("probs", "gen", "logits", "margin"), run_unit(m, u, max_new, eos)))
            for name, v in res.items():
                np.save(os.path.join(tmp, f"unit{i}.{name}.npy"), np.ascontiguousarray(v))
            print(f"qwen3_ref: unit {i}: T={len(u['ids_a'])} generated {len(res['gen'])}", file=sys.stderr)
        shutil.rmtree(a.out, ignore_errors=True)
        os.replace(tmp, a.out)
        return
    with h5py.File(tmp, "w") as f:
        for i, u in enumerate(cases["units"]):
            probs, gen, logits, margin = run_unit(m, u, max_new, eos)
            g = f.create_group(f"unit{i}")
            g["probs"] = probs
            g["gen"] = gen
            g["logits"] = logits
            g["margin"] = margin
            print(f"qwen3_ref: unit {i}: T={len(u['ids_a'])} generated {len(gen)}", file=sys.stderr)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
