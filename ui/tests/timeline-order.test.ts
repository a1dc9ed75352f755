// The page sorts the whole list with `timelineOrder` once it has come; the
// first screen was picked before that in Rust (`screen::first_of_timeline`).
// Both sort crates/core/tests/fixtures/timeline-order.json and must give its
// `expected` order (Rust's side: crates/core/tests/timeline_order.rs), so no
// row jumps when the rest of the list arrives. Vitest runs V8; the window
// runs JavaScriptCore, whose `Date.parse` reads these ISO dates alike.
import { describe, expect, it } from 'vitest';
import type { ProfileView, TokenStatus } from '../src/ipc/api';
import { timelineOrder } from '../src/lib/timeline';
import shared from '../../crates/core/tests/fixtures/timeline-order.json';
import { prodProfile } from './fixtures';

interface Fixture {
  profiles: { name: string; status: TokenStatus; expires_at: string | null }[];
  expected: string[];
}

const fixture = shared as Fixture;

const profiles: ProfileView[] = fixture.profiles.map((p, i) => ({
  ...prodProfile,
  id: i + 1,
  name: p.name,
  status: p.status,
  expires_at: p.expires_at,
  issued_at: null,
  renew_due_at: null,
  renewable: false,
  renewal_failed_at: null,
}));

describe('the timeline’s order, shared with Rust', () => {
  it('sorts the fixture into its expected order', () => {
    expect(profiles).toHaveLength(fixture.expected.length);
    expect(timelineOrder(profiles).map((p) => p.name)).toEqual(fixture.expected);
  });

  it('does not depend on the order the profiles came in', () => {
    expect(timelineOrder([...profiles].reverse()).map((p) => p.name)).toEqual(fixture.expected);
  });
});
