#!/usr/bin/env bash
# The run the researcher tests read: a tiny synthetic checkpoint, prompts with
# non-ASCII text (tokens that split a character), a frozen-pattern run (so
# analysis.h5 has every kind of group), all stage messages into a log file.
source "$(dirname "$0")/../pipeline/common.sh"
D=$(fresh_dir "$1")
make_model "$D/tiny"
cat > "$D/r.yaml" <<YAML
experiment: researcher-test
output_dir: $D/out
seed: 3
models:
  - name: tiny
    checkpoint: $D/tiny
pairs:
  - key: capital
    a: "The capital of France is"
    b: "La capitale de la France est"
  - key: emoji
    a: "日本の首都は 🫠 龘"
    b: "Die Hauptstadt von Japan ist"
alphas: [0, 0.5, 1]
generation:
  max_new_tokens: 12
backend: cpu
threads: 2
YAML
B=$ATTNMIX_BIN
"$B/attnmix" run "$D/r.yaml" -j 1 2> "$D/run.log" || { cat "$D/run.log"; fail "attnmix run failed"; }
# Progress into a file: plain lines, no carriage returns, the last at 100%.
"$B/attnmix-generate" --config "$D/r.yaml" --force 2> "$D/generate.log" || { cat "$D/generate.log"; fail "generate"; }
grep -q $'\r' "$D/generate.log" "$D/run.log" && fail "carriage returns in a log: $(od -c "$D/generate.log" | head)"
grep -q "^generate tiny: 12/12 tokens (100%), [0-9.e+]* tokens/s, [0-9hms]* elapsed, ETA 0s$" "$D/generate.log" ||
  fail "no plain 100% progress line: $(cat "$D/generate.log")"
n=$(grep -c "^generate tiny: [0-9]*/12 tokens" "$D/generate.log")
((n >= 1 && n <= 11)) || fail "want at most one progress line per tenth, got $n: $(cat "$D/generate.log")"
"$B/attnmix-forward" --config "$D/r.yaml" --freeze-alpha 1 --quiet || fail "frozen forward failed"
"$B/attnmix-generate" --config "$D/r.yaml" --freeze-alpha 1 --quiet || fail "frozen generate failed"
"$B/attnmix" run "$D/r.yaml" 2>> "$D/run.log" || { cat "$D/run.log"; fail "run after the frozen run failed"; }
[[ -s $D/out/analysis.h5 && -s $D/out/tiny/cube.h5 && -s $D/out/tiny/frozen-a1/cube.h5 ]] || fail "outputs missing"

echo "researcher run: ok ($n progress lines)"
