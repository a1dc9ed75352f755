//! Fault injection: any route of the sandbox can be told, at run time, to
//! misbehave the way real servers and networks do, so tests see what a user
//! sees when a login or a renewal meets them. One switch per route
//! (`"POST /oidc/token"`: method and path as the client sends them), set
//! through [`Faults`] in-process or `/_sandbox/faults` from another process
//! (see [`crate::control`]).
//!
//! Everything happens in one middleware around the whole router
//! ([`inject`]); the protocol modules know nothing of it. Two faults need the
//! connection itself: a reset (the sandbox's listeners hand out
//! [`FaultStream`]s, which can be told to end with a TCP RST) and a TLS
//! failure (the HTTPS sandbox presents another certificate, see
//! [`TlsFault`]; it is per server, since the handshake comes before any
//! route is known).
//!
//! Every request is counted per route, faulty or not, so a test can tell
//! that a client backed off (no new request) or wait for a request to
//! arrive (the crash test kills a process once its refresh reached the
//! server).

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How a route misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Takes the request and never answers.
    Timeout,
    /// Cuts the connection with a TCP reset before answering.
    Reset,
    /// This status (500, 502, 503, ...) with an HTML error page, as a crashed
    /// application server or a proxy in front of it sends.
    Html(u16),
    /// The real answer cut in half (a proxy that gave up half-way).
    Truncated,
    /// A 200 that says it is JSON and is not (nor UTF-8).
    Garbage,
    /// The real answer without what the client came for: the JSON fields
    /// that carry a token (or DCI's identity), the session cookies, the
    /// token in a redirect's fragment.
    NoToken,
    /// A 200 whose body does not end (well: 64 MiB): the client must stop
    /// reading.
    Huge,
    /// The headers at once, then the body one byte every 200 ms, without
    /// end: the client must give up in time.
    SlowLoris,
    /// The real answer, this many milliseconds late.
    Delay(u64),
}

impl Fault {
    /// The faults every login and renewal path is tested against.
    pub const ALL: &'static [Fault] = &[
        Fault::Timeout,
        Fault::Reset,
        Fault::Html(500),
        Fault::Html(502),
        Fault::Html(503),
        Fault::Truncated,
        Fault::Garbage,
        Fault::NoToken,
        Fault::Huge,
        Fault::SlowLoris,
    ];
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Timeout => f.write_str("timeout"),
            Fault::Reset => f.write_str("reset"),
            Fault::Html(status) => write!(f, "html-{status}"),
            Fault::Truncated => f.write_str("truncated"),
            Fault::Garbage => f.write_str("garbage"),
            Fault::NoToken => f.write_str("no-token"),
            Fault::Huge => f.write_str("huge"),
            Fault::SlowLoris => f.write_str("slow-loris"),
            Fault::Delay(ms) => write!(f, "delay-{ms}"),
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |prefix: &str| s.strip_prefix(prefix).and_then(|n| n.parse().ok());
        Ok(match s {
            "timeout" => Fault::Timeout,
            "reset" => Fault::Reset,
            "truncated" => Fault::Truncated,
            "garbage" => Fault::Garbage,
            "no-token" => Fault::NoToken,
            "huge" => Fault::Huge,
            "slow-loris" => Fault::SlowLoris,
            _ => match (number("html-"), number("delay-")) {
                (Some(status @ 400..=599), _) => Fault::Html(status as u16),
                (_, Some(ms)) => Fault::Delay(ms),
                _ => {
                    return Err(format!(
                        "unknown fault '{s}': timeout, reset, html-500 (any 4xx/5xx), truncated, garbage, no-token, huge, slow-loris or delay-MS"
                    ))
                }
            },
        })
    }
}

/// What the HTTPS sandbox presents instead of its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFault {
    /// A certificate from a CA the client was not told to trust.
    Untrusted,
    /// Its own CA's certificate, expired yesterday.
    Expired,
}

impl FromStr for TlsFault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "untrusted" => Ok(TlsFault::Untrusted),
            "expired" => Ok(TlsFault::Expired),
            _ => Err(format!("unknown TLS fault '{s}': untrusted or expired")),
        }
    }
}

struct Rule {
    fault: Fault,
    /// Requests left to fault; `None`: until cleared.
    times: Option<u32>,
}

#[derive(Default)]
struct Inner {
    rules: HashMap<String, Rule>,
    requests: HashMap<String, u64>,
    tls: Option<TlsFault>,
    /// Open connections, by peer address, and whether to reset each.
    connections: HashMap<SocketAddr, Arc<AtomicBool>>,
}

/// The fault switches of one sandbox; clones share them.
#[derive(Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<tokio::sync::Notify>,
}

/// `"POST /oidc/token"` as the key of a route, however it was written.
fn route_key(route: &str) -> String {
    let (method, path) = route
        .trim()
        .split_once(' ')
        .unwrap_or(("GET", route.trim()));
    format!("{} {}", method.trim().to_ascii_uppercase(), path.trim())
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("faults lock")
    }

    /// Makes `route` (`"POST /oidc/token"`) misbehave until cleared.
    pub fn set(&self, route: &str, fault: Fault) {
        self.lock()
            .rules
            .insert(route_key(route), Rule { fault, times: None });
    }

    /// Makes the next `times` requests to `route` misbehave, then the route
    /// behaves again.
    pub fn set_times(&self, route: &str, fault: Fault, times: u32) {
        self.lock().rules.insert(
            route_key(route),
            Rule {
                fault,
                times: Some(times),
            },
        );
    }

    /// Makes `route` behave again.
    pub fn clear(&self, route: &str) {
        self.lock().rules.remove(&route_key(route));
    }

    /// Makes every route behave again, and the TLS handshake too.
    pub fn clear_all(&self) {
        let mut s = self.lock();
        s.rules.clear();
        s.tls = None;
    }

    /// Requests that reached `route` so far, faulty or not.
    pub fn requests(&self, route: &str) -> u64 {
        self.lock()
            .requests
            .get(&route_key(route))
            .copied()
            .unwrap_or(0)
    }

    /// Waits until more than `seen` requests reached `route`, for at most
    /// `wait`; returns the count then.
    pub async fn wait_requests(&self, route: &str, seen: u64, wait: Duration) -> u64 {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.arrived.notified();
            let now = self.requests(route);
            if now > seen {
                return now;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.requests(route);
            }
        }
    }

    /// What the HTTPS sandbox presents in its next handshakes (`None`: its
    /// own valid certificate).
    pub fn set_tls(&self, fault: Option<TlsFault>) {
        self.lock().tls = fault;
    }

    pub fn tls(&self) -> Option<TlsFault> {
        self.lock().tls
    }

    /// Counts a request and says whether it is to misbehave.
    fn arrive(&self, key: &str) -> Option<Fault> {
        let fault = {
            let mut s = self.lock();
            *s.requests.entry(key.to_string()).or_default() += 1;
            let rule = s.rules.get_mut(key);
            match rule {
                Some(Rule {
                    fault,
                    times: Some(n),
                }) => {
                    let fault = *fault;
                    *n -= 1;
                    if *n == 0 {
                        s.rules.remove(key);
                    }
                    Some(fault)
                }
                Some(Rule { fault, times: None }) => Some(*fault),
                None => None,
            }
        };
        self.arrived.notify_waiters();
        fault
    }

    fn cut(&self, peer: SocketAddr) -> bool {
        match self.lock().connections.get(&peer) {
            Some(flag) => {
                flag.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}

/// The client's address, for the middleware to find its connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, FaultListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, FaultListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A TCP connection of the sandbox that a [`Fault::Reset`] can end with a
/// reset: once told to, its next read or write sets `SO_LINGER` to zero and
/// fails, and closing it then sends RST instead of FIN.
pub struct FaultStream {
    tcp: TcpStream,
    peer: SocketAddr,
    cut: Arc<AtomicBool>,
    faults: Faults,
}

impl FaultStream {
    pub fn new(tcp: TcpStream, peer: SocketAddr, faults: Faults) -> Self {
        let cut = Arc::new(AtomicBool::new(false));
        faults.lock().connections.insert(peer, cut.clone());
        Self {
            tcp,
            peer,
            cut,
            faults,
        }
    }

    fn reset_if_cut(&self) -> Option<io::Error> {
        if !self.cut.load(Ordering::SeqCst) {
            return None;
        }
        let _ = self.tcp.set_zero_linger();
        Some(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "the sandbox cut this connection (fault: reset)",
        ))
    }
}

impl Drop for FaultStream {
    fn drop(&mut self) {
        self.faults.lock().connections.remove(&self.peer);
    }
}

impl AsyncRead for FaultStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.reset_if_cut() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.reset_if_cut() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.reset_if_cut() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// The plain-HTTP sandbox's listener: TCP, each connection a
/// [`FaultStream`].
pub struct FaultListener {
    pub tcp: tokio::net::TcpListener,
    pub faults: Faults,
}

impl axum::serve::Listener for FaultListener {
    type Io = FaultStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.tcp.accept().await {
                Ok((tcp, peer)) => return (FaultStream::new(tcp, peer, self.faults.clone()), peer),
                // Out of file descriptors and the like: wait, as axum's own
                // listener does.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The middleware around every route: counts the request, and if its route
/// is to misbehave, does.
pub async fn inject(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let key = format!("{} {}", request.method(), request.uri().path());
    let Some(fault) = faults.arrive(&key) else {
        return next.run(request).await;
    };
    match fault {
        Fault::Timeout => std::future::pending().await,
        Fault::Reset => {
            let peer = request.extensions().get::<ConnectInfo<Peer>>().copied();
            let cut = peer.is_some_and(|ConnectInfo(Peer(addr))| faults.cut(addr));
            if !cut {
                // A listener without fault streams: the closest it can do is
                // to drop the connection without an answer.
                panic!("fault reset on {key}: the connection cannot be reset here");
            }
            // The answer is never written: writing it resets the connection.
            StatusCode::OK.into_response()
        }
        Fault::Html(status) => html_page(status),
        Fault::Truncated => truncated(next.run(request).await).await,
        Fault::Garbage => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            Bytes::from_static(
                b"\xef\xbb\xbf{\"access_token\": \x00\x01 <!-- not JSON --> \xff\xfe",
            ),
        )
            .into_response(),
        Fault::NoToken => without_token(next.run(request).await).await,
        Fault::Huge => huge(),
        Fault::SlowLoris => slow_loris(),
        Fault::Delay(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(request).await
        }
    }
}

fn html_page(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Error");
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>{code} {reason}</title></head>\n<body><center><h1>{code} {reason}</h1></center>\n<hr><center>nginx</center>\n</body></html>\n",
        code = status.as_u16()
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

/// The whole body of a response the sandbox itself made (small).
async fn body_of(response: Response) -> (axum::http::response::Parts, Bytes) {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    (parts, bytes)
}

/// Cuts the body (or, for a redirect, its `Location`) in half.
async fn truncated(response: Response) -> Response {
    let (mut parts, bytes) = body_of(response).await;
    parts.headers.remove(header::CONTENT_LENGTH);
    if bytes.is_empty() {
        if let Some(location) = parts.headers.get(header::LOCATION).cloned() {
            let text = location.as_bytes();
            if let Ok(half) = HeaderValue::from_bytes(&text[..text.len() / 2]) {
                parts.headers.insert(header::LOCATION, half);
            }
        }
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)))
}

/// The fields that carry what a client came for: tokens, Kontinuous' JWT,
/// Quay's CSRF token, DCI's identity, the URL an Avassa OIDC login opens,
/// the issuer a discovery document names.
const WANTED_FIELDS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "jwt",
    "csrf_token",
    "identity",
    "url",
    "issuer",
];

/// The answer without its token: JSON fields, session cookies, the
/// fragment's token of a redirect.
async fn without_token(response: Response) -> Response {
    let (mut parts, bytes) = body_of(response).await;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::SET_COOKIE);
    parts.headers.remove("x-next-csrf-token");
    if let Some(location) = parts
        .headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.split_once('#'))
        .map(|(before, fragment)| {
            let kept: Vec<&str> = fragment
                .split('&')
                .filter(|p| !p.starts_with("access_token="))
                .collect();
            format!("{before}#{}", kept.join("&"))
        })
    {
        if let Ok(v) = HeaderValue::from_str(&location) {
            parts.headers.insert(header::LOCATION, v);
        }
    }
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut map)) => {
            for field in WANTED_FIELDS {
                map.remove(*field);
            }
            Bytes::from(Value::Object(map).to_string())
        }
        _ => bytes,
    };
    Response::from_parts(parts, Body::from(body))
}

/// 64 MiB of a JSON string that never closes, in 64 KiB chunks.
fn huge() -> Response {
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 1024;
    let opening = Bytes::from_static(b"{\"access_token\": \"");
    let filler = Bytes::from(vec![b'a'; CHUNK]);
    let chunks = std::iter::once(opening)
        .chain(std::iter::repeat_n(filler, CHUNKS))
        .map(Ok::<_, io::Error>);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream_of(chunks)),
    )
        .into_response()
}

/// The headers now, then a byte every 200 ms, for ever.
fn slow_loris() -> Response {
    let bytes = std::iter::once(Bytes::from_static(b"{"))
        .chain(std::iter::repeat(Bytes::from_static(b" ")));
    let stream = Paced {
        items: Box::new(bytes),
        pause: Duration::from_millis(200),
        sleep: None,
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// An iterator as a stream, without a pause.
fn stream_of<I>(items: I) -> Paced
where
    I: Iterator<Item = Result<Bytes, io::Error>> + Send + 'static,
{
    Paced {
        items: Box::new(items.map(|r| r.unwrap_or_default())),
        pause: Duration::ZERO,
        sleep: None,
    }
}

/// Yields its items with a pause before each (none when zero).
struct Paced {
    items: Box<dyn Iterator<Item = Bytes> + Send>,
    pause: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl futures_core::Stream for Paced {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if !this.pause.is_zero() {
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(this.pause)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
        Poll::Ready(this.items.next().map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_read_back_as_they_print() {
        for f in Fault::ALL.iter().copied().chain([Fault::Delay(250)]) {
            assert_eq!(f.to_string().parse::<Fault>(), Ok(f));
        }
        assert!("html-200".parse::<Fault>().is_err());
        assert!("melt".parse::<Fault>().unwrap_err().contains("slow-loris"));
    }

    #[test]
    fn a_fault_for_a_number_of_times_then_the_route_behaves() {
        let faults = Faults::default();
        faults.set_times("post /oidc/token", Fault::Reset, 2);
        assert_eq!(faults.arrive("POST /oidc/token"), Some(Fault::Reset));
        assert_eq!(faults.arrive("GET /oidc/token"), None, "another method");
        assert_eq!(faults.arrive("POST /oidc/token"), Some(Fault::Reset));
        assert_eq!(faults.arrive("POST /oidc/token"), None);
        assert_eq!(faults.requests("POST /oidc/token"), 3);
        faults.set("POST /oidc/token", Fault::Huge);
        assert_eq!(faults.arrive("POST /oidc/token"), Some(Fault::Huge));
        faults.clear_all();
        assert_eq!(faults.arrive("POST /oidc/token"), None);
    }
}
