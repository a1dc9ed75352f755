//! The real OS keyring (Secret Service). `make test` runs this under a private
//! D-Bus session with an unlocked gnome-keyring; each test uses its own keyring
//! service name and removes what it wrote, so the user's entries are never seen.

use latchkey_core::clock;
use latchkey_core::env::Environment;
use latchkey_core::model::{ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::vault::{Secret, SecretInput, SecretKey, SecretSlot, Vault};
use latchkey_core::Latchkey;

fn test_service() -> String {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "keyring tests need a D-Bus session with an unlocked keyring: run them through \
         `make test` or `scripts/session.sh cargo test`"
    );
    format!(
        "latchkey-test-{}-{}",
        std::process::id(),
        latchkey_core::flows::random_token()
    )
}

#[tokio::test]
async fn a_profile_secret_is_in_the_keyring_and_not_in_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let service = test_service();
    let env = Environment {
        data_dir: dir.path().to_path_buf(),
        keyring_service: service.clone(),
    };
    let vault = Vault::keyring(&service);
    vault.check().await.expect("the keyring works");
    let core = Latchkey::open_with(&env, vault.clone(), clock::system())
        .await
        .unwrap();
    core.add_server(&ServerInput {
        name: "auth".into(),
        kind: "oidc".into(),
        url: "https://id.example".into(),
        ca_pem: None,
    })
    .await
    .unwrap();
    let client_secret = format!("cs-{}", latchkey_core::flows::random_token());
    let p = core
        .add_profile(&ProfileInput {
            name: "me".into(),
            server: "auth".into(),
            login: "oidc".into(),
            settings: ProfileSettings {
                client_id: Some("cli".into()),
                ..Default::default()
            },
            secret: Some(SecretInput(Secret::new(client_secret.clone()))),
            ..Default::default()
        })
        .await
        .unwrap();

    // A second handle on the same service (as the CLI would be) reads it back.
    let other = Vault::keyring(&service);
    let key = SecretKey::new(p.id, SecretSlot::ClientSecret);
    assert_eq!(
        other.get(key).await.unwrap().unwrap().expose(),
        client_secret
    );

    core.store().close().await;
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(
            !bytes
                .windows(client_secret.len())
                .any(|w| w == client_secret.as_bytes()),
            "the secret leaked into the data folder"
        );
    }

    let core = Latchkey::open_with(&env, vault.clone(), clock::system())
        .await
        .unwrap();
    core.remove_profile("me").await.unwrap();
    assert!(
        other.get(key).await.unwrap().is_none(),
        "removing the profile forgot the secret"
    );
}
