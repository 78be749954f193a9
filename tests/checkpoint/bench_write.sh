#!/usr/bin/env bash
# Write speed of attnmix-make-checkpoint against dd and cp of the same byte count
# (page-cache writes on the same file system). Usage: bench_write.sh [PRESET] [DIR] [REPEATS]
set -euo pipefail
preset=${1:-qwen3-0.6b}
dir=${2:-${TMPDIR:-/tmp}/attnmix-bench-write}
reps=${3:-5}
bin=${ATTNMIX_BIN:-$(dirname "$0")/../../build/bin}/attnmix-make-checkpoint
mkdir -p "$dir"
best() { sort -g | head -1; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
ours=$(for ((i = 0; i < reps; i++)); do rm -rf "$dir/ckpt"; sync; secs "$bin" --preset "$preset" --out "$dir/ckpt" --quiet; done | best)
bytes=$(stat -c %s "$dir/ckpt/model.safetensors")
ddt=$(for ((i = 0; i < reps; i++)); do rm -f "$dir/dd.bin"; sync; secs dd if=/dev/zero of="$dir/dd.bin" bs=1M count=$((bytes / 1048576)); done | best)
cpt=$(for ((i = 0; i < reps; i++)); do rm -f "$dir/cp.bin"; sync; secs cp "$dir/ckpt/model.safetensors" "$dir/cp.bin"; done | best)
printf "%s: %d bytes, best of %d\n" "$preset" "$bytes" "$reps"
for x in "make-checkpoint $ours" "dd $ddt" "cp $cpt"; do
  set -- $x; awk -v n="$1" -v t="$2" -v b="$bytes" 'BEGIN { printf "  %-16s %6.3f s  %5.2f GB/s\n", n, t, b / t / 1e9 }'
done
rm -rf "$dir"
