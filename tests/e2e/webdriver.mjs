// A small W3C WebDriver client over fetch, enough to drive the real Latchkey
// window through tauri-driver and WebKitWebDriver. Elements are found by CSS,
// or, as a user finds them, by role and accessible name: Testing Library's
// role queries (the UI's own, from ui/node_modules) run in the page.

import { readFileSync } from "node:fs";
import { join } from "node:path";

const UI_MODULES = join(import.meta.dirname, "..", "..", "ui", "node_modules");
let testingLibrary;
/** Testing Library's DOM queries as one script that defines `TestingLibraryDom`. */
function testingLibraryScript() {
  testingLibrary ??= readFileSync(
    join(UI_MODULES, "@testing-library", "dom", "dist", "@testing-library", "dom.umd.min.js"),
    "utf8",
  );
  return testingLibrary;
}

let axeSource;
function axeScript() {
  axeSource ??= readFileSync(join(UI_MODULES, "axe-core", "axe.min.js"), "utf8");
  return axeSource;
}

/** A name to match: text as is, a RegExp by its source and flags (JSON has no RegExp). */
function nameArg(name) {
  if (name instanceof RegExp) return { source: name.source, flags: name.flags };
  return name ?? null;
}

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriverError extends Error {}

async function request(base, method, path, body) {
  // tauri-driver drops a connection now and then: retry a failed request once.
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(base + path, {
        method,
        headers: body ? { "content-type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = await res.json();
      if (!res.ok || (json.value && json.value.error)) {
        throw new WebDriverError(
          `${method} ${path}: ${json.value?.error}: ${json.value?.message}`,
        );
      }
      return json.value;
    } catch (err) {
      if (err instanceof WebDriverError || attempt >= 1) throw err;
      await sleep(300);
    }
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitForServer(base, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const res = await fetch(base + "/status");
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`WebDriver server at ${base} did not come up`);
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, application, args = []) {
    const caps = {
      capabilities: {
        alwaysMatch: {
          browserName: "wry",
          "tauri:options": { application, args },
        },
      },
    };
    const value = await request(base, "POST", "/session", caps);
    return new Session(base, value.sessionId);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async quit() {
    await this.cmd("DELETE", "");
  }

  async find(selector) {
    const v = await this.cmd("POST", "/element", {
      using: "css selector",
      value: selector,
    });
    return new Element(this, v[ELEMENT]);
  }

  async findAll(selector) {
    const v = await this.cmd("POST", "/elements", {
      using: "css selector",
      value: selector,
    });
    return v.map((e) => new Element(this, e[ELEMENT]));
  }

  /** Waits until `selector` matches, and returns the element. */
  async waitFor(selector, timeoutMs = 10000) {
    const end = Date.now() + timeoutMs;
    let last;
    while (Date.now() < end) {
      try {
        const all = await this.findAll(selector);
        if (all.length) return all[0];
      } catch (err) {
        last = err;
      }
      await sleep(100);
    }
    throw new Error(
      `timed out waiting for ${selector}${last ? `: ${last.message}` : ""}`,
    );
  }

  /** Waits until `fn()` returns a truthy value, and returns it. */
  async until(fn, what, timeoutMs = 10000) {
    const end = Date.now() + timeoutMs;
    let last;
    while (Date.now() < end) {
      try {
        const v = await fn();
        if (v) return v;
      } catch (err) {
        last = err;
      }
      await sleep(100);
    }
    throw new Error(
      `timed out waiting for ${what}${last ? `: ${last.message}` : ""}`,
    );
  }

  async gone(selector, timeoutMs = 10000) {
    await this.until(
      async () => (await this.findAll(selector)).length === 0,
      `${selector} to go`,
      timeoutMs,
    );
  }

  execute(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /** Runs `script` with a callback as its last argument; resolves to what it passes the callback. */
  executeAsync(script, args = []) {
    return this.cmd("POST", "/execute/async", { script, args });
  }

  /**
   * axe-core's check of the page as it is now: the violations of `impacts`
   * (serious and critical by default), each with its rule, help and the
   * elements it found.
   */
  async axe(impacts = ["serious", "critical"]) {
    const present = await this.execute("return typeof window.axe === 'object'");
    if (!present)
      await this.execute(`(function () { ${axeScript()} }).call(window); return true;`);
    const result = await this.executeAsync(
      `const done = arguments[arguments.length - 1];
       window.axe
         .run(document, { resultTypes: ['violations'] })
         .then((r) => done(JSON.stringify(r.violations.map((v) => ({
           id: v.id, impact: v.impact, help: v.help,
           nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary),
         })))))
         .catch((e) => done(JSON.stringify({ error: String(e) })));`,
    );
    const violations = JSON.parse(result);
    if (violations.error) throw new Error(`axe-core failed: ${violations.error}`);
    return violations.filter((v) => impacts.includes(v.impact));
  }

  async text(selector) {
    return (await this.find(selector)).text();
  }

  async texts(selector) {
    const els = await this.findAll(selector);
    return Promise.all(els.map((e) => e.text()));
  }

  async click(selector) {
    await (await this.waitFor(selector)).click();
  }

  async type(selector, text) {
    const el = await this.waitFor(selector);
    await el.clear();
    await el.type(text);
  }

  /** Picks an option of a <select> by value, as a user would, firing change. */
  async select(selector, value) {
    await this.waitFor(selector);
    const ok = await this.execute(
      `const el = document.querySelector(arguments[0]);
       if (![...el.options].some(o => o.value === arguments[1])) return false;
       el.value = arguments[1];
       el.dispatchEvent(new Event('input', { bubbles: true }));
       el.dispatchEvent(new Event('change', { bubbles: true }));
       return true;`,
      [selector, value],
    );
    if (!ok) throw new Error(`${selector} has no option ${value}`);
  }

  /** Makes Testing Library's queries available in the page (once per page). */
  async withQueries() {
    const present = await this.execute("return typeof window.TestingLibraryDom === 'object'");
    if (!present)
      await this.execute(
        `(function () { ${testingLibraryScript()} }).call(window); return true;`,
      );
  }

  /** The elements with this role and accessible name (text or RegExp), as a user sees them. */
  async allByRole(role, name, within = null) {
    await this.withQueries();
    const found = await this.execute(
      `const [role, name, within] = arguments;
       const match = name && typeof name === 'object' ? new RegExp(name.source, name.flags) : name;
       const root = within || document.body;
       return window.TestingLibraryDom.queryAllByRole(root, role, match === null ? {} : { name: match });`,
      [role, nameArg(name), within ? within.ref() : null],
    );
    return found.map((e) => new Element(this, e[ELEMENT]));
  }

  /** Waits for the one element with this role and name. */
  async byRole(role, name, { within = null, timeoutMs = 10000 } = {}) {
    return this.until(
      async () => {
        const all = await this.allByRole(role, name, within);
        if (all.length > 1) throw new Error(`${all.length} elements are ${role} "${name}"`);
        return all[0];
      },
      `the ${role} "${name}"`,
      timeoutMs,
    );
  }

  /** Moves the mouse over the element's centre, as a user hovering it. */
  async hover(element, dx = 0, dy = 0) {
    await this.cmd("POST", "/actions", {
      actions: [
        {
          type: "pointer",
          id: "mouse",
          parameters: { pointerType: "mouse" },
          actions: [{ type: "pointerMove", duration: 0, origin: element.ref(), x: dx, y: dy }],
        },
      ],
    });
  }

  /**
   * Presses keys as the keyboard does: each entry a key, or [modifier, key]
   * for a chord ("Control", "Shift"; "Enter", "ArrowDown", "/").
   */
  async press(...keys) {
    const codes = {
      Enter: "\uE007",
      Escape: "\uE00C",
      ArrowUp: "\uE013",
      ArrowDown: "\uE015",
      ArrowLeft: "\uE012",
      ArrowRight: "\uE014",
      Tab: "\uE004",
      Control: "\uE009",
      Shift: "\uE008",
      Home: "\uE011",
      End: "\uE010",
    };
    const actions = [];
    for (const key of keys) {
      const chord = (Array.isArray(key) ? key : [key]).map((k) => codes[k] ?? k);
      for (const k of chord) actions.push({ type: "keyDown", value: k });
      for (const k of [...chord].reverse()) actions.push({ type: "keyUp", value: k });
    }
    await this.cmd("POST", "/actions", {
      actions: [{ type: "key", id: "keyboard", actions }],
    });
    await this.cmd("DELETE", "/actions");
  }

  /** The element that has the keyboard focus. */
  async focused() {
    const v = await this.cmd("GET", "/element/active");
    return new Element(this, v[ELEMENT]);
  }

  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }
}

export class Element {
  constructor(session, id) {
    this.s = session;
    this.id = id;
  }
  /** The element as a WebDriver argument (for execute and actions). */
  ref() {
    return { [ELEMENT]: this.id };
  }
  click() {
    return this.s.cmd("POST", `/element/${this.id}/click`, {});
  }
  clear() {
    return this.s.cmd("POST", `/element/${this.id}/clear`, {});
  }
  type(text) {
    return this.s.cmd("POST", `/element/${this.id}/value`, { text });
  }
  text() {
    return this.s.cmd("GET", `/element/${this.id}/text`);
  }
  attribute(name) {
    return this.s.cmd("GET", `/element/${this.id}/attribute/${name}`);
  }
  property(name) {
    return this.s.cmd("GET", `/element/${this.id}/property/${name}`);
  }
  /** Finds inside this element, by role and accessible name. */
  byRole(role, name, options = {}) {
    return this.s.byRole(role, name, { ...options, within: this });
  }
  allByRole(role, name) {
    return this.s.allByRole(role, name, this);
  }
}
