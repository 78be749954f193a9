#!/usr/bin/env bash
# t-SNE speed: attnmix (bench-tsne, method auto = FFT at these sizes, THREADS
# OpenMP threads) vs scikit-learn Barnes-Hut (n_jobs=THREADS) on the same
# clustered 16-d data (bench-tsne --make, 10 clusters, seed 1) and parameters
# (perplexity 30, early exaggeration 12, learning rate auto, init pca, 1000
# iterations). Prints both times, the speed-up, each side's reported KL and
# kl_exact_z: the KL of each embedding for the same sparse kNN P with the exact
# normalisation over all pairs (bench-tsne --eval), the fair comparison.
#
# usage: bench/tsne.sh [N...]          (default 2000 20000 87040)
# env:   THREADS (2), METHOD (auto), BENCH_TSNE_DIR (keep data and embeddings
#        there; default a temporary directory), REUSE_SKLEARN=1 (reuse
#        $BENCH_TSNE_DIR/sk$N.h5 and sk$N.log from an earlier run, e.g. a long
#        87,040-point scikit-learn run made in the background), SKIP_SKLEARN=1
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ATTNMIX_BIN:-build/bin}
PY=/usr/bin/python3
THREADS=${THREADS:-2}
METHOD=${METHOD:-auto}
if [[ -n ${BENCH_TSNE_DIR:-} ]]; then
  DIR=$BENCH_TSNE_DIR
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d)
  trap 'rm -rf "$DIR"' EXIT
fi
sizes=("$@")
((${#sizes[@]})) || sizes=(2000 20000 87040)
field() { sed -nE "s/.*[ ]$1=([0-9.]+).*/\1/p" <<<"$2" | head -1; }
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${sizes[@]}"; do
  [[ -f $DIR/x$n.h5 ]] || "$BIN/bench-tsne" --make "$DIR/x$n.h5" --n "$n" --dim 16 --clusters 10 --seed 1
  ours=$("$BIN/bench-tsne" --in "$DIR/x$n.h5" --method "$METHOD" --threads "$THREADS" --out "$DIR/ours$n.h5")
  echo "$ours"
  [[ ${SKIP_SKLEARN:-0} == 1 ]] && continue
  if [[ ${REUSE_SKLEARN:-0} == 1 && -f $DIR/sk$n.h5 && -f $DIR/sk$n.log ]]; then
    theirs=$(grep '^sklearn' "$DIR/sk$n.log")
    echo "$theirs (reused from $DIR/sk$n.log)"
  else
    theirs=$(OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS $PY bench/tsne_sklearn.py \
      "$DIR/x$n.h5" barnes_hut 30 1000 "$THREADS" "$DIR/sk$n.h5" | tee "$DIR/sk$n.log")
    echo "$theirs"
  fi
  skeval=$("$BIN/bench-tsne" --in "$DIR/x$n.h5" --eval "$DIR/sk$n.h5" --threads "$THREADS")
  echo "$skeval"
  awk -v n="$n" -v a="$(field time "$ours")" -v b="$(field time "$theirs")" -v c="$(field kl "$ours")" \
      -v d="$(field kl "$theirs")" -v e="$(field kl_exact_z "$ours")" -v f="$(field kl_exact_z "$skeval")" \
    'BEGIN { printf "N=%d speed-up %.2fx (attnmix %.1f s, sklearn %.1f s); KL reported attnmix %.4f sklearn %.4f; " \
                    "kl_exact_z attnmix %.4f sklearn %.4f\n", n, b / a, a, b, c, d, e, f }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
