//! The user's application settings, kept as one JSON document in the store.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct AppSettings {
    /// Closing the window hides it; the app stays in the tray.
    pub close_to_tray: bool,
    /// Start with the window hidden.
    pub start_in_tray: bool,
    /// Seconds after which a copied token is cleared from the clipboard; 0 = never.
    pub clipboard_clear_seconds: u32,
    /// Minutes before expiry at which to remind about tokens that need the user.
    pub reminder_minutes: Vec<u32>,
    /// A token that cannot renew by itself is "expiring" this many minutes
    /// before it expires.
    pub expiring_minutes: u32,
    /// How long a browser or device login waits for the user before its
    /// `state` expires, in minutes.
    pub login_wait_minutes: u32,
    /// Light or dark window, or as the system says (`prefers-color-scheme`).
    pub theme: Theme,
}

/// The window's colours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum Theme {
    /// Follow the system's light or dark preference.
    #[default]
    System,
    Light,
    Dark,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            close_to_tray: true,
            start_in_tray: false,
            clipboard_clear_seconds: 30,
            reminder_minutes: vec![24 * 60, 60, 10, 0],
            expiring_minutes: 60,
            login_wait_minutes: 10,
            theme: Theme::System,
        }
    }
}

pub(crate) const KEY: &str = "app";

/// The longest a login may wait for the browser: a `state` is a bearer of
/// the login until it is spent, so it must not live for long.
pub const MAX_LOGIN_WAIT_MINUTES: u32 = 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_saved_before_the_theme_existed_follow_the_system() {
        let old = r#"{"close_to_tray":false,"clipboard_clear_seconds":45}"#;
        let settings: AppSettings = serde_json::from_str(old).unwrap();
        assert_eq!(settings.theme, Theme::System);
        assert_eq!(settings.clipboard_clear_seconds, 45);
    }

    #[test]
    fn the_theme_is_stored_by_its_name() {
        let settings = AppSettings {
            theme: Theme::Dark,
            ..Default::default()
        };
        let json = serde_json::to_value(&settings).unwrap();
        assert_eq!(json["theme"], "dark");
        let back: AppSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back.theme, Theme::Dark);
        assert!(serde_json::from_str::<AppSettings>(r#"{"theme":"sepia"}"#).is_err());
    }
}
