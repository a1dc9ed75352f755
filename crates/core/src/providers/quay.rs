//! Quay logins (protocols §2, checklist §5 items 9–14):
//!
//! - `quay-direct-oauth`: `POST /oauth/authorizeapp` with the user's Basic
//!   credentials and `response_type=token`; the redirect is never followed:
//!   the token is read from the `Location` fragment and `state` from its
//!   query. Ten years, no refresh; `GET /api/v1/user/` says whose it is.
//!   Logout revokes through `/api/v1/user/authorizations` when the token may
//!   (`user:admin`), else forgets it and says so.
//! - `quay-session`: `GET /csrf_token`, `POST /api/v1/signin`; the cookie jar
//!   and the latest CSRF token (`X-Next-CSRF-Token`) are one keyring secret.
//!   Signing out ends every session of the user, which the logout says.
//! - `quay-registry`: `GET /v2/auth` with Basic credentials (a user, a robot
//!   `ns+name`, `$oauthtoken`, `$app`), realm and service discovered from the
//!   `WWW-Authenticate` challenge of `GET /v2/`; the lifetime is the JWT's
//!   `exp`, re-issued silently before it, and the access Quay granted is
//!   compared with what was asked, since Quay drops what the user may not do
//!   and still answers 200.
//!
//! Every refusal becomes a message that says what to do about it.

use super::{Begun, KindEntry, LoginContext, LoginInput, LogoutDone, Provider};
use super::{BoxFuture, RenewContext, RenewError, Renewer};
use crate::error::{Error, Result};
use crate::http::{self, send, Answer};
use crate::model::{
    LoginKind, LoginPrompt, LoginSpec, Profile, ProfileSettings, SecretSpec, Server, ServerKind,
    SettingField, SummaryItem,
};
use crate::tokens::{self as tok, IssuedToken, RenewalPolicy, TokenKind};
use crate::vault::{Secret, SecretKey, SecretSlot};
use rand::Rng;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// A Quay kind's line in the kind registry: on Quay servers, with Quay's
/// own rules for scopes and borrowed tokens; only registry tokens renew
/// (re-issued before `exp`).
pub const fn entry(login: LoginKind) -> KindEntry {
    let kind = KindEntry {
        check: Some(validate_settings),
        provider: Some(|login| Arc::new(Quay::new(login))),
        ..KindEntry::new(login, &[ServerKind::Quay], spec)
    };
    match login {
        LoginKind::QuayRegistry => KindEntry {
            renewer: Some(|login| Arc::new(Quay::new(login))),
            renewal: RenewalPolicy::Before(Duration::minutes(5)),
            ..kind
        },
        _ => kind,
    }
}

/// What each Quay login kind asks of the user (its descriptor). The password
/// is asked unless remembered; a registry login that borrows another
/// profile's token leaves it empty.
pub fn spec(login: LoginKind) -> LoginSpec {
    use SettingField::*;
    let remember = "Password (remember for silent re-login)";
    match login {
        LoginKind::QuayDirectOauth => LoginSpec {
            scope_choices: SCOPES,
            ..LoginSpec::new(
                login,
                LoginPrompt::Password,
                &[Username, ClientId, Scopes],
                &[RedirectUri, Registry],
                SecretSpec::optional(remember, SecretSlot::Password),
            )
        },
        LoginKind::QuaySession => LoginSpec {
            logout_warning: Some(SIGNOUT_WARNING),
            ..LoginSpec::new(
                login,
                LoginPrompt::Password,
                &[Username],
                &[],
                SecretSpec::optional(remember, SecretSlot::Password),
            )
        },
        _ => LoginSpec::new(
            login,
            LoginPrompt::Password,
            &[Username],
            &[Scopes, Service, SourceProfile, Registry],
            SecretSpec::optional("Password or robot token", SecretSlot::Password),
        ),
    }
}

/// Quay's OAuth scopes (`ALL_SCOPES` in `auth/scopes.py`), in the order its
/// UI lists them: what a direct-OAuth form offers as checkboxes.
pub const SCOPES: &[&str] = &[
    "repo:read",
    "repo:write",
    "repo:admin",
    "repo:create",
    "user:read",
    "user:admin",
    "org:admin",
    "super:user",
];

/// The user name that presents an OAuth token to the registry.
pub const OAUTH_TOKEN_USER: &str = "$oauthtoken";

/// What logging a Quay session out does beyond Latchkey.
pub const SIGNOUT_WARNING: &str = "Quay signs the user out everywhere: logging out ends every session of this user, in browsers and on other devices too.";

/// A registry token without `exp` lives this long (the Docker token spec's
/// default for a missing `expires_in`).
const DOCKER_DEFAULT_LIFETIME: Duration = Duration::seconds(60);

const NO_USER_ADMIN: &str = "Quay lets a token be revoked only by one that holds the user:admin scope, which this one lacks, so it stays valid (for up to 10 years) until you revoke it in Quay: Account Settings → Authorized Applications → Revoke. Latchkey forgot its copy.";

/// The realm and service of a registry, from its challenge.
#[derive(Debug, Clone, PartialEq)]
struct Registry {
    realm: String,
    service: String,
}

/// One of the three Quay login kinds.
pub struct Quay {
    login: LoginKind,
    /// Realm and service per server URL, discovered once.
    registries: Mutex<HashMap<String, Registry>>,
}

impl Quay {
    pub fn new(login: LoginKind) -> Self {
        Self {
            login,
            registries: Mutex::new(HashMap::new()),
        }
    }
}

// ---------------------------------------------------------------------------
// Settings

/// Checks the Quay-specific settings: direct-OAuth scopes against Quay's
/// list, registry scopes against `/v2/auth`'s grammar, and that a borrowed
/// token goes out as `$oauthtoken`.
pub fn validate_settings(login: LoginKind, settings: &ProfileSettings) -> Result<()> {
    match login {
        LoginKind::QuayDirectOauth => scope_param(&settings.scopes).map(|_| ()),
        LoginKind::QuayRegistry => {
            for scope in &settings.scopes {
                registry_scope(scope)?;
            }
            if let Some(source) = &settings.source_profile {
                if settings.username.as_deref() != Some(OAUTH_TOKEN_USER) {
                    return Err(Error::invalid(
                        "username",
                        format!("a registry login that borrows the token of '{source}' presents it as the user {OAUTH_TOKEN_USER}: set the username to {OAUTH_TOKEN_USER}"),
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The `scope` form field: known scopes joined by single spaces, since Quay
/// rejects the whole scope when two separators leave an empty item.
fn scope_param(scopes: &[String]) -> Result<String> {
    if scopes.is_empty() {
        return Err(Error::invalid(
            "scopes",
            format!(
                "choose at least one Quay scope: {} (user:read lets Latchkey show whose token it is)",
                SCOPES.join(", ")
            ),
        ));
    }
    let mut out: Vec<&str> = Vec::new();
    for scope in scopes {
        let scope = scope.trim();
        if !SCOPES.contains(&scope) {
            return Err(Error::invalid(
                "scopes",
                format!(
                    "Quay has no scope '{scope}'; choose from: {}",
                    SCOPES.join(", ")
                ),
            ));
        }
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    Ok(out.join(" "))
}

/// A registry scope: which repository, which actions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegistryScope {
    /// The repository as requested (`ns/repo`, or with the host prefix).
    name: String,
    actions: Vec<String>,
}

impl RegistryScope {
    fn param(&self) -> String {
        format!("repository:{}:{}", self.name, self.actions.join(","))
    }
}

/// Parses `repository:ns/repo:pull,push` (the prefix may be left out) the way
/// Quay's `SCOPE_REGEX_TEMPLATE` would accept it.
pub(crate) fn registry_scope(scope: &str) -> Result<RegistryScope> {
    let bad = || {
        Error::invalid(
            "scopes",
            format!("'{scope}' is not a registry scope: write repository:<namespace>/<repository>:pull, or :pull,push to push too (e.g. repository:acme/web:pull,push)"),
        )
    };
    let body = scope
        .trim()
        .strip_prefix("repository:")
        .unwrap_or(scope.trim());
    let (name, actions) = body.rsplit_once(':').ok_or_else(bad)?;
    let actions: Vec<String> = actions.split(',').map(str::to_string).collect();
    if actions
        .iter()
        .any(|a| !matches!(a.as_str(), "pull" | "push" | "*"))
    {
        return Err(bad());
    }
    let segments: Vec<&str> = name.split('/').collect();
    let segment_ok = |(i, s): (usize, &&str)| {
        !s.is_empty()
            && s.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '.' | '_' | '-')
                    // The registry's own host:port may lead the name.
                    || (c == ':' && i == 0 && segments.len() > 2)
            })
    };
    if !segments.iter().enumerate().all(segment_ok) {
        return Err(bad());
    }
    Ok(RegistryScope {
        name: name.to_string(),
        actions,
    })
}

// ---------------------------------------------------------------------------
// HTTP

fn base(server: &Server) -> &str {
    server.url.trim_end_matches('/')
}

/// Quay's words on top of a plain HTTP answer.
pub(crate) trait QuayAnswer {
    fn message(&self) -> String;
}

impl QuayAnswer for Answer {
    /// The server's own words: the problem JSON's detail, a registry error's
    /// message, `{"error": ...}`, or the text itself (an HTML page named as
    /// such).
    fn message(&self) -> String {
        let v = self.json();
        if let Some(e) = v.get("errors").and_then(|e| e.get(0)) {
            let message = e.get("message").and_then(Value::as_str).unwrap_or("");
            let code = e.get("code").and_then(Value::as_str).unwrap_or("");
            return format!("{message} ({code})").trim().to_string();
        }
        for key in [
            "detail",
            "error_message",
            "message",
            "error_description",
            "error",
        ] {
            if let Some(m) = v.get(key).and_then(Value::as_str).filter(|m| !m.is_empty()) {
                return m.to_string();
            }
        }
        let text = self.text.trim();
        if text.starts_with('<') {
            format!("an HTML error page ({})", self.status)
        } else if text.is_empty() {
            format!("HTTP {} with no message", self.status)
        } else {
            text.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(300)
                .collect()
        }
    }
}

/// "60 s", "5 min", "2 h": how long to wait.
fn wait_text(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", (s + 59) / 60),
        // Rounded up without overflowing, whatever Retry-After said.
        s => format!("{} h", s / 3600 + i64::from(s % 3600 != 0)),
    }
}

/// 429: Quay throttles a login name after failed attempts.
pub(crate) fn throttled(who: &str, answer: &Answer) -> Error {
    let wait = answer
        .header("retry-after")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| format!("wait {} and try again", wait_text(s.max(1))))
        .unwrap_or_else(|| "wait a few minutes and try again".into());
    Error::ServerRefused {
        status: Some(429),
        field: None,
        message: format!(
            "Quay blocks logins of {who} for now after too many failed attempts: {wait}, with the right password (Quay says: {})",
            answer.message()
        ),
    }
}

pub(crate) fn unexpected(what: &str, answer: &Answer) -> Error {
    let hint = if answer.status >= 500 {
        "Quay (or a proxy in front of it) has a problem: try again later"
    } else {
        "try again, and if it keeps happening check the server's URL (it must be Quay's own)"
    };
    Error::ServerRefused {
        status: Some(answer.status),
        field: None,
        message: format!(
            "Quay answered {what} with {}, which is not what Latchkey expects ({}); {hint}",
            answer.status,
            answer.message()
        ),
    }
}

fn random_state() -> String {
    rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// How an API v1 call authenticates.
enum ApiAuth<'a> {
    Bearer(&'a str),
    Session(&'a SessionJar),
}

fn with_auth(request: http::Request, auth: &ApiAuth<'_>) -> http::Request {
    match auth {
        ApiAuth::Bearer(token) => request.bearer_auth(token),
        ApiAuth::Session(jar) => request
            .header("Cookie", jar.cookie_header())
            .header("X-CSRF-Token", &jar.csrf),
    }
}

/// `GET /api/v1/user/`.
async fn api_user(server: &Server, auth: &ApiAuth<'_>) -> Result<Answer> {
    let client = http::client_for(server)?;
    send(
        server,
        with_auth(client.get(format!("{}/api/v1/user/", base(server))), auth),
    )
    .await
}

/// What a user view says about its user, as detail lines.
pub(crate) fn user_items(view: &Value) -> Vec<SummaryItem> {
    let mut items = Vec::new();
    let mut push = |name: &str, value: String| {
        items.push(SummaryItem {
            name: name.into(),
            value,
        })
    };
    if let Some(u) = view.get("username").and_then(Value::as_str) {
        push("user", u.to_string());
    }
    if let Some(e) = view.get("email").and_then(Value::as_str) {
        push("email", e.to_string());
    }
    if let Some(v) = view.get("verified").and_then(Value::as_bool) {
        push("verified", if v { "yes" } else { "no" }.into());
    }
    if let Some(orgs) = view.get("organizations").and_then(Value::as_array) {
        let names: Vec<String> = orgs
            .iter()
            .filter_map(|o| {
                let name = o.get("name")?.as_str()?;
                Some(
                    if o.get("is_org_admin").and_then(Value::as_bool) == Some(true) {
                        format!("{name} (admin)")
                    } else {
                        name.to_string()
                    },
                )
            })
            .collect();
        if !names.is_empty() {
            push("organizations", names.join(", "));
        }
    }
    if view.get("super_user").and_then(Value::as_bool) == Some(true) {
        push("super user", "yes".into());
    }
    items
}

// ---------------------------------------------------------------------------
// Direct OAuth

/// What the approval's `Location` carries.
pub(crate) struct Approval {
    pub(crate) query: HashMap<String, String>,
    pub(crate) fragment: HashMap<String, String>,
}

pub(crate) fn read_location(server: &Server, location: &str) -> Result<Approval> {
    let url = url::Url::parse(location)
        .or_else(|_| url::Url::parse(&format!("{}/", base(server))).and_then(|b| b.join(location)))
        .map_err(|e| Error::ServerRefused {
            status: Some(302),
            field: None,
            message: format!("Quay redirected to '{location}', which is not a URL ({e})"),
        })?;
    let pairs = |text: &str| -> HashMap<String, String> {
        url::form_urlencoded::parse(text.as_bytes())
            .into_owned()
            .collect()
    };
    Ok(Approval {
        query: url.query().map(pairs).unwrap_or_default(),
        fragment: url.fragment().map(pairs).unwrap_or_default(),
    })
}

async fn direct_login(ctx: &LoginContext<'_>, input: &LoginInput) -> Result<IssuedToken> {
    let s = &ctx.profile.settings;
    let username = s.username.as_deref().unwrap_or_default();
    let client_id = s.client_id.as_deref().unwrap_or_default();
    // Checked before anything is sent: Quay would refuse the whole scope.
    let scope = scope_param(&s.scopes)?;
    let password = input.password.as_ref().ok_or_else(|| {
        Error::invalid(
            "password",
            format!("type the Quay password of {username} to log in"),
        )
    })?;
    let redirect_uri = s
        .redirect_uri
        .clone()
        .unwrap_or_else(|| format!("{}/oauth/localapp", base(ctx.server)));
    let state = random_state();
    let client = http::client_for(ctx.server)?;
    let answer = send(
        ctx.server,
        client
            .post(format!("{}/oauth/authorizeapp", base(ctx.server)))
            .basic_auth(username, Some(password.expose()))
            .form(&[
                ("client_id", client_id),
                ("redirect_uri", redirect_uri.as_str()),
                ("scope", scope.as_str()),
                // The default is `code`, which Latchkey cannot use (§2.2).
                ("response_type", "token"),
                ("state", state.as_str()),
            ]),
    )
    .await?;
    match answer.status {
        301..=303 | 307 | 308 => {}
        401 => {
            return Err(Error::ServerRefused {
                status: Some(401),
                field: Some("password"),
                message: format!(
                    "Quay refused the user name or password of {username}: check both (an e-mail address works as the user name too), and log in again"
                ),
            })
        }
        403 => {
            return Err(Error::ServerRefused {
                status: Some(403),
                field: Some("client_id"),
                message: format!(
                    "Quay wants a browser session (its CSRF check: {}) instead of the password, because the client id {client_id} is not in its DIRECT_OAUTH_CLIENTID_WHITELIST: ask the Quay administrator to add {client_id} to DIRECT_OAUTH_CLIENTID_WHITELIST in config.yaml (and log in as a user, not a robot account)",
                    answer.message()
                ),
            })
        }
        400 if answer.json().get("error").and_then(Value::as_str) == Some("invalid_request") => {
            return Err(Error::ServerRefused {
                status: Some(400),
                field: Some("redirect_uri"),
                message: format!(
                    "Quay refused the redirect URI {redirect_uri}: it must be the OAuth application's registered redirect URI with the same scheme, host and port, and a path under the registered one (or {}/oauth/localapp); fix the profile's redirect URI or the application's in Quay",
                    base(ctx.server)
                ),
            })
        }
        429 => return Err(throttled(username, &answer)),
        _ => return Err(unexpected("the approval", &answer)),
    }
    let location = answer
        .header("location")
        .ok_or_else(|| Error::ServerRefused {
            status: Some(answer.status),
            field: None,
            message: "Quay redirected without a Location header".into(),
        })?;
    let approval = read_location(ctx.server, location)?;
    if let Some(error) = approval.query.get("error") {
        return Err(approval_error(error, username, client_id, &scope));
    }
    // `state` comes back in the query, not the fragment (§2.2).
    if approval.query.get("state").map(String::as_str) != Some(state.as_str()) {
        return Err(Error::ServerRefused {
            status: Some(302),
            field: None,
            message: "Quay's answer carries another state than the one Latchkey sent, so it is not the answer to this login: nothing was stored; log in again".into(),
        });
    }
    let Some(token) = approval
        .fragment
        .get("access_token")
        .filter(|t| !t.is_empty())
    else {
        if approval.query.contains_key("code") {
            return Err(Error::ServerRefused {
                status: Some(302),
                field: None,
                message: "Quay answered with an authorization code (?code=) instead of a token, as it does when response_type=token does not reach it (a proxy may drop it, or this Quay is too old): Latchkey cannot trade the code without the application's client secret; generate a token in Quay (Organization → Applications → Generate Token) and paste it into a manual-token profile".into(),
            });
        }
        return Err(Error::ServerRefused {
            status: Some(302),
            field: None,
            message: "Quay's redirect carries no access_token in its fragment, so there is no token to keep: try again, and if it keeps happening generate a token in Quay's UI for a manual-token profile".into(),
        });
    };
    if let Some(kind) = approval.fragment.get("token_type") {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(Error::ServerRefused {
                status: Some(302),
                field: None,
                message: format!("Quay issued a '{kind}' token, not a Bearer token"),
            });
        }
    }
    let expires_at = approval
        .fragment
        .get("expires_in")
        .and_then(|e| e.parse::<i64>().ok())
        .and_then(|secs| crate::tokens::expiry_after(ctx.now, secs));
    let mut issued =
        IssuedToken::from_token(TokenKind::Access, Secret::new(token.clone()), ctx.now, None);
    issued.expires_at = expires_at;
    issued.scopes = approval
        .query
        .get("scope")
        .map(|granted| {
            granted
                .split([' ', ','])
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_else(|| scope.split(' ').map(str::to_string).collect());
    issued
        .summary
        .insert("client_id".into(), Value::String(client_id.into()));
    // Whose it is: the user view needs a user scope (§2.3); without one the
    // login name is all Latchkey knows.
    let mut user = username.to_string();
    if has_user_scope(&issued.scopes) {
        if let Ok(answer) = api_user(ctx.server, &ApiAuth::Bearer(token)).await {
            if let Some(u) = answer.json().get("username").and_then(Value::as_str) {
                user = u.to_string();
            }
        }
    }
    issued.summary.insert("user".into(), Value::String(user));
    Ok(issued)
}

fn has_user_scope(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "user:read" || s == "user:admin")
}

/// The `?error=` of an approval redirect, with what to do about it.
fn approval_error(error: &str, username: &str, client_id: &str, scope: &str) -> Error {
    let (field, message) = match error {
        "unauthorized_client" => (
            Some("client_id"),
            format!("Quay refused client {client_id} for {username} (unauthorized_client): either no OAuth application has that client id, or {username} is not an administrator of the organization that owns it; check the client id, or ask an administrator of that organization to make {username} one (or to generate the token)"),
        ),
        "invalid_scope" => (
            Some("scopes"),
            format!("Quay does not accept the scopes '{scope}' (invalid_scope): this Quay does not know one of them (an older version?); remove the ones it lacks from the profile"),
        ),
        "access_denied" => (
            None,
            format!("Quay denied the approval for {username} (access_denied): log in to Quay's web UI to check the account, then try again"),
        ),
        "unsupported_response_type" => (
            None,
            "Quay does not support response_type=token here (unsupported_response_type): generate a token in Quay's UI and use a manual-token profile".to_string(),
        ),
        other => (None, format!("Quay refused the approval: {other}")),
    };
    Error::ServerRefused {
        status: Some(302),
        field,
        message,
    }
}

// ---------------------------------------------------------------------------
// Session

/// The request headers of a stored `quay-session` secret (`Cookie` and
/// `X-CSRF-Token`), for copying it into a script; `None` if it is unreadable.
pub fn session_headers(secret: &Secret) -> Option<Vec<(String, String)>> {
    serde_json::from_str::<SessionJar>(secret.expose())
        .ok()
        .map(|jar| jar.headers())
}

/// A Quay browser session: its cookies and the CSRF token to send next.
/// Kept in the keyring as one JSON secret; never printed.
#[derive(Default, Serialize, Deserialize)]
struct SessionJar {
    cookies: BTreeMap<String, String>,
    csrf: String,
}

impl SessionJar {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Takes in a response's `Set-Cookie`s; returns when the session cookie
    /// they set expires, if one did and says so.
    fn absorb(&mut self, headers: &HeaderMap, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let mut session_expires = None;
        for value in headers.get_all("set-cookie") {
            let Some(c) = value.to_str().ok().and_then(|v| SetCookie::parse(v, now)) else {
                continue;
            };
            if c.removed {
                self.cookies.remove(&c.name);
                continue;
            }
            if c.name == "_csrf_token" {
                session_expires = c.expires;
            }
            self.cookies.insert(c.name, c.value);
        }
        session_expires
    }

    fn to_secret(&self) -> Secret {
        Secret::new(serde_json::to_string(self).unwrap_or_default())
    }

    /// The headers a request in this session carries: the cookies and the
    /// CSRF token Quay expects on changes.
    fn headers(&self) -> Vec<(String, String)> {
        let mut headers = vec![("Cookie".to_string(), self.cookie_header())];
        if !self.csrf.is_empty() {
            headers.push(("X-CSRF-Token".to_string(), self.csrf.clone()));
        }
        headers
    }

    fn from_secret(secret: &Secret, profile: &str) -> Result<Self> {
        serde_json::from_str(secret.expose()).map_err(|_| {
            Error::LoginRequired(format!(
                "the Quay session of '{profile}' in the keyring is unreadable: log in again"
            ))
        })
    }
}

pub(crate) struct SetCookie {
    name: String,
    value: String,
    expires: Option<OffsetDateTime>,
    removed: bool,
}

impl SetCookie {
    pub(crate) fn parse(header: &str, now: OffsetDateTime) -> Option<Self> {
        let mut parts = header.split(';');
        let (name, value) = parts.next()?.trim().split_once('=')?;
        let (mut expires, mut max_age) = (None, None);
        for attr in parts {
            let (k, v) = attr.trim().split_once('=').unwrap_or((attr.trim(), ""));
            match k.to_ascii_lowercase().as_str() {
                "max-age" => max_age = v.trim().parse::<i64>().ok(),
                "expires" => expires = parse_http_date(v),
                _ => {}
            }
        }
        // Max-Age wins over Expires (RFC 6265 §5.3).
        let expires = match max_age {
            // Zero or less removes the cookie (RFC 6265 §5.2.2); more than a
            // date can hold is a cookie that does not expire.
            Some(s) if s <= 0 => Some(now),
            Some(s) => crate::tokens::expiry_after(now, s),
            None => expires,
        };
        Some(Self {
            name: name.trim().to_string(),
            value: value.trim().to_string(),
            removed: value.trim().is_empty() || expires.is_some_and(|e| e <= now),
            expires,
        })
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (also with dashes, as some servers write
/// cookie dates).
fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim().replace('-', " ");
    time::PrimitiveDateTime::parse(
        &text,
        time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ),
    )
    .ok()
    .map(|t| t.assume_utc())
}

async fn session_login(ctx: &LoginContext<'_>, input: &LoginInput) -> Result<IssuedToken> {
    let username = ctx.profile.settings.username.as_deref().unwrap_or_default();
    let password = input.password.as_ref().ok_or_else(|| {
        Error::invalid(
            "password",
            format!("type the Quay password of {username} to log in"),
        )
    })?;
    let client = http::client_for(ctx.server)?;
    let base = base(ctx.server);
    let answer = send(ctx.server, client.get(format!("{base}/csrf_token"))).await?;
    let mut jar = SessionJar::default();
    jar.absorb(&answer.headers, ctx.now);
    jar.csrf = match (answer.status, answer.json().get("csrf_token")) {
        (200, Some(Value::String(t))) => t.clone(),
        (404, _) => {
            return Err(Error::ServerRefused {
                status: Some(404),
                field: None,
                message: format!("{base} has no /csrf_token: check that the server URL is Quay's own (e.g. https://quay.example.com)"),
            })
        }
        _ => return Err(unexpected("the CSRF token request", &answer)),
    };
    let answer = send(
        ctx.server,
        client
            .post(format!("{base}/api/v1/signin"))
            .header("Cookie", jar.cookie_header())
            .header("X-CSRF-Token", &jar.csrf)
            .json(&json!({"username": username, "password": password.expose()})),
    )
    .await?;
    match answer.status {
        200 => {}
        403 => return Err(signin_refused(username, &answer)),
        429 => return Err(throttled(username, &answer)),
        404 => {
            return Err(Error::ServerRefused {
                status: Some(404),
                field: None,
                message: "this Quay does not sign users in with a password (FEATURE_DIRECT_LOGIN is off, e.g. it uses an external identity provider): use a quay-direct-oauth or manual-token profile instead".into(),
            })
        }
        400 => {
            return Err(Error::ServerRefused {
                status: Some(400),
                field: None,
                message: format!("Quay refused the sign-in request: {}", answer.message()),
            })
        }
        _ => return Err(unexpected("the sign-in", &answer)),
    }
    // Quay answers a sign-in with `{"success": true}` and a new session
    // cookie; without the cookie there is no session to keep.
    if let Err(e) = serde_json::from_str::<Value>(&answer.text) {
        return Err(Error::ServerRefused {
            status: Some(200),
            field: None,
            message: http::not_json(&answer.url, "Quay's sign-in answer", &e),
        });
    }
    let new_session = answer
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.trim_start().starts_with("_csrf_token="));
    if !new_session {
        return Err(Error::ServerRefused {
            status: Some(200),
            field: None,
            message: format!("Quay answered the sign-in of {username} without a session cookie, so there is no session to keep: try again; if it keeps happening, something between Latchkey and Quay drops cookies"),
        });
    }
    let expires_at = jar.absorb(&answer.headers, ctx.now);
    // The sign-in regenerates the CSRF token: from now on only the new one
    // is accepted (§2.3).
    if let Some(next) = answer.header("x-next-csrf-token").filter(|t| !t.is_empty()) {
        jar.csrf = next.to_string();
    }
    let mut summary = serde_json::Map::new();
    let mut user = username.to_string();
    if let Ok(view) = api_user(ctx.server, &ApiAuth::Session(&jar)).await {
        if let Some(u) = view.json().get("username").and_then(Value::as_str) {
            user = u.to_string();
        }
    }
    summary.insert("user".into(), Value::String(user));
    Ok(IssuedToken {
        kind: TokenKind::Session,
        token: jar.to_secret(),
        issued_at: Some(ctx.now),
        expires_at,
        scopes: Vec::new(),
        refresh: None,
        id_token: None,
        summary,
    })
}

/// A 403 of `/api/v1/signin`: wrong password, unverified e-mail, or CSRF.
pub(crate) fn signin_refused(username: &str, answer: &Answer) -> Error {
    let v = answer.json();
    let server_words = v
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty());
    if v.get("needsEmailVerification").and_then(Value::as_bool) == Some(true) {
        return Error::ServerRefused {
            status: Some(403),
            field: Some("username"),
            message: format!("{username} has not verified the account's e-mail address yet: open the link in Quay's verification mail (or ask the Quay administrator to verify it), then log in again"),
        };
    }
    if v.get("invalidCredentials").and_then(Value::as_bool) == Some(true) {
        return Error::ServerRefused {
            status: Some(403),
            field: Some("password"),
            message: format!(
                "{}: check the user name and password of {username} and try again",
                server_words.unwrap_or("Invalid Username or Password")
            ),
        };
    }
    Error::ServerRefused {
        status: Some(403),
        field: None,
        message: format!(
            "Quay refused the sign-in's CSRF token ({}): try again; if it keeps happening, something between Latchkey and Quay drops the session cookie",
            answer.message()
        ),
    }
}

// ---------------------------------------------------------------------------
// Registry

/// `Bearer realm="…",service="…",scope="…"`: the realm and service.
pub(crate) fn parse_challenge(header: &str) -> Option<(String, Option<String>)> {
    let (scheme, params) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut values: HashMap<String, String> = HashMap::new();
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        values.insert(key, value.to_string());
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Some((values.remove("realm")?, values.remove("service")))
}

fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

impl Quay {
    /// Where to ask for registry tokens and for which service: the profile's
    /// service if it names one, else the challenge of `GET /v2/`.
    async fn registry(&self, server: &Server, settings: &ProfileSettings) -> Result<Registry> {
        let base = base(server);
        if let Some(service) = settings.service.as_deref().filter(|s| !s.is_empty()) {
            return Ok(Registry {
                realm: format!("{base}/v2/auth"),
                service: service.to_string(),
            });
        }
        if let Some(known) = self.registries.lock().expect("registries lock").get(base) {
            return Ok(known.clone());
        }
        let client = http::client_for(server)?;
        let answer = send(server, client.get(format!("{base}/v2/"))).await?;
        let challenge = answer.header("www-authenticate").and_then(parse_challenge);
        let Some((realm, service)) = challenge else {
            return Err(Error::ServerRefused {
                status: Some(answer.status),
                field: Some("service"),
                message: if answer.status == 404 {
                    format!("{base}/v2/ is not a container registry: the server URL must be the Quay host itself (e.g. https://quay.example.com)")
                } else {
                    format!("{base}/v2/ answered {} without a Bearer challenge naming its token service: set the profile's service to the Quay host name (its SERVER_HOSTNAME)", answer.status)
                },
            });
        };
        let server_url = url::Url::parse(base).map_err(|e| Error::Internal(e.to_string()))?;
        let realm_url = url::Url::parse(&realm)
            .or_else(|_| server_url.join(&realm))
            .map_err(|e| Error::ServerRefused {
                status: Some(answer.status),
                field: None,
                message: format!("the registry's token realm '{realm}' is not a URL ({e})"),
            })?;
        // The realm receives the password: never another host than the one
        // the user named.
        if !same_origin(&server_url, &realm_url) {
            return Err(Error::ServerRefused {
                status: Some(answer.status),
                field: None,
                message: format!("the registry at {base} sends logins to {realm_url}, another host: Latchkey does not send the password there; if that host is right, make it the server's URL"),
            });
        }
        let registry = Registry {
            realm: realm_url.to_string(),
            service: service.unwrap_or_else(|| server_url.host_str().unwrap_or_default().into()),
        };
        self.registries
            .lock()
            .expect("registries lock")
            .insert(base.to_string(), registry.clone());
        Ok(registry)
    }

    /// `GET /v2/auth` for the profile's scopes: a JWT whose `exp` is its
    /// lifetime, with what Quay granted compared with what was asked.
    async fn registry_token(
        &self,
        server: &Server,
        profile: &Profile,
        password: &Secret,
        now: OffsetDateTime,
    ) -> Result<IssuedToken> {
        let s = &profile.settings;
        let username = s.username.as_deref().unwrap_or_default();
        let scopes = s
            .scopes
            .iter()
            .map(|x| registry_scope(x))
            .collect::<Result<Vec<_>>>()?;
        let registry = self.registry(server, s).await?;
        let mut query = vec![("service", registry.service.clone())];
        query.extend(scopes.iter().map(|x| ("scope", x.param())));
        let client = http::client_for(server)?;
        let answer = send(
            server,
            client
                .get(&registry.realm)
                .query(&query)
                .basic_auth(username, Some(password.expose())),
        )
        .await?;
        match answer.status {
            200 => {}
            401 => {
                return Err(Error::ServerRefused {
                    status: Some(401),
                    field: Some("password"),
                    message: format!(
                        "Quay refused the credentials of {username}: {}; {}",
                        answer.message(),
                        credential_hint(username, s.source_profile.as_deref())
                    ),
                })
            }
            400 | 405 => {
                return Err(Error::ServerRefused {
                    status: Some(answer.status),
                    field: Some("scopes"),
                    message: format!(
                        "Quay refused the scopes {}: {}; fix the repository or actions in the profile's scopes",
                        scopes.iter().map(RegistryScope::param).collect::<Vec<_>>().join(" "),
                        answer.message()
                    ),
                })
            }
            429 => return Err(throttled(username, &answer)),
            _ => return Err(unexpected("the registry token request", &answer)),
        }
        registry_token_answer(&answer.url, &answer.text, now, &scopes, registry.service)
    }
}

/// A 200 of `GET /v2/auth` (at `url`) as a stored token: the JWT, its
/// lifetime, and what Quay granted against what was asked.
pub(crate) fn registry_token_answer(
    url: &str,
    text: &str,
    now: OffsetDateTime,
    scopes: &[RegistryScope],
    service: String,
) -> Result<IssuedToken> {
    let body: Value = serde_json::from_str(text).map_err(|e| Error::ServerRefused {
        status: Some(200),
        field: None,
        message: http::not_json(url, "the registry's token answer", &e),
    })?;
    let token = body
        .get("token")
        .or_else(|| body.get("access_token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::ServerRefused {
            status: Some(200),
            field: None,
            message: "Quay's registry answered without a token: try again, and if it keeps happening check the server's URL (it must be Quay's own)".into(),
        })?;
    // Quay sends only `token`: its `exp` is the lifetime (3600 s), not
    // the spec's 60 s default, which applies only to a token without one.
    let fallback = body
        .get("expires_in")
        .and_then(Value::as_i64)
        .unwrap_or(DOCKER_DEFAULT_LIFETIME.whole_seconds());
    let mut issued = IssuedToken::from_token(
        TokenKind::Registry,
        Secret::new(token),
        now,
        crate::tokens::expiry_after(now, fallback),
    );
    let claims = crate::jwt::decode(token)
        .map(|d| d.claims)
        .unwrap_or(Value::Null);
    let granted = granted_access(&claims);
    issued.scopes = granted
        .iter()
        .filter(|(_, actions)| !actions.is_empty())
        .map(|(name, actions)| format!("repository:{name}:{}", actions.join(",")))
        .collect();
    for (name, actions) in &granted {
        issued.summary.insert(
            format!("access {name}"),
            Value::String(actions_text(actions)),
        );
    }
    if let Some(warning) = narrower_warning(scopes, &granted) {
        issued
            .summary
            .insert("warning".into(), Value::String(warning));
    }
    issued
        .summary
        .insert("service".into(), Value::String(service));
    Ok(issued)
}

/// `GET /api/v1/user/authorizations`: each authorization's UUID and sorted
/// scopes (Quay lists scope information objects; plain names are taken too).
pub(crate) fn listed_authorizations(list: &Value) -> Vec<(String, Vec<String>)> {
    let Some(items) = list.get("authorizations").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|a| {
            let uuid = a.get("uuid")?.as_str()?.to_string();
            let mut scopes: Vec<String> = a
                .get("scopes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| {
                    x.as_str()
                        .or_else(|| x.get("scope").and_then(Value::as_str))
                        .map(str::to_string)
                })
                .collect();
            scopes.sort();
            scopes.dedup();
            Some((uuid, scopes))
        })
        .collect()
}

/// The OAuth token's own UUID in a registry JWT's context (§2.5).
pub(crate) fn token_uuid(claims: &Value) -> Option<String> {
    let c = claims.get("context")?;
    c.get("oauth")
        .and_then(Value::as_str)
        .or_else(|| {
            (c.get("entity_kind").and_then(Value::as_str) == Some("oauthtoken"))
                .then(|| c.get("entity_reference").and_then(Value::as_str))
                .flatten()
        })
        .map(str::to_string)
}

/// What to check when the registry refuses credentials, by kind of user.
fn credential_hint(username: &str, source: Option<&str>) -> String {
    match (username, source) {
        (OAUTH_TOKEN_USER, Some(source)) => format!("the token of '{source}' was revoked or has expired: log '{source}' in again, then this profile"),
        (OAUTH_TOKEN_USER, None) => "the OAuth token given as the password was revoked or has expired: generate a new one".into(),
        ("$app", _) => "the app-specific token was revoked or has expired: create a new one in Quay (Account Settings → Docker CLI and other Application Tokens)".into(),
        (robot, _) if robot.contains('+') => format!("a robot account logs in with its own token, not a person's password: copy it from Quay (the organization's Robot Accounts → {robot} → credentials)"),
        _ => "check the user name and password (an e-mail address works too); if this Quay requires encrypted passwords, use the one from Account Settings → Generate Encrypted Password".into(),
    }
}

/// The `access` claim: repository and granted actions.
pub(crate) fn granted_access(claims: &Value) -> Vec<(String, Vec<String>)> {
    claims
        .get("access")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|a| {
                    a.get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("repository")
                        == "repository"
                })
                .filter_map(|a| {
                    let name = a.get("name")?.as_str()?.to_string();
                    let actions = a
                        .get("actions")
                        .and_then(Value::as_array)
                        .map(|x| {
                            x.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((name, actions))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn actions_text(actions: &[String]) -> String {
    if actions.is_empty() {
        "none".into()
    } else {
        actions.join(", ")
    }
}

/// When Quay granted less than asked (it drops what the user may not do and
/// still answers 200, §2.5): what is missing, per repository.
fn narrower_warning(asked: &[RegistryScope], granted: &[(String, Vec<String>)]) -> Option<String> {
    let missing: Vec<String> = asked
        .iter()
        .filter_map(|scope| {
            let got: &[String] = granted
                .iter()
                .find(|(name, _)| *name == scope.name)
                .map(|(_, a)| a.as_slice())
                .unwrap_or(&[]);
            let lacking: Vec<&String> = scope
                .actions
                .iter()
                .filter(|a| !got.contains(a) && !got.iter().any(|g| g == "*"))
                .collect();
            (!lacking.is_empty()).then(|| {
                if got.is_empty() {
                    format!(
                        "{}: nothing (asked {})",
                        scope.name,
                        scope.actions.join(", ")
                    )
                } else {
                    format!(
                        "{}: {} only (asked {})",
                        scope.name,
                        got.join(", "),
                        scope.actions.join(", ")
                    )
                }
            })
        })
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "Quay granted less than asked, dropping what this account may not do (or repositories that do not exist): {}. Ask for the missing permission in Quay, or narrow the profile's scopes",
            missing.join("; ")
        )
    })
}

/// Warnings about a registry token's claims against what its profile asks
/// for, for the JWT inspector.
pub fn access_warnings(settings: &ProfileSettings, claims: &Value) -> Vec<String> {
    let asked: Vec<RegistryScope> = settings
        .scopes
        .iter()
        .filter_map(|s| registry_scope(s).ok())
        .collect();
    narrower_warning(&asked, &granted_access(claims))
        .into_iter()
        .collect()
}

// ---------------------------------------------------------------------------
// The provider

impl Provider for Quay {
    fn begin<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        input: &'a LoginInput,
    ) -> BoxFuture<'a, Result<Begun>> {
        Box::pin(async move {
            let issued = match ctx.profile.login {
                LoginKind::QuayDirectOauth => direct_login(&ctx, input).await?,
                LoginKind::QuaySession => session_login(&ctx, input).await?,
                LoginKind::QuayRegistry => {
                    let username = ctx.profile.settings.username.as_deref().unwrap_or_default();
                    let password = input.password.as_ref().ok_or_else(|| {
                        Error::invalid(
                            "password",
                            if username.contains('+') {
                                format!("give the token of the robot account {username}")
                            } else {
                                format!("type the Quay password (or token) of {username} to log in")
                            },
                        )
                    })?;
                    self.registry_token(ctx.server, ctx.profile, password, ctx.now)
                        .await?
                }
                other => {
                    return Err(Error::Internal(format!(
                        "the Quay provider cannot log in {other}"
                    )))
                }
            };
            Ok(Begun::Issued(issued))
        })
    }

    fn logout<'a>(&'a self, ctx: LoginContext<'a>) -> BoxFuture<'a, Result<LogoutDone>> {
        Box::pin(async move {
            match ctx.profile.login {
                LoginKind::QuayDirectOauth => self.direct_logout(&ctx).await,
                LoginKind::QuaySession => session_logout(&ctx).await,
                _ => Ok(registry_logout(&ctx).await),
            }
        })
    }

    fn info_slot(&self) -> SecretSlot {
        match self.login {
            LoginKind::QuaySession => SecretSlot::SessionCookie,
            _ => SecretSlot::AccessToken,
        }
    }

    fn token_info<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        token: &'a Secret,
    ) -> BoxFuture<'a, Result<Vec<SummaryItem>>> {
        Box::pin(async move {
            match ctx.profile.login {
                LoginKind::QuayDirectOauth => self.direct_info(&ctx, token).await,
                LoginKind::QuaySession => session_info(&ctx, token).await,
                _ => self.registry_info(&ctx, token).await,
            }
        })
    }
}

impl Quay {
    /// Whose token it is: the user view when a user scope allows it, else
    /// the registry's login check, whose JWT names the user.
    async fn direct_info(
        &self,
        ctx: &LoginContext<'_>,
        token: &Secret,
    ) -> Result<Vec<SummaryItem>> {
        let gone = |detail: String| {
            Error::LoginRequired(format!(
                "Quay no longer accepts the token of '{}' ({detail}): it was revoked or has expired; log in again",
                ctx.profile.name
            ))
        };
        if has_user_scope(&ctx.profile.settings.scopes) {
            let answer = api_user(ctx.server, &ApiAuth::Bearer(token.expose())).await?;
            return match answer.status {
                200 => Ok(user_items(&answer.json())),
                401 => Err(gone(answer.message())),
                _ => Err(unexpected("the user query", &answer)),
            };
        }
        match self
            .own_token_context(ctx.server, &ctx.profile.settings, token)
            .await?
        {
            Ok(claims) => {
                let mut items = Vec::new();
                if let Some(sub) = claims.get("sub").and_then(Value::as_str) {
                    items.push(SummaryItem {
                        name: "user".into(),
                        value: sub.to_string(),
                    });
                }
                items.push(SummaryItem {
                    name: "note".into(),
                    value: "without user:read Quay shows no more about the account".into(),
                });
                Ok(items)
            }
            Err(answer) if answer.status == 401 => Err(gone(answer.message())),
            Err(answer) => Err(unexpected("the registry login check", &answer)),
        }
    }

    /// The registry's login check with `$oauthtoken`: the JWT it answers
    /// names the user and, in its context, the token's own UUID (§2.5).
    /// The outer error is a transport failure, the inner one Quay's refusal.
    async fn own_token_context(
        &self,
        server: &Server,
        settings: &ProfileSettings,
        token: &Secret,
    ) -> Result<std::result::Result<Value, Answer>> {
        let registry = self
            .registry(
                server,
                &ProfileSettings {
                    service: None,
                    ..settings.clone()
                },
            )
            .await?;
        let client = http::client_for(server)?;
        let answer = send(
            server,
            client
                .get(&registry.realm)
                .query(&[("service", registry.service.as_str())])
                .basic_auth(OAUTH_TOKEN_USER, Some(token.expose())),
        )
        .await?;
        if answer.status != 200 {
            return Ok(Err(answer));
        }
        let jwt = answer
            .json()
            .get("token")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_default();
        Ok(Ok(crate::jwt::decode(&jwt)
            .map(|d| d.claims)
            .unwrap_or(Value::Null)))
    }

    /// Revokes the token through `DELETE /api/v1/user/authorizations/<uuid>`
    /// when it holds `user:admin`; the UUID is not in the redirect, so it
    /// comes from the registry's login check, or else from the one listed
    /// authorization with exactly the profile's scopes.
    async fn direct_logout(&self, ctx: &LoginContext<'_>) -> Result<LogoutDone> {
        let Some(token) = ctx
            .vault
            .get(SecretKey::new(ctx.profile.id, SecretSlot::AccessToken))
            .await?
        else {
            return Ok(LogoutDone::default());
        };
        let base = base(ctx.server);
        let client = http::client_for(ctx.server)?;
        let listed = send(
            ctx.server,
            client
                .get(format!("{base}/api/v1/user/authorizations"))
                .bearer_auth(token.expose()),
        )
        .await?;
        match listed.status {
            200 => {}
            401 => {
                return Ok(LogoutDone {
                    revoked: true,
                    note: Some(
                        "Quay no longer accepted the token anyway (it was revoked or had expired)."
                            .into(),
                    ),
                    ..Default::default()
                })
            }
            403 => {
                return Ok(LogoutDone {
                    note: Some(NO_USER_ADMIN.into()),
                    ..Default::default()
                })
            }
            _ => return Err(unexpected("the list of authorizations", &listed)),
        }
        let entries = listed_authorizations(&listed.json());
        // Exactly this token: its UUID from the registry's login check. Only
        // when that check cannot run, the one authorization with exactly
        // the profile's scopes (the token itself is among them, so a single
        // match is it).
        let target = match self
            .own_token_context(ctx.server, &ctx.profile.settings, &token)
            .await
        {
            Ok(Ok(claims)) => token_uuid(&claims).filter(|u| entries.iter().any(|(id, _)| id == u)),
            _ => {
                let mut ours = ctx.profile.settings.scopes.clone();
                ours.sort();
                ours.dedup();
                match entries
                    .iter()
                    .filter(|(_, s)| *s == ours)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    [(only, _)] => Some(only.clone()),
                    _ => None,
                }
            }
        };
        let Some(uuid) = target else {
            return Ok(LogoutDone {
                note: Some(format!(
                    "Latchkey could not tell which of the {} authorizations Quay lists is this token, so it stays valid until you revoke it in Quay: Account Settings → Authorized Applications.",
                    entries.len()
                )),
                ..Default::default()
            });
        };
        let deleted = send(
            ctx.server,
            client
                .delete(format!("{base}/api/v1/user/authorizations/{uuid}"))
                .bearer_auth(token.expose()),
        )
        .await?;
        match deleted.status {
            200 | 204 | 404 => Ok(LogoutDone {
                revoked: true,
                ..Default::default()
            }),
            _ => Err(unexpected("the revocation", &deleted)),
        }
    }

    async fn registry_info(
        &self,
        ctx: &LoginContext<'_>,
        token: &Secret,
    ) -> Result<Vec<SummaryItem>> {
        let base = base(ctx.server);
        let client = http::client_for(ctx.server)?;
        let answer = send(
            ctx.server,
            client
                .get(format!("{base}/v2/"))
                .bearer_auth(token.expose()),
        )
        .await?;
        let claims = crate::jwt::decode(token.expose())
            .map(|d| d.claims)
            .unwrap_or(Value::Null);
        match answer.status {
            200 => {}
            401 => {
                let aud = claims
                    .get("aud")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let wanted = answer
                    .header("www-authenticate")
                    .and_then(parse_challenge)
                    .and_then(|(_, service)| service);
                return Err(match wanted {
                    Some(service) if service != aud => Error::ServerRefused {
                        status: Some(401),
                        field: Some("service"),
                        message: format!("the registry accepts only tokens for the service '{service}', and this one is for '{aud}': clear the profile's service (Latchkey then asks the registry) or set it to '{service}', and log in again"),
                    },
                    _ => Error::LoginRequired(format!(
                        "the registry no longer accepts the token of '{}' (it expired, or Quay's service key changed): renew it, or log in again",
                        ctx.profile.name
                    )),
                });
            }
            _ => return Err(unexpected("the registry check", &answer)),
        }
        let mut items = Vec::new();
        if let Some(sub) = claims.get("sub").and_then(Value::as_str) {
            items.push(SummaryItem {
                name: "user".into(),
                value: sub.to_string(),
            });
        }
        let granted = granted_access(&claims);
        for (name, actions) in &granted {
            items.push(SummaryItem {
                name: format!("access {name}"),
                value: actions_text(actions),
            });
        }
        for warning in access_warnings(&ctx.profile.settings, &claims) {
            items.push(SummaryItem {
                name: "warning".into(),
                value: warning,
            });
        }
        Ok(items)
    }
}

async fn session_info(ctx: &LoginContext<'_>, secret: &Secret) -> Result<Vec<SummaryItem>> {
    let jar = SessionJar::from_secret(secret, &ctx.profile.name)?;
    let answer = api_user(ctx.server, &ApiAuth::Session(&jar)).await?;
    match answer.status {
        200 => Ok(user_items(&answer.json())),
        401 => Err(Error::LoginRequired(format!(
            "the Quay session of '{}' has ended ({}): sessions last 31 days, and signing out anywhere ends them all; log in again",
            ctx.profile.name,
            answer.message()
        ))),
        _ => Err(unexpected("the user query", &answer)),
    }
}

/// `POST /api/v1/signout`: ends this session and, since Quay rotates the
/// user's UUID, every other one.
async fn session_logout(ctx: &LoginContext<'_>) -> Result<LogoutDone> {
    let Some(secret) = ctx
        .vault
        .get(SecretKey::new(ctx.profile.id, SecretSlot::SessionCookie))
        .await?
    else {
        return Ok(LogoutDone::default());
    };
    let jar = SessionJar::from_secret(&secret, &ctx.profile.name)?;
    let client = http::client_for(ctx.server)?;
    let answer = send(
        ctx.server,
        with_auth(
            client.post(format!("{}/api/v1/signout", base(ctx.server))),
            &ApiAuth::Session(&jar),
        ),
    )
    .await?;
    let user = ctx
        .profile
        .settings
        .username
        .as_deref()
        .unwrap_or("the user");
    match answer.status {
        200 | 204 => Ok(LogoutDone {
            revoked: true,
            note: Some(format!(
                "Quay signs a user out everywhere: every other session of {user}, in browsers and on other devices, ended too."
            )),
            ..Default::default()
        }),
        403 => Err(Error::ServerRefused {
            status: Some(403),
            field: None,
            message: format!(
                "Quay refused the sign-out ({}): the session may already have ended",
                answer.message()
            ),
        }),
        _ => Err(unexpected("the sign-out", &answer)),
    }
}

/// Registry tokens cannot be revoked: they lapse within the hour.
async fn registry_logout(ctx: &LoginContext<'_>) -> LogoutDone {
    let exp = ctx
        .vault
        .get(SecretKey::new(ctx.profile.id, SecretSlot::AccessToken))
        .await
        .ok()
        .flatten()
        .and_then(|t| crate::jwt::decode(t.expose()).ok())
        .and_then(|d| d.exp)
        .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok());
    LogoutDone {
        note: Some(match exp {
            Some(at) => format!(
                "Quay has no revocation for registry tokens; this one lapses by itself {} ({}).",
                tok::relative(ctx.now, at),
                tok::rfc3339(at)
            ),
            None => "Quay has no revocation for registry tokens; they lapse by themselves within the hour.".into(),
        }),
        ..Default::default()
    }
}

impl Renewer for Quay {
    /// Re-issues a registry token with the remembered password, or the
    /// current token of the profile it borrows from.
    fn renew<'a>(
        &'a self,
        ctx: RenewContext<'a>,
    ) -> BoxFuture<'a, std::result::Result<IssuedToken, RenewError>> {
        Box::pin(async move {
            if ctx.profile.login != LoginKind::QuayRegistry {
                return Err(RenewError::NeedsUser(format!(
                    "{} cannot be renewed without you: log in again",
                    ctx.profile.login
                )));
            }
            let password = match ctx.profile.settings.source_profile.as_deref() {
                Some(source) => ctx.borrowed.clone().ok_or_else(|| {
                    RenewError::NeedsUser(format!(
                        "'{source}', whose token this profile presents, holds no valid token: log '{source}' in, then this profile"
                    ))
                })?,
                None => ctx
                    .vault
                    .get(SecretKey::new(ctx.profile.id, SecretSlot::Password))
                    .await
                    .map_err(|e| RenewError::Transient(e.to_string()))?
                    .ok_or_else(|| {
                        RenewError::NeedsUser("Latchkey re-issues a registry token only with a remembered password or robot token: log in again and let Latchkey remember it".into())
                    })?,
            };
            self.registry_token(ctx.server, ctx.profile, &password, ctx.now)
                .await
                .map_err(|e| match e {
                    // Quay refused the credentials or the scopes: only the
                    // user can change those.
                    Error::ServerRefused {
                        status: Some(401 | 400 | 405),
                        ..
                    }
                    | Error::Invalid { .. } => RenewError::NeedsUser(e.to_string()),
                    // The network, a proxy's page, an answer cut short or
                    // without its token, throttling: worth a retry.
                    other => RenewError::retry(other),
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_checked_against_quays_list_and_joined_by_single_spaces() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            scope_param(&s(&["repo:read", "user:read", "repo:read"])).unwrap(),
            "repo:read user:read"
        );
        let err = scope_param(&s(&["repo:read", "repo:raed"])).unwrap_err();
        assert_eq!(err.field(), Some("scopes"));
        assert!(err.to_string().contains("'repo:raed'"), "{err}");
        assert!(err.to_string().contains("user:admin"), "{err}");
        assert_eq!(scope_param(&[]).unwrap_err().field(), Some("scopes"));
    }

    #[test]
    fn registry_scopes_take_the_short_form_and_refuse_what_quay_cannot_decode() {
        let full = registry_scope("repository:acme/web:pull,push").unwrap();
        assert_eq!(full, registry_scope("acme/web:pull,push").unwrap());
        assert_eq!(full.param(), "repository:acme/web:pull,push");
        assert!(registry_scope("quay.example.com:8443/acme/web:*").is_ok());
        for bad in [
            "acme/web",
            "acme/web:delete",
            "acme//web:pull",
            "acme/we b:pull",
            "repository:acme/web:pull,",
        ] {
            let err = registry_scope(bad).unwrap_err();
            assert_eq!(err.field(), Some("scopes"), "{bad}");
            assert!(err.to_string().contains("repository:acme/web:pull,push"));
        }
    }

    #[test]
    fn challenges_give_realm_and_service() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://q.example/v2/auth",service="q.example",scope="repository:a/b:pull""#
            ),
            Some(("https://q.example/v2/auth".into(), Some("q.example".into())))
        );
        assert_eq!(
            parse_challenge(r#"bearer realm="http://h:1/quay/v2/auth", service=h:1"#),
            Some(("http://h:1/quay/v2/auth".into(), Some("h:1".into())))
        );
        assert_eq!(parse_challenge(r#"Basic realm="x""#), None);
    }

    #[test]
    fn a_narrower_grant_names_what_is_missing() {
        let asked = vec![
            registry_scope("acme/web:pull,push").unwrap(),
            registry_scope("globex/tools:pull,push").unwrap(),
            registry_scope("globex/vault:pull").unwrap(),
        ];
        let granted = granted_access(&json!({"access": [
            {"type": "repository", "name": "acme/web", "actions": ["push", "pull"]},
            {"type": "repository", "name": "globex/tools", "actions": ["pull"]},
        ]}));
        let w = narrower_warning(&asked, &granted).unwrap();
        assert!(
            w.contains("globex/tools: pull only (asked pull, push)"),
            "{w}"
        );
        assert!(w.contains("globex/vault: nothing (asked pull)"), "{w}");
        assert!(!w.contains("acme/web"), "{w}");
        assert_eq!(narrower_warning(&asked[..1], &granted), None);
    }

    #[test]
    fn session_cookies_follow_set_cookie_and_their_expiry() {
        let now = time::macros::datetime!(2026-06-01 09:00 UTC);
        let mut headers = HeaderMap::new();
        headers.append(
            "set-cookie",
            "_csrf_token=abc; Expires=Thu, 02 Jul 2026 09:00:00 GMT; HttpOnly; Path=/; SameSite=Lax"
                .parse()
                .unwrap(),
        );
        headers.append("set-cookie", "other=1; Max-Age=60".parse().unwrap());
        let mut jar = SessionJar::default();
        assert_eq!(
            jar.absorb(&headers, now),
            Some(time::macros::datetime!(2026-07-02 09:00 UTC))
        );
        assert_eq!(jar.cookie_header(), "_csrf_token=abc; other=1");
        let mut gone = HeaderMap::new();
        gone.append("set-cookie", "other=; Max-Age=0".parse().unwrap());
        jar.absorb(&gone, now);
        assert_eq!(jar.cookie_header(), "_csrf_token=abc");
        assert_eq!(
            parse_http_date("Sun, 06-Nov-1994 08:49:37 GMT"),
            Some(time::macros::datetime!(1994-11-06 08:49:37 UTC))
        );
    }
}
