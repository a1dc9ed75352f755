//! What the tray menu says, decided here so it is tested without pixels. The
//! shell turns these entries into menu items one to one.

use crate::service::ProfileView;

/// One line of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayEntry {
    /// The menu item id the shell hands back on click.
    pub id: String,
    pub label: String,
}

pub const OPEN: &str = "open";
pub const QUIT: &str = "quit";
pub const PROFILE_PREFIX: &str = "profile:";

/// The profile entries of the menu: name, tenant when there is one, status.
pub fn profile_entries(profiles: &[ProfileView]) -> Vec<TrayEntry> {
    profiles
        .iter()
        .map(|p| {
            let who = match &p.tenant {
                Some(t) => format!("{} ({t})", p.name),
                None => p.name.clone(),
            };
            TrayEntry {
                id: format!("{PROFILE_PREFIX}{}", p.id),
                label: format!("{who} — {}", p.status_label),
            }
        })
        .collect()
}

/// The profile id a menu item id names, if it names one.
pub fn profile_of(item_id: &str) -> Option<i64> {
    item_id.strip_prefix(PROFILE_PREFIX)?.parse().ok()
}

/// The tooltip: how many profiles, and how many need attention.
pub fn tooltip(profiles: &[ProfileView]) -> String {
    use crate::tokens::TokenStatus::*;
    let attention = profiles
        .iter()
        .filter(|p| matches!(p.status, Expiring | Expired | Failed))
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
            expires_at: None,
            renew_due_at: None,
            waiting: false,
        }
    }

    #[test]
    fn entries_show_tenant_and_status_and_round_trip_their_ids() {
        let entries = profile_entries(&[
            view(3, "prod", Some("acme"), TokenStatus::None),
            view(4, "dev", None, TokenStatus::Expired),
        ]);
        assert_eq!(entries[0].label, "prod (acme) — not logged in");
        assert_eq!(entries[1].label, "dev — expired");
        assert_eq!(profile_of(&entries[0].id), Some(3));
        assert_eq!(profile_of(QUIT), None);
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
