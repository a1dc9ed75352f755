//! Runs the core's renewal scheduler inside the app and delivers what it does:
//! an event to the page, a desktop notification where the core says one is due
//! (clicking it opens the profile's login), and a fresh tray. The tray's
//! time-left labels are redrawn once a minute while it shows any; that is
//! display, not scheduling (the scheduler itself sleeps from deadline to
//! deadline), and with nothing to redraw nothing wakes up.

use crate::ipc::{FocusProfile, Lifecycle};
use crate::shell::Shell;
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

pub fn start(app: &AppHandle) {
    let shell = app.state::<Shell>();
    let core = shell.core.clone();
    let wake = shell.wake.clone();
    let events = app.clone();
    tauri::async_runtime::spawn(latchkey_core::renewal::run(core, wake, move |event| {
        if let Some((title, body)) = event.notification() {
            notify(&events, event.profile_id(), title, body);
        }
        let _ = Lifecycle(event).emit(&events);
        let app = events.clone();
        tauri::async_runtime::spawn(async move {
            let shell = app.state::<Shell>();
            crate::tray::refresh(&app, &shell.core).await;
        });
    }));
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        loop {
            if shell.tray_clock() {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            } else {
                shell.tray_clock_started.notified().await;
                continue;
            }
            crate::tray::refresh(&app, &shell.core).await;
        }
    });
}

/// Shows a desktop notification whose click (its default action, or the
/// "Log in" button) brings the window up on the profile and starts its login.
/// The freedesktop protocol reports the click on the session bus, so a thread
/// waits for it until the notification is closed.
#[cfg(target_os = "linux")]
fn notify(app: &AppHandle, profile_id: i64, title: String, body: String) {
    let app = app.clone();
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("Latchkey")
            .summary(&title)
            .body(&body)
            .action("default", "Log in")
            .action("login", "Log in")
            .show();
        match shown {
            Ok(handle) => handle.wait_for_action(|action| {
                if action == "default" || action == "login" {
                    open_login(&app, profile_id);
                }
            }),
            Err(err) => eprintln!("latchkey: notification not shown: {err}"),
        }
    });
}

#[cfg(not(target_os = "linux"))]
fn notify(app: &AppHandle, _profile_id: i64, title: String, body: String) {
    use tauri_plugin_notification::NotificationExt;
    if let Err(err) = app.notification().builder().title(title).body(body).show() {
        eprintln!("latchkey: notification not shown: {err}");
    }
}

#[cfg(target_os = "linux")]
fn open_login(app: &AppHandle, profile_id: i64) {
    crate::tray::show_main(app);
    let _ = FocusProfile {
        id: profile_id,
        login: true,
    }
    .emit(app);
}
