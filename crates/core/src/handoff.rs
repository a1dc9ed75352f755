//! The hand-off of a valid stored token to a script (`latchkey token`),
//! without opening the whole core. Scripts call it once per request, so it
//! does the least that answers the common case: the database opened on one
//! connection only if its schema is current (no migrations run, no file
//! created), the profile's rows read, and one keyring lookup whose session is
//! negotiated meanwhile (see `crate::keyring_session`).
//!
//! It only ever answers with a token that [`Latchkey::token`] would have
//! returned as it is. Anything else (no data folder yet, a schema to migrate,
//! no such profile, no token, a token expired or due for renewal, a failed
//! renewal, a keyring error) is declined, and the caller goes the normal way,
//! which renews, migrates, or says what the user must do, as it always did.
//!
//! [`Latchkey::token`]: crate::Latchkey::token

use crate::clock::SharedClock;
use crate::env::Environment;
#[cfg(target_os = "linux")]
use crate::keyring_session::{Lean, SecretServiceSession};
use crate::model::Profile;
use crate::settings::{self, AppSettings};
use crate::store::Store;
use crate::tokens::{self as tok, TokenMeta, TokenStatus};
use crate::vault::{Secret, SecretKey};
use time::Duration;

/// The profile named `name` and its primary token, if the token is stored,
/// unexpired and needs nothing done before use; `None` otherwise (the caller
/// then asks [`crate::Latchkey::token`]). Reads the OS keyring of `env`.
pub async fn valid_token(
    env: &Environment,
    clock: &SharedClock,
    name: &str,
) -> Option<(Profile, Secret)> {
    // The keyring session does not depend on the profile: it is negotiated
    // while the database is read, and the entry is searched for the moment
    // the profile's row names it (see `SecretServiceSession::get_once`).
    #[cfg(target_os = "linux")]
    let (key_sender, key_receiver) = tokio::sync::oneshot::channel::<SecretKey>();
    #[cfg(target_os = "linux")]
    let lookup = {
        let service = env.keyring_service.clone();
        tokio::task::spawn_blocking(move || {
            SecretServiceSession::get_once(&service, || key_receiver.blocking_recv().ok())
        })
    };
    let store = Store::open_current(&env.data_dir).await.ok()??;
    let Some((profile, token)) = stored_token(&store, name).await else {
        store.close().await;
        return None;
    };
    let key = SecretKey::new(profile.id, token.kind.slot());
    // The entry is searched for now; whether the token may be handed out is
    // read meanwhile. A secret read for a token that may not is dropped.
    #[cfg(target_os = "linux")]
    let _ = key_sender.send(key);
    let may_hand_out = hands_out(&store, clock, &profile, &token).await;
    // Closing the database checkpoints its WAL and removes the WAL files:
    // done while the keyring answers, not before it is asked.
    let (_, secret) = tokio::join!(store.close(), async {
        if !may_hand_out {
            return None;
        }
        #[cfg(target_os = "linux")]
        {
            match lookup.await.ok()? {
                Lean::Sure(Some(secret)) => Some(secret),
                // Missing from the keyring, or a case the keyring crate handles.
                Lean::Sure(None) | Lean::Unsure => None,
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let vault = crate::vault::Vault::keyring(&env.keyring_service);
            vault.get(key).await.ok()?
        }
    });
    Some((profile, secret?))
}

/// The profile named `name` and its primary token, if both are stored.
async fn stored_token(store: &Store, name: &str) -> Option<(Profile, TokenMeta)> {
    let profile = store.profile_by_name(name).await.ok()??;
    let token = store.primary_token(profile.id).await.ok()??;
    Some((profile, token))
}

/// Whether the token's metadata says it can be handed out as it is.
async fn hands_out(
    store: &Store,
    clock: &SharedClock,
    profile: &Profile,
    token: &TokenMeta,
) -> bool {
    let Ok(renewal) = store.renewal(profile.id).await else {
        return false;
    };
    let settings: AppSettings = match store.setting(settings::KEY).await {
        Ok(Some(json)) => match serde_json::from_str(&json) {
            Ok(settings) => settings,
            Err(_) => return false,
        },
        Ok(None) => AppSettings::default(),
        Err(_) => return false,
    };
    let now = clock.now();
    let status = tok::status(
        now,
        Some(token),
        &renewal,
        crate::providers::registry::renewal_policy(profile.login),
        Duration::minutes(i64::from(settings.expiring_minutes)),
    );
    // The statuses in which `Latchkey::token` may renew first, or refuses.
    !(matches!(
        status,
        TokenStatus::RenewDue | TokenStatus::Expired | TokenStatus::Failed
    ) || token.expires_at.is_some_and(|e| now >= e)
        || renewal.refused)
}
