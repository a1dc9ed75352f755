//! `latchkey-sandbox --seed`: servers and profiles in a Latchkey data folder that
//! point at a running sandbox, so a newcomer can try every login offline.

use crate::{avassa, dci, quay, Sandbox};
use latchkey_core::model::{ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::vault::{Secret, SecretInput};
use latchkey_core::{ErrorCode, Latchkey};

/// One seeded profile, described for the person who runs `--seed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub kind: &'static str,
    pub what: String,
}

struct SeedProfile {
    kind: &'static str,
    name: &'static str,
    login: &'static str,
    tenant: Option<&'static str>,
    settings: ProfileSettings,
    secret: Option<&'static str>,
    /// What a person needs to know to log in.
    note: String,
}

fn settings() -> ProfileSettings {
    ProfileSettings::default()
}

/// The DCI remoteci the sandbox knows, with its secret (a test credential).
pub const DCI_ACCESS_KEY: &str = dci::REMOTECI_ACCESS_KEY;
pub const DCI_SECRET: &str = dci::REMOTECI_SECRET;

/// Creates a server per protocol (named `sandbox-<kind>`) and a profile for each
/// login kind; what already exists is left alone.
pub async fn seed(core: &Latchkey, sandbox: &Sandbox) -> latchkey_core::Result<Vec<Seeded>> {
    let base_url = sandbox.base_url();
    let sa_file = core
        .store()
        .path()
        .parent()
        .map(|d| d.join("sandbox-sa-token"))
        .unwrap_or_else(|| "sandbox-sa-token".into());
    std::fs::write(&sa_file, sandbox.avassa().sa_token(avassa::K8S_SUBJECT)).map_err(|e| {
        latchkey_core::Error::Internal(format!(
            "cannot write the service-account token {}: {e}",
            sa_file.display()
        ))
    })?;
    let mut done = Vec::new();
    for kind in crate::PROTOCOLS {
        let name = format!("sandbox-{kind}");
        let added = core
            .add_server(&ServerInput {
                name: name.clone(),
                kind: kind.to_string(),
                url: format!("{base_url}/{kind}"),
                ca_pem: None,
            })
            .await;
        match added {
            Ok(_) => done.push(Seeded {
                kind,
                what: format!("server {name}"),
            }),
            Err(e) if e.code() == ErrorCode::Conflict => {}
            Err(e) => return Err(e),
        }
    }
    let profiles = [
        SeedProfile {
            kind: "kontinuous",
            name: "sandbox-kontinuous",
            login: "github-kontinuous",
            tenant: None,
            settings: ProfileSettings {
                client_id: Some("sandbox-github-client".into()),
                // The sandbox's GitHub, not github.com: offline means offline.
                issuer: Some(format!("{base_url}/github")),
                ..settings()
            },
            secret: None,
            note: String::new(),
        },
        SeedProfile {
            kind: "kontinuous",
            name: "sandbox-kontinuous-auth0",
            login: "auth0",
            tenant: None,
            settings: ProfileSettings {
                client_id: Some(crate::oidc::KONTINUOUS_CLIENT_ID.into()),
                issuer: Some(format!("{base_url}/auth0/")),
                scopes: vec!["openid".into(), "email".into(), "offline_access".into()],
                ..settings()
            },
            secret: Some(crate::oidc::KONTINUOUS_CLIENT_SECRET),
            note: "Kontinuous through Auth0: the HS256 ID token is the credential".into(),
        },
        SeedProfile {
            kind: "github",
            name: "sandbox-github-device",
            login: "github-device",
            tenant: None,
            settings: ProfileSettings {
                client_id: Some("sandbox-github-client".into()),
                ..settings()
            },
            secret: None,
            note: String::new(),
        },
        SeedProfile {
            kind: "auth0",
            name: "sandbox-auth0",
            login: "auth0",
            tenant: None,
            settings: ProfileSettings {
                client_id: Some("sandbox-auth0-client".into()),
                scopes: vec!["openid".into(), "offline_access".into()],
                ..settings()
            },
            secret: None,
            note: String::new(),
        },
        SeedProfile {
            kind: "oidc",
            name: "sandbox-oidc",
            login: "oidc",
            tenant: None,
            settings: ProfileSettings {
                client_id: Some("sandbox-oidc-client".into()),
                scopes: vec!["openid".into()],
                ..settings()
            },
            secret: None,
            note: String::new(),
        },
        SeedProfile {
            kind: "quay",
            name: "sandbox-quay",
            login: "quay-direct-oauth",
            tenant: None,
            settings: ProfileSettings {
                username: Some("alice".into()),
                client_id: Some(quay::CLIENT_ID.into()),
                scopes: vec!["repo:read".into(), "user:read".into()],
                ..settings()
            },
            secret: None,
            note: format!("password {}", quay::ALICE_PASSWORD),
        },
        SeedProfile {
            kind: "quay",
            name: "sandbox-quay-session",
            login: "quay-session",
            tenant: None,
            settings: ProfileSettings {
                username: Some("alice".into()),
                ..settings()
            },
            secret: None,
            note: format!("password {}", quay::ALICE_PASSWORD),
        },
        SeedProfile {
            kind: "quay",
            name: "sandbox-quay-registry",
            login: "quay-registry",
            tenant: None,
            settings: ProfileSettings {
                username: Some(quay::ROBOT.into()),
                scopes: vec!["repository:acme/web:pull".into()],
                ..settings()
            },
            secret: Some(quay::ROBOT_TOKEN),
            note: format!("robot {} (its token is stored)", quay::ROBOT),
        },
        SeedProfile {
            kind: "avassa",
            name: "sandbox-avassa",
            login: "avassa-password",
            tenant: Some("acme"),
            settings: ProfileSettings {
                username: Some("alice".into()),
                ..settings()
            },
            secret: None,
            note: format!("password {}", avassa::ALICE_PASSWORD),
        },
        SeedProfile {
            kind: "avassa",
            name: "sandbox-avassa-otp",
            login: "avassa-password",
            tenant: Some("acme"),
            settings: ProfileSettings {
                username: Some("bob".into()),
                ..settings()
            },
            secret: None,
            note: format!(
                "password {}; one-time codes: `latchkey-sandbox --otp`, or add {} to an authenticator app",
                avassa::BOB_PASSWORD,
                avassa::bob_otpauth_uri()
            ),
        },
        SeedProfile {
            kind: "avassa",
            name: "sandbox-avassa-k8s",
            login: "avassa-kubernetes",
            tenant: Some("acme"),
            settings: ProfileSettings {
                service: Some(avassa::K8S_SERVICE.into()),
                role: Some(avassa::K8S_ROLE.into()),
                sa_token_file: Some(sa_file.display().to_string()),
                ..settings()
            },
            secret: None,
            note: format!("service-account token in {}", sa_file.display()),
        },
        SeedProfile {
            kind: "dci",
            name: "sandbox-dci",
            login: "dci-hmac",
            tenant: None,
            settings: ProfileSettings {
                access_key: Some(DCI_ACCESS_KEY.into()),
                ..settings()
            },
            secret: Some(DCI_SECRET),
            note: format!(
                "remoteci {} of team {}; try `latchkey sign sandbox-dci --check`",
                dci::REMOTECI_NAME,
                dci::TEAM_NAME
            ),
        },
    ];
    for SeedProfile {
        kind,
        name,
        login,
        tenant,
        settings,
        secret,
        note,
    } in profiles
    {
        let added = core
            .add_profile(&ProfileInput {
                name: name.into(),
                server: format!("sandbox-{kind}"),
                tenant: tenant.map(Into::into),
                login: login.into(),
                settings,
                label: Some("sandbox".into()),
                secret: secret.map(|s| SecretInput(Secret::new(s))),
                token_expires: None,
            })
            .await;
        match added {
            Ok(_) => done.push(Seeded {
                kind,
                what: if note.is_empty() {
                    format!("profile {name} ({login})")
                } else {
                    format!("profile {name} ({login}): {note}")
                },
            }),
            Err(e) if e.code() == ErrorCode::Conflict => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
