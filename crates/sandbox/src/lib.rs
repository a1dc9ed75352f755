//! latchkey-sandbox: one local server speaking every protocol Latchkey logs
//! into, each mounted under its own prefix (`/avassa`, `/quay`, ...) so that
//! their `/api/v1/...` paths do not collide. Tests start it in-process on
//! `127.0.0.1:0`; people run `latchkey-sandbox` to try the app offline.

use axum::{middleware, routing::get, Router};
use latchkey_core::clock::SharedClock;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub mod avassa;
pub mod control;
pub mod dci;
pub mod faults;
pub mod git;
pub mod github;
pub mod issued;
pub mod kontinuous;
pub mod kube;
pub mod oidc;
pub mod quay;
pub mod seed;
pub mod tls;

/// The protocols and the prefix each is mounted under.
pub const PROTOCOLS: &[&str] = &[
    "kontinuous",
    "github",
    "auth0",
    "oidc",
    "quay",
    "avassa",
    "dci",
];

/// The state of every protocol that has one; tests reach into it through
/// [`Sandbox`]'s accessors.
#[derive(Clone)]
pub struct States {
    pub avassa: avassa::Avassa,
    pub github: github::GitHub,
    pub kontinuous: kontinuous::Kontinuous,
    pub oidc: oidc::Oidc,
    pub auth0: oidc::Oidc,
    pub dci: dci::Dci,
    pub quay: quay::Quay,
    /// The Kubernetes API stand-in at the root (`/api`, `/apis`, `/version`:
    /// kubectl's `--raw` paths ignore a server URL's path). Not a login
    /// server: it takes the other servers' tokens, as a cluster trusting
    /// them would.
    pub kube: kube::Kube,
    /// A git server over smart HTTP at `/git` that takes GitHub's tokens.
    pub git: git::Git,
    /// The fault switches and request counts of every route.
    pub faults: faults::Faults,
}

impl States {
    /// Fresh state for a sandbox served at `base_url`.
    pub fn new(clock: SharedClock, base_url: &str) -> Self {
        let github = github::GitHub::new(clock.clone(), format!("{base_url}/github"));
        let avassa = avassa::Avassa::new(clock.clone());
        let oidc = oidc::Oidc::new(
            clock.clone(),
            format!("{base_url}/oidc"),
            oidc::Flavor::Generic,
        );
        let auth0 = oidc::Oidc::new(
            clock.clone(),
            format!("{base_url}/auth0"),
            oidc::Flavor::Auth0,
        )
        .with_github(github.clone());
        Self {
            kube: kube::Kube::new(oidc.clone(), auth0.clone(), avassa.clone(), github.clone()),
            git: git::Git::new(github.clone()),
            avassa,
            kontinuous: kontinuous::Kontinuous::new(clock.clone(), github.clone()),
            github: github.clone(),
            oidc,
            dci: dci::Dci::new(clock.clone()),
            auth0,
            quay: quay::Quay::new(clock, format!("{base_url}/quay")),
            faults: faults::Faults::default(),
        }
    }
}

/// Every protocol's routes, each under its prefix, behind the fault
/// switches; and the control API under `/_sandbox`, beside them.
pub fn router(states: States) -> Router {
    let routes = Router::new()
        .route("/", get(|| async { PROTOCOLS.join("\n") + "\n" }))
        .nest("/kontinuous", kontinuous::router(states.kontinuous.clone()))
        .nest("/github", github::router(states.github.clone()))
        .nest("/auth0", oidc::router(states.auth0.clone()))
        .nest("/oidc", oidc::router(states.oidc.clone()))
        .nest("/quay", quay::router(states.quay.clone()))
        .nest("/avassa", avassa::router(states.avassa.clone()))
        .nest("/dci", dci::router(states.dci.clone()))
        .merge(kube::router(states.kube.clone()))
        .nest("/git", git::router(states.git.clone()))
        .merge(quay::registry_router(states.quay.clone()));
    // The record of issued secrets sees the protocols' own answers, inside
    // the fault switches (which it must not slow down or buffer).
    issued::layer(routes)
        .layer(middleware::from_fn_with_state(
            states.faults.clone(),
            faults::inject,
        ))
        .nest("/_sandbox", control::router(states))
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    states: States,
}

impl Sandbox {
    /// Serves on `127.0.0.1:port` (0 picks a free port), on the wall clock.
    pub async fn start(port: u16) -> std::io::Result<Self> {
        Self::start_with_clock(port, latchkey_core::clock::system()).await
    }

    /// Serves with `clock` as "now" for every expiry and one-time code, so a
    /// test moves the sandbox's time together with Latchkey's.
    pub async fn start_with_clock(port: u16, clock: SharedClock) -> std::io::Result<Self> {
        let tcp = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = tcp.local_addr()?;
        let states = States::new(clock, &format!("http://{addr}"));
        let app = router(states.clone()).into_make_service_with_connect_info::<faults::Peer>();
        let listener = faults::FaultListener {
            tcp,
            faults: states.faults.clone(),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            stop: Some(stop),
            task: Some(task),
            states,
        })
    }

    /// The Avassa server's controls (seal, TTLs, one-time codes).
    pub fn avassa(&self) -> &avassa::Avassa {
        &self.states.avassa
    }

    /// GitHub's controls (deny the next authorization, expiring tokens, ...).
    pub fn github(&self) -> &github::GitHub {
        &self.states.github
    }

    pub fn kontinuous(&self) -> &kontinuous::Kontinuous {
        &self.states.kontinuous
    }

    /// The generic OpenID Connect provider at `/oidc`.
    pub fn oidc(&self) -> &oidc::Oidc {
        &self.states.oidc
    }

    /// The Auth0-like tenant at `/auth0`.
    pub fn auth0(&self) -> &oidc::Oidc {
        &self.states.auth0
    }

    /// DCI's controls (its remoteci and feeder, more keys, the team's state).
    pub fn dci(&self) -> &dci::Dci {
        &self.states.dci
    }

    /// The Kubernetes API stand-in: which tokens it was shown.
    pub fn kube(&self) -> &kube::Kube {
        &self.states.kube
    }

    /// The git server: which passwords it was shown.
    pub fn git(&self) -> &git::Git {
        &self.states.git
    }

    /// Quay's controls (whitelist, throttling, what it holds).
    pub fn quay(&self) -> &quay::Quay {
        &self.states.quay
    }

    /// The fault switches and request counts of every route.
    pub fn faults(&self) -> &faults::Faults {
        &self.states.faults
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of one protocol, e.g. `http://127.0.0.1:PORT/avassa`.
    pub fn url_of(&self, protocol: &str) -> String {
        format!("{}/{protocol}", self.base_url())
    }

    /// Stops serving and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
