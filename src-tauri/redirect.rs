//! Incoming `latchkey://` URLs, from the OS through the deep-link plugin (a cold
//! start) or from a second instance through single-instance. Each goes to the
//! core's redirect hub; an accepted one finishes its login (the provider trades
//! the code for a token), and the outcome is recorded and shown in the window.

use crate::events::RedirectOutcome;
use latchkey_core::Latchkey;
use std::future::Future;
use tauri::AppHandle;

/// Routes `url` to the login waiting for it; a refusal goes to `publish`
/// (the shell's, which shows it).
pub fn handle(
    app: &AppHandle,
    core: &Latchkey,
    url: &str,
    publish: fn(&AppHandle, RedirectOutcome),
) {
    match core.redirects().route(url) {
        Ok(accepted) => {
            // The outcome is announced by the core and shown by `announce`.
            let core = core.clone();
            tauri::async_runtime::spawn(async move {
                core.finish_and_announce(accepted).await;
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

/// Hands how every browser and device login ends, whichever way it came back
/// (deep link, loopback listener, device polling), to `ended` (the shell's,
/// which refreshes and shows it), one after the other.
pub fn announce<F, Fut>(app: &AppHandle, core: &Latchkey, ended: F)
where
    F: Fn(AppHandle, RedirectOutcome) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let app = app.clone();
    let mut outcomes = core.login_outcomes();
    tauri::async_runtime::spawn(async move {
        loop {
            match outcomes.recv().await {
                Ok(o) => {
                    ended(
                        app.clone(),
                        RedirectOutcome {
                            accepted: o.accepted,
                            profile: Some(o.profile),
                            message: o.message,
                        },
                    )
                    .await;
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
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
