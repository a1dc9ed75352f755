//! The sandbox in-process on a random loopback port: every protocol mounted
//! under its prefix, and `--seed`'s servers and profiles valid for the core.

use latchkey_core::env::Environment;
use latchkey_core::vault::{SecretKey, SecretSlot, Vault};
use latchkey_core::{clock, Latchkey};
use latchkey_sandbox::{Sandbox, PROTOCOLS};

#[tokio::test]
async fn every_protocol_answers_under_its_prefix() {
    let sandbox = Sandbox::start(0).await.unwrap();
    assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
    let client = reqwest::Client::new();
    let index = client
        .get(sandbox.base_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for protocol in PROTOCOLS {
        assert!(index.contains(protocol));
        let body = client
            .get(sandbox.url_of(protocol))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(&body, protocol, "GET {}", sandbox.url_of(protocol));
    }
    let addr = sandbox.addr();
    sandbox.stop().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "stopped means closed"
    );
}

#[tokio::test]
async fn seeding_creates_a_profile_per_protocol_once() {
    let sandbox = Sandbox::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = Environment {
        data_dir: dir.path().to_path_buf(),
        keyring_service: "unused".into(),
    };
    let vault = Vault::memory();
    let core = Latchkey::open_with(&env, vault.clone(), clock::system())
        .await
        .unwrap();
    let first = latchkey_sandbox::seed::seed(&core, &sandbox).await.unwrap();
    // A server and a profile per protocol, two more Avassa and two more Quay logins.
    assert_eq!(first.len(), 2 * PROTOCOLS.len() + 5, "{first:?}");
    let again = latchkey_sandbox::seed::seed(&core, &sandbox).await.unwrap();
    assert!(again.is_empty(), "a second seed changes nothing: {again:?}");

    let servers = core.servers().await.unwrap();
    assert_eq!(servers.len(), PROTOCOLS.len());
    for s in &servers {
        assert!(s.server.url.starts_with(&sandbox.base_url()));
    }
    let profiles = core.profiles().await.unwrap();
    let avassa = profiles
        .iter()
        .find(|p| p.name == "sandbox-avassa")
        .unwrap();
    assert_eq!(avassa.tenant.as_deref(), Some("acme"));
    let dci = profiles.iter().find(|p| p.name == "sandbox-dci").unwrap();
    let key = vault
        .get(SecretKey::new(dci.id, SecretSlot::SigningKey))
        .await
        .unwrap();
    assert_eq!(key.unwrap().expose(), latchkey_sandbox::seed::DCI_SECRET);
}

#[test]
fn totp_follows_rfc_6238() {
    use latchkey_sandbox::avassa::{base32, totp};
    use time::OffsetDateTime;
    // RFC 6238 appendix B, SHA-1: the 8-digit codes' last six digits.
    let seed = b"12345678901234567890";
    for (t, code) in [
        (59, "287082"),
        (1_111_111_109, "081804"),
        (1_234_567_890, "005924"),
        (2_000_000_000, "279037"),
    ] {
        assert_eq!(
            totp(seed, OffsetDateTime::from_unix_timestamp(t).unwrap()),
            code,
            "T={t}"
        );
    }
    assert_eq!(base32(b"foobar"), "MZXW6YTBOI", "RFC 4648 §10, unpadded");
}
