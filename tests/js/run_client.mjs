// Run the add-in's real client code under Node against a fake Excel, and report what it did.
//
//   node tests/js/run_client.mjs --server http://127.0.0.1:PORT \
//     --xlwings-static .../site-packages/xlwings_server/static \
//     --project-static planvalidator/addin/files/static \
//     --workbook wb.json --token TOKEN --steps ribbon:pv-validate,ribbon:pv-clear --out result.json
//
// The page is the task pane the server serves (GET /taskpane.html). Its <script> elements run
// in page order, as a browser runs them: classic scripts at once, deferred and module scripts
// after parsing, then DOMContentLoaded. Scripts under /static/js/ are read from the two folders
// xlwings-server serves /static/ from (the project's first, then xlwings-server's package; see
// static_hooks.mjs), so this is xlwings-server's own client (custom-scripts/index.js and the
// modules it imports) plus planvalidator's main.js and ribbon.js. office.js is replaced by the
// fake Excel (fake_excel.mjs); the other vendor libraries (Bootstrap) are skipped. Requests go
// to the real server over HTTP (XMLHttpRequest is a thin shim over Node's fetch).
//
// Steps, run one after the other once the page has loaded:
//   ribbon:<function>    a ribbon button: the function associated with that manifest id
//   pane:<script>        a task pane button (data-pv-script="<script>")
//   token:<text>         type the token into the task pane and save it
//   finding:<n>          click the n-th finding listed in the task pane (0-based)
//   click:<id>           click the task pane element with that id
//   type:<Sheet>!<A1>=<text>  the analyst types text (URI-encoded) into a cell (refused on a
//                        locked cell of a protected sheet)
//   protect:<password>   the analyst protects the workbook's structure with a password
//   delete:<sheet>       the analyst deletes a sheet
// After each step the result holds the workbook, the task pane, the dialogs (alerts) shown,
// the requests made (with the actions the server answered: their names, and the callbacks
// with their data), and every console.error and unhandled rejection. Exit status 1 and a
// "fatal" entry when the harness itself fails.

import { register } from "node:module";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import path from "node:path";
import vm from "node:vm";

import { parseHTML, Storage, Event } from "./fake_dom.mjs";
import { FakeExcelHost } from "./fake_excel.mjs";

const { values: args } = parseArgs({
  options: {
    server: { type: "string" },
    "xlwings-static": { type: "string" },
    "project-static": { type: "string" },
    workbook: { type: "string" },
    token: { type: "string", default: "" },
    steps: { type: "string", default: "" },
    "excel-api": { type: "string", default: "1.18" },
    out: { type: "string" },
  },
});

const server = args.server.replace(/\/$/, "");
const roots = [args["project-static"], args["xlwings-static"]].map((r) => path.resolve(r));
const result = { loaded: [], skipped: [], steps: [], page: null };
const errors = [];
const logs = [];
const requests = [];
let inflight = 0;

function text(x) {
  if (x instanceof Error) return `${x.name}: ${x.message}${x.cause ? ` (cause: ${text(x.cause)})` : ""}`;
  if (typeof x === "string") return x;
  try {
    return JSON.stringify(x);
  } catch {
    return String(x);
  }
}

// ---- the browser around the page -------------------------------------------------------------

const realFetch = globalThis.fetch;

async function trackedFetch(url, init = {}, via = "fetch") {
  const target = new URL(String(url), server);
  const headers = Object.fromEntries(Object.entries(init.headers || {}));
  const entry = {
    via,
    method: (init.method || "GET").toUpperCase(),
    path: target.pathname + target.search,
    authorization: headers.Authorization ?? headers.authorization ?? null,
    status: null,
  };
  requests.push(entry);
  inflight += 1;
  try {
    const { credentials, ...rest } = init; // the page is same-origin; Node's fetch has no cookies
    const response = await realFetch(target, rest);
    entry.status = response.status;
    if (response.ok && target.pathname.includes("/custom-scripts-call/")) {
      // What the server asked Excel to do: the action names, and the callbacks with their data.
      const answer = await response.clone().json();
      entry.actions = answer.actions.map((a) => (a.func === "runMacro" ? { func: a.func, args: a.args } : { func: a.func }));
    }
    return response;
  } finally {
    inflight -= 1;
  }
}

class XMLHttpRequest {
  constructor() {
    this.readyState = 0;
    this.status = 0;
    this.statusText = "";
    this.responseText = "";
    this.timeout = 0;
    this._headers = {};
    this._responseHeaders = new Headers();
  }
  open(method, url, async = true) {
    if (async === false) throw new Error("fake XMLHttpRequest: synchronous requests are not supported");
    this._method = method;
    this._url = url;
    this.readyState = 1;
  }
  setRequestHeader(name, value) {
    this._headers[name] = String(value);
  }
  getResponseHeader(name) {
    return this._responseHeaders.get(name);
  }
  abort() {
    this._aborted = true;
  }
  send(body = null) {
    const signal = this.timeout ? AbortSignal.timeout(this.timeout) : undefined;
    trackedFetch(this._url, { method: this._method, headers: this._headers, body, signal }, "xhr")
      .then(async (response) => {
        this.status = response.status;
        this.statusText = response.statusText;
        this._responseHeaders = response.headers;
        this.responseText = await response.text();
        this.readyState = 4;
        if (this._aborted) this.onabort?.();
        else this.onload?.();
      })
      .catch((error) => {
        this.readyState = 4;
        if (error && error.name === "TimeoutError") this.ontimeout?.();
        else this.onerror?.(error);
      });
  }
}

function installBrowser(document, host) {
  const g = globalThis;
  const location = new URL(`${server}/taskpane.html`);
  g.window = g;
  g.self = g;
  g.document = document;
  Object.defineProperty(g, "navigator", {
    value: {
      userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
      language: "en-US",
    },
    configurable: true,
    writable: true,
  });
  g.location = {
    href: location.href,
    origin: location.origin,
    pathname: location.pathname,
    search: "",
    reload() {
      errors.push("the page asked to be reloaded (location.reload)");
    },
  };
  g.history = { replaceState() {}, pushState() {}, state: null };
  g.localStorage = new Storage(args.token ? { "planvalidator.token": args.token } : {});
  g.sessionStorage = new Storage();
  g.XMLHttpRequest = XMLHttpRequest;
  g.fetch = (url, init) => trackedFetch(url, init, "fetch");
  g.Event = Event;
  g.CustomEvent = Event;
  const keep = console;
  g.console = {
    ...keep,
    log: (...a) => logs.push(a.map(text).join(" ")),
    info: (...a) => logs.push(a.map(text).join(" ")),
    debug: () => {},
    warn: (...a) => logs.push("warn: " + a.map(text).join(" ")),
    error: (...a) => errors.push(a.map(text).join(" ")),
  };
  process.on("unhandledRejection", (reason) => errors.push(`unhandled rejection: ${text(reason)}`));
  host.install(g);
}

// ---- loading the page ------------------------------------------------------------------------

function staticFile(src) {
  const url = new URL(src, server);
  if (!url.pathname.startsWith("/static/")) return null;
  const rel = url.pathname.slice("/static/".length);
  for (const root of roots) {
    const file = path.join(root, rel);
    if (existsSync(file)) return { file, rel, root };
  }
  throw new Error(`${url.pathname} is in neither static folder`);
}

async function loadPage(host) {
  const response = await realFetch(`${server}/taskpane.html`);
  if (!response.ok) throw new Error(`GET /taskpane.html answered ${response.status}`);
  const html = await response.text();
  const document = parseHTML(html, `${server}/taskpane.html`);
  installBrowser(document, host);
  register(new URL("./static_hooks.mjs", import.meta.url), { data: { roots } });

  const deferred = [];
  for (const script of document.querySelectorAll("script")) {
    const src = script.getAttribute("src");
    const type = script.getAttribute("type") || "";
    if (!src) {
      if (type === "application/json") continue; // data (the #config element)
      throw new Error("the page has an inline script; the harness does not run those");
    }
    const url = new URL(src, server).pathname;
    if (url.startsWith("/static/vendor/office-js/")) {
      result.loaded.push({ url, kind: "office.js", file: "(fake_excel.mjs)" });
      continue; // the fake Excel/Office globals are already installed in its place
    }
    if (!url.startsWith("/static/js/")) {
      result.skipped.push(url);
      continue;
    }
    const found = staticFile(src);
    const kind = type === "module" ? "module" : script.hasAttribute("defer") ? "defer" : "classic";
    const entry = { url, kind, file: found.file, from: found.root === roots[0] ? "project" : "xlwings-server" };
    result.loaded.push(entry);
    if (kind === "classic") runClassic(found.file);
    else deferred.push(entry);
  }
  for (const entry of deferred) {
    if (entry.kind === "module") await import(pathToFileURL(entry.file).href);
    else runClassic(entry.file);
  }
  document.readyState = "interactive";
  document.dispatchEvent(new Event("DOMContentLoaded"));
  document.readyState = "complete";
  await settle();
  return document;
}

function runClassic(file) {
  vm.runInThisContext(readFileSync(file, "utf8"), { filename: file });
}

// Let what a step started finish: no request in flight for a few timer turns.
async function settle(maxMs = 60_000) {
  const start = Date.now();
  let quiet = 0;
  while (quiet < 5 && Date.now() - start < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    quiet = inflight === 0 ? quiet + 1 : 0;
  }
}

// ---- what the analyst sees -------------------------------------------------------------------

function paneState(document) {
  const byId = (id) => document.getElementById(id);
  const clean = (s) => (s || "").replace(/\s+/g, " ").trim();
  const receipt = byId("pv-receipt");
  const globalError = byId("global-error-alert");
  return {
    status: clean(byId("pv-status")?.textContent),
    receipt: receipt
      ? { hidden: receipt.classList.contains("d-none"), className: receipt.className, lines: receipt.children.map((d) => clean(d.textContent)), text: clean(receipt.textContent) }
      : null,
    statusClass: byId("pv-status")?.className ?? null,
    findings: (byId("pv-findings")?.children || []).map((li) => ({
      severity: clean(li.querySelector("span")?.textContent),
      where: clean(li.querySelector("strong")?.textContent),
      text: clean(li.textContent),
      unbroken: li.querySelectorAll(".text-nowrap").map((span) => span.textContent),
    })),
    globalError: globalError && !globalError.classList.contains("d-none") ? clean(globalError.textContent) : null,
    fetched: byId("pv-fetched") && !byId("pv-fetched").classList.contains("d-none") ? byId("pv-fetched").children.map((d) => clean(d.textContent)) : null,
    submissionsStatus: clean(byId("pv-submissions-status")?.textContent),
    submissions: (byId("pv-submissions-list")?.children || []).map((li) => clean(li.textContent)),
    token: byId("pv-token")?.value ?? null,
    tokenStatus: clean(byId("pv-token-status")?.textContent),
  };
}

async function runStep(step, document, host) {
  const colon = step.indexOf(":");
  const kind = step.slice(0, colon);
  const arg = step.slice(colon + 1);
  if (kind === "ribbon") {
    const fn = host.actions[arg];
    if (!fn) throw new Error(`no ribbon function is associated with '${arg}' (have: ${Object.keys(host.actions).join(", ")})`);
    let completed;
    const done = new Promise((resolve) => (completed = resolve));
    await fn({ completed: () => completed(), source: { id: arg } });
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`${arg} never called event.completed()`)), 120_000))]);
  } else if (kind === "pane") {
    const button = document.querySelector(`[data-pv-script=${arg}]`);
    if (!button) throw new Error(`the task pane has no button for ${arg}`);
    await Promise.all(button.click()._results);
  } else if (kind === "token") {
    document.getElementById("pv-token").value = arg;
    const form = document.getElementById("pv-token-form");
    const event = form.dispatchEvent(new Event("submit"));
    if (!event.defaultPrevented) errors.push("the token form's submit was not prevented (the page would reload)");
  } else if (kind === "click") {
    const element = document.getElementById(arg);
    if (!element) throw new Error(`the task pane has no element #${arg}`);
    await Promise.all(element.click()._results);
  } else if (kind === "type") {
    const [, sheetName, address, input] = arg.match(/^(.+)!([A-Z]+\d+)=(.*)$/);
    const refused = host.type(sheetName, address, decodeURIComponent(input));
    if (refused) host.refusedTyping = [...(host.refusedTyping || []), refused];
  } else if (kind === "finding") {
    const item = document.getElementById("pv-findings").children[Number(arg)];
    if (!item) throw new Error(`the task pane lists no finding ${arg}`);
    await Promise.all(item.click()._results);
  } else if (kind === "protect" || kind === "delete") {
    host.model.analyst(kind, arg);
  } else {
    throw new Error(`unknown step ${step}`);
  }
  await settle();
}

async function main() {
  const spec = JSON.parse(readFileSync(args.workbook, "utf8"));
  const apiVersion = args["excel-api"];
  const host = new FakeExcelHost(spec, {
    origin: server,
    requirementSets: { ExcelApi: apiVersion, SharedRuntime: "1.1", DialogApi: "1.2", RibbonApi: "1.1", ExcelApiOnline: "1.1" },
  });
  const document = await loadPage(host);
  result.page = {
    ribbonFunctions: Object.keys(host.actions).sort(),
    callbacks: Object.keys(globalThis.callbacks || {}).filter((n) => n.startsWith("planvalidator")),
    errors: errors.splice(0),
    requests: requests.splice(0),
    workbook: host.model.snapshot(),
    pane: paneState(document),
  };
  for (const step of args.steps.split(",").filter(Boolean)) {
    await runStep(step, document, host);
    result.steps.push({
      step,
      workbook: host.model.snapshot(),
      pane: paneState(document),
      dialogs: host.dialogs.splice(0),
      requests: requests.splice(0),
      errors: errors.splice(0),
      taskpaneShown: host.taskpaneShown,
      refusedTyping: (host.refusedTyping || []).splice(0),
      storedToken: globalThis.localStorage.getItem("planvalidator.token"),
    });
  }
  result.logs = logs;
  writeFileSync(args.out, JSON.stringify(result, null, 1));
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`run_client: ${error && error.stack ? error.stack : error}\n`);
    result.fatal = text(error);
    result.errors = errors;
    result.logs = logs;
    if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 1));
    process.exit(1);
  },
);
