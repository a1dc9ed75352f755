//! Fills a Latchkey data folder with many profiles for the benchmarks at
//! scale (`scripts/bench.sh window|store`): `seed_profiles DATA_DIR COUNT`.
//!
//! The store gets what a heavy user's would hold: Avassa servers with
//! tenants and OIDC servers; four profiles in ten hold a renewable token due
//! in hours, three a pasted token valid for days, one an expired token whose
//! reminders were all shown, two never logged in. Nothing is due while a
//! benchmark runs, so the app neither renews nor notifies. Secrets go to an
//! in-memory vault and are dropped: lists and start-up read token metadata
//! only, never the keyring.

use latchkey_core::clock;
use latchkey_core::env::Environment;
use latchkey_core::model::{ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::tokens::{IssuedToken, RenewalState, TokenKind};
use latchkey_core::vault::{Secret, SecretInput, Vault};
use latchkey_core::Latchkey;
use std::path::PathBuf;
use time::Duration;

const AVASSA_SERVERS: usize = 10;
const TENANTS_PER_SERVER: usize = 5;
const OIDC_SERVERS: usize = 5;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(Ok(count))) = (args.first(), args.get(1).map(|n| n.parse::<usize>()))
    else {
        eprintln!("usage: seed_profiles DATA_DIR COUNT");
        return std::process::ExitCode::from(2);
    };
    match seed(PathBuf::from(dir), count).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("seed_profiles: {err}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn seed(data_dir: PathBuf, count: usize) -> latchkey_core::Result<()> {
    let env = Environment {
        data_dir,
        keyring_service: "unused".into(),
    };
    let core = Latchkey::open_with(&env, Vault::memory(), clock::system()).await?;
    for s in 0..AVASSA_SERVERS {
        core.add_server(&ServerInput {
            name: format!("edge-{s:02}"),
            kind: "avassa".into(),
            url: format!("https://edge-{s:02}.example"),
            ca_pem: None,
        })
        .await?;
        for t in 0..TENANTS_PER_SERVER {
            core.add_tenant(&format!("edge-{s:02}"), &format!("team-{t}"))
                .await?;
        }
    }
    for s in 0..OIDC_SERVERS {
        core.add_server(&ServerInput {
            name: format!("sso-{s}"),
            kind: "oidc".into(),
            url: format!("https://sso-{s}.example"),
            ca_pem: None,
        })
        .await?;
    }
    let now = core.clock().now();
    for i in 0..count {
        let edge = format!("edge-{:02}", i % AVASSA_SERVERS);
        let tenant = format!("team-{}", (i / AVASSA_SERVERS) % TENANTS_PER_SERVER);
        match i % 10 {
            0..=3 => {
                let profile = core
                    .add_profile(&ProfileInput {
                        name: format!("ops-{i:05}"),
                        server: edge,
                        tenant: Some(tenant),
                        login: "avassa-password".into(),
                        settings: ProfileSettings {
                            username: Some(format!("user{i}")),
                            ..Default::default()
                        },
                        ..Default::default()
                    })
                    .await?;
                // Logged in within the last hour for 8 h: renewal due in 5-6 h.
                let issued = now - Duration::seconds((i * 37 % 3600) as i64);
                let mut token =
                    IssuedToken::from_token(TokenKind::Access, Secret::new("t"), issued, None);
                token.expires_at = Some(issued + Duration::hours(8));
                core.record_issued(&profile, token, "issued", None).await?;
            }
            4..=6 => {
                let days = 2 + (i * 7919 % 28);
                core.add_profile(&ProfileInput {
                    name: format!("ci-{i:05}"),
                    server: edge,
                    tenant: Some(tenant),
                    login: "manual-token".into(),
                    label: Some(format!("pipeline {}", i % 97)),
                    secret: Some(SecretInput(Secret::new("pasted"))),
                    token_expires: Some(format!("{days}d")),
                    ..Default::default()
                })
                .await?;
            }
            7 => {
                let profile = core
                    .add_profile(&ProfileInput {
                        name: format!("old-{i:05}"),
                        server: edge,
                        tenant: Some(tenant),
                        login: "manual-token".into(),
                        // A manual token is added with its token; the record
                        // below makes it one that expired long ago.
                        secret: Some(SecretInput(Secret::new("old"))),
                        ..Default::default()
                    })
                    .await?;
                let issued = now - Duration::days(40);
                let mut token =
                    IssuedToken::from_token(TokenKind::Access, Secret::new("old"), issued, None);
                token.expires_at = Some(now - Duration::days(10));
                core.record_issued(&profile, token, "issued", None).await?;
                // The user has seen every reminder: nothing left to announce.
                let settings = core.settings().await?;
                core.store()
                    .put_renewal(
                        profile.id,
                        &RenewalState {
                            reminded: settings.reminder_minutes,
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(latchkey_core::Error::from)?;
                core.reschedule(profile.id).await?;
            }
            _ => {
                core.add_profile(&ProfileInput {
                    name: format!("dev-{i:05}"),
                    server: format!("sso-{}", i % OIDC_SERVERS),
                    login: "oidc".into(),
                    settings: ProfileSettings {
                        client_id: Some("latchkey".into()),
                        ..Default::default()
                    },
                    ..Default::default()
                })
                .await?;
            }
        }
    }
    core.store().close().await;
    Ok(())
}
