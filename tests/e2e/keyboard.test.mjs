// The keyboard in the real window: `/` focuses the search, the arrow keys
// move through the profiles, Enter opens one, Ctrl+C copies the selected
// profile's token through Rust (the X clipboard holds exactly the token; the
// page never does), Ctrl+K's palette copies a curl line, and `?` lists the
// shortcuts. Elements are found by role and accessible name.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { App, isolatedEnv, cli } from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

const { env } = isolatedEnv();
const app = new App(env);
let s;

function jwt(sub, lifetime) {
  const now = Math.floor(Date.now() / 1000);
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = part({ alg: "HS256", typ: "JWT" });
  const body = part({ sub, iat: now, exp: now + lifetime });
  const sig = createHmac("sha256", "keyboard-e2e")
    .update(`${head}.${body}`)
    .digest("base64url");
  return `${head}.${body}.${sig}`;
}
const ALPHA = jwt("alpha", 3600);
const BRAVO = jwt("bravo", 7200);

function clipboard() {
  return spawnSync("xclip", ["-selection", "clipboard", "-o"], {
    encoding: "utf8",
    timeout: 5000,
  }).stdout;
}

function run(args, input) {
  const out = cli(env, args, input);
  assert.equal(out.status, 0, `latchkey ${args.join(" ")}: ${out.stderr}`);
}

before(async () => {
  run([
    "server",
    "add",
    "api",
    "--kind",
    "oidc",
    "--url",
    "https://api.e2e.example",
  ]);
  for (const [name, token] of [
    ["alpha", ALPHA],
    ["bravo", BRAVO],
  ])
    run(
      [
        "profile",
        "add",
        name,
        "--server",
        "api",
        "--login",
        "manual-token",
        "--secret-stdin",
      ],
      token,
    );
  s = await app.start();
});

after(async () => {
  await app.stop();
});

const focusedIs = async (element) => (await s.focused()).id === element.id;

test("`/` focuses the search", async () => {
  await s.press("/");
  const search = await s.byRole("searchbox", "Search profiles");
  await s.until(() => focusedIs(search), "the search to have the focus");
  assert.equal(await search.property("value"), "", "the slash is not typed");
  // Leave the field: the keys are the page's again.
  await s.execute("document.activeElement.blur()");
});

test("the arrow keys move through the profiles and Ctrl+C copies the token through Rust", async () => {
  await s.press("ArrowDown", "ArrowDown");
  const bravo = await s.byRole("button", "bravo");
  await s.until(() => focusedIs(bravo), "bravo's row to have the focus");
  await s.press(["Control", "c"]);
  await s.until(() => clipboard() === BRAVO, "bravo's token on the clipboard");
  await s.waitFor("[data-testid=copy-receipt]");
  const page = await s.execute("return document.documentElement.outerHTML");
  assert.ok(!page.includes(BRAVO), "the page never holds the token");
  await s.press("ArrowUp");
  await s.until(
    async () => focusedIs(await s.byRole("button", "alpha")),
    "back to alpha",
  );
  await s.press(["Control", "c"]);
  await s.until(() => clipboard() === ALPHA, "alpha's token on the clipboard");
});

test("the palette copies a curl line for the profile typed", async () => {
  await s.press(["Control", "k"]);
  const input = await s.byRole("combobox", "Command");
  await s.until(
    () => focusedIs(input),
    "the palette's input to have the focus",
  );
  await input.type("curl bravo");
  await s.byRole("option", "Copy curl command: bravo api");
  await s.press("Enter");
  await s.until(
    () => /^curl /.test(clipboard()) && clipboard().includes(`Bearer ${BRAVO}`),
    "a curl line with bravo's token",
  );
  assert.equal(
    (await s.allByRole("dialog", "Commands")).length,
    0,
    "the palette closed",
  );
});

test("Enter opens the selected profile; `?` lists the shortcuts", async () => {
  await s.press("Home");
  const alpha = await s.byRole("button", "alpha");
  await s.until(() => focusedIs(alpha), "alpha's row to have the focus");
  // Focus on a row's name button: Enter presses it, which opens the detail.
  await s.press("Enter");
  const detail = await s.waitFor("[data-testid=profile-detail]");
  assert.match(await detail.text(), /alpha/);
  await s.press("Escape");
  await s.gone("[data-testid=profile-detail]");
  await s.press("?");
  const help = await s.byRole("dialog", "Keyboard shortcuts");
  assert.match(await help.text(), /Command palette/);
  await sleep(300);
  await s.press("Escape");
  await s.until(
    async () => (await s.allByRole("dialog")).length === 0,
    "the help to close",
  );
});
