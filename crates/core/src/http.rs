//! The HTTP client the providers use: one per server, trusting the server's
//! own CA bundle besides the system's, never following redirects (a 302 that
//! carries a token must be read, not followed), with timeouts, and reading
//! no more of an answer than a login server can mean to send
//! ([`MAX_ANSWER_BYTES`]). Transport errors, and answers that are not answers
//! (an HTML error page from a proxy, a body cut short, something that is not
//! JSON), become messages that say what happened and what to do.
//!
//! Plain `http://` requests go straight through hyper, and the TLS client
//! (reqwest over rustls, verifying against the system's CA certificates and
//! the server's own) is built at the first `https://` request, once per CA
//! bundle: building it reads the system's CA bundle, which was most of a
//! command-line login against an `http://` server that never needed it.
//! TLS is rustls rather than the system's OpenSSL so that no command links
//! OpenSSL: loading and relocating libssl and libcrypto cost every
//! `latchkey` process about 1.4 ms of its start, `latchkey token` and the
//! credential helpers included, whether they made a request or not. A request's scheme decides, not the
//! server's, so an `http://` issuer whose discovery document names `https://`
//! endpoints still gets TLS for those.

use crate::error::Error;
use crate::model::Server;
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::Duration;

/// The most of an answer Latchkey reads: the largest a login server sends
/// (a JWKS, a discovery document, a user with many organizations) is a few
/// kilobytes; a server that sends more is not one, or is broken.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// How long to wait for a connection, and for a whole answer (a server that
/// trickles its answer is cut off too).
const TIMEOUTS: (Duration, Duration) = (Duration::from_secs(10), Duration::from_secs(30));

const USER_AGENT_TEXT: &str = concat!("latchkey/", env!("CARGO_PKG_VERSION"));

tokio::task_local! {
    static SCOPED_TIMEOUTS: (Duration, Duration);
}

/// Runs `work` with other timeouts for the clients it makes: tests shorten
/// them to meet a silent server in seconds instead of half a minute. The app
/// and the CLI never call it.
pub async fn with_timeouts<F: std::future::Future>(
    connect: Duration,
    total: Duration,
    work: F,
) -> F::Output {
    SCOPED_TIMEOUTS.scope((connect, total), work).await
}

fn timeouts() -> (Duration, Duration) {
    SCOPED_TIMEOUTS.try_with(|t| *t).unwrap_or(TIMEOUTS)
}

/// The clients made so far, by CA bundle and timeouts.
type ClientKey = (Option<String>, Duration, Duration);
static CLIENTS: LazyLock<Mutex<HashMap<ClientKey, Arc<SharedClient>>>> =
    LazyLock::new(Mutex::default);

/// A client for one server. The parts that cost something to make are kept
/// and shared by the servers with the same CA bundle; they keep no idle
/// connection, so each request still opens its own, as a fresh client's
/// would. A CA bundle that is not PEM is refused here, before any request.
pub fn client_for(server: &Server) -> Result<ServerClient, Error> {
    let (connect, total) = timeouts();
    let key = (server.ca_pem.clone(), connect, total);
    let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    let shared = match clients.get(&key) {
        Some(shared) => shared.clone(),
        None => {
            let shared = Arc::new(SharedClient::new(server, connect, total)?);
            clients.insert(key, shared.clone());
            shared
        }
    };
    Ok(ServerClient {
        server: server.clone(),
        shared,
    })
}

/// What the servers with one CA bundle and the same timeouts share: a plain
/// HTTP client, and the TLS client once an `https://` request needed it.
struct SharedClient {
    connect: Duration,
    total: Duration,
    /// The server's own CA certificates, parsed, for the TLS client.
    extra_roots: Vec<reqwest::Certificate>,
    /// `None` when the environment names an HTTP proxy: reqwest honours it
    /// (and `NO_PROXY`), so plain requests then go through reqwest as well.
    plain: Option<PlainClient>,
    tls: OnceLock<Result<reqwest::Client, String>>,
}

type PlainClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    reqwest::Body,
>;

impl SharedClient {
    fn new(server: &Server, connect: Duration, total: Duration) -> Result<Self, Error> {
        let extra_roots = match &server.ca_pem {
            Some(pem) => crate::model::ca_certificates(pem)
                .map_err(|e| {
                    Error::invalid(
                        "ca_pem",
                        format!("the CA certificate of server '{}': {e}", server.name),
                    )
                })?
                .iter()
                .map(|der| reqwest::Certificate::from_der(der))
                .collect::<Result<_, _>>()
                .map_err(|e| Error::Internal(format!("cannot use a CA certificate: {e}")))?,
            None => Vec::new(),
        };
        Ok(Self {
            connect,
            total,
            extra_roots,
            plain: (!http_proxy_named()).then(|| plain_client(connect)),
            tls: OnceLock::new(),
        })
    }

    /// The TLS client, built at its first use.
    fn tls(&self) -> Result<&reqwest::Client, Error> {
        self.tls
            .get_or_init(|| {
                let mut builder = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .connect_timeout(self.connect)
                    .timeout(self.total)
                    .pool_max_idle_per_host(0)
                    .user_agent(USER_AGENT_TEXT);
                for cert in &self.extra_roots {
                    builder = builder.add_root_certificate(cert.clone());
                }
                builder.build().map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Error::Internal(format!("cannot build an HTTP client: {e}")))
    }
}

/// Whether the environment names a proxy for plain HTTP, as reqwest reads it.
fn http_proxy_named() -> bool {
    ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// HTTP/1.1 over TCP, configured as reqwest configures its own connector.
fn plain_client(connect: Duration) -> PlainClient {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_connect_timeout(Some(connect));
    connector.set_nodelay(true);
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector)
}

/// The HTTP client of one server (see [`client_for`]).
#[derive(Clone)]
pub struct ServerClient {
    server: Server,
    shared: Arc<SharedClient>,
}

impl ServerClient {
    pub fn get(&self, url: impl AsRef<str>) -> Request {
        self.request(reqwest::Method::GET, url)
    }

    pub fn post(&self, url: impl AsRef<str>) -> Request {
        self.request(reqwest::Method::POST, url)
    }

    pub fn delete(&self, url: impl AsRef<str>) -> Request {
        self.request(reqwest::Method::DELETE, url)
    }

    /// A request to `url`; a URL that cannot be requested is reported when
    /// it is sent, as reqwest does.
    pub fn request(&self, method: reqwest::Method, url: impl AsRef<str>) -> Request {
        let request = match url::Url::parse(url.as_ref()) {
            Ok(url) if url.has_host() => Ok(reqwest::Request::new(method, url)),
            Ok(_) => Err("builder error: URL scheme is not allowed".to_string()),
            Err(e) => Err(format!("builder error: {e}")),
        };
        Request {
            client: self.clone(),
            request,
        }
    }

    /// Whether the TLS client of this server's CA bundle has been built (for
    /// tests: plain HTTP must not build it).
    #[doc(hidden)]
    pub fn tls_built(&self) -> bool {
        self.shared.tls.get().is_some()
    }

    /// Sends `request`: plain HTTP through hyper, anything else through the
    /// TLS client.
    async fn execute(&self, request: reqwest::Request) -> Result<reqwest::Response, Error> {
        match &self.shared.plain {
            Some(plain) if request.url().scheme() == "http" => {
                self.execute_plain(plain, request).await
            }
            _ => self
                .shared
                .tls()?
                .execute(request)
                .await
                .map_err(|e| transport_error(&self.server, &e)),
        }
    }

    /// What reqwest would do for a plain request: its default headers, no
    /// redirect followed, the connect timeout in the connector, and one
    /// deadline for the answer's head and body together.
    async fn execute_plain(
        &self,
        plain: &PlainClient,
        request: reqwest::Request,
    ) -> Result<reqwest::Response, Error> {
        let deadline = tokio::time::Instant::now() + self.shared.total;
        let sending = format!(
            "error sending request for url ({})",
            shown(request.url().as_str())
        );
        let mut request = http::Request::<reqwest::Body>::try_from(request)
            .map_err(|e| transport_error(&self.server, &e))?;
        let headers = request.headers_mut();
        headers
            .entry(USER_AGENT)
            .or_insert(HeaderValue::from_static(USER_AGENT_TEXT));
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("*/*"));
        match tokio::time::timeout_at(deadline, plain.request(request)).await {
            Ok(Ok(response)) => Ok(reqwest::Response::from(response.map(|body| {
                reqwest::Body::wrap(AnswerBody {
                    body,
                    deadline: Box::pin(tokio::time::sleep_until(deadline)),
                })
            }))),
            Ok(Err(e)) => {
                let timed_out = error_chain(&e).any(|s| {
                    s.downcast_ref::<std::io::Error>()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
                });
                let detail = with_sources(sending, &e);
                Err(failure(
                    &self.server,
                    detail,
                    Failure {
                        timed_out,
                        connect: e.is_connect(),
                        cut: false,
                        tls: None,
                    },
                ))
            }
            Err(_) => Err(failure(
                &self.server,
                format!("{sending}: operation timed out"),
                Failure {
                    timed_out: true,
                    connect: false,
                    cut: false,
                    tls: None,
                },
            )),
        }
    }
}

/// An answer's body that ends in a timeout error at the request's deadline,
/// as reqwest's own total timeout does (its `is_timeout` sees the
/// `TimedOut` kind).
struct AnswerBody {
    body: hyper::body::Incoming,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for AnswerBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::future::Future;
        if self.deadline.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(Some(Err(Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "operation timed out",
            )))));
        }
        std::pin::Pin::new(&mut self.body)
            .poll_frame(cx)
            .map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A request being built on a [`ServerClient`]: the part of reqwest's
/// `RequestBuilder` the providers use, with the same behaviour.
pub struct Request {
    client: ServerClient,
    /// What went wrong building it, reported when it is sent.
    request: Result<reqwest::Request, String>,
}

impl Request {
    fn edit(mut self, change: impl FnOnce(&mut reqwest::Request) -> Result<(), String>) -> Self {
        if let Ok(request) = &mut self.request {
            if let Err(e) = change(request) {
                self.request = Err(format!("builder error: {e}"));
            }
        }
        self
    }

    /// Adds a header (an existing one of the same name stays).
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.edit(|request| {
            let name = HeaderName::try_from(name).map_err(|e| e.into().to_string())?;
            let value = HeaderValue::try_from(value).map_err(|e| e.into().to_string())?;
            request.headers_mut().append(name, value);
            Ok(())
        })
    }

    fn authorization(self, value: String) -> Self {
        self.edit(|request| {
            let mut value = HeaderValue::try_from(value).map_err(|e| e.to_string())?;
            value.set_sensitive(true);
            request.headers_mut().append(AUTHORIZATION, value);
            Ok(())
        })
    }

    pub fn bearer_auth(self, token: impl std::fmt::Display) -> Self {
        self.authorization(format!("Bearer {token}"))
    }

    pub fn basic_auth(
        self,
        username: impl std::fmt::Display,
        password: Option<impl std::fmt::Display>,
    ) -> Self {
        use base64::Engine;
        let pair = match password {
            Some(password) => format!("{username}:{password}"),
            None => format!("{username}:"),
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        self.authorization(format!("Basic {encoded}"))
    }

    /// Adds `query`'s pairs to the URL's query.
    pub fn query<T: serde::Serialize + ?Sized>(self, query: &T) -> Self {
        self.edit(|request| {
            let url = request.url_mut();
            let result = {
                let mut pairs = url.query_pairs_mut();
                query
                    .serialize(serde_urlencoded::Serializer::new(&mut pairs))
                    .map(drop)
                    .map_err(|e| e.to_string())
            };
            if url.query() == Some("") {
                url.set_query(None);
            }
            result
        })
    }

    /// `form` as the `application/x-www-form-urlencoded` body.
    pub fn form<T: serde::Serialize + ?Sized>(self, form: &T) -> Self {
        self.edit(|request| {
            let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
            request
                .headers_mut()
                .entry(CONTENT_TYPE)
                .or_insert(HeaderValue::from_static(
                    "application/x-www-form-urlencoded",
                ));
            *request.body_mut() = Some(body.into());
            Ok(())
        })
    }

    /// `json` as the JSON body.
    pub fn json<T: serde::Serialize + ?Sized>(self, json: &T) -> Self {
        self.edit(|request| {
            let body = serde_json::to_vec(json).map_err(|e| e.to_string())?;
            request
                .headers_mut()
                .entry(CONTENT_TYPE)
                .or_insert(HeaderValue::from_static("application/json"));
            *request.body_mut() = Some(body.into());
            Ok(())
        })
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        self.edit(|request| {
            *request.body_mut() = Some(body.into());
            Ok(())
        })
    }

    /// Sends it and waits for the answer's head; a transport failure says
    /// what to check.
    pub async fn send(self) -> Result<reqwest::Response, Error> {
        let server = &self.client.server;
        let request = self.request.map_err(|detail| {
            failure(
                server,
                detail,
                Failure {
                    timed_out: false,
                    connect: false,
                    cut: false,
                    tls: None,
                },
            )
        })?;
        self.client.execute(request).await
    }

    /// The URL it goes to, when it could be built.
    fn url(&self) -> Option<String> {
        self.request.as_ref().ok().map(|r| r.url().to_string())
    }
}

/// An error and its sources, outermost first.
fn error_chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}

/// `detail`, then each source of `err` (itself included) not already quoted.
fn with_sources(mut detail: String, err: &(dyn std::error::Error + 'static)) -> String {
    for s in error_chain(err) {
        // Some errors already quote their source: say each thing once.
        let text = s.to_string();
        if !detail.contains(&text) {
            detail = format!("{detail}: {text}");
        }
    }
    detail
}

/// What went wrong on the way to a server, in words that say what to do.
pub fn transport_error(server: &Server, err: &reqwest::Error) -> Error {
    failure(
        server,
        with_sources(err.to_string(), err),
        Failure {
            timed_out: err.is_timeout(),
            connect: err.is_connect(),
            cut: err.is_body() || err.is_decode(),
            tls: tls_failure(err),
        },
    )
}

/// What kind of transport failure an error chain is.
struct Failure {
    timed_out: bool,
    connect: bool,
    /// The answer's body failed.
    cut: bool,
    /// TLS failed, and how.
    tls: Option<TlsFailure>,
}

/// How a TLS connection failed.
#[derive(Clone, Copy, PartialEq)]
enum TlsFailure {
    /// The certificate is not for the host the URL names.
    Name,
    /// The certificate has expired or is not valid yet.
    Time,
    /// Anything else: an unknown issuer, a handshake refused.
    Other,
}

/// How TLS failed, when an error in `err`'s chain is rustls'.
fn tls_failure(err: &(dyn std::error::Error + 'static)) -> Option<TlsFailure> {
    use rustls::CertificateError as C;
    Some(match error_chain(err).find_map(rustls_error)? {
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => TlsFailure::Name,
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => TlsFailure::Time,
        _ => TlsFailure::Other,
    })
}

/// `err` as rustls' error. hyper-rustls hands it up wrapped in an
/// `io::Error`, itself wrapped in another, and an `io::Error`'s `source`
/// skips what it wraps: so each is unwrapped here.
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    match err.downcast_ref::<rustls::Error>() {
        Some(tls) => Some(tls),
        None => rustls_error(err.downcast_ref::<std::io::Error>()?.get_ref()?),
    }
}

/// A transport failure, `detail` being its whole error chain.
fn failure(server: &Server, detail: String, kind: Failure) -> Error {
    let lower = detail.to_lowercase();
    let hint = if kind.tls == Some(TlsFailure::Name) {
        format!(
            "the TLS certificate of {} is not for that host name ({detail}); check the URL of server '{}' (the name must be one the certificate lists)",
            server.url, server.name
        )
    } else if kind.tls == Some(TlsFailure::Time) {
        format!(
            "the TLS certificate of {} has expired or is not valid yet ({detail}); check this computer's clock, or ask the server's administrator to renew it",
            server.url
        )
    } else if kind.tls.is_some()
        || lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("ssl")
    {
        format!(
            "the TLS connection to {} failed ({detail}); if the server uses a private CA, add it to server '{}' (--ca-file)",
            server.url, server.name
        )
    } else if kind.timed_out {
        format!(
            "{} did not answer in time ({detail}); check the network or try again",
            server.url
        )
    } else if kind.connect {
        format!(
            "cannot reach {} ({detail}); check the URL of server '{}' and that the server is up",
            server.url, server.name
        )
    } else if lower.contains("reset")
        || lower.contains("closed")
        || lower.contains("incomplete")
        || lower.contains("broken pipe")
        || lower.contains("unexpected eof")
        || kind.cut
    {
        format!(
            "the connection to {} was cut before the answer was complete ({detail}); try again, and if it keeps happening check the network (a proxy or firewall may be cutting it)",
            server.url
        )
    } else {
        format!(
            "cannot reach {} ({detail}); check the URL of server '{}' and that the server is up",
            server.url, server.name
        )
    };
    Error::Unreachable(hint)
}

/// A server's whole answer: status, headers and body text.
pub struct Answer {
    /// Where it came from.
    pub url: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the body is an HTML page (what proxies and crashed servers
    /// answer), not what an API sends.
    pub fn is_html(&self) -> bool {
        is_html(&self.text)
    }
}

/// Whether a body is an HTML page.
pub fn is_html(text: &str) -> bool {
    let t: String = text
        .trim_start()
        .chars()
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    t.starts_with("<!doctype html")
        || t.starts_with("<html")
        || t.starts_with("<head")
        || t.starts_with("<body")
}

/// `502 Bad Gateway`.
pub fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// A URL as messages show it: without its query, which may carry a code.
pub fn shown(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// An error answer that is not the API's own: an HTML error page (a proxy,
/// a crashed server), bare text, or nothing, from `url`.
pub fn not_an_answer(url: &str, status: u16, body: &str) -> Error {
    let what = if status >= 500 {
        "the server (or a proxy in front of it) has a problem; try again later"
    } else {
        "check the URL of the server; if it is right, try again later"
    };
    let printable = excerpt(body);
    let shape = if is_html(body) {
        "an HTML error page".to_string()
    } else if body.trim().is_empty() {
        "an empty page".to_string()
    } else if printable.is_empty() {
        "a page with nothing printable on it".to_string()
    } else {
        format!("\"{printable}\"")
    };
    Error::ServerRefused {
        status: Some(status),
        field: None,
        message: format!(
            "{} answered {} with {shape} instead of an answer: {what}",
            shown(url),
            status_text(status)
        ),
    }
}

/// The start of a text, on one line, for a message.
pub fn excerpt(text: &str) -> String {
    // Control characters become spaces before the words are joined, so that
    // an excerpt is empty when nothing in it is printable (the avassa_answer
    // fuzz target found `"\x7f\t\x7f"` shown as a lone space).
    let printable: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat: String = printable
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    flat
}

/// The words for a body that should have been JSON and is not: cut short,
/// or something else altogether. `what` names it ("the login answer").
pub fn not_json(url: &str, what: &str, err: &serde_json::Error) -> String {
    let how = if err.is_eof() {
        "it is cut short"
    } else {
        "it is not JSON"
    };
    format!(
        "{what} from {} is not what Latchkey expects ({how}: {err}); try again later, and if it keeps happening check the server's URL",
        shown(url)
    )
}

/// Reads a response's body, refusing one larger than [`MAX_ANSWER_BYTES`].
pub async fn read_body(server: &Server, mut res: reqwest::Response) -> Result<Vec<u8>, Error> {
    let too_large = |status: u16| {
        Error::ServerRefused {
        status: Some(status),
        field: None,
        message: format!(
            "the answer of {} is larger than {} KiB, far more than a login server sends: check the URL of server '{}' (it may point at something else than the API)",
            server.url,
            MAX_ANSWER_BYTES / 1024,
            server.name
        ),
    }
    };
    let status = res.status().as_u16();
    if res
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large(status));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| transport_error(server, &e))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large(status));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Sends `request` (built on [`client_for`]`(server)`), asking for JSON, and
/// reads the whole answer (at most [`MAX_ANSWER_BYTES`]); a transport
/// failure says what to check.
pub async fn send(server: &Server, request: Request) -> Result<Answer, Error> {
    // No redirect is followed: the answer comes from the request's URL.
    let url = request.url().unwrap_or_default();
    let res = request.header("Accept", "application/json").send().await?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = read_body(server, res).await?;
    Ok(Answer {
        url,
        status,
        headers,
        text: String::from_utf8_lossy(&body).into_owned(),
    })
}
