# Shared set-up of the pipeline tests: a tiny synthetic checkpoint with the
# real tokenizer, and experiment configs pointing at it.
set -euo pipefail
: "${ATTNMIX_BIN:?}" "${ATTNMIX_TOKENIZER_DIR:?}" "${PYTHON:=/usr/bin/python3}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }

# fresh_dir DIR : empty DIR (created), printed as an absolute path
fresh_dir() {
  rm -rf "$1" && mkdir -p "$1" && (cd "$1" && pwd)
}

# make_model DIR [PRESET] : synthetic checkpoint (idempotent)
make_model() {
  local dir=$1 preset=${2:-tiny}
  [[ -f $dir/config.json ]] && return 0
  "$ATTNMIX_BIN/attnmix-make-checkpoint" --preset "$preset" --seed 7 --qk-scale 6 \
    --tokenizer "$ATTNMIX_TOKENIZER_DIR" --out "$dir" --quiet
}

# write_config FILE OUTDIR CHECKPOINT [MAX_NEW] [DTYPE] [ALPHAS]
write_config() {
  local file=$1 out=$2 ckpt=$3 n=${4:-6} dtype=${5:-float32} alphas=${6:-"[0, 0.5, 1]"}
  cat > "$file" <<YAML
experiment: pipeline-test
output_dir: $out
seed: 3
models:
  - name: tiny
    checkpoint: $ckpt
pairs:
  - key: capital
    a: "The capital of France is"
    b: "La capitale de la France est"
  - key: sums
    a: "12 + 7 ="
    b: "Nine times six equals"
alphas: $alphas
generation:
  max_new_tokens: $n
capture:
  dtype: $dtype
backend: cpu
threads: 2
YAML
}
