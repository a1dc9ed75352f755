//! Kontinuous' login and API as protocols §1.1–1.4 document them (HEAD
//! `0b82c43`): `POST /login/github?code&state` trades a GitHub code for a
//! never-expiring HS256 JWT that carries the GitHub token in clear, and
//! `GET /api/v1/pipelines` runs the `authenticate` and `requireAccessToken`
//! filters, then checks the embedded GitHub token.
//!
//! The code is exchanged with the sandbox's own [`GitHub`], in-process and
//! without a `code_verifier`, as the real server does; the OAuth app is
//! [`github::CLIENT_ID`]. Errors are go-restful `ServiceError`s
//! (`{"Code","Message"}`, indented by one space as go-restful's pretty
//! printing does); routing errors are go-restful's plain-text `415: Unsupported
//! Media Type` and friends. The docs and the code disagree on the login path
//! (§1.2), so [`Kontinuous::set_login_path`] serves one or the other.

use crate::github::{self, GitHub};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use base64::Engine;
use hmac::{Hmac, Mac};
use latchkey_core::clock::SharedClock;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// The sandbox's `AUTH_SECRET` (the §1.3 vector's): the HMAC key is its
/// URL-safe base64 decoding, `kontinuous-test-secret-0123456789`.
pub const AUTH_SECRET: &str = "a29udGludW91cy10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5";

/// Which login route exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginPath {
    /// `POST /login/github`, as the code at HEAD registers it (the default).
    Root,
    /// `POST /api/v1/login/github`, as `docs/api.md` says.
    ApiV1,
}

struct Inner {
    login_path: LoginPath,
    logins: u32,
    last_login_content_type: Option<String>,
}

/// The Kontinuous part of a running sandbox; clones share the state. It trades
/// codes with the sandbox's own GitHub, in-process.
#[derive(Clone)]
pub struct Kontinuous {
    inner: Arc<Mutex<Inner>>,
    clock: SharedClock,
    github: GitHub,
}

/// Go's `base64.URLEncoding`, tolerating missing padding (jwt-go's
/// `DecodeSegment` adds it back) and non-zero trailing bits (Go is not strict).
fn go_url_base64() -> base64::engine::GeneralPurpose {
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

fn segment(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The HMAC key: `base64.URLEncoding.DecodeString(AUTH_SECRET)`.
fn key() -> Vec<u8> {
    go_url_base64()
        .decode(AUTH_SECRET)
        .expect("AUTH_SECRET is valid base64url")
}

/// A JSON string as Go's `json.Marshal` writes it (`<`, `>`, `&`, U+2028 and
/// U+2029 escaped).
fn go_string(s: &str) -> String {
    let plain = serde_json::to_string(s).expect("strings serialize");
    let mut out = String::with_capacity(plain.len());
    for c in plain.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn hs256(signing_input: &str) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key()).expect("HMAC takes any key");
    mac.update(signing_input.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Signs `claims_json` (used verbatim) with HS256 under the decoded
/// [`AUTH_SECRET`], header `{"alg":"HS256","typ":"JWT"}`.
fn sign_raw(claims_json: &str) -> String {
    let input = format!(
        "{}.{}",
        segment(br#"{"alg":"HS256","typ":"JWT"}"#),
        segment(claims_json.as_bytes())
    );
    let sig = segment(&hs256(&input));
    format!("{input}.{sig}")
}

/// jwt-go v2's `Parse` with Kontinuous' keyfunc: any HMAC algorithm under the
/// decoded secret, `exp`/`nbf` checked when numeric. The claims, or `None`.
fn verify(token: &str, now: i64) -> Option<Value> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return None;
    };
    let decode = |seg: &str| go_url_base64().decode(seg).ok();
    let header: Value = serde_json::from_slice(&decode(h)?).ok()?;
    let claims: Value = serde_json::from_slice(&decode(c)?).ok()?;
    if !claims.is_object() {
        return None;
    }
    let sig = decode(s)?;
    let input = format!("{h}.{c}");
    let key = key();
    let ok = match header.get("alg").and_then(Value::as_str)? {
        "HS256" => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
            m.update(input.as_bytes());
            m.verify_slice(&sig).is_ok()
        }
        "HS384" => {
            let mut m = Hmac::<sha2::Sha384>::new_from_slice(&key).ok()?;
            m.update(input.as_bytes());
            m.verify_slice(&sig).is_ok()
        }
        "HS512" => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(&key).ok()?;
            m.update(input.as_bytes());
            m.verify_slice(&sig).is_ok()
        }
        _ => false,
    };
    if !ok {
        return None;
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_f64) {
        if now > exp as i64 {
            return None;
        }
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_f64) {
        if now < nbf as i64 {
            return None;
        }
    }
    Some(claims)
}

/// JSON as go-restful writes it with `PrettyPrintResponses` on:
/// `json.MarshalIndent(v, "", " ")`.
fn go_json(status: StatusCode, v: &Value) -> Response {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(v, &mut ser).expect("JSON serializes");
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        String::from_utf8(buf).expect("JSON is UTF-8"),
    )
        .into_response()
}

/// A go-restful `ServiceError`.
fn service_error(status: StatusCode, code: u16, message: &str) -> Response {
    go_json(status, &json!({"Code": code, "Message": message}))
}

/// go-restful's plain-text routing errors, e.g. `415: Unsupported Media Type`.
fn restful_text(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}: {text}", status.as_u16()),
    )
        .into_response()
}

fn not_found() -> Response {
    restful_text(StatusCode::NOT_FOUND, "Page Not Found")
}

/// go-restful's `matchesContentType` for a route consuming `application/json`:
/// a POST without Content-Type counts as `application/octet-stream`.
fn consumes_json(headers: &HeaderMap) -> bool {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let ct = if ct.is_empty() {
        "application/octet-stream"
    } else {
        ct
    };
    ct.split(',')
        .any(|each| each.split(';').next().unwrap_or_default().trim() == "application/json")
}

/// go-restful's `matchesAccept` for a route producing `application/json`; a
/// missing Accept is `*/*`.
fn accepts_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let accept = if accept.is_empty() { "*/*" } else { accept };
    accept.split(',').any(|each| {
        let t = each.split(';').next().unwrap_or_default().trim();
        t == "*/*" || t == "application/json"
    })
}

/// The first value of query parameter `name` (Go's `QueryParameter`).
fn query_param(query: Option<&str>, name: &str) -> String {
    query
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

impl Kontinuous {
    pub fn new(clock: SharedClock, github: GitHub) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                login_path: LoginPath::Root,
                logins: 0,
                last_login_content_type: None,
            })),
            clock,
            github,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("kontinuous sandbox lock")
    }

    /// Which login route exists; the other answers 404, so a client has to
    /// try `/login/github` and fall back to `/api/v1/login/github`.
    pub fn set_login_path(&self, path: LoginPath) {
        self.lock().login_path = path;
    }

    /// Successful logins so far.
    pub fn logins(&self) -> u32 {
        self.lock().logins
    }

    /// The Content-Type of the last request to the live login route
    /// (refused ones included), or `None` if it had none.
    pub fn last_login_content_type(&self) -> Option<String> {
        self.lock().last_login_content_type.clone()
    }

    /// The JWT `CreateJWT` issues for `github_token` and `user_id` (the
    /// claim's value, e.g. `github|583231`), byte for byte.
    pub fn mint(&self, github_token: &str, user_id: &str) -> String {
        sign_raw(&format!(
            r#"{{"identities":[{{"access_token":{}}}],"user_id":{}}}"#,
            go_string(github_token),
            go_string(user_id)
        ))
    }

    /// Any claims, signed as Kontinuous would sign them: for tokens without
    /// `identities`, with `exp`, or in Auth0's shape.
    pub fn sign(&self, claims: &Value) -> String {
        sign_raw(&serde_json::to_string(claims).expect("claims serialize"))
    }

    async fn login(
        &self,
        path: LoginPath,
        method: Method,
        query: Option<String>,
        headers: HeaderMap,
    ) -> Response {
        {
            let mut s = self.lock();
            if s.login_path != path {
                return not_found();
            }
            s.last_login_content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
        }
        if method != Method::POST {
            return restful_text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        }
        if !consumes_json(&headers) {
            return restful_text(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type");
        }
        if !accepts_json(&headers) {
            return restful_text(StatusCode::NOT_ACCEPTABLE, "Not Acceptable");
        }
        let code = query_param(query.as_deref(), "code");
        if code.is_empty() {
            return service_error(StatusCode::UNAUTHORIZED, 401, "Missing Authorization Code");
        }
        let Ok(token) =
            self.github
                .exchange_code(github::CLIENT_ID, github::CLIENT_SECRET, &code, None)
        else {
            return service_error(StatusCode::UNAUTHORIZED, 401, "Access Token is empty");
        };
        let Some((_, id)) = self.github.user_for(&token) else {
            return service_error(
                StatusCode::UNAUTHORIZED,
                401,
                "unexpected end of JSON input",
            );
        };
        let user_id = format!("github|{id}");
        let jwt = self.mint(&token, &user_id);
        self.lock().logins += 1;
        go_json(StatusCode::OK, &json!({"jwt": jwt, "user_id": user_id}))
    }
}

pub fn router(state: Kontinuous) -> Router {
    Router::new()
        .route("/", get(|| async { "kontinuous" }))
        .route("/login/github", any(login_root))
        .route("/api/v1/login/github", any(login_api_v1))
        .route("/api/v1/pipelines", get(pipelines))
        .fallback(|| async { not_found() })
        .with_state(state)
}

async fn login_root(
    State(k): State<Kontinuous>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    k.login(LoginPath::Root, method, query, headers).await
}

async fn login_api_v1(
    State(k): State<Kontinuous>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    k.login(LoginPath::ApiV1, method, query, headers).await
}

/// `GET /api/v1/pipelines`: the cheap "is this token still good?" probe.
async fn pipelines(
    State(k): State<Kontinuous>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    // authenticate: `Authorization: Bearer` (any case), else `?id_token=`.
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = match auth.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => auth[7..].to_string(),
        _ => query_param(query.as_deref(), "id_token"),
    };
    if token.is_empty() {
        return service_error(StatusCode::UNAUTHORIZED, 0, "Missing Access Token!");
    }
    let Some(claims) = verify(&token, k.clock.now().unix_timestamp()) else {
        return service_error(StatusCode::UNAUTHORIZED, 401, "Unauthorized!");
    };
    let github_token = match claims.get("identities") {
        None => String::new(),
        Some(ids) => {
            // The Go code type-asserts its way down and panics on any other
            // shape; go-restful recovers with a 500.
            let Some(t) = ids
                .as_array()
                .and_then(|a| a.first())
                .and_then(|i| i.get("access_token"))
                .and_then(Value::as_str)
            else {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "[restful] recover from panic situation: - interface conversion\r\n",
                )
                    .into_response();
            };
            t.to_string()
        }
    };
    // requireAccessToken
    if github_token.is_empty() {
        return service_error(StatusCode::BAD_REQUEST, 400, "Missing Access Token!");
    }
    if !k.github.is_valid(&github_token) {
        return service_error(StatusCode::UNAUTHORIZED, 401, "Bad credentials");
    }
    let owner = k
        .github
        .user_for(&github_token)
        .map(|(login, _)| login)
        .unwrap_or_default();
    go_json(
        StatusCode::OK,
        &json!([
            {"id": "1", "owner": owner, "repo": "hello-world", "events": ["push", "pull_request"]},
            {"id": "2", "owner": owner, "repo": "spoon-knife", "events": ["push"]},
        ]),
    )
}
