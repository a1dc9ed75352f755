//! A record of every secret the sandbox hands out (access, refresh and ID
//! tokens, JWTs, authorization and device codes, session cookies and CSRF
//! tokens) and of the credentials it knows (its users' passwords, client
//! secrets, robot, app and DCI keys), for the leak scan
//! (`scripts/leak-scan.sh`), which searches Latchkey's files for each.
//!
//! Off unless `LATCHKEY_SANDBOX_RECORD` names a file when the sandbox starts:
//! then every answer is read on its way out and what it carries is appended
//! to that file, one secret per line. These are the sandbox's own test
//! credentials, written only where the test asked.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The environment variable that names the record file.
pub const ENV: &str = "LATCHKEY_SANDBOX_RECORD";

/// JSON keys, query and fragment parameters whose values are secrets.
const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "jwt",
    "code",
    "device_code",
    "csrf_token",
    "client_secret",
    "password",
];

/// Shorter values are not worth a search (and would match by chance).
const MIN_LEN: usize = 8;

/// The credentials the sandbox knows from the start.
fn known_credentials() -> Vec<String> {
    let mut all: Vec<String> = [
        crate::avassa::ALICE_PASSWORD,
        crate::avassa::BOB_PASSWORD,
        crate::dci::REMOTECI_SECRET,
        crate::dci::FEEDER_SECRET,
        crate::github::CLIENT_SECRET,
        crate::github::APP_CLIENT_SECRET,
        crate::kontinuous::AUTH_SECRET,
        crate::oidc::CONFIDENTIAL_CLIENT_SECRET,
        crate::oidc::KONTINUOUS_CLIENT_SECRET,
        crate::quay::ALICE_PASSWORD,
        crate::quay::BOB_PASSWORD,
        crate::quay::DAVE_PASSWORD,
        crate::quay::ROBOT_TOKEN,
        crate::quay::APP_TOKEN,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.push(String::from_utf8_lossy(crate::avassa::BOB_TOTP_SEED).into_owned());
    all
}

#[derive(Clone)]
struct Recorder {
    file: Arc<Mutex<std::fs::File>>,
}

impl Recorder {
    fn write(&self, secrets: &[String]) {
        let mut file = self.file.lock().expect("record lock");
        for s in secrets.iter().filter(|s| s.len() >= MIN_LEN) {
            let _ = writeln!(file, "{s}");
        }
    }
}

/// `router` with the recorder in front when [`ENV`] names a file.
pub fn layer(router: Router) -> Router {
    let Some(path) = std::env::var_os(ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
    else {
        return router;
    };
    let file = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("latchkey-sandbox: cannot open {}: {e}", path.display());
            return router;
        }
    };
    let recorder = Recorder {
        file: Arc::new(Mutex::new(file)),
    };
    recorder.write(&known_credentials());
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let recorder = recorder.clone();
            async move { record(recorder, req, next).await }
        },
    ))
}

async fn record(recorder: Recorder, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let mut found = Vec::new();
    if let Some(location) = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some((_, rest)) = location.split_once('?') {
            params(rest.replace('#', "&").as_str(), &mut found);
        } else if let Some((_, fragment)) = location.split_once('#') {
            params(fragment, &mut found);
        }
    }
    for cookie in parts.headers.get_all(header::SET_COOKIE) {
        if let Some((_, value)) = cookie
            .to_str()
            .ok()
            .and_then(|c| c.split(';').next())
            .and_then(|c| c.split_once('='))
        {
            found.push(value.trim().to_string());
        }
    }
    if let Some(csrf) = parts
        .headers
        .get("x-next-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        found.push(csrf.to_string());
    }
    if let Ok(json) = serde_json::from_slice::<Value>(&bytes) {
        walk(&json, &mut found);
    } else if let Ok(text) = std::str::from_utf8(&bytes) {
        // GitHub answers a token as a form when asked to.
        if text.contains("access_token=") {
            params(text, &mut found);
        }
    }
    if !found.is_empty() {
        recorder.write(&found);
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn params(text: &str, found: &mut Vec<String>) {
    for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
        if SECRET_NAMES.contains(&k.as_ref()) {
            found.push(v.into_owned());
        }
    }
}

fn walk(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    // A JSON "code" is an error's name (Quay's "UNAUTHORIZED");
                    // authorization codes travel in a Location only.
                    Value::String(s) if SECRET_NAMES.contains(&k.as_str()) && k != "code" => {
                        found.push(s.clone())
                    }
                    _ => walk(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
        _ => {}
    }
}
