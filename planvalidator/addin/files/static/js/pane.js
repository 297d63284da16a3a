// planvalidator's task pane: the status line, a command's findings (each one selects its cell)
// and Submit's receipt. main.js runs the commands and calls render() with what the server sent.

const SEVERITY_CLASS = { error: "danger", warning: "warning", info: "info" };

// ---- the status line ----------------------------------------------------------------------------

// The status line; `kind` "error" shows it as a refusal, "busy" as work under way.
export function setStatus(text, kind = "") {
  const status = document.getElementById("pv-status");
  if (!status) return;
  status.textContent = text;
  status.classList.remove("text-danger", "pv-busy");
  if (kind === "error") status.classList.add("text-danger");
  if (kind === "busy") status.classList.add("pv-busy");
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// ---- the findings and the receipt ---------------------------------------------------------------

export function render(data) {
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
        `${plural(stats.infos, "info finding")}. Choose one to go to its cell.`,
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
      `Received: ${localTime(r.submitted_at)}`,
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
    const { about, rest } = withoutLocation(f);
    if (about) {
      const what = document.createElement("span");
      what.className = "small text-body-secondary ms-1";
      appendKeepingTokens(what, about);
      head.append(what);
    }
    const message = document.createElement("div");
    appendKeepingTokens(message, rest);
    const hint = document.createElement("div");
    hint.className = "small text-body-secondary";
    appendKeepingTokens(hint, f.hint);
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

// A finding's message starts with its location ("Measures!M4 (FY2028 Target of measure …)
// holds …"), which the finding's heading already shows: the heading keeps the location and what
// the cell is, the message the rest.
function withoutLocation(f) {
  const location = f.cell ? `${f.sheet}!${f.cell}` : "";
  if (!location || !f.message.startsWith(location)) return { about: "", rest: f.message };
  let rest = f.message.slice(location.length).replace(/^:?\s*/, "");
  let about = "";
  const paren = /^\(([^()]*)\)[:,]?\s*/.exec(rest);
  if (paren) {
    about = paren[1];
    rest = rest.slice(paren[0].length);
  }
  return { about, rest: rest.charAt(0).toUpperCase() + rest.slice(1) };
}

// Numbers, percentages, amounts and measure IDs never break across lines.
const TOKEN = /[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+|[$]?\d[\d,.]*%?/g;

function appendKeepingTokens(element, text) {
  let last = 0;
  for (const match of String(text || "").matchAll(TOKEN)) {
    if (match.index > last) element.append(text.slice(last, match.index));
    const token = document.createElement("span");
    token.className = "text-nowrap";
    token.textContent = match[0];
    element.append(token);
    last = match.index + match[0].length;
  }
  if (last < String(text || "").length) element.append(text.slice(last));
}

// "2026-12-02T02:18:43.123456+00:00" → "2026-12-01 21:18:43 EST": this computer's local time
// to the second, written as My submissions writes the city's, so one moment reads the same.
function localTime(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      second: "2-digit", hourCycle: "h23", timeZoneName: "short",
    }).formatToParts(moment).map((p) => [p.type, p.value]),
  );
  const { year, month, day, hour, minute, second, timeZoneName } = parts;
  return `${year}-${month}-${day} ${hour}:${minute}:${second} ${timeZoneName}`;
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
