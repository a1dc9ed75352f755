import { describe, expect, it, vi } from 'vitest';
import { connect, createStores } from '../../src/stores/context';
import { avassa, edgeProfile } from '../fixtures';
import { emit, stubApi } from '../harness';

vi.mock('../../src/ipc/api', () => import('../apiMock'));

describe('connecting the stores to Rust', () => {
  it('loads once, recalls the last redirect outcome, and listens to every event', async () => {
    const api = stubApi({
      servers: [avassa],
      profiles: [edgeProfile],
      outcomes: [{ accepted: true, profile: null, message: 'cold start outcome' }],
    });
    const stores = createStores();
    const { ready, disconnect } = connect(stores);
    await ready;
    expect(stores.profiles.loaded).toBe(true);
    expect(stores.notices.outcome?.message).toBe('cold start outcome');

    emit.lifecycle({
      type: 'reminder',
      profile_id: 7,
      profile: 'edge-alice',
      tenant: 'acme',
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      minutes_before: 60,
      expired: false,
    });
    expect(stores.notices.noticeFor(7)?.tone).toBe('warning');

    const loads = api.listProfiles.mock.calls.length;
    emit.dataChanged();
    expect(api.listProfiles.mock.calls.length).toBe(loads + 1);

    emit.redirectOutcome({ accepted: false, profile: null, message: 'no login was waiting' });
    expect(stores.notices.outcome?.message).toBe('no login was waiting');

    emit.focusProfile({ id: 7, login: false });
    await vi.waitFor(() => expect(stores.view.highlightId).toBe(7));
    disconnect();
  });
});
