#!/usr/bin/env bash
# bench/blog-cpu.sh on a reduced setting (tiny shape, one pair, 4 new tokens,
# weights streamed under a 64 KiB budget): it completes, reports the model's
# row with numbers, notes the streaming and the baseline's fate, and leaves
# only its report.
source "$(dirname "$0")/../pipeline/common.sh"
D=$1
rm -rf "$D"
out=$(bash "$ATTNMIX_SRC/bench/blog-cpu.sh" --bin "$ATTNMIX_BIN" --presets tiny --pairs 1 --max-new 4 --threads 2 \
  --resident-weights 64KiB --work "$D" 2>"$D.log") || { cat "$D.log"; fail "blog-cpu.sh failed"; }
row=$(grep "^| tiny |" <<< "$out") || fail "no row for tiny in: $out"
IFS='|' read -r _ model wgb wall pre dec passes rmem rdisk gbs gflops rss cube held _ <<< "$row"
[[ $(echo "$passes" | tr -d ' ') == 6 ]] || fail "passes: $passes (1 forward + 1 prefill in generate + 4 steps)"
awk -v w="$wall" -v p="$pre" -v d="$dec" -v r="$rss" -v c="$cube" 'BEGIN { exit !(w > 0 && p > 0 && d > 0 && r > 0 && c > 0 && w >= p + d) }' ||
  fail "implausible times or sizes: $row"
[[ $held == *"weights streamed: 0 of 4 layers resident, lm_head streamed"* ]] || fail "streaming not reported: $row"
[[ $out == *"PyTorch eager baseline"* || $out == *"baseline"* ]] || fail "the baseline is not mentioned: $out"
[[ -f $D/blog-cpu.md && ! -e $D/checkpoint && ! -e $D/out ]] || fail "work directory not cleaned: $(ls "$D")"
echo "blog-cpu.sh reduced run: $row"
