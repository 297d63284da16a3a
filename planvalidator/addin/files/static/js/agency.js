// The task pane's two-way part (planvalidator/addin/agency.py): Get my plan and My submissions.
//
// Get my plan runs like the other commands (a data-pv-script button, and the ribbon). The
// server's answer calls three callbacks registered here:
//   planvalidatorUnprotectSheets(context, {sheets})   before the plan's values are written
//   planvalidatorProtectSheets(context, {sheets, sheet, locked, unlocked})
//                                                     lock (update) or open (Plan) the target
//                                                     cells, then protect the sheets again
//   planvalidatorFetched(context, summary)            say what was filled in
// My submissions asks GET /planvalidator/submissions with the token and lists them; Download
// saves the exact stored copy.

import { config } from "./config.js";

const TOKEN_KEY = "planvalidator.token";
// How the templates protect a sheet (no password; formatting, sorting and filtering allowed).
const TEMPLATE_PROTECTION = {
  allowFormatCells: true,
  allowFormatColumns: true,
  allowFormatRows: true,
  allowSort: true,
  allowAutoFilter: true,
};
let unprotected = {}; // sheet name → its protection options, to restore

function token() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch (e) {
    return "";
  }
}

function byId(id) {
  return document.getElementById(id);
}

// ---- Get my plan: the callbacks ---------------------------------------------------------------

async function planvalidatorUnprotectSheets(context, data) {
  const sheets = data.sheets.map((name) => context.workbook.worksheets.getItem(name));
  sheets.forEach((sheet) => sheet.protection.load("protected,options"));
  await context.sync();
  unprotected = {};
  sheets.forEach((sheet, i) => {
    if (!sheet.protection.protected) return;
    unprotected[data.sheets[i]] = sheet.protection.options;
    sheet.protection.unprotect();
  });
  try {
    await context.sync();
  } catch (error) {
    throw new Error(
      "A sheet of this workbook is protected with a password, so your plan can't be filled in. " +
        "Unprotect the sheets (Review > Unprotect Sheet) or start from a fresh template.",
    );
  }
}

async function planvalidatorProtectSheets(context, data) {
  const sheets = context.workbook.worksheets;
  for (const address of data.locked || []) {
    sheets.getItem(data.sheet).getRange(address).format.protection.locked = true;
  }
  for (const address of data.unlocked || []) {
    sheets.getItem(data.sheet).getRange(address).format.protection.locked = false;
  }
  for (const name of data.sheets) {
    const locking = name === data.sheet && (data.locked || []).length > 0;
    const options = unprotected[name] || (locking ? TEMPLATE_PROTECTION : null);
    if (options) sheets.getItem(name).protection.protect(options);
  }
  unprotected = {};
  await context.sync();
}

async function planvalidatorFetched(context, data) {
  const box = byId("pv-fetched");
  if (!box) return; // the ribbon's runtime without a pane
  const from = data.from;
  const lines = data.rolled_forward
    ? [
        `FY${data.fiscal_year} plan of ${data.agency}: ${data.measures} measures of the ` +
          `FY${from.fiscal_year} plan, rolled forward. Set each target.`,
      ]
    : [
        `FY${data.fiscal_year} plan of ${data.agency}, ${data.stage}: ` +
          `${data.services} services, ${data.measures} measures.`,
        data.targets_locked ? "Targets are locked; fill in the actuals." : "Targets can be edited.",
      ];
  const received = document.createElement("span");
  received.className = "text-nowrap";   // a time reads as one piece: no line break inside it
  received.textContent = from.received;
  lines.push([`From the ${from.stage || "submission"} received `, received]);
  const print = document.createElement("div");
  print.className = "pv-fingerprint";
  print.textContent = `Fingerprint: ${from.sha256}`;
  box.replaceChildren(
    ...lines.map((line) => {
      const div = document.createElement("div");
      div.append(...[].concat(line));
      return div;
    }),
    print,
  );
  box.classList.remove("d-none");
}

xlwings.registerCallback(planvalidatorUnprotectSheets);
xlwings.registerCallback(planvalidatorProtectSheets);
xlwings.registerCallback(planvalidatorFetched);

// ---- My submissions ------------------------------------------------------------------------------

async function workbookIdentity() {
  // The template's hidden sheet names its fiscal year and (when pre-filled) its agency.
  try {
    return await Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItemOrNullObject("_planvalidator");
      await context.sync();
      if (sheet.isNullObject) return {};
      const used = sheet.getUsedRangeOrNullObject(true);
      used.load("values");
      await context.sync();
      if (used.isNullObject) return {};
      return Object.fromEntries(used.values.filter((row) => row.length >= 2).map((row) => [String(row[0]), row[1]]));
    });
  } catch (e) {
    return {};
  }
}

async function loadSubmissions() {
  const list = byId("pv-submissions-list");
  const note = byId("pv-submissions-status");
  list.replaceChildren();
  note.textContent = "Asking the server…";
  const identity = await workbookIdentity();
  const query = new URLSearchParams();
  if (identity.fiscal_year) query.set("fiscal_year", String(identity.fiscal_year));
  if (identity.agency) query.set("agency", String(identity.agency));
  const url = `${window.location.origin}${config.appPath}/planvalidator/submissions?${query}`;
  let answer;
  try {
    const response = await fetch(url, { headers: { Authorization: token() } });
    answer = await response.json();
    if (!response.ok) {
      note.textContent = answer.detail || `The server answered ${response.status}.`;
      return;
    }
  } catch (error) {
    note.textContent = "The server could not be reached; try again.";
    return;
  }
  const year = answer.fiscal_year ? `FY${answer.fiscal_year} ` : "";
  note.textContent = answer.submissions.length
    ? `${answer.submissions.length} ${year}submission(s) of ${answer.agency} (times in ${answer.timezone}).`
    : `No ${year}submissions of ${answer.agency} yet.`;
  for (const s of answer.submissions.slice().reverse()) {
    const item = document.createElement("li");
    item.className = "list-group-item pv-submission";
    const head = document.createElement("div");
    head.textContent = `${s.received} · ${s.stage || "(no stage)"} · ${s.accepted ? "accepted" : "not accepted"}`;
    const print = document.createElement("div");
    print.className = "small pv-fingerprint";
    print.textContent = `Fingerprint: ${s.sha256}`;
    const download = document.createElement("button");
    download.type = "button";
    download.className = "btn btn-link btn-sm p-0";
    download.textContent = "Download the stored copy";
    download.addEventListener("click", () => downloadCopy(s.file));
    item.append(head, print, download);
    list.appendChild(item);
  }
}

async function downloadCopy(name) {
  const note = byId("pv-submissions-status");
  const url = `${window.location.origin}${config.appPath}/planvalidator/submissions/${encodeURIComponent(name)}`;
  const response = await fetch(url, { headers: { Authorization: token() } });
  if (!response.ok) {
    note.textContent = `The copy could not be downloaded (${response.status}).`;
    return;
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  note.textContent = `Downloaded ${name}.`;
}

function wire() {
  const button = byId("pv-submissions-load");
  if (button) button.addEventListener("click", loadSubmissions);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", wire);
} else {
  wire();
}
