// The fake Excel refuses what Excel refuses: each check runs a small batch and reports whether
// it failed the way Office.js fails. Prints {"name": "ok" | "what happened"} as JSON.
//
//   node tests/js/check_fake.mjs

import { FakeExcelHost } from "./fake_excel.mjs";

function book(extra = {}) {
  const host = new FakeExcelHost(
    {
      name: "plan.xlsx",
      structureProtected: true,
      sheets: [
        { name: "Plan", values: [["Measure", "Target"], ["M-1", "TBD"]], notes: { A2: "the agency's note" } },
        { name: "Locked", values: [["x"]], protection: { protected: true } },
      ],
      ...extra,
    },
    { requirementSets: { ExcelApi: extra.api || "1.18" } },
  );
  const g = {};
  host.install(g);
  return { host, Excel: g.Excel };
}

async function fails(code, batch, extra) {
  const { host, Excel } = book(extra);
  try {
    await Excel.run((context) => batch(context, host));
  } catch (error) {
    return error.code === code ? "ok" : `failed with ${error.code}: ${error.message}`;
  }
  return `did not fail (expected ${code})`;
}

async function holds(batch, extra) {
  const { host, Excel } = book(extra);
  try {
    const result = await Excel.run((context) => batch(context, host));
    return result === true ? "ok" : `returned ${JSON.stringify(result)}`;
  } catch (error) {
    return `failed with ${error.code}: ${error.message}`;
  }
}

const checks = {
  "a property needs load()": () =>
    fails("PropertyNotLoaded", async (context) => {
      const sheets = context.workbook.worksheets;
      await context.sync();
      return sheets.items;
    }),
  "load() needs sync()": () =>
    fails("PropertyNotLoaded", async (context) => {
      const range = context.workbook.worksheets.getItem("Plan").getRange("A1").load("values");
      return range.values;
    }),
  "isNullObject needs sync()": () =>
    fails("PropertyNotLoaded", async (context) => context.workbook.worksheets.getItemOrNullObject("Nope").isNullObject),
  "a missing sheet fails the batch": () =>
    fails("ItemNotFound", async (context) => {
      context.workbook.worksheets.getItem("Nope").load("name");
      await context.sync();
    }),
  "no sheet is added while the structure is protected": () =>
    fails("InvalidOperation", async (context) => {
      context.workbook.worksheets.add("Validation");
    }),
  "a refused change stops the batch": () =>
    holds(async (context, host) => {
      const sheets = context.workbook.worksheets;
      sheets.add("Validation"); // refused: the structure is protected
      context.workbook.protection.unprotect(); // never applied
      try {
        await context.sync();
      } catch {
        return host.model.structureProtected && host.model.sheets.length === 2;
      }
      return "the batch went through";
    }),
  "unprotect needs the password": () =>
    fails("InvalidArgument", async (context) => {
      context.workbook.protection.unprotect();
    }, { structurePassword: "secret" }),
  "unprotect then add works": () =>
    holds(async (context, host) => {
      context.workbook.protection.unprotect();
      const sheet = context.workbook.worksheets.add("Validation");
      sheet.position = 0;
      await context.sync();
      return host.model.sheets[0].name === "Validation";
    }),
  "sheet names are unique regardless of case": () =>
    fails("ItemAlreadyExists", async (context) => {
      context.workbook.protection.unprotect();
      context.workbook.worksheets.add("PLAN");
    }),
  "a cell takes one note": () =>
    fails("InvalidArgument", async (context) => {
      context.workbook.worksheets.getItem("Plan").notes.add("$A$2", "ours");
    }),
  "notes need ExcelApi 1.18": () =>
    fails("ApiNotFound", async (context) => {
      context.workbook.worksheets.getItem("Plan").notes.load("items");
    }, { api: "1.17" }),
  "a protected sheet's cells can't be filled": () =>
    fails("AccessDenied", async (context) => {
      context.workbook.worksheets.getItem("Locked").getRange("A1").format.fill.color = "#FFC7CE";
    }),
  "a protected sheet's notes can't be written": () =>
    fails("AccessDenied", async (context) => {
      context.workbook.worksheets.getItem("Locked").notes.add("A1", "ours");
    }),
  "values must match the range": () =>
    fails("InvalidArgument", async (context) => {
      context.workbook.worksheets.getItem("Plan").getRange("A1:B1").values = [["only one"]];
    }),
  "values are typed input": () =>
    holds(async (context) => {
      const range = context.workbook.worksheets.getItem("Plan").getRange("C1:F1");
      range.values = [["'=not a formula", '=HYPERLINK("#\'Plan\'!B2","B2")', "42", "TRUE"]];
      await context.sync();
      range.load("values, formulas");
      await context.sync();
      return JSON.stringify(range.values) === JSON.stringify([["=not a formula", "B2", 42, true]]) &&
        range.formulas[0][1].startsWith("=HYPERLINK");
    }),
  "other formulas are refused": () =>
    fails("InvalidArgument", async (context) => {
      context.workbook.worksheets.getItem("Plan").getRange("C1").values = [["=SUM(A1:A2)"]];
    }),
};

const results = {};
for (const [name, check] of Object.entries(checks)) results[name] = await check();
process.stdout.write(JSON.stringify(results, null, 1) + "\n");
