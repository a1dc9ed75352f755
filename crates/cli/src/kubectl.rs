//! `latchkey kubectl-credential PROFILE`: kubectl's exec credential plugin
//! (protocols/helpers.md §2). kubectl runs it once per process, with
//! `KUBERNETES_EXEC_INFO` naming the API version to answer in and whether a
//! user is there (`spec.interactive`); it reads one `ExecCredential` from
//! stdout and shows our stderr as is.
//!
//! The token is the one `latchkey token` prints, renewed first when due; its
//! `expirationTimestamp` is a little before it expires and no later than when
//! Latchkey would renew it, so a long-running client (k9s, `logs -f`) asks
//! again in time and gets the renewed one. A login that needs the user
//! (browser, password, one-time code) is started only when kubectl says a
//! user is there; otherwise the plugin exits 3 saying what to run, and
//! kubectl reports "getting credentials: exec: executable latchkey failed".

use crate::LoginArgs;
use latchkey_core::tokens;
use latchkey_core::tool_credentials::hand_out_until;
use latchkey_core::{Error, ErrorCode, Latchkey};
use serde_json::{json, Value};
use std::io::IsTerminal;

const V1: &str = "client.authentication.k8s.io/v1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

#[derive(clap::Args)]
#[command(after_help = "\
In ~/.kube/config (kubectl 1.22 or later; use apiVersion \
client.authentication.k8s.io/v1beta1 and no interactiveMode for older ones):

  users:
  - name: prod
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: latchkey
        args: [kubectl-credential, PROFILE]
        interactiveMode: IfAvailable

Exit codes: 2 no such profile; 3 a login is needed and kubectl gave no \
terminal (run `latchkey login PROFILE`); 4 the server refused; 5 unreachable.")]
pub struct KubectlArgs {
    /// The Latchkey profile whose token the cluster accepts
    profile: String,
}

/// What kubectl told the plugin in `KUBERNETES_EXEC_INFO`.
#[derive(Debug, PartialEq)]
struct ExecInfo {
    api_version: &'static str,
    interactive: bool,
}

impl ExecInfo {
    /// Without the variable (a person trying the command, or a kubectl older
    /// than 1.11): v1, interactive when stdin is a terminal.
    fn parse(raw: Option<&str>, stdin_is_terminal: bool) -> Result<Self, Error> {
        let invalid = |m: String| Error::invalid("KUBERNETES_EXEC_INFO", m);
        let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
            return Ok(Self {
                api_version: V1,
                interactive: stdin_is_terminal,
            });
        };
        let info: Value = serde_json::from_str(raw)
            .map_err(|e| invalid(format!("is not the JSON ExecCredential kubectl sends: {e}")))?;
        let api_version = match info["apiVersion"].as_str() {
            Some(V1) => V1,
            Some(V1BETA1) => V1BETA1,
            other => {
                return Err(invalid(format!(
                    "asks for apiVersion {}; Latchkey answers {V1} and {V1BETA1}: set one of them \
                     in the kubeconfig's users[].user.exec.apiVersion",
                    other.map_or("(none)".to_string(), |v| format!("\"{v}\""))
                )))
            }
        };
        // v1 always sends `interactive`; a v1beta1 kubectl older than 1.22
        // does not, and then hands the plugin its own stdin.
        let interactive = info["spec"]["interactive"]
            .as_bool()
            .unwrap_or(stdin_is_terminal);
        Ok(Self {
            api_version,
            interactive,
        })
    }
}

fn needs_user(err: &Error) -> bool {
    matches!(
        err.code(),
        ErrorCode::LoginRequired | ErrorCode::OtpRequired
    )
}

pub async fn run(core: &Latchkey, args: KubectlArgs) -> Result<(), Error> {
    let raw = std::env::var("KUBERNETES_EXEC_INFO").ok();
    let info = ExecInfo::parse(raw.as_deref(), std::io::stdin().is_terminal())?;
    let name = args.profile;
    let (profile, secret) = match core.token(&name).await {
        Ok(found) => found,
        Err(Error::NotFound(message)) => {
            return Err(Error::NotFound(format!(
                "{message}; create the profile the cluster's tokens come from \
                 (`latchkey profile add {name} --server SERVER --login KIND`), or name \
                 an existing one in the kubeconfig's exec args"
            )))
        }
        Err(err) if needs_user(&err) && info.interactive => {
            eprintln!("latchkey: {name} needs a login for kubectl: {err}");
            crate::login::run(core, LoginArgs::interactive(&name)).await?;
            core.token(&name).await?
        }
        Err(err) if needs_user(&err) => {
            return Err(Error::LoginRequired(format!(
                "{err}. kubectl runs this plugin without a terminal (interactiveMode Never, or \
                 no terminal on stdin), so Latchkey does not start a login here: run \
                 `latchkey login {name}`, then the kubectl command again"
            )))
        }
        Err(err) => return Err(err),
    };
    let view = core.profile_view(profile.id).await?;
    let now = core.clock().now();
    let at = |t: Option<String>| t.and_then(|t| tokens::parse_expiry(&t, now).ok());
    let until = hand_out_until(now, at(view.expires_at), at(view.renew_due_at));
    let mut status = json!({ "token": secret.expose() });
    if let Some(until) = until {
        status["expirationTimestamp"] = json!(tokens::rfc3339(until));
    }
    println!(
        "{}",
        json!({ "apiVersion": info.api_version, "kind": "ExecCredential", "status": status })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exec_info_says_the_version_and_whether_a_user_is_there() {
        let v1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#;
        assert_eq!(
            ExecInfo::parse(Some(v1), true).unwrap(),
            ExecInfo {
                api_version: V1,
                interactive: false
            },
            "kubectl's word beats the terminal"
        );
        let old = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{}}"#;
        assert_eq!(
            ExecInfo::parse(Some(old), true).unwrap(),
            ExecInfo {
                api_version: V1BETA1,
                interactive: true
            }
        );
        assert_eq!(
            ExecInfo::parse(None, false).unwrap(),
            ExecInfo {
                api_version: V1,
                interactive: false
            }
        );
        for (bad, says) in [
            (
                r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#,
                "v1alpha1",
            ),
            (r#"{"kind":"ExecCredential"}"#, "(none)"),
            ("not json", "not the JSON"),
        ] {
            let err = ExecInfo::parse(Some(bad), false).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
