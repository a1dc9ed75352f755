//! The toy login kind: README's "Adding a login kind" followed to the letter,
//! for tests only. A `toy` profile logs in with a username and password at
//! `POST /login` of its server and renews its token at `POST /renew` with the
//! current one; the server is [`ToyServer`], started by the test on loopback
//! (a real kind's server side is its sandbox module). Besides this file the
//! kind is one line in `crate::model`'s kind list, one `mod` line in
//! `providers/mod.rs` and one line in [`super::registry::KINDS`]; its test
//! below goes through the catalog, a profile, login, token and renewal.

use super::{Begun, BoxFuture, KindEntry, LoginContext, LoginInput, Provider};
use super::{RenewContext, RenewError, Renewer};
use crate::error::{Error, Result};
use crate::http;
use crate::model::{LoginKind, LoginPrompt, LoginSpec, Server, ServerKind, SettingField};
use crate::tokens::{IssuedToken, RenewalPolicy, TokenKind};
use crate::vault::{Secret, SecretKey, SecretSlot};
use serde_json::{json, Value};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The toy's line in the kind registry: on registry servers, logged in and
/// renewed here, five minutes before expiry.
pub const fn entry(login: LoginKind) -> KindEntry {
    KindEntry {
        provider: Some(|_| Arc::new(Toy)),
        renewer: Some(|_| Arc::new(Toy)),
        renewal: RenewalPolicy::Before(Duration::minutes(5)),
        ..KindEntry::new(login, &[ServerKind::Registry], spec)
    }
}

/// Its descriptor: a username, and the password asked at each login.
pub fn spec(login: LoginKind) -> LoginSpec {
    LoginSpec::new(
        login,
        LoginPrompt::Password,
        &[SettingField::Username],
        &[],
        None,
    )
}

pub struct Toy;

/// `POST {server}{path}` with this JSON and bearer token: the token the
/// server hands out and its lifetime in seconds, or its status and words.
async fn issue(
    server: &Server,
    path: &str,
    body: Value,
    bearer: Option<&Secret>,
) -> Result<std::result::Result<(Secret, i64), (u16, String)>> {
    let mut req = http::client_for(server)?
        .post(format!("{}{path}", server.url))
        .json(&body);
    if let Some(token) = bearer {
        req = req.bearer_auth(token.expose());
    }
    let answer = http::send(server, req).await?;
    if answer.status != 200 {
        return Ok(Err((answer.status, answer.text)));
    }
    let json = answer.json();
    match (json["token"].as_str(), json["expires_in"].as_i64()) {
        (Some(token), Some(expires_in)) => Ok(Ok((Secret::new(token), expires_in))),
        _ => Err(http::not_an_answer(&answer.url, 200, &answer.text)),
    }
}

fn issued(token: Secret, expires_in: i64, now: OffsetDateTime) -> IssuedToken {
    let mut issued = IssuedToken::from_token(TokenKind::Access, token, now, None);
    issued.expires_at = Some(now + Duration::seconds(expires_in));
    issued
}

impl Provider for Toy {
    fn begin<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        input: &'a LoginInput,
    ) -> BoxFuture<'a, Result<Begun>> {
        Box::pin(async move {
            let username = ctx.profile.settings.username.as_deref().unwrap_or_default();
            let password = input.password.as_ref().ok_or_else(|| {
                Error::invalid("password", format!("type {username}'s password to log in"))
            })?;
            let body = json!({"username": username, "password": password.expose()});
            match issue(ctx.server, "/login", body, None).await? {
                Ok((token, expires_in)) => Ok(Begun::Issued(issued(token, expires_in, ctx.now))),
                Err((status, message)) => Err(Error::ServerRefused {
                    status: Some(status),
                    field: Some("password"),
                    message,
                }),
            }
        })
    }
}

impl Renewer for Toy {
    fn renew<'a>(
        &'a self,
        ctx: RenewContext<'a>,
    ) -> BoxFuture<'a, std::result::Result<IssuedToken, RenewError>> {
        Box::pin(async move {
            let key = SecretKey::new(ctx.profile.id, SecretSlot::AccessToken);
            let current = ctx
                .vault
                .get(key)
                .await
                .map_err(|e| RenewError::Transient(e.to_string()))?
                .ok_or_else(|| RenewError::NeedsUser("no token to renew".into()))?;
            match issue(ctx.server, "/renew", json!({}), Some(&current)).await {
                Ok(Ok((token, expires_in))) => Ok(issued(token, expires_in, ctx.now)),
                Ok(Err((401, message))) => Err(RenewError::NeedsUser(message)),
                Ok(Err((_, message))) => Err(RenewError::Transient(message)),
                Err(e) => Err(RenewError::Transient(e.to_string())),
            }
        })
    }
}

/// The toy's server side: one user, `ada` with password `lovelace`, and
/// tokens `toy-1`, `toy-2`... valid for an hour; `/renew` takes only the
/// newest one.
pub struct ToyServer {
    pub url: String,
    issued: Arc<std::sync::Mutex<Vec<String>>>,
}

impl ToyServer {
    pub async fn start() -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let issued = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let tokens = Arc::clone(&issued);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let tokens = Arc::clone(&tokens);
                tokio::spawn(async move {
                    // One request per connection, read whole: head, then the
                    // body its Content-Length announces.
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    let body_at = loop {
                        let n = stream.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        request.extend_from_slice(&buf[..n]);
                        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&request[..body_at]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while request.len() < body_at + length {
                        let n = stream.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        request.extend_from_slice(&buf[..n]);
                    }
                    let body: Value =
                        serde_json::from_slice(&request[body_at..]).unwrap_or(Value::Null);
                    let bearer = head
                        .lines()
                        .find_map(|l| l.strip_prefix("authorization: bearer "))
                        .map(|t| t.trim().to_string());
                    let (status, answer) = {
                        let mut tokens = tokens.lock().unwrap();
                        let allowed = if head.starts_with("post /login ") {
                            body == json!({"username": "ada", "password": "lovelace"})
                        } else if head.starts_with("post /renew ") {
                            bearer.is_some() && bearer.as_ref() == tokens.last()
                        } else {
                            false
                        };
                        if allowed {
                            let next = format!("toy-{}", tokens.len() + 1);
                            tokens.push(next);
                            let token = tokens.last().unwrap();
                            ("200 OK", json!({"token": token, "expires_in": 3600}))
                        } else {
                            ("401 Unauthorized", json!({"error": "not ada's"}))
                        }
                    };
                    let text = answer.to_string();
                    let reply = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                });
            }
        });
        ToyServer { url, issued }
    }

    /// Whether `token` is the newest one handed out.
    pub fn accepts(&self, token: &str) -> bool {
        self.issued.lock().unwrap().last().map(String::as_str) == Some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::env::Environment;
    use crate::model::{ProfileInput, ServerInput};
    use crate::renewal::LifecycleEvent;
    use crate::service::{catalog, Latchkey};
    use crate::vault::Vault;
    use time::macros::datetime;

    #[tokio::test]
    async fn the_toy_kind_is_listed_logs_in_hands_out_its_token_and_renews() {
        let server = ToyServer::start().await;
        let t0 = datetime!(2026-06-01 09:00 UTC);
        let clock = ManualClock::new(t0);
        let dir = tempfile::tempdir().unwrap();
        let env = Environment {
            data_dir: dir.path().to_path_buf(),
            keyring_service: "unused".into(),
        };
        let core = Latchkey::open_with(&env, Vault::memory(), Arc::new(clock.clone()))
            .await
            .unwrap();

        // Listed: the catalog offers it on registry servers, as a password login.
        let offered = catalog();
        let registry = offered
            .servers
            .iter()
            .find(|s| s.kind == ServerKind::Registry)
            .unwrap();
        assert!(registry.logins.contains(&LoginKind::Toy));
        let toy = offered.logins.iter().find(|l| l.login == LoginKind::Toy);
        assert_eq!(toy.unwrap().prompt, LoginPrompt::Password);

        core.add_server(&ServerInput {
            name: "toys".into(),
            kind: "registry".into(),
            url: server.url.clone(),
            ca_pem: None,
        })
        .await
        .unwrap();
        let mut input = ProfileInput {
            name: "ada".into(),
            server: "toys".into(),
            login: "toy".into(),
            ..Default::default()
        };
        let err = core.add_profile(&input).await.unwrap_err();
        assert_eq!(err.field(), Some("username"), "the descriptor's field");
        input.settings.username = Some("ada".into());
        core.add_profile(&input).await.unwrap();
        let listed = core.profiles().await.unwrap();
        assert_eq!(listed[0].login, LoginKind::Toy);
        assert_eq!(listed[0].status_label, "not logged in");

        // Login: refused with the server's words, then done.
        let login = |password: &str| LoginInput {
            password: Some(Secret::new(password)),
            ..Default::default()
        };
        let err = core.login("ada", login("babbage")).await.unwrap_err();
        assert_eq!(err.field(), Some("password"), "{err}");
        assert!(err.to_string().contains("not ada's"), "{err}");
        core.login("ada", login("lovelace")).await.unwrap();

        // Token: the one the server handed out.
        let (_, token) = core.token("ada").await.unwrap();
        assert_eq!(token.expose(), "toy-1");
        assert!(server.accepts(token.expose()));

        // Renewal: due five minutes before the hour is up, by the scheduler.
        assert_eq!(
            core.next_deadline().await.unwrap(),
            Some(t0 + Duration::minutes(55))
        );
        clock.advance(Duration::minutes(55));
        let events = core.run_due().await.unwrap();
        assert!(
            matches!(&events[..], [LifecycleEvent::Renewed { profile, .. }] if profile == "ada"),
            "{events:?}"
        );
        let (_, renewed) = core.token("ada").await.unwrap();
        assert_eq!(renewed.expose(), "toy-2");
        assert!(server.accepts(renewed.expose()));
        assert!(!server.accepts("toy-1"), "the server moved on");
    }
}
