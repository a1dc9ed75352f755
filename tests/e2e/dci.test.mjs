// DCI request signing in the real window against the sandbox's dciauth v2
// verifier: a dci-hmac profile whose secret key is in the (test) keyring shows
// who its key is, "Sign a request" previews what gets signed with the
// signature masked, "Copy as curl" puts a line on the X clipboard that the
// sandbox accepts when a shell runs it (a GET and a POST with a JSON body),
// "Copy headers" gives two headers another client can send; and the page
// never holds a real signature.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  App,
  isolatedEnv,
  cli,
  saveScreenshot,
  startSandbox,
} from "./harness.mjs";
import { sleep } from "./webdriver.mjs";

// The remoteci the sandbox knows, with its test secret
// (crates/sandbox/src/dci.rs: REMOTECI_ACCESS_KEY, REMOTECI_SECRET).
const REMOTECI_ID = "3a8e6e8a-6b0e-4f5e-9b9f-2b0c6f1f7d11";
const ACCESS_KEY = `remoteci/${REMOTECI_ID}`;
const SECRET = "sandbox-dci-secret-not-a-real-one";

const { env } = isolatedEnv();
const app = new App(env);
let s;
let sandbox;

function clipboard() {
  return spawnSync("xclip", ["-selection", "clipboard", "-o"], {
    encoding: "utf8",
    timeout: 5000,
  }).stdout;
}

/** A hex signature in `text`, as `Authorization` carries it. */
function signatureIn(text) {
  const m = /Signature=([0-9a-f]{64})/.exec(text);
  assert.ok(m, `a signature in: ${text}`);
  return m[1];
}

/** Runs a copied curl line as a user would paste it into a shell: status and body. */
function runCurl(line) {
  const out = spawnSync(
    "sh",
    ["-c", `${line} --silent --show-error --write-out '\\n%{http_code}'`],
    { encoding: "utf8", timeout: 20000 },
  );
  assert.equal(out.status, 0, `curl failed: ${out.stderr}`);
  const lines = out.stdout.split("\n");
  const status = Number(lines.pop());
  return { status, body: lines.join("\n") };
}

/** The page's whole DOM, to check that no signature ever reached it. */
const page = () => s.execute("return document.documentElement.outerHTML");

/** Copies the dialog's request as `form` and waits until the clipboard holds a new one. */
async function copyFromDialog(button, before) {
  await s.click(`[data-testid=${button}]`);
  await s.waitFor("[data-testid=copy-receipt]");
  return s.until(() => {
    const now = clipboard();
    return now && now !== before && now;
  }, "the signed request on the clipboard");
}

before(async () => {
  sandbox = await startSandbox();
  for (const [args, input] of [
    [["server", "add", "lab", "--kind", "dci", "--url", `${sandbox.url}/dci`]],
    [
      [
        "profile",
        "add",
        "ci",
        "--server",
        "lab",
        "--login",
        "dci-hmac",
        "--access-key",
        ACCESS_KEY,
        "--secret-stdin",
      ],
      SECRET,
    ],
  ]) {
    const out = cli(env, args, input);
    assert.equal(out.status, 0, `${args.join(" ")}: ${out.stderr}`);
  }
  s = await app.start();
});

after(async () => {
  await app.stop();
  sandbox?.stop();
});

test("the detail of a DCI profile shows who its key is, by a signed identity request", async () => {
  await s.click("[data-testid=profile-item] [data-testid=profile-open]");
  await s.waitFor("[data-testid=profile-detail]");
  const items = await s.until(async () => {
    const all = await s.texts("[data-testid=server-info-item]");
    return all.length > 0 && all;
  }, "the identity of the key");
  const all = items.join("\n");
  assert.match(all, new RegExp(ACCESS_KEY));
  assert.match(all, /remoteci/);
  assert.match(all, /sandbox-remoteci/);
  assert.equal((await s.findAll("[data-testid=login]")).length, 0);
  await s.click("[data-testid=check-identity]");
  await s.until(
    async () =>
      (await s.text("[data-testid=check-identity]")) === "Check identity",
    "the identity checked again",
  );
  assert.equal((await s.findAll("[data-testid=server-info-error]")).length, 0);
});

test("a signed GET copied as curl is accepted by the server, and the page never holds the signature", async () => {
  await s.click("[data-testid=sign-request]");
  await s.waitFor("[data-testid=sign-dialog]");
  await s.type("[data-testid=sign-url]", "/api/v1/identity");
  const request = await s.waitFor("[data-testid=sign-preview-request]");
  await s.until(
    async () =>
      (await request.text()) === `GET ${sandbox.url}/dci/api/v1/identity`,
    "the preview of the GET",
  );
  assert.match(
    await s.text("[data-testid=sign-preview-authorization]"),
    new RegExp(
      `^DCI2-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/BHS3/api/dci2_request, SignedHeaders=host;x-dci-date, Signature=…$`,
    ),
  );
  assert.match(
    await s.text("[data-testid=sign-canonical-request]"),
    /^GET\n\/dci\/api\/v1\/identity\n/,
  );
  assert.match(
    await s.text("[data-testid=sign-string-to-sign]"),
    /^DCI2-HMAC-SHA256\n\d{8}T\d{6}Z\n/,
  );

  const line = await copyFromDialog("sign-copy-curl", clipboard());
  assert.match(line, /^curl /);
  assert.match(
    await s.text("[data-testid=copy-receipt]"),
    /signed curl command of ci/,
  );
  const signature = signatureIn(line);
  const answer = runCurl(line);
  assert.equal(answer.status, 200, answer.body);
  assert.equal(JSON.parse(answer.body).identity.id, REMOTECI_ID);

  const html = await page();
  assert.ok(!html.includes(signature), "the page never holds the signature");
  assert.ok(
    !/Signature=[0-9a-f]/.test(html),
    "no signature of any request is in the page",
  );
  // The preview stays for another copy.
  assert.equal(
    (await s.findAll("[data-testid=sign-preview-request]")).length,
    1,
  );
  await sleep(1000);
  saveScreenshot(await s.screenshot(), "dci-sign.png");
});

test("a signed POST with a JSON body is accepted with exactly that body", async () => {
  await s.select("[data-testid=sign-method]", "POST");
  await s.type("[data-testid=sign-url]", "/api/v1/jobs?limit=5");
  const body = '{"name": "e2e-job", "tags": ["a b", "c"]}';
  await s.type("[data-testid=sign-body]", body);
  const request = await s.waitFor("[data-testid=sign-preview-request]");
  await s.until(
    async () =>
      (await request.text()) === `POST ${sandbox.url}/dci/api/v1/jobs?limit=5`,
    "the preview of the POST",
  );
  const line = await copyFromDialog("sign-copy-curl", clipboard());
  const signature = signatureIn(line);
  const answer = runCurl(line);
  assert.equal(answer.status, 200, answer.body);
  const echoed = JSON.parse(answer.body);
  assert.equal(echoed.method, "POST");
  assert.equal(echoed.path, "/dci/api/v1/jobs");
  assert.deepEqual(echoed.params, { limit: "5" });
  assert.equal(echoed.body, body);
  assert.ok(!(await page()).includes(signature));
});

test("the copied headers sign a request another client sends", async () => {
  await s.select("[data-testid=sign-method]", "GET");
  await s.type("[data-testid=sign-url]", "/api/v1/identity");
  const request = await s.waitFor("[data-testid=sign-preview-request]");
  await s.until(
    async () => (await request.text()).startsWith("GET "),
    "the preview of the GET",
  );
  const copied = await copyFromDialog("sign-copy-headers", clipboard());
  const lines = copied.split("\n");
  assert.equal(lines.length, 2, copied);
  assert.match(lines[0], /^X-DCI-Date: \d{8}T\d{6}Z$/);
  assert.match(lines[1], /^Authorization: DCI2-HMAC-SHA256 Credential=/);
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]),
  );
  const res = await fetch(`${sandbox.url}/dci/api/v1/identity`, { headers });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).identity.id, REMOTECI_ID);
  assert.ok(!(await page()).includes(signatureIn(copied)));

  await s.click("[data-testid=sign-close]");
  await s.gone("[data-testid=sign-dialog]");
});
