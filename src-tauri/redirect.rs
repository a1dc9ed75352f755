//! Incoming `latchkey://` URLs, from the OS through the deep-link plugin (a cold
//! start) or from a second instance through single-instance. Each goes to the
//! core's redirect hub; the outcome is recorded and shown in the window.

use crate::ipc::RedirectOutcome;
use crate::shell::Shell;
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

pub fn handle(app: &AppHandle, url: &str) {
    let shell = app.state::<Shell>();
    let outcome = match shell.core.redirects().route(url) {
        Ok(accepted) => {
            let profile_id = accepted.login.profile_id;
            let name = tauri::async_runtime::block_on(shell.core.store().profile(profile_id))
                .ok()
                .flatten()
                .map(|p| p.name);
            RedirectOutcome {
                accepted: true,
                message: format!(
                    "The browser came back for {}.",
                    name.as_deref().unwrap_or("a profile")
                ),
                profile: name,
            }
        }
        Err(refused) => RedirectOutcome {
            accepted: false,
            profile: None,
            message: refused.to_string(),
        },
    };
    shell.record(outcome.clone());
    crate::tray::show_main(app);
    let _ = outcome.emit(app);
}
