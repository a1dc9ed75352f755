// Display names for the kebab-case kinds Rust sends. Unknown kinds show as
// they are, so a kind added in Rust appears before anyone names it here.

const serverKindNames: Record<string, string> = {
  kontinuous: 'Kontinuous',
  github: 'GitHub',
  auth0: 'Auth0',
  oidc: 'OpenID Connect',
  quay: 'Quay',
  avassa: 'Avassa',
  dci: 'DCI',
  registry: 'Container registry',
};

const loginNames: Record<string, string> = {
  'github-kontinuous': 'GitHub → Kontinuous',
  github: 'GitHub (browser)',
  'github-device': 'GitHub (device code)',
  auth0: 'Auth0',
  oidc: 'OpenID Connect',
  'avassa-password': 'Avassa password',
  'avassa-oidc': 'Avassa OIDC',
  'avassa-kubernetes': 'Avassa Kubernetes',
  'quay-direct-oauth': 'Quay direct OAuth',
  'quay-session': 'Quay session',
  'quay-registry': 'Quay registry',
  'dci-hmac': 'DCI signed requests',
  'manual-token': 'Token pasted by hand',
};

const historyEvents: Record<string, string> = {
  issued: 'issued',
  renewed: 'renewed',
  'renewal-failed': 'renewal failed',
  copied: 'copied',
  'logged-out': 'logged out',
};

const tokenKinds: Record<string, string> = {
  access: 'Access token',
  refresh: 'Refresh token',
  id: 'ID token',
  session: 'Session',
  registry: 'Registry token',
};

export const serverKindName = (kind: string): string => serverKindNames[kind] ?? kind;
export const loginName = (login: string): string => loginNames[login] ?? login;
/** A line of a profile's history, in words: "renewal-failed" is "renewal failed". */
export const historyEventName = (event: string): string => historyEvents[event] ?? event;
export const tokenKindName = (kind: string): string => tokenKinds[kind] ?? kind;
/** "prod (tenant acme)", or "prod": the tenant goes wherever a token is named. */
export const profileWithTenant = (profile: string, tenant: string | null): string =>
  tenant ? `${profile} (tenant ${tenant})` : profile;

/** "bob · tenant acme", or "bob": how the login dialogs and their confirmation name a profile. */
export const profileDotTenant = (profile: string, tenant: string | null): string =>
  tenant ? `${profile} · tenant ${tenant}` : profile;

let counter = 0;
/** A prefix for element ids that is unique within the page. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
