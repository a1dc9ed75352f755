//! JSON Web Tokens: decode, inspect, verify and mint.
//!
//! Decoding is lenient: besides compliant tokens (base64url, no padding) it reads
//! the standard-alphabet, `=`-padded tokens of Kontinuous' `jwt-gen`
//! (protocols §1.6) and flags them non-compliant. [`inspect`] is what the JWT
//! inspector shows: header, claims with every credential masked, times as dates
//! and "in 3 h", warnings; or, for a token that is not a JWT, what it probably is.
//! [`verify`] checks the signature only (HS*, RS*, PS*, ES*, EdDSA; a secret, a PEM
//! public key or a JWKS), never expiry: a user verifies an expired token to learn
//! whose it is. [`mint_kontinuous`] writes exactly what Kontinuous' `CreateJWT`
//! writes (§1.3).
//!
//! This module never logs and never puts a token, a secret or a claim value in an
//! error message. It does not fetch anything on its own: [`fetch_jwks`] takes the
//! HTTP client from its caller. It does not decide whether a token is still
//! usable for a login; `tokens` does, from [`Decoded::exp`].

use crate::secret::Secret;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Why a token could not be decoded, verified or minted. No message contains the
/// token, a secret or a claim value.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("no token given: paste a JWT, or pipe one on stdin")]
    Empty,
    #[error(
        "a JWT has three parts separated by dots (header.claims.signature); this has {found}: \
         copy the whole token again"
    )]
    Segments { found: usize },
    #[error(
        "this is an encrypted JWT (JWE, five parts): only the service it was issued to can \
         read it"
    )]
    Encrypted,
    #[error(
        "the token's {part} part is not base64url (nor standard base64): the token is damaged \
         or cut short; copy it again"
    )]
    NotBase64 { part: &'static str },
    #[error("the token's {part} part is not JSON ({reason}): this is not a JWT, or it is damaged")]
    NotJson { part: &'static str, reason: String },
    #[error("the token's {part} part is JSON but not an object: this is not a JWT")]
    NotObject { part: &'static str },
    #[error("the header has no \"alg\" string: this is not a JWT header")]
    NoAlg,
    #[error(
        "the token is not signed (alg \"none\"): there is no signature to check, and anyone \
         could have written it"
    )]
    Unsigned,
    #[error("the token has an empty signature part: there is nothing to check")]
    SignatureMissing,
    #[error(
        "the token's alg \"{0}\" is not supported; supported: HS256, HS384, HS512, RS256, \
         RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"
    )]
    UnsupportedAlg(String),
    #[error("the signature does not match this key")]
    SignatureInvalid,
    #[error("{0}")]
    KeyMismatch(String),
    #[error("the secret is not base64url: {0}")]
    SecretNotBase64url(String),
    #[error("cannot use the PEM key: {0}")]
    InvalidPem(String),
    #[error(
        "the PEM holds a private key: give the public key instead (`openssl pkey -in KEY.pem \
         -pubout`)"
    )]
    PrivateKeyPem,
    #[error("cannot use the key: {0}")]
    InvalidKey(String),
    #[error("not a JWKS: {0}")]
    NotAJwks(String),
    #[error(
        "the JWKS has no key with kid \"{kid}\"; {}",
        list_or_none(available, "it has no keys with a kid")
    )]
    UnknownKid { kid: String, available: Vec<String> },
    #[error(
        "the JWKS has no key that can check {alg}; {}",
        list_or_none(available, "it has no keys")
    )]
    NoMatchingKey { alg: String, available: Vec<String> },
    #[error("\"{url}\" is not a usable JWKS URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot reach {url}: {reason}; check the URL and the network")]
    JwksUnreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}: {message}")]
    JwksRefused {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{0}")]
    InvalidInput(String),
}

impl From<JwtError> for crate::error::Error {
    fn from(e: JwtError) -> Self {
        crate::error::Error::Jwt {
            code: e.code(),
            source: Box::new(e),
        }
    }
}

fn list_or_none(items: &[String], none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        format!("it has: {}", items.join(", "))
    }
}

impl JwtError {
    /// What the user can do about it; see [`crate::ErrorCode`].
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            JwtError::JwksUnreachable { .. } => crate::ErrorCode::Unreachable,
            JwtError::JwksRefused { .. } => crate::ErrorCode::ServerRefused,
            _ => crate::ErrorCode::Invalid,
        }
    }
}

// ---------------------------------------------------------------------------
// Decoding

/// RFC 7515's alphabet, but tolerating `=` padding, which jwt-gen writes.
const URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
/// The standard alphabet (`+`, `/`) of `openssl base64`, padded or not.
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A JWT taken apart, with its claims in clear: for the core's own use (reading
/// `exp`, verifying). What crosses to the UI is an [`Inspection`], which masks
/// credentials. `Debug` masks them too.
#[derive(Clone)]
pub struct Decoded {
    pub header: Value,
    pub claims: Value,
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub auth_time: Option<i64>,
    /// Base64url without padding in every part, as RFC 7515 requires.
    pub compliant: bool,
    /// What is odd about the token itself (encoding, `alg: none`, claims of the
    /// wrong type); [`inspect`] adds those that depend on the time.
    pub warnings: Vec<String>,
    /// `header.claims` exactly as the token carries them: what was signed.
    signing_input: String,
    signature: Vec<u8>,
}

impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut claims = self.claims.clone();
        mask_credentials(&mut claims);
        f.debug_struct("Decoded")
            .field("header", &self.header)
            .field("claims", &claims)
            .field("compliant", &self.compliant)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
enum Part {
    Header,
    Claims,
    Signature,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Header => "header",
            Part::Claims => "claims",
            Part::Signature => "signature",
        }
    }
}

struct Segment {
    bytes: Vec<u8>,
    standard_alphabet: bool,
    padded: bool,
}

fn decode_segment(text: &str, part: Part) -> Result<Segment, JwtError> {
    let standard = text.contains(['+', '/']);
    let url = text.contains(['-', '_']);
    let not_base64 = JwtError::NotBase64 { part: part.name() };
    if standard && url {
        return Err(not_base64);
    }
    let engine = if standard {
        &STANDARD_LENIENT
    } else {
        &URL_LENIENT
    };
    let bytes = engine.decode(text).map_err(|_| not_base64)?;
    Ok(Segment {
        bytes,
        standard_alphabet: standard,
        padded: text.ends_with('='),
    })
}

fn parse_object(bytes: &[u8], part: Part) -> Result<Value, JwtError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| JwtError::NotJson {
        part: part.name(),
        // serde_json's messages name a position and what it expected, never the input.
        reason: e.to_string(),
    })?;
    if !value.is_object() {
        return Err(JwtError::NotObject { part: part.name() });
    }
    Ok(value)
}

/// The token as it would travel: surrounding whitespace and a `Bearer ` prefix
/// removed, and line breaks inside it (a terminal's wrapping) dropped.
fn clean(token: &str) -> String {
    let token = token.trim();
    let token = match token.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => token[7..].trim_start(),
        _ => token,
    };
    token.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A NumericDate (seconds since the epoch); RFC 7519 allows fractions.
fn numeric_date(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 9.0e18)
            .map(|f| f.trunc() as i64)
    })
}

fn join_parts(parts: &[&str]) -> String {
    match parts {
        [one] => format!("the {one}"),
        [a, b] => format!("the {a} and {b}"),
        _ => format!(
            "the {} and {}",
            parts[..parts.len() - 1].join(", "),
            parts[parts.len() - 1]
        ),
    }
}

/// Takes a JWT apart. Lenient about encoding (see the module comment); strict about
/// shape: three parts, base64, a JSON object header with `alg`, JSON object claims.
pub fn decode(token: &str) -> Result<Decoded, JwtError> {
    let token = clean(token);
    if token.is_empty() {
        return Err(JwtError::Empty);
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(JwtError::Encrypted),
        found => return Err(JwtError::Segments { found }),
    }
    let segments = [
        decode_segment(parts[0], Part::Header)?,
        decode_segment(parts[1], Part::Claims)?,
        decode_segment(parts[2], Part::Signature)?,
    ];
    let header = parse_object(&segments[0].bytes, Part::Header)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwtError::NoAlg)?
        .to_string();
    let claims = parse_object(&segments[1].bytes, Part::Claims)?;
    let text = |name: &str| header.get(name).and_then(Value::as_str).map(str::to_string);
    let kid = text("kid");
    let typ = text("typ");

    let names = [Part::Header, Part::Claims, Part::Signature];
    let standard: Vec<&str> = segments
        .iter()
        .zip(names)
        .filter(|(s, _)| s.standard_alphabet)
        .map(|(_, p)| p.name())
        .collect();
    let padded: Vec<&str> = segments
        .iter()
        .zip(names)
        .filter(|(s, _)| s.padded)
        .map(|(_, p)| p.name())
        .collect();
    let mut warnings = Vec::new();
    if !standard.is_empty() {
        warnings.push(format!(
            "non-compliant encoding: {} use standard base64 ('+', '/') instead of base64url \
             ('-', '_'); strict JWT libraries reject the token",
            join_parts(&standard)
        ));
    }
    if !padded.is_empty() {
        warnings.push(format!(
            "non-compliant encoding: {} end in '=' padding, which a JWT leaves out (RFC 7515); \
             strict JWT libraries reject the token (Kontinuous' jwt-gen writes tokens like this)",
            join_parts(&padded)
        ));
    }
    let compliant = standard.is_empty() && padded.is_empty();
    if alg.eq_ignore_ascii_case("none") {
        warnings.push("alg is \"none\": the token is not signed, so anyone can forge it".into());
    }

    let mut seconds_claim = |name: &str| -> Option<i64> {
        let value = claims.get(name)?;
        let seconds = numeric_date(value);
        if seconds.is_none() {
            warnings.push(format!(
                "\"{name}\" is not a number of seconds since 1970 (a NumericDate), so it is ignored"
            ));
        }
        seconds
    };
    let exp = seconds_claim("exp");
    let iat = seconds_claim("iat");
    let nbf = seconds_claim("nbf");
    let auth_time = seconds_claim("auth_time");

    let signing_input = format!("{}.{}", parts[0], parts[1]);
    let [_, _, signature] = segments;
    Ok(Decoded {
        header,
        claims,
        alg,
        kid,
        typ,
        exp,
        iat,
        nbf,
        auth_time,
        compliant,
        warnings,
        signing_input,
        signature: signature.bytes,
    })
}

// ---------------------------------------------------------------------------
// Masking

/// Key names (lower case, without `_` and `-`) whose string values are
/// credentials: `access_token`, `accessToken` and `Access-Token` all match.
const CREDENTIAL_KEYS: &[&str] = &[
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "token",
    "password",
    "clientsecret",
    "secret",
];

fn is_credential_key(key: &str) -> bool {
    let normal: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    CREDENTIAL_KEYS.contains(&normal.as_str())
}

/// Eight bullets, then the last four characters when the value is long enough
/// that four of them give nothing away (a short password would be half shown).
fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut masked = "••••••••".to_string();
    if chars.len() >= 12 {
        masked.extend(&chars[chars.len() - 4..]);
    }
    masked
}

fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    match (plain, parent.is_empty()) {
        (true, true) => key.to_string(),
        (true, false) => format!("{parent}.{key}"),
        (false, _) => format!("{parent}[{}]", Value::String(key.to_string())),
    }
}

fn mask_walk(value: &mut Value, path: &str, credential: bool, masked: &mut Vec<String>) {
    match value {
        Value::String(s) if credential && !s.is_empty() => {
            *s = mask(s);
            masked.push(path.to_string());
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                mask_walk(item, &format!("{path}[{i}]"), credential, masked);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let child = key_path(path, key);
                mask_walk(item, &child, credential || is_credential_key(key), masked);
            }
        }
        _ => {}
    }
}

/// Replaces every string under a credential key (`access_token`, `refresh_token`,
/// `id_token`, `token`, `password`, `client_secret`, `secret`, at any depth, in
/// any case, also inside arrays and objects under such a key) by
/// `••••••••<last 4>`, and returns the paths it masked, e.g.
/// `identities[0].access_token`.
pub fn mask_credentials(claims: &mut Value) -> Vec<String> {
    let mut masked = Vec::new();
    mask_walk(claims, "", false, &mut masked);
    masked
}

// ---------------------------------------------------------------------------
// Inspection

/// One time claim, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct TimeClaim {
    /// `exp`, `iat`, `nbf` or `auth_time`.
    pub claim: String,
    pub unix: i64,
    /// RFC 3339 in UTC, e.g. `2026-01-02T03:04:05Z`.
    pub iso: String,
    /// From the inspection's `now`: `in 3 h`, `2 d ago`, `now`.
    pub relative: String,
}

/// What the inspector shows for a token: never the token itself.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Inspection {
    Jwt {
        alg: String,
        kid: Option<String>,
        header: Value,
        /// With every credential masked; see [`mask_credentials`].
        claims: Value,
        /// The paths of the claims that were masked.
        masked: Vec<String>,
        times: Vec<TimeClaim>,
        compliant: bool,
        warnings: Vec<String>,
    },
    /// Not a JWT: what it probably is.
    Opaque {
        /// In characters.
        length: u32,
        /// A known prefix such as `ghp_`.
        prefix: Option<String>,
        meaning: Option<String>,
    },
}

impl Inspection {
    pub fn is_jwt(&self) -> bool {
        matches!(self, Inspection::Jwt { .. })
    }
}

/// `in 3 h`, `2 d ago`, `now`: the coarsest unit that still says something.
fn relative(seconds: i64) -> String {
    let abs = seconds.unsigned_abs();
    let amount = match abs {
        0 => return "now".into(),
        1..=59 => format!("{abs} s"),
        60..=5_399 => format!("{} min", abs / 60),
        5_400..=172_799 => format!("{} h", abs / 3_600),
        172_800..=63_071_999 => format!("{} d", abs / 86_400),
        _ => format!("{} y", abs / 31_536_000),
    };
    if seconds > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

fn time_claim(claim: &str, unix: i64, now: OffsetDateTime) -> TimeClaim {
    let iso = OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "(not a representable date)".into());
    TimeClaim {
        claim: claim.to_string(),
        unix,
        iso,
        relative: relative(unix - now.unix_timestamp()),
    }
}

/// A clock difference the inspector forgives before it calls `iat` future.
const CLOCK_SKEW_S: i64 = 60;

/// What the inspector shows for any pasted token: a decoded JWT with its
/// credentials masked, times and warnings; or, if it is not a JWT, its length and
/// what its prefix or shape suggests.
pub fn inspect(token: &str, now: OffsetDateTime) -> Inspection {
    match decode(token) {
        Ok(decoded) => inspect_decoded(decoded, now),
        Err(err) => opaque(&clean(token), &err),
    }
}

/// [`inspect`] for a token held in the keyring.
pub fn inspect_secret(token: &Secret, now: OffsetDateTime) -> Inspection {
    inspect(token.expose(), now)
}

fn inspect_decoded(decoded: Decoded, now: OffsetDateTime) -> Inspection {
    let Decoded {
        header,
        mut claims,
        alg,
        kid,
        exp,
        iat,
        nbf,
        auth_time,
        compliant,
        mut warnings,
        ..
    } = decoded;
    let now_s = now.unix_timestamp();
    let masked = mask_credentials(&mut claims);
    let times: Vec<TimeClaim> = [
        ("exp", exp),
        ("iat", iat),
        ("nbf", nbf),
        ("auth_time", auth_time),
    ]
    .into_iter()
    .filter_map(|(name, unix)| unix.map(|u| time_claim(name, u, now)))
    .collect();

    match exp {
        Some(exp) if exp <= now_s => warnings.push(match relative(exp - now_s).as_str() {
            "now" => "expired just now".to_string(),
            ago => format!("expired {ago}"),
        }),
        Some(_) => {}
        None => warnings.push(
            "never expires: anyone holding it can use it until the key is rotated".to_string(),
        ),
    }
    if let Some(nbf) = nbf.filter(|nbf| *nbf > now_s) {
        warnings.push(format!(
            "not valid yet: usable {} (nbf)",
            relative(nbf - now_s)
        ));
    }
    if let Some(iat) = iat.filter(|iat| *iat > now_s + CLOCK_SKEW_S) {
        warnings.push(format!(
            "issued in the future (iat {}): this computer's clock or the issuer's is wrong",
            relative(iat - now_s)
        ));
    }
    Inspection::Jwt {
        alg,
        kid,
        header,
        claims,
        masked,
        times,
        compliant,
        warnings,
    }
}

/// Token prefixes GitHub documents, longest first.
const KNOWN_PREFIXES: &[(&str, &str)] = &[
    ("github_pat_", "GitHub fine-grained personal access token"),
    ("gho_", "GitHub OAuth app user token"),
    ("ghu_", "GitHub App user token"),
    ("ghr_", "GitHub refresh token"),
    ("ghp_", "GitHub personal access token"),
    ("ghs_", "GitHub App installation token"),
];

fn is_uuid(token: &str) -> bool {
    let bytes = token.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn opaque(token: &str, not_jwt: &JwtError) -> Inspection {
    let length = u32::try_from(token.chars().count()).unwrap_or(u32::MAX);
    if let Some((prefix, meaning)) = KNOWN_PREFIXES.iter().find(|(p, _)| token.starts_with(p)) {
        return Inspection::Opaque {
            length,
            prefix: Some((*prefix).to_string()),
            meaning: Some((*meaning).to_string()),
        };
    }
    let meaning = if token.is_empty() {
        Some("empty".to_string())
    } else if is_uuid(token) {
        Some("opaque UUID (e.g. an Avassa token)".to_string())
    } else if length == 40 && token.chars().all(|c| c.is_ascii_alphanumeric()) {
        Some("40-character opaque token (e.g. a Quay OAuth token)".to_string())
    } else if token.contains('.') {
        Some(format!("not a JWT: {not_jwt}"))
    } else {
        None
    };
    Inspection::Opaque {
        length,
        prefix: None,
        meaning,
    }
}

// ---------------------------------------------------------------------------
// Verification

/// What a signature is checked against.
#[derive(Clone)]
pub enum VerifyKey {
    /// An HMAC secret, as bytes.
    Secret(Vec<u8>),
    /// A PEM public key (RSA, EC P-256/P-384 or Ed25519; SPKI, PKCS#1 or a
    /// certificate).
    Pem(String),
    /// A JWK Set (`{"keys":[...]}`) or a single JWK.
    Jwks(Value),
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerifyKey::Secret(_) => "VerifyKey::Secret(<redacted>)",
            VerifyKey::Pem(_) => "VerifyKey::Pem(..)",
            VerifyKey::Jwks(_) => "VerifyKey::Jwks(..)",
        })
    }
}

impl VerifyKey {
    /// A secret used as its UTF-8 bytes.
    pub fn secret_text(secret: &str) -> Self {
        VerifyKey::Secret(secret.as_bytes().to_vec())
    }

    /// A base64url-encoded secret, such as Kontinuous' `AUTH_SECRET` or Auth0's
    /// legacy client secret; `=` padding optional.
    pub fn secret_base64url(secret: &str) -> Result<Self, JwtError> {
        decode_base64url_secret(secret).map(VerifyKey::Secret)
    }
}

/// Decodes a base64url secret. The messages say where and what kind of fault,
/// never a character of the secret.
fn decode_base64url_secret(secret: &str) -> Result<Vec<u8>, JwtError> {
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(JwtError::SecretNotBase64url("it is empty".into()));
    }
    if secret.contains(['+', '/']) {
        return Err(JwtError::SecretNotBase64url(
            "it contains '+' or '/', which belong to standard base64, not to base64url; \
             Kontinuous would silently use a shortened key (protocols §1.3). Use a secret of \
             A-Z a-z 0-9 only, or re-encode it with '-' and '_'"
                .into(),
        ));
    }
    URL_LENIENT.decode(secret).map_err(|e| {
        JwtError::SecretNotBase64url(match e {
            base64::DecodeError::InvalidByte(at, _) => format!(
                "character {} is not one of A-Z a-z 0-9 - _ (or '=' at the end)",
                at + 1
            ),
            base64::DecodeError::InvalidLength(_) => {
                "its length is impossible for base64: it was cut short or has extra characters"
                    .into()
            }
            base64::DecodeError::InvalidLastSymbol(..) => {
                "its last character does not end a base64 text: it was cut short or altered".into()
            }
            base64::DecodeError::InvalidPadding => "its '=' padding is wrong".into(),
        })
    })
}

/// The key that checked a signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Verified {
    pub alg: String,
    /// The `kid` of the JWKS key that verified, if it has one.
    pub kid: Option<String>,
    /// Whether the token's encoding is RFC 7515 base64url (see [`Decoded::compliant`]).
    pub compliant: bool,
}

impl fmt::Display for Verified {
    /// `verified with HS256`, `verified with RS256, key kid=abc`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "verified with {}", self.alg)?;
        if let Some(kid) = &self.kid {
            write!(f, ", key kid={kid}")?;
        }
        Ok(())
    }
}

fn signing_alg(alg: &str) -> Result<Algorithm, JwtError> {
    if alg.eq_ignore_ascii_case("none") {
        return Err(JwtError::Unsigned);
    }
    alg.parse()
        .map_err(|_| JwtError::UnsupportedAlg(alg.chars().take(40).collect::<String>()))
}

fn family_needs(alg: &str, family: AlgorithmFamily) -> &'static str {
    match family {
        AlgorithmFamily::Hmac => "a shared secret (--secret or --secret-base64url)",
        AlgorithmFamily::Rsa => "an RSA public key (a PEM file or a JWKS)",
        AlgorithmFamily::Ec if alg == "ES384" => "an EC P-384 public key (a PEM file or a JWKS)",
        AlgorithmFamily::Ec => "an EC P-256 public key (a PEM file or a JWKS)",
        AlgorithmFamily::Ed => "an Ed25519 public key (a PEM file or a JWKS)",
    }
}

fn describe_jwk(jwk: &Jwk) -> String {
    let kind = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => "RSA".to_string(),
        AlgorithmParameters::EllipticCurve(p) => format!("EC {}", curve_name(&p.curve)),
        AlgorithmParameters::OctetKeyPair(p) => curve_name(&p.curve).to_string(),
        AlgorithmParameters::OctetKey(_) => "shared secret".to_string(),
        _ => "unsupported".to_string(),
    };
    match jwk.common.key_algorithm {
        Some(alg) if alg != KeyAlgorithm::UNKNOWN_ALGORITHM => format!("{kind} ({alg})"),
        _ => kind,
    }
}

fn curve_name(curve: &EllipticCurve) -> &'static str {
    match curve {
        EllipticCurve::P256 => "P-256",
        EllipticCurve::P384 => "P-384",
        EllipticCurve::P521 => "P-521",
        EllipticCurve::Ed25519 => "Ed25519",
        _ => "unknown curve",
    }
}

/// Whether `jwk` can check a signature made with `alg`.
fn jwk_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let kind_fits = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), _) => alg.family() == AlgorithmFamily::Rsa,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES384) => p.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        (AlgorithmParameters::OctetKey(_), _) => alg.family() == AlgorithmFamily::Hmac,
        _ => false,
    };
    let alg_fits = jwk
        .common
        .key_algorithm
        .is_none_or(|ka| ka == KeyAlgorithm::from(alg));
    let use_fits = !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption));
    kind_fits && alg_fits && use_fits
}

/// Checks the signature over the exact bytes the token carries. The signature
/// was decoded leniently, so jwt-gen's standard-base64 signatures check too.
fn check(decoded: &Decoded, key: &DecodingKey, alg: Algorithm) -> Result<bool, JwtError> {
    let signature = URL_SAFE_NO_PAD.encode(&decoded.signature);
    jsonwebtoken::crypto::verify(&signature, decoded.signing_input.as_bytes(), key, alg)
        .map_err(|e| JwtError::InvalidKey(e.to_string()))
}

/// The label of the first `-----BEGIN ...-----` line.
fn pem_label(pem: &str) -> Option<&str> {
    let start = pem.find("-----BEGIN ")? + "-----BEGIN ".len();
    let end = pem[start..].find("-----")?;
    Some(&pem[start..start + end])
}

/// A PEM public key as a public JWK, so that it goes through the same checks as a
/// JWKS key. Building the JWK also parses the key, so a broken one is reported
/// here rather than as a signature that does not match.
fn pem_jwk(pem: &str) -> Result<(DecodingKey, Jwk), JwtError> {
    let label = pem_label(pem).ok_or_else(|| {
        JwtError::InvalidPem("no \"-----BEGIN PUBLIC KEY-----\" line: give a PEM public key".into())
    })?;
    if label.contains("PRIVATE") {
        return Err(JwtError::PrivateKeyPem);
    }
    let bytes = pem.as_bytes();
    let key = DecodingKey::from_rsa_pem(bytes)
        .and_then(|k| Jwk::from_decoding_key(&k, None).map(|j| (k, j)))
        .or_else(|_| {
            DecodingKey::from_ec_pem(bytes)
                .and_then(|k| Jwk::from_decoding_key(&k, None).map(|j| (k, j)))
        })
        .or_else(|_| {
            DecodingKey::from_ed_pem(bytes)
                .and_then(|k| Jwk::from_decoding_key(&k, None).map(|j| (k, j)))
        });
    key.map_err(|_| {
        JwtError::InvalidPem(format!(
            "\"{label}\" is not an RSA, EC (P-256, P-384) or Ed25519 public key this program \
             can read"
        ))
    })
}

/// Checks the token's signature against `key`. Only the signature (and that the
/// key fits the token's `alg`): expiry is [`inspect`]'s business.
pub fn verify(token: &str, key: &VerifyKey) -> Result<Verified, JwtError> {
    let decoded = decode(token)?;
    let alg = signing_alg(&decoded.alg)?;
    if decoded.signature.is_empty() {
        return Err(JwtError::SignatureMissing);
    }
    let mismatch = |given: &str| {
        JwtError::KeyMismatch(format!(
            "the token is signed with {}, which needs {}; the key given is {given}",
            decoded.alg,
            family_needs(&decoded.alg, alg.family())
        ))
    };
    let kid = match key {
        VerifyKey::Secret(secret) => {
            if alg.family() != AlgorithmFamily::Hmac {
                return Err(mismatch("a shared secret"));
            }
            if !check(&decoded, &DecodingKey::from_secret(secret), alg)? {
                return Err(JwtError::SignatureInvalid);
            }
            None
        }
        VerifyKey::Pem(pem) => {
            if alg.family() == AlgorithmFamily::Hmac {
                return Err(mismatch("a PEM public key"));
            }
            let (key, jwk) = pem_jwk(pem)?;
            if !jwk_fits(&jwk, alg) {
                return Err(mismatch(&format!("an {} key", describe_jwk(&jwk))));
            }
            if !check(&decoded, &key, alg)? {
                return Err(JwtError::SignatureInvalid);
            }
            None
        }
        VerifyKey::Jwks(jwks) => verify_jwks(&decoded, alg, jwks)?,
    };
    Ok(Verified {
        alg: decoded.alg,
        kid,
        compliant: decoded.compliant,
    })
}

/// [`verify`] for a token held in the keyring.
pub fn verify_secret(token: &Secret, key: &VerifyKey) -> Result<Verified, JwtError> {
    verify(token.expose(), key)
}

/// One entry of a JWKS: its kid and type even when the key itself is unreadable.
struct JwksEntry {
    kid: Option<String>,
    kty: String,
    jwk: Option<Jwk>,
}

impl JwksEntry {
    fn describe(&self) -> String {
        let what = match &self.jwk {
            Some(jwk) => describe_jwk(jwk),
            None => format!("unreadable {}", self.kty),
        };
        match &self.kid {
            Some(kid) => format!("kid={kid} ({what})"),
            None => format!("({what}, no kid)"),
        }
    }
}

/// The keys of a JWKS document (`{"keys":[...]}`), or of a single JWK.
fn jwks_entries(jwks: &Value) -> Result<Vec<JwksEntry>, JwtError> {
    let keys: Vec<&Value> = match jwks {
        Value::Object(map) if map.get("keys").is_some_and(Value::is_array) => map["keys"]
            .as_array()
            .map(|keys| keys.iter().collect())
            .unwrap_or_default(),
        Value::Object(map) if map.contains_key("kty") => vec![jwks],
        Value::Object(map) if map.contains_key("jwks_uri") => {
            let uri = map["jwks_uri"].as_str().unwrap_or("(not a string)");
            return Err(JwtError::NotAJwks(format!(
                "this is an OpenID Connect configuration; its keys are at {uri}"
            )));
        }
        _ => {
            return Err(JwtError::NotAJwks(
                "expected a JSON object with a \"keys\" array (a JWK Set)".into(),
            ))
        }
    };
    Ok(keys
        .into_iter()
        .map(|key| JwksEntry {
            kid: key.get("kid").and_then(Value::as_str).map(str::to_string),
            kty: key
                .get("kty")
                .and_then(Value::as_str)
                .unwrap_or("key without kty")
                .to_string(),
            jwk: serde_json::from_value(key.clone()).ok(),
        })
        .collect())
}

fn verify_jwks(
    decoded: &Decoded,
    alg: Algorithm,
    jwks: &Value,
) -> Result<Option<String>, JwtError> {
    let entries = jwks_entries(jwks)?;
    let candidates: Vec<&JwksEntry> = match &decoded.kid {
        Some(kid) => {
            let with_kid: Vec<&JwksEntry> = entries
                .iter()
                .filter(|e| e.kid.as_deref() == Some(kid.as_str()))
                .collect();
            if with_kid.is_empty() {
                return Err(JwtError::UnknownKid {
                    kid: kid.clone(),
                    available: entries.iter().filter_map(|e| e.kid.clone()).collect(),
                });
            }
            with_kid
        }
        None => entries.iter().collect(),
    };
    let fitting: Vec<(&JwksEntry, &Jwk)> = candidates
        .iter()
        .filter_map(|e| e.jwk.as_ref().filter(|j| jwk_fits(j, alg)).map(|j| (*e, j)))
        .collect();
    if fitting.is_empty() {
        if let Some(kid) = &decoded.kid {
            let found: Vec<String> = candidates.iter().map(|e| e.describe()).collect();
            return Err(JwtError::KeyMismatch(format!(
                "the token is signed with {}, which needs {}; the JWKS key {} cannot check it",
                decoded.alg,
                family_needs(&decoded.alg, alg.family()),
                if found.len() == 1 {
                    found[0].clone()
                } else {
                    format!("kid={kid} ({} keys)", found.len())
                }
            )));
        }
        return Err(JwtError::NoMatchingKey {
            alg: decoded.alg.clone(),
            available: entries.iter().map(JwksEntry::describe).collect(),
        });
    }
    // Without a kid, every fitting key is tried; a key that cannot be built (bad
    // modulus, ...) does not hide a later one that verifies.
    let mut key_error = None;
    let mut checked = false;
    for (entry, jwk) in fitting {
        let key = match DecodingKey::from_jwk(jwk) {
            Ok(key) => key,
            Err(e) => {
                key_error.get_or_insert(JwtError::InvalidKey(format!(
                    "JWKS key {}: {e}",
                    entry.describe()
                )));
                continue;
            }
        };
        match check(decoded, &key, alg) {
            Ok(true) => return Ok(entry.kid.clone()),
            Ok(false) => checked = true,
            Err(e) => {
                key_error.get_or_insert(e);
            }
        }
    }
    match key_error {
        Some(err) if !checked => Err(err),
        _ => Err(JwtError::SignatureInvalid),
    }
}

/// The largest JWKS document read; real ones are a few kilobytes.
const JWKS_MAX_BYTES: usize = 1 << 20;

/// The URL as it may appear in a message: without user, password or query.
fn shown_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// An error and its causes, one sentence: reqwest's top-level message alone
/// ("error sending request") does not say that the connection was refused.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Fetches a JWKS document with the caller's client (whose redirect policy and
/// trust roots apply) and checks that it is one.
pub async fn fetch_jwks(client: &reqwest::Client, url: &str) -> Result<Value, JwtError> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| JwtError::InvalidUrl {
        url: url.trim().chars().take(200).collect(),
        reason: e.to_string(),
    })?;
    let shown = shown_url(&parsed);
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(JwtError::InvalidUrl {
            url: shown,
            reason: "only http and https URLs can be fetched".into(),
        });
    }
    let unreachable = |e: reqwest::Error| JwtError::JwksUnreachable {
        url: shown.clone(),
        reason: error_chain(&e.without_url()),
    };
    let mut response = client
        .get(parsed.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        body.extend_from_slice(&chunk);
        if body.len() > JWKS_MAX_BYTES {
            return Err(JwtError::NotAJwks(format!(
                "{shown} sent more than {} KiB",
                JWKS_MAX_BYTES / 1024
            )));
        }
    }
    if !status.is_success() {
        let message = if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(no Location)");
            format!("a redirect to {to}, which is not followed: give that URL instead")
        } else {
            // The server's own words, on one line; an HTML error page says no more
            // than its status.
            let text = String::from_utf8_lossy(&body);
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let html = text.starts_with('<')
                || response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("html"));
            if text.is_empty() || html {
                status
                    .canonical_reason()
                    .unwrap_or("no message")
                    .to_string()
            } else {
                text.chars().take(300).collect()
            }
        };
        return Err(JwtError::JwksRefused {
            url: shown,
            status: status.as_u16(),
            message,
        });
    }
    let document: Value = serde_json::from_slice(&body)
        .map_err(|e| JwtError::NotAJwks(format!("{shown} did not answer JSON ({e})")))?;
    jwks_entries(&document).map_err(|e| match e {
        JwtError::NotAJwks(why) => JwtError::NotAJwks(format!("{shown}: {why}")),
        other => other,
    })?;
    Ok(document)
}

// ---------------------------------------------------------------------------
// Minting

/// A JSON string as Go's `encoding/json` writes it: `<`, `>`, `&`, U+2028 and
/// U+2029 escaped as `\u00XX`, other control characters as `\u00xx`, so that a
/// token minted here is the byte-for-byte twin of Kontinuous' for any input.
fn push_go_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Mints the token Kontinuous' `CreateJWT` issues (protocols §1.3): HS256 with
/// the base64url-decoded `AUTH_SECRET`, header `{"alg":"HS256","typ":"JWT"}`,
/// claims `{"identities":[{"access_token":TOKEN}],"user_id":ID}` with sorted keys
/// and no spaces (`user_id` left out when `None`), base64url without padding, no
/// `exp`. The result carries the GitHub token in clear: keep it as a secret.
pub fn mint_kontinuous(
    secret_base64url: &str,
    github_token: &str,
    user_id: Option<&str>,
) -> Result<String, JwtError> {
    let key = decode_base64url_secret(secret_base64url)?;
    if github_token.is_empty() {
        return Err(JwtError::InvalidInput(
            "the GitHub token is empty: give the token Kontinuous should call GitHub with".into(),
        ));
    }
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let mut claims = String::from(r#"{"identities":[{"access_token":"#);
    push_go_json_string(&mut claims, github_token);
    claims.push_str("}]");
    if let Some(user_id) = user_id {
        claims.push_str(r#","user_id":"#);
        push_go_json_string(&mut claims, user_id);
    }
    claims.push('}');
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(&key),
        Algorithm::HS256,
    )
    .map_err(|e| JwtError::InvalidKey(e.to_string()))?;
    Ok(format!("{signing_input}.{signature}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bearer_prefix_whitespace_and_wrapped_lines_are_removed() {
        assert_eq!(clean("  Bearer abc.def\n.ghi \n"), "abc.def.ghi");
        assert_eq!(clean("bearer   x.y.z"), "x.y.z");
        assert_eq!(clean("BEARER x"), "x");
        assert_eq!(clean("Bearerx"), "Bearerx");
    }

    #[test]
    fn segments_in_either_alphabet_decode_and_mixed_ones_do_not() {
        let url = decode_segment("-_8", Part::Signature).unwrap();
        assert_eq!(url.bytes, [0xfb, 0xff]);
        assert!(!url.standard_alphabet && !url.padded);
        let std = decode_segment("+/8=", Part::Signature).unwrap();
        assert_eq!(std.bytes, [0xfb, 0xff]);
        assert!(std.standard_alphabet && std.padded);
        assert!(matches!(
            decode_segment("+_8", Part::Claims),
            Err(JwtError::NotBase64 { part: "claims" })
        ));
        assert!(decode_segment("a", Part::Header).is_err());
    }

    #[test]
    fn relative_times_use_the_coarsest_unit_that_says_something() {
        assert_eq!(relative(0), "now");
        assert_eq!(relative(45), "in 45 s");
        assert_eq!(relative(-45), "45 s ago");
        assert_eq!(relative(5 * 60), "in 5 min");
        assert_eq!(relative(3 * 3600 + 1800), "in 3 h");
        assert_eq!(relative(-2 * 86_400 - 100), "2 d ago");
        assert_eq!(relative(10 * 365 * 86_400), "in 10 y");
    }

    #[test]
    fn go_json_escapes_html_characters_like_encoding_json() {
        let mut out = String::new();
        push_go_json_string(&mut out, "a<b>&\"\\\n\u{1}\u{2028}é|");
        assert_eq!(out, r#""a\u003cb\u003e\u0026\"\\\n\u0001\u2028é|""#);
        // For ordinary text it is plain JSON.
        let mut plain = String::new();
        push_go_json_string(&mut plain, "github|583231");
        assert_eq!(plain, serde_json::to_string("github|583231").unwrap());
    }

    /// A token shaped like GitHub's OAuth tokens (`gho_` and 36 characters)
    /// but made up, and assembled at run time so that no secret scanner
    /// takes the source for a leaked credential.
    fn example_github_token() -> String {
        format!("gho_{}{}", "EXAMPLE0".repeat(4), "8B4a")
    }

    #[test]
    fn short_credentials_show_no_characters_and_long_ones_their_last_four() {
        assert_eq!(mask("hunter2"), "••••••••");
        assert_eq!(mask(&example_github_token()), "••••••••8B4a");
    }

    #[test]
    fn masking_finds_credentials_at_any_depth_and_in_any_spelling() {
        let mut claims = json!({
            "sub": "alice",
            "password": "hunter2",
            "nested": {"clientSecret": "0123456789abcdef", "Refresh-Token": ["r1-0123456789", 7]},
            "odd.key": {"token": "t-0123456789ab"},
            "tokens": "not a credential key",
        });
        let masked = mask_credentials(&mut claims);
        assert_eq!(
            masked,
            [
                "nested[\"Refresh-Token\"][0]",
                "nested.clientSecret",
                "[\"odd.key\"].token",
                "password"
            ]
        );
        assert_eq!(claims["password"], "••••••••");
        assert_eq!(claims["nested"]["clientSecret"], "••••••••cdef");
        assert_eq!(claims["nested"]["Refresh-Token"][1], 7);
        assert_eq!(claims["tokens"], "not a credential key");
        assert_eq!(claims["sub"], "alice");
    }

    #[test]
    fn debug_of_a_decoded_token_masks_its_credentials() {
        let token = mint_kontinuous(
            "a29udGludW91cy10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5",
            &example_github_token(),
            None,
        )
        .unwrap();
        let text = format!("{:?}", decode(&token).unwrap());
        assert!(!text.contains(&example_github_token()[..8]), "{text}");
        assert!(!text.contains(&token[..20]), "{text}");
        assert!(text.contains("••••••••8B4a"), "{text}");
    }

    #[test]
    fn secret_errors_never_echo_the_secret() {
        for bad in ["abc+def/", "ab$c", "abcde", "YQ=x"] {
            let err = VerifyKey::secret_base64url(bad).unwrap_err().to_string();
            assert!(!err.contains(bad), "{err}");
            assert!(err.starts_with("the secret is not base64url"), "{err}");
        }
        assert!(matches!(
            VerifyKey::secret_base64url("a29udGludW91cy10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5").unwrap(),
            VerifyKey::Secret(bytes) if bytes == b"kontinuous-test-secret-0123456789"
        ));
        // Padding is optional.
        assert!(matches!(
            VerifyKey::secret_base64url("YWI").unwrap(),
            VerifyKey::Secret(bytes) if bytes == b"ab"
        ));
        assert!(matches!(
            VerifyKey::secret_base64url("YWI=").unwrap(),
            VerifyKey::Secret(bytes) if bytes == b"ab"
        ));
    }

    #[test]
    fn uuids_are_recognised_by_shape() {
        assert!(is_uuid("09715875-ac45-4ad7-bfad-00eea3949094"));
        assert!(!is_uuid("09715875-ac45-4ad7-bfad-00eea394909g"));
        assert!(!is_uuid("09715875ac454ad7bfad00eea3949094abcd"));
    }

    #[test]
    fn urls_in_messages_lose_credentials_and_query() {
        let url = url::Url::parse("https://u:p@keys.example.com/jwks?token=x#f").unwrap();
        assert_eq!(shown_url(&url), "https://keys.example.com/jwks");
    }
}
