#!/usr/bin/env bash
# Speed of the whole analysis stage on a cube shaped like a Qwen3-14B run
# (40 layers x 40 heads = 1600 heads, 4 pairs x 5 alphas = 20 units, maps of
# side 64, float16; bench/make_analysis_cube.py): per-map statistics and 35
# motif features, PCA, both head distances, average-linkage clusters with k by
# silhouette, the exact-or-Barnes-Hut t-SNE of heads, of all maps and one per
# pair key. THREADS OpenMP threads (default 2); the target is under 2 minutes
# on 2 cores. Prints the wall and CPU time of attnmix-analyze, the time of each
# phase (from its progress lines) and the load average, then the baseline in
# the same script: scipy's linkage + fcluster and sklearn's silhouette over the
# same k range on the same head distances, and sklearn's Barnes-Hut t-SNE
# (n_jobs=THREADS, same parameters) of one key's 8,000 maps, against
# attnmix's time for the same work.
#
# usage: bench/analysis.sh        env: THREADS (2), BENCH_ANALYSIS_DIR (keep the
#        cube and outputs there), SKIP_SKLEARN=1 (no baseline)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ATTNMIX_BIN:-build/bin}
PY=/usr/bin/python3
THREADS=${THREADS:-2}
if [[ -n ${BENCH_ANALYSIS_DIR:-} ]]; then
  DIR=$BENCH_ANALYSIS_DIR
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d)
  trap 'rm -rf "$DIR"' EXIT
fi
[[ -f $DIR/cube14b.h5 ]] || $PY bench/make_analysis_cube.py "$DIR/cube14b.h5"
echo "machine: $(nproc) cores, load average before $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
OMP_NUM_THREADS=$THREADS /usr/bin/time -f "cpu %U user %S system" "$BIN/attnmix-analyze" \
  --out "$DIR/analysis.h5" "$DIR/cube14b.h5" 2>"$DIR/analyze.log" || { cat "$DIR/analyze.log"; exit 1; }
end=$(date +%s.%N)
grep -E "t-SNE (of|done)|heads:|pair .* done|wrote" "$DIR/analyze.log" | sed 's/^/  /'
echo "attnmix-analyze: wall $(echo "$end - $start" | bc) s, $(tail -1 "$DIR/analyze.log"), $THREADS threads, load average after $(cut -d' ' -f1-3 /proc/loadavg)"
[[ ${SKIP_SKLEARN:-0} == 1 ]] && exit 0
$PY bench/analysis_baseline.py "$DIR/analysis.h5" "$THREADS"
