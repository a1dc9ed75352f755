//! The sandbox's Kontinuous (protocols §1.1–1.4) over HTTP: the login that
//! trades a GitHub code for the `CreateJWT` token, go-restful's refusals, the
//! two login paths, and the `/api/v1/pipelines` probe's errors.

mod common;
use base64::Engine;
use common::{form, Env};
use latchkey_core::clock::{Clock, ManualClock};
use latchkey_sandbox::github::{s256, CLIENT_ID};
use latchkey_sandbox::kontinuous::{LoginPath, AUTH_SECRET};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use time::macros::datetime;
use time::Duration;

/// §1.3's vector.
const VECTOR_TOKEN: &str = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
const VECTOR_JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZGVudGl0aWVzIjpbeyJhY2Nlc3NfdG9rZW4iOiJnaG9fMTZDN2U0MkYyOTJjNjkxMkU3NzEwYzgzODM0N0FlMTc4QjRhIn1dLCJ1c2VyX2lkIjoiZ2l0aHVifDU4MzIzMSJ9.nOzX3-f-7o5Fpn76VPjOH7EVvGqiT1PTUS8eSys-qNc";
const KEY: &[u8] = b"kontinuous-test-secret-0123456789";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk";

async fn start() -> Env {
    common::start(datetime!(2026-03-01 12:00 UTC), "kontinuous").await
}

async fn json_of(resp: reqwest::Response) -> Value {
    serde_json::from_str(&resp.text().await.unwrap()).unwrap()
}

impl Env {
    /// A GitHub code for the OAuth app Kontinuous uses, from the sandbox's
    /// authorize page.
    async fn code(&self, challenge: Option<&str>) -> String {
        let mut pairs = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", "http://127.0.0.1:40000/callback"),
            ("scope", "user:email,repo"),
            ("state", "st"),
        ];
        if let Some(c) = challenge {
            pairs.push(("code_challenge", c));
            pairs.push(("code_challenge_method", "S256"));
        }
        let resp = self
            .http
            .get(format!(
                "{}/login/oauth/authorize?{}",
                self.sandbox.url_of("github"),
                form(&pairs)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FOUND);
        let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        let code = location
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        code
    }

    /// `POST {path}?code&state`, empty body, with `content_type` if given.
    async fn login(
        &self,
        path: &str,
        code: Option<&str>,
        content_type: Option<&str>,
    ) -> reqwest::Response {
        let mut pairs = vec![("state", "st")];
        if let Some(c) = code {
            pairs.insert(0, ("code", c));
        }
        let mut req = self
            .http
            .post(format!("{}{path}?{}", self.base, form(&pairs)));
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.unwrap()
    }

    async fn pipelines(
        &self,
        authorization: Option<&str>,
        id_token: Option<&str>,
    ) -> reqwest::Response {
        let mut url = format!("{}/api/v1/pipelines", self.base);
        if let Some(t) = id_token {
            url = format!("{url}?{}", form(&[("id_token", t)]));
        }
        let mut req = self.http.get(url);
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        req.send().await.unwrap()
    }
}

async fn assert_service_error(resp: reqwest::Response, status: u16, code: u16, message: &str) {
    assert_eq!(resp.status().as_u16(), status);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        json_of(resp).await,
        json!({"Code": code, "Message": message})
    );
}

#[test]
fn minting_reproduces_the_vector() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-01 12:00 UTC)));
    let github = latchkey_sandbox::github::GitHub::new(clock.clone(), "http://x/github".into());
    let k = latchkey_sandbox::kontinuous::Kontinuous::new(clock, github);
    assert_eq!(k.mint(VECTOR_TOKEN, "github|583231"), VECTOR_JWT);
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE
            .decode(AUTH_SECRET)
            .unwrap(),
        KEY
    );
}

#[tokio::test]
async fn login_trades_a_github_code_for_the_create_jwt_token() {
    let env = start().await;
    let code = env.code(None).await;
    let resp = env
        .login("/login/github", Some(&code), Some("application/json"))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json_of(resp).await;
    assert_eq!(body["user_id"], "github|583231");
    let jwt = body["jwt"].as_str().unwrap().to_string();

    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    assert_eq!(
        b64.decode(parts[0]).unwrap(),
        br#"{"alg":"HS256","typ":"JWT"}"#
    );
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    let gh_token = claims["identities"][0]["access_token"].as_str().unwrap();
    assert!(gh_token.starts_with("gho_"));
    assert!(env.sandbox.github().is_valid(gh_token));
    assert_eq!(
        jwt,
        env.sandbox.kontinuous().mint(gh_token, "github|583231")
    );
    // jsonwebtoken agrees on the signature.
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    jsonwebtoken::decode::<Value>(&jwt, &jsonwebtoken::DecodingKey::from_secret(KEY), &v).unwrap();

    assert_eq!(env.sandbox.kontinuous().logins(), 1);
    assert_eq!(env.sandbox.github().exchanges(), 1);
    assert_eq!(
        env.sandbox
            .kontinuous()
            .last_login_content_type()
            .as_deref(),
        Some("application/json")
    );

    // The probe accepts it, from the header (any case) or the query.
    for resp in [
        env.pipelines(Some(&format!("Bearer {jwt}")), None).await,
        env.pipelines(Some(&format!("bEaReR {jwt}")), None).await,
        env.pipelines(None, Some(&jwt)).await,
        env.pipelines(Some("Basic Zm9vOmJhcg=="), Some(&jwt)).await,
    ] {
        assert_eq!(resp.status(), StatusCode::OK);
        let list = json_of(resp).await;
        assert!(!list.as_array().unwrap().is_empty());
        assert_eq!(list[0]["owner"], "octocat");
    }
    // The token never expires.
    env.clock.advance(Duration::days(3650));
    assert_eq!(
        env.pipelines(Some(&format!("Bearer {jwt}")), None)
            .await
            .status(),
        StatusCode::OK
    );

    // The code was used up by Kontinuous.
    let resp = env
        .login("/login/github", Some(&code), Some("application/json"))
        .await;
    assert_service_error(resp, 401, 401, "Access Token is empty").await;
}

#[tokio::test]
async fn login_without_json_content_type_is_415() {
    let env = start().await;
    let code = env.code(None).await;
    let resp = env.login("/login/github", Some(&code), None).await;
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(resp.text().await.unwrap(), "415: Unsupported Media Type");
    assert_eq!(env.sandbox.kontinuous().last_login_content_type(), None);

    let resp = env
        .login("/login/github", Some(&code), Some("text/plain"))
        .await;
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        env.sandbox
            .kontinuous()
            .last_login_content_type()
            .as_deref(),
        Some("text/plain")
    );
    assert_eq!(env.sandbox.kontinuous().logins(), 0);
    assert_eq!(
        env.sandbox.github().exchanges(),
        0,
        "the code was not touched"
    );

    // Parameters after the type are fine.
    let resp = env
        .login(
            "/login/github",
            Some(&code),
            Some("application/json; charset=utf-8"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    // Other methods are go-restful's 405.
    let resp = env
        .http
        .get(format!("{}/login/github", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);

    // An Accept that excludes JSON is 406.
    let resp = env
        .http
        .post(format!("{}/login/github?code=x", env.base))
        .header("content-type", "application/json")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn login_errors() {
    let env = start().await;
    let json = Some("application/json");
    let resp = env.login("/login/github", None, json).await;
    assert_service_error(resp, 401, 401, "Missing Authorization Code").await;
    let resp = env.login("/login/github", Some(""), json).await;
    assert_service_error(resp, 401, 401, "Missing Authorization Code").await;

    let resp = env
        .login("/login/github", Some("0123456789abcdef0123"), json)
        .await;
    assert_service_error(resp, 401, 401, "Access Token is empty").await;

    // Expired code.
    let code = env.code(None).await;
    env.clock.advance(Duration::minutes(11));
    let resp = env.login("/login/github", Some(&code), json).await;
    assert_service_error(resp, 401, 401, "Access Token is empty").await;

    // A code authorized with PKCE: Kontinuous sends no verifier, GitHub refuses.
    let code = env.code(Some(&s256(VERIFIER))).await;
    let resp = env.login("/login/github", Some(&code), json).await;
    assert_service_error(resp, 401, 401, "Access Token is empty").await;

    assert_eq!(env.sandbox.kontinuous().logins(), 0);
}

#[tokio::test]
async fn only_one_login_path_exists_at_a_time() {
    let env = start().await;
    let json = Some("application/json");
    let code = env.code(None).await;
    let resp = env.login("/api/v1/login/github", Some(&code), json).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.text().await.unwrap(), "404: Page Not Found");

    env.sandbox.kontinuous().set_login_path(LoginPath::ApiV1);
    let resp = env.login("/login/github", Some(&code), json).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = env.login("/api/v1/login/github", Some(&code), json).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json_of(resp).await["user_id"], "github|583231");

    env.sandbox.kontinuous().set_login_path(LoginPath::Root);
    let code = env.code(None).await;
    let resp = env.login("/login/github", Some(&code), json).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(env.sandbox.kontinuous().logins(), 2);

    // Unknown paths are go-restful's 404 too.
    let resp = env
        .http
        .get(format!("{}/api/v1/nothing", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pipelines_probe_errors() {
    let env = start().await;
    let k = env.sandbox.kontinuous();
    let gh = env.sandbox.github();
    let now = env.clock.now().unix_timestamp();
    let code = env.code(None).await;
    let gh_token = gh
        .exchange_code(
            CLIENT_ID,
            latchkey_sandbox::github::CLIENT_SECRET,
            &code,
            None,
        )
        .unwrap();
    let bearer = |t: &str| format!("Bearer {t}");

    // No token at all, or not a Bearer one.
    assert_service_error(
        env.pipelines(None, None).await,
        401,
        0,
        "Missing Access Token!",
    )
    .await;
    assert_service_error(
        env.pipelines(Some("Basic Zm9vOmJhcg=="), None).await,
        401,
        0,
        "Missing Access Token!",
    )
    .await;
    assert_service_error(
        env.pipelines(Some("Bearer "), None).await,
        401,
        0,
        "Missing Access Token!",
    )
    .await;

    // Garbage, a foreign key, `none`, expired, not yet valid.
    let other_key = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"identities": [{"access_token": gh_token}]}),
        &jsonwebtoken::EncodingKey::from_secret(b"some-other-secret"),
    )
    .unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(json!({"identities": [{"access_token": gh_token}]}).to_string())
    );
    let expired = k.sign(&json!({"identities": [{"access_token": gh_token}], "exp": now - 1}));
    let early = k.sign(&json!({"identities": [{"access_token": gh_token}], "nbf": now + 60}));
    let valid = k.mint(&gh_token, "github|583231");
    let tampered = {
        let p: Vec<&str> = valid.split('.').collect();
        let claims = b64.encode(json!({"identities": [{"access_token": "gho_other"}]}).to_string());
        format!("{}.{claims}.{}", p[0], p[2])
    };
    for bad in [
        "garbage",
        "a.b.c",
        other_key.as_str(),
        none.as_str(),
        expired.as_str(),
        early.as_str(),
        tampered.as_str(),
    ] {
        assert_service_error(
            env.pipelines(Some(&bearer(bad)), None).await,
            401,
            401,
            "Unauthorized!",
        )
        .await;
    }
    assert_service_error(
        env.pipelines(None, Some("garbage")).await,
        401,
        401,
        "Unauthorized!",
    )
    .await;

    // `exp` in the future (Auth0 style), or exactly now, is fine; HS512 under
    // the same secret passes too (the keyfunc does not check `alg`).
    let later = k.sign(&json!({"identities": [{"access_token": gh_token}], "exp": now + 3600}));
    let at_exp = k.sign(&json!({"identities": [{"access_token": gh_token}], "exp": now}));
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &json!({"identities": [{"access_token": gh_token}]}),
        &jsonwebtoken::EncodingKey::from_secret(KEY),
    )
    .unwrap();
    for good in [&later, &at_exp, &hs512, &valid] {
        assert_eq!(
            env.pipelines(Some(&bearer(good)), None).await.status(),
            StatusCode::OK
        );
    }
    env.clock.advance(Duration::seconds(3601));
    assert_service_error(
        env.pipelines(Some(&bearer(&later)), None).await,
        401,
        401,
        "Unauthorized!",
    )
    .await;

    // Valid, but no GitHub token inside.
    for claims in [
        json!({"user_id": "github|583231"}),
        json!({"identities": [{"access_token": ""}]}),
    ] {
        assert_service_error(
            env.pipelines(Some(&bearer(&k.sign(&claims))), None).await,
            400,
            400,
            "Missing Access Token!",
        )
        .await;
    }
    // A shape the Go code's type assertions choke on.
    let odd = k.sign(&json!({"identities": "nope"}));
    assert_eq!(
        env.pipelines(Some(&bearer(&odd)), None).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );

    // The GitHub token inside was revoked.
    assert!(gh.revoke(&gh_token));
    assert_service_error(
        env.pipelines(Some(&bearer(&valid)), None).await,
        401,
        401,
        "Bad credentials",
    )
    .await;
    // And one GitHub never issued.
    assert_service_error(
        env.pipelines(Some(&bearer(&k.mint(VECTOR_TOKEN, "github|583231"))), None)
            .await,
        401,
        401,
        "Bad credentials",
    )
    .await;
}
