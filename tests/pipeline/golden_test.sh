#!/usr/bin/env bash
# The structure of every stage file (h5dump -H: groups, datasets, types,
# shapes, attributes) matches tests/pipeline/golden/*.txt.
# Regenerate after an intended schema change: golden_test.sh DIR --update
source "$(dirname "$0")/common.sh"
D=$1
G=$HERE/golden
status=0
for f in tokens mix prefill cube; do
  got=$(h5dump -H "$D/out/tiny/$f.h5" | tail -n +2)
  if [[ ${2:-} == --update ]]; then mkdir -p "$G"; printf '%s\n' "$got" > "$G/$f.txt"; continue; fi
  if ! diff -u "$G/$f.txt" <(printf '%s\n' "$got") > "$D/$f.golden.diff"; then
    echo "FAIL: $f.h5 header differs from golden/$f.txt:"; head -40 "$D/$f.golden.diff"; status=1
  fi
done
[[ $status == 0 ]] && echo "golden headers: ok"
exit $status
