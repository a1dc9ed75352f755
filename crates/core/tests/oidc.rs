//! Generic OpenID Connect and Auth0 logins against the sandbox's provider, on
//! one hand-set clock: the loopback and deep-link redirects, PKCE and nonce,
//! the ID token checked against the JWKS (fetched again after a key
//! rotation), the RFC 9207 `iss` check, a denied login, a late redirect,
//! refresh with rotation, a revoked grant turning into a reminder, and a
//! provider that is down keeping the stored token.

mod common;
use common::{browser_step, profile, ProfileInputExt, World};
use latchkey_core::clock::Clock;
use latchkey_core::flows::RedirectRefused;
use latchkey_core::model::{ProfileSettings, ServerInput};
use latchkey_core::providers::{LoginInput, LoginOutcome, LoginStep};
use latchkey_core::renewal::LifecycleEvent;
use latchkey_core::tokens::TokenStatus;
use latchkey_core::vault::SecretSlot;
use latchkey_core::ErrorCode;
use latchkey_sandbox::oidc as sb;
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

async fn world() -> World {
    World::at(T0)
        .with_server("idp", "oidc")
        .with_server("auth0", "auth0")
        .build()
        .await
}

impl World {
    async fn profile(
        &self,
        name: &str,
        server: &str,
        login: &str,
        settings: ProfileSettings,
    ) -> i64 {
        self.add(profile(name, server, login).settings(settings))
            .await
            .id
    }

    /// Starts the login and plays the browser up to the provider's redirect.
    async fn authorize(&self, name: &str, deep_link: bool) -> (String, String) {
        let (url, redirect_uri) = self.start_browser_login(name, deep_link).await;
        let location = self.provider_redirect(&url).await;
        assert!(location.starts_with(&redirect_uri), "{location}");
        (location, redirect_uri)
    }

    /// Follows the redirect to the loopback listener and waits for the outcome.
    async fn come_back(&self, location: &str) -> LoginOutcome {
        let mut outcomes = self.core.login_outcomes();
        let page = self.browser.get(location).send().await.unwrap();
        assert!(page.status().is_success() || page.status() == 400);
        tokio::time::timeout(std::time::Duration::from_secs(20), outcomes.recv())
            .await
            .expect("the login is announced")
            .unwrap()
    }
}

fn public_client() -> ProfileSettings {
    ProfileSettings {
        client_id: Some(sb::PUBLIC_CLIENT_ID.into()),
        scopes: vec!["openid".into(), "email".into(), "offline_access".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_loopback_login_stores_access_refresh_and_a_validated_id_token() {
    let w = world().await;
    let id = w.profile("dev", "idp", "oidc", public_client()).await;
    let (location, redirect_uri) = w.authorize("dev", false).await;
    assert!(redirect_uri.starts_with("http://127.0.0.1:"));
    let query: std::collections::HashMap<_, _> = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["iss"], w.sandbox.oidc().issuer(), "RFC 9207 iss sent");
    let outcome = w.come_back(&location).await;
    assert!(outcome.accepted, "{outcome:?}");

    let access = w.secret(id, SecretSlot::AccessToken).await.unwrap();
    assert!(w.sandbox.oidc().is_active(&access));
    assert!(w.secret(id, SecretSlot::RefreshToken).await.is_some());
    assert!(w.secret(id, SecretSlot::IdToken).await.is_some());
    let view = w.core.profile_view(id).await.unwrap();
    assert_eq!(view.status, TokenStatus::Valid);
    assert_eq!(view.expires_at.as_deref(), Some("2026-06-01T10:00:00Z"));
    let detail = w.core.credential(id).await.unwrap();
    let summary = &detail.tokens[0].summary;
    assert!(
        summary
            .iter()
            .any(|s| s.name == "email" && s.value == sb::USER_EMAIL),
        "{summary:?}"
    );
}

#[tokio::test]
async fn a_denied_login_shows_the_providers_error_and_stores_nothing() {
    let w = world().await;
    let id = w.profile("dev", "idp", "oidc", public_client()).await;
    w.sandbox.oidc().deny_next();
    let (location, _) = w.authorize("dev", false).await;
    assert!(location.contains("error=access_denied"), "{location}");
    let outcome = w.come_back(&location).await;
    assert!(!outcome.accepted);
    assert!(
        outcome.message.contains("access_denied"),
        "{}",
        outcome.message
    );
    assert_eq!(w.secret(id, SecretSlot::AccessToken).await, None);
}

#[tokio::test]
async fn a_redirect_naming_another_issuer_is_refused_and_a_late_or_replayed_one_too() {
    let w = world().await;
    let id = w.profile("dev", "idp", "oidc", public_client()).await;
    let (location, _) = w.authorize("dev", true).await;
    assert!(location.starts_with("latchkey://callback?"));
    let issuer = w.sandbox.oidc().issuer().to_string();
    let encoded: String = url::form_urlencoded::byte_serialize(issuer.as_bytes()).collect();
    let mixed_up = location.replace(&encoded, "https%3A%2F%2Fevil.example");
    assert_ne!(mixed_up, location);
    let err = w.core.redirects().route(&mixed_up).unwrap_err();
    assert_eq!(
        err,
        RedirectRefused::ForeignIssuer("'https://evil.example'".into())
    );
    assert!(err.to_string().contains("https://evil.example"), "{err}");
    assert_eq!(w.secret(id, SecretSlot::AccessToken).await, None);
    // The refusal did not spend the login: the provider's own redirect ends it.
    let accepted = w.core.redirects().route(&location).unwrap();
    w.core.finish_redirect(accepted).await.unwrap();
    let stored = w.secret(id, SecretSlot::AccessToken).await;
    assert!(stored.is_some());
    assert_eq!(
        w.core.redirects().route(&location).unwrap_err(),
        RedirectRefused::AlreadyUsed,
        "and only once"
    );

    // A redirect after the deadline is refused too.
    let (late, _) = w.authorize("dev", true).await;
    w.clock.advance(Duration::minutes(11));
    assert!(matches!(
        w.core.redirects().route(&late).unwrap_err(),
        RedirectRefused::Expired(_)
    ));
    assert_eq!(
        w.secret(id, SecretSlot::AccessToken).await,
        stored,
        "the late redirect stored nothing"
    );
}

#[tokio::test]
async fn the_login_wait_is_a_setting_and_bounds_the_state() {
    let w = world().await;
    w.profile("dev", "idp", "oidc", public_client()).await;
    let mut settings = w.core.settings().await.unwrap();
    for bad in [0, 61] {
        settings.login_wait_minutes = bad;
        let err = w.core.set_settings(&settings).await.unwrap_err();
        assert_eq!(err.field(), Some("login_wait_minutes"), "{err}");
        assert!(err.to_string().contains("between 1 and 60"), "{err}");
    }
    settings.login_wait_minutes = 2;
    w.core.set_settings(&settings).await.unwrap();

    // Within two minutes the redirect lands; after them it is refused.
    let (in_time, _) = w.authorize("dev", true).await;
    w.clock.advance(Duration::seconds(110));
    assert!(w.core.redirects().route(&in_time).is_ok());
    let (late, _) = w.authorize("dev", true).await;
    w.clock.advance(Duration::seconds(130));
    assert!(matches!(
        w.core.redirects().route(&late).unwrap_err(),
        RedirectRefused::Expired(_)
    ));

    // The setting outlives the process: a core opened again waits as long.
    let again = w
        .open_on(
            latchkey_core::vault::Vault::memory(),
            latchkey_core::clock::system(),
        )
        .await;
    assert_eq!(again.redirects().login_wait(), Duration::minutes(2));
}

#[tokio::test]
async fn after_a_key_rotation_the_keys_are_fetched_again_once() {
    let w = world().await;
    w.profile("dev", "idp", "oidc", public_client()).await;
    let (location, _) = w.authorize("dev", true).await;
    let accepted = w.core.redirects().route(&location).unwrap();
    w.core.finish_redirect(accepted).await.unwrap();
    let before = w.sandbox.oidc().signing_kid();
    w.sandbox.oidc().rotate_key();
    assert_ne!(w.sandbox.oidc().signing_kid(), before);
    // Discovery and keys are cached from the first login; the new kid is
    // unknown to them until they are fetched again.
    let (location, _) = w.authorize("dev", true).await;
    let accepted = w.core.redirects().route(&location).unwrap();
    let step = w.core.finish_redirect(accepted).await.unwrap();
    assert!(matches!(step, LoginStep::Done { .. }), "{step:?}");
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_a_revoked_grant_asks_the_user() {
    let w = world().await;
    w.sandbox.oidc().set_access_ttl(Duration::minutes(30));
    let id = w.profile("dev", "idp", "oidc", public_client()).await;
    let (location, _) = w.authorize("dev", true).await;
    let accepted = w.core.redirects().route(&location).unwrap();
    w.core.finish_redirect(accepted).await.unwrap();
    let first_refresh = w.secret(id, SecretSlot::RefreshToken).await.unwrap();
    let first_access = w.secret(id, SecretSlot::AccessToken).await.unwrap();

    // Five minutes before expiry.
    w.clock.advance(Duration::minutes(25));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::Renewed { .. }]),
        "{events:?}"
    );
    let second_refresh = w.secret(id, SecretSlot::RefreshToken).await.unwrap();
    assert_ne!(second_refresh, first_refresh, "the refresh token rotated");
    assert_ne!(
        w.secret(id, SecretSlot::AccessToken).await.unwrap(),
        first_access
    );
    assert_eq!(w.sandbox.oidc().refreshes(), 1);

    // The provider revokes the grant: the next renewal asks the user, once.
    w.sandbox.oidc().revoke_all_refresh_tokens();
    w.clock.set(w.core.next_deadline().await.unwrap().unwrap());
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(
            &events[..],
            [LifecycleEvent::RenewalFailed {
                retrying: false,
                ..
            }]
        ),
        "{events:?}"
    );
    let refreshes = w.sandbox.oidc().refreshes();
    for _ in 0..10 {
        w.clock.advance(Duration::minutes(1));
        w.core.run_due().await.unwrap();
    }
    assert_eq!(w.sandbox.oidc().refreshes(), refreshes, "no retry loop");
}

#[tokio::test]
async fn a_provider_that_is_down_fails_the_renewal_and_keeps_the_token() {
    let w = world().await;
    let id = w.profile("dev", "idp", "oidc", public_client()).await;
    let (location, _) = w.authorize("dev", true).await;
    let accepted = w.core.redirects().route(&location).unwrap();
    w.core.finish_redirect(accepted).await.unwrap();
    let kept = w.secret(id, SecretSlot::AccessToken).await.unwrap();
    w.sandbox.oidc().set_down(true);
    w.clock.advance(Duration::minutes(55));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(
            &events[..],
            [LifecycleEvent::RenewalFailed { retrying: true, .. }]
        ),
        "{events:?}"
    );
    assert_eq!(w.secret(id, SecretSlot::AccessToken).await.unwrap(), kept);

    // Logging in while it is down says so.
    let fresh = w.world_profile_login_error().await;
    assert!(
        fresh.contains("503") || fresh.contains("temporarily_unavailable"),
        "{fresh}"
    );
}

impl World {
    async fn world_profile_login_error(&self) -> String {
        self.profile("other", "idp", "oidc", public_client()).await;
        // A fresh issuer lookup is needed: a new Latchkey has no cache.
        let err = self
            .core
            .login("other", LoginInput::default())
            .await
            .err()
            .map(|e| e.to_string());
        match err {
            Some(e) => e,
            None => {
                // Discovery was cached; the provider's authorize page is down.
                let step = self
                    .core
                    .login("other", LoginInput::default())
                    .await
                    .unwrap();
                let (url, _) = browser_step(step);
                self.browser
                    .get(&url)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            }
        }
    }
}

#[tokio::test]
async fn auth0_sends_the_audience_and_gets_a_refresh_token_with_offline_access() {
    let w = world().await;
    // Auth0 wants the exact redirect URI registered: a fixed loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    w.sandbox.auth0().register_redirect_uri(redirect.clone());
    let id = w
        .profile(
            "tenant",
            "auth0",
            "auth0",
            ProfileSettings {
                client_id: Some(sb::AUTH0_CLIENT_ID.into()),
                audience: Some("https://api.kontinuous.example".into()),
                redirect_uri: Some(redirect.clone()),
                ..Default::default()
            },
        )
        .await;
    let (location, redirect_uri) = w.authorize("tenant", false).await;
    assert_eq!(redirect_uri, redirect);
    let outcome = w.come_back(&location).await;
    assert!(outcome.accepted, "{outcome:?}");
    assert!(
        w.secret(id, SecretSlot::RefreshToken).await.is_some(),
        "offline_access is asked by default for Auth0"
    );
    let detail = w.core.credential(id).await.unwrap();
    let aud = detail.tokens[0]
        .summary
        .iter()
        .find(|s| s.name == "aud")
        .map(|s| s.value.clone())
        .unwrap_or_default();
    assert!(aud.contains("https://api.kontinuous.example"), "{aud}");

    // An unregistered loopback port is refused by Auth0 on its own page.
    w.core
        .update_profile(
            id,
            &profile("tenant", "auth0", "auth0").client_id(sb::AUTH0_CLIENT_ID),
        )
        .await
        .unwrap();
    let step = w.core.login("tenant", LoginInput::default()).await.unwrap();
    let (url, _) = browser_step(step);
    let res = w.browser.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 400, "no redirect to an unregistered URI");
    let _ = w.clock.now();
    let err = w
        .core
        .login("missing", LoginInput::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn logout_revokes_at_the_provider_and_offers_its_sign_out_page() {
    // RFC 7009 revocation is refused by the oauth2 crate over plain HTTP, as
    // it should be: this provider runs over TLS with a private CA.
    let w = world().await;
    let tls = latchkey_sandbox::tls::TlsSandbox::start(Arc::new(w.clock.clone()))
        .await
        .unwrap();
    w.core
        .add_server(&ServerInput {
            name: "idp-tls".into(),
            kind: "oidc".into(),
            url: tls.url_of("oidc"),
            ca_pem: Some(tls.ca_pem().to_string()),
        })
        .await
        .unwrap();
    let id = w.profile("dev", "idp-tls", "oidc", public_client()).await;
    let ca = reqwest::Certificate::from_pem(tls.ca_pem().as_bytes()).unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let login = |browser: reqwest::Client| {
        let core = w.core.clone();
        async move {
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
            let (url, _) = browser_step(step);
            let location = browser.get(&url).send().await.unwrap().headers()["location"]
                .to_str()
                .unwrap()
                .to_string();
            let accepted = core.redirects().route(&location).unwrap();
            core.finish_redirect(accepted).await.unwrap();
        }
    };
    login(browser.clone()).await;
    let access = w.secret(id, SecretSlot::AccessToken).await.unwrap();
    let report = w.core.logout(id).await.unwrap();
    assert!(report.message.contains("revoked"), "{}", report.message);
    assert!(!report.message.contains("did not"), "{}", report.message);
    let end = report
        .end_session_url
        .expect("the sandbox advertises end_session");
    assert!(end.contains("id_token_hint="), "{end}");
    assert_eq!(w.secret(id, SecretSlot::AccessToken).await, None);
    assert_eq!(w.secret(id, SecretSlot::RefreshToken).await, None);
    let _ = access;

    // Over plain HTTP (or with the provider down), the tokens are forgotten
    // locally anyway, and the report says the server did not revoke them.
    let plain = w.profile("plain", "idp", "oidc", public_client()).await;
    let (location, _) = w.authorize("plain", true).await;
    let accepted = w.core.redirects().route(&location).unwrap();
    w.core.finish_redirect(accepted).await.unwrap();
    let report = w.core.logout(plain).await.unwrap();
    assert!(
        report.message.contains("did not revoke"),
        "{}",
        report.message
    );
    assert_eq!(w.secret(plain, SecretSlot::AccessToken).await, None);
    tls.stop().await;
}

#[tokio::test]
async fn a_device_code_login_works_where_advertised_and_says_what_to_do_where_not() {
    let w = world().await;
    w.sandbox.oidc().set_device_interval(Duration::ZERO);
    let mut settings = public_client();
    settings.redirect = Some(latchkey_core::model::RedirectMode::Device);
    let id = w.profile("tv", "idp", "oidc", settings).await;

    let mut outcomes = w.core.login_outcomes();
    let step = w.core.login("tv", LoginInput::default()).await.unwrap();
    let LoginStep::Device {
        user_code,
        verification_uri,
        ..
    } = step
    else {
        panic!("{step:?}")
    };
    assert_eq!(Some(user_code.clone()), w.sandbox.oidc().last_user_code());
    assert!(
        verification_uri.starts_with(&format!("{}/device", w.sandbox.oidc().issuer())),
        "{verification_uri}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(w.secret(id, SecretSlot::AccessToken).await, None, "pending");
    assert!(w.sandbox.oidc().approve_device(&user_code));
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), outcomes.recv())
        .await
        .expect("announced")
        .unwrap();
    assert!(outcome.accepted, "{outcome:?}");
    let access = w.secret(id, SecretSlot::AccessToken).await.unwrap();
    assert!(w.sandbox.oidc().is_active(&access));
    assert!(w.secret(id, SecretSlot::RefreshToken).await.is_some());
    let id_token = w.secret(id, SecretSlot::IdToken).await.expect("ID token");
    let claims = latchkey_core::jwt::decode(&id_token).unwrap().claims;
    assert_eq!(claims["iss"], w.sandbox.oidc().issuer());

    // Denied at the provider: refused, and the earlier token stays.
    let step = w.core.login("tv", LoginInput::default()).await.unwrap();
    let LoginStep::Device { user_code, .. } = step else {
        panic!("{step:?}")
    };
    assert!(w.sandbox.oidc().deny_device(&user_code));
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
    assert_eq!(w.secret(id, SecretSlot::AccessToken).await.unwrap(), access);

    // A provider that does not advertise the flow: what to do instead.
    w.sandbox.oidc().set_device_advertised(false);
    let fresh = w.reopen().await;
    let err = fresh.login("tv", LoginInput::default()).await.unwrap_err();
    assert_eq!(err.field(), Some("redirect"), "{err}");
    assert!(
        err.to_string()
            .contains("does not offer device-code logins")
            && err.to_string().contains("loopback or deep link"),
        "{err}"
    );

    // Only OIDC kinds have a device flow; a redirect URI makes no sense.
    let mut bad = public_client();
    bad.redirect = Some(latchkey_core::model::RedirectMode::Device);
    bad.redirect_uri = Some("http://127.0.0.1:8765/callback".into());
    let err = w
        .core
        .add_profile(&profile("bad", "idp", "oidc").settings(bad))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("redirect_uri"), "{err}");
}

#[tokio::test]
async fn an_auth0_login_for_kontinuous_stores_the_hs256_id_token_kontinuous_takes() {
    let w = world().await;
    w.core
        .add_server(&ServerInput {
            name: "kontinuous".into(),
            kind: "kontinuous".into(),
            url: w.sandbox.url_of("kontinuous"),
            ca_pem: None,
        })
        .await
        .unwrap();
    let input = |issuer: Option<String>, secret: &str| {
        let ci = profile("ci", "kontinuous", "auth0").client_id(sb::KONTINUOUS_CLIENT_ID);
        let mut ci = ci
            .scopes(&["openid", "email", "offline_access"])
            .secret(secret);
        ci.settings.issuer = issuer;
        ci
    };
    let id = w
        .core
        .add_profile(&input(None, sb::KONTINUOUS_CLIENT_SECRET))
        .await
        .unwrap()
        .id;
    // The server is Kontinuous: Latchkey must be told where Auth0 is.
    let err = w
        .core
        .login(
            "ci",
            LoginInput {
                deep_link: true,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("issuer"), "{err}");
    assert!(err.to_string().contains("Auth0 tenant"), "{err}");

    let issuer = w.sandbox.auth0().issuer().to_string();
    w.core
        .update_profile(
            id,
            &input(Some(issuer.clone()), sb::KONTINUOUS_CLIENT_SECRET),
        )
        .await
        .unwrap();
    let (location, _) = w.authorize("ci", true).await;
    let accepted = w.core.redirects().route(&location).unwrap();
    w.core.finish_redirect(accepted).await.unwrap();

    // What is stored is the ID token: HS256 with the client secret, the
    // GitHub token in its identities, and its own expiry.
    let jwt = w.secret(id, SecretSlot::AccessToken).await.unwrap();
    let decoded = latchkey_core::jwt::decode(&jwt).unwrap();
    assert_eq!(decoded.alg, "HS256");
    assert_eq!(decoded.claims["iss"], issuer.as_str());
    let github_token = decoded.claims["identities"][0]["access_token"]
        .as_str()
        .unwrap();
    assert!(w.sandbox.github().is_valid(github_token));
    let view = w.core.profile_view(id).await.unwrap();
    assert_eq!(
        view.expires_at.as_deref(),
        Some(latchkey_core::tokens::rfc3339(T0 + sb::ID_TOKEN_LIFETIME).as_str())
    );
    assert!(w.secret(id, SecretSlot::RefreshToken).await.is_some());

    // Kontinuous takes it: its pipelines answer.
    let info = w.core.token_info(id).await.unwrap();
    assert_eq!(info[0].name, "pipelines", "{info:?}");

    // Renewed through Auth0's refresh: a new ID token, still taken.
    w.clock.advance(Duration::minutes(55));
    let event = w.core.renew_profile(id, true).await.unwrap();
    assert!(matches!(event, LifecycleEvent::Renewed { .. }), "{event:?}");
    let renewed = w.secret(id, SecretSlot::AccessToken).await.unwrap();
    assert_ne!(renewed, jwt);
    assert_eq!(latchkey_core::jwt::decode(&renewed).unwrap().alg, "HS256");
    assert_eq!(w.core.token_info(id).await.unwrap()[0].name, "pipelines");

    // With a wrong client secret Auth0 refuses the exchange (the same
    // secret would be needed for the HS256 signature), and nothing new is
    // stored.
    w.core
        .update_profile(id, &input(Some(issuer), "not-the-client-secret"))
        .await
        .unwrap();
    let (location, _) = w.authorize("ci", true).await;
    let accepted = w.core.redirects().route(&location).unwrap();
    let err = w.core.finish_redirect(accepted).await.unwrap_err();
    assert!(err.to_string().contains("invalid_client"), "{err}");
    assert_eq!(
        w.secret(id, SecretSlot::AccessToken).await.unwrap(),
        renewed
    );
}
