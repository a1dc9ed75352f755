import { describe, expect, it } from 'vitest';
import { NoticesStore } from '../../src/stores/notices.svelte';

const NOW = Date.parse('2030-01-01T12:00:00Z');

const reminder = (profileId: number, minutes: number) => ({
  type: 'reminder' as const,
  profile_id: profileId,
  profile: `p${profileId}`,
  tenant: null,
  expires_at: new Date(NOW + minutes * 60_000).toISOString(),
  minutes_before: Math.max(minutes, 0),
  expired: minutes <= 0,
});

describe('the notices store', () => {
  it('keeps one lifecycle notice per profile: the newest says where it stands', () => {
    const notices = new NoticesStore();
    notices.announce(reminder(7, 60), null, NOW);
    notices.announce(reminder(8, 60), null, NOW);
    notices.announce(reminder(7, 0), null, NOW);
    expect(notices.lifecycle.map((n) => [n.profileId, n.tone])).toEqual([
      [8, 'warning'],
      [7, 'error'],
    ]);
    expect(notices.noticeFor(7)?.text).toMatch(/p7 has expired/);
    expect(notices.noticeFor(9)).toBeNull();
  });

  it('announces nothing for a successful renewal, and a failure once in a row', () => {
    const notices = new NoticesStore();
    notices.announce(
      { type: 'renewed', profile_id: 7, profile: 'p7', expires_at: null },
      null,
      NOW,
    );
    const failed = {
      type: 'renewal-failed' as const,
      profile_id: 7,
      profile: 'p7',
      message: 'server sealed',
      retrying: true,
      cause: 'refused' as const,
      first: false,
    };
    notices.announce(failed, 'acme', NOW);
    expect(notices.lifecycle).toEqual([]);
    notices.announce({ ...failed, first: true }, 'acme', NOW);
    expect(notices.lifecycle[0].text).toBe(
      'Renewing p7 (tenant acme) failed: server sealed (Latchkey tries again by itself)',
    );
    expect(notices.lifecycle[0].offersLogin).toBe(false);
  });

  it('a login answers the notice of its profile only; a dismissal removes just that one', () => {
    const notices = new NoticesStore();
    notices.announce(reminder(7, 60), null, NOW);
    notices.announce(reminder(8, 60), null, NOW);
    notices.answered(7);
    expect(notices.lifecycle.map((n) => n.profileId)).toEqual([8]);
    notices.dismiss(notices.lifecycle[0]);
    expect(notices.lifecycle).toEqual([]);
  });

  it('the outcome of an event wins over the ones recalled at start-up', () => {
    const notices = new NoticesStore();
    notices.showOutcome({ accepted: true, profile: 'gh', message: 'logged in as gh' });
    notices.recallOutcomes([{ accepted: false, profile: null, message: 'older' }]);
    expect(notices.outcome?.message).toBe('logged in as gh');
    notices.dismissOutcome();
    notices.recallOutcomes([
      { accepted: true, profile: null, message: 'first' },
      { accepted: false, profile: null, message: 'newest' },
    ]);
    expect(notices.outcome?.message).toBe('newest');
  });

  it('a logout note goes when the same profile logs in again, not another', () => {
    const notices = new NoticesStore();
    notices.loggedOutOf(7, { message: 'only forgotten', revoked: false, end_session_url: null });
    expect(notices.loggedOut).toEqual({ profileId: 7, tone: 'warning', text: 'only forgotten' });
    notices.loggingIn(8);
    expect(notices.loggedOut).not.toBeNull();
    notices.loggingIn(7);
    expect(notices.loggedOut).toBeNull();
  });

  it('each copy gets a receipt of its own, so the same copy twice restarts its countdown', () => {
    const notices = new NoticesStore();
    const receipt = { profile: 'p', tenant: null, what: 'token', clear_after_seconds: 30 };
    notices.copied(receipt);
    const first = notices.receipt?.id;
    notices.copied(receipt);
    expect(notices.receipt?.id).not.toBe(first);
    notices.receiptDone();
    expect(notices.receipt).toBeNull();
  });
});

describe('the keyring verdict', () => {
  const info = {
    version: '0.1.0',
    data_dir: '/d',
    keyring_service: 'latchkey',
    keyring_problem: null,
    keyring: { state: 'ok' as const, message: null },
  };

  it('shows a problem for locked, absent and broken; none for ok and checking', () => {
    const notices = new NoticesStore();
    expect(notices.keyringProblem).toBeNull();
    notices.keyringFromInfo({ ...info, keyring: { state: 'checking', message: null } });
    expect(notices.keyringProblem).toBeNull();
    for (const state of ['locked', 'absent', 'broken'] as const) {
      notices.keyringChanged({ state, message: `${state}!` });
      expect(notices.keyringProblem).toEqual({ state, message: `${state}!` });
    }
    notices.keyringChanged({ state: 'ok', message: null });
    expect(notices.keyringProblem).toBeNull();
  });

  it('an older shell’s problem text alone still shows, as a failure', () => {
    const notices = new NoticesStore();
    notices.keyringFromInfo({ ...info, keyring_problem: 'no Secret Service' });
    expect(notices.keyringProblem).toEqual({ state: 'broken', message: 'no Secret Service' });
  });
});
