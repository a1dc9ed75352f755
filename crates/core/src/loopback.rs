//! The RFC 8252 loopback redirect: a one-shot HTTP listener on
//! `127.0.0.1:<port>/callback` that takes the browser's redirect, answers it
//! with a page the user can close, and hands the URL to the redirect hub.
//!
//! A request that the hub refuses (a forged or stale `state`) gets the reason
//! and leaves the listener running, so it cannot kill the real login; the
//! listener stops after the redirect it was waiting for, or at its deadline.

use crate::error::{Error, Result};
use crate::service::Latchkey;
use std::time::Duration as StdDuration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
        loop {
            let Ok((stream, _)) = self.listener.accept().await else {
                return;
            };
            if self.answer(core, stream).await {
                return;
            }
            // Stop waiting if the login was cancelled or replaced.
            if !core.redirects().waiting().contains(&profile_id) {
                return;
            }
        }
    }

    /// Handles one request; true when it finished the login.
    async fn answer(&self, core: &Latchkey, mut stream: TcpStream) -> bool {
        let Some(target) = read_request_target(&mut stream).await else {
            return false;
        };
        let path = target.split('?').next().unwrap_or_default();
        if path != "/callback" {
            respond(
                &mut stream,
                404,
                "Not found",
                "This address only takes Latchkey's login redirect.",
            )
            .await;
            return false;
        }
        let url = format!("http://127.0.0.1:{}{target}", port_of(&self.redirect_uri));
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
}

fn port_of(uri: &str) -> u16 {
    url::Url::parse(uri)
        .ok()
        .and_then(|u| u.port())
        .unwrap_or_default()
}

/// The request target of `GET <target> HTTP/1.1`, read with a size limit and a
/// timeout so a stray connection cannot hold the listener.
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let read = async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(())
    };
    tokio::time::timeout(StdDuration::from_secs(5), read)
        .await
        .ok()??;
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next()?.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_string()),
        _ => None,
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
        _ => "Not Found",
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
}
