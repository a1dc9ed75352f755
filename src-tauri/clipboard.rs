//! Copying a token to the clipboard, and clearing it again after the user's
//! chosen time if the clipboard still holds what we put there (and nothing
//! copied since). Only a digest of the text is kept for that check.

use latchkey_core::vault::Secret;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use tauri::AppHandle;
use tauri_plugin_clipboard_manager::ClipboardExt;

/// Bumped on every copy, so an older timer never clears a newer copy.
static GENERATION: AtomicU64 = AtomicU64::new(0);

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

pub fn put(app: &AppHandle, text: Secret, clear_after_seconds: u32) -> Result<(), String> {
    app.clipboard()
        .write_text(text.expose().to_string())
        .map_err(|e| format!("could not write to the clipboard: {e}"))?;
    let generation = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
    if clear_after_seconds == 0 {
        return Ok(());
    }
    let ours = digest(text.expose());
    drop(text);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(clear_after_seconds.into())).await;
        if GENERATION.load(Ordering::SeqCst) != generation {
            return;
        }
        let still_ours = app
            .clipboard()
            .read_text()
            .is_ok_and(|now| digest(&now) == ours);
        if still_ours {
            let _ = app.clipboard().clear();
        }
    });
    Ok(())
}
