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

mod common;
use common::{profile, ProfileInputExt, World};
use latchkey_core::providers::LoginStep;
use latchkey_core::vault::{MemoryStore, Secret, SecretKey, SecretStore, Vault, VaultError};
use latchkey_core::{ErrorCode, Latchkey};
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

/// A vault on `entries` that takes `writes` writes (negative: any number).
fn keyring(entries: &Arc<MemoryStore>, writes: i64) -> Vault {
    Vault::new(Keyring {
        entries: Arc::clone(entries),
        writes_left: Arc::new(AtomicI64::new(writes)),
    })
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

/// One logged-in profile `p` of a kind, on server `srv` of the sandbox, with
/// its keyring entries kept apart from any one "process".
struct Crash {
    w: World,
    entries: Arc<MemoryStore>,
    kind: Kind,
}

impl Crash {
    async fn new(kind: Kind) -> Self {
        use latchkey_sandbox::{github, oidc};
        let (server_kind, input) = match kind {
            Kind::Oidc => (
                "oidc",
                profile("p", "srv", "oidc")
                    .client_id(oidc::PUBLIC_CLIENT_ID)
                    .scopes(&["openid", "offline_access"]),
            ),
            Kind::Auth0 => (
                "auth0",
                profile("p", "srv", "auth0").client_id(oidc::AUTH0_CLIENT_ID),
            ),
            Kind::GithubApp => (
                "github",
                profile("p", "srv", "github")
                    .client_id(github::APP_CLIENT_ID)
                    .secret(github::APP_CLIENT_SECRET),
            ),
            Kind::AvassaPassword => (
                "avassa",
                profile("p", "srv", "avassa-password")
                    .tenant("acme")
                    .username("alice"),
            ),
        };
        let entries = Arc::new(MemoryStore::default());
        let w = World::at(T0)
            .with_server("srv", server_kind)
            .with_vault(keyring(&entries, -1))
            .build()
            .await;
        w.add(input).await;
        let step = match kind {
            Kind::AvassaPassword => {
                let password = latchkey_sandbox::avassa::ALICE_PASSWORD;
                w.password_login("p", Some(password), false).await
            }
            _ => w.browser_login("p").await,
        };
        assert!(matches!(step, Ok(LoginStep::Done { .. })), "{step:?}");
        w.core.store().close().await;
        Crash { w, entries, kind }
    }

    /// A core on the data folder and keyring, as a process that may write
    /// `writes` times to the keyring (negative: any number).
    async fn open(&self, writes: i64) -> Latchkey {
        let vault = keyring(&self.entries, writes);
        self.w.open_on(vault, Arc::new(self.w.clock.clone())).await
    }

    fn accepts(&self, token: &str) -> bool {
        match self.kind {
            Kind::Oidc => self.w.sandbox.oidc().is_active(token),
            Kind::Auth0 => self.w.sandbox.auth0().is_active(token),
            Kind::GithubApp => self.w.sandbox.github().is_valid(token),
            Kind::AvassaPassword => self.w.sandbox.avassa().is_valid(token),
        }
    }

    /// Moves time to where the token is due (5 minutes before expiry for
    /// OAuth, 75 % of the period for Avassa) but not expired.
    fn make_due(&self) {
        self.w.clock.advance(match self.kind {
            Kind::Oidc | Kind::Auth0 => Duration::minutes(58),
            Kind::GithubApp => Duration::hours(8) - Duration::minutes(2),
            Kind::AvassaPassword => Duration::minutes(9),
        });
    }

    /// Renews, dying at `death`; then asks for the token as a new process.
    async fn run(&self, death: Death) -> Outcome {
        self.make_due();
        let db = self.w.dir.path().join("latchkey.db");
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
                let _ =
                    std::fs::remove_file(self.w.dir.path().join(format!("latchkey.db{suffix}")));
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
    let w = Crash::new(kind).await;
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
