// The offline sandbox, as the first-run screen offers it: whether this build
// has one (the packaged release has not), starting it (in the app, on
// loopback; it seeds a server and a profile per login kind), and what was
// seeded, with the sandbox's test passwords, for the note that says how to
// log in to each.

import * as api from '../ipc/api';
import type { SandboxStarted, SandboxStatus } from '../ipc/api';
import { toCommandError } from '../ipc/error';
import type { ProfilesStore } from './profiles.svelte';

export class SandboxStore {
  status = $state<SandboxStatus | null>(null);
  /** What the last start seeded, until the user dismisses the note. */
  started = $state.raw<SandboxStarted | null>(null);
  starting = $state(false);
  error = $state<string | null>(null);

  readonly available = $derived(this.status?.available ?? false);

  constructor(private readonly profiles: ProfilesStore) {}

  async load(): Promise<void> {
    try {
      this.status = await api.sandboxStatus();
    } catch {
      // Without an answer the first-run screen offers "Add a server" only.
      this.status = { available: false, url: null };
    }
  }

  async start(): Promise<void> {
    if (this.starting) return;
    this.starting = true;
    this.error = null;
    try {
      const started = await api.startSandbox();
      this.started = started;
      this.status = { available: true, url: started.url };
      await this.profiles.reload();
    } catch (err) {
      this.error = toCommandError(err).message;
    } finally {
      this.starting = false;
    }
  }

  dismiss(): void {
    this.started = null;
  }
}
