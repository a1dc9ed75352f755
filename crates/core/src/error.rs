//! The one error type the hosts see. Each module has its own `thiserror` enum;
//! they convert into [`Error`], whose [`ErrorCode`] says what the user can do
//! about it. The shell sends `{code, message, field}` to the UI and the CLI maps
//! the code to an exit status; nobody parses message text.
//!
//! This file stands on the ground floor and knows no other: the enums of the
//! floors above (the vault's, the store's, the redirect hub's, the JWT
//! checks') convert into [`Error`] where they are defined, and travel in it as
//! a [`Lower`] source, so their words and their `source()` chain are kept.

use serde::Serialize;

/// What the user can do about an error. The UI switches on this; the CLI maps it
/// to its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// Input did not pass validation; `field` names the input at fault.
    Invalid,
    /// The named thing does not exist.
    NotFound,
    /// A name or value is already taken.
    Conflict,
    /// The operation would lose data unless the user confirms (e.g. `--cascade`).
    NeedsConfirmation,
    /// No keyring is reachable or it is locked: start or unlock one.
    KeyringUnavailable,
    /// The data folder or database could not be used.
    Storage,
    /// An incoming redirect matched no login that is waiting.
    RedirectRefused,
    /// The user must log in (again).
    LoginRequired,
    /// The server wants a one-time code: ask for it and try again.
    OtpRequired,
    /// The server refused; the message is the server's own.
    ServerRefused,
    /// The server could not be reached.
    Unreachable,
    /// A bug or an unexpected state.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    Invalid {
        field: Option<&'static str>,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict {
        field: Option<&'static str>,
        message: String,
    },
    #[error("{0}")]
    NeedsConfirmation(String),
    #[error("{0}")]
    LoginRequired(String),
    #[error("{0}")]
    OtpRequired(String),
    /// The server refused; `message` is its own words, `field` the input it
    /// blames (e.g. "otp" for a wrong code, "password").
    #[error("{message}")]
    ServerRefused {
        status: Option<u16>,
        field: Option<&'static str>,
        message: String,
    },
    /// The server could not be reached; the message says what to check.
    #[error("{0}")]
    Unreachable(String),
    /// The keyring could not be used (a [`crate::vault::VaultError`]).
    #[error(transparent)]
    Vault(Lower),
    /// The data folder or database could not be used (a
    /// [`crate::store::StoreError`]).
    #[error(transparent)]
    Store(Lower),
    /// A redirect matched no waiting login (a [`crate::flows::RedirectRefused`]).
    #[error(transparent)]
    Redirect(Lower),
    /// A token or key did not pass (a [`crate::jwt::JwtError`]), with the code
    /// that error chose.
    #[error("{source}")]
    Jwt { code: ErrorCode, source: Lower },
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Invalid { .. } => ErrorCode::Invalid,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict { .. } => ErrorCode::Conflict,
            Error::NeedsConfirmation(_) => ErrorCode::NeedsConfirmation,
            Error::LoginRequired(_) => ErrorCode::LoginRequired,
            Error::OtpRequired(_) => ErrorCode::OtpRequired,
            Error::ServerRefused { .. } => ErrorCode::ServerRefused,
            Error::Unreachable(_) => ErrorCode::Unreachable,
            Error::Vault(_) => ErrorCode::KeyringUnavailable,
            Error::Store(_) => ErrorCode::Storage,
            Error::Redirect(_) => ErrorCode::RedirectRefused,
            Error::Jwt { code, .. } => *code,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The input field the error is about, for inline display next to it.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { field, .. }
            | Error::Conflict { field, .. }
            | Error::ServerRefused { field, .. } => *field,
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A module's own error carried inside [`Error`]: its message is shown as it
/// is, and its `source()` chain is kept.
pub type Lower = Box<dyn std::error::Error + Send + Sync + 'static>;
