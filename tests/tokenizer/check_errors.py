#!/usr/bin/python3
"""attnmix-tokenize on a small synthetic tokenizer.json and on broken inputs.

- A tiny byte-level BPE tokenizer (256 byte tokens, a few merges as "a b"
  strings, added tokens with normalized false and true): ids must equal HF
  tokenizers on the same file.
- Broken tokenizer.json files (truncated, no model, bad merges, unsupported
  normalizer, bad regex, ...) must fail with exit 1 and a message naming the
  file and the JSON path.
- Invalid UTF-8 must fail with exit 1 naming the byte offset Python's decoder
  reports; CLI misuse exits 2, --help exits 0.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

BIN = os.environ["ATTNMIX_BIN"]
SRC = os.environ["ATTNMIX_SRC"]
TOK = os.path.join(BIN, "attnmix-tokenize")
REF = os.path.join(SRC, "tools", "tokenizer-ref.js")
QWEN = os.path.join(os.environ["ATTNMIX_TOKENIZER_DIR"], "tokenizer.json")
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def byte_alphabet():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def tiny():
    alpha = byte_alphabet()
    vocab = {alpha[b]: b for b in range(256)}
    merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor l", "Ġworl d",
              "Ã ©", "e s", "t es", "tes t"]
    for m in merges:
        a, b = m.split(" ")
        vocab.setdefault(a + b, len(vocab))
    qwen_regex = json.load(open(QWEN, encoding="utf-8"))["pre_tokenizer"]["pretokenizers"][0]
    added = [
        {"id": 269, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True},
        {"id": 270, "content": "<sep>", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": False},
        {"id": 271, "content": "<sep>>", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": False},
        {"id": 272, "content": "caf\u00e9", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": True, "special": False},
    ]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            qwen_regex,
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                           "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }


def run(args, stdin=b""):
    p = subprocess.run([TOK] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def main():
    work = tempfile.mkdtemp()
    good = tiny()
    gpath = os.path.join(work, "tiny.json")
    json.dump(good, open(gpath, "w", encoding="utf-8"), ensure_ascii=False)

    # ---- tiny tokenizer against HF ----
    texts = ["hello world", "hello<|endoftext|>world", "<sep>><sep>> <sep>", "cafe\u0301 caf\u00e9s",
             "tests testes hellohello", "x<|endoftext|>cafe\u0301<sep>", "\u00e9\u00e9 e\u0301", ""]
    inp = "".join(json.dumps(t) + "\n" for t in texts).encode()
    env = dict(os.environ)
    hf = subprocess.run(["node", REF, "encode", "--impl", "hf", "--tokenizer", gpath], input=inp,
                        stdout=subprocess.PIPE, env=env, check=True).stdout.decode().split("\n")
    rc, out, err = run(["--tokenizer", gpath, "--jsonl"], inp)
    ours = out.split("\n")
    check(rc == 0, f"tiny tokenizer loads and encodes (rc {rc} {err.strip()})")
    for t, a, b in zip(texts, ours, hf):
        check(json.loads(a) == json.loads(b), f"tiny tokenizer {json.dumps(t)}: ours {a} HF {b}")

    # ---- broken tokenizer.json files ----
    def variant(name, mutate):
        d = copy.deepcopy(good)
        mutate(d)
        p = os.path.join(work, name + ".json")
        json.dump(d, open(p, "w", encoding="utf-8"), ensure_ascii=False)
        return p

    def rm(d, *keys):
        for k in keys[:-1]:
            d = d[k]
        del d[keys[-1]]

    def setv(path, v):
        def f(d):
            for k in path[:-1]:
                d = d[k]
            d[path[-1]] = v
        return f

    trunc = os.path.join(work, "truncated.json")
    text = open(gpath, encoding="utf-8").read()
    open(trunc, "w", encoding="utf-8").write(text[: len(text) // 2])
    first_byte_tok = byte_alphabet()[ord("a")]
    cases = [
        (trunc, ["truncated.json", "invalid JSON at line"]),
        (variant("nomodel", lambda d: rm(d, "model")), ["$.model", "missing"]),
        (variant("wordlevel", setv(["model", "type"], "WordLevel")), ["$.model", "WordLevel"]),
        (variant("novocab", lambda d: rm(d, "model", "vocab")), ["$.model.vocab"]),
        (variant("badmerge", setv(["model", "merges", 3], "hell zz")), ["$.model.merges[3]", "zz"]),
        (variant("badmerge2", setv(["model", "merges", 2], "he ll o")), ["$.model.merges[2]", "one space"]),
        (variant("badmerge3", setv(["model", "merges", 1], 5)), ["$.model.merges[1]", "an integer"]),
        (variant("mergeout", lambda d: d["model"]["merges"].append("w or")), ["$.model.merges[13]", "wor"]),
        (variant("nfkc", setv(["normalizer"], {"type": "NFKC"})), ["$.normalizer", "NFKC"]),
        (variant("badregex", setv(["pre_tokenizer", "pretokenizers", 0, "pattern"], {"Regex": "(\\p{L}"})),
         ["$.pre_tokenizer.pretokenizers[0].pattern.Regex", "offset"]),
        (variant("behavior", setv(["pre_tokenizer", "pretokenizers", 0, "behavior"], "Removed")),
         ["$.pre_tokenizer.pretokenizers[0]", "Isolated"]),
        (variant("prefix", setv(["pre_tokenizer", "pretokenizers", 1, "add_prefix_space"], True)),
         ["$.pre_tokenizer.pretokenizers[1]", "add_prefix_space"]),
        (variant("alphabet", lambda d: rm(d, "model", "vocab", first_byte_tok)),
         ["$.model", "0x61"]),
        (variant("lstrip", setv(["added_tokens", 1, "lstrip"], True)), ["$.added_tokens[1]", "lstrip"]),
        (variant("dropout", setv(["model", "dropout"], 0.1)), ["$.model.dropout"]),
        (variant("decoder", setv(["decoder"], None)), ["$.decoder"]),
        (variant("dupid", setv(["added_tokens", 1, "id"], 5)), ["$.added_tokens[1]", "id 5", "(270)"]),
        (variant("gapid", setv(["added_tokens", 0, "id"], 300)), ["$.added_tokens[0]", "id 300", "(269)"]),
        (os.path.join(work, "missing.json"), ["missing.json", "No such file"]),
        (work, ["tokenizer.json", "No such file"]),
    ]
    for path, needles in cases:
        rc, out, err = run(["--tokenizer", path, "--jsonl"], b'"hello"\n')
        name = os.path.basename(path)
        ok = rc == 1 and err.startswith("attnmix-tokenize: ") and out == ""
        ok = ok and (path in err or name == "" or os.path.basename(path.rstrip("/")) in err)
        ok = ok and all(n in err for n in needles)
        check(ok, f"broken {name}: rc {rc}, message: {err.strip()}")

    # ---- invalid UTF-8 (offsets from Python's decoder) ----
    bad_inputs = [b"ab\xe4\xb8cd", b"\x80", b"ok \xc0\x80", b"surrogate \xed\xa0\x80",
                  b"big \xf4\x90\x80\x80", b"\xf5", b"tail \xe2\x82", b"x" * 1000 + b"\xff",
                  "caf\u00e9 ".encode() + b"\xc3"]
    for b in bad_inputs:
        try:
            b.decode("utf-8")
            off = None
        except UnicodeDecodeError as ex:
            off = ex.start
        rc, out, err = run(["--tokenizer", gpath], b)
        check(off is not None and rc == 1 and f"byte offset {off}" in err,
              f"invalid UTF-8 {b[:20]!r}: rc {rc}, expected offset {off}: {err.strip()}")
    # the real tokenizer too, through a directory path
    rc, out, err = run(["--tokenizer", os.path.dirname(QWEN)], b"\xe4\xbd\xa0\xe5\xa5\xbd\xe4")
    check(rc == 1 and "byte offset 6" in err, f"invalid UTF-8 with Qwen3 tokenizer: {err.strip()}")

    # ---- CLI ----
    rc, out, err = run(["--help"])
    check(rc == 0 and out.startswith("usage:"), "--help prints usage on stdout, exit 0")
    rc, out, err = run([])
    check(rc == 2 and "--tokenizer" in err, f"missing --tokenizer exits 2 ({rc})")
    rc, out, err = run(["--tokenizer", gpath, "--bogus"])
    check(rc == 2, f"unknown option exits 2 ({rc})")
    rc, out, err = run(["--tokenizer", gpath, "--jsonl"], b'"ok"\n[1]\n')
    check(rc == 1 and "line 2" in err, f"--jsonl non-string line: rc {rc}: {err.strip()}")
    rc, out, err = run(["--tokenizer", gpath, "--jsonl"], b'"ok"\n"unterminated\n')
    check(rc == 1 and "line 2" in err, f"--jsonl bad JSON line: rc {rc}: {err.strip()}")
    rc, out, err = run(["--tokenizer", gpath, "--decode"], b"[104, 5000]\n")
    check(rc == 1 and "5000" in err, f"--decode unknown id: rc {rc}: {err.strip()}")
    rc, out, err = run(["--tokenizer", gpath, "hello", "world"])
    check(rc == 0 and out.split()[0].isdigit(), "human mode prints ids")

    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
