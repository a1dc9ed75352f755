// Dark mode in the real window: with the system set to dark (GTK_THEME, which
// WebKitGTK turns into `prefers-color-scheme: dark`) the window is dark; the
// settings' Appearance overrides it with Light, which survives a restart,
// and "As the system" follows the system again.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { App, isolatedEnv, cli } from "./harness.mjs";

const { env } = isolatedEnv();
env.GTK_THEME = "Adwaita:dark";
const app = new App(env);
let s;

const DARK_BG = "rgb(20, 23, 27)";
const LIGHT_BG = "rgb(246, 247, 249)";

before(async () => {
  const out = cli(env, ["server", "add", "api", "--kind", "oidc", "--url", "https://api.e2e.example"]);
  assert.equal(out.status, 0, out.stderr);
  s = await app.start();
});

after(async () => {
  await app.stop();
});

const background = () =>
  s.execute("return getComputedStyle(document.documentElement).backgroundColor");

async function chooseAppearance(label) {
  await (await s.byRole("button", "Settings")).click();
  const dialog = await s.byRole("dialog", "Settings");
  const choice = await dialog.byRole("radio", label);
  await s.until(async () => (await choice.property("disabled")) === false, "settings loaded");
  await choice.click();
  await (await dialog.byRole("button", "Save")).click();
  await s.until(async () => (await s.allByRole("dialog", "Settings")).length === 0, "saved");
}

test("a dark system gives a dark window", async () => {
  assert.equal(
    await s.execute("return matchMedia('(prefers-color-scheme: dark)').matches"),
    true,
    "WebKitGTK reports the system's dark preference",
  );
  assert.equal(await background(), DARK_BG);
});

test("Appearance: Light overrides the system, also after a restart", async () => {
  await chooseAppearance("Light");
  await s.until(async () => (await background()) === LIGHT_BG, "a light window");
  s = await app.restart();
  await s.until(async () => (await background()) === LIGHT_BG, "still light after a restart");
});

test("Appearance: as the system follows the system again", async () => {
  await chooseAppearance("As the system");
  await s.until(async () => (await background()) === DARK_BG, "dark again");
});
