// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before anything holds a secret: a crash must not dump it to a file.
    if let Err(err) = latchkey_core::process::forbid_core_dumps() {
        eprintln!("latchkey: cannot turn core dumps off ({err}); continuing");
    }
    latchkey_app::run()
}
