#!/usr/bin/env bash
# Hostile experiment inputs: each refused with a message naming the file and
# the object, non-zero exit, no output; the fixed input then runs.
#   empty prompt, duplicate pair keys, alphas outside [0, 1] (warned, allowed),
#   a tokenizer whose ids the model's vocabulary does not hold, prompts longer
#   than max_position_embeddings.
source "$(dirname "$0")/common.sh"
D=$1
rm -rf "$D"; mkdir -p "$D"
make_model "$D/tiny"

# cfg FILE OUT [PAIRS_YAML] [ALPHAS] [EXTRA_MODEL_LINES] [MAX_NEW]
cfg() {
  local file=$1 out=$2 pairs=${3:-} alphas=${4:-"[0, 1]"} extra=${5:-} n=${6:-2}
  [[ -n $pairs ]] || pairs='  - key: one
    a: "The capital of France is"
    b: "Paris"'
  cat > "$file" <<YAML
experiment: reliability
output_dir: $out
models:
  - name: tiny
    checkpoint: $D/tiny
$extra
pairs:
$pairs
alphas: $alphas
generation:
  max_new_tokens: $n
backend: cpu
threads: 1
YAML
}

echo "empty prompt" >&2
cfg "$D/empty.yaml" "$D/o-empty" '  - key: one
    a: ""
    b: "Paris"'
refuse "empty prompt" "$B/attnmix-tokenize" --config "$D/empty.yaml"
says "empty prompt" "empty.yaml:" "pairs[0].a" "must not be empty"
refuse "empty prompt (driver)" "$B/attnmix" run "$D/empty.yaml"
says "empty prompt (driver)" "empty.yaml:" "pairs[0].a"
no_output "$D/o-empty"

echo "duplicate pair keys" >&2
cfg "$D/dup.yaml" "$D/o-dup" '  - key: one
    a: "The capital of France is"
    b: "Paris"
  - key: one
    a: "12 + 7 ="
    b: "Nine"'
refuse "duplicate pair key" "$B/attnmix-tokenize" --config "$D/dup.yaml"
says "duplicate pair key" "dup.yaml:" "duplicate pair key 'one'" "pairs[1]" "pairs[0]"
no_output "$D/o-dup"

echo "alphas outside [0, 1]" >&2
cfg "$D/alpha.yaml" "$D/o-alpha" "" "[-0.5, 0, 1, 1.5]"
set +e; msg=$("$B/attnmix-tokenize" --config "$D/alpha.yaml" 2>&1); rc=$?; set -e
((rc == 0)) || fail "alphas outside [0, 1] must be allowed (extrapolation): $msg"
says "alpha -0.5" "alpha.yaml:" "warning" "alpha -0.5 in 'alphas[0]' is outside [0, 1]"
says "alpha 1.5" "alpha 1.5 in 'alphas[3]' is outside [0, 1]"
run_stages "$D/alpha.yaml" embed-mix
/usr/bin/python3 - "$D/o-alpha/tiny/mix.h5" <<'PY' || fail "extrapolated mix is not alpha*E[a] + (1-alpha)*E[b]"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
al = f["alpha"][()]; e = f["embeddings"][()]  # [P, A, T, D]
assert list(al) == [-0.5, 0, 1, 1.5], al
ea, eb = e[:, 2], e[:, 1]                      # alpha 1 = a, alpha 0 = b
for k, a in enumerate(al):
    np.testing.assert_allclose(e[:, k], a * ea + (1 - a) * eb, rtol=1e-5, atol=1e-6)
PY

echo "tokenizer ids outside the model's vocabulary" >&2
# The tiny checkpoint cut to a 1000-token vocabulary (embed_tokens rows and
# vocab_size), with the full Qwen3 tokenizer: most ids fall outside it.
mkdir -p "$D/v1000"
/usr/bin/python3 - "$D/tiny" "$D/v1000" <<'PY'
import json, os, shutil, struct, sys
src, dst = sys.argv[1], sys.argv[2]
raw = open(os.path.join(src, "model.safetensors"), "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
hdr, data = json.loads(raw[8:8 + n]), raw[8 + n:]
out, blobs, off = {"__metadata__": hdr.pop("__metadata__", {})}, [], 0
for name in sorted(hdr):
    t = hdr[name]
    b = data[t["data_offsets"][0]:t["data_offsets"][1]]
    if name == "model.embed_tokens.weight":
        t["shape"][0] = 1000
        b = b[:1000 * t["shape"][1] * 2]
    out[name] = {"dtype": t["dtype"], "shape": t["shape"], "data_offsets": [off, off + len(b)]}
    blobs.append(b); off += len(b)
h = json.dumps(out).encode()
with open(os.path.join(dst, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
c = json.load(open(os.path.join(src, "config.json")))
c.update(vocab_size=1000, bos_token_id=0, eos_token_id=1)
json.dump(c, open(os.path.join(dst, "config.json"), "w"), indent=2)
g = json.load(open(os.path.join(src, "generation_config.json")))
g.update(bos_token_id=0, eos_token_id=[1], pad_token_id=0)
json.dump(g, open(os.path.join(dst, "generation_config.json"), "w"), indent=2)
PY
cfg "$D/vocab.yaml" "$D/o-vocab" '  - key: france
    a: "The capital of France is"
    b: "Paris"' "[0, 1]" "    tokenizer: $ATTNMIX_TOKENIZER_DIR"
sed -i "s#checkpoint: $D/tiny#checkpoint: $D/v1000#" "$D/vocab.yaml"
run_stages "$D/vocab.yaml" tokenize
refuse "vocab mismatch" "$B/attnmix-embed-mix" --config "$D/vocab.yaml"
says "vocab mismatch" "tokens.h5" "pair 'france'" "outside the vocabulary of model 'tiny'" "vocab_size 1000" \
  "tokenizer and checkpoint do not match"
[[ ! -e $D/o-vocab/tiny/mix.h5 ]] || fail "vocab mismatch: mix.h5 written"
ls "$D/o-vocab/tiny" | grep -q tmp- && fail "vocab mismatch: temporary file left"
refuse "forward after a vocab mismatch" "$B/attnmix-forward" --config "$D/vocab.yaml"
says "forward after a vocab mismatch" "mix.h5"
# Fixed: the checkpoint that goes with the tokenizer.
sed -i "s#checkpoint: $D/v1000#checkpoint: $D/tiny#" "$D/vocab.yaml"
run_stages "$D/vocab.yaml" tokenize embed-mix || fail "rerun with the matching checkpoint failed"

echo "prompt longer than max_position_embeddings" >&2
# The same checkpoint with max_position_embeddings 16 (config.json edited).
cp -r "$D/tiny" "$D/short"
/usr/bin/python3 - "$D/short/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["max_position_embeddings"] = 16
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
long=$(printf 'word %.0s' {1..40})
cfg "$D/long.yaml" "$D/o-long" "  - key: long
    a: \"$long\"
    b: \"Paris\""
sed -i "s#checkpoint: $D/tiny#checkpoint: $D/short#" "$D/long.yaml"
run_stages "$D/long.yaml" tokenize
refuse "prompt too long" "$B/attnmix-embed-mix" --config "$D/long.yaml"
says "prompt too long" "pair 'long'" "max_position_embeddings 16" "$D/short/config.json" "long.yaml" \
  "generation.max_new_tokens"
[[ ! -e $D/o-long/tiny/mix.h5 ]] || fail "prompt too long: mix.h5 written"
refuse "prompt too long (forward)" "$B/attnmix-forward" --config "$D/long.yaml"
says "prompt too long (forward)" "mix.h5"
# Prompt fits but prompt + generated tokens do not.
cfg "$D/long.yaml" "$D/o-long" '  - key: near
    a: "The capital of France is"
    b: "Paris"' "[0, 1]" "" 30
sed -i "s#checkpoint: $D/tiny#checkpoint: $D/short#" "$D/long.yaml"
run_stages "$D/long.yaml" tokenize
refuse "prompt + generation too long" "$B/attnmix-embed-mix" --config "$D/long.yaml"
says "prompt + generation too long" "pair 'near'" "+ 30 generated" "max_position_embeddings 16"
# Fixed: fewer new tokens.
cfg "$D/long.yaml" "$D/o-long" '  - key: near
    a: "The capital of France is"
    b: "Paris"' "[0, 1]" "" 4
sed -i "s#checkpoint: $D/tiny#checkpoint: $D/short#" "$D/long.yaml"
run_stages "$D/long.yaml" tokenize embed-mix forward generate || fail "rerun within max_position_embeddings failed"
[[ -f $D/o-long/tiny/cube.h5 ]] || fail "cube.h5 missing after the fixed run"
echo "inputs: ok"
