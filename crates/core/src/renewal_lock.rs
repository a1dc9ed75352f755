//! The cross-process half of single-flight renewal. The app and any number of
//! `latchkey` processes share one data folder and keyring; a renewal must
//! happen once, not once per process, or the second process would present a
//! refresh token the first one already had rotated, and a server with reuse
//! detection would then revoke the whole grant.
//!
//! One lock file per profile, `locks/renew-<profile id>.lock` in the data
//! folder, held with `flock(2)` for the length of one renewal. The kernel
//! releases the lock when its holder exits, even by `SIGKILL`, so a crash never
//! leaves a stale lock behind; the files themselves are empty and stay (they
//! are never deleted, as deleting a lock file someone may be waiting on would
//! let two holders in).
//!
//! Only renewals take it. Reading a token that is not due never does, so the
//! fast path of `latchkey token` stays lock-free; what that path must respect
//! is described at [`crate::service::Latchkey::record_issued`].

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a renewal waits for another process's renewal of the same
/// profile before giving up: longer than one renewal can take (two requests at
/// the HTTP client's 30 s timeout), so a waiter outlives a slow holder.
pub const WAIT: Duration = Duration::from_secs(75);

/// A held renewal lock; dropping it releases the lock.
#[derive(Debug)]
pub struct RenewalLock {
    // Closing the file releases the flock.
    _file: File,
}

/// Where the lock of `profile_id` lives in `data_dir`.
pub fn path(data_dir: &Path, profile_id: i64) -> PathBuf {
    data_dir
        .join("locks")
        .join(format!("renew-{profile_id}.lock"))
}

/// Takes the renewal lock of a profile, waiting up to `wait` for another
/// process (or another core in this one) to finish its renewal. `Ok(None)`
/// when it is still held after `wait`.
///
/// Polls with `try_lock` rather than blocking in `flock`, so that waiting
/// holds no thread and gives up on time.
pub async fn acquire(
    data_dir: &Path,
    profile_id: i64,
    wait: Duration,
) -> io::Result<Option<RenewalLock>> {
    let path = path(data_dir, profile_id);
    let file = match open(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(path.parent().unwrap_or(data_dir))?;
            open(&path)?
        }
        other => other?,
    };
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(2);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(RenewalLock { _file: file })),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(e),
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(pause).await;
        // A renewal takes tens of milliseconds: look again soon, but do not
        // let a hundred waiters spin.
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_until_the_first_lets_go_and_gives_up_on_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), 7, WAIT).await.unwrap().unwrap();
        // Another open file description: what another process would hold.
        let started = Instant::now();
        let none = acquire(dir.path(), 7, Duration::from_millis(60))
            .await
            .unwrap();
        assert!(none.is_none(), "held elsewhere");
        assert!(started.elapsed() >= Duration::from_millis(60));
        // Other profiles are not held up.
        assert!(acquire(dir.path(), 8, Duration::ZERO)
            .await
            .unwrap()
            .is_some());
        let waiter = tokio::spawn({
            let dir = dir.path().to_path_buf();
            async move { acquire(&dir, 7, WAIT).await.unwrap().is_some() }
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        drop(first);
        assert!(waiter.await.unwrap(), "taken once released");
        assert!(path(dir.path(), 7).exists());
    }
}
