#!/usr/bin/env bash
# The experiment as a Slurm array job on a one-node localhost cluster: the
# merged cube equals the single-machine cube bit for bit; a failed and a
# killed task are resubmitted alone; merge refuses missing or foreign shards.
source "$(dirname "$0")/../pipeline/common.sh"
source "$(dirname "$0")/cluster.sh"
D=$(fresh_dir "$1")
B=$ATTNMIX_BIN
cd "$D"
t0=$SECONDS
say() { echo "[$((SECONDS - t0))s] $*" >&2; }

make_model "$D/tiny"
write_config "$D/ref.yaml" "$D/ref" "$D/tiny" 6
write_config "$D/s.yaml" "$D/out" "$D/tiny" 6
have_report=0
[[ -x $B/attnmix-induction && -x $B/attnmix-analyze && -x $B/attnmix-plot ]] && have_report=1

# The single-machine reference.
if ((have_report)); then
  "$B/attnmix" run "$D/ref.yaml" 2> "$D/ref.log" || { cat "$D/ref.log"; fail "attnmix run failed"; }
else
  echo "NOTE: attnmix-induction/-analyze/-plot not built: the merge job is checked up to its merge step" >&2
  for st in tokenize embed-mix forward generate; do
    "$B/attnmix-$st" --config "$D/ref.yaml" --quiet || fail "reference $st failed"
  done
fi
say "reference cube written"

cleanup() { scancel --quiet --user="$(id -un)" 2>/dev/null || true; sleep 0.5; cluster_stop; }
trap cleanup EXIT
if ! cluster_start "$D/cluster"; then
  echo "SKIP: no Slurm cluster can run here: $CLUSTER_WHY" >&2
  exit 0
fi
say "slurmctld and slurmd up"

# job_states ID: "TASK=STATE" per record of a job (array tasks or a single job).
job_states() {
  scontrol show job "$1" -o 2>/dev/null | sed -n 's/.*ArrayTaskId=\([^ ]*\).*JobState=\([A-Z_]*\).*/\1=\2/p; t; s/.*JobState=\([A-Z_]*\).*/-=\1/p'
}
# wait_gone ID [SECONDS]: until no record of the job is pending or running.
wait_gone() {
  local id=$1 limit=${2:-120} i
  for ((i = 0; i < limit * 4; i++)); do
    [[ -z $(squeue -h -j "$id" 2>/dev/null) ]] && return 0
    sleep 0.25
  done
  fail "job $id still queued after ${limit}s: $(squeue -j "$id"; job_states "$id")"
}
# submit ARGS...: run `attnmix slurm --submit`, set AID (may be empty) and MID.
submit() {
  "$B/attnmix" slurm "$D/s.yaml" --submit "$@" > "$D/submit.out" 2> "$D/submit.err" ||
    { cat "$D/submit.err"; fail "attnmix slurm --submit failed"; }
  AID=$(awk '$1 == "array" {print $2}' "$D/submit.out")
  MID=$(awk '$1 == "merge" {print $2}' "$D/submit.out")
  [[ -n $MID ]] || fail "no merge job id in: $(cat "$D/submit.out")"
}
check_merge_job() {
  wait_gone "$MID"
  local st; st=$(job_states "$MID")
  if ((have_report)); then
    [[ $st == "-=COMPLETED" ]] || fail "merge job $MID: $st: $(cat "$D"/out/slurm/logs/merge_"$MID".out)"
    [[ -s $D/out/tiny/induction.h5 && -s $D/out/analysis.h5 && -s $D/out/figures/index.html ]] ||
      fail "merge job wrote no induction scores/analysis/figures"
  else
    grep -q "merge tiny: .*cube.h5 written\|merge tiny: .*up to date" "$D/out/slurm/logs/merge_$MID.out" ||
      fail "merge step of job $MID: $(cat "$D/out/slurm/logs/merge_$MID.out")"
  fi
}
compare() {
  $PYTHON "$ATTNMIX_SRC/tests/slurm/compare_cubes.py" "$D/ref/tiny/cube.h5" "$D/out/tiny/cube.h5" >&2 ||
    fail "merged cube differs from the single-machine cube ($1)"
  h5diff -d 0 "$D/ref/tiny/cube.h5" "$D/out/tiny/cube.h5" /attention /attention >&2 || fail "h5diff /attention ($1)"
  cmp -s "$D/ref/tiny/generations.tsv" "$D/out/tiny/generations.tsv" || fail "generations.tsv differs ($1)"
}

# 1. Everything as an array job (2 pairs -> tasks 0 and 1), then the merge.
submit --max-parallel 2 --cpus 1 --time 10
[[ -n $AID ]] || fail "no array job submitted"
grep -q "^#SBATCH --array=0-1%2$" "$D/out/slurm/array.sbatch" || fail "array line: $(grep array= "$D/out/slurm/array.sbatch")"
grep -q "^#SBATCH --cpus-per-task=1$" "$D/out/slurm/array.sbatch" || fail "no --cpus-per-task line"
wait_gone "$AID"
[[ $(job_states "$AID" | sort | tr '\n' ' ') == "0=COMPLETED 1=COMPLETED " ]] ||
  fail "array $AID: $(job_states "$AID"): $(cat "$D"/out/slurm/logs/"${AID}"_*.out)"
check_merge_job
compare "first run"
$PYTHON - "$D/out/tiny/cube.h5" <<'PY' || fail "merged /attention is not virtual with relative sources"
import h5py, sys
a = h5py.File(sys.argv[1])["attention"]
assert a.is_virtual and sorted(s.file_name for s in a.virtual_sources()) == ["pairs/capital/cube.h5", "pairs/sums/cube.h5"]
PY
say "array $AID and merge $MID: merged cube equals the single-machine cube"
keep=$(stat -c %i.%Y "$D/out/tiny/pairs/capital/cube.h5")

# 2. A failing task: shard 'sums' cannot be written (a directory is in the
# way). Only task 1 is submitted; it fails and the merge never runs.
rm -f "$D/out/tiny/pairs/sums/cube.h5" "$D/out/tiny/pairs/sums/prefill.h5"
mkdir "$D/out/tiny/pairs/sums/cube.h5"
submit --max-parallel 2
grep -q "^#SBATCH --array=1%2$" "$D/out/slurm/array.sbatch" || fail "resubmission array line: $(grep array= "$D/out/slurm/array.sbatch")"
wait_gone "$AID"
[[ $(job_states "$AID") == "1=FAILED" ]] || fail "failing task: $(job_states "$AID")"
[[ $(ls "$D/out/slurm/logs" | grep -c "^${AID}_") == 1 ]] || fail "more than one task ran: $(ls "$D/out/slurm/logs")"
for ((i = 0; i < 40; i++)); do
  reason=$(squeue -h -j "$MID" -o %r 2>/dev/null)
  [[ $reason == DependencyNeverSatisfied ]] && break
  sleep 0.25
done
[[ $reason == DependencyNeverSatisfied ]] || fail "merge job $MID after a failed task: '$reason'"
scancel "$MID"
rmdir "$D/out/tiny/pairs/sums/cube.h5"
say "failed task ${AID}_1 alone; merge $MID held"

# 3. A task killed mid-way (SIGKILL to the batch script and its stages),
# once its first three stages are done: inside generate.
submit --max-parallel 2
log=$D/out/slurm/logs/${AID}_1.out
for ((i = 0; i < 1200; i++)); do
  grep -q "^forward tiny" "$log" 2>/dev/null && break
  sleep 0.05
done
scancel --signal=KILL --full "${AID}_1"
wait_gone "$AID"
[[ ! -e $D/out/tiny/pairs/sums/cube.h5 ]] || fail "task ${AID}_1 finished before it could be killed"
scancel "$MID" 2>/dev/null || true
say "killed task ${AID}_1 in generate: $(job_states "$AID")"

# 4. Resubmit: only the killed shard runs, the merge completes, equal again.
submit --max-parallel 2
grep -q "^#SBATCH --array=1%2$" "$D/out/slurm/array.sbatch" || fail "resubmission after kill: $(grep array= "$D/out/slurm/array.sbatch")"
wait_gone "$AID"
[[ $(job_states "$AID") == "1=COMPLETED" ]] || fail "resubmitted task: $(job_states "$AID"): $(cat "$D"/out/slurm/logs/"${AID}"_*.out)"
[[ $(ls "$D/out/slurm/logs" | grep -c "^${AID}_") == 1 ]] || fail "more than one task ran on resubmission"
check_merge_job
compare "after resubmission"
[[ $(stat -c %i.%Y "$D/out/tiny/pairs/capital/cube.h5") == "$keep" ]] || fail "the complete shard was rewritten"
say "resubmitted array $AID ran task 1 only; merge $MID: equal again"

# 5. Nothing left to do: only the merge is submitted.
submit
[[ -z $AID ]] || fail "array submitted although every shard is complete"
wait_gone "$MID"

# 6. merge refuses a missing shard and a shard with other alphas; no file left.
rm -f "$D/out/tiny/cube.h5"
mv "$D/out/tiny/pairs/sums/cube.h5" "$D/sums.h5"
set +e; msg=$("$B/attnmix" merge "$D/s.yaml" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"pairs/sums/cube.h5"*missing* ]] || fail "merge with a missing shard: rc=$rc $msg"
[[ ! -e $D/out/tiny/cube.h5 ]] || fail "merge wrote a cube with a shard missing"
mv "$D/sums.h5" "$D/out/tiny/pairs/sums/cube.h5"
$PYTHON -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); f["alpha"][2] = 0.75' "$D/out/tiny/pairs/sums/cube.h5"
set +e; msg=$("$B/attnmix" merge "$D/s.yaml" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"pairs/sums/cube.h5"*"alpha 0.75"* ]] || fail "merge with other alphas: rc=$rc $msg"
[[ -z $(ls "$D/out/tiny" | grep "^cube.h5") ]] || fail "merge left a file after refusing"
say "merge refusals ok"

# 7. --shard model: one task per model, the merge script skips the merge; the
# #SBATCH settings land in the scripts; both scripts are valid bash.
"$B/attnmix" slurm "$D/s.yaml" --shard model --partition debug --account lab --time 0:05:00 --cpus 2 --mem 1G \
  --gres gpu:1 --max-parallel 3 2> "$D/model.err" || { cat "$D/model.err"; fail "attnmix slurm --shard model"; }
A=$D/out/slurm/array.sbatch M=$D/out/slurm/merge.sbatch
for l in "--array=0%3" "--partition=debug" "--account=lab" "--time=0:05:00" "--cpus-per-task=2" "--mem=1G" "--gres=gpu:1"; do
  grep -qx -- "#SBATCH $l" "$A" || fail "array.sbatch lacks #SBATCH $l"
done
grep -q -- "--gres" "$M" && fail "merge.sbatch asks for the array's gres"
grep -q "PAIRS=\|--pair" "$A" && fail "--shard model script selects pairs"
grep -q '"$BIN/attnmix" merge' "$M" && fail "--shard model merge script merges shards"
grep -qx "\"\$BIN/attnmix-induction\" --config \"\$CONFIG\" --model 'tiny' --out '$D/out/tiny/induction.h5'" "$M" ||
  fail "merge.sbatch has no induction step: $(cat "$M")"
grep -q "attnmix-analyze.* --induction 'tiny=$D/out/tiny/induction.h5'" "$M" || fail "merge.sbatch: analyze without --induction"
bash -n "$A" && bash -n "$M" || fail "generated scripts are not valid bash"
set +e; msg=$("$B/attnmix" slurm "$D/s.yaml" --shard models 2>&1); rc=$?; set -e
[[ $rc == 2 && $msg == *"--shard"* ]] || fail "bad --shard: rc=$rc $msg"
echo "slurm array: ok ($((SECONDS - t0))s)"
