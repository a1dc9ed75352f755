//! Export and import of servers, tenants and profiles: the set-up a team keeps
//! in git, as one TOML file. Never a secret: the file holds only what the store
//! holds, and the store never holds one (each person gives their profiles
//! their own passwords and keys after importing).
//!
//! Import merges. It adds what is missing, changes what differs, leaves
//! everything else (nothing in Latchkey is removed because the file lacks it),
//! so importing the same file twice changes nothing the second time. Every
//! entry is checked before anything is written, with the same rules as the
//! window and `latchkey profile add`, and an error names the line and the
//! field; the writes then land in one transaction.
//!
//! The file, version 1 (`latchkey export` writes it sorted by name, so a
//! change shows as a small diff):
//!
//! ```toml
//! version = 1
//!
//! [[server]]
//! name = "edge"
//! kind = "avassa"                  # kontinuous, github, auth0, oidc, quay, avassa, dci, registry
//! url = "https://api.edge.example"
//! tenants = ["acme"]               # Avassa only
//! # ca_pem = """-----BEGIN CERTIFICATE-----…"""   extra CA certificates (public)
//!
//! [[profile]]
//! name = "edge-alice"
//! server = "edge"
//! tenant = "acme"                  # optional
//! login = "avassa-password"
//! label = "on call"                # optional
//!
//! [profile.settings]               # what the login kind uses (see `latchkey profile add --help`)
//! username = "alice"
//! ```

use crate::error::{Error, Result};
use crate::model::{self, ProfileInput, ProfileSettings, ServerInput, ServerKind, SettingField};
use crate::service::{check_profile, Latchkey};
use crate::store::write::ProfileRow;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use toml::Spanned;

/// The version of the file this Latchkey writes and reads.
pub const VERSION: i64 = 1;

const HEADER: &str = "\
# Latchkey set-up: servers, tenants and profiles, without any secret.
# `latchkey import FILE` adds what is missing and changes what differs;
# then give each profile its own password or key (the window, or `latchkey login`).
";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerEntry {
    pub name: String,
    pub kind: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileEntry {
    pub name: String,
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub login: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub settings: toml::Table,
}

/// A parsed file, with where each entry stands in it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub version: i64,
    #[serde(default, rename = "server")]
    pub servers: Vec<Spanned<ServerEntry>>,
    #[serde(default, rename = "profile")]
    pub profiles: Vec<Spanned<ProfileEntry>>,
}

#[derive(Serialize)]
struct Written<'a> {
    version: i64,
    #[serde(rename = "server")]
    servers: &'a [ServerEntry],
    #[serde(rename = "profile")]
    profiles: &'a [ProfileEntry],
}

/// What an import did (or, with a dry run, would do), one line per thing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, specta::Type)]
pub struct ImportReport {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    /// Profiles that need a secret of their own before they work.
    pub needs_secret: Vec<String>,
}

/// The 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// An error about the file, at a line.
fn at_line(line: usize, what: &str, err: impl std::fmt::Display) -> Error {
    Error::Invalid {
        field: None,
        message: format!("line {line}, {what}: {err}"),
    }
}

/// An entry's own error, with its field, at the entry's line.
fn in_entry(line: usize, what: &str, err: Error) -> Error {
    match err.field() {
        Some(field) => at_line(line, what, format!("{field}: {err}")),
        None => at_line(line, what, err),
    }
}

/// Reads a file's text: its version first (so a newer file is told apart from
/// a wrong one), then its entries. Checks the shape only; [`Latchkey::import`]
/// checks the content.
pub fn parse(text: &str) -> Result<Document> {
    #[derive(Deserialize)]
    struct Head {
        version: Option<Spanned<toml::Value>>,
    }
    let syntax = |e: toml::de::Error| {
        let line = e.span().map(|s| line_at(text, s.start)).unwrap_or(1);
        at_line(line, "the file", e.message().trim_end())
    };
    let head: Head = toml::from_str(text).map_err(syntax)?;
    match &head.version {
        None => {
            return Err(at_line(
                1,
                "the file",
                format!("it does not say `version = {VERSION}`; is it a Latchkey export?"),
            ))
        }
        Some(v) if v.get_ref().as_integer() != Some(VERSION) => {
            return Err(at_line(
                line_at(text, v.span().start),
                "version",
                format!(
                    "version {} is not one this Latchkey reads (it reads version {VERSION}); \
                     export again with this version, or update Latchkey",
                    v.get_ref()
                ),
            ))
        }
        Some(_) => {}
    }
    toml::from_str(text).map_err(syntax)
}

/// The text of a version-1 file holding these entries, in their order: what
/// [`Latchkey::export`] writes, and what [`parse`] reads back the same.
pub(crate) fn render(servers: &[ServerEntry], profiles: &[ProfileEntry]) -> Result<String> {
    let body = toml::to_string(&Written {
        version: VERSION,
        servers,
        profiles,
    })
    .map_err(|e| Error::Internal(format!("cannot write the export: {e}")))?;
    Ok(format!("{HEADER}\n{body}"))
}

/// The settings of an entry, refusing names Latchkey does not know (a typo
/// would otherwise be dropped without a word).
pub(crate) fn settings_of(table: &toml::Table) -> std::result::Result<ProfileSettings, String> {
    for key in table.keys() {
        if !SettingField::ALL.iter().any(|f| f.name() == key) {
            let known: Vec<&str> = SettingField::ALL.iter().map(|f| f.name()).collect();
            return Err(format!(
                "settings: unknown setting '{key}'; known ones: {}",
                known.join(", ")
            ));
        }
    }
    toml::Value::Table(table.clone())
        .try_into::<ProfileSettings>()
        .map_err(|e| format!("settings: {}", e.message().trim_end()))
}

/// One checked server of the file.
struct PlannedServer {
    name: String,
    kind: ServerKind,
    url: String,
    ca_pem: Option<String>,
    tenants: Vec<String>,
    existing: Option<crate::model::Server>,
}

/// One checked profile of the file.
struct PlannedProfile {
    fields: crate::service::ProfileFields,
    server: String,
    existing: Option<crate::model::Profile>,
}

impl Latchkey {
    /// The set-up as a version-1 TOML file, sorted by name. No secret.
    pub async fn export(&self) -> Result<String> {
        let servers = self.store().servers().await?;
        let tenants = self.store().tenants().await?;
        let server_entries: Vec<ServerEntry> = servers
            .iter()
            .map(|s| {
                let mut names: Vec<String> = tenants
                    .iter()
                    .filter(|t| t.server_id == s.id)
                    .map(|t| t.name.clone())
                    .collect();
                names.sort();
                ServerEntry {
                    name: s.name.clone(),
                    kind: s.kind.to_string(),
                    url: s.url.clone(),
                    tenants: names,
                    ca_pem: s.ca_pem.clone(),
                }
            })
            .collect();
        let mut profiles = Vec::new();
        for p in self.store().profiles().await? {
            let server = servers
                .iter()
                .find(|s| s.id == p.server_id)
                .ok_or_else(|| Error::Internal(format!("profile {} has no server", p.name)))?;
            let settings = toml::Table::try_from(&p.settings)
                .map_err(|e| Error::Internal(format!("settings of {}: {e}", p.name)))?;
            profiles.push(ProfileEntry {
                tenant: p
                    .tenant_id
                    .and_then(|id| tenants.iter().find(|t| t.id == id))
                    .map(|t| t.name.clone()),
                name: p.name,
                server: server.name.clone(),
                login: p.login.to_string(),
                label: p.label,
                settings,
            });
        }
        profiles.sort_by(|a, b| a.name.cmp(&b.name));
        render(&server_entries, &profiles)
    }

    /// Imports a file's text: checks every entry, then (unless `dry_run`)
    /// writes them in one transaction. Returns what it added, changed and left.
    pub async fn import(&self, text: &str, dry_run: bool) -> Result<ImportReport> {
        let doc = parse(text)?;
        let stored_servers = self.store().servers().await?;
        let stored_tenants = self.store().tenants().await?;
        let stored_profiles = self.store().profiles().await?;

        // Servers: each checked as `server add` would, once per name.
        let mut servers: BTreeMap<String, PlannedServer> = BTreeMap::new();
        for entry in &doc.servers {
            let line = line_at(text, entry.span().start);
            let e = entry.get_ref();
            let what = format!("[[server]] '{}'", e.name);
            let (name, kind, url, ca_pem) = model::validate_server(&ServerInput {
                name: e.name.clone(),
                kind: e.kind.clone(),
                url: e.url.clone(),
                ca_pem: e.ca_pem.clone(),
            })
            .map_err(|err| in_entry(line, &what, err))?;
            if servers.contains_key(&name) {
                return Err(at_line(
                    line,
                    &what,
                    "name: the file names this server twice",
                ));
            }
            let mut tenant_names = BTreeSet::new();
            for t in &e.tenants {
                let t = t.trim();
                model::validate_tenant(t).map_err(|err| in_entry(line, &what, err))?;
                if !kind.has_tenants() {
                    return Err(at_line(
                        line,
                        &what,
                        format!("tenants: {kind} servers have no tenants; leave it out"),
                    ));
                }
                tenant_names.insert(t.to_string());
            }
            let existing = stored_servers.iter().find(|s| s.name == name).cloned();
            if let Some(current) = &existing {
                if current.kind != kind
                    && !self
                        .store()
                        .profile_ids_of_server(current.id)
                        .await?
                        .is_empty()
                {
                    return Err(at_line(
                        line,
                        &what,
                        format!(
                            "kind: Latchkey's server '{name}' is a {} server with profiles, whose \
                             logins depend on its kind; remove them before changing the kind",
                            current.kind
                        ),
                    ));
                }
            }
            servers.insert(
                name.clone(),
                PlannedServer {
                    name,
                    kind,
                    url,
                    ca_pem,
                    tenants: tenant_names.into_iter().collect(),
                    existing,
                },
            );
        }

        // Profiles: each checked as `profile add` would, against the server of
        // the file or, failing that, the one in Latchkey.
        let mut profiles: BTreeMap<String, PlannedProfile> = BTreeMap::new();
        for entry in &doc.profiles {
            let line = line_at(text, entry.span().start);
            let e = entry.get_ref();
            let what = format!("[[profile]] '{}'", e.name);
            let settings = settings_of(&e.settings).map_err(|m| at_line(line, &what, m))?;
            let server_name = e.server.trim().to_string();
            let kind = match servers.get(&server_name) {
                Some(s) => s.kind,
                None => match stored_servers.iter().find(|s| s.name == server_name) {
                    Some(s) => s.kind,
                    None => {
                        return Err(at_line(
                            line,
                            &what,
                            format!(
                                "server: no server named '{server_name}' in the file or in \
                                 Latchkey; add a [[server]] entry for it"
                            ),
                        ))
                    }
                },
            };
            let fields = check_profile(
                &ProfileInput {
                    name: e.name.clone(),
                    server: server_name.clone(),
                    tenant: e.tenant.clone(),
                    login: e.login.clone(),
                    settings,
                    label: e.label.clone(),
                    ..Default::default()
                },
                kind,
            )
            .map_err(|err| in_entry(line, &what, err))?;
            if profiles.contains_key(&fields.name) {
                return Err(at_line(
                    line,
                    &what,
                    "name: the file names this profile twice",
                ));
            }
            let existing = stored_profiles
                .iter()
                .find(|p| p.name == fields.name)
                .cloned();
            profiles.insert(
                fields.name.clone(),
                PlannedProfile {
                    fields,
                    server: server_name,
                    existing,
                },
            );
        }

        // What it comes to, against what Latchkey holds.
        let mut report = ImportReport::default();
        let server_named = |name: &str| stored_servers.iter().find(|s| s.name == name);
        let has_tenant = |server: &str, tenant: &str| {
            server_named(server).is_some_and(|s| {
                stored_tenants
                    .iter()
                    .any(|t| t.server_id == s.id && t.name == tenant)
            })
        };
        for s in servers.values() {
            match &s.existing {
                None => report.added.push(format!("server {}", s.name)),
                Some(c) => {
                    let mut what = Vec::new();
                    if c.kind != s.kind {
                        what.push("kind");
                    }
                    if c.url != s.url {
                        what.push("url");
                    }
                    if c.ca_pem != s.ca_pem {
                        what.push("ca_pem");
                    }
                    if what.is_empty() {
                        report.unchanged.push(format!("server {}", s.name));
                    } else {
                        report
                            .changed
                            .push(format!("server {} ({})", s.name, what.join(", ")));
                    }
                }
            }
        }
        // Tenants named by servers, and by profiles on servers that lack them.
        let mut new_tenants: BTreeSet<(String, String)> = BTreeSet::new();
        for s in servers.values() {
            for t in &s.tenants {
                if !has_tenant(&s.name, t) {
                    new_tenants.insert((s.name.clone(), t.clone()));
                }
            }
        }
        for p in profiles.values() {
            if let Some(t) = &p.fields.tenant {
                if !has_tenant(&p.server, t) {
                    new_tenants.insert((p.server.clone(), t.clone()));
                }
            }
        }
        for (server, tenant) in &new_tenants {
            report.added.push(format!("tenant {tenant} of {server}"));
        }
        let tenant_name = |id: Option<i64>| {
            id.and_then(|id| stored_tenants.iter().find(|t| t.id == id))
                .map(|t| t.name.clone())
        };
        for p in profiles.values() {
            let f = &p.fields;
            match &p.existing {
                None => {
                    report.added.push(format!("profile {}", f.name));
                    if crate::providers::registry::spec(f.login)
                        .secret
                        .is_some_and(|s| s.required)
                    {
                        report.needs_secret.push(f.name.clone());
                    }
                }
                Some(c) => {
                    let mut what = Vec::new();
                    if stored_servers
                        .iter()
                        .find(|s| s.id == c.server_id)
                        .map(|s| s.name.as_str())
                        != Some(p.server.as_str())
                    {
                        what.push("server");
                    }
                    if tenant_name(c.tenant_id) != f.tenant {
                        what.push("tenant");
                    }
                    if c.login != f.login {
                        what.push("login: its tokens and secrets will be forgotten");
                    }
                    if c.settings != f.settings {
                        what.push("settings");
                    }
                    if c.label != f.label {
                        what.push("label");
                    }
                    if what.is_empty() {
                        report.unchanged.push(format!("profile {}", f.name));
                    } else {
                        report
                            .changed
                            .push(format!("profile {} ({})", f.name, what.join(", ")));
                        if c.login != f.login
                            && crate::providers::registry::spec(f.login)
                                .secret
                                .is_some_and(|s| s.required)
                        {
                            report.needs_secret.push(f.name.clone());
                        }
                    }
                }
            }
        }
        if dry_run || (report.added.is_empty() && report.changed.is_empty()) {
            return Ok(report);
        }

        // One transaction: all of it, or none of it.
        let mut tx = self.store().begin().await?;
        let mut server_ids: HashMap<String, i64> = stored_servers
            .iter()
            .map(|s| (s.name.clone(), s.id))
            .collect();
        for s in servers.values() {
            match &s.existing {
                None => {
                    let id = tx
                        .insert_server(&s.name, s.kind, &s.url, s.ca_pem.as_deref())
                        .await?;
                    server_ids.insert(s.name.clone(), id);
                }
                Some(c) if c.kind != s.kind || c.url != s.url || c.ca_pem != s.ca_pem => {
                    tx.update_server(c.id, &s.name, s.kind, &s.url, s.ca_pem.as_deref())
                        .await?;
                }
                Some(_) => {}
            }
        }
        let mut tenant_ids: HashMap<(i64, String), i64> = stored_tenants
            .iter()
            .map(|t| ((t.server_id, t.name.clone()), t.id))
            .collect();
        for (server, tenant) in &new_tenants {
            let server_id = server_ids[server];
            let id = tx.insert_tenant(server_id, tenant).await?;
            tenant_ids.insert((server_id, tenant.clone()), id);
        }
        let mut forget = Vec::new();
        for p in profiles.values() {
            let f = &p.fields;
            let server_id = server_ids[&p.server];
            let row = ProfileRow {
                name: &f.name,
                server_id,
                tenant_id: f
                    .tenant
                    .as_ref()
                    .map(|t| tenant_ids[&(server_id, t.clone())]),
                login: f.login,
                settings: &f.settings,
                label: f.label.as_deref(),
            };
            match &p.existing {
                None => {
                    tx.insert_profile(&row).await?;
                }
                Some(c) => {
                    let same = c.server_id == row.server_id
                        && c.tenant_id == row.tenant_id
                        && c.login == row.login
                        && c.settings == f.settings
                        && c.label == f.label;
                    if !same {
                        tx.update_profile(c.id, &row).await?;
                    }
                    if c.login != f.login {
                        tx.delete_tokens(c.id).await?;
                        forget.push(c.id);
                    }
                }
            }
        }
        tx.commit().await?;
        // Secrets of one login kind mean nothing to another (as an edit does).
        for id in forget {
            self.vault().forget_profile(id).await?;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_version_or_with_another_says_so_at_its_line() {
        let err = parse("[[server]]\nname = \"a\"\n").unwrap_err();
        assert!(err.to_string().contains("version = 1"), "{err}");
        let err = parse("# comment\n\nversion = 2\n").unwrap_err();
        assert!(err.to_string().starts_with("line 3, version:"), "{err}");
        assert!(err.to_string().contains("update Latchkey"), "{err}");
        let err = parse("version = \"1\"\n").unwrap_err();
        assert!(err.to_string().starts_with("line 1, version:"), "{err}");
    }

    #[test]
    fn syntax_errors_and_unknown_fields_name_their_line() {
        let err = parse("version = 1\n\n[[server]]\nname = \"a\"\nkind = \"oidc\"\nurl = \"https://x\"\ncolour = \"red\"\n")
            .unwrap_err();
        assert!(err.to_string().starts_with("line 7"), "{err}");
        assert!(err.to_string().contains("colour"), "{err}");
        let err = parse("version = 1\n[[profile]]\nname = \"unterminated\n").unwrap_err();
        assert!(err.to_string().starts_with("line 3"), "{err}");
    }

    #[test]
    fn entries_know_their_lines() {
        let doc = parse(
            "version = 1\n\n[[server]]\nname = \"a\"\nkind = \"oidc\"\nurl = \"https://x\"\n\n[[profile]]\nname = \"p\"\nserver = \"a\"\nlogin = \"oidc\"\n[profile.settings]\nclient_id = \"c\"\n",
        )
        .unwrap();
        let text_line = |s: &Spanned<ServerEntry>| s.span().start;
        assert!(text_line(&doc.servers[0]) > 0);
        assert_eq!(
            doc.profiles[0].get_ref().settings["client_id"].as_str(),
            Some("c")
        );
    }

    #[test]
    fn unknown_settings_are_refused_not_dropped() {
        let mut t = toml::Table::new();
        t.insert("usernmae".into(), toml::Value::String("x".into()));
        let err = settings_of(&t).unwrap_err();
        assert!(err.contains("unknown setting 'usernmae'"), "{err}");
        assert!(err.contains("username"), "{err}");
    }
}
