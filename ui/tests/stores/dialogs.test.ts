import { describe, expect, it, vi } from 'vitest';
import { createStores } from '../../src/stores/context';
import type { Confirmation } from '../../src/stores/dialogs.svelte';
import { avassa, edgeProfile, ghProfile, github, quayOAuthProfile } from '../fixtures';
import { stubApi } from '../harness';

vi.mock('../../src/ipc/api', () => import('../apiMock'));

async function loaded() {
  const api = stubApi({ servers: [avassa, github], profiles: [edgeProfile, ghProfile] });
  const stores = createStores();
  await stores.profiles.reload();
  return { api, ...stores };
}

const confirmation = (open: unknown) => open as Confirmation;

describe('the dialogs store', () => {
  it('opens one dialog at a time', async () => {
    const { dialogs } = await loaded();
    dialogs.addServer();
    expect(dialogs.open).toEqual({ kind: 'server', server: null });
    dialogs.editProfile(ghProfile);
    expect(dialogs.open).toEqual({ kind: 'profile', profile: ghProfile });
    dialogs.close();
    expect(dialogs.open).toBeNull();
  });

  it('saving closes the dialog and reloads the lists', async () => {
    const { dialogs, api } = await loaded();
    dialogs.settings();
    const before = api.listServers.mock.calls.length;
    dialogs.saved();
    expect(dialogs.open).toBeNull();
    expect(api.listServers.mock.calls.length).toBe(before + 1);
  });

  it('a removal asks first, and removes by name with the cascade the user chose', async () => {
    const { dialogs, api } = await loaded();
    dialogs.confirmRemoveServer(avassa);
    const open = confirmation(dialogs.open);
    expect(open.question).toBe('Remove server edge (https://api.edge.example.com)?');
    expect(api.removeServer).not.toHaveBeenCalled();
    await open.remove(true);
    expect(api.removeServer).toHaveBeenCalledWith('edge', true);

    dialogs.confirmRemoveTenant(avassa, avassa.tenants[0]);
    await confirmation(dialogs.open).remove(false);
    expect(api.removeTenant).toHaveBeenCalledWith('edge', 'acme', false);

    dialogs.confirmRemoveProfile(edgeProfile);
    await confirmation(dialogs.open).remove(false);
    expect(api.removeProfile).toHaveBeenCalledWith('edge-alice');
  });

  it('logging out names the tenant and what else it ends, and notes what Rust did', async () => {
    const { dialogs, notices, profiles, api } = await loaded();
    dialogs.confirmLogout(edgeProfile);
    const open = confirmation(dialogs.open);
    expect(open.title).toBe('Log out of edge-alice');
    expect(open.question).toMatch(/^Forget the tokens of edge-alice \(tenant acme\)\?/);
    expect(open.confirmLabel).toBe('Log out');
    await open.remove(false);
    expect(api.logout).toHaveBeenCalledWith(7);
    expect(notices.loggedOut).toMatchObject({ profileId: 7, tone: 'info' });

    const warning = 'This also signs you out of Quay in the browser.';
    profiles.catalog = {
      ...profiles.catalog!,
      logins: profiles.catalog!.logins.map((spec) =>
        spec.login === 'quay-direct-oauth' ? { ...spec, logout_warning: warning } : spec,
      ),
    };
    dialogs.confirmLogout(quayOAuthProfile);
    expect(confirmation(dialogs.open).question).toMatch(new RegExp(`${warning}$`));
  });
});
