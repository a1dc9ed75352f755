//! Request signing by profile on [`Latchkey`]: a `dci-hmac` profile found by
//! name or id, its key read from the vault, the request signed with
//! [`crate::dci`] at the clock's now, and what left Latchkey recorded in the
//! profile's history (never the signature).

use crate::dci::{identity, profile_key, resolve_url, sign, SignedRequest};
use crate::error::{Error, Result};
use crate::model::{LoginKind, Profile, SummaryItem};
use crate::service::Latchkey;
use crate::vault::ProfileVault;
use url::Url;

impl Latchkey {
    /// Signs a request with a `dci-hmac` profile's key: `profile` is its name
    /// (or its id), `url` absolute or a path on the profile's server (e.g.
    /// `/api/v1/identity`). The timestamp is the clock's now; the signature
    /// is good for 15 minutes on either side of it.
    pub async fn sign_request(
        &self,
        profile: &str,
        method: &str,
        url: &str,
        body: &[u8],
    ) -> Result<SignedRequest> {
        let profile = self.dci_profile(profile).await?;
        let server = self.server_of(&profile).await?;
        let url = resolve_url(&server, url);
        let (access_key, secret) =
            profile_key(ProfileVault::new(self.vault(), profile.id), &profile).await?;
        Ok(sign(
            method,
            &url,
            body,
            &access_key,
            &secret,
            self.clock().now(),
        )?)
    }

    /// Records in the profile's history that a signed request left Latchkey
    /// (copied or printed): the method and path, never the signature. A
    /// preview that stays in the window is not recorded.
    pub async fn record_signed(&self, profile: &str, signed: &SignedRequest) -> Result<()> {
        let profile = self.dci_profile(profile).await?;
        let path = Url::parse(&signed.url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        self.store()
            .add_history(
                profile.id,
                self.clock().now(),
                "signed",
                Some(&format!("{} {path}", signed.method)),
            )
            .await?;
        Ok(())
    }

    /// The `dci-hmac` profile named `name_or_id` (a name first, else an id).
    async fn dci_profile(&self, name_or_id: &str) -> Result<Profile> {
        let profile = match self.store().profile_by_name(name_or_id).await? {
            Some(p) => Some(p),
            None => match name_or_id.parse::<i64>() {
                Ok(id) => self.store().profile(id).await?,
                Err(_) => None,
            },
        }
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no profile named '{name_or_id}' (see `latchkey profile list`)"
            ))
        })?;
        if profile.login != LoginKind::DciHmac {
            return Err(Error::invalid(
                "profile",
                format!(
                    "'{}' logs in with {}; only dci-hmac profiles sign requests",
                    profile.name, profile.login
                ),
            ));
        }
        Ok(profile)
    }

    /// Who a `dci-hmac` profile's key belongs to, by a signed
    /// `GET /api/v1/identity` on its server (see [`identity`]).
    pub async fn dci_identity(&self, profile: &str) -> Result<Vec<SummaryItem>> {
        let profile = self.dci_profile(profile).await?;
        let server = self.server_of(&profile).await?;
        let (access_key, secret) =
            profile_key(ProfileVault::new(self.vault(), profile.id), &profile).await?;
        identity(&server, &access_key, &secret, self.clock().now()).await
    }
}
