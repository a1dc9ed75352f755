//! What the tray menu says, decided here so it is tested without pixels. The
//! shell turns these entries into menu items one to one.

use crate::service::ProfileView;
use crate::tokens::TokenStatus;

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

/// The profiles the menu lists, in the order given: all of them up to
/// [`MAX_PROFILES`]; beyond, those that most need the user (needing
/// attention first, then the soonest to expire).
fn listed(profiles: &[ProfileView]) -> Vec<&ProfileView> {
    if profiles.len() <= MAX_PROFILES {
        return profiles.iter().collect();
    }
    let mut urgent: Vec<(usize, &ProfileView)> = profiles.iter().enumerate().collect();
    urgent.sort_by_key(|(i, p)| {
        (
            !p.status.needs_attention(),
            // RFC 3339 in UTC sorts as time does; no expiry sorts last.
            p.expires_at.clone().unwrap_or_else(|| "~".to_string()),
            *i,
        )
    });
    urgent.truncate(MAX_PROFILES);
    urgent.sort_by_key(|(i, _)| *i);
    urgent.into_iter().map(|(_, p)| p).collect()
}

/// The time left until `p` expires, as the menu shows it, if it shows one.
fn time_left(p: &ProfileView, now: time::OffsetDateTime) -> Option<String> {
    p.expires_at
        .as_deref()
        .and_then(|e| {
            time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc3339).ok()
        })
        .filter(|_| {
            matches!(
                p.status,
                TokenStatus::Valid | TokenStatus::Expiring | TokenStatus::RenewDue
            )
        })
        .map(|e| {
            crate::tokens::relative(now, e)
                .trim_start_matches("in ")
                .to_string()
        })
}

/// Whether the menu shows a time left, which must be redrawn as time
/// passes; without one nothing in it changes until the data does.
pub fn shows_time_left(profiles: &[ProfileView], now: time::OffsetDateTime) -> bool {
    listed(profiles)
        .into_iter()
        .any(|p| time_left(p, now).is_some())
}

/// The profile entries of the menu: name, tenant when there is one, and time
/// left or status; each a submenu of what can be done with it. With more
/// than [`MAX_PROFILES`] profiles, the most urgent, and an entry that says
/// how many more the window has.
pub fn profile_entries(profiles: &[ProfileView], now: time::OffsetDateTime) -> Vec<TrayEntry> {
    let listed = listed(profiles);
    let more = profiles.len() - listed.len();
    let mut entries: Vec<TrayEntry> = listed
        .into_iter()
        .map(|p| {
            let who = match &p.tenant {
                Some(t) => format!("{} ({t})", p.name),
                None => p.name.clone(),
            };
            let state = time_left(p, now).unwrap_or_else(|| p.status_label.clone());
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
                label: format!("{who} — {state}"),
                children,
            }
        })
        .collect();
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

/// The tooltip: how many profiles, and how many need attention.
pub fn tooltip(profiles: &[ProfileView]) -> String {
    let attention = profiles
        .iter()
        .filter(|p| p.status.needs_attention())
        .count();
    match (profiles.len(), attention) {
        (0, _) => "Latchkey — no profiles yet".to_string(),
        (n, 0) => format!("Latchkey — {n} profile{}", if n == 1 { "" } else { "s" }),
        (n, a) => format!(
            "Latchkey — {n} profile{}, {a} need{} attention",
            if n == 1 { "" } else { "s" },
            if a == 1 { "s" } else { "" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LoginKind, ProfileSettings, ServerKind};
    use crate::tokens::TokenStatus;

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

    #[test]
    fn entries_show_tenant_and_time_left_and_offer_what_can_be_done() {
        let now = time::macros::datetime!(2026-01-01 10:00 UTC);
        let mut prod = view(3, "prod", Some("acme"), TokenStatus::Valid);
        prod.expires_at = Some("2026-01-01T12:10:00Z".into());
        prod.renewable = true;
        let entries = profile_entries(
            &[
                prod,
                view(4, "dev", None, TokenStatus::Expired),
                view(5, "new", None, TokenStatus::None),
            ],
            now,
        );
        assert_eq!(entries[0].label, "prod (acme) — 2 h 10 m");
        let actions: Vec<&str> = entries[0]
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
        assert_eq!(entries[1].label, "dev — expired");
        assert_eq!(entries[2].label, "new — not logged in");
        assert_eq!(entries[2].children.len(), 1, "nothing to copy yet");
        for child in &entries[0].children {
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
    fn a_long_list_shows_the_most_urgent_profiles_in_order_and_how_many_more() {
        let now = time::macros::datetime!(2026-01-01 10:00 UTC);
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
        let entries = profile_entries(&profiles, now);
        assert_eq!(entries.len(), MAX_PROFILES + 1);
        let more = entries.last().unwrap();
        assert_eq!(
            (more.id.as_str(), more.label.as_str()),
            (MORE, "25 more profiles in the window…")
        );
        let shown: Vec<&str> = entries[..MAX_PROFILES]
            .iter()
            .map(|e| e.label.split(' ').next().unwrap())
            .collect();
        // The expired one, then the 14 soonest to expire (p27 in 1 day, p26
        // in 2, ... p14 in 14), listed in their original order; never the
        // one without a token.
        let expected: Vec<String> = (14..=27).chain([30]).map(|i| format!("p{i:02}")).collect();
        assert_eq!(shown, expected);
        assert!(shows_time_left(&profiles, now));
        // Up to the limit, every profile, nothing more.
        let few = profile_entries(&profiles[..MAX_PROFILES], now);
        assert_eq!(few.len(), MAX_PROFILES);
        assert!(few.iter().all(|e| e.id != MORE));
    }

    #[test]
    fn a_menu_without_time_left_needs_no_clock() {
        let now = time::macros::datetime!(2026-01-01 10:00 UTC);
        let mut expired = view(1, "old", None, TokenStatus::Expired);
        expired.expires_at = Some("2025-12-01T00:00:00Z".into());
        let profiles = [view(2, "new", None, TokenStatus::None), expired];
        assert!(!shows_time_left(&profiles, now));
        assert!(!shows_time_left(&[], now));
        let mut valid = view(3, "ok", None, TokenStatus::Valid);
        valid.expires_at = Some("2026-01-01T12:00:00Z".into());
        assert!(shows_time_left(&[valid], now));
    }

    #[test]
    fn tooltip_counts_what_needs_attention() {
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
    }
}
