"""Helpers shared by the Python script tests (the counterpart of test_util.h):
checks that collect failures, the end of a test, and the FNV-1a fingerprint
attnmix stamps on its files."""
import sys

failures = []


def check(cond, what):
    """Record a failed check (printed at once) and go on."""
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def finish(name):
    """Exit 1 with a count when any check failed, else print '<name>: ok'."""
    if failures:
        print(f"{name}: {len(failures)} failure(s)", file=sys.stderr)
        sys.exit(1)
    print(f"{name}: ok")


def fnv1a(data: bytes) -> str:
    """64-bit FNV-1a as hex, as base/hash.h computes fingerprints."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h
