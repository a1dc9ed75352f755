//! Where Latchkey keeps its data and which keyring service it uses. Both come
//! from the environment so that tests, and a second installation, never touch
//! the user's real folder or keyring entries.

use std::path::PathBuf;

/// The data folder and keyring service of one Latchkey installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub data_dir: PathBuf,
    pub keyring_service: String,
}

pub const DEFAULT_KEYRING_SERVICE: &str = "latchkey";

impl Environment {
    /// `LATCHKEY_HOME` (else `$XDG_DATA_HOME/latchkey`, else
    /// `~/.local/share/latchkey`) and `LATCHKEY_KEYRING_SERVICE` (else `latchkey`).
    pub fn from_env() -> Self {
        let data_dir = non_empty_var("LATCHKEY_HOME")
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|d| d.join("latchkey")))
            .unwrap_or_else(|| PathBuf::from(".latchkey"));
        let keyring_service = non_empty_var("LATCHKEY_KEYRING_SERVICE")
            .unwrap_or_else(|| DEFAULT_KEYRING_SERVICE.to_string());
        Self {
            data_dir,
            keyring_service,
        }
    }
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
