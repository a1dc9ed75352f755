// Where the user is in the window: which panel is open beside the lists (a
// profile's detail or the token inspector), which profile the tray or a
// notification pointed at, and whether the servers keep their full width
// beside a panel. A panel about a profile that has gone closes with it.

import { SvelteSet } from 'svelte/reactivity';
import { listRows, searchProfiles } from '../lib/search';
import { timelineOrder, type Zoom } from '../lib/timeline';
import type { ProfilesStore } from './profiles.svelte';

/**
 * What the panel beside the lists shows; an inspector without a profile takes
 * a paste, one with `serviceAccount` reads the profile's service-account token.
 */
export type Panel =
  | { kind: 'detail'; id: number }
  | { kind: 'inspector'; id: number | null; serviceAccount?: boolean };

/** How the profiles are shown: as a table, or as bars on a time axis. */
export type ProfilesMode = 'list' | 'timeline';

/** More profiles than this, and the timeline is the first view (until the user picks one). */
export const HANDFUL = 5;

export class ViewStore {
  panel = $state<Panel | null>(null);
  /** The profile the tray or a notification asked to show. */
  highlightId = $state<number | null>(null);
  /** The servers stay full width beside a panel only when the user asks (from the rail). */
  serversBesidePanel = $state(false);
  /** The search box's text (see lib/search.ts for what it matches). */
  query = $state('');
  /** The list shows a heading per server. */
  groupByServer = $state(false);
  /** The servers whose profiles are folded away under their heading. */
  readonly collapsed = new SvelteSet<string>();
  /** The view the user picked; null: the timeline beyond a handful of profiles, else the list. */
  chosenMode = $state<ProfilesMode | null>(null);
  zoom = $state<Zoom>('day');
  /** The profile the keyboard is on (arrow keys, Ctrl+C, the palette's first entries). */
  selectedId = $state<number | null>(null);
  /** The palette asked a profile's detail to open its "Sign a request" dialog. */
  signRequest = $state<{ id: number; seq: number } | null>(null);
  /** A profile to scroll into view; `seq` grows so the same one can be asked for again. */
  reveal = $state<{ id: number; seq: number } | null>(null);

  // `$derived.by`: the profiles store is a constructor parameter, set after fields.
  readonly panelProfile = $derived.by(() => this.profiles.profile(this.panel?.id));
  readonly panelShown = $derived(
    this.panel !== null && (this.panel.id === null || this.panelProfile !== null),
  );
  /** The profiles the search finds, in the list's order. */
  readonly found = $derived.by(() => searchProfiles(this.profiles.profiles, this.query));
  readonly mode = $derived.by<ProfilesMode>(
    () => this.chosenMode ?? (this.profiles.total > HANDFUL ? 'timeline' : 'list'),
  );
  /** The found profiles in the timeline's order: what needs the user first, then by expiry. */
  readonly timeline = $derived.by(() => timelineOrder(this.found));
  /**
   * How many profiles the search finds: while only the first screen's
   * profiles have come and nothing is searched, all of them (the count
   * beside the search box, and the rows the timeline's scroll bar is for).
   */
  readonly foundCount = $derived.by(() =>
    this.profiles.partial && this.query.trim() === ''
      ? Math.max(this.profiles.total, this.found.length)
      : this.found.length,
  );
  /** The ids of the profiles as shown, top to bottom: what the arrow keys move through. */
  readonly ordered = $derived.by(() =>
    this.mode === 'timeline'
      ? this.timeline.map((p) => p.id)
      : listRows(this.found, this.groupByServer, this.collapsed).flatMap((row) =>
          row.kind === 'profile' ? [row.profile.id] : [],
        ),
  );
  readonly serversRailed = $derived(this.panelShown && !this.serversBesidePanel);
  /** The profile the shown panel is about (its detail, or its token in the inspector). */
  readonly openId = $derived(this.panelShown ? (this.panel?.id ?? null) : null);

  constructor(private readonly profiles: ProfilesStore) {}

  /** Folds a server's profiles away under its heading, or unfolds them. */
  toggleGroup(server: string): void {
    if (!this.collapsed.delete(server)) this.collapsed.add(server);
  }

  select(id: number | null): void {
    this.selectedId = id;
  }

  askToSign(id: number): void {
    this.signRequest = { id, seq: (this.signRequest?.seq ?? 0) + 1 };
  }

  openDetail(id: number): void {
    this.panel = { kind: 'detail', id };
  }

  openInspector(id: number | null, serviceAccount = false): void {
    this.panel = { kind: 'inspector', id, serviceAccount };
  }

  closePanel(): void {
    this.panel = null;
  }

  isDetailShown(id: number): boolean {
    return this.panel?.kind === 'detail' && this.openId === id;
  }

  /** The tray or a clicked notification: highlight the profile and open its detail. */
  async showProfile(id: number): Promise<void> {
    if (!this.profiles.byId.has(id)) await this.profiles.reload();
    this.highlightId = id;
    this.openDetail(id);
    // The profile asked for must be in the list, whatever the search or folds hide.
    const profile = this.profiles.profile(id);
    if (profile && !this.found.includes(profile)) this.query = '';
    if (profile && this.collapsed.has(profile.server)) this.toggleGroup(profile.server);
    this.reveal = { id, seq: (this.reveal?.seq ?? 0) + 1 };
  }
}
