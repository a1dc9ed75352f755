//! The `manual-token` login kind: a token the user pasted (from a server
//! Latchkey cannot log in to yet, or one `docker login` handed over). There is
//! nothing to log in and nothing to renew; this file is its descriptor.

use super::KindEntry;
use crate::model::{LoginKind, LoginPrompt, LoginSpec, SecretSpec, ServerKind, SettingField};
use crate::vault::SecretSlot;

/// `manual-token`'s line in the kind registry: on every kind of server,
/// with nothing to log in or renew.
pub const fn entry(login: LoginKind) -> KindEntry {
    KindEntry::new(login, ServerKind::ALL, spec)
}

/// What a manual-token profile keeps: the token itself, in the keyring.
pub fn spec(login: LoginKind) -> LoginSpec {
    LoginSpec::new(
        login,
        LoginPrompt::Unavailable,
        &[],
        &[SettingField::Registry],
        SecretSpec::required("Token", SecretSlot::AccessToken),
    )
}
