#!/usr/bin/env bash
# Data never becomes code (docs/reliability.md): paths and names from the
# config go into OUT/Makefile, the Slurm scripts and the printed submit hint
# quoted, or are refused naming the key and the character. For each class of
# character the generated Makefile and scripts are run (with stand-in stage
# programs that record their arguments) and nothing may execute: no PWNED
# file appears, and each program receives the path exactly as written.
source "$(dirname "$0")/common.sh"
D=$(fresh_dir "$1")
cd "$D"
make_model "$D/ck"   # checked before the first stage runs (the stages themselves are stand-ins)
# Stand-ins: a copy of the driver (its directory is where it looks for the
# stage programs) and programs that log their arguments and write --out.
FB=$D/fakebin
mkdir -p "$FB"
cp "$B/attnmix" "$FB/attnmix"
for p in tokenize embed-mix forward generate induction analyze plot; do
  cat > "$FB/attnmix-$p" <<'SH'
#!/bin/bash
{ printf '%s' "$(basename "$0")"; printf '\t%s' "$@"; printf '\n'; } >> "$CALLS"
out= outdir=
while (($#)); do
  case $1 in --out) out=$2; shift ;; --outdir) outdir=$2; shift ;; esac
  shift
done
[[ -n $out ]] && mkdir -p "$(dirname "$out")" && echo x > "$out"
[[ -n $outdir ]] && mkdir -p "$outdir" && echo x > "$outdir/index.html"
exit 0
SH
  chmod +x "$FB/attnmix-$p"
done
# A stand-in sbatch for the submit hint.
mkdir -p sbin
cat > sbin/sbatch <<'SH'
#!/bin/bash
{ printf 'sbatch'; printf '\t%s' "$@"; printf '\n'; } >> "$CALLS"
echo "4242;cluster"
SH
chmod +x sbin/sbatch
export CALLS=$D/calls.log

# config FILE OUTDIR [TOKENIZER]: the config, the values written as JSON
# strings (valid YAML double-quoted scalars, any character escaped).
config() {
  "$PYTHON" - "$@" <<'PY'
import json, sys
path, out = sys.argv[1], sys.argv[2]
tok = f"    tokenizer: {json.dumps(sys.argv[3])}\n" if len(sys.argv) > 3 else ""
open(path, "w").write(
    f"experiment: quoting\noutput_dir: {json.dumps(out)}\nmodels:\n  - name: tiny\n    checkpoint: ck\n{tok}"
    "pairs:\n  - key: one\n    a: \"x\"\n    b: \"y\"\nalphas: [0, 1]\nbackend: cpu\n")
PY
}
pwned() { [[ -z $(find "$D" -name 'PWNED*' -print -quit) ]] || fail "$1: a command ran: $(find "$D" -name 'PWNED*')"; }

# accepted NAME OUTDIR SLURM(ok|refused): run and slurm with output_dir OUTDIR.
accepted() {
  local name=$1 out=$2 slurm=$3
  rm -f "$CALLS"
  config "$D/c.yaml" "$out"
  "$FB/attnmix" run c.yaml > run.log 2>&1 || fail "$name: attnmix run refused $out: $(cat run.log)"
  pwned "$name (run)"
  # every stage received the output path exactly as written
  grep -qF "attnmix-tokenize	--step	1/7	--config	c.yaml	--model	tiny	--out	$out/tiny/tokens.h5" "$CALLS" ||
    fail "$name: tokenize got other arguments: $(head -1 "$CALLS")"
  grep -qF "attnmix-plot	report	--analysis	$out/analysis.h5	--outdir	$out/figures	" "$CALLS" ||
    fail "$name: plot got other arguments: $(grep plot "$CALLS")"
  [[ -f $out/analysis.h5.stamp && -f $out/figures/index.html ]] || fail "$name: outputs not where the config says"
  rm -f "$CALLS"
  set +e; "$FB/attnmix" slurm c.yaml --shard model > slurm.log 2>&1; rc=$?; set -e
  if [[ $slurm == refused ]]; then
    [[ $rc == 2 ]] && grep -q "output_dir" slurm.log && grep -q "#SBATCH" slurm.log ||
      fail "$name: slurm did not refuse $out (rc $rc): $(cat slurm.log)"
    pwned "$name (slurm refusal)"
    return
  fi
  [[ $rc == 0 ]] || fail "$name: slurm refused $out: $(cat slurm.log)"
  local S=$out/slurm
  bash -n "$S/array.sbatch" && bash -n "$S/merge.sbatch" || fail "$name: a script is not valid bash"
  [[ $(grep -c "^#SBATCH" "$S/array.sbatch") -ge 4 ]] || fail "$name: #SBATCH lines lost: $(cat "$S/array.sbatch")"
  SLURM_ARRAY_TASK_ID=0 bash "$S/array.sbatch" 2> task.log || fail "$name: array task failed: $(cat task.log)"
  bash "$S/merge.sbatch" 2> merge.log || fail "$name: merge job failed: $(cat merge.log)"
  pwned "$name (slurm scripts)"
  grep -qF "attnmix-generate	--config	$(realpath c.yaml)	--model	tiny" "$CALLS" || fail "$name: array task: $(cat "$CALLS")"
  grep -qF "attnmix-analyze	--seed	0	--out	$out/analysis.h5	--name	tiny=$out/tiny/cube.h5" "$CALLS" ||
    fail "$name: merge job analyze: $(grep analyze "$CALLS")"
  grep -qxF "attnmix: done: $out/figures/index.html" merge.log || fail "$name: merge job's last line: $(tail -1 merge.log)"
  # The printed submit hint, pasted into a shell.
  local hint
  hint=$(sed -n '/submit with:/{n;p}' slurm.log)
  [[ -n $hint ]] || fail "$name: no submit hint: $(cat slurm.log)"
  rm -f "$CALLS"
  PATH=$D/sbin:$PATH bash -c "$hint" || fail "$name: the submit hint failed: $hint"
  pwned "$name (submit hint)"
  local abs
  abs=$(realpath "$out")
  grep -qxF "sbatch	--parsable	$abs/slurm/array.sbatch" "$CALLS" && grep -qxF "sbatch	--dependency=afterok:4242	$abs/slurm/merge.sbatch" "$CALLS" ||
    fail "$name: the hint passed other arguments: $(cat "$CALLS")"
}

# refused NAME OUTDIR WHAT [TOKENIZER]: run and slurm refuse, naming the key and the character.
refused() {
  local name=$1 out=$2 what=$3
  config "$D/c.yaml" "$out" ${4:+"$4"}
  for cmd in run slurm; do
    set +e; msg=$("$FB/attnmix" $cmd c.yaml 2>&1); rc=$?; set -e
    [[ $rc == 2 && $msg == *"$what"* ]] || fail "$name: $cmd did not refuse naming $what (rc $rc): $msg"
    [[ $msg != *"[1/"* ]] || fail "$name: $cmd ran a stage: $msg"
  done
  pwned "$name"
  echo "  $name: refused: ${msg%%$'\n'*}" >&2
}

# (">PWNED" alone creates the file when a shell runs it: no space needed,
# which the #SBATCH lines refuse)
accepted "backtick" 'o/x`>PWNED`y' ok
accepted "backtick with a space" 'o/x`touch PWNED`y' refused
accepted "semicolon" 'o/a;>PWNED;b' ok
accepted "ampersand" 'o/a&>PWNED&' ok
accepted "pipe" 'o/a|>PWNED' ok
accepted "hash" 'o/a#b' ok
accepted "colon" 'o/a:b' ok
accepted "single quote" "o/it's" refused
accepted "double quote" 'o/say">PWNED"' refused
accepted "space" 'o/a b' refused
accepted "percent" 'o/a%b' refused
refused "dollar-paren" 'o/$(touch PWNED)' "output_dir: 'o/\$(touch PWNED)' contains '\$' at byte 2"
refused "dollar-brace" 'o/${HOME}x' "output_dir: 'o/\${HOME}x' contains '\$' at byte 2"
refused "newline" $'o/a\ntouch PWNED' "output_dir: 'o/a\\ntouch PWNED' contains a newline (\\n) at byte 3"
refused "tokenizer with \$(shell)" 'o/t' "models[0].tokenizer: 'tok\$(shell touch PWNED)' contains '\$'" 'tok$(shell touch PWNED)'
# The experiment name that defaults output_dir to out/<experiment>: named as such.
printf 'experiment: "x$(touch PWNED)"\nmodels:\n  - name: tiny\n    checkpoint: ck\npairs:\n  - key: one\n    a: x\n    b: y\n' > e.yaml
set +e; msg=$("$FB/attnmix" run e.yaml 2>&1); rc=$?; set -e
[[ $rc == 2 && $msg == *"experiment (output_dir defaults to out/<experiment>)"*"'\$'"* ]] || fail "experiment name: rc $rc $msg"
printf 'experiment: "x`>PWNED`"\nmodels:\n  - name: tiny\n    checkpoint: ck\npairs:\n  - key: one\n    a: x\n    b: y\n' > e2.yaml
"$FB/attnmix" run e2.yaml > e2.log 2>&1 || fail "experiment with a backtick: $(cat e2.log)"
"$FB/attnmix" slurm e2.yaml > e2s.log 2>&1 || fail "slurm, experiment with a backtick: $(cat e2s.log)"
grep -qx "#SBATCH --job-name=attnmix-x__PWNED_" 'out/x`>PWNED`/slurm/array.sbatch' || fail "job name not made plain"
pwned "experiment name"
# A newline in the config file's name (it is written into comment lines).
cp c.yaml $'c\nx.yaml'
config $'c\nx.yaml' o/nl
for cmd in run slurm; do
  set +e; msg=$("$FB/attnmix" $cmd $'c\nx.yaml' 2>&1); rc=$?; set -e
  [[ $rc == 2 && $msg == *"the config file's path"*"a newline"* ]] || fail "config name with a newline, $cmd: rc $rc $msg"
done
[[ ! -e o/nl ]] || fail "config name with a newline: output created"
echo "script data: ok"
