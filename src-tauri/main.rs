// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before anything holds a secret: a crash must not dump it to a file.
    if let Err(err) = latchkey_core::process::forbid_core_dumps() {
        eprintln!("latchkey: cannot turn core dumps off ({err}); continuing");
    }
    // WebKitGTK draws pages through OpenGL by default; where the GL is Mesa's
    // software llvmpipe (VMs, remote desktops, machines without a GPU driver)
    // that costs 30 MiB more in the web process and a slower first paint than
    // WebKit's own CPU renderer, for a window of forms and lists that gains
    // nothing from a GPU (issue 13: measured with `scripts/bench.sh window`).
    // Before any thread starts, so the web processes inherit it; a user who
    // wants the GPU path sets WEBKIT_SKIA_ENABLE_CPU_RENDERING=0.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_SKIA_ENABLE_CPU_RENDERING").is_none() {
        std::env::set_var("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1");
    }
    latchkey_app::run()
}
