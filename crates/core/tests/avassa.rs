//! The Avassa provider against the sandbox's strongbox, on one hand-set clock
//! shared by Latchkey and the sandbox: password login with and without OTP
//! (both ways the server may ask for one), wrong-then-right codes, Kubernetes
//! service-account login, refresh at 75 % with token rotation, the max TTL
//! turning into a reminder instead of a retry loop, a sealed strongbox, the
//! server's error texts, and that no failure loses the stored token.

mod common;
use common::{browser_step, profile, refused, ProfileInputExt, World};
use latchkey_core::clock::Clock;
use latchkey_core::model::{ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::providers::{LoginInput, LoginStep};
use latchkey_core::renewal::LifecycleEvent;
use latchkey_core::tokens::TokenStatus;
use latchkey_core::vault::{SecretKey, SecretSlot};
use latchkey_core::{Error, ErrorCode};
use latchkey_sandbox::avassa::{self as sb, OtpStyle};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

async fn world() -> World {
    World::at(T0).with_server("edge", "avassa").build().await
}

impl World {
    async fn password_profile(&self, name: &str, user: &str, tenant: &str) -> i64 {
        let input = profile(name, "edge", "avassa-password").tenant(tenant);
        self.add(input.username(user)).await.id
    }

    async fn login(&self, name: &str, password: &str, remember: bool) -> Result<LoginStep, Error> {
        self.password_login(name, Some(password), remember).await
    }

    /// An Avassa OIDC profile `sso` in tenant acme.
    async fn sso(&self) -> i64 {
        self.add(profile("sso", "edge", "avassa-oidc").tenant("acme"))
            .await
            .id
    }

    /// A six-digit code the sandbox refuses now.
    fn wrong_otp(&self) -> String {
        let now = self.clock.now();
        (0..)
            .map(|i| format!("{:06}", 123_456 + i))
            .find(|c| {
                [-30, 0, 30]
                    .iter()
                    .all(|s| sb::totp(sb::BOB_TOTP_SEED, now + Duration::seconds(*s)) != *c)
            })
            .unwrap()
    }
}

#[tokio::test]
async fn a_password_login_stores_the_token_with_its_tenant_and_expiry_and_forgets_the_password() {
    let w = world().await;
    let id = w.password_profile("acme-alice", "alice", "acme").await;
    let step = w
        .login("acme-alice", sb::ALICE_PASSWORD, false)
        .await
        .unwrap();
    let LoginStep::Done {
        tenant, expires_at, ..
    } = step
    else {
        panic!("alice has no OTP: {step:?}")
    };
    assert_eq!(tenant.as_deref(), Some("acme"));
    assert_eq!(expires_at.as_deref(), Some("2026-06-01T09:10:00Z"));
    let token = w.token(id).await.expect("the token is in the vault");
    assert!(w.sandbox.avassa().is_valid(&token));
    let view = w.core.profile_view(id).await.unwrap();
    assert_eq!(view.status, TokenStatus::Valid);
    assert!(
        w.vault
            .get(SecretKey::new(id, SecretSlot::Password))
            .await
            .unwrap()
            .is_none(),
        "the password is used once unless the user asks to remember it"
    );
    let detail = w.core.credential(id).await.unwrap();
    let summary = &detail.tokens[0].summary;
    assert!(summary
        .iter()
        .any(|s| s.name == "tenant" && s.value == "acme"));
    assert!(summary.iter().any(|s| s.name == "accessor"));

    // The same user in another tenant is another token.
    let other = w.password_profile("globex-alice", "alice", "globex").await;
    w.login("globex-alice", sb::ALICE_PASSWORD, true)
        .await
        .unwrap();
    let info = w.core.token_info(other).await.unwrap();
    let tenant = info.iter().find(|i| i.name == "tenant").unwrap();
    assert_eq!(tenant.value, "globex");
    assert!(info
        .iter()
        .any(|i| i.name == "policies" && i.value.contains("default")));
    assert_eq!(
        w.vault
            .get(SecretKey::new(other, SecretSlot::Password))
            .await
            .unwrap()
            .map(|p| p.expose().to_string())
            .as_deref(),
        Some(sb::ALICE_PASSWORD),
        "remembered on request"
    );
}

#[tokio::test]
async fn an_otp_is_asked_for_a_wrong_code_keeps_the_login_waiting_and_the_right_one_logs_in() {
    for style in [OtpStyle::TotpRequiredFlag, OtpStyle::Unauthorized] {
        let w = world().await;
        w.sandbox.avassa().set_otp_style(style);
        let id = w.password_profile("acme-bob", "bob", "acme").await;
        let step = w.login("acme-bob", sb::BOB_PASSWORD, false).await.unwrap();
        assert!(
            matches!(&step, LoginStep::NeedsOtp { tenant: Some(t), .. } if t == "acme"),
            "{style:?}: {step:?}"
        );
        assert_eq!(w.token(id).await, None, "nothing stored before the code");

        let err = w
            .core
            .submit_otp("acme-bob", &w.wrong_otp())
            .await
            .unwrap_err();
        let (_, field, message) = refused(&err);
        assert_eq!(field, Some("otp"), "{style:?}: {err:?}");
        assert!(!message.is_empty());
        assert_eq!(w.token(id).await, None);

        // Half a minute later the code of the moment still works: the login
        // waited for another try.
        w.clock.advance(Duration::seconds(31));
        let step = w
            .core
            .submit_otp("acme-bob", &w.sandbox.avassa().bob_otp())
            .await
            .unwrap();
        assert!(
            matches!(step, LoginStep::Done { .. }),
            "{style:?}: {step:?}"
        );
        let token = w.token(id).await.unwrap();
        assert!(w.sandbox.avassa().is_valid(&token));

        // Done means done: no login is waiting any more.
        let again = w.core.submit_otp("acme-bob", "123456").await.unwrap_err();
        assert_eq!(again.code(), ErrorCode::LoginRequired);
    }
}

#[tokio::test]
async fn cancelling_the_otp_dialog_stores_nothing_and_ends_the_login() {
    let w = world().await;
    let id = w.password_profile("acme-bob", "bob", "acme").await;
    let step = w.login("acme-bob", sb::BOB_PASSWORD, true).await.unwrap();
    assert!(matches!(step, LoginStep::NeedsOtp { .. }));
    w.core.cancel_login(id);
    let err = w
        .core
        .submit_otp("acme-bob", &w.sandbox.avassa().bob_otp())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired);
    assert_eq!(w.token(id).await, None);
    assert!(
        w.vault
            .get(SecretKey::new(id, SecretSlot::Password))
            .await
            .unwrap()
            .is_none(),
        "a cancelled login does not remember the password"
    );
}

#[tokio::test]
async fn refusals_show_the_servers_words_blame_the_right_field_and_keep_the_stored_token() {
    let w = world().await;
    let id = w.password_profile("acme-alice", "alice", "acme").await;
    w.login("acme-alice", sb::ALICE_PASSWORD, false)
        .await
        .unwrap();
    let kept = w.token(id).await.unwrap();

    let err = w.login("acme-alice", "wrong", false).await.unwrap_err();
    assert_eq!(
        refused(&err),
        (Some(401), Some("password"), "invalid username or password")
    );

    w.core.add_tenant("edge", "initech").await.unwrap();
    w.password_profile("initech-alice", "alice", "initech")
        .await;
    let err = w
        .login("initech-alice", sb::ALICE_PASSWORD, false)
        .await
        .unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(404), Some("tenant")));
    assert!(message.contains("no such tenant: initech"), "{message}");

    w.sandbox.avassa().set_sealed(true);
    let err = w
        .login("acme-alice", sb::ALICE_PASSWORD, false)
        .await
        .unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(503), None));
    assert!(message.contains("sealed"), "{message}");
    assert!(
        !message.contains("password"),
        "sealed is not a bad password"
    );
    let info = w.core.token_info(id).await.unwrap_err();
    assert!(info.to_string().contains("sealed"));

    assert_eq!(
        w.token(id).await.unwrap(),
        kept,
        "no failure lost the token"
    );
    w.sandbox.avassa().set_sealed(false);
    w.login("acme-alice", sb::ALICE_PASSWORD, false)
        .await
        .unwrap();
    assert_ne!(
        w.token(id).await.unwrap(),
        kept,
        "unsealed, it logs in again"
    );
}

#[tokio::test]
async fn the_token_refreshes_at_75_percent_and_the_rotated_token_replaces_the_old_one() {
    let w = world().await;
    w.sandbox
        .avassa()
        .set_ttl(Duration::minutes(10), Duration::hours(1));
    let id = w.password_profile("acme-alice", "alice", "acme").await;
    w.login("acme-alice", sb::ALICE_PASSWORD, false)
        .await
        .unwrap();
    let first = w.token(id).await.unwrap();
    assert_eq!(
        w.core.next_deadline().await.unwrap(),
        Some(T0 + Duration::seconds(450))
    );
    w.clock.advance(Duration::seconds(449));
    assert!(w.core.run_due().await.unwrap().is_empty());
    assert_eq!(w.sandbox.avassa().refreshes(), 0);

    w.clock.advance(Duration::seconds(1));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::Renewed { expires_at: Some(e), .. }] if e == "2026-06-01T09:17:30Z"),
        "{events:?}"
    );
    let second = w.token(id).await.unwrap();
    assert_ne!(second, first, "the server rotated the token");
    assert!(!w.sandbox.avassa().is_valid(&first));
    assert!(w.sandbox.avassa().is_valid(&second));
    assert_eq!(w.sandbox.avassa().refreshes(), 1);
    assert_eq!(
        w.core.next_deadline().await.unwrap(),
        Some(T0 + Duration::seconds(450 + 450))
    );
}

#[tokio::test]
async fn the_max_ttl_turns_into_a_reminder_not_a_retry_loop_and_a_remembered_password_logs_in_again(
) {
    let w = world().await;
    w.sandbox
        .avassa()
        .set_ttl(Duration::minutes(10), Duration::minutes(15));
    let id = w.password_profile("acme-alice", "alice", "acme").await;
    w.login("acme-alice", sb::ALICE_PASSWORD, false)
        .await
        .unwrap();
    // 7m30s: refreshed up to the max TTL (15 min after login).
    w.clock.advance(Duration::seconds(450));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::Renewed { expires_at: Some(e), .. }] if e == "2026-06-01T09:15:00Z"),
        "{events:?}"
    );
    let capped = w.token(id).await.unwrap();

    // The next refresh is refused for good: the user is asked, once.
    let due = w.core.next_deadline().await.unwrap().unwrap();
    w.clock.set(due);
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::RenewalFailed { retrying: false, message, .. }] if message.contains("max-ttl")),
        "{events:?}"
    );
    let refreshes = w.sandbox.avassa().refreshes();
    assert_eq!(refreshes, 2);
    for _ in 0..20 {
        w.clock.advance(Duration::seconds(20));
        for e in w.core.run_due().await.unwrap() {
            assert!(
                matches!(e, LifecycleEvent::Reminder { .. }),
                "only reminders follow: {e:?}"
            );
        }
    }
    assert_eq!(
        w.sandbox.avassa().refreshes(),
        refreshes,
        "no retry loop against a refusal"
    );
    assert_eq!(w.token(id).await.unwrap(), capped, "the old token is kept");

    // With the password remembered, the refusal turns into a silent re-login.
    w.clock.set(T0 + Duration::hours(1));
    w.login("acme-alice", sb::ALICE_PASSWORD, true)
        .await
        .unwrap();
    let fresh = w.token(id).await.unwrap();
    w.clock.advance(Duration::seconds(450));
    w.core.run_due().await.unwrap();
    w.clock.set(w.core.next_deadline().await.unwrap().unwrap());
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::Renewed { .. }]),
        "{events:?}"
    );
    let relogged = w.token(id).await.unwrap();
    assert_ne!(relogged, fresh);
    assert!(w.sandbox.avassa().is_valid(&relogged));
}

#[tokio::test]
async fn a_sealed_strongbox_fails_the_renewal_keeps_the_token_and_it_renews_once_unsealed() {
    let w = world().await;
    let id = w.password_profile("acme-alice", "alice", "acme").await;
    w.login("acme-alice", sb::ALICE_PASSWORD, false)
        .await
        .unwrap();
    let kept = w.token(id).await.unwrap();
    w.sandbox.avassa().set_sealed(true);
    w.clock.advance(Duration::seconds(450));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::RenewalFailed { retrying: true, first: true, message, .. }] if message.contains("sealed")),
        "{events:?}"
    );
    assert_eq!(w.token(id).await.unwrap(), kept);
    w.sandbox.avassa().set_sealed(false);
    let retry = w.core.next_deadline().await.unwrap().unwrap();
    assert!(retry > w.clock.now() && retry < T0 + Duration::minutes(10));
    w.clock.set(retry);
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::Renewed { .. }]),
        "{events:?}"
    );
    assert_ne!(w.token(id).await.unwrap(), kept);
}

#[tokio::test]
async fn a_kubernetes_login_sends_the_service_account_token_read_from_its_file_each_time() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, w.sandbox.avassa().sa_token(sb::K8S_SUBJECT) + "\n").unwrap();
    let id = w
        .core
        .add_profile(&ProfileInput {
            name: "ci".into(),
            server: "edge".into(),
            tenant: Some("acme".into()),
            login: "avassa-kubernetes".into(),
            settings: ProfileSettings {
                service: Some(sb::K8S_SERVICE.into()),
                role: Some(sb::K8S_ROLE.into()),
                sa_token_file: Some(file.display().to_string()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    // The inspector shows the service-account token's claims before sending.
    let seen = w
        .core
        .inspect(&latchkey_core::inspector::TokenSource::ServiceAccount { profile_id: id })
        .await
        .unwrap();
    let claims = serde_json::to_string(&seen).unwrap();
    assert!(claims.contains(sb::K8S_SUBJECT), "{claims}");
    let step = w.core.login("ci", LoginInput::default()).await.unwrap();
    assert!(matches!(step, LoginStep::Done { .. }), "{step:?}");
    assert!(w.sandbox.avassa().is_valid(&w.token(id).await.unwrap()));

    // The file is read again on each login: a token for another account is
    // refused by the role binding, with the server's words.
    std::fs::write(
        &file,
        w.sandbox
            .avassa()
            .sa_token("system:serviceaccount:ci:intruder"),
    )
    .unwrap();
    let err = w.core.login("ci", LoginInput::default()).await.unwrap_err();
    let (status, _, message) = refused(&err);
    assert_eq!(status, Some(403));
    assert!(message.contains("not bound to role"), "{message}");

    // A token not signed by the cluster is refused as such.
    std::fs::write(&file, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl").unwrap();
    let err = w.core.login("ci", LoginInput::default()).await.unwrap_err();
    assert_eq!(refused(&err).0, Some(401));

    std::fs::remove_file(&file).unwrap();
    let err = w.core.login("ci", LoginInput::default()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid);
    assert_eq!(err.field(), Some("sa_token_file"));
    assert!(err
        .to_string()
        .contains("cannot read the service-account token"));
}

#[tokio::test]
async fn the_token_info_probe_reports_a_token_the_server_no_longer_accepts() {
    let w = world().await;
    let id = w.password_profile("acme-alice", "alice", "acme").await;
    w.login("acme-alice", sb::ALICE_PASSWORD, false)
        .await
        .unwrap();
    let info = w.core.token_info(id).await.unwrap();
    let names: Vec<_> = info.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "tenant",
            "display-name",
            "policies",
            "ttl",
            "max-ttl",
            "renewable",
            "expires",
            "accessor"
        ]
    );
    w.clock.advance(Duration::minutes(11));
    let err = w.core.token_info(id).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired, "{err}");
}

#[tokio::test]
async fn an_unreachable_server_says_what_to_check() {
    let w = world().await;
    w.core
        .add_server(&ServerInput {
            name: "down".into(),
            kind: "avassa".into(),
            url: "http://127.0.0.1:9".into(),
            ca_pem: None,
        })
        .await
        .unwrap();
    w.add(profile("down-alice", "down", "avassa-password").username("alice"))
        .await;
    let err = w.login("down-alice", "x", false).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unreachable);
    assert!(
        err.to_string().contains("check the URL of server 'down'"),
        "{err}"
    );
}

#[tokio::test]
async fn an_oidc_login_goes_through_the_browser_and_only_the_state_it_started_finishes_it() {
    use latchkey_core::flows::RedirectRefused;
    let w = world().await;
    let id = w.sso().await;
    let step = w
        .core
        .login(
            "sso",
            LoginInput {
                deep_link: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let LoginStep::Browser { url, tenant, .. } = step else {
        panic!("an OIDC login continues in the browser: {step:?}")
    };
    assert_eq!(tenant.as_deref(), Some("acme"));
    assert!(
        url.starts_with(&format!("{}/oidc/authorize?", w.sandbox.url_of("avassa"))),
        "the server's relative URL is resolved against the API: {url}"
    );
    assert_eq!(w.core.redirects().waiting(), vec![id]);

    // The browser: the identity provider approves and redirects to the deep link.
    let browser = &w.browser;
    let res = browser.get(&url).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("latchkey://callback?code="),
        "{location}"
    );

    // A redirect for a state this login did not start changes nothing.
    let forged = location.replace("state=", "state=forged");
    assert_eq!(
        w.core.redirects().route(&forged).unwrap_err(),
        RedirectRefused::UnknownState
    );
    assert_eq!(w.token(id).await, None);

    let accepted = w.core.redirects().route(&location).unwrap();
    let step = w.core.finish_redirect(accepted).await.unwrap();
    assert!(matches!(step, LoginStep::Done { .. }), "{step:?}");
    assert!(w.sandbox.avassa().is_valid(&w.token(id).await.unwrap()));
    assert_eq!(
        w.core.redirects().route(&location).unwrap_err(),
        RedirectRefused::AlreadyUsed,
        "a replayed redirect is refused"
    );
    assert!(w.core.redirects().waiting().is_empty());
}

#[tokio::test]
async fn without_deep_links_the_oidc_redirect_comes_back_to_a_loopback_listener() {
    let w = world().await;
    let id = w.sso().await;
    let mut outcomes = w.core.login_outcomes();
    let step = w.core.login("sso", LoginInput::default()).await.unwrap();
    let (url, redirect_uri) = browser_step(step);
    assert!(
        redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with("/callback"),
        "{redirect_uri}"
    );
    let browser = &w.browser;
    let location = browser.get(&url).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(location.starts_with(&redirect_uri), "{location}");

    // A forged callback gets the reason and does not stop the listener.
    let forged = browser
        .get(format!("{redirect_uri}?code=x&state=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(forged
        .text()
        .await
        .unwrap()
        .contains("no login was waiting"));

    let page = browser.get(&location).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("You can close this tab"));
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), outcomes.recv())
        .await
        .expect("the login is announced")
        .unwrap();
    assert!(outcome.accepted, "{outcome:?}");
    assert_eq!(outcome.message, "Logged in sso · tenant acme.");
    assert!(w.sandbox.avassa().is_valid(&w.token(id).await.unwrap()));
    assert!(
        browser.get(&location).send().await.is_err(),
        "the listener stopped after the redirect it waited for"
    );
}
