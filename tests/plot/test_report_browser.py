#!/usr/bin/python3
"""Opens the report's index.html in headless Chromium and checks that every
<img> loaded (naturalWidth > 0), for a PNG and an SVG report. A copy with one
broken image must be reported as broken (the check can fail)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from common import check, finish, fixtures, run

chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    print("NOTICE: chromium not installed (Debian package `chromium`): browser check SKIPPED")
    sys.exit(77)

PROBE = """<script>
window.addEventListener('load', function () {
  var im = document.images, bad = [];
  for (var i = 0; i < im.length; i++)
    if (!(im[i].complete && im[i].naturalWidth > 0)) bad.push(im[i].getAttribute('src'));
  var d = document.createElement('pre');
  d.id = 'imgcheck';
  d.textContent = 'IMGCHECK total=' + im.length + ' broken=' + bad.length + ' ' + bad.join(' ');
  document.body.appendChild(d);
});
</script>
"""


def browse(page):
    prof = tempfile.mkdtemp(prefix="attnmix-chromium-")
    try:
        r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={prof}", "--virtual-time-budget=10000",
                            "--dump-dom", "file://" + os.path.abspath(page)],
                           capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(prof, ignore_errors=True)
    m = re.search(r"IMGCHECK total=(\d+) broken=(\d+)([^<]*)", r.stdout)
    if not m:
        print(r.stderr[-2000:], file=sys.stderr)
        return None
    return int(m.group(1)), int(m.group(2)), m.group(3).strip()


d = fixtures()
for fmt in ("png", "svg"):
    od = f"{d}/report-{fmt}"
    r = run("report", "--cube", f"{d}/cube.h5", "--analysis", f"{d}/analysis.h5", "--outdir", od,
            "--format", fmt)
    check(r.returncode == 0, f"report {fmt}: {r.stderr.strip()}")
    html = open(f"{od}/index.html", encoding="utf-8").read()
    n = html.count("<img ")
    with open(f"{od}/check.html", "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", PROBE + "</body>"))
    res = browse(f"{od}/check.html")
    check(res is not None, f"{fmt}: no IMGCHECK marker in chromium's DOM dump")
    if res:
        print(f"{fmt}: {res[0]} images, {res[1]} broken")
        check(res[0] == n and n > 10 and res[1] == 0, f"{fmt}: images {res}, expected {n} loaded")
    if fmt != "png":
        continue
    # negative control: one missing image must be reported
    first = re.search(r'<img src="([^"]*)"', html).group(1)
    with open(f"{od}/broken.html", "w", encoding="utf-8") as f:
        f.write(html.replace(f'<img src="{first}"', '<img src="missing.png"', 1)
                .replace("</body>", PROBE + "</body>"))
    res = browse(f"{od}/broken.html")
    check(res is not None and res[1] == 1 and "missing.png" in res[2], f"{fmt}: broken image not detected: {res}")

finish("plot_report_browser")
shutil.rmtree(d)
