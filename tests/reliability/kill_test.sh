#!/usr/bin/env bash
# kill -9 at seeded random points of every stage (tokenize, embed-mix, forward,
# generate, analyze): afterwards either the complete output exists and equals
# the uninterrupted run's, or no output exists and the next stage refuses,
# naming the missing file; the rerun completes with the reference result and
# leaves no temporary file. ATTNMIX_FAULT_SEED picks other kill points.
source "$(dirname "$0")/common.sh"
D=$1
SEED=${ATTNMIX_FAULT_SEED:-1234}
KILLS=${ATTNMIX_FAULT_KILLS:-2}
RANDOM=$SEED
echo "kill points from seed $SEED ($KILLS per stage)" >&2
rm -rf "$D"; mkdir -p "$D"
make_model "$D/small" small
write_config "$D/k.yaml" "$D/out" "$D/small" 12 float32 "[0, 0.5, 1]"
one_thread "$D/k.yaml"
M=$D/out/tiny
declare -A OUT=([tokenize]=tokens [embed-mix]=mix [forward]=prefill [generate]=cube [analyze]=analysis)
declare -A NEXT=([tokenize]=embed-mix [embed-mix]=forward [forward]=generate [generate]=analyze [analyze]=)
declare -A MAIN=([tokenize]=ids_a [embed-mix]=embeddings [forward]=attention [generate]=attention)

cmd_of() {   # STAGE [OUT]
  if [[ $1 == analyze ]]; then echo "$B/attnmix-analyze --quiet --seed 5 --iterations 200 --out ${2:-$M/analysis.h5} $M/cube.h5"
  else echo "$B/attnmix-$1 --config $D/k.yaml --quiet${2:+ --out $2}"; fi
}
same_as_ref() {   # FILE STAGE
  local ref=$D/ref/$(basename "$1")
  if [[ $2 == analyze ]]; then same_datasets "$1" "$ref"
  else h5diff -d 0 "$1" "$ref" "${MAIN[$2]}" "${MAIN[$2]}" >/dev/null &&
    [[ $(h5dump -a fingerprint "$1" | grep '(0)') == $(h5dump -a fingerprint "$ref" | grep '(0)') ]]; fi
}
same_datasets() {   # A B : every dataset of A equals B's (attributes such as times may differ)
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
names = []
a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
assert names, "no datasets"
for n in names:
    x, y = a[n][()], b[n][()]
    if x.dtype.kind in "fc": assert np.allclose(x, y, rtol=0, atol=1e-12, equal_nan=True), n
    else: assert np.array_equal(x, y), n
PY
}
now_ms() { date +%s%3N; }

# Reference outputs, and how long each stage takes (the range of kill points).
mkdir -p "$D/ref"
declare -A MS
for st in tokenize embed-mix forward generate analyze; do
  t0=$(now_ms); $(cmd_of "$st"); MS[$st]=$(( $(now_ms) - t0 + 20 ))
  cp "$M/${OUT[$st]}.h5" "$D/ref/"
done
echo "stage times (ms): $(for st in "${!MS[@]}"; do printf '%s=%s ' "$st" "${MS[$st]}"; done)" >&2

interrupted=0
for st in tokenize embed-mix forward generate analyze; do
  out=$M/${OUT[$st]}.h5
  for ((k = 0; k < KILLS; k++)); do
    delay_ms=$(( (RANDOM * 32768 + RANDOM) % MS[$st] ))
    rm -f "$out"
    $(cmd_of "$st") & pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then interrupted=$((interrupted + 1)); landed=killed; else landed=finished; fi
    wait "$pid" 2>/dev/null || true
    echo "  $st: kill at ${delay_ms} ms ($landed)" >&2
    if [[ -e $out ]]; then
      same_as_ref "$out" "$st" || fail "$st: $out exists after kill at ${delay_ms} ms but differs from the reference"
    else
      nxt=${NEXT[$st]}
      if [[ -n $nxt ]]; then
        refuse "$nxt after $st was killed" $(cmd_of "$nxt" "$D/should-not-exist.h5")
        says "$nxt after killed $st" "$(basename "$out")"
        [[ ! -e $D/should-not-exist.h5 ]] || fail "$nxt wrote an output from a killed $st"
      fi
    fi
    $(cmd_of "$st") || fail "$st: rerun after kill at ${delay_ms} ms failed"
    same_as_ref "$out" "$st" || fail "$st: rerun after kill at ${delay_ms} ms differs from the reference"
    ! ls "$M" | grep -q "$(basename "$out").tmp-" ||
      fail "$st: stale temporary file not removed by the rerun: $(ls "$M")"
  done
done
(( interrupted >= 4 )) || fail "only $interrupted kills landed while a stage was running; the test did not test"
echo "kill: ok ($interrupted of $((5 * KILLS)) runs interrupted, seed $SEED)"
