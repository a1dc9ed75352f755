//! `latchkey export` and `latchkey import`: a team's set-up as a file, never a
//! secret in it; an import that is all or nothing, idempotent, and says where
//! a file is wrong.

mod common;

use base64::Engine;
use common::{keyring_session, stderr, stdout, Home};

/// Stdout with runs of spaces as one, so the column widths do not matter.
fn words(out: &std::process::Output) -> String {
    stdout(out)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}
use latchkey_core::env::Environment;
use latchkey_core::vault::{SecretKey, Vault};

/// Logs every seeded sandbox profile in through the CLI, the way a person would.
fn log_in_every_kind(home: &Home, sandbox: &latchkey_sandbox::Sandbox) {
    use latchkey_sandbox::{avassa, quay};
    let browser = common::curl_browser(home, None);
    let login = |args: &[&str], stdin: Option<&str>| {
        let out = common::feed(
            home.command(common::LATCHKEY)
                .arg("login")
                .args(args)
                .env("LATCHKEY_BROWSER", &browser),
            stdin.unwrap_or_default().as_bytes(),
        );
        assert!(out.status.success(), "login {args:?}: {}", stderr(&out));
    };
    let alice_avassa = format!("{}\n", avassa::ALICE_PASSWORD);
    let bob_avassa = format!("{}\n", avassa::BOB_PASSWORD);
    let alice_quay = format!("{}\n", quay::ALICE_PASSWORD);
    login(
        &["sandbox-avassa", "--password-stdin", "--remember"],
        Some(&alice_avassa),
    );
    login(
        &[
            "sandbox-avassa-otp",
            "--password-stdin",
            "--otp",
            &sandbox.avassa().bob_otp(),
        ],
        Some(&bob_avassa),
    );
    login(&["sandbox-avassa-k8s"], None);
    for quay_profile in ["sandbox-quay", "sandbox-quay-session"] {
        login(
            &[quay_profile, "--password-stdin", "--remember"],
            Some(&alice_quay),
        );
    }
    login(&["sandbox-quay-registry"], None);
    for browser_profile in ["sandbox-oidc", "sandbox-kontinuous"] {
        login(&[browser_profile], None);
    }
    // Auth0 takes only registered redirect URIs (the seeded profiles use the
    // app's deep link): a fixed loopback one, registered, for the CLI.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    sandbox.auth0().register_redirect_uri(redirect.clone());
    let issuer = format!("{}/", sandbox.url_of("auth0"));
    let secret = latchkey_sandbox::oidc::KONTINUOUS_CLIENT_SECRET;
    for (name, server, client, extra, secret) in [
        (
            "cli-auth0",
            "sandbox-auth0",
            "sandbox-auth0-client",
            None,
            None,
        ),
        (
            "cli-kontinuous-auth0",
            "sandbox-kontinuous",
            latchkey_sandbox::oidc::KONTINUOUS_CLIENT_ID,
            Some(issuer.as_str()),
            Some(secret),
        ),
    ] {
        let redirect_uri = ["--redirect-uri", redirect.as_str()];
        let mut args = common::loopback_profile(name, server, "auth0", client, &redirect_uri);
        if let Some(issuer) = extra {
            args.extend(["--issuer", issuer]);
        }
        if secret.is_some() {
            args.push("--secret-stdin");
        }
        let out = common::feed(
            home.command(common::LATCHKEY).args(&args),
            secret.unwrap_or_default().as_bytes(),
        );
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        login(&[name], None);
    }
    // The device flow: the code is approved at the provider while the CLI waits.
    common::login_github_device(home, sandbox.github(), "sandbox-github-device");
    let out = common::feed(
        home.command(common::LATCHKEY).args([
            "profile",
            "add",
            "pasted",
            "--server",
            "sandbox-oidc",
            "--login",
            "manual-token",
            "--secret-stdin",
        ]),
        b"pasted-token-value-0123456789",
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Every secret the installation holds, read from the keyring, with the
/// sandbox's passwords and keys.
async fn every_secret(home: &Home) -> Vec<String> {
    let env = Environment {
        data_dir: home.path().to_path_buf(),
        keyring_service: home.service.clone(),
    };
    let core = latchkey_core::Latchkey::open_with(
        &env,
        Vault::keyring(&home.service),
        latchkey_core::clock::system(),
    )
    .await
    .unwrap();
    let mut secrets = vec![
        latchkey_sandbox::avassa::ALICE_PASSWORD.to_string(),
        latchkey_sandbox::avassa::BOB_PASSWORD.to_string(),
        latchkey_sandbox::quay::ALICE_PASSWORD.to_string(),
        latchkey_sandbox::quay::ROBOT_TOKEN.to_string(),
        latchkey_sandbox::seed::DCI_SECRET.to_string(),
        latchkey_sandbox::oidc::KONTINUOUS_CLIENT_SECRET.to_string(),
    ];
    for p in core.store().profiles().await.unwrap() {
        for slot in core.vault().slots(p.id).await.unwrap() {
            if let Some(s) = core.vault().get(SecretKey::new(p.id, slot)).await.unwrap() {
                secrets.push(s.expose().to_string());
            }
        }
    }
    core.store().close().await;
    secrets
}

#[test]
fn an_export_after_every_login_holds_no_secret_and_imports_into_a_new_installation() {
    keyring_session();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt.block_on(latchkey_sandbox::Sandbox::start(0)).unwrap();
    let home = Home::new();
    rt.block_on(async {
        let env = Environment {
            data_dir: home.path().to_path_buf(),
            keyring_service: home.service.clone(),
        };
        let core = latchkey_core::Latchkey::open_with(
            &env,
            Vault::keyring(&home.service),
            latchkey_core::clock::system(),
        )
        .await
        .unwrap();
        latchkey_sandbox::seed::seed(&core, &sandbox).await.unwrap();
        core.store().close().await;
    });
    log_in_every_kind(&home, &sandbox);
    let listed = home.json(&["profile", "list", "--json"]);
    // Every profile holds a token but DCI's (it signs each request) and the
    // seeded Auth0 ones (deep link only; the cli-* ones stand in for them).
    for p in listed.as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let idle = ["sandbox-dci", "sandbox-auth0", "sandbox-kontinuous-auth0"];
        let holds = p["status"] == "valid" || p["status"] == "unknown";
        assert_eq!(holds, !idle.contains(&name), "{name}: {listed:#}");
    }

    let file = home.path().join("team.toml");
    let out = home.ok(&["export", "--file", file.to_str().unwrap()]);
    assert!(stdout(&out).is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        home.run(&["export"]).stdout,
        text.as_bytes(),
        "stdout = file"
    );

    let secrets = rt.block_on(every_secret(&home));
    assert!(secrets.len() >= 20, "{} secrets found", secrets.len());
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for secret in &secrets {
        for form in [secret.clone(), b64.encode(secret), b64url.encode(secret)] {
            assert!(
                !text.contains(&form),
                "the export holds a secret ({} chars)",
                secret.len()
            );
        }
    }
    // Every profile is in it, with its non-secret settings.
    for p in listed.as_array().unwrap() {
        assert!(
            text.contains(&format!("name = \"{}\"", p["name"].as_str().unwrap())),
            "{text}"
        );
    }
    assert!(text.contains("username = \"acme+deployer\""), "{text}");

    // A teammate's empty installation takes it whole, and again changes nothing.
    let mate = Home::new();
    let out = mate.ok(&["import", file.to_str().unwrap(), "--dry-run"]);
    assert!(
        words(&out).contains("would add server sandbox-avassa"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        mate.json(&["profile", "list", "--json"]),
        serde_json::json!([])
    );
    let out = mate.ok(&["import", file.to_str().unwrap()]);
    assert!(words(&out).contains("added profile sandbox-quay-registry"));
    assert!(
        stderr(&out).contains("sandbox-dci needs its secret"),
        "{}",
        stderr(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(
        &mate
            .ok(&["import", file.to_str().unwrap(), "--json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(report["added"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["changed"], serde_json::json!([]), "{report:#}");
    assert_eq!(
        report["unchanged"].as_array().unwrap().len(),
        listed.as_array().unwrap().len() + 7,
        "every server and profile left as it was: {report:#}"
    );
    let again = mate.run(&["export"]);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        text,
        "the round trip is exact"
    );
    // The imported profiles hold no secret until their owner gives one.
    let out = mate.run(&["token", "sandbox-avassa"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let out = mate.run_with_stdin(
        &["profile", "secret", "sandbox-dci"],
        Some(latchkey_sandbox::seed::DCI_SECRET),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = mate.ok(&["sign", "sandbox-dci", "--check"]);
    assert!(
        stderr(&out).contains(latchkey_sandbox::dci::REMOTECI_NAME)
            || stdout(&out).contains(latchkey_sandbox::dci::REMOTECI_NAME),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    rt.block_on(sandbox.stop());
}

const BASE: &str = r#"version = 1

[[server]]
name = "edge"
kind = "avassa"
url = "https://api.edge.example"
tenants = ["acme"]

[[profile]]
name = "edge-alice"
server = "edge"
tenant = "acme"
login = "avassa-password"

[profile.settings]
username = "alice"
"#;

#[test]
fn an_import_changes_what_differs_and_leaves_the_rest() {
    let home = Home::new();
    let file = home.path().join("a.toml");
    std::fs::write(&file, BASE).unwrap();
    home.ok(&["import", file.to_str().unwrap()]);
    home.ok(&[
        "server",
        "add",
        "mine",
        "--kind",
        "oidc",
        "--url",
        "https://id.example",
    ]);
    let changed = BASE
        .replace("https://api.edge.example", "https://api2.edge.example")
        .replace("username = \"alice\"", "username = \"alice2\"\n")
        + "\n[[profile]]\nname = \"edge-bob\"\nserver = \"edge\"\ntenant = \"globex\"\nlogin = \"avassa-password\"\nlabel = \"on call\"\nsettings = { username = \"bob\" }\n";
    std::fs::write(&file, changed).unwrap();
    let out = home.ok(&["import", file.to_str().unwrap()]);
    let text = words(&out);
    assert!(text.contains("changed server edge (url)"), "{text}");
    assert!(
        text.contains("changed profile edge-alice (settings)"),
        "{text}"
    );
    assert!(text.contains("added tenant globex of edge"), "{text}");
    assert!(text.contains("added profile edge-bob"), "{text}");
    let servers = home.json(&["server", "list", "--json"]);
    assert_eq!(servers.as_array().unwrap().len(), 2, "mine is left alone");
    let profiles = home.json(&["profile", "list", "--json"]);
    let bob = profiles
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "edge-bob")
        .unwrap();
    assert_eq!(bob["tenant"], "globex");
    assert_eq!(bob["label"], "on call");
    assert_eq!(bob["settings"]["username"], "bob");
}

/// Each bad file: its text, and what the error must say (line and field).
const BAD: &[(&str, &str, &str)] = &[
    ("no version", "[[server]]\nname = \"x\"\n", "line 1"),
    ("a newer version", "version = 7\n", "line 1, version: version 7"),
    (
        "a bad server name",
        "version = 1\n\n[[server]]\nname = \"has space\"\nkind = \"oidc\"\nurl = \"https://x.example\"\n",
        "line 3, [[server]] 'has space': name: use 1–64 letters",
    ),
    (
        "an unknown kind",
        "version = 1\n[[server]]\nname = \"x\"\nkind = \"gitlab\"\nurl = \"https://x.example\"\n",
        "line 2, [[server]] 'x': kind: unknown server kind 'gitlab'",
    ),
    (
        "a bad profile name after good entries",
        "version = 1\n[[server]]\nname = \"x\"\nkind = \"oidc\"\nurl = \"https://x.example\"\n[[profile]]\nname = \"good\"\nserver = \"x\"\nlogin = \"oidc\"\nsettings = { client_id = \"c\" }\n\n[[profile]]\nname = \"-bad\"\nserver = \"x\"\nlogin = \"oidc\"\n",
        "line 12, [[profile]] '-bad': name:",
    ),
    (
        "a login the server kind does not have",
        "version = 1\n[[server]]\nname = \"x\"\nkind = \"oidc\"\nurl = \"https://x.example\"\n[[profile]]\nname = \"p\"\nserver = \"x\"\nlogin = \"dci-hmac\"\n",
        "line 6, [[profile]] 'p': login: dci-hmac does not work with a oidc server",
    ),
    (
        "a setting the login does not use",
        "version = 1\n[[server]]\nname = \"x\"\nkind = \"oidc\"\nurl = \"https://x.example\"\n[[profile]]\nname = \"p\"\nserver = \"x\"\nlogin = \"oidc\"\nsettings = { client_id = \"c\", username = \"u\" }\n",
        "line 6, [[profile]] 'p': username: oidc does not use username",
    ),
    (
        "a misspelt setting",
        "version = 1\n[[server]]\nname = \"x\"\nkind = \"oidc\"\nurl = \"https://x.example\"\n[[profile]]\nname = \"p\"\nserver = \"x\"\nlogin = \"oidc\"\nsettings = { clientid = \"c\" }\n",
        "line 6, [[profile]] 'p': settings: unknown setting 'clientid'",
    ),
    (
        "a server nobody defines",
        "version = 1\n[[profile]]\nname = \"p\"\nserver = \"nowhere\"\nlogin = \"oidc\"\n",
        "line 2, [[profile]] 'p': server: no server named 'nowhere'",
    ),
    (
        "a name twice",
        "version = 1\n[[server]]\nname = \"x\"\nkind = \"oidc\"\nurl = \"https://x.example\"\n[[server]]\nname = \"x\"\nkind = \"oidc\"\nurl = \"https://y.example\"\n",
        "line 6, [[server]] 'x': name: the file names this server twice",
    ),
    (
        "an unknown field",
        "version = 1\n[[server]]\nname = \"x\"\nkind = \"oidc\"\nurl = \"https://x.example\"\npassword = \"hunter2\"\n",
        "line 6",
    ),
];

#[test]
fn a_bad_file_is_refused_with_its_line_and_field_and_changes_nothing() {
    let home = Home::new();
    let file = home.path().join("a.toml");
    std::fs::write(&file, BASE).unwrap();
    home.ok(&["import", file.to_str().unwrap()]);
    let before = home.run(&["export"]).stdout;
    for (what, text, says) in BAD {
        // The good part of each file would change something, were it applied.
        let text = text.replace("https://x.example", "https://changed.example");
        std::fs::write(&file, &text).unwrap();
        for dry in [true, false] {
            let mut args = vec!["import", file.to_str().unwrap()];
            if dry {
                args.push("--dry-run");
            }
            let out = home.run(&args);
            assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains(says), "{what}: expected «{says}» in «{err}»");
            assert!(
                err.contains("a.toml: line"),
                "{what}: names the file: {err}"
            );
            assert!(stdout(&out).is_empty(), "{what}");
        }
        assert_eq!(
            home.run(&["export"]).stdout,
            before,
            "{what}: nothing changed"
        );
    }
    let out = home.run(&["import", "/nonexistent/file.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read /nonexistent/file.toml"));
}
