//! What every CLI test file shares: a private installation (a temporary data
//! folder and a keyring service of its own) and the binaries run against it.
#![allow(dead_code)] // each test file uses its own part

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The `latchkey` binary under test.
pub const LATCHKEY: &str = env!("CARGO_BIN_EXE_latchkey");

/// A private installation: data folder and keyring service.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub service: String,
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

impl Home {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            service: format!("latchkey-cli-test-{}-{}", std::process::id(), rand_suffix()),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `program` with this installation's environment, never waiting on a prompt.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("LATCHKEY_HOME", self.dir.path())
            .env("LATCHKEY_KEYRING_SERVICE", &self.service)
            .env("LATCHKEY_NONINTERACTIVE", "1");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.run_with_stdin_bytes(args, stdin.unwrap_or_default().as_bytes())
    }

    pub fn run_with_stdin_bytes(&self, args: &[&str], stdin: &[u8]) -> Output {
        feed(self.command(LATCHKEY).args(args), stdin)
    }

    /// Runs `latchkey ARGS…` and expects success; panics with its stderr otherwise.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_slice(&self.ok(args).stdout).unwrap()
    }
}

/// A private installation beside the sandbox, which runs on a runtime of its
/// own for as long as the test holds this.
pub struct Served {
    pub sandbox: latchkey_sandbox::Sandbox,
    // The sandbox runs on it: dropped after it.
    _rt: tokio::runtime::Runtime,
    pub home: Home,
    /// `127.0.0.1:PORT`, the sandbox's host as the tools name it.
    pub host: String,
}

impl Served {
    /// Touches the keyring: only inside scripts/session.sh.
    pub fn new() -> Self {
        keyring_session();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sandbox = rt.block_on(latchkey_sandbox::Sandbox::start(0)).unwrap();
        let host = sandbox.addr().to_string();
        Self {
            sandbox,
            _rt: rt,
            home: Home::new(),
            host,
        }
    }

    /// `latchkey server add NAME --kind KIND`, at the sandbox's place for it.
    pub fn add_server(&self, name: &str, kind: &str) {
        self.home.ok(&[
            "server",
            "add",
            name,
            "--kind",
            kind,
            "--url",
            &self.sandbox.url_of(kind),
        ]);
    }
}

/// The arguments of `latchkey profile add NAME --server SERVER --login LOGIN
/// --client-id CLIENT`, asking for a refresh token and redirected to the
/// loopback listener, then `extra`.
pub fn loopback_profile<'a>(
    name: &'a str,
    server: &'a str,
    login: &'a str,
    client: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "profile",
        "add",
        name,
        "--server",
        server,
        "--login",
        login,
        "--client-id",
        client,
        "--scope",
        "openid",
        "--scope",
        "offline_access",
        "--redirect",
        "loopback",
    ];
    args.extend_from_slice(extra);
    args
}

/// Runs `cmd` with `stdin` as its whole input and collects its output.
pub fn feed(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .unwrap()
        .subsec_nanos() as u64
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Tests that touch the keyring run inside scripts/session.sh.
pub fn keyring_session() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "this test needs a D-Bus session with an unlocked keyring: run it through `make test`"
    );
}

/// Logs `profile` (a github-device profile) in through the CLI: the user code
/// it prints on stderr is approved at the sandbox GitHub while it waits.
#[allow(dead_code)]
pub fn login_github_device(home: &Home, github: &latchkey_sandbox::github::GitHub, profile: &str) {
    use std::io::BufRead;
    let mut child = home
        .command(LATCHKEY)
        .args(["login", profile, "--no-browser"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut code = None;
    let mut line = String::new();
    while code.is_none() && err.read_line(&mut line).unwrap() > 0 {
        let t = line.trim();
        if t.len() == 9 && t.as_bytes()[4] == b'-' {
            code = Some(t.to_string());
        }
        line.clear();
    }
    assert!(github.approve_device(&code.expect("a user code on stderr")));
    assert!(
        child.wait().unwrap().success(),
        "the device login ends well"
    );
}

/// A browser for `LATCHKEY_BROWSER`: follows the provider's redirects to the
/// CLI's loopback listener, as the system browser would (trusting `ca` too,
/// for a sandbox behind its private CA).
#[allow(dead_code)]
pub fn curl_browser(home: &Home, ca: Option<&Path>) -> std::path::PathBuf {
    let browser = home.path().join("browser.sh");
    let cacert = ca.map_or(String::new(), |ca| format!("--cacert '{}' ", ca.display()));
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nexec curl -fsSL {cacert}-o /dev/null \"$1\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    browser
}
