//! The shell's state: the opened core plus what only a running window needs
//! (redirect outcomes for a page that loads late, the close-to-tray switch),
//! and what the parts below it hand up: a tray entry picked, a login ended.
//! The middle of the shell: `ipc.rs` above uses it; `tray.rs`, `redirect.rs`,
//! `clipboard.rs`, `scheduler.rs`, `keyring.rs` and `events.rs` below never
//! use it, and reach it through the callbacks `lib.rs` wires.

use crate::events::{DataChanged, RedirectOutcome};
use crate::tray::TrayClock;
use latchkey_core::env::Environment;
use latchkey_core::settings::AppSettings;
use latchkey_core::tray::TrayAction;
use latchkey_core::vault::KeyringStatus;
use latchkey_core::CopyFormat;
use latchkey_core::Latchkey;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Mutex;
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

/// Where this installation keeps its data, and whether the keyring works.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub keyring_service: String,
    /// `None` when the keyring works (or is still being checked); else what is
    /// wrong and what to do. The same as `keyring.message` then.
    pub keyring_problem: Option<String>,
    /// The last verdict about the keyring; [`KeyringChanged`] brings the next.
    pub keyring: KeyringStatus,
}

pub struct Shell {
    pub core: Latchkey,
    /// Cuts the scheduler's sleep short when data changed.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
    /// Whether the tray shows a time left to redraw each minute.
    pub tray_clock: std::sync::Arc<TrayClock>,
    pub env: Environment,
    outcomes: Mutex<Vec<RedirectOutcome>>,
    close_to_tray: AtomicBool,
    ready_once: std::sync::Once,
    /// Start-up work still running: the page's first screen and the tray
    /// menu. The last one done hands the memory they freed back.
    startup_left: AtomicU8,
    /// The page has drawn its first screen (see [`Shell::first_screen`]).
    first_screen: tokio::sync::Notify,
}

impl Shell {
    pub fn new(core: Latchkey, env: Environment, settings: &AppSettings) -> Self {
        Self {
            core,
            wake: Default::default(),
            tray_clock: Default::default(),
            env,
            outcomes: Mutex::new(Vec::new()),
            close_to_tray: AtomicBool::new(settings.close_to_tray),
            ready_once: std::sync::Once::new(),
            startup_left: AtomicU8::new(2),
            first_screen: tokio::sync::Notify::new(),
        }
    }

    pub async fn app_info(&self) -> AppInfo {
        // The last verdict, not a fresh probe: the page asks on every reload,
        // and probes of concurrent reloads used to trip over each other. The
        // keyring watcher (keyring.rs) keeps the verdict current.
        let keyring = self.core.vault().health();
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            data_dir: self.env.data_dir.display().to_string(),
            keyring_service: self.env.keyring_service.clone(),
            keyring_problem: keyring.problem().map(str::to_string),
            keyring,
        }
    }

    pub fn ui_ready(&self) {
        self.ready_once.call_once(|| {
            crate::startup::mark("first paint");
            self.first_screen.notify_one();
            self.startup_step_done();
        });
    }

    /// Returns once the page has drawn its first screen, or after `at_most`
    /// (a window started hidden in the tray may not draw for a long time).
    /// Start-up work the window does not show waits for this, so that it
    /// does not take the CPU from the page's first frame.
    pub async fn first_screen(&self, at_most: std::time::Duration) {
        let _ = tokio::time::timeout(at_most, self.first_screen.notified()).await;
    }

    /// The tray menu was built for the first time.
    pub fn tray_built(&self) {
        crate::startup::mark("tray menu built");
        self.startup_step_done();
    }

    /// Start-up builds and serialises every profile's view several times
    /// over (the page's lists, the tray menu): megabytes at 10,000
    /// profiles that the allocator would otherwise keep for good. Once the
    /// first screen is drawn and the menu built, they go back to the system.
    fn startup_step_done(&self) {
        if self.startup_left.fetch_sub(1, Ordering::AcqRel) == 1 {
            tauri::async_runtime::spawn_blocking(|| {
                latchkey_core::process::release_free_memory();
                crate::startup::mark("free memory released");
            });
        }
    }

    pub fn apply_settings(&self, settings: &AppSettings) {
        self.close_to_tray
            .store(settings.close_to_tray, Ordering::Relaxed);
    }

    pub fn close_to_tray(&self) -> bool {
        self.close_to_tray.load(Ordering::Relaxed)
    }

    pub fn record(&self, outcome: RedirectOutcome) {
        let mut all = self.outcomes.lock().expect("lock");
        all.push(outcome);
        let excess = all.len().saturating_sub(50);
        all.drain(..excess);
    }

    pub fn outcomes(&self) -> Vec<RedirectOutcome> {
        self.outcomes.lock().expect("lock").clone()
    }

    /// After any change: rebuild the tray and tell the page.
    pub async fn changed(&self, app: &AppHandle) {
        self.wake.notify_one();
        crate::tray::refresh(app, &self.core, &self.tray_clock).await;
        let _ = DataChanged.emit(app);
    }
}

/// What a tray menu entry asks for, done on the shell's state (the tray
/// itself only hands the action up).
pub fn on_tray_action(app: &AppHandle, action: TrayAction) {
    match action {
        TrayAction::Show(profile) => {
            crate::events::show_main(app);
            let _ = crate::events::FocusProfile {
                id: profile,
                login: false,
            }
            .emit(app);
        }
        TrayAction::Copy(profile) => copy(app, profile, CopyFormat::Token),
        TrayAction::CopyHeader(profile) => copy(app, profile, CopyFormat::Header),
        TrayAction::Renew(profile) => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let shell = app.state::<Shell>();
                if let Err(err) = shell.core.renew_profile(profile, true).await {
                    eprintln!("latchkey: renew from the tray: {err}");
                }
                shell.changed(&app).await;
            });
        }
    }
}

fn copy(app: &AppHandle, profile: i64, format: CopyFormat) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        let result = async {
            let text = shell.core.copy_text(profile, format).await?;
            let clear = shell.core.settings().await?.clipboard_clear_seconds;
            crate::clipboard::put(&app, text, clear).map_err(latchkey_core::Error::Internal)
        }
        .await;
        if let Err(err) = result {
            eprintln!("latchkey: copy from the tray: {err}");
        }
    });
}

/// A browser or device login ended: the lists and tray refreshed, then the
/// outcome published.
pub async fn login_ended(app: AppHandle, outcome: RedirectOutcome) {
    app.state::<Shell>().changed(&app).await;
    publish(&app, outcome);
}

/// A redirect's outcome: kept for a page that loads late, the window brought
/// up, and the page told.
pub fn publish(app: &AppHandle, outcome: RedirectOutcome) {
    app.state::<Shell>().record(outcome.clone());
    crate::events::show_main(app);
    let _ = outcome.emit(app);
}
