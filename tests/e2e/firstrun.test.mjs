// The first run (issue 11): with an empty data folder the window offers to
// start the offline sandbox; one click starts it inside the app on loopback
// with a server and a profile per login kind; the profiles appear, the note
// says how to log in to each, and logins work without any server of one's
// own: a password login with the password the note gives, and a Kubernetes
// service-account login with no typing at all. Found by role and name.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { App, isolatedEnv, cli, saveScreenshot } from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

const { env } = isolatedEnv();
const app = new App(env);
let s;

before(async () => {
  s = await app.start();
});

after(async () => {
  await app.stop();
});

test("an empty data folder shows the first-run screen with the sandbox on offer", async () => {
  await s.byRole("heading", "Welcome to Latchkey");
  await s.byRole("heading", "Try it offline");
  await s.byRole("button", "Add server");
  await sleep(800);
  saveScreenshot(await s.screenshot(), "first-run.png");
});

test("starting the sandbox seeds a profile per login kind, and says how to log in", async () => {
  const started = Date.now();
  await (await s.byRole("button", "Start the offline sandbox")).click();
  const note = await s.waitFor("[data-testid=sandbox-started]", 20000);
  const tookMs = Date.now() - started;
  console.log(`# first run: the sandbox started and seeded in ${tookMs} ms`);
  assert.match(await note.text(), /The offline sandbox runs at http:\/\/127\.0\.0\.1:\d+/);
  await (await s.byRole("radio", "List")).click();
  const names = await s.until(async () => {
    const n = await s.execute(
      "return [...document.querySelectorAll('[data-testid=profile-item]')].map(r => r.dataset.profile)",
    );
    return n.length >= 10 && n;
  }, "the seeded profiles");
  for (const name of ["sandbox-avassa", "sandbox-avassa-k8s", "sandbox-oidc", "sandbox-quay", "sandbox-dci"])
    assert.ok(names.includes(name), `${name} is among ${names.join(", ")}`);
  // The CLI sees the same servers, pointing at the sandbox the app runs.
  const servers = JSON.parse(cli(env, ["server", "list", "--json"]).stdout);
  assert.ok(servers.length >= 7, JSON.stringify(servers));
  for (const server of servers) assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\//);
  await sleep(500);
  saveScreenshot(await s.screenshot(), "first-run-sandbox.png");
});

test("a password login works with the password the note gives", async () => {
  const lines = await s.texts("[data-testid=sandbox-seeded] li");
  const password = lines
    .map((line) => line.match(/^sandbox-avassa \(avassa-password\): password (\S+)$/)?.[1])
    .find(Boolean);
  assert.ok(password, `the note gives sandbox-avassa's password:\n${lines.join("\n")}`);
  await (await s.byRole("button", "Log in with sandbox-avassa")).click();
  await s.byRole("dialog", "Log in to sandbox-avassa");
  await s.type("[data-testid=login-password]", password);
  await (await s.byRole("button", "Log in")).click();
  await s.until(
    async () =>
      /valid/.test(await s.text("[data-profile=sandbox-avassa] [data-testid=profile-status]")),
    "sandbox-avassa logged in",
    15000,
  );
});

test("a Kubernetes service-account login needs no typing", async () => {
  await (await s.byRole("button", "Log in with sandbox-avassa-k8s")).click();
  await s.until(
    async () =>
      /valid/.test(await s.text("[data-profile=sandbox-avassa-k8s] [data-testid=profile-status]")),
    "sandbox-avassa-k8s logged in",
    15000,
  );
  const listed = JSON.parse(cli(env, ["profile", "list", "--json"]).stdout);
  const statuses = Object.fromEntries(listed.map((p) => [p.name, p.status]));
  assert.equal(statuses["sandbox-avassa"], "valid");
  assert.equal(statuses["sandbox-avassa-k8s"], "valid");
});
