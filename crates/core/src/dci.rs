//! DCI request signing: dciauth v2, the AWS SigV4 clone (protocols §4.2).
//!
//! [`sign`] is a pure function of the request (method, URL, body bytes), the
//! access key, the secret and a timestamp; the caller passes the timestamp
//! from the injected clock. It signs exactly what goes on the wire: the
//! `Host` header an HTTP client derives from the URL (a non-default port
//! included) and the body bytes as given. The path and the query are signed
//! the way the DCI server reads them back: the path percent-decoded twice
//! (werkzeug decodes it, dciauth unquotes it again), the query decoded as a
//! form (`+` is a space) and re-encoded with `%20`, sorted.
//!
//! [`Latchkey::sign_request`] does the same for a `dci-hmac` profile, with
//! its access key and the secret from the keyring.

use crate::error::{Error, Result};
use crate::http;
use crate::model::{Profile, Server, SummaryItem};
use crate::tokens::rfc3339;
use crate::vault::{Secret, SecretKey, SecretSlot};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};
use url::Url;

/// The signature scheme, and the first word of `Authorization`.
pub const ALGORITHM: &str = "DCI2-HMAC-SHA256";
/// The credential scope's defaults (dciauth's, which the server takes from
/// the client's `Credential` without enforcing them).
pub const REGION: &str = "BHS3";
pub const SERVICE: &str = "api";
pub const REQUEST_TYPE: &str = "dci2_request";
/// The headers signed, in canonical order.
pub const SIGNED_HEADERS: &str = "host;x-dci-date";
/// The header carrying the timestamp.
pub const DATE_HEADER: &str = "X-DCI-Date";
/// How far the server's clock may be from the signature's timestamp.
pub const MAX_SKEW: Duration = Duration::minutes(15);

const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Why a request cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("'{0}' is not an HTTP method; use e.g. GET, POST, PUT or DELETE")]
    Method(String),
    #[error("{0}")]
    Url(String),
    #[error(
        "the query repeats the key '{0}': dciauth cannot sign a repeated key (the client signs the last value, the server checks the first); send each key once"
    )]
    RepeatedKey(String),
    #[error(
        "the {0} is not UTF-8 once percent-decoded, so the server would read it differently from what was signed"
    )]
    NotUtf8(&'static str),
    #[error("{0}")]
    AccessKey(String),
    #[error("the secret key is empty")]
    EmptySecret,
}

impl From<SignError> for Error {
    fn from(err: SignError) -> Self {
        let field = match &err {
            SignError::Method(_) => "method",
            SignError::Url(_) | SignError::RepeatedKey(_) | SignError::NotUtf8(_) => "url",
            SignError::AccessKey(_) => "access_key",
            SignError::EmptySecret => "secret",
        };
        Error::invalid(field, err.to_string())
    }
}

/// Who signs: `remoteci` or `feeder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Remoteci,
    Feeder,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Remoteci => "remoteci",
            ClientType::Feeder => "feeder",
        }
    }
}

/// A DCI access key: `remoteci/<id>`, `feeder/<id>`, or a bare id, which
/// means a remoteci (python-dciclient's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub client_type: ClientType,
    pub client_id: String,
}

impl AccessKey {
    pub fn parse(key: &str) -> Result<Self, SignError> {
        let key = key.trim();
        let (client_type, id) = match key.split_once('/') {
            None => (ClientType::Remoteci, key),
            Some(("remoteci", id)) => (ClientType::Remoteci, id),
            Some(("feeder", id)) => (ClientType::Feeder, id),
            Some(_) => {
                return Err(SignError::AccessKey(
                    "the access key must be remoteci/<id>, feeder/<id>, or a bare remoteci id"
                        .into(),
                ))
            }
        };
        // The server splits the Credential on '/' (6 parts), ends it at the
        // first ',' and the header at spaces.
        if id.is_empty()
            || id
                .chars()
                .any(|c| c == '/' || c == ',' || c.is_whitespace() || c.is_control())
        {
            return Err(SignError::AccessKey(format!(
                "the id in the access key '{key}' must be non-empty, without '/', ',' or spaces"
            )));
        }
        Ok(Self {
            client_type,
            client_id: id.to_string(),
        })
    }

    /// `remoteci/<id>` or `feeder/<id>`, as the `Credential` carries it.
    pub fn credential(&self) -> String {
        format!("{}/{}", self.client_type.as_str(), self.client_id)
    }
}

impl std::fmt::Display for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.credential())
    }
}

/// A request as dciauth signs it, already decoded: what the server reads
/// back from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestParts {
    /// As sent (upper-case for the usual methods).
    pub method: String,
    /// The `Host` header as sent: host, and `:port` when not the default.
    pub host: String,
    /// The path, percent-decoded.
    pub path: String,
    /// The query parameters, decoded, each key once.
    pub params: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RequestParts {
    /// What the server will read from a request for `url`: its `Host`, its
    /// path decoded twice, its query decoded as a form. Repeated query keys
    /// are refused.
    pub fn from_url(method: &str, url: &Url, body: &[u8]) -> Result<Self, SignError> {
        let method = normalize_method(method)?;
        let host = host_header(url)?;
        let once = percent_decode(url.path(), false).ok_or(SignError::NotUtf8("path"))?;
        let path = percent_decode(&once, false).ok_or(SignError::NotUtf8("path"))?;
        let params = query_params(url.query().unwrap_or(""))?;
        Ok(Self {
            method,
            host,
            path,
            params,
            body: body.to_vec(),
        })
    }
}

/// The two headers, and how they came about.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    pub x_dci_date: String,
    pub authorization: String,
    pub canonical_request: String,
    pub string_to_sign: String,
}

/// The dciauth v2 signature of `parts` at `at` (protocols §4.2). Pure: no
/// clock, no I/O.
pub fn sign_parts(
    parts: &RequestParts,
    access_key: &AccessKey,
    secret: &Secret,
    at: OffsetDateTime,
) -> Result<Signature, SignError> {
    if secret.is_empty() {
        return Err(SignError::EmptySecret);
    }
    if parts.method.is_empty() || !parts.method.bytes().all(is_tchar) {
        return Err(SignError::Method(parts.method.clone()));
    }
    if parts.host.is_empty() || parts.host.chars().any(|c| c.is_control() || c == ' ') {
        return Err(SignError::Url(format!(
            "'{}' cannot be a Host header",
            parts.host
        )));
    }
    for (i, (key, _)) in parts.params.iter().enumerate() {
        if parts.params[..i].iter().any(|(k, _)| k == key) {
            return Err(SignError::RepeatedKey(key.clone()));
        }
    }
    let ts = at
        .to_offset(UtcOffset::UTC)
        .format(TIMESTAMP)
        .map_err(|e| SignError::Url(format!("the time cannot be written as a timestamp: {e}")))?;
    let ds = &ts[..8];
    let mut query: Vec<(String, String)> = parts
        .params
        .iter()
        .map(|(k, v)| (quote(k), quote(v)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request = format!(
        "{}\n{}\n{query}\nhost:{}\nx-dci-date:{ts}\n\n{SIGNED_HEADERS}\n{}",
        parts.method,
        parts.path,
        parts.host,
        hex(&Sha256::digest(&parts.body)),
    );
    let scope = format!("{ds}/{REGION}/{SERVICE}/{REQUEST_TYPE}");
    let string_to_sign = format!(
        "{ALGORITHM}\n{ts}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let prefix = ALGORITHM.trim_end_matches("-HMAC-SHA256");
    let mut key = hmac(format!("{prefix}{}", secret.expose()).as_bytes(), ds);
    for part in [REGION, SERVICE, REQUEST_TYPE] {
        key = hmac(&key, part);
    }
    let signature = hex(&hmac(&key, &string_to_sign));
    Ok(Signature {
        authorization: format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
            access_key.credential()
        ),
        x_dci_date: ts,
        canonical_request,
        string_to_sign,
    })
}

/// A signed request, ready to send: the URL to send it to, the headers to
/// add, and a `curl` line that does both. Its `Debug` leaves the signature
/// out: for half an hour it is as good as the key for this request.
#[derive(Clone, Serialize, specta::Type)]
pub struct SignedRequest {
    pub method: String,
    /// The URL exactly as it must be sent (the signed path and query).
    pub url: String,
    /// The `Host` header that was signed; HTTP clients send it from the URL.
    pub host: String,
    /// The value of `X-DCI-Date`.
    pub x_dci_date: String,
    /// The value of `Authorization`.
    pub authorization: String,
    pub canonical_request: String,
    pub string_to_sign: String,
    /// The `Content-Type` to send the body with (none without a body): the
    /// server must read the body as the bytes that were signed, which a form
    /// type would prevent.
    pub content_type: Option<String>,
    /// A shell line that sends the request with curl (the body inline, or
    /// from stdin when [`SignedRequest::curl_reads_stdin`]).
    pub curl: String,
    /// The body bytes that were signed; they must be sent unchanged.
    #[serde(skip)]
    #[specta(skip)]
    pub body: Vec<u8>,
}

/// `Authorization` with its `Signature=` value masked.
fn masked(authorization: &str) -> String {
    match authorization.find("Signature=") {
        Some(i) => format!("{}Signature=…", &authorization[..i]),
        None => "…".into(),
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signature")
            .field("x_dci_date", &self.x_dci_date)
            .field("authorization", &masked(&self.authorization))
            .field("canonical_request", &self.canonical_request)
            .field("string_to_sign", &self.string_to_sign)
            .finish()
    }
}

impl std::fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("host", &self.host)
            .field("x_dci_date", &self.x_dci_date)
            .field("authorization", &masked(&self.authorization))
            .field("content_type", &self.content_type)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl SignedRequest {
    /// The headers to add: `X-DCI-Date` and `Authorization`.
    pub fn headers(&self) -> [(&'static str, &str); 2] {
        [
            (DATE_HEADER, &self.x_dci_date),
            ("Authorization", &self.authorization),
        ]
    }

    /// The curl line, reading the body from `path` (`--data-binary @path`).
    pub fn curl_with_body_file(&self, path: &str) -> String {
        self.curl_line(Some(path))
    }

    fn curl_line(&self, body_file: Option<&str>) -> String {
        let mut line = String::from("curl -g");
        let has_body = !self.body.is_empty();
        if self.method == "HEAD" && !has_body {
            line.push_str(" -I");
        } else if self.method != "GET" || has_body {
            let _ = write!(line, " -X {}", shell_quote(&self.method));
        }
        for (name, value) in self.headers() {
            let _ = write!(line, " -H {}", shell_quote(&format!("{name}: {value}")));
        }
        if let Some(content_type) = &self.content_type {
            let _ = write!(
                line,
                " -H {}",
                shell_quote(&format!("Content-Type: {content_type}"))
            );
        }
        if has_body {
            // --data-raw sends the text as it is (no '@file' reading, no
            // newline stripping); what a shell argument cannot hold comes
            // from a file or stdin, unchanged with --data-binary.
            let arg = match body_file {
                Some(path) => format!(" --data-binary {}", shell_quote(&format!("@{path}"))),
                None => match std::str::from_utf8(&self.body) {
                    Ok(text) if !text.contains('\0') => {
                        format!(" --data-raw {}", shell_quote(text))
                    }
                    _ => " --data-binary @-".to_string(),
                },
            };
            line.push_str(&arg);
        }
        let _ = write!(line, " {}", shell_quote(&self.url));
        line
    }

    /// Whether [`SignedRequest::curl`] reads the body from stdin (a body a
    /// shell argument cannot hold: not UTF-8, or with a NUL byte).
    pub fn curl_reads_stdin(&self) -> bool {
        !self.body.is_empty() && std::str::from_utf8(&self.body).map_or(true, |t| t.contains('\0'))
    }
}

/// The `Content-Type` to send a body with: JSON when it parses as JSON (what
/// DCI's endpoints read), else raw bytes. Never a form type: the server
/// reads a form body as empty and the signature of its bytes fails.
fn content_type_for(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        None
    } else if serde_json::from_slice::<Value>(body).is_ok() {
        Some("application/json".into())
    } else {
        Some("application/octet-stream".into())
    }
}

/// Signs `method url` with `body` for `access_key` at `at` (the injected
/// clock's now): the headers, the canonical request and string to sign for
/// display, and a curl line. The URL must be absolute (http or https).
pub fn sign(
    method: &str,
    url: &str,
    body: &[u8],
    access_key: &str,
    secret: &Secret,
    at: OffsetDateTime,
) -> Result<SignedRequest, SignError> {
    let mut url = Url::parse(url.trim())
        .map_err(|e| SignError::Url(format!("'{url}' is not an absolute URL ({e})")))?;
    url.set_fragment(None);
    sign_url(method, &url, body, access_key, secret, at)
}

/// [`sign`] for a parsed URL.
pub fn sign_url(
    method: &str,
    url: &Url,
    body: &[u8],
    access_key: &str,
    secret: &Secret,
    at: OffsetDateTime,
) -> Result<SignedRequest, SignError> {
    let access_key = AccessKey::parse(access_key)?;
    let parts = RequestParts::from_url(method, url, body)?;
    let mut wire = url.clone();
    wire.set_fragment(None);
    let sig = sign_parts(&parts, &access_key, secret, at)?;
    let mut signed = SignedRequest {
        method: parts.method,
        url: wire.to_string(),
        host: parts.host,
        x_dci_date: sig.x_dci_date,
        authorization: sig.authorization,
        canonical_request: sig.canonical_request,
        string_to_sign: sig.string_to_sign,
        content_type: content_type_for(&parts.body),
        curl: String::new(),
        body: parts.body,
    };
    signed.curl = signed.curl_line(None);
    Ok(signed)
}

/// A URL from parts, the query encoded as a form (as python-dciclient's
/// `requests` does: `name%3Afoo+bar`). `base` is `scheme://host[:port]`.
pub fn url_from_parts(
    base: &str,
    path: &str,
    params: &[(String, String)],
) -> Result<Url, SignError> {
    let mut url = Url::parse(base)
        .map_err(|e| SignError::Url(format!("'{base}' is not an absolute URL ({e})")))?;
    url.set_path(path);
    if params.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut()
            .clear()
            .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    Ok(url)
}

fn normalize_method(method: &str) -> Result<String, SignError> {
    let m = method.trim();
    if m.is_empty() || !m.bytes().all(is_tchar) {
        return Err(SignError::Method(method.to_string()));
    }
    Ok(m.to_ascii_uppercase())
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `Host` header HTTP clients (reqwest, curl) send for `url`: the
/// default port is left out, any other port kept.
fn host_header(url: &Url) -> Result<String, SignError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SignError::Url(format!(
            "DCI speaks http or https, not {}",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SignError::Url(
            "remove the user:password@ from the URL: DCI requests are signed instead".into(),
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| SignError::Url(format!("'{url}' has no host")))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// Python's `urllib.parse.quote(s, safe="_.-~")`: only `A-Za-z0-9_.-~` stay.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Percent-decodes `s` (`+` as a space when `form`); `None` when the result
/// is not UTF-8. A `%` not followed by two hex digits stays, as in Python.
fn percent_decode(s: &str, form: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hi = (bytes[i + 1] as char).to_digit(16);
                let lo = (bytes[i + 2] as char).to_digit(16);
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if form => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The query as werkzeug reads it (`&`-separated, empty pieces skipped, a
/// piece without `=` is a key with an empty value), refusing repeated keys.
fn query_params(query: &str) -> Result<Vec<(String, String)>, SignError> {
    let mut params: Vec<(String, String)> = Vec::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        let k = percent_decode(k, true).ok_or(SignError::NotUtf8("query"))?;
        let v = percent_decode(v, true).ok_or(SignError::NotUtf8("query"))?;
        if params.iter().any(|(existing, _)| *existing == k) {
            return Err(SignError::RepeatedKey(k));
        }
        params.push((k, v));
    }
    Ok(params)
}

fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(msg.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// POSIX shell single quoting.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@=,".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `url` as given when it is absolute, else a path on `server` (with or
/// without its leading `/`): `/api/v1/jobs` on `https://dci.example/` is
/// `https://dci.example/api/v1/jobs`.
pub(crate) fn resolve_url(server: &Server, url: &str) -> String {
    let url = url.trim();
    if url.contains("://") {
        return url.to_string();
    }
    let base = server.url.trim_end_matches('/');
    match url.strip_prefix('/') {
        Some(path) => format!("{base}/{path}"),
        None => format!("{base}/{url}"),
    }
}

/// A `dci-hmac` profile's access key (from its settings) and secret key
/// (from the keyring).
pub async fn profile_key(
    vault: crate::vault::ProfileVault<'_>,
    profile: &Profile,
) -> Result<(String, Secret)> {
    let access_key = profile
        .settings
        .access_key
        .clone()
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| {
            Error::invalid(
                "access_key",
                format!(
                    "'{}' has no access key: set it to remoteci/<id> or feeder/<id>",
                    profile.name
                ),
            )
        })?;
    let secret = vault
        .get(SecretKey::new(profile.id, SecretSlot::SigningKey))
        .await?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::LoginRequired(format!(
                "the secret key of '{}' is not in the keyring: enter it again in the profile",
                profile.name
            ))
        })?;
    Ok((access_key, secret))
}

/// The refusal of a login for `dci-hmac`: there is nothing to log in.
pub fn nothing_to_log_in(profile: &str) -> Error {
    Error::Invalid {
        field: None,
        message: format!(
            "'{profile}' has nothing to log in: DCI signs each request with the access key and secret key; use \"Sign a request\" or `latchkey sign {profile} METHOD URL`"
        ),
    }
}

// ---- identity ----

/// What a signed request came back with.
pub(crate) struct Answer {
    /// Where the request went.
    pub(crate) url: String,
    pub(crate) status: u16,
    /// The server's `Date`, to measure the clock skew by.
    pub(crate) date: Option<OffsetDateTime>,
    pub(crate) body: String,
}

async fn signed_get(
    server: &Server,
    path: &str,
    access_key: &str,
    secret: &Secret,
    now: OffsetDateTime,
) -> Result<Answer> {
    let url = format!("{}{path}", server.url.trim_end_matches('/'));
    let signed = sign("GET", &url, b"", access_key, secret, now)?;
    let client = http::client_for(server)?;
    let mut req = client.get(&signed.url);
    for (name, value) in signed.headers() {
        req = req.header(name, value);
    }
    let answer = http::send(server, req).await?;
    Ok(Answer {
        date: answer.header("date").and_then(parse_http_date),
        url: signed.url,
        status: answer.status,
        body: answer.text,
    })
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the `Date` format.
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(s.trim(), &fmt)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// `16 min`, `1 h 5 min`, `42 s`, `3 min 7 s`.
fn human(d: Duration) -> String {
    let secs = d.whole_seconds().unsigned_abs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// "ahead of" / "behind", by how much, from the server's `Date`.
fn skew_words(server: OffsetDateTime, here: OffsetDateTime) -> String {
    let skew = here - server;
    let direction = if skew.is_negative() {
        "behind"
    } else {
        "ahead of"
    };
    format!(
        "this computer's clock is {} {direction} the server's (server {}, here {})",
        human(skew),
        rfc3339(server),
        rfc3339(here)
    )
}

/// The server's `message` from `{"status_code","message","payload"}`.
fn message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| {
            let t = body.trim();
            if t.is_empty() {
                "no message".into()
            } else {
                t.chars().take(300).collect()
            }
        })
}

/// A refusal in words that say what to do (protocols §5 item 19).
pub(crate) fn refused(answer: &Answer, access_key: &str, url: &str, now: OffsetDateTime) -> Error {
    let own_words = serde_json::from_str::<Value>(&answer.body)
        .ok()
        .is_some_and(|v| v.get("message").is_some());
    if !own_words && (answer.status >= 500 || http::is_html(&answer.body)) {
        // A proxy's page, or a crashed server's: not DCI's.
        return http::not_an_answer(url, answer.status, &answer.body);
    }
    let msg = message(&answer.body);
    let lower = msg.to_lowercase();
    let (field, text) = if lower.contains("signature is expired") {
        let measured = match answer.date {
            Some(date) => skew_words(date, now),
            None => "the server sent no Date header to measure it by".into(),
        };
        (
            None,
            format!(
                "your clock is off by more than 15 minutes: {measured}; correct the system time (e.g. turn on NTP) and try again (server: {msg})"
            ),
        )
    } else if lower.contains("signature is invalid") {
        (
            Some("secret"),
            format!(
                "the server does not accept the signature of {access_key}: the secret key is probably wrong; enter it again in the profile (server: {msg})"
            ),
        )
    } else if lower.contains("remoteci not found") || lower.contains("feeder not found") {
        (
            Some("access_key"),
            format!(
                "the server knows no {access_key}: check the id in the access key, and that the remoteci or feeder was not deleted (server: {msg})"
            ),
        )
    } else if lower.contains("identity does not exist") {
        (
            Some("access_key"),
            format!(
                "the server accepts only remoteci/<id> or feeder/<id> access keys, not {access_key} (server: {msg})"
            ),
        )
    } else if lower.contains("bad or incomplete headers") {
        (
            None,
            format!(
                "the server could not read the X-DCI-Date and Authorization headers: a proxy between here and {url} may drop them (server: {msg})"
            ),
        )
    } else if answer.status == 412 {
        (
            None,
            format!(
                "the team of {access_key} is not active: ask a DCI administrator to reactivate it (server: {msg})"
            ),
        )
    } else if answer.status == 404 {
        (
            Some("url"),
            format!(
                "{url} does not exist: the server's URL must be the DCI API's base, e.g. https://api.distributed-ci.io, without /api/v1 (server: {msg})"
            ),
        )
    } else {
        (
            None,
            format!("the server answered {} to {url}: {msg}", answer.status),
        )
    };
    Error::ServerRefused {
        status: Some(answer.status),
        field,
        message: text,
    }
}

fn item(name: &str, value: impl Into<String>) -> SummaryItem {
    SummaryItem {
        name: name.into(),
        value: value.into(),
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Who `access_key` is on `server`, as summary lines; an error when the
/// server refuses the signature. The identity of a remoteci or feeder has
/// no name (§4.1): its own record, which the key may read, has.
pub async fn identity(
    server: &Server,
    access_key: &str,
    secret: &Secret,
    now: OffsetDateTime,
) -> Result<Vec<SummaryItem>> {
    let key = AccessKey::parse(access_key)?;
    let credential = key.credential();
    let answer = signed_get(server, "/api/v1/identity", &credential, secret, now).await?;
    if answer.status != 200 {
        return Err(refused(&answer, &credential, &answer.url, now));
    }
    let id = read_identity(&answer)?;
    let mut items = vec![
        item("access key", credential.clone()),
        item("type", key.client_type.as_str()),
    ];
    let mut name = text(&id, "name");
    let mut extra = Vec::new();
    if name.is_none() {
        let (collection, one) = match key.client_type {
            ClientType::Remoteci => ("remotecis", "remoteci"),
            ClientType::Feeder => ("feeders", "feeder"),
        };
        let path = format!("/api/v1/{collection}/{}", key.client_id);
        // Best effort: the identity already proved the key good.
        if let Ok(a) = signed_get(server, &path, &credential, secret, now).await {
            if a.status == 200 {
                if let Ok(r) = serde_json::from_str::<Value>(&a.body) {
                    let r = r.get(one).cloned().unwrap_or(Value::Null);
                    name = text(&r, "name");
                    if let Some(state) = text(&r, "state") {
                        extra.push(item("state", state));
                    }
                }
            }
        }
    }
    items.extend(identity_lines(&id, name, extra, answer.date, now));
    Ok(items)
}

/// The answer of `GET /api/v1/identity`: its `identity` object, or why the
/// server is not a DCI server.
pub(crate) fn read_identity(answer: &Answer) -> Result<Value> {
    let not_dci = |why: String| Error::ServerRefused {
        status: Some(200),
        field: Some("url"),
        message: format!(
            "{} answered, but not as a DCI server ({why}): check the server's URL",
            answer.url
        ),
    };
    let v: Value = serde_json::from_str(&answer.body).map_err(|e| {
        not_dci(if e.is_eof() {
            format!("its answer is cut short: {e}")
        } else {
            format!("its answer is not JSON: {e}")
        })
    })?;
    match v.get("identity") {
        Some(id @ Value::Object(_)) => Ok(id.clone()),
        _ => Err(not_dci("no \"identity\" in the answer".into())),
    }
}

/// The summary lines of an identity after the key and its type: name, full
/// name, e-mail, teams, what else was learnt, and the clock skew if large.
pub(crate) fn identity_lines(
    id: &Value,
    name: Option<String>,
    extra: Vec<SummaryItem>,
    date: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Vec<SummaryItem> {
    let mut items = Vec::new();
    if let Some(n) = name {
        items.push(item("name", n));
    }
    for (key, label) in [("fullname", "full name"), ("email", "email")] {
        if let Some(value) = text(id, key) {
            items.push(item(label, value));
        }
    }
    if let Some(Value::Object(teams)) = id.get("teams") {
        let names: Vec<String> = teams
            .iter()
            .map(|(team_id, t)| {
                text(t, "team_name")
                    .or_else(|| text(t, "name"))
                    .unwrap_or_else(|| team_id.clone())
            })
            .collect();
        if !names.is_empty() {
            items.push(item("teams", names.join(", ")));
        }
    }
    items.extend(extra);
    if let Some(date) = date {
        if (now - date).abs() >= Duration::minutes(5) {
            items.push(item(
                "clock",
                format!(
                    "{}; signatures fail past {} min",
                    skew_words(date, now),
                    MAX_SKEW.whole_minutes()
                ),
            ));
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const SECRET: &str = "Mdsb2u4pJGlx5fjH7ae8kA0wq3YHZzP7cBV9nLRe1tWxSyU6Ik0vZoQ3m2aDgX8F";
    const KEY: &str = "remoteci/3a8e6e8a-6b0e-4f5e-9b9f-2b0c6f1f7d11";
    const AT: OffsetDateTime = datetime!(2025-01-02 03:04:05 UTC);

    #[test]
    fn debug_output_never_shows_the_signature() {
        let signed = sign(
            "POST",
            "https://dci.example/api/v1/jobs",
            b"{}",
            KEY,
            &Secret::new(SECRET),
            AT,
        )
        .unwrap();
        let sig = signed.authorization.rsplit("Signature=").next().unwrap();
        assert_eq!(sig.len(), 64, "{}", signed.authorization);
        let shown = format!("{signed:?}");
        assert!(!shown.contains(sig), "{shown}");
        assert!(shown.contains("Signature=…"), "{shown}");
    }

    #[test]
    fn quote_is_pythons_with_safe_underscore_dot_dash_tilde() {
        assert_eq!(quote("name:foo bar"), "name%3Afoo%20bar");
        assert_eq!(quote("a/b+c*d'e"), "a%2Fb%2Bc%2Ad%27e");
        assert_eq!(quote("_.-~Az09"), "_.-~Az09");
        assert_eq!(quote("é日"), "%C3%A9%E6%97%A5");
    }

    #[test]
    fn the_query_is_read_as_a_form_and_repeated_keys_are_refused() {
        assert_eq!(
            query_params("where=name%3Afoo+bar&flag&&=v").unwrap(),
            vec![
                ("where".into(), "name:foo bar".into()),
                ("flag".into(), String::new()),
                (String::new(), "v".into()),
            ]
        );
        assert_eq!(
            query_params("a=1&b=2&%61=3"),
            Err(SignError::RepeatedKey("a".into()))
        );
        assert_eq!(query_params("a=%ff"), Err(SignError::NotUtf8("query")));
        assert_eq!(percent_decode("100%", false).unwrap(), "100%");
        assert_eq!(percent_decode("%zz%4", false).unwrap(), "%zz%4");
    }

    #[test]
    fn the_host_keeps_a_non_default_port_only() {
        let host = |u: &str| host_header(&Url::parse(u).unwrap()).unwrap();
        assert_eq!(
            host("https://dci.example.com:8443/x"),
            "dci.example.com:8443"
        );
        assert_eq!(host("https://dci.example.com:443/x"), "dci.example.com");
        assert_eq!(host("http://Dci.Example.com:80/x"), "dci.example.com");
        assert_eq!(host("http://[::1]:8080/"), "[::1]:8080");
    }

    #[test]
    fn the_path_is_signed_as_the_server_decodes_it_twice() {
        let url = Url::parse("https://h/api/v1/a b/%2541/ça").unwrap();
        let parts = RequestParts::from_url("get", &url, b"").unwrap();
        assert_eq!(parts.method, "GET");
        assert_eq!(parts.path, "/api/v1/a b/A/ça");
    }

    #[test]
    fn access_keys_default_to_remoteci() {
        assert_eq!(
            AccessKey::parse("abc").unwrap().credential(),
            "remoteci/abc"
        );
        assert_eq!(
            AccessKey::parse("feeder/abc").unwrap().credential(),
            "feeder/abc"
        );
        assert!(AccessKey::parse("user/abc").is_err());
        assert!(AccessKey::parse("remoteci/").is_err());
        assert!(AccessKey::parse("remoteci/a,b").is_err());
    }

    #[test]
    fn the_secret_appears_in_no_error_and_no_debug_output() {
        let secret = Secret::new(SECRET);
        let signed = sign(
            "GET",
            "https://api.distributed-ci.io/api/v1/identity",
            b"",
            KEY,
            &secret,
            AT,
        )
        .unwrap();
        assert!(!format!("{signed:?}").contains(SECRET));
        assert!(!signed.curl.contains(SECRET));
        for err in [
            sign("G T", "https://h/", b"", KEY, &secret, AT).unwrap_err(),
            sign("GET", "h/x", b"", KEY, &secret, AT).unwrap_err(),
            sign("GET", "https://h/?a=1&a=2", b"", KEY, &secret, AT).unwrap_err(),
            sign("GET", "https://h/", b"", "robot/x", &secret, AT).unwrap_err(),
        ] {
            assert!(!err.to_string().contains(SECRET));
            assert!(!format!("{err:?}").contains(SECRET));
        }
        assert_eq!(
            sign("GET", "https://h/", b"", KEY, &Secret::new(""), AT).unwrap_err(),
            SignError::EmptySecret
        );
    }

    #[test]
    fn the_curl_line_sends_the_signed_body_and_url() {
        let signed = sign(
            "post",
            "https://dci.example.com:8443/api/v1/jobs?q=it's",
            b"{\"a\": 1}",
            KEY,
            &Secret::new(SECRET),
            AT,
        )
        .unwrap();
        assert_eq!(
            signed.curl,
            format!(
                "curl -g -X POST -H 'X-DCI-Date: 20250102T030405Z' -H 'Authorization: {}' -H 'Content-Type: application/json' --data-raw '{{\"a\": 1}}' 'https://dci.example.com:8443/api/v1/jobs?q=it%27s'",
                signed.authorization
            )
        );
        assert!(signed
            .curl_with_body_file("/tmp/b.json")
            .contains(" --data-binary @/tmp/b.json "));
        assert!(!signed.curl_reads_stdin());

        // Text that starts with '@' is sent as text, not read from a file.
        let at = sign("PUT", "https://h/x", b"@etc", KEY, &Secret::new(SECRET), AT).unwrap();
        assert_eq!(at.content_type.as_deref(), Some("application/octet-stream"));
        assert!(at.curl.contains(" --data-raw @etc "), "{}", at.curl);
        let binary = sign(
            "PUT",
            "https://h/x",
            b"\xff\0",
            KEY,
            &Secret::new(SECRET),
            AT,
        )
        .unwrap();
        assert!(binary.curl_reads_stdin());
        assert!(
            binary.curl.contains(" --data-binary @- "),
            "{}",
            binary.curl
        );
        let get = sign("GET", "https://h/x", b"", KEY, &Secret::new(SECRET), AT).unwrap();
        assert_eq!(get.content_type, None);
        assert!(get.curl.starts_with("curl -g -H "), "{}", get.curl);
    }

    #[test]
    fn http_dates_and_skews_read_as_people_say_them() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(datetime!(1994-11-06 08:49:37 UTC))
        );
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(human(Duration::minutes(16)), "16 min");
        assert_eq!(human(Duration::seconds(-961)), "16 min 1 s");
        assert_eq!(human(Duration::minutes(65)), "1 h 5 min");
        assert_eq!(human(Duration::seconds(42)), "42 s");
        let server = datetime!(2026-06-01 09:00 UTC);
        assert!(skew_words(server, server - Duration::minutes(16))
            .starts_with("this computer's clock is 16 min behind the server's"));
        assert!(skew_words(server, server + Duration::minutes(20))
            .starts_with("this computer's clock is 20 min ahead of the server's"));
    }
}
