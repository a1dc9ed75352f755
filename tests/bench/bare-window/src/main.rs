//! A bare Tauri 2 window with an empty page: the baseline that
//! `scripts/bench.sh window` launches alternately with Latchkey to report
//! start-up time and memory as ratios. It does only what every Tauri app
//! does, and reports its first paint the way Latchkey does (a line on stderr
//! when the page says its first frame is drawn), so the two are timed alike.

// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The page calls this from its first animation frame.
#[tauri::command]
fn first_paint() {
    eprintln!("bare window: first paint");
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![first_paint])
        .run(tauri::generate_context!())
        .expect("error while running the bare window");
}
