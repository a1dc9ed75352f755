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

export const serverKindName = (kind: string): string => serverKindNames[kind] ?? kind;
export const loginName = (login: string): string => loginNames[login] ?? login;

let counter = 0;
/** A prefix for element ids that is unique within the page. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
