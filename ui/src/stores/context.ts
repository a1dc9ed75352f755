// The window's stores, one per concern, created once per window and handed to
// every screen through Svelte's context, so a test that renders the app anew
// gets fresh ones.

import { getContext, setContext } from 'svelte';
import * as api from '../ipc/api';
import { DialogsStore } from './dialogs.svelte';
import { LoginsStore } from './logins.svelte';
import { NoticesStore } from './notices.svelte';
import { ProfilesStore } from './profiles.svelte';
import { SandboxStore } from './sandbox.svelte';
import { SettingsStore } from './settings.svelte';
import { ViewStore } from './view.svelte';

export interface Stores {
  profiles: ProfilesStore;
  notices: NoticesStore;
  view: ViewStore;
  logins: LoginsStore;
  dialogs: DialogsStore;
  settings: SettingsStore;
  sandbox: SandboxStore;
}

export function createStores(): Stores {
  const profiles = new ProfilesStore();
  const notices = new NoticesStore();
  const view = new ViewStore(profiles);
  const logins = new LoginsStore(profiles, notices, view);
  const dialogs = new DialogsStore(profiles, notices);
  const settings = new SettingsStore();
  const sandbox = new SandboxStore(profiles);
  return { profiles, notices, view, logins, dialogs, settings, sandbox };
}

const KEY = Symbol('latchkey-stores');

/** Call while the app component initialises. */
export function provideStores(stores: Stores): Stores {
  return setContext(KEY, stores);
}

/** Call while a screen initialises. */
export function useStores(): Stores {
  const stores = getContext<Stores | undefined>(KEY);
  if (!stores) throw new Error('useStores() outside the app: render App, or provideStores() first');
  return stores;
}

/**
 * Connects the stores to what Rust sends: redirect outcomes, data changes,
 * the tray's and notifications' "show this profile", and the scheduler's
 * lifecycle events. Resolves the start-up load (the first screen's: see
 * `ProfilesStore.loadFirstScreen`); returns the disconnect.
 */
export function connect(stores: Stores): { ready: Promise<void>; disconnect: () => void } {
  const { profiles, notices, logins, settings, sandbox } = stores;
  const unlisten: Promise<() => void>[] = [
    api.onRedirectOutcome((outcome) => {
      notices.showOutcome(outcome);
      logins.ended(outcome);
    }),
    api.onDataChanged(() => void profiles.reload()),
    api.onFocusProfile((focus) => void logins.focus(focus.id, focus.login)),
    api.onKeyringChanged((status) => notices.keyringChanged(status)),
    api.onLifecycle((event) => {
      void profiles.reload();
      if (event.type === 'renewed') profiles.bumpRefreshed(event.profile_id);
      const tenant = profiles.profile(event.profile_id)?.tenant ?? null;
      notices.announce(event, tenant, Date.now());
    }),
  ];
  const ready = (async () => {
    try {
      notices.recallOutcomes(await api.redirectOutcomes());
    } catch {
      // Only a missed banner; the lists report their own failures.
    }
    await Promise.all([profiles.loadFirstScreen(), settings.load(), sandbox.load()]);
  })();
  return {
    ready,
    disconnect: () => {
      profiles.dispose();
      for (const u of unlisten) void u.then((stop) => stop()).catch(() => {});
    },
  };
}
