//! The HTTP client the providers use: one per server, trusting the server's
//! own CA bundle besides the system's, never following redirects (a 302 that
//! carries a token must be read, not followed), with timeouts. Transport
//! errors become messages that say what to check.

use crate::error::Error;
use crate::model::Server;
use std::time::Duration;

/// A client for one server.
pub fn client_for(server: &Server) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &server.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
            Error::invalid(
                "ca_pem",
                format!(
                    "the CA certificate of server '{}' is not valid PEM: {e}",
                    server.name
                ),
            )
        })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| Error::Internal(format!("cannot build an HTTP client: {e}")))
}

/// What went wrong on the way to a server, in words that say what to do.
pub fn transport_error(server: &Server, err: &reqwest::Error) -> Error {
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        // Some errors already quote their source: say each thing once.
        let text = s.to_string();
        if !detail.contains(&text) {
            detail = format!("{detail}: {text}");
        }
        source = s.source();
    }
    let lower = detail.to_lowercase();
    let hint = if lower.contains("hostname mismatch") || lower.contains("ip address mismatch") {
        format!(
            "the TLS certificate of {} is not for that host name ({detail}); check the URL of server '{}' (the name must be one the certificate lists)",
            server.url, server.name
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("ssl") {
        format!(
            "the TLS connection to {} failed ({detail}); if the server uses a private CA, add it to server '{}' (--ca-file)",
            server.url, server.name
        )
    } else if err.is_timeout() {
        format!(
            "{} did not answer in time ({detail}); check the network or try again",
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
}

/// Sends `request` (built on [`client_for`]`(server)`), asking for JSON, and
/// reads the whole answer; a transport failure says what to check.
pub async fn send(server: &Server, request: reqwest::RequestBuilder) -> Result<Answer, Error> {
    let res = request
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| transport_error(server, &e))?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.map_err(|e| transport_error(server, &e))?;
    Ok(Answer {
        status,
        headers,
        text,
    })
}
