//! What a process that holds secrets does first: it forbids core dumps, so a
//! crash never writes the tokens in its memory to a file. RLIMIT_CORE = 0
//! (soft and hard, so no child can raise it again) stops the kernel's own
//! dumps, and the dump handlers a `core_pattern` pipe may name
//! (systemd-coredump, apport) honour it too. It leaves `/proc/PID` readable,
//! which benchmarks and the e2e harness use (PR_SET_DUMPABLE=0 would not).
//! The app and the CLI call [`forbid_core_dumps`] at the top of `main`.
//!
//! A long-running process also hands back what a burst of work left free:
//! [`release_free_memory`] (the app, once its first screen is drawn).

/// Sets this process's core file size limit to 0.
pub fn forbid_core_dumps() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass and nothing else.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Gives the heap's free pages back to the system. glibc keeps what a burst
/// of allocations freed (the window's start-up at 10,000 profiles builds and
/// serialises several megabytes of views) in its arenas for reuse, so the
/// process would hold it for as long as it runs: `malloc_trim(0)` returns
/// it (19 MiB at 10,000 profiles, measured with `scripts/bench.sh window`).
/// Elsewhere, nothing.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas, under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_core_file_size_limit_is_zero_afterwards() {
        super::forbid_core_dumps().unwrap();
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap();
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[4..6], ["0", "0"], "{line}");
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_heap_pages_go_back_to_the_system() {
        fn resident_kib() -> u64 {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        }
        // Many small blocks, below the mmap threshold, so they live in the
        // heap. The last one allocated is kept: it sits at the heap's top, so
        // freeing the others cannot simply shrink the heap back. 80 MB freed
        // and 40 MB asked back: the other tests of this binary run beside it
        // and allocate too, but far less than the margin.
        let mut blocks: Vec<Vec<u8>> = (0..40_000)
            .map(|i| vec![(i % 250 + 1) as u8; 2000])
            .collect();
        let pin = std::hint::black_box(blocks.pop());
        drop(std::hint::black_box(blocks));
        let before = resident_kib();
        super::release_free_memory();
        let after = resident_kib();
        assert!(
            after + 40_000 < before,
            "freed 80 MB, resident {before} KiB before the trim and {after} KiB after"
        );
        drop(pin);
    }
}
