#!/usr/bin/env bash
# Damaged checkpoints: truncated shards, a missing shard and bit flips in the
# safetensors headers. The model stages refuse with a message naming the shard
# file (or, for a flip that still parses, refuse every output computed from
# the intact checkpoint: its fingerprint no longer matches), write nothing, and
# run again once the checkpoint is restored. Flips inside tensor data are not
# detectable (safetensors carries no checksums) and are not tried.
source "$(dirname "$0")/common.sh"
D=$1
SEED=${ATTNMIX_FAULT_SEED:-4321}
FLIPS=${ATTNMIX_FAULT_FLIPS:-8}
rm -rf "$D"; mkdir -p "$D"
"$B/attnmix-make-checkpoint" --preset tiny --seed 7 --shards 2 --tokenizer "$ATTNMIX_TOKENIZER_DIR" --out "$D/good" --quiet
write_config "$D/c.yaml" "$D/out" "$D/ckpt" 4
one_thread "$D/c.yaml"
M=$D/out/tiny
cp -r "$D/good" "$D/ckpt"
run_stages "$D/c.yaml" tokenize embed-mix
cp "$M/mix.h5" "$D/good-mix.h5"
shards=("$D"/good/model-*.safetensors)
((${#shards[@]} == 2)) || fail "expected 2 shards, got: ${shards[*]}"

restore() { rm -rf "$D/ckpt"; cp -r "$D/good" "$D/ckpt"; }
# refused_cleanly DESC STAGE PATTERN... : STAGE on the damaged checkpoint is refused
refused_cleanly() {
  local desc=$1 st=$2; shift 2
  refuse "$desc ($st)" "$B/attnmix-$st" --config "$D/c.yaml" --force --in1 "$D/good-mix.h5" --out "$D/x.h5"
  says "$desc ($st)" "$@"
  [[ ! -e $D/x.h5 ]] || fail "$desc: $st wrote an output"
  ls "$D" | grep -q "x.h5.tmp-" && fail "$desc: $st left a temporary file"
  return 0
}

for s in "${shards[@]}"; do
  name=$(basename "$s")
  size=$(stat -c %s "$s")
  for cut in $((size / 2)) $((size - 1)) 100 5; do
    restore
    truncate -s "$cut" "$D/ckpt/$name"
    refused_cleanly "$name truncated to $cut bytes" forward "$name"
  done
done
restore
rm "$D/ckpt/$(basename "${shards[1]}")"
refused_cleanly "missing shard" forward "$(basename "${shards[1]}")"

# Header length claiming 1 TB: refused before any allocation.
restore
/usr/bin/python3 - "$D/ckpt/$(basename "${shards[0]}")" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f: f.write(struct.pack("<Q", 1 << 40))
PY
refused_cleanly "1 TB header length" forward "$(basename "${shards[0]}")" "header"

# Seeded single-bit flips inside the JSON headers.
RANDOM=$SEED
echo "header bit flips from seed $SEED" >&2
for ((k = 0; k < FLIPS; k++)); do
  restore
  s=${shards[$((RANDOM % 2))]}; name=$(basename "$s")
  hl=$(/usr/bin/python3 -c "import struct,sys; print(struct.unpack('<Q', open(sys.argv[1],'rb').read(8))[0])" "$s")
  pos=$((8 + (RANDOM * 32768 + RANDOM) % hl)); bit=$((RANDOM % 8))
  /usr/bin/python3 - "$D/ckpt/$name" "$pos" "$bit" <<'PY'
import sys
p, pos, bit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(p, "r+b") as f:
    f.seek(pos); b = f.read(1)[0]; f.seek(pos); f.write(bytes([b ^ (1 << bit)]))
PY
  set +e; msg=$("$B/attnmix-forward" --config "$D/c.yaml" --force --in1 "$D/good-mix.h5" --out "$D/x.h5" 2>&1); rc=$?; set -e
  ((rc != 0)) || fail "flip of bit $bit at byte $pos of $name: forward accepted a mix.h5 of the intact checkpoint"
  [[ $msg == *"$name"* || $msg == *"fingerprint"* ]] ||
    fail "flip of bit $bit at byte $pos of $name: message names neither the shard nor the fingerprint: $msg"
  [[ ! -e $D/x.h5 ]] || fail "flip at byte $pos of $name: forward wrote an output"
  echo "  flip bit $bit at byte $pos of $name: ${msg%%$'\n'*}" >&2
done

# Restored: the stages run and the result is the one of the intact checkpoint.
restore
run_stages "$D/c.yaml" tokenize embed-mix forward generate || fail "run on the restored checkpoint failed"
h5diff -d 0 "$M/mix.h5" "$D/good-mix.h5" embeddings embeddings || fail "restored checkpoint gives other embeddings"
echo "checkpoint: ok"
