#!/usr/bin/env bash
# Hub ids and chat templates end to end: `attnmix run` on a config naming the
# model by hub id (Qwen/Qwen3-tiny, found in a Hugging Face cache laid out by
# hand around the tiny checkpoint) with `template: chat-nothink` and
# `align: template`; the template tokens of both prompts line up in tokens.h5.
# A hub id that is not in the cache stops the run and the model's stages with
# the download command. The run's output directory is the viewer tests' input.
source "$(dirname "$0")/../pipeline/common.sh"
D=$1
rm -rf "$D"; mkdir -p "$D"
B=$ATTNMIX_BIN
REV=3c1f0b6e2a9d4c5b8e7f6a1d2c3b4a5968778695

# The cache, as huggingface_hub lays it out: refs/main -> snapshots/<rev>, files are links into blobs/.
make_model "$D/tiny"
repo=$D/hf/hub/models--Qwen--Qwen3-tiny
mkdir -p "$repo/refs" "$repo/blobs" "$repo/snapshots/$REV"
printf %s "$REV" > "$repo/refs/main"
for f in "$D"/tiny/*; do
  blob=$(sha256sum "$f" | cut -c1-40)
  cp "$f" "$repo/blobs/$blob"
  ln -s "../../blobs/$blob" "$repo/snapshots/$REV/$(basename "$f")"
done

cat > "$D/hub.yaml" <<YAML
experiment: access-test
output_dir: $D/out
seed: 3
models:
  - name: tiny
    checkpoint: Qwen/Qwen3-tiny
pairs:
  - key: capital
    a: "The capital of France is"
    b: "La capitale de la France est"
  - key: sums
    a: "12 + 7 ="
    b: "Nine times six equals"
alphas: [0, 0.5, 1]
template: chat-nothink
align: template
generation: {max_new_tokens: 5}
backend: cpu
threads: 2
YAML

# Not in the cache: the run stops before any stage, with the download command.
set +e
HF_HOME=$D/empty "$B/attnmix" run "$D/hub.yaml" > "$D/log0" 2>&1; rc=$?
set -e
[[ $rc != 0 ]] || fail "run with a hub id missing from the cache succeeded"
grep -q "models\[0\].checkpoint 'Qwen/Qwen3-tiny' is not a directory and not in the Hugging Face cache" "$D/log0" &&
  grep -q "huggingface-cli download Qwen/Qwen3-tiny" "$D/log0" || fail "no download command: $(cat "$D/log0")"
[[ ! -e $D/out/tiny/tokens.h5 ]] || fail "a stage ran"
set +e
HF_HOME=$D/empty "$B/attnmix-tokenize" --config "$D/hub.yaml" --model tiny > "$D/log0b" 2>&1; rc=$?
set -e
[[ $rc == 1 ]] && grep -q "huggingface-cli download Qwen/Qwen3-tiny" "$D/log0b" ||
  fail "tokenize with a missing hub id: rc $rc: $(cat "$D/log0b")"

# the tokenizer program takes the hub id too
[[ $(echo '"Hello"' | HF_HOME=$D/hf "$B/attnmix-tokenize" --tokenizer Qwen/Qwen3-tiny --jsonl) == "[9707]" ]] ||
  fail "attnmix-tokenize --tokenizer Qwen/Qwen3-tiny"

HF_HOME=$D/hf "$B/attnmix" run "$D/hub.yaml" -j 2 > "$D/log1" 2>&1 || { cat "$D/log1"; fail "attnmix run failed"; }
for f in tiny/tokens.h5 tiny/cube.h5 analysis.h5 figures/index.html; do
  [[ -s $D/out/$f ]] || fail "missing $D/out/$f"
done
h5dump -a /checkpoint "$D/out/tiny/cube.h5" | grep -q "$repo/snapshots/$REV\"" || fail "the cube was not made from the snapshot"

# The ids: the exact template text HF writes for each prompt, tokenized by the
# tokenizer (attnmix-tokenize --jsonl, tested against HF tokenizers), with the
# shorter prompt's pads right after "<|im_start|>user\n".
$PYTHON - "$D/out/tiny/tokens.h5" "$B/attnmix-tokenize" "$ATTNMIX_TOKENIZER_DIR" <<'PY' || fail "template alignment"
import json, subprocess, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f.attrs["template"] in ("chat-nothink", b"chat-nothink"), f.attrs["template"]
assert f.attrs["pad_side"] in ("template", b"template"), f.attrs["pad_side"]
pad = int(f.attrs["pad_id"])
prompts = {"capital": ("The capital of France is", "La capitale de la France est"),
           "sums": ("12 + 7 =", "Nine times six equals")}
hf = lambda t: "<|im_start|>user\n" + t + "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
# the same text from Qwen3's own chat template (tokenizer_config.json), rendered as HF's
# apply_chat_template renders it (jinja2, trim_blocks, lstrip_blocks)
import jinja2, jinja2.sandbox, os
cfg = json.load(open(os.path.join(sys.argv[3], "tokenizer_config.json")))
env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                   extensions=["jinja2.ext.loopcontrols"])
tpl = env.from_string(cfg["chat_template"])
for k in ("capital", "sums"):
    for t in prompts[k]:
        msgs = [{"role": "user", "content": t}]
        r = tpl.render(messages=msgs, add_generation_prompt=True, enable_thinking=False)
        assert r == hf(t), (r, hf(t))
        r = tpl.render(messages=msgs, add_generation_prompt=True)
        assert r == "<|im_start|>user\n" + t + "<|im_end|>\n<|im_start|>assistant\n", r
texts = [hf(t) for k in ("capital", "sums") for t in prompts[k]]
out = subprocess.run([sys.argv[2], "--tokenizer", sys.argv[3], "--jsonl"], input="\n".join(json.dumps(t) for t in texts) + "\n",
                     capture_output=True, text=True, check=True).stdout.split("\n")
ref = [json.loads(l) for l in out if l.strip()]
head, tail = [151644, 872, 198], [151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]
for p, key in enumerate(f["pair"].asstr()[()]):
    T = int(f["prompt_length"][p])
    rows = [f["ids_a"][p, :T].tolist(), f["ids_b"][p, :T].tolist()]
    for k in range(2):
        r = ref[2 * p + k]
        n_pad = T - len(r)
        assert int(f["pads"][p, k]) == n_pad, (key, k, n_pad)
        want = r[:3] + [pad] * n_pad + r[3:]
        assert rows[k] == want, (key, k, rows[k], want)
        assert rows[k][:3] == head and rows[k][-9:] == tail, (key, k)
    # every template token sits at the same position in both prompts
    assert rows[0][:3] == rows[1][:3] and rows[0][-9:] == rows[1][-9:]
    assert min(f["pads"][p]) == 0 and max(f["pads"][p]) > 0, f["pads"][p]
print("template alignment ok")
PY
echo "ok"
