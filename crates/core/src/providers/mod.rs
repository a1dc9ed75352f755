//! One file per login kind, each supplying its descriptor (what the kind asks
//! of the user, [`crate::model::LoginSpec`]) and implementing [`Provider`]
//! (how a login ends in a token) and [`Renewer`] (how the token is renewed);
//! [`registry`] lists them, one line per kind. This file is the contract
//! they implement, and knows none of them. A provider sees only a
//! [`LoginContext`] or [`RenewContext`]: the profile, its server and tenant,
//! the vault, the redirect hub, and the time; never `Latchkey`, which drives
//! them (`crate::login`, `crate::renewal`). The hosts only show what a
//! [`LoginStep`] asks for.

pub mod avassa;
pub mod dci;
pub mod github;
pub mod manual;
pub mod oidc;
pub mod quay;
pub mod registry;
#[cfg(test)]
pub mod toy;

use crate::error::{Error, Result};
use crate::flows::{AcceptedRedirect, RedirectHub};
use crate::model::{
    LoginKind, LoginSpec, Profile, ProfileSettings, Server, ServerKind, SummaryItem,
};
use crate::tokens::{FailureCause, IssuedToken, RenewalPolicy};
use crate::vault::{ProfileVault, Secret, SecretSlot};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use time::OffsetDateTime;

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
/// [`crate::Latchkey::login_outcomes`].
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
    /// The server wants a one-time code: call [`crate::Latchkey::submit_otp`].
    NeedsOtp {
        profile: String,
        tenant: Option<String>,
        message: String,
    },
    /// The login continues in the system browser at `url`; it ends when the
    /// redirect comes back ([`crate::Latchkey::finish_redirect`]).
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

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a renewer may use.
pub struct RenewContext<'a> {
    pub profile: &'a Profile,
    pub server: &'a Server,
    /// The profile's tenant, by name.
    pub tenant: Option<&'a str>,
    /// This profile's secrets, to read.
    pub vault: ProfileVault<'a>,
    pub redirects: &'a crate::flows::RedirectHub,
    pub now: OffsetDateTime,
    /// The token of the profile named in the settings' `source_profile`,
    /// when it names one and that profile holds a valid token.
    pub borrowed: Option<Secret>,
}

impl<'a> RenewContext<'a> {
    /// The same profile as a provider's login context, for a renewal that
    /// logs in again or stores what a login would.
    pub fn login_context(&self) -> crate::providers::LoginContext<'a> {
        crate::providers::LoginContext {
            profile: self.profile,
            server: self.server,
            tenant: self.tenant,
            vault: self.vault,
            redirects: self.redirects,
            redirect_uri: None,
            now: self.now,
        }
    }
}

/// Why a renewal did not produce a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenewError {
    /// The server refused for good (max TTL reached, refresh token revoked): the
    /// user must log in again. The message is the server's own.
    #[error("{0}")]
    NeedsUser(String),
    /// Worth another try later: the server answered but could not serve now
    /// (sealed, 5xx, throttled, a garbled answer).
    #[error("{0}")]
    Transient(String),
    /// The server refused the credential the renewal presented (OAuth's
    /// `invalid_grant`: the refresh token is revoked, expired, or was used
    /// already, which a server with reuse detection answers by revoking the
    /// whole grant). The user must log in again, and the current token, issued
    /// on the same grant, may be refused too: it is no longer handed out.
    #[error("{0}")]
    Refused(String),
    /// Worth another try later: the server could not be reached at all.
    #[error("{0}")]
    Unreachable(String),
}

impl RenewError {
    /// A failure of a call that may be retried: unreachable stays
    /// unreachable, anything else is a transient refusal.
    pub fn retry(err: Error) -> Self {
        match err {
            Error::Unreachable(m) => RenewError::Unreachable(m),
            other => RenewError::Transient(other.to_string()),
        }
    }

    /// Why it failed, as hosts tell it (the CLI's exit code, the window's notice).
    pub fn cause(&self) -> FailureCause {
        match self {
            RenewError::NeedsUser(_) | RenewError::Refused(_) => FailureCause::NeedsUser,
            RenewError::Transient(_) => FailureCause::Refused,
            RenewError::Unreachable(_) => FailureCause::Unreachable,
        }
    }
}

/// Obtains a fresh token for a profile without the user. One per login kind
/// that can renew; the login kinds' providers implement it.
pub trait Renewer: Send + Sync {
    fn renew<'a>(&'a self, ctx: RenewContext<'a>)
        -> BoxFuture<'a, Result<IssuedToken, RenewError>>;
}

/// Everything Latchkey asks about one login kind, supplied by the kind's own
/// file (its `entry`) and listed in [`registry::KINDS`].
#[derive(Clone, Copy)]
pub struct KindEntry {
    pub login: LoginKind,
    /// The server kinds a profile of this kind may be on.
    pub servers: &'static [ServerKind],
    /// Its descriptor: fields, secret, prompt, scope choices.
    pub spec: fn(LoginKind) -> LoginSpec,
    /// Its rules for settings beyond the descriptor's field lists.
    pub check: Option<fn(LoginKind, &ProfileSettings) -> Result<()>>,
    /// Logs it in; none for a kind with nothing to log in.
    pub provider: Option<fn(LoginKind) -> Arc<dyn Provider>>,
    /// Renews its token without the user; none for a kind that cannot.
    pub renewer: Option<fn(LoginKind) -> Arc<dyn Renewer>>,
    /// When its token is due for renewal.
    pub renewal: RenewalPolicy,
    /// Whether a profile of this kind must name a tenant.
    pub needs_tenant: bool,
}

impl KindEntry {
    /// A kind on `servers` described by `spec` that logs in, renews and
    /// checks nothing; its file sets what it does.
    pub const fn new(
        login: LoginKind,
        servers: &'static [ServerKind],
        spec: fn(LoginKind) -> LoginSpec,
    ) -> Self {
        KindEntry {
            login,
            servers,
            spec,
            check: None,
            provider: None,
            renewer: None,
            renewal: RenewalPolicy::Never,
            needs_tenant: false,
        }
    }
}

/// What a provider may use for one login.
pub struct LoginContext<'a> {
    pub profile: &'a Profile,
    pub server: &'a Server,
    pub tenant: Option<&'a str>,
    /// This profile's secrets, to read.
    pub vault: ProfileVault<'a>,
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
