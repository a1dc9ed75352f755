//! The shell's state: the opened core plus what only a running window needs
//! (redirect outcomes for a page that loads late, the close-to-tray switch).

use crate::ipc::{AppInfo, DataChanged, RedirectOutcome};
use latchkey_core::env::Environment;
use latchkey_core::settings::AppSettings;
use latchkey_core::Latchkey;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tauri::AppHandle;
use tauri_specta::Event;

pub struct Shell {
    pub core: Latchkey,
    /// Cuts the scheduler's sleep short when data changed.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
    /// Whether the tray shows a time left to redraw each minute; the clock
    /// that does it waits on `tray_clock_started` while it does not.
    tray_clock: AtomicBool,
    pub tray_clock_started: tokio::sync::Notify,
    pub env: Environment,
    outcomes: Mutex<Vec<RedirectOutcome>>,
    close_to_tray: AtomicBool,
    started: std::time::Instant,
    ready_once: std::sync::Once,
}

impl Shell {
    pub fn new(
        core: Latchkey,
        env: Environment,
        settings: &AppSettings,
        started: std::time::Instant,
    ) -> Self {
        Self {
            core,
            wake: Default::default(),
            tray_clock: AtomicBool::new(false),
            tray_clock_started: tokio::sync::Notify::new(),
            env,
            outcomes: Mutex::new(Vec::new()),
            close_to_tray: AtomicBool::new(settings.close_to_tray),
            started,
            ready_once: std::sync::Once::new(),
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
            if std::env::var_os("LATCHKEY_TRACE_STARTUP").is_some() {
                eprintln!(
                    "latchkey: first paint {} ms after launch",
                    self.started.elapsed().as_millis()
                );
            }
        });
    }

    pub fn apply_settings(&self, settings: &AppSettings) {
        self.close_to_tray
            .store(settings.close_to_tray, Ordering::Relaxed);
    }

    /// Whether the tray's time left needs redrawing each minute.
    pub fn tray_clock(&self) -> bool {
        self.tray_clock.load(Ordering::Relaxed)
    }

    pub fn set_tray_clock(&self, on: bool) {
        if on && !self.tray_clock.swap(true, Ordering::Relaxed) {
            self.tray_clock_started.notify_one();
        } else if !on {
            self.tray_clock.store(false, Ordering::Relaxed);
        }
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
        crate::tray::refresh(app, &self.core).await;
        let _ = DataChanged.emit(app);
    }
}
