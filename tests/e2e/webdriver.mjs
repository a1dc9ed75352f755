// A small W3C WebDriver client over fetch, enough to drive the real Latchkey
// window through tauri-driver and WebKitWebDriver. No dependencies.

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

  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }
}

export class Element {
  constructor(session, id) {
    this.s = session;
    this.id = id;
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
}
