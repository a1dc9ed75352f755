// The modal dialogs that are not part of a login: the server and profile
// forms, settings, and the confirmations (remove a server, tenant or profile;
// log out). One is open at a time. A confirmation carries what it does, so
// the dialog itself stays generic.

import * as api from '../ipc/api';
import type { ProfileView, ServerView, Tenant } from '../ipc/api';
import { profileWithTenant } from '../lib/names';
import type { NoticesStore } from './notices.svelte';
import type { ProfilesStore } from './profiles.svelte';

export interface Confirmation {
  kind: 'remove';
  title: string;
  question: string;
  remove: (cascade: boolean) => Promise<void>;
  confirmLabel?: string;
  busyLabel?: string;
}

export type OpenDialog =
  | { kind: 'server'; server: ServerView | null }
  | { kind: 'profile'; profile: ProfileView | null }
  | Confirmation
  | { kind: 'settings' }
  | { kind: 'palette' }
  | { kind: 'help' };

export class DialogsStore {
  open = $state<OpenDialog | null>(null);

  constructor(
    private readonly profiles: ProfilesStore,
    private readonly notices: NoticesStore,
  ) {}

  addServer(): void {
    this.open = { kind: 'server', server: null };
  }

  editServer(server: ServerView): void {
    this.open = { kind: 'server', server };
  }

  addProfile(): void {
    this.open = { kind: 'profile', profile: null };
  }

  editProfile(profile: ProfileView): void {
    this.open = { kind: 'profile', profile };
  }

  settings(): void {
    this.open = { kind: 'settings' };
  }

  /** The command palette (Ctrl+K). */
  palette(): void {
    this.open = { kind: 'palette' };
  }

  /** The keyboard shortcuts (`?`). */
  help(): void {
    this.open = { kind: 'help' };
  }

  close(): void {
    this.open = null;
  }

  /** A form saved or a confirmation did its work: close, and reload the lists. */
  saved(): void {
    this.open = null;
    void this.profiles.reload();
  }

  confirmRemoveServer(server: ServerView): void {
    this.open = {
      kind: 'remove',
      title: `Remove server ${server.name}`,
      question: `Remove server ${server.name} (${server.url})?`,
      remove: (cascade) => api.removeServer(server.name, cascade),
    };
  }

  confirmRemoveTenant(server: ServerView, tenant: Tenant): void {
    this.open = {
      kind: 'remove',
      title: `Remove tenant ${tenant.name}`,
      question: `Remove tenant ${tenant.name} of ${server.name}?`,
      remove: (cascade) => api.removeTenant(server.name, tenant.name, cascade),
    };
  }

  confirmRemoveProfile(profile: ProfileView): void {
    this.open = {
      kind: 'remove',
      title: `Remove profile ${profile.name}`,
      question: `Remove profile ${profile.name}, and its secrets and tokens from the keyring?`,
      remove: () => api.removeProfile(profile.name),
    };
  }

  confirmLogout(profile: ProfileView): void {
    // What logging out does beyond this profile (e.g. a web session it ends), as Rust says.
    const beyond = this.profiles.catalog?.logins.find(
      (spec) => spec.login === profile.login,
    )?.logout_warning;
    this.open = {
      kind: 'remove',
      title: `Log out of ${profile.name}`,
      question:
        `Forget the tokens of ${profileWithTenant(profile.name, profile.tenant)}? Its settings and stored secrets stay; log in again to get a new token.` +
        (beyond ? ` ${beyond}` : ''),
      remove: async () => {
        this.notices.loggedOutOf(profile.id, await api.logout(profile.id));
      },
      confirmLabel: 'Log out',
      busyLabel: 'Logging out…',
    };
  }
}
