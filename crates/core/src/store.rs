//! The SQLite database: servers, tenants, profiles and settings. One pool, WAL,
//! foreign keys on, migrations from `crates/core/migrations/`. It never holds a
//! secret; that rule is tested by reading the file's bytes.
//!
//! The app and the CLI open the same file at the same time; WAL lets readers and
//! one writer work side by side, and a busy timeout absorbs the short overlaps.

use crate::model::{
    LoginKind, Profile, ProfileSettings, RenewalState, Server, ServerKind, Tenant, TokenKind,
    TokenMeta,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
};
use sqlx::{Row, SqlitePool};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot create the data folder {path}: {source}; set LATCHKEY_HOME to a writable folder"
    )]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("cannot update the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("the database holds a value this version does not understand: {0}")]
    Corrupt(String),
}

impl From<StoreError> for crate::error::Error {
    fn from(e: StoreError) -> Self {
        crate::error::Error::Store(Box::new(e))
    }
}

type Result<T> = std::result::Result<T, StoreError>;

/// The schema this build expects: `crates/core/migrations/`, embedded.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The profile columns [`profile_from_row`] reads, with a WHERE/ORDER tail.
macro_rules! profile_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, server_id, tenant_id, login, settings, label FROM profiles ",
            $tail
        )
    };
}

/// The upsert of one token's metadata; seven `?`, bound by [`bind_token`].
macro_rules! token_upsert {
    () => {
        "INSERT INTO tokens (profile_id, kind, issued_at, expires_at, renew_due_at, scopes, summary)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(profile_id, kind) DO UPDATE SET issued_at = excluded.issued_at,
           expires_at = excluded.expires_at, renew_due_at = excluded.renew_due_at,
           scopes = excluded.scopes, summary = excluded.summary"
    };
}

/// The upsert of a profile's renewal state; seven `?`, bound by
/// [`bind_renewal`], and the extra column, value and update given.
macro_rules! renewal_upsert {
    ($column:literal, $value:literal, $update:literal) => {
        concat!(
            "INSERT INTO renewals (profile_id, last_error, failed_at, next_retry_at, attempts, reminded, refused",
            $column,
            ") VALUES (?, ?, ?, ?, ?, ?, ?",
            $value,
            ") ON CONFLICT(profile_id) DO UPDATE SET last_error = excluded.last_error,
               failed_at = excluded.failed_at, next_retry_at = excluded.next_retry_at,
               attempts = excluded.attempts, reminded = excluded.reminded, refused = excluded.refused",
            $update
        )
    };
}

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

/// Whether an error is a UNIQUE constraint failure (a name already taken).
pub fn is_unique_violation(err: &StoreError) -> bool {
    matches!(err, StoreError::Sql(sqlx::Error::Database(db)) if db.is_unique_violation())
}

impl Store {
    /// Opens (creating if needed) `latchkey.db` in `data_dir` and migrates it.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        Self::open_pool(data_dir, SqlitePoolOptions::new().max_connections(4)).await
    }

    /// [`Store::open`] with one connection, for a command that runs a
    /// moment (the CLI): a second connection costs a file open, the pragmas
    /// and its own WAL bookkeeping, and one connection needs no ping before
    /// each query. Queries on it wait for each other, so no caller may hold a
    /// transaction (or a connection) while it awaits another query on the
    /// same store: it would wait for itself (sqlx gives up after 30 s).
    /// None does: every transaction in this module runs only its own
    /// statements, and an import's [`StoreTx`] only the statements given it.
    pub async fn open_single_connection(data_dir: &Path) -> Result<Self> {
        let options = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false);
        Self::open_pool(data_dir, options).await
    }

    async fn open_pool(data_dir: &Path, options: SqlitePoolOptions) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join("latchkey.db");
        let pool = options
            .connect_with(connect_options(&path).create_if_missing(true))
            .await
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The data folder the database is in (where the renewal locks live too).
    pub fn data_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Starts writes that land together or not at all (an import).
    pub async fn begin(&self) -> Result<StoreTx> {
        Ok(StoreTx(self.pool.begin().await?))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- servers ----

    pub async fn insert_server(
        &self,
        name: &str,
        kind: ServerKind,
        url: &str,
        ca_pem: Option<&str>,
    ) -> Result<Server> {
        let id = write::insert_server(&self.pool, name, kind, url, ca_pem).await?;
        self.server(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("inserted server vanished".into()))
    }

    pub async fn update_server(
        &self,
        id: i64,
        name: &str,
        kind: ServerKind,
        url: &str,
        ca_pem: Option<&str>,
    ) -> Result<Option<Server>> {
        if !write::update_server(&self.pool, id, name, kind, url, ca_pem).await? {
            return Ok(None);
        }
        self.server(id).await
    }

    pub async fn servers(&self) -> Result<Vec<Server>> {
        sqlx::query("SELECT id, name, kind, url, ca_pem FROM servers ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(server_from_row)
            .collect()
    }

    pub async fn server(&self, id: i64) -> Result<Option<Server>> {
        sqlx::query("SELECT id, name, kind, url, ca_pem FROM servers WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(server_from_row)
            .transpose()
    }

    pub async fn server_by_name(&self, name: &str) -> Result<Option<Server>> {
        sqlx::query("SELECT id, name, kind, url, ca_pem FROM servers WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(server_from_row)
            .transpose()
    }

    /// Deletes a server with its tenants and profiles (the caller has checked
    /// that the user agreed, and forgets the profiles' secrets).
    pub async fn delete_server(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM servers WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    // ---- tenants ----

    pub async fn insert_tenant(&self, server_id: i64, name: &str) -> Result<Tenant> {
        let id = write::insert_tenant(&self.pool, server_id, name).await?;
        Ok(Tenant {
            id,
            server_id,
            name: name.to_string(),
        })
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query("SELECT id, server_id, name FROM tenants ORDER BY server_id, name")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(tenant_from_row).collect())
    }

    pub async fn tenant(&self, id: i64) -> Result<Option<Tenant>> {
        let row = sqlx::query("SELECT id, server_id, name FROM tenants WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(tenant_from_row))
    }

    pub async fn tenant_by_name(&self, server_id: i64, name: &str) -> Result<Option<Tenant>> {
        let row =
            sqlx::query("SELECT id, server_id, name FROM tenants WHERE server_id = ? AND name = ?")
                .bind(server_id)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(tenant_from_row))
    }

    pub async fn delete_tenant(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM tenants WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    // ---- profiles ----

    pub async fn insert_profile(
        &self,
        name: &str,
        server_id: i64,
        tenant_id: Option<i64>,
        login: LoginKind,
        settings: &ProfileSettings,
        label: Option<&str>,
    ) -> Result<Profile> {
        let row = write::ProfileRow {
            name,
            server_id,
            tenant_id,
            login,
            settings,
            label,
        };
        let id = write::insert_profile(&self.pool, &row).await?;
        self.profile(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("inserted profile vanished".into()))
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn update_profile(
        &self,
        id: i64,
        name: &str,
        server_id: i64,
        tenant_id: Option<i64>,
        login: LoginKind,
        settings: &ProfileSettings,
        label: Option<&str>,
    ) -> Result<Option<Profile>> {
        let row = write::ProfileRow {
            name,
            server_id,
            tenant_id,
            login,
            settings,
            label,
        };
        if !write::update_profile(&self.pool, id, &row).await? {
            return Ok(None);
        }
        self.profile(id).await
    }

    /// Every profile, by name. The rows come as one JSON array (see
    /// [`fetch_as_json`]): at 10,000 profiles that is what keeps
    /// `latchkey profile list` and the window's list fast. Each row is a
    /// [`Profile`]'s fields in their order, which its derived `Deserialize`
    /// reads as the struct itself, with the settings (a JSON text) nested:
    /// no intermediate rows, no second parse of each profile's settings.
    pub async fn profiles(&self) -> Result<Vec<Profile>> {
        let mut profiles: Vec<Profile> = fetch_as_json(
            &self.pool,
            "SELECT json_group_array(json_array(id, name, server_id, tenant_id, login, json(settings), label))
                 FROM profiles",
        )
        .await?;
        // Sorted here rather than by an ORDER BY inside the aggregate, which
        // made SQLite sort the built rows: 5.6 ms against 1.9 ms at 10,000
        // profiles. Rust compares strings by bytes, as SQLite's BINARY
        // collation of `name` does.
        profiles.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(profiles)
    }

    /// Every profile with what its line in a list shows, by name, in one
    /// query read through SQLite's C API ([`raw`]): at 10,000 profiles the
    /// JSON arrays of [`Store::profiles`], [`Store::all_tokens`] and
    /// [`Store::all_renewals`] took SQLite 8 to 9 ms to build and as long
    /// again to copy and parse. Only the columns a list shows are read: a
    /// token's scopes and summary are left empty, a renewal's error text
    /// is reduced to whether there is one.
    pub async fn profile_listings(&self) -> Result<Vec<ProfileListing>> {
        // The primary token is the one that is neither a refresh nor an ID
        // token; should a profile have two, the one added last (the larger
        // rowid) counts, as when all tokens are read in table order.
        const LISTING: &std::ffi::CStr = c"SELECT p.id, p.name, p.server_id, p.tenant_id, p.login,
                p.settings, p.label, t.rowid, t.kind, t.issued_at, t.expires_at,
                t.renew_due_at, r.last_error IS NOT NULL, r.failed_at
            FROM profiles p
            LEFT JOIN tokens t ON t.profile_id = p.id AND t.kind NOT IN ('refresh', 'id')
            LEFT JOIN renewals r ON r.profile_id = p.id
            ORDER BY p.name";
        let mut conn = self.pool.acquire().await?;
        let mut handle = conn.lock_handle().await?;
        let mut rows = raw::Statement::prepare(&mut handle, LISTING)?;
        let mut listings: Vec<ProfileListing> = Vec::new();
        let mut last_token_rowid = 0;
        while rows.step()? {
            let id = rows.int(0);
            let token_rowid = rows.optional_int(7);
            let token = match token_rowid {
                Some(_) => {
                    let kind = rows.text(8)?;
                    Some(ListedToken {
                        kind: TokenKind::parse(kind)
                            .ok_or_else(|| StoreError::Corrupt(format!("token kind {kind}")))?,
                        issued_at: rows.optional_int(9).map(from_unix).transpose()?,
                        expires_at: rows.optional_int(10).map(from_unix).transpose()?,
                        renew_due_at: rows.optional_int(11).map(from_unix).transpose()?,
                    })
                }
                None => None,
            };
            // Rows of one profile follow each other: names are unique.
            if let Some(previous) = listings.last_mut().filter(|l| l.id == id) {
                if token_rowid.unwrap_or(0) > last_token_rowid {
                    previous.token = token;
                    last_token_rowid = token_rowid.unwrap_or(0);
                }
                continue;
            }
            last_token_rowid = token_rowid.unwrap_or(0);
            let login = rows.text(4)?;
            let settings: ProfileSettings = serde_json::from_str(rows.text(5)?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            listings.push(ProfileListing {
                id,
                name: rows.text(1)?.into(),
                server_id: rows.int(2),
                tenant_id: rows.optional_int(3),
                login: LoginKind::from_str(login)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                settings: (settings != ProfileSettings::default()).then(|| Box::new(settings)),
                label: rows.optional_text(6)?.map(Box::from),
                token,
                renewal_failing: rows.int(12) != 0,
                renewal_failed_at: rows.optional_int(13).map(from_unix).transpose()?,
            });
        }
        Ok(listings)
    }

    pub async fn profile(&self, id: i64) -> Result<Option<Profile>> {
        sqlx::query(profile_select!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(profile_from_row)
            .transpose()
    }

    pub async fn profile_by_name(&self, name: &str) -> Result<Option<Profile>> {
        sqlx::query(profile_select!("WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(profile_from_row)
            .transpose()
    }

    /// Ids of the profiles that use a server, or one of its tenants.
    pub async fn profile_ids_of_server(&self, server_id: i64) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM profiles WHERE server_id = ? ORDER BY id")
                .bind(server_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// How many profiles each server has, by server id (servers without
    /// profiles are absent): counted by SQLite, so the window's server list
    /// does not read every profile to show a number.
    pub async fn profile_counts(&self) -> Result<Vec<(i64, u32)>> {
        Ok(
            sqlx::query_as("SELECT server_id, COUNT(*) FROM profiles GROUP BY server_id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn profile_ids_of_tenant(&self, tenant_id: i64) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM profiles WHERE tenant_id = ? ORDER BY id")
                .bind(tenant_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn delete_profile(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM profiles WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    // ---- tokens ----

    /// Replaces what is known about one token of a profile.
    pub async fn put_token(&self, profile_id: i64, meta: &TokenMeta) -> Result<()> {
        put_token_on(&mut *self.pool.acquire().await?, profile_id, meta).await
    }

    /// Keeps what a login or renewal issued, in one transaction: the token's
    /// metadata, the profile's renewal state with its next deadline, and a
    /// line of history. A crash leaves all of them as they were or all new,
    /// never a new token still marked as failing. The three statements go to
    /// SQLite's thread as one message (sqlx runs each statement of a query
    /// text in turn, the `?` numbered on through them).
    pub async fn record_issued(&self, record: &IssuedRecord<'_>) -> Result<()> {
        let query = sqlx::query(concat!(
            token_upsert!(),
            "; ",
            renewal_upsert!(", next_at", ", ?", ", next_at = excluded.next_at"),
            "; INSERT INTO history (profile_id, at, event, detail) VALUES (?, ?, ?, ?)"
        ));
        let query = bind_token(query, record.profile_id, record.meta)?;
        let query = bind_renewal(query, record.profile_id, record.renewal)?
            .bind(record.next_at.map(unix))
            .bind(record.profile_id)
            .bind(unix(record.at))
            .bind(record.event)
            .bind(record.detail);
        let mut tx = self.pool.begin().await?;
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The kind of the profile's primary token (as [`Store::primary_token`]
    /// picks it) and the setting stored under `key`, in one query: what a
    /// login needs to know before [`Store::record_issued`].
    pub async fn primary_kind_and_setting(
        &self,
        profile_id: i64,
        key: &str,
    ) -> Result<(Option<TokenKind>, Option<String>)> {
        let (kind, setting): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT (SELECT kind FROM tokens WHERE profile_id = ? AND kind NOT IN ('refresh', 'id')
                     ORDER BY kind LIMIT 1),
                    (SELECT value FROM settings WHERE key = ?)",
        )
        .bind(profile_id)
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        let kind = kind
            .map(|k| {
                TokenKind::parse(&k).ok_or_else(|| StoreError::Corrupt(format!("token kind {k}")))
            })
            .transpose()?;
        Ok((kind, setting))
    }

    /// Every token of every profile, as `(profile_id, meta)`.
    pub async fn all_tokens(&self) -> Result<Vec<(i64, TokenMeta)>> {
        let rows: Vec<TokenColumns> = fetch_as_json(
            &self.pool,
            "SELECT json_group_array(json_array(profile_id, kind, issued_at, expires_at,
                 renew_due_at, scopes, summary)) FROM tokens",
        )
        .await?;
        rows.into_iter()
            .map(
                |(profile_id, kind, issued, expires, renew_due, scopes, summary)| {
                    let meta =
                        token_from_columns(&kind, issued, expires, renew_due, &scopes, &summary)?;
                    Ok((profile_id, meta))
                },
            )
            .collect()
    }

    pub async fn tokens_of(&self, profile_id: i64) -> Result<Vec<TokenMeta>> {
        let rows = sqlx::query(
            "SELECT kind, issued_at, expires_at, renew_due_at, scopes, summary FROM tokens WHERE profile_id = ?",
        )
        .bind(profile_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    pub async fn delete_tokens(&self, profile_id: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        write::delete_tokens(&mut tx, profile_id).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- renewal state ----

    pub async fn renewal(&self, profile_id: i64) -> Result<RenewalState> {
        let row = sqlx::query(
            "SELECT last_error, failed_at, next_retry_at, attempts, reminded, refused FROM renewals WHERE profile_id = ?",
        )
        .bind(profile_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(renewal_from_row)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    pub async fn all_renewals(&self) -> Result<Vec<(i64, RenewalState)>> {
        let rows: Vec<RenewalColumns> = fetch_as_json(
            &self.pool,
            "SELECT json_group_array(json_array(profile_id, last_error, failed_at, next_retry_at,
                 attempts, reminded, refused)) FROM renewals",
        )
        .await?;
        rows.into_iter()
            .map(
                |(profile_id, last_error, failed, next_retry, attempts, reminded, refused)| {
                    let state = renewal_from_columns(
                        last_error, failed, next_retry, attempts, &reminded, refused,
                    )?;
                    Ok((profile_id, state))
                },
            )
            .collect()
    }

    pub async fn put_renewal(&self, profile_id: i64, state: &RenewalState) -> Result<()> {
        put_renewal_on(&mut *self.pool.acquire().await?, profile_id, state).await
    }

    /// Records when a profile next needs the scheduler (None: never).
    pub async fn set_next_at(&self, profile_id: i64, at: Option<OffsetDateTime>) -> Result<()> {
        sqlx::query(
            "INSERT INTO renewals (profile_id, next_at) VALUES (?, ?)
             ON CONFLICT(profile_id) DO UPDATE SET next_at = excluded.next_at",
        )
        .bind(profile_id)
        .bind(at.map(unix))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every profile's deadline, as [`Store::set_next_at`] left it.
    pub async fn all_next_at(
        &self,
    ) -> Result<std::collections::HashMap<i64, Option<OffsetDateTime>>> {
        let rows: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT profile_id, next_at FROM renewals")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(id, at)| Ok((id, at.map(from_unix).transpose()?)))
            .collect()
    }

    /// Records several profiles' deadlines in one transaction.
    pub async fn set_next_ats(&self, deadlines: &[(i64, Option<OffsetDateTime>)]) -> Result<()> {
        if deadlines.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for (profile_id, at) in deadlines {
            sqlx::query(
                "INSERT INTO renewals (profile_id, next_at) VALUES (?, ?)
                 ON CONFLICT(profile_id) DO UPDATE SET next_at = excluded.next_at",
            )
            .bind(profile_id)
            .bind(at.map(unix))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The earliest deadline of any profile.
    pub async fn min_next_at(&self) -> Result<Option<OffsetDateTime>> {
        let min: Option<i64> = sqlx::query_scalar("SELECT MIN(next_at) FROM renewals")
            .fetch_one(&self.pool)
            .await?;
        min.map(from_unix).transpose()
    }

    /// Profiles whose deadline is at or before `now`.
    pub async fn due_profiles(&self, now: OffsetDateTime) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT profile_id FROM renewals WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at",
        )
        .bind(unix(now))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The profile's primary token (not its refresh or ID token).
    pub async fn primary_token(&self, profile_id: i64) -> Result<Option<TokenMeta>> {
        Ok(self
            .tokens_of(profile_id)
            .await?
            .into_iter()
            .find(|t| !matches!(t.kind, TokenKind::Refresh | TokenKind::Id)))
    }

    // ---- history ----

    pub async fn add_history(
        &self,
        profile_id: i64,
        at: OffsetDateTime,
        event: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO history (profile_id, at, event, detail) VALUES (?, ?, ?, ?)")
            .bind(profile_id)
            .bind(unix(at))
            .bind(event)
            .bind(detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest `limit` entries of a profile's history, oldest first.
    pub async fn history(&self, profile_id: i64, limit: u32) -> Result<Vec<HistoryRow>> {
        let rows = sqlx::query(
            "SELECT at, event, detail FROM (SELECT id, at, event, detail FROM history WHERE profile_id = ?
             ORDER BY at DESC, id DESC LIMIT ?) ORDER BY at, id",
        )
        .bind(profile_id)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryRow {
                    at: from_unix(r.try_get("at")?)?,
                    event: r.try_get("event")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    // ---- settings ----

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// What `latchkey token` reads to decide whether it may hand out a stored
/// token as it is (see `crate::handoff`): the profile, its primary token,
/// its renewal state and the app's settings (a JSON text, if any were saved).
#[derive(Debug, Clone, PartialEq)]
pub struct HandoffRead {
    pub profile: Profile,
    pub token: Option<TokenMeta>,
    pub renewal: RenewalState,
    pub app_settings: Option<String>,
}

/// A connection of its own for `latchkey token`, which runs once per request
/// of a script: no pool, no folder or file created, no migration run, and
/// everything it needs read in one query, through SQLite's C API on the
/// caller's thread ([`raw::Connection`]): no sqlx worker thread to start
/// and wake. Closing it leaves the WAL as it is (no checkpoint): its files
/// stay for the next connection instead of being removed and made again by
/// each `latchkey token`; whoever writes next checkpoints as before.
pub struct HandoffReader(raw::Connection);

/// The query behind [`HandoffReader::read`]: the profile named `?1` with its
/// primary token (the first in the key order that is neither a refresh nor an
/// ID token, as [`Store::primary_token`] picks it), its renewal state, the
/// settings stored under `?2`, and the migrations applied, so that a schema
/// other than this build's is told apart without a query of its own.
const HANDOFF_QUERY: &std::ffi::CStr =
    c"SELECT p.id, p.name, p.server_id, p.tenant_id, p.login, p.settings, p.label,
        t.kind, t.issued_at, t.expires_at, t.renew_due_at, t.scopes, t.summary,
        r.profile_id AS renewal_of, r.last_error, r.failed_at, r.next_retry_at, r.attempts,
        r.reminded, r.refused,
        (SELECT value FROM settings WHERE key = ?2) AS app_settings,
        (SELECT json_group_array(json_array(version, hex(checksum), success))
           FROM _sqlx_migrations) AS migrations
     FROM profiles p
     LEFT JOIN tokens t ON t.profile_id = p.id AND t.kind = (
         SELECT kind FROM tokens WHERE profile_id = p.id AND kind NOT IN ('refresh', 'id')
         ORDER BY kind LIMIT 1)
     LEFT JOIN renewals r ON r.profile_id = p.id
     WHERE p.name = ?1";

impl HandoffReader {
    /// Connects to the database in `data_dir` if there is one; `None`
    /// otherwise (the full open creates it).
    pub fn open(data_dir: &Path) -> Result<Option<Self>> {
        let path = data_dir.join("latchkey.db");
        if !path.is_file() {
            return Ok(None);
        }
        // The busy timeout of every other connection (`connect_options`).
        Ok(Some(Self(raw::Connection::open(&path, 5_000, true)?)))
    }

    /// The profile named `name` and what decides whether its token may be
    /// handed out, in one query; `None` when there is no such profile, or the
    /// schema is not exactly this build's (which a query on an older schema
    /// may also report as an error: either way, the full open migrates).
    pub fn read(&mut self, name: &str, settings_key: &str) -> Result<Option<HandoffRead>> {
        let mut row = self.0.prepare(HANDOFF_QUERY)?;
        row.bind_text(1, name)?;
        row.bind_text(2, settings_key)?;
        if !row.step()? {
            return Ok(None);
        }
        let migrations: Vec<(i64, String, i64)> =
            serde_json::from_str(row.text(21)?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if !migrations_are_current(migrations) {
            return Ok(None);
        }
        let token = match row.optional_text(7)? {
            Some(kind) => Some(token_from_columns(
                kind,
                row.optional_int(8),
                row.optional_int(9),
                row.optional_int(10),
                row.text(11)?,
                row.text(12)?,
            )?),
            None => None,
        };
        let renewal = match row.optional_int(13) {
            Some(_) => renewal_from_columns(
                row.optional_text(14)?.map(str::to_owned),
                row.optional_int(15),
                row.optional_int(16),
                row.int(17),
                row.text(18)?,
                row.int(19),
            )?,
            None => RenewalState::default(),
        };
        Ok(Some(HandoffRead {
            profile: profile_from_columns(
                row.int(0),
                row.text(1)?.to_owned(),
                row.int(2),
                row.optional_int(3),
                row.text(4)?,
                row.text(5)?,
                row.optional_text(6)?.map(str::to_owned),
            )?,
            token,
            renewal,
            app_settings: row.optional_text(20)?.map(str::to_owned),
        }))
    }

    /// Closes the connection, leaving the WAL as it is.
    pub fn close(self) {}
}

/// Whether the migrations applied, `(version, checksum in upper-case hex,
/// success)` in any order, are every migration of this build and no other:
/// what [`sqlx::migrate::Migrator::run`] would find nothing to do for.
fn migrations_are_current(mut applied: Vec<(i64, String, i64)>) -> bool {
    applied.sort_by_key(|(version, _, _)| *version);
    let expected = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration());
    applied.len() == expected.clone().count()
        && applied
            .iter()
            .zip(expected)
            .all(|((version, checksum, success), m)| {
                *success == 1
                    && *version == m.version
                    && checksum.len() == 2 * m.checksum.len()
                    && m.checksum
                        .iter()
                        .zip(checksum.as_bytes().chunks(2))
                        .all(|(byte, hex)| {
                            std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u8::from_str_radix(h, 16).ok())
                                == Some(*byte)
                        })
            })
}

/// How every connection is opened, whether it may create the file or not.
fn connect_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        // With WAL, NORMAL loses no committed data on an application crash,
        // and spares an fsync per write.
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
}

/// What [`Store::record_issued`] writes.
pub struct IssuedRecord<'a> {
    pub profile_id: i64,
    pub meta: &'a TokenMeta,
    pub renewal: &'a RenewalState,
    /// The profile's next deadline (see `Latchkey::reschedule`).
    pub next_at: Option<OffsetDateTime>,
    /// The history line: when, what, and in words.
    pub at: OffsetDateTime,
    pub event: &'a str,
    pub detail: Option<&'a str>,
}

/// A token's metadata as the store gives it back: times in whole seconds.
pub fn as_stored(meta: &TokenMeta) -> TokenMeta {
    let second = |t: Option<OffsetDateTime>| t.map(|t| t.replace_nanosecond(0).unwrap_or(t));
    TokenMeta {
        issued_at: second(meta.issued_at),
        expires_at: second(meta.expires_at),
        renew_due_at: second(meta.renew_due_at),
        ..meta.clone()
    }
}

/// A profile as a list shows it: [`Store::profile_listings`]. Smaller
/// than a [`Profile`] with a [`TokenMeta`] (about 150 bytes against 500 at
/// the last count): a list holds 10,000 of them at once, and the memory
/// touched for the first time is what a list pays for in page faults and
/// copies as the vector grows. Settings left at their defaults (most of
/// them) take no memory of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileListing {
    pub id: i64,
    pub name: Box<str>,
    pub server_id: i64,
    pub tenant_id: Option<i64>,
    pub login: LoginKind,
    /// `None`: every setting at its default.
    pub settings: Option<Box<ProfileSettings>>,
    pub label: Option<Box<str>>,
    /// Its primary token (not a refresh or ID token).
    pub token: Option<ListedToken>,
    /// Its last renewal failed, and none has succeeded since.
    pub renewal_failing: bool,
    /// When that renewal failed.
    pub renewal_failed_at: Option<OffsetDateTime>,
}

/// What a list shows of a token: its kind and times, not its scopes and
/// summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListedToken {
    pub kind: TokenKind,
    pub issued_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
    pub renew_due_at: Option<OffsetDateTime>,
}

impl ListedToken {
    /// As a [`TokenMeta`] with no scopes and no summary (neither allocates).
    pub fn meta(&self) -> TokenMeta {
        TokenMeta {
            kind: self.kind,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            renew_due_at: self.renew_due_at,
            scopes: Vec::new(),
            summary: serde_json::Map::new(),
        }
    }
}

impl ProfileListing {
    /// The settings, the defaults when none were set.
    pub fn settings(&self) -> &ProfileSettings {
        static DEFAULT: std::sync::OnceLock<ProfileSettings> = std::sync::OnceLock::new();
        match &self.settings {
            Some(settings) => settings,
            None => DEFAULT.get_or_init(ProfileSettings::default),
        }
    }
}

/// One line of a profile's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub at: OffsetDateTime,
    pub event: String,
    pub detail: Option<String>,
}

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn from_unix(secs: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn token_from_row(row: &SqliteRow) -> Result<TokenMeta> {
    token_from_columns(
        &row.try_get::<String, _>("kind")?,
        row.try_get("issued_at")?,
        row.try_get("expires_at")?,
        row.try_get("renew_due_at")?,
        &row.try_get::<String, _>("scopes")?,
        &row.try_get::<String, _>("summary")?,
    )
}

/// `profile_id, kind, issued_at, expires_at, renew_due_at, scopes, summary`.
type TokenColumns = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    String,
);

fn token_from_columns(
    kind: &str,
    issued_at: Option<i64>,
    expires_at: Option<i64>,
    renew_due_at: Option<i64>,
    scopes: &str,
    summary: &str,
) -> Result<TokenMeta> {
    Ok(TokenMeta {
        kind: TokenKind::parse(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("token kind {kind}")))?,
        issued_at: issued_at.map(from_unix).transpose()?,
        expires_at: expires_at.map(from_unix).transpose()?,
        renew_due_at: renew_due_at.map(from_unix).transpose()?,
        scopes: serde_json::from_str(scopes).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        summary: serde_json::from_str(summary).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

fn renewal_from_row(row: &SqliteRow) -> Result<RenewalState> {
    renewal_from_columns(
        row.try_get("last_error")?,
        row.try_get("failed_at")?,
        row.try_get("next_retry_at")?,
        row.try_get("attempts")?,
        &row.try_get::<String, _>("reminded")?,
        row.try_get("refused")?,
    )
}

/// `profile_id, last_error, failed_at, next_retry_at, attempts, reminded, refused`.
type RenewalColumns = (
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
    String,
    i64,
);

fn renewal_from_columns(
    last_error: Option<String>,
    failed_at: Option<i64>,
    next_retry_at: Option<i64>,
    attempts: i64,
    reminded: &str,
    refused: i64,
) -> Result<RenewalState> {
    Ok(RenewalState {
        last_error,
        failed_at: failed_at.map(from_unix).transpose()?,
        next_retry_at: next_retry_at.map(from_unix).transpose()?,
        attempts: attempts as u32,
        reminded: serde_json::from_str(reminded).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        refused: refused != 0,
    })
}

/// The rows of `query`, which must select one `json_group_array` of one
/// `json_array` per row, decoded as `T` (a tuple of the columns). sqlx hands
/// each row from SQLite's thread to the caller's as its own message, a
/// thread wake-up each (about 5 µs): 26,000 rows for a list of 10,000
/// profiles cost 130 ms that way, one JSON text a few.
async fn fetch_as_json<T: serde::de::DeserializeOwned>(
    pool: &SqlitePool,
    query: &'static str,
) -> Result<Vec<T>> {
    let json: String = sqlx::query_scalar(query).fetch_one(pool).await?;
    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

fn bind_token<'q>(
    query: SqliteQuery<'q>,
    profile_id: i64,
    meta: &TokenMeta,
) -> Result<SqliteQuery<'q>> {
    Ok(query
        .bind(profile_id)
        .bind(meta.kind.as_str())
        .bind(meta.issued_at.map(unix))
        .bind(meta.expires_at.map(unix))
        .bind(meta.renew_due_at.map(unix))
        .bind(serde_json::to_string(&meta.scopes).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(
            serde_json::to_string(&meta.summary).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        ))
}

fn bind_renewal<'q>(
    query: SqliteQuery<'q>,
    profile_id: i64,
    state: &RenewalState,
) -> Result<SqliteQuery<'q>> {
    Ok(query
        .bind(profile_id)
        .bind(state.last_error.clone())
        .bind(state.failed_at.map(unix))
        .bind(state.next_retry_at.map(unix))
        .bind(state.attempts as i64)
        .bind(
            serde_json::to_string(&state.reminded)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )
        .bind(state.refused))
}

async fn put_token_on(
    conn: &mut SqliteConnection,
    profile_id: i64,
    meta: &TokenMeta,
) -> Result<()> {
    bind_token(sqlx::query(token_upsert!()), profile_id, meta)?
        .execute(conn)
        .await?;
    Ok(())
}

async fn put_renewal_on(
    conn: &mut SqliteConnection,
    profile_id: i64,
    state: &RenewalState,
) -> Result<()> {
    bind_renewal(sqlx::query(renewal_upsert!("", "", "")), profile_id, state)?
        .execute(conn)
        .await?;
    Ok(())
}

fn server_from_row(row: &SqliteRow) -> Result<Server> {
    let kind: String = row.try_get("kind")?;
    Ok(Server {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: ServerKind::from_str(&kind).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        url: row.try_get("url")?,
        ca_pem: row.try_get("ca_pem")?,
    })
}

fn tenant_from_row(row: &SqliteRow) -> Tenant {
    Tenant {
        id: row.get("id"),
        server_id: row.get("server_id"),
        name: row.get("name"),
    }
}

fn profile_from_row(row: &SqliteRow) -> Result<Profile> {
    profile_from_columns(
        row.try_get("id")?,
        row.try_get("name")?,
        row.try_get("server_id")?,
        row.try_get("tenant_id")?,
        &row.try_get::<String, _>("login")?,
        &row.try_get::<String, _>("settings")?,
        row.try_get("label")?,
    )
}

fn profile_from_columns(
    id: i64,
    name: String,
    server_id: i64,
    tenant_id: Option<i64>,
    login: &str,
    settings: &str,
    label: Option<String>,
) -> Result<Profile> {
    Ok(Profile {
        id,
        name,
        server_id,
        tenant_id,
        login: LoginKind::from_str(login).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        settings: serde_json::from_str(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        label,
    })
}

/// Writes that land together or not at all: nothing is visible to others
/// until [`StoreTx::commit`], and dropping it undoes them.
pub struct StoreTx(sqlx::Transaction<'static, sqlx::Sqlite>);

impl StoreTx {
    pub async fn insert_server(
        &mut self,
        name: &str,
        kind: ServerKind,
        url: &str,
        ca_pem: Option<&str>,
    ) -> Result<i64> {
        write::insert_server(&mut *self.0, name, kind, url, ca_pem).await
    }

    pub async fn update_server(
        &mut self,
        id: i64,
        name: &str,
        kind: ServerKind,
        url: &str,
        ca_pem: Option<&str>,
    ) -> Result<bool> {
        write::update_server(&mut *self.0, id, name, kind, url, ca_pem).await
    }

    pub async fn insert_tenant(&mut self, server_id: i64, name: &str) -> Result<i64> {
        write::insert_tenant(&mut *self.0, server_id, name).await
    }

    pub async fn insert_profile(&mut self, row: &write::ProfileRow<'_>) -> Result<i64> {
        write::insert_profile(&mut *self.0, row).await
    }

    pub async fn update_profile(&mut self, id: i64, row: &write::ProfileRow<'_>) -> Result<bool> {
        write::update_profile(&mut *self.0, id, row).await
    }

    pub async fn delete_tokens(&mut self, profile_id: i64) -> Result<()> {
        write::delete_tokens(&mut self.0, profile_id).await
    }

    pub async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }
}

/// The statements behind the writes, on the pool or inside a transaction.
pub mod write {
    use super::{Result, StoreError};
    use crate::model::{LoginKind, ProfileSettings, ServerKind};
    use sqlx::sqlite::SqliteConnection;
    use sqlx::SqliteExecutor;

    /// A profile's columns, as written.
    pub struct ProfileRow<'a> {
        pub name: &'a str,
        pub server_id: i64,
        pub tenant_id: Option<i64>,
        pub login: LoginKind,
        pub settings: &'a ProfileSettings,
        pub label: Option<&'a str>,
    }

    pub(super) async fn insert_server<'c>(
        e: impl SqliteExecutor<'c>,
        name: &str,
        kind: ServerKind,
        url: &str,
        ca_pem: Option<&str>,
    ) -> Result<i64> {
        Ok(
            sqlx::query("INSERT INTO servers (name, kind, url, ca_pem) VALUES (?, ?, ?, ?)")
                .bind(name)
                .bind(kind.as_str())
                .bind(url)
                .bind(ca_pem)
                .execute(e)
                .await?
                .last_insert_rowid(),
        )
    }

    pub(super) async fn update_server<'c>(
        e: impl SqliteExecutor<'c>,
        id: i64,
        name: &str,
        kind: ServerKind,
        url: &str,
        ca_pem: Option<&str>,
    ) -> Result<bool> {
        let done =
            sqlx::query("UPDATE servers SET name = ?, kind = ?, url = ?, ca_pem = ? WHERE id = ?")
                .bind(name)
                .bind(kind.as_str())
                .bind(url)
                .bind(ca_pem)
                .bind(id)
                .execute(e)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn insert_tenant<'c>(
        e: impl SqliteExecutor<'c>,
        server_id: i64,
        name: &str,
    ) -> Result<i64> {
        Ok(
            sqlx::query("INSERT INTO tenants (server_id, name) VALUES (?, ?)")
                .bind(server_id)
                .bind(name)
                .execute(e)
                .await?
                .last_insert_rowid(),
        )
    }

    fn settings_json(settings: &ProfileSettings) -> Result<String> {
        serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    pub(super) async fn insert_profile<'c>(
        e: impl SqliteExecutor<'c>,
        row: &ProfileRow<'_>,
    ) -> Result<i64> {
        Ok(sqlx::query(
            "INSERT INTO profiles (name, server_id, tenant_id, login, settings, label) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(row.name)
        .bind(row.server_id)
        .bind(row.tenant_id)
        .bind(row.login.as_str())
        .bind(settings_json(row.settings)?)
        .bind(row.label)
        .execute(e)
        .await?
        .last_insert_rowid())
    }

    pub(super) async fn update_profile<'c>(
        e: impl SqliteExecutor<'c>,
        id: i64,
        row: &ProfileRow<'_>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE profiles SET name = ?, server_id = ?, tenant_id = ?, login = ?, settings = ?, label = ? WHERE id = ?",
        )
        .bind(row.name)
        .bind(row.server_id)
        .bind(row.tenant_id)
        .bind(row.login.as_str())
        .bind(settings_json(row.settings)?)
        .bind(row.label)
        .bind(id)
        .execute(e)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn delete_tokens(c: &mut SqliteConnection, profile_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM tokens WHERE profile_id = ?")
            .bind(profile_id)
            .execute(&mut *c)
            .await?;
        sqlx::query("DELETE FROM renewals WHERE profile_id = ?")
            .bind(profile_id)
            .execute(&mut *c)
            .await?;
        Ok(())
    }
}

mod raw {
    //! Rows read straight through SQLite's C API on the caller's thread, for the
    //! one read that returns thousands of rows at once: the profile list.
    //!
    //! sqlx steps a query on its worker thread and hands each row to the caller
    //! as its own message, every value copied out first; the alternative it
    //! leaves, one JSON text per query built by SQLite and parsed again here,
    //! cost 8 to 9 ms at 10,000 profiles for the JSON alone. A [`Statement`]
    //! instead reads each column where SQLite keeps it, while the connection is
    //! locked away from sqlx's worker ([`sqlx::sqlite::SqliteConnection::lock_handle`]).
    //! Besides it, only `latchkey token`'s one query ([`super::HandoffReader`])
    //! reads this way, on a [`Connection`] of its own: every other read returns
    //! a few rows on sqlx's connections.

    use super::{Result, StoreError};
    use libsqlite3_sys as ffi;
    use sqlx::sqlite::LockedSqliteHandle;
    use std::ffi::{c_int, CStr};
    use std::marker::PhantomData;
    use std::ptr::{self, NonNull};

    /// A prepared statement on a locked connection, finalized when dropped.
    /// What its column readers return lives until the next [`Statement::step`],
    /// which the borrow checker enforces (`step` takes `&mut self`).
    pub(super) struct Statement<'h> {
        db: NonNull<ffi::sqlite3>,
        stmt: NonNull<ffi::sqlite3_stmt>,
        /// The lock on the connection, held for as long as the statement lives.
        _handle: PhantomData<&'h mut ()>,
    }

    impl<'h> Statement<'h> {
        pub(super) fn prepare(
            handle: &'h mut LockedSqliteHandle<'_>,
            sql: &CStr,
        ) -> Result<Statement<'h>> {
            Self::on(handle.as_raw_handle(), sql)
        }

        /// A statement on `db`, which the caller holds for `'h`.
        fn on(db: NonNull<ffi::sqlite3>, sql: &CStr) -> Result<Statement<'h>> {
            let mut stmt = ptr::null_mut();
            // SAFETY: `db` is an open connection that nobody else uses while
            // the caller's borrow lasts; `sql` is NUL-terminated (length -1).
            let rc = unsafe {
                ffi::sqlite3_prepare_v2(db.as_ptr(), sql.as_ptr(), -1, &mut stmt, ptr::null_mut())
            };
            match NonNull::new(stmt) {
                Some(stmt) if rc == ffi::SQLITE_OK => Ok(Statement {
                    db,
                    stmt,
                    _handle: PhantomData,
                }),
                Some(stmt) => {
                    let err = error(db, rc);
                    // SAFETY: a statement returned by prepare, finalized once.
                    unsafe { ffi::sqlite3_finalize(stmt.as_ptr()) };
                    Err(err)
                }
                None => Err(error(db, rc)),
            }
        }

        /// Binds `value` to the parameter numbered `index` (from 1).
        pub(super) fn bind_text(&mut self, index: c_int, value: &str) -> Result<()> {
            let length = c_int::try_from(value.len())
                .map_err(|_| StoreError::Corrupt("a parameter too long".into()))?;
            // SAFETY: a live statement; SQLite copies the text (TRANSIENT)
            // before returning, so `value` need not outlive the call.
            let rc = unsafe {
                ffi::sqlite3_bind_text(
                    self.stmt.as_ptr(),
                    index,
                    value.as_ptr().cast(),
                    length,
                    ffi::SQLITE_TRANSIENT(),
                )
            };
            match rc {
                ffi::SQLITE_OK => Ok(()),
                rc => Err(error(self.db, rc)),
            }
        }

        /// Moves to the next row: false once there are no more.
        pub(super) fn step(&mut self) -> Result<bool> {
            // SAFETY: a live statement on a connection this thread holds.
            match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
                ffi::SQLITE_ROW => Ok(true),
                ffi::SQLITE_DONE => Ok(false),
                rc => Err(error(self.db, rc)),
            }
        }

        fn is_null(&self, column: c_int) -> bool {
            // SAFETY: a live statement positioned on a row.
            unsafe { ffi::sqlite3_column_type(self.stmt.as_ptr(), column) == ffi::SQLITE_NULL }
        }

        pub(super) fn int(&self, column: c_int) -> i64 {
            // SAFETY: as in `is_null`; a NULL or out-of-range column reads as 0.
            unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), column) }
        }

        pub(super) fn optional_int(&self, column: c_int) -> Option<i64> {
            (!self.is_null(column)).then(|| self.int(column))
        }

        /// A text column, NULL read as an error: the schema says NOT NULL.
        pub(super) fn text(&self, column: c_int) -> Result<&str> {
            self.optional_text(column)?
                .ok_or_else(|| StoreError::Corrupt(format!("NULL in column {column} of a row")))
        }

        pub(super) fn optional_text(&self, column: c_int) -> Result<Option<&str>> {
            if self.is_null(column) {
                return Ok(None);
            }
            // SAFETY: a live statement positioned on a row. The text is valid
            // until the next step or the statement's end, both of which need
            // `&mut self` or `self`: the returned borrow of `self` outlives
            // neither. `sqlite3_column_bytes` is asked after
            // `sqlite3_column_text`, as SQLite's documentation says, so the
            // length is that of the UTF-8 text.
            let bytes = unsafe {
                let text = ffi::sqlite3_column_text(self.stmt.as_ptr(), column);
                if text.is_null() {
                    return Err(error(self.db, ffi::SQLITE_NOMEM));
                }
                let len = ffi::sqlite3_column_bytes(self.stmt.as_ptr(), column);
                std::slice::from_raw_parts(text, usize::try_from(len).unwrap_or(0))
            };
            std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("text that is not UTF-8: {e}")))
        }
    }

    impl Drop for Statement<'_> {
        fn drop(&mut self) {
            // SAFETY: prepared by `prepare`, finalized only here.
            unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
        }
    }

    /// A connection of SQLite's own, used on the caller's thread: for
    /// `latchkey token`, whose one query does not pay for sqlx's worker
    /// thread and the messages to it. Closed when dropped.
    pub(super) struct Connection {
        db: NonNull<ffi::sqlite3>,
    }

    impl Connection {
        /// Opens the database file at `path` for reading and writing (a
        /// WAL reader writes the shared-memory index), never creating it,
        /// with `busy_ms` of busy timeout. With `keep_wal`, closing it does
        /// not checkpoint the WAL: its files stay for the next connection
        /// instead of being removed and made again.
        pub(super) fn open(path: &std::path::Path, busy_ms: c_int, keep_wal: bool) -> Result<Self> {
            use std::os::unix::ffi::OsStrExt;
            let path = std::ffi::CString::new(path.as_os_str().as_bytes())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut db = ptr::null_mut();
            // SAFETY: `path` is NUL-terminated; `db` receives a handle, which
            // SQLite gives even on failure (and must then be closed).
            let rc = unsafe {
                ffi::sqlite3_open_v2(
                    path.as_ptr(),
                    &mut db,
                    ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX,
                    ptr::null(),
                )
            };
            let Some(db) = NonNull::new(db) else {
                return Err(StoreError::Sql(sqlx::Error::Protocol(format!(
                    "SQLite error {rc}: out of memory"
                ))));
            };
            // Closed on every return from here on.
            let connection = Connection { db };
            if rc != ffi::SQLITE_OK {
                return Err(error(db, rc));
            }
            // SAFETY: an open connection, used by this thread only.
            let rc = unsafe { ffi::sqlite3_busy_timeout(db.as_ptr(), busy_ms) };
            if rc != ffi::SQLITE_OK {
                return Err(error(db, rc));
            }
            if keep_wal {
                // SAFETY: as above; this option takes an int and an int
                // pointer (for the value it ends with, not wanted here).
                let rc = unsafe {
                    ffi::sqlite3_db_config(
                        db.as_ptr(),
                        ffi::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                        1 as c_int,
                        ptr::null_mut::<c_int>(),
                    )
                };
                if rc != ffi::SQLITE_OK {
                    return Err(error(db, rc));
                }
            }
            Ok(connection)
        }

        pub(super) fn prepare(&mut self, sql: &CStr) -> Result<Statement<'_>> {
            Statement::on(self.db, sql)
        }
    }

    impl Drop for Connection {
        fn drop(&mut self) {
            // SAFETY: opened by `open`, closed only here; every statement
            // borrowed it and has been finalized.
            unsafe { ffi::sqlite3_close(self.db.as_ptr()) };
        }
    }

    /// SQLite's message for the last error on `db`, as the store's error.
    fn error(db: NonNull<ffi::sqlite3>, rc: c_int) -> StoreError {
        // SAFETY: `db` is open; the message is copied before any other call.
        let message = unsafe {
            let text = ffi::sqlite3_errmsg(db.as_ptr());
            if text.is_null() {
                String::new()
            } else {
                CStr::from_ptr(text).to_string_lossy().into_owned()
            }
        };
        StoreError::Sql(sqlx::Error::Protocol(format!(
            "SQLite error {rc}: {message}"
        )))
    }
}
