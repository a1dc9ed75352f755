// Browser logins in the real window against the sandbox: GitHub → Kontinuous
// through the deep link (with a forged deep link refused while the login
// waits, and the real one still completing), the JWT shown with its decoded
// claims; and an OpenID Connect login that comes back through the loopback
// listener.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import {
  App,
  APP,
  ROOT,
  isolatedEnv,
  cli,
  saveScreenshot,
  startSandbox,
} from "./harness.mjs";

const { env, dir } = isolatedEnv();
const browserLog = join(dir, "browser.log");
const forgeFirst = join(dir, "forge-first");
env.LATCHKEY_BROWSER = join(ROOT, "tests", "e2e", "fake-browser.mjs");
env.LATCHKEY_E2E_APP = APP;
env.LATCHKEY_E2E_BROWSER_LOG = browserLog;
env.LATCHKEY_E2E_FORGE_FIRST = forgeFirst;
const app = new App(env);
let s;
let sandbox;

before(async () => {
  sandbox = await startSandbox();
  for (const args of [
    [
      "server",
      "add",
      "ci",
      "--kind",
      "kontinuous",
      "--url",
      `${sandbox.url}/kontinuous`,
    ],
    ["server", "add", "idp", "--kind", "oidc", "--url", `${sandbox.url}/oidc`],
    [
      "profile",
      "add",
      "kontinuous",
      "--server",
      "ci",
      "--login",
      "github-kontinuous",
      "--client-id",
      "sandbox-github-client",
      "--issuer",
      `${sandbox.url}/github`,
    ],
    [
      "profile",
      "add",
      "dev",
      "--server",
      "idp",
      "--login",
      "oidc",
      "--client-id",
      "sandbox-oidc-client",
      "--scope",
      "openid",
      "--scope",
      "email",
      "--scope",
      "offline_access",
      "--redirect",
      "loopback",
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

const log = () =>
  existsSync(browserLog) ? readFileSync(browserLog, "utf8") : "";

test("GitHub → Kontinuous completes through the deep link after a forged one is refused", async () => {
  writeFileSync(forgeFirst, "");
  await s.click("[data-profile=kontinuous] [data-testid=profile-login]");
  try {
    await s.until(
      async () =>
        /no expiry/.test(
          await s.text(
            "[data-profile=kontinuous] [data-testid=profile-status]",
          ),
        ),
      "the Kontinuous profile holds a token",
      20000,
    );
  } catch (e) {
    saveScreenshot(await s.screenshot(), "kontinuous-failed.png");
    throw new Error(`${e.message}\nbrowser:\n${log()}`);
  }
  assert.match(
    log(),
    /second launch with latchkey:\/\/callback exited 0[\s\S]*second launch with latchkey:\/\/callback exited 0/,
    log(),
  );
  assert.ok(!existsSync(forgeFirst), "the forged callback was delivered first");
  saveScreenshot(await s.screenshot(), "kontinuous-logged-in.png");

  // The JWT's decoded claims, without the GitHub token inside in clear.
  await s.click("[data-profile=kontinuous] [data-testid=profile-open]");
  await s.waitFor("[data-testid=profile-detail]");
  await s.click("[data-testid=inspect-profile]");
  const claims = await s.waitFor("[data-testid=inspector-claims]");
  const text = await claims.text();
  assert.match(text, /github\|583231/);
  assert.doesNotMatch(
    text,
    /gho_[A-Za-z0-9]{20,}/,
    "the GitHub token inside is masked",
  );
  saveScreenshot(await s.screenshot(), "kontinuous-claims.png");

  const probe = await fetch(`${sandbox.url}/kontinuous/api/v1/pipelines`, {
    headers: {
      Authorization: `Bearer ${cli(env, ["token", "kontinuous"]).stdout.trim()}`,
    },
  });
  assert.equal(probe.status, 200, "Kontinuous accepts the stored JWT");
});

test("an OpenID Connect login comes back through the loopback listener", async () => {
  await s.click("[data-profile=dev] [data-testid=profile-login]");
  await s.until(
    async () =>
      /valid/.test(
        await s.text("[data-profile=dev] [data-testid=profile-status]"),
      ),
    "the OIDC profile shows a valid token",
    20000,
  );
  assert.match(
    log(),
    /location http:\/\/127\.0\.0\.1:\d+\/callback\?code=/,
    log(),
  );
  const token = cli(env, ["token", "dev", "--format", "json"]);
  assert.equal(token.status, 0, token.stderr);
  assert.equal(JSON.parse(token.stdout).status, "valid");
});
