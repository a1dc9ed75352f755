//! The quay protocol as its source documents it (see shared/protocols/README.md).
//! Empty until its login issue fills it: for now it answers `GET /` with its name
//! so tests can see where it is mounted.

use axum::{routing::get, Router};

pub fn router() -> Router {
    Router::new().route("/", get(|| async { "quay" }))
}
