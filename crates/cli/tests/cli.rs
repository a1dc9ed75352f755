//! The `latchkey` binary on a temporary data folder and a test keyring service:
//! names, JSON output and exit codes as DESIGN.md promises them.

mod common;

use common::{keyring_session, stderr, Home};
use std::process::{Command, Stdio};

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

#[test]
fn token_prints_a_valid_token_in_each_format_and_says_when_to_log_in() {
    keyring_session();
    let home = Home::new();
    home.run(&[
        "server",
        "add",
        "api",
        "--kind",
        "oidc",
        "--url",
        "https://api.example",
    ]);
    let out = home.run(&["token", "api-user"]);
    assert_eq!(out.status.code(), Some(2), "no such profile");
    let out = home.run_with_stdin(
        &[
            "profile",
            "add",
            "api-user",
            "--server",
            "api",
            "--login",
            "manual-token",
            "--secret-stdin",
            "--token-expires",
            "1h",
        ],
        Some("opaque-abc\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = home.run(&["token", "api-user"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "opaque-abc\n");
    let out = home.run(&["token", "api-user", "--format", "header"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Authorization: Bearer opaque-abc\n"
    );
    let json = home.json(&["token", "api-user", "--format", "json"]);
    assert_eq!(json["token"], "opaque-abc");
    assert_eq!(json["server"], "api");
    assert!(json["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        json["status"], "expiring",
        "an hour left is within the default warning"
    );

    let out = home.run(&["logout", "api-user"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Forgot the tokens of api-user"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["token", "api-user"]);
    assert_eq!(out.status.code(), Some(3), "the user must log in");
    assert!(stderr(&out).contains("not logged in"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    let out = home.run_with_stdin(
        &[
            "profile",
            "add",
            "old",
            "--server",
            "api",
            "--login",
            "manual-token",
            "--secret-stdin",
            "--token-expires",
            "2020-01-01T00:00:00Z",
        ],
        Some("stale"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = home.run(&["token", "old"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("expired"), "{}", stderr(&out));
    let list = home.json(&["profile", "list", "--json"]);
    let old = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "old")
        .unwrap();
    assert_eq!(old["status"], "expired");
}

#[test]
fn login_reads_the_password_from_stdin_asks_for_the_otp_and_stores_a_token_the_server_accepts() {
    use latchkey_sandbox::avassa as sb;
    keyring_session();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt.block_on(latchkey_sandbox::Sandbox::start(0)).unwrap();
    let home = Home::new();
    let url = sandbox.url_of("avassa");
    for args in [
        &["server", "add", "edge", "--kind", "avassa", "--url", &url][..],
        &["tenant", "add", "edge", "acme"],
        &[
            "profile",
            "add",
            "bob",
            "--server",
            "edge",
            "--tenant",
            "acme",
            "--login",
            "avassa-password",
            "--username",
            "bob",
        ],
    ] {
        let out = home.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let password = format!("{}\n", sb::BOB_PASSWORD);

    let out = home.run(&["login", "bob"]);
    assert_eq!(out.status.code(), Some(2), "no password and no terminal");
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );

    let out = home.run_with_stdin(&["login", "bob", "--password-stdin"], Some("wrong\n"));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("password: invalid username or password"),
        "the server's words, blamed on the password: {}",
        stderr(&out)
    );

    let out = home.run_with_stdin(&["login", "bob", "--password-stdin"], Some(&password));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("bob (tenant acme) needs a one-time code")
            && stderr(&out).contains("--otp CODE"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["token", "bob"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "nothing stored without the code"
    );

    let out = home.run_with_stdin(
        &["login", "bob", "--password-stdin", "--otp", "12345"],
        Some(&password),
    );
    assert_eq!(out.status.code(), Some(4), "a wrong code: {}", stderr(&out));
    assert!(
        stderr(&out).contains("otp: invalid OTP"),
        "{}",
        stderr(&out)
    );

    let out = home.run_with_stdin(
        &[
            "login",
            "bob",
            "--password-stdin",
            "--otp",
            &sandbox.avassa().bob_otp(),
        ],
        Some(&password),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("logged in bob (tenant acme); the token expires in 10 m")
            || stderr(&out).contains("logged in bob (tenant acme); the token expires in 9 m"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["token", "bob"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(sandbox.avassa().is_valid(&token), "{token}");
    let json = home.json(&["token", "bob", "--format", "json"]);
    assert_eq!(json["tenant"], "acme");

    sandbox.avassa().set_sealed(true);
    let out = home.run_with_stdin(
        &[
            "login",
            "bob",
            "--password-stdin",
            "--otp",
            &sandbox.avassa().bob_otp(),
        ],
        Some(&password),
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("is sealed"), "{}", stderr(&out));
    let out = home.run(&["token", "bob"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        token,
        "a failed login keeps the token"
    );
    rt.block_on(sandbox.stop());
}

#[test]
fn a_browser_login_comes_back_to_the_clis_loopback_listener() {
    keyring_session();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt.block_on(latchkey_sandbox::Sandbox::start(0)).unwrap();
    let home = Home::new();
    let url = sandbox.url_of("avassa");
    for args in [
        &["server", "add", "edge", "--kind", "avassa", "--url", &url][..],
        &["tenant", "add", "edge", "acme"],
        &[
            "profile",
            "add",
            "sso",
            "--server",
            "edge",
            "--tenant",
            "acme",
            "--login",
            "avassa-oidc",
        ],
    ] {
        let out = home.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    // The browser: follows the identity provider's redirects to the listener.
    let browser = home.dir.path().join("browser.sh");
    std::fs::write(&browser, "#!/bin/sh\nexec curl -fsSL -o /dev/null \"$1\"\n").unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["login", "sso"])
        .env("LATCHKEY_HOME", home.dir.path())
        .env("LATCHKEY_KEYRING_SERVICE", &home.service)
        .env("LATCHKEY_NONINTERACTIVE", "1")
        .env("LATCHKEY_BROWSER", &browser)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("it comes back to http://127.0.0.1:"), "{err}");
    assert!(err.contains("Logged in sso · tenant acme."), "{err}");
    let token = home.run(&["token", "sso"]);
    assert!(token.status.success(), "{}", stderr(&token));
    assert!(sandbox
        .avassa()
        .is_valid(String::from_utf8_lossy(&token.stdout).trim()));

    // --no-browser: the address alone is the first line of stdout (as DESIGN
    // promises, for `head -1`), explanations go to stderr, and opening the
    // address from elsewhere completes the login.
    home.run(&["logout", "sso"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["login", "sso", "--no-browser"])
        .env("LATCHKEY_HOME", home.dir.path())
        .env("LATCHKEY_KEYRING_SERVICE", &home.service)
        .env("LATCHKEY_NONINTERACTIVE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    let address = first.strip_suffix('\n').expect("one whole line");
    assert!(
        address.starts_with(&format!("{url}/oidc/authorize?state=")),
        "{address}"
    );
    assert!(!address.contains(' '), "the line is the address alone");
    let opened = Command::new("curl")
        .args(["-fsSL", "-o", "/dev/null", address])
        .status()
        .unwrap();
    assert!(opened.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "nothing but the address on stdout");
    assert!(stderr(&out).contains("Logged in sso"), "{}", stderr(&out));
    rt.block_on(sandbox.stop());
}

// protocols/README.md §1.3 and §1.6.
const AUTH_SECRET: &str = "a29udGludW91cy10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5";
const GH_TOKEN: &str = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
const CREATE_JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZGVudGl0aWVzIjpbeyJhY2Nlc3NfdG9rZW4iOiJnaG9fMTZDN2U0MkYyOTJjNjkxMkU3NzEwYzgzODM0N0FlMTc4QjRhIn1dLCJ1c2VyX2lkIjoiZ2l0aHVifDU4MzIzMSJ9.nOzX3-f-7o5Fpn76VPjOH7EVvGqiT1PTUS8eSys-qNc";
const JWT_GEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZGVudGl0aWVzIjpbeyJhY2Nlc3NfdG9rZW4iOiAiZ2hvXzE2QzdlNDJGMjkyYzY5MTJFNzcxMGM4MzgzNDdBZTE3OEI0YSJ9XX0=.Yh0CLtuaHP90yx8WlyCFlnI5njItPFVo8erIwqgcXJs=";

#[test]
fn jwt_mint_decode_and_verify_follow_the_kontinuous_vectors() {
    let home = Home::new();
    let out = home.run(&[
        "jwt",
        "mint",
        "kontinuous",
        "--secret",
        AUTH_SECRET,
        "--github-token",
        GH_TOKEN,
        "--user-id",
        "github|583231",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        CREATE_JWT,
        "byte for byte"
    );

    let decoded = home.run_with_stdin(&["jwt", "decode", "--json"], Some(JWT_GEN));
    assert!(decoded.status.success(), "{}", stderr(&decoded));
    let json: serde_json::Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert_eq!(json["kind"], "jwt");
    assert_eq!(json["compliant"], false, "jwt-gen's padded standard base64");
    let text = serde_json::to_string(&json).unwrap();
    assert!(
        !text.contains(GH_TOKEN),
        "the GitHub token inside is masked"
    );

    let ok = home.run_with_stdin(
        &["jwt", "verify", "-", "--secret-base64url", AUTH_SECRET],
        Some(CREATE_JWT),
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("HS256"));
    let bad = home.run_with_stdin(
        &["jwt", "verify", "-", "--secret", "wrong"],
        Some(CREATE_JWT),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("signature"), "{}", stderr(&bad));
    let usage = home.run(&["jwt", "verify", CREATE_JWT]);
    assert_eq!(usage.status.code(), Some(2), "a key is required");
}

#[test]
fn sign_prints_headers_a_curl_line_that_the_server_accepts_and_checks_the_key() {
    use latchkey_sandbox::dci as sb;
    keyring_session();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt.block_on(latchkey_sandbox::Sandbox::start(0)).unwrap();
    let home = Home::new();
    let url = sandbox.url_of("dci");
    let out = home.run(&["server", "add", "ci", "--kind", "dci", "--url", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (name, secret) in [("lab", sb::REMOTECI_SECRET), ("wrong", "not-the-secret")] {
        let out = home.run_with_stdin(
            &[
                "profile",
                "add",
                name,
                "--server",
                "ci",
                "--login",
                "dci-hmac",
                "--access-key",
                sb::REMOTECI_ACCESS_KEY,
                "--secret-stdin",
            ],
            Some(&format!("{secret}\n")),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    /// Runs a printed curl line as a shell would, with its status appended.
    fn run_curl(line: &str, stdin: &[u8]) -> (String, String) {
        let out = common::feed(
            Command::new("sh")
                .arg("-c")
                .arg(format!("{} -sS -w '\\n%{{http_code}}'", line.trim_end())),
            stdin,
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap();
        (status.to_string(), body.to_string())
    }

    // Whose key: the identity, by the CLI's own signed request.
    let out = home.run(&["sign", "lab", "--check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("name: {}", sb::REMOTECI_NAME))
            && text.contains(&format!("access key: {}", sb::REMOTECI_ACCESS_KEY))
            && text.contains(&format!("teams: {}", sb::TEAM_NAME)),
        "{text}"
    );
    let json = home.json(&["sign", "lab", "--check", "--json"]);
    assert_eq!(json["identity"]["type"], "remoteci");
    let out = home.run(&["sign", "wrong", "--check"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("secret: the server does not accept the signature"),
        "{}",
        stderr(&out)
    );

    // A GET with spaces, colons and unicode in the query, as a curl line.
    let out = home.run(&[
        "sign",
        "lab",
        "GET",
        "/api/v1/jobs?where=name:foo bar&q=café ✓",
        "--format",
        "curl",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(line.starts_with("curl -g -H 'X-DCI-Date: "), "{line}");
    let (status, body) = run_curl(&line, b"");
    assert_eq!(status, "200", "{body}");
    let echo: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echo["params"]["where"], "name:foo bar");
    assert_eq!(echo["params"]["q"], "café ✓");
    assert_eq!(echo["path"], "/dci/api/v1/jobs");

    // A POST whose body comes from a file: curl reads the same file.
    let file = home.dir.path().join("job.json");
    let job = "{\"topic_id\": \"0b8f4a52\", \"comment\": \"it's ✓\"}\n";
    std::fs::write(&file, job).unwrap();
    let data = format!("@{}", file.display());
    let out = home.run(&[
        "sign",
        "lab",
        "POST",
        "/api/v1/jobs",
        "--data",
        &data,
        "--curl",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(line.contains(&format!("--data-binary {data} ")), "{line}");
    let (status, body) = run_curl(&line, b"");
    assert_eq!(status, "200", "{body}");
    let echo: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echo["body"], job, "the file's bytes, newline included");

    // A body given inline, and one piped in that no shell line can hold.
    let out = home.run(&[
        "sign",
        "lab",
        "PUT",
        "/api/v1/jobs/1",
        "--data",
        "@not-a-file-but-text?",
        "--curl",
    ]);
    assert_eq!(out.status.code(), Some(2), "@ reads a file");
    assert!(
        stderr(&out).contains("data: cannot read not-a-file-but-text?"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&[
        "sign",
        "lab",
        "PUT",
        "/api/v1/jobs/1",
        "--data",
        "{\"state\": \"it's\"}",
        "--curl",
    ]);
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(run_curl(&line, b"").0, "200", "{line}");
    let binary = b"\x00\xffraw";
    let out = home.run_with_stdin_bytes(
        &[
            "sign",
            "lab",
            "POST",
            "/api/v1/jobs/1/files",
            "--data",
            "@-",
            "--curl",
        ],
        binary,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pipe the same bytes"),
        "{}",
        stderr(&out)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(run_curl(&line, binary).0, "200", "{line}");

    // The default: the two header lines, what to keep on stderr.
    let out = home.run(&["sign", "lab", "POST", "/api/v1/jobs", "--data", "{}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("X-DCI-Date: 20"), "{text}");
    assert!(
        lines[1].starts_with(&format!(
            "Authorization: DCI2-HMAC-SHA256 Credential={}/",
            sb::REMOTECI_ACCESS_KEY
        )),
        "{text}"
    );
    assert!(
        stderr(&out).contains("with Content-Type: application/json"),
        "{}",
        stderr(&out)
    );
    let json = home.json(&[
        "sign",
        "lab",
        "GET",
        &format!("{url}/api/v1/identity"),
        "--json",
    ]);
    assert_eq!(json["method"], "GET");
    assert_eq!(json["url"], format!("{url}/api/v1/identity"));
    assert!(json["canonical_request"]
        .as_str()
        .unwrap()
        .starts_with("GET\n/dci/api/v1/identity\n\nhost:127.0.0.1:"));
    assert_eq!(json["headers"]["Authorization"], json["authorization"]);

    // Refusals before anything is sent.
    let out = home.run(&["sign", "lab", "GET", "/api/v1/jobs?a=1&a=2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("url: the query repeats the key 'a'"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["sign", "lab", "GET"]);
    assert_eq!(out.status.code(), Some(2), "usage: the URL is missing");
    let out = home.run(&["login", "lab"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nothing to log in"),
        "{}",
        stderr(&out)
    );
    rt.block_on(sandbox.stop());
}

#[test]
fn renew_prints_the_new_expiry_and_exits_by_what_went_wrong() {
    keyring_session();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt.block_on(latchkey_sandbox::Sandbox::start(0)).unwrap();
    let home = Home::new();
    let url = sandbox.url_of("avassa");
    home.ok(&["server", "add", "edge", "--kind", "avassa", "--url", &url]);
    home.ok(&["tenant", "add", "edge", "acme"]);
    home.ok(&[
        "profile",
        "add",
        "alice",
        "--server",
        "edge",
        "--tenant",
        "acme",
        "--login",
        "avassa-password",
        "--username",
        "alice",
    ]);
    let out = home.run(&["renew", "alice"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "never logged in: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("latchkey login alice"),
        "{}",
        stderr(&out)
    );

    let password = format!("{}\n", latchkey_sandbox::avassa::ALICE_PASSWORD);
    let out = home.run_with_stdin(&["login", "alice", "--password-stdin"], Some(&password));
    assert!(out.status.success(), "{}", stderr(&out));
    let before = home.json(&["token", "alice", "--format", "json"]);

    let out = home.ok(&["renew", "alice"]);
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let parsed =
        time::OffsetDateTime::parse(&printed, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("stdout is the expiry alone ({printed}): {e}"));
    assert!(parsed > time::OffsetDateTime::now_utc(), "{printed}");
    assert!(stderr(&out).contains("renewed alice"), "{}", stderr(&out));
    assert_eq!(sandbox.avassa().refreshes(), 1, "one refresh at the server");
    let after = home.json(&["token", "alice", "--format", "json"]);
    assert_ne!(after["token"], before["token"], "a new token");
    assert!(sandbox.avassa().is_valid(after["token"].as_str().unwrap()));

    // Sealed: the server refused; the token stays.
    sandbox.avassa().set_sealed(true);
    let out = home.run(&["renew", "alice"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("sealed"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("current token is kept"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        home.json(&["token", "alice", "--format", "json"])["token"],
        after["token"]
    );

    // Gone: unreachable; the token stays.
    rt.block_on(sandbox.stop());
    let out = home.run(&["renew", "alice"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(
        home.json(&["token", "alice", "--format", "json"])["token"],
        after["token"]
    );

    let out = home.run(&["renew", "nobody"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
