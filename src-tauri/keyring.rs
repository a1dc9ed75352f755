//! The keyring check in the running app: a patient check at start-up (the
//! Secret Service may start with the session, after Latchkey), re-checks for as
//! long as the keyring is not fine, and every change of the verdict sent to the
//! page as a [`KeyringChanged`] event, so its banner appears and clears itself.
//! The checking itself is the core's ([`latchkey_core::vault::Vault::keep_checked`]).

use crate::events::{DataChanged, KeyringChanged};
use latchkey_core::vault::Vault;
use std::time::Duration;
use tauri::AppHandle;
use tauri_specta::Event;

/// How long the start-up check keeps trying while the keyring service starts.
const FIRST_CHECK_WITHIN: Duration = Duration::from_secs(5);

/// How often a keyring that is not fine is checked again. The environment
/// variable `LATCHKEY_KEYRING_RECHECK_MS` shortens it for the e2e tests.
fn recheck_every() -> Duration {
    std::env::var("LATCHKEY_KEYRING_RECHECK_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(10))
}

/// How long the Unlock button waits for the user to answer the keyring's prompt.
pub const UNLOCK_PROMPT_WAIT: Duration = Duration::from_secs(120);

pub fn start(app: &AppHandle, vault: Vault) {
    let mut changes = vault.watch_health();
    let checker = vault.clone();
    tauri::async_runtime::spawn(async move {
        checker
            .keep_checked(FIRST_CHECK_WITHIN, recheck_every())
            .await;
    });
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut shown: Option<String> = None;
        while changes.changed().await.is_ok() {
            let status = changes.borrow_and_update().clone();
            let problem = status.problem().map(str::to_string);
            let _ = KeyringChanged(status).emit(&app);
            // The page reloads `app_info` on this, so its banner follows the
            // verdict even where it does not listen for the above; only when
            // the banner would change (not for "checking" becoming "ok"),
            // as a reload re-renders the lists under the user's pointer.
            if problem != shown {
                shown = problem;
                let _ = DataChanged.emit(&app);
            }
        }
    });
}
