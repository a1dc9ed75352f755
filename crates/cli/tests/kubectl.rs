//! `latchkey kubectl-credential`, run by the real kubectl as an exec
//! credential plugin (protocols/helpers.md §2) against the sandbox's
//! Kubernetes API stand-in, which takes a token only while the sandbox OIDC
//! provider would. Over HTTPS with the sandbox's private CA: kubectl reads a
//! user's credentials only for a TLS server (client-go's clientcmd skips
//! them for plain HTTP). A wrapper around the plugin counts how often kubectl runs
//! it: once per kubectl process (its cache lives in memory), and after the
//! token expired the run hands out a renewed one.

mod common;

use base64::Engine;
use common::{feed, keyring_session, stderr, stdout, Home, LATCHKEY};
use std::path::PathBuf;
use std::process::Command;

const V1: &str = "client.authentication.k8s.io/v1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

struct Cluster {
    sandbox: latchkey_sandbox::tls::TlsSandbox,
    // The sandbox runs on it: dropped after it.
    _rt: tokio::runtime::Runtime,
    home: Home,
    browser: PathBuf,
}

/// The kubectl on PATH (Debian's kubernetes-client, or the machine's).
fn kubectl() -> String {
    let out = Command::new("sh")
        .args(["-c", "command -v kubectl"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl is installed by `make test-deps`"
    );
    stdout(&out).trim().to_string()
}

/// The exec API version this kubectl speaks: v1 from 1.22 on.
fn exec_api_version() -> &'static str {
    let out = Command::new(kubectl())
        .args(["version", "--client", "-o", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let minor: u32 = v["clientVersion"]["minor"]
        .as_str()
        .unwrap()
        .trim_end_matches('+')
        .parse()
        .unwrap();
    if minor >= 22 {
        V1
    } else {
        V1BETA1
    }
}

impl Cluster {
    /// The sandbox, an OIDC server, and `ci`, an OIDC profile logged in
    /// through a loopback redirect.
    fn new() -> Self {
        keyring_session();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sandbox = rt
            .block_on(latchkey_sandbox::tls::TlsSandbox::start(
                latchkey_core::clock::system(),
            ))
            .unwrap();
        let home = Home::new();
        let ca = home.path().join("ca.pem");
        std::fs::write(&ca, sandbox.ca_pem()).unwrap();
        let browser = common::curl_browser(&home, Some(&ca));
        let c = Self {
            sandbox,
            _rt: rt,
            home,
            browser,
        };
        c.home.ok(&[
            "server",
            "add",
            "id",
            "--kind",
            "oidc",
            "--url",
            &c.sandbox.url_of("oidc"),
            "--ca-file",
            c.home.path().join("ca.pem").to_str().unwrap(),
        ]);
        c.add_profile("ci");
        let out = c
            .home
            .command(LATCHKEY)
            .args(["login", "ci"])
            .env("LATCHKEY_BROWSER", &c.browser)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        c
    }

    fn add_profile(&self, name: &str) {
        let args = common::loopback_profile(name, "id", "oidc", "sandbox-oidc-client", &[]);
        self.home.ok(&args);
    }

    fn token(&self, profile: &str) -> String {
        stdout(&self.home.ok(&["token", profile]))
            .trim()
            .to_string()
    }

    fn runs_file(&self, profile: &str) -> PathBuf {
        self.home.path().join(format!("{profile}.runs"))
    }

    /// How often kubectl ran the plugin for `profile`.
    fn runs(&self, profile: &str) -> usize {
        std::fs::read_to_string(self.runs_file(profile))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// A kubeconfig whose user runs `latchkey kubectl-credential PROFILE`
    /// (through a wrapper that counts the runs), against the stand-in.
    fn kubeconfig(&self, profile: &str, api_version: &str) -> PathBuf {
        let wrapper = self.home.path().join(format!("{profile}-plugin.sh"));
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\necho run >> '{}'\nexec '{LATCHKEY}' kubectl-credential {profile}\n",
                self.runs_file(profile).display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        // v1 requires interactiveMode; kubectl before 1.22 knows no such field.
        let interactive = if api_version == V1 {
            "      interactiveMode: IfAvailable\n"
        } else {
            ""
        };
        let config = format!(
            "apiVersion: v1\nkind: Config\n\
             clusters:\n- name: sandbox\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n\
             users:\n- name: {profile}\n  user:\n    exec:\n      apiVersion: {api_version}\n      command: {wrapper}\n{interactive}\
             contexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: {profile}\n\
             current-context: sandbox\n",
            server = self.sandbox.base_url(),
            ca = base64::engine::general_purpose::STANDARD.encode(self.sandbox.ca_pem()),
            wrapper = wrapper.display(),
        );
        let path = self.home.path().join(format!("{profile}.kubeconfig"));
        std::fs::write(&path, config).unwrap();
        path
    }

    /// kubectl with that kubeconfig, its caches in the test's folder, and no
    /// terminal (as in CI, or a script).
    fn kubectl(&self, kubeconfig: &PathBuf, args: &[&str]) -> std::process::Output {
        self.home
            .command(kubectl())
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .env("HOME", self.home.path())
            .env("KUBECACHEDIR", self.home.path().join("kube-cache"))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// The plugin run by hand with `KUBERNETES_EXEC_INFO` as kubectl sets it.
    fn plugin(&self, profile: &str, exec_info: &str) -> std::process::Output {
        feed(
            self.home
                .command(LATCHKEY)
                .args(["kubectl-credential", profile])
                .env("KUBERNETES_EXEC_INFO", exec_info)
                .env("LATCHKEY_BROWSER", &self.browser),
            b"",
        )
    }

    /// The tokens the stand-in was shown, in order, and whether it took them.
    fn seen(&self) -> Vec<(Option<String>, bool)> {
        self.sandbox
            .states()
            .kube
            .seen()
            .into_iter()
            .map(|s| (s.token, s.accepted))
            .collect()
    }
}

fn exec_info(api_version: &str, interactive: bool) -> String {
    serde_json::json!({
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": { "interactive": interactive }
    })
    .to_string()
}

#[test]
fn the_plugin_answers_an_exec_credential_in_the_version_asked_expiring_before_the_token() {
    let c = Cluster::new();
    let token = c.token("ci");
    let view = c.home.json(&["token", "ci", "--format", "json"]);
    let expires = time::OffsetDateTime::parse(
        view["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    for version in [V1, V1BETA1] {
        let out = c.plugin("ci", &exec_info(version, false));
        assert!(out.status.success(), "{}", stderr(&out));
        let cred: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(cred["apiVersion"], version);
        assert_eq!(cred["kind"], "ExecCredential");
        assert_eq!(cred["status"]["token"], token.as_str());
        let until = time::OffsetDateTime::parse(
            cred["status"]["expirationTimestamp"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert!(until < expires, "{until} is before {expires}");
        assert!(
            until >= expires - time::Duration::minutes(16),
            "and not long before"
        );
        assert_eq!(stderr(&out), "", "nothing but the credential");
    }
    let out = c.plugin(
        "ci",
        r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("KUBERNETES_EXEC_INFO") && stderr(&out).contains(V1),
        "{}",
        stderr(&out)
    );
}

#[test]
fn kubectl_runs_the_plugin_once_per_process_and_again_after_expiry_for_a_renewed_token() {
    let c = Cluster::new();
    let config = c.kubeconfig("ci", exec_api_version());
    let first = c.token("ci");

    let out = c.kubectl(&config, &["get", "--raw", "/api"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let api: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(c.runs("ci"), 1);
    let seen = c.seen();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|s| *s == (Some(first.clone()), true)),
        "{seen:?}"
    );
    let before = seen.len();

    // Discovery and the list: several requests, one plugin run.
    let out = c.kubectl(&config, &["get", "namespaces", "-o", "name"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "namespace/default\nnamespace/latchkey\n");
    assert_eq!(c.runs("ci"), 2);
    let seen = c.seen();
    assert!(
        seen.len() >= before + 2,
        "discovery, then the list: {seen:?}"
    );
    assert!(seen.iter().all(|s| *s == (Some(first.clone()), true)));

    // A token that lives 2 s; once it has expired, the next kubectl gets a
    // renewed one from the plugin, and the cluster takes it.
    c.sandbox
        .states()
        .oidc
        .set_access_ttl(time::Duration::seconds(2));
    c.home.ok(&["renew", "ci"]);
    let short = c.token("ci");
    assert_ne!(short, first);
    let refreshes = c.sandbox.states().oidc.refreshes();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert!(!c.sandbox.states().oidc.is_active(&short), "it has expired");
    c.sandbox
        .states()
        .oidc
        .set_access_ttl(time::Duration::hours(1));
    let out = c.kubectl(&config, &["get", "--raw", "/api/v1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(c.runs("ci"), 3);
    assert_eq!(
        c.sandbox.states().oidc.refreshes(),
        refreshes + 1,
        "renewed once"
    );
    let (presented, accepted) = c.seen().pop().unwrap();
    let renewed = presented.unwrap();
    assert!(accepted);
    assert_ne!(renewed, short);
    assert_eq!(renewed, c.token("ci"));
}

#[test]
fn a_profile_that_needs_a_login_fails_without_a_terminal_and_logs_in_with_one() {
    let c = Cluster::new();
    c.add_profile("fresh");
    let config = c.kubeconfig("fresh", exec_api_version());
    let out = c.kubectl(&config, &["get", "--raw", "/api"]);
    assert!(!out.status.success());
    // kubectl tries each request it makes once more with the plugin.
    assert!(c.runs("fresh") >= 1);
    assert!(
        stderr(&out).contains("latchkey login fresh")
            && stderr(&out).contains("getting credentials"),
        "kubectl shows our message, then its own: {}",
        stderr(&out)
    );
    assert!(c.seen().is_empty(), "no request went out without a token");

    // Run by hand as kubectl does when a user is there: the login starts
    // (here the browser is curl), then the credential comes.
    let out = c.plugin("fresh", &exec_info(V1, false));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "");
    let out = c.plugin("fresh", &exec_info(V1, true));
    assert!(out.status.success(), "{}", stderr(&out));
    let cred: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cred["status"]["token"], c.token("fresh").as_str());
    assert!(stderr(&out).contains("needs a login for kubectl"));

    let config = c.kubeconfig("nobody", exec_api_version());
    let out = c.kubectl(&config, &["get", "--raw", "/api"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no profile named 'nobody'")
            && stderr(&out).contains("latchkey profile add nobody"),
        "{}",
        stderr(&out)
    );
}
