//! The token lifecycle of a manual token on a hand-set clock: metadata read
//! from the JWT, status through valid → expiring → expired, copy formats, the
//! history, logout. Real SQLite file, in-memory vault.

mod common;
use common::World;
use latchkey_core::clock::ManualClock;
use latchkey_core::model::ProfileInput;
use latchkey_core::tokens::TokenStatus;
use latchkey_core::vault::{Secret, SecretInput, SecretKey, SecretSlot, Vault};
use latchkey_core::{CopyFormat, ErrorCode, Latchkey};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

fn jwt(claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"test-secret"),
    )
    .unwrap()
}

async fn setup() -> (tempfile::TempDir, Latchkey, ManualClock, Vault) {
    let w = World::at(T0)
        .with_server_at("api", "oidc", "https://api.example")
        .build()
        .await;
    (w.dir, w.core, w.clock, w.vault)
}

fn manual(name: &str, token: &str, expires: Option<&str>) -> ProfileInput {
    ProfileInput {
        name: name.into(),
        server: "api".into(),
        login: "manual-token".into(),
        secret: Some(SecretInput(Secret::new(token))),
        token_expires: expires.map(Into::into),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_pasted_jwt_expires_when_its_exp_says_and_walks_through_the_statuses() {
    let (_dir, core, clock, _) = setup().await;
    let exp = T0 + Duration::hours(3);
    let token = jwt(
        serde_json::json!({"sub": "alice", "iss": "https://id.example", "iat": T0.unix_timestamp(), "exp": exp.unix_timestamp(), "scope": "read write"}),
    );
    let p = core
        .add_profile(&manual("paste", &token, Some("10d")))
        .await
        .unwrap();

    let view = core.profile_view(p.id).await.unwrap();
    assert_eq!(
        view.expires_at.as_deref(),
        Some("2026-06-01T12:00:00Z"),
        "the JWT's exp wins over the hint"
    );
    assert_eq!(view.renew_due_at, None, "a manual token does not renew");
    assert_eq!(view.status, TokenStatus::Valid);

    clock.advance(Duration::minutes(121)); // 59 min left: within the default 60
    assert_eq!(
        core.profile_view(p.id).await.unwrap().status,
        TokenStatus::Expiring
    );
    clock.set(exp);
    assert_eq!(
        core.profile_view(p.id).await.unwrap().status,
        TokenStatus::Expired
    );
    let err = core.valid_token("paste").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired);
    assert!(err.to_string().contains("expired"), "{err}");

    let detail = core.credential(p.id).await.unwrap();
    assert!(!detail.renewable);
    let summary: Vec<(String, String)> = detail.tokens[0]
        .summary
        .iter()
        .map(|s| (s.name.clone(), s.value.clone()))
        .collect();
    assert!(
        summary.contains(&("sub".into(), "alice".into())),
        "{summary:?}"
    );
    assert_eq!(detail.tokens[0].scopes, ["read", "write"]);
    assert_eq!(detail.history[0].event, "issued");
}

#[tokio::test]
async fn an_opaque_token_takes_the_given_expiry_or_none() {
    let (_dir, core, clock, _) = setup().await;
    let p = core
        .add_profile(&manual(
            "opaque",
            "09715875-ac45-4ad7-bfad-00eea3949094",
            Some("90m"),
        ))
        .await
        .unwrap();
    let view = core.profile_view(p.id).await.unwrap();
    assert_eq!(view.expires_at.as_deref(), Some("2026-06-01T10:30:00Z"));
    let q = core
        .add_profile(&manual("forever", "opaque-token-value", None))
        .await
        .unwrap();
    assert_eq!(
        core.profile_view(q.id).await.unwrap().status,
        TokenStatus::Unknown
    );
    clock.advance(Duration::days(3650));
    assert_eq!(
        core.profile_view(q.id).await.unwrap().status,
        TokenStatus::Unknown
    );
    let (_, token) = core.valid_token("forever").await.unwrap();
    assert_eq!(token.expose(), "opaque-token-value");

    let err = core
        .add_profile(&manual("bad", "x", Some("tomorrow")))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("token_expires"));
    assert!(
        core.profiles()
            .await
            .unwrap()
            .iter()
            .all(|p| p.name != "bad"),
        "nothing stored"
    );
}

#[tokio::test]
async fn copy_formats_and_history_and_logout() {
    let (_dir, core, _clock, vault) = setup().await;
    let p = core
        .add_profile(&manual("p", "tok123", None))
        .await
        .unwrap();
    let cases = [
        (CopyFormat::Token, "tok123"),
        (CopyFormat::Bearer, "Bearer tok123"),
        (CopyFormat::Header, "Authorization: Bearer tok123"),
        (
            CopyFormat::Curl,
            "curl -H 'Authorization: Bearer tok123' 'https://api.example'",
        ),
    ];
    for (format, want) in cases {
        assert_eq!(core.copy_text(p.id, format).await.unwrap().expose(), want);
    }
    let history = core.credential(p.id).await.unwrap().history;
    let events: Vec<&str> = history.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(events, ["issued", "copied", "copied", "copied", "copied"]);
    assert!(
        history
            .iter()
            .all(|h| !h.detail.clone().unwrap_or_default().contains("tok123")),
        "never the token"
    );

    core.forget_tokens(p.id, "forgotten locally").await.unwrap();
    assert!(vault
        .get(SecretKey::new(p.id, SecretSlot::AccessToken))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        core.profile_view(p.id).await.unwrap().status,
        TokenStatus::None
    );
    assert_eq!(
        core.copy_text(p.id, CopyFormat::Token)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::LoginRequired
    );
    let last = core.credential(p.id).await.unwrap().history.pop().unwrap();
    assert_eq!(last.event, "logged-out");
}

#[tokio::test]
async fn replacing_a_manual_token_updates_its_expiry() {
    let (_dir, core, _clock, _) = setup().await;
    let p = core
        .add_profile(&manual("p", "first", Some("1h")))
        .await
        .unwrap();
    let mut edit = manual("p", "second", Some("2h"));
    edit.secret = Some(SecretInput(Secret::new("second")));
    core.update_profile(p.id, &edit).await.unwrap();
    assert_eq!(core.valid_token("p").await.unwrap().1.expose(), "second");
    assert_eq!(
        core.profile_view(p.id).await.unwrap().expires_at.as_deref(),
        Some("2026-06-01T11:00:00Z")
    );
    // Only the expiry: the stored token is kept and re-dated.
    let mut only_expiry = manual("p", "", Some("3h"));
    only_expiry.secret = None;
    core.update_profile(p.id, &only_expiry).await.unwrap();
    assert_eq!(core.valid_token("p").await.unwrap().1.expose(), "second");
    assert_eq!(
        core.profile_view(p.id).await.unwrap().expires_at.as_deref(),
        Some("2026-06-01T12:00:00Z")
    );
}
