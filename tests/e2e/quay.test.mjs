// Quay logins in the real window against the sandbox's Quay: a direct-OAuth
// profile added with its scopes checked in the form, its login where a wrong password keeps the dialog open with Quay's refusal and
// stores nothing, then the right password gives a token that lives ten years
// and whose owner the detail shows; and a registry login as a robot account
// asking for more than Quay grants, whose token the inspector decodes with
// the granted `access` and the "granted less than asked" warning; a registry
// profile that picks the direct-OAuth profile whose token it presents; and the
// Copy buttons of a device login, which put exactly the code and the address
// on the X clipboard.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  App,
  isolatedEnv,
  cli,
  saveScreenshot,
  startSandbox,
} from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

// Test values of the sandbox (crates/sandbox/src/quay.rs).
const ALICE_PASSWORD = "alice-quay-password";
const CLIENT_ID = "SANDBOXCLIENT0000000";
const ROBOT = "acme+deployer";
const ROBOT_TOKEN =
  "R0B0TT0KENACMEDEPL0YER0000000000SANDB0X0NLY000000000000000000001";

const { env } = isolatedEnv();
// The device login's page is not visited: the code is only copied.
env.LATCHKEY_BROWSER = "true";
const app = new App(env);
let s;
let sandbox;

function clipboard() {
  return spawnSync("xclip", ["-selection", "clipboard", "-o"], {
    encoding: "utf8",
    timeout: 5000,
  }).stdout;
}

before(async () => {
  sandbox = await startSandbox();
  for (const [args, input] of [
    [
      [
        "server",
        "add",
        "quay",
        "--kind",
        "quay",
        "--url",
        `${sandbox.url}/quay`,
      ],
    ],
    [
      [
        "server",
        "add",
        "idp",
        "--kind",
        "oidc",
        "--url",
        `${sandbox.url}/oidc`,
      ],
    ],
    [
      [
        "profile",
        "add",
        "tv",
        "--server",
        "idp",
        "--login",
        "oidc",
        "--client-id",
        "sandbox-oidc-client",
        "--scope",
        "openid",
        "--redirect",
        "device",
      ],
    ],
    [
      [
        "profile",
        "add",
        "deployer",
        "--server",
        "quay",
        "--login",
        "quay-registry",
        "--username",
        ROBOT,
        // The robot may pull acme/web but not push; acme/app does not exist
        // and a robot cannot create it: Quay silently grants less.
        "--scope",
        "repository:acme/web:pull,push",
        "--scope",
        "repository:acme/app:pull,push",
        "--secret-stdin",
      ],
      ROBOT_TOKEN,
    ],
  ]) {
    const out = cli(env, args, input);
    assert.equal(out.status, 0, `${args.join(" ")}: ${out.stderr}`);
  }
  s = await app.start();
});

after(async () => {
  await app.stop();
  sandbox?.stop();
});

test("a direct-OAuth profile is added with its scopes checked in the form", async () => {
  await s.click("[data-testid=add-profile]");
  await s.waitFor("[data-testid=profile-form]");
  await s.type("[data-testid=profile-name]", "alice-oauth");
  await s.select("[data-testid=profile-server]", "quay");
  await s.select(
    "[data-testid=profile-form] [data-testid=profile-login]",
    "quay-direct-oauth",
  );
  await s.type("[data-testid=setting-username]", "alice");
  await s.type("[data-testid=setting-client_id]", CLIENT_ID);
  const boxes = await s.findAll("[data-testid=scope-choice]");
  assert.equal(boxes.length, 8, "Quay's eight scopes as checkboxes");
  await s.click('[data-testid=scope-choice][data-scope="user:read"]');
  await s.click('[data-testid=scope-choice][data-scope="repo:read"]');
  await sleep(500);
  saveScreenshot(await s.screenshot(), "quay-scopes.png");
  await s.click("[data-testid=profile-save]");
  await s.gone("[data-testid=profile-form]");
  const listed = JSON.parse(cli(env, ["profile", "list", "--json"]).stdout);
  const profile = listed.find((p) => p.name === "alice-oauth");
  assert.ok(profile, JSON.stringify(listed));
  assert.deepEqual(profile.settings.scopes, ["repo:read", "user:read"]);
});

test("a wrong password keeps the login dialog with Quay's refusal and stores nothing", async () => {
  await s.click("[data-profile=alice-oauth] [data-testid=profile-login]");
  await s.waitFor("[data-testid=login-dialog]");
  await s.type("[data-testid=login-password]", "not-alices-password");
  await s.click("[data-testid=login-submit]");
  const error = await s.waitFor(
    "[data-testid=login-dialog] [data-testid=error-password]",
    20000,
  );
  assert.match(await error.text(), /check both/);
  assert.equal(
    (await s.findAll("[data-testid=login-dialog]")).length,
    1,
    "the dialog stays for another try",
  );
  assert.equal((await s.findAll("[data-testid=login-done]")).length, 0);
  assert.match(
    await s.text("[data-profile=alice-oauth] [data-testid=profile-status]"),
    /not logged in/,
  );
  const token = cli(env, ["token", "alice-oauth"]);
  assert.notEqual(token.status, 0, "no token was stored");
  saveScreenshot(await s.screenshot(), "quay-wrong-password.png");
});

test("the right password gives a ten-year token whose owner the detail shows", async () => {
  await s.type("[data-testid=login-password]", ALICE_PASSWORD);
  await s.click("[data-testid=login-submit]");
  const done = await s.waitFor("[data-testid=login-done]", 20000);
  assert.match(await done.text(), /alice-oauth/);
  await s.gone("[data-testid=login-dialog]");

  await s.until(
    async () =>
      /valid/.test(
        await s.text("[data-profile=alice-oauth] [data-testid=profile-status]"),
      ),
    "the profile shows a valid token",
  );
  assert.match(
    await s.text("[data-profile=alice-oauth] [data-testid=profile-expires]"),
    /in (9|10) years/,
  );

  await s.click("[data-profile=alice-oauth] [data-testid=profile-open]");
  await s.waitFor("[data-testid=profile-detail]");
  const summary = await s.until(async () => {
    const all = await s.texts("[data-testid=token-summary]");
    return all.length > 0 && all.join("\n");
  }, "the token's summary");
  assert.match(summary, /user[\s\S]*alice/);
  assert.match(
    await s.text("[data-testid=token-info]"),
    /in (9|10) years/,
    "the detail shows the ten-year expiry",
  );
  await s.waitFor("[data-testid=server-token-info]");
  const info = await s.until(async () => {
    const all = await s.texts("[data-testid=server-info-item]");
    return all.length > 0 && all.join("\n");
  }, "what Quay says about the token");
  assert.match(info, /user[\s\S]*alice/);
  assert.match(info, /organizations[\s\S]*acme/);
  const stored = cli(env, ["token", "alice-oauth"]);
  assert.equal(stored.status, 0, stored.stderr);
  assert.equal(stored.stdout.trim().length, 40);
  await sleep(300);
  saveScreenshot(await s.screenshot(), "quay-direct-oauth.png");
});

test("a robot's registry token shows the granted access and warns that Quay granted less than asked", async () => {
  await s.click("[data-profile=deployer] [data-testid=profile-login]");
  await s.waitFor("[data-testid=login-dialog]");
  // Empty: the robot's token, stored as the profile's secret, is the password.
  await s.click("[data-testid=login-submit]");
  await s.until(
    async () =>
      /valid/.test(
        await s.text("[data-profile=deployer] [data-testid=profile-status]"),
      ),
    "the registry profile shows a valid token",
    20000,
  );
  assert.match(
    await s.text("[data-profile=deployer] [data-testid=profile-expires]"),
    /in (59 m|1 h)/,
  );

  await s.click("[data-profile=deployer] [data-testid=profile-open]");
  await s.until(
    async () => /deployer/.test(await s.text("[data-testid=profile-detail]")),
    "the detail of the registry profile",
  );
  await s.click("[data-testid=inspect-profile]");
  const claims = await s.waitFor("[data-testid=inspector-claims]");
  const text = await claims.text();
  const decoded = JSON.parse(text);
  assert.equal(decoded.sub, ROBOT);
  assert.deepEqual(
    decoded.access.map((a) => [a.name, a.actions]),
    [
      ["acme/web", ["pull"]],
      ["acme/app", []],
    ],
    text,
  );
  const warnings = (await s.texts("[data-testid=inspector-warning]")).join(
    "\n",
  );
  assert.match(warnings, /granted less than asked/);
  assert.match(warnings, /acme\/web: pull only \(asked pull, push\)/);
  assert.match(warnings, /acme\/app: nothing \(asked pull, push\)/);
  const page = await s.execute("return document.documentElement.outerHTML");
  assert.ok(
    !page.includes(ROBOT_TOKEN),
    "the page never holds the robot token",
  );
  await sleep(300);
  saveScreenshot(await s.screenshot(), "quay-registry-inspector.png");
});

test("a registry profile picks the direct-OAuth profile whose token it presents, and logs in with it", async () => {
  await s.click("[data-testid=add-profile]");
  await s.waitFor("[data-testid=profile-form]");
  await s.type("[data-testid=profile-name]", "borrowing");
  await s.select("[data-testid=profile-server]", "quay");
  await s.select(
    "[data-testid=profile-form] [data-testid=profile-login]",
    "quay-registry",
  );
  const options = await s.execute(
    "return [...document.querySelector('[data-testid=setting-source_profile]').options].map(o => o.value)",
  );
  assert.deepEqual(
    options,
    ["", "alice-oauth"],
    "none, and the direct-OAuth profile",
  );
  await s.type("[data-testid=setting-username]", "$oauthtoken");
  await s.type("[data-testid=setting-scopes]", "repository:acme/web:pull");
  await s.select("[data-testid=setting-source_profile]", "alice-oauth");
  await s.click("[data-testid=profile-save]");
  await s.gone("[data-testid=profile-form]");

  await s.click("[data-profile=borrowing] [data-testid=profile-login]");
  await s.waitFor("[data-testid=login-dialog]");
  // No password: alice-oauth's token is sent in its place.
  await s.click("[data-testid=login-submit]");
  await s.until(
    async () =>
      /valid/.test(
        await s.text("[data-profile=borrowing] [data-testid=profile-status]"),
      ),
    "the borrowing profile shows a valid token",
    20000,
  );
  await s.click("[data-profile=borrowing] [data-testid=profile-open]");
  const summary = await s.until(async () => {
    const all = await s.texts("[data-testid=token-summary]");
    return all.some((l) => /access/.test(l)) && all.join("\n");
  }, "the registry token's summary");
  assert.match(summary, /sub[\s\S]*alice/);
  assert.match(summary, /access acme\/web[\s\S]*pull/);
});

test("Copy in the device dialog puts exactly the code, then the address, on the clipboard", async () => {
  await s.click("[data-profile=tv] [data-testid=profile-login]");
  const code = await (
    await s.waitFor("[data-testid=device-code]", 20000)
  ).text();
  assert.match(code, /^[A-Z0-9-]{6,}$/, code);
  await s.click("[data-testid=device-code-copy]");
  await s.until(
    async () => (await s.text("[data-testid=device-code-copy]")) === "Copied",
    "the button says Copied",
  );
  await s.until(
    () => clipboard() === code,
    `the code ${code} on the clipboard`,
  );
  const uri = await s.execute(
    "return document.querySelector('[data-testid=device-uri]').value",
  );
  assert.match(uri, /^http:\/\/127\.0\.0\.1:\d+\/oidc\//, uri);
  await sleep(300);
  saveScreenshot(await s.screenshot(), "device-copy.png");
  await s.click("[data-testid=device-uri-copy]");
  await s.until(() => clipboard() === uri, "the address on the clipboard");
  await s.until(
    async () => (await s.text("[data-testid=device-code-copy]")) === "Copy",
    "Copied goes away",
  );
  await s.click("[data-testid=device-cancel]");
  await s.gone("[data-testid=device-dialog]");
});
