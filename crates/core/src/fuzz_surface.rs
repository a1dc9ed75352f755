//! The parsers of untrusted input, each behind one function that takes the
//! raw input: what the fuzz targets in `fuzz/` call (`scripts/fuzz.sh`).
//! Each runs the same code a login, a renewal, a redirect or the JWT
//! inspector runs on what a server, a browser or a user sent, and checks
//! what must hold whatever the input (a panic is a finding). Nothing else
//! calls these functions.

use crate::clock::{Clock, ManualClock};
use crate::flows::{RedirectHub, RedirectRefused, DEEP_LINK_CALLBACK, DEFAULT_LOGIN_DEADLINE};
use crate::http::Answer;
use crate::model::{Server, ServerKind};
use crate::vault::Secret;
use serde_json::Value;
use std::sync::Arc;
use time::macros::datetime;
use time::OffsetDateTime;

/// The "now" of every target, so that a finding replays the same way.
pub fn now() -> OffsetDateTime {
    datetime!(2026-06-01 09:00 UTC)
}

/// The HTTP statuses the answer targets try, chosen by the input's first byte.
const STATUSES: [u16; 14] = [
    200, 201, 204, 302, 400, 401, 403, 404, 405, 412, 429, 500, 502, 503,
];

/// Splits a target's input into an HTTP status (its first byte) and a body.
pub fn status_and_body(data: &[u8]) -> (u16, String) {
    match data.split_first() {
        Some((first, rest)) => (
            STATUSES[usize::from(*first) % STATUSES.len()],
            String::from_utf8_lossy(rest).into_owned(),
        ),
        None => (200, String::new()),
    }
}

fn server(kind: ServerKind) -> Server {
    Server {
        id: 1,
        name: "fuzzed".into(),
        kind,
        url: "https://server.example".into(),
        ca_pem: None,
    }
}

fn answer(status: u16, body: &str, headers: &[(&'static str, &str)]) -> Answer {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        if let Ok(value) = reqwest::header::HeaderValue::from_str(value) {
            map.append(reqwest::header::HeaderName::from_static(name), value);
        }
    }
    Answer {
        url: "https://server.example/api".into(),
        status,
        headers: map,
        text: body.to_string(),
    }
}

/// A refusal or failure must say something.
fn says_something(err: &crate::Error) {
    assert!(
        !err.to_string().trim().is_empty(),
        "an empty message: {err:?}"
    );
}

// ---------------------------------------------------------------------------
// Tokens

/// The lenient decoder and the inspector (a pasted token).
pub fn jwt_lenient(text: &str) {
    let decoded = crate::jwt::decode(text);
    let inspection = crate::jwt::inspect(text, now());
    let shown = serde_json::to_string(&inspection).expect("an inspection serializes");
    if let Ok(decoded) = decoded {
        let _ = format!("{decoded:?}");
        // A credential inside the claims never crosses to the page whole: the
        // page shows it no more often than the rest of the token holds it
        // anyway (another claim may contain the same text: found by this
        // target, an `access_token` that was also part of a longer, ordinary
        // claim, which is shown as it is).
        let mut claims = decoded.claims.clone();
        let masked = crate::jwt::mask_credentials(&mut claims);
        let mut rest = decoded.claims.clone();
        for path in &masked {
            if let Some(value) = pointer_mut(&mut rest, path) {
                *value = Value::Null;
            }
        }
        let rest = format!("{}{}", decoded.header, rest);
        for path in masked {
            let original = pointer(&decoded.claims, &path);
            if let Some(Value::String(s)) = original {
                if s.chars().count() >= 16 {
                    let quoted = serde_json::to_string(s).expect("a string serializes");
                    let s = &quoted[1..quoted.len() - 1];
                    assert!(
                        shown.matches(s).count() <= rest.matches(s).count(),
                        "{path} shown whole"
                    );
                }
            }
        }
    }
}

/// The value at a masking path, to change it.
fn pointer_mut<'a>(value: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut current = value;
    for (key, index) in path_steps(path) {
        if !key.is_empty() {
            current = current.get_mut(key)?;
        }
        if let Some(i) = index {
            current = current.get_mut(i)?;
        }
    }
    Some(current)
}

/// A value at a masking path (`a.b[2].c`), if there is one.
fn pointer<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for (key, index) in path_steps(path) {
        if !key.is_empty() {
            current = current.get(key)?;
        }
        if let Some(i) = index {
            current = current.get(i)?;
        }
    }
    Some(current)
}

/// The steps of a masking path: each part's key (maybe empty) and index.
fn path_steps(path: &str) -> impl Iterator<Item = (&str, Option<usize>)> {
    path.split('.').map(|part| match part.split_once('[') {
        Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
        None => (part, None),
    })
}

/// The strict path: jsonwebtoken's and openidconnect's parsers and a
/// signature check with `key` as a secret, a PEM key and a JWKS.
pub fn jwt_strict(token: &str, key: &str) {
    let _ = jsonwebtoken::decode_header(token);
    let _ = token.parse::<openidconnect::core::CoreIdToken>();
    let mut keys = vec![crate::jwt::VerifyKey::secret_text(key)];
    if key.contains("-----BEGIN") {
        keys.push(crate::jwt::VerifyKey::Pem(key.to_string()));
    }
    if let Ok(jwks) = serde_json::from_str::<Value>(key) {
        keys.push(crate::jwt::VerifyKey::Jwks(jwks));
    }
    for key in keys {
        match crate::jwt::verify(token, &key) {
            Ok(verified) => {
                let _ = serde_json::to_string(&verified).expect("serializes");
            }
            Err(err) => assert!(!err.to_string().is_empty()),
        }
    }
}

// ---------------------------------------------------------------------------
// Redirects

/// Routes `url` on a hub where a deep-link login (`state-deep`) and a
/// loopback login (`state-loop`, issuer `https://id.example`) wait.
pub fn redirect(url: &str) {
    let clock = ManualClock::new(now());
    let hub = RedirectHub::new(Arc::new(clock.clone()));
    let wait = DEFAULT_LOGIN_DEADLINE;
    hub.begin_with_state(1, DEEP_LINK_CALLBACK, wait, "state-deep".into(), None, None);
    hub.begin_with_state(
        2,
        "http://127.0.0.1:8765/callback",
        wait,
        "state-loop".into(),
        None,
        None,
    );
    hub.expect_issuer("state-loop", "https://id.example");
    match hub.route(url) {
        Ok(accepted) => {
            // Only the login the URL names, once, with its own parameters.
            let state = accepted
                .param("state")
                .expect("an accepted redirect has a state");
            assert_eq!(state, accepted.login.state);
            assert!(url.trim().len() <= crate::flows::MAX_REDIRECT_LEN);
            if accepted.login.profile_id == 2 {
                if let Some(iss) = accepted.param("iss") {
                    assert_eq!(iss, "https://id.example");
                }
            }
            assert_eq!(hub.route(url).unwrap_err(), RedirectRefused::AlreadyUsed);
            assert_eq!(hub.waiting().len(), 1);
        }
        Err(refused) => {
            assert!(refused.to_string().contains("nothing"), "{refused}");
            assert_eq!(hub.waiting(), [1, 2], "a refusal spends no login");
        }
    }
    let _ = clock.now();
}

// ---------------------------------------------------------------------------
// Server answers

pub fn quay_location(location: &str) {
    use crate::providers::quay;
    match quay::read_location(&server(ServerKind::Quay), location) {
        Ok(approval) => {
            let _ = approval.fragment.get("access_token");
            let _ = approval.query.get("error");
        }
        Err(err) => says_something(&err),
    }
}

pub fn quay_answer(status: u16, body: &str, header: &str) {
    use crate::providers::quay::{self, QuayAnswer};
    let a = answer(
        status,
        body,
        &[
            ("set-cookie", header),
            ("www-authenticate", header),
            ("retry-after", header),
        ],
    );
    assert!(!a.message().is_empty());
    says_something(&quay::throttled("alice", &a));
    says_something(&quay::unexpected("the request", &a));
    says_something(&quay::signin_refused("alice", &a));
    let json = a.json();
    let _ = quay::user_items(&json);
    let _ = quay::listed_authorizations(&json);
    let _ = quay::granted_access(&json);
    let _ = quay::token_uuid(&json);
    let _ = quay::parse_challenge(header);
    let _ = quay::SetCookie::parse(header, now());
    let _ = quay::session_headers(&Secret::new(body));
    let scopes =
        vec![quay::registry_scope("repository:acme/app:pull,push").expect("a valid scope")];
    let url = "https://quay.example/v2/auth";
    match quay::registry_token_answer(url, body, now(), &scopes, "quay.example".into()) {
        Ok(issued) => assert!(!issued.token.is_empty()),
        Err(err) => says_something(&err),
    }
}

pub fn avassa_answer(status: u16, body: &str) {
    use crate::providers::avassa;
    let server = server(ServerKind::Avassa);
    says_something(&avassa::refused(&server, status, body));
    let _ = avassa::asks_for_otp(&avassa::error_message(body));
    match avassa::token_response(&server, body) {
        Ok(response) => {
            if let Some(issued) = response.issued(now(), Some("acme"), Some("alice")) {
                assert!(!issued.token.is_empty());
            }
        }
        Err(err) => says_something(&err),
    }
}

pub fn github_answer(status: u16, body: &str) {
    use crate::providers::github;
    if let Ok(response) = serde_json::from_str::<oauth2::basic::BasicTokenResponse>(body) {
        let issued = github::issued_from_response(now(), &response);
        assert!(issued.expires_at.is_none_or(|at| at >= now()));
    }
    let _ = serde_json::from_str::<oauth2::StandardDeviceAuthorizationResponse>(body);
    let _ = crate::oauth::is_error_body(body.as_bytes());
    let url = "https://kontinuous.example";
    match github::kontinuous_answer(&format!("{url}/login/github"), url, status, body, now()) {
        Ok(issued) => assert!(!issued.token.is_empty()),
        Err(err) => says_something(&err),
    }
}

pub fn oidc_discovery(body: &[u8]) {
    if let Ok(meta) = serde_json::from_slice::<crate::providers::oidc::Metadata>(body) {
        let _ = meta.issuer().as_str();
        let _ = meta.authorization_endpoint().as_str();
        let _ = meta.token_endpoint().map(|t| t.as_str());
        let _ = serde_json::to_string(&meta);
    }
}

pub fn oidc_jwks(body: &[u8]) {
    let _ = serde_json::from_slice::<openidconnect::core::CoreJsonWebKeySet>(body);
    if let Ok(jwks) = serde_json::from_slice::<Value>(body) {
        // The inspector's own reading of a JWKS, with a token to check.
        let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4In0.c2ln";
        let _ = crate::jwt::verify(token, &crate::jwt::VerifyKey::Jwks(jwks));
    }
}

pub fn oidc_token(body: &[u8]) {
    use crate::providers::oidc;
    use openidconnect::{OAuth2TokenResponse, TokenResponse};
    if let Ok(response) = serde_json::from_slice::<oidc::CoreTokens>(body) {
        let issued = oidc::issued_from(
            now(),
            response.access_token().secret(),
            response.expires_in(),
            response.refresh_token().map(|r| r.secret().clone()),
            response.id_token().map(|t| t.to_string()),
            response
                .scopes()
                .map(|s| s.iter().map(|x| x.to_string()).collect())
                .unwrap_or_default(),
            serde_json::Map::new(),
        );
        // A lifetime the server gave is counted from now; without one (or
        // with one past the year 9999) a JWT's own `exp` counts, which may
        // well be past.
        if let Some(at) = response
            .expires_in()
            .and_then(|d| crate::tokens::expiry_after_std(now(), d))
        {
            assert_eq!(issued.expires_at, Some(at));
            assert!(at >= now());
        }
    }
    let _ = serde_json::from_slice::<openidconnect::core::CoreDeviceAuthorizationResponse>(body);
    let _ = crate::oauth::is_error_body(body);
}

pub fn dci_answer(status: u16, body: &str, date: &str) {
    use crate::dci;
    let date = dci::parse_http_date(date);
    let answer = dci::Answer {
        url: "https://dci.example/api/v1/identity".into(),
        status,
        date,
        body: body.to_string(),
    };
    says_something(&dci::refused(&answer, "remoteci/abc", &answer.url, now()));
    match dci::read_identity(&answer) {
        Ok(identity) => {
            for line in dci::identity_lines(&identity, None, Vec::new(), date, now()) {
                assert!(!line.name.is_empty());
            }
        }
        Err(err) => says_something(&err),
    }
}

/// Signs `method url` with the access key and body the input gives (one per
/// line), twice: the same request signs the same way, and nothing panics.
pub fn dci_canonical(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(4, '\n');
    let method = lines.next().unwrap_or_default();
    let url = lines.next().unwrap_or_default();
    let key = lines.next().unwrap_or_default();
    let body = lines.next().unwrap_or_default();
    let secret = Secret::new("fuzz-secret-key");
    let first = crate::dci::sign(method, url, body.as_bytes(), key, &secret, now());
    let second = crate::dci::sign(method, url, body.as_bytes(), key, &secret, now());
    match (first, second) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.authorization, b.authorization);
            assert_eq!(a.canonical_request, b.canonical_request);
            assert!(!format!("{a:?}").contains(a.authorization.rsplit('=').next().unwrap()));
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("signing the same request twice gave two outcomes"),
    }
    if let Ok(url) = url::Url::parse(url.trim()) {
        let _ = crate::dci::RequestParts::from_url(method, &url, body.as_bytes());
    }
}

// ---------------------------------------------------------------------------
// Files

/// The export/import file (`latchkey import FILE`, which may come from
/// anyone on a team): read, then each entry checked as the import checks it
/// before it looks at the store. A file whose every entry passes is written
/// as `latchkey export` writes it, and reads back the same. Returns whether
/// every entry passed (the round trip ran).
pub fn transfer_file(text: &str) -> bool {
    use crate::model::{self, ProfileInput, ServerInput};
    use crate::transfer;
    let doc = match transfer::parse(text) {
        Ok(doc) => doc,
        Err(err) => {
            says_something(&err);
            return false;
        }
    };
    let mut accepted = true;
    let mut kinds = std::collections::HashMap::new();
    for entry in &doc.servers {
        let e = entry.get_ref();
        let checked = model::validate_server(&ServerInput {
            name: e.name.clone(),
            kind: e.kind.clone(),
            url: e.url.clone(),
            ca_pem: e.ca_pem.clone(),
        });
        match checked {
            Ok((name, kind, _, _)) => {
                kinds.insert(name, kind);
            }
            Err(err) => {
                says_something(&err);
                accepted = false;
            }
        }
        for tenant in &e.tenants {
            if let Err(err) = model::validate_tenant(tenant.trim()) {
                says_something(&err);
                accepted = false;
            }
        }
    }
    for entry in &doc.profiles {
        let e = entry.get_ref();
        let settings = match transfer::settings_of(&e.settings) {
            Ok(settings) => settings,
            Err(message) => {
                assert!(!message.trim().is_empty(), "an empty message");
                accepted = false;
                continue;
            }
        };
        // A server the file does not name would be looked up in the store.
        let kind = kinds
            .get(e.server.trim())
            .copied()
            .unwrap_or(ServerKind::Oidc);
        let input = ProfileInput {
            name: e.name.clone(),
            server: e.server.trim().to_string(),
            tenant: e.tenant.clone(),
            login: e.login.clone(),
            settings,
            label: e.label.clone(),
            ..Default::default()
        };
        if let Err(err) = crate::service::check_profile(&input, kind) {
            says_something(&err);
            accepted = false;
        }
    }
    if accepted {
        let servers: Vec<_> = doc.servers.iter().map(|s| s.get_ref().clone()).collect();
        let profiles: Vec<_> = doc.profiles.iter().map(|p| p.get_ref().clone()).collect();
        let written = transfer::render(&servers, &profiles).expect("an accepted file is written");
        let again = transfer::parse(&written).expect("a written file reads back");
        let servers_again: Vec<_> = again.servers.iter().map(|s| s.get_ref().clone()).collect();
        let profiles_again: Vec<_> = again.profiles.iter().map(|p| p.get_ref().clone()).collect();
        assert_eq!(servers, servers_again, "the servers read back the same");
        assert_eq!(profiles, profiles_again, "the profiles read back the same");
    }
    accepted
}
