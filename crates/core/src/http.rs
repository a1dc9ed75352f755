//! The HTTP client the providers use: one per server, trusting the server's
//! own CA bundle besides the system's, never following redirects (a 302 that
//! carries a token must be read, not followed), with timeouts, and reading
//! no more of an answer than a login server can mean to send
//! ([`MAX_ANSWER_BYTES`]). Transport errors, and answers that are not answers
//! (an HTML error page from a proxy, a body cut short, something that is not
//! JSON), become messages that say what happened and what to do.

use crate::error::Error;
use crate::model::Server;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// The most of an answer Latchkey reads: the largest a login server sends
/// (a JWKS, a discovery document, a user with many organizations) is a few
/// kilobytes; a server that sends more is not one, or is broken.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// How long to wait for a connection, and for a whole answer (a server that
/// trickles its answer is cut off too).
const TIMEOUTS: (Duration, Duration) = (Duration::from_secs(10), Duration::from_secs(30));

tokio::task_local! {
    static SCOPED_TIMEOUTS: (Duration, Duration);
}

/// Runs `work` with other timeouts for the clients it makes: tests shorten
/// them to meet a silent server in seconds instead of half a minute. The app
/// and the CLI never call it.
pub async fn with_timeouts<F: std::future::Future>(
    connect: Duration,
    total: Duration,
    work: F,
) -> F::Output {
    SCOPED_TIMEOUTS.scope((connect, total), work).await
}

fn timeouts() -> (Duration, Duration) {
    SCOPED_TIMEOUTS.try_with(|t| *t).unwrap_or(TIMEOUTS)
}

/// The clients made so far, by CA bundle and timeouts.
type ClientKey = (Option<String>, Duration, Duration);
static CLIENTS: LazyLock<Mutex<HashMap<ClientKey, reqwest::Client>>> =
    LazyLock::new(Mutex::default);

/// A client for one server. Clients are kept and shared by the servers with
/// the same CA bundle: building one loads the system's CA certificates, which
/// costs tens of milliseconds. They keep no idle connection, so each request
/// still opens its own, as a fresh client's would.
pub fn client_for(server: &Server) -> Result<reqwest::Client, Error> {
    let (connect, total) = timeouts();
    let key = (server.ca_pem.clone(), connect, total);
    let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(client) = clients.get(&key) {
        return Ok(client.clone());
    }
    let client = build_client(server, connect, total)?;
    clients.insert(key, client.clone());
    Ok(client)
}

fn build_client(
    server: &Server,
    connect: Duration,
    total: Duration,
) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect)
        .timeout(total)
        .pool_max_idle_per_host(0)
        .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &server.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
            Error::invalid(
                "ca_pem",
                format!(
                    "the CA certificate of server '{}' is not valid PEM: {e}",
                    server.name
                ),
            )
        })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| Error::Internal(format!("cannot build an HTTP client: {e}")))
}

/// What went wrong on the way to a server, in words that say what to do.
pub fn transport_error(server: &Server, err: &reqwest::Error) -> Error {
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        // Some errors already quote their source: say each thing once.
        let text = s.to_string();
        if !detail.contains(&text) {
            detail = format!("{detail}: {text}");
        }
        source = s.source();
    }
    let lower = detail.to_lowercase();
    let hint = if lower.contains("hostname mismatch") || lower.contains("ip address mismatch") {
        format!(
            "the TLS certificate of {} is not for that host name ({detail}); check the URL of server '{}' (the name must be one the certificate lists)",
            server.url, server.name
        )
    } else if lower.contains("certificate has expired")
        || lower.contains("certificate is not yet valid")
    {
        format!(
            "the TLS certificate of {} has expired or is not valid yet ({detail}); check this computer's clock, or ask the server's administrator to renew it",
            server.url
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("ssl") {
        format!(
            "the TLS connection to {} failed ({detail}); if the server uses a private CA, add it to server '{}' (--ca-file)",
            server.url, server.name
        )
    } else if err.is_timeout() {
        format!(
            "{} did not answer in time ({detail}); check the network or try again",
            server.url
        )
    } else if err.is_connect() {
        format!(
            "cannot reach {} ({detail}); check the URL of server '{}' and that the server is up",
            server.url, server.name
        )
    } else if lower.contains("reset")
        || lower.contains("closed")
        || lower.contains("incomplete")
        || lower.contains("broken pipe")
        || lower.contains("unexpected eof")
        || err.is_body()
        || err.is_decode()
    {
        format!(
            "the connection to {} was cut before the answer was complete ({detail}); try again, and if it keeps happening check the network (a proxy or firewall may be cutting it)",
            server.url
        )
    } else {
        format!(
            "cannot reach {} ({detail}); check the URL of server '{}' and that the server is up",
            server.url, server.name
        )
    };
    Error::Unreachable(hint)
}

/// A server's whole answer: status, headers and body text.
pub struct Answer {
    /// Where it came from.
    pub url: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the body is an HTML page (what proxies and crashed servers
    /// answer), not what an API sends.
    pub fn is_html(&self) -> bool {
        is_html(&self.text)
    }
}

/// Whether a body is an HTML page.
pub fn is_html(text: &str) -> bool {
    let t: String = text
        .trim_start()
        .chars()
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    t.starts_with("<!doctype html")
        || t.starts_with("<html")
        || t.starts_with("<head")
        || t.starts_with("<body")
}

/// `502 Bad Gateway`.
pub fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// A URL as messages show it: without its query, which may carry a code.
pub fn shown(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// An error answer that is not the API's own: an HTML error page (a proxy,
/// a crashed server), bare text, or nothing, from `url`.
pub fn not_an_answer(url: &str, status: u16, body: &str) -> Error {
    let what = if status >= 500 {
        "the server (or a proxy in front of it) has a problem; try again later"
    } else {
        "check the URL of the server; if it is right, try again later"
    };
    let printable = excerpt(body);
    let shape = if is_html(body) {
        "an HTML error page".to_string()
    } else if body.trim().is_empty() {
        "an empty page".to_string()
    } else if printable.is_empty() {
        "a page with nothing printable on it".to_string()
    } else {
        format!("\"{printable}\"")
    };
    Error::ServerRefused {
        status: Some(status),
        field: None,
        message: format!(
            "{} answered {} with {shape} instead of an answer: {what}",
            shown(url),
            status_text(status)
        ),
    }
}

/// The start of a text, on one line, for a message.
pub fn excerpt(text: &str) -> String {
    // Control characters become spaces before the words are joined, so that
    // an excerpt is empty when nothing in it is printable (the avassa_answer
    // fuzz target found `"\x7f\t\x7f"` shown as a lone space).
    let printable: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat: String = printable
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    flat
}

/// The words for a body that should have been JSON and is not: cut short,
/// or something else altogether. `what` names it ("the login answer").
pub fn not_json(url: &str, what: &str, err: &serde_json::Error) -> String {
    let how = if err.is_eof() {
        "it is cut short"
    } else {
        "it is not JSON"
    };
    format!(
        "{what} from {} is not what Latchkey expects ({how}: {err}); try again later, and if it keeps happening check the server's URL",
        shown(url)
    )
}

/// Reads a response's body, refusing one larger than [`MAX_ANSWER_BYTES`].
pub async fn read_body(server: &Server, mut res: reqwest::Response) -> Result<Vec<u8>, Error> {
    let too_large = |status: u16| {
        Error::ServerRefused {
        status: Some(status),
        field: None,
        message: format!(
            "the answer of {} is larger than {} KiB, far more than a login server sends: check the URL of server '{}' (it may point at something else than the API)",
            server.url,
            MAX_ANSWER_BYTES / 1024,
            server.name
        ),
    }
    };
    let status = res.status().as_u16();
    if res
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large(status));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| transport_error(server, &e))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large(status));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Sends `request` (built on [`client_for`]`(server)`), asking for JSON, and
/// reads the whole answer (at most [`MAX_ANSWER_BYTES`]); a transport
/// failure says what to check.
pub async fn send(server: &Server, request: reqwest::RequestBuilder) -> Result<Answer, Error> {
    let res = request
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| transport_error(server, &e))?;
    let url = res.url().to_string();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = read_body(server, res).await?;
    Ok(Answer {
        url,
        status,
        headers,
        text: String::from_utf8_lossy(&body).into_owned(),
    })
}
