#!/usr/bin/env bash
# t-SNE speed: attnmix (bench-tsne, 2 threads) vs scikit-learn (n_jobs=2) on the
# same clustered 16-d data and parameters (Barnes-Hut, perplexity 30, 1000
# iterations, init pca). usage: bench/tsne.sh [N...]   (default 2000 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ATTNMIX_BIN:-build/bin}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
sizes=("$@")
((${#sizes[@]})) || sizes=(2000 20000)
for n in "${sizes[@]}"; do
  "$BIN/bench-tsne" --make "$TMP/x$n.h5" --n "$n" --dim 16 --clusters 10 --seed 1
  ours=$("$BIN/bench-tsne" --in "$TMP/x$n.h5" --method barnes_hut --threads 2)
  echo "$ours"
  if [[ ${SKIP_SKLEARN:-0} == 1 ]]; then continue; fi
  theirs=$(OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 $PY bench/tsne_sklearn.py "$TMP/x$n.h5" barnes_hut 30 1000 2)
  echo "$theirs"
  t1=$(sed -E 's/.*time=([0-9.]+).*/\1/' <<<"$ours"); t2=$(sed -E 's/.*time=([0-9.]+).*/\1/' <<<"$theirs")
  k1=$(sed -E 's/.*kl=([0-9.]+).*/\1/' <<<"$ours"); k2=$(sed -E 's/.*kl=([0-9.]+).*/\1/' <<<"$theirs")
  awk -v n="$n" -v a="$t1" -v b="$t2" -v c="$k1" -v d="$k2" \
    'BEGIN { printf "N=%d speed-up %.2fx (attnmix %.1f s, sklearn %.1f s), KL attnmix %.4f sklearn %.4f\n", n, b / a, a, b, c, d }'
done
