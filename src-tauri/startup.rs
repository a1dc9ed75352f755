//! Start-up timing, for the window benchmark (`scripts/bench.sh window`) and
//! for finding what holds the first paint back: with `LATCHKEY_TRACE_STARTUP`
//! set, each stage of the launch (the core opened, the tray built, the page
//! loaded, each command the page sends, the page's own marks, its first
//! paint) prints one line on stderr with the milliseconds since the process
//! started. Unset, a stage costs one load of a static.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// When `begin` ran, if tracing is on: by the monotonic clock, and by the
/// wall clock (milliseconds since the epoch), which the page's marks use.
static LAUNCHED: OnceLock<Option<(Instant, f64)>> = OnceLock::new();

/// Call first thing in `main`: the moment the stages are counted from.
pub fn begin() {
    LAUNCHED.get_or_init(|| {
        std::env::var_os("LATCHKEY_TRACE_STARTUP").map(|_| {
            // Tracing only, not a decision: the page stamps its marks with
            // the wall clock, so they are placed by it.
            let epoch_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
            (Instant::now(), epoch_ms)
        })
    });
}

pub fn tracing() -> bool {
    matches!(LAUNCHED.get(), Some(Some(_)))
}

/// Prints "latchkey: STAGE N ms after launch" when tracing is on.
pub fn mark(stage: &str) {
    if let Some(Some((launched, _))) = LAUNCHED.get() {
        eprintln!(
            "latchkey: {stage} {} ms after launch",
            launched.elapsed().as_millis()
        );
    }
}

/// Like [`mark`], for a stage that happened at `epoch_ms` (milliseconds since
/// the epoch, by the wall clock): one of the page's.
pub fn mark_at(stage: &str, epoch_ms: f64) {
    if let Some(Some((_, launched_ms))) = LAUNCHED.get() {
        eprintln!(
            "latchkey: {stage} {:.0} ms after launch",
            epoch_ms - launched_ms
        );
    }
}
