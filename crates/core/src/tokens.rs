//! The token lifecycle: status of a profile's credential. This share is
//! the status vocabulary; expiry tracking, renewal and the scheduler build on it.

use serde::Serialize;

/// Where a profile's credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStatus {
    /// No credential yet: the user has not logged in.
    None,
    Valid,
    RenewDue,
    Expiring,
    Expired,
    /// A credential whose expiry is unknown (or that never expires).
    Unknown,
    /// The last renewal failed.
    Failed,
}

impl TokenStatus {
    /// Short text for menus and lists.
    pub fn label(self) -> &'static str {
        match self {
            TokenStatus::None => "not logged in",
            TokenStatus::Valid => "valid",
            TokenStatus::RenewDue => "renewal due",
            TokenStatus::Expiring => "expiring",
            TokenStatus::Expired => "expired",
            TokenStatus::Unknown => "no expiry known",
            TokenStatus::Failed => "renewal failed",
        }
    }
}
