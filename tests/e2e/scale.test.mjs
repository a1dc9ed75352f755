// 10,000 profiles in the real window: the timeline and the list render only
// what is in view, scrolling the whole list reaches its last profile, and the
// search box finds profiles by name, server, tenant and status. The test
// asserts what the user sees; the figures (switching to the list, the work
// of each scroll step by wheel and by the scroll bar, a search keystroke,
// each to laid-out rows) are
// printed, not asserted: speed
// lives in the benchmark (`scripts/bench.sh list` runs this file against the
// release build), never in a timed test.
//
// The store is filled by crates/core/examples/seed_profiles (built by
// `make e2e`): 4,000 Avassa password profiles (ops-NNNNN) on edge-00..09 with
// tenants team-0..4, 3,000 pasted tokens (ci-NNNNN), 1,000 expired ones
// (old-NNNNN, all on edge-07) and 2,000 OIDC profiles never logged in
// (dev-NNNNN on sso-3 and sso-4). Profile i is on edge-(i % 10), tenant
// team-(i / 10 % 5).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { App, TARGET, isolatedEnv } from "./harness.mjs";

const COUNT = 10000;
/** Rows a screenful needs plus the virtual list's margin: far fewer than the profiles. */
const MOST_ROWS_IN_THE_PAGE = 200;

const SEED =
  process.env.LATCHKEY_E2E_SEED ??
  join(TARGET, "debug", "examples", "seed_profiles");

const { env } = isolatedEnv();
const app = new App(env);
let s;
const figures = {};

before(async () => {
  assert.ok(
    existsSync(SEED),
    `${SEED} is missing: cargo build -p latchkey-core --example seed_profiles (make e2e does)`,
  );
  const seeded = spawnSync(SEED, [env.LATCHKEY_HOME, String(COUNT)], {
    env,
    encoding: "utf8",
    timeout: 120000,
  });
  assert.equal(seeded.status, 0, `seed_profiles: ${seeded.stderr}`);
  s = await app.start();
});

after(async () => {
  const shown = Object.entries(figures)
    .map(([what, value]) => `  ${what}: ${value}`)
    .join("\n");
  if (shown) console.log(`scale figures (${COUNT} profiles):\n${shown}`);
  await app.stop();
});

/** utime + stime, in clock ticks, of a /proc/…/stat line, and its command name. */
function ticksOf(stat) {
  const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(fields[11]) + Number(fields[12]), comm];
}

/**
 * CPU time (ms) so far of this installation's app and its WebKit processes
 * (the page runs in WebKitWebProcess), and of the page's main thread alone:
 * that thread runs the script, style and layout, so its time is what drops
 * frames; the rest is mostly compositing, which under Xvfb is Mesa's software
 * GL (llvmpipe threads), not what a desktop's GPU would cost. On a machine
 * others share, wall times drift with their load, CPU times far less. Kernel
 * accounting in ticks of 10 ms, so only totals over many steps mean much.
 */
function cpuMs() {
  const mine = `LATCHKEY_HOME=${env.LATCHKEY_HOME}`;
  let ticks = 0;
  let mainTicks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (
        !readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(mine)
      )
        continue;
      const [used, comm] = ticksOf(readFileSync(`/proc/${pid}/stat`, "utf8"));
      if (!/^(latchkey-app|WebKit)/.test(comm)) continue;
      ticks += used;
      // The main thread's task has the process's own id.
      if (comm.startsWith("WebKitWebProc"))
        mainTicks += ticksOf(
          readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8"),
        )[0];
    } catch {
      // gone, or not ours to read
    }
  }
  return { all: ticks * 10, main: mainTicks * 10 };
}

/**
 * `action`'s result and the CPU ms it took: the app and its WebKit processes,
 * and the page's main thread (see cpuMs).
 */
async function withCpu(action) {
  const before = cpuMs();
  const result = await action();
  const after = cpuMs();
  return [
    result,
    { all: after.all - before.all, main: after.main - before.main },
  ];
}

/** "CPU 12.5 ms (page's main thread 4.0 ms)" for `cpu` spread over `n`. */
const cpuPer = (cpu, n, what) =>
  `CPU ${(cpu.all / n).toFixed(1)} ms ${what} (page's main thread ${(cpu.main / n).toFixed(1)} ms)`;

/**
 * Runs `body` (page script that starts a change) and resolves to the ms until
 * the page has updated and laid out what it changed: the tasks it queued have
 * run (Svelte updates in a microtask) and layout is forced. Paint is not
 * included: under Xvfb WebKit runs requestAnimationFrame and aligns timers to
 * about once a second, so neither frames nor setTimeout can be timed there; a
 * MessageChannel message is the next task without that delay.
 */
function toLayout(body) {
  return s.executeAsync(
    `const done = arguments[arguments.length - 1];
     const t0 = performance.now();
     ${body}
     const channel = new MessageChannel();
     channel.port1.onmessage = () => {
       document.body.getBoundingClientRect();
       done(performance.now() - t0);
     };
     channel.port2.postMessage(0);`,
  );
}

/** The count beside the search box as [found, total] ("1,000 of 10,000", or "10,000 profiles" for all), whatever the locale's digit grouping. */
async function profileCount() {
  const text = await s.text("[data-testid=profile-count]");
  const numbers = text.match(/\d[\d,.\s\u00a0\u202f]*/g) ?? [];
  const [found, total] = numbers.map((n) => Number(n.replace(/\D/g, "")));
  return total === undefined ? [found, found] : [found, total];
}
const rowsInPage = () =>
  s.execute(
    "return document.querySelectorAll('[data-testid=profile-item], [data-testid=timeline-row]').length",
  );

test("10,000 profiles open on the timeline, which renders only the rows in view", async () => {
  await s.until(
    async () => (await profileCount())[1] === COUNT,
    "the count of 10,000 profiles",
    30000,
  );
  await s.waitFor("[data-testid=timeline-row]", 20000);
  const rows = await rowsInPage();
  assert.ok(
    rows > 0 && rows <= MOST_ROWS_IN_THE_PAGE,
    `timeline rows in the page: ${rows}`,
  );
  const measure = await s.execute(
    "return performance.getEntriesByName('latchkey:timeline-render').map(e => e.duration)",
  );
  if (measure.length)
    figures[
      "timeline, answer to the frame after (rAF: about 1 s steps under Xvfb)"
    ] = `${measure[0].toFixed(1)} ms`;
});

test("the list of 10,000 renders a screenful and says how many rows there are", async () => {
  const [ms, cpu] = await withCpu(() =>
    toLayout(
      "document.querySelector('[data-testid=profile-view-list]').click();",
    ),
  );
  figures["switch to the list, click to laid-out rows"] =
    `${ms.toFixed(1)} ms (${cpuPer(cpu, 1, "in all")})`;
  await s.waitFor("[data-testid=profile-item]");
  const rows = await rowsInPage();
  assert.ok(
    rows > 0 && rows <= MOST_ROWS_IN_THE_PAGE,
    `list rows in the page: ${rows}`,
  );
  const rowCount = await s.execute(
    "return document.querySelector('[data-testid=profile-list]').getAttribute('aria-rowcount')",
  );
  assert.equal(
    rowCount,
    String(COUNT + 1),
    "aria-rowcount: the heading and every profile",
  );
});

/**
 * Scrolls the list `steps` times by `px` pixels (0: whatever reaches the end
 * in `steps`), each step as the browser does it (the scroll position, then
 * the scroll event: WebKit under Xvfb fires its own only about once a second),
 * and times each step's work: the rows it re-renders and their layout.
 */
async function scrollSteps(px, steps) {
  return JSON.parse(
    await s.executeAsync(
      `const [px, steps, done] = arguments;
       const scroller = document.querySelector('.table-wrap');
       const step = px || Math.ceil((scroller.scrollHeight - scroller.clientHeight - scroller.scrollTop) / steps);
       const channel = new MessageChannel();
       const work = [];
       let most = 0;
       const next = (n) => {
         if (n === steps) {
           const rows = [...document.querySelectorAll('[data-testid=profile-item]')];
           return done(JSON.stringify({
             work, most,
             lastIndex: Math.max(...rows.map(r => Number(r.getAttribute('aria-rowindex')))),
             atEnd: scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1,
           }));
         }
         const t0 = performance.now();
         scroller.scrollTop += step;
         scroller.dispatchEvent(new Event('scroll'));
         channel.port1.onmessage = () => {
           document.body.getBoundingClientRect();
           work.push(performance.now() - t0);
           most = Math.max(most, document.querySelectorAll('[data-testid=profile-item]').length);
           next(n + 1);
         };
         channel.port2.postMessage(0);
       };
       next(0);`,
      [px, steps],
    ),
  );
}

function describeSteps(work) {
  const sorted = [...work].sort((a, b) => a - b);
  const over = work.filter((ms) => ms > 1000 / 60).length;
  return (
    `${work.length} steps, ${over} over a 16.7 ms frame, ` +
    `median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ms, ` +
    `p95 ${sorted[Math.floor(sorted.length * 0.95)].toFixed(1)} ms`
  );
}

test("scrolling the whole list reaches the last profile, a screenful at a time in the page", async () => {
  await s.execute("document.querySelector('.table-wrap').scrollTop = 0");
  // A mouse wheel: 100 px (three rows) a step.
  const [wheel, wheelCpu] = await withCpu(() => scrollSteps(100, 60));
  // The scroll bar dragged to the end in 20 jumps: each a new screenful.
  const [drag, dragCpu] = await withCpu(() => scrollSteps(0, 20));
  assert.ok(drag.atEnd, "the list scrolled to its end");
  assert.equal(
    drag.lastIndex,
    COUNT + 1,
    "the last profile's row is in the page at the end",
  );
  const most = Math.max(wheel.most, drag.most);
  assert.ok(
    most <= MOST_ROWS_IN_THE_PAGE,
    `rows in the page while scrolling: at most ${most}`,
  );
  figures["scrolling by wheel, work per step"] =
    `${describeSteps(wheel.work)}; ${cpuPer(wheelCpu, 60, "a step")}`;
  figures["dragging the scroll bar, work per jump"] =
    `${describeSteps(drag.work)}; ${cpuPer(dragCpu, 20, "a jump")}`;
});

test("the name and actions stay in view when the list is too narrow and scrolls sideways", async () => {
  // The cells stick only while the table is wider than the view: a sticky
  // cell is a layer of its own in WebKit, and a scroll step would create and
  // composite two per new row.
  const layout = () =>
    s.execute(
      `const scroller = document.querySelector('.table-wrap');
       const row = document.querySelector('[data-testid=profile-item]');
       const box = scroller.getBoundingClientRect();
       const name = row.querySelector('.col-name').getBoundingClientRect();
       const actions = row.querySelector('.col-actions').getBoundingClientRect();
       return {
         sticky: getComputedStyle(row.querySelector('.col-name')).position,
         wider: scroller.scrollWidth > scroller.clientWidth,
         nameAtLeft: Math.abs(name.left - box.left) < 1,
         actionsInView: actions.right <= box.left + scroller.clientWidth + 1,
       };`,
    );
  const wide = await layout();
  assert.equal(wide.wider, false, "the list fits the window");
  assert.equal(wide.sticky, "static", "no sticky cells while the list fits");
  await s.execute(
    "document.querySelector('.table-wrap').style.maxWidth = '24rem'",
  );
  try {
    await s.until(
      async () => (await layout()).sticky === "sticky",
      "the name cells to stick once the list is narrower than its table",
    );
    await s.execute(
      `const scroller = document.querySelector('.table-wrap');
       scroller.scrollLeft = scroller.scrollWidth;`,
    );
    const narrow = await layout();
    assert.ok(narrow.wider, "the table is wider than the narrowed list");
    assert.ok(narrow.nameAtLeft, "the name stays at the left edge");
    assert.ok(narrow.actionsInView, "the actions stay in view");
  } finally {
    await s.execute(
      `const scroller = document.querySelector('.table-wrap');
       scroller.style.maxWidth = '';
       scroller.scrollLeft = 0;`,
    );
  }
});

/** Sets the search box as typing does and returns the ms to the frame that shows the result. */
async function search(query) {
  const ms = await toLayout(
    `const box = document.querySelector('[data-testid=profile-search]');
     box.value = ${JSON.stringify(query)};
     box.dispatchEvent(new Event('input', { bubbles: true }));`,
  );
  return ms;
}

test("the search box finds profiles by name, server, tenant and status among 10,000", async () => {
  const cases = [
    // [query, profiles found, what every profile found is named]
    ["ops-04242", 1, /^ops-04242$/],
    ["server:sso-3", 1000, /^dev-\d{4}8$/],
    ["status:expired", 1000, /^old-\d{4}7$/],
    ["tenant:team-3 server:edge-07", 200, /^old-\d{3}[38]7$/],
  ];
  const times = [];
  const cpu = { all: 0, main: 0 };
  for (const [query, found, named] of cases) {
    const [ms, used] = await withCpu(() => search(query));
    times.push(ms);
    cpu.all += used.all;
    cpu.main += used.main;
    await s.until(async () => {
      const [shown, total] = await profileCount();
      return shown === found && total === COUNT;
    }, `"${query}" to find ${found}`);
    const names = await s.execute(
      "return [...document.querySelectorAll('[data-testid=profile-item]')].map(r => r.dataset.profile)",
    );
    assert.ok(
      names.length > 0 &&
        names.length <= Math.min(found, MOST_ROWS_IN_THE_PAGE),
      `"${query}": ${names.length} rows in the page`,
    );
    for (const name of names)
      assert.match(name, named, `"${query}" shows ${name}`);
  }
  await search("no-such-profile-anywhere");
  assert.match(
    await (await s.waitFor("[data-testid=no-profiles]")).text(),
    /No profile matches the search \(10.?000 profiles in all\)/,
  );
  const [ms, used] = await withCpu(() => search(""));
  times.push(ms);
  cpu.all += used.all;
  cpu.main += used.main;
  await s.until(
    async () => (await profileCount())[0] === COUNT,
    "the search cleared",
  );
  times.sort((a, b) => a - b);
  figures["a search, input to laid-out rows"] =
    `median ${times[Math.floor(times.length / 2)].toFixed(1)} ms, most ${times[times.length - 1].toFixed(1)} ms ` +
    `(${times.length} searches); ${cpuPer(cpu, times.length, "a search")}`;
});
