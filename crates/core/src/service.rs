//! [`Latchkey`]: the one entry point the hosts call. It combines the store, the
//! vault, the clock and the redirect hub, and applies the rules that span them
//! (a profile and its secrets are created and removed together; a server with
//! profiles is removed only when the user agrees).

use crate::clock::{self, SharedClock};
use crate::env::Environment;
use crate::error::{Error, Result};
use crate::flows::RedirectHub;
pub use crate::model::SummaryItem;
use crate::model::{
    self, LoginKind, LoginSpec, Profile, ProfileInput, ProfileSettings, Server, ServerInput,
    ServerKind, Tenant,
};
use crate::settings::{self, AppSettings};
use crate::store::HistoryRow;
use crate::store::{is_unique_violation, Store, StoreError};
use crate::tokens::{self as tok, IssuedToken, RenewalState, TokenKind, TokenMeta, TokenStatus};
use crate::vault::{Secret, SecretKey, SecretSlot, Vault};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A server as lists show it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ServerView {
    #[serde(flatten)]
    pub server: Server,
    pub tenants: Vec<Tenant>,
    pub profile_count: u32,
}

/// A profile as lists show it: names resolved, status attached, no secret.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ProfileView {
    pub id: i64,
    pub name: String,
    pub server: String,
    pub server_kind: ServerKind,
    pub tenant: Option<String>,
    pub login: LoginKind,
    pub settings: ProfileSettings,
    pub label: Option<String>,
    pub status: TokenStatus,
    pub status_label: String,
    /// When the current credential was issued (RFC 3339), if known: the
    /// window's timeline draws it from here to `expires_at`.
    pub issued_at: Option<String>,
    /// When the current credential expires (RFC 3339), if known.
    pub expires_at: Option<String>,
    /// When it is due for renewal (RFC 3339), if it renews.
    pub renew_due_at: Option<String>,
    /// Latchkey can renew it without the user.
    pub renewable: bool,
    /// A browser login for this profile is waiting for its redirect.
    pub waiting: bool,
    /// When the last renewal failed (RFC 3339), while it has not succeeded since.
    pub renewal_failed_at: Option<String>,
}

/// A profile's line of a list: what its [`ProfileView`] holds, borrowed
/// from the rows read ([`ProfileList`]), written as the same JSON as the
/// view (`a_line_is_written_as_its_view`), without a string of its own.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileLine<'a> {
    pub id: i64,
    pub name: &'a str,
    pub server: &'a str,
    pub server_kind: ServerKind,
    pub tenant: Option<&'a str>,
    pub login: LoginKind,
    pub settings: &'a ProfileSettings,
    pub label: Option<&'a str>,
    pub status: TokenStatus,
    pub status_label: &'static str,
    pub issued_at: Option<Rfc3339>,
    pub expires_at: Option<Rfc3339>,
    pub renew_due_at: Option<Rfc3339>,
    pub renewable: bool,
    pub waiting: bool,
    pub renewal_failed_at: Option<Rfc3339>,
}

impl ProfileLine<'_> {
    /// The view of its own that the line borrows from.
    pub fn to_view(&self) -> ProfileView {
        ProfileView {
            id: self.id,
            name: self.name.to_string(),
            server: self.server.to_string(),
            server_kind: self.server_kind,
            tenant: self.tenant.map(str::to_string),
            login: self.login,
            settings: self.settings.clone(),
            label: self.label.map(str::to_string),
            status: self.status,
            status_label: self.status_label.to_string(),
            issued_at: self.issued_at.map(|t| tok::rfc3339(t.0)),
            expires_at: self.expires_at.map(|t| tok::rfc3339(t.0)),
            renew_due_at: self.renew_due_at.map(|t| tok::rfc3339(t.0)),
            renewable: self.renewable,
            waiting: self.waiting,
            renewal_failed_at: self.renewal_failed_at.map(|t| tok::rfc3339(t.0)),
        }
    }
}

/// A time written as the string [`tok::rfc3339`] makes of it, without
/// making the string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rfc3339(pub OffsetDateTime);

impl Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(tok::rfc3339_in(self.0, &mut [0; tok::RFC3339_MAX]))
    }
}

/// Every profile's row as a list reads it, and what turns a row into its
/// line: [`Latchkey::profile_list`].
pub struct ProfileList<'a> {
    listings: Vec<crate::store::ProfileListing>,
    context: ListContext<'a>,
}

impl ProfileList<'_> {
    /// Each profile's line, by name, built as it is taken.
    pub fn lines(&self) -> impl Iterator<Item = ProfileLine<'_>> {
        self.listings.iter().filter_map(|l| self.context.line(l))
    }
}

/// What a profile's line needs besides its row.
struct ListContext<'a> {
    core: &'a Latchkey,
    servers: HashMap<i64, Server>,
    tenants: HashMap<i64, Tenant>,
    waiting: Vec<i64>,
    expiring: Duration,
    now: OffsetDateTime,
}

impl ListContext<'_> {
    fn line<'l>(&'l self, listing: &'l crate::store::ProfileListing) -> Option<ProfileLine<'l>> {
        // Every profile's server was found by `Latchkey::profile_list`.
        let server = self.servers.get(&listing.server_id)?;
        let token = listing.token.as_ref().map(crate::store::ListedToken::meta);
        // What `status` reads of the renewal state: whether it failed.
        let renewal = RenewalState {
            last_error: listing.renewal_failing.then(String::new),
            ..RenewalState::default()
        };
        let policy = crate::providers::registry::renewal_policy(listing.login);
        let status = tok::status(self.now, token.as_ref(), &renewal, policy, self.expiring);
        let times = listing.token.as_ref();
        Some(ProfileLine {
            id: listing.id,
            name: &listing.name,
            server: &server.name,
            server_kind: server.kind,
            tenant: listing
                .tenant_id
                .and_then(|t| self.tenants.get(&t))
                .map(|t| t.name.as_str()),
            login: listing.login,
            settings: listing.settings(),
            label: listing.label.as_deref(),
            status,
            // A DCI key is never "logged in": it signs each request.
            status_label: if listing.login == LoginKind::DciHmac && status == TokenStatus::None {
                "signs each request"
            } else {
                status.label()
            },
            issued_at: times.and_then(|t| t.issued_at).map(Rfc3339),
            expires_at: times.and_then(|t| t.expires_at).map(Rfc3339),
            renew_due_at: times.and_then(|t| t.renew_due_at).map(Rfc3339),
            renewable: policy.renews() && self.core.renewers.contains_key(&listing.login),
            waiting: self.waiting.contains(&listing.id),
            renewal_failed_at: listing.renewal_failed_at.map(Rfc3339),
        })
    }
}

/// One token a profile holds, as the detail view shows it. No secret.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct TokenInfo {
    pub kind: TokenKind,
    pub issued_at: Option<String>,
    pub expires_at: Option<String>,
    pub renew_due_at: Option<String>,
    pub scopes: Vec<String>,
    /// Identifying claims (sub, iss, aud, user_id, ...), values as text.
    pub summary: Vec<SummaryItem>,
}

/// One line of a profile's history.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct HistoryEntry {
    pub at: String,
    pub event: String,
    pub detail: Option<String>,
}

/// A profile's credential in full, for its detail view. No secret.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CredentialDetail {
    pub profile: ProfileView,
    pub renewable: bool,
    pub tokens: Vec<TokenInfo>,
    pub last_error: Option<String>,
    pub history: Vec<HistoryEntry>,
}

/// What "copy" puts on the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum CopyFormat {
    /// The token alone.
    Token,
    /// `Bearer <token>`
    Bearer,
    /// `Authorization: Bearer <token>`
    Header,
    /// `curl -H 'Authorization: Bearer <token>' '<server URL>'`
    Curl,
}

impl CopyFormat {
    pub fn describe(self) -> &'static str {
        match self {
            CopyFormat::Token => "token",
            CopyFormat::Bearer => "Bearer token",
            CopyFormat::Header => "Authorization header",
            CopyFormat::Curl => "curl command",
        }
    }
}

/// What can be created: server kinds, their login kinds, each login's fields.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Catalog {
    pub servers: Vec<ServerKindInfo>,
    pub logins: Vec<LoginSpec>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ServerKindInfo {
    pub kind: ServerKind,
    pub logins: Vec<LoginKind>,
    pub has_tenants: bool,
}

pub fn catalog() -> Catalog {
    Catalog {
        servers: ServerKind::ALL
            .iter()
            .map(|k| ServerKindInfo {
                kind: *k,
                logins: crate::providers::registry::logins_on(*k),
                has_tenants: k.has_tenants(),
            })
            .collect(),
        logins: LoginKind::ALL
            .iter()
            .map(|l| crate::providers::registry::spec(*l))
            .collect(),
    }
}

/// The core, opened on one data folder and one vault.
#[derive(Clone)]
pub struct Latchkey {
    store: Store,
    vault: Vault,
    clock: SharedClock,
    redirects: Arc<RedirectHub>,
    pub(crate) renewers: HashMap<LoginKind, Arc<dyn crate::providers::Renewer>>,
    pub(crate) providers: crate::providers::registry::Providers,
    /// One lock per profile being renewed (single-flight).
    pub(crate) flights: Arc<std::sync::Mutex<HashMap<i64, Arc<crate::tokens::Flight>>>>,
    /// How browser and device logins ended, for whoever shows it.
    pub(crate) outcomes: tokio::sync::broadcast::Sender<crate::providers::LoginOutcome>,
}

impl std::fmt::Debug for Latchkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Latchkey")
            .field("store", &self.store.path())
            .finish_non_exhaustive()
    }
}

fn conflict_or(err: StoreError, field: &'static str, message: String) -> Error {
    if is_unique_violation(&err) {
        Error::Conflict {
            field: Some(field),
            message,
        }
    } else {
        err.into()
    }
}

impl Latchkey {
    /// Opens the installation named by the environment, with the OS keyring.
    pub async fn open(env: &Environment) -> Result<Self> {
        Self::open_with(env, Vault::keyring(&env.keyring_service), clock::system()).await
    }

    /// [`Latchkey::open`] for a command that runs a moment (the CLI): the
    /// store on one connection ([`Store::open_single_connection`]).
    pub async fn open_for_command(env: &Environment) -> Result<Self> {
        let store = Store::open_single_connection(&env.data_dir).await?;
        Ok(Self::with_store(store, Vault::keyring(&env.keyring_service), clock::system()).await)
    }

    pub async fn open_with(env: &Environment, vault: Vault, clock: SharedClock) -> Result<Self> {
        let store = Store::open(&env.data_dir).await?;
        Ok(Self::with_store(store, vault, clock).await)
    }

    async fn with_store(store: Store, vault: Vault, clock: SharedClock) -> Self {
        let core = Self {
            store,
            vault,
            redirects: Arc::new(RedirectHub::new(Arc::clone(&clock))),
            clock,
            renewers: crate::providers::registry::builtin_renewers(),
            providers: crate::providers::registry::Providers::builtin(),
            flights: Default::default(),
            outcomes: tokio::sync::broadcast::channel(16).0,
        };
        // Unreadable settings are reported where they are used; logins then
        // wait the default time.
        if let Ok(settings) = core.settings().await {
            core.apply_login_wait(&settings);
        }
        core
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn redirects(&self) -> &RedirectHub {
        &self.redirects
    }

    // ---- servers ----

    pub async fn servers(&self) -> Result<Vec<ServerView>> {
        let servers = self.store.servers().await?;
        let tenants = self.store.tenants().await?;
        let counts: HashMap<i64, u32> = self.store.profile_counts().await?.into_iter().collect();
        Ok(servers
            .into_iter()
            .map(|server| ServerView {
                tenants: tenants
                    .iter()
                    .filter(|t| t.server_id == server.id)
                    .cloned()
                    .collect(),
                profile_count: counts.get(&server.id).copied().unwrap_or(0),
                server,
            })
            .collect())
    }

    pub async fn add_server(&self, input: &ServerInput) -> Result<Server> {
        let (name, kind, url, ca) = model::validate_server(input)?;
        self.store
            .insert_server(&name, kind, &url, ca.as_deref())
            .await
            .map_err(|e| conflict_or(e, "name", format!("a server named '{name}' already exists")))
    }

    pub async fn update_server(&self, id: i64, input: &ServerInput) -> Result<Server> {
        let (name, kind, url, ca) = model::validate_server(input)?;
        let current = self.server_by_id(id).await?;
        if kind != current.kind && !self.store.profile_ids_of_server(id).await?.is_empty() {
            return Err(Error::invalid(
                "kind",
                "the server has profiles, whose logins depend on its kind; remove them before changing the kind",
            ));
        }
        self.store
            .update_server(id, &name, kind, &url, ca.as_deref())
            .await
            .map_err(|e| conflict_or(e, "name", format!("a server named '{name}' already exists")))?
            .ok_or_else(|| Error::NotFound(format!("no server with id {id}")))
    }

    async fn server_by_id(&self, id: i64) -> Result<Server> {
        self.store
            .server(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no server with id {id}")))
    }

    pub async fn server_named(&self, name: &str) -> Result<Server> {
        self.store.server_by_name(name).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "no server named '{name}' (see `latchkey server list`)"
            ))
        })
    }

    /// Removes a server. If profiles use it, refuses unless `cascade`, which
    /// removes them too, secrets included.
    pub async fn remove_server(&self, name: &str, cascade: bool) -> Result<()> {
        let server = self.server_named(name).await?;
        let ids = self.store.profile_ids_of_server(server.id).await?;
        if !ids.is_empty() && !cascade {
            let names = self.profile_names(&ids).await?;
            return Err(Error::NeedsConfirmation(format!(
                "server '{name}' has {} profile{} ({}); remove {} too (--cascade), or remove {} first",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                names.join(", "),
                if ids.len() == 1 { "it" } else { "them" },
                if ids.len() == 1 { "it" } else { "them" },
            )));
        }
        for id in &ids {
            self.vault.forget_profile(*id).await?;
        }
        self.store.delete_server(server.id).await?;
        Ok(())
    }

    async fn profile_names(&self, ids: &[i64]) -> Result<Vec<String>> {
        let all = self.store.profiles().await?;
        Ok(all
            .into_iter()
            .filter(|p| ids.contains(&p.id))
            .map(|p| p.name)
            .collect())
    }

    // ---- tenants ----

    pub async fn add_tenant(&self, server: &str, name: &str) -> Result<Tenant> {
        let server = self.server_named(server).await?;
        let name = name.trim();
        model::validate_tenant(name)?;
        if !server.kind.has_tenants() {
            return Err(Error::invalid(
                "tenant",
                format!("{} servers have no tenants", server.kind),
            ));
        }
        self.store
            .insert_tenant(server.id, name)
            .await
            .map_err(|e| {
                conflict_or(
                    e,
                    "tenant",
                    format!("server '{}' already has a tenant '{name}'", server.name),
                )
            })
    }

    pub async fn remove_tenant(&self, server: &str, name: &str, cascade: bool) -> Result<()> {
        let server = self.server_named(server).await?;
        let tenant = self
            .store
            .tenant_by_name(server.id, name)
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!("server '{}' has no tenant '{name}'", server.name))
            })?;
        let ids = self.store.profile_ids_of_tenant(tenant.id).await?;
        if !ids.is_empty() && !cascade {
            let names = self.profile_names(&ids).await?;
            return Err(Error::NeedsConfirmation(format!(
                "tenant '{name}' has profiles ({}); remove them too (--cascade), or remove them first",
                names.join(", ")
            )));
        }
        for id in &ids {
            self.vault.forget_profile(*id).await?;
        }
        self.store.delete_tenant(tenant.id).await?;
        Ok(())
    }

    // ---- profiles ----

    pub async fn profiles(&self) -> Result<Vec<ProfileView>> {
        Ok(self.profile_views().await?.collect())
    }

    /// Every profile's view, by name, each built as it is taken, so a
    /// caller that keeps only some (the window's first screen) never holds
    /// them all. Everything that can fail is read and checked first.
    pub async fn profile_views(&self) -> Result<impl Iterator<Item = ProfileView> + '_> {
        let ProfileList { listings, context } = self.profile_list().await?;
        Ok(listings
            .into_iter()
            .filter_map(move |listing| context.line(&listing).map(|line| line.to_view())))
    }

    /// Every profile's line of a list, by name, as [`ProfileList::lines`]
    /// gives them: what [`Latchkey::profile_views`] gives, borrowed from the
    /// rows read rather than copied into views of their own, for a caller
    /// that only writes them out (`latchkey profile list --json`).
    /// Everything that can fail is read and checked here.
    pub async fn profile_list(&self) -> Result<ProfileList<'_>> {
        let servers: HashMap<i64, Server> = self
            .store
            .servers()
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let tenants: HashMap<i64, Tenant> = self
            .store
            .tenants()
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let waiting = self.redirects.waiting();
        let expiring = Duration::minutes(self.settings().await?.expiring_minutes as i64);
        let now = self.clock.now();
        let listings = self.store.profile_listings().await?;
        if let Some(l) = listings
            .iter()
            .find(|l| !servers.contains_key(&l.server_id))
        {
            return Err(Error::Internal(format!("profile {} has no server", l.name)));
        }
        Ok(ProfileList {
            listings,
            context: ListContext {
                core: self,
                servers,
                tenants,
                waiting,
                expiring,
                now,
            },
        })
    }

    pub async fn profile_view(&self, id: i64) -> Result<ProfileView> {
        // Views are built as they are taken: only up to the one asked for.
        self.profile_views()
            .await?
            .find(|p| p.id == id)
            .ok_or_else(|| Error::NotFound(format!("no profile with id {id}")))
    }

    pub async fn profile_named(&self, name: &str) -> Result<Profile> {
        self.store.profile_by_name(name).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "no profile named '{name}' (see `latchkey profile list`)"
            ))
        })
    }

    /// Checks a profile input; returns what to store.
    /// `existing` is the profile being edited: its stored secret satisfies a
    /// required one, as long as the login kind stays the same.
    async fn resolve_profile(
        &self,
        input: &ProfileInput,
        existing: Option<&Profile>,
    ) -> Result<ResolvedProfile> {
        // The name first, as the form shows errors in field order.
        model::validate_name("name", input.name.trim())?;
        let server = self
            .store
            .server_by_name(input.server.trim())
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "server",
                    format!(
                        "no server named '{}'; add the server first",
                        input.server.trim()
                    ),
                )
            })?;
        let ProfileFields {
            name,
            login,
            tenant,
            settings,
            label,
        } = check_profile(input, server.kind)?;
        let secret_spec = crate::providers::registry::spec(login).secret;
        let secret = input
            .secret
            .as_ref()
            .map(|s| s.0.clone())
            .filter(|s| !s.is_empty());
        match (&secret_spec, &secret) {
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "secret",
                    format!("{login} keeps no secret; leave it empty"),
                ))
            }
            (Some(spec), None) if spec.required => {
                let stored = match existing {
                    Some(p) if p.login == login => self
                        .vault
                        .get(SecretKey::new(p.id, spec.slot))
                        .await?
                        .is_some(),
                    _ => false,
                };
                if !stored {
                    return Err(Error::invalid(
                        "secret",
                        format!("{login} needs its {}", spec.label.to_lowercase()),
                    ));
                }
            }
            _ => {}
        }
        let token_expires = match input.token_expires.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => {
                if login != LoginKind::ManualToken {
                    return Err(Error::invalid(
                        "token_expires",
                        format!("{login} learns the expiry from the server; leave it empty"),
                    ));
                }
                Some(tok::parse_expiry(t, self.clock.now())?)
            }
            _ => None,
        };
        Ok(ResolvedProfile {
            name,
            server,
            tenant,
            login,
            settings,
            label,
            secret: secret.zip(secret_spec.map(|s| s.slot)),
            token_expires,
        })
    }

    async fn tenant_id(&self, server: &Server, tenant: Option<&str>) -> Result<Option<i64>> {
        let Some(name) = tenant else { return Ok(None) };
        if let Some(t) = self.store.tenant_by_name(server.id, name).await? {
            return Ok(Some(t.id));
        }
        Ok(Some(self.store.insert_tenant(server.id, name).await?.id))
    }

    /// Creates a profile and stores its secret in the vault; if the vault
    /// refuses, the profile is not kept either.
    pub async fn add_profile(&self, input: &ProfileInput) -> Result<Profile> {
        let r = self.resolve_profile(input, None).await?;
        let tenant_id = self.tenant_id(&r.server, r.tenant.as_deref()).await?;
        let profile = self
            .store
            .insert_profile(
                &r.name,
                r.server.id,
                tenant_id,
                r.login,
                &r.settings,
                r.label.as_deref(),
            )
            .await
            .map_err(|e| {
                conflict_or(
                    e,
                    "name",
                    format!("a profile named '{}' already exists", r.name),
                )
            })?;
        if let Some((secret, slot)) = r.secret {
            let stored = if r.login == LoginKind::ManualToken {
                let issued = IssuedToken::from_token(
                    TokenKind::Access,
                    secret,
                    self.clock.now(),
                    r.token_expires,
                );
                self.record_issued(&profile, issued, "issued", Some("pasted by the user"))
                    .await
            } else {
                self.vault
                    .set(SecretKey::new(profile.id, slot), secret)
                    .await
                    .map_err(Error::from)
            };
            if let Err(err) = stored {
                self.store.delete_profile(profile.id).await?;
                return Err(err);
            }
        }
        Ok(profile)
    }

    /// Changes a profile; a given secret replaces the stored one, an absent one
    /// keeps it.
    pub async fn update_profile(&self, id: i64, input: &ProfileInput) -> Result<Profile> {
        let current = self
            .store
            .profile(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no profile with id {id}")))?;
        let r = self.resolve_profile(input, Some(&current)).await?;
        let tenant_id = self.tenant_id(&r.server, r.tenant.as_deref()).await?;
        // The row first: a refused rename must not have replaced the secret.
        let profile = self
            .store
            .update_profile(
                id,
                &r.name,
                r.server.id,
                tenant_id,
                r.login,
                &r.settings,
                r.label.as_deref(),
            )
            .await
            .map_err(|e| {
                conflict_or(
                    e,
                    "name",
                    format!("a profile named '{}' already exists", r.name),
                )
            })?
            .ok_or_else(|| Error::NotFound(format!("no profile with id {id}")))?;
        if r.login != current.login {
            // Secrets and tokens of one login kind mean nothing to another.
            self.vault.forget_profile(id).await?;
            self.store.delete_tokens(id).await?;
        }
        if r.login == LoginKind::ManualToken {
            let token = match r.secret {
                Some((secret, _)) => Some(secret),
                None if r.token_expires.is_some() => {
                    self.vault
                        .get(SecretKey::new(id, SecretSlot::AccessToken))
                        .await?
                }
                None => None,
            };
            if let Some(token) = token {
                let issued = IssuedToken::from_token(
                    TokenKind::Access,
                    token,
                    self.clock.now(),
                    r.token_expires,
                );
                self.record_issued(&profile, issued, "issued", Some("pasted by the user"))
                    .await?;
            }
        } else if let Some((secret, slot)) = r.secret {
            self.vault.set(SecretKey::new(id, slot), secret).await?;
        }
        Ok(profile)
    }

    /// Gives a profile its secret (password, client secret, key, robot token,
    /// or the token itself for `manual-token`), replacing the stored one:
    /// what an imported profile needs before it works.
    pub async fn set_profile_secret(&self, name: &str, secret: Secret) -> Result<Profile> {
        let profile = self.profile_named(name).await?;
        if crate::providers::registry::spec(profile.login)
            .secret
            .is_none()
        {
            return Err(Error::invalid(
                "secret",
                format!("{} keeps no secret", profile.login),
            ));
        }
        let (server, tenant) = self.server_and_tenant(&profile).await?;
        let input = ProfileInput {
            name: profile.name.clone(),
            server: server.name,
            tenant,
            login: profile.login.to_string(),
            settings: profile.settings.clone(),
            label: profile.label.clone(),
            secret: Some(crate::vault::SecretInput(secret)),
            token_expires: None,
        };
        self.update_profile(profile.id, &input).await
    }

    /// Forgets a profile and its secrets. Secrets go first: if the keyring is
    /// unreachable the profile stays, so no secret is orphaned.
    pub async fn remove_profile(&self, name: &str) -> Result<()> {
        let profile = self.profile_named(name).await?;
        self.redirects.cancel(profile.id);
        self.vault.forget_profile(profile.id).await?;
        self.store.delete_profile(profile.id).await?;
        Ok(())
    }

    // ---- tokens ----

    /// Keeps a token a login or renewal produced: every secret to the vault,
    /// what is known about them to the store, the failure state cleared, and a
    /// line in the history.
    ///
    /// The order of the writes is what lets a process die at any point (a
    /// `kill -9` in the middle of a renewal; `scripts/crash-test.sh` does
    /// that a few hundred times) and leave a profile that still works, or
    /// that says it needs a login:
    ///
    /// 1. The refresh token goes to the keyring first. From the moment the
    ///    server answered, it considers only the new refresh token current: it
    ///    rotated the old one, and presenting the old one again looks like
    ///    token theft to a server with reuse detection, which then revokes the
    ///    whole grant. Until the new one is stored a crash loses the grant;
    ///    writing it before anything else keeps that window as short as it
    ///    can be (no request and no other write comes between the answer and
    ///    this write).
    /// 2. Then the ID token and the access token. A crash before them leaves
    ///    the old access token beside the new refresh token, and the metadata
    ///    still describes the old token: it is due (or, after a forced
    ///    renewal, still valid), and the next renewal uses the new refresh
    ///    token, which works.
    /// 3. Then the metadata, token and cleared renewal state in one SQLite
    ///    transaction. A crash before it leaves new secrets described by the
    ///    old metadata, which says they are due or expire sooner than they do:
    ///    at worst one renewal too many.
    /// 4. The schedule and the history last: the schedule is recomputed at
    ///    every start, the history only informs.
    ///
    /// Readers that take no lock (a `latchkey token` whose token is not due)
    /// must read the metadata first and the keyring after: the metadata then
    /// never describes a newer token than the one read, so a reader gets the
    /// token it believes it has, or a newer one that lives longer. Renewals
    /// write holding the profile's renewal lock ([`crate::renewal_lock`]); a
    /// login, which only the user starts, writes without it.
    pub async fn record_issued(
        &self,
        profile: &Profile,
        issued: IssuedToken,
        event: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        let now = self.clock.now();
        let meta = issued.meta(
            crate::providers::registry::renewal_policy(profile.login),
            now,
        );
        if let Some(refresh) = issued.refresh {
            self.vault
                .set(
                    SecretKey::new(profile.id, SecretSlot::RefreshToken),
                    refresh,
                )
                .await?;
        }
        if let Some(id_token) = issued.id_token {
            self.vault
                .set(SecretKey::new(profile.id, SecretSlot::IdToken), id_token)
                .await?;
        }
        self.vault
            .set(SecretKey::new(profile.id, issued.kind.slot()), issued.token)
            .await?;
        let expiry = match meta.expires_at {
            Some(at) => format!("expires {}", tok::rfc3339(at)),
            None => "no expiry".to_string(),
        };
        let detail = match detail {
            Some(d) => format!("{d}; {expiry}"),
            None => expiry,
        };
        // The next deadline is the one `reschedule` would compute from what
        // is about to be written, so it goes in the same transaction; unless
        // the profile keeps a primary token of another kind that comes first
        // (no login leaves one: changing a profile's login kind forgets its
        // tokens), which `reschedule` then reads as before.
        let (kept_kind, settings) = self
            .store
            .primary_kind_and_setting(profile.id, settings::KEY)
            .await?;
        let renewal = RenewalState::default();
        let is_primary = !matches!(meta.kind, TokenKind::Refresh | TokenKind::Id)
            && kept_kind.is_none_or(|kept| kept.as_str() >= meta.kind.as_str());
        let next_at = if is_primary {
            let thresholds = parse_settings(settings.as_deref())?.reminder_minutes;
            self.next_at_of(
                profile,
                &crate::store::as_stored(&meta),
                &renewal,
                &thresholds,
            )
        } else {
            None
        };
        self.store
            .record_issued(&crate::store::IssuedRecord {
                profile_id: profile.id,
                meta: &meta,
                renewal: &renewal,
                next_at,
                at: now,
                event,
                detail: Some(&detail),
            })
            .await?;
        if !is_primary {
            self.reschedule(profile.id).await?;
        }
        Ok(())
    }

    /// The primary token of a profile, if it still holds one that has not
    /// expired; otherwise what the user must do.
    pub async fn valid_token(&self, name: &str) -> Result<(Profile, Secret)> {
        let profile = self.profile_named(name).await?;
        let meta = self.primary_token(profile.id).await?.ok_or_else(|| {
            Error::LoginRequired(format!(
                "profile '{name}' is not logged in: log in first (`latchkey login {name}`)"
            ))
        })?;
        let now = self.clock.now();
        if let Some(expired) = meta.expires_at.filter(|e| now >= *e) {
            return Err(Error::LoginRequired(format!(
                "the token of '{name}' expired {} ({}): log in again",
                tok::relative(now, expired),
                tok::rfc3339(expired)
            )));
        }
        let secret = self
            .vault
            .get(SecretKey::new(profile.id, meta.kind.slot()))
            .await?
            .ok_or_else(|| {
                Error::LoginRequired(format!(
                    "the token of '{name}' is missing from the keyring (removed outside Latchkey?): log in again"
                ))
            })?;
        Ok((profile, secret))
    }

    /// The stored primary token, even if it expired (to inspect it).
    pub(crate) async fn valid_or_expired_token(&self, profile: &Profile) -> Result<Secret> {
        let meta = self.primary_token(profile.id).await?.ok_or_else(|| {
            Error::LoginRequired(format!("profile '{}' holds no token yet", profile.name))
        })?;
        self.vault
            .get(SecretKey::new(profile.id, meta.kind.slot()))
            .await?
            .ok_or_else(|| {
                Error::LoginRequired(format!(
                    "the token of '{}' is missing from the keyring",
                    profile.name
                ))
            })
    }

    async fn primary_token(&self, profile_id: i64) -> Result<Option<TokenMeta>> {
        Ok(self.store.primary_token(profile_id).await?)
    }

    /// The text "copy" puts on the clipboard, and a line in the history.
    pub async fn copy_text(&self, profile_id: i64, format: CopyFormat) -> Result<Secret> {
        let profile = self
            .store
            .profile(profile_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no profile with id {profile_id}")))?;
        if profile.login == LoginKind::DciHmac {
            return Err(Error::invalid(
                "format",
                "DCI signs each request instead of sending a token: use \"Sign a request\"",
            ));
        }
        // Renewed first when due: what is pasted should work for a while.
        let (_, token) = self.token(&profile.name).await?;
        let server = self.server_by_id(profile.server_id).await?;
        let headers = auth_headers(&profile, &token)?;
        let text = match format {
            CopyFormat::Token if profile.login == LoginKind::QuaySession => headers[0].1.clone(),
            CopyFormat::Token => token.expose().to_string(),
            CopyFormat::Bearer if profile.login == LoginKind::QuaySession => {
                return Err(Error::invalid(
                    "format",
                    "a Quay session is a cookie, not a bearer token: copy its headers or the curl line",
                ))
            }
            CopyFormat::Bearer => format!("Bearer {}", token.expose()),
            CopyFormat::Header => headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            CopyFormat::Curl => {
                let mut line = String::from("curl");
                for (k, v) in &headers {
                    line.push_str(&format!(" -H '{k}: {}'", v.replace('\'', "'\\''")));
                }
                line.push_str(&format!(" '{}'", server.url.replace('\'', "%27")));
                line
            }
        };
        self.store
            .add_history(
                profile_id,
                self.clock.now(),
                "copied",
                Some(format.describe()),
            )
            .await?;
        Ok(Secret::new(text))
    }

    /// The headers that authenticate a request with `profile`'s stored
    /// token, in the order to send them.
    pub fn token_headers(
        &self,
        profile: &Profile,
        token: &Secret,
    ) -> Result<Vec<(String, String)>> {
        auth_headers(profile, token)
    }

    /// Forgets the tokens of a profile (not its configured secrets such as a
    /// remembered password or a client secret). Servers that can revoke are
    /// asked to by their login kind's provider before this.
    pub async fn forget_tokens(&self, profile_id: i64, detail: &str) -> Result<()> {
        for slot in [
            SecretSlot::AccessToken,
            SecretSlot::RefreshToken,
            SecretSlot::IdToken,
            SecretSlot::SessionCookie,
        ] {
            self.vault.delete(SecretKey::new(profile_id, slot)).await?;
        }
        self.store.delete_tokens(profile_id).await?;
        self.store
            .add_history(profile_id, self.clock.now(), "logged-out", Some(detail))
            .await?;
        Ok(())
    }

    /// A profile's credential in full: its tokens' metadata and its history.
    pub async fn credential(&self, profile_id: i64) -> Result<CredentialDetail> {
        let profile = self.profile_view(profile_id).await?;
        let tokens = self.store.tokens_of(profile_id).await?;
        let renewal = self.store.renewal(profile_id).await?;
        let history = self.store.history(profile_id, 200).await?;
        Ok(CredentialDetail {
            renewable: crate::providers::registry::renewal_policy(profile.login).renews(),
            tokens: tokens
                .into_iter()
                .map(|t| TokenInfo {
                    kind: t.kind,
                    issued_at: t.issued_at.map(tok::rfc3339),
                    expires_at: t.expires_at.map(tok::rfc3339),
                    renew_due_at: t.renew_due_at.map(tok::rfc3339),
                    scopes: t.scopes,
                    summary: t
                        .summary
                        .into_iter()
                        .map(|(name, value)| SummaryItem {
                            value: match value {
                                serde_json::Value::String(s) => s,
                                other => other.to_string(),
                            },
                            name,
                        })
                        .collect(),
                })
                .collect(),
            last_error: renewal.last_error,
            history: history.into_iter().map(history_entry).collect(),
            profile,
        })
    }

    // ---- settings ----

    fn apply_login_wait(&self, value: &AppSettings) {
        self.redirects.set_login_wait(Duration::minutes(i64::from(
            value.login_wait_minutes.max(1),
        )));
    }

    pub async fn settings(&self) -> Result<AppSettings> {
        parse_settings(self.store.setting(settings::KEY).await?.as_deref())
    }

    pub async fn set_settings(&self, value: &AppSettings) -> Result<()> {
        if !(1..=settings::MAX_LOGIN_WAIT_MINUTES).contains(&value.login_wait_minutes) {
            return Err(Error::invalid(
                "login_wait_minutes",
                format!(
                    "a login waits between 1 and {} minutes for the browser",
                    settings::MAX_LOGIN_WAIT_MINUTES
                ),
            ));
        }
        if value.clipboard_clear_seconds > 24 * 3600 {
            return Err(Error::invalid(
                "clipboard_clear_seconds",
                "clear the clipboard within a day (at most 86400 s), or 0 for never",
            ));
        }
        let json = serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))?;
        self.store.set_setting(settings::KEY, &json).await?;
        self.apply_login_wait(value);
        self.reschedule_all().await?;
        Ok(())
    }
}

/// The settings as stored (a JSON text, if any were saved).
fn parse_settings(json: Option<&str>) -> Result<AppSettings> {
    match json {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| Error::Internal(format!("settings unreadable: {e}"))),
        None => Ok(AppSettings::default()),
    }
}

fn history_entry(row: HistoryRow) -> HistoryEntry {
    HistoryEntry {
        at: tok::rfc3339(row.at),
        event: row.event,
        detail: row.detail,
    }
}

/// A profile's non-secret fields, checked and normalized.
pub(crate) struct ProfileFields {
    pub name: String,
    pub login: LoginKind,
    pub tenant: Option<String>,
    pub settings: ProfileSettings,
    pub label: Option<String>,
}

/// Checks what a profile input says on its own and against the kind of its
/// server: the window, the CLI and an import refuse the same input with the
/// same message. Secrets and references to stored data are the caller's.
pub(crate) fn check_profile(
    input: &ProfileInput,
    server_kind: ServerKind,
) -> Result<ProfileFields> {
    let name = input.name.trim().to_string();
    model::validate_name("name", &name)?;
    let login: LoginKind = input.login.trim().parse()?;
    let logins = crate::providers::registry::logins_on(server_kind);
    if !logins.contains(&login) {
        let choices: Vec<&str> = logins.iter().map(|l| l.as_str()).collect();
        return Err(Error::invalid(
            "login",
            format!(
                "{login} does not work with a {server_kind} server; choose one of: {}",
                choices.join(", ")
            ),
        ));
    }
    let tenant = match input
        .tenant
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => {
            model::validate_tenant(t)?;
            if !server_kind.has_tenants() {
                return Err(Error::invalid(
                    "tenant",
                    format!("{server_kind} servers have no tenants; leave it empty"),
                ));
            }
            Some(t.to_string())
        }
        None if crate::providers::registry::needs_tenant(login) => {
            return Err(Error::invalid("tenant", format!("{login} needs a tenant")))
        }
        None => None,
    };
    let settings = input.settings.clone().normalized();
    crate::providers::registry::validate_settings(login, &settings)?;
    let label = input
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string);
    Ok(ProfileFields {
        name,
        login,
        tenant,
        settings,
        label,
    })
}

struct ResolvedProfile {
    name: String,
    server: Server,
    tenant: Option<String>,
    login: LoginKind,
    settings: ProfileSettings,
    label: Option<String>,
    secret: Option<(crate::vault::Secret, crate::vault::SecretSlot)>,
    token_expires: Option<OffsetDateTime>,
}

/// `Authorization: Bearer <token>`, or for a Quay session its cookies and
/// CSRF token.
pub fn auth_headers(profile: &Profile, token: &Secret) -> Result<Vec<(String, String)>> {
    if profile.login == LoginKind::QuaySession {
        return crate::providers::quay::session_headers(token).ok_or_else(|| {
            Error::LoginRequired(format!(
                "the Quay session of '{}' in the keyring is unreadable: log in again",
                profile.name
            ))
        });
    }
    Ok(vec![(
        "Authorization".to_string(),
        format!("Bearer {}", token.expose()),
    )])
}
