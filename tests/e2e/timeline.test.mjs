// The timeline in the real window: with more than a handful of profiles it is
// the first view; tokens are bars on one time axis with what needs the user
// first, the now-line moves, the 10-year zoom keeps a Quay-like 10-year token
// on its log axis, hovering a row shows its details and a click opens the
// profile, whose history is drawn on its own timeline. Elements are found by
// role and accessible name, as a user finds them.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { App, isolatedEnv, cli, saveScreenshot } from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

const { env } = isolatedEnv();
const app = new App(env);
let s;

const HOUR = 3600;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

/** A JWT issued and expiring at these offsets (seconds) from now: the profile's pasted token. */
function jwt(issued, expires) {
  const now = Math.floor(Date.now() / 1000);
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = part({ alg: "HS256", typ: "JWT" });
  const body = part({ sub: "e2e", iat: now + issued, exp: now + expires });
  const sig = createHmac("sha256", "timeline-e2e")
    .update(`${head}.${body}`)
    .digest("base64url");
  return `${head}.${body}.${sig}`;
}

// Name, issued, expires (seconds from now).
const TOKENS = [
  ["ci-nightly", -2 * HOUR, 6 * HOUR],
  ["staging", -HOUR, 40 * 60],
  ["old-laptop", -2 * DAY, -3 * HOUR],
  ["release", -3 * DAY, 4 * DAY],
  ["quay-bot", -DAY, 10 * YEAR],
  ["on-call", -10 * 60, 2 * HOUR],
];

function run(args, input) {
  const out = cli(env, args, input);
  assert.equal(out.status, 0, `latchkey ${args.join(" ")}: ${out.stderr}`);
}

before(async () => {
  run(["server", "add", "api", "--kind", "oidc", "--url", "https://api.e2e.example"]);
  for (const [name, issued, expires] of TOKENS)
    run(
      ["profile", "add", name, "--server", "api", "--login", "manual-token", "--secret-stdin"],
      jwt(issued, expires),
    );
  run(["profile", "add", "newcomer", "--server", "api", "--login", "oidc", "--client-id", "x"]);
  s = await app.start();
});

after(async () => {
  await app.stop();
});

const rowOrder = () =>
  s.execute(
    "return [...document.querySelectorAll('[data-testid=timeline-row]')].map(r => r.dataset.profile)",
  );

test("more than a handful of profiles open on the timeline, what needs the user first", async () => {
  const timeline = await s.byRole("radio", "Timeline");
  assert.equal(await timeline.property("checked"), true);
  await s.byRole("list", "Tokens on the timeline");
  assert.deepEqual(await rowOrder(), [
    "old-laptop",
    "staging",
    "on-call",
    "ci-nightly",
    "release",
    "quay-bot",
    "newcomer",
  ]);
  // Status in words, not only in colour: the expired row says it needs the user.
  const expired = await s.byRole("button", /^old-laptop expired — needs you/);
  assert.match(await expired.text(), /expired/);
  // The token expiring in 40 minutes shows the reminders of the settings (60 and 10 min before).
  const reminders = await s.execute(
    "return document.querySelectorAll('[data-profile=staging] [data-testid=timeline-reminder]').length",
  );
  assert.equal(reminders, 2);
});

test("the now-line moves with the clock", async () => {
  await (await s.byRole("radio", "Hour")).click();
  const nowX = () =>
    s.execute("return document.querySelector('[data-testid=timeline-now]').getAttribute('x1')");
  const first = await nowX();
  await s.until(async () => (await nowX()) !== first, "the now-line to move", 12000);
});

test("the 10-year zoom keeps a 10-year token on its log axis", async () => {
  await (await s.byRole("radio", "10 years")).click();
  const legend = await s.byRole("list", "What the marks mean");
  await s.until(async () => /log scale/.test(await legend.text()), "the legend to say log scale");
  const { end, width } = await s.execute(
    `const bar = document.querySelector('[data-profile=quay-bot] [data-testid=timeline-bar]');
     const svg = bar.ownerSVGElement;
     return { end: Number(bar.getAttribute('x')) + Number(bar.getAttribute('width')),
              width: Number(svg.getAttribute('width')) };`,
  );
  assert.ok(end < width, `the bar ends (${end}) inside the axis (${width})`);
  assert.ok(end > width * 0.9, `ten years is near the end of the axis: ${end} of ${width}`);
  const labels = await s.execute(
    "return [...document.querySelectorAll('[data-testid=timeline-axis] text')].map(t => t.textContent)",
  );
  assert.ok(labels.includes("10 y") && labels.includes("1 h"), labels.join(" "));
  await (await s.byRole("radio", "Day")).click();
  await sleep(500);
  saveScreenshot(await s.screenshot(), "timeline.png");
});

test("hovering a row shows its details; a click opens the profile with its history", async () => {
  const row = await s.byRole("button", /^release /);
  await s.hover(row, 120, 0);
  const card = await s.byRole("tooltip");
  const text = await card.text();
  assert.match(text, /Expires/);
  assert.match(text, /Reminders/);
  await sleep(300);
  saveScreenshot(await s.screenshot(), "timeline-hover.png");
  await row.click();
  const detail = await s.waitFor("[data-testid=profile-detail]");
  assert.match(await detail.text(), /release/);
  await s.byRole("img", /token and its history/);
  const history = await s.texts("[data-testid=history-item]");
  assert.ok(history.some((h) => /issued/.test(h)), history.join("\n"));
  const marks = await s.execute(
    "return [...document.querySelectorAll('[data-testid=history-mark]')].map(m => m.dataset.event)",
  );
  assert.deepEqual(marks, ["issued"]);
  await sleep(300);
  saveScreenshot(await s.screenshot(), "timeline-detail.png");
});
