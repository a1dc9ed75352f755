//! Secrets: tokens, refresh tokens, passwords the user chose to keep, client
//! secrets, signing keys. One keyring entry per secret, keyed by profile id and
//! slot. The OS keyring in the app and CLI ([`KeyringStore`], mostly through
//! one lean Secret Service session per process); memory in unit tests
//! ([`MemoryStore`]). If no keyring is reachable the error says how to
//! start one; there is never a plaintext fallback.
//!
//! [`Secret`] is the only type a secret travels in: its `Debug` is redacted and
//! it has no `Serialize`, so it cannot end up in a log, a panic or the webview.
//!
//! The keyring check ([`Vault::check`], [`Vault::check_patiently`]) first asks
//! the Secret Service how it is (on the bus? a default keyring? unlocked?)
//! without triggering an unlock prompt, then writes, reads back and deletes a
//! probe entry of its own, under an account no profile can have. Its verdict,
//! a [`KeyringStatus`], is also updated by every keyring call that fails, so
//! the window can show a banner and clear it when a later check succeeds.

#[cfg(target_os = "linux")]
use crate::keyring_session::{Lean, SecretServiceSession};
pub use crate::secret::{Secret, SecretInput, SecretKey, SecretSlot};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "the keyring is locked: unlock it (the Unlock button in Latchkey, your desktop's \
         keyring prompt, or `latchkey keyring check --unlock`), then try again ({0})"
    )]
    Locked(String),
    #[error(
        "the Secret Service has no default keyring to keep secrets in: create one and make \
         it the default (GNOME's \"Passwords and Keys\", KeePassXC's Secret Service \
         integration), or start `gnome-keyring-daemon --unlock` at login ({0})"
    )]
    NoDefaultKeyring(String),
    #[error(
        "no keyring service is running on this desktop session: start one (GNOME Keyring: \
         `gnome-keyring-daemon --start --components=secrets`; or KWallet or KeePassXC with \
         Secret Service enabled), then try again ({0})"
    )]
    NoService(String),
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
    /// A provider asked for a secret of a profile other than the one it
    /// logs in or renews: a bug, refused before the keyring is asked.
    #[error("{0}")]
    NotThisProfile(String),
}

impl From<VaultError> for crate::error::Error {
    fn from(e: VaultError) -> Self {
        crate::error::Error::Vault(Box::new(e))
    }
}

impl VaultError {
    /// Which of the banner's states this error is.
    pub fn state(&self) -> KeyringState {
        match self {
            VaultError::Locked(_) | VaultError::NoDefaultKeyring(_) => KeyringState::Locked,
            VaultError::NoService(_) | VaultError::NoSessionBus(_) => KeyringState::Absent,
            VaultError::Keyring(_) | VaultError::Task(_) | VaultError::NotThisProfile(_) => {
                KeyringState::Broken
            }
        }
    }

    /// Whether waiting can help: a Secret Service that is still starting has
    /// no name on the bus, no default collection, or a locked one for a moment.
    /// A missing session bus does not appear by itself.
    fn may_pass(&self) -> bool {
        !matches!(self, VaultError::NoSessionBus(_))
    }
}

/// How the keyring is, as the window's banner and `latchkey keyring check` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum KeyringState {
    /// Not checked yet (the start-up check is running).
    Checking,
    /// A probe secret was written, read back and deleted.
    Ok,
    /// There is a keyring, but it is locked (or has no default collection):
    /// the user can unlock it, e.g. with [`Vault::unlock`].
    Locked,
    /// No Secret Service (or no session bus) to talk to: one must be started.
    Absent,
    /// The keyring answered, but wrongly: the message says what it did.
    Broken,
}

/// The last verdict about the keyring: its state and, unless it works, what is
/// wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct KeyringStatus {
    pub state: KeyringState,
    pub message: Option<String>,
}

impl KeyringStatus {
    pub fn ok() -> Self {
        Self {
            state: KeyringState::Ok,
            message: None,
        }
    }

    pub fn checking() -> Self {
        Self {
            state: KeyringState::Checking,
            message: None,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.state == KeyringState::Ok
    }

    /// A problem to show, if there is one (none while checking).
    pub fn problem(&self) -> Option<&str> {
        match self.state {
            KeyringState::Ok | KeyringState::Checking => None,
            _ => self.message.as_deref(),
        }
    }
}

impl From<&VaultError> for KeyringStatus {
    fn from(err: &VaultError) -> Self {
        Self {
            state: err.state(),
            message: Some(err.to_string()),
        }
    }
}

impl From<&Result<(), VaultError>> for KeyringStatus {
    fn from(outcome: &Result<(), VaultError>) -> Self {
        match outcome {
            Ok(()) => KeyringStatus::ok(),
            Err(err) => err.into(),
        }
    }
}

/// A place that keeps secrets. Blocking: call through [`Vault`], which moves the
/// calls off the async runtime (the Secret Service backend cannot run inside one).
pub trait SecretStore: Send + Sync {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, VaultError>;
    fn set(&self, key: &SecretKey, secret: &Secret) -> Result<(), VaultError>;
    fn delete(&self, key: &SecretKey) -> Result<(), VaultError>;

    /// Says whether the store works now: one attempt, no retry.
    fn check(&self) -> Result<(), VaultError> {
        Ok(())
    }

    /// Asks the store to unlock itself (the desktop shows its unlock or
    /// create-keyring prompt), waiting at most `prompt_wait` for the user.
    fn unlock(&self, _prompt_wait: Duration) -> Result<(), VaultError> {
        Ok(())
    }

    /// Gets ready for the calls to come (connects, negotiates), so that they
    /// wait less; errors are left for those calls to report.
    fn prepare(&self) {}
}

/// The account of the keyring check's probe entries. Profile entries are
/// `profile-<id>/<slot>`, so no profile can ever name this one; each check adds
/// its own random suffix, so two checks (two reloads, the app and the CLI)
/// never read or delete each other's probe.
pub const PROBE_ACCOUNT_PREFIX: &str = "latchkey-keyring-check/";

/// The OS keyring under one service name: through one Secret Service
/// session for the whole process where it can answer exactly
/// (`crate::keyring_session`, on Linux), else through the `keyring` crate.
pub struct KeyringStore {
    service: String,
    /// Opened on first use; dropped after any answer it was unsure of, so a
    /// restarted keyring daemon gets a new connection.
    #[cfg(target_os = "linux")]
    session: Mutex<Option<SecretServiceSession>>,
}

impl KeyringStore {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            #[cfg(target_os = "linux")]
            session: Mutex::new(None),
        }
    }

    /// The lean session's answer, or `None` to ask the `keyring` crate.
    #[cfg(target_os = "linux")]
    fn lean<T>(&self, call: impl FnOnce(&SecretServiceSession, &str) -> Lean<T>) -> Option<T> {
        let mut session = self.session.lock().expect("keyring session lock");
        if session.is_none() {
            *session = SecretServiceSession::open();
        }
        match call(session.as_ref()?, &self.service) {
            Lean::Sure(answer) => Some(answer),
            Lean::Unsure => {
                *session = None;
                None
            }
        }
    }

    fn entry(&self, key: &SecretKey) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(&self.service, &key.account()).map_err(map_keyring_error)
    }

    /// Writes, reads back and deletes an entry of the check's own.
    fn probe(&self) -> Result<(), VaultError> {
        let account = format!(
            "{PROBE_ACCOUNT_PREFIX}{}-{}",
            std::process::id(),
            crate::secret::random_token()
        );
        let entry = keyring::Entry::new(&self.service, &account).map_err(map_keyring_error)?;
        let probe = Secret::new(crate::secret::random_token());
        entry
            .set_password(probe.expose())
            .map_err(map_keyring_error)?;
        let back = entry.get_password();
        let deleted = entry.delete_credential();
        match back {
            Ok(value) if value == probe.expose() => {}
            Ok(_) => {
                return Err(VaultError::Keyring(
                    "a probe secret written to the keyring read back as something else".into(),
                ))
            }
            Err(keyring::Error::NoEntry) => {
                return Err(VaultError::Keyring(
                    "a probe secret written to the keyring was not there when read back".into(),
                ))
            }
            Err(err) => return Err(map_keyring_error(err)),
        }
        match deleted {
            Ok(()) => Ok(()),
            Err(err) => Err(VaultError::Keyring(format!(
                "a probe secret could not be deleted again ({})",
                map_keyring_error(err)
            ))),
        }
    }
}

/// Classifies an error of the `keyring` crate by what the user can do about it.
fn map_keyring_error(err: keyring::Error) -> VaultError {
    let text = err.to_string();
    match &err {
        keyring::Error::NoStorageAccess(_) => return VaultError::Locked(text),
        #[cfg(target_os = "linux")]
        keyring::Error::PlatformFailure(inner) => {
            if let Some(ss) = inner.downcast_ref::<dbus_secret_service::Error>() {
                return secret_service::classify(ss);
            }
        }
        _ => {}
    }
    VaultError::Keyring(text)
}

impl SecretStore for KeyringStore {
    fn prepare(&self) {
        #[cfg(target_os = "linux")]
        {
            let mut session = self.session.lock().expect("keyring session lock");
            if session.is_none() {
                *session = SecretServiceSession::open();
            }
        }
    }

    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, VaultError> {
        #[cfg(target_os = "linux")]
        if let Some(found) = self.lean(|session, service| session.get(service, key)) {
            return Ok(found);
        }
        match self.entry(key)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(map_keyring_error(err)),
        }
    }

    fn set(&self, key: &SecretKey, secret: &Secret) -> Result<(), VaultError> {
        #[cfg(target_os = "linux")]
        if let Some(()) = self.lean(|session, service| session.set(service, key, secret)) {
            return Ok(());
        }
        self.entry(key)?
            .set_password(secret.expose())
            .map_err(map_keyring_error)
    }

    fn delete(&self, key: &SecretKey) -> Result<(), VaultError> {
        #[cfg(target_os = "linux")]
        if let Some(()) = self.lean(|session, service| session.delete(service, key)) {
            return Ok(());
        }
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(map_keyring_error(err)),
        }
    }

    fn check(&self) -> Result<(), VaultError> {
        // Ask first, so a locked keyring is reported instead of prompting
        // from a background check (the keyring crate unlocks implicitly, and
        // its prompt waits for as long as nobody answers).
        #[cfg(target_os = "linux")]
        secret_service::ready()?;
        self.probe()
    }

    fn unlock(&self, prompt_wait: Duration) -> Result<(), VaultError> {
        #[cfg(target_os = "linux")]
        return secret_service::unlock(prompt_wait);
        #[cfg(not(target_os = "linux"))]
        {
            let _ = prompt_wait;
            Ok(())
        }
    }
}

/// The Secret Service asked directly, for what the `keyring` crate does not
/// say: is a provider on the bus, has it a default collection, is that locked.
#[cfg(target_os = "linux")]
mod secret_service {
    use super::VaultError;
    use dbus_secret_service::{EncryptionType, Error, SecretService};
    use std::time::Duration;

    /// What a failed Secret Service call means for the user.
    pub(super) fn classify(err: &Error) -> VaultError {
        let text = err.to_string();
        match err {
            Error::Locked | Error::Prompt => VaultError::Locked(text),
            Error::NoResult => VaultError::NoDefaultKeyring(text),
            Error::Unavailable => VaultError::NoService(text),
            Error::Dbus(dbus) => match dbus.name().unwrap_or_default() {
                "org.freedesktop.DBus.Error.ServiceUnknown"
                | "org.freedesktop.DBus.Error.NameHasNoOwner"
                | "org.freedesktop.DBus.Error.Spawn.ChildExited"
                | "org.freedesktop.DBus.Error.Spawn.ExecFailed" => VaultError::NoService(text),
                "org.freedesktop.DBus.Error.NotSupported"
                | "org.freedesktop.DBus.Error.FileNotFound"
                | "org.freedesktop.DBus.Error.NoServer"
                | "org.freedesktop.DBus.Error.BadAddress" => VaultError::NoSessionBus(text),
                "org.freedesktop.Secret.Error.IsLocked" => VaultError::Locked(text),
                "org.freedesktop.Secret.Error.NoSuchObject" => VaultError::NoDefaultKeyring(text),
                _ => VaultError::Keyring(text),
            },
            _ => VaultError::Keyring(text),
        }
    }

    fn connect(prompt_wait: Duration) -> Result<SecretService, VaultError> {
        // Plain transfer: these calls move no secret, only ask about state.
        SecretService::connect_with_max_prompt_timeout(EncryptionType::Plain, prompt_wait.as_secs())
            .map_err(|e| classify(&e))
    }

    /// A provider answers and its default collection exists and is unlocked.
    pub(super) fn ready() -> Result<(), VaultError> {
        let service = connect(Duration::ZERO)?;
        let collection = service.get_default_collection().map_err(|e| classify(&e))?;
        if collection.is_locked().map_err(|e| classify(&e))? {
            return Err(VaultError::Locked(
                "the default keyring collection is locked".into(),
            ));
        }
        Ok(())
    }

    /// Unlocks the default collection, or has the provider create one, through
    /// its own prompt; gives up after `prompt_wait`.
    pub(super) fn unlock(prompt_wait: Duration) -> Result<(), VaultError> {
        let service = connect(prompt_wait.max(Duration::from_secs(1)))?;
        match service.get_default_collection() {
            Ok(collection) => collection.unlock().map_err(|e| classify(&e)),
            Err(Error::NoResult) => service
                .create_collection("Login", "default")
                .map(|_| ())
                .map_err(|e| classify(&e)),
            Err(e) => Err(classify(&e)),
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

/// The async face of a [`SecretStore`], and the last verdict about it.
#[derive(Clone)]
pub struct Vault {
    store: Arc<dyn SecretStore>,
    health: Arc<tokio::sync::watch::Sender<KeyringStatus>>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault")
    }
}

/// The vault as a provider sees it: the secrets of the one profile it logs in
/// or renews, to read. Storing what a login issues is `Latchkey`'s part.
#[derive(Clone, Copy)]
pub struct ProfileVault<'a> {
    vault: &'a Vault,
    profile_id: i64,
}

impl fmt::Debug for ProfileVault<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProfileVault(profile {})", self.profile_id)
    }
}

impl<'a> ProfileVault<'a> {
    pub fn new(vault: &'a Vault, profile_id: i64) -> Self {
        Self { vault, profile_id }
    }

    /// The profile this view is of.
    pub fn profile_id(&self) -> i64 {
        self.profile_id
    }

    /// A secret of this profile; any other profile's key is refused.
    pub async fn get(&self, key: SecretKey) -> Result<Option<Secret>, VaultError> {
        if key.profile_id != self.profile_id {
            return Err(VaultError::NotThisProfile(format!(
                "the login of profile {} asked for a secret of profile {}, which it may not read",
                self.profile_id, key.profile_id
            )));
        }
        self.vault.get(key).await
    }
}

/// How long [`Vault::check_patiently`] waits between tries: short at first,
/// as a starting Secret Service is usually there within a second.
const RETRY_STEPS_MS: [u64; 6] = [100, 200, 300, 500, 750, 1000];

/// A check that takes longer than this is a keyring that does not answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

impl Vault {
    pub fn new(store: impl SecretStore + 'static) -> Self {
        Self {
            store: Arc::new(store),
            health: Arc::new(tokio::sync::watch::channel(KeyringStatus::checking()).0),
        }
    }

    pub fn memory() -> Self {
        Self::new(MemoryStore::default())
    }

    /// Starts getting the store ready for the calls to come, on a thread of
    /// its own, and returns at once: a login calls this before its HTTP
    /// requests, so that the keyring session is negotiated while they are
    /// in flight rather than after them. A call meanwhile waits for it.
    pub fn prepare(&self) {
        let store = Arc::clone(&self.store);
        drop(tokio::task::spawn_blocking(move || store.prepare()));
    }

    pub fn keyring(service: impl Into<String>) -> Self {
        Self::new(KeyringStore::new(service))
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore) -> Result<T, VaultError> + Send + 'static,
    ) -> Result<T, VaultError> {
        let store = Arc::clone(&self.store);
        let outcome = tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| VaultError::Task(e.to_string()))?;
        if let Err(err) = &outcome {
            // A keyring that fails a real call is not fine, whatever the last
            // check said: the banner shows it, and the watcher re-checks.
            if !matches!(err, VaultError::Task(_)) {
                self.record(err.into());
            }
        }
        outcome
    }

    fn record(&self, status: KeyringStatus) {
        self.health.send_if_modified(|current| {
            let changed = *current != status;
            *current = status;
            changed
        });
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

    /// The last verdict: of the last check, or of a keyring call that failed since.
    pub fn health(&self) -> KeyringStatus {
        self.health.borrow().clone()
    }

    /// Every change of [`Vault::health`], for whoever shows it.
    pub fn watch_health(&self) -> tokio::sync::watch::Receiver<KeyringStatus> {
        self.health.subscribe()
    }

    /// Checks the keyring once: asks the Secret Service whether it is there and
    /// unlocked, then writes, reads back and deletes a probe entry of its own.
    pub async fn check(&self) -> Result<(), VaultError> {
        let store = Arc::clone(&self.store);
        let attempt = tokio::task::spawn_blocking(move || store.check());
        let outcome = match tokio::time::timeout(CHECK_TIMEOUT, attempt).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(join)) => Err(VaultError::Task(join.to_string())),
            Err(_) => Err(VaultError::Keyring(format!(
                "the keyring did not answer within {} s; restart the keyring service",
                CHECK_TIMEOUT.as_secs()
            ))),
        };
        self.record((&outcome).into());
        outcome
    }

    /// Checks the keyring, trying again for up to `within` while the answer may
    /// still change by itself (a Secret Service that is starting, or creating
    /// or unlocking its collection at login). The verdict is also recorded.
    pub async fn check_patiently(&self, within: Duration) -> KeyringStatus {
        let deadline = tokio::time::Instant::now() + within;
        let mut step = 0;
        loop {
            let outcome = self.check().await;
            let status = KeyringStatus::from(&outcome);
            let pause = Duration::from_millis(RETRY_STEPS_MS[step.min(RETRY_STEPS_MS.len() - 1)]);
            match outcome {
                Err(err) if err.may_pass() && tokio::time::Instant::now() + pause < deadline => {
                    tokio::time::sleep(pause).await;
                    step += 1;
                }
                _ => return status,
            }
        }
    }

    /// Asks the keyring to unlock (the desktop's prompt), waiting up to
    /// `prompt_wait` for the user, then checks it.
    pub async fn unlock(&self, prompt_wait: Duration) -> KeyringStatus {
        let store = Arc::clone(&self.store);
        let unlocked = tokio::task::spawn_blocking(move || store.unlock(prompt_wait))
            .await
            .map_err(|e| VaultError::Task(e.to_string()))
            .and_then(|r| r);
        match unlocked {
            Ok(()) => self.check_patiently(Duration::from_secs(2)).await,
            Err(err) => {
                let status = KeyringStatus::from(&err);
                self.record(status.clone());
                status
            }
        }
    }

    /// Re-checks the keyring every `every` for as long as it is not fine, and
    /// sleeps while it is (a failing keyring call wakes it); runs for as long
    /// as the process. The first check is patient (`first_within`), for a
    /// Secret Service that starts with the session.
    pub async fn keep_checked(&self, first_within: Duration, every: Duration) {
        let mut changes = self.watch_health();
        self.check_patiently(first_within).await;
        loop {
            while self.health().is_ok() {
                if changes.changed().await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(every).await;
            self.check_patiently(Duration::from_secs(1)).await;
        }
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

    /// A store whose check fails with the given errors, in order, then passes.
    struct Scripted {
        failures: Mutex<Vec<VaultError>>,
        checks: std::sync::atomic::AtomicUsize,
    }

    impl Scripted {
        fn failing(mut failures: Vec<VaultError>) -> Arc<Self> {
            failures.reverse();
            Arc::new(Self {
                failures: Mutex::new(failures),
                checks: Default::default(),
            })
        }
    }

    impl SecretStore for Arc<Scripted> {
        fn get(&self, _: &SecretKey) -> Result<Option<Secret>, VaultError> {
            Ok(None)
        }
        fn set(&self, _: &SecretKey, _: &Secret) -> Result<(), VaultError> {
            Ok(())
        }
        fn delete(&self, _: &SecretKey) -> Result<(), VaultError> {
            Ok(())
        }
        fn check(&self) -> Result<(), VaultError> {
            self.checks
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match self.failures.lock().unwrap().pop() {
                Some(err) => Err(err),
                None => Ok(()),
            }
        }
    }

    #[tokio::test]
    async fn a_keyring_that_is_still_starting_is_waited_for() {
        let store = Scripted::failing(vec![
            VaultError::NoService("ServiceUnknown".into()),
            VaultError::NoDefaultKeyring("no result".into()),
            VaultError::Locked("locked".into()),
        ]);
        let vault = Vault::new(Arc::clone(&store));
        assert_eq!(vault.health().state, KeyringState::Checking);
        let status = vault.check_patiently(Duration::from_secs(3)).await;
        assert_eq!(status, KeyringStatus::ok());
        assert_eq!(vault.health(), KeyringStatus::ok());
        assert_eq!(store.checks.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_keyring_that_stays_locked_is_reported_as_locked_after_the_wait() {
        let store = Scripted::failing((0..100).map(|_| VaultError::Locked("x".into())).collect());
        let vault = Vault::new(Arc::clone(&store));
        let started = std::time::Instant::now();
        let status = vault.check_patiently(Duration::from_millis(700)).await;
        assert_eq!(status.state, KeyringState::Locked);
        assert!(status.message.unwrap().contains("unlock it"));
        assert!(started.elapsed() < Duration::from_secs(2), "bounded");
        assert!(store.checks.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    }

    #[tokio::test]
    async fn no_session_bus_is_reported_at_once() {
        let store = Scripted::failing(vec![VaultError::NoSessionBus("autolaunch".into())]);
        let vault = Vault::new(Arc::clone(&store));
        let status = vault.check_patiently(Duration::from_secs(5)).await;
        assert_eq!(status.state, KeyringState::Absent);
        assert!(status.problem().unwrap().contains("dbus-run-session"));
        assert_eq!(store.checks.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failing_keyring_call_changes_the_verdict_and_a_later_check_clears_it() {
        struct LockedStore;
        impl SecretStore for LockedStore {
            fn get(&self, _: &SecretKey) -> Result<Option<Secret>, VaultError> {
                Err(VaultError::Locked("IsLocked".into()))
            }
            fn set(&self, _: &SecretKey, _: &Secret) -> Result<(), VaultError> {
                Ok(())
            }
            fn delete(&self, _: &SecretKey) -> Result<(), VaultError> {
                Ok(())
            }
        }
        let vault = Vault::new(LockedStore);
        let mut changes = vault.watch_health();
        vault.check().await.unwrap();
        assert!(vault.health().is_ok());
        changes.mark_unchanged();
        assert!(vault
            .get(SecretKey::new(1, SecretSlot::AccessToken))
            .await
            .is_err());
        assert!(changes.has_changed().unwrap());
        assert_eq!(vault.health().state, KeyringState::Locked);
        vault.check().await.unwrap();
        assert!(vault.health().is_ok());
    }

    #[test]
    fn accounts_name_profile_and_slot() {
        assert_eq!(
            SecretKey::new(3, SecretSlot::RefreshToken).account(),
            "profile-3/refresh-token"
        );
    }
}
