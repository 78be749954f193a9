#!/usr/bin/python3
"""Writes the seed corpora of the text/JSON harnesses into corpus/<harness>/:
valid examples and edge cases. Usage: make_seeds.py TOKENIZER_JSON CONFIG_JSON_DIR
(the real tokenizer.json, a synthetic checkpoint directory for config.json).
The HDF5 seeds come from the fuzz_h5_stage harness itself
(ATTNMIX_FUZZ_WRITE_SEEDS=corpus/fuzz_h5_stage)."""
import json, os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
tok_path, ckpt = sys.argv[1], sys.argv[2]


def put(harness, name, data):
    d = os.path.join(here, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def st(header, data=b"", hl=None):
    h = json.dumps(header, separators=(",", ":")).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(h) if hl is None else hl) + h + data


# ---- safetensors -------------------------------------------------------------
ok = {"__metadata__": {"format": "pt"},
      "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
      "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]},
      "c": {"dtype": "F16", "shape": [1, 1, 1, 2], "data_offsets": [22, 26]}}
put("fuzz_safetensors", "valid", st(ok, bytes(range(26))))
put("fuzz_safetensors", "padded_header", st(json.dumps(ok).encode() + b"    ", bytes(26)))
put("fuzz_safetensors", "claims_1tb_header", struct.pack("<Q", 1 << 40) + b"{}")
put("fuzz_safetensors", "truncated_data", st(ok, bytes(20)))
put("fuzz_safetensors", "overlap", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                       "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)))
put("fuzz_safetensors", "shape_overflow", st({"a": {"dtype": "F32", "shape": [1 << 40, 1 << 40],
                                                    "data_offsets": [0, 0]}}))
put("fuzz_safetensors", "bad_dtype", st({"a": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}, bytes(8)))
put("fuzz_safetensors", "empty_object", st({}))
put("fuzz_safetensors", "short", b"\x02\x00\x00")

# ---- sharded index (the harness provides a-00001 with x, y and b-00002 with z)
idx = {"metadata": {"total_size": 30},
       "weight_map": {"x": "a-00001.safetensors", "y": "a-00001.safetensors", "z": "b-00002.safetensors"}}
put("fuzz_st_index", "valid", json.dumps(idx, indent=2))
put("fuzz_st_index", "missing_shard", json.dumps({"weight_map": {"x": "c-00003.safetensors"}}))
put("fuzz_st_index", "wrong_shard", json.dumps({"weight_map": {"x": "b-00002.safetensors", "y": "a-00001.safetensors",
                                                               "z": "b-00002.safetensors"}}))
put("fuzz_st_index", "traversal", json.dumps({"weight_map": {"x": "../a-00001.safetensors"}}))
put("fuzz_st_index", "not_listed", json.dumps({"weight_map": {"x": "a-00001.safetensors"}}))
put("fuzz_st_index", "empty_map", '{"weight_map": {}}')

# ---- config.json [+ NUL + generation_config.json] ----------------------------
cfg = open(os.path.join(ckpt, "config.json"), "rb").read()
gen = open(os.path.join(ckpt, "generation_config.json"), "rb").read()
put("fuzz_qwen3_config", "valid", cfg)
put("fuzz_qwen3_config", "valid_with_generation", cfg + b"\0" + gen)
c = json.loads(cfg)
for name, edit in [("kv_not_divisor", {"num_key_value_heads": 3}), ("odd_head_dim", {"head_dim": 7}),
                   ("huge_layers", {"num_hidden_layers": 2147483647}), ("negative_vocab", {"vocab_size": -5}),
                   ("rope_yarn", {"rope_scaling": {"rope_type": "yarn", "factor": 4}}),
                   ("eos_list_long", {"eos_token_id": list(range(20))}), ("string_int", {"hidden_size": "64"}),
                   ("int_overflow", {"hidden_size": 1 << 40}), ("small_positions", {"max_position_embeddings": 8})]:
    put("fuzz_qwen3_config", name, json.dumps({**c, **edit}))
put("fuzz_qwen3_config", "gen_bad", cfg + b"\0" + b'{"eos_token_id": [-1]}')

# ---- tokenizer.json: a small byte-level BPE with the Qwen3 pre-tokenizer ----
real = json.load(open(tok_path, encoding="utf-8"))
vocab = {}
for k, v in real["model"]["vocab"].items():
    if v < 400:
        vocab[k] = v
merges = []
for m in real["model"]["merges"][:2000]:
    a, b = m if isinstance(m, list) else m.split(" ")
    if a in vocab and b in vocab and a + b in vocab:
        merges.append([a, b])
n = max(vocab.values()) + 1
added = [dict(t, id=n + i) for i, t in enumerate(real["added_tokens"][:4])]
small = dict(real, added_tokens=added, model=dict(real["model"], vocab=vocab, merges=merges))
put("fuzz_tokenizer_load", "small_bpe", json.dumps(small, ensure_ascii=False))
put("fuzz_tokenizer_load", "string_merges",
    json.dumps(dict(small, model=dict(small["model"], merges=[" ".join(m) for m in merges])), ensure_ascii=False))
put("fuzz_tokenizer_load", "sparse_id", json.dumps(dict(small, model=dict(small["model"], vocab={**vocab, "zz": 2000000000}))))
put("fuzz_tokenizer_load", "bad_regex", json.dumps(small).replace("(?i:", "(?i:(", 1))
put("fuzz_tokenizer_load", "no_model", '{"added_tokens": []}')

# ---- texts for the real tokenizer --------------------------------------------
texts = {"ascii": "The capital of France is Paris.", "numbers": "12 + 7 = 19; 3.14159e-10",
         "cjk": "日本語のテキストと中文", "emoji": "👩‍👩‍👧 family 🇫🇷", "combining": "e\u0301 vs \u00e9, A\u030a",
         "special": "<|im_start|>user\nhi<|im_end|><|endoftext|>", "whitespace": " \t\n\r\n   x  \n\n",
         "long_word": "a" * 3000, "mixed_scripts": "Привет мир مرحبا שלום"}
for k, v in texts.items():
    put("fuzz_tok_encode", k, v)
put("fuzz_tok_encode", "invalid_utf8", b"ok \xff\xfe then \xc0\xaf overlong \xed\xa0\x80 surrogate")
put("fuzz_tok_encode", "nul", b"a\x00b")
