import { describe, expect, it } from 'vitest';
import { relativeTime } from '../src/lib/time';

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
