#!/usr/bin/env bash
# Damaged inputs of the generate stage: a mix.h5 that is truncated or
# overwritten, a prefill.h5 whose fingerprint attribute is missing or not a
# string, and one recorded from another mix. Each is refused with exit status
# 1 and a message naming the damaged file, leaves no output or temporary file,
# and (in the sanitizer build) no sanitizer report; the intact inputs then run.
source "$(dirname "$0")/common.sh"
tiny_run "$1" g.yaml 2
run_stages "$D/g.yaml" tokenize embed-mix forward || fail "the stages before generate failed"
cp "$M/mix.h5" "$D/good-mix.h5"
cp "$M/prefill.h5" "$D/good-prefill.h5"

# refused_generate DESC MIX PREFILL NAME... : generate on these inputs exits 1,
# names every NAME, writes nothing into $D/o and reports nothing under the sanitizers
refused_generate() {
  local desc=$1 mix=$2 prefill=$3; shift 3
  rm -rf "$D/o"; mkdir -p "$D/o"
  refuse "$desc" "$B/attnmix-generate" --config "$D/g.yaml" --quiet --force --in1 "$mix" --in2 "$prefill" \
    --out "$D/o/cube.h5"
  ((rc == 1)) || fail "$desc: exit status $rc, expected 1: $msg"
  says "$desc" "$@"
  [[ $msg != *Sanitizer* && $msg != *"runtime error:"* ]] || fail "$desc: sanitizer report: $msg"
  no_output "$D/o"
  [[ -z $(ls -A "$D/o") ]] || fail "$desc: left behind in $D/o: $(ls -A "$D/o")"
}

echo "mix.h5 truncated" >&2
cp "$D/good-mix.h5" "$D/trunc-mix.h5"
truncate -s $(($(stat -c %s "$D/good-mix.h5") / 2)) "$D/trunc-mix.h5"
refused_generate "truncated mix.h5" "$D/trunc-mix.h5" "$D/good-prefill.h5" "trunc-mix.h5"

echo "mix.h5 overwritten" >&2
cp "$D/good-mix.h5" "$D/zero-mix.h5"
dd if=/dev/zero of="$D/zero-mix.h5" bs=1024 count=4 conv=notrunc status=none
refused_generate "overwritten mix.h5" "$D/zero-mix.h5" "$D/good-prefill.h5" "zero-mix.h5"

echo "mix.h5 missing" >&2
refused_generate "missing mix.h5" "$D/no-such-mix.h5" "$D/good-prefill.h5" "no-such-mix.h5"

echo "prefill.h5 without its fingerprint" >&2
cp "$D/good-prefill.h5" "$D/nofp-prefill.h5"
/usr/bin/python3 - "$D/nofp-prefill.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    del f.attrs["fingerprint"]
PY
refused_generate "prefill.h5 without a fingerprint" "$D/good-mix.h5" "$D/nofp-prefill.h5" "nofp-prefill.h5" \
  "fingerprint"

echo "prefill.h5 with a fingerprint that is not a string" >&2
cp "$D/good-prefill.h5" "$D/intfp-prefill.h5"
/usr/bin/python3 - "$D/intfp-prefill.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    del f.attrs["fingerprint"]
    f.attrs["fingerprint"] = 12345
PY
refused_generate "prefill.h5 with a numeric fingerprint" "$D/good-mix.h5" "$D/intfp-prefill.h5" "intfp-prefill.h5" \
  "fingerprint"

echo "prefill.h5 from another mix" >&2
cp "$D/good-prefill.h5" "$D/other-prefill.h5"
/usr/bin/python3 - "$D/other-prefill.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    f.attrs.modify("mix_fingerprint", np.bytes_(b"0123456789abcdef"))
PY
refused_generate "prefill.h5 from another mix" "$D/good-mix.h5" "$D/other-prefill.h5" "other-prefill.h5" \
  "computed from another mix.h5" "re-run forward"

echo "intact inputs" >&2
rm -rf "$D/o"; mkdir -p "$D/o"
"$B/attnmix-generate" --config "$D/g.yaml" --quiet --in1 "$D/good-mix.h5" --in2 "$D/good-prefill.h5" \
  --out "$D/o/cube.h5" || fail "generate on the intact inputs failed"
[[ -s $D/o/cube.h5 && -s $M/generations.tsv ]] || fail "intact inputs: cube.h5 or generations.tsv missing"
[[ -z $(find "$D/o" "$M" -name '*.tmp-*') ]] || fail "intact inputs: temporary file left"
echo "generate inputs: ok"
