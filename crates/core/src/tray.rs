//! What the tray says, decided here so it is tested without pixels: which of
//! the three icons shows (all good, something needs you, a renewal failed),
//! the tooltip, and the menu's profile entries, those that need the user
//! first, each with its time left, at most [`MAX_PROFILES`] of them. The
//! shell turns these into menu items and icons one to one.

use crate::service::ProfileView;
use crate::tokens::TokenStatus;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One line of the tray menu; with children, a submenu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayEntry {
    /// The menu item id the shell hands back on click.
    pub id: String,
    pub label: String,
    pub children: Vec<TrayEntry>,
}

pub const OPEN: &str = "open";
pub const QUIT: &str = "quit";
/// The entry that stands for the profiles the menu leaves out; opens the window.
pub const MORE: &str = "more";

/// The most profiles the menu lists. A menu is read at a glance, and the
/// toolkit builds every item before it can show one: 10,000 profiles would be
/// 50,000 items, built on the main thread.
pub const MAX_PROFILES: usize = 15;

/// What the tray icon tells at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayState {
    /// Every token is valid or renews by itself.
    AllGood,
    /// A token is expiring or has expired and only the user can renew it.
    NeedsYou,
    /// A renewal failed: Latchkey could not do what it should.
    RenewalFailed,
}

impl TrayState {
    /// The state of the worst profile: a failed renewal over one that needs the user.
    pub fn of(profiles: &[ProfileView]) -> Self {
        if profiles.iter().any(|p| p.status == TokenStatus::Failed) {
            TrayState::RenewalFailed
        } else if profiles.iter().any(|p| p.status.needs_attention()) {
            TrayState::NeedsYou
        } else {
            TrayState::AllGood
        }
    }

    /// The icon's file in `icons/`; each variant differs in shape, not only colour.
    pub fn icon(self) -> &'static str {
        match self {
            TrayState::AllGood => "tray.png",
            TrayState::NeedsYou => "tray-attention.png",
            TrayState::RenewalFailed => "tray-failed.png",
        }
    }
}

/// What a click on a profile's menu item asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    Show(i64),
    Copy(i64),
    CopyHeader(i64),
    Renew(i64),
}

impl TrayAction {
    fn id(self) -> String {
        match self {
            TrayAction::Show(p) => format!("show:{p}"),
            TrayAction::Copy(p) => format!("copy:{p}"),
            TrayAction::CopyHeader(p) => format!("copy-header:{p}"),
            TrayAction::Renew(p) => format!("renew:{p}"),
        }
    }

    /// The action a menu item id names, if it names one.
    pub fn parse(item_id: &str) -> Option<Self> {
        let (verb, id) = item_id.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        Some(match verb {
            "show" => TrayAction::Show(id),
            "copy" => TrayAction::Copy(id),
            "copy-header" => TrayAction::CopyHeader(id),
            "renew" => TrayAction::Renew(id),
            _ => return None,
        })
    }
}

fn leaf(action: TrayAction, label: &str) -> TrayEntry {
    TrayEntry {
        id: action.id(),
        label: label.to_string(),
        children: Vec::new(),
    }
}

fn expiry(p: &ProfileView) -> Option<OffsetDateTime> {
    p.expires_at
        .as_deref()
        .and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok())
}

/// The time left until `p` expires, as the menu shows it, if it shows one.
fn time_left(p: &ProfileView, now: OffsetDateTime) -> Option<String> {
    let shows = matches!(
        p.status,
        TokenStatus::Valid | TokenStatus::Expiring | TokenStatus::RenewDue | TokenStatus::Failed
    );
    expiry(p).filter(|e| shows && *e > now).map(|e| {
        format!(
            "{} left",
            crate::tokens::relative(now, e).trim_start_matches("in ")
        )
    })
}

/// "2 h 10 m left", or the status where no time is left to tell.
fn state(p: &ProfileView, now: OffsetDateTime) -> String {
    match (p.status, time_left(p, now)) {
        (TokenStatus::Failed, Some(left)) => format!("renewal failed, {left}"),
        (_, Some(left)) => left,
        _ => p.status_label.clone(),
    }
}

/// Whether the menu shows a time left, which must be redrawn as time
/// passes; without one nothing in it changes until the data does.
pub fn shows_time_left(profiles: &[ProfileView], now: OffsetDateTime) -> bool {
    menu_order(profiles)
        .into_iter()
        .take(MAX_PROFILES)
        .any(|p| time_left(p, now).is_some())
}

/// The menu's order: failed renewals, then the other tokens that need the
/// user, then the rest; within each, the soonest expiry first (no expiry and
/// no token last), then by name.
fn menu_order(profiles: &[ProfileView]) -> Vec<&ProfileView> {
    let rank = |p: &ProfileView| match p.status {
        TokenStatus::Failed => 0,
        s if s.needs_attention() => 1,
        TokenStatus::None => 3,
        _ => 2,
    };
    let mut sorted: Vec<&ProfileView> = profiles.iter().collect();
    // Each key once per profile (a 10,000-profile store is sorted on every refresh).
    sorted.sort_by_cached_key(|p| {
        (
            rank(p),
            expiry(p).map_or(i128::MAX, |e| e.unix_timestamp_nanos()),
            p.name.clone(),
        )
    });
    sorted
}

/// The profile entries of the menu: those that need the user first, marked
/// "⚠", each with its tenant and time left (or status), and a submenu of what
/// can be done with it. Beyond [`MAX_PROFILES`], the most urgent, and an
/// entry that says how many more the window has (and opens it).
pub fn profile_entries(profiles: &[ProfileView], now: OffsetDateTime) -> Vec<TrayEntry> {
    let ordered = menu_order(profiles);
    let mut entries: Vec<TrayEntry> = ordered
        .iter()
        .take(MAX_PROFILES)
        .map(|p| {
            let who = match &p.tenant {
                Some(t) => format!("{} ({t})", p.name),
                None => p.name.clone(),
            };
            let mark = if p.status.needs_attention() {
                "⚠ "
            } else {
                ""
            };
            let mut children = vec![leaf(TrayAction::Show(p.id), "Show")];
            if p.status != TokenStatus::None && p.login != crate::model::LoginKind::DciHmac {
                children.push(leaf(TrayAction::Copy(p.id), "Copy token"));
                children.push(leaf(
                    TrayAction::CopyHeader(p.id),
                    "Copy Authorization header",
                ));
            }
            if p.renewable && p.status != TokenStatus::None {
                children.push(leaf(TrayAction::Renew(p.id), "Renew now"));
            }
            TrayEntry {
                id: format!("profile:{}", p.id),
                label: format!("{mark}{who} — {}", state(p, now)),
                children,
            }
        })
        .collect();
    let more = ordered.len().saturating_sub(MAX_PROFILES);
    if more > 0 {
        entries.push(TrayEntry {
            id: MORE.to_string(),
            label: format!(
                "{more} more profile{} in the window…",
                if more == 1 { "" } else { "s" }
            ),
            children: Vec::new(),
        });
    }
    entries
}

/// The tooltip: how many profiles, how many need attention, and whether a
/// renewal failed.
pub fn tooltip(profiles: &[ProfileView]) -> String {
    let attention = profiles
        .iter()
        .filter(|p| p.status.needs_attention())
        .count();
    let failed = profiles
        .iter()
        .filter(|p| p.status == TokenStatus::Failed)
        .count();
    let mut text = match (profiles.len(), attention) {
        (0, _) => "Latchkey — no profiles yet".to_string(),
        (n, 0) => format!("Latchkey — {n} profile{}", if n == 1 { "" } else { "s" }),
        (n, a) => format!(
            "Latchkey — {n} profile{}, {a} need{} attention",
            if n == 1 { "" } else { "s" },
            if a == 1 { "s" } else { "" }
        ),
    };
    if failed > 0 {
        text.push_str(&format!(
            " ({failed} renewal{} failed)",
            if failed == 1 { "" } else { "s" }
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LoginKind, ProfileSettings, ServerKind};
    use crate::tokens::TokenStatus;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 10:00 UTC);

    fn view(id: i64, name: &str, tenant: Option<&str>, status: TokenStatus) -> ProfileView {
        ProfileView {
            id,
            name: name.into(),
            server: "s".into(),
            server_kind: ServerKind::Avassa,
            tenant: tenant.map(Into::into),
            login: LoginKind::AvassaPassword,
            settings: ProfileSettings::default(),
            label: None,
            status,
            status_label: status.label().into(),
            issued_at: None,
            expires_at: None,
            renew_due_at: None,
            renewable: false,
            waiting: false,
            renewal_failed_at: None,
        }
    }

    fn expiring_at(mut p: ProfileView, at: &str) -> ProfileView {
        p.expires_at = Some(at.into());
        p
    }

    fn labels(entries: &[TrayEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.label.as_str()).collect()
    }

    #[test]
    fn entries_show_tenant_and_time_left_and_offer_what_can_be_done() {
        let mut prod = expiring_at(
            view(3, "prod", Some("acme"), TokenStatus::Valid),
            "2026-01-01T12:10:00Z",
        );
        prod.renewable = true;
        let entries = profile_entries(
            &[
                prod,
                view(4, "dev", None, TokenStatus::Expired),
                view(5, "new", None, TokenStatus::None),
            ],
            NOW,
        );
        assert_eq!(
            labels(&entries),
            [
                "⚠ dev — expired",
                "prod (acme) — 2 h 10 m left",
                "new — not logged in"
            ]
        );
        let actions: Vec<&str> = entries[1]
            .children
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "Show",
                "Copy token",
                "Copy Authorization header",
                "Renew now"
            ]
        );
        assert_eq!(entries[2].children.len(), 1, "nothing to copy yet");
        for child in &entries[1].children {
            let action = TrayAction::parse(&child.id).unwrap();
            assert!(matches!(
                action,
                TrayAction::Show(3)
                    | TrayAction::Copy(3)
                    | TrayAction::CopyHeader(3)
                    | TrayAction::Renew(3)
            ));
        }
        assert_eq!(TrayAction::parse(QUIT), None);
        assert_eq!(TrayAction::parse("copy:x"), None);
    }

    #[test]
    fn what_needs_the_user_comes_first_failed_renewals_before_all_then_soonest_expiry() {
        let mut failed = expiring_at(
            view(1, "ci", None, TokenStatus::Failed),
            "2026-01-01T10:20:00Z",
        );
        failed.renewable = true;
        let entries = profile_entries(
            &[
                expiring_at(
                    view(2, "later", None, TokenStatus::Valid),
                    "2026-01-02T10:00:00Z",
                ),
                view(3, "fresh", None, TokenStatus::None),
                expiring_at(
                    view(4, "soon", None, TokenStatus::Valid),
                    "2026-01-01T13:00:00Z",
                ),
                expiring_at(
                    view(5, "closing", Some("acme"), TokenStatus::Expiring),
                    "2026-01-01T10:45:00Z",
                ),
                failed,
                view(6, "forever", None, TokenStatus::Unknown),
            ],
            NOW,
        );
        assert_eq!(
            labels(&entries),
            [
                "⚠ ci — renewal failed, 20 m left",
                "⚠ closing (acme) — 45 m left",
                "soon — 3 h left",
                "later — 1 d left",
                "forever — no expiry known",
                "fresh — not logged in",
            ]
        );
    }

    #[test]
    fn a_long_list_shows_the_most_urgent_profiles_first_and_how_many_more() {
        let mut profiles: Vec<ProfileView> = (0..40)
            .map(|i| {
                let mut p = view(i, &format!("p{i:02}"), None, TokenStatus::Valid);
                p.expires_at = Some(format!("2026-02-{:02}T00:00:00Z", 28 - (i % 28)));
                p
            })
            .collect();
        profiles[30].status = TokenStatus::Expired;
        profiles[5].status = TokenStatus::None;
        profiles[5].expires_at = None;
        let entries = profile_entries(&profiles, NOW);
        assert_eq!(entries.len(), MAX_PROFILES + 1);
        let more = entries.last().unwrap();
        assert_eq!(
            (more.id.as_str(), more.label.as_str()),
            (MORE, "25 more profiles in the window…")
        );
        let shown: Vec<&str> = entries[..MAX_PROFILES]
            .iter()
            .map(|e| e.label.split(" — ").next().unwrap())
            .collect();
        // The expired one, then the 14 soonest to expire (p27 in 1 day, p26
        // in 2, ... p14 in 14), soonest first; never the one without a token.
        let expected: Vec<String> = ["⚠ p30".to_string()]
            .into_iter()
            .chain((14..=27).rev().map(|i| format!("p{i:02}")))
            .collect();
        assert_eq!(shown, expected);
        assert!(shows_time_left(&profiles, NOW));
        // Up to the limit, every profile, nothing more.
        let few = profile_entries(&profiles[..MAX_PROFILES], NOW);
        assert_eq!(few.len(), MAX_PROFILES);
        assert!(few.iter().all(|e| e.id != MORE));
    }

    #[test]
    fn a_menu_without_time_left_needs_no_clock() {
        let expired = expiring_at(
            view(1, "old", None, TokenStatus::Expired),
            "2025-12-01T00:00:00Z",
        );
        let profiles = [view(2, "new", None, TokenStatus::None), expired];
        assert!(!shows_time_left(&profiles, NOW));
        assert!(!shows_time_left(&[], NOW));
        let valid = expiring_at(
            view(3, "ok", None, TokenStatus::Valid),
            "2026-01-01T12:00:00Z",
        );
        assert!(shows_time_left(&[valid], NOW));
        // A failed renewal still shows the time its old token has left.
        let failed = expiring_at(
            view(4, "ci", None, TokenStatus::Failed),
            "2026-01-01T10:30:00Z",
        );
        assert!(shows_time_left(&[failed], NOW));
    }

    #[test]
    fn the_icon_tells_the_worst_state_at_a_glance() {
        let good = [
            view(1, "a", None, TokenStatus::Valid),
            view(2, "b", None, TokenStatus::RenewDue),
            view(3, "c", None, TokenStatus::None),
        ];
        assert_eq!(TrayState::of(&good), TrayState::AllGood);
        assert_eq!(TrayState::of(&[]), TrayState::AllGood);
        let mut needs = good.to_vec();
        needs.push(view(4, "d", None, TokenStatus::Expiring));
        assert_eq!(TrayState::of(&needs), TrayState::NeedsYou);
        needs.push(view(5, "e", None, TokenStatus::Expired));
        assert_eq!(TrayState::of(&needs), TrayState::NeedsYou);
        needs.push(view(6, "f", None, TokenStatus::Failed));
        assert_eq!(TrayState::of(&needs), TrayState::RenewalFailed);
        let icons = [
            TrayState::AllGood.icon(),
            TrayState::NeedsYou.icon(),
            TrayState::RenewalFailed.icon(),
        ];
        assert_eq!(icons, ["tray.png", "tray-attention.png", "tray-failed.png"]);
    }

    #[test]
    fn tooltip_counts_what_needs_attention_and_failed_renewals() {
        assert_eq!(tooltip(&[]), "Latchkey — no profiles yet");
        assert_eq!(
            tooltip(&[view(1, "a", None, TokenStatus::Valid)]),
            "Latchkey — 1 profile"
        );
        assert_eq!(
            tooltip(&[
                view(1, "a", None, TokenStatus::Expired),
                view(2, "b", None, TokenStatus::Valid)
            ]),
            "Latchkey — 2 profiles, 1 needs attention"
        );
        assert_eq!(
            tooltip(&[
                view(1, "a", None, TokenStatus::Failed),
                view(2, "b", None, TokenStatus::Expired)
            ]),
            "Latchkey — 2 profiles, 2 need attention (1 renewal failed)"
        );
    }
}
