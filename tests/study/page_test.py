#!/usr/bin/python3
"""The observations page (attnmix-plot observations / report): the table of
O1..O5 with the verdicts of analysis.h5, a figure per observation, the
caveat of the input, and the generated texts beside the original study's
published responses, matched by model, pair key and alpha (a TSV with
quoted, multi-line fields); a malformed TSV is refused naming its line,
leaving no page.
"""
import html
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BIN = os.environ.get("ATTNMIX_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin"))


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(args, expect=0):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != expect:
        fail(f"{' '.join(args)}: exit {r.returncode}, expected {expect}\n{r.stderr}")
    return r


def main():
    rng = np.random.default_rng(3)
    S, P, A, L, H = 12, 2, 3, 1, 4
    X = np.zeros((P, A, L, H, S, S), np.float32)
    for idx in np.ndindex(P, A, L, H):
        for q in range(S):
            X[idx][q, : q + 1] = rng.dirichlet(np.ones(q + 1))
    texts = [[f"text {p} {a} <b>" for a in range(A)] for p in range(P)]
    with tempfile.TemporaryDirectory() as tmp:
        cube = os.path.join(tmp, "cube.h5")
        with h5py.File(cube, "w") as f:
            f.create_dataset("attention", data=X)
            f.create_dataset("pair", data=["language", "math"], dtype=h5py.string_dtype())
            f.create_dataset("alpha", data=[0.0, 0.5, 1.0])
            f.create_dataset("text", data=np.array(texts, dtype=object), dtype=h5py.string_dtype())
            f.create_dataset("prompt_a", data=["Explain transformer attention in english", "What is 2 + 2"],
                             dtype=h5py.string_dtype())
            f.create_dataset("prompt_b", data=["Explain transformer attention in french", "What is 10 / 2"],
                             dtype=h5py.string_dtype())
            f.attrs["model"] = "qwen3-1.7b"
            f.attrs["caveat"] = "a caveat to show"
        an = os.path.join(tmp, "an.h5")
        run([os.path.join(BIN, "attnmix-analyze"), "--quiet", "--iterations", "250", "--perplexity", "3",
             "--out", an, cube])
        tsv = os.path.join(tmp, "orig.tsv")
        with open(tsv, "w") as f:
            f.write("prompt_a\tprompt_b\talpha\tresponse\tmodel_name\tprompt_key\n")
            f.write('What is 2 + 2\tWhat is 10 / 2\t0.5\t" * 2 * 2?\n\nOkay, ""quoted"" & more"\tQwen3-1.7B\tmath\n')
            f.write("What is 2 + 2\tWhat is 10 / 2\t0.5\tother model\tQwen3-4B\tmath\n")
            f.write("Explain why\tExplain\t1.0\tplain response\tQwen3-1.7B\tlanguage\n")
        out = os.path.join(tmp, "page")
        run([os.path.join(BIN, "attnmix-plot"), "observations", "--analysis", an, "--cube", cube, "--original", tsv,
             "--outdir", out])
        page = open(os.path.join(out, "observations.html"), encoding="utf-8").read()
        with h5py.File(an, "r") as f:
            for o in range(1, 6):
                a = f[f"observations/qwen3-1.7b/O{o}"].attrs
                if html.escape(a["claim"], quote=True) not in page:
                    fail(f"O{o}'s claim missing from the page")
                if not os.path.getsize(os.path.join(out, "observations", f"qwen3-1.7b_O{o}.png")) > 1000:
                    fail(f"figure of O{o} missing or empty")
            v = [f[f"observations/qwen3-1.7b/O{o}"].attrs["verdict"] for o in range(1, 6)]
        cells = page.count('class="v">')
        if cells != 5 * 3 + 3:  # 5 observations x 3 row sets, O1's distance rows
            fail(f"verdict cells: {cells}")
        for w in set(v):
            if f'class="v">{w}<' not in page:
                fail(f"verdict {w} not shown")
        if "a caveat to show" not in page:
            fail("the input's caveat is not shown")
        if "text 1 1 &lt;b&gt;" not in page:
            fail("generated text missing or not escaped")
        if "* 2 * 2?\n\nOkay, &quot;quoted&quot; &amp; more" not in page:
            fail("the original's response (math, 0.5, Qwen3-1.7B) is not beside the generated text")
        if "other model" in page:
            fail("a response of another model was shown")
        if "(other prompts: Explain why / Explain)" not in page:
            fail("a response to other prompts is not marked")
        # a malformed TSV: refused with its line, no page written
        bad = os.path.join(tmp, "bad.tsv")
        with open(bad, "w") as f:
            f.write("prompt_a\tprompt_b\talpha\tresponse\tmodel_name\tprompt_key\n")
            f.write('a\tb\t0.5\t"unclosed\tQwen3-1.7B\tmath\n')
        out2 = os.path.join(tmp, "page2")
        r = run([os.path.join(BIN, "attnmix-plot"), "observations", "--analysis", an, "--original", bad,
                 "--outdir", out2], expect=1)
        if "bad.tsv:2" not in r.stderr:
            fail(f"malformed TSV message: {r.stderr!r}")
        if os.path.exists(os.path.join(out2, "observations.html")):
            fail("a page was written from a malformed TSV")
        # report writes the page too when the analysis has observations
        out3 = os.path.join(tmp, "report")
        run([os.path.join(BIN, "attnmix-plot"), "report", "--cube", cube, "--analysis", an, "--original", tsv,
             "--outdir", out3])
        if not os.path.exists(os.path.join(out3, "observations.html")):
            fail("report did not write observations.html")
        index = open(os.path.join(out3, "index.html"), encoding="utf-8").read()
        if 'href="observations.html"' not in index or "a caveat to show" not in index:
            fail("index.html lacks the link to the observations or the cube's caveat")
    print("page ok")


if __name__ == "__main__":
    main()
