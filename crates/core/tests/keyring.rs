//! The real OS keyring (Secret Service). `make test` runs this under a private
//! D-Bus session with an unlocked gnome-keyring; each test uses its own keyring
//! service name and removes what it wrote, so the user's entries are never seen.

mod common;
use common::{keyring_service, profile, ProfileInputExt, World};
use latchkey_core::vault::{Secret, SecretKey, SecretSlot, Vault};

#[tokio::test]
async fn a_profile_secret_is_in_the_keyring_and_not_in_the_database_file() {
    let w = World::now()
        .with_keyring()
        .with_system_clock()
        .with_server_at("auth", "oidc", "https://id.example")
        .build()
        .await;
    w.vault.check().await.expect("the keyring works");
    let client_secret = format!("cs-{}", latchkey_core::flows::random_token());
    let p = w
        .add(
            profile("me", "auth", "oidc")
                .client_id("cli")
                .secret(&client_secret),
        )
        .await;

    // A second handle on the same service (as the CLI would be) reads it back.
    let other = Vault::keyring(&w.env.keyring_service);
    let key = SecretKey::new(p.id, SecretSlot::ClientSecret);
    assert_eq!(
        other.get(key).await.unwrap().unwrap().expose(),
        client_secret
    );

    w.core.store().close().await;
    for file in std::fs::read_dir(w.dir.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(
            !bytes
                .windows(client_secret.len())
                .any(|w| w == client_secret.as_bytes()),
            "the secret leaked into the data folder"
        );
    }

    let core = w.reopen().await;
    core.remove_profile("me").await.unwrap();
    assert!(
        other.get(key).await.unwrap().is_none(),
        "removing the profile forgot the secret"
    );
}

/// The false alarm of the e2e screenshot: the window asks `app_info` from
/// several reloads at once, and each check wrote, read back and deleted the
/// same probe entry, so one check's delete made another's read come back
/// empty ("a probe secret written to the keyring did not read back").
#[tokio::test]
async fn concurrent_checks_never_raise_a_false_alarm() {
    let service = keyring_service();
    let vault = Vault::keyring(&service);
    for round in 0..5 {
        let checks: Vec<_> = (0..6)
            .map(|_| {
                let vault = vault.clone();
                tokio::spawn(async move { vault.check().await })
            })
            .collect();
        for check in checks {
            let outcome = check.await.unwrap();
            assert!(outcome.is_ok(), "round {round}: {outcome:?}");
        }
    }
    assert!(vault.health().is_ok());
    assert_eq!(
        entries_of(&service),
        0,
        "every probe entry was deleted again"
    );
}

/// How many keyring items the service has, asked of the Secret Service itself.
fn entries_of(service: &str) -> usize {
    use dbus_secret_service::{EncryptionType, SecretService};
    let ss = SecretService::connect(EncryptionType::Plain).unwrap();
    let found = ss
        .search_items(std::collections::HashMap::from([("service", service)]))
        .unwrap();
    found.locked.len() + found.unlocked.len()
}

/// The probe writes under its own account, which no profile can have: a
/// profile's secret (here, in the slot the old probe used) survives checks.
#[tokio::test]
async fn the_probe_never_touches_a_profile_entry() {
    let service = keyring_service();
    let vault = Vault::keyring(&service);
    let key = SecretKey::new(0, SecretSlot::AccessToken);
    vault.set(key, Secret::new("a-real-token")).await.unwrap();
    for _ in 0..3 {
        vault.check().await.unwrap();
    }
    assert_eq!(
        vault.get(key).await.unwrap().unwrap().expose(),
        "a-real-token"
    );
    assert_eq!(entries_of(&service), 1);
    vault.delete(key).await.unwrap();
    assert_eq!(entries_of(&service), 0);
}
