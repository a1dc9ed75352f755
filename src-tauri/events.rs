//! The events Rust sends to the page (typed; the bindings carry them), and
//! bringing the window up. The bottom of the shell: every other file may use
//! it, and it uses none of them.

use latchkey_core::vault::KeyringStatus;
use serde::Serialize;
use tauri::{AppHandle, Manager};

/// The verdict about the keyring changed: show `state` (`locked`: offer
/// Unlock, i.e. `check_keyring(true)`; `absent`: how to start one, from
/// `message`; `broken`: the message and Retry, i.e. `check_keyring(false)`),
/// and hide the banner when it is `ok`. Sent after the start-up check, after
/// every re-check that changes it, and when a keyring call fails.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct KeyringChanged(pub KeyringStatus);

/// What became of a `latchkey://` or loopback redirect.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct RedirectOutcome {
    pub accepted: bool,
    pub profile: Option<String>,
    pub message: String,
}

/// Servers or profiles changed outside the window's own calls (tray, a
/// redirect, another process): reload the lists.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct DataChanged;

/// Something the scheduler did: a renewal, a failure, a reminder.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct Lifecycle(pub latchkey_core::renewal::LifecycleEvent);

/// The user picked a profile in the tray, or clicked a notification: show
/// it, and with `login`, start its login (the password or OTP dialog, or the
/// browser) as if "Log in" had been pressed.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct FocusProfile {
    pub id: i64,
    pub login: bool,
}

/// Brings the main window up: shown, unminimized and focused.
pub fn show_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
