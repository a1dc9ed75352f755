//! The Quay provider against the sandbox's Quay, on one hand-set clock shared
//! by Latchkey and the sandbox: direct OAuth (the token read from the
//! `Location` fragment, `state` from its query, and every refusal of §5 item
//! 9 turned into what to do), the browser session (cookie jar and rotated CSRF
//! token in the keyring only, throttling shown as a wait, signing out
//! everywhere), and registry tokens (realm and service from the challenge,
//! users, robots, `$app` and `$oauthtoken` borrowed from a direct-OAuth
//! profile, a downscoped grant warned about, silent re-issue before `exp`).

mod common;
use common::{item, profile, refused, ProfileInputExt, World};
use latchkey_core::inspector::{KeyInput, KeyKind, TokenSource};
use latchkey_core::jwt::Inspection;
use latchkey_core::model::{LoginKind, LoginPrompt, ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::providers::{self, LoginStep};
use latchkey_core::renewal::LifecycleEvent;
use latchkey_core::service::SummaryItem;
use latchkey_core::tokens::{self, TokenStatus};
use latchkey_core::vault::{Secret, SecretInput, SecretSlot};
use latchkey_core::{Error, ErrorCode};
use latchkey_sandbox::quay::{self as sb};
use serde_json::Value;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

async fn world() -> World {
    World::at(T0).with_server("quay", "quay").build().await
}

fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn oauth_settings(client_id: &str, scope_list: &[&str]) -> ProfileSettings {
    ProfileSettings {
        username: Some("alice".into()),
        client_id: Some(client_id.into()),
        scopes: scopes(scope_list),
        ..Default::default()
    }
}

fn registry_settings(user: &str, scope_list: &[&str]) -> ProfileSettings {
    ProfileSettings {
        username: Some(user.into()),
        scopes: scopes(scope_list),
        ..Default::default()
    }
}

/// One helper per Quay login kind: a profile of that kind on server `quay`,
/// and alice logging in (or being refused) with her password.
impl World {
    async fn add_quay(
        &self,
        name: &str,
        login: &str,
        settings: ProfileSettings,
        secret: Option<&str>,
    ) -> Result<i64, Error> {
        let mut input = profile(name, "quay", login).settings(settings);
        input.secret = secret.map(|s| SecretInput(Secret::new(s)));
        self.core.add_profile(&input).await.map(|p| p.id)
    }

    async fn profile(&self, name: &str, login: &str, settings: ProfileSettings) -> i64 {
        self.add_quay(name, login, settings, None).await.unwrap()
    }

    /// A direct-OAuth profile of alice's for this application and scopes.
    async fn oauth(&self, name: &str, client_id: &str, scope_list: &[&str]) -> i64 {
        let settings = oauth_settings(client_id, scope_list);
        self.profile(name, "quay-direct-oauth", settings).await
    }

    /// A browser-session profile of `user`'s.
    async fn session(&self, name: &str, user: &str) -> i64 {
        let settings = registry_settings(user, &[]);
        self.profile(name, "quay-session", settings).await
    }

    /// A registry-token profile of `user`'s for these scopes.
    async fn registry(&self, name: &str, user: &str, scope_list: &[&str]) -> i64 {
        let settings = registry_settings(user, scope_list);
        self.profile(name, "quay-registry", settings).await
    }

    async fn login(
        &self,
        name: &str,
        password: Option<&str>,
        remember: bool,
    ) -> Result<LoginStep, Error> {
        self.password_login(name, password, remember).await
    }

    /// Alice logs `name` in with her password, not remembered.
    async fn alice_logs_in(&self, name: &str) -> LoginStep {
        let step = self.login(name, Some(sb::ALICE_PASSWORD), false).await;
        step.unwrap()
    }

    /// Alice's password login of `name`, which the test expects refused.
    async fn alice_refused(&self, name: &str) -> Error {
        let step = self.login(name, Some(sb::ALICE_PASSWORD), false).await;
        step.unwrap_err()
    }

    async fn summary(&self, id: i64) -> Vec<SummaryItem> {
        self.core.credential(id).await.unwrap().tokens[0]
            .summary
            .clone()
    }

    /// Nothing of this profile's in the keyring but what was configured.
    async fn holds_no_token(&self, id: i64) -> bool {
        for slot in [SecretSlot::AccessToken, SecretSlot::SessionCookie] {
            if self.secret(id, slot).await.is_some() {
                return false;
            }
        }
        self.core.profile_view(id).await.unwrap().status == TokenStatus::None
    }
}

fn expires(step: &LoginStep) -> Option<String> {
    match step {
        LoginStep::Done { expires_at, .. } => expires_at.clone(),
        other => panic!("expected a finished login, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Direct OAuth

#[tokio::test]
async fn direct_oauth_reads_the_token_from_the_fragment_and_shows_whose_it_is() {
    let w = world().await;
    let id = w
        .oauth("alice-oauth", sb::CLIENT_ID, &["repo:read", "user:read"])
        .await;
    let step = w.alice_logs_in("alice-oauth").await;
    assert_eq!(
        expires(&step).unwrap(),
        tokens::rfc3339(T0 + Duration::seconds(sb::OAUTH_EXPIRES_IN)),
        "ten years, from expires_in"
    );
    let token = w.secret(id, SecretSlot::AccessToken).await.unwrap();
    assert_eq!(token.len(), 40);
    assert!(w.sandbox.quay().is_valid_oauth(&token));
    assert_eq!(
        w.secret(id, SecretSlot::Password).await,
        None,
        "the password is used once unless the user asks to remember it"
    );
    let detail = w.core.credential(id).await.unwrap();
    assert_eq!(detail.tokens[0].scopes, ["repo:read", "user:read"]);
    assert_eq!(item(&detail.tokens[0].summary, "user"), Some("alice"));
    assert!(!detail.renewable, "nothing renews a direct-OAuth token");
    let view = w.core.profile_view(id).await.unwrap();
    assert_eq!(view.status, TokenStatus::Valid);

    let info = w.core.token_info(id).await.unwrap();
    assert_eq!(item(&info, "user"), Some("alice"));
    assert_eq!(item(&info, "organizations"), Some("acme, globex"));

    // Revoked behind Latchkey's back: the probe says so.
    let other = w.sandbox.quay().authorizations_of("alice");
    assert_eq!(other, 1);
    let err = {
        let reviewer = w.oauth("alice-admin", sb::CLIENT_ID, &["user:admin"]).await;
        w.alice_logs_in("alice-admin").await;
        // The admin token revokes the first one through the API.
        let admin = w.secret(reviewer, SecretSlot::AccessToken).await.unwrap();
        let client = reqwest::Client::new();
        let list: Value = client
            .get(format!(
                "{}/api/v1/user/authorizations",
                w.sandbox.url_of("quay")
            ))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let uuid = list["authorizations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["scopes"].as_array().unwrap().len() == 2)
            .unwrap()["uuid"]
            .as_str()
            .unwrap()
            .to_string();
        let res = client
            .delete(format!(
                "{}/api/v1/user/authorizations/{uuid}",
                w.sandbox.url_of("quay")
            ))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        w.core.token_info(id).await.unwrap_err()
    };
    assert_eq!(err.code(), ErrorCode::LoginRequired, "{err}");
    assert!(err.to_string().contains("revoked"), "{err}");
}

#[tokio::test]
async fn a_token_without_user_scopes_still_says_whose_it_is_through_the_registry() {
    let w = world().await;
    let id = w.oauth("pull-only", sb::CLIENT_ID, &["repo:read"]).await;
    w.alice_logs_in("pull-only").await;
    let info = w.core.token_info(id).await.unwrap();
    assert_eq!(item(&info, "user"), Some("alice"));
    assert!(item(&info, "note").unwrap().contains("user:read"));
}

#[tokio::test]
async fn every_refusal_of_the_approval_says_what_to_do_and_stores_nothing() {
    let w = world().await;
    // Wrong password: 401.
    let id = w.oauth("oauth", sb::CLIENT_ID, &["repo:read"]).await;
    let err = w.login("oauth", Some("wrong"), false).await.unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(401), Some("password")));
    assert!(message.contains("check both"), "{message}");
    assert!(w.holds_no_token(id).await);
    // No password typed, none remembered.
    let err = w.login("oauth", None, false).await.unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        (ErrorCode::Invalid, Some("password"))
    );

    // A client id off DIRECT_OAUTH_CLIENTID_WHITELIST: Quay's CSRF 403.
    let unlisted = w
        .oauth("unlisted", sb::UNLISTED_CLIENT_ID, &["repo:read"])
        .await;
    let err = w.alice_refused("unlisted").await;
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(403), Some("client_id")));
    assert!(
        message.contains("add UNLISTEDCLIENT000000 to DIRECT_OAUTH_CLIENTID_WHITELIST"),
        "{message}"
    );
    assert!(w.holds_no_token(unlisted).await);
    // Once whitelisted, the same login works.
    w.sandbox
        .quay()
        .set_whitelist(&[sb::CLIENT_ID, sb::UNLISTED_CLIENT_ID, sb::GLOBEX_CLIENT_ID]);
    w.alice_logs_in("unlisted").await;

    // An application of an organization alice does not administer.
    let globex = w
        .oauth("globex", sb::GLOBEX_CLIENT_ID, &["repo:read"])
        .await;
    let err = w.alice_refused("globex").await;
    let (_, field, message) = refused(&err);
    assert_eq!(field, Some("client_id"));
    assert!(message.contains("unauthorized_client"), "{message}");
    assert!(
        message.contains("alice is not an administrator of the organization"),
        "{message}"
    );
    assert!(w.holds_no_token(globex).await);
    // An unknown client id says the same.
    w.oauth("nobody", "NOSUCHCLIENT00000000", &["repo:read"])
        .await;
    w.sandbox
        .quay()
        .set_whitelist(&[sb::CLIENT_ID, "NOSUCHCLIENT00000000"]);
    let err = w.alice_refused("nobody").await;
    assert_eq!(err.field(), Some("client_id"));
}

#[tokio::test]
async fn the_redirect_uri_is_the_registered_one_or_quay_refuses_it_with_what_to_fix() {
    let w = world().await;
    let registered = w
        .profile(
            "registered",
            "quay-direct-oauth",
            ProfileSettings {
                redirect_uri: Some(sb::REGISTERED_REDIRECT.into()),
                ..oauth_settings(sb::CLIENT_ID, &["repo:read"])
            },
        )
        .await;
    w.alice_logs_in("registered").await;
    assert!(w
        .secret(registered, SecretSlot::AccessToken)
        .await
        .is_some());

    let other = w
        .profile(
            "other-port",
            "quay-direct-oauth",
            ProfileSettings {
                redirect_uri: Some("http://127.0.0.1:9999/cb".into()),
                ..oauth_settings(sb::CLIENT_ID, &["repo:read"])
            },
        )
        .await;
    let err = w.alice_refused("other-port").await;
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(400), Some("redirect_uri")));
    assert!(
        message.contains("http://127.0.0.1:9999/cb") && message.contains("registered redirect URI"),
        "{message}"
    );
    assert!(w.holds_no_token(other).await);
}

#[tokio::test]
async fn unknown_scopes_are_caught_before_sending_and_the_servers_own_refusal_is_explained() {
    let w = world().await;
    // At the profile's creation.
    let err = w
        .add_quay(
            "typo",
            "quay-direct-oauth",
            oauth_settings(sb::CLIENT_ID, &["repo:read", "repo:raed"]),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        (ErrorCode::Invalid, Some("scopes"))
    );
    assert!(err.to_string().contains("'repo:raed'"), "{err}");
    assert!(
        err.to_string()
            .contains(&latchkey_core::providers::quay::SCOPES.join(", ")),
        "the valid ones are listed: {err}"
    );
    // The catalog offers exactly those as checkboxes.
    assert_eq!(
        providers::registry::spec(LoginKind::QuayDirectOauth).scope_choices,
        latchkey_core::providers::quay::SCOPES
    );
    assert_eq!(latchkey_core::providers::quay::SCOPES, sb::ALL_SCOPES);

    // A profile stored before the check (or imported) is caught at login,
    // before anything reaches Quay.
    let id = w.oauth("stale", sb::CLIENT_ID, &["repo:read"]).await;
    let p = w.core.profile_named("stale").await.unwrap();
    w.core
        .store()
        .update_profile(
            id,
            &p.name,
            p.server_id,
            None,
            p.login,
            &oauth_settings(sb::CLIENT_ID, &["repo:read", "repos:read"]),
            None,
        )
        .await
        .unwrap();
    let err = w.alice_refused("stale").await;
    assert_eq!(
        (err.code(), err.field()),
        (ErrorCode::Invalid, Some("scopes"))
    );
    assert_eq!(w.sandbox.quay().authorize_calls(), 0, "nothing was sent");

    // An older Quay that lacks a scope answers invalid_scope itself.
    w.sandbox.quay().forget_scope("super:user");
    let old = w
        .oauth("super", sb::CLIENT_ID, &["repo:read", "super:user"])
        .await;
    let err = w.alice_refused("super").await;
    let (_, field, message) = refused(&err);
    assert_eq!(field, Some("scopes"));
    assert!(
        message.contains("invalid_scope") && message.contains("repo:read super:user"),
        "{message}"
    );
    assert!(w.holds_no_token(old).await);
}

#[tokio::test]
async fn a_code_instead_of_a_token_and_a_forged_state_are_refused_and_nothing_is_stored() {
    let w = world().await;
    let id = w.oauth("oauth", sb::CLIENT_ID, &["repo:read"]).await;
    // As if response_type=token had not reached Quay: the code flow.
    w.sandbox.quay().ignore_response_type(true);
    let err = w.alice_refused("oauth").await;
    let (_, _, message) = refused(&err);
    assert!(
        message.contains("authorization code") && message.contains("response_type=token"),
        "{message}"
    );
    assert!(w.holds_no_token(id).await);
    w.sandbox.quay().ignore_response_type(false);

    // A state other than the one sent: not this login's answer.
    w.sandbox.quay().tamper_state(true);
    let err = w.alice_refused("oauth").await;
    let (_, _, message) = refused(&err);
    assert!(message.contains("another state"), "{message}");
    assert!(w.holds_no_token(id).await);
    w.sandbox.quay().tamper_state(false);
    w.alice_logs_in("oauth").await;
    assert!(w.secret(id, SecretSlot::AccessToken).await.is_some());
}

#[tokio::test]
async fn logout_revokes_a_token_with_user_admin_and_only_forgets_one_without() {
    let w = world().await;
    let admin = w
        .oauth("admin", sb::CLIENT_ID, &["repo:read", "user:admin"])
        .await;
    let plain = w.oauth("plain", sb::CLIENT_ID, &["repo:read"]).await;
    w.alice_logs_in("admin").await;
    w.alice_logs_in("plain").await;
    // Another token with exactly the same scopes (made in Quay's UI, say):
    // only the registry's login check can tell which one is Latchkey's.
    let twin = w
        .sandbox
        .quay()
        .issue_oauth("alice", sb::CLIENT_ID, &["repo:read", "user:admin"]);
    let admin_token = w.secret(admin, SecretSlot::AccessToken).await.unwrap();
    let plain_token = w.secret(plain, SecretSlot::AccessToken).await.unwrap();

    let report = w.core.logout(admin).await.unwrap();
    assert!(report.message.contains("revoked"), "{}", report.message);
    assert!(!w.sandbox.quay().is_valid_oauth(&admin_token));
    assert!(w.sandbox.quay().is_valid_oauth(&twin), "the twin stays");
    assert!(w.holds_no_token(admin).await);

    let report = w.core.logout(plain).await.unwrap();
    assert!(
        report.message.contains("user:admin") && report.message.contains("Authorized Applications"),
        "{}",
        report.message
    );
    assert!(
        w.sandbox.quay().is_valid_oauth(&plain_token),
        "Latchkey could not revoke it, and says so"
    );
    assert!(w.holds_no_token(plain).await);
}

// ---------------------------------------------------------------------------
// Session

#[tokio::test]
async fn a_session_keeps_its_cookie_jar_and_rotated_csrf_token_in_the_keyring_only() {
    let w = world().await;
    let id = w.session("web", "alice").await;
    let step = w.alice_logs_in("web").await;
    assert_eq!(
        expires(&step).unwrap(),
        tokens::rfc3339(T0 + sb::SESSION_TIMEOUT),
        "from the session cookie's Expires"
    );
    assert_eq!(w.secret(id, SecretSlot::AccessToken).await, None);
    let jar: Value =
        serde_json::from_str(&w.secret(id, SecretSlot::SessionCookie).await.unwrap()).unwrap();
    let cookie = jar["cookies"][sb::SESSION_COOKIE].as_str().unwrap();
    let csrf = jar["csrf"].as_str().unwrap();
    assert!(w.sandbox.quay().is_signed_in(cookie));
    assert_eq!(
        w.sandbox.quay().csrf_of(cookie).as_deref(),
        Some(csrf),
        "the X-Next-CSRF-Token of the sign-in, not the one fetched before it"
    );
    // Neither the cookie nor the CSRF token is anywhere in the data folder.
    for entry in std::fs::read_dir(w.dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(cookie) && !text.contains(csrf));
    }
    let detail = w.core.credential(id).await.unwrap();
    assert_eq!(detail.tokens[0].kind, tokens::TokenKind::Session);
    assert_eq!(item(&detail.tokens[0].summary, "user"), Some("alice"));

    let info = w.core.token_info(id).await.unwrap();
    assert_eq!(item(&info, "user"), Some("alice"));
    assert_eq!(item(&info, "email"), Some("alice@example.com"));
    assert_eq!(item(&info, "organizations"), Some("acme (admin), globex"));

    // Copied for a script, a session is its Cookie and CSRF headers, and
    // the curl line signs the user in at Quay as they are.
    let headers = w
        .core
        .copy_text(id, latchkey_core::CopyFormat::Header)
        .await
        .unwrap();
    assert_eq!(
        headers.expose(),
        format!(
            "Cookie: {}\nX-CSRF-Token: {csrf}",
            jar["cookies"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect::<Vec<_>>()
                .join("; ")
        )
    );
    let err = w
        .core
        .copy_text(id, latchkey_core::CopyFormat::Bearer)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a bearer token"), "{err}");
    let curl = w
        .core
        .copy_text(id, latchkey_core::CopyFormat::Curl)
        .await
        .unwrap();
    let line = curl
        .expose()
        .replace(&format!("'{}'", w.sandbox.url_of("quay")), "")
        + &format!(" -s '{}/api/v1/user/'", w.sandbox.url_of("quay"));
    // On a blocking thread: the sandbox answers on this test's runtime.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let body: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(body["username"], "alice", "{body}");

    // 31 days later the session is over, and the probe says what to do.
    w.clock.advance(sb::SESSION_TIMEOUT + Duration::minutes(1));
    let err = w.core.token_info(id).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired, "{err}");
    assert!(err.to_string().contains("log in again"), "{err}");
}

#[tokio::test]
async fn sign_in_refusals_name_the_field_and_a_throttle_says_how_long_to_wait() {
    let w = world().await;
    let alice = w.session("alice", "alice").await;
    w.session("bob", "bob").await;
    w.session("dave", "dave").await;

    let err = w.login("alice", Some("wrong"), false).await.unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(403), Some("password")));
    assert!(
        message.starts_with("Invalid Username or Password"),
        "{message}"
    );
    assert!(w.holds_no_token(alice).await);

    let err = w
        .login("bob", Some(sb::BOB_PASSWORD), false)
        .await
        .unwrap_err();
    let (_, field, message) = refused(&err);
    assert_eq!(field, Some("username"));
    assert!(message.contains("verification mail"), "{message}");

    let err = w
        .login("dave", Some(sb::DAVE_PASSWORD), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");

    // Two more failures block alice; then even the right password waits.
    for _ in 0..2 {
        w.login("alice", Some("wrong"), false).await.unwrap_err();
    }
    let err = w.alice_refused("alice").await;
    let (status, _, message) = refused(&err);
    assert_eq!(status, Some(429));
    assert!(message.contains("wait 60 s"), "{message}");
    assert!(message.contains("Too many login attempts"), "{message}");
    w.clock.advance(Duration::seconds(61));
    w.alice_logs_in("alice").await;

    // A Quay without password sign-in.
    w.sandbox.quay().set_direct_login(false);
    let err = w.alice_refused("alice").await;
    assert!(err.to_string().contains("FEATURE_DIRECT_LOGIN"), "{err}");
}

#[tokio::test]
async fn logging_a_session_out_signs_the_user_out_everywhere_and_says_so() {
    let w = world().await;
    let here = w.session("here", "alice").await;
    let elsewhere = w.session("elsewhere", "alice").await;
    w.login("here", Some(sb::ALICE_PASSWORD), true)
        .await
        .unwrap();
    w.alice_logs_in("elsewhere").await;
    assert_eq!(w.sandbox.quay().signins(), 2);
    let warning = providers::registry::spec(LoginKind::QuaySession)
        .logout_warning
        .unwrap();
    assert!(
        warning.contains("everywhere"),
        "the confirmation can say it first"
    );

    let report = w.core.logout(here).await.unwrap();
    assert!(
        report.message.contains("revoked") && report.message.contains("everywhere"),
        "{}",
        report.message
    );
    assert!(w.holds_no_token(here).await);
    assert_eq!(
        w.secret(here, SecretSlot::Password).await.as_deref(),
        Some(sb::ALICE_PASSWORD),
        "a remembered password is configuration, not a token"
    );
    let err = w.core.token_info(elsewhere).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired, "{err}");
    assert!(err.to_string().contains("signing out anywhere"), "{err}");
}

// ---------------------------------------------------------------------------
// Registry

#[tokio::test]
async fn a_registry_token_lives_until_its_exp_and_warns_when_quay_grants_less_than_asked() {
    let w = world().await;
    let id = w
        .profile(
            "registry",
            "quay-registry",
            registry_settings(
                "alice",
                &[
                    "repository:acme/web:pull,push",
                    "globex/tools:pull,push",
                    "globex/vault:pull",
                ],
            ),
        )
        .await;
    let p = w.core.profile_named("registry").await.unwrap();
    assert_eq!(
        p.settings.scopes,
        [
            "repository:acme/web:pull,push",
            "globex/tools:pull,push",
            "globex/vault:pull"
        ],
        "a scope's actions stay with it"
    );
    let step = w.alice_logs_in("registry").await;
    assert_eq!(
        expires(&step).unwrap(),
        tokens::rfc3339(T0 + Duration::hours(1)),
        "the JWT's exp, not the Docker spec's 60 s"
    );
    let summary = w.summary(id).await;
    assert_eq!(item(&summary, "access acme/web"), Some("push, pull"));
    assert_eq!(item(&summary, "access globex/tools"), Some("pull"));
    assert_eq!(item(&summary, "access globex/vault"), Some("none"));
    let warning = item(&summary, "warning").unwrap();
    assert!(
        warning.contains("globex/tools: pull only (asked pull, push)")
            && warning.contains("globex/vault: nothing (asked pull)"),
        "{warning}"
    );
    assert_eq!(item(&summary, "sub"), Some("alice"));
    assert_eq!(
        item(&summary, "service"),
        Some(w.sandbox.quay().hostname()),
        "discovered from the challenge of /v2/"
    );
    let detail = w.core.credential(id).await.unwrap();
    assert_eq!(
        detail.tokens[0].scopes,
        [
            "repository:acme/web:push,pull",
            "repository:globex/tools:pull"
        ]
    );
    assert_eq!(
        detail.tokens[0].renew_due_at.as_deref(),
        Some(tokens::rfc3339(T0 + Duration::minutes(55)).as_str())
    );

    // The signature checks out against Quay's key server.
    let verified = w
        .core
        .verify(
            &TokenSource::Profile { profile_id: id },
            &KeyInput {
                kind: KeyKind::JwksUrl,
                value: SecretInput(Secret::new(format!(
                    "{}/keys/services/quay/keys",
                    w.sandbox.url_of("quay")
                ))),
            },
        )
        .await
        .unwrap();
    assert_eq!(verified.alg, "RS256");
    // The inspector shows the access claim and the same warning.
    let Inspection::Jwt {
        claims, warnings, ..
    } = w
        .core
        .inspect(&TokenSource::Profile { profile_id: id })
        .await
        .unwrap()
    else {
        panic!("a registry token is a JWT")
    };
    assert_eq!(claims["access"][1]["actions"], serde_json::json!(["pull"]));
    assert!(
        warnings.iter().any(|w| w.contains("globex/vault: nothing")),
        "{warnings:?}"
    );
    // The registry takes it; the probe lists what it grants.
    let info = w.core.token_info(id).await.unwrap();
    assert_eq!(item(&info, "access globex/tools"), Some("pull"));
    assert!(item(&info, "warning").is_some());

    let report = w.core.logout(id).await.unwrap();
    assert!(
        report.message.contains("lapses by itself"),
        "{}",
        report.message
    );
    assert!(w.holds_no_token(id).await);
}

#[tokio::test]
async fn a_service_the_registry_does_not_accept_is_explained() {
    let w = world().await;
    let id = w
        .profile(
            "wrong-service",
            "quay-registry",
            ProfileSettings {
                service: Some("registry.elsewhere.example".into()),
                ..registry_settings("alice", &["acme/web:pull"])
            },
        )
        .await;
    // Quay issues it (aud is whatever was asked), the registry refuses it.
    w.alice_logs_in("wrong-service").await;
    let err = w.core.token_info(id).await.unwrap_err();
    let (_, field, message) = refused(&err);
    assert_eq!(field, Some("service"));
    assert!(
        message.contains(w.sandbox.quay().hostname())
            && message.contains("registry.elsewhere.example"),
        "{message}"
    );
}

#[tokio::test]
async fn robots_app_tokens_and_a_direct_oauth_profiles_token_log_in_to_the_registry() {
    let w = world().await;
    // A robot, its token kept as the profile's secret.
    let robot = w
        .add_quay(
            "robot",
            "quay-registry",
            registry_settings(sb::ROBOT, &["acme/web:pull,push"]),
            Some(sb::ROBOT_TOKEN),
        )
        .await
        .unwrap();
    w.login("robot", None, false).await.unwrap();
    let summary = w.summary(robot).await;
    assert_eq!(item(&summary, "sub"), Some(sb::ROBOT));
    assert_eq!(item(&summary, "access acme/web"), Some("pull"));
    let err = w
        .login("robot", Some("not-the-token"), false)
        .await
        .unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(401), Some("password")));
    assert!(
        message.contains("robot account logs in with its own token"),
        "{message}"
    );

    // An app-specific token.
    let app = w.registry("app", "$app", &["acme/web:pull"]).await;
    w.login("app", Some(sb::APP_TOKEN), false).await.unwrap();
    assert_eq!(item(&w.summary(app).await, "sub"), Some("alice"));

    // $oauthtoken with the token of a direct-OAuth profile.
    w.oauth("alice-oauth", sb::CLIENT_ID, &["repo:read", "user:read"])
        .await;
    let borrowing = w
        .profile(
            "borrowing",
            "quay-registry",
            ProfileSettings {
                source_profile: Some("alice-oauth".into()),
                ..registry_settings("$oauthtoken", &["acme/web:pull,push"])
            },
        )
        .await;
    let err = w.login("borrowing", None, false).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired, "{err}");
    assert!(
        err.to_string().contains("'borrowing' presents its token"),
        "{err}"
    );
    w.alice_logs_in("alice-oauth").await;
    w.login("borrowing", None, true).await.unwrap();
    let summary = w.summary(borrowing).await;
    assert_eq!(item(&summary, "sub"), Some("alice"));
    assert_eq!(
        item(&summary, "access acme/web"),
        Some("pull"),
        "a repo:read token may pull, not push"
    );
    assert_eq!(
        w.secret(borrowing, SecretSlot::Password).await,
        None,
        "the borrowed token is never kept as this profile's password"
    );

    // What the settings refuse.
    let err = w
        .add_quay(
            "mismatch",
            "quay-registry",
            ProfileSettings {
                source_profile: Some("alice-oauth".into()),
                ..registry_settings("alice", &[])
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("username"));
    assert!(err.to_string().contains("$oauthtoken"), "{err}");
    w.session("web", "alice").await;
    w.profile(
        "from-session",
        "quay-registry",
        ProfileSettings {
            source_profile: Some("web".into()),
            ..registry_settings("$oauthtoken", &[])
        },
    )
    .await;
    let err = w.login("from-session", None, false).await.unwrap_err();
    assert_eq!(err.field(), Some("source_profile"));
}

#[tokio::test]
async fn the_renewer_reissues_a_registry_token_before_exp_without_the_user() {
    let w = world().await;
    let remembered = w.registry("remembered", "alice", &["acme/web:pull"]).await;
    let forgetful = w.registry("forgetful", "alice", &["acme/web:pull"]).await;
    w.oauth("alice-oauth", sb::CLIENT_ID, &["repo:read"]).await;
    let borrowing = w
        .profile(
            "borrowing",
            "quay-registry",
            ProfileSettings {
                source_profile: Some("alice-oauth".into()),
                ..registry_settings("$oauthtoken", &["acme/web:pull"])
            },
        )
        .await;
    w.login("remembered", Some(sb::ALICE_PASSWORD), true)
        .await
        .unwrap();
    w.alice_logs_in("forgetful").await;
    w.alice_logs_in("alice-oauth").await;
    w.login("borrowing", None, false).await.unwrap();
    assert_eq!(w.sandbox.quay().registry_tokens(), 3);
    let first = w.secret(remembered, SecretSlot::AccessToken).await.unwrap();
    assert_eq!(
        w.core.next_deadline().await.unwrap(),
        Some(T0 + Duration::minutes(55))
    );

    w.clock.advance(Duration::minutes(55));
    let events = w.core.run_due().await.unwrap();
    let outcome = |id: i64| {
        events
            .iter()
            .find(|e| e.profile_id() == id)
            .cloned()
            .unwrap_or_else(|| panic!("no event for {id}: {events:?}"))
    };
    assert!(
        matches!(outcome(remembered), LifecycleEvent::Renewed { expires_at: Some(ref e), .. }
            if *e == tokens::rfc3339(T0 + Duration::minutes(115))),
        "{:?}",
        outcome(remembered)
    );
    assert!(matches!(outcome(borrowing), LifecycleEvent::Renewed { .. }));
    match outcome(forgetful) {
        LifecycleEvent::RenewalFailed {
            message, retrying, ..
        } => {
            assert!(!retrying);
            assert!(message.contains("remembered password"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_ne!(
        w.secret(remembered, SecretSlot::AccessToken).await.unwrap(),
        first
    );
    assert_eq!(w.sandbox.quay().registry_tokens(), 5);
    assert_eq!(
        w.core.profile_view(remembered).await.unwrap().status,
        TokenStatus::Valid
    );

    // Once the source profile holds no token, the borrower needs the user.
    let source = w.core.profile_named("alice-oauth").await.unwrap();
    w.core.logout(source.id).await.unwrap();
    w.clock.advance(Duration::minutes(56));
    let event = w.core.renew_profile(borrowing, false).await.unwrap();
    match event {
        LifecycleEvent::RenewalFailed { message, .. } => {
            assert!(message.contains("log 'alice-oauth' in"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn registry_refusals_name_the_field_to_fix() {
    let w = world().await;
    // A scope Quay could not decode is refused when the profile is made.
    let err = w
        .add_quay(
            "bad-scope",
            "quay-registry",
            registry_settings("alice", &["acme/web"]),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("scopes"));
    assert!(
        err.to_string().contains("repository:acme/web:pull,push"),
        "{err}"
    );

    for (name, scope, status, words) in [
        (
            "nested",
            "acme/team/web:pull",
            400,
            "Nested repositories are not supported",
        ),
        ("frozen", "frozen/old:pull", 405, "has been disabled"),
        ("charts", "acme/charts:pull", 405, "not container images"),
    ] {
        let id = w.registry(name, "alice", &[scope]).await;
        let err = w.alice_refused(name).await;
        let (s, field, message) = refused(&err);
        assert_eq!((s, field), (Some(status), Some("scopes")), "{message}");
        assert!(message.contains(words), "{message}");
        assert!(w.holds_no_token(id).await);
    }

    // Read-only mode refuses pushes.
    w.registry("pusher", "alice", &["acme/web:push"]).await;
    w.sandbox.quay().set_read_only(true);
    let err = w.alice_refused("pusher").await;
    assert!(err.to_string().contains("read-only"), "{err}");

    // Wrong passwords, then the throttle.
    w.registry("alice", "alice", &["acme/web:pull"]).await;
    let err = w.login("alice", Some("wrong"), false).await.unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(401), Some("password")));
    assert!(
        message.contains("Invalid Username or Password"),
        "{message}"
    );
    w.login("alice", Some("wrong"), false).await.unwrap_err();
    w.login("alice", Some("wrong"), false).await.unwrap_err();
    let err = w.alice_refused("alice").await;
    assert!(err.to_string().contains("wait 60 s"), "{err}");

    // A disabled user is told so.
    w.registry("dave", "dave", &["acme/web:pull"]).await;
    let err = w
        .login("dave", Some(sb::DAVE_PASSWORD), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has been disabled"), "{err}");
}

#[tokio::test]
async fn an_unreachable_quay_says_what_to_check_for_every_login_kind() {
    let w = world().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    w.core
        .add_server(&ServerInput {
            name: "down".into(),
            kind: "quay".into(),
            url: format!("http://127.0.0.1:{closed}"),
            ca_pem: None,
        })
        .await
        .unwrap();
    for (name, login, settings) in [
        (
            "down-oauth",
            "quay-direct-oauth",
            oauth_settings(sb::CLIENT_ID, &["repo:read"]),
        ),
        (
            "down-session",
            "quay-session",
            registry_settings("alice", &[]),
        ),
        (
            "down-registry",
            "quay-registry",
            registry_settings("alice", &["acme/web:pull"]),
        ),
    ] {
        w.core
            .add_profile(&ProfileInput {
                name: name.into(),
                server: "down".into(),
                login: login.into(),
                settings,
                ..Default::default()
            })
            .await
            .unwrap();
        let err = w.login(name, Some("x"), false).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unreachable, "{name}: {err}");
        assert!(
            err.to_string().contains("cannot reach")
                && err.to_string().contains("check the URL of server 'down'"),
            "{name}: {err}"
        );
    }
}

#[test]
fn every_quay_login_asks_for_the_password_in_the_window() {
    for login in [
        LoginKind::QuayDirectOauth,
        LoginKind::QuaySession,
        LoginKind::QuayRegistry,
    ] {
        assert_eq!(
            providers::registry::spec(login).prompt,
            LoginPrompt::Password,
            "{login}"
        );
    }
}
