//! GitHub logins (protocols §1): a GitHub token through the web flow (PKCE)
//! or the device flow, and Kontinuous, whose JWT is obtained by handing it
//! the GitHub code. OAuth requests go through the `oauth2` crate; GitHub's
//! habit of answering errors with HTTP 200 is undone in [`crate::oauth`].

use super::{Begun, KindEntry, LoginContext, LoginInput, Provider};
use super::{BoxFuture, RenewContext, RenewError, Renewer};
use crate::error::{Error, Result};
use crate::flows::AcceptedRedirect;
use crate::model::SummaryItem;
use crate::model::{
    LoginKind, LoginPrompt, LoginSpec, SecretSpec, Server, ServerKind, SettingField,
};
use crate::oauth::{self, http_client, token_error};
use crate::tokens::{IssuedToken, RenewalPolicy, TokenKind};
use crate::vault::{Secret, SecretKey, SecretSlot};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::Duration;

/// A GitHub kind's line in the kind registry: the Kontinuous login on
/// Kontinuous servers, whose JWT nothing renews; the web and device flows on
/// GitHub servers, renewed before expiry when GitHub lets tokens expire.
pub const fn entry(login: LoginKind) -> KindEntry {
    let kind = KindEntry {
        provider: Some(|_| Arc::new(GitHub::default())),
        ..KindEntry::new(login, &[ServerKind::Github], spec)
    };
    match login {
        LoginKind::GithubKontinuous => KindEntry {
            servers: &[ServerKind::Kontinuous],
            ..kind
        },
        _ => KindEntry {
            renewer: Some(|_| Arc::new(GitHub::default())),
            renewal: RenewalPolicy::Before(Duration::minutes(5)),
            ..kind
        },
    }
}

/// What each GitHub login kind asks of the user (its descriptor).
pub fn spec(login: LoginKind) -> LoginSpec {
    use SettingField::*;
    match login {
        // `issuer` is the GitHub to authorize at (default github.com).
        LoginKind::GithubKontinuous => LoginSpec::new(
            login,
            LoginPrompt::Browser,
            &[ClientId],
            &[Issuer, Scopes, Redirect, RedirectUri],
            None,
        ),
        LoginKind::GithubDevice => LoginSpec::new(
            login,
            LoginPrompt::Browser,
            &[ClientId],
            &[Scopes, Registry],
            None,
        ),
        _ => LoginSpec::new(
            login,
            LoginPrompt::Browser,
            &[ClientId],
            &[Scopes, Redirect, RedirectUri, Registry],
            SecretSpec::optional("Client secret", SecretSlot::ClientSecret),
        ),
    }
}

/// Kontinuous' documented default scopes.
const KONTINUOUS_SCOPES: &[&str] = &["user", "repo", "admin:repo_hook"];

#[derive(Default)]
pub struct GitHub {
    /// Which Kontinuous login path answered, per server URL (§1.2: the code
    /// says `/login/github`, the docs `/api/v1/login/github`).
    login_paths: Mutex<HashMap<String, &'static str>>,
    /// Device logins waiting for the user's approval, by profile.
    devices: crate::oauth::WaitingDevices,
}

/// github.com, or the GitHub a Kontinuous profile names (its `issuer`).
fn github_base(server: &Server, login: LoginKind, issuer: Option<&str>) -> String {
    match login {
        LoginKind::GithubKontinuous => issuer
            .filter(|i| !i.trim().is_empty())
            .unwrap_or("https://github.com")
            .trim_end_matches('/')
            .to_string(),
        _ => server.url.trim_end_matches('/').to_string(),
    }
}

/// The REST API of a GitHub: api.github.com, else GitHub Enterprise's /api/v3.
fn api_base(base: &str) -> String {
    if base == "https://github.com" {
        "https://api.github.com".into()
    } else {
        format!("{base}/api/v3")
    }
}

/// The server to talk to GitHub through (its URL and CA): the profile's own
/// for GitHub kinds; for Kontinuous, a GitHub "server" on the given base.
fn github_server(ctx_server: &Server, base: &str, login: LoginKind) -> Server {
    if login == LoginKind::GithubKontinuous {
        Server {
            url: base.to_string(),
            ca_pem: None,
            name: "GitHub".into(),
            ..ctx_server.clone()
        }
    } else {
        ctx_server.clone()
    }
}

fn scopes(settings: &crate::model::ProfileSettings, login: LoginKind) -> Vec<String> {
    if !settings.scopes.is_empty() {
        settings.scopes.clone()
    } else if login == LoginKind::GithubKontinuous {
        KONTINUOUS_SCOPES.iter().map(|s| s.to_string()).collect()
    } else {
        vec!["repo".into(), "read:org".into()]
    }
}

fn url_err(e: impl std::fmt::Display) -> Error {
    Error::invalid("url", format!("not a valid URL: {e}"))
}

impl GitHub {
    async fn begin_web(&self, ctx: &LoginContext<'_>) -> Result<Begun> {
        let s = &ctx.profile.settings;
        let login = ctx.profile.login;
        let base = github_base(ctx.server, login, s.issuer.as_deref());
        let redirect_uri = ctx
            .redirect_uri
            .ok_or_else(|| Error::Internal("a browser login without a redirect URI".into()))?
            .to_string();
        let client = BasicClient::new(ClientId::new(s.client_id.clone().unwrap_or_default()))
            .set_auth_uri(AuthUrl::new(format!("{base}/login/oauth/authorize")).map_err(url_err)?)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).map_err(url_err)?);
        // Kontinuous trades the code itself and sends GitHub no
        // code_verifier (§1.1 step 3a), so a PKCE challenge would make GitHub
        // refuse its exchange: PKCE only where Latchkey does the exchange.
        // The state is still checked here, since Kontinuous does not.
        let (challenge, verifier) = if login == LoginKind::GithubKontinuous {
            (None, None)
        } else {
            let (c, v) = PkceCodeChallenge::new_random_sha256();
            (Some(c), Some(Secret::new(v.secret().clone())))
        };
        let state = ctx.redirects.begin(
            ctx.profile.id,
            &redirect_uri,
            ctx.redirects.login_wait(),
            verifier,
            None,
        );
        let mut request = client.authorize_url(move || CsrfToken::new(state));
        // GitHub documents space-separated scopes; oauth2 joins them so.
        for scope in scopes(s, login) {
            request = request.add_scope(Scope::new(scope));
        }
        if let Some(c) = challenge {
            request = request.set_pkce_challenge(c);
        }
        let (url, _) = request.url();
        Ok(Begun::Browser {
            url: url.to_string(),
            redirect_uri,
        })
    }

    async fn begin_device(&self, ctx: &LoginContext<'_>) -> Result<Begun> {
        let s = &ctx.profile.settings;
        let base = github_base(ctx.server, ctx.profile.login, None);
        let client = BasicClient::new(ClientId::new(s.client_id.clone().unwrap_or_default()))
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(format!("{base}/login/device/code"))
                    .map_err(url_err)?,
            );
        let http = http_client(ctx.server)?;
        let mut request = client.exchange_device_code();
        for scope in scopes(s, ctx.profile.login) {
            request = request.add_scope(Scope::new(scope));
        }
        let details: StandardDeviceAuthorizationResponse = request
            .request_async(&http)
            .await
            .map_err(|e| {
                let err = token_error("the device login", e);
                if err.to_string().contains("device_flow_disabled") {
                    Error::ServerRefused {
                        status: Some(400),
                        field: None,
                        message: format!("{err}; enable the device flow in the OAuth app's settings, or use the web login"),
                    }
                } else {
                    err
                }
            })?;
        Ok(self.devices.park(ctx, details))
    }

    /// Polls GitHub until the device login is approved, denied or expired.
    async fn poll_device(&self, ctx: &LoginContext<'_>) -> Result<IssuedToken> {
        let details = self.devices.take(ctx.profile.id)?;
        let s = &ctx.profile.settings;
        let base = github_base(ctx.server, ctx.profile.login, None);
        let client = BasicClient::new(ClientId::new(s.client_id.clone().unwrap_or_default()))
            .set_token_uri(
                TokenUrl::new(format!("{base}/login/oauth/access_token")).map_err(url_err)?,
            );
        let http = http_client(ctx.server)?;
        let response = client
            .exchange_device_access_token(&details)
            .request_async(&http, tokio::time::sleep, Some(details.expires_in()))
            .await
            .map_err(|e| token_error("the device login", e))?;
        self.issued(ctx, &base, &response).await
    }

    async fn finish_web(
        &self,
        ctx: &LoginContext<'_>,
        redirect: &AcceptedRedirect,
    ) -> Result<IssuedToken> {
        let code = redirect.param("code").ok_or_else(|| Error::ServerRefused {
            status: None,
            field: None,
            message: "GitHub came back without a code".into(),
        })?;
        if ctx.profile.login == LoginKind::GithubKontinuous {
            return self
                .kontinuous_login(ctx, code, &redirect.login.state)
                .await;
        }
        let s = &ctx.profile.settings;
        let base = github_base(ctx.server, ctx.profile.login, None);
        let secret = ctx
            .vault
            .get(SecretKey::new(ctx.profile.id, SecretSlot::ClientSecret))
            .await?;
        let mut client = BasicClient::new(ClientId::new(s.client_id.clone().unwrap_or_default()))
            // GitHub documents the client credentials as parameters.
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(
                TokenUrl::new(format!("{base}/login/oauth/access_token")).map_err(url_err)?,
            )
            .set_redirect_uri(
                RedirectUrl::new(redirect.login.redirect_uri.clone()).map_err(url_err)?,
            );
        if let Some(secret) = secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
        }
        let http = http_client(ctx.server)?;
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_string()));
        if let Some(v) = &redirect.login.pkce_verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(v.expose().to_string()));
        }
        let response = request
            .request_async(&http)
            .await
            .map_err(|e| token_error("GitHub's code exchange", e))?;
        self.issued(ctx, &base, &response).await
    }

    /// A GitHub token response as a stored token, with the user it belongs to.
    async fn issued(
        &self,
        ctx: &LoginContext<'_>,
        base: &str,
        response: &oauth2::basic::BasicTokenResponse,
    ) -> Result<IssuedToken> {
        let mut issued = issued_from_response(ctx.now, response);
        let token = response.access_token().secret();
        if let Ok((login, id)) = github_user(ctx.server, base, token).await {
            issued.summary.insert("login".into(), Value::String(login));
            issued.summary.insert("user_id".into(), json!(id));
        }
        Ok(issued)
    }

    /// §1.2: hands the code to Kontinuous, which trades it with GitHub and
    /// answers its JWT.
    async fn kontinuous_login(
        &self,
        ctx: &LoginContext<'_>,
        code: &str,
        state: &str,
    ) -> Result<IssuedToken> {
        let url = ctx.server.url.trim_end_matches('/').to_string();
        let known = self
            .login_paths
            .lock()
            .expect("paths lock")
            .get(&url)
            .copied();
        let paths: Vec<&'static str> = match known {
            Some(p) => vec![p],
            None => vec!["/login/github", "/api/v1/login/github"],
        };
        let client = crate::http::client_for(ctx.server)?;
        for path in paths {
            let endpoint = format!("{url}{path}");
            let request = client
                .post(&endpoint)
                .query(&[("code", code), ("state", state)])
                .header("Content-Type", "application/json");
            let crate::http::Answer { status, text, .. } =
                crate::http::send(ctx.server, request).await?;
            if status == 404 && known.is_none() {
                continue;
            }
            if status == 200 {
                self.login_paths
                    .lock()
                    .expect("paths lock")
                    .insert(url.clone(), path);
            }
            return kontinuous_answer(&endpoint, &url, status, &text, ctx.now);
        }
        Err(Error::ServerRefused {
            status: Some(404),
            field: None,
            message: format!(
                "{url} has neither /login/github nor /api/v1/login/github: is this the Kontinuous API URL?"
            ),
        })
    }

    /// §1.4: `GET /api/v1/pipelines` as the validity probe of a Kontinuous JWT.
    async fn kontinuous_probe(
        &self,
        ctx: &LoginContext<'_>,
        token: &Secret,
    ) -> Result<Vec<SummaryItem>> {
        kontinuous_pipelines(ctx, token).await
    }
}

/// Kontinuous' validity probe, `GET /api/v1/pipelines` with the JWT (its
/// `authenticate` and `requireAccessToken` filters), for GitHub and Auth0
/// logins alike.
pub(crate) async fn kontinuous_pipelines(
    ctx: &LoginContext<'_>,
    token: &Secret,
) -> Result<Vec<SummaryItem>> {
    let client = crate::http::client_for(ctx.server)?;
    let res = client
        .get(format!(
            "{}/api/v1/pipelines",
            ctx.server.url.trim_end_matches('/')
        ))
        .bearer_auth(token.expose())
        .header("Accept", "application/json")
        .send()
        .await?;
    let status = res.status().as_u16();
    let body = crate::http::read_body(ctx.server, res).await?;
    let text = String::from_utf8_lossy(&body);
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    match status {
        200 => Ok(vec![SummaryItem {
            name: "pipelines".into(),
            value: v.as_array().map_or(0, Vec::len).to_string(),
        }]),
        401 | 400 => Err(Error::LoginRequired(format!(
            "Kontinuous no longer accepts the token of '{}' ({}); log in again",
            ctx.profile.name,
            v.get("Message")
                .and_then(Value::as_str)
                .unwrap_or("unauthorized")
        ))),
        other => Err(Error::ServerRefused {
            status: Some(other),
            field: None,
            message: v
                .get("Message")
                .and_then(Value::as_str)
                .unwrap_or(text.trim())
                .to_string(),
        }),
    }
}

impl GitHub {
    async fn renew(&self, ctx: &RenewContext<'_>) -> std::result::Result<IssuedToken, RenewError> {
        let refresh = ctx
            .vault
            .get(SecretKey::new(ctx.profile.id, SecretSlot::RefreshToken))
            .await
            .map_err(|e| RenewError::Transient(e.to_string()))?
            .ok_or_else(|| {
                RenewError::NeedsUser("this GitHub token cannot be refreshed: log in again".into())
            })?;
        let s = &ctx.profile.settings;
        let base = github_base(ctx.server, ctx.profile.login, None);
        let fail = |e: Error| {
            if oauth::is_invalid_grant(&e) {
                RenewError::Refused(e.to_string())
            } else {
                RenewError::retry(e)
            }
        };
        let mut client = BasicClient::new(ClientId::new(s.client_id.clone().unwrap_or_default()))
            // GitHub documents the client credentials as parameters.
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(
                TokenUrl::new(format!("{base}/login/oauth/access_token"))
                    .map_err(|e| RenewError::NeedsUser(e.to_string()))?,
            );
        if let Some(secret) = ctx
            .vault
            .get(SecretKey::new(ctx.profile.id, SecretSlot::ClientSecret))
            .await
            .map_err(|e| RenewError::Transient(e.to_string()))?
        {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
        }
        let http = http_client(ctx.server).map_err(fail)?;
        let response = client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_string()))
            .request_async(&http)
            .await
            .map_err(|e| fail(token_error("GitHub's refresh", e)))?;
        // Both old tokens are dead now (§1.7.3): the new ones go to the
        // keyring before anything else happens, so no request to ask whose
        // token it is (the renewal keeps what the old token said).
        Ok(issued_from_response(ctx.now, &response))
    }
}

/// Kontinuous' answer to `POST {url}/login/github` (§1.2) at `endpoint`: its
/// JWT, or its refusal in words that say what to do.
pub(crate) fn kontinuous_answer(
    endpoint: &str,
    url: &str,
    status: u16,
    text: &str,
    now: time::OffsetDateTime,
) -> Result<IssuedToken> {
    if status != 200 {
        let own_words = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("Message").and_then(Value::as_str).map(str::to_string));
        let Some(message) = own_words else {
            // A proxy's page, or a crashed server's: not Kontinuous'.
            return Err(crate::http::not_an_answer(endpoint, status, text));
        };
        let hint = if message == "Access Token is empty" {
            "; GitHub refused the code (used or expired): log in again"
        } else {
            ""
        };
        return Err(Error::ServerRefused {
            status: Some(status),
            field: None,
            message: format!("Kontinuous refused the login: {message}{hint}"),
        });
    }
    let v: Value = serde_json::from_str(text).map_err(|e| Error::ServerRefused {
        status: Some(200),
        field: None,
        message: crate::http::not_json(endpoint, "Kontinuous' login answer", &e),
    })?;
    let jwt = v
        .get("jwt")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or_else(|| Error::ServerRefused {
            status: Some(200),
            field: None,
            message: format!(
                "Kontinuous ({url}) answered the login without a jwt; try again, and if it keeps happening check that the server's URL is the Kontinuous API"
            ),
        })?;
    // §1.3: no exp; the GitHub token inside makes it a secret.
    let mut issued = IssuedToken::from_token(TokenKind::Access, Secret::new(jwt), now, None);
    if let Some(user) = v.get("user_id").and_then(Value::as_str) {
        issued
            .summary
            .insert("user_id".into(), Value::String(user.into()));
    }
    Ok(issued)
}

/// A GitHub token response as a stored token, as it came.
pub(crate) fn issued_from_response(
    now: time::OffsetDateTime,
    response: &oauth2::basic::BasicTokenResponse,
) -> IssuedToken {
    let expires_at = response
        .expires_in()
        .and_then(|d| crate::tokens::expiry_after_std(now, d));
    let mut issued = IssuedToken::from_token(
        TokenKind::Access,
        Secret::new(response.access_token().secret().clone()),
        now,
        expires_at,
    );
    issued.expires_at = expires_at;
    issued.refresh = response
        .refresh_token()
        .map(|r| Secret::new(r.secret().clone()));
    if let Some(scopes) = response.scopes() {
        issued.scopes = scopes.iter().map(|s| s.to_string()).collect();
    }
    issued
}

/// `GET /user`: the login and id the token belongs to.
async fn github_user(server: &Server, base: &str, token: &str) -> Result<(String, u64)> {
    let client = crate::http::client_for(server)?;
    let res = client
        .get(format!("{}/user", api_base(base)))
        .bearer_auth(token)
        .header("Accept", "application/vnd.github+json")
        .send()
        .await?;
    let body = crate::http::read_body(server, res).await?;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok((
        v.get("login")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        v.get("id").and_then(Value::as_u64).unwrap_or_default(),
    ))
}

/// §1.7.5: `DELETE /applications/{client_id}/token` with the client's
/// credentials; only possible with a client secret configured.
async fn revoke(ctx: &LoginContext<'_>) -> Result<super::LogoutDone> {
    if ctx.profile.login == LoginKind::GithubKontinuous {
        // The JWT cannot be revoked (§1.3); the GitHub token inside belongs to
        // Kontinuous' OAuth app, whose secret Latchkey does not have.
        return Ok(super::LogoutDone::default());
    }
    let Some(secret) = ctx
        .vault
        .get(SecretKey::new(ctx.profile.id, SecretSlot::ClientSecret))
        .await?
    else {
        return Ok(super::LogoutDone::default());
    };
    let Some(token) = ctx
        .vault
        .get(SecretKey::new(ctx.profile.id, SecretSlot::AccessToken))
        .await?
    else {
        return Ok(super::LogoutDone::default());
    };
    let client_id = ctx.profile.settings.client_id.clone().unwrap_or_default();
    let base = github_base(ctx.server, ctx.profile.login, None);
    let res = crate::http::client_for(ctx.server)?
        .delete(format!(
            "{}/applications/{client_id}/token",
            api_base(&base)
        ))
        .basic_auth(&client_id, Some(secret.expose()))
        .header("Accept", "application/vnd.github+json")
        .json(&json!({"access_token": token.expose()}))
        .send()
        .await?;
    match res.status().as_u16() {
        204 | 404 => Ok(super::LogoutDone {
            revoked: true,
            end_session_url: None,
            note: None,
        }),
        status => Err(Error::ServerRefused {
            status: Some(status),
            field: None,
            message: crate::http::read_body(ctx.server, res)
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| format!("GitHub answered {status}")),
        }),
    }
}

impl Provider for GitHub {
    fn begin<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        _input: &'a LoginInput,
    ) -> BoxFuture<'a, Result<Begun>> {
        Box::pin(async move {
            match ctx.profile.login {
                LoginKind::GithubDevice => self.begin_device(&ctx).await,
                _ => self.begin_web(&ctx).await,
            }
        })
    }

    fn finish<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        redirect: &'a AcceptedRedirect,
    ) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async move { self.finish_web(&ctx, redirect).await })
    }

    fn logout<'a>(&'a self, ctx: LoginContext<'a>) -> BoxFuture<'a, Result<super::LogoutDone>> {
        Box::pin(async move { revoke(&ctx).await })
    }

    fn poll_device<'a>(&'a self, ctx: LoginContext<'a>) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async move { self.poll_device(&ctx).await })
    }

    fn token_info<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        token: &'a Secret,
    ) -> BoxFuture<'a, Result<Vec<SummaryItem>>> {
        Box::pin(async move {
            match ctx.profile.login {
                LoginKind::GithubKontinuous => self.kontinuous_probe(&ctx, token).await,
                _ => {
                    let base = github_base(ctx.server, ctx.profile.login, None);
                    let server = github_server(ctx.server, &base, ctx.profile.login);
                    let (login, id) = github_user(&server, &base, token.expose()).await?;
                    if login.is_empty() {
                        return Err(Error::LoginRequired(format!(
                            "GitHub no longer accepts the token of '{}': log in again",
                            ctx.profile.name
                        )));
                    }
                    Ok(vec![
                        SummaryItem {
                            name: "login".into(),
                            value: login,
                        },
                        SummaryItem {
                            name: "id".into(),
                            value: id.to_string(),
                        },
                    ])
                }
            }
        })
    }
}

impl Renewer for GitHub {
    fn renew<'a>(
        &'a self,
        ctx: RenewContext<'a>,
    ) -> BoxFuture<'a, std::result::Result<IssuedToken, RenewError>> {
        Box::pin(async move { self.renew(&ctx).await })
    }
}
