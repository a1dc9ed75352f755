import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProfileView, ServerView } from '../../src/ipc/api';
import { FIRST_SCREEN_ROWS, ProfilesStore, SLOW_RELOAD_MS } from '../../src/stores/profiles.svelte';
import { avassa, catalog, dciProfile, edgeProfile, ghProfile, github, info } from '../fixtures';
import { fail, stubApi } from '../harness';

vi.mock('../../src/ipc/api', () => import('../apiMock'));

/** A promise the test resolves when it wants. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the profiles store', () => {
  it('starts empty and not loaded', () => {
    stubApi();
    const store = new ProfilesStore();
    expect(store.loaded).toBe(false);
    expect(store.profiles).toEqual([]);
    expect(store.version).toBe(0);
  });

  it('a reload brings catalog, info, servers and profiles together', async () => {
    stubApi({ servers: [avassa, github], profiles: [edgeProfile, ghProfile] });
    const store = new ProfilesStore();
    await store.reload();
    expect(store.loaded).toBe(true);
    expect(store.catalog).toEqual(catalog);
    expect(store.info).toEqual(info);
    expect(store.servers.map((s) => s.name)).toEqual(['edge', 'gh']);
    expect(store.profiles.map((p) => p.name)).toEqual(['edge-alice', 'gh-work']);
    expect(store.profile(8)?.name).toBe('gh-work');
    expect(store.profile(99)).toBeNull();
    expect(store.version).toBe(1);
  });

  it('asks for the catalog once: it is fixed for the app’s lifetime', async () => {
    const api = stubApi();
    const store = new ProfilesStore();
    await store.reload();
    await store.reload();
    expect(api.catalog).toHaveBeenCalledTimes(1);
    expect(api.listProfiles).toHaveBeenCalledTimes(2);
    expect(store.version).toBe(2);
  });

  it('an older reload answering late never overwrites a newer one', async () => {
    const api = stubApi();
    const store = new ProfilesStore();
    const slow = deferred<ProfileView[]>();
    api.listProfiles.mockReturnValueOnce(slow.promise);
    const first = store.reload();
    api.listProfiles.mockResolvedValueOnce([ghProfile]);
    await store.reload();
    expect(store.profiles).toEqual([ghProfile]);
    slow.resolve([edgeProfile]);
    await first;
    expect(store.profiles).toEqual([ghProfile]);
    expect(store.version).toBe(1);
  });

  it('a failed reload keeps what was shown and says why; the next one clears it', async () => {
    const api = stubApi({ servers: [avassa], profiles: [edgeProfile] });
    const store = new ProfilesStore();
    await store.reload();
    api.listServers.mockRejectedValueOnce(
      fail({ code: 'storage', field: null, message: 'cannot open the database' }),
    );
    await store.reload();
    expect(store.loadError).toBe('cannot open the database');
    expect(store.profiles).toEqual([edgeProfile]);
    expect(store.loading).toBe(false);
    await store.reload();
    expect(store.loadError).toBeNull();
  });

  it('says it is refreshing only when a reload takes long enough to notice', async () => {
    vi.useFakeTimers();
    const api = stubApi();
    const store = new ProfilesStore();
    const servers = deferred<ServerView[]>();
    api.listServers.mockReturnValueOnce(servers.promise);
    const done = store.reload();
    expect(store.loading).toBe(true);
    await vi.advanceTimersByTimeAsync(SLOW_RELOAD_MS - 50);
    expect(store.slow).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(store.slow).toBe(true);
    servers.resolve([avassa]);
    await done;
    expect(store.slow).toBe(false);
    expect(store.loading).toBe(false);
  });

  it('knows from the catalog what "Log in" does per kind', async () => {
    stubApi({ servers: [avassa, github], profiles: [edgeProfile, ghProfile, dciProfile] });
    const store = new ProfilesStore();
    expect(store.promptOf(edgeProfile)).toBe('unavailable');
    await store.reload();
    expect(store.promptOf(edgeProfile)).toBe('password');
    expect(store.canLogIn(edgeProfile)).toBe(true);
    // DCI signs requests: nothing to log in to.
    expect(store.promptOf(dciProfile)).toBe('sign');
    expect(store.canLogIn(dciProfile)).toBe(false);
  });

  it('starts with the first screen’s profiles when there are more, and completes the list once', async () => {
    const many = Array.from({ length: FIRST_SCREEN_ROWS + 40 }, (_, i) => ({
      ...edgeProfile,
      id: 1000 + i,
      name: `p-${String(i).padStart(3, '0')}`,
    }));
    const api = stubApi({ servers: [avassa], profiles: many });
    const store = new ProfilesStore();
    await store.loadFirstScreen();
    expect(api.firstProfiles).toHaveBeenCalledWith(FIRST_SCREEN_ROWS);
    expect(api.listProfiles).not.toHaveBeenCalled();
    expect(store.loaded).toBe(true);
    expect(store.partial).toBe(true);
    expect(store.profiles).toHaveLength(FIRST_SCREEN_ROWS);
    expect(store.total).toBe(many.length);
    // Two asks while it is on its way fetch the list once.
    await Promise.all([store.completeList(), store.completeList()]);
    expect(api.listProfiles).toHaveBeenCalledTimes(1);
    expect(store.partial).toBe(false);
    expect(store.profiles).toEqual(many);
    expect(store.total).toBe(many.length);
    await store.completeList();
    expect(api.listProfiles).toHaveBeenCalledTimes(1);
  });

  it('a first screen that holds every profile is the whole list: nothing more is fetched', async () => {
    const api = stubApi({ servers: [avassa, github], profiles: [edgeProfile, ghProfile] });
    const store = new ProfilesStore();
    await store.loadFirstScreen();
    expect(store.partial).toBe(false);
    expect(store.total).toBe(2);
    expect(store.profiles).toEqual([edgeProfile, ghProfile]);
    await store.completeList();
    expect(api.listProfiles).not.toHaveBeenCalled();
  });

  it('a first screen answering after a reload never overwrites the whole list', async () => {
    const api = stubApi({ servers: [avassa], profiles: [edgeProfile, ghProfile] });
    const store = new ProfilesStore();
    const first = deferred<{ profiles: ProfileView[]; total: number; complete: boolean }>();
    api.firstProfiles.mockReturnValueOnce(first.promise);
    const start = store.loadFirstScreen();
    await store.reload();
    first.resolve({ profiles: [ghProfile], total: 2, complete: false });
    await start;
    expect(store.partial).toBe(false);
    expect(store.profiles).toEqual([edgeProfile, ghProfile]);
  });

  it('counts logins and renewals per profile, so its detail asks the server anew', () => {
    stubApi();
    const store = new ProfilesStore();
    store.bumpRefreshed(7);
    store.bumpRefreshed(7);
    store.bumpRefreshed(8);
    expect(store.refreshed).toEqual({ 7: 2, 8: 1 });
  });
});
