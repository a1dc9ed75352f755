#!/usr/bin/env node
// Crash safety, measured: kills `latchkey token` and the app with SIGKILL at
// random points of renewals whose refresh tokens rotate (the sandbox's
// OpenID provider, which revokes the whole grant when it sees a refresh
// token twice), and after each kill asks, as the next caller would, for the
// token. Each kill ends in one of:
//
//   survived     the next `latchkey token` prints a token the server accepts
//   needs-login  it exits 3 saying to log in (the script then logs in again)
//   broken       anything else: a token the server refuses, another exit
//                code, a hang, or a login lost where the write order should
//                have kept it (see below)
//
// Broken must be 0. Besides the outcome, the script reads what the kill left
// in the keyring and asks the sandbox where that stands, which says where
// the kill landed:
//
//   before       the keyring still holds the refresh token the run started with,
//                and the server considers it current: nothing had happened yet
//   in flight    the server rotated the refresh token, but its answer died with
//                the process: the grant is lost, and needs-login is the honest end
//   half stored  the new refresh token is stored, the access token is not yet
//   stored       both are stored (the metadata may not be)
//
// A rotated refresh token beside a new access token would mean the access
// token was written first, losing a refresh token that had arrived: broken.
// The token route answers 20 ms late (a delay fault), so that kills land on
// both sides of the server's rotation.
//
//   scripts/crash-test.sh [KILLS]    (inside scripts/session.sh --x; see there)

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

const ROOT = resolve(import.meta.dirname, "..");
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, "target");
const CLI = join(TARGET, "debug", "latchkey");
const APP = join(TARGET, "debug", "latchkey-app");
const SANDBOX = join(TARGET, "debug", "latchkey-sandbox");
const BROWSER = join(ROOT, "tests", "e2e", "fake-browser.mjs");
const TOKEN_ROUTE = "POST /oidc/token";

const kills = Number(process.argv[2] || 200);
if (!Number.isInteger(kills) || kills < 2) {
  console.error("usage: crash-test.mjs KILLS (at least 2)");
  process.exit(2);
}
// CRASH_TEST_ONLY=cli or app kills only that one; CRASH_TEST_VERBOSE=1 says
// where each kill landed and how it ended, as it goes.
const only = process.env.CRASH_TEST_ONLY || "";
const verbose = process.env.CRASH_TEST_VERBOSE === "1";
const cliKills = only === "app" ? 0 : only === "cli" ? kills : Math.ceil(kills / 2);
const appKills = kills - cliKills;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const random = (lo, hi) => lo + Math.random() * (hi - lo);

// A private installation: data folder, keyring service, XDG folders.
const dir = mkdtempSync(join(tmpdir(), "latchkey-crash-"));
const SERVICE = `latchkey-crash-${randomBytes(6).toString("hex")}`;
const env = {
  ...process.env,
  LATCHKEY_HOME: join(dir, "home"),
  LATCHKEY_KEYRING_SERVICE: SERVICE,
  XDG_DATA_HOME: join(dir, "data"),
  XDG_CONFIG_HOME: join(dir, "config"),
  XDG_CACHE_HOME: join(dir, "cache"),
  LATCHKEY_NONINTERACTIVE: "1",
  LATCHKEY_BROWSER: BROWSER,
};
for (const d of ["data", "config", "cache"]) mkdirSync(join(dir, d), { recursive: true });

function startSandbox() {
  const child = spawn(SANDBOX, ["--port", "0"], { stdio: ["ignore", "pipe", "ignore"] });
  return new Promise((res, rej) => {
    let out = "";
    child.on("error", rej);
    child.stdout.on("data", (d) => {
      out += d.toString();
      if (out.includes("\n")) res({ child, url: out.split("\n")[0].trim() });
    });
  });
}

const { child: sandbox, url: BASE } = await startSandbox();

async function control(method, path, body) {
  const res = await fetch(`${BASE}/_sandbox${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

const requests = async (above = 0, waitMs = 0) =>
  (
    await control(
      "GET",
      `/requests?route=${encodeURIComponent(TOKEN_ROUTE)}&above=${above}&wait_ms=${waitMs}`,
    )
  ).count;

/** Runs the CLI to its end; status null means it timed out. */
function cli(args, timeout = 30000) {
  const started = Date.now();
  const out = spawnSync(CLI, args, { env, encoding: "utf8", timeout });
  return { ...out, ms: Date.now() - started };
}

function must(out, what) {
  if (out.status !== 0) throw new Error(`${what}: exit ${out.status}: ${out.stderr}`);
}

function keyring(slot) {
  const out = spawnSync(
    "secret-tool",
    ["lookup", "service", SERVICE, "username", `profile-1/${slot}`],
    { encoding: "utf8", env },
  );
  return out.status === 0 ? out.stdout.trim() : null;
}

function logIn() {
  must(cli(["login", "dev"], 60000), "logging in");
}

// The provider, a profile on it, and a login whose access tokens live 3 s,
// so that every renewal is due again 2.4 s after the last. (Not less: the
// store keeps whole seconds and counts a token's life from the moment its
// renewal began, so a token of 1 or 2 s can be expired by the time a process
// slowed down by a busy machine reads it back.)
must(cli(["server", "add", "idp", "--kind", "oidc", "--url", `${BASE}/oidc`]), "server add");
must(
  cli([
    "profile", "add", "dev", "--server", "idp", "--login", "oidc",
    "--client-id", "sandbox-oidc-client", "--scope", "openid", "--scope", "offline_access",
    "--redirect", "loopback",
  ]),
  "profile add",
);
await control("PUT", "/oidc/access-ttl", { seconds: 3 });
await control("PUT", "/faults", { route: TOKEN_ROUTE, fault: "delay-20" });
logIn();

const counts = { survived: 0, "needs-login": 0, broken: 0 };
const landed = {};
const brokenDetails = [];
let runMs = [];

/** Where what a kill left stands at the server. */
async function inspect(refreshBefore) {
  const refresh = keyring("refresh-token");
  const access = keyring("access-token");
  if (!refresh) return { where: "no refresh token in the keyring", bad: true };
  const st = await control(
    "GET",
    `/oidc/refresh-token?token=${encodeURIComponent(refresh)}&access=${encodeURIComponent(access || "")}`,
  );
  if (st.state === "current") {
    if (refresh === refreshBefore) return { where: "before", expect: "survived" };
    return { where: st.issued_together ? "stored" : "half stored", expect: "survived" };
  }
  if (st.state === "rotated" && st.issued_together)
    return { where: "in flight", expect: "needs-login" };
  if (st.state === "rotated")
    return { where: "access token stored before the refresh token", bad: true };
  return { where: `refresh token ${st.state}`, bad: true };
}

/** The next caller: what it gets, and whether that is right. */
async function check(who, place) {
  const out = cli(["token", "dev"]);
  runMs.push(out.ms);
  let outcome;
  let why = "";
  if (out.status === 0) {
    const token = out.stdout.trim();
    const st = await control("GET", `/oidc/access-token?token=${encodeURIComponent(token)}`);
    // Active, or active until it expired a moment ago (tokens live 3 s).
    outcome = st.state === "active" || st.state === "expired" ? "survived" : "broken";
    if (outcome === "broken") why = `printed a token the server holds ${st.state}`;
  } else if (out.status === 3 && /log in/i.test(out.stderr)) {
    outcome = "needs-login";
  } else {
    outcome = "broken";
    why = `exit ${out.status}${out.error ? ` (${out.error.code})` : ""}: ${out.stderr.trim()}`;
  }
  if (place.bad) {
    outcome = "broken";
    why = `the keyring was left with ${place.where}`;
  } else if (outcome === "needs-login" && place.expect === "survived") {
    outcome = "broken";
    why = `a login lost where the kill landed ${place.where}: ${out.stderr.trim()}`;
  }
  counts[outcome] += 1;
  landed[`${who}, ${place.where}`] = (landed[`${who}, ${place.where}`] || 0) + 1;
  if (outcome === "broken") brokenDetails.push(`${who}, ${place.where}: ${why}`);
  if (verbose) console.log(`${who}: ${place.where} → ${outcome} ${why}`);
  if (verbose && outcome === "broken") {
    const db = join(env.LATCHKEY_HOME, "latchkey.db");
    // sqlite3 (the CLI) when installed: what the metadata said.
    const q = (sql) =>
      (spawnSync("sqlite3", [db, sql], { encoding: "utf8" }).stdout || "(no sqlite3)").trim();
    console.log(`  now ${Date.now() / 1000}`);
    console.log(`  tokens: ${q("select kind, issued_at, expires_at, renew_due_at from tokens")}`);
    console.log(`  renewals: ${q("select last_error, failed_at, next_retry_at, attempts, refused, next_at from renewals")}`);
    console.log(`  history: ${q("select at, event, detail from history order by id desc limit 4")}`);
  }
  // Each kill starts from a profile that works.
  if (outcome !== "survived") logIn();
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 300;
}

const started = Date.now();

// `latchkey token` while the token is due: killed anywhere in its run, or
// just after its refresh reached the server.
for (let i = 0; i < cliKills; i++) {
  await sleep(2500); // the token is due 2.4 s after it was issued
  const refreshBefore = keyring("refresh-token");
  const seen = await requests();
  const child = spawn(CLI, ["token", "dev"], { env, stdio: "ignore" });
  const exited = new Promise((r) => child.once("exit", r));
  if (i % 2 === 0) {
    await sleep(random(0, median(runMs)));
  } else {
    await requests(seen, 5000);
    await sleep(random(0, 60));
  }
  child.kill("SIGKILL");
  await exited;
  await check("latchkey token", await inspect(refreshBefore));
}

// The app, whose scheduler renews the token every 2.4 s: killed anywhere
// in its first seconds, or just after one of its refreshes reached the server.
for (let i = 0; i < appKills; i++) {
  const refreshBefore = keyring("refresh-token");
  const seen = await requests();
  // Its own process group, so that the kill takes its web views along.
  const app = spawn(APP, [], {
    env,
    stdio: ["ignore", "ignore", verbose ? "inherit" : "ignore"],
    detached: true,
  });
  const exited = new Promise((r) => app.once("exit", r));
  if (i % 2 === 0) {
    await sleep(random(0, 4000));
  } else {
    const nth = 1 + Math.floor(Math.random() * 2);
    await requests(seen + nth - 1, 15000);
    await sleep(random(0, 60));
  }
  try {
    process.kill(-app.pid, "SIGKILL");
  } catch {
    // gone already
  }
  await exited;
  await sleep(200); // its web processes leave with it
  await check("app", await inspect(refreshBefore));
}

const seconds = (Date.now() - started) / 1000;
sandbox.kill();
console.log(
  `crash test: ${kills} kills (${cliKills} of \`latchkey token\`, ${appKills} of the app) in ${seconds.toFixed(0)} s`,
);
console.log(
  `  survived ${counts.survived}, needs-login ${counts["needs-login"]}, broken ${counts.broken}`,
);
for (const [where, n] of Object.entries(landed).sort()) console.log(`  ${n} × ${where}`);
for (const d of brokenDetails) console.log(`  BROKEN: ${d}`);
spawnSync("secret-tool", ["clear", "service", SERVICE], { env });
rmSync(dir, { recursive: true, force: true });
process.exit(counts.broken === 0 ? 0 : 1);
