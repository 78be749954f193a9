#!/usr/bin/env bash
# attnmix-tokenize against the two npm references on tests/tokenizer/corpus.jsonl:
# ids equal to HF tokenizers exactly (and the references agree with each other
# except where tests/tokenizer/known_ref_diffs.txt says), merges given as
# "a b" strings load the same, decode(encode(x)) == NFC(x) with NFC from
# String.prototype.normalize (HF's own normalizer on the lines listed in
# known_nfc_diffs.txt, where its Unicode 9.0 data differ), and decoding
# arbitrary id sequences equals HF.
set -euo pipefail
: "${ATTNMIX_BIN:?}" "${ATTNMIX_SRC:?}" "${ATTNMIX_TOKENIZER_DIR:?}" "${ATTNMIX_NODE_MODULES:?}"
PY=${PYTHON:-/usr/bin/python3}
T=$ATTNMIX_TOKENIZER_DIR/tokenizer.json
D=$ATTNMIX_SRC/tests/tokenizer
REF=$ATTNMIX_SRC/tools/tokenizer-ref.js
TOK=$ATTNMIX_BIN/attnmix-tokenize
export ATTNMIX_NODE_MODULES
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

node "$REF" encode --impl hf --tokenizer "$T" <"$D/corpus.jsonl" >"$W/hf.jsonl" &
node "$REF" encode --impl lenml --tokenizer "$T" <"$D/corpus.jsonl" >"$W/lenml.jsonl" &
node "$REF" nfc <"$D/corpus.jsonl" >"$W/nfc.jsonl" &
node "$REF" normalize --impl hf --tokenizer "$T" <"$D/corpus.jsonl" >"$W/hfnorm.jsonl" &
"$TOK" --tokenizer "$T" --jsonl <"$D/corpus.jsonl" >"$W/ours.jsonl"
wait %1 %2 %3 %4

fail=0
"$PY" "$D/compare.py" ids "$D/corpus.jsonl" "$W/ours.jsonl" "$W/hf.jsonl" "$W/lenml.jsonl" \
  "$D/known_ref_diffs.txt" || fail=1

# the same tokenizer with merges in the "left right" string form
"$PY" - "$T" "$W/strmerges.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
d["model"]["merges"] = [m if isinstance(m, str) else " ".join(m) for m in d["model"]["merges"]]
json.dump(d, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PYEOF
"$TOK" --tokenizer "$W/strmerges.json" --jsonl <"$D/corpus.jsonl" >"$W/ours_str.jsonl"
if cmp -s "$W/ours_str.jsonl" "$W/hf.jsonl"; then
  echo "string-form merges: identical to HF"
else
  echo "FAIL string-form merges give different ids"; fail=1
fi

# round trip: decode(encode(x)) == NFC(x)
"$TOK" --tokenizer "$T" --decode <"$W/ours.jsonl" >"$W/roundtrip.jsonl"
"$PY" "$D/compare.py" text "$W/nfc.jsonl" "$W/roundtrip.jsonl" "decode(encode(x)) vs JS NFC(x)" \
  "$D/known_nfc_diffs.txt" || fail=1
"$PY" "$D/compare.py" text "$W/hfnorm.jsonl" "$W/roundtrip.jsonl" "decode(encode(x)) vs HF normalizer(x)" || fail=1

# decoding id sequences that split characters (lossy UTF-8) and added tokens
"$PY" "$D/compare.py" decode-cases "$W/ours.jsonl" "$W/cases.jsonl"
node "$REF" decode --impl hf --tokenizer "$T" <"$W/cases.jsonl" >"$W/hf_dec.jsonl"
"$TOK" --tokenizer "$T" --decode <"$W/cases.jsonl" >"$W/ours_dec.jsonl"
"$PY" "$D/compare.py" text "$W/hf_dec.jsonl" "$W/ours_dec.jsonl" "decode of id windows vs HF decode" || fail=1

exit $fail
