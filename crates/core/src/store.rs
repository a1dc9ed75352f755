//! The SQLite database: servers, tenants, profiles and settings. One pool, WAL,
//! foreign keys on, migrations from `crates/core/migrations/`. It never holds a
//! secret; that rule is tested by reading the file's bytes.
//!
//! The app and the CLI open the same file at the same time; WAL lets readers and
//! one writer work side by side, and a busy timeout absorbs the short overlaps.

use crate::model::{LoginKind, Profile, ProfileSettings, Server, ServerKind, Tenant};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, SqlitePool};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

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

type Result<T> = std::result::Result<T, StoreError>;

/// The profile columns [`profile_from_row`] reads, with a WHERE/ORDER tail.
macro_rules! profile_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, server_id, tenant_id, login, settings, label FROM profiles ",
            $tail
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
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join("latchkey.db");
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
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
        let id = sqlx::query("INSERT INTO servers (name, kind, url, ca_pem) VALUES (?, ?, ?, ?)")
            .bind(name)
            .bind(kind.as_str())
            .bind(url)
            .bind(ca_pem)
            .execute(&self.pool)
            .await?
            .last_insert_rowid();
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
        let done =
            sqlx::query("UPDATE servers SET name = ?, kind = ?, url = ?, ca_pem = ? WHERE id = ?")
                .bind(name)
                .bind(kind.as_str())
                .bind(url)
                .bind(ca_pem)
                .bind(id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
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
        let id = sqlx::query("INSERT INTO tenants (server_id, name) VALUES (?, ?)")
            .bind(server_id)
            .bind(name)
            .execute(&self.pool)
            .await?
            .last_insert_rowid();
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
        let settings_json =
            serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let id = sqlx::query(
            "INSERT INTO profiles (name, server_id, tenant_id, login, settings, label) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(server_id)
        .bind(tenant_id)
        .bind(login.as_str())
        .bind(settings_json)
        .bind(label)
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
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
        let settings_json =
            serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let done = sqlx::query(
            "UPDATE profiles SET name = ?, server_id = ?, tenant_id = ?, login = ?, settings = ?, label = ? WHERE id = ?",
        )
        .bind(name)
        .bind(server_id)
        .bind(tenant_id)
        .bind(login.as_str())
        .bind(settings_json)
        .bind(label)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.profile(id).await
    }

    pub async fn profiles(&self) -> Result<Vec<Profile>> {
        sqlx::query(profile_select!("ORDER BY name"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(profile_from_row)
            .collect()
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
    let login: String = row.try_get("login")?;
    let settings: String = row.try_get("settings")?;
    Ok(Profile {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        server_id: row.try_get("server_id")?,
        tenant_id: row.try_get("tenant_id")?,
        login: LoginKind::from_str(&login).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        label: row.try_get("label")?,
    })
}
