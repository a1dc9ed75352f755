//! Credentials for the tools a developer runs all day: Docker (and podman,
//! skopeo: the same credential-helper protocol), kubectl and git. Which
//! profile answers a tool's request, and with what name and secret, is
//! decided here; the wire formats are the CLI's (`crates/cli`), and the
//! contracts are in `protocols/helpers.md`.
//!
//! Every secret handed out is valid when it leaves: tokens go through
//! [`Latchkey::token`], which renews a due one first.

use crate::error::{Error, Result};
use crate::model::{self, LoginKind, Profile, ProfileInput, ProfileSettings, ServerInput};
use crate::service::Latchkey;
use crate::vault::{Secret, SecretInput, SecretKey, SecretSlot};
use time::OffsetDateTime;

/// The label of profiles that `docker login` created through the helper:
/// `docker logout` removes those, and leaves the ones a person made.
pub const DOCKER_LOGIN_LABEL: &str = "from docker login";

/// What Docker gets for a registry.
#[derive(Debug)]
pub struct RegistryCredential {
    /// The profile that answered.
    pub profile: String,
    pub username: String,
    pub secret: Secret,
}

/// What `docker logout` did to Latchkey's profiles.
#[derive(Debug, PartialEq, Eq)]
pub enum Erased {
    /// The profile `docker login` had made is gone, with its secret.
    Removed(String),
    /// The profile answering is one a person made in Latchkey: it stays.
    Kept(String),
    /// Nothing answers for the registry.
    NotFound,
}

/// What `docker login` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored {
    Created(String),
    Updated(String),
}

/// How well a profile answers for a registry: lower is better.
fn tier(profile: &Profile, server_host: Option<&str>, key: &str) -> Option<u8> {
    if let Some(setting) = &profile.settings.registry {
        return match model::parse_registry_setting(setting) {
            Ok((_, host)) if host == key => Some(0),
            _ => None,
        };
    }
    if server_host != Some(key) {
        return None;
    }
    match profile.login {
        LoginKind::QuayRegistry => Some(1),
        LoginKind::QuayDirectOauth => Some(2),
        _ => None,
    }
}

/// The user name a registry sees for a profile.
fn registry_username(profile: &Profile) -> String {
    if let Some((Some(user), _)) = profile
        .settings
        .registry
        .as_deref()
        .and_then(|r| model::parse_registry_setting(r).ok())
    {
        return user;
    }
    match profile.login {
        // Quay's names for a token presented as a password (protocols §2.1).
        LoginKind::QuayDirectOauth => "$oauthtoken".into(),
        LoginKind::QuayRegistry if profile.settings.source_profile.is_some() => {
            "$oauthtoken".into()
        }
        // GitHub takes any name with a token; gh uses this one.
        LoginKind::Github | LoginKind::GithubDevice | LoginKind::GithubKontinuous => {
            "x-access-token".into()
        }
        _ => profile
            .settings
            .username
            .clone()
            .unwrap_or_else(|| "oauth2".into()),
    }
}

/// A name for a profile or server that `validate_name` accepts.
fn name_from(raw: &str) -> String {
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    name.truncate(56);
    if name.is_empty() {
        name = "registry".into();
    }
    name
}

impl Latchkey {
    /// The profiles that answer for a registry, best first; several only when
    /// equally good.
    async fn registry_candidates(&self, key: &str) -> Result<Vec<Profile>> {
        let servers = self.store().servers().await?;
        let mut found: Vec<(u8, Profile)> = Vec::new();
        for p in self.store().profiles().await? {
            let host = servers
                .iter()
                .find(|s| s.id == p.server_id)
                .and_then(|s| model::registry_host(&s.url));
            if let Some(t) = tier(&p, host.as_deref(), key) {
                found.push((t, p));
            }
        }
        let best = found.iter().map(|(t, _)| *t).min();
        Ok(found
            .into_iter()
            .filter(|(t, _)| Some(*t) == best)
            .map(|(_, p)| p)
            .collect())
    }

    /// The one profile that answers for a registry, if any; two equally good
    /// ones are an error that says how to choose.
    pub async fn registry_profile(&self, server_url: &str) -> Result<Option<Profile>> {
        let key = model::registry_host(server_url).ok_or_else(|| {
            Error::invalid(
                "server_url",
                format!("'{server_url}' names no registry host"),
            )
        })?;
        let mut found = self.registry_candidates(&key).await?;
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => {
                let names: Vec<String> = found.into_iter().map(|p| p.name).collect();
                Err(Error::Conflict {
                    field: Some("registry"),
                    message: format!(
                        "profiles {} all answer for {key}; give the one to use the setting \
                         `registry = \"{key}\"` (or remove it from the others)",
                        names.join(", ")
                    ),
                })
            }
        }
    }

    /// A valid credential for a registry: the profile's token (renewed first
    /// when due), or for a Quay registry login the password or robot token it
    /// presents. `None` when no profile answers.
    pub async fn registry_credential(
        &self,
        server_url: &str,
    ) -> Result<Option<RegistryCredential>> {
        let Some(profile) = self.registry_profile(server_url).await? else {
            return Ok(None);
        };
        let username = registry_username(&profile);
        let secret = match (profile.login, &profile.settings.source_profile) {
            (LoginKind::QuayRegistry, Some(source)) => self.token(source).await?.1,
            (LoginKind::QuayRegistry, None) => self
                .vault()
                .get(SecretKey::new(profile.id, SecretSlot::Password))
                .await?
                .ok_or_else(|| {
                    Error::LoginRequired(format!(
                        "{} keeps no password or robot token to give Docker; store it with \
                         `latchkey profile secret {}` (reads stdin)",
                        profile.name, profile.name
                    ))
                })?,
            _ => self.token(&profile.name).await?.1,
        };
        Ok(Some(RegistryCredential {
            profile: profile.name,
            username,
            secret,
        }))
    }

    /// Every registry some profile answers for, with the user name Docker
    /// would get (no secret is read).
    pub async fn registry_list(&self) -> Result<Vec<(String, String)>> {
        let servers = self.store().servers().await?;
        let mut best: std::collections::BTreeMap<String, (u8, String)> = Default::default();
        for p in self.store().profiles().await? {
            let server_host = servers
                .iter()
                .find(|s| s.id == p.server_id)
                .and_then(|s| model::registry_host(&s.url));
            let key = match &p.settings.registry {
                Some(r) => match model::parse_registry_setting(r) {
                    Ok((_, host)) => host,
                    Err(_) => continue,
                },
                None => match &server_host {
                    Some(h) => h.clone(),
                    None => continue,
                },
            };
            if let Some(t) = tier(&p, server_host.as_deref(), &key) {
                let entry = best.entry(key).or_insert((u8::MAX, String::new()));
                if t < entry.0 {
                    *entry = (t, registry_username(&p));
                }
            }
        }
        Ok(best.into_iter().map(|(k, (_, user))| (k, user)).collect())
    }

    /// Keeps what `docker login` hands over: in the profile that answers for
    /// the registry when it is one `docker login` made (or a Quay registry
    /// login as the same user), else in a new profile, on a new `registry`
    /// server if no server has the registry's host.
    pub async fn registry_store(
        &self,
        server_url: &str,
        username: &str,
        secret: Secret,
    ) -> Result<Stored> {
        let key = model::registry_host(server_url).ok_or_else(|| {
            Error::invalid(
                "server_url",
                format!("'{server_url}' names no registry host"),
            )
        })?;
        if username.trim().is_empty() {
            return Err(Error::invalid("username", "no credentials username"));
        }
        if secret.is_empty() {
            return Err(Error::invalid("secret", "no credentials secret"));
        }
        if let Some(p) = self.registry_profile(server_url).await? {
            let same_user = registry_username(&p) == username;
            let ours = p.label.as_deref() == Some(DOCKER_LOGIN_LABEL);
            if ours && p.login == LoginKind::ManualToken {
                let (server, _) = self.server_and_tenant(&p).await?;
                let input = ProfileInput {
                    name: p.name.clone(),
                    server: server.name,
                    login: p.login.to_string(),
                    settings: ProfileSettings {
                        registry: Some(format!("{username}@{key}")),
                        ..Default::default()
                    },
                    label: p.label.clone(),
                    secret: Some(SecretInput(secret)),
                    ..Default::default()
                };
                self.update_profile(p.id, &input).await?;
                return Ok(Stored::Updated(p.name));
            }
            if same_user
                && p.login == LoginKind::QuayRegistry
                && p.settings.source_profile.is_none()
            {
                self.set_profile_secret(&p.name, secret).await?;
                return Ok(Stored::Updated(p.name));
            }
            return Err(Error::Conflict {
                field: Some("registry"),
                message: format!(
                    "Latchkey's profile {} answers for {key} as {}; to log in as {username} \
                     through docker, remove that profile or its registry setting first",
                    p.name,
                    registry_username(&p)
                ),
            });
        }
        // A new profile: a Quay registry login on a Quay server of that host,
        // else a token on a registry server.
        let servers = self.store().servers().await?;
        let quay = servers.iter().find(|s| {
            s.kind == model::ServerKind::Quay
                && model::registry_host(&s.url).as_deref() == Some(&key)
        });
        let server = match quay {
            Some(s) => s.clone(),
            None => match servers.iter().find(|s| {
                s.kind == model::ServerKind::Registry
                    && model::registry_host(&s.url).as_deref() == Some(&key)
            }) {
                Some(s) => s.clone(),
                None => {
                    let taken: Vec<String> = servers.iter().map(|s| s.name.clone()).collect();
                    let name = free_name(&name_from(&key), &taken);
                    self.add_server(&ServerInput {
                        name,
                        kind: model::ServerKind::Registry.to_string(),
                        url: format!("https://{key}"),
                        ca_pem: None,
                    })
                    .await?
                }
            },
        };
        let taken: Vec<String> = self
            .store()
            .profiles()
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect();
        let name = free_name(&name_from(&format!("{}-{username}", server.name)), &taken);
        let input = if server.kind == model::ServerKind::Quay {
            ProfileInput {
                name: name.clone(),
                server: server.name.clone(),
                login: LoginKind::QuayRegistry.to_string(),
                settings: ProfileSettings {
                    username: Some(username.to_string()),
                    ..Default::default()
                },
                label: Some(DOCKER_LOGIN_LABEL.into()),
                secret: Some(SecretInput(secret)),
                ..Default::default()
            }
        } else {
            ProfileInput {
                name: name.clone(),
                server: server.name.clone(),
                login: LoginKind::ManualToken.to_string(),
                settings: ProfileSettings {
                    registry: Some(format!("{username}@{key}")),
                    ..Default::default()
                },
                label: Some(DOCKER_LOGIN_LABEL.into()),
                secret: Some(SecretInput(secret)),
                ..Default::default()
            }
        };
        self.add_profile(&input).await?;
        Ok(Stored::Created(name))
    }

    /// `docker logout`: forgets a profile `docker login` made; one a person
    /// made stays (logging out of Docker is not removing it from Latchkey).
    pub async fn registry_erase(&self, server_url: &str) -> Result<Erased> {
        match self.registry_profile(server_url).await? {
            None => Ok(Erased::NotFound),
            Some(p) if p.label.as_deref() == Some(DOCKER_LOGIN_LABEL) => {
                self.remove_profile(&p.name).await?;
                Ok(Erased::Removed(p.name))
            }
            Some(p) => Ok(Erased::Kept(p.name)),
        }
    }
}

fn free_name(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|n| !taken.contains(n))
        .expect("some number is free")
}

/// The host git names for a server's URL: `host[:port]` as git sends it in
/// `host=` (port only when the URL has one), lower case; GitHub's API host
/// stands for GitHub itself.
pub fn git_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let host = match host.as_str() {
        "api.github.com" => "github.com".to_string(),
        _ => host,
    };
    Some(match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

impl Latchkey {
    /// The GitHub profiles whose token git may present to `host` (as git
    /// sends it, `gist.` included: gists live on the same GitHub). One is
    /// the answer; two are an error that says how to choose.
    pub async fn git_profile(&self, host: &str) -> Result<Option<Profile>> {
        let host = host.to_ascii_lowercase();
        let host = host.strip_prefix("gist.").unwrap_or(&host);
        let servers = self.store().servers().await?;
        let mut found: Vec<Profile> = Vec::new();
        for p in self.store().profiles().await? {
            if !matches!(p.login, LoginKind::Github | LoginKind::GithubDevice) {
                continue;
            }
            let server_host = servers
                .iter()
                .find(|s| s.id == p.server_id)
                .and_then(|s| git_host(&s.url));
            if server_host.as_deref() == Some(host) {
                found.push(p);
            }
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => {
                let names: Vec<String> = found.into_iter().map(|p| p.name).collect();
                Err(Error::Conflict {
                    field: Some("profile"),
                    message: format!(
                        "profiles {} all log into {host}; name the one for git in its helper \
                         line: `git config --global credential.https://{host}.helper \
                         '!latchkey git-credential --profile {}'`",
                        names.join(", "),
                        names[0]
                    ),
                })
            }
        }
    }
}

/// When a token stops being good for a tool that caches it (kubectl): a
/// little before it expires, and no later than when Latchkey would renew it,
/// so the tool asks again and gets the renewed one. Never in the past while
/// the token itself is still valid.
pub fn hand_out_until(
    now: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    renew_due_at: Option<OffsetDateTime>,
) -> Option<OffsetDateTime> {
    let exp = expires_at?;
    let margin = time::Duration::seconds(30);
    let mut until = if exp - margin > now {
        exp - margin
    } else {
        exp
    };
    if let Some(due) = renew_due_at {
        if due > now && due < until {
            until = due;
        }
    }
    Some(until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn git_hosts_are_named_as_git_sends_them() {
        for (url, host) in [
            ("https://github.com", Some("github.com")),
            ("https://api.github.com/", Some("github.com")),
            ("https://GHE.example.com/api/v3", Some("ghe.example.com")),
            ("http://127.0.0.1:8123/github", Some("127.0.0.1:8123")),
            ("not a url", None),
        ] {
            assert_eq!(git_host(url).as_deref(), host, "{url}");
        }
    }

    #[test]
    fn registry_names_are_normalised_as_docker_and_podman_send_them() {
        for (raw, host) in [
            ("https://index.docker.io/v1/", "docker.io"),
            ("docker.io", "docker.io"),
            ("registry-1.docker.io", "docker.io"),
            ("https://GHCR.io/v2/", "ghcr.io"),
            ("http://127.0.0.1:5000", "127.0.0.1:5000"),
            ("quay.example.com/acme/web", "quay.example.com"),
        ] {
            assert_eq!(model::registry_host(raw).as_deref(), Some(host), "{raw}");
        }
        for bad in ["", "https://", "a b", "-x", "ex ample.com"] {
            assert_eq!(model::registry_host(bad), None, "{bad}");
        }
        assert_eq!(
            model::parse_registry_setting("alice@ghcr.io").unwrap(),
            (Some("alice".into()), "ghcr.io".into())
        );
        assert_eq!(
            model::parse_registry_setting("acme+bot@quay.io:443").unwrap(),
            (Some("acme+bot".into()), "quay.io:443".into())
        );
        assert!(model::parse_registry_setting("@ghcr.io").is_err());
    }

    #[test]
    fn generated_names_are_valid_and_free() {
        for raw in [
            "127.0.0.1:5000-acme+deployer",
            "<token>",
            "ghcr.io-alice",
            "++",
        ] {
            model::validate_name("name", &name_from(raw)).unwrap();
        }
        let taken = vec!["a".to_string(), "a-2".to_string()];
        assert_eq!(free_name("a", &taken), "a-3");
        assert_eq!(free_name("b", &taken), "b");
    }

    #[test]
    fn tools_ask_again_before_expiry_and_at_the_renewal_point() {
        let now = datetime!(2030-01-01 12:00 UTC);
        let exp = datetime!(2030-01-01 13:00 UTC);
        assert_eq!(
            hand_out_until(now, Some(exp), None),
            Some(datetime!(2030-01-01 12:59:30 UTC))
        );
        let due = datetime!(2030-01-01 12:45 UTC);
        assert_eq!(hand_out_until(now, Some(exp), Some(due)), Some(due));
        // Due already (a renewal failed): the expiry, less the margin.
        let past = datetime!(2030-01-01 11:00 UTC);
        assert_eq!(
            hand_out_until(now, Some(exp), Some(past)),
            Some(datetime!(2030-01-01 12:59:30 UTC))
        );
        // Nearly expired: the expiry itself rather than a time gone by.
        let soon = datetime!(2030-01-01 12:00:10 UTC);
        assert_eq!(hand_out_until(now, Some(soon), None), Some(soon));
        assert_eq!(hand_out_until(now, None, Some(due)), None);
    }
}
