//! Servers, tenants and profiles through the core's one entry point, on a real
//! SQLite file in a temporary folder and an in-memory vault.

mod common;
use common::{profile, ProfileInputExt, World};
use latchkey_core::model::{LoginKind, ProfileInput, ServerInput};
use latchkey_core::vault::{Secret, SecretInput, SecretKey, SecretSlot};
use latchkey_core::ErrorCode;

/// No server: each test adds its own.
async fn world() -> World {
    World::now().with_system_clock().build().await
}

/// Server `edge`, an Avassa one nobody reaches.
async fn edge() -> World {
    World::now()
        .with_system_clock()
        .with_server_at("edge", "avassa", "https://x.example")
        .build()
        .await
}

fn server(name: &str, kind: &str, url: &str) -> ServerInput {
    ServerInput {
        name: name.into(),
        kind: kind.into(),
        url: url.into(),
        ca_pem: None,
    }
}

fn avassa_profile(name: &str, tenant: Option<&str>, password: Option<&str>) -> ProfileInput {
    ProfileInput {
        tenant: tenant.map(Into::into),
        secret: password.map(|p| SecretInput(Secret::new(p))),
        ..profile(name, "edge", "avassa-password").username("alice")
    }
}

#[tokio::test]
async fn servers_and_profiles_survive_a_reopen() {
    let w = World::now()
        .with_system_clock()
        .with_server_at("edge", "avassa", "https://api.edge.example/")
        .build()
        .await;
    w.add(avassa_profile("edge-alice", Some("acme"), None))
        .await;
    w.core.store().close().await;
    let core = w.reopen().await;
    let servers = core.servers().await.unwrap();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].server.url, "https://api.edge.example");
    assert_eq!(
        servers[0].tenants[0].name, "acme",
        "the tenant was created with the profile"
    );
    assert_eq!(servers[0].profile_count, 1);
    let profiles = core.profiles().await.unwrap();
    assert_eq!(profiles[0].name, "edge-alice");
    assert_eq!(profiles[0].tenant.as_deref(), Some("acme"));
    assert_eq!(profiles[0].login, LoginKind::AvassaPassword);
    assert_eq!(profiles[0].status_label, "not logged in");
}

#[tokio::test]
async fn each_server_counts_its_own_profiles_and_a_removal_lowers_the_count() {
    let w = edge().await;
    let core = &w.core;
    core.add_server(&server("bare", "avassa", "https://bare.example"))
        .await
        .unwrap();
    core.add_server(&server("quay", "quay", "https://quay.example"))
        .await
        .unwrap();
    for name in ["edge-a", "edge-b", "edge-c"] {
        w.add(avassa_profile(name, None, None)).await;
    }
    w.add(profile("quay-a", "quay", "quay-session").username("alice"))
        .await;
    let counts = |servers: Vec<latchkey_core::ServerView>| {
        servers
            .into_iter()
            .map(|s| (s.server.name, s.profile_count))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        counts(core.servers().await.unwrap()),
        [("bare".into(), 0), ("edge".into(), 3), ("quay".into(), 1)]
    );
    core.remove_profile("edge-b").await.unwrap();
    assert_eq!(
        counts(core.servers().await.unwrap()),
        [("bare".into(), 0), ("edge".into(), 2), ("quay".into(), 1)]
    );
}

#[tokio::test]
async fn invalid_input_names_its_field_and_stores_nothing() {
    let w = world().await;
    let core = &w.core;
    let cases = [
        (
            server("edge", "avassa", "not-a-url"),
            "url",
            ErrorCode::Invalid,
        ),
        (
            server("bad name", "avassa", "https://x.example"),
            "name",
            ErrorCode::Invalid,
        ),
        (
            server("edge", "gitlab", "https://x.example"),
            "kind",
            ErrorCode::Invalid,
        ),
    ];
    for (input, field, code) in cases {
        let err = core.add_server(&input).await.unwrap_err();
        assert_eq!((err.code(), err.field()), (code, Some(field)), "{err}");
    }
    assert!(core.servers().await.unwrap().is_empty());

    core.add_server(&server("edge", "avassa", "https://x.example"))
        .await
        .unwrap();
    let err = core
        .add_server(&server("edge", "quay", "https://y.example"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        (ErrorCode::Conflict, Some("name"))
    );
    assert!(err.to_string().contains("already exists"));

    let err = core
        .add_profile(&avassa_profile("p", Some("Bad_Tenant"), None))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("tenant"));
    let mut wrong_login = avassa_profile("p", None, None);
    wrong_login.login = "quay-session".into();
    let err = core.add_profile(&wrong_login).await.unwrap_err();
    assert_eq!(err.field(), Some("login"));
    assert!(err.to_string().contains("avassa-password"), "{err}");
    let mut no_server = avassa_profile("p", None, None);
    no_server.server = "nowhere".into();
    assert_eq!(
        core.add_profile(&no_server).await.unwrap_err().field(),
        Some("server")
    );
    assert!(core.profiles().await.unwrap().is_empty());
    assert!(
        core.servers().await.unwrap()[0].tenants.is_empty(),
        "no tenant was left behind"
    );
}

#[tokio::test]
async fn removing_a_server_with_profiles_needs_cascade_and_forgets_their_secrets() {
    let w = edge().await;
    let (core, vault) = (&w.core, &w.vault);
    let p = w
        .add(avassa_profile("edge-alice", Some("acme"), Some("pw")))
        .await;
    let key = SecretKey::new(p.id, SecretSlot::Password);
    assert_eq!(vault.get(key).await.unwrap().unwrap().expose(), "pw");

    let err = core.remove_server("edge", false).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NeedsConfirmation);
    assert!(err.to_string().contains("edge-alice"), "{err}");
    assert_eq!(
        core.profiles().await.unwrap().len(),
        1,
        "nothing removed without consent"
    );

    core.remove_server("edge", true).await.unwrap();
    assert!(core.servers().await.unwrap().is_empty());
    assert!(core.profiles().await.unwrap().is_empty());
    assert!(
        vault.get(key).await.unwrap().is_none(),
        "the secret went with the profile"
    );
}

#[tokio::test]
async fn removing_a_profile_forgets_its_secrets_and_a_tenant_needs_cascade() {
    let w = edge().await;
    let (core, vault) = (&w.core, &w.vault);
    let p = w
        .add(avassa_profile("edge-alice", Some("acme"), Some("pw")))
        .await;
    assert_eq!(
        core.remove_tenant("edge", "acme", false)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NeedsConfirmation
    );
    core.remove_profile("edge-alice").await.unwrap();
    assert!(vault.slots(p.id).await.unwrap().is_empty());
    core.remove_tenant("edge", "acme", false).await.unwrap();
    assert_eq!(
        core.remove_profile("edge-alice").await.unwrap_err().code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn tenants_only_on_servers_that_have_them() {
    let w = World::now()
        .with_system_clock()
        .with_server_at("q", "quay", "https://quay.example")
        .with_server_at("edge", "avassa", "https://x.example")
        .build()
        .await;
    let core = &w.core;
    assert_eq!(
        core.add_tenant("q", "acme").await.unwrap_err().field(),
        Some("tenant")
    );
    core.add_tenant("edge", "acme").await.unwrap();
    let err = core.add_tenant("edge", "acme").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert_eq!(
        core.add_tenant("edge", "-x").await.unwrap_err().field(),
        Some("tenant")
    );
}

#[tokio::test]
async fn secrets_are_required_or_refused_by_login_kind() {
    let w = World::now()
        .with_system_clock()
        .with_server_at("dci", "dci", "https://api.distributed-ci.io")
        .build()
        .await;
    let (core, vault) = (&w.core, &w.vault);
    let mut input = profile("ci", "dci", "dci-hmac").access_key("remoteci/abc");
    let err = core.add_profile(&input).await.unwrap_err();
    assert_eq!(err.field(), Some("secret"));
    assert!(err.to_string().contains("secret key"), "{err}");
    input.secret = Some(SecretInput(Secret::new("k3y")));
    let p = core.add_profile(&input).await.unwrap();
    let key = SecretKey::new(p.id, SecretSlot::SigningKey);
    assert_eq!(vault.get(key).await.unwrap().unwrap().expose(), "k3y");

    // Editing without a secret keeps the stored one; with one, replaces it.
    input.label = Some("lab".into());
    input.secret = None;
    core.update_profile(p.id, &input).await.unwrap();
    assert_eq!(vault.get(key).await.unwrap().unwrap().expose(), "k3y");
    input.secret = Some(SecretInput(Secret::new("n3w")));
    let p = core.update_profile(p.id, &input).await.unwrap();
    assert_eq!(p.label.as_deref(), Some("lab"));
    assert_eq!(vault.get(key).await.unwrap().unwrap().expose(), "n3w");

    core.add_server(&server("gh", "kontinuous", "https://k.example"))
        .await
        .unwrap();
    let kontinuous = profile("k", "gh", "github-kontinuous").client_id("id");
    let err = core.add_profile(&kontinuous.secret("x")).await.unwrap_err();
    assert_eq!(err.field(), Some("secret"));
}

#[tokio::test]
async fn settings_round_trip_and_reject_absurd_values() {
    let w = world().await;
    let core = &w.core;
    let mut s = core.settings().await.unwrap();
    assert!(s.close_to_tray);
    assert_eq!(s.clipboard_clear_seconds, 30);
    s.close_to_tray = false;
    s.clipboard_clear_seconds = 0;
    core.set_settings(&s).await.unwrap();
    assert_eq!(core.settings().await.unwrap(), s);
    s.clipboard_clear_seconds = 100_000;
    assert_eq!(
        core.set_settings(&s).await.unwrap_err().field(),
        Some("clipboard_clear_seconds")
    );
}

#[tokio::test]
async fn a_refused_edit_keeps_the_stored_secret() {
    let w = edge().await;
    let (core, vault) = (&w.core, &w.vault);
    let a = core
        .add_profile(&avassa_profile("a", None, Some("old")))
        .await
        .unwrap();
    core.add_profile(&avassa_profile("b", None, None))
        .await
        .unwrap();
    let mut edit = avassa_profile("b", None, Some("new"));
    edit.name = "b".into(); // taken by the other profile
    let err = core.update_profile(a.id, &edit).await.unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        (ErrorCode::Conflict, Some("name"))
    );
    let key = SecretKey::new(a.id, SecretSlot::Password);
    assert_eq!(vault.get(key).await.unwrap().unwrap().expose(), "old");
}

#[tokio::test]
async fn the_whole_list_reads_each_profile_as_reading_it_alone_does() {
    // The list is read as one JSON text (Store::profiles): names, labels and
    // settings that need escaping come back as they went in, by name.
    let w = World::now()
        .with_system_clock()
        .with_server_at("edge", "avassa", "https://api.edge.example/")
        .build()
        .await;
    let core = &w.core;
    for (name, label, username) in [
        ("zeta", None, "plain"),
        (
            "alpha.2",
            Some("\"quoted\", back\\slash\nnew line"),
            "ünïcødé ✓",
        ),
        ("Alpha_1", Some("tab\there"), "{\"not\": \"json\"}"),
    ] {
        let mut input = avassa_profile(name, Some("acme"), None);
        input.label = label.map(Into::into);
        input.settings.username = Some(username.into());
        core.add_profile(&input).await.unwrap();
    }
    let listed = core.store().profiles().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Alpha_1", "alpha.2", "zeta"], "by name, bytewise");
    for profile in &listed {
        let alone = core.store().profile(profile.id).await.unwrap().unwrap();
        assert_eq!(profile, &alone);
    }
}

#[tokio::test]
async fn the_list_shows_each_profile_as_its_token_and_renewal_rows_say() {
    // The list reads profiles, tokens and renewals in one query; this reads
    // them the long way (every table whole) and builds each line again.
    use latchkey_core::model::{TokenKind, TokenMeta};
    use latchkey_core::providers::registry::renewal_policy;
    use latchkey_core::tokens::{self as tok, RenewalState};
    use std::collections::HashMap;
    use time::{macros::datetime, Duration};

    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let w = World::at(t0)
        .with_server_at("edge", "avassa", "https://api.edge.example/")
        .with_server_at("sso", "oidc", "https://sso.example/")
        .with_server_at("dci", "dci", "https://dci.example/")
        .build()
        .await;
    let core = &w.core;
    let store = core.store();
    let meta = |kind, issued: i64, lasts: i64, due: Option<i64>| TokenMeta {
        kind,
        issued_at: Some(t0 + Duration::minutes(issued)),
        expires_at: Some(t0 + Duration::minutes(issued + lasts)),
        renew_due_at: due.map(|d| t0 + Duration::minutes(d)),
        scopes: vec!["read".into()],
        summary: serde_json::Map::from_iter([("sub".into(), "alice".into())]),
    };
    let mut never = avassa_profile("never", Some("acme"), None);
    never.label = Some("\"quoted\" back\\slash\nline".into());
    never.settings.username = Some("ünïcødé ✓".into());
    w.add(never).await;
    let valid = w.add(avassa_profile("valid", Some("acme"), None)).await;
    w.issue(&valid, "t", t0 - Duration::hours(1), Duration::hours(8))
        .await;
    let expired = w.add(avassa_profile("expired", None, None)).await;
    w.issue(&expired, "t", t0 - Duration::hours(9), Duration::hours(8))
        .await;
    let failing = w.add(avassa_profile("failing", Some("beta"), None)).await;
    w.issue(&failing, "t", t0 - Duration::hours(1), Duration::hours(8))
        .await;
    let failed_at = t0 - Duration::minutes(5);
    store
        .put_renewal(
            failing.id,
            &RenewalState {
                last_error: Some("refused".into()),
                failed_at: Some(failed_at),
                attempts: 2,
                reminded: vec![60],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Renewal state with no error: as if there were none.
    let reminded = w.add(avassa_profile("reminded", None, None)).await;
    w.issue(&reminded, "t", t0 - Duration::hours(7), Duration::hours(8))
        .await;
    store
        .put_renewal(
            reminded.id,
            &RenewalState {
                reminded: vec![60, 15],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Refresh and ID tokens are not what the list shows; of two others,
    // the one stored last is.
    let oidc = w
        .add(profile("oidc", "sso", "oidc").client_id("latchkey"))
        .await;
    for m in [
        meta(TokenKind::Refresh, -30, 600, None),
        meta(TokenKind::Access, -10, 60, Some(35)),
        meta(TokenKind::Id, -10, 5, None),
    ] {
        store.put_token(oidc.id, &m).await.unwrap();
    }
    let two = w
        .add(profile("two", "sso", "oidc").client_id("latchkey"))
        .await;
    store
        .put_token(two.id, &meta(TokenKind::Session, -20, 30, None))
        .await
        .unwrap();
    store
        .put_token(two.id, &meta(TokenKind::Access, -90, 100, Some(-1)))
        .await
        .unwrap();
    w.add(
        profile("Lab", "dci", "dci-hmac")
            .access_key("remoteci/1")
            .secret("s"),
    )
    .await;

    let mut tokens: HashMap<i64, TokenMeta> = HashMap::new();
    for (id, meta) in store.all_tokens().await.unwrap() {
        if !matches!(meta.kind, TokenKind::Refresh | TokenKind::Id) {
            tokens.insert(id, meta);
        }
    }
    let renewals: HashMap<i64, RenewalState> =
        store.all_renewals().await.unwrap().into_iter().collect();
    let servers = core.servers().await.unwrap();
    let mut profiles = store.profiles().await.unwrap();
    profiles.sort_by(|a, b| a.name.cmp(&b.name));
    let expiring = Duration::minutes(core.settings().await.unwrap().expiring_minutes as i64);
    let expected: Vec<serde_json::Value> = profiles
        .iter()
        .map(|p| {
            let server = servers.iter().find(|s| s.server.id == p.server_id).unwrap();
            let token = tokens.get(&p.id);
            let renewal = renewals.get(&p.id).cloned().unwrap_or_default();
            let status = tok::status(t0, token, &renewal, renewal_policy(p.login), expiring);
            let time = |at: Option<time::OffsetDateTime>| at.map(tok::rfc3339);
            serde_json::json!({
                "id": p.id,
                "name": p.name,
                "server": server.server.name,
                "tenant": p.tenant_id.map(|t| {
                    server.tenants.iter().find(|x| x.id == t).unwrap().name.clone()
                }),
                "login": p.login,
                "settings": p.settings,
                "label": p.label,
                "status": status,
                "issued_at": time(token.and_then(|t| t.issued_at)),
                "expires_at": time(token.and_then(|t| t.expires_at)),
                "renew_due_at": time(token.and_then(|t| t.renew_due_at)),
                "renewal_failed_at": time(renewal.failed_at),
            })
        })
        .collect();
    let listed: Vec<serde_json::Value> = core
        .profiles()
        .await
        .unwrap()
        .iter()
        .map(|v| {
            let mut v = serde_json::to_value(v).unwrap();
            let fields = v.as_object_mut().unwrap();
            // Not read from the tables: the login kind's renewer, the hub.
            for field in ["server_kind", "status_label", "renewable", "waiting"] {
                fields.remove(field).unwrap();
            }
            v
        })
        .collect();
    assert_eq!(listed, expected);
    let statuses: Vec<&str> = listed
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "none",
            "expired",
            "failed",
            "none",
            "valid",
            "renew-due",
            "renew-due",
            "valid"
        ],
        "Lab expired failing never oidc reminded two valid: every case the list tells apart"
    );
    let view = core.profile_view(two.id).await.unwrap();
    assert_eq!(view.renew_due_at.as_deref(), Some("2026-06-01T11:59:00Z"));
    // `latchkey profile list --json` writes the lines, which borrow from
    // the rows: the same text as the views, every case above included.
    let views = serde_json::to_string_pretty(&core.profiles().await.unwrap()).unwrap();
    let list = core.profile_list().await.unwrap();
    let lines: Vec<_> = list.lines().collect();
    assert_eq!(lines.len(), 8);
    assert_eq!(serde_json::to_string_pretty(&lines).unwrap(), views);
}

#[test]
fn a_line_writes_a_time_as_the_view_s_string_of_it() {
    use latchkey_core::service::Rfc3339;
    use latchkey_core::tokens::rfc3339;
    use time::macros::datetime;
    for at in [
        datetime!(2026-06-01 12:00:00.123456789 UTC),
        datetime!(2026-06-01 12:00 +02:00),
        datetime!(1970-01-01 0:00 UTC),
        datetime!(9999-12-31 23:59:59.999 UTC),
        datetime!(0000-01-01 0:00 UTC),
        // Not a time RFC 3339 can write: the view's string is empty.
        datetime!(-0001-06-01 0:00 UTC),
    ] {
        assert_eq!(
            serde_json::to_value(Rfc3339(at)).unwrap(),
            serde_json::Value::String(rfc3339(at)),
            "{at}"
        );
    }
    assert_eq!(rfc3339(datetime!(-0001-06-01 0:00 UTC)), "");
}
