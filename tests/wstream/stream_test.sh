#!/usr/bin/env bash
# Weight streaming through the stage programs on the tiny model: the run with
# every weight mapped, a run with resident_weights below the checkpoint's size
# and a run whose memory limit (ATTNMIX_MEMORY_LIMIT) is below it (auto
# budget) give the same prefill and cube, every dataset bit for bit; a limit
# too small even for streaming is refused before anything is written.
source "$(dirname "$0")/../pipeline/common.sh"
D=$1
rm -rf "$D"; mkdir -p "$D"
make_model "$D/tiny"
B=$ATTNMIX_BIN

stages() { # CONFIG
  "$B/attnmix-tokenize" --config "$1" --quiet
  "$B/attnmix-embed-mix" --config "$1" --quiet
  "$B/attnmix-forward" --config "$1" --quiet
  "$B/attnmix-generate" --config "$1" --quiet
}
same() { # DIR_A DIR_B
  "$PYTHON" - "$1" "$2" <<'PY' || fail "$2 differs from $1"
import sys, h5py, numpy as np
for name in ("prefill.h5", "cube.h5"):
    a, b = h5py.File(f"{sys.argv[1]}/{name}", "r"), h5py.File(f"{sys.argv[2]}/{name}", "r")
    seen = []
    def visit(path, obj):
        if isinstance(obj, h5py.Dataset):
            x, y = obj[()], b[path][()]
            assert x.shape == y.shape and x.dtype == y.dtype, (name, path)
            if x.dtype.kind == "f":
                assert np.array_equal(x.view(np.uint8), y.view(np.uint8)), (name, path, "bits differ")
            else:
                assert np.array_equal(x, y), (name, path)
            seen.append(path)
    a.visititems(visit)
    assert any("attention" in p for p in seen), seen
PY
  cmp -s "$1/generations.tsv" "$2/generations.tsv" || fail "generations.tsv differs between $1 and $2"
}
backend() { # FILE: the recorded backend
  "$PYTHON" -c 'import sys, h5py; v = h5py.File(sys.argv[1], "r").attrs["backend"]; print(v.decode() if isinstance(v, bytes) else v)' "$1"
}

write_config "$D/mapped.yaml" "$D/mapped" "$D/tiny" 6
stages "$D/mapped.yaml"

# resident_weights far below the checkpoint: every layer and the lm_head stream
write_config "$D/budget.yaml" "$D/budget" "$D/tiny" 6
echo "resident_weights: 16KiB" >> "$D/budget.yaml"
stages "$D/budget.yaml"
same "$D/mapped/tiny" "$D/budget/tiny"
[[ $(backend "$D/mapped/tiny/cube.h5") != *streamed* ]] || fail "the mapped run says it streamed"
for f in prefill cube; do
  [[ $(backend "$D/budget/tiny/$f.h5") == *"; weights streamed: 0 of 4 layers resident, lm_head streamed" ]] ||
    fail "$f.h5 of the budget run: backend $(backend "$D/budget/tiny/$f.h5")"
done

# a budget above the checkpoint's size: everything mapped, as without one
write_config "$D/large.yaml" "$D/large" "$D/tiny" 6
echo "resident_weights: 12GiB" >> "$D/large.yaml"
"$B/attnmix-tokenize" --config "$D/large.yaml" --quiet
"$B/attnmix-embed-mix" --config "$D/large.yaml" --quiet
"$B/attnmix-forward" --config "$D/large.yaml" --quiet
[[ $(backend "$D/large/tiny/prefill.h5") != *streamed* ]] || fail "12GiB budget streamed: $(backend "$D/large/tiny/prefill.h5")"

# auto: the memory limit holds the run but not the mapped checkpoint
size=$(du -bc "$D"/tiny/*.safetensors | tail -1 | cut -f1)
write_config "$D/auto.yaml" "$D/auto" "$D/tiny" 6
ATTNMIX_MEMORY_LIMIT=$((size * 3 / 4)) stages "$D/auto.yaml"
same "$D/mapped/tiny" "$D/auto/tiny"
[[ $(backend "$D/auto/tiny/cube.h5") == *"weights streamed: "*" of 4 layers resident, lm_head streamed" ]] ||
  fail "the auto run under the limit did not stream: $(backend "$D/auto/tiny/cube.h5")"

# too little memory even when streaming: refused, exit 1, nothing written
write_config "$D/small.yaml" "$D/small" "$D/tiny" 6
"$B/attnmix-tokenize" --config "$D/small.yaml" --quiet
"$B/attnmix-embed-mix" --config "$D/small.yaml" --quiet
set +e
msg=$(ATTNMIX_MEMORY_LIMIT=200000 "$B/attnmix-forward" --config "$D/small.yaml" 2>&1); rc=$?
set -e
[[ $rc == 1 && $msg == *"forward tiny: needs about"*"with the weights streamed (resident weights"*"layers"* ]] ||
  fail "forward under a 200 kB limit (rc=$rc): $msg"
[[ ! -e $D/small/tiny/prefill.h5 ]] || fail "refused forward left prefill.h5"

# the disk check before generate: refused, naming the output, and (streaming)
# that the checkpoint must stay
set +e
msg=$(ATTNMIX_DISK_FREE=1000 "$B/attnmix-generate" --config "$D/budget.yaml" --force --out "$D/nospace/cube.h5" 2>&1); rc=$?
set -e
[[ $rc == 1 && $msg == *"nospace/cube.h5 needs about"*"GiB free"*"weights stream from the checkpoint at every step"* ]] ||
  fail "generate with 1000 bytes free (rc=$rc): $msg"
[[ ! -e $D/nospace/cube.h5 ]] || fail "refused generate left a cube"
set +e
msg=$(ATTNMIX_DISK_FREE=1000 "$B/attnmix-generate" --config "$D/mapped.yaml" --force --out "$D/nospace/cube.h5" 2>&1); rc=$?
set -e
[[ $rc == 1 && $msg == *"needs about"*"GiB free"* && $msg != *"weights stream"* ]] ||
  fail "generate (mapped) with 1000 bytes free (rc=$rc): $msg"

# a bad value names the key and the place
echo "resident_weights: lots" >> "$D/small.yaml"
set +e
msg=$("$B/attnmix-forward" --config "$D/small.yaml" 2>&1); rc=$?
set -e
[[ $rc == 2 && $msg == *"small.yaml:"*"'resident_weights' must be auto or a positive size"*"lots"* ]] ||
  fail "bad resident_weights (rc=$rc): $msg"
echo "weight streaming through the stages: bitwise equal, refusals clear"
