//! Pending logins and the redirects that finish them. A login that waits for the
//! browser registers here with a fresh random `state` and a deadline; an incoming
//! redirect (deep link or loopback) is handed to [`RedirectHub::route`], which
//! gives it to the login with the same `state` once, before its deadline, and
//! refuses anything else without changing any state but its own bookkeeping.
//!
//! Completing a login consumes its [`PendingLogin`]: the PKCE verifier and the
//! state cannot be used twice because the value is moved out of the hub.
//!
//! Only a redirect that is right in every way spends its login: one that comes
//! to another address, names another issuer (RFC 9207), carries a parameter
//! twice, or is oversized is refused and the login keeps waiting, so a forged
//! redirect cannot end the user's real one.

use crate::clock::SharedClock;
pub use crate::secret::random_token;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};
use url::Url;

/// How long a login waits for its redirect unless the profile says otherwise.
pub const DEFAULT_LOGIN_DEADLINE: Duration = Duration::minutes(10);

/// How long a spent or expired `state` is remembered, so that a replay is told
/// "already used" rather than "unknown".
const SPENT_MEMORY: Duration = Duration::hours(1);

/// The deep-link URL every browser login returns to.
pub const DEEP_LINK_CALLBACK: &str = "latchkey://callback";

/// The longest redirect URL taken. Codes, states and even a Quay token in the
/// fragment are far shorter; the loopback listener reads no longer a request.
pub const MAX_REDIRECT_LEN: usize = 16 * 1024;

/// A login waiting for the browser to come back.
#[derive(Debug)]
pub struct PendingLogin {
    pub state: String,
    pub profile_id: i64,
    pub deadline: OffsetDateTime,
    /// The redirect URI sent to the provider; the incoming URL must match it.
    pub redirect_uri: String,
    /// The PKCE verifier, if the flow uses one. Never leaves core.
    pub pkce_verifier: Option<crate::vault::Secret>,
    pub nonce: Option<String>,
    /// The issuer the redirect must name if it names one (RFC 9207).
    pub issuer: Option<String>,
}

/// A redirect accepted for a pending login: the login, consumed, and every
/// parameter of the URL's query and fragment.
#[derive(Debug)]
pub struct AcceptedRedirect {
    pub login: PendingLogin,
    pub params: BTreeMap<String, String>,
}

impl AcceptedRedirect {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Why an incoming redirect was refused. The messages are shown as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectRefused {
    #[error("this is not a Latchkey login callback ({0}); nothing was changed")]
    NotACallback(String),
    #[error(
        "the redirect carries no state, so it cannot be matched to a login; nothing was stored"
    )]
    NoState,
    #[error(
        "no login was waiting for this redirect (its state matches none that Latchkey started); \
         nothing was stored. If you started a login, start it again from Latchkey"
    )]
    UnknownState,
    #[error("this redirect was already used to finish a login; nothing was stored again")]
    AlreadyUsed,
    #[error(
        "the login waited too long for the browser (its deadline passed {0}); nothing was stored. \
         Start the login again"
    )]
    Expired(String),
    #[error(
        "this redirect says it comes from {0}, not from the provider the login went to \
         (a mix-up attack, RFC 9207, or a misconfigured issuer); nothing was stored, and the \
         login still waits for its provider's redirect"
    )]
    ForeignIssuer(String),
    #[error("this redirect is malformed ({0}); nothing was stored")]
    Malformed(String),
}

impl From<RedirectRefused> for crate::error::Error {
    fn from(e: RedirectRefused) -> Self {
        crate::error::Error::Redirect(Box::new(e))
    }
}

#[derive(Debug, Clone, Copy)]
enum Spent {
    Used,
    Expired(OffsetDateTime),
}

#[derive(Default)]
struct HubState {
    pending: HashMap<String, PendingLogin>,
    spent: HashMap<String, (Spent, OffsetDateTime)>,
}

/// Routes incoming redirects to the login waiting for them.
pub struct RedirectHub {
    clock: SharedClock,
    state: Mutex<HubState>,
    /// How long a new login waits (the `login_wait_minutes` setting).
    wait_seconds: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for RedirectHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedirectHub").finish_non_exhaustive()
    }
}

impl RedirectHub {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            state: Mutex::new(HubState::default()),
            wait_seconds: std::sync::atomic::AtomicI64::new(DEFAULT_LOGIN_DEADLINE.whole_seconds()),
        }
    }

    /// How long a login started now waits for its redirect.
    pub fn login_wait(&self) -> Duration {
        Duration::seconds(self.wait_seconds.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Sets how long logins started from now on wait; waiting ones keep
    /// their deadline.
    pub fn set_login_wait(&self, wait: Duration) {
        self.wait_seconds.store(
            wait.whole_seconds().max(1),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Registers a login that waits for `redirect_uri`; returns its `state`.
    pub fn begin(
        &self,
        profile_id: i64,
        redirect_uri: &str,
        wait: Duration,
        pkce_verifier: Option<crate::vault::Secret>,
        nonce: Option<String>,
    ) -> String {
        let state = random_token();
        self.begin_with_state(profile_id, redirect_uri, wait, state, pkce_verifier, nonce)
    }

    /// Registers a login whose `state` the server chose (server-mediated
    /// OIDC); it is then routed exactly like one Latchkey started.
    pub fn begin_with_state(
        &self,
        profile_id: i64,
        redirect_uri: &str,
        wait: Duration,
        state: String,
        pkce_verifier: Option<crate::vault::Secret>,
        nonce: Option<String>,
    ) -> String {
        let login = PendingLogin {
            state: state.clone(),
            profile_id,
            deadline: self.clock.now() + wait,
            redirect_uri: redirect_uri.to_string(),
            pkce_verifier,
            nonce,
            issuer: None,
        };
        let mut hub = self.state.lock().expect("hub lock");
        // One browser login per profile at a time: a new one replaces the old.
        hub.pending.retain(|_, p| p.profile_id != profile_id);
        hub.pending.insert(state.clone(), login);
        state
    }

    /// Names the issuer whose redirect the login with `state` waits for: a
    /// redirect whose `iss` names another is refused without spending the
    /// login (RFC 9207: the check comes before the code is used).
    pub fn expect_issuer(&self, state: &str, issuer: &str) {
        let mut hub = self.state.lock().expect("hub lock");
        if let Some(login) = hub.pending.get_mut(state) {
            login.issuer = Some(issuer.to_string());
        }
    }

    /// Gives up a waiting login (the user pressed Cancel).
    pub fn cancel(&self, profile_id: i64) -> bool {
        let mut hub = self.state.lock().expect("hub lock");
        let now = self.clock.now();
        let states: Vec<String> = hub
            .pending
            .iter()
            .filter(|(_, p)| p.profile_id == profile_id)
            .map(|(s, _)| s.clone())
            .collect();
        for s in &states {
            hub.pending.remove(s);
            hub.spent.insert(s.clone(), (Spent::Used, now));
        }
        !states.is_empty()
    }

    /// Profiles with a login waiting for the browser.
    pub fn waiting(&self) -> Vec<i64> {
        let hub = self.state.lock().expect("hub lock");
        let now = self.clock.now();
        let mut ids: Vec<i64> = hub
            .pending
            .values()
            .filter(|p| p.deadline > now)
            .map(|p| p.profile_id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Hands an incoming URL to the login waiting for it, or says why not.
    pub fn route(&self, raw: &str) -> Result<AcceptedRedirect, RedirectRefused> {
        let raw = raw.trim();
        if raw.len() > MAX_REDIRECT_LEN {
            return Err(RedirectRefused::Malformed(format!(
                "{} bytes long, more than any login sends",
                raw.len()
            )));
        }
        let url = Url::parse(raw).map_err(|_| RedirectRefused::NotACallback("not a URL".into()))?;
        if !is_callback(&url) {
            return Err(RedirectRefused::NotACallback(format!(
                "{}://{}{}",
                url.scheme(),
                url.host_str().unwrap_or(""),
                url.path()
            )));
        }
        let params = callback_params(&url)?;
        let state = params
            .get("state")
            .cloned()
            .ok_or(RedirectRefused::NoState)?;

        let now = self.clock.now();
        let mut hub = self.state.lock().expect("hub lock");
        hub.spent.retain(|_, (_, at)| now - *at < SPENT_MEMORY);
        if let Some((spent, _)) = hub.spent.get(&state) {
            return Err(match spent {
                Spent::Used => RedirectRefused::AlreadyUsed,
                Spent::Expired(deadline) => RedirectRefused::Expired(ago(now - *deadline)),
            });
        }
        let Some(login) = hub.pending.remove(&state) else {
            return Err(RedirectRefused::UnknownState);
        };
        if now >= login.deadline {
            hub.spent
                .insert(state, (Spent::Expired(login.deadline), now));
            return Err(RedirectRefused::Expired(ago(now - login.deadline)));
        }
        // From here on a refusal puts the login back: a URL for another
        // endpoint or from another issuer must not burn a valid state.
        let refusal = if !same_endpoint(&url, &login.redirect_uri) {
            Some(RedirectRefused::UnknownState)
        } else {
            match (&login.issuer, params.get("iss")) {
                (Some(expected), Some(named)) if named != expected => {
                    Some(RedirectRefused::ForeignIssuer(shown(named)))
                }
                _ => None,
            }
        };
        if let Some(refused) = refusal {
            hub.pending.insert(state, login);
            return Err(refused);
        }
        hub.spent.insert(state, (Spent::Used, now));
        Ok(AcceptedRedirect { login, params })
    }
}

/// A value from a redirect, short enough to quote in a message.
fn shown(value: &str) -> String {
    let mut text: String = value
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    if value.chars().count() > 100 {
        text.push('…');
    }
    format!("'{text}'")
}

fn ago(d: Duration) -> String {
    let secs = d.whole_seconds().max(0);
    if secs < 90 {
        format!("{secs} s ago")
    } else {
        format!("{} min ago", secs / 60)
    }
}

/// `latchkey://callback…` or a loopback `http://127.0.0.1:<port>/…`.
fn is_callback(url: &Url) -> bool {
    match url.scheme() {
        "latchkey" => url.host_str() == Some("callback"),
        "http" => matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost")),
        _ => false,
    }
}

fn same_endpoint(url: &Url, expected: &str) -> bool {
    let Ok(expected) = Url::parse(expected) else {
        return false;
    };
    url.scheme() == expected.scheme()
        && url.host_str() == expected.host_str()
        && url.port_or_known_default() == expected.port_or_known_default()
        && url.path().trim_end_matches('/') == expected.path().trim_end_matches('/')
}

/// Query parameters, then fragment parameters (Quay returns the token in the
/// fragment and `state` in the query). A parameter given twice is refused
/// (RFC 6749 §3.1: never more than once), in one part or with two values
/// across query and fragment: which one counts would be a guess, and an
/// attacker's appended `state` must not be the one that wins.
fn callback_params(url: &Url) -> Result<BTreeMap<String, String>, RedirectRefused> {
    fn pairs(text: &str) -> Result<BTreeMap<String, String>, RedirectRefused> {
        let mut params = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
            if params.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(RedirectRefused::Malformed(format!(
                    "its parameter {} appears more than once",
                    shown(&k)
                )));
            }
        }
        Ok(params)
    }
    let mut params = pairs(url.query().unwrap_or_default())?;
    for (k, v) in pairs(url.fragment().unwrap_or_default())? {
        match params.get(&k) {
            Some(q) if *q != v => {
                return Err(RedirectRefused::Malformed(format!(
                    "its parameter {} has one value in the query and another in the fragment",
                    shown(&k)
                )))
            }
            Some(_) => {}
            None => {
                params.insert(k, v);
            }
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Arc;
    use time::macros::datetime;

    fn hub() -> (RedirectHub, ManualClock) {
        let clock = ManualClock::new(datetime!(2026-03-01 10:00 UTC));
        (RedirectHub::new(Arc::new(clock.clone())), clock)
    }

    #[test]
    fn matching_state_is_accepted_once_and_consumes_the_login() {
        let (hub, _) = hub();
        let state = hub.begin(7, DEEP_LINK_CALLBACK, DEFAULT_LOGIN_DEADLINE, None, None);
        let url = format!("latchkey://callback?code=abc&state={state}");
        let ok = hub.route(&url).unwrap();
        assert_eq!(ok.login.profile_id, 7);
        assert_eq!(ok.param("code"), Some("abc"));
        assert!(hub.waiting().is_empty());
        assert_eq!(hub.route(&url).unwrap_err(), RedirectRefused::AlreadyUsed);
    }

    #[test]
    fn forged_state_is_refused_and_the_real_login_still_completes() {
        let (hub, _) = hub();
        let state = hub.begin(1, DEEP_LINK_CALLBACK, DEFAULT_LOGIN_DEADLINE, None, None);
        let err = hub
            .route("latchkey://callback?code=x&state=forged")
            .unwrap_err();
        assert_eq!(err, RedirectRefused::UnknownState);
        assert!(err.to_string().contains("no login was waiting"));
        assert_eq!(hub.waiting(), [1]);
        hub.route(&format!("latchkey://callback?code=y&state={state}"))
            .unwrap();
    }

    #[test]
    fn late_redirect_is_refused_as_expired() {
        let (hub, clock) = hub();
        let state = hub.begin(1, DEEP_LINK_CALLBACK, Duration::minutes(10), None, None);
        clock.advance(Duration::minutes(11));
        let url = format!("latchkey://callback?code=x&state={state}");
        let err = hub.route(&url).unwrap_err();
        assert!(matches!(err, RedirectRefused::Expired(_)), "{err}");
        assert!(err.to_string().contains("60 s ago"), "{err}");
        // Asking again says expired, not unknown.
        assert!(matches!(
            hub.route(&url).unwrap_err(),
            RedirectRefused::Expired(_)
        ));
    }

    #[test]
    fn redirect_without_state_or_not_a_callback_is_refused() {
        let (hub, _) = hub();
        hub.begin(1, DEEP_LINK_CALLBACK, DEFAULT_LOGIN_DEADLINE, None, None);
        assert_eq!(
            hub.route("latchkey://callback?code=x").unwrap_err(),
            RedirectRefused::NoState
        );
        assert!(matches!(
            hub.route("https://evil.example/callback?state=x")
                .unwrap_err(),
            RedirectRefused::NotACallback(_)
        ));
        assert!(matches!(
            hub.route("latchkey://other?state=x").unwrap_err(),
            RedirectRefused::NotACallback(_)
        ));
        assert_eq!(hub.waiting(), [1]);
    }

    #[test]
    fn loopback_redirect_must_hit_the_registered_port_and_path() {
        let (hub, _) = hub();
        let state = hub.begin(
            3,
            "http://127.0.0.1:8765/callback",
            DEFAULT_LOGIN_DEADLINE,
            None,
            None,
        );
        let wrong = format!("http://127.0.0.1:9999/callback?state={state}");
        assert_eq!(
            hub.route(&wrong).unwrap_err(),
            RedirectRefused::UnknownState
        );
        let right = format!("http://127.0.0.1:8765/callback?code=c&state={state}");
        assert_eq!(hub.route(&right).unwrap().login.profile_id, 3);
    }

    #[test]
    fn fragment_parameters_are_read_and_a_conflicting_fragment_state_is_refused() {
        let (hub, _) = hub();
        let state = hub.begin(
            4,
            "http://127.0.0.1:1/cb",
            DEFAULT_LOGIN_DEADLINE,
            None,
            None,
        );
        let conflict = format!("http://127.0.0.1:1/cb?state={state}#access_token=tok&state=other");
        let err = hub.route(&conflict).unwrap_err();
        assert!(matches!(err, RedirectRefused::Malformed(_)), "{err}");
        assert!(err.to_string().contains("'state'"), "{err}");
        assert_eq!(hub.waiting(), [4], "the login still waits");
        let url = format!("http://127.0.0.1:1/cb?state={state}#access_token=tok&state={state}");
        let ok = hub.route(&url).unwrap();
        assert_eq!(ok.param("access_token"), Some("tok"));
        assert_eq!(ok.param("state"), Some(state.as_str()));
    }

    #[test]
    fn a_parameter_given_twice_is_refused_whichever_comes_first() {
        let (hub, _) = hub();
        let state = hub.begin(8, DEEP_LINK_CALLBACK, DEFAULT_LOGIN_DEADLINE, None, None);
        for url in [
            format!("latchkey://callback?state={state}&state=evil&code=c"),
            format!("latchkey://callback?state=evil&state={state}&code=c"),
            format!("latchkey://callback?state={state}&state={state}&code=c"),
            format!("latchkey://callback?state={state}&code=c&code=d"),
            format!("latchkey://callback?code=c#state={state}&state=x"),
        ] {
            let err = hub.route(&url).unwrap_err();
            assert!(matches!(err, RedirectRefused::Malformed(_)), "{url}: {err}");
        }
        assert_eq!(hub.waiting(), [8]);
        hub.route(&format!("latchkey://callback?state={state}&code=c"))
            .unwrap();
    }

    #[test]
    fn a_foreign_issuer_is_refused_without_spending_the_login() {
        let (hub, _) = hub();
        let state = hub.begin(9, DEEP_LINK_CALLBACK, DEFAULT_LOGIN_DEADLINE, None, None);
        hub.expect_issuer(&state, "https://id.example");
        let err = hub
            .route(&format!(
                "latchkey://callback?state={state}&code=c&iss=https%3A%2F%2Fevil.example"
            ))
            .unwrap_err();
        assert_eq!(
            err,
            RedirectRefused::ForeignIssuer("'https://evil.example'".into())
        );
        assert!(err.to_string().contains("still waits"), "{err}");
        let ok = hub
            .route(&format!(
                "latchkey://callback?state={state}&code=c&iss=https%3A%2F%2Fid.example"
            ))
            .unwrap();
        assert_eq!(ok.login.issuer.as_deref(), Some("https://id.example"));
    }

    #[test]
    fn an_oversized_redirect_is_refused_before_it_is_read() {
        let (hub, _) = hub();
        let state = hub.begin(2, DEEP_LINK_CALLBACK, DEFAULT_LOGIN_DEADLINE, None, None);
        let huge = format!(
            "latchkey://callback?state={state}&code={}",
            "c".repeat(MAX_REDIRECT_LEN)
        );
        let err = hub.route(&huge).unwrap_err();
        assert!(matches!(err, RedirectRefused::Malformed(_)), "{err}");
        assert_eq!(hub.waiting(), [2]);
    }

    #[test]
    fn a_new_login_replaces_the_old_one_and_cancel_forgets_it() {
        let (hub, _) = hub();
        let first = hub.begin(5, DEEP_LINK_CALLBACK, DEFAULT_LOGIN_DEADLINE, None, None);
        let _second = hub.begin(5, DEEP_LINK_CALLBACK, DEFAULT_LOGIN_DEADLINE, None, None);
        assert_eq!(
            hub.route(&format!("latchkey://callback?state={first}"))
                .unwrap_err(),
            RedirectRefused::UnknownState
        );
        assert!(hub.cancel(5));
        assert!(hub.waiting().is_empty());
        assert!(!hub.cancel(5));
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
    }
}
