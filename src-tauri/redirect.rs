//! Incoming `latchkey://` URLs, from the OS through the deep-link plugin (a cold
//! start) or from a second instance through single-instance. Each goes to the
//! core's redirect hub; an accepted one finishes its login (the provider trades
//! the code for a token), and the outcome is recorded and shown in the window.

use crate::ipc::RedirectOutcome;
use crate::shell::Shell;
use latchkey_core::providers::LoginStep;
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

pub fn handle(app: &AppHandle, url: &str) {
    let shell = app.state::<Shell>();
    match shell.core.redirects().route(url) {
        Ok(accepted) => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let shell = app.state::<Shell>();
                let profile_id = accepted.login.profile_id;
                let name = shell
                    .core
                    .store()
                    .profile(profile_id)
                    .await
                    .ok()
                    .flatten()
                    .map(|p| p.name);
                let outcome = match shell.core.finish_redirect(accepted).await {
                    Ok(LoginStep::Done {
                        profile, tenant, ..
                    }) => RedirectOutcome {
                        accepted: true,
                        message: match tenant {
                            Some(t) => format!("Logged in {profile} · tenant {t}."),
                            None => format!("Logged in {profile}."),
                        },
                        profile: Some(profile),
                    },
                    Ok(_) => RedirectOutcome {
                        accepted: true,
                        message: "The browser came back; the login needs another step.".into(),
                        profile: name,
                    },
                    Err(err) => RedirectOutcome {
                        accepted: false,
                        message: format!(
                            "The browser came back for {}, but the login failed: {err}",
                            name.as_deref().unwrap_or("a profile")
                        ),
                        profile: name,
                    },
                };
                shell.changed(&app).await;
                publish(&app, outcome);
            });
        }
        Err(refused) => publish(
            app,
            RedirectOutcome {
                accepted: false,
                profile: None,
                message: refused.to_string(),
            },
        ),
    }
}

fn publish(app: &AppHandle, outcome: RedirectOutcome) {
    app.state::<Shell>().record(outcome.clone());
    crate::tray::show_main(app);
    let _ = outcome.emit(app);
}

/// Opens a login URL in the browser: the command in `LATCHKEY_BROWSER` when
/// set (it gets the URL as its last argument, like kubelogin's
/// `--browser-command`), else the desktop's default browser.
pub fn open_browser(app: &AppHandle, url: &str) -> Result<(), String> {
    if let Some(cmd) = std::env::var_os("LATCHKEY_BROWSER").filter(|c| !c.is_empty()) {
        return std::process::Command::new(&cmd)
            .arg(url)
            .spawn()
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "cannot run LATCHKEY_BROWSER ({}): {e}",
                    cmd.to_string_lossy()
                )
            });
    }
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| format!("cannot open the browser: {e}; open this address yourself: {url}"))
}
