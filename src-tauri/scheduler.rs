//! Runs the core's renewal scheduler inside the app and delivers what it does:
//! an event to the page, a desktop notification where the core says one is due
//! (clicking it opens the profile's login), and a fresh tray. The tray's
//! time-left labels are redrawn once a minute while it shows any; that is
//! display, not scheduling (the scheduler itself sleeps from deadline to
//! deadline), and with nothing to redraw nothing wakes up.

use crate::events::{FocusProfile, Lifecycle};
use crate::tray::TrayClock;
use latchkey_core::Latchkey;
use std::sync::Arc;
use tauri::AppHandle;
use tauri_specta::Event;

/// Starts the scheduler on `core`; `wake` cuts its sleep short when data
/// changed, `clock` says whether the tray shows a time left to redraw.
pub fn start(
    app: &AppHandle,
    core: Latchkey,
    wake: Arc<tokio::sync::Notify>,
    clock: Arc<TrayClock>,
) {
    let events = app.clone();
    let scheduled = core.clone();
    let core_of_event = core.clone();
    let tray_clock = Arc::clone(&clock);
    tauri::async_runtime::spawn(latchkey_core::renewal::run(scheduled, wake, move |event| {
        if let Some((title, body)) = event.notification() {
            notify(&events, event.profile_id(), title, body);
        }
        let _ = Lifecycle(event).emit(&events);
        let app = events.clone();
        let core = core_of_event.clone();
        let clock = Arc::clone(&tray_clock);
        tauri::async_runtime::spawn(async move {
            crate::tray::refresh(&app, &core, &clock).await;
        });
    }));
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            if clock.is_on() {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            } else {
                clock.started.notified().await;
                continue;
            }
            crate::tray::refresh(&app, &core, &clock).await;
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
    crate::events::show_main(app);
    let _ = FocusProfile {
        id: profile_id,
        login: true,
    }
    .emit(app);
}
