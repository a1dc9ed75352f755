//! Start-up timing, for the window benchmark (`scripts/bench.sh window`) and
//! for finding what holds the first paint back: with `LATCHKEY_TRACE_STARTUP`
//! set, each stage of the launch (the core opened, the tray built, the page
//! loaded, each command the page sends, its first paint) prints one line on
//! stderr with the milliseconds since the process started. Unset, a stage
//! costs one load of a static.

use std::sync::OnceLock;
use std::time::Instant;

/// When `begin` ran, if tracing is on.
static LAUNCHED: OnceLock<Option<Instant>> = OnceLock::new();

/// Call first thing in `main`: the moment the stages are counted from.
pub fn begin() {
    LAUNCHED.get_or_init(|| std::env::var_os("LATCHKEY_TRACE_STARTUP").map(|_| Instant::now()));
}

pub fn tracing() -> bool {
    matches!(LAUNCHED.get(), Some(Some(_)))
}

/// Prints "latchkey: STAGE N ms after launch" when tracing is on.
pub fn mark(stage: &str) {
    if let Some(Some(launched)) = LAUNCHED.get() {
        eprintln!(
            "latchkey: {stage} {} ms after launch",
            launched.elapsed().as_millis()
        );
    }
}
