// The one module components call Rust through. It wraps the generated
// bindings (`bindings.ts`, never edited by hand): fallible commands resolve to
// their data or throw a `CommandError` carrying the shell's `{code, message,
// field}`. Tests replace this module with `vi.mock`.

import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import {
  commands,
  events,
  type AppInfo,
  type AppSettings,
  type Catalog,
  type CopyFormat,
  type CopyReceipt,
  type CredentialDetail,
  type FirstProfiles,
  type FocusProfile,
  type Inspection,
  type IpcError,
  type KeyInput,
  type KeyringStatus,
  type LifecycleEvent,
  type LoginStep,
  type LogoutReport,
  type PageMark,
  type Profile,
  type ProfileInput,
  type ProfileView,
  type RedirectOutcome,
  type SandboxStarted,
  type SandboxStatus,
  type Server,
  type ServerInput,
  type ServerView,
  type SignedCopyForm,
  type SignPreview,
  type SummaryItem,
  type Tenant,
  type TokenSource,
  type Verified,
} from './bindings';
import { toCommandError } from './error';

export type {
  AppInfo,
  AppSettings,
  Catalog,
  CopyFormat,
  CopyReceipt,
  CredentialDetail,
  FirstProfiles,
  FocusProfile,
  Inspection,
  KeyInput,
  KeyringStatus,
  LifecycleEvent,
  LoginStep,
  LogoutReport,
  Profile,
  ProfileInput,
  ProfileView,
  RedirectOutcome,
  SandboxStarted,
  SandboxStatus,
  Server,
  ServerInput,
  ServerView,
  SignedCopyForm,
  SignPreview,
  SummaryItem,
  Tenant,
  TokenSource,
  Verified,
};
export type {
  ErrorCode,
  HistoryEntry,
  IpcError,
  KeyKind,
  KeyringState,
  LoginKind,
  LoginPrompt,
  LoginSpec,
  ProfileSettings,
  ServerKind,
  ServerKindInfo,
  SettingField,
  Theme,
  TimeClaim,
  TokenInfo,
  TokenKind,
  TokenStatus,
} from './bindings';

type Reply<T> = { status: 'ok'; data: T } | { status: 'error'; error: IpcError };

async function unwrap<T>(call: () => Promise<Reply<T>>): Promise<T> {
  let reply: Reply<T>;
  try {
    reply = await call();
  } catch (err) {
    throw toCommandError(err);
  }
  if (reply.status === 'error') throw toCommandError(reply.error);
  return reply.data;
}

async function plain<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toCommandError(err);
  }
}

export const appInfo = (): Promise<AppInfo> => unwrap(() => commands.appInfo());
export const catalog = (): Promise<Catalog> => plain(() => commands.catalog());
/**
 * The keyring banner's buttons: checks the keyring again now (`unlock`
 * false), or asks the desktop to unlock it first (its prompt; `unlock` true).
 * The new verdict also arrives as a keyring-changed event.
 */
export const checkKeyring = (unlock: boolean): Promise<KeyringStatus> =>
  unwrap(() => commands.checkKeyring(unlock));

export const listServers = (): Promise<ServerView[]> => unwrap(() => commands.listServers());
export const addServer = (input: ServerInput): Promise<Server> =>
  unwrap(() => commands.addServer(input));
export const updateServer = (id: number, input: ServerInput): Promise<Server> =>
  unwrap(() => commands.updateServer(id, input));
export const removeServer = (name: string, cascade: boolean): Promise<void> =>
  unwrap(() => commands.removeServer(name, cascade)).then(() => undefined);

export const addTenant = (server: string, name: string): Promise<Tenant> =>
  unwrap(() => commands.addTenant(server, name));
export const removeTenant = (server: string, name: string, cascade: boolean): Promise<void> =>
  unwrap(() => commands.removeTenant(server, name, cascade)).then(() => undefined);

export const listProfiles = (): Promise<ProfileView[]> => unwrap(() => commands.listProfiles());
export const firstProfiles = (rows: number): Promise<FirstProfiles> =>
  unwrap(() => commands.firstProfiles(rows));
export const addProfile = (input: ProfileInput): Promise<Profile> =>
  unwrap(() => commands.addProfile(input));
export const updateProfile = (id: number, input: ProfileInput): Promise<Profile> =>
  unwrap(() => commands.updateProfile(id, input));
export const removeProfile = (name: string): Promise<void> =>
  unwrap(() => commands.removeProfile(name)).then(() => undefined);

export const getSettings = (): Promise<AppSettings> => unwrap(() => commands.getSettings());
export const setSettings = (settings: AppSettings): Promise<void> =>
  unwrap(() => commands.setSettings(settings)).then(() => undefined);

/** Puts a profile's token on the clipboard, in Rust; the page gets only the receipt. */
export const copyToken = (profileId: number, format: CopyFormat): Promise<CopyReceipt> =>
  unwrap(() => commands.copyToken(profileId, format));
/**
 * Puts non-secret text the user must paste elsewhere (a redirect URI, an
 * authorize URL, a device code) on the clipboard, through Rust (the page may
 * not write it). Never for tokens: those stay in Rust (`copyToken`).
 */
export const copyPlain = (text: string): Promise<void> =>
  unwrap(() => commands.copyPlain(text)).then(() => undefined);
/** A profile's tokens (metadata only, no secret) and its history. */
export const credential = (profileId: number): Promise<CredentialDetail> =>
  unwrap(() => commands.credential(profileId));
/**
 * Revokes a profile's tokens where the server can, then forgets them; its
 * configured secrets stay. The report says which of the two happened.
 */
export const logout = (profileId: number): Promise<LogoutReport> =>
  unwrap(() => commands.logout(profileId));
export const renewNow = (profileId: number): Promise<LifecycleEvent> =>
  unwrap(() => commands.renewNow(profileId));
/** Decoded header and claims (credentials masked), or what an opaque token is. */
export const inspectToken = (source: TokenSource): Promise<Inspection> =>
  unwrap(() => commands.inspectToken(source));
/** Resolves when `key` verifies the token's signature; a wrong key throws (`invalid`). */
export const verifyToken = (source: TokenSource, key: KeyInput): Promise<Verified> =>
  unwrap(() => commands.verifyToken(source, key));

/**
 * Logs a profile in. `password` is for password logins (null uses the
 * remembered one); `remember` keeps it in the keyring. The answer is `done`,
 * `needs-otp` (ask for the code, then `submitOtp`) or `browser`.
 */
export const login = (
  profileId: number,
  password: string | null,
  remember: boolean,
): Promise<LoginStep> => unwrap(() => commands.login(profileId, password, remember));
/** The code of the OTP dialog; a wrong one throws with `field === "otp"` and the login waits on. */
export const submitOtp = (profileId: number, otp: string): Promise<LoginStep> =>
  unwrap(() => commands.submitOtp(profileId, otp));
/** Gives up a login that waits for a code (or a browser redirect); nothing is stored. */
export const cancelLogin = (profileId: number): Promise<void> =>
  plain(() => commands.cancelLogin(profileId));
/** What the server says about the profile's token; empty where the login kind cannot ask. */
export const tokenInfo = (profileId: number): Promise<SummaryItem[]> =>
  unwrap(() => commands.tokenInfo(profileId));

/**
 * What signing a request with a `dci-hmac` profile's key covers: method, URL,
 * Host, X-DCI-Date, canonical request, string to sign, and `Authorization`
 * with the signature masked. The signature itself never comes here.
 */
export const signPreview = (
  profileId: number,
  method: string,
  url: string,
  body: string,
): Promise<SignPreview> => unwrap(() => commands.signPreview(profileId, method, url, body));
/** Signs the request in Rust and puts it on the clipboard as a curl line or its two headers. */
export const copySignedRequest = (
  profileId: number,
  method: string,
  url: string,
  body: string,
  form: SignedCopyForm,
): Promise<CopyReceipt> =>
  unwrap(() => commands.copySignedRequest(profileId, method, url, body, form));

/** Redirect outcomes since the app started, newest last. */
export const redirectOutcomes = (): Promise<RedirectOutcome[]> =>
  plain(() => commands.redirectOutcomes());

/** Whether this build can start the offline sandbox (the first-run screen), and where it serves. */
export const sandboxStatus = (): Promise<SandboxStatus> => unwrap(() => commands.sandboxStatus());
/**
 * Starts the offline sandbox in the app and seeds a server and a profile per
 * login kind; answers where it serves and what was seeded (with the sandbox's
 * test passwords, which are no one's secret).
 */
export const startSandbox = (): Promise<SandboxStarted> => unwrap(() => commands.startSandbox());

/** Tells the shell the page has rendered for the first time, with its start-up marks (startup timing). */
export const uiReady = (marks: PageMark[]): Promise<void> => plain(() => commands.uiReady(marks));

export const onRedirectOutcome = (cb: (outcome: RedirectOutcome) => void): Promise<UnlistenFn> =>
  events.redirectOutcome.listen((e) => cb(e.payload));
export const onDataChanged = (cb: () => void): Promise<UnlistenFn> =>
  events.dataChanged.listen(() => cb());
export const onKeyringChanged = (cb: (status: KeyringStatus) => void): Promise<UnlistenFn> =>
  events.keyringChanged.listen((e) => cb(e.payload));
export const onFocusProfile = (cb: (focus: FocusProfile) => void): Promise<UnlistenFn> =>
  events.focusProfile.listen((e) => cb(e.payload));
// The shell emits `Lifecycle` under tauri-specta's name for it, "lifecycle",
// but does not register it in `collect_events!`, so the bindings have no
// `events.lifecycle` yet: listen by name until they do.
export const onLifecycle = (cb: (event: LifecycleEvent) => void): Promise<UnlistenFn> =>
  listen<LifecycleEvent>('lifecycle', (e) => cb(e.payload));
