// Finding profiles: the search box's query, matched against each profile's
// name, server, tenant, login kind and status, and the rows of the list with
// or without a heading per server. Pure functions over the list Rust sent,
// fast enough to run on every keystroke over 10,000 profiles (each profile's
// searchable text is lower-cased once per list, not once per keystroke).

import type { ProfileView } from '../ipc/api';
import { loginName, serverKindName } from './names';

/** What a `field:` prefix restricts a search term to. */
export type SearchField = 'name' | 'server' | 'tenant' | 'kind' | 'status';

const fieldNames: Record<string, SearchField> = {
  name: 'name',
  server: 'server',
  tenant: 'tenant',
  kind: 'kind',
  login: 'kind',
  status: 'status',
};

export interface SearchTerm {
  /** Null: any field. */
  field: SearchField | null;
  /** Lower-cased. */
  text: string;
}

/**
 * "prod status:expired" is two terms, both of which must match: `prod` in any
 * field, `expired` in the status. An unknown prefix ("foo:bar") is plain text.
 */
export function parseQuery(query: string): SearchTerm[] {
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '')
    .map((word) => {
      const colon = word.indexOf(':');
      const field = colon > 0 ? fieldNames[word.slice(0, colon)] : undefined;
      if (field === undefined) return { field: null, text: word };
      return { field, text: word.slice(colon + 1) };
    })
    .filter((term) => term.text !== '');
}

type Haystack = Record<SearchField, string>;

function haystackOf(p: ProfileView): Haystack {
  return {
    name: p.name.toLowerCase(),
    server: p.server.toLowerCase(),
    tenant: (p.tenant ?? '').toLowerCase(),
    kind: [p.login, loginName(p.login), p.server_kind, serverKindName(p.server_kind)]
      .join('\n')
      .toLowerCase(),
    // "status:failed" and "status:renewal failed" alike; a waiting login is "waiting".
    status: [p.status, p.status_label, p.waiting ? 'waiting' : ''].join('\n').toLowerCase(),
  };
}

const fields: SearchField[] = ['name', 'server', 'tenant', 'kind', 'status'];

// One index per list Rust sent: the list is replaced, never changed, on reload.
const indexes = new WeakMap<readonly ProfileView[], Haystack[]>();

function indexOf(profiles: readonly ProfileView[]): Haystack[] {
  let index = indexes.get(profiles);
  if (!index) {
    index = profiles.map(haystackOf);
    indexes.set(profiles, index);
  }
  return index;
}

function matches(hay: Haystack, terms: SearchTerm[]): boolean {
  return terms.every((term) =>
    term.field === null
      ? fields.some((f) => hay[f].includes(term.text))
      : hay[term.field].includes(term.text),
  );
}

/** The profiles the query finds, in their order; all of them for an empty query. */
export function searchProfiles(profiles: readonly ProfileView[], query: string): ProfileView[] {
  const terms = parseQuery(query);
  if (terms.length === 0) return profiles as ProfileView[];
  const index = indexOf(profiles);
  const found: ProfileView[] = [];
  for (let i = 0; i < profiles.length; i++) if (matches(index[i], terms)) found.push(profiles[i]);
  return found;
}

/** A line of the profile list: a server's heading, or a profile. */
export type ListRow =
  | { kind: 'server'; server: string; count: number; collapsed: boolean }
  | { kind: 'profile'; profile: ProfileView };

/**
 * The list's rows: the profiles as they are, or grouped under a heading per
 * server (servers by name, profiles in their order), with the profiles of a
 * collapsed server left out.
 */
export function listRows(
  profiles: readonly ProfileView[],
  groupByServer: boolean,
  collapsed: ReadonlySet<string> = new Set(),
): ListRow[] {
  if (!groupByServer) return profiles.map((profile) => ({ kind: 'profile', profile }));
  const groups = new Map<string, ProfileView[]>();
  for (const profile of profiles) {
    const group = groups.get(profile.server);
    if (group) group.push(profile);
    else groups.set(profile.server, [profile]);
  }
  const rows: ListRow[] = [];
  for (const server of [...groups.keys()].sort((a, b) => a.localeCompare(b))) {
    const group = groups.get(server)!;
    const isCollapsed = collapsed.has(server);
    rows.push({ kind: 'server', server, count: group.length, collapsed: isCollapsed });
    if (!isCollapsed) for (const profile of group) rows.push({ kind: 'profile', profile });
  }
  return rows;
}
