//! The domain's nouns: servers, tenants, profiles, and the kinds of each. Only
//! non-secret data lives here; secrets are in [`crate::vault`]. Validation of
//! every user-typed field is here too, so the window and the CLI refuse the same
//! input with the same message.

use crate::error::{Error, Result};
use crate::secret::SecretSlot;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// The protocol family a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum ServerKind {
    Kontinuous,
    Github,
    Auth0,
    Oidc,
    Quay,
    Avassa,
    Dci,
    /// Any Docker/OCI registry, for tokens handed to `docker login` (and the
    /// Docker credential helper's `store`).
    Registry,
}

/// `ALL`, `as_str`, `Display` and `FromStr` of a kind enum, from its list of
/// variants and names. A variant may carry `#[cfg(..)]` (the test-only kind).
macro_rules! kebab_names {
    ($ty:ident { $($(#[$cfg:meta])* $variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($(#[$cfg])* $ty::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($(#[$cfg])* $ty::$variant => $name),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($(#[$cfg])* $name => Ok($ty::$variant),)+
                    other => Err(Error::invalid(
                        kebab_names!(@field $ty),
                        format!(
                            "unknown {} '{}'; choose one of: {}",
                            kebab_names!(@noun $ty),
                            other,
                            [$($(#[$cfg])* $name),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
    (@field ServerKind) => { "kind" };
    (@field LoginKind) => { "login" };
    (@noun ServerKind) => { "server kind" };
    (@noun LoginKind) => { "login kind" };
}

kebab_names!(ServerKind {
    Kontinuous => "kontinuous",
    Github => "github",
    Auth0 => "auth0",
    Oidc => "oidc",
    Quay => "quay",
    Avassa => "avassa",
    Dci => "dci",
    Registry => "registry",
});

/// Declares [`LoginKind`] from its list: a variant and its name each.
macro_rules! login_kinds {
    ($($(#[$cfg:meta])* $variant:ident => $name:literal),+ $(,)?) => {
        /// How a profile obtains its credential.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
        pub enum LoginKind {
            $($(#[$cfg])* #[serde(rename = $name)] $variant),+
        }
        kebab_names!(LoginKind { $($(#[$cfg])* $variant => $name),+ });
    };
}

// The login kinds, one line each: the name is what SQLite rows, export files,
// the CLI and the window (IPC bindings) say. Everything a kind does is its
// line in the kind registry (`crate::providers::registry::KINDS`), which
// cannot live here: this floor knows no provider.
login_kinds! {
    GithubKontinuous => "github-kontinuous",
    Github => "github",
    GithubDevice => "github-device",
    Auth0 => "auth0",
    Oidc => "oidc",
    AvassaPassword => "avassa-password",
    AvassaOidc => "avassa-oidc",
    AvassaKubernetes => "avassa-kubernetes",
    QuayDirectOauth => "quay-direct-oauth",
    QuaySession => "quay-session",
    QuayRegistry => "quay-registry",
    DciHmac => "dci-hmac",
    ManualToken => "manual-token",
    #[cfg(test)] Toy => "toy",
}

impl ServerKind {
    /// Whether profiles on this server may name a tenant.
    pub fn has_tenants(self) -> bool {
        matches!(self, ServerKind::Avassa)
    }
}

/// Where the identity provider sends the browser back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectMode {
    /// `http://127.0.0.1:<port>/callback`, RFC 8252.
    Loopback,
    /// `latchkey://callback`, through the OS URL-scheme handler.
    DeepLink,
    /// No redirect: the user types a code on any device (RFC 8628 device
    /// authorization), where the provider advertises it.
    Device,
}

impl FromStr for RedirectMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "loopback" => Ok(RedirectMode::Loopback),
            "deep-link" => Ok(RedirectMode::DeepLink),
            "device" => Ok(RedirectMode::Device),
            other => Err(Error::invalid(
                "redirect",
                format!("unknown redirect '{other}'; choose loopback, deep-link or device"),
            )),
        }
    }
}

/// A server Latchkey logs into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Server {
    pub id: i64,
    pub name: String,
    pub kind: ServerKind,
    pub url: String,
    /// A PEM bundle of extra CA certificates to trust for this server (edge sites
    /// often use a private CA). Public data, so it lives in the store.
    pub ca_pem: Option<String>,
}

/// What the user types to create or edit a server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
pub struct ServerInput {
    pub name: String,
    pub kind: String,
    pub url: String,
    pub ca_pem: Option<String>,
}

/// A tenant of a multi-tenant server (Avassa).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Tenant {
    pub id: i64,
    pub server_id: i64,
    pub name: String,
}

/// The non-secret settings of a profile; which ones a login kind uses is in
/// [`LoginSpec`]. Secrets (passwords, client secrets, keys) are in the vault.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct ProfileSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sa_token_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Another profile whose token this one presents (a Quay registry login
    /// as `$oauthtoken` with a direct-OAuth profile's token), by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_profile: Option<String>,
    /// The container registry this profile's token logs into, as
    /// `[user@]host[:port]` (`ghcr.io`, `alice@registry.example:5000`): the
    /// Docker credential helper hands the token out for that host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

/// A server × tenant × identity: the unit a token belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub server_id: i64,
    pub tenant_id: Option<i64>,
    pub login: LoginKind,
    pub settings: ProfileSettings,
    pub label: Option<String>,
}

/// What the user types to create or edit a profile. `secret`, when given, goes
/// straight to the vault; it is never stored with the rest.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct ProfileInput {
    pub name: String,
    pub server: String,
    pub tenant: Option<String>,
    pub login: String,
    #[serde(default)]
    pub settings: ProfileSettings,
    pub label: Option<String>,
    pub secret: Option<crate::secret::SecretInput>,
    /// For `manual-token`: when the pasted token expires, if it does not say
    /// itself (a JWT's `exp` wins). RFC 3339, or a duration from now: `90m`,
    /// `12h`, `30d`.
    #[serde(default)]
    pub token_expires: Option<String>,
}

/// A settings field a login kind uses, for forms and validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SettingField {
    Username,
    ClientId,
    Scopes,
    Audience,
    Issuer,
    Role,
    Service,
    SaTokenFile,
    AccessKey,
    Redirect,
    RedirectUri,
    SourceProfile,
    Registry,
}

/// Which secret a login kind keeps in the vault, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub struct SecretSpec {
    /// What the UI calls it ("Password", "Client secret", ...).
    pub label: &'static str,
    /// The vault slot it goes to.
    pub slot: SecretSlot,
    pub required: bool,
}

/// What a login kind needs from the user: its fields, required ones, its secret.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LoginSpec {
    pub login: LoginKind,
    pub required: &'static [SettingField],
    pub optional: &'static [SettingField],
    pub secret: Option<SecretSpec>,
    /// What "Log in" asks of the user in the window.
    pub prompt: LoginPrompt,
    /// The scopes the server knows, for a form to offer as checkboxes; empty
    /// when any text goes.
    pub scope_choices: &'static [&'static str],
    /// What logging out does beyond this profile, for the confirmation.
    pub logout_warning: Option<&'static str>,
}

/// What the window's "Log in" does for a login kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum LoginPrompt {
    /// Asks for the password (unless remembered), then maybe an OTP.
    Password,
    /// Logs in with what the profile already has (a file, a stored secret).
    Direct,
    /// Opens the system browser and waits for the redirect.
    Browser,
    /// Nothing to log in: the stored key signs each request (DCI). The
    /// window offers "Sign a request" and an identity check instead.
    Sign,
    /// Latchkey cannot log this kind in yet: paste a token meanwhile.
    Unavailable,
}

impl SecretSpec {
    /// A secret the user may leave empty.
    pub const fn optional(label: &'static str, slot: SecretSlot) -> Option<Self> {
        Some(SecretSpec {
            label,
            slot,
            required: false,
        })
    }

    /// A secret the login kind cannot do without.
    pub const fn required(label: &'static str, slot: SecretSlot) -> Option<Self> {
        Some(SecretSpec {
            label,
            slot,
            required: true,
        })
    }
}

impl LoginSpec {
    /// A login kind's descriptor with no scope choices and no logout warning;
    /// its provider supplies it (`crate::providers::registry::spec`).
    pub const fn new(
        login: LoginKind,
        prompt: LoginPrompt,
        required: &'static [SettingField],
        optional: &'static [SettingField],
        secret: Option<SecretSpec>,
    ) -> Self {
        LoginSpec {
            login,
            required,
            optional,
            secret,
            prompt,
            scope_choices: &[],
            logout_warning: None,
        }
    }
}

impl ProfileSettings {
    fn get(&self, field: SettingField) -> bool {
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        match field {
            SettingField::Username => set(&self.username),
            SettingField::ClientId => set(&self.client_id),
            SettingField::Scopes => !self.scopes.is_empty(),
            SettingField::Audience => set(&self.audience),
            SettingField::Issuer => set(&self.issuer),
            SettingField::Role => set(&self.role),
            SettingField::Service => set(&self.service),
            SettingField::SaTokenFile => set(&self.sa_token_file),
            SettingField::AccessKey => set(&self.access_key),
            SettingField::Redirect => self.redirect.is_some(),
            SettingField::RedirectUri => set(&self.redirect_uri),
            SettingField::SourceProfile => set(&self.source_profile),
            SettingField::Registry => set(&self.registry),
        }
    }

    /// Trims every text field and drops empty ones, so "" and None mean the same.
    pub fn normalized(mut self) -> Self {
        fn norm(v: &mut Option<String>) {
            if let Some(s) = v {
                let t = s.trim();
                *v = if t.is_empty() {
                    None
                } else {
                    Some(t.to_string())
                };
            }
        }
        for v in [
            &mut self.username,
            &mut self.client_id,
            &mut self.audience,
            &mut self.issuer,
            &mut self.role,
            &mut self.service,
            &mut self.sa_token_file,
            &mut self.access_key,
            &mut self.redirect_uri,
            &mut self.source_profile,
            &mut self.registry,
        ] {
            norm(v);
        }
        let mut scopes: Vec<String> = Vec::new();
        for piece in self.scopes.iter().flat_map(|s| s.split([' ', ','])) {
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            // A registry scope lists its actions after commas
            // (`repository:ns/repo:pull,push`): keep them on their scope.
            let is_action = matches!(piece, "pull" | "push" | "*");
            match scopes.last_mut() {
                Some(last)
                    if is_action
                        && last.rsplit_once(':').is_some_and(|(_, actions)| {
                            actions
                                .split(',')
                                .all(|a| matches!(a, "pull" | "push" | "*"))
                        }) =>
                {
                    last.push(',');
                    last.push_str(piece);
                }
                _ => scopes.push(piece.to_string()),
            }
        }
        self.scopes = scopes;
        self
    }
}

impl SettingField {
    pub const ALL: &'static [SettingField] = &[
        SettingField::Username,
        SettingField::ClientId,
        SettingField::Scopes,
        SettingField::Audience,
        SettingField::Issuer,
        SettingField::Role,
        SettingField::Service,
        SettingField::SaTokenFile,
        SettingField::AccessKey,
        SettingField::Redirect,
        SettingField::RedirectUri,
        SettingField::SourceProfile,
        SettingField::Registry,
    ];

    /// Its name in [`ProfileSettings`] (and in forms, errors and export files).
    pub fn name(self) -> &'static str {
        field_name(self)
    }
}

fn field_name(field: SettingField) -> &'static str {
    match field {
        SettingField::Username => "username",
        SettingField::ClientId => "client_id",
        SettingField::Scopes => "scopes",
        SettingField::Audience => "audience",
        SettingField::Issuer => "issuer",
        SettingField::Role => "role",
        SettingField::Service => "service",
        SettingField::SaTokenFile => "sa_token_file",
        SettingField::AccessKey => "access_key",
        SettingField::Redirect => "redirect",
        SettingField::RedirectUri => "redirect_uri",
        SettingField::SourceProfile => "source_profile",
        SettingField::Registry => "registry",
    }
}

/// Checks that `settings` carry what a login kind's descriptor requires and
/// nothing it ignores; the kind's own checks come on top
/// (`crate::providers::registry::validate_settings`).
pub fn validate_settings(spec: &LoginSpec, settings: &ProfileSettings) -> Result<()> {
    let login = spec.login;
    for field in spec.required {
        if !settings.get(*field) {
            let name = field_name(*field);
            return Err(Error::invalid(
                name,
                format!("{login} needs {}", name.replace('_', " ")),
            ));
        }
    }
    for &field in SettingField::ALL {
        if settings.get(field) && !spec.required.contains(&field) && !spec.optional.contains(&field)
        {
            let name = field_name(field);
            return Err(Error::invalid(
                name,
                format!(
                    "{login} does not use {}; leave it empty",
                    name.replace('_', " ")
                ),
            ));
        }
    }
    if let Some(uri) = &settings.redirect_uri {
        let parsed = url::Url::parse(uri).map_err(|_| {
            Error::invalid(
                "redirect_uri",
                "redirect URI must be absolute, e.g. http://127.0.0.1:8765/callback",
            )
        })?;
        if parsed.scheme() != "latchkey" && parsed.host_str().is_none() {
            return Err(Error::invalid("redirect_uri", "redirect URI needs a host"));
        }
    }
    if settings.redirect == Some(RedirectMode::Device) {
        if !matches!(login, LoginKind::Oidc | LoginKind::Auth0) {
            return Err(Error::invalid(
                "redirect",
                format!("{login} cannot log in with a device code; choose loopback or deep link"),
            ));
        }
        if settings.redirect_uri.is_some() {
            return Err(Error::invalid(
                "redirect_uri",
                "a device-code login has no redirect URI; leave it empty",
            ));
        }
    }
    if let Some(key) = &settings.access_key {
        validate_dci_access_key(key)?;
    }
    if let Some(registry) = &settings.registry {
        parse_registry_setting(registry)?;
    }
    if let Some(issuer) = &settings.issuer {
        validate_url("issuer", issuer)?;
    }
    Ok(())
}

/// A registry as Docker names it, from whatever a user or a client wrote:
/// `https://ghcr.io/v2/` and `ghcr.io` are `ghcr.io`; Docker Hub's names
/// (`https://index.docker.io/v1/`, `index.docker.io`, `registry-1.docker.io`)
/// are all `docker.io`. Lower-case host, port kept, scheme and path dropped.
/// `None` when there is no host in it.
pub fn registry_host(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .unwrap_or(raw);
    let host = rest
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !name_ok || host.starts_with(['.', '-', ':']) {
        return None;
    }
    Some(match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => host,
    })
}

/// The `registry` setting: `[user@]host[:port]`, as (user, host).
pub fn parse_registry_setting(raw: &str) -> Result<(Option<String>, String)> {
    let (user, host) = match raw.trim().rsplit_once('@') {
        Some((user, host)) if !user.is_empty() => (Some(user.to_string()), host),
        Some(_) => (None, ""),
        None => (None, raw.trim()),
    };
    let host = registry_host(host).ok_or_else(|| {
        Error::invalid(
            "registry",
            "a registry is a host name with an optional port and user, e.g. ghcr.io or alice@registry.example:5000",
        )
    })?;
    Ok((user, host))
}

/// DCI access keys are `remoteci/<id>` or `feeder/<id>`; a bare id means remoteci
/// (protocols §4.2).
fn validate_dci_access_key(key: &str) -> Result<()> {
    match key.split_once('/') {
        None => Ok(()),
        Some(("remoteci" | "feeder", id)) if !id.is_empty() && !id.contains('/') => Ok(()),
        _ => Err(Error::invalid(
            "access_key",
            "access key must be remoteci/<id>, feeder/<id>, or a bare remoteci id",
        )),
    }
}

/// Names of servers and profiles: what scripts type, so no spaces.
pub fn validate_name(field: &'static str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "use 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. prod-eu)",
        ))
    }
}

/// Tenant names follow Avassa's pattern `^[a-z0-9]([a-z0-9\-]*[a-z0-9])?$`.
pub fn validate_tenant(name: &str) -> Result<()> {
    let bytes = name.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let ok = !bytes.is_empty()
        && edge(&bytes[0])
        && edge(&bytes[bytes.len() - 1])
        && bytes.iter().all(|b| edge(b) || *b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "tenant",
            "a tenant name uses lower-case letters, digits and '-', and starts and ends with a letter or digit (e.g. acme-prod)",
        ))
    }
}

/// Base URLs: absolute http(s) with a host. Returned without a trailing slash.
pub fn validate_url(field: &'static str, raw: &str) -> Result<String> {
    let raw = raw.trim();
    let parsed = url::Url::parse(raw).map_err(|_| {
        Error::invalid(
            field,
            "enter a full URL starting with https:// (or http:// for a local server), e.g. https://api.example.com",
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::invalid(
            field,
            "the URL must start with https:// or http:// and name a host, e.g. https://api.example.com",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::invalid(
            field,
            "a base URL has no ?query or #fragment",
        ));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// A CA bundle must hold PEM certificates that parse.
pub fn validate_ca_pem(pem: &str) -> Result<()> {
    if pem.contains("-----BEGIN CERTIFICATE-----") && pem.contains("-----END CERTIFICATE-----") {
        // The markers are not enough: the certificates must parse, or every
        // login would fail later with a less helpful message.
        ca_certificates(pem)
            .map(drop)
            .map_err(|e| Error::invalid("ca_pem", e))
    } else {
        Err(Error::invalid(
            "ca_pem",
            "the CA file must hold PEM certificates (-----BEGIN CERTIFICATE-----)",
        ))
    }
}

/// The certificates of a PEM CA bundle, each read as a trust anchor the way
/// the TLS client will read it, or what is wrong with the bundle.
pub fn ca_certificates(
    pem: &str,
) -> std::result::Result<Vec<rustls_pki_types::CertificateDer<'static>>, String> {
    use rustls_pki_types::pem::PemObject;
    let certs = rustls_pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            format!("the CA file is not valid PEM ({e}); export the CA certificate as PEM")
        })?;
    if certs.is_empty() {
        return Err("the CA file holds no certificate".into());
    }
    for (i, cert) in certs.iter().enumerate() {
        webpki::anchor_from_trusted_cert(cert).map_err(|e| {
            format!(
                "certificate {} of the CA file is not a certificate ({e}); export the CA certificate as PEM",
                i + 1
            )
        })?;
    }
    Ok(certs)
}

/// Parses and checks a server input; returns the normalized fields.
pub fn validate_server(
    input: &ServerInput,
) -> Result<(String, ServerKind, String, Option<String>)> {
    let name = input.name.trim().to_string();
    validate_name("name", &name)?;
    let kind: ServerKind = input.kind.trim().parse()?;
    let url = validate_url("url", &input.url)?;
    let ca = match input.ca_pem.as_deref().map(str::trim) {
        Some(pem) if !pem.is_empty() => {
            validate_ca_pem(pem)?;
            Some(pem.to_string())
        }
        _ => None,
    };
    Ok((name, kind, url, ca))
}

/// One line of what a server says about a token or key ("Tenant: acme"), for
/// the detail view.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SummaryItem {
    pub name: String,
    pub value: String,
}

/// What a stored token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum TokenKind {
    Access,
    Refresh,
    Id,
    Session,
    Registry,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Id => "id",
            TokenKind::Session => "session",
            TokenKind::Registry => "registry",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "access" => TokenKind::Access,
            "refresh" => TokenKind::Refresh,
            "id" => TokenKind::Id,
            "session" => TokenKind::Session,
            "registry" => TokenKind::Registry,
            _ => return None,
        })
    }

    /// The vault slot the token itself lives in.
    pub fn slot(self) -> SecretSlot {
        match self {
            TokenKind::Access | TokenKind::Registry => SecretSlot::AccessToken,
            TokenKind::Refresh => SecretSlot::RefreshToken,
            TokenKind::Id => SecretSlot::IdToken,
            TokenKind::Session => SecretSlot::SessionCookie,
        }
    }
}

/// What is known about one stored token.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenMeta {
    pub kind: TokenKind,
    pub issued_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
    pub renew_due_at: Option<OffsetDateTime>,
    pub scopes: Vec<String>,
    /// Non-secret claims worth showing (sub, iss, aud, user_id, ...).
    pub summary: serde_json::Map<String, serde_json::Value>,
}

/// The renewal state of a profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenewalState {
    pub last_error: Option<String>,
    pub failed_at: Option<OffsetDateTime>,
    pub next_retry_at: Option<OffsetDateTime>,
    pub attempts: u32,
    /// Reminder thresholds (minutes before expiry) already announced.
    pub reminded: Vec<u32>,
    /// The last renewal failed because the server refused the credential it
    /// renews with (a refresh token revoked, expired or reused): the current
    /// token, issued on the same grant, may be refused as well, so it is no
    /// longer handed out; the user must log in.
    pub refused: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ServerKind::ALL {
            assert_eq!(kind.as_str().parse::<ServerKind>().unwrap(), *kind);
        }
        for kind in LoginKind::ALL {
            assert_eq!(kind.as_str().parse::<LoginKind>().unwrap(), *kind);
        }
        // 13 built in, and the toy kind of the walkthrough test.
        assert_eq!(LoginKind::ALL.len(), 14);
        let err = "gitlab".parse::<ServerKind>().unwrap_err();
        assert!(err.to_string().contains("kontinuous, github"), "{err}");
        assert_eq!(err.field(), Some("kind"));
    }

    #[test]
    fn tenant_names_follow_the_avassa_pattern() {
        for ok in ["a", "acme", "acme-prod", "t1", "0-9"] {
            validate_tenant(ok).unwrap();
        }
        for bad in ["", "-a", "a-", "Acme", "a_b", "a b", "é"] {
            let err = validate_tenant(bad).unwrap_err();
            assert_eq!(err.field(), Some("tenant"), "{bad}");
        }
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert_eq!(
            validate_url("url", " https://api.example.com/ ").unwrap(),
            "https://api.example.com"
        );
        assert_eq!(
            validate_url("url", "http://127.0.0.1:4646").unwrap(),
            "http://127.0.0.1:4646"
        );
        for bad in [
            "api.example.com",
            "ftp://x",
            "https://",
            "not a url",
            "https://h/?a=b",
        ] {
            let err = validate_url("url", bad).unwrap_err();
            assert_eq!(err.field(), Some("url"), "{bad}");
        }
    }

    #[test]
    fn names_are_script_friendly() {
        validate_name("name", "prod-eu_1.x").unwrap();
        for bad in ["", "has space", "-lead", &"x".repeat(65), "ü"] {
            assert!(validate_name("name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_split_on_spaces_and_commas() {
        let s = ProfileSettings {
            scopes: vec!["repo:read, user:read".into(), " org:admin ".into()],
            username: Some("  ".into()),
            ..Default::default()
        }
        .normalized();
        assert_eq!(s.scopes, ["repo:read", "user:read", "org:admin"]);
        assert_eq!(s.username, None);
    }
}
