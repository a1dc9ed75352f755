//! The JWT inspector's two questions, for the window: "what is in this token?"
//! and "does this key verify it?". The token is either pasted by the user or
//! a profile's stored one; a stored token is read from the vault here and never
//! handed to the page.

use crate::error::{Error, Result};
use crate::jwt::{self, Inspection, Verified, VerifyKey};
use crate::service::Latchkey;
use crate::vault::{Secret, SecretInput};
use serde::Deserialize;

/// Which token to look at.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum TokenSource {
    /// A token the user pasted into the inspector.
    Pasted { token: SecretInput },
    /// The stored token of a profile.
    Profile { profile_id: i64 },
    /// The Kubernetes service-account token an `avassa-kubernetes` profile
    /// sends at login, read from its file: to see its claims before sending.
    ServiceAccount { profile_id: i64 },
}

/// How the user gives the verification key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    /// An HMAC secret as text.
    Secret,
    /// An HMAC secret in base64url (Kontinuous' `AUTH_SECRET`).
    SecretBase64url,
    /// A PEM public key or certificate.
    Pem,
    /// A JWK Set or a single JWK, pasted.
    Jwks,
    /// The URL of a JWK Set, fetched now.
    JwksUrl,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct KeyInput {
    pub kind: KeyKind,
    /// The key itself; for an HMAC secret, a secret.
    pub value: SecretInput,
}

impl Latchkey {
    async fn source_token(&self, source: &TokenSource) -> Result<Secret> {
        match source {
            TokenSource::Pasted { token } => {
                if token.0.expose().trim().is_empty() {
                    return Err(Error::invalid("token", "paste a token to inspect"));
                }
                Ok(token.0.clone())
            }
            TokenSource::Profile { profile_id } => {
                let profile =
                    self.store().profile(*profile_id).await?.ok_or_else(|| {
                        Error::NotFound(format!("no profile with id {profile_id}"))
                    })?;
                Ok(self.valid_or_expired_token(&profile).await?)
            }
            TokenSource::ServiceAccount { profile_id } => {
                let profile =
                    self.store().profile(*profile_id).await?.ok_or_else(|| {
                        Error::NotFound(format!("no profile with id {profile_id}"))
                    })?;
                let path = profile
                    .settings
                    .sa_token_file
                    .clone()
                    .unwrap_or_else(|| crate::providers::avassa::DEFAULT_SA_TOKEN_FILE.into());
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::invalid(
                        "sa_token_file",
                        format!("cannot read the service-account token {path}: {e}"),
                    )
                })?;
                Ok(Secret::new(text.trim()))
            }
        }
    }

    /// Header, claims (credentials masked), times and warnings, or what an
    /// opaque token probably is.
    pub async fn inspect(&self, source: &TokenSource) -> Result<Inspection> {
        let token = self.source_token(source).await?;
        let mut inspection = jwt::inspect_secret(&token, self.clock().now());
        // A Quay registry token may grant less than its profile asks for.
        if let TokenSource::Profile { profile_id } = source {
            if let (Some(p), Inspection::Jwt { warnings, .. }) =
                (self.store().profile(*profile_id).await?, &mut inspection)
            {
                if p.login == crate::model::LoginKind::QuayRegistry {
                    let claims = jwt::decode(token.expose()).map(|d| d.claims)?;
                    warnings.extend(crate::providers::quay::access_warnings(
                        &p.settings,
                        &claims,
                    ));
                }
            }
        }
        Ok(inspection)
    }

    /// Checks the token's signature against the key the user gave.
    pub async fn verify(&self, source: &TokenSource, key: &KeyInput) -> Result<Verified> {
        let token = self.source_token(source).await?;
        let value = key.value.0.expose().trim();
        if value.is_empty() {
            return Err(Error::invalid("key", "give the key to verify with"));
        }
        let key = match key.kind {
            KeyKind::Secret => VerifyKey::secret_text(value),
            KeyKind::SecretBase64url => VerifyKey::secret_base64url(value)?,
            KeyKind::Pem => VerifyKey::Pem(value.to_string()),
            KeyKind::Jwks => VerifyKey::Jwks(serde_json::from_str(value).map_err(|e| {
                Error::invalid(
                    "key",
                    format!(
                        "the JWKS is not JSON ({e}); paste the whole {{\"keys\": [...]}} document"
                    ),
                )
            })?),
            KeyKind::JwksUrl => {
                let url = crate::model::validate_url("key", value)?;
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::limited(3))
                    .timeout(std::time::Duration::from_secs(15))
                    .build()
                    .map_err(|e| Error::Internal(e.to_string()))?;
                VerifyKey::Jwks(jwt::fetch_jwks(&client, &url).await?)
            }
        };
        Ok(jwt::verify_secret(&token, &key)?)
    }
}
