//! Avassa's strongbox login API as protocols §3 documents it: password login
//! with optional TOTP, Kubernetes service-account login, the server-mediated
//! OIDC pair with a tiny auto-approving authorize page, token refresh (which
//! rotates the token and stops at the max TTL), token info, and a switch that
//! seals the strongbox (503). Errors use `{"errors":[{"error-message",
//! "error-info"}]}`.
//!
//! Where §3 marks the wire format unknown (how a missing OTP is reported), the
//! sandbox can answer either way ([`OtpStyle`]) so the client is tested
//! against both.

// Helpers return the error `Response` for the handler to send as is; its size
// does not matter in a test server, and boxing it would only add noise.
#![allow(clippy::result_large_err)]

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use latchkey_core::clock::SharedClock;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The TOTP seed of `bob` (RFC 6238, SHA-1, 6 digits, 30 s). A test value.
pub const BOB_TOTP_SEED: &[u8] = b"sandbox-bob-totp-seed-20b";
/// The passwords of the sandbox users. Test values.
pub const ALICE_PASSWORD: &str = "alice-sandbox-password";
pub const BOB_PASSWORD: &str = "bob-sandbox-password";
/// The key the sandbox signs and checks service-account JWTs with (HS256).
pub const SA_SIGNING_KEY: &[u8] = b"sandbox-kubernetes-sa-signing-key";
/// The Kubernetes role the sandbox knows, bound to one service account.
pub const K8S_ROLE: &str = "ci-runner";
pub const K8S_SERVICE: &str = "kubernetes";
pub const K8S_SUBJECT: &str = "system:serviceaccount:ci:runner";

/// How the sandbox says "this login needs an OTP".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpStyle {
    /// 200 with `totp-required: true` and no token.
    TotpRequiredFlag,
    /// 401 whose message asks for the OTP.
    Unauthorized,
}

struct User {
    username: &'static str,
    password: &'static str,
    tenant: &'static str,
    totp: bool,
}

const USERS: &[User] = &[
    User {
        username: "alice",
        password: ALICE_PASSWORD,
        tenant: "acme",
        totp: false,
    },
    User {
        username: "alice",
        password: ALICE_PASSWORD,
        tenant: "globex",
        totp: false,
    },
    User {
        username: "bob",
        password: BOB_PASSWORD,
        tenant: "acme",
        totp: true,
    },
];

const TENANTS: &[&str] = &["acme", "globex"];

#[derive(Clone)]
struct Token {
    accessor: String,
    tenant: String,
    display: String,
    source: &'static str,
    created: OffsetDateTime,
    renewed: OffsetDateTime,
    expires: OffsetDateTime,
    renewable: bool,
}

struct OidcPending {
    tenant: String,
    nonce: String,
    redirect_uri: String,
    code: Option<String>,
}

struct Inner {
    ttl: Duration,
    max_ttl: Duration,
    sealed: bool,
    otp_style: OtpStyle,
    rotate: bool,
    tokens: HashMap<String, Token>,
    oidc: HashMap<String, OidcPending>,
    logins: u32,
    refreshes: u32,
}

/// The Avassa part of a running sandbox; clones share the state, so a test
/// keeps one to seal the strongbox, shorten TTLs or read counters.
#[derive(Clone)]
pub struct Avassa {
    inner: Arc<Mutex<Inner>>,
    clock: SharedClock,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn random_id() -> String {
    let b: [u8; 16] = rand::random();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        (u16::from_be_bytes([b[6], b[7]]) & 0x0fff) | 0x4000,
        (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]]),
    )
}

/// RFC 6238 TOTP (SHA-1, 30 s step, 6 digits) of `seed` at `at`.
pub fn totp(seed: &[u8], at: OffsetDateTime) -> String {
    let counter = (at.unix_timestamp().max(0) / 30) as u64;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(seed).expect("HMAC takes any key");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let code = (u32::from_be_bytes([
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]) & 0x7fff_ffff)
        % 1_000_000;
    format!("{code:06}")
}

/// RFC 4648 base32 without padding, as authenticator apps take TOTP seeds.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The `otpauth://` URI of bob's seed, for an authenticator app.
pub fn bob_otpauth_uri() -> String {
    format!(
        "otpauth://totp/latchkey-sandbox:bob?secret={}&issuer=latchkey-sandbox&digits=6&period=30",
        base32(BOB_TOTP_SEED)
    )
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"errors": [{"error-message": message, "error-info": {}}]})),
    )
        .into_response()
}

fn sealed() -> Response {
    error(StatusCode::SERVICE_UNAVAILABLE, "strongbox sealed")
}

fn valid_tenant(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

impl Avassa {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                ttl: Duration::minutes(10),
                max_ttl: Duration::hours(1),
                sealed: false,
                otp_style: OtpStyle::TotpRequiredFlag,
                rotate: true,
                tokens: HashMap::new(),
                oidc: HashMap::new(),
                logins: 0,
                refreshes: 0,
            })),
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("avassa sandbox lock")
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The TTL of new and refreshed tokens, and how long a token may live in all.
    pub fn set_ttl(&self, ttl: Duration, max_ttl: Duration) {
        let mut s = self.lock();
        s.ttl = ttl;
        s.max_ttl = max_ttl;
    }

    /// Seals (503 on every call) or unseals the strongbox.
    pub fn set_sealed(&self, sealed: bool) {
        self.lock().sealed = sealed;
    }

    pub fn set_otp_style(&self, style: OtpStyle) {
        self.lock().otp_style = style;
    }

    /// Whether refresh hands out a new token string (it does by default).
    pub fn set_rotate(&self, rotate: bool) {
        self.lock().rotate = rotate;
    }

    /// Bob's current one-time code, by the sandbox's clock.
    pub fn bob_otp(&self) -> String {
        totp(BOB_TOTP_SEED, self.now())
    }

    /// A service-account JWT signed with the sandbox's key, for `subject`.
    pub fn sa_token(&self, subject: &str) -> String {
        let now = self.now().unix_timestamp();
        let claims = json!({
            "iss": "kubernetes/serviceaccount",
            "sub": subject,
            "aud": ["https://kubernetes.default.svc"],
            "iat": now,
            "exp": now + 86_400,
            "kubernetes.io": {"namespace": "ci", "serviceaccount": {"name": "runner"}},
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SA_SIGNING_KEY),
        )
        .expect("HS256 signing")
    }

    /// Whether the server would accept `token` now.
    pub fn is_valid(&self, token: &str) -> bool {
        let now = self.now();
        self.lock()
            .tokens
            .get(token)
            .is_some_and(|t| t.expires > now)
    }

    /// Successful logins so far (all kinds).
    pub fn logins(&self) -> u32 {
        self.lock().logins
    }

    /// Refresh calls so far (answered or refused).
    pub fn refreshes(&self) -> u32 {
        self.lock().refreshes
    }

    fn issue(&self, tenant: &str, display: String, source: &'static str) -> Value {
        let now = self.now();
        let mut s = self.lock();
        s.logins += 1;
        let token = random_id();
        let t = Token {
            accessor: random_id(),
            tenant: tenant.to_string(),
            display,
            source,
            created: now,
            renewed: now,
            expires: now + s.ttl.min(s.max_ttl),
            renewable: true,
        };
        let body = token_body(&token, &t, s.ttl.min(s.max_ttl));
        s.tokens.insert(token, t);
        body
    }

    /// The token named by `Authorization: Bearer`, if it is live.
    fn bearer(&self, headers: &HeaderMap) -> Result<(String, Token), Response> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
        let now = self.now();
        match self.lock().tokens.get(&token) {
            Some(t) if t.expires > now => Ok((token, t.clone())),
            Some(_) => Err(error(StatusCode::UNAUTHORIZED, "token expired")),
            None => Err(error(StatusCode::UNAUTHORIZED, "invalid token")),
        }
    }
}

fn token_body(token: &str, t: &Token, ttl: Duration) -> Value {
    json!({
        "token": token,
        "expires-in": ttl.whole_seconds(),
        "expires": rfc3339(t.expires),
        "accessor": t.accessor,
        "creation-time": rfc3339(t.created),
        "renewal-time": rfc3339(t.renewed),
    })
}

fn duration_text(d: Duration) -> String {
    let s = d.whole_seconds().max(0);
    if s % 86_400 == 0 && s > 0 {
        format!("{}d", s / 86_400)
    } else if s % 3600 == 0 && s > 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 && s > 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

pub fn router(state: Avassa) -> Router {
    Router::new()
        .route("/", get(|| async { "avassa" }))
        .route("/v1/login", post(login))
        .route("/v1/kubernetes-login", post(kubernetes_login))
        .route("/v1/oidc-login", post(oidc_login))
        .route("/v1/oidc-callback", post(oidc_callback))
        .route("/oidc/authorize", get(oidc_authorize))
        .route("/v1/state/strongbox/token/refresh", post(refresh))
        .route("/v1/state/strongbox/token/info", post(info))
        .with_state(state)
}

/// The body as JSON, or a 400 in the server's format.
fn json_body(body: &str) -> Result<Value, Response> {
    if body.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("malformed JSON: {e}")))
}

async fn login(State(av): State<Avassa>, body: String) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if av.lock().sealed {
        return sealed();
    }
    let (Some(username), Some(password)) = (field(&body, "username"), field(&body, "password"))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "username and password are required",
        );
    };
    let tenant = field(&body, "tenant");
    if let Some(t) = tenant {
        if !valid_tenant(t) {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("tenant '{t}' does not match ^[a-z0-9]([a-z0-9\\-]*[a-z0-9])?$"),
            );
        }
        if !TENANTS.contains(&t) {
            return error(StatusCode::NOT_FOUND, &format!("no such tenant: {t}"));
        }
    }
    let matching: Vec<&User> = USERS
        .iter()
        .filter(|u| u.username == username && tenant.is_none_or(|t| t == u.tenant))
        .collect();
    let user = match matching.as_slice() {
        [] => return error(StatusCode::UNAUTHORIZED, "invalid username or password"),
        [u] => *u,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "username is not unique, a tenant must be given",
            )
        }
    };
    if user.password != password {
        return error(StatusCode::UNAUTHORIZED, "invalid username or password");
    }
    if user.totp {
        let style = av.lock().otp_style;
        match field(&body, "otp") {
            None | Some("") => {
                return match style {
                    OtpStyle::TotpRequiredFlag => (
                        StatusCode::OK,
                        Json(json!({"totp-required": true, "totp-enabled": true,
                                    "passkey-required": false, "passkey-enabled": false})),
                    )
                        .into_response(),
                    OtpStyle::Unauthorized => {
                        error(StatusCode::UNAUTHORIZED, "OTP required for this user")
                    }
                };
            }
            Some(code) => {
                let now = av.now();
                let ok = [
                    now - Duration::seconds(30),
                    now,
                    now + Duration::seconds(30),
                ]
                .iter()
                .any(|t| totp(BOB_TOTP_SEED, *t) == code.trim());
                if !ok {
                    return error(StatusCode::UNAUTHORIZED, "invalid OTP");
                }
            }
        }
    }
    let mut out = av.issue(
        user.tenant,
        format!("userpass-{}@{}", user.username, user.tenant),
        "userpass",
    );
    out["totp-required"] = json!(false);
    out["totp-enabled"] = json!(user.totp);
    Json(out).into_response()
}

async fn kubernetes_login(State(av): State<Avassa>, body: String) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if av.lock().sealed {
        return sealed();
    }
    let (Some(tenant), Some(service), Some(role), Some(jwt)) = (
        field(&body, "tenant"),
        field(&body, "service"),
        field(&body, "role"),
        field(&body, "jwt"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "tenant, service, role and jwt are required",
        );
    };
    if !TENANTS.contains(&tenant) {
        return error(StatusCode::NOT_FOUND, &format!("no such tenant: {tenant}"));
    }
    if service != K8S_SERVICE {
        return error(
            StatusCode::NOT_FOUND,
            &format!("no kubernetes auth service named {service}"),
        );
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    validation.validate_exp = false;
    let claims = match jsonwebtoken::decode::<Value>(
        jwt,
        &jsonwebtoken::DecodingKey::from_secret(SA_SIGNING_KEY),
        &validation,
    ) {
        Ok(d) => d.claims,
        Err(e) => {
            return error(
                StatusCode::UNAUTHORIZED,
                &format!("service account token rejected: {e}"),
            )
        }
    };
    if claims
        .get("exp")
        .and_then(Value::as_i64)
        .is_some_and(|exp| exp <= av.now().unix_timestamp())
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "service account token rejected: expired",
        );
    }
    let subject = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    if role != K8S_ROLE {
        return error(StatusCode::FORBIDDEN, &format!("no such role: {role}"));
    }
    if subject != K8S_SUBJECT {
        return error(
            StatusCode::FORBIDDEN,
            &format!("{subject} is not bound to role {role}"),
        );
    }
    Json(av.issue(tenant, format!("kubernetes-{subject}"), "kubernetes")).into_response()
}

async fn oidc_login(State(av): State<Avassa>, body: String) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if av.lock().sealed {
        return sealed();
    }
    let tenant = field(&body, "tenant").unwrap_or("acme");
    if !TENANTS.contains(&tenant) {
        return error(StatusCode::NOT_FOUND, &format!("no such tenant: {tenant}"));
    }
    let redirect_uri = field(&body, "redirect-uri")
        .or(field(&body, "redirect_uri"))
        .unwrap_or("latchkey://callback")
        .to_string();
    let state = random_id();
    let nonce = random_id();
    av.lock().oidc.insert(
        state.clone(),
        OidcPending {
            tenant: tenant.to_string(),
            nonce: nonce.clone(),
            redirect_uri: redirect_uri.clone(),
            code: None,
        },
    );
    let url = format!(
        "oidc/authorize?state={state}&nonce={nonce}&redirect_uri={}",
        url::form_urlencoded::byte_serialize(redirect_uri.as_bytes()).collect::<String>()
    );
    Json(json!({"url": url, "state": state, "nonce": nonce})).into_response()
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    state: String,
}

/// The identity provider: approves at once and redirects with a code.
async fn oidc_authorize(State(av): State<Avassa>, Query(q): Query<AuthorizeQuery>) -> Response {
    let mut s = av.lock();
    let Some(pending) = s.oidc.get_mut(&q.state) else {
        return error(StatusCode::BAD_REQUEST, "unknown state");
    };
    let code = random_id();
    pending.code = Some(code.clone());
    let sep = if pending.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    Redirect::to(&format!(
        "{}{sep}code={code}&state={}",
        pending.redirect_uri, q.state
    ))
    .into_response()
}

async fn oidc_callback(State(av): State<Avassa>, body: String) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if av.lock().sealed {
        return sealed();
    }
    let (Some(state), Some(code)) = (field(&body, "state"), field(&body, "code")) else {
        return error(StatusCode::BAD_REQUEST, "state and code are required");
    };
    let pending = av.lock().oidc.remove(state);
    let Some(pending) = pending else {
        return error(StatusCode::UNAUTHORIZED, "unknown or used state");
    };
    if pending.code.as_deref() != Some(code) {
        return error(StatusCode::UNAUTHORIZED, "invalid code");
    }
    if field(&body, "nonce").is_some_and(|n| n != pending.nonce) {
        return error(StatusCode::UNAUTHORIZED, "nonce mismatch");
    }
    Json(av.issue(&pending.tenant, "oidc-carol".into(), "oidc")).into_response()
}

async fn refresh(State(av): State<Avassa>, headers: HeaderMap) -> Response {
    if av.lock().sealed {
        return sealed();
    }
    av.lock().refreshes += 1;
    let (old, t) = match av.bearer(&headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = av.now();
    let mut s = av.lock();
    let limit = t.created + s.max_ttl;
    if !t.renewable {
        return error(StatusCode::FORBIDDEN, "token is not renewable");
    }
    if t.expires >= limit {
        return error(
            StatusCode::FORBIDDEN,
            "token has reached its max-ttl and cannot be refreshed",
        );
    }
    let expires = (now + s.ttl).min(limit);
    let token = if s.rotate { random_id() } else { old.clone() };
    let mut t = t;
    t.renewed = now;
    t.expires = expires;
    s.tokens.remove(&old);
    let body = token_body(&token, &t, expires - now);
    s.tokens.insert(token, t);
    Json(body).into_response()
}

async fn info(State(av): State<Avassa>, headers: HeaderMap, body: String) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if av.lock().sealed {
        return sealed();
    }
    let (session, t) = match av.bearer(&headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (token, t) = match field(&body, "token") {
        Some(other) if other != session => {
            let now = av.now();
            match av.lock().tokens.get(other) {
                Some(o) if o.expires > now => (other.to_string(), o.clone()),
                _ => return error(StatusCode::NOT_FOUND, "no such token"),
            }
        }
        _ => (session, t),
    };
    let _ = token;
    let now = av.now();
    let s = av.lock();
    Json(json!({
        "display-name": t.display,
        "accessor": t.accessor,
        "expires": rfc3339(t.expires),
        "tenant": t.tenant,
        "tenant-kind": "application-owner",
        "policies": ["default", "user"],
        "meta": {"source": t.source},
        "creation-time": rfc3339(t.created),
        "renewal-time": rfc3339(t.renewed),
        "explicit-max-ttl": "0s",
        "num-uses": 0,
        "orphan": true,
        "renewable": t.renewable,
        "period": "0s",
        "type": "default",
        "ttl": duration_text(t.expires - now),
        "max-ttl": duration_text(s.max_ttl),
        "disabled": false,
    }))
    .into_response()
}
