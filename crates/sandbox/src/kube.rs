//! A Kubernetes API server stand-in at the sandbox's root, enough for `kubectl` with an exec
//! credential plugin: discovery (`/version`, `/api`, `/apis`, `/api/v1`) and
//! a list of namespaces, each answered only to a bearer token that one of the
//! sandbox's issuers would accept now (OIDC, Auth0, Avassa, GitHub); anything
//! else gets the 401 `Status` a real API server sends, which is what makes
//! client-go run the plugin again. Every request is counted with the token
//! it carried, so a test sees which token kubectl presented and how often.

use crate::{avassa, github, oidc};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// The issuers whose tokens the stand-in accepts, and what it has seen.
#[derive(Clone)]
pub struct Kube {
    oidc: oidc::Oidc,
    auth0: oidc::Oidc,
    avassa: avassa::Avassa,
    github: github::GitHub,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// One request as the stand-in saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    /// The bearer token, if the request carried one.
    pub token: Option<String>,
    pub accepted: bool,
}

impl Kube {
    pub fn new(
        oidc: oidc::Oidc,
        auth0: oidc::Oidc,
        avassa: avassa::Avassa,
        github: github::GitHub,
    ) -> Self {
        Self {
            oidc,
            auth0,
            avassa,
            github,
            seen: Arc::default(),
        }
    }

    /// Every request so far, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("kube log").clone()
    }

    fn accepts(&self, token: &str) -> bool {
        self.oidc.is_active(token)
            || self.auth0.is_active(token)
            || self.avassa.is_valid(token)
            || self.github.is_valid(token)
    }
}

pub fn router(state: Kube) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/api", get(api))
        .route("/apis", get(apis))
        .route("/api/v1", get(api_v1))
        .route("/api/v1/namespaces", get(namespaces))
        .with_state(state)
}

/// Counts the request; whether its token is taken.
fn admit(kube: &Kube, path: &str, headers: &HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let accepted = token.as_deref().is_some_and(|t| kube.accepts(t));
    kube.seen.lock().expect("kube log").push(Seen {
        path: path.to_string(),
        token,
        accepted,
    });
    accepted
}

fn answer(kube: &Kube, path: &str, headers: &HeaderMap, body: Value) -> Response {
    if admit(kube, path, headers) {
        return Json(body).into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401
        })),
    )
        .into_response()
}

async fn version(State(k): State<Kube>, headers: HeaderMap) -> Response {
    answer(
        &k,
        "/version",
        &headers,
        json!({
            "major": "1", "minor": "32", "gitVersion": "v1.32.0-latchkey-sandbox",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc",
            "platform": "linux/amd64"
        }),
    )
}

async fn api(State(k): State<Kube>, headers: HeaderMap) -> Response {
    answer(
        &k,
        "/api",
        &headers,
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]
        }),
    )
}

async fn apis(State(k): State<Kube>, headers: HeaderMap) -> Response {
    answer(
        &k,
        "/apis",
        &headers,
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
    )
}

async fn api_v1(State(k): State<Kube>, headers: HeaderMap) -> Response {
    answer(
        &k,
        "/api/v1",
        &headers,
        json!({
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [{
                "name": "namespaces", "singularName": "namespace", "namespaced": false,
                "kind": "Namespace", "verbs": ["get", "list"], "shortNames": ["ns"]
            }]
        }),
    )
}

async fn namespaces(State(k): State<Kube>, headers: HeaderMap) -> Response {
    let item = |name: &str| {
        json!({
            "metadata": {"name": name, "uid": format!("sandbox-{name}"),
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        })
    };
    answer(
        &k,
        "/api/v1/namespaces",
        &headers,
        json!({
            "kind": "NamespaceList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": "1"},
            "items": [item("default"), item("latchkey")]
        }),
    )
}
