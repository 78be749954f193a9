#!/usr/bin/env bash
# Frozen attention patterns through the forward and generate stages on the
# tiny model: a run frozen with its own patterns reproduces the live cube bit
# for bit; alpha-1 patterns substituted into every unit land in
# OUT/<model>/frozen-a1/ with the source patterns in the maps and the freeze
# recorded in provenance; the analysis KL(live || frozen) after the prompt
# matches numpy on the logits and the per-position KL matches the float64
# reference; bad sources and selections are refused.
source "$(dirname "$0")/../pipeline/common.sh"
D=$1
mkdir -p "$D"
make_model "$D/tiny"
write_config "$D/f.yaml" "$D/out" "$D/tiny" 5
B=$ATTNMIX_BIN
M=$D/out/tiny
rm -rf "$D/out"
for s in tokenize embed-mix forward generate; do "$B/attnmix-$s" --config "$D/f.yaml" --quiet; done

# own patterns (default source: the live cube), every layer and head
"$B/attnmix-forward" --config "$D/f.yaml" --quiet --freeze-alpha 0 --freeze-from "$M/cube.h5" --out "$D/x0.h5"
"$B/attnmix-forward" --config "$D/f.yaml" --quiet --freeze-layers all
"$B/attnmix-generate" --config "$D/f.yaml" --quiet --freeze-layers all
[[ -f $M/frozen/prefill.h5 && -f $M/frozen/cube.h5 && -f $M/frozen/generations.tsv ]] || fail "frozen outputs missing: $(ls -R "$M")"
h5diff -d 0 "$M/cube.h5" "$M/frozen/cube.h5" attention attention || fail "self-frozen cube maps differ"
h5diff "$M/cube.h5" "$M/frozen/cube.h5" generated_ids generated_ids || fail "self-frozen tokens differ"
h5diff "$M/prefill.h5" "$M/frozen/prefill.h5" logits logits || fail "self-frozen logits differ"

# alpha-1 patterns in layers 0 and 2, heads 1 and 3
"$B/attnmix-forward" --config "$D/f.yaml" --quiet --freeze-alpha 1 --freeze-layers 0,2 --freeze-heads "[1, 3]"
"$B/attnmix-generate" --config "$D/f.yaml" --quiet --freeze-alpha 1 --freeze-layers 0,2 --freeze-heads "[1, 3]"
"$PYTHON" - "$M" <<'PY'
import sys, h5py, numpy as np
M = sys.argv[1]
live, fz, pf = h5py.File(M + "/cube.h5"), h5py.File(M + "/frozen-a1/cube.h5"), h5py.File(M + "/frozen-a1/prefill.h5")
for f in (fz, pf):
    a = dict(f.attrs)
    assert a["freeze_alpha"] == 1.0 and a["freeze_layers"] == "0,2" and a["freeze_heads"] == "1,3", a
    assert a["freeze_source"].endswith("tiny/cube.h5"), a["freeze_source"]
    assert a["freeze_source_fingerprint"] == live.attrs["fingerprint"]
al = list(live["alpha"][:]); i1 = al.index(1.0)
A, B = live["attention"], fz["attention"]
L = live["length"][:]; Lf = fz["length"][:]
for p in range(A.shape[0]):
    for a in range(A.shape[1]):
        n = Lf[p, a]
        assert n <= L[p, i1]
        for l in (0, 2):
            for h in (1, 3):
                d = np.abs(B[p, a, l, h, :n, :n] - A[p, i1, l, h, :n, :n]).max()
                assert d == 0, (p, a, l, h, d)
        if a != i1:  # untouched heads see another QK input and move
            assert np.abs(B[p, a, 1, 0, :n, :n] - A[p, a, 1, 0, :n, :n]).max() > 0
# alpha = 1 units are their own source: identical to the live run
assert (fz["generated_ids"][:, i1] == live["generated_ids"][:, i1]).all()
print("frozen-a1: substituted heads equal the alpha-1 patterns; provenance recorded")
PY
[[ $(wc -l < "$M/frozen-a1/generations.tsv") == 7 ]] || fail "frozen generations.tsv"

# analysis of the frozen runs it is given: KL(live || frozen) of the next-token distributions per (pair, alpha), texts
"$B/attnmix-analyze" --out "$D/an.h5" --name "tiny=$M/cube.h5" --frozen "tiny=$M/frozen-a1" --frozen "tiny=$M/frozen" \
  --iterations 250 --perplexity 5 --quiet
"$PYTHON" - "$M" "$D/an.h5" <<'PY'
import sys, h5py, numpy as np
from scipy.special import log_softmax
M, an = sys.argv[1], h5py.File(sys.argv[2])
live = h5py.File(M + "/prefill.h5")["logits"][:].astype(np.float64)
g = an["models/tiny/frozen"]
assert sorted(g) == ["frozen", "frozen-a1"], list(g)
assert (g["frozen/kl"][:] == 0).all(), g["frozen/kl"][:]
fz = h5py.File(M + "/frozen-a1/prefill.h5")["logits"][:].astype(np.float64)
lp, lq = log_softmax(live, axis=-1), log_softmax(fz, axis=-1)
ref = (np.exp(lp) * (lp - lq)).sum(-1)
kl = g["frozen-a1/kl"][:]
assert np.abs(kl - ref).max() < 1e-9, (kl, ref)
i1 = list(an["models/tiny/alpha"][:]).index(1.0)
assert (kl[:, i1] == 0).all() and (kl[:, :i1] > 0).all(), kl
assert g["frozen-a1"].attrs["freeze_alpha"] == 1.0 and g["frozen-a1"].attrs["freeze_layers"] == "0,2"
t = g["frozen-a1/text"]
assert t.shape == kl.shape and t.dims[1][0].name.endswith("alpha")
np.set_printoptions(precision=4)
print("KL(live || frozen-a1) per pair x alpha:", kl.tolist())
assert (g["frozen/kl_step"][:] == 0).all() and (g["frozen/kl_steps"][:] == 5).all()
PY
# frozen runs are inputs only when given: none without --frozen; a directory without a prefill is refused
"$B/attnmix-analyze" --out "$D/an0.h5" --name "tiny=$M/cube.h5" --iterations 250 --perplexity 5 --quiet
"$PYTHON" -c 'import sys, h5py; g = h5py.File(sys.argv[1])["models/tiny"]; assert "frozen" not in g, list(g)' "$D/an0.h5"
set +e; msg=$("$B/attnmix-analyze" --out "$D/an1.h5" --name "tiny=$M/cube.h5" --frozen "tiny=$D/tiny" --quiet 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"$D/tiny/prefill.h5"* && ! -e $D/an1.h5 ]] || fail "--frozen without a prefill: rc $rc: $msg"
# per-position KL (teacher-forced along the live tokens) against the float64 reference
"$PYTHON" "$(dirname "$0")/kl_ref_check.py" "$M" frozen-a1 "$D/an.h5" "$D/tiny" "$D" 0,2 1,3

# index page: live and frozen texts side by side per alpha with the KL numbers; class-coloured scatter
"$B/attnmix-plot" report --cube "$M/cube.h5" --analysis "$D/an.h5" --outdir "$D/rep" 2>/dev/null
"$PYTHON" - "$M" "$D/an.h5" "$D/rep/index.html" <<'PY'
import sys, html, h5py, re
M, an, page = sys.argv[1], h5py.File(sys.argv[2]), open(sys.argv[3], encoding="utf-8").read()
g = an["models/tiny/frozen/frozen-a1"]
fz, live = h5py.File(M + "/frozen-a1/cube.h5"), h5py.File(M + "/cube.h5")
tables = re.findall(r'<table class="texts frozen">(.*?)</table>', page, re.S)
assert len(tables) == live["pair"].shape[0], len(tables)
dec = lambda s: s.decode() if isinstance(s, bytes) else s
for p, t in enumerate(tables):
    rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", t, re.S)
    assert len(rows) == live["alpha"].shape[0], rows
    for a, (al, cells) in enumerate(rows):
        tds = re.findall(r'<td class="txt">(.*?)</td>', cells, re.S)
        assert html.escape(dec(live["text"][p, a]), quote=False) in tds[0], (tds[0], live["text"][p, a])
        assert html.escape(dec(fz["text"][p, a]), quote=False) in tds[2], tds[2]
        assert f"mean {g['kl_mean'][p, a]:.4g}, max {g['kl_max'][p, a]:.4g}" in tds[2], tds[2]
        assert f"KL {g['kl'][p, a]:.4g} nats" in tds[2], tds[2]
assert "scatter-tsne-by-class.png" in page and "scatter-pca-by-class.png" in page
print("index page: frozen texts and KL for", len(tables), "pairs")
PY
# the report shows the frozen runs the analysis compared, never ones it finds on disk
"$B/attnmix-plot" report --cube "$M/cube.h5" --analysis "$D/an0.h5" --outdir "$D/rep0" 2>/dev/null
if grep -q 'class="texts frozen"' "$D/rep0/index.html"; then fail "report lists frozen runs its analysis file does not hold"; fi

# refusals: exit 1, a message naming the problem, no output
expect() { # expect MESSAGE CMD...
  local want=$1; shift
  set +e; msg=$("$@" 2>&1); rc=$?; set -e
  [[ $rc == 1 && $msg == *"$want"* ]] || fail "expected rc 1 and '$want', got rc $rc: $msg"
}
expect "has no alpha 0.3" "$B/attnmix-forward" --config "$D/f.yaml" --freeze-alpha 0.3 --out "$D/bad.h5"
expect "out of range (the model has 4 layers" "$B/attnmix-forward" --config "$D/f.yaml" --freeze-layers 9 --out "$D/bad.h5"
expect "is a prefill file" "$B/attnmix-generate" --config "$D/f.yaml" --freeze-from "$M/prefill.h5" --in2 "$M/frozen/prefill.h5" --out "$D/bad.h5"
expect "cannot be opened" "$B/attnmix-forward" --config "$D/f.yaml" --freeze-from "$D/nothing.h5" --out "$D/bad.h5"
[[ ! -e $D/bad.h5 ]] || fail "refused run left an output"
set +e; "$B/attnmix-tokenize" --config "$D/f.yaml" --freeze-alpha 1 >/dev/null 2>&1; rc=$?; set -e
[[ $rc == 2 ]] || fail "tokenize accepted --freeze-alpha (rc $rc)"
echo "freeze stages: ok"
