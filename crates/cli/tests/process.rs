//! The `latchkey` process protects the secrets in its memory: core dumps are
//! off (RLIMIT_CORE = 0, soft and hard) from the start of `main`, whatever the
//! command.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn the_cli_runs_with_core_dumps_forbidden() {
    // `jwt decode -` waits for its token on stdin: time to look at the process.
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["jwt", "decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let limits_path = format!("/proc/{}/limits", child.id());
    let mut line = String::new();
    // Up to 10 s for the debug binary to start on a loaded machine; the loop
    // ends as soon as the limit shows.
    for _ in 0..500 {
        std::thread::sleep(Duration::from_millis(20));
        let limits = std::fs::read_to_string(&limits_path).unwrap_or_default();
        line = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap_or_default()
            .to_string();
        if line.split_whitespace().nth(4) == Some("0") {
            break;
        }
    }
    let _ = child.stdin.take().unwrap().write_all(b"not-a-token\n");
    let _ = child.wait();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.get(4..6), Some(&["0", "0"][..]), "{line}");
}
