import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { ProfileView, ServerView } from '../src/ipc/api';
import { avassa, edgeProfile, ghProfile, github, prodProfile } from './fixtures';
import { emit, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

const rowNames = () =>
  screen.queryAllByTestId('profile-item').map((row) => row.getAttribute('data-profile'));

/** `count` profiles over 15 servers, as a heavy user's store. */
function many(count: number): { servers: ServerView[]; profiles: ProfileView[] } {
  const servers = Array.from({ length: 15 }, (_, s) => ({
    ...avassa,
    id: s + 1,
    name: `edge-${String(s).padStart(2, '0')}`,
  }));
  const profiles = Array.from({ length: count }, (_, i) => ({
    ...edgeProfile,
    id: i + 1,
    name: `profile-${String(i).padStart(5, '0')}`,
    server: servers[i % 15].name,
    tenant: `team-${i % 5}`,
  }));
  return { servers, profiles };
}

describe('searching the profile list', () => {
  it('finds by name, server, tenant, kind and status, and says how many of how many', async () => {
    renderApp({ servers: [avassa, github], profiles: [edgeProfile, ghProfile, prodProfile] });
    const user = userEvent.setup();
    await screen.findAllByTestId('profile-item');
    const search = screen.getByRole('searchbox', { name: 'Search profiles' });
    expect(screen.getByTestId('profile-count')).toHaveTextContent('3 profiles');

    await user.type(search, 'tenant:acme');
    expect(rowNames()).toEqual(['edge-alice', 'prod']);
    expect(screen.getByTestId('profile-count')).toHaveTextContent('2 of 3');

    await user.clear(search);
    await user.type(search, 'status:valid kind:github');
    expect(rowNames()).toEqual(['gh-work']);

    await user.clear(search);
    await user.type(search, 'nothing-like-this');
    expect(rowNames()).toEqual([]);
    expect(screen.getByTestId('no-profiles')).toHaveTextContent(
      'No profile matches the search (3 profiles in all).',
    );
  });

  it('a profile the tray points at shows even when the search hides it', async () => {
    renderApp({ servers: [avassa, github], profiles: [edgeProfile, ghProfile] });
    const user = userEvent.setup();
    await screen.findAllByTestId('profile-item');
    await user.type(screen.getByRole('searchbox', { name: 'Search profiles' }), 'gh-');
    expect(rowNames()).toEqual(['gh-work']);
    emit.focusProfile({ id: 7, login: false });
    await waitFor(() => expect(rowNames()).toEqual(['edge-alice', 'gh-work']));
    expect(screen.getByRole('searchbox', { name: 'Search profiles' })).toHaveValue('');
  });
});

describe('grouping by server', () => {
  it('puts a heading per server over its profiles, which folds them away', async () => {
    renderApp({ servers: [avassa, github], profiles: [ghProfile, edgeProfile, prodProfile] });
    const user = userEvent.setup();
    await screen.findAllByTestId('profile-item');
    expect(screen.queryAllByTestId('profile-group')).toEqual([]);
    const group = screen.getByRole('button', { name: 'Group by server' });
    await user.click(group);
    expect(group).toHaveAttribute('aria-pressed', 'true');
    const headings = screen.getAllByTestId('profile-group');
    expect(headings.map((h) => h.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'edge (2 profiles)',
      'gh (1 profile)',
    ]);
    expect(rowNames()).toEqual(['edge-alice', 'prod', 'gh-work']);

    const edge = within(headings[0]).getByRole('button', { name: /edge/ });
    expect(edge).toHaveAttribute('aria-expanded', 'true');
    await user.click(edge);
    expect(edge).toHaveAttribute('aria-expanded', 'false');
    expect(rowNames()).toEqual(['gh-work']);
    await user.click(edge);
    expect(rowNames()).toEqual(['edge-alice', 'prod', 'gh-work']);
  });
});

describe('10,000 profiles', () => {
  it('draw the first screen from a screenful of them, with the count of all, then load them all', async () => {
    const world = many(10_000);
    const { api } = renderApp(world);
    let answer!: (all: ProfileView[]) => void;
    api.listProfiles.mockReturnValue(new Promise((resolve) => (answer = resolve)));
    const first = await screen.findAllByTestId('timeline-row');
    expect(api.firstProfiles).toHaveBeenCalledTimes(1);
    expect(first[0]).toHaveAttribute('data-profile', 'profile-00000');
    expect(screen.getByTestId('profile-count')).toHaveTextContent('10,000 profiles');
    // Until every profile has come, the window does not call itself ready.
    expect(screen.getByTestId('app-loading')).toBeInTheDocument();
    await waitFor(() => expect(api.listProfiles).toHaveBeenCalledTimes(1));
    answer(world.profiles);
    await screen.findByTestId('app-ready');
    expect(screen.getByTestId('profile-count')).toHaveTextContent('10,000 profiles');
    const user = userEvent.setup();
    await user.type(screen.getByRole('searchbox', { name: 'Search profiles' }), 'profile-09876');
    await waitFor(() =>
      expect(
        screen.getAllByTestId('timeline-row').map((r) => r.getAttribute('data-profile')),
      ).toEqual(['profile-09876']),
    );
    expect(api.listProfiles).toHaveBeenCalledTimes(1);
  });

  it('open on the timeline, which puts only a screenful of rows in the page', async () => {
    renderApp(many(10_000));
    const rows = await screen.findAllByTestId('timeline-row');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(100);
    expect(screen.getByRole('radio', { name: 'Timeline' })).toBeChecked();
  });

  it('in the list put only a screenful of rows in the page, and search still finds one deep in it', async () => {
    renderApp(many(10_000));
    const user = userEvent.setup();
    await user.click(await screen.findByRole('radio', { name: 'List' }));
    await screen.findAllByTestId('profile-item');
    const rendered = screen.getAllByTestId('profile-item').length;
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThanOrEqual(100);
    // The table tells assistive technology how many rows there are in all.
    expect(screen.getByTestId('profile-list')).toHaveAttribute('aria-rowcount', '10001');
    expect(screen.getByTestId('profile-count')).toHaveTextContent('10,000 profiles');
    await user.type(screen.getByRole('searchbox', { name: 'Search profiles' }), 'profile-09876');
    expect(rowNames()).toEqual(['profile-09876']);
  });
});
