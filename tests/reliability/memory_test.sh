#!/usr/bin/env bash
# Memory limits: with ATTNMIX_MEMORY_LIMIT below what a model stage needs, the
# stage refuses before allocating, says what to change, and writes nothing;
# without the limit the same command completes.
source "$(dirname "$0")/common.sh"
tiny_run "$1" m.yaml 4
run_stages "$D/m.yaml" tokenize embed-mix
LIMIT=1000000   # 1 MB: the mix.h5 inputs fit, the model's weights do not

check_refusal() {   # STAGE OUTPUT
  says "$1" "$1 tiny: needs about" "GiB are available" "capture.layers" "capture.heads" "$D/m.yaml" \
    "generation.max_new_tokens" "--pair"
  [[ ! -e $2 ]] || fail "$1 under the memory limit wrote $2"
  ls "$M" | grep -q tmp- && fail "$1 under the memory limit left a temporary file: $(ls "$M")"
  return 0
}
refuse "forward over the memory limit" env ATTNMIX_MEMORY_LIMIT=$LIMIT "$B/attnmix-forward" --config "$D/m.yaml"
check_refusal forward "$M/prefill.h5"
"$B/attnmix-forward" --config "$D/m.yaml" --quiet || fail "forward without the limit failed"
refuse "generate over the memory limit" env ATTNMIX_MEMORY_LIMIT=$LIMIT "$B/attnmix-generate" --config "$D/m.yaml"
check_refusal generate "$M/cube.h5"
"$B/attnmix-generate" --config "$D/m.yaml" --quiet || fail "generate without the limit failed"
[[ -f $M/cube.h5 ]] || fail "cube.h5 missing"

# The driver stops at the refusing stage with the same advice.
rm -rf "$D/out"
refuse "attnmix run over the memory limit" env ATTNMIX_MEMORY_LIMIT=$LIMIT "$B/attnmix" run "$D/m.yaml"
says "attnmix run" "needs about" "capture.layers" "$D/m.yaml"
[[ ! -e $M/prefill.h5 && ! -e $M/cube.h5 ]] || fail "attnmix run under the memory limit wrote a model output"
echo "memory: ok"
