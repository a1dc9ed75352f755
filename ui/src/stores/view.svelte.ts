// Where the user is in the window: which panel is open beside the lists (a
// profile's detail or the token inspector), which profile the tray or a
// notification pointed at, and whether the servers keep their full width
// beside a panel. A panel about a profile that has gone closes with it.

import type { ProfilesStore } from './profiles.svelte';

/**
 * What the panel beside the lists shows; an inspector without a profile takes
 * a paste, one with `serviceAccount` reads the profile's service-account token.
 */
export type Panel =
  | { kind: 'detail'; id: number }
  | { kind: 'inspector'; id: number | null; serviceAccount?: boolean };

export class ViewStore {
  panel = $state<Panel | null>(null);
  /** The profile the tray or a notification asked to show. */
  highlightId = $state<number | null>(null);
  /** The servers stay full width beside a panel only when the user asks (from the rail). */
  serversBesidePanel = $state(false);
  /** A profile to scroll into view; `seq` grows so the same one can be asked for again. */
  reveal = $state<{ id: number; seq: number } | null>(null);

  // `$derived.by`: the profiles store is a constructor parameter, set after fields.
  readonly panelProfile = $derived.by(() => this.profiles.profile(this.panel?.id));
  readonly panelShown = $derived(
    this.panel !== null && (this.panel.id === null || this.panelProfile !== null),
  );
  readonly serversRailed = $derived(this.panelShown && !this.serversBesidePanel);
  /** The profile the shown panel is about (its detail, or its token in the inspector). */
  readonly openId = $derived(this.panelShown ? (this.panel?.id ?? null) : null);

  constructor(private readonly profiles: ProfilesStore) {}

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
    this.reveal = { id, seq: (this.reveal?.seq ?? 0) + 1 };
  }
}
