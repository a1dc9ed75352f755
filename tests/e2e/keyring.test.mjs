// The keyring banner in the real window follows the keyring: the app starts on
// a D-Bus session bus of this test's own where no keyring service runs (so the
// banner says how to start one), then the test starts gnome-keyring-daemon on
// that bus and the banner clears itself, without a click or a restart. Then
// the same for a locked keyring that gets unlocked, whose banner offers
// Unlock; and without a keyring the banner's "Check again" runs a check that
// keeps it.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { App, isolatedEnv, saveScreenshot, cli } from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

/** A session bus that activates nothing, and what runs on it. */
class PrivateBus {
  constructor(dir) {
    this.dir = dir;
    this.children = [];
  }

  async start() {
    mkdirSync(this.dir, { recursive: true });
    const config = join(this.dir, "bus.conf");
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${this.dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>`,
    );
    const daemon = spawn(
      "dbus-daemon",
      [`--config-file=${config}`, "--nofork", "--print-address=1"],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    this.children.push(daemon);
    this.address = await new Promise((res, rej) => {
      let out = "";
      daemon.on("error", rej);
      daemon.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) res(out.trim());
      });
    });
    this.run = join(this.dir, "run");
    mkdirSync(this.run, { recursive: true });
    chmodSync(this.run, 0o700);
    this.data = join(this.dir, "keyring-data");
    mkdirSync(this.data, { recursive: true });
    return this;
  }

  /** `env` moved onto this bus, with the keyring's folders beside it. */
  env(env) {
    return {
      ...env,
      DBUS_SESSION_BUS_ADDRESS: this.address,
      XDG_RUNTIME_DIR: this.run,
      GNOME_KEYRING_CONTROL: "",
    };
  }

  /** Starts gnome-keyring-daemon on the bus (with the login password when `unlock`). */
  startKeyring(unlock, replace = false) {
    const args = ["--foreground", "--components=secrets"];
    if (unlock) args.push("--unlock");
    if (replace) args.push("--replace");
    const child = spawn("gnome-keyring-daemon", args, {
      env: {
        ...process.env,
        DBUS_SESSION_BUS_ADDRESS: this.address,
        XDG_RUNTIME_DIR: this.run,
        XDG_DATA_HOME: this.data,
      },
      stdio: ["pipe", "ignore", "ignore"],
    });
    child.stdin.end(unlock ? "e2e-login-password" : "");
    this.children.push(child);
    return child;
  }

  stop() {
    for (const c of this.children.reverse()) c.kill("SIGTERM");
  }
}

const buses = [];
after(() => buses.forEach((b) => b.stop()));

async function appOnPrivateBus() {
  const { dir, env } = isolatedEnv();
  const bus = await new PrivateBus(join(dir, "bus")).start();
  buses.push(bus);
  // Re-checks every 300 ms instead of 10 s, so the test does not wait long.
  const app = new App({ ...bus.env(env), LATCHKEY_KEYRING_RECHECK_MS: "300" });
  return { bus, app, env: bus.env(env) };
}

test("no keyring service: the banner says how to start one, and clears itself once one runs", async () => {
  const { bus, app } = await appOnPrivateBus();
  const s = await app.start();
  try {
    // The start-up check waits up to 5 s for a keyring that is starting.
    const banner = await s.waitFor("[data-testid=keyring-problem]", 20000);
    const text = await banner.text();
    assert.match(text, /no keyring service is running/);
    assert.match(text, /gnome-keyring-daemon --start/);
    assert.doesNotMatch(text, /did not read back/);
    // Screenshots lag the DOM under Xvfb: give the banner a moment to paint.
    await sleep(1500);
    saveScreenshot(await s.screenshot(), "keyring-absent.png");

    bus.startKeyring(true);
    await s.gone("[data-testid=keyring-problem]", 15000);
    await sleep(1500);
    saveScreenshot(await s.screenshot(), "keyring-back.png");
  } finally {
    await app.stop();
  }
});

test("a locked keyring: the banner says to unlock it, and clears itself once it is unlocked", async () => {
  const { bus, app, env } = await appOnPrivateBus();
  // Create the login keyring, then run it locked (a restart without the password).
  const first = bus.startKeyring(true);
  for (let i = 0; i < 50; i++) {
    const out = cli(env, ["keyring", "check", "--wait", "0"]);
    if (out.status === 0) break;
    await sleep(100);
  }
  first.kill("SIGTERM");
  await new Promise((r) => first.once("exit", r));
  bus.startKeyring(false);
  const locked = cli(env, ["keyring", "check", "--wait", "2", "--json"]);
  assert.equal(locked.status, 3, locked.stderr);
  assert.equal(JSON.parse(locked.stdout).state, "locked");

  const s = await app.start();
  try {
    const banner = await s.waitFor("[data-testid=keyring-problem]", 20000);
    assert.match(await banner.text(), /keyring is locked: unlock it/);
    // The kind in words, and the desktop's unlock prompt one click away.
    const alert = await s.byRole("alert", /^The keyring is locked:/);
    await alert.byRole("button", "Unlock");
    await alert.byRole("button", "Check again");
    await sleep(1500);
    saveScreenshot(await s.screenshot(), "keyring-locked.png");

    // Unlocked from outside the app, as a desktop's login would.
    bus.startKeyring(true, true);
    await s.gone("[data-testid=keyring-problem]", 15000);
  } finally {
    await app.stop();
  }
});

test("no keyring: the banner offers Check again and no Unlock, and a check keeps it while none runs", async () => {
  const { app } = await appOnPrivateBus();
  const s = await app.start();
  try {
    await s.byRole("alert", /^No keyring:/, { timeoutMs: 20000 });
    assert.equal(
      (await s.allByRole("button", "Unlock")).length,
      0,
      "nothing to unlock when no keyring runs",
    );
    await (await s.byRole("button", "Check again")).click();
    // The check runs (up to 3 s of patience for a keyring that is starting) and still finds none.
    await sleep(3500);
    await s.byRole("button", "Check again", { timeoutMs: 15000 });
    assert.match(
      await (await s.byRole("alert", /^No keyring:/)).text(),
      /gnome-keyring-daemon --start/,
    );
  } finally {
    await app.stop();
  }
});
