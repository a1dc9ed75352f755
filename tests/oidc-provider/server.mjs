// A real, certified OpenID provider (panva/node-oidc-provider) on loopback,
// for crates/core/tests/oidc_provider.rs: one public native client, PKCE
// required, the built-in development login and consent pages, one fixed
// account, refresh tokens for offline_access (rotated on every use) and
// RFC 7009 revocation.
//
//   node server.mjs [port]      (or PORT=…; 0, the default, picks a free one)
//
// With TLS_CERT and TLS_KEY (PEM files) it serves HTTPS, as a real provider
// does (RFC 7009 revocation is refused by clients over plain HTTP).
//
// The first line on stdout is `ISSUER=<url>`. The provider stops when its
// standard input closes, so a test that dies leaves no server behind.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

import Provider from 'oidc-provider';

export const CLIENT_ID = 'latchkey-test';
export const ACCOUNT = {
  email: 'ada@latchkey.test',
  name: 'Ada Lovelace',
};

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`not a port: ${process.argv[2] ?? process.env.PORT}`);
  process.exit(2);
}

const tls = process.env.TLS_CERT && process.env.TLS_KEY;
const server = tls
  ? https.createServer({
    cert: fs.readFileSync(process.env.TLS_CERT),
    key: fs.readFileSync(process.env.TLS_KEY),
  })
  : http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;

// A fresh signing key for each run: the test learns it from the JWKS.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      // A native app: http loopback redirects, any port (RFC 8252 §7.3,
      // which oidc-provider applies to application_type native).
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // The requested claims go into the ID token itself (the summary Latchkey
  // shows is read from it), not only to the userinfo endpoint.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
  },
  // Refresh tokens only for a granted offline_access (the client is allowed
  // the refresh_token grant), a new one at every use, and not ending with
  // the browser session.
  issueRefreshToken: async (_ctx, client, code) => (
    client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access')
  ),
  rotateRefreshToken: () => true,
  expiresWithSession: async (_ctx, token) => !token.scopes.has('offline_access'),
  ttl: {
    AccessToken: 3600,
    IdToken: 3600,
    RefreshToken: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
    Session: 24 * 3600,
    Interaction: 3600,
    AuthorizationCode: 60,
  },
  // Whatever login the sign-in page is given, it is this one account.
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id, email: ACCOUNT.email, email_verified: true, name: ACCOUNT.name,
        };
      },
    };
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// OpenID Connect Core §11: offline_access is ignored unless the request asks
// for consent (prompt=consent), and oidc-provider drops it otherwise.
// Latchkey does not send a prompt, so an authorization request that asks for
// offline_access without any prompt is taken as asking for consent: the
// consent page (shown anyway for a new grant) then grants it. A request that
// names another prompt keeps oidc-provider's rule.
provider.use(async (ctx, next) => {
  if (ctx.path === '/auth' && ctx.method === 'GET') {
    const { scope, prompt } = ctx.query;
    if (typeof scope === 'string' && scope.split(' ').includes('offline_access')
      && prompt === undefined) {
      ctx.query = { ...ctx.query, prompt: 'consent' };
    }
  }
  await next();
});

server.on('request', provider.callback());

process.stdout.write(`ISSUER=${issuer}\n`);

const stop = () => server.close(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
