//! The tray icon and its menu. The entries, the tooltip and which of the
//! three icons shows come from `latchkey_core::tray`; this file only turns
//! them into menu items and pixels, and hands a picked entry's action up to
//! the callback it was created with (the shell's `on_tray_action`).

use crate::events::show_main;
use latchkey_core::tray::{self as entries, TrayAction, TrayEntry, TrayState};
use latchkey_core::Latchkey;
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Wry};

const TRAY_ID: &str = "latchkey";

/// Whether the menu shows a time left, which a clock then redraws each
/// minute (the scheduler's); that clock waits on `started` while it does not.
#[derive(Default)]
pub struct TrayClock {
    on: AtomicBool,
    pub started: tokio::sync::Notify,
}

impl TrayClock {
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    fn set(&self, on: bool) {
        if on && !self.on.swap(true, Ordering::Relaxed) {
            self.started.notify_one();
        } else if !on {
            self.on.store(false, Ordering::Relaxed);
        }
    }
}

/// Creates the icon; a picked profile entry's action goes to `on_action`.
pub fn create(
    app: &AppHandle,
    on_action: impl Fn(&AppHandle, TrayAction) + Send + Sync + 'static,
) -> tauri::Result<()> {
    let icon = tauri::image::Image::from_bytes(include_bytes!("../icons/tray.png"))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip("Latchkey")
        .menu(&Menu::new(app)?)
        .show_menu_on_left_click(true)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            entries::OPEN | entries::MORE => show_main(app),
            entries::QUIT => app.exit(0),
            other => {
                if let Some(action) = TrayAction::parse(other) {
                    on_action(app, action);
                }
            }
        })
        .build(app)?;
    Ok(())
}

/// The icon of a state, as `TrayState::icon` names it (the test below keeps them one).
fn icon(state: TrayState) -> &'static [u8] {
    match state {
        TrayState::AllGood => include_bytes!("../icons/tray.png"),
        TrayState::NeedsYou => include_bytes!("../icons/tray-attention.png"),
        TrayState::RenewalFailed => include_bytes!("../icons/tray-failed.png"),
    }
}

fn item(app: &AppHandle, entry: &TrayEntry) -> tauri::Result<Box<dyn IsMenuItem<Wry>>> {
    if entry.children.is_empty() {
        return Ok(Box::new(MenuItem::with_id(
            app,
            entry.id.clone(),
            entry.label.clone(),
            true,
            None::<&str>,
        )?));
    }
    let sub = Submenu::with_id(app, entry.id.clone(), entry.label.clone(), true)?;
    for child in &entry.children {
        sub.append(item(app, child)?.as_ref())?;
    }
    Ok(Box::new(sub))
}

/// Rebuilds the menu and tooltip from the current profiles, and starts or
/// stops the clock that redraws the time left it shows.
pub async fn refresh(app: &AppHandle, core: &Latchkey, clock: &TrayClock) {
    let profiles = match core.profiles().await {
        Ok(p) => p,
        Err(err) => {
            eprintln!("latchkey: tray not refreshed: {err}");
            return;
        }
    };
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let now = core.clock().now();
    clock.set(entries::shows_time_left(&profiles, now));
    let build = || -> tauri::Result<Menu<Wry>> {
        let menu = Menu::new(app)?;
        menu.append(&MenuItem::with_id(
            app,
            entries::OPEN,
            "Open Latchkey",
            true,
            None::<&str>,
        )?)?;
        let items = entries::profile_entries(&profiles, now);
        if !items.is_empty() {
            menu.append(&PredefinedMenuItem::separator(app)?)?;
            for entry in &items {
                menu.append(item(app, entry)?.as_ref())?;
            }
        }
        menu.append(&PredefinedMenuItem::separator(app)?)?;
        menu.append(&MenuItem::with_id(
            app,
            entries::QUIT,
            "Quit Latchkey",
            true,
            None::<&str>,
        )?)?;
        Ok(menu)
    };
    match build() {
        Ok(menu) => {
            let _ = tray.set_menu(Some(menu));
            let _ = tray.set_tooltip(Some(entries::tooltip(&profiles)));
            if let Ok(icon) = tauri::image::Image::from_bytes(icon(TrayState::of(&profiles))) {
                let _ = tray.set_icon(Some(icon));
            }
        }
        Err(err) => eprintln!("latchkey: tray menu failed: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_shows_the_icon_core_names_and_the_three_differ() {
        let states = [
            TrayState::AllGood,
            TrayState::NeedsYou,
            TrayState::RenewalFailed,
        ];
        for state in states {
            let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("icons")
                .join(state.icon());
            assert_eq!(
                std::fs::read(&file).unwrap(),
                icon(state),
                "{state:?} shows {}",
                file.display()
            );
            assert!(tauri::image::Image::from_bytes(icon(state)).is_ok());
        }
        assert_ne!(icon(states[0]), icon(states[1]));
        assert_ne!(icon(states[1]), icon(states[2]));
        assert_ne!(icon(states[0]), icon(states[2]));
    }
}
