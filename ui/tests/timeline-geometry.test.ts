import { describe, expect, it } from 'vitest';
import type { ProfileView } from '../src/ipc/api';
import {
  attentionOf,
  DECADE_NOW_AT,
  decadeScale,
  fitScale,
  historyMarks,
  legibleTicks,
  nowLineDelay,
  timelineOrder,
  timelineRow,
  zoomScale,
} from '../src/lib/timeline';
import { edgeProfile, ghProfile, prodProfile } from './fixtures';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;
const iso = (t: number) => new Date(t).toISOString();

/** A logged-in profile whose token was issued and expires at these offsets from now. */
function token(
  issued: number | null,
  expires: number | null,
  extra: Partial<ProfileView> = {},
): ProfileView {
  return {
    ...prodProfile,
    status: 'valid',
    issued_at: issued === null ? null : iso(NOW + issued),
    expires_at: expires === null ? null : iso(NOW + expires),
    renew_due_at: null,
    renewable: false,
    ...extra,
  };
}

const REMINDERS = [1440, 60, 10, 0];

describe('the linear zooms', () => {
  it('put now a quarter of an hour into the hour, four hours into the day, a day into the week', () => {
    // At a tick; between ticks now moves on from there until the next one.
    const tick = new Date(NOW);
    tick.setHours(12, 0, 0, 0);
    const at = tick.getTime();
    expect(zoomScale('hour', at, 1200).x(at)).toBeCloseTo(300);
    expect(zoomScale('day', at, 1200).x(at)).toBeCloseTo(200);
    const week = zoomScale('week', at, 700);
    // A day back from midnight, and half of today.
    expect(week.x(at)).toBeCloseTo(150);
  });

  it('stand still between two ticks while the now-line moves, then move on by a tick', () => {
    const tick = new Date(NOW);
    tick.setHours(12, 0, 0, 0);
    const t = tick.getTime();
    const at = zoomScale('hour', t, 1200);
    const later = zoomScale('hour', t + 7 * MIN, 1200);
    expect(later.start).toBe(at.start);
    expect(later.x(t + 7 * MIN)).toBeCloseTo(300 + 140);
    const next = zoomScale('hour', t + 10 * MIN, 1200);
    expect(next.start).toBe(at.start + 10 * MIN);
    expect(next.x(t + 10 * MIN)).toBeCloseTo(300);
  });

  it('are linear, and clamp what lies beyond them to their edges', () => {
    const day = zoomScale('day', NOW, 1200);
    expect(day.x(NOW + 6 * HOUR) - day.x(NOW)).toBeCloseTo(300);
    expect(day.x(NOW - 30 * DAY)).toBe(0);
    expect(day.x(NOW + 30 * DAY)).toBe(1200);
    expect(day.log).toBe(false);
  });

  it('tick on local boundaries, evenly spaced', () => {
    const hour = zoomScale('hour', NOW, 1200);
    // Every 10 min from 11:45 to 12:45.
    expect(hour.ticks.length).toBe(6);
    for (const tick of hour.ticks) expect(tick.label).toMatch(/^\d\d:\d0$/);
    const gaps = hour.ticks.slice(1).map((t, i) => t.x - hour.ticks[i].x);
    for (const gap of gaps) expect(gap).toBeCloseTo(200);
    const day = zoomScale('day', NOW, 1200);
    expect(day.ticks.length).toBe(13);
    for (const tick of day.ticks) expect(Number(tick.label.slice(0, 2)) % 2).toBe(0);
    for (const tick of day.ticks) expect(tick.label).toMatch(/^\d\d:00$/);
    expect(zoomScale('week', NOW, 700).ticks.length).toBe(8);
  });
});

describe('the 10-year zoom', () => {
  const scale = decadeScale(NOW, 1000);

  it('is a log axis with now at its place and a year of past', () => {
    expect(scale.log).toBe(true);
    expect(scale.x(NOW)).toBeCloseTo(1000 * DECADE_NOW_AT);
    expect(scale.x(NOW - YEAR)).toBeCloseTo(0);
    expect(scale.x(NOW + 10.5 * YEAR)).toBeCloseTo(1000);
  });

  it('gives an hour and ten years both room, in order', () => {
    const marks = [HOUR, DAY, 7 * DAY, 30 * DAY, YEAR, 10 * YEAR].map((d) => scale.x(NOW + d));
    for (let i = 1; i < marks.length; i++) expect(marks[i]).toBeGreaterThan(marks[i - 1]);
    // An hour-long token is still a visible bar, and a 10-year one stays inside the axis.
    expect(scale.x(NOW + HOUR) - scale.x(NOW)).toBeGreaterThan(200);
    expect(scale.x(NOW + 10 * YEAR)).toBeLessThan(1000);
    expect(scale.ticks.map((t) => t.label)).toEqual([
      '−1 y',
      '−1 mo',
      '−1 w',
      '−1 d',
      'now',
      '1 h',
      '1 d',
      '1 w',
      '1 mo',
      '1 y',
      '10 y',
    ]);
  });

  it('draws a Quay direct-OAuth token to its expiry ten years on', () => {
    const row = timelineRow(token(-DAY, 10 * YEAR), scale, REMINDERS);
    expect(row.bar).toMatchObject({ openStart: false, openEnd: false });
    expect(row.bar!.x2).toBeCloseTo(scale.x(NOW + 10 * YEAR));
    // On the week zoom the same token runs on past the edge.
    const week = timelineRow(token(-DAY, 10 * YEAR), zoomScale('week', NOW, 700), REMINDERS);
    expect(week.bar).toMatchObject({ x2: 700, openEnd: true });
  });
});

describe('a profile’s row', () => {
  const day = zoomScale('day', NOW, 1200);

  it('is a bar from issue to expiry', () => {
    const row = timelineRow(token(-2 * HOUR, 6 * HOUR), day, REMINDERS);
    expect(row.bar).toEqual({
      x1: day.x(NOW - 2 * HOUR),
      x2: day.x(NOW + 6 * HOUR),
      openStart: false,
      openEnd: false,
    });
    expect(row.expiryX).toBeCloseTo(day.x(NOW + 6 * HOUR));
  });

  it('runs open-ended where the token outlasts the axis, or has no expiry or issue time', () => {
    const hour = zoomScale('hour', NOW, 1200);
    expect(timelineRow(token(-2 * HOUR, 6 * HOUR), hour, REMINDERS).bar).toEqual({
      x1: 0,
      x2: 1200,
      openStart: true,
      openEnd: true,
    });
    expect(timelineRow(token(null, null), day, REMINDERS).bar).toMatchObject({
      x1: 0,
      x2: 1200,
      openStart: true,
      openEnd: true,
    });
  });

  it('has no bar before a login, or when the token lies wholly off the axis', () => {
    expect(timelineRow(edgeProfile, day, REMINDERS).bar).toBeNull();
    expect(timelineRow(token(-40 * DAY, -10 * DAY), day, REMINDERS).bar).toBeNull();
  });

  it('marks where a renewable token renews by itself, and shows it no reminders', () => {
    const renewing = token(-2 * HOUR, 6 * HOUR, {
      renewable: true,
      renew_due_at: iso(NOW + 4 * HOUR),
    });
    const row = timelineRow(renewing, day, REMINDERS);
    expect(row.renewX).toBeCloseTo(day.x(NOW + 4 * HOUR));
    expect(row.reminderXs).toEqual([]);
    expect(row.attention).toBe('never');
  });

  it('marks the reminders the settings ask for before a token that needs the user expires', () => {
    const row = timelineRow(token(-2 * HOUR, 3 * HOUR), day, REMINDERS);
    expect(row.attention).toBe('later');
    // 1440 minutes before lies before the axis; 0 is the expiry itself.
    expect(row.reminderXs).toEqual([day.x(NOW + 2 * HOUR), day.x(NOW + 3 * HOUR - 10 * MIN)]);
    expect(row.renewX).toBeNull();
  });

  it('marks a failed renewal, and that the token needs the user now', () => {
    const failed = token(-5 * HOUR, 2 * HOUR, {
      status: 'failed',
      renewable: true,
      renewal_failed_at: iso(NOW - HOUR),
    });
    const row = timelineRow(failed, day, REMINDERS);
    expect(row.failedX).toBeCloseTo(day.x(NOW - HOUR));
    expect(row.attention).toBe('now');
    expect(attentionOf(token(-DAY, -HOUR, { status: 'expired' }))).toBe('now');
  });
});

describe('the timeline’s order', () => {
  it('puts what needs the user now first, then expiry soonest first, then no expiry, then no token', () => {
    const soon = token(-HOUR, HOUR, { name: 'soon' });
    const later = token(-HOUR, 5 * HOUR, { name: 'later' });
    const expired = token(-DAY, -HOUR, { name: 'gone', status: 'expired' });
    const forever = token(-HOUR, null, { name: 'forever', status: 'unknown' });
    const week = token(-HOUR, 7 * DAY, { name: 'week', login: ghProfile.login });
    const order = timelineOrder([edgeProfile, forever, week, later, soon, expired]);
    expect(order.map((p) => p.name)).toEqual([
      'gone',
      'soon',
      'later',
      'week',
      'forever',
      edgeProfile.name,
    ]);
  });
});

describe('a profile’s own timeline', () => {
  it('fits its history and token, with a margin, on a linear axis', () => {
    const scale = fitScale([NOW - 3 * HOUR, NOW + HOUR], NOW, 600);
    expect(scale.log).toBe(false);
    expect(scale.start).toBeLessThan(NOW - 3 * HOUR);
    expect(scale.end).toBeGreaterThan(NOW + HOUR);
    const marks = historyMarks(
      [
        { at: iso(NOW - 3 * HOUR), event: 'issued', detail: null },
        { at: iso(NOW - HOUR), event: 'copied', detail: null },
        { at: iso(NOW - 30 * MIN), event: 'renewal-failed', detail: 'sealed' },
      ],
      scale,
    );
    expect(marks.map((m) => m.event)).toEqual(['issued', 'copied', 'renewal-failed']);
    for (let i = 1; i < marks.length; i++) expect(marks[i].x).toBeGreaterThan(marks[i - 1].x);
    expect(marks[0].x).toBeGreaterThan(0);
  });

  it('takes the log axis for a token that lasts years', () => {
    expect(fitScale([NOW - DAY, NOW + 10 * YEAR], NOW, 600).log).toBe(true);
  });
});

describe('the now-line', () => {
  it('moves about once per pixel, at most every second and at least every 5 minutes', () => {
    expect(nowLineDelay(zoomScale('hour', NOW, 1200))).toBe(3000);
    expect(nowLineDelay(zoomScale('day', NOW, 1200))).toBe(72_000);
    expect(nowLineDelay(zoomScale('week', NOW, 100))).toBe(300_000);
    expect(nowLineDelay(decadeScale(NOW, 1000))).toBe(60_000);
  });
});

describe('the axis labels', () => {
  it('keep apart: a label too close to one kept before it is dropped, "now" always kept', () => {
    const ticks = [
      { x: 0, label: '−1 y' },
      { x: 10, label: '−1 mo' },
      { x: 40, label: '−1 d' },
      { x: 60, label: 'now' },
      { x: 120, label: '1 h' },
    ];
    expect(legibleTicks(ticks, 30).map((t) => t.label)).toEqual(['−1 y', '', '', 'now', '1 h']);
    expect(legibleTicks(ticks, 30).map((t) => t.x)).toEqual([0, 10, 40, 60, 120]);
  });
});
