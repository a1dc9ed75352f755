// How the profile form presents each `SettingField` of a login kind's spec, and
// how form text becomes `ProfileSettings`. Which fields a login uses, and which
// are required, comes from the catalog (Rust), never from here.

import type { ProfileSettings, SettingField } from '../ipc/api';

interface FieldLook {
  label: string;
  placeholder: string;
  hint?: string;
}

export const fieldLook: Record<SettingField, FieldLook> = {
  username: { label: 'Username', placeholder: 'alice' },
  client_id: { label: 'Client ID', placeholder: 'Iv1.0123456789abcdef' },
  scopes: {
    label: 'Scopes',
    placeholder: 'read:user repo',
    hint: 'separated by spaces',
  },
  audience: { label: 'Audience', placeholder: 'https://api.example.com' },
  issuer: { label: 'Issuer', placeholder: 'https://id.example.com' },
  role: { label: 'Role', placeholder: 'developer' },
  service: { label: 'Service', placeholder: 'quay.example.com' },
  sa_token_file: {
    label: 'Service-account token file',
    placeholder: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  },
  access_key: { label: 'Access key', placeholder: 'remoteci/0123abcd' },
  redirect: { label: 'Redirect', placeholder: '' },
  redirect_uri: { label: 'Redirect URI', placeholder: 'http://127.0.0.1:8765/callback' },
  source_profile: {
    label: 'Token of profile',
    placeholder: 'quay-oauth',
    hint: 'Its token is sent as the password, with the username $oauthtoken.',
  },
  registry: {
    label: 'Container registry',
    placeholder: 'alice@ghcr.io',
    hint: 'docker-credential-latchkey gives this token to Docker for that registry ([user@]host).',
  },
};

export const redirectChoices: { value: string; label: string }[] = [
  { value: '', label: 'Default for this login' },
  { value: 'loopback', label: 'Loopback (http://127.0.0.1)' },
  { value: 'deep-link', label: 'Deep link (latchkey://callback)' },
  { value: 'device', label: 'Device code (no redirect; OpenID providers that offer it)' },
];

/** The text the form edits, one string per field. */
export type SettingText = Record<SettingField, string>;

export function emptySettingText(): SettingText {
  return {
    username: '',
    client_id: '',
    scopes: '',
    audience: '',
    issuer: '',
    role: '',
    service: '',
    sa_token_file: '',
    access_key: '',
    redirect: '',
    redirect_uri: '',
    source_profile: '',
    registry: '',
  };
}

export function settingTextOf(settings: ProfileSettings): SettingText {
  const text = emptySettingText();
  for (const field of Object.keys(text) as SettingField[]) {
    const value = settings[field];
    if (Array.isArray(value)) text[field] = value.join(' ');
    else if (typeof value === 'string') text[field] = value;
  }
  return text;
}

/**
 * The settings to send: only the fields the chosen login uses (Rust refuses
 * the others), empty text left out.
 */
export function settingsFromText(
  text: SettingText,
  used: readonly SettingField[],
): ProfileSettings {
  const settings: ProfileSettings = {};
  for (const field of used) {
    const value = text[field].trim();
    if (value === '') continue;
    if (field === 'scopes') settings.scopes = value.split(/\s+/);
    else if (field === 'redirect') settings.redirect = value as ProfileSettings['redirect'];
    else settings[field] = value;
  }
  return settings;
}

/** The scopes in the form's text, in order, without repeats. */
export function scopeList(text: string): string[] {
  return [...new Set(text.split(/\s+/).filter((s) => s !== ''))];
}

/**
 * The checkboxes of a login with known scopes: its choices, then any other
 * scope the profile already has (kept, so editing never drops one silently).
 */
export function scopeOptions(choices: readonly string[], text: string): string[] {
  return [...choices, ...scopeList(text).filter((s) => !choices.includes(s))];
}

/** The form's scopes text after checking or unchecking `scope`, in `order`. */
export function toggleScope(
  text: string,
  scope: string,
  checked: boolean,
  order: readonly string[],
): string {
  const chosen = new Set(scopeList(text));
  if (checked) chosen.add(scope);
  else chosen.delete(scope);
  return order.filter((s) => chosen.has(s)).join(' ');
}
