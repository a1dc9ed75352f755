//! What the OAuth and OpenID Connect providers share: the `oauth2` /
//! `openidconnect` crates' HTTP client on top of the server's own client
//! (private CA, no redirects, timeouts), and their errors turned into ours
//! with the provider's own words.

use crate::error::Error;
use crate::model::Server;
use oauth2::{ErrorResponse, HttpRequest, HttpResponse, RequestTokenError};
use std::future::Future;
use std::pin::Pin;

/// A failure inside an OAuth request that is not an OAuth answer: the
/// network, the TLS setup, or an answer that is no answer (an HTML error
/// page, a body too large), already in words that say what to do.
#[derive(Debug)]
pub struct Transport(pub Error);

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Transport {}

type HttpFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, Transport>> + Send>>;

/// The HTTP client the `oauth2` crates call, for one server.
pub fn http_client(server: &Server) -> Result<impl Fn(HttpRequest) -> HttpFuture, Error> {
    let client = crate::http::client_for(server)?;
    let server = server.clone();
    Ok(move |request: HttpRequest| -> HttpFuture {
        let client = client.clone();
        let server = server.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut req = client
                .request(parts.method, parts.uri.to_string())
                .body(body);
            for (name, value) in &parts.headers {
                req = req.header(name, value);
            }
            let url = parts.uri.to_string();
            let res = req.send().await.map_err(Transport)?;
            let status = res.status();
            let headers = res.headers().clone();
            let body = crate::http::read_body(&server, res)
                .await
                .map_err(Transport)?;
            // An error status whose body is not JSON is no OAuth error
            // response (RFC 6749 §5.2) but a proxy's or a crashed server's
            // page: say so, rather than that OAuth's JSON did not parse.
            if (status.is_client_error() || status.is_server_error())
                && serde_json::from_slice::<serde_json::Value>(&body).is_err()
            {
                return Err(Transport(crate::http::not_an_answer(
                    &url,
                    status.as_u16(),
                    &String::from_utf8_lossy(&body),
                )));
            }
            // GitHub answers token errors (and the device flow's "pending")
            // with HTTP 200 (protocols §1.7.2): make them the 400 that OAuth
            // clients expect, so they are read as errors, not as tokens.
            let status = if status == http::StatusCode::OK && is_error_body(&body) {
                http::StatusCode::BAD_REQUEST
            } else {
                status
            };
            let mut builder = http::Response::builder().status(status);
            for (name, value) in &headers {
                builder = builder.header(name, value);
            }
            builder
                .body(body.to_vec())
                .map_err(|e| Transport(Error::Internal(e.to_string())))
        })
    })
}

pub(crate) fn is_error_body(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v.get("error").is_some() && v.get("access_token").is_none())
}

/// A token request's failure as an [`Error`]: the provider's `error` and
/// `error_description` as it wrote them, transport failures as unreachable.
pub fn token_error<T: ErrorResponse + 'static>(
    what: &str,
    err: RequestTokenError<Transport, T>,
) -> Error {
    match err {
        RequestTokenError::ServerResponse(resp) => {
            let text = serde_json::to_value(&resp)
                .ok()
                .map(|v| {
                    let code = v.get("error").and_then(|e| e.as_str()).unwrap_or("error");
                    match v.get("error_description").and_then(|e| e.as_str()) {
                        Some(d) => format!("{code}: {d}"),
                        None => code.to_string(),
                    }
                })
                .unwrap_or_else(|| resp.to_string());
            let code = serde_json::to_value(&resp)
                .ok()
                .and_then(|v| v.get("error")?.as_str().map(str::to_string))
                .unwrap_or_default();
            // RFC 6749 §5.2 and OpenID Connect: the server's own trouble.
            let hint = match code.as_str() {
                "temporarily_unavailable" | "server_error" => "; try again later",
                _ => "",
            };
            Error::ServerRefused {
                status: None,
                field: None,
                message: format!("{what} refused: {text}{hint}"),
            }
        }
        RequestTokenError::Request(t) => t.0,
        RequestTokenError::Parse(e, body) => {
            let detail = e.to_string();
            let how = if detail.contains("missing field `access_token`") {
                "it came without an access token"
            } else {
                match serde_json::from_slice::<serde_json::Value>(&body) {
                    Err(j) if j.is_eof() => "it is cut short",
                    Err(_) => "it is not JSON",
                    Ok(_) => "it is not a token answer",
                }
            };
            Error::ServerRefused {
                status: None,
                field: None,
                message: format!(
                    "{what}: the answer is not what OAuth expects ({how}: {detail}); try again later, and if it keeps happening check the server's URL"
                ),
            }
        }
        RequestTokenError::Other(m) => Error::ServerRefused {
            status: None,
            field: None,
            message: format!("{what}: {m}; try again later"),
        },
    }
}

/// Whether a token error is the provider saying the grant is gone for good
/// (`invalid_grant`: refresh token revoked, rotated or expired).
pub fn is_invalid_grant(err: &Error) -> bool {
    matches!(err, Error::ServerRefused { message, .. } if message.contains("invalid_grant") || message.contains("bad_refresh_token"))
}

/// Device logins (RFC 8628) waiting for their user, by profile: from the
/// device authorization until the poll takes them.
#[derive(Default)]
pub struct WaitingDevices(
    std::sync::Mutex<std::collections::HashMap<i64, oauth2::StandardDeviceAuthorizationResponse>>,
);

impl WaitingDevices {
    /// Keeps `details` for the profile's poll and says what to show the
    /// user: the code, and the page to type it on (the complete URI, which
    /// carries the code, where the provider offers one).
    pub fn park(
        &self,
        ctx: &crate::providers::LoginContext<'_>,
        details: oauth2::StandardDeviceAuthorizationResponse,
    ) -> crate::providers::Begun {
        let begun = crate::providers::Begun::Device {
            user_code: details.user_code().secret().clone(),
            verification_uri: details
                .verification_uri_complete()
                .map(|u| u.secret().to_string())
                .unwrap_or_else(|| details.verification_uri().to_string()),
            // A device code outliving what a date holds waits a day at most.
            expires_at: crate::tokens::expiry_after_std(ctx.now, details.expires_in())
                .unwrap_or(ctx.now + time::Duration::days(1)),
        };
        self.0
            .lock()
            .expect("devices lock")
            .insert(ctx.profile.id, details);
        begun
    }

    /// The profile's waiting device login, taken for polling.
    pub fn take(
        &self,
        profile_id: i64,
    ) -> Result<oauth2::StandardDeviceAuthorizationResponse, Error> {
        self.0
            .lock()
            .expect("devices lock")
            .remove(&profile_id)
            .ok_or_else(|| {
                Error::LoginRequired("no device login is waiting; start it again".into())
            })
    }
}
