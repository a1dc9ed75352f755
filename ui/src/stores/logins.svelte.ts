// Logins as the window runs them. "Log in" on a row, the detail, a notice, the
// tray or the command palette comes here: a password dialog or none, as the
// login kind's prompt says, then the OTP dialog if the server asks for a code.
// A browser login waits in a note until its redirect outcome arrives, a device
// login in its dialog. One login runs at a time; how the last one came out
// stays until the next one or a dismissal.

import * as api from '../ipc/api';
import type { LoginStep, ProfileView, RedirectOutcome } from '../ipc/api';
import { toCommandError } from '../ipc/error';
import { profileDotTenant } from '../lib/names';
import { countdown } from '../lib/time';
import type { NoticesStore } from './notices.svelte';
import type { ProfilesStore } from './profiles.svelte';
import type { ViewStore } from './view.svelte';

/** How the last login came out, until the next one or a dismissal. */
export type LoginNote =
  | { kind: 'done'; profileId: number; who: string; expiresAt: string | null }
  | {
      kind: 'browser';
      profileId: number;
      /** The profile's name, as its redirect outcome names it. */
      profile: string;
      who: string;
      url: string;
      redirectUri: string;
    }
  | { kind: 'error'; profileId: number; text: string; inDetail: boolean };

/** The dialog a login has open: the password, the one-time code, or the device code. */
export type LoginDialog =
  | { kind: 'login'; profile: ProfileView }
  | { kind: 'otp'; profileId: number; challenge: Extract<LoginStep, { step: 'needs-otp' }> }
  | { kind: 'device'; profileId: number; device: Extract<LoginStep, { step: 'device' }> };

/** "Logged in bob · tenant acme — expires in 9 m 59 s". */
export function loginDoneText(note: Extract<LoginNote, { kind: 'done' }>, now: number): string {
  if (note.expiresAt === null) return `Logged in ${note.who}`;
  const left = countdown(note.expiresAt, true, now);
  return `Logged in ${note.who} — ${left.startsWith('in ') ? `expires ${left}` : left}`;
}

export class LoginsStore {
  /** The profile whose login runs without a dialog (a direct login). */
  loggingIn = $state<number | null>(null);
  note = $state<LoginNote | null>(null);
  dialog = $state<LoginDialog | null>(null);
  /** The control that started the login, for the dialogs to give focus back to. */
  opener = $state.raw<HTMLElement | null>(null);

  constructor(
    private readonly profiles: ProfilesStore,
    private readonly notices: NoticesStore,
    private readonly view: ViewStore,
  ) {}

  /** "Log in" on a row, the detail, a notice or the palette. */
  start(profile: ProfileView): void {
    const prompt = this.profiles.promptOf(profile);
    if (prompt === 'unavailable' || prompt === 'sign' || this.loggingIn !== null) return;
    this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.note = null;
    this.notices.loggingIn(profile.id);
    if (prompt === 'password') this.dialog = { kind: 'login', profile };
    else void this.#direct(profile);
  }

  /**
   * A reminder's login: with the password remembered in the keyring it goes
   * straight on (to the OTP dialog if the server asks for one); without, the
   * password dialog opens.
   */
  async remembered(profile: ProfileView): Promise<void> {
    if (this.loggingIn !== null) return;
    this.note = null;
    this.loggingIn = profile.id;
    let askPassword = false;
    try {
      this.step(profile.id, await api.login(profile.id, null, false));
    } catch (err) {
      const e = toCommandError(err);
      if (e.code === 'invalid' && e.field === 'password') askPassword = true;
      else this.failed(profile.id, e.message);
    } finally {
      this.loggingIn = null;
    }
    if (askPassword) this.start(profile);
  }

  /** The tray or a clicked notification: show the profile, maybe log it in. */
  async focus(id: number, login: boolean): Promise<void> {
    await this.view.showProfile(id);
    const profile = this.profiles.profile(id);
    if (!login || !profile) return;
    if (this.profiles.promptOf(profile) === 'password') void this.remembered(profile);
    else this.start(profile);
  }

  async #direct(profile: ProfileView): Promise<void> {
    this.loggingIn = profile.id;
    try {
      this.step(profile.id, await api.login(profile.id, null, false));
    } catch (err) {
      this.failed(profile.id, toCommandError(err).message);
    } finally {
      this.loggingIn = null;
    }
  }

  /** Where a login stands after a call: done, a code to ask for, or the browser. */
  step(profileId: number, step: LoginStep): void {
    const who = profileDotTenant(step.profile, step.tenant);
    switch (step.step) {
      case 'done':
        this.closePrompt();
        this.note = { kind: 'done', profileId, who, expiresAt: step.expires_at };
        // The notice asked for this login; it is answered.
        this.notices.answered(profileId);
        this.profiles.bumpRefreshed(profileId);
        void this.profiles.reload();
        break;
      case 'needs-otp':
        this.dialog = { kind: 'otp', profileId, challenge: step };
        break;
      case 'browser':
        this.closePrompt();
        this.note = {
          kind: 'browser',
          profileId,
          profile: step.profile,
          who,
          url: step.url,
          redirectUri: step.redirect_uri,
        };
        void this.profiles.reload();
        break;
      case 'device':
        this.closePrompt();
        this.dialog = { kind: 'device', profileId, device: step };
        void this.profiles.reload();
        break;
    }
  }

  /** A login failed or stopped: the message goes to the profile's detail if open, else a banner. */
  failed(profileId: number, text: string): void {
    this.closePrompt();
    this.note = { kind: 'error', profileId, text, inDetail: this.view.isDetailShown(profileId) };
  }

  /** Why the last login of `profileId` failed, when its detail shows it. */
  errorInDetail(profileId: number): string | null {
    return this.note?.kind === 'error' && this.note.inDetail && this.note.profileId === profileId
      ? this.note.text
      : null;
  }

  /**
   * A redirect outcome ends the browser or device login of its profile: the
   * outcome's banner replaces the waiting note or the device dialog.
   */
  ended(outcome: RedirectOutcome): void {
    if (outcome.profile === null) return;
    let ended: number | null = null;
    if (this.note?.kind === 'browser' && this.note.profile === outcome.profile) {
      ended = this.note.profileId;
      this.note = null;
    }
    if (this.dialog?.kind === 'device' && this.dialog.device.profile === outcome.profile) {
      ended = this.dialog.profileId;
      this.dialog = null;
    }
    if (ended !== null && outcome.accepted) this.profiles.bumpRefreshed(ended);
  }

  /** The browser note's Cancel: the login stops waiting for its redirect. */
  cancelBrowser(profileId: number): void {
    void api.cancelLogin(profileId).catch(() => {});
    this.note = null;
    void this.profiles.reload();
  }

  /** The device dialog closed (cancelled): the lists show the login no longer waits. */
  closeDevice(): void {
    if (this.dialog?.kind === 'device') this.dialog = null;
    void this.profiles.reload();
  }

  /** The dialog's own Cancel or Escape. */
  closeDialog(): void {
    this.dialog = null;
  }

  /** Closes the password or OTP dialog (a device login keeps its own). */
  closePrompt(): void {
    if (this.dialog?.kind === 'login' || this.dialog?.kind === 'otp') this.dialog = null;
  }

  dismissNote(): void {
    this.note = null;
  }
}
