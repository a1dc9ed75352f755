//! The `latchkey` binary on a temporary data folder and a test keyring service:
//! names, JSON output and exit codes as DESIGN.md promises them.

use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Home {
    dir: tempfile::TempDir,
    service: String,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            service: format!("latchkey-cli-test-{}-{}", std::process::id(), rand_suffix()),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, None)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args(args)
            .env("LATCHKEY_HOME", self.dir.path())
            .env("LATCHKEY_KEYRING_SERVICE", &self.service)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .unwrap()
        .subsec_nanos() as u64
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn servers_are_added_listed_and_removed() {
    let home = Home::new();
    let out = home.run(&[
        "server",
        "add",
        "edge",
        "--kind",
        "avassa",
        "--url",
        "https://api.edge.example/",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "messages go to stderr");
    let list = home.json(&["server", "list", "--json"]);
    assert_eq!(list[0]["name"], "edge");
    assert_eq!(list[0]["kind"], "avassa");
    assert_eq!(list[0]["url"], "https://api.edge.example");
    let table = home.run(&["server", "list"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("NAME"), "{text}");
    assert!(text.contains("https://api.edge.example"));
    assert!(home.run(&["server", "remove", "edge"]).status.success());
    assert_eq!(
        home.json(&["server", "list", "--json"]),
        serde_json::json!([])
    );
}

#[test]
fn bad_input_exits_2_with_a_message_that_says_what_to_do() {
    let home = Home::new();
    let out = home.run(&[
        "server",
        "add",
        "edge",
        "--kind",
        "avassa",
        "--url",
        "api.edge.example",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("url: enter a full URL starting with https://"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&[
        "server",
        "add",
        "edge",
        "--kind",
        "gitlab",
        "--url",
        "https://x.example",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("choose one of: kontinuous"),
        "{}",
        stderr(&out)
    );
    home.run(&[
        "server",
        "add",
        "edge",
        "--kind",
        "avassa",
        "--url",
        "https://x.example",
    ]);
    let out = home.run(&[
        "server",
        "add",
        "edge",
        "--kind",
        "avassa",
        "--url",
        "https://x.example",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists"));
    let out = home.run(&["profile", "remove", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        home.run(&["frobnicate"]).status.code(),
        Some(2),
        "usage errors exit 2"
    );
    let out = home.run(&["server", "list", "--json"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn profiles_keep_their_secret_in_the_keyring_and_removal_needs_cascade() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "this test needs a D-Bus session with an unlocked keyring: run it through `make test`"
    );
    let home = Home::new();
    home.run(&[
        "server",
        "add",
        "ci",
        "--kind",
        "dci",
        "--url",
        "https://api.distributed-ci.io",
    ]);
    let out = home.run_with_stdin(
        &[
            "profile",
            "add",
            "lab",
            "--server",
            "ci",
            "--login",
            "dci-hmac",
            "--access-key",
            "remoteci/abc",
        ],
        Some("s3cret-key\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "no --secret-stdin: the secret key is missing"
    );
    assert!(stderr(&out).contains("secret"), "{}", stderr(&out));
    let out = home.run_with_stdin(
        &[
            "profile",
            "add",
            "lab",
            "--server",
            "ci",
            "--login",
            "dci-hmac",
            "--access-key",
            "remoteci/abc",
            "--secret-stdin",
            "--label",
            "lab rack",
        ],
        Some("s3cret-key\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let list = home.json(&["profile", "list", "--json"]);
    let p = &list[0];
    assert_eq!(p["name"], "lab");
    assert_eq!(p["login"], "dci-hmac");
    assert_eq!(p["status"], "none");
    assert!(p.get("expires_at").is_some() && p.get("renew_due_at").is_some());
    assert_eq!(p["settings"]["access_key"], "remoteci/abc");
    let listed = serde_json::to_string(&list).unwrap();
    assert!(!listed.contains("s3cret-key"), "secrets never print");

    let lookup = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            &home.service,
            "username",
            &format!("profile-{}/signing-key", p["id"]),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&lookup.stdout),
        "s3cret-key",
        "the newline was trimmed"
    );

    let out = home.run(&["server", "remove", "ci"]);
    assert_eq!(out.status.code(), Some(3), "the user must confirm");
    assert!(stderr(&out).contains("--cascade"), "{}", stderr(&out));
    assert_eq!(
        home.json(&["profile", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(home
        .run(&["server", "remove", "ci", "--cascade"])
        .status
        .success());
    assert_eq!(
        home.json(&["profile", "list", "--json"]),
        serde_json::json!([])
    );
    let lookup = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            &home.service,
            "username",
            &format!("profile-{}/signing-key", p["id"]),
        ])
        .output()
        .unwrap();
    assert!(lookup.stdout.is_empty(), "the secret went with the profile");
}

#[test]
fn tenants_are_managed_per_server() {
    let home = Home::new();
    home.run(&[
        "server",
        "add",
        "edge",
        "--kind",
        "avassa",
        "--url",
        "https://x.example",
    ]);
    assert!(home
        .run(&["tenant", "add", "edge", "acme"])
        .status
        .success());
    let out = home.run(&["tenant", "add", "edge", "ACME"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("lower-case"));
    let list = home.json(&["tenant", "list", "--json"]);
    assert_eq!(
        list,
        serde_json::json!([{"server": "edge", "tenant": "acme"}])
    );
    let out = home.run(&[
        "profile",
        "add",
        "k8s",
        "--server",
        "edge",
        "--login",
        "avassa-kubernetes",
        "--service",
        "svc",
        "--role",
        "r",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tenant"), "{}", stderr(&out));
}
