#!/usr/bin/python3
"""attnmix-plot CLI: usage and errors, every figure in every format,
byte-identical output across runs, and the report's index.html."""
import glob
import os
import re
import shutil

from common import check, finish, fixtures, run

d = fixtures()
cube, ana = f"{d}/cube.h5", f"{d}/analysis.h5"

# usage and misuse
r = run("--help")
check(r.returncode == 0 and "usage: attnmix-plot" in r.stdout, "--help")
for args in [[], ["bogus", "--out", "x.png"], ["heads", "--cube", cube, "--layer", "0", "--out", "x.png"],
             ["heads", "--cube", cube, "--pair", "greeting", "--layer", "x", "--out", "x.png"],
             ["pairs", "--cube", cube, "--layer", "0", "--out", "x.png", "--format", "gif"],
             ["scatter", "--analysis", ana, "--by", "colour", "--out", "x.png"],
             ["report", "--cube", cube]]:
    r = run(*args)
    check(r.returncode == 2 and r.stderr.startswith("attnmix-plot: "), f"misuse {args}: rc {r.returncode}")

# runtime errors: exit 1, a message naming the input, no output file
out = f"{d}/err.png"
for args, needle in [
        (["heads", "--cube", f"{d}/missing.h5", "--pair", "greeting", "--layer", "0"], "missing.h5"),
        (["heads", "--cube", cube, "--pair", "greeting", "--layer", "4"], "0, 2, 5"),
        (["heads", "--cube", cube, "--pair", "nope", "--layer", "0"], "a<b&c"),
        (["layers", "--cube", cube, "--pair", "greeting", "--head", "1"], "/head has: 0, 3"),
        (["pairs", "--cube", ana, "--layer", "0"], "/attention"),
        (["scatter", "--analysis", cube, "--by", "alpha"], "points/model")]:
    r = run(*args, "--out", out)
    check(r.returncode == 1 and needle in r.stderr and not os.path.exists(out),
          f"error {args}: rc {r.returncode}, stderr {r.stderr.strip()!r}")
check(not glob.glob(f"{d}/*.tmp-*"), "temporary files left behind")

# every figure in every format; three of them twice: identical bytes
figs = {
    "heads": ["heads", "--cube", cube, "--pair", "greeting", "--layer", "2"],
    "pairs": ["pairs", "--cube", cube, "--layer", "5", "--head", "3"],
    "pairs-mean": ["pairs", "--cube", cube, "--layer", "5", "--log", "--floor", "1e-3"],
    "summary": ["summary", "--cube", cube, "--pair", "a<b&c", "--layer", "0", "--bars", "panel"],
    "layers": ["layers", "--cube", cube, "--pair", "greeting", "--head", "0"],
    "scatter-a": ["scatter", "--analysis", ana, "--by", "alpha"],
    "scatter-p": ["scatter", "--analysis", ana, "--by", "pair", "--space", "pca", "--components", "3,4"],
    "scatter-l": ["scatter", "--analysis", ana, "--by", "layer"],
}
magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}
for name, args in figs.items():
    for fmt in ("png", "svg", "pdf"):
        outs = []
        for k in range(2 if name in ("heads", "summary", "scatter-a") else 1):
            o = f"{d}/{name}-{k}.{fmt}"
            r = run(*args, "--out", o)
            check(r.returncode == 0, f"{name}.{fmt}: rc {r.returncode} {r.stderr.strip()}")
            outs.append(open(o, "rb").read() if os.path.exists(o) else b"")
        check(outs[0].startswith(magic[fmt]), f"{name}.{fmt}: not a {fmt} file")
        check(len(outs[0]) > 500, f"{name}.{fmt}: too small")
        check(outs[0] == outs[-1], f"{name}.{fmt}: differs between runs")
r = run(*figs["heads"], "--out", f"{d}/forced.pdf", "--format", "png")
check(open(f"{d}/forced.pdf", "rb").read(4) == magic["png"], "--format overrides the extension")
r = run(*figs["heads"], "--out", f"{d}/zoom.png", "--zoom", "2")
a, b = open(f"{d}/heads-0.png", "rb").read(), open(f"{d}/zoom.png", "rb").read()
wa, ha = int.from_bytes(a[16:20], "big"), int.from_bytes(a[20:24], "big")
wb, hb = int.from_bytes(b[16:20], "big"), int.from_bytes(b[20:24], "big")
check(abs(wb - 2 * wa) <= 1 and abs(hb - 2 * ha) <= 1, f"--zoom 2: {wa}x{ha} -> {wb}x{hb}")

# token labels
tokdir = os.environ.get("ATTNMIX_TOKENIZER_DIR", "")
if os.path.isdir(tokdir):
    r = run(*figs["heads"], "--tokenizer", tokdir, "--out", f"{d}/tok.png")
    check(r.returncode == 0, f"--tokenizer: {r.stderr.strip()}")
    r = run("report", "--cube", cube, "--tokenizer", tokdir, "--outdir", f"{d}/report-tok")
    check(r.returncode == 0, f"report --tokenizer: {r.stderr.strip()}")
r = run(*figs["heads"], "--tokenizer", f"{d}/no-such-dir", "--out", f"{d}/tok2.png")
check(r.returncode == 1 and "no-such-dir" in r.stderr and not os.path.exists(f"{d}/tok2.png"),
      f"bad --tokenizer: {r.returncode} {r.stderr.strip()}")

# float16 cube renders the same figure geometry
d16 = fixtures(float16=True)
r = run("heads", "--cube", f"{d16}/cube.h5", "--pair", "greeting", "--layer", "2", "--out", f"{d16}/h.png")
check(r.returncode == 0, f"float16 cube: {r.stderr.strip()}")

# real maps without /length, /head, /prompt_length (full S, heads 0..H-1)
shared = os.path.join(os.environ.get("ATTNMIX_SHARED_DATA", ""), "qwen3-1.7b-blog-maps.h5")
if os.path.exists(shared):
    r = run("summary", "--cube", shared, "--pair", "object", "--layer", "14", "--out", f"{d}/blog.png")
    check(r.returncode == 0, f"blog maps: {r.stderr.strip()}")
else:
    print("NOTICE: shared blog maps not found, that case skipped")

# report: twice, identical; relative links that resolve; escaped text
reps = []
for k in range(2):
    od = f"{d}/report{k}"
    r = run("report", "--cube", cube, "--analysis", ana, "--outdir", od)
    check(r.returncode == 0, f"report: {r.stderr.strip()}")
    reps.append(od)
files0 = sorted(os.path.relpath(p, reps[0]) for p in glob.glob(f"{reps[0]}/**/*", recursive=True)
                if os.path.isfile(p))
files1 = sorted(os.path.relpath(p, reps[1]) for p in glob.glob(f"{reps[1]}/**/*", recursive=True)
                if os.path.isfile(p))
check(files0 == files1, "report file lists differ")
for f in files0:
    check(open(f"{reps[0]}/{f}", "rb").read() == open(f"{reps[1]}/{f}", "rb").read(),
          f"report {f} differs between runs")
html = open(f"{reps[0]}/index.html", encoding="utf-8").read()
links = re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
viewer = "http://127.0.0.1:8000/"  # the one absolute link: the interactive viewer (attnmix view)
check(links.count(viewer) == 1, "the report does not link to the viewer")
links = [l for l in links if l != viewer]
imgs = re.findall(r'<img src="([^"]*)"', html)
check(len(imgs) == len(files0) - 1, f"{len(imgs)} images for {len(files0) - 1} figures")
for l in links:
    check(not l.startswith("/") and "://" not in l, f"link {l} is not relative")
    check(os.path.isfile(os.path.join(reps[0], l.replace("&amp;", "&"))), f"link {l} does not resolve")
for needle in ["&lt;b&gt;hi&lt;/b&gt; &amp; &#39;bye&#39;", "line1\nline2", "x &lt; y", "&quot;quoted&quot;",
               "Hello, world!", "A&lt;B&gt;C", "A&amp;B", "Pair a&lt;b&amp;c", "tiny-test",
               "scatter-tsne-by-alpha.png", "scatter-pca-by-layer.png"]:
    check(needle in html, f"index.html lacks {needle!r}")
check("<b>hi" not in html and "a<b&c" not in html, "unescaped text in index.html")
# SVG report
r = run("report", "--cube", cube, "--outdir", f"{d}/report-svg", "--format", "svg")
check(r.returncode == 0 and '.svg"' in open(f"{d}/report-svg/index.html").read(), "svg report")

finish("plot_cli")
shutil.rmtree(d)
shutil.rmtree(d16)
