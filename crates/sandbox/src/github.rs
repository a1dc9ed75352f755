//! GitHub's OAuth endpoints as protocols §1.7 documents them, mounted under
//! `/github` with github.com's and api.github.com's paths: the browser's
//! authorize page (auto-approving, with PKCE S256 and GitHub's loopback
//! exception for `redirect_uri`), the code exchange, refresh with rotation for
//! a GitHub App's expiring user tokens, the device flow, `GET /user` and token
//! revocation.
//!
//! Two applications are registered: an OAuth app ([`CLIENT_ID`], tokens
//! `gho_…` that never expire) and a GitHub App ([`APP_CLIENT_ID`], tokens
//! `ghu_…` for 8 h with a rotating `ghr_…` refresh token). One user exists,
//! [`USER_LOGIN`].
//!
//! As on github.com, `POST /login/oauth/access_token` reports every error with
//! HTTP 200 and an `error` field, in JSON when asked with `Accept:
//! application/json` and form-encoded otherwise. Its parameters may come in
//! the query string, a form body or a JSON body.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use latchkey_core::clock::SharedClock;
use rand::Rng;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// The OAuth app: user tokens `gho_…`, no expiry, no refresh. Test values.
pub const CLIENT_ID: &str = "sandbox-github-client";
pub const CLIENT_SECRET: &str = "sandbox-github-secret";
/// The GitHub App with expiring user tokens: `ghu_…` for 8 h plus `ghr_…`.
pub const APP_CLIENT_ID: &str = "Iv1.sandboxgithubapp";
pub const APP_CLIENT_SECRET: &str = "sandbox-github-app-secret";
/// The one user, who approves everything.
pub const USER_LOGIN: &str = "octocat";
pub const USER_ID: u64 = 583231;
pub const USER_NAME: &str = "The Octocat";
/// The first registered callback, used when authorize gets no `redirect_uri`.
pub const DEFAULT_REDIRECT_URI: &str = "latchkey://callback";
/// The device-flow grant type.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How long an authorization code lives.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// `expires_in` of a device code.
pub const DEVICE_CODE_TTL_SECS: i64 = 900;
/// `expires_in` of a GitHub App user token.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 28_800;
/// `refresh_token_expires_in` of a GitHub App refresh token.
pub const REFRESH_TOKEN_TTL_SECS: i64 = 15_811_200;

const DOCS_TOKEN_ERRORS: &str = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/";
const DOCS_AUTHORIZE_ERRORS: &str =
    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/";
const DOCS_DEVICE_ERRORS: &str =
    "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow";
const DOCS_REST: &str = "https://docs.github.com/rest";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppKind {
    OAuthApp,
    GitHubApp,
}

impl AppKind {
    fn of(client_id: &str) -> Option<Self> {
        match client_id {
            CLIENT_ID => Some(Self::OAuthApp),
            APP_CLIENT_ID => Some(Self::GitHubApp),
            _ => None,
        }
    }

    fn secret(self) -> &'static str {
        match self {
            Self::OAuthApp => CLIENT_SECRET,
            Self::GitHubApp => APP_CLIENT_SECRET,
        }
    }
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    scope: String,
    challenge: Option<String>,
    issued: OffsetDateTime,
    used: bool,
}

struct Token {
    client_id: String,
    expires: Option<OffsetDateTime>,
}

struct Refresh {
    client_id: String,
    access: String,
    expires: OffsetDateTime,
    /// Device-flow refresh tokens may be used without the client secret.
    from_device: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved,
    Denied,
}

struct Device {
    client_id: String,
    user_code: String,
    scope: String,
    expires: OffsetDateTime,
    interval: u64,
    last_poll: Option<OffsetDateTime>,
    status: DeviceStatus,
    seq: u64,
}

struct Inner {
    deny_next: bool,
    device_flow: bool,
    device_interval: u64,
    slow_down_increment: u64,
    slow_down_next: bool,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Token>,
    refresh: HashMap<String, Refresh>,
    devices: HashMap<String, Device>,
    device_seq: u64,
    exchanges: u32,
}

/// The GitHub part of a running sandbox; clones share the state, so a test
/// keeps one to deny the next authorization, drive the device flow or revoke
/// tokens.
#[derive(Clone)]
pub struct GitHub {
    inner: Arc<Mutex<Inner>>,
    clock: SharedClock,
    base_url: String,
}

/// An OAuth error as the token endpoint sends it (always HTTP 200 there).
#[derive(Debug)]
struct OAuthError {
    error: &'static str,
    description: String,
    interval: Option<u64>,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
            interval: None,
        }
    }

    fn client_credentials() -> Self {
        Self::new(
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        )
    }

    fn bad_code() -> Self {
        Self::new(
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        )
    }

    fn bad_refresh() -> Self {
        Self::new(
            "bad_refresh_token",
            "The refresh token passed is incorrect or expired.",
        )
    }

    fn error_uri(&self) -> String {
        match self.error {
            "authorization_pending"
            | "slow_down"
            | "expired_token"
            | "access_denied"
            | "incorrect_device_code"
            | "device_flow_disabled" => DOCS_DEVICE_ERRORS.to_string(),
            e => format!("{DOCS_TOKEN_ERRORS}#{}", e.replace('_', "-")),
        }
    }

    fn body(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("error".into(), json!(self.error));
        m.insert("error_description".into(), json!(self.description));
        m.insert("error_uri".into(), json!(self.error_uri()));
        if let Some(i) = self.interval {
            m.insert("interval".into(), json!(i));
        }
        m
    }
}

fn random_alnum(n: usize) -> String {
    rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// `XXXX-XXXX` from letters and digits that cannot be misread.
fn random_user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ23456789";
    let mut rng = rand::rng();
    let mut pick = || ALPHABET[rng.random_range(0..ALPHABET.len())] as char;
    let a: String = (0..4).map(|_| pick()).collect();
    let b: String = (0..4).map(|_| pick()).collect();
    format!("{a}-{b}")
}

fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The PKCE S256 transform of `verifier`.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Space- or comma-separated scopes as GitHub reports them: comma-joined.
fn normalize_scope(scope: Option<&str>) -> String {
    scope
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether `uri` is one of the app's callbacks: `latchkey://callback`, or
/// `http://127.0.0.1/callback` / `http://[::1]/callback` on any port
/// (GitHub's loopback exception); sub-paths of the callback are allowed too.
fn redirect_allowed(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    if u.fragment().is_some() || !u.username().is_empty() || u.password().is_some() {
        return false;
    }
    let path = u.path();
    match u.scheme() {
        "latchkey" => {
            u.host_str() == Some("callback")
                && u.port().is_none()
                && (path.is_empty() || path.starts_with('/'))
        }
        "http" => {
            let loopback = match u.host() {
                Some(url::Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
                Some(url::Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
                _ => false,
            };
            loopback && (path == "/callback" || path.starts_with("/callback/"))
        }
        _ => false,
    }
}

/// `base?pairs` (or `base&pairs` when `base` already has a query).
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", q.finish())
}

fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// Request parameters from the query string, then the body (form or JSON),
/// the body winning. Empty values count as absent.
fn params(query: Option<&str>, headers: &HeaderMap, body: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Some(q) = query {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            out.insert(k.into_owned(), v.into_owned());
        }
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if is_json {
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(body) {
            for (k, v) in m {
                let v = match v {
                    Value::String(s) => s,
                    Value::Null => continue,
                    other => other.to_string(),
                };
                out.insert(k, v);
            }
        }
    } else {
        for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
            out.insert(k.into_owned(), v.into_owned());
        }
    }
    out.retain(|_, v| !v.is_empty());
    out
}

fn param<'a>(p: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    p.get(name).map(String::as_str)
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("application/json"))
}

/// A flat object as JSON or as `application/x-www-form-urlencoded`.
fn reply(json: bool, status: StatusCode, body: Map<String, Value>) -> Response {
    if json {
        return (status, Json(Value::Object(body))).into_response();
    }
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &body {
        match v {
            Value::String(s) => form.append_pair(k, s),
            other => form.append_pair(k, &other.to_string()),
        };
    }
    (
        status,
        [(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        form.finish(),
    )
        .into_response()
}

/// An api.github.com error: `{"message","documentation_url","status"}`.
fn api_error(status: StatusCode, message: &str, documentation_url: &str) -> Response {
    (
        status,
        Json(json!({
            "message": message,
            "documentation_url": documentation_url,
            "status": status.as_u16().to_string(),
        })),
    )
        .into_response()
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    (
        status,
        Html(format!(
            "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{text}</p></body></html>\n"
        )),
    )
        .into_response()
}

impl GitHub {
    /// `base_url` is where this module is mounted, e.g. `http://127.0.0.1:PORT/github`.
    pub fn new(clock: SharedClock, base_url: String) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                deny_next: false,
                device_flow: true,
                device_interval: 5,
                slow_down_increment: 5,
                slow_down_next: false,
                codes: HashMap::new(),
                tokens: HashMap::new(),
                refresh: HashMap::new(),
                devices: HashMap::new(),
                device_seq: 0,
                exchanges: 0,
            })),
            clock,
            base_url,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("github sandbox lock")
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The user denies the next authorization: it redirects with
    /// `error=access_denied` instead of a code.
    pub fn deny_next(&self) {
        self.lock().deny_next = true;
    }

    /// Enables (the default) or disables the device flow; disabled,
    /// `/login/device/code` answers 400 `device_flow_disabled`.
    pub fn set_device_flow(&self, enabled: bool) {
        self.lock().device_flow = enabled;
    }

    /// The `interval` of new device codes, in seconds (default 5). 0 lets a
    /// client poll as fast as it likes.
    pub fn set_device_interval(&self, seconds: u64) {
        self.lock().device_interval = seconds;
    }

    /// How many seconds `slow_down` adds to a device code's interval (default 5).
    pub fn set_slow_down_increment(&self, seconds: u64) {
        self.lock().slow_down_increment = seconds;
    }

    /// The next device-code poll answers `slow_down`, however slow it was.
    pub fn slow_down_next(&self) {
        self.lock().slow_down_next = true;
    }

    fn set_device_status(&self, user_code: &str, status: DeviceStatus) -> bool {
        let now = self.now();
        let wanted = normalize_user_code(user_code);
        let mut s = self.lock();
        match s.devices.values_mut().find(|d| {
            normalize_user_code(&d.user_code) == wanted
                && d.status == DeviceStatus::Pending
                && now < d.expires
        }) {
            Some(d) => {
                d.status = status;
                true
            }
            None => false,
        }
    }

    /// The user enters `user_code` and approves; false if no pending device
    /// code has it.
    pub fn approve_device(&self, user_code: &str) -> bool {
        self.set_device_status(user_code, DeviceStatus::Approved)
    }

    /// The user enters `user_code` and cancels; polls then get `access_denied`.
    pub fn deny_device(&self, user_code: &str) -> bool {
        self.set_device_status(user_code, DeviceStatus::Denied)
    }

    /// Whether `token` (an access token) would be accepted now.
    pub fn is_valid(&self, token: &str) -> bool {
        let now = self.now();
        self.lock()
            .tokens
            .get(token)
            .is_some_and(|t| t.expires.is_none_or(|e| now < e))
    }

    /// Revokes an access token and the refresh token issued with it; false
    /// if it was unknown.
    pub fn revoke(&self, token: &str) -> bool {
        let mut s = self.lock();
        s.refresh.retain(|_, r| r.access != token);
        s.tokens.remove(token).is_some()
    }

    /// Successful authorization-code exchanges so far (HTTP and in-process).
    pub fn exchanges(&self) -> u32 {
        self.lock().exchanges
    }

    /// The code exchange as Kontinuous makes it, in-process: the access token,
    /// or GitHub's `(error, error_description)`. No `redirect_uri` is sent.
    pub fn exchange_code(
        &self,
        client_id: &str,
        client_secret: &str,
        code: &str,
        code_verifier: Option<&str>,
    ) -> Result<String, (String, String)> {
        let mut p = HashMap::new();
        p.insert("client_id".to_string(), client_id.to_string());
        p.insert("client_secret".to_string(), client_secret.to_string());
        p.insert("code".to_string(), code.to_string());
        if let Some(v) = code_verifier {
            p.insert("code_verifier".to_string(), v.to_string());
        }
        p.retain(|_, v| !v.is_empty());
        match self.code_grant(&p) {
            Ok(body) => Ok(body
                .get("access_token")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()),
            Err(e) => Err((e.error.to_string(), e.description)),
        }
    }

    /// A live user token of the OAuth app, as an identity provider that
    /// logged the user in with GitHub would hold it (Auth0's identities).
    pub fn mint_user_token(&self) -> String {
        let now = self.clock.now();
        let mut s = self.lock();
        let body = Self::issue(
            &mut s,
            AppKind::OAuthApp,
            CLIENT_ID,
            "user,repo",
            now,
            false,
        );
        body.get("access_token")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// `(login, id)` of the owner of a live token, as `GET /user` would say.
    pub fn user_for(&self, token: &str) -> Option<(String, u64)> {
        self.is_valid(token)
            .then(|| (USER_LOGIN.to_string(), USER_ID))
    }

    /// Mints an access token (and, for the GitHub App, a refresh token) and
    /// returns the token endpoint's success body.
    fn issue(
        s: &mut Inner,
        kind: AppKind,
        client_id: &str,
        scope: &str,
        now: OffsetDateTime,
        from_device: bool,
    ) -> Map<String, Value> {
        let mut body = Map::new();
        match kind {
            AppKind::OAuthApp => {
                let token = format!("gho_{}", random_alnum(36));
                s.tokens.insert(
                    token.clone(),
                    Token {
                        client_id: client_id.to_string(),
                        expires: None,
                    },
                );
                body.insert("access_token".into(), json!(token));
                body.insert("scope".into(), json!(scope));
            }
            AppKind::GitHubApp => {
                let token = format!("ghu_{}", random_alnum(36));
                let refresh = format!("ghr_{}", random_alnum(76));
                s.tokens.insert(
                    token.clone(),
                    Token {
                        client_id: client_id.to_string(),
                        expires: Some(now + Duration::seconds(ACCESS_TOKEN_TTL_SECS)),
                    },
                );
                s.refresh.insert(
                    refresh.clone(),
                    Refresh {
                        client_id: client_id.to_string(),
                        access: token.clone(),
                        expires: now + Duration::seconds(REFRESH_TOKEN_TTL_SECS),
                        from_device,
                    },
                );
                body.insert("access_token".into(), json!(token));
                body.insert("expires_in".into(), json!(ACCESS_TOKEN_TTL_SECS));
                body.insert("refresh_token".into(), json!(refresh));
                body.insert(
                    "refresh_token_expires_in".into(),
                    json!(REFRESH_TOKEN_TTL_SECS),
                );
                body.insert("scope".into(), json!(""));
            }
        }
        body.insert("token_type".into(), json!("bearer"));
        body
    }

    fn code_grant(&self, p: &HashMap<String, String>) -> Result<Map<String, Value>, OAuthError> {
        let client_id = param(p, "client_id").unwrap_or_default();
        let kind = AppKind::of(client_id).ok_or_else(OAuthError::client_credentials)?;
        if param(p, "client_secret") != Some(kind.secret()) {
            return Err(OAuthError::client_credentials());
        }
        let code = param(p, "code").ok_or_else(OAuthError::bad_code)?;
        let now = self.now();
        let mut s = self.lock();
        let grant = s
            .codes
            .get(code)
            .filter(|g| g.client_id == client_id && !g.used && now - g.issued < CODE_TTL)
            .ok_or_else(OAuthError::bad_code)?;
        if param(p, "redirect_uri").is_some_and(|r| r != grant.redirect_uri) {
            return Err(OAuthError::new(
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
            ));
        }
        if let Some(challenge) = &grant.challenge {
            match param(p, "code_verifier") {
                None => {
                    return Err(OAuthError::new(
                        "bad_verification_code",
                        "The code_verifier is missing: this code was issued with a code_challenge.",
                    ))
                }
                Some(v) if s256(v) != *challenge => {
                    return Err(OAuthError::new(
                        "bad_verification_code",
                        "The code_verifier does not match the code_challenge.",
                    ))
                }
                Some(_) => {}
            }
        }
        let scope = grant.scope.clone();
        if let Some(g) = s.codes.get_mut(code) {
            g.used = true;
        }
        s.exchanges += 1;
        Ok(Self::issue(&mut s, kind, client_id, &scope, now, false))
    }

    fn refresh_grant(&self, p: &HashMap<String, String>) -> Result<Map<String, Value>, OAuthError> {
        let client_id = param(p, "client_id").unwrap_or_default();
        let kind = AppKind::of(client_id).ok_or_else(OAuthError::client_credentials)?;
        let secret = param(p, "client_secret");
        if secret.is_some_and(|s| s != kind.secret()) {
            return Err(OAuthError::client_credentials());
        }
        let old = param(p, "refresh_token").ok_or_else(OAuthError::bad_refresh)?;
        let now = self.now();
        let mut s = self.lock();
        let r = s
            .refresh
            .get(old)
            .filter(|r| r.client_id == client_id && now < r.expires)
            .ok_or_else(OAuthError::bad_refresh)?;
        if secret.is_none() && !r.from_device {
            return Err(OAuthError::client_credentials());
        }
        let (access, from_device) = (r.access.clone(), r.from_device);
        s.refresh.remove(old);
        s.tokens.remove(&access);
        Ok(Self::issue(&mut s, kind, client_id, "", now, from_device))
    }

    fn device_grant(&self, p: &HashMap<String, String>) -> Result<Map<String, Value>, OAuthError> {
        let client_id = param(p, "client_id").unwrap_or_default();
        let kind = AppKind::of(client_id).ok_or_else(OAuthError::client_credentials)?;
        let incorrect = || {
            OAuthError::new(
                "incorrect_device_code",
                "The device_code provided is not valid.",
            )
        };
        let device_code = param(p, "device_code").ok_or_else(incorrect)?;
        let now = self.now();
        let mut s = self.lock();
        let (forced, increment) = (s.slow_down_next, s.slow_down_increment);
        let d = s
            .devices
            .get_mut(device_code)
            .filter(|d| d.client_id == client_id)
            .ok_or_else(incorrect)?;
        if now >= d.expires {
            return Err(OAuthError::new(
                "expired_token",
                "The `device_code` has expired.",
            ));
        }
        let too_fast = d
            .last_poll
            .is_some_and(|t| now - t < Duration::seconds(d.interval as i64));
        d.last_poll = Some(now);
        if forced || too_fast {
            d.interval += increment;
            let mut e = OAuthError::new(
                "slow_down",
                "Too many requests have been made in the same timeframe.",
            );
            e.interval = Some(d.interval);
            s.slow_down_next = false;
            return Err(e);
        }
        match d.status {
            DeviceStatus::Pending => Err(OAuthError::new(
                "authorization_pending",
                "The authorization request is still pending.",
            )),
            DeviceStatus::Denied => Err(OAuthError::new(
                "access_denied",
                "The authorization request was denied.",
            )),
            DeviceStatus::Approved => {
                let scope = match kind {
                    AppKind::OAuthApp => d.scope.clone(),
                    AppKind::GitHubApp => String::new(),
                };
                s.devices.remove(device_code);
                Ok(Self::issue(&mut s, kind, client_id, &scope, now, true))
            }
        }
    }
}

pub fn router(state: GitHub) -> Router {
    Router::new()
        .route("/", get(|| async { "github" }))
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token))
        .route("/login/device/code", post(device_code))
        .route("/login/device", get(device_page))
        .route("/user", get(user))
        // GitHub Enterprise Server serves the REST API under /api/v3.
        .route("/api/v3/user", get(user))
        .route("/applications/{client_id}/token", delete(delete_token))
        .route(
            "/api/v3/applications/{client_id}/token",
            delete(delete_token),
        )
        .with_state(state)
}

/// The browser's authorize page. The user is signed in and approves at once,
/// unless [`GitHub::deny_next`] was called.
async fn authorize(State(gh): State<GitHub>, RawQuery(query): RawQuery) -> Response {
    let p = params(query.as_deref(), &HeaderMap::new(), "");
    let client_id = param(&p, "client_id").unwrap_or_default();
    let Some(kind) = AppKind::of(client_id) else {
        return page(
            StatusCode::NOT_FOUND,
            "Page not found · GitHub",
            "This is not the web page you are looking for.",
        );
    };
    let redirect_uri = param(&p, "redirect_uri").unwrap_or(DEFAULT_REDIRECT_URI);
    if !redirect_allowed(redirect_uri) {
        return page(
            StatusCode::BAD_REQUEST,
            "Be careful!",
            "redirect_uri_mismatch: The redirect_uri is not associated with this application. \
             The redirect_uri MUST match the registered callback URL for this application.",
        );
    }
    let state = param(&p, "state");
    let error = |error: &str, description: &str, uri: &str| {
        let mut pairs = vec![
            ("error", error),
            ("error_description", description),
            ("error_uri", uri),
        ];
        if let Some(st) = state {
            pairs.push(("state", st));
        }
        found(&with_query(redirect_uri, &pairs))
    };
    let challenge = param(&p, "code_challenge");
    let method = param(&p, "code_challenge_method");
    if challenge.is_some() || method.is_some() {
        let invalid = |d: &str| error("invalid_request", d, DOCS_AUTHORIZE_ERRORS);
        if method != Some("S256") {
            return invalid("Unsupported code_challenge_method: only S256 is supported.");
        }
        let Some(challenge) = challenge else {
            return invalid("code_challenge is required with code_challenge_method.");
        };
        if challenge.len() != 43
            || !challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return invalid("code_challenge must be 43 characters of unpadded base64url.");
        }
    }
    let now = gh.now();
    let mut s = gh.lock();
    if std::mem::take(&mut s.deny_next) {
        return error(
            "access_denied",
            "The user has denied your application access.",
            &format!("{DOCS_AUTHORIZE_ERRORS}#access-denied"),
        );
    }
    let code = random_hex(10);
    s.codes.insert(
        code.clone(),
        Grant {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            scope: match kind {
                AppKind::OAuthApp => normalize_scope(param(&p, "scope")),
                AppKind::GitHubApp => String::new(),
            },
            challenge: challenge.map(str::to_string),
            issued: now,
            used: false,
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(st) = state {
        pairs.push(("state", st));
    }
    found(&with_query(redirect_uri, &pairs))
}

/// The token endpoint: code, refresh and device grants; errors with HTTP 200.
async fn access_token(
    State(gh): State<GitHub>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Response {
    let p = params(query.as_deref(), &headers, &body);
    let result = match param(&p, "grant_type") {
        None | Some("authorization_code") => gh.code_grant(&p),
        Some("refresh_token") => gh.refresh_grant(&p),
        Some(DEVICE_GRANT) => gh.device_grant(&p),
        Some(_) => Err(OAuthError::new(
            "unsupported_grant_type",
            "The grant type is not supported.",
        )),
    };
    let body = match result {
        Ok(b) => b,
        Err(e) => e.body(),
    };
    reply(wants_json(&headers), StatusCode::OK, body)
}

/// Step 1 of the device flow.
async fn device_code(
    State(gh): State<GitHub>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Response {
    let json = wants_json(&headers);
    let p = params(query.as_deref(), &headers, &body);
    let client_id = param(&p, "client_id").unwrap_or_default();
    let Some(kind) = AppKind::of(client_id) else {
        let mut m = Map::new();
        m.insert("error".into(), json!("Not Found"));
        return reply(json, StatusCode::NOT_FOUND, m);
    };
    let now = gh.now();
    let mut s = gh.lock();
    if !s.device_flow {
        let e = OAuthError::new(
            "device_flow_disabled",
            "Device Flow must be explicitly enabled for this App",
        );
        return reply(json, StatusCode::BAD_REQUEST, e.body());
    }
    let device_code = random_hex(20);
    let user_code = random_user_code();
    s.device_seq += 1;
    let (interval, seq) = (s.device_interval, s.device_seq);
    s.devices.insert(
        device_code.clone(),
        Device {
            client_id: client_id.to_string(),
            user_code: user_code.clone(),
            scope: match kind {
                AppKind::OAuthApp => normalize_scope(param(&p, "scope")),
                AppKind::GitHubApp => String::new(),
            },
            expires: now + Duration::seconds(DEVICE_CODE_TTL_SECS),
            interval,
            last_poll: None,
            status: DeviceStatus::Pending,
            seq,
        },
    );
    let mut m = Map::new();
    m.insert("device_code".into(), json!(device_code));
    m.insert("user_code".into(), json!(user_code));
    m.insert(
        "verification_uri".into(),
        json!(format!("{}/login/device", gh.base_url)),
    );
    m.insert("expires_in".into(), json!(DEVICE_CODE_TTL_SECS));
    m.insert("interval".into(), json!(interval));
    reply(json, StatusCode::OK, m)
}

/// The verification page: opening it approves the device code given as
/// `?user_code=`, or else the most recent pending one, as if the user had
/// typed the code and pressed "Authorize".
async fn device_page(State(gh): State<GitHub>, RawQuery(query): RawQuery) -> Response {
    let p = params(query.as_deref(), &HeaderMap::new(), "");
    let user_code = match param(&p, "user_code") {
        Some(c) => Some(c.to_string()),
        None => {
            let now = gh.now();
            let s = gh.lock();
            s.devices
                .values()
                .filter(|d| d.status == DeviceStatus::Pending && now < d.expires)
                .max_by_key(|d| d.seq)
                .map(|d| d.user_code.clone())
        }
    };
    match user_code {
        Some(code) if gh.approve_device(&code) => page(
            StatusCode::OK,
            "Congratulations, you're all set!",
            &format!("Your device ({code}) is now connected."),
        ),
        _ => page(
            StatusCode::OK,
            "Device Activation",
            "Enter the code displayed on your device.",
        ),
    }
}

/// `GET https://api.github.com/user`.
async fn user(State(gh): State<GitHub>, headers: HeaderMap) -> Response {
    let doc = "https://docs.github.com/rest/users/users#get-the-authenticated-user";
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = auth.split_once(' ').and_then(|(scheme, t)| {
        (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
            .then(|| t.trim())
    });
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return api_error(StatusCode::UNAUTHORIZED, "Requires authentication", doc);
    };
    match gh.user_for(token) {
        Some((login, id)) => {
            Json(json!({"login": login, "id": id, "name": USER_NAME})).into_response()
        }
        None => api_error(StatusCode::UNAUTHORIZED, "Bad credentials", DOCS_REST),
    }
}

/// `DELETE https://api.github.com/applications/{client_id}/token`: Basic
/// `client_id:client_secret`, JSON `{"access_token"}` → 204.
async fn delete_token(
    State(gh): State<GitHub>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let doc = "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-token";
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b)| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some(basic) = basic else {
        return api_error(StatusCode::UNAUTHORIZED, "Requires authentication", doc);
    };
    let authorized = basic.split_once(':').is_some_and(|(id, secret)| {
        id == client_id && AppKind::of(id).is_some_and(|k| k.secret() == secret)
    });
    if !authorized {
        return api_error(StatusCode::UNAUTHORIZED, "Bad credentials", DOCS_REST);
    }
    let body: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(_) if body.trim().is_empty() => json!({}),
        Err(_) => return api_error(StatusCode::BAD_REQUEST, "Problems parsing JSON", doc),
    };
    let Some(token) = body.get("access_token").and_then(Value::as_str) else {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"access_token\" wasn't supplied.",
            doc,
        );
    };
    let owned = gh.is_valid(token)
        && gh
            .lock()
            .tokens
            .get(token)
            .is_some_and(|t| t.client_id == client_id);
    if !owned {
        return api_error(StatusCode::NOT_FOUND, "Not Found", doc);
    }
    gh.revoke(token);
    StatusCode::NO_CONTENT.into_response()
}
