#!/usr/bin/env bash
# The CUDA backend's checks on a GPU machine that cannot build attnmix (it
# lacks HDF5, libyaml and the other libraries of the CPU build). The programs
# the checks need link only libjansson, libgomp and cuBLAS, so:
#
#   tools/gpu-check.sh pack           (here, after make build) copies them and
#                                     their libraries, cuBLAS excepted, into .gpu/
#   tools/gpu-check.sh test           (there) test_kernels and test_cuda
#   tools/gpu-check.sh bench PRESET.. (there) bench-runtime --backend cuda on
#                                     synthetic checkpoints of each preset
#                                     (e.g. qwen3-1.7b qwen3-8b qwen3-14b) against
#                                     transformers' generate (runtime_baseline_hf.py)
#
# Logs go to $OUT (or .gpu/out). docs/cuda.md says what to look for.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
G=$ROOT/.gpu
out=${OUT:-$G/out}

need_gpu_env() {
  [[ -x $G/tests/test_cuda ]] || { echo "gpu-check: $G is missing; run 'tools/gpu-check.sh pack' first" >&2; exit 2; }
  mkdir -p "$out"
  local cublas
  cublas=$(find / -xdev -name 'libcublas.so.13' -not -path '*/proc/*' 2>/dev/null | head -n 1 || true)
  [[ -n $cublas ]] || { echo "gpu-check: libcublas.so.13 not found on this machine" >&2; exit 1; }
  export LD_LIBRARY_PATH=$G/lib:$(dirname "$cublas")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export ATTNMIX_BIN=$G/bin ATTNMIX_SRC=$ROOT
  nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
}

case ${1:-} in
pack)
  B=${BUILD:-build}
  [[ -x $B/tests/test_cuda ]] || { echo "gpu-check: build first (make build); $B/tests/test_cuda is missing" >&2; exit 2; }
  ldd "$B/tests/test_cuda" | grep -q libcublas || { echo "gpu-check: $B was built without CUDA" >&2; exit 2; }
  rm -rf "$G"
  mkdir -p "$G/bin" "$G/tests" "$G/lib"
  cp "$B/bin/attnmix-make-checkpoint" "$B/bin/bench-runtime" "$G/bin/"
  cp "$B/tests/test_kernels" "$B/tests/test_cuda" "$G/tests/"
  for lib in $(ldd "$G"/bin/* "$G"/tests/* | awk '/=>/ {print $3}' | sort -u); do
    case $(basename "$lib") in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libgcc_s.so*|libstdc++.so*|libcublas*) ;;
      *) cp -L "$lib" "$G/lib/" ;;
    esac
  done
  du -sh "$G"
  ;;
test)
  need_gpu_env
  work=$(mktemp -d)
  cd "$work"
  rc=0
  "$G/tests/test_kernels" > "$out/test_kernels.log" 2>&1 || rc=1
  "$G/tests/test_cuda" > "$out/test_cuda.log" 2>&1 || rc=1
  tail -n 5 "$out/test_kernels.log"
  cat "$out/test_cuda.log"
  rm -rf "$work"
  exit $rc
  ;;
bench)
  need_gpu_env
  shift
  (($#)) || set -- qwen3-1.7b
  for preset in "$@"; do
    ck=/tmp/gpu-check-$preset
    "$G/bin/attnmix-make-checkpoint" --preset "$preset" --dtype bf16 --seed 1 --out "$ck" --force --quiet
    "$G/bin/bench-runtime" --backend cuda --model "$ck" --baseline-units "${BASELINE_UNITS:-2}" \
      2>&1 | tee "$out/bench-$preset.log"
    rm -rf "$ck"
  done
  ;;
*)
  sed -n '2,15p' "$0"
  exit 2
  ;;
esac
