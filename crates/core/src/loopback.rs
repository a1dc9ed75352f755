//! The RFC 8252 loopback redirect: a one-shot HTTP listener on
//! `127.0.0.1:<port>/callback` that takes the browser's redirect, answers it
//! with a page the user can close, and hands the URL to the redirect hub.
//!
//! A request that the hub refuses (a forged or stale `state`) gets the reason
//! and leaves the listener running, so it cannot kill the real login; the
//! listener stops after the redirect it was waiting for, or at its deadline.
//! Every request gets an answer that says why (a wrong path, method, size or
//! syntax included), and each connection is served on its own, so a slow or
//! stalled one cannot hold up the browser's redirect.

use crate::error::{Error, Result};
use crate::flows::MAX_REDIRECT_LEN;
use crate::service::Latchkey;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The most connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 32;

/// How long a connection may take to send its request.
const READ_TIMEOUT: StdDuration = StdDuration::from_secs(5);

/// A bound loopback listener, not yet serving.
pub struct Loopback {
    listener: TcpListener,
    redirect_uri: String,
}

impl Loopback {
    /// Binds `127.0.0.1` on `port` (0 picks one; providers that need the exact
    /// URI registered name a fixed port in the profile's redirect URI).
    pub async fn bind(port: u16) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            Error::invalid(
                "redirect_uri",
                format!(
                    "cannot listen on 127.0.0.1:{port} for the browser's redirect: {e}; \
                     close what uses the port or pick another in the redirect URI"
                ),
            )
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Internal(format!("loopback address: {e}")))?
            .port();
        Ok(Self {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}/callback"),
        })
    }

    /// `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Serves until the redirect for `profile_id` arrives (then finishes the
    /// login through `core`) or `wait` passes.
    pub fn spawn(self, core: Latchkey, profile_id: i64, wait: StdDuration) {
        tokio::spawn(async move {
            let _ = tokio::time::timeout(wait, self.serve(&core, profile_id)).await;
        });
    }

    async fn serve(self, core: &Latchkey, profile_id: i64) {
        let port = port_of(&self.redirect_uri);
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let finished = Arc::new(tokio::sync::Notify::new());
        loop {
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                return;
            };
            let stream = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => return,
                },
                _ = finished.notified() => return,
            };
            // Each connection on its own task, which outlives this loop: the
            // one that finishes the login must not be cut off when the loop
            // ends, and a stalled one ends at its read timeout.
            let (connection_core, finished) = (core.clone(), Arc::clone(&finished));
            tokio::spawn(async move {
                if answer(&connection_core, stream, port).await {
                    finished.notify_one();
                }
                drop(slot);
            });
            // Stop waiting if the login was finished, cancelled or replaced.
            if !core.redirects().waiting().contains(&profile_id) {
                return;
            }
        }
    }
}

/// Handles one connection; true when its request finished the login.
async fn answer(core: &Latchkey, mut stream: TcpStream, port: u16) -> bool {
    let target = match read_request_target(&mut stream).await {
        Ok(target) => target,
        Err(refusal) => {
            respond(&mut stream, refusal.status, refusal.title, refusal.message).await;
            return false;
        }
    };
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if path != "/callback" {
        respond(
            &mut stream,
            404,
            "Not found",
            "This address only takes Latchkey's login redirect, at /callback; nothing was changed.",
        )
        .await;
        return false;
    }
    let url = format!("http://127.0.0.1:{port}{target}");
    match core.redirects().route(&url) {
        Ok(accepted) => {
            respond(
                &mut stream,
                200,
                "Back to Latchkey",
                "The login came back to Latchkey. You can close this tab.",
            )
            .await;
            core.finish_and_announce(accepted).await;
            true
        }
        Err(refused) => {
            respond(&mut stream, 400, "Login not accepted", &refused.to_string()).await;
            false
        }
    }
}

fn port_of(uri: &str) -> u16 {
    url::Url::parse(uri)
        .ok()
        .and_then(|u| u.port())
        .unwrap_or_default()
}

/// Why a request was not read as a redirect, as the answer says it.
struct BadRequest {
    status: u16,
    title: &'static str,
    message: &'static str,
}

const NOT_HTTP: BadRequest = BadRequest {
    status: 400,
    title: "Not a redirect",
    message: "This address only takes the browser's redirect (GET /callback?...); \
              nothing was changed.",
};

/// The request target of `GET <target> HTTP/1.x`, read with a size limit and
/// a timeout so a stray connection cannot hold the listener, or a refusal
/// that says what was wrong. The whole head must fit: a target cut short at
/// the limit could read as another, valid-looking redirect.
async fn read_request_target(stream: &mut TcpStream) -> Result<String, BadRequest> {
    const HEAD_LIMIT: usize = MAX_REDIRECT_LEN + 4 * 1024;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                return Ok(());
            }
            if buf.len() > HEAD_LIMIT {
                return Err(BadRequest {
                    status: 431,
                    title: "Request too large",
                    message: "The request is larger than any login redirect; nothing was changed.",
                });
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return Err(NOT_HTTP),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    match tokio::time::timeout(READ_TIMEOUT, read).await {
        Ok(Ok(())) => {}
        Ok(Err(bad)) => return Err(bad),
        Err(_) => {
            return Err(BadRequest {
                status: 408,
                title: "Too slow",
                message: "The request did not arrive in time; nothing was changed.",
            })
        }
    }
    let line_end = buf
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(buf.len());
    let line = std::str::from_utf8(&buf[..line_end]).map_err(|_| NOT_HTTP)?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("GET"), Some(target), Some("HTTP/1.1" | "HTTP/1.0"), None)
            if target.starts_with('/') =>
        {
            Ok(target.to_string())
        }
        (Some(method), Some(_), Some(version), None)
            if version.starts_with("HTTP/") && method != "GET" =>
        {
            Err(BadRequest {
                status: 405,
                title: "Method not allowed",
                message: "The login redirect is a GET request; nothing was changed.",
            })
        }
        _ => Err(NOT_HTTP),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn respond(stream: &mut TcpStream, status: u16, title: &str, message: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t} · Latchkey</title>\
         <style>body{{font:16px system-ui,sans-serif;margin:15vh auto;max-width:34em;color:#222}}</style>\
         </head><body><h1>{t}</h1><p>{m}</p></body></html>",
        t = escape(title),
        m = escape(message)
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    // Read what the client still sends (briefly) before closing: closing
    // with unread input resets the connection, and the client would lose the
    // answer that says why it was refused.
    let mut sink = [0u8; 4096];
    let drain = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(StdDuration::from_secs(1), drain).await;
}
