// The user's settings as the window last read them: what the timeline needs
// (the reminder thresholds) and how the window looks. The settings dialog
// edits them through Rust and asks this store to read them again.

import * as api from '../ipc/api';
import type { AppSettings, Theme } from '../ipc/api';

export class SettingsStore {
  value = $state.raw<AppSettings | null>(null);

  /** Minutes before expiry at which the user is reminded of a token that needs them. */
  readonly reminderMinutes = $derived<readonly number[]>(this.value?.reminder_minutes ?? []);

  /** Light, dark, or as the system says. */
  readonly theme = $derived<Theme>(this.value?.theme ?? 'system');

  async load(): Promise<void> {
    try {
      this.value = await api.getSettings();
    } catch {
      // Kept as they were: the settings dialog reports its own failures.
    }
  }
}

/**
 * Puts the theme on the page's root: `data-theme` makes app.css's colours
 * light or dark whatever the system says; without it they follow
 * `prefers-color-scheme`.
 */
export function applyTheme(root: HTMLElement, theme: Theme): void {
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}
