#!/usr/bin/python3
"""attnmix-induction on the hand-set `circuit` checkpoint (attnmix-make-checkpoint
--preset circuit, whose layer 1 head 0 is an induction head): the file's
contract (schema attnmix.induction/1, /score float64 [L, H], root attributes),
the scores (layer 1 head 0 high, every other head low), a second run that is a
no-op, recomputation when R changes or with --force, and the command line."""
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from test_util import check, finish, fnv1a  # noqa: E402

BIN = os.environ["ATTNMIX_BIN"]
D = os.path.abspath(sys.argv[1])


def induction(*args):
    return subprocess.run([os.path.join(BIN, "attnmix-induction"), *args], capture_output=True, text=True)


shutil.rmtree(D, ignore_errors=True)
os.makedirs(D)
ck = os.path.join(D, "circuit")
subprocess.run([f"{BIN}/attnmix-make-checkpoint", "--preset", "circuit", "--dtype", "f32", "--seed", "3",
                "--out", ck, "--force", "--quiet"], check=True)
cfg_json = json.load(open(os.path.join(ck, "config.json")))
L, H = cfg_json["num_hidden_layers"], cfg_json["num_attention_heads"]
out = os.path.join(D, "out")
cfg = os.path.join(D, "c.yaml")
text = (f"experiment: induction-test\noutput_dir: {out}\nseed: 9\nmodels:\n  - name: circuit\n    checkpoint: {ck}\n"
        "pairs:\n  - key: p\n    a: \"a\"\n    b: \"b\"\nalphas: [0, 1]\nbackend: cpu\n")
open(cfg, "w").write(text)

# command line
r = induction("--help")
check(r.returncode == 0 and r.stdout.startswith("usage: attnmix-induction"), f"--help: {r.returncode}")
for args in [[], ["--config", cfg, "--tokens", "1"], ["--config", cfg, "--seqs", "x"], ["--config", cfg, "extra"],
             ["--bogus"]]:
    r = induction(*args)
    check(r.returncode == 2 and "attnmix-induction" in r.stderr, f"misuse {args}: rc {r.returncode}")
r = induction("--config", cfg, "--model", "nope")
check(r.returncode in (1, 2) and "nope" in r.stderr, f"unknown model: rc {r.returncode} {r.stderr.strip()}")
bad_cfg = os.path.join(D, "bad.yaml")
open(bad_cfg, "w").write(text.replace(f"checkpoint: {ck}", f"checkpoint: {D}/no-such-checkpoint"))
r = induction("--config", bad_cfg, "--out", os.path.join(D, "bad.h5"))
check(r.returncode == 1 and "no-such-checkpoint" in r.stderr and not os.path.exists(os.path.join(D, "bad.h5")),
      f"missing checkpoint: rc {r.returncode} {r.stderr.strip()}")

# first run: the default output path and the contract
path = os.path.join(out, "circuit", "induction.h5")
r = induction("--config", cfg, "--model", "circuit", "--threads", "2")
check(r.returncode == 0, f"run failed: {r.stderr.strip()}")
check(not [n for n in os.listdir(os.path.dirname(path)) if ".tmp-" in n], "temporary file left behind")
with h5py.File(path, "r") as f:
    a = f.attrs
    get = lambda k: a[k].decode() if isinstance(a[k], bytes) else a[k]  # noqa: E731
    check(get("schema") == "attnmix.induction/1", f"schema {a.get('schema')}")
    check(get("model") == "circuit", "model attribute")
    check(len(get("checkpoint_fingerprint")) == 16, "checkpoint_fingerprint")
    check(int(a["induction_tokens"]) == 32 and int(a["induction_seqs"]) == 4, "induction_tokens / induction_seqs")
    check(int(a["seed"]) == 9, f"seed {a.get('seed')}")
    check(get("config_hash") == fnv1a(text.encode()), "config_hash")
    for k in ["fingerprint", "config_yaml", "attnmix_version", "created", "backend"]:
        check(k in a, f"provenance attribute {k} missing")
    s = f["score"]
    check(s.dtype == np.float64 and s.shape == (L, H), f"/score {s.dtype} {s.shape}, expected float64 {(L, H)}")
    score = s[()]
    check([s.dims[i].label for i in range(2)] == ["layer", "head"], "score dimension labels")
    check(np.array_equal(f["layer"][()], np.arange(L)) and np.array_equal(f["head"][()], np.arange(H)), "layer/head scales")
    fp = get("fingerprint")
print("scores:\n", np.array2string(score, precision=3))
check(score[1, 0] > 0.9, f"layer 1 head 0 induction score {score[1, 0]:.3f}")
others = [score[l, h] for l in range(L) for h in range(H) if (l, h) != (1, 0)]
check(max(others) < 0.2, f"other heads score up to {max(others):.3f}")
check(np.all(score >= 0) and np.all(score <= 1), "scores outside [0, 1]")

# second run: up to date, the file untouched
ino = os.stat(path).st_ino
r = induction("--config", cfg, "--model", "circuit")
check(r.returncode == 0 and "up to date" in r.stderr and os.stat(path).st_ino == ino, f"second run: {r.stderr.strip()}")
# other R: recomputed (another fingerprint); --force: rewritten; --out elsewhere
other = os.path.join(D, "r16.h5")
r = induction("--config", cfg, "--tokens", "16", "--seqs", "2", "--out", other, "--quiet")
check(r.returncode == 0 and r.stderr == "", f"--tokens 16: {r.returncode} {r.stderr.strip()}")
with h5py.File(other, "r") as f:
    check(int(f.attrs["induction_tokens"]) == 16 and int(f.attrs["induction_seqs"]) == 2, "R/B recorded")
    fp16 = f.attrs["fingerprint"]
    check((fp16.decode() if isinstance(fp16, bytes) else fp16) != fp, "R and B are part of the fingerprint")
    check(f["score"][1, 0] > 0.9, "R = 16: induction head")
r = induction("--config", cfg, "--force", "--quiet")
check(r.returncode == 0 and os.stat(path).st_ino != ino, "--force rewrites")

finish("induction")
