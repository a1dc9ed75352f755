//! Avassa's strongbox logins (protocols §3): password (+ OTP), Kubernetes
//! service account, and token refresh at 75 % of the period. Where the wire
//! format is unknown (§6: how an OTP is asked for), every plausible variant is
//! accepted: a 200 with `totp-required` and no token, or a 401 whose message
//! asks for it.

use super::{Begun, KindEntry, LoginContext, LoginInput, Provider};
use super::{BoxFuture, RenewContext, RenewError, Renewer};
use crate::error::{Error, Result};
use crate::flows::{AcceptedRedirect, DEEP_LINK_CALLBACK};
use crate::http;
use crate::model::SummaryItem;
use crate::model::{
    LoginKind, LoginPrompt, LoginSpec, SecretSpec, Server, ServerKind, SettingField,
};
use crate::tokens::{IssuedToken, RenewalPolicy, TokenKind};
use crate::vault::{Secret, SecretKey, SecretSlot};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Where a pod finds its service-account token.
pub const DEFAULT_SA_TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

pub struct Avassa;

/// An Avassa kind's line in the kind registry: on Avassa servers, logged in
/// and renewed here at 75 % of the token's period; a Kubernetes login names
/// its tenant.
pub const fn entry(login: LoginKind) -> KindEntry {
    KindEntry {
        provider: Some(|_| Arc::new(Avassa)),
        renewer: Some(|_| Arc::new(Avassa)),
        renewal: RenewalPolicy::AtFraction(0.75),
        needs_tenant: matches!(login, LoginKind::AvassaKubernetes),
        ..KindEntry::new(login, &[ServerKind::Avassa], spec)
    }
}

/// What each Avassa login kind asks of the user (its descriptor).
pub fn spec(login: LoginKind) -> LoginSpec {
    use SettingField::*;
    match login {
        LoginKind::AvassaKubernetes => LoginSpec::new(
            login,
            LoginPrompt::Direct,
            &[Service, Role],
            &[SaTokenFile],
            None,
        ),
        LoginKind::AvassaOidc => {
            LoginSpec::new(login, LoginPrompt::Browser, &[], &[Role, Redirect], None)
        }
        _ => LoginSpec::new(
            login,
            LoginPrompt::Password,
            &[Username],
            &[],
            SecretSpec::optional(
                "Password (remember for silent re-login)",
                SecretSlot::Password,
            ),
        ),
    }
}

/// How long an OIDC login waits for the browser.

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    token: Option<String>,
    #[serde(rename = "expires-in")]
    expires_in: Option<i64>,
    expires: Option<String>,
    accessor: Option<String>,
    #[serde(rename = "creation-time")]
    creation_time: Option<String>,
    #[serde(rename = "renewal-time")]
    renewal_time: Option<String>,
    #[serde(rename = "totp-required", default)]
    totp_required: bool,
}

fn parse_time(s: &Option<String>) -> Option<OffsetDateTime> {
    s.as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
}

impl TokenResponse {
    pub(crate) fn issued(
        self,
        now: OffsetDateTime,
        tenant: Option<&str>,
        who: Option<&str>,
    ) -> Option<IssuedToken> {
        let token = self.token.filter(|t| !t.is_empty())?;
        // The period that renewal's 75 % counts from starts at the last renewal.
        let from = parse_time(&self.renewal_time)
            .or(parse_time(&self.creation_time))
            .unwrap_or(now);
        let expires_at = parse_time(&self.expires).or_else(|| {
            self.expires_in
                .and_then(|s| crate::tokens::expiry_after(from, s))
        });
        let mut issued =
            IssuedToken::from_token(TokenKind::Access, Secret::new(token), from, expires_at);
        issued.issued_at = Some(from);
        issued.expires_at = expires_at;
        if let Some(a) = self.accessor {
            issued.summary.insert("accessor".into(), Value::String(a));
        }
        if let Some(t) = tenant {
            issued
                .summary
                .insert("tenant".into(), Value::String(t.into()));
        }
        if let Some(w) = who {
            issued
                .summary
                .insert("user".into(), Value::String(w.into()));
        }
        Some(issued)
    }
}

/// The server's own words from `{"errors":[{"error-message": ...}]}`, or the
/// body as text (an HTML page named as such).
pub(crate) fn error_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errors")?
                .get(0)?
                .get("error-message")?
                .as_str()
                .map(str::to_string)
        })
        // An empty or unprintable message says nothing: described like a body.
        .filter(|m| !http::excerpt(m).is_empty())
        .unwrap_or_else(|| {
            let t = body.trim();
            if http::is_html(t) {
                return "an HTML error page".into();
            }
            // Control characters alone leave nothing to show (found by the
            // avassa_answer fuzz target: a 200 of two such bytes was refused
            // with an empty message).
            match http::excerpt(t) {
                shown if shown.is_empty() => "no message".into(),
                shown => shown,
            }
        })
}

/// An answer that is Avassa's own JSON error, not a proxy's page: only that
/// can say the strongbox is sealed.
fn is_api_error(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .ok()
        .is_some_and(|v| v.get("errors").is_some())
}

pub(crate) fn asks_for_otp(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("otp") || m.contains("totp") || m.contains("one-time") || m.contains("one time")
}

fn sealed(server: &Server, message: &str) -> Error {
    Error::ServerRefused {
        status: Some(503),
        field: None,
        message: format!(
            "the strongbox of '{}' is sealed, so it cannot log anyone in until an operator unseals it; try again later (server: {message})",
            server.name
        ),
    }
}

async fn post(
    server: &Server,
    path: &str,
    bearer: Option<&Secret>,
    body: Value,
) -> Result<(u16, String)> {
    let client = http::client_for(server)?;
    let mut req = client.post(format!("{}{path}", server.url)).json(&body);
    if let Some(token) = bearer {
        req = req.bearer_auth(token.expose());
    }
    let answer = http::send(server, req).await?;
    Ok((answer.status, answer.text))
}

/// A 200's body, read as a token response.
pub(crate) fn token_response(server: &Server, text: &str) -> Result<TokenResponse> {
    serde_json::from_str(text).map_err(|e| Error::ServerRefused {
        status: Some(200),
        field: None,
        message: http::not_json(&server.url, "the token answer", &e),
    })
}

/// A 200 to a login that carries no token.
fn no_token(server: &Server) -> Error {
    Error::ServerRefused {
        status: Some(200),
        field: None,
        message: format!(
            "{} answered without a token; try again, and if it keeps happening check that the URL of server '{}' is the Avassa API",
            server.url, server.name
        ),
    }
}

/// Any answer a caller has no better words for: a proxy's page, the vault
/// sealed (Avassa's own 503), or the server's own message.
pub(crate) fn refused(server: &Server, status: u16, text: &str) -> Error {
    if !is_api_error(text) && (status >= 500 || http::is_html(text)) {
        return http::not_an_answer(&server.url, status, text);
    }
    match status {
        503 => sealed(server, &error_message(text)),
        other if other >= 500 => Error::ServerRefused {
            status: Some(other),
            field: None,
            message: format!(
                "{} failed ({}): {}; try again later",
                server.url,
                http::status_text(other),
                error_message(text)
            ),
        },
        other => Error::ServerRefused {
            status: Some(other),
            field: None,
            message: error_message(text),
        },
    }
}

async fn password_login(ctx: &LoginContext<'_>, input: &LoginInput) -> Result<Begun> {
    let username = ctx.profile.settings.username.as_deref().unwrap_or_default();
    let password = input.password.as_ref().ok_or_else(|| {
        Error::invalid(
            "password",
            format!("type the password of {username} to log in"),
        )
    })?;
    let mut body = json!({"username": username, "password": password.expose()});
    if let Some(t) = ctx.tenant {
        body["tenant"] = json!(t);
    }
    if let Some(otp) = &input.otp {
        body["otp"] = json!(otp);
    }
    let (status, text) = post(ctx.server, "/v1/login", None, body).await?;
    match status {
        200 => {
            let resp = token_response(ctx.server, &text)?;
            let totp = resp.totp_required;
            match resp.issued(ctx.now, ctx.tenant, Some(username)) {
                Some(issued) => Ok(Begun::Issued(issued)),
                None if totp && input.otp.is_none() => Ok(Begun::NeedsOtp(format!(
                    "{username} needs a one-time code from the authenticator app"
                ))),
                None if totp => Err(Error::ServerRefused {
                    status: Some(200),
                    field: Some("otp"),
                    message: "the one-time code was not accepted; check the code and try again"
                        .into(),
                }),
                None => Err(no_token(ctx.server)),
            }
        }
        401 if is_api_error(&text) || !http::is_html(&text) => {
            let message = error_message(&text);
            match (asks_for_otp(&message), input.otp.is_some()) {
                (true, false) => Ok(Begun::NeedsOtp(message)),
                (true, true) => Err(Error::ServerRefused {
                    status: Some(401),
                    field: Some("otp"),
                    message,
                }),
                (false, _) => Err(Error::ServerRefused {
                    status: Some(401),
                    field: Some("password"),
                    message,
                }),
            }
        }
        404 => Err(Error::ServerRefused {
            status: Some(404),
            field: Some("tenant"),
            message: format!(
                "{} (is the tenant '{}' right?)",
                error_message(&text),
                ctx.tenant.unwrap_or("-")
            ),
        }),
        other => Err(refused(ctx.server, other, &text)),
    }
}

/// The first half of server-mediated OIDC: the server hands out the identity
/// provider's URL and the `state` it will check. Its answer's shape is not
/// documented (§3.3), so the URL is read from any of the plausible names and
/// may be relative to the API; `state` and `nonce` come from the body or the
/// URL itself.
async fn oidc_login(ctx: &LoginContext<'_>) -> Result<Begun> {
    let redirect_uri = ctx.redirect_uri.unwrap_or(DEEP_LINK_CALLBACK).to_string();
    let mut body = json!({ "redirect-uri": redirect_uri });
    if let Some(t) = ctx.tenant {
        body["tenant"] = json!(t);
    }
    if let Some(role) = &ctx.profile.settings.role {
        body["role"] = json!(role);
    }
    let (status, text) = post(ctx.server, "/v1/oidc-login", None, body).await?;
    match status {
        200 => {}
        404 if is_api_error(&text) => {
            return Err(Error::ServerRefused {
                status: Some(404),
                field: Some("tenant"),
                message: error_message(&text),
            })
        }
        other => return Err(refused(ctx.server, other, &text)),
    }
    let v: Value = serde_json::from_str(&text).map_err(|e| Error::ServerRefused {
        status: Some(200),
        field: None,
        message: http::not_json(&ctx.server.url, "the OIDC login answer", &e),
    })?;
    let raw = [
        "url",
        "redirect-url",
        "authorization-url",
        "location",
        "uri",
    ]
    .iter()
    .find_map(|k| v.get(*k).and_then(Value::as_str))
    .ok_or_else(|| Error::ServerRefused {
        status: Some(200),
        field: None,
        message: format!(
            "the OIDC login answer of {} names no URL to open; try again, and if it keeps happening check that OIDC is set up for tenant '{}'",
            ctx.server.url,
            ctx.tenant.unwrap_or("-")
        ),
    })?;
    let base = url::Url::parse(&format!("{}/", ctx.server.url))
        .map_err(|e| Error::Internal(format!("server URL: {e}")))?;
    let url = base.join(raw).map_err(|e| Error::ServerRefused {
        status: Some(200),
        field: None,
        message: format!("the OIDC URL {raw} is not valid: {e}"),
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Error::ServerRefused {
            status: Some(200),
            field: None,
            message: format!("refusing to open a {} URL from the server", url.scheme()),
        });
    }
    let from_url = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let state = v
        .get("state")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| from_url("state"))
        .ok_or_else(|| Error::ServerRefused {
            status: Some(200),
            field: None,
            message: "the OIDC answer carries no state to match the redirect with".into(),
        })?;
    let nonce = v
        .get("nonce")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| from_url("nonce"));
    ctx.redirects.begin_with_state(
        ctx.profile.id,
        &redirect_uri,
        ctx.redirects.login_wait(),
        state,
        None,
        nonce,
    );
    Ok(Begun::Browser {
        url: url.to_string(),
        redirect_uri,
    })
}

/// The second half: the server trades the code for a token.
async fn oidc_finish(ctx: &LoginContext<'_>, redirect: &AcceptedRedirect) -> Result<IssuedToken> {
    let code = redirect.param("code").ok_or_else(|| Error::ServerRefused {
        status: None,
        field: None,
        message: "the browser came back without a code".into(),
    })?;
    let mut body = json!({"state": redirect.login.state, "code": code});
    if let Some(nonce) = &redirect.login.nonce {
        body["nonce"] = json!(nonce);
    }
    let (status, text) = post(ctx.server, "/v1/oidc-callback", None, body).await?;
    match status {
        200 => {
            let resp = token_response(ctx.server, &text)?;
            resp.issued(ctx.now, ctx.tenant, None)
                .ok_or_else(|| no_token(ctx.server))
        }
        other => Err(refused(ctx.server, other, &text)),
    }
}

async fn kubernetes_login(ctx: &LoginContext<'_>) -> Result<Begun> {
    let s = &ctx.profile.settings;
    let path = s.sa_token_file.as_deref().unwrap_or(DEFAULT_SA_TOKEN_FILE);
    let jwt = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid(
            "sa_token_file",
            format!("cannot read the service-account token {path}: {e}; run inside the pod, or point the profile at the token file"),
        )
    })?;
    let body = json!({
        "tenant": ctx.tenant.unwrap_or_default(),
        "service": s.service.as_deref().unwrap_or_default(),
        "role": s.role.as_deref().unwrap_or_default(),
        "jwt": jwt.trim(),
    });
    let (status, text) = post(ctx.server, "/v1/kubernetes-login", None, body).await?;
    match status {
        200 => {
            let resp = token_response(ctx.server, &text)?;
            let who = s.service.as_deref();
            resp.issued(ctx.now, ctx.tenant, who)
                .map(Begun::Issued)
                .ok_or_else(|| no_token(ctx.server))
        }
        other => Err(refused(ctx.server, other, &text)),
    }
}

impl Provider for Avassa {
    fn begin<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        input: &'a LoginInput,
    ) -> BoxFuture<'a, Result<Begun>> {
        Box::pin(async move {
            match ctx.profile.login {
                LoginKind::AvassaPassword => password_login(&ctx, input).await,
                LoginKind::AvassaKubernetes => kubernetes_login(&ctx).await,
                LoginKind::AvassaOidc => oidc_login(&ctx).await,
                other => Err(Error::Internal(format!(
                    "the Avassa provider cannot log in {other}"
                ))),
            }
        })
    }

    fn finish<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        redirect: &'a AcceptedRedirect,
    ) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async move { oidc_finish(&ctx, redirect).await })
    }

    fn token_info<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        token: &'a Secret,
    ) -> BoxFuture<'a, Result<Vec<SummaryItem>>> {
        Box::pin(async move { token_info(&ctx, token).await })
    }
}

/// The lines of `token/info` worth showing, in this order.
const INFO_FIELDS: &[&str] = &[
    "tenant",
    "display-name",
    "policies",
    "ttl",
    "max-ttl",
    "renewable",
    "expires",
    "accessor",
];

async fn token_info(ctx: &LoginContext<'_>, token: &Secret) -> Result<Vec<SummaryItem>> {
    let (status, text) = post(
        ctx.server,
        "/v1/state/strongbox/token/info",
        Some(token),
        json!({}),
    )
    .await?;
    match status {
        200 => {
            let v: Value = serde_json::from_str(&text).map_err(|e| Error::ServerRefused {
                status: Some(200),
                field: None,
                message: format!("the token info is not JSON: {e}"),
            })?;
            Ok(INFO_FIELDS
                .iter()
                .filter_map(|name| {
                    let value = match v.get(*name)? {
                        Value::String(s) => s.clone(),
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(", "),
                        other => other.to_string(),
                    };
                    Some(SummaryItem {
                        name: (*name).to_string(),
                        value,
                    })
                })
                .collect())
        }
        401 => Err(Error::LoginRequired(format!(
            "the server no longer accepts the token of '{}' ({}); log in again",
            ctx.profile.name,
            error_message(&text)
        ))),
        other => Err(refused(ctx.server, other, &text)),
    }
}

impl Renewer for Avassa {
    fn renew<'a>(
        &'a self,
        ctx: RenewContext<'a>,
    ) -> BoxFuture<'a, Result<IssuedToken, RenewError>> {
        Box::pin(async move {
            let token = ctx
                .vault
                .get(SecretKey::new(ctx.profile.id, SecretSlot::AccessToken))
                .await
                .map_err(|e| RenewError::Transient(e.to_string()))?
                .ok_or_else(|| RenewError::NeedsUser("no token to renew: log in".into()))?;
            let tenant = ctx.tenant;
            let refused = match post(
                ctx.server,
                "/v1/state/strongbox/token/refresh",
                Some(&token),
                json!({}),
            )
            .await
            {
                Ok((200, text)) => {
                    let resp: TokenResponse = serde_json::from_str(&text).map_err(|e| {
                        RenewError::Transient(http::not_json(
                            &ctx.server.url,
                            "the refresh answer",
                            &e,
                        ))
                    })?;
                    let who = ctx.profile.settings.username.as_deref().or(ctx
                        .profile
                        .settings
                        .service
                        .as_deref());
                    return resp.issued(ctx.now, tenant, who).ok_or_else(|| {
                        RenewError::Transient(format!(
                            "the refresh answer of {} carries no token",
                            ctx.server.url
                        ))
                    });
                }
                Ok((503, text)) if is_api_error(&text) => {
                    return Err(RenewError::Transient(format!(
                        "the strongbox is sealed: {}",
                        error_message(&text)
                    )))
                }
                Ok((status, text)) if status >= 500 || http::is_html(&text) => {
                    return Err(RenewError::Transient(
                        refused(ctx.server, status, &text).to_string(),
                    ))
                }
                Ok((status, text)) => (status, error_message(&text)),
                Err(Error::Unreachable(m)) => return Err(RenewError::Unreachable(m)),
                Err(e) => return Err(RenewError::retry(e)),
            };
            // A 401 refuses the token itself (revoked, or rotated away by a
            // refresh whose answer never arrived): it must not be handed out
            // any more. Other refusals (403: max TTL reached) leave it valid
            // until it expires.
            let (status, refused) = refused;
            let gone = |message: String| {
                if status == 401 {
                    RenewError::Refused(message)
                } else {
                    RenewError::NeedsUser(message)
                }
            };
            // Refused for good (max TTL, revoked): log in again silently where
            // Latchkey can (a remembered password without OTP, or the
            // service-account file), else the user must.
            let login = ctx.login_context();
            let begun = match ctx.profile.login {
                LoginKind::AvassaKubernetes => kubernetes_login(&login).await,
                LoginKind::AvassaOidc => {
                    return Err(gone(format!("{refused}; log in again through the browser")))
                }
                _ => {
                    let password = ctx
                        .vault
                        .get(SecretKey::new(ctx.profile.id, SecretSlot::Password))
                        .await
                        .map_err(|e| RenewError::Transient(e.to_string()))?;
                    let Some(password) = password else {
                        return Err(gone(format!("{refused}; log in again")));
                    };
                    let input = LoginInput {
                        password: Some(password),
                        ..Default::default()
                    };
                    password_login(&login, &input).await
                }
            };
            match begun {
                Ok(Begun::Issued(issued)) => Ok(issued),
                Ok(Begun::NeedsOtp(_)) => Err(gone(format!(
                    "{refused}; logging in again needs a one-time code"
                ))),
                Ok(Begun::Browser { .. } | Begun::Device { .. }) => {
                    Err(gone(format!("{refused}; log in again through the browser")))
                }
                Err(Error::Unreachable(m)) => Err(RenewError::Unreachable(m)),
                Err(e) => Err(gone(format!("{refused}; logging in again failed: {e}"))),
            }
        })
    }
}
