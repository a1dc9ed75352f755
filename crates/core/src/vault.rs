//! Secrets: tokens, refresh tokens, passwords the user chose to keep, client
//! secrets, signing keys. One keyring entry per secret, keyed by profile id and
//! slot. The OS keyring in the app and CLI ([`KeyringStore`]); memory in unit
//! tests ([`MemoryStore`]). If no keyring is reachable the error says how to
//! start one; there is never a plaintext fallback.
//!
//! [`Secret`] is the only type a secret travels in: its `Debug` is redacted and
//! it has no `Serialize`, so it cannot end up in a log, a panic or the webview.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A secret value. Redacted in `Debug`, not serializable; read it with
/// [`Secret::expose`] only where it goes into a request, the keyring or the
/// clipboard.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

/// A secret typed by the user in a form: it crosses from the UI to Rust, never
/// the other way.
#[derive(Clone, Debug, specta::Type)]
#[specta(transparent)]
pub struct SecretInput(#[specta(type = String)] pub Secret);

impl<'de> Deserialize<'de> for SecretInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| SecretInput(Secret::new(s)))
    }
}

/// Which secret of a profile an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum SecretSlot {
    AccessToken,
    RefreshToken,
    IdToken,
    Password,
    ClientSecret,
    SigningKey,
    SessionCookie,
}

impl SecretSlot {
    pub const ALL: &'static [SecretSlot] = &[
        SecretSlot::AccessToken,
        SecretSlot::RefreshToken,
        SecretSlot::IdToken,
        SecretSlot::Password,
        SecretSlot::ClientSecret,
        SecretSlot::SigningKey,
        SecretSlot::SessionCookie,
    ];

    fn as_str(self) -> &'static str {
        match self {
            SecretSlot::AccessToken => "access-token",
            SecretSlot::RefreshToken => "refresh-token",
            SecretSlot::IdToken => "id-token",
            SecretSlot::Password => "password",
            SecretSlot::ClientSecret => "client-secret",
            SecretSlot::SigningKey => "signing-key",
            SecretSlot::SessionCookie => "session-cookie",
        }
    }
}

/// The address of one secret: a profile and a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretKey {
    pub profile_id: i64,
    pub slot: SecretSlot,
}

impl SecretKey {
    pub fn new(profile_id: i64, slot: SecretSlot) -> Self {
        Self { profile_id, slot }
    }

    /// The keyring "user" of the entry, e.g. `profile-7/access-token`.
    pub fn account(&self) -> String {
        format!("profile-{}/{}", self.profile_id, self.slot.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "the keyring is locked or no keyring service is running: start and unlock one \
         (GNOME Keyring, KWallet or KeePassXC with Secret Service), then try again ({0})"
    )]
    Locked(String),
    #[error(
        "no D-Bus session bus, so the keyring cannot be reached: run Latchkey inside a \
         desktop session, or start one with `dbus-run-session -- latchkey ...` and a \
         keyring daemon ({0})"
    )]
    NoSessionBus(String),
    #[error("the keyring refused: {0}")]
    Keyring(String),
    #[error("the keyring task failed: {0}")]
    Task(String),
}

/// A place that keeps secrets. Blocking: call through [`Vault`], which moves the
/// calls off the async runtime (the Secret Service backend cannot run inside one).
pub trait SecretStore: Send + Sync {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, VaultError>;
    fn set(&self, key: &SecretKey, secret: &Secret) -> Result<(), VaultError>;
    fn delete(&self, key: &SecretKey) -> Result<(), VaultError>;
}

/// The OS keyring through the `keyring` crate, under one service name.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, key: &SecretKey) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(&self.service, &key.account()).map_err(map_keyring_error)
    }
}

fn map_keyring_error(err: keyring::Error) -> VaultError {
    let text = err.to_string();
    match err {
        keyring::Error::NoStorageAccess(_) => VaultError::Locked(text),
        keyring::Error::PlatformFailure(_)
            if text.contains("D-Bus") || text.contains("DBus") || text.contains("dbus") =>
        {
            VaultError::NoSessionBus(text)
        }
        _ => VaultError::Keyring(text),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, VaultError> {
        match self.entry(key)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(map_keyring_error(err)),
        }
    }

    fn set(&self, key: &SecretKey, secret: &Secret) -> Result<(), VaultError> {
        self.entry(key)?
            .set_password(secret.expose())
            .map_err(map_keyring_error)
    }

    fn delete(&self, key: &SecretKey) -> Result<(), VaultError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(map_keyring_error(err)),
        }
    }
}

/// Secrets in process memory, for unit tests.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<SecretKey, Secret>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, VaultError> {
        Ok(self.entries.lock().expect("vault lock").get(key).cloned())
    }

    fn set(&self, key: &SecretKey, secret: &Secret) -> Result<(), VaultError> {
        self.entries
            .lock()
            .expect("vault lock")
            .insert(*key, secret.clone());
        Ok(())
    }

    fn delete(&self, key: &SecretKey) -> Result<(), VaultError> {
        self.entries.lock().expect("vault lock").remove(key);
        Ok(())
    }
}

/// The async face of a [`SecretStore`].
#[derive(Clone)]
pub struct Vault {
    store: Arc<dyn SecretStore>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault")
    }
}

impl Vault {
    pub fn new(store: impl SecretStore + 'static) -> Self {
        Self {
            store: Arc::new(store),
        }
    }

    pub fn memory() -> Self {
        Self::new(MemoryStore::default())
    }

    pub fn keyring(service: impl Into<String>) -> Self {
        Self::new(KeyringStore::new(service))
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore) -> Result<T, VaultError> + Send + 'static,
    ) -> Result<T, VaultError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| VaultError::Task(e.to_string()))?
    }

    pub async fn get(&self, key: SecretKey) -> Result<Option<Secret>, VaultError> {
        self.blocking(move |s| s.get(&key)).await
    }

    pub async fn set(&self, key: SecretKey, secret: Secret) -> Result<(), VaultError> {
        self.blocking(move |s| s.set(&key, &secret)).await
    }

    pub async fn delete(&self, key: SecretKey) -> Result<(), VaultError> {
        self.blocking(move |s| s.delete(&key)).await
    }

    /// Forgets every secret of a profile.
    pub async fn forget_profile(&self, profile_id: i64) -> Result<(), VaultError> {
        self.blocking(move |s| {
            for slot in SecretSlot::ALL {
                s.delete(&SecretKey::new(profile_id, *slot))?;
            }
            Ok(())
        })
        .await
    }

    /// Which slots of a profile hold a secret, without reading them out.
    pub async fn slots(&self, profile_id: i64) -> Result<Vec<SecretSlot>, VaultError> {
        self.blocking(move |s| {
            let mut held = Vec::new();
            for slot in SecretSlot::ALL {
                if s.get(&SecretKey::new(profile_id, *slot))?.is_some() {
                    held.push(*slot);
                }
            }
            Ok(held)
        })
        .await
    }

    /// Writes, reads back and deletes a probe entry: tells at start-up whether the
    /// keyring works, before a login depends on it.
    pub async fn check(&self) -> Result<(), VaultError> {
        self.blocking(|s| {
            let key = SecretKey::new(0, SecretSlot::AccessToken);
            let probe = Secret::new("latchkey-probe");
            s.set(&key, &probe)?;
            let back = s.get(&key)?;
            s.delete(&key)?;
            match back {
                Some(v) if v == probe => Ok(()),
                _ => Err(VaultError::Keyring(
                    "a probe secret written to the keyring did not read back".into(),
                )),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        let input: SecretInput = serde_json::from_str("\"hunter2\"").unwrap();
        assert!(!format!("{input:?}").contains("hunter2"));
        assert_eq!(input.0.expose(), "hunter2");
    }

    #[tokio::test]
    async fn memory_vault_round_trips_and_forgets_a_profile() {
        let vault = Vault::memory();
        let key = SecretKey::new(7, SecretSlot::Password);
        assert!(vault.get(key).await.unwrap().is_none());
        vault.set(key, Secret::new("pw")).await.unwrap();
        vault
            .set(
                SecretKey::new(7, SecretSlot::ClientSecret),
                Secret::new("cs"),
            )
            .await
            .unwrap();
        assert_eq!(vault.get(key).await.unwrap().unwrap().expose(), "pw");
        assert_eq!(
            vault.slots(7).await.unwrap(),
            [SecretSlot::Password, SecretSlot::ClientSecret]
        );
        vault.forget_profile(7).await.unwrap();
        assert!(vault.slots(7).await.unwrap().is_empty());
        vault.check().await.unwrap();
    }

    #[test]
    fn accounts_name_profile_and_slot() {
        assert_eq!(
            SecretKey::new(3, SecretSlot::RefreshToken).account(),
            "profile-3/refresh-token"
        );
    }
}
