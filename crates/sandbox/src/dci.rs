//! DCI's control server as protocols §4 documents it, as far as request
//! signing goes: the dispatch on the first word of `Authorization`, a dciauth
//! v2 verifier (the AWS SigV4 clone, §4.2) with its ±15 minute window, the
//! error bodies `{"status_code","message","payload":{}}` with their statuses,
//! `GET /api/v1/identity`, `GET /api/v1/remotecis/<id>` and
//! `GET /api/v1/feeders/<id>`. Every other path under `/api/v1/` verifies the
//! signature and then echoes what it verified (method, decoded path, query,
//! body), so a test can send any signed request and see it accepted.
//!
//! The verifier is written from §4 and shares no code with Latchkey's signer
//! (`latchkey_core::dci`): it reads the request the way the Flask server does
//! (werkzeug decodes the path, dciauth unquotes it again; the query is a form
//! whose first value of a key wins; a form or multipart body reads as empty)
//! and re-signs it with what the client's `Credential` claims. Because the
//! sandbox is mounted under `/dci`, the path it checks is the one the client
//! sent, prefix included.
//!
//! Every response carries a `Date` from the sandbox's clock, which is what a
//! client measures its clock skew by.

// Helpers return the error `Response` for the handler to send as is.
#![allow(clippy::result_large_err)]

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use latchkey_core::clock::SharedClock;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// The team every sandbox remoteci and feeder belongs to.
pub const TEAM_ID: &str = "8d6c3f2e-1b7a-4c59-9e0d-5f4a3b2c1d10";
pub const TEAM_NAME: &str = "sandbox-lab";

/// The remoteci the sandbox knows (the one `--seed` configures). Test values.
pub const REMOTECI_ID: &str = "3a8e6e8a-6b0e-4f5e-9b9f-2b0c6f1f7d11";
pub const REMOTECI_ACCESS_KEY: &str = "remoteci/3a8e6e8a-6b0e-4f5e-9b9f-2b0c6f1f7d11";
pub const REMOTECI_NAME: &str = "sandbox-remoteci";
pub const REMOTECI_SECRET: &str = "sandbox-dci-secret-not-a-real-one";

/// The feeder the sandbox knows. Test values.
pub const FEEDER_ID: &str = "c0f1e2d3-4b5a-4978-8a6b-5c4d3e2f1a09";
pub const FEEDER_ACCESS_KEY: &str = "feeder/c0f1e2d3-4b5a-4978-8a6b-5c4d3e2f1a09";
pub const FEEDER_NAME: &str = "sandbox-feeder";
pub const FEEDER_SECRET: &str = "sandbox-dci-feeder-secret-not-a-real-one";

/// How far a signature's timestamp may be from the server's clock.
pub const MAX_SKEW: Duration = Duration::minutes(15);

/// The two kinds of signing identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Remoteci,
    Feeder,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Remoteci => "remoteci",
            ClientKind::Feeder => "feeder",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "remoteci" => Some(ClientKind::Remoteci),
            "feeder" => Some(ClientKind::Feeder),
            _ => None,
        }
    }
}

#[derive(Clone)]
struct Client {
    kind: ClientKind,
    id: String,
    name: String,
    secret: String,
}

/// A request the verifier accepted, as it read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// `remoteci/<id>` or `feeder/<id>`.
    pub client: String,
    pub method: String,
    /// The path as signed: decoded twice, the `/dci` prefix included.
    pub path: String,
    /// The query as the server reads it: decoded, the first value of a key.
    pub params: Vec<(String, String)>,
    pub body: Vec<u8>,
}

struct Inner {
    clients: Vec<Client>,
    team_active: bool,
    accepted: Vec<Accepted>,
    refused: Vec<(u16, String)>,
}

/// The DCI part of a running sandbox; clones share the state, so a test
/// keeps one to add keys, deactivate the team or read what was accepted.
#[derive(Clone)]
pub struct Dci {
    inner: Arc<Mutex<Inner>>,
    clock: SharedClock,
}

impl Dci {
    pub fn new(clock: SharedClock) -> Self {
        let dci = Self {
            inner: Arc::new(Mutex::new(Inner {
                clients: Vec::new(),
                team_active: true,
                accepted: Vec::new(),
                refused: Vec::new(),
            })),
            clock,
        };
        dci.add_client(
            ClientKind::Remoteci,
            REMOTECI_ID,
            REMOTECI_NAME,
            REMOTECI_SECRET,
        );
        dci.add_client(ClientKind::Feeder, FEEDER_ID, FEEDER_NAME, FEEDER_SECRET);
        dci
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("dci sandbox lock")
    }

    /// The sandbox's "now".
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Adds (or replaces) a remoteci or feeder with its API secret.
    pub fn add_client(&self, kind: ClientKind, id: &str, name: &str, secret: &str) {
        let mut s = self.lock();
        s.clients.retain(|c| !(c.kind == kind && c.id == id));
        s.clients.push(Client {
            kind,
            id: id.to_string(),
            name: name.to_string(),
            secret: secret.to_string(),
        });
    }

    /// Deactivates (or reactivates) the team: signed requests then get 412.
    pub fn set_team_active(&self, active: bool) {
        self.lock().team_active = active;
    }

    /// The requests accepted so far, oldest first.
    pub fn accepted(&self) -> Vec<Accepted> {
        self.lock().accepted.clone()
    }

    /// The refusals so far: status and message.
    pub fn refused(&self) -> Vec<(u16, String)> {
        self.lock().refused.clone()
    }

    fn client(&self, kind: ClientKind, id: &str) -> Option<Client> {
        self.lock()
            .clients
            .iter()
            .find(|c| c.kind == kind && c.id == id)
            .cloned()
    }

    /// Authenticates a request as the server's `login_required` does; the
    /// error response is the server's.
    fn authenticate(&self, req: &Incoming) -> Result<(Client, Accepted), Response> {
        let result = self.check(req);
        let mut s = self.lock();
        match &result {
            Ok((_, accepted)) => s.accepted.push(accepted.clone()),
            Err(e) => s.refused.push((e.status, e.message.clone())),
        }
        drop(s);
        result.map_err(DciError::into_response)
    }

    fn check(&self, req: &Incoming) -> Result<(Client, Accepted), DciError> {
        let Some(authorization) = req.header("authorization") else {
            return Err(DciError::new(401, "Authorization header missing"));
        };
        let scheme = authorization.split(' ').next().unwrap_or_default();
        match scheme {
            "DCI-HMAC-SHA256" | "DCI2-HMAC-SHA256" | "AWS4-HMAC-SHA256" => {}
            "Basic" => return Err(basic_refusal(&authorization)),
            "Bearer" => return Err(DciError::new(
                401,
                "JWT token decode error: the sandbox knows no SSO realm; sign the request instead",
            )),
            other => {
                return Err(DciError::new(
                    401,
                    &format!("Authorization scheme {other} unknown"),
                ))
            }
        }
        let claim = Claim::parse(req, &authorization)?;
        let Some(kind) = ClientKind::parse(&claim.client_type) else {
            return Err(DciError::new(401, "identity does not exists."));
        };
        let Some(client) = self.client(kind, &claim.client_id) else {
            return Err(DciError::new(404, &format!("{} not found", kind.as_str())));
        };
        let ts = parse_timestamp(&claim.timestamp).ok_or_else(|| {
            DciError::internal(&format!(
                "ValueError: time data '{}' does not match format '%Y%m%dT%H%M%SZ'",
                claim.timestamp
            ))
        })?;
        if (self.now() - ts).abs() > MAX_SKEW {
            return Err(DciError::new(
                400,
                "HmacMechanism failed: signature is expired",
            ));
        }
        let read = req.as_server_reads_it();
        let expected = signature(&claim, &read, &client.secret);
        let matches: bool = expected
            .as_bytes()
            .iter()
            .zip(claim.signature.as_bytes())
            .fold(expected.len() == claim.signature.len(), |ok, (a, b)| {
                ok & (a == b)
            });
        if !matches {
            return Err(DciError::new(
                400,
                "HmacMechanism failed: signature is invalid",
            ));
        }
        if !self.lock().team_active {
            return Err(DciError::new(412, &format!("team {TEAM_NAME} not active")));
        }
        let accepted = Accepted {
            client: format!("{}/{}", kind.as_str(), client.id),
            method: read.method,
            path: read.endpoint,
            params: read.params,
            body: read.data,
        };
        Ok((client, accepted))
    }
}

/// A refusal in the server's shape.
struct DciError {
    status: u16,
    message: String,
}

impl DciError {
    fn new(status: u16, message: &str) -> Self {
        Self {
            status,
            message: message.to_string(),
        }
    }

    /// What an uncaught exception in the server turns into.
    fn internal(detail: &str) -> Self {
        Self::new(500, &format!("Internal Server Error ({detail})"))
    }

    fn into_response(self) -> Response {
        error(self.status, &self.message)
    }
}

/// `{"status_code","message","payload":{}}` with that status.
fn error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        Json(json!({"status_code": status, "message": message, "payload": {}})),
    )
        .into_response()
}

/// Basic auth: the sandbox has no users, so every name is unknown.
fn basic_refusal(authorization: &str) -> DciError {
    let user = authorization
        .split(' ')
        .nth(1)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| s.split(':').next().unwrap_or_default().to_string())
        .unwrap_or_default();
    DciError::new(401, &format!("User {user} does not exists."))
}

/// The request as it came in.
struct Incoming {
    method: Method,
    /// The path and query as sent, still percent-encoded.
    raw_path: String,
    raw_query: String,
    /// Names lower-cased; repeated headers joined with `,` as WSGI does.
    headers: Vec<(String, String)>,
    body: Bytes,
}

/// The request as the server hands it to dciauth.
struct ServerView {
    method: String,
    endpoint: String,
    params: Vec<(String, String)>,
    data: Vec<u8>,
}

impl Incoming {
    fn new(method: Method, uri: &axum::http::Uri, headers: &HeaderMap, body: Bytes) -> Self {
        let mut joined: Vec<(String, String)> = Vec::new();
        for (name, value) in headers {
            let value: String = value.as_bytes().iter().map(|&b| b as char).collect();
            match joined.iter_mut().find(|(n, _)| n == name.as_str()) {
                Some((_, v)) => {
                    v.push(',');
                    v.push_str(&value);
                }
                None => joined.push((name.as_str().to_string(), value)),
            }
        }
        Self {
            method,
            raw_path: uri.path().to_string(),
            raw_query: uri.query().unwrap_or_default().to_string(),
            headers: joined,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// `request.method`, `unquote(request.path)`,
    /// `request.args.to_dict(flat=True)`, `request.data`.
    fn as_server_reads_it(&self) -> ServerView {
        // werkzeug: the WSGI server percent-decodes the path, werkzeug reads
        // it as UTF-8 (replacing what is not); dciauth then unquotes again.
        let once =
            String::from_utf8_lossy(&unpercent(self.raw_path.as_bytes(), false)).into_owned();
        let endpoint = String::from_utf8_lossy(&unpercent(once.as_bytes(), false)).into_owned();
        let mut params: Vec<(String, String)> = Vec::new();
        for piece in self.raw_query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = match piece.find('=') {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                None => (piece, ""),
            };
            let k = String::from_utf8_lossy(&unpercent(k.as_bytes(), true)).into_owned();
            let v = String::from_utf8_lossy(&unpercent(v.as_bytes(), true)).into_owned();
            // `to_dict(flat=True)` keeps the first value of a repeated key.
            if !params.iter().any(|(existing, _)| *existing == k) {
                params.push((k, v));
            }
        }
        // werkzeug parses form and multipart bodies into `request.form`,
        // leaving `request.data` empty: that is what the server hashes.
        let mimetype = self
            .header("content-type")
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let data = if mimetype == "application/x-www-form-urlencoded"
            || mimetype == "multipart/form-data"
        {
            Vec::new()
        } else {
            self.body.to_vec()
        };
        ServerView {
            method: self.method.as_str().to_ascii_uppercase(),
            endpoint,
            params,
            data,
        }
    }
}

/// What the client's headers claim, read as dciauth's `parse_headers` reads
/// them.
struct Claim {
    algorithm: String,
    client_type: String,
    client_id: String,
    datestamp: String,
    region: String,
    service: String,
    request_type: String,
    /// (name, value) of each header named in SignedHeaders, in its order.
    canonical_headers: Vec<(String, String)>,
    signed_headers: String,
    timestamp: String,
    signature: String,
}

impl Claim {
    fn parse(req: &Incoming, authorization: &str) -> Result<Self, DciError> {
        let bad = || DciError::new(400, "HmacMechanism failed: bad or incomplete headers.");
        // X-Amz-Date wins over X-DCI-Date when both are there.
        let timestamp = req
            .header("x-amz-date")
            .or_else(|| req.header("x-dci-date"))
            .ok_or_else(bad)?;
        let words: Vec<&str> = authorization.split(' ').collect();
        let [algorithm, credential, signed_headers, signature] = words[..] else {
            return Err(DciError::internal(&format!(
                "ValueError: the Authorization header has {} space-separated words, not 4",
                words.len()
            )));
        };
        let credential: Vec<&str> = between(credential, "Credential=", ",").split('/').collect();
        let [client_type, client_id, datestamp, region, service, request_type] = credential[..]
        else {
            return Err(bad());
        };
        if request_type != "dci2_request" && request_type != "aws4_request" {
            return Err(bad());
        }
        let signed_headers = between(signed_headers, "SignedHeaders=", ",");
        let mut canonical_headers = Vec::new();
        for name in signed_headers.split(';') {
            let value = req.header(name).ok_or_else(|| {
                DciError::internal(&format!("KeyError: '{name}' is signed but not sent"))
            })?;
            canonical_headers.push((name.to_string(), value));
        }
        Ok(Self {
            algorithm: algorithm.to_string(),
            client_type: client_type.to_string(),
            client_id: client_id.to_string(),
            datestamp: datestamp.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            request_type: request_type.to_string(),
            canonical_headers,
            signed_headers: signed_headers.to_string(),
            timestamp,
            signature: signature.replace("Signature=", ""),
        })
    }
}

/// The text between `first` and the next `last` after it; empty when either
/// is missing.
fn between<'a>(s: &'a str, first: &str, last: &str) -> &'a str {
    let Some(start) = s.find(first).map(|i| i + first.len()) else {
        return "";
    };
    match s[start..].find(last) {
        Some(end) => &s[start..start + end],
        None => "",
    }
}

/// `YYYYMMDDTHHMMSSZ`, UTC.
fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// The signature the server computes for `read` under `claim` (§4.2).
fn signature(claim: &Claim, read: &ServerView, secret: &str) -> String {
    let mut query: Vec<(String, String)> = read
        .params
        .iter()
        .map(|(k, v)| (py_quote(k), py_quote(v)))
        .collect();
    query.sort();
    let query: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut headers = String::new();
    for (name, value) in &claim.canonical_headers {
        let _ = writeln!(headers, "{name}:{value}");
    }
    let canonical = [
        read.method.as_str(),
        read.endpoint.as_str(),
        &query.join("&"),
        &headers,
        &claim.signed_headers,
        &to_hex(&Sha256::digest(&read.data)),
    ]
    .join("\n");
    let scope = format!(
        "{}/{}/{}/{}",
        claim.datestamp, claim.region, claim.service, claim.request_type
    );
    let to_sign = format!(
        "{}\n{}\n{scope}\n{}",
        claim.algorithm,
        claim.timestamp,
        to_hex(&Sha256::digest(canonical.as_bytes()))
    );
    let version = claim.algorithm.replace("-HMAC-SHA256", "");
    let mut key = mac(
        format!("{version}{secret}").as_bytes(),
        claim.datestamp.as_bytes(),
    );
    for part in [&claim.region, &claim.service, &claim.request_type] {
        key = mac(&key, part.as_bytes());
    }
    to_hex(&mac(&key, to_sign.as_bytes()))
}

fn mac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `urllib.parse.quote(s, safe="_.-~")` over the UTF-8 bytes.
fn py_quote(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Percent-decoding to bytes; an escape that is not `%` and two hex digits
/// stays as it is. With `plus`, `+` is a space (form encoding).
fn unpercent(s: &[u8], plus: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// IMF-fixdate, the `Date` header's format.
pub fn http_date(t: OffsetDateTime) -> String {
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

pub fn router(state: Dci) -> Router {
    Router::new()
        .route("/", get(|| async { "dci" }))
        .route("/api/v1/identity", get(identity))
        .route("/api/v1/remotecis/{id}", get(remoteci))
        .route("/api/v1/feeders/{id}", get(feeder))
        .route("/api/v1/{*rest}", any(echo))
        .fallback(|| async { error(404, "The requested URL was not found on the server.") })
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            with_date,
        ))
        .with_state(state)
}

/// Every answer says what time the server thinks it is.
async fn with_date(State(dci): State<Dci>, mut res: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&http_date(dci.now())) {
        res.headers_mut().insert(header::DATE, v);
    }
    res
}

fn team() -> Value {
    let mut teams = Map::new();
    teams.insert(
        TEAM_ID.into(),
        json!({"team_name": TEAM_NAME, "state": "active", "has_pre_release_access": false}),
    );
    Value::Object(teams)
}

async fn identity(
    State(dci): State<Dci>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = match dci.authenticate(&Incoming::new(method, &uri, &headers, body)) {
        Ok((c, _)) => c,
        Err(r) => return r,
    };
    // A remoteci or feeder identity has no name, email or etag: those are a
    // user's (§4.1).
    Json(json!({"identity": {
        "id": client.id,
        "etag": null,
        "name": null,
        "fullname": null,
        "email": null,
        "timezone": null,
        "teams": team(),
    }}))
    .into_response()
}

fn record(client: &Client) -> Value {
    json!({
        "id": client.id,
        "name": client.name,
        "state": "active",
        "team_id": TEAM_ID,
        "etag": to_hex(&Sha256::digest(client.id.as_bytes()))[..32].to_string(),
        "created_at": "2025-01-02T03:04:05.000000",
        "updated_at": "2025-01-02T03:04:05.000000",
        "data": {},
    })
}

async fn lookup(
    dci: Dci,
    kind: ClientKind,
    id: String,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = dci.authenticate(&Incoming::new(method, &uri, &headers, body)) {
        return r;
    }
    let Some(found) = dci.client(kind, &id) else {
        let resource = match kind {
            ClientKind::Remoteci => "Remoteci",
            ClientKind::Feeder => "Feeder",
        };
        return error(404, &format!("{resource} \"{id}\" not found."));
    };
    let mut out = Map::new();
    out.insert(kind.as_str().into(), record(&found));
    Json(Value::Object(out)).into_response()
}

async fn remoteci(
    State(dci): State<Dci>,
    Path(id): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    lookup(dci, ClientKind::Remoteci, id, method, uri, headers, body).await
}

async fn feeder(
    State(dci): State<Dci>,
    Path(id): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    lookup(dci, ClientKind::Feeder, id, method, uri, headers, body).await
}

/// Any other `/api/v1/...`: verified, then echoed.
async fn echo(
    State(dci): State<Dci>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let accepted = match dci.authenticate(&Incoming::new(method, &uri, &headers, body)) {
        Ok((_, accepted)) => accepted,
        Err(r) => return r,
    };
    let params: Map<String, Value> = accepted
        .params
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Json(json!({
        "client": accepted.client,
        "method": accepted.method,
        "path": accepted.path,
        "params": params,
        "body": String::from_utf8_lossy(&accepted.body),
        "body_sha256": to_hex(&Sha256::digest(&accepted.body)),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::clock::ManualClock;
    use time::macros::datetime;

    /// The inputs of protocols §4.3's vectors.
    const VECTOR_SECRET: &str = "Mdsb2u4pJGlx5fjH7ae8kA0wq3YHZzP7cBV9nLRe1tWxSyU6Ik0vZoQ3m2aDgX8F";
    const VECTOR_AT: OffsetDateTime = datetime!(2025-01-02 03:04:05 UTC);
    const VECTOR_CREDENTIAL: &str =
        "remoteci/3a8e6e8a-6b0e-4f5e-9b9f-2b0c6f1f7d11/20250102/BHS3/api/dci2_request";

    fn incoming(method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Incoming {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Incoming::new(
            Method::from_bytes(method.as_bytes()).unwrap(),
            &uri.parse().unwrap(),
            &map,
            Bytes::copy_from_slice(body),
        )
    }

    fn vector_server(at: OffsetDateTime) -> Dci {
        let dci = Dci::new(Arc::new(ManualClock::new(at)));
        dci.add_client(ClientKind::Remoteci, REMOTECI_ID, "vectors", VECTOR_SECRET);
        dci
    }

    fn status_of(result: Result<(Client, Accepted), DciError>) -> (u16, String) {
        match result {
            Ok(_) => (200, String::new()),
            Err(e) => (e.status, e.message),
        }
    }

    /// (method, wire path and query, host, body, the vector's signature)
    const VECTORS: &[(&str, &str, &str, &str, &str)] = &[
        (
            "GET",
            "/api/v1/identity",
            "api.distributed-ci.io",
            "",
            "46259b543dfc9e663e9426b6f21049def8cceab47124f12dcb4f22e2e5d35760",
        ),
        (
            "GET",
            "/api/v1/jobs?where=name%3Afoo+bar&limit=10&offset=0&sort=-created_at",
            "api.distributed-ci.io",
            "",
            "8bcd919c8eefbdec7421b8db14281a1a5c359f0e59fb721ffd902a5ed2684c48",
        ),
        (
            "POST",
            "/api/v1/jobs/schedule",
            "dci.example.com:8443",
            r#"{"topic_id": "0b8f4a52-7a5c-4bb6-9c39-9f6d3a5d2c10", "components_ids": []}"#,
            "2b4564ddda19298bb1f2ea2c1b86bd50df0cf3c1f7d5efee1cf8bb1816e67d30",
        ),
    ];

    fn vector_authorization(signature: &str) -> String {
        format!(
            "DCI2-HMAC-SHA256 Credential={VECTOR_CREDENTIAL}, SignedHeaders=host;x-dci-date, Signature={signature}"
        )
    }

    #[test]
    fn the_published_vectors_verify_inside_the_window_and_expire_outside_it() {
        for (method, uri, host, body, sig) in VECTORS {
            let auth = vector_authorization(sig);
            let req = incoming(
                method,
                uri,
                &[
                    ("host", host),
                    ("x-dci-date", "20250102T030405Z"),
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                body.as_bytes(),
            );
            let at_5 = VECTOR_AT + Duration::seconds(4 * 60 + 55);
            let at_16 = VECTOR_AT + Duration::seconds(16 * 60 + 1);
            assert_eq!(status_of(vector_server(at_5).check(&req)).0, 200, "{uri}");
            assert_eq!(
                status_of(vector_server(VECTOR_AT - Duration::minutes(14)).check(&req)).0,
                200,
                "a client ahead by 14 min is still in the window"
            );
            assert_eq!(
                status_of(vector_server(at_16).check(&req)),
                (400, "HmacMechanism failed: signature is expired".into()),
                "{uri}"
            );

            let tampered = incoming(
                method,
                &format!("{uri}x"),
                &[
                    ("host", host),
                    ("x-dci-date", "20250102T030405Z"),
                    ("authorization", &auth),
                ],
                body.as_bytes(),
            );
            assert_eq!(
                status_of(vector_server(at_5).check(&tampered)),
                (400, "HmacMechanism failed: signature is invalid".into())
            );
        }
    }

    #[test]
    fn the_server_reads_the_path_twice_decoded_and_the_first_of_repeated_keys() {
        let req = incoming(
            "get",
            "/dci/a%2520b/%C3%A7?k=1&k=2&x+y=%3A&flag",
            &[],
            b"body",
        );
        let read = req.as_server_reads_it();
        assert_eq!(read.method, "GET");
        assert_eq!(read.endpoint, "/dci/a b/ç");
        assert_eq!(
            read.params,
            vec![
                ("k".to_string(), "1".to_string()),
                ("x y".into(), ":".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(read.data, b"body");
        let form = incoming(
            "POST",
            "/",
            &[("content-type", "application/x-www-form-urlencoded")],
            b"a=1",
        );
        assert!(
            form.as_server_reads_it().data.is_empty(),
            "werkzeug takes a form body into request.form"
        );
        assert_eq!(py_quote("name:foo bar/é~"), "name%3Afoo%20bar%2F%C3%A9~");
        assert_eq!(unpercent(b"100%", false), b"100%");
        assert_eq!(unpercent(b"%4g%41", false), b"%4gA");
    }

    #[test]
    fn authorization_is_split_like_dciauth_parse_headers() {
        let dci = vector_server(VECTOR_AT);
        let with = |auth: &str, date: Option<&str>| {
            let mut headers = vec![("host", "h"), ("authorization", auth)];
            if let Some(d) = date {
                headers.push(("x-dci-date", d));
            }
            status_of(dci.check(&incoming("GET", "/", &headers, b"")))
        };
        let ok_date = Some("20250102T030405Z");
        assert_eq!(
            with(&vector_authorization("00"), None).0,
            400,
            "no date header"
        );
        assert_eq!(
            with(&vector_authorization("00").replace(", ", ",  "), ok_date).0,
            500,
            "five words: Python's unpacking fails"
        );
        assert_eq!(
            with(
                &vector_authorization("00").replace("/dci2_request", ""),
                ok_date
            ),
            (
                400,
                "HmacMechanism failed: bad or incomplete headers.".into()
            )
        );
        assert_eq!(
            with(
                &vector_authorization("00").replace("dci2_request", "s3_request"),
                ok_date
            )
            .0,
            400
        );
        assert_eq!(
            with(
                &vector_authorization("00").replace("host;x-dci-date", "host;x-dci-date;x-other"),
                ok_date
            )
            .0,
            500,
            "a signed header that is not sent"
        );
        assert_eq!(
            with(
                &vector_authorization("00").replace("remoteci/", "user/"),
                ok_date
            ),
            (401, "identity does not exists.".into())
        );
        assert_eq!(
            with(
                &vector_authorization("00").replace("remoteci/3a", "remoteci/ff"),
                ok_date
            ),
            (404, "remoteci not found".into())
        );
        assert_eq!(
            with(
                &vector_authorization("00").replace("remoteci/3a", "feeder/ff"),
                ok_date
            ),
            (404, "feeder not found".into())
        );
        assert_eq!(
            with(&vector_authorization("00"), Some("2025-01-02")).0,
            500,
            "strptime fails"
        );
        assert_eq!(
            with(&vector_authorization("00"), ok_date),
            (400, "HmacMechanism failed: signature is invalid".into())
        );
        assert_eq!(
            with("Token abc", ok_date),
            (401, "Authorization scheme Token unknown".into())
        );
        assert_eq!(
            with("Basic Ym9iOnB3", ok_date),
            (401, "User bob does not exists.".into())
        );
    }

    // ---- over HTTP ----

    /// Signs like a client, with the sandbox's own re-signing (the vectors
    /// above anchor it; Latchkey's signer is checked against it elsewhere).
    fn sign(
        method: &str,
        url: &str,
        body: &[u8],
        access_key: &str,
        secret: &str,
        at: OffsetDateTime,
    ) -> (String, String) {
        let url = url::Url::parse(url).unwrap();
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap()),
            None => url.host_str().unwrap().to_string(),
        };
        let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
        let ts = at.format(&fmt).unwrap();
        let (client_type, client_id) = access_key.split_once('/').unwrap();
        let claim = Claim {
            algorithm: "DCI2-HMAC-SHA256".into(),
            client_type: client_type.into(),
            client_id: client_id.into(),
            datestamp: ts[..8].into(),
            region: "BHS3".into(),
            service: "api".into(),
            request_type: "dci2_request".into(),
            canonical_headers: vec![("host".into(), host), ("x-dci-date".into(), ts.clone())],
            signed_headers: "host;x-dci-date".into(),
            timestamp: ts.clone(),
            signature: String::new(),
        };
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let read = incoming(method, &target, &[], body).as_server_reads_it();
        let sig = signature(&claim, &read, secret);
        (
            ts.clone(),
            format!(
                "DCI2-HMAC-SHA256 Credential={access_key}/{}/BHS3/api/dci2_request, SignedHeaders=host;x-dci-date, Signature={sig}",
                &ts[..8]
            ),
        )
    }

    struct World {
        clock: ManualClock,
        sandbox: crate::Sandbox,
        http: reqwest::Client,
    }

    const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

    async fn world() -> World {
        let clock = ManualClock::new(T0);
        let sandbox = crate::Sandbox::start_with_clock(0, Arc::new(clock.clone()))
            .await
            .unwrap();
        World {
            clock,
            sandbox,
            http: reqwest::Client::new(),
        }
    }

    impl World {
        async fn send(
            &self,
            method: &str,
            path: &str,
            body: &[u8],
            key: &str,
            secret: &str,
            at: OffsetDateTime,
        ) -> (u16, Value, Option<String>) {
            let url = format!("{}{path}", self.sandbox.url_of("dci"));
            let (date, auth) = sign(method, &url, body, key, secret, at);
            let res = self
                .http
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
                .header("X-DCI-Date", date)
                .header("Authorization", auth)
                .header("Content-Type", "application/json")
                .body(body.to_vec())
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let date = res
                .headers()
                .get("date")
                .map(|v| v.to_str().unwrap().to_string());
            (status, res.json().await.unwrap_or(Value::Null), date)
        }
    }

    #[tokio::test]
    async fn a_signed_identity_request_says_who_the_key_is_with_the_sandbox_date() {
        let w = world().await;
        let (status, body, date) = w
            .send(
                "GET",
                "/api/v1/identity",
                b"",
                REMOTECI_ACCESS_KEY,
                REMOTECI_SECRET,
                T0,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["identity"]["id"], REMOTECI_ID);
        assert_eq!(body["identity"]["name"], Value::Null);
        assert_eq!(body["identity"]["teams"][TEAM_ID]["team_name"], TEAM_NAME);
        assert_eq!(date.as_deref(), Some("Mon, 01 Jun 2026 09:00:00 GMT"));
        let accepted = w.sandbox.dci().accepted();
        assert_eq!(accepted[0].path, "/dci/api/v1/identity");
        assert_eq!(accepted[0].client, REMOTECI_ACCESS_KEY);

        let path = format!("/api/v1/remotecis/{REMOTECI_ID}");
        let (status, body, _) = w
            .send("GET", &path, b"", FEEDER_ACCESS_KEY, FEEDER_SECRET, T0)
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["remoteci"]["name"], REMOTECI_NAME);
        let (status, body, _) = w
            .send(
                "GET",
                "/api/v1/remotecis/nope",
                b"",
                REMOTECI_ACCESS_KEY,
                REMOTECI_SECRET,
                T0,
            )
            .await;
        assert_eq!(
            (status, &body["message"]),
            (404, &json!("Remoteci \"nope\" not found."))
        );
    }

    #[tokio::test]
    async fn every_refusal_has_the_documented_status_and_body() {
        let w = world().await;
        let key = REMOTECI_ACCESS_KEY;
        let (status, body, date) = w
            .send("GET", "/api/v1/identity", b"", key, "wrong-secret", T0)
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"status_code": 400, "message": "HmacMechanism failed: signature is invalid", "payload": {}})
        );
        assert!(date.is_some(), "errors carry a Date too");
        let late = T0 - Duration::minutes(16);
        let (status, body, _) = w
            .send("GET", "/api/v1/identity", b"", key, REMOTECI_SECRET, late)
            .await;
        assert_eq!(
            (status, body["message"].as_str().unwrap()),
            (400, "HmacMechanism failed: signature is expired")
        );
        w.clock.advance(Duration::minutes(20));
        let (status, _, date) = w
            .send("GET", "/api/v1/identity", b"", key, REMOTECI_SECRET, T0)
            .await;
        assert_eq!(status, 400);
        assert_eq!(date.as_deref(), Some("Mon, 01 Jun 2026 09:20:00 GMT"));
        w.clock.set(T0);

        let unknown = "remoteci/00000000-0000-4000-8000-000000000000";
        let (status, body, _) = w
            .send("GET", "/api/v1/identity", b"", unknown, REMOTECI_SECRET, T0)
            .await;
        assert_eq!(
            (status, body["message"].as_str().unwrap()),
            (404, "remoteci not found")
        );

        w.sandbox.dci().set_team_active(false);
        let (status, body, _) = w
            .send("GET", "/api/v1/identity", b"", key, REMOTECI_SECRET, T0)
            .await;
        assert_eq!(
            (status, body["message"].as_str().unwrap()),
            (412, "team sandbox-lab not active")
        );
        w.sandbox.dci().set_team_active(true);

        let res = w
            .http
            .get(format!("{}/api/v1/identity", w.sandbox.url_of("dci")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert!(res.headers().contains_key("date"));
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["message"], "Authorization header missing");
        assert_eq!(w.sandbox.dci().refused().len(), 6);
    }

    #[tokio::test]
    async fn a_signed_body_is_echoed_and_a_changed_one_refused() {
        let w = world().await;
        w.sandbox
            .dci()
            .add_client(ClientKind::Feeder, "f-2", "added", "added-secret");
        let body = br#"{"name": "caf\u00e9", "n": 1}"#;
        let path = "/api/v1/jobs?where=name:foo%20bar&note=%E2%9C%93";
        let (status, echo, _) = w
            .send("POST", path, body, "feeder/f-2", "added-secret", T0)
            .await;
        assert_eq!(status, 200, "{echo}");
        assert_eq!(echo["client"], "feeder/f-2");
        assert_eq!(echo["path"], "/dci/api/v1/jobs");
        assert_eq!(echo["params"]["where"], "name:foo bar");
        assert_eq!(echo["params"]["note"], "✓");
        assert_eq!(echo["body"], String::from_utf8_lossy(body).as_ref());

        let url = format!("{}{path}", w.sandbox.url_of("dci"));
        let (date, auth) = sign("POST", &url, body, "feeder/f-2", "added-secret", T0);
        let res = w
            .http
            .post(&url)
            .header("X-DCI-Date", date)
            .header("Authorization", auth)
            .body(b"{}".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
    }
}
