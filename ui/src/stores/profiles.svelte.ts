// What the window knows about this installation: the catalog of kinds, the
// app info, the servers and the profiles, reloaded as one and never
// overwritten by an older answer. Every screen reads them from here; only
// `reload()` (and, at start, `loadFirstScreen()`) writes them. The profile list
// is kept `$state.raw` (replaced, never mutated) so that 10,000 profiles cost
// one array, not 10,000 proxies.
//
// At start only a screenful of profiles comes first (`first_profiles`: the
// first rows of the timeline, and how many there are), so the window draws
// at once however many there are; `completeList()` then fetches them all,
// once that screen is on its way (issue 13).

import * as api from '../ipc/api';
import type { AppInfo, Catalog, LoginPrompt, ProfileView, ServerView } from '../ipc/api';
import { toCommandError } from '../ipc/error';
import { mark } from '../lib/perf';

/** How long a reload may take before "Refreshing…" shows. */
export const SLOW_RELOAD_MS = 400;

/**
 * How many profiles the first screen asks for: the rows the timeline draws
 * before it has been laid out (its `UNLAID_ROWS`), more than a window shows.
 */
export const FIRST_SCREEN_ROWS = 60;

export class ProfilesStore {
  info = $state<AppInfo | null>(null);
  catalog = $state.raw<Catalog | null>(null);
  servers = $state.raw<ServerView[]>([]);
  profiles = $state.raw<ProfileView[]>([]);
  /** How many profiles there are, also while only the first screen's have come. */
  total = $state(0);
  /** Only the first screen's profiles have come (`completeList()` brings the rest). */
  partial = $state(false);
  /** The first reload has finished (with data or an error). */
  loaded = $state(false);
  loading = $state(false);
  /** A reload is running and has taken long enough to say so. */
  slow = $state(false);
  loadError = $state<string | null>(null);
  /** Grows with each completed reload, so an open detail reloads too. */
  version = $state(0);
  /** Per profile, grows after each login or renewal: its detail asks the server anew. */
  refreshed = $state<Record<number, number>>({});

  /** What "Log in" does per login kind, from the catalog. */
  readonly prompts = $derived<Partial<Record<string, LoginPrompt>>>(
    Object.fromEntries((this.catalog?.logins ?? []).map((spec) => [spec.login, spec.prompt])),
  );
  // Rebuilt with each list, never mutated: a plain Map is enough.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly byId = $derived(new Map(this.profiles.map((p) => [p.id, p])));

  // Only the newest reload may write the lists, so a slow answer cannot
  // overwrite a newer one.
  #generation = 0;
  #slowTimer: ReturnType<typeof setTimeout> | undefined;
  #completing: Promise<void> | undefined;

  promptOf(profile: ProfileView): LoginPrompt {
    return this.prompts[profile.login] ?? 'unavailable';
  }

  /** A login the window can start for `profile` (not for a signing or unsupported kind). */
  canLogIn(profile: ProfileView): boolean {
    const prompt = this.promptOf(profile);
    return prompt !== 'unavailable' && prompt !== 'sign';
  }

  profile(id: number | null | undefined): ProfileView | null {
    return id == null ? null : (this.byId.get(id) ?? null);
  }

  /** Every profile, with the catalog, the app info and the servers. */
  reload(): Promise<void> {
    return this.#load(async () => {
      const profiles = await api.listProfiles();
      return { profiles, total: profiles.length, complete: true };
    });
  }

  /**
   * The start: like `reload()`, but with only the profiles the first screen
   * shows when there are more; `completeList()` brings the others.
   */
  loadFirstScreen(): Promise<void> {
    return this.#load(() => api.firstProfiles(FIRST_SCREEN_ROWS));
  }

  /** After the first screen: every profile, if only that screen's have come (once). */
  completeList(): Promise<void> {
    if (!this.partial) return Promise.resolve();
    this.#completing ??= this.reload().finally(() => (this.#completing = undefined));
    return this.#completing;
  }

  async #load(
    fetchProfiles: () => Promise<{ profiles: ProfileView[]; total: number; complete: boolean }>,
  ): Promise<void> {
    const mine = ++this.#generation;
    mark('latchkey:reload-start');
    this.loading = true;
    clearTimeout(this.#slowTimer);
    this.#slowTimer = setTimeout(() => (this.slow = this.loading), SLOW_RELOAD_MS);
    try {
      const [nextCatalog, nextInfo, nextServers, nextProfiles] = await Promise.all([
        // Fixed for the app's lifetime: asked until it has been had once.
        this.catalog ?? api.catalog(),
        api.appInfo(),
        api.listServers(),
        fetchProfiles(),
      ]);
      if (mine !== this.#generation) return;
      mark('latchkey:profiles-received');
      this.catalog = nextCatalog;
      this.info = nextInfo;
      this.servers = nextServers;
      this.profiles = nextProfiles.profiles;
      this.total = nextProfiles.total;
      this.partial = !nextProfiles.complete;
      this.loadError = null;
      this.version += 1;
    } catch (err) {
      if (mine === this.#generation) this.loadError = toCommandError(err).message;
    } finally {
      if (mine === this.#generation) {
        this.loading = false;
        this.slow = false;
        clearTimeout(this.#slowTimer);
        this.loaded = true;
      }
    }
  }

  bumpRefreshed(id: number): void {
    this.refreshed = { ...this.refreshed, [id]: (this.refreshed[id] ?? 0) + 1 };
  }

  dispose(): void {
    clearTimeout(this.#slowTimer);
  }
}
