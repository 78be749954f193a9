#!/usr/bin/env bash
# The aarch64 cross-build: kernels/, pipeline/base and pipeline/model with
# their tests (ATTNMIX_CORE_ONLY), compiled with Debian's gcc-aarch64-linux-gnu
# against arm64 multiarch libraries and run under qemu-user through ctest
# (tools/aarch64-linux-gnu.cmake). The runtime tests use the host build's
# attnmix-make-checkpoint and the host python for the float64 reference.
# Usage: tools/cross-aarch64.sh BUILD_DIR HOST_BIN_DIR [ctest arguments...]
# (test aarch64_qemu of `make test`, tests/aarch64.cmake; docs/platforms.md)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 2 ]] || { echo "usage: $0 BUILD_DIR HOST_BIN_DIR [ctest arguments...]" >&2; exit 2; }
build=$1 host_bin=$2
shift 2
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
  command -v "$tool" >/dev/null ||
    { echo "cross-aarch64: $tool not found (tools/setup-deps.sh installs it on amd64 hosts)" >&2; exit 1; }
done
[[ -x $host_bin/attnmix-make-checkpoint ]] ||
  { echo "cross-aarch64: $host_bin/attnmix-make-checkpoint not found (build the host first: make build)" >&2; exit 1; }

mkdir -p "$build"
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$src" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$src/tools/aarch64-linux-gnu.cmake" -DATTNMIX_CORE_ONLY=ON \
    -DATTNMIX_HOST_BIN="$host_bin" -DCMAKE_BUILD_TYPE=Release -Wno-dev >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; rm -f "$build/CMakeCache.txt"; exit 1; }
fi
cmake --build "$build" -j "${JOBS:-2}" -- --no-print-directory -s
cd "$build"
ctest --output-on-failure --timeout 600 "$@"
