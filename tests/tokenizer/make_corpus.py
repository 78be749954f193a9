#!/usr/bin/python3
"""Writes tests/tokenizer/corpus.jsonl: the tokenizer test corpus, one JSON
string per line. Deterministic (fixed seed); re-run after editing:

    /usr/bin/python3 tests/tokenizer/make_corpus.py > tests/tokenizer/corpus.jsonl
"""
import json
import random
import sys
import unicodedata

rng = random.Random(20240611)
lines = []


def add(*xs):
    lines.extend(xs)


# ---- scripts -------------------------------------------------------------------
add(
    "Hello, world! This is a simple English sentence.",
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX.",
    "Ça va? Élève, garçon, naïve, cœur, déjà vu, façade, Noël.",
    "Grüße aus München: Straße, Größe, Übermaß, ÄÖÜ äöü ß ẞ.",
    "Zażółć gęślą jaźń. Łódź, Kraków, Gdańsk.",
    "Tiếng Việt có nhiều dấu: Nguyễn, Đặng, người, được, những.",
    "Mañana, señor, año, piñata, ¿Qué tal? ¡Olé!",
    "Português: ação, coração, não, irmã, você.",
    "Русский текст: Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Українська: Ґанок, їжак, є, ї. Беларуская: ў.",
    "Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ἀρχὴ ἥμισυ παντός.",
    "العربية: أهلاً وسهلاً بكم في هذا الاختبار. مَرْحَبًا بِالْعَالَمِ",
    "עברית: שָׁלוֹם עוֹלָם, זהו מבחן. בְּרֵאשִׁית בָּרָא",
    "हिन्दी: नमस्ते दुनिया, यह एक परीक्षण है। क़ ख़ ग़ ज़ ड़ ढ़ फ़",
    "বাংলা: আমি বাংলায় গান গাই। তামিল: வணக்கம் உலகம்",
    "ไทย: สวัสดีชาวโลก นี่คือการทดสอบภาษาไทย ที่ไม่มีช่องว่างระหว่างคำ",
    "ລາວ: ສະບາຍດີ. ខ្មែរ: សួស្តី​ពិភពលោក. မြန်မာ: မင်္ဂလာပါ",
    "中文：你好，世界！这是一个测试句子，包含标点符号。",
    "繁體中文：臺灣的資訊科技產業發達。",
    "日本語：こんにちは世界。カタカナとひらがな、漢字を混ぜた文です。ｶﾀｶﾅ",
    "한국어: 안녕하세요 세계! 이것은 테스트 문장입니다.",
    "ქართული: გამარჯობა. Հայերեն: Բարեւ աշխարհ. አማርኛ: ሰላም ዓለም",
    "ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ. བོད་ཡིག། ᏣᎳᎩ. ᚠᚢᚦᚨᚱᚲ",
    "Astral: 𠀀𠀁𪚥 𝐀𝐁𝐂 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝄞𝄢 𓀀𓁐 🜁",
    "Mixed: English, Русский, 中文, العربية, עברית, हिन्दी, 한국어 in one line.",
)

# ---- emoji -----------------------------------------------------------------------
add(
    "I love it 👍👍🏽👍🏿!",
    "Family: 👨‍👩‍👧‍👦 couple: 👩‍❤️‍👨 flag: 🏳️‍🌈 🏴‍☠️",
    "Flags 🇯🇵🇺🇸🇩🇪🇫🇷 keycaps 1️⃣2️⃣#️⃣ hearts ❤️🧡💛",
    "🧑🏻‍💻🧑🏼‍🔬🧑🏽‍🚀🧑🏾‍🍳🧑🏿‍🎨",
    "😀😃😄😁😆😅😂🤣☺️😊",
    "text🙂text🙂🙂 🙂 🙂",
)

# ---- code ---------------------------------------------------------------------------
add(
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "#include <stdio.h>\n\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    "const f = async (x) => { await x?.y ?? 0; return `${x}`; };\n",
    "fn main() -> Result<(), Box<dyn Error>> {\n    let v: Vec<u8> = vec![1, 2, 3];\n    Ok(())\n}",
    "<html><body><div class=\"a b\">x &amp; y</div></body></html>",
    "{\"key\": [1, 2.5, -3e10, true, null], \"nested\": {\"a\": \"b\"}}",
    "for f in *.txt; do echo \"$f\" | sed -e 's/a/b/g' >> out.log 2>&1; done",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "\\begin{equation} \\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2} \\end{equation}",
    "    x = [i**2 for i in range(10) if i % 2 == 0]  # comment\r\n",
    "a=>b ==> c !== d <=> e ... ;;; ::: ||| &&& @@@ ###",
)

# ---- numbers ----------------------------------------------------------------------
add(
    "1234567890",
    "Pi is 3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803482534211706798214808651328230664709384460955058223172535940812848111745028410270193852110555964462294895493038196",
    "Year 2024, 1st, 2nd, 3rd, 100%, $1,000,000.00, 0x1F, 1e-9, -42",
    "٠١٢٣٤٥٦٧٨٩ ०१२३४५६७८९ ১২৩ 〇一二三 ①②③ ½ ¾ Ⅻ ² ³ ¹",
    "9" * 300,
    "phone: +1 (555) 123-4567, ISBN 978-3-16-148410-0",
)

# ---- contractions ------------------------------------------------------------------
add(
    "it's don't they're we've I'm you'll he'd",
    "IT'S DON'T THEY'RE WE'VE I'M YOU'LL HE'D",
    "It'S Don'T They'Re We'Ve I'M You'Ll He'D They'rE we'vE YOU'lL",
    "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D",
    "x'ſt 'ſ IT'ſ ſs ſ'S 'K 'k 'Ｓ",
    "rock'n'roll o'clock ''quoted'' 'single' ’curly’ it’s",
    "'''s''' ''ll 'lls 'dd 'mm",
)

# ---- whitespace ----------------------------------------------------------------------
add(
    "a  b   c    d     e",
    "   leading spaces",
    "trailing spaces   ",
    "     ",
    " ",
    "\t\ttabs\tand\t \tspaces\t",
    "line1\nline2\n\nline4\n\n\n",
    "windows\r\nline\r\n\r\nend\r\n",
    "mixed \r\n \n\r \t\n  \n",
    "\n",
    "\r",
    "a\u000bb\u000cc",
    "a\u0085b a \u0085 b \u0085\u0085x",
    "nbsp\u00a0here\u00a0\u00a0two, ideographic\u3000space, em\u2003space",
    "line sep\u2028para sep\u2029ogham\u1680mongolian\u180ezwsp\u200bbom\ufeff",
    "\u001c\u001d\u001e\u001f info separators",
    "x\u202fy\u205fz",
)

# ---- normalization ------------------------------------------------------------------
nfd = [
    "Cafe\u0301 re\u0301sume\u0301 nai\u0308ve",
    "A\u030angstro\u0308m \u212b \u2126 \u212a",
    "\u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af",
    "\u0958\u0959 \u0915\u093c",
    "a\u0301\u0316 q\u0307\u0323 e\u0304\u0301",
    "\u0344 \u0340\u0341 \u0374 \u037e \u0387",
    "\u1e9b\u0323 \u00c5 \u0041\u030a",
    "\u0301 starts with a mark",
    "e<|endoftext|>\u0301",
    "\ufb01 ligature stays (NFC, not NFKC) \u2460 \uff21",
    "\u0b47\u0b3e \u0dd9\u0dcf \u1025\u102e \u0cc6\u0cc2\u0cd5",
    "\uac00\u11a8 \uac00 \u11a8",
    # marks assigned after Unicode 9.0: HF's normalizer (Unicode 9.0 data) leaves them alone
    "a\u0369\u0d3b \u0d15\u0d3c\u0d4d a\u0369\u09fe \u0c15\u0c3c\u0c4d a\u0369\u1715 x\u1df6\u0316",
    "\U00011935\U00011930 \U00011938 a\U0001e4ec\u0316 \ua82c\u0369",
]
add(*nfd)
add(unicodedata.normalize("NFD", "Ça va? Élève, garçon, naïve, Tiếng Việt, Nguyễn, Ελληνικά ἀρχὴ, 한국어 테스트"))
add(unicodedata.normalize("NFD", "Zażółć gęślą jaźń. Грüße ёЁйЙ"))

# ---- added tokens -------------------------------------------------------------------
add(
    "<|endoftext|>",
    "a<|endoftext|>b",
    " <|endoftext|> ",
    "<|endoftext|><|endoftext|><|endoftext|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
    "<think>\nreasoning\n</think>\n\nanswer",
    "<tool_call>{\"name\": \"f\"}</tool_call><tool_response>ok</tool_response>",
    "<|endoftext|  <|endoftext| |> <|endoftext|>> <<|endoftext|> <|im_start <|im_end|",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>return 1<|fim_pad|>",
    "<|repo_name|>x<|file_sep|>y<|vision_start|><|image_pad|><|video_pad|><|vision_end|>",
    "<|object_ref_start|>o<|object_ref_end|><|box_start|>(1,2)<|box_end|><|quad_start|><|quad_end|><|vision_pad|>",
    "<|ENDOFTEXT|> <|EndOfText|> < |endoftext| >",
)

# ---- edge cases ----------------------------------------------------------------------
add(
    "",
    "a",
    "\u0000",
    "a\u0000b",
    "\u0000\u0000 x\u0000 \u0000y",
    "\u007f\u0080\u009f control \u0001\u0002\u0003",
    "\ue000\uf8ff private use, \ufffd replacement, \ufffe\uffff nonchar",
    "a" * 3000,
    " " * 3000,
    "\n" * 500,
    "ab" * 1500,
    "🙂" * 400,
    "中" * 2000,
    "-" * 1000 + "=" * 1000,
)

# ---- random strings from tricky code point classes (fuzz) ----------------------------
pools = [
    " \t\n\r\u000b\u000c\u0085\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\u200b\u180e",
    "aeiouAEIOUxyzßſKkSs",
    "0123456789٣४১①½Ⅻ²",
    "'\"!?.,;:-_()[]{}<>|/\\@#$%^&*+=~`",
    "\u0301\u0308\u0323\u0316\u0327\u030a\u0344\u093c\u0b3e\u0cd5\u11a8\u1161\u05b0\u064e\u0e38",
    "éÅåΩ한가각\u1100\uac00ぁアｱ中文字",
    "🙂👍🏽\u200d❤️🇯🇵1️⃣",
    "Ёжикдом",
]
for i in range(240):
    n = rng.randint(1, 40)
    s = "".join(rng.choice(rng.choice(pools)) for _ in range(n))
    if i % 7 == 0:
        s += rng.choice(["<|endoftext|>", "<think>", "<|im_start|>", "</tool_call>"]) + s[::-1]
    add(s)

# ---- one very long line (> 100 KB) ------------------------------------------------
words = ("the of and to in is was for on that with as by at from his her they have had "
         "were which this are be not or but one all their an has been would there who "
         "Tokenizer's BPE merges 12345 über naïve déjà Москва 東京 서울 القاهرة 🙂 "
         "don't WE'LL x'ſ\t\n  \r\n").split(" ")
parts = []
size = 0
while size < 120_000:
    w = rng.choice(words)
    if rng.random() < 0.05:
        w += rng.choice([",", ".", "!", "?", ";", ":", "\n", "  ", "<|endoftext|>"])
    parts.append(w)
    size += len(w.encode()) + 1
add(" ".join(parts))

out = sys.stdout
for s in lines:
    out.write(json.dumps(s, ensure_ascii=False) + "\n")
