#!/usr/bin/env bash
# Runs the four model stages one by one on the tiny model, checks reruns are
# no-ops, mismatched inputs are refused, and leaves the outputs for the cube
# checks (fixture `pipeline_cube`).
source "$(dirname "$0")/common.sh"
D=$1
mkdir -p "$D"
make_model "$D/tiny"
write_config "$D/pipe.yaml" "$D/out" "$D/tiny"
B=$ATTNMIX_BIN
M=$D/out/tiny
rm -rf "$D/out"

"$B/attnmix-tokenize" --config "$D/pipe.yaml" --quiet
"$B/attnmix-embed-mix" --config "$D/pipe.yaml" --quiet
"$B/attnmix-forward" --config "$D/pipe.yaml" --quiet
"$B/attnmix-generate" --config "$D/pipe.yaml" --quiet
for f in tokens mix prefill cube; do [[ -f $M/$f.h5 ]] || fail "$M/$f.h5 missing"; done
[[ -f $M/generations.tsv ]] || fail "generations.tsv missing"
ls "$M" | grep -q tmp- && fail "temporary files left in $M: $(ls "$M")"

# A rerun of a complete stage is a no-op: same bytes, and it says so.
sum=$(md5sum < "$M/cube.h5")
msg=$("$B/attnmix-generate" --config "$D/pipe.yaml" 2>&1)
[[ $msg == *"up to date"* ]] || fail "rerun of generate did not report up to date: $msg"
[[ $(md5sum < "$M/cube.h5") == "$sum" ]] || fail "rerun changed cube.h5"

# --force recomputes and gives the same maps (deterministic).
"$B/attnmix-generate" --config "$D/pipe.yaml" --quiet --force --out "$D/cube-again.h5"
h5diff -d 0 "$M/cube.h5" "$D/cube-again.h5" attention attention || fail "recomputed cube differs"

# A stage refuses an input of the wrong kind, naming the file and the schema.
set +e
msg=$("$B/attnmix-forward" --config "$D/pipe.yaml" --in1 "$M/tokens.h5" --out "$D/x.h5" 2>&1); rc=$?
set -e
[[ $rc == 1 && $msg == *"tokens.h5: schema is 'attnmix.tokens/1', expected 'attnmix.mix/1'"* ]] ||
  fail "forward accepted tokens.h5 as mix input (rc=$rc): $msg"
[[ ! -e $D/x.h5 ]] || fail "refused stage left an output"

# A prefill from another mix is refused by generate.
write_config "$D/other.yaml" "$D/other" "$D/tiny" 6 float32 "[0, 1]"
"$B/attnmix-tokenize" --config "$D/other.yaml" --quiet
"$B/attnmix-embed-mix" --config "$D/other.yaml" --quiet
set +e
msg=$("$B/attnmix-generate" --config "$D/pipe.yaml" --in2 "$D/other/tiny/mix.h5" --out "$D/y.h5" 2>&1); rc=$?
set -e
[[ $rc == 1 && $msg == *"expected 'attnmix.prefill/1'"* ]] || fail "generate accepted a mix as prefill: $msg"
"$B/attnmix-forward" --config "$D/other.yaml" --quiet
set +e
msg=$("$B/attnmix-generate" --config "$D/pipe.yaml" --in2 "$D/other/tiny/prefill.h5" --out "$D/y.h5" 2>&1); rc=$?
set -e
[[ $rc == 1 && $msg == *"other/tiny/prefill.h5 (made from $D/other.yaml) does not match $D/pipe.yaml in: alphas;"* ]] || fail "generate accepted a foreign prefill: $msg"

# Usage errors exit 2, --help exits 0.
"$B/attnmix-generate" --help | grep -q "usage: attnmix-generate" || fail "--help"
set +e; "$B/attnmix-generate" --bogus >/dev/null 2>&1; rc=$?; set -e
[[ $rc == 2 ]] || fail "misuse exit code $rc"
echo "stages: ok"
