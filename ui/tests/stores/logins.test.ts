import { describe, expect, it, vi } from 'vitest';
import type { LoginStep } from '../../src/ipc/api';
import { createStores } from '../../src/stores/context';
import { loginDoneText } from '../../src/stores/logins.svelte';
import { avassa, edgeProfile, ghProfile, github } from '../fixtures';
import { fail, stubApi } from '../harness';

vi.mock('../../src/ipc/api', () => import('../apiMock'));

const oidcProfile = { ...ghProfile, id: 9, name: 'oidc-dev', login: 'avassa-oidc' as const };

/** Fresh stores over loaded lists. */
async function loaded() {
  const api = stubApi({
    servers: [avassa, github],
    profiles: [edgeProfile, ghProfile, oidcProfile],
  });
  const stores = createStores();
  await stores.profiles.reload();
  return { api, ...stores };
}

const browserStep: LoginStep = {
  step: 'browser',
  profile: 'oidc-dev',
  tenant: null,
  url: 'https://id.example/authorize?state=s',
  redirect_uri: 'latchkey://callback',
};

describe('the logins store', () => {
  it('a password login opens the password dialog, and remembers where focus was', async () => {
    const { logins, api } = await loaded();
    const button = document.createElement('button');
    document.body.append(button);
    button.focus();
    logins.start(edgeProfile);
    expect(logins.dialog).toEqual({ kind: 'login', profile: edgeProfile });
    expect(logins.opener).toBe(button);
    expect(api.login).not.toHaveBeenCalled();
    button.remove();
  });

  it('a browser login runs without a dialog and then waits in a note', async () => {
    const { logins, api } = await loaded();
    api.login.mockResolvedValueOnce(browserStep);
    logins.start(oidcProfile);
    expect(logins.loggingIn).toBe(9);
    await vi.waitFor(() => expect(logins.loggingIn).toBeNull());
    expect(api.login).toHaveBeenCalledWith(9, null, false);
    expect(logins.note).toMatchObject({ kind: 'browser', profileId: 9, profile: 'oidc-dev' });
  });

  it('nothing starts for a kind the window cannot log in, or while another login runs', async () => {
    const { logins, api } = await loaded();
    logins.start(ghProfile); // "github" has no provider in these fixtures' catalog
    expect(logins.dialog).toBeNull();
    logins.loggingIn = 9;
    logins.start(edgeProfile);
    expect(logins.dialog).toBeNull();
    expect(api.login).not.toHaveBeenCalled();
  });

  it('done closes the dialog, answers the profile’s notice and reloads', async () => {
    const { logins, notices, profiles, api } = await loaded();
    notices.announce(
      {
        type: 'reminder',
        profile_id: 7,
        profile: 'edge-alice',
        tenant: 'acme',
        expires_at: '2030-01-01T00:00:00Z',
        minutes_before: 0,
        expired: true,
      },
      'acme',
      Date.now(),
    );
    logins.start(edgeProfile);
    const reloads = api.listProfiles.mock.calls.length;
    logins.step(7, { step: 'done', profile: 'edge-alice', tenant: 'acme', expires_at: null });
    expect(logins.dialog).toBeNull();
    expect(logins.note).toEqual({
      kind: 'done',
      profileId: 7,
      who: 'edge-alice · tenant acme',
      expiresAt: null,
    });
    expect(notices.lifecycle).toEqual([]);
    expect(profiles.refreshed[7]).toBe(1);
    expect(api.listProfiles.mock.calls.length).toBe(reloads + 1);
  });

  it('a server asking for a code turns the password dialog into the OTP dialog', async () => {
    const { logins } = await loaded();
    logins.start(edgeProfile);
    logins.step(7, {
      step: 'needs-otp',
      profile: 'edge-alice',
      tenant: 'acme',
      message: 'enter the code',
    });
    expect(logins.dialog?.kind).toBe('otp');
  });

  it('a failure goes into the profile’s open detail, else into a banner', async () => {
    const { logins, view } = await loaded();
    logins.failed(7, 'wrong password');
    expect(logins.note).toMatchObject({ kind: 'error', inDetail: false });
    expect(logins.errorInDetail(7)).toBeNull();
    view.openDetail(7);
    logins.failed(7, 'wrong password');
    expect(logins.errorInDetail(7)).toBe('wrong password');
    expect(logins.errorInDetail(8)).toBeNull();
  });

  it('a reminder’s login uses the remembered password, and asks for one when none is', async () => {
    const { logins, api } = await loaded();
    api.login.mockRejectedValueOnce(
      fail({ code: 'invalid', field: 'password', message: 'type the password of alice' }),
    );
    await logins.focus(7, true);
    expect(api.login).toHaveBeenCalledWith(7, null, false);
    await vi.waitFor(() => expect(logins.dialog?.kind).toBe('login'));
  });

  it('the tray shows the profile without logging in when not asked to', async () => {
    const { logins, view, api } = await loaded();
    await logins.focus(8, false);
    expect(view.highlightId).toBe(8);
    expect(view.panel).toEqual({ kind: 'detail', id: 8 });
    expect(api.login).not.toHaveBeenCalled();
  });

  it('the redirect outcome ends the browser login it belongs to, and no other', async () => {
    const { logins, profiles } = await loaded();
    logins.step(9, browserStep);
    logins.ended({ accepted: true, profile: 'someone-else', message: 'x' });
    expect(logins.note?.kind).toBe('browser');
    logins.ended({ accepted: true, profile: 'oidc-dev', message: 'logged in' });
    expect(logins.note).toBeNull();
    expect(profiles.refreshed[9]).toBe(1);
  });

  it('the redirect outcome closes the device dialog of its profile', async () => {
    const { logins, profiles } = await loaded();
    logins.step(9, {
      step: 'device',
      profile: 'oidc-dev',
      tenant: null,
      user_code: 'ABCD-EFGH',
      verification_uri: 'https://id.example/device',
      expires_at: '2030-01-01T00:10:00Z',
    });
    expect(logins.dialog?.kind).toBe('device');
    logins.ended({ accepted: false, profile: 'oidc-dev', message: 'denied' });
    expect(logins.dialog).toBeNull();
    expect(profiles.refreshed[9]).toBeUndefined();
  });

  it('cancelling a browser login tells Rust and drops the note', async () => {
    const { logins, api } = await loaded();
    logins.step(9, browserStep);
    logins.cancelBrowser(9);
    expect(api.cancelLogin).toHaveBeenCalledWith(9);
    expect(logins.note).toBeNull();
  });

  it('says when the new token expires', () => {
    const now = Date.parse('2030-01-01T12:00:00Z');
    const note = { kind: 'done' as const, profileId: 7, who: 'bob', expiresAt: null };
    expect(loginDoneText(note, now)).toBe('Logged in bob');
    expect(loginDoneText({ ...note, expiresAt: '2030-01-01T14:10:00Z' }, now)).toBe(
      'Logged in bob — expires in 2 h 10 m',
    );
  });
});
