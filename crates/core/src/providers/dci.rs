//! DCI's `dci-hmac` login kind (protocols §4): there is nothing to log in,
//! the access key and secret key sign each request ([`crate::dci`]). The
//! validity probe is a signed identity request ([`crate::dci::identity`]).

use crate::dci;
use crate::error::Result;
use crate::model::SummaryItem;
use crate::model::{LoginKind, LoginPrompt, LoginSpec, SecretSpec, ServerKind, SettingField};
use crate::providers::BoxFuture;
use crate::providers::{Begun, KindEntry, LoginContext, LoginInput, Provider};
use crate::vault::{Secret, SecretSlot};
use std::sync::Arc;

pub struct Dci;

/// `dci-hmac`'s line in the kind registry: on DCI servers, "logged in" by
/// checking whose the key is; nothing to renew, the key signs each request.
pub const fn entry(login: LoginKind) -> KindEntry {
    KindEntry {
        provider: Some(|_| Arc::new(Dci)),
        ..KindEntry::new(login, &[ServerKind::Dci], spec)
    }
}

/// What a `dci-hmac` profile needs: its access key, and the secret key in the
/// keyring (its descriptor).
pub fn spec(login: LoginKind) -> LoginSpec {
    LoginSpec::new(
        login,
        LoginPrompt::Sign,
        &[SettingField::AccessKey],
        &[],
        SecretSpec::required("Secret key", SecretSlot::SigningKey),
    )
}

impl Provider for Dci {
    fn begin<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        _input: &'a LoginInput,
    ) -> BoxFuture<'a, Result<Begun>> {
        Box::pin(async move { Err(dci::nothing_to_log_in(&ctx.profile.name)) })
    }

    fn info_slot(&self) -> SecretSlot {
        SecretSlot::SigningKey
    }

    /// Who the key belongs to, by a signed `GET /api/v1/identity`. The
    /// secret key comes from the keyring (`SigningKey`), whatever `token` is.
    fn token_info<'a>(
        &'a self,
        ctx: LoginContext<'a>,
        _token: &'a Secret,
    ) -> BoxFuture<'a, Result<Vec<SummaryItem>>> {
        Box::pin(async move {
            let (access_key, secret) = dci::profile_key(ctx.vault, ctx.profile).await?;
            dci::identity(ctx.server, &access_key, &secret, ctx.now).await
        })
    }
}
