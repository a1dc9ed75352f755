//! What the window's first screen shows, decided here so that the shell can
//! send a screenful of profiles before all of them (issue 13: at 10,000
//! profiles the page used to receive, parse and sort 3.5 MB of JSON before
//! it drew anything). The order is the timeline's, the window's first view
//! beyond a handful of profiles: what needs the user now first (expiring,
//! expired, failed renewal), then the other tokens by expiry, soonest first,
//! then tokens without an expiry, then profiles without a token; ties by
//! name. The page sorts the same way (`timelineOrder` in
//! ui/src/lib/timeline.ts) once the whole list has come, so what the first
//! screen shows and what stays on it are one: both sort one fixture
//! (tests/fixtures/timeline-order.json) in their tests.

use crate::service::ProfileView;
use std::cmp::Ordering;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A profile's place on the timeline, computed once per profile.
struct TimelineKey {
    rank: u8,
    /// Milliseconds since the epoch, as the page's `Date.parse` reads it;
    /// `i64::MAX` for none (or one that does not parse).
    expiry_ms: i64,
}

fn key(p: &ProfileView) -> TimelineKey {
    let rank = if p.status.needs_attention() {
        0
    } else if p.status == crate::tokens::TokenStatus::None {
        3
    } else if p.expires_at.is_none() {
        2
    } else {
        1
    };
    let expiry_ms = p
        .expires_at
        .as_deref()
        .and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok())
        .map_or(i64::MAX, |e| {
            (e.unix_timestamp_nanos().div_euclid(1_000_000)) as i64
        });
    TimelineKey { rank, expiry_ms }
}

/// Names compare as the page's `<` does: by UTF-16 code units.
fn by_name(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn compare(a: &(TimelineKey, ProfileView), b: &(TimelineKey, ProfileView)) -> Ordering {
    a.0.rank
        .cmp(&b.0.rank)
        .then(a.0.expiry_ms.cmp(&b.0.expiry_ms))
        .then_with(|| by_name(&a.1.name, &b.1.name))
}

/// The first `count` profiles of the timeline, in its order, and how many
/// profiles there are in all. Holds at most twice `count` views at a time,
/// however many `views` yields.
pub fn first_of_timeline(
    views: impl IntoIterator<Item = ProfileView>,
    count: usize,
) -> (Vec<ProfileView>, usize) {
    let mut kept: Vec<(TimelineKey, ProfileView)> = Vec::new();
    let mut total = 0;
    for view in views {
        total += 1;
        if count == 0 {
            continue;
        }
        kept.push((key(&view), view));
        if kept.len() >= 2 * count {
            kept.select_nth_unstable_by(count - 1, compare);
            kept.truncate(count);
        }
    }
    kept.sort_by(compare);
    kept.truncate(count);
    (kept.into_iter().map(|(_, view)| view).collect(), total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LoginKind, ServerKind};
    use crate::tokens::TokenStatus;

    fn view(name: &str, status: TokenStatus, expires_at: Option<&str>) -> ProfileView {
        ProfileView {
            id: name.len() as i64,
            name: name.to_string(),
            server: "s".into(),
            server_kind: ServerKind::Avassa,
            tenant: None,
            login: LoginKind::AvassaPassword,
            settings: Default::default(),
            label: None,
            status,
            status_label: status.label().to_string(),
            issued_at: None,
            expires_at: expires_at.map(str::to_string),
            renew_due_at: None,
            renewable: false,
            waiting: false,
            renewal_failed_at: None,
        }
    }

    fn names(views: &[ProfileView]) -> Vec<&str> {
        views.iter().map(|v| v.name.as_str()).collect()
    }

    #[test]
    fn what_needs_the_user_comes_first_then_by_expiry_then_no_expiry_then_no_token() {
        let views = vec![
            view("none", TokenStatus::None, None),
            view("later", TokenStatus::Valid, Some("2030-01-02T00:00:00Z")),
            view("unknown", TokenStatus::Unknown, None),
            view(
                "expired",
                TokenStatus::Expired,
                Some("2020-01-01T00:00:00Z"),
            ),
            view("sooner", TokenStatus::Valid, Some("2030-01-01T00:00:00Z")),
            view("failed", TokenStatus::Failed, Some("2031-01-01T00:00:00Z")),
            view(
                "expiring",
                TokenStatus::Expiring,
                Some("2026-01-01T00:00:00Z"),
            ),
        ];
        let (first, total) = first_of_timeline(views, 10);
        assert_eq!(total, 7);
        assert_eq!(
            names(&first),
            ["expired", "expiring", "failed", "sooner", "later", "unknown", "none"]
        );
    }

    #[test]
    fn equal_expiries_go_by_name_as_the_page_compares_them() {
        let at = Some("2030-01-01T00:00:00Z");
        let views = vec![
            view("b", TokenStatus::Valid, at),
            view("B", TokenStatus::Valid, at),
            // U+1F600 (a surrogate pair, 0xD83D first) sorts before U+FF21
            // in UTF-16 but after it in UTF-8: the page's order is UTF-16's.
            view("\u{1F600}", TokenStatus::Valid, at),
            view("\u{FF21}", TokenStatus::Valid, at),
            view("a", TokenStatus::Valid, at),
        ];
        let (first, _) = first_of_timeline(views, 5);
        assert_eq!(names(&first), ["B", "a", "b", "\u{1F600}", "\u{FF21}"]);
    }

    #[test]
    fn only_the_first_count_of_many_are_kept_and_all_are_counted() {
        let views = (0..1000).rev().map(|i| {
            let at = format!("2030-01-01T{:02}:{:02}:00Z", i / 60, i % 60);
            view(&format!("p{i:04}"), TokenStatus::Valid, Some(&at))
        });
        let (first, total) = first_of_timeline(views, 3);
        assert_eq!(total, 1000);
        assert_eq!(names(&first), ["p0000", "p0001", "p0002"]);
        let (none, total) = first_of_timeline(Vec::new(), 3);
        assert!(none.is_empty());
        assert_eq!(total, 0);
    }
}
