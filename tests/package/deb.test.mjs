// The installed .deb as a user meets it (run by scripts/package-test.sh after
// `dpkg -i`, inside scripts/session.sh --x): a latchkey:// link opened with
// xdg-open while the app is not running starts the installed app with the
// link (the desktop entry's `Exec=latchkey-app %u`), and that app shows that
// no login was waiting for it. The harness is the e2e one, pointed at
// /usr/bin by LATCHKEY_E2E_APP and LATCHKEY_E2E_CLI.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { App, APP, isolatedEnv } from "../e2e/harness.mjs";
import { sleep } from "../e2e/webdriver.mjs";

assert.equal(
  APP,
  "/usr/bin/latchkey-app",
  "run through scripts/package-test.sh",
);
const { env } = isolatedEnv();
const link = "latchkey://callback?code=package-test&state=nobody-waits";

/** Processes of the installed app started on this test's data folder, with
 * their command lines. */
function installedApps() {
  const mine = `LATCHKEY_HOME=${env.LATCHKEY_HOME}`;
  const found = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (argv[0] === APP && environ.includes(mine)) found.push({ pid, argv });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

after(() => {
  for (const { pid } of installedApps()) process.kill(Number(pid), "SIGKILL");
});

test("xdg-open cold-starts the installed app with the link, and its window shows", async () => {
  assert.deepEqual(installedApps(), [], "not running before");
  // Without a desktop environment xdg-open runs the entry's Exec line and
  // may stay until the app exits: do not wait for it.
  const opener = spawn("xdg-open", [link], { env, stdio: "ignore" });
  opener.unref();
  let apps = [];
  for (let i = 0; i < 100 && apps.length === 0; i++) {
    await sleep(100);
    apps = installedApps();
  }
  assert.equal(apps.length, 1, "one app started by the desktop entry");
  assert.deepEqual(apps[0].argv.filter(Boolean), [APP, link]);
  // The window starts hidden; it is shown once the link was handled.
  const shown = spawnSync(
    "xdotool",
    [
      "search",
      "--sync",
      "--onlyvisible",
      "--pid",
      apps[0].pid,
      "--name",
      "Latchkey",
    ],
    { env, encoding: "utf8", timeout: 20000 },
  );
  assert.equal(shown.status, 0, `a visible Latchkey window: ${shown.stderr}`);
  process.kill(Number(apps[0].pid), "SIGTERM");
  for (let i = 0; i < 50 && installedApps().length; i++) await sleep(100);
  assert.deepEqual(installedApps(), []);
});

test("started by a link no login waits for, the installed app says so", async () => {
  const app = new App(env);
  try {
    // The command line xdg-open gave it above, now under WebDriver to read
    // the window.
    const s = await app.start([link]);
    const banner = await s.waitFor("[data-testid=redirect-outcome]", 20000);
    await s.until(
      async () => /no login was waiting/i.test(await banner.text()),
      "the refusal is shown",
    );
    assert.equal(await banner.attribute("data-accepted"), "false");
  } finally {
    await app.stop();
  }
});
