//! Single-flight renewal across processes: a hundred `latchkey token P`
//! started together while P is due cause exactly one refresh at the server,
//! and all hundred print the same new token, which the server accepts. The
//! provider is the sandbox's OpenID provider, which rotates refresh tokens and
//! revokes the whole grant when one is presented twice: a second refresh with
//! the old refresh token would not go unnoticed.
//!
//! Runs on the real keyring (inside scripts/session.sh), under a keyring
//! service and data folder of its own.

use latchkey_core::env::Environment;
use latchkey_core::model::{ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::providers::{LoginInput, LoginStep};
use latchkey_core::vault::{SecretKey, SecretSlot};
use latchkey_core::Latchkey;
use latchkey_sandbox::oidc as sb;
use latchkey_sandbox::Sandbox;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CALLERS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_processes_asking_for_a_due_token_cause_one_refresh_and_print_the_same_token() {
    let sandbox = Sandbox::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = Environment {
        data_dir: dir.path().to_path_buf(),
        keyring_service: format!(
            "latchkey-single-flight-{}-{}",
            std::process::id(),
            std::time::SystemTime::UNIX_EPOCH
                .elapsed()
                .unwrap()
                .subsec_nanos()
        ),
    };
    let core = Latchkey::open(&env).await.unwrap();
    core.add_server(&ServerInput {
        name: "idp".into(),
        kind: "oidc".into(),
        url: sandbox.url_of("oidc"),
        ca_pem: None,
    })
    .await
    .unwrap();
    let profile = core
        .add_profile(&ProfileInput {
            name: "dev".into(),
            server: "idp".into(),
            login: "oidc".into(),
            settings: ProfileSettings {
                client_id: Some(sb::PUBLIC_CLIENT_ID.into()),
                scopes: vec!["openid".into(), "offline_access".into()],
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();

    // Log in with a token that is due two seconds later (renewal at 80 % of
    // its period), through the deep link, as the app would.
    sandbox.oidc().set_access_ttl(time::Duration::seconds(3));
    let step = core
        .login(
            "dev",
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
    let first = core
        .vault()
        .get(SecretKey::new(profile.id, SecretSlot::AccessToken))
        .await
        .unwrap()
        .unwrap()
        .expose()
        .to_string();
    sandbox.oidc().set_access_ttl(time::Duration::hours(1));
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let refreshes_before = sandbox.oidc().refreshes();

    let started = Instant::now();
    let children: Vec<_> = (0..CALLERS)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_latchkey"))
                .args(["token", "dev"])
                .env("LATCHKEY_HOME", &env.data_dir)
                .env("LATCHKEY_KEYRING_SERVICE", &env.keyring_service)
                .env("LATCHKEY_NONINTERACTIVE", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();

    let mut printed = Vec::new();
    for out in &outputs {
        assert!(
            out.status.success(),
            "a caller failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        printed.push(
            String::from_utf8(out.stdout.clone())
                .unwrap()
                .trim()
                .to_string(),
        );
    }
    let refreshes = sandbox.oidc().refreshes() - refreshes_before;
    eprintln!(
        "{CALLERS} concurrent `latchkey token`: {refreshes} refresh(es) at the server, {:.2} s for all",
        elapsed.as_secs_f64()
    );
    assert_eq!(refreshes, 1, "exactly one refresh for {CALLERS} callers");
    assert!(
        printed.iter().all(|t| t == &printed[0]),
        "every caller printed the same token"
    );
    assert_ne!(printed[0], first, "the token was renewed");
    assert!(
        sandbox.oidc().is_active(&printed[0]),
        "the server accepts the token they all printed"
    );
    // The keyring holds what they printed, and the profile is no longer due.
    let stored = core
        .vault()
        .get(SecretKey::new(profile.id, SecretSlot::AccessToken))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.expose(), printed[0]);
    core.vault().forget_profile(profile.id).await.unwrap();
}
