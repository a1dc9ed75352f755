//! `docker-credential-latchkey`, driven as docker/cli drives it (protocols/
//! helpers.md §1): the action as the one argument, the request on stdin with
//! no trailing newline, the answer (or the error) on stdout. Then the real
//! Docker client, with the helper in `credHelpers`, pulling a manifest from
//! the sandbox's Quay through the token server.

mod common;

use common::{feed, stderr, stdout, Home, Served, LATCHKEY};
use latchkey_sandbox::quay;
use std::process::Command;

const DOCKER_HELPER: &str = env!("CARGO_BIN_EXE_docker-credential-latchkey");
const NOT_FOUND: &str = "credentials not found in native keychain\n";

/// Runs the helper as Docker does: `exec.Command(helper, action)`, stdin the
/// payload, no shell.
fn helper(home: &Home, action: &str, stdin: &str) -> std::process::Output {
    feed(home.command(DOCKER_HELPER).arg(action), stdin.as_bytes())
}

fn answer(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stdout {} stderr {}",
        stdout(out),
        stderr(out)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document on stdout")
}

/// A sandbox with a Quay server (`quay`).
fn registry() -> Served {
    let r = Served::new();
    r.add_server("quay", "quay");
    r
}

/// What the Docker tests do with a [`registry`].
impl Served {
    /// `latchkey profile add NAME --login manual-token --registry REGISTRY`
    /// on server `quay`, the token pasted on stdin.
    fn add_pasted(&self, name: &str, registry: &str, token: &str) -> std::process::Output {
        let args = [
            "profile",
            "add",
            name,
            "--server",
            "quay",
            "--login",
            "manual-token",
            "--secret-stdin",
            "--registry",
            registry,
        ];
        self.home.run_with_stdin(&args, Some(token))
    }

    fn add_robot(&self) {
        let out = self.home.run_with_stdin(
            &[
                "profile",
                "add",
                "robot",
                "--server",
                "quay",
                "--login",
                "quay-registry",
                "--username",
                quay::ROBOT,
                "--secret-stdin",
            ],
            Some(quay::ROBOT_TOKEN),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }

    /// `GET /v2/` with a bearer token from the token server, for the
    /// credentials Docker was given, as a registry client does.
    fn v2_with(&self, username: &str, secret: &str) -> (String, String) {
        let token = Command::new("curl")
            .args([
                "-fsS",
                "-u",
                &format!("{username}:{secret}"),
                &format!(
                    "{}/v2/auth?service={}&scope=repository:acme/web:pull",
                    self.sandbox.url_of("quay"),
                    self.host
                ),
            ])
            .output()
            .unwrap();
        assert!(token.status.success(), "{}", stderr(&token));
        let token: serde_json::Value = serde_json::from_slice(&token.stdout).unwrap();
        let token = token["token"].as_str().unwrap().to_string();
        let base = Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                &format!("Authorization: Bearer {token}"),
                &format!("{}/v2/", self.sandbox.base_url()),
            ])
            .output()
            .unwrap();
        (stdout(&base), token)
    }
}

#[test]
fn get_answers_as_docker_reads_it_and_an_unknown_registry_is_not_found() {
    let r = registry();
    r.add_robot();
    // docker/cli: strings.NewReader(serverURL), no newline.
    let out = helper(&r.home, "get", &r.host);
    let json = answer(&out);
    assert_eq!(
        json,
        serde_json::json!({
            "ServerURL": r.host,
            "Username": quay::ROBOT,
            "Secret": quay::ROBOT_TOKEN,
        })
    );
    assert_eq!(stdout(&out).matches('\n').count(), 1, "one line");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // The same registry named as a URL, as `docker login http://…` keys it.
    let json = answer(&helper(&r.home, "get", &format!("http://{}/", r.host)));
    assert_eq!(json["Username"], quay::ROBOT);

    // Not found: the exact text Docker compares with, exit 1, and a hint for
    // the person on stderr.
    let out = helper(&r.home, "get", "ghcr.io");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), NOT_FOUND);
    assert!(
        stderr(&out).contains("--registry USER@HOST"),
        "{}",
        stderr(&out)
    );
    let out = helper(&r.home, "get", "");
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(1), "no credentials server URL\n".into())
    );

    // The other actions and the usage, per credentials.Serve.
    let out = helper(&r.home, "list", "unused");
    assert_eq!(
        answer(&out),
        serde_json::json!({ r.host.clone(): quay::ROBOT })
    );
    let out = helper(&r.home, "version", "");
    assert!(stdout(&out).starts_with("docker-credential-latchkey (latchkey) "));
    let out = feed(r.home.command(DOCKER_HELPER).arg("--help"), b"");
    assert!(out.status.success() && stdout(&out).contains("credHelpers"));
    let out = helper(&r.home, "fetch", "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "docker-credential-latchkey: unknown action: fetch\n"
    );
    let out = feed(&mut r.home.command(DOCKER_HELPER), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("Usage: "), "{}", stdout(&out));

    // What Docker was given works at the registry: a token for /v2/.
    let (status, _) = r.v2_with(quay::ROBOT, quay::ROBOT_TOKEN);
    assert_eq!(status, "200");
}

#[test]
fn each_kind_of_profile_answers_with_its_own_name_and_a_valid_token() {
    let r = registry();
    // Direct OAuth: its token as $oauthtoken.
    r.home.ok(&[
        "profile",
        "add",
        "oauth",
        "--server",
        "quay",
        "--login",
        "quay-direct-oauth",
        "--username",
        "alice",
        "--client-id",
        quay::CLIENT_ID,
        "--scope",
        "repo:read",
    ]);
    let out = r.home.run_with_stdin(
        &["login", "oauth", "--password-stdin"],
        Some(quay::ALICE_PASSWORD),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json = answer(&helper(&r.home, "get", &r.host));
    assert_eq!(json["Username"], "$oauthtoken");
    let token = stdout(&r.home.ok(&["token", "oauth"])).trim().to_string();
    assert_eq!(json["Secret"], token.as_str());
    let (status, _) = r.v2_with("$oauthtoken", &token);
    assert_eq!(
        status, "200",
        "Quay takes the direct-OAuth token as $oauthtoken"
    );

    // A registry login answers before the direct-OAuth one on the same host;
    // one that borrows the direct-OAuth profile's token presents it.
    r.home.ok(&[
        "profile",
        "add",
        "borrowing",
        "--server",
        "quay",
        "--login",
        "quay-registry",
        "--username",
        "$oauthtoken",
        "--source-profile",
        "oauth",
    ]);
    let json = answer(&helper(&r.home, "get", &r.host));
    assert_eq!(json["Username"], "$oauthtoken");
    assert_eq!(json["Secret"], token.as_str());

    // Two registry logins for one host: Docker is told how to choose.
    r.add_robot();
    let out = helper(&r.home, "get", &r.host);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("borrowing, robot all answer for")
            && stdout(&out).contains("registry"),
        "{}",
        stdout(&out)
    );
    r.home.ok(&["profile", "remove", "borrowing"]);

    // Any profile with a registry setting answers for that registry, with
    // the user it names, Docker Hub under all of its names.
    let out = r.add_pasted("hub", "alice@docker.io", "dckr_pat_sandbox-0123456789");
    assert!(out.status.success(), "{}", stderr(&out));
    for name in [
        "https://index.docker.io/v1/",
        "docker.io",
        "registry-1.docker.io",
    ] {
        let json = answer(&helper(&r.home, "get", name));
        assert_eq!(json["Username"], "alice", "{name}");
        assert_eq!(json["Secret"], "dckr_pat_sandbox-0123456789", "{name}");
        assert_eq!(json["ServerURL"], name, "the key Docker asked for");
    }
    let out = r.home.run(&[
        "profile",
        "add",
        "bad",
        "--server",
        "quay",
        "--login",
        "manual-token",
        "--registry",
        "https://",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("registry:"), "{}", stderr(&out));
    let listed = answer(&helper(&r.home, "list", "unused"));
    assert_eq!(listed["docker.io"], "alice");
    assert_eq!(listed[r.host.as_str()], quay::ROBOT);
}

#[test]
fn a_due_token_is_renewed_before_docker_gets_it() {
    let r = registry();
    let oidc = r.sandbox.url_of("oidc");
    r.home
        .ok(&["server", "add", "id", "--kind", "oidc", "--url", &oidc]);
    let registry = ["--registry", "robot@registry.example:5000"];
    r.home.ok(&common::loopback_profile(
        "ci",
        "id",
        "oidc",
        "sandbox-oidc-client",
        &registry,
    ));
    r.sandbox.oidc().set_access_ttl(time::Duration::seconds(2));
    let browser = common::curl_browser(&r.home, None);
    let out = r
        .home
        .command(LATCHKEY)
        .args(["login", "ci"])
        .env("LATCHKEY_BROWSER", &browser)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let first = stdout(&r.home.ok(&["token", "ci"])).trim().to_string();
    assert_eq!(r.sandbox.oidc().refreshes(), 0);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let json = answer(&helper(&r.home, "get", "registry.example:5000"));
    assert_eq!(json["Username"], "robot");
    let handed = json["Secret"].as_str().unwrap();
    assert_ne!(handed, first, "not the expired token");
    assert_eq!(
        r.sandbox.oidc().refreshes(),
        1,
        "renewed once, at the provider"
    );
    assert!(r.sandbox.oidc().is_active(handed));
}

#[test]
fn docker_login_stores_in_the_keyring_and_docker_logout_forgets_only_what_it_stored() {
    let r = registry();
    // A registry nobody knows: a registry server and a token profile appear.
    let login = r#"{"ServerURL":"registry.example:5000","Username":"ci-bot","Secret":"s3cr3t-registry-password"}"#;
    let out = helper(&r.home, "store", &format!("{login}\n"));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(!stderr(&out).contains("s3cr3t"), "no secret in a message");
    let profiles = r.home.json(&["profile", "list", "--json"]);
    let made = &profiles[0];
    assert_eq!(made["label"], "from docker login");
    assert_eq!(made["settings"]["registry"], "ci-bot@registry.example:5000");
    let servers = r.home.json(&["server", "list", "--json"]);
    assert!(servers
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["kind"] == "registry"));
    let json = answer(&helper(&r.home, "get", "registry.example:5000"));
    assert_eq!(json["Secret"], "s3cr3t-registry-password");
    // The database holds no secret; the keyring does.
    let db = std::fs::read(r.home.path().join("latchkey.db")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains("s3cr3t-registry-password"));
    // A second `docker login` replaces the secret in the same profile.
    let again = login.replace("s3cr3t-registry-password", "rotated-registry-password");
    assert!(helper(&r.home, "store", &again).status.success());
    assert_eq!(
        r.home
            .json(&["profile", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let json = answer(&helper(&r.home, "get", "registry.example:5000"));
    assert_eq!(json["Secret"], "rotated-registry-password");
    // An identity token is kept as Docker sends it, and comes back as one.
    let id =
        r#"{"ServerURL":"https://id.example/v1/","Username":"<token>","Secret":"refresh-abc"}"#;
    assert!(helper(&r.home, "store", id).status.success());
    assert_eq!(
        answer(&helper(&r.home, "get", "id.example"))["Username"],
        "<token>"
    );

    // On a Quay server's host: a Quay registry login as that user.
    let robot = format!(
        r#"{{"ServerURL":"{}","Username":"{}","Secret":"{}"}}"#,
        r.host,
        quay::ROBOT,
        quay::ROBOT_TOKEN
    );
    assert!(helper(&r.home, "store", &robot).status.success());
    let profiles = r.home.json(&["profile", "list", "--json"]);
    assert!(profiles
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["login"] == "quay-registry" && p["settings"]["username"] == quay::ROBOT));
    // Another user on a host Latchkey already answers for: refused, kept.
    let other = robot.replace(quay::ROBOT, "acme+other");
    let out = helper(&r.home, "store", &other);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("answers for"), "{}", stdout(&out));
    // Bad requests, with the protocol's own messages.
    let out = helper(
        &r.home,
        "store",
        r#"{"ServerURL":"x.example","Secret":"s"}"#,
    );
    assert_eq!(stdout(&out), "no credentials username\n");
    let out = helper(&r.home, "store", "not json");
    assert_eq!(out.status.code(), Some(1));

    // docker logout: what it stored goes, with its secret.
    let out = helper(&r.home, "erase", "registry.example:5000");
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(
        stdout(&helper(&r.home, "get", "registry.example:5000")),
        NOT_FOUND
    );
    let out = helper(&r.home, "erase", "registry.example:5000");
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(1), NOT_FOUND.to_string())
    );
    // A profile made in Latchkey stays, and the person is told.
    let out = r.add_pasted("mine", "me@ghcr.io", "ghp_sandboxtoken");
    assert!(out.status.success());
    let out = helper(&r.home, "erase", "ghcr.io");
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("keeps profile mine"),
        "{}",
        stderr(&out)
    );
    assert_eq!(answer(&helper(&r.home, "get", "ghcr.io"))["Username"], "me");
}

/// The Docker client on PATH (Debian's docker.io, or the machine's).
fn docker() -> Option<String> {
    let out = Command::new("sh")
        .args(["-c", "command -v docker"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| stdout(&out).trim().to_string())
}

#[test]
fn the_docker_client_pulls_a_manifest_with_the_helper_from_credhelpers() {
    let r = registry();
    r.add_robot();
    let docker = docker().expect("the docker client is installed by `make test-deps`");
    let config = r.home.path().join("docker");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        serde_json::json!({ "credHelpers": { r.host.clone(): "latchkey" } }).to_string(),
    )
    .unwrap();
    let helper_dir = std::path::Path::new(DOCKER_HELPER).parent().unwrap();
    let path = format!(
        "{}:{}",
        helper_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let inspect = |image: &str| {
        r.home
            .command(&docker)
            .args(["manifest", "inspect", "--insecure", image])
            .env("DOCKER_CONFIG", &config)
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let out = inspect(&format!("{}/acme/web:latest", r.host));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(r.sandbox.quay().manifest_pulls(), 1);
    // Without the helper's answer, the registry says no.
    std::fs::write(config.join("config.json"), "{}").unwrap();
    let out = inspect(&format!("{}/acme/web:latest", r.host));
    assert!(!out.status.success());
    assert_eq!(r.sandbox.quay().manifest_pulls(), 1);
}
