import { describe, expect, it, vi } from 'vitest';
import { createStores } from '../../src/stores/context';
import { fail, stubApi } from '../harness';

vi.mock('../../src/ipc/api', () => import('../apiMock'));

describe('the sandbox store', () => {
  it('knows whether this build has a sandbox; an unanswered question means no', async () => {
    const api = stubApi({ sandbox: { available: true, url: null } });
    const { sandbox } = createStores();
    expect(sandbox.available).toBe(false);
    await sandbox.load();
    expect(sandbox.available).toBe(true);
    api.sandboxStatus.mockRejectedValueOnce(fail({ code: 'internal', field: null, message: 'x' }));
    await sandbox.load();
    expect(sandbox.available).toBe(false);
  });

  it('starting it keeps what was seeded, where it runs, and reloads the lists', async () => {
    const api = stubApi({ sandbox: { available: true, url: null } });
    const { sandbox } = createStores();
    api.startSandbox.mockResolvedValueOnce({ url: 'http://127.0.0.1:9', seeded: ['server s'] });
    const loads = api.listProfiles.mock.calls.length;
    await sandbox.start();
    expect(sandbox.status).toEqual({ available: true, url: 'http://127.0.0.1:9' });
    expect(sandbox.started?.seeded).toEqual(['server s']);
    expect(api.listProfiles.mock.calls.length).toBe(loads + 1);
    expect(sandbox.starting).toBe(false);
    sandbox.dismiss();
    expect(sandbox.started).toBeNull();
  });

  it('a failed start says why and can be tried again', async () => {
    const api = stubApi({ sandbox: { available: true, url: null } });
    const { sandbox } = createStores();
    api.startSandbox.mockRejectedValueOnce(
      fail({ code: 'internal', field: null, message: 'port taken' }),
    );
    await sandbox.start();
    expect(sandbox.error).toBe('port taken');
    expect(sandbox.starting).toBe(false);
    await sandbox.start();
    expect(sandbox.error).toBeNull();
  });
});
