//! The scheduler on a hand-set clock: renewal at its deadline, single-flight
//! under 50 concurrent callers, failures that keep the old token and retry with
//! backoff, a refusal that turns into reminders instead of a retry loop,
//! reminders once per threshold, overdue work after a restart, and one wake-up
//! per deadline. The renewer stands in for a server; the store, vault and
//! scheduler are the real ones.

mod common;
use common::{profile, ProfileInputExt, World};
use latchkey_core::clock::{Clock, ManualClock};
use latchkey_core::model::LoginKind;
use latchkey_core::renewal::{BoxFuture, LifecycleEvent, RenewContext, RenewError, Renewer};
use latchkey_core::tokens::{IssuedToken, TokenKind, TokenStatus};
use latchkey_core::vault::{Secret, SecretKey, SecretSlot};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);
const PERIOD: Duration = Duration::hours(4);

/// A server that renews: hands out `tok-N` valid for PERIOD, or the scripted
/// failures first. With a gate, it waits for the test to open it.
#[derive(Default)]
struct Server {
    calls: AtomicU32,
    failures: Mutex<VecDeque<RenewError>>,
    gate: Option<Arc<tokio::sync::Notify>>,
}

impl Renewer for Server {
    fn renew<'a>(
        &'a self,
        ctx: RenewContext<'a>,
    ) -> BoxFuture<'a, Result<IssuedToken, RenewError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(gate) = &self.gate {
                gate.notified().await;
            }
            if let Some(err) = self.failures.lock().unwrap().pop_front() {
                return Err(err);
            }
            let old = ctx
                .vault
                .get(SecretKey::new(ctx.profile.id, SecretSlot::AccessToken))
                .await
                .unwrap();
            assert!(old.is_some(), "the renewer sees the current token");
            let mut t = IssuedToken::from_token(
                TokenKind::Access,
                Secret::new(format!("tok-{n}")),
                ctx.now,
                None,
            );
            t.expires_at = Some(ctx.now + PERIOD);
            Ok(t)
        })
    }
}

/// The world of [`world`], with the server that renews its tokens.
struct Scheduled {
    w: World,
    server: Arc<Server>,
}

impl std::ops::Deref for Scheduled {
    type Target = World;
    fn deref(&self) -> &World {
        &self.w
    }
}

/// An Avassa-style profile (renews at 75 %) logged in at T0 for PERIOD, and
/// `manual` non-renewable manual tokens expiring at T0 + 1 d.
async fn world(server: Server, manual: usize) -> Scheduled {
    let server = Arc::new(server);
    let w = World::at(T0)
        .with_server_at("edge", "avassa", "https://edge.example")
        .with_renewer(LoginKind::AvassaPassword, server.clone())
        .build()
        .await;
    let alice = profile("edge-alice", "edge", "avassa-password");
    let p = w.add(alice.tenant("acme").username("alice")).await;
    w.issue(&p, "tok-0", T0, PERIOD).await;
    for i in 0..manual {
        let pasted = profile(&format!("manual-{i}"), "edge", "manual-token");
        w.add(pasted.secret(&format!("m-{i}")).expires("1d")).await;
    }
    Scheduled { w, server }
}

async fn token_of(w: &Scheduled, name: &str) -> String {
    w.core
        .valid_token(name)
        .await
        .unwrap()
        .1
        .expose()
        .to_string()
}

#[tokio::test]
async fn a_token_renews_at_75_percent_of_its_period_and_the_new_one_is_stored() {
    let w = world(Server::default(), 0).await;
    assert_eq!(
        w.core.next_deadline().await.unwrap(),
        Some(T0 + Duration::hours(3))
    );
    w.clock.advance(Duration::minutes(179));
    assert!(
        w.core.run_due().await.unwrap().is_empty(),
        "nothing before the deadline"
    );
    w.clock.set(T0 + Duration::hours(3));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::Renewed { profile, .. }] if profile == "edge-alice"),
        "{events:?}"
    );
    assert_eq!(
        token_of(&w, "edge-alice").await,
        "tok-1",
        "the rotated token replaced the old one"
    );
    assert_eq!(
        w.core.next_deadline().await.unwrap(),
        Some(T0 + Duration::hours(6))
    );
    let history = w.core.credential(1).await.unwrap().history;
    assert_eq!(history.last().unwrap().event, "renewed");
}

#[tokio::test]
async fn fifty_concurrent_callers_cause_one_renewal_and_all_get_the_new_token() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let w = world(
        Server {
            gate: Some(gate.clone()),
            ..Default::default()
        },
        0,
    )
    .await;
    w.clock.set(T0 + Duration::hours(3) + Duration::minutes(1));
    let core = Arc::new(w.core.clone());
    let callers: Vec<_> = (0..50)
        .map(|_| {
            let core = core.clone();
            tokio::spawn(async move {
                core.token("edge-alice")
                    .await
                    .map(|(_, t)| t.expose().to_string())
            })
        })
        .collect();
    // Let every caller reach the renewal, then let the server answer.
    while w.server.calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    gate.notify_waiters();
    gate.notify_one();
    for c in callers {
        assert_eq!(c.await.unwrap().unwrap(), "tok-1");
    }
    assert_eq!(
        w.server.calls.load(Ordering::SeqCst),
        1,
        "one renewal for fifty callers"
    );
}

#[tokio::test]
async fn copying_a_token_that_is_due_renews_it_first() {
    let w = world(Server::default(), 0).await;
    let before = token_of(&w, "edge-alice").await;
    w.clock.set(T0 + Duration::hours(3) + Duration::minutes(1));
    let id = w.core.profile_named("edge-alice").await.unwrap().id;
    let copied = w
        .core
        .copy_text(id, latchkey_core::CopyFormat::Token)
        .await
        .unwrap();
    assert_eq!(w.server.calls.load(Ordering::SeqCst), 1, "one renewal");
    assert_ne!(copied.expose(), before, "the renewed token was copied");
    assert_eq!(copied.expose(), token_of(&w, "edge-alice").await);
}

/// A clock whose first reading is `first` and every later one the manual
/// clock's: time that passes between `token`'s look at the status and its
/// read of the token.
#[derive(Debug)]
struct FirstLookEarlier {
    first: Mutex<Option<OffsetDateTime>>,
    then: ManualClock,
}

impl Clock for FirstLookEarlier {
    fn now(&self) -> OffsetDateTime {
        self.first
            .lock()
            .unwrap()
            .take()
            .unwrap_or_else(|| self.then.now())
    }
}

#[tokio::test]
async fn a_token_found_valid_that_expires_before_it_is_read_is_renewed_not_refused() {
    // Seen in the crash test (scripts/crash-test.sh): a token whose renewal
    // time and expiry fall in the same second, looked at just before and
    // read just after that second, made `latchkey token` say "log in again"
    // for a profile that renews by itself.
    let w = world(Server::default(), 0).await;
    w.clock.set(T0 + PERIOD);
    let clock = Arc::new(FirstLookEarlier {
        first: Mutex::new(Some(T0 + Duration::hours(2))),
        then: w.clock.clone(),
    });
    let core = w.open_on(w.vault.clone(), clock).await;
    let (_, token) = core.token("edge-alice").await.unwrap();
    assert_eq!(token.expose(), "tok-1", "renewed, then handed out");
    assert_eq!(w.server.calls.load(Ordering::SeqCst), 1, "one renewal");
}

#[tokio::test]
async fn a_failed_renewal_keeps_the_old_token_retries_with_backoff_and_is_announced_once() {
    let failures = VecDeque::from([
        RenewError::Transient("strongbox sealed".into()),
        RenewError::Transient("strongbox sealed".into()),
    ]);
    let w = world(
        Server {
            failures: Mutex::new(failures),
            ..Default::default()
        },
        0,
    )
    .await;
    w.clock.set(T0 + Duration::hours(3));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::RenewalFailed { first: true, retrying: true, message, .. }] if message == "strongbox sealed"),
        "{events:?}"
    );
    assert_eq!(
        token_of(&w, "edge-alice").await,
        "tok-0",
        "the old token stays"
    );
    let view = w.core.profile_view(1).await.unwrap();
    assert_eq!(view.status, TokenStatus::Failed);
    let retry = w.core.next_deadline().await.unwrap().unwrap() - w.clock.now();
    assert!(
        retry >= Duration::seconds(24) && retry <= Duration::seconds(36),
        "{retry}"
    );

    w.clock.advance(retry);
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(
            &events[..],
            [LifecycleEvent::RenewalFailed { first: false, .. }]
        ),
        "announced once: {events:?}"
    );
    let retry2 = w.core.next_deadline().await.unwrap().unwrap() - w.clock.now();
    assert!(
        retry2 >= Duration::seconds(48) && retry2 <= Duration::seconds(72),
        "doubled: {retry2}"
    );

    w.clock.advance(retry2);
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::Renewed { .. }]),
        "{events:?}"
    );
    assert_eq!(
        w.core.profile_view(1).await.unwrap().status,
        TokenStatus::Valid
    );
    let events: Vec<String> = w
        .core
        .credential(1)
        .await
        .unwrap()
        .history
        .into_iter()
        .map(|h| h.event)
        .collect();
    assert_eq!(
        events,
        ["issued", "renewal-failed", "renewal-failed", "renewed"]
    );
}

#[tokio::test]
async fn a_refused_renewal_stops_retrying_and_reminds_the_user_instead() {
    let failures = VecDeque::from([RenewError::NeedsUser("token reached its max-ttl".into())]);
    let w = world(
        Server {
            failures: Mutex::new(failures),
            ..Default::default()
        },
        0,
    )
    .await;
    w.clock.set(T0 + Duration::hours(3));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(
            &events[..],
            [LifecycleEvent::RenewalFailed {
                retrying: false,
                ..
            }]
        ),
        "{events:?}"
    );
    // The failure notice spoke for the thresholds already crossed (1 d, 1 h):
    // the next word is the 10-minute reminder.
    assert!(w.core.run_due().await.unwrap().is_empty());
    assert_eq!(
        w.core.next_deadline().await.unwrap(),
        Some(T0 + PERIOD - Duration::minutes(10))
    );
    w.clock.set(T0 + PERIOD - Duration::minutes(10));
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(
            &events[..],
            [LifecycleEvent::Reminder {
                minutes_before: 10,
                ..
            }]
        ),
        "{events:?}"
    );
    w.clock.set(T0 + PERIOD);
    let events = w.core.run_due().await.unwrap();
    assert!(
        matches!(
            &events[..],
            [LifecycleEvent::Reminder {
                minutes_before: 0,
                expired: true,
                ..
            }]
        ),
        "{events:?}"
    );
    assert_eq!(
        w.core.next_deadline().await.unwrap(),
        None,
        "nothing left to do"
    );
    assert_eq!(w.server.calls.load(Ordering::SeqCst), 1, "no retry loop");
}

#[tokio::test]
async fn reminders_come_once_per_threshold_and_a_late_start_says_only_the_latest() {
    let w = world(Server::default(), 2).await;
    // manual-0 and manual-1 expire at T0 + 1 d; the 1 d threshold is due now.
    let events = w.core.run_due().await.unwrap();
    let reminders: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                LifecycleEvent::Reminder {
                    minutes_before: 1440,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(reminders.len(), 2, "{events:?}");
    assert!(w.core.run_due().await.unwrap().is_empty(), "said once");
    // The app was closed until 5 minutes before expiry: 60 and 10 are both
    // crossed; only the 10-minute one is said.
    w.clock.set(T0 + Duration::days(1) - Duration::minutes(5));
    let events = w.core.run_due().await.unwrap();
    let minutes: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            LifecycleEvent::Reminder {
                minutes_before,
                profile,
                ..
            } if profile.starts_with("manual") => Some(*minutes_before),
            _ => None,
        })
        .collect();
    assert_eq!(minutes, [10, 10]);
}

#[tokio::test]
async fn overdue_renewals_run_on_start() {
    let w = world(Server::default(), 0).await;
    w.core.store().close().await;
    // The app was off past the renewal deadline (but before expiry).
    w.clock.set(T0 + Duration::hours(3) + Duration::minutes(30));
    let core = w.reopen().await;
    assert_eq!(
        core.next_deadline().await.unwrap(),
        Some(w.clock.now()),
        "due at once"
    );
    let events = core.run_due().await.unwrap();
    assert!(
        matches!(&events[..], [LifecycleEvent::Renewed { .. }]),
        "{events:?}"
    );
    assert_eq!(
        core.valid_token("edge-alice").await.unwrap().1.expose(),
        "tok-1"
    );
}

#[tokio::test]
async fn the_scheduler_wakes_once_per_deadline_over_a_simulated_day() {
    let w = world(Server::default(), 3).await;
    let end = T0 + Duration::days(1);
    let mut wakeups = 0;
    let mut renewals = 0;
    let mut reminders = 0;
    while let Some(at) = w.core.next_deadline().await.unwrap() {
        if at > end {
            break;
        }
        w.clock.set(at);
        wakeups += 1;
        for e in w.core.run_due().await.unwrap() {
            match e {
                LifecycleEvent::Renewed { .. } => renewals += 1,
                LifecycleEvent::Reminder { .. } => reminders += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    // Renewals every 3 h: at 3, 6, ..., 24 h = 8. The manual tokens share their
    // deadlines (1 d, 1 h, 10 min, 0 before T0 + 1 d): 4 wake-ups, the last at
    // T0 + 1 d together with the 8th renewal.
    assert_eq!(renewals, 8);
    assert_eq!(reminders, 3 * 4);
    assert_eq!(wakeups, 8 + 4 - 1, "one wake-up per distinct deadline");
}
