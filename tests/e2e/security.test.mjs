// The content security policy in the real window: the page tries what an
// injected script would (eval, an inline <script>, a script, image or fetch
// from another origin, a form posted elsewhere) and each is refused. The
// "remote" origin is an HTTP server of this test on loopback, which counts
// every request it gets: a refusal means it got none, not merely that the
// network failed. The app process itself runs with core dumps forbidden.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { App, appPids, isolatedEnv } from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

const { env } = isolatedEnv();
const app = new App(env);
let s;
let remote;
let hits = [];

before(async () => {
  remote = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, {
      "content-type": "application/javascript",
      "access-control-allow-origin": "*",
    });
    res.end("window.__remoteRan = true;");
  });
  await new Promise((r) => remote.listen(0, "127.0.0.1", r));
  s = await app.start();
  // Record every CSP violation the page reports.
  await s.execute(
    `window.__violations = [];
     document.addEventListener('securitypolicyviolation', (e) =>
       window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
     return true;`,
  );
});

after(async () => {
  await app.stop();
  await new Promise((r) => remote.close(r));
});

const origin = () => `http://127.0.0.1:${remote.address().port}`;
const violations = () => s.execute("return window.__violations.slice();");

test("eval and new Function are refused", async () => {
  const result = await s.execute(
    `const out = [];
     try { out.push('eval ran: ' + eval('6 * 7')); } catch (e) { out.push(e.name); }
     try { out.push('Function ran: ' + new Function('return 42')()); } catch (e) { out.push(e.name); }
     try { setTimeout('window.__timerRan = true', 0); } catch (e) { out.push(e.name); }
     return out;`,
  );
  assert.deepEqual(
    result.slice(0, 2),
    ["EvalError", "EvalError"],
    String(result),
  );
  await sleep(300);
  assert.equal(await s.execute("return window.__timerRan === true;"), false);
});

test("an inline script added to the page does not run", async () => {
  await s.execute(
    `const el = document.createElement('script');
     el.textContent = 'window.__inlineRan = true;';
     document.body.appendChild(el);
     const div = document.createElement('div');
     div.innerHTML = '<img src="x:" onerror="window.__handlerRan = true">';
     document.body.appendChild(div);
     return true;`,
  );
  await sleep(500);
  assert.equal(await s.execute("return window.__inlineRan === true;"), false);
  assert.equal(await s.execute("return window.__handlerRan === true;"), false);
  const seen = await violations();
  assert.ok(
    seen.some((v) => v.startsWith("script-src")),
    `a script-src violation was reported: ${seen}`,
  );
});

test("a fetch, a script, an image and a form to another origin never reach it", async () => {
  hits = [];
  const fetched = await s.cmd("POST", "/execute/async", {
    script: `const done = arguments[arguments.length - 1];
     fetch(arguments[0] + '/fetch').then(
       (r) => done('fetched ' + r.status),
       (e) => done('refused: ' + e.name));`,
    args: [origin()],
  });
  assert.match(String(fetched), /^refused/);
  await s.execute(
    `const base = arguments[0];
     const script = document.createElement('script');
     script.src = base + '/script.js';
     document.body.appendChild(script);
     const img = document.createElement('img');
     img.src = base + '/image.png';
     document.body.appendChild(img);
     const form = document.createElement('form');
     form.method = 'post';
     form.action = base + '/form';
     document.body.appendChild(form);
     try { form.submit(); } catch (e) {}
     return true;`,
    [origin()],
  );
  await sleep(1000);
  assert.equal(await s.execute("return window.__remoteRan === true;"), false);
  assert.deepEqual(hits, [], "the other origin got no request");
  const seen = await violations();
  for (const directive of ["connect-src", "script-src", "img-src"]) {
    assert.ok(
      seen.some((v) => v.startsWith(directive) && v.includes(origin())),
      `${directive} violation for ${origin()}: ${seen}`,
    );
  }
  // The page still works after all that.
  await s.waitFor("[data-testid=app-ready]");
});

test("the app runs with core dumps forbidden", () => {
  const pids = appPids();
  assert.ok(pids.length > 0, "the app is running");
  for (const pid of pids) {
    const line = readFileSync(`/proc/${pid}/limits`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max core file size"));
    assert.deepEqual(line.split(/\s+/).slice(4, 6), ["0", "0"], line);
  }
});
