#!/usr/bin/python3
"""Deterministic benchmark texts for the tokenizer, built from the words of a
tokenizer.json vocabulary (Zipf-weighted by id, so frequent words dominate).

    tokenizer_text.py TOKENIZER_JSON english|mixed MEGABYTES OUT
"""
import json
import random
import sys
import unicodedata


def byte_decoder():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


NO_SPACES = ("CJK", "THAI", "HIRAGANA", "KATAKANA")
SCRIPTS = ["LATIN", "CYRILLIC", "GREEK", "ARABIC", "HEBREW", "DEVANAGARI", "THAI", "CJK", "HANGUL",
           "HIRAGANA", "KATAKANA"]


def script_of(word):
    for ch in word:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            for s in SCRIPTS:
                if name.startswith(s):
                    return s
            return None
    return None


def vocab_words(path):
    dec = byte_decoder()
    vocab = json.load(open(path, encoding="utf-8"))["model"]["vocab"]
    words = {s: [] for s in SCRIPTS}
    for tok, tid in sorted(vocab.items(), key=lambda kv: kv[1]):
        try:
            w = bytes(dec[c] for c in tok).decode("utf-8")
        except (KeyError, UnicodeDecodeError):
            continue
        initial = w.startswith(" ")
        w = w.strip()
        if not w or not all(c.isalpha() for c in w):
            continue
        s = script_of(w)
        if s not in NO_SPACES and not (initial and len(w) > 1):
            continue  # word pieces: keep whole words of spaced scripts
        if s == "LATIN" and not w.isascii() and len(words[s]) > 20000:
            continue
        if s:
            words[s].append(w)
    return words


def zipf_picker(rng, items):
    weights = [1.0 / (i + 10) for i in range(len(items))]
    cum = []
    acc = 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    import bisect

    def pick():
        return items[min(len(items) - 1, bisect.bisect_left(cum, rng.random() * acc))]
    return pick


def english_sentence(rng, pick):
    n = rng.randint(5, 25)
    ws = []
    for i in range(n):
        w = pick().lower()
        r = rng.random()
        if r < 0.04:
            w += rng.choice(["s", "ed", "ing", "ly", "'s", "n't", "'ll"])
        elif r < 0.06:
            w = w + pick().lower()
        elif r < 0.08:
            w = str(rng.randint(0, 10 ** rng.randint(1, 6)))
        elif r < 0.10:
            w = w.capitalize()
        if i and rng.random() < 0.06:
            ws[-1] += rng.choice([",", ";", ":", " -", " ("]) if ws[-1][-1].isalnum() else ""
        ws.append(w)
    s = " ".join(ws)
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", "!", "\""])


def generate(kind, words, megabytes, rng):
    target = int(megabytes * 1_000_000)
    pick = {s: zipf_picker(rng, w) for s, w in words.items() if w}
    ascii_words = [w for w in words["LATIN"] if w.isascii()]
    pick_en = zipf_picker(rng, ascii_words)
    out = []
    size = 0
    while size < target:
        para = []
        for _ in range(rng.randint(2, 8)):
            if kind == "english":
                para.append(english_sentence(rng, pick_en))
                continue
            s = rng.choice(SCRIPTS + ["EN", "EN", "CODE", "EMOJI", "NFD"])
            if s == "EN":
                para.append(english_sentence(rng, pick_en))
            elif s == "CODE":
                v = pick_en().lower()
                para.append(f"def {v}_{rng.randint(0, 99)}(x, y=None):\n    return x.{pick_en().lower()}"
                            f"(y) + {rng.randint(0, 9999)}  # {pick_en().lower()}\n")
            elif s == "EMOJI":
                para.append(" ".join(rng.choice(["🙂", "👍🏽", "👨‍👩‍👧", "🇯🇵", "❤️", "🎉", "1️⃣"])
                                     + pick_en() for _ in range(rng.randint(3, 10))))
            elif s == "NFD":
                ws = [pick["LATIN"]() for _ in range(rng.randint(5, 15))]
                para.append(unicodedata.normalize("NFD", " ".join(ws)) + ".")
            elif pick.get(s):
                sep = "" if s in NO_SPACES else " "
                ws = [pick[s]() for _ in range(rng.randint(5, 20))]
                end = "。" if s in ("CJK", "HIRAGANA", "KATAKANA") else "."
                para.append(sep.join(ws) + end)
        p = " ".join(para) + "\n\n"
        out.append(p)
        size += len(p.encode("utf-8"))
    return "".join(out)


def main():
    if len(sys.argv) != 5 or sys.argv[2] not in ("english", "mixed"):
        print(__doc__, file=sys.stderr)
        return 2
    path, kind, mb, dst = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    rng = random.Random(12345 if kind == "english" else 67890)
    text = generate(kind, vocab_words(path), mb, rng)
    with open(dst + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    import os
    os.replace(dst + ".tmp", dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
