//! `latchkey-sandbox --seed`: servers and profiles in a Latchkey data folder that
//! point at a running sandbox, so a newcomer can try every login offline.

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
}

fn settings() -> ProfileSettings {
    ProfileSettings::default()
}

/// The DCI remoteci the sandbox knows, with its secret (a test credential).
pub const DCI_ACCESS_KEY: &str = "remoteci/3a8e6e8a-6b0e-4f5e-9b9f-2b0c6f1f7d11";
pub const DCI_SECRET: &str = "sandbox-dci-secret-not-a-real-one";

/// Creates a server per protocol (named `sandbox-<kind>`) and a profile for each
/// login kind; what already exists is left alone.
pub async fn seed(core: &Latchkey, base_url: &str) -> latchkey_core::Result<Vec<Seeded>> {
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
                ..settings()
            },
            secret: None,
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
        },
        SeedProfile {
            kind: "quay",
            name: "sandbox-quay",
            login: "quay-direct-oauth",
            tenant: None,
            settings: ProfileSettings {
                username: Some("alice".into()),
                client_id: Some("SANDBOXCLIENT0000000".into()),
                scopes: vec!["repo:read".into(), "user:read".into()],
                ..settings()
            },
            secret: None,
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
        },
    ];
    for SeedProfile {
        kind,
        name,
        login,
        tenant,
        settings,
        secret,
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
                what: format!("profile {name} ({login})"),
            }),
            Err(e) if e.code() == ErrorCode::Conflict => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
