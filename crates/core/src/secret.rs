//! The secret values themselves and their addresses: [`Secret`], the only
//! type a secret travels in (redacted `Debug`, no `Serialize`, so it cannot
//! end up in a log, a panic or the webview), what a form hands in
//! ([`SecretInput`]), and which secret of which profile an entry is
//! ([`SecretSlot`], [`SecretKey`]). Plain values, used on every floor; where
//! they are kept is [`crate::vault`]'s business.

use base64::Engine as _;
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A secret value. Redacted in `Debug`, not serializable; read it with
/// [`Secret::expose`] only where it goes into a request, the keyring or the
/// clipboard.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let mut value: String = value.into();
        // `SecretString::from(String)` shrinks the buffer to fit first, which
        // may move it and leave the old bytes in freed memory: copy into an
        // exact-size box and wipe the original (its whole capacity) instead.
        // The box is wiped when the secret drops (secrecy's `SecretBox`).
        let exact: Box<str> = value.as_str().into();
        secrecy::zeroize::Zeroize::zeroize(&mut value);
        Secret(SecretString::new(exact))
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

/// 32 random bytes, base64url without padding: for `state`, nonces, verifiers,
/// and the keyring check's probe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
