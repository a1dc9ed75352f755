// "in 3 h", "12 min ago": how far a moment Rust sent (RFC 3339) is from now,
// and the expiry countdowns of the profile list.

const units: [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
];

export function relativeTime(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const diff = at - now;
  const abs = Math.abs(diff);
  const unit = units.find(([ms]) => abs >= ms);
  if (!unit) return diff >= 0 ? 'in under a minute' : 'just now';
  const text = `${Math.floor(abs / unit[0])} ${unit[1]}`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

// Expiry countdowns: seconds while under an hour, so a short-lived token is
// seen running out; coarser beyond, as `latchkey_core::tokens::relative` does.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration as people read it: "1 m 58 s", "2 h 10 m", "3 d". */
function span(ms: number, withSeconds: boolean): string {
  const s = Math.floor(ms / SECOND);
  const m = Math.floor(ms / MINUTE);
  const h = Math.floor(ms / HOUR);
  if (ms < MINUTE) return `${s} s`;
  if (ms < HOUR) return withSeconds ? `${m} m ${s % 60} s` : `${m} m`;
  if (ms < DAY) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} m`;
  if (ms < 60 * DAY) return `${Math.floor(ms / DAY)} d`;
  if (ms < 730 * DAY) return `${Math.floor(ms / (30 * DAY))} months`;
  return `${Math.floor(ms / (365 * DAY))} years`;
}

/**
 * What a profile's expiry cell says at `now`: "in 1 m 58 s", "in 2 h 10 m",
 * "expired 5 m ago", "no expiry" for a token that does not say, "—" when there
 * is no token at all.
 */
export function countdown(expiresAt: string | null, hasToken: boolean, now: number): string {
  if (!hasToken) return '—';
  if (expiresAt === null) return 'no expiry';
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return expiresAt;
  const left = at - now;
  // Rounded up: "in 0 s" would be a token that is still valid.
  if (left > 0) return `in ${span(Math.ceil(left / SECOND) * SECOND, true)}`;
  if (-left < MINUTE) return 'expired just now';
  return `expired ${span(-left, false)} ago`;
}

/**
 * How long until countdowns of these expiries next need redrawing: every
 * second while one is under an hour away, otherwise every 30 s (or as soon as
 * one enters its last hour); `null` when none has an expiry, so nothing shown
 * changes with time and no timer need wake the window.
 */
export function tickDelay(expiries: readonly (string | null)[], now: number): number | null {
  if (expiries.every((iso) => iso === null)) return null;
  let delay = 30 * SECOND;
  for (const iso of expiries) {
    const left = iso === null ? NaN : Date.parse(iso) - now;
    if (!(left > 0)) continue;
    if (left <= HOUR) return SECOND;
    delay = Math.min(delay, left - HOUR);
  }
  return Math.max(SECOND, delay);
}

// What `Date.prototype.toLocaleString()` gives, made once: each call of that
// builds a new ICU formatter, which costs more than a row of the list.
let dateTimeFormat: Intl.DateTimeFormat | undefined;

/** A moment Rust sent (RFC 3339), in the user's local date and time. */
export const localDateTime = (iso: string): string => {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  dateTimeFormat ??= new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return dateTimeFormat.format(at);
};
