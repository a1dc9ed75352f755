//! Runs the core's renewal scheduler inside the app and delivers what it does:
//! an event to the page, a desktop notification where the core says one is due,
//! and a fresh tray. The tray's time-left labels are refreshed once a minute;
//! that is display, not scheduling (the scheduler itself sleeps from deadline to
//! deadline).

use crate::ipc::Lifecycle;
use crate::shell::Shell;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event;

pub fn start(app: &AppHandle) {
    let shell = app.state::<Shell>();
    let core = shell.core.clone();
    let wake = shell.wake.clone();
    let events = app.clone();
    tauri::async_runtime::spawn(latchkey_core::renewal::run(core, wake, move |event| {
        if let Some((title, body)) = event.notification() {
            if let Err(err) = events
                .notification()
                .builder()
                .title(title)
                .body(body)
                .show()
            {
                eprintln!("latchkey: notification not shown: {err}");
            }
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
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let shell = app.state::<Shell>();
            crate::tray::refresh(&app, &shell.core).await;
        }
    });
}
