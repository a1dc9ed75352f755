//! The order of a renewal's writes, checked at every point a process can die:
//! for each renewing login kind whose server rotates what it renews with
//! (OpenID and Auth0 refresh tokens with reuse detection, GitHub App refresh
//! tokens, Avassa tokens), the renewal runs against the sandbox with a
//! keyring that stops taking writes after 0, 1, 2, ... of them (the process
//! died there), or with the database put back as it was before the renewal
//! (it died after the keyring but before the metadata's commit). Then a fresh
//! core on the same data folder and keyring asks for the token, as the next
//! `latchkey token` would, and the outcome must be the one the table says:
//!
//! - dying before anything was stored, after the server answered, loses what
//!   the server considers current (it rotated the old credential away): the
//!   profile must say that it needs a login, never hand out a token the
//!   server refuses;
//! - dying at any later point must leave a profile that still works.
//!
//! A write order that stored the access token before the refresh token would
//! turn "after 1 write" into a needs-login: the table catches it.
//! `scripts/crash-test.sh` does the same with real `kill -9`s of the CLI and
//! the app, on the real keyring.

use latchkey_core::clock::ManualClock;
use latchkey_core::env::Environment;
use latchkey_core::model::{ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::providers::{LoginInput, LoginStep};
use latchkey_core::vault::{
    MemoryStore, Secret, SecretInput, SecretKey, SecretStore, Vault, VaultError,
};
use latchkey_core::{ErrorCode, Latchkey};
use latchkey_sandbox::Sandbox;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

/// A keyring shared by the "process" that dies and the one that starts
/// after it; the dying one's writes stop when its budget runs out.
struct Keyring {
    entries: Arc<MemoryStore>,
    /// Writes left before the process "dies"; negative: no limit.
    writes_left: Arc<AtomicI64>,
}

impl SecretStore for Keyring {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, VaultError> {
        self.entries.get(key)
    }

    fn set(&self, key: &SecretKey, secret: &Secret) -> Result<(), VaultError> {
        self.spend()?;
        self.entries.set(key, secret)
    }

    fn delete(&self, key: &SecretKey) -> Result<(), VaultError> {
        self.spend()?;
        self.entries.delete(key)
    }
}

impl Keyring {
    fn spend(&self) -> Result<(), VaultError> {
        let left = self.writes_left.fetch_sub(1, Ordering::SeqCst);
        if left == 0 {
            self.writes_left.store(0, Ordering::SeqCst);
            return Err(VaultError::Keyring("the process died here".into()));
        }
        Ok(())
    }
}

/// Where the renewing process dies.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Death {
    /// After this many keyring writes of the renewal (0: the server answered
    /// and nothing was stored yet).
    AfterWrites(i64),
    /// After every keyring write, before the metadata's commit.
    BeforeCommit,
    /// It does not.
    Never,
}

/// What the next caller gets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// A token the server accepts.
    Works,
    /// "log in again", with no token handed out.
    NeedsLogin,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Oidc,
    Auth0,
    GithubApp,
    AvassaPassword,
}

impl Kind {
    /// Keyring writes of one renewal: refresh, ID and access token for
    /// OpenID; refresh and access token for GitHub; the token for Avassa.
    fn writes(self) -> i64 {
        match self {
            Kind::Oidc | Kind::Auth0 => 3,
            Kind::GithubApp => 2,
            Kind::AvassaPassword => 1,
        }
    }
}

struct World {
    dir: tempfile::TempDir,
    clock: ManualClock,
    entries: Arc<MemoryStore>,
    sandbox: Sandbox,
    kind: Kind,
}

impl World {
    async fn new(kind: Kind) -> Self {
        let clock = ManualClock::new(T0);
        let sandbox = Sandbox::start_with_clock(0, Arc::new(clock.clone()))
            .await
            .unwrap();
        let w = World {
            dir: tempfile::tempdir().unwrap(),
            clock,
            entries: Arc::new(MemoryStore::default()),
            sandbox,
            kind,
        };
        let core = w.open(-1).await;
        let (server_kind, protocol, login, settings, secret) = match kind {
            Kind::Oidc => (
                "oidc",
                "oidc",
                "oidc",
                ProfileSettings {
                    client_id: Some(latchkey_sandbox::oidc::PUBLIC_CLIENT_ID.into()),
                    scopes: vec!["openid".into(), "offline_access".into()],
                    ..Default::default()
                },
                None,
            ),
            Kind::Auth0 => (
                "auth0",
                "auth0",
                "auth0",
                ProfileSettings {
                    client_id: Some(latchkey_sandbox::oidc::AUTH0_CLIENT_ID.into()),
                    ..Default::default()
                },
                None,
            ),
            Kind::GithubApp => (
                "github",
                "github",
                "github",
                ProfileSettings {
                    client_id: Some(latchkey_sandbox::github::APP_CLIENT_ID.into()),
                    ..Default::default()
                },
                Some(latchkey_sandbox::github::APP_CLIENT_SECRET),
            ),
            Kind::AvassaPassword => (
                "avassa",
                "avassa",
                "avassa-password",
                ProfileSettings {
                    username: Some("alice".into()),
                    ..Default::default()
                },
                None,
            ),
        };
        core.add_server(&ServerInput {
            name: "srv".into(),
            kind: server_kind.into(),
            url: w.sandbox.url_of(protocol),
            ca_pem: None,
        })
        .await
        .unwrap();
        core.add_profile(&ProfileInput {
            name: "p".into(),
            server: "srv".into(),
            tenant: matches!(kind, Kind::AvassaPassword).then(|| "acme".into()),
            login: login.into(),
            settings,
            secret: secret.map(|s| SecretInput(Secret::new(s))),
            ..Default::default()
        })
        .await
        .unwrap();
        w.log_in(&core).await;
        core.store().close().await;
        w
    }

    /// A core on the data folder and keyring, as a process that may write
    /// `writes` times to the keyring (negative: any number).
    async fn open(&self, writes: i64) -> Latchkey {
        let env = Environment {
            data_dir: self.dir.path().to_path_buf(),
            keyring_service: "unused".into(),
        };
        let vault = Vault::new(Keyring {
            entries: self.entries.clone(),
            writes_left: Arc::new(AtomicI64::new(writes)),
        });
        Latchkey::open_with(&env, vault, Arc::new(self.clock.clone()))
            .await
            .unwrap()
    }

    async fn log_in(&self, core: &Latchkey) {
        if let Kind::AvassaPassword = self.kind {
            let step = core
                .login(
                    "p",
                    LoginInput {
                        password: Some(Secret::new(latchkey_sandbox::avassa::ALICE_PASSWORD)),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert!(matches!(step, LoginStep::Done { .. }), "{step:?}");
            return;
        }
        let step = core
            .login(
                "p",
                LoginInput {
                    deep_link: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let LoginStep::Browser { url, .. } = step else {
            panic!("{step:?}")
        };
        let res = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(&url)
            .send()
            .await
            .unwrap();
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let accepted = core.redirects().route(&location).unwrap();
        core.finish_redirect(accepted).await.unwrap();
    }

    fn accepts(&self, token: &str) -> bool {
        match self.kind {
            Kind::Oidc => self.sandbox.oidc().is_active(token),
            Kind::Auth0 => self.sandbox.auth0().is_active(token),
            Kind::GithubApp => self.sandbox.github().is_valid(token),
            Kind::AvassaPassword => self.sandbox.avassa().is_valid(token),
        }
    }

    /// Moves time to where the token is due (5 minutes before expiry for
    /// OAuth, 75 % of the period for Avassa) but not expired.
    fn make_due(&self) {
        self.clock.advance(match self.kind {
            Kind::Oidc | Kind::Auth0 => Duration::minutes(58),
            Kind::GithubApp => Duration::hours(8) - Duration::minutes(2),
            Kind::AvassaPassword => Duration::minutes(9),
        });
    }

    /// Renews, dying at `death`; then asks for the token as a new process.
    async fn run(&self, death: Death) -> Outcome {
        self.make_due();
        let db = self.dir.path().join("latchkey.db");
        let saved = std::fs::read(&db).unwrap();
        let writes = match death {
            Death::AfterWrites(n) => n,
            Death::BeforeCommit | Death::Never => -1,
        };
        let dying = self.open(writes).await;
        let renewed = dying.token("p").await;
        match death {
            Death::AfterWrites(_) => assert!(renewed.is_err(), "it died: {renewed:?}"),
            Death::BeforeCommit | Death::Never => {
                renewed.unwrap();
            }
        }
        dying.store().close().await;
        drop(dying);
        if death == Death::BeforeCommit {
            // The metadata's transaction never committed: the database is as
            // it was before the renewal.
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(self.dir.path().join(format!("latchkey.db{suffix}")));
            }
            std::fs::write(&db, saved).unwrap();
        }
        let next = self.open(-1).await;
        let outcome = match next.token("p").await {
            Ok((_, token)) => {
                assert!(
                    self.accepts(token.expose()),
                    "{:?} after {death:?}: handed out a token the server refuses",
                    self.kind
                );
                Outcome::Works
            }
            Err(e) => {
                assert_eq!(
                    e.code(),
                    ErrorCode::LoginRequired,
                    "{:?} after {death:?}: {e}",
                    self.kind
                );
                assert!(e.to_string().contains("log in"), "{e}");
                Outcome::NeedsLogin
            }
        };
        next.store().close().await;
        outcome
    }
}

/// One profile of `kind` through every death point in turn, the one that
/// loses the grant last; returns how many deaths it checked.
async fn every_death(kind: Kind) -> usize {
    let w = World::new(kind).await;
    // Every surviving point twice over (a death after a death), a clean
    // renewal, then the death that loses the grant.
    let surviving: Vec<Death> = (1..kind.writes())
        .map(Death::AfterWrites)
        .chain([Death::BeforeCommit])
        .collect();
    let mut deaths = [surviving.clone(), surviving].concat();
    deaths.extend([Death::Never, Death::AfterWrites(0)]);
    for death in &deaths {
        let expected = match death {
            Death::AfterWrites(0) => Outcome::NeedsLogin,
            _ => Outcome::Works,
        };
        assert_eq!(w.run(*death).await, expected, "{kind:?}, death {death:?}");
    }
    deaths.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_that_dies_at_any_write_leaves_a_profile_that_works_or_says_to_log_in() {
    let kinds = [
        Kind::Oidc,
        Kind::Auth0,
        Kind::GithubApp,
        Kind::AvassaPassword,
    ];
    let runs: Vec<_> = kinds
        .into_iter()
        .map(|k| tokio::spawn(every_death(k)))
        .collect();
    let mut checked = 0;
    for run in runs {
        checked += run.await.unwrap();
    }
    eprintln!("{checked} deaths checked over {} login kinds", kinds.len());
}
