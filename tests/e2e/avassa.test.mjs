// An Avassa password login in the real window against the sandbox: the login
// dialog, the OTP dialog that shows which profile and tenant it is for, a
// wrong code that keeps the dialog open with the server's message, the right
// code, and the token listed with its tenant and countdown, which the server
// then accepts.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import {
  App,
  APP,
  ROOT,
  isolatedEnv,
  cli,
  saveScreenshot,
  startSandbox,
  sandboxOtp,
  appPids,
} from "./harness.mjs";

const BOB_PASSWORD = "bob-sandbox-password";
const { env, dir } = isolatedEnv();
const browserLog = join(dir, "browser.log");
env.LATCHKEY_BROWSER = join(ROOT, "tests", "e2e", "fake-browser.mjs");
env.LATCHKEY_E2E_APP = APP;
env.LATCHKEY_E2E_BROWSER_LOG = browserLog;
const app = new App(env);
let s;
let sandbox;

before(async () => {
  sandbox = await startSandbox();
  const base = `${sandbox.url}/avassa`;
  for (const args of [
    ["server", "add", "edge", "--kind", "avassa", "--url", base],
    ["tenant", "add", "edge", "acme"],
    [
      "profile",
      "add",
      "bob",
      "--server",
      "edge",
      "--tenant",
      "acme",
      "--login",
      "avassa-password",
      "--username",
      "bob",
    ],
    [
      "profile",
      "add",
      "sso",
      "--server",
      "edge",
      "--tenant",
      "acme",
      "--login",
      "avassa-oidc",
    ],
  ]) {
    const out = cli(env, args);
    assert.equal(out.status, 0, `${args.join(" ")}: ${out.stderr}`);
  }
  s = await app.start();
});

after(async () => {
  await app.stop();
  sandbox?.stop();
});

/** A six-digit code that is not the current one (nor its neighbours). */
function wrongCode(right) {
  return right === "000000" ? "111111" : "000000";
}

test("a password login asks for the OTP, keeps the dialog on a wrong code and logs in with the right one", async () => {
  await s.click("[data-profile=bob] [data-testid=profile-login]");
  await s.waitFor("[data-testid=login-dialog]");
  await s.type("[data-testid=login-password]", BOB_PASSWORD);
  await s.click("[data-testid=login-submit]");

  const who = await s.waitFor("[data-testid=otp-profile]");
  assert.match(await who.text(), /bob/);
  assert.match(await who.text(), /acme/);

  await s.type("[data-testid=otp-input]", wrongCode(sandboxOtp()));
  await s.click("[data-testid=otp-submit]");
  const error = await s.waitFor("[data-testid=otp-error]");
  assert.match(await error.text(), /invalid OTP/);
  assert.equal(
    (await s.findAll("[data-testid=otp-dialog]")).length,
    1,
    "the dialog stays for another try",
  );
  saveScreenshot(await s.screenshot(), "avassa-otp-wrong.png");

  await s.type("[data-testid=otp-input]", sandboxOtp());
  await s.click("[data-testid=otp-submit]");
  const done = await s.waitFor("[data-testid=login-done]");
  assert.match(await done.text(), /bob/);
  assert.match(await done.text(), /acme/);
  await s.gone("[data-testid=otp-dialog]");

  await s.until(
    async () =>
      /valid/.test(
        await s.text("[data-profile=bob] [data-testid=profile-status]"),
      ),
    "the profile shows a valid token",
  );
  assert.match(
    await s.text("[data-profile=bob]"),
    /acme/,
    "the tenant is shown with the token",
  );
  assert.match(
    await s.text("[data-profile=bob] [data-testid=profile-expires]"),
    /(9|10) m/,
  );
  saveScreenshot(await s.screenshot(), "avassa-logged-in.png");

  // The stored token is one the server accepts, for the tenant shown.
  const token = cli(env, ["token", "bob"]);
  assert.equal(token.status, 0, token.stderr);
  const info = await fetch(
    `${sandbox.url}/avassa/v1/state/strongbox/token/info`,
    {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token.stdout.trim()}`,
        "Content-Type": "application/json",
      },
      body: "{}",
    },
  );
  assert.equal(info.status, 200);
  assert.equal((await info.json()).tenant, "acme");
});

test("the profile detail shows what the server says about the token", async () => {
  await s.click("[data-profile=bob] [data-testid=profile-open]");
  await s.waitFor("[data-testid=server-token-info]");
  await s.until(
    async () => (await s.texts("[data-testid=server-info-item]")).length > 0,
    "server token info",
  );
  const lines = (await s.texts("[data-testid=server-info-item]")).join("\n");
  assert.match(lines, /tenant[\s\S]*acme/);
  assert.match(lines, /policies[\s\S]*default/);
  assert.match(lines, /renewable[\s\S]*true/);
});

test("an OIDC login opens the browser and completes through a deep link delivered to a second launch", async () => {
  await s.click("[data-profile=sso] [data-testid=profile-login]");
  const banner = await s.waitFor("[data-testid=redirect-outcome]", 20000);
  await s.until(
    async () => /Logged in sso/.test(await banner.text()),
    "the redirect outcome says logged in",
    20000,
  );
  assert.match(await banner.text(), /acme/);
  await s.until(
    async () =>
      /valid/.test(
        await s.text("[data-profile=sso] [data-testid=profile-status]"),
      ),
    "the OIDC profile shows a valid token",
  );
  const log = existsSync(browserLog) ? readFileSync(browserLog, "utf8") : "";
  assert.match(
    log,
    /open http:\/\/127\.0\.0\.1:\d+\/avassa\/oidc\/authorize\?/,
    log,
  );
  assert.match(log, /location latchkey:\/\/callback\?code=/, log);
  assert.match(log, /second launch with latchkey:\/\/callback exited 0/, log);
  assert.equal(
    appPids().length,
    1,
    "the second launch handed the URL over and quit",
  );
  const token = cli(env, ["token", "sso"]);
  assert.equal(token.status, 0, token.stderr);
  saveScreenshot(await s.screenshot(), "avassa-oidc.png");
});
