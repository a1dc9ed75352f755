//! `docker-credential-latchkey get|store|erase|list|version`: Docker's
//! credential-helper protocol (also podman's, buildah's and skopeo's), so
//! `docker pull` gets a valid token from Latchkey without a copy-paste.
//!
//! The wire contract is `protocols/helpers.md` §1, read from docker/cli and
//! docker-credential-helpers: the request on stdin (a registry URL, or JSON
//! for `store`), the answer on stdout, and errors on stdout too, with exit 1:
//! Docker reads only stdout, and matches "credentials not found in native
//! keychain" exactly. Hints for people go to stderr, which Docker passes to
//! the terminal. Which profile answers, and with what, is
//! `latchkey_core::tool_credentials`.
//!
//! Select it in `~/.docker/config.json` with `"credHelpers": {"ghcr.io":
//! "latchkey"}` (per registry; Docker Hub's key is
//! `https://index.docker.io/v1/`) or `"credsStore": "latchkey"` (all).

use latchkey_core::env::Environment;
use latchkey_core::tool_credentials::{Erased, Stored};
use latchkey_core::vault::Secret;
use latchkey_core::{Error, Latchkey};
use std::io::{Read, Write};
use std::process::ExitCode;

const NAME: &str = "docker-credential-latchkey";
/// The exact text Docker's client compares with (credentials/error.go).
const NOT_FOUND: &str = "credentials not found in native keychain";
const NO_SERVER_URL: &str = "no credentials server URL";
const NO_USERNAME: &str = "no credentials username";

const HELP: &str = "\
docker-credential-latchkey: Docker's credential helper, answered from Latchkey

Usage: docker-credential-latchkey <get|store|erase|list|version>

Docker, podman and skopeo run it; the request comes on stdin:
  get    a registry (e.g. ghcr.io)  → {\"ServerURL\",\"Username\",\"Secret\"}, a valid token
  store  {\"ServerURL\",\"Username\",\"Secret\"} from `docker login` → kept in the keyring
  erase  a registry, from `docker logout` → forgets what `docker login` stored
  list   → {\"registry\": \"username\", ...}

Which profile answers for a registry: one whose `registry` setting names it
(`latchkey profile add NAME ... --registry [USER@]HOST`), else a quay-registry
profile of a Quay server on that host (its password or robot token), else a
quay-direct-oauth profile there (as $oauthtoken).

Select it in ~/.docker/config.json:
  {\"credHelpers\": {\"ghcr.io\": \"latchkey\"}}   one registry (Docker Hub: \"https://index.docker.io/v1/\")
  {\"credsStore\": \"latchkey\"}                   every registry
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let action = match args.as_slice() {
        [a] if a == "--help" || a == "-h" => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        [a] if a == "--version" || a == "-v" || a == "version" => {
            println!("{NAME} (latchkey) {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        [a] if matches!(a.as_str(), "get" | "store" | "erase" | "list") => a.clone(),
        [other] => return fail(&format!("{NAME}: unknown action: {other}")),
        _ => return fail(&format!("Usage: {NAME} <store|get|erase|list|version>")),
    };
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return fail(&format!("cannot read the request from stdin: {e}"));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start: {e}")),
    };
    runtime.block_on(async {
        let env = Environment::from_env();
        let core = match Latchkey::open_for_command(&env).await {
            Ok(core) => core,
            Err(e) => return fail(&one_line(&e)),
        };
        match action.as_str() {
            "get" => get(&core, input.trim()).await,
            "store" => store(&core, &input).await,
            "erase" => erase(&core, input.trim()).await,
            _ => list(&core).await,
        }
    })
}

/// An error as Docker wants it: on stdout, exit 1.
fn fail(message: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{message}");
    let _ = out.flush();
    ExitCode::from(1)
}

fn one_line(e: &Error) -> String {
    e.to_string().replace('\n', " ")
}

fn not_found(server_url: &str) -> ExitCode {
    eprintln!(
        "{NAME}: no Latchkey profile answers for {server_url}; give one the registry \
         (`latchkey profile add NAME --server S --login manual-token --secret-stdin --registry \
         USER@HOST`, or a quay-registry profile on a Quay server of that host)"
    );
    fail(NOT_FOUND)
}

async fn get(core: &Latchkey, server_url: &str) -> ExitCode {
    if server_url.is_empty() {
        return fail(NO_SERVER_URL);
    }
    match core.registry_credential(server_url).await {
        Ok(Some(c)) => {
            let answer = serde_json::json!({
                "ServerURL": server_url,
                "Username": c.username,
                "Secret": c.secret.expose(),
            });
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{answer}");
            let _ = out.flush();
            ExitCode::SUCCESS
        }
        Ok(None) => not_found(server_url),
        Err(e) => fail(&one_line(&e)),
    }
}

/// A field of Docker's JSON; Go's decoder matches names without case.
fn field<'a>(json: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    json.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

async fn store(core: &Latchkey, input: &str) -> ExitCode {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(input) else {
        return fail("the request is not the JSON {\"ServerURL\",\"Username\",\"Secret\"}");
    };
    let server_url = field(&json, "ServerURL").unwrap_or_default().trim();
    if server_url.is_empty() {
        return fail(NO_SERVER_URL);
    }
    let username = field(&json, "Username").unwrap_or_default();
    if username.is_empty() {
        return fail(NO_USERNAME);
    }
    let secret = Secret::new(field(&json, "Secret").unwrap_or_default());
    match core.registry_store(server_url, username, secret).await {
        Ok(Stored::Created(name)) => {
            eprintln!("Latchkey keeps this login in profile {name} (in the keyring)");
            ExitCode::SUCCESS
        }
        Ok(Stored::Updated(_)) => ExitCode::SUCCESS,
        Err(e) => fail(&one_line(&e)),
    }
}

async fn erase(core: &Latchkey, server_url: &str) -> ExitCode {
    if server_url.is_empty() {
        return fail(NO_SERVER_URL);
    }
    match core.registry_erase(server_url).await {
        Ok(Erased::Removed(_)) => ExitCode::SUCCESS,
        Ok(Erased::Kept(name)) => {
            eprintln!(
                "Latchkey keeps profile {name} for {server_url}: you made it in Latchkey; \
                 remove it there (`latchkey profile remove {name}`) to forget it"
            );
            ExitCode::SUCCESS
        }
        Ok(Erased::NotFound) => fail(NOT_FOUND),
        Err(e) => fail(&one_line(&e)),
    }
}

async fn list(core: &Latchkey) -> ExitCode {
    match core.registry_list().await {
        Ok(entries) => {
            let map: serde_json::Map<String, serde_json::Value> = entries
                .into_iter()
                .map(|(host, user)| (host, serde_json::Value::String(user)))
                .collect();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::Value::Object(map));
            let _ = out.flush();
            ExitCode::SUCCESS
        }
        Err(e) => fail(&one_line(&e)),
    }
}
