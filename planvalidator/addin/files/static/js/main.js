// The client side of planvalidator's commands; the task pane's findings list is pane.js.
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
//
// Before a command is sent, the workbook is checked for what would stop its marks halfway
// (a structure password, a sheet whose cells can't be formatted): the command is refused with
// a plain message and nothing changes. Our notes are found by their first line (NOTE_MARK) and
// sent along, since xlwings' client sends where notes are, not their text.

import { config } from "./config.js";
import { xlAlert } from "./alerts/parent.js";
import { render, setStatus } from "./pane.js";

const TOKEN_KEY = "planvalidator.token";
const NOTE_MARK = "Performance Plan check (planvalidator):"; // = output/marks.py NOTE_MARK
const NOTE_TEXT_SENT = 4000; // characters of each of our notes sent: enough for its severities
const VALIDATION_SHEET = "validation";
// What each command says on the status line while it runs, and when it was refused or failed.
const COMMANDS = {
  validate: { busy: "Checking the plan…", stopped: "Not checked" },
  submit: { busy: "Checking and submitting the plan…", stopped: "Not submitted" },
  clear_highlights: { busy: "Clearing the highlights…", stopped: "Not cleared" },
  get_my_plan: {
    busy: "Getting your plan…",
    stopped: "Plan not filled in",
    done: "Your plan is filled in.",
  },
};
// The commands that mark cells and add or remove the Validation sheet: checked for protection
// first, and sent our notes (their scripts take `our_notes`).
const MARKING = new Set(["validate", "submit", "clear_highlights"]);

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

async function includeFor(scriptName, names) {
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
  const present = names.filter((name) => wanted.includes(name.trim().toLowerCase()));
  return present.length ? present : wanted;
}

async function sheetNames() {
  return Excel.run(async (context) => {
    const sheets = context.workbook.worksheets.load("items/name");
    await context.sync();
    return sheets.items.map((sheet) => sheet.name);
  });
}

function notesSupported() {
  return Office.context.requirements.isSetSupported("ExcelApi", "1.18");
}

// Why a marking command can't run to the end here, or null. Checked before anything changes.
async function protectionRefusal(scriptName, names) {
  const hasValidation = names.some((n) => n.trim().toLowerCase() === VALIDATION_SHEET);
  const changesStructure = scriptName === "clear_highlights" ? hasValidation : !hasValidation;
  return Excel.run(async (context) => {
    const workbook = context.workbook;
    const protection = workbook.protection.load("protected");
    const sheets = names
      .filter((n) => n.trim().toLowerCase() !== VALIDATION_SHEET)
      .map((n) => workbook.worksheets.getItem(n).protection.load("protected,options"));
    await context.sync();
    if (changesStructure && protection.protected) {
      try {
        // Only a password stops this; without one the command unlocks and relocks it itself.
        workbook.protection.unprotect();
        workbook.protection.protect();
        await context.sync();
      } catch (error) {
        return (
          "The workbook's structure is protected with a password, so the Validation sheet " +
          `can't be ${hasValidation ? "removed" : "added"}. Nothing was changed. Unprotect it ` +
          "(Review > Protect Workbook) and try again."
        );
      }
    }
    for (const [i, sheet] of sheets.entries()) {
      const name = names.filter((n) => n.trim().toLowerCase() !== VALIDATION_SHEET)[i];
      const options = sheet.options || {};
      const blocked =
        sheet.protected &&
        (!options.allowFormatCells || (notesSupported() && !options.allowEditObjects));
      if (blocked) {
        return (
          `The sheet '${name}' is protected so that its cells can't be colored or given ` +
          "notes. Nothing was changed. Unprotect it (Review > Unprotect Sheet) and try again."
        );
      }
    }
    return null;
  });
}

// Our notes on `names`, as [sheet, cell, text]: recognised by their first line, so they are
// updated and cleared even when the Validation sheet that records them was deleted.
async function ourNotes(names) {
  if (!notesSupported()) return [];
  return Excel.run(async (context) => {
    const found = names.map((name) => {
      const notes = context.workbook.worksheets.getItem(name).notes.load("items/content");
      return { name, notes };
    });
    await context.sync();
    const located = [];
    for (const { name, notes } of found) {
      for (const note of notes.items) {
        if (String(note.content).startsWith(NOTE_MARK)) {
          located.push({ name, note, cell: note.getLocation().load("address") });
        }
      }
    }
    await context.sync();
    return located.map(({ name, note, cell }) => [
      name,
      cell.address.split("!").pop(),
      String(note.content).slice(0, NOTE_TEXT_SENT),
    ]);
  });
}

let shownThisRun = false;

async function planvalidatorRun(scriptName, errorDisplayMode = "alert") {
  const command = COMMANDS[scriptName] || { busy: "Working…", stopped: "Not done" };
  hideGlobalError();
  setStatus(command.busy, "busy");
  shownThisRun = false;
  let refusal = null;
  let args = [];
  let include = [];
  const auth = await globalThis.getAuth();
  try {
    const names = await sheetNames();
    include = await includeFor(scriptName, names);
    if (MARKING.has(scriptName)) {
      const present = include.filter((n) => names.includes(n));
      refusal = await protectionRefusal(scriptName, present);
      if (!refusal) {
        const plan = present.filter((n) => n.trim().toLowerCase() !== VALIDATION_SHEET);
        args = [await ourNotes(plan)];
      }
    }
  } catch (error) {
    refusal = `Excel could not read the workbook (${error.message || error}). Nothing was changed.`;
  }
  if (!refusal) {
    // Errors come back in the page's error bar; we move them to the status line (and an alert
    // when the command came from the ribbon, whose pane may be hidden).
    await xlwings.runPython({
      scriptName: scriptName,
      include: include.join(","),
      auth: auth.token,
      headers: auth.provider ? { "Auth-Provider": auth.provider } : {},
      errorDisplayMode: "taskpane",
      args: args,
    });
    refusal = takeGlobalError();
  }
  if (refusal) {
    setStatus(`${command.stopped}: ${refusal}`, "error");
    if (errorDisplayMode === "alert") await xlAlert(refusal, "Error", "ok", "critical", "");
  } else if (!shownThisRun) {
    setStatus(command.done || "Done.");
  }
}
globalThis.planvalidatorRun = planvalidatorRun;

function hideGlobalError() {
  const bar = document.getElementById("global-error-alert");
  if (bar) bar.classList.add("d-none");
}

// The message xlwings put in the error bar during the run (and the bar hidden), or null.
function takeGlobalError() {
  const bar = document.getElementById("global-error-alert");
  if (!bar || bar.classList.contains("d-none")) return null;
  bar.classList.add("d-none");
  const text = bar.querySelector("span");
  return ((text ? text.textContent : bar.textContent) || "").trim() || "The server did not answer.";
}

// ---- client callbacks (called by the server's actions) ----------------------------------------

async function planvalidatorShow(context, data) {
  shownThisRun = true;
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

// ---- wiring ------------------------------------------------------------------------------------

// Our own buttons rather than xlwings' xw-click: a command first checks the workbook's
// protection and reads our notes (sent as the script's argument), which xw-click can't do.
// Like xw-click, the buttons are disabled while a command runs (all of them: one at a time).
function wire() {
  const buttons = document.querySelectorAll("[data-pv-script]");
  buttons.forEach((button) => {
    button.addEventListener("click", async () => {
      buttons.forEach((b) => (b.disabled = true));
      try {
        await planvalidatorRun(button.getAttribute("data-pv-script"), "taskpane");
      } finally {
        buttons.forEach((b) => (b.disabled = false));
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
