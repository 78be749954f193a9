#!/usr/bin/env bash
# Generation modes of the study (docs/config.md, `generation`): top_k, the
# checkpoint's generation_config.json sampling with a recorded seed, and
# teacher forcing (every alpha of a pair fed one continuation).
source "$(dirname "$0")/../pipeline/common.sh"
D=$1
mkdir -p "$D"
make_model "$D/tiny"
B=$ATTNMIX_BIN

# gen NAME SEED 'GENERATION MAPPING' : the model stages on a config with that
# generation block; the cube is $D/NAME/tiny/cube.h5
gen() {
  local name=$1 seed=$2 g=$3
  write_config "$D/$name.yaml" "$D/$name" "$D/tiny" 8
  sed -i "s/^seed: 3/seed: $seed/; s/^  max_new_tokens: 8/  max_new_tokens: 8\n$g/" "$D/$name.yaml"
  rm -rf "$D/$name"
  for st in tokenize embed-mix forward generate; do "$B/attnmix-$st" --config "$D/$name.yaml" --quiet; done
}
gen greedy 3 "  mode: greedy"
gen topk1 3 "  mode: sample\n  top_k: 1"
gen topk2 5 "  mode: sample\n  temperature: 50\n  top_k: 2"
gen ckpt3 3 "  mode: checkpoint"
gen ckpt3b 3 "  mode: checkpoint"
gen ckpt4 4 "  mode: checkpoint"
gen t1 4 "  mode: checkpoint\n  teacher: alpha1"
gen t0 3 "  mode: greedy\n  teacher: alpha0"
gen tt 3 "  teacher: text\n  teacher_text: \" Paris is the capital and the largest city of France.\""

"$PYTHON" - "$D" "$ATTNMIX_TOKENIZER_DIR" <<'PY'
import sys, h5py, numpy as np, json, subprocess, os
D = sys.argv[1]
def cube(n):
    f = h5py.File(f"{D}/{n}/tiny/cube.h5", "r")
    return f, f["generated_ids"][()]
def fail(m): sys.exit("FAIL: " + m)
f, g = cube("greedy")
assert f.attrs["generation"] == "greedy" and f.attrs["generation_temperature"] == 0, dict(f.attrs)
# top_k 1 keeps only the most probable token: sampling is then greedy
_, k1 = cube("topk1")
if not np.array_equal(k1, g): fail(f"top_k 1 differs from greedy:\n{k1}\n{g}")
# top_k 2 at a high temperature: every first token is one of the two most probable after the prompt
fk, k2 = cube("topk2")
logits = h5py.File(f"{D}/topk2/tiny/prefill.h5", "r")["logits"][()]
top2 = np.argsort(-logits, axis=-1)[..., :2]
first = k2[..., 0]
if not all(first[p, a] in top2[p, a] for p in range(first.shape[0]) for a in range(first.shape[1])):
    fail(f"top_k 2 picked outside the top 2: {first} vs {top2}")
if (first == top2[..., 0]).all():
    fail("top_k 2 at temperature 50 never picked the second token (the check would show nothing)")
if fk.attrs["generation_top_k"] != 2 or fk.attrs["generation_temperature"] != 50:
    fail("sample parameters not recorded")
# checkpoint mode: Qwen3's generation_config.json (do_sample, 0.6, 20, 0.95)
f3, c3 = cube("ckpt3"); _, c3b = cube("ckpt3b"); _, c4 = cube("ckpt4")
a = f3.attrs
if (a["generation"], a["generation_temperature"], a["generation_top_k"], a["generation_top_p"], a["generation_seed"]) != \
        ("checkpoint", 0.6, 20, 0.95, 3):
    fail(f"checkpoint mode parameters not recorded: {dict(a)}")
if not np.array_equal(c3, c3b): fail("same seed, different samples")
if np.array_equal(c3, c4): fail("seeds 3 and 4 gave the same samples")
if np.array_equal(c3, g): fail("checkpoint sampling equals greedy")
# teacher forcing on alpha 1 (alphas 0, .5, 1): every alpha of a pair has alpha 1's tokens
ft, t1 = cube("t1")
if ft.attrs["teacher"] != "alpha1": fail("teacher not recorded")
for p in range(t1.shape[0]):
    for a in range(3):
        if not np.array_equal(t1[p, a], t1[p, 2]): fail(f"teacher alpha1: pair {p} alpha {a} differs: {t1[p]}")
if not (ft["length"][()] == ft["length"][()][:, 2:3]).all(): fail("teacher alpha1: lengths differ across alphas")
# and the source units generate as they would live (seed 4, checkpoint mode)
_, c4 = cube("ckpt4")
if not np.array_equal(t1[:, 2], c4[:, 2]): fail("teacher alpha1 changed alpha 1's own generation")
# the live mode differs across alphas here (else the test shows nothing)
if all(np.array_equal(c4[p, 0], c4[p, 2]) for p in range(c4.shape[0])): fail("live alphas agree already")
_, t0 = cube("t0")
for p in range(t0.shape[0]):
    for a in range(3):
        if not np.array_equal(t0[p, a], g[p, 0]): fail(f"teacher alpha0: pair {p} alpha {a} is not alpha 0's greedy text")
# a given text: its tokens (no special tokens), cut at max_new_tokens
_, tt = cube("tt")
text = " Paris is the capital and the largest city of France."
out = subprocess.run([os.environ["ATTNMIX_BIN"] + "/attnmix-tokenize", "--tokenizer", sys.argv[2], "--jsonl"],
                     input=json.dumps(text) + "\n", capture_output=True, text=True, check=True).stdout
ids = json.loads(out)[:8]
for p in range(tt.shape[0]):
    for a in range(3):
        if list(tt[p, a][tt[p, a] >= 0]) != ids: fail(f"teacher text: pair {p} alpha {a}: {tt[p, a]} != {ids}")
print("generation modes ok")
PY

# A teacher the alphas cannot serve is refused, naming the key.
write_config "$D/bad.yaml" "$D/bad" "$D/tiny" 4 float32 "[0, 0.5]"
sed -i "s/^  max_new_tokens: 4/  max_new_tokens: 4\n  teacher: alpha1/" "$D/bad.yaml"
rm -rf "$D/bad"
for st in tokenize embed-mix forward; do "$B/attnmix-$st" --config "$D/bad.yaml" --quiet; done
set +e
msg=$("$B/attnmix-generate" --config "$D/bad.yaml" --quiet 2>&1); rc=$?
set -e
[[ $rc == 2 && $msg == *"generation.teacher"*"alpha 1"* ]] || fail "teacher alpha1 without alpha 1 (rc=$rc): $msg"
[[ ! -e $D/bad/tiny/cube.h5 ]] || fail "refused generate left a cube"
echo "ok"
