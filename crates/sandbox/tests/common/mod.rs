//! What the sandbox's protocol tests share: the sandbox on a loopback port on
//! a clock the test moves, a client that reads each redirect instead of
//! following it, and form encoding.
#![allow(dead_code)] // each test file uses its own part

use latchkey_core::clock::ManualClock;
use latchkey_sandbox::Sandbox;
use std::sync::Arc;
use time::OffsetDateTime;

pub struct Env {
    pub sandbox: Sandbox,
    pub clock: ManualClock,
    /// Does not follow redirects.
    pub http: reqwest::Client,
    /// Where the protocol under test is mounted.
    pub base: String,
}

/// The sandbox with its clock at `at`; `base` is `protocol`'s place in it.
pub async fn start(at: OffsetDateTime, protocol: &str) -> Env {
    let clock = ManualClock::new(at);
    let sandbox = Sandbox::start_with_clock(0, Arc::new(clock.clone()))
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = sandbox.url_of(protocol);
    Env {
        sandbox,
        clock,
        http,
        base,
    }
}

/// `application/x-www-form-urlencoded` (or a query string) of `pairs`.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}
