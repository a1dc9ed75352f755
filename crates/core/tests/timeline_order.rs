//! The window's first screen is picked in Rust (`screen::first_of_timeline`)
//! and the whole list is sorted again in the page (`timelineOrder` in
//! ui/src/lib/timeline.ts) once it has come. If the two orders differed, rows
//! would jump when the rest of the list arrives. Both sides sort the same
//! fixture, `fixtures/timeline-order.json`, and must give its `expected`
//! order (the page's side is ui/tests/timeline-order.test.ts).

use latchkey_core::model::{LoginKind, ServerKind};
use latchkey_core::screen::first_of_timeline;
use latchkey_core::tokens::TokenStatus;
use latchkey_core::ProfileView;
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/timeline-order.json");

fn status(name: &str) -> TokenStatus {
    match name {
        "none" => TokenStatus::None,
        "valid" => TokenStatus::Valid,
        "renew-due" => TokenStatus::RenewDue,
        "expiring" => TokenStatus::Expiring,
        "expired" => TokenStatus::Expired,
        "unknown" => TokenStatus::Unknown,
        "failed" => TokenStatus::Failed,
        other => panic!("the fixture names a status Rust does not have: {other}"),
    }
}

fn fixture() -> (Vec<ProfileView>, Vec<String>) {
    let doc: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    let profiles = doc["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let status = status(p["status"].as_str().expect("status"));
            ProfileView {
                id: i as i64 + 1,
                name: p["name"].as_str().expect("name").to_string(),
                server: "s".into(),
                server_kind: ServerKind::Avassa,
                tenant: None,
                login: LoginKind::AvassaPassword,
                settings: Default::default(),
                label: None,
                status,
                status_label: status.label().to_string(),
                issued_at: None,
                expires_at: p["expires_at"].as_str().map(str::to_string),
                renew_due_at: None,
                renewable: false,
                waiting: false,
                renewal_failed_at: None,
            }
        })
        .collect();
    let expected = doc["expected"]
        .as_array()
        .expect("expected")
        .iter()
        .map(|n| n.as_str().expect("a name").to_string())
        .collect();
    (profiles, expected)
}

fn names(views: &[ProfileView]) -> Vec<&str> {
    views.iter().map(|v| v.name.as_str()).collect()
}

#[test]
fn the_first_screen_is_the_fixtures_order_as_the_page_sorts_it() {
    let (profiles, expected) = fixture();
    assert_eq!(
        profiles.len(),
        expected.len(),
        "every profile is expected once"
    );
    let (all, total) = first_of_timeline(profiles.clone(), profiles.len());
    assert_eq!(total, profiles.len());
    assert_eq!(names(&all), expected);

    // The same from the reversed input, so the order is not the input's.
    let (reversed, _) = first_of_timeline(profiles.iter().rev().cloned(), profiles.len());
    assert_eq!(names(&reversed), expected);
}

#[test]
fn a_first_screen_shorter_than_the_list_is_the_start_of_that_order() {
    let (profiles, expected) = fixture();
    // 1, 4 and 7 make the selection (which keeps at most twice the count)
    // cut the input several times over 21 profiles.
    for count in [1, 4, 7] {
        let (first, total) = first_of_timeline(profiles.iter().rev().cloned(), count);
        assert_eq!(total, profiles.len());
        assert_eq!(names(&first), expected[..count], "the first {count}");
    }
}
