#!/usr/bin/env bash
# Formats the C and CUDA sources in the house style (.clang-format).
#   tools/format.sh          rewrite the files in place
#   tools/format.sh --check  list the files that differ from the style, exit 1 if any
# The generated tables (plot/colormap_data.h, tokenizer/tok_nfc_compat.h) stay
# as their generators write them. clang-format 14 (Debian 12's) defines the
# style; other versions format a few constructs differently, so --check skips
# (exit 77) with another version unless CLANG_FORMAT names a 14.
set -euo pipefail
cd "$(dirname "$0")/.."
CF=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
[[ -n $CF ]] || { echo "format: clang-format not found (apt-get install clang-format)" >&2; exit 77; }
mapfile -t files < <(find pipeline stages kernels tests bench \
  \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \) \
  ! -name colormap_data.h ! -name tok_nfc_compat.h | sort)
if [[ ${1:-} == --check ]]; then
  ver=$("$CF" --version | grep -o 'version [0-9]*' | grep -o '[0-9]*$' || true)
  [[ $ver == 14 ]] || { echo "format: $CF is version ${ver:-?}, the style is defined by 14: not checked" >&2; exit 77; }
  bad=()
  for f in "${files[@]}"; do
    "$CF" --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    printf 'format: not in the house style (run tools/format.sh): %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files in the house style"
  exit 0
fi
"$CF" -i "${files[@]}"
