// Declares the app's own commands to Tauri's permission system, so the
// capability file can allow exactly the ones the UI uses and nothing else.
fn main() {
    let commands: &[&str] = &include!("commands.list");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri build script");
}
