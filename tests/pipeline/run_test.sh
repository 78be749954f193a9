#!/usr/bin/env bash
# `attnmix run` end to end: every output, incremental reruns, a frozen-pattern
# run taken into the analysis, resume after kill -9.
source "$(dirname "$0")/common.sh"
D=$1
rm -rf "$D"; mkdir -p "$D"
make_model "$D/tiny"
write_config "$D/r.yaml" "$D/out" "$D/tiny" 8
B=$ATTNMIX_BIN
"$B/attnmix" run "$D/r.yaml" -j 2 2> "$D/log1" || { cat "$D/log1"; fail "attnmix run failed"; }
for f in tiny/tokens.h5 tiny/mix.h5 tiny/prefill.h5 tiny/cube.h5 tiny/generations.tsv tiny/induction.h5 analysis.h5 \
         figures/index.html; do
  [[ -s $D/out/$f ]] || fail "missing $D/out/$f"
done
grep -q "figures/index.html" "$D/log1" || fail "run did not say where the figures are"

# A second run recomputes nothing.
before=$(stat -c %Y.%s "$D/out/tiny/cube.h5" "$D/out/analysis.h5")
"$B/attnmix" run "$D/r.yaml" 2> "$D/log2"
grep -q "\[.*generate" "$D/log2" && fail "second run re-ran generate: $(cat "$D/log2")"
[[ $(stat -c %Y.%s "$D/out/tiny/cube.h5" "$D/out/analysis.h5") == "$before" ]] || fail "second run touched outputs"
grep -q "^\[[0-9]*/[0-9]*\]" "$D/log2" && fail "second run ran a stage: $(cat "$D/log2")"

# A frozen-pattern run added after the live run (docs/freeze.md): the next
# run redoes analyze and plot only, and analysis.h5 holds the comparison.
"$B/attnmix-forward" --config "$D/r.yaml" --freeze-alpha 1 --quiet || fail "frozen forward failed"
"$B/attnmix-generate" --config "$D/r.yaml" --freeze-alpha 1 --quiet || fail "frozen generate failed"
[[ -s $D/out/tiny/frozen-a1/prefill.h5 && -s $D/out/tiny/frozen-a1/cube.h5 ]] || fail "no frozen run in $D/out/tiny/frozen-a1"
"$B/attnmix" run "$D/r.yaml" 2> "$D/log4" || { cat "$D/log4"; fail "run after the frozen run failed"; }
[[ $(grep -o "^\[[0-9]*/[0-9]*\] [a-z-]*" "$D/log4" | cut -d' ' -f2 | tr '\n' ' ') == "analyze plot " ]] ||
  fail "run after the frozen run: not analyze and plot only: $(cat "$D/log4")"
grep -q -- "--frozen 'tiny=$D/out/tiny/frozen-a1'" "$D/out/Makefile" || fail "the Makefile does not pass the frozen run to analyze"
$PYTHON - "$D/out/analysis.h5" <<'PY' || fail "analysis.h5 lacks the frozen comparison"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
g = f["models/tiny/frozen/frozen-a1"]
kl = g["kl"][()]  # [pair, alpha], alphas [0, 0.5, 1]
assert kl.shape == (2, 3), kl.shape
assert np.all(np.isfinite(kl)) and np.all(kl >= 0), kl
assert np.all(kl[:, 2] == 0), kl  # the source alpha: the same patterns, the same run
assert g["text"].shape == (2, 3) and g["kl_step"].shape[:2] == (2, 3), list(g)
assert float(g.attrs["freeze_alpha"]) == 1.0
PY
# Nothing changed since: no stage runs, no output is touched.
before=$(stat -c %Y.%s "$D/out/tiny/cube.h5" "$D/out/tiny/induction.h5" "$D/out/analysis.h5" "$D/out/figures/index.html")
"$B/attnmix" run "$D/r.yaml" 2> "$D/log5" || { cat "$D/log5"; fail "run with nothing changed failed"; }
grep -q "^\[[0-9]*/[0-9]*\]" "$D/log5" && fail "run with nothing changed ran a stage: $(cat "$D/log5")"
[[ $(stat -c %Y.%s "$D/out/tiny/cube.h5" "$D/out/tiny/induction.h5" "$D/out/analysis.h5" "$D/out/figures/index.html") == "$before" ]] ||
  fail "run with nothing changed touched outputs"

# Kill the run in the middle; the rerun resumes and completes.
rm -f "$D/out/tiny/cube.h5" "$D/out/analysis.h5"
"$B/attnmix" run "$D/r.yaml" 2>/dev/null & pid=$!
sleep 0.3; kill -9 "$pid" 2>/dev/null || true; pkill -9 -f "attnmix-.*$D/r.yaml" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
"$B/attnmix" run "$D/r.yaml" 2> "$D/log3" || { cat "$D/log3"; fail "rerun after kill failed"; }
[[ -s $D/out/tiny/cube.h5 && -s $D/out/figures/index.html ]] || fail "rerun did not complete"

# Bad config: clear message with line:col, exit 2 (a value the user must
# change: a usage error, as for the stage programs), nothing written.
printf 'experiment: x\nmodels: []\npairs: []\nalpah: 1\n' > "$D/bad.yaml"
set +e; msg=$("$B/attnmix" run "$D/bad.yaml" 2>&1); rc=$?; set -e
[[ $rc == 2 && $msg == *"bad.yaml:4:"* ]] || fail "bad config: rc=$rc $msg"
set +e; msg=$("$B/attnmix" run "$D/no-such.yaml" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"no-such.yaml"* ]] || fail "missing config: rc=$rc $msg"
# Placeholder checkpoint paths (as in config/blog.yaml): refused before any
# stage runs, naming the model and the key to edit; no output directory.
sed -e "s|$D/tiny|$D/no-such-model|" -e "s|$D/out|$D/out-missing|" "$D/r.yaml" > "$D/missing.yaml"
set +e; msg=$("$B/attnmix" run "$D/missing.yaml" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"model 'tiny'"* && $msg == *"no-such-model/config.json"* && $msg == *"models[0].checkpoint"* ]] ||
  fail "missing checkpoint: rc=$rc $msg"
[[ $msg != *"[1/"* && ! -e $D/out-missing ]] || fail "missing checkpoint: a stage ran or output was created: $msg"
echo "run: ok"
