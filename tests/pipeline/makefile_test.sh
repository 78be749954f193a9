#!/usr/bin/env bash
# The Makefile of `attnmix run` and the Slurm merge job, without running a
# stage: rules and step numbers, the induction rule, the analysis inputs
# (cubes, induction files, the frozen-pattern runs present), what make redoes
# when a frozen run appears, and refusals.
source "$(dirname "$0")/common.sh"
D=$(fresh_dir "$1")
B=$ATTNMIX_BIN
cd "$D"
# The checks only need config.json; no stage runs here.
mkdir -p ck2 && echo '{}' > ck2/config.json
mkdir -p ck && echo '{}' > ck/config.json
write_config "$D/m.yaml" "$D/out" "$D/ck" 4
"$PYTHON" - "$D/m.yaml" "$D/ck2" <<'PY'
import sys
p, ck2 = sys.argv[1], sys.argv[2]
s = open(p).read()
s = s.replace("pairs:", f"  - name: second\n    checkpoint: {ck2}\npairs:", 1)
open(p, "w").write(s)
PY
O=$D/out
MK=$O/Makefile

# 1. A fresh experiment: 5 steps per model + analyze + plot, numbered in order.
"$B/attnmix" run m.yaml -n > dry.out 2> dry.err || { cat dry.err; fail "attnmix run -n failed"; }
[[ -s $MK ]] || fail "no $MK"
ls "$O" | grep -q tmp- && fail "temporary file left in $O: $(ls "$O")"
[[ $(grep -o "\[[0-9]*/[0-9]*\] [a-z-]* *[a-z]*" dry.out | tr '\n' ',') == \
   "[1/12] tokenize tiny,[2/12] embed-mix tiny,[3/12] forward tiny,[4/12] generate tiny,[5/12] induction tiny,[6/12] tokenize second,[7/12] embed-mix second,[8/12] forward second,[9/12] generate second,[10/12] induction second,[11/12] analyze,[12/12] plot," ]] ||
  fail "steps: $(grep -o "\[[0-9]*/[0-9]*\] [a-z-]* *[a-z]*" dry.out)"
grep -qx "$O/tiny/induction.h5: \$(CONFIG) $D/ck/config.json" "$MK" || fail "induction rule of tiny: $(grep induction.h5: "$MK")"
grep -qx "$O/second/induction.h5: \$(CONFIG) $D/ck2/config.json" "$MK" || fail "induction rule of second"
grep -q "^	@\$(BIN)/attnmix-induction --config \$(CONFIG) --model second --out \$@ \$(FLAGS)$" "$MK" || fail "induction recipe"
grep -qx "FROZEN :=" "$MK" || fail "frozen runs listed without any: $(grep FROZEN "$MK")"
grep -qx "$O/analysis.h5: $O/tiny/cube.h5 $O/tiny/induction.h5 $O/second/cube.h5 $O/second/induction.h5 \$(FROZEN)" "$MK" || fail "analysis prerequisites: $(grep analysis.h5: "$MK")"
an=$(grep "attnmix-analyze" dry.out)
[[ $an == *"--name tiny=$O/tiny/cube.h5 --induction 'tiny=$O/tiny/induction.h5' --name second=$O/second/cube.h5 --induction 'second=$O/second/induction.h5'" ]] ||
  fail "analyze command: $an"
[[ $an != *--checkpoint* && $an != *--frozen* ]] || fail "analyze command: $an"
"$B/attnmix" run m.yaml -n --force > force.out 2>&1 || fail "attnmix run -n --force failed"
grep -q "attnmix-induction --config .* --model tiny --out $O/tiny/induction.h5 --force" force.out || fail "--force not passed to induction"

# 2. Frozen-pattern runs: directories frozen* holding a prefill.h5 (and
# cube.h5 once generated); others are not analysis inputs.
mkdir -p "$O/tiny/frozen-a1" "$O/tiny/frozen" "$O/tiny/frozen-a0" "$O/second/frozen-a0.5" "$O/tiny/other" "$O/tiny/frozen-empty"
touch "$O/tiny/frozen-a1/prefill.h5" "$O/tiny/frozen-a1/cube.h5" "$O/tiny/frozen/prefill.h5" \
  "$O/tiny/frozen-a0/prefill.h5" "$O/second/frozen-a0.5/prefill.h5" "$O/tiny/other/prefill.h5" "$O/tiny/frozen-file"
"$B/attnmix" run m.yaml -n > dry2.out 2> dry2.err || { cat dry2.err; fail "attnmix run -n with frozen runs failed"; }
want="FROZEN := $O/tiny/frozen/prefill.h5 $O/tiny/frozen-a0/prefill.h5 $O/tiny/frozen-a1/prefill.h5 $O/tiny/frozen-a1/cube.h5 $O/second/frozen-a0.5/prefill.h5"
grep -qx "$want" "$MK" || fail "FROZEN: $(grep FROZEN "$MK"), want $want"
an=$(grep "attnmix-analyze" dry2.out)
[[ $an == *"--induction 'tiny=$O/tiny/induction.h5' --frozen 'tiny=$O/tiny/frozen' --frozen 'tiny=$O/tiny/frozen-a0' --frozen 'tiny=$O/tiny/frozen-a1' --name second="*"--frozen 'second=$O/second/frozen-a0.5'" ]] ||
  fail "analyze command with frozen runs: $an"

# 3. What make redoes: with every output in place nothing; a frozen run
# changed (or added, as the Makefile is rewritten) redoes analyze and plot only.
for m in tiny second; do
  for f in tokens mix prefill cube induction; do touch "$O/$m/$f.h5"; sleep 0.01; done
done
touch "$O/analysis.h5"; mkdir -p "$O/figures"; sleep 0.01; touch "$O/figures/index.html"
make -q -f "$MK" || fail "make does not consider the outputs up to date: $(make -n -f "$MK")"
sleep 0.01; touch "$O/tiny/frozen-a1/cube.h5"
redo=$(make -n -f "$MK" | grep -o "^echo '\[[0-9]*/[0-9]*\] [a-z]*" | tr '\n' ',')
[[ $redo == "echo '[11/12] analyze,echo '[12/12] plot," ]] || fail "after a frozen cube changed make redoes: $redo"
touch "$O/analysis.h5"; sleep 0.01; touch "$O/figures/index.html"
mkdir -p "$O/second/frozen-a1"; sleep 0.01; touch "$O/second/frozen-a1/prefill.h5"
"$B/attnmix" run m.yaml -n > dry3.out 2>&1 || fail "attnmix run -n after a new frozen run failed"
[[ $(grep -o "^echo '\[[0-9]*/[0-9]*\] [a-z]*" dry3.out | tr '\n' ',') == "echo '[11/12] analyze,echo '[12/12] plot," ]] ||
  fail "after a new frozen run: $(cat dry3.out)"
grep -q -- "--frozen 'second=$O/second/frozen-a1'" dry3.out || fail "new frozen run not passed to analyze"
sleep 0.01; touch "$D/ck/config.json"
[[ $(make -n -f "$MK" | grep -o "^echo '\[[0-9]*/[0-9]*\] [a-z-]* *[a-z]*" | tr '\n' ',') == \
   "echo '[2/12] embed-mix tiny,echo '[3/12] forward tiny,echo '[4/12] generate tiny,echo '[5/12] induction tiny,echo '[11/12] analyze,echo '[12/12] plot," ]] ||
  fail "after the checkpoint changed: $(make -n -f "$MK" | grep "^echo")"

# 4. The Slurm merge job runs an induction step per model, then analyze with
# the same inputs as the Makefile.
"$B/attnmix" slurm m.yaml --shard model 2> slurm.err || { cat slurm.err; fail "attnmix slurm failed"; }
S=$O/slurm/merge.sbatch
bash -n "$S" || fail "merge.sbatch is not valid bash"
for m in tiny second; do
  grep -qx "\"\$BIN/attnmix-induction\" --config \"\$CONFIG\" --model '$m' --out '$O/$m/induction.h5'" "$S" ||
    fail "merge.sbatch: no induction step for $m: $(cat "$S")"
done
an=$(grep "attnmix-analyze" "$S")
[[ $an == *"--name 'tiny=$O/tiny/cube.h5' --induction 'tiny=$O/tiny/induction.h5' --frozen 'tiny=$O/tiny/frozen' --frozen 'tiny=$O/tiny/frozen-a0' --frozen 'tiny=$O/tiny/frozen-a1' --name 'second=$O/second/cube.h5' --induction 'second=$O/second/induction.h5' --frozen 'second=$O/second/frozen-a0.5' --frozen 'second=$O/second/frozen-a1'" ]] ||
  fail "merge.sbatch analyze: $an"
ia=$(grep -n "attnmix-induction" "$S" | tail -1 | cut -d: -f1); aa=$(grep -n "attnmix-analyze" "$S" | cut -d: -f1)
((ia < aa)) || fail "merge.sbatch runs analyze before the induction steps"

# 5. Refusals, nothing run: a frozen run whose name cannot be a make
# prerequisite; an output directory that cannot be a make target.
mkdir -p "$O/tiny/frozen x" && touch "$O/tiny/frozen x/prefill.h5"
set +e; msg=$("$B/attnmix" run m.yaml -n 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"frozen x"*"rename it"* && $msg != *"[1/"* ]] || fail "unsafe frozen run name: rc=$rc $msg"
ls "$O" | grep -q tmp- && fail "temporary file left in $O: $(ls "$O")"
rm -rf "$O/tiny/frozen x"
sed "s|output_dir: .*|output_dir: $D/out#x|" m.yaml > bad.yaml
set +e; msg=$("$B/attnmix" run bad.yaml -n 2>&1); rc=$?; set -e
[[ $rc == 2 && $msg == *"output_dir"* && ! -e "$D/out#x" ]] || fail "unsafe output_dir: rc=$rc $msg"
sed "s|checkpoint: $D/ck2|checkpoint: $D/ck:2|" m.yaml > bad2.yaml
set +e; msg=$("$B/attnmix" run bad2.yaml -n 2>&1); rc=$?; set -e
[[ $rc == 2 && $msg == *"models[1].checkpoint"* ]] || fail "unsafe checkpoint path: rc=$rc $msg"
# Checkpoints missing: every model in error is named, each on its own line.
sed -e "s|checkpoint: $D/ck2|checkpoint: $D/none2|" -e "s|checkpoint: $D/ck$|checkpoint: $D/none1|" m.yaml > none.yaml
set +e; msg=$("$B/attnmix" run none.yaml -n 2>&1); rc=$?; set -e
[[ $rc == 1 && $(grep -c "^attnmix: .*none.yaml: model '.*none[12]/config.json.*models\[[01]\].checkpoint" <<< "$msg") == 2 ]] ||
  fail "missing checkpoints: rc=$rc $msg"
set +e; msg=$("$B/attnmix" run m.yaml --jobs 2>&1); rc=$?; set -e
[[ $rc == 2 ]] || fail "misuse: rc=$rc $msg"
echo "makefile: ok"
