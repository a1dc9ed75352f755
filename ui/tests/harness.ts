// Replaces the IPC wrapper with spies backed by an in-memory state, and lets a
// test fire the events Rust would send. Use with:
//   vi.mock('../src/ipc/api', () => import('./apiMock'));

import { render } from '@testing-library/svelte';
import { vi } from 'vitest';
import App from '../src/App.svelte';
import * as api from '../src/ipc/api';
import { timelineOrder } from '../src/lib/timeline';
import type {
  AppInfo,
  AppSettings,
  FocusProfile,
  IpcError,
  KeyringStatus,
  LifecycleEvent,
  ProfileView,
  RedirectOutcome,
  SandboxStatus,
  ServerView,
} from '../src/ipc/api';
import { CommandError } from '../src/ipc/error';
import * as fixtures from './fixtures';
import { signPreviewOf } from './fixtures';

export interface World {
  info?: AppInfo;
  /** Whether this build has the offline sandbox (the packaged release has not). */
  sandbox?: SandboxStatus;
  /** What getSettings answers beyond the defaults. */
  settings?: Partial<AppSettings>;
  servers?: ServerView[];
  profiles?: ProfileView[];
  outcomes?: RedirectOutcome[];
}

export const emit = {
  redirectOutcome: (_o: RedirectOutcome) => {},
  dataChanged: () => {},
  focusProfile: (_f: FocusProfile) => {},
  lifecycle: (_e: LifecycleEvent) => {},
  keyringChanged: (_k: KeyringStatus) => {},
};

export const fail = (error: IpcError) => new CommandError(error);

/** Resets every spy to answer from `world`, and renders the app. */
export function renderApp(world: World = {}) {
  const m = stubApi(world);
  return { api: m, ...render(App) };
}

/** Resets every spy to answer from `world` (for tests of a store without the window). */
export function stubApi(world: World = {}) {
  const m = vi.mocked(api);
  vi.clearAllMocks();
  m.appInfo.mockResolvedValue(world.info ?? fixtures.info);
  m.catalog.mockResolvedValue(fixtures.catalog);
  m.listServers.mockResolvedValue(world.servers ?? []);
  m.listProfiles.mockResolvedValue(world.profiles ?? []);
  // As Rust answers: all of them when they fit the first screen, else its
  // first rows of the timeline (the rest comes from listProfiles).
  m.firstProfiles.mockImplementation((rows) => {
    const all = world.profiles ?? [];
    return Promise.resolve(
      all.length <= rows
        ? { profiles: all, total: all.length, complete: true }
        : { profiles: timelineOrder(all).slice(0, rows), total: all.length, complete: false },
    );
  });
  m.redirectOutcomes.mockResolvedValue(world.outcomes ?? []);
  m.addServer.mockResolvedValue({
    id: 99,
    name: 'new',
    kind: 'github',
    url: 'https://x',
    ca_pem: null,
  });
  m.updateServer.mockResolvedValue({
    id: 99,
    name: 'new',
    kind: 'github',
    url: 'https://x',
    ca_pem: null,
  });
  m.removeServer.mockResolvedValue();
  m.addTenant.mockResolvedValue({ id: 50, server_id: 1, name: 't' });
  m.removeTenant.mockResolvedValue();
  const profile = {
    id: 99,
    name: 'p',
    server_id: 1,
    tenant_id: null,
    login: 'manual-token' as const,
    settings: {},
    label: null,
  };
  m.addProfile.mockResolvedValue(profile);
  m.updateProfile.mockResolvedValue(profile);
  m.removeProfile.mockResolvedValue();
  m.getSettings.mockResolvedValue({
    close_to_tray: true,
    start_in_tray: false,
    clipboard_clear_seconds: 30,
    reminder_minutes: [1440, 60, 10, 0],
    expiring_minutes: 60,
    login_wait_minutes: 10,
    theme: 'system',
    ...world.settings,
  });
  m.setSettings.mockResolvedValue();
  m.uiReady.mockResolvedValue();
  m.sandboxStatus.mockResolvedValue(world.sandbox ?? { available: false, url: null });
  m.startSandbox.mockResolvedValue({ url: 'http://127.0.0.1:4567', seeded: [] });
  m.credential.mockImplementation(async (id) => {
    const profile = (world.profiles ?? []).find((p) => p.id === id);
    if (!profile)
      throw fail({ code: 'not-found', field: null, message: `no profile with id ${id}` });
    return fixtures.credentialOf(profile);
  });
  m.copyToken.mockImplementation(async (id, format) => {
    const profile = (world.profiles ?? []).find((p) => p.id === id);
    return {
      profile: profile?.name ?? '?',
      tenant: profile?.tenant ?? null,
      what: {
        token: 'token',
        bearer: 'Bearer token',
        header: 'Authorization header',
        curl: 'curl command',
      }[format],
      clear_after_seconds: 30,
    };
  });
  m.copyPlain.mockResolvedValue();
  m.logout.mockImplementation(async (id) => {
    const profile = (world.profiles ?? []).find((p) => p.id === id);
    return {
      message: `Logged out ${profile?.name ?? '?'}: the server revoked the tokens and Latchkey forgot them.`,
      revoked: true,
      end_session_url: null,
    };
  });
  m.signPreview.mockImplementation(async (_id, method, url, body) =>
    signPreviewOf(method, url, body),
  );
  m.copySignedRequest.mockImplementation(async (id, _method, _url, _body, form) => {
    const profile = (world.profiles ?? []).find((p) => p.id === id);
    return {
      profile: profile?.name ?? '?',
      tenant: profile?.tenant ?? null,
      what: form === 'curl' ? 'signed curl command' : 'signed request headers',
      clear_after_seconds: 30,
    };
  });
  m.renewNow.mockImplementation(async (id) => ({
    type: 'renewed',
    profile_id: id,
    profile: 'p',
    expires_at: null,
  }));
  m.login.mockImplementation(async (id) => {
    const profile = (world.profiles ?? []).find((p) => p.id === id);
    return {
      step: 'done',
      profile: profile?.name ?? '?',
      tenant: profile?.tenant ?? null,
      expires_at: new Date(Date.now() + 10 * 60_000).toISOString(),
    };
  });
  m.submitOtp.mockImplementation(async (id) => {
    const profile = (world.profiles ?? []).find((p) => p.id === id);
    return {
      step: 'done',
      profile: profile?.name ?? '?',
      tenant: profile?.tenant ?? null,
      expires_at: new Date(Date.now() + 10 * 60_000).toISOString(),
    };
  });
  m.cancelLogin.mockResolvedValue();
  m.tokenInfo.mockResolvedValue([]);
  m.inspectToken.mockResolvedValue(fixtures.jwtInspection);
  m.verifyToken.mockResolvedValue({ alg: 'HS256', kid: null, compliant: true });
  const stop = () => {};
  m.onRedirectOutcome.mockImplementation(async (cb) => {
    emit.redirectOutcome = cb;
    return stop;
  });
  m.onDataChanged.mockImplementation(async (cb) => {
    emit.dataChanged = cb;
    return stop;
  });
  m.onFocusProfile.mockImplementation(async (cb) => {
    emit.focusProfile = cb;
    return stop;
  });
  m.onLifecycle.mockImplementation(async (cb) => {
    emit.lifecycle = cb;
    return stop;
  });
  m.onKeyringChanged.mockImplementation(async (cb) => {
    emit.keyringChanged = cb;
    return stop;
  });
  m.checkKeyring.mockResolvedValue({ state: 'ok', message: null });
  return m;
}
