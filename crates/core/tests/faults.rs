//! Fault injection across every login and renewal path: each path of the
//! table below meets each fault of [`FAULTS`] at its route of the sandbox
//! (served over HTTPS with a private CA, so that TLS failures are faults too),
//! and must come out of it the same way:
//!
//! - the user gets an error (a login) or a failed-renewal event (a renewal)
//!   whose message says what happened and what to do, with a code that is
//!   not "internal";
//! - the previous token is kept, in the keyring and in the metadata, and a
//!   renewal goes on serving it;
//! - a renewal backs off: it retries later, not at once (asking for the token
//!   again sends nothing to the server), and it is announced as retrying;
//! - nothing panics, and once the fault is gone the same path works again.
//!
//! The HTTP client's timeouts are cut to [`ATTEMPT_TIMEOUT`] for the attempts
//! that meet a fault, so that a server that never answers costs seconds, not
//! half a minute. Each path runs in its own sandbox and data folder; paths run
//! side by side, faults one after the other.

mod common;
use common::{profile, ProfileInputExt};
use latchkey_core::clock::Clock;
use latchkey_core::model::ServerInput;
use latchkey_core::providers::{LoginInput, LoginStep};
use latchkey_core::renewal::LifecycleEvent;
use latchkey_core::vault::{Secret, SecretKey, SecretSlot};
use latchkey_core::{Error, ErrorCode, Latchkey};
use latchkey_sandbox::faults::{Fault, TlsFault};
use latchkey_sandbox::tls::TlsSandbox;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};
use time::{Duration, OffsetDateTime};

/// The HTTP client's timeout while a fault is on.
const ATTEMPT_TIMEOUT: StdDuration = StdDuration::from_secs(3);

/// How a fault is injected: at the path's route, or in the TLS handshake.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Injected {
    Route(Fault),
    Tls(TlsFault),
}

/// Every fault each path meets.
const FAULTS: &[Injected] = &[
    Injected::Route(Fault::Timeout),
    Injected::Route(Fault::Reset),
    Injected::Route(Fault::Html(500)),
    Injected::Route(Fault::Html(502)),
    Injected::Route(Fault::Html(503)),
    Injected::Route(Fault::Truncated),
    Injected::Route(Fault::Garbage),
    Injected::Route(Fault::NoToken),
    Injected::Route(Fault::Huge),
    Injected::Route(Fault::SlowLoris),
    Injected::Tls(TlsFault::Untrusted),
    Injected::Tls(TlsFault::Expired),
];

/// What a path does when its route misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// A login whose first step (before any browser) calls the route.
    LoginBegin,
    /// A browser login whose last step (after the redirect) calls the route.
    LoginFinish,
    /// A renewal by the scheduler.
    Renewal,
    /// DCI's signed identity request.
    Identity,
}

/// One login or renewal path: its profile, the route that carries it, and
/// what calls it.
struct Path {
    name: &'static str,
    profile: &'static str,
    route: &'static str,
    step: Step,
    /// Discovery and keys are fetched once per process: the attempt needs a
    /// core that has not fetched them yet.
    fresh_core: bool,
    /// Where a fault shows as something else than [`what_happened`] says,
    /// the words that must appear instead (and why, in a comment).
    instead: &'static [(Injected, &'static [&'static str])],
    /// The server rotates what this renewal presents and revokes the grant
    /// when it sees it twice: a fault that hits the answer after the server
    /// made it ([`after_the_server`]) loses the grant, and the retry must
    /// say "log in again" instead of renewing.
    rotates: bool,
}

/// Faults that spoil the answer after the server made it (it rotated a
/// refresh token, if it does): the others keep the request from it.
fn after_the_server(fault: Injected) -> bool {
    matches!(fault, Injected::Route(Fault::Truncated | Fault::NoToken))
}

const PATHS: &[Path] = &[
    Path {
        name: "Avassa password login",
        profile: "avassa-pw",
        route: "POST /avassa/v1/login",
        step: Step::LoginBegin,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "Avassa Kubernetes login",
        profile: "avassa-k8s",
        route: "POST /avassa/v1/kubernetes-login",
        step: Step::LoginBegin,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "Avassa OIDC login, start",
        profile: "avassa-sso",
        route: "POST /avassa/v1/oidc-login",
        step: Step::LoginBegin,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "Avassa OIDC login, callback",
        profile: "avassa-sso",
        route: "POST /avassa/v1/oidc-callback",
        step: Step::LoginFinish,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "Avassa token refresh",
        profile: "avassa-pw",
        route: "POST /avassa/v1/state/strongbox/token/refresh",
        step: Step::Renewal,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "GitHub web login, code exchange",
        profile: "github-app",
        route: "POST /github/login/oauth/access_token",
        step: Step::LoginFinish,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "GitHub refresh",
        profile: "github-app",
        route: "POST /github/login/oauth/access_token",
        step: Step::Renewal,
        fresh_core: false,
        instead: &[],
        rotates: true,
    },
    Path {
        name: "Kontinuous login through GitHub",
        profile: "kontinuous",
        route: "POST /kontinuous/login/github",
        step: Step::LoginFinish,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "OIDC discovery",
        profile: "oidc",
        route: "GET /oidc/.well-known/openid-configuration",
        step: Step::LoginBegin,
        fresh_core: true,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "OIDC code exchange",
        profile: "oidc",
        route: "POST /oidc/token",
        step: Step::LoginFinish,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "OIDC refresh",
        profile: "oidc",
        route: "POST /oidc/token",
        step: Step::Renewal,
        fresh_core: false,
        instead: &[],
        rotates: true,
    },
    Path {
        name: "Auth0 code exchange",
        profile: "auth0",
        route: "POST /auth0/oauth/token",
        step: Step::LoginFinish,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "Auth0 refresh",
        profile: "auth0",
        route: "POST /auth0/oauth/token",
        step: Step::Renewal,
        fresh_core: false,
        instead: &[],
        rotates: true,
    },
    Path {
        name: "Quay direct OAuth login",
        profile: "quay-oauth",
        route: "POST /quay/oauth/authorizeapp",
        step: Step::LoginBegin,
        fresh_core: false,
        // The answer is a redirect: cut in half, its Location loses the
        // fragment's token or the state, which is all Latchkey can see.
        instead: &[(Injected::Route(Fault::Truncated), &["state"])],
        rotates: false,
    },
    Path {
        name: "Quay session sign-in",
        profile: "quay-session",
        route: "POST /quay/api/v1/signin",
        step: Step::LoginBegin,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "Quay registry token",
        profile: "quay-registry",
        route: "GET /quay/v2/auth",
        step: Step::LoginBegin,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "Quay registry token renewal",
        profile: "quay-registry",
        route: "GET /quay/v2/auth",
        step: Step::Renewal,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
    Path {
        name: "DCI identity",
        profile: "dci",
        route: "GET /dci/api/v1/identity",
        step: Step::Identity,
        fresh_core: false,
        instead: &[],
        rotates: false,
    },
];

/// What the message must say happened, by fault: each inner list is one
/// alternative, all of whose words must appear (case-insensitive).
fn what_happened(fault: Injected) -> Vec<Vec<String>> {
    let one = |words: &[&str]| vec![words.iter().map(|w| w.to_string()).collect()];
    match fault {
        Injected::Route(Fault::Timeout) | Injected::Route(Fault::SlowLoris) => {
            one(&["did not answer in time"])
        }
        Injected::Route(Fault::Reset) => one(&["connection", "cut"]),
        Injected::Route(Fault::Html(status)) => one(&[&status.to_string(), "HTML error page"]),
        Injected::Route(Fault::Truncated) | Injected::Route(Fault::Garbage) => {
            vec![
                vec!["not".into(), "JSON".into()],
                vec!["not what".into()],
                vec!["cut short".into()],
            ]
        }
        Injected::Route(Fault::NoToken) => vec![
            vec!["without".into()],
            vec!["no ".into()],
            vec!["missing".into()],
        ],
        Injected::Route(Fault::Huge) => one(&["larger than"]),
        Injected::Route(Fault::Delay(_)) => one(&[""]),
        Injected::Tls(TlsFault::Untrusted) => one(&["TLS", "CA"]),
        Injected::Tls(TlsFault::Expired) => one(&["TLS", "expired"]),
    }
}

/// Words that tell the user what to do next.
const WHAT_TO_DO: &[&str] = &[
    "try again",
    "check",
    "log in",
    "ask ",
    "--ca-file",
    "renew it",
];

/// Checks that `message` says what happened, and (unless the caller says
/// it another way) what to do.
fn says(message: &str, path: &Path, fault: Injected, needs_what_to_do: bool) -> Result<(), String> {
    let lower = message.to_lowercase();
    let mut expected = what_happened(fault);
    if let Some((_, words)) = path.instead.iter().find(|(f, _)| *f == fault) {
        expected = vec![words.iter().map(|w| w.to_string()).collect()];
    }
    let happened = expected
        .iter()
        .any(|all| all.iter().all(|w| lower.contains(&w.to_lowercase())));
    if !happened {
        return Err(format!(
            "the message does not say what happened ({expected:?}): {message}"
        ));
    }
    if needs_what_to_do && !WHAT_TO_DO.iter().any(|w| lower.contains(w)) {
        return Err(format!("the message does not say what to do: {message}"));
    }
    Ok(())
}

/// Faults that are the network's (or the TLS setup's), not an answer.
fn is_transport(fault: Injected) -> bool {
    matches!(
        fault,
        Injected::Route(Fault::Timeout | Fault::Reset | Fault::SlowLoris) | Injected::Tls(_)
    )
}

/// The common world, with the sandbox served over HTTPS beside it and a
/// browser that trusts its CA.
struct World {
    w: common::World,
    sandbox: TlsSandbox,
    browser: reqwest::Client,
}

impl std::ops::Deref for World {
    type Target = common::World;
    fn deref(&self) -> &common::World {
        &self.w
    }
}

/// The profiles every path uses, on servers of the HTTPS sandbox.
async fn world() -> World {
    // The certificates follow the wall clock; tokens follow this one.
    let w = common::World::now().build().await;
    let sandbox = TlsSandbox::start(Arc::new(w.clock.clone())).await.unwrap();
    let states = sandbox.states();
    // Enough renewals for a dozen faults without reaching the max TTL.
    states
        .avassa
        .set_ttl(Duration::minutes(10), Duration::days(2));
    for kind in [
        "avassa",
        "github",
        "kontinuous",
        "oidc",
        "auth0",
        "quay",
        "dci",
    ] {
        w.core
            .add_server(&ServerInput {
                name: kind.into(),
                kind: kind.into(),
                url: sandbox.url_of(kind),
                ca_pem: Some(sandbox.ca_pem().to_string()),
            })
            .await
            .unwrap();
    }
    let sa_file = w.dir.path().join("sa-token");
    std::fs::write(
        &sa_file,
        states
            .avassa
            .sa_token(latchkey_sandbox::avassa::K8S_SUBJECT),
    )
    .unwrap();
    use latchkey_sandbox::{avassa, dci, github, oidc, quay};
    let mut kubernetes = profile("avassa-k8s", "avassa", "avassa-kubernetes").tenant("acme");
    kubernetes.settings.service = Some(avassa::K8S_SERVICE.into());
    kubernetes.settings.role = Some(avassa::K8S_ROLE.into());
    kubernetes.settings.sa_token_file = Some(sa_file.display().to_string());
    let mut kontinuous =
        profile("kontinuous", "kontinuous", "github-kontinuous").client_id(github::CLIENT_ID);
    kontinuous.settings.issuer = Some(sandbox.url_of("github"));
    let inputs = [
        profile("avassa-pw", "avassa", "avassa-password")
            .tenant("acme")
            .username("alice"),
        kubernetes,
        profile("avassa-sso", "avassa", "avassa-oidc").tenant("acme"),
        profile("github-app", "github", "github")
            .client_id(github::APP_CLIENT_ID)
            .secret(github::APP_CLIENT_SECRET),
        kontinuous,
        profile("oidc", "oidc", "oidc")
            .client_id(oidc::PUBLIC_CLIENT_ID)
            .scopes(&["openid", "offline_access"]),
        profile("auth0", "auth0", "auth0").client_id(oidc::AUTH0_CLIENT_ID),
        profile("quay-oauth", "quay", "quay-direct-oauth")
            .username("alice")
            .client_id(quay::CLIENT_ID)
            .scopes(&["repo:read", "user:read"]),
        profile("quay-session", "quay", "quay-session").username("alice"),
        profile("quay-registry", "quay", "quay-registry")
            .username("alice")
            .scopes(&["acme/web:pull"]),
        profile("dci", "dci", "dci-hmac")
            .access_key(dci::REMOTECI_ACCESS_KEY)
            .secret(dci::REMOTECI_SECRET),
    ];
    for input in inputs {
        w.add(input).await;
    }
    let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).unwrap();
    World {
        browser: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .add_root_certificate(ca)
            .build()
            .unwrap(),
        w,
        sandbox,
    }
}

/// What a profile holds, to compare before and after a fault.
#[derive(Debug, PartialEq)]
struct Held {
    token: Option<String>,
    expires_at: Option<String>,
}

impl World {
    fn arm(&self, route: &str, fault: Injected) {
        match fault {
            Injected::Route(f) => self.sandbox.faults().set(route, f),
            Injected::Tls(t) => self.sandbox.faults().set_tls(Some(t)),
        }
    }

    fn disarm(&self) {
        self.sandbox.faults().clear_all();
    }

    async fn held(&self, name: &str) -> Held {
        let view = self.core.profile_named(name).await.unwrap();
        let slot = match view.login {
            latchkey_core::model::LoginKind::QuaySession => SecretSlot::SessionCookie,
            latchkey_core::model::LoginKind::DciHmac => SecretSlot::SigningKey,
            _ => SecretSlot::AccessToken,
        };
        Held {
            token: self
                .vault
                .get(SecretKey::new(view.id, slot))
                .await
                .unwrap()
                .map(|s| s.expose().to_string()),
            expires_at: self.core.profile_view(view.id).await.unwrap().expires_at,
        }
    }

    fn password(name: &str) -> Option<&'static str> {
        match name {
            "avassa-pw" => Some(latchkey_sandbox::avassa::ALICE_PASSWORD),
            "quay-oauth" | "quay-session" | "quay-registry" => {
                Some(latchkey_sandbox::quay::ALICE_PASSWORD)
            }
            _ => None,
        }
    }

    /// Logs `name` in on `core`; the fault (if any) is armed just before
    /// the step that calls its route.
    async fn log_in(
        &self,
        core: &Latchkey,
        name: &str,
        armed: Option<(&str, Step, Injected)>,
    ) -> Result<(), Error> {
        let arm_at = |step: Step| {
            if let Some((route, at, fault)) = armed {
                if at == step {
                    self.arm(route, fault);
                }
            }
        };
        arm_at(Step::LoginBegin);
        let step = core
            .login(
                name,
                LoginInput {
                    password: Self::password(name).map(Secret::new),
                    // The renewals of Avassa and Quay registry tokens log in
                    // again with it.
                    remember_password: Self::password(name).is_some(),
                    otp: None,
                    deep_link: true,
                },
            )
            .await?;
        let url = match step {
            LoginStep::Done { .. } => return Ok(()),
            LoginStep::Browser { url, .. } => url,
            other => panic!("{name}: {other:?}"),
        };
        let res = self.browser.get(&url).send().await.unwrap();
        assert!(res.status().is_redirection(), "{name}: {}", res.status());
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let accepted = core.redirects().route(&location).unwrap();
        arm_at(Step::LoginFinish);
        core.finish_redirect(accepted).await.map(|_| ())
    }

    /// Moves the clock to where `name`'s token is due, not expired.
    async fn make_due(&self, name: &str) {
        let view = self
            .core
            .profile_view(self.core.profile_named(name).await.unwrap().id)
            .await
            .unwrap();
        let due = OffsetDateTime::parse(
            view.renew_due_at.as_deref().expect("a renewable token"),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        if self.clock.now() < due {
            self.clock.set(due + Duration::seconds(1));
        }
    }
}

/// One path through every fault; returns how many cases it checked and
/// what went wrong.
async fn run_path(path: &'static Path) -> (usize, usize, Vec<String>) {
    let w = world().await;
    let mut failures = Vec::new();
    let mut grants_lost = 0;
    if path.step != Step::Identity {
        w.log_in(&w.core, path.profile, None)
            .await
            .unwrap_or_else(|e| panic!("{}: the first login failed: {e}", path.name));
    }
    let mut cases = 0;
    for fault in FAULTS {
        cases += 1;
        let case = format!("{} × {fault:?}", path.name);
        let attempt = run_case(&w, path, *fault);
        if let Err(e) =
            latchkey_core::http::with_timeouts(ATTEMPT_TIMEOUT, ATTEMPT_TIMEOUT, attempt).await
        {
            failures.push(format!("{case}: {e}"));
        }
        w.disarm();
        // Once the fault is gone, the path works again (or, where the fault
        // cost the grant, says to log in).
        match recover(&w, path, *fault).await {
            Ok(Recovery::Works) => {}
            Ok(Recovery::SaysLogIn) => grants_lost += 1,
            Err(e) => failures.push(format!("{case}, after the fault: {e}")),
        }
    }
    (cases, grants_lost, failures)
}

/// How a path came out of a fault once it was gone.
enum Recovery {
    Works,
    /// The fault cost the grant (see [`Path::rotates`]); the user was told
    /// to log in, and did.
    SaysLogIn,
}

async fn run_case(w: &World, path: &Path, fault: Injected) -> Result<(), String> {
    let before = w.held(path.profile).await;
    match path.step {
        Step::LoginBegin | Step::LoginFinish => {
            let fresh;
            let core = if path.fresh_core {
                fresh = w.reopen().await;
                &fresh
            } else {
                &w.core
            };
            let err = match w
                .log_in(core, path.profile, Some((path.route, path.step, fault)))
                .await
            {
                Ok(()) => return Err("the login succeeded".into()),
                Err(e) => e,
            };
            check_error(&err, path, fault)?;
        }
        Step::Identity => {
            w.arm(path.route, fault);
            let err = match w.core.dci_identity(path.profile).await {
                Ok(items) => return Err(format!("the identity came back: {items:?}")),
                Err(e) => e,
            };
            check_error(&err, path, fault)?;
        }
        Step::Renewal => {
            w.make_due(path.profile).await;
            let before = w.held(path.profile).await;
            let id = w.core.profile_named(path.profile).await.unwrap().id;
            w.arm(path.route, fault);
            let sent = w.sandbox.faults().requests(path.route);
            let event = w
                .core
                .renew_profile(id, false)
                .await
                .map_err(|e| format!("the renewal itself failed: {e}"))?;
            let LifecycleEvent::RenewalFailed {
                message, retrying, ..
            } = event
            else {
                return Err(format!("not a failed renewal: {event:?}"));
            };
            // The notification adds what to do (Latchkey retries by itself).
            says(&message, path, fault, false)?;
            if !retrying {
                return Err(format!("it gave up instead of retrying later: {message}"));
            }
            let state = w.core.store().renewal(id).await.unwrap();
            match state.next_retry_at {
                Some(at) if at >= w.clock.now() + Duration::seconds(20) => {}
                other => return Err(format!("no backoff: next retry at {other:?}")),
            }
            // Asked again at once, the old token serves and the server hears
            // nothing.
            let sent = w.sandbox.faults().requests(path.route).max(sent + 1);
            let (_, token) = w
                .core
                .token(path.profile)
                .await
                .map_err(|e| format!("the old token is not served: {e}"))?;
            if Some(token.expose().to_string()) != before.token {
                return Err("another token than the old one is served".into());
            }
            if w.sandbox.faults().requests(path.route) > sent {
                return Err("asking again sent a request at once: no backoff".into());
            }
            let after = w.held(path.profile).await;
            if after != before {
                return Err(format!("the token changed: {before:?} → {after:?}"));
            }
            return Ok(());
        }
    }
    let after = w.held(path.profile).await;
    if after != before {
        return Err(format!("the token changed: {before:?} → {after:?}"));
    }
    Ok(())
}

fn check_error(err: &Error, path: &Path, fault: Injected) -> Result<(), String> {
    let code = err.code();
    let allowed: &[ErrorCode] = if is_transport(fault) {
        &[ErrorCode::Unreachable]
    } else {
        &[ErrorCode::Unreachable, ErrorCode::ServerRefused]
    };
    if !allowed.contains(&code) {
        return Err(format!("code {code:?} for: {err}"));
    }
    says(&err.to_string(), path, fault, true)
}

async fn recover(w: &World, path: &Path, fault: Injected) -> Result<Recovery, String> {
    match path.step {
        Step::LoginBegin | Step::LoginFinish => {
            w.log_in(&w.core, path.profile, None)
                .await
                .map_err(|e| e.to_string())?;
            if w.held(path.profile).await.token.is_none() {
                return Err("the new login stored no token".into());
            }
        }
        Step::Identity => {
            w.core
                .dci_identity(path.profile)
                .await
                .map_err(|e| e.to_string())?;
        }
        Step::Renewal => {
            let id = w.core.profile_named(path.profile).await.unwrap().id;
            if let Some(at) = w.core.store().renewal(id).await.unwrap().next_retry_at {
                w.clock.set(at);
            }
            let before = w.held(path.profile).await;
            let outcome = w.core.renew_profile(id, false).await;
            if path.rotates && after_the_server(fault) {
                // The server rotated the refresh token in the answer that
                // never arrived whole: the retry presents the old one.
                match outcome {
                    Ok(LifecycleEvent::RenewalFailed {
                        retrying: false, ..
                    }) => {}
                    other => return Err(format!("the grant should be gone: {other:?}")),
                }
                let err = match w.core.token(path.profile).await {
                    Ok(_) => return Err("a token of the revoked grant is handed out".into()),
                    Err(e) => e,
                };
                if err.code() != ErrorCode::LoginRequired || !err.to_string().contains("log in") {
                    return Err(format!("it does not say to log in: {err}"));
                }
                w.log_in(&w.core, path.profile, None)
                    .await
                    .map_err(|e| format!("logging in again: {e}"))?;
                return Ok(Recovery::SaysLogIn);
            }
            match outcome {
                Ok(LifecycleEvent::Renewed { .. }) => {}
                other => return Err(format!("{other:?}")),
            }
            if w.held(path.profile).await.token == before.token {
                return Err("the retry stored no new token".into());
            }
        }
    }
    Ok(Recovery::Works)
}

// The sandboxes run on this runtime too, and their RSA signatures hold a
// worker for a while in a debug build: enough workers that a slow signature
// does not starve a stream another path is reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn every_login_and_renewal_path_survives_every_fault() {
    let started = Instant::now();
    let runs: Vec<_> = PATHS.iter().map(|p| tokio::spawn(run_path(p))).collect();
    let mut cases = 0;
    let mut grants_lost = 0;
    let mut failures = Vec::new();
    for run in runs {
        let (n, lost, f) = run.await.expect("no panic");
        cases += n;
        grants_lost += lost;
        failures.extend(f);
    }
    eprintln!(
        "{} paths × {} faults = {cases} cases in {:.1} s; {} failed; {grants_lost} cost a rotated grant and said to log in",
        PATHS.len(),
        FAULTS.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
