// planvalidator's task pane and the client side of its three commands.
//
// Loaded by xlwings-server's base page after xlwings' own client (js/custom-scripts/index.js),
// so `xlwings.runPython` and `xlwings.registerCallback` exist. The ribbon (js/ribbon.js) runs in
// the same page (the manifest's shared runtime) and calls `planvalidatorRun` below.
//
// What the server sends back is a list of xlwings actions. Three of them call the callbacks
// registered here (an xlwings "macro"):
//   planvalidatorShow(context, data)            show findings / receipt in this pane
//   planvalidatorUnlockStructure(context)       before adding or deleting the Validation sheet:
//   planvalidatorRelockStructure(context)       templates protect the workbook's structure
//                                               (without a password); protection is restored.

import { config } from "./config.js";

const TOKEN_KEY = "planvalidator.token";
const SEVERITY_CLASS = { error: "danger", warning: "warning", info: "info" };

// ---- the agency token: stays on this computer, sent as the Authorization header ------------

function storedToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch (e) {
    return "";
  }
}

globalThis.getAuth = async function () {
  // An empty token lets xlwings fall back to AUTH in an "xlwings.conf" sheet, if there is one.
  return { token: storedToken(), provider: "" };
};

// ---- running a command ---------------------------------------------------------------------

let scriptsMeta = null;

async function includeFor(scriptName) {
  // The sheets a command needs, as the workbook spells them. xlwings compares names exactly and
  // does not apply @script(include=...) to ribbon calls, so the include list is passed here.
  if (scriptsMeta === null) {
    const url = window.location.origin + config.appPath + "/xlwings/custom-scripts-meta.json";
    const response = await fetch(url, { credentials: "omit" });
    scriptsMeta = response.ok ? await response.json() : [];
  }
  const meta = scriptsMeta.find((m) => m.function_name === scriptName);
  const wanted = (meta && meta.include ? meta.include : "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name);
  const names = await Excel.run(async (context) => {
    const sheets = context.workbook.worksheets.load("items/name");
    await context.sync();
    return sheets.items.map((sheet) => sheet.name);
  });
  const present = names.filter((name) => wanted.includes(name.trim().toLowerCase()));
  return (present.length ? present : wanted).join(",");
}

async function planvalidatorRun(scriptName, errorDisplayMode = "alert") {
  const auth = await globalThis.getAuth();
  const include = await includeFor(scriptName);
  setStatus(
    { validate: "Checking the plan…", submit: "Submitting…", clear_highlights: "Clearing…",
      get_my_plan: "Getting your plan…" }[
      scriptName
    ] || "Working…",
  );
  await xlwings.runPython({
    scriptName: scriptName,
    include: include,
    auth: auth.token,
    headers: auth.provider ? { "Auth-Provider": auth.provider } : {},
    errorDisplayMode: errorDisplayMode,
  });
}
globalThis.planvalidatorRun = planvalidatorRun;

// ---- client callbacks (called by the server's actions) ----------------------------------------

async function planvalidatorShow(context, data) {
  render(data);
  const hasNews = data && ((data.report && data.report.findings.length) || data.receipt);
  if (hasNews && Office.addin && Office.addin.showAsTaskpane) {
    try {
      await Office.addin.showAsTaskpane();
    } catch (e) {
      // Not every host can open the pane from a command; the findings are on the sheet too.
    }
  }
}

let relock = false;

async function planvalidatorUnlockStructure(context) {
  const protection = context.workbook.protection;
  protection.load("protected");
  await context.sync();
  if (!protection.protected) return;
  try {
    protection.unprotect();
    await context.sync();
    relock = true;
  } catch (error) {
    throw new Error(
      "The workbook's structure is protected with a password, so the Validation sheet can't " +
        "be added or removed. Unprotect it (Review > Protect Workbook) and try again.",
    );
  }
}

async function planvalidatorRelockStructure(context) {
  if (!relock) return;
  context.workbook.protection.protect();
  await context.sync();
  relock = false;
}

xlwings.registerCallback(planvalidatorShow);
xlwings.registerCallback(planvalidatorUnlockStructure);
xlwings.registerCallback(planvalidatorRelockStructure);

// ---- the pane --------------------------------------------------------------------------------

function setStatus(text) {
  const status = document.getElementById("pv-status");
  if (status) status.textContent = text;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function render(data) {
  const list = document.getElementById("pv-findings");
  const receiptBox = document.getElementById("pv-receipt");
  if (!list || !receiptBox) return; // the ribbon's runtime without a pane
  list.replaceChildren();
  if (data && data.command === "submit") {
    // A receipt stays until the next Submit: Validate or Clear must not take it away.
    receiptBox.classList.add("d-none");
    receiptBox.replaceChildren();
  }
  if (!data || !data.report) {
    setStatus("Highlights cleared.");
    return;
  }
  const report = data.report;
  const stats = report.stats;
  if (!report.findings.length) {
    setStatus("The plan passed every check.");
  } else {
    setStatus(
      `${plural(stats.errors, "error")}, ${plural(stats.warnings, "warning")}, ` +
        `${plural(stats.infos, "note")}. Choose one to go to its cell.`,
    );
  }
  if (data.command === "submit" && !data.receipt && stats.errors) {
    receiptBox.className = "alert alert-danger";
    receiptBox.textContent = "Not submitted: fix the errors below and submit again.";
  }
  if (data.receipt) {
    const r = data.receipt;
    receiptBox.className = "alert alert-success";
    const lines = [
      `Submitted: FY${r.fiscal_year} plan of ${r.agency}`,
      `Received: ${r.submitted_at}`,
      `Fingerprint (SHA-256): ${r.sha256}`,
    ];
    for (const line of lines) {
      const div = document.createElement("div");
      div.textContent = line;
      receiptBox.appendChild(div);
    }
  }
  for (const f of report.findings) {
    const item = document.createElement("li");
    item.className = "list-group-item list-group-item-action pv-finding";
    item.tabIndex = 0;
    const head = document.createElement("div");
    const badge = document.createElement("span");
    badge.className = `badge text-bg-${SEVERITY_CLASS[f.severity] || "secondary"} me-1`;
    badge.textContent = f.severity;
    const where = document.createElement("strong");
    where.textContent = f.cell ? `${f.sheet}!${f.cell}` : f.sheet;
    head.append(badge, where);
    const message = document.createElement("div");
    message.textContent = f.message;
    const hint = document.createElement("div");
    hint.className = "small text-body-secondary";
    hint.textContent = f.hint;
    item.append(head, message, hint);
    if (f.sheet && f.cell) {
      const go = () => selectCell(f.sheet, f.cell);
      item.addEventListener("click", go);
      item.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") go();
      });
    }
    list.appendChild(item);
  }
}

async function selectCell(sheetName, cell) {
  try {
    await Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem(sheetName);
      sheet.activate();
      sheet.getRange(cell).select();
      await context.sync();
    });
  } catch (error) {
    setStatus(`Could not go to ${sheetName}!${cell}: ${error.message || error}`);
  }
}

// ---- wiring ------------------------------------------------------------------------------------

function wire() {
  document.querySelectorAll("[data-pv-script]").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await planvalidatorRun(button.getAttribute("data-pv-script"), "taskpane");
      } finally {
        button.disabled = false;
      }
    });
  });
  const form = document.getElementById("pv-token-form");
  const input = document.getElementById("pv-token");
  const tokenStatus = document.getElementById("pv-token-status");
  if (form && input) {
    input.value = storedToken();
    if (!input.value) document.getElementById("pv-token-box").open = true;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      try {
        localStorage.setItem(TOKEN_KEY, input.value.trim());
        tokenStatus.textContent = "Saved on this computer.";
      } catch (e) {
        tokenStatus.textContent = "This Excel does not allow saving the token.";
      }
    });
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", wire);
} else {
  wire();
}
