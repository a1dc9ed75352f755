//! `latchkey keyring check` and the keyring's states, each on a D-Bus session
//! bus of the test's own (no service activation, so nothing starts unasked)
//! with a real gnome-keyring-daemon started, stopped or locked by the test:
//! a keyring that starts late is waited for; absent, locked, without a
//! default collection, and without a session bus are told apart, with exit 3
//! and a message that says what to do.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A private session bus that activates nothing.
struct Bus {
    dir: tempfile::TempDir,
    daemon: Child,
    address: String,
}

impl Bus {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>"#,
                dir.path().display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus) must be installed");
        let mut address = String::new();
        let mut out = std::io::BufReader::new(daemon.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut out, &mut address).unwrap();
        let address = address.trim().to_string();
        assert!(address.starts_with("unix:"), "bus address: {address:?}");
        for sub in ["data", "run", "home"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let run = dir.path().join("run");
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        Self {
            dir,
            daemon,
            address,
        }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// A command on this bus, with XDG folders of its own.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("HOME", self.path("home"))
            .env_remove("DISPLAY")
            .env_remove("GNOME_KEYRING_CONTROL");
        cmd
    }

    /// Starts gnome-keyring-daemon on this bus; `unlock` gives it the login
    /// password, which creates the login collection the first time.
    fn start_keyring(&self, unlock: bool) -> Keyring {
        let mut cmd = self.command("gnome-keyring-daemon");
        cmd.args(["--foreground", "--components=secrets"]);
        if unlock {
            cmd.arg("--unlock");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian package gnome-keyring) must be installed");
        let mut stdin = child.stdin.take().unwrap();
        if unlock {
            stdin.write_all(b"test-login-password").unwrap();
        }
        drop(stdin);
        let keyring = Keyring { child };
        self.wait_for_name();
        keyring
    }

    fn wait_for_name(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let out = self
                .command("gdbus")
                .args([
                    "call",
                    "--session",
                    "--dest",
                    "org.freedesktop.DBus",
                    "--object-path",
                    "/org/freedesktop/DBus",
                    "--method",
                    "org.freedesktop.DBus.NameHasOwner",
                    "org.freedesktop.secrets",
                ])
                .output()
                .expect("gdbus (Debian package libglib2.0-bin) must be installed");
            if String::from_utf8_lossy(&out.stdout).contains("true") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("gnome-keyring-daemon did not take its name on the test bus");
    }

    fn latchkey(&self, home: &Path, args: &[&str]) -> Command {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_latchkey"));
        cmd.args(args)
            .env("LATCHKEY_HOME", home)
            .env("LATCHKEY_KEYRING_SERVICE", "latchkey-keyring-check-test")
            .env("LATCHKEY_NONINTERACTIVE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn run(&self, home: &Path, args: &[&str], stdin: &str) -> Output {
        let mut child = self.latchkey(home, args).spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A running gnome-keyring-daemon; stopped when dropped.
struct Keyring {
    child: Child,
}

impl Keyring {
    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn verdict(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The false alarm's other cause: a check that runs while the Secret
/// Service is still starting. One try says "absent" (the old check said "the
/// keyring refused"); the patient check waits for it and passes.
#[test]
fn a_keyring_service_that_starts_late_is_waited_for() {
    let bus = Bus::new();
    let home = tempfile::tempdir().unwrap();

    let once = bus.run(
        home.path(),
        &["keyring", "check", "--wait", "0", "--json"],
        "",
    );
    assert_eq!(once.status.code(), Some(3), "{}", stderr(&once));
    assert_eq!(verdict(&once)["state"], "absent");

    let started = Instant::now();
    let patient = bus
        .latchkey(home.path(), &["keyring", "check", "--wait", "8", "--json"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let _keyring = bus.start_keyring(true);
    let out = patient.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(verdict(&out)["state"], "ok");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "it passed once the keyring was up, not at the end of the wait"
    );
}

#[test]
fn no_keyring_service_is_absent_and_says_how_to_start_one() {
    let bus = Bus::new();
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = bus.run(home.path(), &["keyring", "check", "--wait", "1"], "");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("no keyring service is running"),
        "{message}"
    );
    assert!(
        message.contains("gnome-keyring-daemon --start"),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the wait is bounded"
    );
}

#[test]
fn without_a_session_bus_the_keyring_is_absent_and_the_message_says_why() {
    let bus = Bus::new();
    let home = tempfile::tempdir().unwrap();
    let out = bus
        .latchkey(home.path(), &["keyring", "check", "--json"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(verdict(&out)["state"], "absent");
    assert!(
        stderr(&out).contains("dbus-run-session"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_keyring_without_a_default_collection_says_to_create_one() {
    let bus = Bus::new();
    let home = tempfile::tempdir().unwrap();
    let _keyring = bus.start_keyring(false);
    let out = bus.run(
        home.path(),
        &["keyring", "check", "--wait", "0.5", "--json"],
        "",
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(verdict(&out)["state"], "locked");
    assert!(
        stderr(&out).contains("no default keyring"),
        "{}",
        stderr(&out)
    );
}

/// A locked keyring is "locked", for the check and for the commands that
/// need a secret (exit 3, "unlock it"); `--unlock` with nobody to answer the
/// prompt gives up and says so.
#[test]
fn a_locked_keyring_exits_3_with_unlock_it_for_the_check_and_for_token() {
    let bus = Bus::new();
    let home = tempfile::tempdir().unwrap();
    let unlocked = bus.start_keyring(true);
    let ok = bus.run(home.path(), &["keyring", "check"], "");
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    for args in [
        &[
            "server",
            "add",
            "api",
            "--kind",
            "avassa",
            "--url",
            "https://api.example",
        ][..],
        &[
            "profile",
            "add",
            "pasted",
            "--server",
            "api",
            "--login",
            "manual-token",
            "--secret-stdin",
        ][..],
    ] {
        let out = bus.run(home.path(), args, "a-token-in-the-keyring\n");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let token = bus.run(home.path(), &["token", "pasted"], "");
    assert_eq!(
        String::from_utf8_lossy(&token.stdout).trim(),
        "a-token-in-the-keyring"
    );

    // The same login keyring, after a restart without the password: locked.
    unlocked.stop();
    let _locked = bus.start_keyring(false);
    let out = bus.run(
        home.path(),
        &["keyring", "check", "--wait", "0.5", "--json"],
        "",
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(verdict(&out)["state"], "locked");
    assert!(stderr(&out).contains("unlock it"), "{}", stderr(&out));

    let token = bus.run(home.path(), &["token", "pasted"], "");
    assert_eq!(token.status.code(), Some(3), "{}", stderr(&token));
    assert!(token.stdout.is_empty());
    assert!(stderr(&token).contains("locked"), "{}", stderr(&token));

    let unlock = bus.run(home.path(), &["keyring", "check", "--unlock", "--json"], "");
    assert_eq!(unlock.status.code(), Some(3), "{}", stderr(&unlock));
    assert_eq!(verdict(&unlock)["state"], "locked");
    assert!(stderr(&unlock).contains("prompt"), "{}", stderr(&unlock));
}
