//! The `manual-token` login kind: a token the user pasted (from a server
//! Latchkey cannot log in to yet, or one `docker login` handed over). There is
//! nothing to log in and nothing to renew; this file is its descriptor.

use crate::model::{LoginKind, LoginPrompt, LoginSpec, SecretSpec, SettingField};
use crate::vault::SecretSlot;

/// The login kinds this file describes.
pub const LOGINS: &[LoginKind] = &[LoginKind::ManualToken];

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
