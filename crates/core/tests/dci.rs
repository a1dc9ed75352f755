//! DCI request signing (protocols §4): the published vectors byte for byte;
//! `dci-hmac` profiles against the sandbox's independent v2 verifier (who
//! the key is, signed requests of every shape accepted, each refusal turned
//! into words that say what to do, the clock skew measured from the
//! server's `Date`, tampering caught, repeated query keys refused before
//! sending, a missing secret, the login that has nothing to do); and
//! `dciauth` from PyPI validating hundreds of varied signatures as the DCI
//! server calls it.

mod common;
use base64::Engine as _;
use common::{item, profile, refused, ProfileInputExt, World};
use latchkey_core::dci::{self, AccessKey, RequestParts, SignedRequest};
use latchkey_core::model::ServerInput;
use latchkey_core::providers::LoginInput;
use latchkey_core::vault::{Secret, SecretKey, SecretSlot};
use latchkey_core::ErrorCode;
use latchkey_sandbox::dci as sb;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use time::format_description::FormatItem;
use time::macros::{datetime, format_description};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);
const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

fn timestamp(t: OffsetDateTime) -> String {
    t.format(TIMESTAMP).unwrap()
}

fn parse_timestamp(s: &str) -> OffsetDateTime {
    PrimitiveDateTime::parse(s, TIMESTAMP).unwrap().assume_utc()
}

// ---- the vectors ----

#[test]
fn the_three_published_vectors_match_byte_for_byte() {
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("fixtures/dci/dci_vectors.json")).unwrap();
    assert_eq!(vectors.len(), 3);
    for v in &vectors {
        let input = &v["input"];
        let s = |k: &str| input[k].as_str().unwrap().to_string();
        let params: Vec<(String, String)> = input["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let at = parse_timestamp(&s("timestamp"));
        let secret = Secret::new(s("secret_key"));
        let key = AccessKey::parse(&s("access_key")).unwrap();
        let parts = RequestParts {
            method: s("method"),
            host: s("host"),
            path: s("endpoint"),
            params: params.clone(),
            body: s("data").into_bytes(),
        };
        let sig = dci::sign_parts(&parts, &key, &secret, at).unwrap();
        let name = v["name"].as_str().unwrap();
        assert_eq!(sig.canonical_request, v["canonical_request"], "{name}");
        assert_eq!(sig.string_to_sign, v["string_to_sign"], "{name}");
        assert_eq!(sig.x_dci_date, v["headers"]["X-DCI-Date"], "{name}");
        assert_eq!(sig.authorization, v["headers"]["Authorization"], "{name}");

        // The same through a wire URL, as python-dciclient would send it.
        let url = dci::url_from_parts(&format!("https://{}", s("host")), &s("endpoint"), &params)
            .unwrap();
        let signed = dci::sign(
            &s("method"),
            url.as_str(),
            s("data").as_bytes(),
            &s("access_key"),
            &secret,
            at,
        )
        .unwrap();
        assert_eq!(
            signed.authorization, v["headers"]["Authorization"],
            "{name}"
        );
        assert_eq!(signed.host, s("host"));
        assert_eq!(signed.canonical_request, v["canonical_request"]);
    }
    // V2's wire URL as the spec writes it.
    let signed = dci::sign(
        "GET",
        "https://api.distributed-ci.io/api/v1/jobs?where=name%3Afoo+bar&limit=10&offset=0&sort=-created_at",
        b"",
        "3a8e6e8a-6b0e-4f5e-9b9f-2b0c6f1f7d11",
        &Secret::new(vectors[1]["input"]["secret_key"].as_str().unwrap()),
        datetime!(2025-01-02 03:04:05 UTC),
    )
    .unwrap();
    assert_eq!(
        signed.authorization, vectors[1]["headers"]["Authorization"],
        "a bare id is a remoteci"
    );
}

// ---- against the sandbox ----

async fn world() -> World {
    // Latchkey's clock and the sandbox's start together and can then disagree.
    let w = World::at(T0)
        .with_own_sandbox_clock()
        .with_server("dci", "dci")
        .build()
        .await;
    w.profile("lab", "dci", sb::REMOTECI_ACCESS_KEY, sb::REMOTECI_SECRET)
        .await;
    w.profile("feed", "dci", sb::FEEDER_ACCESS_KEY, sb::FEEDER_SECRET)
        .await;
    w
}

impl World {
    async fn profile(&self, name: &str, server: &str, key: &str, secret: &str) -> i64 {
        let input = profile(name, server, "dci-hmac").access_key(key);
        self.add(input.secret(secret)).await.id
    }

    async fn id_of(&self, name: &str) -> i64 {
        self.core.profile_named(name).await.unwrap().id
    }

    /// Sends a signed request as signed: its URL, headers, content type and
    /// body bytes.
    async fn send(&self, signed: &SignedRequest) -> (u16, Value) {
        let headers: Vec<(String, String)> = signed
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        self.send_raw(&signed.method, &signed.url, &headers, signed, &signed.body)
            .await
    }

    async fn send_raw(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        signed: &SignedRequest,
        body: &[u8],
    ) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        if let Some(ct) = &signed.content_type {
            req = req.header("Content-Type", ct);
        }
        let res = req.body(body.to_vec()).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn the_identity_check_says_whose_key_it_is() {
    let w = world().await;
    let items = w.core.dci_identity("lab").await.unwrap();
    assert_eq!(item(&items, "access key"), Some(sb::REMOTECI_ACCESS_KEY));
    assert_eq!(item(&items, "type"), Some("remoteci"));
    assert_eq!(item(&items, "name"), Some(sb::REMOTECI_NAME));
    assert_eq!(item(&items, "teams"), Some(sb::TEAM_NAME));
    assert_eq!(item(&items, "state"), Some("active"));
    assert_eq!(item(&items, "clock"), None, "the clocks agree");

    let items = w.core.dci_identity("feed").await.unwrap();
    assert_eq!(item(&items, "type"), Some("feeder"));
    assert_eq!(item(&items, "name"), Some(sb::FEEDER_NAME));

    // The profile's detail view asks the same through the provider.
    let info = w.core.token_info(w.id_of("lab").await).await.unwrap();
    assert_eq!(item(&info, "name"), Some(sb::REMOTECI_NAME));
    assert_eq!(item(&info, "access key"), Some(sb::REMOTECI_ACCESS_KEY));

    let paths: Vec<String> = w
        .sandbox
        .dci()
        .accepted()
        .into_iter()
        .map(|a| a.path)
        .collect();
    assert_eq!(
        paths[..2],
        [
            "/dci/api/v1/identity".to_string(),
            format!("/dci/api/v1/remotecis/{}", sb::REMOTECI_ID)
        ]
    );
}

#[tokio::test]
async fn signed_requests_of_every_shape_are_accepted_as_signed() {
    let w = world().await;
    let base = w.sandbox.url_of("dci");
    let port = w.sandbox.addr().port();
    // (method, URL as typed, body, path as the server reads it, query)
    type Shape<'a> = (&'a str, String, &'a [u8], &'a str, Vec<(&'a str, &'a str)>);
    let cases: Vec<Shape> = vec![
        (
            "GET",
            "/api/v1/jobs?where=name:foo bar&limit=10&sort=-created_at".into(),
            b"",
            "/dci/api/v1/jobs",
            vec![("where", "name:foo bar"), ("limit", "10"), ("sort", "-created_at")],
        ),
        (
            "get",
            "api/v1/topics?q=caf%C3%A9+%E2%9C%93&empty=&k%3Aey=a%2Fb%26c".into(),
            b"",
            "/dci/api/v1/topics",
            vec![("q", "café ✓"), ("empty", ""), ("k:ey", "a/b&c")],
        ),
        (
            "GET",
            "/api/v1/files/a b/日本?name=x:y".into(),
            b"",
            "/dci/api/v1/files/a b/日本",
            vec![("name", "x:y")],
        ),
        (
            "POST",
            "/api/v1/jobs".into(),
            br#"{"topic_id": "0b8f4a52-7a5c-4bb6-9c39-9f6d3a5d2c10", "comment": "caf\u00e9 \u2713"}"#,
            "/dci/api/v1/jobs",
            vec![],
        ),
        (
            "PUT",
            "/api/v1/jobs/1?embed=components".into(),
            "{\"status\": \"success\", \"note\": \"é ✓ 日本\"}".as_bytes(),
            "/dci/api/v1/jobs/1",
            vec![("embed", "components")],
        ),
        (
            "POST",
            "/api/v1/jobs/1/files".into(),
            b"\x00\x01binary\xff\xfe",
            "/dci/api/v1/jobs/1/files",
            vec![],
        ),
        ("DELETE", "/api/v1/jobs/1".into(), b"", "/dci/api/v1/jobs/1", vec![]),
        (
            "GET",
            format!("http://localhost:{port}/dci/api/v1/jobs?limit=1"),
            b"",
            "/dci/api/v1/jobs",
            vec![("limit", "1")],
        ),
        (
            "PATCH",
            format!("{base}/api/v1/jobs/%2541#fragment"),
            b"{}",
            "/dci/api/v1/jobs/A",
            vec![],
        ),
    ];
    for (method, url, body, path, params) in cases {
        let signed = w
            .core
            .sign_request("lab", method, &url, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        assert!(
            signed.host.starts_with("127.0.0.1:") || signed.host.starts_with("localhost:"),
            "the non-default port is signed: {}",
            signed.host
        );
        let (status, echo) = w.send(&signed).await;
        assert_eq!(status, 200, "{method} {url}: {echo}");
        assert_eq!(echo["method"], method.to_ascii_uppercase());
        assert_eq!(echo["path"], path, "{url}");
        let expected: serde_json::Map<String, Value> = params
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        assert_eq!(echo["params"], Value::Object(expected), "{url}");
        let accepted = w.sandbox.dci().accepted().pop().unwrap();
        assert_eq!(accepted.body, body, "{url}: the exact bytes");
        assert_eq!(accepted.client, sb::REMOTECI_ACCESS_KEY);
    }

    // The feeder signs too, and the curl line says the same as the headers.
    let signed = w
        .core
        .sign_request("feed", "POST", "/api/v1/jobs", b"{\"a\": 1}")
        .await
        .unwrap();
    assert_eq!(w.send(&signed).await.0, 200);
    assert!(signed.curl.contains(&signed.authorization));
    assert!(signed.curl.contains("--data-raw '{\"a\": 1}'"));
    assert_eq!(signed.content_type.as_deref(), Some("application/json"));

    // What left Latchkey is in the history: method and path, no signature.
    w.core.record_signed("feed", &signed).await.unwrap();
    let feed = w.core.profile_named("feed").await.unwrap();
    let history = w.core.credential(feed.id).await.unwrap().history;
    let last = history.last().unwrap();
    assert_eq!(last.event, "signed");
    assert_eq!(last.detail.as_deref(), Some("POST /dci/api/v1/jobs"));
    assert!(!format!("{history:?}").contains(&signed.authorization));
}

#[tokio::test]
async fn a_wrong_secret_says_the_secret_is_probably_wrong() {
    let w = world().await;
    w.profile("bad", "dci", sb::REMOTECI_ACCESS_KEY, "not-the-secret")
        .await;
    let err = w.core.dci_identity("bad").await.unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(400), Some("secret")));
    assert!(
        message.contains("the secret key is probably wrong")
            && message.contains("signature is invalid"),
        "{message}"
    );
    assert_eq!(err.code(), ErrorCode::ServerRefused);
    assert!(!message.contains("not-the-secret"));
}

#[tokio::test]
async fn an_unknown_remoteci_or_feeder_says_to_check_the_id() {
    let w = world().await;
    w.profile(
        "gone",
        "dci",
        "remoteci/00000000-0000-4000-8000-000000000000",
        sb::REMOTECI_SECRET,
    )
    .await;
    let err = w.core.dci_identity("gone").await.unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(404), Some("access_key")));
    assert!(
        message.contains("the server knows no remoteci/00000000-0000-4000-8000-000000000000")
            && message.contains("check the id"),
        "{message}"
    );
    w.profile("gone-feeder", "dci", "feeder/nope", sb::FEEDER_SECRET)
        .await;
    let err = w.core.dci_identity("gone-feeder").await.unwrap_err();
    assert!(refused(&err).2.contains("feeder not found"), "{err}");
}

#[tokio::test]
async fn a_client_type_other_than_remoteci_or_feeder_never_leaves_the_machine() {
    let w = world().await;
    let err = w
        .core
        .add_profile(
            &profile("robot", "dci", "dci-hmac")
                .access_key("user/abc")
                .secret("s"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("access_key"));
    assert!(
        err.to_string().contains("remoteci/<id>, feeder/<id>"),
        "{err}"
    );
    let err = dci::sign(
        "GET",
        &format!("{}/api/v1/identity", w.sandbox.url_of("dci")),
        b"",
        "user/abc",
        &Secret::new("s"),
        T0,
    )
    .unwrap_err();
    assert!(err.to_string().contains("remoteci/<id>"), "{err}");

    // What the server says when one is sent anyway.
    let signed = w
        .core
        .sign_request("lab", "GET", "/api/v1/identity", b"")
        .await
        .unwrap();
    let forged = signed.authorization.replace("remoteci/", "user/");
    let headers = vec![
        ("X-DCI-Date".to_string(), signed.x_dci_date.clone()),
        ("Authorization".to_string(), forged),
    ];
    let (status, body) = w.send_raw("GET", &signed.url, &headers, &signed, b"").await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"status_code": 401, "message": "identity does not exists.", "payload": {}})
        )
    );
}

#[tokio::test]
async fn a_clock_off_by_more_than_15_minutes_is_named_with_the_measured_skew() {
    let w = world().await;
    w.clock.set(T0 + Duration::minutes(20));
    let err = w.core.dci_identity("lab").await.unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(400), None));
    assert!(
        message.starts_with("your clock is off by more than 15 minutes: this computer's clock is 20 min ahead of the server's (server 2026-06-01T09:00:00Z, here 2026-06-01T09:20:00Z)"),
        "{message}"
    );
    assert!(message.contains("correct the system time"), "{message}");

    w.clock.set(T0 - Duration::seconds(16 * 60 + 30));
    let err = w.core.dci_identity("lab").await.unwrap_err();
    assert!(
        refused(&err).2.contains("16 min 30 s behind the server's"),
        "{err}"
    );

    // Within the window: accepted, with a warning when it is large.
    w.clock.set(T0 + Duration::minutes(10));
    let items = w.core.dci_identity("lab").await.unwrap();
    let clock = item(&items, "clock").unwrap();
    assert!(
        clock.contains("10 min ahead of the server's") && clock.contains("past 15 min"),
        "{clock}"
    );
    w.clock.set(T0 + Duration::minutes(14));
    let signed = w
        .core
        .sign_request("lab", "GET", "/api/v1/jobs", b"")
        .await
        .unwrap();
    assert_eq!(w.send(&signed).await.0, 200);
}

#[tokio::test]
async fn tampered_body_path_query_and_date_are_refused_by_the_server() {
    let w = world().await;
    let signed = w
        .core
        .sign_request("lab", "POST", "/api/v1/jobs?limit=1", b"{\"name\": \"a\"}")
        .await
        .unwrap();
    let headers = |date: &str| {
        vec![
            ("X-DCI-Date".to_string(), date.to_string()),
            ("Authorization".to_string(), signed.authorization.clone()),
        ]
    };
    let invalid = json!({"status_code": 400, "message": "HmacMechanism failed: signature is invalid", "payload": {}});
    let ok = headers(&signed.x_dci_date);
    assert_eq!(
        w.send_raw("POST", &signed.url, &ok, &signed, b"{\"name\": \"b\"}")
            .await,
        (400, invalid.clone()),
        "body"
    );
    let other_path = signed.url.replace("/jobs?", "/jobz?");
    assert_eq!(
        w.send_raw("POST", &other_path, &ok, &signed, &signed.body)
            .await,
        (400, invalid.clone()),
        "path"
    );
    let other_query = signed.url.replace("limit=1", "limit=2");
    assert_eq!(
        w.send_raw("POST", &other_query, &ok, &signed, &signed.body)
            .await,
        (400, invalid.clone()),
        "query"
    );
    assert_eq!(
        w.send_raw("PUT", &signed.url, &ok, &signed, &signed.body)
            .await,
        (400, invalid.clone()),
        "method"
    );
    let later = timestamp(parse_timestamp(&signed.x_dci_date) + Duration::seconds(1));
    assert_eq!(
        w.send_raw("POST", &signed.url, &headers(&later), &signed, &signed.body)
            .await,
        (400, invalid.clone()),
        "date"
    );
    let older = timestamp(parse_timestamp(&signed.x_dci_date) - Duration::minutes(16));
    assert_eq!(
        w.send_raw("POST", &signed.url, &headers(&older), &signed, &signed.body)
            .await
            .1["message"],
        "HmacMechanism failed: signature is expired",
    );
    // Sent as a form, the server reads no body: why the content type is JSON.
    let mut form = signed.clone();
    form.content_type = Some("application/x-www-form-urlencoded".into());
    assert_eq!(
        w.send_raw("POST", &signed.url, &ok, &form, &signed.body)
            .await,
        (400, invalid),
        "form"
    );
    assert_eq!(w.send(&signed).await.0, 200, "and untouched, it passes");
}

#[tokio::test]
async fn a_repeated_query_key_is_refused_before_sending() {
    let w = world().await;
    let err = w
        .core
        .sign_request("lab", "GET", "/api/v1/jobs?where=a&limit=1&where=b", b"")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid);
    assert_eq!(err.field(), Some("url"));
    assert!(
        err.to_string()
            .contains("the query repeats the key 'where'")
            && err.to_string().contains("send each key once"),
        "{err}"
    );
    assert!(w.sandbox.dci().accepted().is_empty());
    assert!(w.sandbox.dci().refused().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_secret_missing_from_the_keyring_asks_to_enter_it_again() {
    let w = world().await;
    let id = w.id_of("lab").await;
    w.vault
        .delete(SecretKey::new(id, SecretSlot::SigningKey))
        .await
        .unwrap();
    let err = w
        .core
        .sign_request("lab", "GET", "/api/v1/identity", b"")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired);
    assert!(
        err.to_string().contains(
            "the secret key of 'lab' is not in the keyring: enter it again in the profile"
        ),
        "{err}"
    );
    let err = w.core.dci_identity("lab").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired);
    let err = w.core.token_info(id).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginRequired);
    assert!(err.to_string().contains("enter it in the profile"), "{err}");
}

#[tokio::test]
async fn logging_in_a_dci_profile_says_there_is_nothing_to_log_in() {
    let w = world().await;
    let err = w
        .core
        .login("lab", LoginInput::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid);
    let text = err.to_string();
    assert!(
        text.contains("'lab' has nothing to log in")
            && text.contains("latchkey sign lab METHOD URL"),
        "{text}"
    );
    assert!(w.sandbox.dci().accepted().is_empty());
}

#[tokio::test]
async fn an_inactive_team_a_wrong_server_url_and_other_profiles_are_explained() {
    let w = world().await;
    w.sandbox.dci().set_team_active(false);
    let err = w.core.dci_identity("lab").await.unwrap_err();
    let (status, _, message) = refused(&err);
    assert_eq!(status, Some(412));
    assert!(
        message.contains("is not active: ask a DCI administrator")
            && message.contains("team sandbox-lab not active"),
        "{message}"
    );
    w.sandbox.dci().set_team_active(true);

    w.core
        .add_server(&ServerInput {
            name: "typo".into(),
            kind: "dci".into(),
            url: format!("{}/dcx", w.sandbox.base_url()),
            ca_pem: None,
        })
        .await
        .unwrap();
    w.profile("typo", "typo", sb::REMOTECI_ACCESS_KEY, sb::REMOTECI_SECRET)
        .await;
    let err = w.core.dci_identity("typo").await.unwrap_err();
    let (status, field, message) = refused(&err);
    assert_eq!((status, field), (Some(404), Some("url")));
    assert!(
        message.contains("/dcx/api/v1/identity does not exist")
            && message.contains("without /api/v1"),
        "{message}"
    );

    w.add(profile("pasted", "dci", "manual-token").secret("tok"))
        .await;
    let err = w
        .core
        .sign_request("pasted", "GET", "/api/v1/identity", b"")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("only dci-hmac profiles sign requests"),
        "{err}"
    );
    let err = w
        .core
        .sign_request("nobody", "GET", "/api/v1/identity", b"")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

// ---- dciauth from PyPI ----

/// SplitMix64: a small generator whose sequence never changes, so the
/// requests are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    fn text(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| *self.pick(alphabet) as char).collect()
    }
}

const BASES: &[&str] = &[
    "https://api.distributed-ci.io",
    "https://dci.example.com:8443",
    "http://127.0.0.1:5000",
    "http://[::1]:8080",
    "https://DCI.Example.com:443",
    "http://localhost:80",
    "http://dci.lab.example:8080/prefix",
];

const PATHS: &[&str] = &[
    "/api/v1/identity",
    "/api/v1/jobs",
    "/api/v1/jobs/{id}",
    "/api/v1/jobs/{id}/files",
    "/api/v1/remotecis/{id}",
    "/api/v1/a b/ç",
    "/api/v1/topics/日本語",
    "/api/v1/x:y/z",
    "/api/v1/jobs/%2541",
    "/api/v1/jobs/a%2Fb",
    "/api/v1/~user/.hidden",
    "/api/v1/components/name+with+plus",
    "/api/v1/emoji/😀",
];

const KEYS: &[&str] = &[
    "where", "limit", "offset", "sort", "embed", "q", "a b", "k:ey", "ключ", "empty", "plus+",
    "_x.y-z~",
];

/// Values that survive a literal query (no `&`, `=`, `%`, `+` or `#`).
const PLAIN_VALUES: &[&str] = &[
    "name:foo bar",
    "10",
    "0",
    "-created_at",
    "jobstates,components",
    "café ✓",
    "",
    "x/y?z",
    "日本語",
    "  spaced  ",
    "a:b:c",
];

/// Values that must be form-encoded.
const ENCODED_VALUES: &[&str] = &["a&b=c", "100%", "+", "1+1=2", "#hash", "%41"];

fn random_body(rng: &mut Rng, method: &str) -> Vec<u8> {
    let quiet = matches!(method, "GET" | "DELETE" | "get");
    if quiet && rng.below(4) != 0 {
        return Vec::new();
    }
    match rng.below(5) {
        0 => Vec::new(),
        1 => format!(r#"{{"topic_id": "{}", "components_ids": []}}"#, rng.uuid()).into_bytes(),
        2 => {
            let v = *rng.pick(PLAIN_VALUES);
            format!(
                "{{\"name\": {}, \"comment\": \"café ✓ 日本\", \"n\": {}}}",
                serde_json::to_string(v).unwrap(),
                rng.below(1000)
            )
            .into_bytes()
        }
        // JSON that reads like binary: escapes of control characters and
        // surrogate pairs, raw non-ASCII.
        3 => r#"{"data": "\u0000\u001f\u00ff\ud83d\ude00", "raw": "é ✓", "tab": "\t"}"#
            .as_bytes()
            .to_vec(),
        _ => (0..1 + rng.below(64)).map(|_| rng.next() as u8).collect(),
    }
}

/// One signed request and what dciauth must say of it.
struct Case {
    id: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    secret: String,
    now: OffsetDateTime,
    expect: &'static str,
    /// The Authorization dciauth must generate for the same request.
    authorization: Option<String>,
}

impl Case {
    fn to_json(&self) -> Value {
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        json!({
            "id": self.id,
            "method": self.method,
            "url": self.url,
            "headers": headers,
            "body_b64": base64::engine::general_purpose::STANDARD.encode(&self.body),
            "secret": self.secret,
            "now": timestamp(self.now),
        })
    }
}

fn generate_cases(count: usize) -> Vec<Case> {
    let mut rng = Rng(0x1a7c_4e5d_0dc1_2026);
    let start = datetime!(2020-01-01 00:00 UTC);
    let mut cases = Vec::new();
    for i in 0..count {
        let method = *rng.pick(&["GET", "POST", "PUT", "DELETE", "PATCH", "get"]);
        let base = *rng.pick(BASES);
        let path = rng.pick(PATHS).replace("{id}", &rng.uuid());
        let n_params = rng.below(5);
        let mut keys: Vec<&str> = Vec::new();
        while keys.len() < n_params {
            let k = *rng.pick(KEYS);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let url = if rng.below(2) == 0 {
            // Form-encoded, as python-dciclient's requests would send it.
            let params: Vec<(String, String)> = keys
                .iter()
                .map(|k| {
                    let v = if rng.below(3) == 0 {
                        rng.pick(ENCODED_VALUES)
                    } else {
                        rng.pick(PLAIN_VALUES)
                    };
                    (k.to_string(), v.to_string())
                })
                .collect();
            dci::url_from_parts(base, &format!("{}{path}", url_path_of(base)), &params)
                .unwrap()
                .to_string()
        } else {
            // Typed by a person: spaces, colons and unicode as they are.
            let query: Vec<String> = keys
                .iter()
                .filter(|k| !k.contains('+'))
                .map(|k| format!("{k}={}", rng.pick(PLAIN_VALUES)))
                .collect();
            if query.is_empty() {
                format!("{base}{path}")
            } else {
                format!("{base}{path}?{}", query.join("&"))
            }
        };
        let body = random_body(&mut rng, method);
        let id = rng.uuid();
        let access_key = match rng.below(3) {
            0 => format!("remoteci/{id}"),
            1 => format!("feeder/{id}"),
            _ => id,
        };
        let secret = if rng.below(4) == 0 {
            rng.text(
                b"abcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~",
                40,
            )
        } else {
            rng.text(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                64,
            )
        };
        let at = start + Duration::seconds((rng.next() % (10 * 365 * 86_400)) as i64);
        let signed = dci::sign(method, &url, &body, &access_key, &Secret::new(&secret), at)
            .unwrap_or_else(|e| panic!("case {i}: {method} {url}: {e}"));
        let now = at + Duration::seconds(rng.below(28 * 60) as i64 - 14 * 60);
        let headers = |date: &str| {
            let mut h = vec![
                ("X-DCI-Date".to_string(), date.to_string()),
                ("Authorization".to_string(), signed.authorization.clone()),
            ];
            if let Some(ct) = &signed.content_type {
                h.push(("Content-Type".into(), ct.clone()));
            }
            h
        };
        let case = |suffix: &str,
                    url: &str,
                    headers: Vec<(String, String)>,
                    body: &[u8],
                    now: OffsetDateTime,
                    expect: &'static str| Case {
            id: format!("{i}{suffix}"),
            method: signed.method.clone(),
            url: url.to_string(),
            headers,
            body: body.to_vec(),
            secret: secret.clone(),
            now,
            expect,
            authorization: None,
        };
        let mut base_case = case("", &signed.url, headers(&signed.x_dci_date), &body, now, "");
        base_case.authorization = Some(signed.authorization.clone());
        cases.push(base_case);

        let mut tampered_body = body.clone();
        tampered_body.push(b'x');
        let mut path_url = url::Url::parse(&signed.url).unwrap();
        path_url.set_path(&format!("{}x", path_url.path()));
        let later = timestamp(at + Duration::seconds(1));
        for (suffix, url, headers, body, now, expect) in [
            (
                "-body",
                signed.url.clone(),
                headers(&signed.x_dci_date),
                tampered_body,
                now,
                "signature is invalid",
            ),
            (
                "-path",
                path_url.to_string(),
                headers(&signed.x_dci_date),
                body.clone(),
                now,
                "signature is invalid",
            ),
            (
                "-date",
                signed.url.clone(),
                headers(&later),
                body.clone(),
                now,
                "signature is invalid",
            ),
            (
                "-expired",
                signed.url.clone(),
                headers(&signed.x_dci_date),
                body.clone(),
                at + Duration::seconds(16 * 60 + 1),
                "signature is expired",
            ),
            (
                "-secret",
                signed.url.clone(),
                headers(&signed.x_dci_date),
                body.clone(),
                now,
                "signature is invalid",
            ),
        ] {
            let mut c = case(suffix, &url, headers, &body, now, expect);
            if suffix == "-secret" {
                c.secret.push('x');
            }
            cases.push(c);
        }
    }
    cases
}

/// The path part of a base URL (`/prefix` of `http://h:8080/prefix`).
fn url_path_of(base: &str) -> String {
    url::Url::parse(base)
        .unwrap()
        .path()
        .trim_end_matches('/')
        .to_string()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn dciauth_from_pypi_validates_every_signature_and_rejects_every_tampering() {
    let python = repo_root().join("target/pyenv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make test-deps` (scripts/install-deps.sh --test), which installs dciauth from PyPI into target/pyenv",
        python.display()
    );
    let cases = generate_cases(240);
    let base_count = cases.iter().filter(|c| c.expect.is_empty()).count();
    assert!(base_count >= 200);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.json");
    let doc = Value::Array(cases.iter().map(Case::to_json).collect());
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dci/validate.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "validate.py failed (is dciauth installed? run `make test-deps`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), cases.len());
    let mut failures = Vec::new();
    for (case, result) in cases.iter().zip(&results) {
        assert_eq!(result["id"], case.id.as_str());
        let valid = result["valid"].as_bool().unwrap();
        let message = result["message"].as_str().unwrap_or_default();
        let ok = if case.expect.is_empty() {
            valid && result["authorization"].as_str() == case.authorization.as_deref()
        } else {
            !valid && message == case.expect
        };
        if !ok {
            failures.push(format!(
                "{} {} {} (body {} bytes): expected {}, dciauth said {result}",
                case.id,
                case.method,
                case.url,
                case.body.len(),
                if case.expect.is_empty() {
                    "valid"
                } else {
                    case.expect
                },
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
