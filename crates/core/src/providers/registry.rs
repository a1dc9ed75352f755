//! The kind registry: which file describes, logs in and renews each login
//! kind. Adding a kind adds its line here; nothing else in the core names the
//! kinds' files.

use super::{avassa, dci, github, manual, oidc, quay, LoginInput, Provider, Renewer};
use crate::error::Result;
use crate::model::{LoginKind, LoginSpec, ProfileSettings};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// The descriptor of a login kind: its fields, its secret, what "Log in"
/// asks, the scopes a form offers; each supplied by the kind's own file.
/// This match is the kind registry's one line per kind.
pub fn spec(login: LoginKind) -> LoginSpec {
    match login {
        LoginKind::GithubKontinuous | LoginKind::Github | LoginKind::GithubDevice => {
            github::spec(login)
        }
        LoginKind::Auth0 | LoginKind::Oidc => oidc::spec(login),
        LoginKind::AvassaPassword | LoginKind::AvassaOidc | LoginKind::AvassaKubernetes => {
            avassa::spec(login)
        }
        LoginKind::QuayDirectOauth | LoginKind::QuaySession | LoginKind::QuayRegistry => {
            quay::spec(login)
        }
        LoginKind::DciHmac => dci::spec(login),
        LoginKind::ManualToken => manual::spec(login),
    }
}

/// Checks a profile's settings against its login kind: the descriptor's
/// fields ([`crate::model::validate_settings`]), then the kind's own rules.
pub fn validate_settings(login: LoginKind, settings: &ProfileSettings) -> Result<()> {
    crate::model::validate_settings(&spec(login), settings)?;
    quay::validate_settings(login, settings)
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
pub fn builtin_renewers() -> HashMap<LoginKind, Arc<dyn Renewer>> {
    let avassa: Arc<dyn Renewer> = Arc::new(avassa::Avassa);
    let oidc: Arc<dyn Renewer> = Arc::new(oidc::Oidc::default());
    avassa::LOGINS
        .iter()
        .map(|l| (*l, Arc::clone(&avassa)))
        .chain(oidc::LOGINS.iter().map(|l| (*l, Arc::clone(&oidc))))
        .chain(quay::RENEWS.iter().map(|l| {
            let quay: Arc<dyn Renewer> = Arc::new(quay::Quay::new(*l));
            (*l, quay)
        }))
        .chain({
            let github: Arc<dyn Renewer> = Arc::new(github::GitHub::default());
            github::LOGINS
                .iter()
                .filter(|l| **l != LoginKind::GithubKontinuous)
                .map(move |l| (*l, Arc::clone(&github)))
                .collect::<Vec<_>>()
        })
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
