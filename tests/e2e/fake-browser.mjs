#!/usr/bin/env node
// Stands in for the system browser in the e2e tests (LATCHKEY_BROWSER): opens
// the login URL, lets the identity provider approve, and hands the redirect it
// answers with to a second launch of the app, as the desktop does with a
// `latchkey://` link. Logs what it did to $LATCHKEY_E2E_BROWSER_LOG.

import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';

const url = process.argv[2];
const log = (line) => process.env.LATCHKEY_E2E_BROWSER_LOG && appendFileSync(process.env.LATCHKEY_E2E_BROWSER_LOG, `${line}\n`);
log(`open ${url}`);
const res = await fetch(url, { redirect: 'manual' });
const location = res.headers.get('location');
log(`status ${res.status} location ${location}`);
if (location) {
  const out = spawnSync(process.env.LATCHKEY_E2E_APP, [location], { env: process.env, encoding: 'utf8', timeout: 20000 });
  log(`second launch exited ${out.status}`);
}
