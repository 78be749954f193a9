#!/usr/bin/python3
"""The analysis figures of attnmix-plot and the report's analysis section, on
the cube of heads of known kinds (tests/motifs/make_heads_cube.py):
head distances ordered by cluster, one layer's maps per pair key (t-SNE per
key and PCA), the continuous layer colour bar, summary-pairs, --scale row,
and the report (captions, wrapping, cluster table, log default)."""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

SRC = os.environ.get("ATTNMIX_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ATTNMIX_BIN", os.path.join(SRC, "build", "bin"))
PY = sys.executable
failures = 0
VIR_LO, VIR_HI = (68, 1, 84), (253, 231, 37)  # viridis ends


def fail(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


def plot(*args, expect=0):
    r = subprocess.run([os.path.join(BIN, "attnmix-plot")] + list(args), capture_output=True, text=True)
    if r.returncode != expect:
        fail(f"attnmix-plot {' '.join(args)}: exit {r.returncode}, expected {expect}\n{r.stderr}")
    return r


def pixels(path, rgb):
    a = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    return int((a == np.array(rgb)).all(1).sum())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cube = os.path.join(tmp, "kinds.h5")
        subprocess.run([PY, os.path.join(SRC, "tests", "motifs", "make_heads_cube.py"), cube], check=True,
                       capture_output=True)
        ana = os.path.join(tmp, "analysis.h5")
        r = subprocess.run([os.path.join(BIN, "attnmix-analyze"), "--quiet", "--iterations", "300", "--out", ana,
                            cube], capture_output=True, text=True)
        if r.returncode:
            fail(f"analyze: {r.stderr}")
            return 1

        # head distances by cluster: the 48 zero diagonal cells are the bottom colour, the largest distance the top
        hd = os.path.join(tmp, "hd.png")
        plot("head-distance", "--analysis", ana, "--out", hd)
        im = Image.open(hd)
        lo, hi = pixels(hd, VIR_LO), pixels(hd, VIR_HI)
        if lo < 48 or hi < 1 or im.size[0] < 400:
            fail(f"head-distance: {lo} bottom-colour and {hi} top-colour pixels, size {im.size}")
        for fmt in ("svg", "pdf"):
            plot("head-distance", "--analysis", ana, "--out", os.path.join(tmp, f"hd.{fmt}"))

        # one layer's maps per key: two panels side by side, PNG at print resolution
        one = os.path.join(tmp, "one.png")
        plot("scatter", "--analysis", ana, "--by", "alpha", "--space", "pca", "--out", one)
        for space in ("tsne", "pca"):
            lk = os.path.join(tmp, f"lk-{space}.png")
            plot("layer-keys", "--analysis", ana, "--layer", "2", "--space", space, "--out", lk)
            w, h = Image.open(lk).size
            if not w > 1.8 * Image.open(one).size[0]:
                fail(f"layer-keys {space}: {w}x{h} is not two panels at zoom 2")
        r = plot("layer-keys", "--analysis", ana, "--layer", "9", "--out", os.path.join(tmp, "x.png"), expect=1)
        if "layer 9" not in r.stderr:
            fail(f"layer-keys of a missing layer: {r.stderr!r}")
        plot("layer-keys", "--analysis", ana, "--out", os.path.join(tmp, "x.png"), expect=2)

        # layers on a continuous bar: the full viridis table is drawn (256 rows), not 6 legend swatches
        sl = os.path.join(tmp, "by-layer.png")
        plot("scatter", "--analysis", ana, "--by", "layer", "--out", sl)
        a = np.asarray(Image.open(sl).convert("RGB")).reshape(-1, 3)
        colours = {tuple(c) for c in a}
        if not (VIR_LO in colours and VIR_HI in colours):
            fail("scatter --by layer: no colour bar with both viridis ends")

        # summary-pairs: 2 pairs x (mean, std) rows x 3 alphas
        sp = os.path.join(tmp, "sp.png")
        plot("summary-pairs", "--cube", cube, "--layer", "1", "--out", sp)
        s1 = os.path.join(tmp, "s1.png")
        plot("summary", "--cube", cube, "--pair", "one", "--layer", "1", "--out", s1)
        (w, h), (w1, h1) = Image.open(sp).size, Image.open(s1).size
        if not (w == w1 and 1.8 * h1 < h < 2.2 * h1):
            fail(f"summary-pairs {w}x{h} is not twice the rows of summary {w1}x{h1} (4 rows of 3 panels)")
        plot("summary-pairs", "--cube", cube, "--out", sp, expect=2)

        # --scale row: every row reaches the top colour, so far more top-colour cells than on a linear scale
        lin, row = os.path.join(tmp, "lin.png"), os.path.join(tmp, "row.png")
        plot("pairs", "--cube", cube, "--layer", "0", "--head", "3", "--out", lin)  # uniform head
        plot("pairs", "--cube", cube, "--layer", "0", "--head", "3", "--scale", "row", "--out", row)
        nl, nr = pixels(lin, VIR_HI), pixels(row, VIR_HI)
        if not nr > 10 * max(nl - 256, 1):
            fail(f"--scale row: {nr} top-colour pixels against {nl} on the linear scale")
        plot("pairs", "--cube", cube, "--layer", "0", "--scale", "cubic", "--out", row, expect=2)

        # the report: captions, wrapping, the cluster table, the analysis figures
        rep = os.path.join(tmp, "report")
        plot("report", "--cube", cube, "--analysis", ana, "--outdir", rep)
        html = open(os.path.join(rep, "index.html")).read()
        if "overflow-wrap:anywhere" not in html:
            fail("report: generated texts do not wrap")
        figs = re.findall(r"<figure>.*?</figure>", html, re.S)
        caps = re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S)
        if len(caps) != len(figs) or any(":" not in c or len(c) < 40 or "\n" in c for c in caps):
            fail(f"report: {len(figs)} figures, {len(caps)} captions, some without a one-line 'what to look for'")
        for name in ("head-distance-clusters.png", "layer-keys-tsne-L2.png", "layer-keys-pca-L5.png",
                     "kinds/summary-pairs-L0.png", "scatter-pca-by-layer.png"):
            if name not in html or not os.path.exists(os.path.join(rep, name)):
                fail(f"report: {name} missing")
        if "<table class=\"clusters\">" not in html or "previous_token" not in html:
            fail("report: no table of head classes per cluster")
        sc = Image.open(os.path.join(rep, "scatter-pca-by-alpha.png")).size
        if not sc[0] >= 2 * Image.open(one).size[0] - 2:
            fail(f"report scatter {sc} is not at print resolution")
    print(f"test_figures: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
