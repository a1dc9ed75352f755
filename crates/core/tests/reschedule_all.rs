//! `reschedule_all` reads each table once and writes only what moved (it runs
//! at every start of the app, over every profile). It must decide exactly as
//! `reschedule` does profile by profile, for every kind of state a profile can
//! be in, and when the reminder thresholds change.

mod common;
use common::{profile, ProfileInputExt, World};
use latchkey_core::tokens::{IssuedToken, RenewalState, TokenKind};
use latchkey_core::vault::Secret;
use latchkey_core::Latchkey;
use std::collections::HashMap;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

type Deadlines = HashMap<i64, Option<OffsetDateTime>>;

/// Every profile's deadline as `reschedule`, one profile at a time, sets it.
async fn one_by_one(core: &Latchkey) -> Deadlines {
    let ids: Vec<i64> = core
        .store()
        .all_next_at()
        .await
        .unwrap()
        .into_keys()
        .collect();
    let cleared: Vec<(i64, Option<OffsetDateTime>)> = ids.iter().map(|id| (*id, None)).collect();
    core.store().set_next_ats(&cleared).await.unwrap();
    for id in ids {
        core.reschedule(id).await.unwrap();
    }
    core.store().all_next_at().await.unwrap()
}

/// Every profile's deadline as `reschedule_all` sets it, from scrambled ones.
async fn all_at_once(core: &Latchkey) -> Deadlines {
    let scrambled: Vec<(i64, Option<OffsetDateTime>)> = core
        .store()
        .all_next_at()
        .await
        .unwrap()
        .into_keys()
        .map(|id| (id, Some(T0 - Duration::days(id))))
        .collect();
    core.store().set_next_ats(&scrambled).await.unwrap();
    core.reschedule_all().await.unwrap();
    core.store().all_next_at().await.unwrap()
}

/// An Avassa server `edge` with tenant `acme` and an OIDC server `sso`, at `now`.
async fn edge_and_sso(now: OffsetDateTime) -> World {
    World::at(now)
        .with_server_at("edge", "avassa", "https://edge.example")
        .with_server_at("sso", "oidc", "https://sso.example")
        .with_tenant("edge", "acme")
        .build()
        .await
}

#[tokio::test]
async fn all_at_once_decides_as_one_by_one_does() {
    let w = edge_and_sso(T0).await;
    let core = &w.core;

    for i in 0..30i64 {
        // Renewable, with a token due at different times; some failing and
        // retrying, some given up, some refused.
        let ops = profile(&format!("ops-{i}"), "edge", "avassa-password");
        let p = w.add(ops.tenant("acme").username("bob")).await;
        let issued = T0 - Duration::minutes(7 * i);
        let mut t = IssuedToken::from_token(TokenKind::Access, Secret::new("t"), issued, None);
        t.expires_at = Some(issued + Duration::hours(4));
        // Some also hold a refresh token: it never decides the deadline.
        if i % 4 == 0 {
            t.refresh = Some(Secret::new("r"));
        }
        core.record_issued(&p, t, "issued", None).await.unwrap();
        let state = match i % 5 {
            1 => RenewalState {
                last_error: Some("sealed".into()),
                failed_at: Some(T0),
                next_retry_at: Some(T0 + Duration::seconds(30 + i)),
                attempts: 1,
                ..Default::default()
            },
            2 => RenewalState {
                last_error: Some("max TTL".into()),
                reminded: vec![1440],
                ..Default::default()
            },
            3 => RenewalState {
                last_error: Some("invalid_grant".into()),
                refused: true,
                ..Default::default()
            },
            _ => RenewalState::default(),
        };
        core.store().put_renewal(p.id, &state).await.unwrap();

        // Pasted tokens: reminders only, some already said.
        let ci = profile(&format!("ci-{i}"), "sso", "manual-token");
        w.add(ci.secret("m").expires(&format!("{}m", 20 + 37 * i)))
            .await;
        // Never logged in.
        w.add(profile(&format!("dev-{i}"), "sso", "oidc").client_id("cli"))
            .await;
    }
    w.clock.advance(Duration::minutes(45));

    let expected = one_by_one(core).await;
    assert!(expected.values().filter(|at| at.is_some()).count() >= 50);
    assert_eq!(all_at_once(core).await, expected);

    // New thresholds: set_settings reschedules everything.
    let mut settings = core.settings().await.unwrap();
    settings.reminder_minutes = vec![90, 5];
    core.set_settings(&settings).await.unwrap();
    let after = core.store().all_next_at().await.unwrap();
    assert_ne!(after, expected, "the thresholds moved some deadlines");
    assert_eq!(one_by_one(core).await, after);
}

/// `record_issued` writes a token's deadline in the transaction that stores
/// the token: it must be the one `reschedule` computes from what was stored,
/// also when the times have fractions of a second (the store keeps whole
/// seconds, and the deadline rounds up to the next one).
#[tokio::test]
async fn a_recorded_token_gets_the_deadline_reschedule_gives_it() {
    let start = T0 + Duration::milliseconds(437);
    let w = edge_and_sso(start).await;
    let core = &w.core;
    for i in 0..8i64 {
        let ops = profile(&format!("ops-{i}"), "edge", "avassa-password");
        let p = w.add(ops.tenant("acme").username("bob")).await;
        let issued = start - Duration::minutes(7 * i) + Duration::milliseconds(113 * i);
        let mut t = IssuedToken::from_token(TokenKind::Access, Secret::new("t"), issued, None);
        t.expires_at = Some(issued + Duration::hours(4) + Duration::milliseconds(71 * i));
        if i % 2 == 0 {
            t.refresh = Some(Secret::new("r"));
        }
        core.record_issued(&p, t, "issued", None).await.unwrap();
        // Pasted tokens (stored through `record_issued` too): reminders only.
        let ci = profile(&format!("ci-{i}"), "sso", "manual-token");
        w.add(ci.secret("m").expires(&format!("{}m", 20 + 37 * i)))
            .await;
        w.clock.advance(Duration::milliseconds(229));
    }
    let recorded = core.store().all_next_at().await.unwrap();
    assert!(recorded.values().filter(|at| at.is_some()).count() >= 16);
    assert_eq!(one_by_one(core).await, recorded);
}
