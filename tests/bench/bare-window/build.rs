// Tauri's build step: embeds tauri.conf.json and the empty page.
fn main() {
    tauri_build::build()
}
