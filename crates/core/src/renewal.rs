//! Renewal and reminders: the scheduler's decisions. For every profile it
//! derives the next deadlines from the token's metadata, its renewal state, its
//! login kind's policy and the user's reminder thresholds; [`Latchkey::run_due`]
//! does what is due at "now" and [`Latchkey::next_deadline`] says when to wake
//! next, so the runner sleeps from deadline to deadline and never polls.
//!
//! Renewal is single-flight per profile: any number of callers that find a
//! token due cause one request to the server, and all get its result.
//! A failed renewal keeps the old token, records the server's message, retries
//! with backoff and jitter while the failure is transient, and is announced
//! once, not on every retry.

use crate::error::{Error, Result};
use crate::model::Profile;
pub use crate::providers::{BoxFuture, RenewContext, RenewError, Renewer};
use crate::service::Latchkey;
use crate::tokens::{self as tok, RenewalPolicy, RenewalState, TokenMeta};
pub use crate::tokens::{FailureCause, Flight, LifecycleEvent};
use crate::vault::{ProfileVault, Secret, SecretKey};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// What is due for a profile, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Renew,
    Remind(u32),
}

/// The deadlines of one profile, in no particular order.
pub fn deadlines(
    token: &TokenMeta,
    renewal: &RenewalState,
    policy: RenewalPolicy,
    can_renew: bool,
    thresholds: &[u32],
) -> Vec<(OffsetDateTime, Action)> {
    let mut out = Vec::new();
    let renews = can_renew && policy.renews();
    let gave_up = renewal.last_error.is_some() && renewal.next_retry_at.is_none();
    if renews && !gave_up {
        if let Some(at) = renewal.next_retry_at.or(token.renew_due_at) {
            out.push((at, Action::Renew));
        }
    }
    // Reminders are for tokens that need the user: those nothing renews, and
    // those whose renewal is failing.
    let needs_user = !renews || renewal.last_error.is_some();
    if let (true, Some(expires_at)) = (needs_user, token.expires_at) {
        for t in thresholds {
            if !renewal.reminded.contains(t) {
                out.push((
                    expires_at - Duration::minutes(i64::from(*t)),
                    Action::Remind(*t),
                ));
            }
        }
    }
    out
}

/// The earliest of some deadlines, rounded up to the whole second the store
/// keeps: never wake early.
fn next_at(deadlines: Vec<(OffsetDateTime, Action)>) -> Option<OffsetDateTime> {
    deadlines
        .into_iter()
        .map(|(at, _)| at)
        .min()
        .map(|at| match at.nanosecond() {
            0 => at,
            _ => at.replace_nanosecond(0).unwrap_or(at) + Duration::seconds(1),
        })
}

/// Seconds to wait before retry `attempt` (1, 2, ...): 30 s doubling to 30 min,
/// ± 20 % jitter drawn from `jitter` in [0, 1).
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 30f64 * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
    let capped = base.min(1800.0);
    Duration::milliseconds((capped * (0.8 + 0.4 * jitter) * 1000.0) as i64)
}

impl Latchkey {
    /// Registers the renewer of a login kind (the providers do this at start).
    pub fn set_renewer(&mut self, login: crate::model::LoginKind, renewer: Arc<dyn Renewer>) {
        self.renewers.insert(login, renewer);
    }

    fn can_renew(&self, profile: &Profile) -> bool {
        self.renewers.contains_key(&profile.login)
    }

    /// The deadlines of one profile under the current settings.
    async fn deadlines_of(
        &self,
        profile: &Profile,
        thresholds: &[u32],
    ) -> Result<Vec<(OffsetDateTime, Action)>> {
        let Some(token) = self.store().primary_token(profile.id).await? else {
            return Ok(Vec::new());
        };
        let renewal = self.store().renewal(profile.id).await?;
        Ok(deadlines(
            &token,
            &renewal,
            crate::providers::registry::renewal_policy(profile.login),
            self.can_renew(profile),
            thresholds,
        ))
    }

    /// The deadline [`Latchkey::reschedule`] computes for `profile` when
    /// `token` is its primary token and `renewal` its renewal state.
    pub(crate) fn next_at_of(
        &self,
        profile: &Profile,
        token: &TokenMeta,
        renewal: &RenewalState,
        thresholds: &[u32],
    ) -> Option<OffsetDateTime> {
        next_at(deadlines(
            token,
            renewal,
            crate::providers::registry::renewal_policy(profile.login),
            self.can_renew(profile),
            thresholds,
        ))
    }

    /// Recomputes when a profile next needs the scheduler. Every write that
    /// changes a token or its renewal state calls this.
    pub async fn reschedule(&self, profile_id: i64) -> Result<()> {
        let Some(profile) = self.store().profile(profile_id).await? else {
            return Ok(());
        };
        let thresholds = self.settings().await?.reminder_minutes;
        let next = next_at(self.deadlines_of(&profile, &thresholds).await?);
        self.store().set_next_at(profile_id, next).await?;
        Ok(())
    }

    /// Recomputes every profile's deadline: at start (the renewers registered
    /// decide what renews) and when the reminder thresholds change. Reads each
    /// table once and writes, in one transaction, only the deadlines that
    /// moved: a few queries per profile took seconds at 10,000 profiles, at
    /// every start of the app. Decides as [`Latchkey::reschedule`] does.
    pub async fn reschedule_all(&self) -> Result<()> {
        let thresholds = self.settings().await?.reminder_minutes;
        let profiles: HashMap<i64, Profile> = self
            .store()
            .profiles()
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        // The primary token as `Store::primary_token` picks it: the first in
        // the table's key order that is neither a refresh nor an ID token.
        let mut tokens: HashMap<i64, Vec<TokenMeta>> = HashMap::new();
        for (profile_id, meta) in self.store().all_tokens().await? {
            tokens.entry(profile_id).or_default().push(meta);
        }
        let current = self.store().all_next_at().await?;
        let mut moved = Vec::new();
        for (profile_id, renewal) in self.store().all_renewals().await? {
            let Some(profile) = profiles.get(&profile_id) else {
                continue;
            };
            let primary = tokens.get_mut(&profile_id).and_then(|metas| {
                metas.sort_by(|a, b| a.kind.as_str().cmp(b.kind.as_str()));
                metas
                    .iter()
                    .find(|t| !matches!(t.kind, tok::TokenKind::Refresh | tok::TokenKind::Id))
            });
            let next = next_at(match primary {
                Some(token) => deadlines(
                    token,
                    &renewal,
                    crate::providers::registry::renewal_policy(profile.login),
                    self.can_renew(profile),
                    &thresholds,
                ),
                None => Vec::new(),
            });
            if current.get(&profile_id) != Some(&next) {
                moved.push((profile_id, next));
            }
        }
        self.store().set_next_ats(&moved).await?;
        Ok(())
    }

    /// When the scheduler must next wake, if anything is scheduled at all. An
    /// overdue deadline (the app was closed) is due now.
    pub async fn next_deadline(&self) -> Result<Option<OffsetDateTime>> {
        let now = self.clock().now();
        Ok(self.store().min_next_at().await?.map(|at| at.max(now)))
    }

    /// Does everything due now: renewals, retries, reminders. Only the
    /// profiles whose deadline has come are read.
    pub async fn run_due(&self) -> Result<Vec<LifecycleEvent>> {
        let now = self.clock().now();
        let due_ids = self.store().due_profiles(now).await?;
        if due_ids.is_empty() {
            return Ok(Vec::new());
        }
        let thresholds = self.settings().await?.reminder_minutes;
        let mut events = Vec::new();
        for id in due_ids {
            let Some(p) = self.store().profile(id).await? else {
                continue;
            };
            let due: Vec<Action> = self
                .deadlines_of(&p, &thresholds)
                .await?
                .into_iter()
                .filter(|(at, _)| *at <= now)
                .map(|(_, a)| a)
                .collect();
            if due.contains(&Action::Renew) {
                events.push(self.renew_profile(p.id, false).await?);
            }
            let crossed: Vec<u32> = due
                .iter()
                .filter_map(|a| match a {
                    Action::Remind(t) => Some(*t),
                    Action::Renew => None,
                })
                .collect();
            let expires_at = self
                .store()
                .primary_token(p.id)
                .await?
                .and_then(|t| t.expires_at);
            if let (Some(smallest), Some(expires_at)) = (crossed.iter().min(), expires_at) {
                // Several thresholds crossed at once (the app was closed): say
                // the latest one only, and mark them all as said.
                let mut state = self.store().renewal(p.id).await?;
                state.reminded.extend(crossed.iter().copied());
                state.reminded.sort_unstable();
                state.reminded.dedup();
                self.store().put_renewal(p.id, &state).await?;
                let tenant = match p.tenant_id {
                    Some(t) => self.store().tenant(t).await?.map(|x| x.name),
                    None => None,
                };
                events.push(LifecycleEvent::Reminder {
                    profile_id: p.id,
                    profile: p.name.clone(),
                    tenant,
                    expires_at: tok::rfc3339(expires_at),
                    minutes_before: *smallest,
                    expired: now >= expires_at,
                });
            }
            self.reschedule(p.id).await?;
        }
        Ok(events)
    }

    fn flight(&self, profile_id: i64) -> Arc<Flight> {
        let mut flights = self.flights.lock().expect("flights lock");
        Arc::clone(flights.entry(profile_id).or_default())
    }

    /// Renews a profile's token, single-flight within this process and
    /// across processes: a caller that waited for another's renewal in this
    /// process gets that result instead of renewing again; one that waited
    /// for another process's renewal (the profile's [`crate::renewal_lock`])
    /// reads the token again once it holds the lock. Unless `force` (the
    /// user's "Renew now"), a token found no longer due then is left alone.
    pub async fn renew_profile(&self, profile_id: i64, force: bool) -> Result<LifecycleEvent> {
        let flight = self.flight(profile_id);
        let seen = flight.finished.load(Ordering::SeqCst);
        let _guard = flight.lock.lock().await;
        // Another caller's renewal finished while we waited: its outcome is ours.
        if flight.finished.load(Ordering::SeqCst) != seen {
            if let Some(outcome) = flight.last.lock().expect("flight lock").clone() {
                return Ok(outcome);
            }
        }
        let data_dir = self.store().data_dir();
        let held = crate::renewal_lock::acquire(&data_dir, profile_id, crate::renewal_lock::WAIT)
            .await
            .map_err(|e| {
                Error::from(crate::store::StoreError::DataDir {
                    path: crate::renewal_lock::path(&data_dir, profile_id),
                    source: e,
                })
            })?;
        let Some(_held) = held else {
            // Another process has been renewing for longer than a renewal can
            // take; the caller keeps the current token while it lasts.
            let name = self
                .store()
                .profile(profile_id)
                .await?
                .map_or_else(|| format!("profile {profile_id}"), |p| p.name);
            return Ok(LifecycleEvent::RenewalFailed {
                profile_id,
                message: format!(
                    "another Latchkey process has been renewing {name} for over {} s and has not finished; Latchkey keeps the current token, try again later",
                    crate::renewal_lock::WAIT.as_secs()
                ),
                profile: name,
                first: false,
                retrying: true,
                cause: FailureCause::Refused,
            });
        };
        let outcome = self.renew_once(profile_id, force).await;
        if let Ok(event) = &outcome {
            *flight.last.lock().expect("flight lock") = Some(event.clone());
        }
        flight.finished.fetch_add(1, Ordering::SeqCst);
        outcome
    }

    async fn renew_once(&self, profile_id: i64, force: bool) -> Result<LifecycleEvent> {
        let profile = self
            .store()
            .profile(profile_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no profile with id {profile_id}")))?;
        let current = self.store().primary_token(profile_id).await?;
        let now = self.clock().now();
        if !force {
            let state = self.store().renewal(profile_id).await?;
            let retry_due = state.next_retry_at.is_some_and(|at| at <= now);
            let renew_due = current.as_ref().is_some_and(|t| {
                t.renew_due_at.is_some_and(|at| at <= now)
                    || t.expires_at.is_some_and(|at| at <= now)
            });
            // After a failure, only the backoff's retry time counts: a script
            // asking every second must not hammer a failing server.
            let due = if state.last_error.is_some() {
                retry_due
            } else {
                renew_due
            };
            if !due {
                return Ok(LifecycleEvent::Renewed {
                    profile_id,
                    profile: profile.name,
                    expires_at: current.and_then(|t| t.expires_at).map(tok::rfc3339),
                });
            }
        }
        let Some(renewer) = self.renewers.get(&profile.login).cloned() else {
            return Err(Error::LoginRequired(format!(
                "{} tokens cannot be renewed without you: log in again",
                profile.login
            )));
        };
        let (server, tenant) = self.server_and_tenant(&profile).await?;
        let result = renewer
            .renew(RenewContext {
                profile: &profile,
                server: &server,
                tenant: tenant.as_deref(),
                vault: ProfileVault::new(self.vault(), profile.id),
                redirects: self.redirects(),
                now,
                borrowed: self.borrowed_token(&profile).await.ok().flatten(),
            })
            .await;
        match result {
            Ok(mut issued) => {
                // A renewal is the same identity: what the old token said
                // about whose it is stays when the new answer does not repeat
                // it (GitHub's refresh is stored before asking GitHub whose
                // token it is, so nothing comes between the answer and the
                // keyring).
                if let Some(old) = &current {
                    for name in tok::IDENTITY_CLAIMS {
                        if let (false, Some(v)) =
                            (issued.summary.contains_key(*name), old.summary.get(*name))
                        {
                            issued.summary.insert((*name).to_string(), v.clone());
                        }
                    }
                }
                let expires_at = issued.expires_at.map(tok::rfc3339);
                self.record_issued(&profile, issued, "renewed", None)
                    .await?;
                Ok(LifecycleEvent::Renewed {
                    profile_id,
                    profile: profile.name,
                    expires_at,
                })
            }
            Err(err) => {
                let mut state = self.store().renewal(profile_id).await?;
                state.attempts += 1;
                if state.attempts == 1 {
                    // The failure notice speaks for the reminder thresholds
                    // already crossed; later ones still come.
                    if let Some(exp) = current.as_ref().and_then(|t| t.expires_at) {
                        for t in self.settings().await?.reminder_minutes {
                            if exp - Duration::minutes(i64::from(t)) <= now
                                && !state.reminded.contains(&t)
                            {
                                state.reminded.push(t);
                            }
                        }
                    }
                }
                state.failed_at = Some(now);
                state.last_error = Some(err.to_string());
                state.refused = matches!(err, RenewError::Refused(_));
                let retrying = matches!(err, RenewError::Transient(_) | RenewError::Unreachable(_));
                state.next_retry_at = retrying.then(|| {
                    let at = now + backoff(state.attempts, rand::random::<f64>());
                    // No point retrying after it expired: renew just before.
                    match current.as_ref().and_then(|t| t.expires_at) {
                        Some(exp) if at >= exp && exp > now => now + (exp - now) / 2,
                        _ => at,
                    }
                });
                self.store().put_renewal(profile_id, &state).await?;
                self.reschedule(profile_id).await?;
                self.store()
                    .add_history(profile_id, now, "renewal-failed", Some(&err.to_string()))
                    .await?;
                Ok(LifecycleEvent::RenewalFailed {
                    profile_id,
                    profile: profile.name,
                    message: err.to_string(),
                    first: state.attempts == 1,
                    retrying,
                    cause: err.cause(),
                })
            }
        }
    }

    /// Renews a profile now, whatever its deadline ("Renew now", `latchkey
    /// renew`), through the same single-flight path as the scheduler. Returns
    /// the new expiry (RFC 3339), if the token has one. A failure keeps the old
    /// token and comes back as the error that says what to do: log in again,
    /// the server refused, or it could not be reached.
    pub async fn renew_now(&self, name: &str) -> Result<Option<String>> {
        let profile = self.profile_named(name).await?;
        match self.renew_profile(profile.id, true).await? {
            LifecycleEvent::Renewed { expires_at, .. } => Ok(expires_at),
            LifecycleEvent::RenewalFailed { message, cause, .. } => Err(match cause {
                FailureCause::NeedsUser => {
                    Error::LoginRequired(format!("{message}; log in with `latchkey login {name}`"))
                }
                FailureCause::Refused => Error::ServerRefused {
                    status: None,
                    field: None,
                    message: format!("{message} (the current token is kept; try again later)"),
                },
                FailureCause::Unreachable => Error::Unreachable(format!(
                    "{message} (the current token is kept; check the network and try again)"
                )),
            }),
            LifecycleEvent::Reminder { .. } => {
                Err(Error::Internal("a renewal answered with a reminder".into()))
            }
        }
    }

    /// A valid token for a profile, renewed first when it is due and a renewer
    /// can; if the renewal fails, the old token serves while it lasts, unless
    /// the server refused the grant it was issued on.
    ///
    /// A token that is not due is read without any lock (metadata first, then
    /// the keyring, see [`Latchkey::record_issued`]); only a due one goes
    /// through [`Latchkey::renew_profile`] and its cross-process lock.
    pub async fn token(&self, name: &str) -> Result<(Profile, Secret)> {
        let profile = self.profile_named(name).await?;
        if !self.can_renew(&profile) {
            return self.valid_token(name).await;
        }
        let due = matches!(
            self.status_of(&profile).await?,
            tok::TokenStatus::RenewDue | tok::TokenStatus::Expired | tok::TokenStatus::Failed
        );
        if due {
            self.renew_for_caller(&profile).await?;
        }
        match self.valid_token(name).await {
            // Found valid, then expired before it was read (a token whose
            // renewal time and expiry fall in the same second): renewed like
            // one found expired.
            Err(Error::LoginRequired(_)) if !due && self.has_expired(profile.id).await? => {
                self.renew_for_caller(&profile).await?;
                self.valid_token(name).await
            }
            other => other,
        }
    }

    /// Renews a profile for [`Latchkey::token`]: a grant the server refused
    /// is the caller's error, not a token to hand out.
    async fn renew_for_caller(&self, profile: &Profile) -> Result<()> {
        self.renew_profile(profile.id, false).await?;
        let state = self.store().renewal(profile.id).await?;
        if state.refused {
            let name = &profile.name;
            return Err(Error::LoginRequired(format!(
                "the server refused to renew '{name}' ({}), so its current token may be refused too: log in again (`latchkey login {name}`)",
                state.last_error.as_deref().unwrap_or("no reason given")
            )));
        }
        Ok(())
    }

    async fn has_expired(&self, profile_id: i64) -> Result<bool> {
        let now = self.clock().now();
        Ok(self
            .store()
            .primary_token(profile_id)
            .await?
            .and_then(|t| t.expires_at)
            .is_some_and(|at| at <= now))
    }

    /// One profile's status, read from its own rows only.
    pub async fn status_of(&self, profile: &Profile) -> Result<tok::TokenStatus> {
        let token = self.store().primary_token(profile.id).await?;
        let renewal = self.store().renewal(profile.id).await?;
        let expiring = Duration::minutes(i64::from(self.settings().await?.expiring_minutes));
        Ok(tok::status(
            self.clock().now(),
            token.as_ref(),
            &renewal,
            crate::providers::registry::renewal_policy(profile.login),
            expiring,
        ))
    }

    /// Reads a secret of a profile (for renewers and providers).
    pub async fn secret(
        &self,
        profile_id: i64,
        slot: crate::vault::SecretSlot,
    ) -> Result<Option<Secret>> {
        Ok(self.vault().get(SecretKey::new(profile_id, slot)).await?)
    }
}

/// Sleeps from deadline to deadline, doing what is due; `wake` cuts a sleep
/// short when data changed. Events go to `emit`. Runs until the task is dropped.
pub async fn run(
    core: Latchkey,
    wake: Arc<tokio::sync::Notify>,
    emit: impl Fn(LifecycleEvent) + Send + 'static,
) {
    if let Err(err) = core.reschedule_all().await {
        eprintln!("latchkey: scheduler: {err}");
    }
    loop {
        match core.run_due().await {
            Ok(events) => events.into_iter().for_each(&emit),
            Err(err) => eprintln!("latchkey: scheduler: {err}"),
        }
        let sleep = match core.next_deadline().await {
            Ok(Some(at)) => (at - core.clock().now()).max(Duration::ZERO),
            // Nothing scheduled: sleep until something changes.
            Ok(None) => Duration::days(365),
            Err(_) => Duration::minutes(1),
        };
        let sleep =
            std::time::Duration::try_from(sleep).unwrap_or(std::time::Duration::from_secs(60));
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = wake.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::TokenKind;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-05-01 12:00 UTC);

    fn meta(expires_in: Duration, policy: RenewalPolicy) -> TokenMeta {
        TokenMeta {
            kind: TokenKind::Access,
            issued_at: Some(T0),
            expires_at: Some(T0 + expires_in),
            renew_due_at: policy.due_at(T0, Some(T0 + expires_in)),
            scopes: vec![],
            summary: Default::default(),
        }
    }

    #[test]
    fn a_renewable_token_has_one_renew_deadline_and_no_reminders() {
        let p = RenewalPolicy::AtFraction(0.75);
        let d = deadlines(
            &meta(Duration::hours(4), p),
            &RenewalState::default(),
            p,
            true,
            &[1440, 60, 10, 0],
        );
        assert_eq!(d, [(T0 + Duration::hours(3), Action::Renew)]);
    }

    #[test]
    fn a_token_that_needs_the_user_has_a_reminder_per_threshold_not_yet_said() {
        let p = RenewalPolicy::Never;
        let state = RenewalState {
            reminded: vec![1440],
            ..Default::default()
        };
        let d = deadlines(
            &meta(Duration::hours(48), p),
            &state,
            p,
            false,
            &[1440, 60, 0],
        );
        let exp = T0 + Duration::hours(48);
        assert_eq!(
            d,
            [
                (exp - Duration::minutes(60), Action::Remind(60)),
                (exp, Action::Remind(0))
            ]
        );
        // Renewable by policy but no renewer registered: it needs the user too.
        let q = RenewalPolicy::AtFraction(0.75);
        let d = deadlines(
            &meta(Duration::hours(2), q),
            &RenewalState::default(),
            q,
            false,
            &[10],
        );
        assert_eq!(d, [(T0 + Duration::minutes(110), Action::Remind(10))]);
    }

    #[test]
    fn a_failing_renewal_retries_at_its_retry_time_and_reminds_and_stops_when_given_up() {
        let p = RenewalPolicy::AtFraction(0.75);
        let m = meta(Duration::hours(4), p);
        let retrying = RenewalState {
            last_error: Some("sealed".into()),
            next_retry_at: Some(T0 + Duration::minutes(181)),
            attempts: 1,
            ..Default::default()
        };
        let d = deadlines(&m, &retrying, p, true, &[10]);
        assert!(d.contains(&(T0 + Duration::minutes(181), Action::Renew)));
        assert!(d.contains(&(T0 + Duration::minutes(230), Action::Remind(10))));
        let gave_up = RenewalState {
            next_retry_at: None,
            ..retrying
        };
        assert_eq!(
            deadlines(&m, &gave_up, p, true, &[10]),
            [(T0 + Duration::minutes(230), Action::Remind(10))]
        );
    }

    fn reminder(tenant: Option<&str>, minutes_before: u32, expired: bool) -> LifecycleEvent {
        LifecycleEvent::Reminder {
            profile_id: 1,
            profile: "prod".into(),
            tenant: tenant.map(Into::into),
            expires_at: "x".into(),
            minutes_before,
            expired,
        }
    }

    fn failed(first: bool, retrying: bool) -> LifecycleEvent {
        LifecycleEvent::RenewalFailed {
            profile_id: 1,
            profile: "prod".into(),
            message: "strongbox sealed".into(),
            first,
            retrying,
            cause: if retrying {
                FailureCause::Refused
            } else {
                FailureCause::NeedsUser
            },
        }
    }

    #[test]
    fn notifications_say_who_and_when_and_stay_quiet_on_success_and_repeats() {
        let title = |e: LifecycleEvent| e.notification().unwrap().0;
        assert_eq!(
            title(reminder(Some("acme"), 60, false)),
            "prod (acme) expires in 1 hour"
        );
        assert_eq!(title(reminder(None, 0, true)), "prod has expired");
        assert_eq!(
            title(reminder(Some("acme"), 1440, false)),
            "prod (acme) expires in 1 day"
        );
        assert_eq!(
            title(reminder(None, 10, false)),
            "prod expires in 10 minutes"
        );
        assert!(failed(true, true)
            .notification()
            .unwrap()
            .1
            .contains("tries again"));
        assert!(failed(true, false)
            .notification()
            .unwrap()
            .1
            .contains("Log in again"));
        assert_eq!(failed(false, true).notification(), None);
        let renewed = LifecycleEvent::Renewed {
            profile_id: 1,
            profile: "prod".into(),
            expires_at: None,
        };
        assert_eq!(renewed.notification(), None);
    }

    #[test]
    fn backoff_doubles_to_thirty_minutes_with_bounded_jitter() {
        assert_eq!(backoff(1, 0.5), Duration::seconds(30));
        assert_eq!(backoff(2, 0.5), Duration::seconds(60));
        assert_eq!(backoff(20, 0.5), Duration::minutes(30));
        assert_eq!(backoff(1, 0.0), Duration::seconds(24));
        assert!(backoff(1, 0.999) < Duration::seconds(36));
    }
}
