//! The two ways `latchkey_core::http` sends a request, plain HTTP through
//! hyper and HTTPS through reqwest, against the sandbox over each: the plain
//! way must not build the TLS client (it loads the system's CA bundle), must
//! send what reqwest sends, and must word every failure as the TLS way words
//! it; an `https://` URL of an `http://` server goes over TLS with the
//! server's CA.

use latchkey_core::http::{client_for, send, with_timeouts, Answer};
use latchkey_core::model::{Server, ServerKind};
use latchkey_core::Error;
use latchkey_sandbox::faults::Fault;
use latchkey_sandbox::tls::TlsSandbox;
use latchkey_sandbox::Sandbox;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn server(url: String, ca_pem: Option<&str>) -> Server {
    Server {
        id: 1,
        name: "edge".into(),
        kind: ServerKind::Avassa,
        url,
        ca_pem: ca_pem.map(str::to_string),
    }
}

/// Avassa's login, as the provider sends it.
async fn login(server: &Server, base: &str) -> Result<Answer, Error> {
    let request = client_for(server)?
        .post(format!("{base}/v1/login"))
        .json(&serde_json::json!({"username": "alice", "password": "wrong", "tenant": "acme"}));
    send(server, request).await
}

#[tokio::test]
async fn plain_http_is_sent_without_building_the_tls_client() {
    let sandbox = Sandbox::start(0).await.unwrap();
    // A CA of its own, so that no other test shares (and builds) its client.
    let tls = TlsSandbox::start(latchkey_core::clock::system())
        .await
        .unwrap();
    let edge = server(sandbox.url_of("avassa"), Some(tls.ca_pem()));
    let answer = login(&edge, &edge.url).await.unwrap();
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert!(!client_for(&edge).unwrap().tls_built());
}

#[tokio::test]
async fn an_https_url_of_an_http_server_goes_over_tls_with_the_servers_ca() {
    // An issuer on http:// whose discovery document names https://
    // endpoints: each request's own scheme decides.
    let sandbox = Sandbox::start(0).await.unwrap();
    let tls = TlsSandbox::start(latchkey_core::clock::system())
        .await
        .unwrap();
    let issuer = server(sandbox.url_of("avassa"), Some(tls.ca_pem()));
    let answer = login(&issuer, &tls.url_of("avassa")).await.unwrap();
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert!(answer.url.starts_with("https://"), "{}", answer.url);
    assert!(client_for(&issuer).unwrap().tls_built());
    // Without the CA the same request is refused by TLS.
    let untrusting = server(sandbox.url_of("avassa"), None);
    let err = login(&untrusting, &tls.url_of("avassa"))
        .await
        .err()
        .expect("an untrusted certificate is refused");
    assert!(err.to_string().contains("--ca-file"), "{err}");
}

#[tokio::test]
async fn a_plain_request_carries_what_reqwest_would_send() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let head = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("\r\n\r\n{") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the request ended early");
            seen.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            .await
            .unwrap();
        String::from_utf8(seen).unwrap().to_lowercase()
    });
    let edge = server(format!("http://{addr}"), None);
    let request = client_for(&edge)
        .unwrap()
        .post(format!("http://{addr}/v1/x"))
        .query(&[("code", "a b"), ("state", "s")])
        .bearer_auth("tok")
        .json(&serde_json::json!({"k": 1}));
    let answer = send(&edge, request).await.unwrap();
    assert_eq!((answer.status, answer.text.as_str()), (200, "{}"));
    let head = head.await.unwrap();
    for line in [
        "post /v1/x?code=a+b&state=s http/1.1\r\n".to_string(),
        format!("host: {addr}\r\n"),
        format!("user-agent: latchkey/{}\r\n", env!("CARGO_PKG_VERSION")),
        "accept: application/json\r\n".into(),
        "authorization: bearer tok\r\n".into(),
        "content-type: application/json\r\n".into(),
        "content-length: 7\r\n".into(),
    ] {
        assert!(head.contains(&line), "{line:?} missing from {head}");
    }
}

/// A message without its detail (the error chain: the first group in
/// parentheses) and with the sandbox's base URL made alike.
fn gist(message: &str, base: &str) -> String {
    let message = message.replace(base, "BASE");
    let Some(open) = message.find(" (") else {
        return message;
    };
    let mut depth = 0;
    for (at, c) in message[open + 1..].char_indices() {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth == 0 {
            return format!("{}{}", &message[..open], &message[open + 2 + at..]);
        }
    }
    message
}

#[tokio::test]
async fn plain_http_words_every_fault_as_tls_does() {
    let sandbox = Sandbox::start(0).await.unwrap();
    let tls = TlsSandbox::start(latchkey_core::clock::system())
        .await
        .unwrap();
    let plain = server(sandbox.url_of("avassa"), None);
    let secure = server(tls.url_of("avassa"), Some(tls.ca_pem()));
    let route = "POST /avassa/v1/login";
    for fault in [
        Fault::Timeout,
        Fault::Reset,
        Fault::Html(502),
        Fault::Truncated,
        Fault::Huge,
        Fault::SlowLoris,
    ] {
        sandbox.faults().set(route, fault);
        tls.faults().set(route, fault);
        let (a, b) = with_timeouts(Duration::from_secs(2), Duration::from_secs(2), async {
            tokio::join!(login(&plain, &plain.url), login(&secure, &secure.url))
        })
        .await;
        let describe = |r: Result<Answer, Error>, base: &str| match r {
            Ok(answer) => format!(
                "{} {}",
                answer.status,
                answer.text.chars().take(60).collect::<String>()
            ),
            Err(err) => format!("{:?}: {}", err.code(), gist(&err.to_string(), base)),
        };
        let (a, b) = (
            describe(a, &sandbox.base_url()),
            describe(b, &tls.base_url()),
        );
        assert_eq!(a, b, "{fault:?}");
    }
}
