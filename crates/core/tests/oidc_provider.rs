//! The generic OpenID Connect login against a real, certified provider:
//! panva's `oidc-provider` (tests/oidc-provider/server.mjs), started on
//! loopback by each test. The test plays the browser over HTTP with a
//! cookie-keeping client that follows redirects by hand: the authorize URL,
//! the provider's own sign-in and consent pages (its development
//! interactions), then the redirect to Latchkey's loopback listener.
//!
//! Covered: discovery, PKCE S256 (the provider requires it), the nonce and
//! the ID token checked against the provider's JWKS, RFC 9207 `iss`, the
//! refresh token for `offline_access` and its rotation on renewal, a forged
//! `state` refused by the listener, and a login the user aborts at the
//! provider coming back as a refused login with the provider's error.
//!
//! Needs Node.js and `npm ci` in tests/oidc-provider (`make test-deps`);
//! nothing here reaches beyond 127.0.0.1.

mod common;
use common::{profile, ProfileInputExt};
use latchkey_core::model::ServerInput;
use latchkey_core::providers::LoginOutcome;
use latchkey_core::renewal::LifecycleEvent;
use latchkey_core::tokens::TokenStatus;
use latchkey_core::vault::SecretSlot;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// As registered in server.mjs.
const CLIENT_ID: &str = "latchkey-test";
const EMAIL: &str = "ada@latchkey.test";
const NAME: &str = "Ada Lovelace";
/// What the test types on the provider's sign-in page; it becomes `sub`.
const LOGIN: &str = "ada";

// ---- the provider process ----

/// `node tests/oidc-provider/server.mjs`, stopped when dropped (and by
/// itself when its standard input closes, should the test binary die).
struct OidcProvider {
    child: Child,
    issuer: String,
    /// The private CA that issued the provider's HTTPS certificate.
    ca_pem: String,
    _tls: tempfile::TempDir,
    stderr: Arc<Mutex<String>>,
}

impl OidcProvider {
    fn start() -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider");
        let dir = dir.canonicalize().expect("tests/oidc-provider exists");
        assert!(
            dir.join("node_modules/oidc-provider/package.json")
                .is_file(),
            "{} has no node_modules/oidc-provider: run make test-deps \
             (scripts/install-deps.sh --test runs npm ci there)",
            dir.display()
        );
        // HTTPS from a private CA, as a real provider has: the oauth2 crate
        // refuses RFC 7009 revocation over plain HTTP.
        let pems = latchkey_sandbox::tls::issue_pem(&["127.0.0.1"]).unwrap();
        let tls = tempfile::tempdir().unwrap();
        std::fs::write(tls.path().join("cert.pem"), &pems.cert).unwrap();
        std::fs::write(tls.path().join("key.pem"), &pems.key).unwrap();
        let mut child = Command::new("node")
            .env("TLS_CERT", tls.path().join("cert.pem"))
            .env("TLS_KEY", tls.path().join("key.pem"))
            .arg("server.mjs")
            .arg("0")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start node (Node.js 20+ is needed; run make test-deps): {e}")
            });
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let mut pipe = child.stderr.take().unwrap();
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Keep draining so the provider never blocks on a full pipe.
            for _ in lines {}
        });
        let first = rx.recv_timeout(Duration::from_secs(30));
        let issuer = match first {
            Ok(Some(Ok(line))) if line.starts_with("ISSUER=") => {
                line["ISSUER=".len()..].to_string()
            }
            other => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "the provider did not print ISSUER=… first ({other:?}); its stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        assert!(issuer.starts_with("https://127.0.0.1:"), "{issuer}");
        Self {
            child,
            issuer,
            ca_pem: pems.ca,
            _tls: tls,
            stderr,
        }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("oidc-provider's stderr:\n{}", self.stderr.lock().unwrap());
        }
    }
}

// ---- the browser ----

#[derive(Debug)]
struct Cookie {
    name: String,
    value: String,
    path: String,
}

/// A client that keeps cookies (by name and path; one host) and never
/// follows a redirect by itself.
struct Browser {
    http: reqwest::Client,
    cookies: Vec<Cookie>,
    /// Every URL requested, in order, for the failure messages.
    trail: Vec<String>,
}

/// What a page of the provider asked for.
#[derive(Debug)]
struct Form {
    action: String,
    fields: Vec<(String, String)>,
    prompt: String,
    abort: Option<String>,
}

/// Where playing the browser ended.
#[derive(Debug)]
struct Played {
    /// The redirect to Latchkey's `redirect_uri`, with its query.
    location: String,
    /// The provider's pages seen on the way (`login`, `consent`).
    prompts: Vec<String>,
}

impl Browser {
    /// A browser that trusts `ca_pem` besides the system's CAs.
    fn new(ca_pem: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap(),
            cookies: Vec::new(),
            trail: Vec::new(),
        }
    }

    fn cookie_header(&self, url: &Url) -> Option<String> {
        let path = url.path();
        let matching: Vec<String> = self
            .cookies
            .iter()
            .filter(|c| {
                path == c.path
                    || (path.starts_with(&c.path)
                        && (c.path.ends_with('/') || path[c.path.len()..].starts_with('/')))
            })
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!matching.is_empty()).then(|| matching.join("; "))
    }

    fn keep_cookies(&mut self, url: &Url, headers: &reqwest::header::HeaderMap) {
        for header in headers.get_all(reqwest::header::SET_COOKIE) {
            let Ok(raw) = header.to_str() else { continue };
            let mut parts = raw.split(';').map(str::trim);
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            // RFC 6265 §5.1.4 default path: the request path's directory.
            let mut path = match url.path().rfind('/') {
                Some(0) | None => "/".to_string(),
                Some(i) => url.path()[..i].to_string(),
            };
            let mut expired = value.is_empty();
            for attr in parts {
                let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
                match k.to_ascii_lowercase().as_str() {
                    "path" if v.starts_with('/') => path = v.to_string(),
                    "max-age" => expired |= v.trim().parse::<i64>().is_ok_and(|s| s <= 0),
                    "expires" => expired |= v.contains("1970"),
                    _ => {}
                }
            }
            self.cookies.retain(|c| !(c.name == name && c.path == path));
            if !expired {
                self.cookies.push(Cookie {
                    name: name.to_string(),
                    value: value.to_string(),
                    path,
                });
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder, url: &Url) -> reqwest::Response {
        let req = match self.cookie_header(url) {
            Some(c) => req.header(reqwest::header::COOKIE, c),
            None => req,
        };
        self.trail.push(url.to_string());
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}; trail: {:#?}", self.trail));
        self.keep_cookies(url, res.headers());
        res
    }

    /// Plays the provider's pages from `start` until it redirects to
    /// `redirect_uri`: signs in (any login and password) and consents, or,
    /// with `abort`, follows the page's cancel link instead.
    async fn play(&mut self, start: &str, redirect_uri: &str, abort: bool) -> Played {
        let mut next = Url::parse(start).unwrap();
        let mut form_to_post: Option<Form> = None;
        let mut prompts = Vec::new();
        for _ in 0..20 {
            let res = match form_to_post.take() {
                Some(form) => {
                    let req = self.http.post(next.clone()).form(&form.fields);
                    self.send(req, &next).await
                }
                None => {
                    let req = self.http.get(next.clone());
                    self.send(req, &next).await
                }
            };
            let status = res.status();
            if status.is_redirection() {
                let location = res.headers()[reqwest::header::LOCATION]
                    .to_str()
                    .unwrap()
                    .to_string();
                let target = next.join(&location).unwrap();
                if target.as_str().starts_with(redirect_uri) {
                    return Played {
                        location: target.to_string(),
                        prompts,
                    };
                }
                next = target;
                continue;
            }
            let body = res.text().await.unwrap();
            assert!(
                status.is_success(),
                "{status} at {next}: {body}\ntrail: {:#?}",
                self.trail
            );
            let form = parse_form(&body)
                .unwrap_or_else(|| panic!("no form on the page at {next}:\n{body}"));
            prompts.push(form.prompt.clone());
            if abort {
                let href = form.abort.expect("the page has a cancel link");
                next = next.join(&href).unwrap();
            } else {
                next = next.join(&form.action).unwrap();
                form_to_post = Some(form);
            }
        }
        panic!(
            "the provider never redirected to {redirect_uri}; trail: {:#?}",
            self.trail
        );
    }
}

fn unescape(s: &str) -> String {
    s.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let re = regex_lite::Regex::new(&format!(r#"\b{name}="([^"]*)""#)).unwrap();
    re.captures(tag).map(|c| unescape(&c[1]))
}

/// The page's form as a person would fill it: hidden fields as they are,
/// `login` and the password typed, and the page's cancel link.
fn parse_form(html: &str) -> Option<Form> {
    let form_re = regex_lite::Regex::new(r#"(?s)<form\b([^>]*)>(.*?)</form>"#).unwrap();
    let input_re = regex_lite::Regex::new(r#"<input\b[^>]*>"#).unwrap();
    let link_re =
        regex_lite::Regex::new(r#"<a\b[^>]*href="([^"]*)"[^>]*>\s*\[ Cancel \]"#).unwrap();
    let caps = form_re.captures(html)?;
    let action = attr(&caps[1], "action")?;
    let mut fields = Vec::new();
    let mut prompt = String::new();
    for input in input_re.find_iter(&caps[2]) {
        let tag = input.as_str();
        let Some(name) = attr(tag, "name") else {
            continue;
        };
        let value = match attr(tag, "type").as_deref() {
            Some("hidden") => attr(tag, "value").unwrap_or_default(),
            Some("password") => "correct horse battery staple".to_string(),
            _ if name == "login" => LOGIN.to_string(),
            _ => attr(tag, "value").unwrap_or_default(),
        };
        if name == "prompt" {
            prompt = value.clone();
        }
        fields.push((name, value));
    }
    Some(Form {
        action,
        fields,
        prompt,
        abort: link_re.captures(html).map(|c| unescape(&c[1])),
    })
}

fn query_of(url: &str) -> HashMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

// ---- Latchkey ----

/// The common world on the wall clock (the provider stamps its tokens with
/// it), with the provider, a browser that keeps its cookies, and profile
/// `ada` at the provider.
struct World {
    w: common::World,
    provider: OidcProvider,
    browser: Browser,
    profile_id: i64,
}

impl std::ops::Deref for World {
    type Target = common::World;
    fn deref(&self) -> &common::World {
        &self.w
    }
}

async fn world() -> World {
    let provider = OidcProvider::start();
    let w = common::World::now().with_system_clock().build().await;
    w.core
        .add_server(&ServerInput {
            name: "node-oidc".into(),
            kind: "oidc".into(),
            url: provider.issuer.clone(),
            ca_pem: Some(provider.ca_pem.clone()),
        })
        .await
        .unwrap();
    let ada = profile("ada", "node-oidc", "oidc").client_id(CLIENT_ID);
    let profile_id = w
        .add(ada.scopes(&["openid", "email", "offline_access"]))
        .await
        .id;
    let browser = Browser::new(&provider.ca_pem);
    World {
        w,
        provider,
        browser,
        profile_id,
    }
}

impl World {
    async fn secret(&self, slot: SecretSlot) -> Option<String> {
        self.w.secret(self.profile_id, slot).await
    }

    /// Starts the login with the loopback redirect; returns the authorize
    /// URL and the listener's `redirect_uri`.
    async fn start_login(&self) -> (String, String) {
        let (url, redirect_uri) = self.start_browser_login("ada", false).await;
        assert!(
            redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with("/callback"),
            "{redirect_uri}"
        );
        let query = query_of(&url);
        assert!(
            url.starts_with(&format!("{}/auth?", self.provider.issuer)),
            "{url}"
        );
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["client_id"], CLIENT_ID);
        assert_eq!(query["redirect_uri"], redirect_uri);
        assert!(query.contains_key("nonce"), "{url}");
        (url, redirect_uri)
    }

    /// Takes the provider's redirect to our listener and waits for the
    /// login's outcome. Returns the listener's status and the outcome.
    async fn come_back(&self, location: &str) -> (u16, LoginOutcome) {
        let mut outcomes = self.core.login_outcomes();
        let page = self.browser.http.get(location).send().await.unwrap();
        let status = page.status().as_u16();
        let outcome = tokio::time::timeout(Duration::from_secs(20), outcomes.recv())
            .await
            .expect("the login's outcome is announced")
            .unwrap();
        (status, outcome)
    }

    /// Calls the provider's userinfo endpoint with an access token.
    async fn userinfo(&self, access: &str) -> (u16, serde_json::Value) {
        let res = self
            .browser
            .http
            .get(format!("{}/me", self.provider.issuer))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or_default())
    }
}

fn summary_of(detail: &latchkey_core::CredentialDetail) -> HashMap<String, String> {
    detail.tokens[0]
        .summary
        .iter()
        .map(|s| (s.name.clone(), s.value.clone()))
        .collect()
}

#[tokio::test]
async fn a_login_at_a_certified_provider_stores_validated_tokens_and_renews_with_rotation() {
    let started = Instant::now();
    let mut w = world().await;
    let (url, redirect_uri) = w.start_login().await;
    let played = w.browser.play(&url, &redirect_uri, false).await;
    assert_eq!(
        played.prompts,
        ["login", "consent"],
        "the provider's sign-in, then its consent page (offline_access, email)"
    );
    let query = query_of(&played.location);
    assert!(query.contains_key("code"), "{}", played.location);
    assert_eq!(query["iss"], w.provider.issuer, "RFC 9207 iss sent");

    let (status, outcome) = w.come_back(&played.location).await;
    assert_eq!(status, 200, "the listener took the redirect");
    assert!(outcome.accepted, "{outcome:?}");
    assert_eq!(outcome.profile_id, w.profile_id);

    let access = w
        .secret(SecretSlot::AccessToken)
        .await
        .expect("access token");
    let refresh = w
        .secret(SecretSlot::RefreshToken)
        .await
        .expect("refresh token");
    let id_token = w.secret(SecretSlot::IdToken).await.expect("ID token");
    let claims = latchkey_core::jwt::decode(&id_token).unwrap().claims;
    assert_eq!(claims["iss"], w.provider.issuer.as_str());
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["sub"], LOGIN);

    // The access token is the provider's own: its userinfo answers to it.
    let (status, info) = w.userinfo(&access).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["sub"], LOGIN);
    assert_eq!(info["email"], EMAIL);

    let view = w.core.profile_view(w.profile_id).await.unwrap();
    assert_eq!(view.status, TokenStatus::Valid);
    assert!(view.expires_at.is_some(), "{view:?}");
    let detail = w.core.credential(w.profile_id).await.unwrap();
    let summary = summary_of(&detail);
    assert_eq!(
        summary.get("email").map(String::as_str),
        Some(EMAIL),
        "{summary:?}"
    );
    assert_eq!(
        summary.get("name"),
        None,
        "{NAME} is in the profile scope, which was not asked for"
    );
    assert_eq!(
        summary.get("sub").map(String::as_str),
        Some(LOGIN),
        "{summary:?}"
    );
    assert!(
        detail.tokens[0]
            .scopes
            .iter()
            .any(|s| s == "offline_access"),
        "{:?}",
        detail.tokens[0].scopes
    );

    // "Renew now": the refresh grant at the provider's token endpoint.
    let event = w.core.renew_profile(w.profile_id, true).await.unwrap();
    assert!(matches!(event, LifecycleEvent::Renewed { .. }), "{event:?}");
    let renewed = w.secret(SecretSlot::AccessToken).await.unwrap();
    assert_ne!(renewed, access, "a new access token");
    let rotated = w.secret(SecretSlot::RefreshToken).await.unwrap();
    assert_ne!(rotated, refresh, "the provider rotates refresh tokens");
    let (status, info) = w.userinfo(&renewed).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["email"], EMAIL);
    let view = w.core.profile_view(w.profile_id).await.unwrap();
    assert_eq!(view.status, TokenStatus::Valid);

    // A second renewal uses the rotated refresh token.
    let event = w.core.renew_profile(w.profile_id, true).await.unwrap();
    assert!(matches!(event, LifecycleEvent::Renewed { .. }), "{event:?}");
    assert_ne!(w.secret(SecretSlot::RefreshToken).await.unwrap(), rotated);

    // Logging out revokes both tokens at the provider (RFC 7009).
    let last_access = w.secret(SecretSlot::AccessToken).await.unwrap();
    let last_refresh = w.secret(SecretSlot::RefreshToken).await.unwrap();
    let report = w.core.logout(w.profile_id).await.unwrap();
    assert!(report.message.contains("revoked"), "{}", report.message);
    assert!(
        report
            .end_session_url
            .as_deref()
            .is_some_and(|u| u.starts_with(&format!("{}/session/end", w.provider.issuer))),
        "{report:?}"
    );
    assert_eq!(w.secret(SecretSlot::AccessToken).await, None);
    let (status, _) = w.userinfo(&last_access).await;
    assert_eq!(status, 401, "the access token was revoked");
    let res = w
        .browser
        .http
        .post(format!("{}/token", w.provider.issuer))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", last_refresh.as_str()),
            ("client_id", CLIENT_ID),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["error"], "invalid_grant",
        "the refresh token was revoked"
    );
    eprintln!("login, two renewals and logout: {:?}", started.elapsed());
}

#[tokio::test]
async fn a_forged_state_is_refused_by_the_listener_and_the_real_redirect_still_lands() {
    let mut w = world().await;
    let (url, redirect_uri) = w.start_login().await;
    let played = w.browser.play(&url, &redirect_uri, false).await;
    let state = query_of(&played.location)["state"].clone();
    let forged = played
        .location
        .replace(&format!("state={state}"), "state=forged-by-someone-else");
    assert_ne!(forged, played.location);

    let res = w.browser.http.get(&forged).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap();
    assert!(page.contains("no login was waiting"), "{page}");
    assert_eq!(w.secret(SecretSlot::AccessToken).await, None);

    // The listener keeps waiting for the real one.
    let (status, outcome) = w.come_back(&played.location).await;
    assert_eq!(status, 200);
    assert!(outcome.accepted, "{outcome:?}");
    assert!(w.secret(SecretSlot::AccessToken).await.is_some());
}

#[tokio::test]
async fn a_login_aborted_at_the_provider_comes_back_refused_with_its_error() {
    let mut w = world().await;
    let (url, redirect_uri) = w.start_login().await;
    let played = w.browser.play(&url, &redirect_uri, true).await;
    assert_eq!(played.prompts, ["login"], "cancelled on the sign-in page");
    let query = query_of(&played.location);
    assert_eq!(query["error"], "access_denied", "{}", played.location);
    assert!(!query.contains_key("code"));

    let (status, outcome) = w.come_back(&played.location).await;
    assert_eq!(status, 200, "the state is ours: the listener takes it");
    assert!(!outcome.accepted, "{outcome:?}");
    assert!(
        outcome.message.contains("access_denied")
            && outcome.message.contains("End-User aborted interaction"),
        "{}",
        outcome.message
    );
    assert_eq!(w.secret(SecretSlot::AccessToken).await, None);
    assert_eq!(w.secret(SecretSlot::RefreshToken).await, None);
    assert_eq!(w.secret(SecretSlot::IdToken).await, None);
    assert!(
        !w.core.redirects().waiting().contains(&w.profile_id),
        "the login is over"
    );
}
