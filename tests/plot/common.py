"""Shared helpers of the attnmix-plot script tests."""
import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("ATTNMIX_BIN", "build/bin")
SRC = os.environ.get("ATTNMIX_SRC", ".")
PLOT = os.path.join(BIN, "attnmix-plot")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def run(*args):
    return subprocess.run([PLOT, *args], capture_output=True, text=True)


def fixtures(float16=False):
    d = tempfile.mkdtemp(prefix="attnmix-plot-")
    subprocess.run([sys.executable, os.path.join(SRC, "tests/plot/make_fixtures.py"), d]
                   + (["--float16"] if float16 else []), check=True)
    return d


def finish(name):
    if failures:
        print(f"{name}: {len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print(f"{name}: all checks passed")
