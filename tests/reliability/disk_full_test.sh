#!/usr/bin/env bash
# Disk full while a stage writes its output: the stage fails naming the file,
# leaves neither the output nor a temporary file, and the rerun with space
# completes with the same result as an unconstrained run.
#   1. file-size limit (ulimit -f, SIGXFSZ ignored: write() fails with EFBIG),
#      for every stage and for analyze; works without privileges.
#   2. a small tmpfs (ENOSPC) for the cube, when mounting is permitted.
source "$(dirname "$0")/common.sh"
tiny_run "$1" f.yaml 6
declare -A OUT=([tokenize]=tokens [embed-mix]=mix [forward]=prefill [generate]=cube)

# Reference run without limits.
run_stages "$D/f.yaml" tokenize embed-mix forward generate
mkdir -p "$D/ref"; cp "$M"/*.h5 "$D/ref/"
"$B/attnmix-analyze" --quiet --out "$D/ref/analysis.h5" "$M/cube.h5"
rm -rf "$D/out"

limited() {   # KB CMD... : run CMD with a file-size limit of KB kilobytes
  local kb=$1; shift
  ( trap '' XFSZ; ulimit -f "$kb"; exec "$@" )
}

for st in tokenize embed-mix forward generate; do
  out=$M/${OUT[$st]}.h5
  ref_size=$(stat -c %s "$D/ref/${OUT[$st]}.h5")
  kb=$((ref_size / 2048))   # half the output's size
  ((kb >= 1)) || kb=1
  refuse "$st with a ${kb} KB file-size limit" limited "$kb" "$B/attnmix-$st" --config "$D/f.yaml"
  says "$st disk full" "${OUT[$st]}.h5"
  [[ $msg == *"File too large"* || $msg == *"disk full"* || $msg == *"write failed"* ]] ||
    fail "$st disk full: message does not say the write failed: $msg"
  [[ ! -e $out ]] || fail "$st: $out exists after a failed write"
  ls "$M" | grep -q tmp- && fail "$st: temporary file left after a failed write: $(ls "$M")"
  "$B/attnmix-$st" --config "$D/f.yaml" --quiet || fail "$st: rerun with space failed"
  [[ -f $out ]] || fail "$st: rerun did not write $out"
done
h5diff -d 0 "$M/cube.h5" "$D/ref/cube.h5" attention attention || fail "cube after the disk-full reruns differs"

ref_size=$(stat -c %s "$D/ref/analysis.h5")
kb=$((ref_size / 2048))
refuse "analyze with a ${kb} KB file-size limit" limited "$kb" "$B/attnmix-analyze" --quiet --out "$D/analysis.h5" "$M/cube.h5"
says "analyze disk full" "analysis.h5"
[[ ! -e $D/analysis.h5 ]] || fail "analyze: output exists after a failed write"
ls "$D" | grep -q "analysis.h5.tmp-" && fail "analyze: temporary file left: $(ls "$D")"
"$B/attnmix-analyze" --quiet --out "$D/analysis.h5" "$M/cube.h5" || fail "analyze: rerun with space failed"

# tmpfs variant (needs mount permission).
mkdir -p "$D/small"
if mount -t tmpfs -o size=64k tmpfs "$D/small" 2>/dev/null; then
  trap 'umount "$D/small" 2>/dev/null || true' EXIT
  refuse "generate onto a full 64 KB tmpfs" "$B/attnmix-generate" --config "$D/f.yaml" --force --out "$D/small/cube.h5"
  says "generate on full tmpfs" "cube.h5"
  [[ -z $(ls -A "$D/small") ]] || fail "generate on full tmpfs left $(ls -A "$D/small")"
  umount "$D/small"; trap - EXIT
  echo "disk-full: tmpfs variant ok" >&2
else
  echo "NOTICE: tmpfs variant skipped (mount not permitted here); the ulimit -f variant ran" >&2
fi
echo "disk-full: ok"
