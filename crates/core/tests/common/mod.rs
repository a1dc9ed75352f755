//! The in-process world the core's integration tests run in: a temporary data
//! folder, a vault (memory, or the real keyring under a throwaway service
//! name), a hand-set clock, the sandbox on loopback sharing that clock (or
//! keeping its own), Latchkey opened on them, and the servers a test names,
//! each at its kind's place in the sandbox:
//!
//! ```ignore
//! let w = World::at(T0).with_server("edge", "avassa").build().await;
//! let id = w.add(profile("me", "edge", "avassa-password").tenant("acme").username("alice")).await.id;
//! ```
//!
//! Also here: the steps every login kind's tests repeat (a password login, a
//! browser login played over HTTP, the server's refusal taken apart), so that
//! a test file keeps only what its own kind needs in its own `impl World`.
#![allow(dead_code)]

use latchkey_core::clock::{ManualClock, SharedClock};
use latchkey_core::env::Environment;
use latchkey_core::model::{LoginKind, Profile, ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::providers::{LoginInput, LoginStep};
use latchkey_core::renewal::Renewer;
use latchkey_core::service::SummaryItem;
use latchkey_core::tokens::{IssuedToken, TokenKind};
use latchkey_core::vault::{Secret, SecretInput, SecretKey, SecretSlot, Vault};
use latchkey_core::{Error, Latchkey};
use latchkey_sandbox::Sandbox;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub struct World {
    pub dir: tempfile::TempDir,
    /// The data folder (`dir`) and the keyring service Latchkey was opened on.
    pub env: Environment,
    /// The clock tests move: Latchkey's (unless it reads the wall clock) and
    /// the sandbox's (unless it keeps its own).
    pub clock: ManualClock,
    pub vault: Vault,
    pub core: Latchkey,
    pub sandbox: Sandbox,
    /// A browser that does not follow redirects, so a test reads each one.
    pub browser: reqwest::Client,
    /// What Latchkey reads the time from: `clock`, or the wall clock.
    shared_clock: SharedClock,
    renewers: Vec<(LoginKind, Arc<dyn Renewer>)>,
}

/// What [`World::at`] is building.
pub struct WorldBuilder {
    at: OffsetDateTime,
    /// Name, kind, and the URL when it is not the sandbox's.
    servers: Vec<(String, String, Option<String>)>,
    tenants: Vec<(String, String)>,
    own_sandbox_clock: bool,
    system_clock: bool,
    keyring: bool,
    vault: Option<Vault>,
    renewers: Vec<(LoginKind, Arc<dyn Renewer>)>,
}

/// A keyring service name no other test and no user entry has. The keyring
/// tests need the private D-Bus session of `scripts/session.sh`.
pub fn keyring_service() -> String {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "keyring tests need a D-Bus session with an unlocked keyring: run them through \
         `make test` or `scripts/session.sh cargo test`"
    );
    format!(
        "latchkey-test-{}-{}",
        std::process::id(),
        latchkey_core::flows::random_token()
    )
}

impl World {
    /// A world whose clocks stand at `at`.
    pub fn at(at: OffsetDateTime) -> WorldBuilder {
        WorldBuilder {
            at,
            servers: Vec::new(),
            tenants: Vec::new(),
            own_sandbox_clock: false,
            system_clock: false,
            keyring: false,
            vault: None,
            renewers: Vec::new(),
        }
    }

    /// A world at the wall clock's current second.
    pub fn now() -> WorldBuilder {
        Self::at(OffsetDateTime::now_utc().replace_nanosecond(0).unwrap())
    }

    /// Another Latchkey on the same data folder, vault, clock and renewers,
    /// as the next start of the app (or another process) would open it.
    pub async fn reopen(&self) -> Latchkey {
        self.open_on(self.vault.clone(), Arc::clone(&self.shared_clock))
            .await
    }

    /// Another Latchkey on the same data folder and renewers, with this vault
    /// and clock.
    pub async fn open_on(&self, vault: Vault, clock: SharedClock) -> Latchkey {
        open(&self.env, vault, clock, &self.renewers).await
    }

    /// Adds a profile; the test fails if it is refused.
    pub async fn add(&self, input: ProfileInput) -> Profile {
        self.core.add_profile(&input).await.unwrap()
    }

    /// Records `token` as the profile's access token, issued at `at` and
    /// valid for `lasts`, as a login would.
    pub async fn issue(&self, profile: &Profile, token: &str, at: OffsetDateTime, lasts: Duration) {
        let mut issued = IssuedToken::from_token(TokenKind::Access, Secret::new(token), at, None);
        issued.expires_at = Some(at + lasts);
        self.core
            .record_issued(profile, issued, "issued", None)
            .await
            .unwrap();
    }

    /// The profile's access token, as the vault holds it.
    pub async fn token(&self, id: i64) -> Option<String> {
        self.secret(id, SecretSlot::AccessToken).await
    }

    /// One of the profile's secrets, as the vault holds it.
    pub async fn secret(&self, id: i64, slot: SecretSlot) -> Option<String> {
        self.vault
            .get(SecretKey::new(id, slot))
            .await
            .unwrap()
            .map(|s| s.expose().to_string())
    }

    /// Logs `name` in with a password typed in the window (or none).
    pub async fn password_login(
        &self,
        name: &str,
        password: Option<&str>,
        remember: bool,
    ) -> Result<LoginStep, Error> {
        self.core
            .login(
                name,
                LoginInput {
                    password: password.map(Secret::new),
                    remember_password: remember,
                    otp: None,
                    deep_link: false,
                },
            )
            .await
    }

    /// Starts `name`'s browser login: the authorize URL and the redirect URI.
    pub async fn start_browser_login(&self, name: &str, deep_link: bool) -> (String, String) {
        let step = self
            .core
            .login(
                name,
                LoginInput {
                    deep_link,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        browser_step(step)
    }

    /// Plays the browser at the authorize URL: the provider's redirect.
    pub async fn provider_redirect(&self, url: &str) -> String {
        let res = self.browser.get(url).send().await.unwrap();
        assert!(res.status().is_redirection(), "{}: {url}", res.status());
        res.headers()["location"].to_str().unwrap().to_string()
    }

    /// Logs `name` in through the deep link, the browser part played over
    /// HTTP against the sandbox.
    pub async fn browser_login(&self, name: &str) -> Result<LoginStep, Error> {
        let step = self
            .core
            .login(
                name,
                LoginInput {
                    deep_link: true,
                    ..Default::default()
                },
            )
            .await?;
        let (url, _) = browser_step(step);
        let location = self.provider_redirect(&url).await;
        let accepted = self.core.redirects().route(&location).unwrap();
        self.core.finish_redirect(accepted).await
    }
}

/// The authorize URL and redirect URI of a login that goes to the browser.
pub fn browser_step(step: LoginStep) -> (String, String) {
    let LoginStep::Browser {
        url, redirect_uri, ..
    } = step
    else {
        panic!("expected the browser step, got {step:?}")
    };
    (url, redirect_uri)
}

/// The server's refusal: its status, the field it blames, its words.
pub fn refused(err: &Error) -> (Option<u16>, Option<&'static str>, &str) {
    match err {
        Error::ServerRefused {
            status,
            field,
            message,
        } => (*status, *field, message.as_str()),
        other => panic!("expected the server's refusal, got {other:?}"),
    }
}

/// The value of a summary line, by name.
pub fn item<'a>(items: &'a [SummaryItem], name: &str) -> Option<&'a str> {
    items
        .iter()
        .find(|i| i.name == name)
        .map(|i| i.value.as_str())
}

/// A profile to add: `profile("me", "gh", "github").client_id(ID).secret(S)`.
pub fn profile(name: &str, server: &str, login: &str) -> ProfileInput {
    ProfileInput {
        name: name.into(),
        server: server.into(),
        login: login.into(),
        ..Default::default()
    }
}

/// The fields of [`profile`] a test sets, one call each.
pub trait ProfileInputExt: Sized {
    fn tenant(self, tenant: &str) -> Self;
    fn username(self, username: &str) -> Self;
    fn client_id(self, client_id: &str) -> Self;
    fn access_key(self, access_key: &str) -> Self;
    fn scopes(self, scopes: &[&str]) -> Self;
    fn settings(self, settings: ProfileSettings) -> Self;
    fn secret(self, secret: &str) -> Self;
    fn expires(self, expires: &str) -> Self;
}

impl ProfileInputExt for ProfileInput {
    fn tenant(mut self, tenant: &str) -> Self {
        self.tenant = Some(tenant.into());
        self
    }
    fn username(mut self, username: &str) -> Self {
        self.settings.username = Some(username.into());
        self
    }
    fn client_id(mut self, client_id: &str) -> Self {
        self.settings.client_id = Some(client_id.into());
        self
    }
    fn access_key(mut self, access_key: &str) -> Self {
        self.settings.access_key = Some(access_key.into());
        self
    }
    fn scopes(mut self, scopes: &[&str]) -> Self {
        self.settings.scopes = scopes.iter().map(|s| s.to_string()).collect();
        self
    }
    fn settings(mut self, settings: ProfileSettings) -> Self {
        self.settings = settings;
        self
    }
    fn secret(mut self, secret: &str) -> Self {
        self.secret = Some(SecretInput(Secret::new(secret)));
        self
    }
    fn expires(mut self, expires: &str) -> Self {
        self.token_expires = Some(expires.into());
        self
    }
}

async fn open(
    env: &Environment,
    vault: Vault,
    clock: SharedClock,
    renewers: &[(LoginKind, Arc<dyn Renewer>)],
) -> Latchkey {
    let mut core = Latchkey::open_with(env, vault, clock).await.unwrap();
    for (login, renewer) in renewers {
        core.set_renewer(*login, Arc::clone(renewer));
    }
    core
}

impl WorldBuilder {
    /// A server named `name` of `kind`, at the sandbox's place for that kind.
    pub fn with_server(mut self, name: &str, kind: &str) -> Self {
        self.servers.push((name.into(), kind.into(), None));
        self
    }

    /// A server named `name` of `kind` at `url`, for tests that never reach it.
    pub fn with_server_at(mut self, name: &str, kind: &str, url: &str) -> Self {
        self.servers
            .push((name.into(), kind.into(), Some(url.into())));
        self
    }

    /// A tenant on a server added before.
    pub fn with_tenant(mut self, server: &str, tenant: &str) -> Self {
        self.tenants.push((server.into(), tenant.into()));
        self
    }

    /// The sandbox keeps a clock of its own (set to the same time), so that
    /// the two can disagree.
    pub fn with_own_sandbox_clock(mut self) -> Self {
        self.own_sandbox_clock = true;
        self
    }

    /// Latchkey reads the wall clock, for servers outside this process that
    /// stamp their tokens with it.
    pub fn with_system_clock(mut self) -> Self {
        self.system_clock = true;
        self
    }

    /// The real keyring (Secret Service), under a service name of its own.
    pub fn with_keyring(mut self) -> Self {
        self.keyring = true;
        self
    }

    /// This vault instead of a memory one.
    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = Some(vault);
        self
    }

    /// This renewer for `login` instead of the built-in one, on every open.
    pub fn with_renewer(mut self, login: LoginKind, renewer: Arc<dyn Renewer>) -> Self {
        self.renewers.push((login, renewer));
        self
    }

    pub async fn build(self) -> World {
        let clock = ManualClock::new(self.at);
        let sandbox_clock = if self.own_sandbox_clock {
            ManualClock::new(self.at)
        } else {
            clock.clone()
        };
        let sandbox = Sandbox::start_with_clock(0, Arc::new(sandbox_clock))
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let keyring_service = if self.keyring {
            keyring_service()
        } else {
            "unused".into()
        };
        let vault = match self.vault {
            Some(vault) => vault,
            None if self.keyring => Vault::keyring(&keyring_service),
            None => Vault::memory(),
        };
        let env = Environment {
            data_dir: dir.path().to_path_buf(),
            keyring_service,
        };
        let shared_clock: SharedClock = if self.system_clock {
            latchkey_core::clock::system()
        } else {
            Arc::new(clock.clone())
        };
        let core = open(
            &env,
            vault.clone(),
            Arc::clone(&shared_clock),
            &self.renewers,
        )
        .await;
        for (name, kind, url) in &self.servers {
            core.add_server(&ServerInput {
                name: name.clone(),
                kind: kind.clone(),
                url: url.clone().unwrap_or_else(|| sandbox.url_of(kind)),
                ca_pem: None,
            })
            .await
            .unwrap();
        }
        for (server, tenant) in &self.tenants {
            core.add_tenant(server, tenant).await.unwrap();
        }
        World {
            dir,
            env,
            clock,
            vault,
            core,
            sandbox,
            browser: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            shared_clock,
            renewers: self.renewers,
        }
    }
}
