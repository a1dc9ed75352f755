// The tray in the real session (trayer from scripts/session.sh hosts the icon):
// the icon shows which of its three states the tokens are in (all good,
// something needs you, a renewal failed), read back from the screen and
// matched against the three icon files; and the menu lists what needs the
// user first: its first profile entry's "Show" opens that profile.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, ROOT, isolatedEnv, cli, startSandbox, saveScreenshot, recordSecret } from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

const { env } = isolatedEnv();
const app = new App(env);
const scratch = mkdtempSync(join(tmpdir(), "latchkey-tray-"));
let s;
let sandbox;

const ICONS = {
  good: join(ROOT, "icons", "tray.png"),
  "needs-you": join(ROOT, "icons", "tray-attention.png"),
  failed: join(ROOT, "icons", "tray-failed.png"),
};

function run(args, input) {
  const out = cli(env, args, input);
  assert.equal(out.status, 0, `latchkey ${args.join(" ")}: ${out.stderr}`);
  return out;
}

function sh(cmd, args) {
  return spawnSync(cmd, args, { env, encoding: "utf8", timeout: 10000 });
}

function jwt(lifetime) {
  const now = Math.floor(Date.now() / 1000);
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = part({ alg: "HS256", typ: "JWT" });
  const body = part({ sub: "tray", iat: now, exp: now + lifetime });
  const sig = createHmac("sha256", "tray-e2e").update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

/** Where the tray icon is on the screen (its XEmbed window in trayer). */
function iconGeometry() {
  const found = sh("xdotool", ["search", "--classname", "tray-icon tray app"]);
  const ids = found.stdout.split("\n").filter(Boolean);
  for (const id of ids) {
    const geo = sh("xdotool", ["getwindowgeometry", "--shell", id]).stdout;
    const g = Object.fromEntries(
      geo
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("=")),
    );
    if (Number(g.WIDTH) > 4 && Number(g.HEIGHT) > 4)
      return { x: Number(g.X), y: Number(g.Y), w: Number(g.WIDTH), h: Number(g.HEIGHT) };
  }
  return null;
}

/** Which icon file the tray shows now: the nearest of the three, by RMSE. */
function shownIcon() {
  const g = iconGeometry();
  if (!g) return null;
  const shot = join(scratch, "shown.png");
  const grab = sh("import", [
    "-window",
    "root",
    "-crop",
    `${g.w}x${g.h}+${g.x}+${g.y}`,
    "+repage",
    shot,
  ]);
  if (grab.status !== 0) return null;
  let best = null;
  for (const [state, file] of Object.entries(ICONS)) {
    const scaled = join(scratch, `${state}.png`);
    // The icon as the tray draws it: scaled to the slot, over the panel's background.
    sh("convert", [shot, file, "-resize", `${g.w}x${g.h}!`, "-composite", scaled]);
    const cmp = sh("compare", ["-metric", "RMSE", shot, scaled, "null:"]);
    const distance = Number((cmp.stderr.match(/\(([\d.]+)\)/) || [])[1]);
    if (!Number.isNaN(distance) && (!best || distance < best.distance)) best = { state, distance };
  }
  return best?.state ?? null;
}

/** Opens the tray menu and picks "Show" in the submenu of its first profile entry. */
async function showFirstTrayProfile() {
  const g = iconGeometry();
  assert.ok(g, "the tray icon is in the panel");
  sh("xdotool", ["mousemove", String(g.x + g.w / 2), String(g.y + g.h / 2), "click", "1"]);
  await sleep(800);
  saveScreenshot(
    spawnSync("import", ["-window", "root", "png:-"], { env, timeout: 10000 }).stdout,
    "tray-menu.png",
  );
  // "Open Latchkey", then the first profile; into its submenu, whose first item is "Show".
  sh("xdotool", ["key", "Down", "Down", "Right"]);
  await sleep(300);
  sh("xdotool", ["key", "Return"]);
}

before(async () => {
  sandbox = await startSandbox();
  run(["server", "add", "edge", "--kind", "avassa", "--url", `${sandbox.url}/avassa`]);
  run(["tenant", "add", "edge", "acme"]);
  run([
    "profile",
    "add",
    "alice",
    "--server",
    "edge",
    "--tenant",
    "acme",
    "--login",
    "avassa-password",
    "--username",
    "alice",
  ]);
  run(["login", "alice", "--password-stdin"], "alice-sandbox-password");
  run(["server", "add", "api", "--kind", "oidc", "--url", "https://api.e2e.example"]);
  run(
    ["profile", "add", "later", "--server", "api", "--login", "manual-token", "--secret-stdin"],
    jwt(3 * 86400),
  );
  s = await app.start();
});

after(async () => {
  await app.stop();
  sandbox?.stop();
});

test("all tokens good: the plain icon", async () => {
  const shown = await s.until(() => shownIcon(), "the tray icon on the screen", 15000);
  assert.equal(shown, "good");
});

test("a token that needs the user: the icon says so, and the menu lists it first", async () => {
  // Added in the window, so the tray is rebuilt at once.
  await s.click("[data-testid=add-profile]");
  await s.type("[data-testid=profile-name]", "soon");
  await s.select("[data-testid=profile-server]", "api");
  await s.select("select[data-testid=profile-login]", "manual-token");
  const typed = jwt(5 * 60);
  recordSecret(typed);
  await s.type("[data-testid=profile-secret]", typed);
  await s.click("[data-testid=profile-save]");
  await s.until(() => shownIcon() === "needs-you", "the needs-you icon", 15000);
  await showFirstTrayProfile();
  const detail = await s.waitFor("[data-testid=profile-detail]");
  await s.until(async () => /soon/.test(await detail.text()), "the first entry is 'soon'");
});

test("a failed renewal: the icon turns to it, and its profile heads the menu", async () => {
  const fault = await fetch(`${sandbox.url}/_sandbox/faults`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      route: "POST /avassa/v1/state/strongbox/token/refresh",
      fault: "html-500",
    }),
  });
  assert.ok(fault.ok, `the sandbox took the fault: ${fault.status} ${await fault.text()}`);
  await (await s.byRole("button", "Close")).click();
  await (await s.byRole("radio", "List")).click();
  await (await s.byRole("button", "Show profile alice")).click();
  await (await s.byRole("button", "Renew now")).click();
  await s.until(() => shownIcon() === "failed", "the renewal-failed icon", 15000);
  await (await s.byRole("button", "Close")).click();
  await showFirstTrayProfile();
  const detail = await s.waitFor("[data-testid=profile-detail]");
  await s.until(async () => /alice/.test(await detail.text()), "the first entry is 'alice'");
});
