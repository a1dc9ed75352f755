//! Driving a login on [`Latchkey`]: the profile's provider is chosen, the
//! redirect prepared (deep link or a loopback listener), the password or a
//! borrowed token handed in, and what the provider issues stored; browser and
//! device logins end later and are announced on [`Latchkey::login_outcomes`].
//! Logout, the OTP step and the token's server-side summary go the same way.
//! The providers themselves (`crate::providers`) never see `Latchkey`.

use crate::error::{Error, Result};
use crate::flows::{AcceptedRedirect, DEEP_LINK_CALLBACK};
use crate::loopback::Loopback;
use crate::model::{LoginKind, LoginPrompt, Profile, RedirectMode, Server, SummaryItem};
use crate::providers::{
    self,
    registry::{OtpChallenge, OTP_WAIT},
    Begun, LoginContext, LoginInput, LoginOutcome, LoginStep, LogoutDone, LogoutReport,
};
use crate::service::Latchkey;
use crate::tokens as tok;
use crate::vault::{ProfileVault, Secret, SecretKey, SecretSlot};

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
        let redirect_uri = if providers::registry::spec(profile.login).prompt
            == LoginPrompt::Browser
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
                let l = Loopback::bind(port).await?;
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
                    vault: ProfileVault::new(self.vault(), profile.id),
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
            vault: ProfileVault::new(self.vault(), profile.id),
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

impl Latchkey {
    /// The token a profile borrows from the profile named in its
    /// `source_profile` (a Quay registry login as `$oauthtoken` with a
    /// direct-OAuth profile's token), if it names one.
    pub(crate) async fn borrowed_token(&self, profile: &Profile) -> Result<Option<Secret>> {
        let Some(name) = profile.settings.source_profile.as_deref() else {
            return Ok(None);
        };
        let source = self.store().profile_by_name(name).await?.ok_or_else(|| {
            Error::invalid(
                "source_profile",
                format!(
                    "'{}' presents the token of '{name}', but no profile has that name: choose a quay-direct-oauth profile",
                    profile.name
                ),
            )
        })?;
        if source.login != LoginKind::QuayDirectOauth || source.server_id != profile.server_id {
            return Err(Error::invalid(
                "source_profile",
                format!(
                    "'{name}' cannot lend its token to '{}': choose a quay-direct-oauth profile of the same Quay server",
                    profile.name
                ),
            ));
        }
        let (_, token) = self.valid_token(name).await.map_err(|e| match e {
            Error::LoginRequired(m) => {
                Error::LoginRequired(format!("{m}; '{}' presents its token", profile.name))
            }
            other => other,
        })?;
        Ok(Some(token))
    }
}
