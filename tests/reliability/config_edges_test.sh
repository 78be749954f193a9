#!/usr/bin/env bash
# The smaller findings of docs/reliability.md ("Runs that never lie"), each
# refused (or handled) before a stage runs where it can be.
source "$(dirname "$0")/common.sh"
D=$(fresh_dir "$1")
cd "$D"
make_model "$D/tiny"
write_config "$D/c.yaml" "$D/out" "$D/tiny" 4
before_stage1() { [[ $msg != *"[1/"* && ! -e $D/out/tiny/tokens.h5 ]] || fail "$1: a stage ran: $msg"; }

# max_new_tokens that overflowed the position check.
sed 's/max_new_tokens: 4/max_new_tokens: 2147483647/' c.yaml > big.yaml
refuse "max_new_tokens 2^31-1" "$B/attnmix" run big.yaml
says "max_new_tokens 2^31-1" "big.yaml:" "'generation.max_new_tokens' is '2147483647', outside [0, 1000000]"
((rc == 2)) || fail "max_new_tokens: exit $rc"; before_stage1 "max_new_tokens"
sed 's/max_new_tokens: 4/max_new_tokens: 1000000/' c.yaml > pos.yaml
refuse "prompt + max_new_tokens beyond max_position_embeddings" "$B/attnmix" run pos.yaml
says "positions" "pair 'capital' has" "+ 1000000 generated (generation.max_new_tokens)" "max_position_embeddings"
before_stage1 "positions"

# A UTF-8 byte order mark at the start of the config.
{ printf '\xef\xbb\xbf'; cat c.yaml; } > bom.yaml
"$B/attnmix-tokenize" --config bom.yaml --out "$D/bom.h5" --quiet || fail "a config with a byte order mark was refused"

# Nesting: refused before libyaml parses it (which took minutes).
"$PYTHON" -c "import sys; open(sys.argv[1], 'w').write('experiment: x\nmodels: ' + '[' * 100000 + ']' * 100000 + '\n')" deep.yaml
t0=$SECONDS
refuse "100000 nested lists" "$B/attnmix" run deep.yaml
says "nesting" "deep.yaml:2:73: collections nested more than 64 deep"
((SECONDS - t0 < 10)) || fail "the nested config took $((SECONDS - t0)) s to refuse"
"$PYTHON" -c "import sys; open(sys.argv[1], 'w').write('experiment: x\n# ' + 'x' * (5 << 20) + '\n')" huge.yaml
refuse "a 5 MiB config" "$B/attnmix" run huge.yaml
says "size" "huge.yaml: 5242897 bytes; a configuration is at most 4194304 bytes"

# A 300-character model name (mkdir would fail later).
long=$(printf 'm%.0s' {1..300})
sed "s/name: tiny/name: $long/" c.yaml > long.yaml
refuse "a 300-character model name" "$B/attnmix" run long.yaml
says "long name" "long.yaml:5:11: 'models[0].name' is 300 characters long" "at most 200"

# A FIFO named as a shard: refused at once instead of blocking in open().
mkdir -p fifo && cp tiny/config.json tiny/tokenizer.json fifo/ && mkfifo fifo/model.safetensors
write_config "$D/fifo.yaml" "$D/out" "$D/fifo" 4
refuse "a FIFO as model.safetensors" timeout 20 "$B/attnmix-induction" --config fifo.yaml
says "FIFO" "fifo/model.safetensors: not a regular file"
((rc != 124)) || fail "the FIFO blocked"

# Capture layers out of range and the memory estimate: found before stage 1.
sed 's/  dtype: float32/  dtype: float32\n  layers: [0, 9]/' c.yaml > layers.yaml
refuse "capture.layers out of range" "$B/attnmix" run layers.yaml
says "layers" "capture.layers[1] = 9 but the model has 4 layers (0..3)"
before_stage1 "capture.layers"
ATTNMIX_MEMORY_LIMIT=1000000 refuse "memory" "$B/attnmix" run c.yaml
says "memory" "generate tiny: needs about" "GiB are available"
before_stage1 "memory"

# Config warnings: said once by the driver, without a doubled prefix.
sed 's/alphas: .*/alphas: [0, 0.1234561, 0.1234562, 1.5]/' c.yaml > w.yaml
"$B/attnmix" run w.yaml 2> w.log || { cat w.log; fail "run with alphas outside [0, 1] failed"; }
[[ $(grep -c "alpha 1.5 in 'alphas\[3\]'" w.log) == 1 ]] || fail "the warning was not said exactly once: $(grep -c 'alpha 1.5' w.log)"
grep -q "warning:.*warning:" w.log && fail "doubled warning prefix: $(grep 'warning:.*warning:' w.log)"
grep -qx "attnmix: w.yaml:[0-9]*:[0-9]*: warning: alpha 1.5 in 'alphas\[3\]' is outside \[0, 1\].*" w.log || fail "warning line: $(grep 1.5 w.log)"

# Alphas that "%g" prints alike stay distinct in generations.tsv and the report.
cut -f2,3 out/tiny/generations.tsv | sort | uniq -d | grep -q . && fail "duplicate (pair, alpha) in generations.tsv: $(cut -f2,3 out/tiny/generations.tsv | sort | uniq -c)"
grep -q "	0.1234561	" out/tiny/generations.tsv && grep -q "	0.1234562	" out/tiny/generations.tsv ||
  fail "generations.tsv alphas: $(cut -f3 out/tiny/generations.tsv | sort -u | tr '\n' ' ')"
grep -q "<td>0.1234561</td>" out/figures/index.html && grep -q "<td>0.1234562</td>" out/figures/index.html ||
  fail "the report does not tell the alphas apart"
echo "config edges: ok"
