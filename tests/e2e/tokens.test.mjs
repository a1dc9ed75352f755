// The token lifecycle in the real window: a pasted JWT that expires in two
// minutes shows its countdown; copying it puts exactly the token on the X
// clipboard, which is cleared again after the configured time; the inspector
// shows its claims and verifies it with the right secret and not a wrong one;
// and the reminder for a token that needs the user goes out on D-Bus to a
// real notification server (dunst), and clicking it brings up the profile.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, isolatedEnv, cli, saveScreenshot, recordSecret } from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

const { env } = isolatedEnv();
const app = new App(env);
let s;
let monitor;
let busLog = "";
let notifier;

// dunst, a real freedesktop notification server, on this test's session bus;
// its notifications stay until acted on, so the test can click one.
async function startNotifier() {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-dunst-"));
  const config = join(dir, "dunstrc");
  writeFileSync(
    config,
    "[global]\n  follow = none\n[urgency_low]\n  timeout = 0\n[urgency_normal]\n  timeout = 0\n[urgency_critical]\n  timeout = 0\n",
  );
  notifier = spawn("dunst", ["-config", config], { env, stdio: "ignore" });
  for (let i = 0; i < 50; i++) {
    if (dunstctl(["count", "displayed"]).status === 0) return;
    await sleep(100);
  }
  throw new Error("dunst did not come up on the session bus");
}

function dunstctl(args) {
  return spawnSync("dunstctl", args, { env, encoding: "utf8", timeout: 5000 });
}

const SECRET = "e2e-shared-secret";
const b64url = (buf) => Buffer.from(buf).toString("base64url");
function hs256(claims) {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(claims));
  const sig = b64url(
    createHmac("sha256", SECRET).update(`${head}.${body}`).digest(),
  );
  return `${head}.${body}.${sig}`;
}
const now = Math.floor(Date.now() / 1000);
const TOKEN = hs256({
  sub: "e2e-user",
  iss: "https://id.e2e.example",
  iat: now,
  exp: now + 120,
});

function clipboard() {
  return spawnSync("xclip", ["-selection", "clipboard", "-o"], {
    encoding: "utf8",
    timeout: 5000,
  }).stdout;
}

before(async () => {
  monitor = spawn(
    "dbus-monitor",
    ["--session", "interface='org.freedesktop.Notifications',member='Notify'"],
    {
      env,
    },
  );
  monitor.stdout.on("data", (d) => (busLog += d.toString()));
  await startNotifier();
  await sleep(300);
  assert.equal(
    cli(env, [
      "server",
      "add",
      "api",
      "--kind",
      "oidc",
      "--url",
      "https://api.e2e.example",
    ]).status,
    0,
  );
  s = await app.start();
});

after(async () => {
  await app.stop();
  monitor?.kill();
  notifier?.kill();
});

test("a pasted JWT shows its expiry countdown", async () => {
  // A short clipboard clear time for this run.
  await s.click("[data-testid=open-settings]");
  await s.type("[data-testid=settings-clipboard-clear-seconds]", "4");
  await s.click("[data-testid=settings-save]");
  // The dialog closes once the settings are stored; until then it covers
  // the page and takes the next click.
  await s.gone('[aria-modal="true"]');

  await s.click("[data-testid=add-profile]");
  await s.type("[data-testid=profile-name]", "pasted");
  await s.select("[data-testid=profile-server]", "api");
  await s.select("[data-testid=profile-login]", "manual-token");
  recordSecret(TOKEN);
  await s.type("[data-testid=profile-secret]", TOKEN);
  await s.click("[data-testid=profile-save]");
  const expires = await s.waitFor(
    "[data-testid=profile-item] [data-testid=profile-expires]",
  );
  const first = await s.until(async () => {
    const t = await expires.text();
    return /in (1|2) m/.test(t) && t;
  }, "a countdown under two minutes");
  await sleep(2200);
  const later = await expires.text();
  assert.notEqual(later, first, `the countdown moves: ${first} → ${later}`);
  assert.match(
    await s.text("[data-testid=profile-item] [data-testid=profile-status]"),
    /expiring/,
  );
});

test("the reminder for a token that needs the user goes out as a desktop notification", async () => {
  await s.until(
    () => /pasted expires in 10 minutes/.test(busLog),
    `a Notify call on the bus:\n${busLog}`,
    15000,
  );
  assert.equal(
    (await s.findAll("[data-testid=profile-detail]")).length,
    0,
    "no profile is open before the click",
  );
  await s.until(
    () => Number(dunstctl(["count", "displayed"]).stdout.trim()) >= 1,
    "dunst shows the reminder",
  );
  // A click on the notification: dunst invokes its default action.
  assert.equal(dunstctl(["action", "0"]).status, 0);
  await s.waitFor("[data-testid=profile-detail]");
  await s.until(
    async () => /pasted/.test(await s.text("[data-testid=profile-detail]")),
    "the clicked reminder's profile is shown",
  );
  // The click also starts its login; a pasted token has none, so no dialog.
  assert.equal((await s.findAll("[data-testid=login-dialog]")).length, 0);
});

test("copy puts exactly the token on the clipboard and clears it after the set time", async () => {
  await s.click("[data-testid=profile-item] [data-testid=profile-open]");
  await s.waitFor("[data-testid=profile-detail]");
  await s.click("[data-testid=copy-token]");
  const receipt = await s.waitFor("[data-testid=copy-receipt]");
  assert.match(await receipt.text(), /pasted/);
  assert.equal(clipboard(), TOKEN);
  await s.click("[data-testid=copy-header]");
  await s.until(
    () => clipboard() === `Authorization: Bearer ${TOKEN}`,
    "the header on the clipboard",
  );
  await sleep(5000);
  assert.notEqual(
    clipboard(),
    `Authorization: Bearer ${TOKEN}`,
    "cleared after 4 s",
  );
  const history = await s.texts("[data-testid=history-item]");
  assert.ok(
    history.some((h) => /copied/.test(h)),
    history.join("\n"),
  );
  assert.ok(
    !history.join("\n").includes(TOKEN),
    "the history never shows the token",
  );
});

test("the inspector shows the claims and verifies with the right secret only", async () => {
  await s.click("[data-testid=inspect-profile]");
  const claims = await s.waitFor("[data-testid=inspector-claims]");
  assert.match(await claims.text(), /e2e-user/);
  assert.match(await s.text("[data-testid=inspector-times]"), /exp/);
  const page = await s.execute("return document.documentElement.outerHTML");
  assert.ok(!page.includes(TOKEN), "the page never holds the stored token");

  await s.select("[data-testid=verify-kind]", "secret");
  await s.type("[data-testid=verify-key]", "not-the-secret");
  await s.click("[data-testid=verify-run]");
  const result = await s.waitFor("[data-testid=verify-result]");
  await s.until(
    async () => (await result.attribute("data-ok")) === "false",
    "a wrong secret is refused",
  );
  await s.type("[data-testid=verify-key]", SECRET);
  await s.click("[data-testid=verify-run]");
  await s.until(
    async () =>
      (await (
        await s.find("[data-testid=verify-result]")
      ).attribute("data-ok")) === "true",
    "the right secret verifies",
  );
  assert.match(await s.text("[data-testid=verify-result]"), /HS256/);
  await sleep(500);
  saveScreenshot(await s.screenshot(), "inspector.png");
});

test("a pasted token can be inspected without storing it", async () => {
  await s.click("[data-testid=open-inspector]");
  await s.type(
    "[data-testid=inspector-input]",
    "gho_16C7e42F292c6912E7710c838347Ae178B4a",
  );
  await s.click("[data-testid=inspector-decode]");
  assert.match(
    await (await s.waitFor("[data-testid=inspector-opaque]")).text(),
    /GitHub/,
  );
  const profiles = JSON.parse(cli(env, ["profile", "list", "--json"]).stdout);
  assert.equal(profiles.length, 1);
});
