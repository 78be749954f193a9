#!/usr/bin/env bash
# The Makefile of `attnmix run` and the Slurm merge job, without running a
# stage: rules and step numbers, the induction rule, the analysis inputs
# (cubes, induction files, the frozen-pattern runs present), what make redoes
# when a frozen run appears, and refusals.
source "$(dirname "$0")/common.sh"
D=$(fresh_dir "$1")
B=$ATTNMIX_BIN
cd "$D"
# No stage runs here; the checks before stage 1 open each checkpoint.
make_model "$D/ck"
rm -rf ck2 && cp -r ck ck2
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

# 1. A fresh experiment: 5 steps per model + analyze + plot, numbered in
# order; the targets are the stages' names (phony), never paths.
"$B/attnmix" run m.yaml -n > dry.out 2> dry.err || { cat dry.err; fail "attnmix run -n failed"; }
[[ -s $MK ]] || fail "no $MK"
ls "$O" | grep -q tmp- && fail "temporary file left in $O: $(ls "$O")"
steps=$(grep -o "attnmix-[a-z-]* --step [0-9]*/[0-9]* --config '[^']*' --model '[a-z]*'\|--label [a-z]* --step [0-9]*/[0-9]*" dry.out |
  sed -e "s/attnmix-\([a-z-]*\) --step \([0-9/]*\) --config '[^']*' --model '\([a-z]*\)'/[\2] \1 \3/" \
      -e "s/--label \([a-z]*\) --step \([0-9/]*\)/[\2] \1/" | tr '\n' ',')
[[ $steps == "[1/12] tokenize tiny,[2/12] embed-mix tiny,[3/12] forward tiny,[4/12] generate tiny,[5/12] induction tiny,[6/12] tokenize second,[7/12] embed-mix second,[8/12] forward second,[9/12] generate second,[10/12] induction second,[11/12] analyze,[12/12] plot," ]] ||
  fail "steps: $steps"
grep -qx ".PHONY: all analyze plot tokenize-0 embed-mix-0 forward-0 generate-0 induction-0 tokenize-1 embed-mix-1 forward-1 generate-1 induction-1" "$MK" ||
  fail "phony targets: $(grep PHONY "$MK")"
[[ -z $(grep -E "^[^#	].*/.*:" "$MK") ]] || fail "a target or prerequisite is a path: $(grep -E "^[^#	].*/.*:" "$MK")"
grep -qx "generate-1: embed-mix-1 forward-1" "$MK" || fail "generate rule of second: $(grep ^generate-1 "$MK")"
grep -qx "induction-0:" "$MK" || fail "induction rule of tiny: $(grep ^induction-0 "$MK")"
grep -q "attnmix-induction --step 10/12 --config 'm.yaml' --model 'second' --out '$O/second/induction.h5'$" "$MK" ||
  fail "induction recipe: $(grep attnmix-induction "$MK")"
grep -qx "analyze: generate-0 induction-0 generate-1 induction-1" "$MK" || fail "analysis prerequisites: $(grep ^analyze: "$MK")"
an=$(grep "attnmix-analyze" dry.out)
[[ $an == *"--out '$O/analysis.h5' --in '$O/tiny/cube.h5' --in '$O/tiny/induction.h5' --in '$O/second/cube.h5' --in '$O/second/induction.h5' -- "* ]] ||
  fail "analysis gate inputs: $an"
[[ $an == *"--name 'tiny=$O/tiny/cube.h5' --induction 'tiny=$O/tiny/induction.h5' --name 'second=$O/second/cube.h5' --induction 'second=$O/second/induction.h5'" ]] ||
  fail "analyze command: $an"
[[ $an != *--checkpoint* && $an != *--frozen* ]] || fail "analyze command: $an"
"$B/attnmix" run m.yaml -n --force > force.out 2>&1 || fail "attnmix run -n --force failed"
grep -q "attnmix-induction --step 5/12 --config .* --model 'tiny' --out '$O/tiny/induction.h5' --force" force.out || fail "--force not passed to induction"
grep -q "attnmix gate --label plot --step 12/12 --force" force.out || fail "--force not passed to the plot gate"

# 2. Frozen-pattern runs: directories frozen* holding a prefill.h5 (and
# cube.h5 once generated); others are not analysis inputs.
mkdir -p "$O/tiny/frozen-a1" "$O/tiny/frozen" "$O/tiny/frozen-a0" "$O/second/frozen-a0.5" "$O/tiny/other" "$O/tiny/frozen-empty"
touch "$O/tiny/frozen-a1/prefill.h5" "$O/tiny/frozen-a1/cube.h5" "$O/tiny/frozen/prefill.h5" \
  "$O/tiny/frozen-a0/prefill.h5" "$O/second/frozen-a0.5/prefill.h5" "$O/tiny/other/prefill.h5" "$O/tiny/frozen-file"
"$B/attnmix" run m.yaml -n > dry2.out 2> dry2.err || { cat dry2.err; fail "attnmix run -n with frozen runs failed"; }
an=$(grep "attnmix-analyze" dry2.out)
want="--in '$O/tiny/cube.h5' --in '$O/tiny/induction.h5' --in '$O/tiny/frozen/prefill.h5' --in '$O/tiny/frozen-a0/prefill.h5' --in '$O/tiny/frozen-a1/prefill.h5' --in '$O/tiny/frozen-a1/cube.h5' --in '$O/second/cube.h5' --in '$O/second/induction.h5' --in '$O/second/frozen-a0.5/prefill.h5' -- "
[[ $an == *"$want"* ]] || fail "analysis gate inputs with frozen runs: $an, want $want"
[[ $an == *"--induction 'tiny=$O/tiny/induction.h5' --frozen 'tiny=$O/tiny/frozen' --frozen 'tiny=$O/tiny/frozen-a0' --frozen 'tiny=$O/tiny/frozen-a1' --name 'second="*"--frozen 'second=$O/second/frozen-a0.5'" ]] ||
  fail "analyze command with frozen runs: $an"

# 3. What is redone is decided by the stages from content stamps (tests
# reliability_stamps, pipeline_run); make is only asked to order them.
mkdir -p "$O/second/frozen-a1"; touch "$O/second/frozen-a1/prefill.h5"

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

# 5. Refusals, nothing run: data no script can carry (docs/reliability.md;
# every character class: test reliability_script_data); paths make used to
# choke on are quoted now.
mkdir -p "$O/tiny/frozen"$'\n'"x" && touch "$O/tiny/frozen"$'\n'"x/prefill.h5"
set +e; msg=$("$B/attnmix" run m.yaml -n 2>&1); rc=$?; set -e
[[ $rc == 2 && $msg == *"frozen-pattern run"*"a newline"* && $msg != *"[1/"* ]] || fail "frozen run name with a newline: rc=$rc $msg"
ls "$O" | grep -q tmp- && fail "temporary file left in $O: $(ls "$O")"
rm -rf "$O/tiny/frozen"$'\n'"x"
sed "s|output_dir: .*|output_dir: $D/out#x|" m.yaml > hash.yaml
"$B/attnmix" run hash.yaml -n > hash.out 2>&1 || fail "output_dir with '#': $(cat hash.out)"
grep -q "attnmix-tokenize --step 1/12 --config 'hash.yaml' --model 'tiny' --out '$D/out#x/tiny/tokens.h5'" hash.out ||
  fail "output_dir with '#' not quoted: $(grep tokenize hash.out)"
sed "s|checkpoint: $D/ck2|checkpoint: $D/ck\$HOME|" m.yaml > bad2.yaml
set +e; msg=$("$B/attnmix" run bad2.yaml -n 2>&1); rc=$?; set -e
[[ $rc == 2 && $msg == *"models[1].checkpoint"*"'\$'"* ]] || fail "checkpoint path with '\$': rc=$rc $msg"
# Checkpoints missing: every model in error is named, each on its own line.
sed -e "s|checkpoint: $D/ck2|checkpoint: $D/none2|" -e "s|checkpoint: $D/ck$|checkpoint: $D/none1|" m.yaml > none.yaml
set +e; msg=$("$B/attnmix" run none.yaml -n 2>&1); rc=$?; set -e
[[ $rc == 1 && $(grep -c "^attnmix: .*none.yaml: model '.*none[12]/config.json.*models\[[01]\].checkpoint" <<< "$msg") == 2 ]] ||
  fail "missing checkpoints: rc=$rc $msg"
set +e; msg=$("$B/attnmix" run m.yaml --jobs 2>&1); rc=$?; set -e
[[ $rc == 2 ]] || fail "misuse: rc=$rc $msg"
echo "makefile: ok"
