"""Checks what the browser saw (view_browser.js's JSON on stdin) against the
cube read with h5py: the hovered values are the cube's cells (the mean over
heads and the difference of two alphas computed here), the hover names the
tokens of both positions, the selection changed the map, the arrow keys
stepped alpha, the texts per alpha are the cube's /text, the report link
opens, and every path with ".." or an empty component is refused.
Usage: view_check.py CUBE < browser.json"""
import json
import sys
from urllib.parse import parse_qs

import h5py
import numpy as np

saw = json.load(sys.stdin)
f = h5py.File(sys.argv[1], "r")
att = f["attention"]
P, A, L, H, S, _ = att.shape
fails = []


def check(cond, msg):
    if not cond:
        fails.append(msg)


check(not saw.get("errors"), f"browser errors: {saw.get('errors')}")
check(saw.get("title") == "attnmix view", f"title {saw.get('title')}")
opts = saw.get("options", {})
check(opts.get("pair") == [s.decode() if isinstance(s, bytes) else s for s in f["pair"][()]], f"pairs {opts.get('pair')}")
check(len(opts.get("alpha", [])) == A and len(opts.get("layer", [])) == L, "alpha/layer options")
check(opts.get("head", [])[-2:] == ["mean", "std"] and len(opts["head"]) == H + 2, f"head options {opts.get('head')}")
check(saw.get("map_changed") is True, "selecting another head did not change the map")

tokens = f["tokens"].asstr()[()] if "tokens" in f else None
length = f["length"][()]


def sel(h):
    q = parse_qs(h["key"])
    g = lambda k: int(q[k][0])
    return g("pair"), g("alpha"), g("layer"), q["head"][0], int(q["diff"][0]) if "diff" in q else None


def cell(p, a, l, head, qi, ki):
    if head in ("mean", "std"):
        m = att[p, a, l, :, qi, ki].astype(np.float64)
        return m.mean() if head == "mean" else m.std()
    return float(att[p, a, l, int(head), qi, ki])


for h in saw.get("hover", []) + [saw.get("hover_mean"), saw.get("hover_diff")]:
    if not h:
        fails.append("a hover is missing")
        continue
    p, a, l, head, d = sel(h)
    n = int(length[p, a]) if d is None else int(min(length[p, a], length[p, d]))
    check(h["n"] == n, f"map size {h['n']}, cube length {n}")
    want = cell(p, a, l, head, h["q"], h["k"])
    if d is not None:
        want -= cell(p, d, l, head, h["q"], h["k"])
    if head in ("mean", "std") or d is not None:
        ok = abs(h["value"] - want) <= 1e-12 + 1e-9 * abs(want)
    else:
        ok = h["value"] == want  # the float32 cell, exactly
    check(ok, f"hover {h['key']} ({h['q']}, {h['k']}): page {h['value']!r}, cube {want!r}")
    lab = (lambda s: tokens[p, a, s]) if tokens is not None else (lambda s: str(s))
    for s in (h["q"], h["k"]):
        check(json.dumps(lab(s), ensure_ascii=False) in h["text"], f"hover text {h['text']!r} lacks token {lab(s)!r} of position {s}")
check(saw["hover"][0]["value"] != saw["hover"][2]["value"], "two hovered cells show the same value")

texts = f["text"].asstr()[()]
shown = saw.get("texts", [])
check(len(shown) == A, f"{len(shown)} texts, want {A}")
p, a = sel(saw["hover"][0])[:2]
for t in shown:
    check(t["text"].endswith(texts[p, t["alpha"]]), f"text of alpha {t['alpha']}: {t['text']!r}")
check([t["current"] for t in shown] == [i == a for i in range(A)], "the current alpha's text is not marked")

check(int(saw.get("alpha_after_right", -1)) == int(saw.get("alpha_before", -9)) + 1, "ArrowRight did not step alpha")
check(saw.get("alpha_after_left") == saw.get("alpha_before"), "ArrowLeft did not step alpha back")
check(saw.get("report_href") == "files/figures/index.html" and saw.get("report_status") == 200, "report link")
check(saw.get("figures_status") == 200, "figures/index.html not served")
rv = saw.get("report_viewer") or {}
check(rv.get("href") == "http://127.0.0.1:8000/" and "attnmix view " in rv.get("text", ""),
      f"the static report does not link to the viewer: {rv}")
for path, r in saw.get("refused", {}).items():
    check(r["status"] in (403, 404) and not r["leaked"], f"{path}: status {r['status']}")
check(len(saw.get("refused", {})) == 6, "refusals missing")

if fails:
    print("\n".join("FAIL: " + m for m in fails))
    sys.exit(1)
print(f"viewer ok: page loaded in {saw.get('load_ms')} ms, {len(saw['hover']) + 2} hovered cells equal the cube's")
