//! The hand-off of a valid stored token to a script (`latchkey token`),
//! without opening the whole core. Scripts call it once per request, so it
//! does the least that answers the common case: the database opened on a
//! connection of its own (no pool, no migrations run, no file created), one
//! query that reads the profile, its token, what decides whether the token may
//! be handed out, and whether the schema is this build's, and one keyring
//! lookup whose session is negotiated meanwhile (see
//! `crate::keyring_session`).
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
use crate::store::{HandoffRead, HandoffReader};
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
    // One query, on this thread (a millisecond at most, while the keyring's
    // thread negotiates): the profile, its token, and whether the token may
    // be handed out (its renewal state, the settings).
    let mut reader = HandoffReader::open(&env.data_dir).ok()??;
    let found = match reader.read(name, settings::KEY) {
        Ok(Some(read)) => read
            .token
            .clone()
            .filter(|token| hands_out(clock, &read, token))
            .map(|token| (read.profile, token)),
        Ok(None) | Err(_) => None,
    };
    // Closed before the keyring is waited for; it leaves the WAL's files.
    reader.close();
    let (profile, token) = found?;
    // The entry is searched for now.
    let key = SecretKey::new(profile.id, token.kind.slot());
    #[cfg(target_os = "linux")]
    let _ = key_sender.send(key);
    let secret = async {
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
    }
    .await;
    Some((profile, secret?))
}

/// Whether the token's metadata, its renewal state and the settings say it
/// can be handed out as it is.
fn hands_out(clock: &SharedClock, read: &HandoffRead, token: &TokenMeta) -> bool {
    let settings: AppSettings = match &read.app_settings {
        Some(json) => match serde_json::from_str(json) {
            Ok(settings) => settings,
            Err(_) => return false,
        },
        None => AppSettings::default(),
    };
    let now = clock.now();
    let status = tok::status(
        now,
        Some(token),
        &read.renewal,
        crate::providers::registry::renewal_policy(read.profile.login),
        Duration::minutes(i64::from(settings.expiring_minutes)),
    );
    // The statuses in which `Latchkey::token` may renew first, or refuses.
    !(matches!(
        status,
        TokenStatus::RenewDue | TokenStatus::Expired | TokenStatus::Failed
    ) || token.expires_at.is_some_and(|e| now >= e)
        || read.renewal.refused)
}
