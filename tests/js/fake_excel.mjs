// An in-memory Excel workbook behind a fake of the Office.js object model: the `Excel` and
// `Office` globals as far as xlwings-server's client (custom-scripts/index.js and its modules)
// and planvalidator's main.js/ribbon.js use them.
//
// It keeps Office.js' proxy rules, so client code that gets them wrong fails here as it would
// in Excel:
// - a property can be read only after load() and context.sync() (else PropertyNotLoaded);
//   `isNullObject` and collection `items` likewise need a sync;
// - changes are checked when made, but a refused one fails the batch at the next sync (as
//   Excel reports it), and nothing after it in that batch is applied;
// - Excel.run syncs once more at the end of the batch.
// What Excel would refuse is refused: adding, deleting or moving sheets while the workbook's
// structure is protected (unprotect fails when there is a password), formatting cells or
// columns and writing notes on a protected sheet unless its protection allows it, writing
// values into a protected sheet, a second note on a cell, Office APIs beyond the requirement
// sets the fake is told to support (notes need ExcelApi 1.18).
//
// Values behave like typed input: "'text" is text without the apostrophe, "=HYPERLINK(...)"
// is a formula (the only function the fake computes; any other formula is refused), numeric
// text becomes a number, TRUE/FALSE booleans; null leaves a cell unchanged.

const MAX_ROWS = 1048576;
const MAX_COLS = 16384;

// ---- addresses ----------------------------------------------------------------------------------

export function colLetters(c) {
  let s = "";
  for (let n = c + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

function colIndex(letters) {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + ch.charCodeAt(0) - 64;
  return n - 1;
}

export function a1(r, c) {
  return `${colLetters(c)}${r + 1}`;
}

export function parseCell(text) {
  const m = /^\$?([A-Za-z]{1,3})\$?(\d{1,7})$/.exec(text);
  if (!m) return null;
  return [Number(m[2]) - 1, colIndex(m[1])];
}

// "A1", "$M$6", "A1:U13", "J:M", "4:4" (sheet prefix not allowed here) → [r0, c0, nr, nc]
function parseAddress(address) {
  const parts = String(address).split(":");
  if (parts.length > 2) throw excelError("InvalidArgument", `Invalid address ${address}`);
  const cols = parts.map((p) => /^\$?([A-Za-z]{1,3})$/.exec(p));
  if (cols.every(Boolean)) {
    const cs = cols.map((m) => colIndex(m[1]));
    const c0 = Math.min(...cs);
    return [0, c0, MAX_ROWS, Math.max(...cs) - c0 + 1];
  }
  const rows = parts.map((p) => /^\$?(\d{1,7})$/.exec(p));
  if (rows.every(Boolean)) {
    const rs = rows.map((m) => Number(m[1]) - 1);
    const r0 = Math.min(...rs);
    return [r0, 0, Math.max(...rs) - r0 + 1, MAX_COLS];
  }
  const cells = parts.map(parseCell);
  if (!cells.every(Boolean)) throw excelError("InvalidArgument", `Invalid address ${address}`);
  const r0 = Math.min(...cells.map((x) => x[0]));
  const c0 = Math.min(...cells.map((x) => x[1]));
  const r1 = Math.max(...cells.map((x) => x[0]));
  const c1 = Math.max(...cells.map((x) => x[1]));
  return [r0, c0, r1 - r0 + 1, c1 - c0 + 1];
}

function formatAddress(r0, c0, nr, nc) {
  if (nr === MAX_ROWS) return `${colLetters(c0)}:${colLetters(c0 + nc - 1)}`;
  if (nc === MAX_COLS) return `${r0 + 1}:${r0 + nr}`;
  const first = a1(r0, c0);
  return nr === 1 && nc === 1 ? first : `${first}:${a1(r0 + nr - 1, c0 + nc - 1)}`;
}

function quoteSheet(name) {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) && !/^[A-Za-z]{1,3}\d+$/.test(name)
    ? name
    : `'${name.replace(/'/g, "''")}'`;
}

// A note's key as Office.js takes it: "M6", "$M$6" or "Sheet!M6" → "M6"
function noteKey(address) {
  const text = String(address).split("!").pop();
  const cell = parseCell(text);
  if (!cell) throw excelError("InvalidArgument", `A note needs a single cell, not ${address}`);
  return a1(...cell);
}

export function excelError(code, message) {
  const e = new Error(message);
  e.code = code;
  e.name = "RichApi.Error";
  return e;
}

// ---- the workbook itself ------------------------------------------------------------------------

class CellModel {
  constructor() {
    this.value = "";
    this.formula = null;
    this.numberFormat = "General";
    this.fill = null;
    this.font = {};
    this.wrap = false;
    this.hyperlink = null;
    this.locked = null; // null: as the file has it (set through format.protection.locked)
  }
  get empty() {
    return this.value === "" && this.formula === null && this.fill === null && !this.wrap && this.locked === null &&
      this.numberFormat === "General" && Object.keys(this.font).length === 0;
  }
}

class SheetModel {
  constructor(book, spec) {
    this.book = book;
    this.id = `{fake-${++book.nextId}}`;
    this.name = spec.name;
    this.visibility = spec.visibility || "Visible";
    this.showGridlines = true;
    this.cells = new Map(); // "r,c" → CellModel
    this.notes = new Map(); // "M6" → {content, author}
    this.columnWidths = new Map();
    this.hiddenColumns = new Set();
    const p = spec.protection || {};
    this.protection = {
      protected: Boolean(p.protected),
      allowFormatCells: Boolean(p.allowFormatCells),
      allowFormatColumns: Boolean(p.allowFormatColumns),
      allowEditObjects: Boolean(p.allowEditObjects),
    };
    this.deleted = false;
    (spec.values || []).forEach((row, r) =>
      row.forEach((v, c) => {
        if (v !== "" && v !== null) this.cell(r, c).value = v;
      }),
    );
    for (const [addr, fmt] of Object.entries(spec.numberFormats || {})) this.cell(...parseCell(addr)).numberFormat = fmt;
    for (const [addr, color] of Object.entries(spec.fills || {})) this.cell(...parseCell(addr)).fill = color.toUpperCase();
    for (const [addr, note] of Object.entries(spec.notes || {})) {
      this.notes.set(noteKey(addr), typeof note === "string" ? { content: note, author: "Agency analyst" } : note);
    }
  }
  cell(r, c) {
    const key = `${r},${c}`;
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new CellModel()));
    return cell;
  }
  peek(r, c) {
    return this.cells.get(`${r},${c}`);
  }
  *cellsIn(r0, c0, nr, nc) {
    // Only the cells that exist, so whole columns cost nothing.
    for (const [key, cell] of this.cells) {
      const [r, c] = key.split(",").map(Number);
      if (r >= r0 && r < r0 + nr && c >= c0 && c < c0 + nc) yield [r, c, cell];
    }
  }
  usedRange(valuesOnly) {
    let box = null;
    for (const [key, cell] of this.cells) {
      if (valuesOnly ? cell.value === "" && cell.formula === null : cell.empty) continue;
      const [r, c] = key.split(",").map(Number);
      box = box ? [Math.min(box[0], r), Math.min(box[1], c), Math.max(box[2], r), Math.max(box[3], c)] : [r, c, r, c];
    }
    return box && [box[0], box[1], box[2] - box[0] + 1, box[3] - box[1] + 1];
  }
  get position() {
    return this.book.sheets.indexOf(this);
  }
}

export class WorkbookModel {
  constructor(spec) {
    this.nextId = 0;
    this.name = spec.name;
    this.sheets = spec.sheets.map((s) => new SheetModel(this, s));
    this.structureProtected = Boolean(spec.structureProtected);
    this.structurePassword = spec.structurePassword || null;
    this.active = this.sheets[spec.activeSheet || 0];
    this.selection = { sheet: this.active, range: [0, 0, 1, 1] };
    this.calculationMode = "Automatic";
    this.userName = spec.userName || "Agency analyst";
  }
  sheet(name) {
    return this.sheets.find((s) => s.name.toLowerCase() === String(name).toLowerCase()) || null;
  }
  checkStructure(what) {
    if (this.structureProtected) {
      throw excelError("InvalidOperation", `The workbook's structure is protected, so Excel can't ${what}.`);
    }
  }
  // What the analyst does by hand between commands (not through the add-in): protect the
  // structure with a password, delete a sheet (typing into a cell is FakeExcelHost.type).
  analyst(kind, arg) {
    if (kind === "protect") {
      this.structureProtected = true;
      this.structurePassword = arg || null;
    } else if (kind === "delete") {
      const sheet = this.sheet(arg);
      if (!sheet) throw new Error(`no sheet ${arg} to delete`);
      this.sheets.splice(this.sheets.indexOf(sheet), 1);
      sheet.deleted = true;
      if (this.active === sheet) this.active = this.sheets[0];
      if (this.selection.sheet === sheet) this.selection = { sheet: this.active, range: [0, 0, 1, 1] };
    } else {
      throw new Error(`unknown analyst action ${kind}`);
    }
  }
  snapshot() {
    return {
      name: this.name,
      structureProtected: this.structureProtected,
      activeSheet: this.active.name,
      selection: `${this.selection.sheet.name}!${formatAddress(...this.selection.range)}`,
      sheets: this.sheets.map((s) => sheetSnapshot(s)),
    };
  }
}

function sheetSnapshot(s) {
  const used = s.usedRange(true);
  const values = [];
  if (used) {
    const rows = used[0] + used[2];
    const cols = used[1] + used[3];
    for (let r = 0; r < rows; r++) {
      const row = [];
      for (let c = 0; c < cols; c++) row.push(s.peek(r, c)?.value ?? "");
      values.push(row);
    }
  }
  const formulas = {};
  const fills = {};
  const fonts = {};
  const wrapped = [];
  const locked = {};
  for (const [key, cell] of s.cells) {
    const addr = a1(...key.split(",").map(Number));
    if (cell.formula !== null) formulas[addr] = cell.formula;
    if (cell.fill !== null) fills[addr] = cell.fill;
    if (Object.keys(cell.font).length) fonts[addr] = cell.font;
    if (cell.wrap) wrapped.push(addr);
    if (cell.locked !== null) locked[addr] = cell.locked;
  }
  return {
    name: s.name,
    position: s.position,
    visibility: s.visibility,
    protection: s.protection,
    values,
    formulas,
    fills,
    fonts,
    wrapped,
    locked,
    notes: Object.fromEntries(s.notes),
    columnWidths: Object.fromEntries([...s.columnWidths].map(([c, w]) => [colLetters(c), w])),
    hiddenColumns: [...s.hiddenColumns].sort((a, b) => a - b).map(colLetters),
  };
}

// Typed input → what the cell holds.
function enterValue(sheet, r, c, input) {
  if (input === null || input === undefined) return;
  const cell = sheet.cell(r, c);
  cell.formula = null;
  if (typeof input === "number" || typeof input === "boolean") {
    cell.value = input;
    return;
  }
  const text = String(input);
  if (text.startsWith("'")) {
    cell.value = text.slice(1);
  } else if (text.startsWith("=") && text.length > 1) {
    cell.formula = text;
    cell.value = computeFormula(text);
  } else if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim())) {
    cell.value = Number(text);
  } else if (/^(true|false)$/i.test(text.trim())) {
    cell.value = text.trim().toLowerCase() === "true";
  } else {
    cell.value = text;
  }
}

function computeFormula(formula) {
  const m = /^=HYPERLINK\(\s*"((?:[^"]|"")*)"\s*,\s*"((?:[^"]|"")*)"\s*\)$/i.exec(formula);
  if (!m) throw excelError("InvalidArgument", `The fake workbook can't compute ${formula}`);
  return m[2].replace(/""/g, '"');
}

// ---- Office.js proxies --------------------------------------------------------------------------

function splitPaths(spec) {
  if (spec === undefined || spec === null) return [[]];
  if (Array.isArray(spec)) return spec.flatMap((s) => splitPaths(s));
  if (typeof spec === "object") {
    if (spec.select) return splitPaths(spec.select);
    throw excelError("InvalidArgument", `fake: unsupported load() argument ${JSON.stringify(spec)}`);
  }
  return String(spec)
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => p.split("/"));
}

class ClientObject {
  constructor(context, model) {
    this.context = context;
    this._model = model;
    this._loaded = new Set();
    this._pending = [];
    this._born = context._syncs;
  }
  static scalars = {}; // name → [get(model, self), set?(model, value, self)]
  static navs = []; // names of child objects (getters returning a ClientObject)

  get isNullObject() {
    if (this.context._syncs <= this._born) {
      throw excelError("PropertyNotLoaded", "The property 'isNullObject' is not available until context.sync() has run.");
    }
    return this._model === null;
  }
  load(spec) {
    for (const path of splitPaths(spec)) this._pending.push(path);
    this.context._track(this);
    return this;
  }
  _applyLoad() {
    const paths = this._pending;
    this._pending = [];
    for (const path of paths) this._applyPath(path);
  }
  _applyPath(path) {
    if (this._model === null) return; // a null object loads nothing and complains about nothing
    const ctor = this.constructor;
    if (path.length === 0) {
      for (const name of Object.keys(ctor.scalars)) this._loaded.add(name);
      return;
    }
    const [first, ...rest] = path;
    if (first in ctor.scalars && rest.length === 0) {
      this._loaded.add(first);
    } else if (ctor.navs.includes(first)) {
      const child = this[first];
      child._pending.push(rest);
      child._applyLoad();
    } else {
      throw excelError("PropertyNotFound", `fake: ${ctor.name} has no property '${path.join("/")}' to load`);
    }
  }
  _get(name) {
    if (this._model === null) {
      throw excelError("InvalidObjectPath", `The object is a null object; '${name}' can't be read.`);
    }
    if (!this._loaded.has(name)) {
      throw excelError(
        "PropertyNotLoaded",
        `The property '${name}' is not available. Before reading the property's value, call the load method on the containing object and call "context.sync()" on the associated request context.`,
      );
    }
    return this.constructor.scalars[name][0](this._model, this);
  }
  _set(name, value) {
    const setter = this.constructor.scalars[name][1];
    if (!setter) throw new TypeError(`fake: ${this.constructor.name}.${name} is read-only`);
    this.context._op(() => setter(this._model, value, this));
  }
  toJSON() {
    return Object.fromEntries([...this._loaded].map((n) => [n, this._get(n)]));
  }
}

function defineScalars(cls, scalars) {
  cls.scalars = scalars;
  for (const name of Object.keys(scalars)) {
    Object.defineProperty(cls.prototype, name, {
      get() {
        return this._get(name);
      },
      set(value) {
        this._set(name, value);
      },
      configurable: true,
    });
  }
}

function live(sheet) {
  if (sheet.deleted) throw excelError("ItemNotFound", `The sheet ${sheet.name} has been deleted.`);
  return sheet;
}

class Collection extends ClientObject {
  constructor(context, model, makeItem, list) {
    super(context, model);
    this._makeItem = makeItem;
    this._list = list;
    this._items = null;
  }
  _applyPath(path) {
    if (this._model === null) return;
    const [first, ...rest] = path;
    const itemPath = first === "items" ? rest : path; // load("name") on a collection means its items
    this._items = this._list().map((m) => this._makeItem(m));
    for (const item of this._items) {
      item._pending.push(itemPath);
      item._applyLoad();
    }
    this._loaded.add("items");
  }
  get items() {
    if (!this._loaded.has("items")) {
      throw excelError("PropertyNotLoaded", "The property 'items' is not available. Call load() and context.sync() first.");
    }
    return this._items;
  }
  getCount() {
    const result = { value: undefined };
    this.context._after(() => (result.value = this._list().length));
    return result;
  }
}

class EmptyCollection extends Collection {
  constructor(context, owner) {
    super(context, owner, () => null, () => []);
  }
}
class NamedItemCollection extends EmptyCollection {}
class TableCollection extends EmptyCollection {}
class ChartCollection extends EmptyCollection {}
class PivotTableCollection extends EmptyCollection {}
class ShapeCollection extends EmptyCollection {}
class CommentCollection extends EmptyCollection {}

class Application extends ClientObject {
  static navs = ["cultureInfo"];
  get cultureInfo() {
    return (this._culture ||= new CultureInfo(this.context, this._model));
  }
  calculate() {}
  suspendScreenUpdatingUntilNextSync() {}
}
defineScalars(Application, {
  calculationMode: [(m) => m.calculationMode, (m, v) => (m.calculationMode = v)],
});

class CultureInfo extends ClientObject {
  static navs = ["datetimeFormat", "numberFormat"];
  get datetimeFormat() {
    return (this._dt ||= new DatetimeFormat(this.context, this._model));
  }
}
defineScalars(CultureInfo, { name: [() => "en-US"] });
class DatetimeFormat extends ClientObject {}
defineScalars(DatetimeFormat, { shortDatePattern: [() => "M/d/yyyy"], dateSeparator: [() => "/"] });

class WorkbookProtection extends ClientObject {
  protect(password) {
    this.context._op(() => {
      this._model.structureProtected = true;
      this._model.structurePassword = password || null;
    });
  }
  unprotect(password) {
    this.context._op(() => {
      const book = this._model;
      if (book.structureProtected && book.structurePassword && password !== book.structurePassword) {
        throw excelError("InvalidArgument", "The password you supplied is not correct.");
      }
      book.structureProtected = false;
      book.structurePassword = null;
    });
  }
}
defineScalars(WorkbookProtection, { protected: [(m) => m.structureProtected] });

class Workbook extends ClientObject {
  static navs = ["worksheets", "names", "application", "protection", "tables", "comments"];
  get worksheets() {
    return (this._worksheets ||= new WorksheetCollection(this.context, this._model));
  }
  get names() {
    return (this._names ||= new NamedItemCollection(this.context, this._model));
  }
  get application() {
    return (this._application ||= new Application(this.context, this._model));
  }
  get protection() {
    return (this._protection ||= new WorkbookProtection(this.context, this._model));
  }
  get tables() {
    return (this._tables ||= new TableCollection(this.context, this._model));
  }
  get comments() {
    return (this._comments ||= new CommentCollection(this.context, this._model));
  }
  getSelectedRange() {
    const { sheet, range } = this._model.selection;
    return new Range(this.context, sheet, ...range);
  }
  save() {}
}
defineScalars(Workbook, { name: [(m) => m.name] });

class WorksheetCollection extends Collection {
  constructor(context, book) {
    super(context, book, (s) => context._sheet(s), () => book.sheets);
  }
  getItem(name) {
    const sheet = this._model.sheet(name);
    if (!sheet) this.context._fail(excelError("ItemNotFound", `There is no sheet named ${name}.`));
    return this.context._sheet(sheet);
  }
  getItemOrNullObject(name) {
    return this.context._sheet(this._model.sheet(name), true);
  }
  getActiveWorksheet() {
    return this.context._sheet(this._model.active);
  }
  add(name) {
    const book = this._model;
    let created = null;
    this.context._op(() => {
      book.checkStructure("add a sheet");
      let n = book.sheets.length + 1;
      const sheetName = name ?? (() => {
        while (book.sheet(`Sheet${n}`)) n += 1;
        return `Sheet${n}`;
      })();
      checkSheetName(book, sheetName, null);
      created = new SheetModel(book, { name: sheetName });
      book.sheets.push(created);
    });
    // A failed add still hands back a proxy; using it fails the batch, which has failed anyway.
    return created ? this.context._sheet(created) : this.context._sheet(null, true);
  }
}

function checkSheetName(book, name, self) {
  if (!name || name.length > 31 || /[\[\]:*?\/\\]/.test(name) || /^'|'$/.test(name)) {
    throw excelError("InvalidArgument", `'${name}' is not a valid sheet name.`);
  }
  const other = book.sheet(name);
  if (other && other !== self) throw excelError("ItemAlreadyExists", `A sheet named ${name} already exists.`);
}

class WorksheetProtection extends ClientObject {
  // Sheets are protected without a password here (as the templates are).
  protect(options = {}) {
    this.context._op(() => {
      const p = live(this._model).protection;
      if (p.protected) throw excelError("InvalidOperation", `The sheet ${this._model.name} is already protected.`);
      Object.assign(p, {
        protected: true,
        allowFormatCells: Boolean(options.allowFormatCells),
        allowFormatColumns: Boolean(options.allowFormatColumns),
        allowEditObjects: Boolean(options.allowEditObjects),
      });
    });
  }
  unprotect() {
    this.context._op(() => {
      live(this._model).protection.protected = false;
    });
  }
}
defineScalars(WorksheetProtection, {
  protected: [(m) => m.protection.protected],
  options: [(m) => ({
    allowFormatCells: m.protection.allowFormatCells,
    allowFormatColumns: m.protection.allowFormatColumns,
    allowEditObjects: m.protection.allowEditObjects,
  })],
});

class PageLayout extends ClientObject {
  getPrintAreaOrNullObject() {
    return new RangeAreas(this.context, null);
  }
}

class Worksheet extends ClientObject {
  static navs = ["notes", "names", "tables", "charts", "pivotTables", "shapes", "pageLayout", "protection", "comments"];
  get notes() {
    return (this._notes ||= new NoteCollection(this.context, this._model));
  }
  get names() {
    return (this._names ||= new NamedItemCollection(this.context, this._model));
  }
  get tables() {
    return (this._tables ||= new TableCollection(this.context, this._model));
  }
  get charts() {
    return (this._charts ||= new ChartCollection(this.context, this._model));
  }
  get pivotTables() {
    return (this._pivots ||= new PivotTableCollection(this.context, this._model));
  }
  get shapes() {
    return (this._shapes ||= new ShapeCollection(this.context, this._model));
  }
  get comments() {
    return (this._comments ||= new CommentCollection(this.context, this._model));
  }
  get pageLayout() {
    return (this._pageLayout ||= new PageLayout(this.context, this._model));
  }
  get protection() {
    return (this._protection ||= new WorksheetProtection(this.context, this._model));
  }
  getRange(address) {
    if (address === undefined || address === null || address === "") {
      return new Range(this.context, this._model, 0, 0, MAX_ROWS, MAX_COLS);
    }
    return new Range(this.context, this._model, ...parseAddress(address));
  }
  getRangeByIndexes(r, c, nr, nc) {
    return new Range(this.context, this._model, r, c, nr, nc);
  }
  getUsedRangeOrNullObject(valuesOnly = false) {
    const used = this._model && live(this._model).usedRange(Boolean(valuesOnly));
    return used ? new Range(this.context, this._model, ...used) : new Range(this.context, null, 0, 0, 0, 0);
  }
  getUsedRange(valuesOnly = false) {
    const used = live(this._model).usedRange(Boolean(valuesOnly));
    return new Range(this.context, this._model, ...(used || [0, 0, 1, 1]));
  }
  getRanges(address) {
    return new RangeAreas(this.context, this._model, address ? parseAddress(address) : [0, 0, MAX_ROWS, MAX_COLS]);
  }
  activate() {
    this.context._op(() => {
      const book = live(this._model).book;
      if (this._model.visibility !== "Visible") throw excelError("InvalidOperation", "A hidden sheet can't be activated.");
      book.active = this._model;
      book.selection = { sheet: this._model, range: [0, 0, 1, 1] };
    });
  }
  delete() {
    this.context._op(() => {
      const sheet = live(this._model);
      const book = sheet.book;
      book.checkStructure("delete a sheet");
      if (book.sheets.filter((s) => s !== sheet && s.visibility === "Visible").length === 0) {
        throw excelError("InvalidOperation", "A workbook must keep at least one visible sheet.");
      }
      const at = book.sheets.indexOf(sheet);
      book.sheets.splice(at, 1);
      sheet.deleted = true;
      if (book.active === sheet) {
        book.active = book.sheets.slice(0, at).reverse().concat(book.sheets.slice(at)).find((s) => s.visibility === "Visible");
        book.selection = { sheet: book.active, range: [0, 0, 1, 1] };
      }
    });
  }
}
defineScalars(Worksheet, {
  name: [(m) => m.name, (m, v) => {
    live(m).book.checkStructure("rename a sheet");
    checkSheetName(m.book, v, m);
    m.name = v;
  }],
  id: [(m) => m.id],
  position: [(m) => live(m).position, (m, v) => {
    const book = live(m).book;
    book.checkStructure("move a sheet");
    const to = Number(v);
    if (!Number.isInteger(to) || to < 0 || to >= book.sheets.length) throw excelError("InvalidArgument", `No position ${v}.`);
    book.sheets.splice(book.sheets.indexOf(m), 1);
    book.sheets.splice(to, 0, m);
  }],
  visibility: [(m) => m.visibility, (m, v) => {
    live(m).book.checkStructure("hide or unhide a sheet");
    m.visibility = v;
  }],
  showGridlines: [(m) => m.showGridlines, (m, v) => (m.showGridlines = Boolean(v))],
});

class NoteCollection extends Collection {
  constructor(context, sheet) {
    super(context, sheet, (key) => new Note(context, { sheet, key }), () => (sheet ? [...live(sheet).notes.keys()] : []));
  }
  _check() {
    if (!this.context._supports("ExcelApi", "1.18")) {
      throw excelError("ApiNotFound", "Worksheet.notes needs ExcelApi 1.18, which this Excel does not support.");
    }
  }
  _applyPath(path) {
    this._check();
    super._applyPath(path);
  }
  add(cellAddress, content) {
    this._check();
    const sheet = this._model;
    const key = noteKey(typeof cellAddress === "string" ? cellAddress : cellAddress._address());
    this.context._op(() => {
      live(sheet);
      checkObjects(sheet);
      if (sheet.notes.has(key)) throw excelError("InvalidArgument", `The cell ${key} already has a note.`);
      sheet.notes.set(key, { content: String(content), author: sheet.book.userName });
    });
    return new Note(this.context, { sheet, key });
  }
  getItem(key) {
    this._check();
    const k = noteKey(key);
    if (!this._model.notes.has(k)) this.context._fail(excelError("ItemNotFound", `There is no note on ${k}.`));
    return new Note(this.context, { sheet: this._model, key: k });
  }
  getItemOrNullObject(key) {
    this._check();
    const k = noteKey(key);
    return new Note(this.context, this._model.notes.has(k) ? { sheet: this._model, key: k } : null);
  }
}

function checkObjects(sheet) {
  if (sheet.protection.protected && !sheet.protection.allowEditObjects) {
    throw excelError("AccessDenied", `The sheet ${sheet.name} is protected; notes can't be changed.`);
  }
}

class Note extends ClientObject {
  getLocation() {
    const { sheet, key } = this._model;
    return new Range(this.context, sheet, ...parseAddress(key));
  }
  delete() {
    this.context._op(() => {
      const { sheet, key } = this._model;
      checkObjects(sheet);
      sheet.notes.delete(key);
    });
  }
}
defineScalars(Note, {
  content: [(m) => m.sheet.notes.get(m.key).content, (m, v) => {
    checkObjects(m.sheet);
    m.sheet.notes.get(m.key).content = String(v);
  }],
  authorName: [(m) => m.sheet.notes.get(m.key).author],
});

function checkFormat(sheet, columns = false) {
  const p = sheet.protection;
  if (p.protected && !(columns ? p.allowFormatColumns : p.allowFormatCells)) {
    throw excelError("AccessDenied", `The sheet ${sheet.name} is protected; its ${columns ? "columns" : "cells"} can't be formatted.`);
  }
}

class Range extends ClientObject {
  static navs = ["format", "worksheet"];
  constructor(context, sheet, r0, c0, nr, nc) {
    super(context, sheet);
    if (sheet !== null && (!(nr > 0 && nc > 0) || r0 < 0 || c0 < 0 || r0 + nr > MAX_ROWS || c0 + nc > MAX_COLS)) {
      context._fail(excelError("InvalidArgument", `fake: range out of bounds (${r0}, ${c0}, ${nr}, ${nc})`));
    }
    this._box = [r0, c0, nr, nc];
  }
  _address() {
    return formatAddress(...this._box);
  }
  get format() {
    return (this._format ||= new RangeFormat(this.context, this._model, this));
  }
  get worksheet() {
    return this.context._sheet(this._model);
  }
  _cells(fn) {
    const [r0, c0, nr, nc] = this._box;
    for (let r = r0; r < r0 + nr; r++) for (let c = c0; c < c0 + nc; c++) fn(this._model.cell(r, c), r, c);
  }
  _matrix(fn) {
    const [r0, c0, nr, nc] = this._box;
    if (nr * nc > 5_000_000) throw excelError("ResponsePayloadSizeLimitExceeded", "The range is too large.");
    const out = [];
    for (let r = r0; r < r0 + nr; r++) {
      const row = [];
      for (let c = c0; c < c0 + nc; c++) row.push(fn(this._model.peek(r, c) || new CellModel()));
      out.push(row);
    }
    return out;
  }
  _checkShape(matrix) {
    const [, , nr, nc] = this._box;
    if (!Array.isArray(matrix) || matrix.length !== nr || matrix.some((row) => !Array.isArray(row) || row.length !== nc)) {
      throw excelError("InvalidArgument", `The number of rows or columns in the input array doesn't match the size or dimensions of the range (${this._address()}).`);
    }
  }
  getEntireColumn() {
    const [, c0, , nc] = this._box;
    return new Range(this.context, this._model, 0, c0, MAX_ROWS, nc);
  }
  getEntireRow() {
    const [r0, , nr] = this._box;
    return new Range(this.context, this._model, r0, 0, nr, MAX_COLS);
  }
  getCell(r, c) {
    return new Range(this.context, this._model, this._box[0] + r, this._box[1] + c, 1, 1);
  }
  select() {
    this.context._op(() => {
      const sheet = live(this._model);
      sheet.book.active = sheet;
      sheet.book.selection = { sheet, range: [...this._box] };
    });
  }
  clear(applyTo = "All") {
    this.context._op(() => clearCells(live(this._model), this._box, applyTo));
  }
  setCellProperties(properties) {
    this.context._op(() => {
      const sheet = live(this._model);
      this._checkShape(properties);
      const [r0, c0] = this._box;
      properties.forEach((row, i) =>
        row.forEach((props, j) => {
          const fill = props && props.format && props.format.fill;
          const rest = JSON.stringify({ ...props, format: { ...(props.format || {}), fill: undefined } });
          if (rest !== '{"format":{}}' && rest !== "{}") {
            throw excelError("InvalidArgument", `fake: setCellProperties with ${JSON.stringify(props)} is not supported`);
          }
          if (!fill) return;
          checkFormat(sheet);
          const cell = sheet.cell(r0 + i, c0 + j);
          if (fill.pattern === "None") cell.fill = null;
          else if (fill.color) cell.fill = normalizeColor(fill.color);
        }),
      );
    });
  }
  getSurroundingRegion() {
    throw excelError("InvalidOperation", "fake: getSurroundingRegion is not implemented");
  }
}
defineScalars(Range, {
  address: [(m, self) => `${quoteSheet(m.name)}!${self._address()}`],
  rowCount: [(m, self) => self._box[2]],
  columnCount: [(m, self) => self._box[3]],
  rowIndex: [(m, self) => self._box[0]],
  columnIndex: [(m, self) => self._box[1]],
  values: [(m, self) => self._matrix((cell) => cell.value), (m, v, self) => {
    const sheet = live(m);
    self._checkShape(v);
    if (sheet.protection.protected) throw excelError("AccessDenied", `The sheet ${sheet.name} is protected; values can't be written.`);
    const [r0, c0] = self._box;
    v.forEach((row, i) => row.forEach((x, j) => enterValue(sheet, r0 + i, c0 + j, x)));
  }],
  formulas: [(m, self) => self._matrix((cell) => cell.formula ?? cell.value)],
  numberFormat: [(m, self) => self._matrix((cell) => cell.numberFormat), (m, v, self) => {
    const sheet = live(m);
    checkFormat(sheet);
    const [r0, c0, nr, nc] = self._box;
    for (let r = 0; r < nr; r++) for (let c = 0; c < nc; c++) {
      const f = v[Math.min(r, v.length - 1)];
      sheet.cell(r0 + r, c0 + c).numberFormat = String(f[Math.min(c, f.length - 1)]);
    }
  }],
  columnHidden: [(m, self) => Array.from({ length: self._box[3] }, (_, i) => self._box[1] + i).every((c) => m.hiddenColumns.has(c)), (m, v, self) => {
    const sheet = live(m);
    checkFormat(sheet, true);
    const [, c0, , nc] = self._box;
    for (let c = c0; c < c0 + nc; c++) {
      if (v) sheet.hiddenColumns.add(c);
      else sheet.hiddenColumns.delete(c);
    }
  }],
});

function normalizeColor(color) {
  const text = String(color).trim();
  if (/^#[0-9a-f]{6}$/i.test(text)) return text.toUpperCase();
  if (/^[0-9a-f]{6}$/i.test(text)) return `#${text.toUpperCase()}`;
  const named = { white: "#FFFFFF", black: "#000000", red: "#FF0000", yellow: "#FFFF00" }[text.toLowerCase()];
  if (named) return named;
  throw excelError("InvalidArgument", `fake: ${color} is not a color Excel takes`);
}

function clearCells(sheet, box, applyTo) {
  const what = String(applyTo).toLowerCase();
  if (what !== "contents") checkFormat(sheet);
  if (what !== "formats" && sheet.protection.protected) {
    throw excelError("AccessDenied", `The sheet ${sheet.name} is protected; values can't be cleared.`);
  }
  for (const [, , cell] of [...sheet.cellsIn(...box)]) {
    if (what === "all" || what === "contents") {
      cell.value = "";
      cell.formula = null;
    }
    if (what === "all" || what === "formats") {
      cell.fill = null;
      cell.font = {};
      cell.wrap = false;
      cell.numberFormat = "General";
    }
  }
  for (const [key, cell] of [...sheet.cells]) if (cell.empty) sheet.cells.delete(key);
}

class RangeAreas extends ClientObject {
  static navs = ["areas"];
  constructor(context, sheet, box) {
    super(context, sheet);
    this._box = box;
  }
  get areas() {
    return (this._areas ||= new Collection(this.context, this._model, () => null, () => []));
  }
  clear(applyTo = "All") {
    this.context._op(() => clearCells(live(this._model), this._box, applyTo));
  }
}
defineScalars(RangeAreas, { address: [(m, self) => `${quoteSheet(m.name)}!${formatAddress(...self._box)}`] });

class RangeFormatProtection extends ClientObject {
  constructor(context, sheet, range) {
    super(context, sheet);
    this._range = range;
  }
}
defineScalars(RangeFormatProtection, {
  locked: [(m, self) => uniform(self._range, (c) => c.locked ?? true), (m, v, self) => {
    const sheet = live(m);
    if (sheet.protection.protected) throw excelError("AccessDenied", `The sheet ${sheet.name} is protected; cells can't be locked or unlocked.`);
    self._range._cells((cell) => (cell.locked = Boolean(v)));
  }],
});

class RangeFormat extends ClientObject {
  static navs = ["fill", "font", "protection"];
  get protection() {
    return (this._protection ||= new RangeFormatProtection(this.context, this._model, this._range));
  }
  constructor(context, sheet, range) {
    super(context, sheet);
    this._range = range;
  }
  get fill() {
    return (this._fill ||= new RangeFill(this.context, this._model, this._range));
  }
  get font() {
    return (this._font ||= new RangeFont(this.context, this._model, this._range));
  }
  autofitColumns() {}
  autofitRows() {}
}
function uniform(range, get) {
  const values = range._matrix(get).flat();
  return values.every((v) => v === values[0]) ? values[0] : null;
}
defineScalars(RangeFormat, {
  wrapText: [(m, self) => uniform(self._range, (c) => c.wrap), (m, v, self) => {
    checkFormat(live(m));
    self._range._cells((cell) => (cell.wrap = Boolean(v)));
  }],
  columnWidth: [(m, self) => uniform(self._range, () => null), (m, v, self) => {
    const sheet = live(m);
    checkFormat(sheet, true);
    const [, c0, , nc] = self._range._box;
    for (let c = c0; c < c0 + nc; c++) sheet.columnWidths.set(c, Number(v));
  }],
});

class RangeFill extends ClientObject {
  constructor(context, sheet, range) {
    super(context, sheet);
    this._range = range;
  }
  clear() {
    this.context._op(() => {
      checkFormat(live(this._model));
      this._range._cells((cell) => (cell.fill = null));
    });
  }
}
defineScalars(RangeFill, {
  color: [(m, self) => uniform(self._range, (c) => c.fill), (m, v, self) => {
    checkFormat(live(m));
    const color = normalizeColor(v);
    self._range._cells((cell) => (cell.fill = color));
  }],
});

class RangeFont extends ClientObject {
  constructor(context, sheet, range) {
    super(context, sheet);
    this._range = range;
  }
}
const FONT = ["bold", "italic", "color", "size", "name", "underline"];
defineScalars(RangeFont, Object.fromEntries(FONT.map((p) => [p, [
  (m, self) => uniform(self._range, (c) => c.font[p] ?? null),
  (m, v, self) => {
    checkFormat(live(m));
    const value = p === "color" ? normalizeColor(v) : v;
    self._range._cells((cell) => (cell.font = { ...cell.font, [p]: value }));
  },
]])));

// ---- the request context and the globals -----------------------------------------------------

export class RequestContext {
  constructor(host) {
    this._host = host;
    this._syncs = 0;
    this._tracked = new Set();
    this._error = null;
    this._afterSync = [];
    this._sheets = new Map();
    this.workbook = new Workbook(this, host.model);
    this.application = this.workbook.application;
  }
  _supports(name, version) {
    return this._host.isSetSupported(name, version);
  }
  _sheet(model, nullable = false) {
    if (model === null) return new Worksheet(this, null);
    let proxy = this._sheets.get(model);
    if (!proxy) this._sheets.set(model, (proxy = new Worksheet(this, model)));
    return proxy;
  }
  _track(obj) {
    this._tracked.add(obj);
  }
  _fail(error) {
    if (!this._error) this._error = error;
  }
  _op(fn) {
    if (this._error) return; // the batch has failed; Excel stops at the failing operation
    try {
      fn();
    } catch (e) {
      this._error = e;
    }
  }
  _after(fn) {
    this._afterSync.push(fn);
  }
  async sync() {
    await new Promise((resolve) => setImmediate(resolve));
    this._host.syncs += 1;
    const error = this._error;
    this._error = null;
    const tracked = [...this._tracked];
    this._tracked.clear();
    const after = this._afterSync;
    this._afterSync = [];
    this._syncs += 1;
    if (error) throw error;
    for (const obj of tracked) obj._applyLoad();
    for (const fn of after) fn();
  }
}

function versionTuple(v) {
  return String(v).split(".").map(Number);
}

function atLeast(have, want) {
  const a = versionTuple(have);
  const b = versionTuple(want);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) > (b[i] || 0);
  }
  return true;
}

// The host: the workbook, the requirement sets, and what the add-in did outside the workbook
// (dialogs shown, ribbon functions registered, the task pane opened).
export class FakeExcelHost {
  constructor(workbookSpec, { requirementSets, origin }) {
    this.model = new WorkbookModel(workbookSpec);
    this.requirementSets = Object.fromEntries(
      Object.entries(requirementSets).map(([k, v]) => [k.toLowerCase(), v]),
    );
    this.origin = origin;
    this.dialogs = [];
    this.actions = {};
    this.taskpaneShown = 0;
    this.syncs = 0;
  }
  // The analyst types into a cell: refused where a protected sheet's cell is locked (cells
  // whose locking came with the file count as unlocked: the templates unlock their input cells).
  type(sheetName, address, input) {
    const sheet = this.model.sheet(sheetName);
    if (!sheet) throw new Error(`fake: no sheet ${sheetName}`);
    const [r, c] = parseCell(address);
    if (sheet.protection.protected && sheet.peek(r, c)?.locked === true) {
      return `The cell ${sheetName}!${address} is locked: the sheet is protected.`;
    }
    enterValue(sheet, r, c, input);
    return "";
  }
  isSetSupported(name, version = "1.1") {
    const have = this.requirementSets[String(name).toLowerCase()];
    return have !== undefined && atLeast(have, version);
  }
  install(target) {
    const host = this;
    const ready = { host: "Excel", platform: "PC" };
    target.Excel = {
      run: async (...args) => {
        const batch = args[args.length - 1];
        const context = new RequestContext(host);
        const result = await batch(context);
        await context.sync();
        return result;
      },
      RequestContext: class extends RequestContext {
        constructor() {
          super(host);
        }
      },
      ClearApplyTo: { all: "All", formats: "Formats", contents: "Contents", hyperlinks: "Hyperlinks", removeHyperlinks: "RemoveHyperlinks" },
      ShapeType: { image: "Image", geometricShape: "GeometricShape", group: "Group", line: "Line", textBox: "TextBox" },
      CalculationType: { full: "Full", recalculate: "Recalculate", fullRebuild: "FullRebuild" },
      SaveBehavior: { save: "Save", prompt: "Prompt" },
    };
    target.Office = {
      onReady(callback) {
        if (callback) setImmediate(() => callback(ready));
        return Promise.resolve(ready);
      },
      context: {
        platform: "PC",
        diagnostics: { version: "16.0.fake", platform: "PC" },
        requirements: { isSetSupported: (name, version) => host.isSetSupported(name, version) },
        ui: {
          displayDialogAsync(url, options, callback) {
            const u = new URL(url);
            host.dialogs.push({
              url: u.pathname + u.search,
              origin: u.origin,
              ...Object.fromEntries(u.searchParams),
              displayInIframe: Boolean(options && options.displayInIframe),
            });
            const dialog = { addEventHandler() {}, close() {}, messageChild() {} };
            if (callback) setImmediate(() => callback({ status: "succeeded", value: dialog }));
          },
        },
      },
      actions: {
        associate(name, fn) {
          host.actions[name] = fn;
        },
      },
      addin: {
        async showAsTaskpane() {
          host.taskpaneShown += 1;
        },
      },
      auth: {
        async getAccessToken() {
          throw Object.assign(new Error("Single sign-on is not available in the fake."), { code: 13000 });
        },
      },
      AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
      EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
      PlatformType: { PC: "PC", OfficeOnline: "OfficeOnline", Mac: "Mac" },
      HostType: { Excel: "Excel" },
    };
  }
}
