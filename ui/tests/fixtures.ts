// Test data shaped like what Rust sends. The catalog mirrors
// `latchkey_core::service::catalog()` for the kinds the tests use.

import type { AppInfo, Catalog, LoginSpec, ProfileView, ServerView } from '../src/ipc/api';

const spec = (
  login: LoginSpec['login'],
  required: LoginSpec['required'],
  optional: LoginSpec['optional'],
  secret: LoginSpec['secret'] = null,
): LoginSpec => ({ login, required, optional, secret });

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
  ],
};

export const info: AppInfo = {
  version: '0.1.0',
  data_dir: '/home/dev/.local/share/latchkey',
  keyring_service: 'dev.latchkey.app',
  keyring_problem: null,
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
  expires_at: null,
  renew_due_at: null,
  waiting: false,
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
  expires_at: '2030-01-01T00:00:00Z',
  renew_due_at: null,
  waiting: false,
};
