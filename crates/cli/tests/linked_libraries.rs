//! What the command line's binaries load before `main`. Each shared library
//! a binary names is mapped and relocated at every start, and `latchkey` is
//! started often: by docker, git and kubectl for each credential they ask
//! for, and by scripts for `latchkey token`. The system's OpenSSL (libssl,
//! libcrypto) cost each start about 1.4 ms, the system's libdbus with the
//! libsystemd it pulls in (libgcrypt, liblzma, libzstd, liblz4, libcap)
//! about 0.7 ms, against 1.9 ms for the whole start without them: TLS is
//! rustls and libdbus is built in (crates/core/Cargo.toml). This keeps a new
//! dependency from bringing either back unnoticed.

use std::process::Command;

/// The C runtime: what any Rust program on glibc names.
const ALLOWED: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
];

/// The shared libraries `binary` names (its ELF `NEEDED` entries).
fn needed(binary: &str) -> Vec<String> {
    let out = Command::new("readelf")
        .args(["--dynamic", "--wide", binary])
        .output()
        .unwrap_or_else(|e| panic!("cannot run readelf ({e}): install binutils"));
    assert!(
        out.status.success(),
        "readelf {binary}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| {
            let start = line.find("Shared library: [")? + "Shared library: [".len();
            let end = start + line[start..].find(']')?;
            Some(line[start..end].to_string())
        })
        .collect()
}

#[test]
fn the_command_line_binaries_load_only_the_c_runtime() {
    for binary in [
        env!("CARGO_BIN_EXE_latchkey"),
        env!("CARGO_BIN_EXE_docker-credential-latchkey"),
    ] {
        let needed = needed(binary);
        assert!(
            needed.iter().any(|lib| lib == "libc.so.6"),
            "{binary} names no libc.so.6 ({needed:?}): readelf's output was not read right"
        );
        let others: Vec<_> = needed
            .iter()
            .filter(|lib| !ALLOWED.contains(&lib.as_str()))
            .collect();
        assert!(
            others.is_empty(),
            "{binary} loads {others:?} at every start: find the dependency that links it \
             (cargo tree -i CRATE) and build it in or use a pure-Rust crate"
        );
    }
}
