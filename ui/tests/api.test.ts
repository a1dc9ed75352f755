// The wrapper against the real generated bindings and Tauri's own IPC mock:
// what crosses, under which names, and how failures come out.

import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import * as api from '../src/ipc/api';
import { CommandError } from '../src/ipc/error';
import { catalog } from './fixtures';

afterEach(() => clearMocks());

describe('ipc wrapper', () => {
  it('sends commands under their Rust names and arguments, and returns the data', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    await api.removeServer('edge', true);
    await api.updateServer(3, { name: 'a', kind: 'github', url: 'https://x', ca_pem: null });
    expect(calls).toEqual([
      ['remove_server', { name: 'edge', cascade: true }],
      [
        'update_server',
        { id: 3, input: { name: 'a', kind: 'github', url: 'https://x', ca_pem: null } },
      ],
    ]);
  });

  it('signs and copies DCI requests under their Rust names, and returns the logout report', async () => {
    const calls: [string, unknown][] = [];
    const report = { message: 'Logged out p.', end_session_url: null };
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === 'logout' ? report : null;
    });
    await api.signPreview(13, 'POST', '/api/v1/jobs', '{}');
    await api.copySignedRequest(13, 'GET', '/api/v1/identity', '', 'headers');
    expect(await api.logout(13)).toEqual(report);
    expect(calls).toEqual([
      ['sign_preview', { profileId: 13, method: 'POST', url: '/api/v1/jobs', body: '{}' }],
      [
        'copy_signed_request',
        { profileId: 13, method: 'GET', url: '/api/v1/identity', body: '', form: 'headers' },
      ],
      ['logout', { profileId: 13 }],
    ]);
  });

  it('returns infallible commands’ values as they are', async () => {
    mockIPC((cmd) => (cmd === 'catalog' ? catalog : []));
    expect(await api.catalog()).toEqual(catalog);
    expect(await api.redirectOutcomes()).toEqual([]);
  });

  it('throws the shell’s error with its code and field', async () => {
    mockIPC(() => {
      throw { code: 'invalid', field: 'url', message: 'enter a full URL' };
    });
    const err = await api
      .addServer({ name: 'a', kind: 'x', url: 'y', ca_pem: null })
      .catch((e) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err).toMatchObject({ code: 'invalid', field: 'url', message: 'enter a full URL' });
  });

  it('turns Tauri’s own string rejections into internal errors', async () => {
    mockIPC(() => {
      throw 'invalid args `id` for command `update_profile`';
    });
    const err = await api.listProfiles().catch((e) => e);
    expect(err).toMatchObject({
      code: 'internal',
      field: null,
      message: 'invalid args `id` for command `update_profile`',
    });
  });

  it('hands event payloads to listeners', async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const seen: unknown[] = [];
    await api.onRedirectOutcome((o) => seen.push(o));
    await api.onFocusProfile((f) => seen.push(f));
    await emit('redirect-outcome', { accepted: false, profile: null, message: 'refused' });
    await emit('focus-profile', { id: 7 });
    expect(seen).toEqual([{ accepted: false, profile: null, message: 'refused' }, { id: 7 }]);
  });
});
