// The viewer in real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): the page loads, a selection changes the map, hovering a
// cell shows its value and tokens, the arrow keys step alpha, the texts per
// alpha and the report link are there, and paths with ".." are refused.
// Prints one JSON object with what it saw; view_test.py compares it with the
// cube read by h5py. Usage: node view_browser.js URL PLAYWRIGHT_CORE_DIR
"use strict";
const http = require("http");
const [url, pwDir] = process.argv.slice(2);
const { chromium } = require(pwDir);

function raw(path) { // a request with the path exactly as given (browsers normalise "..")
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

(async () => {
  const out = { errors: [] };
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("pageerror", (e) => out.errors.push(String(e)));
    page.on("response", (r) => { if (r.status() >= 400) out.errors.push(`${r.status()} ${r.url()}`); });
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector('#map[data-ready="1"]', { timeout: 20000 });
    out.load_ms = Date.now() - t0;
    out.title = await page.title();
    out.options = {};
    for (const id of ["model", "pair", "alpha", "layer", "head", "diff"])
      out.options[id] = await page.$$eval(`#${id} option`, (os) => os.map((o) => o.textContent));
    out.status = await page.textContent("#status");
    out.notices = await page.textContent("#notices");
    out.report_href = await page.getAttribute("#report", "href");

    const key = () => page.getAttribute("#map", "data-key");
    const png = () => page.$eval("#map", (c) => c.toDataURL());
    const select = async (id, value) => {
      await page.selectOption(`#${id}`, String(value));
      await page.waitForFunction(([id, v]) => {
        const k = document.getElementById("map").dataset.key || "";
        return (new URLSearchParams(k).get(id) || "") === v;
      }, [id, String(value)], { timeout: 20000 });
    };
    // the model under test is chosen by name
    const names = out.options.model;
    const mi = names.findIndex((n) => n.startsWith(process.env.VIEW_MODEL || "tiny"));
    await select("model", mi);

    // a selection changes the map
    await select("layer", 0);
    await select("head", 0);
    const before = await png();
    await select("head", 1);
    const after = await png();
    out.map_changed = before !== after;

    // hover: pair 1, alpha 1, layer 2, head 1, a cell in the lower triangle
    await select("pair", 1);
    await select("alpha", 1);
    await select("layer", 2);
    await select("head", 1);
    const hover = async (q, k) => {
      const g = await page.$eval("#map", (c) => ({ ...c.dataset, x: c.getBoundingClientRect().left,
                                                    y: c.getBoundingClientRect().top }));
      await page.mouse.move(g.x + +g.left + (k + 0.5) * +g.cell, g.y + +g.top + (q + 0.5) * +g.cell);
      await page.waitForFunction(([q, k]) => {
        const d = document.getElementById("hover").dataset;
        return d.q === String(q) && d.k === String(k);
      }, [q, k]);
      const h = await page.$eval("#hover", (e) => ({ value: e.dataset.value, text: e.textContent }));
      return { q, k, value: Number(h.value), text: h.text, key: await key(), n: +g.n };
    };
    const n = +(await page.getAttribute("#map", "data-n"));
    out.hover = [await hover(n - 1, Math.floor(n / 2)), await hover(Math.floor(n / 2), 1), await hover(3, 3)];

    // mean over heads, then the difference to alpha 0
    await select("head", "mean");
    out.hover_mean = await hover(n - 2, 2);
    await select("diff", 0);
    out.hover_diff = await hover(n - 2, 2);
    await select("diff", "");
    await select("head", 1);

    // texts per alpha, the current one marked
    out.texts = await page.$$eval("#texts div[data-alpha]", (ds) => ds.map((d) => ({
      alpha: +d.dataset.alpha, current: d.classList.contains("current"), text: d.textContent })));

    // the keyboard steps alpha (focus off the lists first)
    await page.click("h1");
    const a0 = await page.inputValue("#alpha");
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction((a) => new URLSearchParams(document.getElementById("map").dataset.key).get("alpha") === a,
                                String(+a0 + 1));
    out.alpha_after_right = await page.inputValue("#alpha");
    await page.keyboard.press("ArrowLeft");
    await page.waitForFunction((a) => new URLSearchParams(document.getElementById("map").dataset.key).get("alpha") === a, a0);
    out.alpha_after_left = await page.inputValue("#alpha");
    out.alpha_before = a0;

    // the report link opens
    if (out.report_href) {
      const r = await page.goto(new URL(out.report_href, url).href);
      out.report_status = r.status();
      out.report_viewer = await page.$eval("p.viewer", (p) => ({ text: p.textContent, href: p.querySelector("a").href }))
        .catch(() => null);
    }
  } catch (e) {
    out.errors.push(String(e && e.stack || e));
  } finally {
    await browser.close();
  }
  out.refused = {};
  for (const p of ["/files/../../../../etc/passwd", "/files/%2e%2e/%2e%2e/etc/passwd", "/files/figures/../../x",
                   "/../etc/passwd", "/files//etc/passwd", "/files/./figures/index.html"]) {
    const r = await raw(p);
    out.refused[p] = { status: r.status, leaked: r.body.includes("root:") };
  }
  out.figures_status = (await raw("/files/figures/index.html")).status;
  console.log(JSON.stringify(out));
})().catch((e) => { console.log(JSON.stringify({ errors: [String(e && e.stack || e)] })); process.exit(1); });
