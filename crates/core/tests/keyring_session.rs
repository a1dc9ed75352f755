//! The lean Secret Service session (`keyring_session`) against the real
//! keyring and the `keyring` crate: each reads, replaces and removes what the
//! other wrote, and it leaves to the crate what only the crate handles.
//! `make test` runs this under a private D-Bus session with an unlocked
//! gnome-keyring; each test uses its own keyring service name and removes
//! what it wrote.

#![cfg(target_os = "linux")]

mod common;
use common::keyring_service;
use latchkey_core::keyring_session::{Lean, SecretServiceSession};
use latchkey_core::vault::{Secret, SecretKey, SecretSlot};

fn session() -> SecretServiceSession {
    SecretServiceSession::open().expect("a Secret Service session")
}

fn entry(service: &str, key: &SecretKey) -> keyring::Entry {
    keyring::Entry::new(service, &key.account()).unwrap()
}

fn sure<T: std::fmt::Debug>(answer: Lean<T>) -> T {
    match answer {
        Lean::Sure(value) => value,
        Lean::Unsure => panic!("the lean path should answer this itself"),
    }
}

/// Lengths around the AES block size, and text beyond ASCII.
/// Stores "from keyring v1" where keyring v1 (and other tools) put entries:
/// the default collection, without `target`.
fn store_legacy(service: &str, key: &SecretKey) {
    let mut store = std::process::Command::new("secret-tool")
        .args([
            "store",
            "--label=legacy",
            "service",
            service,
            "username",
            &key.account(),
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("secret-tool (libsecret-tools) is installed");
    std::io::Write::write_all(store.stdin.as_mut().unwrap(), b"from keyring v1").unwrap();
    drop(store.stdin.take());
    assert!(store.wait().unwrap().success());
}

fn values() -> Vec<String> {
    vec![
        "x".into(),
        "a".repeat(15),
        "b".repeat(16),
        "c".repeat(17),
        format!("ünïcødé-{}", "z".repeat(300)),
    ]
}

#[test]
fn what_the_keyring_crate_wrote_is_read_and_removed() {
    let service = keyring_service();
    let lean = session();
    for (i, value) in values().iter().enumerate() {
        let key = SecretKey::new(i as i64, SecretSlot::AccessToken);
        entry(&service, &key).set_password(value).unwrap();
        let read = sure(lean.get(&service, &key)).expect("found");
        assert_eq!(read.expose(), value);
        sure(lean.delete(&service, &key));
        assert!(matches!(
            entry(&service, &key).get_password(),
            Err(keyring::Error::NoEntry)
        ));
        assert!(sure(lean.get(&service, &key)).is_none(), "gone");
        sure(lean.delete(&service, &key));
    }
}

#[test]
fn what_it_writes_the_keyring_crate_reads_replaces_and_removes() {
    let service = keyring_service();
    let lean = session();
    for (i, value) in values().iter().enumerate() {
        let key = SecretKey::new(i as i64, SecretSlot::RefreshToken);
        sure(lean.set(&service, &key, &Secret::new(value.clone())));
        assert_eq!(&entry(&service, &key).get_password().unwrap(), value);
        // Replacing keeps one item: the crate would call two "ambiguous".
        sure(lean.set(&service, &key, &Secret::new(format!("{value}-2"))));
        assert_eq!(
            entry(&service, &key).get_password().unwrap(),
            format!("{value}-2")
        );
        entry(&service, &key).set_password("by the crate").unwrap();
        assert_eq!(
            sure(lean.get(&service, &key)).unwrap().expose(),
            "by the crate"
        );
        entry(&service, &key).delete_credential().unwrap();
    }
    let other = SecretKey::new(1, SecretSlot::Password);
    sure(lean.set(&service, &other, &Secret::new("mine")));
    assert!(
        sure(lean.get(&format!("{service}-other"), &other)).is_none(),
        "another service's entry is not ours"
    );
    sure(lean.delete(&service, &other));
}

#[test]
fn an_entry_only_the_keyring_crate_understands_is_left_to_it() {
    let service = keyring_service();
    let lean = session();
    let key = SecretKey::new(7, SecretSlot::Password);
    store_legacy(&service, &key);
    assert!(matches!(lean.get(&service, &key), Lean::Unsure));
    assert!(matches!(lean.delete(&service, &key), Lean::Unsure));
    assert_eq!(
        entry(&service, &key).get_password().unwrap(),
        "from keyring v1",
        "the crate still finds it"
    );
    entry(&service, &key).delete_credential().unwrap();
    assert!(sure(lean.get(&service, &key)).is_none());
}

#[test]
fn one_lookup_on_its_own_connection_answers_as_a_session_does() {
    let service = keyring_service();
    let key = SecretKey::new(11, SecretSlot::AccessToken);
    let once = |key: &SecretKey| {
        let key = *key;
        SecretServiceSession::get_once(&service, move || Some(key))
    };
    assert!(sure(once(&key)).is_none(), "no entry yet");
    for value in values() {
        entry(&service, &key).set_password(&value).unwrap();
        assert_eq!(sure(once(&key)).expect("found").expose(), value);
    }
    // The entry is named only once the caller knows it (the token hand-off
    // reads it from the database meanwhile): a caller that gives up gets no
    // answer, and nothing is read.
    assert!(matches!(
        SecretServiceSession::get_once(&service, || None),
        Lean::Unsure
    ));
    let named_late = SecretServiceSession::get_once(&service, || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        Some(key)
    });
    assert_eq!(
        sure(named_late).expect("found").expose(),
        values().pop().unwrap()
    );
    // Another service's entry is not ours; a legacy one is left to the crate.
    assert!(sure(SecretServiceSession::get_once(
        &format!("{service}-other"),
        || Some(key)
    ))
    .is_none());
    entry(&service, &key).delete_credential().unwrap();
    let legacy = SecretKey::new(12, SecretSlot::Password);
    store_legacy(&service, &legacy);
    assert!(matches!(once(&legacy), Lean::Unsure));
    entry(&service, &legacy).delete_credential().unwrap();
}
