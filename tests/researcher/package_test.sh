#!/usr/bin/env bash
# tools/python: `pip install ./tools/python` without network into a venv of
# Debian's /usr/bin/python3 (with its system packages), then the reader on
# the researcher run (package_test.py).
set -euo pipefail
: "${ATTNMIX_SRC:?}"
D=$(cd "$1" && pwd)
PY=${PYTHON:-/usr/bin/python3}
V=$D/venv
rm -rf "$V" "$D/pkg-src"
# pip builds a setup.py project in its own directory: build a copy, not the source tree
cp -r "$ATTNMIX_SRC/tools/python" "$D/pkg-src"
"$PY" -m venv --system-site-packages "$V"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "$V/bin/pip" install --quiet --no-index "$D/pkg-src" ||
  { echo "FAIL: pip install ./tools/python (no network)"; exit 1; }
cd "$D" # not the source tree: the installed package is the one imported
"$V/bin/python" -c "import attnmix, sys; assert attnmix.__file__.startswith(sys.prefix), attnmix.__file__"
"$V/bin/python" "$ATTNMIX_SRC/tests/researcher/package_test.py" "$D"
