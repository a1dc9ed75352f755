// Starts the real Latchkey app under tauri-driver with a private data folder,
// keyring service and XDG folders, so no test touches the user's own. The
// caller runs inside scripts/session.sh --x (Xvfb, D-Bus, unlocked keyring).

import { spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  mkdtempSync,
  mkdirSync,
  existsSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { Session, waitForServer, sleep } from "./webdriver.mjs";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, "target");
// The package test points these at the installed /usr/bin binaries.
export const APP =
  process.env.LATCHKEY_E2E_APP || join(TARGET, "debug", "latchkey-app");
export const CLI =
  process.env.LATCHKEY_E2E_CLI || join(TARGET, "debug", "latchkey");
export const ARTIFACTS = join(TARGET, "e2e");

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
    srv.on("error", rej);
  });
}

function tauriDriver() {
  const local = join(process.env.HOME || "", ".cargo", "bin", "tauri-driver");
  return existsSync(local) ? local : "tauri-driver";
}

/** A private installation: data folder, keyring service, XDG folders. */
export function isolatedEnv() {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-e2e-"));
  const env = {
    ...process.env,
    LATCHKEY_HOME: join(dir, "latchkey"),
    LATCHKEY_KEYRING_SERVICE: `latchkey-e2e-${randomBytes(6).toString("hex")}`,
    XDG_DATA_HOME: join(dir, "data"),
    XDG_CONFIG_HOME: join(dir, "config"),
    XDG_CACHE_HOME: join(dir, "cache"),
  };
  for (const d of ["data", "config", "cache"])
    mkdirSync(join(dir, d), { recursive: true });
  return { dir, env };
}

/** The app under WebDriver. `start()` launches it; `restart()` quits and relaunches. */
export class App {
  constructor(env) {
    this.env = env;
    this.driver = null;
    this.session = null;
  }

  /** `args`: the app's command line, e.g. a deep link as the desktop passes it. */
  async start(args = []) {
    if (!existsSync(APP))
      throw new Error(`${APP} is missing: build it first (make e2e does)`);
    this.port = await freePort();
    const nativePort = await freePort();
    this.driver = spawn(
      tauriDriver(),
      ["--port", String(this.port), "--native-port", String(nativePort)],
      {
        env: this.env,
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    const base = `http://127.0.0.1:${this.port}`;
    await waitForServer(base);
    this.session = await Session.create(base, APP, args);
    await this.session.waitFor("[data-testid=app-ready]", 20000);
    return this.session;
  }

  async stop() {
    if (this.session) {
      await this.session.quit().catch(() => {});
      this.session = null;
    }
    if (this.driver) {
      this.driver.kill("SIGTERM");
      await new Promise((r) => this.driver.once("exit", r));
      this.driver = null;
    }
    await waitNoApp(this.env);
  }

  async restart() {
    await this.stop();
    return this.start();
  }
}

/** PIDs of running Latchkey app processes. */
export function appPids() {
  const out = spawnSync("pgrep", ["-f", "-x", `${APP}( .*)?`], {
    encoding: "utf8",
  });
  return out.stdout.split("\n").filter(Boolean);
}

/** The app processes started on `env`'s data folder. */
function ownAppPids(env) {
  const mine = `LATCHKEY_HOME=${env.LATCHKEY_HOME}`;
  return appPids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(mine);
    } catch {
      return false; // gone already
    }
  });
}

async function waitNoApp(env) {
  for (let i = 0; i < 50 && ownAppPids(env).length; i++) await sleep(100);
  // An app that outlived its driver (a quit the driver did not pass on)
  // would take every later launch for a second instance and swallow it:
  // end it, so the next test file starts its own.
  for (const pid of ownAppPids(env)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  for (let i = 0; i < 20 && ownAppPids(env).length; i++) await sleep(100);
  // A process that is exiting has no environment left to read, yet it still
  // holds its session-bus name until its last file closes: the next launch
  // would find the name taken, forward its arguments to a process that is
  // going away, and die ("Message recipient disconnected"). Wait for the name.
  for (let i = 0; i < 100 && instanceNameTaken(); i++) await sleep(100);
}

/** Whether an app holds the single-instance plugin's name (the identifier in
 * tauri.conf.json + ".SingleInstance") on the session bus. */
function instanceNameTaken() {
  const out = spawnSync(
    "dbus-send",
    [
      "--session",
      "--print-reply",
      "--dest=org.freedesktop.DBus",
      "/org/freedesktop/DBus",
      "org.freedesktop.DBus.NameHasOwner",
      "string:dev.latchkey.app.SingleInstance",
    ],
    { encoding: "utf8" },
  );
  return out.stdout.includes("boolean true");
}

/** Launches the app binary a second time with `url`, as the OS does for a deep link. */
export function launchWithUrl(env, url) {
  const out = spawnSync(APP, [url], { env, encoding: "utf8", timeout: 20000 });
  return out;
}

/**
 * Adds a secret a test itself gives Latchkey (a token or key typed into a
 * form or piped to `--secret-stdin`) to the record the leak scan searches
 * for, beside what the sandboxes issued (`LATCHKEY_SANDBOX_RECORD`, set by
 * `make e2e`; nothing happens without it).
 */
export function recordSecret(secret) {
  const record = process.env.LATCHKEY_SANDBOX_RECORD;
  if (record && secret) appendFileSync(record, `${secret.trim()}\n`);
}

/** Runs the CLI with the same installation; a `--secret-stdin` input is recorded for the leak scan. */
export function cli(env, args, input) {
  if (args.includes("--secret-stdin")) recordSecret(input);
  const out = spawnSync(CLI, args, {
    env,
    encoding: "utf8",
    input,
    timeout: 20000,
  });
  return out;
}

export function saveScreenshot(png, name) {
  const path = join(ARTIFACTS, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, png);
  return path;
}

export const SANDBOX = join(TARGET, "debug", "latchkey-sandbox");

/** Starts `latchkey-sandbox` on a free loopback port; resolves to its base URL and a stop function. */
export function startSandbox() {
  const child = spawn(SANDBOX, ["--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((res, rej) => {
    let out = "";
    child.on("error", rej);
    child.on("exit", (code) =>
      rej(new Error(`latchkey-sandbox exited with ${code} before serving`)),
    );
    child.stdout.on("data", (d) => {
      out += d.toString();
      const line = out.split("\n");
      if (line.length > 1)
        res({ url: line[0].trim(), stop: () => child.kill() });
    });
  });
}

/** The sandbox's current one-time code for its Avassa user bob. */
export function sandboxOtp() {
  return spawnSync(SANDBOX, ["--otp"], { encoding: "utf8" }).stdout.trim();
}
