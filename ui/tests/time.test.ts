import { describe, expect, it } from 'vitest';
import { countdown, localDateTime, relativeTime, tickDelay } from '../src/lib/time';

describe('relativeTime', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');

  it('says how long until a future moment, in the largest whole unit', () => {
    expect(relativeTime('2030-01-01T15:30:00Z', now)).toBe('in 3 h');
    expect(relativeTime('2030-01-03T12:00:00Z', now)).toBe('in 2 d');
    expect(relativeTime('2030-01-01T12:00:30Z', now)).toBe('in under a minute');
  });

  it('says how long ago a past moment was', () => {
    expect(relativeTime('2030-01-01T11:48:00Z', now)).toBe('12 min ago');
  });

  it('shows text it cannot parse as it is', () => {
    expect(relativeTime('soon', now)).toBe('soon');
  });
});

describe('countdown', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');

  it('shows seconds while under an hour is left', () => {
    expect(countdown('2030-01-01T12:01:58Z', true, now)).toBe('in 1 m 58 s');
    expect(countdown('2030-01-01T12:00:45Z', true, now)).toBe('in 45 s');
    expect(countdown('2030-01-01T12:59:59Z', true, now)).toBe('in 59 m 59 s');
  });

  it('rounds up, so a token that is still valid never shows 0 s', () => {
    expect(countdown('2030-01-01T12:00:00.400Z', true, now)).toBe('in 1 s');
  });

  it('shows hours and minutes under a day, then days', () => {
    expect(countdown('2030-01-01T14:10:00Z', true, now)).toBe('in 2 h 10 m');
    expect(countdown('2030-01-01T14:00:00Z', true, now)).toBe('in 2 h');
    expect(countdown('2030-01-04T12:00:00Z', true, now)).toBe('in 3 d');
  });

  it('says how long ago a token expired', () => {
    expect(countdown('2030-01-01T11:55:00Z', true, now)).toBe('expired 5 m ago');
    expect(countdown('2030-01-01T11:59:30Z', true, now)).toBe('expired just now');
    expect(countdown('2030-01-01T09:50:00Z', true, now)).toBe('expired 2 h 10 m ago');
  });

  it('says "no expiry" for a token that does not say, and "—" without a token', () => {
    expect(countdown(null, true, now)).toBe('no expiry');
    expect(countdown(null, false, now)).toBe('—');
  });
});

describe('tickDelay', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');

  it('ticks every second while a token has under an hour left', () => {
    expect(tickDelay(['2030-01-03T00:00:00Z', '2030-01-01T12:30:00Z'], now)).toBe(1000);
  });

  it('ticks every 30 s otherwise, ignoring expired tokens and tokens without expiry', () => {
    expect(tickDelay(['2030-01-01T15:00:00Z', '2030-01-01T11:00:00Z', null], now)).toBe(30_000);
    expect(tickDelay(['2030-01-01T11:00:00Z'], now)).toBe(30_000);
  });

  it('needs no timer when no token has an expiry', () => {
    expect(tickDelay([], now)).toBeNull();
    expect(tickDelay([null, null], now)).toBeNull();
  });

  it('wakes up as a token enters its last hour', () => {
    expect(tickDelay(['2030-01-01T13:00:10Z'], now)).toBe(10_000);
  });
});

describe('localDateTime', () => {
  it('says what toLocaleString says, with one formatter for every call', () => {
    for (const iso of [
      '2026-12-03T17:45:05Z',
      '2027-01-31T00:00:00+02:00',
      '1999-12-31T23:59:59Z',
    ]) {
      expect(localDateTime(iso)).toBe(new Date(iso).toLocaleString());
    }
  });

  it('gives back what is not a date as it came', () => {
    expect(localDateTime('soon')).toBe('soon');
  });
});
