//! The scheduler at 10,000 tokens over a simulated day: wake-ups (which must
//! equal the number of distinct deadlines, counted independently here), time
//! per wake-up, and memory. A figure printer, not a test: `cargo bench -p
//! latchkey-core --bench scheduler`.

use latchkey_core::clock::ManualClock;
use latchkey_core::env::Environment;
use latchkey_core::model::{LoginKind, ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::renewal::{BoxFuture, LifecycleEvent, RenewContext, RenewError, Renewer};
use latchkey_core::tokens::{IssuedToken, TokenKind};
use latchkey_core::vault::{Secret, SecretInput, Vault};
use latchkey_core::Latchkey;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);
const RENEWABLE: usize = 5_000;
const MANUAL: usize = 5_000;
const PERIOD: Duration = Duration::hours(4);
const THRESHOLDS: [i64; 4] = [1440, 60, 10, 0];

/// Renews with a fixed 4 h period, as an Avassa server would.
struct FixedPeriod;

impl Renewer for FixedPeriod {
    fn renew<'a>(
        &'a self,
        ctx: RenewContext<'a>,
    ) -> BoxFuture<'a, Result<IssuedToken, RenewError>> {
        Box::pin(async move {
            let mut t =
                IssuedToken::from_token(TokenKind::Access, Secret::new("renewed"), ctx.now, None);
            t.expires_at = Some(ctx.now + PERIOD);
            Ok(t)
        })
    }
}

/// A deterministic spread of offsets (an LCG), so every run measures the same.
struct Spread(u64);
impl Spread {
    fn next_secs(&mut self, max: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % max as u64) as i64
    }
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rss_start = rss_kib("VmRSS:");
    let dir = tempfile::tempdir().unwrap();
    let env = Environment {
        data_dir: dir.path().to_path_buf(),
        keyring_service: "unused".into(),
    };
    let clock = ManualClock::new(T0);
    let mut core = Latchkey::open_with(&env, Vault::memory(), Arc::new(clock.clone()))
        .await
        .unwrap();
    core.set_renewer(LoginKind::AvassaPassword, Arc::new(FixedPeriod));
    core.add_server(&ServerInput {
        name: "edge".into(),
        kind: "avassa".into(),
        url: "https://edge.example".into(),
        ca_pem: None,
    })
    .await
    .unwrap();

    let setup = Instant::now();
    let end = T0 + Duration::days(1);
    let mut spread = Spread(42);
    let mut expected = BTreeSet::new();
    for i in 0..RENEWABLE {
        let p = core
            .add_profile(&ProfileInput {
                name: format!("r{i}"),
                server: "edge".into(),
                login: "avassa-password".into(),
                settings: ProfileSettings {
                    username: Some("u".into()),
                    ..Default::default()
                },
                ..Default::default()
            })
            .await
            .unwrap();
        // Logged in at some second of the last 3 h, valid 4 h: first renewal in
        // the next 3 h, then every 3 h.
        let issued = T0 - Duration::seconds(spread.next_secs(3 * 3600));
        let mut t = IssuedToken::from_token(TokenKind::Access, Secret::new("t"), issued, None);
        t.expires_at = Some(issued + PERIOD);
        core.record_issued(&p, t, "issued", None).await.unwrap();
        let mut at = issued + PERIOD * 0.75_f64;
        while at <= end {
            expected.insert(at.max(T0));
            at += PERIOD * 0.75_f64;
        }
    }
    for i in 0..MANUAL {
        let expires = T0 + Duration::seconds(3600 + spread.next_secs(47 * 3600));
        core.add_profile(&ProfileInput {
            name: format!("m{i}"),
            server: "edge".into(),
            login: "manual-token".into(),
            secret: Some(SecretInput(Secret::new("m"))),
            token_expires: Some(latchkey_core::tokens::rfc3339(expires)),
            ..Default::default()
        })
        .await
        .unwrap();
        let mut crossed_at_start = false;
        for m in THRESHOLDS {
            let at = expires - Duration::minutes(m);
            if at <= T0 {
                crossed_at_start = true;
            } else if at <= end {
                expected.insert(at);
            }
        }
        if crossed_at_start {
            expected.insert(T0);
        }
    }
    let setup = setup.elapsed();
    let rss_loaded = rss_kib("VmRSS:");

    let mut wakeups = 0u64;
    let (mut renewed, mut reminded) = (0u64, 0u64);
    let mut slowest = std::time::Duration::ZERO;
    let day = Instant::now();
    while let Some(at) = core.next_deadline().await.unwrap() {
        if at > end {
            break;
        }
        clock.set(at);
        wakeups += 1;
        let one = Instant::now();
        for e in core.run_due().await.unwrap() {
            match e {
                LifecycleEvent::Renewed { .. } => renewed += 1,
                LifecycleEvent::Reminder { .. } => reminded += 1,
                LifecycleEvent::RenewalFailed { .. } => panic!("no failures here"),
            }
        }
        slowest = slowest.max(one.elapsed());
    }
    let day = day.elapsed();

    println!("scheduler bench: {RENEWABLE} renewable + {MANUAL} manual tokens, one simulated day");
    println!(
        "  setup (profiles + tokens written): {:.1} s",
        setup.as_secs_f64()
    );
    println!(
        "  distinct deadlines in the day (counted independently): {}",
        expected.len()
    );
    println!("  wake-ups: {wakeups}");
    println!("  renewals: {renewed}, reminders: {reminded}");
    println!(
        "  time for the day: {:.1} s, {:.2} ms per wake-up on average, slowest {:.1} ms",
        day.as_secs_f64(),
        day.as_secs_f64() * 1000.0 / wakeups.max(1) as f64,
        slowest.as_secs_f64() * 1000.0
    );
    println!(
        "  memory: RSS {} MiB at start, {} MiB with 10,000 tokens loaded, peak {} MiB",
        rss_start / 1024,
        rss_loaded / 1024,
        rss_kib("VmHWM:") / 1024
    );
    if wakeups as usize != expected.len() {
        eprintln!("MISMATCH: wake-ups differ from the number of deadlines");
        std::process::exit(1);
    }
}
