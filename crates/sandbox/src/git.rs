//! A git server over smart HTTP at `/git`, for trying Latchkey's git
//! credential helper offline: `git http-backend` (the CGI program that ships
//! with git) behind HTTP Basic auth, where the password must be a token the
//! sandbox GitHub would accept now (any user name, as GitHub takes). It holds
//! one repository, `acme/web.git`, with one commit, made on first use in a
//! temporary folder that goes when the sandbox does.
//!
//! Every request is counted with the password it carried, so a test sees
//! what git presented and that it was refused before it had one.

use crate::github;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::path::{Path as FsPath, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The one repository, as its clone URL names it under `/git/`.
pub const REPOSITORY: &str = "acme/web.git";
/// The text of the README in its one commit.
pub const README: &str = "# web\n\nServed by the Latchkey sandbox.\n";

#[derive(Clone)]
pub struct Git {
    github: github::GitHub,
    root: Arc<OnceLock<Result<Root, String>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    /// The Basic password, if the request carried one.
    pub password: Option<String>,
    pub accepted: bool,
}

/// The folder of the repositories, removed when the last handle goes.
struct Root(PathBuf);

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Git {
    pub fn new(github: github::GitHub) -> Self {
        Self {
            github,
            root: Arc::default(),
            seen: Arc::default(),
        }
    }

    /// Every request so far, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("git log").clone()
    }

    fn root(&self) -> Result<&FsPath, String> {
        self.root
            .get_or_init(make_root)
            .as_ref()
            .map(|r| r.0.as_path())
            .map_err(Clone::clone)
    }
}

fn git(dir: &FsPath, args: &[&str], stdin: Option<&[u8]>) -> Result<String, String> {
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Latchkey sandbox")
        .env("GIT_AUTHOR_EMAIL", "sandbox@latchkey.invalid")
        .env("GIT_COMMITTER_NAME", "Latchkey sandbox")
        .env("GIT_COMMITTER_EMAIL", "sandbox@latchkey.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("the sandbox's git server needs git installed: {e}"))?;
    if let Some(input) = stdin {
        use std::io::Write;
        let _ = child.stdin.take().expect("piped").write_all(input);
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A bare `acme/web.git` with one commit on `main`, made with plumbing so no
/// work tree is needed.
fn make_root() -> Result<Root, String> {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let root = Root(std::env::temp_dir().join(format!(
        "latchkey-sandbox-git-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )));
    let repo = root.0.join(REPOSITORY);
    std::fs::create_dir_all(&repo).map_err(|e| e.to_string())?;
    git(&repo, &["init", "--bare", "--quiet"], None)?;
    let blob = git(
        &repo,
        &["hash-object", "-w", "--stdin"],
        Some(README.as_bytes()),
    )?;
    let tree = git(
        &repo,
        &["mktree"],
        Some(format!("100644 blob {blob}\tREADME.md\n").as_bytes()),
    )?;
    let commit = git(&repo, &["commit-tree", &tree, "-m", "First commit"], None)?;
    git(&repo, &["update-ref", "refs/heads/main", &commit], None)?;
    git(&repo, &["symbolic-ref", "HEAD", "refs/heads/main"], None)?;
    Ok(root)
}

pub fn router(state: Git) -> Router {
    Router::new()
        .route("/{*path}", any(serve))
        .with_state(state)
}

fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (_, password) = decoded.split_once(':')?;
    Some(password.to_string())
}

async fn serve(
    State(g): State<Git>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let password = basic_password(&headers);
    let accepted = password.as_deref().is_some_and(|p| g.github.is_valid(p));
    g.seen.lock().expect("git log").push(Seen {
        path: path.clone(),
        password,
        accepted,
    });
    if !accepted {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"Latchkey sandbox git\"",
            )],
            "a token of the sandbox GitHub is the password\n",
        )
            .into_response();
    }
    let root = match g.root() {
        Ok(root) => root.to_path_buf(),
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
    };
    let header_text = |name: HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let cgi = Cgi {
        root,
        method: method.to_string(),
        path_info: format!("/{path}"),
        query: query.unwrap_or_default(),
        content_type: header_text(header::CONTENT_TYPE),
        content_encoding: header_text(header::CONTENT_ENCODING),
        git_protocol: header_text(HeaderName::from_static("git-protocol")),
    };
    match tokio::task::spawn_blocking(move || cgi.run(&body)).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// One request to `git http-backend`, in CGI's terms.
struct Cgi {
    root: PathBuf,
    method: String,
    path_info: String,
    query: String,
    content_type: String,
    content_encoding: String,
    git_protocol: String,
}

impl Cgi {
    fn run(self, body: &[u8]) -> Result<Response, String> {
        use std::io::Write;
        let mut child = Command::new("git")
            .arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GIT_PROJECT_ROOT", &self.root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("REQUEST_METHOD", &self.method)
            .env("PATH_INFO", &self.path_info)
            .env("QUERY_STRING", &self.query)
            .env("CONTENT_TYPE", &self.content_type)
            .env("CONTENT_LENGTH", body.len().to_string())
            .env("HTTP_CONTENT_ENCODING", &self.content_encoding)
            .env("GIT_PROTOCOL", &self.git_protocol)
            .env("REMOTE_USER", "sandbox")
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start git http-backend: {e}"))?;
        let mut stdin = child.stdin.take().expect("piped");
        let input = body.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let _ = writer.join();
        parse_cgi(&out.stdout)
            .ok_or_else(|| format!("git http-backend: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// A CGI answer: header lines (`Status:` among them), a blank line, the body.
fn parse_cgi(out: &[u8]) -> Option<Response> {
    let (head, body) = ["\r\n\r\n", "\n\n"].iter().find_map(|sep| {
        let at = out.windows(sep.len()).position(|w| w == sep.as_bytes())?;
        Some((&out[..at], &out[at + sep.len()..]))
    })?;
    let mut status = StatusCode::OK;
    let mut response = Response::builder();
    for line in String::from_utf8_lossy(head).lines() {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            status = value
                .split(' ')
                .next()?
                .parse::<u16>()
                .ok()?
                .try_into()
                .ok()?;
        } else {
            response = response.header(
                HeaderName::from_bytes(name.as_bytes()).ok()?,
                HeaderValue::from_str(value).ok()?,
            );
        }
    }
    response.status(status).body(body.to_vec().into()).ok()
}
