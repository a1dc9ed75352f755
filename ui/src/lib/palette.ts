// The command palette's entries: what can be done with each profile (log in,
// copy its token, `Bearer …` or a curl line, renew, inspect, sign, open), and
// what the window can do (search, add, settings, switch view, help), matched
// against what the user typed. Over 10,000 profiles it stops at `limit`
// entries, so a keystroke costs a bounded amount.

import type { LoginPrompt, ProfileView } from '../ipc/api';
import { profileWithTenant } from './names';

export type ProfileAction =
  'open' | 'login' | 'copy-token' | 'copy-bearer' | 'copy-curl' | 'renew' | 'inspect' | 'sign';

export type WindowCommand =
  | 'search'
  | 'add-profile'
  | 'add-server'
  | 'settings'
  | 'inspector'
  | 'show-timeline'
  | 'show-list'
  | 'help';

export type PaletteEntry =
  | { kind: 'profile'; action: ProfileAction; profile: ProfileView; label: string }
  | { kind: 'window'; command: WindowCommand; label: string };

const actionLabels: Record<ProfileAction, string> = {
  login: 'Log in',
  'copy-token': 'Copy token',
  'copy-bearer': 'Copy “Bearer …”',
  'copy-curl': 'Copy curl command',
  renew: 'Renew now',
  inspect: 'Inspect token',
  sign: 'Sign a request',
  open: 'Open',
};

const windowCommands: { command: WindowCommand; label: string }[] = [
  { command: 'search', label: 'Search profiles' },
  { command: 'add-profile', label: 'Add a profile' },
  { command: 'add-server', label: 'Add a server' },
  { command: 'inspector', label: 'Inspect a pasted token' },
  { command: 'show-timeline', label: 'Show the timeline' },
  { command: 'show-list', label: 'Show the list' },
  { command: 'settings', label: 'Settings' },
  { command: 'help', label: 'Keyboard shortcuts' },
];

/** What can be done with `profile` now, in the palette's order. */
export function actionsFor(profile: ProfileView, prompt: LoginPrompt): ProfileAction[] {
  const actions: ProfileAction[] = [];
  const signs = prompt === 'sign';
  if (prompt !== 'unavailable' && !signs) actions.push('login');
  const hasToken = profile.status !== 'none' && profile.status !== 'expired';
  if (hasToken && !signs) actions.push('copy-token', 'copy-bearer', 'copy-curl');
  if (profile.renewable && profile.status !== 'none') actions.push('renew');
  if (profile.status !== 'none' && !signs) actions.push('inspect');
  if (signs) actions.push('sign');
  actions.push('open');
  return actions;
}

const words = (query: string) =>
  query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');

const matchesAll = (text: string, terms: string[]) => {
  const lower = text.toLowerCase();
  return terms.every((t) => lower.includes(t));
};

/**
 * The entries for `query`: the actions of the profile the user is on
 * (`currentId`) first, then the window's commands, then the other profiles'
 * actions in their order; every typed word must appear in an entry (its
 * label, or the profile's name, tenant or server).
 */
export function paletteEntries(
  profiles: readonly ProfileView[],
  promptOf: (profile: ProfileView) => LoginPrompt,
  query: string,
  currentId: number | null,
  limit = 50,
): PaletteEntry[] {
  const terms = words(query);
  const entries: PaletteEntry[] = [];
  const addProfile = (profile: ProfileView) => {
    const who = profileWithTenant(profile.name, profile.tenant);
    const about = `${who} ${profile.server}`;
    for (const action of actionsFor(profile, promptOf(profile))) {
      if (entries.length >= limit) return;
      const label = `${actionLabels[action]}: ${who}`;
      if (matchesAll(`${label} ${about}`, terms))
        entries.push({ kind: 'profile', action, profile, label });
    }
  };
  const current = currentId === null ? undefined : profiles.find((p) => p.id === currentId);
  if (current) addProfile(current);
  for (const { command, label } of windowCommands) {
    if (entries.length >= limit) break;
    if (matchesAll(label, terms)) entries.push({ kind: 'window', command, label });
  }
  // Without a word typed, only the current profile's actions: not 70,000 lines.
  if (terms.length === 0) return entries;
  for (const profile of profiles) {
    if (entries.length >= limit) break;
    if (profile !== current) addProfile(profile);
  }
  return entries;
}
