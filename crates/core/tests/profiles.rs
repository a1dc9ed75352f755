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
