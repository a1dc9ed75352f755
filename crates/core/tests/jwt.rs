//! The `jwt` module against the published vectors (protocols §1.3, §1.6) and real
//! signatures: test keys made with `openssl genpkey` (tests/fixtures/jwt), tokens
//! signed by jsonwebtoken's encoder, JWKS documents built from the public keys and
//! served over HTTP by a throwaway server on 127.0.0.1.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use latchkey_core::jwt::{self, Inspection, JwtError, TimeClaim, Verified, VerifyKey};
use latchkey_core::vault::Secret;
use latchkey_core::{Error, ErrorCode};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const KONTINUOUS_SECRET: &str = "a29udGludW91cy10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5";
const GITHUB_TOKEN: &str = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
/// protocols §1.3: `CreateJWT` for GITHUB_TOKEN and user `github|583231`.
const KONTINUOUS_VECTOR: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZGVudGl0aWVzIjpbeyJhY2Nlc3NfdG9rZW4iOiJnaG9fMTZDN2U0MkYyOTJjNjkxMkU3NzEwYzgzODM0N0FlMTc4QjRhIn1dLCJ1c2VyX2lkIjoiZ2l0aHVifDU4MzIzMSJ9.nOzX3-f-7o5Fpn76VPjOH7EVvGqiT1PTUS8eSys-qNc";
/// protocols §1.6: what `scripts/jwt-gen` printed for the same secret and token.
const JWT_GEN_VECTOR: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZGVudGl0aWVzIjpbeyJhY2Nlc3NfdG9rZW4iOiAiZ2hvXzE2QzdlNDJGMjkyYzY5MTJFNzcxMGM4MzgzNDdBZTE3OEI0YSJ9XX0=.Yh0CLtuaHP90yx8WlyCFlnI5njItPFVo8erIwqgcXJs=";

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A private key (PEM file) for `alg`, with its public PEM.
fn key_pair(alg: Algorithm) -> (EncodingKey, String) {
    let (private, public) = match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => ("rsa-private.pem", "rsa-public.pem"),
        Algorithm::ES256 => ("ec-p256-private.pem", "ec-p256-public.pem"),
        Algorithm::ES384 => ("ec-p384-private.pem", "ec-p384-public.pem"),
        Algorithm::EdDSA => ("ed25519-private.pem", "ed25519-public.pem"),
        other => panic!("no key pair for {other:?}"),
    };
    let pem = fixture(private);
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .unwrap();
    (key, fixture(public))
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// The public JWK of a private key, as a JWKS server would publish it.
fn public_jwk(key: &EncodingKey, alg: Algorithm, kid: Option<&str>) -> Value {
    let mut jwk = Jwk::from_encoding_key(key, alg).unwrap();
    jwk.common.key_id = kid.map(str::to_string);
    serde_json::to_value(jwk).unwrap()
}

fn claims() -> Value {
    json!({"sub": "alice", "iat": NOW.unix_timestamp(), "exp": NOW.unix_timestamp() + 3600})
}

fn error_code(err: JwtError) -> ErrorCode {
    Error::from(err).code()
}

// ---- Kontinuous vectors ----

#[test]
fn kontinuous_mint_matches_the_published_create_jwt_vector_byte_for_byte() {
    let token =
        jwt::mint_kontinuous(KONTINUOUS_SECRET, GITHUB_TOKEN, Some("github|583231")).unwrap();
    assert_eq!(token, KONTINUOUS_VECTOR);
}

#[test]
fn kontinuous_mint_without_user_id_leaves_the_claim_out_and_verifies() {
    let token = jwt::mint_kontinuous(KONTINUOUS_SECRET, GITHUB_TOKEN, None).unwrap();
    let decoded = jwt::decode(&token).unwrap();
    assert_eq!(
        decoded.claims,
        json!({"identities": [{"access_token": GITHUB_TOKEN}]})
    );
    assert!(decoded.compliant);
    let key = VerifyKey::secret_base64url(KONTINUOUS_SECRET).unwrap();
    assert_eq!(
        jwt::verify(&token, &key).unwrap().to_string(),
        "verified with HS256"
    );
}

#[test]
fn kontinuous_mint_refuses_a_standard_base64_secret_and_an_empty_token() {
    let err = jwt::mint_kontinuous("abc+def/ghij", GITHUB_TOKEN, None).unwrap_err();
    assert!(err.to_string().contains("'+' or '/'"), "{err}");
    assert_eq!(error_code(err), ErrorCode::Invalid);
    let err = jwt::mint_kontinuous(KONTINUOUS_SECRET, "", None).unwrap_err();
    assert!(err.to_string().contains("GitHub token is empty"), "{err}");
}

#[test]
fn kontinuous_vector_decodes_as_a_compliant_token_that_never_expires() {
    let decoded = jwt::decode(KONTINUOUS_VECTOR).unwrap();
    assert_eq!(decoded.header, json!({"alg": "HS256", "typ": "JWT"}));
    assert_eq!(decoded.alg, "HS256");
    assert_eq!(decoded.typ.as_deref(), Some("JWT"));
    assert_eq!(decoded.kid, None);
    assert_eq!(decoded.exp, None);
    assert!(decoded.compliant);
    assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
    assert_eq!(decoded.claims["user_id"], "github|583231");

    let Inspection::Jwt {
        warnings, times, ..
    } = jwt::inspect(KONTINUOUS_VECTOR, NOW)
    else {
        panic!("not inspected as a JWT");
    };
    assert!(times.is_empty());
    assert_eq!(
        warnings,
        ["never expires: anyone holding it can use it until the key is rotated"]
    );
}

#[test]
fn jwt_gen_token_decodes_as_non_compliant_and_verifies_with_its_secret() {
    let decoded = jwt::decode(JWT_GEN_VECTOR).unwrap();
    assert!(!decoded.compliant);
    assert_eq!(
        decoded.claims,
        json!({"identities": [{"access_token": GITHUB_TOKEN}]})
    );
    assert!(
        decoded
            .warnings
            .iter()
            .any(|w| w.starts_with("non-compliant encoding: the claims and signature end in '='")),
        "{:?}",
        decoded.warnings
    );

    let key = VerifyKey::secret_base64url(KONTINUOUS_SECRET).unwrap();
    let verified = jwt::verify(JWT_GEN_VECTOR, &key).unwrap();
    assert_eq!(
        verified,
        Verified {
            alg: "HS256".into(),
            kid: None,
            compliant: false
        }
    );

    let Inspection::Jwt {
        compliant,
        warnings,
        ..
    } = jwt::inspect(JWT_GEN_VECTOR, NOW)
    else {
        panic!("not inspected as a JWT");
    };
    assert!(!compliant);
    assert!(
        warnings.iter().any(|w| w.contains("jwt-gen")),
        "{warnings:?}"
    );
}

#[test]
fn standard_alphabet_segments_are_decoded_and_flagged() {
    // The same claims re-encoded the way `openssl base64` does, with '/' in them.
    let claims = br#"{"sub":"???>>>"}"#;
    let std_claims = base64_std(claims);
    assert!(
        std_claims.contains('/') || std_claims.contains('+'),
        "{std_claims}"
    );
    let token = format!("eyJhbGciOiJub25lIn0.{std_claims}.");
    let decoded = jwt::decode(&token).unwrap();
    assert_eq!(decoded.claims["sub"], "???>>>");
    assert!(!decoded.compliant);
    assert!(decoded
        .warnings
        .iter()
        .any(|w| w.contains("the claims use standard base64")));
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---- decoding garbage ----

#[test]
fn garbage_is_refused_with_a_message_that_says_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        ("", "no token given"),
        ("   \n", "no token given"),
        ("not-a-token", "three parts separated by dots"),
        ("abc.def", "this has 2"),
        ("a.b.c.d.e", "encrypted JWT (JWE"),
        (
            "eyJhbGciOiJIUzI1NiJ9.!!!.sig",
            "the token's claims part is not base64url",
        ),
        (
            "eyJhbGciOiJIUzI1NiJ9.e30.sig=x",
            "the token's signature part is not base64url",
        ),
        (
            "bm90IGpzb24.e30.c2ln",
            "the token's header part is not JSON",
        ),
        (
            "WzFd.e30.c2ln",
            "the token's header part is JSON but not an object",
        ),
        ("e30.e30.c2ln", "the header has no \"alg\""),
        ("eyJhbGciOjV9.e30.c2ln", "the header has no \"alg\""),
        (
            "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
            "the token's claims part is not JSON",
        ),
    ];
    for (token, expected) in cases {
        let err = jwt::decode(token).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(expected), "{token:?}: {message}");
        assert_eq!(error_code(err), ErrorCode::Invalid);
    }
}

#[test]
fn decode_errors_never_contain_the_token() {
    let token = format!(
        "{}.tampered!{}",
        &KONTINUOUS_VECTOR[..36],
        &KONTINUOUS_VECTOR[40..]
    );
    let message = jwt::decode(&token).unwrap_err().to_string();
    assert!(!message.contains("eyJ"), "{message}");
    assert!(!message.contains("tampered"), "{message}");
}

#[test]
fn bearer_prefix_and_surrounding_whitespace_are_ignored() {
    let pasted = format!("  Bearer {KONTINUOUS_VECTOR}\n");
    assert_eq!(
        jwt::decode(&pasted).unwrap().claims["user_id"],
        "github|583231"
    );
    let key = VerifyKey::secret_base64url(KONTINUOUS_SECRET).unwrap();
    jwt::verify(&pasted, &key).unwrap();
}

// ---- masking and inspection ----

#[test]
fn inspecting_the_kontinuous_vector_masks_the_github_token_inside() {
    let inspection = jwt::inspect(KONTINUOUS_VECTOR, NOW);
    let Inspection::Jwt {
        claims,
        masked,
        alg,
        ..
    } = &inspection
    else {
        panic!("not inspected as a JWT");
    };
    assert_eq!(alg, "HS256");
    assert_eq!(masked, &["identities[0].access_token"]);
    assert_eq!(claims["identities"][0]["access_token"], "••••••••8B4a");
    assert_eq!(claims["user_id"], "github|583231");
    let serialized = serde_json::to_string(&inspection).unwrap();
    assert!(!serialized.contains(GITHUB_TOKEN), "{serialized}");
    assert!(!serialized.contains(KONTINUOUS_VECTOR), "{serialized}");
    assert!(serialized.starts_with(r#"{"kind":"jwt","#), "{serialized}");
}

#[test]
fn mask_credentials_reports_the_paths_it_masked() {
    let mut claims = jwt::decode(KONTINUOUS_VECTOR).unwrap().claims;
    let masked = jwt::mask_credentials(&mut claims);
    assert_eq!(masked, ["identities[0].access_token"]);
    assert_eq!(
        claims,
        json!({"identities": [{"access_token": "••••••••8B4a"}], "user_id": "github|583231"})
    );
}

#[test]
fn inspecting_an_expired_token_warns_how_long_ago_it_expired() {
    let key = EncodingKey::from_secret(b"s");
    let exp = NOW.unix_timestamp() - 3 * 3600;
    let iat = exp - 3600;
    let token = sign(
        Algorithm::HS256,
        &key,
        None,
        &json!({"iat": iat, "exp": exp}),
    );
    let Inspection::Jwt {
        warnings, times, ..
    } = jwt::inspect(&token, NOW)
    else {
        panic!("not inspected as a JWT");
    };
    assert_eq!(warnings, ["expired 3 h ago"]);
    assert_eq!(
        times,
        [
            TimeClaim {
                claim: "exp".into(),
                unix: exp,
                iso: "2026-03-01T09:00:00Z".into(),
                relative: "3 h ago".into(),
            },
            TimeClaim {
                claim: "iat".into(),
                unix: iat,
                iso: "2026-03-01T08:00:00Z".into(),
                relative: "4 h ago".into(),
            },
        ]
    );
}

#[test]
fn inspecting_a_token_not_valid_yet_and_unsigned_warns_about_both() {
    let header = base64_url(br#"{"alg":"none"}"#);
    let claims = base64_url(
        json!({"nbf": NOW.unix_timestamp() + 600, "exp": NOW.unix_timestamp() + 2 * 86_400 + 60, "auth_time": NOW.unix_timestamp() - 60})
            .to_string()
            .as_bytes(),
    );
    let token = format!("{header}.{claims}.");
    let Inspection::Jwt {
        warnings, times, ..
    } = jwt::inspect(&token, NOW)
    else {
        panic!("not inspected as a JWT");
    };
    assert_eq!(
        warnings,
        [
            "alg is \"none\": the token is not signed, so anyone can forge it",
            "not valid yet: usable in 10 min (nbf)",
        ]
    );
    let relative: Vec<(&str, &str)> = times
        .iter()
        .map(|t| (t.claim.as_str(), t.relative.as_str()))
        .collect();
    assert_eq!(
        relative,
        [
            ("exp", "in 2 d"),
            ("nbf", "in 10 min"),
            ("auth_time", "1 min ago")
        ]
    );
    let err = jwt::verify(&token, &VerifyKey::secret_text("s")).unwrap_err();
    assert!(matches!(err, JwtError::Unsigned), "{err}");
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn a_non_numeric_time_claim_is_ignored_with_a_warning() {
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"s"),
        None,
        &json!({"exp": "tomorrow", "iat": 1.7e9}),
    );
    let decoded = jwt::decode(&token).unwrap();
    assert_eq!(decoded.exp, None);
    assert_eq!(decoded.iat, Some(1_700_000_000));
    assert!(decoded.warnings[0].starts_with("\"exp\" is not a number of seconds"));
}

#[test]
fn opaque_tokens_are_described_by_prefix_or_shape() {
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        (
            GITHUB_TOKEN,
            Some("gho_"),
            Some("GitHub OAuth app user token"),
        ),
        (
            "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
            Some("ghu_"),
            Some("GitHub App user token"),
        ),
        (
            "ghr_1B4a2e77838347a7E420ce178F2E7c6912E1",
            Some("ghr_"),
            Some("GitHub refresh token"),
        ),
        (
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            Some("ghp_"),
            Some("GitHub personal access token"),
        ),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            Some("github_pat_"),
            Some("GitHub fine-grained personal access token"),
        ),
        (
            "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
            Some("ghs_"),
            Some("GitHub App installation token"),
        ),
        (
            "09715875-ac45-4ad7-bfad-00eea3949094",
            None,
            Some("opaque UUID (e.g. an Avassa token)"),
        ),
        (
            "ABCDEFGHIJ0123456789abcdefghij0123456789",
            None,
            Some("40-character opaque token (e.g. a Quay OAuth token)"),
        ),
        ("something-else", None, None),
    ];
    for (token, prefix, meaning) in cases {
        assert_eq!(
            jwt::inspect(token, NOW),
            Inspection::Opaque {
                length: token.chars().count() as u32,
                prefix: prefix.map(str::to_string),
                meaning: meaning.map(str::to_string),
            },
            "{token}"
        );
    }
}

#[test]
fn a_broken_jwt_is_opaque_with_the_reason_and_without_its_text() {
    let broken = "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln";
    let Inspection::Opaque {
        length,
        prefix,
        meaning,
    } = jwt::inspect(broken, NOW)
    else {
        panic!("inspected as a JWT");
    };
    assert_eq!(length, broken.len() as u32);
    assert_eq!(prefix, None);
    let meaning = meaning.unwrap();
    assert!(
        meaning.starts_with("not a JWT: the token's claims part is not JSON"),
        "{meaning}"
    );
    assert!(!meaning.contains("bm90"), "{meaning}");
}

#[test]
fn a_token_from_the_keyring_inspects_and_verifies_like_a_pasted_one() {
    let secret = Secret::new(KONTINUOUS_VECTOR);
    assert_eq!(
        jwt::inspect_secret(&secret, NOW),
        jwt::inspect(KONTINUOUS_VECTOR, NOW)
    );
    let key = VerifyKey::secret_base64url(KONTINUOUS_SECRET).unwrap();
    assert_eq!(jwt::verify_secret(&secret, &key).unwrap().alg, "HS256");
}

// ---- verification with secrets and PEM keys ----

#[test]
fn hmac_tokens_verify_with_their_secret_and_fail_with_another() {
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let token = sign(
            alg,
            &EncodingKey::from_secret(b"right secret"),
            None,
            &claims(),
        );
        let verified = jwt::verify(&token, &VerifyKey::secret_text("right secret")).unwrap();
        assert_eq!(verified.to_string(), format!("verified with {alg:?}"));
        let err = jwt::verify(&token, &VerifyKey::secret_text("wrong secret")).unwrap_err();
        assert!(matches!(err, JwtError::SignatureInvalid), "{alg:?}: {err}");
        assert_eq!(err.to_string(), "the signature does not match this key");
        assert_eq!(error_code(err), ErrorCode::Invalid);
    }
}

#[test]
fn public_key_tokens_verify_with_their_pem_key() {
    for alg in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let (private, public) = key_pair(alg);
        let token = sign(alg, &private, Some("k1"), &claims());
        let verified = jwt::verify(&token, &VerifyKey::Pem(public)).unwrap();
        assert_eq!(verified.alg, format!("{alg:?}"));
        assert_eq!(verified.kid, None, "a PEM key has no kid");
        assert_eq!(verified.to_string(), format!("verified with {alg:?}"));
    }
}

#[test]
fn a_tampered_token_fails_verification() {
    let (private, public) = key_pair(Algorithm::RS256);
    let token = sign(Algorithm::RS256, &private, None, &claims());
    let other_claims = base64_url(json!({"sub": "mallory"}).to_string().as_bytes());
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[1] = &other_claims;
    let tampered = parts.join(".");
    let err = jwt::verify(&tampered, &VerifyKey::Pem(public)).unwrap_err();
    assert!(matches!(err, JwtError::SignatureInvalid), "{err}");
}

#[test]
fn another_rsa_key_fails_with_signature_invalid() {
    let (private, _) = key_pair(Algorithm::RS256);
    let token = sign(Algorithm::RS256, &private, None, &claims());
    let err = jwt::verify(&token, &VerifyKey::Pem(fixture("rsa2-public.pem"))).unwrap_err();
    assert!(matches!(err, JwtError::SignatureInvalid), "{err}");
}

#[test]
fn a_key_of_the_wrong_kind_is_a_mismatch_that_says_what_is_needed() {
    let (rsa, _) = key_pair(Algorithm::RS256);
    let rs256 = sign(Algorithm::RS256, &rsa, None, &claims());
    let err = jwt::verify(&rs256, &VerifyKey::secret_text("s")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the token is signed with RS256, which needs an RSA public key (a PEM file or a JWKS); \
         the key given is a shared secret"
    );
    let err = jwt::verify(&rs256, &VerifyKey::Pem(fixture("ec-p256-public.pem"))).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the key given is an EC P-256 key"),
        "{err}"
    );

    let (p256, _) = key_pair(Algorithm::ES256);
    let es256 = sign(Algorithm::ES256, &p256, None, &claims());
    let err = jwt::verify(&es256, &VerifyKey::Pem(fixture("ec-p384-public.pem"))).unwrap_err();
    assert!(
        err.to_string().contains("needs an EC P-256 public key"),
        "{err}"
    );
    assert!(err.to_string().ends_with("an EC P-384 key"), "{err}");

    let hs256 = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"s"),
        None,
        &claims(),
    );
    let err = jwt::verify(&hs256, &VerifyKey::Pem(fixture("rsa-public.pem"))).unwrap_err();
    assert!(err.to_string().contains("needs a shared secret"), "{err}");
    assert_eq!(error_code(err), ErrorCode::Invalid);
}

#[test]
fn a_private_key_or_garbage_pem_is_refused_with_a_hint() {
    let (rsa, _) = key_pair(Algorithm::RS256);
    let token = sign(Algorithm::RS256, &rsa, None, &claims());
    let err = jwt::verify(&token, &VerifyKey::Pem(fixture("rsa-private.pem"))).unwrap_err();
    assert!(matches!(err, JwtError::PrivateKeyPem), "{err}");
    assert!(err.to_string().contains("-pubout"));
    let err = jwt::verify(&token, &VerifyKey::Pem("not a pem".into())).unwrap_err();
    assert!(matches!(err, JwtError::InvalidPem(_)), "{err}");
    let broken = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    let err = jwt::verify(&token, &VerifyKey::Pem(broken.into())).unwrap_err();
    assert!(matches!(err, JwtError::InvalidPem(_)), "{err}");
}

#[test]
fn an_unsupported_alg_is_named() {
    let token = format!(
        "{}.{}.c2ln",
        base64_url(br#"{"alg":"ES512"}"#),
        base64_url(b"{}")
    );
    let err = jwt::verify(&token, &VerifyKey::secret_text("s")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the token's alg \"ES512\" is not supported"),
        "{err}"
    );
}

// ---- verification with a JWKS ----

/// A JWKS of every kind of key, the way an identity provider publishes it.
fn jwks() -> Value {
    let (rsa, _) = key_pair(Algorithm::RS256);
    let (p256, _) = key_pair(Algorithm::ES256);
    let (ed, _) = key_pair(Algorithm::EdDSA);
    let rsa2 = EncodingKey::from_rsa_pem(fixture("rsa2-private.pem").as_bytes()).unwrap();
    json!({"keys": [
        public_jwk(&rsa2, Algorithm::RS256, Some("old")),
        public_jwk(&rsa, Algorithm::RS256, Some("rsa-1")),
        public_jwk(&p256, Algorithm::ES256, Some("ec-1")),
        public_jwk(&ed, Algorithm::EdDSA, Some("ed-1")),
    ]})
}

#[test]
fn jwks_picks_the_key_by_kid_and_reports_it() {
    let keys = VerifyKey::Jwks(jwks());
    for (alg, kid) in [
        (Algorithm::RS256, "rsa-1"),
        (Algorithm::ES256, "ec-1"),
        (Algorithm::EdDSA, "ed-1"),
    ] {
        let (private, _) = key_pair(alg);
        let token = sign(alg, &private, Some(kid), &claims());
        let verified = jwt::verify(&token, &keys).unwrap();
        assert_eq!(verified.kid.as_deref(), Some(kid));
        assert_eq!(
            verified.to_string(),
            format!("verified with {alg:?}, key kid={kid}")
        );
    }
}

#[test]
fn jwks_key_with_the_token_kid_but_another_key_fails() {
    let (rsa, _) = key_pair(Algorithm::RS256);
    // Signed with rsa-1 but naming "old": the kid picks the key, and it does not match.
    let token = sign(Algorithm::RS256, &rsa, Some("old"), &claims());
    let err = jwt::verify(&token, &VerifyKey::Jwks(jwks())).unwrap_err();
    assert!(matches!(err, JwtError::SignatureInvalid), "{err}");
}

#[test]
fn an_unknown_kid_lists_the_kids_available() {
    let (rsa, _) = key_pair(Algorithm::RS256);
    let token = sign(Algorithm::RS256, &rsa, Some("rotated-away"), &claims());
    let err = jwt::verify(&token, &VerifyKey::Jwks(jwks())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the JWKS has no key with kid \"rotated-away\"; it has: old, rsa-1, ec-1, ed-1"
    );
    assert_eq!(error_code(err), ErrorCode::Invalid);
}

#[test]
fn a_token_without_kid_tries_every_fitting_key_and_reports_the_one_that_verified() {
    let (rsa, _) = key_pair(Algorithm::RS256);
    let token = sign(Algorithm::RS256, &rsa, None, &claims());
    let verified = jwt::verify(&token, &VerifyKey::Jwks(jwks())).unwrap();
    assert_eq!(verified.kid.as_deref(), Some("rsa-1"));

    let (p384, _) = key_pair(Algorithm::ES384);
    let token = sign(Algorithm::ES384, &p384, None, &claims());
    let err = jwt::verify(&token, &VerifyKey::Jwks(jwks())).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the JWKS has no key that can check ES384; it has: kid=old (RSA (RS256))"),
        "{err}"
    );
}

#[test]
fn a_kid_pointing_at_a_key_of_another_kind_is_a_mismatch() {
    let (p256, _) = key_pair(Algorithm::ES256);
    let token = sign(Algorithm::ES256, &p256, Some("rsa-1"), &claims());
    let err = jwt::verify(&token, &VerifyKey::Jwks(jwks())).unwrap_err();
    assert!(matches!(err, JwtError::KeyMismatch(_)), "{err}");
    assert!(
        err.to_string()
            .contains("kid=rsa-1 (RSA (RS256)) cannot check it"),
        "{err}"
    );
}

#[test]
fn a_bare_jwk_and_a_hmac_jwk_are_keys_too() {
    // Quay's /keys/services/quay/keys/<kid> answers one bare JWK (protocols §2.5).
    let (rsa, _) = key_pair(Algorithm::RS256);
    let quay_claims = json!({
        "iss": "quay", "aud": "quay.example.com",
        "nbf": NOW.unix_timestamp(), "iat": NOW.unix_timestamp(), "exp": NOW.unix_timestamp() + 3600,
        "sub": "alice",
        "access": [{"type": "repository", "name": "myorg/myrepo", "actions": ["pull", "push"]}],
        "context": {"version": 2, "entity_kind": "user", "kind": "user", "user": "alice",
                    "com.apostille.root": "$disabled"},
    });
    let token = sign(Algorithm::RS256, &rsa, Some("quaykey"), &quay_claims);
    let bare = public_jwk(&rsa, Algorithm::RS256, Some("quaykey"));
    let verified = jwt::verify(&token, &VerifyKey::Jwks(bare)).unwrap();
    assert_eq!(verified.kid.as_deref(), Some("quaykey"));
    let Inspection::Jwt {
        times,
        warnings,
        masked,
        kid,
        ..
    } = jwt::inspect(&token, NOW)
    else {
        panic!("not inspected as a JWT");
    };
    assert_eq!(kid.as_deref(), Some("quaykey"));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(masked.is_empty());
    let names: Vec<&str> = times.iter().map(|t| t.claim.as_str()).collect();
    assert_eq!(names, ["exp", "iat", "nbf"]);
    assert_eq!(times[0].relative, "in 60 min");

    let oct = json!({"keys": [{"kty": "oct", "kid": "h", "k": base64_url(b"shared")}]});
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"shared"),
        Some("h"),
        &claims(),
    );
    assert_eq!(
        jwt::verify(&token, &VerifyKey::Jwks(oct))
            .unwrap()
            .to_string(),
        "verified with HS256, key kid=h"
    );
}

#[test]
fn a_document_that_is_not_a_jwks_says_so() {
    let (rsa, _) = key_pair(Algorithm::RS256);
    let token = sign(Algorithm::RS256, &rsa, None, &claims());
    let discovery =
        json!({"issuer": "https://id.example.com", "jwks_uri": "https://id.example.com/jwks"});
    let err = jwt::verify(&token, &VerifyKey::Jwks(discovery)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a JWKS: this is an OpenID Connect configuration; its keys are at https://id.example.com/jwks"
    );
    let err = jwt::verify(&token, &VerifyKey::Jwks(json!([1, 2]))).unwrap_err();
    assert!(err.to_string().contains("a \"keys\" array"), "{err}");
}

// ---- fetching a JWKS over HTTP ----

/// Answers every request on a loopback port with the response `route` gives for
/// its path: `(status line, extra headers, body)`.
async fn serve(route: fn(&str) -> (&'static str, &'static str, String)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, headers, body) = route(&path);
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn jwks_routes(path: &str) -> (&'static str, &'static str, String) {
    match path {
        "/jwks" => (
            "200 OK",
            "Content-Type: application/json\r\n",
            jwks().to_string(),
        ),
        "/sealed" => (
            "503 Service Unavailable",
            "",
            r#"{"errors":["the vault is sealed"]}"#.to_string(),
        ),
        "/moved" => ("302 Found", "Location: /jwks\r\n", String::new()),
        "/html" => (
            "200 OK",
            "Content-Type: text/html\r\n",
            "<html></html>".to_string(),
        ),
        "/gone" => (
            "410 Gone",
            "Content-Type: text/html\r\n",
            "<html><body><h1>Gone</h1>\n</body></html>".to_string(),
        ),
        _ => ("404 Not Found", "", String::new()),
    }
}

#[tokio::test]
async fn a_jwks_fetched_over_http_verifies_a_token() {
    let base = serve(jwks_routes).await;
    let document = jwt::fetch_jwks(&client(), &format!("{base}/jwks"))
        .await
        .unwrap();
    let (p256, _) = key_pair(Algorithm::ES256);
    let token = sign(Algorithm::ES256, &p256, Some("ec-1"), &claims());
    let verified = jwt::verify(&token, &VerifyKey::Jwks(document)).unwrap();
    assert_eq!(verified.to_string(), "verified with ES256, key kid=ec-1");
}

#[tokio::test]
async fn a_jwks_server_error_is_server_refused_with_its_message() {
    let base = serve(jwks_routes).await;
    let err = jwt::fetch_jwks(&client(), &format!("{base}/sealed"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{base}/sealed answered HTTP 503: {{\"errors\":[\"the vault is sealed\"]}}")
    );
    assert_eq!(error_code(err), ErrorCode::ServerRefused);

    let err = jwt::fetch_jwks(&client(), &format!("{base}/nothing?token=x"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{base}/nothing answered HTTP 404: Not Found")
    );
    assert_eq!(error_code(err), ErrorCode::ServerRefused);

    let err = jwt::fetch_jwks(&client(), &format!("{base}/gone"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{base}/gone answered HTTP 410: Gone")
    );

    let err = jwt::fetch_jwks(&client(), &format!("{base}/moved"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("a redirect to /jwks, which is not followed"),
        "{err}"
    );
}

#[tokio::test]
async fn a_jwks_url_that_answers_something_else_is_not_a_jwks() {
    let base = serve(jwks_routes).await;
    let err = jwt::fetch_jwks(&client(), &format!("{base}/html"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("not a JWKS: {base}/html did not answer JSON")),
        "{err}"
    );
    assert_eq!(error_code(err), ErrorCode::Invalid);
}

#[tokio::test]
async fn an_unreachable_jwks_url_is_unreachable() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let err = jwt::fetch_jwks(&client(), &format!("http://{closed}/jwks"))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("cannot reach http://{closed}/jwks: ")),
        "{message}"
    );
    assert_eq!(error_code(err), ErrorCode::Unreachable);

    let err = jwt::fetch_jwks(&client(), "file:///etc/passwd")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("only http and https"), "{err}");
    let err = jwt::fetch_jwks(&client(), "not a url").await.unwrap_err();
    assert_eq!(error_code(err), ErrorCode::Invalid);
}
