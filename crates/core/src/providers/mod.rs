//! One file per login kind, each implementing [`Provider`]: what a login asks
//! of the user, how it ends in a token, and (through
//! [`crate::renewal::Renewer`]) how the token is renewed. [`Latchkey::login`]
//! drives them; the hosts only show what a [`LoginStep`] asks for.

pub mod avassa;
pub mod dci;
pub mod github;
pub mod oidc;
pub mod quay;

use crate::error::{Error, Result};
use crate::flows::DEEP_LINK_CALLBACK;
use crate::flows::{AcceptedRedirect, RedirectHub};
use crate::model::{LoginKind, LoginPrompt, Profile, RedirectMode, Server};
use crate::renewal::BoxFuture;
use crate::service::{Latchkey, SummaryItem};
use crate::tokens::{self as tok, IssuedToken};
use crate::vault::{Secret, SecretKey, SecretSlot, Vault};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// What the user typed to log in; all optional, the login kind decides.
#[derive(Debug, Clone, Default)]
pub struct LoginInput {
    pub password: Option<Secret>,
    /// Keep the password in the keyring for silent re-login.
    pub remember_password: bool,
    pub otp: Option<String>,
    /// The host receives `latchkey://` redirects (the app does, the CLI
    /// does not): browser logins may come back by deep link.
    pub deep_link: bool,
}

/// What a provider did at the server on logout.
#[derive(Debug, Clone, Default)]
pub struct LogoutDone {
    /// The server revoked the tokens.
    pub revoked: bool,
    /// The provider's end-session page, to open in the browser.
    pub end_session_url: Option<String>,
    /// What the user should know besides (Quay: signing out ends every
    /// session; a token Latchkey could not revoke stays valid).
    pub note: Option<String>,
}

/// What logout did, for the user.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct LogoutReport {
    pub message: String,
    /// The server revoked the tokens; otherwise they were only forgotten
    /// here and a copy made elsewhere stays valid until it expires.
    pub revoked: bool,
    /// Open this in the browser to end the provider's own session.
    pub end_session_url: Option<String>,
}

/// How a browser or device login ended, announced on
/// [`Latchkey::login_outcomes`].
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct LoginOutcome {
    pub profile_id: i64,
    pub profile: String,
    pub tenant: Option<String>,
    pub accepted: bool,
    pub message: String,
}

/// Where a login stands after a call.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum LoginStep {
    /// Logged in; the token is stored.
    Done {
        profile: String,
        tenant: Option<String>,
        expires_at: Option<String>,
    },
    /// The server wants a one-time code: call [`Latchkey::submit_otp`].
    NeedsOtp {
        profile: String,
        tenant: Option<String>,
        message: String,
    },
    /// The login continues in the system browser at `url`; it ends when the
    /// redirect comes back ([`Latchkey::finish_redirect`]).
    Browser {
        profile: String,
        tenant: Option<String>,
        url: String,
        /// Where the browser comes back to: the URI to register with the
        /// provider when it wants it exact.
        redirect_uri: String,
    },
    /// Device flow: the user types `user_code` at `verification_uri` (opened
    /// in the browser); Latchkey polls until approved, denied or expired.
    Device {
        profile: String,
        tenant: Option<String>,
        user_code: String,
        verification_uri: String,
        expires_at: String,
    },
}

/// What a provider may use for one login.
pub struct LoginContext<'a> {
    pub profile: &'a Profile,
    pub server: &'a Server,
    pub tenant: Option<&'a str>,
    pub vault: &'a Vault,
    pub redirects: &'a RedirectHub,
    /// For browser logins: where the browser must come back to (a deep link
    /// or this login's loopback listener).
    pub redirect_uri: Option<&'a str>,
    pub now: OffsetDateTime,
}

/// What a provider's first step produced.
pub enum Begun {
    Issued(IssuedToken),
    NeedsOtp(String),
    /// Open this URL in the browser; the provider registered the login with
    /// the redirect hub for `redirect_uri`.
    Browser {
        url: String,
        redirect_uri: String,
    },
    /// Show the code and open the page; then [`Provider::poll_device`].
    Device {
        user_code: String,
        verification_uri: String,
        expires_at: OffsetDateTime,
    },
}

/// A login kind's protocol.
pub trait Provider: Send + Sync {
    fn begin<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        input: &'a LoginInput,
    ) -> BoxFuture<'a, Result<Begun>>;

    /// Ends a browser login with the redirect that came back for it.
    fn finish<'a>(
        &'a self,
        _ctx: LoginContext<'a>,
        _redirect: &'a AcceptedRedirect,
    ) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async {
            Err(Error::Internal(
                "this login kind has no browser step".into(),
            ))
        })
    }

    /// Ends the session at the server where it can (revocation); the tokens
    /// are then forgotten locally whatever this returns.
    fn logout<'a>(&'a self, _ctx: LoginContext<'a>) -> BoxFuture<'a, Result<LogoutDone>> {
        Box::pin(async { Ok(LogoutDone::default()) })
    }

    /// Polls a device login this provider began until it ends.
    fn poll_device<'a>(&'a self, _ctx: LoginContext<'a>) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async { Err(Error::Internal("this login kind has no device flow".into())) })
    }

    /// What the server says about a stored token (tenant, policies, TTLs), for
    /// the detail view; an error when the server no longer accepts it, which
    /// makes this the validity probe. Login kinds without one answer empty.
    /// The keyring slot [`Provider::token_info`] is given: the access token,
    /// or for a signing key, the key.
    fn info_slot(&self) -> SecretSlot {
        SecretSlot::AccessToken
    }

    fn token_info<'a>(
        &'a self,
        _ctx: LoginContext<'a>,
        _token: &'a Secret,
    ) -> BoxFuture<'a, Result<Vec<SummaryItem>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A password kept in memory between "an OTP is needed" and the code, for a
/// few minutes; never written anywhere.
struct OtpChallenge {
    input: LoginInput,
    deadline: OffsetDateTime,
}

const OTP_WAIT: Duration = Duration::minutes(5);

/// The providers and the logins waiting for an OTP.
#[derive(Clone, Default)]
pub struct Providers {
    by_login: HashMap<LoginKind, Arc<dyn Provider>>,
    otp: Arc<Mutex<HashMap<i64, OtpChallenge>>>,
}

impl Providers {
    /// Every built-in provider.
    pub fn builtin() -> Self {
        let mut p = Providers::default();
        let avassa: Arc<dyn Provider> = Arc::new(avassa::Avassa);
        for login in avassa::LOGINS {
            p.by_login.insert(*login, Arc::clone(&avassa));
        }
        let github: Arc<dyn Provider> = Arc::new(github::GitHub::default());
        for login in github::LOGINS {
            p.by_login.insert(*login, Arc::clone(&github));
        }
        let oidc: Arc<dyn Provider> = Arc::new(oidc::Oidc::default());
        for login in oidc::LOGINS {
            p.by_login.insert(*login, Arc::clone(&oidc));
        }
        let dci: Arc<dyn Provider> = Arc::new(dci::Dci);
        for login in dci::LOGINS {
            p.by_login.insert(*login, Arc::clone(&dci));
        }
        for login in quay::LOGINS {
            p.by_login.insert(*login, Arc::new(quay::Quay::new(*login)));
        }
        p
    }
}

/// The renewers of the built-in login kinds that renew.
pub fn builtin_renewers() -> HashMap<LoginKind, Arc<dyn crate::renewal::Renewer>> {
    let avassa: Arc<dyn crate::renewal::Renewer> = Arc::new(avassa::Avassa);
    let oidc: Arc<dyn crate::renewal::Renewer> = Arc::new(oidc::Oidc::default());
    avassa::LOGINS
        .iter()
        .map(|l| (*l, Arc::clone(&avassa)))
        .chain(oidc::LOGINS.iter().map(|l| (*l, Arc::clone(&oidc))))
        .chain(quay::RENEWS.iter().map(|l| {
            let quay: Arc<dyn crate::renewal::Renewer> = Arc::new(quay::Quay::new(*l));
            (*l, quay)
        }))
        .chain({
            let github: Arc<dyn crate::renewal::Renewer> = Arc::new(github::GitHub::default());
            github::LOGINS
                .iter()
                .filter(|l| **l != LoginKind::GithubKontinuous)
                .map(move |l| (*l, Arc::clone(&github)))
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Latchkey {
    /// Logs a profile in. Returns `Done` with the token stored, or what the
    /// user must give next (an OTP).
    pub async fn login(&self, name: &str, input: LoginInput) -> Result<LoginStep> {
        let profile = self.profile_named(name).await?;
        self.login_profile(&profile, input).await
    }

    async fn login_profile(&self, profile: &Profile, mut input: LoginInput) -> Result<LoginStep> {
        let provider = self.providers.by_login.get(&profile.login).cloned().ok_or_else(|| {
            Error::invalid(
                "login",
                format!("logging in with {} is not available yet; paste a token with a manual-token profile meanwhile", profile.login),
            )
        })?;
        let (server, tenant) = self.server_and_tenant(profile).await?;
        let mut loopback = None;
        let redirect_uri = if profile.login.spec().prompt == LoginPrompt::Browser
            && profile.login != LoginKind::GithubDevice
            && profile.settings.redirect != Some(RedirectMode::Device)
        {
            let deep = match profile.settings.redirect {
                Some(RedirectMode::DeepLink) => {
                    if !input.deep_link {
                        return Err(Error::invalid(
                            "redirect",
                            format!(
                                "'{}' comes back by deep link, which only the Latchkey app receives: log in from the window, or set its redirect to loopback",
                                profile.name
                            ),
                        ));
                    }
                    true
                }
                Some(RedirectMode::Loopback | RedirectMode::Device) => false,
                None => {
                    input.deep_link
                        && profile
                            .settings
                            .redirect_uri
                            .as_deref()
                            .is_none_or(|u| u.starts_with("latchkey:"))
                }
            };
            if deep {
                Some(
                    profile
                        .settings
                        .redirect_uri
                        .clone()
                        .filter(|u| u.starts_with("latchkey:"))
                        .unwrap_or_else(|| DEEP_LINK_CALLBACK.to_string()),
                )
            } else {
                let port = profile
                    .settings
                    .redirect_uri
                    .as_deref()
                    .and_then(|u| url::Url::parse(u).ok())
                    .filter(|u| u.scheme() == "http")
                    .and_then(|u| u.port())
                    .unwrap_or(0);
                let l = crate::loopback::Loopback::bind(port).await?;
                let uri = l.redirect_uri().to_string();
                loopback = Some(l);
                Some(uri)
            }
        } else {
            None
        };
        if let Some(token) = self.borrowed_token(profile).await? {
            // Presented as this profile's password, never kept as one.
            input.password = Some(token);
            input.remember_password = false;
        }
        if input.password.is_none() {
            input.password = self.secret(profile.id, SecretSlot::Password).await?;
        }
        let now = self.clock().now();
        let begun = provider
            .begin(
                LoginContext {
                    profile,
                    server: &server,
                    tenant: tenant.as_deref(),
                    vault: self.vault(),
                    redirects: self.redirects(),
                    redirect_uri: redirect_uri.as_deref(),
                    now,
                },
                &input,
            )
            .await?;
        match begun {
            Begun::Browser { url, redirect_uri } => {
                if let Some(l) = loopback {
                    l.spawn(
                        self.clone(),
                        profile.id,
                        self.redirects().login_wait().unsigned_abs(),
                    );
                }
                Ok(LoginStep::Browser {
                    profile: profile.name.clone(),
                    tenant,
                    url,
                    redirect_uri,
                })
            }
            Begun::Device {
                user_code,
                verification_uri,
                expires_at,
            } => {
                // Registered like a browser login so that Cancel and a newer
                // login end the polling.
                self.redirects()
                    .begin(profile.id, "device:", expires_at - now, None, None);
                let core = self.clone();
                let profile_id = profile.id;
                tokio::spawn(async move { core.poll_device_and_announce(profile_id).await });
                Ok(LoginStep::Device {
                    profile: profile.name.clone(),
                    tenant,
                    user_code,
                    verification_uri,
                    expires_at: tok::rfc3339(expires_at),
                })
            }
            Begun::NeedsOtp(message) => {
                self.providers.otp.lock().expect("otp lock").insert(
                    profile.id,
                    OtpChallenge {
                        input,
                        deadline: now + OTP_WAIT,
                    },
                );
                Ok(LoginStep::NeedsOtp {
                    profile: profile.name.clone(),
                    tenant,
                    message,
                })
            }
            Begun::Issued(issued) => {
                self.providers
                    .otp
                    .lock()
                    .expect("otp lock")
                    .remove(&profile.id);
                if input.remember_password {
                    if let Some(pw) = &input.password {
                        self.vault()
                            .set(SecretKey::new(profile.id, SecretSlot::Password), pw.clone())
                            .await?;
                    }
                }
                let expires_at = issued.expires_at.map(tok::rfc3339);
                self.record_issued(profile, issued, "issued", Some("logged in"))
                    .await?;
                Ok(LoginStep::Done {
                    profile: profile.name.clone(),
                    tenant,
                    expires_at,
                })
            }
        }
    }

    /// Asks the server about the profile's stored token. `Ok(empty)` when
    /// the login kind has no such call; `LoginRequired` without a token.
    pub async fn token_info(&self, profile_id: i64) -> Result<Vec<SummaryItem>> {
        let profile = self.profile_by_id(profile_id).await?;
        let Some(provider) = self.providers.by_login.get(&profile.login).cloned() else {
            return Ok(Vec::new());
        };
        let token = self
            .secret(profile.id, provider.info_slot())
            .await?
            .ok_or_else(|| match provider.info_slot() {
                SecretSlot::AccessToken | SecretSlot::SessionCookie => {
                    Error::LoginRequired(format!("'{}' has no token: log in", profile.name))
                }
                _ => Error::LoginRequired(format!(
                    "'{}' has no key in the keyring: enter it in the profile",
                    profile.name
                )),
            })?;
        let (server, tenant) = self.server_and_tenant(&profile).await?;
        provider
            .token_info(self.context(&profile, &server, tenant.as_deref()), &token)
            .await
    }

    /// The server a profile belongs to (the store's foreign key keeps it).
    pub(crate) async fn server_of(&self, profile: &Profile) -> Result<Server> {
        self.store()
            .server(profile.server_id)
            .await?
            .ok_or_else(|| Error::Internal(format!("profile {} has no server", profile.name)))
    }

    /// The profile's server and, by name, its tenant.
    pub(crate) async fn server_and_tenant(
        &self,
        profile: &Profile,
    ) -> Result<(Server, Option<String>)> {
        let server = self.server_of(profile).await?;
        let tenant = match profile.tenant_id {
            Some(t) => self.store().tenant(t).await?.map(|t| t.name),
            None => None,
        };
        Ok((server, tenant))
    }

    /// What a provider is handed for `profile` now, outside a browser login.
    fn context<'a>(
        &'a self,
        profile: &'a Profile,
        server: &'a Server,
        tenant: Option<&'a str>,
    ) -> LoginContext<'a> {
        LoginContext {
            profile,
            server,
            tenant,
            vault: self.vault(),
            redirects: self.redirects(),
            redirect_uri: None,
            now: self.clock().now(),
        }
    }

    /// Ends the browser login a redirect was accepted for: the provider trades
    /// what came back for a token, which is stored.
    pub async fn finish_redirect(&self, redirect: AcceptedRedirect) -> Result<LoginStep> {
        let profile = self.profile_by_id(redirect.login.profile_id).await?;
        if let Some(error) = redirect.param("error") {
            let detail = redirect.param("error_description").unwrap_or_default();
            return Err(Error::ServerRefused {
                status: None,
                field: None,
                message: format!("the identity provider refused the login: {error} {detail}")
                    .trim()
                    .to_string(),
            });
        }
        let provider = self
            .providers
            .by_login
            .get(&profile.login)
            .cloned()
            .ok_or_else(|| Error::Internal(format!("no provider for {}", profile.login)))?;
        let (server, tenant) = self.server_and_tenant(&profile).await?;
        let issued = provider
            .finish(
                self.context(&profile, &server, tenant.as_deref()),
                &redirect,
            )
            .await?;
        let expires_at = issued.expires_at.map(tok::rfc3339);
        self.record_issued(
            &profile,
            issued,
            "issued",
            Some("logged in through the browser"),
        )
        .await?;
        Ok(LoginStep::Done {
            profile: profile.name,
            tenant,
            expires_at,
        })
    }

    /// Polls a device login until it ends, stores the token and announces
    /// the outcome; stops quietly when the user cancels.
    async fn poll_device_and_announce(&self, profile_id: i64) {
        let poll = async {
            let profile = self.profile_by_id(profile_id).await?;
            let provider = self
                .providers
                .by_login
                .get(&profile.login)
                .cloned()
                .ok_or_else(|| Error::Internal(format!("no provider for {}", profile.login)))?;
            let (server, tenant) = self.server_and_tenant(&profile).await?;
            let issued = provider
                .poll_device(self.context(&profile, &server, tenant.as_deref()))
                .await?;
            let expires_at = issued.expires_at.map(tok::rfc3339);
            self.record_issued(
                &profile,
                issued,
                "issued",
                Some("logged in with a device code"),
            )
            .await?;
            Ok(LoginStep::Done {
                profile: profile.name,
                tenant,
                expires_at,
            })
        };
        let cancelled = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                if !self.redirects().waiting().contains(&profile_id) {
                    return;
                }
            }
        };
        tokio::select! {
            result = poll => {
                self.redirects().cancel(profile_id);
                self.announce(profile_id, result).await;
            }
            () = cancelled => {}
        }
    }

    /// Logs a profile out: revokes at the server where the login kind can,
    /// then forgets the tokens locally (also when revocation failed, which
    /// the report says). The configured secrets (password, client secret)
    /// stay.
    pub async fn logout(&self, profile_id: i64) -> Result<LogoutReport> {
        let profile = self.profile_by_id(profile_id).await?;
        let has_token = self
            .secret(profile.id, SecretSlot::AccessToken)
            .await?
            .is_some()
            || self
                .secret(profile.id, SecretSlot::SessionCookie)
                .await?
                .is_some();
        let done = match (
            self.providers.by_login.get(&profile.login).cloned(),
            has_token,
        ) {
            (Some(provider), true) => {
                let (server, tenant) = self.server_and_tenant(&profile).await?;
                provider
                    .logout(self.context(&profile, &server, tenant.as_deref()))
                    .await
            }
            _ => Ok(LogoutDone::default()),
        };
        let (message, detail, end_session_url) = match done {
            Ok(LogoutDone {
                revoked: true,
                end_session_url,
                note,
            }) => (
                format!("Logged out {}: the server revoked the tokens and Latchkey forgot them.", profile.name)
                    + &note.map(|n| format!(" {n}")).unwrap_or_default(),
                "revoked at the server and forgotten",
                end_session_url,
            ),
            Ok(LogoutDone {
                revoked: false,
                end_session_url,
                note: Some(note),
            }) => (
                format!("Forgot the tokens of {}. {note}", profile.name),
                "forgotten locally",
                end_session_url,
            ),
            Ok(LogoutDone {
                revoked: false,
                end_session_url,
                note: None,
            }) => (
                format!(
                    "Forgot the tokens of {}. {} offers no revocation Latchkey can call, so a copy made elsewhere stays valid until it expires.",
                    profile.name, profile.login
                ),
                "forgotten locally",
                end_session_url,
            ),
            Err(e) => (
                format!(
                    "Forgot the tokens of {}, but the server did not revoke them ({e}): a copy made elsewhere stays valid until it expires.",
                    profile.name
                ),
                "forgotten locally; revocation failed",
                None,
            ),
        };
        self.redirects().cancel(profile.id);
        self.forget_tokens(profile.id, detail).await?;
        Ok(LogoutReport {
            message,
            revoked: detail.starts_with("revoked"),
            end_session_url,
        })
    }

    /// Announcements of how browser and device logins end.
    pub fn login_outcomes(&self) -> tokio::sync::broadcast::Receiver<LoginOutcome> {
        self.outcomes.subscribe()
    }

    /// Finishes a login a redirect was accepted for and announces how it
    /// ended on [`Latchkey::login_outcomes`].
    pub async fn finish_and_announce(&self, redirect: AcceptedRedirect) -> LoginOutcome {
        let profile_id = redirect.login.profile_id;
        let result = self.finish_redirect(redirect).await;
        self.announce(profile_id, result).await
    }

    pub(crate) async fn announce(
        &self,
        profile_id: i64,
        result: Result<LoginStep>,
    ) -> LoginOutcome {
        let (name, tenant) = match self.profile_by_id(profile_id).await {
            Ok(p) => {
                let tenant = self.server_and_tenant(&p).await.ok().and_then(|(_, t)| t);
                (p.name, tenant)
            }
            Err(_) => (format!("profile {profile_id}"), None),
        };
        let outcome = match result {
            Ok(_) => LoginOutcome {
                profile_id,
                message: match &tenant {
                    Some(t) => format!("Logged in {name} · tenant {t}."),
                    None => format!("Logged in {name}."),
                },
                profile: name,
                tenant,
                accepted: true,
            },
            Err(err) => LoginOutcome {
                profile_id,
                message: format!("The login of {name} failed: {err}"),
                profile: name,
                tenant,
                accepted: false,
            },
        };
        let _ = self.outcomes.send(outcome.clone());
        outcome
    }

    /// [`Latchkey::login`] by profile id, for the window.
    pub async fn login_id(&self, profile_id: i64, input: LoginInput) -> Result<LoginStep> {
        let profile = self.profile_by_id(profile_id).await?;
        self.login_profile(&profile, input).await
    }

    /// [`Latchkey::submit_otp`] by profile id, for the window.
    pub async fn submit_otp_id(&self, profile_id: i64, otp: &str) -> Result<LoginStep> {
        let profile = self.profile_by_id(profile_id).await?;
        self.submit_otp(&profile.name, otp).await
    }

    async fn profile_by_id(&self, profile_id: i64) -> Result<Profile> {
        self.store()
            .profile(profile_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no profile with id {profile_id}")))
    }

    /// Continues a login that asked for an OTP. A wrong code is an error on the
    /// `otp` field and keeps the login waiting for another try.
    pub async fn submit_otp(&self, name: &str, otp: &str) -> Result<LoginStep> {
        let profile = self.profile_named(name).await?;
        let otp = otp.trim();
        if otp.is_empty() {
            return Err(Error::invalid("otp", "type the one-time code"));
        }
        let mut input = {
            let mut pending = self.providers.otp.lock().expect("otp lock");
            match pending.get(&profile.id) {
                Some(c) if c.deadline > self.clock().now() => c.input.clone(),
                _ => {
                    pending.remove(&profile.id);
                    return Err(Error::LoginRequired(format!(
                        "the login of '{name}' is no longer waiting for a code; start it again"
                    )));
                }
            }
        };
        input.otp = Some(otp.to_string());
        self.login_profile(&profile, input).await
    }

    /// Gives up a login waiting for an OTP; nothing is stored.
    pub fn cancel_login(&self, profile_id: i64) {
        self.providers
            .otp
            .lock()
            .expect("otp lock")
            .remove(&profile_id);
        self.redirects().cancel(profile_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LoginPrompt;

    #[test]
    fn the_window_offers_log_in_exactly_for_the_kinds_a_provider_logs_in() {
        let providers = Providers::builtin();
        for login in LoginKind::ALL {
            let offered = login.spec().prompt != LoginPrompt::Unavailable;
            assert_eq!(
                offered,
                providers.by_login.contains_key(login),
                "{login}: the catalog's prompt and the providers disagree"
            );
        }
    }
}
