// One page in headless Chromium: screenshots, horizontal overflow, axe-core, visible text.
// tests/browser.py is the Python API over this script; it hands a JSON spec on stdin and reads
// one JSON report on stdout. Debian's chromium is driven by puppeteer-core (no bundled browser).
//
//   echo '{"url": "file:///tmp/page.html", "views": [{"width": 320}], "axe": true,
//          "text": true, "outDir": "/tmp/shots"}' | node tests/js/page_check.mjs
//
// spec:
//   url          http(s):// or file:// page
//   views        [{width, height?, zoom?, shot?}]: a window `width` px wide at `zoom` (1 or 2).
//                Browser zoom at 200% lays the page out in half the window's CSS pixels at a
//                devicePixelRatio of 2, so zoom 2 is emulated exactly so: a 1280 px window at
//                200% is a 640 CSS px viewport, deviceScaleFactor 2. Each view reports
//                {scrollWidth, clientWidth, widest} and, with shot, the PNG path.
//   axe          run axe-core (tags below) in the first view; report its violations
//   text         report document.body.innerText (what is shown) in the first view
//   outDir       where screenshots go (<width>[@<zoom>x].png)
//   waitFor      a CSS selector to wait for after load (e.g. findings a script renders)
//   replace      {regex on request URL: JavaScript source} served instead (e.g. an office.js stub)
//   after        JavaScript run after load (before waitFor); a returned promise is awaited
//   chromium     the browser (default /usr/bin/chromium)

import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const DEFAULT_HEIGHT = 800;

const spec = JSON.parse(readFileSync(0, "utf8"));
const views = spec.views?.length ? spec.views : [{ width: 1280 }];
const report = { url: spec.url, views: [], violations: null, text: null };

const browser = await puppeteer.launch({
  executablePath: spec.chromium || "/usr/bin/chromium",
  headless: true,
  // Root in a container has no user namespaces for Chromium's sandbox.
  args: ["--no-sandbox", "--disable-gpu", "--font-render-hinting=none"],
});
try {
  for (const [i, view] of views.entries()) {
    const page = await browser.newPage();
    const zoom = view.zoom || 1;
    const height = view.height || DEFAULT_HEIGHT;
    await page.setViewport({
      width: Math.round(view.width / zoom),
      height: Math.round(height / zoom),
      deviceScaleFactor: zoom,
    });
    await replaceScripts(page);
    await page.goto(spec.url, { waitUntil: "load" });
    if (spec.after) await page.evaluate(spec.after);
    if (spec.waitFor) await page.waitForSelector(spec.waitFor, { timeout: 10000 });
    await page.evaluate(() => document.fonts.ready);

    const measured = await page.evaluate(measureOverflow);
    const result = { width: view.width, zoom, ...measured };
    if (view.shot) {
      mkdirSync(spec.outDir, { recursive: true });
      const name = `${view.width}${zoom === 1 ? "" : `@${zoom}x`}.png`;
      result.png = path.resolve(spec.outDir, name);
      await page.screenshot({ path: result.png, fullPage: true });
    }
    report.views.push(result);

    if (i === 0 && spec.text) report.text = await page.evaluate(() => document.body.innerText);
    if (i === 0 && spec.axe) report.violations = await runAxe(page);
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report));

async function replaceScripts(page) {
  const replace = Object.entries(spec.replace || {}).map(([re, body]) => [new RegExp(re), body]);
  if (replace.length) {
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const hit = replace.find(([re]) => re.test(request.url()));
      if (hit) request.respond({ status: 200, contentType: "text/javascript", body: hit[1] });
      else request.continue();
    });
  }
}

// In the page: how wide the document is against the viewport, and the elements that stick out
// furthest past its right edge (so a failure names its culprit).
function measureOverflow() {
  const root = document.documentElement;
  const clientWidth = root.clientWidth;
  const widest = [...document.body.querySelectorAll("*")]
    .map((el) => ({ el, right: Math.ceil(el.getBoundingClientRect().right + window.scrollX) }))
    .filter(({ right }) => right > clientWidth)
    .sort((a, b) => b.right - a.right)
    .slice(0, 5)
    .map(({ el, right }) => ({ tag: el.tagName.toLowerCase(), id: el.id, class: el.className, right }));
  return { scrollWidth: root.scrollWidth, clientWidth, widest };
}

async function runAxe(page) {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
    AXE_TAGS,
  );
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    tags: v.tags.filter((t) => t.startsWith("wcag")),
    nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, summary: n.failureSummary })),
  }));
}
