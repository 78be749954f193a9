#!/usr/bin/env bash
# Runs every benchmark; each prints its numbers as ratios against a baseline
# measured in the same run. Select some with: tools/run-benchmarks.sh tokenizer tsne
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bin
all=(tokenizer cube-write matmul runtime tsne analysis)
sel=("$@")
((${#sel[@]})) || sel=("${all[@]}")
for b in "${sel[@]}"; do
  echo "== $b"
  case $b in
    tokenizer) bench/tokenizer.sh ;;
    cube-write) "$BIN/bench-cube-write" --maps ../shared/data/qwen3-1.7b-blog-maps.h5 --copies 4 ;;
    matmul) "$BIN/bench-matmul" && "$BIN/bench-matmul" --threads "$(nproc)" ;;
    runtime) "$BIN/bench-runtime" ;;
    tsne) bench/tsne.sh ;;
    analysis) bench/analysis.sh ;;
    *) echo "unknown benchmark '$b' (one of: ${all[*]})" >&2; exit 2 ;;
  esac
done
