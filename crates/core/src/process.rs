//! What a process that holds secrets does first: it forbids core dumps, so a
//! crash never writes the tokens in its memory to a file. RLIMIT_CORE = 0
//! (soft and hard, so no child can raise it again) stops the kernel's own
//! dumps, and the dump handlers a `core_pattern` pipe may name
//! (systemd-coredump, apport) honour it too. It leaves `/proc/PID` readable,
//! which benchmarks and the e2e harness use (PR_SET_DUMPABLE=0 would not).
//! The app and the CLI call [`forbid_core_dumps`] at the top of `main`.

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
}
