import { describe, expect, it } from 'vitest';
import type { LoginPrompt, ProfileView } from '../src/ipc/api';
import { actionsFor, paletteEntries } from '../src/lib/palette';
import { dciProfile, edgeProfile, ghProfile, prodProfile } from './fixtures';

const prompts: Record<string, LoginPrompt> = {
  'avassa-password': 'password',
  'dci-hmac': 'sign',
  github: 'browser',
};
const promptOf = (p: ProfileView) => prompts[p.login] ?? 'unavailable';
const labels = (entries: ReturnType<typeof paletteEntries>) => entries.map((e) => e.label);

describe('what the palette offers for a profile', () => {
  it('a logged-in renewable profile: log in again, copy three ways, renew, inspect, open', () => {
    expect(actionsFor(prodProfile, 'password')).toEqual([
      'login',
      'copy-token',
      'copy-bearer',
      'copy-curl',
      'renew',
      'inspect',
      'open',
    ]);
  });

  it('before a login: log in and open only', () => {
    expect(actionsFor(edgeProfile, 'password')).toEqual(['login', 'open']);
  });

  it('an expired token is not copied; a DCI key signs instead', () => {
    expect(actionsFor({ ...ghProfile, status: 'expired' }, 'browser')).toEqual([
      'login',
      'inspect',
      'open',
    ]);
    expect(actionsFor(dciProfile, 'sign')).toEqual(['sign', 'open']);
  });
});

describe('the palette’s entries', () => {
  const all = [edgeProfile, ghProfile, prodProfile, dciProfile];

  it('without a word typed: the current profile’s actions, then the window’s commands', () => {
    const entries = paletteEntries(all, promptOf, '', prodProfile.id);
    expect(labels(entries).slice(0, 3)).toEqual([
      'Log in: prod (tenant acme)',
      'Copy token: prod (tenant acme)',
      'Copy “Bearer …”: prod (tenant acme)',
    ]);
    expect(labels(entries)).toContain('Settings');
    expect(
      entries.filter((e) => e.kind === 'profile').every((e) => e.profile === prodProfile),
    ).toBe(true);
  });

  it('every typed word must match, in the label or the profile’s name, tenant or server', () => {
    expect(labels(paletteEntries(all, promptOf, 'copy gh', null))).toEqual([
      'Copy token: gh-work',
      'Copy “Bearer …”: gh-work',
      'Copy curl command: gh-work',
    ]);
    expect(labels(paletteEntries(all, promptOf, 'renew acme', null))).toEqual([
      'Renew now: prod (tenant acme)',
    ]);
    expect(labels(paletteEntries(all, promptOf, 'sign', null))).toEqual([
      `Sign a request: ${dciProfile.name}`,
    ]);
    expect(labels(paletteEntries(all, promptOf, 'timeline', null))).toEqual(['Show the timeline']);
  });

  it('stops at its limit over many profiles', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      ...prodProfile,
      id: i + 1,
      name: `p-${i}`,
    }));
    const entries = paletteEntries(many, promptOf, 'copy', null, 50);
    expect(entries).toHaveLength(50);
    expect(labels(paletteEntries(many, promptOf, 'renew p-9876', null))).toEqual([
      'Renew now: p-9876 (tenant acme)',
    ]);
  });
});
