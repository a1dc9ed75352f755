//! Servers behind a private CA, against the sandbox served over HTTPS with a
//! throwaway CA ([`TlsSandbox`]): without the CA the login is unreachable with
//! a hint to add it (and the stored token stays), with the CA it succeeds, a
//! CA that is not PEM is refused on `ca_pem`, and a certificate for another
//! host is refused by name.

mod common;
use common::{profile, ProfileInputExt};
use latchkey_core::model::ServerInput;
use latchkey_core::providers::LoginStep;
use latchkey_core::tokens::TokenStatus;
use latchkey_core::{Error, ErrorCode};
use latchkey_sandbox::avassa::ALICE_PASSWORD;
use latchkey_sandbox::tls::TlsSandbox;
use std::sync::Arc;
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

/// PEM armour around base64 that is not a certificate: passes the check
/// `add_server` makes, which only looks for the armour.
const NOT_BASE64: &str =
    "-----BEGIN CERTIFICATE-----\nthis is not base64!\n-----END CERTIFICATE-----\n";
const NOT_A_CERTIFICATE: &str =
    "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";

/// The common world, with the sandbox served over HTTPS beside it.
struct World {
    w: common::World,
    tls: TlsSandbox,
}

impl std::ops::Deref for World {
    type Target = common::World;
    fn deref(&self) -> &common::World {
        &self.w
    }
}

async fn world() -> World {
    world_on(TlsSandbox::start).await
}

async fn world_on<F, Fut>(start: F) -> World
where
    F: FnOnce(latchkey_core::clock::SharedClock) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<TlsSandbox>>,
{
    let w = common::World::at(T0).build().await;
    let tls = start(Arc::new(w.clock.clone())).await.unwrap();
    World { w, tls }
}

impl World {
    fn server(&self, name: &str, url: String, ca_pem: Option<&str>) -> ServerInput {
        ServerInput {
            name: name.into(),
            kind: "avassa".into(),
            url,
            ca_pem: ca_pem.map(str::to_string),
        }
    }

    /// Server `edge` at the sandbox's Avassa, trusting `ca_pem`; its id.
    async fn add_edge(&self, ca_pem: Option<&str>) -> i64 {
        self.core
            .add_server(&self.server("edge", self.tls.url_of("avassa"), ca_pem))
            .await
            .unwrap()
            .id
    }

    async fn alice(&self, name: &str, server: &str) -> i64 {
        let alice = profile(name, server, "avassa-password");
        self.add(alice.tenant("acme").username("alice")).await.id
    }

    async fn login(&self, name: &str) -> Result<LoginStep, Error> {
        self.password_login(name, Some(ALICE_PASSWORD), false).await
    }
}

fn assert_done_in_acme(step: &LoginStep) {
    assert!(
        matches!(step, LoginStep::Done { tenant: Some(t), .. } if t == "acme"),
        "{step:?}"
    );
}

#[tokio::test]
async fn with_the_ca_the_login_succeeds_and_the_token_is_valid_at_the_server() {
    let w = world().await;
    assert!(w.tls.base_url().starts_with("https://127.0.0.1:"));
    assert!(w.tls.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    w.add_edge(Some(w.tls.ca_pem())).await;
    let id = w.alice("acme-alice", "edge").await;

    let step = w.login("acme-alice").await.unwrap();
    assert_done_in_acme(&step);
    let token = w.token(id).await.expect("the token is in the vault");
    assert!(w.tls.avassa().is_valid(&token));
    assert_eq!(
        w.core.profile_view(id).await.unwrap().status,
        TokenStatus::Valid
    );

    // The certificate is for `localhost` too.
    let port = w.tls.addr().port();
    w.core
        .add_server(&w.server(
            "edge-localhost",
            format!("https://localhost:{port}/avassa"),
            Some(w.tls.ca_pem()),
        ))
        .await
        .unwrap();
    let other = w.alice("localhost-alice", "edge-localhost").await;
    assert_done_in_acme(&w.login("localhost-alice").await.unwrap());
    assert!(w.tls.avassa().is_valid(&w.token(other).await.unwrap()));
}

#[tokio::test]
async fn without_the_ca_the_login_is_unreachable_says_to_add_the_ca_and_keeps_the_stored_token() {
    let w = world().await;
    let server = w.add_edge(Some(w.tls.ca_pem())).await;
    let id = w.alice("acme-alice", "edge").await;
    w.login("acme-alice").await.unwrap();
    let stored = w.token(id).await.unwrap();

    // The CA is taken off the server: the same login no longer trusts it.
    w.core
        .update_server(server, &w.server("edge", w.tls.url_of("avassa"), None))
        .await
        .unwrap();
    let err = w.login("acme-alice").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unreachable, "{err}");
    let message = err.to_string();
    let lower = message.to_lowercase();
    assert!(lower.contains("tls"), "{message}");
    assert!(lower.contains("certificate"), "{message}");
    assert!(
        message.contains("add it to server 'edge' (--ca-file)"),
        "{message}"
    );
    assert_eq!(
        w.token(id).await.as_deref(),
        Some(stored.as_str()),
        "a failed login keeps the token stored before"
    );
    assert!(w.tls.avassa().is_valid(&stored));

    // A profile that never logged in gets the same answer and nothing stored.
    let fresh = w.alice("acme-alice-2", "edge").await;
    let err = w.login("acme-alice-2").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unreachable, "{err}");
    assert!(err.to_string().contains("--ca-file"), "{err}");
    assert_eq!(w.token(fresh).await, None);
}

#[tokio::test]
async fn a_ca_that_is_not_pem_is_refused_on_ca_pem() {
    let w = world().await;

    // Without PEM armour: refused when the server is added or edited.
    let err = w
        .core
        .add_server(&w.server(
            "edge",
            w.tls.url_of("avassa"),
            Some("not a certificate at all"),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid, "{err}");
    assert_eq!(err.field(), Some("ca_pem"));
    let server = w.add_edge(Some(w.tls.ca_pem())).await;
    let err = w
        .core
        .update_server(
            server,
            &w.server("edge", w.tls.url_of("avassa"), Some("garbage")),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid, "{err}");
    assert_eq!(err.field(), Some("ca_pem"));

    // With the armour but no certificate inside: refused too, since the
    // certificates must parse, not only look like PEM.
    for (i, pem) in [NOT_BASE64, NOT_A_CERTIFICATE].into_iter().enumerate() {
        let name = format!("bad-{i}");
        let err = w
            .core
            .add_server(&w.server(&name, w.tls.url_of("avassa"), Some(pem)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Invalid, "{pem}: {err}");
        assert_eq!(err.field(), Some("ca_pem"), "{pem}: {err}");
        assert!(
            err.to_string().contains("export the CA certificate as PEM"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_certificate_for_another_host_is_refused_by_name() {
    let w = world_on(|clock| TlsSandbox::start_with_names(clock, &["elsewhere.example"])).await;
    // The CA is trusted; only the name is wrong, whether the URL names the
    // host by address or by name.
    let port = w.tls.addr().port();
    for (server, url, mismatch) in [
        (
            "edge",
            w.tls.url_of("avassa"),
            "not valid for name \"127.0.0.1\"",
        ),
        (
            "edge-localhost",
            format!("https://localhost:{port}/avassa"),
            "not valid for name \"localhost\"",
        ),
    ] {
        w.core
            .add_server(&w.server(server, url, Some(w.tls.ca_pem())))
            .await
            .unwrap();
        let profile = format!("{server}-alice");
        let id = w.alice(&profile, server).await;
        let err = w.login(&profile).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unreachable, "{err}");
        let message = err.to_string();
        let lower = message.to_lowercase();
        assert!(lower.contains("tls"), "{message}");
        assert!(lower.contains(mismatch), "{message}");
        assert!(
            message.contains("is not for that host name") && !message.contains("--ca-file"),
            "a name mismatch is not a missing CA: {message}"
        );
        assert_eq!(w.token(id).await, None);
    }
}
