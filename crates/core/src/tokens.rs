//! The token lifecycle: what is known about a profile's token (never the token
//! itself, which is in the vault), where it stands ([`TokenStatus`]), and when
//! it is due for renewal under its login kind's [`RenewalPolicy`].
//!
//! Everything here is a pure function of the metadata and "now", so every
//! transition is tested with a hand-set clock.

pub use crate::model::{RenewalState, TokenKind, TokenMeta};
use serde::Serialize;
use std::sync::atomic::AtomicU64;
use time::{Duration, OffsetDateTime};

/// Where a profile's credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStatus {
    /// No credential yet: the user has not logged in.
    None,
    Valid,
    /// Renewable, and past the moment its policy renews it.
    RenewDue,
    /// Expires within the user's "expiring" threshold.
    Expiring,
    Expired,
    /// A credential whose expiry is unknown (or that never expires).
    Unknown,
    /// The last renewal failed; the old token is kept while it lasts.
    Failed,
}

impl TokenStatus {
    /// Short text for menus and lists.
    pub fn label(self) -> &'static str {
        match self {
            TokenStatus::None => "not logged in",
            TokenStatus::Valid => "valid",
            TokenStatus::RenewDue => "renewal due",
            TokenStatus::Expiring => "expiring",
            TokenStatus::Expired => "expired",
            TokenStatus::Unknown => "no expiry known",
            TokenStatus::Failed => "renewal failed",
        }
    }

    /// Whether the user should look at it (tray counter, tooltip).
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            TokenStatus::Expiring | TokenStatus::Expired | TokenStatus::Failed
        )
    }
}

/// When a login kind's token is renewed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RenewalPolicy {
    /// It cannot be renewed without the user (manual tokens, Quay OAuth tokens,
    /// Kontinuous JWTs).
    Never,
    /// At this fraction of the token's current period (Avassa: 0.75).
    AtFraction(f64),
    /// This long before expiry, or at 80 % of a shorter period (OAuth refresh).
    Before(Duration),
}

impl RenewalPolicy {
    pub fn renews(self) -> bool {
        !matches!(self, RenewalPolicy::Never)
    }

    /// When a token valid from `from` until `until` is due for renewal.
    pub fn due_at(
        self,
        from: OffsetDateTime,
        until: Option<OffsetDateTime>,
    ) -> Option<OffsetDateTime> {
        let until = until?;
        let period = until - from;
        match self {
            RenewalPolicy::Never => None,
            RenewalPolicy::AtFraction(f) => Some(from + period * f),
            RenewalPolicy::Before(margin) => {
                let by_margin = until - margin;
                let by_fraction = from + period * 0.8;
                Some(by_margin.max(by_fraction))
            }
        }
    }
}

/// Where a profile's primary token stands at `now`.
///
/// `expiring_within` is the user's threshold for "expiring"; a renewable token
/// is "renew-due" rather than "expiring" until it has actually failed to renew.
pub fn status(
    now: OffsetDateTime,
    token: Option<&TokenMeta>,
    renewal: &RenewalState,
    policy: RenewalPolicy,
    expiring_within: Duration,
) -> TokenStatus {
    let Some(token) = token else {
        return TokenStatus::None;
    };
    let expired = token.expires_at.is_some_and(|e| now >= e);
    if expired {
        return TokenStatus::Expired;
    }
    if renewal.last_error.is_some() {
        return TokenStatus::Failed;
    }
    let Some(expires_at) = token.expires_at else {
        return TokenStatus::Unknown;
    };
    if policy.renews() && token.renew_due_at.is_some_and(|d| now >= d) {
        return TokenStatus::RenewDue;
    }
    if !policy.renews() && expires_at - now <= expiring_within {
        return TokenStatus::Expiring;
    }
    TokenStatus::Valid
}

/// A token as a login or renewal hands it over: the secrets for the vault and
/// what is known about them for the store. Every token a server returns is kept
/// (a rotated refresh token lost is a forced re-login).
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub kind: TokenKind,
    pub token: crate::vault::Secret,
    pub issued_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
    pub scopes: Vec<String>,
    pub refresh: Option<crate::vault::Secret>,
    pub id_token: Option<crate::vault::Secret>,
    /// Non-secret facts worth showing (who the token belongs to, tenant, ...).
    pub summary: serde_json::Map<String, serde_json::Value>,
}

/// The summary entries that say whose a token is, which a renewal keeps
/// when its answer does not repeat them.
pub const IDENTITY_CLAIMS: &[&str] = &[
    "sub",
    "login",
    "user_id",
    "user",
    "name",
    "email",
    "preferred_username",
    "tenant",
];

/// Claims copied into a token's summary when it is a JWT: who and what, never
/// anything that carries a credential.
const SUMMARY_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "azp",
    "user_id",
    "name",
    "email",
    "preferred_username",
    "scope",
    "tenant",
];

impl IssuedToken {
    /// A token pasted or returned as it is: when it is a JWT, its `iat`, `exp`
    /// and identifying claims fill in what the caller did not know.
    pub fn from_token(
        kind: TokenKind,
        token: crate::vault::Secret,
        now: OffsetDateTime,
        expires_hint: Option<OffsetDateTime>,
    ) -> Self {
        let mut issued = IssuedToken {
            kind,
            issued_at: Some(now),
            expires_at: expires_hint,
            scopes: Vec::new(),
            refresh: None,
            id_token: None,
            summary: Default::default(),
            token,
        };
        if let Ok(decoded) = crate::jwt::decode(issued.token.expose()) {
            let at = |v: Option<i64>| v.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok());
            if let Some(exp) = at(decoded.exp) {
                issued.expires_at = Some(exp);
            }
            if let Some(iat) = at(decoded.iat) {
                issued.issued_at = Some(iat);
            }
            if let Some(claims) = decoded.claims.as_object() {
                for name in SUMMARY_CLAIMS {
                    if let Some(v) = claims.get(*name) {
                        issued.summary.insert((*name).to_string(), v.clone());
                    }
                }
                if let Some(scope) = claims.get("scope").and_then(|v| v.as_str()) {
                    issued.scopes = scope.split(' ').map(str::to_string).collect();
                }
            }
        }
        issued
    }

    /// The metadata the store keeps for the primary token under `policy`.
    pub fn meta(&self, policy: RenewalPolicy, now: OffsetDateTime) -> TokenMeta {
        let from = self.issued_at.unwrap_or(now);
        TokenMeta {
            kind: self.kind,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            renew_due_at: policy.due_at(from, self.expires_at),
            scopes: self.scopes.clone(),
            summary: self.summary.clone(),
        }
    }
}

/// When a token that lives `seconds` from `now` expires, or `None` when that
/// is past what a date can hold (year 9999): a server's absurd lifetime means
/// "does not expire" rather than a panic. A negative lifetime is already over.
pub fn expiry_after(now: OffsetDateTime, seconds: i64) -> Option<OffsetDateTime> {
    now.checked_add(Duration::seconds(seconds))
}

/// [`expiry_after`] for an OAuth `expires_in`, which is unsigned.
pub fn expiry_after_std(
    now: OffsetDateTime,
    lifetime: std::time::Duration,
) -> Option<OffsetDateTime> {
    i64::try_from(lifetime.as_secs())
        .ok()
        .and_then(|seconds| expiry_after(now, seconds))
}

/// Reads an expiry the user typed: RFC 3339 (`2026-12-01T10:00:00Z`) or a
/// duration from now (`90s`, `45m`, `12h`, `30d`).
pub fn parse_expiry(text: &str, now: OffsetDateTime) -> crate::Result<OffsetDateTime> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok(at);
    }
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = digits.parse().map_err(|_| bad_expiry())?;
    let seconds_per = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad_expiry()),
    };
    n.checked_mul(seconds_per)
        .and_then(|seconds| expiry_after(now, seconds))
        .ok_or_else(|| {
            crate::Error::invalid(
                "token_expires",
                format!("{text} from now is past the year 9999: give a nearer expiry, or none if the token does not expire"),
            )
        })
}

fn bad_expiry() -> crate::Error {
    crate::Error::invalid(
        "token_expires",
        "give the expiry as a date and time (2026-12-01T10:00:00Z) or a duration from now (90m, 12h, 30d)",
    )
}

/// "in 2 h 10 m", "in 45 s", "3 d ago": the time left or since, for people.
pub fn relative(now: OffsetDateTime, at: OffsetDateTime) -> String {
    let d = at - now;
    let secs = d.whole_seconds().abs();
    let text = if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} m", secs / 60)
    } else if secs < 86_400 {
        let m = (secs % 3600) / 60;
        if m == 0 {
            format!("{} h", secs / 3600)
        } else {
            format!("{} h {} m", secs / 3600, m)
        }
    } else if secs < 86_400 * 60 {
        format!("{} d", secs / 86_400)
    } else if secs < 86_400 * 730 {
        format!("{} months", secs / (86_400 * 30))
    } else {
        format!("{} years", secs / (86_400 * 365))
    };
    if d.is_negative() {
        format!("{text} ago")
    } else {
        format!("in {text}")
    }
}

/// RFC 3339, UTC, whole seconds.
pub fn rfc3339(at: OffsetDateTime) -> String {
    rfc3339_in(at, &mut [0; RFC3339_MAX]).to_owned()
}

/// Room for any time [`rfc3339_in`] writes (25 bytes at most: whole seconds).
pub const RFC3339_MAX: usize = 64;

/// [`rfc3339`] written into `buffer`, without a string of its own; empty
/// for a time RFC 3339 cannot write (a year before 0).
pub fn rfc3339_in(at: OffsetDateTime, buffer: &mut [u8; RFC3339_MAX]) -> &str {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    let mut cursor = std::io::Cursor::new(&mut buffer[..]);
    match at.format_into(&mut cursor, &time::format_description::well_known::Rfc3339) {
        Ok(length) => std::str::from_utf8(&buffer[..length]).unwrap_or_default(),
        Err(_) => "",
    }
}

/// The single-flight state of one profile's renewals.
#[derive(Default)]
pub struct Flight {
    pub(crate) lock: tokio::sync::Mutex<()>,
    /// Renewals finished so far; a caller that sees it move while waiting
    /// takes the last outcome instead of renewing again.
    pub(crate) finished: AtomicU64,
    pub(crate) last: std::sync::Mutex<Option<LifecycleEvent>>,
}

/// Why a renewal failed, for whoever must decide what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum FailureCause {
    /// Only the user can fix it: log in again, enter an OTP, open the browser.
    NeedsUser,
    /// The server answered with a refusal it may lift (sealed, 5xx, throttled).
    Refused,
    /// The server could not be reached.
    Unreachable,
}

/// What the scheduler did, for the tray, notifications and the window.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum LifecycleEvent {
    Renewed {
        profile_id: i64,
        profile: String,
        expires_at: Option<String>,
    },
    RenewalFailed {
        profile_id: i64,
        profile: String,
        message: String,
        /// The first failure in a row: the one to announce.
        first: bool,
        /// Latchkey will try again by itself.
        retrying: bool,
        cause: FailureCause,
    },
    /// A token that needs the user crosses a reminder threshold.
    Reminder {
        profile_id: i64,
        profile: String,
        tenant: Option<String>,
        expires_at: String,
        /// The threshold crossed, in minutes before expiry (0 = at expiry).
        minutes_before: u32,
        expired: bool,
    },
}

impl LifecycleEvent {
    /// The profile the event is about.
    pub fn profile_id(&self) -> i64 {
        match self {
            LifecycleEvent::Renewed { profile_id, .. }
            | LifecycleEvent::RenewalFailed { profile_id, .. }
            | LifecycleEvent::Reminder { profile_id, .. } => *profile_id,
        }
    }

    /// The desktop notification this event deserves, as (title, body): a
    /// reminder, or the first failure of a renewal. Successful renewals are
    /// silent.
    pub fn notification(&self) -> Option<(String, String)> {
        match self {
            LifecycleEvent::Renewed { .. } => None,
            LifecycleEvent::RenewalFailed { first: false, .. } => None,
            LifecycleEvent::RenewalFailed {
                profile,
                message,
                retrying,
                ..
            } => Some((
                format!("{profile}: renewal failed"),
                if *retrying {
                    format!("{message}. Latchkey keeps the current token and tries again.")
                } else {
                    format!("{message}. Log in again to keep {profile} working.")
                },
            )),
            LifecycleEvent::Reminder {
                profile,
                tenant,
                minutes_before,
                expired,
                ..
            } => {
                let who = match tenant {
                    Some(t) => format!("{profile} ({t})"),
                    None => profile.clone(),
                };
                let title = if *expired {
                    format!("{who} has expired")
                } else {
                    format!("{who} expires in {}", minutes_text(*minutes_before))
                };
                Some((
                    title,
                    "Log in again in Latchkey to keep it working.".to_string(),
                ))
            }
        }
    }
}

fn minutes_text(m: u32) -> String {
    match m {
        m if m >= 1440 && m % 1440 == 0 => {
            format!("{} day{}", m / 1440, if m == 1440 { "" } else { "s" })
        }
        m if m >= 60 && m % 60 == 0 => format!("{} hour{}", m / 60, if m == 60 { "" } else { "s" }),
        m => format!("{m} minute{}", if m == 1 { "" } else { "s" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-05-01 12:00 UTC);

    fn token(expires_in: Option<Duration>, policy: RenewalPolicy) -> TokenMeta {
        let expires_at = expires_in.map(|d| T0 + d);
        TokenMeta {
            kind: TokenKind::Access,
            issued_at: Some(T0),
            expires_at,
            renew_due_at: policy.due_at(T0, expires_at),
            scopes: vec![],
            summary: Default::default(),
        }
    }

    fn at(offset: Duration, t: &TokenMeta, r: &RenewalState, p: RenewalPolicy) -> TokenStatus {
        status(T0 + offset, Some(t), r, p, Duration::hours(1))
    }

    #[test]
    fn no_token_is_none_and_no_expiry_is_unknown() {
        let ok = RenewalState::default();
        assert_eq!(
            status(T0, None, &ok, RenewalPolicy::Never, Duration::hours(1)),
            TokenStatus::None
        );
        let t = token(None, RenewalPolicy::Never);
        assert_eq!(
            at(Duration::days(900), &t, &ok, RenewalPolicy::Never),
            TokenStatus::Unknown
        );
    }

    #[test]
    fn a_non_renewable_token_goes_valid_expiring_expired() {
        let p = RenewalPolicy::Never;
        let ok = RenewalState::default();
        let t = token(Some(Duration::hours(3)), p);
        assert_eq!(t.renew_due_at, None);
        assert_eq!(at(Duration::ZERO, &t, &ok, p), TokenStatus::Valid);
        assert_eq!(at(Duration::minutes(119), &t, &ok, p), TokenStatus::Valid);
        assert_eq!(
            at(Duration::minutes(120), &t, &ok, p),
            TokenStatus::Expiring
        );
        assert_eq!(
            at(Duration::minutes(179), &t, &ok, p),
            TokenStatus::Expiring
        );
        assert_eq!(at(Duration::minutes(180), &t, &ok, p), TokenStatus::Expired);
    }

    #[test]
    fn a_renewable_token_goes_valid_renew_due_failed_expired() {
        let p = RenewalPolicy::AtFraction(0.75);
        let t = token(Some(Duration::hours(4)), p);
        assert_eq!(t.renew_due_at, Some(T0 + Duration::hours(3)));
        let ok = RenewalState::default();
        assert_eq!(at(Duration::minutes(179), &t, &ok, p), TokenStatus::Valid);
        assert_eq!(
            at(Duration::minutes(180), &t, &ok, p),
            TokenStatus::RenewDue
        );
        let failed = RenewalState {
            last_error: Some("refused".into()),
            ..Default::default()
        };
        assert_eq!(
            at(Duration::minutes(200), &t, &failed, p),
            TokenStatus::Failed
        );
        assert_eq!(
            at(Duration::minutes(240), &t, &failed, p),
            TokenStatus::Expired
        );
    }

    #[test]
    fn oauth_policy_renews_five_minutes_early_or_at_80_percent_of_short_tokens() {
        let p = RenewalPolicy::Before(Duration::minutes(5));
        assert_eq!(
            p.due_at(T0, Some(T0 + Duration::hours(1))),
            Some(T0 + Duration::minutes(55))
        );
        assert_eq!(
            p.due_at(T0, Some(T0 + Duration::minutes(5))),
            Some(T0 + Duration::minutes(4))
        );
        assert_eq!(p.due_at(T0, None), None);
    }

    #[test]
    fn expiries_are_dates_or_durations() {
        assert_eq!(parse_expiry("90m", T0).unwrap(), T0 + Duration::minutes(90));
        assert_eq!(parse_expiry(" 30d ", T0).unwrap(), T0 + Duration::days(30));
        assert_eq!(
            parse_expiry("2026-12-01T10:00:00Z", T0).unwrap(),
            datetime!(2026-12-01 10:00 UTC)
        );
        for bad in ["", "soon", "10w", "h"] {
            assert_eq!(
                parse_expiry(bad, T0).unwrap_err().field(),
                Some("token_expires"),
                "{bad}"
            );
        }
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(T0, T0 + Duration::seconds(45)), "in 45 s");
        assert_eq!(relative(T0, T0 + Duration::minutes(130)), "in 2 h 10 m");
        assert_eq!(relative(T0, T0 + Duration::hours(2)), "in 2 h");
        assert_eq!(relative(T0, T0 - Duration::days(3)), "3 d ago");
        assert_eq!(relative(T0, T0 + Duration::days(3653)), "in 10 years");
        assert_eq!(rfc3339(T0), "2026-05-01T12:00:00Z");
    }
}
