#!/usr/bin/python3
"""The mix modes of embed-mix (config key mix: linear | slerp | norm) against
numpy on the tiny synthetic checkpoint: every (pair, alpha, position) row of
mix.h5 equals the numpy interpolation of the two embedding rows (read from
the safetensors by tests/checkpoint/np_safetensors.py) to float32 rounding,
alpha 1 and 0 give E[a] and E[b], the mode is recorded in the provenance of
mix.h5, prefill.h5 and cube.h5, and an unknown mode is refused with its
line and column."""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

SRC = os.environ.get("ATTNMIX_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ATTNMIX_BIN", os.path.join(SRC, "build", "bin"))
TOK = os.environ["ATTNMIX_TOKENIZER_DIR"]
sys.path.insert(0, os.path.join(SRC, "tests", "checkpoint"))
import np_safetensors  # noqa: E402

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


def ref_mix(a, b, alpha, mode):
    """numpy reference, float64."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if mode == "linear":
        return np.float32(alpha) * a.astype(np.float32) + np.float32(1 - alpha) * b.astype(np.float32)
    if mode == "slerp":
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        c = np.clip(a @ b / (na * nb), -1, 1) if na > 0 and nb > 0 else 1.0
        t = np.arccos(c)
        if np.sin(t) < 1e-7:
            return alpha * a + (1 - alpha) * b
        return np.sin(alpha * t) / np.sin(t) * a + np.sin((1 - alpha) * t) / np.sin(t) * b
    m = alpha * a + (1 - alpha) * b
    nm = np.linalg.norm(m)
    return m * (alpha * np.linalg.norm(a) + (1 - alpha) * np.linalg.norm(b)) / nm if nm > 0 else m


def config(path, out, ckpt, mode):
    with open(path, "w") as f:
        f.write(f"""experiment: mix-test
output_dir: {out}
models:
  - name: tiny
    checkpoint: {ckpt}
pairs:
  - key: capital
    a: "The capital of France is"
    b: "La capitale de la France est"
  - key: same
    a: "one two three"
    b: "one two four"
alphas: [0, 0.3, 0.5, 0.9, 1]
{"" if mode is None else "mix: " + mode}
generation:
  max_new_tokens: 3
""")


def run(*args, expect=0):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != expect:
        fail(f"{' '.join(args)}: exit {r.returncode}, expected {expect}\n{r.stderr}")
    return r


def main():
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, "tiny")
        run(os.path.join(BIN, "attnmix-make-checkpoint"), "--preset", "tiny", "--seed", "7", "--tokenizer", TOK,
            "--out", ckpt, "--quiet")
        E = np_safetensors.read_checkpoint(ckpt)["model.embed_tokens.weight"][1]
        for mode in (None, "linear", "slerp", "norm"):
            name = mode or "default"
            cfg = os.path.join(tmp, f"{name}.yaml")
            out = os.path.join(tmp, name)
            config(cfg, out, ckpt, mode)
            run(os.path.join(BIN, "attnmix-tokenize"), "--config", cfg, "--quiet")
            run(os.path.join(BIN, "attnmix-embed-mix"), "--config", cfg, "--quiet")
            with h5py.File(os.path.join(out, "tiny", "mix.h5"), "r") as f:
                want_mode = mode or "linear"
                got = f.attrs["mix"]
                got = got.decode() if isinstance(got, bytes) else got
                if got != want_mode:
                    fail(f"{name}: mix.h5 records mix = {got!r}")
                emb = f["embeddings"][()]
                ia, ib, plen, alphas = f["ids_a"][()], f["ids_b"][()], f["prompt_length"][()], f["alpha"][()]
                worst = 0.0
                for p in range(emb.shape[0]):
                    for a, al in enumerate(alphas):
                        for t in range(plen[p]):
                            ea, eb = E[ia[p, t]], E[ib[p, t]]
                            want = ref_mix(ea, eb, al, want_mode)
                            got_row = emb[p, a, t].astype(np.float64)
                            err = np.max(np.abs(got_row - want)) / max(np.max(np.abs(want)), 1e-30)
                            worst = max(worst, err)
                            if al == 1.0 and not np.array_equal(emb[p, a, t], ea.astype(np.float32)):
                                fail(f"{name}: alpha 1 is not E[a] at pair {p} position {t}")
                            if al == 0.0 and not np.array_equal(emb[p, a, t], eb.astype(np.float32)):
                                fail(f"{name}: alpha 0 is not E[b] at pair {p} position {t}")
                tol = 0 if want_mode == "linear" else 2e-7
                if worst > tol:
                    fail(f"{name}: largest relative difference to numpy {worst:.3g} > {tol}")
                print(f"{name}: {emb.shape[0]}x{emb.shape[1]} units, max relative difference to numpy {worst:.3g}")
        # the mode reaches the cube (provenance) through forward and generate
        cfg = os.path.join(tmp, "slerp.yaml")
        run(os.path.join(BIN, "attnmix-forward"), "--config", cfg, "--quiet")
        run(os.path.join(BIN, "attnmix-generate"), "--config", cfg, "--quiet")
        for fn in ("prefill.h5", "cube.h5"):
            with h5py.File(os.path.join(tmp, "slerp", "tiny", fn), "r") as f:
                got = f.attrs.get("mix")
                got = got.decode() if isinstance(got, bytes) else got
                if got != "slerp":
                    fail(f"{fn} records mix = {got!r}")
        # ... and into the analysis of that cube
        ana = os.path.join(tmp, "analysis.h5")
        run(os.path.join(BIN, "attnmix-analyze"), "--quiet", "--iterations", "250", "--no-key-tsne", "--out", ana,
            os.path.join(tmp, "slerp", "tiny", "cube.h5"))
        with h5py.File(ana, "r") as f:
            modes = [m.decode() if isinstance(m, bytes) else m for m in f.attrs["mix_modes"]]
            if modes != ["slerp"] or "tsne_key" in f["points"]:
                fail(f"analysis.h5 mix_modes {modes}, or --no-key-tsne not honoured")
        # modes differ where the prompts differ, and agree where the tokens are equal
        with h5py.File(os.path.join(tmp, "linear", "tiny", "mix.h5"), "r") as fl, \
                h5py.File(os.path.join(tmp, "slerp", "tiny", "mix.h5"), "r") as fs:
            if np.array_equal(fl["embeddings"][0, 2], fs["embeddings"][0, 2]):
                fail("slerp and linear agree at alpha 0.5 on different prompts")
        # an unknown mode: usage error naming the key, line and column
        bad = os.path.join(tmp, "bad.yaml")
        config(bad, os.path.join(tmp, "bad"), ckpt, "cubic")
        r = run(os.path.join(BIN, "attnmix-tokenize"), "--config", bad, "--quiet", expect=2)
        if "mix" not in r.stderr or "bad.yaml:" not in r.stderr or "slerp" not in r.stderr:
            fail(f"unknown mix mode message: {r.stderr!r}")
    print(f"test_mix_modes: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
