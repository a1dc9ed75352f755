//! The offline sandbox inside the app, for a first run without any server:
//! the first-run screen starts `latchkey-sandbox` in-process on
//! `127.0.0.1:0` and seeds a server and a profile per login kind (its
//! `--seed`), so a newcomer can try every login in a minute. Built only with
//! the cargo feature `sandbox` (on in `make run` and the end-to-end tests);
//! the packaged release has no sandbox, and the screen then offers only
//! "Add a server". The commands exist in both builds, so the UI's bindings are
//! the same.

use serde::Serialize;

/// What the first-run screen can offer, and whether the sandbox runs.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SandboxStatus {
    /// This build can start the sandbox.
    pub available: bool,
    /// Where it serves, while it runs.
    pub url: Option<String>,
}

/// The sandbox runs, and what was seeded for it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SandboxStarted {
    pub url: String,
    /// A line per server or profile seeded: its name and how to log in
    /// (the sandbox's test passwords, never a real secret).
    pub seeded: Vec<String>,
}

#[cfg(feature = "sandbox")]
mod running {
    use super::{SandboxStarted, SandboxStatus};
    use latchkey_core::model::ServerInput;
    use latchkey_core::Latchkey;
    use latchkey_sandbox::Sandbox;
    use tokio::sync::Mutex;

    /// The servers `latchkey_sandbox::seed` names, `sandbox-<protocol>`.
    const SERVER_PREFIX: &str = "sandbox-";

    /// The sandbox of this app process, once started.
    #[derive(Default)]
    pub struct SandboxState {
        running: Mutex<Option<Sandbox>>,
    }

    impl SandboxState {
        pub async fn status(&self) -> SandboxStatus {
            SandboxStatus {
                available: true,
                url: self.running.lock().await.as_ref().map(Sandbox::base_url),
            }
        }

        /// Starts the sandbox (once) and seeds what is missing. Servers seeded
        /// by an earlier run point at that run's port: the sandbox takes the
        /// same port again when it is free, and otherwise they are moved to
        /// the new one, so their profiles keep working.
        pub async fn start(&self, core: &Latchkey) -> Result<SandboxStarted, String> {
            let mut running = self.running.lock().await;
            let servers = core.servers().await.map_err(|e| e.to_string())?;
            let earlier: Vec<_> = servers
                .iter()
                .filter(|s| {
                    s.server.name.starts_with(SERVER_PREFIX)
                        && latchkey_sandbox::PROTOCOLS
                            .contains(&&s.server.name[SERVER_PREFIX.len()..])
                })
                .collect();
            if running.is_none() {
                let port = earlier
                    .iter()
                    .find_map(|s| url::Url::parse(&s.server.url).ok()?.port())
                    .unwrap_or(0);
                let sandbox = match Sandbox::start(port).await {
                    Ok(sandbox) => sandbox,
                    Err(_) if port != 0 => Sandbox::start(0)
                        .await
                        .map_err(|e| format!("the sandbox cannot listen on 127.0.0.1: {e}"))?,
                    Err(e) => return Err(format!("the sandbox cannot listen on 127.0.0.1: {e}")),
                };
                *running = Some(sandbox);
            }
            let sandbox = running.as_ref().expect("started above");
            let base = sandbox.base_url();
            for server in earlier {
                let kind = &server.server.name[SERVER_PREFIX.len()..];
                let url = format!("{base}/{kind}");
                if server.server.url != url {
                    core.update_server(
                        server.server.id,
                        &ServerInput {
                            name: server.server.name.clone(),
                            kind: kind.to_string(),
                            url,
                            ca_pem: server.server.ca_pem.clone(),
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                }
            }
            let seeded = latchkey_sandbox::seed::seed(core, sandbox)
                .await
                .map_err(|e| e.to_string())?;
            Ok(SandboxStarted {
                url: base,
                seeded: seeded.into_iter().map(|s| s.what).collect(),
            })
        }
    }
}

#[cfg(feature = "sandbox")]
pub use running::SandboxState;

/// This build has no sandbox: the first-run screen offers "Add a server" only.
/// Braced, so that `SandboxState::default()` reads the same in both builds
/// (clippy flags `default()` on a unit struct).
#[cfg(not(feature = "sandbox"))]
#[derive(Default)]
pub struct SandboxState {}

#[cfg(not(feature = "sandbox"))]
impl SandboxState {
    pub async fn status(&self) -> SandboxStatus {
        SandboxStatus {
            available: false,
            url: None,
        }
    }

    pub async fn start(&self, _core: &latchkey_core::Latchkey) -> Result<SandboxStarted, String> {
        Err("this build of Latchkey has no sandbox: add a server of yours, or run `make run` from a checkout".into())
    }
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use super::SandboxState;
    use latchkey_core::env::Environment;
    use latchkey_core::model::ServerInput;
    use latchkey_core::vault::Vault;
    use latchkey_core::Latchkey;

    /// A core on a data folder of its own, secrets in memory.
    async fn core(name: &str) -> (Latchkey, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("latchkey-sandbox-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let env = Environment {
            data_dir: dir.clone(),
            keyring_service: format!("latchkey-test-{name}"),
        };
        let core = Latchkey::open_with(&env, Vault::memory(), latchkey_core::clock::system())
            .await
            .unwrap();
        (core, dir)
    }

    #[tokio::test]
    async fn starting_serves_on_loopback_and_seeds_a_profile_per_login_kind_once() {
        let (core, dir) = core("start").await;
        let state = SandboxState::default();
        assert_eq!(state.status().await.url, None);
        let started = state.start(&core).await.unwrap();
        assert!(
            started.url.starts_with("http://127.0.0.1:"),
            "{}",
            started.url
        );
        assert_eq!(
            state.status().await.url.as_deref(),
            Some(started.url.as_str())
        );
        let answer = http_get(&format!("{}/", started.url)).await;
        assert!(answer.contains("avassa"), "the sandbox answers: {answer}");
        let profiles = core.profiles().await.unwrap();
        assert!(profiles.len() >= 10, "{} profiles seeded", profiles.len());
        assert!(started
            .seeded
            .iter()
            .any(|line| line.starts_with("profile sandbox-avassa (avassa-password)")));
        for server in core.servers().await.unwrap() {
            assert!(
                server.server.url.starts_with(&started.url),
                "{} points at the running sandbox: {}",
                server.server.name,
                server.server.url
            );
        }
        // A second start seeds nothing new and keeps serving where it did.
        let again = state.start(&core).await.unwrap();
        assert_eq!(again.url, started.url);
        assert!(again.seeded.is_empty(), "{:?}", again.seeded);
        assert_eq!(core.profiles().await.unwrap().len(), profiles.len());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn servers_seeded_by_an_earlier_run_follow_the_sandbox_to_its_new_port() {
        let (core, dir) = core("moved").await;
        // An earlier run on a port that is gone now (nothing listens on port 9).
        core.add_server(&ServerInput {
            name: "sandbox-avassa".into(),
            kind: "avassa".into(),
            url: "http://127.0.0.1:9/avassa".into(),
            ca_pem: None,
        })
        .await
        .unwrap();
        let state = SandboxState::default();
        let started = state.start(&core).await.unwrap();
        let avassa = core
            .servers()
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.server.name == "sandbox-avassa")
            .unwrap();
        assert_eq!(avassa.server.url, format!("{}/avassa", started.url));
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A GET with std only: the app has no HTTP client of its own to test with.
    async fn http_get(url: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap();
        let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
        stream
            .write_all(format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }
}
