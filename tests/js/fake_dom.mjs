// A small DOM for the task pane page: enough of `document`, elements, events and storage for
// xlwings-server's client and planvalidator's main.js, built from the HTML the server serves.
//
// The parser handles what Jinja renders for base.html/taskpane.html: tags with quoted
// attributes, text, comments, void elements, and raw text inside <script>/<style>. Selectors:
// one simple selector (tag, #id, .class, [attr], [attr=value]); anything else throws, so a
// client that starts using more of the DOM fails loudly instead of silently finding nothing.

const VOID = new Set(["meta", "link", "input", "br", "img", "hr", "source", "area", "base", "col", "wbr"]);
const RAW_TEXT = new Set(["script", "style"]);

class Event {
  constructor(type, init = {}) {
    this.type = type;
    this.bubbles = Boolean(init.bubbles);
    this.defaultPrevented = false;
    this.target = null;
    this.key = init.key;
  }
  preventDefault() {
    this.defaultPrevented = true;
  }
  stopPropagation() {}
}

class EventTarget_ {
  constructor() {
    this._listeners = {};
  }
  addEventListener(type, fn, options = {}) {
    (this._listeners[type] ||= []).push({ fn, once: Boolean(options && options.once) });
  }
  removeEventListener(type, fn) {
    this._listeners[type] = (this._listeners[type] || []).filter((l) => l.fn !== fn);
  }
  // Listeners may be async (main.js' buttons are); their promises are returned so a caller
  // can wait for what a click started.
  dispatchEvent(event) {
    if (!event.target) event.target = this;
    event._results ||= [];
    for (const l of [...(this._listeners[event.type] || [])]) {
      if (l.once) this.removeEventListener(event.type, l.fn);
      event._results.push(l.fn.call(this, event));
    }
    if (event.bubbles && this.parentNode) this.parentNode.dispatchEvent(event);
    return event;
  }
}

class Text {
  constructor(text) {
    this.nodeType = 3;
    this.data = text;
    this.parentNode = null;
  }
  get textContent() {
    return this.data;
  }
}

class ClassList {
  constructor(el) {
    this.el = el;
  }
  _get() {
    return (this.el.getAttribute("class") || "").split(/\s+/).filter(Boolean);
  }
  add(...names) {
    const set = this._get();
    for (const n of names) if (!set.includes(n)) set.push(n);
    this.el.setAttribute("class", set.join(" "));
  }
  remove(...names) {
    this.el.setAttribute("class", this._get().filter((n) => !names.includes(n)).join(" "));
  }
  contains(name) {
    return this._get().includes(name);
  }
  toggle(name, force) {
    const on = force === undefined ? !this.contains(name) : force;
    if (on) this.add(name);
    else this.remove(name);
    return on;
  }
}

export class Element extends EventTarget_ {
  constructor(tagName, ownerDocument) {
    super();
    this.nodeType = 1;
    this.tagName = tagName.toUpperCase();
    this.localName = tagName.toLowerCase();
    this.attributes = new Map();
    this.childNodes = [];
    this.parentNode = null;
    this.ownerDocument = ownerDocument;
    this.classList = new ClassList(this);
    this.value = "";
    this.open = false;
    this.tabIndex = -1;
    this.style = {};
  }
  get children() {
    return this.childNodes.filter((n) => n.nodeType === 1);
  }
  get id() {
    return this.getAttribute("id") || "";
  }
  set id(v) {
    this.setAttribute("id", v);
  }
  get className() {
    return this.getAttribute("class") || "";
  }
  set className(v) {
    this.setAttribute("class", v);
  }
  get disabled() {
    return this.hasAttribute("disabled");
  }
  set disabled(v) {
    if (v) this.setAttribute("disabled", "");
    else this.removeAttribute("disabled");
  }
  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }
  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }
  hasAttribute(name) {
    return this.attributes.has(name);
  }
  removeAttribute(name) {
    this.attributes.delete(name);
  }
  get textContent() {
    return this.childNodes.map((n) => n.textContent).join("");
  }
  set textContent(text) {
    this.replaceChildren();
    if (text !== "" && text != null) this.appendChild(new Text(String(text)));
  }
  get innerText() {
    return this.textContent;
  }
  appendChild(node) {
    if (node.parentNode) node.parentNode.removeChild(node);
    node.parentNode = this;
    this.childNodes.push(node);
    return node;
  }
  append(...nodes) {
    for (const n of nodes) this.appendChild(typeof n === "string" ? new Text(n) : n);
  }
  removeChild(node) {
    this.childNodes = this.childNodes.filter((n) => n !== node);
    node.parentNode = null;
    return node;
  }
  replaceChildren(...nodes) {
    for (const n of [...this.childNodes]) this.removeChild(n);
    this.append(...nodes);
  }
  remove() {
    if (this.parentNode) this.parentNode.removeChild(this);
  }
  click() {
    return this.dispatchEvent(new Event("click", { bubbles: true }));
  }
  _descendants() {
    const out = [];
    const walk = (el) => {
      for (const c of el.children) {
        out.push(c);
        walk(c);
      }
    };
    walk(this);
    return out;
  }
  querySelectorAll(selector) {
    const match = compileSelector(selector);
    return this._descendants().filter(match);
  }
  querySelector(selector) {
    return this.querySelectorAll(selector)[0] || null;
  }
}

function compileSelector(selector) {
  const s = selector.trim();
  let m;
  if ((m = /^#([\w-]+)$/.exec(s))) return (el) => el.id === m[1];
  if ((m = /^\.([\w-]+)$/.exec(s))) return (el) => el.classList.contains(m[1]);
  if ((m = /^\[([\w-]+)\]$/.exec(s))) return (el) => el.hasAttribute(m[1]);
  if ((m = /^\[([\w-]+)=["']?([^"'\]]*)["']?\]$/.exec(s))) return (el) => el.getAttribute(m[1]) === m[2];
  if ((m = /^([a-z][a-z0-9]*)$/i.exec(s))) return (el) => el.localName === m[1].toLowerCase();
  throw new Error(`fake DOM: unsupported selector ${JSON.stringify(selector)}`);
}

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", "#39": "'", nbsp: "\u00a0" };

function decode(text) {
  return text.replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, (all, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return ENTITIES[name] ?? all;
  });
}

export class Document extends Element {
  constructor(url) {
    super("#document", null);
    this.ownerDocument = this;
    this.readyState = "loading";
    this.URL = url;
    this.baseURI = url;
    this.documentElement = null;
  }
  get head() {
    return this.querySelector("head");
  }
  get body() {
    return this.querySelector("body");
  }
  createElement(tag) {
    return new Element(tag, this);
  }
  createTextNode(text) {
    return new Text(text);
  }
  getElementById(id) {
    return this._descendants().find((el) => el.id === id) || null;
  }
}

export function parseHTML(html, url) {
  const doc = new Document(url);
  const stack = [doc];
  const top = () => stack[stack.length - 1];
  let i = 0;
  const tagRe = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[^\s"'>\/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*(\/?)>/y;
  const attrRe = /([^\s"'>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  while (i < html.length) {
    if (html.startsWith("<!--", i)) {
      const end = html.indexOf("-->", i + 4);
      i = end < 0 ? html.length : end + 3;
      continue;
    }
    if (html.startsWith("<!", i)) {
      i = html.indexOf(">", i) + 1;
      continue;
    }
    if (html[i] === "<") {
      tagRe.lastIndex = i;
      const m = tagRe.exec(html);
      if (m) {
        const [all, closing, rawName, attrText, selfClosing] = m;
        const name = rawName.toLowerCase();
        i += all.length;
        if (closing) {
          const at = stack.map((e) => e.localName).lastIndexOf(name);
          if (at > 0) stack.length = at;
          continue;
        }
        const el = new Element(name, doc);
        for (const a of attrText.matchAll(attrRe)) {
          el.setAttribute(a[1].toLowerCase(), decode(a[2] ?? a[3] ?? a[4] ?? ""));
        }
        if (name === "input") el.value = el.getAttribute("value") || "";
        if (name === "details") el.open = el.hasAttribute("open");
        top().appendChild(el);
        if (name === "html") doc.documentElement = el;
        if (RAW_TEXT.has(name)) {
          const end = html.toLowerCase().indexOf(`</${name}`, i);
          const stop = end < 0 ? html.length : end;
          if (stop > i) el.appendChild(new Text(html.slice(i, stop)));
          i = html.indexOf(">", stop) + 1 || html.length;
          continue;
        }
        if (!VOID.has(name) && !selfClosing) stack.push(el);
        continue;
      }
    }
    const next = html.indexOf("<", i + 1);
    const stop = next < 0 ? html.length : next;
    const text = html.slice(i, stop);
    if (text.trim()) top().appendChild(new Text(decode(text)));
    i = stop;
  }
  return doc;
}

export class Storage {
  constructor(initial = {}) {
    this._data = new Map(Object.entries(initial));
  }
  getItem(key) {
    return this._data.has(key) ? this._data.get(key) : null;
  }
  setItem(key, value) {
    this._data.set(key, String(value));
  }
  removeItem(key) {
    this._data.delete(key);
  }
  clear() {
    this._data.clear();
  }
  get length() {
    return this._data.size;
  }
  toJSON() {
    return Object.fromEntries(this._data);
  }
}

export { Event };
