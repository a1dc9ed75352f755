// What the window tells the user in banners and toasts, outside any one
// screen: the last redirect outcome, the scheduler's notices (one per
// profile: the newest says where it stands), what the last logout did, and
// the receipt of the last copy. Screens show these; the events and the
// actions that cause them write them here.

import type { CopyReceipt, LifecycleEvent, LogoutReport, RedirectOutcome } from '../ipc/api';
import { lifecycleNotice, type LifecycleNotice } from '../lib/lifecycle';
import { logoutNote, type LogoutNote } from '../lib/logout';

export class NoticesStore {
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
