//! The in-process world the core's integration tests run in: a temporary data
//! folder, a memory vault, a hand-set clock, the sandbox on loopback sharing
//! that clock (or keeping its own), Latchkey opened on them, and the servers a
//! test names, each at its kind's place in the sandbox:
//!
//! ```ignore
//! let w = World::at(T0).with_server("edge", "avassa").build().await;
//! ```
//!
//! A test file adds what its login kind needs in its own `impl World` block
//! (a profile helper, a login sequence).
#![allow(dead_code)]

use latchkey_core::clock::ManualClock;
use latchkey_core::env::Environment;
use latchkey_core::model::ServerInput;
use latchkey_core::vault::{SecretKey, SecretSlot, Vault};
use latchkey_core::Latchkey;
use latchkey_sandbox::Sandbox;
use std::sync::Arc;
use time::OffsetDateTime;

pub struct World {
    pub dir: tempfile::TempDir,
    /// Latchkey's clock; the sandbox's too unless it keeps its own.
    pub clock: ManualClock,
    pub vault: Vault,
    pub core: Latchkey,
    pub sandbox: Sandbox,
    /// A browser that does not follow redirects, so a test reads each one.
    pub browser: reqwest::Client,
}

/// What [`World::at`] is building.
pub struct WorldBuilder {
    at: OffsetDateTime,
    /// Name, kind, and the URL when it is not the sandbox's.
    servers: Vec<(String, String, Option<String>)>,
    own_sandbox_clock: bool,
}

impl World {
    /// A world whose clocks stand at `at`.
    pub fn at(at: OffsetDateTime) -> WorldBuilder {
        WorldBuilder {
            at,
            servers: Vec::new(),
            own_sandbox_clock: false,
        }
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

    /// The sandbox keeps a clock of its own (set to the same time), so that
    /// the two can disagree.
    pub fn with_own_sandbox_clock(mut self) -> Self {
        self.own_sandbox_clock = true;
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
        let env = Environment {
            data_dir: dir.path().to_path_buf(),
            keyring_service: "unused".into(),
        };
        let vault = Vault::memory();
        let core = Latchkey::open_with(&env, vault.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
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
        World {
            dir,
            clock,
            vault,
            core,
            sandbox,
            browser: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }
}
