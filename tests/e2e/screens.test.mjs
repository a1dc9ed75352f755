// Every screen of the window, in light and in dark: axe-core (npm axe-core,
// run in the real window) reports no serious or critical violation on any of
// them, and each is saved as a screenshot (target/e2e/screens/NAME-THEME.png)
// for people to look at. The screens are reached as a user reaches them: by
// role and accessible name, with the keyboard where that is the way.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { App, isolatedEnv, cli, saveScreenshot, startSandbox } from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

const { env } = isolatedEnv();
const app = new App(env);
let s;
let sandbox;
const checked = [];
// The sandbox's DCI remoteci (crates/sandbox/src/dci.rs), a test credential.
const DCI_ACCESS_KEY = "remoteci/3a8e6e8a-6b0e-4f5e-9b9f-2b0c6f1f7d11";
const DCI_SECRET = "sandbox-dci-secret-not-a-real-one";

function jwt(sub, issued, lifetime) {
  const now = Math.floor(Date.now() / 1000);
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = part({ alg: "HS256", typ: "JWT" });
  const body = part({ sub, iss: "https://id.e2e.example", iat: now + issued, exp: now + lifetime });
  const sig = createHmac("sha256", "screens-e2e").update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

function run(args, input) {
  const out = cli(env, args, input);
  assert.equal(out.status, 0, `latchkey ${args.join(" ")}: ${out.stderr}`);
}

before(async () => {
  sandbox = await startSandbox();
  s = await app.start();
});

after(async () => {
  await app.stop();
  sandbox?.stop();
  console.log(`# screens checked with axe-core: ${checked.join(", ")}`);
});

/** axe on what is shown now, then a screenshot named for the screen and theme. */
async function check(name, theme) {
  // Screenshots lag the DOM under Xvfb; axe reads the DOM and styles as they are.
  await sleep(800);
  const violations = await s.axe();
  assert.deepEqual(
    violations,
    [],
    `${name} (${theme}): ${violations.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.join("\n  ")}`).join("\n")}`,
  );
  saveScreenshot(await s.screenshot(), `screens/${name}-${theme}.png`);
  checked.push(`${name}-${theme}`);
}

/** Escape closes the modal dialog (the profile's panel, a dialog too, stays). */
async function closeDialog() {
  await s.press("Escape");
  await s.gone('[aria-modal="true"]');
}

async function setTheme(label) {
  await (await s.byRole("button", "Settings")).click();
  const dialog = await s.byRole("dialog", "Settings");
  const choice = await dialog.byRole("radio", label);
  await s.until(async () => (await choice.property("disabled")) === false, "settings loaded");
  await choice.click();
  await (await dialog.byRole("button", "Save")).click();
  await s.until(async () => (await s.allByRole("dialog")).length === 0, "settings saved");
}

const themes = [
  ["light", "Light"],
  ["dark", "Dark"],
];

test("the first screen of an empty data folder", async () => {
  for (const [theme, label] of themes) {
    await setTheme(label);
    await s.byRole("heading", "Welcome to Latchkey");
    await check("first-run", theme);
  }
});

test("with profiles: timeline, list, detail, inspector, dialogs, palette and help", async () => {
  run(["server", "add", "api", "--kind", "oidc", "--url", "https://api.e2e.example"]);
  run(["server", "add", "edge", "--kind", "avassa", "--url", `${sandbox.url}/avassa`]);
  run(["tenant", "add", "edge", "acme"]);
  const tokens = [
    ["ci-nightly", -7200, 6 * 3600],
    ["staging", -3600, 40 * 60],
    ["old-laptop", -2 * 86400, -3 * 3600],
    ["release", -3 * 86400, 4 * 86400],
    ["quay-bot", -86400, 10 * 365 * 86400],
  ];
  for (const [name, issued, lifetime] of tokens)
    run(
      ["profile", "add", name, "--server", "api", "--login", "manual-token", "--secret-stdin"],
      jwt(name, issued, lifetime),
    );
  run(["profile", "add", "edge-alice", "--server", "edge", "--tenant", "acme", "--login", "avassa-password", "--username", "alice"]);
  run(["profile", "add", "edge-bob", "--server", "edge", "--tenant", "acme", "--login", "avassa-password", "--username", "bob"]);
  run(["server", "add", "lab", "--kind", "dci", "--url", `${sandbox.url}/dci`]);
  run(
    ["profile", "add", "lab-ci", "--server", "lab", "--login", "dci-hmac", "--access-key", DCI_ACCESS_KEY, "--secret-stdin"],
    DCI_SECRET,
  );
  s = await app.restart();

  for (const [theme, label] of themes) {
    await setTheme(label);
    await s.byRole("list", "Tokens on the timeline");
    await check("timeline", theme);
    await s.hover(await s.byRole("button", /^staging /), 150, 0);
    await s.byRole("tooltip");
    await check("timeline-hover", theme);

    await (await s.byRole("radio", "List")).click();
    await s.byRole("table", "Profiles");
    await check("list", theme);

    await (await s.byRole("button", "Group by server")).click();
    await check("list-grouped", theme);
    await (await s.byRole("button", "Group by server")).click();

    await (await s.byRole("button", "release")).click();
    await s.waitFor("[data-testid=profile-detail] [data-testid=history-item]");
    await check("detail", theme);

    await (await s.byRole("button", "Inspect token")).click();
    await s.waitFor("[data-testid=inspector-claims]");
    await check("inspector", theme);
    await (await s.byRole("button", "Close")).click();

    await (await s.byRole("button", "Log in with edge-alice")).click();
    await s.byRole("dialog", /edge-alice|Log in/);
    await check("login", theme);
    await closeDialog();

    await (await s.byRole("button", "Log in with edge-bob")).click();
    await s.byRole("dialog", "Log in to edge-bob");
    await s.type("[data-testid=login-password]", "bob-sandbox-password");
    await (await s.byRole("button", "Log in")).click();
    await s.waitFor("[data-testid=otp-dialog]", 15000);
    await check("otp", theme);
    await closeDialog();

    await (await s.byRole("button", "Show profile lab-ci")).click();
    await (await s.byRole("button", "Sign a request")).click();
    await s.waitFor("[data-testid=sign-dialog] [data-testid=sign-preview]", 15000).catch(() => {});
    await check("sign", theme);
    await closeDialog();
    await (await s.byRole("button", "Close")).click();

    await (await s.byRole("button", "+ Add server")).click();
    await s.byRole("dialog", "Add server");
    await check("server-form", theme);
    await closeDialog();

    await (await s.byRole("button", "+ Add profile")).click();
    await s.byRole("dialog", "Add profile");
    await check("profile-form", theme);
    await closeDialog();

    await (await s.byRole("button", "Settings")).click();
    await s.byRole("dialog", "Settings");
    await check("settings", theme);
    await closeDialog();

    await s.press(["Control", "k"]);
    const input = await s.byRole("combobox", "Command");
    await input.type("copy");
    await check("palette", theme);
    await closeDialog();

    await s.press("?");
    await s.byRole("dialog", "Keyboard shortcuts");
    await check("help", theme);
    await closeDialog();

    await (await s.byRole("button", "Remove profile staging")).click();
    await s.byRole("dialog", /Remove profile staging/);
    await check("remove", theme);
    await closeDialog();

    await (await s.byRole("radio", "Timeline")).click();
  }
});
