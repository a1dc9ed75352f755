//! Quay as protocols §2 documents it: direct OAuth approval
//! (`POST /oauth/authorizeapp`, with the client-id whitelist, the org-admin
//! rule, the redirect-URI rules and the `response_type` that defaults to
//! `code`), the browser session (`/csrf_token`, `/api/v1/signin` with CSRF
//! rotation through `X-Next-CSRF-Token`, throttling with `Retry-After`,
//! `/api/v1/signout` ending every session of the user), the API v1 calls
//! Latchkey makes (`/api/v1/user/`, `/api/v1/user/authorizations`) with their
//! problem-JSON errors, and the registry: `GET /v2/` with its `WWW-Authenticate`
//! challenge, `GET /v2/auth` issuing RS256 JWTs for users, robots
//! (`ns+name`), `$oauthtoken` and `$app` credentials, silently dropping the
//! actions the caller may not have, and `/keys/services/quay/keys`.
//!
//! Switches ([`Quay::set_whitelist`], [`Quay::ignore_response_type`],
//! [`Quay::tamper_state`], [`Quay::forget_scope`], ...) make the server behave
//! like a differently configured or older Quay, so every client path is tested.

// Helpers return the error `Response` for the handler to send as is; its size
// does not matter in a test server, and boxing it would only add noise.
#![allow(clippy::result_large_err)]

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use latchkey_core::clock::SharedClock;
use rand::Rng;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use time::{Duration, OffsetDateTime};

/// The sandbox users' passwords (test values). `alice` is an admin of the
/// `acme` organization and a plain member of `globex`; `bob` has not verified
/// his e-mail address; `dave` is disabled.
pub const ALICE_PASSWORD: &str = "alice-quay-password";
pub const BOB_PASSWORD: &str = "bob-quay-password";
pub const DAVE_PASSWORD: &str = "dave-quay-password";

/// A robot account of `acme` that may pull `acme/web`, and its token (64
/// characters `[A-Z0-9]`, as Quay makes them).
pub const ROBOT: &str = "acme+deployer";
pub const ROBOT_TOKEN: &str = "R0B0TT0KENACMEDEPL0YER0000000000SANDB0X0NLY000000000000000000001";

/// An app-specific token of alice (`$app`): 120 characters `[A-Z0-9]`.
pub const APP_TOKEN: &str = concat!(
    "APPT0KENPREFIXALICE000000000000000000000000000000000000000",
    "01",
    "APPT0KENSECRETALICE00000000000000000000000000000000000000",
    "002"
);

/// The OAuth application of `acme` (alice administers it), whitelisted for
/// direct OAuth, and its registered redirect URI.
pub const CLIENT_ID: &str = "SANDBOXCLIENT0000000";
pub const REGISTERED_REDIRECT: &str = "http://127.0.0.1:8765/cb";
/// An application of `globex`, whitelisted, whose organization alice does
/// not administer.
pub const GLOBEX_CLIENT_ID: &str = "GLOBEXCLIENT00000000";
/// An application of `acme` that is not on the whitelist.
pub const UNLISTED_CLIENT_ID: &str = "UNLISTEDCLIENT000000";

/// `ALL_SCOPES` of Quay's `auth/scopes.py`.
pub const ALL_SCOPES: &[&str] = &[
    "repo:read",
    "repo:write",
    "repo:admin",
    "repo:create",
    "user:read",
    "user:admin",
    "org:admin",
    "super:user",
];

/// `int(60*60*24*365.25*10)`: the lifetime of every direct-OAuth token.
pub const OAUTH_EXPIRES_IN: i64 = 315_576_000;
/// `TOKEN_VALIDITY_LIFETIME_S` of `/v2/auth`.
pub const REGISTRY_TOKEN_LIFETIME: i64 = 3600;
/// `SESSION_TIMEOUT`'s default for permanent sessions.
pub const SESSION_TIMEOUT: Duration = Duration::days(31);
/// The session cookie's name (`SESSION_COOKIE_NAME`).
pub const SESSION_COOKIE: &str = "_csrf_token";

const CSRF_ERROR: &str = "CSRF token was invalid or missing.";
const THROTTLED: &str = "Too many login attempts. \nPlease reset your Quay password and try again.";
const DISABLED_USER: &str = "This user has been disabled. Please contact your administrator.";
const BAD_PASSWORD: &str = "Invalid Username or Password";

struct User {
    username: &'static str,
    email: &'static str,
    password: &'static str,
    verified: bool,
    disabled: bool,
}

const USERS: &[User] = &[
    User {
        username: "alice",
        email: "alice@example.com",
        password: ALICE_PASSWORD,
        verified: true,
        disabled: false,
    },
    User {
        username: "bob",
        email: "bob@example.com",
        password: BOB_PASSWORD,
        verified: false,
        disabled: false,
    },
    User {
        username: "dave",
        email: "dave@example.com",
        password: DAVE_PASSWORD,
        verified: true,
        disabled: true,
    },
];

struct Org {
    name: &'static str,
    admins: &'static [&'static str],
    members: &'static [&'static str],
}

const ORGS: &[Org] = &[
    Org {
        name: "acme",
        admins: &["alice"],
        members: &["alice"],
    },
    Org {
        name: "globex",
        admins: &["globex-owner"],
        members: &["alice", "globex-owner"],
    },
];

/// Namespaces an administrator disabled (405 `DENIED` on `/v2/auth`).
const DISABLED_NAMESPACES: &[&str] = &["frozen"];

struct App {
    client_id: &'static str,
    name: &'static str,
    org: &'static str,
    redirect_uri: &'static str,
}

const APPS: &[App] = &[
    App {
        client_id: CLIENT_ID,
        name: "Latchkey sandbox",
        org: "acme",
        redirect_uri: REGISTERED_REDIRECT,
    },
    App {
        client_id: GLOBEX_CLIENT_ID,
        name: "Globex tools",
        org: "globex",
        redirect_uri: REGISTERED_REDIRECT,
    },
    App {
        client_id: UNLISTED_CLIENT_ID,
        name: "Acme CI",
        org: "acme",
        redirect_uri: REGISTERED_REDIRECT,
    },
];

/// A repository and who may do what in it, besides its namespace's admins.
#[derive(Clone)]
struct Repo {
    namespace: String,
    name: String,
    public: bool,
    /// `image`, or `application` for a non-image repository.
    kind: &'static str,
    readers: Vec<String>,
    writers: Vec<String>,
}

fn repo(namespace: &str, name: &str, public: bool, kind: &'static str, readers: &[&str]) -> Repo {
    Repo {
        namespace: namespace.into(),
        name: name.into(),
        public,
        kind,
        readers: readers.iter().map(|s| s.to_string()).collect(),
        writers: Vec::new(),
    }
}

fn initial_repos() -> Vec<Repo> {
    vec![
        repo("acme", "web", false, "image", &[ROBOT]),
        repo("acme", "public", true, "image", &[]),
        repo("acme", "charts", false, "application", &[]),
        // alice may pull but not push here: her pushes are dropped.
        repo("globex", "tools", false, "image", &["alice"]),
        // Nobody Latchkey logs in as may touch this one.
        repo("globex", "vault", false, "image", &[]),
        repo("frozen", "old", false, "image", &["alice"]),
    ]
}

#[derive(Clone)]
struct OAuthToken {
    uuid: String,
    user: String,
    client_id: String,
    scopes: Vec<String>,
    expires: OffsetDateTime,
}

struct Session {
    csrf: String,
    /// The user signed in, with their UUID at that moment: signing out
    /// anywhere rotates the UUID, which ends every session.
    user: Option<(String, String)>,
    login_time: OffsetDateTime,
}

struct Inner {
    whitelist: Vec<String>,
    ignore_response_type: bool,
    tamper_state: bool,
    /// Scopes this Quay does not know (an older version).
    unknown_scopes: Vec<String>,
    direct_login: bool,
    read_only: bool,
    max_failures: u32,
    retry_after: Duration,
    tokens: HashMap<String, OAuthToken>,
    sessions: HashMap<String, Session>,
    user_uuids: HashMap<String, String>,
    failures: HashMap<String, u32>,
    blocked_until: HashMap<String, OffsetDateTime>,
    repos: Vec<Repo>,
    authorize_calls: u32,
    signins: u32,
    registry_tokens: u32,
    manifest_pulls: u32,
}

/// The Quay part of a running sandbox; clones share the state, so a test
/// keeps one to reconfigure the server or read what it holds.
#[derive(Clone)]
pub struct Quay {
    inner: Arc<Mutex<Inner>>,
    clock: SharedClock,
    /// Where the module is served, e.g. `http://127.0.0.1:PORT/quay`.
    app_url: String,
    /// `SERVER_HOSTNAME`: the host and port of `app_url`.
    hostname: String,
}

fn random_alnum(n: usize) -> String {
    rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn random_uuid() -> String {
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

/// `base64url(48 random bytes)`: 64 characters, like Quay's CSRF tokens.
fn random_csrf() -> String {
    let b: [u8; 48] = std::array::from_fn(|_| rand::random());
    URL_SAFE_NO_PAD.encode(b)
}

/// Quay's instance service key, with what the key server says about it.
struct ServiceKey {
    kid: String,
    jwk: Value,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

fn service_key() -> &'static ServiceKey {
    static KEY: OnceLock<ServiceKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem = include_str!("../keys/quay-service.pem");
        let private =
            rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("the Quay service key is PKCS#8 RSA");
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(format!(
            r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#
        )));
        ServiceKey {
            jwk: json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e}),
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM for signing"),
            decoding: DecodingKey::from_rsa_components(&n, &e).expect("RSA components"),
            kid,
        }
    })
}

/// Who presented credentials to the registry or the approval endpoint.
#[derive(Clone)]
enum Entity {
    User(String),
    Robot(String),
    OAuth(OAuthToken),
    AppToken { user: String, uuid: String },
}

impl Entity {
    /// The name repository permissions are granted to.
    fn principal(&self) -> &str {
        match self {
            Entity::User(u) | Entity::Robot(u) => u,
            Entity::OAuth(t) => &t.user,
            Entity::AppToken { user, .. } => user,
        }
    }
}

/// How an API v1 call is authenticated.
enum ApiAuth {
    Anonymous,
    Token(OAuthToken),
    Session { user: String, cookie: String },
}

/// The problem JSON of `endpoints/exception.py`.
fn problem(app_url: &str, status: StatusCode, error_type: &str, detail: &str) -> Response {
    let mut body = json!({
        "detail": detail,
        "error_message": detail,
        "error_type": error_type,
        "title": error_type,
        "type": format!("{app_url}/api/v1/error/{error_type}"),
        "status": status.as_u16(),
    });
    if error_type == "invalid_token" {
        body["session_required"] = json!(false);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

fn csrf_refused() -> Response {
    (StatusCode::FORBIDDEN, Json(json!({"error": CSRF_ERROR}))).into_response()
}

fn throttled(wait: Duration) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::RETRY_AFTER, wait.whole_seconds().max(1).to_string()),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".into()),
        ],
        THROTTLED,
    )
        .into_response()
}

fn html(status: StatusCode, title: &str, text: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html>\n<html lang=en>\n<title>{title}</title>\n<h1>{title}</h1>\n<p>{text}</p>\n"
        )),
    )
        .into_response()
}

fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// `util.http.build_url`: the parameters appended to the URI's own query.
fn build_url(base: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    let q = q.finish();
    if q.is_empty() {
        return base.to_string();
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{q}")
}

/// The `Authorization: Basic` credentials: `None` when absent, `Some(None)`
/// when malformed.
fn basic_credentials(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    Some(
        STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            }),
    )
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_string())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// An HTTP date, as Flask writes a permanent session's `Expires`.
fn http_date(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .unwrap_or_default()
}

/// Quay's split of a scope parameter: exactly one space or comma between
/// items, so an empty item (two separators) makes the whole scope invalid.
fn split_scopes(scope: &str) -> Vec<&str> {
    scope.split([' ', ',']).collect()
}

/// What a `/v2/auth` scope asks for, parsed as `SCOPE_REGEX_TEMPLATE` does.
struct RegistryScope {
    /// The repository as requested, with the host prefix if it had one.
    registry_and_repo: String,
    namespace_and_repo: String,
    actions: Vec<String>,
}

fn repo_chars_ok(part: &str) -> bool {
    !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn parse_registry_scope(scope: &str, hostname: &str) -> Option<RegistryScope> {
    let rest = scope.strip_prefix("repository:")?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions: Vec<String> = actions.split(',').map(str::to_string).collect();
    if actions
        .iter()
        .any(|a| !matches!(a.as_str(), "push" | "pull" | "*"))
    {
        return None;
    }
    let namespace_and_repo = name
        .strip_prefix(&format!("{hostname}/"))
        .unwrap_or(name)
        .to_string();
    if !namespace_and_repo.split('/').all(repo_chars_ok) {
        return None;
    }
    Some(RegistryScope {
        registry_and_repo: name.to_string(),
        namespace_and_repo,
        actions,
    })
}

/// `REPOSITORY_NAME_REGEX`: lower case, digits and `._-`, not starting with
/// a separator.
fn valid_repo_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// A registry error (`endpoints/v2/errors.py`).
fn registry_error(status: StatusCode, code: &str, message: &str, detail: Value) -> Response {
    (
        status,
        [("Docker-Distribution-API-Version", "registry/2.0")],
        Json(json!({"errors": [{"code": code, "message": message, "detail": detail}]})),
    )
        .into_response()
}

const READ: u8 = 1;
const WRITE: u8 = 2;
const ADMIN: u8 = 3;

impl Quay {
    /// `app_url` is where this module is mounted, e.g. `http://127.0.0.1:PORT/quay`.
    pub fn new(clock: SharedClock, app_url: String) -> Self {
        let hostname = url::Url::parse(&app_url)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_string();
                Some(match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| "localhost".into());
        let user_uuids = USERS
            .iter()
            .map(|u| (u.username.to_string(), random_uuid()))
            .collect();
        Self {
            inner: Arc::new(Mutex::new(Inner {
                whitelist: vec![CLIENT_ID.into(), GLOBEX_CLIENT_ID.into()],
                ignore_response_type: false,
                tamper_state: false,
                unknown_scopes: Vec::new(),
                direct_login: true,
                read_only: false,
                max_failures: 3,
                retry_after: Duration::seconds(60),
                tokens: HashMap::new(),
                sessions: HashMap::new(),
                user_uuids,
                failures: HashMap::new(),
                blocked_until: HashMap::new(),
                repos: initial_repos(),
                authorize_calls: 0,
                signins: 0,
                registry_tokens: 0,
                manifest_pulls: 0,
            })),
            clock,
            app_url,
            hostname,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("quay sandbox lock")
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// `SERVER_HOSTNAME`: what `/v2/auth` tokens must name as `aud` for the
    /// registry to accept them.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// `DIRECT_OAUTH_CLIENTID_WHITELIST`.
    pub fn set_whitelist(&self, client_ids: &[&str]) {
        self.lock().whitelist = client_ids.iter().map(|s| s.to_string()).collect();
    }

    /// Answers every approval as if `response_type` had not been sent: a
    /// `?code=` instead of a token.
    pub fn ignore_response_type(&self, ignore: bool) {
        self.lock().ignore_response_type = ignore;
    }

    /// Sends a `state` other than the one received (what a forged redirect
    /// would carry).
    pub fn tamper_state(&self, tamper: bool) {
        self.lock().tamper_state = tamper;
    }

    /// Behaves like a Quay that does not know `scope`.
    pub fn forget_scope(&self, scope: &str) {
        self.lock().unknown_scopes.push(scope.to_string());
    }

    /// `FEATURE_DIRECT_LOGIN`: off makes `/api/v1/signin` a 404.
    pub fn set_direct_login(&self, on: bool) {
        self.lock().direct_login = on;
    }

    /// Read-only mode: pushes are refused with 405 `DENIED`.
    pub fn set_read_only(&self, on: bool) {
        self.lock().read_only = on;
    }

    /// How many failed logins in a row block a user, and for how long.
    pub fn set_login_throttle(&self, max_failures: u32, retry_after: Duration) {
        let mut s = self.lock();
        s.max_failures = max_failures;
        s.retry_after = retry_after;
    }

    /// Whether an OAuth access token is live (issued, not revoked, not expired).
    pub fn is_valid_oauth(&self, token: &str) -> bool {
        let now = self.now();
        self.lock()
            .tokens
            .get(token)
            .is_some_and(|t| t.expires > now)
    }

    /// The live OAuth tokens of a user.
    pub fn authorizations_of(&self, user: &str) -> usize {
        let now = self.now();
        self.lock()
            .tokens
            .values()
            .filter(|t| t.user == user && t.expires > now)
            .count()
    }

    /// Whether a session cookie value still signs its user in.
    pub fn is_signed_in(&self, session_cookie: &str) -> bool {
        let s = self.lock();
        self.session_user(&s, session_cookie).is_some()
    }

    /// The CSRF token a session expects now.
    pub fn csrf_of(&self, session_cookie: &str) -> Option<String> {
        self.lock()
            .sessions
            .get(session_cookie)
            .map(|s| s.csrf.clone())
    }

    /// Calls of `/oauth/authorizeapp` so far.
    pub fn authorize_calls(&self) -> u32 {
        self.lock().authorize_calls
    }

    /// Successful sign-ins so far.
    pub fn signins(&self) -> u32 {
        self.lock().signins
    }

    /// Registry tokens issued by `/v2/auth` so far.
    pub fn registry_tokens(&self) -> u32 {
        self.lock().registry_tokens
    }

    /// The key server's JWK Set, as `/keys/services/quay/keys` serves it.
    pub fn jwks(&self) -> Value {
        json!({"keys": [service_key().jwk.clone()]})
    }

    /// Mints an OAuth token for `user` as an approval would (for tests that
    /// need one without the approval).
    pub fn issue_oauth(&self, user: &str, client_id: &str, scopes: &[&str]) -> String {
        let token = random_alnum(40);
        let expires = self.now() + Duration::seconds(OAUTH_EXPIRES_IN);
        self.lock().tokens.insert(
            token.clone(),
            OAuthToken {
                uuid: random_uuid(),
                user: user.into(),
                client_id: client_id.into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                expires,
            },
        );
        token
    }

    fn find_user(login: &str) -> Option<&'static User> {
        USERS
            .iter()
            .find(|u| u.username == login || u.email.eq_ignore_ascii_case(login))
    }

    /// The user a session cookie signs in, if it still does.
    fn session_user(&self, s: &Inner, cookie: &str) -> Option<String> {
        let session = s.sessions.get(cookie)?;
        let (user, uuid) = session.user.as_ref()?;
        let live = s.user_uuids.get(user) == Some(uuid)
            && self.now() < session.login_time + SESSION_TIMEOUT;
        live.then(|| user.clone())
    }

    /// The time a throttled login name must still wait, if it must.
    fn blocked(&self, s: &Inner, login: &str) -> Option<Duration> {
        let until = s.blocked_until.get(login)?;
        let now = self.now();
        (*until > now).then(|| *until - now)
    }

    fn login_failed(&self, s: &mut Inner, login: &str) {
        let count = s.failures.entry(login.to_string()).or_default();
        *count += 1;
        if *count >= s.max_failures {
            let until = self.now() + s.retry_after;
            s.blocked_until.insert(login.to_string(), until);
            s.failures.remove(login);
        }
    }

    /// Checks Basic credentials the way `auth/credentials.py` does.
    fn validate(&self, s: &mut Inner, username: &str, secret: &str) -> Result<Entity, String> {
        let now = self.now();
        match username {
            "$oauthtoken" => match s.tokens.get(secret) {
                Some(t) if t.expires > now => Ok(Entity::OAuth(t.clone())),
                _ => Err("Invalid oauth access token".into()),
            },
            "$app" => {
                if secret == APP_TOKEN {
                    Ok(Entity::AppToken {
                        user: "alice".into(),
                        uuid: "0a1b2c3d-0000-4000-8000-app0000token".into(),
                    })
                } else {
                    Err("Invalid token".into())
                }
            }
            "$token" => Err("Invalid access token".into()),
            robot if robot.contains('+') => {
                if robot == ROBOT && secret == ROBOT_TOKEN {
                    Ok(Entity::Robot(robot.into()))
                } else {
                    Err(format!(
                        "Could not find robot with username: {robot} and supplied password."
                    ))
                }
            }
            login => {
                let Some(user) = Self::find_user(login) else {
                    self.login_failed(s, login);
                    return Err(BAD_PASSWORD.into());
                };
                if user.password != secret {
                    self.login_failed(s, login);
                    return Err(BAD_PASSWORD.into());
                }
                if user.disabled {
                    return Err(DISABLED_USER.into());
                }
                s.failures.remove(login);
                Ok(Entity::User(user.username.into()))
            }
        }
    }

    fn is_org_admin(user: &str, org: &str) -> bool {
        ORGS.iter()
            .any(|o| o.name == org && o.admins.contains(&user))
    }

    /// The role an entity holds on a repository: 0, READ, WRITE or ADMIN.
    fn role(entity: &Entity, repo: &Repo) -> u8 {
        let who = entity.principal();
        let owner = !matches!(entity, Entity::Robot(_))
            && (repo.namespace == who || Self::is_org_admin(who, &repo.namespace));
        let user_role = if owner {
            ADMIN
        } else if repo.writers.iter().any(|w| w == who) {
            WRITE
        } else if repo.readers.iter().any(|r| r == who) {
            READ
        } else {
            0
        };
        match entity {
            // A token holds at most what its scopes allow (SCOPE_MAX_REPO_ROLES).
            Entity::OAuth(t) => {
                let max = if t.scopes.iter().any(|s| s == "repo:admin") {
                    ADMIN
                } else if t.scopes.iter().any(|s| s == "repo:write") {
                    WRITE
                } else if t.scopes.iter().any(|s| s == "repo:read") {
                    READ
                } else {
                    0
                };
                user_role.min(max)
            }
            _ => user_role,
        }
    }

    fn can_create(entity: &Entity, namespace: &str) -> bool {
        let owns = |who: &str| who == namespace || Self::is_org_admin(who, namespace);
        match entity {
            Entity::User(u) => owns(u),
            Entity::AppToken { user, .. } => owns(user),
            Entity::OAuth(t) => owns(&t.user) && t.scopes.iter().any(|s| s == "repo:create"),
            Entity::Robot(_) => false,
        }
    }

    /// How an API v1 call authenticates: a Bearer token first (an unknown one
    /// is anonymous), else the session cookie.
    fn api_auth(&self, s: &Inner, headers: &HeaderMap) -> ApiAuth {
        if let Some(token) = bearer(headers) {
            let now = self.now();
            return match s.tokens.get(&token) {
                Some(t) if t.expires > now => ApiAuth::Token(t.clone()),
                _ => ApiAuth::Anonymous,
            };
        }
        if let Some(c) = cookie(headers, SESSION_COOKIE) {
            if let Some(user) = self.session_user(s, &c) {
                return ApiAuth::Session { user, cookie: c };
            }
        }
        ApiAuth::Anonymous
    }

    fn problem(&self, status: StatusCode, error_type: &str, detail: &str) -> Response {
        problem(&self.app_url, status, error_type, detail)
    }

    /// `BROWSER_API_CALLS_XHR_ONLY`: a browser's GET must say it is an XHR.
    fn xhr_refused(&self, headers: &HeaderMap) -> Option<Response> {
        let agent = header_text(headers, "user-agent")?.to_lowercase();
        let browser = ["chrome", "safari", "webkit", "firefox", "mozilla", "opera"]
            .iter()
            .any(|b| agent.contains(b));
        (browser && header_text(headers, "x-requested-with").is_none()).then(|| {
            self.problem(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "API calls must be invoked with an X-Requested-With header if called from a browser",
            )
        })
    }

    /// Whether the redirect URI passes `validate_redirect_uri`.
    fn redirect_ok(&self, app: &App, uri: &str) -> bool {
        if uri == format!("{}/oauth/localapp", self.app_url) {
            return true;
        }
        fn split(uri: &str) -> Option<(&str, &str, &str)> {
            let (scheme, rest) = uri.split_once("://")?;
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (netloc, tail) = rest.split_at(end);
            let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
            Some((scheme, netloc, &tail[..path_end]))
        }
        let (Some((scheme, netloc, path)), Some((r_scheme, r_netloc, r_path))) =
            (split(uri), split(app.redirect_uri))
        else {
            return false;
        };
        let decoded: String = url::form_urlencoded::parse(format!("x={uri}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        scheme == r_scheme
            && netloc == r_netloc
            && !netloc.contains('@')
            && !uri.contains("..")
            && !decoded.contains("..")
            && !path.contains('@')
            && path.starts_with(r_path)
            && !path[r_path.len()..].contains('%')
    }

    fn mint_registry_token(
        &self,
        entity: Option<&Entity>,
        service: Option<&str>,
        access: Vec<Value>,
        roots: serde_json::Map<String, Value>,
    ) -> String {
        let now = self.now().unix_timestamp();
        let s = self.lock();
        let (sub, context) = match entity {
            None => (
                "(anonymous)".to_string(),
                json!({"version": 2, "entity_kind": "anonymous", "entity_reference": null,
                       "kind": "anonymous"}),
            ),
            Some(Entity::User(u)) => (
                u.clone(),
                json!({"version": 2, "entity_kind": "user",
                       "entity_reference": s.user_uuids.get(u), "kind": "user", "user": u}),
            ),
            Some(Entity::Robot(r)) => (
                r.clone(),
                json!({"version": 2, "entity_kind": "robot", "entity_reference": r,
                       "kind": "user", "user": r}),
            ),
            Some(Entity::OAuth(t)) => (
                t.user.clone(),
                json!({"version": 2, "entity_kind": "oauthtoken", "entity_reference": t.uuid,
                       "kind": "oauth", "oauth": t.uuid, "user": t.user}),
            ),
            Some(Entity::AppToken { user, uuid }) => (
                user.clone(),
                json!({"version": 2, "entity_kind": "appspecifictoken", "entity_reference": uuid,
                       "kind": "user", "user": user}),
            ),
        };
        drop(s);
        let mut context = context;
        context["com.apostille.roots"] = Value::Object(roots);
        context["com.apostille.root"] = json!("$disabled");
        let claims = json!({
            "iss": "quay",
            "aud": service,
            "nbf": now,
            "iat": now,
            "exp": now + REGISTRY_TOKEN_LIFETIME,
            "sub": sub,
            "access": access,
            "context": context,
        });
        let key = service_key();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        header.typ = Some("JWT".into());
        self.lock().registry_tokens += 1;
        jsonwebtoken::encode(&header, &claims, &key.encoding).expect("RS256 signing")
    }

    /// Whether a registry Bearer token is one this Quay issued for itself
    /// and still valid (RS256, `aud`, `iss`, 30 s leeway).
    fn registry_token_ok(&self, token: &str) -> bool {
        self.registry_claims(token).is_some()
    }

    /// The claims of a registry token this Quay issued and the registry
    /// accepts now (`registry_jwt_auth`); `None` for any other.
    fn registry_claims(&self, token: &str) -> Option<Value> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data =
            jsonwebtoken::decode::<Value>(token, &service_key().decoding, &validation).ok()?;
        let c = data.claims;
        let now = self.now().unix_timestamp();
        let ok = c.get("aud").and_then(Value::as_str) == Some(self.hostname.as_str())
            && c.get("iss").and_then(Value::as_str) == Some("quay")
            && c.get("sub").is_some()
            && c.get("exp")
                .and_then(Value::as_i64)
                .is_some_and(|e| e + 30 > now)
            && c.get("nbf")
                .and_then(Value::as_i64)
                .is_none_or(|n| n - 30 <= now);
        ok.then_some(c)
    }

    /// Manifests pulled, for tests that count what a client did.
    pub fn manifest_pulls(&self) -> u32 {
        self.lock().manifest_pulls
    }

    fn challenge(&self, scope: Option<&str>) -> String {
        let mut c = format!(
            "Bearer realm=\"{}/v2/auth\",service=\"{}\"",
            self.app_url, self.hostname
        );
        if let Some(scope) = scope {
            c.push_str(&format!(",scope=\"{scope}\""));
        }
        c
    }

    fn unauthorized(&self, message: &str, scope: Option<&str>) -> Response {
        let mut r = registry_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message, json!({}));
        if let Ok(v) = self.challenge(scope).parse() {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }
}

pub fn router(state: Quay) -> Router {
    Router::new()
        .route("/", get(|| async { "quay" }))
        .route("/oauth/authorizeapp", post(authorize_app))
        .route("/oauth/localapp", get(local_app))
        .route("/csrf_token", get(csrf_token))
        .route("/api/v1/signin", post(signin))
        .route("/api/v1/signout", post(signout))
        .route("/api/v1/user/", get(user))
        .route("/api/v1/user/authorizations", get(authorizations))
        .route(
            "/api/v1/user/authorizations/{uuid}",
            delete(delete_authorization),
        )
        .route("/v2/", get(v2_base))
        .route("/v2/auth", get(v2_auth))
        .route("/keys/services/quay/keys", get(service_keys))
        .route("/keys/services/quay/keys/{kid}", get(service_key_by_id))
        .with_state(state)
}

/// The registry as Docker looks for it: `/v2/` at the root of the host, so
/// `docker pull 127.0.0.1:PORT/acme/web` works; the token server stays where
/// the challenge's realm says (`{app_url}/v2/auth`).
pub fn registry_router(state: Quay) -> Router {
    Router::new()
        .route("/v2/", get(v2_base))
        .route("/v2/{*rest}", get(v2_manifest))
        .with_state(state)
}

/// The one image every image repository holds: an empty linux/amd64 image
/// (its config blob, and a manifest with no layers), enough for `docker
/// manifest inspect` and for a client that pulls the manifest and config.
const IMAGE_CONFIG: &str =
    r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
const MANIFEST_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// `GET /v2/<namespace>/<repo>/manifests/<reference>` (and `/blobs/<digest>`
/// of its config) with a registry token that grants pull on the repository;
/// else the 401 challenge with its scope.
async fn v2_manifest(
    State(q): State<Quay>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (name, reference, blob) = match (rest.split_once("/manifests/"), rest.split_once("/blobs/"))
    {
        (Some((name, reference)), _) => (name, reference, false),
        (None, Some((name, digest))) => (name, digest, true),
        (None, None) => {
            return registry_error(
                StatusCode::NOT_FOUND,
                "UNSUPPORTED",
                "the sandbox registry serves manifests and their config blobs only",
                json!({}),
            )
        }
    };
    let scope = format!("repository:{name}:pull");
    let granted = bearer(&headers)
        .and_then(|t| q.registry_claims(&t))
        .is_some_and(|c| {
            c.get("access")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|a| {
                    a.get("name").and_then(Value::as_str) == Some(name)
                        && a.get("actions")
                            .and_then(Value::as_array)
                            .is_some_and(|acts| acts.iter().any(|x| x == "pull" || x == "*"))
                })
        });
    if !granted {
        return q.unauthorized(
            "access to the requested resource is not authorized",
            Some(&scope),
        );
    }
    let exists = name.split_once('/').is_some_and(|(ns, repo)| {
        q.lock()
            .repos
            .iter()
            .any(|r| r.namespace == ns && r.name == repo && r.kind == "image")
    });
    if !exists || reference.is_empty() {
        return registry_error(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            "manifest unknown",
            json!({ "name": name, "reference": reference }),
        );
    }
    let config_digest = sha256_digest(IMAGE_CONFIG.as_bytes());
    if blob {
        if reference != config_digest {
            return registry_error(
                StatusCode::NOT_FOUND,
                "BLOB_UNKNOWN",
                "blob unknown to registry",
                json!({ "digest": reference }),
            );
        }
        return (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                (
                    header::HeaderName::from_static("docker-content-digest"),
                    config_digest,
                ),
            ],
            IMAGE_CONFIG,
        )
            .into_response();
    }
    q.lock().manifest_pulls += 1;
    let body = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": IMAGE_CONFIG.len(),
            "digest": config_digest,
        },
        "layers": [],
    })
    .to_string();
    let digest = sha256_digest(body.as_bytes());
    (
        [
            (header::CONTENT_TYPE, MANIFEST_TYPE.to_string()),
            (
                header::HeaderName::from_static("docker-content-digest"),
                digest,
            ),
            (
                header::HeaderName::from_static("docker-distribution-api-version"),
                "registry/2.0".to_string(),
            ),
        ],
        body,
    )
        .into_response()
}

/// `POST /oauth/authorizeapp`, in the order of §2.2's table.
async fn authorize_app(State(q): State<Quay>, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let mut s = q.lock();
    s.authorize_calls += 1;
    // 1. An authenticated user: valid Basic credentials, or a session.
    let session = cookie(&headers, SESSION_COOKIE);
    let session_user = session.as_deref().and_then(|c| q.session_user(&s, c));
    let (authed, basic_user) = match basic_credentials(&headers) {
        Some(Some((u, p))) => match q.validate(&mut s, &u, &p) {
            Ok(Entity::User(name)) => (Some(name.clone()), Some(name)),
            Ok(other) => (Some(other.principal().to_string()), None),
            Err(_) => (None, None),
        },
        Some(None) => (None, None),
        None => (session_user, None),
    };
    let Some(user) = authed else {
        return html(
            StatusCode::UNAUTHORIZED,
            "401 Unauthorized",
            "The server could not verify that you are authorized to access the URL requested.",
        );
    };
    let client_id = field("client_id").unwrap_or_default().to_string();
    // 2. CSRF, unless the client is whitelisted and a real user's Basic
    //    credentials came with the request.
    let whitelisted =
        s.whitelist.contains(&client_id) && basic_user.as_deref() == Some(user.as_str());
    if !whitelisted {
        let sent = field("_csrf_token")
            .map(str::to_string)
            .or_else(|| header_text(&headers, "x-csrf-token"));
        let expected = session
            .as_deref()
            .and_then(|c| s.sessions.get(c))
            .map(|x| x.csrf.clone());
        if sent.is_none() || sent != expected {
            return csrf_refused();
        }
    }
    // 3. Token assignment is off here.
    if field("assignment_uuid").is_some() {
        return html(
            StatusCode::BAD_REQUEST,
            "400 Bad Request",
            "The browser (or proxy) sent a request that this server could not understand.",
        );
    }
    let redirect_uri = field("redirect_uri")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}/oauth/localapp", q.app_url));
    // 4. The app exists and the user administers its organization.
    let app = APPS.iter().find(|a| a.client_id == client_id);
    let Some(app) = app.filter(|a| Quay::is_org_admin(&user, a.org)) else {
        return found(&build_url(
            &redirect_uri,
            &[("error", Some("unauthorized_client"))],
        ));
    };
    // 5. The redirect URI.
    if !q.redirect_ok(app, &redirect_uri) {
        return (
            StatusCode::BAD_REQUEST,
            [
                (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            json!({"error": "invalid_request"}).to_string(),
        )
            .into_response();
    }
    // 7. The scope: known items, one separator between them.
    let scope = field("scope").unwrap_or_default().to_string();
    let scope_ok = !scope.is_empty()
        && split_scopes(&scope)
            .iter()
            .all(|item| ALL_SCOPES.contains(item) && !s.unknown_scopes.iter().any(|u| u == item));
    if !scope_ok {
        return found(&build_url(
            &redirect_uri,
            &[("error", Some("invalid_scope"))],
        ));
    }
    let state = field("state").map(|st| {
        if s.tamper_state {
            format!("{st}-forged")
        } else {
            st.to_string()
        }
    });
    let response_type = if s.ignore_response_type {
        "code"
    } else {
        field("response_type").unwrap_or("code")
    };
    match response_type {
        "token" => {
            let token = random_alnum(40);
            s.tokens.insert(
                token.clone(),
                OAuthToken {
                    uuid: random_uuid(),
                    user: user.clone(),
                    client_id: client_id.clone(),
                    scopes: split_scopes(&scope).iter().map(|x| x.to_string()).collect(),
                    expires: q.now() + Duration::seconds(OAUTH_EXPIRES_IN),
                },
            );
            let url = build_url(
                &redirect_uri,
                &[("scope", Some(&scope)), ("state", state.as_deref())],
            );
            found(&format!(
                "{url}#access_token={token}&token_type=Bearer&expires_in={OAUTH_EXPIRES_IN}"
            ))
        }
        "code" => {
            let code = random_alnum(40);
            found(&build_url(
                &redirect_uri,
                &[
                    ("code", Some(&code)),
                    ("scope", Some(&scope)),
                    ("state", state.as_deref()),
                ],
            ))
        }
        _ => found(&build_url(
            &redirect_uri,
            &[("error", Some("unsupported_response_type"))],
        )),
    }
}

/// `GET /oauth/localapp`: the page the UI's "Generate Token" lands on.
async fn local_app(RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let token = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned());
    Json(json!({"access_token": token})).into_response()
}

fn session_cookie_header(value: &str, expires: Option<OffsetDateTime>) -> String {
    match expires {
        Some(at) => format!(
            "{SESSION_COOKIE}={value}; Expires={}; HttpOnly; Path=/; SameSite=Lax",
            http_date(at)
        ),
        None => format!("{SESSION_COOKIE}={value}; HttpOnly; Path=/; SameSite=Lax"),
    }
}

/// `GET /csrf_token`: the session's CSRF token, starting a session if needed.
async fn csrf_token(State(q): State<Quay>, headers: HeaderMap) -> Response {
    let mut s = q.lock();
    let existing = cookie(&headers, SESSION_COOKIE).filter(|c| s.sessions.contains_key(c));
    let id = existing.unwrap_or_else(|| {
        let id = random_alnum(48);
        s.sessions.insert(
            id.clone(),
            Session {
                csrf: random_csrf(),
                user: None,
                login_time: q.now(),
            },
        );
        id
    });
    let csrf = s.sessions[&id].csrf.clone();
    (
        [(header::SET_COOKIE, session_cookie_header(&id, None))],
        Json(json!({"csrf_token": csrf})),
    )
        .into_response()
}

/// The CSRF check of a non-GET call made with the session cookie.
fn csrf_ok(s: &Inner, headers: &HeaderMap) -> bool {
    let Some(c) = cookie(headers, SESSION_COOKIE) else {
        return false;
    };
    let sent = header_text(headers, "x-csrf-token");
    s.sessions
        .get(&c)
        .is_some_and(|x| sent.as_deref() == Some(x.csrf.as_str()))
}

/// `POST /api/v1/signin`.
async fn signin(State(q): State<Quay>, headers: HeaderMap, body: String) -> Response {
    let mut s = q.lock();
    if !s.direct_login {
        return q.problem(StatusCode::NOT_FOUND, "not_found", "Not Found");
    }
    if !csrf_ok(&s, &headers) {
        return csrf_refused();
    }
    let parsed: Option<(String, String)> =
        serde_json::from_str::<Value>(&body).ok().and_then(|v| {
            Some((
                v.get("username")?.as_str()?.to_string(),
                v.get("password")?.as_str()?.to_string(),
            ))
        });
    let Some((login, password)) = parsed else {
        return q.problem(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "'username' and 'password' are required properties",
        );
    };
    if let Some(wait) = q.blocked(&s, &login) {
        return throttled(wait);
    }
    let refused = |needs_verification: bool, message: Option<&str>| {
        (
            StatusCode::FORBIDDEN,
            Json(json!({
                "needsEmailVerification": needs_verification,
                "invalidCredentials": !needs_verification,
                "message": message,
            })),
        )
            .into_response()
    };
    let user = match Quay::find_user(&login) {
        Some(u) if u.password == password => u,
        _ => {
            q.login_failed(&mut s, &login);
            return refused(false, Some(BAD_PASSWORD));
        }
    };
    if user.disabled {
        return refused(false, Some(DISABLED_USER));
    }
    if !user.verified {
        return refused(true, None);
    }
    s.failures.remove(&login);
    s.signins += 1;
    // A new session: the cookie and the CSRF token both change.
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        s.sessions.remove(&old);
    }
    let id = random_alnum(48);
    let csrf = random_csrf();
    let now = q.now();
    let uuid = s.user_uuids[user.username].clone();
    s.sessions.insert(
        id.clone(),
        Session {
            csrf: csrf.clone(),
            user: Some((user.username.to_string(), uuid)),
            login_time: now,
        },
    );
    (
        [
            (
                header::SET_COOKIE,
                session_cookie_header(&id, Some(now + SESSION_TIMEOUT)),
            ),
            (header::HeaderName::from_static("x-next-csrf-token"), csrf),
        ],
        Json(json!({"success": true})),
    )
        .into_response()
}

/// `POST /api/v1/signout`: rotates the user's UUID, ending all their sessions.
async fn signout(State(q): State<Quay>, headers: HeaderMap) -> Response {
    let mut s = q.lock();
    let auth = q.api_auth(&s, &headers);
    let user = match auth {
        ApiAuth::Session { user, cookie } => {
            if !csrf_ok(&s, &headers) {
                return csrf_refused();
            }
            s.sessions.remove(&cookie);
            Some(user)
        }
        ApiAuth::Token(t) => Some(t.user),
        ApiAuth::Anonymous => None,
    };
    if let Some(user) = user {
        s.user_uuids.insert(user, random_uuid());
    }
    Json(json!({"success": true})).into_response()
}

fn avatar(name: &str, kind: &str) -> Value {
    let hash = format!("{:x}", Sha256::digest(name.as_bytes()));
    json!({"name": name, "hash": &hash[..32], "color": "#5cb85c", "kind": kind})
}

/// `GET /api/v1/user/`.
async fn user(State(q): State<Quay>, headers: HeaderMap) -> Response {
    if let Some(r) = q.xhr_refused(&headers) {
        return r;
    }
    let s = q.lock();
    let (name, read, admin) = match q.api_auth(&s, &headers) {
        ApiAuth::Anonymous => (None, false, false),
        ApiAuth::Session { user, .. } => (Some(user), true, true),
        ApiAuth::Token(t) => {
            let admin = t.scopes.iter().any(|x| x == "user:admin");
            let read = admin || t.scopes.iter().any(|x| x == "user:read");
            (Some(t.user), read, admin)
        }
    };
    let (Some(name), true) = (name, read) else {
        return q.problem(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Requires authentication",
        );
    };
    let user = USERS.iter().find(|u| u.username == name);
    let mut view = json!({
        "anonymous": false,
        "username": name,
        "avatar": avatar(&name, "user"),
    });
    if admin {
        view["can_create_repo"] = json!(true);
        view["is_me"] = json!(true);
        view["verified"] = json!(user.is_some_and(|u| u.verified));
        view["email"] = json!(user.map(|u| u.email));
        view["logins"] = json!([]);
        view["invoice_email"] = json!(false);
        view["invoice_email_address"] = Value::Null;
        view["preferred_namespace"] = json!(false);
        view["tag_expiration_s"] = json!(1_209_600);
        view["prompts"] = json!([]);
        for k in ["company", "family_name", "given_name", "location"] {
            view[k] = Value::Null;
        }
        view["is_free_account"] = json!(true);
        view["has_password_set"] = json!(true);
    }
    let orgs: Vec<Value> = ORGS
        .iter()
        .filter(|o| o.members.contains(&name.as_str()))
        .map(|o| {
            let mut org = json!({
                "name": o.name,
                "avatar": avatar(o.name, "org"),
                "can_create_repo": o.admins.contains(&name.as_str()),
                "public": false,
            });
            if admin {
                org["is_org_admin"] = json!(o.admins.contains(&name.as_str()));
                org["preferred_namespace"] = json!(false);
            }
            org
        })
        .collect();
    view["organizations"] = Value::Array(orgs);
    Json(view).into_response()
}

/// The user an API call may administer, or the error: 401 for nobody, 403
/// for a token without `user:admin`.
fn user_admin(q: &Quay, s: &Inner, headers: &HeaderMap) -> Result<(String, bool), Response> {
    match q.api_auth(s, headers) {
        ApiAuth::Anonymous => Err(q.problem(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Requires authentication",
        )),
        ApiAuth::Token(t) if !t.scopes.iter().any(|x| x == "user:admin") => {
            Err(q.problem(StatusCode::FORBIDDEN, "insufficient_scope", "Unauthorized"))
        }
        ApiAuth::Token(t) => Ok((t.user, false)),
        ApiAuth::Session { user, .. } => Ok((user, true)),
    }
}

fn scope_information(scope: &str) -> Value {
    let (title, description, dangerous) = match scope {
        "repo:read" => ("View all visible repositories", "This application will be able to view and pull all repositories visible to the granting user or robot account", false),
        "repo:write" => ("Read/Write to any accessible repositories", "This application will be able to view, push and pull to all repositories to which the granting user or robot account has write access", false),
        "repo:admin" => ("Administer Repositories", "This application will have administrator access to all repositories to which the granting user or robot account has access", false),
        "repo:create" => ("Create Repositories", "This application will be able to create repositories in to any namespaces that the granting user or robot account is allowed to create repositories", false),
        "user:read" => ("Read User Information", "This application will be able to read user information such as username and email address.", false),
        "user:admin" => ("Administer User", "This application will be able to administer your account including creating robots and granting them permissions to your repositories. You should have absolute trust in the requesting application before granting this permission.", true),
        "org:admin" => ("Administer Organization", "This application will be able to administer your organizations including creating robots, creating teams, adjusting team membership, and changing billing settings. You should have absolute trust in the requesting application before granting this permission.", true),
        _ => ("Super User Access", "This application will be able to administer your installation including managing users, managing organizations and other features found in the superuser panel. You should have absolute trust in the requesting application before granting this permission.", true),
    };
    json!({"scope": scope, "title": title, "description": description,
           "dangerous": dangerous, "icon": "fa-key"})
}

/// `GET /api/v1/user/authorizations`.
async fn authorizations(State(q): State<Quay>, headers: HeaderMap) -> Response {
    let s = q.lock();
    let (user, _) = match user_admin(&q, &s, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = q.now();
    let list: Vec<Value> = s
        .tokens
        .values()
        .filter(|t| t.user == user && t.expires > now)
        .map(|t| {
            let app = APPS.iter().find(|a| a.client_id == t.client_id);
            let (name, org) = app.map_or(("unknown", "unknown"), |a| (a.name, a.org));
            json!({
                "application": {
                    "name": name,
                    "description": "",
                    "url": "",
                    "avatar": avatar(name, "app"),
                    "organization": {"name": org, "avatar": avatar(org, "org")},
                },
                "scopes": t.scopes.iter().map(|x| scope_information(x)).collect::<Vec<_>>(),
                "uuid": t.uuid,
            })
        })
        .collect();
    Json(json!({"authorizations": list})).into_response()
}

/// `DELETE /api/v1/user/authorizations/<uuid>`.
async fn delete_authorization(
    State(q): State<Quay>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut s = q.lock();
    let (user, by_session) = match user_admin(&q, &s, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if by_session && !csrf_ok(&s, &headers) {
        return csrf_refused();
    }
    let found = s
        .tokens
        .iter()
        .find(|(_, t)| t.user == user && t.uuid == uuid)
        .map(|(k, _)| k.clone());
    match found {
        Some(token) => {
            s.tokens.remove(&token);
            StatusCode::NO_CONTENT.into_response()
        }
        None => q.problem(StatusCode::NOT_FOUND, "not_found", "Not Found"),
    }
}

/// `GET /v2/`: 200 with a valid registry token, else the challenge.
async fn v2_base(State(q): State<Quay>, headers: HeaderMap) -> Response {
    match bearer(&headers) {
        Some(token) if q.registry_token_ok(&token) => (
            [("Docker-Distribution-API-Version", "registry/2.0")],
            Json(json!({})),
        )
            .into_response(),
        _ => q.unauthorized("access to the requested resource is not authorized", None),
    }
}

/// `GET /v2/auth`, as `endpoints/v2/v2auth.py` does it.
async fn v2_auth(State(q): State<Quay>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let service = params
        .iter()
        .find(|(k, _)| k == "service")
        .map(|(_, v)| v.clone());
    let scopes: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let entity = {
        let mut s = q.lock();
        match basic_credentials(&headers) {
            Some(Some((user, secret))) => {
                if let Some(wait) = q.blocked(&s, &user) {
                    return throttled(wait);
                }
                match q.validate(&mut s, &user, &secret) {
                    Ok(e) => Some(e),
                    Err(message) => {
                        return q.unauthorized(&message, scopes.first().map(|x| x.as_str()))
                    }
                }
            }
            Some(None) => return q.unauthorized(BAD_PASSWORD, None),
            None if headers.contains_key(header::AUTHORIZATION) => {
                return q.unauthorized("Invalid bearer token format", None)
            }
            None => None,
        }
    };
    if entity.is_none() && scopes.is_empty() {
        return q.unauthorized("access to the requested resource is not authorized", None);
    }
    let mut access = Vec::new();
    let mut roots = serde_json::Map::new();
    for scope in &scopes {
        if scope.is_empty() {
            if entity.is_none() {
                return q.unauthorized("access to the requested resource is not authorized", None);
            }
            continue;
        }
        let Some(parsed) = parse_registry_scope(scope, &q.hostname) else {
            return registry_error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                &format!("Unable to decode repository and actions: {scope}"),
                json!({}),
            );
        };
        let parts: Vec<&str> = parsed.namespace_and_repo.split('/').collect();
        let (namespace, name) = match parts.as_slice() {
            [name] => ("library".to_string(), name.to_string()),
            [ns, name] => (ns.to_string(), name.to_string()),
            _ => {
                return registry_error(
                    StatusCode::BAD_REQUEST,
                    "NAME_INVALID",
                    &format!(
                        "Nested repositories are not supported. Found: {}",
                        parsed.namespace_and_repo
                    ),
                    json!({}),
                )
            }
        };
        if !valid_repo_name(&name) {
            return registry_error(
                StatusCode::BAD_REQUEST,
                "NAME_INVALID",
                &format!("Invalid repository name: {}", parsed.namespace_and_repo),
                json!({}),
            );
        }
        if DISABLED_NAMESPACES.contains(&namespace.as_str()) {
            return registry_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "DENIED",
                &format!(
                    "Namespace {namespace} has been disabled. Please contact a system administrator."
                ),
                json!({}),
            );
        }
        let wants = |a: &str| parsed.actions.iter().any(|x| x == a);
        let mut s = q.lock();
        if s.read_only && wants("push") {
            return registry_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "DENIED",
                "System is currently read-only. Pulls will succeed but all write operations are currently suspended.",
                json!({"is_readonly": true}),
            );
        }
        let existing = s
            .repos
            .iter()
            .find(|r| r.namespace == namespace && r.name == name)
            .cloned();
        let role = match (&entity, &existing) {
            (Some(e), Some(r)) => Quay::role(e, r),
            _ => 0,
        };
        let unsupported = || {
            registry_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
                &format!(
                    "This repository is for managing {} and not container images.",
                    existing.as_ref().map_or("", |r| r.kind)
                ),
                json!({}),
            )
        };
        let image = existing.as_ref().is_none_or(|r| r.kind == "image");
        let mut actions: Vec<&str> = Vec::new();
        if wants("push") {
            if let Some(e) = &entity {
                match &existing {
                    Some(_) if role >= WRITE => {
                        if !image {
                            return unsupported();
                        }
                        actions.push("push");
                    }
                    Some(_) => {}
                    None if Quay::can_create(e, &namespace) => {
                        // Push-to-create.
                        s.repos.push(Repo {
                            namespace: namespace.clone(),
                            name: name.clone(),
                            public: false,
                            kind: "image",
                            readers: Vec::new(),
                            writers: Vec::new(),
                        });
                        actions.push("push");
                    }
                    None => {}
                }
            }
        }
        if wants("pull") {
            let public = existing.as_ref().is_some_and(|r| r.public);
            if role >= READ || public {
                if !image {
                    return unsupported();
                }
                actions.push("pull");
            }
        }
        if wants("*") && role >= ADMIN {
            if !image {
                return unsupported();
            }
            actions.push("*");
        }
        drop(s);
        access.push(json!({
            "type": "repository",
            "name": parsed.registry_and_repo,
            "actions": actions,
        }));
        roots.insert(format!("{namespace}/{name}"), json!("$disabled"));
    }
    let token = q.mint_registry_token(entity.as_ref(), service.as_deref(), access, roots);
    (
        [
            (header::CACHE_CONTROL, "no-cache, no-store, must-revalidate"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(json!({"token": token})),
    )
        .into_response()
}

/// `GET /keys/services/quay/keys`.
async fn service_keys(State(q): State<Quay>) -> Response {
    ([(header::CACHE_CONTROL, "max-age=3600")], Json(q.jwks())).into_response()
}

/// `GET /keys/services/quay/keys/<kid>`: a bare JWK.
async fn service_key_by_id(Path(kid): Path<String>) -> Response {
    let key = service_key();
    if kid == key.kid {
        (
            [(header::CACHE_CONTROL, "max-age=3600")],
            Json(key.jwk.clone()),
        )
            .into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sandbox;

    fn no_redirects() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    fn location(res: &reqwest::Response) -> url::Url {
        url::Url::parse(res.headers()[header::LOCATION].to_str().unwrap()).unwrap()
    }

    fn query(u: &url::Url, name: &str) -> Option<String> {
        u.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    async fn approve(
        sandbox: &Sandbox,
        user: (&str, &str),
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        no_redirects()
            .post(format!("{}/oauth/authorizeapp", sandbox.url_of("quay")))
            .basic_auth(user.0, Some(user.1))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    #[test]
    fn the_fixed_credentials_have_quays_shapes() {
        assert_eq!(ROBOT_TOKEN.len(), 64);
        assert!(ROBOT_TOKEN
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(APP_TOKEN.len(), 120);
        for id in [CLIENT_ID, GLOBEX_CLIENT_ID, UNLISTED_CLIENT_ID] {
            assert_eq!(id.len(), 20, "{id}");
        }
        assert_eq!(random_csrf().len(), 64);
    }

    #[test]
    fn registry_scopes_parse_like_quays_regex() {
        let s = parse_registry_scope("repository:acme/web:pull,push", "h:1").unwrap();
        assert_eq!(s.namespace_and_repo, "acme/web");
        assert_eq!(s.actions, ["pull", "push"]);
        let s = parse_registry_scope("repository:h:1/acme/web:*", "h:1").unwrap();
        assert_eq!(s.registry_and_repo, "h:1/acme/web");
        assert_eq!(s.namespace_and_repo, "acme/web");
        for bad in [
            "repository:acme/web",
            "repository:acme/web:delete",
            "repo:acme/web:pull",
            "repository:acme//web:pull",
            "repository:acme/web:pull,,push",
        ] {
            assert!(parse_registry_scope(bad, "h:1").is_none(), "{bad}");
        }
        assert!(valid_repo_name("web-1.x"));
        assert!(!valid_repo_name("Web"));
    }

    #[tokio::test]
    async fn a_whitelisted_approval_puts_the_token_in_the_fragment_and_state_in_the_query() {
        let sandbox = Sandbox::start(0).await.unwrap();
        let res = approve(
            &sandbox,
            ("alice", ALICE_PASSWORD),
            &[
                ("client_id", CLIENT_ID),
                ("redirect_uri", REGISTERED_REDIRECT),
                ("scope", "repo:read user:read"),
                ("response_type", "token"),
                ("state", "xyz"),
            ],
        )
        .await;
        assert_eq!(res.status(), 302);
        let loc = location(&res);
        assert_eq!(query(&loc, "state").as_deref(), Some("xyz"));
        assert_eq!(query(&loc, "scope").as_deref(), Some("repo:read user:read"));
        let fragment = loc.fragment().unwrap();
        assert!(fragment.ends_with("&token_type=Bearer&expires_in=315576000"));
        let token = fragment
            .strip_prefix("access_token=")
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        assert_eq!(token.len(), 40);
        assert!(sandbox.quay().is_valid_oauth(token));

        // Without response_type: the code flow.
        let res = approve(
            &sandbox,
            ("alice", ALICE_PASSWORD),
            &[
                ("client_id", CLIENT_ID),
                ("scope", "repo:read"),
                ("state", "s"),
            ],
        )
        .await;
        let loc = location(&res);
        assert!(loc.path().ends_with("/quay/oauth/localapp"), "{loc}");
        assert_eq!(query(&loc, "code").map(|c| c.len()), Some(40));
        assert_eq!(loc.fragment(), None);
    }

    #[tokio::test]
    async fn approvals_fail_in_the_documented_order() {
        let sandbox = Sandbox::start(0).await.unwrap();
        let form = |client: &'static str, scope: &'static str, redirect: &'static str| {
            vec![
                ("client_id", client),
                ("redirect_uri", redirect),
                ("scope", scope),
                ("response_type", "token"),
            ]
        };
        let ok = form(CLIENT_ID, "repo:read", REGISTERED_REDIRECT);
        let res = approve(&sandbox, ("alice", "wrong"), &ok).await;
        assert_eq!(res.status(), 401);
        let res = approve(
            &sandbox,
            ("alice", ALICE_PASSWORD),
            &form(UNLISTED_CLIENT_ID, "repo:read", REGISTERED_REDIRECT),
        )
        .await;
        assert_eq!(res.status(), 403);
        assert_eq!(res.json::<Value>().await.unwrap()["error"], CSRF_ERROR);
        let res = approve(
            &sandbox,
            ("alice", ALICE_PASSWORD),
            &form(GLOBEX_CLIENT_ID, "repo:read", REGISTERED_REDIRECT),
        )
        .await;
        assert_eq!(
            query(&location(&res), "error").as_deref(),
            Some("unauthorized_client")
        );
        for bad in [
            "http://127.0.0.1:9999/cb",
            "http://127.0.0.1:8765/other",
            "http://127.0.0.1:8765/cb/../x",
            "http://user@127.0.0.1:8765/cb",
            "https://127.0.0.1:8765/cb",
        ] {
            let res = approve(
                &sandbox,
                ("alice", ALICE_PASSWORD),
                &form(CLIENT_ID, "repo:read", bad),
            )
            .await;
            assert_eq!(res.status(), 400, "{bad}");
            assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        }
        let res = approve(
            &sandbox,
            ("alice", ALICE_PASSWORD),
            &form(CLIENT_ID, "repo:read", "http://127.0.0.1:8765/cb/deeper"),
        )
        .await;
        assert_eq!(res.status(), 302, "a path under the registered one");
        for bad in [
            "repo:read  user:read",
            "repo:read, user:read",
            "repo:raed",
            "",
        ] {
            let res = approve(
                &sandbox,
                ("alice", ALICE_PASSWORD),
                &form(CLIENT_ID, bad, REGISTERED_REDIRECT),
            )
            .await;
            assert_eq!(
                query(&location(&res), "error").as_deref(),
                Some("invalid_scope"),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn signin_rotates_the_csrf_token_and_signout_ends_every_session() {
        let sandbox = Sandbox::start(0).await.unwrap();
        let base = sandbox.url_of("quay");
        let client = no_redirects();
        let mut sessions = Vec::new();
        for _ in 0..2 {
            let res = client
                .get(format!("{base}/csrf_token"))
                .send()
                .await
                .unwrap();
            let set = res.headers()[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .to_string();
            let cookie = set.split(';').next().unwrap().to_string();
            let csrf = res.json::<Value>().await.unwrap()["csrf_token"]
                .as_str()
                .unwrap()
                .to_string();
            let res = client
                .post(format!("{base}/api/v1/signin"))
                .header("Cookie", &cookie)
                .header("X-CSRF-Token", &csrf)
                .json(&json!({"username": "alice", "password": ALICE_PASSWORD}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let next = res.headers()["x-next-csrf-token"]
                .to_str()
                .unwrap()
                .to_string();
            assert_ne!(next, csrf);
            let set = res.headers()[header::SET_COOKIE].to_str().unwrap();
            assert!(set.contains("Expires="), "{set}");
            let cookie = set.split(';').next().unwrap().to_string();
            sessions.push((cookie, next));
        }
        let value = |c: &str| c.split_once('=').unwrap().1.to_string();
        assert!(sandbox.quay().is_signed_in(&value(&sessions[0].0)));
        // Without the rotated token, signing out is refused.
        let res = client
            .post(format!("{base}/api/v1/signout"))
            .header("Cookie", &sessions[0].0)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let res = client
            .post(format!("{base}/api/v1/signout"))
            .header("Cookie", &sessions[0].0)
            .header("X-CSRF-Token", &sessions[0].1)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            !sandbox.quay().is_signed_in(&value(&sessions[1].0)),
            "signed out everywhere"
        );
    }

    #[tokio::test]
    async fn registry_tokens_drop_what_the_caller_may_not_do_and_verify_against_the_key_server() {
        let sandbox = Sandbox::start(0).await.unwrap();
        let base = sandbox.url_of("quay");
        let client = no_redirects();
        let res = client.get(format!("{base}/v2/")).send().await.unwrap();
        assert_eq!(res.status(), 401);
        let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert_eq!(
            challenge,
            format!(
                "Bearer realm=\"{base}/v2/auth\",service=\"{}\"",
                sandbox.quay().hostname()
            )
        );
        let res = client
            .get(format!("{base}/v2/auth"))
            .query(&[
                ("service", sandbox.quay().hostname()),
                ("scope", "repository:globex/tools:pull,push"),
                ("scope", "repository:globex/vault:pull"),
            ])
            .basic_auth("alice", Some(ALICE_PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[sandbox.quay().hostname()]);
        validation.validate_exp = false;
        let key = DecodingKey::from_jwk(
            &serde_json::from_value(sandbox.quay().jwks()["keys"][0].clone()).unwrap(),
        )
        .unwrap();
        let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
            .unwrap()
            .claims;
        assert_eq!(claims["access"][0]["actions"], json!(["pull"]));
        assert_eq!(claims["access"][1]["actions"], json!([]));
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            3600
        );
        let res = client
            .get(format!("{base}/v2/"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);

        let res = client
            .get(format!("{base}/v2/auth"))
            .query(&[("scope", "repository:acme/web:pull")])
            .basic_auth(ROBOT, Some("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
        for (scope, status, code) in [
            ("repository:acme/web", 400, "INVALID_REQUEST"),
            ("repository:a/b/c:pull", 400, "NAME_INVALID"),
            ("repository:frozen/old:pull", 405, "DENIED"),
            ("repository:acme/charts:pull", 405, "UNSUPPORTED"),
        ] {
            let res = client
                .get(format!("{base}/v2/auth"))
                .query(&[("scope", scope)])
                .basic_auth("alice", Some(ALICE_PASSWORD))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), status, "{scope}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["errors"][0]["code"], code, "{scope}");
        }
    }
}
