// The foundation in the real window: servers, tenants and profiles through the
// UI, persistence across a restart, inline validation, a forged deep link
// refused by the running instance, and the CLI and keyring seeing what the
// window did.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import {
  App,
  isolatedEnv,
  launchWithUrl,
  cli,
  recordSecret,
  appPids,
  saveScreenshot,
} from "./harness.mjs";
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

async function addServer({ name, kind, url }) {
  await s.click("[data-testid=add-server]");
  await s.type("[data-testid=server-name]", name);
  await s.select("[data-testid=server-kind]", kind);
  await s.type("[data-testid=server-url]", url);
  await s.click("[data-testid=server-save]");
}

async function openProfileForm({ name, server, login }) {
  await s.click("[data-testid=add-profile]");
  await s.type("[data-testid=profile-name]", name);
  await s.select("[data-testid=profile-server]", server);
  await s.select("[data-testid=profile-login]", login);
}

test("a first start explains what to do", async () => {
  const text = await s.text("[data-testid=empty-state]");
  assert.match(text, /server/i);
});

test("invalid input shows the error next to the field and stores nothing", async () => {
  await s.click("[data-testid=add-server]");
  await s.type("[data-testid=server-name]", "edge");
  await s.select("[data-testid=server-kind]", "avassa");
  await s.type("[data-testid=server-url]", "api.edge.example");
  await s.click("[data-testid=server-save]");
  const urlError = await s.waitFor("[data-testid=error-url]");
  assert.match(await urlError.text(), /https:\/\//);
  // The form stays open with what was typed.
  assert.equal(
    await (await s.find("[data-testid=server-name]")).property("value"),
    "edge",
  );

  await s.type("[data-testid=server-name]", "bad name");
  await s.type("[data-testid=server-url]", "https://api.edge.example");
  await s.click("[data-testid=server-save]");
  assert.match(
    await (await s.waitFor("[data-testid=error-name]")).text(),
    /letters, digits/,
  );
  await s.click("[data-testid=server-cancel]");

  const listed = JSON.parse(cli(env, ["server", "list", "--json"]).stdout);
  assert.deepEqual(listed, [], "nothing was stored");
});

test("a server, a tenant and a profile added in the window are listed", async () => {
  await addServer({
    name: "edge",
    kind: "avassa",
    url: "https://api.edge.example",
  });
  await s.until(
    async () =>
      (await s.texts("[data-testid=server-item]")).some((t) =>
        t.includes("edge"),
      ),
    "server listed",
  );

  await s.type("[data-testid=tenant-name]", "Not_Valid");
  await s.click("[data-testid=tenant-add]");
  assert.match(
    await (await s.waitFor("[data-testid=error-tenant]")).text(),
    /lower-case/,
  );
  await s.type("[data-testid=tenant-name]", "acme");
  await s.click("[data-testid=tenant-add]");
  await s.until(
    async () =>
      (await s.texts("[data-testid=tenant-item]")).some((t) =>
        t.includes("acme"),
      ),
    "tenant listed",
  );

  // A duplicate server name is refused next to the name field.
  await addServer({ name: "edge", kind: "quay", url: "https://quay.example" });
  assert.match(
    await (await s.waitFor("[data-testid=error-name]")).text(),
    /already exists/,
  );
  await s.click("[data-testid=server-cancel]");

  await openProfileForm({
    name: "edge-alice",
    server: "edge",
    login: "avassa-password",
  });
  await s.type("[data-testid=profile-tenant]", "acme");
  await s.click("[data-testid=profile-save]");
  // username is required for avassa-password: shown next to its field.
  assert.match(
    await (await s.waitFor("[data-testid=error-username]")).text(),
    /username/,
  );
  await s.type("[data-testid=setting-username]", "alice");
  recordSecret("correct horse battery staple");
  await s.type("[data-testid=profile-secret]", "correct horse battery staple");
  await s.click("[data-testid=profile-save]");
  await s.until(
    async () =>
      (await s.texts("[data-testid=profile-item]")).some((t) =>
        t.includes("edge-alice"),
      ),
    "profile listed",
  );
  const row = (await s.texts("[data-testid=profile-item]")).find((t) =>
    t.includes("edge-alice"),
  );
  assert.match(row, /acme/);
  assert.match(row, /not logged in/);
});

test("the CLI sees the profile the open app just added, and its secret is in the keyring only", async () => {
  const out = cli(env, ["profile", "list", "--json"]);
  assert.equal(out.status, 0, out.stderr);
  const profiles = JSON.parse(out.stdout);
  const p = profiles.find((x) => x.name === "edge-alice");
  assert.ok(p, out.stdout);
  assert.equal(p.tenant, "acme");
  assert.equal(p.server, "edge");

  const lookup = spawnSync(
    "secret-tool",
    [
      "lookup",
      "service",
      env.LATCHKEY_KEYRING_SERVICE,
      "username",
      `profile-${p.id}/password`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(lookup.stdout, "correct horse battery staple");
  for (const f of readdirSync(env.LATCHKEY_HOME)) {
    const bytes = readFileSync(join(env.LATCHKEY_HOME, f));
    assert.equal(
      bytes.includes("correct horse battery staple"),
      false,
      `secret found in ${f}`,
    );
  }
});

test("a forged deep link is refused by the running window and stores nothing", async () => {
  const before = appPids();
  assert.equal(before.length, 1, `one app process before: ${before}`);
  const second = launchWithUrl(env, "latchkey://callback?code=x&state=forged");
  assert.equal(
    second.status,
    0,
    `the second launch handed off and exited: ${second.stderr}`,
  );
  const banner = await s.waitFor("[data-testid=redirect-outcome]");
  await s.until(
    async () => /no login was waiting/i.test(await banner.text()),
    "refusal shown",
  );
  assert.equal(await banner.attribute("data-accepted"), "false");
  await sleep(300);
  assert.deepEqual(appPids(), before, "only the first app process remains");
  const profiles = JSON.parse(cli(env, ["profile", "list", "--json"]).stdout);
  assert.equal(profiles.length, 1);
  assert.equal(profiles[0].status, "none");
});

test("everything is still there after quitting and starting again", async () => {
  await sleep(500);
  saveScreenshot(await s.screenshot(), "main-window.png");
  s = await app.restart();
  await s.until(
    async () =>
      (await s.texts("[data-testid=profile-item]")).some((t) =>
        t.includes("edge-alice"),
      ),
    "profile after restart",
  );
  assert.ok(
    (await s.texts("[data-testid=server-item]")).some((t) =>
      t.includes("edge"),
    ),
  );
  assert.ok(
    (await s.texts("[data-testid=tenant-item]")).some((t) =>
      t.includes("acme"),
    ),
  );
  await sleep(500);
  saveScreenshot(await s.screenshot(), "main-window-after-restart.png");
});
