// What the window tells the user in banners and toasts, outside any one
// screen: the last redirect outcome, the scheduler's notices (one per
// profile: the newest says where it stands), what the last logout did, and
// the receipt of the last copy. Screens show these; the events and the
// actions that cause them write them here.

import * as api from '../ipc/api';
import type {
  AppInfo,
  CopyReceipt,
  KeyringStatus,
  LifecycleEvent,
  LogoutReport,
  RedirectOutcome,
} from '../ipc/api';
import { toCommandError } from '../ipc/error';
import { lifecycleNotice, type LifecycleNotice } from '../lib/lifecycle';
import { logoutNote, type LogoutNote } from '../lib/logout';

/** What the keyring banner shows: its kind (what the user can do) and Rust's message. */
export interface KeyringProblem {
  state: 'locked' | 'absent' | 'broken';
  message: string;
}

export class NoticesStore {
  /** The last verdict about the keyring: from app info, then from each keyring-changed event. */
  keyring = $state<KeyringStatus | null>(null);
  /** An older shell's problem text, for when the verdict has none. */
  #keyringText = $state<string | null>(null);
  /** The banner's button is at work: a check, or the desktop's unlock prompt. */
  keyringBusy = $state<'check' | 'unlock' | null>(null);
  /** A check the user asked for failed to run at all. */
  keyringError = $state<string | null>(null);

  /** The banner's content, or null when the keyring works (or is still being checked). */
  readonly keyringProblem = $derived.by<KeyringProblem | null>(() => {
    const state = this.keyring?.state;
    if (state === 'locked' || state === 'absent' || state === 'broken')
      return { state, message: this.keyring?.message ?? this.#keyringText ?? '' };
    // An older shell says only what is wrong, not its kind.
    return this.#keyringText ? { state: 'broken', message: this.#keyringText } : null;
  });

  /** What became of the last `latchkey://` or loopback redirect. */
  outcome = $state<RedirectOutcome | null>(null);
  lifecycle = $state<LifecycleNotice[]>([]);
  /** What the last logout did, until dismissed or the profile logs in again. */
  loggedOut = $state<LogoutNote | null>(null);
  /** The last copy; `id` grows with each, so the same text shown twice restarts its countdown. */
  receipt = $state<{ id: number; receipt: CopyReceipt } | null>(null);
  #receipts = 0;
  /** How an action from the keyboard or the palette came out (a renewal, a refused copy). */
  result = $state<{ ok: boolean; text: string } | null>(null);

  /** The keyring verdict that came with the app info of a reload. */
  keyringFromInfo(info: AppInfo): void {
    this.keyring = info.keyring ?? null;
    this.#keyringText = info.keyring_problem;
  }

  /** A keyring-changed event: the newest verdict; the problem text follows it. */
  keyringChanged(status: KeyringStatus): void {
    this.keyring = status;
    this.#keyringText =
      status.state === 'ok' || status.state === 'checking' ? null : status.message;
    this.keyringError = null;
  }

  /**
   * The banner's Retry (`unlock` false) or Unlock (the desktop's prompt, then
   * a check). The answer is the new verdict; a working keyring clears the banner.
   */
  async checkKeyring(unlock: boolean): Promise<void> {
    if (this.keyringBusy) return;
    this.keyringBusy = unlock ? 'unlock' : 'check';
    this.keyringError = null;
    try {
      this.keyringChanged(await api.checkKeyring(unlock));
    } catch (err) {
      this.keyringError = toCommandError(err).message;
    } finally {
      this.keyringBusy = null;
    }
  }

  /** A redirect outcome arrived as an event: it is the newest. */
  showOutcome(outcome: RedirectOutcome): void {
    this.outcome = outcome;
  }

  /** Outcomes asked for at start-up: the newest, unless an event came first (it is newer). */
  recallOutcomes(outcomes: RedirectOutcome[]): void {
    if (this.outcome === null) this.outcome = outcomes.at(-1) ?? null;
  }

  dismissOutcome(): void {
    this.outcome = null;
  }

  /** A scheduler event; `tenant` is the profile's, which the event does not always carry. */
  announce(event: LifecycleEvent, tenant: string | null, now: number): void {
    const notice = lifecycleNotice(event, tenant, now);
    if (notice)
      this.lifecycle = [...this.lifecycle.filter((n) => n.profileId !== notice.profileId), notice];
  }

  dismiss(notice: LifecycleNotice): void {
    this.lifecycle = this.lifecycle.filter((n) => n !== notice);
  }

  /** The profile logged in: what asked for that login is answered. */
  answered(profileId: number): void {
    this.lifecycle = this.lifecycle.filter((n) => n.profileId !== profileId);
  }

  /** What the profile is asked to act on, if anything. */
  noticeFor(profileId: number): LifecycleNotice | null {
    return this.lifecycle.find((n) => n.profileId === profileId) ?? null;
  }

  loggedOutOf(profileId: number, report: LogoutReport): void {
    this.loggedOut = logoutNote(profileId, report);
  }

  /** A new login of the profile makes its logout note stale. */
  loggingIn(profileId: number): void {
    if (this.loggedOut?.profileId === profileId) this.loggedOut = null;
  }

  dismissLogout(): void {
    this.loggedOut = null;
  }

  showResult(ok: boolean, text: string): void {
    this.result = { ok, text };
  }

  dismissResult(): void {
    this.result = null;
  }

  copied(receipt: CopyReceipt): void {
    this.#receipts += 1;
    this.receipt = { id: this.#receipts, receipt };
  }

  receiptDone(): void {
    this.receipt = null;
  }
}
