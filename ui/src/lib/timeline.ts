// The timeline's geometry: where on a shared time axis each profile's token
// is drawn, from issue to expiry, with its renewal point, the reminders the
// settings ask for, a failed renewal and the moments of its history. Pure
// functions, so the drawing is tested without a window.
//
// Three zooms are linear (hour, day, week) around now; "10 years" is a log
// axis on the distance from now, so a token that expires in an hour and one
// of Quay's direct-OAuth tokens that lasts ten years are both readable on it.

import type { HistoryEntry, ProfileView } from '../ipc/api';

export type Zoom = 'hour' | 'day' | 'week' | 'decade';

export const zooms: { zoom: Zoom; label: string }[] = [
  { zoom: 'hour', label: 'Hour' },
  { zoom: 'day', label: 'Day' },
  { zoom: 'week', label: 'Week' },
  { zoom: 'decade', label: '10 years' },
];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const YEAR = 365 * DAY;

export interface Tick {
  x: number;
  label: string;
}

/** A time axis `width` pixels wide. */
export interface Scale {
  width: number;
  now: number;
  /** The moments at the left and right edges. */
  start: number;
  end: number;
  /** Where moment `t` is, clamped to the axis. */
  x(t: number): number;
  ticks: Tick[];
  /** A log axis (distance from now), rather than a linear one. */
  log: boolean;
}

/** How much of each linear zoom lies before now; the rest is after it. */
const linearSpans: Record<Exclude<Zoom, 'decade'>, { before: number; after: number }> = {
  hour: { before: 15 * MINUTE, after: 45 * MINUTE },
  day: { before: 4 * HOUR, after: 20 * HOUR },
  week: { before: DAY, after: 6 * DAY },
};

/** The spacing of a linear zoom's ticks, and how a tick is labelled (local time). */
const tickSteps: Record<Exclude<Zoom, 'decade'>, { step: number; label: (d: Date) => string }> = {
  hour: { step: 10 * MINUTE, label: (d) => hhmm(d) },
  day: { step: 2 * HOUR, label: (d) => hhmm(d) },
  week: {
    step: DAY,
    label: (d) => d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' }),
  },
};

const hhmm = (d: Date) =>
  `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** A linear axis from `start` to `end`, with ticks every `step` on local boundaries. */
export function linearScale(
  start: number,
  end: number,
  width: number,
  now: number,
  step?: number,
  label: (d: Date) => string = (d) => d.toLocaleDateString(),
): Scale {
  const span = Math.max(1, end - start);
  const x = (t: number) => clamp(((t - start) / span) * width, 0, width);
  const ticks: Tick[] = [];
  if (step) {
    for (let t = firstBoundary(start, step); t <= end; t = nextBoundary(t, step)) {
      ticks.push({ x: x(t), label: label(new Date(t)) });
    }
  }
  return { width, now, start, end, x, ticks, log: false };
}

/** The first local boundary of `step` (10 min, 2 h, a day; counted from midnight) at or after `t`. */
function firstBoundary(t: number, step: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  if (step >= DAY) {
    if (d.getTime() < t) d.setDate(d.getDate() + 1);
    return d.getTime();
  }
  const midnight = d.getTime();
  return midnight + Math.ceil((t - midnight) / step) * step;
}

function nextBoundary(t: number, step: number): number {
  if (step < DAY) return t + step;
  // Calendar days, so a daylight-saving change does not shift the ticks.
  const d = new Date(t);
  d.setDate(d.getDate() + Math.round(step / DAY));
  return d.getTime();
}

/** Where now sits on the 10-year axis, as a share of its width: the past gets less room. */
export const DECADE_NOW_AT = 0.22;
/** The log axis counts in minutes: the first minute is as wide as the step from 1 to 2. */
const LOG_UNIT = MINUTE;
const DECADE_PAST = YEAR;
const DECADE_FUTURE = 10.5 * YEAR;

const decadeMarks: { at: number; label: string }[] = [
  { at: HOUR, label: '1 h' },
  { at: DAY, label: '1 d' },
  { at: WEEK, label: '1 w' },
  { at: 30 * DAY, label: '1 mo' },
  { at: YEAR, label: '1 y' },
  { at: 10 * YEAR, label: '10 y' },
];

/**
 * The 10-year zoom: a log axis on the distance from now, a year back and ten
 * and a half ahead, so an hour and a decade both get room.
 */
export function decadeScale(now: number, width: number): Scale {
  const nowX = width * DECADE_NOW_AT;
  const ln = (ms: number) => Math.log1p(Math.max(0, ms) / LOG_UNIT);
  const past = ln(DECADE_PAST);
  const future = ln(DECADE_FUTURE);
  const x = (t: number) =>
    t >= now
      ? clamp(nowX + ((width - nowX) * ln(t - now)) / future, nowX, width)
      : clamp(nowX - (nowX * ln(now - t)) / past, 0, nowX);
  const ticks: Tick[] = [{ x: nowX, label: 'now' }];
  for (const mark of decadeMarks) {
    ticks.push({ x: x(now + mark.at), label: mark.label });
    if (mark.at <= DECADE_PAST && mark.at >= DAY)
      ticks.push({ x: x(now - mark.at), label: `−${mark.label}` });
  }
  ticks.sort((a, b) => a.x - b.x);
  return { width, now, start: now - DECADE_PAST, end: now + DECADE_FUTURE, x, ticks, log: true };
}

/**
 * A zoom's axis at `now`. The linear zooms stand still between two ticks, so
 * the now-line moves across them (and the labels stay put), then move on by a
 * tick; the 10-year axis is measured from now, so there the bars move.
 */
export function zoomScale(zoom: Zoom, now: number, width: number): Scale {
  if (zoom === 'decade') return decadeScale(now, width);
  const { before, after } = linearSpans[zoom];
  const { step, label } = tickSteps[zoom];
  const anchor = lastBoundary(now, step);
  return linearScale(anchor - before, anchor + after, width, now, step, label);
}

/** The last local boundary of `step` at or before `t`. */
function lastBoundary(t: number, step: number): number {
  const first = firstBoundary(t, step);
  if (first === t) return t;
  if (step >= DAY) {
    const d = new Date(first);
    d.setDate(d.getDate() - 1);
    return d.getTime();
  }
  return first - step;
}

/**
 * The axis of one profile's own timeline (its detail): from its first event
 * (or the token's issue) to its expiry (or now), with a margin; a span of
 * more than 60 days, such as a 10-year token's, gets the log axis instead.
 */
export function fitScale(moments: readonly number[], now: number, width: number): Scale {
  const all = [...moments.filter((t) => Number.isFinite(t)), now];
  const first = Math.min(...all);
  const last = Math.max(...all);
  if (last - first > 60 * DAY) return decadeScale(now, width);
  const margin = Math.max((last - first) * 0.06, 5 * MINUTE);
  const start = first - margin;
  const end = last + margin;
  const span = end - start;
  const step =
    span <= 2 * HOUR
      ? 15 * MINUTE
      : span <= 12 * HOUR
        ? HOUR
        : span <= 3 * DAY
          ? 6 * HOUR
          : span <= 15 * DAY
            ? DAY
            : WEEK;
  const label =
    step < DAY
      ? (d: Date) => hhmm(d)
      : (d: Date) => d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return linearScale(start, end, width, now, step, label);
}

/** Whether a token needs the user: now (it is expiring, expired or its renewal failed), later, or never. */
export type Attention = 'now' | 'later' | 'never';

export function attentionOf(p: ProfileView): Attention {
  if (p.status === 'expiring' || p.status === 'expired' || p.status === 'failed') return 'now';
  if (p.status !== 'none' && !p.renewable && p.expires_at !== null) return 'later';
  return 'never';
}

const parse = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
};

/** One profile's row on the timeline. Positions are x in pixels; null: not on this axis. */
export interface TimelineRow {
  profile: ProfileView;
  /** The token's bar; `openStart`/`openEnd` where it goes on beyond the axis (or has no expiry). */
  bar: { x1: number; x2: number; openStart: boolean; openEnd: boolean } | null;
  /** Where Latchkey renews it by itself. */
  renewX: number | null;
  /** The reminders the settings ask for before a token that needs the user expires. */
  reminderXs: number[];
  /** Where the last renewal failed. */
  failedX: number | null;
  /** The expiry, when it is on the axis. */
  expiryX: number | null;
  attention: Attention;
}

const onAxis = (t: number | null, scale: Scale): number | null =>
  t !== null && t >= scale.start && t <= scale.end ? scale.x(t) : null;

export function timelineRow(
  profile: ProfileView,
  scale: Scale,
  reminderMinutes: readonly number[],
): TimelineRow {
  const issued = parse(profile.issued_at);
  const expires = parse(profile.expires_at);
  const attention = attentionOf(profile);
  let bar: TimelineRow['bar'] = null;
  if (profile.status !== 'none') {
    const from = issued ?? scale.start;
    const to = expires ?? scale.end;
    // A token wholly before or after the axis has no bar on it.
    if (to >= scale.start && from <= scale.end) {
      bar = {
        x1: scale.x(from),
        x2: scale.x(to),
        openStart: issued === null || issued < scale.start,
        openEnd: expires === null || expires > scale.end,
      };
    }
  }
  const reminderXs =
    attention !== 'never' && expires !== null
      ? reminderMinutes
          .filter((m) => m > 0)
          .map((m) => onAxis(expires - m * MINUTE, scale))
          .filter((x): x is number => x !== null)
      : [];
  return {
    profile,
    bar,
    renewX: profile.renewable ? onAxis(parse(profile.renew_due_at), scale) : null,
    reminderXs,
    failedX: onAxis(parse(profile.renewal_failed_at), scale),
    expiryX: onAxis(expires, scale),
    attention,
  };
}

/**
 * The order of the timeline: what needs the user now first, then by expiry,
 * soonest first; tokens without expiry, then profiles without a token, last.
 * Rust picks the first screen in this same order (`screen::first_of_timeline`);
 * both sort crates/core/tests/fixtures/timeline-order.json in their tests.
 */
export function timelineOrder(profiles: readonly ProfileView[]): ProfileView[] {
  // Each key once per profile, not once per comparison: this sorts 10,000.
  const keyed = profiles.map((p) => ({
    p,
    rank: attentionOf(p) === 'now' ? 0 : p.status === 'none' ? 3 : p.expires_at === null ? 2 : 1,
    expiry: parse(p.expires_at) ?? Infinity,
  }));
  keyed.sort(
    (a, b) =>
      a.rank - b.rank ||
      a.expiry - b.expiry ||
      (a.p.name < b.p.name ? -1 : a.p.name > b.p.name ? 1 : 0),
  );
  return keyed.map((k) => k.p);
}

/** A moment of a profile's history on its own timeline. */
export interface HistoryMark {
  x: number;
  event: string;
  at: string;
}

export function historyMarks(history: readonly HistoryEntry[], scale: Scale): HistoryMark[] {
  return history.flatMap((entry) => {
    const x = onAxis(parse(entry.at), scale);
    return x === null ? [] : [{ x, event: entry.event, at: entry.at }];
  });
}

/** How often the now-line must move to stay within a pixel of the truth (at least every second). */
export function nowLineDelay(scale: Scale): number {
  if (scale.log) return MINUTE;
  const msPerPixel = (scale.end - scale.start) / Math.max(1, scale.width);
  return clamp(Math.round(msPerPixel), 1000, 5 * MINUTE);
}

/**
 * The ticks whose labels fit: each at least `gap` pixels from the labels kept
 * before it, "now" kept first. The others keep their line and lose their text.
 */
export function legibleTicks(ticks: readonly Tick[], gap: number): Tick[] {
  const kept: number[] = ticks.filter((t) => t.label === 'now').map((t) => t.x);
  return ticks.map((tick) => {
    if (tick.label === 'now') return tick;
    if (kept.some((x) => Math.abs(x - tick.x) < gap)) return { ...tick, label: '' };
    kept.push(tick.x);
    return tick;
  });
}
