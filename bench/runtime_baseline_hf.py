#!/usr/bin/env python3
"""GPU baseline for `bench-runtime --backend cuda`: what the original
experiment did, with Hugging Face transformers on the same GPU. One unit
(pair, alpha) at a time: the mixed input embeddings alpha*E[a] + (1-alpha)*E[b]
go to model.generate(inputs_embeds=..., output_attentions=True,
return_dict_in_generate=True), greedy, bf16 weights, eager attention (the
implementation that can return attention probabilities), every new token
generated (no early stop at eos).

Same interface and output as runtime_baseline.py: one JSON line
{"units": n, "seconds": s, "tokens": t, "gen": [[...], ...], ...}.
"""
import argparse
import json
import sys
import time

import torch
import transformers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--units", required=True, help="JSON file: [[ids_a, ids_b, alpha], ...]")
    ap.add_argument("--max-new", type=int, default=100)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    with open(a.units) as f:
        units = json.load(f)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        a.model, dtype=torch.bfloat16, attn_implementation="eager").to("cuda").eval()
    E = model.get_input_embeddings().weight
    gens, tokens = [], 0
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.no_grad():
        for ids_a, ids_b, alpha in units:
            ea, eb = E[torch.tensor(ids_a, device="cuda")], E[torch.tensor(ids_b, device="cuda")]
            emb = (alpha * ea.float() + (1 - alpha) * eb.float()).to(torch.bfloat16)[None]
            out = model.generate(inputs_embeds=emb, attention_mask=torch.ones(emb.shape[:2], device="cuda"),
                                 max_new_tokens=a.max_new, min_new_tokens=a.max_new, do_sample=False,
                                 output_attentions=True, return_dict_in_generate=True, pad_token_id=0)
            seq = out.sequences[0].tolist()[-a.max_new:]
            tokens += len(seq)
            gens.append(seq)
            del out
    torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    print(json.dumps({"units": len(units), "seconds": dt, "tokens": tokens, "torch": torch.__version__,
                      "transformers": transformers.__version__, "gpu": torch.cuda.get_device_name(0),
                      "gen": gens}))


if __name__ == "__main__":
    sys.exit(main())
