//! The token hand-off (`latchkey token`'s fast path) against the real
//! keyring: it hands out exactly the tokens `Latchkey::token` would return
//! as they are, and declines everything else, so that the normal path renews,
//! migrates or explains. `make test` runs this under a private D-Bus session
//! with an unlocked gnome-keyring; each test uses its own keyring service
//! name and forgets what it wrote.

mod common;
use common::{profile, ProfileInputExt, World};
use latchkey_core::clock::SharedClock;
use latchkey_core::env::Environment;
use latchkey_core::handoff;
use latchkey_core::model::Profile;
use latchkey_core::store::Store;
use latchkey_core::tokens::RenewalState;
use latchkey_core::vault::{Secret, SecretKey, SecretSlot, Vault};
use latchkey_core::ErrorCode;
use std::sync::Arc;
use time::Duration;

/// A data folder in the real keyring with an OIDC and an Avassa server, on a
/// clock the test moves.
struct Home {
    w: World,
    shared: SharedClock,
}

impl std::ops::Deref for Home {
    type Target = World;
    fn deref(&self) -> &World {
        &self.w
    }
}

impl Home {
    async fn new() -> Self {
        let w = World::now()
            .with_keyring()
            .with_server_at("api", "oidc", "https://api.example")
            .with_server_at("edge", "avassa", "https://edge.example")
            .with_tenant("edge", "acme")
            .build()
            .await;
        let shared: SharedClock = Arc::new(w.clock.clone());
        Self { w, shared }
    }

    async fn manual(&self, name: &str, token: &str, expires: &str) -> Profile {
        self.add(
            profile(name, "api", "manual-token")
                .secret(token)
                .expires(expires),
        )
        .await
    }

    /// An Avassa password profile holding a token valid for 4 h from now.
    async fn renewable(&self, name: &str, token: &str) -> Profile {
        let p = self
            .add(
                profile(name, "edge", "avassa-password")
                    .tenant("acme")
                    .username("bob"),
            )
            .await;
        self.issue(&p, token, self.core.clock().now(), Duration::hours(4))
            .await;
        p
    }

    async fn handoff(&self, name: &str) -> Option<(Profile, Secret)> {
        handoff::valid_token(&self.env, &self.shared, name).await
    }

    async fn forget(&self, names: &[&str]) {
        for name in names {
            self.core.remove_profile(name).await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_valid_stored_token_is_handed_out_as_the_core_would() {
    let home = Home::new().await;
    let pasted = format!("pasted-{}", latchkey_core::flows::random_token());
    home.manual("ci", &pasted, "30d").await;
    let renewed_later = format!("avassa-{}", latchkey_core::flows::random_token());
    home.renewable("ops", &renewed_later).await;

    for (name, value) in [("ci", &pasted), ("ops", &renewed_later)] {
        let (profile, secret) = home.handoff(name).await.expect("handed off");
        assert_eq!(secret.expose(), value.as_str());
        let (core_profile, core_secret) = home.core.token(name).await.unwrap();
        assert_eq!(profile, core_profile);
        assert_eq!(secret, core_secret);
    }
    // Within the hour of expiry a token that cannot renew is "expiring",
    // and still handed out.
    home.clock
        .advance(Duration::days(30) - Duration::minutes(30));
    let (_, secret) = home
        .handoff("ci")
        .await
        .expect("an expiring token still works");
    assert_eq!(secret.expose(), pasted);
    home.forget(&["ci", "ops"]).await;
}

#[tokio::test]
async fn tokens_that_need_the_core_are_declined() {
    let home = Home::new().await;
    assert!(home.handoff("nobody").await.is_none(), "no such profile");

    home.add(profile("fresh", "api", "oidc").client_id("cli"))
        .await;
    assert!(home.handoff("fresh").await.is_none(), "never logged in");

    let ops = home.renewable("ops", "avassa-token").await;
    home.clock
        .advance(Duration::hours(3) + Duration::minutes(30));
    assert!(
        home.handoff("ops").await.is_none(),
        "due for renewal: the core renews first"
    );
    home.clock.advance(-Duration::hours(3));
    assert!(home.handoff("ops").await.is_some());
    home.core
        .store()
        .put_renewal(
            ops.id,
            &RenewalState {
                last_error: Some("sealed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        home.handoff("ops").await.is_none(),
        "after a failed renewal the core decides whether to retry"
    );

    let ci = home.manual("ci", "pasted", "1h").await;
    home.core
        .vault()
        .delete(SecretKey::new(ci.id, SecretSlot::AccessToken))
        .await
        .unwrap();
    assert!(
        home.handoff("ci").await.is_none(),
        "missing from the keyring"
    );
    let err = home.core.token("ci").await.unwrap_err();
    assert!(
        err.to_string().contains("missing from the keyring"),
        "{err}"
    );

    home.manual("old", "pasted", "1h").await;
    home.clock.advance(Duration::hours(2));
    assert!(home.handoff("old").await.is_none(), "expired");
    let err = home.core.token("old").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired);
    home.forget(&["fresh", "ops", "ci", "old"]).await;
}

#[tokio::test]
async fn a_missing_data_folder_or_another_schema_is_left_to_the_full_open() {
    let home = Home::new().await;
    home.manual("ci", "pasted", "30d").await;

    let elsewhere = Environment {
        data_dir: home.dir.path().join("never-created"),
        keyring_service: home.env.keyring_service.clone(),
    };
    assert!(handoff::valid_token(&elsewhere, &home.shared, "ci")
        .await
        .is_none());
    assert!(
        !elsewhere.data_dir.exists(),
        "reading created no data folder"
    );

    // A migration this build knows differently (edited since it was applied):
    // the hand-off declines, and the full open reports it as before.
    home.core.store().close().await;
    let store = Store::open(&home.env.data_dir).await.unwrap();
    store.close().await;
    let db = home.env.data_dir.join("latchkey.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(home.handoff("ci").await.is_none());
    assert!(Store::open(&home.env.data_dir).await.is_err());

    // Forget the profile's secret without the core, whose schema check now fails.
    let vault = Vault::keyring(&home.env.keyring_service);
    for id in 1..=2 {
        vault.forget_profile(id).await.unwrap();
    }
}
