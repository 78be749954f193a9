#!/usr/bin/env bash
# kill -9 at several points of each model stage: no file a later stage would
# trust is left behind, and the rerun completes with the same result.
source "$(dirname "$0")/common.sh"
D=$1
rm -rf "$D"; mkdir -p "$D"
make_model "$D/small" small
write_config "$D/k.yaml" "$D/out" "$D/small" 48 float32 "[0, 0.25, 0.5, 0.75, 1]"
B=$ATTNMIX_BIN
M=$D/out/tiny
inputs_of() { case $1 in embed-mix) echo "tokens";; forward) echo "mix";; generate) echo "mix prefill";; esac; }
output_of() { case $1 in tokenize) echo tokens;; embed-mix) echo mix;; forward) echo prefill;; generate) echo cube;; esac; }
main_of() { case $1 in embed-mix) echo embeddings;; *) echo attention;; esac; }
# same_as_ref FILE STAGE: the stage's data equals the uninterrupted run's
same_as_ref() {
  local ds; ds=$(main_of "$2")
  h5diff -d 0 "$1" "$D/ref/$(basename "$1")" "$ds" "$ds" >/dev/null &&
    [[ $(h5dump -a fingerprint "$1" | grep '(0)') == $(h5dump -a fingerprint "$D/ref/$(basename "$1")" | grep '(0)') ]]
}
next_of() { case $1 in tokenize) echo embed-mix;; embed-mix) echo forward;; forward) echo generate;; generate) echo "";; esac; }

# Reference outputs from an uninterrupted run.
for st in tokenize embed-mix forward generate; do "$B/attnmix-$st" --config "$D/k.yaml" --quiet; done
mkdir -p "$D/ref"; cp "$M"/*.h5 "$D/ref/"

interrupted=0
for st in embed-mix forward generate; do
  out=$M/$(output_of "$st").h5
  for delay in 0.05 0.4; do
    rm -f "$out"
    "$B/attnmix-$st" --config "$D/k.yaml" --quiet & pid=$!
    sleep "$delay"
    if kill -9 "$pid" 2>/dev/null; then interrupted=$((interrupted + 1)); fi
    wait "$pid" 2>/dev/null || true
    if [[ -e $out ]]; then
      # It finished before the kill: then it must be complete and correct.
      same_as_ref "$out" "$st" || fail "$st: $out exists after kill but differs"
    else
      nxt=$(next_of "$st")
      if [[ -n $nxt ]]; then
        set +e; msg=$("$B/attnmix-$nxt" --config "$D/k.yaml" --quiet --out "$D/should-not-exist.h5" 2>&1); rc=$?; set -e
        [[ $rc != 0 && ! -e $D/should-not-exist.h5 ]] || fail "$nxt ran on the output of a killed $st"
        [[ $msg == *"$(basename "$out")"* ]] || fail "$nxt's message does not name the missing $out: $msg"
      fi
    fi
    # The rerun completes, removes the killed writer's temporary file, and matches the reference.
    "$B/attnmix-$st" --config "$D/k.yaml" --quiet
    same_as_ref "$out" "$st" || fail "$st: rerun after kill differs from reference"
    ls "$M" | grep -q "$(basename "$out").tmp-" && fail "$st: stale temporary file not removed: $(ls "$M")"
  done
done
(( interrupted >= 3 )) || fail "only $interrupted kills landed while a stage was running; the test did not test"
echo "kill: ok ($interrupted interrupted runs)"
