//! The sandbox's GitHub (protocols §1.7) over HTTP, on a manual clock: the
//! authorize page, the code exchange with and without PKCE, refresh rotation,
//! the device flow, `/user` and token revocation.

mod common;
use common::{form, Env};
use latchkey_sandbox::github::{
    s256, APP_CLIENT_ID, APP_CLIENT_SECRET, CLIENT_ID, CLIENT_SECRET, DEVICE_GRANT, USER_ID,
    USER_LOGIN,
};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashMap;
use time::macros::datetime;
use time::Duration;

const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CALLBACK: &str = "http://127.0.0.1:49152/callback";

async fn start() -> Env {
    common::start(datetime!(2026-03-01 12:00 UTC), "github").await
}

fn parse_form(s: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(s.as_bytes())
        .into_owned()
        .collect()
}

async fn json_of(resp: reqwest::Response) -> Value {
    serde_json::from_str(&resp.text().await.unwrap()).unwrap()
}

impl Env {
    fn github(&self) -> &latchkey_sandbox::github::GitHub {
        self.sandbox.github()
    }

    async fn authorize(&self, pairs: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .get(format!(
                "{}/login/oauth/authorize?{}",
                self.base,
                form(pairs)
            ))
            .send()
            .await
            .unwrap()
    }

    /// Authorizes and returns the redirect's Location split into the part
    /// before `?` and the query parameters.
    async fn redirected(&self, pairs: &[(&str, &str)]) -> (String, HashMap<String, String>) {
        let resp = self.authorize(pairs).await;
        assert_eq!(resp.status(), StatusCode::FOUND, "{pairs:?}");
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let (base, query) = location.split_once('?').unwrap();
        (base.to_string(), parse_form(query))
    }

    async fn code(&self, client_id: &str, challenge: Option<&str>) -> String {
        let mut pairs = vec![
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "repo gist"),
            ("state", "s1"),
        ];
        if let Some(c) = challenge {
            pairs.push(("code_challenge", c));
            pairs.push(("code_challenge_method", "S256"));
        }
        let (_, q) = self.redirected(&pairs).await;
        assert_eq!(q["state"], "s1");
        q["code"].clone()
    }

    /// POSTs a form to the token endpoint asking for JSON; errors are HTTP 200.
    async fn token(&self, pairs: &[(&str, &str)]) -> Value {
        let resp = self
            .http
            .post(format!("{}/login/oauth/access_token", self.base))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        json_of(resp).await
    }

    async fn exchange(&self, client_id: &str, secret: &str, code: &str) -> Value {
        self.token(&[
            ("client_id", client_id),
            ("client_secret", secret),
            ("code", code),
        ])
        .await
    }

    async fn device_code(&self, client_id: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/login/device/code", self.base))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("client_id", client_id), ("scope", "repo")]))
            .send()
            .await
            .unwrap()
    }

    async fn poll(&self, client_id: &str, device_code: &str) -> Value {
        self.token(&[
            ("client_id", client_id),
            ("device_code", device_code),
            ("grant_type", DEVICE_GRANT),
        ])
        .await
    }

    async fn user(&self, authorization: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}/user", self.base));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        req.send().await.unwrap()
    }

    async fn delete_token(&self, basic: Option<(&str, &str)>, body: &str) -> reqwest::Response {
        let mut req = self
            .http
            .delete(format!("{}/applications/{CLIENT_ID}/token", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some((u, p)) = basic {
            req = req.basic_auth(u, Some(p));
        }
        req.send().await.unwrap()
    }
}

fn error_of(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn authorize_redirects_to_every_allowed_callback() {
    let env = start().await;
    for callback in [
        "latchkey://callback",
        "http://127.0.0.1:1234/callback",
        "http://127.0.0.1:65000/callback",
        "http://127.0.0.1/callback",
        "http://[::1]:8080/callback",
        "http://127.0.0.1:1234/callback/sub",
    ] {
        let (base, q) = env
            .redirected(&[
                ("client_id", CLIENT_ID),
                ("redirect_uri", callback),
                ("state", "xyz"),
            ])
            .await;
        assert_eq!(base, callback);
        assert_eq!(q["state"], "xyz");
        assert_eq!(q["code"].len(), 20);
    }
    // Without redirect_uri: the registered callback; without state: none back.
    let (base, q) = env.redirected(&[("client_id", CLIENT_ID)]).await;
    assert_eq!(base, "latchkey://callback");
    assert!(!q.contains_key("state"));
}

#[tokio::test]
async fn authorize_refuses_unknown_clients_and_foreign_callbacks_without_redirecting() {
    let env = start().await;
    let resp = env
        .authorize(&[("client_id", "nobody"), ("redirect_uri", CALLBACK)])
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("<html>"));
    let resp = env.authorize(&[("redirect_uri", CALLBACK)]).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    for bad in [
        "https://evil.example/callback",
        "http://localhost:1234/callback",
        "http://127.0.0.2:1234/callback",
        "http://127.0.0.1:1234/other",
        "http://127.0.0.1:1234/callbackx",
        "https://127.0.0.1:1234/callback",
        "latchkey://elsewhere",
        "not a url",
    ] {
        let resp = env
            .authorize(&[("client_id", CLIENT_ID), ("redirect_uri", bad)])
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(resp.headers().get("location").is_none(), "{bad}");
        assert!(resp.text().await.unwrap().contains("redirect_uri_mismatch"));
    }
}

#[tokio::test]
async fn authorize_accepts_only_s256_challenges() {
    let env = start().await;
    for pkce in [
        vec![
            ("code_challenge", VERIFIER),
            ("code_challenge_method", "plain"),
        ],
        vec![("code_challenge", VERIFIER)],
        vec![("code_challenge_method", "S256")],
        vec![
            ("code_challenge", "too-short"),
            ("code_challenge_method", "S256"),
        ],
    ] {
        let mut pairs = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("state", "st"),
        ];
        pairs.extend(pkce.iter().copied());
        let (base, q) = env.redirected(&pairs).await;
        assert_eq!(base, CALLBACK);
        assert_eq!(q["error"], "invalid_request", "{pkce:?}");
        assert_eq!(q["state"], "st");
        assert!(!q.contains_key("code"));
    }
}

#[tokio::test]
async fn a_denied_authorization_redirects_with_access_denied_once() {
    let env = start().await;
    env.github().deny_next();
    let (base, q) = env
        .redirected(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("state", "S"),
        ])
        .await;
    assert_eq!(base, CALLBACK);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(
        q["error_description"],
        "The user has denied your application access."
    );
    assert!(q["error_uri"].starts_with("https://docs.github.com/"));
    assert_eq!(q["state"], "S");
    assert!(!q.contains_key("code"));
    // Only the next one.
    let code = env.code(CLIENT_ID, None).await;
    assert_eq!(code.len(), 20);
}

#[tokio::test]
async fn oauth_app_code_exchange_succeeds_once() {
    let env = start().await;
    let code = env.code(CLIENT_ID, None).await;
    let body = env
        .token(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    let token = body["access_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("gho_") && token.len() == 40, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "repo,gist");
    assert!(body.get("expires_in").is_none() && body.get("refresh_token").is_none());
    assert_eq!(env.github().exchanges(), 1);
    assert!(env.github().is_valid(&token));

    // Reuse.
    let again = env.exchange(CLIENT_ID, CLIENT_SECRET, &code).await;
    assert_eq!(error_of(&again), "bad_verification_code");
    assert_eq!(
        again["error_description"],
        "The code passed is incorrect or expired."
    );
    assert!(again["error_uri"]
        .as_str()
        .unwrap()
        .contains("bad-verification-code"));
    assert_eq!(env.github().exchanges(), 1);

    // OAuth-app tokens never expire.
    env.clock.advance(Duration::days(400));
    assert!(env.github().is_valid(&token));
}

#[tokio::test]
async fn code_exchange_errors() {
    let env = start().await;
    let code = env.code(CLIENT_ID, None).await;
    for (id, secret) in [
        (CLIENT_ID, "wrong"),
        (CLIENT_ID, ""),
        ("nobody", CLIENT_SECRET),
        (APP_CLIENT_ID, APP_CLIENT_SECRET),
    ] {
        let body = env.exchange(id, secret, &code).await;
        let want = if id == APP_CLIENT_ID {
            "bad_verification_code" // right credentials, someone else's code
        } else {
            "incorrect_client_credentials"
        };
        assert_eq!(error_of(&body), want, "{id}:{secret}");
    }
    let body = env
        .exchange(CLIENT_ID, CLIENT_SECRET, "0123456789abcdef0123")
        .await;
    assert_eq!(error_of(&body), "bad_verification_code");
    let body = env
        .token(&[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)])
        .await;
    assert_eq!(error_of(&body), "bad_verification_code");

    let body = env
        .token(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:1/callback"),
        ])
        .await;
    assert_eq!(error_of(&body), "redirect_uri_mismatch");
    assert_eq!(
        body["error_description"],
        "The redirect_uri MUST match the registered callback URL for this application."
    );
    // None of the refusals used the code up.
    let body = env.exchange(CLIENT_ID, CLIENT_SECRET, &code).await;
    assert!(body["access_token"].is_string(), "{body}");

    let body = env
        .token(&[("grant_type", "password"), ("client_id", CLIENT_ID)])
        .await;
    assert_eq!(error_of(&body), "unsupported_grant_type");
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let env = start().await;
    let fresh = env.code(CLIENT_ID, None).await;
    let stale = env.code(CLIENT_ID, None).await;
    env.clock
        .advance(Duration::minutes(10) - Duration::seconds(1));
    let body = env.exchange(CLIENT_ID, CLIENT_SECRET, &fresh).await;
    assert!(body["access_token"].is_string(), "{body}");
    env.clock.advance(Duration::seconds(1));
    let body = env.exchange(CLIENT_ID, CLIENT_SECRET, &stale).await;
    assert_eq!(error_of(&body), "bad_verification_code");
    assert_eq!(env.github().exchanges(), 1);
}

#[tokio::test]
async fn pkce_verifier_must_match_the_challenge() {
    let env = start().await;
    let code = env.code(CLIENT_ID, Some(&s256(VERIFIER))).await;
    let base = [
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code.as_str()),
    ];

    let missing = env.token(&base).await;
    assert_eq!(error_of(&missing), "bad_verification_code");
    assert!(missing["error_description"]
        .as_str()
        .unwrap()
        .contains("code_verifier"));

    let mut wrong = base.to_vec();
    wrong.push((
        "code_verifier",
        "not-the-verifier-not-the-verifier-not-the-v",
    ));
    let body = env.token(&wrong).await;
    assert_eq!(error_of(&body), "bad_verification_code");
    assert_eq!(
        body["error_description"],
        "The code_verifier does not match the code_challenge."
    );

    let mut right = base.to_vec();
    right.push(("code_verifier", VERIFIER));
    let body = env.token(&right).await;
    assert!(body["access_token"].as_str().unwrap().starts_with("gho_"));
    // base64url(SHA-256(verifier)), unpadded, as Python's hashlib computes it.
    assert_eq!(
        s256(VERIFIER),
        "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc"
    );
}

#[tokio::test]
async fn parameters_in_the_query_and_form_encoded_answers() {
    let env = start().await;
    let code = env.code(CLIENT_ID, None).await;
    // Kontinuous' way: everything in the query of an empty POST, no Accept.
    let resp = env
        .http
        .post(format!(
            "{}/login/oauth/access_token?{}",
            env.base,
            form(&[
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("code", &code),
                ("state", "s1"),
            ])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
    let body = parse_form(&resp.text().await.unwrap());
    assert!(body["access_token"].starts_with("gho_"));
    assert_eq!(body["scope"], "repo,gist");
    assert_eq!(body["token_type"], "bearer");

    // Errors are form-encoded too, still with HTTP 200.
    let resp = env
        .http
        .post(format!("{}/login/oauth/access_token", env.base))
        .body(form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", &code),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = parse_form(&resp.text().await.unwrap());
    assert_eq!(body["error"], "bad_verification_code");

    // A JSON body works as well.
    let code = env.code(CLIENT_ID, None).await;
    let resp = env
        .http
        .post(format!("{}/login/oauth/access_token", env.base))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body(
            serde_json::json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert!(json_of(resp).await["access_token"].is_string());
}

#[tokio::test]
async fn github_app_tokens_expire_and_refresh_rotates() {
    let env = start().await;
    let code = env.code(APP_CLIENT_ID, Some(&s256(VERIFIER))).await;
    let body = env
        .token(&[
            ("client_id", APP_CLIENT_ID),
            ("client_secret", APP_CLIENT_SECRET),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ])
        .await;
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    assert!(access.starts_with("ghu_"), "{body}");
    assert!(refresh.starts_with("ghr_"), "{body}");
    assert_eq!(body["expires_in"], 28800);
    assert_eq!(body["refresh_token_expires_in"], 15811200);
    assert_eq!(body["scope"], "");
    assert_eq!(body["token_type"], "bearer");

    // Refresh needs the secret (the token came from the web flow).
    let body = env
        .token(&[
            ("client_id", APP_CLIENT_ID),
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
        ])
        .await;
    assert_eq!(error_of(&body), "incorrect_client_credentials");
    let body = env
        .token(&[
            ("client_id", APP_CLIENT_ID),
            ("client_secret", "wrong"),
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
        ])
        .await;
    assert_eq!(error_of(&body), "incorrect_client_credentials");

    let refresh_with = |rt: String| {
        let env = &env;
        async move {
            env.token(&[
                ("client_id", APP_CLIENT_ID),
                ("client_secret", APP_CLIENT_SECRET),
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
            ])
            .await
        }
    };
    env.clock.advance(Duration::hours(1));
    let body = refresh_with(refresh.clone()).await;
    let access2 = body["access_token"].as_str().unwrap().to_string();
    let refresh2 = body["refresh_token"].as_str().unwrap().to_string();
    assert!(access2.starts_with("ghu_") && access2 != access);
    assert!(refresh2.starts_with("ghr_") && refresh2 != refresh);
    assert_eq!(body["expires_in"], 28800);
    // Both old tokens are dead.
    assert!(!env.github().is_valid(&access));
    assert!(env.github().is_valid(&access2));
    let reuse = refresh_with(refresh.clone()).await;
    assert_eq!(error_of(&reuse), "bad_refresh_token");
    assert_eq!(
        reuse["error_description"],
        "The refresh token passed is incorrect or expired."
    );
    // Refresh grants are not code exchanges.
    assert_eq!(env.github().exchanges(), 1);

    // The access token dies after 8 hours, by the clock.
    env.clock.advance(Duration::seconds(28800 - 1));
    assert!(env.github().is_valid(&access2));
    assert_eq!(
        env.user(Some(&format!("Bearer {access2}"))).await.status(),
        StatusCode::OK
    );
    env.clock.advance(Duration::seconds(1));
    assert!(!env.github().is_valid(&access2));
    assert_eq!(
        env.user(Some(&format!("Bearer {access2}"))).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The refresh token still works, until its six months are up.
    let body = refresh_with(refresh2).await;
    let refresh3 = body["refresh_token"].as_str().unwrap().to_string();
    env.clock.advance(Duration::seconds(15811200));
    assert_eq!(error_of(&refresh_with(refresh3).await), "bad_refresh_token");

    // The OAuth app has no refresh tokens.
    let body = env
        .token(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("grant_type", "refresh_token"),
            ("refresh_token", "ghr_nothing"),
        ])
        .await;
    assert_eq!(error_of(&body), "bad_refresh_token");
}

#[tokio::test]
async fn device_flow_pending_slow_down_then_approved() {
    let env = start().await;
    let resp = env.device_code(CLIENT_ID).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let d = json_of(resp).await;
    let device_code = d["device_code"].as_str().unwrap().to_string();
    let user_code = d["user_code"].as_str().unwrap().to_string();
    assert_eq!(device_code.len(), 40);
    assert!(device_code.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert_eq!(d["verification_uri"], format!("{}/login/device", env.base));
    assert_eq!(d["expires_in"], 900);
    assert_eq!(d["interval"], 5);

    let body = env.poll(CLIENT_ID, &device_code).await;
    assert_eq!(error_of(&body), "authorization_pending");
    // Polled again at once: too fast.
    let body = env.poll(CLIENT_ID, &device_code).await;
    assert_eq!(error_of(&body), "slow_down");
    assert_eq!(body["interval"], 10);
    // The old interval is not enough any more.
    env.clock.advance(Duration::seconds(5));
    let body = env.poll(CLIENT_ID, &device_code).await;
    assert_eq!(error_of(&body), "slow_down");
    assert_eq!(body["interval"], 15);
    env.clock.advance(Duration::seconds(15));
    let body = env.poll(CLIENT_ID, &device_code).await;
    assert_eq!(error_of(&body), "authorization_pending");

    // Forced slow_down, with a custom increment.
    env.github().set_slow_down_increment(1);
    env.github().slow_down_next();
    env.clock.advance(Duration::seconds(60));
    let body = env.poll(CLIENT_ID, &device_code).await;
    assert_eq!(error_of(&body), "slow_down");
    assert_eq!(body["interval"], 16);

    // The fake browser opens the verification page.
    let page = env
        .http
        .get(d["verification_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(&user_code));
    env.clock.advance(Duration::seconds(16));
    let body = env.poll(CLIENT_ID, &device_code).await;
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with("gho_"), "{body}");
    assert_eq!(body["scope"], "repo");
    assert!(env.github().is_valid(token));
    // Device codes are single use.
    env.clock.advance(Duration::seconds(60));
    let body = env.poll(CLIENT_ID, &device_code).await;
    assert_eq!(error_of(&body), "incorrect_device_code");
    // Not counted as a code exchange.
    assert_eq!(env.github().exchanges(), 0);
}

#[tokio::test]
async fn device_flow_denied_expired_unknown_and_disabled() {
    let env = start().await;
    env.github().set_device_interval(0);
    let d = json_of(env.device_code(CLIENT_ID).await).await;
    assert_eq!(d["interval"], 0);
    let device_code = d["device_code"].as_str().unwrap().to_string();
    let user_code = d["user_code"].as_str().unwrap().to_string();
    // Interval 0: polling back to back is fine.
    for _ in 0..3 {
        let body = env.poll(CLIENT_ID, &device_code).await;
        assert_eq!(error_of(&body), "authorization_pending");
    }
    assert!(env.github().deny_device(&user_code.to_lowercase()));
    assert!(
        !env.github().approve_device(&user_code),
        "no longer pending"
    );
    let body = env.poll(CLIENT_ID, &device_code).await;
    assert_eq!(error_of(&body), "access_denied");

    // Expiry after 900 s.
    let d = json_of(env.device_code(CLIENT_ID).await).await;
    let device_code = d["device_code"].as_str().unwrap().to_string();
    env.clock.advance(Duration::seconds(899));
    let body = env.poll(CLIENT_ID, &device_code).await;
    assert_eq!(error_of(&body), "authorization_pending");
    env.clock.advance(Duration::seconds(1));
    let body = env.poll(CLIENT_ID, &device_code).await;
    assert_eq!(error_of(&body), "expired_token");
    assert!(!env
        .github()
        .approve_device(d["user_code"].as_str().unwrap()));

    let body = env
        .poll(CLIENT_ID, "0000000000000000000000000000000000000000")
        .await;
    assert_eq!(error_of(&body), "incorrect_device_code");
    let body = env.poll("nobody", &device_code).await;
    assert_eq!(error_of(&body), "incorrect_client_credentials");

    // Unknown client at step 1.
    let resp = env.device_code("nobody").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    env.github().set_device_flow(false);
    let resp = env.device_code(CLIENT_ID).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json_of(resp).await;
    assert_eq!(error_of(&body), "device_flow_disabled");
    assert_eq!(
        body["error_description"],
        "Device Flow must be explicitly enabled for this App"
    );
    assert!(body["error_uri"].is_string());
}

#[tokio::test]
async fn device_flow_for_the_app_refreshes_without_the_secret() {
    let env = start().await;
    env.github().set_device_interval(0);
    // Form-encoded when Accept is not JSON.
    let resp = env
        .http
        .post(format!("{}/login/device/code", env.base))
        .body(form(&[("client_id", APP_CLIENT_ID)]))
        .send()
        .await
        .unwrap();
    let d = parse_form(&resp.text().await.unwrap());
    assert_eq!(d["expires_in"], "900");
    assert!(env.github().approve_device(&d["user_code"]));
    let body = env.poll(APP_CLIENT_ID, &d["device_code"]).await;
    assert!(body["access_token"].as_str().unwrap().starts_with("ghu_"));
    let body = env
        .token(&[
            ("client_id", APP_CLIENT_ID),
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert!(
        body["access_token"].as_str().unwrap().starts_with("ghu_"),
        "{body}"
    );
}

#[tokio::test]
async fn user_endpoint_takes_bearer_or_token() {
    let env = start().await;
    let code = env.code(CLIENT_ID, None).await;
    let token = env.exchange(CLIENT_ID, CLIENT_SECRET, &code).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    for auth in [format!("Bearer {token}"), format!("token {token}")] {
        let resp = env.user(Some(&auth)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body = json_of(resp).await;
        assert_eq!(
            body,
            serde_json::json!({"login": USER_LOGIN, "id": USER_ID, "name": "The Octocat"})
        );
    }
    let resp = env.user(Some("Bearer gho_nope")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body = json_of(resp).await;
    assert_eq!(body["message"], "Bad credentials");
    assert!(body["documentation_url"].is_string());
    let resp = env.user(None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(resp).await["message"], "Requires authentication");

    assert_eq!(
        env.github().user_for(&token),
        Some((USER_LOGIN.to_string(), USER_ID))
    );
    assert_eq!(env.github().user_for("gho_nope"), None);
}

#[tokio::test]
async fn deleting_a_token_revokes_it() {
    let env = start().await;
    let code = env.code(CLIENT_ID, None).await;
    let token = env.exchange(CLIENT_ID, CLIENT_SECRET, &code).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let body = serde_json::json!({ "access_token": token }).to_string();

    let resp = env.delete_token(None, &body).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = env.delete_token(Some((CLIENT_ID, "wrong")), &body).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(resp).await["message"], "Bad credentials");
    let resp = env
        .delete_token(Some((APP_CLIENT_ID, APP_CLIENT_SECRET)), &body)
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "another app's credentials"
    );
    let resp = env
        .delete_token(
            Some((CLIENT_ID, CLIENT_SECRET)),
            r#"{"access_token":"gho_unknown"}"#,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(resp).await["message"], "Not Found");
    let resp = env
        .delete_token(Some((CLIENT_ID, CLIENT_SECRET)), "{}")
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(env.github().is_valid(&token));

    let resp = env
        .delete_token(Some((CLIENT_ID, CLIENT_SECRET)), &body)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(!env.github().is_valid(&token));
    assert_eq!(
        env.user(Some(&format!("Bearer {token}"))).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let resp = env
        .delete_token(Some((CLIENT_ID, CLIENT_SECRET)), &body)
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // The control does the same.
    let code = env.code(CLIENT_ID, None).await;
    let token = env.exchange(CLIENT_ID, CLIENT_SECRET, &code).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(env.github().revoke(&token));
    assert!(!env.github().is_valid(&token));
    assert!(!env.github().revoke(&token));
}

#[tokio::test]
async fn revoking_an_app_token_kills_its_refresh_token() {
    let env = start().await;
    let code = env.code(APP_CLIENT_ID, None).await;
    let body = env.exchange(APP_CLIENT_ID, APP_CLIENT_SECRET, &code).await;
    assert!(env.github().revoke(body["access_token"].as_str().unwrap()));
    let body = env
        .token(&[
            ("client_id", APP_CLIENT_ID),
            ("client_secret", APP_CLIENT_SECRET),
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(error_of(&body), "bad_refresh_token");
}

#[tokio::test]
async fn in_process_exchange_matches_the_endpoint() {
    let env = start().await;
    let gh = env.github();
    let code = env.code(CLIENT_ID, None).await;
    let err = gh
        .exchange_code(CLIENT_ID, "wrong", &code, None)
        .unwrap_err();
    assert_eq!(err.0, "incorrect_client_credentials");
    let token = gh
        .exchange_code(CLIENT_ID, CLIENT_SECRET, &code, None)
        .unwrap();
    assert!(token.starts_with("gho_") && gh.is_valid(&token));
    let err = gh
        .exchange_code(CLIENT_ID, CLIENT_SECRET, &code, None)
        .unwrap_err();
    assert_eq!(err.0, "bad_verification_code");

    let code = env.code(CLIENT_ID, Some(&s256(VERIFIER))).await;
    let err = gh
        .exchange_code(CLIENT_ID, CLIENT_SECRET, &code, None)
        .unwrap_err();
    assert_eq!(err.0, "bad_verification_code");
    let token = gh
        .exchange_code(CLIENT_ID, CLIENT_SECRET, &code, Some(VERIFIER))
        .unwrap();
    assert!(gh.is_valid(&token));
    assert_eq!(gh.exchanges(), 2);
}
