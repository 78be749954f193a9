#!/usr/bin/python3
"""Checkpoint round trips between the C loader/writer and numpy.

  roundtrip.py ref  DUMPER   numpy reference writer -> C loader: every tensor's bytes
  roundtrip.py tool DUMPER   attnmix-make-checkpoint -> numpy reader vs C loader
  roundtrip.py cli  DUMPER   attnmix-make-checkpoint command line behaviour

DUMPER is the checkpoint-dump program (tests/checkpoint/ckpt_dump.c)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("ATTNMIX_SRC", os.path.dirname(os.path.dirname(HERE)))
BIN = os.environ.get("ATTNMIX_BIN", os.path.join(SRC, "build", "bin"))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tools"))
import np_safetensors  # noqa: E402
import write_checkpoint_ref  # noqa: E402

FIELDS = {"input_norm": "input_layernorm", "q_proj": "self_attn.q_proj",
          "k_proj": "self_attn.k_proj", "v_proj": "self_attn.v_proj",
          "o_proj": "self_attn.o_proj", "q_norm": "self_attn.q_norm",
          "k_norm": "self_attn.k_norm", "post_norm": "post_attention_layernorm",
          "gate_proj": "mlp.gate_proj", "up_proj": "mlp.up_proj", "down_proj": "mlp.down_proj"}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def expected_name(slot, tied):
    if slot == "embed" or (slot == "lm_head" and tied):
        return "model.embed_tokens.weight"
    if slot == "lm_head":
        return "lm_head.weight"
    if slot == "final_norm":
        return "model.norm.weight"
    _, l, f = slot.split(".")
    return "model.layers.%s.%s.weight" % (l, FIELDS[f])


def dump(dumper, d, work):
    binp = os.path.join(work, "dump.bin")
    r = subprocess.run([dumper, d, binp], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("checkpoint-dump %s failed: %s" % (d, r.stderr))
    meta = json.loads(r.stdout)
    with open(binp, "rb") as f:
        blob = f.read()
    return meta, blob


def slot_bytes(blob, s):
    return blob[s["offset"]:s["offset"] + s["nbytes"]]


def check_slots(meta, tied, L):
    slots = meta["slots"]
    check(len(slots) == 3 + 11 * L, "slot count %d" % len(slots))
    for s in slots:
        check(s["name"] == expected_name(s["slot"], tied),
              "slot %s bound to %s" % (s["slot"], s["name"]))


# ---- numpy reference writer -> C loader ---------------------------------------

def run_ref(dumper, work):
    for shards, mixed, seed in ((3, False, 11), (2, True, 12)):
        d = os.path.join(work, "ref-%d-%d" % (shards, mixed))
        tensors = write_checkpoint_ref.write(d, seed, shards, mixed)
        nfiles = len([f for f in os.listdir(d) if f.endswith(".safetensors")])
        check(nfiles == shards, "ref writer made %d shards" % nfiles)
        meta, blob = dump(dumper, d, work)
        cfg = write_checkpoint_ref.CONFIG
        check(meta["nfiles"] == shards, "loader saw %d files" % meta["nfiles"])
        for k in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                  "num_key_value_heads", "head_dim", "vocab_size"):
            check(meta["config"][k] == cfg[k], "config %s" % k)
        check(meta["config"]["eos_ids"] == [151645] and meta["config"]["rope_theta"] == 1e6,
              "eos/rope from config.json")
        check_slots(meta, False, cfg["num_hidden_layers"])
        seen = set()
        for s in meta["slots"]:
            dt, arr = tensors[s["name"]]
            seen.add(s["name"])
            check(s["dtype"] == dt, "%s dtype %s vs %s" % (s["name"], s["dtype"], dt))
            check(s["shape"] == list(arr.shape), "%s shape" % s["name"])
            check(slot_bytes(blob, s) == arr.tobytes(), "%s bytes differ from numpy" % s["name"])
        check(seen == set(tensors), "every written tensor bound")
        # a value check that does not go through bytes: bf16 decode of one matrix
        s = next(x for x in meta["slots"] if x["slot"] == "layers.1.down_proj")
        vals = write_checkpoint_ref.bf16_bits_to_f32(
            np.frombuffer(slot_bytes(blob, s), dtype="<u2")).reshape(s["shape"])
        check(abs(float(vals.std()) - 0.02) < 0.002, "ref down_proj std %g" % vals.std())
    print("ref: numpy-written checkpoints read back byte for byte")


# ---- attnmix-make-checkpoint -> numpy reader and C loader -------------------------

def header_of(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        raw = f.read(n)
    return n, raw


def check_layout(d, shards):
    files = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
    if shards == 1:
        check(files == ["model.safetensors"], "single file layout %s" % files)
    else:
        check(files == ["model-%05d-of-%05d.safetensors" % (i + 1, shards) for i in range(shards)],
              "shard names %s" % files)
        with open(os.path.join(d, "model.safetensors.index.json")) as f:
            idx = json.load(f)
    prev_last, total = "", 0
    for fn in files:
        n, raw = header_of(os.path.join(d, fn))
        check(n % 8 == 0 and raw.decode().rstrip(" ") == raw.decode().rstrip(),
              "%s header padded with spaces to 8 bytes" % fn)
        h = json.loads(raw)
        keys = list(h)
        check(keys[0] == "__metadata__" and h["__metadata__"] == {"format": "pt"}, "metadata")
        names = keys[1:]
        check(names == sorted(names), "%s tensors in alphabetical order" % fn)
        check(names[0] > prev_last, "shards hold consecutive runs of names")
        prev_last = names[-1]
        offs = [h[k]["data_offsets"] for k in names]
        check(offs[0][0] == 0 and all(offs[i][1] == offs[i + 1][0] for i in range(len(offs) - 1)),
              "%s data stored contiguously in name order" % fn)
        check(os.path.getsize(os.path.join(d, fn)) == 8 + n + offs[-1][1], "%s size" % fn)
        total += offs[-1][1]
        if shards > 1:
            check(all(idx["weight_map"][k] == fn for k in names), "index weight_map for %s" % fn)
    if shards > 1:
        check(idx["metadata"]["total_size"] == total, "index total_size %d vs %d"
              % (idx["metadata"]["total_size"], total))


def check_configs(d, preset_dtype):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    with open(os.path.join(d, "generation_config.json")) as f:
        g = json.load(f)
    for k in ("architectures", "model_type", "hidden_size", "intermediate_size", "num_hidden_layers",
              "num_attention_heads", "num_key_value_heads", "head_dim", "vocab_size",
              "max_position_embeddings", "rms_norm_eps", "rope_theta", "tie_word_embeddings",
              "torch_dtype", "bos_token_id", "eos_token_id", "hidden_act"):
        check(k in c, "config.json has %s" % k)
    check(c["architectures"] == ["Qwen3ForCausalLM"] and c["model_type"] == "qwen3", "arch")
    check(c["torch_dtype"] == preset_dtype, "torch_dtype %s" % c["torch_dtype"])
    check(c["rms_norm_eps"] == 1e-6 and c["rope_theta"] == 1000000 and
          c["max_position_embeddings"] == 40960, "eps/theta/max_pos")
    check(g["eos_token_id"] == [151645, 151643] and g["bos_token_id"] == 151643, "generation_config")
    return c


def make(preset, out, *args):
    r = subprocess.run([os.path.join(BIN, "attnmix-make-checkpoint"), "--preset", preset,
                        "--out", out, "--quiet"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("attnmix-make-checkpoint failed: " + r.stderr)


def run_tool(dumper, work):
    results = {}
    for dtype, shards, tdt in (("bf16", 3, "bfloat16"), ("f16", 1, "float16")):
        d = os.path.join(work, "tiny-" + dtype)
        make("tiny", d, "--dtype", dtype, "--shards", str(shards), "--seed", "21")
        check_layout(d, shards)
        c = check_configs(d, tdt)
        np_t = np_safetensors.read_checkpoint(d)
        meta, blob = dump(dumper, d, work)
        check_slots(meta, True, c["num_hidden_layers"])
        check(meta["nfiles"] == shards, "nfiles")
        for k in ("hidden_size", "num_hidden_layers", "head_dim", "vocab_size"):
            check(meta["config"][k] == c[k], "loader config %s" % k)
        check(meta["config"]["eos_ids"] == [151645, 151643], "loader eos from generation_config")
        check(len(np_t) == 2 + 11 * c["num_hidden_layers"], "tensor count (tied: no lm_head)")
        for s in meta["slots"]:
            dt, vals, raw = np_t[s["name"]]
            check(s["dtype"] == dt and s["shape"] == list(vals.shape), "%s dtype/shape" % s["name"])
            check(slot_bytes(blob, s) == raw, "%s: loader bytes differ from numpy reader" % s["name"])
        # distributions
        for name, (dt, vals, _) in np_t.items():
            if vals.ndim == 2:
                check(abs(float(vals.mean())) < 2e-3 * 0.02 * 50 and
                      abs(float(vals.std()) - 0.02) < 0.02 * 0.05, "%s mean %g std %g"
                      % (name, vals.mean(), vals.std()))
            elif "q_norm" in name or "k_norm" in name:
                check(vals.min() >= 1.79 and vals.max() <= 2.21 and np.ptp(vals) > 0.1,
                      "%s range" % name)
            else:
                check(vals.min() >= 0.898 and vals.max() <= 1.102 and np.ptp(vals) > 0.05,
                      "%s range" % name)
        results[dtype] = np_t
    # the same seed in two dtypes: the same values up to rounding
    for name, (_, vb, _) in results["bf16"].items():
        vh = results["f16"][name][1]
        check(np.allclose(vb, vh, rtol=2 ** -8, atol=1e-7), "%s bf16 vs f16 values" % name)
    print("tool: make-checkpoint output matches between numpy reader and C loader")


# ---- command line -------------------------------------------------------------

def run_cli(dumper, work):
    exe = os.path.join(BIN, "attnmix-make-checkpoint")

    def run(*args):
        return subprocess.run([exe] + list(args), capture_output=True, text=True)

    r = run("--help")
    check(r.returncode == 0 and "usage:" in r.stdout and "qwen3-14b" in r.stdout, "--help")
    for args in ([], ["--preset", "tiny"], ["--preset", "nope", "--out", "x"],
                 ["--preset", "tiny", "--out", "x", "--dtype", "i8"],
                 ["--preset", "tiny", "--out", "x", "--shards", "0"],
                 ["--preset", "tiny", "--out", "x", "--qk-scale", "-1"], ["--bogus"]):
        r = run(*args)
        check(r.returncode == 2 and "attnmix-make-checkpoint" in r.stderr, "misuse %s -> %d"
              % (args, r.returncode))
    check(not os.path.exists("x"), "misuse wrote nothing")
    d = os.path.join(work, "models", "deep", "tiny")  # parents are created
    tok = os.environ.get("ATTNMIX_TOKENIZER_DIR", "")
    targs = ["--tokenizer", tok] if os.path.isfile(os.path.join(tok, "tokenizer.json")) else []
    r = run("--preset", "tiny", "--out", d, "--seed", "1", *targs)
    check(r.returncode == 0, "write tiny: " + r.stderr)
    if targs:
        with open(os.path.join(tok, "tokenizer.json"), "rb") as a, \
                open(os.path.join(d, "tokenizer.json"), "rb") as b:
            check(a.read() == b.read(), "tokenizer.json copied")
        check(os.path.exists(os.path.join(d, "tokenizer_config.json")), "tokenizer_config.json copied")
    r = run("--preset", "tiny", "--out", d)
    check(r.returncode == 1 and "already holds a checkpoint" in r.stderr and
          r.stderr.startswith("attnmix-make-checkpoint: "), "refuse overwrite: " + r.stderr)
    r = run("--preset", "tiny", "--out", d, "--force", "--shards", "2", "--seed", "2")
    check(r.returncode == 0, "--force: " + r.stderr)
    check(sorted(os.listdir(d)) == sorted(
        ["config.json", "generation_config.json", "model.safetensors.index.json",
         "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]),
        "--force replaced the directory: %s" % os.listdir(d))
    left = [f for f in os.listdir(os.path.dirname(d)) if ".tmp-" in f or ".old-" in f]
    check(not left, "temporary directories left: %s" % left)
    # loader errors reach the exit status with the file named
    shard = os.path.join(d, "model-00002-of-00002.safetensors")
    size = os.path.getsize(shard)
    with open(shard, "r+b") as f:
        f.truncate(size - 100)
    r = subprocess.run([dumper, d, os.path.join(work, "x.bin")], capture_output=True, text=True)
    check(r.returncode == 1 and "model-00002-of-00002.safetensors" in r.stderr and
          "truncated" in r.stderr, "truncated shard: " + r.stderr)
    os.remove(shard)
    r = subprocess.run([dumper, d, os.path.join(work, "x.bin")], capture_output=True, text=True)
    check(r.returncode == 1 and "does not exist" in r.stderr, "missing shard: " + r.stderr)
    print("cli: make-checkpoint options, overwrite protection and loader errors")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("ref", "tool", "cli"):
        print(__doc__, file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="ckpt-%s-" % sys.argv[1], dir=".")
    {"ref": run_ref, "tool": run_tool, "cli": run_cli}[sys.argv[1]](sys.argv[2], work)
    if failures:
        print("%d failures (files kept in %s)" % (len(failures), work), file=sys.stderr)
        return 1
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
