#!/usr/bin/env bash
# The layering of the source tree, checked on the built libraries and the
# sources (docs/architecture.md):
#  - every project symbol a library uses is defined in that library or in one
#    it links (directly or through others), so no folder calls one above it;
#  - no project symbol is defined in two libraries;
#  - a folder of pipeline/ includes headers only of the libraries it links;
#  - HDF5 files, datasets and attributes are created and written only in
#    pipeline/h5 (the one HDF5 layer);
#  - pipeline/ has no sources at its top level, and kernels/ includes nothing
#    from pipeline/.
# Arguments: NAME=ARCHIVE=DEP1,DEP2,... for every library; ATTNMIX_SRC is the
# source tree.
set -euo pipefail
SRC=${ATTNMIX_SRC:?}
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

declare -A ARCHIVE DEPS
for arg in "$@"; do
  IFS='=' read -r name archive deps <<<"$arg"
  ARCHIVE[$name]=$archive
  DEPS[$name]=${deps//,/ }
done

closure() { # the libraries $1 may use: itself and everything below it
  local -A seen=()
  local todo=("$1")
  while ((${#todo[@]})); do
    local l=${todo[0]}
    todo=("${todo[@]:1}")
    [[ -n ${seen[$l]:-} ]] && continue
    seen[$l]=1
    for d in ${DEPS[$l]:-}; do todo+=("$d"); done
  done
  echo "${!seen[@]}"
}

# project symbols: am_* and the device kernels' dk_*
proj='^(am_|dk_)'
declare -A DEFINED_IN
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for l in "${!ARCHIVE[@]}"; do
  nm -g --defined-only "${ARCHIVE[$l]}" 2>/dev/null | awk 'NF == 3 {print $3}' | grep -E "$proj" | sort -u >"$tmp/$l.def" || true
  nm -g --undefined-only "${ARCHIVE[$l]}" 2>/dev/null | awk '{print $NF}' | grep -E "$proj" | sort -u >"$tmp/$l.undef" || true
  while read -r s; do
    if [[ -n ${DEFINED_IN[$s]:-} ]]; then bad "$s is defined in both ${DEFINED_IN[$s]} and $l"; fi
    DEFINED_IN[$s]=$l
  done <"$tmp/$l.def"
done
checked=0
for l in "${!ARCHIVE[@]}"; do
  allowed=" $(closure "$l") "
  while read -r s; do
    [[ -z $s ]] && continue
    checked=$((checked + 1))
    owner=${DEFINED_IN[$s]:-}
    if [[ -z $owner ]]; then bad "$l uses $s, which no library defines"
    elif [[ $allowed != *" $owner "* ]]; then bad "$l uses $s from $owner, which it does not link (it links: $(closure "$l"))"
    fi
  done <"$tmp/$l.undef"
done
echo "layers: ${#ARCHIVE[@]} libraries, $checked cross-library references checked"

# includes: a folder of pipeline/ includes headers only of the libraries it links
for dir in "$SRC"/pipeline/*/; do
  d=$(basename "$dir")
  [[ -n ${ARCHIVE[am_$d]:-} ]] || { bad "pipeline/$d/ is not a library of CMakeLists.txt"; continue; }
  allowed=" $(closure "am_$d") "
  while IFS=: read -r file line inc; do
    to=$(sed -E 's|.*#include "([a-z0-9_]+)/.*|\1|' <<<"$inc")
    [[ -d $SRC/pipeline/$to ]] || continue
    [[ $allowed == *" am_$to "* ]] || bad "${file#"$SRC"/}:$line includes $to/, but am_$d does not link am_$to"
  done < <(grep -rnE '#include "[a-z0-9_]+/' "$dir" || true)
done

# one HDF5 layer: files, datasets and attributes are created and written in pipeline/h5 only
if grep -rnE '\bH5(F|D|A|G)create|\bH5(D|A)write' "$SRC/pipeline" "$SRC/stages" --include='*.c' |
  grep -v "^$SRC/pipeline/h5/" >"$tmp/h5w"; then
  bad "HDF5 creates or writes outside pipeline/h5 (call its helpers):"; cat "$tmp/h5w" >&2
fi

top=$(find "$SRC/pipeline" -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' -o -name '*.cu' \) | wc -l)
((top == 0)) || bad "pipeline/ has $top source files at its top level: $(find "$SRC/pipeline" -maxdepth 1 -type f -printf '%f ')"
dirs=$(find "$SRC/pipeline" -mindepth 1 -maxdepth 1 -type d -printf '%f|' | sed 's/|$//')
if grep -rnE "#include \"($dirs)/" "$SRC/kernels" >"$tmp/kinc"; then
  bad "kernels/ includes pipeline/ headers:"; cat "$tmp/kinc" >&2
fi
exit $fail
