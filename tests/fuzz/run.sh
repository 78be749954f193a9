#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) into BUILD_FUZZ and runs
# each for FUZZ_SECONDS on a working copy of its seed corpus. Fails on any
# crash, leak, timeout (> 10 s per input) or allocation over the limits.
#   tests/fuzz/run.sh [HARNESS...]      (default: every tests/fuzz/fuzz_*.c)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${FUZZ_SECONDS:-20}
B=${BUILD_FUZZ:-build-fuzz}
JOBS=${JOBS:-$(nproc)}

tools/setup-deps.sh --fuzz

if [[ ! -f $B/CMakeCache.txt ]]; then
  mkdir -p "$B"
  cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DATTNMIX_FUZZ=ON -DCMAKE_BUILD_TYPE=Release -Wno-dev \
    >"$B/configure.log" 2>&1 || { cat "$B/configure.log"; exit 1; }
fi
cmake --build "$B" --target fuzz_all -j "$JOBS" -- --no-print-directory -s

if (($#)); then harnesses=("$@"); else
  harnesses=(); for f in tests/fuzz/fuzz_*.c; do harnesses+=("$(basename "$f" .c)"); done
fi
mkdir -p "$B/artifacts"
failed=()
for h in "${harnesses[@]}"; do
  work=$B/corpus/$h
  mkdir -p "$work"
  log=$B/$h.log
  echo "fuzz: $h for ${SECONDS_EACH}s" >&2
  # full stacks where the suppression must see frames inside libhdf5 (no frame pointers)
  unwind=; [[ $h == fuzz_h5_stage ]] && unwind=:fast_unwind_on_malloc=0
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0$unwind \
  LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$B/fuzz/$h" "$work" "tests/fuzz/corpus/$h" -max_total_time="$SECONDS_EACH" -timeout=10 \
      -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="$B/artifacts/$h-" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo ?)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  if ((rc)); then
    failed+=("$h")
    echo "fuzz: $h FAILED (exit $rc), see $log and $B/artifacts/$h-*:" >&2
    grep -E "ERROR|SUMMARY|==[0-9]+==|runtime error|Test unit written" "$log" | head -20 >&2
  else
    echo "fuzz: $h ok: $execs inputs, $cov, corpus $(ls "$work" | wc -l) files" >&2
  fi
done
((${#failed[@]} == 0)) || { echo "fuzz: failures in ${failed[*]}" >&2; exit 1; }
