import { describe, expect, it } from 'vitest';
import type { ProfileView } from '../src/ipc/api';
import { listRows, parseQuery, searchProfiles } from '../src/lib/search';
import { dciProfile, edgeProfile, ghProfile, prodProfile, quayOAuthProfile } from './fixtures';

const all = [edgeProfile, ghProfile, prodProfile, dciProfile, quayOAuthProfile];
const names = (profiles: ProfileView[]) => profiles.map((p) => p.name);

/** `count` profiles over `servers` servers, as a heavy user's store. */
function many(count: number, servers = 15): ProfileView[] {
  return Array.from({ length: count }, (_, i) => ({
    ...edgeProfile,
    id: i + 1,
    name: `profile-${String(i).padStart(5, '0')}`,
    server: `edge-${String(i % servers).padStart(2, '0')}`,
    tenant: `team-${i % 5}`,
  }));
}

describe('the search query', () => {
  it('splits into terms, each in any field or in the one its prefix names', () => {
    expect(parseQuery('  Prod   status:Expired kind:quay ')).toEqual([
      { field: null, text: 'prod' },
      { field: 'status', text: 'expired' },
      { field: 'kind', text: 'quay' },
    ]);
    expect(parseQuery('login:avassa tenant:acme server:edge name:x')).toEqual([
      { field: 'kind', text: 'avassa' },
      { field: 'tenant', text: 'acme' },
      { field: 'server', text: 'edge' },
      { field: 'name', text: 'x' },
    ]);
  });

  it('takes an unknown prefix as plain text, and drops an empty one', () => {
    expect(parseQuery('https://x status:')).toEqual([{ field: null, text: 'https://x' }]);
  });
});

describe('searching profiles', () => {
  it('an empty query finds every profile, in order', () => {
    expect(searchProfiles(all, '  ')).toEqual(all);
  });

  it('finds by name, server, tenant, kind and status, ignoring case', () => {
    expect(names(searchProfiles(all, 'GH-'))).toEqual(['gh-work']);
    expect(names(searchProfiles(all, 'server:edge'))).toEqual(['edge-alice', 'prod']);
    expect(names(searchProfiles(all, 'tenant:acme'))).toEqual(['edge-alice', 'prod']);
    // The kind by its code or by the name the window shows for it.
    expect(names(searchProfiles(all, 'kind:quay-direct'))).toEqual(['alice-oauth']);
    expect(names(searchProfiles(all, 'kind:signed'))).toEqual([dciProfile.name]);
    // The status by its code or its label.
    expect(names(searchProfiles(all, 'status:not'))).toEqual(
      names(all.filter((p) => p.status === 'none')),
    );
    expect(names(searchProfiles(all, 'status:valid'))).toContain('prod');
  });

  it('every term must match', () => {
    expect(names(searchProfiles(all, 'acme prod'))).toEqual(['prod']);
    expect(names(searchProfiles(all, 'acme nothing-like-this'))).toEqual([]);
  });

  it('a prefixed term looks in its field only', () => {
    // "edge" is edge-alice's name and the server of both; as a name only one has it.
    expect(names(searchProfiles(all, 'name:edge'))).toEqual(['edge-alice']);
  });

  it('finds a profile deep in 10,000', () => {
    const profiles = many(10_000);
    expect(names(searchProfiles(profiles, 'profile-09876'))).toEqual(['profile-09876']);
    expect(searchProfiles(profiles, 'server:edge-03 tenant:team-1')).toHaveLength(
      profiles.filter((p) => p.server === 'edge-03' && p.tenant === 'team-1').length,
    );
  });
});

describe('the rows of the list', () => {
  it('are the profiles as they are without grouping', () => {
    expect(listRows([ghProfile, edgeProfile], false)).toEqual([
      { kind: 'profile', profile: ghProfile },
      { kind: 'profile', profile: edgeProfile },
    ]);
  });

  it('grouped: a heading per server by name, with its count, profiles in their order', () => {
    const rows = listRows([ghProfile, prodProfile, edgeProfile], true);
    expect(
      rows.map((r) => (r.kind === 'server' ? `# ${r.server} ${r.count}` : r.profile.name)),
    ).toEqual(['# edge 2', 'prod', 'edge-alice', '# gh 1', 'gh-work']);
  });

  it('a collapsed server keeps its heading and hides its profiles', () => {
    const rows = listRows([ghProfile, prodProfile, edgeProfile], true, new Set(['edge']));
    expect(rows).toEqual([
      { kind: 'server', server: 'edge', count: 2, collapsed: true },
      { kind: 'server', server: 'gh', count: 1, collapsed: false },
      { kind: 'profile', profile: ghProfile },
    ]);
  });
});
