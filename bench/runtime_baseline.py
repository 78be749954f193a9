#!/usr/bin/python3
"""Baseline for bench-runtime: what the original experiment did, in PyTorch
eager mode. One unit (pair, alpha) at a time: mixed input embeddings, greedy
generation with a KV cache, attention probabilities of every layer returned
at every step (output_attentions=True semantics: eager attention, probabilities
materialised per layer), float32 weights (the default dtype of a model loaded
without torch_dtype). The model code mirrors modeling_qwen3.py.

Prints one JSON line: {"units": n, "seconds": s, "tokens": t, ...}.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch


def load(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    w = {}
    for fn in files:
        path = os.path.join(d, fn)
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        mm = np.memmap(path, dtype=np.uint8, mode="r")
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            buf = mm[8 + n + a:8 + n + b]
            if info["dtype"] == "BF16":
                v = (buf.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
            elif info["dtype"] == "F16":
                v = buf.view(np.float16).astype(np.float32)
            else:
                v = np.array(buf.view(np.float32))
            w[name] = torch.from_numpy(v.reshape(info["shape"]))
    return cfg, w


class Qwen3:
    def __init__(self, cfg, w):
        self.c, self.w = cfg, w
        self.H, self.KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.hd = cfg.get("head_dim") or 128
        self.eps = cfg["rms_norm_eps"]
        self.L = cfg["num_hidden_layers"]
        self.E = w["model.embed_tokens.weight"]
        self.lm = self.E if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
        theta = cfg.get("rope_theta", 1e6)
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.hd, 2, dtype=torch.int64).float() / self.hd))

    def rms(self, x, w):
        v = x.pow(2).mean(-1, keepdim=True)
        return w * (x * torch.rsqrt(v + self.eps))

    def rope(self, x, pos):
        f = pos[:, None].float() * self.inv_freq[None, :]
        emb = torch.cat((f, f), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        h = x.shape[-1] // 2
        rot = torch.cat((-x[..., h:], x[..., :h]), dim=-1)
        return x * cos + rot * sin

    def forward(self, x, cache, p0):
        """x [1, T, D]; cache list of (k, v) per layer or None; returns hidden, attentions."""
        T = x.shape[1]
        pos = torch.arange(p0, p0 + T)
        mask = torch.full((T, p0 + T), float("-inf")).triu(p0 + 1)[None, None]
        attns = []
        for l in range(self.L):
            p = f"model.layers.{l}."
            w = self.w
            h = self.rms(x, w[p + "input_layernorm.weight"])
            q = (h @ w[p + "self_attn.q_proj.weight"].T).view(1, T, self.H, self.hd)
            k = (h @ w[p + "self_attn.k_proj.weight"].T).view(1, T, self.KV, self.hd)
            v = (h @ w[p + "self_attn.v_proj.weight"].T).view(1, T, self.KV, self.hd).transpose(1, 2)
            q = self.rope(self.rms(q, w[p + "self_attn.q_norm.weight"]).transpose(1, 2), pos)
            k = self.rope(self.rms(k, w[p + "self_attn.k_norm.weight"]).transpose(1, 2), pos)
            if cache[l] is not None:
                k = torch.cat((cache[l][0], k), dim=2)
                v = torch.cat((cache[l][1], v), dim=2)
            cache[l] = (k, v)
            rep = self.H // self.KV
            kr = k.repeat_interleave(rep, dim=1)
            vr = v.repeat_interleave(rep, dim=1)
            s = (q @ kr.transpose(2, 3)) * self.hd ** -0.5 + mask
            a = torch.softmax(s, dim=-1, dtype=torch.float32)
            attns.append(a)
            o = (a @ vr).transpose(1, 2).reshape(1, T, self.H * self.hd)
            x = x + o @ w[p + "self_attn.o_proj.weight"].T
            h = self.rms(x, w[p + "post_attention_layernorm.weight"])
            g = torch.nn.functional.silu(h @ w[p + "mlp.gate_proj.weight"].T)
            x = x + (g * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
        return self.rms(x, self.w["model.norm.weight"]), attns


def run_unit(m, ids_a, ids_b, alpha, max_new):
    emb = (alpha * m.E[ids_a] + (1 - alpha) * m.E[ids_b])[None]
    cache = [None] * m.L
    h, att = m.forward(emb, cache, 0)
    maps = [att]
    pos = emb.shape[1]
    gen = []
    for s in range(max_new):
        tok = int(torch.argmax(h[0, -1] @ m.lm.T))
        gen.append(tok)
        h, att = m.forward(m.E[tok][None, None], cache, pos)  # last token fed too
        maps.append(att)
        pos += 1
    return gen, maps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--units", required=True, help="JSON file: [[ids_a, ids_b, alpha], ...]")
    ap.add_argument("--max-new", type=int, default=100)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    with open(a.units) as f:
        units = json.load(f)
    cfg, w = load(a.model)
    m = Qwen3(cfg, w)
    t0 = time.perf_counter()
    tokens = 0
    gens = []
    with torch.no_grad():
        for ids_a, ids_b, alpha in units:
            gen, maps = run_unit(m, torch.tensor(ids_a), torch.tensor(ids_b), float(alpha), a.max_new)
            tokens += len(gen)
            gens.append(gen)
            del maps
    dt = time.perf_counter() - t0
    print(json.dumps({"units": len(units), "seconds": dt, "tokens": tokens, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "gen": gens}))


if __name__ == "__main__":
    sys.exit(main())
