//! The tray icon and its menu. The entries come from `latchkey_core::tray`;
//! this file only turns them into menu items and routes clicks.

use crate::ipc::FocusProfile;
use latchkey_core::tray as entries;
use latchkey_core::Latchkey;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};
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
        entries::OPEN => show_main(app),
        entries::QUIT => app.exit(0),
        other => {
            if let Some(profile) = entries::profile_of(other) {
                show_main(app);
                let _ = FocusProfile { id: profile }.emit(app);
            }
        }
    }
}

pub fn show_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Rebuilds the menu and tooltip from the current profiles.
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
    let build = || -> tauri::Result<Menu<tauri::Wry>> {
        let menu = Menu::new(app)?;
        menu.append(&MenuItem::with_id(
            app,
            entries::OPEN,
            "Open Latchkey",
            true,
            None::<&str>,
        )?)?;
        let items = entries::profile_entries(&profiles);
        if !items.is_empty() {
            menu.append(&PredefinedMenuItem::separator(app)?)?;
            for item in items {
                menu.append(&MenuItem::with_id(
                    app,
                    item.id,
                    item.label,
                    true,
                    None::<&str>,
                )?)?;
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
        }
        Err(err) => eprintln!("latchkey: tray menu failed: {err}"),
    }
}
