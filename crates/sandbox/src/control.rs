//! The sandbox's control API, under `/_sandbox`, for tests that drive the
//! sandbox from another process (scripts/crash-test.sh runs the
//! `latchkey-sandbox` binary): the fault switches and request counts of
//! [`crate::faults`], and the few protocol switches such a test needs.
//! Tests in-process call the same things on [`crate::Sandbox`] directly.
//! Requests here are neither counted nor faulted.
//!
//! - `PUT /_sandbox/faults` `{"route": "POST /oidc/token", "fault": "reset", "times": 1}`
//!   (`times` left out: until cleared); `DELETE /_sandbox/faults` clears all.
//! - `PUT /_sandbox/tls` `{"fault": "untrusted" | "expired" | null}`.
//! - `GET /_sandbox/requests?route=POST%20/oidc/token&above=N&wait_ms=M`:
//!   `{"count": n}`, once more than `above` requests arrived or `wait_ms` passed.
//! - `PUT /_sandbox/{oidc,auth0}/access-ttl` `{"seconds": n}`.
//! - `GET /_sandbox/{oidc,auth0}/refresh-token?token=R&access=A`:
//!   `{"state": "current" | "rotated" | "revoked" | "unknown", "issued_together": bool}`.
//! - `GET /_sandbox/{oidc,auth0}/access-token?token=A`:
//!   `{"state": "active" | "expired" | "revoked" | "unknown"}`.

use crate::faults::{Fault, TlsFault};
use crate::oidc::RefreshState;
use crate::States;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

pub fn router(states: States) -> Router {
    Router::new()
        .route("/faults", put(set_fault).delete(clear_faults))
        .route("/tls", put(set_tls))
        .route("/requests", get(requests))
        .route("/{provider}/access-ttl", put(access_ttl))
        .route("/{provider}/refresh-token", get(refresh_token))
        .route("/{provider}/access-token", get(access_token))
        .with_state(states)
}

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct SetFault {
    route: String,
    fault: String,
    times: Option<u32>,
}

async fn set_fault(State(s): State<States>, Json(body): Json<SetFault>) -> Response {
    let fault: Fault = match body.fault.parse() {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    match body.times {
        Some(n) => s.faults.set_times(&body.route, fault, n),
        None => s.faults.set(&body.route, fault),
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(s): State<States>) -> Response {
    s.faults.clear_all();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct SetTls {
    fault: Option<String>,
}

async fn set_tls(State(s): State<States>, Json(body): Json<SetTls>) -> Response {
    let fault = match body
        .fault
        .as_deref()
        .map(str::parse::<TlsFault>)
        .transpose()
    {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    s.faults.set_tls(fault);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Requests {
    route: String,
    #[serde(default)]
    above: u64,
    #[serde(default)]
    wait_ms: u64,
}

async fn requests(State(s): State<States>, Query(q): Query<Requests>) -> Response {
    let count = s
        .faults
        .wait_requests(&q.route, q.above, Duration::from_millis(q.wait_ms))
        .await;
    Json(json!({ "count": count })).into_response()
}

fn provider<'a>(s: &'a States, name: &str) -> Option<&'a crate::oidc::Oidc> {
    match name {
        "oidc" => Some(&s.oidc),
        "auth0" => Some(&s.auth0),
        _ => None,
    }
}

#[derive(Deserialize)]
struct AccessTtl {
    seconds: i64,
}

async fn access_ttl(
    State(s): State<States>,
    Path(name): Path<String>,
    Json(body): Json<AccessTtl>,
) -> Response {
    let Some(op) = provider(&s, &name) else {
        return bad(format!("no OpenID provider '{name}': oidc or auth0"));
    };
    if body.seconds < 1 {
        return bad("an access token lives at least 1 s");
    }
    op.set_access_ttl(time::Duration::seconds(body.seconds));
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct RefreshQuery {
    token: String,
    #[serde(default)]
    access: String,
}

async fn refresh_token(
    State(s): State<States>,
    Path(name): Path<String>,
    Query(q): Query<RefreshQuery>,
) -> Response {
    let Some(op) = provider(&s, &name) else {
        return bad(format!("no OpenID provider '{name}': oidc or auth0"));
    };
    let state = match op.refresh_state(&q.token) {
        RefreshState::Current => "current",
        RefreshState::Rotated => "rotated",
        RefreshState::Revoked => "revoked",
        RefreshState::Unknown => "unknown",
    };
    Json(json!({
        "state": state,
        "issued_together": op.issued_together(&q.access, &q.token),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct AccessQuery {
    token: String,
}

async fn access_token(
    State(s): State<States>,
    Path(name): Path<String>,
    Query(q): Query<AccessQuery>,
) -> Response {
    let Some(op) = provider(&s, &name) else {
        return bad(format!("no OpenID provider '{name}': oidc or auth0"));
    };
    Json(json!({ "state": op.access_state(&q.token) })).into_response()
}
