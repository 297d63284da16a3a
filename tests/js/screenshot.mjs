// A screenshot of the task pane showing findings, for docs/taskpane.png.
//
// Outside Excel, office.js never becomes ready and the pane has no findings to show. So this
// serves the real task pane through a small proxy on 127.0.0.1 that changes two things on the
// page: office.js is replaced by a stub that says "ready in Excel", and one script hands the
// pane what the server sent it after a Validate (the planvalidatorShow callback's data, taken
// from a run of run_client.mjs). Everything else (xlwings-server's client, main.js, the CSS)
// comes from the server unchanged. Headless Chromium takes the picture.
//
//   XLWINGS_LICENSE_KEY=noncommercial planvalidator serve --port 8765 --config addin.yaml &
//   python -c "import json, sys; sys.path[:0] = ['tests']; from pathlib import Path; \
//     from test_officejs_client import workbook_spec; \
//     json.dump(workbook_spec(Path(sys.argv[1])), open('wb.json', 'w'))" \
//     examples/fy2027/dot-midyear-fy2027-missing-actuals.xlsx
//   node tests/js/run_client.mjs --server http://127.0.0.1:8765 \
//     --xlwings-static "$(python -c 'import xlwings_server, os; print(os.path.dirname(xlwings_server.__file__))')/static" \
//     --project-static planvalidator/addin/files/static --workbook wb.json --token TOKEN \
//     --steps ribbon:pv-validate --out run.json
//   node tests/js/screenshot.mjs --server http://127.0.0.1:8765 --run run.json --size 420,1130 \
//     --out taskpane-full.png
//   python -c "from PIL import Image; Image.open('taskpane-full.png').convert('RGB').quantize(64, \
//     dither=Image.Dither.NONE).save('docs/taskpane.png', optimize=True)"

import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import path from "node:path";

const { values: args } = parseArgs({
  options: {
    server: { type: "string" },
    run: { type: "string" },
    step: { type: "string", default: "0" },
    out: { type: "string" },
    size: { type: "string", default: "420,800" },
    chromium: { type: "string", default: "chromium" },
  },
});
const server = args.server.replace(/\/$/, "");

// The data the server handed the pane in that step.
const run = JSON.parse(readFileSync(args.run, "utf8"));
const step = run.steps[Number(args.step)];
const shown = step.requests
  .flatMap((r) => r.actions || [])
  .find((a) => a.func === "runMacro" && a.args[0] === "planvalidatorShow");
if (!shown) throw new Error("that step handed the task pane nothing");
const data = shown.args[1];

const OFFICE_STUB = `
// Stands in for office.js: Excel is "ready", the agency token is saved.
(function () {
  var ready = { host: "Excel", platform: "PC" };
  window.Office = {
    onReady: function (cb) { if (cb) setTimeout(function () { cb(ready); }); return Promise.resolve(ready); },
    context: { platform: "PC", requirements: { isSetSupported: function () { return true; } },
               ui: { displayDialogAsync: function () {} } },
    actions: { associate: function () {} },
    addin: { showAsTaskpane: function () { return Promise.resolve(); } },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
  };
  window.Excel = { run: function () { return Promise.reject(new Error("not in Excel")); } };
  localStorage.setItem("planvalidator.token", "saved");
})();
`;

const SHOW = `
const data = ${JSON.stringify(data)};
function show() {
  const callback = globalThis.callbacks && globalThis.callbacks.planvalidatorShow;
  if (callback && document.readyState !== "loading") callback(null, data);
  else setTimeout(show, 20);
}
show();
`;

const proxy = createServer(async (req, res) => {
  try {
    if (req.url === "/__demo/office-stub.js" || req.url === "/__demo/show.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" });
      res.end(req.url.endsWith("show.js") ? SHOW : OFFICE_STUB);
      return;
    }
    const upstream = await fetch(server + req.url, { method: req.method });
    let body = Buffer.from(await upstream.arrayBuffer());
    if (req.url.split("?")[0] === "/taskpane.html") {
      let html = body.toString("utf8");
      const office = /<script src="\/static\/vendor\/office-js\/[^"]+\/office\.js"><\/script>/;
      if (!office.test(html)) throw new Error("the task pane no longer loads office.js where expected");
      html = html.replace(office, '<script src="/__demo/office-stub.js"></script>');
      html = html.replace("</body>", '<script type="module" src="/__demo/show.js"></script>\n</body>');
      body = Buffer.from(html, "utf8");
    }
    res.writeHead(upstream.status, { "Content-Type": upstream.headers.get("content-type") || "application/octet-stream" });
    res.end(body);
  } catch (error) {
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end(String(error));
  }
});

await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${proxy.address().port}/taskpane.html`;
const profile = mkdtempSync(path.join(tmpdir(), "chromium-"));
// Asynchronously: Chromium loads the page from the proxy in this process.
const code = await new Promise((resolve) => {
  const child = spawn(args.chromium, [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    `--user-data-dir=${profile}`, `--window-size=${args.size}`, "--hide-scrollbars",
    "--virtual-time-budget=8000", `--screenshot=${path.resolve(args.out)}`, url,
  ], { stdio: ["ignore", "inherit", "inherit"] });
  child.on("exit", resolve);
});
proxy.close();
rmSync(profile, { recursive: true, force: true });
process.exit(code ?? 1);
