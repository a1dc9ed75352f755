//! The kind registry: every login kind's line, and the one place the rest of
//! Latchkey asks what a kind is (its descriptor, the servers it goes on, its
//! provider, its renewer, when it renews). Each line is the kind's own file's
//! `entry`; nothing else in the core names the kinds' files.

use super::{avassa, dci, github, manual, oidc, quay, KindEntry, LoginInput, Provider, Renewer};
use crate::error::Result;
use crate::model::{LoginKind, LoginSpec, ProfileSettings, ServerKind};
use crate::tokens::RenewalPolicy;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// The login kinds, one line each, in the order forms offer them. A kind's
/// name is in `crate::model`'s list (the one thing this floor cannot hold).
pub const KINDS: &[KindEntry] = &[
    github::entry(LoginKind::GithubKontinuous),
    github::entry(LoginKind::Github),
    github::entry(LoginKind::GithubDevice),
    oidc::entry(LoginKind::Auth0),
    oidc::entry(LoginKind::Oidc),
    avassa::entry(LoginKind::AvassaPassword),
    avassa::entry(LoginKind::AvassaOidc),
    avassa::entry(LoginKind::AvassaKubernetes),
    quay::entry(LoginKind::QuayDirectOauth),
    quay::entry(LoginKind::QuaySession),
    quay::entry(LoginKind::QuayRegistry),
    dci::entry(LoginKind::DciHmac),
    manual::entry(LoginKind::ManualToken),
    #[cfg(test)]
    super::toy::entry(LoginKind::Toy),
];

/// A kind's line. Every kind has one (a test checks it).
pub fn entry(login: LoginKind) -> &'static KindEntry {
    KINDS
        .iter()
        .find(|k| k.login == login)
        .unwrap_or_else(|| panic!("login kind {login} has no line in the kind registry"))
}

/// The descriptor of a login kind: its fields, its secret, what "Log in"
/// asks, the scopes a form offers; each supplied by the kind's own file.
pub fn spec(login: LoginKind) -> LoginSpec {
    (entry(login).spec)(login)
}

/// The login kinds a server of this kind takes, in the registry's order.
pub fn logins_on(server: ServerKind) -> Vec<LoginKind> {
    KINDS
        .iter()
        .filter(|k| k.servers.contains(&server))
        .map(|k| k.login)
        .collect()
}

/// When a login kind's token is due for renewal.
pub fn renewal_policy(login: LoginKind) -> RenewalPolicy {
    entry(login).renewal
}

/// Whether a profile of this login kind must name a tenant.
pub fn needs_tenant(login: LoginKind) -> bool {
    entry(login).needs_tenant
}

/// Checks a profile's settings against its login kind: the descriptor's
/// fields ([`crate::model::validate_settings`]), then the kind's own rules.
pub fn validate_settings(login: LoginKind, settings: &ProfileSettings) -> Result<()> {
    crate::model::validate_settings(&spec(login), settings)?;
    match entry(login).check {
        Some(check) => check(login, settings),
        None => Ok(()),
    }
}

/// A password kept in memory between "an OTP is needed" and the code, for a
/// few minutes; never written anywhere.
pub(crate) struct OtpChallenge {
    pub(crate) input: LoginInput,
    pub(crate) deadline: OffsetDateTime,
}

pub(crate) const OTP_WAIT: Duration = Duration::minutes(5);

/// The providers and the logins waiting for an OTP.
#[derive(Clone, Default)]
pub struct Providers {
    pub(crate) by_login: HashMap<LoginKind, Arc<dyn Provider>>,
    pub(crate) otp: Arc<Mutex<HashMap<i64, OtpChallenge>>>,
}

impl Providers {
    /// The provider of every kind that logs in.
    pub fn builtin() -> Self {
        let by_login = KINDS
            .iter()
            .filter_map(|k| Some((k.login, (k.provider?)(k.login))))
            .collect();
        Providers {
            by_login,
            ..Default::default()
        }
    }
}

/// The renewer of every kind that renews.
pub fn builtin_renewers() -> HashMap<LoginKind, Arc<dyn Renewer>> {
    KINDS
        .iter()
        .filter_map(|k| Some((k.login, (k.renewer?)(k.login))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LoginPrompt, RedirectMode};

    #[test]
    fn the_window_offers_log_in_exactly_for_the_kinds_a_provider_logs_in() {
        let providers = Providers::builtin();
        for login in LoginKind::ALL {
            let offered = spec(*login).prompt != LoginPrompt::Unavailable;
            assert_eq!(
                offered,
                providers.by_login.contains_key(login),
                "{login}: the catalog's prompt and the providers disagree"
            );
        }
    }

    #[test]
    fn every_login_kind_has_one_line_and_some_server_kind() {
        for login in LoginKind::ALL {
            assert_eq!(
                KINDS.iter().filter(|k| k.login == *login).count(),
                1,
                "{login}: one line in KINDS"
            );
            assert!(
                ServerKind::ALL
                    .iter()
                    .any(|s| logins_on(*s).contains(login)),
                "{login} has no server kind"
            );
            assert_eq!(
                entry(*login).renewer.is_some(),
                renewal_policy(*login).renews(),
                "{login}: a renewer exactly when its policy renews"
            );
        }
    }

    #[test]
    fn settings_are_checked_against_the_login_kind() {
        let mut s = ProfileSettings::default();
        let err = validate_settings(LoginKind::AvassaPassword, &s).unwrap_err();
        assert_eq!(err.field(), Some("username"));
        s.username = Some("alice".into());
        validate_settings(LoginKind::AvassaPassword, &s).unwrap();
        s.client_id = Some("x".into());
        let err = validate_settings(LoginKind::AvassaPassword, &s).unwrap_err();
        assert_eq!(err.field(), Some("client_id"));
        assert!(err.to_string().contains("does not use"));

        let dci = ProfileSettings {
            access_key: Some("robot/x".into()),
            ..Default::default()
        };
        assert_eq!(
            validate_settings(LoginKind::DciHmac, &dci)
                .unwrap_err()
                .field(),
            Some("access_key")
        );
        for ok in ["remoteci/abc", "feeder/abc", "abc"] {
            let dci = ProfileSettings {
                access_key: Some(ok.into()),
                ..Default::default()
            };
            validate_settings(LoginKind::DciHmac, &dci).unwrap();
        }
    }

    #[test]
    fn only_openid_logins_take_the_device_redirect() {
        let device = ProfileSettings {
            client_id: Some("cli".into()),
            redirect: Some(RedirectMode::Device),
            ..Default::default()
        };
        assert!(validate_settings(LoginKind::Oidc, &device).is_ok());
        let auth0 = ProfileSettings {
            audience: Some("https://api".into()),
            ..device.clone()
        };
        assert!(validate_settings(LoginKind::Auth0, &auth0).is_ok());
        let err = validate_settings(
            LoginKind::AvassaOidc,
            &ProfileSettings {
                redirect: Some(RedirectMode::Device),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("redirect"));
        assert!(err.to_string().contains("loopback or deep link"), "{err}");
        assert_eq!(
            "device".parse::<RedirectMode>().unwrap(),
            RedirectMode::Device
        );
        assert!("tv"
            .parse::<RedirectMode>()
            .unwrap_err()
            .to_string()
            .contains("loopback, deep-link or device"));
    }
}
