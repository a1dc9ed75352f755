// Test data shaped like what Rust sends. The catalog mirrors
// `latchkey_core::service::catalog()` for the kinds the tests use.

import type {
  AppInfo,
  Catalog,
  CredentialDetail,
  Inspection,
  LoginSpec,
  ProfileView,
  ServerView,
  SignPreview,
} from '../src/ipc/api';

// What "Log in" does per kind, as `LoginKind::spec` says: only the Avassa
// logins have a provider so far.
const prompts: Partial<Record<LoginSpec['login'], LoginSpec['prompt']>> = {
  'avassa-password': 'password',
  'avassa-kubernetes': 'direct',
  'avassa-oidc': 'browser',
  'dci-hmac': 'sign',
  'quay-direct-oauth': 'password',
  'quay-session': 'password',
  'quay-registry': 'password',
};

/** Quay's direct-OAuth scopes, as `providers::quay::SCOPES` lists them. */
export const quayScopes = [
  'repo:read',
  'repo:write',
  'repo:admin',
  'repo:create',
  'user:read',
  'user:admin',
  'org:admin',
  'super:user',
];

const spec = (
  login: LoginSpec['login'],
  required: LoginSpec['required'],
  optional: LoginSpec['optional'],
  secret: LoginSpec['secret'] = null,
): LoginSpec => ({
  login,
  required,
  optional,
  secret,
  prompt: prompts[login] ?? 'unavailable',
  scope_choices: [],
  logout_warning: null,
});

export const catalog: Catalog = {
  servers: [
    {
      kind: 'kontinuous',
      logins: ['github-kontinuous', 'auth0', 'manual-token'],
      has_tenants: false,
    },
    { kind: 'github', logins: ['github', 'github-device', 'manual-token'], has_tenants: false },
    {
      kind: 'avassa',
      logins: ['avassa-password', 'avassa-oidc', 'avassa-kubernetes', 'manual-token'],
      has_tenants: true,
    },
    { kind: 'dci', logins: ['dci-hmac', 'manual-token'], has_tenants: false },
    {
      kind: 'quay',
      logins: ['quay-direct-oauth', 'quay-session', 'quay-registry', 'manual-token'],
      has_tenants: false,
    },
  ],
  logins: [
    spec('github-kontinuous', ['client_id'], ['scopes', 'redirect', 'redirect_uri']),
    spec('github', ['client_id'], ['scopes', 'redirect', 'redirect_uri'], {
      label: 'Client secret',
      slot: 'client-secret',
      required: false,
    }),
    spec('github-device', ['client_id'], ['scopes']),
    spec('auth0', ['client_id'], ['audience', 'scopes', 'redirect', 'redirect_uri'], {
      label: 'Client secret',
      slot: 'client-secret',
      required: false,
    }),
    spec('avassa-password', ['username'], [], {
      label: 'Password (remember for silent re-login)',
      slot: 'password',
      required: false,
    }),
    spec('avassa-oidc', [], ['role', 'redirect']),
    spec('avassa-kubernetes', ['service', 'role'], ['sa_token_file']),
    spec('dci-hmac', ['access_key'], [], {
      label: 'Secret key',
      slot: 'signing-key',
      required: true,
    }),
    spec('manual-token', [], [], { label: 'Token', slot: 'access-token', required: true }),
    {
      ...spec('quay-direct-oauth', ['username', 'client_id', 'scopes'], ['redirect_uri'], {
        label: 'Password (remember for silent re-login)',
        slot: 'password',
        required: false,
      }),
      scope_choices: quayScopes,
    },
    spec('quay-session', ['username'], [], {
      label: 'Password (remember for silent re-login)',
      slot: 'password',
      required: false,
    }),
    spec('quay-registry', ['username'], ['scopes', 'service', 'source_profile'], {
      label: 'Password or robot token',
      slot: 'password',
      required: false,
    }),
  ],
};

export const info: AppInfo = {
  version: '0.1.0',
  data_dir: '/home/dev/.local/share/latchkey',
  keyring_service: 'dev.latchkey.app',
  keyring_problem: null,
  keyring: { state: 'ok', message: null },
};

export const avassa: ServerView = {
  id: 1,
  name: 'edge',
  kind: 'avassa',
  url: 'https://api.edge.example.com',
  ca_pem: null,
  tenants: [{ id: 10, server_id: 1, name: 'acme' }],
  profile_count: 1,
};

export const github: ServerView = {
  id: 2,
  name: 'gh',
  kind: 'github',
  url: 'https://github.com',
  ca_pem: null,
  tenants: [],
  profile_count: 1,
};

export const edgeProfile: ProfileView = {
  id: 7,
  name: 'edge-alice',
  server: 'edge',
  server_kind: 'avassa',
  tenant: 'acme',
  login: 'avassa-password',
  settings: { username: 'alice' },
  label: 'staging edge',
  status: 'none',
  status_label: 'not logged in',
  issued_at: null,
  expires_at: null,
  renew_due_at: null,
  renewable: false,
  waiting: false,
  renewal_failed_at: null,
};

export const ghProfile: ProfileView = {
  id: 8,
  name: 'gh-work',
  server: 'gh',
  server_kind: 'github',
  tenant: null,
  login: 'github',
  settings: { client_id: 'Iv1.abc', scopes: ['repo', 'read:user'] },
  label: null,
  status: 'valid',
  status_label: 'valid',
  issued_at: null,
  expires_at: '2030-01-01T00:00:00Z',
  renew_due_at: null,
  renewable: false,
  waiting: false,
  renewal_failed_at: null,
};

/** A logged-in Avassa profile of tenant acme, whose token renews by itself. */
export const prodProfile: ProfileView = {
  id: 12,
  name: 'prod',
  server: 'edge',
  server_kind: 'avassa',
  tenant: 'acme',
  login: 'avassa-password',
  settings: { username: 'alice' },
  label: null,
  status: 'valid',
  status_label: 'valid',
  issued_at: null,
  expires_at: '2030-01-01T14:00:00Z',
  renew_due_at: '2030-01-01T13:30:00Z',
  renewable: true,
  waiting: false,
  renewal_failed_at: null,
};

export const dciProfile: ProfileView = {
  id: 13,
  name: 'dci-ci',
  server: 'dci',
  server_kind: 'dci',
  tenant: null,
  login: 'dci-hmac',
  settings: { access_key: 'remoteci/0123' },
  label: null,
  // A DCI profile never holds a token.
  status: 'none',
  status_label: 'not logged in',
  issued_at: null,
  expires_at: null,
  renew_due_at: null,
  renewable: false,
  waiting: false,
  renewal_failed_at: null,
};

export const quay: ServerView = {
  id: 5,
  name: 'quay',
  kind: 'quay',
  url: 'https://quay.example.com',
  ca_pem: null,
  tenants: [],
  profile_count: 2,
};

/** A Quay direct-OAuth profile of alice. */
export const quayOAuthProfile: ProfileView = {
  id: 20,
  name: 'alice-oauth',
  server: 'quay',
  server_kind: 'quay',
  tenant: null,
  login: 'quay-direct-oauth',
  settings: {
    username: 'alice',
    client_id: 'SANDBOXCLIENT0000000',
    scopes: ['repo:read', 'user:read'],
  },
  label: null,
  status: 'none',
  status_label: 'not logged in',
  issued_at: null,
  expires_at: null,
  renew_due_at: null,
  renewable: false,
  waiting: false,
  renewal_failed_at: null,
};

/** A Quay registry profile that presents alice-oauth's token. */
export const quayRegistryProfile: ProfileView = {
  id: 21,
  name: 'pull',
  server: 'quay',
  server_kind: 'quay',
  tenant: null,
  login: 'quay-registry',
  settings: {
    username: '$oauthtoken',
    scopes: ['repository:acme/web:pull'],
    source_profile: 'alice-oauth',
  },
  label: null,
  status: 'none',
  status_label: 'not logged in',
  issued_at: null,
  expires_at: null,
  renew_due_at: null,
  renewable: false,
  waiting: false,
  renewal_failed_at: null,
};

/** The credential of `profile`, as `credential()` answers: history oldest first. */
export function credentialOf(
  profile: ProfileView,
  more: Partial<CredentialDetail> = {},
): CredentialDetail {
  return {
    profile,
    renewable: profile.renewable,
    tokens: [
      {
        kind: 'access',
        issued_at: '2030-01-01T12:00:00Z',
        expires_at: profile.expires_at,
        renew_due_at: profile.renew_due_at,
        scopes: ['read', 'write'],
        summary: [
          { name: 'sub', value: 'alice' },
          { name: 'iss', value: 'https://api.edge.example.com' },
        ],
      },
    ],
    last_error: null,
    history: [
      { at: '2030-01-01T10:00:00Z', event: 'issued', detail: 'expires 2030-01-01T12:00:00Z' },
      { at: '2030-01-01T11:30:00Z', event: 'renewal-failed', detail: 'connection refused' },
      { at: '2030-01-01T12:00:00Z', event: 'renewed', detail: 'expires 2030-01-01T14:00:00Z' },
      { at: '2030-01-01T12:05:00Z', event: 'copied', detail: 'Authorization header' },
    ],
    ...more,
  };
}

/** A Kontinuous-style JWT: the GitHub token inside the claims comes masked. */
export const jwtInspection: Inspection = {
  kind: 'jwt',
  alg: 'HS256',
  kid: 'k1',
  header: { alg: 'HS256', typ: 'JWT', kid: 'k1' },
  claims: {
    sub: 'e2e-user',
    iss: 'https://id.example.com',
    exp: 1893506400,
    identities: [{ provider: 'github', access_token: '••••••••B4a1' }],
  },
  masked: ['identities[0].access_token'],
  times: [
    { claim: 'iat', unix: 1893499200, iso: '2030-01-01T12:00:00Z', relative: '2 h ago' },
    { claim: 'exp', unix: 1893506400, iso: '2030-01-01T14:00:00Z', relative: 'now' },
  ],
  compliant: false,
  warnings: [
    "non-compliant encoding: the claims end in '=' padding, which a JWT leaves out (RFC 7515)",
  ],
};

export const opaqueInspection: Inspection = {
  kind: 'opaque',
  length: 40,
  prefix: 'gho_',
  meaning: 'GitHub OAuth app user token',
};

export const dci: ServerView = {
  id: 3,
  name: 'dci',
  kind: 'dci',
  url: 'https://api.dci.example.com',
  ca_pem: null,
  tenants: [],
  profile_count: 1,
};

/**
 * What Rust previews for a request of `dciProfile` on `dci`: a path is taken
 * on the server, the signature is masked.
 */
export function signPreviewOf(method: string, url: string, body: string): SignPreview {
  const full = url.startsWith('/') ? `${dci.url}${url}` : url;
  const path = new URL(full).pathname;
  return {
    method,
    url: full,
    host: new URL(full).host,
    x_dci_date: '20300101T120000Z',
    authorization:
      'DCI2-HMAC-SHA256 Credential=remoteci/0123/20300101/BHS3/api/dci2_request, ' +
      'SignedHeaders=host;x-dci-date, Signature=…',
    canonical_request: `${method}\n${path}\n\nhost:${new URL(full).host}\nx-dci-date:20300101T120000Z\n\nhost;x-dci-date\nbody-sha256(${body})`,
    string_to_sign: 'DCI2-HMAC-SHA256\n20300101T120000Z\n20300101/BHS3/api/dci2_request\n0f1e2d',
  };
}
