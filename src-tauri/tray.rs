//! The tray icon and its menu. The entries, the tooltip and which of the
//! three icons shows come from `latchkey_core::tray`; this file only turns
//! them into menu items and pixels, and routes clicks.

use crate::ipc::FocusProfile;
use crate::shell::Shell;
use latchkey_core::tray::{self as entries, TrayAction, TrayEntry, TrayState};
use latchkey_core::{CopyFormat, Latchkey};
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};
use tauri_specta::Event;

const TRAY_ID: &str = "latchkey";

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let icon = tauri::image::Image::from_bytes(include_bytes!("../icons/tray.png"))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip("Latchkey")
        .menu(&Menu::new(app)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .build(app)?;
    Ok(())
}

fn on_menu(app: &AppHandle, id: &str) {
    match id {
        entries::OPEN | entries::MORE => show_main(app),
        entries::QUIT => app.exit(0),
        other => match TrayAction::parse(other) {
            Some(TrayAction::Show(profile)) => {
                show_main(app);
                let _ = FocusProfile {
                    id: profile,
                    login: false,
                }
                .emit(app);
            }
            Some(TrayAction::Copy(profile)) => copy(app, profile, CopyFormat::Token),
            Some(TrayAction::CopyHeader(profile)) => copy(app, profile, CopyFormat::Header),
            Some(TrayAction::Renew(profile)) => {
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let shell = app.state::<Shell>();
                    if let Err(err) = shell.core.renew_profile(profile, true).await {
                        eprintln!("latchkey: renew from the tray: {err}");
                    }
                    shell.changed(&app).await;
                });
            }
            None => {}
        },
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

pub fn show_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
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
pub async fn refresh(app: &AppHandle, core: &Latchkey) {
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
    app.state::<Shell>()
        .set_tray_clock(entries::shows_time_left(&profiles, now));
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
