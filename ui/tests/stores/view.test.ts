import { describe, expect, it, vi } from 'vitest';
import { createStores } from '../../src/stores/context';
import { avassa, edgeProfile, ghProfile, github } from '../fixtures';
import { stubApi } from '../harness';

vi.mock('../../src/ipc/api', () => import('../apiMock'));

async function loaded() {
  const api = stubApi({ servers: [avassa, github], profiles: [edgeProfile, ghProfile] });
  const stores = createStores();
  await stores.profiles.reload();
  return { api, ...stores };
}

describe('the view store', () => {
  it('a detail panel shows while its profile exists, and rails the servers', async () => {
    const { view, api, profiles } = await loaded();
    expect(view.panelShown).toBe(false);
    view.openDetail(8);
    expect(view.panelShown).toBe(true);
    expect(view.panelProfile?.name).toBe('gh-work');
    expect(view.openId).toBe(8);
    expect(view.isDetailShown(8)).toBe(true);
    expect(view.serversRailed).toBe(true);
    view.serversBesidePanel = true;
    expect(view.serversRailed).toBe(false);
    // The profile is removed elsewhere: its panel goes with it.
    api.listProfiles.mockResolvedValue([edgeProfile]);
    await profiles.reload();
    expect(view.panelShown).toBe(false);
    expect(view.openId).toBeNull();
  });

  it('the inspector on a pasted token needs no profile; on a stored one it is about it', async () => {
    const { view } = await loaded();
    view.openInspector(null);
    expect(view.panelShown).toBe(true);
    expect(view.openId).toBeNull();
    view.openInspector(7, true);
    expect(view.panel).toEqual({ kind: 'inspector', id: 7, serviceAccount: true });
    expect(view.openId).toBe(7);
    expect(view.isDetailShown(7)).toBe(false);
    view.closePanel();
    expect(view.panelShown).toBe(false);
  });

  it('showing a profile it does not know yet reloads first, then highlights and reveals it', async () => {
    const { view, api } = await loaded();
    const newcomer = { ...ghProfile, id: 30, name: 'newcomer' };
    api.listProfiles.mockResolvedValue([edgeProfile, ghProfile, newcomer]);
    await view.showProfile(30);
    expect(view.panelProfile?.name).toBe('newcomer');
    expect(view.highlightId).toBe(30);
    expect(view.reveal).toEqual({ id: 30, seq: 1 });
    await view.showProfile(30);
    expect(view.reveal?.seq).toBe(2);
  });
});
