//! Any OpenID Connect provider by issuer URL, and Auth0 (an OpenID provider
//! with an `audience` parameter and `offline_access` for refresh tokens):
//! discovery, authorization code with PKCE S256 and a nonce, the ID token
//! validated against the provider's JWKS (fetched again once when its `kid`
//! is unknown, as after a key rotation), the RFC 9207 `iss` check, refresh
//! with rotation, RFC 7009 revocation, and the RFC 8628 device flow for
//! profiles whose redirect is `device` when the provider advertises it. All
//! through the `openidconnect` crate.

use super::{Begun, KindEntry, LoginContext, LoginInput, Provider};
use super::{BoxFuture, RenewContext, RenewError, Renewer};
use crate::error::{Error, Result};
use crate::flows::AcceptedRedirect;
use crate::model::{
    LoginKind, LoginPrompt, LoginSpec, SecretSpec, Server, ServerKind, SettingField,
};
use crate::oauth::{self, http_client, token_error};
use crate::tokens::{IssuedToken, RenewalPolicy, TokenKind};
use crate::vault::{ProfileVault, Secret, SecretKey, SecretSlot};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreDeviceAuthorizationResponse, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AccessTokenHash, AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, DeviceAuthorizationUrl, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, RefreshToken, RevocationUrl, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// What discovery says beyond the core fields.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Extra {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_session_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_authorization_endpoint: Option<String>,
}

impl AdditionalProviderMetadata for Extra {}

pub(crate) type Metadata = ProviderMetadata<
    Extra,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The provider; it remembers each issuer's discovery document and keys.
#[derive(Default)]
pub struct Oidc {
    discovered: Mutex<HashMap<String, Metadata>>,
    /// Device logins waiting for the user, by profile.
    devices: crate::oauth::WaitingDevices,
}

/// The token response of the code and the device grants.
pub(crate) type CoreTokens = openidconnect::core::CoreTokenResponse;

/// An OpenID Connect kind's line in the kind registry: generic OIDC on OIDC
/// servers, Auth0 on Auth0 servers and on the APIs that take its tokens
/// (Kontinuous); both renewed with the refresh token before expiry.
pub const fn entry(login: LoginKind) -> KindEntry {
    let servers: &'static [ServerKind] = match login {
        LoginKind::Auth0 => &[ServerKind::Kontinuous, ServerKind::Auth0],
        _ => &[ServerKind::Oidc],
    };
    KindEntry {
        provider: Some(|_| Arc::new(Oidc::default())),
        renewer: Some(|_| Arc::new(Oidc::default())),
        renewal: RenewalPolicy::Before(Duration::minutes(5)),
        ..KindEntry::new(login, servers, spec)
    }
}

/// What each OpenID Connect login kind asks of the user (its descriptor).
pub fn spec(login: LoginKind) -> LoginSpec {
    use SettingField::*;
    let optional: &'static [SettingField] = match login {
        // Issuer: the Auth0 tenant, when the server is an API that takes its
        // tokens (Kontinuous) rather than Auth0.
        LoginKind::Auth0 => &[Issuer, Audience, Scopes, Redirect, RedirectUri, Registry],
        _ => &[Issuer, Scopes, Redirect, RedirectUri, Registry],
    };
    LoginSpec::new(
        login,
        LoginPrompt::Browser,
        &[ClientId],
        optional,
        SecretSpec::optional("Client secret", SecretSlot::ClientSecret),
    )
}

/// The issuer of a profile: its setting, else the server's URL. Auth0
/// issuers end with a slash.
fn issuer_of(ctx_server: &Server, issuer: Option<&str>, login: LoginKind) -> String {
    let base = issuer.unwrap_or(&ctx_server.url).trim().to_string();
    if login == LoginKind::Auth0 && !base.ends_with('/') {
        format!("{base}/")
    } else {
        base
    }
}

fn scopes_of(settings: &crate::model::ProfileSettings, login: LoginKind) -> Vec<String> {
    if !settings.scopes.is_empty() {
        return settings.scopes.clone();
    }
    let mut s = vec!["openid".to_string(), "profile".into(), "email".into()];
    if login == LoginKind::Auth0 {
        s.push("offline_access".into());
    }
    s
}

async fn client_secret(vault: ProfileVault<'_>, profile_id: i64) -> Result<Option<ClientSecret>> {
    Ok(vault
        .get(SecretKey::new(profile_id, SecretSlot::ClientSecret))
        .await?
        .map(|s| ClientSecret::new(s.expose().to_string())))
}

impl Oidc {
    async fn metadata(&self, server: &Server, issuer: &str, fresh: bool) -> Result<Metadata> {
        if !fresh {
            if let Some(m) = self.discovered.lock().expect("oidc lock").get(issuer) {
                return Ok(m.clone());
            }
        }
        let url = IssuerUrl::new(issuer.to_string()).map_err(|e| {
            Error::invalid("issuer", format!("the issuer {issuer} is not a URL: {e}"))
        })?;
        let http = http_client(server)?;
        let meta = Metadata::discover_async(url, &http)
            .await
            .map_err(|e| match e {
                // The network's or the server's trouble, already in words.
                openidconnect::DiscoveryError::Request(oauth::Transport(inner)) => inner,
                openidconnect::DiscoveryError::Parse(p) => {
                    let how = if p.inner().is_eof() {
                        "it is cut short"
                    } else if p.inner().is_data() {
                        "it is not a discovery document"
                    } else {
                        "it is not JSON"
                    };
                    Error::ServerRefused {
                        status: None,
                        field: Some("issuer"),
                        message: format!(
                            "OpenID discovery at {issuer}: the answer is not what OpenID discovery expects ({how}: {p}); check the issuer URL, or try again later"
                        ),
                    }
                }
                other => {
                    let mut detail = other.to_string();
                    let mut source = std::error::Error::source(&other);
                    while let Some(s) = source {
                        detail = format!("{detail}: {s}");
                        source = s.source();
                    }
                    Error::ServerRefused {
                        status: None,
                        field: Some("issuer"),
                        message: format!(
                            "OpenID discovery at {issuer} failed: {detail}; check the issuer URL, or try again later"
                        ),
                    }
                }
            })?;
        self.discovered
            .lock()
            .expect("oidc lock")
            .insert(issuer.to_string(), meta.clone());
        Ok(meta)
    }

    async fn begin(&self, ctx: &LoginContext<'_>) -> Result<Begun> {
        let s = &ctx.profile.settings;
        if ctx.server.kind == ServerKind::Kontinuous && s.issuer.is_none() {
            return Err(Error::invalid(
                "issuer",
                format!(
                    "'{}' logs in to Kontinuous through Auth0: set its issuer to the Auth0 tenant, e.g. https://example.eu.auth0.com/",
                    ctx.profile.name
                ),
            ));
        }
        let client_id = s.client_id.clone().unwrap_or_default();
        let issuer = issuer_of(ctx.server, s.issuer.as_deref(), ctx.profile.login);
        let meta = self.metadata(ctx.server, &issuer, false).await?;
        if s.redirect == Some(crate::model::RedirectMode::Device) {
            return self.begin_device(ctx, meta, &issuer).await;
        }
        let redirect_uri = ctx
            .redirect_uri
            .ok_or_else(|| Error::Internal("a browser login without a redirect URI".into()))?
            .to_string();
        let expected_issuer = meta.issuer().as_str().to_string();
        let client = CoreClient::from_provider_metadata(meta, ClientId::new(client_id), None)
            .set_redirect_uri(
                RedirectUrl::new(redirect_uri.clone())
                    .map_err(|e| Error::invalid("redirect_uri", format!("not a URL: {e}")))?,
            );
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = Nonce::new_random();
        let state = ctx.redirects.begin(
            ctx.profile.id,
            &redirect_uri,
            ctx.redirects.login_wait(),
            Some(Secret::new(verifier.secret().clone())),
            Some(nonce.secret().clone()),
        );
        // RFC 9207: a redirect naming another issuer is refused before it
        // can spend this login (see `flows`).
        ctx.redirects.expect_issuer(&state, &expected_issuer);
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || nonce,
            )
            .set_pkce_challenge(challenge);
        for scope in scopes_of(s, ctx.profile.login) {
            if scope != "openid" {
                request = request.add_scope(Scope::new(scope));
            }
        }
        if let Some(aud) = s.audience.as_deref().filter(|a| !a.is_empty()) {
            request = request.add_extra_param("audience", aud.to_string());
        }
        let (url, _, _) = request.url();
        Ok(Begun::Browser {
            url: url.to_string(),
            redirect_uri,
        })
    }

    /// RFC 8628: asks for a device code; the user types it at the
    /// provider's page while [`Oidc::poll_device`] waits.
    async fn begin_device(
        &self,
        ctx: &LoginContext<'_>,
        meta: Metadata,
        issuer: &str,
    ) -> Result<Begun> {
        let s = &ctx.profile.settings;
        let Some(endpoint) = meta
            .additional_metadata()
            .device_authorization_endpoint
            .clone()
        else {
            return Err(Error::invalid(
                "redirect",
                format!(
                    "{issuer} does not offer device-code logins (no device_authorization_endpoint in its discovery document); set the redirect to loopback or deep link"
                ),
            ));
        };
        let secret = client_secret(ctx.vault, ctx.profile.id).await?;
        let client = CoreClient::from_provider_metadata(
            meta,
            ClientId::new(s.client_id.clone().unwrap_or_default()),
            secret,
        )
        .set_device_authorization_url(DeviceAuthorizationUrl::new(endpoint).map_err(|e| {
            Error::invalid("issuer", format!("the device endpoint is not a URL: {e}"))
        })?);
        let mut request = client.exchange_device_code();
        for scope in scopes_of(s, ctx.profile.login) {
            if scope != "openid" {
                request = request.add_scope(Scope::new(scope));
            }
        }
        if let Some(aud) = s.audience.as_deref().filter(|a| !a.is_empty()) {
            request = request.add_extra_param("audience", aud.to_string());
        }
        let http = http_client(ctx.server)?;
        let details: CoreDeviceAuthorizationResponse = request
            .request_async(&http)
            .await
            .map_err(|e| token_error("the device login", e))?;
        Ok(self.devices.park(ctx, details))
    }

    /// Polls the token endpoint until the device login is approved, denied
    /// or expired (the `oauth2` crate honours `interval` and `slow_down`).
    async fn poll_device(&self, ctx: &LoginContext<'_>) -> Result<IssuedToken> {
        let details = self.devices.take(ctx.profile.id)?;
        let s = &ctx.profile.settings;
        let issuer = issuer_of(ctx.server, s.issuer.as_deref(), ctx.profile.login);
        let meta = self.metadata(ctx.server, &issuer, false).await?;
        let secret = client_secret(ctx.vault, ctx.profile.id).await?;
        let client = CoreClient::from_provider_metadata(
            meta.clone(),
            ClientId::new(s.client_id.clone().unwrap_or_default()),
            secret,
        );
        let http = http_client(ctx.server)?;
        let response = client
            .exchange_device_access_token(&details)
            .map_err(|e| Error::ServerRefused {
                status: None,
                field: None,
                message: format!("the provider has no token endpoint: {e}"),
            })?
            .request_async(&http, tokio::time::sleep, Some(details.expires_in()))
            .await
            .map_err(|e| token_error("the device login", e))?;
        // No nonce in the device grant: the ID token is checked for
        // signature, issuer, audience and time.
        self.issued_checked(ctx, &meta, &issuer, &response, None)
            .await
    }

    async fn finish(
        &self,
        ctx: &LoginContext<'_>,
        redirect: &AcceptedRedirect,
    ) -> Result<IssuedToken> {
        let s = &ctx.profile.settings;
        let issuer = issuer_of(ctx.server, s.issuer.as_deref(), ctx.profile.login);
        let meta = self.metadata(ctx.server, &issuer, false).await?;
        // RFC 9207: when the provider names itself, it must be ours (a
        // mix-up attack sends another provider's code here).
        if let Some(iss) = redirect.param("iss") {
            if iss != meta.issuer().as_str() {
                return Err(Error::ServerRefused {
                    status: None,
                    field: None,
                    message: format!(
                        "the redirect says it comes from {iss}, not from {}; nothing was stored",
                        meta.issuer().as_str()
                    ),
                });
            }
        }
        let code = redirect.param("code").ok_or_else(|| Error::ServerRefused {
            status: None,
            field: None,
            message: "the browser came back without a code".into(),
        })?;
        let verifier = redirect
            .login
            .pkce_verifier
            .as_ref()
            .map(|v| PkceCodeVerifier::new(v.expose().to_string()))
            .ok_or_else(|| Error::Internal("a login without its PKCE verifier".into()))?;
        let nonce = Nonce::new(redirect.login.nonce.clone().unwrap_or_default());
        let secret = client_secret(ctx.vault, ctx.profile.id).await?;
        let client = CoreClient::from_provider_metadata(
            meta.clone(),
            ClientId::new(s.client_id.clone().unwrap_or_default()),
            secret,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect.login.redirect_uri.clone())
                .map_err(|e| Error::Internal(e.to_string()))?,
        );
        let http = http_client(ctx.server)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| Error::ServerRefused {
                status: None,
                field: None,
                message: format!("the provider has no token endpoint: {e}"),
            })?
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .map_err(|e| token_error("the code exchange", e))?;
        self.issued_checked(ctx, &meta, &issuer, &response, Some(&nonce))
            .await
    }

    /// The tokens of a code or device grant, once the ID token (if any) is
    /// valid: signature against the JWKS (fetched again once for an unknown
    /// key), issuer, audience, expiry, `at_hash`, and the nonce when one was
    /// sent.
    async fn issued_checked(
        &self,
        ctx: &LoginContext<'_>,
        meta: &Metadata,
        issuer: &str,
        response: &CoreTokens,
        nonce: Option<&Nonce>,
    ) -> Result<IssuedToken> {
        let s = &ctx.profile.settings;
        let mut summary = serde_json::Map::new();
        let id_token = response.id_token().cloned();
        // An HS256 ID token (an Auth0 application's choice) is signed with
        // the client secret; the verifier needs it for that, and only that.
        let secret = client_secret(ctx.vault, ctx.profile.id).await?;
        if let Some(id) = &id_token {
            let now = ctx.now;
            let check =
                |m: &Metadata| -> std::result::Result<serde_json::Map<String, Value>, String> {
                    let c = CoreClient::from_provider_metadata(
                        m.clone(),
                        ClientId::new(s.client_id.clone().unwrap_or_default()),
                        secret.clone(),
                    );
                    let verifier = c.id_token_verifier().set_time_fn(move || chrono_from(now));
                    let claims = match nonce {
                        Some(nonce) => id.claims(&verifier, nonce),
                        None => id.claims(&verifier, |_: Option<&Nonce>| Ok(())),
                    }
                    .map_err(|e| e.to_string())?;
                    if let Some(expected) = claims.access_token_hash() {
                        let alg = id.signing_alg().map_err(|e| e.to_string())?;
                        let key = id.signing_key(&verifier).map_err(|e| e.to_string())?;
                        let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
                            .map_err(|e| e.to_string())?;
                        if &actual != expected {
                            return Err(
                                "the ID token's at_hash does not match the access token".into()
                            );
                        }
                    }
                    let v = serde_json::to_value(claims).map_err(|e| e.to_string())?;
                    Ok(v.as_object().cloned().unwrap_or_default())
                };
            let claims = match check(meta) {
                Ok(c) => c,
                // An unknown key: the provider may have rotated; fetch its
                // keys once more before refusing.
                Err(e) if e.contains("Signature") || e.contains("key") => {
                    let fresh = self.metadata(ctx.server, issuer, true).await?;
                    check(&fresh).map_err(|e| Error::ServerRefused {
                        status: None,
                        field: None,
                        message: format!("the ID token is not valid: {e}; nothing was stored"),
                    })?
                }
                Err(e) => {
                    return Err(Error::ServerRefused {
                        status: None,
                        field: None,
                        message: format!("the ID token is not valid: {e}; nothing was stored"),
                    })
                }
            };
            for name in ["sub", "email", "name", "preferred_username"] {
                if let Some(v) = claims.get(name) {
                    summary.insert(name.into(), v.clone());
                }
            }
        }
        if ctx.server.kind == ServerKind::Kontinuous {
            let id = id_token.ok_or_else(|| Error::ServerRefused {
                status: None,
                field: Some("scopes"),
                message: "Auth0 sent no ID token, which is what Kontinuous takes: keep openid in the scopes".into(),
            })?;
            return Ok(kontinuous_jwt(
                ctx.now,
                id.to_string(),
                response.refresh_token().map(|r| r.secret().clone()),
                summary,
            ));
        }
        Ok(issued_from(
            ctx.now,
            response.access_token().secret(),
            response.expires_in(),
            response.refresh_token().map(|r| r.secret().clone()),
            id_token.map(|t| t.to_string()),
            response
                .scopes()
                .map(|s| s.iter().map(|x| x.to_string()).collect())
                .unwrap_or_default(),
            summary,
        ))
    }

    async fn renew(&self, ctx: &RenewContext<'_>) -> std::result::Result<IssuedToken, RenewError> {
        let refresh = ctx
            .vault
            .get(SecretKey::new(ctx.profile.id, SecretSlot::RefreshToken))
            .await
            .map_err(|e| RenewError::Transient(e.to_string()))?
            .ok_or_else(|| {
                RenewError::NeedsUser(
                    "no refresh token (ask for offline_access or log in again)".into(),
                )
            })?;
        let s = &ctx.profile.settings;
        let issuer = issuer_of(ctx.server, s.issuer.as_deref(), ctx.profile.login);
        let transient = |e: Error| match e {
            Error::ServerRefused { .. } if !oauth::is_invalid_grant(&e) => {
                RenewError::Transient(e.to_string())
            }
            Error::ServerRefused { .. } => RenewError::Refused(e.to_string()),
            other => RenewError::retry(other),
        };
        let meta = self
            .metadata(ctx.server, &issuer, false)
            .await
            .map_err(transient)?;
        let secret = client_secret(ctx.vault, ctx.profile.id)
            .await
            .map_err(transient)?;
        let client = CoreClient::from_provider_metadata(
            meta,
            ClientId::new(s.client_id.clone().unwrap_or_default()),
            secret,
        );
        let http = http_client(ctx.server).map_err(transient)?;
        let refresh_token = RefreshToken::new(refresh.expose().to_string());
        let response = client
            .exchange_refresh_token(&refresh_token)
            .map_err(|e| RenewError::NeedsUser(format!("the provider has no token endpoint: {e}")))?
            .request_async(&http)
            .await
            .map_err(|e| transient(token_error("the refresh", e)))?;
        if ctx.server.kind == ServerKind::Kontinuous {
            let id = response.id_token().ok_or_else(|| {
                RenewError::NeedsUser(
                    "Auth0 renewed without a new ID token, which is what Kontinuous takes: log in again".into(),
                )
            })?;
            let mut summary = serde_json::Map::new();
            if let Some(sub) = s.username.clone() {
                summary.insert("sub".into(), Value::String(sub));
            }
            return Ok(kontinuous_jwt(
                ctx.now,
                id.to_string(),
                response.refresh_token().map(|r| r.secret().clone()),
                summary,
            ));
        }
        let mut issued = issued_from(
            ctx.now,
            response.access_token().secret(),
            response.expires_in(),
            response.refresh_token().map(|r| r.secret().clone()),
            response.id_token().map(|t| t.to_string()),
            Vec::new(),
            serde_json::Map::new(),
        );
        // Keep the claims shown for the user when the refresh has no ID token.
        if issued.summary.get("sub").is_none() {
            if let Some(sub) = s.username.clone() {
                issued.summary.insert("sub".into(), Value::String(sub));
            }
        }
        Ok(issued)
    }

    /// RFC 7009: revokes the refresh token (which ends the grant) and the
    /// access token where the provider advertises revocation. Returns what
    /// was done, for the message.
    pub async fn revoke(&self, ctx: &LoginContext<'_>) -> Result<bool> {
        let s = &ctx.profile.settings;
        let issuer = issuer_of(ctx.server, s.issuer.as_deref(), ctx.profile.login);
        let meta = self.metadata(ctx.server, &issuer, false).await?;
        let Some(endpoint) = meta.additional_metadata().revocation_endpoint.clone() else {
            return Ok(false);
        };
        let secret = client_secret(ctx.vault, ctx.profile.id).await?;
        let client = CoreClient::from_provider_metadata(
            meta,
            ClientId::new(s.client_id.clone().unwrap_or_default()),
            secret,
        )
        .set_revocation_url(
            RevocationUrl::new(endpoint).map_err(|e| Error::Internal(e.to_string()))?,
        );
        let http = http_client(ctx.server)?;
        let mut any = false;
        for slot in [SecretSlot::RefreshToken, SecretSlot::AccessToken] {
            let Some(token) = ctx.vault.get(SecretKey::new(ctx.profile.id, slot)).await? else {
                continue;
            };
            let revocable = match slot {
                SecretSlot::RefreshToken => RefreshToken::new(token.expose().to_string()).into(),
                _ => openidconnect::AccessToken::new(token.expose().to_string()).into(),
            };
            client
                .revoke_token(revocable)
                .map_err(|e| Error::Internal(e.to_string()))?
                .request_async(&http)
                .await
                .map_err(|e| token_error("revocation", e))?;
            any = true;
        }
        Ok(any)
    }
}

/// What an Auth0 login for Kontinuous stores (protocols §1.5): the ID token
/// is the credential Kontinuous checks (HMAC with its `AUTH_SECRET`, `exp`),
/// so it is the primary token, expiring with its `exp`; the refresh token
/// renews it.
fn kontinuous_jwt(
    now: OffsetDateTime,
    id_token: String,
    refresh: Option<String>,
    summary: serde_json::Map<String, Value>,
) -> IssuedToken {
    let mut issued = IssuedToken::from_token(TokenKind::Access, Secret::new(id_token), now, None);
    issued.refresh = refresh.map(Secret::new);
    for (k, v) in summary {
        issued.summary.insert(k, v);
    }
    issued
}

/// `time` → `chrono` for the verifier's clock.
fn chrono_from(t: OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_default()
}

pub(crate) fn issued_from(
    now: OffsetDateTime,
    access: &str,
    expires_in: Option<std::time::Duration>,
    refresh: Option<String>,
    id_token: Option<String>,
    scopes: Vec<String>,
    summary: serde_json::Map<String, Value>,
) -> IssuedToken {
    let expires_at = expires_in.and_then(|d| crate::tokens::expiry_after_std(now, d));
    let mut issued =
        IssuedToken::from_token(TokenKind::Access, Secret::new(access), now, expires_at);
    if expires_at.is_some() {
        issued.expires_at = expires_at;
    }
    issued.refresh = refresh.map(Secret::new);
    issued.id_token = id_token.map(Secret::new);
    if !scopes.is_empty() {
        issued.scopes = scopes;
    }
    for (k, v) in summary {
        issued.summary.insert(k, v);
    }
    issued
}

impl Provider for Oidc {
    fn begin<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        _input: &'a LoginInput,
    ) -> BoxFuture<'a, Result<Begun>> {
        Box::pin(async move { self.begin(&ctx).await })
    }

    fn finish<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        redirect: &'a AcceptedRedirect,
    ) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async move { self.finish(&ctx, redirect).await })
    }

    fn logout<'a>(&'a self, ctx: LoginContext<'a>) -> BoxFuture<'a, Result<super::LogoutDone>> {
        Box::pin(async move { self.logout(&ctx).await })
    }

    fn poll_device<'a>(&'a self, ctx: LoginContext<'a>) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async move { self.poll_device(&ctx).await })
    }

    /// On Kontinuous, whether it still takes the token; elsewhere nothing
    /// beyond what the ID token said.
    fn token_info<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        token: &'a Secret,
    ) -> BoxFuture<'a, Result<Vec<crate::model::SummaryItem>>> {
        Box::pin(async move {
            if ctx.server.kind == ServerKind::Kontinuous {
                super::github::kontinuous_pipelines(&ctx, token).await
            } else {
                Ok(Vec::new())
            }
        })
    }
}

impl Oidc {
    async fn logout(&self, ctx: &LoginContext<'_>) -> Result<super::LogoutDone> {
        let revoked = self.revoke(ctx).await?;
        let s = &ctx.profile.settings;
        let issuer = issuer_of(ctx.server, s.issuer.as_deref(), ctx.profile.login);
        let meta = self.metadata(ctx.server, &issuer, false).await?;
        let end_session_url = meta
            .additional_metadata()
            .end_session_endpoint
            .as_deref()
            .and_then(|e| url::Url::parse(e).ok())
            .map(|mut u| {
                {
                    let mut q = u.query_pairs_mut();
                    q.append_pair("client_id", s.client_id.as_deref().unwrap_or_default());
                }
                u
            });
        let end_session_url = match end_session_url {
            Some(mut u) => {
                if let Some(id) = ctx
                    .vault
                    .get(SecretKey::new(ctx.profile.id, SecretSlot::IdToken))
                    .await?
                {
                    u.query_pairs_mut()
                        .append_pair("id_token_hint", id.expose());
                }
                Some(u.to_string())
            }
            None => None,
        };
        Ok(super::LogoutDone {
            revoked,
            end_session_url,
            note: None,
        })
    }
}

impl Renewer for Oidc {
    fn renew<'a>(
        &'a self,
        ctx: RenewContext<'a>,
    ) -> BoxFuture<'a, std::result::Result<IssuedToken, RenewError>> {
        Box::pin(async move { self.renew(&ctx).await })
    }
}
