//! The sandbox's OpenID Connect provider, both flavors, driven over HTTP as a
//! client and a browser would, with the sandbox's clock in the test's hand.

mod common;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use latchkey_sandbox::oidc::{
    AUTH0_CLIENT_ID, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, DEFAULT_REDIRECT_URI,
    DEVICE_GRANT_TYPE, PUBLIC_CLIENT_ID, USER_EMAIL, USER_NAME, USER_SUB,
};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use time::macros::datetime;
use time::Duration;

const START: time::OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

/// The sandbox; `base` is the OpenID provider's place, Auth0 is elsewhere.
type T = common::Env;

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The query parameters of a 302's `Location`, and the location itself.
fn redirect_params(resp: &reqwest::Response) -> (String, HashMap<String, String>) {
    assert_eq!(resp.status(), StatusCode::FOUND, "expected a redirect");
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let url = url::Url::parse(&location).unwrap();
    let params = url.query_pairs().into_owned().collect();
    (location, params)
}

fn claims_unverified(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Verifies an RS256 token with the key of its `kid` in `jwks`; expiry is
/// checked by hand against the sandbox's (manual) clock, not the wall clock.
fn verify(jwt: &str, jwks: &Value, issuer: &str) -> Value {
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("a kid");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} is in the JWKS"));
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "RS256");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .unwrap()
        .claims;
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > claims["iat"].as_i64().unwrap());
    claims
}

impl T {
    async fn start() -> Self {
        common::start(START, "oidc").await
    }

    fn provider(&self, name: &str) -> &latchkey_sandbox::oidc::Oidc {
        match name {
            "oidc" => self.sandbox.oidc(),
            "auth0" => self.sandbox.auth0(),
            other => panic!("no provider {other}"),
        }
    }

    async fn discovery(&self, provider: &str) -> Value {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.sandbox.url_of(provider)
        );
        let resp = self.http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    async fn endpoint(&self, provider: &str, name: &str) -> String {
        self.discovery(provider).await[name]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn jwks(&self, provider: &str) -> Value {
        let url = self.endpoint(provider, "jwks_uri").await;
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn authorize(&self, provider: &str, params: &[(&str, &str)]) -> reqwest::Response {
        let url = self.endpoint(provider, "authorization_endpoint").await;
        self.http.get(url).query(params).send().await.unwrap()
    }

    /// A code for the public client, redirected to `latchkey://callback`.
    async fn code(&self, provider: &str, scope: &str, extra: &[(&str, &str)]) -> (String, String) {
        self.code_as(provider, PUBLIC_CLIENT_ID, scope, extra).await
    }

    /// A code for `client_id`, redirected to `latchkey://callback`, with the
    /// PKCE verifier that redeems it.
    async fn code_as(
        &self,
        provider: &str,
        client_id: &str,
        scope: &str,
        extra: &[(&str, &str)],
    ) -> (String, String) {
        let (verifier, challenge) = pkce();
        let mut params: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", DEFAULT_REDIRECT_URI),
            ("scope", scope),
            ("state", "st-1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        params.extend_from_slice(extra);
        let resp = self.authorize(provider, &params).await;
        let (_, q) = redirect_params(&resp);
        assert_eq!(q["state"], "st-1");
        (q["code"].clone(), verifier)
    }

    async fn post(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut req = self.http.post(url).form(form);
        if let Some((user, password)) = basic {
            req = req.basic_auth(user, Some(password));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body, headers)
    }

    async fn token(&self, provider: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let url = self.endpoint(provider, "token_endpoint").await;
        let (status, body, _) = self.post(&url, form, None).await;
        (status, body)
    }

    async fn exchange(&self, provider: &str, code: &str, verifier: &str) -> (StatusCode, Value) {
        self.token(
            provider,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("code", code),
                ("redirect_uri", DEFAULT_REDIRECT_URI),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    /// The whole browser login for the public client: the token response.
    async fn login(&self, provider: &str, scope: &str, extra: &[(&str, &str)]) -> Value {
        let (code, verifier) = self.code(provider, scope, extra).await;
        let (status, body) = self.exchange(provider, &code, &verifier).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn refresh(&self, provider: &str, refresh_token: &str) -> (StatusCode, Value) {
        self.token(
            provider,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    async fn userinfo(&self, provider: &str, token: Option<&str>) -> reqwest::Response {
        let url = self.endpoint(provider, "userinfo_endpoint").await;
        let mut req = self.http.get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}

fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, error: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].as_str().is_some(), "{body}");
}

#[tokio::test]
async fn discovery_documents_each_flavor() {
    let t = T::start().await;
    let base = t.sandbox.url_of("oidc");
    let d = t.discovery("oidc").await;
    assert_eq!(d["issuer"], base.as_str());
    assert_eq!(t.sandbox.oidc().issuer(), base);
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("jwks_uri", "/jwks"),
        ("userinfo_endpoint", "/userinfo"),
        ("revocation_endpoint", "/revoke"),
        ("end_session_endpoint", "/logout"),
        ("device_authorization_endpoint", "/device"),
    ] {
        assert_eq!(d[field], format!("{base}{path}"), "{field}");
    }
    assert_eq!(d["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        d["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", DEVICE_GRANT_TYPE])
    );
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(d["subject_types_supported"], serde_json::json!(["public"]));
    let methods = d["token_endpoint_auth_methods_supported"].to_string();
    assert!(methods.contains("client_secret_basic") && methods.contains("client_secret_post"));
    assert!(d["scopes_supported"].to_string().contains("openid"));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);

    let base = t.sandbox.url_of("auth0");
    let d = t.discovery("auth0").await;
    assert_eq!(
        d["issuer"],
        format!("{base}/"),
        "Auth0's issuer ends with /"
    );
    assert_eq!(t.sandbox.auth0().issuer(), format!("{base}/"));
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("userinfo_endpoint", "/userinfo"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("end_session_endpoint", "/oidc/logout"),
        ("device_authorization_endpoint", "/oauth/device/code"),
    ] {
        assert_eq!(d[field], format!("{base}{path}"), "{field}");
    }
    assert!(d
        .get("authorization_response_iss_parameter_supported")
        .is_none());
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    // The stub's greeting still answers at the mount point.
    let hello = t
        .http
        .get(&base)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(hello, "auth0");
}

#[tokio::test]
async fn authorize_redirects_with_code_state_and_iss() {
    let t = T::start().await;
    let (_, challenge) = pkce();
    for redirect in [
        "http://127.0.0.1:49152/callback",
        "http://[::1]:8123/callback",
        DEFAULT_REDIRECT_URI,
    ] {
        let resp = t
            .authorize(
                "oidc",
                &[
                    ("response_type", "code"),
                    ("client_id", PUBLIC_CLIENT_ID),
                    ("redirect_uri", redirect),
                    ("scope", "openid email"),
                    ("state", "s t&1"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            )
            .await;
        let (location, q) = redirect_params(&resp);
        assert!(location.starts_with(&format!("{redirect}?")), "{location}");
        assert!(!q["code"].is_empty());
        assert_eq!(q["state"], "s t&1");
        assert_eq!(q["iss"], t.sandbox.oidc().issuer(), "RFC 9207");
    }
    // Auth0 does not send iss.
    let resp = t
        .authorize(
            "auth0",
            &[
                ("response_type", "code"),
                ("client_id", AUTH0_CLIENT_ID),
                ("redirect_uri", DEFAULT_REDIRECT_URI),
                ("state", "x"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    let (_, q) = redirect_params(&resp);
    assert!(q.contains_key("code"));
    assert!(!q.contains_key("iss"));
}

#[tokio::test]
async fn deny_next_sends_access_denied_once() {
    let t = T::start().await;
    let (_, challenge) = pkce();
    let params = [
        ("response_type", "code"),
        ("client_id", PUBLIC_CLIENT_ID),
        ("redirect_uri", DEFAULT_REDIRECT_URI),
        ("state", "abc"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    t.sandbox.oidc().deny_next();
    let (_, q) = redirect_params(&t.authorize("oidc", &params).await);
    assert_eq!(q["error"], "access_denied");
    assert!(!q["error_description"].is_empty());
    assert_eq!(q["state"], "abc");
    assert_eq!(q["iss"], t.sandbox.oidc().issuer());
    assert!(!q.contains_key("code"));
    let (_, q) = redirect_params(&t.authorize("oidc", &params).await);
    assert!(q.contains_key("code"), "only the next one is denied");
}

#[tokio::test]
async fn bad_client_or_redirect_shows_a_page_and_never_redirects() {
    let t = T::start().await;
    let (_, challenge) = pkce();
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "oidc",
            "no-such-client",
            DEFAULT_REDIRECT_URI,
            "no-such-client",
        ),
        (
            "oidc",
            PUBLIC_CLIENT_ID,
            "https://evil.example/callback",
            "not registered",
        ),
        (
            "oidc",
            PUBLIC_CLIENT_ID,
            "http://127.0.0.1:5000/other",
            "not registered",
        ),
        // Auth0 wants exact registered URIs: no loopback wildcard.
        (
            "auth0",
            PUBLIC_CLIENT_ID,
            "http://127.0.0.1:5000/callback",
            "not registered",
        ),
    ];
    for (provider, client, redirect, says) in cases {
        let resp = t
            .authorize(
                provider,
                &[
                    ("response_type", "code"),
                    ("client_id", client),
                    ("redirect_uri", redirect),
                    ("state", "s"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            )
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::BAD_REQUEST,
            "{provider} {redirect}"
        );
        assert!(resp.headers().get("location").is_none());
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let body = resp.text().await.unwrap();
        assert!(body.contains(says), "{body}");
    }
    // Once registered, Auth0 takes it.
    t.sandbox
        .auth0()
        .register_redirect_uri("http://127.0.0.1:5000/callback");
    let resp = t
        .authorize(
            "auth0",
            &[
                ("response_type", "code"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("redirect_uri", "http://127.0.0.1:5000/callback"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    let (location, _) = redirect_params(&resp);
    assert!(location.starts_with("http://127.0.0.1:5000/callback?code="));
}

#[tokio::test]
async fn pkce_s256_and_response_type_code_are_required() {
    let t = T::start().await;
    let base = [
        ("response_type", "code"),
        ("client_id", PUBLIC_CLIENT_ID),
        ("redirect_uri", DEFAULT_REDIRECT_URI),
        ("state", "s"),
    ];
    let (_, challenge) = pkce();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "invalid_request"),
        (
            vec![("code_challenge", challenge.as_str())],
            "invalid_request",
        ),
        (
            vec![
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
    ];
    for (extra, error) in cases {
        let mut params = base.to_vec();
        params.extend(extra);
        let (_, q) = redirect_params(&t.authorize("oidc", &params).await);
        assert_eq!(q["error"], error);
        assert!(q["error_description"].contains("PKCE"), "{q:?}");
        assert_eq!(q["state"], "s");
        assert!(q.contains_key("iss"));
    }
    let (_, q) = redirect_params(
        &t.authorize(
            "auth0",
            &[
                ("response_type", "token"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("redirect_uri", DEFAULT_REDIRECT_URI),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await,
    );
    assert_eq!(q["error"], "unsupported_response_type");
}

#[tokio::test]
async fn code_exchange_checks_the_pkce_verifier() {
    let t = T::start().await;
    // Right verifier.
    let (code, verifier) = t.code("oidc", "openid", &[]).await;
    let (status, body) = t.exchange("oidc", &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid");
    assert!(
        body["refresh_token"].is_string(),
        "generic: always a refresh token"
    );

    // Wrong verifier.
    let (code, _) = t.code("oidc", "openid", &[]).await;
    let (other, _) = pkce();
    let (status, body) = t.exchange("oidc", &code, &other).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");

    // Missing verifier.
    let (code, verifier) = t.code("oidc", "openid", &[]).await;
    let (status, body) = t
        .token(
            "oidc",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("code", &code),
                ("redirect_uri", DEFAULT_REDIRECT_URI),
            ],
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");

    // Mismatched redirect_uri.
    let (status, body) = t
        .token(
            "oidc",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:1/callback"),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");

    // Unknown grant type.
    let (status, body) = t
        .token(
            "oidc",
            &[("grant_type", "password"), ("client_id", PUBLIC_CLIENT_ID)],
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    );
}

#[tokio::test]
async fn confidential_client_authenticates_by_basic_or_post() {
    let t = T::start().await;
    let url = t.endpoint("oidc", "token_endpoint").await;
    // client_secret_basic
    let (code, verifier) = t
        .code_as("oidc", CONFIDENTIAL_CLIENT_ID, "openid", &[])
        .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", DEFAULT_REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, body, _) = t
        .post(
            &url,
            &form,
            Some((CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        verify(
            body["access_token"].as_str().unwrap(),
            &t.jwks("oidc").await,
            t.sandbox.oidc().issuer()
        )["client_id"],
        CONFIDENTIAL_CLIENT_ID
    );

    // client_secret_post
    let (code, verifier) = t
        .code_as("oidc", CONFIDENTIAL_CLIENT_ID, "openid", &[])
        .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", DEFAULT_REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
        ("client_id", CONFIDENTIAL_CLIENT_ID),
        ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
    ];
    let (status, body, _) = t.post(&url, &form, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Wrong secret, either way; and no secret at all.
    let (code, verifier) = t
        .code_as("oidc", CONFIDENTIAL_CLIENT_ID, "openid", &[])
        .await;
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", DEFAULT_REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, body, headers) = t
        .post(&url, &base, Some((CONFIDENTIAL_CLIENT_ID, "wrong")))
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let mut post = base.to_vec();
    post.extend([
        ("client_id", CONFIDENTIAL_CLIENT_ID),
        ("client_secret", "wrong"),
    ]);
    let (status, body, _) = t.post(&url, &post, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let mut none = base.to_vec();
    none.push(("client_id", CONFIDENTIAL_CLIENT_ID));
    let (status, body, _) = t.post(&url, &none, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    // Unknown client.
    let mut unknown = base.to_vec();
    unknown.push(("client_id", "nobody"));
    let (status, body, _) = t.post(&url, &unknown, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    // The code survived the failed authentications.
    let (status, body, _) = t
        .post(
            &url,
            &base,
            Some((CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_reused_code_revokes_what_it_gave() {
    let t = T::start().await;
    let (code, verifier) = t.code("oidc", "openid", &[]).await;
    let (status, first) = t.exchange("oidc", &code, &verifier).await;
    assert_eq!(status, StatusCode::OK);
    let access = first["access_token"].as_str().unwrap();
    assert!(t.sandbox.oidc().is_active(access));
    let (status, body) = t.exchange("oidc", &code, &verifier).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(!t.sandbox.oidc().is_active(access));
    let (status, body) = t
        .refresh("oidc", first["refresh_token"].as_str().unwrap())
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(
        t.userinfo("oidc", Some(access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn codes_expire_after_a_minute_by_the_clock() {
    let t = T::start().await;
    let (code, verifier) = t.code("oidc", "openid", &[]).await;
    t.clock.advance(Duration::seconds(59));
    let (status, _) = t.exchange("oidc", &code, &verifier).await;
    assert_eq!(status, StatusCode::OK);

    let (code, verifier) = t.code("oidc", "openid", &[]).await;
    t.clock.advance(Duration::seconds(61));
    let (status, body) = t.exchange("oidc", &code, &verifier).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn id_and_access_tokens_verify_with_the_jwks() {
    let t = T::start().await;
    let body = t
        .login("oidc", "openid email profile", &[("nonce", "n-0S6_WzA2Mj")])
        .await;
    let jwks = t.jwks("oidc").await;
    let issuer = t.sandbox.oidc().issuer();
    let id = verify(body["id_token"].as_str().unwrap(), &jwks, issuer);
    let now = START.unix_timestamp();
    assert_eq!(id["iss"], issuer);
    assert_eq!(id["sub"], USER_SUB);
    assert_eq!(id["aud"], PUBLIC_CLIENT_ID);
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["email"], USER_EMAIL);
    assert_eq!(id["name"], USER_NAME);
    assert_eq!(id["iat"], now);
    assert_eq!(id["auth_time"], now);
    assert!(id["exp"].as_i64().unwrap() > now);

    let access = verify(body["access_token"].as_str().unwrap(), &jwks, issuer);
    assert_eq!(access["sub"], USER_SUB);
    assert_eq!(access["client_id"], PUBLIC_CLIENT_ID);
    assert_eq!(access["scope"], "openid email profile");
    assert_eq!(access["exp"], now + 3600);
    let header = jsonwebtoken::decode_header(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068");

    // Without openid: no ID token, and no nonce anywhere.
    let body = t.login("oidc", "email", &[]).await;
    assert!(body.get("id_token").is_none());
    // Auth0's ID token carries its slash-terminated issuer.
    let body = t.login("auth0", "openid", &[("nonce", "abc")]).await;
    let id = verify(
        body["id_token"].as_str().unwrap(),
        &t.jwks("auth0").await,
        t.sandbox.auth0().issuer(),
    );
    assert_eq!(id["nonce"], "abc");
    assert!(id["iss"].as_str().unwrap().ends_with("/auth0/"));
}

#[tokio::test]
async fn refresh_rotates_and_detects_reuse() {
    let t = T::start().await;
    let op = t.sandbox.oidc();
    let first = t.login("oidc", "openid", &[("nonce", "n1")]).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    t.clock.advance(Duration::minutes(30));
    let (status, second) = t.refresh("oidc", r1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "a new refresh token on every use");
    assert_ne!(first["access_token"], second["access_token"]);
    let id = claims_unverified(second["id_token"].as_str().unwrap());
    assert_eq!(
        id["auth_time"],
        START.unix_timestamp(),
        "the original login"
    );
    assert!(id.get("nonce").is_none());
    let (status, third) = t.refresh("oidc", r2).await;
    assert_eq!(status, StatusCode::OK);
    let a3 = third["access_token"].as_str().unwrap();
    let r3 = third["refresh_token"].as_str().unwrap();
    assert!(op.is_active(a3));
    assert_eq!(op.refreshes(), 2);

    // r1 again: reuse. The whole family dies, r3 and a3 included.
    let (status, body) = t.refresh("oidc", r1).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(!op.is_active(a3));
    let (status, body) = t.refresh("oidc", r3).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(op.refreshes(), 4);

    // Unknown refresh token; a narrower scope is fine, a wider one is not.
    let (status, body) = t.refresh("oidc", "nope").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    let fresh = t.login("oidc", "openid email", &[]).await;
    let (status, body) = t
        .token(
            "oidc",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("refresh_token", fresh["refresh_token"].as_str().unwrap()),
                ("scope", "openid profile"),
            ],
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_scope");

    // revoke_all_refresh_tokens
    let other = t.login("oidc", "openid", &[]).await;
    op.revoke_all_refresh_tokens();
    let (status, body) = t
        .refresh("oidc", other["refresh_token"].as_str().unwrap())
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(op.is_active(other["access_token"].as_str().unwrap()));
}

#[tokio::test]
async fn access_ttl_and_expiry_follow_the_clock() {
    let t = T::start().await;
    let op = t.sandbox.oidc();
    op.set_access_ttl(Duration::minutes(5));
    let body = t.login("oidc", "openid", &[]).await;
    assert_eq!(body["expires_in"], 300);
    let access = body["access_token"].as_str().unwrap();
    assert!(op.is_active(access));
    t.clock.advance(Duration::minutes(5));
    assert!(!op.is_active(access));
    let resp = t.userinfo("oidc", Some(access)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn auth0_gives_refresh_tokens_only_with_offline_access_and_honours_audience() {
    let t = T::start().await;
    let body = t
        .login(
            "auth0",
            "openid profile",
            &[("audience", "https://api.example")],
        )
        .await;
    assert!(body.get("refresh_token").is_none());
    let access = claims_unverified(body["access_token"].as_str().unwrap());
    let userinfo = format!("{}userinfo", t.sandbox.auth0().issuer());
    assert_eq!(
        access["aud"],
        serde_json::json!(["https://api.example", userinfo])
    );

    let body = t
        .login(
            "auth0",
            "openid offline_access",
            &[("audience", "https://api.example")],
        )
        .await;
    let refresh = body["refresh_token"].as_str().unwrap();
    let (status, again) = t.refresh("auth0", refresh).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert!(again["refresh_token"].is_string());
    let access = claims_unverified(again["access_token"].as_str().unwrap());
    assert_eq!(
        access["aud"][0], "https://api.example",
        "kept across refresh"
    );

    // An API-only token (no openid) has just the audience.
    let body = t
        .login(
            "auth0",
            "read:things",
            &[("audience", "https://api.example")],
        )
        .await;
    let access = claims_unverified(body["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], "https://api.example");
    assert!(body.get("id_token").is_none());

    // The client --seed configures is known.
    let (_, challenge) = pkce();
    let resp = t
        .authorize(
            "auth0",
            &[
                ("response_type", "code"),
                ("client_id", AUTH0_CLIENT_ID),
                ("redirect_uri", DEFAULT_REDIRECT_URI),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn rotate_key_changes_the_kid_and_the_jwks() {
    let t = T::start().await;
    let op = t.sandbox.oidc();
    let before = t.jwks("oidc").await;
    let old_token = t.login("oidc", "openid", &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_string();
    let old_kid = jsonwebtoken::decode_header(&old_token)
        .unwrap()
        .kid
        .unwrap();
    assert_eq!(old_kid, op.signing_kid());
    assert_eq!(before["keys"].as_array().unwrap().len(), 1);
    assert_eq!(before["keys"][0]["kid"], old_kid.as_str());

    op.rotate_key();
    let new_token = t.login("oidc", "openid", &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_string();
    let new_kid = jsonwebtoken::decode_header(&new_token)
        .unwrap()
        .kid
        .unwrap();
    assert_ne!(new_kid, old_kid);
    assert!(
        !before.to_string().contains(&new_kid),
        "a cached JWKS misses it"
    );
    let after = t.jwks("oidc").await;
    assert_eq!(after["keys"].as_array().unwrap().len(), 1);
    assert!(!after.to_string().contains(&old_kid), "the old key is gone");
    verify(&new_token, &after, op.issuer());
    // The logout hint signed with the old key is still recognised.
    let resp = t
        .http
        .get(t.endpoint("oidc", "end_session_endpoint").await)
        .query(&[("id_token_hint", old_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The Auth0 tenant has its own switch.
    assert_ne!(t.sandbox.auth0().signing_kid(), op.signing_kid());
}

#[tokio::test]
async fn userinfo_needs_a_live_bearer_token() {
    let t = T::start().await;
    let body = t.login("oidc", "openid", &[]).await;
    let resp = t
        .userinfo("oidc", Some(body["access_token"].as_str().unwrap()))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let info: Value = resp.json().await.unwrap();
    assert_eq!(info["sub"], USER_SUB);
    assert_eq!(info["email"], USER_EMAIL);
    assert_eq!(info["name"], USER_NAME);

    let resp = t.userinfo("oidc", Some("garbage")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer") && challenge.contains("invalid_token"));

    let resp = t.userinfo("oidc", None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer") && !challenge.contains("error="));

    // Auth0's userinfo works the same at its path.
    let body = t.login("auth0", "openid", &[]).await;
    let resp = t
        .userinfo("auth0", Some(body["access_token"].as_str().unwrap()))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoke_follows_rfc_7009() {
    let t = T::start().await;
    let op = t.sandbox.oidc();
    let url = t.endpoint("oidc", "revocation_endpoint").await;
    let body = t.login("oidc", "openid", &[]).await;
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();

    // An access token: only it goes.
    let (status, _, _) = t
        .post(
            &url,
            &[("token", access), ("client_id", PUBLIC_CLIENT_ID)],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!op.is_active(access));
    let (status, again) = t.refresh("oidc", refresh).await;
    assert_eq!(status, StatusCode::OK);

    // A refresh token: its family goes, access tokens included.
    let access2 = again["access_token"].as_str().unwrap();
    let refresh2 = again["refresh_token"].as_str().unwrap();
    let (status, _, _) = t
        .post(
            &url,
            &[
                ("token", refresh2),
                ("token_type_hint", "refresh_token"),
                ("client_id", PUBLIC_CLIENT_ID),
            ],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!op.is_active(access2));
    let (status, body) = t.refresh("oidc", refresh2).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");

    // Unknown tokens are fine; a bad client is not.
    let (status, _, _) = t
        .post(
            &url,
            &[("token", "unknown"), ("client_id", PUBLIC_CLIENT_ID)],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = t
        .post(&url, &[("token", "unknown"), ("client_id", "nobody")], None)
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(op.revocations(), 3);

    // Auth0's path, confidential client by Basic.
    let url = t.endpoint("auth0", "revocation_endpoint").await;
    assert!(url.ends_with("/auth0/oauth/revoke"));
    let (status, _, _) = t
        .post(
            &url,
            &[("token", "whatever")],
            Some((CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t.sandbox.auth0().revocations(), 1);
}

#[tokio::test]
async fn logout_redirects_with_state_or_shows_a_page() {
    let t = T::start().await;
    let op = t.sandbox.oidc();
    let url = t.endpoint("oidc", "end_session_endpoint").await;
    let body = t.login("oidc", "openid", &[]).await;
    let hint = body["id_token"].as_str().unwrap();

    let resp = t
        .http
        .get(&url)
        .query(&[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "http://127.0.0.1:7777/callback"),
            ("state", "bye"),
        ])
        .send()
        .await
        .unwrap();
    let (location, q) = redirect_params(&resp);
    assert!(location.starts_with("http://127.0.0.1:7777/callback?"));
    assert_eq!(q["state"], "bye");
    assert_eq!(op.logouts(), 1);

    let resp = t.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("signed out"));
    assert_eq!(op.logouts(), 2);

    // An unregistered target or a forged hint is refused, and not counted.
    let resp = t
        .http
        .get(&url)
        .query(&[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    let access = body["access_token"].as_str().unwrap();
    for forged in ["a.b.c", access] {
        let resp = t
            .http
            .get(&url)
            .query(&[("id_token_hint", forged)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    }
    let resp = t
        .http
        .get(&url)
        .query(&[("id_token_hint", "a.b.c")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(op.logouts(), 2);

    // Auth0 at /oidc/logout, with client_id instead of a hint.
    let url = t.endpoint("auth0", "end_session_endpoint").await;
    assert!(url.ends_with("/auth0/oidc/logout"));
    let resp = t
        .http
        .get(&url)
        .query(&[
            ("client_id", AUTH0_CLIENT_ID),
            ("post_logout_redirect_uri", DEFAULT_REDIRECT_URI),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    let (location, _) = redirect_params(&resp);
    assert_eq!(location, "latchkey://callback?state=s");
    assert_eq!(t.sandbox.auth0().logouts(), 1);
}

async fn start_device(t: &T, provider: &str, scope: &str) -> Value {
    let url = t.endpoint(provider, "device_authorization_endpoint").await;
    let (status, body, _) = t
        .post(
            &url,
            &[("client_id", PUBLIC_CLIENT_ID), ("scope", scope)],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn poll(t: &T, provider: &str, device_code: &str) -> (StatusCode, Value) {
    t.token(
        provider,
        &[
            ("grant_type", DEVICE_GRANT_TYPE),
            ("client_id", PUBLIC_CLIENT_ID),
            ("device_code", device_code),
        ],
    )
    .await
}

#[tokio::test]
async fn device_flow_pending_slow_down_then_approved() {
    let t = T::start().await;
    let d = start_device(&t, "oidc", "openid").await;
    let user_code = d["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(user_code
        .chars()
        .all(|c| c == '-' || c.is_ascii_uppercase()));
    let verification = d["verification_uri"].as_str().unwrap();
    assert_eq!(
        verification,
        format!("{}/device/verify", t.sandbox.url_of("oidc"))
    );
    assert!(d["verification_uri_complete"]
        .as_str()
        .unwrap()
        .contains(&format!("user_code={user_code}")));
    assert_eq!(d["expires_in"], 600);
    assert_eq!(d["interval"], 5);
    assert_eq!(
        t.sandbox.oidc().last_user_code().as_deref(),
        Some(user_code)
    );
    let device_code = d["device_code"].as_str().unwrap();

    let (status, body) = poll(&t, "oidc", device_code).await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "authorization_pending",
    );
    t.clock.advance(Duration::seconds(2));
    let (status, body) = poll(&t, "oidc", device_code).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "slow_down");
    // Each slow_down adds 5 s: the interval is 10 s, then 15 s.
    t.clock.advance(Duration::seconds(5));
    let (status, body) = poll(&t, "oidc", device_code).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "slow_down");
    t.clock.advance(Duration::seconds(15));
    let (status, body) = poll(&t, "oidc", device_code).await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "authorization_pending",
    );

    // The fake browser opens the verification page.
    let page = t.http.get(verification).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    t.clock.advance(Duration::seconds(20));
    let (status, body) = poll(&t, "oidc", device_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["id_token"].is_string());
    assert!(body["refresh_token"].is_string());
    assert!(t
        .sandbox
        .oidc()
        .is_active(body["access_token"].as_str().unwrap()));
    // Used up.
    let (status, body) = poll(&t, "oidc", device_code).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");

    // Auth0: /activate, and approve_device by code; set_device_interval.
    t.sandbox.auth0().set_device_interval(Duration::seconds(1));
    let d = start_device(&t, "auth0", "openid").await;
    assert_eq!(d["interval"], 1);
    assert!(d["verification_uri"]
        .as_str()
        .unwrap()
        .ends_with("/auth0/activate"));
    assert!(t
        .sandbox
        .auth0()
        .approve_device(&d["user_code"].as_str().unwrap().to_lowercase()));
    let (status, body) = poll(&t, "auth0", d["device_code"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none(), "no offline_access");
}

#[tokio::test]
async fn device_flow_denied_and_expired() {
    let t = T::start().await;
    let op = t.sandbox.oidc();
    let d = start_device(&t, "oidc", "openid").await;
    assert!(op.deny_device(d["user_code"].as_str().unwrap()));
    let (status, body) = poll(&t, "oidc", d["device_code"].as_str().unwrap()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "access_denied");

    // Denied on the verification page by deny_next.
    let d = start_device(&t, "oidc", "openid").await;
    op.deny_next();
    let page = t
        .http
        .get(d["verification_uri_complete"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let (status, body) = poll(&t, "oidc", d["device_code"].as_str().unwrap()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "access_denied");

    let d = start_device(&t, "oidc", "openid").await;
    t.clock.advance(Duration::seconds(601));
    let (status, body) = poll(&t, "oidc", d["device_code"].as_str().unwrap()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "expired_token");
    assert!(!op.approve_device(d["user_code"].as_str().unwrap()));
    // Nothing pending: the page says so.
    let page = t
        .http
        .get(format!("{}/device/verify", t.sandbox.url_of("oidc")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_down_provider_answers_503_everywhere() {
    let t = T::start().await;
    let body = t.login("oidc", "openid", &[]).await;
    let access = body["access_token"].as_str().unwrap().to_string();
    let d = t.discovery("oidc").await;
    let op = t.provider("oidc");
    op.set_down(true);
    let base = t.sandbox.url_of("oidc");
    let discovery = format!("{base}/.well-known/openid-configuration");
    for url in [
        discovery.as_str(),
        d["jwks_uri"].as_str().unwrap(),
        d["authorization_endpoint"].as_str().unwrap(),
        d["end_session_endpoint"].as_str().unwrap(),
    ] {
        let resp = t.http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{url}");
    }
    let resp = t
        .http
        .get(d["userinfo_endpoint"].as_str().unwrap())
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    for field in [
        "token_endpoint",
        "revocation_endpoint",
        "device_authorization_endpoint",
    ] {
        let (status, body, _) = t
            .post(
                d[field].as_str().unwrap(),
                &[("client_id", PUBLIC_CLIENT_ID)],
                None,
            )
            .await;
        assert_error(
            status,
            &body,
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
        );
    }
    // The other tenant is unaffected; and back up, all is well.
    assert_eq!(
        t.http
            .get(format!(
                "{}/.well-known/openid-configuration",
                t.sandbox.url_of("auth0")
            ))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    op.set_down(false);
    assert_eq!(
        t.userinfo("oidc", Some(&access)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded() {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded inside Basic; the
    // sandbox's values need no escaping, so the raw header must match too.
    let t = T::start().await;
    let url = t.endpoint("oidc", "revocation_endpoint").await;
    let header = format!(
        "Basic {}",
        STANDARD.encode(format!(
            "{CONFIDENTIAL_CLIENT_ID}:{CONFIDENTIAL_CLIENT_SECRET}"
        ))
    );
    let resp = t
        .http
        .post(&url)
        .header("authorization", header)
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Basic and client_secret together is two methods: refused.
    let (status, body, _) = t
        .post(
            &url,
            &[
                ("token", "x"),
                ("client_secret", CONFIDENTIAL_CLIENT_SECRET),
            ],
            Some((CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET)),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
}
