//! `latchkey git-credential get|store|erase`: a git credential helper
//! (protocols/helpers.md §3), for `credential.helper = !latchkey git-credential`.
//!
//! `get` reads git's `key=value` lines and, for an HTTP(S) host that one of
//! Latchkey's GitHub profiles logs into (or the profile named with
//! `--profile`), answers `username`, `password` (the token, renewed first
//! when due) and `password_expiry_utc`. Nothing else ever reaches stdout: git
//! stops reading a helper at the first line without `=`. Messages go to
//! stderr; with nothing to say for a host the answer is empty, so git asks
//! its next helper.
//!
//! `store` and `erase` change nothing: the token is Latchkey's to renew, and
//! git sends `erase` after any 401 (a transient one too), which must not log
//! the user out (cli/cli#3891, GCM#694). Other operations are ignored, as
//! git asks of helpers.

use latchkey_core::{tokens, Error, Latchkey};
use std::io::{BufRead, Write};

/// git's limit on one line, newline included.
const MAX_LINE: usize = 65535;

#[derive(clap::Args)]
#[command(after_help = "\
Set it up for GitHub (the empty line stops other helpers from also answering \
and from storing copies of the token):

  git config --global credential.https://github.com.helper ''
  git config --global --add credential.https://github.com.helper '!latchkey git-credential'

For any other host, name the profile: '!latchkey git-credential --profile NAME'.")]
pub struct GitArgs {
    /// Answer with this profile's token whatever the host
    #[arg(long)]
    profile: Option<String>,
    /// The user name to send with the token (default: the one git already has,
    /// else x-access-token, which GitHub takes with any token)
    #[arg(long)]
    username: Option<String>,
    /// get, store or erase (anything else is ignored, as git asks)
    operation: String,
}

/// The attributes git sent, up to the blank line or the end.
fn read_request(input: impl BufRead) -> Result<Vec<(String, String)>, Error> {
    let mut attributes = Vec::new();
    for line in input.split(b'\n') {
        let line =
            line.map_err(|e| Error::invalid("stdin", format!("cannot read git's request: {e}")))?;
        if line.len() >= MAX_LINE {
            return Err(Error::invalid(
                "stdin",
                "a line of git's request is longer than git allows",
            ));
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once('=') {
            attributes.push((key.to_string(), value.to_string()));
        }
    }
    Ok(attributes)
}

fn attribute<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

pub async fn run(core: &Latchkey, args: GitArgs) -> Result<(), Error> {
    // git writes the whole request before it reads; read it all whatever the
    // operation, so git never meets a closed pipe.
    let request = read_request(std::io::stdin().lock())?;
    if args.operation != "get" {
        return Ok(());
    }
    let protocol = attribute(&request, "protocol").unwrap_or_default();
    let host = attribute(&request, "host").unwrap_or_default();
    let name = match &args.profile {
        Some(name) => name.clone(),
        None => {
            if !matches!(protocol, "https" | "http") || host.is_empty() {
                return Ok(());
            }
            match core.git_profile(host).await? {
                Some(profile) => profile.name,
                None => {
                    eprintln!(
                        "latchkey: no GitHub profile logs into {host}; add one \
                         (`latchkey server add NAME --kind github --url {protocol}://{host}`, then \
                         `latchkey profile add NAME --server NAME --login github-device`), or name \
                         a profile with `latchkey git-credential --profile NAME`"
                    );
                    return Ok(());
                }
            }
        }
    };
    let (profile, secret) = core.token(&name).await?;
    let username = args
        .username
        .or_else(|| attribute(&request, "username").map(str::to_string))
        .unwrap_or_else(|| "x-access-token".to_string());
    let token = secret.expose();
    if token.contains(['\n', '\r', '\0']) || username.contains(['\n', '\r', '\0']) {
        return Err(Error::invalid(
            "token",
            format!("{name}'s token has a line break, which git cannot take"),
        ));
    }
    let mut answer = format!("username={username}\npassword={token}\n");
    let view = core.profile_view(profile.id).await?;
    let now = core.clock().now();
    if let Some(at) = view
        .expires_at
        .and_then(|t| tokens::parse_expiry(&t, now).ok())
    {
        answer.push_str(&format!("password_expiry_utc={}\n", at.unix_timestamp()));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(answer.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::Internal(format!("cannot write to git: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_requests_end_at_a_blank_line_and_lines_without_equals_are_skipped() {
        let input = b"protocol=https\nhost=github.com\nwwwauth[]=Basic realm=\"GitHub\"\nnoise\nusername=me\r\n\nprotocol=ignored\n";
        let request = read_request(&input[..]).unwrap();
        assert_eq!(attribute(&request, "protocol"), Some("https"));
        assert_eq!(attribute(&request, "host"), Some("github.com"));
        assert_eq!(attribute(&request, "username"), Some("me"));
        assert_eq!(
            attribute(&request, "wwwauth[]"),
            Some("Basic realm=\"GitHub\"")
        );
        assert_eq!(request.len(), 4);
        let long = vec![b'a'; MAX_LINE + 1];
        assert!(read_request(&long[..]).is_err());
    }
}
