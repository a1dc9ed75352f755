//! `latchkey git-credential`, driven as git drives a helper (protocols/
//! helpers.md §3: `key=value` lines on stdin up to a blank line, the answer
//! on stdout), then the real git cloning over smart HTTP from the sandbox's
//! git server, which takes the sandbox GitHub's tokens as Basic passwords.

mod common;

use common::{feed, login_github_device, stderr, stdout, Served, LATCHKEY};
use latchkey_sandbox::{git, github};

/// A GitHub server `gh` and `me`, a github-device profile of the sandbox's
/// GitHub App (whose tokens expire), logged in.
fn world() -> Served {
    let w = Served::new();
    w.add_server("gh", "github");
    w.add_profile("me");
    login_github_device(&w.home, w.sandbox.github(), "me");
    w
}

/// What the git tests do with a [`world`].
impl Served {
    fn add_profile(&self, name: &str) {
        self.home.ok(&[
            "profile",
            "add",
            name,
            "--server",
            "gh",
            "--login",
            "github-device",
            "--client-id",
            github::APP_CLIENT_ID,
        ]);
    }

    fn token(&self, profile: &str) -> String {
        stdout(&self.home.ok(&["token", profile]))
            .trim()
            .to_string()
    }

    /// The helper as git runs it: `latchkey git-credential ARGS… OP`.
    fn helper(&self, args: &[&str], request: &str) -> std::process::Output {
        feed(
            self.home.command(LATCHKEY).arg("git-credential").args(args),
            request.as_bytes(),
        )
    }

    fn get(&self, request: &str) -> std::process::Output {
        self.helper(&["get"], request)
    }

    fn request(&self) -> String {
        format!(
            "protocol=http\nhost={}\nwwwauth[]=Basic realm=\"x\"\n\n",
            self.host
        )
    }
}

/// Every line a helper prints must be `key=value`: git stops at the first
/// that is not.
fn attributes(out: &std::process::Output) -> Vec<(String, String)> {
    stdout(out)
        .lines()
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not key=value: {l:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn get_answers_a_github_host_with_the_token_and_its_expiry_and_nothing_else() {
    let w = world();
    let out = w.get(&w.request());
    assert!(out.status.success(), "{}", stderr(&out));
    let token = w.token("me");
    let answer = attributes(&out);
    assert_eq!(answer[0], ("username".into(), "x-access-token".into()));
    assert_eq!(answer[1], ("password".into(), token.clone()));
    assert_eq!(answer[2].0, "password_expiry_utc");
    let expiry: i64 = answer[2].1.parse().unwrap();
    let in_8h = time::OffsetDateTime::now_utc().unix_timestamp() + github::ACCESS_TOKEN_TTL_SECS;
    assert!(
        (in_8h - 120..=in_8h).contains(&expiry),
        "{expiry} vs {in_8h}"
    );
    assert_eq!(answer.len(), 3);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));

    // The user name git already has is kept; gist.HOST is the same GitHub.
    let out = w.get(&format!(
        "protocol=http\nhost=gist.{}\nusername=octocat\n",
        w.host
    ));
    assert_eq!(attributes(&out)[0], ("username".into(), "octocat".into()));
    assert_eq!(attributes(&out)[1].1, token);

    // Another host: nothing on stdout (git asks its next helper), and what
    // to create on stderr.
    let out = w.get("protocol=https\nhost=gitlab.example.com\n\n");
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("no GitHub profile logs into gitlab.example.com")
            && stderr(&out).contains("--profile"),
        "{}",
        stderr(&out)
    );
    // Not HTTP (a client certificate, say): not ours, silently.
    let out = w.get(&format!("protocol=cert\nhost={}\n\n", w.host));
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("", ""));
    // Any host, when the helper line names the profile.
    let out = w.helper(
        &["--profile", "me", "--username", "oauth2", "get"],
        "protocol=https\nhost=gitlab.example.com\n\n",
    );
    assert_eq!(
        attributes(&out)[..2],
        [
            ("username".to_string(), "oauth2".to_string()),
            ("password".to_string(), token.clone())
        ]
    );
    assert!(!stderr(&out).contains(&token));
}

#[test]
fn store_erase_and_unknown_operations_change_nothing_and_say_nothing() {
    let w = world();
    let token = w.token("me");
    let full = format!(
        "protocol=http\nhost={}\nusername=x-access-token\npassword={token}\n\n",
        w.host
    );
    for op in ["store", "erase", "capability", "frobnicate"] {
        let out = w.helper(&[op], &full);
        assert!(out.status.success(), "{op}: {}", stderr(&out));
        assert_eq!(
            (stdout(&out).as_str(), stderr(&out).as_str()),
            ("", ""),
            "{op}"
        );
    }
    assert_eq!(w.token("me"), token, "erase after a 401 logs nobody out");
    assert!(w.sandbox.github().is_valid(&token));
}

#[test]
fn two_profiles_for_one_host_and_a_profile_not_logged_in_say_what_to_do() {
    let w = world();
    w.add_profile("work");
    let out = w.get(&w.request());
    assert_eq!(stdout(&out), "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("profiles me, work all log into")
            && stderr(&out).contains("git-credential --profile me"),
        "{}",
        stderr(&out)
    );
    let out = w.helper(&["--profile", "work", "get"], &w.request());
    assert_eq!(stdout(&out), "", "no token, no answer");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("latchkey login work"),
        "{}",
        stderr(&out)
    );
    let out = w.helper(&["--profile", "nobody", "get"], &w.request());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no profile named 'nobody'"));
}

/// git with no configuration but ours: a temporary HOME, no system file.
fn git_command(w: &Served) -> std::process::Command {
    let mut cmd = w.home.command("git");
    cmd.env("HOME", w.home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS");
    cmd
}

#[test]
fn git_clones_over_http_with_the_token_from_the_helper() {
    let w = world();
    let url = format!("{}/{}", w.sandbox.url_of("git"), git::REPOSITORY);
    let clone = |helper: &str, dir: &str| {
        git_command(&w)
            .args(["-c", "credential.helper="])
            .args(["-c", &format!("credential.helper={helper}")])
            .args(["clone", "--quiet", &url])
            .arg(w.home.path().join(dir))
            .output()
            .unwrap()
    };
    // Without Latchkey, git has nothing to send and may not prompt.
    let out = clone("", "without");
    assert!(!out.status.success());
    let refused = w.sandbox.git().seen();
    assert!(!refused.is_empty() && refused.iter().all(|s| !s.accepted && s.password.is_none()));

    let out = clone(&format!("!'{LATCHKEY}' git-credential"), "web");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let readme = std::fs::read_to_string(w.home.path().join("web/README.md")).unwrap();
    assert_eq!(readme, git::README);
    let token = w.token("me");
    let seen = w.sandbox.git().seen();
    let accepted: Vec<_> = seen.iter().filter(|s| s.accepted).collect();
    assert!(!accepted.is_empty());
    assert!(accepted
        .iter()
        .all(|s| s.password.as_deref() == Some(token.as_str())));
    // git stored nothing of it anywhere: no helper but ours kept a copy.
    for leftover in [".git-credentials", ".config/git/credentials"] {
        assert!(!w.home.path().join(leftover).exists(), "{leftover}");
    }
    let config = std::fs::read_to_string(w.home.path().join("web/.git/config")).unwrap();
    assert!(
        !config.contains(&token),
        "the token is not in the clone's config"
    );
}
