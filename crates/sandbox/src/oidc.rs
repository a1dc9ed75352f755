//! A small OpenID Connect provider, faithful to the standards a client relies
//! on: discovery (OIDC Discovery 1.0), the authorization code flow with PKCE
//! S256 only (RFC 6749, RFC 7636) and the `iss` authorization response
//! parameter (RFC 9207), RS256 ID and access tokens (RFC 9068) with their JWKS,
//! refresh token rotation with reuse detection, userinfo (RFC 6750 errors),
//! token revocation (RFC 7009), RP-initiated logout, and the device
//! authorization grant (RFC 8628). The "browser" approves at once.
//!
//! Mounted twice: at `/oidc` as a [`Flavor::Generic`] provider, and at
//! `/auth0` as a [`Flavor::Auth0`] tenant, which follows Auth0's paths and
//! habits: an issuer ending in `/`, exact redirect URIs only, `audience`, and
//! refresh tokens only with the `offline_access` scope.
//!
//! Every notion of time comes from the [`SharedClock`], so a test expires
//! codes and tokens by moving its clock. Token endpoint errors use RFC 6749's
//! `{"error","error_description"}`; the authorization endpoint reports a bad
//! client or redirect URI on an HTML page and never redirects there.

// Helpers return the error `Response` for the handler to send as is; its size
// does not matter in a test server, and boxing it would only add noise.
#![allow(clippy::result_large_err)]

use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use latchkey_core::clock::SharedClock;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use time::{Duration, OffsetDateTime};
use url::Url;

/// The public client (a desktop app): no secret, PKCE required.
pub const PUBLIC_CLIENT_ID: &str = "sandbox-oidc-client";
/// The public client `--seed` configures for the Auth0 tenant; it behaves
/// exactly like [`PUBLIC_CLIENT_ID`], and both flavors know it.
pub const AUTH0_CLIENT_ID: &str = "sandbox-auth0-client";
/// The confidential client, authenticated with `client_secret_basic` or
/// `client_secret_post`. Test values.
pub const CONFIDENTIAL_CLIENT_ID: &str = "sandbox-oidc-confidential";
pub const CONFIDENTIAL_CLIENT_SECRET: &str = "sandbox-oidc-confidential-secret-not-real";
/// The Auth0 application of a Kontinuous installation (protocols §1.5): its
/// ID tokens are HS256-signed with the client secret, which Kontinuous holds
/// base64url-encoded as its `AUTH_SECRET`, and carry the user's GitHub token
/// in `identities[0].access_token` (what an Auth0 rule adds).
pub const KONTINUOUS_CLIENT_ID: &str = "sandbox-auth0-kontinuous";
/// The decoded [`crate::kontinuous::AUTH_SECRET`].
pub const KONTINUOUS_CLIENT_SECRET: &str = "kontinuous-test-secret-0123456789";

/// The one user, who is always signed in at the provider.
pub const USER_SUB: &str = "user-1234";
pub const USER_EMAIL: &str = "dev@example.com";
pub const USER_NAME: &str = "Dev Eloper";

/// Registered for every client in both flavors.
pub const DEFAULT_REDIRECT_URI: &str = "latchkey://callback";
/// The grant type of RFC 8628.
pub const DEVICE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How long an authorization code can be redeemed.
pub const CODE_LIFETIME: Duration = Duration::seconds(60);
/// How long a device code can be polled (`expires_in`).
pub const DEVICE_CODE_LIFETIME: Duration = Duration::seconds(600);
/// How long an ID token is valid.
pub const ID_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// The default access token lifetime (see [`Oidc::set_access_ttl`]).
pub const DEFAULT_ACCESS_TTL: Duration = Duration::hours(1);
/// The default device polling interval (see [`Oidc::set_device_interval`]).
pub const DEFAULT_DEVICE_INTERVAL: Duration = Duration::seconds(5);

const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];
const CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "email",
    "email_verified",
    "name",
    "sid",
];
const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "none"];

/// Which provider's conventions to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Generic,
    Auth0,
}

/// Where each endpoint lives, relative to the mount point.
struct Paths {
    authorize: &'static str,
    token: &'static str,
    jwks: &'static str,
    userinfo: &'static str,
    revoke: &'static str,
    logout: &'static str,
    device: &'static str,
    verify: &'static str,
}

const GENERIC_PATHS: Paths = Paths {
    authorize: "/authorize",
    token: "/token",
    jwks: "/jwks",
    userinfo: "/userinfo",
    revoke: "/revoke",
    logout: "/logout",
    device: "/device",
    verify: "/device/verify",
};

const AUTH0_PATHS: Paths = Paths {
    authorize: "/authorize",
    token: "/oauth/token",
    jwks: "/.well-known/jwks.json",
    userinfo: "/userinfo",
    revoke: "/oauth/revoke",
    logout: "/oidc/logout",
    device: "/oauth/device/code",
    verify: "/activate",
};

impl Flavor {
    fn paths(self) -> &'static Paths {
        match self {
            Flavor::Generic => &GENERIC_PATHS,
            Flavor::Auth0 => &AUTH0_PATHS,
        }
    }
}

struct Client {
    id: &'static str,
    secret: Option<&'static str>,
}

const CLIENTS: &[Client] = &[
    Client {
        id: PUBLIC_CLIENT_ID,
        secret: None,
    },
    Client {
        id: AUTH0_CLIENT_ID,
        secret: None,
    },
    Client {
        id: CONFIDENTIAL_CLIENT_ID,
        secret: Some(CONFIDENTIAL_CLIENT_SECRET),
    },
    Client {
        id: KONTINUOUS_CLIENT_ID,
        secret: Some(KONTINUOUS_CLIENT_SECRET),
    },
];

fn find_client(id: &str) -> Option<&'static Client> {
    CLIENTS.iter().find(|c| c.id == id)
}

/// One of the two fixed RSA test keys, with what the JWKS says about it.
struct SigningKey {
    kid: String,
    n: String,
    e: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

const KEY_PEMS: [&str; 2] = [
    include_str!("../keys/signing-1.pem"),
    include_str!("../keys/signing-2.pem"),
];

impl SigningKey {
    fn load(pem: &str) -> Self {
        let private =
            rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("the sandbox key is PKCS#8 RSA");
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        // RFC 7638 thumbprint: the required members in lexicographic order.
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(format!(
            r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#
        )));
        Self {
            kid,
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM for signing"),
            decoding: DecodingKey::from_rsa_components(&n, &e).expect("RSA components"),
            n,
            e,
        }
    }

    fn jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": self.n,
            "e": self.e,
        })
    }

    fn sign(&self, typ: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(typ.to_string());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("RS256 signing")
    }
}

fn keys() -> &'static [SigningKey; 2] {
    static KEYS: OnceLock<[SigningKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| KEY_PEMS.map(SigningKey::load))
}

struct AuthCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: Vec<String>,
    nonce: Option<String>,
    audience: Option<String>,
    auth_time: OffsetDateTime,
    expires: OffsetDateTime,
    redeemed: bool,
    /// The grant its tokens belong to, once redeemed successfully.
    grant: Option<String>,
}

/// One authorization (a redeemed code or device code): every access and
/// refresh token issued from it, through any number of refreshes, belongs to
/// it, and revoking it revokes them all.
#[derive(Clone)]
struct Grant {
    client_id: String,
    scope: Vec<String>,
    audience: Option<String>,
    auth_time: OffsetDateTime,
    revoked: bool,
}

struct AccessRecord {
    grant: String,
    client_id: String,
    scope: Vec<String>,
    expires: OffsetDateTime,
    revoked: bool,
}

#[derive(Clone)]
struct RefreshRecord {
    grant: String,
    /// Exchanged once already; presenting it again is reuse.
    rotated: bool,
    revoked: bool,
    /// The access token issued in the same answer.
    access: String,
}

/// Where a refresh token stands at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    /// The one to present next.
    Current,
    /// Exchanged already: presenting it again revokes the grant.
    Rotated,
    /// Revoked, with its grant or alone.
    Revoked,
    /// Never issued here.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceState {
    Pending,
    Approved,
    Denied,
}

struct DeviceAuth {
    device_code: String,
    user_code: String,
    client_id: String,
    scope: Vec<String>,
    audience: Option<String>,
    expires: OffsetDateTime,
    interval: Duration,
    last_poll: Option<OffsetDateTime>,
    state: DeviceState,
    auth_time: Option<OffsetDateTime>,
}

struct Inner {
    down: bool,
    deny_next: bool,
    access_ttl: Duration,
    device_interval: Duration,
    /// Whether discovery names the device authorization endpoint.
    advertise_device: bool,
    key: usize,
    redirect_uris: Vec<String>,
    codes: HashMap<String, AuthCode>,
    grants: HashMap<String, Grant>,
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    /// In creation order: the last pending one is "the most recent".
    devices: Vec<DeviceAuth>,
    refreshes: u32,
    logouts: u32,
    revocations: u32,
}

impl Inner {
    fn revoke_grant(&mut self, grant: &str) {
        if let Some(g) = self.grants.get_mut(grant) {
            g.revoked = true;
        }
        for a in self.access.values_mut().filter(|a| a.grant == grant) {
            a.revoked = true;
        }
        for r in self.refresh.values_mut().filter(|r| r.grant == grant) {
            r.revoked = true;
        }
    }
}

/// One provider's state; clones share it, so a test keeps one to deny the next
/// login, rotate the signing key, take the provider down or read counters.
#[derive(Clone)]
pub struct Oidc {
    inner: Arc<Mutex<Inner>>,
    clock: SharedClock,
    /// As it appears in tokens and discovery (Auth0's ends with `/`).
    issuer: String,
    /// The mount point, without a trailing slash; endpoints hang off it.
    base: String,
    flavor: Flavor,
    /// Where the Kontinuous application's GitHub identities come from.
    github: Option<crate::github::GitHub>,
}

fn random_token() -> String {
    let b: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(b)
}

/// `XXXX-XXXX` from RFC 8628 §6.1's consonants: easy to read and type.
fn user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        code.push(ALPHABET[rand::random_range(0..ALPHABET.len())] as char);
    }
    code
}

fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c))
}

fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    valid_verifier(verifier)
        && constant_time_eq(
            &URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            challenge,
        )
}

fn split_scope(scope: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

fn has(scope: &[String], name: &str) -> bool {
    scope.iter().any(|s| s == name)
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(format!(
            "<!doctype html><html><head><title>{t}</title></head>\
             <body><h1>{t}</h1><p>{m}</p></body></html>\n",
            t = escape_html(title),
            m = escape_html(message),
        )),
    )
        .into_response()
}

/// RFC 6749 §5.2's error body.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn bad_request(error: &str, description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
        .into_response()
}

/// Request parameters. A parameter sent without a value counts as absent
/// (RFC 6749 §3.1); one sent twice is remembered, to be refused.
struct Params {
    map: HashMap<String, String>,
    duplicate: Option<String>,
}

impl Params {
    fn form(text: &str) -> Self {
        let mut map = HashMap::new();
        let mut duplicate = None;
        for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
            if v.is_empty() {
                continue;
            }
            if map.insert(k.to_string(), v.to_string()).is_some() && duplicate.is_none() {
                duplicate = Some(k.to_string());
            }
        }
        Self { map, duplicate }
    }

    fn json(text: &str) -> Option<Self> {
        let Value::Object(obj) = serde_json::from_str(text).ok()? else {
            return None;
        };
        let map = obj
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) if !s.is_empty() => Some((k, s)),
                Value::Number(n) => Some((k, n.to_string())),
                _ => None,
            })
            .collect();
        Some(Self {
            map,
            duplicate: None,
        })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }
}

/// One value of an `application/x-www-form-urlencoded` encoding, decoded.
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

impl Oidc {
    /// `issuer` is where this provider is mounted, e.g. `http://127.0.0.1:PORT/oidc`.
    /// The Auth0 flavor's issuer gets a trailing `/`, as Auth0's has.
    pub fn new(clock: SharedClock, issuer: String, flavor: Flavor) -> Self {
        let base = issuer.trim_end_matches('/').to_string();
        let issuer = match flavor {
            Flavor::Generic => base.clone(),
            Flavor::Auth0 => format!("{base}/"),
        };
        Self {
            inner: Arc::new(Mutex::new(Inner {
                down: false,
                deny_next: false,
                access_ttl: DEFAULT_ACCESS_TTL,
                device_interval: DEFAULT_DEVICE_INTERVAL,
                advertise_device: true,
                key: 0,
                redirect_uris: vec![DEFAULT_REDIRECT_URI.to_string()],
                codes: HashMap::new(),
                grants: HashMap::new(),
                access: HashMap::new(),
                refresh: HashMap::new(),
                devices: Vec::new(),
                refreshes: 0,
                logouts: 0,
                revocations: 0,
            })),
            clock,
            issuer,
            base,
            flavor,
            github: None,
        }
    }

    /// Lets the Kontinuous application's ID tokens carry a GitHub token of
    /// this sandbox GitHub, so that the sandbox Kontinuous accepts them.
    pub fn with_github(mut self, github: crate::github::GitHub) -> Self {
        self.github = Some(github);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("oidc sandbox lock")
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The issuer, exactly as in discovery and in the tokens' `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        self.endpoint("/.well-known/openid-configuration")
    }

    /// Whether discovery advertises the device flow (it does by default); the
    /// endpoint keeps answering, as a provider's would after a config change.
    pub fn set_device_advertised(&self, advertised: bool) {
        self.lock().advertise_device = advertised;
    }

    /// Takes the provider down (every endpoint answers 503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The next authorization (browser or device verification page) is
    /// refused by the user: `access_denied`.
    pub fn deny_next(&self) {
        self.lock().deny_next = true;
    }

    /// Registers one more exact redirect URI (also allowed as a post-logout
    /// redirect URI). `latchkey://callback` is registered from the start.
    pub fn register_redirect_uri(&self, uri: impl Into<String>) {
        let uri = uri.into();
        let mut s = self.lock();
        if !s.redirect_uris.contains(&uri) {
            s.redirect_uris.push(uri);
        }
    }

    /// Switches signing (and the JWKS) to the other test key; the old key
    /// leaves the JWKS, so a client's cached JWKS misses the new `kid`.
    /// Calling it again switches back.
    pub fn rotate_key(&self) {
        let mut s = self.lock();
        s.key = 1 - s.key;
    }

    /// The `kid` of the key new tokens are signed with.
    pub fn signing_kid(&self) -> String {
        keys()[self.lock().key].kid.clone()
    }

    /// The lifetime of access tokens issued from now on (default 1 h).
    pub fn set_access_ttl(&self, ttl: Duration) {
        self.lock().access_ttl = ttl;
    }

    /// The polling interval given to device codes issued from now on
    /// (default 5 s).
    pub fn set_device_interval(&self, interval: Duration) {
        self.lock().device_interval = interval;
    }

    fn set_device_state(&self, user_code: &str, state: DeviceState) -> bool {
        let now = self.now();
        let wanted = normalize_user_code(user_code);
        let mut s = self.lock();
        match s.devices.iter_mut().find(|d| {
            normalize_user_code(&d.user_code) == wanted
                && d.state == DeviceState::Pending
                && d.expires > now
        }) {
            Some(d) => {
                d.state = state;
                d.auth_time = Some(now);
                true
            }
            None => false,
        }
    }

    /// Approves the pending device authorization with this user code, as the
    /// user would on the verification page. False if there is none.
    pub fn approve_device(&self, user_code: &str) -> bool {
        self.set_device_state(user_code, DeviceState::Approved)
    }

    /// Denies the pending device authorization with this user code.
    pub fn deny_device(&self, user_code: &str) -> bool {
        self.set_device_state(user_code, DeviceState::Denied)
    }

    /// The user code of the most recent device authorization still pending.
    pub fn last_user_code(&self) -> Option<String> {
        let now = self.now();
        self.lock()
            .devices
            .iter()
            .rev()
            .find(|d| d.state == DeviceState::Pending && d.expires > now)
            .map(|d| d.user_code.clone())
    }

    /// Revokes every refresh token issued so far (as when the user removes the
    /// app's access); access tokens live on until they expire.
    pub fn revoke_all_refresh_tokens(&self) {
        for r in self.lock().refresh.values_mut() {
            r.revoked = true;
        }
    }

    /// Whether the provider would accept `access_token` now: issued here, not
    /// expired, not revoked.
    pub fn is_active(&self, access_token: &str) -> bool {
        let now = self.now();
        let s = self.lock();
        s.access.get(access_token).is_some_and(|a| {
            !a.revoked && a.expires > now && s.grants.get(&a.grant).is_some_and(|g| !g.revoked)
        })
    }

    /// Where `refresh_token` stands: current, rotated away, revoked or
    /// unknown (the crash test asks this of what a killed process left).
    pub fn refresh_state(&self, refresh_token: &str) -> RefreshState {
        let s = self.lock();
        match s.refresh.get(refresh_token) {
            None => RefreshState::Unknown,
            Some(r) if r.revoked || s.grants.get(&r.grant).is_none_or(|g| g.revoked) => {
                RefreshState::Revoked
            }
            Some(r) if r.rotated => RefreshState::Rotated,
            Some(_) => RefreshState::Current,
        }
    }

    /// Where `access_token` stands: `"active"`, `"expired"`, `"revoked"` or
    /// `"unknown"` (the crash test tells a token that merely lived out its
    /// second from one of a revoked grant).
    pub fn access_state(&self, access_token: &str) -> &'static str {
        let now = self.now();
        let s = self.lock();
        match s.access.get(access_token) {
            None => "unknown",
            Some(a) if a.revoked || s.grants.get(&a.grant).is_none_or(|g| g.revoked) => "revoked",
            Some(a) if a.expires <= now => "expired",
            Some(_) => "active",
        }
    }

    /// Whether `access_token` came in the same answer as `refresh_token`.
    pub fn issued_together(&self, access_token: &str, refresh_token: &str) -> bool {
        self.lock()
            .refresh
            .get(refresh_token)
            .is_some_and(|r| r.access == access_token)
    }

    /// Refresh-token grant requests so far (answered or refused).
    pub fn refreshes(&self) -> u32 {
        self.lock().refreshes
    }

    /// Logout (end-session) requests accepted so far.
    pub fn logouts(&self) -> u32 {
        self.lock().logouts
    }

    /// Revocation requests accepted so far (including unknown tokens).
    pub fn revocations(&self) -> u32 {
        self.lock().revocations
    }

    /// Registered exactly, or for the generic flavor a loopback
    /// `http://127.0.0.1:<port>/callback` or `http://[::1]:<port>/callback`
    /// with any port (RFC 8252 §7.3).
    fn redirect_allowed(&self, uri: &str) -> bool {
        if self.lock().redirect_uris.iter().any(|r| r == uri) {
            return true;
        }
        if self.flavor != Flavor::Generic {
            return false;
        }
        let Ok(url) = Url::parse(uri) else {
            return false;
        };
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
            Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
            _ => false,
        };
        url.scheme() == "http"
            && loopback
            && url.path() == "/callback"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none()
            && url.as_str() == uri
    }

    /// `redirect_uri` with the response parameters, `state` and, for the
    /// generic flavor, `iss` (RFC 9207).
    fn redirect_back(
        &self,
        redirect_uri: &str,
        params: &[(&str, &str)],
        state: Option<&str>,
    ) -> Response {
        let Ok(mut url) = Url::parse(redirect_uri) else {
            return page(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "invalid redirect_uri",
            );
        };
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
            if let Some(state) = state {
                q.append_pair("state", state);
            }
            if self.flavor == Flavor::Generic {
                q.append_pair("iss", &self.issuer);
            }
        }
        found(url.as_str())
    }

    fn authorize(&self, p: Params) -> Response {
        let bad = |m: &str| page(StatusCode::BAD_REQUEST, "Authorization failed", m);
        if let Some(d @ ("client_id" | "redirect_uri")) = p.duplicate.as_deref() {
            return bad(&format!("{d} was given more than once"));
        }
        let Some(client_id) = p.get("client_id") else {
            return bad("client_id is missing");
        };
        if find_client(client_id).is_none() {
            return bad(&format!("unknown client_id {client_id}"));
        }
        let Some(redirect_uri) = p.get("redirect_uri") else {
            return bad("redirect_uri is missing");
        };
        if !self.redirect_allowed(redirect_uri) {
            return bad(&format!(
                "redirect_uri {redirect_uri} is not registered for client {client_id}"
            ));
        }
        let state = p.get("state");
        let error = |error: &str, description: &str| {
            self.redirect_back(
                redirect_uri,
                &[("error", error), ("error_description", description)],
                state,
            )
        };
        if let Some(d) = &p.duplicate {
            return error("invalid_request", &format!("{d} was given more than once"));
        }
        match p.get("response_type") {
            Some("code") => {}
            None => return error("invalid_request", "response_type is required"),
            Some(_) => {
                return error(
                    "unsupported_response_type",
                    "only response_type=code is supported",
                )
            }
        }
        let Some(challenge) = p.get("code_challenge") else {
            return error(
                "invalid_request",
                "PKCE is required: code_challenge is missing",
            );
        };
        if p.get("code_challenge_method") != Some("S256") {
            return error(
                "invalid_request",
                "PKCE code_challenge_method must be S256 (plain is not allowed)",
            );
        }
        if challenge.len() != 43 || !is_base64url(challenge) {
            return error(
                "invalid_request",
                "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
            );
        }
        let scope = split_scope(p.get("scope"));
        if self.flavor == Flavor::Generic {
            if let Some(unknown) = scope.iter().find(|s| !SCOPES.contains(&s.as_str())) {
                return error("invalid_scope", &format!("unknown scope {unknown}"));
            }
        }
        let now = self.now();
        let mut s = self.lock();
        if std::mem::take(&mut s.deny_next) {
            drop(s);
            return error("access_denied", "The user did not authorize the request");
        }
        let code = random_token();
        s.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                challenge: challenge.to_string(),
                scope,
                nonce: p.get("nonce").map(str::to_string),
                audience: match self.flavor {
                    Flavor::Auth0 => p.get("audience").map(str::to_string),
                    Flavor::Generic => None,
                },
                auth_time: now,
                expires: now + CODE_LIFETIME,
                redeemed: false,
                grant: None,
            },
        );
        drop(s);
        self.redirect_back(redirect_uri, &[("code", &code)], state)
    }

    /// The parameters of a POST: a form, or for Auth0 also JSON.
    fn body_params(&self, headers: &HeaderMap, body: &str) -> Result<Params, Response> {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let p = if json && self.flavor == Flavor::Auth0 {
            Params::json(body)
                .ok_or_else(|| bad_request("invalid_request", "the body is not a JSON object"))?
        } else {
            Params::form(body)
        };
        match &p.duplicate {
            Some(d) => Err(bad_request(
                "invalid_request",
                &format!("{d} was given more than once"),
            )),
            None => Ok(p),
        }
    }

    fn invalid_client(&self, description: &str) -> Response {
        let mut r = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
        let challenge = format!("Basic realm=\"{}\"", self.issuer);
        if let Ok(v) = challenge.parse() {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }

    /// RFC 6749 §2.3: `client_secret_basic`, `client_secret_post`, or a public
    /// client naming itself with `client_id`; never two methods at once.
    fn authenticate_client(
        &self,
        headers: &HeaderMap,
        p: &Params,
    ) -> Result<&'static Client, Response> {
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, creds)| creds.trim().to_string());
        let (id, secret) = match basic {
            Some(creds) => {
                if p.get("client_secret").is_some() {
                    return Err(bad_request(
                        "invalid_request",
                        "use one client authentication method, not Basic and client_secret",
                    ));
                }
                let decoded = STANDARD
                    .decode(creds)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
                    return Err(self.invalid_client("malformed Basic credentials"));
                };
                let (id, secret) = (form_decode(id), form_decode(secret));
                if p.get("client_id").is_some_and(|c| c != id) {
                    return Err(bad_request(
                        "invalid_request",
                        "client_id differs from the Basic credentials",
                    ));
                }
                (id, Some(secret))
            }
            None => {
                let Some(id) = p.get("client_id") else {
                    return Err(self.invalid_client("client authentication failed: no client_id"));
                };
                (id.to_string(), p.get("client_secret").map(str::to_string))
            }
        };
        let Some(client) = find_client(&id) else {
            return Err(self.invalid_client(&format!("unknown client {id}")));
        };
        match (client.secret, secret) {
            (None, _) => Ok(client),
            (Some(expected), Some(given)) if constant_time_eq(&given, expected) => Ok(client),
            (Some(_), Some(_)) => {
                Err(self.invalid_client("client authentication failed: wrong secret"))
            }
            (Some(_), None) => Err(self.invalid_client(
                "client authentication failed: a confidential client must send its secret",
            )),
        }
    }

    fn access_audience(&self, grant: &Grant) -> Value {
        match self.flavor {
            Flavor::Generic => json!(grant.client_id),
            Flavor::Auth0 => {
                let userinfo = format!("{}userinfo", self.issuer);
                match &grant.audience {
                    Some(api) if has(&grant.scope, "openid") => json!([api, userinfo]),
                    Some(api) => json!(api),
                    None => json!(userinfo),
                }
            }
        }
    }

    /// Mints the token response for `grant_id`. The caller holds the lock.
    fn issue(
        &self,
        s: &mut Inner,
        grant_id: &str,
        scope: &[String],
        nonce: Option<&str>,
        with_refresh: bool,
    ) -> Response {
        let now = self.now();
        let grant = s.grants[grant_id].clone();
        let key = &keys()[s.key];
        let scope_text = scope.join(" ");
        let expires = now + s.access_ttl;
        let mut claims = json!({
            "iss": self.issuer,
            "sub": USER_SUB,
            "aud": self.access_audience(&grant),
            "iat": now.unix_timestamp(),
            "exp": expires.unix_timestamp(),
            "scope": scope_text,
            "client_id": grant.client_id,
            "jti": random_token(),
        });
        let typ = match self.flavor {
            Flavor::Generic => "at+jwt",
            Flavor::Auth0 => {
                claims["azp"] = json!(grant.client_id);
                "JWT"
            }
        };
        let access_token = key.sign(typ, &claims);
        s.access.insert(
            access_token.clone(),
            AccessRecord {
                grant: grant_id.to_string(),
                client_id: grant.client_id.clone(),
                scope: scope.to_vec(),
                expires,
                revoked: false,
            },
        );
        let mut body = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": s.access_ttl.whole_seconds(),
            "scope": scope_text,
        });
        if has(scope, "openid") {
            let mut id = json!({
                "iss": self.issuer,
                "sub": USER_SUB,
                "aud": grant.client_id,
                "iat": now.unix_timestamp(),
                "exp": (now + ID_TOKEN_LIFETIME).unix_timestamp(),
                "auth_time": grant.auth_time.unix_timestamp(),
                "sid": grant_id,
                "email": USER_EMAIL,
                "email_verified": true,
                "name": USER_NAME,
            });
            if let Some(nonce) = nonce {
                id["nonce"] = json!(nonce);
            }
            body["id_token"] = if grant.client_id == KONTINUOUS_CLIENT_ID {
                if let Some(github) = &self.github {
                    id["identities"] = json!([{
                        "provider": "github",
                        "connection": "github",
                        "access_token": github.mint_user_token(),
                    }]);
                }
                let mut header = Header::new(Algorithm::HS256);
                header.typ = Some("JWT".into());
                json!(jsonwebtoken::encode(
                    &header,
                    &id,
                    &EncodingKey::from_secret(KONTINUOUS_CLIENT_SECRET.as_bytes())
                )
                .expect("HS256 signing"))
            } else {
                json!(key.sign("JWT", &id))
            };
        }
        if with_refresh {
            let refresh_token = random_token();
            s.refresh.insert(
                refresh_token.clone(),
                RefreshRecord {
                    grant: grant_id.to_string(),
                    rotated: false,
                    revoked: false,
                    access: access_token.clone(),
                },
            );
            body["refresh_token"] = json!(refresh_token);
        }
        (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            Json(body),
        )
            .into_response()
    }

    /// Whether a first grant (code or device) comes with a refresh token.
    fn first_refresh(&self, scope: &[String]) -> bool {
        match self.flavor {
            Flavor::Generic => true,
            Flavor::Auth0 => has(scope, "offline_access"),
        }
    }

    fn new_grant(
        s: &mut Inner,
        client_id: &str,
        scope: &[String],
        audience: Option<String>,
        auth_time: OffsetDateTime,
    ) -> String {
        let id = random_token();
        s.grants.insert(
            id.clone(),
            Grant {
                client_id: client_id.to_string(),
                scope: scope.to_vec(),
                audience,
                auth_time,
                revoked: false,
            },
        );
        id
    }

    fn code_grant(&self, client: &Client, p: &Params) -> Response {
        let Some(code) = p.get("code") else {
            return bad_request("invalid_request", "code is required");
        };
        let Some(verifier) = p.get("code_verifier") else {
            return bad_request("invalid_request", "code_verifier is required (PKCE)");
        };
        let now = self.now();
        let mut s = self.lock();
        let Some(c) = s.codes.get_mut(code) else {
            return bad_request("invalid_grant", "unknown authorization code");
        };
        if c.client_id != client.id {
            return bad_request("invalid_grant", "the code was issued to another client");
        }
        if c.redeemed {
            // RFC 6749 §4.1.2: a code used twice revokes what it gave.
            if let Some(grant) = c.grant.clone() {
                s.revoke_grant(&grant);
            }
            return bad_request(
                "invalid_grant",
                "authorization code already used; the tokens issued from it are revoked",
            );
        }
        c.redeemed = true;
        if c.expires <= now {
            return bad_request("invalid_grant", "authorization code expired");
        }
        if p.get("redirect_uri") != Some(c.redirect_uri.as_str()) {
            return bad_request(
                "invalid_grant",
                "redirect_uri does not match the authorization request",
            );
        }
        if !pkce_matches(verifier, &c.challenge) {
            return bad_request(
                "invalid_grant",
                "code_verifier does not match the code_challenge",
            );
        }
        let (scope, nonce, audience, auth_time) = (
            c.scope.clone(),
            c.nonce.clone(),
            c.audience.clone(),
            c.auth_time,
        );
        let grant = Self::new_grant(&mut s, client.id, &scope, audience, auth_time);
        if let Some(c) = s.codes.get_mut(code) {
            c.grant = Some(grant.clone());
        }
        let with_refresh = self.first_refresh(&scope);
        self.issue(&mut s, &grant, &scope, nonce.as_deref(), with_refresh)
    }

    fn refresh_grant(&self, client: &Client, p: &Params) -> Response {
        let mut s = self.lock();
        s.refreshes += 1;
        let Some(token) = p.get("refresh_token") else {
            return bad_request("invalid_request", "refresh_token is required");
        };
        let Some(r) = s.refresh.get(token).cloned() else {
            return bad_request("invalid_grant", "unknown refresh token");
        };
        let Some(grant) = s.grants.get(&r.grant).cloned() else {
            return bad_request("invalid_grant", "unknown refresh token");
        };
        if grant.client_id != client.id {
            return bad_request(
                "invalid_grant",
                "the refresh token was issued to another client",
            );
        }
        if r.revoked || grant.revoked {
            return bad_request("invalid_grant", "refresh token revoked");
        }
        if r.rotated {
            s.revoke_grant(&r.grant);
            return bad_request(
                "invalid_grant",
                "refresh token already used (reuse detected): every token of this grant is revoked",
            );
        }
        let scope = match p.get("scope") {
            None => grant.scope.clone(),
            Some(asked) => {
                let asked = split_scope(Some(asked));
                if let Some(extra) = asked.iter().find(|a| !has(&grant.scope, a)) {
                    return bad_request(
                        "invalid_scope",
                        &format!("scope {extra} was not granted originally"),
                    );
                }
                asked
            }
        };
        if let Some(r) = s.refresh.get_mut(token) {
            r.rotated = true;
        }
        self.issue(&mut s, &r.grant, &scope, None, true)
    }

    fn device_grant(&self, client: &Client, p: &Params) -> Response {
        let Some(device_code) = p.get("device_code") else {
            return bad_request("invalid_request", "device_code is required");
        };
        let now = self.now();
        let mut s = self.lock();
        let Some(i) = s.devices.iter().position(|d| d.device_code == device_code) else {
            return bad_request("invalid_grant", "unknown device code");
        };
        let d = &mut s.devices[i];
        if d.client_id != client.id {
            return bad_request(
                "invalid_grant",
                "the device code was issued to another client",
            );
        }
        if d.expires <= now {
            return bad_request("expired_token", "the device code has expired");
        }
        let state = d.state;
        match state {
            DeviceState::Denied => {
                s.devices.remove(i);
                bad_request("access_denied", "the user denied the request")
            }
            DeviceState::Pending => {
                let early = d.last_poll.is_some_and(|last| now - last < d.interval);
                d.last_poll = Some(now);
                if early {
                    // RFC 8628 §3.5: 5 more seconds for this and later polls.
                    d.interval += Duration::seconds(5);
                    let description = format!(
                        "polling too fast; wait {} s between polls",
                        d.interval.whole_seconds()
                    );
                    bad_request("slow_down", &description)
                } else {
                    bad_request("authorization_pending", "the user has not approved yet")
                }
            }
            DeviceState::Approved => {
                let d = s.devices.remove(i);
                let auth_time = d.auth_time.unwrap_or(now);
                let grant = Self::new_grant(&mut s, client.id, &d.scope, d.audience, auth_time);
                let with_refresh = self.first_refresh(&d.scope);
                self.issue(&mut s, &grant, &d.scope, None, with_refresh)
            }
        }
    }

    fn discovery(&self) -> Value {
        let p = self.flavor.paths();
        let mut doc = json!({
            "issuer": self.issuer,
            "authorization_endpoint": self.endpoint(p.authorize),
            "token_endpoint": self.endpoint(p.token),
            "jwks_uri": self.endpoint(p.jwks),
            "userinfo_endpoint": self.endpoint(p.userinfo),
            "revocation_endpoint": self.endpoint(p.revoke),
            "end_session_endpoint": self.endpoint(p.logout),
            "device_authorization_endpoint": self.endpoint(p.device),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT_TYPE],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": match self.flavor {
                Flavor::Generic => json!(["RS256"]),
                // Auth0 applications may choose HS256 (the client secret).
                Flavor::Auth0 => json!(["RS256", "HS256"]),
            },
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
            "scopes_supported": SCOPES,
            "claims_supported": CLAIMS,
        });
        if self.flavor == Flavor::Generic {
            doc["authorization_response_iss_parameter_supported"] = json!(true);
        }
        if !self.lock().advertise_device {
            if let Some(doc) = doc.as_object_mut() {
                doc.remove("device_authorization_endpoint");
            }
        }
        doc
    }

    /// The claims of an ID token this provider signed with either key, expired
    /// or not (OIDC RP-Initiated Logout §2: an expired hint is fine).
    fn own_id_token(&self, token: &str) -> Option<Value> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = keys()
            .iter()
            .find(|k| Some(&k.kid) == header.kid.as_ref())?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.issuer]);
        jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
            .ok()
            .map(|d| d.claims)
            // Only ID tokens carry `sid`; an access token is no hint.
            .filter(|c| c.get("sid").is_some() && c["aud"].is_string())
    }

    fn logout(&self, p: Params) -> Response {
        let bad = |m: &str| page(StatusCode::BAD_REQUEST, "Logout failed", m);
        if let Some(d) = &p.duplicate {
            return bad(&format!("{d} was given more than once"));
        }
        let hinted = match p.get("id_token_hint") {
            Some(hint) => match self.own_id_token(hint) {
                Some(claims) => claims
                    .get("aud")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                None => return bad("id_token_hint is not an ID token this provider issued"),
            },
            None => None,
        };
        let client_id = p.get("client_id");
        if let (Some(a), Some(b)) = (&hinted, client_id) {
            if a != b {
                return bad("client_id does not match the id_token_hint's audience");
            }
        }
        if let Some(c) = client_id {
            if find_client(c).is_none() {
                return bad(&format!("unknown client_id {c}"));
            }
        }
        match p.get("post_logout_redirect_uri") {
            Some(uri) => {
                if hinted.is_none() && client_id.is_none() {
                    return bad("post_logout_redirect_uri needs id_token_hint or client_id");
                }
                if !self.redirect_allowed(uri) {
                    return bad(&format!("post_logout_redirect_uri {uri} is not registered"));
                }
                let Ok(mut url) = Url::parse(uri) else {
                    return bad("invalid post_logout_redirect_uri");
                };
                if let Some(state) = p.get("state") {
                    url.query_pairs_mut().append_pair("state", state);
                }
                self.lock().logouts += 1;
                found(url.as_str())
            }
            None => {
                self.lock().logouts += 1;
                page(
                    StatusCode::OK,
                    "Signed out",
                    "You are signed out of the sandbox provider.",
                )
            }
        }
    }

    fn device_verify(&self, user_code: Option<&str>) -> Response {
        let now = self.now();
        let mut s = self.lock();
        let deny = std::mem::take(&mut s.deny_next);
        let wanted = user_code.map(normalize_user_code);
        let found = s.devices.iter_mut().rev().find(|d| {
            d.state == DeviceState::Pending
                && d.expires > now
                && wanted
                    .as_ref()
                    .is_none_or(|w| *w == normalize_user_code(&d.user_code))
        });
        let Some(d) = found else {
            if deny {
                s.deny_next = true;
            }
            return page(
                StatusCode::BAD_REQUEST,
                "Unknown code",
                "There is no pending device login with this code.",
            );
        };
        d.auth_time = Some(now);
        if deny {
            d.state = DeviceState::Denied;
            page(StatusCode::OK, "Denied", "You denied the device's request.")
        } else {
            d.state = DeviceState::Approved;
            page(
                StatusCode::OK,
                "Device approved",
                "You can return to your device.",
            )
        }
    }
}

/// One provider's routes at its flavor's paths, plus discovery at
/// `/.well-known/openid-configuration` and the greeting at `/`.
pub fn router(state: Oidc) -> Router {
    let name = match state.flavor {
        Flavor::Generic => "oidc",
        Flavor::Auth0 => "auth0",
    };
    let p = state.flavor.paths();
    Router::new()
        .route("/", get(move || async move { name }))
        .route("/.well-known/openid-configuration", get(discovery))
        .route(p.authorize, get(authorize_get).post(authorize_post))
        .route(p.token, post(token))
        .route(p.jwks, get(jwks))
        .route(p.userinfo, get(userinfo).post(userinfo))
        .route(p.revoke, post(revoke))
        .route(p.logout, get(logout_get).post(logout_post))
        .route(p.device, post(device_authorization))
        .route(p.verify, get(device_verify))
        .layer(middleware::from_fn_with_state(state.clone(), unless_down))
        .with_state(state)
}

/// 503 on every endpoint while the provider is down.
async fn unless_down(State(op): State<Oidc>, request: Request, next: Next) -> Response {
    let down = op.lock().down;
    if down {
        let mut r = oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the provider is down",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
        return r;
    }
    next.run(request).await
}

async fn discovery(State(op): State<Oidc>) -> Response {
    Json(op.discovery()).into_response()
}

async fn jwks(State(op): State<Oidc>) -> Response {
    let key = op.lock().key;
    Json(json!({"keys": [keys()[key].jwk()]})).into_response()
}

async fn authorize_get(State(op): State<Oidc>, RawQuery(query): RawQuery) -> Response {
    op.authorize(Params::form(query.as_deref().unwrap_or_default()))
}

async fn authorize_post(State(op): State<Oidc>, body: String) -> Response {
    op.authorize(Params::form(&body))
}

async fn token(State(op): State<Oidc>, headers: HeaderMap, body: String) -> Response {
    let p = match op.body_params(&headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let client = match op.authenticate_client(&headers, &p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match p.get("grant_type") {
        None => bad_request("invalid_request", "grant_type is required"),
        Some("authorization_code") => op.code_grant(client, &p),
        Some("refresh_token") => op.refresh_grant(client, &p),
        Some(DEVICE_GRANT_TYPE) => op.device_grant(client, &p),
        Some(other) => bad_request(
            "unsupported_grant_type",
            &format!("grant_type {other} is not supported"),
        ),
    }
}

async fn userinfo(State(op): State<Oidc>, headers: HeaderMap) -> Response {
    let challenge = |extra: &str| {
        let value = format!("Bearer realm=\"{}\"{extra}", op.issuer);
        let mut r = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(v) = value.parse() {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    };
    // RFC 6750 §3.1: no error code when the request carried no token.
    let Some(token) = bearer(&headers) else {
        return challenge("");
    };
    if !op.is_active(&token) {
        return challenge(
            ", error=\"invalid_token\", error_description=\"the access token is unknown, expired or revoked\"",
        );
    }
    let has_openid = op
        .lock()
        .access
        .get(&token)
        .is_some_and(|a| has(&a.scope, "openid"));
    if !has_openid {
        let value = format!(
            "Bearer realm=\"{}\", error=\"insufficient_scope\", scope=\"openid\"",
            op.issuer
        );
        let mut r = StatusCode::FORBIDDEN.into_response();
        if let Ok(v) = value.parse() {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return r;
    }
    Json(json!({
        "sub": USER_SUB,
        "email": USER_EMAIL,
        "email_verified": true,
        "name": USER_NAME,
    }))
    .into_response()
}

async fn revoke(State(op): State<Oidc>, headers: HeaderMap, body: String) -> Response {
    let p = match op.body_params(&headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let client = match op.authenticate_client(&headers, &p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(token) = p.get("token") else {
        return bad_request("invalid_request", "token is required");
    };
    let mut s = op.lock();
    // The hint only speeds up a search; both kinds are looked up anyway.
    if let Some(a) = s.access.get_mut(token) {
        if a.client_id != client.id {
            return bad_request("invalid_request", "the token was issued to another client");
        }
        a.revoked = true;
    } else if let Some(r) = s.refresh.get(token).cloned() {
        let owner = s.grants.get(&r.grant).map(|g| g.client_id.clone());
        if owner.as_deref() != Some(client.id) {
            return bad_request("invalid_request", "the token was issued to another client");
        }
        // RFC 7009 §2.1: the refresh token, its family and their access tokens.
        s.revoke_grant(&r.grant);
    }
    s.revocations += 1;
    ([(header::CACHE_CONTROL, "no-store")], "").into_response()
}

async fn logout_get(State(op): State<Oidc>, RawQuery(query): RawQuery) -> Response {
    op.logout(Params::form(query.as_deref().unwrap_or_default()))
}

async fn logout_post(State(op): State<Oidc>, body: String) -> Response {
    op.logout(Params::form(&body))
}

async fn device_authorization(
    State(op): State<Oidc>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let p = match op.body_params(&headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let client = match op.authenticate_client(&headers, &p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let scope = split_scope(p.get("scope"));
    if op.flavor == Flavor::Generic {
        if let Some(unknown) = scope.iter().find(|s| !SCOPES.contains(&s.as_str())) {
            return bad_request("invalid_scope", &format!("unknown scope {unknown}"));
        }
    }
    let now = op.now();
    let device_code = random_token();
    let user_code = user_code();
    let verification_uri = op.endpoint(op.flavor.paths().verify);
    let mut complete = Url::parse(&verification_uri).expect("the verification URI is a URL");
    complete
        .query_pairs_mut()
        .append_pair("user_code", &user_code);
    let mut s = op.lock();
    let interval = s.device_interval;
    s.devices.push(DeviceAuth {
        device_code: device_code.clone(),
        user_code: user_code.clone(),
        client_id: client.id.to_string(),
        scope,
        audience: match op.flavor {
            Flavor::Auth0 => p.get("audience").map(str::to_string),
            Flavor::Generic => None,
        },
        expires: now + DEVICE_CODE_LIFETIME,
        interval,
        last_poll: None,
        state: DeviceState::Pending,
        auth_time: None,
    });
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": complete.as_str(),
            "expires_in": DEVICE_CODE_LIFETIME.whole_seconds(),
            "interval": interval.whole_seconds(),
        })),
    )
        .into_response()
}

/// The verification page a person opens: approves the code it names, or the
/// most recent pending one, unless [`Oidc::deny_next`] was called.
async fn device_verify(State(op): State<Oidc>, RawQuery(query): RawQuery) -> Response {
    let p = Params::form(query.as_deref().unwrap_or_default());
    op.device_verify(p.get("user_code"))
}
