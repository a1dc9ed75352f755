//! Copying a token to the clipboard, and clearing it again after the user's
//! chosen time if the clipboard still holds what we put there (and nothing
//! copied since). Only a digest of the text is kept for that check. Plain,
//! non-secret text the user must paste elsewhere (a redirect URI, a device
//! code) is copied as is and never cleared.

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

/// The longest plain text [`put_plain`] takes: a URL with its query, not a document.
pub const PLAIN_MAX_CHARS: usize = 2048;

/// Why `text` may not be copied as plain text, if it may not.
pub fn plain_refusal(text: &str) -> Option<String> {
    let chars = text.chars().count();
    if text.trim().is_empty() {
        Some("nothing to copy: the text is empty".into())
    } else if chars > PLAIN_MAX_CHARS {
        Some(format!(
            "the text is too long to copy ({chars} characters; at most {PLAIN_MAX_CHARS}): \
             select it and copy it by hand"
        ))
    } else {
        None
    }
}

/// Puts non-secret text on the clipboard, without clearing it later. It
/// counts as a copy: a pending clear of an earlier token leaves it alone.
pub fn put_plain(app: &AppHandle, text: &str) -> Result<(), String> {
    app.clipboard()
        .write_text(text.to_string())
        .map_err(|e| format!("could not write to the clipboard: {e}"))?;
    GENERATION.fetch_add(1, Ordering::SeqCst);
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_refused_when_empty_or_longer_than_the_limit() {
        assert_eq!(plain_refusal("http://127.0.0.1:8765/cb"), None);
        assert_eq!(
            plain_refusal(&"é".repeat(PLAIN_MAX_CHARS)),
            None,
            "characters, not bytes"
        );
        let long = plain_refusal(&"a".repeat(PLAIN_MAX_CHARS + 1)).unwrap();
        assert!(long.contains("2049 characters; at most 2048"), "{long}");
        assert!(plain_refusal("  ").unwrap().contains("empty"));
    }
}
