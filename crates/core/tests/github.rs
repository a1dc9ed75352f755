//! GitHub and Kontinuous logins against the sandbox: the Kontinuous login
//! through GitHub's authorize page with the state checked here (Kontinuous
//! does not), the fallback to the documented `/api/v1/login/github`, its
//! errors, the JWT stored with no expiry and probed with `/api/v1/pipelines`;
//! GitHub's web flow with PKCE, a GitHub App's expiring tokens refreshed with
//! both new tokens stored, and the device flow.

mod common;
use common::{profile, ProfileInputExt, World};
use latchkey_core::providers::{LoginInput, LoginStep};
use latchkey_core::renewal::LifecycleEvent;
use latchkey_core::tokens::TokenStatus;
use latchkey_core::vault::SecretSlot;
use latchkey_core::ErrorCode;
use latchkey_sandbox::github as gh;
use latchkey_sandbox::kontinuous::LoginPath;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

async fn world() -> World {
    World::at(T0)
        .with_server("kontinuous", "kontinuous")
        .with_server("gh", "github")
        .build()
        .await
}

impl World {
    async fn kontinuous_profile(&self) -> i64 {
        let mut ci = profile("ci", "kontinuous", "github-kontinuous").client_id(gh::CLIENT_ID);
        ci.settings.issuer = Some(self.sandbox.url_of("github"));
        self.add(ci).await.id
    }

    /// A GitHub web-flow profile `me` of this OAuth or GitHub App client.
    async fn github(&self, client_id: &str, client_secret: &str) -> latchkey_core::model::Profile {
        let me = profile("me", "gh", "github").client_id(client_id);
        self.add(me.secret(client_secret)).await
    }
}

#[tokio::test]
async fn kontinuous_login_stores_its_jwt_with_no_expiry_and_the_probe_accepts_it() {
    let w = world().await;
    let id = w.kontinuous_profile().await;
    let (url, _) = w.start_browser_login("ci", true).await;
    let url = url::Url::parse(&url).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "user repo admin:repo_hook");
    assert!(
        !q.contains_key("code_challenge"),
        "Kontinuous cannot forward a PKCE verifier, so none is sent"
    );
    let location = w.browser.get(url.as_str()).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let accepted = w.core.redirects().route(&location).unwrap();
    let step = w.core.finish_redirect(accepted).await.unwrap();
    assert!(
        matches!(
            step,
            LoginStep::Done {
                expires_at: None,
                ..
            }
        ),
        "{step:?}"
    );
    assert_eq!(
        w.sandbox.kontinuous().last_login_content_type().as_deref(),
        Some("application/json")
    );
    let jwt = w.secret(id, SecretSlot::AccessToken).await.unwrap();
    let view = w.core.profile_view(id).await.unwrap();
    assert_eq!(view.status, TokenStatus::Unknown);
    let detail = w.core.credential(id).await.unwrap();
    assert!(detail.tokens[0]
        .summary
        .iter()
        .any(|s| s.name == "user_id" && s.value == "github|583231"));
    assert!(
        !detail.tokens[0]
            .summary
            .iter()
            .any(|s| s.value.contains("gh") && s.name != "user_id"),
        "the GitHub token inside the JWT is never shown: {:?}",
        detail.tokens[0].summary
    );
    assert!(jwt.starts_with("eyJ"));
    let probe = w.core.token_info(id).await.unwrap();
    assert_eq!(probe[0].name, "pipelines");

    // The GitHub token inside is revoked: the probe says to log in again.
    let claims: serde_json::Value =
        serde_json::from_slice(&base64_decode(jwt.split('.').nth(1).unwrap())).unwrap();
    let inner = claims["identities"][0]["access_token"].as_str().unwrap();
    assert!(w.sandbox.github().revoke(inner));
    let err = w.core.token_info(id).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired, "{err}");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .unwrap()
}

#[tokio::test]
async fn kontinuous_falls_back_to_the_documented_path_and_reports_a_spent_code() {
    let w = world().await;
    w.sandbox.kontinuous().set_login_path(LoginPath::ApiV1);
    let id = w.kontinuous_profile().await;
    let step = w.browser_login("ci").await.unwrap();
    assert!(matches!(step, LoginStep::Done { .. }));
    assert!(w.secret(id, SecretSlot::AccessToken).await.is_some());

    // A code GitHub no longer takes: Kontinuous' own words, and what to do.
    let kept = w.secret(id, SecretSlot::AccessToken).await.unwrap();
    let (url, _) = w.start_browser_login("ci", true).await;
    let location = w.browser.get(&url).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    // Someone already traded this code (it is single use at GitHub).
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    w.sandbox
        .github()
        .exchange_code(gh::CLIENT_ID, gh::CLIENT_SECRET, &code, None)
        .unwrap();
    let accepted = w.core.redirects().route(&location).unwrap();
    let err = w.core.finish_redirect(accepted).await.unwrap_err();
    assert!(
        err.to_string().contains("Access Token is empty")
            && err.to_string().contains("log in again"),
        "{err}"
    );
    assert_eq!(w.secret(id, SecretSlot::AccessToken).await.unwrap(), kept);
}

#[tokio::test]
async fn a_github_app_login_uses_pkce_and_its_refresh_stores_both_new_tokens() {
    let w = world().await;
    let p = w.github(gh::APP_CLIENT_ID, gh::APP_CLIENT_SECRET).await;
    let step = w.browser_login("me").await.unwrap();
    assert!(matches!(step, LoginStep::Done { .. }), "{step:?}");
    let access = w.secret(p.id, SecretSlot::AccessToken).await.unwrap();
    let refresh = w.secret(p.id, SecretSlot::RefreshToken).await.unwrap();
    assert!(access.starts_with("ghu_") && refresh.starts_with("ghr_"));
    let detail = w.core.credential(p.id).await.unwrap();
    assert!(detail.tokens[0]
        .summary
        .iter()
        .any(|s| s.name == "login" && s.value == gh::USER_LOGIN));

    w.clock.advance(Duration::hours(8) - Duration::minutes(5));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::Renewed { .. }]),
        "{events:?}"
    );
    let new_access = w.secret(p.id, SecretSlot::AccessToken).await.unwrap();
    let new_refresh = w.secret(p.id, SecretSlot::RefreshToken).await.unwrap();
    assert_ne!(new_access, access);
    assert_ne!(new_refresh, refresh);
    assert!(!w.sandbox.github().is_valid(&access), "the old token died");
    assert!(w.sandbox.github().is_valid(&new_access));
}

#[tokio::test]
async fn a_denied_github_login_says_so_and_stores_nothing() {
    let w = world().await;
    let id = w.kontinuous_profile().await;
    w.sandbox.github().deny_next();
    let err = w.browser_login("ci").await.unwrap_err();
    assert!(err.to_string().contains("access_denied"), "{err}");
    assert!(w.secret(id, SecretSlot::AccessToken).await.is_none());
}

#[tokio::test]
async fn the_device_flow_shows_a_code_polls_and_stores_the_token_once_approved() {
    let w = world().await;
    w.sandbox.github().set_device_interval(0);
    let p = w
        .add(profile("dev", "gh", "github-device").client_id(gh::CLIENT_ID))
        .await;
    let mut outcomes = w.core.login_outcomes();
    let step = w.core.login("dev", LoginInput::default()).await.unwrap();
    let LoginStep::Device {
        user_code,
        verification_uri,
        ..
    } = step
    else {
        panic!("{step:?}")
    };
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert!(verification_uri.ends_with("/github/login/device"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        w.secret(p.id, SecretSlot::AccessToken).await.is_none(),
        "pending"
    );
    assert!(w.sandbox.github().approve_device(&user_code));
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), outcomes.recv())
        .await
        .expect("announced")
        .unwrap();
    assert!(outcome.accepted, "{outcome:?}");
    let token = w.secret(p.id, SecretSlot::AccessToken).await.unwrap();
    assert!(w.sandbox.github().is_valid(&token));

    // Denied: announced as refused, nothing new stored.
    let step = w.core.login("dev", LoginInput::default()).await.unwrap();
    let LoginStep::Device { user_code, .. } = step else {
        panic!()
    };
    assert!(w.sandbox.github().deny_device(&user_code));
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), outcomes.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(!outcome.accepted);
    assert!(
        outcome.message.contains("access_denied"),
        "{}",
        outcome.message
    );
    assert_eq!(
        w.secret(p.id, SecretSlot::AccessToken).await.unwrap(),
        token
    );

    // Disabled device flow: what to do.
    w.sandbox.github().set_device_flow(false);
    let err = w
        .core
        .login("dev", LoginInput::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("enable the device flow"), "{err}");
}

#[tokio::test]
async fn logout_revokes_a_github_token_when_a_client_secret_is_configured() {
    let w = world().await;
    let p = w.github(gh::CLIENT_ID, gh::CLIENT_SECRET).await;
    w.browser_login("me").await.unwrap();
    let token = w.secret(p.id, SecretSlot::AccessToken).await.unwrap();
    assert!(w.sandbox.github().is_valid(&token));
    let report = w.core.logout(p.id).await.unwrap();
    assert!(report.message.contains("revoked"), "{}", report.message);
    assert!(report.revoked);
    assert!(!w.sandbox.github().is_valid(&token));

    // Kontinuous' JWT cannot be revoked: forgotten locally, and said so.
    let id = w.kontinuous_profile().await;
    w.browser_login("ci").await.unwrap();
    let report = w.core.logout(id).await.unwrap();
    assert!(!report.revoked);
    assert!(
        report.message.contains("stays valid until it expires"),
        "{}",
        report.message
    );
    assert!(w.secret(id, SecretSlot::AccessToken).await.is_none());
}
