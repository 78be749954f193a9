#!/usr/bin/env bash
# `attnmix run` end to end: every output, incremental reruns, resume after kill -9.
source "$(dirname "$0")/common.sh"
D=$1
rm -rf "$D"; mkdir -p "$D"
make_model "$D/tiny"
write_config "$D/r.yaml" "$D/out" "$D/tiny" 8
B=$ATTNMIX_BIN
"$B/attnmix" run "$D/r.yaml" -j 2 2> "$D/log1" || { cat "$D/log1"; fail "attnmix run failed"; }
for f in tiny/tokens.h5 tiny/mix.h5 tiny/prefill.h5 tiny/cube.h5 tiny/generations.tsv analysis.h5 figures/index.html; do
  [[ -s $D/out/$f ]] || fail "missing $D/out/$f"
done
grep -q "figures/index.html" "$D/log1" || fail "run did not say where the figures are"

# A second run recomputes nothing.
before=$(stat -c %Y.%s "$D/out/tiny/cube.h5" "$D/out/analysis.h5")
"$B/attnmix" run "$D/r.yaml" 2> "$D/log2"
grep -q "\[.*generate" "$D/log2" && fail "second run re-ran generate: $(cat "$D/log2")"
[[ $(stat -c %Y.%s "$D/out/tiny/cube.h5" "$D/out/analysis.h5") == "$before" ]] || fail "second run touched outputs"

# Kill the run in the middle; the rerun resumes and completes.
rm -f "$D/out/tiny/cube.h5" "$D/out/analysis.h5"
"$B/attnmix" run "$D/r.yaml" 2>/dev/null & pid=$!
sleep 0.3; kill -9 "$pid" 2>/dev/null || true; pkill -9 -f "attnmix-.*$D/r.yaml" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
"$B/attnmix" run "$D/r.yaml" 2> "$D/log3" || { cat "$D/log3"; fail "rerun after kill failed"; }
[[ -s $D/out/tiny/cube.h5 && -s $D/out/figures/index.html ]] || fail "rerun did not complete"

# Bad config: clear message with line:col, exit 1, nothing written.
printf 'experiment: x\nmodels: []\npairs: []\nalpah: 1\n' > "$D/bad.yaml"
set +e; msg=$("$B/attnmix" run "$D/bad.yaml" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"bad.yaml:"* ]] || fail "bad config: rc=$rc $msg"
# Placeholder checkpoint paths (as in config/blog.yaml): refused before any
# stage runs, naming the model and the key to edit; no output directory.
sed -e "s|$D/tiny|$D/no-such-model|" -e "s|$D/out|$D/out-missing|" "$D/r.yaml" > "$D/missing.yaml"
set +e; msg=$("$B/attnmix" run "$D/missing.yaml" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"model 'tiny'"* && $msg == *"no-such-model/config.json"* && $msg == *"models[0].checkpoint"* ]] ||
  fail "missing checkpoint: rc=$rc $msg"
[[ $msg != *"[1/"* && ! -e $D/out-missing ]] || fail "missing checkpoint: a stage ran or output was created: $msg"
echo "run: ok"
