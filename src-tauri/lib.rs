//! The Latchkey app shell: window, tray, deep links, notifications and IPC.
//! Decisions live in `latchkey_core`; this crate wires them to the desktop.

#[cfg(test)]
mod capabilities;
mod clipboard;
mod events;
mod ipc;
mod keyring;
mod redirect;
mod sandbox;
mod scheduler;
mod shell;
mod startup;
mod tray;

pub use ipc::{export_bindings, specta_builder, BINDINGS_PATH};

use latchkey_core::env::Environment;
use latchkey_core::Latchkey;
use shell::Shell;
use tauri::{Manager, WindowEvent};
use tauri_plugin_deep_link::DeepLinkExt;

/// How long the tray menu waits for the page's first screen before it is
/// built anyway (a window started in the tray draws nothing).
const TRAY_WAITS_FOR_PAGE_AT_MOST: std::time::Duration = std::time::Duration::from_secs(3);

pub fn run() {
    startup::begin();
    let env = Environment::from_env();
    let core = match tauri::async_runtime::block_on(Latchkey::open(&env)) {
        Ok(core) => core,
        Err(err) => {
            eprintln!("latchkey: {err}");
            std::process::exit(1);
        }
    };
    let settings = tauri::async_runtime::block_on(core.settings()).unwrap_or_default();
    let start_hidden = settings.start_in_tray;
    let shell = Shell::new(core, env, &settings);
    startup::mark("core opened");
    let specta = specta_builder();
    let commands = specta.invoke_handler();

    tauri::Builder::default()
        // First: a second launch (e.g. the OS opening a latchkey:// URL) hands its
        // arguments to this process and exits; the deep-link plugin then sees the URL.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            events::show_main(app);
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .manage(shell)
        .manage(sandbox::SandboxState::default())
        .invoke_handler(move |invoke| {
            if startup::tracing() {
                startup::mark(&format!("command {}", invoke.message.command()));
            }
            commands(invoke)
        })
        .on_page_load(|_, payload| {
            startup::mark(&format!("page load {:?}", payload.event()));
        })
        .setup(move |app| {
            startup::mark("setup");
            specta.mount_events(app);
            let handle = app.handle().clone();
            tray::create(&handle, shell::on_tray_action)?;
            startup::mark("tray created");
            let shell = handle.state::<Shell>();
            let core = shell.core.clone();
            // Nothing here may wait: the window's event loop, and with it the
            // page, starts only when this returns. The menu reads every profile
            // (200 ms at 10,000 of them, on two cores the page's load needs),
            // so it fills in once the page has drawn its first screen; until
            // then the icon shows with an empty menu.
            {
                let (handle, core) = (handle.clone(), core.clone());
                let clock = std::sync::Arc::clone(&shell.tray_clock);
                tauri::async_runtime::spawn(async move {
                    let shell = handle.state::<Shell>();
                    shell.first_screen(TRAY_WAITS_FOR_PAGE_AT_MOST).await;
                    tray::refresh(&handle, &core, &clock).await;
                    shell.tray_built();
                });
            }
            // Registering runs `update-desktop-database` and `xdg-mime` (30-50 ms,
            // more on a busy machine); a latchkey:// URL that arrives meanwhile
            // still reaches this process through single-instance.
            #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
            {
                let registrar = handle.clone();
                std::thread::spawn(move || {
                    if let Err(err) = registrar.deep_link().register_all() {
                        eprintln!("latchkey: could not register the latchkey:// handler: {err}");
                    }
                    startup::mark("latchkey:// registered");
                });
            }
            let on_url = handle.clone();
            let core_of_url = core.clone();
            app.deep_link().on_open_url(move |event| {
                for url in event.urls() {
                    redirect::handle(&on_url, &core_of_url, url.as_str(), shell::publish);
                }
            });
            // A URL that started this (first) instance arrives here, not above.
            if let Ok(Some(urls)) = app.deep_link().get_current() {
                for url in urls {
                    redirect::handle(&handle, &core, url.as_str(), shell::publish);
                }
            }
            keyring::start(&handle, core.vault().clone());
            scheduler::start(
                &handle,
                core.clone(),
                shell.wake.clone(),
                std::sync::Arc::clone(&shell.tray_clock),
            );
            redirect::announce(&handle, &core, shell::login_ended);
            if !start_hidden {
                events::show_main(&handle);
            }
            startup::mark("setup done");
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.app_handle().state::<Shell>().close_to_tray() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .run(tauri::generate_context!())
        .expect("error while running Latchkey");
}
