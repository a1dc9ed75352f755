#!/usr/bin/env node
// Stands in for the system browser in the e2e tests (LATCHKEY_BROWSER): opens
// the login URL, follows the identity provider's HTTP redirects (which is how
// a loopback redirect reaches the app's listener), and hands a final
// `latchkey://` redirect to a second launch of the app, as the desktop does.
// If the file $LATCHKEY_E2E_FORGE_FIRST exists, it first delivers a forged
// callback (and removes the file), as an attacker's page might.
// Logs what it did to $LATCHKEY_E2E_BROWSER_LOG.

import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, rmSync } from "node:fs";

const log = (line) =>
  process.env.LATCHKEY_E2E_BROWSER_LOG &&
  appendFileSync(process.env.LATCHKEY_E2E_BROWSER_LOG, `${line}\n`);
const launch = (url) => {
  const out = spawnSync(process.env.LATCHKEY_E2E_APP, [url], {
    env: process.env,
    encoding: "utf8",
    timeout: 20000,
  });
  log(`second launch with ${url.split("?")[0]} exited ${out.status}`);
};

let url = process.argv[2];
log(`open ${url}`);
for (let hop = 0; hop < 5 && url; hop++) {
  const res = await fetch(url, { redirect: "manual" });
  const location = res.headers.get("location");
  log(`status ${res.status} location ${location}`);
  if (!location) break;
  if (location.startsWith("latchkey:")) {
    const forge = process.env.LATCHKEY_E2E_FORGE_FIRST;
    if (forge && existsSync(forge)) {
      rmSync(forge);
      launch("latchkey://callback?code=forged&state=forged-state");
    }
    launch(location);
    break;
  }
  url = new URL(location, url).toString();
}
